/* SPDX-License-Identifier: MIT */
/*
 * Checkpoint tracker: a ring bitmap over the window [low, next) of positions that are
 * tracked but not yet passed by the checkpoint. A set bit means "finished"; every bit
 * outside the window is 0. The window's first position `low` sits at ring bit `head`;
 * position p sits at bit head + (p - low), wrapped once at nbits. The checkpoint is low - 1
 * once anything has been passed (`passed`). Advancing clears the run of set bits at head a
 * word at a time, so each position is visited O(1) times over its life.
 */
#include <inttypes.h>
#include <string.h>

#include "batchpoint/bp_checkpoint.h"
#include "bp_int.h"

#define WORD_BITS 64u

struct bp_checkpoint {
  bp_allocator alloc;
  int owned;       /* 1: one block from alloc, freed by _del; 0: caller memory */
  int passed;      /* a position has been passed since creation / reset */
  uint64_t base;   /* first position tracked since creation / reset */
  uint64_t low;    /* first position not passed (checkpoint + 1 once passed) */
  uint64_t next;   /* next position to track */
  size_t capacity; /* most positions in [low, next) */
  size_t nbits;    /* ring size: words * 64 >= capacity */
  size_t head;     /* ring bit of position low */
  bp__errmsg err;
  uint64_t ring[]; /* nbits / 64 words */
};

static unsigned ctz64(uint64_t x) { /* x != 0 */
#if defined(__GNUC__) || defined(__clang__)
  return (unsigned)__builtin_ctzll(x);
#else
  unsigned n = 0;
  while (!(x & 1)) {
    x >>= 1;
    n++;
  }
  return n;
#endif
}

/* Bits [b, b + k) of a word, 0 < k, b + k <= 64. */
static uint64_t mask_of(size_t b, size_t k) {
  return (k >= WORD_BITS ? ~UINT64_C(0) : ((UINT64_C(1) << k) - 1)) << b;
}

#define CKPT_OPTS_SIZE_V1 BP__SIZE_V1(bp_checkpoint_opts, capacity)

int bp_checkpoint_opts_init(bp_checkpoint_opts *o, size_t size) {
  int rc = bp__struct_init(o, size, CKPT_OPTS_SIZE_V1);
  if (rc) return rc;
  return 0;
}

/* Read the host's options into @p o (through their struct_size) and check them. */
static int valid_opts(const bp_checkpoint_opts *in, bp_checkpoint_opts *o) {
  if (!in || bp__struct_in(o, sizeof *o, CKPT_OPTS_SIZE_V1, in, "bp_checkpoint_opts", NULL, 0))
    return 0;
  return o->capacity >= 1 && o->capacity <= BP_CHECKPOINT_MAX_CAPACITY;
}

static size_t words_for(size_t capacity) { return (capacity + WORD_BITS - 1) / WORD_BITS; }

static size_t mem_size(const bp_checkpoint_opts *o) {
  return sizeof(bp_checkpoint) + words_for(o->capacity) * sizeof(uint64_t);
}

size_t bp_checkpoint_mem_size(const bp_checkpoint_opts *opts) {
  bp_checkpoint_opts o;
  return valid_opts(opts, &o) ? mem_size(&o) : 0;
}

static void clear_state(bp_checkpoint *t, uint64_t base) {
  t->passed = 0;
  t->base = base;
  t->low = base;
  t->next = base;
  t->head = 0;
  memset(t->ring, 0, t->nbits / WORD_BITS * sizeof(uint64_t));
  bp__errmsg_clear(&t->err);
}

static void ckpt_setup(bp_checkpoint *t, const bp_checkpoint_opts *opts) {
  t->capacity = opts->capacity;
  t->nbits = words_for(opts->capacity) * WORD_BITS;
  clear_state(t, opts->base);
}

int bp_checkpoint_new(bp_checkpoint **out, const bp_checkpoint_opts *opts,
                      const bp_allocator *alloc) {
  bp_checkpoint_opts o;
  if (out) *out = NULL;
  if (!out || !valid_opts(opts, &o)) return BP_ERR_INVALID_ARGUMENT;
  bp_allocator a;
  if (bp__alloc_copy(&a, alloc)) return BP_ERR_INVALID_ARGUMENT;
  bp_checkpoint *t = bp__malloc(&a, mem_size(&o));
  if (!t) return BP_ERR_NOMEM;
  t->alloc = a;
  t->owned = 1;
  ckpt_setup(t, &o);
  *out = t;
  return 0;
}

int bp_checkpoint_init_in(void *mem, size_t len, const bp_checkpoint_opts *opts,
                          bp_checkpoint **out) {
  bp_checkpoint_opts o;
  if (out) *out = NULL;
  if (!out || !valid_opts(opts, &o)) return BP_ERR_INVALID_ARGUMENT;
  int rc = bp__caller_mem_check(mem, len, mem_size(&o));
  if (rc) return rc;
  bp_checkpoint *t = mem;
  memset(&t->alloc, 0, sizeof t->alloc);
  t->owned = 0;
  ckpt_setup(t, &o);
  *out = t;
  return 0;
}

