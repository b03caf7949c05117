/* SPDX-License-Identifier: MIT */
/* Batch builder: every cut reason, exact byte accounting at the 6 MB boundary, window timing,
 * tumbling keys, caller memory, allocators, and a randomized run against a reference model. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "batchpoint.h"
#include "test_alloc.h"

#define MB6 ((size_t)6291456)
#define OVERHEAD 14 /* `{"Records":[]}` */

static bp_batch_opts mkopts(uint32_t batch_size, uint32_t window_seconds, size_t max_bytes,
                            size_t overhead) {
  bp_batch_opts o;
  bp_batch_opts_init(&o, sizeof o);
  o.batch_size = batch_size;
  o.window_seconds = window_seconds;
  o.max_event_bytes = max_bytes;
  o.event_overhead = overhead;
  return o;
}

static bp_batch *mk(uint32_t batch_size, uint32_t window_seconds, size_t max_bytes,
                    size_t overhead) {
  bp_batch_opts o = mkopts(batch_size, window_seconds, max_bytes, overhead);
  bp_batch *b = NULL;
  assert_int_equal(bp_batch_new(&b, &o, NULL), 0);
  assert_non_null(b);
  return b;
}

static void take(bp_batch *b, size_t want_count, size_t want_bytes) {
  size_t count = 0, bytes = 0;
  assert_int_equal(bp_batch_take(b, &count, &bytes), 0);
  assert_int_equal(count, want_count);
  assert_int_equal(bytes, want_bytes);
  assert_int_equal(bp_batch_count(b), 0);
  assert_int_equal(bp_batch_opened_at(b), -1);
  assert_int_equal(bp_batch_deadline(b), BP_NO_DEADLINE);
}

/* ---- options and arguments ---- */

static void test_constants(void **state) {
  (void)state;
  assert_int_equal(BP_MAX_EVENT_BYTES, MB6);
  assert_true(BP_BATCH_ACCEPTED >= 0 && BP_BATCH_FULL > 0);
  int reasons[] = {BP_BATCH_READY_COUNT, BP_BATCH_READY_BYTES, BP_BATCH_READY_KEY,
                   BP_BATCH_READY_FORCED, BP_BATCH_READY_WINDOW};
  for (size_t i = 0; i < 5; i++) {
    assert_true(reasons[i] > BP_BATCH_NOT_READY);
    for (size_t j = 0; j < i; j++) assert_int_not_equal(reasons[i], reasons[j]);
  }
}

static void *only_malloc(size_t n, void *ud) {
  (void)ud;
  return malloc(n);
}

static void test_invalid_opts(void **state) {
  (void)state;
  bp_batch *b = (bp_batch *)&b;
  bp_batch_opts o = mkopts(100, 0, 0, OVERHEAD);
  assert_int_equal(bp_batch_new(NULL, &o, NULL), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_batch_new(&b, NULL, NULL), BP_ERR_INVALID_ARGUMENT);
  assert_null(b);
  struct {
    uint32_t size, window;
    int ok;
  } cases[] = {{0, 0, 0},     {1, 0, 1},       {10000, 0, 1}, {10001, 0, 0}, {UINT32_MAX, 0, 0},
               {100, 300, 1}, {100, 301, 0},   {100, UINT32_MAX, 0}, {1, 300, 1}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    o = mkopts(cases[i].size, cases[i].window, 0, OVERHEAD);
    b = (bp_batch *)&b;
    int rc = bp_batch_new(&b, &o, NULL);
    if (cases[i].ok) {
      assert_int_equal(rc, 0);
      assert_non_null(b);
      bp_batch_del(b);
    } else {
      assert_int_equal(rc, BP_ERR_INVALID_ARGUMENT);
      assert_null(b);
    }
  }
  bp_allocator half = {only_malloc, NULL, NULL, NULL};
  o = mkopts(100, 0, 0, OVERHEAD);
  b = (bp_batch *)&b;
  assert_int_equal(bp_batch_new(&b, &o, &half), BP_ERR_INVALID_ARGUMENT);
  assert_null(b);
  /* An all-NULL allocator struct means libc. */
  bp_allocator none = {NULL, NULL, NULL, NULL};
  assert_int_equal(bp_batch_new(&b, &o, &none), 0);
  assert_int_equal(bp_batch_max_event_bytes(b), MB6); /* 0 resolved to the default */
  bp_batch_del(b);
  o.max_event_bytes = 1000;
  assert_int_equal(bp_batch_new(&b, &o, NULL), 0);
  assert_int_equal(bp_batch_max_event_bytes(b), 1000);
  assert_int_equal(bp_batch_event_overhead(b), OVERHEAD);
  assert_int_equal(bp_batch_event_bytes(b), OVERHEAD);
  bp_batch_del(b);
}

