/* SPDX-License-Identifier: MIT */
/* The function side's typed DynamoDB attribute reader: S, N, B, BOOL, NULL, M, L, SS, NS, BS,
 * lookup with escaped names, iteration of maps, lists and sets, and malformed values. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "batchpoint.h"

#define S(lit) lit, sizeof lit - 1

static const char IMAGE[] =
    "{\"s\":{\"S\":\"caf\\u00e9\"},\"n\":{\"N\":\"-1.5E3\"},\"b\":{\"B\":\"Zm9vYmFy\"},"
    "\"t\":{\"BOOL\":true},\"f\":{\"BOOL\":false},\"z\":{\"NULL\":true},"
    "\"m\":{\"M\":{\"in\":{\"S\":\"x\"},\"deep\":{\"L\":[{\"N\":\"1\"}]}}},"
    "\"l\":{\"L\":[{\"S\":\"a\"},{\"N\":\"2\"},{\"M\":{}}]},"
    "\"ss\":{\"SS\":[\"a\",\"b\\\"c\"]},\"ns\":{\"NS\":[\"1\",\"2.5\"]},\"bs\":{\"BS\":[\"AA==\",\"/w==\"]},"
    "\"k\\u00e9y\":{\"S\":\"escaped name\"},\"dup\":{\"S\":\"first\"},\"dup\":{\"S\":\"last\"}}";

static void assert_value(const bp_ddb_attr *a, int32_t type, const char *want, size_t n) {
  assert_int_equal(a->type, type);
  assert_int_equal(a->value_len, n);
  assert_memory_equal(a->value, want, n);
}

static bp_ddb_attr get(bp_handler *h, const char *name, int want_rc) {
  bp_ddb_attr a = BP_DDB_ATTR_INIT;
  int rc = bp_handler_ddb_get(h, IMAGE, strlen(IMAGE), name, strlen(name), &a);
  if (rc != want_rc) fail_msg("%s: %d %s", name, rc, bp_handler_errmsg(h));
  return a;
}

/* Outside a callback each reader call reuses the value blocks: read, then use. */
static void test_scalars(void **state) {
  (void)state;
  bp_handler *h;
  assert_int_equal(bp_handler_new(&h, NULL, NULL), 0);
  bp_ddb_attr a = get(h, "s", 1);
  assert_value(&a, BP_DDB_S, S("caf\xc3\xa9"));
  assert_int_equal(a.json_len, strlen("{\"S\":\"caf\\u00e9\"}"));
  assert_memory_equal(a.json, "{\"S\":\"caf\\u00e9\"}", a.json_len);
  a = get(h, "n", 1);
  assert_value(&a, BP_DDB_N, S("-1.5E3"));
  a = get(h, "b", 1);
  assert_value(&a, BP_DDB_B, S("foobar"));
  a = get(h, "t", 1);
  assert_int_equal(a.type, BP_DDB_BOOL);
  assert_int_equal(a.boolean, 1);
  a = get(h, "f", 1);
  assert_int_equal(a.boolean, 0);
  assert_value(&a, BP_DDB_BOOL, S("false"));
  a = get(h, "z", 1);
  assert_int_equal(a.type, BP_DDB_NULL);
  a = get(h, "k\xc3\xa9y", 1);
  assert_value(&a, BP_DDB_S, S("escaped name"));
  a = get(h, "dup", 1);
  assert_value(&a, BP_DDB_S, S("last"));
  a = get(h, "absent", 0);
  assert_int_equal(a.type, BP_DDB_NONE);
  assert_null(a.value);
  bp_handler_del(h);
}

