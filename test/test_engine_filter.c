/* SPDX-License-Identifier: MIT */
/* FilterCriteria applied by the engine (SEMANTICS.md §3.1, §7, §8.4; FILTERS.md §5):
 * whole reads filtered out (checkpoint moved and stored, FilteredOutEventCount in the totals
 * and in BP_EVENT_METRIC), records filtered out inside a batch (BatchSize, the batching window
 * and the 6 MB bound count passing records only; retries and bisect see passing records
 * only), Kinesis payloads that are not JSON (dropped when a filter references top-level
 * `data`, filtered on metadata otherwise; base64-flagged payloads decoded), DynamoDB typed
 * values and metadata, several filters (any one matches; 5 by default, 10 when raised), the
 * strict-Lambda flag, invalid patterns (refused by the configuration, strict-mode ones by
 * bp_engine_new; message, no leak, failmalloc), lanes (filtered records never wait for a
 * lane), and no allocation per record in steady state.
 * Every run goes through test/support/mock_host.c under the test allocator (no leak). */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <yajl/yajl_tree.h>

#include "batchpoint.h"
#include "batchpoint/bp_engine.h"
#include "batchpoint/bp_filter.h"
#include "engine_fixture.h"
#include "mock_host.h"
#include "test_alloc.h"

#define MAPPING_UUID "a1b2c3d4-0000-4000-8000-0000000000f1"

#define KEEP_PATTERN "{\"data\":{\"keep\":[true]}}"
#define KEEP_DATA "{\"keep\":true}"
#define DROP_DATA "{\"keep\":false}"

/* =====================================================================================
 * Helpers
 * ===================================================================================== */

static void add_filter(bp_config *c, const char *pattern) {
  int rc = bp_config_add_filter(c, pattern, strlen(pattern));
  if (rc) fail_msg("bp_config_add_filter(%s): %s", pattern, bp_config_errmsg(c));
}

static bp_engine_opts kopts(void) { return engine_opts(MAPPING_UUID, 42); }

/* Invocation @p i carries exactly records @p want[0..n) of @p shard, in this order. */
static void assert_inv_records(const mock_host *m, size_t i, int shard, const size_t *want,
                               size_t n) {
  if (i >= m->ninvokes) fail_msg("invocation %zu missing (%zu made)", i, m->ninvokes);
  const mock_invoke *inv = &m->invokes[i];
  assert_int_equal(inv->shard, shard);
  if (inv->count != n) fail_msg("invocation %zu: %zu records, expected %zu", i, inv->count, n);
  for (size_t j = 0; j < n; j++)
    if (mock_inv_records(m, inv)[j] != want[j])
      fail_msg("invocation %zu, record %zu: r%zu, expected r%zu", i, j,
               mock_inv_records(m, inv)[j], want[j]);
}

/* The payload of invocation @p i (kept with m->keep_payloads) lists exactly the sequence
 * numbers of records @p want[0..n), in order: filtered-out records are not in the event. */
static void assert_payload_records(const mock_host *m, size_t i, int shard, const size_t *want,
                                   size_t n) {
  const mock_invoke *inv = &m->invokes[i];
  assert_non_null(inv->payload);
  char err[256];
  yajl_val v = yajl_tree_parse(inv->payload, err, sizeof err);
  if (!v) fail_msg("invocation %zu: payload is not JSON (%s)", i, err);
  const char *rpath[] = {"Records", NULL};
  yajl_val recs = yajl_tree_get(v, rpath, yajl_t_array);
  assert_non_null(recs);
  assert_int_equal(recs->u.array.len, n);
  const char *spath[] = {"kinesis", "sequenceNumber", NULL};
  for (size_t j = 0; j < n; j++) {
    yajl_val seq = yajl_tree_get(recs->u.array.values[j], spath, yajl_t_string);
    assert_non_null(seq);
    assert_string_equal(YAJL_GET_STRING(seq), mock_rec(m, shard, want[j])->seq);
  }
  yajl_tree_free(v);
}

/* The last checkpoint save request of @p shard names record @p index and was stored. */
static void assert_last_save(const mock_host *m, int shard, size_t index) {
  assert_true(m->nsaves > 0);
  const mock_save *sv = &m->saves[m->nsaves - 1];
  assert_int_equal(sv->shard, shard);
  assert_string_equal(sv->seq, mock_rec(m, shard, index)->seq);
  assert_int_equal(mock_saved_checkpoint(m, shard), (long)index);
}

/* One record of a table-driven run: Kinesis (pk + data) or, with event_name set, DynamoDB
 * (event_name + the whole StreamRecord JSON in ddb). */
typedef struct rec_spec {
  const char *pk;
  const char *data;
  const char *event_name;
  const char *ddb;
} rec_spec;

static void put_spec(mock_host *m, int s, const rec_spec *r) {
  if (!r->event_name) {
    mock_put(m, s, r->pk, r->data, T0 - 100);
    return;
  }
  size_t i = mock_put_ddb(m, s, r->pk, r->event_name, T0 - 100);
  mock_record *x = &m->shards[s].recs[i];
  assert_true(strlen(r->ddb) < sizeof x->ddb_json);
  x->ddb_json_len = (size_t)snprintf(x->ddb_json, sizeof x->ddb_json, "%s", r->ddb);
}

/* Run @p cfg (deleted here; its filters set) over records @p recs[0..n) (n <= 32), read in one
 * fetch, with a synchronous host. Checks what holds whatever the filters say: each passing
 * record invoked once and in shard order, the checkpoint (in memory and stored) at the last
 * record, FilteredOutEventCount = the records not invoked (non-JSON drops included: §8.4),
 * nothing counted as dropped or failed. Returns the mask of invoked records. */
