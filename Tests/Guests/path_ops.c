// path_ops: the path_* family of WASI calls inside argv[1].
//
// Works in a fresh subfolder argv[1]/path_ops.<random> and removes it at the end.
// Prints "ok <check>" or "FAIL <check>: <detail>" per check; exits 1 if any check failed.
// Expected errnos are what wasmtime 49 returns (comments mark the surprising ones).
// Optional argv[2] "wasmtime": accept wasmtime's ENOTSUP for the DSYNC/RSYNC/SYNC fdflags;
// "sefs": a sefs mount binds each file to its path, so hard links are refused (EPERM).
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

static int failures = 0;
#define OK(name) printf("ok %s\n", name)
#define FAIL(name, ...) do { printf("FAIL %s: ", name); printf(__VA_ARGS__); printf("\n"); failures++; } while (0)
#define EXPECT_ERR(name, expr, want) do { \
        __wasi_errno_t e_ = (expr); \
        if (e_ != (want)) FAIL(name, "errno=%d want %d", e_, (int)(want)); else OK(name); \
    } while (0)
#define EXPECT_OK(name, expr) EXPECT_ERR(name, expr, 0)

#define ALL_RIGHTS ((__wasi_rights_t)((1ull << 30) - 1))
// Directories must be opened without FD_WRITE: wasmtime answers EISDIR otherwise.
#define DIR_RIGHTS (ALL_RIGHTS & ~__WASI_RIGHTS_FD_WRITE)
#define RO_RIGHTS (ALL_RIGHTS & ~__WASI_RIGHTS_FD_WRITE)
#define FOLLOW __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW

static __wasi_fd_t wd; // the work directory
// argv[2] == "wasmtime": expect wasmtime 49's ENOTSUP for the DSYNC/RSYNC/SYNC fdflags
// instead of success.
static int wasmtime_mode = 0;
// argv[2] == "sefs": hard links are EPERM (a file bound to one path cannot have two).
static int sefs_mode = 0;

static __wasi_errno_t ropen(const char *path, __wasi_oflags_t oflags, __wasi_rights_t rights,
                            __wasi_fdflags_t fdflags, __wasi_fd_t *fd) {
    return __wasi_path_open(wd, FOLLOW, path, oflags, rights, ALL_RIGHTS, fdflags, fd);
}

// Opens (and closes) path with the given flags; returns the errno.
static __wasi_errno_t try_open(const char *path, __wasi_oflags_t oflags, __wasi_rights_t rights, __wasi_fdflags_t fdflags) {
    __wasi_fd_t fd;
    __wasi_errno_t e = ropen(path, oflags, rights, fdflags, &fd);
    if (!e) (void)__wasi_fd_close(fd);
    return e;
}

static __wasi_errno_t rwrite(__wasi_fd_t fd, const void *buf, size_t len) {
    __wasi_ciovec_t iov = {buf, len};
    __wasi_size_t n;
    __wasi_errno_t e = __wasi_fd_write(fd, &iov, 1, &n);
    if (!e && n != len) e = __WASI_ERRNO_IO;
    return e;
}

// Reads the whole file at path (relative to wd) into buf (NUL-terminated); returns length or -errno.
static long slurp(const char *path, char *buf, size_t cap) {
    __wasi_fd_t fd;
    __wasi_errno_t e = ropen(path, 0, RO_RIGHTS, 0, &fd);
    if (e) return -(long)e;
    size_t total = 0;
    for (;;) {
        __wasi_iovec_t iov = {(uint8_t *)buf + total, cap - 1 - total};
        __wasi_size_t n;
        e = __wasi_fd_read(fd, &iov, 1, &n);
        if (e) { (void)__wasi_fd_close(fd); return -(long)e; }
        if (n == 0) break;
        total += n;
        if (total == cap - 1) break;
    }
    buf[total] = 0;
    (void)__wasi_fd_close(fd);
    return (long)total;
}

static __wasi_errno_t put(const char *path, const char *content) {
    __wasi_fd_t fd;
    __wasi_errno_t e = ropen(path, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, ALL_RIGHTS, 0, &fd);
    if (e) return e;
    e = rwrite(fd, content, strlen(content));
    (void)__wasi_fd_close(fd);
    return e;
}

