/* SPDX-License-Identifier: MIT */
/* Checkpoint tracker: ordering, lanes, ring wrap-around, capacity, bad input, memory. */
#include <stdarg.h>
#include <setjmp.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "batchpoint.h"
#include "test_alloc.h"

/* ---- helpers ---- */

static uint64_t rng_next(uint64_t *s) { /* splitmix64: fixed seeds, reproducible */
  uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static uint64_t rng_below(uint64_t *s, uint64_t n) { return rng_next(s) % n; }

static bp_checkpoint *make(uint64_t base, size_t capacity) {
  bp_checkpoint_opts o = {sizeof(bp_checkpoint_opts), base, capacity};
  bp_checkpoint *t = NULL;
  assert_int_equal(bp_checkpoint_new(&t, &o, NULL), 0);
  assert_non_null(t);
  return t;
}

/* The checkpoint, or -1 when there is none (positions in these tests stay below 2^63). */
static int64_t cp_of(const bp_checkpoint *t) {
  uint64_t p = 0;
  int rc = bp_checkpoint_get(t, &p);
  assert_true(rc == 0 || rc == 1);
  return rc ? (int64_t)p : -1;
}

static void shuffle(uint64_t *rng, uint64_t *v, size_t n) {
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)rng_below(rng, i);
    uint64_t x = v[i - 1];
    v[i - 1] = v[j];
    v[j] = x;
  }
}

/* ---- reference model: one byte per position, the checkpoint by a plain scan ---- */

typedef struct model {
  uint64_t base, low, next;
  size_t capacity;
  int passed;
  unsigned char *fin; /* fin[p - base]: 1 finished */
  size_t span;        /* positions the array holds */
} model;

static void model_init(model *m, uint64_t base, size_t capacity, size_t span) {
  m->base = m->low = m->next = base;
  m->capacity = capacity;
  m->passed = 0;
  m->span = span;
  m->fin = calloc(span, 1);
  assert_non_null(m->fin);
}

static void model_reset(model *m, uint64_t base) {
  m->base = m->low = m->next = base;
  m->passed = 0;
  memset(m->fin, 0, m->span);
}

static int model_finishable(const model *m, uint64_t p) {
  return p >= m->low && p < m->next && !m->fin[p - m->base];
}

static int model_advance(model *m) {
  uint64_t before = m->low;
  while (m->low < m->next && m->fin[m->low - m->base]) m->low++;
  if (m->low != before) m->passed = 1;
  return m->low != before;
}

/* A tracker and its model, driven together; every call's result is checked. */
typedef struct pair {
  bp_checkpoint *t;
  model m;
} pair;

static void pair_check(const pair *h, int full) {
  const model *m = &h->m;
  uint64_t p = 12345;
  int rc = bp_checkpoint_get(h->t, &p);
  assert_int_equal(rc, m->passed);
  if (m->passed) assert_true(p == m->low - 1);
  assert_true(bp_checkpoint_next(h->t) == m->next);
  assert_true(bp_checkpoint_outstanding(h->t) == m->next - m->low);
  if (!full) return;
  uint64_t from = m->low - m->base > 70 ? m->low - 70 : m->base;
  for (uint64_t q = from; q < m->next; q++)
    assert_int_equal(bp_checkpoint_is_finished(h->t, q), q < m->low ? 1 : m->fin[q - m->base]);
  assert_int_equal(bp_checkpoint_is_finished(h->t, m->next), BP_ERR_INVALID_ARGUMENT);
  if (m->base > 0)
    assert_int_equal(bp_checkpoint_is_finished(h->t, m->base - 1), BP_ERR_INVALID_ARGUMENT);
}

static int pair_track(pair *h, uint64_t first, uint64_t count) {
  model *m = &h->m;
  int expect = 0;
  if (!count || first != m->next || count > UINT64_MAX - first)
    expect = BP_ERR_INVALID_ARGUMENT;
  else if (m->next - m->low + count > m->capacity)
    expect = BP_ERR_TOO_LARGE;
  int rc = bp_checkpoint_track(h->t, first, count);
  assert_int_equal(rc, expect);
  if (!rc) {
    assert_true(m->next + count - m->base <= m->span);
    m->next += count;
    assert_string_equal(bp_checkpoint_errmsg(h->t), "");
  } else {
    assert_true(strlen(bp_checkpoint_errmsg(h->t)) > 0);
  }
  pair_check(h, 0);
  return rc;
}

static void expect_moved(pair *h, int rc, uint64_t out, int moved) {
  assert_int_equal(rc, moved);
  if (moved) assert_true(out == h->m.low - 1);
  else assert_true(out == 777);
  assert_string_equal(bp_checkpoint_errmsg(h->t), "");
}

static int pair_finish(pair *h, uint64_t first, uint64_t count) {
  model *m = &h->m;
  int ok = count > 0 && count <= UINT64_MAX - first;
  for (uint64_t k = 0; ok && k < count; k++) ok = model_finishable(m, first + k);
  uint64_t out = 777;
  int rc = bp_checkpoint_finish(h->t, first, count, &out);
  if (!ok) {
    assert_int_equal(rc, BP_ERR_INVALID_ARGUMENT);
    assert_true(out == 777);
    assert_true(strlen(bp_checkpoint_errmsg(h->t)) > 0);
  } else {
    for (uint64_t k = 0; k < count; k++) m->fin[first + k - m->base] = 1;
    expect_moved(h, rc, out, model_advance(m));
  }
  pair_check(h, 0);
  return rc;
}

