/*
 * cloister_socket.h — the guest SDK's socket library: the BSD socket calls for ordinary C code,
 * over the socket calls of the `cloister` import module (cloister.h).
 *
 * Include it instead of <sys/socket.h>, <netinet/in.h>, <sys/un.h> and <arpa/inet.h> (it
 * includes them), then call socket, bind, listen, accept, accept4, connect, send, recv, sendto,
 * recvfrom, sendmsg, recvmsg, shutdown, getsockname, getpeername, getsockopt and setsockopt as
 * usual; read, write, close, poll and fcntl(F_SETFL, O_NONBLOCK) are wasi-libc's own and work
 * on the same descriptors. Failures return -1 with errno set.
 *
 * wasi-libc (WASI preview1) declares only some of these and lacks several constants; this header
 * defines what is missing (MSG_DONTWAIT, MSG_NOSIGNAL, SO_REUSEADDR, …, and a struct sockaddr_un
 * with sun_path) and keeps libc's values for AF_*, SOCK_* and SHUT_* (its inet_pton uses them),
 * translating to the cloister ABI's numbers in each call. Host names: cloister_resolve (cloister.h
 * declares the raw call; wasi-libc has no getaddrinfo). Example: examples/guest-sdk/echo.c.
 */
#ifndef CLOISTER_SOCKET_H
#define CLOISTER_SOCKET_H
#if defined(__wasm__)

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "cloister.h"

/* wasi-libc's struct sockaddr_un has no sun_path: this one replaces it (<sys/un.h> then adds nothing). */
#define __wasilibc___struct_sockaddr_un_h
struct sockaddr_un {
    sa_family_t sun_family;
    char sun_path[108];
};

/* Flags: the cloister ABI's (Linux) numbers, passed through unchanged. */
#undef MSG_PEEK
#undef MSG_TRUNC
#undef MSG_WAITALL
#define MSG_PEEK CLOISTER_MSG_PEEK
#define MSG_CTRUNC CLOISTER_MSG_CTRUNC
#define MSG_TRUNC CLOISTER_MSG_TRUNC
#define MSG_DONTWAIT CLOISTER_MSG_DONTWAIT
#define MSG_WAITALL CLOISTER_MSG_WAITALL
#define MSG_NOSIGNAL CLOISTER_MSG_NOSIGNAL
#ifndef SO_REUSEADDR
#define SO_REUSEADDR CLOISTER_SO_REUSEADDR
#define SO_ERROR CLOISTER_SO_ERROR
#define SO_SNDBUF CLOISTER_SO_SNDBUF
#define SO_RCVBUF CLOISTER_SO_RCVBUF
#define SO_KEEPALIVE CLOISTER_SO_KEEPALIVE
#define SO_ACCEPTCONN CLOISTER_SO_ACCEPTCONN
#endif
#ifndef TCP_NODELAY
#define TCP_NODELAY CLOISTER_TCP_NODELAY
#endif
#ifndef SOMAXCONN
#define SOMAXCONN 4096
#endif

/* An errno from the cloister module: -1 with errno set, or 0. */
static inline int __cloister_result(int32_t error) {
    if (error == 0) return 0;
    errno = error;
    return -1;
}