static void expect_content(const char *check, const char *path, const char *want) {
    char buf[256];
    long n = slurp(path, buf, sizeof buf);
    if (n < 0) FAIL(check, "open %s errno=%ld", path, -n);
    else if (strcmp(buf, want) != 0) FAIL(check, "%s contains '%s' want '%s'", path, buf, want);
    else OK(check);
}

static int exists(const char *path) {
    __wasi_filestat_t st;
    return __wasi_path_filestat_get(wd, 0, path, &st) == 0;
}

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

// ---------------------------------------------------------------------------------------

static void test_open(void) {
    __wasi_fd_t fd;
    __wasi_errno_t e;
    __wasi_fdstat_t st;

    EXPECT_OK("open_creat_new", try_open("f1", __WASI_OFLAGS_CREAT, ALL_RIGHTS, 0));
    if (!exists("f1")) FAIL("open_creat_new_exists", "f1 missing"); else OK("open_creat_new_exists");
    if (put("f1", "content")) FAIL("put_f1", "failed");
    EXPECT_OK("open_creat_existing", try_open("f1", __WASI_OFLAGS_CREAT, ALL_RIGHTS, 0));
    expect_content("open_creat_existing_keeps_content", "f1", "content");
    EXPECT_ERR("open_creat_excl_existing_eexist", try_open("f1", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, ALL_RIGHTS, 0), __WASI_ERRNO_EXIST);
    EXPECT_OK("open_creat_excl_new", try_open("f2", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, ALL_RIGHTS, 0));
    EXPECT_ERR("open_missing_enoent", try_open("nope", 0, ALL_RIGHTS, 0), __WASI_ERRNO_NOENT);
    EXPECT_ERR("open_missing_parent_enoent", try_open("nodir/f", __WASI_OFLAGS_CREAT, ALL_RIGHTS, 0), __WASI_ERRNO_NOENT);
    EXPECT_ERR("open_empty_path_enoent", try_open("", 0, RO_RIGHTS, 0), __WASI_ERRNO_NOENT);

    // TRUNC
    if (put("f3", "0123456789")) FAIL("put_f3", "failed");
    EXPECT_OK("open_trunc", try_open("f3", __WASI_OFLAGS_TRUNC, ALL_RIGHTS, 0));
    {
        __wasi_filestat_t fs;
        e = __wasi_path_filestat_get(wd, FOLLOW, "f3", &fs);
        if (e || fs.size != 0) FAIL("open_trunc_size0", "errno=%d size=%llu", e, (unsigned long long)fs.size); else OK("open_trunc_size0");
    }

    // DIRECTORY
    if (__wasi_path_create_directory(wd, "d1")) FAIL("mkdir_d1", "failed");
    e = ropen("d1", __WASI_OFLAGS_DIRECTORY, DIR_RIGHTS, 0, &fd);
    if (e) FAIL("open_directory", "errno=%d", e);
    else {
        e = __wasi_fd_fdstat_get(fd, &st);
        if (e || st.fs_filetype != __WASI_FILETYPE_DIRECTORY) FAIL("open_directory", "fdstat errno=%d type=%d", e, st.fs_filetype);
        else OK("open_directory");
        (void)__wasi_fd_close(fd);
    }
    EXPECT_OK("open_dir_without_directory_flag", try_open("d1", 0, DIR_RIGHTS, 0));
    EXPECT_ERR("open_directory_on_file_enotdir", try_open("f1", __WASI_OFLAGS_DIRECTORY, DIR_RIGHTS, 0), __WASI_ERRNO_NOTDIR);
    EXPECT_ERR("open_file_trailing_slash_enotdir", try_open("f1/", 0, RO_RIGHTS, 0), __WASI_ERRNO_NOTDIR);
    EXPECT_ERR("open_dir_for_write_eisdir", try_open("d1", 0, ALL_RIGHTS, 0), __WASI_ERRNO_ISDIR);
    EXPECT_ERR("open_dir_trunc_eisdir", try_open("d1", __WASI_OFLAGS_TRUNC, ALL_RIGHTS, 0), __WASI_ERRNO_ISDIR);
    EXPECT_ERR("open_creat_excl_on_dir_eexist", try_open("d1", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, ALL_RIGHTS, 0), __WASI_ERRNO_EXIST);
    EXPECT_ERR("open_directory_missing_enoent", try_open("nodir", __WASI_OFLAGS_DIRECTORY, DIR_RIGHTS, 0), __WASI_ERRNO_NOENT);
    EXPECT_OK("open_dotdot_inside", try_open("d1/../f1", 0, RO_RIGHTS, 0));
    EXPECT_OK("open_dot_directory", try_open(".", __WASI_OFLAGS_DIRECTORY, DIR_RIGHTS, 0));

    // fdflags
    if (put("f4", "abc")) FAIL("put_f4", "failed");
    e = ropen("f4", 0, ALL_RIGHTS, __WASI_FDFLAGS_APPEND, &fd);
    if (e) FAIL("open_append", "errno=%d", e);
    else {
        e = __wasi_fd_fdstat_get(fd, &st);
        if (e || !(st.fs_flags & __WASI_FDFLAGS_APPEND)) FAIL("open_append", "errno=%d flags=%d", e, st.fs_flags);
        else OK("open_append");
        e = rwrite(fd, "def", 3);
        if (e) FAIL("open_append_write", "errno=%d", e);
        (void)__wasi_fd_close(fd);
        expect_content("open_append_content", "f4", "abcdef");
    }
    struct { const char *name; __wasi_fdflags_t flag; } fl[] = {
        {"open_fdflag_dsync", __WASI_FDFLAGS_DSYNC},
        {"open_fdflag_nonblock", __WASI_FDFLAGS_NONBLOCK},
        {"open_fdflag_rsync", __WASI_FDFLAGS_RSYNC},
        {"open_fdflag_sync", __WASI_FDFLAGS_SYNC},
    };
    for (size_t i = 0; i < sizeof fl / sizeof fl[0]; i++) {
        e = ropen("f4", 0, ALL_RIGHTS, fl[i].flag, &fd);
        if (wasmtime_mode && fl[i].flag != __WASI_FDFLAGS_NONBLOCK) {
            // wasmtime 49 refuses DSYNC, RSYNC and SYNC with ENOTSUP
            char check[64];
            snprintf(check, sizeof check, "%s_enotsup_wasmtime", fl[i].name);
            if (!e) (void)__wasi_fd_close(fd);
            if (e != __WASI_ERRNO_NOTSUP) FAIL(check, "errno=%d want %d", e, __WASI_ERRNO_NOTSUP); else OK(check);
            if (fl[i].flag == __WASI_FDFLAGS_SYNC) { // keep the content check below meaningful
                if (ropen("f4", 0, ALL_RIGHTS, 0, &fd) == 0) { (void)rwrite(fd, "x", 1); (void)__wasi_fd_close(fd); }
            }
            continue;
        }
        if (e) { FAIL(fl[i].name, "errno=%d", e); continue; }
        e = __wasi_fd_fdstat_get(fd, &st);
        if (e || !(st.fs_flags & fl[i].flag)) FAIL(fl[i].name, "fdstat errno=%d flags=%d want bit %d", e, st.fs_flags, fl[i].flag);
        else if (rwrite(fd, "x", 1)) FAIL(fl[i].name, "write failed");
        else OK(fl[i].name);
        (void)__wasi_fd_close(fd);
    }
    expect_content("open_fdflags_writes", "f4", "xbcdef");

    // a read-only open of a file: write refused
    e = ropen("f4", 0, RO_RIGHTS, 0, &fd);
    if (e) FAIL("open_readonly", "errno=%d", e);
    else {
        EXPECT_ERR("open_readonly_write_ebadf", rwrite(fd, "y", 1), __WASI_ERRNO_BADF);
        (void)__wasi_fd_close(fd);
    }
}

