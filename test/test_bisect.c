/* SPDX-License-Identifier: MIT */
/* Bisect splitter (SEMANTICS.md §4): split points, order, counters, limits, memory. */
#include <stdalign.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "batchpoint.h"
#include "bp_int.h"
#include "test_alloc.h"

static bp_bisect *mk(void) {
  bp_bisect *b = NULL;
  assert_int_equal(bp_bisect_new(&b, NULL), 0);
  assert_non_null(b);
  return b;
}

static void expect_current(const bp_bisect *b, uint64_t first, size_t count, uint32_t attempts,
                           uint32_t invocations) {
  uint64_t f = 99;
  size_t c = 99;
  uint32_t a = 99, v = 99;
  assert_int_equal(bp_bisect_current(b, &f, &c, &a, &v), 0);
  assert_int_equal(f, first);
  assert_int_equal(c, count);
  assert_int_equal(a, attempts);
  assert_int_equal(v, invocations);
}

/* ---- life cycle ---- */

static void test_idle_after_new(void **state) {
  (void)state;
  bp_bisect *b = mk();
  assert_int_equal(bp_bisect_active(b), 0);
  assert_int_equal(bp_bisect_pending(b), 0);
  assert_int_equal(bp_bisect_splits(b), 0);
  assert_string_equal(bp_bisect_errmsg(b), "");
  assert_int_equal(bp_bisect_current(b, NULL, NULL, NULL, NULL), BP_ERR_INVALID_STATE);
  assert_int_equal(bp_bisect_original(b, NULL, NULL), BP_ERR_INVALID_STATE);
  assert_int_equal(bp_bisect_split(b), BP_ERR_INVALID_STATE);
  assert_true(strstr(bp_bisect_errmsg(b), "bp_bisect_start") != NULL);
  assert_int_equal(bp_bisect_trim_front(b, 1), BP_ERR_INVALID_STATE);
  assert_int_equal(bp_bisect_set_counters(b, 1, 1), BP_ERR_INVALID_STATE);
  assert_int_equal(bp_bisect_resolve_current(b), BP_ERR_INVALID_STATE);
  assert_int_equal(bp_bisect_pending_at(b, 0, NULL, NULL), BP_ERR_INVALID_ARGUMENT);
  assert_true(bp_bisect_mem_size() >= sizeof(uint64_t));
  bp_bisect_del(b);
  bp_bisect_del(NULL);
}

static void test_null_arguments(void **state) {
  (void)state;
  assert_int_equal(bp_bisect_new(NULL, NULL), BP_ERR_INVALID_ARGUMENT);
  test_alloc t;
  bp_allocator bad;
  test_alloc_init(&t, &bad);
  bad.free = NULL; /* half-set hooks */
  bp_bisect *b = (bp_bisect *)&t; /* must be reset to NULL on failure */
  assert_int_equal(bp_bisect_new(&b, &bad), BP_ERR_INVALID_ARGUMENT);
  assert_null(b);
  assert_int_equal(bp_bisect_start(NULL, 0, 1), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_bisect_reset(NULL), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_bisect_active(NULL), 0);
  assert_int_equal(bp_bisect_current(NULL, NULL, NULL, NULL, NULL), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_bisect_set_counters(NULL, 0, 0), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_bisect_split(NULL), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_bisect_trim_front(NULL, 1), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_bisect_resolve_current(NULL), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_bisect_pending(NULL), 0);
  assert_int_equal(bp_bisect_pending_at(NULL, 0, NULL, NULL), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_bisect_original(NULL, NULL, NULL), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_bisect_splits(NULL), 0);
  assert_string_equal(bp_bisect_errmsg(NULL), "");
}

