/* SPDX-License-Identifier: MIT */
/* Response classification (SEMANTICS.md §3.3-§3.5, §6, §8.4): every row of the §3.4 tables,
 * the (batchpoint's decision) rule order, tumbling `state`, big and hostile bodies, batch preconditions and
 * allocation failure. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "batchpoint.h"
#include "test_alloc.h"

#define RBIF BP_CLASSIFY_REPORT_BATCH_ITEM_FAILURES
#define STATE BP_CLASSIFY_REQUIRE_STATE
#define BOTH (RBIF | STATE)

static const bp_codec_opts kin_opts = {sizeof(bp_codec_opts), BP_SOURCE_KINESIS,
                                       "arn:aws:kinesis:us-east-1:111111111111:stream/s1", NULL,
                                       "arn:aws:iam::111111111111:role/r", NULL};

/* ---- fixtures ---- */

typedef struct fx {
  bp_codec *c;
  bp_record b3[3]; /* "9", "10", "11": lengths differ, so byte order != numeric order */
} fx;

static void set_seq(bp_record *r, const char *s) {
  bp_record_init(r, sizeof *r);
  r->seq = s;
  r->seq_len = s ? strlen(s) : 0;
}

static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  assert_non_null(f);
  assert_int_equal(bp_codec_new(&f->c, &kin_opts, NULL), 0);
  set_seq(&f->b3[0], "9");
  set_seq(&f->b3[1], "10");
  set_seq(&f->b3[2], "11");
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  bp_codec_del(f->c);
  free(f);
  return 0;
}

/* Classify with a garbage-filled result, then check the struct is fully written: every
 * field not used by the outcome is zero (compared as whole memory against a zeroed copy). */
static bp_response_result run_n(bp_codec *c, const char *body, size_t len, const bp_record *b,
                                size_t n, uint32_t flags) {
  bp_response_result r = BP_RESPONSE_RESULT_INIT;
  memset(&r, 0x5a, sizeof r);
  int rc = bp_codec_classify_response(c, body, len, b, n, flags, &r);
  if (rc != 0) print_error("classify rc %d (%s)\n", rc, bp_codec_errmsg(c));
  assert_int_equal(rc, 0);
  bp_response_result want;
  bp_response_result_init(&want, sizeof want);
  want.outcome = r.outcome;
  want.reason = r.reason;
  if (r.outcome == BP_ATTEMPT_PARTIAL) {
    want.failed_index = r.failed_index;
    want.failed_count = r.failed_count;
    assert_true(r.failed_count >= 1);
    assert_true(r.failed_index < n);
    assert_true(r.failed_count <= n - r.failed_index);
    assert_int_equal(r.reason, BP_REASON_NONE);
  }
  if (r.has_state) {
    want.has_state = 1;
    want.state_offset = r.state_offset;
    want.state_len = r.state_len;
    assert_true(r.state_len >= 2);
    assert_true(r.state_offset + r.state_len <= len);
    assert_int_equal(body[r.state_offset], '{');
    assert_int_equal(body[r.state_offset + r.state_len - 1], '}');
  }
  assert_memory_equal(&r, &want, sizeof r);
  /* errmsg: why, for a failure; empty otherwise */
  if (r.outcome == BP_ATTEMPT_RETURNED_FAILED) assert_true(bp_codec_errmsg(c)[0] != '\0');
  else assert_string_equal(bp_codec_errmsg(c), "");
  return r;
}

static bp_response_result run(fx *f, const char *body, uint32_t flags) {
  return run_n(f->c, body, strlen(body), f->b3, 3, flags);
}

static void expect(fx *f, const char *body, uint32_t flags, int outcome, int reason) {
  bp_response_result r = run(f, body, flags);
  if (r.outcome != outcome || r.reason != reason)
    print_error("body %s flags %u: got outcome %d reason %d, want %d %d\n", body,
                (unsigned)flags, r.outcome, r.reason, outcome, reason);
  assert_int_equal(r.outcome, outcome);
  assert_int_equal(r.reason, reason);
}

static void expect_partial(fx *f, const char *body, uint32_t flags, size_t index,
                           size_t count) {
  bp_response_result r = run(f, body, flags);
  if (r.outcome != BP_ATTEMPT_PARTIAL)
    print_error("body %s: outcome %d reason %d (%s)\n", body, r.outcome, r.reason,
                bp_codec_errmsg(f->c));
  assert_int_equal(r.outcome, BP_ATTEMPT_PARTIAL);
  assert_int_equal(r.failed_index, index);
  assert_int_equal(r.failed_count, count);
}

/* ---- §3.4 full-success table and rules 1, 3, 5 ---- */

static void test_success_rows(void **state) {
  fx *f = *state;
  static const struct {
    const char *body;
    int reason;
  } rows[] = {
      {"", BP_REASON_EMPTY},
      {" ", BP_REASON_EMPTY},
      {" \t\r\n \n", BP_REASON_EMPTY},
      {"null", BP_REASON_NONE},
      {"\"\"", BP_REASON_NONE},
      {"[]", BP_REASON_NONE},
      {"{}", BP_REASON_NONE},
      {"{\"batchItemFailures\":[]}", BP_REASON_NONE},
      {"{\"batchItemFailures\":null}", BP_REASON_NONE},
      {" \n null \t", BP_REASON_NONE},
      {" [ \n ] ", BP_REASON_NONE},
      {"{ }", BP_REASON_NONE},
      {"{ \"batchItemFailures\" : [ ] }", BP_REASON_NONE},
      /* rule 5: other members do not matter */
      {"{\"statusCode\":200,\"body\":\"ok\"}", BP_REASON_NONE},
      {"{\"state\":{\"n\":1},\"batchItemFailures\":[]}", BP_REASON_NONE},
      {"{\"state\":5}", BP_REASON_NONE},
      {"{\"x\":{\"batchItemFailures\":[{\"itemIdentifier\":123}]}}", BP_REASON_NONE},
      /* key names are case-sensitive: these objects have no batchItemFailures member */
      {"{\"BatchItemFailures\":[{\"itemIdentifier\":\"10\"}]}", BP_REASON_NONE},
      {"{\"batchitemfailures\":5}", BP_REASON_NONE},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    expect(f, rows[i].body, RBIF, BP_ATTEMPT_SUCCESS, rows[i].reason);
    /* Without ReportBatchItemFailures: success, not reporting. */
    expect(f, rows[i].body, 0, BP_ATTEMPT_SUCCESS, BP_REASON_NOT_REPORTING);
  }
  /* NULL body with length 0 is the empty body. */
  bp_response_result r = run_n(f->c, NULL, 0, f->b3, 3, RBIF);
  assert_int_equal(r.outcome, BP_ATTEMPT_SUCCESS);
  assert_int_equal(r.reason, BP_REASON_EMPTY);
}

/* ---- §3.4 full-failure table and rules 2, 4, 6, 7 ---- */

typedef struct row {
  const char *body;
  int reason;
} row;

static void expect_failures(fx *f, const row *rows, size_t n) {
  for (size_t i = 0; i < n; i++) {
    expect(f, rows[i].body, RBIF, BP_ATTEMPT_RETURNED_FAILED, rows[i].reason);
    expect(f, rows[i].body, BOTH, BP_ATTEMPT_RETURNED_FAILED, rows[i].reason); /* RBIF reason wins */
    expect(f, rows[i].body, 0, BP_ATTEMPT_SUCCESS, BP_REASON_NOT_REPORTING);
  }
}

