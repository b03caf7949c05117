/* SPDX-License-Identifier: MIT */
/* Fetch size, buffer cap and tumbling windows under back-pressure (SEMANTICS.md §8.1
 * "Fetch size and buffer cap", §6 "The final invocation waits until the shard has been read
 * past the window"), on generated streams larger than the mock host holds: a host of its own
 * here, synchronous, every record readable at the start, the function a counter. Runs under
 * the test allocator (no leak). BP_FETCH_VERBOSE=1 prints the counts. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "batchpoint.h"
#include "batchpoint/bp_engine.h"
#include "engine_fixture.h"
#include "test_alloc.h"

#define GW0 INT64_C(1764082800000) /* a multiple of 60 s */

typedef struct gen_rec {
  char pk[16];   /* "" : "pk" */
  int fail_once; /* the first invocation carrying it fails (a function error) */
  char seq[32];
  char data[48];
  int64_t arrival_ms;
} gen_rec;

typedef struct gen_host {
  bp_engine *e;
  test_alloc ta;
  bp_allocator hooks;
  gen_rec *recs;
  size_t n;
  int64_t now;
  size_t next;             /* where the next fetch starts (records are read in order) */
  /* accounting */
  size_t fetches, max_asked, invokes, finals, batch_records, invoked_records;
  size_t min_batch, max_batch;
  long window_count;       /* the state's count, checked against what the function saw */
  int state_errors;        /* a batch whose state did not carry every earlier record */
  int ckpt_before_final;   /* a checkpoint moved before the window's final invocation */
  char body[96];
} gen_host;

static int gen_fetch(bp_engine *e, const bp_fetch_req *req, void *ud) {
  gen_host *h = ud;
  h->fetches++;
  if (req->max_records > h->max_asked) h->max_asked = req->max_records;
  size_t k = h->n - h->next;
  if (k > req->max_records) k = req->max_records;
  bp_record *rs = k ? calloc(k, sizeof *rs) : NULL;
  for (size_t i = 0; i < k; i++) {
    const gen_rec *g = &h->recs[h->next + i];
    rs[i].struct_size = sizeof rs[i];
    rs[i].seq = g->seq;
    rs[i].seq_len = strlen(g->seq);
    rs[i].partition_key = g->pk[0] ? g->pk : "pk";
    rs[i].partition_key_len = strlen(rs[i].partition_key);
    rs[i].data = (const uint8_t *)g->data;
    rs[i].data_len = strlen(g->data);
    rs[i].arrival_ms = g->arrival_ms;
  }
  h->next += k;
  int rc = bp_engine_complete_fetch(e, req->req_id, h->now, 0, rs, k, 0);
  free(rs);
  assert_int_equal(rc, 0);
  return 0;
}

static int gen_invoke(bp_engine *e, const bp_invoke_req *req, void *ud) {
  gen_host *h = ud;
  h->invokes++;
  bp_invoke_result r = BP_INVOKE_RESULT_INIT;
  for (size_t i = 0; i < req->count; i++) {
    const bp_record *rec = BP_RECORD_AT(req->records, req->record_stride, i);
    for (size_t j = 0; j < h->n; j++)
      if (h->recs[j].fail_once && !strncmp(h->recs[j].seq, rec->seq, rec->seq_len)) {
        h->recs[j].fail_once = 0;
        r.kind = BP_INVOKE_RESULT_ERROR;
      }
  }
  if (r.kind == BP_INVOKE_RESULT_ERROR) {
    int rc = bp_engine_complete_invoke(e, req->req_id, h->now, &r);
    assert_int_equal(rc, 0);
    return 0;
  }
  if (req->flags & BP_INVOKE_FINAL) {
    h->finals++;
  } else {
    h->batch_records += req->count;
    if (!h->min_batch || req->count < h->min_batch) h->min_batch = req->count;
    if (req->count > h->max_batch) h->max_batch = req->count;
  }
  if (req->state) { /* tumbling windows: {"n":K} counts the records the window has seen */
    long k = 0;
    if (req->state_len > 2 && sscanf(req->state, "{\"n\":%ld}", &k) != 1) k = 0;
    if (k != h->window_count) h->state_errors++;
    if (!(req->flags & BP_INVOKE_FINAL)) h->window_count = k + (long)req->count;
    snprintf(h->body, sizeof h->body, "{\"state\":{\"n\":%ld}}", h->window_count);
    r.body = h->body;
    r.body_len = strlen(h->body);
  }
  int rc = bp_engine_complete_invoke(e, req->req_id, h->now, &r);
  assert_int_equal(rc, 0);
  return 0;
}

static int gen_event(bp_engine *e, const bp_engine_event *ev, void *ud) {
  (void)e;
  gen_host *h = ud;
  if (ev->type == BP_EVENT_CHECKPOINT && h->window_count && !h->finals) h->ckpt_before_final++;
  return 0;
}