/* A libc sockaddr as the ABI's struct cloister_sockaddr. */
static inline int __cloister_address_in(const struct sockaddr *address, socklen_t length, struct cloister_sockaddr *out) {
    memset(out, 0, sizeof *out);
    if (address == NULL || length < sizeof(sa_family_t)) return __cloister_result(EINVAL);
    switch (address->sa_family) {
    case AF_INET: {
        const struct sockaddr_in *in = (const struct sockaddr_in *)address;
        if (length < offsetof(struct sockaddr_in, sin_addr) + sizeof in->sin_addr) return __cloister_result(EINVAL);
        out->family = CLOISTER_AF_INET;
        out->port = ntohs(in->sin_port);
        memcpy(out->addr, &in->sin_addr, 4);
        return 0;
    }
    case AF_INET6: {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)address;
        if (length < offsetof(struct sockaddr_in6, sin6_scope_id) + sizeof in6->sin6_scope_id) return __cloister_result(EINVAL);
        out->family = CLOISTER_AF_INET6;
        out->port = ntohs(in6->sin6_port);
        out->flowinfo = ntohl(in6->sin6_flowinfo);
        out->scope_id = in6->sin6_scope_id;
        memcpy(out->addr, &in6->sin6_addr, 16);
        return 0;
    }
    case AF_UNIX: {
        const struct sockaddr_un *un = (const struct sockaddr_un *)address;
        size_t room = length > offsetof(struct sockaddr_un, sun_path) ? length - offsetof(struct sockaddr_un, sun_path) : 0;
        if (room > sizeof un->sun_path) room = sizeof un->sun_path;
        out->family = CLOISTER_AF_UNIX;
        out->path_len = (uint32_t)strnlen(un->sun_path, room);
        memcpy(out->path, un->sun_path, out->path_len);
        return 0;
    }
    default:
        return __cloister_result(EAFNOSUPPORT);
    }
}

/* The ABI's address into a libc sockaddr of *length bytes (cut short to fit); *length becomes its size. */
static inline void __cloister_address_out(const struct cloister_sockaddr *in, struct sockaddr *address, socklen_t *length) {
    if (address == NULL || length == NULL) return;
    union {
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
        struct sockaddr_un un;
        struct sockaddr_storage storage;
    } full;
    socklen_t size = 0;
    memset(&full, 0, sizeof full);
    switch (in->family) {
    case CLOISTER_AF_INET:
        full.in.sin_family = AF_INET;
        full.in.sin_port = htons(in->port);
        memcpy(&full.in.sin_addr, in->addr, 4);
        size = sizeof full.in;
        break;
    case CLOISTER_AF_INET6:
        full.in6.sin6_family = AF_INET6;
        full.in6.sin6_port = htons(in->port);
        full.in6.sin6_flowinfo = htonl(in->flowinfo);
        full.in6.sin6_scope_id = in->scope_id;
        memcpy(&full.in6.sin6_addr, in->addr, 16);
        size = sizeof full.in6;
        break;
    case CLOISTER_AF_UNIX:
        full.un.sun_family = AF_UNIX;
        memcpy(full.un.sun_path, in->path, in->path_len < sizeof full.un.sun_path ? in->path_len : sizeof full.un.sun_path - 1);
        size = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + in->path_len + 1);
        break;
    default:
        size = 0;
    }
    memcpy(address, &full, *length < size ? *length : size);
    *length = size;
}

static inline int32_t __cloister_domain(int domain) {
    switch (domain) {
    case AF_INET: return CLOISTER_AF_INET;
    case AF_INET6: return CLOISTER_AF_INET6;
    case AF_UNIX: return CLOISTER_AF_UNIX;
    default: return -1;
    }
}

static inline int32_t __cloister_type_flags(int flags) {
    return ((flags & SOCK_NONBLOCK) ? CLOISTER_SOCK_NONBLOCK : 0) | ((flags & SOCK_CLOEXEC) ? CLOISTER_SOCK_CLOEXEC : 0);
}

static inline int cloister_bsd_socket(int domain, int type, int protocol) {
    int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    int32_t kind = base == SOCK_STREAM ? CLOISTER_SOCK_STREAM : base == SOCK_DGRAM ? CLOISTER_SOCK_DGRAM : -1;
    int32_t fd = -1;
    if (__cloister_result(__cloister_socket(__cloister_domain(domain), kind | __cloister_type_flags(type), protocol, CLOISTER_PTR(&fd)))) return -1;
    return fd;
}

static inline int cloister_bsd_bind(int fd, const struct sockaddr *address, socklen_t length) {
    struct cloister_sockaddr in;
    if (__cloister_address_in(address, length, &in)) return -1;
    return __cloister_result(__cloister_bind(fd, CLOISTER_PTR(&in)));
}

static inline int cloister_bsd_listen(int fd, int backlog) { return __cloister_result(__cloister_listen(fd, backlog)); }