static void test_failure_rows_recorded(void **state) {
  static const row rows[] = {
      {"{\"batchItemFailures\":[{\"itemIdentifier\":123}]}", BP_REASON_BAD_ITEM},
      {"{\"batchItemFailures\":[{\"itemIdentifier\":\"\"}]}", BP_REASON_UNKNOWN_IDENTIFIER},
      {"{\"batchItemFailures\":[{\"itemIdentifier\":null}]}", BP_REASON_BAD_ITEM},
      {"{\"batchItemFailures\":[{\"foo\":123}]}", BP_REASON_BAD_ITEM},
      {"{\"batchItemFailures\":[{\"foo\":null}]}", BP_REASON_BAD_ITEM},
  };
  expect_failures(*state, rows, sizeof rows / sizeof rows[0]);
}

static void test_failure_items(void **state) {
  static const row rows[] = {
      /* mixed valid + invalid: full failure even though some are valid */
      {"{\"batchItemFailures\":[{\"itemIdentifier\":\"10\"},{\"itemIdentifier\":\"12\"}]}",
       BP_REASON_UNKNOWN_IDENTIFIER},
      {"{\"batchItemFailures\":[{\"itemIdentifier\":\"12\"},{\"itemIdentifier\":\"10\"}]}",
       BP_REASON_UNKNOWN_IDENTIFIER},
      {"{\"batchItemFailures\":[{\"itemIdentifier\":\"10\"},{\"itemIdentifier\":10}]}",
       BP_REASON_BAD_ITEM},
      {"{\"batchItemFailures\":[{\"itemIdentifier\":\"10\"},5]}", BP_REASON_BAD_ITEM},
      {"{\"batchItemFailures\":[{\"itemIdentifier\":\"10\"},null]}", BP_REASON_BAD_ITEM},
      {"{\"batchItemFailures\":[{\"itemIdentifier\":\"10\"},{}]}", BP_REASON_BAD_ITEM},
      /* the first bad element decides the reason */
      {"{\"batchItemFailures\":[{\"itemIdentifier\":\"12\"},7]}", BP_REASON_UNKNOWN_IDENTIFIER},
      {"{\"batchItemFailures\":[7,{\"itemIdentifier\":\"12\"}]}", BP_REASON_BAD_ITEM},
      /* elements that are not objects */
      {"{\"batchItemFailures\":[\"10\"]}", BP_REASON_BAD_ITEM},
      {"{\"batchItemFailures\":[[\"10\"]]}", BP_REASON_BAD_ITEM},
      {"{\"batchItemFailures\":[[]]}", BP_REASON_BAD_ITEM},
      {"{\"batchItemFailures\":[null]}", BP_REASON_BAD_ITEM},
      {"{\"batchItemFailures\":[true]}", BP_REASON_BAD_ITEM},
      {"{\"batchItemFailures\":[{}]}", BP_REASON_BAD_ITEM},
      /* identifier values of other types */
      {"{\"batchItemFailures\":[{\"itemIdentifier\":10}]}", BP_REASON_BAD_ITEM},
      {"{\"batchItemFailures\":[{\"itemIdentifier\":true}]}", BP_REASON_BAD_ITEM},
      {"{\"batchItemFailures\":[{\"itemIdentifier\":[\"10\"]}]}", BP_REASON_BAD_ITEM},
      {"{\"batchItemFailures\":[{\"itemIdentifier\":{\"s\":\"10\"}}]}", BP_REASON_BAD_ITEM},
      /* key names are case-sensitive */
      {"{\"batchItemFailures\":[{\"ItemIdentifier\":\"10\"}]}", BP_REASON_BAD_ITEM},
      {"{\"batchItemFailures\":[{\"itemidentifier\":\"10\"}]}", BP_REASON_BAD_ITEM},
      /* only a direct member counts */
      {"{\"batchItemFailures\":[{\"x\":{\"itemIdentifier\":\"10\"}}]}", BP_REASON_BAD_ITEM},
      /* byte-for-byte equality with a sequence number of this batch */
      {"{\"batchItemFailures\":[{\"itemIdentifier\":\"010\"}]}", BP_REASON_UNKNOWN_IDENTIFIER},
      {"{\"batchItemFailures\":[{\"itemIdentifier\":\" 10\"}]}", BP_REASON_UNKNOWN_IDENTIFIER},
      {"{\"batchItemFailures\":[{\"itemIdentifier\":\"10 \"}]}", BP_REASON_UNKNOWN_IDENTIFIER},
      {"{\"batchItemFailures\":[{\"itemIdentifier\":\"+10\"}]}", BP_REASON_UNKNOWN_IDENTIFIER},
      {"{\"batchItemFailures\":[{\"itemIdentifier\":\"10.0\"}]}", BP_REASON_UNKNOWN_IDENTIFIER},
      {"{\"batchItemFailures\":[{\"itemIdentifier\":\"1\"}]}", BP_REASON_UNKNOWN_IDENTIFIER},
      {"{\"batchItemFailures\":[{\"itemIdentifier\":\"8\"}]}", BP_REASON_UNKNOWN_IDENTIFIER},
      {"{\"batchItemFailures\":[{\"itemIdentifier\":\"12\"}]}", BP_REASON_UNKNOWN_IDENTIFIER},
      {"{\"batchItemFailures\":[{\"itemIdentifier\":\"99\"}]}", BP_REASON_UNKNOWN_IDENTIFIER},
      {"{\"batchItemFailures\":[{\"itemIdentifier\":\"10\\u0000\"}]}",
       BP_REASON_UNKNOWN_IDENTIFIER},
      {"{\"batchItemFailures\":[{\"itemIdentifier\":\"é\"}]}", BP_REASON_UNKNOWN_IDENTIFIER},
      /* last itemIdentifier of an element wins */
      {"{\"batchItemFailures\":[{\"itemIdentifier\":\"10\",\"itemIdentifier\":null}]}",
       BP_REASON_BAD_ITEM},
      {"{\"batchItemFailures\":[{\"itemIdentifier\":\"10\",\"itemIdentifier\":\"7\"}]}",
       BP_REASON_UNKNOWN_IDENTIFIER},
  };
  expect_failures(*state, rows, sizeof rows / sizeof rows[0]);
}

static void test_failure_not_list(void **state) {
  static const row rows[] = {
      {"{\"batchItemFailures\":{}}", BP_REASON_FAILURES_NOT_LIST},
      {"{\"batchItemFailures\":{\"itemIdentifier\":\"10\"}}", BP_REASON_FAILURES_NOT_LIST},
      {"{\"batchItemFailures\":\"10\"}", BP_REASON_FAILURES_NOT_LIST},
      {"{\"batchItemFailures\":\"\"}", BP_REASON_FAILURES_NOT_LIST},
      {"{\"batchItemFailures\":10}", BP_REASON_FAILURES_NOT_LIST},
      {"{\"batchItemFailures\":0}", BP_REASON_FAILURES_NOT_LIST},
      {"{\"batchItemFailures\":true}", BP_REASON_FAILURES_NOT_LIST},
      {"{\"batchItemFailures\":false}", BP_REASON_FAILURES_NOT_LIST},
  };
  expect_failures(*state, rows, sizeof rows / sizeof rows[0]);
}

