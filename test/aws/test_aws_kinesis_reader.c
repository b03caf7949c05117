/* SPDX-License-Identifier: MIT */
/*
 * The Kinesis reader end to end against kinesalite (a local Kinesis; its URL in
 * BP_AWS_KINESALITE_URL, set by test/aws/run_tests.sh, which starts the pinned copy of
 * test/aws/node): a real bp_engine reads a 2-shard stream through the reader and the loop; every
 * record put is delivered once, in order per shard, with one GetShardIterator per shard start;
 * a split shard ends (SHARD_END) and ListShards names its children with their parent.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "reader_harness.h"

#define TARGET(op) "Kinesis_20131202." op
#define CT "application/x-amz-json-1.1"
#define PER_SHARD 1500
#define SHARD(i) ((i) == 0 ? "shardId-000000000000" : "shardId-000000000001")
/* ExplicitHashKeys of the two halves of a 2-shard stream's hash range */
#define HASH(i) ((i) == 0 ? "1" : "200000000000000000000000000000000000000")

static char key_id[] = "AKIDEXAMPLE";
static char secret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
static bp__aws_creds creds = {key_id, secret, NULL};

typedef struct fixture {
  bp__aws_loop *loop;
  bp__aws_client client;
  bp__aws_counters ctr;
  char stream[64];
  char arn[160];
  /* what was put: per shard, the sequence numbers and data in order */
  char *seq[2][PER_SHARD];
  char data[2][PER_SHARD][40];
  size_t put[2];
  size_t got[2];   /* records checked so far per shard */
  int order_errors;
} fixture;

static int setup(void **state) {
  const char *url = getenv("BP_AWS_KINESALITE_URL");
  char err[256];
  if (url == NULL) {
    printf("skipped: kinesalite not started (BP_AWS_KINESALITE_URL unset: run through test/aws/run_tests.sh)\n");
    *state = NULL;
    return 0;
  }
  fixture *f = calloc(1, sizeof *f);
  assert_int_equal(bp__aws_loop_new(&f->loop, err, sizeof err), 0);
  assert_int_equal(bp__aws_client_init(&f->client, &creds, "us-east-1", "kinesis", "kinesis", url,
                                       err, sizeof err), 0);
  f->ctr.millis_behind_latest = -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  if (f == NULL) return 0;
  bp__aws_loop_del(f->loop);
  bp__aws_client_free(&f->client);
  for (int s = 0; s < 2; s++)
    for (size_t i = 0; i < f->put[s]; i++) free(f->seq[s][i]);
  free(f);
  return 0;
}

static long call(fixture *f, const char *target, const char *body, char **out) {
  return rh_call(f->loop, &f->client, target, CT, body, out);
}

static void create_stream(fixture *f, const char *tag, int shards) {
  char body[256], *out = NULL;
  snprintf(f->stream, sizeof f->stream, "bp-%s-%ld", tag, (long)getpid());
  snprintf(f->arn, sizeof f->arn, "arn:aws:kinesis:us-east-1:000000000000:stream/%s", f->stream);
  snprintf(body, sizeof body, "{\"StreamName\":\"%s\",\"ShardCount\":%d}", f->stream, shards);
  assert_int_equal(call(f, TARGET("CreateStream"), body, NULL), 200);
  snprintf(body, sizeof body, "{\"StreamName\":\"%s\"}", f->stream);
  for (int i = 0; i < 200; i++) {
    assert_int_equal(call(f, TARGET("DescribeStreamSummary"), body, &out), 200);
    int active = strstr(out, "\"ACTIVE\"") != NULL;
    free(out);
    if (active) return;
    rh_sleep_ms(20);
  }
  fail_msg("stream %s never became ACTIVE", f->stream);
}

/* Put @p n records to each of @p shards shards (PutRecords, 500 a call), keeping what
 * kinesalite answered: the shard and sequence number of each. */