static void test_null_args(void **state) {
  (void)state;
  size_t n = 7;
  assert_int_equal(bp_batch_offer(NULL, 1, 0, 0), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_batch_ready(NULL, 0), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_batch_deadline(NULL), BP_NO_DEADLINE);
  assert_int_equal(bp_batch_force(NULL), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_batch_take(NULL, &n, &n), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(n, 7);
  assert_int_equal(bp_batch_reset(NULL), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_batch_set_event_overhead(NULL, 1), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_batch_count(NULL), 0);
  assert_int_equal(bp_batch_event_bytes(NULL), 0);
  assert_int_equal(bp_batch_event_overhead(NULL), 0);
  assert_int_equal(bp_batch_max_event_bytes(NULL), 0);
  assert_int_equal(bp_batch_opened_at(NULL), -1);
  assert_int_equal(bp_batch_window_key(NULL), 0);
  assert_string_equal(bp_batch_errmsg(NULL), "");
  bp_batch_del(NULL);
  assert_true(bp_batch_mem_size(NULL) > 0);
}

static void test_bad_values(void **state) {
  (void)state;
  bp_batch *b = mk(10, 5, 0, OVERHEAD);
  assert_int_equal(bp_batch_offer(b, 100, 0, 1000), BP_BATCH_ACCEPTED);
  assert_string_equal(bp_batch_errmsg(b), "");
  assert_int_equal(bp_batch_offer(b, 0, 0, 1000), BP_ERR_INVALID_ARGUMENT);
  assert_true(strstr(bp_batch_errmsg(b), "record_bytes") != NULL);
  assert_int_equal(bp_batch_offer(b, 10, 0, -1), BP_ERR_RANGE);
  assert_true(strstr(bp_batch_errmsg(b), "now_ms") != NULL);
  assert_int_equal(bp_batch_offer(b, 10, 0, BP_TIME_MAX_MS + 1), BP_ERR_RANGE);
  assert_int_equal(bp_batch_offer(b, 10, 0, INT64_MIN), BP_ERR_RANGE);
  assert_int_equal(bp_batch_ready(b, -1), BP_ERR_RANGE);
  assert_int_equal(bp_batch_ready(b, BP_TIME_MAX_MS + 1), BP_ERR_RANGE);
  /* nothing changed */
  assert_int_equal(bp_batch_count(b), 1);
  assert_int_equal(bp_batch_event_bytes(b), OVERHEAD + 100);
  assert_int_equal(bp_batch_ready(b, 5999), BP_BATCH_NOT_READY);
  /* the error message is forgotten by the next successful call */
  assert_int_equal(bp_batch_offer(b, 10, 0, BP_TIME_MAX_MS), BP_BATCH_ACCEPTED);
  assert_string_equal(bp_batch_errmsg(b), "");
  assert_int_equal(bp_batch_ready(b, BP_TIME_MAX_MS), BP_BATCH_READY_WINDOW);
  take(b, 2, OVERHEAD + 100 + 1 + 10);
  /* the extremes of the time range are accepted and do not overflow the window end */
  assert_int_equal(bp_batch_offer(b, 10, 0, BP_TIME_MAX_MS), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_deadline(b), BP_TIME_MAX_MS + 5000);
  assert_int_equal(bp_batch_ready(b, BP_TIME_MAX_MS), BP_BATCH_NOT_READY);
  take(b, 1, OVERHEAD + 10);
  assert_int_equal(bp_batch_offer(b, 10, 0, 0), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_opened_at(b), 0);
  assert_int_equal(bp_batch_deadline(b), 5000);
  bp_batch_del(b);
}

/* ---- Clock steps (SEMANTICS.md §8.1) ---- */

/* bp_batch_shift() moves the opening time of a non-empty batch by the step, so the window
 * keeps what is left of it; clamped to the time range; an empty batch has nothing to move. */
static void test_shift(void **state) {
  (void)state;
  bp_batch *b = mk(10, 5, 0, OVERHEAD);
  assert_int_equal(bp_batch_shift(NULL, -1), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_batch_shift(b, -1000), 0); /* empty: nothing to move */
  assert_int_equal(bp_batch_opened_at(b), -1);
  assert_int_equal(bp_batch_deadline(b), BP_NO_DEADLINE);
  /* opened at 1 h + 10,000; one hour back at 1 h + 12,000: 3,000 ms of the window are
     left, measured from the step (now 12,000) */
  int64_t hour = 3600000, now = 12000;
  assert_int_equal(bp_batch_offer(b, 10, 0, hour + 10000), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_shift(b, -hour), 0);
  assert_int_equal(bp_batch_opened_at(b), 10000);
  assert_int_equal(bp_batch_deadline(b), now + 3000);
  assert_int_equal(bp_batch_ready(b, now + 2999), BP_BATCH_NOT_READY);
  assert_int_equal(bp_batch_ready(b, now + 3000), BP_BATCH_READY_WINDOW);
  assert_int_equal(bp_batch_count(b), 1); /* nothing else changes */
  assert_int_equal(bp_batch_event_bytes(b), OVERHEAD + 10);
  /* forward, and the clamps at both ends of the time range */
  assert_int_equal(bp_batch_shift(b, 1000), 0);
  assert_int_equal(bp_batch_opened_at(b), 11000);
  assert_int_equal(bp_batch_shift(b, INT64_MIN), 0);
  assert_int_equal(bp_batch_opened_at(b), 0);
  assert_int_equal(bp_batch_shift(b, INT64_MAX), 0);
  assert_int_equal(bp_batch_opened_at(b), BP_TIME_MAX_MS);
  assert_int_equal(bp_batch_deadline(b), BP_TIME_MAX_MS + 5000);
  bp_batch_del(b);
}

/* ---- BatchSize ---- */

static void test_count_cut(void **state) {
  (void)state;
  bp_batch *b = mk(3, 300, 0, OVERHEAD);
  assert_int_equal(bp_batch_ready(b, 0), BP_BATCH_NOT_READY); /* empty */
  assert_int_equal(bp_batch_offer(b, 10, 0, 100), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_offer(b, 20, 0, 100), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_ready(b, 100), BP_BATCH_NOT_READY);
  assert_int_equal(bp_batch_offer(b, 30, 0, 101), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_count(b), 3);
  assert_int_equal(bp_batch_ready(b, 101), BP_BATCH_READY_COUNT);
  assert_int_equal(bp_batch_deadline(b), 100); /* due at once: opened_at */
  assert_int_equal(bp_batch_offer(b, 1, 0, 102), BP_BATCH_FULL);
  assert_int_equal(bp_batch_offer(b, 1, 0, 102), BP_BATCH_FULL);
  assert_int_equal(bp_batch_count(b), 3);
  take(b, 3, OVERHEAD + 10 + 20 + 30 + 2);
  /* the refused record opens the next batch */
  assert_int_equal(bp_batch_offer(b, 1, 0, 200), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_opened_at(b), 200);
  assert_int_equal(bp_batch_deadline(b), 200 + 300000);
  bp_batch_del(b);
}

static void test_batch_size_one(void **state) {
  (void)state;
  bp_batch *b = mk(1, 300, 0, OVERHEAD);
  for (int i = 0; i < 5; i++) {
    assert_int_equal(bp_batch_offer(b, 50 + (size_t)i, 0, i), BP_BATCH_ACCEPTED);
    assert_int_equal(bp_batch_ready(b, i), BP_BATCH_READY_COUNT);
    assert_int_equal(bp_batch_offer(b, 50, 0, i), BP_BATCH_FULL);
    take(b, 1, OVERHEAD + 50 + (size_t)i);
  }
  bp_batch_del(b);
}

static void test_batch_size_max(void **state) {
  (void)state;
  bp_batch *b = mk(10000, 10, 0, OVERHEAD);
  size_t sum = 0;
  for (size_t i = 0; i < 10000; i++) {
    size_t r = 100 + i % 400; /* 10,000 x <= 499 bytes: far below 6 MB */
    assert_int_equal(bp_batch_offer(b, r, 0, 5), BP_BATCH_ACCEPTED);
    sum += r;
    if (i < 9999) assert_int_equal(bp_batch_ready(b, 5), BP_BATCH_NOT_READY);
  }
  assert_int_equal(bp_batch_ready(b, 5), BP_BATCH_READY_COUNT);
  assert_int_equal(bp_batch_event_bytes(b), OVERHEAD + sum + 9999);
  assert_int_equal(bp_batch_offer(b, 1, 0, 5), BP_BATCH_FULL);
  take(b, 10000, OVERHEAD + sum + 9999);
  bp_batch_del(b);
}

/* ---- the 6 MB limit ---- */

static void test_bytes_exact_boundary(void **state) {
  (void)state;
  bp_batch *b = mk(100, 300, 0, OVERHEAD);
  /* two records making an event of exactly 6,291,456 bytes: allowed */
  size_t a = 3000000, c = MB6 - OVERHEAD - a - 1;
  assert_int_equal(bp_batch_offer(b, a, 0, 0), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_ready(b, 0), BP_BATCH_NOT_READY);
  assert_int_equal(bp_batch_offer(b, c, 0, 0), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_event_bytes(b), MB6);
  /* full: no further record (>= 1 byte + comma) can fit, so it is ready without waiting */
  assert_int_equal(bp_batch_ready(b, 0), BP_BATCH_READY_BYTES);
  assert_int_equal(bp_batch_deadline(b), 0);
  assert_int_equal(bp_batch_offer(b, 1, 0, 0), BP_BATCH_FULL);
  take(b, 2, MB6);

  /* one byte more: the second record is cut into the next batch */
  assert_int_equal(bp_batch_offer(b, a, 0, 0), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_offer(b, c + 1, 0, 0), BP_BATCH_FULL);
  assert_int_equal(bp_batch_ready(b, 0), BP_BATCH_READY_BYTES);
  assert_int_equal(bp_batch_offer(b, 1, 0, 0), BP_BATCH_FULL); /* refused for good */
  take(b, 1, OVERHEAD + a);
  assert_int_equal(bp_batch_offer(b, c + 1, 0, 0), BP_BATCH_ACCEPTED);
  take(b, 1, OVERHEAD + c + 1);

  /* one record whose event is exactly the limit */
  assert_int_equal(bp_batch_offer(b, MB6 - OVERHEAD, 0, 0), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_ready(b, 0), BP_BATCH_READY_BYTES);
  take(b, 1, MB6);

  /* room for exactly one more byte-sized record (comma + 1 byte) */
  assert_int_equal(bp_batch_offer(b, MB6 - OVERHEAD - 2, 0, 0), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_ready(b, 0), BP_BATCH_NOT_READY);
  assert_int_equal(bp_batch_offer(b, 2, 0, 0), BP_BATCH_FULL);
  take(b, 1, MB6 - 2);
  assert_int_equal(bp_batch_offer(b, MB6 - OVERHEAD - 2, 0, 0), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_offer(b, 1, 0, 0), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_event_bytes(b), MB6);
  take(b, 2, MB6);

  /* room for less than comma + 1 byte: ready by bytes with no refused record */
  assert_int_equal(bp_batch_offer(b, MB6 - OVERHEAD - 1, 0, 0), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_ready(b, 0), BP_BATCH_READY_BYTES);
  assert_int_equal(bp_batch_offer(b, 1, 0, 0), BP_BATCH_FULL);
  take(b, 1, MB6 - 1);
  bp_batch_del(b);
}

static void test_oversized_record(void **state) {
  (void)state;
  bp_batch *b = mk(100, 60, 0, OVERHEAD);
  size_t big = 7 * 1024 * 1024;
  assert_int_equal(bp_batch_offer(b, 10, 0, 0), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_offer(b, big, 0, 0), BP_BATCH_FULL); /* not with others */
  assert_int_equal(bp_batch_ready(b, 0), BP_BATCH_READY_BYTES);
  take(b, 1, OVERHEAD + 10);
  assert_int_equal(bp_batch_offer(b, big, 0, 1), BP_BATCH_ACCEPTED); /* a batch of one */
  assert_int_equal(bp_batch_event_bytes(b), OVERHEAD + big);
  assert_int_equal(bp_batch_ready(b, 1), BP_BATCH_READY_BYTES);
  assert_int_equal(bp_batch_deadline(b), 1);
  assert_int_equal(bp_batch_offer(b, 1, 0, 1), BP_BATCH_FULL);
  take(b, 1, OVERHEAD + big);
  /* the smallest oversized record: one byte over the limit on its own */
  assert_int_equal(bp_batch_offer(b, MB6 - OVERHEAD + 1, 0, 2), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_ready(b, 2), BP_BATCH_READY_BYTES);
  take(b, 1, MB6 + 1);
  /* records up to SIZE_MAX - overhead are still counted exactly; beyond, refused */
  assert_int_equal(bp_batch_offer(b, SIZE_MAX - OVERHEAD, 0, 3), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_offer(b, 1, 0, 3), BP_BATCH_FULL);
  take(b, 1, SIZE_MAX);
  assert_int_equal(bp_batch_offer(b, SIZE_MAX - OVERHEAD + 1, 0, 3), BP_ERR_TOO_LARGE);
  assert_true(strlen(bp_batch_errmsg(b)) > 0);
  assert_int_equal(bp_batch_count(b), 0);
  bp_batch_del(b);
}

/* An overhead above the limit (a huge tumbling `state`): every record forms its own batch. */
static void test_overhead(void **state) {
  (void)state;
  bp_batch *b = mk(100, 0, 1000, 10);
  assert_int_equal(bp_batch_offer(b, 100, 0, 0), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_set_event_overhead(b, 20), BP_ERR_INVALID_STATE);
  assert_true(strstr(bp_batch_errmsg(b), "take or reset") != NULL);
  assert_int_equal(bp_batch_event_overhead(b), 10);
  take(b, 1, 110);
  assert_int_equal(bp_batch_set_event_overhead(b, 2000), 0);
  assert_string_equal(bp_batch_errmsg(b), "");
  assert_int_equal(bp_batch_event_bytes(b), 2000);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(bp_batch_offer(b, 5, 0, 0), BP_BATCH_ACCEPTED);
    assert_int_equal(bp_batch_offer(b, 5, 0, 0), BP_BATCH_FULL);
    assert_int_equal(bp_batch_ready(b, 0), BP_BATCH_READY_BYTES);
    take(b, 1, 2005);
  }
  assert_int_equal(bp_batch_set_event_overhead(b, 994), 0);
  assert_int_equal(bp_batch_offer(b, 2, 0, 0), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_offer(b, 3, 0, 0), BP_BATCH_ACCEPTED); /* 994 + 2 + 1 + 3 = 1000 */
  assert_int_equal(bp_batch_ready(b, 0), BP_BATCH_READY_BYTES);
  take(b, 2, 1000);
  /* the overhead is kept across take and reset */
  assert_int_equal(bp_batch_reset(b), 0);
  assert_int_equal(bp_batch_event_overhead(b), 994);
  assert_int_equal(bp_batch_set_event_overhead(b, SIZE_MAX), 0);
  assert_int_equal(bp_batch_offer(b, 1, 0, 0), BP_ERR_TOO_LARGE);
  assert_int_equal(bp_batch_offer(b, 1, 0, 0), BP_ERR_TOO_LARGE);
  assert_int_equal(bp_batch_set_event_overhead(b, SIZE_MAX - 1), 0);
  assert_int_equal(bp_batch_offer(b, 1, 0, 0), BP_BATCH_ACCEPTED);
  take(b, 1, SIZE_MAX);
  bp_batch_del(b);
}

