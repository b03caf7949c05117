/* SPDX-License-Identifier: MIT */
/*
 * SIMD bulk loops of the base64 codec (bp_b64.c) for AArch64, where NEON is always present.
 * As for x86 (bp_b64_x86.c), each loop handles a prefix of whole blocks and returns how far
 * it got; bp_b64.c finishes with the portable code.
 *
 * NEON's structured loads and stores do the (de)interleaving: vld3 splits 48 bytes into
 * the first, second and third byte of each 3-byte group, vld4 splits 64 characters by their
 * place in a quad, and vst4 / vst3 interleave the results. Characters are looked up in a
 * 64-entry table (vqtbl4, 0 for an index out of range) twice, for ASCII 0..63 and 64..127:
 * a byte outside the alphabet gets 0xFF, and bytes from 128 up keep their own top bit, so
 * one OR of both says whether all were valid.
 */
#include "bp_b64_int.h"

#if BP__B64_ARM64
#include <arm_neon.h>

static const uint8_t neon_alphabet[64] = {
    'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', 'P',
    'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'a', 'b', 'c', 'd', 'e', 'f',
    'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v',
    'w', 'x', 'y', 'z', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '+', '/'};

#define X 0xFF
/* Values of ASCII 0..63 ('+', '/', digits) and of 64..127 (letters); X outside. */
static const uint8_t neon_value_lo[64] = {
    X, X, X, X, X, X, X, X, X, X, X, X, X,  X, X, X, X,  X,  X,  X,  X,  X,
    X, X, X, X, X, X, X, X, X, X, X, X, X,  X, X, X, X,  X,  X,  X,  X,  62,
    X, X, X, 63, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X, X, X, X, X, X};
static const uint8_t neon_value_hi[64] = {
    X,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
    21, 22, 23, 24, 25, X,  X,  X,  X,  X,  X,  26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36,
    37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X,  X,  X,  X,  X};
#undef X

size_t bp__b64_enc_neon(const uint8_t *in, size_t n, char *out) {
  uint8x16x4_t abc = vld1q_u8_x4(neon_alphabet);
  uint8x16_t six = vdupq_n_u8(63);
  size_t i = 0;
  for (; n - i >= 48; i += 48, out += 64) {
    uint8x16x3_t v = vld3q_u8(in + i);
    uint8x16x4_t c;
    c.val[0] = vshrq_n_u8(v.val[0], 2);
    c.val[1] = vandq_u8(vorrq_u8(vshlq_n_u8(v.val[0], 4), vshrq_n_u8(v.val[1], 4)), six);
    c.val[2] = vandq_u8(vorrq_u8(vshlq_n_u8(v.val[1], 2), vshrq_n_u8(v.val[2], 6)), six);
    c.val[3] = vandq_u8(v.val[2], six);
    for (int k = 0; k < 4; k++) c.val[k] = vqtbl4q_u8(abc, c.val[k]);
    vst4q_u8((uint8_t *)out, c);
  }
  return i;
}

typedef struct neon_tables {
  uint8x16x4_t lo, hi;
} neon_tables;

static neon_tables neon_tables_load(void) {
  neon_tables t = {vld1q_u8_x4(neon_value_lo), vld1q_u8_x4(neon_value_hi)};
  return t;
}

/* The values of 16 characters; an invalid one's value or the character has bit 7 set. */
static uint8x16_t neon_lookup(const neon_tables *t, uint8x16_t c) {
  return vorrq_u8(vqtbl4q_u8(t->lo, c), vqtbl4q_u8(t->hi, vsubq_u8(c, vdupq_n_u8(64))));
}

static unsigned neon_any_bit7(uint8x16_t acc) { return vmaxvq_u8(acc) >> 7; }

size_t bp__b64_dec_neon(const char *in, size_t n, uint8_t *out, unsigned *bad) {
  neon_tables t = neon_tables_load();
  uint8x16_t acc = vdupq_n_u8(0);
  size_t i = 0;
  for (; n - i >= 64; i += 64, out += 48) {
    uint8x16x4_t c = vld4q_u8((const uint8_t *)in + i);
    uint8x16_t a = neon_lookup(&t, c.val[0]), b = neon_lookup(&t, c.val[1]);
    uint8x16_t d = neon_lookup(&t, c.val[2]), e = neon_lookup(&t, c.val[3]);
    acc = vorrq_u8(acc, vorrq_u8(vorrq_u8(a, b), vorrq_u8(d, e)));
    acc = vorrq_u8(acc, vorrq_u8(vorrq_u8(c.val[0], c.val[1]), vorrq_u8(c.val[2], c.val[3])));
    uint8x16x3_t o;
    o.val[0] = vorrq_u8(vshlq_n_u8(a, 2), vshrq_n_u8(b, 4));
    o.val[1] = vorrq_u8(vshlq_n_u8(b, 4), vshrq_n_u8(d, 2));
    o.val[2] = vorrq_u8(vshlq_n_u8(d, 6), e);
    vst3q_u8(out, o);
  }
  *bad |= neon_any_bit7(acc);
  return i;
}

size_t bp__b64_valid_neon(const char *in, size_t n, char *copy, unsigned *bad) {
  neon_tables t = neon_tables_load();
  uint8x16_t acc = vdupq_n_u8(0);
  size_t i = 0;
  for (;; i += 16) {
    if (n - i < 16) {
      if (i == n || n < 16) break;
      i = n - 16; /* the last block overlaps the one before: no scalar tail */
    }
    uint8x16_t c = vld1q_u8((const uint8_t *)in + i);
    acc = vorrq_u8(acc, vorrq_u8(neon_lookup(&t, c), c));
    if (copy) vst1q_u8((uint8_t *)copy + i, c);
  }
  *bad |= neon_any_bit7(acc);
  return i;
}

#else
typedef int bp__b64_neon_unused; /* not an AArch64 build: an empty translation unit is not C */
#endif
