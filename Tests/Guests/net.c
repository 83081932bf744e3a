// Socket test guest: `net MODE [ARGS]`, written with the guest SDK's BSD calls
// (cloister_socket.h) and, where a test needs exact bad pointers, the raw `cloister` imports.
// Checks print "ok ..." or "FAIL ...".
//
//   udp-echo              binds UDP 127.0.0.1:0, prints "port N", echoes one datagram to its sender
//   udp-client PORT       sends a datagram to 127.0.0.1:PORT and prints the reply
//   unix-server NAME      AF_UNIX: binds NAME, spawns `unix-client NAME`, talks with it
//   unix-client NAME      the other side (a separate process)
//   poll-mixed            one poll() over a pipe and a TCP socket that a child fills in turn
//   messages              sendmsg/recvmsg over several iovecs, MSG_PEEK, MSG_TRUNC, MSG_DONTWAIT,
//                         options, O_NONBLOCK accept/connect (UDP and TCP on loopback)
//   wasi-sock             WASI's sock_send/sock_recv/sock_shutdown/sock_accept on AF_UNIX sockets
//   faults                EFAULT for bad msghdr/iovec/address pointers, EOPNOTSUPP for ancillary
//                         data, and that nothing moved
//   policy-denied         what an instance with no network rule refuses (EACCES)
//   policy-listed HOST    an instance whose rules list 127.0.0.1:0 for listening and HOST for
//                         connecting: what is allowed and what is not
//   buffer-flood          AF_UNIX connections (closed at once, kept in the listener's backlog) and
//                         pipes, until the instance's memory limit refuses their buffers (ENOMEM)
//   block-accept | block-recv | block-poll
//                         prints "blocked", then waits for ever on a socket: the caller kills it
#include <cloister_socket.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest_checks.h"

static struct sockaddr_in loopback(uint16_t port) {
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

static uint16_t local_port(int fd) {
    struct sockaddr_in address;
    socklen_t length = sizeof address;
    if (getsockname(fd, (struct sockaddr *)&address, &length) != 0) return 0;
    return ntohs(address.sin_port);
}

static int tcp_listener(uint16_t *port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = loopback(0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&address, sizeof address) != 0 || listen(fd, 8) != 0) return -1;
    *port = local_port(fd);
    return fd;
}

static int tcp_connect(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = loopback(port);
    if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof address) != 0) return -1;
    return fd;
}

static int32_t spawn_self(const char *self, const char *mode, const char *argument) {
    const char *argv[] = {self, mode, argument};
    int32_t pid = 0;
    if (cloister_spawn(self, argv, argument ? 3 : 2, NULL, 0, NULL, 0, &pid) != 0) return -1;
    return pid;
}

static int reap(int32_t pid) {
    int32_t status = 0, reaped = 0;
    cloister_wait(pid, &status, 0, &reaped);
    return CLOISTER_WIFEXITED(status) ? CLOISTER_WEXITSTATUS(status) : 128 + CLOISTER_WTERMSIG(status);
}

static int udp_echo(void) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in address = loopback(0);
    CHECK(bind(fd, (struct sockaddr *)&address, sizeof address) == 0, "udp bind");
    printf("port %u\n", local_port(fd));
    fflush(stdout);
    char buffer[256];
    struct sockaddr_in from;
    socklen_t length = sizeof from;
    ssize_t count = recvfrom(fd, buffer, sizeof buffer, 0, (struct sockaddr *)&from, &length);
    CHECK(count > 0 && length == sizeof(struct sockaddr_in) && from.sin_family == AF_INET, "udp datagram of %zd bytes from port %u",
          count, ntohs(from.sin_port));
    CHECK(sendto(fd, buffer, (size_t)count, 0, (struct sockaddr *)&from, length) == count, "udp reply sent");
    return failures;
}

static int udp_client(uint16_t port) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = loopback(port);
    const char message[] = "datagram from the guest";
    CHECK(sendto(fd, message, sizeof message, 0, (struct sockaddr *)&to, sizeof to) == sizeof message, "udp sent");
    char reply[256] = {0};
    struct sockaddr_in from;
    socklen_t length = sizeof from;
    ssize_t count = recvfrom(fd, reply, sizeof reply - 1, 0, (struct sockaddr *)&from, &length);
    CHECK(count > 0 && ntohs(from.sin_port) == port, "udp reply from the host: %s", reply);
    return failures;
}

