/* SPDX-License-Identifier: MIT */
/*
 * The library's own base64 (bp_b64.c): encoding without line breaks, and a strict check.
 * Codec layer: included by bp_b64.c, bp_b64_x86.c and the codec and filter sources that
 * encode or check record data only.
 */
#ifndef BP_B64_INT_H
#define BP_B64_INT_H

#include "bp_int.h"

size_t bp__b64_encode(const uint8_t *in, size_t n, char *out);
/** Validate strictly; on success *decoded_len is the number of bytes it decodes to. */
int bp__b64_check(const char *in, size_t n, size_t *decoded_len);
/** bp__b64_check() and a copy of the n characters to @p out, in one pass (the Kinesis
 * encoder's pass-through of base64 data); @p out's contents are unspecified on error. */
int bp__b64_check_copy(const char *in, size_t n, char *out);

/* The bulk loops, by preference: the portable ones, then SIMD ones where the compiler can
 * target them (gcc and clang on x86-64, asked of the CPU per call; AArch64, always). The
 * numbers are levels within one architecture. */
enum { BP__B64_PORTABLE = 0, BP__B64_SSSE3 = 1, BP__B64_AVX2 = 2, BP__B64_NEON = 1 };
/** The best path of this build on this CPU. */
int bp__b64_path(void);
/* Test hooks: bp__b64_encode(), bp_base64_decode() and bp__b64_check() on @p path (a path
 * above bp__b64_path() runs as bp__b64_path()), so the tests compare every path. */
size_t bp__b64_encode_on(int path, const uint8_t *in, size_t n, char *out);
int bp__b64_decode_on(int path, const char *in, size_t n, uint8_t *out, size_t out_len,
                      size_t *written);
int bp__b64_check_on(int path, const char *in, size_t n, size_t *decoded_len);
int bp__b64_check_copy_on(int path, const char *in, size_t n, char *out);

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) && !defined(BP_B64_PORTABLE_ONLY)
#define BP__B64_X86 1
/* bp_b64_x86.c. Each handles a prefix of whole blocks of in[0..n) and returns its length:
 * enc_* a multiple of 3 (4/3 as many characters written at out); dec_* a multiple of 4 of
 * characters, 3/4 as many bytes written at out (which has room for n / 4 * 3 only), and
 * sets *bad non-zero when a character is outside the alphabet ('=' included); valid_* the
 * same check alone, copying the characters to @p copy unless NULL: all n of them when n is at
 * least a block (16 or 32), none otherwise. */
size_t bp__b64_enc_ssse3(const uint8_t *in, size_t n, char *out);
size_t bp__b64_enc_avx2(const uint8_t *in, size_t n, char *out);
size_t bp__b64_dec_ssse3(const char *in, size_t n, uint8_t *out, unsigned *bad);
size_t bp__b64_dec_avx2(const char *in, size_t n, uint8_t *out, unsigned *bad);
size_t bp__b64_valid_ssse3(const char *in, size_t n, char *copy, unsigned *bad);
size_t bp__b64_valid_avx2(const char *in, size_t n, char *copy, unsigned *bad);
#else
#define BP__B64_X86 0
#endif

#if (defined(__GNUC__) || defined(__clang__)) && defined(__aarch64__) && \
    defined(__ARM_NEON) && !defined(BP_B64_PORTABLE_ONLY)
#define BP__B64_ARM64 1
/* bp_b64_neon.c: as the x86 loops above, in blocks of 48 bytes / 64 characters (valid: 16). */
size_t bp__b64_enc_neon(const uint8_t *in, size_t n, char *out);
size_t bp__b64_dec_neon(const char *in, size_t n, uint8_t *out, unsigned *bad);
size_t bp__b64_valid_neon(const char *in, size_t n, char *copy, unsigned *bad);
#else
#define BP__B64_ARM64 0
#endif

#endif
