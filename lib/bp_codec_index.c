/* SPDX-License-Identifier: MIT */
/*
 * The response classifier's index of a batch: sequence number -> batch position.
 *
 * Open addressing with linear probing over a power-of-two table kept under 2/3 full. A slot
 * holds the position + 1 (0: empty) in its low 32 bits and the hash's high 32 bits above, so
 * a probe that meets another number almost never reads that record. The table lives in the
 * index's own block, grown and never shrunk: no allocation per record or per lookup. The hash
 * reads every byte in which the batch's numbers can differ (idx_prefix()), so numbers that
 * differ in any digit spread alike.
 */
#include <stddef.h>
#include <string.h>

#include "bp_codec_int.h"

#define IDX_K1 UINT64_C(0x9E3779B97F4A7C15)
#define IDX_K2 UINT64_C(0xC2B2AE3D27D4EB4F)

static uint64_t idx_load64(const char *p) {
  uint64_t w;
  memcpy(&w, p, sizeof w);
  return w;
}

/* Each word is multiplied on its own (the products overlap in the pipeline); the chain from
 * word to word is only a rotation and an addition, and the rotation keeps the words' order
 * in the sum. The last step spreads high bits into the low ones the table indexes by. */
uint64_t bp__seq_hash(const char *s, size_t len) {
  uint64_t h = (uint64_t)len * IDX_K2;
  if (len >= 8) { /* whole words, the last one overlapping the one before when len % 8 */
    size_t i = 0;
    for (; i + 8 < len; i += 8) h = ((h << 23) | (h >> 41)) + idx_load64(s + i) * IDX_K1;
    h = ((h << 23) | (h >> 41)) + idx_load64(s + len - 8) * IDX_K1;
  } else {
    uint64_t w = 0;
    memcpy(&w, s, len);
    h += w * IDX_K1;
  }
  h ^= h >> 32;
  h *= IDX_K2;
  return h ^ (h >> 32);
}

/* The record's sequence number, read at its stride (host arrays of any bp_record size). */
static void idx_seq_at(const bp__seq_index *x, size_t i, const char **s, size_t *len) {
  const char *r = x->base + i * x->stride;
  memcpy(s, r + offsetof(bp_record, seq), sizeof *s);
  memcpy(len, r + offsetof(bp_record, seq_len), sizeof *len);
}

void bp__seq_index_set(bp__seq_index *x, const bp_record *batch, size_t stride, size_t n) {
  x->base = (const char *)batch;
  x->stride = stride;
  x->n = n;
  x->ready = 0;
}

/* The bytes every sequence number of the batch shares: in a batch in ascending order whose
 * first and last numbers have the same length, every number has that length and starts with
 * their common prefix. Hashing only what follows it tells the numbers apart as well as
 * hashing all of them, for a fraction of the work (Kinesis numbers of one batch share their
 * first digits). Batches of mixed lengths hash whole numbers (x->prefix 0). */
static void idx_prefix(bp__seq_index *x) {
  x->prefix = 0;
  x->width = 0;
  if (x->n < 2) return;
  const char *f, *l;
  size_t flen, llen, k = 0;
  idx_seq_at(x, 0, &f, &flen);
  idx_seq_at(x, x->n - 1, &l, &llen);
  if (flen != llen) return;
  while (k < flen && f[k] == l[k]) k++;
  x->first = f;
  x->width = flen;
  x->prefix = k;
}

int bp__seq_index_build(bp__seq_index *x, const bp_allocator *a) {
  if (x->ready) return 0;
  if (x->n >= UINT32_MAX) return BP_ERR_NOMEM; /* positions are 32-bit; no real batch comes near */
  size_t cap = 16;
  while (cap < x->n + x->n / 2) cap *= 2; /* load <= 2/3 */
  if (cap > x->cap) {
    uint64_t *t = bp__realloc(a, x->slots, cap * sizeof *t);
    if (!t) return BP_ERR_NOMEM;
    x->slots = t;
    x->cap = cap;
  }
  memset(x->slots, 0, cap * sizeof *x->slots);
  x->mask = cap - 1;
  idx_prefix(x);
  const size_t skip = x->prefix;
  for (size_t i = 0; i < x->n; i++) {
    const char *s;
    size_t len;
    idx_seq_at(x, i, &s, &len);
    uint64_t h = bp__seq_hash(s + skip, len - skip);
    size_t j = (size_t)h & x->mask;
    while (x->slots[j]) j = (j + 1) & x->mask;
    x->slots[j] = (h & UINT64_C(0xFFFFFFFF00000000)) | (uint64_t)(i + 1);
  }
  x->ready = 1;
  return 0;
}

int bp__seq_index_find(const bp__seq_index *x, const char *s, size_t len, size_t *pos) {
  const size_t skip = x->prefix;
  if (x->width && (len != x->width || memcmp(s, x->first, skip) != 0)) return 0;
  uint64_t h = bp__seq_hash(s + skip, len - skip), tag = h & UINT64_C(0xFFFFFFFF00000000), v;
  for (size_t j = (size_t)h & x->mask; (v = x->slots[j]) != 0; j = (j + 1) & x->mask) {
    if ((v & UINT64_C(0xFFFFFFFF00000000)) != tag) continue;
    size_t i = (size_t)(v & 0xFFFFFFFFu) - 1;
    const char *t;
    size_t tlen;
    idx_seq_at(x, i, &t, &tlen);
    if (tlen == len && memcmp(t + skip, s + skip, len - skip) == 0) {
      *pos = i;
      return 1;
    }
  }
  return 0;
}

void bp__seq_index_free(bp__seq_index *x, const bp_allocator *a) {
  bp__free(a, x->slots);
  memset(x, 0, sizeof *x);
}
