/* SPDX-License-Identifier: MIT */
/* The growable ABI ("How structs grow", bp_common.h): host-filled structs are read through
 * their struct_size (0 and too small refused with a message naming the struct, the first
 * published size accepted, a bigger host struct accepted with its tail ignored), record
 * arrays are walked with the elements' struct_size as the stride (mixed sizes refused,
 * naming the index), and the structs the library fills carry its struct_size and a zeroed
 * reserved tail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "batchpoint.h"
#include "engine_fixture.h"

/* First published sizes (offsetof the last member + its size), as a binary built against
 * this version's headers would pass them. */
#define RECORD_V1 (offsetof(bp_record, user_identity_json_len) + sizeof(size_t))
#define OPTS_V1 (offsetof(bp_engine_opts, store_user_data) + sizeof(void *))
#define RESULT_V1 (offsetof(bp_invoke_result, failed_count) + sizeof(uint32_t))
#define CODEC_OPTS_V1 (offsetof(bp_codec_opts, function_arn) + sizeof(const char *))

static const char *const SEQS[3] = {"101", "102", "103"};

/* A host that embeds bp_record in a bigger struct of its own. */
typedef struct big_record {
  bp_record r;
  uint64_t host_tag;
  char host_note[13];
} big_record;

static int all_zero(const uint64_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i]) return 0;
  return 1;
}

/* ---- A minimal asynchronous host ---- */

typedef struct host {
  uint64_t fetch_id, invoke_id;
  int fetches, invokes, events, bad_events;
  uint32_t fetch_size, invoke_size, invoke_stride;
  int fetch_reserved_zero, invoke_reserved_zero;
  size_t invoked_n;
  char invoked[8][16]; /* the sequence numbers the last invocation carried */
} host;

static int h_fetch(bp_engine *e, const bp_fetch_req *req, void *ud) {
  (void)e;
  host *h = ud;
  h->fetches++;
  h->fetch_id = req->req_id;
  h->fetch_size = req->struct_size;
  h->fetch_reserved_zero = all_zero(req->reserved, sizeof req->reserved / sizeof req->reserved[0]);
  return 0;
}

static int h_invoke(bp_engine *e, const bp_invoke_req *req, void *ud) {
  (void)e;
  host *h = ud;
  h->invokes++;
  h->invoke_id = req->req_id;
  h->invoke_size = req->struct_size;
  h->invoke_stride = req->record_stride;
  h->invoke_reserved_zero =
      all_zero(req->reserved, sizeof req->reserved / sizeof req->reserved[0]);
  h->invoked_n = req->count;
  for (size_t i = 0; i < req->count && i < 8; i++) {
    const bp_record *r = BP_RECORD_AT(req->records, req->record_stride, i);
    assert_true(r->struct_size >= RECORD_V1);
    snprintf(h->invoked[i], sizeof h->invoked[i], "%.*s", (int)r->seq_len, r->seq);
  }
  return 0;
}

static int h_event(bp_engine *e, const bp_engine_event *ev, void *ud) {
  (void)e;
  host *h = ud;
  h->events++;
  if (ev->struct_size != sizeof *ev ||
      !all_zero(ev->reserved, sizeof ev->reserved / sizeof ev->reserved[0]))
    h->bad_events++;
  return 0;
}

static bp_engine *engine_with(host *h, const bp_engine_opts *o, int *rc, char *err,
                              size_t errlen) {
  bp_transport t;
  memset(&t, 0, sizeof t);
  t.fetch = h_fetch;
  t.invoke = h_invoke;
  t.on_event = h_event;
  bp_config *cfg = kcfg();
  bp_engine *e = NULL;
  *rc = bp_engine_new(&e, cfg, o, &t, h, NULL, err, errlen);
  bp_config_del(cfg);
  return e;
}