static void test_failure_invalid_json(void **state) {
  static const row rows[] = {
      {"OK", BP_REASON_INVALID_JSON},
      {"hello world", BP_REASON_INVALID_JSON},
      {"None", BP_REASON_INVALID_JSON},
      {"undefined", BP_REASON_INVALID_JSON},
      {"NaN", BP_REASON_INVALID_JSON},
      {"'x'", BP_REASON_INVALID_JSON},
      {"{'batchItemFailures':[]}", BP_REASON_INVALID_JSON},
      {"{batchItemFailures:[]}", BP_REASON_INVALID_JSON},
      /* truncated */
      {"{", BP_REASON_INVALID_JSON},
      {"[", BP_REASON_INVALID_JSON},
      {"\"", BP_REASON_INVALID_JSON},
      {"nul", BP_REASON_INVALID_JSON},
      {"{\"batchItemFailures\":[", BP_REASON_INVALID_JSON},
      {"{\"batchItemFailures\":[{\"itemIdentifier\":\"10\"}]", BP_REASON_INVALID_JSON},
      {"{\"batchItemFailures\":[{\"itemIdentifier\":\"10", BP_REASON_INVALID_JSON},
      {"{\"batchItemFailures\"", BP_REASON_INVALID_JSON},
      /* trailing data */
      {"{} x", BP_REASON_INVALID_JSON},
      {"{}{}", BP_REASON_INVALID_JSON},
      {"null null", BP_REASON_INVALID_JSON},
      {"[] ]", BP_REASON_INVALID_JSON},
      {"{\"batchItemFailures\":[{\"itemIdentifier\":\"10\"}]}}", BP_REASON_INVALID_JSON},
      {"\"\" 1", BP_REASON_INVALID_JSON},
      /* a trailing unterminated string (yajl 2.1 alone accepts these) */
      {"{}\"", BP_REASON_INVALID_JSON},
      {"{} \"abc", BP_REASON_INVALID_JSON},
      {"{}\"}", BP_REASON_INVALID_JSON},
      {"\"100\"\"", BP_REASON_INVALID_JSON},
      {"null\"x", BP_REASON_INVALID_JSON},
      {"true \"", BP_REASON_INVALID_JSON},
      {"12\"x", BP_REASON_INVALID_JSON},
      {"-1.5e3 \"", BP_REASON_INVALID_JSON},
      {"[]\"]", BP_REASON_INVALID_JSON},
      {"{\"batchItemFailures\":[{\"itemIdentifier\":\"10\"}]}\"", BP_REASON_INVALID_JSON},
      /* other syntax errors */
      {"{\"batchItemFailures\":[],}", BP_REASON_INVALID_JSON},
      {"{\"batchItemFailures\":[{\"itemIdentifier\":\"10\"},]}", BP_REASON_INVALID_JSON},
      {"{\"a\" 1}", BP_REASON_INVALID_JSON},
      {"01", BP_REASON_INVALID_JSON},
      {"-", BP_REASON_INVALID_JSON},
      {"1.", BP_REASON_INVALID_JSON},
      {"\"\\x\"", BP_REASON_INVALID_JSON},
      {"\"a\tb\"", BP_REASON_INVALID_JSON}, /* raw control character in a string */
      {"{} // comment", BP_REASON_INVALID_JSON},
      {"/* c */ {}", BP_REASON_INVALID_JSON},
      {"\xef\xbb\xbf{}", BP_REASON_INVALID_JSON}, /* a BOM is not JSON whitespace */
      {"\v{}", BP_REASON_INVALID_JSON},           /* yajl alone would accept VT and FF */
      {"{\"a\"\f:1}", BP_REASON_INVALID_JSON},
      {"[1,\v2]", BP_REASON_INVALID_JSON},
      {"{}\f", BP_REASON_INVALID_JSON},
      /* invalid UTF-8 */
      {"\"\xff\"", BP_REASON_INVALID_JSON},
      {"\"\xc3\"", BP_REASON_INVALID_JSON},
      {"\"\xc0\x80\"", BP_REASON_INVALID_JSON},         /* overlong NUL */
      {"\"\xe0\x80\xaf\"", BP_REASON_INVALID_JSON},     /* overlong '/' */
      {"\"\xed\xa0\x80\"", BP_REASON_INVALID_JSON},     /* UTF-16 surrogate */
      {"\"\xf4\x90\x80\x80\"", BP_REASON_INVALID_JSON}, /* above U+10FFFF */
      {"{\"batchItemFailures\":[],\"x\":\"\x80\"}", BP_REASON_INVALID_JSON},
      {"{\"\xfe\":1}", BP_REASON_INVALID_JSON},
      {"{}\xff", BP_REASON_INVALID_JSON},
  };
  expect_failures(*state, rows, sizeof rows / sizeof rows[0]);
}

static void test_failure_not_object(void **state) {
  static const row rows[] = {
      {"0", BP_REASON_NOT_OBJECT},        {"123", BP_REASON_NOT_OBJECT},
      {"-1.5e3", BP_REASON_NOT_OBJECT},   {"true", BP_REASON_NOT_OBJECT},
      {"false", BP_REASON_NOT_OBJECT},    {"\"x\"", BP_REASON_NOT_OBJECT},
      {"\" \"", BP_REASON_NOT_OBJECT},    {"\"null\"", BP_REASON_NOT_OBJECT},
      {"\"{}\"", BP_REASON_NOT_OBJECT},   {"[0]", BP_REASON_NOT_OBJECT},
      {"[null]", BP_REASON_NOT_OBJECT},   {"[[]]", BP_REASON_NOT_OBJECT},
      {"[{}]", BP_REASON_NOT_OBJECT},     {"[\"\"]", BP_REASON_NOT_OBJECT},
      {"[{\"batchItemFailures\":[{\"itemIdentifier\":\"10\"}]}]", BP_REASON_NOT_OBJECT},
      {" 7 ", BP_REASON_NOT_OBJECT},
  };
  expect_failures(*state, rows, sizeof rows / sizeof rows[0]);
}

/* The valid JSON text with a valid identifier is a partial; its validity decides first. */
static void test_rule_order(void **state) {
  fx *f = *state;
  /* Rule 2 before 6/7: a broken tail makes any content invalid JSON. */
  expect(f, "{\"batchItemFailures\":5,", RBIF, BP_ATTEMPT_RETURNED_FAILED, BP_REASON_INVALID_JSON);
  expect(f, "{\"batchItemFailures\":[7]} x", RBIF, BP_ATTEMPT_RETURNED_FAILED,
         BP_REASON_INVALID_JSON);
  expect(f, "{\"batchItemFailures\":[{\"itemIdentifier\":\"10\"}],\"x\":\"\xff\"}", RBIF,
         BP_ATTEMPT_RETURNED_FAILED, BP_REASON_INVALID_JSON);
  expect(f, "{\"batchItemFailures\":[{\"itemIdentifier\":\"10\"}]", RBIF, BP_ATTEMPT_RETURNED_FAILED,
         BP_REASON_INVALID_JSON);
  /* Rule 7 before the rest of the array is judged, but the rest must still be JSON. */
  expect(f, "{\"batchItemFailures\":[1,{\"itemIdentifier\":\"10\"}}", RBIF,
         BP_ATTEMPT_RETURNED_FAILED, BP_REASON_INVALID_JSON);
  /* errmsg says why */
  run(f, "{\"batchItemFailures\":[{\"itemIdentifier\":\"10\"},{\"itemIdentifier\":\"12\"}]}",
      RBIF);
  assert_non_null(strstr(bp_codec_errmsg(f->c), "batchItemFailures[1]"));
  run(f, "{\"a\":1]", RBIF);
  assert_non_null(strstr(bp_codec_errmsg(f->c), "invalid JSON"));
}

