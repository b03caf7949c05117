/* SPDX-License-Identifier: MIT */
/*
 * Base64 on every path this CPU runs (portable, then SSSE3 and AVX2, or NEON:
 * bp__b64_path()) gives the same result: output bytes and return code of encode, decode and
 * the strict check (and its copying form), on the inputs of test_b64.c, on random valid
 * texts of every length 0..300 and large ones, and on each of them corrupted at every
 * position class (a byte outside the alphabet, '=' inside, wrong padding, non-zero unused
 * bits, trailing data, whitespace, truncation). A spec-level checker written here says what
 * each answer must be. Inputs and outputs live in exact-size heap blocks, so `make sanitize`
 * catches any read or write past them.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "batchpoint.h"
#include "bp_b64_int.h"

#if BP__B64_ARM64
static const char *const path_name[] = {"portable", "neon"};
#else
static const char *const path_name[] = {"portable", "ssse3", "avx2"};
#endif
static int best;
static unsigned long compared;

/* The strict rule, independently: length % 4 == 0, alphabet only except one or two final
 * '=', and zero unused bits before the padding. */
static int alpha_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

static int spec_valid(const char *s, size_t n) {
  if (n % 4) return 0;
  size_t pad = 0;
  if (n && s[n - 1] == '=') pad = (n >= 2 && s[n - 2] == '=') ? 2 : 1;
  for (size_t i = 0; i < n - pad; i++)
    if (alpha_value((unsigned char)s[i]) < 0) return 0;
  if (pad == 1 && (alpha_value((unsigned char)s[n - 2]) & 3)) return 0;
  if (pad == 2 && (alpha_value((unsigned char)s[n - 3]) & 15)) return 0;
  return 1;
}

/* Every path on @p text (copied into an exact-size block); all agree with the portable path
 * and with spec_valid(); returns that verdict. */
static int same_on_all_paths(const char *text, size_t n) {
  char *in = malloc(n ? n : 1);
  assert_non_null(in);
  memcpy(in, text, n);
  size_t room = n / 4 * 3 + 3; /* the decoded length is at most n / 4 * 3 */
  uint8_t *ref = malloc(room);
  assert_non_null(ref);
  size_t ref_w = 0, ref_len = 0;
  int ref_rc = bp__b64_decode_on(BP__B64_PORTABLE, in, n, ref, room, &ref_w);
  int ref_chk = bp__b64_check_on(BP__B64_PORTABLE, in, n, &ref_len);
  int valid = spec_valid(text, n);
  if ((ref_rc == 0) != valid || (ref_chk == 0) != valid)
    fail_msg("portable: decode %d check %d, spec says %s (n %zu)", ref_rc, ref_chk,
             valid ? "valid" : "invalid", n);
  if (valid) assert_int_equal(ref_w, ref_len);
  /* the check that copies (the encoder's pass-through), into an exact-size block */
  for (int p = BP__B64_PORTABLE; p <= best; p++) {
    char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    assert_int_equal(bp__b64_check_copy_on(p, in, n, copy), ref_chk);
    if (valid) assert_memory_equal(copy, text, n);
    free(copy);
  }
  for (int p = BP__B64_PORTABLE + 1; p <= best; p++) {
    /* exactly the decoded length when valid: the SIMD stores must stay inside it */
    size_t cap = valid ? ref_w : room;
    uint8_t *out = malloc(cap ? cap : 1);
    assert_non_null(out);
    size_t w = 7777, len = 7777;
    int rc = bp__b64_decode_on(p, in, n, out, cap, &w);
    int chk = bp__b64_check_on(p, in, n, &len);
    if (rc != ref_rc || chk != ref_chk)
      fail_msg("%s: decode %d check %d, portable %d %d (n %zu)", path_name[p], rc, chk, ref_rc,
               ref_chk, n);
    if (valid) {
      assert_int_equal(w, ref_w);
      assert_int_equal(len, ref_len);
      assert_memory_equal(out, ref, w);
    } else {
      assert_int_equal(w, 7777); /* untouched on error */
    }
    free(out);
    compared++;
  }
  free(ref);
  free(in);
  return valid;
}

