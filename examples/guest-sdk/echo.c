// An echo server and its client over TCP, written with the ordinary BSD socket calls of the
// guest SDK's socket library (cloister_socket.h) — the seed's client/server pair.
//
//   echo server          listens on 127.0.0.1 at a port the host picks, spawns `echo client PORT`
//                        as its child, echoes what it sends, and reaps it
//   echo serve-once      prints "port N", echoes one connection until it ends (a host client)
//   echo client PORT     sends three lines to 127.0.0.1:PORT and checks each comes back
//
// The instance's Cloister.json must allow it (docs/libos.md, "Net"):
//   "network": { "listen": [{ "address": "127.0.0.1", "port": 0 }],
//                "connect": [{ "host": "127.0.0.1/32", "port": 0 }] }
// Build: as spawn_pipe.c (scripts/build-guests.sh builds every example).
#include <cloister_socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int listen_on_loopback(uint16_t *port) {
    int server = socket(AF_INET, SOCK_STREAM, 0);
    if (server < 0) { perror("socket"); return -1; }
    int one = 1;
    setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = 0};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(server, (struct sockaddr *)&address, sizeof address) < 0) { perror("bind"); return -1; }
    if (listen(server, 16) < 0) { perror("listen"); return -1; }
    socklen_t length = sizeof address;
    if (getsockname(server, (struct sockaddr *)&address, &length) < 0) { perror("getsockname"); return -1; }
    *port = ntohs(address.sin_port);
    return server;
}

/* Echoes everything read from `connection` until the peer shuts down; the bytes echoed. */
static long echo(int connection) {
    char buffer[4096];
    long total = 0;
    for (;;) {
        ssize_t count = recv(connection, buffer, sizeof buffer, 0);
        if (count < 0) { perror("recv"); return -1; }
        if (count == 0) return total;
        for (ssize_t sent = 0; sent < count;) {
            ssize_t step = send(connection, buffer + sent, (size_t)(count - sent), 0);
            if (step < 0) { perror("send"); return -1; }
            sent += step;
        }
        total += count;
    }
}

static int client(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0) { perror("connect"); return 1; }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const char *lines[] = {"hello from the guest client\n", "a second line\n", "and the last one\n"};
    for (int i = 0; i < 3; i++) {
        size_t length = strlen(lines[i]);
        if (send(fd, lines[i], length, 0) != (ssize_t)length) { perror("send"); return 1; }
        char back[128] = {0};
        if (recv(fd, back, length, MSG_WAITALL) != (ssize_t)length || memcmp(back, lines[i], length) != 0) {
            printf("echo client: line %d came back wrong: %s\n", i, back);
            return 1;
        }
    }
    shutdown(fd, SHUT_WR);
    char rest;
    if (recv(fd, &rest, 1, 0) != 0) { printf("echo client: no end of stream\n"); return 1; }
    close(fd);
    printf("echo client: 3 lines echoed\n");
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "client") == 0) return client((uint16_t)atoi(argv[2]));
    uint16_t port = 0;
    int server = listen_on_loopback(&port);
    if (server < 0) return 1;
    if (argc == 2 && strcmp(argv[1], "serve-once") == 0) {
        printf("port %u\n", port);
        fflush(stdout);
        int connection = accept(server, NULL, NULL);
        if (connection < 0) { perror("accept"); return 1; }
        long total = echo(connection);
        close(connection);
        printf("echoed %ld bytes\n", total);
        return total < 0;
    }
    if (argc == 2 && strcmp(argv[1], "server") == 0) {
        char port_text[16];
        snprintf(port_text, sizeof port_text, "%u", port);
        const char *child_argv[] = {argv[0], "client", port_text};
        int32_t child = 0;
        if (cloister_spawn(argv[0], child_argv, 3, NULL, 0, NULL, 0, &child) != 0) { printf("spawn failed\n"); return 1; }
        struct sockaddr_in peer;
        socklen_t length = sizeof peer;
        int connection = accept(server, (struct sockaddr *)&peer, &length);
        if (connection < 0) { perror("accept"); return 1; }
        char peer_text[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &peer.sin_addr, peer_text, sizeof peer_text);
        long total = echo(connection);
        close(connection);  // the client waits for the end of the stream
        int32_t status = 0, reaped = 0;
        cloister_wait(child, &status, 0, &reaped);
        printf("echo server: echoed %ld bytes to %s, client exited %d\n", total, peer_text, CLOISTER_WEXITSTATUS(status));
        return total > 0 && CLOISTER_WIFEXITED(status) && CLOISTER_WEXITSTATUS(status) == 0 ? 0 : 1;
    }
    fprintf(stderr, "usage: echo server | serve-once | client PORT\n");
    return 2;
}