/* An engine whose first fetch is in flight. */
static bp_engine *fetching_engine(host *h) {
  memset(h, 0, sizeof *h);
  bp_engine_opts o = engine_opts("abi-test", 1);
  int rc;
  char err[256];
  bp_engine *e = engine_with(h, &o, &rc, err, sizeof err);
  assert_int_equal(rc, 0);
  assert_int_equal(bp_engine_add_shard(e, SHARD0, NULL, NULL, NULL, 0), 0);
  assert_int_equal(bp_engine_tick(e, T0), 0);
  assert_int_equal(h->fetches, 1);
  return e;
}

static void fill(bp_record *r, size_t i) {
  r->seq = SEQS[i];
  r->seq_len = strlen(SEQS[i]);
  r->arrival_ms = T0 - 1000;
  r->partition_key = "k";
  r->partition_key_len = 1;
  r->data = (const uint8_t *)"x";
  r->data_len = 1;
}

static void big_records(big_record *b, size_t n) {
  memset(b, 0xAB, n * sizeof *b); /* the host's own members: anything */
  for (size_t i = 0; i < n; i++) {
    memset(&b[i].r, 0, sizeof b[i].r);
    b[i].r.struct_size = sizeof(big_record);
    fill(&b[i].r, i);
  }
}

/* ---- bp_record through bp_engine_complete_fetch ---- */

/* bp_X_init() writes the caller's size, never the library's: an older host's struct (here
 * the first published size, with guard bytes behind it) is not overrun, and a newer host's
 * larger struct is zeroed whole. A size below the first published one is refused. */