static int pair_finish_list(pair *h, const uint64_t *v, size_t n) {
  model *m = &h->m;
  int ok = n > 0;
  for (size_t k = 0; ok && k < n; k++) {
    ok = model_finishable(m, v[k]);
    for (size_t j = 0; ok && j < k; j++) ok = v[j] != v[k];
  }
  uint64_t out = 777;
  int rc = bp_checkpoint_finish_list(h->t, v, n, &out);
  if (!ok) {
    assert_int_equal(rc, BP_ERR_INVALID_ARGUMENT);
    assert_true(out == 777);
    assert_true(strlen(bp_checkpoint_errmsg(h->t)) > 0);
  } else {
    for (size_t k = 0; k < n; k++) m->fin[v[k] - m->base] = 1;
    expect_moved(h, rc, out, model_advance(m));
  }
  pair_check(h, 0);
  return rc;
}

static void pair_init(pair *h, uint64_t base, size_t capacity, size_t span) {
  h->t = make(base, capacity);
  model_init(&h->m, base, capacity, span);
  pair_check(h, 1);
}

static void pair_free(pair *h) {
  bp_checkpoint_del(h->t);
  free(h->m.fin);
}

/* ---- life cycle ---- */

static void *stub_malloc(size_t n, void *ud) {
  (void)ud;
  return malloc(n);
}

static void test_create(void **state) {
  (void)state;
  bp_checkpoint_opts o = {sizeof(bp_checkpoint_opts), 0, 100};
  assert_true(bp_checkpoint_mem_size(&o) >= 100 / 8);
  o.capacity = 0;
  assert_int_equal(bp_checkpoint_mem_size(&o), 0);
  o.capacity = BP_CHECKPOINT_MAX_CAPACITY + 1;
  assert_int_equal(bp_checkpoint_mem_size(&o), 0);
  o.capacity = BP_CHECKPOINT_MAX_CAPACITY;
  assert_true(bp_checkpoint_mem_size(&o) >= BP_CHECKPOINT_MAX_CAPACITY / 8);
  assert_int_equal(bp_checkpoint_mem_size(NULL), 0);

  bp_checkpoint *t = (bp_checkpoint *)&o;
  o.capacity = 0;
  assert_int_equal(bp_checkpoint_new(&t, &o, NULL), BP_ERR_INVALID_ARGUMENT);
  assert_null(t);
  o.capacity = BP_CHECKPOINT_MAX_CAPACITY + 1;
  assert_int_equal(bp_checkpoint_new(&t, &o, NULL), BP_ERR_INVALID_ARGUMENT);
  o.capacity = 10;
  bp_allocator half = {stub_malloc, NULL, NULL, NULL};
  t = (bp_checkpoint *)&o;
  assert_int_equal(bp_checkpoint_new(&t, &o, &half), BP_ERR_INVALID_ARGUMENT);
  assert_null(t);

  o.base = 42;
  assert_int_equal(bp_checkpoint_new(&t, &o, NULL), 0);
  assert_int_equal(bp_checkpoint_get(t, NULL), 0);
  assert_true(bp_checkpoint_next(t) == 42);
  assert_true(bp_checkpoint_outstanding(t) == 0);
  assert_int_equal(bp_checkpoint_capacity(t), 10);
  assert_string_equal(bp_checkpoint_errmsg(t), "");
  assert_int_equal(bp_checkpoint_is_finished(t, 42), BP_ERR_INVALID_ARGUMENT);
  bp_checkpoint_del(t);
  bp_checkpoint_del(NULL);
}

static void test_in_order(void **state) {
  (void)state;
  bp_checkpoint *t = make(0, 16);
  assert_int_equal(bp_checkpoint_track(t, 0, 10), 0);
  assert_int_equal(bp_checkpoint_get(t, NULL), 0); /* tracked, nothing passed */
  for (uint64_t p = 0; p < 10; p++) {
    uint64_t cp = 999;
    assert_int_equal(bp_checkpoint_finish(t, p, 1, &cp), 1);
    assert_true(cp == p);
    assert_int_equal(cp_of(t), (int64_t)p);
    assert_true(bp_checkpoint_outstanding(t) == 9 - p);
  }
  assert_int_equal(bp_checkpoint_is_finished(t, 0), 1);
  assert_int_equal(bp_checkpoint_is_finished(t, 9), 1);
  assert_int_equal(bp_checkpoint_is_finished(t, 10), BP_ERR_INVALID_ARGUMENT);
  /* The checkpoint stays where it is while new records are pending. */
  assert_int_equal(bp_checkpoint_track(t, 10, 5), 0);
  assert_int_equal(cp_of(t), 9);
  assert_int_equal(bp_checkpoint_finish(t, 10, 5, NULL), 1);
  assert_int_equal(cp_of(t), 14);
  bp_checkpoint_del(t);
}

/* Position 0 finished is a checkpoint; nothing finished is none. */
static void test_none_vs_zero(void **state) {
  (void)state;
  bp_checkpoint *t = make(0, 4);
  assert_int_equal(bp_checkpoint_track(t, 0, 2), 0);
  uint64_t cp = 555;
  assert_int_equal(bp_checkpoint_finish(t, 1, 1, &cp), 0);
  assert_true(cp == 555);
  assert_int_equal(bp_checkpoint_get(t, &cp), 0);
  assert_true(cp == 555); /* untouched */
  assert_int_equal(bp_checkpoint_finish(t, 0, 1, &cp), 1);
  assert_true(cp == 1);
  assert_int_equal(bp_checkpoint_reset(t, 0), 0);
  assert_int_equal(bp_checkpoint_track(t, 0, 1), 0);
  assert_int_equal(bp_checkpoint_finish(t, 0, 1, &cp), 1);
  assert_true(cp == 0);
  assert_int_equal(bp_checkpoint_get(t, &cp), 1);
  assert_true(cp == 0);
  bp_checkpoint_del(t);
}

