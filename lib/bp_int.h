/* SPDX-License-Identifier: MIT */
/*
 * The base layer's internals (allocation, error messages, byte buffers, sequence-number order,
 * time formatting, UTF-8), shared by every source of lib/. Never installed. Base layer: it
 * includes nothing private, so every file may include it.
 * Names: bp__ for non-static internal functions (rule 1: unique across files so that a
 * one-file build stays possible).
 */
#ifndef BP_INT_H
#define BP_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "batchpoint/bp_common.h"
#include "batchpoint/bp_record.h"

#if defined(__GNUC__) || defined(__clang__)
#define BP__PRINTF(f, a) __attribute__((format(printf, f, a)))
#define BP__UNLIKELY(x) __builtin_expect(!!(x), 0)
#define BP__PREFETCH(p) __builtin_prefetch(p)
#define BP__NOINLINE __attribute__((noinline)) /* a cold path kept out of a hot caller */
#else
#define BP__PRINTF(f, a)
#define BP__UNLIKELY(x) (x)
#define BP__PREFETCH(p) ((void)(p))
#define BP__NOINLINE
#endif

/* ---- Allocation through the object's copied hooks ---- */

/** Copy @p src (NULL = libc) into @p dst. @return 0 or BP_ERR_INVALID_ARGUMENT (half-set hooks). */
int bp__alloc_copy(bp_allocator *dst, const bp_allocator *src);
void *bp__malloc(const bp_allocator *a, size_t n);
void *bp__calloc(const bp_allocator *a, size_t n, size_t size);
void *bp__realloc(const bp_allocator *a, void *p, size_t n);
void bp__free(const bp_allocator *a, void *p);
/** A NUL-terminated copy of @p n bytes of @p s (which need not be terminated); NULL on OOM. */
char *bp__strndup(const bp_allocator *a, const char *s, size_t n);

/** @return 1 if [@p p, @p p + @p n) could be one object: @p n <= PTRDIFF_MAX and the range does
 *  not wrap past the top of the address space. Checked before reading an unbounded input. */
static inline int bp__span_ok(const void *p, size_t n) {
  return n <= PTRDIFF_MAX && (uintptr_t)p <= UINTPTR_MAX - n;
}

/** bp__span_ok() for an array of @p n elements of @p size bytes (@p size > 0). */
int bp__array_ok(const void *p, size_t n, size_t size);

