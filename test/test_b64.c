/* SPDX-License-Identifier: MIT */
/* Base64: RFC 4648 vectors, strict decoding, and libb64 as an oracle (after its newlines). */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <b64/cdecode.h>
#include <b64/cencode.h>

#include "batchpoint.h"

static const struct {
  const char *raw, *b64;
} rfc4648[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},       {"foo", "Zm9v"},
               {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
               {"hello", "aGVsbG8="}, {"Hello, this is a test.", "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg=="}};

static void test_vectors(void **state) {
  (void)state;
  char out[64];
  uint8_t dec[64];
  size_t w;
  for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
    size_t n = strlen(rfc4648[i].raw);
    assert_int_equal(bp_base64_encoded_len(n), strlen(rfc4648[i].b64));
    assert_int_equal(bp_base64_encode((const uint8_t *)rfc4648[i].raw, n, out, sizeof out, &w), 0);
    assert_int_equal(w, strlen(rfc4648[i].b64));
    assert_memory_equal(out, rfc4648[i].b64, w);
    assert_int_equal(bp_base64_decode(rfc4648[i].b64, w, dec, sizeof dec, &w), 0);
    assert_int_equal(w, n);
    assert_memory_equal(dec, rfc4648[i].raw, n);
  }
}

static void test_all_bytes(void **state) {
  (void)state;
  uint8_t raw[256], back[256];
  char text[400];
  size_t w;
  for (int i = 0; i < 256; i++) raw[i] = (uint8_t)i;
  assert_int_equal(bp_base64_encode(raw, 256, text, sizeof text, &w), 0);
  assert_int_equal(w, 344);
  assert_null(memchr(text, '\n', w));
  assert_int_equal(bp_base64_decode(text, w, back, sizeof back, &w), 0);
  assert_int_equal(w, 256);
  assert_memory_equal(raw, back, 256);
}

static void test_strict_rejects(void **state) {
  (void)state;
  uint8_t out[64];
  size_t w = 777;
  const char *bad[] = {
      "Zg=",        /* length not a multiple of 4 */
      "Zg",         "Z",         "Zm9v\n",       /* newline: libb64 style output */
      "Zm9v\nYmFy", " Zm9v",     "Zm9v ",        /* whitespace */
      "Zm9v====",   "Zg===",     "====",         "Z===",   /* bad padding */
      "Zm=v",       "=m9v",      "Zg==Zg==",     /* padding inside / trailing data */
      "Zm9-",       "Zm9_",      "Zm9*",         "Zm9\x80", /* URL-safe or bad alphabet */
      "Zh==",       "Zm9=",      "Zm+=",         /* non-zero unused bits */
      "aGVsbG8=x",  /* trailing data after padding */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = bp_base64_decode(bad[i], strlen(bad[i]), out, sizeof out, &w);
    if (rc != BP_ERR_INVALID_BASE64) fail_msg("accepted %s (rc %d)", bad[i], rc);
  }
  assert_int_equal(w, 777); /* untouched on error */
  /* A NUL inside the text is rejected too. */
  assert_int_equal(bp_base64_decode("Zm\0v", 4, out, sizeof out, &w), BP_ERR_INVALID_BASE64);
}

