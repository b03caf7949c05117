/* SPDX-License-Identifier: MIT */
/* Engine (bp_engine.h; SEMANTICS.md §2.4, §3-§5, §8): the host contract (creation errors,
 * request ids, synchronous and asynchronous completion, re-entrancy, WOULDBLOCK and fatal
 * callbacks, deadlines, bad fetch and invoke completions), the mapping's semantics (starting
 * positions, batching, lanes, checkpoints, throttles, retries, backoff, record age, bisect,
 * partial failures, on-failure records, metrics, Enabled, shutdown, resharding, checkpoint
 * stores, back-pressure, DynamoDB) and memory (no leak, failmalloc, no allocation per record
 * in steady state). Every scenario runs through test/support/mock_host.c, under the test
 * allocator. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <cmocka.h>
#include <yajl/yajl_tree.h>

#include "batchpoint.h"
#include "batchpoint/bp_engine.h"
#include "engine_fixture.h"
#include "mock_host.h"
#include "test_alloc.h"

#define SQS_ARN "arn:aws:sqs:us-east-1:111111111111:dlq"
#define SNS_ARN "arn:aws:sns:us-east-1:111111111111:failures"
#define S3_ARN "arn:aws:s3:::failures-bucket"
#define MAPPING_UUID "a1b2c3d4-0000-4000-8000-000000000001"

/* =====================================================================================
 * Helpers
 * ===================================================================================== */

static void set_dest(bp_config *c, const char *arn) {
  assert_int_equal(bp_config_set_on_failure_destination(c, arn, strlen(arn)), 0);
}

static bp_engine_opts kopts(void) { return engine_opts(MAPPING_UUID, 42); }

/* No request callback ever started inside another callback (bp_engine.h: completions made
 * inside a callback are acted on after it returned, never recursively). on_event is
 * checked on its own by test_events_not_nested. */
static void assert_not_nested(const mock_host *m) {
  const char *names[] = {"fetch", "invoke", "deliver", "store_checkpoint"};
  for (int k = MOCK_FETCH; k <= MOCK_STORE; k++)
    if (m->nested[k]) fail_msg("%d %s callbacks ran inside another callback", m->nested[k],
                               names[k]);
}

static size_t inv_index(const mock_host *m, const mock_invoke *inv) {
  return (size_t)(inv - m->invokes);
}

static int inv_has(const mock_host *m, const mock_invoke *inv, size_t rec) {
  const size_t *r = mock_inv_records(m, inv);
  for (size_t j = 0; j < inv->count; j++)
    if (r[j] == rec) return 1;
  return 0;
}

/* Invocation times must be @p t[0..n). */
static void assert_inv_times(const mock_host *m, const int64_t *t, size_t n) {
  assert_true(m->ninvokes >= n);
  for (size_t i = 0; i < n; i++)
    if (m->invokes[i].at_ms != t[i])
      fail_msg("invocation %zu at T0%+lld, expected T0%+lld", i,
               (long long)(m->invokes[i].at_ms - T0), (long long)(t[i] - T0));
}

static const char *seq_of(const mock_host *m, int shard, size_t i) {
  return mock_rec(m, shard, i)->seq;
}

/* ---- JSON inspection (yajl tree) ---- */

/* The text of a string value (fails the test for anything else). */
static const char *json_str(yajl_val x, const char *what) {
  if (!YAJL_IS_STRING(x)) fail_msg("%s is not a string", what);
  return x->u.string;
}

static void assert_json_str(yajl_val v, const char *dotted, const char *want) {
  const char *got = json_str(json_at(v, dotted), dotted);
  if (strcmp(got, want)) fail_msg("%s is \"%s\", expected \"%s\"", dotted, got, want);
}

static void assert_json_int(yajl_val v, const char *dotted, long long want) {
  yajl_val x = json_at(v, dotted);
  if (!YAJL_IS_INTEGER(x)) fail_msg("%s is not an integer", dotted);
  assert_int_equal(YAJL_GET_INTEGER(x), want);
}

/* Lowercase 8-4-4-4-12 hex with the RFC 4122 version-4 layout (§5.3). */
static int is_uuid_v4(const char *s, size_t n) {
  if (n != 36) return 0;
  for (size_t i = 0; i < 36; i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return 0;
    } else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
      return 0;
    }
  }
  return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

/* =====================================================================================
 * Scripted functions (the mock's m->fn); their state lives in a struct behind m->fn_ctx.
 * ===================================================================================== */

typedef struct script {
  long poison;              /* record index that makes a batch fail (-1: none) */
  int poison_shard;
  int fails;                /* fn_fail_first: invocations that still fail */
  int throttles;            /* fn_throttle_first: invocations still throttled */
  uint32_t fail_mask;       /* fn_fail_mask: invocation i fails iff bit i is set */
  uint32_t id_mask;         /* failing invocation i reports request id "rid-<i+1>" iff bit i */
  const char *function_error;   /* X-Amz-Function-Error of failures (NULL: none given) */
  const char *executed_version; /* of failures (NULL: none given) */
  char rid[32];
  int healed;               /* fn_poison: no failure any more */
} script;

static script *ctx_of(mock_host *m) { return (script *)m->fn_ctx; }

static void fill_error(mock_host *m, const mock_invoke *inv, bp_invoke_result *r) {
  script *s = ctx_of(m);
  r->kind = BP_INVOKE_RESULT_ERROR;
  if (s && s->function_error) {
    r->function_error = s->function_error;
    r->function_error_len = strlen(s->function_error);
  }
  if (s && s->executed_version) {
    r->executed_version = s->executed_version;
    r->executed_version_len = strlen(s->executed_version);
  }
  size_t i = inv_index(m, inv);
  if (s && i < 32 && (s->id_mask >> i) & 1u) {
    snprintf(s->rid, sizeof s->rid, "rid-%zu", i + 1);
    r->request_id = s->rid;
    r->request_id_len = strlen(s->rid);
  }
}

/* Function error whenever the batch holds the poison record. */
static void fn_poison(mock_host *m, const mock_invoke *inv, bp_invoke_result *r) {
  script *s = ctx_of(m);
  if (!s->healed && inv->shard == s->poison_shard && s->poison >= 0 &&
      inv_has(m, inv, (size_t)s->poison))
    fill_error(m, inv, r);
}

/* The first s->fails invocations fail with a function error, then success. */
static void fn_fail_first(mock_host *m, const mock_invoke *inv, bp_invoke_result *r) {
  script *s = ctx_of(m);
  if (s->fails > 0) {
    s->fails--;
    fill_error(m, inv, r);
  }
}

/* Invocation i (0-based, over the whole run) fails iff bit i of s->fail_mask is set. */
static void fn_fail_mask(mock_host *m, const mock_invoke *inv, bp_invoke_result *r) {
  size_t i = inv_index(m, inv);
  if (i < 32 && (ctx_of(m)->fail_mask >> i) & 1u) fill_error(m, inv, r);
}

/* The first s->throttles invocations are throttled, then success. */
static void fn_throttle_first(mock_host *m, const mock_invoke *inv, bp_invoke_result *r) {
  (void)inv;
  script *s = ctx_of(m);
  if (s->throttles > 0) {
    s->throttles--;
    r->kind = BP_INVOKE_RESULT_THROTTLED;
  }
}

/* Returns normally; reports the poison record in batchItemFailures when it is in the batch
 * (SEMANTICS.md §3.4), else an empty body (success, rule 1). */
static void fn_report_poison(mock_host *m, const mock_invoke *inv, bp_invoke_result *r) {
  script *s = ctx_of(m);
  r->kind = BP_INVOKE_RESULT_RETURNED;
  if (inv_has(m, inv, (size_t)s->poison)) {
    snprintf(m->body, sizeof m->body, "{\"batchItemFailures\":[{\"itemIdentifier\":\"%s\"}]}",
             seq_of(m, inv->shard, (size_t)s->poison));
    r->body = m->body;
    r->body_len = strlen(m->body);
  }
}

/* =====================================================================================
 * 1. Contract
 * ===================================================================================== */

/* bp_engine.h bp_engine_opts: the documented defaults. */
static void test_opts_init(void **state) {
  (void)state;
  assert_int_equal(bp_engine_opts_init(NULL, sizeof(bp_engine_opts)), BP_ERR_INVALID_ARGUMENT);
  bp_engine_opts o = BP_ENGINE_OPTS_INIT;
  memset(&o, 0x5a, sizeof o);
  assert_int_equal(bp_engine_opts_init(&o, sizeof o), 0);
  assert_null(o.invoke_identity_arn);
  assert_null(o.aws_region);
  assert_null(o.mapping_uuid);
  assert_int_equal(o.max_buffered_records, 0);
  assert_int_equal(o.max_buffered_bytes, 0);
  assert_int_equal(o.backoff_base_ms, 1000);
  assert_int_equal(o.backoff_cap_ms, 60000);
  assert_int_equal(o.poll_interval_ms, 0);
  assert_int_equal(o.fetch_error_retry_ms, 1000);
  assert_int_equal(o.wouldblock_retry_ms, 100);
  assert_null(o.store);
  assert_null(o.store_user_data);

  bp_invoke_result r = BP_INVOKE_RESULT_INIT;
  assert_int_equal(bp_invoke_result_init(NULL, sizeof(bp_invoke_result)), BP_ERR_INVALID_ARGUMENT);
  memset(&r, 0x5a, sizeof r);
  assert_int_equal(bp_invoke_result_init(&r, sizeof r), 0);
  assert_int_equal(r.kind, BP_INVOKE_RESULT_RETURNED);
  assert_null(r.body);
  assert_int_equal(r.body_len, 0);
  assert_null(r.request_id);
  assert_null(r.function_error);
  assert_null(r.executed_version);
}

/* One creation attempt that must fail with @p want, leave *out NULL, write a message and
 * leak nothing. */
static void expect_new_fails(int want, const bp_config *cfg, const bp_engine_opts *o,
                             int version, const bp_transport *t) {
  test_alloc ta;
  bp_allocator hooks;
  test_alloc_init(&ta, &hooks);
  bp_engine *e = (bp_engine *)&ta; /* anything non-NULL */
  char err[256] = "";
  int rc = bp_engine_new_versioned(&e, cfg, o, version, t, NULL, &hooks, err, sizeof err);
  if (rc != want) fail_msg("bp_engine_new: %s (%s), expected %s", bp_err_name(rc), err,
                           bp_err_name(want));
  assert_null(e);
  assert_true(err[0] != '\0');
  assert_int_equal(ta.live_blocks, 0);
}

static void expect_new_ok(const bp_config *cfg, const bp_engine_opts *o, const bp_transport *t) {
  test_alloc ta;
  bp_allocator hooks;
  test_alloc_init(&ta, &hooks);
  bp_engine *e = NULL;
  char err[256] = "";
  int rc = bp_engine_new(&e, cfg, o, t, NULL, &hooks, err, sizeof err);
  if (rc != 0) fail_msg("bp_engine_new: %s (%s)", bp_err_name(rc), err);
  assert_non_null(e);
  assert_int_equal(bp_engine_del(e), 0);
  assert_int_equal(ta.live_blocks, 0);
}

/* bp_engine_new(): every documented refusal. */
static void test_new_errors(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  bp_transport t;
  mock_transport(m, &t);
  bp_config *cfg = kcfg();
  bp_engine_opts o = kopts();

  /* NULL pointers */
  assert_int_equal(bp_engine_new(NULL, cfg, &o, &t, NULL, NULL, NULL, 0),
                   BP_ERR_INVALID_ARGUMENT);
  expect_new_fails(BP_ERR_INVALID_ARGUMENT, NULL, &o, BP_TRANSPORT_VERSION, &t);
  expect_new_fails(BP_ERR_INVALID_ARGUMENT, cfg, &o, BP_TRANSPORT_VERSION, NULL);
  /* transport version 0 */
  expect_new_fails(BP_ERR_INVALID_ARGUMENT, cfg, &o, 0, &t);
  /* fetch and invoke are required */
  bp_transport t2 = t;
  t2.fetch = NULL;
  expect_new_fails(BP_ERR_INVALID_ARGUMENT, cfg, &o, BP_TRANSPORT_VERSION, &t2);
  t2 = t;
  t2.invoke = NULL;
  expect_new_fails(BP_ERR_INVALID_ARGUMENT, cfg, &o, BP_TRANSPORT_VERSION, &t2);
  /* deliver, store_checkpoint and on_event are optional without a destination */
  t2 = t;
  t2.deliver = NULL;
  t2.store_checkpoint = NULL;
  t2.on_event = NULL;
  expect_new_ok(cfg, &o, &t2);
  /* ... but deliver is required once a destination is configured */
  bp_config *dcfg = kcfg();
  set_dest(dcfg, SQS_ARN);
  expect_new_fails(BP_ERR_INVALID_ARGUMENT, dcfg, &o, BP_TRANSPORT_VERSION, &t2);
  expect_new_ok(dcfg, &o, &t);
  bp_config_del(dcfg);

  /* a configuration that does not validate (§2.3): no StartingPosition, no ARN */
  bp_config *bad = cfg_new(STREAM_ARN, BP_POSITION_NONE);
  expect_new_fails(BP_ERR_CONFIG_INVALID, bad, &o, BP_TRANSPORT_VERSION, &t);
  bp_config_del(bad);
  assert_int_equal(bp_config_new(&bad, NULL), 0);
  assert_int_equal(bp_config_set_starting_position(bad, BP_POSITION_LATEST), 0);
  expect_new_fails(BP_ERR_CONFIG_INVALID, bad, &o, BP_TRANSPORT_VERSION, &t);
  bp_config_del(bad);

  /* FilterCriteria: a pattern the compiler rejects (a value that is not in a list) is
     refused when configured, never at match time (SEMANTICS.md §7.3); the strict-Lambda
     subset is the engine's option, checked at creation */
  bad = kcfg();
  const char *pattern = "{\"data\":{\"kind\":\"a\"}}";
  assert_int_equal(bp_config_add_filter(bad, pattern, strlen(pattern)), BP_ERR_CONFIG_INVALID);
  assert_string_equal(bp_config_errmsg(bad), "Invalid filter pattern definition. (filter 1: "
                                             "\"kind\" must be an object or an array)");
  bp_config_del(bad);
  bad = kcfg();
  pattern = "{\"data\":{\"kind\":[{\"wildcard\":\"a*\"}]}}";
  assert_int_equal(bp_config_add_filter(bad, pattern, strlen(pattern)), 0);
  o.filter_flags = 0x1u; /* BP_FILTER_STRICT_LAMBDA: wildcard is not a Lambda operator */
  expect_new_fails(BP_ERR_CONFIG_INVALID, bad, &o, BP_TRANSPORT_VERSION, &t);
  o.filter_flags = 0;
  bp_config_del(bad);

  /* bad options: Kinesis without invokeIdentityArn (full build); a buffer below
   * BatchSize x ParallelizationFactor */
  bp_engine_opts o2 = o;
  o2.invoke_identity_arn = NULL;
  expect_new_fails(BP_ERR_INVALID_ARGUMENT, cfg, &o2, BP_TRANSPORT_VERSION, &t);
  bp_config *pcfg = kcfg();
  assert_int_equal(bp_config_set_batch_size(pcfg, 10), 0);
  assert_int_equal(bp_config_set_parallelization_factor(pcfg, 2), 0);
  o2 = o;
  o2.max_buffered_records = 19;
  expect_new_fails(BP_ERR_INVALID_ARGUMENT, pcfg, &o2, BP_TRANSPORT_VERSION, &t);
  o2.max_buffered_records = 20;
  expect_new_ok(pcfg, &o2, &t);
  bp_config_del(pcfg);
  /* function_account: 12 digits or NULL (SEMANTICS.md §5.3) */
  static const char *const bad_account[] = {"", "11111111111", "1111111111111", "11111111111x",
                                            "abcdefghijkl"};
  for (size_t i = 0; i < sizeof bad_account / sizeof bad_account[0]; i++) {
    o2 = o;
    o2.function_account = bad_account[i];
    expect_new_fails(BP_ERR_INVALID_ARGUMENT, cfg, &o2, BP_TRANSPORT_VERSION, &t);
  }
  o2 = o;
  o2.function_account = "222222222222";
  expect_new_ok(cfg, &o2, &t);
#if BP_WITH_CODEC
  /* a FunctionName without an account over a stream ARN without one: nothing to complete
     the function ARN with, unless the option gives it (the codec's, so a full build only) */
  pcfg = cfg_new("arn:aws:kinesis:us-east-1::stream/s1", BP_POSITION_TRIM_HORIZON);
  assert_int_equal(bp_config_set_function_name(pcfg, "fn", 2), 0);
  expect_new_fails(BP_ERR_INVALID_ARGUMENT, pcfg, &o, BP_TRANSPORT_VERSION, &t);
  expect_new_ok(pcfg, &o2, &t);
  bp_config_del(pcfg);
#endif

  /* NULL options are the defaults: fine for DynamoDB, which needs no role */
  bp_config *ddb = cfg_new(DDB_ARN, BP_POSITION_TRIM_HORIZON);
  expect_new_ok(ddb, NULL, &t);
  bp_config_del(ddb);

  /* the engine copied the configuration: deleting ours changes nothing */
  create_engine(m, cfg, &o);
  assert_ptr_equal(bp_engine_user_data(m->e), m);
  assert_null(bp_engine_user_data(NULL));
  assert_non_null(bp_engine_errmsg(m->e));
  assert_int_equal(bp_engine_del(NULL), 0);
  mock_host_free(m);
}