/* Encode on every path into exact-size blocks, the same text; then that text round-trips. */
static void encode_all_paths(const uint8_t *raw, size_t n, char *text_out) {
  uint8_t *in = malloc(n ? n : 1);
  assert_non_null(in);
  memcpy(in, raw, n);
  size_t len = bp_base64_encoded_len(n);
  char *ref = malloc(len ? len : 1);
  assert_non_null(ref);
  assert_int_equal(bp__b64_encode_on(BP__B64_PORTABLE, in, n, ref), len);
  for (int p = BP__B64_PORTABLE + 1; p <= best; p++) {
    char *out = malloc(len ? len : 1);
    assert_non_null(out);
    assert_int_equal(bp__b64_encode_on(p, in, n, out), len);
    assert_memory_equal(out, ref, len);
    free(out);
    compared++;
  }
  /* the public entry point (the best path) gives the same text and decodes back */
  char *pub = malloc(len ? len : 1);
  size_t w;
  assert_int_equal(bp_base64_encode(in, n, pub, len, &w), 0);
  assert_memory_equal(pub, ref, len);
  uint8_t *back = malloc(n ? n : 1);
  assert_int_equal(bp_base64_decode(pub, len, back, n, &w), 0);
  assert_int_equal(w, n);
  assert_memory_equal(back, raw, n);
  if (text_out) memcpy(text_out, ref, len);
  free(back);
  free(pub);
  free(ref);
  free(in);
}

static uint32_t rng = 0x2545F491u;
static uint32_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

static void test_paths_reported(void **state) {
  (void)state;
  best = bp__b64_path();
  assert_true(best >= BP__B64_PORTABLE && best < (int)(sizeof path_name / sizeof path_name[0]));
  printf("base64 paths compared on this CPU: portable..%s\n", path_name[best]);
#if BP__B64_X86
  /* the selection is live: a CPU with AVX2 takes it */
  if (__builtin_cpu_supports("avx2")) assert_int_equal(best, BP__B64_AVX2);
#elif BP__B64_ARM64
  assert_int_equal(best, BP__B64_NEON);
#endif
}

/* The texts test_b64.c holds, valid and invalid. */
static void test_suite_inputs(void **state) {
  (void)state;
  static const char *const texts[] = {
      "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy", "aGVsbG8=",
      "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==", "Zg=", "Zg", "Z", "Zm9v\n", "Zm9v\nYmFy", " Zm9v",
      "Zm9v ", "Zm9v====", "Zg===", "====", "Z===", "Zm=v", "=m9v", "Zg==Zg==", "Zm9-", "Zm9_",
      "Zm9*", "Zm9\x80", "Zh==", "Zm+=", "Zm9=", "aGVsbG8=x", "Zm9v!!Zm9v"};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
    same_on_all_paths(texts[i], strlen(texts[i]));
  assert_false(same_on_all_paths("Zm\0v", 4));
  uint8_t all[256];
  char text[344];
  for (int i = 0; i < 256; i++) all[i] = (uint8_t)i;
  encode_all_paths(all, 256, text);
  assert_true(same_on_all_paths(text, 344));
}

/* Corruptions of a valid text at position @p at: each must be rejected by every path. */
static void corrupt_at(char *text, size_t n, size_t at, size_t nbad) {
  static const unsigned char bad[] = {'=', ' ', '\n', '\r', '\t', '-', '_', '*', '.', ':',
                                      '@', '[', '`', '{', 0x00, 0x7F, 0x80, 0xAB, 0xFF};
  char keep = text[at];
  for (size_t b = 0; b < sizeof bad && b < nbad; b++) {
    text[at] = (char)bad[b];
    int v = same_on_all_paths(text, n);
    /* '=' is valid only as padding at the end */
    if (v && !(bad[b] == '=' && at >= n - 2)) fail_msg("accepted 0x%02X at %zu of %zu", bad[b], at, n);
  }
  /* one random byte too: whatever it is, every path says the same */
  text[at] = (char)next();
  same_on_all_paths(text, n);
  text[at] = keep;
}

/* @p edge positions at each end and as many random ones corrupted (0: every position), each
 * with the first @p nbad bad bytes. */