static void test_arguments(void **state) {
  (void)state;
  char out[8];
  uint8_t dec[8];
  size_t w;
  assert_int_equal(bp_base64_encode((const uint8_t *)"foo", 3, out, 3, &w), BP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(bp_base64_encode((const uint8_t *)"foo", 3, out, 4, &w), 0);
  assert_int_equal(bp_base64_encode(NULL, 3, out, 8, &w), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_base64_encode((const uint8_t *)"f", 1, NULL, 8, &w), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_base64_encode((const uint8_t *)"f", 1, out, 8, NULL), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_base64_encode(NULL, 0, NULL, 0, &w), 0);
  assert_int_equal(w, 0);
  assert_int_equal(bp_base64_decode("Zm9vYmFy", 8, dec, 5, &w), BP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(bp_base64_decode("Zm9vYmFy", 8, dec, 6, &w), 0);
  assert_int_equal(bp_base64_decode("Zm9v", 4, NULL, 6, &w), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_base64_decode(NULL, 4, dec, 6, &w), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_base64_decode("", 0, NULL, 0, &w), 0);
  assert_int_equal(w, 0);
}

/* Size arithmetic never wraps, and sizes are checked before the input is read. */
static void test_hostile_sizes(void **state) {
  (void)state;
  const size_t max_raw = (SIZE_MAX / 4) * 3; /* the largest n whose encoding fits */
  assert_int_equal(bp_base64_encoded_len(max_raw), SIZE_MAX - 3);
  assert_int_equal(bp_base64_encoded_len(max_raw + 1), SIZE_MAX);
  assert_int_equal(bp_base64_encoded_len(max_raw + 3), SIZE_MAX); /* was 0 */
  assert_int_equal(bp_base64_encoded_len(SIZE_MAX), SIZE_MAX);
  char *in = malloc(4), out[8];
  memcpy(in, "Zm9v", 4);
  uint8_t dec[8];
  size_t w = 77;
  assert_int_equal(bp_base64_encode((const uint8_t *)in, max_raw + 1, out, sizeof out, &w),
                   BP_ERR_TOO_LARGE);
  assert_int_equal(bp_base64_encode((const uint8_t *)in, SIZE_MAX, out, SIZE_MAX, &w),
                   BP_ERR_TOO_LARGE);
  assert_int_equal(bp_base64_encode((const uint8_t *)in, max_raw, out, sizeof out, &w),
                   BP_ERR_BUFFER_TOO_SMALL);
  /* a multiple of 4 over a 4-byte text: too big for out, so its last bytes are never read */
  assert_int_equal(bp_base64_decode(in, SIZE_MAX - 3, dec, sizeof dec, &w),
                   BP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(bp_base64_decode(in, (size_t)1 << 40, dec, sizeof dec, &w),
                   BP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(bp_base64_decode(in, SIZE_MAX, dec, sizeof dec, &w), BP_ERR_INVALID_BASE64);
  assert_int_equal(w, 77);
  free(in);
}

/* libb64 (Debian 1.2) output with its line breaks removed. */
static size_t libb64_encode_no_newlines(const uint8_t *in, size_t n, char *out) {
  base64_encodestate st;
  base64_init_encodestate(&st);
  int len = base64_encode_block((const char *)in, (int)n, out, &st);
  len += base64_encode_blockend(out + len, &st);
  size_t k = 0;
  for (int i = 0; i < len; i++)
    if (out[i] != '\n') out[k++] = out[i];
  return k;
}

/* The trap this library exists to avoid: Debian's libb64 breaks lines every 72 characters
 * and appends one at the end. If this ever stops holding, the oracle below still works. */
static void test_libb64_inserts_newlines(void **state) {
  (void)state;
  uint8_t raw[100];
  memset(raw, 'x', sizeof raw);
  char out[300];
  base64_encodestate st;
  base64_init_encodestate(&st);
  int len = base64_encode_block((const char *)raw, 100, out, &st);
  len += base64_encode_blockend(out + len, &st);
  assert_non_null(memchr(out, '\n', (size_t)len));
  char ours[300];
  size_t w;
  assert_int_equal(bp_base64_encode(raw, 100, ours, sizeof ours, &w), 0);
  assert_null(memchr(ours, '\n', w));
  assert_int_equal(w + 2, (size_t)len); /* 136 characters + 2 line breaks from libb64 */
}

static void test_oracle_random(void **state) {
  (void)state;
  uint32_t r = 0x9E3779B9u;
  uint8_t *raw = malloc(5000), *back = malloc(5000);
  char *ours = malloc(8000), *theirs = malloc(8000);
  assert_non_null(raw);
  assert_non_null(back);
  assert_non_null(ours);
  assert_non_null(theirs);
  for (int iter = 0; iter < 600; iter++) {
    size_t n = iter < 200 ? (size_t)iter : (size_t)(r % 5000);
    for (size_t i = 0; i < n; i++) {
      r ^= r << 13;
      r ^= r >> 17;
      r ^= r << 5;
      raw[i] = (uint8_t)r;
    }
    size_t w;
    assert_int_equal(bp_base64_encode(raw, n, ours, 8000, &w), 0);
    size_t tw = libb64_encode_no_newlines(raw, n, theirs);
    assert_int_equal(w, tw);
    assert_memory_equal(ours, theirs, w);
    /* libb64's (lenient) decoder agrees with ours on valid input. */
    base64_decodestate ds;
    base64_init_decodestate(&ds);
    int dn = base64_decode_block(ours, (int)w, (char *)back, &ds);
    assert_int_equal((size_t)dn, n);
    assert_memory_equal(back, raw, n);
    size_t bw;
    assert_int_equal(bp_base64_decode(ours, w, back, 5000, &bw), 0);
    assert_int_equal(bw, n);
    assert_memory_equal(back, raw, n);
  }
  free(raw);
  free(back);
  free(ours);
  free(theirs);
}

/* libb64's decoder accepts what ours must reject: show both sides. */
static void test_libb64_is_lenient(void **state) {
  (void)state;
  const char *inputs[] = {"Zm9v!!Zm9v", "Zm9v\nYmFy", "Zg==Zg=="};
  for (size_t i = 0; i < 3; i++) {
    char out[32];
    base64_decodestate ds;
    base64_init_decodestate(&ds);
    int dn = base64_decode_block(inputs[i], (int)strlen(inputs[i]), out, &ds);
    assert_true(dn > 0); /* libb64 returns bytes without complaint */
    uint8_t ours[32];
    size_t w;
    assert_int_equal(bp_base64_decode(inputs[i], strlen(inputs[i]), ours, sizeof ours, &w),
                     BP_ERR_INVALID_BASE64);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vectors),         cmocka_unit_test(test_all_bytes),
      cmocka_unit_test(test_strict_rejects),  cmocka_unit_test(test_arguments),
      cmocka_unit_test(test_libb64_inserts_newlines), cmocka_unit_test(test_oracle_random),
      cmocka_unit_test(test_libb64_is_lenient), cmocka_unit_test(test_hostile_sizes),
  };
  return cmocka_run_group_tests_name("base64", tests, NULL, NULL);
}