/* bp_engine_add_shard() and the queries: argument errors, ranges, buffers. */
static void test_shard_and_query_errors(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  bp_config *cfg = kcfg();
  bp_engine_opts o = kopts();
  create_engine(m, cfg, &o);
  bp_engine *e = m->e;

  char longid[BP_STORE_MAX_ID_LEN + 2];
  memset(longid, 'a', sizeof longid - 1);
  longid[sizeof longid - 1] = '\0';
  assert_int_equal(bp_engine_add_shard(NULL, SHARD0, NULL, NULL, NULL, 0),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_engine_add_shard(e, NULL, NULL, NULL, NULL, 0), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_engine_add_shard(e, "", NULL, NULL, NULL, 0), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_engine_add_shard(e, longid, NULL, NULL, NULL, 0), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_engine_add_shard(e, SHARD0, NULL, NULL, "0123", 4), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_engine_add_shard(e, SHARD0, NULL, NULL, "12a", 3), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_engine_get_shard_state(e, SHARD0), BP_ERR_INVALID_ARGUMENT);
  mock_shard_add(m, SHARD0);
  assert_int_equal(bp_engine_add_shard(e, SHARD0, NULL, NULL, NULL, 0), 0);
  assert_int_equal(bp_engine_add_shard(e, SHARD0, NULL, NULL, NULL, 0), BP_ERR_INVALID_ARGUMENT);
  assert_true(bp_engine_get_shard_state(e, SHARD0) >= 0);
  assert_int_equal(bp_engine_get_shard_state(e, "shardId-nope"), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_engine_get_shard_state(NULL, SHARD0), BP_ERR_INVALID_ARGUMENT);

  /* checkpoints: none yet, unknown shard, short buffer */
  char buf[BP_STORE_SEQ_CAP] = "x";
  size_t len = 99;
  assert_int_equal(bp_engine_get_checkpoint(e, SHARD0, buf, sizeof buf, &len),
                   BP_STORE_NOT_FOUND);
  assert_string_equal(buf, "");
  assert_int_equal(bp_engine_get_checkpoint(e, "shardId-nope", buf, sizeof buf, &len),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_engine_get_checkpoint(e, SHARD0, NULL, sizeof buf, &len),
                   BP_ERR_INVALID_ARGUMENT);
  mock_shard_add(m, "shardId-1");
  assert_int_equal(bp_engine_add_shard(e, "shardId-1", NULL, NULL, "123456", 6), 0);
  assert_int_equal(bp_engine_get_checkpoint(e, "shardId-1", buf, 4, &len),
                   BP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(bp_engine_get_checkpoint(e, "shardId-1", buf, sizeof buf, &len), 0);
  assert_string_equal(buf, "123456");
  assert_int_equal(len, 6);

  /* metrics */
  bp_engine_metrics mt = BP_ENGINE_METRICS_INIT;
  assert_int_equal(bp_engine_get_metrics(e, "shardId-nope", &mt), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_engine_get_metrics(NULL, NULL, &mt), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_engine_get_metrics(e, NULL, NULL), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_engine_get_metrics(e, NULL, &mt), 0);
  assert_int_equal(mt.iterator_age_ms, -1);
  assert_int_equal(mt.invocations, 0);

  /* time outside 0 .. BP_TIME_MAX_MS */
  assert_int_equal(bp_engine_tick(e, -1), BP_ERR_RANGE);
  assert_int_equal(bp_engine_tick(e, BP_TIME_MAX_MS + 1), BP_ERR_RANGE);
  assert_int_equal(bp_engine_set_enabled(e, -1, 1), BP_ERR_RANGE);
  assert_int_equal(bp_engine_shutdown(e, -1), BP_ERR_RANGE);
  assert_int_equal(m->calls[MOCK_FETCH], 0);
  assert_int_equal(bp_engine_drained(e), 0);
  mock_host_free(m);
}

/* SEMANTICS.md §H.5 / bp_engine.h completions: an id that names no request in flight (never
 * issued, of another kind, already completed) gives BP_ERR_UNKNOWN_REQUEST and changes
 * nothing. */
static void test_unknown_request(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  m->async[MOCK_FETCH] = m->async[MOCK_INVOKE] = 1;
  bp_config *cfg = kcfg();
  set_dest(cfg, SQS_ARN);
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  mock_put_n(m, s, 3, 1, T0);
  assert_int_equal(mock_tick(m, T0), 0);
  assert_int_equal(mock_pending(m, MOCK_FETCH), 1);
  uint64_t fid = m->fetches[0].req_id;
  int64_t deadline = bp_engine_next_deadline(m->e);
  bp_invoke_result r;
  bp_invoke_result_init(&r, sizeof r);

  assert_int_equal(bp_engine_complete_fetch(m->e, fid + 1000, T0, 0, NULL, 0, 0),
                   BP_ERR_UNKNOWN_REQUEST);
  assert_int_equal(bp_engine_complete_invoke(m->e, fid, T0, &r), BP_ERR_UNKNOWN_REQUEST);
  assert_int_equal(bp_engine_complete_delivery(m->e, fid, T0, 0), BP_ERR_UNKNOWN_REQUEST);
  assert_int_equal(bp_engine_complete_checkpoint(m->e, fid, T0, 0), BP_ERR_UNKNOWN_REQUEST);
  assert_int_equal(bp_engine_complete_invoke(m->e, 987654321, T0, &r), BP_ERR_UNKNOWN_REQUEST);
  /* records NULL with n > 0 */
  assert_int_equal(bp_engine_complete_fetch(m->e, fid, T0, 0, NULL, 2, 0),
                   BP_ERR_INVALID_ARGUMENT);
  /* nothing changed: the fetch is still the one request in flight */
  assert_int_equal(bp_engine_next_deadline(m->e), deadline);
  assert_int_equal(mock_metrics(m, NULL).polled_event_count, 0);
  assert_int_equal(m->nfetches, 1);
  assert_int_equal(mock_complete_fetch(m, 0, T0 + 1, 0), 0);
  assert_int_equal(mock_metrics(m, NULL).polled_event_count, 3);
  /* the same fetch again */
  assert_int_equal(bp_engine_complete_fetch(m->e, fid, T0 + 2, 0, NULL, 0, 0),
                   BP_ERR_UNKNOWN_REQUEST);

  assert_int_equal(mock_pending(m, MOCK_INVOKE), 1);
  uint64_t iid = m->invokes[0].req_id;
  /* a completion with a time out of range is refused and the request stays in flight */
  assert_int_equal(bp_engine_complete_invoke(m->e, iid, -1, &r), BP_ERR_RANGE);
  assert_int_equal(mock_checkpoint(m, s), -1);
  assert_int_equal(mock_complete_invoke(m, 0, T0 + 3), 0);
  assert_int_equal(mock_checkpoint(m, s), 2);
  /* completing it twice */
  assert_int_equal(bp_engine_complete_invoke(m->e, iid, T0 + 4, &r), BP_ERR_UNKNOWN_REQUEST);
  assert_int_equal(mock_checkpoint(m, s), 2);
  assert_int_equal(mock_metrics(m, NULL).invocations, 1);
  mock_host_free(m);
}

/* bp_engine.h "Requests and completions": a synchronous host completes inside the callback;
 * the engine acts on it after the callback returned, never recursively (depth 1), and goes
 * on with the next batch iteratively. */
static void test_sync_host_no_recursion(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_batch_size(cfg, 1), 0);
  set_dest(cfg, SQS_ARN);
  assert_int_equal(bp_config_set_maximum_retry_attempts(cfg, 0), 0);
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  script sc = {.poison = 2, .poison_shard = s};
  m->fn = fn_poison;
  m->fn_ctx = &sc;
  mock_put_n(m, s, 6, 1, T0);
  assert_int_equal(mock_run(m, T0 + 10000), 0);
  assert_int_equal(m->ninvokes, 6);
  for (size_t i = 0; i < 6; i++) assert_inv(m, i, s, i, 1);
  assert_int_equal(m->ndeliveries, 1);
  assert_not_nested(m);
  assert_int_equal(m->complete_errors, 0);
  assert_int_equal(mock_checkpoint(m, s), 5);
  mock_host_free(m);
}

/* At most one pending invocation per (shard, lane) (§3.2). */
static void assert_one_per_lane(const mock_host *m) {
  for (size_t i = 0; i < m->ninvokes; i++) {
    if (m->invokes[i].completed) continue;
    for (size_t j = i + 1; j < m->ninvokes; j++)
      if (!m->invokes[j].completed && m->invokes[j].shard == m->invokes[i].shard &&
          m->invokes[j].lane == m->invokes[i].lane)
        fail_msg("two invocations in flight on shard %d lane %u", m->invokes[i].shard,
                 m->invokes[i].lane);
  }
}

/* An asynchronous host keeps the request ids and completes after the callback returned, in
 * any order across shards and lanes. */
static void test_async_host_any_order(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  m->async[MOCK_INVOKE] = 1;
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_batch_size(cfg, 2), 0);
  assert_int_equal(bp_config_set_parallelization_factor(cfg, 2), 0);
  bp_engine_opts o = kopts();
  int s0 = start(m, cfg, &o);
  int s1 = mock_shard_add(m, "shardId-000000000001");
  assert_int_equal(bp_engine_add_shard(m->e, "shardId-000000000001", NULL, NULL, NULL, 0), 0);
  mock_put_n(m, s0, 12, 4, T0);
  mock_put_n(m, s1, 12, 4, T0);
  assert_int_equal(mock_run(m, T0), 0);
  assert_true(mock_pending(m, MOCK_INVOKE) >= 3); /* two shards, two lanes each */
  assert_one_per_lane(m);
  int64_t now = T0;
  while (mock_pending(m, MOCK_INVOKE) > 0) {
    /* complete the newest pending request first (the reverse of the request order) */
    size_t i = m->ninvokes;
    while (m->invokes[--i].completed) {
    }
    now += 10;
    assert_int_equal(mock_complete_invoke(m, i, now), 0);
    assert_int_equal(mock_run(m, now), 0);
    assert_one_per_lane(m);
  }
  for (int s = s0; s <= s1; s++) {
    for (size_t r = 0; r < 12; r++) assert_int_equal(mock_rec(m, s, r)->invoked, 1);
    assert_int_equal(mock_checkpoint(m, s), 11);
  }
  assert_not_nested(m);
  mock_host_free(m);
}

/* ---- driving calls from inside callbacks (SEMANTICS.md §H.3) ---- */

typedef struct hook_stats {
  int calls[MOCK_KINDS];
  int bad[MOCK_KINDS];
} hook_stats;

static void hook_drive(mock_host *m, bp_engine *e, int kind) {
  hook_stats *h = m->hook_ctx;
  h->calls[kind]++;
  int bad = 0;
  bad |= bp_engine_tick(e, m->now) != BP_ERR_IN_CALLBACK;
  bad |= bp_engine_add_shard(e, "shardId-x", NULL, NULL, NULL, 0) != BP_ERR_IN_CALLBACK;
  bad |= bp_engine_set_enabled(e, m->now, 0) != BP_ERR_IN_CALLBACK;
  bad |= bp_engine_shutdown(e, m->now) != BP_ERR_IN_CALLBACK;
  bad |= bp_engine_del(e) != BP_ERR_IN_CALLBACK;
  /* the getters are allowed */
  bp_engine_metrics mt = BP_ENGINE_METRICS_INIT;
  char buf[BP_STORE_SEQ_CAP];
  size_t len;
  bad |= bp_engine_get_metrics(e, NULL, &mt) != 0;
  bad |= bp_engine_user_data(e) != m;
  bad |= bp_engine_errmsg(e) == NULL;
  bad |= bp_engine_get_shard_state(e, SHARD0) < 0;
  int rc = bp_engine_get_checkpoint(e, SHARD0, buf, sizeof buf, &len);
  bad |= rc != 0 && rc != BP_STORE_NOT_FOUND;
  (void)bp_engine_next_deadline(e);
  (void)bp_engine_idle(e);
  (void)bp_engine_drained(e);
  if (bad) h->bad[kind]++;
}

static void test_driving_calls_in_callbacks(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  hook_stats h;
  memset(&h, 0, sizeof h);
  m->hook = hook_drive;
  m->hook_ctx = &h;
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_batch_size(cfg, 1), 0);
  assert_int_equal(bp_config_set_maximum_retry_attempts(cfg, 0), 0);
  set_dest(cfg, SQS_ARN);
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  script sc = {.poison = 0, .poison_shard = s};
  m->fn = fn_poison;
  m->fn_ctx = &sc;
  mock_put_n(m, s, 3, 1, T0);
  assert_int_equal(mock_run(m, T0 + 5000), 0);
  for (int k = 0; k < MOCK_KINDS; k++) {
    if (h.calls[k] == 0) fail_msg("no callback of kind %d", k);
    if (h.bad[k]) fail_msg("callback kind %d: a driving call was not refused", k);
  }
  /* nothing the hook tried happened: not disabled, not shut down, no shard added */
  assert_int_equal(m->ninvokes, 3);
  assert_int_equal(mock_checkpoint(m, s), 2);
  assert_int_equal(bp_engine_drained(m->e), 0);
  assert_int_equal(bp_engine_get_shard_state(m->e, "shardId-x"), BP_ERR_INVALID_ARGUMENT);
  assert_not_nested(m);
  m->hook = NULL;
  assert_int_equal(mock_tick(m, T0 + 6000), 0);
  mock_host_free(m);
}

/* bp_engine.h: "A completion made inside a callback is only recorded; the engine acts on it
 * after the callback has returned, never recursively": no request callback runs inside
 * another (a synchronous host completing inside fetch, deliver and store_checkpoint); only
 * on_event may report such a completion from inside it, one level deep. */
static void test_events_not_nested(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_maximum_retry_attempts(cfg, 0), 0);
  set_dest(cfg, SQS_ARN);
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  m->fn = mock_fn_fail;
  mock_put_n(m, s, 2, 1, T0);
  assert_int_equal(mock_run(m, T0 + 1000), 0);
  assert_int_equal(m->ndeliveries, 1);
  assert_true(m->nsaves >= 1);
  /* The request callbacks never nest; on_event may report a completion made inside one
     (bp_engine.h, on_event), but never deeper than that. */
  assert_not_nested(m);
  assert_true(m->max_depth <= 2);
  mock_host_free(m);
}

/* bp_engine.h BP_SHARD_*: WAITING means "a parent has not ended yet"; a shard without a
 * parent (or whose parents the engine never had) is not waiting for anything once added. */
static void test_shard_state_without_parent(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  bp_engine_opts o = kopts();
  bp_config *cfg = kcfg();
  create_engine(m, cfg, &o);
  mock_shard_add(m, SHARD0);
  mock_shard_add(m, "shardId-C");
  assert_int_equal(bp_engine_add_shard(m->e, SHARD0, NULL, NULL, NULL, 0), 0);
  assert_int_equal(bp_engine_add_shard(m->e, "shardId-C", "shardId-gone", NULL, NULL, 0), 0);
  assert_int_equal(bp_engine_get_shard_state(m->e, SHARD0), BP_SHARD_ACTIVE);
  assert_int_equal(bp_engine_get_shard_state(m->e, "shardId-C"), BP_SHARD_ACTIVE);
  mock_host_free(m);
}

/* bp_engine.h: a callback returning BP_ERR_WOULDBLOCK is asked again after
 * wouldblock_retry_ms; a refused call is not an attempt. */
static void test_wouldblock(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  bp_config *cfg = kcfg();
  set_dest(cfg, SQS_ARN);
  assert_int_equal(bp_config_set_maximum_retry_attempts(cfg, 0), 0);
  bp_engine_opts o = kopts();
  o.wouldblock_retry_ms = 250;
  o.poll_interval_ms = 60000;
  int s = start(m, cfg, &o);
  mock_put_n(m, s, 2, 1, T0);

  m->wouldblock[MOCK_FETCH] = 1;
  assert_int_equal(mock_tick(m, T0), 0);
  assert_int_equal(m->calls[MOCK_FETCH], 1);
  assert_int_equal(m->nfetches, 0);
  assert_int_equal(bp_engine_next_deadline(m->e), T0 + 250);
  assert_int_equal(mock_tick(m, T0 + 249), 0);
  assert_int_equal(m->calls[MOCK_FETCH], 1);

  m->wouldblock[MOCK_INVOKE] = 2;
  assert_int_equal(mock_run(m, T0 + 250), 0); /* fetched; the invoke is refused */
  assert_true(m->nfetches >= 1);
  assert_int_equal(m->ninvokes, 0);
  assert_int_equal(m->calls[MOCK_INVOKE], 1);
  assert_int_equal(bp_engine_next_deadline(m->e), T0 + 500);
  assert_int_equal(mock_run(m, T0 + 499), 0);
  assert_int_equal(m->calls[MOCK_INVOKE], 1);
  assert_int_equal(mock_run(m, T0 + 500), 0);
  assert_int_equal(m->calls[MOCK_INVOKE], 2);
  assert_int_equal(m->ninvokes, 0);
  assert_int_equal(mock_run(m, T0 + 750), 0);
  assert_int_equal(m->ninvokes, 1);
  assert_int_equal(m->invokes[0].at_ms, T0 + 750);
  assert_int_equal(m->invokes[0].attempt, 1);
  assert_int_equal(m->invokes[0].flags & BP_INVOKE_RETRY, 0);
  assert_int_equal(mock_checkpoint(m, s), 1);

  /* a delivery asked again: the checkpoint moves only once it is accepted and completed */
  mock_put_n(m, s, 1, 1, T0);
  m->fn = mock_fn_fail;
  m->wouldblock[MOCK_DELIVER] = 1;
  assert_int_equal(mock_run(m, T0 + 60250), 0); /* the next poll reads record 2 */
  assert_int_equal(m->ninvokes, 2);
  assert_int_equal(m->calls[MOCK_DELIVER], 1);
  assert_int_equal(m->ndeliveries, 0);
  assert_int_equal(mock_checkpoint(m, s), 1);
  assert_int_equal(bp_engine_next_deadline(m->e), T0 + 60500);
  /* ... and the checkpoint save that follows is refused once too */
  m->wouldblock[MOCK_STORE] = 1;
  int store_calls = m->calls[MOCK_STORE];
  size_t saves = m->nsaves;
  assert_int_equal(mock_run(m, T0 + 60500), 0);
  assert_int_equal(m->ndeliveries, 1);
  assert_int_equal(m->deliveries[0].at_ms, T0 + 60500);
  assert_int_equal(mock_checkpoint(m, s), 2);
  assert_int_equal(m->calls[MOCK_STORE], store_calls + 1);
  assert_int_equal(m->nsaves, saves);
  assert_int_equal(bp_engine_next_deadline(m->e), T0 + 60750);
  assert_int_equal(mock_run(m, T0 + 60750), 0);
  assert_int_equal(m->nsaves, saves + 1);
  assert_int_equal(m->saves[saves].at_ms, T0 + 60750);
  assert_int_equal(mock_saved_checkpoint(m, s), 2);
  mock_host_free(m);
}

/* bp_engine.h: any other negative return makes the engine fail for good:
 * BP_ERR_CALLBACK_FAILURE from the call that ran the callback and every later driving call. */
static void expect_dead(mock_host *m, int64_t now) {
  assert_int_equal(bp_engine_tick(m->e, now), BP_ERR_CALLBACK_FAILURE);
  assert_int_equal(bp_engine_set_enabled(m->e, now, 1), BP_ERR_CALLBACK_FAILURE);
  assert_int_equal(bp_engine_shutdown(m->e, now), BP_ERR_CALLBACK_FAILURE);
  assert_int_equal(bp_engine_add_shard(m->e, "shardId-late", NULL, NULL, NULL, 0),
                   BP_ERR_CALLBACK_FAILURE);
  assert_true(bp_engine_errmsg(m->e)[0] != '\0');
}