static void test_init_writes_callers_size(void **state) {
  (void)state;
  unsigned char buf[sizeof(bp_engine_opts) + 64];
  memset(buf, 0xAA, sizeof buf);
  bp_engine_opts *o = (bp_engine_opts *)(void *)buf;
  assert_int_equal(bp_engine_opts_init(o, OPTS_V1), 0);
  assert_int_equal(o->struct_size, OPTS_V1);
  assert_int_equal(o->backoff_base_ms, 1000); /* defaults inside the caller's size */
  for (size_t i = OPTS_V1; i < sizeof buf; i++) assert_int_equal(buf[i], 0xAA);

  memset(buf, 0xAA, sizeof buf);
  assert_int_equal(bp_engine_opts_init(o, sizeof buf), 0); /* a newer, larger host struct */
  assert_int_equal(o->struct_size, sizeof buf);
  for (size_t i = sizeof(bp_engine_opts); i < sizeof buf; i++) assert_int_equal(buf[i], 0);

  memset(buf, 0xAA, sizeof buf);
  assert_int_equal(bp_engine_opts_init(o, OPTS_V1 - 1), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(buf[0], 0xAA); /* nothing written */
  assert_int_equal(bp_record_init((bp_record *)(void *)buf, RECORD_V1), 0);
  for (size_t i = RECORD_V1; i < sizeof buf; i++) assert_int_equal(buf[i], 0xAA);
  assert_int_equal(bp_record_init(NULL, sizeof(bp_record)), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_invoke_result_init((bp_invoke_result *)(void *)buf, 0),
                   BP_ERR_INVALID_ARGUMENT);
}

static void test_fetch_record_size_zero(void **state) {
  (void)state;
  host h;
  bp_engine *e = fetching_engine(&h);
  bp_record r;
  memset(&r, 0, sizeof r);
  fill(&r, 0);
  assert_int_equal(bp_engine_complete_fetch(e, h.fetch_id, T0, 0, &r, 1, 0),
                   BP_ERR_INVALID_ARGUMENT);
  assert_string_equal(bp_engine_errmsg(e),
                      "bp_record.struct_size is 0: initialise it with bp_record_init() or "
                      "BP_RECORD_INIT");
  r.struct_size = (uint32_t)offsetof(bp_record, data); /* an impossible, too small size */
  assert_int_equal(bp_engine_complete_fetch(e, h.fetch_id, T0, 0, &r, 1, 0),
                   BP_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(bp_engine_errmsg(e), "below its first published size"));
  /* nothing was kept: the fetch is still in flight and completes correctly */
  r.struct_size = (uint32_t)RECORD_V1;
  assert_int_equal(bp_engine_complete_fetch(e, h.fetch_id, T0, 0, &r, 1, 0), 0);
  assert_int_equal(h.invokes, 1);
  assert_int_equal(h.invoked_n, 1);
  assert_string_equal(h.invoked[0], "101");
  bp_engine_del(e);
}

static void test_fetch_bigger_host_records(void **state) {
  (void)state;
  host h;
  bp_engine *e = fetching_engine(&h);
  big_record b[3];
  big_records(b, 3);
  assert_int_equal(bp_engine_complete_fetch(e, h.fetch_id, T0, 0, &b[0].r, 3, 0), 0);
  assert_int_equal(h.invokes, 1);
  assert_int_equal(h.invoked_n, 3);
  for (size_t i = 0; i < 3; i++) assert_string_equal(h.invoked[i], SEQS[i]);
  /* the request the library filled: its size, its stride, a zeroed tail */
  assert_int_equal(h.invoke_size, sizeof(bp_invoke_req));
  assert_int_equal(h.invoke_stride, sizeof(bp_record));
  assert_true(h.invoke_reserved_zero);
  assert_int_equal(h.fetch_size, sizeof(bp_fetch_req));
  assert_true(h.fetch_reserved_zero);
  assert_true(h.events > 0);
  assert_int_equal(h.bad_events, 0);
  bp_engine_del(e);
}

static void test_fetch_mixed_sizes(void **state) {
  (void)state;
  host h;
  bp_engine *e = fetching_engine(&h);
  big_record b[3];
  big_records(b, 3);
  b[2].r.struct_size = sizeof(bp_record);
  assert_int_equal(bp_engine_complete_fetch(e, h.fetch_id, T0, 0, &b[0].r, 3, 0),
                   BP_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(bp_engine_errmsg(e), "records[2].struct_size"));
  assert_int_equal(h.invokes, 0);
  bp_engine_del(e);
}

/* ---- bp_record through the codec ---- */

static bp_codec *codec(void) {
  bp_codec_opts o = BP_CODEC_OPTS_INIT;
  o.source = BP_SOURCE_KINESIS;
  o.event_source_arn = STREAM_ARN;
  o.invoke_identity_arn = ROLE_ARN;
  bp_codec *c = NULL;
  assert_int_equal(bp_codec_new(&c, &o, NULL), 0);
  return c;
}

static void test_codec_records(void **state) {
  (void)state;
  bp_codec *c = codec();
  bp_record r[3];
  for (size_t i = 0; i < 3; i++) {
    bp_record_init(&r[i], sizeof r[i]);
    fill(&r[i], i);
  }
  const char *text;
  size_t len, size;
  assert_int_equal(bp_codec_encode_event(c, SHARD0, r, 3, NULL, &text, &len), 0);
  char *native = strdup(text);
  assert_non_null(native);

  big_record b[3];
  big_records(b, 3);
  assert_int_equal(bp_codec_encode_event(c, SHARD0, &b[0].r, 3, NULL, &text, &len), 0);
  assert_string_equal(text, native);
  assert_int_equal(bp_codec_event_size(c, SHARD0, &b[0].r, 3, NULL, &size), 0);
  assert_int_equal(size, strlen(native));
  assert_int_equal(bp_codec_record_size(c, SHARD0, &b[1].r, &size), 0);

  r[1].struct_size = (uint32_t)RECORD_V1; /* the first published size */
  r[0].struct_size = r[2].struct_size = (uint32_t)RECORD_V1;
  assert_int_equal(bp_codec_encode_event(c, SHARD0, r, 3, NULL, &text, &len), 0);
  assert_string_equal(text, native);

  r[0].struct_size = 0;
  assert_int_equal(bp_codec_encode_event(c, SHARD0, r, 3, NULL, &text, &len),
                   BP_ERR_INVALID_ARGUMENT);
  assert_string_equal(bp_codec_errmsg(c),
                      "bp_record.struct_size is 0: initialise it with bp_record_init() or "
                      "BP_RECORD_INIT");
  b[1].r.struct_size = sizeof(bp_record);
  assert_int_equal(bp_codec_event_size(c, SHARD0, &b[0].r, 3, NULL, &size),
                   BP_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(bp_codec_errmsg(c), "records[1].struct_size"));

  bp_response_result rr;
  memset(&rr, 0, sizeof rr);
  assert_int_equal(bp_codec_classify_response(c, "", 0, r + 1, 2, 0, &rr),
                   BP_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(bp_codec_errmsg(c), "bp_response_result.struct_size is 0"));
  bp_response_result_init(&rr, sizeof rr);
  assert_int_equal(bp_codec_classify_response(c, "", 0, r + 1, 2, 0, &rr), 0);
  assert_int_equal(rr.struct_size, sizeof rr);
  assert_int_equal(rr.outcome, BP_ATTEMPT_SUCCESS);
  assert_true(all_zero(rr.reserved, 4));
  free(native);
  bp_codec_del(c);
}

/* ---- bp_codec_opts ---- */

static void test_codec_opts(void **state) {
  (void)state;
  struct {
    bp_codec_opts o;
    uint64_t extra[3];
  } big;
  memset(&big, 0x5A, sizeof big);
  memset(&big.o, 0, sizeof big.o);
  big.o.source = BP_SOURCE_KINESIS;
  big.o.event_source_arn = STREAM_ARN;
  big.o.invoke_identity_arn = ROLE_ARN;
  bp_codec *c = NULL;
  assert_int_equal(bp_codec_new(&c, &big.o, NULL), BP_ERR_INVALID_ARGUMENT); /* size 0 */
  assert_null(c);
  big.o.struct_size = (uint32_t)CODEC_OPTS_V1;
  assert_int_equal(bp_codec_new(&c, &big.o, NULL), 0);
  bp_codec_del(c);
  big.o.struct_size = sizeof big;
  assert_int_equal(bp_codec_new(&c, &big.o, NULL), 0);
  bp_codec_del(c);
}

/* ---- bp_engine_opts ---- */

static void test_engine_opts(void **state) {
  (void)state;
  host h;
  memset(&h, 0, sizeof h);
  struct {
    bp_engine_opts o;
    uint64_t extra[5];
  } big;
  memset(&big, 0xC3, sizeof big);
  big.o = engine_opts("abi-test", 2);
  big.o.struct_size = 0;
  char err[256];
  int rc;
  bp_engine *e = engine_with(&h, &big.o, &rc, err, sizeof err);
  assert_int_equal(rc, BP_ERR_INVALID_ARGUMENT);
  assert_null(e);
  assert_string_equal(err,
                      "bp_engine_opts.struct_size is 0: initialise it with "
                      "bp_engine_opts_init() or BP_ENGINE_OPTS_INIT");
  big.o.struct_size = (uint32_t)OPTS_V1;
  e = engine_with(&h, &big.o, &rc, err, sizeof err);
  assert_int_equal(rc, 0);
  bp_engine_del(e);
  /* members appended after the first layout are not read for an older host: garbage there
   * (a max_fetch_records above its limit) is ignored, and taken as 0 */
  big.o.max_fetch_records = 0xC3C3C3C3u;
  e = engine_with(&h, &big.o, &rc, err, sizeof err);
  assert_int_equal(rc, 0);
  bp_engine_del(e);
  big.o.struct_size = sizeof big.o; /* this host's size: the member is read and refused */
  e = engine_with(&h, &big.o, &rc, err, sizeof err);
  assert_int_equal(rc, BP_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err, "max_fetch_records"));
  big.o.max_fetch_records = 0;
  big.o.function_account = "not-an-account"; /* the same for function_account */
  big.o.struct_size = (uint32_t)OPTS_V1;
  e = engine_with(&h, &big.o, &rc, err, sizeof err);
  assert_int_equal(rc, 0);
  bp_engine_del(e);
  big.o.struct_size = sizeof big.o;
  e = engine_with(&h, &big.o, &rc, err, sizeof err);
  assert_int_equal(rc, BP_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err, "function_account"));
  big.o.function_account = NULL;
  big.o.struct_size = sizeof big; /* a newer host: the tail is ignored */
  e = engine_with(&h, &big.o, &rc, err, sizeof err);
  assert_int_equal(rc, 0);
  bp_engine_del(e);
}

