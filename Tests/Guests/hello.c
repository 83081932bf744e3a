// hello: the smallest guest (make run, create+exec latency benchmark).
#include <stdio.h>

int main(void) {
    printf("Hello from a Cloister guest!\n");
    return 0;
}