static void test_callback_failure(void **state) {
  (void)state;
  /* invoke fails inside a tick */
  mock_host *m = mk_mock();
  bp_engine_opts o = kopts();
  int s = start(m, kcfg(), &o);
  mock_put_n(m, s, 2, 1, T0);
  m->fail[MOCK_INVOKE] = BP_ERR_IO;
  assert_int_equal(mock_tick(m, T0), BP_ERR_CALLBACK_FAILURE);
  int calls = m->calls[MOCK_INVOKE];
  expect_dead(m, T0 + 1000);
  assert_int_equal(m->calls[MOCK_INVOKE], calls); /* never asked again */
  mock_host_free(m);

  /* fetch fails with -1, inside a tick */
  m = mk_mock();
  s = start(m, kcfg(), &o);
  m->fail[MOCK_FETCH] = -1;
  assert_int_equal(mock_tick(m, T0), BP_ERR_CALLBACK_FAILURE);
  expect_dead(m, T0 + 1000);
  mock_host_free(m);

  /* the invoke that fails is called from a completion made outside any callback */
  m = mk_mock();
  m->async[MOCK_FETCH] = 1;
  s = start(m, kcfg(), &o);
  mock_put_n(m, s, 2, 1, T0);
  assert_int_equal(mock_tick(m, T0), 0);
  m->fail[MOCK_INVOKE] = BP_ERR_CALLBACK_FAILURE;
  assert_int_equal(mock_complete_fetch(m, 0, T0 + 5, 0), BP_ERR_CALLBACK_FAILURE);
  expect_dead(m, T0 + 1000);
  mock_host_free(m);

  /* on_event: an ordinary error return is ignored, a fatal one is not */
  m = mk_mock();
  s = start(m, kcfg(), &o);
  mock_put_n(m, s, 2, 1, T0);
  m->fail[MOCK_EVENT] = BP_ERR_IO;
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(m->ninvokes, 1);
  assert_int_equal(mock_checkpoint(m, s), 1);
  mock_put_n(m, s, 2, 1, T0);
  m->fail[MOCK_EVENT] = BP_ERR_CALLBACK_FAILURE;
  assert_int_equal(mock_run(m, T0 + 5000), BP_ERR_CALLBACK_FAILURE);
  expect_dead(m, T0 + 6000);
  mock_host_free(m);
}

/* SEMANTICS.md §H.5, bp_engine_del(): requests in flight are abandoned and everything is freed
 * (fetch, invoke, delivery and save in flight at once, on two shards). */
static void test_del_with_work_in_flight(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  m->async[MOCK_FETCH] = m->async[MOCK_INVOKE] = m->async[MOCK_DELIVER] = 1;
  m->async[MOCK_STORE] = 1;
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_batch_size(cfg, 1), 0);
  assert_int_equal(bp_config_set_maximum_retry_attempts(cfg, 0), 0);
  set_dest(cfg, S3_ARN);
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  int s1 = mock_shard_add(m, "shardId-1");
  assert_int_equal(bp_engine_add_shard(m->e, "shardId-1", NULL, NULL, NULL, 0), 0);
  mock_put_n(m, s, 3, 1, T0);
  mock_put_n(m, s1, 3, 1, T0);
  assert_int_equal(mock_tick(m, T0), 0);
  assert_int_equal(mock_complete_fetch(m, 0, T0, 0), 0);
  assert_int_equal(mock_complete_fetch(m, 1, T0, 0), 0);
  m->fn = mock_fn_fail;
  assert_int_equal(mock_complete_invoke(m, mock_first_pending(m, MOCK_INVOKE), T0), 0);
  m->fn = NULL;
  assert_int_equal(mock_complete_invoke(m, mock_first_pending(m, MOCK_INVOKE), T0), 0);
  assert_true(mock_pending(m, MOCK_FETCH) >= 1);
  assert_true(mock_pending(m, MOCK_INVOKE) >= 1);
  assert_int_equal(mock_pending(m, MOCK_DELIVER), 1);
  assert_true(mock_pending(m, MOCK_STORE) >= 1);
  mock_host_free(m); /* bp_engine_del() returns 0 and leaves no block */
}

/* bp_engine_next_deadline(): NO_DEADLINE when only completions can make progress, the poll
 * interval after an empty read (§8.1), fetch_error_retry_ms after a failed read, the
 * backoff time of a failed batch (§5.1). */
static void test_next_deadline(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  m->async[MOCK_FETCH] = m->async[MOCK_INVOKE] = 1;
  m->fn = mock_fn_fail;
  bp_engine_opts o = kopts();
  o.poll_interval_ms = 5000;
  o.fetch_error_retry_ms = 700;
  bp_config *cfg = kcfg();
  create_engine(m, cfg, &o);
  assert_int_equal(bp_engine_next_deadline(m->e), BP_NO_DEADLINE); /* no shard */
  int s = mock_shard_add(m, SHARD0);
  assert_int_equal(bp_engine_add_shard(m->e, SHARD0, NULL, NULL, NULL, 0), 0);
  assert_true(bp_engine_next_deadline(m->e) <= T0); /* the first fetch is due at once */

  assert_int_equal(mock_tick(m, T0), 0);
  assert_int_equal(mock_pending(m, MOCK_FETCH), 1);
  assert_int_equal(bp_engine_next_deadline(m->e), BP_NO_DEADLINE);
  /* an empty read: the next poll after poll_interval_ms */
  assert_int_equal(mock_complete_fetch(m, 0, T0 + 10, 0), 0);
  assert_int_equal(bp_engine_next_deadline(m->e), T0 + 5010);
  assert_int_equal(mock_tick(m, T0 + 5009), 0);
  assert_int_equal(m->nfetches, 1);
  assert_int_equal(mock_tick(m, T0 + 5010), 0);
  assert_int_equal(m->nfetches, 2);
  /* a failed read: again after fetch_error_retry_ms */
  assert_int_equal(mock_complete_fetch(m, 1, T0 + 5020, BP_ERR_IO), 0);
  assert_int_equal(bp_engine_next_deadline(m->e), T0 + 5720);
  assert_int_equal(mock_tick(m, T0 + 5719), 0);
  assert_int_equal(m->nfetches, 2);
  assert_int_equal(mock_tick(m, T0 + 5720), 0);
  assert_int_equal(m->nfetches, 3);
  assert_int_equal(m->fetches[2].from, BP_POSITION_TRIM_HORIZON);
  /* records: an invocation and the next fetch (due at once) are in flight */
  mock_put_n(m, s, 2, 1, T0);
  assert_int_equal(mock_complete_fetch(m, 2, T0 + 5730, 0), 0);
  assert_int_equal(mock_pending(m, MOCK_INVOKE), 1);
  assert_int_equal(mock_pending(m, MOCK_FETCH), 1);
  assert_int_equal(bp_engine_next_deadline(m->e), BP_NO_DEADLINE);
  /* a function error: the retry is due one backoff (1 s) after the completion */
  assert_int_equal(mock_complete_invoke(m, 0, T0 + 5800), 0);
  assert_int_equal(bp_engine_next_deadline(m->e), T0 + 6800);
  assert_int_equal(mock_complete_fetch(m, 3, T0 + 5900, 0), 0); /* empty: poll at +5 s */
  assert_int_equal(bp_engine_next_deadline(m->e), T0 + 6800);
  assert_int_equal(mock_tick(m, T0 + 6799), 0);
  assert_int_equal(m->ninvokes, 1);
  assert_int_equal(mock_tick(m, T0 + 6800), 0);
  assert_int_equal(m->ninvokes, 2);
  assert_int_equal(m->invokes[1].attempt, 2);
  assert_true(m->invokes[1].flags & BP_INVOKE_RETRY);
  assert_int_equal(bp_engine_next_deadline(m->e), T0 + 10900);
  /* the backoff was reported */
  int found = 0;
  for (size_t i = 0; i < m->nevents; i++)
    if (m->events[i].type == BP_EVENT_BACKOFF && m->events[i].value == T0 + 6800) found = 1;
  assert_true(found);
  mock_host_free(m);
}

/* bp_engine_complete_fetch(): a bad record keeps the records before it, ignores the rest,
 * returns BP_ERR_INVALID_RECORD, and the next fetch reads again after the last record kept. */
static void test_invalid_fetch_records(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  m->async[MOCK_FETCH] = 1;
  bp_engine_opts o = kopts();
  o.poll_interval_ms = 60000;
  int s = start(m, kcfg(), &o);
  mock_put_n(m, s, 6, 1, T0);
  bp_record v[4];
  for (size_t i = 0; i < 4; i++) mock_view(m, s, i, &v[i]);

  /* a bad sequence number (leading zero) at index 2 */
  v[2].seq = "0123";
  v[2].seq_len = 4;
  assert_int_equal(mock_tick(m, T0), 0);
  m->fetches[0].completed = 1;
  assert_int_equal(bp_engine_complete_fetch(m->e, m->fetches[0].req_id, T0, 0, v, 4, 0),
                   BP_ERR_INVALID_RECORD);
  assert_true(bp_engine_errmsg(m->e)[0] != '\0');
  assert_int_equal(mock_metrics(m, NULL).polled_event_count, 2);
  assert_int_equal(mock_run(m, T0 + 5000), 0);
  assert_int_equal(m->ninvokes, 1);
  assert_inv(m, 0, s, 0, 2);
  size_t f = mock_first_pending(m, MOCK_FETCH);
  assert_int_equal(m->fetches[f].from, BP_POSITION_AFTER_SEQUENCE_NUMBER);
  assert_string_equal(m->fetches[f].after_seq, seq_of(m, s, 1));

  /* not ascending: r2, r4, r3 keeps r2 and r4 */
  mock_view(m, s, 2, &v[0]);
  mock_view(m, s, 4, &v[1]);
  mock_view(m, s, 3, &v[2]);
  m->fetches[f].completed = 1;
  assert_int_equal(bp_engine_complete_fetch(m->e, m->fetches[f].req_id, m->now, 0, v, 3, 0),
                   BP_ERR_INVALID_RECORD);
  assert_int_equal(mock_metrics(m, NULL).polled_event_count, 4);
  assert_int_equal(mock_run(m, m->now + 5000), 0);
  f = mock_first_pending(m, MOCK_FETCH);
  assert_string_equal(m->fetches[f].after_seq, seq_of(m, s, 4));

  /* a record not above the last one read: nothing kept */
  mock_view(m, s, 4, &v[0]);
  m->fetches[f].completed = 1;
  assert_int_equal(bp_engine_complete_fetch(m->e, m->fetches[f].req_id, m->now, 0, v, 1, 0),
                   BP_ERR_INVALID_RECORD);
  assert_int_equal(mock_run(m, m->now + 5000), 0);
  f = mock_first_pending(m, MOCK_FETCH);
  assert_string_equal(m->fetches[f].after_seq, seq_of(m, s, 4));

  /* a record the codec refuses (partition key not UTF-8): nothing kept */
  mock_view(m, s, 5, &v[0]);
  v[0].partition_key = "\xff\xfe";
  v[0].partition_key_len = 2;
  m->fetches[f].completed = 1;
  assert_int_equal(bp_engine_complete_fetch(m->e, m->fetches[f].req_id, m->now, 0, v, 1, 0),
                   BP_ERR_INVALID_RECORD);
  assert_int_equal(mock_run(m, m->now + 5000), 0);
  f = mock_first_pending(m, MOCK_FETCH);
  assert_string_equal(m->fetches[f].after_seq, seq_of(m, s, 4));
  assert_int_equal(mock_metrics(m, NULL).polled_event_count, 4);

  /* Kinesis partition keys of 1 to 256 code points: empty, 257 characters, and a length no
   * buffer has (SIZE_MAX; 2^40 over a 257-byte key) are refused before the key is read */
  char *key = malloc(257);
  memset(key, 'k', 257);
  const size_t bad_len[] = {0, 257, SIZE_MAX, (size_t)1 << 40};
  for (size_t k = 0; k < sizeof bad_len / sizeof bad_len[0]; k++) {
    mock_view(m, s, 5, &v[0]);
    v[0].partition_key = key;
    v[0].partition_key_len = bad_len[k];
    m->fetches[f].completed = 1;
    assert_int_equal(bp_engine_complete_fetch(m->e, m->fetches[f].req_id, m->now, 0, v, 1, 0),
                     BP_ERR_INVALID_RECORD);
    assert_non_null(strstr(bp_engine_errmsg(m->e), "artition"));
    assert_int_equal(mock_run(m, m->now + 5000), 0);
    f = mock_first_pending(m, MOCK_FETCH);
    assert_string_equal(m->fetches[f].after_seq, seq_of(m, s, 4));
  }
  free(key);
  assert_int_equal(mock_metrics(m, NULL).polled_event_count, 4);

  /* now the good r5 */
  assert_int_equal(mock_complete_fetch(m, f, m->now, 0), 0);
  assert_int_equal(m->fetches[f].start, 5);
  assert_int_equal(mock_run(m, m->now + 5000), 0);
  for (size_t i = 0; i < 6; i++) assert_int_equal(mock_rec(m, s, i)->invoked, i == 3 ? 0 : 1);
  assert_int_equal(mock_checkpoint(m, s), 5);
  mock_host_free(m);
}

/* bp_fetch_req.max_records: records beyond it are ignored and read again by the next fetch. */
static void test_fetch_max_records(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  m->async[MOCK_FETCH] = m->async[MOCK_INVOKE] = 1;
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_batch_size(cfg, 2), 0);
  bp_engine_opts o = kopts();
  o.max_buffered_records = 4;
  int s = start(m, cfg, &o);
  mock_put_n(m, s, 10, 1, T0);
  assert_int_equal(mock_tick(m, T0), 0);
  uint32_t k = m->fetches[0].max_records;
  assert_true(k >= 1 && k <= 4);
  m->over_deliver = 3;
  assert_int_equal(mock_complete_fetch(m, 0, T0, 0), 0);
  assert_int_equal(m->fetches[0].returned, k + 3);
  assert_int_equal(mock_metrics(m, NULL).polled_event_count, k);
  m->over_deliver = 0;
  assert_int_equal(mock_settle(m, T0 + 60000), 0);
  /* the first fetch after the first one resumed after its last record kept */
  assert_int_equal(m->fetches[1].from, BP_POSITION_AFTER_SEQUENCE_NUMBER);
  assert_string_equal(m->fetches[1].after_seq, seq_of(m, s, k - 1));
  for (size_t i = 0; i < 10; i++) assert_int_equal(mock_rec(m, s, i)->invoked, 1);
  assert_int_equal(mock_metrics(m, NULL).polled_event_count, 10);
  assert_int_equal(mock_checkpoint(m, s), 9);
  mock_host_free(m);
}

/* bp_engine_opts.max_fetch_records (appended after the 0.2 baseline): a fetch asks for at
 * most that many records, min'd with the free buffer slots; 0 keeps the free slots; above
 * 10,000 (GetRecords' Limit) is refused. */
static void test_max_fetch_records(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  bp_engine_opts o = kopts();
  o.max_fetch_records = 3;
  int s = start(m, kcfg(), &o);
  mock_put_n(m, s, 10, 1, T0);
  assert_int_equal(mock_settle(m, T0 + 60000), 0);
  assert_true(m->nfetches >= 4);
  for (size_t i = 0; i < m->nfetches; i++) assert_int_equal(m->fetches[i].max_records, 3);
  for (size_t i = 0; i < 10; i++) assert_int_equal(mock_rec(m, s, i)->invoked, 1);
  assert_int_equal(mock_checkpoint(m, s), 9);
  mock_host_free(m);

  /* the free slots still cap it: 4 buffered records at most */
  m = mk_mock();
  o = kopts();
  o.max_buffered_records = 4;
  o.max_fetch_records = 10000;
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_batch_size(cfg, 2), 0);
  s = start(m, cfg, &o);
  mock_put_n(m, s, 2, 1, T0);
  assert_int_equal(mock_tick(m, T0), 0);
  assert_true(m->nfetches >= 1);
  assert_true(m->fetches[0].max_records >= 1 && m->fetches[0].max_records <= 4);
  mock_host_free(m);

  m = mk_mock();
  o = kopts();
  o.max_fetch_records = 10001;
  cfg = kcfg();
  assert_int_equal(mock_engine_new(m, cfg, &o), BP_ERR_INVALID_ARGUMENT);
  bp_config_del(cfg);
  mock_host_free(m);
}

/* bp_engine_complete_invoke(): an invalid result is refused with BP_ERR_INVALID_ARGUMENT and
 * the request stays in flight. */
static void test_invalid_invoke_result(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  m->async[MOCK_INVOKE] = 1;
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_report_batch_item_failures(cfg, 1), 0);
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  mock_put_n(m, s, 3, 1, T0);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(mock_pending(m, MOCK_INVOKE), 1);
  uint64_t id = m->invokes[0].req_id;
  char big[200];
  memset(big, 'r', sizeof big);

  bp_invoke_result r = BP_INVOKE_RESULT_INIT;
  bp_invoke_result bad[9];
  for (size_t i = 0; i < 9; i++) bp_invoke_result_init(&bad[i], sizeof bad[i]);
  bad[0].kind = 9;                                  /* bad kind */
  bad[1].kind = BP_INVOKE_RESULT_CLASSIFIED;        /* bad outcome */
  bad[1].outcome = 42;
  bad[2].kind = BP_INVOKE_RESULT_CLASSIFIED;        /* PARTIAL index out of range */
  bad[2].outcome = BP_ATTEMPT_PARTIAL;
  bad[2].failed_index = 3;
  bad[2].failed_count = 1;
  bad[3].kind = BP_INVOKE_RESULT_CLASSIFIED;        /* PARTIAL with no failed record */
  bad[3].outcome = BP_ATTEMPT_PARTIAL;
  bad[3].failed_index = 1;
  bad[3].failed_count = 0;
  bad[4].request_id = big;                          /* request id of 129 bytes */
  bad[4].request_id_len = 129;
  bad[5].kind = BP_INVOKE_RESULT_ERROR;             /* function error of 65 bytes */
  bad[5].function_error = big;
  bad[5].function_error_len = 65;
  bad[6].executed_version = big;                    /* executed version of 65 bytes */
  bad[6].executed_version_len = 65;
  bad[7].request_id = "\xc3(";                      /* not UTF-8 */
  bad[7].request_id_len = 2;
  bad[8].body = NULL;                               /* body NULL with a length */
  bad[8].body_len = 3;
  for (size_t i = 0; i < 9; i++) {
    int rc = bp_engine_complete_invoke(m->e, id, T0 + 1, &bad[i]);
    if (rc != BP_ERR_INVALID_ARGUMENT) fail_msg("bad result %zu: %s", i, bp_err_name(rc));
  }
  assert_int_equal(bp_engine_complete_invoke(m->e, id, T0 + 1, NULL), BP_ERR_INVALID_ARGUMENT);
  /* still in flight: nothing committed, nothing retried */
  assert_int_equal(mock_checkpoint(m, s), -1);
  assert_int_equal(m->ninvokes, 1);
  assert_int_equal(mock_metrics(m, NULL).invocations, 0);
  /* a longest-allowed request id is fine */
  bp_invoke_result_init(&r, sizeof r);
  r.request_id = big;
  r.request_id_len = 128;
  assert_int_equal(bp_engine_complete_invoke(m->e, id, T0 + 2, &r), 0);
  m->invokes[0].completed = 1;
  assert_int_equal(mock_checkpoint(m, s), 2);
  mock_host_free(m);

  /* CLASSIFIED PARTIAL while ReportBatchItemFailures is off */
  m = mk_mock();
  m->async[MOCK_INVOKE] = 1;
  s = start(m, kcfg(), &o);
  mock_put_n(m, s, 3, 1, T0);
  assert_int_equal(mock_run(m, T0), 0);
  bp_invoke_result_init(&r, sizeof r);
  r.kind = BP_INVOKE_RESULT_CLASSIFIED;
  r.outcome = BP_ATTEMPT_PARTIAL;
  r.failed_index = 1;
  r.failed_count = 1;
  assert_int_equal(bp_engine_complete_invoke(m->e, m->invokes[0].req_id, T0 + 1, &r),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(mock_checkpoint(m, s), -1);
  r.outcome = BP_ATTEMPT_SUCCESS;
  assert_int_equal(bp_engine_complete_invoke(m->e, m->invokes[0].req_id, T0 + 1, &r), 0);
  m->invokes[0].completed = 1;
  assert_int_equal(mock_checkpoint(m, s), 2);
  mock_host_free(m);
}

