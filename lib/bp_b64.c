/* SPDX-License-Identifier: MIT */
/*
 * Base64 (RFC 4648 standard alphabet, `=` padding) without line breaks, and a strict
 * decoder. Own implementation rather than libb64: Debian's libb64 encoder inserts a newline
 * every 72 characters and at the end (Lambda events carry none), its decoder silently
 * accepts bad alphabet, bad padding and trailing data, and a table-driven encoder is several
 * times faster (test/bench/bench_codec.c prints both). The tests use libb64 as an oracle.
 *
 * Here: the portable code, which every build has and which finishes what the SIMD bulk
 * loops (bp_b64_x86.c, bp_b64_neon.c) leave: the tail, and the last quad with its padding.
 * The path is chosen on each call (bp__b64_path()): no state is kept, and a SIMD path sees
 * only whole blocks of alphabet characters, so strictness lives in one place.
 */
#include <string.h>

#include "bp_b64_int.h"
#include "batchpoint/bp_codec.h"

static const char alphabet[65] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Two output characters for each 12-bit value: one lookup per 1.5 input bytes. */
#include "bp_b64_pairs.h"

/* 4 * ceil(n / 3) fits in a size_t exactly when n <= MAX_RAW. */
#define MAX_RAW ((SIZE_MAX / 4) * 3)

size_t bp_base64_encoded_len(size_t n) {
  return n > MAX_RAW ? SIZE_MAX : (n / 3 + (n % 3 != 0)) * 4;
}

static size_t encode_portable(const uint8_t *in, size_t n, char *out) {
  char *o = out;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    memcpy(o, pair_table[v >> 12], 2);
    memcpy(o + 2, pair_table[v & 0xFFF], 2);
    o += 4;
  }
  if (n - i == 1) {
    uint32_t v = (uint32_t)in[i] << 16;
    *o++ = alphabet[v >> 18];
    *o++ = alphabet[(v >> 12) & 63];
    *o++ = '=';
    *o++ = '=';
  } else if (n - i == 2) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
    *o++ = alphabet[v >> 18];
    *o++ = alphabet[(v >> 12) & 63];
    *o++ = alphabet[(v >> 6) & 63];
    *o++ = '=';
  }
  return (size_t)(o - out);
}

int bp__b64_path(void) {
#if BP__B64_X86
  /* The toolchain's CPU model (filled once at load by libgcc or compiler-rt, before which it
   * reads as no feature): one load and a test, so it is asked per call and nothing is
   * cached here. */
  if (__builtin_cpu_supports("avx2")) return BP__B64_AVX2;
  if (__builtin_cpu_supports("ssse3")) return BP__B64_SSSE3;
#elif BP__B64_ARM64
  return BP__B64_NEON;
#endif
  return BP__B64_PORTABLE;
}

/* Whole blocks with the SIMD loops of @p path, the rest portable. */
static size_t encode_on(int path, const uint8_t *in, size_t n, char *out) {
  size_t i = 0;
#if BP__B64_X86
  if (path >= BP__B64_AVX2) i = bp__b64_enc_avx2(in, n, out);
  if (path >= BP__B64_SSSE3) i += bp__b64_enc_ssse3(in + i, n - i, out + i / 3 * 4);
#elif BP__B64_ARM64
  if (path >= BP__B64_NEON) i = bp__b64_enc_neon(in, n, out);
#else
  (void)path;
#endif
  return i / 3 * 4 + encode_portable(in + i, n - i, out + i / 3 * 4);
}

static int clamp_path(int path) {
  int best = bp__b64_path();
  return path > best ? best : path;
}

size_t bp__b64_encode_on(int path, const uint8_t *in, size_t n, char *out) {
  return encode_on(clamp_path(path), in, n, out);
}

size_t bp__b64_encode(const uint8_t *in, size_t n, char *out) {
  return encode_on(bp__b64_path(), in, n, out);
}

int bp_base64_encode(const uint8_t *in, size_t n, char *out, size_t out_len, size_t *written) {
  if ((!in && n) || (!out && n) || !written) return BP_ERR_INVALID_ARGUMENT;
  if (n > MAX_RAW) return BP_ERR_TOO_LARGE;
  size_t need = bp_base64_encoded_len(n);
  if (out_len < need) return BP_ERR_BUFFER_TOO_SMALL;
  *written = encode_on(bp__b64_path(), in, n, out);
  return 0;
}

/* 0..63 for alphabet bytes, 64 for everything else. */
static const unsigned char b64_dec[256] = {
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 62,
    64, 64, 64, 63, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 64, 64, 64, 64, 64, 64, 64, 0,
    1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
    23, 24, 25, 64, 64, 64, 64, 64, 64, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38,
    39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64};

