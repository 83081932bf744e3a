#define _GNU_SOURCE
#include "cloister_host.h"
#include <errno.h>
#include <sys/random.h>

int cloister_host_random(void *buffer, unsigned long length) {
    unsigned char *bytes = buffer;
    unsigned long filled = 0;
    while (filled < length) {
        ssize_t result = getrandom(bytes + filled, length - filled, 0);
        if (result < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        filled += (unsigned long)result;
    }
    return 0;
}