/* =====================================================================================
 * 2. Semantics
 * ===================================================================================== */

/* §2.4: TRIM_HORIZON reads the oldest record. */
static void test_position_trim_horizon(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  m->keep_payloads = 1;
  bp_engine_opts o = kopts();
  int s = start(m, kcfg(), &o);
  mock_put_n(m, s, 3, 1, T0 - 1000);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(m->fetches[0].from, BP_POSITION_TRIM_HORIZON);
  assert_int_equal(m->fetches[0].after_seq_len, 0);
  assert_int_equal(m->fetches[0].timestamp_ms, 0);
  assert_int_equal(m->ninvokes, 1);
  assert_inv(m, 0, s, 0, 3);
  /* §2.4: the next read follows the host's iterator */
  assert_int_equal(m->fetches[1].from, BP_POSITION_CONTINUE);
  assert_int_equal(m->fetches[1].after_seq_len, 0);
  /* the event (§1.1) carries the records in shard order */
  yajl_val j = json_parse(m->invokes[0].payload);
  yajl_val recs = json_at(j, "Records");
  assert_true(YAJL_IS_ARRAY(recs));
  assert_int_equal(recs->u.array.len, 3);
  for (size_t i = 0; i < 3; i++) {
    yajl_val x = recs->u.array.values[i];
    char id[128];
    snprintf(id, sizeof id, "%s:%s", SHARD0, seq_of(m, s, i));
    assert_json_str(x, "kinesis.sequenceNumber", seq_of(m, s, i));
    assert_json_str(x, "kinesis.partitionKey", mock_rec(m, s, i)->pk);
    assert_json_str(x, "eventID", id);
    assert_json_str(x, "invokeIdentityArn", ROLE_ARN);
    assert_json_str(x, "awsRegion", "us-east-1");
    assert_json_str(x, "eventSourceARN", STREAM_ARN);
  }
  yajl_tree_free(j);
  int found = 0;
  for (size_t i = 0; i < m->nevents; i++)
    if (m->events[i].type == BP_EVENT_SHARD_STARTED) {
      assert_int_equal(m->events[i].value, BP_POSITION_TRIM_HORIZON);
      found++;
    }
  assert_int_equal(found, 1);
  mock_host_free(m);
}

/* §2.4 (batchpoint's decision): LATEST is resolved once; after an empty read the host's iterator continues
 * (CONTINUE), so records written after the start are delivered. */
static void test_position_latest(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  bp_engine_opts o = kopts();
  int s = start(m, cfg_new(STREAM_ARN, BP_POSITION_LATEST), &o);
  mock_put_n(m, s, 3, 1, T0 - 1000);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(m->nfetches, 1);
  assert_int_equal(m->fetches[0].from, BP_POSITION_LATEST);
  assert_int_equal(m->fetches[0].returned, 0);
  mock_put_n(m, s, 2, 1, T0 + 500);
  assert_int_equal(mock_run(m, T0 + 1000), 0);
  assert_int_equal(m->fetches[1].from, BP_POSITION_CONTINUE);
  assert_int_equal(m->ninvokes, 1);
  assert_inv(m, 0, s, 3, 2);
  assert_int_equal(m->fetches[2].from, BP_POSITION_CONTINUE);
  for (size_t i = 0; i < m->nevents; i++)
    if (m->events[i].type == BP_EVENT_SHARD_STARTED)
      assert_int_equal(m->events[i].value, BP_POSITION_LATEST);
  mock_host_free(m);
}

/* §2.4: AT_TIMESTAMP reads from the first record with arrival >= the timestamp; after an
 * empty read CONTINUE carries the timestamp too. */
static void test_position_at_timestamp(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  bp_engine_opts o = kopts();
  bp_config *cfg = cfg_new(STREAM_ARN, BP_POSITION_AT_TIMESTAMP);
  assert_int_equal(bp_config_set_starting_position_timestamp_ms(cfg, T0 - 5000), 0);
  int s = start(m, cfg, &o);
  mock_put(m, s, "k", "a", T0 - 10000);
  mock_put(m, s, "k", "b", T0 - 5000);
  mock_put(m, s, "k", "c", T0 - 1000);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(m->fetches[0].from, BP_POSITION_AT_TIMESTAMP);
  assert_int_equal(m->fetches[0].timestamp_ms, T0 - 5000);
  assert_int_equal(m->ninvokes, 1);
  assert_inv(m, 0, s, 1, 2);
  mock_host_free(m);

  m = mk_mock();
  cfg = cfg_new(STREAM_ARN, BP_POSITION_AT_TIMESTAMP);
  assert_int_equal(bp_config_set_starting_position_timestamp_ms(cfg, T0 + 1), 0);
  s = start(m, cfg, &o);
  mock_put_n(m, s, 2, 1, T0 - 1000);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(m->fetches[0].returned, 0);
  mock_put_n(m, s, 1, 1, T0 + 500);
  assert_int_equal(mock_run(m, T0 + 1000), 0);
  assert_int_equal(m->fetches[1].from, BP_POSITION_CONTINUE);
  assert_int_equal(m->fetches[1].timestamp_ms, T0 + 1);
  assert_int_equal(m->ninvokes, 1);
  assert_inv(m, 0, s, 2, 1);
  mock_host_free(m);
}

/* §2.4 (batchpoint's decision): reads follow the host's iterator. A long run asks a position
 * once per shard start (one GetShardIterator), however many reads follow, empty ones
 * included; a failed read asks again after the last record kept; a read not kept whole (more
 * records than max_records, a bad record) does too; a throttled read (status
 * BP_ERR_WOULDBLOCK) keeps the iterator and is asked again after wouldblock_retry_ms. */
static size_t positioned_fetches(const mock_host *m, int shard) {
  size_t n = 0;
  for (size_t i = 0; i < m->nfetches; i++)
    if (m->fetches[i].shard == shard && m->fetches[i].from != BP_POSITION_CONTINUE) n++;
  return n;
}

/* The index of the first fetch of @p shard at or after @p from. */
static size_t fetch_of(const mock_host *m, int shard, size_t from) {
  while (from < m->nfetches && m->fetches[from].shard != shard) from++;
  assert_true(from < m->nfetches);
  return from;
}

static void test_position_follows_iterator(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  bp_engine_opts o = kopts();
  o.max_fetch_records = 7;
  create_engine(m, kcfg(), &o);
  int s0 = mock_shard_add(m, SHARD0), s1 = mock_shard_add(m, "shardId-000000000001");
  assert_int_equal(bp_engine_add_shard(m->e, SHARD0, NULL, NULL, NULL, 0), 0);
  assert_int_equal(bp_engine_add_shard(m->e, "shardId-000000000001", NULL, NULL, NULL, 0), 0);
  int64_t t = T0;
  for (int round = 0; round < 40; round++) { /* records, then empty polls, again and again */
    mock_put_n(m, s0, 20, 3, t - 100);
    mock_put_n(m, s1, 9, 2, t - 100);
    t += 5000;
    assert_int_equal(mock_run(m, t), 0);
  }
  assert_true(m->nfetches > 200);
  assert_int_equal(positioned_fetches(m, s0), 1);
  assert_int_equal(positioned_fetches(m, s1), 1);
  assert_int_equal(mock_checkpoint(m, s0), 40 * 20 - 1);
  assert_int_equal(mock_checkpoint(m, s1), 40 * 9 - 1);

  /* a failed read: the next one asks for the position after the last record read */
  size_t f = m->nfetches;
  mock_put_n(m, s0, 3, 1, t - 100);
  m->fetch_status = BP_ERR_IO;
  m->fetch_status_times = 1;
  t += 5000;
  assert_int_equal(mock_run(m, t), 0);
  f = fetch_of(m, s0, f);
  assert_int_equal(m->fetches[f].from, BP_POSITION_CONTINUE);
  assert_int_equal(m->fetches[f].returned, 0);
  f = fetch_of(m, s0, f + 1);
  assert_int_equal(m->fetches[f].from, BP_POSITION_AFTER_SEQUENCE_NUMBER);
  assert_string_equal(m->fetches[f].after_seq, seq_of(m, s0, 40 * 20 - 1));
  f = fetch_of(m, s0, f + 1);
  assert_int_equal(m->fetches[f].from, BP_POSITION_CONTINUE);
  t += 5000;
  assert_int_equal(mock_run(m, t), 0);
  assert_int_equal(mock_checkpoint(m, s0), 40 * 20 + 2);

  /* more records than asked for: the extra ones are read again after the last kept */
  f = m->nfetches;
  m->over_deliver = 2;
  mock_put_n(m, s0, 9, 1, t - 100);
  t += 5000;
  assert_int_equal(mock_run(m, t), 0);
  m->over_deliver = 0;
  f = fetch_of(m, s0, f);
  assert_int_equal(m->fetches[f].from, BP_POSITION_CONTINUE);
  assert_int_equal(m->fetches[f].returned, 9);
  f = fetch_of(m, s0, f + 1);
  assert_int_equal(m->fetches[f].from, BP_POSITION_AFTER_SEQUENCE_NUMBER);
  assert_string_equal(m->fetches[f].after_seq, seq_of(m, s0, 40 * 20 + 3 + 6));
  t += 5000;
  assert_int_equal(mock_run(m, t), 0);
  assert_int_equal(mock_checkpoint(m, s0), 40 * 20 + 3 + 9 - 1);
  mock_host_free(m);

  /* a throttled read: nothing read, no error, the iterator stands (CONTINUE), asked again
   * after wouldblock_retry_ms */
  m = mk_mock();
  m->async[MOCK_FETCH] = 1;
  o = kopts();
  int s = start(m, kcfg(), &o);
  mock_put_n(m, s, 4, 1, T0 - 100);
  assert_int_equal(mock_tick(m, T0), 0);
  assert_int_equal(mock_complete_fetch(m, 0, T0, 0), 0); /* 4 records */
  assert_int_equal(m->nfetches, 2);
  assert_int_equal(m->fetches[1].from, BP_POSITION_CONTINUE);
  uint64_t errors = mock_events(m, BP_EVENT_ERROR);
  assert_int_equal(mock_complete_fetch(m, 1, T0 + 10, BP_ERR_WOULDBLOCK), 0);
  assert_int_equal(mock_events(m, BP_EVENT_ERROR), errors);
  assert_int_equal(bp_engine_next_deadline(m->e), T0 + 10 + o.wouldblock_retry_ms);
  assert_int_equal(mock_tick(m, T0 + 10 + o.wouldblock_retry_ms - 1), 0);
  assert_int_equal(m->nfetches, 2);
  assert_int_equal(mock_tick(m, T0 + 10 + o.wouldblock_retry_ms), 0);
  assert_int_equal(m->nfetches, 3);
  assert_int_equal(m->fetches[2].from, BP_POSITION_CONTINUE);
  mock_host_free(m);
}

/* §2.4 (batchpoint's decision): a checkpoint given to bp_engine_add_shard() wins over StartingPosition. */
static void test_position_from_checkpoint(void **state) {
  (void)state;
  for (int pos = BP_POSITION_TRIM_HORIZON; pos <= BP_POSITION_LATEST; pos++) {
    mock_host *m = mk_mock();
    bp_engine_opts o = kopts();
    bp_config *cfg = cfg_new(STREAM_ARN, pos);
    create_engine(m, cfg, &o);
    int s = mock_shard_add(m, SHARD0);
    mock_put_n(m, s, 5, 1, T0 - 1000);
    const mock_record *r1 = mock_rec(m, s, 1);
    assert_int_equal(bp_engine_add_shard(m->e, SHARD0, NULL, NULL, r1->seq, r1->seq_len), 0);
    assert_int_equal(mock_checkpoint(m, s), 1);
    assert_int_equal(mock_run(m, T0), 0);
    assert_int_equal(m->fetches[0].from, BP_POSITION_AFTER_SEQUENCE_NUMBER);
    assert_string_equal(m->fetches[0].after_seq, r1->seq);
    assert_int_equal(m->ninvokes, 1);
    assert_inv(m, 0, s, 2, 3);
    assert_int_equal(mock_checkpoint(m, s), 4);
    mock_host_free(m);
  }
}

/* §3.1 (batchpoint's decision): a batch's window opens when its first record is added and it is flushed at
 * the first now >= open + window (not before); next_deadline names the window end. */
static void test_batching_window(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_maximum_batching_window_in_seconds(cfg, 2), 0);
  bp_engine_opts o = kopts();
  o.poll_interval_ms = 10000;
  int s = start(m, cfg, &o);
  mock_put_n(m, s, 3, 1, T0 - 100);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(m->ninvokes, 0);
  assert_int_equal(bp_engine_next_deadline(m->e), T0 + 2000);
  assert_int_equal(mock_tick(m, T0 + 1999), 0);
  assert_int_equal(m->ninvokes, 0);
  assert_int_equal(mock_tick(m, T0 + 2000), 0);
  assert_int_equal(m->ninvokes, 1);
  assert_inv(m, 0, s, 0, 3);
  assert_int_equal(m->invokes[0].at_ms, T0 + 2000);
  /* the next records are read by the poll at T0 + 10 s: their window opens then */
  mock_put_n(m, s, 2, 1, T0 + 2500);
  assert_int_equal(mock_run(m, T0 + 11999), 0);
  assert_int_equal(m->ninvokes, 1);
  assert_int_equal(bp_engine_next_deadline(m->e), T0 + 12000);
  assert_int_equal(mock_run(m, T0 + 12000), 0);
  assert_int_equal(m->ninvokes, 2);
  assert_inv(m, 1, s, 3, 2);
  assert_int_equal(m->invokes[1].at_ms, T0 + 12000);
  mock_host_free(m);

  /* BatchSize cuts before the window: 7 records, BatchSize 3, window 10 s */
  m = mk_mock();
  cfg = kcfg();
  assert_int_equal(bp_config_set_batch_size(cfg, 3), 0);
  assert_int_equal(bp_config_set_maximum_batching_window_in_seconds(cfg, 10), 0);
  o.poll_interval_ms = 60000;
  s = start(m, cfg, &o);
  mock_put_n(m, s, 7, 1, T0 - 100);
  assert_int_equal(mock_run(m, T0 + 30000), 0);
  assert_int_equal(m->ninvokes, 3);
  assert_inv(m, 0, s, 0, 3);
  assert_inv(m, 1, s, 3, 3);
  assert_inv(m, 2, s, 6, 1);
  int64_t t[] = {T0, T0, T0 + 10000};
  assert_inv_times(m, t, 3);
  mock_host_free(m);
}

/* §3.1, §11.2-§11.3: BatchSize cuts; window 0 takes every buffered record up to it. */
static void test_batch_size_cut(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_batch_size(cfg, 10), 0);
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  mock_put_n(m, s, 25, 3, T0 - 100);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(m->ninvokes, 3);
  assert_inv(m, 0, s, 0, 10);
  assert_inv(m, 1, s, 10, 10);
  assert_inv(m, 2, s, 20, 5);
  assert_int_equal(mock_checkpoint(m, s), 24);
  assert_int_equal(bp_engine_idle(m->e), 1);
  mock_host_free(m);

  /* 10 records, default BatchSize 100: one invocation of 10 */
  m = mk_mock();
  s = start(m, kcfg(), &o);
  mock_put_n(m, s, 10, 3, T0 - 100);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(m->ninvokes, 1);
  assert_inv(m, 0, s, 0, 10);
  mock_host_free(m);
}

/* §3.2, §11.4: one batch in flight per lane; the next starts only after the completion. */
static void test_one_batch_in_flight(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  m->async[MOCK_INVOKE] = 1;
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_batch_size(cfg, 10), 0);
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  mock_put_n(m, s, 20, 1, T0 - 100);
  assert_int_equal(mock_run(m, T0 + 4999), 0);
  assert_int_equal(m->ninvokes, 1);
  assert_int_equal(bp_engine_idle(m->e), 0);
  assert_int_equal(mock_complete_invoke(m, 0, T0 + 5000), 0);
  assert_int_equal(m->ninvokes, 2);
  assert_int_equal(m->invokes[1].at_ms, T0 + 5000);
  assert_inv(m, 1, s, 10, 10);
  assert_int_equal(mock_complete_invoke(m, 1, T0 + 10000), 0);
  assert_int_equal(mock_checkpoint(m, s), 19);
  assert_int_equal(bp_engine_idle(m->e), 1);
  mock_host_free(m);
}

/* §3.2 (batchpoint's decision): lane = FNV-1a-32(partition key) % ParallelizationFactor; per-key order; lanes
 * run concurrently with an asynchronous host. */
static void test_parallelization_lanes(void **state) {
  (void)state;
  enum { PF = 4, N = 40, KEYS = 10 };
  mock_host *m = mk_mock();
  m->async[MOCK_INVOKE] = 1;
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_batch_size(cfg, 3), 0);
  assert_int_equal(bp_config_set_parallelization_factor(cfg, PF), 0);
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  mock_put_n(m, s, N, KEYS, T0 - 100);
  unsigned lanes_used = 0;
  for (size_t i = 0; i < N; i++) {
    const mock_record *r = mock_rec(m, s, i);
    lanes_used |= 1u << (mock_fnv1a32(r->pk, r->pk_len) % PF);
  }
  assert_true(popcount(lanes_used) >= 2);

  assert_int_equal(mock_run(m, T0), 0);
  /* every lane with records has its first batch in flight at once */
  unsigned in_flight = 0;
  for (size_t i = 0; i < m->ninvokes; i++) in_flight |= 1u << m->invokes[i].lane;
  assert_int_equal(in_flight, lanes_used);
  assert_int_equal(mock_pending(m, MOCK_INVOKE), (size_t)popcount(lanes_used));
  int64_t now = T0;
  while (mock_pending(m, MOCK_INVOKE) > 0) {
    size_t i = m->ninvokes;
    while (m->invokes[--i].completed) {
    }
    now += 7;
    assert_int_equal(mock_complete_invoke(m, i, now), 0);
    assert_one_per_lane(m);
  }
  /* routing and order: each record once, on its key's lane, keys in shard order */
  long last_of_key[KEYS];
  for (size_t k = 0; k < KEYS; k++) last_of_key[k] = -1;
  for (size_t i = 0; i < m->ninvokes; i++) {
    const mock_invoke *inv = &m->invokes[i];
    assert_true(inv->lane < PF);
    assert_true(inv->count <= 3);
    for (size_t j = 0; j < inv->count; j++) {
      size_t rec = mock_inv_records(m, inv)[j];
      const mock_record *r = mock_rec(m, s, rec);
      assert_int_equal(mock_fnv1a32(r->pk, r->pk_len) % PF, inv->lane);
      size_t key = (size_t)atoi(r->pk + 1);
      assert_true((long)rec > last_of_key[key]);
      last_of_key[key] = (long)rec;
    }
  }
  for (size_t i = 0; i < N; i++) assert_int_equal(mock_rec(m, s, i)->invoked, 1);
  assert_int_equal(mock_checkpoint(m, s), N - 1);
  mock_host_free(m);
}

