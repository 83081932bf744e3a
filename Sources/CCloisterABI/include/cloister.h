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

/* ---- Sockets ---------------------------------------------------------------------------------
 * Numbered as Linux numbers them. Guests reach them through the socket calls of the `cloister`
 * module below, or through the BSD calls of the guest SDK's socket library
 * (examples/guest-sdk/cloister_socket.h). docs/libos.md ("Net") describes each call. */
#define CLOISTER_AF_UNSPEC 0
#define CLOISTER_AF_UNIX 1
#define CLOISTER_AF_INET 2
#define CLOISTER_AF_INET6 10

#define CLOISTER_SOCK_STREAM 1
#define CLOISTER_SOCK_DGRAM 2
/* Flags or-ed into socket()'s type and accept()'s flags. */
#define CLOISTER_SOCK_NONBLOCK 0x800
#define CLOISTER_SOCK_CLOEXEC 0x80000 /* accepted and ignored: WASI has no exec */

#define CLOISTER_SHUT_RD 0
#define CLOISTER_SHUT_WR 1
#define CLOISTER_SHUT_RDWR 2

/* Flags of send/recv/sendmsg/recvmsg (and of cloister_msghdr.flags on return). */
#define CLOISTER_MSG_PEEK 0x2
#define CLOISTER_MSG_CTRUNC 0x8
#define CLOISTER_MSG_TRUNC 0x20
#define CLOISTER_MSG_DONTWAIT 0x40
#define CLOISTER_MSG_WAITALL 0x100
#define CLOISTER_MSG_NOSIGNAL 0x4000

/* Socket options: levels and names. Every option's value is an int32_t. */
#define CLOISTER_SOL_SOCKET 1
#define CLOISTER_IPPROTO_TCP 6
#define CLOISTER_SO_REUSEADDR 2
#define CLOISTER_SO_TYPE 3
#define CLOISTER_SO_ERROR 4
#define CLOISTER_SO_SNDBUF 7
#define CLOISTER_SO_RCVBUF 8
#define CLOISTER_SO_KEEPALIVE 9
#define CLOISTER_SO_ACCEPTCONN 30
#define CLOISTER_TCP_NODELAY 1

/* Longest AF_UNIX path, in bytes (Linux's sun_path holds 108 with its NUL). */
#define CLOISTER_UNIX_PATH_MAX 107

/* A socket address of any family, one layout for all: what every socket call takes and
 * returns (the guest library converts to and from its libc's sockaddr_in/in6/un). */
struct cloister_sockaddr {
    uint16_t family;    /* CLOISTER_AF_* */
    uint16_t port;      /* INET, INET6: the port, in host byte order */
    uint32_t flowinfo;  /* INET6 */
    uint32_t scope_id;  /* INET6 */
    uint8_t addr[16];   /* INET: 4 bytes in network order, then zeros; INET6: 16 bytes */
    uint32_t path_len;  /* UNIX: bytes of path (1 to CLOISTER_UNIX_PATH_MAX) */
    uint8_t path[108];  /* UNIX: the name, not NUL-terminated */
};
CLOISTER_STATIC_ASSERT(sizeof(struct cloister_sockaddr) == 140, "cloister_sockaddr is 140 bytes");
CLOISTER_STATIC_ASSERT(offsetof(struct cloister_sockaddr, path) == 32, "cloister_sockaddr has no padding");

/* One buffer of a vectored transfer (the layout of WASI's iovec). */
struct cloister_iovec {
    uint32_t base; /* guest address */
    uint32_t len;
};
CLOISTER_STATIC_ASSERT(sizeof(struct cloister_iovec) == 8, "cloister_iovec is 8 bytes");

/* sendmsg/recvmsg's message. Ancillary data is not supported: control must be 0 and
 * control_len 0 (else EOPNOTSUPP). */
struct cloister_msghdr {
    uint32_t name;        /* guest address of a struct cloister_sockaddr, or 0 */
    uint32_t iov;         /* guest address of iov_count struct cloister_iovec */
    uint32_t iov_count;   /* at most 1024 */
    uint32_t control;     /* 0 */
    uint32_t control_len; /* 0 */
    uint32_t flags;       /* recvmsg: set to CLOISTER_MSG_TRUNC when a datagram was cut short */
};
CLOISTER_STATIC_ASSERT(sizeof(struct cloister_msghdr) == 24, "cloister_msghdr is 24 bytes");

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

/* Sockets (docs/libos.md, "Net"). Addresses are struct cloister_sockaddr; counts come back
 * through the last pointer. */
CLOISTER_IMPORT("socket") int32_t __cloister_socket(int32_t domain, int32_t type, int32_t protocol, uint32_t fd_out);
CLOISTER_IMPORT("bind") int32_t __cloister_bind(int32_t fd, uint32_t addr);
CLOISTER_IMPORT("listen") int32_t __cloister_listen(int32_t fd, int32_t backlog);
CLOISTER_IMPORT("accept") int32_t __cloister_accept(int32_t fd, int32_t flags, uint32_t addr_out, uint32_t fd_out);
CLOISTER_IMPORT("connect") int32_t __cloister_connect(int32_t fd, uint32_t addr);
CLOISTER_IMPORT("sendto")
int32_t __cloister_sendto(int32_t fd, uint32_t buf, uint32_t len, int32_t flags, uint32_t addr, uint32_t sent_out);
CLOISTER_IMPORT("recvfrom")
int32_t __cloister_recvfrom(int32_t fd, uint32_t buf, uint32_t len, int32_t flags, uint32_t addr_out, uint32_t received_out);
CLOISTER_IMPORT("sendmsg") int32_t __cloister_sendmsg(int32_t fd, uint32_t msg, int32_t flags, uint32_t sent_out);
CLOISTER_IMPORT("recvmsg") int32_t __cloister_recvmsg(int32_t fd, uint32_t msg, int32_t flags, uint32_t received_out);
CLOISTER_IMPORT("shutdown") int32_t __cloister_shutdown(int32_t fd, int32_t how);
CLOISTER_IMPORT("getsockname") int32_t __cloister_getsockname(int32_t fd, uint32_t addr_out);
CLOISTER_IMPORT("getpeername") int32_t __cloister_getpeername(int32_t fd, uint32_t addr_out);
CLOISTER_IMPORT("getsockopt") int32_t __cloister_getsockopt(int32_t fd, int32_t level, int32_t name, uint32_t value_out);
CLOISTER_IMPORT("setsockopt") int32_t __cloister_setsockopt(int32_t fd, int32_t level, int32_t name, int32_t value);
CLOISTER_IMPORT("resolve")
int32_t __cloister_resolve(uint32_t name, uint32_t name_len, uint32_t port, uint32_t addrs_out, uint32_t capacity,
                           uint32_t count_out);

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