static int unix_server(const char *self, const char *name) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    strncpy(address.sun_path, name, sizeof address.sun_path - 1);
    CHECK(bind(fd, (struct sockaddr *)&address, sizeof address) == 0, "unix bind %s", name);
    int taken = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(bind(taken, (struct sockaddr *)&address, sizeof address) < 0 && errno == EADDRINUSE, "a second bind is EADDRINUSE");
    close(taken);
    struct sockaddr_un missing = {.sun_family = AF_UNIX, .sun_path = "no-such-name"};
    CHECK(connect(taken = socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&missing, sizeof missing) < 0 && errno == ENOENT,
          "connecting to a name nobody bound is ENOENT");
    CHECK(connect(taken, (struct sockaddr *)&address, sizeof address) < 0 && errno == ECONNREFUSED,
          "connecting to a bound socket that does not listen is ECONNREFUSED");
    struct sockaddr_un own = {.sun_family = AF_UNIX, .sun_path = "own-name"};
    CHECK(bind(taken, (struct sockaddr *)&own, sizeof own) == 0 && connect(taken, (struct sockaddr *)&own, sizeof own) < 0 &&
              errno == ECONNREFUSED,
          "connecting to its own name is ECONNREFUSED");
    close(taken);
    CHECK(listen(fd, 4) == 0, "unix listen");
    int32_t child = spawn_self(self, "unix-client", name);
    CHECK(child > 0, "spawned the client");
    struct sockaddr_un peer;
    socklen_t length = sizeof peer;
    int connection = accept(fd, (struct sockaddr *)&peer, &length);
    CHECK(connection >= 0, "unix accept");
    char buffer[64] = {0};
    CHECK(recv(connection, buffer, 5, MSG_PEEK | MSG_WAITALL) == 5 && memcmp(buffer, "hello", 5) == 0, "MSG_PEEK sees the bytes");
    memset(buffer, 0, sizeof buffer);
    CHECK(recv(connection, buffer, 5, MSG_WAITALL) == 5 && memcmp(buffer, "hello", 5) == 0, "and they are still there");
    CHECK(send(connection, "world", 5, 0) == 5, "unix send");
    CHECK(recv(connection, buffer, sizeof buffer, 0) == 0, "end of stream once the client shut down writing");
    CHECK(reap(child) == 0, "the client exited 0");
    // The client is gone: sending fails with EPIPE (no SIGPIPE with MSG_NOSIGNAL).
    CHECK(send(connection, "x", 1, MSG_NOSIGNAL) < 0 && errno == EPIPE, "EPIPE once the peer closed");
    close(connection);
    close(fd);
    return failures;
}

static int unix_client(const char *name) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    strncpy(address.sun_path, name, sizeof address.sun_path - 1);
    CHECK(connect(fd, (struct sockaddr *)&address, sizeof address) == 0, "unix connect");
    struct sockaddr_un peer;
    socklen_t length = sizeof peer;
    CHECK(getpeername(fd, (struct sockaddr *)&peer, &length) == 0 && strcmp(peer.sun_path, name) == 0, "getpeername: %s", peer.sun_path);
    CHECK(send(fd, "hello", 5, 0) == 5, "client send");
    char buffer[8] = {0};
    CHECK(recv(fd, buffer, 5, MSG_WAITALL) == 5 && memcmp(buffer, "world", 5) == 0, "client received the reply");
    CHECK(shutdown(fd, SHUT_WR) == 0, "client shutdown(SHUT_WR)");
    close(fd);
    return failures;
}

static int poll_mixed(const char *self) {
    int32_t pipe_fds[2];
    CHECK(cloister_pipe(pipe_fds) == 0, "pipe");
    uint16_t port = 0;
    int listener = tcp_listener(&port);
    char argument[32];
    snprintf(argument, sizeof argument, "%u:%d", port, pipe_fds[1]);
    int32_t child = spawn_self(self, "poll-mixed-child", argument);
    int connection = accept(listener, NULL, NULL);
    CHECK(connection >= 0, "accepted the child");
    struct pollfd fds[2] = {{.fd = pipe_fds[0], .events = POLLIN}, {.fd = connection, .events = POLLIN}};
    CHECK(poll(fds, 2, 0) == 0, "nothing is ready yet");
    send(connection, "1", 1, 0);  // the child writes on the socket
    int ready = poll(fds, 2, -1);
    CHECK(ready == 1 && (fds[1].revents & POLLIN) && !(fds[0].revents & POLLIN), "poll wakes for the socket, not the pipe");
    char byte = 0;
    CHECK(recv(connection, &byte, 1, 0) == 1 && byte == 's', "read the socket's byte");
    send(connection, "2", 1, 0);  // the child writes on the pipe
    ready = poll(fds, 2, -1);
    CHECK(ready == 1 && (fds[0].revents & POLLIN) && !(fds[1].revents & POLLIN), "poll wakes for the pipe, not the socket");
    CHECK(read(pipe_fds[0], &byte, 1) == 1 && byte == 'p', "read the pipe's byte");
    send(connection, "3", 1, 0);  // the child may end
    CHECK(reap(child) == 0, "the child exited 0");
    return failures;
}

