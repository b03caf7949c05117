/* SPDX-License-Identifier: MIT */
/*
 * The DynamoDB Streams reader end to end against test/aws/servers/ddbstreams_replay.js (its
 * URL in BP_AWS_DDBSTREAMS_URL, set by test/aws/run_tests.sh): a real bp_engine reads a parent
 * shard to its end (through an expired iterator, renewed) and then its child (through a
 * throttle, backed off); every record reaches the function once, in order, in the encoded
 * DynamoDB event; DescribeStream's two pages list both shards.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "reader_harness.h"

#define ARN "arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/2026-01-01T00:00:00.000"
#define PARENT "shardId-00000001767225600000-0a1b2c3d"
#define CHILD "shardId-00000001767229200000-4e5f6a7b"
#define NRECS 8

static char key_id[] = "AKIDEXAMPLE";
static char secret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
static bp__aws_creds creds = {key_id, secret, NULL};

typedef struct seen {
  size_t n;
  int errors;
  char ids[NRECS + 4][40];
  char seqs[NRECS + 4][32];
  char shard[NRECS + 4][48];
  int user_identity[NRECS + 4];
} seen;

static const char *str_at(yajl_val v, const char **path) {
  yajl_val s = yajl_tree_get(v, path, yajl_t_string);
  return s != NULL ? YAJL_GET_STRING(s) : NULL;
}

/* The invoke payload is the encoded event: read eventID, SequenceNumber, the key and image
 * the raw `dynamodb` text carried, and userIdentity. */
static void check_event(rh_host *h, const bp_invoke_req *req) {
  seen *s = h->user;
  char ebuf[128];
  yajl_val root = yajl_tree_parse(req->payload, ebuf, sizeof ebuf);
  const char *rp[] = {"Records", NULL};
  yajl_val recs = root ? yajl_tree_get(root, rp, yajl_t_array) : NULL;
  if (recs == NULL || recs->u.array.len != req->count) {
    s->errors++;
    yajl_tree_free(root);
    return;
  }
  for (size_t i = 0; i < recs->u.array.len && s->n < NRECS + 4; i++) {
    yajl_val r = recs->u.array.values[i];
    const char *ip[] = {"eventID", NULL}, *sp[] = {"dynamodb", "SequenceNumber", NULL};
    const char *kp[] = {"dynamodb", "Keys", "Id", "N", NULL};
    const char *up[] = {"userIdentity", "type", NULL}, *ap[] = {"eventSourceARN", NULL};
    const char *id = str_at(r, ip), *seq = str_at(r, sp), *key = str_at(r, kp);
    const char *arn = str_at(r, ap);
    if (id == NULL || seq == NULL || key == NULL || arn == NULL || strcmp(arn, ARN) != 0) {
      s->errors++;
      continue;
    }
    /* the key the server sent for record k is 100 + k; the event id ends in k */
    if (atoi(key) != 100 + (int)s->n || id[strlen(id) - 1] != (char)('0' + s->n)) s->errors++;
    snprintf(s->ids[s->n], sizeof s->ids[0], "%s", id);
    snprintf(s->seqs[s->n], sizeof s->seqs[0], "%s", seq);
    snprintf(s->shard[s->n], sizeof s->shard[0], "%s", req->shard_id);
    s->user_identity[s->n] = str_at(r, up) != NULL;
    s->n++;
  }
  yajl_tree_free(root);
}

static int all_read(rh_host *h) {
  return h->invoked >= NRECS && bp_engine_idle(h->e) &&
         bp_engine_get_shard_state(h->e, PARENT) == BP_SHARD_ENDED;
}