/* §3.2: the checkpoint never passes an unfinished record of another lane. PF 2: lane 0 is
 * stuck in retries on r1 while lane 1 finishes r0 and r2..r5. */
static void test_checkpoint_waits_for_blocked_lane(void **state) {
  (void)state;
  char ka[16], kb[16];
  key_for_lane(0, 2, "a", ka, sizeof ka);
  key_for_lane(1, 2, "b", kb, sizeof kb);
  mock_host *m = mk_mock();
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_parallelization_factor(cfg, 2), 0);
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  mock_put(m, s, kb, "r0", T0 - 100);
  mock_put(m, s, ka, "r1", T0 - 100);
  for (int i = 2; i < 6; i++) mock_put(m, s, kb, "rx", T0 - 100);
  script sc = {.poison = 1, .poison_shard = s};
  m->fn = fn_poison;
  m->fn_ctx = &sc;
  assert_int_equal(mock_run(m, T0 + 20000), 0);
  size_t lane0 = 0;
  for (size_t i = 0; i < m->ninvokes; i++) {
    if (m->invokes[i].lane == 0) {
      assert_inv(m, i, s, 1, 1);
      lane0++;
    }
  }
  assert_true(lane0 >= 3);
  for (size_t i = 2; i < 6; i++) assert_int_equal(mock_rec(m, s, i)->invoked, 1);
  assert_int_equal(mock_checkpoint(m, s), 0);
  sc.healed = 1;
  assert_int_equal(mock_run(m, T0 + 100000), 0);
  assert_int_equal(mock_checkpoint(m, s), 5);
  mock_host_free(m);
}

/* §3.3, §5.6: a throttle never consumes MaximumRetryAttempts; it backs off like a failure. */
static void test_throttle_no_quota(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_maximum_retry_attempts(cfg, 0), 0);
  set_dest(cfg, SQS_ARN);
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  script sc = {.throttles = 5};
  m->fn = fn_throttle_first;
  m->fn_ctx = &sc;
  mock_put_n(m, s, 3, 1, T0 - 100);
  assert_int_equal(mock_run(m, T0 + 100000), 0);
  assert_int_equal(m->ninvokes, 6);
  int64_t t[] = {T0, T0 + 1000, T0 + 3000, T0 + 7000, T0 + 15000, T0 + 31000};
  assert_inv_times(m, t, 6);
  for (size_t i = 0; i < 6; i++) {
    assert_inv(m, i, s, 0, 3);
    assert_int_equal(m->invokes[i].attempt, i + 1);
    assert_int_equal(!!(m->invokes[i].flags & BP_INVOKE_RETRY), i > 0);
  }
  assert_int_equal(m->ndeliveries, 0);
  assert_int_equal(mock_checkpoint(m, s), 2);
  bp_engine_metrics mt = mock_metrics(m, NULL);
  assert_int_equal(mt.throttled_attempts, 5);
  assert_int_equal(mt.invocations, 1);
  assert_int_equal(mt.invoked_event_count, 3);
  assert_int_equal(mt.failed_invoke_event_count, 15);
  assert_int_equal(mt.dropped_event_count, 0);
  mock_host_free(m);
}

/* §5.1, §5.6: only record age ends a throttled batch: RecordAgeExceeded, count 1 (nothing
 * reached the function), no responseContext. */
static void test_throttle_until_record_age(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_maximum_retry_attempts(cfg, 0), 0);
  assert_int_equal(bp_config_set_maximum_record_age_in_seconds(cfg, 60), 0);
  set_dest(cfg, SQS_ARN);
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  m->fn = mock_fn_throttle;
  mock_put_n(m, s, 3, 1, T0);
  assert_int_equal(mock_run(m, T0 + 120000), 0);
  /* attempts at +0, 1, 3, 7, 15, 31 s; at +63 s the records are 63 s old */
  assert_int_equal(m->ninvokes, 6);
  assert_int_equal(m->ndeliveries, 1);
  const mock_delivery *d = &m->deliveries[0];
  assert_int_equal(d->condition, BP_CONDITION_RECORD_AGE_EXCEEDED);
  assert_int_equal(d->approximate_invoke_count, 1);
  assert_int_equal(d->count, 3);
  assert_int_equal(d->at_ms, T0 + 63000);
  assert_int_equal(d->timestamp_ms, T0 + 63000);
  yajl_val j = json_parse(d->record_json);
  assert_json_str(j, "requestContext.condition", "RecordAgeExceeded");
  assert_json_int(j, "requestContext.approximateInvokeCount", 1);
  assert_null(json_at(j, "responseContext"));
  yajl_tree_free(j);
  assert_int_equal(mock_checkpoint(m, s), 2);
  mock_host_free(m);
}

/* §5.1-§5.3, §11.13/§11.22: function error, MRA 2: 3 invocations, then the on-failure
 * record: RetryAttemptsExhausted, approximateInvokeCount 3, functionError "Unhandled" (or
 * the host's X-Amz-Function-Error value, passed through). */
static void run_function_error(const char *function_error, const char *version,
                               const char *want_error, const char *want_version) {
  mock_host *m = mk_mock();
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_maximum_retry_attempts(cfg, 2), 0);
  assert_int_equal(bp_config_set_batch_size(cfg, 1), 0);
  set_dest(cfg, SQS_ARN);
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  script sc = {.fails = 1000, .function_error = function_error, .executed_version = version};
  m->fn = fn_fail_first;
  m->fn_ctx = &sc;
  mock_put(m, s, "k", "hello", T0 - 2000);
  mock_put(m, s, "k", "next", T0 - 2000);
  sc.fails = 3;
  assert_int_equal(mock_run(m, T0 + 10000), 0);
  assert_int_equal(m->ninvokes, 4); /* r0 three times, then r1 */
  int64_t t[] = {T0, T0 + 1000, T0 + 3000, T0 + 3000};
  assert_inv_times(m, t, 4);
  for (size_t i = 0; i < 3; i++) assert_inv(m, i, s, 0, 1);
  assert_inv(m, 3, s, 1, 1);
  assert_int_equal(m->ndeliveries, 1);
  const mock_delivery *d = &m->deliveries[0];
  assert_int_equal(d->destination_type, BP_DESTINATION_SQS);
  assert_string_equal(d->destination, SQS_ARN);
  assert_null(d->s3_key);
  assert_int_equal(d->condition, BP_CONDITION_RETRY_ATTEMPTS_EXHAUSTED);
  assert_int_equal(d->approximate_invoke_count, 3);
  assert_int_equal(d->count, 1);
  assert_int_equal(d->first, 0);
  assert_int_equal(d->last, 0);
  assert_int_equal(d->timestamp_ms, T0 + 3000);
  assert_true(d->order < m->invokes[3].order); /* discard before the next batch */
  yajl_val j = json_parse(d->record_json);
  assert_json_str(j, "requestContext.functionArn", FN_ARN);
  assert_json_str(j, "requestContext.condition", "RetryAttemptsExhausted");
  assert_json_int(j, "requestContext.approximateInvokeCount", 3);
  assert_json_int(j, "responseContext.statusCode", 200);
  assert_json_str(j, "responseContext.executedVersion", want_version);
  assert_json_str(j, "responseContext.functionError", want_error);
  assert_json_str(j, "version", "1.0");
  assert_json_str(j, "timestamp", "2025-11-25T16:35:35.021Z");
  assert_json_str(j, "KinesisBatchInfo.shardId", SHARD0);
  assert_json_str(j, "KinesisBatchInfo.startSequenceNumber", seq_of(m, s, 0));
  assert_json_str(j, "KinesisBatchInfo.endSequenceNumber", seq_of(m, s, 0));
  assert_json_str(j, "KinesisBatchInfo.approximateArrivalOfFirstRecord",
                  "2025-11-25T16:35:30.021Z");
  assert_json_int(j, "KinesisBatchInfo.batchSize", 1);
  assert_json_str(j, "KinesisBatchInfo.streamArn", STREAM_ARN);
  assert_null(json_at(j, "payload"));
  yajl_tree_free(j);
  assert_int_equal(mock_checkpoint(m, s), 1);
  bp_engine_metrics mt = mock_metrics(m, NULL);
  assert_int_equal(mt.on_failure_destination_delivered_event_count, 1);
  assert_int_equal(mt.dropped_event_count, 0);
  mock_host_free(m);
}

static void test_function_error_retries(void **state) {
  (void)state;
  run_function_error(NULL, NULL, "Unhandled", "$LATEST");
  run_function_error("Handled", "7", "Handled", "7");
}

/* §5.3: the on-failure record's functionArn is the mapping's FunctionArn, FunctionName
 * resolved as CreateEventSourceMapping does: a name (with a qualifier), a partial ARN (its
 * own account, even with opts.function_account set) and a full ARN; partition, region and
 * (by default) account from the stream ARN. */
static void test_function_arn_forms(void **state) {
  (void)state;
  static const struct {
    const char *stream, *fn, *account, *want;
  } cases[] = {
      {STREAM_ARN, "fn", NULL, FN_ARN},
      {STREAM_ARN, "fn:prod", NULL, FN_ARN ":prod"},
      {STREAM_ARN, "fn", "222222222222", "arn:aws:lambda:us-east-1:222222222222:function:fn"},
      {STREAM_ARN, "333333333333:function:fn", "222222222222",
       "arn:aws:lambda:us-east-1:333333333333:function:fn"},
      {STREAM_ARN, "arn:aws:lambda:us-east-1:444444444444:function:fn:7", NULL,
       "arn:aws:lambda:us-east-1:444444444444:function:fn:7"},
      {"arn:aws-cn:kinesis:cn-north-1:555555555555:stream/s1", "fn", NULL,
       "arn:aws-cn:lambda:cn-north-1:555555555555:function:fn"},
      {"arn:aws:kinesis:us-east-1::stream/s1", "fn", "222222222222",
       "arn:aws:lambda:us-east-1:222222222222:function:fn"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    mock_host *m = mk_mock();
    bp_config *cfg = cfg_new(cases[i].stream, BP_POSITION_TRIM_HORIZON);
    assert_int_equal(bp_config_set_function_name(cfg, cases[i].fn, strlen(cases[i].fn)), 0);
    assert_int_equal(bp_config_set_maximum_retry_attempts(cfg, 0), 0);
    set_dest(cfg, SQS_ARN);
    bp_engine_opts o = kopts();
    o.function_account = cases[i].account;
    int s = start(m, cfg, &o);
    script sc = {.fails = 1};
    m->fn = fn_fail_first;
    m->fn_ctx = &sc;
    mock_put(m, s, "k", "hello", T0 - 2000);
    assert_int_equal(mock_run(m, T0 + 10000), 0);
    assert_int_equal(m->ninvokes, 1);
    assert_int_equal(m->ndeliveries, 1);
    yajl_val j = json_parse(m->deliveries[0].record_json);
    assert_json_str(j, "requestContext.functionArn", cases[i].want);
    assert_json_str(j, "KinesisBatchInfo.streamArn", cases[i].stream);
    yajl_tree_free(j);
    mock_host_free(m);
  }
}

/* §5.1 (batchpoint's decision): backoff 1 s, 2 s, 4 s ... capped at 60 s after consecutive failures, measured
 * from the failed attempt; reset after a success or a discard; base and cap configurable. */
static void test_backoff_schedule(void **state) {
  (void)state;
  /* the default schedule */
  mock_host *m = mk_mock();
  bp_engine_opts o = kopts();
  int s = start(m, kcfg(), &o);
  m->fn = mock_fn_fail;
  mock_put_n(m, s, 1, 1, T0);
  assert_int_equal(mock_run(m, T0 + 400000), 0);
  int64_t gaps[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000};
  assert_true(m->ninvokes >= 10);
  for (size_t i = 0; i < 9; i++)
    assert_int_equal(m->invokes[i + 1].at_ms - m->invokes[i].at_ms, gaps[i]);
  mock_host_free(m);

  /* reset after a success: r0 fails 3 times, r1 then waits 1 s, not 8 s */
  m = mk_mock();
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_batch_size(cfg, 1), 0);
  s = start(m, cfg, &o);
  script sc = {.fail_mask = 0x17}; /* fail, fail, fail, ok (r0); fail, ok (r1) */
  m->fn = fn_fail_mask;
  m->fn_ctx = &sc;
  mock_put_n(m, s, 2, 1, T0);
  assert_int_equal(mock_run(m, T0 + 20000), 0);
  assert_int_equal(m->ninvokes, 6);
  int64_t t1[] = {T0, T0 + 1000, T0 + 3000, T0 + 7000, T0 + 7000, T0 + 8000};
  assert_inv_times(m, t1, 6);
  mock_host_free(m);

  /* reset after a discard: MRA 1; r0 always fails, r1 fails once */
  m = mk_mock();
  cfg = kcfg();
  assert_int_equal(bp_config_set_batch_size(cfg, 1), 0);
  assert_int_equal(bp_config_set_maximum_retry_attempts(cfg, 1), 0);
  s = start(m, cfg, &o);
  script sc2 = {.fails = 3};
  m->fn = fn_fail_first;
  m->fn_ctx = &sc2;
  mock_put_n(m, s, 2, 1, T0);
  assert_int_equal(mock_run(m, T0 + 20000), 0);
  int64_t t2[] = {T0, T0 + 1000, T0 + 1000, T0 + 2000};
  assert_int_equal(m->ninvokes, 4);
  assert_inv_times(m, t2, 4);
  assert_inv(m, 2, s, 1, 1);
  assert_int_equal(mock_checkpoint(m, s), 1);
  mock_host_free(m);

  /* configurable base and cap */
  m = mk_mock();
  o.backoff_base_ms = 100;
  o.backoff_cap_ms = 250;
  s = start(m, kcfg(), &o);
  m->fn = mock_fn_fail;
  mock_put_n(m, s, 1, 1, T0);
  assert_int_equal(mock_run(m, T0 + 1000), 0);
  int64_t t3[] = {T0, T0 + 100, T0 + 300, T0 + 550, T0 + 800};
  assert_inv_times(m, t3, 5);
  mock_host_free(m);
}

/* §5.1, §11.28: records older than MaximumRecordAgeInSeconds before the first invoke: only
 * the expired prefix is discarded (before the remainder is invoked). */
static void test_record_age_before_first_invoke(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_batch_size(cfg, 10), 0);
  assert_int_equal(bp_config_set_maximum_record_age_in_seconds(cfg, 60), 0);
  assert_int_equal(bp_config_set_maximum_retry_attempts(cfg, 0), 0);
  set_dest(cfg, SQS_ARN);
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  mock_put(m, s, "k", "old", T0 - 80000);
  for (int i = 0; i < 5; i++) mock_put(m, s, "k", "new", T0 - 1000);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(m->ndeliveries, 1);
  const mock_delivery *d = &m->deliveries[0];
  assert_int_equal(d->condition, BP_CONDITION_RECORD_AGE_EXCEEDED);
  assert_int_equal(d->count, 1);
  assert_int_equal(d->first, 0);
  assert_int_equal(d->approximate_invoke_count, 1);
  assert_int_equal(m->ninvokes, 1);
  assert_inv(m, 0, s, 1, 5);
  assert_true(m->invokes[0].flags & BP_INVOKE_REMAINDER);
  assert_true(d->order < m->invokes[0].order);
  assert_int_equal(mock_checkpoint(m, s), 5);
  mock_host_free(m);

  /* a batch expired entirely is discarded without an invocation */
  m = mk_mock();
  cfg = kcfg();
  assert_int_equal(bp_config_set_maximum_record_age_in_seconds(cfg, 60), 0);
  set_dest(cfg, SQS_ARN);
  s = start(m, cfg, &o);
  mock_put_n(m, s, 3, 1, T0 - 61000);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(m->ninvokes, 0);
  assert_int_equal(m->ndeliveries, 1);
  assert_int_equal(m->deliveries[0].count, 3);
  assert_int_equal(m->deliveries[0].approximate_invoke_count, 1);
  assert_int_equal(mock_checkpoint(m, s), 2);
  mock_host_free(m);
}

/* §5.1 (batchpoint's decision): the age check runs before every retry; an age equal to the maximum is not
 * expired; approximateInvokeCount counts the invocations of the batch. */
static void test_record_age_before_retries(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_maximum_record_age_in_seconds(cfg, 60), 0);
  set_dest(cfg, SQS_ARN);
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  m->fn = mock_fn_fail;
  mock_put_n(m, s, 1, 1, T0 - 53000);
  assert_int_equal(mock_run(m, T0 + 30000), 0);
  /* +0, 1, 3 s and +7 s (age exactly 60 s: still invoked); at +15 s it is 68 s old */
  int64_t t[] = {T0, T0 + 1000, T0 + 3000, T0 + 7000};
  assert_int_equal(m->ninvokes, 4);
  assert_inv_times(m, t, 4);
  assert_int_equal(m->ndeliveries, 1);
  assert_int_equal(m->deliveries[0].condition, BP_CONDITION_RECORD_AGE_EXCEEDED);
  assert_int_equal(m->deliveries[0].approximate_invoke_count, 4);
  assert_int_equal(m->deliveries[0].at_ms, T0 + 15000);
  assert_int_equal(mock_checkpoint(m, s), 0);
  mock_host_free(m);

  /* only the expired prefix goes; the remainder keeps the invocation count, and the cut
   * (a discard) resets the backoff */
  m = mk_mock();
  cfg = kcfg();
  assert_int_equal(bp_config_set_maximum_record_age_in_seconds(cfg, 60), 0);
  set_dest(cfg, SQS_ARN);
  s = start(m, cfg, &o);
  m->fn = mock_fn_fail;
  mock_put(m, s, "k", "a", T0 - 55000);
  mock_put(m, s, "k", "b", T0 - 30000);
  assert_int_equal(mock_run(m, T0 + 60000), 0);
  int64_t t2[] = {T0,        T0 + 1000,  T0 + 3000,  T0 + 7000,
                  T0 + 8000, T0 + 10000, T0 + 14000, T0 + 22000};
  assert_int_equal(m->ninvokes, 8);
  assert_inv_times(m, t2, 8);
  for (size_t i = 0; i < 3; i++) assert_inv(m, i, s, 0, 2);
  for (size_t i = 3; i < 8; i++) assert_inv(m, i, s, 1, 1);
  assert_true(m->invokes[3].flags & BP_INVOKE_REMAINDER);
  assert_int_equal(m->ndeliveries, 2);
  assert_int_equal(m->deliveries[0].first, 0);
  assert_int_equal(m->deliveries[0].count, 1);
  assert_int_equal(m->deliveries[0].approximate_invoke_count, 3);
  assert_int_equal(m->deliveries[0].at_ms, T0 + 7000);
  assert_int_equal(m->deliveries[1].first, 1);
  assert_int_equal(m->deliveries[1].approximate_invoke_count, 8);
  assert_int_equal(m->deliveries[1].at_ms, T0 + 38000);
  assert_int_equal(mock_checkpoint(m, s), 1);
  mock_host_free(m);
}

