// poll_stdin: polls a standard stream beside a clock 30 days away (issue 20, item 1: with the
// stream a pipe that is not ready, this poll once trapped the host converting 30 days to Int32
// milliseconds).
//
//   poll_stdin          waits for standard input to be readable; reports on stdout, then the line read
//   poll_stdin write    waits for standard output to be writable; reports on stderr
//
// Prints "polling", then the first event: count, userdata (1: the stream, 2: the clock), type, error.
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

int main(int argc, char **argv) {
    int writing = argc > 1 && !strcmp(argv[1], "write");
    FILE *report = writing ? stderr : stdout;
    __wasi_subscription_t subs[2];
    memset(subs, 0, sizeof subs);
    subs[0].userdata = 1;
    subs[0].u.tag = writing ? __WASI_EVENTTYPE_FD_WRITE : __WASI_EVENTTYPE_FD_READ;
    if (writing) subs[0].u.u.fd_write.file_descriptor = 1;
    else subs[0].u.u.fd_read.file_descriptor = 0;
    subs[1].userdata = 2;
    subs[1].u.tag = __WASI_EVENTTYPE_CLOCK;
    subs[1].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    subs[1].u.u.clock.timeout = 30ull * 24 * 3600 * 1000000000ull;
    __wasi_event_t events[2];
    __wasi_size_t count = 0;
    fprintf(report, "polling\n");
    fflush(report);
    __wasi_errno_t e = __wasi_poll_oneoff(subs, events, 2, &count);
    if (e) { fprintf(report, "poll errno=%d\n", e); return 1; }
    fprintf(report, "events=%lu userdata=%llu type=%d error=%d\n", (unsigned long)count, (unsigned long long)events[0].userdata,
            events[0].type, events[0].error);
    char line[256];
    if (!writing && fgets(line, sizeof line, stdin)) printf("read %s", line);
    return 0;
}