static int poll_mixed_child(const char *argument) {
    int port = 0, pipe_write = -1;
    sscanf(argument, "%d:%d", &port, &pipe_write);
    int fd = tcp_connect((uint16_t)port);
    if (fd < 0) return 1;
    char go;
    if (recv(fd, &go, 1, 0) != 1) return 2;
    send(fd, "s", 1, 0);
    if (recv(fd, &go, 1, 0) != 1) return 3;
    if (write(pipe_write, "p", 1) != 1) return 4;
    // Stays connected until the parent has seen the pipe alone ready.
    return recv(fd, &go, 1, 0) == 1 ? 0 : 5;
}

static int messages(void) {
    // UDP to itself: several iovecs each way, MSG_PEEK, MSG_TRUNC, MSG_DONTWAIT.
    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in address = loopback(0);
    CHECK(bind(udp, (struct sockaddr *)&address, sizeof address) == 0, "udp bind");
    address = loopback(local_port(udp));
    char a[] = "0123", b[] = "4567", c[] = "89";
    struct iovec out[3] = {{a, 4}, {b, 4}, {c, 2}};
    struct msghdr message = {.msg_name = &address, .msg_namelen = sizeof address, .msg_iov = out, .msg_iovlen = 3};
    CHECK(sendmsg(udp, &message, 0) == 10, "sendmsg of 3 iovecs sends 10 bytes");
    char peek[16] = {0};
    CHECK(recv(udp, peek, sizeof peek, MSG_PEEK) == 10 && memcmp(peek, "0123456789", 10) == 0, "MSG_PEEK reads the datagram");
    char x[3] = {0}, y[3] = {0};
    struct iovec in[2] = {{x, 3}, {y, 3}};
    struct sockaddr_in from;
    struct msghdr received = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = in, .msg_iovlen = 2};
    ssize_t count = recvmsg(udp, &received, 0);
    CHECK(count == 6 && memcmp(x, "012", 3) == 0 && memcmp(y, "345", 3) == 0, "recvmsg scatters 6 bytes into 2 iovecs");
    CHECK(received.msg_flags & MSG_TRUNC, "msg_flags has MSG_TRUNC: the datagram was longer");
    CHECK(ntohs(from.sin_port) == local_port(udp), "msg_name holds the sender");
    CHECK(sendto(udp, "abcdefgh", 8, 0, (struct sockaddr *)&address, sizeof address) == 8, "sent 8 bytes");
    CHECK(recv(udp, x, 3, MSG_TRUNC) == 8, "MSG_TRUNC answers the datagram's whole length");
    CHECK(recv(udp, x, 3, MSG_DONTWAIT) < 0 && errno == EAGAIN, "MSG_DONTWAIT on an empty socket is EAGAIN");
    int value = 0;
    socklen_t length = sizeof value;
    CHECK(getsockopt(udp, SOL_SOCKET, SO_TYPE, &value, &length) == 0 && value == SOCK_DGRAM, "SO_TYPE is SOCK_DGRAM");
    value = 1;
    CHECK(setsockopt(udp, IPPROTO_TCP, TCP_NODELAY, &value, sizeof value) < 0 && errno == ENOPROTOOPT, "no TCP_NODELAY on UDP");
    close(udp);

    // TCP: options, O_NONBLOCK accept and connect.
    uint16_t port = 0;
    int listener = tcp_listener(&port);
    CHECK(listener >= 0, "tcp listener on port %u", port);
    value = 1;
    CHECK(setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &value, sizeof value) == 0, "set SO_REUSEADDR");
    length = sizeof value;
    CHECK(getsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &value, &length) == 0 && value == 1, "get SO_REUSEADDR");
    CHECK(getsockopt(listener, SOL_SOCKET, SO_ACCEPTCONN, &value, &length) == 0 && value == 1, "SO_ACCEPTCONN");
    CHECK(fcntl(listener, F_SETFL, O_NONBLOCK) == 0, "fcntl O_NONBLOCK");
    CHECK(accept(listener, NULL, NULL) < 0 && errno == EAGAIN, "a non-blocking accept with none pending is EAGAIN");
    int client = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    address = loopback(port);
    int connected = connect(client, (struct sockaddr *)&address, sizeof address);
    CHECK(connected == 0 || errno == EINPROGRESS, "a non-blocking connect: 0 or EINPROGRESS");
    struct pollfd wait_writable = {.fd = client, .events = POLLOUT};
    CHECK(poll(&wait_writable, 1, 60000) == 1 && (wait_writable.revents & POLLOUT), "the connection becomes writable");
    CHECK(getsockopt(client, SOL_SOCKET, SO_ERROR, &value, &length) == 0 && value == 0, "SO_ERROR is 0");
    struct pollfd wait_pending = {.fd = listener, .events = POLLIN};
    CHECK(poll(&wait_pending, 1, 60000) == 1, "the listener becomes readable");
    int server = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
    CHECK(server >= 0, "accept4(SOCK_NONBLOCK)");
    value = 1;
    CHECK(setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &value, sizeof value) == 0, "set TCP_NODELAY");
    CHECK(getsockopt(server, IPPROTO_TCP, TCP_NODELAY, &value, &length) == 0 && value != 0, "get TCP_NODELAY");
    CHECK(setsockopt(server, SOL_SOCKET, SO_KEEPALIVE, &value, sizeof value) == 0, "set SO_KEEPALIVE");
    value = 65536;
    CHECK(setsockopt(server, SOL_SOCKET, SO_RCVBUF, &value, sizeof value) == 0, "set SO_RCVBUF");
    CHECK(getsockopt(server, SOL_SOCKET, SO_SNDBUF, &value, &length) == 0 && value > 0, "SO_SNDBUF is %d", value);
    CHECK(recv(server, x, 1, 0) < 0 && errno == EAGAIN, "recv on an empty non-blocking socket is EAGAIN");
    CHECK(getsockopt(server, SOL_SOCKET, 12345, &value, &length) < 0 && errno == ENOPROTOOPT, "an unknown option is ENOPROTOOPT");
    // 16 iovecs out, one host call each way.
    char parts[16][4];
    struct iovec many[16];
    for (int i = 0; i < 16; i++) {
        memset(parts[i], 'a' + i, 4);
        many[i].iov_base = parts[i];
        many[i].iov_len = 4;
    }
    struct msghdr big = {.msg_iov = many, .msg_iovlen = 16};
    CHECK(sendmsg(client, &big, 0) == 64, "sendmsg of 16 iovecs");
    struct pollfd readable = {.fd = server, .events = POLLIN};
    char all[64] = {0};
    size_t got = 0;
    while (got < 64 && poll(&readable, 1, 60000) == 1) {
        ssize_t step = recv(server, all + got, 64 - got, 0);
        if (step <= 0) break;
        got += (size_t)step;
    }
    CHECK(got == 64 && all[0] == 'a' && all[63] == 'p', "64 bytes arrive in order");
    struct sockaddr_in peer;
    length = sizeof peer;
    CHECK(getpeername(server, (struct sockaddr *)&peer, &length) == 0 && ntohs(peer.sin_port) == local_port(client), "getpeername");
    CHECK(shutdown(client, SHUT_WR) == 0, "shutdown(SHUT_WR)");
    CHECK(poll(&readable, 1, 60000) == 1 && recv(server, x, 1, 0) == 0, "the peer reads end-of-stream");
    close(server);
    close(client);
    close(listener);
    return failures;
}