static void test_read_stream(void **state) {
  (void)state;
  const char *url = getenv("BP_AWS_DDBSTREAMS_URL");
  if (url == NULL) {
    printf("skipped: BP_AWS_DDBSTREAMS_URL unset (run through test/aws/run_tests.sh)\n");
    skip();
  }
  char err[256];
  bp__aws_client client;
  bp__aws_counters ctr;
  memset(&ctr, 0, sizeof ctr);
  ctr.millis_behind_latest = -1;
  rh_host h;
  seen s;
  memset(&h, 0, sizeof h);
  memset(&s, 0, sizeof s);
  h.user = &s;
  h.on_invoke = check_event;
  assert_int_equal(bp__aws_loop_new(&h.loop, err, sizeof err), 0);
  assert_int_equal(bp__aws_client_init(&client, &creds, "us-east-1", "streams.dynamodb", "dynamodb",
                                       url, err, sizeof err), 0);
  assert_int_equal(bp__aws_ddbstreams_reader_new(&h.reader, h.loop, &client, "arn:aws:kinesis:x",
                                                 &ctr, err, sizeof err), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp__aws_ddbstreams_reader_new(&h.reader, h.loop, &client, ARN, &ctr, err,
                                                 sizeof err), 0);

  /* the shard list: two DescribeStream pages */
  rh_listing l;
  memset(&l, 0, sizeof l);
  assert_int_equal(bp__aws_reader_list_shards(h.reader, rh_on_shards, &l), 0);
  while (l.calls == 0) assert_true(bp__aws_loop_run_once(h.loop, 100, err, sizeof err) >= 0);
  assert_int_equal(l.status, 0);
  assert_int_equal(l.n, 2);
  assert_int_equal(ctr.list_shards, 2);
  assert_string_equal(l.ids[0], PARENT);
  assert_true(l.closed[0]);
  assert_string_equal(l.ids[1], CHILD);
  assert_string_equal(l.parents[1], PARENT);
  assert_false(l.closed[1]);

  static const char fn[] = "arn:aws:lambda:us-east-1:123456789012:function:f";
  bp_config *c = NULL;
  assert_int_equal(bp_config_new(&c, NULL), 0);
  assert_int_equal(bp_config_set_event_source_arn(c, ARN, strlen(ARN)), 0);
  assert_int_equal(bp_config_set_function_name(c, fn, strlen(fn)), 0);
  assert_int_equal(bp_config_set_starting_position(c, BP_POSITION_TRIM_HORIZON), 0);
  bp_engine_opts o = BP_ENGINE_OPTS_INIT;
  assert_int_equal(bp_engine_opts_init(&o, sizeof o), 0);
  o.mapping_uuid = "a1b2c3d4-0000-4000-8000-00000000dd01";
  o.poll_interval_ms = 50;
  o.fetch_error_retry_ms = 50;
  assert_int_equal(rh_engine_new(&h, c, &o), 0);
  assert_int_equal(bp_engine_add_shard(h.e, PARENT, NULL, NULL, NULL, 0), 0);
  assert_int_equal(bp_engine_add_shard(h.e, CHILD, PARENT, NULL, NULL, 0), 0);
  assert_true(rh_run(&h, all_read, 20000));

  assert_int_equal(s.errors, 0);
  assert_int_equal(s.n, NRECS);
  assert_int_equal(h.invoked, NRECS);
  for (size_t i = 0; i < NRECS; i++) {
    char want[32];
    snprintf(want, sizeof want, "%s%zu", i < 5 ? "1000000000000000000" : "2000000000000000000", 10 + i);
    assert_string_equal(s.seqs[i], want);
    assert_string_equal(s.shard[i], i < 5 ? PARENT : CHILD);
    assert_int_equal(s.user_identity[i], i == 7);
  }
  /* the parent's expired iterator was renewed once, the child's throttle backed off once;
   * GetShardIterator: the parent's start, its renewal, the child's start */
  assert_int_equal(ctr.expired_iterators, 1);
  assert_int_equal(ctr.fetch_throttles, 1);
  assert_int_equal(ctr.get_shard_iterator, 3);
  assert_int_equal(ctr.records_read, NRECS);
  assert_int_equal(h.fetch_errors, 0);
  assert_int_equal(bp__aws_reader_millis_behind(h.reader, PARENT), -1);

  bp_engine_del(h.e);
  bp__aws_reader_del(h.reader);
  bp__aws_loop_del(h.loop);
  bp__aws_client_free(&client);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_read_stream),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