static void test_start_validation(void **state) {
  (void)state;
  bp_bisect *b = mk();
  assert_int_equal(bp_bisect_start(b, 0, 0), BP_ERR_INVALID_ARGUMENT);
  assert_true(strstr(bp_bisect_errmsg(b), "count is 0") != NULL);
  assert_int_equal(bp_bisect_start(b, 0, BP_BISECT_MAX_RECORDS + 1), BP_ERR_TOO_LARGE);
  assert_int_equal(bp_bisect_active(b), 0);
  assert_int_equal(bp_bisect_start(b, UINT64_MAX, 1), BP_ERR_RANGE);
  assert_int_equal(bp_bisect_start(b, UINT64_MAX - 5, 6), BP_ERR_RANGE);
  assert_int_equal(bp_bisect_active(b), 0);
  /* the largest range that fits: the last position is UINT64_MAX - 1 */
  assert_int_equal(bp_bisect_start(b, UINT64_MAX - 5, 5), 0);
  assert_string_equal(bp_bisect_errmsg(b), "");
  expect_current(b, UINT64_MAX - 5, 5, 0, 0);
  /* starting again while working is refused and changes nothing */
  assert_int_equal(bp_bisect_start(b, 7, 3), BP_ERR_INVALID_STATE);
  expect_current(b, UINT64_MAX - 5, 5, 0, 0);
  assert_int_equal(bp_bisect_reset(b), 0);
  assert_int_equal(bp_bisect_active(b), 0);
  assert_int_equal(bp_bisect_start(b, 7, BP_BISECT_MAX_RECORDS), 0);
  uint64_t f;
  size_t c;
  assert_int_equal(bp_bisect_original(b, &f, &c), 0);
  assert_int_equal(f, 7);
  assert_int_equal(c, BP_BISECT_MAX_RECORDS);
  bp_bisect_del(b);
}

/* ---- splitting ---- */

static void test_split_even(void **state) {
  (void)state;
  bp_bisect *b = mk();
  assert_int_equal(bp_bisect_start(b, 100, 4), 0);
  assert_int_equal(bp_bisect_set_counters(b, 3, 5), 0);
  expect_current(b, 100, 4, 3, 5);
  assert_int_equal(bp_bisect_split(b), 0);
  expect_current(b, 100, 2, 0, 0); /* older half first, counters restart */
  assert_int_equal(bp_bisect_pending(b), 1);
  uint64_t f;
  size_t c;
  assert_int_equal(bp_bisect_pending_at(b, 0, &f, &c), 0);
  assert_int_equal(f, 102);
  assert_int_equal(c, 2);
  assert_int_equal(bp_bisect_pending_at(b, 1, &f, &c), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_bisect_splits(b), 1);
  assert_int_equal(bp_bisect_resolve_current(b), BP_BISECT_MORE);
  expect_current(b, 102, 2, 0, 0);
  assert_int_equal(bp_bisect_pending(b), 0);
  assert_int_equal(bp_bisect_resolve_current(b), BP_BISECT_DONE);
  assert_int_equal(bp_bisect_active(b), 0);
  assert_int_equal(bp_bisect_splits(b), 1); /* kept until the next start */
  assert_int_equal(bp_bisect_start(b, 104, 1), 0);
  assert_int_equal(bp_bisect_splits(b), 0);
  bp_bisect_del(b);
}

/* floor(n/2) older records first, for odd sizes too. */
static void test_split_odd_sizes(void **state) {
  (void)state;
  bp_bisect *b = mk();
  static const size_t sizes[] = {2, 3, 5, 7, 9, 99, 101, 9999};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    size_t n = sizes[i];
    assert_int_equal(bp_bisect_start(b, 10, n), 0);
    assert_int_equal(bp_bisect_split(b), 0);
    expect_current(b, 10, n / 2, 0, 0);
    uint64_t f;
    size_t c;
    assert_int_equal(bp_bisect_pending_at(b, 0, &f, &c), 0);
    assert_int_equal(f, 10 + n / 2);
    assert_int_equal(c, n - n / 2);
    assert_int_equal(bp_bisect_reset(b), 0);
  }
  /* [r1,r2,r3] -> [r1] then [r2,r3] -> [r2] then [r3] */
  assert_int_equal(bp_bisect_start(b, 1, 3), 0);
  assert_int_equal(bp_bisect_split(b), 0);
  expect_current(b, 1, 1, 0, 0);
  assert_int_equal(bp_bisect_split(b), BP_ERR_INVALID_STATE); /* one record */
  assert_true(strstr(bp_bisect_errmsg(b), "one record") != NULL);
  expect_current(b, 1, 1, 0, 0);
  assert_int_equal(bp_bisect_resolve_current(b), BP_BISECT_MORE);
  expect_current(b, 2, 2, 0, 0);
  assert_int_equal(bp_bisect_split(b), 0);
  expect_current(b, 2, 1, 0, 0);
  assert_int_equal(bp_bisect_resolve_current(b), BP_BISECT_MORE);
  expect_current(b, 3, 1, 0, 0);
  assert_int_equal(bp_bisect_resolve_current(b), BP_BISECT_DONE);
  bp_bisect_del(b);
}

