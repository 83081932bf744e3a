// A guest that uses the Cloister guest SDK (cloister.h): it spawns itself as a child whose
// standard output is the write end of a pipe, reads what the child writes, and reaps it.
//
// Build (as scripts/build-guests.sh does):
//   clang --target=wasm32-wasi --sysroot=/usr -I Sources/CCloisterABI/include -O2 \
//       examples/guest-sdk/spawn_pipe.c -nodefaultlibs -lc <libclang_rt.builtins-wasm32.a> -o spawn_pipe.wasm
// Run from an instance whose /bin holds it:
//   cloister run --instance DIR /bin/spawn_pipe.wasm
#include <cloister.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        int32_t pid = 0;
        cloister_getpid(&pid);
        printf("hello from child %d\n", pid);
        return 0;
    }
    int32_t fds[2];
    if (cloister_pipe(fds) != 0) return 1;
    // In the child: stdout becomes the pipe's write end; the read end is closed.
    struct cloister_spawn_file_action actions[] = {
        {.kind = CLOISTER_SPAWN_FILE_ACTION_DUP2, .fd = fds[1], .new_fd = 1},
        {.kind = CLOISTER_SPAWN_FILE_ACTION_CLOSE, .fd = fds[0]},
    };
    const char *child_argv[] = {argv[0], "child"};
    int32_t child = 0;
    int32_t error = cloister_spawn(argv[0], child_argv, 2, NULL, 0, actions, 2, &child);
    if (error != 0) {
        fprintf(stderr, "spawn failed: errno %d\n", error);
        return 1;
    }
    close(fds[1]);  // our copy of the write end: the pipe ends when the child exits
    char line[128];
    ssize_t n = read(fds[0], line, sizeof line - 1);
    line[n > 0 ? n : 0] = 0;
    int32_t status = 0, reaped = 0;
    cloister_wait(child, &status, 0, &reaped);
    printf("parent read: %s", line);
    printf("child %d exited with %d\n", reaped, CLOISTER_WEXITSTATUS(status));
    return 0;
}