/* SEMANTICS.md §11.47: BatchSize 10,000, window 10 s, 20 Kinesis records of 400 KiB each (about
 * 546 KB once base64-encoded with their metadata): at most 11 per invocation, all 20 in
 * order, no payload over 6 MB. With the codec the sizes are the encoder's own, and the
 * builder's event size is checked against the codec's size of the very same batch. */
#define N47 20
#define DATA47 (400 * 1024)
static void test_spec_11_47_payload_cap(void **state) {
  (void)state;
  size_t rsize[N47], overhead = OVERHEAD;
#if BP_WITH_CODEC
  static const char shard[] = "shardId-000000000000";
  bp_codec_opts co = {sizeof(bp_codec_opts), BP_SOURCE_KINESIS, "arn:aws:kinesis:us-east-1:123456789012:stream/s",
                      NULL, "arn:aws:iam::123456789012:role/r", NULL};
  bp_codec *codec;
  assert_int_equal(bp_codec_new(&codec, &co, NULL), 0);
  uint8_t *data = malloc(DATA47);
  assert_non_null(data);
  for (size_t i = 0; i < DATA47; i++) data[i] = (uint8_t)(i * 7);
  char seqs[N47][64];
  bp_record recs[N47];
  for (int i = 0; i < N47; i++) {
    snprintf(seqs[i], sizeof seqs[i], "4959033827149025660855969253836157109592157598913658%04d",
             i + 1);
    bp_record_init(&recs[i], sizeof recs[i]);
    recs[i].seq = seqs[i];
    recs[i].seq_len = strlen(seqs[i]);
    recs[i].arrival_ms = 1764082800000 + i;
    recs[i].partition_key = "pk";
    recs[i].partition_key_len = 2;
    recs[i].data = data;
    recs[i].data_len = DATA47;
    assert_int_equal(bp_codec_record_size(codec, shard, &recs[i], &rsize[i]), 0);
  }
  assert_int_equal(bp_codec_event_overhead(codec, shard, NULL, &overhead), 0);
  assert_int_equal(overhead, OVERHEAD);
#else
  for (int i = 0; i < N47; i++) rsize[i] = 546136 + 330; /* base64 + metadata, approx. */
#endif
  for (int i = 0; i < N47; i++) assert_true(rsize[i] > 546136 && rsize[i] < 560000);
  bp_batch *b = mk(10000, 10, 0, overhead);
  int64_t now = 1764082800000;
  int next = 0, batches = 0;
  size_t counts[N47];
  while (next < N47) {
    /* the lane is free: offer everything buffered (all 20 were put at once) */
    int first = next;
    while (next < N47 && bp_batch_offer(b, rsize[next], 0, now) == BP_BATCH_ACCEPTED) next++;
    int r = bp_batch_ready(b, now);
    if (next < N47) {
      assert_int_equal(r, BP_BATCH_READY_BYTES);
    } else {
      /* the rest fits: it waits for its 10 s window */
      assert_int_equal(r, BP_BATCH_NOT_READY);
      assert_int_equal(bp_batch_deadline(b), now + 10000);
      assert_int_equal(bp_batch_ready(b, now + 9999), BP_BATCH_NOT_READY);
      now += 10000;
      assert_int_equal(bp_batch_ready(b, now), BP_BATCH_READY_WINDOW);
    }
    size_t count, bytes;
    assert_int_equal(bp_batch_take(b, &count, &bytes), 0);
    assert_int_equal(count, (size_t)(next - first));
    assert_true(bytes <= MB6);
#if BP_WITH_CODEC
    size_t exact;
    assert_int_equal(bp_codec_event_size(codec, shard, &recs[first], count, NULL, &exact), 0);
    assert_int_equal(bytes, exact);
#endif
    counts[batches++] = count;
    now += 3000; /* the invocation */
  }
  assert_int_equal(batches, 2);
  assert_int_equal(counts[0], 11);
  assert_int_equal(counts[1], 9);
  bp_batch_del(b);
#if BP_WITH_CODEC
  free(data);
  bp_codec_del(codec);
#endif
}

