/* SPDX-License-Identifier: MIT */
/* The yajl bridge: strictness, offsets, the DOM, steady-state reuse and OOM at every
 * allocation (yajl itself does not check its allocations; the bridge must). */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "bp_json_int.h"
#include "bp_json_dom_int.h"
#include "test_alloc.h"

static int parse(const char *text) {
  bp_allocator a;
  bp__alloc_copy(&a, NULL);
  bp__json_pool pool;
  bp__json_pool_init(&pool, &a);
  bp__errmsg err;
  int rc = bp__json_parse(&pool, text, strlen(text), NULL, NULL, &err);
  bp__json_pool_free(&pool);
  return rc;
}

static void test_strict(void **state) {
  (void)state;
  const char *good[] = {"{}", "[]", "0", "-1.5e3", "\"x\"", "null", "true", " {\"a\":[1,{}]} ",
                        "\"caf\xc3\xa9\"", "\"\\u00e9\""};
  const char *bad[] = {"", " ", "{", "{}}", "{} {}", "[1,]", "{\"a\" 1}", "01", "1.", ".5",
                       "\"\xff\"", "/* c */ {}", "{\"a\":1,}", "tru", "nul", "'x'", "[1] x",
                       "\"\x01\"", "{}\"", " {}\"x", "{} \"", "1 \"", "[]\"\\u"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
    if (parse(good[i])) fail_msg("rejected %s", good[i]);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (parse(bad[i]) != BP_ERR_INVALID_JSON) fail_msg("accepted %s", bad[i]);
}

static void test_error_offset(void **state) {
  (void)state;
  bp_allocator a;
  bp__alloc_copy(&a, NULL);
  bp__json_pool pool;
  bp__json_pool_init(&pool, &a);
  bp__errmsg err;
  const char *t = "{\"a\":[1,2,x]}";
  assert_int_equal(bp__json_parse(&pool, t, strlen(t), NULL, NULL, &err), BP_ERR_INVALID_JSON);
  assert_true(err.offset >= 9 && err.offset <= 11);
  assert_non_null(strstr(err.text, "invalid JSON at byte"));
  /* a text that ends too early: the error is at its end, not where the last call began */
  t = "{\"a\":1";
  assert_int_equal(bp__json_parse(&pool, t, strlen(t), NULL, NULL, &err), BP_ERR_INVALID_JSON);
  assert_int_equal(err.offset, 6);
  assert_string_equal(err.text, "invalid JSON at byte 6");
  bp__json_pool_free(&pool);
}

typedef struct spans {
  bp__json_pool *pool;
  size_t open_at[4], close_at[4];
  int depth, n;
} spans;

static int sp_open(void *c) {
  spans *s = c;
  if (s->depth++ == 1) s->open_at[s->n] = bp__json_offset(s->pool);
  return 1;
}
static int sp_close(void *c) {
  spans *s = c;
  if (--s->depth == 1) s->close_at[s->n++] = bp__json_offset(s->pool);
  return 1;
}

/* Offsets during callbacks delimit a nested value's bytes exactly. */
static void test_offsets(void **state) {
  (void)state;
  bp_allocator a;
  bp__alloc_copy(&a, NULL);
  bp__json_pool pool;
  bp__json_pool_init(&pool, &a);
  spans s = {&pool, {0}, {0}, 0, 0};
  bp__json_cb cb = {NULL, NULL, NULL, NULL, sp_open, NULL, sp_close, sp_open, sp_close};
  const char *t = "{\"x\":1, \"state\" : { \"a\" : [1] } ,\"y\":[ ]}";
  assert_int_equal(bp__json_parse(&pool, t, strlen(t), &cb, &s, NULL), 0);
  assert_int_equal(s.n, 2);
  assert_int_equal(t[s.open_at[0] - 1], '{');
  assert_memory_equal(t + s.open_at[0] - 1, "{ \"a\" : [1] }", s.close_at[0] - s.open_at[0] + 1);
  assert_memory_equal(t + s.open_at[1] - 1, "[ ]", s.close_at[1] - s.open_at[1] + 1);
  assert_int_equal(bp__json_offset(&pool), 0); /* no parse in progress */
  bp__json_pool_free(&pool);
}

static void test_dom(void **state) {
  (void)state;
  bp_allocator a;
  bp__alloc_copy(&a, NULL);
  bp__json_pool pool;
  bp__json_pool_init(&pool, &a);
  bp__jdom dom;
  bp__jdom_init(&dom, &a);
  const char *t = "{\"n\":1.50,\"s\":\"a\\\"b\",\"b\":false,\"z\":null,\"arr\":[1,[2],{}],"
                  "\"dup\":1,\"dup\":2}";
  assert_int_equal(bp__jdom_parse(&dom, &pool, t, strlen(t), NULL), 0);
  const bp__jnode *root = dom.root;
  assert_int_equal(root->type, BP__J_OBJECT);
  assert_int_equal(root->count, 7);
  const bp__jnode *n = bp__jobj_get(root, "n");
  assert_int_equal(n->type, BP__J_NUMBER);
  assert_string_equal(n->str, "1.50");
  assert_true(bp__jstr_eq(bp__jobj_get(root, "s"), "a\"b"));
  assert_int_equal(bp__jobj_get(root, "b")->type, BP__J_BOOL);
  assert_int_equal(bp__jobj_get(root, "b")->boolean, 0);
  assert_int_equal(bp__jobj_get(root, "z")->type, BP__J_NULL);
  const bp__jnode *arr = bp__jobj_get(root, "arr");
  assert_int_equal(arr->count, 3);
  assert_int_equal(arr->child->next->type, BP__J_ARRAY);
  assert_int_equal(arr->child->next->child->str[0], '2');
  assert_string_equal(bp__jobj_get(root, "dup")->str, "2"); /* last wins */
  assert_null(bp__jobj_get(root, "missing"));
  assert_null(bp__jobj_get(arr, "n"));
  assert_false(bp__jstr_eq(n, "1.50"));
  /* too deep for the DOM: a clear error, not a crash */
  char deep[700];
  memset(deep, '[', 300);
  memset(deep + 300, ']', 300);
  deep[600] = '\0';
  assert_int_equal(bp__jdom_parse(&dom, &pool, deep, 600, NULL), BP_ERR_INVALID_JSON);
  assert_null(dom.root);
  bp__jdom_free(&dom);
  bp__json_pool_free(&pool);
}

static int dom_scenario(const bp_allocator *hooks, void *ctx) {
  (void)ctx;
  bp__json_pool pool;
  bp__json_pool_init(&pool, hooks);
  bp__jdom dom;
  bp__jdom_init(&dom, hooks);
  char text[16000];
  size_t k = (size_t)sprintf(text, "{\"k\":\"%s\",\"list\":[", "\\u00e9\\n escaped string to grow yajl buffers");
  for (int i = 0; i < 300; i++) k += (size_t)sprintf(text + k, "%s{\"i\":%d,\"s\":\"v%d\"}", i ? "," : "", i, i);
  strcpy(text + k, "],\"deep\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}");
  int rc = 0;
  for (int round = 0; round < 2 && !rc; round++) rc = bp__jdom_parse(&dom, &pool, text, strlen(text), NULL);
  if (!rc && (!dom.root || dom.root->count != 3)) rc = BP_ERR_INTERNAL;
  bp__jdom_free(&dom);
  bp__json_pool_free(&pool);
  return rc;
}

static void test_failmalloc_dom(void **state) {
  (void)state;
  test_alloc_failmalloc(dom_scenario, NULL);
}

/* After the first parse, parsing again allocates nothing: the pool recycles yajl's blocks. */
static void test_pool_reuse(void **state) {
  (void)state;
  test_alloc t;
  bp_allocator hooks;
  test_alloc_init(&t, &hooks);
  bp__json_pool pool;
  bp__json_pool_init(&pool, &hooks);
  const char *text = "{\"a\":[1,2,3],\"b\":{\"c\":\"\\u00e9 escaped\"}}";
  assert_int_equal(bp__json_parse(&pool, text, strlen(text), NULL, NULL, NULL), 0);
  size_t calls = t.calls;
  for (int i = 0; i < 1000; i++)
    assert_int_equal(bp__json_parse(&pool, text, strlen(text), NULL, NULL, NULL), 0);
  assert_int_equal(t.calls, calls);
  bp__json_pool_free(&pool);
  assert_int_equal(t.live_blocks, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_strict),      cmocka_unit_test(test_error_offset),
      cmocka_unit_test(test_offsets),     cmocka_unit_test(test_dom),
      cmocka_unit_test(test_failmalloc_dom), cmocka_unit_test(test_pool_reuse),
  };
  return cmocka_run_group_tests_name("json_bridge", tests, NULL, NULL);
}
