// Readiness and blocking waits test guest: `waits MODE [ARGS]`, on the `cloister` module of
// cloister.h (spawn, pipes) and WASI's poll_oneoff. Checks print "ok ..." or "FAIL ...".
//
//   poll-pipe             poll_oneoff over LibOS pipes a child writes to, beside clocks
//   ping-pong N           N one-byte round trips through two pipes with a child, each side
//                         waiting in poll(); prints "ping-pong N NANOSECONDS"
//   block-poll | block-read | block-stdin | block-poll-stdin | block-clock
//                         prints "blocked", then waits for ever (a pipe nobody writes, standard
//                         input, or a 30-day clock alone): the caller kills it
#include <cloister.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

#include "guest_checks.h"

#define MS 1000000ull
static const uint64_t far_away = 30ull * 24 * 3600 * 1000000000ull;

static uint64_t now_ns(void) {
    __wasi_timestamp_t t = 0;
    (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t);
    return t;
}

// Polls `fd` (read or write, userdata 1) beside a relative clock (userdata 2); one event expected.
static __wasi_errno_t poll_one(int fd, uint8_t type, uint64_t clock, __wasi_event_t *event, __wasi_size_t *count) {
    __wasi_subscription_t subs[2] = {fd_sub(1, type, fd), clock_sub(2, __WASI_CLOCKID_MONOTONIC, clock, 0)};
    __wasi_event_t events[2];
    memset(events, 0xAA, sizeof events);
    *count = 0;
    __wasi_errno_t e = __wasi_poll_oneoff(subs, events, 2, count);
    *event = events[0];
    return e;
}

static int spawn_self(const char *mode, const char *arg, const struct cloister_spawn_file_action *actions, uint32_t count, int32_t *pid) {
    const char *argv[] = {"/bin/waits.wasm", mode, arg};
    return cloister_spawn(argv[0], argv, arg ? 3 : 2, NULL, 0, actions, count, pid);
}

// Child of poll-pipe: after `ms`, writes "x" to stdout (a pipe), then exits (closing it).
static int child_write_after(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
    return write(1, "x", 1) == 1 ? 0 : 1;
}

static int poll_pipe(void) {
    __wasi_event_t ev;
    __wasi_size_t n;
    __wasi_errno_t e;

    // 1. A child writes one byte after 200 ms: the poll wakes for it, long before its 30-day clock.
    int32_t fds[2];
    CHECK(cloister_pipe(fds) == 0, "pipe");
    struct cloister_spawn_file_action actions[] = {
        {CLOISTER_SPAWN_FILE_ACTION_DUP2, fds[1], 1, 0, 0, 0},
        {CLOISTER_SPAWN_FILE_ACTION_CLOSE, fds[0], 0, 0, 0, 0},
    };
    int32_t child = 0;
    CHECK(spawn_self("child-write-after", "200", actions, 2, &child) == 0, "spawn the writer");
    close(fds[1]);
    uint64_t t0 = now_ns();
    e = poll_one(fds[0], __WASI_EVENTTYPE_FD_READ, far_away, &ev, &n);
    uint64_t waited = now_ns() - t0;
    CHECK(e == 0 && n == 1 && ev.userdata == 1 && ev.type == __WASI_EVENTTYPE_FD_READ && ev.error == 0 && ev.fd_readwrite.nbytes == 1,
          "poll wakes when the child writes (errno=%d n=%lu userdata=%llu type=%d error=%d nbytes=%llu)", e, (unsigned long)n,
          (unsigned long long)ev.userdata, ev.type, ev.error, (unsigned long long)ev.fd_readwrite.nbytes);
    CHECK(waited >= 100 * MS, "the poll waited for the write (%llu ms)", (unsigned long long)(waited / MS));
    char c = 0;
    CHECK(read(fds[0], &c, 1) == 1 && c == 'x', "the byte is there");

    // 2. The child exits, closing the only write end: the poll wakes with hang-up and no bytes.
    e = poll_one(fds[0], __WASI_EVENTTYPE_FD_READ, far_away, &ev, &n);
    CHECK(e == 0 && n == 1 && ev.userdata == 1 && ev.error == 0 && ev.fd_readwrite.nbytes == 0 &&
              (ev.fd_readwrite.flags & __WASI_EVENTRWFLAGS_FD_READWRITE_HANGUP),
          "poll wakes with hang-up when the writer exits (errno=%d n=%lu userdata=%llu flags=%d nbytes=%llu)", e, (unsigned long)n,
          (unsigned long long)ev.userdata, ev.fd_readwrite.flags, (unsigned long long)ev.fd_readwrite.nbytes);
    CHECK(read(fds[0], &c, 1) == 0, "then reading gives end of file");
    int32_t status = -1, reaped = 0;
    CHECK(cloister_wait(child, &status, 0, &reaped) == 0 && reaped == child && status == 0, "the writer exited 0 (%d)", status);
    close(fds[0]);

    // 3. An empty pipe with a writer: the clock beside it fires, and only the clock.
    CHECK(cloister_pipe(fds) == 0, "second pipe");
    t0 = now_ns();
    e = poll_one(fds[0], __WASI_EVENTTYPE_FD_READ, 20 * MS, &ev, &n);
    waited = now_ns() - t0;
    CHECK(e == 0 && n == 1 && ev.userdata == 2 && ev.type == __WASI_EVENTTYPE_CLOCK && waited >= 20 * MS,
          "an empty pipe lets its clock fire (errno=%d n=%lu userdata=%llu waited=%llu ms)", e, (unsigned long)n,
          (unsigned long long)ev.userdata, (unsigned long long)(waited / MS));

    // 4. The write end: writable while empty; not once 64 KiB fill it; writable again when read.
    e = poll_one(fds[1], __WASI_EVENTTYPE_FD_WRITE, far_away, &ev, &n);
    CHECK(e == 0 && n == 1 && ev.userdata == 1 && ev.type == __WASI_EVENTTYPE_FD_WRITE && ev.error == 0, "an empty pipe is writable");
    static char block[65536];
    memset(block, 'b', sizeof block);
    CHECK(write(fds[1], block, sizeof block) == (ssize_t)sizeof block, "fill the pipe");
    e = poll_one(fds[1], __WASI_EVENTTYPE_FD_WRITE, 20 * MS, &ev, &n);
    CHECK(e == 0 && n == 1 && ev.userdata == 2, "a full pipe is not writable: the clock fires (userdata=%llu)", (unsigned long long)ev.userdata);
    CHECK(read(fds[0], block, 4096) == 4096, "read 4 KiB");
    e = poll_one(fds[1], __WASI_EVENTTYPE_FD_WRITE, far_away, &ev, &n);
    CHECK(e == 0 && n == 1 && ev.userdata == 1 && ev.error == 0, "4 KiB of room: writable again (userdata=%llu)", (unsigned long long)ev.userdata);

    // 5. Every reader gone: the write end reports an error (EPIPE), not writable.
    close(fds[0]);
    e = poll_one(fds[1], __WASI_EVENTTYPE_FD_WRITE, far_away, &ev, &n);
    CHECK(e == 0 && n == 1 && ev.userdata == 1 && ev.error == __WASI_ERRNO_PIPE, "no reader: the write end fails with EPIPE (error=%d)", ev.error);
    close(fds[1]);

    // 6. libc's poll() on the read end of a pipe with data.
    CHECK(cloister_pipe(fds) == 0, "third pipe");
    CHECK(write(fds[1], "hi", 2) == 2, "write 2 bytes");
    struct pollfd p = {.fd = fds[0], .events = POLLIN};
    CHECK(poll(&p, 1, 60000) == 1 && (p.revents & POLLIN), "poll() sees them (revents=%d)", p.revents);
    return failures ? 1 : 0;
}

