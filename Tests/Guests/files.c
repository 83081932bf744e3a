// files: one file operation per run, for tests that set the stage on the host between runs.
//
//   files write PATH TEXT      creates or truncates PATH with TEXT
//   files read PATH            prints the contents of PATH
//   files rename FROM TO       renames
//   files rename-open FROM TO  opens FROM, renames it to TO, writes "+" through the open file, closes
//   files link FROM TO         hard link
//   files mkdir PATH
//   files settimes PATH        opens PATH read-only and sets its times through the descriptor
//   files stat DIR NAME...     prints each NAME's size and times as path_filestat_get and
//                              fd_filestat_get give them (raw WASI nanoseconds)
//   files grow PATH BYTES      opens PATH (created) and sets its size with fd_filestat_set_size
//
// Prints "ok" or "errno=N" (the WASI errno) and exits with that errno (0 on success).
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

// wasi-libc's errno values are WASI's.
static int fail(void) {
    int e = errno;  // printf may change errno
    printf("errno=%d\n", e);
    return e;
}

static int done(__wasi_errno_t e) {
    if (e) { printf("errno=%d\n", e); return e; }
    printf("ok\n");
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) { printf("usage\n"); return 100; }
    const char *op = argv[1], *path = argv[2];
    if (!strcmp(op, "write") && argc > 3) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) return fail();
        size_t n = strlen(argv[3]);
        if (write(fd, argv[3], n) != (ssize_t)n) return fail();
        if (close(fd)) return fail();
        return done(0);
    }
    if (!strcmp(op, "read")) {
        int fd = open(path, O_RDONLY);
        if (fd < 0) return fail();
        char buffer[4096];
        ssize_t n = read(fd, buffer, sizeof buffer);
        if (n < 0) return fail();
        printf("%.*s\n", (int)n, buffer);
        close(fd);
        return 0;
    }
    if (!strcmp(op, "rename") && argc > 3) return rename(path, argv[3]) ? fail() : done(0);
    if (!strcmp(op, "rename-open") && argc > 3) {
        int fd = open(path, O_WRONLY | O_APPEND);
        if (fd < 0) return fail();
        if (rename(path, argv[3])) return fail();
        if (write(fd, "+", 1) != 1) return fail();
        if (close(fd)) return fail();
        return done(0);
    }
    if (!strcmp(op, "link") && argc > 3) return link(path, argv[3]) ? fail() : done(0);
    if (!strcmp(op, "mkdir")) return mkdir(path, 0755) ? fail() : done(0);
    if (!strcmp(op, "settimes")) {
        int fd = open(path, O_RDONLY);
        if (fd < 0) return fail();
        return done(__wasi_fd_filestat_set_times(fd, 0, 1000000000ull, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    }
    if (!strcmp(op, "stat")) {
        int dir = open(path, O_RDONLY | O_DIRECTORY);
        if (dir < 0) return fail();
        for (int i = 3; i < argc; i++) {
            __wasi_filestat_t st;
            __wasi_errno_t e = __wasi_path_filestat_get(dir, 0, argv[i], &st);
            if (e) { printf("%s errno=%d\n", argv[i], e); continue; }
            printf("%s size=%llu atim=%llu mtim=%llu\n", argv[i], (unsigned long long)st.size, (unsigned long long)st.atim,
                   (unsigned long long)st.mtim);
            __wasi_fd_t fd;
            e = __wasi_path_open(dir, 0, argv[i], 0, __WASI_RIGHTS_FD_FILESTAT_GET | __WASI_RIGHTS_FD_READ, 0, 0, &fd);
            if (e) { printf("%s open errno=%d\n", argv[i], e); continue; }
            e = __wasi_fd_filestat_get(fd, &st);
            if (e) printf("%s fd errno=%d\n", argv[i], e);
            else printf("%s fd mtim=%llu\n", argv[i], (unsigned long long)st.mtim);
            (void)__wasi_fd_close(fd);
        }
        return 0;
    }
    if (!strcmp(op, "grow") && argc > 3) {
        int fd = open(path, O_RDWR | O_CREAT, 0644);
        if (fd < 0) return fail();
        __wasi_errno_t e = __wasi_fd_filestat_set_size(fd, strtoull(argv[3], NULL, 10));
        close(fd);
        return done(e);
    }
    printf("usage\n");
    return 100;
}