static unsigned run_mask(bp_config *cfg, const rec_spec *recs, size_t n) {
  assert_true(n > 0 && n <= 32);
  mock_host *m = mk_mock();
  m->keep_payloads = 1;
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  for (size_t i = 0; i < n; i++) put_spec(m, s, &recs[i]);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(m->complete_errors, 0);
  unsigned mask = 0;
  long last = -1;
  for (size_t k = 0; k < m->ninvokes; k++) {
    const mock_invoke *inv = &m->invokes[k];
    for (size_t j = 0; j < inv->count; j++) {
      size_t r = mock_inv_records(m, inv)[j];
      assert_true((long)r > last); /* shard order, each record once */
      last = (long)r;
      mask |= 1u << r;
    }
  }
  bp_engine_metrics mt = mock_metrics(m, NULL);
  assert_int_equal(mt.polled_event_count, n);
  assert_int_equal(mt.filtered_out_event_count, n - popcount(mask));
  assert_int_equal(mt.invoked_event_count, popcount(mask));
  assert_int_equal(mt.dropped_event_count, 0);
  assert_int_equal(mt.failed_invoke_event_count, 0);
  assert_int_equal(mock_checkpoint(m, s), (long)n - 1);
  assert_last_save(m, s, n - 1);
  assert_int_equal(bp_engine_idle(m->e), 1);
  mock_host_free(m);
  return mask;
}

/* run_mask() over a configuration holding the @p np patterns; fails unless the invoked
 * records are exactly @p want. */
static void expect_mask(const char *arn, const char *const *patterns, size_t np,
                        const rec_spec *recs, size_t n, unsigned want) {
  bp_config *cfg = cfg_new(arn, BP_POSITION_TRIM_HORIZON);
  for (size_t i = 0; i < np; i++) add_filter(cfg, patterns[i]);
  unsigned got = run_mask(cfg, recs, n);
  if (got != want)
    fail_msg("filter %s%s: records invoked %#x, expected %#x", patterns[0],
             np > 1 ? " (and more)" : "", got, want);
}

/* =====================================================================================
 * Whole reads filtered out (§3.1 (batchpoint's decision), §7.3, §8.4)
 * ===================================================================================== */

/* Every record of every read is filtered out: no invocation; after each read the checkpoint
 * is its last record and is stored; the storage is free again, so the next read is asked at
 * once. FilteredOutEventCount = n in the totals (engine and shard) and, with MetricsConfig
 * EventCount only, one BP_EVENT_METRIC per read carrying that read's count. */
static void test_all_filtered_read(void **state) {
  (void)state;
  for (int metrics = 0; metrics < 2; metrics++) {
    mock_host *m = mk_mock();
    m->async[MOCK_FETCH] = 1;
    bp_config *cfg = kcfg();
    assert_int_equal(bp_config_set_batch_size(cfg, 4), 0);
    assert_int_equal(bp_config_set_metrics_event_count(cfg, metrics), 0);
    add_filter(cfg, "{\"data\":{\"kind\":[\"wanted\"]}}");
    bp_engine_opts o = kopts();
    o.max_buffered_records = 8; /* reads of at most 8 records */
    int s = start(m, cfg, &o);
    for (int i = 0; i < 20; i++) mock_put(m, s, "k1", "{\"kind\":\"other\"}", T0 - 100);
    assert_int_equal(mock_tick(m, T0), 0);
    const size_t reads[] = {8, 8, 4};
    size_t last = 0;
    for (size_t r = 0; r < 3; r++) {
      size_t f = mock_first_pending(m, MOCK_FETCH);
      assert_int_equal(f, r);
      size_t saves = m->nsaves;
      assert_int_equal(mock_complete_fetch(m, f, T0 + (int64_t)r, 0), 0);
      assert_int_equal(m->fetches[f].returned, reads[r]);
      last += reads[r];
      assert_int_equal(m->ninvokes, 0);
      assert_int_equal(mock_checkpoint(m, s), (long)last - 1);
      assert_true(m->nsaves > saves); /* stored by this read, not later */
      assert_last_save(m, s, last - 1);
      /* every record is finished and released: the next read is asked at once */
      assert_int_equal(mock_pending(m, MOCK_FETCH), 1);
      assert_int_equal(m->fetches[f + 1].from, BP_POSITION_CONTINUE);
      assert_int_equal(m->fetches[f + 1].max_records, 8);
    }
    assert_int_equal(mock_complete_fetch(m, 3, T0 + 3, 0), 0); /* empty read */
    assert_int_equal(m->fetches[3].returned, 0);
    assert_int_equal(bp_engine_idle(m->e), 1);
    assert_int_equal(m->ninvokes, 0);

    bp_engine_metrics mt = mock_metrics(m, NULL);
    assert_int_equal(mt.polled_event_count, 20);
    assert_int_equal(mt.filtered_out_event_count, 20);
    assert_int_equal(mt.invoked_event_count, 0);
    assert_int_equal(mt.invocations, 0);
    assert_int_equal(mt.dropped_event_count, 0);
    assert_int_equal(mt.buffered_records, 0);
    assert_int_equal(mock_metrics(m, SHARD0).filtered_out_event_count, 20);
    if (metrics) {
      assert_int_equal(m->metric_sums[BP_METRIC_FILTERED_OUT_EVENT_COUNT], 20);
      assert_int_equal(m->metric_events[BP_METRIC_FILTERED_OUT_EVENT_COUNT], 3);
      size_t k = 0;
      for (size_t i = 0; i < m->nevents; i++) {
        const mock_event *ev = &m->events[i];
        if (ev->type != BP_EVENT_METRIC || ev->detail != BP_METRIC_FILTERED_OUT_EVENT_COUNT)
          continue;
        assert_int_equal(ev->shard, s);
        assert_int_equal(ev->value, (int64_t)reads[k++]);
      }
      assert_int_equal(k, 3);
      assert_int_equal(m->metric_sums[BP_METRIC_POLLED_EVENT_COUNT], 20);
      assert_int_equal(m->metric_events[BP_METRIC_INVOKED_EVENT_COUNT], 0);
    } else {
      assert_int_equal(m->metric_events[BP_METRIC_FILTERED_OUT_EVENT_COUNT], 0);
    }
    mock_host_free(m);
  }
}

/* =====================================================================================
 * Records filtered out inside batches (§3.1)
 * ===================================================================================== */

