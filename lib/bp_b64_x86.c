/* SPDX-License-Identifier: MIT */
/*
 * SIMD bulk loops of the base64 codec (bp_b64.c) for x86: SSSE3 (16 characters a step) and
 * AVX2 (32), each compiled for its instruction set with a target attribute, so the library
 * stays built for baseline x86-64 and bp_b64.c calls them only when the CPU has it.
 * Each loop handles a prefix of whole blocks and returns how far it got; bp_b64.c finishes
 * with the portable code, so the loops never read or write past their arguments.
 *
 * The method is the published one of Muła and Lemire ("Faster Base64 Encoding and Decoding
 * using AVX2 Instructions", 2018):
 * - encode: a byte shuffle puts each 3-byte group as [b a c b] in a 32-bit lane; two
 *   masked 16-bit multiplies move the four 6-bit fields into four bytes; a saturating
 *   subtract and a compare give each field's range (A-Z, a-z, 0-9, '+', '/'), and a
 *   16-entry table (pshufb) the offset that turns it into its character.
 * - validate: a byte is in the alphabet when the bit classes of its high nibble and of its
 *   low nibble, both found with pshufb, do not intersect.
 * - decode: the offset to subtract comes from the high nibble (with '/' told from '+'),
 *   then multiply-add pairs fields into 12 and 24 bits, and a shuffle packs 3 bytes of 4.
 */
#include "bp_b64_int.h"

#if BP__B64_X86
#include <immintrin.h>
#include <string.h>

/* ---- the constants, as byte tables (both widths broadcast them per 128-bit lane) ---- */

/* [b a c b] for each input group of 3 bytes (of 12 in a lane). */
#define ENC_SHUF 1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10
/* Offset added to a 6-bit value, by its range: 0 = 26..51 ('a'), 1..10 = 52..61 ('0'),
 * 11 = 62 ('+'), 12 = 63 ('/'), 13 = 0..25 ('A'). */
#define ENC_OFFSET 71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0
/* Bit classes: a byte is outside the alphabet when lo[low nibble] & hi[high nibble] != 0.
 * 0x01 any byte of rows 0x0_, 0x1_, 0x8_..0xF_; 0x02 row 0x2_ except '+' and '/';
 * 0x04 row 0x3_ above '9'; 0x08 '@' and '`'; 0x10 rows 0x5_ and 0x7_ above 'Z' and 'z'. */
#define VAL_LO 0x0B, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x07, 0x15, 0x17, \
               0x17, 0x17, 0x15
#define VAL_HI 0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x08, 0x10, 0x01, 0x01, 0x01, 0x01, 0x01, \
               0x01, 0x01, 0x01
/* Added to a character to get its value, by high nibble (index 1 is '/', index 2 '+'). */
#define DEC_ROLL 0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0
/* Bytes 2, 1, 0 of each 32-bit lane holding a 24-bit group: the 3 output bytes in order. */
#define DEC_PACK 2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1

/* ---- SSSE3 ---- */

#define SSE_TARGET __attribute__((target("ssse3")))

SSE_TARGET static __m128i sse_enc_block(__m128i v) {
  v = _mm_shuffle_epi8(v, _mm_setr_epi8(ENC_SHUF));
  __m128i hi = _mm_mulhi_epu16(_mm_and_si128(v, _mm_set1_epi32(0x0fc0fc00)),
                               _mm_set1_epi32(0x04000040));
  __m128i lo = _mm_mullo_epi16(_mm_and_si128(v, _mm_set1_epi32(0x003f03f0)),
                               _mm_set1_epi32(0x01000010));
  __m128i idx = _mm_or_si128(hi, lo); /* one 6-bit value a byte */
  __m128i range = _mm_subs_epu8(idx, _mm_set1_epi8(51));
  range = _mm_or_si128(range, _mm_and_si128(_mm_cmpgt_epi8(_mm_set1_epi8(26), idx),
                                            _mm_set1_epi8(13)));
  return _mm_add_epi8(idx, _mm_shuffle_epi8(_mm_setr_epi8(ENC_OFFSET), range));
}

SSE_TARGET size_t bp__b64_enc_ssse3(const uint8_t *in, size_t n, char *out) {
  size_t i = 0;
  for (; n - i >= 16; i += 12, out += 16) /* reads 16 bytes, uses 12 */
    _mm_storeu_si128((__m128i *)out, sse_enc_block(_mm_loadu_si128((const __m128i *)(in + i))));
  return i;
}

/* Non-zero bytes where v holds a byte outside the alphabet. */
SSE_TARGET static __m128i sse_invalid(__m128i v, __m128i hi_nib) {
  __m128i lo_nib = _mm_and_si128(v, _mm_set1_epi8(0x0f));
  return _mm_and_si128(_mm_shuffle_epi8(_mm_setr_epi8(VAL_LO), lo_nib),
                       _mm_shuffle_epi8(_mm_setr_epi8(VAL_HI), hi_nib));
}

