/* A private set intersection function for the WebAssembly executor's entry-point convention
 * (Teaclave's wasm PSI, made line-based and streaming-friendly).
 *
 * Inputs  input_data1, input_data2: one item per line.
 * Outputs output_result1, output_result2: one line per line of the matching input, "1" when the
 *         item is also in the other input, else "0".
 * Result  the number of items of input_data1 also in input_data2.
 *
 * Built by scripts/build-guests.sh as a reactor exporting `entrypoint`; run it locally with
 *   cloister function run --executor-type wasm --executor wasmkit --payload psi.wasm \
 *     --input input_data1=a.txt --input input_data2=b.txt \
 *     --output output_result1=r1.txt --output output_result2=r2.txt */
#include <stdlib.h>
#include <string.h>

#include "cloister.h"

struct lines {
    char *text;   /* the whole file, each line end replaced by NUL */
    char **items; /* the start of each line */
    int count;
};

/* Reads the whole declared input `name`; 0 on success. */
static int read_lines(const char *name, struct lines *out) {
    int fd = cloister_open_input(name);
    if (fd < 0) return -1;
    size_t size = 0, capacity = 4096;
    char *text = malloc(capacity + 1);
    for (;;) {
        if (!text) return -1;
        if (size == capacity) {
            capacity *= 2;
            text = realloc(text, capacity + 1);
            continue;
        }
        int count = cloister_read_file(fd, text + size, (int)(capacity - size));
        if (count < 0) return -1;
        if (count == 0) break;
        size += (size_t)count;
    }
    cloister_close_file(fd);
    text[size] = 0;
    int lines = 0;
    for (size_t i = 0; i < size; i++) if (text[i] == '\n') lines++;
    if (size > 0 && text[size - 1] != '\n') lines++;
    out->items = malloc(sizeof(char *) * (size_t)(lines + 1));
    out->text = text;
    out->count = 0;
    char *start = text;
    for (size_t i = 0; i <= size; i++) {
        if (i == size || text[i] == '\n') {
            if (i == size && start == text + size) break;
            text[i] = 0;
            if (i > 0 && text[i - 1] == '\r') text[i - 1] = 0;
            out->items[out->count++] = start;
            start = text + i + 1;
        }
    }
    return 0;
}

static int compare(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Writes one "0"/"1" line per item of `mine`: whether it is in `sorted_other`; the count of 1s. */
static int mark(const char *output, const struct lines *mine, char **sorted_other, int other_count) {
    int fd = cloister_create_output(output);
    if (fd < 0) return -1;
    int common = 0;
    for (int i = 0; i < mine->count; i++) {
        int found = bsearch(&mine->items[i], sorted_other, (size_t)other_count, sizeof(char *), compare) != NULL;
        common += found;
        if (cloister_write_file(fd, found ? "1\n" : "0\n", 2) != 2) return -1;
    }
    cloister_close_file(fd);
    return common;
}

int entrypoint(int argc, char *argv[]) {
    (void)argc;
    (void)argv;
    struct lines first, second;
    if (read_lines("input_data1", &first) || read_lines("input_data2", &second)) return -1;
    char **sorted_first = malloc(sizeof(char *) * (size_t)(first.count + 1));
    char **sorted_second = malloc(sizeof(char *) * (size_t)(second.count + 1));
    memcpy(sorted_first, first.items, sizeof(char *) * (size_t)first.count);
    memcpy(sorted_second, second.items, sizeof(char *) * (size_t)second.count);
    qsort(sorted_first, (size_t)first.count, sizeof(char *), compare);
    qsort(sorted_second, (size_t)second.count, sizeof(char *), compare);
    int common = mark("output_result1", &first, sorted_second, second.count);
    if (common < 0 || mark("output_result2", &second, sorted_first, first.count) < 0) return -1;
    return common;
}
