// escape: confinement checks for a hostfs mount at argv[1].
//
// Host-side layout prepared by the test (the guest sees only <host>/mnt, at argv[1]):
//   <host>/mnt/                      mounted at argv[1]
//   <host>/outside/secret.txt        must never be readable
//   <host>/mnt/abs_link -> <absolute host path>/outside/secret.txt
//   <host>/mnt/rel_link -> ../outside/secret.txt
//   <host>/mnt/dir_link -> ../outside
// Every escape attempt must fail; it prints "ok <check>" when refused (plus an
// "info <check> errno=N" line) and "FAIL <check>: ..." if the secret was reachable.
// Items the guest creates itself carry a random suffix and are removed at the end.
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

static int failures = 0;
#define OK(name) printf("ok %s\n", name)
#define FAIL(name, ...) do { printf("FAIL %s: ", name); printf(__VA_ARGS__); printf("\n"); failures++; } while (0)

#define ALL_RIGHTS ((__wasi_rights_t)((1ull << 30) - 1))
#define RO_RIGHTS (ALL_RIGHTS & ~__WASI_RIGHTS_FD_WRITE)
#define FOLLOW __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW

static __wasi_fd_t base;
static char dir[512];

static void refused(const char *check, int err) {
    OK(check);
    printf("info %s errno=%d\n", check, err);
}

// Reads what an fd gives (up to 63 bytes) for the failure message.
static void show(const char *check, __wasi_fd_t fd, const char *how) {
    char buf[64] = {0};
    __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf - 1};
    __wasi_size_t n = 0;
    (void)__wasi_fd_read(fd, &iov, 1, &n);
    FAIL(check, "%s succeeded, read %lu bytes: '%s'", how, n, buf);
}

// Raw path_open relative to the mount's directory fd (no libc path handling).
static void raw_open_refused(const char *check, const char *path, __wasi_lookupflags_t lf) {
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_path_open(base, lf, path, 0, RO_RIGHTS, 0, 0, &fd);
    if (e) { refused(check, e); return; }
    show(check, fd, path);
    (void)__wasi_fd_close(fd);
}

