/* SPDX-License-Identifier: MIT */
/*
 * A real bp_engine over one in-memory Kinesis shard whose invoke and deliver callbacks are
 * the add-on's invokers and destinations, driven by the add-on's loop at the wall clock;
 * plus the control calls of test/aws/servers/aws_shapes.js (its URL in BP_TEST_SHAPES_URL,
 * set by test/aws/run_tests.sh). For test_aws_invoke.c and test_aws_dest.c.
 */
#ifndef BATCHPOINT_TEST_AWS_INVOKE_HOST_H
#define BATCHPOINT_TEST_AWS_INVOKE_HOST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <yajl/yajl_tree.h>

#include "batchpoint.h"
#include "bp_aws_int.h"

#define IH_STREAM_ARN "arn:aws:kinesis:us-east-1:123456789012:stream/s"
#define IH_SHARD "shardId-000000000000"
#define IH_MAX_RECORDS 16
#define IH_SQS_ARN "arn:aws:sqs:us-east-1:123456789012:q"

/* A mapping of the stream to function f from TRIM_HORIZON, failures to @p dest; @p extra
 * (",\"Member\":value" or "") adds members. */
#define IH_CONFIG(batch, retries, dest, extra)                                               \
  "{\"EventSourceArn\":\"" IH_STREAM_ARN "\",\"FunctionName\":\"f\","                       \
  "\"StartingPosition\":\"TRIM_HORIZON\",\"BatchSize\":" batch ",\"MaximumRetryAttempts\":" retries \
  ",\"DestinationConfig\":{\"OnFailure\":{\"Destination\":\"" dest "\"}}" extra "}"

typedef struct ih_host {
  bp__aws_loop *loop;
  bp__aws_creds creds;
  bp__aws_client lambda, sqs, sns, s3;
  int have_lambda, have_dests;
  bp__aws_counters counters;
  bp__aws_invoker *iv;
  bp__aws_dest *dest;
  bp_engine *e;
  char seq[IH_MAX_RECORDS][32], key[IH_MAX_RECORDS][16], data[IH_MAX_RECORDS][32];
  bp_record recs[IH_MAX_RECORDS];
  size_t nrec, next;
  /* What the deliver callback was given. */
  char s3_key[512];
  int json_with_newline; /* a record_json held a '\n' (the file destination's lines) */
  size_t delivery_reqs;
} ih_host;

static inline const char *ih_url(void) {
  const char *u = getenv("BP_TEST_SHAPES_URL");
  if (!u || !*u) fail_msg("BP_TEST_SHAPES_URL is not set (run through test/aws/run_tests.sh)");
  return u;
}

/* ---- the server's control calls (plain libcurl, unsigned) ---- */

static inline size_t ih_write(char *p, size_t size, size_t n, void *ud) {
  return bp__aws_buf_append(ud, p, size * n) ? 0 : size * n;
}

/* @p method to the server's @p path; the response body into @p out (may be NULL). */
static inline void ih_control(const char *method, const char *path, const char *body,
                              bp__aws_buf *out) {
  char url[512];
  bp__aws_buf sink = {0};
  snprintf(url, sizeof url, "%s%s", ih_url(), path);
  CURL *c = curl_easy_init();
  assert_non_null(c);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  if (body) curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ih_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, out ? out : &sink);
  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  bp__aws_buf_free(&sink);
  assert_int_equal(rc, CURLE_OK);
  assert_int_equal(status, 200);
}

static inline void ih_reset_server(void) { ih_control("POST", "/_reset", "{}", NULL); }
static inline void ih_script(const char *json) { ih_control("POST", "/_script", json, NULL); }

/* The requests the server received (a yajl tree array; free with yajl_tree_free). */
static inline yajl_val ih_received(void) {
  bp__aws_buf b = {0};
  char err[256];
  ih_control("GET", "/_received", NULL, &b);
  yajl_val v = yajl_tree_parse(b.data, err, sizeof err);
  bp__aws_buf_free(&b);
  assert_non_null(v);
  assert_true(YAJL_IS_ARRAY(v));
  return v;
}

/* The @p nth (0-based) received request of @p service, or NULL. */
static inline yajl_val ih_request(yajl_val all, const char *service, size_t nth) {
  static const char *svc[] = {"service", NULL};
  for (size_t i = 0; i < YAJL_GET_ARRAY(all)->len; i++) {
    yajl_val r = YAJL_GET_ARRAY(all)->values[i];
    const char *s = YAJL_GET_STRING(yajl_tree_get(r, svc, yajl_t_string));
    if (s && !strcmp(s, service) && nth-- == 0) return r;
  }
  return NULL;
}

static inline size_t ih_count(yajl_val all, const char *service) {
  size_t n = 0;
  while (ih_request(all, service, n)) n++;
  return n;
}

