/* SPDX-License-Identifier: MIT */
/*
 * The JSON text writer (bp_jsonw.c): compute exact lengths, then write into reserved space.
 * Codec layer: included by bp_jsonw.c and the encoders (bp_codec*.c) only.
 */
#ifndef BP_JSONW_INT_H
#define BP_JSONW_INT_H

#include <string.h>

#include "bp_int.h"

/** Escaped length of [s, s+n) including the two quotes (SEMANTICS.md §1.4 escaping). */
size_t bp__json_str_len(const char *s, size_t n);
/** Write the quoted, escaped string at @p out; returns the end. Room must be reserved. */
char *bp__json_str_put(char *out, const char *s, size_t n);

/** Non-zero exactly when @p w holds a byte that is not plain ASCII: one JSON escapes
 *  (bp__word_json_escapes()) or 0x80 and up. */
static inline uint64_t bp__json_word_special(uint64_t w) {
  return bp__word_json_escapes(w) | (w & UINT64_C(0x8080808080808080));
}

/** Is [s, s+n) plain: ASCII, no byte escaped, so its JSON string is its bytes in quotes (n + 2
 *  long) and valid UTF-8 of n characters? Words, the last overlapping; below 8 bytes, two
 *  overlapping halves, or below 4 the first, middle and last bytes with plain padding. */
static inline int bp__json_plain(const char *s, size_t n) {
  uint64_t w;
  if (n >= 8) {
    uint64_t acc;
    memcpy(&acc, s + n - 8, 8);
    acc = bp__json_word_special(acc);
    for (size_t i = 0; i + 8 < n; i += 8) {
      memcpy(&w, s + i, 8);
      acc |= bp__json_word_special(w);
    }
    return !acc;
  }
  const unsigned char *p = (const unsigned char *)s;
  if (n >= 4) {
    uint32_t a, b;
    memcpy(&a, p, 4);
    memcpy(&b, p + n - 4, 4);
    w = a | (uint64_t)b << 32;
  } else if (n) {
    w = p[0] | (uint64_t)p[n / 2] << 8 | (uint64_t)p[n - 1] << 16 | UINT64_C(0x4141414141000000);
  } else {
    return 1;
  }
  return !bp__json_word_special(w);
}
/** A literal's bytes at @p out (bp__put(), bp_int.h); returns the end. */
#define BP__PUT_LIT(out, lit) bp__put((out), (lit), sizeof(lit) - 1)
/** Decimal digits of an unsigned value, and writing them. */
size_t bp__u64_len(uint64_t v);
char *bp__u64_put(char *out, uint64_t v);

#endif