SSE_TARGET static __m128i sse_hi_nibble(__m128i v) {
  return _mm_and_si128(_mm_srli_epi32(v, 4), _mm_set1_epi8(0x0f));
}

/* The 12 decoded bytes of 16 alphabet characters, in bytes 0..11. */
SSE_TARGET static __m128i sse_dec_block(__m128i v, __m128i hi_nib) {
  __m128i roll = _mm_add_epi8(hi_nib, _mm_cmpeq_epi8(v, _mm_set1_epi8('/')));
  v = _mm_add_epi8(v, _mm_shuffle_epi8(_mm_setr_epi8(DEC_ROLL), roll));
  v = _mm_maddubs_epi16(v, _mm_set1_epi32(0x01400140)); /* 2 x 6 bits -> 12 */
  v = _mm_madd_epi16(v, _mm_set1_epi32(0x00011000));    /* 2 x 12 bits -> 24 */
  return _mm_shuffle_epi8(v, _mm_setr_epi8(DEC_PACK));
}

SSE_TARGET size_t bp__b64_dec_ssse3(const char *in, size_t n, uint8_t *out, unsigned *bad) {
  __m128i err = _mm_setzero_si128();
  size_t i = 0;
  /* A 16-byte store writes 4 bytes past the block: only while the output goes on. */
  for (; n - i >= 24; i += 16, out += 12) {
    __m128i v = _mm_loadu_si128((const __m128i *)(in + i)), h = sse_hi_nibble(v);
    err = _mm_or_si128(err, sse_invalid(v, h));
    _mm_storeu_si128((__m128i *)out, sse_dec_block(v, h));
  }
  for (;; i += 16, out += 12) {
    if (n - i < 16) { /* as in bp__b64_dec_avx2: a last block over decoded quads */
      if (i == 0 || i == n || (n - i) % 4) break;
      out -= (16 - (n - i)) / 4 * 3;
      i = n - 16;
    }
    __m128i v = _mm_loadu_si128((const __m128i *)(in + i)), h = sse_hi_nibble(v);
    err = _mm_or_si128(err, sse_invalid(v, h));
    __m128i d = sse_dec_block(v, h);
    _mm_storel_epi64((__m128i *)out, d);
    int32_t last = _mm_cvtsi128_si32(_mm_srli_si128(d, 8));
    memcpy(out + 8, &last, 4);
  }
  *bad |= (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(err, _mm_setzero_si128())) ^ 0xFFFFu;
  return i;
}

SSE_TARGET size_t bp__b64_valid_ssse3(const char *in, size_t n, char *copy, unsigned *bad) {
  __m128i err = _mm_setzero_si128();
  size_t i = 0;
  for (;; i += 16) {
    if (n - i < 16) {
      if (i == n || n < 16) break;
      i = n - 16; /* the last block overlaps the one before: no scalar tail */
    }
    __m128i v = _mm_loadu_si128((const __m128i *)(in + i));
    err = _mm_or_si128(err, sse_invalid(v, sse_hi_nibble(v)));
    if (copy) _mm_storeu_si128((__m128i *)(copy + i), v);
  }
  *bad |= (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(err, _mm_setzero_si128())) ^ 0xFFFFu;
  return i;
}

/* ---- AVX2: the same steps on two 128-bit lanes ---- */

#define AVX_TARGET __attribute__((target("avx2")))
#define B256(...) _mm256_setr_epi8(__VA_ARGS__, __VA_ARGS__)

AVX_TARGET static __m256i avx_enc_block(__m256i v) {
  v = _mm256_shuffle_epi8(v, B256(ENC_SHUF));
  __m256i hi = _mm256_mulhi_epu16(_mm256_and_si256(v, _mm256_set1_epi32(0x0fc0fc00)),
                                  _mm256_set1_epi32(0x04000040));
  __m256i lo = _mm256_mullo_epi16(_mm256_and_si256(v, _mm256_set1_epi32(0x003f03f0)),
                                  _mm256_set1_epi32(0x01000010));
  __m256i idx = _mm256_or_si256(hi, lo);
  __m256i range = _mm256_subs_epu8(idx, _mm256_set1_epi8(51));
  range = _mm256_or_si256(range, _mm256_and_si256(_mm256_cmpgt_epi8(_mm256_set1_epi8(26), idx),
                                                  _mm256_set1_epi8(13)));
  return _mm256_add_epi8(idx, _mm256_shuffle_epi8(B256(ENC_OFFSET), range));
}

AVX_TARGET size_t bp__b64_enc_avx2(const uint8_t *in, size_t n, char *out) {
  size_t i = 0;
  /* 24 bytes a step, 12 in each lane: two 16-byte loads (reading 28 bytes). */
  for (; n - i >= 28; i += 24, out += 32) {
    __m256i v = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(in + i))),
        _mm_loadu_si128((const __m128i *)(in + i + 12)), 1);
    _mm256_storeu_si256((__m256i *)out, avx_enc_block(v));
  }
  return i;
}