// Child of ping-pong: answers each byte on stdin with one on stdout, until end of file.
static int pong(void) {
    struct pollfd p = {.fd = 0, .events = POLLIN};
    char c;
    for (;;) {
        if (poll(&p, 1, -1) != 1) return 2;
        ssize_t got = read(0, &c, 1);
        if (got == 0) return 0;
        if (got != 1 || write(1, &c, 1) != 1) return 3;
    }
}

static int ping_pong(long rounds) {
    int32_t to_child[2], from_child[2];
    if (cloister_pipe(to_child) != 0 || cloister_pipe(from_child) != 0) return 2;
    struct cloister_spawn_file_action actions[] = {
        {CLOISTER_SPAWN_FILE_ACTION_DUP2, to_child[0], 0, 0, 0, 0},
        {CLOISTER_SPAWN_FILE_ACTION_DUP2, from_child[1], 1, 0, 0, 0},
        {CLOISTER_SPAWN_FILE_ACTION_CLOSE, to_child[1], 0, 0, 0, 0},
        {CLOISTER_SPAWN_FILE_ACTION_CLOSE, from_child[0], 0, 0, 0, 0},
    };
    int32_t child = 0;
    if (spawn_self("pong", NULL, actions, 4, &child) != 0) return 3;
    close(to_child[0]);
    close(from_child[1]);
    struct pollfd p = {.fd = from_child[0], .events = POLLIN};
    char c = 'p';
    // One round first, so the child is running before the clock starts.
    uint64_t t0 = 0;
    for (long i = -1; i < rounds; i++) {
        if (i == 0) t0 = now_ns();
        if (write(to_child[1], &c, 1) != 1) return 4;
        if (poll(&p, 1, -1) != 1 || read(from_child[0], &c, 1) != 1) return 5;
    }
    uint64_t elapsed = now_ns() - t0;
    close(to_child[1]);
    int32_t status = -1, reaped = 0;
    if (cloister_wait(child, &status, 0, &reaped) != 0 || reaped != child || status != 0) return 6;
    printf("ping-pong %ld %llu\n", rounds, (unsigned long long)elapsed);
    return 0;
}

static void blocked(void) {
    printf("blocked\n");
    fflush(stdout);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "poll-pipe")) return poll_pipe();
    if (!strcmp(mode, "child-write-after")) return child_write_after(atol(argv[2]));
    if (!strcmp(mode, "ping-pong")) return ping_pong(atol(argv[2]));
    if (!strcmp(mode, "pong")) return pong();
    __wasi_event_t ev;
    __wasi_size_t n;
    if (!strcmp(mode, "block-poll") || !strcmp(mode, "block-read")) {
        int32_t fds[2];
        if (cloister_pipe(fds) != 0) return 2;
        blocked();
        if (!strcmp(mode, "block-read")) {
            char c;
            return (int)read(fds[0], &c, 1) + 10;
        }
        return poll_one(fds[0], __WASI_EVENTTYPE_FD_READ, far_away, &ev, &n) + 10;
    }
    if (!strcmp(mode, "block-stdin")) {
        blocked();
        char c;
        return (int)read(0, &c, 1) + 10;
    }
    if (!strcmp(mode, "block-poll-stdin")) {
        blocked();
        return poll_one(0, __WASI_EVENTTYPE_FD_READ, far_away, &ev, &n) + 10;
    }
    if (!strcmp(mode, "block-clock")) {
        blocked();
        __wasi_subscription_t s = clock_sub(2, __WASI_CLOCKID_MONOTONIC, far_away, 0);
        return __wasi_poll_oneoff(&s, &ev, 1, &n) + 10;
    }
    printf("FAIL unknown mode %s\n", mode);
    return 1;
}