/* r0..r9, the ones in PASS pass (r9, the last, is filtered out). */
#define MIXED_N 10
static const int MIXED_PASS[MIXED_N] = {1, 0, 1, 1, 0, 1, 1, 0, 1, 0};

static void put_mixed(mock_host *m, int s) {
  for (int i = 0; i < MIXED_N; i++)
    mock_put(m, s, "k1", MIXED_PASS[i] ? KEEP_DATA : DROP_DATA, T0 - 100);
}

/* BatchSize 3 over 10 records of which 6 pass, all read at once: two batches of 3 passing
 * records (BatchSize counts passing records only); the events hold exactly those records;
 * the checkpoint ends at r9, which was filtered out. */
static void test_mixed_batches(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  m->keep_payloads = 1;
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_batch_size(cfg, 3), 0);
  add_filter(cfg, KEEP_PATTERN);
  bp_engine_opts o = kopts();
  o.max_buffered_records = 64; /* one read takes all ten */
  int s = start(m, cfg, &o);
  put_mixed(m, s);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(m->fetches[0].returned, MIXED_N);
  assert_int_equal(m->ninvokes, 2);
  const size_t b0[] = {0, 2, 3}, b1[] = {5, 6, 8};
  assert_inv_records(m, 0, s, b0, 3);
  assert_inv_records(m, 1, s, b1, 3);
  assert_payload_records(m, 0, s, b0, 3);
  assert_payload_records(m, 1, s, b1, 3);
  assert_int_equal(mock_checkpoint(m, s), 9);
  assert_last_save(m, s, 9);
  bp_engine_metrics mt = mock_metrics(m, NULL);
  assert_int_equal(mt.filtered_out_event_count, 4);
  assert_int_equal(mt.invoked_event_count, 6);
  assert_int_equal(mt.polled_event_count, 10);
  for (size_t i = 0; i < MIXED_N; i++)
    assert_int_equal(mock_rec(m, s, i)->invoked, (uint32_t)MIXED_PASS[i]);
  mock_host_free(m);
}

/* With a batching window (10 s) and a buffer cap the host lowered to 6 records (a read asks
 * for 6: SEMANTICS.md §8.1, batches may then be smaller than AWS's),
 * filtered records take no place in a batch: the first read (r0..r5, 4 pass) fills a batch
 * of 3 at once; the second batch starts with r5 and is filled to 3 by the next read's passing
 * r6 and r8 at once, without waiting for the window. The checkpoint ends at r9. */
static void test_mixed_batches_window(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_batch_size(cfg, 3), 0);
  assert_int_equal(bp_config_set_maximum_batching_window_in_seconds(cfg, 10), 0);
  add_filter(cfg, KEEP_PATTERN);
  bp_engine_opts o = kopts();
  o.max_buffered_records = 6;
  int s = start(m, cfg, &o);
  put_mixed(m, s);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(m->fetches[0].returned, 6);
  assert_int_equal(m->ninvokes, 2);
  const size_t b0[] = {0, 2, 3}, b1[] = {5, 6, 8};
  assert_inv_records(m, 0, s, b0, 3);
  assert_inv_records(m, 1, s, b1, 3);
  assert_int_equal(m->invokes[0].at_ms, T0);
  assert_int_equal(m->invokes[1].at_ms, T0);
  assert_int_equal(mock_checkpoint(m, s), 9);
  assert_last_save(m, s, 9);
  assert_int_equal(mock_metrics(m, NULL).filtered_out_event_count, 4);
  mock_host_free(m);
}

/* §3.1 rule 3: the 6 MB bound measures the passing records only. Records of 900,000 bytes
 * (1,200,000 in base64): five passing ones fit in one event, six do not. Five large records
 * filtered out between them cause no cut: the first event holds the five passing records,
 * the sixth passing one goes to the next. */
static void test_event_limit_counts_passing_only(void **state) {
  (void)state;
  enum { BIG = 900000 };
  mock_host *m = mk_mock();
  bp_config *cfg = kcfg();
  add_filter(cfg, "{\"kinesis\":{\"partitionKey\":[\"keep\"]}}");
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  for (int i = 0; i < 11; i++) mock_put_big(m, s, i % 2 ? "drop" : "keep", BIG, 'a', T0 - 100);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(m->fetches[0].returned, 11);
  assert_int_equal(m->ninvokes, 2);
  const size_t b0[] = {0, 2, 4, 6, 8}, b1[] = {10};
  assert_inv_records(m, 0, s, b0, 5);
  assert_inv_records(m, 1, s, b1, 1);
  assert_true(m->invokes[0].payload_len <= BP_MAX_EVENT_BYTES);
  assert_true(m->invokes[0].payload_len > 5u * (BIG / 3 * 4)); /* the records are in it */
  assert_int_equal(mock_checkpoint(m, s), 10);
  assert_int_equal(mock_metrics(m, NULL).filtered_out_event_count, 5);
  mock_host_free(m);
}

/* Retries and bisect work on the passing records only: BatchSize 10 over 10 records of which
 * 6 pass, r5 (passing) always fails, MaximumRetryAttempts 0, bisect on: every attempt,
 * halves included, carries passing records only; r5 ends discarded (DroppedEventCount 1,
 * filtered records never counted there) and the checkpoint reaches r9. */
static void fn_fail_r5(mock_host *m, const mock_invoke *inv, bp_invoke_result *r) {
  const size_t *recs = mock_inv_records(m, inv);
  for (size_t j = 0; j < inv->count; j++)
    if (recs[j] == 5) r->kind = BP_INVOKE_RESULT_ERROR;
}

