/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_alloc.h"

/* A header before each block keeps its size for accounting. */
typedef union hdr {
  size_t size;
  max_align_t align;
} hdr;

static int should_fail(test_alloc *t) {
  t->calls++;
  if (t->fail_at && t->calls == t->fail_at) {
    t->failed++;
    return 1;
  }
  return 0;
}

static void grow(test_alloc *t, size_t n) {
  t->live_bytes += n;
  if (t->live_bytes > t->peak_bytes) t->peak_bytes = t->live_bytes;
}

static void *ta_malloc(size_t n, void *ud) {
  test_alloc *t = ud;
  if (should_fail(t)) return NULL;
  hdr *h = malloc(sizeof(hdr) + n);
  if (!h) return NULL;
  h->size = n;
  t->allocs++;
  t->live_blocks++;
  grow(t, n);
  return h + 1;
}

static void ta_free(void *p, void *ud) {
  test_alloc *t = ud;
  if (!p) return;
  hdr *h = (hdr *)p - 1;
  assert_true(t->live_blocks > 0);
  t->live_blocks--;
  t->live_bytes -= h->size;
  memset(h + 1, 0xdd, h->size); /* use-after-free shows up as garbage */
  free(h);
}

static void *ta_realloc(void *p, size_t n, void *ud) {
  test_alloc *t = ud;
  if (!p) return ta_malloc(n, ud);
  if (should_fail(t)) return NULL;
  hdr *old = (hdr *)p - 1;
  size_t oldn = old->size;
  hdr *h = malloc(sizeof(hdr) + n); /* always move, to catch stale pointers */
  if (!h) return NULL;
  memcpy(h + 1, p, oldn < n ? oldn : n);
  h->size = n;
  t->live_bytes -= oldn;
  grow(t, n);
  memset(p, 0xdd, oldn);
  free(old);
  return h + 1;
}

void test_alloc_init(test_alloc *t, bp_allocator *hooks) {
  memset(t, 0, sizeof *t);
  hooks->malloc = ta_malloc;
  hooks->realloc = ta_realloc;
  hooks->free = ta_free;
  hooks->ud = t;
}

void test_alloc_failmalloc(int (*scenario)(const bp_allocator *, void *), void *ctx) {
  test_alloc t;
  bp_allocator hooks;
  test_alloc_init(&t, &hooks);
  int rc = scenario(&hooks, ctx);
  assert_int_equal(rc, 0);
  assert_int_equal(t.live_blocks, 0);
  size_t total = t.calls;
  assert_true(total > 0);
  for (size_t i = 1; i <= total; i++) {
    test_alloc_init(&t, &hooks);
    t.fail_at = i;
    rc = scenario(&hooks, ctx);
    if (rc != 0 && rc != BP_ERR_NOMEM) {
      print_error("failmalloc: failing call %zu of %zu returned %d\n", i, total, rc);
      fail();
    }
    if (t.live_blocks != 0) {
      print_error("failmalloc: failing call %zu of %zu leaked %zu blocks\n", i, total,
                  t.live_blocks);
      fail();
    }
  }
}
