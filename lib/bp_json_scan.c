/* SPDX-License-Identifier: MIT */
/*
 * The fast path of bp__json_parse: one pass over the text, no allocation per text, the same
 * events as the yajl bridge makes for every text that bridge accepts. It decides only what
 * it can decide exactly; anything else (an error, a stopping callback, a \u escape of a
 * surrogate, which yajl decodes in its own way, nesting deeper than its stack) is left to
 * bp__json_parse, which also words the error. Strings are scanned 16 (SSE2) or 8 bytes at a
 * time, UTF-8 checked only when they hold a byte above 0x7F, and handed over in place unless
 * they hold an escape.
 */
#include <string.h>

#include "bp_json_int.h"

#define JS_MAX_DEPTH 1024 /* deeper texts go to bp__json_parse */
#define JS_HIGHS UINT64_C(0x8080808080808080)

typedef struct js_ctx {
  const char *p, *end;
  const bp__json_cb *cb;
  void *ctx;
  bp__buf *unesc;
  int rc; /* BP_ERR_NOMEM or BP__JSON_UNDECIDED once stopped */
} js_ctx;

/* A callback's answer: 1 (or a key's 2, its value not needed) goes on; 0 (stop) and -1 (out
 * of memory) end the scan. */
static int js_relay(js_ctx *s, int r) {
  if (r > 0) return r;
  s->rc = r < 0 ? BP_ERR_NOMEM : BP__JSON_UNDECIDED;
  return 0;
}

static int js_undecided(js_ctx *s) {
  s->rc = BP__JSON_UNDECIDED;
  return 0;
}

static void js_ws_run(js_ctx *s) {
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
    s->p++;
}

/* Whitespace is rare between tokens: one test (inlined) for the byte of every token. */
static inline void js_ws(js_ctx *s) {
  if (s->p >= s->end || (unsigned char)*s->p <= ' ') js_ws_run(s);
}


#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#define JS_SSE2 1
/* Offset of the first '"', '\\' or control byte of the 16 at @p p (16: none); *high gets
 * their top bits (SSE2 is part of x86-64 itself: no run-time choice). */
static unsigned js_special16(const char *p, unsigned *high) {
  __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
  __m128i q = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
  __m128i b = _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'));
  __m128i ctl = _mm_cmpeq_epi8(_mm_max_epu8(x, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f));
  unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(q, b), ctl));
  *high |= (unsigned)_mm_movemask_epi8(x);
  return m ? (unsigned)__builtin_ctz(m) : 16;
}
#endif

/* Skip bytes that need no attention in a string: @return the first '"', '\\' or control
 * byte at or after @p p, or a position before it from which to go on byte by byte, or
 * @p end. *high collects bytes above 0x7F. */
static const char *js_plain(const char *p, const char *end, unsigned *high) {
#ifdef JS_SSE2
  while (end - p >= 16) {
    unsigned k = js_special16(p, high);
    if (k < 16) return p + k;
    p += 16;
  }
#endif
  while (end - p >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    *high |= (w & JS_HIGHS) != 0;
    if (bp__word_json_escapes(w)) break; /* '"', '\\' or a control byte */
    p += 8;
  }
  return p;
}

static int js_hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decode the escapes of a string body [b, e) (checked) into s->unesc. @return its length,
 * or SIZE_MAX (stopped: s->rc set). */