/* ---- batching window ---- */

static void test_window_timing(void **state) {
  (void)state;
  bp_batch *b = mk(100, 5, 0, OVERHEAD);
  assert_int_equal(bp_batch_deadline(b), BP_NO_DEADLINE);
  assert_int_equal(bp_batch_offer(b, 10, 0, 1000), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_opened_at(b), 1000);
  assert_int_equal(bp_batch_deadline(b), 6000);
  assert_int_equal(bp_batch_offer(b, 10, 0, 3000), BP_BATCH_ACCEPTED); /* window unchanged */
  assert_int_equal(bp_batch_opened_at(b), 1000);
  assert_int_equal(bp_batch_deadline(b), 6000);
  assert_int_equal(bp_batch_ready(b, 1000), BP_BATCH_NOT_READY);
  assert_int_equal(bp_batch_ready(b, 5999), BP_BATCH_NOT_READY);
  assert_int_equal(bp_batch_ready(b, 6000), BP_BATCH_READY_WINDOW); /* inclusive */
  assert_int_equal(bp_batch_ready(b, 6001), BP_BATCH_READY_WINDOW);
  /* records offered at or after the deadline still join (the engine offers, then asks) */
  assert_int_equal(bp_batch_offer(b, 10, 0, 7000), BP_BATCH_ACCEPTED);
  take(b, 3, OVERHEAD + 32);
  /* the next window opens at the next first record, not at the take */
  assert_int_equal(bp_batch_offer(b, 10, 0, 9000), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_deadline(b), 14000);
  /* a clock that steps back: the opening time stays, the window is simply not yet over */
  assert_int_equal(bp_batch_offer(b, 10, 0, 8000), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_opened_at(b), 9000);
  assert_int_equal(bp_batch_ready(b, 8000), BP_BATCH_NOT_READY);
  assert_int_equal(bp_batch_ready(b, 13999), BP_BATCH_NOT_READY);
  assert_int_equal(bp_batch_ready(b, 14000), BP_BATCH_READY_WINDOW);
  take(b, 2, OVERHEAD + 21);
  bp_batch_del(b);

  /* the longest window: 300 s */
  b = mk(100, 300, 0, OVERHEAD);
  assert_int_equal(bp_batch_offer(b, 10, 0, 1764082800000), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_deadline(b), 1764082800000 + 300000);
  assert_int_equal(bp_batch_ready(b, 1764082800000 + 299999), BP_BATCH_NOT_READY);
  assert_int_equal(bp_batch_ready(b, 1764082800000 + 300000), BP_BATCH_READY_WINDOW);
  bp_batch_del(b);
}

