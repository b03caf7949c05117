/* SPDX-License-Identifier: MIT */
/*
 * Batch builder: accounting for one lane's batch (count, exact event bytes, window opening
 * time, tumbling key). Holds no records, allocates only the object itself, and never
 * overflows: the event size is kept exactly, and an addition that could not be represented
 * is refused before it is made.
 */
#include <string.h>

#include "batchpoint/bp_batch.h"
#include "batchpoint/bp_config.h"
#include "batchpoint/bp_time.h"
#include "bp_int.h"

struct bp_batch {
  uint32_t batch_size;
  uint32_t window_seconds;
  size_t max_bytes;  /* effective limit, inclusive */
  size_t overhead;   /* event bytes with no records */
  size_t count;      /* records in the current batch */
  size_t event;      /* exact event size of the current batch (overhead when empty) */
  int64_t opened_at; /* now of the first record; -1 when empty */
  int64_t key;       /* tumbling key of the batch's records; 0 when empty */
  int sealed;        /* 0, or BP_BATCH_READY_BYTES / _KEY / _FORCED: no record is accepted */
  int caller_mem;    /* made by bp_batch_init_in(): del frees nothing */
  bp_allocator alloc;
  bp__errmsg err;
};

#define BATCH_OPTS_SIZE_V1 BP__SIZE_V1(bp_batch_opts, event_overhead)

int bp_batch_opts_init(bp_batch_opts *o, size_t size) {
  int rc = bp__struct_init(o, size, BATCH_OPTS_SIZE_V1);
  if (rc) return rc;
  return 0;
}

/* Read the host's options into @p o (through their struct_size) and check them. */
static int opts_read(const bp_batch_opts *in, bp_batch_opts *o) {
  if (!in || bp__struct_in(o, sizeof *o, BATCH_OPTS_SIZE_V1, in, "bp_batch_opts", NULL, 0))
    return 0;
  return o->batch_size >= 1 && o->batch_size <= BP_CONFIG_MAX_BATCH_SIZE &&
         o->window_seconds >= 0 && o->window_seconds <= BP_CONFIG_MAX_BATCHING_WINDOW_IN_SECONDS;
}

static void clear_batch(bp_batch *b) {
  b->count = 0;
  b->event = b->overhead;
  b->opened_at = -1;
  b->key = 0;
  b->sealed = 0;
}

static void setup(bp_batch *b, const bp_batch_opts *o) {
  b->batch_size = o->batch_size;
  b->window_seconds = o->window_seconds;
  b->max_bytes = o->max_event_bytes ? o->max_event_bytes : BP_MAX_EVENT_BYTES;
  b->overhead = o->event_overhead;
  bp__errmsg_clear(&b->err);
  clear_batch(b);
}

int bp_batch_new(bp_batch **out, const bp_batch_opts *opts, const bp_allocator *alloc) {
  bp_batch_opts o;
  if (out) *out = NULL;
  if (!out || !opts_read(opts, &o)) return BP_ERR_INVALID_ARGUMENT;
  bp_allocator a;
  if (bp__alloc_copy(&a, alloc)) return BP_ERR_INVALID_ARGUMENT;
  bp_batch *b = bp__calloc(&a, 1, sizeof *b);
  if (!b) return BP_ERR_NOMEM;
  b->alloc = a;
  b->caller_mem = 0;
  setup(b, &o);
  *out = b;
  return 0;
}

size_t bp_batch_mem_size(const bp_batch_opts *opts) {
  (void)opts;
  return sizeof(struct bp_batch);
}

int bp_batch_init_in(void *mem, size_t len, const bp_batch_opts *opts, bp_batch **out) {
  bp_batch_opts o;
  if (out) *out = NULL;
  if (!out || !opts_read(opts, &o)) return BP_ERR_INVALID_ARGUMENT;
  int rc = bp__caller_mem_check(mem, len, sizeof(struct bp_batch));
  if (rc) return rc;
  bp_batch *b = mem;
  memset(b, 0, sizeof *b);
  b->caller_mem = 1;
  setup(b, &o);
  *out = b;
  return 0;
}

void bp_batch_del(bp_batch *b) {
  if (!b || b->caller_mem) return;
  bp_allocator a = b->alloc;
  bp__free(&a, b);
}

const char *bp_batch_errmsg(const bp_batch *b) { return b ? b->err.text : ""; }

static int batch_time_ok(int64_t now_ms) { return now_ms >= 0 && now_ms <= BP_TIME_MAX_MS; }

/* No record of >= 1 byte (plus its comma) fits any more, or one record alone is too big. */
static int bytes_full(const bp_batch *b) {
  return b->event >= b->max_bytes || b->max_bytes - b->event < 2;
}

