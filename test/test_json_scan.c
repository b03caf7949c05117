/* SPDX-License-Identifier: MIT */
/* bp__json_scan against the yajl bridge: for every text it decides, the same verdict and the
 * same events, byte for byte; hand-picked edge cases, then random mutations of them. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "bp_json_int.h"

/* ---- an event log ---- */

typedef struct evlog {
  char text[16384];
  size_t len;
  int stop_at; /* the event that answers stop_rc (counted from 1), 0 never */
  int stop_rc;
  int events;
} evlog;

static int ev(evlog *l, char tag, const char *s, size_t n) {
  if (l->len + n + 16 < sizeof l->text) {
    l->len += (size_t)snprintf(l->text + l->len, 16, "%c%zu:", tag, n);
    memcpy(l->text + l->len, s, n);
    l->len += n;
  }
  return ++l->events == l->stop_at ? l->stop_rc : 1;
}

static int e_null(void *c) { return ev(c, 'z', "", 0); }
static int e_bool(void *c, int v) { return ev(c, v ? 't' : 'f', "", 0); }
static int e_num(void *c, const char *s, size_t n) { return ev(c, 'n', s, n); }
static int e_str(void *c, const char *s, size_t n) { return ev(c, 's', s, n); }
static int e_map(void *c) { return ev(c, '{', "", 0); }
static int e_key(void *c, const char *s, size_t n) { return ev(c, 'k', s, n); }
static int e_endm(void *c) { return ev(c, '}', "", 0); }
static int e_arr(void *c) { return ev(c, '[', "", 0); }
static int e_enda(void *c) { return ev(c, ']', "", 0); }
static const bp__json_cb log_cb = {e_null, e_bool, e_num,  e_str, e_map,
                                   e_key,  e_endm, e_arr, e_enda};

typedef struct both {
  int parse_rc, scan_rc;
  evlog parsed, scanned;
} both;

static bp_allocator alloc;
static both b;

static void run_both(const char *t, size_t n, int stop_at, int stop_rc) {
  bp__json_pool pool;
  bp__json_pool_init(&pool, &alloc);
  bp__buf unesc;
  bp__buf_init(&unesc, &alloc);
  memset(&b, 0, sizeof b);
  b.parsed.stop_at = b.scanned.stop_at = stop_at;
  b.parsed.stop_rc = b.scanned.stop_rc = stop_rc;
  b.parse_rc = bp__json_parse(&pool, t, n, &log_cb, &b.parsed, NULL);
  b.scan_rc = bp__json_scan(t, n, &log_cb, &b.scanned, &unesc);
  bp__buf_free(&unesc);
  bp__json_pool_free(&pool);
}

/* What the scan decides, the bridge decides the same way, with the same events. */
static void check_agrees(const char *t, size_t n) {
  run_both(t, n, 0, 1);
  if (b.scan_rc == BP__JSON_UNDECIDED) return;
  if (b.scan_rc != 0 || b.parse_rc != 0)
    fail_msg("scan %d, parse %d on [%.*s]", b.scan_rc, b.parse_rc, (int)n, t);
  if (b.parsed.len != b.scanned.len || memcmp(b.parsed.text, b.scanned.text, b.parsed.len))
    fail_msg("events differ on [%.*s]:\n parse %.*s\n scan  %.*s", (int)n, t, (int)b.parsed.len,
             b.parsed.text, (int)b.scanned.len, b.scanned.text);
}

static const char *const decided[] = {
    "{}", "[]", "0", "-0", "-1.5e3", "1E+2", "0.25e-7", "\"x\"", "null", "true", "false",
    " {\"a\":[1,{}]} ", "\"caf\xc3\xa9\"", "\"\\u00e9\"", "\"\\u0000z\"", "\"\\u20ac\\u007f\"",
    "{\"a\\\"b\":\"\\\\\\/\\b\\f\\n\\r\\t\"}", "\t[\n1 ,\r2 , [ ] , { } ]\n",
    "{\"id\":1,\"type\":\"order\",\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
    "\"\xf0\x9f\x98\x80 and \xe2\x82\xac, \x7f\"", "[[[[[[[[[[]]]]]]]]]]", "{\"\":\"\"}",
    "{\"a\":{\"b\":{\"c\":[true,false,null,-12.5e-3,\"\"]}}}"};

static const char *const invalid[] = {
    "", " ", "{", "{}}", "{} {}", "[1,]", "{\"a\" 1}", "01", "1.", ".5", "-", "-a", "1e",
    "1e+", "\"\xff\"", "/* c */ {}", "{\"a\":1,}", "tru", "nul", "'x'", "[1] x", "\"\x01\"",
    "{}\"", " {}\"x", "{} \"", "1 \"", "[]\"\\u", "\"\\x\"", "\"\\u12g4\"", "\"\\u12\"",
    "\"abc", "\"\xc3\"", "\"\xed\xa0\x80\"", "\"\xc0\xaf\"", "\"\xf4\x90\x80\x80\"",
    "\v{}", "{}\f", "[1,\v2]", "{,}", "[,]", "{\"a\":}", "{\"a\"}", "{1:2}", "[1 2]",
    "truex", "nullnull", "[\"a\"\"b\"]", "{\"a\":1 \"b\":2}", "\x00", "[1]\x00", "+1",
    "Infinity", "NaN", "[-]", "0x10", "1.5.2", "{\"a\":[}", "[{]}"};