static void test_window_zero(void **state) {
  (void)state;
  bp_batch *b = mk(4, 0, 0, OVERHEAD);
  assert_int_equal(bp_batch_ready(b, 50), BP_BATCH_NOT_READY); /* nothing buffered */
  assert_int_equal(bp_batch_deadline(b), BP_NO_DEADLINE);
  /* one record: sent alone, at once */
  assert_int_equal(bp_batch_offer(b, 7, 0, 50), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_ready(b, 50), BP_BATCH_READY_WINDOW);
  assert_int_equal(bp_batch_deadline(b), 50);
  assert_int_equal(bp_batch_ready(b, 0), BP_BATCH_READY_WINDOW); /* whatever the clock says */
  take(b, 1, OVERHEAD + 7);
  /* everything buffered goes, up to BatchSize */
  for (int i = 0; i < 6; i++)
    assert_int_equal(bp_batch_offer(b, 7, 0, 60), i < 4 ? BP_BATCH_ACCEPTED : BP_BATCH_FULL);
  assert_int_equal(bp_batch_ready(b, 60), BP_BATCH_READY_COUNT); /* COUNT before WINDOW */
  take(b, 4, OVERHEAD + 4 * 7 + 3);
  assert_int_equal(bp_batch_offer(b, 7, 0, 60), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_offer(b, 7, 0, 60), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_ready(b, 60), BP_BATCH_READY_WINDOW);
  take(b, 2, OVERHEAD + 15);
  bp_batch_del(b);
}

/* ---- tumbling windows ---- */

static void test_tumbling_key(void **state) {
  (void)state;
  const int64_t w1 = 1764082800000, w2 = w1 + 120000;
  bp_batch *b = mk(10, 60, 0, OVERHEAD);
  assert_int_equal(bp_batch_offer(b, 10, w1, 1000), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_window_key(b), w1);
  assert_int_equal(bp_batch_offer(b, 10, w1, 1000), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_ready(b, 1000), BP_BATCH_NOT_READY);
  assert_int_equal(bp_batch_offer(b, 10, w2, 1000), BP_BATCH_FULL);
  assert_int_equal(bp_batch_ready(b, 1000), BP_BATCH_READY_KEY);
  assert_int_equal(bp_batch_deadline(b), 1000);
  /* full for good: even a record of the batch's own window is refused now */
  assert_int_equal(bp_batch_offer(b, 10, w1, 1000), BP_BATCH_FULL);
  assert_int_equal(bp_batch_ready(b, 1000 + 60000), BP_BATCH_READY_KEY); /* before WINDOW */
  take(b, 2, OVERHEAD + 21);
  assert_int_equal(bp_batch_window_key(b), 0);
  assert_int_equal(bp_batch_offer(b, 10, w2, 1001), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_window_key(b), w2);
  /* key 0 (no tumbling) is a key like any other; a smaller key is also "another window" */
  assert_int_equal(bp_batch_offer(b, 10, 0, 1001), BP_BATCH_FULL);
  take(b, 1, OVERHEAD + 10);
  /* COUNT takes precedence over KEY */
  bp_batch_del(b);
  b = mk(2, 60, 0, OVERHEAD);
  assert_int_equal(bp_batch_offer(b, 10, w1, 0), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_offer(b, 10, w1, 0), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_offer(b, 10, w2, 0), BP_BATCH_FULL);
  assert_int_equal(bp_batch_ready(b, 0), BP_BATCH_READY_COUNT);
  take(b, 2, OVERHEAD + 21);
  bp_batch_del(b);
  /* a key change is checked before the size: the reason is KEY */
  b = mk(10, 60, 100, OVERHEAD);
  assert_int_equal(bp_batch_offer(b, 50, w1, 0), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_offer(b, 50, w2, 0), BP_BATCH_FULL);
  assert_int_equal(bp_batch_ready(b, 0), BP_BATCH_READY_KEY);
  take(b, 1, OVERHEAD + 50);
  bp_batch_del(b);
}

/* ---- force, take, reset ---- */

