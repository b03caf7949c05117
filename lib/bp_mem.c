/* SPDX-License-Identifier: MIT */
/* Allocation through per-object hooks (NULL hooks = the C library). */
#include <stdlib.h>
#include <string.h>

#include "bp_int.h"

static void *libc_malloc(size_t n, void *ud) {
  (void)ud;
  return malloc(n);
}
static void *libc_realloc(void *p, size_t n, void *ud) {
  (void)ud;
  return realloc(p, n);
}
static void libc_free(void *p, void *ud) {
  (void)ud;
  free(p);
}

int bp__alloc_copy(bp_allocator *dst, const bp_allocator *src) {
  if (!src || (!src->malloc && !src->realloc && !src->free)) {
    dst->malloc = libc_malloc;
    dst->realloc = libc_realloc;
    dst->free = libc_free;
    dst->ud = NULL;
    return 0;
  }
  if (!src->malloc || !src->realloc || !src->free) return BP_ERR_INVALID_ARGUMENT;
  *dst = *src;
  return 0;
}

void *bp__malloc(const bp_allocator *a, size_t n) { return a->malloc(n ? n : 1, a->ud); }

void *bp__calloc(const bp_allocator *a, size_t n, size_t size) {
  if (size && n > SIZE_MAX / size) return NULL;
  void *p = bp__malloc(a, n * size);
  if (p) memset(p, 0, n * size);
  return p;
}

void *bp__realloc(const bp_allocator *a, void *p, size_t n) {
  return a->realloc(p, n ? n : 1, a->ud);
}

int bp__caller_mem_check(const void *mem, size_t len, size_t need) {
  if (!mem || (uintptr_t)mem % _Alignof(max_align_t)) return BP_ERR_INVALID_ARGUMENT;
  return len < need ? BP_ERR_BUFFER_TOO_SMALL : 0;
}

void bp__free(const bp_allocator *a, void *p) {
  if (p) a->free(p, a->ud);
}

int bp__array_ok(const void *p, size_t n, size_t size) {
  return n <= PTRDIFF_MAX / size && bp__span_ok(p, n * size);
}

char *bp__strndup(const bp_allocator *a, const char *s, size_t n) {
  if (n == SIZE_MAX) return NULL; /* n + 1 would wrap */
  char *p = bp__malloc(a, n + 1);
  if (p) {
    if (n) memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}
