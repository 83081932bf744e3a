// pal_errno: checks the errno contract of every cloister_pal_* call, the instance lifecycle
// (two instances refused, init -> destroy -> init) and the basic runs.
//
//     pal_errno INSTANCE_DIR
//
// The instance mounts the test guests on /bin and PALTests' own programs on /xbin (among them
// /xbin/notwasm.wasm, which is not WebAssembly). Prints "ok ..." or "FAIL ..." per check and
// exits 1 if any failed.
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cloister_pal_api.h"

static int failures;

#define EXPECT_ERRNO(call, expected)                                                                  \
    do {                                                                                              \
        errno = 0;                                                                                    \
        int result_ = (call);                                                                         \
        int errno_ = errno;                                                                           \
        if (result_ == -1 && errno_ == (expected)) {                                                  \
            printf("ok %s -> %s\n", #call, #expected);                                                \
        } else {                                                                                      \
            printf("FAIL %s: returned %d, errno %d (%s); expected -1, %s\n", #call, result_, errno_, \
                   strerror(errno_), #expected);                                                      \
            failures++;                                                                               \
        }                                                                                             \
    } while (0)

// A successful call returns 0 and leaves errno as it was (EDOM here, which no call answers).
#define EXPECT_OK(call)                                                                              \
    do {                                                                                             \
        errno = EDOM;                                                                                \
        int result_ = (call);                                                                        \
        if (result_ == 0 && errno == EDOM) {                                                         \
            printf("ok %s\n", #call);                                                                \
        } else {                                                                                     \
            printf("FAIL %s: returned %d, errno %d (%s)\n", #call, result_, errno, strerror(errno)); \
            failures++;                                                                              \
        }                                                                                            \
    } while (0)

#define EXPECT_EQ(actual, expected)                                                                      \
    do {                                                                                                 \
        long long actual_ = (long long)(actual), expected_ = (long long)(expected);                      \
        if (actual_ == expected_) {                                                                      \
            printf("ok %s == %s\n", #actual, #expected);                                                 \
        } else {                                                                                         \
            printf("FAIL %s == %s: got %lld, expected %lld\n", #actual, #expected, actual_, expected_); \
            failures++;                                                                                  \
        }                                                                                                \
    } while (0)

static const char *instance_dir;
static struct cloister_stdio_fds quiet;  // /dev/null for all three streams

// Creates and runs `path` with `argv` (may be NULL) and quiet stdio; returns the wait status,
// or -1 with errno set.
static int32_t run(const char *path, const char *const *argv) {
    int32_t pid = 0, status = 0;
    struct cloister_pal_create_process_args create = { path, argv, NULL, &quiet, &pid };
    if (cloister_pal_create_process(&create) != 0) return -1;
    struct cloister_pal_exec_args exec = { pid, &status };
    if (cloister_pal_exec(&exec) != 0) return -1;
    return status;
}

// Creates `path` with quiet stdio; returns its pid (0 on failure, which is reported).
static int32_t create(const char *path, const char *const *argv) {
    int32_t pid = 0;
    struct cloister_pal_create_process_args args = { path, argv, NULL, &quiet, &pid };
    EXPECT_OK(cloister_pal_create_process(&args));
    return pid;
}

static int32_t exec_status(int32_t pid) {
    int32_t status = -1;
    struct cloister_pal_exec_args args = { pid, &status };
    EXPECT_OK(cloister_pal_exec(&args));
    return status;
}

static void before_init(void) {
    int32_t pid = 0, status = 0;
    const char *argv[] = { "/bin/hello.wasm", NULL };
    struct cloister_pal_create_process_args create = { "/bin/hello.wasm", argv, NULL, NULL, &pid };
    struct cloister_pal_exec_args exec = { 1, &status };
    EXPECT_ERRNO(cloister_pal_create_process(&create), EAGAIN);
    EXPECT_ERRNO(cloister_pal_create_process(NULL), EAGAIN);
    EXPECT_ERRNO(cloister_pal_exec(&exec), EAGAIN);
    EXPECT_ERRNO(cloister_pal_exec(NULL), EAGAIN);
    EXPECT_ERRNO(cloister_pal_kill(1, CLOISTER_SIGKILL), EAGAIN);
    EXPECT_ERRNO(cloister_pal_kill(CLOISTER_PAL_ALL_PROCESSES, CLOISTER_SIGTERM), EAGAIN);
    EXPECT_ERRNO(cloister_pal_destroy(), EAGAIN);
    EXPECT_EQ(cloister_pal_get_version(), CLOISTER_PAL_VERSION);
}

static void init_errors(void) {
    struct cloister_pal_attr attr = CLOISTER_PAL_ATTR_INITVAL;
    EXPECT_ERRNO(cloister_pal_init(NULL), EINVAL);
    attr.instance_dir = NULL;
    EXPECT_ERRNO(cloister_pal_init(&attr), EINVAL);
    attr.instance_dir = "\xff\xfe";
    EXPECT_ERRNO(cloister_pal_init(&attr), EINVAL);
    attr.instance_dir = "/nonexistent/cloister-instance";
    EXPECT_ERRNO(cloister_pal_init(&attr), EINVAL);
    attr.instance_dir = instance_dir;
    attr.log_level = "loud";
    EXPECT_ERRNO(cloister_pal_init(&attr), EINVAL);
    attr.log_level = "\xff";
    EXPECT_ERRNO(cloister_pal_init(&attr), EINVAL);
    // None of these left an instance behind.
    EXPECT_ERRNO(cloister_pal_destroy(), EAGAIN);
}

static void create_errors(void) {
    int32_t pid = 0;
    const char *argv[] = { "/bin/hello.wasm", NULL };
    const char *bad_argv[] = { "/bin/hello.wasm", "\xc3\x28", NULL };
    const char *bad_env[] = { "LANG=\xff", NULL };
    struct cloister_stdio_fds closed = { 0, 999, 2 };
    struct cloister_pal_create_process_args args;

    EXPECT_ERRNO(cloister_pal_create_process(NULL), EINVAL);
    args = (struct cloister_pal_create_process_args){ NULL, argv, NULL, NULL, &pid };
    EXPECT_ERRNO(cloister_pal_create_process(&args), EINVAL);
    args = (struct cloister_pal_create_process_args){ "/bin/hello.wasm", argv, NULL, NULL, NULL };
    EXPECT_ERRNO(cloister_pal_create_process(&args), EINVAL);
    args = (struct cloister_pal_create_process_args){ "/bin/\xff.wasm", argv, NULL, NULL, &pid };
    EXPECT_ERRNO(cloister_pal_create_process(&args), EINVAL);
    args = (struct cloister_pal_create_process_args){ "/bin/hello.wasm", bad_argv, NULL, NULL, &pid };
    EXPECT_ERRNO(cloister_pal_create_process(&args), EINVAL);
    args = (struct cloister_pal_create_process_args){ "/bin/hello.wasm", argv, bad_env, NULL, &pid };
    EXPECT_ERRNO(cloister_pal_create_process(&args), EINVAL);
    args = (struct cloister_pal_create_process_args){ "bin/hello.wasm", NULL, NULL, NULL, &pid };
    EXPECT_ERRNO(cloister_pal_create_process(&args), EINVAL);
    args = (struct cloister_pal_create_process_args){ "/data/hello.wasm", NULL, NULL, NULL, &pid };
    EXPECT_ERRNO(cloister_pal_create_process(&args), EACCES);
    args = (struct cloister_pal_create_process_args){ "/bin/missing.wasm", NULL, NULL, NULL, &pid };
    EXPECT_ERRNO(cloister_pal_create_process(&args), ENOENT);
    args = (struct cloister_pal_create_process_args){ "/xbin/notwasm.wasm", NULL, NULL, NULL, &pid };
    EXPECT_ERRNO(cloister_pal_create_process(&args), ENOEXEC);
    args = (struct cloister_pal_create_process_args){ "/bin/hello.wasm", NULL, NULL, &closed, &pid };
    EXPECT_ERRNO(cloister_pal_create_process(&args), EBADF);

    // More than 65536 arguments.
    enum { many = 65537 };
    const char **long_argv = calloc(many + 1, sizeof *long_argv);
    for (int i = 0; i < many; i++) long_argv[i] = "x";
    args = (struct cloister_pal_create_process_args){ "/bin/hello.wasm", long_argv, NULL, NULL, &pid };
    EXPECT_ERRNO(cloister_pal_create_process(&args), E2BIG);
    free(long_argv);
}

static void exec_and_kill(void) {
    int32_t status = 0;
    struct cloister_pal_exec_args exec;

    EXPECT_ERRNO(cloister_pal_exec(NULL), EINVAL);
    exec = (struct cloister_pal_exec_args){ 12345, NULL };
    EXPECT_ERRNO(cloister_pal_exec(&exec), EINVAL);
    exec = (struct cloister_pal_exec_args){ 12345, &status };
    EXPECT_ERRNO(cloister_pal_exec(&exec), ESRCH);
    EXPECT_ERRNO(cloister_pal_kill(12345, CLOISTER_SIGKILL), ESRCH);

    const char *argv[] = { "exit_code", "3", NULL };
    int32_t pid = create("/bin/exit_code.wasm", argv);
    EXPECT_ERRNO(cloister_pal_kill(pid, CLOISTER_SIGINT), EPERM);
    EXPECT_ERRNO(cloister_pal_kill(pid, CLOISTER_SIGHUP), EPERM);
    EXPECT_ERRNO(cloister_pal_kill(pid, CLOISTER_SIGCHLD), EPERM);
    EXPECT_ERRNO(cloister_pal_kill(CLOISTER_PAL_ALL_PROCESSES, CLOISTER_SIGABRT), EPERM);
    EXPECT_ERRNO(cloister_pal_kill(pid, 0), EINVAL);
    EXPECT_ERRNO(cloister_pal_kill(pid, 99), EINVAL);
    status = exec_status(pid);
    EXPECT_EQ(CLOISTER_WIFEXITED(status), 1);
    EXPECT_EQ(CLOISTER_WEXITSTATUS(status), 3);
    // Reaped: the pid is gone.
    exec = (struct cloister_pal_exec_args){ pid, &status };
    EXPECT_ERRNO(cloister_pal_exec(&exec), ESRCH);
    EXPECT_ERRNO(cloister_pal_kill(pid, CLOISTER_SIGKILL), ESRCH);

    // Exit codes keep their low 8 bits; argv NULL means { path }.
    const char *argv300[] = { "exit_code", "300", NULL };
    EXPECT_EQ(run("/bin/exit_code.wasm", argv300), CLOISTER_W_EXITCODE(300 & 0xff));
    EXPECT_EQ(run("/bin/hello.wasm", NULL), CLOISTER_W_EXITCODE(0));

    // Killed before it runs: SIGTERM to one, SIGKILL to every process.
    pid = create("/bin/hello.wasm", NULL);
    EXPECT_OK(cloister_pal_kill(pid, CLOISTER_SIGTERM));
    EXPECT_EQ(exec_status(pid), CLOISTER_W_TERMSIG(CLOISTER_SIGTERM));
    int32_t first = create("/bin/hello.wasm", NULL), second = create("/bin/hello.wasm", NULL);
    EXPECT_OK(cloister_pal_kill(CLOISTER_PAL_ALL_PROCESSES, CLOISTER_SIGKILL));
    EXPECT_EQ(exec_status(first), CLOISTER_W_TERMSIG(CLOISTER_SIGKILL));
    EXPECT_EQ(exec_status(second), CLOISTER_W_TERMSIG(CLOISTER_SIGKILL));
}

// Standard streams: the guest writes into a pipe the caller reads.
static void redirected_stdout(void) {
    int fds[2];
    if (pipe(fds) != 0) {
        printf("FAIL pipe\n");
        failures++;
        return;
    }
    int32_t pid = 0, status = -1;
    struct cloister_stdio_fds stdio = { quiet.stdin_fd, fds[1], quiet.stderr_fd };
    struct cloister_pal_create_process_args create = { "/bin/hello.wasm", NULL, NULL, &stdio, &pid };
    EXPECT_OK(cloister_pal_create_process(&create));
    struct cloister_pal_exec_args exec = { pid, &status };
    EXPECT_OK(cloister_pal_exec(&exec));
    EXPECT_EQ(status, 0);
    close(fds[1]);  // the library never closes the caller's descriptors: this is the last writer
    char buffer[128] = { 0 };
    ssize_t length = read(fds[0], buffer, sizeof buffer - 1);
    close(fds[0]);
    EXPECT_EQ(length > 0 && strcmp(buffer, "Hello from a Cloister guest!\n") == 0, 1);
}

static void *racing_init(void *result) {
    struct cloister_pal_attr attr = CLOISTER_PAL_ATTR_INITVAL;
    attr.instance_dir = instance_dir;
    int *outcome = result;
    outcome[0] = cloister_pal_init(&attr);
    outcome[1] = errno;
    return NULL;
}

// Two threads initialize at once: exactly one instance starts, the other call is EEXIST.
static void two_instances(void) {
    int outcomes[2][2];
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) pthread_create(&threads[i], NULL, racing_init, outcomes[i]);
    for (int i = 0; i < 2; i++) pthread_join(threads[i], NULL);
    int successes = (outcomes[0][0] == 0) + (outcomes[1][0] == 0);
    int refused = (outcomes[0][0] == -1 && outcomes[0][1] == EEXIST) + (outcomes[1][0] == -1 && outcomes[1][1] == EEXIST);
    EXPECT_EQ(successes, 1);
    EXPECT_EQ(refused, 1);
    EXPECT_EQ(run("/bin/hello.wasm", NULL), 0);
    EXPECT_OK(cloister_pal_destroy());
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: pal_errno INSTANCE_DIR\n");
        return 2;
    }
    instance_dir = argv[1];
    int null = open("/dev/null", O_RDWR);
    quiet = (struct cloister_stdio_fds){ null, null, null };
    setvbuf(stdout, NULL, _IONBF, 0);

    before_init();
    init_errors();

    struct cloister_pal_attr attr = CLOISTER_PAL_ATTR_INITVAL;
    attr.instance_dir = instance_dir;
    EXPECT_OK(cloister_pal_init(&attr));
    // A second instance is refused, whatever its attributes.
    EXPECT_ERRNO(cloister_pal_init(&attr), EEXIST);
    EXPECT_ERRNO(cloister_pal_init(NULL), EEXIST);
    create_errors();
    exec_and_kill();
    redirected_stdout();
    EXPECT_OK(cloister_pal_destroy());

    // After destroy: EAGAIN again, and init works again.
    EXPECT_ERRNO(cloister_pal_destroy(), EAGAIN);
    EXPECT_ERRNO(cloister_pal_kill(CLOISTER_PAL_ALL_PROCESSES, CLOISTER_SIGKILL), EAGAIN);
    EXPECT_ERRNO(run("/bin/hello.wasm", NULL), EAGAIN);
    attr.log_level = "TRACE";
    EXPECT_OK(cloister_pal_init(&attr));
    EXPECT_EQ(run("/bin/hello.wasm", NULL), 0);
    EXPECT_OK(cloister_pal_destroy());

    two_instances();

    printf("%s: %d failure(s)\n", failures ? "FAILED" : "PASSED", failures);
    return failures ? 1 : 0;
}
