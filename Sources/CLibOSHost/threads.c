// Host threads, their CPU clocks and their CPU affinity (sched_setaffinity needs _GNU_SOURCE
// macros that Swift cannot import).
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cloister_host.h"

int cloister_host_cpu_count(void) {
    long count = sysconf(_SC_NPROCESSORS_CONF);
    return count > 0 ? (int)count : 1;
}

int cloister_host_set_affinity(const uint64_t *words, int word_count) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int cpu = 0; cpu < word_count * 64 && cpu < CPU_SETSIZE; cpu++) {
        if (words[cpu / 64] & (1ull << (cpu % 64))) CPU_SET(cpu, &set);
    }
    int result = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    if (result != 0) {
        errno = result;
        return -1;
    }
    return 0;
}

int cloister_host_get_affinity(uint64_t *words, int word_count) {
    cpu_set_t set;
    int result = pthread_getaffinity_np(pthread_self(), sizeof set, &set);
    if (result != 0) {
        errno = result;
        return -1;
    }
    memset(words, 0, sizeof(uint64_t) * (size_t)word_count);
    for (int cpu = 0; cpu < word_count * 64 && cpu < CPU_SETSIZE; cpu++) {
        if (CPU_ISSET(cpu, &set)) words[cpu / 64] |= 1ull << (cpu % 64);
    }
    return 0;
}

int cloister_host_getcpu(uint32_t *cpu, uint32_t *node) {
    unsigned int c = 0, n = 0;
    if (getcpu(&c, &n) != 0) return -1;
    *cpu = c;
    *node = n;
    return 0;
}

struct thread_start {
    void (*body)(void *);
    void *context;
};

static void *thread_main(void *argument) {
    struct thread_start start = *(struct thread_start *)argument;
    free(argument);
    start.body(start.context);
    return NULL;
}

int cloister_host_thread_start(void (*body)(void *), void *context, unsigned long stack_size) {
    struct thread_start *start = malloc(sizeof *start);
    if (!start) return ENOMEM;
    start->body = body;
    start->context = context;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    if (stack_size > 0) pthread_attr_setstacksize(&attributes, stack_size);
    pthread_t thread;
    int result = pthread_create(&thread, &attributes, thread_main, start);
    pthread_attr_destroy(&attributes);
    if (result != 0) free(start);
    return result;
}

int cloister_host_thread_cpu_clock(int *clock) {
    clockid_t id;
    int result = pthread_getcpuclockid(pthread_self(), &id);
    if (result != 0) {
        errno = result;
        return -1;
    }
    *clock = (int)id;
    return 0;
}
