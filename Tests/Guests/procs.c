// Process, pipe and scheduling test guest: `procs MODE [ARGS]`, built on the `cloister`
// module of cloister.h. Each check prints "ok ..." or "FAIL ...".
#include <cloister.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

#include "guest_checks.h"

static const char *self = "/bin/procs.wasm";

static int spawn_self(const char *mode, const char *arg, const struct cloister_spawn_file_action *actions, uint32_t count, int32_t *pid) {
    const char *argv[] = {self, mode, arg};
    return cloister_spawn(self, argv, arg ? 3 : 2, NULL, 0, actions, count, pid);
}

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

// A deterministic byte stream: byte i is (i * 131 + i / 4096) & 0xff.
static uint8_t pattern(uint64_t i) { return (uint8_t)(i * 131 + i / 4096); }

// Writes `bytes` of the pattern to stdout in 64 KiB writes. With `block`, one 64 KiB block of
// the pattern is computed once and written over and over (stream byte i is pattern(i % 65536)),
// so that the time is the pipe's rather than the interpreter's.
static int child_write(uint64_t bytes, int block) {
    static uint8_t buffer[65536];
    if (block)
        for (size_t k = 0; k < sizeof buffer; k++) buffer[k] = pattern(k);
    for (uint64_t done = 0; done < bytes;) {
        size_t n = bytes - done < sizeof buffer ? (size_t)(bytes - done) : sizeof buffer;
        if (!block)
            for (size_t k = 0; k < n; k++) buffer[k] = pattern(done + k);
        for (size_t off = 0; off < n;) {
            ssize_t w = write(1, buffer + off, n - off);
            if (w <= 0) return 2;
            off += (size_t)w;
        }
        done += n;
    }
    return 0;
}

// Spawns a child writing `bytes` into a pipe and checks every byte that arrives; with `block`
// (the child repeats one 64 KiB block) it checks the byte count and one byte in every 4 KiB.
static int pipe_transfer(uint64_t bytes, int block) {
    int32_t fds[2];
    CHECK(cloister_pipe(fds) == 0, "pipe");
    struct cloister_spawn_file_action actions[] = {
        {CLOISTER_SPAWN_FILE_ACTION_DUP2, fds[1], 1, 0, 0, 0},
        {CLOISTER_SPAWN_FILE_ACTION_CLOSE, fds[0], 0, 0, 0, 0},
    };
    char count[32];
    snprintf(count, sizeof count, "%llu", (unsigned long long)bytes);
    int32_t child = 0;
    CHECK(spawn_self(block ? "child-write-block" : "child-write", count, actions, 2, &child) == 0, "spawn writer");
    close(fds[1]);  // the child holds the only write end now
    static uint8_t buffer[65536];
    uint64_t total = 0, bad = 0;
    for (;;) {
        ssize_t n = read(fds[0], buffer, sizeof buffer);
        if (n < 0) { printf("FAIL read\n"); failures++; break; }
        if (n == 0) break;
        if (block) {
            for (uint64_t at = (total + 4095) & ~4095ull; at < total + (uint64_t)n; at += 4096)
                bad += buffer[at - total] != pattern(at % 65536);
        } else {
            for (ssize_t k = 0; k < n; k++) bad += buffer[k] != pattern(total + (uint64_t)k);
        }
        total += (uint64_t)n;
    }
    int32_t status = -1, reaped = 0;
    CHECK(cloister_wait(child, &status, 0, &reaped) == 0 && reaped == child, "wait writer");
    CHECK(CLOISTER_WIFEXITED(status) && CLOISTER_WEXITSTATUS(status) == 0, "writer exit status %d", status);
    CHECK(total == bytes && bad == 0, "pipe carried %llu of %llu bytes, %llu wrong", (unsigned long long)total,
          (unsigned long long)bytes, (unsigned long long)bad);
    return failures ? 1 : 0;
}

