/* The check sequence of `bottleneck validate` over a model and a vectors.bin already in memory,
 * through bottleneck.h only. Freestanding: no allocation, no stdio; lines go to `print`. */
#ifndef BOTTLENECK_CHECK_H
#define BOTTLENECK_CHECK_H

#include <stddef.h>
#include <stdint.h>

/* Runs the check; prints `accuracy N/M` (with a classifier) and `digest 0x... vectors N`, or an
 * `error: ...` line. Returns 0 on success. */
int bn_check(const uint8_t *model, size_t model_len, const uint8_t *vectors, size_t vectors_len,
             void (*print)(const char *line));

#endif