int bp_batch_offer(bp_batch *b, size_t record_bytes, int64_t window_key, int64_t now_ms) {
  if (!b) return BP_ERR_INVALID_ARGUMENT;
  bp__errmsg_clear(&b->err);
  if (!record_bytes)
    return bp__error(&b->err, BP_ERR_INVALID_ARGUMENT, "record_bytes is 0 (an encoded record "
                                                       "is at least 1 byte)");
  if (!batch_time_ok(now_ms))
    return bp__error(&b->err, BP_ERR_RANGE, "now_ms %lld outside 0..%lld", (long long)now_ms,
                     (long long)BP_TIME_MAX_MS);
  if (b->count == 0) {
    if (record_bytes > SIZE_MAX - b->overhead)
      return bp__error(&b->err, BP_ERR_TOO_LARGE,
                       "event_overhead %zu + record_bytes %zu does not fit in a size_t",
                       b->overhead, record_bytes);
    b->count = 1;
    b->event = b->overhead + record_bytes;
    b->opened_at = now_ms;
    b->key = window_key;
    return BP_BATCH_ACCEPTED;
  }
  if (b->sealed || b->count >= b->batch_size) return BP_BATCH_FULL;
  if (window_key != b->key) {
    b->sealed = BP_BATCH_READY_KEY;
    return BP_BATCH_FULL;
  }
  /* event + 1 (comma) + record_bytes <= max, without overflow (event < max here). */
  if (bytes_full(b) || record_bytes > b->max_bytes - b->event - 1) {
    b->sealed = BP_BATCH_READY_BYTES;
    return BP_BATCH_FULL;
  }
  b->count++;
  b->event += 1 + record_bytes;
  return BP_BATCH_ACCEPTED;
}

/* The reason that holds whatever the time, or 0. */
static int timeless_reason(const bp_batch *b) {
  if (b->count >= b->batch_size) return BP_BATCH_READY_COUNT;
  if (b->sealed == BP_BATCH_READY_BYTES || bytes_full(b)) return BP_BATCH_READY_BYTES;
  if (b->sealed) return b->sealed; /* KEY or FORCED */
  if (b->window_seconds == 0) return BP_BATCH_READY_WINDOW;
  return 0;
}

/* opened_at <= BP_TIME_MAX_MS and the window is <= 300 s: no overflow. */
static int64_t window_end(const bp_batch *b) {
  return b->opened_at + (int64_t)b->window_seconds * 1000;
}

int bp_batch_ready(const bp_batch *b, int64_t now_ms) {
  if (!b) return BP_ERR_INVALID_ARGUMENT;
  if (!batch_time_ok(now_ms)) return BP_ERR_RANGE;
  if (b->count == 0) return BP_BATCH_NOT_READY;
  int r = timeless_reason(b);
  if (r) return r;
  return now_ms >= window_end(b) ? BP_BATCH_READY_WINDOW : BP_BATCH_NOT_READY;
}

int64_t bp_batch_deadline(const bp_batch *b) {
  if (!b || b->count == 0) return BP_NO_DEADLINE;
  return timeless_reason(b) ? b->opened_at : window_end(b);
}

int bp_batch_force(bp_batch *b) {
  if (!b) return BP_ERR_INVALID_ARGUMENT;
  bp__errmsg_clear(&b->err);
  if (b->count && !b->sealed) b->sealed = BP_BATCH_READY_FORCED;
  return 0;
}

int bp_batch_take(bp_batch *b, size_t *count, size_t *event_bytes) {
  if (!b) return BP_ERR_INVALID_ARGUMENT;
  bp__errmsg_clear(&b->err);
  if (b->count == 0) return bp__error(&b->err, BP_ERR_INVALID_STATE, "the batch is empty");
  if (count) *count = b->count;
  if (event_bytes) *event_bytes = b->event;
  clear_batch(b);
  return 0;
}

int bp_batch_reset(bp_batch *b) {
  if (!b) return BP_ERR_INVALID_ARGUMENT;
  bp__errmsg_clear(&b->err);
  clear_batch(b);
  return 0;
}

int bp_batch_set_event_overhead(bp_batch *b, size_t event_overhead) {
  if (!b) return BP_ERR_INVALID_ARGUMENT;
  bp__errmsg_clear(&b->err);
  if (b->count)
    return bp__error(&b->err, BP_ERR_INVALID_STATE,
                     "the batch holds %zu records: take or reset it before changing the "
                     "event overhead", b->count);
  b->overhead = event_overhead;
  b->event = event_overhead;
  return 0;
}

int bp_batch_shift(bp_batch *b, int64_t delta_ms) {
  if (!b) return BP_ERR_INVALID_ARGUMENT;
  bp__errmsg_clear(&b->err);
  if (b->count == 0) return 0;
  /* opened_at is in 0 .. BP_TIME_MAX_MS: neither bound below overflows. */
  if (delta_ms < -b->opened_at) b->opened_at = 0;
  else if (delta_ms > BP_TIME_MAX_MS - b->opened_at) b->opened_at = BP_TIME_MAX_MS;
  else b->opened_at += delta_ms;
  return 0;
}

size_t bp_batch_count(const bp_batch *b) { return b ? b->count : 0; }
size_t bp_batch_event_bytes(const bp_batch *b) { return b ? b->event : 0; }
size_t bp_batch_event_overhead(const bp_batch *b) { return b ? b->overhead : 0; }
size_t bp_batch_max_event_bytes(const bp_batch *b) { return b ? b->max_bytes : 0; }
int64_t bp_batch_opened_at(const bp_batch *b) { return b ? b->opened_at : -1; }
int64_t bp_batch_window_key(const bp_batch *b) { return b ? b->key : 0; }
