// pal_layout: prints the layout of the structures of cloister_pal_api.h as the host C compiler
// lays them out. PALTests compares it with what the PAL's Swift side imports (MemoryLayout).
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>

#include "cloister_pal_api.h"

#define SIZE(type) printf("sizeof %s %zu\n", #type, sizeof(struct type))
#define ALIGN(type) printf("alignof %s %zu\n", #type, alignof(struct type))
#define FIELD(type, field) \
    printf("offsetof %s.%s %zu size %zu\n", #type, #field, offsetof(struct type, field), sizeof(((struct type *)0)->field))
#define CONSTANT(name) printf("const %s %lld\n", #name, (long long)(name))

int main(void) {
    SIZE(cloister_pal_attr);
    ALIGN(cloister_pal_attr);
    FIELD(cloister_pal_attr, instance_dir);
    FIELD(cloister_pal_attr, log_level);

    SIZE(cloister_stdio_fds);
    ALIGN(cloister_stdio_fds);
    FIELD(cloister_stdio_fds, stdin_fd);
    FIELD(cloister_stdio_fds, stdout_fd);
    FIELD(cloister_stdio_fds, stderr_fd);

    SIZE(cloister_pal_create_process_args);
    ALIGN(cloister_pal_create_process_args);
    FIELD(cloister_pal_create_process_args, path);
    FIELD(cloister_pal_create_process_args, argv);
    FIELD(cloister_pal_create_process_args, env);
    FIELD(cloister_pal_create_process_args, stdio);
    FIELD(cloister_pal_create_process_args, pid);

    SIZE(cloister_pal_exec_args);
    ALIGN(cloister_pal_exec_args);
    FIELD(cloister_pal_exec_args, pid);
    FIELD(cloister_pal_exec_args, exit_value);

    CONSTANT(CLOISTER_PAL_VERSION);
    CONSTANT(CLOISTER_PAL_ALL_PROCESSES);
    return 0;
}