/* ---- bp_invoke_result ---- */

static void test_invoke_result(void **state) {
  (void)state;
  host h;
  bp_engine *e = fetching_engine(&h);
  bp_record r = BP_RECORD_INIT;
  fill(&r, 0);
  assert_int_equal(bp_engine_complete_fetch(e, h.fetch_id, T0, 0, &r, 1, 0), 0);
  assert_int_equal(h.invokes, 1);
  struct {
    bp_invoke_result r;
    uint64_t extra[2];
  } big;
  memset(&big, 0x77, sizeof big);
  memset(&big.r, 0, sizeof big.r);
  assert_int_equal(bp_engine_complete_invoke(e, h.invoke_id, T0, &big.r),
                   BP_ERR_INVALID_ARGUMENT);
  assert_string_equal(bp_engine_errmsg(e),
                      "bp_invoke_result.struct_size is 0: initialise it with "
                      "bp_invoke_result_init() or BP_INVOKE_RESULT_INIT");
  big.r.struct_size = (uint32_t)RESULT_V1; /* still in flight: complete it */
  assert_int_equal(bp_engine_complete_invoke(e, h.invoke_id, T0, &big.r), 0);
  assert_int_equal(bp_engine_idle(e), 0); /* the next fetch */
  /* a second record and a bigger host struct */
  bp_record r2 = BP_RECORD_INIT;
  fill(&r2, 1);
  assert_int_equal(bp_engine_tick(e, T0 + 1), 0);
  assert_int_equal(h.fetches, 2);
  assert_int_equal(bp_engine_complete_fetch(e, h.fetch_id, T0 + 1, 0, &r2, 1, 0), 0);
  assert_int_equal(h.invokes, 2);
  big.r.struct_size = sizeof big;
  assert_int_equal(bp_engine_complete_invoke(e, h.invoke_id, T0 + 1, &big.r), 0);
  char ck[BP_STORE_SEQ_CAP];
  size_t len;
  assert_int_equal(bp_engine_get_checkpoint(e, SHARD0, ck, sizeof ck, &len), 0);
  assert_string_equal(ck, "102");
  bp_engine_del(e);
}