static void test_out_of_order(void **state) {
  (void)state;
  bp_checkpoint *t = make(100, 8);
  assert_int_equal(bp_checkpoint_track(t, 100, 5), 0);
  assert_int_equal(bp_checkpoint_finish(t, 103, 1, NULL), 0);
  assert_int_equal(bp_checkpoint_finish(t, 101, 1, NULL), 0);
  assert_int_equal(cp_of(t), -1);
  assert_int_equal(bp_checkpoint_is_finished(t, 101), 1);
  assert_int_equal(bp_checkpoint_is_finished(t, 102), 0);
  assert_int_equal(bp_checkpoint_finish(t, 100, 1, NULL), 1);
  assert_int_equal(cp_of(t), 101); /* stops at the pending 102 */
  assert_int_equal(bp_checkpoint_finish(t, 102, 1, NULL), 1);
  assert_int_equal(cp_of(t), 103);
  assert_int_equal(bp_checkpoint_finish(t, 104, 1, NULL), 1);
  assert_int_equal(cp_of(t), 104);
  assert_true(bp_checkpoint_outstanding(t) == 0);
  bp_checkpoint_del(t);
}

/* Two lanes interleaved: lane A = even, lane B = odd positions; A's batch never moves the
 * checkpoint past B's pending records (SEMANTICS.md §3.2). */
static void test_lanes_interleaved(void **state) {
  (void)state;
  bp_checkpoint *t = make(0, 32);
  assert_int_equal(bp_checkpoint_track(t, 0, 10), 0);
  const uint64_t a[] = {0, 2, 4, 6, 8}, b1[] = {1, 3}, b2[] = {5, 7, 9};
  uint64_t cp = 0;
  assert_int_equal(bp_checkpoint_finish_list(t, a, 5, &cp), 1);
  assert_true(cp == 0);
  assert_int_equal(bp_checkpoint_finish_list(t, b2, 3, &cp), 0);
  assert_int_equal(cp_of(t), 0);
  assert_int_equal(bp_checkpoint_finish_list(t, b1, 2, &cp), 1);
  assert_true(cp == 9);
  assert_true(bp_checkpoint_outstanding(t) == 0);
  bp_checkpoint_del(t);
}

/* Runs of 63/64/65 (and more) around word boundaries, wrapping the ring many times, with
 * each run finished in several orders, checked against the model after every call. */
static void test_word_boundaries(void **state) {
  (void)state;
  static const size_t caps[] = {1, 2, 63, 64, 65, 127, 128, 129, 191, 200};
  static const uint64_t runs[] = {1, 2, 31, 63, 64, 65, 127, 128, 129, 130, 192};
  uint64_t rng = 0x5eed0001;
  for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
    size_t cap = caps[c];
    size_t span = cap * 200 + 4096;
    pair h;
    pair_init(&h, 7, cap, span);
    uint64_t laps = 0;
    while (h.m.next - h.m.base + 2 * cap + 200 < span) {
      uint64_t len = runs[rng_below(&rng, sizeof runs / sizeof runs[0])];
      if (len > cap) len = cap;
      uint64_t room = cap - (h.m.next - h.m.low);
      if (len > room) {
        /* Full: finish everything outstanding in one range, from the front. */
        if (h.m.next > h.m.low) {
          uint64_t lo = h.m.low;
          while (lo < h.m.next && !model_finishable(&h.m, lo)) lo++;
          uint64_t hi = lo;
          while (hi < h.m.next && model_finishable(&h.m, hi)) hi++;
          if (hi > lo) pair_finish(&h, lo, hi - lo);
        }
        continue;
      }
      uint64_t first = h.m.next;
      assert_int_equal(pair_track(&h, first, len), 0);
      switch (rng_below(&rng, 4)) {
      case 0: /* whole run at once */
        assert_true(pair_finish(&h, first, len) >= 0);
        break;
      case 1: /* tail first, then head: the head's finish passes both */
        if (len > 1) {
          uint64_t cut = 1 + rng_below(&rng, len - 1);
          assert_int_equal(pair_finish(&h, first + cut, len - cut), 0);
          assert_true(pair_finish(&h, first, cut) >= 0);
        } else {
          assert_true(pair_finish(&h, first, 1) >= 0);
        }
        break;
      case 2: /* leave it pending for a while */
        break;
      default: /* one by one, backwards */
        for (uint64_t k = len; k-- > 0;) assert_true(pair_finish(&h, first + k, 1) >= 0);
        break;
      }
      pair_check(&h, rng_below(&rng, 8) == 0);
      laps = (h.m.low - h.m.base) / (((cap + 63) / 64) * 64);
    }
    assert_true(laps >= 20); /* the ring wrapped around many times */
    pair_check(&h, 1);
    pair_free(&h);
  }
}

/* A big range finished behind one pending position, then released at once: the advance
 * runs over whole words, starting at an odd ring offset and wrapping. */
static void test_long_run(void **state) {
  (void)state;
  bp_checkpoint *t = make(0, 1000);
  assert_int_equal(bp_checkpoint_track(t, 0, 37), 0);
  assert_int_equal(bp_checkpoint_finish(t, 0, 37, NULL), 1); /* head now at bit 37 */
  for (int lap = 0; lap < 5; lap++) {
    uint64_t first = bp_checkpoint_next(t);
    assert_int_equal(bp_checkpoint_track(t, first, 1000), 0);
    assert_int_equal(bp_checkpoint_track(t, first + 1000, 1), BP_ERR_TOO_LARGE);
    assert_int_equal(bp_checkpoint_finish(t, first + 1, 999, NULL), 0);
    assert_int_equal(bp_checkpoint_is_finished(t, first), 0);
    assert_int_equal(bp_checkpoint_is_finished(t, first + 999), 1);
    uint64_t cp = 0;
    assert_int_equal(bp_checkpoint_finish(t, first, 1, &cp), 1);
    assert_true(cp == first + 999);
    assert_true(bp_checkpoint_outstanding(t) == 0);
  }
  bp_checkpoint_del(t);
}