static void put_records(fixture *f, int shards, size_t n) {
  size_t total = n * (size_t)shards, done = 0;
  char *body = malloc(64 * 1024);
  while (done < total) {
    size_t k = total - done < 500 ? total - done : 500, off = 0;
    off += (size_t)snprintf(body + off, 64 * 1024 - off, "{\"StreamName\":\"%s\",\"Records\":[", f->stream);
    for (size_t i = 0; i < k; i++) {
      size_t idx = done + i;
      int s = (int)(idx % (size_t)shards);
      char text[24], b64[40];
      size_t w;
      snprintf(text, sizeof text, "s%d-%zu", s, idx / (size_t)shards);
      assert_int_equal(bp_base64_encode((const uint8_t *)text, strlen(text), b64, sizeof b64, &w), 0);
      b64[w] = '\0';
      snprintf(f->data[s][idx / (size_t)shards], sizeof f->data[0][0], "%s", b64);
      off += (size_t)snprintf(body + off, 64 * 1024 - off,
                              "%s{\"Data\":\"%s\",\"PartitionKey\":\"pk%zu\",\"ExplicitHashKey\":\"%s\"}",
                              i ? "," : "", b64, idx % 7, HASH(s));
    }
    snprintf(body + off, 64 * 1024 - off, "]}");
    char *out = NULL;
    assert_int_equal(call(f, TARGET("PutRecords"), body, &out), 200);
    yajl_val root = yajl_tree_parse(out, NULL, 0);
    const char *rp[] = {"Records", NULL};
    yajl_val recs = yajl_tree_get(root, rp, yajl_t_array);
    assert_non_null(recs);
    assert_int_equal(recs->u.array.len, k);
    for (size_t i = 0; i < k; i++) {
      const char *sp[] = {"SequenceNumber", NULL}, *ip[] = {"ShardId", NULL};
      yajl_val r = recs->u.array.values[i];
      const char *seq = YAJL_GET_STRING(yajl_tree_get(r, sp, yajl_t_string));
      const char *sid = YAJL_GET_STRING(yajl_tree_get(r, ip, yajl_t_string));
      int s = (int)((done + i) % (size_t)shards);
      assert_string_equal(sid, SHARD(s));
      f->seq[s][f->put[s]++] = strdup(seq);
    }
    yajl_tree_free(root);
    free(out);
    done += k;
  }
  free(body);
}

/* Every invoked record is the next one put to its shard: same sequence number, same data. */
static void check_batch(rh_host *h, const bp_invoke_req *req) {
  fixture *f = h->user;
  int s = strcmp(req->shard_id, SHARD(0)) == 0 ? 0 : 1;
  for (size_t i = 0; i < req->count; i++) {
    const bp_record *r = BP_RECORD_AT(req->records, req->record_stride, i);
    size_t k = f->got[s]++;
    if (k >= f->put[s] || r->seq_len != strlen(f->seq[s][k]) ||
        memcmp(r->seq, f->seq[s][k], r->seq_len) != 0 || r->data_len != strlen(f->data[s][k]) ||
        memcmp(r->data, f->data[s][k], r->data_len) != 0 || !(r->flags & BP_RECORD_DATA_BASE64) ||
        r->arrival_ms <= 0)
      f->order_errors++;
  }
}

static bp_config *config(const char *arn) {
  static const char fn[] = "arn:aws:lambda:us-east-1:000000000000:function:f";
  bp_config *c = NULL;
  assert_int_equal(bp_config_new(&c, NULL), 0);
  assert_int_equal(bp_config_set_event_source_arn(c, arn, strlen(arn)), 0);
  assert_int_equal(bp_config_set_function_name(c, fn, strlen(fn)), 0);
  assert_int_equal(bp_config_set_starting_position(c, BP_POSITION_TRIM_HORIZON), 0);
  assert_int_equal(bp_config_set_batch_size(c, 100), 0);
  return c;
}

static bp_engine_opts opts(void) {
  bp_engine_opts o = BP_ENGINE_OPTS_INIT;
  assert_int_equal(bp_engine_opts_init(&o, sizeof o), 0);
  o.invoke_identity_arn = "arn:aws:iam::000000000000:role/r";
  o.mapping_uuid = "a1b2c3d4-0000-4000-8000-00000000aa01";
  o.max_fetch_records = 100; /* >= 15 reads of each shard */
  o.poll_interval_ms = 50;
  return o;
}

static int all_invoked(rh_host *h) {
  fixture *f = h->user;
  return h->invoked >= f->put[0] + f->put[1] && bp_engine_idle(h->e);
}

/* A reader of the fixture's stream under an engine that checks every batch, shard 0 added. */
static void start_host(rh_host *h, fixture *f) {
  char err[256];
  memset(h, 0, sizeof *h);
  h->loop = f->loop;
  h->user = f;
  h->on_invoke = check_batch;
  assert_int_equal(bp__aws_kinesis_reader_new(&h->reader, f->loop, &f->client, f->arn, &f->ctr,
                                              err, sizeof err), 0);
  bp_engine_opts o = opts();
  assert_int_equal(rh_engine_new(h, config(f->arn), &o), 0);
  assert_int_equal(bp_engine_add_shard(h->e, SHARD(0), NULL, NULL, NULL, 0), 0);
}