static size_t js_unescape(js_ctx *s, const char *b, const char *e) {
  s->unesc->len = 0;
  if (bp__buf_reserve(s->unesc, (size_t)(e - b))) {
    s->rc = BP_ERR_NOMEM;
    return SIZE_MAX;
  }
  char *o = s->unesc->data;
  for (const char *p = b; p < e;) {
    if (*p != '\\') {
      *o++ = *p++;
      continue;
    }
    char c = p[1];
    p += 2;
    switch (c) {
    case 'b': *o++ = '\b'; break;
    case 'f': *o++ = '\f'; break;
    case 'n': *o++ = '\n'; break;
    case 'r': *o++ = '\r'; break;
    case 't': *o++ = '\t'; break;
    case 'u': {
      unsigned cp = 0;
      for (int i = 0; i < 4; i++) cp = cp << 4 | (unsigned)js_hex(p[i]);
      p += 4;
      if (cp >= 0xD800 && cp <= 0xDFFF) { /* yajl pairs these its own way */
        s->rc = BP__JSON_UNDECIDED;
        return SIZE_MAX;
      }
      if (cp < 0x80) {
        *o++ = (char)cp;
      } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | cp >> 6);
        *o++ = (char)(0x80 | (cp & 0x3F));
      } else {
        *o++ = (char)(0xE0 | cp >> 12);
        *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
      }
      break;
    }
    default: *o++ = c; break; /* '"', '\\', '/' */
    }
  }
  return (size_t)(o - s->unesc->data);
}

/* A string at s->p (the opening quote): checked (escapes, control bytes, UTF-8), then its
 * bytes given to @p fn. @return 0 when stopped, else fn's answer (1, or a key's 2), 1 without
 * fn. */
static int js_string(js_ctx *s, int (*fn)(void *, const char *, size_t)) {
  const char *b = ++s->p, *p = b, *end = s->end;
  int escaped = 0;
  unsigned high = 0; /* some byte above 0x7F was seen (maybe past the string: harmless) */
  for (;;) {
    p = js_plain(p, end, &high);
    if (p >= end) return js_undecided(s);
    unsigned char c = (unsigned char)*p;
    if (c == '"') break;
    if (c == '\\') {
      if (end - p < 2) return js_undecided(s);
      char x = p[1];
      if (x == 'u') {
        if (end - p < 6 || js_hex(p[2]) < 0 || js_hex(p[3]) < 0 || js_hex(p[4]) < 0 ||
            js_hex(p[5]) < 0)
          return js_undecided(s);
        p += 6;
      } else if (x == '"' || x == '\\' || x == '/' || x == 'b' || x == 'f' || x == 'n' ||
                 x == 'r' || x == 't') {
        p += 2;
      } else {
        return js_undecided(s);
      }
      escaped = 1;
      continue;
    }
    if (c < 0x20) return js_undecided(s);
    high |= c >= 0x80;
    p++;
  }
  s->p = p + 1;
  if (high && !bp__utf8_valid(b, (size_t)(p - b))) return js_undecided(s);
  if (!fn) return 1;
  if (!escaped) return js_relay(s, fn(s->ctx, b, (size_t)(p - b)));
  size_t n = js_unescape(s, b, p);
  return n == SIZE_MAX ? 0 : js_relay(s, fn(s->ctx, s->unesc->data, n));
}

static int js_digits(js_ctx *s) {
  const char *p = s->p;
  while (s->p < s->end && *s->p >= '0' && *s->p <= '9') s->p++;
  return s->p > p;
}

/* A number token (RFC 8259 grammar, as yajl's lexer reads it), given as its text. */
static int js_number(js_ctx *s) {
  const char *b = s->p;
  if (*s->p == '-') s->p++;
  if (s->p < s->end && *s->p == '0') s->p++;
  else if (!js_digits(s)) return js_undecided(s);
  if (s->p < s->end && *s->p == '.') {
    s->p++;
    if (!js_digits(s)) return js_undecided(s);
  }
  if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
    s->p++;
    if (s->p < s->end && (*s->p == '+' || *s->p == '-')) s->p++;
    if (!js_digits(s)) return js_undecided(s);
  }
  if (!s->cb->number) return 1;
  return js_relay(s, s->cb->number(s->ctx, b, (size_t)(s->p - b)));
}

static int js_word(js_ctx *s, const char *w, size_t n) {
  if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n)) return js_undecided(s);
  s->p += n;
  return 1;
}

