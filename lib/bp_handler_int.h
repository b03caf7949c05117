/* SPDX-License-Identifier: MIT */
/*
 * The function-side processor (bp_handler*.c): the object, the strict JSON scanner its event
 * parser and DynamoDB reader share, and the compact record index the parser fills. Codec
 * layer: included by bp_handler*.c only.
 */
#ifndef BP_HANDLER_INT_H
#define BP_HANDLER_INT_H

#include <string.h>

#include "bp_int.h"
#include "batchpoint/bp_handler.h"

/* ---- The strict JSON scanner (bp_handler_json.c) ---- */

/* A string of the event: [off, off+len) of the event text, or of the processor's unescape
 * buffer when BP__HS_UNESC is set in len (strings up to 2 GiB). */
#define BP__HS_UNESC 0x80000000u
typedef struct bp__hstr {
  uint32_t off;
  uint32_t len;
} bp__hstr;

/* Scanner errors carry a short static reason; the caller adds the JSON path. */
typedef struct bp__hscan {
  const char *base; /* start of the text (offsets are relative to it) */
  const char *p;    /* the next byte */
  const char *end;
  const char *why;  /* after a failure: what was wrong (static text) */
  bp__buf *unesc;   /* where escaped strings are unescaped */
  bp__buf *stack;   /* nesting stack of bp__hs_skip() */
  int fast;         /* the shortcuts for text as Lambda writes it are on (1 after init) */
} bp__hscan;

void bp__hs_init(bp__hscan *s, const char *text, size_t len, bp__buf *unesc, bp__buf *stack);
/* Skip JSON whitespace (the slow part of bp__hs_peek). */
int bp__hs_peek_ws(bp__hscan *s);
/* Skip JSON whitespace; @return the next byte, or -1 at the end. */
static inline int bp__hs_peek(bp__hscan *s) {
  if (s->p < s->end && (unsigned char)*s->p > ' ') return (unsigned char)*s->p;
  return bp__hs_peek_ws(s);
}
#define BP__HS_ONES 0x0101010101010101ull
#define BP__HS_HIGHS 0x8080808080808080ull
/* Skip plain bytes (printable ASCII other than '"' and '\\'): the first byte from p that
 * needs a look, or a point less than 16 (8) bytes before the end. */
#if defined(__SSE2__)
#include <emmintrin.h>
static inline const unsigned char *bp__hs_skip_plain(const unsigned char *p, const unsigned char *end) {
  const __m128i q = _mm_set1_epi8('"'), b = _mm_set1_epi8('\\'), ctl = _mm_set1_epi8(0x20);
  while (end - p >= 16) {
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    /* signed compare: bytes below 0x20 and every non-ASCII byte (negative) */
    __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, b)),
                             _mm_cmplt_epi8(x, ctl));
    unsigned mask = (unsigned)_mm_movemask_epi8(m);
    if (mask) return p + __builtin_ctz(mask);
    p += 16;
  }
  return p;
}
#else
/* Eight bytes at a time: the lowest flagged byte of each test is exact (borrows only move
 * up), so on a little-endian machine the first special byte is found at once. */
static inline const unsigned char *bp__hs_skip_plain(const unsigned char *p, const unsigned char *end) {
  while (end - p >= 8) {
    uint64_t x, q, b;
    memcpy(&x, p, 8);
    q = x ^ (BP__HS_ONES * '"');
    b = x ^ (BP__HS_ONES * '\\');
    uint64_t m = (((q - BP__HS_ONES) & ~q) | ((b - BP__HS_ONES) & ~b) | ((x - BP__HS_ONES * 0x20) & ~x) | x) & BP__HS_HIGHS;
    if (m) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
      return p + (__builtin_ctzll(m) >> 3);
#else
      return p;
#endif
    }
    p += 8;
  }
  return p;
}
#endif

