/* SPDX-License-Identifier: MIT */
/*
 * A strict JSON scanner for the function side: pull-style (the event parser asks for the
 * member it expects), no DOM, no copy of strings without escapes. Strict as the yajl bridge:
 * RFC 8259 grammar, strict UTF-8 (no overlongs, surrogates or code points above U+10FFFF,
 * also through \u escapes: a lone surrogate hs_escape is refused). Strings are scanned eight
 * bytes at a time while they are plain ASCII, which is what makes a 6 MB event take
 * milliseconds (yajl's callbacks cost several times more: test/bench/bench_handler.c).
 */
#include <string.h>

#include "bp_handler_int.h"


void bp__hs_init(bp__hscan *s, const char *text, size_t len, bp__buf *unesc, bp__buf *stack) {
  s->base = text;
  s->p = text;
  s->end = text + len;
  s->why = "";
  s->unesc = unesc;
  s->stack = stack;
  s->fast = 1;
}

static int hs_fail(bp__hscan *s, const char *why) {
  s->why = why;
  return BP_ERR_INVALID_JSON;
}

int bp__hs_peek_ws(bp__hscan *s) {
  const char *p = s->p;
  while (p < s->end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
  s->p = p;
  return p < s->end ? (unsigned char)*p : -1;
}

int bp__hs_expect(bp__hscan *s, char c) {
  if (bp__hs_peek(s) != (unsigned char)c) {
    static const char *const whys[] = {"expected '{'", "expected ':'", "expected '['",
                                       "unexpected character"};
    return hs_fail(s, c == '{' ? whys[0] : c == ':' ? whys[1] : c == '[' ? whys[2] : whys[3]);
  }
  s->p++;
  return 0;
}

/* Length of the UTF-8 sequence of a non-ASCII lead byte at p, 0 when ill-formed. */
static size_t hs_utf8_seq(const unsigned char *p, const unsigned char *end) {
  unsigned c = p[0];
  size_t avail = (size_t)(end - p);
  if (c < 0xC2 || c > 0xF4) return 0;
  if (c < 0xE0) return avail >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
  if (c < 0xF0) {
    if (avail < 3 || (p[2] & 0xC0) != 0x80) return 0;
    unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    return p[1] >= lo && p[1] <= hi ? 3 : 0;
  }
  if (avail < 4 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
  unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
  return p[1] >= lo && p[1] <= hi ? 4 : 0;
}

static int hs_hex4(const unsigned char *p, unsigned *v) {
  unsigned r = 0;
  for (int i = 0; i < 4; i++) {
    unsigned c = p[i], d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') d = (c | 0x20) - 'a' + 10;
    else return 0;
    r = r << 4 | d;
  }
  *v = r;
  return 1;
}

static size_t hs_put_utf8(unsigned cp, char *o) {
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | cp >> 6);
    o[1] = (char)(0x80 | (cp & 63));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | cp >> 12);
    o[1] = (char)(0x80 | ((cp >> 6) & 63));
    o[2] = (char)(0x80 | (cp & 63));
    return 3;
  }
  o[0] = (char)(0xF0 | cp >> 18);
  o[1] = (char)(0x80 | ((cp >> 12) & 63));
  o[2] = (char)(0x80 | ((cp >> 6) & 63));
  o[3] = (char)(0x80 | (cp & 63));
  return 4;
}

/* One escape at p (the backslash); writes its bytes to o (up to 4) when o is set.
 * @return bytes of input consumed, 0 when invalid. */
static size_t hs_escape(const unsigned char *p, const unsigned char *end, char *o, size_t *olen) {
  if (end - p < 2) return 0;
  char c;
  switch (p[1]) {
  case '"': c = '"'; break;
  case '\\': c = '\\'; break;
  case '/': c = '/'; break;
  case 'b': c = '\b'; break;
  case 'f': c = '\f'; break;
  case 'n': c = '\n'; break;
  case 'r': c = '\r'; break;
  case 't': c = '\t'; break;
  case 'u': {
    unsigned cp, lo;
    if (end - p < 6 || !hs_hex4(p + 2, &cp)) return 0;
    size_t used = 6;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return 0;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || !hs_hex4(p + 8, &lo) || lo < 0xDC00 ||
          lo > 0xDFFF)
        return 0;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      used = 12;
    }
    *olen = o ? hs_put_utf8(cp, o) : 0;
    return used;
  }
  default: return 0;
  }
  if (o) o[0] = c;
  *olen = 1;
  return 2;
}