static int basics(void) {
    int32_t pid = 0, ppid = -1, tid = 0, status = 0, reaped = -1;
    CHECK(cloister_getpid(&pid) == 0 && pid > 0, "getpid %d", pid);
    CHECK(cloister_getppid(&ppid) == 0 && ppid == 0, "getppid of a top-level process is init (0), got %d", ppid);
    CHECK(cloister_gettid(&tid) == 0 && tid == pid, "main thread id is the pid");
    CHECK(cloister_wait(-1, &status, 0, &reaped) == __WASI_ERRNO_CHILD, "wait without children: ECHILD");
    CHECK(cloister_wait(-1, &status, 7, &reaped) == __WASI_ERRNO_INVAL, "wait with unknown options: EINVAL");
    CHECK(cloister_kill(pid, 99) == __WASI_ERRNO_INVAL, "kill with a bad signal: EINVAL");
    CHECK(cloister_kill(999999, 15) == __WASI_ERRNO_SRCH, "kill of no process: ESRCH");
    CHECK(cloister_kill(pid, 0) == 0, "signal 0 checks existence");
    CHECK(cloister_kill(pid, CLOISTER_SIGCHLD) == 0, "SIGCHLD is ignored by default");
    CHECK(cloister_getpid((int32_t *)0xfffffff0) == __WASI_ERRNO_FAULT, "bad pointer: EFAULT");
    const char *argv[] = {"x"};
    int32_t child = 0;
    CHECK(cloister_spawn("/bin/no-such.wasm", argv, 1, NULL, 0, NULL, 0, &child) == __WASI_ERRNO_NOENT, "spawn of a missing program: ENOENT");
    CHECK(cloister_spawn("/tmp/x.wasm", argv, 1, NULL, 0, NULL, 0, &child) == __WASI_ERRNO_ACCES, "spawn outside the entry points: EACCES");
    CHECK(__cloister_spawn(0xfffffff0, 4, 0, 0, 0, 0, 0, 0, 0) == __WASI_ERRNO_FAULT, "spawn with a bad path pointer: EFAULT");
    struct cloister_spawn_file_action bad = {CLOISTER_SPAWN_FILE_ACTION_DUP2, 77, 1, 0, 0, 0};
    CHECK(spawn_self("exit", "3", &bad, 1, &child) == __WASI_ERRNO_BADF, "spawn with a dup2 of a closed descriptor: EBADF");

    // A child's exit status, and WNOHANG before and after it ends.
    CHECK(spawn_self("exit", "3", NULL, 0, &child) == 0 && child > pid, "spawn a child (%d)", child);
    int32_t got = 0;
    while (cloister_wait(child, &status, CLOISTER_WNOHANG, &got) == 0 && got == 0) sleep_ms(1);
    CHECK(got == child && CLOISTER_WIFEXITED(status) && CLOISTER_WEXITSTATUS(status) == 3, "child exited with 3 (status %d)", status);
    CHECK(cloister_wait(child, &status, 0, &got) == __WASI_ERRNO_CHILD, "a reaped child is gone: ECHILD");

    // A child killed by a signal, and a child that traps.
    CHECK(spawn_self("sleep", NULL, NULL, 0, &child) == 0, "spawn a sleeper");
    CHECK(cloister_kill(child, CLOISTER_SIGTERM) == 0, "SIGTERM the sleeper");
    CHECK(cloister_wait(child, &status, 0, &got) == 0 && CLOISTER_WIFSIGNALED(status) && CLOISTER_WTERMSIG(status) == CLOISTER_SIGTERM,
          "sleeper ended by SIGTERM (status %d)", status);
    CHECK(spawn_self("trap", NULL, NULL, 0, &child) == 0, "spawn a trapping child");
    CHECK(cloister_wait(child, &status, 0, &got) == 0 && CLOISTER_WTERMSIG(status) == CLOISTER_SIGABRT, "trap ends it by SIGABRT");

    // The child's argv and an inherited descriptor opened by a file action.
    struct cloister_spawn_file_action open_action = {CLOISTER_SPAWN_FILE_ACTION_OPEN, 1, 0, CLOISTER_PTR("/tmp/child.txt"), 14, O_WRONLY | O_CREAT | O_TRUNC};
    CHECK(spawn_self("echo", "hello-child", &open_action, 1, &child) == 0, "spawn with stdout opened on /tmp/child.txt");
    CHECK(cloister_wait(child, &status, 0, &got) == 0 && status == 0, "echo child exited 0");
    FILE *f = fopen("/tmp/child.txt", "r");
    char line[64] = {0};
    CHECK(f && fgets(line, sizeof line, f) && strcmp(line, "hello-child\n") == 0, "child wrote its argument to the file: %s", line);
    if (f) fclose(f);
    return failures ? 1 : 0;
}