/* A string without escapes and of printable ASCII only, as Lambda writes its strings, at p
 * (no whitespace before it): @return 1 (read, in @p out), 0 (anything else: bp__hs_string()
 * from the same place). Inline: the envelope has nine such strings a record. */
static inline int bp__hs_plain(bp__hscan *s, bp__hstr *out) {
  const unsigned char *p = (const unsigned char *)s->p, *end = (const unsigned char *)s->end;
  if (p >= end || *p != '"') return 0;
  const unsigned char *q = bp__hs_skip_plain(p + 1, end);
  if (q >= end || *q != '"') return 0;
  out->off = (uint32_t)((const char *)p + 1 - s->base);
  out->len = (uint32_t)(q - p - 1);
  s->p = (const char *)q + 1;
  return 1;
}
/* Expect byte @p c after whitespace (consumed). @return 0 or BP_ERR_INVALID_JSON. */
int bp__hs_expect(bp__hscan *s, char c);
/* A string at p (whitespace skipped; the opening quote expected): validated (UTF-8,
 * escapes), unescaped into s->unesc when it has escapes. @return 0, BP_ERR_INVALID_JSON (not a
 * string: s->why) or BP_ERR_NOMEM. */
int bp__hs_string(bp__hscan *s, bp__hstr *out);
/* A number token: @p tok/@p n its text. @return 0 or BP_ERR_INVALID_JSON. */
int bp__hs_number(bp__hscan *s, const char **tok, size_t *n);
/* true / false. @return 0 or BP_ERR_INVALID_JSON. */
int bp__hs_bool(bp__hscan *s, int *v);
/* Any JSON value, validated and skipped; @p start/@p n its text. @return 0,
 * BP_ERR_INVALID_JSON or BP_ERR_NOMEM (the nesting stack). */
int bp__hs_skip(bp__hscan *s, const char **start, size_t *n);
/* Inside an object after `{` or a member: @return 1 when a member follows (its name in
 * @p key and the `:` consumed), 0 at the closing `}` (consumed), <0 on error. @p first is
 * 1 right after `{`. */
int bp__hs_member(bp__hscan *s, int first, bp__hstr *key);
/* A member name the caller expects, kept as the text between two members as Lambda writes
 * it: `,"name":` (the name itself at tok + 2, @p len bytes). */
typedef struct bp__hkey {
  const char *tok;
  size_t len;
} bp__hkey;
#define BP__HKEY(lit) {",\"" lit "\":", sizeof lit - 1}
/* What bp__hs_member_known() learns of one kind of object: the name that followed each
 * name (and the first, at [nkeys]) last time. Lambda writes its keys in a fixed order, so
 * the guess is almost always right and the name is matched byte for byte, without a scan. */
#define BP__HKEYS_MAX 16
typedef struct bp__hlearn {
  signed char next[BP__HKEYS_MAX + 1];
} bp__hlearn;
void bp__hlearn_init(bp__hlearn *l, int nkeys);
/* A failure of the inline parts below: sets s->why, @return BP_ERR_INVALID_JSON. */
int bp__hs_member_fail(bp__hscan *s, const char *why);
/* Up to a member's opening quote: 1 there, 0 after the object's '}' (consumed), or the
 * error. @p first is 1 right after `{`. */
static inline int bp__hs_member_start(bp__hscan *s, int first) {
  int c = bp__hs_peek(s);
  if (c == '}') {
    s->p++;
    return 0;
  }
  if (!first) {
    if (c != ',') return bp__hs_member_fail(s, "expected ',' or '}'");
    s->p++;
    c = bp__hs_peek(s);
  }
  if (c != '"') return bp__hs_member_fail(s, "expected a member name");
  return 1;
}
/* memcmp(a, b, n) == 0 for short n, inline: whole words, the last one overlapping the one
 * before, so no byte loop (the event's member names have 4 to 27 bytes). */