void bp_checkpoint_del(bp_checkpoint *t) {
  if (!t || !t->owned) return;
  bp_allocator a = t->alloc;
  bp__free(&a, t);
}

const char *bp_checkpoint_errmsg(const bp_checkpoint *t) { return t ? t->err.text : ""; }

int bp_checkpoint_reset(bp_checkpoint *t, uint64_t base) {
  if (!t) return BP_ERR_INVALID_ARGUMENT;
  clear_state(t, base);
  return 0;
}

/* ---- ring helpers ---- */

/* Ring bit of a position in [low, next). */
static size_t bit_of(const bp_checkpoint *t, uint64_t p) {
  size_t i = t->head + (size_t)(p - t->low); /* p - low < capacity <= nbits */
  return i >= t->nbits ? i - t->nbits : i;
}

/* Any bit set in ring bits [i, i + n), no wrap (i + n <= nbits). */
static int span_any(const uint64_t *ring, size_t i, size_t n) {
  while (n) {
    size_t b = i % WORD_BITS, k = WORD_BITS - b;
    if (k > n) k = n;
    if (ring[i / WORD_BITS] & mask_of(b, k)) return 1;
    i += k;
    n -= k;
  }
  return 0;
}

static void span_set(uint64_t *ring, size_t i, size_t n) {
  while (n) {
    size_t b = i % WORD_BITS, k = WORD_BITS - b;
    if (k > n) k = n;
    ring[i / WORD_BITS] |= mask_of(b, k);
    i += k;
    n -= k;
  }
}

/* Ring bits of positions [first, first + n) as one or two unwrapped spans. */
static void spans_of(const bp_checkpoint *t, uint64_t first, size_t n, size_t *i0, size_t *n0,
                     size_t *n1) {
  *i0 = bit_of(t, first);
  *n0 = t->nbits - *i0 < n ? t->nbits - *i0 : n;
  *n1 = n - *n0; /* continues at ring bit 0 */
}

/* Move low over the run of finished positions at head. @return positions passed. */
static uint64_t advance(bp_checkpoint *t) {
  uint64_t moved = 0, remaining = t->next - t->low;
  while (remaining) {
    size_t b = t->head % WORD_BITS;
    uint64_t *w = &t->ring[t->head / WORD_BITS];
    uint64_t inv = ~(*w >> b); /* the top b bits of inv are 1, so ctz <= 64 - b */
    size_t avail = WORD_BITS - b;
    if (avail > remaining) avail = (size_t)remaining;
    size_t ones = inv ? ctz64(inv) : WORD_BITS;
    if (ones > avail) ones = avail;
    if (!ones) break;
    *w &= ~mask_of(b, ones);
    t->head += ones;
    if (t->head == t->nbits) t->head = 0;
    t->low += ones;
    remaining -= ones;
    moved += ones;
    if (ones < avail) break;
  }
  if (moved) t->passed = 1;
  return moved;
}

static int moved_result(bp_checkpoint *t, uint64_t *checkpoint) {
  if (!advance(t)) return 0;
  if (checkpoint) *checkpoint = t->low - 1;
  return 1;
}

/* Message for a position outside [low, next). */
static int refuse_position(bp_checkpoint *t, uint64_t p) {
  if (p < t->base)
    return bp__error(&t->err, BP_ERR_INVALID_ARGUMENT,
                     "position %" PRIu64 " is before the base %" PRIu64, p, t->base);
  if (p < t->low)
    return bp__error(&t->err, BP_ERR_INVALID_ARGUMENT,
                     "position %" PRIu64 " is already passed by the checkpoint %" PRIu64, p,
                     t->low - 1);
  return bp__error(&t->err, BP_ERR_INVALID_ARGUMENT,
                   "position %" PRIu64 " is not tracked (next position %" PRIu64 ")", p, t->next);
}

/* ---- tracking and finishing ---- */

int bp_checkpoint_track(bp_checkpoint *t, uint64_t first, uint64_t count) {
  if (!t) return BP_ERR_INVALID_ARGUMENT;
  bp__errmsg_clear(&t->err);
  if (!count) return bp__error(&t->err, BP_ERR_INVALID_ARGUMENT, "count is 0");
  if (first != t->next)
    return bp__error(&t->err, BP_ERR_INVALID_ARGUMENT,
                     "track at %" PRIu64 " is not contiguous: the next position is %" PRIu64,
                     first, t->next);
  if (count > UINT64_MAX - first)
    return bp__error(&t->err, BP_ERR_INVALID_ARGUMENT,
                     "positions %" PRIu64 " + %" PRIu64 " overflow uint64", first, count);
  uint64_t outstanding = t->next - t->low;
  if (count > t->capacity - outstanding)
    return bp__error(&t->err, BP_ERR_TOO_LARGE,
                     "%" PRIu64 " more positions exceed the capacity %zu (%" PRIu64
                     " outstanding)",
                     count, t->capacity, outstanding);
  t->next += count; /* the new bits are already 0 */
  return 0;
}