/* @p n records, all readable at the start; record i has data {"keep":true} when
 * i % keep_every == 0 (keep_every 0: {"v":i}); arrivals within the first second of GW0. */
static gen_host *gen_new(size_t n, size_t keep_every) {
  gen_host *h = calloc(1, sizeof *h);
  h->recs = calloc(n, sizeof *h->recs);
  h->n = n;
  for (size_t i = 0; i < n; i++) {
    snprintf(h->recs[i].seq, sizeof h->recs[i].seq, "4966%020zu", i + 1);
    if (keep_every)
      snprintf(h->recs[i].data, sizeof h->recs[i].data, "{\"keep\":%s}",
               i % keep_every == 0 ? "true" : "false");
    else
      snprintf(h->recs[i].data, sizeof h->recs[i].data, "{\"v\":%zu}", i);
    h->recs[i].arrival_ms = GW0 + (int64_t)(i * 1000 / n);
  }
  test_alloc_init(&h->ta, &h->hooks);
  return h;
}

static void gen_start(gen_host *h, bp_config *cfg, const bp_engine_opts *o, int64_t now) {
  bp_transport t;
  memset(&t, 0, sizeof t);
  t.fetch = gen_fetch;
  t.invoke = gen_invoke;
  t.on_event = gen_event;
  char err[256];
  h->now = now;
  int rc = bp_engine_new(&h->e, cfg, o, &t, h, &h->hooks, err, sizeof err);
  if (rc) fail_msg("bp_engine_new: %s", err);
  bp_config_del(cfg);
  assert_int_equal(bp_engine_add_shard(h->e, SHARD0, NULL, NULL, NULL, 0), 0);
}

/* A synchronous host: tick at every deadline up to @p until. */
static void gen_run(gen_host *h, int64_t until) {
  for (int guard = 0; guard < 1000000; guard++) {
    int64_t d = bp_engine_next_deadline(h->e);
    if (d == BP_NO_DEADLINE || d > until) return;
    if (d > h->now) h->now = d;
    assert_int_equal(bp_engine_tick(h->e, h->now), 0);
  }
  fail_msg("the engine never settled");
}

static void gen_free(gen_host *h) {
  bp_engine_del(h->e);
  assert_int_equal(h->ta.live_blocks, 0);
  free(h->recs);
  free(h);
}

static void report(const char *what, const gen_host *h) {
  if (getenv("BP_FETCH_VERBOSE"))
    printf("%s: %zu fetches (largest asked %zu), %zu invocations (%zu finals), batches of "
           "%zu..%zu records, peak %zu bytes\n",
           what, h->fetches, h->max_asked, h->invokes, h->finals, h->min_batch, h->max_batch,
           h->ta.peak_bytes);
}

static bp_engine_opts gen_opts(void) {
  return engine_opts("a1b2c3d4-0000-4000-8000-0000000000f1", 11);
}

/* 50,000 records of which 1 % pass the filter, BatchSize 100, all readable at once, run
 * for a minute with options @p o. */
static gen_host *run_one_percent(bp_engine_opts o) {
  gen_host *h = gen_new(50000, 100);
  bp_config *c = kcfg();
  assert_int_equal(bp_config_set_batch_size(c, 100), 0);
  const char *pat = "{\"data\":{\"keep\":[true]}}";
  assert_int_equal(bp_config_add_filter(c, pat, strlen(pat)), 0);
  gen_start(h, c, &o, GW0 + 5000);
  gen_run(h, GW0 + 60000);
  return h;
}

/* A filter passing 1 % of 50,000 records, BatchSize 100, all readable at once: the
 * invocation count is ceil(500 / 100) = 5, as AWS's 10,000-record reads would make it. */
static void filter_one_percent(void **state) {
  (void)state;
  gen_host *h = run_one_percent(gen_opts());
  report("1% filter over 50,000 records, BatchSize 100", h);
  assert_int_equal(h->batch_records, 500);
  assert_int_equal(h->invokes, 5);
  assert_int_equal(h->max_asked, 10000);
  gen_free(h);
}

/* The same stream with a host that lowers the buffer cap to 1,000 records: each fetch asks
 * for 1,000 at most, so a batch holds what one read passed (10 records): 50 invocations.
 * The host's choice, documented in bp_engine.h. */
static void filter_lowered_cap(void **state) {
  (void)state;
  bp_engine_opts o = gen_opts();
  o.max_buffered_records = 1000;
  gen_host *h = run_one_percent(o);
  report("1% filter, buffer cap lowered to 1,000", h);
  assert_int_equal(h->batch_records, 500);
  assert_int_equal(h->invokes, 50);
  assert_int_equal(h->max_asked, 1000);
  assert_int_equal(h->max_batch, 10);
  gen_free(h);
}