/* §4, §11.30: bisect halves, older half first, split does not consume the quota. */
static void test_bisect(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_batch_size(cfg, 4), 0);
  assert_int_equal(bp_config_set_bisect_batch_on_function_error(cfg, 1), 0);
  assert_int_equal(bp_config_set_maximum_retry_attempts(cfg, 0), 0);
  set_dest(cfg, SQS_ARN);
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  script sc = {.poison = 2, .poison_shard = s};
  m->fn = fn_poison;
  m->fn_ctx = &sc;
  mock_put_n(m, s, 4, 1, T0 - 100);
  assert_int_equal(mock_run(m, T0 + 10000), 0);
  assert_int_equal(m->ninvokes, 5);
  assert_inv(m, 0, s, 0, 4);
  assert_inv(m, 1, s, 0, 2);
  assert_inv(m, 2, s, 2, 2);
  assert_inv(m, 3, s, 2, 1);
  assert_inv(m, 4, s, 3, 1);
  assert_int_equal(m->invokes[0].flags & BP_INVOKE_SPLIT, 0);
  for (size_t i = 1; i < 5; i++) assert_true(m->invokes[i].flags & BP_INVOKE_SPLIT);
  int64_t t[] = {T0, T0 + 1000, T0 + 1000, T0 + 2000, T0 + 2000};
  assert_inv_times(m, t, 5);
  assert_int_equal(m->ndeliveries, 1);
  const mock_delivery *d = &m->deliveries[0];
  assert_int_equal(d->condition, BP_CONDITION_RETRY_ATTEMPTS_EXHAUSTED);
  assert_int_equal(d->approximate_invoke_count, 1);
  assert_int_equal(d->count, 1);
  assert_int_equal(d->first, 2);
  assert_true(d->order > m->invokes[3].order && d->order < m->invokes[4].order);
  assert_int_equal(mock_events(m, BP_EVENT_SPLIT), 2);
  assert_int_equal(mock_checkpoint(m, s), 3);
  mock_host_free(m);

  /* §4 (batchpoint's decision): [r1,r2] with r1 poisonous, MRA 1: [r1,r2], [r1], [r1] -> count 2, then [r2] */
  m = mk_mock();
  cfg = kcfg();
  assert_int_equal(bp_config_set_bisect_batch_on_function_error(cfg, 1), 0);
  assert_int_equal(bp_config_set_maximum_retry_attempts(cfg, 1), 0);
  set_dest(cfg, SQS_ARN);
  s = start(m, cfg, &o);
  script sc2 = {.poison = 0, .poison_shard = s};
  m->fn = fn_poison;
  m->fn_ctx = &sc2;
  mock_put_n(m, s, 2, 1, T0 - 100);
  assert_int_equal(mock_run(m, T0 + 10000), 0);
  assert_int_equal(m->ninvokes, 4);
  assert_inv(m, 0, s, 0, 2);
  assert_inv(m, 1, s, 0, 1);
  assert_inv(m, 2, s, 0, 1);
  assert_inv(m, 3, s, 1, 1);
  assert_true(m->invokes[2].flags & BP_INVOKE_RETRY);
  assert_int_equal(m->ndeliveries, 1);
  assert_int_equal(m->deliveries[0].approximate_invoke_count, 2);
  assert_int_equal(m->deliveries[0].count, 1);
  assert_int_equal(mock_checkpoint(m, s), 1);
  mock_host_free(m);
}

/* §3.5, §11.19: the calibration run: r6 reported failed whenever seen: r1..r5 once, r6 five
 * times, one on-failure record with count 4 and functionError null. */
static void test_partial_failure_remainder(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_batch_size(cfg, 3), 0);
  assert_int_equal(bp_config_set_maximum_batching_window_in_seconds(cfg, 1), 0);
  assert_int_equal(bp_config_set_maximum_retry_attempts(cfg, 3), 0);
  assert_int_equal(bp_config_set_report_batch_item_failures(cfg, 1), 0);
  set_dest(cfg, SQS_ARN);
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  script sc = {.poison = 5, .poison_shard = s};
  m->fn = fn_report_poison;
  m->fn_ctx = &sc;
  mock_put_n(m, s, 6, 2, T0 - 100);
  assert_int_equal(mock_run(m, T0 + 60000), 0);
  assert_int_equal(m->ninvokes, 6);
  assert_inv(m, 0, s, 0, 3);
  assert_inv(m, 1, s, 3, 3);
  for (size_t i = 2; i < 6; i++) assert_inv(m, i, s, 5, 1);
  assert_true(m->invokes[2].flags & BP_INVOKE_REMAINDER);
  for (size_t i = 0; i < 5; i++) assert_int_equal(mock_rec(m, s, i)->invoked, 1);
  assert_int_equal(mock_rec(m, s, 5)->invoked, 5);
  assert_int_equal(m->ndeliveries, 1);
  const mock_delivery *d = &m->deliveries[0];
  assert_int_equal(d->condition, BP_CONDITION_RETRY_ATTEMPTS_EXHAUSTED);
  assert_int_equal(d->approximate_invoke_count, 4);
  assert_int_equal(d->count, 1);
  assert_int_equal(d->first, 5);
  yajl_val j = json_parse(d->record_json);
  assert_true(YAJL_IS_NULL(json_at(j, "responseContext.functionError")));
  assert_json_int(j, "requestContext.approximateInvokeCount", 4);
  assert_json_str(j, "KinesisBatchInfo.startSequenceNumber", seq_of(m, s, 5));
  assert_json_str(j, "KinesisBatchInfo.endSequenceNumber", seq_of(m, s, 5));
  yajl_tree_free(j);
  assert_int_equal(mock_checkpoint(m, s), 5);
  /* §8.4: a partial failure counts its distinct reported records */
  assert_int_equal(mock_metrics(m, NULL).failed_invoke_event_count, 5);
  mock_host_free(m);
}

/* One discard of r0 (function error, MRA 0, SQS) with @p sc's request ids; the on-failure
 * record's requestId is copied to @p out. */
static void discard_request_id(uint64_t seed, script *sc, char *out, size_t cap) {
  mock_host *m = mk_mock();
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_maximum_retry_attempts(cfg, 1), 0);
  set_dest(cfg, SQS_ARN);
  bp_engine_opts o = kopts();
  o.seed = seed;
  o.mapping_uuid = NULL;
  int s = start(m, cfg, &o);
  m->fn = fn_fail_mask;
  m->fn_ctx = sc;
  mock_put_n(m, s, 1, 1, T0);
  assert_int_equal(mock_run(m, T0 + 5000), 0);
  assert_int_equal(m->ninvokes, 2);
  assert_int_equal(m->ndeliveries, 1);
  yajl_val j = json_parse(m->deliveries[0].record_json);
  snprintf(out, cap, "%s", json_str(json_at(j, "requestContext.requestId"), "requestId"));
  yajl_tree_free(j);
  mock_host_free(m);
}

/* §5.3 (batchpoint's decision): requestId is the host's request id of the batch's last invocation, else a
 * UUID from the seeded generator (same seed, same ids). */
static void test_request_id(void **state) {
  (void)state;
  char a[64], b[64], c[64];
  mock_host *m;
  /* both invocations report ids: the last one wins */
  {
    script sc = {.fail_mask = 0x3, .id_mask = 0x3};
    m = mk_mock();
    bp_config *cfg = kcfg();
    assert_int_equal(bp_config_set_maximum_retry_attempts(cfg, 1), 0);
    set_dest(cfg, SQS_ARN);
    bp_engine_opts o = kopts();
    int s = start(m, cfg, &o);
    m->fn = fn_fail_mask;
    m->fn_ctx = &sc;
    mock_put_n(m, s, 1, 1, T0);
    assert_int_equal(mock_run(m, T0 + 5000), 0);
    assert_int_equal(m->ndeliveries, 1);
    yajl_val j = json_parse(m->deliveries[0].record_json);
    assert_json_str(j, "requestContext.requestId", "rid-2");
    yajl_tree_free(j);
    mock_host_free(m);
  }
  /* the last invocation reported none: a generated UUID, even though the first had one */
  {
    script sc = {.fail_mask = 0x3, .id_mask = 0x1};
    m = mk_mock();
    bp_config *cfg = kcfg();
    assert_int_equal(bp_config_set_maximum_retry_attempts(cfg, 1), 0);
    set_dest(cfg, SQS_ARN);
    bp_engine_opts o = kopts();
    int s = start(m, cfg, &o);
    m->fn = fn_fail_mask;
    m->fn_ctx = &sc;
    mock_put_n(m, s, 1, 1, T0);
    assert_int_equal(mock_run(m, T0 + 5000), 0);
    yajl_val j = json_parse(m->deliveries[0].record_json);
    const char *id = json_str(json_at(j, "requestContext.requestId"), "requestId");
    assert_true(is_uuid_v4(id, strlen(id)));
    yajl_tree_free(j);
    mock_host_free(m);
  }
  /* the generator: same seed, same ids; another seed, other ids */
  script s1 = {.fail_mask = 0x3}, s2 = {.fail_mask = 0x3}, s3 = {.fail_mask = 0x3};
  discard_request_id(7, &s1, a, sizeof a);
  discard_request_id(7, &s2, b, sizeof b);
  discard_request_id(8, &s3, c, sizeof c);
  assert_true(is_uuid_v4(a, strlen(a)));
  assert_string_equal(a, b);
  assert_string_not_equal(a, c);
}

/* §5.5: an S3 destination gets the object key aws/lambda/<ESM UUID>/<shardId>/YYYY/MM/DD/
 * YYYY-MM-DDTHH.MM.SS-<uuid> and a record with `payload`, the invocation's event. */
static void test_s3_destination(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  m->keep_payloads = 1;
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_maximum_retry_attempts(cfg, 0), 0);
  set_dest(cfg, S3_ARN);
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  m->fn = mock_fn_fail;
  mock_put_n(m, s, 2, 1, T0 - 100);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(m->ninvokes, 1);
  assert_int_equal(m->ndeliveries, 1);
  const mock_delivery *d = &m->deliveries[0];
  assert_int_equal(d->destination_type, BP_DESTINATION_S3);
  assert_string_equal(d->destination, S3_ARN);
  assert_int_equal(d->count, 2);
  assert_non_null(d->s3_key);
  size_t n = strlen(d->s3_key);
  assert_true(n > 36);
  const char *uuid = d->s3_key + n - 36;
  assert_true(is_uuid_v4(uuid, 36));
  char want[512];
  assert_true(bp_failure_s3_key(MAPPING_UUID, SHARD0, d->timestamp_ms, uuid, want, sizeof want) >
              0);
  assert_string_equal(d->s3_key, want);
  assert_int_equal(strncmp(d->s3_key,
                           "aws/lambda/" MAPPING_UUID "/" SHARD0
                           "/2025/11/25/2025-11-25T16.35.32-",
                           strlen("aws/lambda/" MAPPING_UUID "/" SHARD0
                                  "/2025/11/25/2025-11-25T16.35.32-")),
                   0);
  yajl_val j = json_parse(d->record_json);
  assert_string_equal(json_str(json_at(j, "payload"), "payload"), m->invokes[0].payload);
  assert_json_str(j, "requestContext.condition", "RetryAttemptsExhausted");
  yajl_tree_free(j);
  mock_host_free(m);

  /* SNS: its own type, no key, no payload */
  m = mk_mock();
  cfg = kcfg();
  assert_int_equal(bp_config_set_maximum_retry_attempts(cfg, 0), 0);
  set_dest(cfg, SNS_ARN);
  s = start(m, cfg, &o);
  m->fn = mock_fn_fail;
  mock_put_n(m, s, 1, 1, T0 - 100);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(m->ndeliveries, 1);
  assert_int_equal(m->deliveries[0].destination_type, BP_DESTINATION_SNS);
  assert_null(m->deliveries[0].s3_key);
  mock_host_free(m);
}

/* §5.1, §8.4: without a destination the records are dropped (DroppedEventCount); a failed
 * delivery counts DestinationDeliveryFailures + DroppedEventCount; the checkpoint moves. */
static void run_discard(const char *dest, int status, uint64_t want_dropped,
                        uint64_t want_delivered, uint64_t want_failures) {
  mock_host *m = mk_mock();
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_maximum_retry_attempts(cfg, 0), 0);
  if (dest)
    set_dest(cfg, dest);
  else
    m->no_callback[MOCK_DELIVER] = 1;
  m->deliver_status = status;
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  m->fn = mock_fn_fail;
  mock_put_n(m, s, 3, 1, T0 - 100);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(m->ndeliveries, dest ? 1 : 0);
  assert_int_equal(m->calls[MOCK_DELIVER], dest ? 1 : 0);
  assert_int_equal(mock_checkpoint(m, s), 2);
  bp_engine_metrics mt = mock_metrics(m, NULL);
  assert_int_equal(mt.dropped_event_count, want_dropped);
  assert_int_equal(mt.on_failure_destination_delivered_event_count, want_delivered);
  assert_int_equal(mt.destination_delivery_failures, want_failures);
  assert_int_equal(mock_events(m, BP_EVENT_DISCARD), 1);
  for (size_t i = 0; i < m->nevents; i++) {
    const mock_event *x = &m->events[i];
    if (x->type != BP_EVENT_DISCARD) continue;
    assert_int_equal(x->detail, BP_CONDITION_RETRY_ATTEMPTS_EXHAUSTED);
    assert_int_equal(x->count, 3);
    assert_int_equal(x->value, 1);
    assert_string_equal(x->first_seq, seq_of(m, s, 0));
  }
  if (dest) {
    assert_int_equal(mock_events(m, BP_EVENT_DELIVERY), 1);
    for (size_t i = 0; i < m->nevents; i++)
      if (m->events[i].type == BP_EVENT_DELIVERY) assert_int_equal(m->events[i].value, status);
  }
  mock_host_free(m);
}

static void test_discard_outcomes(void **state) {
  (void)state;
  run_discard(NULL, 0, 3, 0, 0);
  run_discard(SQS_ARN, 0, 0, 3, 0);
  run_discard(SQS_ARN, BP_ERR_IO, 3, 0, 1);
}

/* §5.1 (batchpoint's decision): the checkpoint moves past discarded records only when their delivery has
 * completed; the lane's next invocation waits for it too. */
static void test_async_delivery_holds_checkpoint(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  m->async[MOCK_DELIVER] = 1;
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_batch_size(cfg, 1), 0);
  assert_int_equal(bp_config_set_maximum_retry_attempts(cfg, 0), 0);
  set_dest(cfg, SQS_ARN);
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  script sc = {.poison = 0, .poison_shard = s};
  m->fn = fn_poison;
  m->fn_ctx = &sc;
  mock_put_n(m, s, 2, 1, T0 - 100);
  assert_int_equal(mock_run(m, T0 + 30000), 0);
  assert_int_equal(m->ninvokes, 1);
  assert_int_equal(mock_pending(m, MOCK_DELIVER), 1);
  assert_int_equal(mock_checkpoint(m, s), -1);
  assert_int_equal(mock_complete_delivery(m, 0, T0 + 30000, 0), 0);
  assert_int_equal(m->ninvokes, 2);
  assert_inv(m, 1, s, 1, 1);
  assert_int_equal(mock_checkpoint(m, s), 1);
  mock_host_free(m);
}

/* §8.3-§8.4: totals (bp_engine_get_metrics) and the BP_EVENT_METRIC figures. */
static void test_metrics(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_batch_size(cfg, 5), 0);
  assert_int_equal(bp_config_set_maximum_retry_attempts(cfg, 1), 0);
  assert_int_equal(bp_config_set_metrics_event_count(cfg, 1), 0);
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  script sc = {.poison = 7, .poison_shard = s};
  m->fn = fn_poison;
  m->fn_ctx = &sc;
  mock_put_n(m, s, 10, 2, T0 - 500);
  assert_int_equal(mock_run(m, T0 + 5000), 0);
  /* [r0..r4] ok at T0; [r5..r9] fails at T0 and T0 + 1 s, then dropped */
  assert_int_equal(m->ninvokes, 3);
  bp_engine_metrics mt = mock_metrics(m, NULL);
  assert_int_equal(mt.polled_event_count, 10);
  assert_int_equal(mt.filtered_out_event_count, 0);
  assert_int_equal(mt.invoked_event_count, 15);
  assert_int_equal(mt.failed_invoke_event_count, 10);
  assert_int_equal(mt.dropped_event_count, 5);
  assert_int_equal(mt.on_failure_destination_delivered_event_count, 0);
  assert_int_equal(mt.destination_delivery_failures, 0);
  assert_int_equal(mt.invocations, 3);
  assert_int_equal(mt.throttled_attempts, 0);
  assert_true(mt.fetches >= 2);
  assert_int_equal(mt.iterator_age_ms, 1500); /* T0 + 1 s - (T0 - 0.5 s) */
  assert_int_equal(mt.buffered_records, 0);
  bp_engine_metrics sh = mock_metrics(m, SHARD0);
  assert_int_equal(sh.polled_event_count, 10);
  assert_int_equal(sh.invoked_event_count, 15);
  assert_int_equal(sh.dropped_event_count, 5);
  /* the events carry the same figures */
  assert_int_equal(m->metric_sums[BP_METRIC_POLLED_EVENT_COUNT], 10);
  assert_int_equal(m->metric_sums[BP_METRIC_INVOKED_EVENT_COUNT], 15);
  assert_int_equal(m->metric_sums[BP_METRIC_FAILED_INVOKE_EVENT_COUNT], 10);
  assert_int_equal(m->metric_sums[BP_METRIC_DROPPED_EVENT_COUNT], 5);
  assert_int_equal(m->metric_sums[BP_METRIC_ON_FAILURE_DESTINATION_DELIVERED_EVENT_COUNT], 0);
  assert_int_equal(m->metric_events[BP_METRIC_ITERATOR_AGE], 3);
  assert_int_equal(m->metric_last[BP_METRIC_ITERATOR_AGE], 1500);
  mock_host_free(m);
}

/* §2.4 (batchpoint's decision) Enabled=false: nothing new starts; what is in flight completes and is applied;
 * re-enabling resumes where it stopped (retry state included). */