static void test_decided(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof decided / sizeof decided[0]; i++) {
    check_agrees(decided[i], strlen(decided[i]));
    if (b.scan_rc) fail_msg("left undecided: %s", decided[i]);
  }
  /* \u0000 decodes to one NUL byte */
  check_agrees("\"\\u0000z\"", 9);
  assert_memory_equal(b.scanned.text, "s2:\0z", 5);
}

static void test_invalid_left_to_bridge(void **state) {
  (void)state;
  const size_t ns = sizeof invalid / sizeof invalid[0];
  for (size_t i = 0; i < ns; i++) {
    size_t n = strlen(invalid[i]);
    if (!strcmp(invalid[i], "\x00") || !strcmp(invalid[i], "[1]\x00")) n++;
    run_both(invalid[i], n, 0, 1);
    assert_int_equal(b.parse_rc, BP_ERR_INVALID_JSON);
    if (b.scan_rc != BP__JSON_UNDECIDED) fail_msg("decided %d on [%s]", b.scan_rc, invalid[i]);
  }
  /* surrogate escapes: yajl's own pairing, so the bridge's */
  const char *sur[] = {"\"\\ud83d\\ude00\"", "\"\\udc00\"", "\"\\ud800x\"", "[\"\\uDBFF\\u0041\"]"};
  for (size_t i = 0; i < 4; i++) {
    run_both(sur[i], strlen(sur[i]), 0, 1);
    assert_int_equal(b.scan_rc, BP__JSON_UNDECIDED);
    assert_int_equal(b.parse_rc, 0);
  }
}

static void test_callback_stops(void **state) {
  (void)state;
  const char *t = "{\"a\":[1,\"x\",{\"b\":null}],\"c\":true}";
  for (int at = 1; at <= 12; at++) {
    run_both(t, strlen(t), at, 0);
    assert_int_equal(b.scan_rc, BP__JSON_UNDECIDED);
    assert_int_equal(b.scanned.events, at);
    run_both(t, strlen(t), at, -1);
    assert_int_equal(b.scan_rc, BP_ERR_NOMEM);
    assert_int_equal(b.parse_rc, BP_ERR_NOMEM);
    assert_int_equal(b.scanned.events, at);
  }
}

static void test_depth(void **state) {
  (void)state;
  static char deep[2 * 1100 + 1];
  for (size_t d = 1023; d <= 1025; d++) {
    memset(deep, '[', d);
    memset(deep + d, ']', d);
    run_both(deep, 2 * d, 0, 1);
    assert_int_equal(b.parse_rc, 0);
    assert_int_equal(b.scan_rc, d <= 1024 ? 0 : BP__JSON_UNDECIDED);
  }
}

/* Random edits of the cases above: each decided one must agree with the bridge. */
static void test_mutations(void **state) {
  (void)state;
  static const char alphabet[] = "{}[],:\"\\ u0123456789abcdefABEF.eE+-tfnrlsx \t\n\r\v\f\x01\x1f"
                                 "\x7f\x80\xbf\xc3\xa9\xe2\x82\xac\xed\xa0\xf0\x9f\xf4\x90\xff";
  const char *seeds[sizeof decided / sizeof decided[0] + sizeof invalid / sizeof invalid[0]];
  size_t nseeds = 0;
  for (size_t i = 0; i < sizeof decided / sizeof decided[0]; i++) seeds[nseeds++] = decided[i];
  for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) seeds[nseeds++] = invalid[i];
  uint32_t r = 0x9E3779B9u;
  size_t agreed = 0;
  char buf[256];
  for (int iter = 0; iter < 200000; iter++) {
    r ^= r << 13, r ^= r >> 17, r ^= r << 5;
    const char *s = seeds[r % nseeds];
    size_t n = strlen(s);
    if (n > 200) n = 200;
    memcpy(buf, s, n);
    for (int k = (int)(r >> 8) % 3; k >= 0; k--) {
      r ^= r << 13, r ^= r >> 17, r ^= r << 5;
      char c = alphabet[(r >> 4) % (sizeof alphabet - 1)];
      size_t at = n ? (r >> 12) % (n + 1) : 0;
      switch (r % 3) {
      case 0: /* replace */
        if (at < n) buf[at] = c;
        break;
      case 1: /* insert */
        if (n < sizeof buf - 1) {
          memmove(buf + at + 1, buf + at, n - at);
          buf[at] = c;
          n++;
        }
        break;
      default: /* delete */
        if (at < n) {
          memmove(buf + at, buf + at + 1, n - at - 1);
          n--;
        }
      }
    }
    check_agrees(buf, n);
    agreed += b.scan_rc == 0;
  }
  assert_true(agreed > 10000); /* the comparison covered many valid texts */
}

int main(void) {
  bp__alloc_copy(&alloc, NULL);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_decided),        cmocka_unit_test(test_invalid_left_to_bridge),
      cmocka_unit_test(test_callback_stops), cmocka_unit_test(test_depth),
      cmocka_unit_test(test_mutations),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
