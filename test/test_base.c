/* SPDX-License-Identifier: MIT */
/* Base layer: errors, version, features, sequence numbers, time formatting, arena. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "batchpoint.h"
#include "bp_int.h"
#include "bp_jsonw_int.h"
#include "test_alloc.h"

/* ---- errors ---- */

static void test_error_texts(void **state) {
  (void)state;
  const bp_err_desc *tab;
  size_t n;
  bp_err_descs(&tab, &n);
  assert_true(n >= 20);
  for (size_t i = 0; i < n; i++) {
    assert_string_equal(bp_strerror(tab[i].code), tab[i].message);
    assert_string_equal(bp_err_name(tab[i].code), tab[i].name);
    assert_true(strncmp(tab[i].name, "BP_", 3) == 0);
    assert_int_equal(bp_err_is_fatal(tab[i].code), tab[i].code <= BP_ERR_FATAL);
    for (size_t j = 0; j < i; j++) assert_int_not_equal(tab[i].code, tab[j].code);
  }
  assert_string_equal(bp_err_name(BP_ERR_NOMEM), "BP_ERR_NOMEM");
  assert_string_equal(bp_strerror(BP_OK), "success");
  assert_string_equal(bp_strerror(-12345), "unknown error code");
  assert_string_equal(bp_err_name(12345), "BP_ERR_UNKNOWN");
  assert_true(bp_err_is_fatal(BP_ERR_CALLBACK_FAILURE));
  assert_false(bp_err_is_fatal(BP_ERR_NOMEM));
  assert_false(bp_err_is_fatal(BP_OK));
}

static void test_errbuf(void **state) {
  (void)state;
  char buf[8];
  assert_int_equal(bp__errbuf(buf, sizeof buf, BP_ERR_RANGE, "value %d too large", 12345),
                   BP_ERR_RANGE);
  assert_string_equal(buf, "value 1"); /* truncated, terminated */
  assert_int_equal(bp__errbuf(NULL, 0, BP_ERR_RANGE, "x"), BP_ERR_RANGE);
}

/* ---- version and features ---- */

static void test_version(void **state) {
  (void)state;
  assert_int_equal(bp_version_num(), BP_VERSION_NUM);
  assert_string_equal(bp_version_string(), BP_VERSION_STRING);
  char expect[32];
  snprintf(expect, sizeof expect, "%d.%d.%d", BP_VERSION_MAJOR, BP_VERSION_MINOR,
           BP_VERSION_PATCH);
  assert_string_equal(BP_VERSION_STRING, expect);
  const bp_version_info *v = bp_version(0);
  assert_non_null(v);
  assert_int_equal(v->age, 1);
  assert_int_equal(v->version_num, BP_VERSION_NUM);
  assert_non_null(bp_version(BP_VERSION_NUM));
  assert_null(bp_version(BP_VERSION_NUM + 1));
}

static void test_features(void **state) {
  (void)state;
  assert_int_equal(bp_feature_enabled("CODEC"), BP_WITH_CODEC);
  assert_int_equal(bp_feature_enabled("FILE_STORE"), BP_WITH_FILE_STORE);
  assert_int_equal(bp_feature_enabled("STDIO"), BP_WITH_STDIO);
  assert_int_equal(bp_feature_enabled("codec"), 0);
  assert_int_equal(bp_feature_enabled("NOPE"), 0);
  assert_int_equal(bp_feature_enabled(NULL), 0);
}

/* ---- sequence numbers ---- */

static int cmp(const char *a, const char *b) {
  int r = 99;
  assert_int_equal(bp_seqnum_compare(a, strlen(a), b, strlen(b), &r), 0);
  return r;
}

static void test_seqnum_compare(void **state) {
  (void)state;
  const char *s56 = "49590338271490256608559692538361571095921575989136588898";
  const char *s57 = "100000000000000000000000000000000000000000000000000000000";
  assert_int_equal(cmp(s56, s57), -1); /* shorter is smaller: numeric, not lexicographic */
  assert_int_equal(cmp(s57, s56), 1);
  assert_int_equal(cmp(s56, s56), 0);
  assert_int_equal(cmp("9", "10"), -1);
  assert_int_equal(cmp("0", "1"), -1);
  assert_int_equal(cmp("123", "124"), -1);
  char big[129];
  memset(big, '9', 128);
  big[128] = '\0';
  char big2[129];
  memcpy(big2, big, 129);
  big2[127] = '8';
  assert_int_equal(cmp(big2, big), -1);
  int r = 42;
  assert_int_equal(bp_seqnum_compare("1", 1, "2", 1, NULL), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_seqnum_compare("01", 2, "2", 1, &r), BP_ERR_INVALID_SEQNUM);
  assert_int_equal(bp_seqnum_compare("1", 1, "x", 1, &r), BP_ERR_INVALID_SEQNUM);
  assert_int_equal(r, 42); /* untouched on error */
}

