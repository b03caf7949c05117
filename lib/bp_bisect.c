/* SPDX-License-Identifier: MIT */
/* Bisect splitter (SEMANTICS.md §4): current (sub-)batch + a fixed stack of waiting halves. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "batchpoint/bp_bisect.h"
#include "bp_int.h"

/* One range of lane positions with its counters. Waiting halves always carry 0/0. */
typedef struct bisect_entry {
  uint64_t first;
  size_t count;
  uint32_t attempts;
  uint32_t invocations;
} bisect_entry;

struct bp_bisect {
  bp_allocator alloc;
  int owned;           /* 1: allocated by bp_bisect_new(), freed by bp_bisect_del() */
  int active;          /* 1: cur is valid */
  bisect_entry cur;    /* the batch to invoke next */
  uint64_t orig_first; /* the batch given to bp_bisect_start() */
  size_t orig_count;
  uint32_t splits;
  size_t npending;     /* pending[npending - 1] is the next to become current */
  bisect_entry pending[BP_BISECT_MAX_DEPTH];
  bp__errmsg err;
};

static void bisect_clear(bp_bisect *b) {
  b->active = 0;
  memset(&b->cur, 0, sizeof b->cur);
  b->orig_first = 0;
  b->orig_count = 0;
  b->splits = 0;
  b->npending = 0;
  bp__errmsg_clear(&b->err);
}

int bp_bisect_new(bp_bisect **out, const bp_allocator *alloc) {
  if (out) *out = NULL;
  if (!out) return BP_ERR_INVALID_ARGUMENT;
  bp_allocator a;
  if (bp__alloc_copy(&a, alloc)) return BP_ERR_INVALID_ARGUMENT;
  bp_bisect *b = bp__calloc(&a, 1, sizeof *b);
  if (!b) return BP_ERR_NOMEM;
  b->alloc = a;
  b->owned = 1;
  bisect_clear(b);
  *out = b;
  return 0;
}

size_t bp_bisect_mem_size(void) { return sizeof(bp_bisect); }

int bp_bisect_init_in(void *mem, size_t len, bp_bisect **out) {
  if (out) *out = NULL;
  if (!out) return BP_ERR_INVALID_ARGUMENT;
  int rc = bp__caller_mem_check(mem, len, sizeof(bp_bisect));
  if (rc) return rc;
  bp_bisect *b = mem;
  memset(b, 0, sizeof *b);
  b->owned = 0;
  bisect_clear(b);
  *out = b;
  return 0;
}

void bp_bisect_del(bp_bisect *b) {
  if (!b || !b->owned) return;
  bp_allocator a = b->alloc;
  bp__free(&a, b);
}

const char *bp_bisect_errmsg(const bp_bisect *b) { return b ? b->err.text : ""; }

/* Every mutating call starts by clearing the message; an idle splitter refuses work. */
static int need_active(bp_bisect *b, const char *what) {
  bp__errmsg_clear(&b->err);
  if (!b->active)
    return bp__error(&b->err, BP_ERR_INVALID_STATE, "%s: no batch is being worked on "
                     "(call bp_bisect_start first)", what);
  return 0;
}

int bp_bisect_start(bp_bisect *b, uint64_t first, size_t count) {
  if (!b) return BP_ERR_INVALID_ARGUMENT;
  bp__errmsg_clear(&b->err);
  if (b->active)
    return bp__error(&b->err, BP_ERR_INVALID_STATE,
                     "bp_bisect_start: a batch is still being worked on "
                     "(resolve it or call bp_bisect_reset)");
  if (count == 0)
    return bp__error(&b->err, BP_ERR_INVALID_ARGUMENT, "bp_bisect_start: count is 0");
  if (count > BP_BISECT_MAX_RECORDS)
    return bp__error(&b->err, BP_ERR_TOO_LARGE,
                     "bp_bisect_start: count %zu exceeds the maximum batch of %u records",
                     count, BP_BISECT_MAX_RECORDS);
  if (first > UINT64_MAX - (uint64_t)count)
    return bp__error(&b->err, BP_ERR_RANGE,
                     "bp_bisect_start: first + count exceeds UINT64_MAX");
  b->active = 1;
  b->cur.first = first;
  b->cur.count = count;
  b->cur.attempts = 0;
  b->cur.invocations = 0;
  b->orig_first = first;
  b->orig_count = count;
  b->splits = 0;
  b->npending = 0;
  return 0;
}