/* A string member along @p path (NULL-terminated names), or NULL. */
static inline const char *ih_str(yajl_val v, const char **path) {
  return YAJL_GET_STRING(yajl_tree_get(v, path, yajl_t_string));
}

/* ---- the engine's callbacks ---- */

static inline size_t ih_start_of(const ih_host *h, const bp_fetch_req *q) {
  size_t i = 0;
  int cmp = 0;
  switch (q->from) {
  case BP_POSITION_TRIM_HORIZON: return 0;
  case BP_POSITION_CONTINUE: return h->next;
  case BP_POSITION_AFTER_SEQUENCE_NUMBER:
    while (i < h->nrec && !bp_seqnum_compare(h->recs[i].seq, h->recs[i].seq_len, q->after_seq,
                                             q->after_seq_len, &cmp) && cmp <= 0)
      i++;
    return i;
  default: return h->nrec;
  }
}

static inline int ih_fetch(bp_engine *e, const bp_fetch_req *q, void *ud) {
  ih_host *h = ud;
  size_t from = ih_start_of(h, q);
  size_t n = h->nrec - from < q->max_records ? h->nrec - from : q->max_records;
  h->next = from + n;
  return bp_engine_complete_fetch(e, q->req_id, bp__aws_now_ms(), 0, h->recs + from, n, 0)
             ? BP_ERR_CALLBACK_FAILURE
             : 0;
}

static inline int ih_invoke(bp_engine *e, const bp_invoke_req *q, void *ud) {
  ih_host *h = ud;
  return bp__aws_invoker_invoke(h->iv, e, q);
}

static inline int ih_deliver(bp_engine *e, const bp_delivery_req *q, void *ud) {
  ih_host *h = ud;
  h->delivery_reqs++;
  if (q->s3_key) snprintf(h->s3_key, sizeof h->s3_key, "%s", q->s3_key);
  if (q->record_json && memchr(q->record_json, '\n', q->record_json_len))
    h->json_with_newline = 1;
  return bp__aws_dest_deliver(h->dest, e, q);
}

/* ---- the test program's scratch directory ---- */

static char ih_tmpdir[64];

/* cmocka group set-up: the scratch directory (mkdtemp of @p tmpl) and libcurl. */
static inline int ih_suite_setup(const char *tmpl) {
  snprintf(ih_tmpdir, sizeof ih_tmpdir, "%s", tmpl);
  if (!mkdtemp(ih_tmpdir)) return -1;
  return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static inline int ih_suite_teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", ih_tmpdir);
  curl_global_cleanup();
  return system(cmd) == 0 ? 0 : -1;
}

/* The path of @p name in the scratch directory. */
static inline void ih_tmp_path(char *out, size_t cap, const char *name) {
  snprintf(out, cap, "%s/%s", ih_tmpdir, name);
}

/* ---- set-up ---- */

