/* SPDX-License-Identifier: MIT */
/*
 * Arena allocator over a caller buffer: first-fit over an address-ordered block list with
 * coalescing of free neighbours. Each block carries a header holding its size and whether
 * it is in use, so free() needs no size from the caller and realloc() can grow in place.
 */
#include <stdalign.h>
#include <string.h>

#include "bp_int.h"

#define ALIGN alignof(max_align_t)

typedef struct block {
  size_t size; /* payload bytes after this header */
  size_t used; /* 1 in use, 0 free */
} block;

/* Header rounded up so payloads stay max-aligned. */
#define HDR (((sizeof(block) + ALIGN - 1) / ALIGN) * ALIGN)

struct bp_arena {
  unsigned char *start; /* first block header */
  unsigned char *end;
  size_t used;
  size_t high_water;
  size_t failures;
};

#define ARENA_SELF (((sizeof(struct bp_arena) + ALIGN - 1) / ALIGN) * ALIGN)

static block *next_block(const bp_arena *a, block *b) {
  unsigned char *n = (unsigned char *)b + HDR + b->size;
  return n < a->end ? (block *)n : NULL;
}

static size_t round_up(size_t n) {
  if (n > SIZE_MAX - ALIGN) return 0;
  n = n ? n : 1;
  return (n + ALIGN - 1) / ALIGN * ALIGN;
}

static void account(bp_arena *a, ptrdiff_t delta) {
  a->used = (size_t)((ptrdiff_t)a->used + delta);
  if (a->used > a->high_water) a->high_water = a->used;
}

/* Merge @p b with every free block that follows it. */
static void coalesce(bp_arena *a, block *b) {
  block *n;
  while ((n = next_block(a, b)) && !n->used) b->size += HDR + n->size;
}

/* Split @p b so it holds exactly @p size, if the rest can form a block. */
static void split(block *b, size_t size) {
  if (b->size >= size + HDR + ALIGN) {
    block *rest = (block *)((unsigned char *)b + HDR + size);
    rest->size = b->size - size - HDR;
    rest->used = 0;
    b->size = size;
  }
}

static void *arena_malloc(size_t n, void *ud) {
  bp_arena *a = ud;
  size_t size = round_up(n);
  if (size) {
    for (block *b = (block *)a->start; b; b = next_block(a, b)) {
      if (b->used) continue;
      coalesce(a, b);
      if (b->size < size) continue;
      split(b, size);
      b->used = 1;
      account(a, (ptrdiff_t)(HDR + b->size));
      return (unsigned char *)b + HDR;
    }
  }
  a->failures++;
  return NULL;
}

static void arena_free(void *p, void *ud) {
  bp_arena *a = ud;
  if (!p) return;
  block *b = (block *)((unsigned char *)p - HDR);
  b->used = 0;
  account(a, -(ptrdiff_t)(HDR + b->size));
  coalesce(a, b);
}

static void *arena_realloc(void *p, size_t n, void *ud) {
  bp_arena *a = ud;
  if (!p) return arena_malloc(n, ud);
  block *b = (block *)((unsigned char *)p - HDR);
  size_t size = round_up(n);
  if (!size) {
    a->failures++;
    return NULL;
  }
  size_t old = b->size;
  coalesce(a, b); /* absorbs following free blocks: they were not counted as used */
  if (b->size >= size) {
    split(b, size);
    account(a, (ptrdiff_t)b->size - (ptrdiff_t)old);
    return p;
  }
  /* Keep what coalescing absorbed inside this block; it is still free space to others
   * only after we move, so give it back by splitting at the old size. */
  split(b, old);
  void *q = arena_malloc(n, ud);
  if (!q) return NULL;
  memcpy(q, p, old < size ? old : size);
  arena_free(p, ud);
  return q;
}

int bp_arena_init(bp_arena **out, void *buf, size_t len, bp_allocator *alloc_out) {
  if (out) *out = NULL;
  if (!out || !buf || !alloc_out) return BP_ERR_INVALID_ARGUMENT;
  if ((uintptr_t)buf % ALIGN || !bp__span_ok(buf, len)) return BP_ERR_INVALID_ARGUMENT;
  if (len < ARENA_SELF + HDR + ALIGN) return BP_ERR_BUFFER_TOO_SMALL;
  bp_arena *a = buf;
  a->start = (unsigned char *)buf + ARENA_SELF;
  size_t usable = (len - ARENA_SELF) / ALIGN * ALIGN;
  a->end = a->start + usable;
  a->used = a->high_water = a->failures = 0;
  block *first = (block *)a->start;
  first->size = usable - HDR;
  first->used = 0;
  alloc_out->malloc = arena_malloc;
  alloc_out->realloc = arena_realloc;
  alloc_out->free = arena_free;
  alloc_out->ud = a;
  *out = a;
  return 0;
}

void bp_arena_stats(const bp_arena *a, size_t *used, size_t *high_water, size_t *capacity,
                    size_t *failures) {
  if (!a) return;
  if (used) *used = a->used;
  if (high_water) *high_water = a->high_water;
  if (capacity) *capacity = (size_t)(a->end - a->start);
  if (failures) *failures = a->failures;
}