static void test_seqnum_validate(void **state) {
  (void)state;
  char s[131];
  memset(s, '1', sizeof s);
  assert_int_equal(bp_seqnum_validate("0", 1), 0);
  assert_int_equal(bp_seqnum_validate("7", 1), 0);
  assert_int_equal(bp_seqnum_validate(s, 128), 0);
  assert_int_equal(bp_seqnum_validate(s, 129), BP_ERR_INVALID_SEQNUM);
  assert_int_equal(bp_seqnum_validate("", 0), BP_ERR_INVALID_SEQNUM);
  assert_int_equal(bp_seqnum_validate(NULL, 0), BP_ERR_INVALID_SEQNUM);
  assert_int_equal(bp_seqnum_validate(NULL, 3), BP_ERR_INVALID_SEQNUM);
  assert_int_equal(bp_seqnum_validate("00", 2), BP_ERR_INVALID_SEQNUM);
  assert_int_equal(bp_seqnum_validate("012", 3), BP_ERR_INVALID_SEQNUM);
  assert_int_equal(bp_seqnum_validate("-1", 2), BP_ERR_INVALID_SEQNUM);
  assert_int_equal(bp_seqnum_validate("+1", 2), BP_ERR_INVALID_SEQNUM);
  assert_int_equal(bp_seqnum_validate("1 ", 2), BP_ERR_INVALID_SEQNUM);
  assert_int_equal(bp_seqnum_validate("1e5", 3), BP_ERR_INVALID_SEQNUM);
  assert_int_equal(bp_seqnum_validate("12\0" "3", 4), BP_ERR_INVALID_SEQNUM);
  assert_int_equal(bp_seqnum_validate("1:", 2), BP_ERR_INVALID_SEQNUM); /* ':' is '9'+1 */
  assert_int_equal(bp_seqnum_validate("/1", 2), BP_ERR_INVALID_SEQNUM); /* '/' is '0'-1 */
  /* every byte value at every position, at lengths around the 8-byte words and the 16-byte
   * blocks (with the last block overlapping the one before) */
  static const size_t lens[] = {1, 2, 7, 8, 9, 15, 16, 17, 20, 31, 32, 33, 47, 56, 100, 127, 128};
  for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++)
    for (size_t pos = 0; pos < lens[k]; pos++)
      for (int b = 0; b < 256; b++) {
        char *t = malloc(lens[k]); /* exactly the number: an over-read is the sanitizer's */
        assert_non_null(t);
        memset(t, '5', lens[k]);
        t[pos] = (char)b;
        int digit = b >= '0' && b <= '9' && !(pos == 0 && b == '0' && lens[k] > 1);
        int ok = bp_seqnum_validate(t, lens[k]) == 0;
        free(t);
        if (ok != digit) fail_msg("byte %d at %zu of %zu", b, pos, lens[k]);
      }
}

/* ---- time ---- */

static void check_iso(int64_t ms, const char *with_ms, const char *whole) {
  char buf[BP_TIME_ISO_MS_LEN];
  assert_int_equal(bp_time_format_iso_ms(ms, buf, sizeof buf), (int)strlen(with_ms));
  assert_string_equal(buf, with_ms);
  assert_int_equal(bp_time_format_iso_s(ms, buf, sizeof buf), (int)strlen(whole));
  assert_string_equal(buf, whole);
}

