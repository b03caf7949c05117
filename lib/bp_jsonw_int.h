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
/** Copy n bytes; returns the end. Inline, and up to 64 bytes as a few fixed-size moves (two
 * overlapping at the end), so neither a literal nor a short field costs a call: the
 * encoders write a dozen pieces a record. */
static inline char *bp__put(char *out, const char *s, size_t n) {
  if (n > 64) {
    memcpy(out, s, n);
  } else if (n > 16) {
    for (size_t i = 0; i + 16 < n; i += 16) memcpy(out + i, s + i, 16);
    memcpy(out + n - 16, s + n - 16, 16);
  } else if (n >= 8) {
    memcpy(out, s, 8);
    memcpy(out + n - 8, s + n - 8, 8);
  } else if (n >= 4) {
    memcpy(out, s, 4);
    memcpy(out + n - 4, s + n - 4, 4);
  } else if (n) {
    out[0] = s[0];
    out[n / 2] = s[n / 2];
    out[n - 1] = s[n - 1];
  }
  return out + n;
}
#define BP__PUT_LIT(out, lit) bp__put((out), (lit), sizeof(lit) - 1)
/** Decimal digits of an unsigned value, and writing them. */
size_t bp__u64_len(uint64_t v);
char *bp__u64_put(char *out, uint64_t v);

#endif