/* ---- Partial failures (rule 8, §3.5, §8.4) ---- */

static void test_partial(void **state) {
  fx *f = *state;
  /* numeric comparison where the lengths differ: "10" < "11", and "9" < "10" */
  expect_partial(f, "{\"batchItemFailures\":[{\"itemIdentifier\":\"11\"},{\"itemIdentifier\":\"10\"}]}",
                 RBIF, 1, 2);
  expect_partial(f, "{\"batchItemFailures\":[{\"itemIdentifier\":\"11\"},{\"itemIdentifier\":\"9\"}]}",
                 RBIF, 0, 2);
  expect_partial(f, "{\"batchItemFailures\":[{\"itemIdentifier\":\"11\"}]}", RBIF, 2, 1);
  /* the lowest is the batch's first record: still a partial, failed_index 0 (no progress) */
  expect_partial(f, "{\"batchItemFailures\":[{\"itemIdentifier\":\"9\"}]}", RBIF, 0, 1);
  expect_partial(f,
                 "{\"batchItemFailures\":[{\"itemIdentifier\":\"9\"},{\"itemIdentifier\":\"10\"},"
                 "{\"itemIdentifier\":\"11\"}]}",
                 RBIF, 0, 3);
  /* duplicates counted once */
  expect_partial(f,
                 "{\"batchItemFailures\":[{\"itemIdentifier\":\"10\"},{\"itemIdentifier\":\"11\"},"
                 "{\"itemIdentifier\":\"10\"},{\"itemIdentifier\":\"11\"},{\"itemIdentifier\":\"10\"}]}",
                 RBIF, 1, 2);
  /* extra members in an element are fine, nested ones are ignored */
  expect_partial(f,
                 "{\"batchItemFailures\":[{\"reason\":\"x\",\"itemIdentifier\":\"10\",\"n\":{"
                 "\"itemIdentifier\":5,\"a\":[{\"itemIdentifier\":null}]},\"z\":[1,2]}]}",
                 RBIF, 1, 1);
  /* other top-level members, whitespace everywhere */
  expect_partial(f,
                 " {\n \"statusCode\" : 200 ,\r\n \"batchItemFailures\" :\t[ { \"itemIdentifier\" "
                 ": \"11\" } ] , \"state\" : null } \n",
                 RBIF, 2, 1);
  /* last itemIdentifier of an element wins */
  expect_partial(f, "{\"batchItemFailures\":[{\"itemIdentifier\":123,\"itemIdentifier\":\"10\"}]}",
                 RBIF, 1, 1);
  expect_partial(f, "{\"batchItemFailures\":[{\"itemIdentifier\":\"7\",\"itemIdentifier\":\"11\"}]}",
                 RBIF, 2, 1);
  /* identifiers are compared after JSON unescaping */
  expect_partial(f, "{\"batchItemFailures\":[{\"itemIdentifier\":\"\\u0031\\u0030\"}]}", RBIF, 1,
                 1);
  expect_partial(f, "{\"batchItemFailures\":[{\"item\\u0049dentifier\":\"11\"}]}", RBIF, 2, 1);
  expect_partial(f, "{\"batch\\u0049temFailures\":[{\"itemIdentifier\":\"11\"}]}", RBIF, 2, 1);
  /* the same bodies without ReportBatchItemFailures: success */
  expect(f, "{\"batchItemFailures\":[{\"itemIdentifier\":\"10\"}]}", 0, BP_ATTEMPT_SUCCESS,
         BP_REASON_NOT_REPORTING);
  expect(f, "{\"batchItemFailures\":[{\"itemIdentifier\":\"9\"}]}", 0, BP_ATTEMPT_SUCCESS,
         BP_REASON_NOT_REPORTING);
}

static void test_partial_numeric_lengths(void **state) {
  fx *f = *state;
  bp_record b[4];
  set_seq(&b[0], "99");
  set_seq(&b[1], "100");
  set_seq(&b[2], "1000");
  set_seq(&b[3], "49590338271490256608559692538361571095921575989136588898");
  const char *body = "{\"batchItemFailures\":[{\"itemIdentifier\":\"49590338271490256608559692538361571095921575989136588898\"},"
                     "{\"itemIdentifier\":\"1000\"},{\"itemIdentifier\":\"100\"}]}";
  bp_response_result r = run_n(f->c, body, strlen(body), b, 4, RBIF);
  assert_int_equal(r.outcome, BP_ATTEMPT_PARTIAL);
  assert_int_equal(r.failed_index, 1);
  assert_int_equal(r.failed_count, 3);
  body = "{\"batchItemFailures\":[{\"itemIdentifier\":\"1000\"},{\"itemIdentifier\":\"99\"}]}";
  r = run_n(f->c, body, strlen(body), b, 4, RBIF);
  assert_int_equal(r.failed_index, 0);
  assert_int_equal(r.failed_count, 2);
  /* a one-record batch (the §3.5 r6 case) */
  body = "{\"batchItemFailures\":[{\"itemIdentifier\":\"1000\"}]}";
  r = run_n(f->c, body, strlen(body), &b[2], 1, RBIF);
  assert_int_equal(r.outcome, BP_ATTEMPT_PARTIAL);
  assert_int_equal(r.failed_index, 0);
  assert_int_equal(r.failed_count, 1);
  /* an empty batch: any identifier is unknown, no identifier is success */
  r = run_n(f->c, body, strlen(body), NULL, 0, RBIF);
  assert_int_equal(r.outcome, BP_ATTEMPT_RETURNED_FAILED);
  assert_int_equal(r.reason, BP_REASON_UNKNOWN_IDENTIFIER);
  body = "{\"batchItemFailures\":[]}";
  r = run_n(f->c, body, strlen(body), NULL, 0, RBIF);
  assert_int_equal(r.outcome, BP_ATTEMPT_SUCCESS);
}