static void check_text(const uint8_t *raw, size_t n, char *text, char *scratch, size_t edge,
                       size_t nbad) {
  size_t len = bp_base64_encoded_len(n);
  encode_all_paths(raw, n, text);
  assert_true(same_on_all_paths(text, len));
  if (!len) return;
  for (size_t at = 0; at < len; at++)
    if (!edge || at < edge || at + edge >= len) corrupt_at(text, len, at, nbad);
  for (size_t r = 0; r < edge; r++) corrupt_at(text, len, (size_t)next() % len, nbad);
  /* wrong padding, non-zero unused bits: rewrite the last quad */
  static const char *const tails[] = {"A===", "====", "AA=A", "AAA=", "AB==", "AAB=", "A=A=",
                                      "=AAA", "AA==", "AE==", "AAE="};
  memcpy(scratch, text, len);
  for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
    memcpy(scratch + len - 4, tails[t], 4);
    same_on_all_paths(scratch, len);
  }
  /* trailing data, whitespace inserted, truncated */
  static const char *const extra[] = {"A", "=", "AAAA", "Zg==", "\n", " ", "\r\n", "AAA="};
  for (size_t e = 0; e < sizeof extra / sizeof extra[0]; e++) {
    size_t k = strlen(extra[e]);
    memcpy(scratch, text, len);
    memcpy(scratch + len, extra[e], k);
    if (same_on_all_paths(scratch, len + k) && (k % 4 || text[len - 1] == '='))
      fail_msg("trailing data accepted after %zu characters", len);
    size_t mid = (size_t)next() % len;
    memcpy(scratch, text, mid);
    memcpy(scratch + mid, extra[e], k);
    memcpy(scratch + mid + k, text + mid, len - mid);
    if (same_on_all_paths(scratch, len + k) && strpbrk(extra[e], " \r\n"))
      fail_msg("\"%s\" accepted inside, at %zu of %zu", extra[e], mid, len);
  }
  for (size_t cut = 1; cut <= 5 && cut <= len; cut++) same_on_all_paths(text, len - cut);
}

static void test_random_lengths(void **state) {
  (void)state;
  uint8_t raw[400];
  char text[600], scratch[700];
  for (size_t n = 0; n <= 300; n++) {
    for (size_t i = 0; i < n; i++) raw[i] = (uint8_t)next();
    check_text(raw, n, text, scratch, 0, SIZE_MAX);
  }
}

/* Texts of the alphabet's edge characters only (each range's first and last, '+', '/'),
 * where a wrong range boundary in a lookup table would show. */
static void test_alphabet_edges(void **state) {
  (void)state;
  static const char edges[] = "AZaz09+/BYby18";
  char text[257];
  for (int iter = 0; iter < 2000; iter++) {
    size_t n = 4 * (1 + next() % 64);
    for (size_t i = 0; i < n; i++) text[i] = edges[next() % (sizeof edges - 1)];
    assert_true(same_on_all_paths(text, n));
  }
  /* every byte value at every position of a 96-character text (3 AVX2 blocks) */
  memset(text, 'Q', 96);
  for (size_t at = 0; at < 96; at++) {
    for (int b = 0; b < 256; b++) {
      text[at] = (char)b;
      /* 'Q' is 16: its low bits are zero, so "Q=" ends a valid text */
      int expect = alpha_value((unsigned char)b) >= 0 || (b == '=' && at == 95);
      assert_int_equal(same_on_all_paths(text, 96), expect);
    }
    text[at] = 'Q';
  }
}

static void test_large(void **state) {
  (void)state;
  static const size_t sizes[] = {1000, 4095, 4096, 4097, 65536 + 7, 1 << 20};
  static const size_t edges[] = {64, 64, 64, 64, 40, 3}, nbads[] = {SIZE_MAX, 8, 8, 8, 4, 2};
  size_t max = 1 << 20;
  uint8_t *raw = malloc(max);
  char *text = malloc(max / 3 * 4 + 8), *scratch = malloc(max / 3 * 4 + 16);
  assert_non_null(raw);
  assert_non_null(text);
  assert_non_null(scratch);
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    for (size_t i = 0; i < sizes[s]; i++) raw[i] = (uint8_t)next();
    check_text(raw, sizes[s], text, scratch, edges[s], nbads[s]);
  }
  free(raw);
  free(text);
  free(scratch);
  printf("base64 path comparisons: %lu\n", compared);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_paths_reported), cmocka_unit_test(test_suite_inputs),
      cmocka_unit_test(test_random_lengths), cmocka_unit_test(test_alphabet_edges),
      cmocka_unit_test(test_large),
  };
  return cmocka_run_group_tests_name("base64 paths", tests, NULL, NULL);
}