static void test_enabled(void **state) {
  (void)state;
  /* created disabled: no fetch until enabled */
  mock_host *m = mk_mock();
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_enabled(cfg, 0), 0);
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  mock_put_n(m, s, 3, 1, T0 - 100);
  assert_int_equal(mock_run(m, T0 + 10000), 0);
  assert_int_equal(m->calls[MOCK_FETCH], 0);
  assert_int_equal(bp_engine_next_deadline(m->e), BP_NO_DEADLINE);
  assert_int_equal(bp_engine_set_enabled(m->e, T0 + 10000, 1), 0);
  assert_int_equal(mock_run(m, T0 + 10000), 0);
  assert_int_equal(m->ninvokes, 1);
  assert_int_equal(mock_checkpoint(m, s), 2);
  mock_host_free(m);

  /* disabled with an invocation in flight: it is applied, nothing else starts */
  m = mk_mock();
  m->async[MOCK_INVOKE] = 1;
  cfg = kcfg();
  assert_int_equal(bp_config_set_batch_size(cfg, 10), 0);
  s = start(m, cfg, &o);
  mock_put_n(m, s, 20, 1, T0 - 100);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(m->ninvokes, 1);
  assert_int_equal(bp_engine_set_enabled(m->e, T0 + 10, 0), 0);
  int fetches = m->calls[MOCK_FETCH];
  assert_int_equal(mock_complete_invoke(m, 0, T0 + 20), 0);
  assert_int_equal(mock_checkpoint(m, s), 9);
  assert_int_equal(mock_run(m, T0 + 60000), 0);
  assert_int_equal(m->ninvokes, 1);
  assert_int_equal(m->calls[MOCK_FETCH], fetches);
  assert_int_equal(bp_engine_set_enabled(m->e, T0 + 60000, 1), 0);
  assert_int_equal(m->ninvokes, 2);
  assert_inv(m, 1, s, 10, 10);
  assert_int_equal(mock_complete_invoke(m, 1, T0 + 60010), 0);
  assert_int_equal(mock_checkpoint(m, s), 19);
  mock_host_free(m);

  /* disabled during a retry backoff: no retry while disabled, then the same retry */
  m = mk_mock();
  s = start(m, kcfg(), &o);
  script sc = {.fail_mask = 0x3};
  m->fn = fn_fail_mask;
  m->fn_ctx = &sc;
  mock_put_n(m, s, 2, 1, T0 - 100);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(m->ninvokes, 1);
  assert_int_equal(bp_engine_set_enabled(m->e, T0 + 10, 0), 0);
  assert_int_equal(mock_run(m, T0 + 50000), 0);
  assert_int_equal(m->ninvokes, 1);
  assert_int_equal(bp_engine_set_enabled(m->e, T0 + 50000, 1), 0);
  assert_int_equal(mock_run(m, T0 + 50000), 0);
  assert_int_equal(m->ninvokes, 2);
  assert_int_equal(m->invokes[1].at_ms, T0 + 50000);
  assert_int_equal(m->invokes[1].attempt, 2);
  assert_true(m->invokes[1].flags & BP_INVOKE_RETRY);
  assert_inv(m, 1, s, 0, 2);
  assert_int_equal(mock_run(m, T0 + 60000), 0);
  assert_int_equal(m->ninvokes, 3);
  assert_int_equal(m->invokes[2].at_ms, T0 + 52000);
  assert_int_equal(mock_checkpoint(m, s), 1);
  mock_host_free(m);
}

/* bp_engine_shutdown(): drains what is in flight, starts nothing new (no retry), stores the
 * last checkpoint, then drained() == 1 and one BP_EVENT_DRAINED. */
static void test_shutdown(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  m->async[MOCK_INVOKE] = 1;
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_batch_size(cfg, 10), 0);
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  mock_put_n(m, s, 20, 1, T0 - 100);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(m->ninvokes, 1);
  int fetches = m->calls[MOCK_FETCH];
  assert_int_equal(bp_engine_shutdown(m->e, T0 + 100), 0);
  assert_int_equal(bp_engine_drained(m->e), 0);
  assert_int_equal(mock_events(m, BP_EVENT_DRAINED), 0);
  assert_int_equal(mock_run(m, T0 + 5000), 0);
  assert_int_equal(m->calls[MOCK_FETCH], fetches);
  assert_int_equal(m->ninvokes, 1);
  assert_int_equal(mock_complete_invoke(m, 0, T0 + 6000), 0);
  assert_int_equal(mock_run(m, T0 + 6000), 0);
  assert_int_equal(mock_checkpoint(m, s), 9);
  assert_int_equal(mock_saved_checkpoint(m, s), 9);
  assert_int_equal(bp_engine_drained(m->e), 1);
  assert_int_equal(mock_events(m, BP_EVENT_DRAINED), 1);
  assert_int_equal(m->ninvokes, 1);
  assert_int_equal(mock_run(m, T0 + 60000), 0);
  assert_int_equal(m->ninvokes, 1);
  assert_int_equal(m->calls[MOCK_FETCH], fetches);
  assert_int_equal(mock_events(m, BP_EVENT_DRAINED), 1);
  assert_int_equal(bp_engine_add_shard(m->e, "shardId-9", NULL, NULL, NULL, 0),
                   BP_ERR_INVALID_STATE);
  mock_host_free(m);

  /* a failed invocation in flight is not retried; the drain waits for the async save */
  m = mk_mock();
  m->async[MOCK_INVOKE] = m->async[MOCK_STORE] = 1;
  cfg = kcfg();
  assert_int_equal(bp_config_set_batch_size(cfg, 1), 0);
  s = start(m, cfg, &o);
  mock_put_n(m, s, 2, 1, T0 - 100);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(mock_complete_invoke(m, 0, T0 + 10), 0); /* success: r0 */
  assert_int_equal(m->ninvokes, 2);
  assert_int_equal(bp_engine_shutdown(m->e, T0 + 20), 0);
  m->fn = mock_fn_fail;
  assert_int_equal(mock_complete_invoke(m, 1, T0 + 30), 0);
  assert_int_equal(mock_run(m, T0 + 60000), 0);
  assert_int_equal(m->ninvokes, 2);
  assert_int_equal(mock_checkpoint(m, s), 0);
  assert_int_equal(bp_engine_drained(m->e), 0);
  while (mock_pending(m, MOCK_STORE) > 0)
    assert_int_equal(mock_complete_save(m, mock_first_pending(m, MOCK_STORE), T0 + 60010, 0),
                     0);
  assert_int_equal(mock_saved_checkpoint(m, s), 0);
  assert_int_equal(bp_engine_drained(m->e), 1);
  assert_int_equal(mock_events(m, BP_EVENT_DRAINED), 1);
  mock_host_free(m);

  /* a discard decided before the shutdown: its delivery completes, then the checkpoint
   * moves past it and is stored (§5.1), then the drain ends */
  m = mk_mock();
  m->async[MOCK_DELIVER] = 1;
  cfg = kcfg();
  assert_int_equal(bp_config_set_maximum_retry_attempts(cfg, 0), 0);
  set_dest(cfg, SQS_ARN);
  s = start(m, cfg, &o);
  m->fn = mock_fn_fail;
  mock_put_n(m, s, 2, 1, T0 - 100);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(mock_pending(m, MOCK_DELIVER), 1);
  assert_int_equal(bp_engine_shutdown(m->e, T0 + 10), 0);
  assert_int_equal(mock_run(m, T0 + 5000), 0);
  assert_int_equal(bp_engine_drained(m->e), 0);
  assert_int_equal(mock_checkpoint(m, s), -1);
  assert_int_equal(mock_complete_delivery(m, 0, T0 + 5000, 0), 0);
  assert_int_equal(mock_run(m, T0 + 5000), 0);
  assert_int_equal(mock_checkpoint(m, s), 1);
  assert_int_equal(mock_saved_checkpoint(m, s), 1);
  assert_int_equal(bp_engine_drained(m->e), 1);
  assert_int_equal(m->ninvokes, 1);
  mock_host_free(m);
}

static size_t fetches_of(const mock_host *m, int shard) {
  size_t n = 0;
  for (size_t i = 0; i < m->nfetches; i++) n += m->fetches[i].shard == shard;
  return n;
}

static const mock_fetch *first_fetch_of(const mock_host *m, int shard) {
  for (size_t i = 0; i < m->nfetches; i++)
    if (m->fetches[i].shard == shard) return &m->fetches[i];
  fail_msg("no fetch of shard %d", shard);
  return NULL;
}

/* §8.2: a child waits (BP_SHARD_WAITING) until its parent returned SHARD_END, all of the
 * parent's records are resolved and its last checkpoint is stored; then it starts at
 * TRIM_HORIZON, whatever StartingPosition says. */
static void test_resharding_split(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  m->async[MOCK_STORE] = 1;
  bp_engine_opts o = kopts();
  bp_config *cfg = cfg_new(STREAM_ARN, BP_POSITION_LATEST);
  create_engine(m, cfg, &o);
  int p = mock_shard_add(m, "shardId-P");
  int c1 = mock_shard_add(m, "shardId-C1");
  int c2 = mock_shard_add(m, "shardId-C2");
  mock_put_n(m, p, 3, 1, T0 - 100);
  m->shards[p].closed = 1;
  mock_put_n(m, c1, 2, 1, T0 - 100);
  mock_put_n(m, c2, 2, 1, T0 - 100);
  script sc = {.fail_mask = 0x3}; /* P's batch fails twice */
  m->fn = fn_fail_mask;
  m->fn_ctx = &sc;
  const mock_record *p0 = mock_rec(m, p, 0);
  assert_int_equal(bp_engine_add_shard(m->e, "shardId-P", NULL, NULL, p0->seq, p0->seq_len), 0);
  assert_int_equal(bp_engine_add_shard(m->e, "shardId-C1", "shardId-P", NULL, NULL, 0), 0);
  assert_int_equal(bp_engine_add_shard(m->e, "shardId-C2", "shardId-P", NULL, NULL, 0), 0);
  assert_int_equal(bp_engine_get_shard_state(m->e, "shardId-C1"), BP_SHARD_WAITING);
  assert_int_equal(bp_engine_get_shard_state(m->e, "shardId-C2"), BP_SHARD_WAITING);

  /* P read to its end; its batch [r1, r2] is still failing */
  assert_int_equal(mock_run(m, T0 + 2500), 0);
  assert_int_equal(m->ninvokes, 2);
  assert_int_equal(bp_engine_get_shard_state(m->e, "shardId-P"), BP_SHARD_ENDING);
  assert_int_equal(bp_engine_get_shard_state(m->e, "shardId-C1"), BP_SHARD_WAITING);
  assert_int_equal(fetches_of(m, c1) + fetches_of(m, c2), 0);
  /* resolved at T0 + 3 s; the final checkpoint is being stored */
  assert_int_equal(mock_run(m, T0 + 3000), 0);
  assert_int_equal(m->ninvokes, 3);
  assert_int_equal(mock_checkpoint(m, p), 2);
  assert_true(mock_pending(m, MOCK_STORE) >= 1);
  const mock_save *last = &m->saves[m->nsaves - 1];
  assert_int_equal(last->shard, p);
  assert_string_equal(last->seq, mock_rec(m, p, 2)->seq);
  assert_int_equal(last->final, 1);
  assert_int_equal(mock_run(m, T0 + 10000), 0);
  assert_int_equal(bp_engine_get_shard_state(m->e, "shardId-P"), BP_SHARD_ENDING);
  assert_int_equal(bp_engine_get_shard_state(m->e, "shardId-C1"), BP_SHARD_WAITING);
  assert_int_equal(fetches_of(m, c1) + fetches_of(m, c2), 0);
  assert_int_equal(mock_events(m, BP_EVENT_SHARD_ENDED), 0);
  /* the save completes: P has ended, both children start at TRIM_HORIZON */
  while (mock_pending(m, MOCK_STORE) > 0)
    assert_int_equal(mock_complete_save(m, mock_first_pending(m, MOCK_STORE), T0 + 10000, 0), 0);
  assert_int_equal(bp_engine_get_shard_state(m->e, "shardId-P"), BP_SHARD_ENDED);
  assert_int_equal(mock_events(m, BP_EVENT_SHARD_ENDED), 1);
  assert_int_equal(mock_settle(m, T0 + 20000), 0);
  assert_int_equal(bp_engine_get_shard_state(m->e, "shardId-C1"), BP_SHARD_ACTIVE);
  assert_int_equal(bp_engine_get_shard_state(m->e, "shardId-C2"), BP_SHARD_ACTIVE);
  assert_int_equal(first_fetch_of(m, c1)->from, BP_POSITION_TRIM_HORIZON);
  assert_int_equal(first_fetch_of(m, c2)->from, BP_POSITION_TRIM_HORIZON);
  assert_true(first_fetch_of(m, c1)->order > last->order);
  for (int c = c1; c <= c2; c++)
    for (size_t i = 0; i < 2; i++) assert_int_equal(mock_rec(m, c, i)->invoked, 1);
  assert_int_equal(mock_rec(m, p, 0)->invoked, 0);
  mock_host_free(m);
}

/* §8.2: a merge waits for both parents; a parent the engine never had counts as ended. */
static void test_resharding_merge(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  bp_engine_opts o = kopts();
  bp_config *cfg = kcfg();
  create_engine(m, cfg, &o);
  int p1 = mock_shard_add(m, "shardId-P1");
  int p2 = mock_shard_add(m, "shardId-P2");
  int c = mock_shard_add(m, "shardId-C");
  mock_put_n(m, p1, 1, 1, T0 - 100);
  m->shards[p1].closed = 1;
  mock_put_n(m, p2, 1, 1, T0 - 100);
  mock_put_n(m, c, 1, 1, T0 - 100);
  assert_int_equal(bp_engine_add_shard(m->e, "shardId-P1", NULL, NULL, NULL, 0), 0);
  assert_int_equal(bp_engine_add_shard(m->e, "shardId-P2", NULL, NULL, NULL, 0), 0);
  assert_int_equal(bp_engine_add_shard(m->e, "shardId-C", "shardId-P1", "shardId-P2", NULL, 0),
                   0);
  assert_int_equal(mock_run(m, T0 + 500), 0);
  assert_int_equal(bp_engine_get_shard_state(m->e, "shardId-P1"), BP_SHARD_ENDED);
  assert_int_equal(bp_engine_get_shard_state(m->e, "shardId-P2"), BP_SHARD_ACTIVE);
  assert_int_equal(bp_engine_get_shard_state(m->e, "shardId-C"), BP_SHARD_WAITING);
  assert_int_equal(fetches_of(m, c), 0);
  m->shards[p2].closed = 1; /* the next poll of P2 says SHARD_END */
  assert_int_equal(mock_run(m, T0 + 5000), 0);
  assert_int_equal(bp_engine_get_shard_state(m->e, "shardId-P2"), BP_SHARD_ENDED);
  assert_int_equal(bp_engine_get_shard_state(m->e, "shardId-C"), BP_SHARD_ACTIVE);
  assert_int_equal(first_fetch_of(m, c)->from, BP_POSITION_TRIM_HORIZON);
  assert_int_equal(mock_rec(m, c, 0)->invoked, 1);
  assert_int_equal(mock_saved_checkpoint(m, p1), 0);
  assert_int_equal(mock_saved_checkpoint(m, p2), 0);
  mock_host_free(m);

  /* an unknown parent counts as ended: the child starts at once, at StartingPosition */
  m = mk_mock();
  cfg = cfg_new(STREAM_ARN, BP_POSITION_LATEST);
  create_engine(m, cfg, &o);
  c = mock_shard_add(m, "shardId-C");
  assert_int_equal(bp_engine_add_shard(m->e, "shardId-C", "shardId-gone", NULL, NULL, 0), 0);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(bp_engine_get_shard_state(m->e, "shardId-C"), BP_SHARD_ACTIVE);
  assert_int_equal(first_fetch_of(m, c)->from, BP_POSITION_LATEST);
  mock_host_free(m);
}

/* The transport's store_checkpoint: one save in flight per shard; the latest checkpoint is
 * saved after it (coalescing); a failed save is retried after fetch_error_retry_ms. */
static void test_checkpoint_store_transport(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  m->async[MOCK_INVOKE] = m->async[MOCK_STORE] = 1;
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_batch_size(cfg, 1), 0);
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  mock_put_n(m, s, 4, 1, T0 - 100);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(mock_complete_invoke(m, 0, T0 + 10), 0);
  assert_int_equal(m->nsaves, 1);
  assert_string_equal(m->saves[0].seq, seq_of(m, s, 0));
  assert_int_equal(m->saves[0].final, 0);
  assert_int_equal(mock_complete_invoke(m, 1, T0 + 20), 0);
  assert_int_equal(mock_complete_invoke(m, 2, T0 + 30), 0);
  assert_int_equal(mock_checkpoint(m, s), 2);
  assert_int_equal(mock_run(m, T0 + 40), 0);
  assert_int_equal(m->nsaves, 1); /* still one in flight */
  assert_int_equal(mock_complete_save(m, 0, T0 + 50, 0), 0);
  assert_int_equal(m->nsaves, 2);
  assert_string_equal(m->saves[1].seq, seq_of(m, s, 2));
  assert_int_equal(mock_complete_save(m, 1, T0 + 60, 0), 0);
  assert_int_equal(mock_run(m, T0 + 70), 0);
  assert_int_equal(m->nsaves, 2);
  assert_int_equal(mock_metrics(m, NULL).checkpoints_stored, 2);
  assert_int_equal(mock_events(m, BP_EVENT_CHECKPOINT_STORED), 2);
  int found = 0;
  for (size_t i = 0; i < m->nevents; i++)
    if (m->events[i].type == BP_EVENT_CHECKPOINT &&
        !strcmp(m->events[i].first_seq, seq_of(m, s, 2)))
      found = 1;
  assert_true(found);
  mock_host_free(m);

  /* a failed save is retried, with the latest checkpoint, after fetch_error_retry_ms */
  m = mk_mock();
  m->async[MOCK_INVOKE] = 1;
  m->save_status = BP_ERR_IO;
  m->save_status_times = 1;
  o.fetch_error_retry_ms = 700;
  o.poll_interval_ms = 60000;
  s = start(m, kcfg(), &o);
  mock_put_n(m, s, 2, 1, T0 - 100);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(mock_complete_invoke(m, 0, T0 + 10), 0);
  assert_int_equal(m->nsaves, 1);
  assert_int_equal(m->saves[0].status, BP_ERR_IO);
  assert_int_equal(mock_tick(m, T0 + 709), 0);
  assert_int_equal(m->nsaves, 1);
  assert_int_equal(mock_tick(m, T0 + 710), 0);
  assert_int_equal(m->nsaves, 2);
  assert_string_equal(m->saves[1].seq, seq_of(m, s, 1));
  assert_int_equal(mock_saved_checkpoint(m, s), 1);
  mock_host_free(m);
}

/* ---- the file store through bp_engine_opts.store ---- */

static void rm_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *de;
    char path[512];
    while ((de = readdir(d)) != NULL) {
      if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, ".."))) continue;
      snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
      unlink(path);
    }
    closedir(d);
  }
  rmdir(dir);
}

