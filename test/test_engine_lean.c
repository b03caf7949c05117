/* SPDX-License-Identifier: MIT */
/* The engine's shorter paths for Kinesis records without the later fields (bp__records_lean():
 * storage, views) and for plain partition keys (measured once at intake, written without
 * escaping), checked against the general paths: every view the function is lent equals the
 * record the host fetched (every member: NULL stays NULL, an empty non-NULL field stays
 * non-NULL), and every event equals bp_codec_encode_event() of those records, byte for byte.
 * The records mix lean ones with ones that are not (an encryption type, empty non-NULL later
 * fields) and partition keys of every length class, escaped or not, ASCII or not; the keys
 * at the length limit and over it, empty or invalid, are refused with the codec's message. */
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

#define NREC 64

typedef struct lean_host {
  bp_engine *e;
  bp_codec *codec; /* the general path: the public encoder of the engine's options */
  test_alloc ta;
  bp_allocator hooks;
  bp_record recs[NREC];
  char seqs[NREC][32];
  char pks[NREC][1100];
  size_t n, next, seen, events_checked;
  int64_t now;
  int expect_error; /* a fetch's error is recorded (fetch_rc, msg), not a failure */
  int fetch_rc;
  char msg[256];
} lean_host;

static int str_eq(const void *a, size_t alen, const void *b, size_t blen) {
  if ((a == NULL) != (b == NULL) || alen != blen) return 0;
  return !alen || !memcmp(a, b, alen);
}

/* The view lent for the record of sequence number @p v->seq must be that record, member by
 * member. */
static void assert_view(const lean_host *h, const bp_record *v) {
  const bp_record *r = NULL;
  for (size_t i = 0; i < h->n && !r; i++)
    if (str_eq(h->recs[i].seq, h->recs[i].seq_len, v->seq, v->seq_len)) r = &h->recs[i];
  if (!r) fail_msg("a view of no fetched record: %.*s", (int)v->seq_len, v->seq);
  const char *what = NULL;
  if (!str_eq(r->partition_key, r->partition_key_len, v->partition_key, v->partition_key_len))
    what = "partition_key";
  else if (!str_eq(r->data, r->data_len, v->data, v->data_len)) what = "data";
  else if (!str_eq(r->encryption_type, r->encryption_type_len, v->encryption_type,
                   v->encryption_type_len))
    what = "encryption_type";
  else if (!str_eq(r->event_id, r->event_id_len, v->event_id, v->event_id_len)) what = "event_id";
  else if (!str_eq(r->event_name, r->event_name_len, v->event_name, v->event_name_len))
    what = "event_name";
  else if (!str_eq(r->dynamodb_json, r->dynamodb_json_len, v->dynamodb_json,
                   v->dynamodb_json_len))
    what = "dynamodb_json";
  else if (!str_eq(r->user_identity_json, r->user_identity_json_len, v->user_identity_json,
                   v->user_identity_json_len))
    what = "user_identity_json";
  else if (r->arrival_ms != v->arrival_ms) what = "arrival_ms";
  else if (r->flags != v->flags) what = "flags";
  if (what) fail_msg("record %.*s: the view's %s differs", (int)r->seq_len, r->seq, what);
}

static int lean_fetch(bp_engine *e, const bp_fetch_req *req, void *ud) {
  lean_host *h = ud;
  size_t k = h->n - h->next;
  if (k > req->max_records) k = req->max_records;
  int rc = bp_engine_complete_fetch(e, req->req_id, h->now, 0, h->recs + h->next, k, 0);
  if (rc && !h->expect_error) fail_msg("complete_fetch: %s", bp_engine_errmsg(e));
  if (rc && !h->fetch_rc) {
    h->fetch_rc = rc;
    snprintf(h->msg, sizeof h->msg, "%s", bp_engine_errmsg(e));
  }
  h->next += k;
  return 0;
}

