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

#endif /* CLOISTER_H */