static void test_duplicate_bif_members(void **state) {
  fx *f = *state;
  /* last occurrence wins, both ways */
  expect(f, "{\"batchItemFailures\":[{\"itemIdentifier\":\"10\"}],\"batchItemFailures\":[]}", RBIF,
         BP_ATTEMPT_SUCCESS, BP_REASON_NONE);
  expect_partial(f, "{\"batchItemFailures\":[],\"batchItemFailures\":[{\"itemIdentifier\":\"10\"}]}",
                 RBIF, 1, 1);
  expect(f, "{\"batchItemFailures\":[{\"itemIdentifier\":\"10\"}],\"batchItemFailures\":null}",
         RBIF, BP_ATTEMPT_SUCCESS, BP_REASON_NONE);
  expect(f, "{\"batchItemFailures\":null,\"batchItemFailures\":5}", RBIF, BP_ATTEMPT_RETURNED_FAILED,
         BP_REASON_FAILURES_NOT_LIST);
  expect(f, "{\"batchItemFailures\":5,\"batchItemFailures\":null}", RBIF, BP_ATTEMPT_SUCCESS,
         BP_REASON_NONE);
  expect(f, "{\"batchItemFailures\":{},\"batchItemFailures\":[]}", RBIF, BP_ATTEMPT_SUCCESS,
         BP_REASON_NONE);
  expect_partial(f, "{\"batchItemFailures\":[{\"itemIdentifier\":\"bad\"}],\"batchItemFailures\":[{\"itemIdentifier\":\"11\"}]}",
                 RBIF, 2, 1);
  expect(f, "{\"batchItemFailures\":[{\"itemIdentifier\":\"11\"}],\"batchItemFailures\":[{\"itemIdentifier\":\"bad\"}]}",
         RBIF, BP_ATTEMPT_RETURNED_FAILED, BP_REASON_UNKNOWN_IDENTIFIER);
  /* accumulated identifiers of an earlier occurrence do not leak into the last one */
  expect_partial(f,
                 "{\"batchItemFailures\":[{\"itemIdentifier\":\"9\"},{\"itemIdentifier\":\"10\"}],"
                 "\"x\":1,\"batchItemFailures\":[{\"itemIdentifier\":\"11\"}]}",
                 RBIF, 2, 1);
  expect_partial(f,
                 "{\"batchItemFailures\":[{\"itemIdentifier\":\"11\"}],"
                 "\"batchItemFailures\":[{\"itemIdentifier\":\"10\"},{\"itemIdentifier\":\"9\"}]}",
                 RBIF, 0, 2);
  /* a member of a nested object with the same name is not an occurrence */
  expect_partial(f,
                 "{\"batchItemFailures\":[{\"itemIdentifier\":\"11\"}],"
                 "\"o\":{\"batchItemFailures\":[]}}",
                 RBIF, 2, 1);
}

/* ---- Tumbling windows: `state` (§6) ---- */

static void expect_state(fx *f, const char *body, uint32_t flags, const char *state_text) {
  bp_response_result r = run(f, body, flags);
  assert_int_equal(r.has_state, 1);
  assert_int_equal(r.state_len, strlen(state_text));
  assert_memory_equal(body + r.state_offset, state_text, r.state_len);
}

static void test_state_present(void **state) {
  fx *f = *state;
  const char *b1 = "{\"state\":{\"count\":3},\"batchItemFailures\":[]}";
  expect(f, b1, BOTH, BP_ATTEMPT_SUCCESS, BP_REASON_NONE);
  expect(f, b1, STATE, BP_ATTEMPT_SUCCESS, BP_REASON_NOT_REPORTING);
  expect_state(f, b1, BOTH, "{\"count\":3}");
  expect_state(f, b1, STATE, "{\"count\":3}");
  expect_state(f, b1, RBIF, "{\"count\":3}"); /* reported whenever the body is read */
  /* flags 0: the body is not read, so nothing is reported */
  assert_int_equal(run(f, b1, 0).has_state, 0);

  /* exact span with whitespace inside and around, braces in strings, nested objects */
  const char *st = "{ \"k\" : [1, {\"x\": \"}\"}] ,\n \"s\":\"{\\\"\" , \"e\" : { } }";
  char body[256];
  snprintf(body, sizeof body, " { \"batchItemFailures\" : [ ] , \"state\" :\n  %s \t } ", st);
  expect_state(f, body, BOTH, st);
  expect_state(f, body, STATE, st);
  snprintf(body, sizeof body, "{\"state\":%s}", "{}");
  expect_state(f, body, BOTH, "{}");
  snprintf(body, sizeof body, "{\"a\":{\"state\":[]},\"state\":%s,\"b\":{}}", st);
  expect_state(f, body, BOTH, st);
  /* a state with a partial */
  snprintf(body, sizeof body,
           "{\"batchItemFailures\":[{\"itemIdentifier\":\"10\"}],\"state\":{\"n\":\"1\"}}");
  expect_partial(f, body, BOTH, 1, 1);
  expect_state(f, body, BOTH, "{\"n\":\"1\"}");
  /* last occurrence wins */
  expect_state(f, "{\"state\":null,\"state\":{\"a\":1}}", BOTH, "{\"a\":1}");
  expect_state(f, "{\"state\":{\"a\":1},\"state\":{ }}", BOTH, "{ }");
  /* escaped member name */
  expect_state(f, "{\"st\\u0061te\":{\"a\":1}}", BOTH, "{\"a\":1}");
}

static void test_state_missing(void **state) {
  fx *f = *state;
  static const char *no_state[] = {
      "", " \n", "null", "\"\"", "[]", "{}", "{\"batchItemFailures\":[]}",
      "{\"batchItemFailures\":null}", "{\"state\":null}", "{\"state\":5}", "{\"state\":\"{}\"}",
      "{\"state\":[]}", "{\"state\":[{}]}", "{\"state\":true}", "{\"State\":{}}",
      "{\"x\":{\"state\":{}}}", "{\"state\":{},\"state\":null}", "{\"state\":{},\"state\":[]}",
  };
  for (size_t i = 0; i < sizeof no_state / sizeof no_state[0]; i++) {
    expect(f, no_state[i], BOTH, BP_ATTEMPT_RETURNED_FAILED, BP_REASON_STATE_MISSING);
    expect(f, no_state[i], STATE, BP_ATTEMPT_RETURNED_FAILED, BP_REASON_STATE_MISSING);
    expect(f, no_state[i], 0, BP_ATTEMPT_SUCCESS, BP_REASON_NOT_REPORTING);
    assert_int_equal(run(f, no_state[i], RBIF).has_state, 0);
  }
  /* only a member of the top-level object counts */
  expect(f, "[{\"state\":{}}]", STATE, BP_ATTEMPT_RETURNED_FAILED, BP_REASON_STATE_MISSING);
  expect(f, "[{\"state\":{}}]", BOTH, BP_ATTEMPT_RETURNED_FAILED, BP_REASON_NOT_OBJECT);
  /* NULL body */
  bp_response_result r = run_n(f->c, NULL, 0, f->b3, 3, STATE);
  assert_int_equal(r.outcome, BP_ATTEMPT_RETURNED_FAILED);
  assert_int_equal(r.reason, BP_REASON_STATE_MISSING);
  /* a partial without state is a full failure (no failed_index) */
  expect(f, "{\"batchItemFailures\":[{\"itemIdentifier\":\"10\"}]}", BOTH, BP_ATTEMPT_RETURNED_FAILED,
         BP_REASON_STATE_MISSING);
  /* without RBIF the body still must be an object with a state object */
  static const char *bad_state_only[] = {
      "not json", "{\"state\":{}", "{\"state\":{}} x", "123", "\"state\"",
      "{\"state\":{\"a\":\"\xff\"}}",
  };
  for (size_t i = 0; i < sizeof bad_state_only / sizeof bad_state_only[0]; i++)
    expect(f, bad_state_only[i], STATE, BP_ATTEMPT_RETURNED_FAILED, BP_REASON_STATE_MISSING);
  /* with RBIF its own failure reason comes first */
  expect(f, "not json", BOTH, BP_ATTEMPT_RETURNED_FAILED, BP_REASON_INVALID_JSON);
  expect(f, "123", BOTH, BP_ATTEMPT_RETURNED_FAILED, BP_REASON_NOT_OBJECT);
  expect(f, "{\"state\":{},\"batchItemFailures\":5}", BOTH, BP_ATTEMPT_RETURNED_FAILED,
         BP_REASON_FAILURES_NOT_LIST);
  expect(f, "{\"batchItemFailures\":[{\"itemIdentifier\":\"8\"}]}", BOTH, BP_ATTEMPT_RETURNED_FAILED,
         BP_REASON_UNKNOWN_IDENTIFIER);
  /* RBIF off + state present + partial-looking body: success */
  expect(f, "{\"state\":{},\"batchItemFailures\":[{\"itemIdentifier\":\"8\"}]}", STATE,
         BP_ATTEMPT_SUCCESS, BP_REASON_NOT_REPORTING);
  /* a failed classification still reports a state object it found */
  r = run(f, "{\"state\":{},\"batchItemFailures\":[{\"itemIdentifier\":\"8\"}]}", BOTH);
  assert_int_equal(r.outcome, BP_ATTEMPT_RETURNED_FAILED);
  assert_int_equal(r.has_state, 1);
}