static int lean_invoke(bp_engine *e, const bp_invoke_req *req, void *ud) {
  lean_host *h = ud;
  bp_record batch[NREC];
  assert_true(req->count <= NREC);
  for (size_t i = 0; i < req->count; i++) {
    const bp_record *v = BP_RECORD_AT(req->records, req->record_stride, i);
    assert_view(h, v);
    batch[i] = *v;
  }
  const char *ev;
  size_t len;
  int rc = bp_codec_encode_event(h->codec, SHARD0, batch, req->count, NULL, &ev, &len);
  if (rc) fail_msg("encode: %s", bp_codec_errmsg(h->codec));
  if (len != req->payload_len || memcmp(ev, req->payload, len))
    fail_msg("the engine's event differs from the encoder's:\n%.*s\n%.*s", (int)req->payload_len,
             req->payload, (int)len, ev);
  h->seen += req->count;
  h->events_checked++;
  bp_invoke_result ok = BP_INVOKE_RESULT_INIT;
  assert_int_equal(bp_engine_complete_invoke(e, req->req_id, h->now, &ok), 0);
  return 0;
}

static lean_host *host_new(void) {
  lean_host *h = calloc(1, sizeof *h);
  test_alloc_init(&h->ta, &h->hooks);
  bp_codec_opts co;
  bp_codec_opts_init(&co, sizeof co);
  co.source = BP_SOURCE_KINESIS;
  co.event_source_arn = STREAM_ARN;
  co.invoke_identity_arn = ROLE_ARN;
  assert_int_equal(bp_codec_new(&h->codec, &co, NULL), 0);
  h->now = T0;
  return h;
}

/* Record @p i: sequence number, arrival, a partition key of @p pk_len bytes copied from
 * @p pk, 100 bytes of data; the rest NULL and empty (lean). */
