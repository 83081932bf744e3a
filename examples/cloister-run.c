/*
 * cloister-run — run one guest program of a Cloister instance through libcloister_pal.
 *
 *     cloister-run [--instance DIR] PATH [ARGS...]
 *
 * The reference sample for embedders: it uses only cloister_pal_api.h and the library, and does
 * what `cloister run` does. The exit code is the guest's exit code, 128+N when signal N ended
 * it, or 127 with a one-line reason when the program cannot be started (64 for a usage error).
 * The guest gets argv = { PATH, ARGS... }, this program's environment as its untrusted
 * environment (the instance's env.untrusted decides what it sees) and this program's stdio.
 * SIGINT and SIGTERM sent to cloister-run end the guest with SIGTERM (the PAL accepts only
 * SIGKILL and SIGTERM), so it exits with 143. CLOISTER_LOG_LEVEL sets the log level.
 *
 * Build (see docs/embedding.md; `make pal` puts the header and library in .build/pal):
 *
 *     cc -I.build/pal examples/cloister-run.c -L.build/pal -lcloister_pal \
 *        -Wl,-rpath,"$PWD/.build/pal" -lpthread -o cloister-run
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloister_pal_api.h"

extern char **environ;

#define EXIT_USAGE 64
#define EXIT_CANNOT_START 127

static void usage(FILE *out) {
    fprintf(out, "usage: cloister-run [--instance DIR] PATH [ARGS...]\n");
}

/* Prints a one-line reason for a failed PAL call and returns the exit code for it. */
static int cannot_start(const char *what, const char *subject) {
    fprintf(stderr, "cloister-run: %s %s: %s\n", what, subject, strerror(errno));
    return EXIT_CANNOT_START;
}

/* The signals passed on to the guest. Blocked in every thread (threads inherit the mask of the
 * thread that creates them, so this happens first), and taken with sigwait by one thread, which
 * may safely call into the library; a signal handler could not. */
static sigset_t forwarded_signals;

static void *forward_signals(void *arg) {
    int32_t pid = *(const int32_t *)arg;
    for (;;) {
        int sig;
        if (sigwait(&forwarded_signals, &sig) == 0) cloister_pal_kill(pid, CLOISTER_SIGTERM);
    }
    return NULL;
}

int main(int argc, char **argv) {
    struct cloister_pal_attr attr = CLOISTER_PAL_ATTR_INITVAL;
    int first = 1;
    while (first < argc && strncmp(argv[first], "-", 1) == 0) {
        if (strcmp(argv[first], "--") == 0) {
            first++;
            break;
        } else if (strcmp(argv[first], "--instance") == 0 && first + 1 < argc) {
            attr.instance_dir = argv[first + 1];
            first += 2;
        } else if (strncmp(argv[first], "--instance=", 11) == 0) {
            attr.instance_dir = argv[first] + 11;
            first++;
        } else if (strcmp(argv[first], "--help") == 0 || strcmp(argv[first], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "cloister-run: unknown option %s\n", argv[first]);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (first >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *path = argv[first];
    attr.log_level = getenv("CLOISTER_LOG_LEVEL");

    sigemptyset(&forwarded_signals);
    sigaddset(&forwarded_signals, SIGINT);
    sigaddset(&forwarded_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &forwarded_signals, NULL);

    if (cloister_pal_init(&attr) != 0) return cannot_start("cannot start the instance", attr.instance_dir);

    /* argv of the guest: PATH and the rest of our arguments, already NULL-terminated by C. */
    int32_t pid = 0;
    struct cloister_pal_create_process_args create = {
        .path = path,
        .argv = (const char *const *)&argv[first],
        .env = (const char *const *)environ,
        .stdio = NULL,
        .pid = &pid,
    };
    if (cloister_pal_create_process(&create) != 0) {
        int code = cannot_start("cannot create", path);
        cloister_pal_destroy();
        return code;
    }

    pthread_t forwarder;
    if (pthread_create(&forwarder, NULL, forward_signals, &pid) != 0) {
        fprintf(stderr, "cloister-run: cannot start the signal thread\n");
        cloister_pal_destroy();
        return EXIT_CANNOT_START;
    }

    int32_t status = 0;
    struct cloister_pal_exec_args exec = { .pid = pid, .exit_value = &status };
    int code;
    if (cloister_pal_exec(&exec) != 0) {
        code = cannot_start("cannot run", path);
    } else if (CLOISTER_WIFEXITED(status)) {
        code = CLOISTER_WEXITSTATUS(status);
    } else {
        int sig = CLOISTER_WTERMSIG(status);
        if (sig != CLOISTER_SIGKILL && sig != CLOISTER_SIGTERM && sig != CLOISTER_SIGINT)
            fprintf(stderr, "cloister-run: %s: killed by signal %d (%s)\n", path, sig, strsignal(sig));
        code = 128 + sig;
    }
    cloister_pal_destroy();
    return code;
}