static void test_time_iso(void **state) {
  (void)state;
  check_iso(1573691884835, "2019-11-14T00:38:04.835Z", "2019-11-14T00:38:04Z");
  check_iso(0, "1970-01-01T00:00:00.000Z", "1970-01-01T00:00:00Z");
  check_iso(951782400000, "2000-02-29T00:00:00.000Z", "2000-02-29T00:00:00Z"); /* leap day */
  check_iso(951868799999, "2000-02-29T23:59:59.999Z", "2000-02-29T23:59:59Z");
  check_iso(4107542400000, "2100-03-01T00:00:00.000Z", "2100-03-01T00:00:00Z"); /* no 2100-02-29 */
  check_iso(1764082800000, "2025-11-25T15:00:00.000Z", "2025-11-25T15:00:00Z");
  check_iso(BP_TIME_MAX_MS, "9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59Z");
  char buf[64];
  assert_int_equal(bp_time_format_iso_ms(-1, buf, sizeof buf), BP_ERR_RANGE);
  assert_int_equal(bp_time_format_iso_ms(BP_TIME_MAX_MS + 1, buf, sizeof buf), BP_ERR_RANGE);
  assert_int_equal(bp_time_format_iso_ms(0, buf, 24), BP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(bp_time_format_iso_ms(0, buf, 25), 24);
  assert_int_equal(bp_time_format_iso_s(0, buf, 20), BP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(bp_time_format_iso_ms(0, NULL, 64), BP_ERR_INVALID_ARGUMENT);
}

/* Every day of 1970..2400 against a naive day-by-day calendar walk. */
static void test_time_calendar_walk(void **state) {
  (void)state;
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int64_t day = 0;
  for (int y = 1970; y < 2400; y++) {
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    for (int m = 1; m <= 12; m++) {
      int dm = mdays[m - 1] + (m == 2 && leap);
      for (int d = 1; d <= dm; d++, day++) {
        int yy, mo, dd, h, mi, s, milli;
        bp__civil(day * 86400000 + 86399999, &yy, &mo, &dd, &h, &mi, &s, &milli);
        if (yy != y || mo != m || dd != d || h != 23 || mi != 59 || s != 59 || milli != 999)
          fail_msg("day %lld: got %d-%d-%d, want %d-%d-%d", (long long)day, yy, mo, dd, y, m, d);
      }
    }
  }
}

/* bp__put (the encoders' inline copy) at every length of its size classes: exactly n bytes,
 * none around them touched. */
static void test_put_lengths(void **state) {
  (void)state;
  char src[200], dst[220];
  for (size_t i = 0; i < sizeof src; i++) src[i] = (char)('a' + i % 26);
  for (size_t n = 0; n < sizeof src; n++) {
    memset(dst, '#', sizeof dst);
    assert_ptr_equal(bp__put(dst + 8, src, n), dst + 8 + n);
    assert_memory_equal(dst + 8, src, n);
    for (size_t k = 0; k < sizeof dst; k++)
      if (k < 8 || k >= 8 + n) assert_int_equal(dst[k], '#');
  }
}

static void test_time_epoch_seconds(void **state) {
  (void)state;
  char buf[BP_TIME_EPOCH_S_LEN];
  struct {
    int64_t ms;
    const char *text;
  } cases[] = {{1545084650987, "1545084650.987"}, {1607497475000, "1607497475.000"},
               {0, "0.000"}, {1, "0.001"}, {999, "0.999"}, {1000, "1.000"}, {10010, "10.010"},
               {BP_TIME_MAX_MS, "253402300799.999"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    assert_int_equal(bp_time_format_epoch_seconds(cases[i].ms, buf, sizeof buf),
                     (int)strlen(cases[i].text));
    assert_string_equal(buf, cases[i].text);
    assert_int_equal(bp__epoch_seconds_len(cases[i].ms), strlen(cases[i].text));
  }
  /* every digit-count boundary (10^k - 1, 10^k seconds) and odd millisecond values, against
   * printf */
  for (int64_t p10 = 1; p10 * 1000 <= BP_TIME_MAX_MS; p10 *= 10) {
    for (int64_t s = p10 - 1; s <= p10 + 1; s++) {
      for (int64_t frac = 0; frac < 1000; frac += 7) {
        int64_t ms = s * 1000 + frac;
        char want[32];
        int n = snprintf(want, sizeof want, "%lld.%03lld", (long long)s, (long long)frac);
        assert_int_equal(bp_time_format_epoch_seconds(ms, buf, sizeof buf), n);
        assert_string_equal(buf, want);
        assert_int_equal(bp__epoch_seconds_len(ms), (size_t)n);
      }
    }
  }
  assert_int_equal(bp_time_format_epoch_seconds(1545084650987, buf, 14), BP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(bp_time_format_epoch_seconds(1545084650987, buf, 15), 14);
  assert_int_equal(bp_time_format_epoch_seconds(-5, buf, sizeof buf), BP_ERR_RANGE);
  assert_int_equal(bp_time_format_epoch_seconds(0, NULL, 1), BP_ERR_INVALID_ARGUMENT);
}

/* ---- UTF-8 ---- */

static void test_utf8(void **state) {
  (void)state;
  struct {
    const char *s;
    size_t n;
    int ok;
  } cases[] = {
      {"plain", 5, 1},          {"caf\xc3\xa9", 5, 1},         {"\xe2\x82\xac", 3, 1},
      {"\xf0\x9f\x98\x80", 4, 1}, {"\xf4\x8f\xbf\xbf", 4, 1},   {"", 0, 1},
      {"\xc3", 1, 0},           {"\xc0\xaf", 2, 0} /* overlong */, {"\xe0\x80\xaf", 3, 0},
      {"\xed\xa0\x80", 3, 0} /* surrogate */, {"\xf4\x90\x80\x80", 4, 0} /* > U+10FFFF */,
      {"\xff", 1, 0},           {"\x80", 1, 0},                {"a\xe2\x82", 3, 0},
      {"\xf0\x9f\x98", 3, 0},   {"\xe2\x28\xa1", 3, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    if (bp__utf8_valid(cases[i].s, cases[i].n) != cases[i].ok) fail_msg("utf8 case %zu", i);
  /* one non-ASCII sequence at every position of ASCII texts of 1..40 bytes (the all-ASCII
   * pre-pass reads words, the last overlapping): valid, cut short, or a stray byte */
  for (size_t n = 1; n <= 40; n++)
    for (size_t pos = 0; pos < n; pos++) {
      char t[48];
      memset(t, 'a', sizeof t);
      t[pos] = (char)0x80; /* a continuation byte alone */
      if (bp__utf8_valid(t, n)) fail_msg("stray 0x80 at %zu of %zu", pos, n);
      t[pos] = (char)0xC3; /* a lead byte: valid only with its continuation inside */
      t[pos + 1] = (char)0xA9;
      if (bp__utf8_valid(t, n) != (pos + 1 < n)) fail_msg("\\xc3\\xa9 at %zu of %zu", pos, n);
      t[pos + 1] = 'a';
      if (bp__utf8_valid(t, n)) fail_msg("lone lead byte at %zu of %zu", pos, n);
      t[pos] = 'a';
      if (!bp__utf8_valid(t, n)) fail_msg("ASCII of %zu", n);
    }
}

/* bp__utf8_len_check counts characters only when the byte length alone cannot settle the
 * bounds: both ways must agree with a plain count. */
static void test_utf8_len_check(void **state) {
  (void)state;
  char s[64];
  for (size_t n = 0; n <= 24; n++) {
    for (int kind = 0; kind < 3; kind++) { /* ASCII, 2-byte, 4-byte characters */
      size_t unit = kind == 0 ? 1 : kind == 1 ? 2 : 4, chars = n / unit;
      for (size_t i = 0; i < chars; i++)
        memcpy(s + i * unit, kind == 0 ? "a" : kind == 1 ? "\xc3\xa9" : "\xf0\x9f\x98\x80", unit);
      size_t len = chars * unit;
      for (size_t min = 0; min <= 3; min++)
        for (size_t max = min ? min : 1; max <= 8; max++) { /* min <= max */
          int want = chars < min ? BP__UTF8_TOO_SHORT : chars > max ? BP__UTF8_TOO_LONG : 0;
          if (bp__utf8_len_check(s, len, min, max) != want)
            fail_msg("len %zu kind %d min %zu max %zu", len, kind, min, max);
        }
    }
  }
  assert_int_equal(bp__utf8_len_check("a\xc3", 2, 1, 8), BP__UTF8_INVALID);
}

/* The JSON string writer skips verbatim bytes eight at a time: every byte value at every
 * position of strings of 0..40 bytes must be escaped as one byte at a time would, and the
 * length function must agree with what is written. */
static size_t ref_escape(const unsigned char *s, size_t n, char *out) {
  size_t k = 0;
  out[k++] = '"';
  for (size_t i = 0; i < n; i++) {
    unsigned c = s[i];
    const char *sh = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b" : c == '\t' ? "\\t"
                   : c == '\n' ? "\\n" : c == '\f' ? "\\f" : c == '\r' ? "\\r" : NULL;
    if (sh) k += (size_t)sprintf(out + k, "%s", sh);
    else if (c < 0x20) k += (size_t)sprintf(out + k, "\\u%04X", c);
    else out[k++] = (char)c;
  }
  out[k++] = '"';
  return k;
}

static void test_json_str_escape(void **state) {
  (void)state;
  unsigned char s[40];
  char want[300], got[300];
  for (size_t n = 0; n <= sizeof s; n++)
    for (size_t at = 0; at < (n ? n : 1); at++)
      for (unsigned v = 0; v < 256; v++) {
        for (size_t i = 0; i < n; i++) s[i] = (unsigned char)(i % 2 ? 0xE9 : 'a' + i % 26);
        if (n) s[at] = (unsigned char)v;
        if (n > 2 && v == 0x1F) s[n - 1] = '\\'; /* a second one, in a later word */
        size_t k = ref_escape(s, n, want);
        char *end = bp__json_str_put(got, (const char *)s, n);
        if ((size_t)(end - got) != k || memcmp(got, want, k) ||
            bp__json_str_len((const char *)s, n) != k)
          fail_msg("n %zu at %zu byte 0x%02X", n, at, v);
      }
}

/* ---- allocator hooks ---- */

static void *only_malloc(size_t n, void *ud) {
  (void)n;
  (void)ud;
  return NULL;
}

static void test_alloc_hooks(void **state) {
  (void)state;
  bp_allocator a, half = {only_malloc, NULL, NULL, NULL};
  assert_int_equal(bp__alloc_copy(&a, NULL), 0);
  void *p = bp__malloc(&a, 10);
  assert_non_null(p);
  p = bp__realloc(&a, p, 100);
  assert_non_null(p);
  bp__free(&a, p);
  bp__free(&a, NULL);
  assert_int_equal(bp__alloc_copy(&a, &half), BP_ERR_INVALID_ARGUMENT);
  assert_null(bp__calloc(&a, SIZE_MAX / 2, 4)); /* overflow refused, not wrapped */
}

static void test_buf(void **state) {
  (void)state;
  test_alloc t;
  bp_allocator hooks;
  test_alloc_init(&t, &hooks);
  bp__buf b;
  bp__buf_init(&b, &hooks);
  for (int i = 0; i < 1000; i++) assert_int_equal(bp__buf_append(&b, "abc", 3), 0);
  bp__buf_terminate(&b);
  assert_int_equal(b.len, 3000);
  assert_int_equal(strlen(b.data), 3000);
  assert_int_equal(bp__buf_reserve(&b, SIZE_MAX - 1), BP_ERR_NOMEM);
  assert_int_equal(b.len, 3000);
  t.fail_at = t.calls + 1;
  assert_int_equal(bp__buf_reserve(&b, b.cap), BP_ERR_NOMEM); /* growth failure keeps data */
  assert_int_equal(b.len, 3000);
  assert_int_equal(memcmp(b.data, "abcabc", 6), 0);
  bp__buf_free(&b);
  assert_int_equal(t.live_blocks, 0);
}

/* ---- arena ---- */

static _Alignas(max_align_t) unsigned char arena_mem[64 * 1024];

static void test_arena_basic(void **state) {
  (void)state;
  bp_arena *arena;
  bp_allocator a;
  assert_int_equal(bp_arena_init(&arena, arena_mem, sizeof arena_mem, &a), 0);
  size_t used, hw, cap, failures;
  bp_arena_stats(arena, &used, &hw, &cap, &failures);
  assert_int_equal(used, 0);
  assert_true(cap > 60 * 1024 && cap <= sizeof arena_mem);
  void *p[64];
  for (int i = 0; i < 64; i++) {
    p[i] = a.malloc((size_t)(i * 13 + 1), a.ud);
    assert_non_null(p[i]);
    assert_int_equal((uintptr_t)p[i] % _Alignof(max_align_t), 0);
    memset(p[i], i, (size_t)(i * 13 + 1));
  }
  for (int i = 0; i < 64; i++) {
    unsigned char *q = p[i];
    for (int k = 0; k < i * 13 + 1; k++) assert_int_equal(q[k], i);
  }
  /* Free every other block, then everything: coalescing returns the arena to one block. */
  for (int i = 0; i < 64; i += 2) a.free(p[i], a.ud);
  for (int i = 1; i < 64; i += 2) a.free(p[i], a.ud);
  bp_arena_stats(arena, &used, &hw, NULL, NULL);
  assert_int_equal(used, 0);
  assert_true(hw > 0);
  void *big = a.malloc(cap - 64, a.ud); /* only possible if fully coalesced */
  assert_non_null(big);
  a.free(big, a.ud);
  assert_null(a.malloc(cap + 1, a.ud));
  bp_arena_stats(arena, NULL, NULL, NULL, &failures);
  assert_int_equal(failures, 1);
}

static void test_arena_realloc(void **state) {
  (void)state;
  bp_arena *arena;
  bp_allocator a;
  assert_int_equal(bp_arena_init(&arena, arena_mem, sizeof arena_mem, &a), 0);
  char *x = a.realloc(NULL, 10, a.ud);
  assert_non_null(x);
  memcpy(x, "0123456789", 10);
  char *y = a.malloc(16, a.ud); /* blocks in-place growth */
  assert_non_null(y);
  char *x2 = a.realloc(x, 5000, a.ud);
  assert_non_null(x2);
  assert_ptr_not_equal(x2, x);
  assert_memory_equal(x2, "0123456789", 10);
  char *x3 = a.realloc(x2, 6000, a.ud); /* last block: grows in place */
  assert_ptr_equal(x3, x2);
  char *x4 = a.realloc(x3, 100, a.ud); /* shrink in place */
  assert_ptr_equal(x4, x3);
  assert_memory_equal(x4, "0123456789", 10);
  assert_null(a.realloc(x4, sizeof arena_mem, a.ud)); /* failure keeps the old block */
  assert_memory_equal(x4, "0123456789", 10);
  a.free(x4, a.ud);
  a.free(y, a.ud);
  size_t used;
  bp_arena_stats(arena, &used, NULL, NULL, NULL);
  assert_int_equal(used, 0);
}

static void test_arena_errors(void **state) {
  (void)state;
  bp_arena *arena = (bp_arena *)1;
  bp_allocator a;
  assert_int_equal(bp_arena_init(&arena, NULL, 100, &a), BP_ERR_INVALID_ARGUMENT);
  assert_null(arena);
  assert_int_equal(bp_arena_init(&arena, arena_mem + 1, 1000, &a), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_arena_init(&arena, arena_mem, 16, &a), BP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(bp_arena_init(NULL, arena_mem, 1000, &a), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_arena_init(&arena, arena_mem, 1000, NULL), BP_ERR_INVALID_ARGUMENT);
  bp_arena_stats(NULL, NULL, NULL, NULL, NULL); /* tolerated */
}

/* Random alloc/realloc/free churn: contents stay intact, usage returns to zero. */
static void test_arena_churn(void **state) {
  (void)state;
  bp_arena *arena;
  bp_allocator a;
  assert_int_equal(bp_arena_init(&arena, arena_mem, sizeof arena_mem, &a), 0);
  unsigned char *slot[32] = {0};
  size_t len[32] = {0};
  uint32_t r = 12345;
  for (int step = 0; step < 20000; step++) {
    r ^= r << 13;
    r ^= r >> 17;
    r ^= r << 5;
    int i = (int)(r % 32);
    for (size_t k = 0; k < len[i]; k++) assert_int_equal(slot[i][k], (unsigned char)(i + len[i]));
    if (slot[i] && (r >> 8) % 3 == 0) {
      a.free(slot[i], a.ud);
      slot[i] = NULL;
      len[i] = 0;
    } else {
      size_t n = (r >> 12) % 1500 + 1;
      unsigned char *q = a.realloc(slot[i], n, a.ud);
      if (!q) continue; /* full: the old block is still valid */
      size_t keep = len[i] < n ? len[i] : n;
      for (size_t k = 0; k < keep; k++) assert_int_equal(q[k], (unsigned char)(i + len[i]));
      memset(q, (unsigned char)(i + n), n);
      slot[i] = q;
      len[i] = n;
    }
  }
  for (int i = 0; i < 32; i++) a.free(slot[i], a.ud);
  size_t used;
  bp_arena_stats(arena, &used, NULL, NULL, NULL);
  assert_int_equal(used, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_error_texts),      cmocka_unit_test(test_errbuf),
      cmocka_unit_test(test_version),          cmocka_unit_test(test_features),
      cmocka_unit_test(test_seqnum_compare),   cmocka_unit_test(test_seqnum_validate),
      cmocka_unit_test(test_time_iso),         cmocka_unit_test(test_time_calendar_walk),
      cmocka_unit_test(test_time_epoch_seconds), cmocka_unit_test(test_put_lengths), cmocka_unit_test(test_utf8),
      cmocka_unit_test(test_utf8_len_check), cmocka_unit_test(test_json_str_escape),
      cmocka_unit_test(test_alloc_hooks),      cmocka_unit_test(test_buf),
      cmocka_unit_test(test_arena_basic),      cmocka_unit_test(test_arena_realloc),
      cmocka_unit_test(test_arena_errors),     cmocka_unit_test(test_arena_churn),
  };
  return cmocka_run_group_tests_name("base", tests, NULL, NULL);
}