static void test_force(void **state) {
  (void)state;
  bp_batch *b = mk(10, 30, 0, OVERHEAD);
  assert_int_equal(bp_batch_force(b), 0); /* empty: nothing to flush, nothing marked */
  assert_int_equal(bp_batch_ready(b, 0), BP_BATCH_NOT_READY);
  assert_int_equal(bp_batch_offer(b, 10, 0, 500), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_ready(b, 500), BP_BATCH_NOT_READY); /* not marked by the force */
  assert_int_equal(bp_batch_deadline(b), 30500);
  assert_int_equal(bp_batch_force(b), 0);
  assert_int_equal(bp_batch_ready(b, 500), BP_BATCH_READY_FORCED);
  assert_int_equal(bp_batch_ready(b, 30500), BP_BATCH_READY_FORCED); /* before WINDOW */
  assert_int_equal(bp_batch_deadline(b), 500);
  assert_int_equal(bp_batch_offer(b, 10, 0, 500), BP_BATCH_FULL);
  assert_int_equal(bp_batch_force(b), 0); /* idempotent */
  take(b, 1, OVERHEAD + 10);
  assert_int_equal(bp_batch_offer(b, 10, 0, 600), BP_BATCH_ACCEPTED); /* not forced any more */
  assert_int_equal(bp_batch_ready(b, 600), BP_BATCH_NOT_READY);
  take(b, 1, OVERHEAD + 10); /* taking before it is ready is allowed */
  /* a refused key stays the reason after a force */
  assert_int_equal(bp_batch_offer(b, 10, 1, 700), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_offer(b, 10, 2, 700), BP_BATCH_FULL);
  assert_int_equal(bp_batch_force(b), 0);
  assert_int_equal(bp_batch_ready(b, 700), BP_BATCH_READY_KEY);
  take(b, 1, OVERHEAD + 10);
  /* window 0 and forced: FORCED is named first */
  bp_batch_del(b);
  b = mk(10, 0, 0, OVERHEAD);
  assert_int_equal(bp_batch_offer(b, 10, 0, 0), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_ready(b, 0), BP_BATCH_READY_WINDOW);
  assert_int_equal(bp_batch_force(b), 0);
  assert_int_equal(bp_batch_ready(b, 0), BP_BATCH_READY_FORCED);
  bp_batch_del(b);
}

static void test_take_reset(void **state) {
  (void)state;
  bp_batch *b = mk(10, 1, 0, OVERHEAD);
  size_t count = 99, bytes = 99;
  assert_int_equal(bp_batch_take(b, &count, &bytes), BP_ERR_INVALID_STATE);
  assert_int_equal(count, 99);
  assert_int_equal(bytes, 99);
  assert_true(strstr(bp_batch_errmsg(b), "empty") != NULL);
  assert_int_equal(bp_batch_offer(b, 10, 0, 0), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_take(b, NULL, NULL), 0); /* outputs optional */
  assert_int_equal(bp_batch_count(b), 0);
  assert_int_equal(bp_batch_event_bytes(b), OVERHEAD);
  assert_int_equal(bp_batch_take(b, NULL, NULL), BP_ERR_INVALID_STATE);
  /* reset drops a batch, forced / sealed state included */
  assert_int_equal(bp_batch_offer(b, 10, 5, 0), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_offer(b, 10, 6, 0), BP_BATCH_FULL);
  assert_int_equal(bp_batch_reset(b), 0);
  assert_int_equal(bp_batch_count(b), 0);
  assert_int_equal(bp_batch_opened_at(b), -1);
  assert_int_equal(bp_batch_window_key(b), 0);
  assert_int_equal(bp_batch_ready(b, 5000), BP_BATCH_NOT_READY);
  assert_int_equal(bp_batch_deadline(b), BP_NO_DEADLINE);
  assert_int_equal(bp_batch_offer(b, 10, 6, 0), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_reset(b), 0);
  assert_int_equal(bp_batch_reset(b), 0); /* empty: fine */
  bp_batch_del(b);
}

/* ---- memory ---- */

static _Alignas(max_align_t) unsigned char batch_mem[1024];

