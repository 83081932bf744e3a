// Host-OS primitives the LibOS cannot express in Swift (variadic or raw system calls).
#pragma once
#include <stdint.h>

/// Opens `path` relative to `dirfd` without ever leaving `dirfd` and without following any
/// symbolic link (openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
/// a component-by-component walk with O_NOFOLLOW where openat2 is missing).
/// Returns the new fd, or -1 with errno set.
int cloister_host_open_beneath(int dirfd, const char *path, int flags, uint32_t mode);

/// Fills `buffer` with `length` bytes from the host's cryptographic random source (getrandom).
/// Returns 0, or -1 with errno set.
int cloister_host_random(void *buffer, unsigned long length);

/// Linux constants the Swift Glibc module does not export.
#define CLOISTER_HOST_O_PATH 010000000
#define CLOISTER_HOST_O_NOATIME 01000000
#define CLOISTER_HOST_UTIME_NOW 1073741823L
#define CLOISTER_HOST_UTIME_OMIT 1073741822L

/// The number of CPUs the host has configured (the size of the kernel's CPU sets).
int cloister_host_cpu_count(void);

/// Sets the CPU affinity of the calling host thread from `word_count` 64-bit words of mask
/// (bit i of word w is CPU 64*w+i). Returns 0, or -1 with errno set (EINVAL: no usable CPU).
int cloister_host_set_affinity(const uint64_t *words, int word_count);

/// Reads the CPU affinity of the calling host thread into `word_count` words. Returns 0, or -1.
int cloister_host_get_affinity(uint64_t *words, int word_count);

/// The CPU and NUMA node the calling host thread runs on now. Returns 0, or -1 with errno set.
int cloister_host_getcpu(uint32_t *cpu, uint32_t *node);

/// Starts a detached host thread with a `stack_size`-byte stack running `body(context)`.
/// Returns 0, or an error number.
int cloister_host_thread_start(void (*body)(void *), void *context, unsigned long stack_size);

/// The CPU-time clock of the calling host thread (for reading from other threads). Returns 0, or -1.
int cloister_host_thread_cpu_clock(int *clock);

/// The path of the executable or shared library that holds this code (`dladdr`), or NULL.
const char *cloister_host_image_path(void);

/// Readiness bits shared with the kernel's `Events` (same values), for the host notifier.
#define CLOISTER_HOST_READABLE 1u
#define CLOISTER_HOST_WRITABLE 2u
#define CLOISTER_HOST_ERROR 4u
#define CLOISTER_HOST_HANGUP 8u

/// A new epoll instance (close-on-exec). Returns its fd, or -1 with errno set.
int cloister_host_epoll_create(void);

/// Sets what the epoll instance `epfd` watches `fd` for, edge-triggered: `events` (readable
/// and writable bits; error and hang-up are always reported); 0 stops watching it. `watched`
/// says whether `fd` is in the set already (an EEXIST or ENOENT from that guess is retried the
/// other way). Returns 0, or -1 with errno set.
int cloister_host_epoll_watch(int epfd, int fd, uint32_t events, int watched);

/// Waits up to `timeout_ms` (-1: forever) for events on `epfd`; fills up to `capacity` pairs of
/// `fds` and readiness bits. Returns how many, or -1 with errno set (EINTR included).
int cloister_host_epoll_wait(int epfd, int32_t *fds, uint32_t *events, int capacity, int timeout_ms);

/// Accepts a connection on `fd` as a new non-blocking, close-on-exec descriptor (accept4, which
/// Swift's Glibc module does not import). Returns it, or -1 with errno set.
int cloister_host_accept(int fd, void *address, uint32_t *length);