/* ---- Scale: 10,000 records, 1,000 failures ---- */

#define BIG_N 10000

typedef struct big {
  bp_record recs[BIG_N];
  char text[BIG_N][24];
} big;

/* Ascending sequence numbers of 1 to 7 digits: numeric order != byte order. */
static big *big_batch(void) {
  big *g = malloc(sizeof *g);
  assert_non_null(g);
  for (size_t i = 0; i < BIG_N; i++) {
    snprintf(g->text[i], sizeof g->text[i], "%zu", i * i * 37 + 5);
    set_seq(&g->recs[i], g->text[i]);
  }
  return g;
}

static char *failures_body(big *g, const size_t *idx, size_t k, const char *extra) {
  size_t cap = k * 48 + 64 + (extra ? strlen(extra) : 0);
  char *s = malloc(cap), *p = s;
  assert_non_null(s);
  p += sprintf(p, "{\"batchItemFailures\":[");
  for (size_t i = 0; i < k; i++)
    p += sprintf(p, "%s{\"itemIdentifier\":\"%s\"}", i ? "," : "", g->text[idx[i]]);
  if (extra) p += sprintf(p, "%s", extra);
  sprintf(p, "]}");
  return s;
}

static void test_big_batch(void **state) {
  fx *f = *state;
  big *g = big_batch();
  size_t idx[1200];
  /* 1,000 distinct indices 7, 17, ..., 9997 in a scrambled order, plus 200 duplicates */
  for (size_t i = 0; i < 1000; i++) idx[i] = ((i * 7919) % 1000) * 10 + 7;
  for (size_t i = 0; i < 200; i++) idx[1000 + i] = idx[i * 3];
  char *body = failures_body(g, idx, 1200, NULL);
  bp_response_result r = run_n(f->c, body, strlen(body), g->recs, BIG_N, RBIF);
  assert_int_equal(r.outcome, BP_ATTEMPT_PARTIAL);
  assert_int_equal(r.failed_index, 7);
  assert_int_equal(r.failed_count, 1000);
  free(body);
  /* one unknown identifier among the 1,000 */
  body = failures_body(g, idx, 1000, ",{\"itemIdentifier\":\"6\"}");
  r = run_n(f->c, body, strlen(body), g->recs, BIG_N, RBIF);
  assert_int_equal(r.outcome, BP_ATTEMPT_RETURNED_FAILED);
  assert_int_equal(r.reason, BP_REASON_UNKNOWN_IDENTIFIER);
  assert_non_null(strstr(bp_codec_errmsg(f->c), "batchItemFailures[1000]"));
  free(body);
  /* every record, the first and last ones */
  size_t all[BIG_N];
  for (size_t i = 0; i < BIG_N; i++) all[i] = BIG_N - 1 - i;
  body = failures_body(g, all, BIG_N, NULL);
  r = run_n(f->c, body, strlen(body), g->recs, BIG_N, RBIF);
  assert_int_equal(r.failed_index, 0);
  assert_int_equal(r.failed_count, BIG_N);
  free(body);
  size_t last = BIG_N - 1;
  body = failures_body(g, &last, 1, NULL);
  r = run_n(f->c, body, strlen(body), g->recs, BIG_N, RBIF);
  assert_int_equal(r.failed_index, BIG_N - 1);
  assert_int_equal(r.failed_count, 1);
  /* the bitmap is reused for a smaller batch and does not keep old marks */
  r = run_n(f->c, body, strlen(body), &g->recs[BIG_N - 1], 1, RBIF);
  assert_int_equal(r.failed_index, 0);
  assert_int_equal(r.failed_count, 1);
  free(body);
  /* every sequence number near each batch value is rejected */
  for (size_t i = 0; i < BIG_N; i += 97) {
    char id[32], b[96];
    snprintf(id, sizeof id, "%zu", i * i * 37 + 6);
    snprintf(b, sizeof b, "{\"batchItemFailures\":[{\"itemIdentifier\":\"%s\"}]}", id);
    r = run_n(f->c, b, strlen(b), g->recs, BIG_N, RBIF);
    assert_int_equal(r.reason, BP_REASON_UNKNOWN_IDENTIFIER);
  }
  free(g);
}

/* ---- Hostile bodies: nesting, size ---- */

static char *repeat(const char *pre, const char *unit, size_t times, const char *post) {
  size_t ul = strlen(unit), pl = strlen(pre), ql = strlen(post);
  char *s = malloc(pl + ul * times + ql + 1);
  assert_non_null(s);
  memcpy(s, pre, pl);
  for (size_t i = 0; i < times; i++) memcpy(s + pl + i * ul, unit, ul);
  memcpy(s + pl + ul * times, post, ql + 1);
  return s;
}

static void expect_owned(fx *f, char *body, uint32_t flags, int outcome, int reason) {
  bp_response_result r = run_n(f->c, body, strlen(body), f->b3, 3, flags);
  assert_int_equal(r.outcome, outcome);
  assert_int_equal(r.reason, reason);
  free(body);
}

static void test_deep_nesting(void **state) {
  fx *f = *state;
  const size_t D = 100000;
  expect_owned(f, repeat("", "[", D, ""), RBIF, BP_ATTEMPT_RETURNED_FAILED, BP_REASON_INVALID_JSON);
  expect_owned(f, repeat("", "{\"a\":", D, ""), BOTH, BP_ATTEMPT_RETURNED_FAILED,
               BP_REASON_INVALID_JSON);
  expect_owned(f, repeat("", "[", D, ""), STATE, BP_ATTEMPT_RETURNED_FAILED, BP_REASON_STATE_MISSING);
  /* balanced: valid JSON */
  char *open = repeat("", "[", D, ""), *close = repeat("", "]", D, "");
  size_t blen = 2 * D + 64;
  char *b = malloc(blen);
  assert_non_null(b);
  snprintf(b, blen, "%s%s", open, close);
  expect_owned(f, b, RBIF, BP_ATTEMPT_RETURNED_FAILED, BP_REASON_NOT_OBJECT);
  b = malloc(blen + 64);
  assert_non_null(b);
  snprintf(b, blen + 64, "{\"batchItemFailures\":[%s%s]}", open, close);
  expect_owned(f, b, RBIF, BP_ATTEMPT_RETURNED_FAILED, BP_REASON_BAD_ITEM);
  b = malloc(blen + 96);
  assert_non_null(b);
  snprintf(b, blen + 96, "{\"junk\":%s%s,\"batchItemFailures\":[]}", open, close);
  expect_owned(f, b, RBIF, BP_ATTEMPT_SUCCESS, BP_REASON_NONE);
  b = malloc(blen + 128);
  assert_non_null(b);
  snprintf(b, blen + 128,
           "{\"batchItemFailures\":[{\"itemIdentifier\":\"10\",\"deep\":%s%s}],\"state\":{}}",
           open, close);
  bp_response_result r = run_n(f->c, b, strlen(b), f->b3, 3, BOTH);
  assert_int_equal(r.outcome, BP_ATTEMPT_PARTIAL);
  assert_int_equal(r.failed_index, 1);
  free(b);
  free(open);
  free(close);
  /* a deep state object */
  b = malloc(8 * D + 64);
  assert_non_null(b);
  char *p = b + sprintf(b, "{\"state\":");
  for (size_t i = 0; i < D; i++) p += sprintf(p, "{\"a\":");
  p += sprintf(p, "1");
  for (size_t i = 0; i <= D; i++) *p++ = '}';
  *p = '\0';
  r = run_n(f->c, b, strlen(b), f->b3, 3, BOTH);
  assert_int_equal(r.outcome, BP_ATTEMPT_SUCCESS);
  assert_int_equal(r.state_offset, 9);
  assert_int_equal(r.state_len, strlen(b) - 10);
  free(b);
}

