// Loopback TCP throughput: `netbench MODE ARGS`. One program, built for wasm (the BSD calls of
// the guest SDK's cloister_socket.h, over the LibOS's sockets) and natively (the host's
// <sys/socket.h>), so that the LibOS and the host kernel run the same code (the `net` section of
// cloister-bench, Benchmarks/cloister-bench/Net.swift).
//
//   tcp-pair BYTES CHUNK        listens on 127.0.0.1 at a port the host picks, starts a sender of
//                               itself (`send PORT BYTES CHUNK`: cloister_spawn in the LibOS, fork
//                               natively), accepts it and sinks what it sends; prints
//                               "tcp-pair BYTES NANOSECONDS", the sink's time from its go byte to
//                               the last byte read
//   send PORT BYTES CHUNK [IOVECS [staging]]
//                               connects to 127.0.0.1:PORT, waits for the sink's go byte, sends
//                               BYTES as messages of CHUNK bytes and waits for the sink's ack
//                               byte; prints "send BYTES NANOSECONDS COPY_NANOSECONDS" (go to ack).
//                               Without IOVECS each message is one send() from one buffer (the
//                               same for every message, as iperf does). With IOVECS it is one
//                               sendmsg() over IOVECS buffers of CHUNK/IOVECS bytes, each in an
//                               allocation of its own, and the messages go round a 64 MiB ring
//                               (so a message's bytes are not in the CPU's caches when it is
//                               sent, as a program's data mostly is not); with `staging` those
//                               buffers are first copied into one contiguous buffer, then sent
//                               with one send() (what a kernel with a staging buffer does);
//                               COPY_NANOSECONDS is the time spent in those copies (0 otherwise)
//   recv PORT BYTES CHUNK       connects to 127.0.0.1:PORT, sends a go byte, receives BYTES with
//                               recv() calls of CHUNK bytes; prints "recv BYTES NANOSECONDS"
//
// The sink protocol (this program's tcp-pair, and the host side of the benchmark): after accept,
// the sink writes one go byte, reads BYTES, then writes one ack byte. The source side of `recv`
// waits for the go byte, writes BYTES and closes.
//
// Under the LibOS the instance's Cloister.json must allow 127.0.0.1 (docs/libos.md, "Net"):
//   "network": { "listen": [{ "address": "127.0.0.1", "port": 0 }],
//                "connect": [{ "host": "127.0.0.1/32", "port": 0 }] }
#if defined(__wasm__)
#include <cloister_socket.h>
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_IOVECS 64
/* The bytes the messages of a sendmsg run go round (rounded down to whole messages, at least one). */
#define RING_BYTES (64ll << 20)

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void fail(const char *what) {
    perror(what);
    exit(1);
}

static struct sockaddr_in loopback(uint16_t port) {
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

static int tcp_listen(uint16_t *port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) fail("socket");
    struct sockaddr_in address = loopback(0);
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0) fail("bind");
    if (listen(fd, 4) != 0) fail("listen");
    socklen_t length = sizeof address;
    if (getsockname(fd, (struct sockaddr *)&address, &length) != 0) fail("getsockname");
    *port = ntohs(address.sin_port);
    return fd;
}

static int tcp_connect(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) fail("socket");
    struct sockaddr_in address = loopback(port);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) fail("connect");
    return fd;
}

static void send_all(int fd, const char *buffer, size_t length) {
    while (length > 0) {
        ssize_t sent = send(fd, buffer, length, 0);
        if (sent <= 0) fail("send");
        buffer += sent;
        length -= (size_t)sent;
    }
}

/* One sendmsg over `count` iovecs, again over what is left after a partial send. */
static void sendmsg_all(int fd, const struct iovec *vectors, int count) {
    struct iovec left[MAX_IOVECS];
    memcpy(left, vectors, (size_t)count * sizeof *left);
    struct iovec *first = left;
    while (count > 0) {
        struct msghdr message = {.msg_iov = first, .msg_iovlen = count};
        ssize_t sent = sendmsg(fd, &message, 0);
        if (sent <= 0) fail("sendmsg");
        while (count > 0 && (size_t)sent >= first->iov_len) {
            sent -= (ssize_t)first->iov_len;
            first++;
            count--;
        }
        if (count > 0) {
            first->iov_base = (char *)first->iov_base + sent;
            first->iov_len -= (size_t)sent;
        }
    }
}

static void read_byte(int fd) {
    char byte;
    if (recv(fd, &byte, 1, 0) != 1) fail("recv (go/ack byte)");
}

static void write_byte(int fd) {
    char byte = 'g';
    if (send(fd, &byte, 1, 0) != 1) fail("send (go/ack byte)");
}

/* Reads `bytes` from `fd` in recv() calls of at most `chunk`; fails naming `what` if the stream ends first. */
static void receive_all(int fd, char *buffer, long long bytes, size_t chunk, const char *what) {
    for (long long left = bytes; left > 0;) {
        ssize_t got = recv(fd, buffer, left < (long long)chunk ? (size_t)left : chunk, 0);
        if (got <= 0) fail(what);
        left -= got;
    }
}

/* The sink: go byte, `bytes` read in recv() calls of `chunk`, ack byte. Nanoseconds from go to the last byte. */
static uint64_t sink(int fd, long long bytes, size_t chunk) {
    char *buffer = malloc(chunk);
    if (buffer == NULL) fail("malloc");
    uint64_t start = now_ns();
    write_byte(fd);
    receive_all(fd, buffer, bytes, chunk, "recv (sink)");
    uint64_t end = now_ns();
    write_byte(fd);
    free(buffer);
    return end - start;
}

