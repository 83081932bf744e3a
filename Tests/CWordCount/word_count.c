#include "cword_count.h"

static int is_word_byte(uint8_t byte) {
    return (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') || (byte >= '0' && byte <= '9') || byte >= 0x80;
}

size_t cwc_count_words(const uint8_t *bytes, size_t length, int *in_word) {
    size_t words = 0;
    int inside = *in_word;
    for (size_t i = 0; i < length; i++) {
        int word_byte = is_word_byte(bytes[i]);
        if (word_byte && !inside) words++;
        inside = word_byte;
    }
    *in_word = inside;
    return words;
}
