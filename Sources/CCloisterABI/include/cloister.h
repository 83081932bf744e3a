/*
 * cloister.h — the one definition of everything that crosses the guest ↔ LibOS boundary.
 *
 * Guests include it as the Cloister guest SDK; the Swift LibOS imports it (as the C module
 * CCloisterABI) for the same constants and layouts. Fixed-width types only; guest pointers are
 * uint32_t. WASI preview1 itself is defined by <wasi/api.h>; this header adds what Cloister
 * defines on top: signal numbers, wait-status encoding, the ABI version and the guest-facing
 * structures of the `cloister` import module (spawn file actions). The PAL's C API,
 * cloister_pal_api.h, builds on this header.
 */
#ifndef CLOISTER_H
#define CLOISTER_H

#include <stdint.h>

/* Version of the Cloister guest ABI. Bumped on any incompatible change. */
#define CLOISTER_ABI_VERSION 1

/* Signals, numbered as Linux numbers them (used by kill, wait statuses and exit codes). */
#define CLOISTER_SIGHUP 1
#define CLOISTER_SIGINT 2
#define CLOISTER_SIGQUIT 3
#define CLOISTER_SIGILL 4
#define CLOISTER_SIGABRT 6
#define CLOISTER_SIGKILL 9
#define CLOISTER_SIGSEGV 11
#define CLOISTER_SIGPIPE 13
#define CLOISTER_SIGTERM 15
#define CLOISTER_SIGCHLD 17
#define CLOISTER_SIGXCPU 24

/* Wait statuses, encoded as wait(2) encodes them. */
#define CLOISTER_W_EXITCODE(code) ((int32_t)(((code) & 0xff) << 8))
#define CLOISTER_W_TERMSIG(sig) ((int32_t)((sig) & 0x7f))
#define CLOISTER_WIFEXITED(status) (((status) & 0x7f) == 0)
#define CLOISTER_WEXITSTATUS(status) (((status) >> 8) & 0xff)
#define CLOISTER_WIFSIGNALED(status) (((status) & 0x7f) != 0)
#define CLOISTER_WTERMSIG(status) ((status) & 0x7f)

/* Options of cloister_wait. */
#define CLOISTER_WNOHANG 1

/* ---- Guest-visible structures -------------------------------------------------------------
 * Laid out identically on wasm32 (the guest) and on every 64-bit host (the LibOS): fixed-width
 * fields only, guest pointers as uint32_t, every field naturally aligned and no implicit
 * padding. The static assertions below fail the build of either side if that ever changes. */

#include <stddef.h>

#if defined(__cplusplus)
#define CLOISTER_STATIC_ASSERT(condition, message) static_assert(condition, message)
#else
#define CLOISTER_STATIC_ASSERT(condition, message) _Static_assert(condition, message)
#endif

/* Kinds of spawn file action (posix_spawn_file_actions_addopen/addclose/adddup2). */
#define CLOISTER_SPAWN_FILE_ACTION_OPEN 1
#define CLOISTER_SPAWN_FILE_ACTION_CLOSE 2
#define CLOISTER_SPAWN_FILE_ACTION_DUP2 3

/* One file action of a spawn, applied in order to the child's descriptor table before it runs.
 * An array of these is passed to the `cloister` module's spawn call by guest address. */
struct cloister_spawn_file_action {
    uint32_t kind;     /* CLOISTER_SPAWN_FILE_ACTION_* */
    int32_t fd;        /* OPEN: the descriptor to open as; CLOSE: the one to close; DUP2: the source */
    int32_t new_fd;    /* DUP2: the target descriptor; 0 otherwise */
    uint32_t path_ptr; /* OPEN: guest address of the path (UTF-8, not NUL-terminated); 0 otherwise */
    uint32_t path_len; /* OPEN: length of the path in bytes; 0 otherwise */
    uint32_t oflags;   /* OPEN: the open(2) flags, as the guest's libc (wasi-libc) encodes O_*; 0 otherwise */
};
CLOISTER_STATIC_ASSERT(sizeof(struct cloister_spawn_file_action) == 24, "cloister_spawn_file_action is 24 bytes");
CLOISTER_STATIC_ASSERT(offsetof(struct cloister_spawn_file_action, oflags) == 20, "cloister_spawn_file_action has no padding");

/* ---- The `cloister` import module (guests only) ------------------------------------------
 * Every function returns 0 or a WASI errno (<wasi/api.h> numbering, __WASI_ERRNO_*) and passes
 * its results through pointers. The raw imports take guest pointers as uint32_t; the inline
 * wrappers below take C pointers. See docs/libos.md ("The cloister module") for each call.
 * Example: examples/guest-sdk/spawn_pipe.c. */
#if defined(__wasm__)

#define CLOISTER_IMPORT(name) __attribute__((import_module("cloister"), import_name(name)))

CLOISTER_IMPORT("spawn")
int32_t __cloister_spawn(uint32_t path, uint32_t path_len, uint32_t argv, uint32_t argc, uint32_t envp, uint32_t envc,
                         uint32_t actions, uint32_t action_count, uint32_t pid_out);
