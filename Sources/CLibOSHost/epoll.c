// The host notifier's epoll calls: Swift's Glibc module does not import <sys/epoll.h>, and
// `struct epoll_event` is packed on x86-64.
#include <errno.h>
#include <stddef.h>
#include <sys/epoll.h>

#include "cloister_host.h"

int cloister_host_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int cloister_host_epoll_watch(int epfd, int fd, uint32_t events, int watched) {
    if (events == 0) {
        int result = epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
        // Already gone: the host closed the descriptor, which removes it from every epoll set.
        return result == 0 || errno == ENOENT || errno == EBADF ? 0 : -1;
    }
    struct epoll_event event = {0};
    event.events = EPOLLET | EPOLLRDHUP;
    if (events & CLOISTER_HOST_READABLE) event.events |= EPOLLIN;
    if (events & CLOISTER_HOST_WRITABLE) event.events |= EPOLLOUT;
    event.data.fd = fd;
    if (epoll_ctl(epfd, watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &event) == 0) return 0;
    if (errno != (watched ? ENOENT : EEXIST)) return -1;
    return epoll_ctl(epfd, watched ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &event);
}

int cloister_host_epoll_wait(int epfd, int32_t *fds, uint32_t *events, int capacity, int timeout_ms) {
    struct epoll_event ready[64];
    if (capacity > 64) capacity = 64;
    int count = epoll_wait(epfd, ready, capacity, timeout_ms);
    for (int i = 0; i < count; i++) {
        uint32_t bits = 0;
        if (ready[i].events & EPOLLIN) bits |= CLOISTER_HOST_READABLE;
        if (ready[i].events & EPOLLOUT) bits |= CLOISTER_HOST_WRITABLE;
        if (ready[i].events & EPOLLERR) bits |= CLOISTER_HOST_ERROR;
        if (ready[i].events & (EPOLLHUP | EPOLLRDHUP)) bits |= CLOISTER_HOST_HANGUP;
        fds[i] = ready[i].data.fd;
        events[i] = bits;
    }
    return count;
}
