/* The smallest function: a WASI command that prints its `message` argument (the result).
 * argv is [function name, "message", value]. */
#include <stdio.h>
#include <string.h>

int main(int argc, char *argv[]) {
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "message") == 0) {
            fputs(argv[i + 1], stdout);
            return 0;
        }
    }
    fputs("missing argument message\n", stderr);
    return 1;
}