// The preopened descriptor whose guest path is `name`, or -1.
static int find_preopen(const char *name) {
    for (int fd = 3; fd < 64; fd++) {
        __wasi_prestat_t ps;
        char buffer[256] = {0};
        if (__wasi_fd_prestat_get(fd, &ps) || ps.u.dir.pr_name_len >= sizeof buffer) continue;
        if (__wasi_fd_prestat_dir_name(fd, (uint8_t *)buffer, ps.u.dir.pr_name_len) == 0 && !strcmp(buffer, name)) return fd;
    }
    return -1;
}

// A spawn's OPEN file action never gives the child a right its parent dropped: it resolves from
// the parent's own descriptor for the folder, with that descriptor's rights.
static int spawn_rights(void) {
    FILE *f = fopen("/tmp/kept.txt", "w");
    CHECK(f && fputs("kept\n", f) >= 0 && fclose(f) == 0, "wrote /tmp/kept.txt");
    int tmp = find_preopen("/tmp");
    CHECK(tmp >= 0, "found the /tmp preopen (%d)", tmp);
    __wasi_fdstat_t st;
    CHECK(__wasi_fd_fdstat_get(tmp, &st) == 0, "fdstat of /tmp");
    // Drop the right to create files beneath /tmp, and the write right of what opens there.
    CHECK(__wasi_fd_fdstat_set_rights(tmp, st.fs_rights_base & ~__WASI_RIGHTS_PATH_CREATE_FILE,
                                      st.fs_rights_inheriting & ~__WASI_RIGHTS_FD_WRITE) == 0, "drop create and write beneath /tmp");
    CHECK(open("/tmp/new.txt", O_WRONLY | O_CREAT, 0644) < 0 && errno == ENOTCAPABLE, "the parent cannot create /tmp/new.txt");

    int32_t child, status, got;
    struct cloister_spawn_file_action create = {CLOISTER_SPAWN_FILE_ACTION_OPEN, 1, 0, CLOISTER_PTR("/tmp/new.txt"), 12, O_WRONLY | O_CREAT};
    int error = spawn_self("echo", "escaped", &create, 1, &child);
    CHECK(error == __WASI_ERRNO_NOTCAPABLE, "nor a child through a spawn OPEN action (errno %d)", error);
    if (error == 0) cloister_wait(child, &status, 0, &got);
    CHECK(access("/tmp/new.txt", F_OK) != 0, "/tmp/new.txt was not created");

    // An existing file opened write-only for the child: its descriptor has no write right.
    struct cloister_spawn_file_action overwrite = {CLOISTER_SPAWN_FILE_ACTION_OPEN, 1, 0, CLOISTER_PTR("/tmp/kept.txt"), 13, O_WRONLY};
    CHECK(spawn_self("echo", "overwritten", &overwrite, 1, &child) == 0, "spawn with stdout on /tmp/kept.txt");
    CHECK(cloister_wait(child, &status, 0, &got) == 0, "the child ended");
    f = fopen("/tmp/kept.txt", "r");
    char line[64] = {0};
    CHECK(f && fgets(line, sizeof line, f) && strcmp(line, "kept\n") == 0, "the child could not write to it: %s", line);
    if (f) fclose(f);

    // Without a descriptor for the folder (closed), nothing resolves there but through "/".
    int data = find_preopen("/data");
    CHECK(data >= 0 && close(data) == 0, "closed the /data preopen");
    int root = find_preopen("/");
    CHECK(root >= 0 && close(root) == 0, "closed the / preopen");
    struct cloister_spawn_file_action reading = {CLOISTER_SPAWN_FILE_ACTION_OPEN, 0, 0, CLOISTER_PTR("/data/x"), 7, O_RDONLY};
    error = spawn_self("echo", "no-data", &reading, 1, &child);
    CHECK(error == __WASI_ERRNO_NOTCAPABLE, "a folder the parent closed is out of reach (errno %d)", error);
    return failures ? 1 : 0;
}