/* Nested splits: the waiting list is a stack, nearest (oldest) waiting half first. */
static void test_nested_order(void **state) {
  (void)state;
  bp_bisect *b = mk();
  assert_int_equal(bp_bisect_start(b, 0, 8), 0);
  assert_int_equal(bp_bisect_split(b), 0); /* [0,4) + wait [4,8) */
  assert_int_equal(bp_bisect_split(b), 0); /* [0,2) + wait [2,4) [4,8) */
  assert_int_equal(bp_bisect_split(b), 0); /* [0,1) + wait [1,2) [2,4) [4,8) */
  assert_int_equal(bp_bisect_pending(b), 3);
  static const uint64_t want_first[] = {1, 2, 4};
  static const size_t want_count[] = {1, 2, 4};
  for (size_t i = 0; i < 3; i++) {
    uint64_t f;
    size_t c;
    assert_int_equal(bp_bisect_pending_at(b, i, &f, &c), 0);
    assert_int_equal(f, want_first[i]);
    assert_int_equal(c, want_count[i]);
  }
  assert_int_equal(bp_bisect_pending_at(b, 0, NULL, NULL), 0);
  expect_current(b, 0, 1, 0, 0);
  assert_int_equal(bp_bisect_resolve_current(b), BP_BISECT_MORE);
  expect_current(b, 1, 1, 0, 0);
  assert_int_equal(bp_bisect_resolve_current(b), BP_BISECT_MORE);
  expect_current(b, 2, 2, 0, 0);
  assert_int_equal(bp_bisect_resolve_current(b), BP_BISECT_MORE);
  expect_current(b, 4, 4, 0, 0);
  assert_int_equal(bp_bisect_resolve_current(b), BP_BISECT_DONE);
  assert_int_equal(bp_bisect_splits(b), 3);
  bp_bisect_del(b);
}

/* Split everything down to single records: each record is current exactly once, in lane
 * order, and the waiting list never needs more than ceil(log2(n)) slots. */
static void split_to_singles(bp_bisect *b, uint64_t base, size_t n, size_t *max_depth) {
  assert_int_equal(bp_bisect_start(b, base, n), 0);
  uint64_t expect = base;
  size_t depth = 0;
  uint32_t splits = 0;
  for (;;) {
    uint64_t f;
    size_t c;
    assert_int_equal(bp_bisect_current(b, &f, &c, NULL, NULL), 0);
    if (c > 1) {
      assert_int_equal(bp_bisect_split(b), 0);
      splits++;
      if (bp_bisect_pending(b) > depth) depth = bp_bisect_pending(b);
      continue;
    }
    assert_int_equal(f, expect);
    expect++;
    int rc = bp_bisect_resolve_current(b);
    assert_true(rc == BP_BISECT_MORE || rc == BP_BISECT_DONE);
    if (rc == BP_BISECT_DONE) break;
  }
  assert_int_equal(expect, base + n);
  assert_int_equal(splits, n - 1); /* a binary tree with n leaves */
  assert_int_equal(bp_bisect_splits(b), n - 1);
  *max_depth = depth;
}

static size_t ceil_log2(size_t n) {
  size_t k = 0;
  while (((size_t)1 << k) < n) k++;
  return k;
}