static void test_retry_and_bisect_see_passing_only(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  m->fn = fn_fail_r5;
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_batch_size(cfg, 10), 0);
  assert_int_equal(bp_config_set_bisect_batch_on_function_error(cfg, 1), 0);
  assert_int_equal(bp_config_set_maximum_retry_attempts(cfg, 0), 0);
  add_filter(cfg, KEEP_PATTERN);
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  put_mixed(m, s);
  assert_int_equal(mock_run(m, T0 + 60000), 0);
  assert_true(m->ninvokes >= 3); /* the whole batch, then halves */
  const size_t b0[] = {0, 2, 3, 5, 6, 8};
  assert_inv_records(m, 0, s, b0, 6);
  int split = 0;
  for (size_t i = 0; i < m->ninvokes; i++) {
    const mock_invoke *inv = &m->invokes[i];
    split |= (inv->flags & BP_INVOKE_SPLIT) != 0;
    for (size_t j = 0; j < inv->count; j++)
      if (!MIXED_PASS[mock_inv_records(m, inv)[j]])
        fail_msg("invocation %zu carries r%zu, which was filtered out", i,
                 mock_inv_records(m, inv)[j]);
  }
  assert_true(split);
  assert_int_equal(mock_checkpoint(m, s), 9);
  bp_engine_metrics mt = mock_metrics(m, NULL);
  assert_int_equal(mt.dropped_event_count, 1);
  assert_int_equal(mt.filtered_out_event_count, 4);
  mock_host_free(m);
}

/* =====================================================================================
 * Kinesis payloads and the filter view (§7.2, §7.3; FILTERS.md §5)
 * ===================================================================================== */

/* A filter referencing top-level `data` makes a payload that is not JSON a drop: not
 * invoked, passed by the checkpoint, counted in FilteredOutEventCount (not in
 * DroppedEventCount, run_mask checks both), even when another filter without `data` would
 * match it (r1, r4 with partition key k1). */
static void test_kinesis_not_json_dropped(void **state) {
  (void)state;
  const char *p[] = {"{\"data\":{\"kind\":[\"a\"]}}", "{\"kinesis\":{\"partitionKey\":[\"k1\"]}}"};
  const rec_spec recs[] = {
      {"k1", "{\"kind\":\"a\"}", NULL, NULL}, /* r0 data filter */
      {"k1", "not json", NULL, NULL},         /* r1 dropped: not JSON */
      {"k2", "{\"kind\":\"b\"}", NULL, NULL}, /* r2 no filter matches */
      {"k1", "{\"kind\":\"b\"}", NULL, NULL}, /* r3 partition-key filter */
      {"k2", "{\"kind\":\"a\"", NULL, NULL},  /* r4 dropped: truncated JSON */
      {"k1", "\x01\xff binary", NULL, NULL},  /* r5 dropped: not even UTF-8 */
  };
  expect_mask(STREAM_ARN, p, 2, recs, 6, 0x09);
  /* the data filter alone: the same drops */
  expect_mask(STREAM_ARN, p, 1, recs, 6, 0x01);
  /* a `data` reference inside a top-level $or branch counts as well (§7.2) */
  const char *or_p[] = {
      "{\"$or\":[{\"data\":{\"kind\":[\"a\"]}},{\"kinesis\":{\"partitionKey\":[\"k1\"]}}]}"};
  expect_mask(STREAM_ARN, or_p, 1, recs, 6, 0x09);
  /* a payload that is JSON but no object: `data` holds the value (FILTERS.md §5) */
  const char *num_p[] = {"{\"data\":[42]}"};
  const rec_spec nums[] = {{"k", "42", NULL, NULL}, {"k", "43", NULL, NULL},
                           {"k", "{\"data\":42}", NULL, NULL}, {"k", "4.2e1", NULL, NULL}};
  expect_mask(STREAM_ARN, num_p, 1, nums, 4, 0x09);
}

/* Without a `data` reference nothing is parsed: payloads that are not JSON are filtered on
 * the record's other fields (the delivered record, §7.2), so kinesis.partitionKey matches
 * them; the 2022 form with a top-level partitionKey never matches (batchpoint's decision, §7.2), and metadata
 * Lambda adds (eventSourceARN, eventName) is in the view. */
static void test_kinesis_metadata_only(void **state) {
  (void)state;
  const rec_spec recs[] = {
      {"k1", "not json", NULL, NULL},          /* r0 */
      {"k2", "not json", NULL, NULL},          /* r1 */
      {"k1", "{\"kind\":\"a\"}", NULL, NULL},  /* r2 */
      {"k1", "\x01\xff binary", NULL, NULL},   /* r3 */
      {"k3", "{\"kind\":\"a\"", NULL, NULL},   /* r4 */
  };
  const char *pk[] = {"{\"kinesis\":{\"partitionKey\":[\"k1\"]}}"};
  expect_mask(STREAM_ARN, pk, 1, recs, 5, 0x0D);
  const char *pk_not[] = {"{\"kinesis\":{\"partitionKey\":[{\"anything-but\":\"k1\"}]}}"};
  expect_mask(STREAM_ARN, pk_not, 1, recs, 5, 0x12);
  const char *top_pk[] = {"{\"partitionKey\":[\"k1\"]}"};
  expect_mask(STREAM_ARN, top_pk, 1, recs, 5, 0x00);
  const char *arn[] = {"{\"eventSourceARN\":[\"" STREAM_ARN "\"],"
                       "\"eventName\":[\"aws:kinesis:record\"]}"};
  expect_mask(STREAM_ARN, arn, 1, recs, 5, 0x1F);
  /* the base64 text is at kinesis.data only; top-level data never holds it */
  const rec_spec hello[] = {{"k", "hello", NULL, NULL}, {"k", "\"hello\"", NULL, NULL}};
  const char *b64[] = {"{\"kinesis\":{\"data\":[\"aGVsbG8=\"]}}"};
  expect_mask(STREAM_ARN, b64, 1, hello, 2, 0x01);
  const char *b64_top[] = {"{\"data\":[\"aGVsbG8=\"]}"};
  expect_mask(STREAM_ARN, b64_top, 1, hello, 2, 0x00);
  const char *text[] = {"{\"data\":[\"hello\"]}"};
  expect_mask(STREAM_ARN, text, 1, hello, 2, 0x02); /* "hello" unquoted is not JSON */
}

/* A host may hand payloads over as base64 text (BP_RECORD_DATA_BASE64): the filter decodes
 * them before parsing; the event carries the same base64 text. */
