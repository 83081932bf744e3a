// args_env: prints argc, argv and the sorted environment.
// Used to test argument passing and environment merging. Does not touch any directory.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static int cmp(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(int argc, char **argv) {
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
    size_t n = 0;
    while (environ && environ[n]) n++;
    char **env = malloc((n + 1) * sizeof(char *));
    if (!env && n) { printf("FAIL malloc\n"); return 1; }
    for (size_t i = 0; i < n; i++) env[i] = environ[i];
    qsort(env, n, sizeof(char *), cmp);
    for (size_t i = 0; i < n; i++) printf("env %s\n", env[i]);
    free(env);
    if (argc < 1) { printf("FAIL argc: %d < 1\n", argc); return 1; }
    return 0;
}