/* The length of the prefix of s[0..n) that the SIMD loops of @p path decoded into @p out (or,
 * when @p dec is 0, checked and copied to @p out unless NULL); *bad set non-zero if a byte
 * there is outside the alphabet. */
static size_t bulk(int path, const unsigned char *s, size_t n, int dec, void *out,
                   unsigned *bad) {
  size_t i = 0;
#if BP__B64_X86
  const char *t = (const char *)s;
  if (dec) {
    uint8_t *o = out;
    if (path >= BP__B64_AVX2) i = bp__b64_dec_avx2(t, n, o, bad);
    if (path >= BP__B64_SSSE3) i += bp__b64_dec_ssse3(t + i, n - i, o + i / 4 * 3, bad);
  } else {
    char *o = out;
    if (path >= BP__B64_AVX2) i = bp__b64_valid_avx2(t, n, o, bad);
    if (path >= BP__B64_SSSE3 && i < n)
      i += bp__b64_valid_ssse3(t + i, n - i, o ? o + i : NULL, bad);
  }
#elif BP__B64_ARM64
  const char *t = (const char *)s;
  if (dec && path >= BP__B64_NEON) i = bp__b64_dec_neon(t, n, out, bad);
  else if (path >= BP__B64_NEON) i = bp__b64_valid_neon(t, n, out, bad);
#else
  (void)path, (void)s, (void)n, (void)dec, (void)out, (void)bad;
#endif
  return i;
}

/* The strict check of in[0..n), and its copy to @p copy unless NULL. */
static int check_on(int path, const char *in, size_t n, char *copy, size_t *decoded_len) {
  const unsigned char *s = (const unsigned char *)in;
  if (n % 4) return BP_ERR_INVALID_BASE64;
  if (n == 0) {
    *decoded_len = 0;
    return 0;
  }
  size_t pad = (s[n - 1] == '=') + (s[n - 1] == '=' && s[n - 2] == '=');
  unsigned bad = 0;
  size_t i = bulk(path, s, n - pad, 0, copy, &bad);
  if (copy && n - i > 2) {
    memcpy(copy + i, s + i, n - i);
  } else if (copy) { /* the padding after a SIMD pass: no call for two bytes */
    for (size_t k = i; k < n; k++) copy[k] = (char)s[k];
  }
  unsigned acc = 0;
  for (; i < n - pad; i++) acc |= b64_dec[s[i]];
  if (bad || (acc & 64)) return BP_ERR_INVALID_BASE64;
  /* The unused low bits of the last symbol must be zero (canonical encoding). */
  if (pad == 1 && (b64_dec[s[n - 2]] & 3)) return BP_ERR_INVALID_BASE64;
  if (pad == 2 && (b64_dec[s[n - 3]] & 15)) return BP_ERR_INVALID_BASE64;
  *decoded_len = n / 4 * 3 - pad;
  return 0;
}

int bp__b64_check_on(int path, const char *in, size_t n, size_t *decoded_len) {
  return check_on(clamp_path(path), in, n, NULL, decoded_len);
}

int bp__b64_check(const char *in, size_t n, size_t *decoded_len) {
  return check_on(bp__b64_path(), in, n, NULL, decoded_len);
}

int bp__b64_check_copy_on(int path, const char *in, size_t n, char *out) {
  size_t len;
  return check_on(clamp_path(path), in, n, out, &len);
}

int bp__b64_check_copy(const char *in, size_t n, char *out) {
  size_t len;
  return check_on(bp__b64_path(), in, n, out, &len);
}

/* Decode full quads while OR-ing their table values: one pass validates and decodes (an
 * invalid byte sets bit 6 of the accumulator). Returns the accumulated flags. */
static unsigned decode_quads(const unsigned char *s, size_t quads, uint8_t *out) {
  unsigned acc = 0;
  for (size_t q = 0; q < quads; q++, s += 4, out += 3) {
    unsigned a = b64_dec[s[0]], b = b64_dec[s[1]], c = b64_dec[s[2]], d = b64_dec[s[3]];
    acc |= a | b | c | d;
    uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | d;
    out[0] = (uint8_t)(v >> 16);
    out[1] = (uint8_t)(v >> 8);
    out[2] = (uint8_t)v;
  }
  return acc;
}