/* The body of a string from p (after the opening quote). Stores the unescaped text when
 * @p out is set. */
static int hs_string_body(bp__hscan *s, bp__hstr *out) {
  const unsigned char *p = (const unsigned char *)s->p, *end = (const unsigned char *)s->end;
  const unsigned char *start = p;
  for (;;) {
    p = bp__hs_skip_plain(p, end);
    if (p >= end) return hs_fail(s, "unterminated string");
    unsigned c = *p;
    if (c == '"') break;
    if (c == '\\') goto escaped;
    if (c < 0x20) return hs_fail(s, "control character in a string");
    if (c < 0x80) {
      p++;
      continue;
    }
    size_t n = hs_utf8_seq(p, end);
    if (!n) return hs_fail(s, "invalid UTF-8 in a string");
    p += n;
  }
  if (out) {
    out->off = (uint32_t)((const char *)start - s->base);
    out->len = (uint32_t)(p - start);
  }
  s->p = (const char *)p + 1;
  return 0;

escaped:;
  /* Rare: copy what came before, then go byte by byte. */
  bp__buf *u = s->unesc;
  size_t uoff = u->len;
  if (out) {
    int rc = bp__buf_append(u, start, (size_t)(p - start));
    if (rc) return rc;
  }
  for (;;) {
    if (p >= end) return hs_fail(s, "unterminated string");
    unsigned c = *p;
    if (c == '"') break;
    size_t n, olen = 0;
    char tmp[4];
    if (c == '\\') {
      n = hs_escape(p, end, tmp, &olen);
      if (!n) return hs_fail(s, "invalid escape in a string");
    } else if (c < 0x20) {
      return hs_fail(s, "control character in a string");
    } else if (c < 0x80) {
      n = olen = 1;
      tmp[0] = (char)c;
    } else {
      n = olen = hs_utf8_seq(p, end);
      if (!n) return hs_fail(s, "invalid UTF-8 in a string");
      memcpy(tmp, p, n);
    }
    if (out) {
      int rc = bp__buf_append(u, tmp, olen);
      if (rc) return rc;
    }
    p += n;
  }
  if (out) {
    out->off = (uint32_t)uoff;
    out->len = (uint32_t)(u->len - uoff) | BP__HS_UNESC;
  }
  s->p = (const char *)p + 1;
  return 0;
}

int bp__hs_string(bp__hscan *s, bp__hstr *out) {
  if (bp__hs_peek(s) != '"') return hs_fail(s, "expected a string");
  s->p++;
  return hs_string_body(s, out);
}

int bp__hs_number(bp__hscan *s, const char **tok, size_t *n) {
  bp__hs_peek(s);
  const char *p = s->p, *end = s->end, *start = p;
  if (p < end && *p == '-') p++;
  if (p < end && *p == '0') {
    p++;
  } else if (p < end && *p >= '1' && *p <= '9') {
    while (p < end && *p >= '0' && *p <= '9') p++;
  } else {
    return hs_fail(s, "expected a number");
  }
  if (p < end && *p == '.') {
    p++;
    if (p >= end || *p < '0' || *p > '9') return hs_fail(s, "invalid number");
    while (p < end && *p >= '0' && *p <= '9') p++;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < end && (*p == '+' || *p == '-')) p++;
    if (p >= end || *p < '0' || *p > '9') return hs_fail(s, "invalid number");
    while (p < end && *p >= '0' && *p <= '9') p++;
  }
  *tok = start;
  *n = (size_t)(p - start);
  s->p = p;
  return 0;
}

static int hs_literal(bp__hscan *s, const char *lit, size_t n) {
  if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
    return hs_fail(s, "invalid literal");
  s->p += n;
  return 0;
}

int bp__hs_bool(bp__hscan *s, int *v) {
  int c = bp__hs_peek(s);
  if (c == 't') {
    *v = 1;
    return hs_literal(s, "true", 4);
  }
  if (c == 'f') {
    *v = 0;
    return hs_literal(s, "false", 5);
  }
  return hs_fail(s, "expected true or false");
}