static void test_caller_memory(void **state) {
  (void)state;
  bp_batch_opts o = mkopts(5, 0, 0, OVERHEAD);
  size_t need = bp_batch_mem_size(&o);
  assert_true(need > 0 && need <= sizeof batch_mem);
  assert_int_equal(bp_batch_mem_size(NULL), need);
  bp_batch *b = (bp_batch *)&b;
  assert_int_equal(bp_batch_init_in(batch_mem, need - 1, &o, &b), BP_ERR_BUFFER_TOO_SMALL);
  assert_null(b);
  assert_int_equal(bp_batch_init_in(batch_mem, 0, &o, &b), BP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(bp_batch_init_in(batch_mem + 1, sizeof batch_mem - 1, &o, &b),
                   BP_ERR_INVALID_ARGUMENT);
  assert_null(b);
  assert_int_equal(bp_batch_init_in(NULL, need, &o, &b), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_batch_init_in(batch_mem, need, NULL, &b), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_batch_init_in(batch_mem, need, &o, NULL), BP_ERR_INVALID_ARGUMENT);
  bp_batch_opts bad = mkopts(0, 0, 0, OVERHEAD);
  assert_int_equal(bp_batch_init_in(batch_mem, need, &bad, &b), BP_ERR_INVALID_ARGUMENT);
  bad = mkopts(5, 301, 0, OVERHEAD);
  assert_int_equal(bp_batch_init_in(batch_mem, need, &bad, &b), BP_ERR_INVALID_ARGUMENT);
  assert_null(b);
  memset(batch_mem, 0xa5, sizeof batch_mem); /* garbage must not leak into the object */
  assert_int_equal(bp_batch_init_in(batch_mem, need, &o, &b), 0);
  assert_ptr_equal(b, batch_mem);
  assert_int_equal(bp_batch_count(b), 0);
  assert_string_equal(bp_batch_errmsg(b), "");
  for (int i = 0; i < 5; i++) assert_int_equal(bp_batch_offer(b, 3, 0, 9), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_ready(b, 9), BP_BATCH_READY_COUNT);
  take(b, 5, OVERHEAD + 19);
  bp_batch_del(b); /* frees nothing (ASan would report a bad free of static memory) */
  /* the memory can be reused, and on the stack too */
  _Alignas(max_align_t) unsigned char stack_mem[1024];
  assert_int_equal(bp_batch_init_in(stack_mem, sizeof stack_mem, &o, &b), 0);
  assert_int_equal(bp_batch_offer(b, 3, 0, 9), BP_BATCH_ACCEPTED);
  bp_batch_del(b);
}

static void test_arena_allocator(void **state) {
  (void)state;
  static _Alignas(max_align_t) unsigned char mem[4096];
  bp_arena *arena;
  bp_allocator a;
  assert_int_equal(bp_arena_init(&arena, mem, sizeof mem, &a), 0);
  bp_batch_opts o = mkopts(3, 1, 0, OVERHEAD);
  bp_batch *lanes[4];
  for (int i = 0; i < 4; i++) assert_int_equal(bp_batch_new(&lanes[i], &o, &a), 0);
  size_t used, failures;
  bp_arena_stats(arena, &used, NULL, NULL, &failures);
  assert_true(used >= 4 * bp_batch_mem_size(&o));
  for (int i = 0; i < 4; i++) {
    assert_int_equal(bp_batch_offer(lanes[i], 10 + (size_t)i, 0, 0), BP_BATCH_ACCEPTED);
    assert_int_equal(bp_batch_ready(lanes[i], 1000), BP_BATCH_READY_WINDOW);
    take(lanes[i], 1, OVERHEAD + 10 + (size_t)i);
  }
  size_t after;
  bp_arena_stats(arena, &after, NULL, NULL, NULL);
  assert_int_equal(after, used); /* no allocation after creation */
  for (int i = 0; i < 4; i++) bp_batch_del(lanes[i]);
  bp_arena_stats(arena, &used, NULL, NULL, &failures);
  assert_int_equal(used, 0);
  assert_int_equal(failures, 0);
  /* a full arena: NOMEM, nothing half-made */
  static _Alignas(max_align_t) unsigned char tiny[160];
  assert_int_equal(bp_arena_init(&arena, tiny, sizeof tiny, &a), 0);
  bp_batch *b = (bp_batch *)&b;
  assert_int_equal(bp_batch_new(&b, &o, &a), BP_ERR_NOMEM);
  assert_null(b);
}

static int failmalloc_scenario(const bp_allocator *hooks, void *ctx) {
  (void)ctx;
  bp_batch_opts o = mkopts(2, 0, 100, OVERHEAD);
  bp_batch *b;
  int rc = bp_batch_new(&b, &o, hooks);
  if (rc) {
    assert_null(b);
    return rc;
  }
  assert_int_equal(bp_batch_offer(b, 10, 0, 0), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_offer(b, 10, 0, 0), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_offer(b, 10, 0, 0), BP_BATCH_FULL);
  assert_int_equal(bp_batch_ready(b, 0), BP_BATCH_READY_COUNT);
  size_t count, bytes;
  assert_int_equal(bp_batch_take(b, &count, &bytes), 0);
  assert_int_equal(count, 2);
  assert_int_equal(bytes, OVERHEAD + 21);
  bp_batch_del(b);
  return 0;
}

static void test_failmalloc(void **state) {
  (void)state;
  test_alloc_failmalloc(failmalloc_scenario, NULL);
  /* and exactly one allocation, whatever is done with the builder */
  test_alloc t;
  bp_allocator hooks;
  test_alloc_init(&t, &hooks);
  bp_batch_opts o = mkopts(10000, 0, 0, OVERHEAD);
  bp_batch *b;
  assert_int_equal(bp_batch_new(&b, &o, &hooks), 0);
  for (int i = 0; i < 20000; i++) {
    if (bp_batch_offer(b, 100, i / 5000, i) == BP_BATCH_FULL) {
      assert_int_equal(bp_batch_take(b, NULL, NULL), 0);
      assert_int_equal(bp_batch_set_event_overhead(b, (size_t)i % 100), 0);
    }
  }
  assert_int_equal(t.calls, 1);
  bp_batch_del(b);
  assert_int_equal(t.live_blocks, 0);
}

/* ---- randomized run against a reference model ---- */

static uint64_t rng_state;
static uint32_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 11);
}
static uint32_t rnd_below(uint32_t n) { return rnd() % n; }

#define MODEL_RECORDS 300

static size_t reasons_seen[BP_BATCH_READY_WINDOW + 1]; /* how often each reason cut a batch */
static size_t oversized_seen, exact_limit_seen;

typedef struct model_rec {
  size_t size;
  int64_t key;
  int64_t arrival;
} model_rec;

static size_t event_of(const model_rec *r, size_t from, size_t k, size_t overhead) {
  size_t total = overhead;
  for (size_t i = 0; i < k; i++) total += r[from + i].size + (i > 0);
  return total;
}

