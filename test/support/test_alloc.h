/* SPDX-License-Identifier: MIT */
/* Test allocator installed through bp_allocator hooks: counts allocations and live bytes,
 * fails the N-th allocation on request (failmalloc), and lets tests assert no leak. */
#ifndef BP_TEST_ALLOC_H
#define BP_TEST_ALLOC_H

#include <stddef.h>

#include "batchpoint/bp_common.h"

typedef struct test_alloc {
  size_t allocs;       /* successful malloc/realloc-from-NULL calls */
  size_t calls;        /* every malloc/realloc call (fail_at counts these) */
  size_t live_blocks;
  size_t live_bytes;
  size_t peak_bytes;
  size_t fail_at;      /* 1-based call number to fail; 0 = never */
  size_t failed;       /* calls that were failed on purpose */
} test_alloc;

/* Reset counters and return hooks bound to @p t. */
void test_alloc_init(test_alloc *t, bp_allocator *hooks);

/*
 * Failmalloc loop: run @p scenario once counting calls, then once per i failing the i-th
 * call. The scenario returns 0 on success or a bp_err; with a failure injected it must
 * return BP_ERR_NOMEM (or 0 if the failed call was optional), and every run must end with
 * no live block. Fails the current cmocka test otherwise.
 */
void test_alloc_failmalloc(int (*scenario)(const bp_allocator *hooks, void *ctx), void *ctx);

#endif