static void test_dirs(void) {
    EXPECT_OK("mkdir", __wasi_path_create_directory(wd, "d2"));
    EXPECT_ERR("mkdir_existing_eexist", __wasi_path_create_directory(wd, "d2"), __WASI_ERRNO_EXIST);
    EXPECT_ERR("mkdir_on_file_eexist", __wasi_path_create_directory(wd, "f1"), __WASI_ERRNO_EXIST);
    EXPECT_ERR("mkdir_missing_parent_enoent", __wasi_path_create_directory(wd, "nodir/sub"), __WASI_ERRNO_NOENT);
    EXPECT_OK("mkdir_nested", __wasi_path_create_directory(wd, "d2/sub"));
    if (put("d2/sub/file", "x")) FAIL("put_nested", "failed");

    EXPECT_ERR("rmdir_nonempty_enotempty", __wasi_path_remove_directory(wd, "d2"), __WASI_ERRNO_NOTEMPTY);
    EXPECT_ERR("rmdir_file_enotdir", __wasi_path_remove_directory(wd, "f1"), __WASI_ERRNO_NOTDIR);
    EXPECT_ERR("rmdir_missing_enoent", __wasi_path_remove_directory(wd, "nodir"), __WASI_ERRNO_NOENT);

    // unlinking a directory: wasmtime 49 gives EISDIR (Linux unlinkat gives EISDIR)
    EXPECT_ERR("unlink_dir_eisdir", __wasi_path_unlink_file(wd, "d2/sub"), __WASI_ERRNO_ISDIR);
    EXPECT_ERR("unlink_missing_enoent", __wasi_path_unlink_file(wd, "nope"), __WASI_ERRNO_NOENT);
    EXPECT_ERR("unlink_file_trailing_slash_enotdir", __wasi_path_unlink_file(wd, "f1/"), __WASI_ERRNO_NOTDIR);
    EXPECT_OK("unlink_file", __wasi_path_unlink_file(wd, "d2/sub/file"));
    if (exists("d2/sub/file")) FAIL("unlink_file_gone", "still there"); else OK("unlink_file_gone");
    EXPECT_OK("rmdir_empty", __wasi_path_remove_directory(wd, "d2/sub"));
    EXPECT_OK("rmdir_after_emptied", __wasi_path_remove_directory(wd, "d2"));
    if (exists("d2")) FAIL("rmdir_gone", "still there"); else OK("rmdir_gone");
}

