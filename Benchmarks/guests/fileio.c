// fileio benchmark: fileio DIR [MiB=64] [chunkKiB=64]
// Writes MiB of deterministic data to DIR/bench.dat in chunk-sized writes, closes it, reads it
// back in chunks, verifies the checksum and deletes the file.
// Prints one line: "wrote N MiB, read N MiB, checksum X"; exits 1 on any error or mismatch.
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// Fills chunk number k with a pattern that differs per chunk (cheap: one 64-bit store per word).
static void fill(uint64_t *w, size_t words, uint64_t k) {
    uint64_t x = 0x9E3779B97F4A7C15ull * (k + 1);
    for (size_t i = 0; i < words; i++) { w[i] = x; x += 0xD1B54A32D192ED03ull; }
}

// Checksum of a buffer of 64-bit words (order-dependent).
static uint64_t mix(uint64_t h, const uint64_t *w, size_t words) {
    for (size_t i = 0; i < words; i++) h = (h ^ w[i]) * 0x100000001B3ull;
    return h;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: fileio DIR [MiB=64] [chunkKiB=64]\n"); return 2; }
    size_t mib = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 64;
    size_t chunk = (argc > 3 ? (size_t)strtoul(argv[3], NULL, 10) : 64) * 1024;
    if (chunk == 0 || chunk % 8 != 0) { fprintf(stderr, "fileio: chunk must be a positive number of KiB\n"); return 2; }
    uint64_t total = (uint64_t)mib << 20;
    char path[1024];
    snprintf(path, sizeof path, "%s/bench.dat", argv[1]);
    uint64_t *buf = malloc(chunk);
    if (!buf) { fprintf(stderr, "fileio: out of memory\n"); return 1; }

    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) { fprintf(stderr, "fileio: open %s for writing: %s\n", path, strerror(errno)); return 1; }
    uint64_t wsum = 0xCBF29CE484222325ull, written = 0;
    for (uint64_t k = 0; written < total; k++) {
        size_t len = total - written < chunk ? (size_t)(total - written) : chunk;
        fill(buf, chunk / 8, k);
        wsum = mix(wsum, buf, len / 8);
        for (size_t off = 0; off < len;) {
            ssize_t n = write(fd, (char *)buf + off, len - off);
            if (n < 0) { if (errno == EINTR) continue; fprintf(stderr, "fileio: write: %s\n", strerror(errno)); return 1; }
            off += (size_t)n;
        }
        written += len;
    }
    if (close(fd) != 0) { fprintf(stderr, "fileio: close: %s\n", strerror(errno)); return 1; }

    fd = open(path, O_RDONLY);
    if (fd < 0) { fprintf(stderr, "fileio: open %s for reading: %s\n", path, strerror(errno)); return 1; }
    uint64_t rsum = 0xCBF29CE484222325ull, nread = 0;
    for (;;) {
        size_t got = 0;
        while (got < chunk) { // fill a whole chunk (reads may be short)
            ssize_t n = read(fd, (char *)buf + got, chunk - got);
            if (n < 0) { if (errno == EINTR) continue; fprintf(stderr, "fileio: read: %s\n", strerror(errno)); return 1; }
            if (n == 0) break;
            got += (size_t)n;
        }
        if (got == 0) break;
        rsum = mix(rsum, buf, got / 8);
        nread += got;
        if (got < chunk) break;
    }
    close(fd);
    if (unlink(path) != 0) { fprintf(stderr, "fileio: unlink: %s\n", strerror(errno)); return 1; }
    free(buf);

    if (nread != total || rsum != wsum) {
        fprintf(stderr, "fileio: mismatch: wrote %llu bytes (checksum %016llx), read %llu bytes (checksum %016llx)\n",
                (unsigned long long)total, (unsigned long long)wsum, (unsigned long long)nread, (unsigned long long)rsum);
        return 1;
    }
    printf("wrote %zu MiB, read %llu MiB, checksum %016llx\n", mib, (unsigned long long)(nread >> 20), (unsigned long long)rsum);
    return 0;
}