/* ---- capacity ---- */

static void test_capacity(void **state) {
  (void)state;
  bp_checkpoint *t = make(0, 100);
  assert_int_equal(bp_checkpoint_track(t, 0, 101), BP_ERR_TOO_LARGE);
  assert_true(strstr(bp_checkpoint_errmsg(t), "capacity") != NULL);
  assert_int_equal(bp_checkpoint_track(t, 0, 100), 0);
  assert_string_equal(bp_checkpoint_errmsg(t), "");
  assert_int_equal(bp_checkpoint_track(t, 100, 1), BP_ERR_TOO_LARGE);
  assert_true(bp_checkpoint_next(t) == 100);
  /* Finishing ahead of a pending record frees no room. */
  assert_int_equal(bp_checkpoint_finish(t, 50, 50, NULL), 0);
  assert_int_equal(bp_checkpoint_track(t, 100, 1), BP_ERR_TOO_LARGE);
  assert_int_equal(bp_checkpoint_finish(t, 0, 1, NULL), 1);
  assert_true(bp_checkpoint_outstanding(t) == 99);
  assert_int_equal(bp_checkpoint_track(t, 100, 2), BP_ERR_TOO_LARGE);
  assert_int_equal(bp_checkpoint_track(t, 100, 1), 0);
  assert_int_equal(bp_checkpoint_track(t, 101, 1), BP_ERR_TOO_LARGE);
  assert_int_equal(bp_checkpoint_finish(t, 1, 49, NULL), 1);
  assert_int_equal(cp_of(t), 99);
  assert_true(bp_checkpoint_outstanding(t) == 1);
  assert_int_equal(bp_checkpoint_track(t, 101, 100), BP_ERR_TOO_LARGE);
  assert_int_equal(bp_checkpoint_track(t, 101, 99), 0);
  assert_int_equal(bp_checkpoint_finish(t, 100, 100, NULL), 1);
  assert_int_equal(cp_of(t), 199);
  assert_int_equal(bp_checkpoint_track(t, 200, 100), 0);
  bp_checkpoint_del(t);
}

/* ---- bad input ---- */