static void test_rename(void) {
    if (put("r1", "r-one") || put("r2", "r-two")) { FAIL("rename_setup", "put failed"); return; }
    EXPECT_OK("rename_file", __wasi_path_rename(wd, "r1", wd, "r1b"));
    if (exists("r1")) FAIL("rename_file_old_gone", "r1 still exists"); else OK("rename_file_old_gone");
    expect_content("rename_file_content", "r1b", "r-one");

    EXPECT_OK("rename_onto_existing_file", __wasi_path_rename(wd, "r1b", wd, "r2"));
    expect_content("rename_onto_existing_content", "r2", "r-one");
    if (exists("r1b")) FAIL("rename_onto_existing_old_gone", "r1b still exists"); else OK("rename_onto_existing_old_gone");

    if (__wasi_path_create_directory(wd, "rd1") || put("rd1/inner", "in")) { FAIL("rename_dir_setup", "failed"); return; }
    EXPECT_OK("rename_dir", __wasi_path_rename(wd, "rd1", wd, "rd2"));
    expect_content("rename_dir_content", "rd2/inner", "in");
    if (exists("rd1")) FAIL("rename_dir_old_gone", "rd1 still exists"); else OK("rename_dir_old_gone");

    EXPECT_OK("rename_into_subdir", __wasi_path_rename(wd, "r2", wd, "rd2/r2"));
    expect_content("rename_into_subdir_content", "rd2/r2", "r-one");

    EXPECT_ERR("rename_missing_enoent", __wasi_path_rename(wd, "nope", wd, "nope2"), __WASI_ERRNO_NOENT);
    if (__wasi_path_create_directory(wd, "rd3")) FAIL("rename_setup_rd3", "failed");
    if (put("rf", "f")) FAIL("rename_setup_rf", "failed");
    // `file/` names a directory: a regular file there is ENOTDIR, on either side (Linux, wasmtime)
    EXPECT_ERR("rename_file_trailing_slash_enotdir", __wasi_path_rename(wd, "rf/", wd, "rf2"), __WASI_ERRNO_NOTDIR);
    EXPECT_ERR("rename_onto_trailing_slash_enotdir", __wasi_path_rename(wd, "rf", wd, "rf2/"), __WASI_ERRNO_NOTDIR);
    expect_content("rename_trailing_slash_left_file", "rf", "f");
    EXPECT_ERR("rename_file_onto_dir_eisdir", __wasi_path_rename(wd, "rf", wd, "rd3"), __WASI_ERRNO_ISDIR);
    EXPECT_ERR("rename_dir_onto_file_enotdir", __wasi_path_rename(wd, "rd3", wd, "rf"), __WASI_ERRNO_NOTDIR);
    EXPECT_ERR("rename_dir_onto_nonempty_dir_enotempty", __wasi_path_rename(wd, "rd3", wd, "rd2"), __WASI_ERRNO_NOTEMPTY);
    EXPECT_ERR("rename_dir_into_itself_einval", __wasi_path_rename(wd, "rd2", wd, "rd2/deeper"), __WASI_ERRNO_INVAL);
    if (__wasi_path_create_directory(wd, "rd4")) FAIL("rename_setup_rd4", "failed");
    EXPECT_OK("rename_dir_onto_empty_dir", __wasi_path_rename(wd, "rd3", wd, "rd4"));
    if (exists("rd3")) FAIL("rename_dir_onto_empty_dir_old_gone", "rd3 still exists"); else OK("rename_dir_onto_empty_dir_old_gone");

    (void)__wasi_path_unlink_file(wd, "rf");
    (void)__wasi_path_unlink_file(wd, "rd2/inner");
    (void)__wasi_path_unlink_file(wd, "rd2/r2");
    (void)__wasi_path_remove_directory(wd, "rd2");
    (void)__wasi_path_remove_directory(wd, "rd4");
}