static void test_kinesis_base64_payloads(void **state) {
  (void)state;
  static const char *const b64[] = {"eyJraW5kIjoiYSJ9", /* {"kind":"a"} */
                                    "bm90IGpzb24=",     /* not json */
                                    "eyJraW5kIjoiYiJ9", /* {"kind":"b"} */
                                    "eyJraW5kIjoiYSJ9"};
  mock_host *m = mk_mock();
  m->async[MOCK_FETCH] = 1;
  m->keep_payloads = 1;
  bp_config *cfg = kcfg();
  add_filter(cfg, "{\"data\":{\"kind\":[\"a\"]}}");
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  for (int i = 0; i < 4; i++) mock_put(m, s, "k1", "unused", T0 - 100);
  assert_int_equal(mock_tick(m, T0), 0);
  assert_int_equal(mock_pending(m, MOCK_FETCH), 1);
  bp_record views[4];
  for (size_t i = 0; i < 4; i++) {
    mock_view(m, s, i, &views[i]);
    views[i].data = (const uint8_t *)b64[i];
    views[i].data_len = strlen(b64[i]);
    views[i].flags = BP_RECORD_DATA_BASE64;
  }
  m->fetches[0].completed = 1;
  assert_int_equal(bp_engine_complete_fetch(m->e, m->fetches[0].req_id, T0, 0, views, 4, 0), 0);
  assert_int_equal(m->ninvokes, 1);
  const size_t want[] = {0, 3};
  assert_inv_records(m, 0, s, want, 2);
  assert_non_null(strstr(m->invokes[0].payload, "\"data\":\"eyJraW5kIjoiYSJ9\""));
  assert_int_equal(mock_checkpoint(m, s), 3);
  assert_int_equal(mock_metrics(m, NULL).filtered_out_event_count, 2);
  mock_host_free(m);
}

/* =====================================================================================
 * DynamoDB (§7.2; FILTERS.md §5)
 * ===================================================================================== */

#define DDB_KEYS(k) "{\"Keys\":{\"pk\":{\"S\":\"" k "\"}},"
#define DDB_TAIL "\"SizeBytes\":40,\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"}"

/* Typed attribute values: N compared as a string; numeric never matches an N (a string);
 * anything-but on N matches other strings; eventName metadata; the numeric
 * ApproximateCreationDateTime; exists:false on a typed leaf. */