static void test_long_run(void **state) {
  fixture *f = *state;
  if (f == NULL) skip();
  char err[256];
  create_stream(f, "long", 2);
  put_records(f, 2, PER_SHARD);
  rh_host h;
  start_host(&h, f);
  assert_int_equal(bp_engine_add_shard(h.e, SHARD(1), NULL, NULL, NULL, 0), 0);
  assert_true(rh_run(&h, all_invoked, 60000));
  assert_int_equal(f->order_errors, 0);
  assert_int_equal(f->got[0], PER_SHARD);
  assert_int_equal(f->got[1], PER_SHARD);
  assert_int_equal(h.invoked, 2 * PER_SHARD);
  assert_int_equal(f->ctr.records_read, 2 * PER_SHARD);
  /* the reader follows its own iterator: one GetShardIterator per shard start */
  assert_int_equal(f->ctr.get_shard_iterator, 2);
  assert_true(f->ctr.get_records >= 2 * (PER_SHARD / 100));
  assert_int_equal(f->ctr.fetch_throttles, 0);
  assert_int_equal(h.fetch_errors, 0);
  assert_int_equal(bp__aws_reader_millis_behind(h.reader, SHARD(0)), 0);
  assert_int_equal(bp__aws_reader_millis_behind(h.reader, "shardId-000000000009"), -1);
  /* more polls of an idle stream keep following the iterator */
  uint64_t reads = f->ctr.get_records;
  int64_t until = bp__aws_now_ms() + 400;
  while (bp__aws_now_ms() < until) {
    assert_int_equal(bp_engine_tick(h.e, bp__aws_now_ms()), 0);
    assert_true(bp__aws_loop_run_once(f->loop, 20, err, sizeof err) >= 0);
  }
  assert_true(f->ctr.get_records > reads);
  assert_int_equal(f->ctr.get_shard_iterator, 2);
  bp_engine_del(h.e);
  bp__aws_reader_del(h.reader);
}

static int shard0_ended(rh_host *h) {
  return bp_engine_get_shard_state(h->e, SHARD(0)) == BP_SHARD_ENDED;
}

static int ten_invoked(rh_host *h) { return h->invoked >= 10 && bp_engine_idle(h->e); }

static void test_split_ends_shard(void **state) {
  fixture *f = *state;
  if (f == NULL) skip();
  char err[256], body[256];
  create_stream(f, "split", 1);
  put_records(f, 1, 10);
  rh_host h;
  start_host(&h, f);
  assert_true(rh_run(&h, ten_invoked, 20000));
  assert_int_equal(bp_engine_get_shard_state(h.e, SHARD(0)), BP_SHARD_ACTIVE);
  snprintf(body, sizeof body,
           "{\"StreamName\":\"%s\",\"ShardToSplit\":\"shardId-000000000000\","
           "\"NewStartingHashKey\":\"170141183460469231731687303715884105728\"}", f->stream);
  assert_int_equal(call(f, TARGET("SplitShard"), body, NULL), 200);
  assert_true(rh_run(&h, shard0_ended, 20000));
  assert_int_equal(f->order_errors, 0);
  assert_int_equal(f->got[0], 10);
  assert_int_equal(f->ctr.get_shard_iterator, 1);

  rh_listing l;
  memset(&l, 0, sizeof l);
  uint64_t lists = f->ctr.list_shards;
  assert_int_equal(bp__aws_reader_list_shards(h.reader, rh_on_shards, &l), 0);
  assert_int_equal(bp__aws_reader_list_shards(h.reader, rh_on_shards, &l), BP_ERR_INVALID_STATE);
  while (l.calls == 0) assert_true(bp__aws_loop_run_once(f->loop, 100, err, sizeof err) >= 0);
  assert_int_equal(l.status, 0);
  assert_int_equal(l.n, 3);
  assert_int_equal(f->ctr.list_shards, lists + 1);
  assert_string_equal(l.ids[0], SHARD(0));
  assert_string_equal(l.parents[0], "-");
  assert_true(l.closed[0]);
  for (int i = 1; i < 3; i++) {
    assert_string_equal(l.parents[i], SHARD(0));
    assert_false(l.closed[i]);
  }
  for (int i = 0; i < 3; i++) assert_false(l.has_adjacent[i]); /* a split has one parent */
  bp_engine_del(h.e);
  bp__aws_reader_del(h.reader);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_long_run, setup, teardown),
      cmocka_unit_test_setup_teardown(test_split_ends_shard, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