static void test_deepest_split_10000(void **state) {
  (void)state;
  bp_bisect *b = mk();
  size_t depth;
  split_to_singles(b, 1000, BP_BISECT_MAX_RECORDS, &depth);
  assert_true(depth <= ceil_log2(BP_BISECT_MAX_RECORDS));
  assert_true(depth < BP_BISECT_MAX_DEPTH);
  /* straight down the older halves: 13 splits for 10,000 (floor halving) */
  assert_int_equal(bp_bisect_start(b, 0, BP_BISECT_MAX_RECORDS), 0);
  size_t c = BP_BISECT_MAX_RECORDS;
  size_t splits = 0;
  while (c > 1) {
    assert_int_equal(bp_bisect_split(b), 0);
    splits++;
    assert_int_equal(bp_bisect_current(b, NULL, &c, NULL, NULL), 0);
  }
  assert_int_equal(splits, 13);
  assert_int_equal(bp_bisect_pending(b), 13);
  bp_bisect_del(b);
}

static void test_every_size_to_singles(void **state) {
  (void)state;
  bp_bisect *b = mk();
  for (size_t n = 1; n <= 300; n++) {
    size_t depth;
    split_to_singles(b, n * 1000, n, &depth);
    assert_true(depth <= ceil_log2(n));
  }
  bp_bisect_del(b);
}

/* ---- trimming and counters ---- */

static void test_trim_front(void **state) {
  (void)state;
  bp_bisect *b = mk();
  assert_int_equal(bp_bisect_start(b, 50, 6), 0);
  assert_int_equal(bp_bisect_set_counters(b, 2, 3), 0);
  assert_int_equal(bp_bisect_trim_front(b, 0), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_bisect_trim_front(b, 6), BP_ERR_INVALID_ARGUMENT);
  assert_true(strstr(bp_bisect_errmsg(b), "batch of 6") != NULL);
  expect_current(b, 50, 6, 2, 3);
  assert_int_equal(bp_bisect_trim_front(b, 2), 0); /* expired prefix: counters kept */
  assert_string_equal(bp_bisect_errmsg(b), "");
  expect_current(b, 52, 4, 2, 3);
  assert_int_equal(bp_bisect_trim_front(b, 3), 0);
  expect_current(b, 55, 1, 2, 3);
  assert_int_equal(bp_bisect_trim_front(b, 1), BP_ERR_INVALID_ARGUMENT);
  uint64_t f;
  size_t c;
  assert_int_equal(bp_bisect_original(b, &f, &c), 0);
  assert_int_equal(f, 50);
  assert_int_equal(c, 6);
  assert_int_equal(bp_bisect_resolve_current(b), BP_BISECT_DONE);
  bp_bisect_del(b);
}

/* A trimmed first half does not disturb the waiting later half. */
static void test_trim_inside_split(void **state) {
  (void)state;
  bp_bisect *b = mk();
  assert_int_equal(bp_bisect_start(b, 0, 10), 0);
  assert_int_equal(bp_bisect_split(b), 0);
  expect_current(b, 0, 5, 0, 0);
  assert_int_equal(bp_bisect_trim_front(b, 3), 0);
  assert_int_equal(bp_bisect_set_counters(b, 0, 0), 0);
  expect_current(b, 3, 2, 0, 0);
  assert_int_equal(bp_bisect_split(b), 0);
  expect_current(b, 3, 1, 0, 0);
  assert_int_equal(bp_bisect_resolve_current(b), BP_BISECT_MORE);
  expect_current(b, 4, 1, 0, 0);
  assert_int_equal(bp_bisect_resolve_current(b), BP_BISECT_MORE);
  expect_current(b, 5, 5, 0, 0);
  assert_int_equal(bp_bisect_resolve_current(b), BP_BISECT_DONE);
  bp_bisect_del(b);
}