int bp_checkpoint_finish(bp_checkpoint *t, uint64_t first, uint64_t count,
                         uint64_t *checkpoint) {
  if (!t) return BP_ERR_INVALID_ARGUMENT;
  bp__errmsg_clear(&t->err);
  if (!count) return bp__error(&t->err, BP_ERR_INVALID_ARGUMENT, "count is 0");
  if (count > UINT64_MAX - first)
    return bp__error(&t->err, BP_ERR_INVALID_ARGUMENT,
                     "positions %" PRIu64 " + %" PRIu64 " overflow uint64", first, count);
  if (first < t->low) return refuse_position(t, first);
  if (first + count > t->next) return refuse_position(t, first >= t->next ? first : t->next);
  size_t n = (size_t)count; /* <= next - low <= capacity */
  size_t i0, n0, n1;
  spans_of(t, first, n, &i0, &n0, &n1);
  if (span_any(t->ring, i0, n0) || span_any(t->ring, 0, n1)) {
    uint64_t p = first;
    while (!(t->ring[bit_of(t, p) / WORD_BITS] >> (bit_of(t, p) % WORD_BITS) & 1)) p++;
    return bp__error(&t->err, BP_ERR_INVALID_ARGUMENT, "position %" PRIu64 " is already finished",
                     p);
  }
  span_set(t->ring, i0, n0);
  span_set(t->ring, 0, n1);
  return moved_result(t, checkpoint);
}

int bp_checkpoint_finish_list(bp_checkpoint *t, const uint64_t *positions, size_t n,
                              uint64_t *checkpoint) {
  if (!t) return BP_ERR_INVALID_ARGUMENT;
  bp__errmsg_clear(&t->err);
  if (!positions) return bp__error(&t->err, BP_ERR_INVALID_ARGUMENT, "positions is NULL");
  if (!n) return bp__error(&t->err, BP_ERR_INVALID_ARGUMENT, "n is 0");
  if (!bp__array_ok(positions, n, sizeof *positions))
    return bp__error(&t->err, BP_ERR_INVALID_ARGUMENT, "n %zu is larger than any array", n);
  for (size_t k = 0; k < n; k++)
    if (positions[k] < t->low || positions[k] >= t->next) return refuse_position(t, positions[k]);
  /* Set the bits one by one; on a bit already set (finished before, or listed twice) clear
   * the ones this call set, which were all clear before it. */
  for (size_t k = 0; k < n; k++) {
    size_t i = bit_of(t, positions[k]);
    uint64_t m = UINT64_C(1) << (i % WORD_BITS);
    if (t->ring[i / WORD_BITS] & m) {
      for (size_t j = 0; j < k; j++) {
        size_t u = bit_of(t, positions[j]);
        t->ring[u / WORD_BITS] &= ~(UINT64_C(1) << (u % WORD_BITS));
      }
      for (size_t j = 0; j < k; j++)
        if (positions[j] == positions[k])
          return bp__error(&t->err, BP_ERR_INVALID_ARGUMENT,
                           "position %" PRIu64 " is listed twice", positions[k]);
      return bp__error(&t->err, BP_ERR_INVALID_ARGUMENT, "position %" PRIu64 " is already finished",
                       positions[k]);
    }
    t->ring[i / WORD_BITS] |= m;
  }
  return moved_result(t, checkpoint);
}

/* ---- queries ---- */

int bp_checkpoint_get(const bp_checkpoint *t, uint64_t *position) {
  if (!t) return BP_ERR_INVALID_ARGUMENT;
  if (!t->passed) return 0;
  if (position) *position = t->low - 1;
  return 1;
}

int bp_checkpoint_is_finished(const bp_checkpoint *t, uint64_t position) {
  if (!t || position < t->base || position >= t->next) return BP_ERR_INVALID_ARGUMENT;
  if (position < t->low) return 1;
  size_t i = bit_of(t, position);
  return (int)(t->ring[i / WORD_BITS] >> (i % WORD_BITS) & 1);
}

uint64_t bp_checkpoint_next(const bp_checkpoint *t) { return t ? t->next : 0; }

uint64_t bp_checkpoint_outstanding(const bp_checkpoint *t) { return t ? t->next - t->low : 0; }

size_t bp_checkpoint_capacity(const bp_checkpoint *t) { return t ? t->capacity : 0; }