/** @p a + @p b, or SIZE_MAX when that does not fit (sticky: SIZE_MAX + x is SIZE_MAX). */
static inline size_t bp__size_add(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

/** Copy n bytes; returns the end. Inline, and up to 64 bytes as a few fixed-size moves (two
 * overlapping at the end), so neither a literal nor a short field costs a call: the
 * encoders write a dozen pieces a record, the engine's storage three or more. */
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

/** Non-zero when some byte of @p w is one JSON escapes ('"', '\\' or below 0x20); bytes 0x80
 *  and up never count. (x - 0x01..) & ~x & 0x80.. is non-zero exactly when a byte of x is zero
 *  (a borrow only sets a bit above a zero byte), likewise (w - 0x20..) & ~w for a byte below
 *  0x20; '"' and '\\' leave the high bit alone, so one ~w masks all three. Exact for "some
 *  byte", not for which. */
static inline uint64_t bp__word_json_escapes(uint64_t w) {
  const uint64_t ones = UINT64_C(0x0101010101010101), high = UINT64_C(0x8080808080808080);
  uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
  return ((w - ones * 0x20) | (q - ones) | (b - ones)) & ~w & high;
}

/** Are the eight bytes of @p w all decimal digits? Every byte's high nibble is 3, and adding 6
 *  to its low nibble does not carry into the high nibble (low nibble <= 9); no carry crosses
 *  bytes. */
static inline int bp__word_all_digits(uint64_t w) {
  const uint64_t threes = UINT64_C(0x3030303030303030), high = UINT64_C(0xF0F0F0F0F0F0F0F0);
  return (w & high) == threes && ((w + UINT64_C(0x0606060606060606)) & high) == threes;
}

/** The first byte from @p p on (before @p e) that is not a decimal digit, or @p e: eight
 *  digits at a time while they last, then one by one. */
static inline const char *bp__digits_end(const char *p, const char *e) {
  while (e - p >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    if (!bp__word_all_digits(w)) break;
    p += 8;
  }
  while (p < e && (unsigned char)(*p - '0') <= 9) p++;
  return p;
}

/** Caller memory for an object (SEMANTICS.md §H.8): @return 0, BP_ERR_INVALID_ARGUMENT (NULL or
 *  not aligned to max_align_t) or BP_ERR_BUFFER_TOO_SMALL (@p len below @p need). */
int bp__caller_mem_check(const void *mem, size_t len, size_t need);

/* ---- Per-object last-error message (rule 6) ---- */

#define BP__ERRMSG_LEN 256

typedef struct bp__errmsg {
  char text[BP__ERRMSG_LEN];
  size_t offset; /* byte offset of a parse error, or SIZE_MAX when not applicable */
} bp__errmsg;

void bp__errmsg_clear(bp__errmsg *e);
/** Set the message; returns @p code so callers can `return bp__error(...)`. */
int bp__error(bp__errmsg *e, int code, const char *fmt, ...) BP__PRINTF(3, 4);
int bp__verror(bp__errmsg *e, int code, const char *fmt, va_list ap);
/** Format into a caller (errbuf, errlen) pair that may be NULL/0; returns @p code. */
int bp__errbuf(char *buf, size_t len, int code, const char *fmt, ...) BP__PRINTF(4, 5);

/* ---- Growable byte buffer ---- */

typedef struct bp__buf {
  char *data;
  size_t len;
  size_t cap;
  const bp_allocator *alloc;
} bp__buf;

void bp__buf_init(bp__buf *b, const bp_allocator *alloc);
void bp__buf_free(bp__buf *b);
/** Make room for @p extra more bytes (plus a spare byte for a NUL). */
int bp__buf_reserve(bp__buf *b, size_t extra);
int bp__buf_append(bp__buf *b, const void *p, size_t n);
/** NUL-terminate without counting the NUL in len (room is always reserved). */
void bp__buf_terminate(bp__buf *b);

/* ---- Growable structs (bp_struct.c; "How structs grow" in bp_common.h) ---- */

/* The size of a struct as first published: offsetof its last member + that member's size
 * (not sizeof, which would follow later appends). A host's struct_size may not be below. */
#define BP__SIZE_V1(type, last) (offsetof(type, last) + sizeof(((type *)0)->last))
#define BP__RECORD_SIZE_V1 BP__SIZE_V1(bp_record, user_identity_json_len)

/** Check the struct_size of the host struct at @p src (0 or below @p min_size: a message
 *  naming @p name in errbuf and BP_ERR_INVALID_ARGUMENT). */
int bp__struct_check(const void *src, size_t min_size, const char *name, char *errbuf,
                     size_t errlen);
/** Read a host-filled struct: check it, copy min(struct_size, dst_size) bytes into @p dst
 *  and zero the rest of @p dst. */
int bp__struct_in(void *dst, size_t dst_size, size_t min_size, const void *src,
                  const char *name, char *errbuf, size_t errlen);
/** Write a struct for the host: check the host's struct_size at @p dst, copy that many bytes
 *  of @p src at most, and leave the number copied in dst's struct_size. */
int bp__struct_out(void *dst, const void *src, size_t src_size, size_t min_size,
                   const char *name, char *errbuf, size_t errlen);
/** Initialise a struct the host passes in (bp_X_init()): zero @p size bytes (the caller's
 *  sizeof) and set struct_size to it. @return 0; BP_ERR_INVALID_ARGUMENT (NULL, or @p size
 *  below @p min_size or above UINT32_MAX). */
int bp__struct_init(void *x, size_t size, size_t min_size);
/** The stride of a host's record array: every element's struct_size (all equal, each at
 *  least BP__RECORD_SIZE_V1); sizeof(bp_record) when @p n is 0. */
int bp__records_stride(const bp_record *recs, size_t n, size_t *stride, char *errbuf,
                       size_t errlen);
/** Element @p i of an array checked by bp__records_stride(): itself when the stride is
 *  sizeof(bp_record), otherwise a copy in @p tmp with the members it lacks zeroed. */
const bp_record *bp__record_get(const bp_record *recs, size_t stride, size_t i, bp_record *tmp);

/* ---- Sequence numbers, unchecked (callers validated both) ---- */

/** (length, bytes) order: numeric order for valid sequence numbers, byte equality at 0. */
int bp__seq_cmp(const char *a, size_t alen, const char *b, size_t blen);

/* ---- Time ---- */

/** Writes `ms/1000` "." three digits; no NUL; returns chars written. ms must be in range. */
size_t bp__fmt_epoch_seconds(int64_t ms, char *out);
/** Length bp__fmt_epoch_seconds would write. */
size_t bp__epoch_seconds_len(int64_t ms);
/** 24 chars `YYYY-MM-DDTHH:MM:SS.mmmZ` (with_ms) or 20 chars `...SSZ`; no NUL. */
size_t bp__fmt_iso(int64_t ms, int with_ms, char *out);
/** Civil UTC fields of an in-range epoch-ms value. */
void bp__civil(int64_t ms, int *year, int *month, int *day, int *hour, int *min, int *sec,
               int *milli);
int bp__time_in_range(int64_t ms);
/* `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (RFC 3339, UTC; the fraction truncated to ms) in t[0..n)
 * to epoch ms within bp__time_in_range: 0, else -1 (bp__fmt_iso's inverse). */
int bp__parse_iso(const char *t, size_t n, int64_t *ms);

/* ---- UTF-8 ---- */

/** @return 1 if [s, s+n) is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
int bp__utf8_valid(const char *s, size_t n);

#define BP__UTF8_INVALID (-1)
#define BP__UTF8_TOO_SHORT (-2)
#define BP__UTF8_TOO_LONG (-3)
/** Is [s, s+n) UTF-8 of @p min..@p max code points (max <= SIZE_MAX / 4)? A length above
 *  4 x @p max bytes is refused before any byte is read. @return 0 or a BP__UTF8_* value. */
int bp__utf8_len_check(const char *s, size_t n, size_t min, size_t max);

#endif