static inline int bp__hs_same(const char *a, const char *b, size_t n) {
  uint64_t x, y;
  uint32_t u, v;
  if (n >= 8) {
    for (size_t i = 0; i + 8 < n; i += 8) {
      memcpy(&x, a + i, 8);
      memcpy(&y, b + i, 8);
      if (x != y) return 0;
    }
    memcpy(&x, a + n - 8, 8);
    memcpy(&y, b + n - 8, 8);
    return x == y;
  }
  if (n >= 4) {
    memcpy(&u, a, 4);
    memcpy(&v, b, 4);
    if (u != v) return 0;
    memcpy(&u, a + n - 4, 4);
    memcpy(&v, b + n - 4, 4);
    return u == v;
  }
  for (; n; n--)
    if (*a++ != *b++) return 0;
  return 1;
}
/* bp__hs_member_known() after a wrong guess: the name read and looked up. */
int bp__hs_member_guess_missed(bp__hscan *s, const bp__hkey *keys, int nkeys, bp__hlearn *learn,
                               int *prev, int *which, bp__hstr *key);
/* bp__hs_member() for an object whose member names are mostly known (@p keys, at most
 * BP__HKEYS_MAX). *@p prev is the index of the previous member (@p nkeys before the first).
 * On 1, *@p which is the index in @p keys or -1 (an unknown name, in @p key). Inline: it
 * runs for every member of every record, and the guess is almost always right. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int bp__hs_member_known(bp__hscan *s, int first, const bp__hkey *keys, int nkeys,
                                      bp__hlearn *learn, int *prev, int *which, bp__hstr *key) {
  int guess = learn->next[*prev];
  const bp__hkey *k = &keys[guess];
  /* Lambda's text: the separator, the guessed name and the colon in one comparison. */
  size_t tn = k->len + 4 - (size_t)first;
  if (s->fast && (size_t)(s->end - s->p) >= tn && bp__hs_same(s->p, k->tok + first, tn)) {
    *which = *prev = guess;
    s->p += tn;
    return 1;
  }
  int rc = bp__hs_member_start(s, first);
  if (rc <= 0) return rc;
  if (!((size_t)(s->end - s->p) > k->len + 2 && bp__hs_same(s->p + 1, k->tok + 2, k->len) &&
        s->p[k->len + 1] == '"'))
    return bp__hs_member_guess_missed(s, keys, nkeys, learn, prev, which, key);
  *which = *prev = guess;
  s->p += k->len + 2;
  if (bp__hs_peek(s) != ':') return bp__hs_member_fail(s, "expected ':'");
  s->p++;
  return 1;
}
/* A string of decimal digits without escapes, read directly; @return 1 (read, in @p out), 0
 * (something else: use bp__hs_string()). */
int bp__hs_digits(bp__hscan *s, bp__hstr *out);
/* Inside an array: @return 1 when an element follows, 0 at `]` (consumed), <0 on error. */
int bp__hs_element(bp__hscan *s, int first);
/* The bytes of @p str (event text or the unescape buffer). */
static inline const char *bp__hs_ptr(const bp__hscan *s, bp__hstr str) {
  return str.len & BP__HS_UNESC ? s->unesc->data + str.off : s->base + str.off;
}
/* Does @p str equal @p lit (@p lit_len bytes)? Inline: the member names of the event are
 * compared with constants, which the compiler turns into a few loads. */
static inline int bp__hs_eq(const bp__hscan *s, bp__hstr str, const char *lit, size_t lit_len) {
  return (str.len & ~BP__HS_UNESC) == lit_len && memcmp(bp__hs_ptr(s, str), lit, lit_len) == 0;
}

/* ---- The record index (filled by bp_handler_event.c) ---- */

