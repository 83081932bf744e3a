/* A word-count function as a WASI command, the WebAssembly executor's second convention.
 *
 * Arguments  min_length: count only words at least this long (default 1).
 *            argv is [function name, "min_length", value] (the arguments flattened, sorted by key).
 * Input      /inputs/text: any text.
 * Output     /outputs/counts: "word count" lines, in order of first appearance.
 * Result     its standard output: "<N> words, <M> distinct".
 * A failure exits with status 1 and says why on standard error (the task's log). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry { char *word; int count; };

int main(int argc, char *argv[]) {
    int min_length = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "min_length") == 0) min_length = atoi(argv[i + 1]);
    }
    if (min_length < 1) {
        fprintf(stderr, "min_length must be at least 1\n");
        return 1;
    }
    FILE *in = fopen("/inputs/text", "r");
    if (!in) {
        fprintf(stderr, "cannot open /inputs/text\n");
        return 1;
    }
    struct entry *entries = NULL;
    int distinct = 0, capacity = 0, total = 0;
    char word[256];
    int length = 0, c;
    do {
        c = fgetc(in);
        if (c != EOF && (isalnum(c) || c == '\'')) {
            if (length < (int)sizeof(word) - 1) word[length++] = (char)tolower(c);
            continue;
        }
        if (length >= min_length) {
            word[length] = 0;
            total++;
            int i = 0;
            while (i < distinct && strcmp(entries[i].word, word) != 0) i++;
            if (i == distinct) {
                if (distinct == capacity) {
                    capacity = capacity ? capacity * 2 : 64;
                    entries = realloc(entries, sizeof(struct entry) * (size_t)capacity);
                }
                entries[distinct].word = strdup(word);
                entries[distinct].count = 0;
                distinct++;
            }
            entries[i].count++;
        }
        length = 0;
    } while (c != EOF);
    fclose(in);
    FILE *out = fopen("/outputs/counts", "w");
    if (!out) {
        fprintf(stderr, "cannot create /outputs/counts\n");
        return 1;
    }
    for (int i = 0; i < distinct; i++) fprintf(out, "%s %d\n", entries[i].word, entries[i].count);
    fclose(out);
    printf("%d words, %d distinct", total, distinct);
    return 0;
}