/* A scalar, or the opening of a container (*open set to '{' or '['). */
static int js_value(js_ctx *s, char *open) {
  *open = 0;
  if (s->p >= s->end) return js_undecided(s);
  switch (*s->p) {
  case '{':
  case '[':
    *open = *s->p++;
    if (*open == '{' ? !s->cb->start_map : !s->cb->start_array) return 1;
    return js_relay(s, *open == '{' ? s->cb->start_map(s->ctx) : s->cb->start_array(s->ctx));
  case '"':
    return js_string(s, s->cb->string);
  case 't':
    if (!js_word(s, "true", 4)) return 0;
    return !s->cb->boolean || js_relay(s, s->cb->boolean(s->ctx, 1));
  case 'f':
    if (!js_word(s, "false", 5)) return 0;
    return !s->cb->boolean || js_relay(s, s->cb->boolean(s->ctx, 0));
  case 'n':
    if (!js_word(s, "null", 4)) return 0;
    return !s->cb->null_ || js_relay(s, s->cb->null_(s->ctx));
  default:
    if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9')) return js_number(s);
    return js_undecided(s);
  }
}

static int js_close(js_ctx *s, int obj) {
  s->p++;
  int (*fn)(void *) = obj ? s->cb->end_map : s->cb->end_array;
  return !fn || js_relay(s, fn(s->ctx));
}

/* A key, its colon and the whitespace before its value. @return the key callback's answer
 * (2: its value is not needed), or 0 when stopped. */
static int js_key(js_ctx *s) {
  if (s->p >= s->end || *s->p != '"') return js_undecided(s);
  int r = js_string(s, s->cb->map_key);
  if (!r) return 0;
  js_ws(s);
  if (s->p >= s->end || *s->p != ':') return js_undecided(s);
  s->p++;
  js_ws(s);
  return r;
}

/* The events of a value its key's callback does not need: none (the value is still checked). */
static const bp__json_cb js_silent;

/* After a key: a value not needed is scanned silently until the scan is back at @p depth. */
static int js_after_key(js_ctx *s, const bp__json_cb *cb, size_t depth, size_t *quiet) {
  int r = js_key(s);
  if (r == 2 && s->cb == cb) {
    s->cb = &js_silent;
    *quiet = depth;
  }
  return r;
}

static int js_run(js_ctx *s) {
  uint8_t obj[JS_MAX_DEPTH]; /* per open container: 1 object, 0 array */
  size_t depth = 0;
  const bp__json_cb *cb = s->cb;
  size_t quiet = SIZE_MAX; /* depth of the object whose member's value is scanned silently */
  js_ws(s);
  for (;;) {
    char open;
    if (!js_value(s, &open)) return 0;
    if (open) {
      if (depth == JS_MAX_DEPTH) return js_undecided(s);
      obj[depth++] = open == '{';
      js_ws(s);
      if (s->p < s->end && *s->p == (open == '{' ? '}' : ']')) {
        if (!js_close(s, open == '{')) return 0;
        depth--;
      } else {
        if (open == '{' && !js_after_key(s, cb, depth, &quiet)) return 0;
        continue;
      }
    }
    /* After a value: a comma and the next member, or the container's end (maybe several). */
    for (;;) {
      if (depth == quiet) { /* the silent value is over */
        s->cb = cb;
        quiet = SIZE_MAX;
      }
      js_ws(s);
      if (!depth) return s->p == s->end || js_undecided(s);
      if (s->p >= s->end) return js_undecided(s);
      if (*s->p == ',') {
        s->p++;
        js_ws(s);
        if (obj[depth - 1] && !js_after_key(s, cb, depth, &quiet)) return 0;
        break;
      }
      if (*s->p != (obj[depth - 1] ? '}' : ']')) return js_undecided(s);
      if (!js_close(s, obj[depth - 1])) return 0;
      depth--;
    }
  }
}

int bp__json_scan(const char *text, size_t n, const bp__json_cb *cb, void *ctx, bp__buf *unesc) {
  js_ctx s = {text, text + n, cb, ctx, unesc, 0};
  if (!n) return BP__JSON_UNDECIDED;
  return js_run(&s) ? 0 : s.rc;
}