// Spawns sleepers until the process limit answers EAGAIN, then cleans up.
static int bomb(void) {
    int32_t children[64];
    int count = 0, error = 0;
    while (count < 64) {
        error = spawn_self("sleep", NULL, NULL, 0, &children[count]);
        if (error) break;
        count++;
    }
    CHECK(error == __WASI_ERRNO_AGAIN, "spawning stopped with EAGAIN after %d children", count);
    for (int k = 0; k < count; k++) cloister_kill(children[k], CLOISTER_SIGKILL);
    int reaped = 0, status, got;
    while (cloister_wait(-1, &status, 0, &got) == 0) reaped++;
    CHECK(reaped == count, "reaped all %d children", reaped);
    int32_t child;
    CHECK(spawn_self("exit", "0", NULL, 0, &child) == 0, "the parent can spawn again");
    CHECK(cloister_wait(child, &status, 0, &got) == 0 && status == 0, "and the new child runs");
    printf("children %d\n", count);
    return failures ? 1 : 0;
}

// Kills a busy sibling (a child spinning without system calls).
static int kill_sibling(void) {
    int32_t child, status, got;
    CHECK(spawn_self("spin", NULL, NULL, 0, &child) == 0, "spawn a spinner");
    sleep_ms(50);
    CHECK(cloister_kill(child, CLOISTER_SIGKILL) == 0, "SIGKILL it");
    CHECK(cloister_wait(child, &status, 0, &got) == 0 && CLOISTER_WTERMSIG(status) == CLOISTER_SIGKILL, "spinner ended by SIGKILL");
    return failures ? 1 : 0;
}

// Blocks in a read on an empty pipe whose write end it keeps open.
static int pipe_block(void) {
    int32_t fds[2];
    if (cloister_pipe(fds)) return 2;
    printf("blocking\n");
    fflush(stdout);
    char c;
    read(fds[0], &c, 1);
    return 3;
}

// Spawns a child that waits on stdin, then reports the child's pid and waits on stdin itself.
static int zombie(void) {
    int32_t child, status, got;
    CHECK(spawn_self("exit", "5", NULL, 0, &child) == 0, "spawn");
    printf("child %d\n", child);
    fflush(stdout);
    char c;
    read(0, &c, 1);  // the test looks at the zombie, then writes a byte
    CHECK(cloister_wait(child, &status, 0, &got) == 0 && CLOISTER_WEXITSTATUS(status) == 5, "zombie reaped with its status");
    return failures ? 1 : 0;
}

static int orphan(void) {
    int32_t child;
    CHECK(spawn_self("read-stdin", NULL, NULL, 0, &child) == 0, "spawn a child that reads stdin");
    printf("child %d\n", child);
    return failures ? 1 : 0;
}

static int affinity(void) {
    uint64_t mask[16] = {0};
    uint32_t size = 0;
    CHECK(cloister_sched_getaffinity(0, 0, mask, &size) == __WASI_ERRNO_INVAL, "a too small mask buffer: EINVAL");
    CHECK(cloister_sched_getaffinity(0, sizeof mask, mask, &size) == 0 && size % 8 == 0 && size > 0, "getaffinity (%u bytes)", size);
    int last = -1;
    for (int cpu = 0; cpu < (int)size * 8; cpu++)
        if (mask[cpu / 64] & (1ull << (cpu % 64))) last = cpu;
    CHECK(last >= 0, "some CPU allowed");
    uint64_t empty[16] = {0};
    CHECK(cloister_sched_setaffinity(0, sizeof empty, empty) == __WASI_ERRNO_INVAL, "an empty set: EINVAL");
    CHECK(cloister_sched_setaffinity(999999, sizeof mask, mask) == __WASI_ERRNO_SRCH, "no such thread: ESRCH");
    CHECK(__cloister_sched_setaffinity(0, 8, 0xfffffff0) == __WASI_ERRNO_FAULT, "bad mask pointer: EFAULT");
    uint64_t one[16] = {0};
    one[last / 64] = 1ull << (last % 64);
    CHECK(cloister_sched_setaffinity(0, sizeof one, one) == 0, "pin to CPU %d", last);
    int off = 0;
    for (int k = 0; k < 200; k++) {
        uint32_t cpu = 99, node = 99;
        cloister_sched_yield();
        if (cloister_getcpu(&cpu, &node) != 0 || (int)cpu != last) off++;
    }
    CHECK(off == 0, "getcpu reports CPU %d every time (%d misses)", last, off);
    CHECK(cloister_sched_getaffinity(0, sizeof mask, mask, &size) == 0 && mask[last / 64] == one[last / 64], "getaffinity reads the pin back");
    int32_t child, status, got;
    CHECK(spawn_self("print-affinity", NULL, NULL, 0, &child) == 0, "spawn a child");
    CHECK(cloister_wait(child, &status, 0, &got) == 0 && CLOISTER_WEXITSTATUS(status) == last + 1, "the child inherited CPU %d", last);
    printf("pinned %d\n", last);
    fflush(stdout);
    char c;
    read(0, &c, 1);  // the test looks at the host thread, then writes a byte
    return failures ? 1 : 0;
}

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