static void test_link(void) {
    __wasi_filestat_t a, b;
    if (put("l1", "linked")) { FAIL("link_setup", "put failed"); return; }
    if (sefs_mode) {
        EXPECT_ERR("link_sefs_eperm", __wasi_path_link(wd, 0, "l1", wd, "l2"), __WASI_ERRNO_PERM);
        if (exists("l2")) FAIL("link_sefs_nothing_made", "l2 exists"); else OK("link_sefs_nothing_made");
        expect_content("link_sefs_source_intact", "l1", "linked");
        (void)__wasi_path_unlink_file(wd, "l1");
        return;
    }
    EXPECT_OK("link", __wasi_path_link(wd, 0, "l1", wd, "l2"));
    // A file opened through a link reports inheriting rights equal to its base rights, as
    // wasmtime does for every file, even when none were asked for.
    __wasi_fd_t lf;
    __wasi_fdstat_t ls;
    __wasi_errno_t le = __wasi_path_open(wd, 0, "l2", 0, RO_RIGHTS, 0, 0, &lf);
    if (le || __wasi_fd_fdstat_get(lf, &ls) || ls.fs_rights_inheriting != ls.fs_rights_base || ls.fs_rights_base == 0)
        FAIL("link_fdstat_inheriting_is_base", "errno=%d base=%llx inheriting=%llx", le, (unsigned long long)ls.fs_rights_base,
             (unsigned long long)ls.fs_rights_inheriting);
    else OK("link_fdstat_inheriting_is_base");
    if (!le) (void)__wasi_fd_close(lf);
    expect_content("link_same_content", "l2", "linked");
    __wasi_errno_t e1 = __wasi_path_filestat_get(wd, 0, "l1", &a), e2 = __wasi_path_filestat_get(wd, 0, "l2", &b);
    if (e1 || e2 || a.nlink != 2 || b.nlink != 2 || a.ino != b.ino)
        FAIL("link_nlink2_same_inode", "e=%d/%d nlink=%llu/%llu ino=%llu/%llu", e1, e2, (unsigned long long)a.nlink, (unsigned long long)b.nlink,
             (unsigned long long)a.ino, (unsigned long long)b.ino);
    else OK("link_nlink2_same_inode");

    // writing through one name is visible through the other
    if (put("l2", "changed")) FAIL("link_write", "put failed");
    expect_content("link_shared_data", "l1", "changed");

    EXPECT_ERR("link_target_exists_eexist", __wasi_path_link(wd, 0, "l1", wd, "l2"), __WASI_ERRNO_EXIST);
    EXPECT_ERR("link_missing_source_enoent", __wasi_path_link(wd, 0, "nope", wd, "l3"), __WASI_ERRNO_NOENT);
    if (__wasi_path_create_directory(wd, "ld")) FAIL("link_setup_dir", "failed");
    // hard links to directories: wasmtime 49 gives EPERM (Linux linkat gives EPERM)
    EXPECT_ERR("link_directory_eperm", __wasi_path_link(wd, 0, "ld", wd, "ld2"), __WASI_ERRNO_PERM);
    (void)__wasi_path_remove_directory(wd, "ld");

    EXPECT_OK("unlink_one_link", __wasi_path_unlink_file(wd, "l1"));
    e1 = __wasi_path_filestat_get(wd, 0, "l2", &b);
    if (e1 || b.nlink != 1) FAIL("link_nlink_after_unlink", "errno=%d nlink=%llu", e1, (unsigned long long)b.nlink); else OK("link_nlink_after_unlink");
    expect_content("link_survives_unlink", "l2", "changed");
    (void)__wasi_path_unlink_file(wd, "l2");
}