static void run_model(uint64_t seed) {
  rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
  static const uint32_t sizes[] = {1, 2, 3, 5, 10, 100, 10000};
  static const uint32_t windows[] = {0, 0, 1, 2, 5, 300};
  uint32_t bs = sizes[rnd_below(7)];
  uint32_t win = windows[rnd_below(6)];
  size_t max = rnd_below(8) == 0 ? 0 : 20 + rnd_below(3000);
  size_t eff_max = max ? max : MB6;
  size_t overhead = rnd_below(10) == 0 ? eff_max + rnd_below(50) : rnd_below(60);
  if (overhead > eff_max / 2 && overhead <= eff_max) overhead = rnd_below(60);
  int tumbling = rnd_below(2);
  int64_t tumble_ms = (int64_t)(1 + rnd_below(5)) * 1000;

  model_rec recs[MODEL_RECORDS];
  int64_t t0 = rnd_below(2) ? 0 : 1764082800000;
  int64_t t = t0;
  for (size_t i = 0; i < MODEL_RECORDS; i++) {
    uint32_t kind = rnd_below(20);
    size_t size;
    if (kind < 14) size = 1 + rnd_below((uint32_t)(eff_max / 8 + 1));
    else if (kind < 18) size = eff_max / 3 + rnd_below((uint32_t)(eff_max / 2 + 1));
    else if (kind < 19) size = eff_max; /* alone: oversized with any overhead > 0 */
    else size = 1;
    if (rnd_below(4) == 0) t += rnd_below(2500);
    recs[i].size = size;
    recs[i].arrival = t;
    recs[i].key = tumbling ? (t / tumble_ms) * tumble_ms : 0;
  }

  bp_batch_opts o = mkopts(bs, win, max, overhead);
  bp_batch *b;
  assert_int_equal(bp_batch_new(&b, &o, NULL), 0);

  size_t head = 0;    /* first record not yet taken (head of the lane's queue) */
  size_t offered = 0; /* next record to offer */
  int64_t busy_until = -1, model_open = -1;
  int model_forced = 0;
  size_t forced_k = 0;
  size_t delivered = 0;
  t = t0;
  for (int step = 0; head < MODEL_RECORDS; step++) {
    if (step > 100000) fail_msg("seed %llu: no progress", (unsigned long long)seed);
    size_t avail = 0; /* records that have arrived */
    while (avail < MODEL_RECORDS && recs[avail].arrival <= t) avail++;
    if (t >= busy_until && head < avail) {
      /* the lane is free: offer everything buffered, in order */
      if (model_open < 0) model_open = t;
      while (offered < avail) {
        int rc = bp_batch_offer(b, recs[offered].size, recs[offered].key, t);
        assert_true(rc == BP_BATCH_ACCEPTED || rc == BP_BATCH_FULL);
        if (rc == BP_BATCH_FULL) break;
        offered++;
      }
      /* the model: the greedy batch over what has arrived, summed from scratch */
      size_t k = 1;
      unsigned long long total = (unsigned long long)overhead + recs[head].size;
      while (head + k < avail && k < bs && recs[head + k].key == recs[head].key &&
             total + 1 + recs[head + k].size <= eff_max)
        total += 1 + recs[head + k++].size;
      if (model_forced) k = forced_k;
      size_t ev = event_of(recs, head, k, overhead);
      int want;
      if (k == bs) want = BP_BATCH_READY_COUNT;
      else if (ev >= eff_max || eff_max - ev < 2) want = BP_BATCH_READY_BYTES;
      else if (model_forced) want = BP_BATCH_READY_FORCED;
      else if (head + k < avail && recs[head + k].key != recs[head].key)
        want = BP_BATCH_READY_KEY;
      else if (head + k < avail) want = BP_BATCH_READY_BYTES;
      else if (win == 0) want = BP_BATCH_READY_WINDOW;
      else if (t >= model_open + (int64_t)win * 1000) want = BP_BATCH_READY_WINDOW;
      else want = BP_BATCH_NOT_READY;

      assert_int_equal(bp_batch_count(b), k);
      assert_int_equal(offered, head + k);
      assert_int_equal(bp_batch_event_bytes(b), ev);
      assert_int_equal(bp_batch_opened_at(b), model_open);
      assert_int_equal(bp_batch_window_key(b), recs[head].key);
      int got = bp_batch_ready(b, t);
      if (got != want)
        fail_msg("seed %llu step %d: ready %d, model %d (k %zu bs %u win %u max %zu ovh %zu)",
                 (unsigned long long)seed, step, got, want, k, bs, win, eff_max, overhead);
      /* deadline invariant: ready(now) != 0 iff now >= deadline, for now >= opened_at */
      int64_t dl = bp_batch_deadline(b);
      assert_true(dl >= model_open && dl != BP_NO_DEADLINE);
      if (dl > model_open) {
        assert_int_equal(dl, model_open + (int64_t)win * 1000);
        assert_int_equal(bp_batch_ready(b, dl - 1), BP_BATCH_NOT_READY);
      }
      assert_int_equal(bp_batch_ready(b, dl), bp_batch_ready(b, dl + 1));
      assert_true(bp_batch_ready(b, dl) > 0);
      assert_int_equal(got != 0, t >= dl);

      if (got > 0) {
        size_t count, bytes;
        assert_int_equal(bp_batch_take(b, &count, &bytes), 0);
        assert_int_equal(count, k);
        assert_int_equal(bytes, ev);
        if (count > 1) assert_true(bytes <= eff_max);
        if (bytes > eff_max) oversized_seen++;
        if (bytes == eff_max) exact_limit_seen++;
        reasons_seen[got]++;
        head += k;
        delivered += k;
        model_open = -1;
        model_forced = 0;
        busy_until = t + rnd_below(4000); /* the invocation */
      } else if (rnd_below(50) == 0) {
        assert_int_equal(bp_batch_force(b), 0);
        model_forced = 1;
        forced_k = k;
        continue; /* same time: the next pass takes it */
      }
    }
    t += rnd_below(3) == 0 ? 0 : rnd_below(1500);
  }
  assert_int_equal(delivered, MODEL_RECORDS);
  assert_int_equal(bp_batch_count(b), 0);
  bp_batch_del(b);
}

static void test_random_model(void **state) {
  (void)state;
  memset(reasons_seen, 0, sizeof reasons_seen);
  oversized_seen = exact_limit_seen = 0;
  for (uint64_t seed = 1; seed <= 3000; seed++) run_model(seed);
  /* the run exercised every cut reason and both sides of the limit */
  for (int r = BP_BATCH_READY_COUNT; r <= BP_BATCH_READY_WINDOW; r++)
    if (reasons_seen[r] < 50) fail_msg("reason %d cut only %zu batches", r, reasons_seen[r]);
  assert_true(oversized_seen >= 50);
  assert_true(exact_limit_seen >= 50);
  print_message("random model: COUNT %zu BYTES %zu KEY %zu FORCED %zu WINDOW %zu; oversized "
                "%zu, exactly at the limit %zu\n", reasons_seen[1], reasons_seen[2],
                reasons_seen[3], reasons_seen[4], reasons_seen[5], oversized_seen,
                exact_limit_seen);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_constants),        cmocka_unit_test(test_invalid_opts),
      cmocka_unit_test(test_null_args),        cmocka_unit_test(test_bad_values),
      cmocka_unit_test(test_count_cut),        cmocka_unit_test(test_batch_size_one),
      cmocka_unit_test(test_batch_size_max),   cmocka_unit_test(test_bytes_exact_boundary),
      cmocka_unit_test(test_oversized_record), cmocka_unit_test(test_overhead),
      cmocka_unit_test(test_spec_11_47_payload_cap), cmocka_unit_test(test_window_timing),
      cmocka_unit_test(test_window_zero),      cmocka_unit_test(test_tumbling_key),
      cmocka_unit_test(test_force),            cmocka_unit_test(test_take_reset),
      cmocka_unit_test(test_caller_memory),    cmocka_unit_test(test_arena_allocator),
      cmocka_unit_test(test_failmalloc),       cmocka_unit_test(test_random_model),
      cmocka_unit_test(test_shift),
  };
  return cmocka_run_group_tests_name("batch", tests, NULL, NULL);
}