static int sender(uint16_t port, long long bytes, size_t chunk, int iovecs, int staging) {
    if (iovecs < 0 || iovecs > MAX_IOVECS || (iovecs > 0 && chunk % (size_t)iovecs != 0)) {
        fprintf(stderr, "netbench: IOVECS must be 1…%d and divide CHUNK\n", MAX_IOVECS);
        return 2;
    }
    if (bytes % (long long)chunk != 0) {
        fprintf(stderr, "netbench: CHUNK must divide BYTES\n");
        return 2;
    }
    /* Piece i of message m is at regions[i] + (m % ring) * piece: IOVECS separate allocations
       (so not one contiguous range), each written once here so that no page fault is timed. */
    int pieces = iovecs > 0 ? iovecs : 1;
    size_t piece = chunk / (size_t)pieces;
    long long ring = iovecs > 0 && RING_BYTES / (long long)chunk > 1 ? RING_BYTES / (long long)chunk : 1;
    char *regions[MAX_IOVECS];
    struct iovec vectors[MAX_IOVECS];
    for (int i = 0; i < pieces; i++) {
        regions[i] = malloc(piece * (size_t)ring);
        if (regions[i] == NULL) fail("malloc");
        memset(regions[i], 'a' + i % 26, piece * (size_t)ring);
        vectors[i].iov_len = piece;
    }
    char *staged = staging ? malloc(chunk) : NULL;
    if (staging && staged == NULL) fail("malloc");

    int fd = tcp_connect(port);
    read_byte(fd);
    uint64_t start = now_ns(), copying = 0;
    for (long long message = 0; message < bytes / (long long)chunk; message++) {
        for (int i = 0; i < pieces; i++) vectors[i].iov_base = regions[i] + (size_t)(message % ring) * piece;
        if (staging) {
            uint64_t copy0 = now_ns();
            char *to = staged;
            for (int i = 0; i < pieces; i++) {
                memcpy(to, vectors[i].iov_base, vectors[i].iov_len);
                to += vectors[i].iov_len;
            }
            copying += now_ns() - copy0;
            send_all(fd, staged, chunk);
        } else if (iovecs > 0) {
            sendmsg_all(fd, vectors, iovecs);
        } else {
            send_all(fd, vectors[0].iov_base, chunk);
        }
    }
    read_byte(fd);
    uint64_t end = now_ns();
    close(fd);
    printf("send %lld %llu %llu\n", bytes, (unsigned long long)(end - start), (unsigned long long)copying);
    return 0;
}

static int receiver(uint16_t port, long long bytes, size_t chunk) {
    char *buffer = malloc(chunk);
    if (buffer == NULL) fail("malloc");
    int fd = tcp_connect(port);
    uint64_t start = now_ns();
    write_byte(fd);
    receive_all(fd, buffer, bytes, chunk, "recv");
    uint64_t end = now_ns();
    close(fd);
    printf("recv %lld %llu\n", bytes, (unsigned long long)(end - start));
    return 0;
}

/* Starts `self send PORT BYTES CHUNK` as a separate process; its id. */
static long start_sender(const char *self, uint16_t port, long long bytes, size_t chunk) {
    char port_text[16], bytes_text[24], chunk_text[24];
    snprintf(port_text, sizeof port_text, "%u", port);
    snprintf(bytes_text, sizeof bytes_text, "%lld", bytes);
    snprintf(chunk_text, sizeof chunk_text, "%zu", chunk);
#if defined(__wasm__)
    const char *argv[] = {self, "send", port_text, bytes_text, chunk_text};
    int32_t pid = 0;
    if (cloister_spawn(self, argv, 5, NULL, 0, NULL, 0, &pid) != 0) {
        fprintf(stderr, "netbench: cannot spawn %s\n", self);
        exit(1);
    }
    return pid;
#else
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) fail("fork");
    if (pid == 0) _exit(sender(port, bytes, chunk, 0, 0));
    return pid;
#endif
}

static int reap(long pid) {
#if defined(__wasm__)
    int32_t status = 0, reaped = 0;
    if (cloister_wait((int32_t)pid, &status, 0, &reaped) != 0) return 0;
    return CLOISTER_WIFEXITED(status) && CLOISTER_WEXITSTATUS(status) == 0;
#else
    int status = 0;
    if (waitpid((pid_t)pid, &status, 0) != (pid_t)pid) return 0;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
#endif
}

static int pair(const char *self, long long bytes, size_t chunk) {
    uint16_t port = 0;
    int server = tcp_listen(&port);
    long child = start_sender(self, port, bytes, chunk);
    int fd = accept(server, NULL, NULL);
    if (fd < 0) fail("accept");
    uint64_t elapsed = sink(fd, bytes, chunk);
    if (!reap(child)) {
        fprintf(stderr, "netbench: the sender failed\n");
        return 1;
    }
    close(fd);
    close(server);
    printf("tcp-pair %lld %llu\n", bytes, (unsigned long long)elapsed);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "tcp-pair") == 0) return pair(argv[0], atoll(argv[2]), (size_t)atoll(argv[3]));
    if (argc >= 5 && argc <= 7 && strcmp(argv[1], "send") == 0) {
        int staging = argc == 7 && strcmp(argv[6], "staging") == 0;
        if (argc == 7 && !staging) goto usage;
        return sender((uint16_t)atoi(argv[2]), atoll(argv[3]), (size_t)atoll(argv[4]), argc >= 6 ? atoi(argv[5]) : 0, staging);
    }
    if (argc == 5 && strcmp(argv[1], "recv") == 0) return receiver((uint16_t)atoi(argv[2]), atoll(argv[3]), (size_t)atoll(argv[4]));
usage:
    fprintf(stderr, "usage: netbench tcp-pair BYTES CHUNK | send PORT BYTES CHUNK [IOVECS [staging]] | recv PORT BYTES CHUNK\n");
    return 2;
}