/* max_fetch_records caps one read further (here 500 records: 5 passing per read). */
static void filter_max_fetch(void **state) {
  (void)state;
  bp_engine_opts o = gen_opts();
  o.max_fetch_records = 500;
  gen_host *h = run_one_percent(o);
  assert_int_equal(h->batch_records, 500);
  assert_int_equal(h->max_asked, 500);
  assert_int_equal(h->invokes, 100);
  gen_free(h);
}

/* One 60 s window of 25,000 records, BatchSize 100, all readable after the window's end:
 * 250 batches carrying the state through, ONE final invocation, and the checkpoint moves only
 * after it (the buffer cap never splits the window). */
static void window_larger_than_cap(void **state) {
  (void)state;
  gen_host *h = gen_new(25000, 0);
  bp_config *c = kcfg();
  assert_int_equal(bp_config_set_batch_size(c, 100), 0);
  assert_int_equal(bp_config_set_tumbling_window_in_seconds(c, 60), 0);
  bp_engine_opts o = gen_opts();
  gen_start(h, c, &o, GW0 + 120000);
  gen_run(h, GW0 + 300000);
  report("window of 25,000 records, BatchSize 100", h);
  assert_int_equal(h->batch_records, 25000);
  assert_int_equal(h->finals, 1);
  assert_int_equal(h->invokes, 251);
  assert_int_equal(h->state_errors, 0);
  assert_int_equal(h->window_count, 25000);
  assert_int_equal(h->ckpt_before_final, 0);
  char ck[64];
  size_t len = 0;
  assert_int_equal(bp_engine_get_checkpoint(h->e, SHARD0, ck, sizeof ck, &len), 0);
  assert_string_equal(ck, h->recs[24999].seq);
  gen_free(h);
}

/* The case: 11 records of one 5 s window, BatchSize 5, the buffer cap lowered to 10
 * (2 x BatchSize): one final invocation after all 11, not a second window with state {}. */
static void window_eleven_cap_ten(void **state) {
  (void)state;
  gen_host *h = gen_new(11, 0);
  bp_config *c = kcfg();
  assert_int_equal(bp_config_set_batch_size(c, 5), 0);
  assert_int_equal(bp_config_set_tumbling_window_in_seconds(c, 5), 0);
  bp_engine_opts o = gen_opts();
  o.max_buffered_records = 10;
  gen_start(h, c, &o, GW0 + 10000);
  gen_run(h, GW0 + 60000);
  assert_int_equal(h->batch_records, 11);
  assert_int_equal(h->finals, 1);
  assert_int_equal(h->state_errors, 0);
  assert_int_equal(h->window_count, 11);
  gen_free(h);
}

/* ParallelizationFactor 2, 60 s windows: b1 (lane 1, the first window) fails once, a1 (lane
 * 0, the next window) succeeds at once and is held by its open window. Once b1 is resolved
 * and its window's final invocation has succeeded, the checkpoint moves to b1: a1's window
 * holds back only from a1 on, never the other lane's finished record before it (§6). */
static void window_hold_per_lane(void **state) {
  (void)state;
  gen_host *h = gen_new(2, 0);
  key_for_lane(1, 2, "b", h->recs[0].pk, sizeof h->recs[0].pk);
  key_for_lane(0, 2, "a", h->recs[1].pk, sizeof h->recs[1].pk);
  h->recs[0].arrival_ms = GW0 + 1000;
  h->recs[1].arrival_ms = GW0 + 61000;
  h->recs[0].fail_once = 1;
  bp_config *c = kcfg();
  assert_int_equal(bp_config_set_parallelization_factor(c, 2), 0);
  assert_int_equal(bp_config_set_tumbling_window_in_seconds(c, 60), 0);
  bp_engine_opts o = gen_opts();
  gen_start(h, c, &o, GW0 + 70000);
  gen_run(h, GW0 + 100000);
  assert_int_equal(h->finals, 1); /* b1's window; a1's ends at GW0 + 120 s */
  char ck[64];
  size_t len = 0;
  assert_int_equal(bp_engine_get_checkpoint(h->e, SHARD0, ck, sizeof ck, &len), 0);
  assert_string_equal(ck, h->recs[0].seq);
  gen_run(h, GW0 + 200000);
  assert_int_equal(h->finals, 2);
  assert_int_equal(bp_engine_get_checkpoint(h->e, SHARD0, ck, sizeof ck, &len), 0);
  assert_string_equal(ck, h->recs[1].seq);
  gen_free(h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(filter_one_percent),
      cmocka_unit_test(filter_lowered_cap),
      cmocka_unit_test(filter_max_fetch),
      cmocka_unit_test(window_larger_than_cap),
      cmocka_unit_test(window_eleven_cap_ten),
      cmocka_unit_test(window_hold_per_lane),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
