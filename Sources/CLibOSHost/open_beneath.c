#define _GNU_SOURCE
#include "cloister_host.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

struct cloister_open_how { uint64_t flags; uint64_t mode; uint64_t resolve; };
#define CLOISTER_RESOLVE_NO_MAGICLINKS 0x02
#define CLOISTER_RESOLVE_NO_SYMLINKS 0x04
#define CLOISTER_RESOLVE_BENEATH 0x08

static int open_by_walking(int dirfd, const char *path, int flags, uint32_t mode) {
    char *copy = strdup(path);
    if (!copy) { errno = ENOMEM; return -1; }
    int current = dup(dirfd);
    if (current < 0) { free(copy); return -1; }
    char *save = NULL;
    char *part = strtok_r(copy, "/", &save);
    while (part) {
        char *next = strtok_r(NULL, "/", &save);
        if (strcmp(part, "..") == 0) { close(current); free(copy); errno = EXDEV; return -1; }
        if (strcmp(part, ".") != 0) {
            int fd = next ? openat(current, part, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                          : openat(current, part, flags | O_NOFOLLOW | O_CLOEXEC, mode);
            int saved = errno;
            close(current);
            if (fd < 0) { free(copy); errno = saved; return -1; }
            current = fd;
        } else if (!next) {
            int fd = openat(current, ".", flags | O_CLOEXEC, mode);
            int saved = errno;
            close(current);
            free(copy);
            errno = saved;
            return fd;
        }
        part = next;
    }
    free(copy);
    return current;
}

int cloister_host_open_beneath(int dirfd, const char *path, int flags, uint32_t mode) {
    static int openat2_missing = 0;
    if (path[0] == '/') { errno = EXDEV; return -1; }
    if (!openat2_missing) {
        struct cloister_open_how how;
        memset(&how, 0, sizeof how);
        how.flags = (uint64_t)(flags | O_CLOEXEC);
        how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
        how.resolve = CLOISTER_RESOLVE_BENEATH | CLOISTER_RESOLVE_NO_SYMLINKS | CLOISTER_RESOLVE_NO_MAGICLINKS;
        long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        if (fd >= 0 || (errno != ENOSYS && errno != EPERM)) return (int)fd;
        if (errno == ENOSYS) openat2_missing = 1;
        if (errno == EPERM) return -1;
    }
    return open_by_walking(dirfd, path, flags, mode);
}
