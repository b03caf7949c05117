/* SPDX-License-Identifier: MIT */
/* UTF-8 well-formedness (RFC 3629): no overlongs, no surrogates, nothing above U+10FFFF. */
#include <string.h>

#include "bp_int.h"

/* Is [s, s+n) all ASCII? Words OR-ed together, the last one overlapping its predecessor;
 * a short text byte by byte. */
static int utf8_ascii(const unsigned char *s, size_t n) {
  if (n < 8) {
    unsigned acc = 0;
    for (size_t i = 0; i < n; i++) acc |= s[i];
    return acc < 0x80;
  }
  uint64_t acc, w;
  memcpy(&acc, s + n - 8, 8);
  for (size_t i = 0; i + 8 < n; i += 8) {
    memcpy(&w, s + i, 8);
    acc |= w;
  }
  return !(acc & UINT64_C(0x8080808080808080));
}

int bp__utf8_valid(const char *str, size_t n) {
  const unsigned char *s = (const unsigned char *)str, *end = s + n;
  if (utf8_ascii(s, n)) return 1; /* the common case, one branch-free pass */
  while (s < end) {
    /* ASCII fast path, eight bytes at a time. */
    while (end - s >= 8) {
      uint64_t w;
      memcpy(&w, s, 8);
      if (w & UINT64_C(0x8080808080808080)) break;
      s += 8;
    }
    if (s == end) break;
    unsigned c = *s;
    if (c < 0x80) {
      s++;
      continue;
    }
    size_t need;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      need = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return 0;
    }
    if ((size_t)(end - s) <= need) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i <= need; i++)
      if ((s[i] & 0xC0) != 0x80) return 0;
    s += need + 1;
  }
  return 1;
}

int bp__utf8_len_check(const char *s, size_t n, size_t min, size_t max) {
  if (n > 4 * max) return BP__UTF8_TOO_LONG; /* 4 bytes a character at most: not read */
  if (!bp__utf8_valid(s, n)) return BP__UTF8_INVALID;
  /* Valid text of n bytes has n / 4 (rounded up) to n characters: counted only when that
   * range reaches past a bound. */
  if (n <= max && n / 4 + (n % 4 != 0) >= min) return 0;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) k += ((unsigned char)s[i] & 0xC0) != 0x80;
  return k < min ? BP__UTF8_TOO_SHORT : k > max ? BP__UTF8_TOO_LONG : 0;
}