static void test_large_bodies(void **state) {
  fx *f = *state;
  const size_t MB = 1024 * 1024;
  /* 24 MB string member, then a partial */
  expect_owned(f,
               repeat("{\"pad\":\"", "xxxxxxxx", 3 * MB,
                      "\",\"batchItemFailures\":[{\"itemIdentifier\":\"11\"}],\"state\":{}}"),
               BOTH, BP_ATTEMPT_PARTIAL, BP_REASON_NONE);
  /* 20 MB of whitespace around an empty object */
  expect_owned(f, repeat("", "    ", 5 * MB, "{}"), RBIF, BP_ATTEMPT_SUCCESS, BP_REASON_NONE);
  expect_owned(f, repeat("", " \n\t\r", 5 * MB, ""), RBIF, BP_ATTEMPT_SUCCESS, BP_REASON_EMPTY);
  /* ~25 MB of failures all naming the same record */
  char *b = repeat("{\"batchItemFailures\":[", "{\"itemIdentifier\":\"10\"},", MB,
                   "{\"itemIdentifier\":\"11\"}]}");
  bp_response_result r = run_n(f->c, b, strlen(b), f->b3, 3, RBIF);
  assert_int_equal(r.outcome, BP_ATTEMPT_PARTIAL);
  assert_int_equal(r.failed_index, 1);
  assert_int_equal(r.failed_count, 2);
  /* the same, truncated by one byte: invalid JSON */
  b[strlen(b) - 1] = '\0';
  expect_owned(f, b, RBIF, BP_ATTEMPT_RETURNED_FAILED, BP_REASON_INVALID_JSON);
  /* a huge identifier */
  expect_owned(f, repeat("{\"batchItemFailures\":[{\"itemIdentifier\":\"", "1111", 2 * MB, "\"}]}"),
               RBIF, BP_ATTEMPT_RETURNED_FAILED, BP_REASON_UNKNOWN_IDENTIFIER);
  /* a 10 MB state object */
  b = repeat("{\"state\":{\"s\":\"", "abcdefghij", MB, "\"}}");
  r = run_n(f->c, b, strlen(b), f->b3, 3, STATE);
  assert_int_equal(r.outcome, BP_ATTEMPT_SUCCESS);
  assert_int_equal(r.state_offset, 9);
  assert_int_equal(r.state_len, 10 * MB + 8);
  free(b);
  /* many top-level members (duplicates of both names) */
  expect_owned(f,
               repeat("{", "\"batchItemFailures\":[{\"itemIdentifier\":\"9\"}],\"state\":{},", 200000,
                      "\"batchItemFailures\":[{\"itemIdentifier\":\"11\"}],\"state\":{\"x\":0}}"),
               BOTH, BP_ATTEMPT_PARTIAL, BP_REASON_NONE);
}

/* Embedded NUL bytes are data, not terminators. */
static void test_binary_bytes(void **state) {
  fx *f = *state;
  static const char nul_in_string[] = "{\"batchItemFailures\":[{\"itemIdentifier\":\"10\0\"}]}";
  bp_response_result r =
      run_n(f->c, nul_in_string, sizeof nul_in_string - 1, f->b3, 3, RBIF);
  assert_int_equal(r.reason, BP_REASON_INVALID_JSON);
  static const char nul_after[] = "{}\0";
  r = run_n(f->c, nul_after, sizeof nul_after - 1, f->b3, 3, RBIF);
  assert_int_equal(r.reason, BP_REASON_INVALID_JSON);
  static const char nul_only[] = "\0";
  r = run_n(f->c, nul_only, 1, f->b3, 3, RBIF);
  assert_int_equal(r.reason, BP_REASON_INVALID_JSON);
  /* a prefix of a longer buffer: only len bytes count */
  const char *longer = "{}garbage";
  r = run_n(f->c, longer, 2, f->b3, 3, RBIF);
  assert_int_equal(r.outcome, BP_ATTEMPT_SUCCESS);
  /* valid multi-byte UTF-8 is fine */
  expect(f, "{\"msg\":\"h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\",\"batchItemFailures\":[]}", RBIF,
         BP_ATTEMPT_SUCCESS, BP_REASON_NONE);
}

/* ---- Arguments and batch preconditions ---- */

static void expect_bad_batch(fx *f, const bp_record *b, size_t n, const char *msg_part) {
  bp_response_result r = BP_RESPONSE_RESULT_INIT;
  memset(&r, 0x5a, sizeof r);
  for (uint32_t flags = 0; flags <= 3; flags++) {
    assert_int_equal(bp_codec_classify_response(f->c, "{}", 2, b, n, flags, &r),
                     BP_ERR_INVALID_ARGUMENT);
    if (!strstr(bp_codec_errmsg(f->c), msg_part))
      print_error("errmsg '%s' lacks '%s'\n", bp_codec_errmsg(f->c), msg_part);
    assert_non_null(strstr(bp_codec_errmsg(f->c), msg_part));
  }
}

static void test_batch_preconditions(void **state) {
  fx *f = *state;
  bp_record b[3];
  set_seq(&b[0], "10");
  set_seq(&b[1], "9");
  set_seq(&b[2], "11");
  expect_bad_batch(f, b, 3, "batch[1]"); /* byte order would accept "10" < "9" */
  set_seq(&b[1], "10");
  expect_bad_batch(f, b, 3, "batch[1]"); /* equal */
  set_seq(&b[0], "9");
  set_seq(&b[2], "010");
  expect_bad_batch(f, b, 3, "batch[2]");
  set_seq(&b[2], "");
  expect_bad_batch(f, b, 3, "batch[2]");
  set_seq(&b[2], "1a");
  expect_bad_batch(f, b, 3, "batch[2]");
  set_seq(&b[2], "-11");
  expect_bad_batch(f, b, 3, "batch[2]");
  b[2].seq = NULL;
  b[2].seq_len = 2;
  expect_bad_batch(f, b, 3, "batch[2]");
  char long_seq[BP_MAX_SEQNUM_DIGITS + 2];
  memset(long_seq, '7', sizeof long_seq - 1);
  long_seq[sizeof long_seq - 1] = '\0';
  set_seq(&b[2], long_seq);
  expect_bad_batch(f, b, 3, "batch[2]");
  long_seq[BP_MAX_SEQNUM_DIGITS] = '\0'; /* exactly the maximum: fine */
  set_seq(&b[2], long_seq);
  assert_int_equal(run_n(f->c, "{}", 2, b, 3, RBIF).outcome, BP_ATTEMPT_SUCCESS);
  set_seq(&b[0], "0"); /* "0" is a valid sequence number */
  assert_int_equal(run_n(f->c, "{}", 2, b, 3, RBIF).outcome, BP_ATTEMPT_SUCCESS);
  expect_bad_batch(f, NULL, 2, "batch");
}

