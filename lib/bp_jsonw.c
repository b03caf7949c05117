/* SPDX-License-Identifier: MIT */
/*
 * JSON text writing for the encoders. Every piece has a length function and a writer, so an
 * event's exact size is known before a byte is written (SEMANTICS.md §1.4, §3.1).
 * Escaping follows yajl's generator with solidus escaping off: `"` `\` and the short forms
 * \b \t \n \f \r; other control bytes as \u00XX (upper-case hex); all else verbatim.
 */
#include <string.h>

#include "bp_jsonw_int.h"

/* Escaped length of each byte: 1 (verbatim), 2 (short escape) or 6 (\u00XX). */
static const unsigned char esc_len[256] = {
    6, 6, 6, 6, 6, 6, 6, 6, 2, 2, 2, 6, 2, 2, 6, 6, /* 0x00 */
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, /* 0x10 */
    1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20: '"' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, /* 0x50: '\\' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x80.. verbatim */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* Does the word at @p p hold a byte to escape (bp__word_json_escapes())? */
static int word_escapes(const unsigned char *p) {
  uint64_t w;
  memcpy(&w, p, 8);
  return bp__word_json_escapes(w) != 0;
}

size_t bp__json_str_len(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  if (BP__UNLIKELY(n > (SIZE_MAX - 2) / 6)) { /* 6 bytes a byte could overflow: saturate */
    size_t len = bp__size_add(n, 2);
    for (size_t i = 0; i < n; i++) len = bp__size_add(len, esc_len[p[i]] - 1u);
    return len;
  }
  size_t len = n + 2, i = 0;
  for (; i + 8 <= n; i += 8)
    if (word_escapes(p + i))
      for (size_t k = i; k < i + 8; k++) len += esc_len[p[k]] - 1u;
  for (; i < n; i++) len += esc_len[p[i]] - 1u;
  return len;
}

char *bp__json_str_put(char *out, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  const unsigned char *p = (const unsigned char *)s;
  *out++ = '"';
  if (!n) {
    *out++ = '"';
    return out;
  }
  size_t run = 0; /* start of the pending verbatim run */
  for (size_t i = 0; i < n; i++) {
    while (i + 8 <= n && !word_escapes(p + i)) i += 8; /* verbatim words: the run goes on */
    if (i == n) break;
    unsigned char c = p[i];
    if (esc_len[c] == 1) continue;
    out = bp__put(out, s + run, i - run);
    run = i + 1;
    *out++ = '\\';
    switch (c) {
      case '"': *out++ = '"'; break;
      case '\\': *out++ = '\\'; break;
      case '\b': *out++ = 'b'; break;
      case '\t': *out++ = 't'; break;
      case '\n': *out++ = 'n'; break;
      case '\f': *out++ = 'f'; break;
      case '\r': *out++ = 'r'; break;
      default:
        out = BP__PUT_LIT(out, "u00");
        *out++ = hex[c >> 4];
        *out++ = hex[c & 15];
    }
  }
  out = bp__put(out, s + run, n - run);
  *out++ = '"';
  return out;
}

size_t bp__u64_len(uint64_t v) {
  size_t n = 1;
  while (v >= 10) {
    v /= 10;
    n++;
  }
  return n;
}

char *bp__u64_put(char *out, uint64_t v) {
  size_t n = bp__u64_len(v);
  for (size_t i = n; i-- > 0; v /= 10) out[i] = (char)('0' + v % 10);
  return out + n;
}
