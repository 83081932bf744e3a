/* A function payload (WASI command) that fetches over TCP, for the platform's network-approval
 * tests. Its arguments are `host <IPv4 address> port <port>`: it connects there, reads until the
 * peer closes, writes what it read to its output "reply", and prints how many bytes that was. A
 * refused connect ends it with status 1 and the reason on standard error, as ordinary C code would. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cloister_socket.h"

int main(int argc, char *argv[]) {
    const char *host = NULL, *port = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "host") == 0) host = argv[i + 1];
        if (strcmp(argv[i], "port") == 0) port = argv[i + 1];
    }
    if (!host || !port) {
        fprintf(stderr, "usage: host <address> port <port>\n");
        return 2;
    }
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(port))};
    if (inet_pton(AF_INET, host, &address.sin_addr) != 1) {
        fprintf(stderr, "not an IPv4 address: %s\n", host);
        return 2;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        fprintf(stderr, "socket: %s\n", strerror(errno));
        return 1;
    }
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        fprintf(stderr, "connect to %s:%s: %s\n", host, port, strerror(errno));
        return 1;
    }
    FILE *reply = fopen("/outputs/reply", "w");
    if (!reply) {
        fprintf(stderr, "cannot open /outputs/reply: %s\n", strerror(errno));
        return 1;
    }
    char buffer[4096];
    long total = 0;
    for (;;) {
        ssize_t got = recv(fd, buffer, sizeof buffer, 0);
        if (got < 0) {
            fprintf(stderr, "recv: %s\n", strerror(errno));
            return 1;
        }
        if (got == 0) break;
        fwrite(buffer, 1, (size_t)got, reply);
        total += got;
    }
    fclose(reply);
    close(fd);
    printf("fetched %ld bytes\n", total);
    return 0;
}
