// A small C library for the "Adding Executors" guide (docs/adding-executors.md): the guide's
// example of calling C from an executor, and what its test calls.
#pragma once
#include <stddef.h>
#include <stdint.h>

/// Counts the words that start in `bytes[0..<length]`. A word is a maximal run of ASCII letters,
/// ASCII digits and non-ASCII bytes (so a UTF-8 letter stays inside its word). `*in_word` carries
/// whether the previous chunk ended inside a word: set it to 0 before the first chunk.
size_t cwc_count_words(const uint8_t *bytes, size_t length, int *in_word);