enum {
  BP__HF_EVENT_ID,
  BP__HF_EVENT_NAME,
  BP__HF_EVENT_SOURCE,
  BP__HF_EVENT_SOURCE_ARN,
  BP__HF_AWS_REGION,
  BP__HF_EVENT_VERSION,
  BP__HF_INVOKE_ARN,
  BP__HF_SEQ,
  BP__HF_ARRIVAL,
  BP__HF_PARTITION_KEY,
  BP__HF_SCHEMA,
  BP__HF_ENCRYPTION,
  BP__HF_DATA,
  BP__HF_DYNAMODB,
  BP__HF_KEYS,
  BP__HF_NEW_IMAGE,
  BP__HF_OLD_IMAGE,
  BP__HF_USER_IDENTITY,
  BP__HF_VIEW_TYPE,
  BP__HF_COUNT
};

typedef struct bp__hrec {
  bp__hstr f[BP__HF_COUNT]; /* present when the bit (1 << field) of `present` is set */
  uint32_t present;
  uint32_t data_off;        /* decoded Kinesis data in the processor's data buffer */
  uint32_t data_len;
  int32_t source;
  int64_t arrival_ms;
  int64_t size_bytes;
} bp__hrec;

/* The window members of the event (top level). */
typedef struct bp__hwin {
  int present;  /* a `window` member was seen */
  int64_t start_ms, end_ms;
  int has_start, has_end, has_final, has_shard;
  int is_final, is_terminated_early;
  bp__hstr shard_id, event_source_arn;
  int has_arn;
  const char *state; /* the `state` object's text in the event, NULL when absent */
  size_t state_len;
} bp__hwin;

/* ---- The processor ---- */

/* Blocks that never move (values the DynamoDB reader lends stay put while more are made);
 * kept across records and reset, so a warm processor allocates none. */
typedef struct bp__hblock {
  char *p;
  size_t cap, used;
} bp__hblock;
typedef struct bp__hpool {
  bp__hblock *b;
  size_t n, cap; /* blocks allocated, slots */
  size_t cur;    /* the block being filled */
} bp__hpool;

/* Room for @p n bytes that stays valid until bp__hpool_reset(); NULL on OOM. */
char *bp__hpool_alloc(bp__hpool *pool, const bp_allocator *a, size_t n);
void bp__hpool_reset(bp__hpool *pool);
void bp__hpool_free(bp__hpool *pool, const bp_allocator *a);

typedef struct bp__hfail {
  size_t index;    /* the record's index */
  size_t reason;   /* offset in h->reasons, SIZE_MAX when none */
  size_t reason_len;
  int skipped;
} bp__hfail;

struct bp_handler {
  bp_allocator alloc;
  bp__errmsg err;
  uint32_t flags;
  int in_callback;
  int processed;        /* an event was parsed: window and failures are readable */
  int has_response;
  const char *event;    /* the last event's text (borrowed) */
  size_t event_len;
  bp__buf unesc;        /* unescaped strings of the event */
  bp__buf stack;        /* scanner nesting stack */
  bp__buf data;         /* decoded Kinesis data */
  bp__hrec *recs;       /* the record index */
  size_t nrecs, recs_cap;
  bp__hwin win;
  bp__hfail *fails;
  size_t nfails, fails_cap;
  bp__buf reasons;      /* failure messages */
  bp__buf cur_reason;   /* the current record's message */
  int has_cur_reason;
  bp__buf state;        /* bp_handler_set_state() copy */
  int has_state;
  bp__buf out;          /* the response */
  bp__hpool values;     /* DynamoDB reader: decoded and unescaped values, reset per record */
  bp__buf scratch;      /* unescaping while scanning caller text (reader, set_state) */
  bp__buf scratch_stack;
  int general;          /* test hook (bp__handler_general): the event parser's shortcuts off */
};

/* Parse @p event into h->recs and h->win. @return 0 or an error set in h->err. */
int bp__handler_parse(bp_handler *h, const char *event, size_t len);
/* Tests: @p on 1 parses every later event by the general path only (no shortcut for text as
 * Lambda writes it), so the two can be compared; 0 (the default) restores them. */
void bp__handler_general(bp_handler *h, int on);

#endif
