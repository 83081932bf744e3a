// Socket calls Swift's Glibc module does not import (accept4 needs _GNU_SOURCE).
#define _GNU_SOURCE
#include <sys/socket.h>

#include "cloister_host.h"

int cloister_host_accept(int fd, void *address, uint32_t *length) {
    socklen_t size = *length;
    int accepted = accept4(fd, (struct sockaddr *)address, &size, SOCK_NONBLOCK | SOCK_CLOEXEC);
    *length = size;
    return accepted;
}
