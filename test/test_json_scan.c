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
  int skip_odd;  /* keys of odd length answer 2 (their value not needed) */
  int drop;      /* the bridge's log: leaves out the events of those values */
  int skip_next; /* the next value is one of those */
  int skipping;  /* containers open inside it */
  int skipped;   /* events of such values that arrived (dropped from the log) */
} evlog;

/* A value not needed: the bridge still makes its events, the log leaves them out. */
static int ev_skipped(evlog *l, char tag) {
  if (!l->skip_next && !l->skipping) return 0;
  l->skip_next = 0;
  if (tag == '{' || tag == '[') l->skipping++;
  else if (tag == '}' || tag == ']') l->skipping--;
  l->skipped++;
  return 1;
}

static int ev(evlog *l, char tag, const char *s, size_t n) {
  if (ev_skipped(l, tag)) return 1;
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
static int e_key(void *c, const char *s, size_t n) {
  evlog *l = c;
  int r = ev(l, 'k', s, n);
  if (r != 1 || !l->skip_odd || n % 2 == 0 || l->skipping) return r;
  l->skip_next = l->drop;
  return 2;
}
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

static void run_both_skip(const char *t, size_t n, int stop_at, int stop_rc, int skip_odd) {
  bp__json_pool pool;
  bp__json_pool_init(&pool, &alloc);
  bp__buf unesc;
  bp__buf_init(&unesc, &alloc);
  memset(&b, 0, sizeof b);
  b.parsed.stop_at = b.scanned.stop_at = stop_at;
  b.parsed.stop_rc = b.scanned.stop_rc = stop_rc;
  b.parsed.skip_odd = b.scanned.skip_odd = b.parsed.drop = skip_odd;
  b.parse_rc = bp__json_parse(&pool, t, n, &log_cb, &b.parsed, NULL);
  b.scan_rc = bp__json_scan(t, n, &log_cb, &b.scanned, &unesc);
  bp__buf_free(&unesc);
  bp__json_pool_free(&pool);
}

static void run_both(const char *t, size_t n, int stop_at, int stop_rc) {
  run_both_skip(t, n, stop_at, stop_rc, 0);
}

/* What the scan decides, the bridge decides the same way, with the same events (@p skip_odd:
 * the scan makes none of those of values whose key answered 2, which it checks silently;
 * they are left out of the bridge's log). */
static void check_agrees_skip(const char *t, size_t n, int skip_odd) {
  run_both_skip(t, n, 0, 1, skip_odd);
  if (b.scan_rc == BP__JSON_UNDECIDED) return;
  if (b.scan_rc != 0 || b.parse_rc != 0)
    fail_msg("scan %d, parse %d on [%.*s]", b.scan_rc, b.parse_rc, (int)n, t);
  if (b.parsed.len != b.scanned.len || memcmp(b.parsed.text, b.scanned.text, b.parsed.len))
    fail_msg("events differ on [%.*s]:\n parse %.*s\n scan  %.*s", (int)n, t, (int)b.parsed.len,
             b.parsed.text, (int)b.scanned.len, b.scanned.text);
}

static void check_agrees(const char *t, size_t n) { check_agrees_skip(t, n, 0); }

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
  size_t agreed = 0, skipped = 0;
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
    check_agrees_skip(buf, n, 1);
    skipped += b.scan_rc == 0 && b.parsed.skipped > 0;
  }
  assert_true(agreed > 10000); /* the comparison covered many valid texts */
  assert_true(skipped > 1000);  /* and many with skipped values */
}

/* Values whose key answers 2 are checked but make no events, at any depth. */
static void test_skipped_values(void **state) {
  (void)state;
  const char *t = "{\"a\":{\"b\":[1,{\"cc\":2}],\"dd\":3},\"ee\":[{\"f\":\"x\"},4],\"g\":\"y\","
                  "\"hh\":{\"i\":{}},\"jj\":[]}";
  check_agrees_skip(t, strlen(t), 1);
  assert_int_equal(b.scan_rc, 0);
  const char *want = "{0:k1:ak2:ee[0:{0:k1:f}0:n1:4]0:k1:gk2:hh{0:k1:i}0:k2:jj[0:]0:}0:";
  assert_int_equal(b.scanned.len, strlen(want));
  assert_memory_equal(b.scanned.text, want, strlen(want));
  assert_int_equal(b.parsed.skipped, 16); /* the bridge made them: a's 9, f's 1, g's 1... */
  /* still checked: an invalid skipped value leaves the text undecided */
  const char *bad[] = {"{\"a\":[1,]}", "{\"a\":\"\\x\"}", "{\"a\":{\"b\":01}}", "{\"a\":tru}"};
  for (size_t i = 0; i < 4; i++) {
    run_both_skip(bad[i], strlen(bad[i]), 0, 1, 1);
    assert_int_equal(b.scan_rc, BP__JSON_UNDECIDED);
    assert_int_equal(b.parse_rc, BP_ERR_INVALID_JSON);
  }
}

int main(void) {
  bp__alloc_copy(&alloc, NULL);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_decided),        cmocka_unit_test(test_invalid_left_to_bridge),
      cmocka_unit_test(test_callback_stops), cmocka_unit_test(test_depth),
      cmocka_unit_test(test_mutations),      cmocka_unit_test(test_skipped_values),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