static void test_containers(void **state) {
  (void)state;
  bp_handler *h;
  assert_int_equal(bp_handler_new(&h, NULL, NULL), 0);
  bp_ddb_attr m = get(h, "m", 1), e = BP_DDB_ATTR_INIT;
  assert_int_equal(m.type, BP_DDB_M);
  size_t cur = 0;
  const char *name;
  size_t name_len;
  assert_int_equal(bp_handler_ddb_next(h, BP_DDB_M, m.value, m.value_len, &cur, &name, &name_len, &e), 1);
  assert_int_equal(name_len, 2);
  assert_memory_equal(name, "in", 2);
  assert_value(&e, BP_DDB_S, S("x"));
  assert_int_equal(bp_handler_ddb_next(h, BP_DDB_M, m.value, m.value_len, &cur, &name, &name_len, &e), 1);
  assert_int_equal(e.type, BP_DDB_L);
  bp_ddb_attr deep = e;
  assert_int_equal(bp_handler_ddb_next(h, BP_DDB_M, m.value, m.value_len, &cur, &name, &name_len, &e), 0);
  assert_int_equal(bp_handler_ddb_next(h, BP_DDB_M, m.value, m.value_len, &cur, &name, &name_len, &e), 0);
  size_t c2 = 0;
  assert_int_equal(bp_handler_ddb_next(h, BP_DDB_L, deep.value, deep.value_len, &c2, NULL, NULL, &e), 1);
  assert_value(&e, BP_DDB_N, S("1"));
  /* lookup inside an M value */
  assert_int_equal(bp_handler_ddb_get(h, m.value, m.value_len, S("in"), &e), 1);
  assert_value(&e, BP_DDB_S, S("x"));
  /* a list */
  bp_ddb_attr l = get(h, "l", 1);
  int32_t types[3];
  cur = 0;
  for (int i = 0; i < 3; i++) {
    assert_int_equal(bp_handler_ddb_next(h, BP_DDB_L, l.value, l.value_len, &cur, &name, &name_len, &e), 1);
    assert_null(name);
    types[i] = e.type;
  }
  assert_int_equal(bp_handler_ddb_next(h, BP_DDB_L, l.value, l.value_len, &cur, NULL, NULL, &e), 0);
  assert_int_equal(types[0], BP_DDB_S);
  assert_int_equal(types[1], BP_DDB_N);
  assert_int_equal(types[2], BP_DDB_M);
  /* sets */
  static const struct {
    const char *name;
    int32_t type, elem;
    const char *v0, *v1;
    size_t n0, n1;
  } sets[] = {{"ss", BP_DDB_SS, BP_DDB_S, "a", "b\"c", 1, 3},
              {"ns", BP_DDB_NS, BP_DDB_N, "1", "2.5", 1, 3},
              {"bs", BP_DDB_BS, BP_DDB_B, "\x00", "\xff", 1, 1}};
  for (size_t i = 0; i < 3; i++) {
    bp_ddb_attr set = get(h, sets[i].name, 1);
    assert_int_equal(set.type, sets[i].type);
    cur = 0;
    assert_int_equal(bp_handler_ddb_next(h, set.type, set.value, set.value_len, &cur, NULL, NULL, &e), 1);
    assert_value(&e, sets[i].elem, sets[i].v0, sets[i].n0);
    assert_int_equal(bp_handler_ddb_next(h, set.type, set.value, set.value_len, &cur, NULL, NULL, &e), 1);
    assert_value(&e, sets[i].elem, sets[i].v1, sets[i].n1);
    assert_int_equal(bp_handler_ddb_next(h, set.type, set.value, set.value_len, &cur, NULL, NULL, &e), 0);
  }
  /* the whole image as a map */
  size_t count = 0;
  cur = 0;
  while (bp_handler_ddb_next(h, BP_DDB_M, IMAGE, strlen(IMAGE), &cur, &name, &name_len, &e) == 1) count++;
  assert_int_equal(count, 14);
  bp_handler_del(h);
}