static int unix_pair(int *a, int *b, const char *name) {
    int listener = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    strncpy(address.sun_path, name, sizeof address.sun_path - 1);
    if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 1) != 0) return -1;
    *a = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(*a, (struct sockaddr *)&address, sizeof address) != 0) return -1;
    return listener;
}

static int wasi_sock(void) {
    int client = -1;
    int listener = unix_pair(&client, &client, "wasi-sock");
    CHECK(listener >= 0, "an AF_UNIX listener and a client");
    __wasi_fd_t server = 0;
    CHECK(__wasi_sock_accept((__wasi_fd_t)listener, 0, &server) == 0, "sock_accept");
    __wasi_ciovec_t out = {(const uint8_t *)"ping", 4};
    __wasi_size_t sent = 0;
    CHECK(__wasi_sock_send((__wasi_fd_t)client, &out, 1, 0, &sent) == 0 && sent == 4, "sock_send");
    char buffer[8] = {0};
    __wasi_iovec_t in = {(uint8_t *)buffer, sizeof buffer};
    __wasi_size_t received = 0;
    __wasi_roflags_t flags = 0;
    CHECK(__wasi_sock_recv(server, &in, 1, __WASI_RIFLAGS_RECV_PEEK, &received, &flags) == 0 && received == 4, "sock_recv with RECV_PEEK");
    CHECK(__wasi_sock_recv(server, &in, 1, 0, &received, &flags) == 0 && received == 4 && memcmp(buffer, "ping", 4) == 0,
          "sock_recv takes the same bytes");
    CHECK(__wasi_sock_shutdown((__wasi_fd_t)client, __WASI_SDFLAGS_WR) == 0, "sock_shutdown(WR)");
    CHECK(__wasi_sock_recv(server, &in, 1, 0, &received, &flags) == 0 && received == 0, "end of stream after sock_shutdown");
    CHECK(__wasi_sock_accept(0, 0, &server) == __WASI_ERRNO_NOTSOCK, "sock_accept on stdin is ENOTSOCK");
    CHECK(read(server, buffer, 1) == 0, "read() on the socket: end of stream too");
    return failures;
}

