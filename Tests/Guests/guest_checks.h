// What the C test guests share: CHECK (prints "ok ..." or "FAIL line N: ... (errno E)", counting
// failures, and flushes: a test may read a guest's lines while it runs)
// and poll_oneoff subscriptions to a clock and to a descriptor. Included by the guests that need them.
#ifndef CLOISTER_GUEST_CHECKS_H
#define CLOISTER_GUEST_CHECKS_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

static int failures = 0;
#define CHECK(cond, ...)                              \
    do {                                              \
        if (cond) {                                   \
            printf("ok " __VA_ARGS__);                \
        } else {                                      \
            printf("FAIL line %d: ", __LINE__);       \
            printf(__VA_ARGS__);                      \
            printf(" (errno %d)", errno);             \
            failures++;                               \
        }                                             \
        printf("\n");                                 \
        fflush(stdout);                               \
    } while (0)

/// A subscription to clock `id`: `timeout` nanoseconds from now, or the time `timeout` when `abstime`.
static inline __wasi_subscription_t clock_sub(uint64_t userdata, __wasi_clockid_t id, uint64_t timeout, int abstime) {
    __wasi_subscription_t s;
    memset(&s, 0, sizeof s);
    s.userdata = userdata;
    s.u.tag = __WASI_EVENTTYPE_CLOCK;
    s.u.u.clock.id = id;
    s.u.u.clock.timeout = timeout;
    s.u.u.clock.precision = 0;
    s.u.u.clock.flags = abstime ? __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME : 0;
    return s;
}

/// A subscription of `type` (__WASI_EVENTTYPE_FD_READ or _FD_WRITE) to descriptor `fd`.
static inline __wasi_subscription_t fd_sub(uint64_t userdata, uint8_t type, __wasi_fd_t fd) {
    __wasi_subscription_t s;
    memset(&s, 0, sizeof s);
    s.userdata = userdata;
    s.u.tag = type;
    if (type == __WASI_EVENTTYPE_FD_READ) s.u.u.fd_read.file_descriptor = fd;
    else s.u.u.fd_write.file_descriptor = fd;
    return s;
}

#endif