// libc open() of argv[1]/rel (resolved by wasi-libc through the preopens).
static void libc_open_refused(const char *check, const char *rel) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    int fd = open(path, O_RDONLY);
    if (fd < 0) { refused(check, errno); return; }
    show(check, (__wasi_fd_t)fd, path);
    close(fd);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) { printf("FAIL usage: escape DIR\n"); return 1; }
    snprintf(dir, sizeof dir, "%s", argv[1]);
    int bfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (bfd < 0) { printf("FAIL open_base: %s errno=%d\n", dir, errno); return 1; }
    base = (__wasi_fd_t)bfd;

    uint8_t rnd[4];
    (void)__wasi_random_get(rnd, sizeof rnd);
    char sfx[16], sub[64], file[64], inner[64], glink[64], gdir[64], gabs[64], hl[64], created[128];
    snprintf(sfx, sizeof sfx, "%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
    snprintf(sub, sizeof sub, "sub.%s", sfx);
    snprintf(file, sizeof file, "file.%s.txt", sfx);
    snprintf(inner, sizeof inner, "inner_link.%s", sfx);
    snprintf(glink, sizeof glink, "g_link.%s", sfx);
    snprintf(gdir, sizeof gdir, "g_dir.%s", sfx);
    snprintf(gabs, sizeof gabs, "g_abs.%s", sfx);
    snprintf(hl, sizeof hl, "hardlink.%s", sfx);
    snprintf(created, sizeof created, "created.%s.txt", sfx);
    char path[256];
    __wasi_errno_t e;

    if (__wasi_path_create_directory(base, sub)) { printf("FAIL setup: mkdir %s\n", sub); return 1; }
    {
        __wasi_fd_t fd;
        e = __wasi_path_open(base, 0, file, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, ALL_RIGHTS, 0, 0, &fd);
        if (e) { printf("FAIL setup: create %s errno=%d\n", file, e); return 1; }
        __wasi_ciovec_t iov = {(const uint8_t *)"inner", 5};
        __wasi_size_t n;
        (void)__wasi_fd_write(fd, &iov, 1, &n);
        (void)__wasi_fd_close(fd);
    }

    // 1. plain ".." out of the mount
    raw_open_refused("dotdot_raw", "../outside/secret.txt", FOLLOW);
    libc_open_refused("dotdot_libc", "../outside/secret.txt");
    snprintf(path, sizeof path, "%s/../../outside/secret.txt", sub);
    raw_open_refused("sub_dotdot_raw", path, FOLLOW);
    libc_open_refused("sub_dotdot_libc", path);
    {
        __wasi_fd_t fd;
        e = __wasi_path_open(base, FOLLOW, "..", __WASI_OFLAGS_DIRECTORY, RO_RIGHTS, RO_RIGHTS, 0, &fd);
        if (e) refused("open_parent_dir", e);
        else { FAIL("open_parent_dir", "opened the parent of the mount"); (void)__wasi_fd_close(fd); }
    }

    // 2. absolute paths relative to the mount fd
    raw_open_refused("absolute_path_raw", "/etc/passwd", FOLLOW);
    raw_open_refused("absolute_outside_raw", "/outside/secret.txt", FOLLOW);

    // 3. host-made symlinks pointing outside
    raw_open_refused("abs_link", "abs_link", FOLLOW);
    libc_open_refused("abs_link_libc", "abs_link");
    raw_open_refused("rel_link", "rel_link", FOLLOW);
    libc_open_refused("rel_link_libc", "rel_link");
    raw_open_refused("dir_link", "dir_link/secret.txt", FOLLOW);
    libc_open_refused("dir_link_libc", "dir_link/secret.txt");
    {
        __wasi_filestat_t st;
        e = __wasi_path_filestat_get(base, FOLLOW, "rel_link", &st);
        if (e) refused("rel_link_stat_follow", e);
        else FAIL("rel_link_stat_follow", "stat through the link succeeded (size %llu)", (unsigned long long)st.size);
        // creating a file through a directory link that leads outside
        __wasi_fd_t fd;
        snprintf(path, sizeof path, "dir_link/%s", created);
        e = __wasi_path_open(base, FOLLOW, path, __WASI_OFLAGS_CREAT, ALL_RIGHTS, 0, 0, &fd);
        if (e) refused("dir_link_create", e);
        else { FAIL("dir_link_create", "created a file outside"); (void)__wasi_fd_close(fd); (void)__wasi_path_unlink_file(base, path); }
        e = __wasi_path_create_directory(base, "dir_link/newdir");
        if (e) refused("dir_link_mkdir", e);
        else { FAIL("dir_link_mkdir", "created a directory outside"); (void)__wasi_path_remove_directory(base, "dir_link/newdir"); }
    }

    // 4. guest-made symlinks pointing outside: creating may succeed, following must not
    e = __wasi_path_symlink("../outside/secret.txt", base, glink);
    printf("info g_link_create errno=%d\n", e);
    raw_open_refused("g_link", glink, FOLLOW);
    libc_open_refused("g_link_libc", glink);
    e = __wasi_path_symlink("..", base, gdir);
    printf("info g_dir_create errno=%d\n", e);
    snprintf(path, sizeof path, "%s/outside/secret.txt", gdir);
    raw_open_refused("g_dir_link", path, FOLLOW);
    e = __wasi_path_symlink("/etc/passwd", base, gabs);
    printf("info g_abs_create errno=%d\n", e);
    raw_open_refused("g_abs_link", gabs, FOLLOW);

    // 5. hard link from outside into the mount
    e = __wasi_path_link(base, 0, "../outside/secret.txt", base, hl);
    if (e) refused("hardlink_in_raw", e);
    else { FAIL("hardlink_in_raw", "linked the secret inside"); (void)__wasi_path_unlink_file(base, hl); }
    e = __wasi_path_link(base, FOLLOW, "rel_link", base, hl);
    if (e) refused("hardlink_in_via_symlink", e);
    else { FAIL("hardlink_in_via_symlink", "linked the secret inside"); (void)__wasi_path_unlink_file(base, hl); }
    {
        char from[1024], to[1024];
        snprintf(from, sizeof from, "%s/../outside/secret.txt", dir);
        snprintf(to, sizeof to, "%s/%s", dir, hl);
        if (link(from, to) != 0) refused("hardlink_in_libc", errno);
        else { FAIL("hardlink_in_libc", "linked the secret inside"); unlink(to); }
    }
    // and a hard link from inside to outside
    e = __wasi_path_link(base, 0, file, base, "../leaked.txt");
    if (e) refused("hardlink_out_raw", e);
    else FAIL("hardlink_out_raw", "linked a file outside the mount");

    // 6. rename out of the mount
    e = __wasi_path_rename(base, file, base, "../moved");
    if (e) refused("rename_out_raw", e);
    else { FAIL("rename_out_raw", "moved a file outside the mount"); (void)__wasi_path_rename(base, "../moved", base, file); }
    {
        char from[1024], to[1024];
        snprintf(from, sizeof from, "%s/%s", dir, file);
        snprintf(to, sizeof to, "%s/../moved", dir);
        if (rename(from, to) != 0) refused("rename_out_libc", errno);
        else { FAIL("rename_out_libc", "moved a file outside the mount"); rename(to, from); }
    }
    e = __wasi_path_rename(base, "../outside/secret.txt", base, "stolen.txt");
    if (e) refused("rename_in_raw", e);
    else FAIL("rename_in_raw", "moved the secret inside");

    // 7. a normal relative symlink inside the mount works
    e = __wasi_path_symlink(file, base, inner);
    if (e) FAIL("inner_link_create", "errno=%d", e);
    else {
        OK("inner_link_create");
        __wasi_fd_t fd;
        e = __wasi_path_open(base, FOLLOW, inner, 0, RO_RIGHTS, 0, 0, &fd);
        if (e) FAIL("inner_link_open", "errno=%d", e);
        else {
            char buf[16] = {0};
            __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf - 1};
            __wasi_size_t n = 0;
            e = __wasi_fd_read(fd, &iov, 1, &n);
            if (e || n != 5 || strcmp(buf, "inner") != 0) FAIL("inner_link_open", "errno=%d read '%s'", e, buf);
            else OK("inner_link_open");
            (void)__wasi_fd_close(fd);
        }
        char p2[1024];
        snprintf(p2, sizeof p2, "%s/%s", dir, inner);
        int lfd = open(p2, O_RDONLY);
        if (lfd < 0) FAIL("inner_link_libc", "errno=%d", errno);
        else { OK("inner_link_libc"); close(lfd); }
        // a link that goes down and back up but stays inside also works
        snprintf(path, sizeof path, "%s/../%s", sub, file);
        e = __wasi_path_open(base, FOLLOW, path, 0, RO_RIGHTS, 0, 0, &fd);
        if (e) FAIL("inner_dotdot_open", "errno=%d", e);
        else { OK("inner_dotdot_open"); (void)__wasi_fd_close(fd); }
    }

    // the file that rename tried to move is still inside
    {
        __wasi_filestat_t st;
        e = __wasi_path_filestat_get(base, 0, file, &st);
        if (e) FAIL("file_still_inside", "errno=%d", e); else OK("file_still_inside");
    }

    // cleanup
    (void)__wasi_path_unlink_file(base, inner);
    (void)__wasi_path_unlink_file(base, glink);
    (void)__wasi_path_unlink_file(base, gdir);
    (void)__wasi_path_unlink_file(base, gabs);
    (void)__wasi_path_unlink_file(base, file);
    (void)__wasi_path_remove_directory(base, sub);
    close(bfd);
    return failures ? 1 : 0;
}