/* The loop, credentials and (when the server runs) clients of every service at it. */
static inline void ih_init(ih_host *h, int with_server) {
  char err[256];
  memset(h, 0, sizeof *h);
  h->counters.millis_behind_latest = -1;
  setenv("AWS_ACCESS_KEY_ID", "AKIDTEST", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
  unsetenv("AWS_SESSION_TOKEN");
  assert_int_equal(bp__aws_loop_new(&h->loop, err, sizeof err), 0);
  assert_int_equal(bp__aws_creds_from_env(&h->creds, err, sizeof err), 0);
  if (!with_server) return;
  const char *url = ih_url();
  assert_int_equal(bp__aws_client_init(&h->lambda, &h->creds, "us-east-1", "lambda", "lambda",
                                       url, err, sizeof err), 0);
  assert_int_equal(bp__aws_client_init(&h->sqs, &h->creds, "us-east-1", "sqs", "sqs", url, err,
                                       sizeof err), 0);
  assert_int_equal(bp__aws_client_init(&h->sns, &h->creds, "us-east-1", "sns", "sns", url, err,
                                       sizeof err), 0);
  assert_int_equal(bp__aws_client_init(&h->s3, &h->creds, "us-east-1", "s3", "s3", url, err,
                                       sizeof err), 0);
  h->have_lambda = h->have_dests = 1;
  ih_reset_server();
}

/* @p n records: sequence numbers ascending, partition keys @p keys[i % nkeys]. */
static inline void ih_records(ih_host *h, size_t n, const char *const *keys, size_t nkeys) {
  int64_t now = bp__aws_now_ms();
  assert_true(n <= IH_MAX_RECORDS);
  h->nrec = n;
  for (size_t i = 0; i < n; i++) {
    snprintf(h->seq[i], sizeof h->seq[i], "4960000000000000000000%04zu", 10 * (i + 1));
    snprintf(h->key[i], sizeof h->key[i], "%s", keys[i % nkeys]);
    snprintf(h->data[i], sizeof h->data[i], "{\"n\":%zu}", i);
    bp_record *r = &h->recs[i];
    bp_record_init(r, sizeof *r);
    r->seq = h->seq[i];
    r->seq_len = strlen(h->seq[i]);
    r->arrival_ms = now - 1000;
    r->partition_key = h->key[i];
    r->partition_key_len = strlen(h->key[i]);
    r->data = (const uint8_t *)h->data[i];
    r->data_len = strlen(h->data[i]);
  }
}

/* The on-failure destinations: SQS, SNS and S3 at the server. */
static inline void ih_aws_dest(ih_host *h) {
  char err[256];
  assert_int_equal(bp__aws_dest_new_aws(&h->dest, h->loop, &h->sqs, &h->sns, &h->s3,
                                        &h->counters, err, sizeof err), 0);
}

/* The on-failure destination: the NDJSON file failures.ndjson of the scratch directory,
 * emptied first. */
static inline void ih_file_dest(ih_host *h) {
  char err[256], path[128];
  ih_tmp_path(path, sizeof path, "failures.ndjson");
  unlink(path);
  assert_int_equal(bp__aws_dest_new_file(&h->dest, h->loop, path, &h->counters, err,
                                         sizeof err), 0);
}

/* The engine of mapping @p config_json over the records, with the host's invoker/dest set. */
static inline void ih_engine(ih_host *h, const char *config_json) {
  bp_config *cfg = NULL;
  char err[256];
  assert_int_equal(bp_config_new(&cfg, NULL), 0);
  int rc = bp_config_parse_json(cfg, config_json, strlen(config_json));
  if (rc) fail_msg("config: %s", bp_config_errmsg(cfg));
  bp_engine_opts o;
  bp_engine_opts_init(&o, sizeof o);
  o.invoke_identity_arn = "arn:aws:iam::123456789012:role/r";
  o.seed = 7;
  o.backoff_base_ms = 10;
  o.backoff_cap_ms = 40;
  o.poll_interval_ms = 20;
  bp_transport tr;
  memset(&tr, 0, sizeof tr);
  tr.fetch = ih_fetch;
  tr.invoke = ih_invoke;
  tr.deliver = ih_deliver;
  rc = bp_engine_new(&h->e, cfg, &o, &tr, h, NULL, err, sizeof err);
  bp_config_del(cfg);
  if (rc) fail_msg("bp_engine_new: %s", err);
  assert_int_equal(bp_engine_add_shard(h->e, IH_SHARD, NULL, NULL, NULL, 0), 0);
}

static inline bp_engine_metrics ih_metrics(const ih_host *h) {
  bp_engine_metrics m;
  bp_engine_metrics_init(&m, sizeof m);
  assert_int_equal(bp_engine_get_metrics(h->e, NULL, &m), 0);
  return m;
}

/* Every record read, resolved and past the checkpoint, nothing in flight. */
static inline int ih_all_done(const ih_host *h) {
  char ckpt[BP_STORE_SEQ_CAP];
  size_t len = 0;
  return h->next == h->nrec && bp_engine_idle(h->e) && bp__aws_loop_pending(h->loop) == 0 &&
         bp_engine_get_checkpoint(h->e, IH_SHARD, ckpt, sizeof ckpt, &len) == 0 &&
         !strcmp(ckpt, h->seq[h->nrec - 1]);
}

/* Tick and run the loop at the wall clock until @p done(h) or @p max_ms; 1 if done. */
static inline int ih_drive(ih_host *h, int (*done)(const ih_host *), int64_t max_ms) {
  char err[256];
  int64_t end = bp__aws_now_ms() + max_ms;
  for (;;) {
    int64_t now = bp__aws_now_ms();
    int rc = bp_engine_tick(h->e, now);
    if (rc) fail_msg("tick: %s", bp_engine_errmsg(h->e));
    if (done(h)) return 1;
    if (now >= end) return 0;
    int64_t wait = bp_engine_next_deadline(h->e) - now;
    if (wait > 20 || wait < 0) wait = 20; /* BP_NO_DEADLINE or far: completions wake us */
    rc = bp__aws_loop_run_once(h->loop, wait, err, sizeof err);
    if (rc < 0) fail_msg("loop: %s", err);
  }
}

/* The loop first: it abandons what is in flight, so no callback can reach a freed context. */
static inline void ih_fini(ih_host *h) {
  bp__aws_loop_del(h->loop);
  bp_engine_del(h->e);
  bp__aws_invoker_del(h->iv);
  bp__aws_dest_del(h->dest);
  if (h->have_lambda) bp__aws_client_free(&h->lambda);
  if (h->have_dests) {
    bp__aws_client_free(&h->sqs);
    bp__aws_client_free(&h->sns);
    bp__aws_client_free(&h->s3);
  }
  bp__aws_creds_free(&h->creds);
}

#endif