AVX_TARGET static __m256i avx_hi_nibble(__m256i v) {
  return _mm256_and_si256(_mm256_srli_epi32(v, 4), _mm256_set1_epi8(0x0f));
}

AVX_TARGET static __m256i avx_invalid(__m256i v, __m256i hi_nib) {
  __m256i lo_nib = _mm256_and_si256(v, _mm256_set1_epi8(0x0f));
  return _mm256_and_si256(_mm256_shuffle_epi8(B256(VAL_LO), lo_nib),
                          _mm256_shuffle_epi8(B256(VAL_HI), hi_nib));
}

/* The 24 decoded bytes of 32 alphabet characters, in bytes 0..23. */
AVX_TARGET static __m256i avx_dec_block(__m256i v, __m256i hi_nib) {
  __m256i roll = _mm256_add_epi8(hi_nib, _mm256_cmpeq_epi8(v, _mm256_set1_epi8('/')));
  v = _mm256_add_epi8(v, _mm256_shuffle_epi8(B256(DEC_ROLL), roll));
  v = _mm256_maddubs_epi16(v, _mm256_set1_epi32(0x01400140));
  v = _mm256_madd_epi16(v, _mm256_set1_epi32(0x00011000));
  v = _mm256_shuffle_epi8(v, B256(DEC_PACK));
  return _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7));
}

AVX_TARGET static unsigned avx_any(__m256i err) {
  return (unsigned)_mm256_testz_si256(err, err) ^ 1u;
}

AVX_TARGET size_t bp__b64_dec_avx2(const char *in, size_t n, uint8_t *out, unsigned *bad) {
  __m256i err = _mm256_setzero_si256();
  size_t i = 0;
  /* A 32-byte store writes 8 bytes past the block: only while the output goes on. */
  for (; n - i >= 44; i += 32, out += 24) {
    __m256i v = _mm256_loadu_si256((const __m256i *)(in + i)), h = avx_hi_nibble(v);
    err = _mm256_or_si256(err, avx_invalid(v, h));
    _mm256_storeu_si256((__m256i *)out, avx_dec_block(v, h));
  }
  for (;; i += 32, out += 24) {
    if (n - i < 32) {
      /* Whole quads left after a block: one more block ending at n, over quads already
       * decoded (the same bytes again), instead of a scalar tail. */
      if (i == 0 || i == n || (n - i) % 4) break;
      out -= (32 - (n - i)) / 4 * 3;
      i = n - 32;
    }
    __m256i v = _mm256_loadu_si256((const __m256i *)(in + i)), h = avx_hi_nibble(v);
    err = _mm256_or_si256(err, avx_invalid(v, h));
    __m256i d = avx_dec_block(v, h);
    _mm_storeu_si128((__m128i *)out, _mm256_castsi256_si128(d));
    _mm_storel_epi64((__m128i *)(out + 16), _mm256_extracti128_si256(d, 1));
  }
  *bad |= avx_any(err);
  return i;
}

AVX_TARGET size_t bp__b64_valid_avx2(const char *in, size_t n, char *copy, unsigned *bad) {
  __m256i err = _mm256_setzero_si256();
  size_t i = 0;
  for (;; i += 32) {
    if (n - i < 32) {
      if (i == n || n < 32) break;
      i = n - 32; /* the last block overlaps the one before: no scalar tail */
    }
    __m256i v = _mm256_loadu_si256((const __m256i *)(in + i));
    err = _mm256_or_si256(err, avx_invalid(v, avx_hi_nibble(v)));
    if (copy) _mm256_storeu_si256((__m256i *)(copy + i), v);
  }
  *bad |= avx_any(err);
  return i;
}

AVX_TARGET int bp__b64_dec_run_avx2(const char *in, size_t avail, uint8_t *out, size_t *run) {
  for (size_t i = 0; avail - i >= 32; i += 32, out += 24) {
    __m256i v = _mm256_loadu_si256((const __m256i *)(in + i)), h = avx_hi_nibble(v);
    __m256i ok = _mm256_cmpeq_epi8(avx_invalid(v, h), _mm256_setzero_si256());
    uint32_t m = (uint32_t)_mm256_movemask_epi8(ok);
    if (m == 0xFFFFFFFFu) {
      _mm256_storeu_si256((__m256i *)out, avx_dec_block(v, h));
      continue;
    }
    /* The last block: other bytes as 'A' (zero bits), so the run's own bytes come out
     * exact (a byte outside the alphabet would carry into its neighbours' bits). */
    v = _mm256_or_si256(_mm256_and_si256(ok, v), _mm256_andnot_si256(ok, _mm256_set1_epi8('A')));
    _mm256_storeu_si256((__m256i *)out, avx_dec_block(v, avx_hi_nibble(v)));
    *run = i + (size_t)__builtin_ctz(~m);
    return 1;
  }
  return 0;
}

#else
typedef int bp__b64_x86_unused; /* not an x86 build: an empty translation unit is not C */
#endif