static inline int cloister_bsd_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags) {
    struct cloister_sockaddr peer;
    int32_t accepted = -1;
    if (__cloister_result(__cloister_accept(fd, __cloister_type_flags(flags), CLOISTER_PTR(&peer), CLOISTER_PTR(&accepted)))) return -1;
    __cloister_address_out(&peer, address, length);
    return accepted;
}

static inline int cloister_bsd_accept(int fd, struct sockaddr *address, socklen_t *length) {
    return cloister_bsd_accept4(fd, address, length, 0);
}

static inline int cloister_bsd_connect(int fd, const struct sockaddr *address, socklen_t length) {
    struct cloister_sockaddr in;
    if (__cloister_address_in(address, length, &in)) return -1;
    return __cloister_result(__cloister_connect(fd, CLOISTER_PTR(&in)));
}

static inline ssize_t cloister_bsd_sendto(int fd, const void *buffer, size_t length, int flags, const struct sockaddr *address,
                                          socklen_t address_length) {
    struct cloister_sockaddr to;
    uint32_t sent = 0;
    if (address != NULL && __cloister_address_in(address, address_length, &to)) return -1;
    if (__cloister_result(__cloister_sendto(fd, CLOISTER_PTR(buffer), (uint32_t)length, flags, address ? CLOISTER_PTR(&to) : 0,
                                            CLOISTER_PTR(&sent))))
        return -1;
    return (ssize_t)sent;
}

static inline ssize_t cloister_bsd_send(int fd, const void *buffer, size_t length, int flags) {
    return cloister_bsd_sendto(fd, buffer, length, flags, NULL, 0);
}

static inline ssize_t cloister_bsd_recvfrom(int fd, void *buffer, size_t length, int flags, struct sockaddr *address,
                                            socklen_t *address_length) {
    struct cloister_sockaddr from;
    uint32_t received = 0;
    if (__cloister_result(__cloister_recvfrom(fd, CLOISTER_PTR(buffer), (uint32_t)length, flags, CLOISTER_PTR(&from),
                                              CLOISTER_PTR(&received))))
        return -1;
    __cloister_address_out(&from, address, address_length);
    return (ssize_t)received;
}

static inline ssize_t cloister_bsd_recv(int fd, void *buffer, size_t length, int flags) {
    return cloister_bsd_recvfrom(fd, buffer, length, flags, NULL, NULL);
}

/* wasi-libc's struct iovec is the ABI's struct cloister_iovec on wasm32: the array is passed as it is. */
CLOISTER_STATIC_ASSERT(sizeof(struct iovec) == sizeof(struct cloister_iovec), "iovec layouts match");

static inline ssize_t cloister_bsd_sendmsg(int fd, const struct msghdr *message, int flags) {
    struct cloister_sockaddr to;
    struct cloister_msghdr header = {0};
    uint32_t sent = 0;
    if (message->msg_name != NULL) {
        if (__cloister_address_in((const struct sockaddr *)message->msg_name, message->msg_namelen, &to)) return -1;
        header.name = CLOISTER_PTR(&to);
    }
    header.iov = CLOISTER_PTR(message->msg_iov);
    header.iov_count = (uint32_t)message->msg_iovlen;
    header.control = CLOISTER_PTR(message->msg_control);
    header.control_len = (uint32_t)message->msg_controllen;
    if (__cloister_result(__cloister_sendmsg(fd, CLOISTER_PTR(&header), flags, CLOISTER_PTR(&sent)))) return -1;
    return (ssize_t)sent;
}

static inline ssize_t cloister_bsd_recvmsg(int fd, struct msghdr *message, int flags) {
    struct cloister_sockaddr from;
    struct cloister_msghdr header = {0};
    uint32_t received = 0;
    header.name = message->msg_name != NULL ? CLOISTER_PTR(&from) : 0;
    header.iov = CLOISTER_PTR(message->msg_iov);
    header.iov_count = (uint32_t)message->msg_iovlen;
    header.control = CLOISTER_PTR(message->msg_control);
    header.control_len = (uint32_t)message->msg_controllen;
    if (__cloister_result(__cloister_recvmsg(fd, CLOISTER_PTR(&header), flags, CLOISTER_PTR(&received)))) return -1;
    if (message->msg_name != NULL) __cloister_address_out(&from, (struct sockaddr *)message->msg_name, &message->msg_namelen);
    message->msg_flags = (int)header.flags;
    return (ssize_t)received;
}