/* Decode the final quad t[0..3], already accepted by bp__b64_check (padded or not). */
static void decode_last_quad(const unsigned char *t, uint8_t *out) {
  size_t pad = (t[3] == '=') + (t[2] == '=');
  if (!pad) {
    decode_quads(t, 1, out);
    return;
  }
  uint32_t v = (uint32_t)b64_dec[t[0]] << 18 | (uint32_t)b64_dec[t[1]] << 12;
  if (pad == 1) v |= (uint32_t)b64_dec[t[2]] << 6;
  out[0] = (uint8_t)(v >> 16);
  if (pad == 1) out[1] = (uint8_t)(v >> 8);
}

static int decode_on(int path, const char *in, size_t n, uint8_t *out, size_t out_len,
                     size_t *written) {
  if ((!in && n) || !written) return BP_ERR_INVALID_ARGUMENT;
  const unsigned char *s = (const unsigned char *)in;
  if (n % 4) return BP_ERR_INVALID_BASE64;
  if (n == 0) {
    *written = 0;
    return 0;
  }
  if (!out) return BP_ERR_INVALID_ARGUMENT;
  /* Sizes first: a text that cannot fit in @p out is refused before any byte is read. */
  if (out_len < n / 4 * 3 - 2) return BP_ERR_BUFFER_TOO_SMALL;
  size_t pad = (s[n - 1] == '=') + (s[n - 1] == '=' && s[n - 2] == '=');
  size_t need = n / 4 * 3 - pad;
  if (out_len < need) return BP_ERR_BUFFER_TOO_SMALL;
  size_t full = n / 4 - 1; /* the last quad, padded or not, is checked strictly apart */
  size_t tail_need;
  if (check_on(BP__B64_PORTABLE, in + full * 4, 4, NULL, &tail_need))
    return BP_ERR_INVALID_BASE64;
  unsigned bad = 0;
  size_t done = bulk(path, s, full * 4, 1, out, &bad) / 4; /* quads */
  bad |= decode_quads(s + done * 4, full - done, out + done * 3) & 64;
  if (bad) return BP_ERR_INVALID_BASE64;
  decode_last_quad(s + full * 4, out + full * 3);
  *written = need;
  return 0;
}

int bp__b64_decode_on(int path, const char *in, size_t n, uint8_t *out, size_t out_len,
                      size_t *written) {
  return decode_on(clamp_path(path), in, n, out, out_len, written);
}

int bp_base64_decode(const char *in, size_t n, uint8_t *out, size_t out_len, size_t *written) {
  return decode_on(bp__b64_path(), in, n, out, out_len, written);
}

#if BP__B64_X86
/* After a decoded run of @p run alphabet characters at @p in: the padding, the quote and the
 * canonical last bits, as decode_on() demands them. */
static int quoted_end(const unsigned char *in, size_t avail, size_t run, size_t *in_len,
                      size_t *written) {
  const unsigned char *e = in + run;
  size_t rest = avail - run, pad = 0;
  if (rest && e[0] == '=') pad = 1 + (rest > 1 && e[1] == '=');
  if (rest <= pad || e[pad] != '"' || (run + pad) % 4) return BP_ERR_INVALID_BASE64;
  if (pad == 1 && (b64_dec[e[-1]] & 3)) return BP_ERR_INVALID_BASE64;
  if (pad == 2 && (b64_dec[e[-1]] & 15)) return BP_ERR_INVALID_BASE64;
  *in_len = run + pad;
  *written = (run + pad) / 4 * 3 - pad;
  return 0;
}
#endif

static int decode_quoted(int path, const char *in, size_t avail, uint8_t *out, size_t *in_len,
                         size_t *written) {
#if BP__B64_X86
  /* One pass: the blocks that decode also find the end (no search for the quote first). */
  size_t run;
  if (path >= BP__B64_AVX2 && bp__b64_dec_run_avx2(in, avail, out, &run))
    return quoted_end((const unsigned char *)in, avail, run, in_len, written);
#endif
  const char *q = memchr(in, '"', avail);
  if (!q) return BP_ERR_INVALID_BASE64;
  *in_len = (size_t)(q - in);
  return decode_on(path, in, *in_len, out, avail / 4 * 3 + BP__B64_QUOTED_SLACK, written)
             ? BP_ERR_INVALID_BASE64
             : 0;
}

int bp__b64_decode_quoted_on(int path, const char *in, size_t avail, uint8_t *out,
                             size_t *in_len, size_t *written) {
  return decode_quoted(clamp_path(path), in, avail, out, in_len, written);
}

int bp__b64_decode_quoted(const char *in, size_t avail, uint8_t *out, size_t *in_len,
                          size_t *written) {
  return decode_quoted(bp__b64_path(), in, avail, out, in_len, written);
}
