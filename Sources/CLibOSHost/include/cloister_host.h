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
