/* SPDX-License-Identifier: MIT */
/* Growable byte buffer; one spare byte is always kept for a terminating NUL. */
#include <string.h>

#include "bp_int.h"

void bp__buf_init(bp__buf *b, const bp_allocator *alloc) {
  b->data = NULL;
  b->len = b->cap = 0;
  b->alloc = alloc;
}

void bp__buf_free(bp__buf *b) {
  bp__free(b->alloc, b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

int bp__buf_reserve(bp__buf *b, size_t extra) {
  if (extra >= SIZE_MAX - b->len) return BP_ERR_NOMEM;
  size_t need = b->len + extra + 1;
  if (need <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  char *p = bp__realloc(b->alloc, b->data, cap);
  if (!p) return BP_ERR_NOMEM;
  b->data = p;
  b->cap = cap;
  return 0;
}

int bp__buf_append(bp__buf *b, const void *p, size_t n) {
  int rc = bp__buf_reserve(b, n);
  if (rc) return rc;
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  return 0;
}

void bp__buf_terminate(bp__buf *b) {
  if (b->data) b->data[b->len] = '\0';
}
