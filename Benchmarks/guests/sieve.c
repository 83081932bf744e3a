// sieve benchmark: sieve of Eratosthenes up to N (default 20,000,000; argv[1] overrides).
// Prints one line: "sieve N=<N> primes=<count> checksum=<sum of primes mod 2^64, hex>".
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 20000000ull;
    uint8_t *composite = calloc(n + 1, 1);
    if (!composite) { fprintf(stderr, "sieve: out of memory\n"); return 1; }
    for (uint64_t i = 2; i * i <= n; i++)
        if (!composite[i])
            for (uint64_t j = i * i; j <= n; j += i) composite[j] = 1;
    uint64_t count = 0, sum = 0;
    for (uint64_t i = 2; i <= n; i++)
        if (!composite[i]) { count++; sum += i; }
    printf("sieve N=%llu primes=%llu checksum=%016llx\n", (unsigned long long)n, (unsigned long long)count, (unsigned long long)sum);
    free(composite);
    return 0;
}