static inline int cloister_bsd_shutdown(int fd, int how) {
    int32_t directions = how == SHUT_RD ? CLOISTER_SHUT_RD : how == SHUT_WR ? CLOISTER_SHUT_WR : how == SHUT_RDWR ? CLOISTER_SHUT_RDWR : -1;
    return __cloister_result(__cloister_shutdown(fd, directions));
}

static inline int cloister_bsd_getsockname(int fd, struct sockaddr *address, socklen_t *length) {
    struct cloister_sockaddr local;
    if (__cloister_result(__cloister_getsockname(fd, CLOISTER_PTR(&local)))) return -1;
    __cloister_address_out(&local, address, length);
    return 0;
}

static inline int cloister_bsd_getpeername(int fd, struct sockaddr *address, socklen_t *length) {
    struct cloister_sockaddr peer;
    if (__cloister_result(__cloister_getpeername(fd, CLOISTER_PTR(&peer)))) return -1;
    __cloister_address_out(&peer, address, length);
    return 0;
}

static inline int32_t __cloister_level(int level) { return level == SOL_SOCKET ? CLOISTER_SOL_SOCKET : level; }

static inline int cloister_bsd_getsockopt(int fd, int level, int name, void *value, socklen_t *length) {
    int32_t result = 0;
    if (value == NULL || length == NULL || *length < sizeof(int)) return __cloister_result(EINVAL);
    if (__cloister_result(__cloister_getsockopt(fd, __cloister_level(level), name, CLOISTER_PTR(&result)))) return -1;
    if (level == SOL_SOCKET && name == SO_TYPE) result = result == CLOISTER_SOCK_STREAM ? SOCK_STREAM : SOCK_DGRAM;
    memcpy(value, &result, sizeof result);
    *length = sizeof result;
    return 0;
}

static inline int cloister_bsd_setsockopt(int fd, int level, int name, const void *value, socklen_t length) {
    int32_t option = 0;
    if (value == NULL || length < sizeof(int)) return __cloister_result(EINVAL);
    memcpy(&option, value, sizeof option);
    return __cloister_result(__cloister_setsockopt(fd, __cloister_level(level), name, option));
}

/* The first address of a host name the instance's network rules list (or of an address
 * literal), as a sockaddr_in/in6 with `port`; *length is its size. -1 with errno: EACCES (not
 * listed), ENOENT (no such name). */
static inline int cloister_resolve(const char *name, uint16_t port, struct sockaddr *address, socklen_t *length) {
    struct cloister_sockaddr found;
    uint32_t count = 0;
    if (__cloister_result(__cloister_resolve(CLOISTER_PTR(name), (uint32_t)strlen(name), port, CLOISTER_PTR(&found), 1,
                                             CLOISTER_PTR(&count))))
        return -1;
    if (count == 0) return __cloister_result(ENOENT);
    __cloister_address_out(&found, address, length);
    return 0;
}

#define socket cloister_bsd_socket
#define bind cloister_bsd_bind
#define listen cloister_bsd_listen
#define accept cloister_bsd_accept
#define accept4 cloister_bsd_accept4
#define connect cloister_bsd_connect
#define send cloister_bsd_send
#define recv cloister_bsd_recv
#define sendto cloister_bsd_sendto
#define recvfrom cloister_bsd_recvfrom
#define sendmsg cloister_bsd_sendmsg
#define recvmsg cloister_bsd_recvmsg
#define shutdown cloister_bsd_shutdown
#define getsockname cloister_bsd_getsockname
#define getpeername cloister_bsd_getpeername
#define getsockopt cloister_bsd_getsockopt
#define setsockopt cloister_bsd_setsockopt

#endif /* __wasm__ */
#endif /* CLOISTER_SOCKET_H */
