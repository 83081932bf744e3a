/*
 * cloister.h — the one definition of everything that crosses the guest ↔ LibOS boundary.
 *
 * Guests include it as the Cloister guest SDK; the Swift LibOS imports it (as the C module
 * CCloisterABI) for the same constants and layouts. Fixed-width types only; guest pointers are
 * uint32_t. WASI preview1 itself is defined by <wasi/api.h>; this header adds what Cloister
 * defines on top: signal numbers, wait-status encoding and the ABI version.
 */
#ifndef CLOISTER_H
#define CLOISTER_H

#include <stdint.h>

/* Version of the Cloister guest ABI. Bumped on any incompatible change. */
#define CLOISTER_ABI_VERSION 1

/* Signals, numbered as Linux numbers them (used by kill, wait statuses and exit codes). */
#define CLOISTER_SIGHUP 1
#define CLOISTER_SIGINT 2
#define CLOISTER_SIGQUIT 3
#define CLOISTER_SIGILL 4
#define CLOISTER_SIGABRT 6
#define CLOISTER_SIGKILL 9
#define CLOISTER_SIGSEGV 11
#define CLOISTER_SIGPIPE 13
#define CLOISTER_SIGTERM 15
#define CLOISTER_SIGCHLD 17
#define CLOISTER_SIGXCPU 24

/* Wait statuses, encoded as wait(2) encodes them. */
#define CLOISTER_W_EXITCODE(code) ((int32_t)(((code) & 0xff) << 8))
#define CLOISTER_W_TERMSIG(sig) ((int32_t)((sig) & 0x7f))
#define CLOISTER_WIFEXITED(status) (((status) & 0x7f) == 0)
#define CLOISTER_WEXITSTATUS(status) (((status) >> 8) & 0xff)
#define CLOISTER_WIFSIGNALED(status) (((status) & 0x7f) != 0)
#define CLOISTER_WTERMSIG(status) ((status) & 0x7f)

#endif /* CLOISTER_H */