static void test_symlink(void) {
    char buf[64];
    __wasi_size_t n;
    __wasi_filestat_t st;
    __wasi_errno_t e;
    if (put("target.txt", "through the link")) { FAIL("symlink_setup", "put failed"); return; }
    EXPECT_OK("symlink", __wasi_path_symlink("target.txt", wd, "sl"));
    EXPECT_ERR("symlink_existing_eexist", __wasi_path_symlink("target.txt", wd, "sl"), __WASI_ERRNO_EXIST);
    // a link is never a directory: a destination ending in '/' fails (Linux: ENOENT, EEXIST)
    EXPECT_ERR("symlink_trailing_slash_enoent", __wasi_path_symlink("target.txt", wd, "sl2/"), __WASI_ERRNO_NOENT);
    if (exists("sl2")) FAIL("symlink_trailing_slash_nothing_made", "sl2 exists"); else OK("symlink_trailing_slash_nothing_made");
    EXPECT_ERR("symlink_trailing_slash_existing_eexist", __wasi_path_symlink("target.txt", wd, "sl/"), __WASI_ERRNO_EXIST);

    memset(buf, 0, sizeof buf);
    e = __wasi_path_readlink(wd, "sl", (uint8_t *)buf, sizeof buf, &n);
    if (e || n != 10 || memcmp(buf, "target.txt", 10) != 0) FAIL("readlink", "errno=%d n=%lu buf=%s", e, n, buf); else OK("readlink");
    // buffer too small: truncated to the buffer, no error
    memset(buf, 0, sizeof buf);
    e = __wasi_path_readlink(wd, "sl", (uint8_t *)buf, 4, &n);
    if (e || n != 4 || memcmp(buf, "targ", 4) != 0 || buf[4] != 0) FAIL("readlink_small_buffer_truncates", "errno=%d n=%lu buf=%s", e, n, buf);
    else OK("readlink_small_buffer_truncates");
    EXPECT_ERR("readlink_on_file_einval", __wasi_path_readlink(wd, "target.txt", (uint8_t *)buf, sizeof buf, &n), __WASI_ERRNO_INVAL);
    EXPECT_ERR("readlink_missing_enoent", __wasi_path_readlink(wd, "nope", (uint8_t *)buf, sizeof buf, &n), __WASI_ERRNO_NOENT);

    expect_content("open_through_symlink", "sl", "through the link");

    e = __wasi_path_filestat_get(wd, FOLLOW, "sl", &st);
    if (e || st.filetype != __WASI_FILETYPE_REGULAR_FILE || st.size != 16) FAIL("filestat_follow", "errno=%d type=%d size=%llu", e, st.filetype, (unsigned long long)st.size);
    else OK("filestat_follow");
    e = __wasi_path_filestat_get(wd, 0, "sl", &st);
    if (e || st.filetype != __WASI_FILETYPE_SYMBOLIC_LINK || st.size != 10) FAIL("filestat_nofollow", "errno=%d type=%d size=%llu", e, st.filetype, (unsigned long long)st.size);
    else OK("filestat_nofollow");

    // opening a symlink without SYMLINK_FOLLOW: ELOOP
    {
        __wasi_fd_t fd;
        e = __wasi_path_open(wd, 0, "sl", 0, RO_RIGHTS, 0, 0, &fd);
        if (!e) (void)__wasi_fd_close(fd);
        if (e != __WASI_ERRNO_LOOP) FAIL("open_symlink_nofollow_eloop", "errno=%d want %d", e, __WASI_ERRNO_LOOP); else OK("open_symlink_nofollow_eloop");
    }

    // dangling symlink: nofollow stat works, open fails ENOENT
    EXPECT_OK("symlink_dangling", __wasi_path_symlink("missing.txt", wd, "dangling"));
    e = __wasi_path_filestat_get(wd, 0, "dangling", &st);
    if (e || st.filetype != __WASI_FILETYPE_SYMBOLIC_LINK) FAIL("filestat_dangling_nofollow", "errno=%d type=%d", e, st.filetype); else OK("filestat_dangling_nofollow");
    EXPECT_ERR("open_dangling_enoent", try_open("dangling", 0, RO_RIGHTS, 0), __WASI_ERRNO_NOENT);

    // symlink to a directory, then a path through it
    if (__wasi_path_create_directory(wd, "sd") || put("sd/inner", "inner")) FAIL("symlink_dir_setup", "failed");
    EXPECT_OK("symlink_to_dir", __wasi_path_symlink("sd", wd, "sdl"));
    expect_content("open_through_dir_symlink", "sdl/inner", "inner");

    // unlink removes the link, not the target
    EXPECT_OK("unlink_symlink", __wasi_path_unlink_file(wd, "sl"));
    if (!exists("target.txt")) FAIL("unlink_symlink_keeps_target", "target gone"); else OK("unlink_symlink_keeps_target");
    // rmdir on a symlink to a directory is ENOTDIR
    EXPECT_ERR("rmdir_symlink_enotdir", __wasi_path_remove_directory(wd, "sdl"), __WASI_ERRNO_NOTDIR);
    EXPECT_OK("unlink_dir_symlink", __wasi_path_unlink_file(wd, "sdl"));

    (void)__wasi_path_unlink_file(wd, "dangling");
    (void)__wasi_path_unlink_file(wd, "sd/inner");
    (void)__wasi_path_remove_directory(wd, "sd");
    (void)__wasi_path_unlink_file(wd, "target.txt");
}

