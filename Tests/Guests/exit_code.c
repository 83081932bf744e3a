// exit_code: exits with the status given as argv[1] (0 if absent).
#include <stdlib.h>

int main(int argc, char **argv) {
    exit(argc > 1 ? atoi(argv[1]) : 0);
}