static void test_counters_and_reset(void **state) {
  (void)state;
  bp_bisect *b = mk();
  assert_int_equal(bp_bisect_start(b, 0, 2), 0);
  assert_int_equal(bp_bisect_set_counters(b, UINT32_MAX, UINT32_MAX), 0);
  expect_current(b, 0, 2, UINT32_MAX, UINT32_MAX);
  uint64_t f = 1;
  assert_int_equal(bp_bisect_current(b, &f, NULL, NULL, NULL), 0); /* any out may be NULL */
  assert_int_equal(f, 0);
  assert_int_equal(bp_bisect_split(b), 0);
  assert_int_equal(bp_bisect_reset(b), 0); /* abandons the waiting half too */
  assert_int_equal(bp_bisect_active(b), 0);
  assert_int_equal(bp_bisect_pending(b), 0);
  assert_int_equal(bp_bisect_splits(b), 0);
  assert_int_equal(bp_bisect_reset(b), 0); /* idle: allowed */
  bp_bisect_del(b);
}

/* ---- memory ---- */

static void test_init_in(void **state) {
  (void)state;
  static union {
    max_align_t align;
    unsigned char bytes[4096];
  } mem;
  size_t need = bp_bisect_mem_size();
  assert_true(need <= sizeof mem.bytes - 1);
  bp_bisect *b = (bp_bisect *)&mem;
  assert_int_equal(bp_bisect_init_in(mem.bytes, need - 1, &b), BP_ERR_BUFFER_TOO_SMALL);
  assert_null(b);
  assert_int_equal(bp_bisect_init_in(mem.bytes + 1, need, &b), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_bisect_init_in(NULL, need, &b), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_bisect_init_in(mem.bytes, need, NULL), BP_ERR_INVALID_ARGUMENT);
  memset(mem.bytes, 0xa5, sizeof mem.bytes); /* garbage must not matter */
  assert_int_equal(bp_bisect_init_in(mem.bytes, need, &b), 0);
  assert_ptr_equal(b, (void *)mem.bytes);
  assert_int_equal(bp_bisect_active(b), 0);
  assert_string_equal(bp_bisect_errmsg(b), "");
  size_t depth;
  split_to_singles(b, 0, 1000, &depth);
  bp_bisect_del(b); /* frees nothing: ASan would flag a free of static memory */
  /* the memory can be reused at once */
  assert_int_equal(bp_bisect_init_in(mem.bytes, sizeof mem.bytes, &b), 0);
  assert_int_equal(bp_bisect_start(b, 0, 4), 0);
  bp_bisect_del(b);
}

static void test_allocator_hooks(void **state) {
  (void)state;
  test_alloc t;
  bp_allocator hooks;
  test_alloc_init(&t, &hooks);
  bp_bisect *b = NULL;
  assert_int_equal(bp_bisect_new(&b, &hooks), 0);
  assert_int_equal(t.allocs, 1); /* one block, nothing else ever */
  size_t depth;
  split_to_singles(b, 0, 5000, &depth);
  assert_int_equal(t.calls, 1);
  bp_bisect_del(b);
  assert_int_equal(t.live_blocks, 0);
}

static int failmalloc_scenario(const bp_allocator *hooks, void *ctx) {
  (void)ctx;
  bp_bisect *b = (bp_bisect *)hooks; /* must be reset to NULL on failure */
  int rc = bp_bisect_new(&b, hooks);
  if (rc) {
    assert_null(b);
    return rc;
  }
  rc = bp_bisect_start(b, 0, 16);
  if (!rc) rc = bp_bisect_split(b);
  if (!rc) rc = bp_bisect_resolve_current(b) == BP_BISECT_MORE ? 0 : BP_ERR_INTERNAL;
  bp_bisect_del(b);
  return rc;
}

static void test_failmalloc(void **state) {
  (void)state;
  test_alloc_failmalloc(failmalloc_scenario, NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_idle_after_new),
      cmocka_unit_test(test_null_arguments),
      cmocka_unit_test(test_start_validation),
      cmocka_unit_test(test_split_even),
      cmocka_unit_test(test_split_odd_sizes),
      cmocka_unit_test(test_nested_order),
      cmocka_unit_test(test_deepest_split_10000),
      cmocka_unit_test(test_every_size_to_singles),
      cmocka_unit_test(test_trim_front),
      cmocka_unit_test(test_trim_inside_split),
      cmocka_unit_test(test_counters_and_reset),
      cmocka_unit_test(test_init_in),
      cmocka_unit_test(test_allocator_hooks),
      cmocka_unit_test(test_failmalloc),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