static int faults(void) {
    int client = -1;
    int listener = unix_pair(&client, &client, "faults");
    int server = accept(listener, NULL, NULL);
    CHECK(server >= 0, "a connected AF_UNIX pair");
    uint32_t count = 0;
    uint32_t beyond = 0xFFFFFFF0u;
    char data[4] = "abcd";
    struct cloister_iovec good = {CLOISTER_PTR(data), 4};
    struct cloister_iovec bad = {beyond, 64};
    struct cloister_iovec vectors[2] = {good, bad};
    struct cloister_msghdr header = {.iov = CLOISTER_PTR(&good), .iov_count = 1};
    CHECK(__cloister_sendmsg(client, beyond, 0, CLOISTER_PTR(&count)) == __WASI_ERRNO_FAULT, "a msghdr outside memory is EFAULT");
    header.iov = beyond;
    CHECK(__cloister_sendmsg(client, CLOISTER_PTR(&header), 0, CLOISTER_PTR(&count)) == __WASI_ERRNO_FAULT, "an iovec array outside memory is EFAULT");
    header.iov = CLOISTER_PTR(vectors);
    header.iov_count = 2;
    CHECK(__cloister_sendmsg(client, CLOISTER_PTR(&header), 0, CLOISTER_PTR(&count)) == __WASI_ERRNO_FAULT,
          "one iovec buffer outside memory is EFAULT (the good one is not sent)");
    header.iov_count = 1;
    header.name = beyond;
    CHECK(__cloister_sendmsg(client, CLOISTER_PTR(&header), 0, CLOISTER_PTR(&count)) == __WASI_ERRNO_FAULT, "a name outside memory is EFAULT");
    header.name = 0;
    header.control = CLOISTER_PTR(data);
    header.control_len = 4;
    CHECK(__cloister_sendmsg(client, CLOISTER_PTR(&header), 0, CLOISTER_PTR(&count)) == __WASI_ERRNO_NOTSUP, "ancillary data is EOPNOTSUPP");
    header.control = 0;
    header.control_len = 0;
    header.iov_count = 1025;
    CHECK(__cloister_sendmsg(client, CLOISTER_PTR(&header), 0, CLOISTER_PTR(&count)) == __WASI_ERRNO_MSGSIZE, "1025 iovecs is EMSGSIZE");
    header.iov_count = 1;
    CHECK(__cloister_sendmsg(client, CLOISTER_PTR(&header), 0, beyond) == __WASI_ERRNO_FAULT, "a result pointer outside memory is EFAULT");
    char buffer[8];
    CHECK(recv(server, buffer, sizeof buffer, MSG_DONTWAIT) < 0 && errno == EAGAIN, "nothing was sent by the refused calls");
    CHECK(__cloister_sendmsg(client, CLOISTER_PTR(&header), 0, CLOISTER_PTR(&count)) == 0 && count == 4, "the good message is sent");
    header.iov = CLOISTER_PTR(vectors);
    header.iov_count = 2;
    vectors[0].base = CLOISTER_PTR(buffer);
    CHECK(__cloister_recvmsg(server, CLOISTER_PTR(&header), 0, CLOISTER_PTR(&count)) == __WASI_ERRNO_FAULT, "recvmsg into a bad iovec is EFAULT");
    CHECK(__cloister_recvmsg(server, beyond, 0, CLOISTER_PTR(&count)) == __WASI_ERRNO_FAULT, "recvmsg of a msghdr outside memory is EFAULT");
    CHECK(recv(server, buffer, sizeof buffer, MSG_DONTWAIT) == 4 && memcmp(buffer, "abcd", 4) == 0, "and the bytes were not taken");
    CHECK(__cloister_recvfrom(server, beyond, 16, 0, 0, CLOISTER_PTR(&count)) == __WASI_ERRNO_FAULT, "recvfrom into memory's end is EFAULT");
    CHECK(__cloister_bind(client, beyond) == __WASI_ERRNO_FAULT, "bind of an address outside memory is EFAULT");
    CHECK(__cloister_accept(listener, 0, 0, beyond) == __WASI_ERRNO_FAULT, "accept with its result outside memory is EFAULT");
    struct cloister_sockaddr odd = {.family = 77};
    CHECK(__cloister_connect(client, CLOISTER_PTR(&odd)) == __WASI_ERRNO_AFNOSUPPORT, "an unknown family is EAFNOSUPPORT");
    return failures;
}