/* ---- Structs the library fills ---- */

static void test_metrics_out(void **state) {
  (void)state;
  host h;
  bp_engine *e = fetching_engine(&h);
  bp_engine_metrics m;
  memset(&m, 0xEE, sizeof m);
  m.struct_size = 0;
  assert_int_equal(bp_engine_get_metrics(e, NULL, &m), BP_ERR_INVALID_ARGUMENT);
  bp_engine_metrics_init(&m, sizeof m);
  memset(m.reserved, 0xEE, sizeof m.reserved);
  assert_int_equal(bp_engine_get_metrics(e, NULL, &m), 0);
  assert_int_equal(m.struct_size, sizeof m);
  assert_int_equal(m.fetches, 0);
  assert_true(all_zero(m.reserved, sizeof m.reserved / sizeof m.reserved[0]));
  struct {
    bp_engine_metrics m;
    uint64_t extra;
  } big;
  memset(&big, 0, sizeof big);
  big.m.struct_size = sizeof big;
  big.extra = 0xDEADBEEF;
  assert_int_equal(bp_engine_get_metrics(e, SHARD0, &big.m), 0);
  assert_int_equal(big.m.struct_size, sizeof(bp_engine_metrics)); /* what was written */
  assert_int_equal(big.extra, 0xDEADBEEF);                        /* the host's tail */
  assert_int_equal(big.m.iterator_age_ms, -1);
  bp_engine_del(e);
}

