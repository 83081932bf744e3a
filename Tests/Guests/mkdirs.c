// mkdirs: creates the folders DIR/d0, DIR/d1, ... until one fails or LIMIT exist, prints
// "made N errno=E" (E: the errno of the failure, 0 if LIMIT was reached), removes them all
// again and prints "removed N".
//
//   mkdirs DIR LIMIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) { printf("usage: mkdirs DIR LIMIT\n"); return 100; }
    long limit = atol(argv[2]), made = 0, removed = 0;
    int error = 0;
    char path[512];
    for (; made < limit; made++) {
        snprintf(path, sizeof path, "%s/d%ld", argv[1], made);
        if (mkdir(path, 0755)) { error = errno; break; }
    }
    printf("made %ld errno=%d\n", made, error);
    for (long i = 0; i < made; i++) {
        snprintf(path, sizeof path, "%s/d%ld", argv[1], i);
        if (rmdir(path) == 0) removed++;
    }
    printf("removed %ld\n", removed);
    return 0;
}