/* Overwrite every checkpoint file in @p dir; returns how many. */
static int corrupt_files(const char *dir) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  struct dirent *de;
  int n = 0;
  char path[512];
  while ((de = readdir(d)) != NULL) {
    size_t len = strlen(de->d_name);
    if (len < 5 || strcmp(de->d_name + len - 5, ".ckpt")) continue;
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("garbage\n", f);
    fclose(f);
    n++;
  }
  closedir(d);
  return n;
}

static mock_host *file_store_engine(bp_file_store *fs, size_t records) {
  mock_host *m = mk_mock();
  m->no_callback[MOCK_STORE] = 1;
  bp_engine_opts o = kopts();
  o.store = bp_file_store_ops();
  o.store_user_data = fs;
  bp_config *cfg = kcfg();
  create_engine(m, cfg, &o);
  int s = mock_shard_add(m, SHARD0);
  mock_put_n(m, s, records, 1, T0 - 100);
  return m;
}

/* §2.4 (batchpoint's decision), bp_store.h: checkpoints saved through the file store; a new engine on the same
 * directory resumes after them; a corrupt checkpoint makes add_shard fail with
 * BP_ERR_CORRUPT instead of starting from TRIM_HORIZON. */
static void test_file_store_restart(void **state) {
  (void)state;
  char dir[] = "/tmp/bp-test-engine-XXXXXX";
  assert_non_null(mkdtemp(dir));
  bp_file_store *fs = NULL;
  assert_int_equal(bp_file_store_new(&fs, dir, NULL, NULL, 0), 0);

  mock_host *m = file_store_engine(fs, 5);
  assert_int_equal(bp_engine_add_shard(m->e, SHARD0, NULL, NULL, NULL, 0), 0);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(mock_checkpoint(m, 0), 4);
  char buf[BP_STORE_SEQ_CAP];
  size_t len = 0;
  assert_int_equal(bp_store_load(bp_file_store_ops(), fs, MAPPING_UUID, SHARD0, buf, sizeof buf,
                                 &len, NULL, 0),
                   0);
  assert_string_equal(buf, seq_of(m, 0, 4));
  assert_true(mock_metrics(m, NULL).checkpoints_stored >= 1);
  mock_host_free(m);

  /* restart: resume after the stored checkpoint */
  m = file_store_engine(fs, 8);
  assert_int_equal(bp_engine_add_shard(m->e, SHARD0, NULL, NULL, NULL, 0), 0);
  assert_int_equal(mock_run(m, T0 + 1000), 0);
  assert_int_equal(m->fetches[0].from, BP_POSITION_AFTER_SEQUENCE_NUMBER);
  assert_string_equal(m->fetches[0].after_seq, seq_of(m, 0, 4));
  assert_int_equal(m->ninvokes, 1);
  assert_inv(m, 0, 0, 5, 3);
  mock_host_free(m);

  /* a corrupt file: the shard is not added and nothing is read */
  assert_true(corrupt_files(dir) >= 1);
  m = file_store_engine(fs, 8);
  assert_int_equal(bp_engine_add_shard(m->e, SHARD0, NULL, NULL, NULL, 0), BP_ERR_CORRUPT);
  assert_int_equal(bp_engine_get_shard_state(m->e, SHARD0), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(mock_run(m, T0 + 2000), 0);
  assert_int_equal(m->calls[MOCK_FETCH], 0);
  mock_host_free(m);

  bp_file_store_del(fs);
  rm_dir(dir);
}

/* A host store (bp_store.h) in memory with scripted failures. */
typedef struct tiny_store {
  char seq[BP_STORE_SEQ_CAP];
  size_t len;
  int load_rc;    /* returned by load when non-zero */
  int save_fails; /* this many saves return BP_ERR_IO */
  int saves;
  int64_t *now;   /* the mock's clock, to time the saves */
  int64_t saved_at[16];
} tiny_store;

static int tiny_load(const char *mapping, const char *shard, char *out, size_t cap,
                     size_t *len, void *ud) {
  (void)mapping, (void)shard;
  tiny_store *t = ud;
  *len = 0;
  if (t->load_rc) return t->load_rc;
  if (!t->len) return BP_STORE_NOT_FOUND;
  if (t->len > cap) return BP_ERR_BUFFER_TOO_SMALL;
  memcpy(out, t->seq, t->len);
  *len = t->len;
  return 0;
}

static int tiny_save(const char *mapping, const char *shard, const char *seq, size_t len,
                     void *ud) {
  (void)mapping, (void)shard;
  tiny_store *t = ud;
  if (t->saves < 16) t->saved_at[t->saves] = *t->now;
  t->saves++;
  if (t->save_fails > 0) {
    t->save_fails--;
    return BP_ERR_IO;
  }
  memcpy(t->seq, seq, len);
  t->len = len;
  return 0;
}

/* bp_engine_opts.store with a host store: a failed save is retried after
 * fetch_error_retry_ms; a load error other than "not found" refuses the shard (bp_store.h:
 * never read as "no checkpoint"). */
static void test_host_store_errors(void **state) {
  (void)state;
  static const bp_store_ops ops = {BP_STORE_OPS_VERSION, tiny_load, tiny_save, NULL, NULL};
  mock_host *m = mk_mock();
  tiny_store ts;
  memset(&ts, 0, sizeof ts);
  ts.now = &m->now;
  ts.save_fails = 1;
  m->no_callback[MOCK_STORE] = 1;
  bp_engine_opts o = kopts();
  o.store = &ops;
  o.store_user_data = &ts;
  o.fetch_error_retry_ms = 700;
  o.poll_interval_ms = 60000;
  int s = start(m, kcfg(), &o);
  mock_put_n(m, s, 2, 1, T0 - 100);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(ts.saves, 1);
  assert_int_equal(ts.len, 0);
  assert_int_equal(mock_run(m, T0 + 699), 0);
  assert_int_equal(ts.saves, 1);
  assert_int_equal(mock_run(m, T0 + 700), 0);
  assert_int_equal(ts.saves, 2);
  assert_int_equal(ts.saved_at[1], T0 + 700);
  assert_string_equal(ts.seq, seq_of(m, s, 1));
  mock_host_free(m);

  m = mk_mock();
  ts.load_rc = BP_ERR_IO;
  ts.now = &m->now;
  m->no_callback[MOCK_STORE] = 1;
  bp_config *cfg = kcfg();
  create_engine(m, cfg, &o);
  s = mock_shard_add(m, SHARD0);
  mock_put_n(m, s, 3, 1, T0 - 100);
  assert_int_equal(bp_engine_add_shard(m->e, SHARD0, NULL, NULL, NULL, 0), BP_ERR_IO);
  assert_int_equal(bp_engine_get_shard_state(m->e, SHARD0), BP_ERR_INVALID_ARGUMENT);
  ts.load_rc = 0; /* the store is back: the host adds the shard again */
  assert_int_equal(bp_engine_add_shard(m->e, SHARD0, NULL, NULL, NULL, 0), 0);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(m->fetches[0].from, BP_POSITION_AFTER_SEQUENCE_NUMBER);
  assert_string_equal(m->fetches[0].after_seq, seq_of(m, s, 1));
  assert_int_equal(m->ninvokes, 1);
  assert_inv(m, 0, s, 2, 1);
  mock_host_free(m);
}

/* bp_engine.h Memory: max_buffered_records bounds each fetch (max_records <= free space), a
 * full shard is not fetched, fetching resumes as the checkpoint advances. */
static void test_backpressure(void **state) {
  (void)state;
  enum { CAP = 10, N = 40 };
  mock_host *m = mk_mock();
  m->async[MOCK_INVOKE] = 1;
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_batch_size(cfg, 5), 0);
  bp_engine_opts o = kopts();
  o.max_buffered_records = CAP;
  int s = start(m, cfg, &o);
  mock_put_n(m, s, N, 1, T0 - 100);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(m->ninvokes, 1);
  assert_int_equal(mock_metrics(m, NULL).buffered_records, CAP);
  int fetches = m->calls[MOCK_FETCH];
  assert_int_equal(mock_run(m, T0 + 30000), 0);
  assert_int_equal(m->calls[MOCK_FETCH], fetches); /* full: no fetch */
  int64_t now = T0 + 30000;
  while (mock_pending(m, MOCK_INVOKE) > 0) {
    now += 100;
    assert_int_equal(mock_complete_invoke(m, mock_first_pending(m, MOCK_INVOKE), now), 0);
    assert_int_equal(mock_run(m, now), 0);
    assert_true(mock_metrics(m, NULL).buffered_records <= CAP);
  }
  assert_true(m->calls[MOCK_FETCH] > fetches);
  for (size_t i = 0; i < m->nfetches; i++) {
    const mock_fetch *f = &m->fetches[i];
    if (f->buffered_at_request >= CAP || f->max_records > CAP - f->buffered_at_request)
      fail_msg("fetch %zu: max_records %u with %llu of %d buffered", i, f->max_records,
               (unsigned long long)f->buffered_at_request, CAP);
  }
  for (size_t i = 0; i < N; i++) assert_int_equal(mock_rec(m, s, i)->invoked, 1);
  assert_int_equal(mock_checkpoint(m, s), N - 1);
  mock_host_free(m);
}

/* DynamoDB Streams source (§1.2, §8.1): records with eventID, eventName, the dynamodb JSON
 * and the hash key; polled every 250 ms when idle. */
static void test_dynamodb(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  m->keep_payloads = 1;
  bp_config *cfg = cfg_new(DDB_ARN, BP_POSITION_TRIM_HORIZON);
  assert_int_equal(bp_config_set_parallelization_factor(cfg, 2), 0);
  bp_engine_opts o = BP_ENGINE_OPTS_INIT;
  assert_int_equal(bp_engine_opts_init(&o, sizeof o), 0);
  int s = start(m, cfg, &o);
  const char *keys[] = {"alpha", "beta", "gamma", "delta"};
  for (size_t i = 0; i < 4; i++) mock_put_ddb(m, s, keys[i], i ? "MODIFY" : "INSERT", T0 - 100);
  assert_int_equal(mock_run(m, T0), 0);
  size_t seen = 0;
  for (size_t i = 0; i < m->ninvokes; i++) {
    const mock_invoke *inv = &m->invokes[i];
    yajl_val j = json_parse(inv->payload);
    yajl_val recs = json_at(j, "Records");
    assert_true(YAJL_IS_ARRAY(recs));
    assert_int_equal(recs->u.array.len, inv->count);
    for (size_t k = 0; k < inv->count; k++) {
      size_t idx = mock_inv_records(m, inv)[k];
      const mock_record *r = mock_rec(m, s, idx);
      assert_int_equal(mock_fnv1a32(r->pk, r->pk_len) % 2, inv->lane);
      yajl_val x = recs->u.array.values[k];
      assert_json_str(x, "eventID", r->event_id);
      assert_json_str(x, "eventName", r->event_name);
      assert_json_str(x, "eventSource", "aws:dynamodb");
      assert_json_str(x, "eventSourceARN", DDB_ARN);
      assert_json_str(x, "dynamodb.SequenceNumber", r->seq);
      assert_json_str(x, "dynamodb.Keys.pk.S", r->pk);
      seen++;
    }
    yajl_tree_free(j);
  }
  assert_int_equal(seen, 4);
  assert_int_equal(mock_checkpoint(m, s), 3);
  /* idle polling every 250 ms */
  size_t before = m->nfetches;
  assert_int_equal(mock_run(m, T0 + 250), 0);
  assert_int_equal(m->nfetches, before + 1);
  assert_int_equal(m->fetches[before].at_ms, T0 + 250);
  mock_host_free(m);
}

/* =====================================================================================
 * 3. Memory
 * ===================================================================================== */

/* Failmalloc over creation and add_shard (SEMANTICS.md §H.9): NOMEM, never a leak. */
static int scenario_create(const bp_allocator *hooks, void *ctx) {
  mock_host *m = ctx;
  bp_transport t;
  mock_transport(m, &t);
  bp_config *cfg = kcfg();
  set_dest(cfg, S3_ARN);
  assert_int_equal(bp_config_set_parallelization_factor(cfg, 3), 0);
  bp_engine_opts o = kopts();
  o.mapping_uuid = NULL;
  bp_engine *e = NULL;
  int rc = bp_engine_new(&e, cfg, &o, &t, m, hooks, NULL, 0);
  bp_config_del(cfg);
  if (rc != 0) {
    assert_null(e);
    return rc;
  }
  rc = bp_engine_add_shard(e, SHARD0, NULL, NULL, NULL, 0);
  if (rc == 0) rc = bp_engine_add_shard(e, "shardId-1", SHARD0, NULL, "12345", 5);
  if (rc == 0) rc = bp_engine_add_shard(e, "shardId-2", SHARD0, "shardId-1", NULL, 0);
  assert_int_equal(bp_engine_del(e), 0);
  return rc;
}

static void test_failmalloc_create(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  test_alloc_failmalloc(scenario_create, m);
  mock_host_free(m);
}

/* Failmalloc over a whole run with a synchronous host: whichever allocation fails, a driving
 * call or completion says BP_ERR_NOMEM, the host ticks again, and the run ends as without
 * failure (every record invoked, one discard, checkpoint at the end), leaking nothing. */
static int scenario_run(const bp_allocator *hooks, void *ctx) {
  (void)ctx;
  mock_host *m = mk_mock();
  m->alloc = hooks;
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_batch_size(cfg, 4), 0);
  assert_int_equal(bp_config_set_bisect_batch_on_function_error(cfg, 1), 0);
  assert_int_equal(bp_config_set_maximum_retry_attempts(cfg, 0), 0);
  set_dest(cfg, S3_ARN);
  bp_engine_opts o = kopts();
  int s = -1;
  int rc = try_start(m, cfg, &o, &s);
  if (rc != 0) {
    mock_host_free(m);
    return rc;
  }
  script sc = {.poison = 2, .poison_shard = s};
  m->fn = fn_poison;
  m->fn_ctx = &sc;
  mock_put_n(m, s, 8, 2, T0 - 100);
  int nomem = 0;
  for (int round = 0; round < 100; round++) {
    rc = mock_settle(m, T0 + 20000);
    if (rc == BP_ERR_NOMEM) {
      nomem++;
      m->now += 1;
      continue;
    }
    if (rc != 0) break;
    if (mock_checkpoint(m, s) == 7) break;
    /* a completion refused inside a callback stays pending: settle completes it */
    if (mock_pending(m, MOCK_INVOKE) + mock_pending(m, MOCK_FETCH) +
            mock_pending(m, MOCK_DELIVER) + mock_pending(m, MOCK_STORE) ==
        0)
      m->now += 1000;
  }
  if (rc == 0) {
    for (size_t i = 0; i < 8; i++)
      if (mock_rec(m, s, i)->invoked == 0) rc = BP_ERR_INTERNAL;
    if (mock_checkpoint(m, s) != 7 || m->ndeliveries < 1) rc = BP_ERR_INTERNAL;
    if (rc) print_error("scenario_run: the run did not finish (nomem %d)\n", nomem);
  }
  mock_host_free(m);
  return rc;
}

static void test_failmalloc_run(void **state) {
  (void)state;
  /* BP_FAILMALLOC_AT=<n> replays one failing call (with MOCK_TRACE=1 to see the run) */
  const char *at = getenv("BP_FAILMALLOC_AT");
  if (at) {
    test_alloc t;
    bp_allocator hooks;
    test_alloc_init(&t, &hooks);
    t.fail_at = (size_t)atol(at);
    int rc = scenario_run(&hooks, NULL);
    print_message("failing call %s: %s, %zu blocks left\n", at, bp_err_name(rc), t.live_blocks);
    assert_true(rc == 0 || rc == BP_ERR_NOMEM);
    assert_int_equal(t.live_blocks, 0);
    return;
  }
  test_alloc_failmalloc(scenario_run, NULL);
}

/* bp_engine.h Memory: no allocation per record in steady state. After a warm-up, ten more
 * batches of 100 records make zero allocator calls (synchronous host, store and events on). */
static void test_steady_state_no_allocation(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_metrics_event_count(cfg, 1), 0);
  bp_engine_opts o = kopts();
  int s = start(m, cfg, &o);
  mock_put_n(m, s, 300, 7, T0 - 100);
  assert_int_equal(mock_run(m, T0), 0);
  assert_int_equal(mock_run(m, T0 + 5000), 0);
  assert_int_equal(mock_checkpoint(m, s), 299);
  size_t calls = m->ta.calls;
  size_t invokes = m->ninvokes;
  mock_put_n(m, s, 1000, 7, T0 + 5000);
  assert_int_equal(mock_run(m, T0 + 10000), 0);
  assert_int_equal(mock_checkpoint(m, s), 1299);
  assert_true(m->ninvokes >= invokes + 10);
  if (m->ta.calls != calls)
    fail_msg("%zu allocator calls for 1000 records in steady state", m->ta.calls - calls);
  mock_host_free(m);
}

/* Every test frees its mocks; the teardown frees those of a test that failed half-way. */
#define TEST(f) cmocka_unit_test_teardown(f, release_mocks)

int main(void) {
  const struct CMUnitTest tests[] = {
      /* contract */
      TEST(test_opts_init),
      TEST(test_new_errors),
      TEST(test_shard_and_query_errors),
      TEST(test_unknown_request),
      TEST(test_sync_host_no_recursion),
      TEST(test_async_host_any_order),
      TEST(test_driving_calls_in_callbacks),
      TEST(test_events_not_nested),
      TEST(test_shard_state_without_parent),
      TEST(test_wouldblock),
      TEST(test_callback_failure),
      TEST(test_del_with_work_in_flight),
      TEST(test_next_deadline),
      TEST(test_invalid_fetch_records),
      TEST(test_fetch_max_records),
      TEST(test_max_fetch_records),
      TEST(test_invalid_invoke_result),
      /* semantics */
      TEST(test_position_trim_horizon),
      TEST(test_position_latest),
      TEST(test_position_at_timestamp),
      TEST(test_position_from_checkpoint),
      TEST(test_position_follows_iterator),
      TEST(test_batching_window),
      TEST(test_batch_size_cut),
      TEST(test_one_batch_in_flight),
      TEST(test_parallelization_lanes),
      TEST(test_checkpoint_waits_for_blocked_lane),
      TEST(test_throttle_no_quota),
      TEST(test_throttle_until_record_age),
      TEST(test_function_error_retries),
      TEST(test_function_arn_forms),
      TEST(test_backoff_schedule),
      TEST(test_record_age_before_first_invoke),
      TEST(test_record_age_before_retries),
      TEST(test_bisect),
      TEST(test_partial_failure_remainder),
      TEST(test_request_id),
      TEST(test_s3_destination),
      TEST(test_discard_outcomes),
      TEST(test_async_delivery_holds_checkpoint),
      TEST(test_metrics),
      TEST(test_enabled),
      TEST(test_shutdown),
      TEST(test_resharding_split),
      TEST(test_resharding_merge),
      TEST(test_checkpoint_store_transport),
      TEST(test_file_store_restart),
      TEST(test_host_store_errors),
      TEST(test_backpressure),
      TEST(test_dynamodb),
      /* memory */
      TEST(test_failmalloc_create),
      TEST(test_failmalloc_run),
      TEST(test_steady_state_no_allocation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
