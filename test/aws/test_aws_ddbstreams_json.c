/* SPDX-License-Identifier: MIT */
/* DynamoDB Streams response parsing (DescribeStream, GetRecords) with canned bodies, hostile
 * ones included. */
#include "bp_aws_ddbstreams_json.h"
#include "json_test_util.h"

static int parse(bp__aws_recpage *p, const char *body, char *err) {
  return bp__aws_ddb_parse_get_records(p, body, strlen(body), err, 256);
}

#define DDB1                                                                                 \
  "{ \"ApproximateCreationDateTime\" : 1.46480646E9,\"Keys\":{\"Id\":{\"S\":\"a\\/b\\u00e9\"},"   \
  "\"Sk\":{\"N\":\"7\"}},\"NewImage\":{\"Id\":{\"S\":\"a\\/b\\u00e9\"},\"L\":{\"L\":[{\"N\":\"1\"}]}},"  \
  "\"SequenceNumber\":\"300000000000000499659\",\"SizeBytes\":41,\"StreamViewType\":\"NEW_IMAGE\"}"
#define DDB2                                                                                 \
  "{\"ApproximateCreationDateTime\":1464806461.5,\"Keys\":{\"Num\":{\"N\":\"-12.5e3\"}},"          \
  "\"SequenceNumber\":\"400000000000000499660\",\"SizeBytes\":9,\"StreamViewType\":\"KEYS_ONLY\"}"
#define UID "{\"principalId\":\"dynamodb.amazonaws.com\",\"type\":\"Service\"}"

static void test_records(void **state) {
  (void)state;
  bp__aws_recpage p = {0};
  char err[256] = "";
  const char *body =
      "{\"NextShardIterator\":\"arn:aws:dynamodb:us-west-2:111122223333:table/Forum/stream/"
      "2015-05-20T20:51:10.252|1|AAAAAAAAAAGQBYshYDEe\",\"Records\":["
      "{\"awsRegion\":\"us-west-2\",\"dynamodb\":" DDB1 ",\"eventID\":\"e2fd9c34eff2d779b297b26f5fef4206\","
      "\"eventName\":\"INSERT\",\"eventSource\":\"aws:dynamodb\",\"eventVersion\":\"1.1\"},"
      "{\"eventID\":\"4b25bd0da9a181a155114127e4837252\",\"eventName\":\"REMOVE\",\"userIdentity\":" UID
      ",\"dynamodb\":" DDB2 "}]}";
  assert_int_equal(parse(&p, body, err), 0);
  assert_int_equal(p.n, 2);
  jt_assert_view(p.recs[0].seq, p.recs[0].seq_len, "300000000000000499659");
  assert_int_equal(p.recs[0].arrival_ms, 1464806460000LL);
  jt_assert_view(p.recs[0].event_id, p.recs[0].event_id_len, "e2fd9c34eff2d779b297b26f5fef4206");
  jt_assert_view(p.recs[0].event_name, p.recs[0].event_name_len, "INSERT");
  /* the object's text verbatim, escapes and spaces as sent */
  jt_assert_view(p.recs[0].dynamodb_json, p.recs[0].dynamodb_json_len, DDB1);
  assert_null(p.recs[0].user_identity_json);
  jt_assert_view(p.recs[0].partition_key, p.recs[0].partition_key_len, "a/b\xc3\xa9");
  assert_null(p.recs[0].data);
  assert_int_equal(p.recs[0].flags, 0);
  jt_assert_view(p.recs[1].seq, p.recs[1].seq_len, "400000000000000499660");
  assert_int_equal(p.recs[1].arrival_ms, 1464806461500LL);
  jt_assert_view(p.recs[1].dynamodb_json, p.recs[1].dynamodb_json_len, DDB2);
  jt_assert_view(p.recs[1].user_identity_json, p.recs[1].user_identity_json_len, UID);
  jt_assert_view(p.recs[1].partition_key, p.recs[1].partition_key_len, "-12.5e3");
  jt_assert_view(p.recs[1].event_name, p.recs[1].event_name_len, "REMOVE");
  assert_non_null(strstr(p.next_iterator, "|1|AAAAAAAAAAGQBYshYDEe"));
  assert_int_equal(p.millis_behind, -1);
  bp__aws_recpage_free(&p);
}

static void test_binary_key_and_end(void **state) {
  (void)state;
  bp__aws_recpage p = {0};
  char err[256] = "";
  const char *body =
      "{\"Records\":[{\"eventID\":\"1\",\"eventName\":\"MODIFY\",\"userIdentity\":null,\"dynamodb\":"
      "{\"Keys\":{\"B\":{\"B\":\"AAEC\"}},\"SequenceNumber\":\"5\",\"ApproximateCreationDateTime\":1}},"
      "{\"eventID\":\"2\",\"eventName\":\"MODIFY\",\"dynamodb\":{\"SequenceNumber\":\"6\","
      "\"ApproximateCreationDateTime\":2}}]}";
  assert_int_equal(parse(&p, body, err), 0);
  assert_int_equal(p.n, 2);
  jt_assert_view(p.recs[0].partition_key, p.recs[0].partition_key_len, "AAEC");
  assert_null(p.recs[0].user_identity_json);
  assert_null(p.recs[1].partition_key); /* no Keys */
  assert_null(p.next_iterator);         /* absent: the shard has ended */
  assert_int_equal(parse(&p, "{\"Records\":[],\"NextShardIterator\":null}", err), 0);
  assert_null(p.next_iterator);
  assert_int_equal(p.n, 0);
  bp__aws_recpage_free(&p);
}

