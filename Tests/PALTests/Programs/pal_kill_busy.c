// pal_kill_busy: kills a busy guest from another host thread of the embedding program.
//
//     pal_kill_busy INSTANCE_DIR GUEST_PATH
//
// GUEST_PATH writes one line ("spinning") and then spins in a loop that makes no system call.
// The main thread runs it with cloister_pal_exec; a second thread waits for the line (so the
// guest is surely in its loop), checks that a second exec of the running pid is EBUSY, and
// kills it: first with SIGKILL by pid, then, in a second round, with SIGTERM to every process.
// Prints "ok ..." or "FAIL ..." lines; alarm() bounds the whole run.
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cloister_pal_api.h"

static int failures;

struct round {
    int32_t pid;
    int32_t kill_pid;  // the pid given to cloister_pal_kill (the guest's, or -1)
    int sig;
    int read_fd;
    struct timespec killed_at;
};

static void fail(const char *what) {
    printf("FAIL %s\n", what);
    failures++;
}

// Waits for the guest's line, then kills it from this thread.
static void *killer(void *arg) {
    struct round *round = arg;
    char line[64] = { 0 };
    size_t used = 0;
    while (used < sizeof line - 1 && !strchr(line, '\n')) {
        ssize_t n = read(round->read_fd, line + used, sizeof line - 1 - used);
        if (n <= 0) {
            fail("the guest's line never came");
            return NULL;
        }
        used += (size_t)n;
    }
    if (strcmp(line, "spinning\n") != 0) fail("unexpected guest output");

    int32_t status = 0;
    struct cloister_pal_exec_args again = { round->pid, &status };
    errno = 0;
    if (cloister_pal_exec(&again) == -1 && errno == EBUSY)
        printf("ok exec of a running pid -> EBUSY\n");
    else
        fail("exec of a running pid is not EBUSY");

    clock_gettime(CLOCK_MONOTONIC, &round->killed_at);
    if (cloister_pal_kill(round->kill_pid, round->sig) == 0)
        printf("ok kill(%d, %d) from another thread\n", round->kill_pid, round->sig);
    else
        fail("cloister_pal_kill failed");
    return NULL;
}

static void run_round(const char *path, int by_pid, int sig) {
    int fds[2];
    if (pipe(fds) != 0) {
        fail("pipe");
        return;
    }
    struct round round = { .sig = sig, .read_fd = fds[0] };
    struct cloister_stdio_fds stdio = { 0, fds[1], 2 };
    struct cloister_pal_create_process_args create = { path, NULL, NULL, &stdio, &round.pid };
    if (cloister_pal_create_process(&create) != 0) {
        printf("FAIL create %s: %s\n", path, strerror(errno));
        failures++;
        return;
    }
    round.kill_pid = by_pid ? round.pid : CLOISTER_PAL_ALL_PROCESSES;

    pthread_t thread;
    pthread_create(&thread, NULL, killer, &round);
    int32_t status = 0;
    struct cloister_pal_exec_args exec = { round.pid, &status };
    int result = cloister_pal_exec(&exec);
    struct timespec ended;
    clock_gettime(CLOCK_MONOTONIC, &ended);
    pthread_join(thread, NULL);
    close(fds[0]);
    close(fds[1]);

    if (result != 0) {
        printf("FAIL exec: %s\n", strerror(errno));
        failures++;
    } else if (!CLOISTER_WIFSIGNALED(status) || CLOISTER_WTERMSIG(status) != sig) {
        printf("FAIL status %d, expected killed by %d\n", status, sig);
        failures++;
    } else {
        double ms = (ended.tv_sec - round.killed_at.tv_sec) * 1e3 + (ended.tv_nsec - round.killed_at.tv_nsec) / 1e6;
        printf("ok killed by signal %d, %.1f ms after the kill\n", sig, ms);
    }
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: pal_kill_busy INSTANCE_DIR GUEST_PATH\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    alarm(300);  // a generous bound: a kill that never lands ends this program with SIGALRM

    struct cloister_pal_attr attr = CLOISTER_PAL_ATTR_INITVAL;
    attr.instance_dir = argv[1];
    if (cloister_pal_init(&attr) != 0) {
        printf("FAIL init: %s\n", strerror(errno));
        return 1;
    }
    run_round(argv[2], 1, CLOISTER_SIGKILL);
    run_round(argv[2], 0, CLOISTER_SIGTERM);
    if (cloister_pal_destroy() != 0) fail("destroy");

    printf("%s: %d failure(s)\n", failures ? "FAILED" : "PASSED", failures);
    return failures ? 1 : 0;
}