static void test_times(void) {
    __wasi_filestat_t st;
    __wasi_errno_t e;
    if (put("t1", "times")) { FAIL("times_setup", "put failed"); return; }
    const uint64_t atim = 1500000000ull * 1000000000ull + 111000000ull;
    const uint64_t mtim = 1550000000ull * 1000000000ull + 222000000ull;
    EXPECT_OK("path_filestat_set_times", __wasi_path_filestat_set_times(wd, FOLLOW, "t1", atim, mtim, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    e = __wasi_path_filestat_get(wd, FOLLOW, "t1", &st);
    if (e || st.atim != atim || st.mtim != mtim) FAIL("path_filestat_times", "errno=%d atim=%llu mtim=%llu", e, (unsigned long long)st.atim, (unsigned long long)st.mtim);
    else OK("path_filestat_times");

    uint64_t before = now_ns();
    EXPECT_OK("path_filestat_set_times_atim_now", __wasi_path_filestat_set_times(wd, FOLLOW, "t1", 0, 0, __WASI_FSTFLAGS_ATIM_NOW));
    e = __wasi_path_filestat_get(wd, FOLLOW, "t1", &st);
    if (e || st.mtim != mtim || st.atim + 10000000000ull < before || st.atim > before + 10000000000ull)
        FAIL("path_filestat_atim_now", "errno=%d atim=%llu mtim=%llu now=%llu", e, (unsigned long long)st.atim, (unsigned long long)st.mtim, (unsigned long long)before);
    else OK("path_filestat_atim_now");

    EXPECT_ERR("path_filestat_set_times_conflict_einval",
               __wasi_path_filestat_set_times(wd, FOLLOW, "t1", 1, 1, __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW), __WASI_ERRNO_INVAL);
    EXPECT_ERR("path_filestat_set_times_missing_enoent",
               __wasi_path_filestat_set_times(wd, FOLLOW, "nope", 0, 0, __WASI_FSTFLAGS_MTIM_NOW), __WASI_ERRNO_NOENT);
    EXPECT_ERR("path_filestat_get_missing_enoent", __wasi_path_filestat_get(wd, FOLLOW, "nope", &st), __WASI_ERRNO_NOENT);

    // directory stat
    e = __wasi_path_filestat_get(wd, FOLLOW, ".", &st);
    if (e || st.filetype != __WASI_FILETYPE_DIRECTORY) FAIL("path_filestat_dir", "errno=%d type=%d", e, st.filetype); else OK("path_filestat_dir");
    (void)__wasi_path_unlink_file(wd, "t1");
}

// The same operations through wasi-libc's POSIX layer (absolute paths resolved via preopens).
static void test_libc(const char *dir) {
    char a[512], b[512], buf[64];
    struct stat st;
    snprintf(a, sizeof a, "%s/libc_a", dir);
    snprintf(b, sizeof b, "%s/libc_b", dir);
    int fd = open(a, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) { FAIL("libc_open_creat", "errno=%d", errno); return; }
    OK("libc_open_creat");
    (void)write(fd, "libc", 4);
    close(fd);
    if (open(a, O_WRONLY | O_CREAT | O_EXCL, 0644) != -1 || errno != EEXIST) FAIL("libc_open_excl_eexist", "errno=%d", errno); else OK("libc_open_excl_eexist");
    if (stat(a, &st) != 0 || st.st_size != 4 || !S_ISREG(st.st_mode)) FAIL("libc_stat", "errno=%d", errno); else OK("libc_stat");
    if (rename(a, b) != 0) FAIL("libc_rename", "errno=%d", errno); else OK("libc_rename");
    if (sefs_mode) {
        if (link(b, a) != -1 || errno != EPERM) FAIL("libc_link_sefs_eperm", "errno=%d", errno); else OK("libc_link_sefs_eperm");
    } else {
        if (link(b, a) != 0) FAIL("libc_link", "errno=%d", errno); else OK("libc_link");
        if (stat(a, &st) != 0 || st.st_nlink != 2) FAIL("libc_link_nlink", "errno=%d nlink=%llu", errno, (unsigned long long)st.st_nlink); else OK("libc_link_nlink");
        unlink(a);
    }
    if (symlink("libc_b", a) != 0) FAIL("libc_symlink", "errno=%d", errno); else OK("libc_symlink");
    ssize_t n = readlink(a, buf, sizeof buf);
    if (n != 6 || memcmp(buf, "libc_b", 6) != 0) FAIL("libc_readlink", "n=%zd errno=%d", n, errno); else OK("libc_readlink");
    if (lstat(a, &st) != 0 || !S_ISLNK(st.st_mode)) FAIL("libc_lstat", "errno=%d", errno); else OK("libc_lstat");
    if (unlink(a) != 0 || unlink(b) != 0) FAIL("libc_unlink", "errno=%d", errno); else OK("libc_unlink");
    if (mkdir(a, 0755) != 0) FAIL("libc_mkdir", "errno=%d", errno); else OK("libc_mkdir");
    if (mkdir(a, 0755) != -1 || errno != EEXIST) FAIL("libc_mkdir_eexist", "errno=%d", errno); else OK("libc_mkdir_eexist");
    if (rmdir(a) != 0) FAIL("libc_rmdir", "errno=%d", errno); else OK("libc_rmdir");
    if (access(a, F_OK) != -1 || errno != ENOENT) FAIL("libc_access_enoent", "errno=%d", errno); else OK("libc_access_enoent");
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) { printf("FAIL usage: path_ops DIR\n"); return 1; }
    wasmtime_mode = argc > 2 && strcmp(argv[2], "wasmtime") == 0;
    sefs_mode = argc > 2 && strcmp(argv[2], "sefs") == 0;
    int base = open(argv[1], O_RDONLY | O_DIRECTORY);
    if (base < 0) { printf("FAIL open_base: %s errno=%d\n", argv[1], errno); return 1; }

    uint8_t rnd[4];
    if (__wasi_random_get(rnd, sizeof rnd)) { printf("FAIL random_get\n"); return 1; }
    char name[64], full[512];
    snprintf(name, sizeof name, "path_ops.%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
    snprintf(full, sizeof full, "%s/%s", argv[1], name);
    __wasi_errno_t e = __wasi_path_create_directory((__wasi_fd_t)base, name);
    if (e) { printf("FAIL mkdir_workdir: errno=%d\n", e); return 1; }
    e = __wasi_path_open((__wasi_fd_t)base, 0, name, __WASI_OFLAGS_DIRECTORY, DIR_RIGHTS, ALL_RIGHTS, 0, &wd);
    if (e) { printf("FAIL open_workdir: errno=%d\n", e); return 1; }

    test_open();
    test_dirs();
    test_rename();
    test_link();
    test_symlink();
    test_times();
    test_libc(full);

    const char *files[] = {"f1", "f2", "f3", "f4"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) (void)__wasi_path_unlink_file(wd, files[i]);
    (void)__wasi_path_remove_directory(wd, "d1");
    (void)__wasi_fd_close(wd);
    EXPECT_OK("cleanup", __wasi_path_remove_directory((__wasi_fd_t)base, name));
    close(base);
    return failures ? 1 : 0;
}
