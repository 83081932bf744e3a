// misc: random_get, sched_yield, sock_* on non-sockets, proc_raise.
// argv[1] (a directory) is ignored.
// Prints "ok <check>" or "FAIL <check>: <detail>" per check; exits 1 if any check failed.
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

static int failures = 0;
#define OK(name) printf("ok %s\n", name)
#define FAIL(name, ...) do { printf("FAIL %s: ", name); printf(__VA_ARGS__); printf("\n"); failures++; } while (0)
#define EXPECT_ERR(name, expr, want) do { \
        __wasi_errno_t e_ = (expr); \
        if (e_ != (want)) FAIL(name, "errno=%d want %d", e_, (int)(want)); else OK(name); \
    } while (0)

// proc_raise is still part of wasi_snapshot_preview1 but no longer declared by wasi-libc.
__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_raise")))
int32_t raw_proc_raise(int32_t sig);
#define SIGNAL_URG 22 // default action: ignore

#define BAD_FD 77

static void sock_checks(const char *what, __wasi_fd_t fd, __wasi_errno_t want) {
    char check[64], buf[8];
    __wasi_fd_t nfd;
    __wasi_size_t n;
    __wasi_roflags_t rof;
    __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf};
    __wasi_ciovec_t ciov = {(const uint8_t *)"x", 1};
    snprintf(check, sizeof check, "sock_accept_%s", what);
    EXPECT_ERR(check, __wasi_sock_accept(fd, 0, &nfd), want);
    snprintf(check, sizeof check, "sock_recv_%s", what);
    EXPECT_ERR(check, __wasi_sock_recv(fd, &iov, 1, 0, &n, &rof), want);
    snprintf(check, sizeof check, "sock_send_%s", what);
    EXPECT_ERR(check, __wasi_sock_send(fd, &ciov, 1, 0, &n), want);
    snprintf(check, sizeof check, "sock_shutdown_%s", what);
    EXPECT_ERR(check, __wasi_sock_shutdown(fd, __WASI_SDFLAGS_RD | __WASI_SDFLAGS_WR), want);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);

    // random_get
    {
        uint8_t a[64], b[64], zero[64];
        memset(a, 0, sizeof a);
        memset(b, 0, sizeof b);
        memset(zero, 0, sizeof zero);
        __wasi_errno_t e1 = __wasi_random_get(a, sizeof a);
        __wasi_errno_t e2 = __wasi_random_get(b, sizeof b);
        if (e1 || e2) FAIL("random_get", "errno=%d/%d", e1, e2);
        else if (memcmp(a, zero, sizeof a) == 0) FAIL("random_get", "64 zero bytes");
        else if (memcmp(a, b, sizeof a) == 0) FAIL("random_get", "two calls gave the same bytes");
        else OK("random_get");
        __wasi_errno_t e3 = __wasi_random_get(a, 0);
        if (e3) FAIL("random_get_zero_length", "errno=%d", e3); else OK("random_get_zero_length");
        // a large request is filled too
        static uint8_t big[65536];
        __wasi_errno_t e4 = __wasi_random_get(big, sizeof big);
        size_t nz = 0;
        for (size_t i = 0; i < sizeof big; i++) nz += big[i] != 0;
        if (e4 || nz < sizeof big / 2) FAIL("random_get_64k", "errno=%d nonzero=%zu", e4, nz); else OK("random_get_64k");
    }

    // sched_yield
    if (sched_yield() != 0) FAIL("sched_yield", "errno=%d", errno); else OK("sched_yield");
    {
        __wasi_errno_t e = __wasi_sched_yield();
        if (e) FAIL("raw_sched_yield", "errno=%d", e); else OK("raw_sched_yield");
    }

    // sockets: stdout is not a socket; fd 77 is not open
    sock_checks("stdout_enotsock", 1, __WASI_ERRNO_NOTSOCK);
    sock_checks("bad_fd_ebadf", BAD_FD, __WASI_ERRNO_BADF);

    // proc_raise of a signal whose default action is to ignore it (wasmtime: ENOTSUP; Cloister: 0)
    printf("info proc_raise errno=%d\n", (int)raw_proc_raise(SIGNAL_URG));

    return failures ? 1 : 0;
}
