// abi_layout: prints the layout of every guest-visible structure of cloister.h, and its
// constants, as a wasm32 guest sees them. PALTests compares each line with what the Swift side
// imports from the same header (MemoryLayout); a structure added to cloister.h gets a line here
// and one there.
#include <stdalign.h>
#include <stdio.h>

#include "../../Sources/CCloisterABI/include/cloister.h"

#define SIZE(type) printf("sizeof %s %zu\n", #type, sizeof(struct type))
#define ALIGN(type) printf("alignof %s %zu\n", #type, alignof(struct type))
#define FIELD(type, field) \
    printf("offsetof %s.%s %zu size %zu\n", #type, #field, offsetof(struct type, field), sizeof(((struct type *)0)->field))
#define CONSTANT(name) printf("const %s %lld\n", #name, (long long)(name))

int main(void) {
    SIZE(cloister_spawn_file_action);
    ALIGN(cloister_spawn_file_action);
    FIELD(cloister_spawn_file_action, kind);
    FIELD(cloister_spawn_file_action, fd);
    FIELD(cloister_spawn_file_action, new_fd);
    FIELD(cloister_spawn_file_action, path_ptr);
    FIELD(cloister_spawn_file_action, path_len);
    FIELD(cloister_spawn_file_action, oflags);

    SIZE(cloister_sockaddr);
    ALIGN(cloister_sockaddr);
    FIELD(cloister_sockaddr, family);
    FIELD(cloister_sockaddr, port);
    FIELD(cloister_sockaddr, flowinfo);
    FIELD(cloister_sockaddr, scope_id);
    FIELD(cloister_sockaddr, addr);
    FIELD(cloister_sockaddr, path_len);
    FIELD(cloister_sockaddr, path);
    SIZE(cloister_iovec);
    ALIGN(cloister_iovec);
    FIELD(cloister_iovec, base);
    FIELD(cloister_iovec, len);
    SIZE(cloister_msghdr);
    ALIGN(cloister_msghdr);
    FIELD(cloister_msghdr, name);
    FIELD(cloister_msghdr, iov);
    FIELD(cloister_msghdr, iov_count);
    FIELD(cloister_msghdr, control);
    FIELD(cloister_msghdr, control_len);
    FIELD(cloister_msghdr, flags);

    CONSTANT(CLOISTER_ABI_VERSION);
    CONSTANT(CLOISTER_SIGHUP);
    CONSTANT(CLOISTER_SIGINT);
    CONSTANT(CLOISTER_SIGQUIT);
    CONSTANT(CLOISTER_SIGILL);
    CONSTANT(CLOISTER_SIGABRT);
    CONSTANT(CLOISTER_SIGKILL);
    CONSTANT(CLOISTER_SIGSEGV);
    CONSTANT(CLOISTER_SIGPIPE);
    CONSTANT(CLOISTER_SIGTERM);
    CONSTANT(CLOISTER_SIGCHLD);
    CONSTANT(CLOISTER_SIGXCPU);
    CONSTANT(CLOISTER_SPAWN_FILE_ACTION_OPEN);
    CONSTANT(CLOISTER_SPAWN_FILE_ACTION_CLOSE);
    CONSTANT(CLOISTER_SPAWN_FILE_ACTION_DUP2);
    CONSTANT(CLOISTER_AF_UNIX);
    CONSTANT(CLOISTER_AF_INET);
    CONSTANT(CLOISTER_AF_INET6);
    CONSTANT(CLOISTER_SOCK_STREAM);
    CONSTANT(CLOISTER_SOCK_DGRAM);
    CONSTANT(CLOISTER_SOCK_NONBLOCK);
    CONSTANT(CLOISTER_MSG_PEEK);
    CONSTANT(CLOISTER_MSG_TRUNC);
    CONSTANT(CLOISTER_MSG_DONTWAIT);
    CONSTANT(CLOISTER_MSG_NOSIGNAL);
    CONSTANT(CLOISTER_W_EXITCODE(3));
    CONSTANT(CLOISTER_W_TERMSIG(9));
    return 0;
}