static int policy_denied(void) {
    int tcp = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(tcp >= 0, "a socket can be made");
    struct sockaddr_in address = loopback(0);
    CHECK(bind(tcp, (struct sockaddr *)&address, sizeof address) < 0 && errno == EACCES, "bind is EACCES");
    CHECK(listen(tcp, 1) < 0 && errno == EACCES, "listen (every interface) is EACCES");
    address = loopback(9);
    CHECK(connect(tcp, (struct sockaddr *)&address, sizeof address) < 0 && errno == EACCES, "connect is EACCES");
    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(sendto(udp, "x", 1, 0, (struct sockaddr *)&address, sizeof address) < 0 && errno == EACCES, "sendto is EACCES");
    struct sockaddr_in6 any6 = {.sin6_family = AF_INET6, .sin6_port = htons(80)};
    int tcp6 = socket(AF_INET6, SOCK_STREAM, 0);
    CHECK(connect(tcp6, (struct sockaddr *)&any6, sizeof any6) < 0 && errno == EACCES, "connect over IPv6 is EACCES");
    struct sockaddr_in found;
    socklen_t length = sizeof found;
    CHECK(cloister_resolve("localhost", 80, (struct sockaddr *)&found, &length) < 0 && errno == EACCES, "resolving a name is EACCES");
    return failures;
}

static int policy_listed(const char *host) {
    // Rules: listen 127.0.0.1 any port; connect: HOST (a name) port 0, 127.0.0.1/32 port 0, 0.0.0.0/0 port 0.
    uint16_t port = 0;
    int listener = tcp_listener(&port);
    CHECK(listener >= 0 && port != 0, "listening at 127.0.0.1 is allowed (port %u)", port);
    int any = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in everywhere = {.sin_family = AF_INET, .sin_port = 0};
    CHECK(bind(any, (struct sockaddr *)&everywhere, sizeof everywhere) < 0 && errno == EACCES, "binding 0.0.0.0 is EACCES");
    int client = tcp_connect(port);
    CHECK(client >= 0, "connecting to 127.0.0.1 (listed as 127.0.0.1/32) is allowed");
    int other = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in private_address = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.2", &private_address.sin_addr);
    CHECK(connect(other, (struct sockaddr *)&private_address, sizeof private_address) < 0 && errno == EACCES,
          "127.0.0.2 is loopback: 0.0.0.0/0 does not cover it (EACCES)");
    inet_pton(AF_INET, "10.1.2.3", &private_address.sin_addr);
    CHECK(connect(other, (struct sockaddr *)&private_address, sizeof private_address) < 0 && errno == EACCES, "10.1.2.3 is private: EACCES");
    struct sockaddr_in found;
    socklen_t length = sizeof found;
    CHECK(cloister_resolve(host, port, (struct sockaddr *)&found, &length) == 0 && ntohs(found.sin_port) == port, "resolving %s (listed) works", host);
    CHECK(cloister_resolve("example.com", 80, (struct sockaddr *)&found, &length) < 0 && errno == EACCES, "resolving an unlisted name is EACCES");
    CHECK(cloister_resolve("127.0.0.1", 80, (struct sockaddr *)&found, &length) == 0, "an address literal needs no lookup");
    return failures;
}