#define R(dyn) "{\"Records\":[{\"eventID\":\"1\",\"eventName\":\"INSERT\",\"dynamodb\":" dyn "}]}"

static void test_hostile(void **state) {
  (void)state;
  static const char *const bad[] = {
      "", "{", "[]", "{}", "{\"Records\":5}", "{\"Records\":[[]]}",
      R("{\"SequenceNumber\":\"1\",\"ApproximateCreationDateTime\":1"), /* truncated */
      R("[]"),
      R("null"),
      R("{\"ApproximateCreationDateTime\":1}"),
      R("{\"SequenceNumber\":1,\"ApproximateCreationDateTime\":1}"),
      R("{\"SequenceNumber\":\"1\"}"),
      R("{\"SequenceNumber\":\"1\",\"ApproximateCreationDateTime\":\"1\"}"),
      R("{\"SequenceNumber\":\"1\",\"ApproximateCreationDateTime\":1e30}"),
      R("{\"SequenceNumber\":\"1\",\"ApproximateCreationDateTime\":1,\"Keys\":[]}"),
      "{\"Records\":[{\"eventName\":\"INSERT\",\"dynamodb\":{\"SequenceNumber\":\"1\",\"ApproximateCreationDateTime\":1}}]}",
      "{\"Records\":[{\"eventID\":\"1\",\"dynamodb\":{\"SequenceNumber\":\"1\",\"ApproximateCreationDateTime\":1}}]}",
      "{\"Records\":[{\"eventID\":\"1\",\"eventName\":\"INSERT\"}]}",
      "{\"Records\":[{\"eventID\":2,\"eventName\":\"INSERT\",\"dynamodb\":{\"SequenceNumber\":\"1\",\"ApproximateCreationDateTime\":1}}]}",
      "{\"Records\":[{\"eventID\":\"1\",\"eventName\":\"INSERT\",\"userIdentity\":\"x\",\"dynamodb\":{\"SequenceNumber\":\"1\",\"ApproximateCreationDateTime\":1}}]}",
      "{\"Records\":[],\"NextShardIterator\":[]}",
  };
  bp__aws_recpage p = {0};
  jt_assert_records_refused(bp__aws_ddb_parse_get_records, &p, bad, sizeof bad / sizeof bad[0]);
  bp__aws_recpage_free(&p);
}

static void test_describe_stream(void **state) {
  (void)state;
  bp__aws_shardlist l = {0};
  char err[256], *last = NULL;
  const char *p1 =
      "{\"StreamDescription\":{\"CreationRequestDateTime\":1.46480646E9,\"KeySchema\":[{\"AttributeName\":"
      "\"Id\",\"KeyType\":\"HASH\"}],\"LastEvaluatedShardId\":\"shardId-00000001414562045508-2bac9cd2\","
      "\"Shards\":[{\"SequenceNumberRange\":{\"EndingSequenceNumber\":\"20500000000000000910398\","
      "\"StartingSequenceNumber\":\"20500000000000000910398\"},\"ShardId\":"
      "\"shardId-00000001414562045508-2bac9cd2\"}],\"StreamArn\":\"arn:x\",\"StreamStatus\":\"ENABLED\"}}";
  const char *p2 =
      "{\"StreamDescription\":{\"Shards\":[{\"ParentShardId\":\"shardId-00000001414562045508-2bac9cd2\","
      "\"SequenceNumberRange\":{\"StartingSequenceNumber\":\"20500000000000000910399\"},\"ShardId\":"
      "\"shardId-00000001414576573621-f55eea83\"}]}}";
  assert_int_equal(bp__aws_ddb_parse_describe_stream(p1, strlen(p1), &l, &last, err, sizeof err), 0);
  assert_string_equal(last, "shardId-00000001414562045508-2bac9cd2");
  free(last);
  assert_int_equal(bp__aws_ddb_parse_describe_stream(p2, strlen(p2), &l, &last, err, sizeof err), 0);
  assert_null(last);
  assert_int_equal(l.n, 2);
  assert_true(l.v[0].closed);
  assert_null(l.v[0].parent_id);
  assert_false(l.v[1].closed);
  assert_string_equal(l.v[1].parent_id, "shardId-00000001414562045508-2bac9cd2");
  assert_null(l.v[1].adjacent_parent_id);
  static const char *const bad[] = {"", "{}", "{\"StreamDescription\":[]}",
                                    "{\"StreamDescription\":{}}",
                                    "{\"StreamDescription\":{\"Shards\":[{\"ShardId\":null}]}}",
                                    "{\"StreamDescription\":{\"Shards\":[],\"LastEvaluatedShardId\":3}}"};
  jt_assert_listing_refused(bp__aws_ddb_parse_describe_stream, &l, "DescribeStream: ", bad,
                            sizeof bad / sizeof bad[0]);
  bp__aws_shardlist_clear(&l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_records),
      cmocka_unit_test(test_binary_key_and_end),
      cmocka_unit_test(test_hostile),
      cmocka_unit_test(test_describe_stream),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