static bp_record *add(lean_host *h, const char *pk, size_t pk_len) {
  size_t i = h->n++;
  assert_true(i < NREC && pk_len <= sizeof h->pks[i]);
  if (pk && pk_len) memcpy(h->pks[i], pk, pk_len);
  static const char data[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "0123456789abcdefghijklmnopqrstuvwxyzABCD";
  snprintf(h->seqs[i], sizeof h->seqs[i], "4966%020zu", i + 1);
  bp_record *r = &h->recs[i];
  memset(r, 0, sizeof *r);
  r->struct_size = sizeof *r;
  r->seq = h->seqs[i];
  r->seq_len = strlen(h->seqs[i]);
  r->partition_key = pk ? h->pks[i] : NULL;
  r->partition_key_len = pk_len;
  r->data = (const uint8_t *)data;
  r->data_len = 100;
  r->arrival_ms = T0 - 5000 + (int64_t)i * 7;
  return r;
}

static void add_str(lean_host *h, const char *pk) { add(h, pk, strlen(pk)); }

/* @p n copies of the @p unit bytes. */
static void add_rep(lean_host *h, const char *unit, size_t n) {
  char pk[600];
  size_t u = strlen(unit);
  for (size_t i = 0; i < n; i++) memcpy(pk + i * u, unit, u);
  add(h, pk, n * u);
}

/* Drive the engine until @p want records were invoked. */
static void run(lean_host *h, uint32_t batch_size, size_t want) {
  bp_config *c = kcfg();
  assert_int_equal(bp_config_set_batch_size(c, batch_size), 0);
  bp_transport t;
  memset(&t, 0, sizeof t);
  t.fetch = lean_fetch;
  t.invoke = lean_invoke;
  bp_engine_opts o = engine_opts("a1b2c3d4-0000-4000-8000-0000000000e1", 5);
  char err[256];
  if (bp_engine_new(&h->e, c, &o, &t, h, &h->hooks, err, sizeof err))
    fail_msg("bp_engine_new: %s", err);
  bp_config_del(c);
  assert_int_equal(bp_engine_add_shard(h->e, SHARD0, NULL, NULL, NULL, 0), 0);
  for (int guard = 0; guard < 100000 && h->seen < want; guard++) {
    assert_int_equal(bp_engine_tick(h->e, h->now), 0);
    int64_t d = bp_engine_next_deadline(h->e);
    if (d == BP_NO_DEADLINE) break;
    if (d > h->now) h->now = d;
  }
  assert_int_equal(h->seen, want);
}

static void host_free(lean_host *h) {
  bp_engine_del(h->e);
  bp_codec_del(h->codec);
  assert_int_equal(h->ta.live_blocks, 0);
  free(h);
}

/* Partition keys of every length class of the writer's word loads (1-3, 4-7, 8, 9-16,
 * longer), plain, with a byte to escape at the start, middle or end, or not ASCII. */
static void add_keys(lean_host *h) {
  static const char *const keys[] = {
      "a", "ab", "abc", "abcd", "pk-1234", "pk-12345", "pk-123456", "0123456789abcdef",
      "0123456789abcdefg", "a \"quoted\" key", "back\\slash", "\"", "\\", "tab\there",
      "nl\n", "\x01start", "ctl\x1f", "del\x7f", "caf\xc3\xa9", "\xe2\x82\xac",
      "\xf0\x9f\x98\x80 smile", "12345678\"", "1234567\\", "~~~~~~~~~~~~~~~~~~~~~~~", " ",
      "!#$%&'()*+,-./:;<=>?@[]^_`{|}"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) add_str(h, keys[i]);
  add_rep(h, "k", 256);          /* the limit, ASCII */
  add_rep(h, "\xc3\xa9", 256);   /* the limit in characters, 512 bytes */
  add_rep(h, "\"", 100);         /* every byte escaped */
}

/* Lean records of every key class: views and events as the general paths make them. */
static void test_lean_keys(void **state) {
  (void)state;
  lean_host *h = host_new();
  add_keys(h);
  run(h, 7, h->n);
  assert_true(h->events_checked >= 4);
  host_free(h);
}

/* Records that are not lean among lean ones: an encryption type, an empty non-NULL
 * encryption type or event id (kept non-NULL in the view), NULL or empty data. */
static void test_mixed_records(void **state) {
  (void)state;
  lean_host *h = host_new();
  bp_record *r = add(h, "pk-1", 4);
  r = add(h, "pk-2", 4);
  r->encryption_type = "KMS";
  r->encryption_type_len = 3;
  add(h, "pk-3", 4);
  r = add(h, "pk-4", 4);
  r->encryption_type = "";
  r = add(h, "pk-5", 4);
  r->event_id = "";
  r = add(h, "pk-6", 4);
  r->data = NULL;
  r->data_len = 0;
  r = add(h, "pk-7", 4);
  r->data_len = 0;
  r = add(h, "pk-\"8\"", 6);
  r->user_identity_json = "";
  r = add(h, "pk-9", 4);
  r->event_name = "";
  r->dynamodb_json = "";
  r = add(h, "pk-10", 5);
  r->flags = 0;
  run(h, 3, h->n);
  host_free(h);
}

/* A record whose partition key is refused after a good one: the fetch fails with the
 * codec's reason, the good record kept. */
static void assert_refused(const char *pk, size_t len, const char *reason) {
  lean_host *h = host_new();
  h->expect_error = 1;
  add(h, "pk-ok", 5);
  add(h, pk, len);
  run(h, 10, 1);
  if (h->fetch_rc != BP_ERR_INVALID_RECORD || !strstr(h->msg, reason))
    fail_msg("key of %zu bytes: %d \"%s\", expected \"%s\"", len, h->fetch_rc, h->msg, reason);
  assert_int_equal(h->seen, 1);
  host_free(h);
}

static void test_refused_keys(void **state) {
  (void)state;
  char k[1100];
  memset(k, 'k', sizeof k);
  assert_refused(k, 257, "partitionKey is longer than 256 characters");
  assert_refused(k, 1024, "partitionKey is longer than 256 characters");
  assert_refused(k, 1025, "partitionKey is longer than 256 characters");
  for (size_t i = 0; i < 257; i++) memcpy(k + 2 * i, "\xc3\xa9", 2);
  assert_refused(k, 514, "partitionKey is longer than 256 characters");
  assert_refused("", 0, "partitionKey is empty");
  assert_refused("ab\xff", 3, "partitionKey is not valid UTF-8");
  assert_refused("\xc3", 1, "partitionKey is not valid UTF-8");
  assert_refused("abcdefgh\x80", 9, "partitionKey is not valid UTF-8");
  assert_refused("\xed\xa0\x80", 3, "partitionKey is not valid UTF-8"); /* a surrogate */
  assert_refused(NULL, 3, "partitionKey is NULL");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lean_keys),
      cmocka_unit_test(test_mixed_records),
      cmocka_unit_test(test_refused_keys),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
