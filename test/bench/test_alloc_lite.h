/* SPDX-License-Identifier: MIT */
/* A counting allocator for benchmarks (header-only; the cmocka test allocator is heavier). */
#ifndef BP_BENCH_ALLOC_H
#define BP_BENCH_ALLOC_H

#include <stdlib.h>

#include "batchpoint/bp_common.h"

typedef struct lite_alloc {
  size_t calls;
} lite_alloc;

static inline void *lite_malloc(size_t n, void *ud) {
  ((lite_alloc *)ud)->calls++;
  return malloc(n);
}
static inline void *lite_realloc(void *p, size_t n, void *ud) {
  ((lite_alloc *)ud)->calls++;
  return realloc(p, n);
}
static inline void lite_free(void *p, void *ud) {
  (void)ud;
  free(p);
}
static inline void lite_alloc_init(lite_alloc *a, bp_allocator *hooks) {
  a->calls = 0;
  hooks->malloc = lite_malloc;
  hooks->realloc = lite_realloc;
  hooks->free = lite_free;
  hooks->ud = a;
}

#endif