static void test_invalid_ranges(void **state) {
  (void)state;
  pair h;
  pair_init(&h, 1000, 64, 4096);
  /* track: count 0, gaps, overlaps */
  assert_int_equal(pair_track(&h, 1000, 0), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(pair_track(&h, 1001, 5), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(pair_track(&h, 999, 5), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(pair_track(&h, 1000, 10), 0);
  assert_int_equal(pair_track(&h, 1005, 10), BP_ERR_INVALID_ARGUMENT); /* overlap */
  assert_true(strstr(bp_checkpoint_errmsg(h.t), "contiguous") != NULL);
  assert_int_equal(pair_track(&h, 1011, 1), BP_ERR_INVALID_ARGUMENT); /* gap */
  /* finish: count 0, untracked, before the base, beyond the end */
  assert_int_equal(pair_finish(&h, 1000, 0), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(pair_finish(&h, 1010, 1), BP_ERR_INVALID_ARGUMENT);
  assert_true(strstr(bp_checkpoint_errmsg(h.t), "not tracked") != NULL);
  assert_int_equal(pair_finish(&h, 999, 2), BP_ERR_INVALID_ARGUMENT);
  assert_true(strstr(bp_checkpoint_errmsg(h.t), "before the base") != NULL);
  assert_int_equal(pair_finish(&h, 1008, 3), BP_ERR_INVALID_ARGUMENT); /* 1010 untracked */
  assert_int_equal(pair_finish(&h, 1000, 11), BP_ERR_INVALID_ARGUMENT);
  /* already finished: alone, as a sub-range, overlapping a finished run */
  assert_int_equal(pair_finish(&h, 1004, 3), 0);
  assert_int_equal(pair_finish(&h, 1005, 1), BP_ERR_INVALID_ARGUMENT);
  assert_true(strstr(bp_checkpoint_errmsg(h.t), "1005 is already finished") != NULL);
  assert_int_equal(pair_finish(&h, 1002, 3), BP_ERR_INVALID_ARGUMENT); /* 1004 finished */
  assert_true(strstr(bp_checkpoint_errmsg(h.t), "1004 is already finished") != NULL);
  assert_int_equal(pair_finish(&h, 1006, 4), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(pair_finish(&h, 1003, 5), BP_ERR_INVALID_ARGUMENT);
  /* already passed by the checkpoint */
  assert_int_equal(pair_finish(&h, 1000, 2), 1);
  assert_int_equal(pair_finish(&h, 1001, 1), BP_ERR_INVALID_ARGUMENT);
  assert_true(strstr(bp_checkpoint_errmsg(h.t), "already passed") != NULL);
  assert_int_equal(pair_finish(&h, 1001, 2), BP_ERR_INVALID_ARGUMENT);
  /* overflow of the range */
  assert_int_equal(pair_finish(&h, 1002, UINT64_MAX), BP_ERR_INVALID_ARGUMENT);
  assert_true(strstr(bp_checkpoint_errmsg(h.t), "overflow") != NULL);
  assert_int_equal(pair_finish(&h, UINT64_MAX, 1), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(pair_finish(&h, UINT64_MAX - 1, 2), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(pair_track(&h, 1010, UINT64_MAX - 1009), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(pair_track(&h, 1010, UINT64_MAX - 1010), BP_ERR_TOO_LARGE);
  /* an error clears on the next success */
  assert_int_equal(pair_finish(&h, 1002, 2), 1);
  assert_string_equal(bp_checkpoint_errmsg(h.t), "");
  assert_int_equal(cp_of(h.t), 1006);
  pair_check(&h, 1);
  pair_free(&h);
}

/* The top of the position space: UINT64_MAX itself is never tracked. */
static void test_uint64_top(void **state) {
  (void)state;
  const uint64_t base = UINT64_MAX - 100;
  bp_checkpoint *t = make(base, 200);
  assert_int_equal(bp_checkpoint_track(t, base, 101), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_checkpoint_track(t, base, 100), 0);
  assert_true(bp_checkpoint_next(t) == UINT64_MAX);
  assert_int_equal(bp_checkpoint_track(t, UINT64_MAX, 1), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_checkpoint_finish(t, UINT64_MAX - 5, 10, NULL), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_checkpoint_finish(t, UINT64_MAX, 1, NULL), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_checkpoint_is_finished(t, UINT64_MAX), BP_ERR_INVALID_ARGUMENT);
  const uint64_t last[] = {UINT64_MAX - 1};
  assert_int_equal(bp_checkpoint_finish_list(t, last, 1, NULL), 0);
  uint64_t cp = 0;
  assert_int_equal(bp_checkpoint_finish(t, base, 99, &cp), 1);
  assert_true(cp == UINT64_MAX - 1);
  assert_true(bp_checkpoint_outstanding(t) == 0);
  assert_int_equal(bp_checkpoint_reset(t, UINT64_MAX), 0);
  assert_int_equal(bp_checkpoint_track(t, UINT64_MAX, 1), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_checkpoint_get(t, NULL), 0);
  bp_checkpoint_del(t);
}

/* finish_list refuses the whole list when any entry is bad, whichever its place. */
static void test_finish_list_atomic(void **state) {
  (void)state;
  pair h;
  pair_init(&h, 0, 64, 1024);
  assert_int_equal(pair_track(&h, 0, 40), 0);
  assert_int_equal(pair_finish(&h, 0, 2), 1);  /* 0, 1 passed */
  assert_int_equal(pair_finish(&h, 20, 1), 0); /* 20 finished ahead */
  const uint64_t untracked[] = {5, 6, 7, 40};
  const uint64_t passed[] = {2, 3, 1};
  const uint64_t done[] = {21, 20, 22};
  const uint64_t twice[] = {2, 3, 4, 3};
  const uint64_t twice_first[] = {2, 2};
  const uint64_t before_end[] = {UINT64_MAX, 3};
  assert_int_equal(pair_finish_list(&h, untracked, 4), BP_ERR_INVALID_ARGUMENT);
  assert_true(strstr(bp_checkpoint_errmsg(h.t), "40 is not tracked") != NULL);
  assert_int_equal(pair_finish_list(&h, passed, 3), BP_ERR_INVALID_ARGUMENT);
  assert_true(strstr(bp_checkpoint_errmsg(h.t), "already passed") != NULL);
  assert_int_equal(pair_finish_list(&h, done, 3), BP_ERR_INVALID_ARGUMENT);
  assert_true(strstr(bp_checkpoint_errmsg(h.t), "20 is already finished") != NULL);
  assert_int_equal(pair_finish_list(&h, twice, 4), BP_ERR_INVALID_ARGUMENT);
  assert_true(strstr(bp_checkpoint_errmsg(h.t), "3 is listed twice") != NULL);
  assert_int_equal(pair_finish_list(&h, twice_first, 2), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(pair_finish_list(&h, before_end, 2), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(pair_finish_list(&h, twice, 0), BP_ERR_INVALID_ARGUMENT);
  pair_check(&h, 1); /* nothing of the refused lists was marked */
  for (uint64_t p = 2; p < 40; p++)
    assert_int_equal(bp_checkpoint_is_finished(h.t, p), p == 20);
  /* The same positions in any order are fine once valid. */
  const uint64_t ok[] = {4, 2, 3};
  assert_int_equal(pair_finish_list(&h, ok, 3), 1);
  assert_int_equal(cp_of(h.t), 4);
  pair_free(&h);
}

/* Randomized: 10 lanes (positions routed at random, so lanes interleave), each lane
 * finishing its oldest positions in batches, lanes picked in random order; filtered runs;
 * invalid calls mixed in; resets now and then. Every result is checked against the model. */
static void run_random(uint64_t seed, uint64_t base, size_t capacity, size_t ops) {
  enum { LANES = 10 };
  uint64_t rng = seed;
  const size_t span = ops * 64 + 1024;
  pair h;
  pair_init(&h, base, capacity, span);
  uint64_t *lane[LANES];
  size_t lane_head[LANES], lane_len[LANES];
  for (int l = 0; l < LANES; l++) {
    lane[l] = malloc(capacity * sizeof(uint64_t));
    assert_non_null(lane[l]);
    lane_head[l] = lane_len[l] = 0;
  }
  uint64_t *batch = malloc((capacity + 2) * sizeof(uint64_t));
  assert_non_null(batch);
  uint64_t moves = 0, errors = 0, backpressure = 0;
  for (size_t op = 0; op < ops; op++) {
    uint64_t r = rng_below(&rng, 100);
    if (h.m.next - h.m.base + 200 >= span) r = 99; /* model full: reset */
    if (r < 35) { /* ingest a run: each record to a random lane, some filtered out */
      uint64_t n = 1 + rng_below(&rng, rng_below(&rng, 4) ? 20 : 150);
      uint64_t first = h.m.next;
      int rc = pair_track(&h, first, n);
      if (rc == BP_ERR_TOO_LARGE) {
        backpressure++;
        continue;
      }
      assert_int_equal(rc, 0);
      int filtered = rng_below(&rng, 6) == 0;
      if (filtered) {
        moves += pair_finish(&h, first, n) == 1;
        continue;
      }
      for (uint64_t k = 0; k < n; k++) {
        int l = (int)rng_below(&rng, LANES);
        lane[l][(lane_head[l] + lane_len[l]++) % capacity] = first + k;
      }
    } else if (r < 85) { /* a random lane finishes its oldest batch */
      int l = (int)rng_below(&rng, LANES);
      if (!lane_len[l]) continue;
      size_t n = 1 + (size_t)rng_below(&rng, lane_len[l] < 100 ? lane_len[l] : 100);
      for (size_t k = 0; k < n; k++) batch[k] = lane[l][(lane_head[l] + k) % capacity];
      lane_head[l] = (lane_head[l] + n) % capacity;
      lane_len[l] -= n;
      int rc;
      if (n > 1 && batch[n - 1] - batch[0] == n - 1 && rng_below(&rng, 2))
        rc = pair_finish(&h, batch[0], n); /* contiguous: as a range */
      else {
        if (rng_below(&rng, 4) == 0) shuffle(&rng, batch, n);
        rc = pair_finish_list(&h, batch, n);
      }
      assert_true(rc == 0 || rc == 1);
      moves += rc == 1;
    } else if (r < 98) { /* a bad call: random positions near the window, maybe repeated */
      uint64_t lo = h.m.low >= 5 ? h.m.low - 5 : 0; /* may be before the base */
      uint64_t width = h.m.next - lo + 5;
      uint64_t p = lo + rng_below(&rng, width);
      size_t n = 1 + (size_t)rng_below(&rng, 4);
      for (size_t k = 0; k < n; k++)
        batch[k] = k && rng_below(&rng, 3) == 0 ? batch[k - 1] : lo + rng_below(&rng, width);
      /* Only submit calls the model refuses, so the lane queues stay truthful. */
      int bad_range = 0;
      uint64_t cnt = 1 + rng_below(&rng, 3);
      for (uint64_t k = 0; k < cnt; k++) bad_range |= !model_finishable(&h.m, p + k);
      if (bad_range) {
        assert_int_equal(pair_finish(&h, p, cnt), BP_ERR_INVALID_ARGUMENT);
        errors++;
      }
      int bad_list = 0;
      for (size_t k = 0; k < n; k++) {
        bad_list |= !model_finishable(&h.m, batch[k]);
        for (size_t j = 0; j < k; j++) bad_list |= batch[j] == batch[k];
      }
      if (bad_list) {
        assert_int_equal(pair_finish_list(&h, batch, n), BP_ERR_INVALID_ARGUMENT);
        errors++;
      }
    } else { /* restart from a stored checkpoint: forget everything */
      uint64_t nb = h.m.next + rng_below(&rng, 1000);
      assert_int_equal(bp_checkpoint_reset(h.t, nb), 0);
      model_reset(&h.m, nb);
      for (int l = 0; l < LANES; l++) lane_head[l] = lane_len[l] = 0;
    }
    if (op % 64 == 0) pair_check(&h, 1);
  }
  /* Drain: every lane finishes; the checkpoint reaches the last tracked position. */
  for (int l = 0; l < LANES; l++)
    while (lane_len[l]) {
      pair_finish_list(&h, &lane[l][lane_head[l]], 1);
      lane_head[l] = (lane_head[l] + 1) % capacity;
      lane_len[l]--;
    }
  pair_check(&h, 1);
  assert_true(bp_checkpoint_outstanding(h.t) == 0);
  assert_true(moves > ops / 40);
  assert_true(errors > ops / 50);
  if (capacity < 300) assert_true(backpressure > 0);
  for (int l = 0; l < LANES; l++) free(lane[l]);
  free(batch);
  pair_free(&h);
}

static void test_random_lanes(void **state) {
  (void)state;
  run_random(1, 0, 64, 4000);
  run_random(2, 0, 65, 4000);
  run_random(3, 1000, 200, 6000);
  run_random(4, UINT64_C(1) << 40, 1000, 6000);
  run_random(5, 0, 10000, 6000);
  run_random(6, UINT64_C(0x7fffffffffff0000), 129, 6000);
}

/* 1,000,000 positions through 10 lanes completing in random order, with back-pressure from
 * a capacity far below the total: must finish quickly (no quadratic work). */
static void test_million(void **state) {
  (void)state;
  enum { LANES = 10, CAP = 1 << 16, TOTAL = 1000000 };
  uint64_t rng = 0xfeed;
  bp_checkpoint *t = make(0, CAP);
  uint64_t *lane[LANES];
  size_t head[LANES] = {0}, len[LANES] = {0};
  for (int l = 0; l < LANES; l++) {
    lane[l] = malloc(CAP * sizeof(uint64_t));
    assert_non_null(lane[l]);
  }
  uint64_t batch[100], last_cp = 0;
  int have_cp = 0;
  size_t pending = 0;
  while (bp_checkpoint_next(t) < TOTAL || pending) {
    uint64_t next = bp_checkpoint_next(t);
    uint64_t want = 1 + rng_below(&rng, 500);
    if (next + want > TOTAL) want = TOTAL - next;
    if (want && bp_checkpoint_track(t, next, want) == 0) {
      for (uint64_t k = 0; k < want; k++) {
        int l = (int)rng_below(&rng, LANES);
        lane[l][(head[l] + len[l]++) % CAP] = next + k;
      }
      pending += want;
      continue;
    }
    int l = (int)rng_below(&rng, LANES);
    if (!len[l]) continue;
    size_t n = 1 + (size_t)rng_below(&rng, len[l] < 100 ? len[l] : 100);
    for (size_t k = 0; k < n; k++) batch[k] = lane[l][(head[l] + k) % CAP];
    head[l] = (head[l] + n) % CAP;
    len[l] -= n;
    pending -= n;
    uint64_t cp;
    int rc = bp_checkpoint_finish_list(t, batch, n, &cp);
    assert_true(rc == 0 || rc == 1);
    if (rc == 1) {
      assert_true(!have_cp || cp > last_cp);
      last_cp = cp;
      have_cp = 1;
    }
  }
  assert_true(have_cp && last_cp == TOTAL - 1);
  assert_true(bp_checkpoint_outstanding(t) == 0);
  for (int l = 0; l < LANES; l++) free(lane[l]);
  bp_checkpoint_del(t);
}

/* ---- reset ---- */

static void test_reset(void **state) {
  (void)state;
  bp_checkpoint *t = make(0, 64);
  assert_int_equal(bp_checkpoint_track(t, 0, 50), 0);
  assert_int_equal(bp_checkpoint_finish(t, 0, 10, NULL), 1);
  assert_int_equal(bp_checkpoint_finish(t, 30, 5, NULL), 0);
  assert_int_equal(bp_checkpoint_track(t, 0, 1), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_checkpoint_reset(t, 500), 0);
  assert_string_equal(bp_checkpoint_errmsg(t), "");
  assert_int_equal(bp_checkpoint_get(t, NULL), 0);
  assert_true(bp_checkpoint_next(t) == 500);
  assert_true(bp_checkpoint_outstanding(t) == 0);
  assert_int_equal(bp_checkpoint_is_finished(t, 5), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_checkpoint_track(t, 50, 1), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_checkpoint_track(t, 500, 64), 0); /* full capacity again */
  assert_int_equal(bp_checkpoint_finish(t, 499, 1, NULL), BP_ERR_INVALID_ARGUMENT);
  for (uint64_t p = 500; p < 564; p++) assert_int_equal(bp_checkpoint_is_finished(t, p), 0);
  assert_int_equal(bp_checkpoint_finish(t, 530, 5, NULL), 0); /* no stale bits */
  assert_int_equal(bp_checkpoint_finish(t, 500, 30, NULL), 1);
  assert_int_equal(cp_of(t), 534);
  /* A lower base is allowed too (the engine chooses its numbering). */
  assert_int_equal(bp_checkpoint_reset(t, 3), 0);
  assert_int_equal(bp_checkpoint_track(t, 3, 2), 0);
  assert_int_equal(bp_checkpoint_finish(t, 3, 2, NULL), 1);
  assert_int_equal(cp_of(t), 4);
  bp_checkpoint_del(t);
}

/* ---- memory ---- */

static _Alignas(max_align_t) unsigned char mem_buf[4096];

static void test_init_in(void **state) {
  (void)state;
  bp_checkpoint_opts o = {sizeof(bp_checkpoint_opts), 10, 1000};
  size_t need = bp_checkpoint_mem_size(&o);
  assert_true(need > 0 && need <= sizeof mem_buf - alignof(max_align_t));
  bp_checkpoint *t = (bp_checkpoint *)&o;
  assert_int_equal(bp_checkpoint_init_in(mem_buf, need - 1, &o, &t), BP_ERR_BUFFER_TOO_SMALL);
  assert_null(t);
  assert_int_equal(bp_checkpoint_init_in(mem_buf, 0, &o, &t), BP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(bp_checkpoint_init_in(mem_buf + 1, need + 8, &o, &t), BP_ERR_INVALID_ARGUMENT);
  assert_null(t);
  assert_int_equal(bp_checkpoint_init_in(mem_buf + 8, need + 8, &o, &t),
                   alignof(max_align_t) > 8 ? BP_ERR_INVALID_ARGUMENT : 0);
  bp_checkpoint_del(t);
  assert_int_equal(bp_checkpoint_init_in(NULL, need, &o, &t), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_checkpoint_init_in(mem_buf, need, NULL, &t), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_checkpoint_init_in(mem_buf, need, &o, NULL), BP_ERR_INVALID_ARGUMENT);
  o.capacity = 0;
  assert_int_equal(bp_checkpoint_init_in(mem_buf, sizeof mem_buf, &o, &t), BP_ERR_INVALID_ARGUMENT);
  o.capacity = 1000;

  /* Dirty memory must not leak into the bitmap. */
  memset(mem_buf, 0xff, sizeof mem_buf);
  assert_int_equal(bp_checkpoint_init_in(mem_buf, need, &o, &t), 0);
  assert_true((void *)t == (void *)mem_buf);
  assert_string_equal(bp_checkpoint_errmsg(t), "");
  assert_int_equal(bp_checkpoint_track(t, 10, 1000), 0);
  for (uint64_t p = 10; p < 1010; p++) assert_int_equal(bp_checkpoint_is_finished(t, p), 0);
  assert_int_equal(bp_checkpoint_finish(t, 10, 999, NULL), 1);
  assert_int_equal(cp_of(t), 1008);
  bp_checkpoint_del(t); /* frees nothing: the memory is ours again */
  memset(mem_buf, 0, sizeof mem_buf);
  assert_int_equal(bp_checkpoint_init_in(mem_buf, sizeof mem_buf, &o, &t), 0);
  assert_int_equal(bp_checkpoint_get(t, NULL), 0);
  bp_checkpoint_del(t);
}

static _Alignas(max_align_t) unsigned char arena_buf[32 * 1024];

static void test_arena(void **state) {
  (void)state;
  bp_arena *arena;
  bp_allocator a;
  assert_int_equal(bp_arena_init(&arena, arena_buf, sizeof arena_buf, &a), 0);
  bp_checkpoint_opts o = {sizeof(bp_checkpoint_opts), 0, 10000};
  bp_checkpoint *t = NULL;
  assert_int_equal(bp_checkpoint_new(&t, &o, &a), 0);
  size_t used, failures;
  bp_arena_stats(arena, &used, NULL, NULL, NULL);
  assert_true(used >= bp_checkpoint_mem_size(&o));
  assert_int_equal(bp_checkpoint_track(t, 0, 10000), 0);
  assert_int_equal(bp_checkpoint_finish(t, 0, 10000, NULL), 1);
  bp_arena_stats(arena, &used, NULL, NULL, NULL);
  assert_true(used >= bp_checkpoint_mem_size(&o)); /* no allocation after creation */
  bp_checkpoint_del(t);
  bp_arena_stats(arena, &used, NULL, NULL, NULL);
  assert_int_equal(used, 0);
  o.capacity = 1 << 20; /* 128 KiB bitmap: does not fit */
  assert_int_equal(bp_checkpoint_new(&t, &o, &a), BP_ERR_NOMEM);
  assert_null(t);
  bp_arena_stats(arena, &used, NULL, NULL, &failures);
  assert_int_equal(used, 0);
  assert_int_equal(failures, 1);
}

/* new + every operation + del, under the counting allocator. */
static int failmalloc_scenario(const bp_allocator *hooks, void *ctx) {
  (void)ctx;
  bp_checkpoint_opts o = {sizeof(bp_checkpoint_opts), 5, 300};
  bp_checkpoint *a = NULL, *b = NULL;
  int rc = bp_checkpoint_new(&a, &o, hooks);
  if (rc) return rc;
  rc = bp_checkpoint_new(&b, &o, hooks);
  if (rc) {
    bp_checkpoint_del(a);
    return rc;
  }
  const uint64_t list[] = {9, 7, 5};
  int ok = bp_checkpoint_track(a, 5, 300) == 0 && bp_checkpoint_finish(a, 6, 1, NULL) == 0 &&
           bp_checkpoint_finish(a, 8, 1, NULL) == 0 &&
           bp_checkpoint_finish_list(a, list, 3, NULL) == 1 &&
           bp_checkpoint_track(a, 305, 6) == BP_ERR_TOO_LARGE && bp_checkpoint_reset(a, 0) == 0 &&
           bp_checkpoint_track(b, 5, 10) == 0 && bp_checkpoint_finish(b, 5, 10, NULL) == 1;
  bp_checkpoint_del(b);
  bp_checkpoint_del(a);
  return ok ? 0 : BP_ERR_INTERNAL;
}

static void test_failmalloc(void **state) {
  (void)state;
  test_alloc_failmalloc(failmalloc_scenario, NULL);
  test_alloc ta;
  bp_allocator hooks;
  test_alloc_init(&ta, &hooks);
  assert_int_equal(failmalloc_scenario(&hooks, NULL), 0);
  assert_int_equal(ta.allocs, 2); /* one block per tracker, nothing per record */
  assert_int_equal(ta.live_blocks, 0);
}

static void test_null_args(void **state) {
  (void)state;
  bp_checkpoint_opts o = {sizeof(bp_checkpoint_opts), 0, 8};
  bp_checkpoint *t = NULL;
  uint64_t cp = 1;
  const uint64_t one[] = {0};
  assert_int_equal(bp_checkpoint_new(NULL, &o, NULL), BP_ERR_INVALID_ARGUMENT);
  t = (bp_checkpoint *)&o;
  assert_int_equal(bp_checkpoint_new(&t, NULL, NULL), BP_ERR_INVALID_ARGUMENT);
  assert_null(t);
  assert_int_equal(bp_checkpoint_init_in(NULL, 0, NULL, NULL), BP_ERR_INVALID_ARGUMENT);
  bp_checkpoint_del(NULL);
  assert_string_equal(bp_checkpoint_errmsg(NULL), "");
  assert_int_equal(bp_checkpoint_reset(NULL, 0), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_checkpoint_track(NULL, 0, 1), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_checkpoint_finish(NULL, 0, 1, &cp), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_checkpoint_finish_list(NULL, one, 1, &cp), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_checkpoint_get(NULL, &cp), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_checkpoint_is_finished(NULL, 0), BP_ERR_INVALID_ARGUMENT);
  assert_true(bp_checkpoint_next(NULL) == 0);
  assert_true(bp_checkpoint_outstanding(NULL) == 0);
  assert_int_equal(bp_checkpoint_capacity(NULL), 0);
  assert_true(cp == 1);

  assert_int_equal(bp_checkpoint_new(&t, &o, NULL), 0);
  assert_int_equal(bp_checkpoint_track(t, 0, 1), 0);
  assert_int_equal(bp_checkpoint_finish_list(t, NULL, 1, &cp), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_checkpoint_finish_list(t, NULL, 0, &cp), BP_ERR_INVALID_ARGUMENT);
  assert_true(strlen(bp_checkpoint_errmsg(t)) > 0);
  /* NULL out-parameters are optional */
  assert_int_equal(bp_checkpoint_finish_list(t, one, 1, NULL), 1);
  assert_int_equal(bp_checkpoint_get(t, NULL), 1);
  bp_checkpoint_del(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_create),           cmocka_unit_test(test_in_order),
      cmocka_unit_test(test_none_vs_zero),     cmocka_unit_test(test_out_of_order),
      cmocka_unit_test(test_lanes_interleaved), cmocka_unit_test(test_word_boundaries),
      cmocka_unit_test(test_long_run),         cmocka_unit_test(test_capacity),
      cmocka_unit_test(test_invalid_ranges),   cmocka_unit_test(test_uint64_top),
      cmocka_unit_test(test_finish_list_atomic), cmocka_unit_test(test_random_lanes),
      cmocka_unit_test(test_million),          cmocka_unit_test(test_reset),
      cmocka_unit_test(test_init_in),          cmocka_unit_test(test_arena),
      cmocka_unit_test(test_failmalloc),       cmocka_unit_test(test_null_args),
  };
  return cmocka_run_group_tests_name("checkpoint", tests, NULL, NULL);
}