static int block(const char *mode) {
    uint16_t port = 0;
    int listener = tcp_listener(&port);
    if (listener < 0) { printf("FAIL no listener\n"); return 1; }
    if (strcmp(mode, "block-accept") == 0) {
        printf("blocked\n");
        fflush(stdout);
        accept(listener, NULL, NULL);
    } else {
        int client = tcp_connect(port);
        int server = accept(listener, NULL, NULL);
        (void)client;
        printf("blocked\n");
        fflush(stdout);
        char byte;
        if (strcmp(mode, "block-recv") == 0) {
            recv(server, &byte, 1, 0);
        } else {
            struct pollfd fds = {.fd = server, .events = POLLIN};
            poll(&fds, 1, -1);
        }
    }
    printf("returned\n");
    return 3;
}

/// Makes the kernel hold byte-queue buffers until user_space_size refuses them: connections whose
/// client end is closed at once (each leaves two 64 KiB queues in the listener's backlog), then
/// pipes. Both must end in ENOMEM, long before the backlog (4096) or the descriptor table is full.
static int buffer_flood(void) {
    int listener = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un name = {.sun_family = AF_UNIX};
    strcpy(name.sun_path, "flood");
    CHECK(listener >= 0 && bind(listener, (struct sockaddr *)&name, sizeof name) == 0 && listen(listener, 4096) == 0, "listening");
    int connections = 0, error = 0;
    for (;;) {
        int client = socket(AF_UNIX, SOCK_STREAM, 0);
        if (client < 0) { error = errno; break; }
        int connected = connect(client, (struct sockaddr *)&name, sizeof name);
        error = errno;
        close(client);
        if (connected != 0) break;
        connections++;
    }
    CHECK(error == ENOMEM && connections > 10 && connections < 4096, "connections refused with ENOMEM after %d", connections);
    int32_t fds[2];
    int pipes = 0, refused;
    while ((refused = cloister_pipe(fds)) == 0) pipes++;
    CHECK(refused == ENOMEM && pipes < 100, "a pipe refused with ENOMEM after %d more (error %d)", pipes, refused);
    close(listener);
    // The listener's backlog is gone with it: its buffers are given back.
    int again = socket(AF_UNIX, SOCK_STREAM, 0), more = 0;
    CHECK(again >= 0 && bind(again, (struct sockaddr *)&name, sizeof name) == 0 && listen(again, 4096) == 0, "listening again");
    for (int i = 0; i < 10; i++) {
        int client = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(client, (struct sockaddr *)&name, sizeof name) == 0) more++;
        close(client);
    }
    CHECK(more == 10, "connections made again once the first listener closed (%d)", more);
    return failures == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "udp-echo") == 0) return udp_echo();
    if (strcmp(mode, "udp-client") == 0 && argc == 3) return udp_client((uint16_t)atoi(argv[2]));
    if (strcmp(mode, "unix-server") == 0 && argc == 3) return unix_server(argv[0], argv[2]);
    if (strcmp(mode, "unix-client") == 0 && argc == 3) return unix_client(argv[2]);
    if (strcmp(mode, "poll-mixed") == 0) return poll_mixed(argv[0]);
    if (strcmp(mode, "poll-mixed-child") == 0 && argc == 3) return poll_mixed_child(argv[2]);
    if (strcmp(mode, "messages") == 0) return messages();
    if (strcmp(mode, "wasi-sock") == 0) return wasi_sock();
    if (strcmp(mode, "faults") == 0) return faults();
    if (strcmp(mode, "policy-denied") == 0) return policy_denied();
    if (strcmp(mode, "policy-listed") == 0 && argc == 3) return policy_listed(argv[2]);
    if (strcmp(mode, "buffer-flood") == 0) return buffer_flood();
    if (strncmp(mode, "block-", 6) == 0) return block(mode);
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
}