static void test_arguments(void **state) {
  fx *f = *state;
  bp_response_result r = BP_RESPONSE_RESULT_INIT;
  assert_int_equal(bp_codec_classify_response(NULL, "{}", 2, f->b3, 3, RBIF, &r),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_codec_classify_response(f->c, "{}", 2, f->b3, 3, RBIF, NULL),
                   BP_ERR_INVALID_ARGUMENT);
  assert_true(bp_codec_errmsg(f->c)[0] != '\0');
  assert_int_equal(bp_codec_classify_response(f->c, NULL, 1, f->b3, 3, RBIF, &r),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_codec_classify_response(f->c, "{}", 2, f->b3, 3, 0x4u, &r),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_codec_classify_response(f->c, "{}", 2, f->b3, 3, 0x80000001u, &r),
                   BP_ERR_INVALID_ARGUMENT);
  /* a length no object has, over a 2-byte heap body: refused before the body is read, with
   * any flags (ASan read past the body before the fix) */
  char *two = malloc(2);
  memcpy(two, "{}", 2);
  const size_t none[] = {SIZE_MAX, (size_t)PTRDIFF_MAX + 1};
  const uint32_t flags[] = {0, RBIF, BP_CLASSIFY_REQUIRE_STATE};
  for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
    for (size_t k = 0; k < sizeof flags / sizeof flags[0]; k++) {
      assert_int_equal(bp_codec_classify_response(f->c, two, none[i], f->b3, 3, flags[k], &r),
                       BP_ERR_INVALID_ARGUMENT);
      assert_non_null(strstr(bp_codec_errmsg(f->c), "length"));
    }
  free(two);
  /* after an error the codec is fine */
  expect_partial(f, "{\"batchItemFailures\":[{\"itemIdentifier\":\"10\"}]}", RBIF, 1, 1);
}

/* A DynamoDB codec classifies the same way. */
static void test_dynamodb_codec(void **state) {
  fx *f = *state;
  static const bp_codec_opts ddb = {sizeof(bp_codec_opts),
      BP_SOURCE_DYNAMODB, "arn:aws:dynamodb:us-east-1:111111111111:table/t/stream/2024-01-01T00:00:00.000",
      NULL, NULL, NULL};
  bp_codec *c;
  assert_int_equal(bp_codec_new(&c, &ddb, NULL), 0);
  bp_record b[2];
  set_seq(&b[0], "4000000000000000000001");
  set_seq(&b[1], "4000000000000000000002");
  const char *body = "{\"batchItemFailures\":[{\"itemIdentifier\":\"4000000000000000000002\"}]}";
  bp_response_result r = run_n(c, body, strlen(body), b, 2, RBIF);
  assert_int_equal(r.outcome, BP_ATTEMPT_PARTIAL);
  assert_int_equal(r.failed_index, 1);
  bp_codec_del(c);
  (void)f;
}

/* ---- Allocation failure ---- */

typedef struct fm_ctx {
  const char *body;
  uint32_t flags;
  int outcome;
} fm_ctx;

static int fm_scenario(const bp_allocator *hooks, void *ctx) {
  const fm_ctx *cases = ctx;
  bp_codec *c;
  int rc = bp_codec_new(&c, &kin_opts, hooks);
  if (rc) return rc;
  bp_record b[3];
  set_seq(&b[0], "9");
  set_seq(&b[1], "10");
  set_seq(&b[2], "11");
  for (size_t i = 0; cases[i].body; i++) {
    bp_response_result r = BP_RESPONSE_RESULT_INIT;
    rc = bp_codec_classify_response(c, cases[i].body, strlen(cases[i].body), b, 3,
                                    cases[i].flags, &r);
    if (rc) {
      /* no classification: the result is zeroed, the codec stays usable */
      assert_int_equal(rc, BP_ERR_NOMEM);
      assert_int_equal(r.outcome, 0);
      assert_int_equal(r.failed_count, 0);
      break;
    }
    assert_int_equal(r.outcome, cases[i].outcome);
  }
  bp_codec_del(c);
  return rc;
}

static void test_failmalloc(void **state) {
  (void)state;
  static const fm_ctx cases[] = {
      {"{\"state\":{},\"batchItemFailures\":[{\"itemIdentifier\":\"11\"},{\"itemIdentifier\":\"10\"}]}",
       BOTH, BP_ATTEMPT_PARTIAL},
      {"{\"batchItemFailures\":[{\"itemIdentifier\":\"12\"}]}", RBIF, BP_ATTEMPT_RETURNED_FAILED},
      {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
       "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
       "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
       RBIF, BP_ATTEMPT_RETURNED_FAILED},
      {"{\"a\":\"\\u00e9\\n\",\"batchItemFailures\":[{\"itemIdentifier\":\"\\u0039\"}]}", RBIF,
       BP_ATTEMPT_PARTIAL},
      {"{\"state\":{}}", STATE, BP_ATTEMPT_SUCCESS},
      {"", STATE, BP_ATTEMPT_RETURNED_FAILED},
      {NULL, 0, 0},
  };
  test_alloc_failmalloc(fm_scenario, (void *)cases);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_success_rows, setup, teardown),
      cmocka_unit_test_setup_teardown(test_failure_rows_recorded, setup, teardown),
      cmocka_unit_test_setup_teardown(test_failure_items, setup, teardown),
      cmocka_unit_test_setup_teardown(test_failure_not_list, setup, teardown),
      cmocka_unit_test_setup_teardown(test_failure_invalid_json, setup, teardown),
      cmocka_unit_test_setup_teardown(test_failure_not_object, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rule_order, setup, teardown),
      cmocka_unit_test_setup_teardown(test_partial, setup, teardown),
      cmocka_unit_test_setup_teardown(test_partial_numeric_lengths, setup, teardown),
      cmocka_unit_test_setup_teardown(test_duplicate_bif_members, setup, teardown),
      cmocka_unit_test_setup_teardown(test_state_present, setup, teardown),
      cmocka_unit_test_setup_teardown(test_state_missing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_big_batch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_deep_nesting, setup, teardown),
      cmocka_unit_test_setup_teardown(test_large_bodies, setup, teardown),
      cmocka_unit_test_setup_teardown(test_binary_bytes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_batch_preconditions, setup, teardown),
      cmocka_unit_test_setup_teardown(test_arguments, setup, teardown),
      cmocka_unit_test_setup_teardown(test_dynamodb_codec, setup, teardown),
      cmocka_unit_test(test_failmalloc),
  };
  return cmocka_run_group_tests_name("response", tests, NULL, NULL);
}
