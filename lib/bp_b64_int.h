/* SPDX-License-Identifier: MIT */
/*
 * The library's own base64 (bp_b64.c): encoding without line breaks, and a strict check.
 * Codec layer: included by bp_b64.c, bp_b64_x86.c and the codec, filter and handler sources
 * that encode, check or decode record data only.
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

/* Room bp__b64_decode_quoted() may write beyond the 3/4 of its text. */
#define BP__B64_QUOTED_SLACK 32
/** The strict decode of base64 text at @p in that ends at the first '"' of in[0..avail) (a
 * JSON string's body, read in place), into @p out, which has room for avail / 4 * 3 +
 * BP__B64_QUOTED_SLACK bytes (beyond *@p written its contents are unspecified). On 0,
 * *@p in_len is the text's length (the quote at in[*in_len]) and *@p written the bytes
 * decoded; on BP_ERR_INVALID_BASE64 there is no quote, or the text before it is not
 * base64 exactly as bp_base64_decode() accepts it. */
int bp__b64_decode_quoted(const char *in, size_t avail, uint8_t *out, size_t *in_len,
                          size_t *written);
/* Test hook: bp__b64_decode_quoted() on @p path (as the hooks below). */
int bp__b64_decode_quoted_on(int path, const char *in, size_t avail, uint8_t *out,
                             size_t *in_len, size_t *written);
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__) && !defined(BP_B64_PORTABLE_ONLY)
#define BP__B64_X86 1
/* The run of alphabet characters at the start of in[0..avail), decoded in blocks of 32
 * while each block lies within avail, each written whole (24 bytes and 8 unspecified) at
 * out: @return 1 when the run ends within the blocks read (its length in *@p run, its last
 * partial quad decoded as if the characters after it were 'A'), 0 when avail ran out first. */
int bp__b64_dec_run_avx2(const char *in, size_t avail, uint8_t *out, size_t *run);
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