// Benchmark: N spawns of a child that exits at once, each waited for.
static int spawn_loop(int count) {
    uint64_t start = now_ns();
    for (int k = 0; k < count; k++) {
        int32_t child, status, got;
        if (spawn_self("exit", "0", NULL, 0, &child) || cloister_wait(child, &status, 0, &got) || status) return 1;
    }
    printf("spawn-loop %d %llu\n", count, (unsigned long long)(now_ns() - start));
    return 0;
}

// Benchmark: `bytes` through a pipe from a child, timed from spawn to the child reaped. The
// child repeats one 64 KiB block and the parent checks it sparsely, so the guests' own per-byte
// work does not hide the pipe; `full` computes and checks every byte instead (as the "pipe" test).
static int pipe_bench(uint64_t bytes, int full) {
    uint64_t start = now_ns();
    int result = pipe_transfer(bytes, !full);
    printf("pipe-bench %llu %llu\n", (unsigned long long)bytes, (unsigned long long)(now_ns() - start));
    return result;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "basics")) return basics();
    if (!strcmp(mode, "pipe")) return pipe_transfer(argc > 2 ? strtoull(argv[2], NULL, 10) : 1 << 20, 0);
    if (!strcmp(mode, "child-write")) return child_write(strtoull(argv[2], NULL, 10), 0);
    if (!strcmp(mode, "child-write-block")) return child_write(strtoull(argv[2], NULL, 10), 1);
    if (!strcmp(mode, "bomb")) return bomb();
    if (!strcmp(mode, "spawn-rights")) return spawn_rights();
    if (!strcmp(mode, "spawn-loop")) return spawn_loop(atoi(argv[2]));
    if (!strcmp(mode, "pipe-bench")) return pipe_bench(strtoull(argv[2], NULL, 10), argc > 3 && !strcmp(argv[3], "full"));
    if (!strcmp(mode, "kill-sibling")) return kill_sibling();
    if (!strcmp(mode, "pipe-block")) return pipe_block();
    if (!strcmp(mode, "zombie")) return zombie();
    if (!strcmp(mode, "orphan")) return orphan();
    if (!strcmp(mode, "affinity")) return affinity();
    if (!strcmp(mode, "exit")) return atoi(argv[2]);
    if (!strcmp(mode, "echo")) { printf("%s\n", argv[2]); return 0; }
    if (!strcmp(mode, "sleep")) { sleep(3600); return 0; }
    if (!strcmp(mode, "read-stdin")) { char c; return read(0, &c, 1) == 1 ? 0 : 1; }
    if (!strcmp(mode, "sigpipe")) {
        // Writing to a kernel pipe whose reader is gone raises SIGPIPE, which ends this process
        // (it once deadlocked the writing host thread instead).
        int32_t fds[2];
        if (cloister_pipe(fds) || close(fds[0])) return 2;
        (void)write(fds[1], "x", 1);
        return 3;
    }
    if (!strcmp(mode, "spin")) { volatile uint64_t n = 0; for (;;) n++; }
    if (!strcmp(mode, "trap")) __builtin_trap();
    if (!strcmp(mode, "print-affinity")) {
        uint64_t mask[16] = {0};
        uint32_t size = 0;
        cloister_sched_getaffinity(0, sizeof mask, mask, &size);
        for (int cpu = 0; cpu < 1024; cpu++)
            if (mask[cpu / 64] & (1ull << (cpu % 64))) return cpu + 1;
        return 0;
    }
    fprintf(stderr, "procs: unknown mode %s\n", mode);
    return 100;
}