static void test_malformed_values(void **state) {
  (void)state;
  bp_handler *h;
  assert_int_equal(bp_handler_new(&h, NULL, NULL), 0);
  static const struct {
    const char *map;
    int rc;
    const char *msg;
  } bad[] = {
      {"{\"a\":{\"X\":\"1\"}}", BP_ERR_INVALID_JSON, "unknown DynamoDB type"},
      {"{\"a\":{\"S\":1}}", BP_ERR_INVALID_JSON, "expected a string"},
      {"{\"a\":{\"S\":\"x\",\"N\":\"1\"}}", BP_ERR_INVALID_JSON, "one member"},
      {"{\"a\":{}}", BP_ERR_INVALID_JSON, "not a typed DynamoDB value"},
      {"{\"a\":\"x\"}", BP_ERR_INVALID_JSON, "not a typed DynamoDB value"},
      {"{\"a\":{\"B\":\"Zm9\"}}", BP_ERR_INVALID_BASE64, "base64"},
      {"{\"a\":{\"NULL\":false}}", BP_ERR_INVALID_JSON, "NULL is not true"},
      {"{\"a\":{\"BOOL\":1}}", BP_ERR_INVALID_JSON, "BOOL is not a boolean"},
      {"{\"a\":{\"M\":[]}}", BP_ERR_INVALID_JSON, "M is not an object"},
      {"{\"a\":{\"SS\":[1]}}", BP_ERR_INVALID_JSON, "set element"},
      {"{\"a\":{\"L\":{}}}", BP_ERR_INVALID_JSON, "not an array"},
      {"{\"a\":{\"S\":\"x\"}", BP_ERR_INVALID_JSON, "item map"},
      {"{\"a\":{\"S\":\"x\"}} x", BP_ERR_INVALID_JSON, "data after"},
      {"[]", BP_ERR_INVALID_JSON, "not an item map"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    bp_ddb_attr a = BP_DDB_ATTR_INIT;
    int rc = bp_handler_ddb_get(h, bad[i].map, strlen(bad[i].map), S("a"), &a);
    if (rc != bad[i].rc || !strstr(bp_handler_errmsg(h), bad[i].msg))
      fail_msg("%s: got %s '%s'", bad[i].map, bp_err_name(rc), bp_handler_errmsg(h));
  }
  bp_ddb_attr a = BP_DDB_ATTR_INIT;
  size_t cur = 0;
  assert_int_equal(bp_handler_ddb_get(h, NULL, 0, S("a"), &a), BP_ERR_INVALID_JSON);
  assert_int_equal(bp_handler_ddb_get(NULL, S("{}"), S("a"), &a), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_handler_ddb_next(h, BP_DDB_S, S("[]"), &cur, NULL, NULL, &a), BP_ERR_INVALID_ARGUMENT);
  cur = 10;
  assert_int_equal(bp_handler_ddb_next(h, BP_DDB_L, S("[]"), &cur, NULL, NULL, &a), BP_ERR_INVALID_ARGUMENT);
  cur = 0;
  assert_int_equal(bp_handler_ddb_next(h, BP_DDB_L, S("{}"), &cur, NULL, NULL, &a), BP_ERR_INVALID_JSON);
  cur = 0;
  assert_int_equal(bp_handler_ddb_next(h, BP_DDB_L, S("[] x"), &cur, NULL, NULL, &a), BP_ERR_INVALID_JSON);
  bp_ddb_attr zero = {0};
  assert_int_equal(bp_handler_ddb_get(h, S("{}"), S("a"), &zero), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_ddb_attr_init(NULL, sizeof a), BP_ERR_INVALID_ARGUMENT);
  bp_handler_del(h);
}

/* The reader inside a callback, over a record's images. */
static int on_ddb(bp_handler *h, const bp_handler_record *r, void *ud) {
  int *checked = ud;
  bp_ddb_attr a = BP_DDB_ATTR_INIT;
  assert_int_equal(bp_handler_ddb_get(h, r->keys_json, r->keys_json_len, S("pk"), &a), 1);
  assert_value(&a, BP_DDB_S, S("hello world"));
  bp_ddb_attr e = BP_DDB_ATTR_INIT;
  assert_int_equal(bp_handler_ddb_get(h, r->new_image_json, r->new_image_json_len, S("e"), &e), 1);
  assert_int_equal(bp_handler_ddb_get(h, r->new_image_json, r->new_image_json_len, S("bin"), &a), 1);
  assert_value(&a, BP_DDB_B, S("foobar"));
  assert_value(&e, BP_DDB_S, S("\xc3\xa9")); /* in a callback, earlier values stay valid */
  assert_null(r->old_image_json);
  (*checked)++;
  return 0;
}

static void test_in_callback(void **state) {
  (void)state;
  const char *ev =
      "{\"Records\":[{\"eventID\":\"1\",\"eventName\":\"INSERT\",\"eventVersion\":\"1.1\","
      "\"eventSource\":\"aws:dynamodb\",\"awsRegion\":\"us-east-1\",\"dynamodb\":"
      "{\"ApproximateCreationDateTime\":1732550400,\"Keys\":{\"pk\":{\"S\":\"hello world\"}},"
      "\"NewImage\":{\"pk\":{\"S\":\"hello world\"},\"bin\":{\"B\":\"Zm9vYmFy\"},"
      "\"e\":{\"S\":\"\\u00e9\"}},\"SequenceNumber\":\"100000000000000000001\",\"SizeBytes\":70,"
      "\"StreamViewType\":\"NEW_IMAGE\"},\"eventSourceARN\":\"arn:aws:dynamodb:us-east-1:1:table/t/stream/x\"}]}";
  bp_handler *h;
  assert_int_equal(bp_handler_new(&h, NULL, NULL), 0);
  int checked = 0;
  const char *resp;
  size_t len;
  assert_int_equal(bp_handler_process(h, ev, strlen(ev), on_ddb, &checked, &resp, &len), 0);
  assert_int_equal(checked, 1);
  bp_handler_del(h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scalars),
      cmocka_unit_test(test_containers),
      cmocka_unit_test(test_malformed_values),
      cmocka_unit_test(test_in_callback),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