static void test_dynamodb_filters(void **state) {
  (void)state;
  const rec_spec recs[] = {
      {"a", NULL, "INSERT",
       DDB_KEYS("a") "\"NewImage\":{\"pk\":{\"S\":\"a\"},\"n\":{\"N\":\"42\"}}," DDB_TAIL},
      {"b", NULL, "MODIFY",
       DDB_KEYS("b") "\"NewImage\":{\"pk\":{\"S\":\"b\"},\"n\":{\"N\":\"101\"}},"
                     "\"OldImage\":{\"pk\":{\"S\":\"b\"},\"n\":{\"N\":\"100\"}}," DDB_TAIL},
      {"c", NULL, "INSERT",
       DDB_KEYS("c") "\"NewImage\":{\"pk\":{\"S\":\"c\"},\"n\":{\"N\":\"42.0\"}}," DDB_TAIL},
      {"d", NULL, "MODIFY",
       DDB_KEYS("d") "\"NewImage\":{\"pk\":{\"S\":\"d\"},\"n\":{\"N\":\"150\"}},"
                     "\"OldImage\":{\"pk\":{\"S\":\"d\"},\"n\":{\"N\":\"7\"}}," DDB_TAIL},
      {"e", NULL, "REMOVE",
       DDB_KEYS("e") "\"OldImage\":{\"pk\":{\"S\":\"e\"},\"n\":{\"N\":\"7\"}}," DDB_TAIL},
  };
  const size_t n = sizeof recs / sizeof recs[0];
  static const struct {
    const char *pattern;
    unsigned want;
  } cases[] = {
      {"{\"dynamodb\":{\"NewImage\":{\"n\":{\"N\":[\"42\"]}}}}", 0x01}, /* not "42.0" */
      {"{\"dynamodb\":{\"NewImage\":{\"n\":[\"42\"]}}}", 0x00},         /* untyped */
      {"{\"dynamodb\":{\"NewImage\":{\"n\":{\"N\":[42]}}}}", 0x00},     /* a number */
      {"{\"dynamodb\":{\"NewImage\":{\"n\":{\"N\":[{\"numeric\":[\">\",0]}]}}}}", 0x00},
      {"{\"dynamodb\":{\"NewImage\":{\"n\":{\"N\":[{\"numeric\":[\">\",100]},"
       "{\"anything-but\":\"101\"}]}}}}",
       0x0D},
      {"{\"dynamodb\":{\"NewImage\":{\"n\":{\"N\":[{\"prefix\":\"4\"}]}}}}", 0x05},
      {"{\"dynamodb\":{\"NewImage\":{\"n\":{\"N\":[{\"exists\":false}]}}}}", 0x10},
      {"{\"dynamodb\":{\"OldImage\":{\"n\":{\"N\":[\"7\"]}}}}", 0x18},
      {"{\"eventName\":[\"INSERT\"]}", 0x05},
      {"{\"eventName\":[\"INSERT\",\"MODIFY\"]}", 0x0F},
      {"{\"eventName\":[\"MODIFY\"],\"dynamodb\":{\"NewImage\":{\"n\":{\"N\":[\"150\"]}}}}", 0x08},
      {"{\"eventSource\":[\"aws:dynamodb\"]}", 0x1F},
      {"{\"dynamodb\":{\"ApproximateCreationDateTime\":[{\"numeric\":[\">\",0]}]}}", 0x1F},
      {"{\"dynamodb\":{\"Keys\":{\"pk\":{\"S\":[\"c\",\"e\"]}}}}", 0x14},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    expect_mask(DDB_ARN, &cases[i].pattern, 1, recs, n, cases[i].want);
}

/* =====================================================================================
 * Several filters, limits, strict mode, invalid patterns (§7.1, §7.2)
 * ===================================================================================== */

/* Records r0..r(n-1) with data {"f":i+1}. */
static void f_records(rec_spec *recs, char (*data)[16], size_t n) {
  for (size_t i = 0; i < n; i++) {
    snprintf(data[i], sizeof data[i], "{\"f\":%zu}", i + 1);
    recs[i] = (rec_spec){"k1", data[i], NULL, NULL};
  }
}

/* Filters {"data":{"f":[i]}} for i in first..last. */
static void add_f_filters(bp_config *c, int first, int last) {
  for (int i = first; i <= last; i++) {
    char p[64];
    snprintf(p, sizeof p, "{\"data\":{\"f\":[%d]}}", i);
    add_filter(c, p);
  }
}

/* A record passes when any filter matches (the last one alone included); 5 filters by
 * default, a 6th refused by the configuration; the limit raised to 10 (setter or by name)
 * takes 10 and refuses an 11th; the engine applies all 10. */
static void test_several_filters_and_limits(void **state) {
  (void)state;
  rec_spec recs[12];
  char data[12][16];
  f_records(recs, data, 12);

  bp_config *c = kcfg();
  assert_int_equal(bp_config_get_max_filters(c), BP_CONFIG_DEFAULT_MAX_FILTERS);
  add_f_filters(c, 1, 5);
  const char *f6 = "{\"data\":{\"f\":[6]}}", *f11 = "{\"data\":{\"f\":[11]}}";
  assert_int_equal(bp_config_add_filter(c, f6, strlen(f6)), BP_ERR_CONFIG_INVALID);
  assert_string_equal(bp_config_errmsg(c), "The number of filters exceeds the limit of 5.");
  assert_int_equal(bp_config_get_filter_count(c), 5);
  assert_int_equal(run_mask(c, recs, 7), 0x1F); /* f 1..5 pass, 6 and 7 do not */

  c = kcfg();
  assert_int_equal(bp_config_set_max_filters(c, BP_CONFIG_MAX_FILTERS_LIMIT), 0);
  add_f_filters(c, 1, 10);
  assert_int_equal(bp_config_add_filter(c, f11, strlen(f11)), BP_ERR_CONFIG_INVALID);
  assert_string_equal(bp_config_errmsg(c), "The number of filters exceeds the limit of 10.");
  assert_int_equal(bp_config_get_filter_count(c), 10);
  assert_int_equal(bp_config_set_max_filters(c, 11), BP_ERR_CONFIG_INVALID);
  assert_int_equal(bp_config_set_max_filters(c, 5), BP_ERR_CONFIG_INVALID); /* below 10 set */
  assert_int_equal(bp_config_get_max_filters(c), 10);
  assert_int_equal(run_mask(c, recs, 12), 0x3FF); /* f 1..10 pass, 11 and 12 do not */

  char err[256];
  c = kcfg();
  assert_int_equal(bp_config_set(c, "MaxFilters", "10", err, sizeof err), 0);
  add_f_filters(c, 3, 10);
  assert_int_equal(bp_config_get_filter_count(c), 8);
  assert_int_equal(run_mask(c, recs, 12), 0x3FC);
}

/* BP_FILTER_STRICT_LAMBDA refuses an operator Lambda does not list (wildcard) at
 * bp_engine_new with a message; the default flags accept it and the engine applies it;
 * strict mode takes the operators Lambda lists. */
static void test_strict_lambda_flag(void **state) {
  (void)state;
  const char *p = "{\"data\":{\"kind\":[{\"wildcard\":\"a*c\"}]}}";
  mock_host *m = mk_mock();
  bp_transport t;
  mock_transport(m, &t);
  bp_config *cfg = kcfg();
  add_filter(cfg, p);
  bp_engine_opts o = kopts();
  o.filter_flags = BP_FILTER_STRICT_LAMBDA;
  bp_engine *e = (bp_engine *)&e; /* not NULL: a refusal must set it to NULL */
  char err[256] = "";
  assert_int_equal(bp_engine_new(&e, cfg, &o, &t, m, m->alloc, err, sizeof err),
                   BP_ERR_CONFIG_INVALID);
  assert_null(e);
  if (!strstr(err, "Invalid filter pattern definition.") || !strstr(err, "filter 1"))
    fail_msg("message \"%s\"", err);
  assert_int_equal(m->ta.live_blocks, 0);
  /* flag bits bp_filter.h does not define are bad options */
  o.filter_flags = 0x80u;
  assert_int_equal(bp_engine_new(&e, cfg, &o, &t, m, m->alloc, err, sizeof err),
                   BP_ERR_INVALID_ARGUMENT);
  assert_null(e);
  assert_string_equal(err, "filter_flags 0x80: only BP_FILTER_STRICT_LAMBDA (0x1) is defined");
  assert_int_equal(m->ta.live_blocks, 0);
  bp_config_del(cfg);
  /* ... also when no filter is configured */
  cfg = kcfg();
  assert_int_equal(bp_engine_new(&e, cfg, &o, &t, m, m->alloc, err, sizeof err),
                   BP_ERR_INVALID_ARGUMENT);
  assert_null(e);
  assert_int_equal(m->ta.live_blocks, 0);
  bp_config_del(cfg);
  mock_host_free(m);

  /* default flags: the wildcard works end to end */
  const rec_spec recs[] = {{"k", "{\"kind\":\"abc\"}", NULL, NULL},
                           {"k", "{\"kind\":\"abd\"}", NULL, NULL},
                           {"k", "{\"kind\":\"axyzc\"}", NULL, NULL},
                           {"k", "{\"kind\":\"bac\"}", NULL, NULL}};
  expect_mask(STREAM_ARN, &p, 1, recs, 4, 0x05);

  /* strict mode: prefix and anything-but (both listed by Lambda) are accepted and applied */
  m = mk_mock();
  cfg = kcfg();
  add_filter(cfg, "{\"data\":{\"kind\":[{\"prefix\":\"a\"}],\"n\":[{\"anything-but\":[1]}]}}");
  o.filter_flags = BP_FILTER_STRICT_LAMBDA;
  int s = start(m, cfg, &o);
  mock_put(m, s, "k", "{\"kind\":\"abc\",\"n\":2}", T0 - 100);
  mock_put(m, s, "k", "{\"kind\":\"abc\",\"n\":1}", T0 - 100);
  mock_put(m, s, "k", "{\"kind\":\"bcd\",\"n\":2}", T0 - 100);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(m->ninvokes, 1);
  const size_t want[] = {0};
  assert_inv_records(m, 0, s, want, 1);
  assert_int_equal(mock_checkpoint(m, s), 2);
  mock_host_free(m);
}

/* A pattern that is a JSON object but no valid filter. A full build compiles it when it is
 * configured (bp_config.h, as AWS does at CreateEventSourceMapping): refused with AWS's
 * message naming the filter and event-ruler's reason, the configuration unchanged, nothing
 * leaked; an engine over that configuration runs with the filters that were accepted. */
static void test_invalid_pattern_refused(void **state) {
  (void)state;
  static const struct {
    const char *pattern;
    const char *reason;
  } bad[] = {
      {"{\"a\":\"x\"}", "\"a\" must be an object or an array"},
      {"{\"a\":[]}", "Empty arrays are not allowed"},
      {"{\"a\":[{\"numeric\":[\">\",\"1\"]}]}", "must be numeric"},
      {"{\"a\":[{\"nope\":1}]}", "Unrecognized match type nope"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    test_alloc ta;
    bp_allocator hooks;
    test_alloc_init(&ta, &hooks);
    bp_config *cfg = NULL;
    assert_int_equal(bp_config_new(&cfg, &hooks), 0);
    assert_int_equal(bp_config_set_event_source_arn(cfg, STREAM_ARN, strlen(STREAM_ARN)), 0);
    assert_int_equal(bp_config_set_function_name(cfg, FN_ARN, strlen(FN_ARN)), 0);
    assert_int_equal(bp_config_set_starting_position(cfg, BP_POSITION_TRIM_HORIZON), 0);
    add_filter(cfg, KEEP_PATTERN);
    assert_int_equal(bp_config_add_filter(cfg, bad[i].pattern, strlen(bad[i].pattern)),
                     BP_ERR_CONFIG_INVALID);
    const char *msg = bp_config_errmsg(cfg);
    if (strncmp(msg, "Invalid filter pattern definition.", 34) || !strstr(msg, "filter 2") ||
        !strstr(msg, bad[i].reason))
      fail_msg("pattern %s: message \"%s\"", bad[i].pattern, msg);
    assert_string_equal(bp_config_error_type(cfg), "InvalidParameterValueException");
    assert_int_equal(bp_config_get_filter_count(cfg), 1);
    /* the engine gets the accepted filter only */
    mock_host *m = mk_mock();
    bp_engine_opts o = kopts();
    int s = start(m, cfg, &o);
    assert_int_equal(ta.live_blocks, 0); /* the configuration's memory, refusal included */
    put_mixed(m, s);
    assert_int_equal(mock_run(m, T0), 0);
    assert_int_equal(mock_metrics(m, NULL).invoked_event_count, 6);
    assert_int_equal(mock_checkpoint(m, s), MIXED_N - 1);
    mock_host_free(m);
  }
}

/* What only the engine checks, at bp_engine_new: the strict-Lambda subset. A pattern valid
 * in the full language but outside it (cidr, as the 2nd filter) is refused with
 * BP_ERR_CONFIG_INVALID and a message naming the filter and the reason; nothing leaks. */
static void test_strict_refusal_names_filter(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  bp_transport t;
  mock_transport(m, &t);
  bp_config *cfg = kcfg();
  add_filter(cfg, KEEP_PATTERN);
  add_filter(cfg, "{\"data\":{\"ip\":[{\"cidr\":\"10.0.0.0/8\"}]}}");
  bp_engine_opts o = kopts();
  o.filter_flags = BP_FILTER_STRICT_LAMBDA;
  bp_engine *e = (bp_engine *)&e; /* not NULL: a refusal must set it to NULL */
  char err[512] = "";
  assert_int_equal(bp_engine_new(&e, cfg, &o, &t, m, m->alloc, err, sizeof err),
                   BP_ERR_CONFIG_INVALID);
  assert_null(e);
  if (strncmp(err, "Invalid filter pattern definition.", 34) || !strstr(err, "filter 2") ||
      !strstr(err, "cidr"))
    fail_msg("message \"%s\"", err);
  assert_true(m->ta.allocs > 0); /* the engine got as far as compiling */
  assert_int_equal(m->ta.live_blocks, 0);
  bp_config_del(cfg);
  mock_host_free(m);
}

/* Failmalloc over creation with filters (compiled then) and a first run: every failure is
 * BP_ERR_NOMEM and leaks nothing. */
static int scenario_create_with_filters(const bp_allocator *hooks, void *ctx) {
  (void)ctx;
  mock_host *m = mk_mock();
  m->alloc = hooks;
  bp_config *cfg = kcfg();
  add_filter(cfg, KEEP_PATTERN);
  add_filter(cfg, "{\"kinesis\":{\"partitionKey\":[{\"prefix\":\"k\"}]},"
                  "\"$or\":[{\"data\":{\"n\":[{\"numeric\":[\">\",5]}]}},{\"data\":{\"x\":[1]}}]}");
  bp_engine_opts o = kopts();
  int s = -1;
  int rc = try_start(m, cfg, &o, &s);
  if (rc == 0) {
    put_mixed(m, s);
    rc = mock_run(m, T0);
  }
  mock_host_free(m);
  return rc;
}

static void test_failmalloc_create_with_filters(void **state) {
  (void)state;
  test_alloc_failmalloc(scenario_create_with_filters, NULL);
}

/* =====================================================================================
 * Lanes (§3.2)
 * ===================================================================================== */

/* ParallelizationFactor 2, asynchronous function: records filtered out are finished at
 * once, whichever lane their key routes to; they never wait behind that lane's invocation
 * in flight and never hold the checkpoint back. */
static void test_filtered_records_do_not_block_lanes(void **state) {
  (void)state;
  char ka[16], kb[16];
  key_for_lane(0, 2, "a", ka, sizeof ka);
  key_for_lane(1, 2, "b", kb, sizeof kb);
  mock_host *m = mk_mock();
  m->async[MOCK_INVOKE] = 1;
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_parallelization_factor(cfg, 2), 0);
  add_filter(cfg, KEEP_PATTERN);
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  mock_put(m, s, ka, KEEP_DATA, T0 - 100); /* r0 lane 0 */
  mock_put(m, s, kb, DROP_DATA, T0 - 100); /* r1 lane 1, filtered */
  mock_put(m, s, ka, DROP_DATA, T0 - 100); /* r2 lane 0, filtered */
  mock_put(m, s, kb, KEEP_DATA, T0 - 100); /* r3 lane 1 */
  mock_put(m, s, kb, DROP_DATA, T0 - 100); /* r4 lane 1, filtered */
  mock_put(m, s, ka, DROP_DATA, T0 - 100); /* r5 lane 0, filtered */
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(m->ninvokes, 2);
  const size_t l0[] = {0}, l1[] = {3};
  assert_inv_records(m, 0, s, l0, 1);
  assert_inv_records(m, 1, s, l1, 1);
  assert_int_equal(m->invokes[0].lane, 0);
  assert_int_equal(m->invokes[1].lane, 1);
  assert_int_equal(mock_checkpoint(m, s), -1); /* r0 in flight */
  /* lane 0 done: r1 and r2 are finished already, r3 (lane 1) is in flight */
  assert_int_equal(mock_complete_invoke(m, 0, T0 + 10), 0);
  assert_int_equal(mock_checkpoint(m, s), 2);
  assert_last_save(m, s, 2);
  /* a read filtered out entirely while lane 1 is still busy: nothing passes r3 */
  for (int i = 0; i < 4; i++) mock_put(m, s, i % 2 ? ka : kb, DROP_DATA, T0 + 20);
  size_t fetches = m->nfetches, read = 0;
  assert_int_equal(mock_run(m, T0 + 1500), 0);
  for (size_t i = fetches; i < m->nfetches; i++) read += m->fetches[i].returned;
  assert_int_equal(read, 4);
  assert_int_equal(m->ninvokes, 2);
  assert_int_equal(mock_checkpoint(m, s), 2);
  /* lane 1 done: the checkpoint jumps over r4, r5 and the filtered read to r9 */
  assert_int_equal(mock_complete_invoke(m, 1, T0 + 1600), 0);
  assert_int_equal(mock_checkpoint(m, s), 9);
  assert_last_save(m, s, 9);
  assert_int_equal(mock_metrics(m, NULL).filtered_out_event_count, 8);
  assert_int_equal(bp_engine_idle(m->e), 1);
  mock_host_free(m);
}

/* =====================================================================================
 * Memory
 * ===================================================================================== */

/* Steady state with a filter: after a warm-up, 1,000 more records (some passing, some
 * filtered out) make zero allocator calls. @p data_pattern: a filter on `data` (payloads
 * parsed) instead of one on metadata only. */
static void steady_state(int data_pattern) {
  mock_host *m = mk_mock();
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_metrics_event_count(cfg, 1), 0);
  /* both pass the records i with i % 7 < 3 */
  add_filter(cfg, data_pattern ? "{\"data\":{\"n\":[{\"numeric\":[\"<\",3]}]}}"
                               : "{\"kinesis\":{\"partitionKey\":[\"k0\",\"k1\",\"k2\"]}}");
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  for (size_t i = 0; i < 1300; i++) {
    char pk[8], data[32];
    snprintf(pk, sizeof pk, "k%zu", i % 7);
    snprintf(data, sizeof data, "{\"n\":%zu,\"id\":\"x%04zu\"}", i % 7, i);
    mock_put(m, s, pk, data, T0 - 100);
    if (i == 299) {
      /* warm-up: the first 300 records grow every buffer */
      assert_int_equal(mock_run(m, T0), 0);
      assert_int_equal(mock_run(m, T0 + 5000), 0);
      assert_int_equal(mock_checkpoint(m, s), 299);
    }
  }
  size_t calls = m->ta.calls, invokes = m->ninvokes;
  uint64_t filtered = mock_metrics(m, NULL).filtered_out_event_count;
  assert_int_equal(mock_run(m, T0 + 10000), 0);
  assert_int_equal(mock_checkpoint(m, s), 1299);
  assert_true(m->ninvokes > invokes);
  uint64_t want_out = 0;
  for (size_t i = 300; i < 1300; i++) want_out += i % 7 >= 3;
  assert_int_equal(mock_metrics(m, NULL).filtered_out_event_count - filtered, want_out);
  if (m->ta.calls != calls)
    fail_msg("%zu allocator calls for 1000 records in steady state (%s pattern)",
             m->ta.calls - calls, data_pattern ? "data" : "metadata");
  mock_host_free(m);
}

static void test_steady_state_metadata_pattern(void **state) {
  (void)state;
  steady_state(0);
}

/* bp_filter.h: matching allocates nothing once its buffers have grown, payloads parsed. */
static void test_steady_state_data_pattern(void **state) {
  (void)state;
  steady_state(1);
}

/* Every test frees its mocks; the teardown frees those of a test that failed half-way. */
#define TEST(f) cmocka_unit_test_teardown(f, release_mocks)

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(test_all_filtered_read),
      TEST(test_mixed_batches),
      TEST(test_mixed_batches_window),
      TEST(test_event_limit_counts_passing_only),
      TEST(test_retry_and_bisect_see_passing_only),
      TEST(test_kinesis_not_json_dropped),
      TEST(test_kinesis_metadata_only),
      TEST(test_kinesis_base64_payloads),
      TEST(test_dynamodb_filters),
      TEST(test_several_filters_and_limits),
      TEST(test_strict_lambda_flag),
      TEST(test_invalid_pattern_refused),
      TEST(test_strict_refusal_names_filter),
      TEST(test_failmalloc_create_with_filters),
      TEST(test_filtered_records_do_not_block_lanes),
      TEST(test_steady_state_metadata_pattern),
      TEST(test_steady_state_data_pattern),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