int bp__hs_member_fail(bp__hscan *s, const char *why) { return hs_fail(s, why); }

int bp__hs_member(bp__hscan *s, int first, bp__hstr *key) {
  int rc = bp__hs_member_start(s, first);
  if (rc <= 0) return rc;
  s->p++;
  rc = hs_string_body(s, key);
  if (rc) return rc;
  if (bp__hs_peek(s) != ':') return hs_fail(s, "expected ':'");
  s->p++;
  return 1;
}

void bp__hlearn_init(bp__hlearn *l, int nkeys) {
  for (int i = 0; i < nkeys; i++) l->next[i] = (signed char)(i + 1 < nkeys ? i + 1 : 0);
  l->next[nkeys] = 0;
}

int bp__hs_member_guess_missed(bp__hscan *s, const bp__hkey *keys, int nkeys, bp__hlearn *learn,
                                int *prev, int *which, bp__hstr *key) {
  s->p++;
  int rc = hs_string_body(s, key);
  if (rc) return rc;
  *which = -1;
  for (int i = 0; i < nkeys; i++)
    if (bp__hs_eq(s, *key, keys[i].tok + 2, keys[i].len)) *which = i;
  if (*which >= 0) {
    learn->next[*prev] = (signed char)*which;
    *prev = *which;
  }
  if (bp__hs_peek(s) != ':') return hs_fail(s, "expected ':'");
  s->p++;
  return 1;
}

int bp__hs_digits(bp__hscan *s, bp__hstr *out) {
  if (bp__hs_peek(s) != '"') return 0;
  const char *p = s->p + 1, *start = p;
  p = bp__digits_end(p, s->end);
  if (p >= s->end || *p != '"') return 0;
  out->off = (uint32_t)(start - s->base);
  out->len = (uint32_t)(p - start);
  s->p = p + 1;
  return 1;
}

int bp__hs_element(bp__hscan *s, int first) {
  int c = bp__hs_peek(s);
  if (c == ']') {
    s->p++;
    return 0;
  }
  if (!first) {
    if (c != ',') return hs_fail(s, "expected ',' or ']'");
    s->p++;
  }
  return 1;
}

/* A scalar value at p (whitespace skipped), or the opening of a container (not consumed:
 * returns 1 with *open set). */
static int hs_scalar_or_open(bp__hscan *s, int *open) {
  int c = bp__hs_peek(s);
  *open = 0;
  switch (c) {
  case '{':
  case '[':
    *open = c;
    s->p++;
    return 0;
  case '"':
    s->p++;
    return hs_string_body(s, NULL);
  case 't': return hs_literal(s, "true", 4);
  case 'f': return hs_literal(s, "false", 5);
  case 'n': return hs_literal(s, "null", 4);
  case -1: return hs_fail(s, "unexpected end of text");
  default: {
    const char *t;
    size_t n;
    if (c == '-' || (c >= '0' && c <= '9')) return bp__hs_number(s, &t, &n);
    return hs_fail(s, "expected a value");
  }
  }
}

int bp__hs_skip(bp__hscan *s, const char **start, size_t *n) {
  int open, rc;
  bp__hs_peek(s);
  const char *from = s->p;
  if ((rc = hs_scalar_or_open(s, &open))) return rc;
  if (open) {
    bp__buf *st = s->stack;
    st->len = 0;
    if ((rc = bp__buf_append(st, &(char){(char)open}, 1))) return rc;
    int first = 1;
    while (st->len) {
      int r = st->data[st->len - 1] == '{' ? bp__hs_member(s, first, NULL)
                                           : bp__hs_element(s, first);
      if (r < 0) return r;
      if (r == 0) {
        st->len--;
        first = 0;
        continue;
      }
      if ((rc = hs_scalar_or_open(s, &open))) return rc;
      first = 0;
      if (open) {
        if ((rc = bp__buf_append(st, &(char){(char)open}, 1))) return rc;
        first = 1;
      }
    }
  }
  if (start) *start = from;
  if (n) *n = (size_t)(s->p - from);
  return 0;
}