CLOISTER_IMPORT("wait") int32_t __cloister_wait(int32_t pid, uint32_t status_out, uint32_t options, uint32_t pid_out);
CLOISTER_IMPORT("kill") int32_t __cloister_kill(int32_t pid, int32_t signal);
CLOISTER_IMPORT("getpid") int32_t __cloister_getpid(uint32_t pid_out);
CLOISTER_IMPORT("getppid") int32_t __cloister_getppid(uint32_t pid_out);
CLOISTER_IMPORT("gettid") int32_t __cloister_gettid(uint32_t tid_out);
CLOISTER_IMPORT("pipe") int32_t __cloister_pipe(uint32_t fds_out);
CLOISTER_IMPORT("sched_getaffinity") int32_t __cloister_sched_getaffinity(int32_t tid, uint32_t size, uint32_t mask, uint32_t size_out);
CLOISTER_IMPORT("sched_setaffinity") int32_t __cloister_sched_setaffinity(int32_t tid, uint32_t size, uint32_t mask);
CLOISTER_IMPORT("getcpu") int32_t __cloister_getcpu(uint32_t cpu_out, uint32_t node_out);
CLOISTER_IMPORT("sched_yield") int32_t __cloister_sched_yield(void);

#define CLOISTER_PTR(p) ((uint32_t)(uintptr_t)(p))

/* Starts the program at the absolute guest `path` as a child that inherits every descriptor,
 * then applies `actions` in order (posix_spawn). argv and envp hold argc and envc strings. */
static inline int32_t cloister_spawn(const char *path, const char *const *argv, uint32_t argc, const char *const *envp,
                                     uint32_t envc, const struct cloister_spawn_file_action *actions,
                                     uint32_t action_count, int32_t *pid) {
    uint32_t length = 0;
    while (path[length]) length++;
    return __cloister_spawn(CLOISTER_PTR(path), length, CLOISTER_PTR(argv), argc, CLOISTER_PTR(envp), envc,
                            CLOISTER_PTR(actions), action_count, CLOISTER_PTR(pid));
}
/* Reaps an ended child (`pid` -1: any) as wait4; with CLOISTER_WNOHANG, *reaped is 0 when none has ended. */
static inline int32_t cloister_wait(int32_t pid, int32_t *status, uint32_t options, int32_t *reaped) {
    return __cloister_wait(pid, CLOISTER_PTR(status), options, CLOISTER_PTR(reaped));
}
static inline int32_t cloister_kill(int32_t pid, int32_t signal) { return __cloister_kill(pid, signal); }
static inline int32_t cloister_getpid(int32_t *pid) { return __cloister_getpid(CLOISTER_PTR(pid)); }
static inline int32_t cloister_getppid(int32_t *pid) { return __cloister_getppid(CLOISTER_PTR(pid)); }
static inline int32_t cloister_gettid(int32_t *tid) { return __cloister_gettid(CLOISTER_PTR(tid)); }
/* fds[0] is the read end, fds[1] the write end. */
static inline int32_t cloister_pipe(int32_t fds[2]) { return __cloister_pipe(CLOISTER_PTR(fds)); }
static inline int32_t cloister_sched_getaffinity(int32_t tid, uint32_t size, void *mask, uint32_t *written) {
    return __cloister_sched_getaffinity(tid, size, CLOISTER_PTR(mask), CLOISTER_PTR(written));
}
static inline int32_t cloister_sched_setaffinity(int32_t tid, uint32_t size, const void *mask) {
    return __cloister_sched_setaffinity(tid, size, CLOISTER_PTR(mask));
}
static inline int32_t cloister_getcpu(uint32_t *cpu, uint32_t *node) {
    return __cloister_getcpu(CLOISTER_PTR(cpu), CLOISTER_PTR(node));
}
static inline int32_t cloister_sched_yield(void) { return __cloister_sched_yield(); }

/* ---- Function files: the WebAssembly executor's entry-point convention ----------------------
 * A function payload exports `int entrypoint(int argc, char *argv[])` (build it as a reactor:
 * -mexec-model=reactor -Wl,--export=entrypoint); argv holds the function's arguments flattened
 * as [k1, v1, k2, v2, ...] sorted by key, and the return value is the task's result. It reaches
 * its declared files by name through these imports (module "env"); each returns -1 on any error.
 * Teaclave's teaclave_* names are aliases of the same calls, so Teaclave payloads run unchanged.
 * Example: examples/functions/psi.c. */
#define CLOISTER_FUNCTION_IMPORT(name) __attribute__((import_module("env"), import_name(name)))

/* Opens the declared input `name` for reading; a descriptor. */
CLOISTER_FUNCTION_IMPORT("cloister_open_input") int cloister_open_input(const char *name);
/* Opens the declared output `name` for writing (truncated); a descriptor. */
CLOISTER_FUNCTION_IMPORT("cloister_create_output") int cloister_create_output(const char *name);
/* Reads up to `size` bytes; the count read, 0 at the end of the file. */
CLOISTER_FUNCTION_IMPORT("cloister_read_file") int cloister_read_file(int fd, void *buffer, int size);
/* Writes `size` bytes; the count written. */
CLOISTER_FUNCTION_IMPORT("cloister_write_file") int cloister_write_file(int fd, const void *buffer, int size);
/* Closes a descriptor from cloister_open_input or cloister_create_output; 0. */
CLOISTER_FUNCTION_IMPORT("cloister_close_file") int cloister_close_file(int fd);

#endif /* __wasm__ */

#endif /* CLOISTER_H */
