/* A function payload (entry-point convention) that misbehaves on request, for the WebAssembly
 * executor's tests. argv is ["mode", <mode>]:
 *   trap        executes `unreachable`
 *   loop        spins forever without a system call
 *   bomb        allocates (and touches) 1 MiB blocks until malloc fails, then aborts
 *   escape      tries to reach files it was not given; returns how many attempts were refused
 *   badptr      hands the file imports pointers outside its memory; returns how many were refused
 *   teaclave    copies input "in" to output "out" through Teaclave's import names; the byte count */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloister.h"

__attribute__((import_module("env"), import_name("teaclave_open_input"))) int teaclave_open_input(const char *name);
__attribute__((import_module("env"), import_name("teaclave_create_output"))) int teaclave_create_output(const char *name);
__attribute__((import_module("env"), import_name("teaclave_read_file"))) int teaclave_read_file(int fd, void *buffer, int size);
__attribute__((import_module("env"), import_name("teaclave_write_file"))) int teaclave_write_file(int fd, const void *buffer, int size);
__attribute__((import_module("env"), import_name("teaclave_close_file"))) int teaclave_close_file(int fd);

volatile int sink;
char *volatile last_block; /* keeps the compiler from eliding the bomb's allocations */

int entrypoint(int argc, char *argv[]) {
    if (argc < 2 || strcmp(argv[0], "mode") != 0) return -100;
    const char *mode = argv[1];
    if (strcmp(mode, "trap") == 0) __builtin_trap();
    if (strcmp(mode, "loop") == 0) {
        for (unsigned i = 0;; i++) sink = (int)i;
    }
    if (strcmp(mode, "bomb") == 0) {
        for (;;) {
            char *block = malloc(1 << 20);
            if (!block) abort();
            memset(block, 1, 1 << 20);
            *(char **)block = last_block;
            last_block = block;
        }
    }
    if (strcmp(mode, "escape") == 0) {
        int refused = 0;
        refused += cloister_open_input("../outputs/x") == -1;
        refused += cloister_open_input("/etc/passwd") == -1;
        refused += cloister_open_input("..") == -1;
        refused += cloister_open_input("undeclared") == -1;
        refused += cloister_create_output("undeclared") == -1;
        refused += fopen("/etc/passwd", "r") == NULL;
        refused += fopen("/inputs/../../../etc/passwd", "r") == NULL;
        return refused;
    }
    if (strcmp(mode, "badptr") == 0) {
        int refused = 0;
        int fd = cloister_open_input("in");
        refused += cloister_open_input((const char *)0xfffffff0) == -1;
        refused += cloister_read_file(fd, (void *)0xfffffff0, 64) == -1;
        refused += cloister_read_file(fd, (void *)0, -5) == -1;
        refused += cloister_write_file(fd, "x", 1) == -1;  /* an input is read-only */
        refused += cloister_close_file(12345) == -1;
        return refused;
    }
    if (strcmp(mode, "teaclave") == 0) {
        int in = teaclave_open_input("in"), out = teaclave_create_output("out"), total = 0, count;
        char buffer[100];
        if (in < 0 || out < 0) return -1;
        while ((count = teaclave_read_file(in, buffer, sizeof buffer)) > 0) {
            if (teaclave_write_file(out, buffer, count) != count) return -1;
            total += count;
        }
        teaclave_close_file(in);
        teaclave_close_file(out);
        return total;
    }
    return -101;
}