int bp_bisect_reset(bp_bisect *b) {
  if (!b) return BP_ERR_INVALID_ARGUMENT;
  bisect_clear(b);
  return 0;
}

int bp_bisect_active(const bp_bisect *b) { return b ? b->active : 0; }

int bp_bisect_current(const bp_bisect *b, uint64_t *first, size_t *count, uint32_t *attempts,
                      uint32_t *invocations) {
  if (!b) return BP_ERR_INVALID_ARGUMENT;
  if (!b->active) return BP_ERR_INVALID_STATE;
  if (first) *first = b->cur.first;
  if (count) *count = b->cur.count;
  if (attempts) *attempts = b->cur.attempts;
  if (invocations) *invocations = b->cur.invocations;
  return 0;
}

int bp_bisect_set_counters(bp_bisect *b, uint32_t attempts, uint32_t invocations) {
  if (!b) return BP_ERR_INVALID_ARGUMENT;
  int rc = need_active(b, "bp_bisect_set_counters");
  if (rc) return rc;
  b->cur.attempts = attempts;
  b->cur.invocations = invocations;
  return 0;
}

int bp_bisect_split(bp_bisect *b) {
  if (!b) return BP_ERR_INVALID_ARGUMENT;
  int rc = need_active(b, "bp_bisect_split");
  if (rc) return rc;
  if (b->cur.count < 2)
    return bp__error(&b->err, BP_ERR_INVALID_STATE,
                     "bp_bisect_split: a batch of one record cannot be split");
  if (b->npending >= BP_BISECT_MAX_DEPTH) /* unreachable for counts <= 10,000 */
    return bp__error(&b->err, BP_ERR_INTERNAL, "bp_bisect_split: no free waiting slot");
  size_t head = b->cur.count / 2; /* older half: floor(n/2) */
  bisect_entry later = {b->cur.first + head, b->cur.count - head, 0, 0};
  b->pending[b->npending++] = later;
  b->cur.count = head;
  b->cur.attempts = 0;
  b->cur.invocations = 0;
  if (b->splits < UINT32_MAX) b->splits++;
  return 0;
}

int bp_bisect_trim_front(bp_bisect *b, size_t k) {
  if (!b) return BP_ERR_INVALID_ARGUMENT;
  int rc = need_active(b, "bp_bisect_trim_front");
  if (rc) return rc;
  if (k == 0 || k >= b->cur.count)
    return bp__error(&b->err, BP_ERR_INVALID_ARGUMENT,
                     "bp_bisect_trim_front: %zu records cannot be cut from a batch of %zu "
                     "(1 .. count - 1; use bp_bisect_resolve_current for all)",
                     k, b->cur.count);
  b->cur.first += k;
  b->cur.count -= k;
  return 0;
}

int bp_bisect_resolve_current(bp_bisect *b) {
  if (!b) return BP_ERR_INVALID_ARGUMENT;
  int rc = need_active(b, "bp_bisect_resolve_current");
  if (rc) return rc;
  if (b->npending == 0) {
    b->active = 0;
    memset(&b->cur, 0, sizeof b->cur);
    return BP_BISECT_DONE;
  }
  b->cur = b->pending[--b->npending];
  return BP_BISECT_MORE;
}

size_t bp_bisect_pending(const bp_bisect *b) { return b && b->active ? b->npending : 0; }

int bp_bisect_pending_at(const bp_bisect *b, size_t i, uint64_t *first, size_t *count) {
  if (!b || !b->active || i >= b->npending) return BP_ERR_INVALID_ARGUMENT;
  const bisect_entry *e = &b->pending[b->npending - 1 - i];
  if (first) *first = e->first;
  if (count) *count = e->count;
  return 0;
}

int bp_bisect_original(const bp_bisect *b, uint64_t *first, size_t *count) {
  if (!b) return BP_ERR_INVALID_ARGUMENT;
  if (!b->active) return BP_ERR_INVALID_STATE;
  if (first) *first = b->orig_first;
  if (count) *count = b->orig_count;
  return 0;
}

uint32_t bp_bisect_splits(const bp_bisect *b) { return b ? b->splits : 0; }
