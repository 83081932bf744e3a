/*
 * cloister_pal_api.h — the C API of libcloister_pal: embed the Cloister LibOS in any process.
 *
 * A C, C++, Go or Python program links (or loads) libcloister_pal and runs sandboxed
 * WebAssembly guests with it:
 *
 *     struct cloister_pal_attr attr = CLOISTER_PAL_ATTR_INITVAL;
 *     attr.instance_dir = "/srv/inst";                     // the folder holding Cloister.json
 *     cloister_pal_init(&attr);
 *     const char *argv[] = { "/bin/hello.wasm", NULL };
 *     int32_t pid;
 *     struct cloister_pal_create_process_args create = { "/bin/hello.wasm", argv, NULL, NULL, &pid };
 *     cloister_pal_create_process(&create);
 *     int32_t status;
 *     struct cloister_pal_exec_args exec = { pid, &status };
 *     cloister_pal_exec(&exec);                            // blocks until the guest ends
 *     cloister_pal_destroy();
 *
 * Every function returns 0, or -1 with errno set to the exact reason (see each function and
 * docs/embedding.md). Nothing that goes wrong inside the library or inside a guest ends the
 * calling process. One instance exists per process at a time; the functions may be called from
 * any thread.
 *
 * This header builds on cloister.h, the one definition of everything that crosses a Cloister
 * boundary (signal numbers, wait-status macros, guest structures). Fields are fixed-width
 * (int32_t), except pointers into the caller's own memory.
 */
#ifndef CLOISTER_PAL_API_H
#define CLOISTER_PAL_API_H

#include <stdint.h>

#include "cloister.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Version of this API; cloister_pal_get_version() returns the version the library implements. */
#define CLOISTER_PAL_VERSION 1

/* cloister_pal_kill: the pid that means every process of the instance. */
#define CLOISTER_PAL_ALL_PROCESSES (-1)

/* Attributes of cloister_pal_init. Start from CLOISTER_PAL_ATTR_INITVAL. */
struct cloister_pal_attr {
    /* The instance folder, holding Cloister.json; relative paths are relative to the current
     * working directory. Default ".". */
    const char *instance_dir;
    /* The log level: "off", "error", "warn", "info", "debug" or "trace" (any case). NULL means
     * off. A release instance (metadata.debuggable false) never logs. Lines go to stderr. */
    const char *log_level;
};

/* The defaults: the current folder, no logging. */
#define CLOISTER_PAL_ATTR_INITVAL { ".", NULL }

/* Host descriptors used as a guest's standard streams. The library never closes them. */
struct cloister_stdio_fds {
    int32_t stdin_fd;
    int32_t stdout_fd;
    int32_t stderr_fd;
};

/* Arguments of cloister_pal_create_process. */
struct cloister_pal_create_process_args {
    /* The absolute guest path of the program, under one of the instance's entry_points. */
    const char *path;
    /* NULL-terminated argument vector; argv[0] is the program name. NULL means { path }. */
    const char *const *argv;
    /* NULL-terminated "NAME=value" entries: the untrusted environment. Only names listed in the
     * instance's env.untrusted are kept (over env.default); the rest are dropped. NULL: none. */
    const char *const *env;
    /* The guest's standard streams; NULL inherits this process's 0, 1 and 2. */
    const struct cloister_stdio_fds *stdio;
    /* Out: the new process's pid. */
    int32_t *pid;
};

/* Arguments of cloister_pal_exec. */
struct cloister_pal_exec_args {
    /* The process to run, from cloister_pal_create_process. */
    int32_t pid;
    /* Out: how it ended, encoded as wait(2) encodes it (CLOISTER_WIFEXITED, CLOISTER_WEXITSTATUS,
     * CLOISTER_WIFSIGNALED, CLOISTER_WTERMSIG from cloister.h, or the <sys/wait.h> macros). */
    int32_t *exit_value;
};

/* The API version the library implements (CLOISTER_PAL_VERSION of the header it was built with).
 * Never fails. */
int cloister_pal_get_version(void);

/* Starts the instance. Errors: EEXIST (an instance is already initialized), EINVAL (attr or
 * instance_dir NULL, a string that is not UTF-8, an unknown log level, a Cloister.json that is
 * missing or invalid), ENOENT and other open errors (a hostfs mount source), ENOSYS (sefs). */
int cloister_pal_init(const struct cloister_pal_attr *attr);

/* Creates a process; it runs when cloister_pal_exec is called. Errors: EAGAIN (not initialized,
 * process limit, shutting down), EINVAL (args, path or pid NULL; a string that is not UTF-8;
 * path not absolute), E2BIG (more than 65536 argv or env entries), EBADF (a stdio descriptor
 * that is not open), EACCES (not under an entry point, not a regular file), ENOENT, ENOEXEC
 * (not a valid WASI program). */
int cloister_pal_create_process(struct cloister_pal_create_process_args *args);

/* Runs process pid on the calling thread until it ends, stores its wait status and reaps it.
 * Errors: EAGAIN (not initialized), EINVAL (args or exit_value NULL), ESRCH (no such process),
 * EBUSY (already running), ENOMEM (its initial memory is over a limit), ENOEXEC (it could not be
 * instantiated). A guest that traps or is killed is not an error: see exit_value. */
int cloister_pal_exec(struct cloister_pal_exec_args *args);

/* Sends sig to process pid, or to every process when pid is CLOISTER_PAL_ALL_PROCESSES (-1).
 * Callable from any thread, also while another thread is in cloister_pal_exec; a running guest
 * stops promptly even in a loop that makes no system call. Errors: EAGAIN (not initialized),
 * EPERM (sig is a signal other than SIGKILL and SIGTERM), EINVAL (sig is not a signal 1..31),
 * ESRCH (no such process). */
int cloister_pal_kill(int pid, int sig);

/* Kills every process, waits up to 5 seconds for running ones to end, and ends the instance;
 * cloister_pal_init may be called again afterwards. Errors: EAGAIN (not initialized), EBUSY (a
 * process is still running after the wait; the instance stays). */
int cloister_pal_destroy(void);

#ifdef __cplusplus
}
#endif

#endif /* CLOISTER_PAL_API_H */