static void test_resolver_structs(void **state) {
  (void)state;
  bp_resolver_policy p = BP_RESOLVER_POLICY_INIT;
  bp_resolver_policy q;
  assert_int_equal(bp_resolver_policy_init(&q, sizeof q), 0);
  assert_int_equal(p.struct_size, q.struct_size);
  assert_int_equal(p.maximum_retry_attempts, q.maximum_retry_attempts);
  assert_int_equal(p.maximum_record_age_in_seconds, q.maximum_record_age_in_seconds);
  assert_int_equal(p.backoff_base_ms, q.backoff_base_ms);
  assert_int_equal(p.backoff_cap_ms, q.backoff_cap_ms);
  bp_resolver_input in = BP_RESOLVER_INPUT_INIT;
  in.outcome = BP_ATTEMPT_SUCCESS;
  in.batch_size = 3;
  in.now_ms = T0;
  bp_resolver_action a;
  memset(&a, 0xEE, sizeof a);
  a.struct_size = 0;
  char err[160];
  assert_int_equal(bp_resolver_decide(&p, &in, &a, err, sizeof err), BP_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err, "bp_resolver_action.struct_size is 0"));
  bp_resolver_action_init(&a, sizeof a);
  assert_int_equal(bp_resolver_decide(&p, &in, &a, err, sizeof err), 0);
  assert_int_equal(a.struct_size, sizeof a);
  assert_int_equal(a.kind, BP_ACTION_COMMIT_ALL);
  assert_true(all_zero(a.reserved, 4));
  in.struct_size = 0;
  assert_int_equal(bp_resolver_decide(&p, &in, &a, err, sizeof err), BP_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err, "bp_resolver_input.struct_size is 0"));
}

static void test_static_initializers(void **state) {
  (void)state;
  bp_engine_opts a = BP_ENGINE_OPTS_INIT, b;
  assert_int_equal(bp_engine_opts_init(&b, sizeof b), 0);
  assert_int_equal(a.struct_size, b.struct_size);
  assert_int_equal(a.backoff_base_ms, b.backoff_base_ms);
  assert_int_equal(a.backoff_cap_ms, b.backoff_cap_ms);
  assert_int_equal(a.poll_interval_ms, b.poll_interval_ms);
  assert_int_equal(a.fetch_error_retry_ms, b.fetch_error_retry_ms);
  assert_int_equal(a.wouldblock_retry_ms, b.wouldblock_retry_ms);
  assert_int_equal(a.max_buffered_records, b.max_buffered_records);
  assert_null(a.store);
  bp_record r = BP_RECORD_INIT, s;
  bp_record_init(&s, sizeof s);
  assert_memory_equal(&r, &s, sizeof r);
  bp_invoke_result ir = BP_INVOKE_RESULT_INIT;
  assert_int_equal(ir.struct_size, sizeof ir);
  bp_batch_opts bo = BP_BATCH_OPTS_INIT;
  bo.batch_size = 10;
  bp_batch *bb = NULL;
  assert_int_equal(bp_batch_new(&bb, &bo, NULL), 0);
  bp_batch_del(bb);
  bo.struct_size = 0;
  assert_int_equal(bp_batch_new(&bb, &bo, NULL), BP_ERR_INVALID_ARGUMENT);
  bp_checkpoint_opts co = BP_CHECKPOINT_OPTS_INIT;
  co.capacity = 8;
  assert_true(bp_checkpoint_mem_size(&co) > 0);
  co.struct_size = 0;
  assert_int_equal(bp_checkpoint_mem_size(&co), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_init_writes_callers_size),
      cmocka_unit_test(test_fetch_record_size_zero),
      cmocka_unit_test(test_fetch_bigger_host_records),
      cmocka_unit_test(test_fetch_mixed_sizes),
      cmocka_unit_test(test_codec_records),
      cmocka_unit_test(test_codec_opts),
      cmocka_unit_test(test_engine_opts),
      cmocka_unit_test(test_invoke_result),
      cmocka_unit_test(test_metrics_out),
      cmocka_unit_test(test_resolver_structs),
      cmocka_unit_test(test_static_initializers),
  };
  return cmocka_run_group_tests(tests, NULL, release_mocks);
}
