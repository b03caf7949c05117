/* SPDX-License-Identifier: MIT */
/* Kinesis response parsing (ListShards, GetRecords) with canned bodies, hostile ones included. */
#include "bp_aws_kinesis_json.h"
#include "json_test_util.h"

static int parse(bp__aws_recpage *p, const char *body, char *err) {
  return bp__aws_kin_parse_get_records(p, body, strlen(body), err, 256);
}

static void test_records(void **state) {
  (void)state;
  bp__aws_recpage p = {0};
  char err[256] = "";
  const char *body =
      "{\"Records\":[{\"SequenceNumber\":\"49590338271490256608559692538361571095921575989136588898\","
      "\"ApproximateArrivalTimestamp\":1.441215410867E9,\"Data\":\"XzxkYXRhPl8w\","
      "\"PartitionKey\":\"part\\/\\u00e9\\\"x\"},"
      "{\"SequenceNumber\":\"49590338271490256608559692538361571095921575989136588899\","
      "\"ApproximateArrivalTimestamp\":1441215410.8675,\"Data\":\"\",\"PartitionKey\":\"k\","
      "\"EncryptionType\":\"KMS\",\"Extra\":{\"a\":[1,{\"b\":null}]}}],"
      "\"NextShardIterator\":\"AAAA/next+==\",\"MillisBehindLatest\":2100,"
      "\"ChildShards\":[{\"ShardId\":\"x\"}]}";
  assert_int_equal(parse(&p, body, err), 0);
  assert_int_equal(p.n, 2);
  jt_assert_view(p.recs[0].seq, p.recs[0].seq_len,
              "49590338271490256608559692538361571095921575989136588898");
  assert_int_equal(p.recs[0].arrival_ms, 1441215410867LL);
  jt_assert_view((const char *)p.recs[0].data, p.recs[0].data_len, "XzxkYXRhPl8w");
  assert_int_equal(p.recs[0].flags, BP_RECORD_DATA_BASE64);
  /* escapes decoded: \/ is '/', \u00e9 is two UTF-8 bytes */
  jt_assert_view(p.recs[0].partition_key, p.recs[0].partition_key_len, "part/\xc3\xa9\"x");
  assert_null(p.recs[0].encryption_type);
  assert_int_equal(p.recs[1].arrival_ms, 1441215410868LL); /* .8675 s rounds up */
  assert_int_equal(p.recs[1].data_len, 0);
  assert_non_null(p.recs[1].data);
  jt_assert_view(p.recs[1].encryption_type, p.recs[1].encryption_type_len, "KMS");
  assert_int_equal(p.recs[1].struct_size, sizeof(bp_record));
  assert_string_equal(p.next_iterator, "AAAA/next+==");
  assert_int_equal(p.millis_behind, 2100);
  bp__aws_recpage_free(&p);
}

static void test_shard_end_and_empty(void **state) {
  (void)state;
  bp__aws_recpage p = {0};
  char err[256] = "";
  assert_int_equal(parse(&p, "{\"Records\":[],\"NextShardIterator\":null,\"MillisBehindLatest\":0}", err), 0);
  assert_int_equal(p.n, 0);
  assert_null(p.next_iterator);
  assert_int_equal(p.millis_behind, 0);
  assert_int_equal(parse(&p, "{\"Records\":[]}", err), 0);
  assert_null(p.next_iterator);
  assert_int_equal(p.millis_behind, -1);
  bp__aws_recpage_free(&p);
}

/* The arrays and the arena are reused: a second page of the same size allocates nothing. */
static void test_reuse(void **state) {
  (void)state;
  bp__aws_recpage p = {0};
  char err[256], body[8192];
  size_t off = 0;
  off += (size_t)snprintf(body + off, sizeof body - off, "{\"Records\":[");
  for (int i = 0; i < 40; i++)
    off += (size_t)snprintf(body + off, sizeof body - off,
                            "%s{\"SequenceNumber\":\"%d\",\"ApproximateArrivalTimestamp\":1,"
                            "\"Data\":\"AA==\",\"PartitionKey\":\"k%d\"}",
                            i ? "," : "", 100 + i, i);
  snprintf(body + off, sizeof body - off, "],\"NextShardIterator\":\"it\"}");
  assert_int_equal(parse(&p, body, err), 0);
  assert_int_equal(p.n, 40);
  bp_record *recs = p.recs;
  char *arena = p.arena;
  assert_int_equal(parse(&p, body, err), 0);
  assert_ptr_equal(p.recs, recs);
  assert_ptr_equal(p.arena, arena);
  jt_assert_view(p.recs[39].seq, p.recs[39].seq_len, "139");
  jt_assert_view(p.recs[39].partition_key, p.recs[39].partition_key_len, "k39");
  bp__aws_recpage_free(&p);
}

static void test_hostile(void **state) {
  (void)state;
  static const char *const bad[] = {
      "",
      "{",
      "{\"Records\":[{\"SequenceNumber\":\"1\",",
      "[]",
      "\"x\"",
      "{}",                                            /* no Records */
      "{\"Records\":{}}",
      "{\"Records\":[1]}",
      "{\"Records\":[{\"ApproximateArrivalTimestamp\":1,\"Data\":\"\",\"PartitionKey\":\"k\"}]}",
      "{\"Records\":[{\"SequenceNumber\":1,\"ApproximateArrivalTimestamp\":1,\"Data\":\"\",\"PartitionKey\":\"k\"}]}",
      "{\"Records\":[{\"SequenceNumber\":\"1\",\"ApproximateArrivalTimestamp\":\"1\",\"Data\":\"\",\"PartitionKey\":\"k\"}]}",
      "{\"Records\":[{\"SequenceNumber\":\"1\",\"ApproximateArrivalTimestamp\":1,\"Data\":null,\"PartitionKey\":\"k\"}]}",
      "{\"Records\":[{\"SequenceNumber\":\"1\",\"ApproximateArrivalTimestamp\":1,\"Data\":\"\"}]}",
      "{\"Records\":[{\"SequenceNumber\":\"1\",\"Data\":\"\",\"PartitionKey\":\"k\"}]}",
      "{\"Records\":[{\"SequenceNumber\":\"1\",\"ApproximateArrivalTimestamp\":-1,\"Data\":\"\",\"PartitionKey\":\"k\"}]}",
      "{\"Records\":[{\"SequenceNumber\":\"1\",\"ApproximateArrivalTimestamp\":1e300,\"Data\":\"\",\"PartitionKey\":\"k\"}]}",
      "{\"Records\":[{\"SequenceNumber\":\"1\",\"ApproximateArrivalTimestamp\":99999999999999999999999999,\"Data\":\"\",\"PartitionKey\":\"k\"}]}",
      "{\"Records\":[],\"NextShardIterator\":5}",
      "{\"Records\":[],\"NextShardIterator\":\"\"}",
      "{\"Records\":[],\"MillisBehindLatest\":\"5\"}",
      "{\"Records\":[],\"MillisBehindLatest\":-5}",
      "{\"Records\":[],\"MillisBehindLatest\":1.5}",
      "{\"Records\":[],\"MillisBehindLatest\":123456789012345678901234567890}",
      "{\"Records\":[]} {}",
      "{\"Records\":[],\"x\":\"\xff\xfe\"}", /* not UTF-8 */
  };
  bp__aws_recpage p = {0};
  char err[256];
  jt_assert_records_refused(bp__aws_kin_parse_get_records, &p, bad, sizeof bad / sizeof bad[0]);
  /* a NUL inside the body (length given) is not JSON either */
  assert_int_equal(bp__aws_kin_parse_get_records(&p, "{\"Records\":[]}\0x", 16, err, sizeof err),
                   BP_ERR_INVALID_JSON);
  /* deep nesting in an ignored member is skipped, not a crash */
  char deep[20100];
  size_t o = 0;
  o += (size_t)snprintf(deep, sizeof deep, "{\"Records\":[],\"x\":");
  for (int i = 0; i < 10000; i++) deep[o++] = '[';
  for (int i = 0; i < 10000; i++) deep[o++] = ']';
  deep[o++] = '}';
  deep[o] = '\0';
  assert_int_equal(parse(&p, deep, err), 0);
  bp__aws_recpage_free(&p);
}

static void test_seconds(void **state) {
  (void)state;
  static const struct {
    const char *s;
    int64_t ms;
  } ok[] = {{"0", 0},
            {"1", 1000},
            {"1.5", 1500},
            {"1441215410.867", 1441215410867LL},
            {"1.441215410867E9", 1441215410867LL},
            {"1.46480646E9", 1464806460000LL},
            {"1464806460e0", 1464806460000LL},
            {"0.0004", 0},
            {"0.0005", 1},
            {"0.0015", 2},
            {"14412154108674999e-7", 1441215410867LL},
            {"1441215410.86750000000000000000001", 1441215410868LL},
            {"253402300799.999", 253402300799999LL},
            {"1e-400", 0},
            {"0e9999999", 0}};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    int64_t ms = -1;
    assert_int_equal(bp__aws_seconds_to_ms(ok[i].s, strlen(ok[i].s), &ms), 0);
    assert_int_equal(ms, ok[i].ms);
  }
  int64_t ms;
  assert_int_equal(bp__aws_seconds_to_ms("253402300800", 12, &ms), BP_ERR_RANGE);
  assert_int_equal(bp__aws_seconds_to_ms("1e99999999", 10, &ms), BP_ERR_RANGE);
  assert_int_equal(bp__aws_seconds_to_ms("-1", 2, &ms), BP_ERR_INVALID_JSON);
  assert_int_equal(bp__aws_seconds_to_ms("", 0, &ms), BP_ERR_INVALID_JSON);
  assert_int_equal(bp__aws_seconds_to_ms("1e", 2, &ms), BP_ERR_INVALID_JSON);
  assert_int_equal(bp__aws_seconds_to_ms(".", 1, &ms), BP_ERR_INVALID_JSON);
}

static void test_list_shards(void **state) {
  (void)state;
  bp__aws_shardlist l = {0};
  char err[256], *tok = NULL;
  const char *p1 =
      "{\"Shards\":[{\"ShardId\":\"shardId-000000000000\",\"HashKeyRange\":{\"StartingHashKey\":\"0\","
      "\"EndingHashKey\":\"1\"},\"SequenceNumberRange\":{\"StartingSequenceNumber\":\"1\","
      "\"EndingSequenceNumber\":\"9\"}},"
      "{\"ShardId\":\"shardId-000000000001\",\"ParentShardId\":\"shardId-000000000000\","
      "\"AdjacentParentShardId\":null,\"SequenceNumberRange\":{\"StartingSequenceNumber\":\"10\"}}],"
      "\"NextToken\":\"tok/1\"}";
  const char *p2 = "{\"Shards\":[{\"ShardId\":\"shardId-000000000002\",\"ParentShardId\":"
                   "\"shardId-000000000001\",\"AdjacentParentShardId\":\"shardId-000000000000\"}]}";
  assert_int_equal(bp__aws_kin_parse_list_shards(p1, strlen(p1), &l, &tok, err, sizeof err), 0);
  assert_string_equal(tok, "tok/1");
  free(tok);
  assert_int_equal(bp__aws_kin_parse_list_shards(p2, strlen(p2), &l, &tok, err, sizeof err), 0);
  assert_null(tok);
  assert_int_equal(l.n, 3);
  assert_string_equal(l.v[0].shard_id, "shardId-000000000000");
  assert_null(l.v[0].parent_id);
  assert_true(l.v[0].closed);
  assert_string_equal(l.v[1].parent_id, "shardId-000000000000");
  assert_null(l.v[1].adjacent_parent_id);
  assert_false(l.v[1].closed);
  assert_string_equal(l.v[2].adjacent_parent_id, "shardId-000000000000");
  static const char *const bad[] = {
      "", "[]", "{}", "{\"Shards\":{}}", "{\"Shards\":[1]}", "{\"Shards\":[{}]}",
      "{\"Shards\":[{\"ShardId\":7}]}", "{\"Shards\":[{\"ShardId\":\"\"}]}",
      "{\"Shards\":[{\"ShardId\":\"a\",\"ParentShardId\":1}]}",
      "{\"Shards\":[{\"ShardId\":\"a\",\"SequenceNumberRange\":\"x\"}]}",
      "{\"Shards\":[],\"NextToken\":1}", "{\"Shards\":["};
  jt_assert_listing_refused(bp__aws_kin_parse_list_shards, &l, "ListShards: ", bad,
                            sizeof bad / sizeof bad[0]);
  bp__aws_shardlist_clear(&l);
}

static void test_iterator_and_arn(void **state) {
  (void)state;
  char err[256], *it = NULL, name[129];
  const char *ok = "{\"ShardIterator\":\"AAAAAAAAAAETYyAYzd665+8e0X7JTsASDM\\/Hr2rSwc0X2qz93iuA3udrjTH+ikQvpQk\\/1ZcMMLzRdAesqwBGPnsthzU0\\/CBlM\"}";
  assert_int_equal(bp__aws_parse_shard_iterator(ok, strlen(ok), &it, err, sizeof err), 0);
  assert_non_null(strstr(it, "/Hr2rSwc0X2qz93iuA3udrjTH+ikQvpQk/1Z"));
  free(it);
  static const char *const bad[] = {"", "{}", "{\"ShardIterator\":null}", "{\"ShardIterator\":1}",
                                    "{\"ShardIterator\":\"\"}", "[\"x\"]"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(bp__aws_parse_shard_iterator(bad[i], strlen(bad[i]), &it, err, sizeof err),
                     BP_ERR_INVALID_JSON);
    assert_null(it);
  }
  assert_int_equal(bp__aws_kin_stream_name("arn:aws:kinesis:us-east-1:123456789012:stream/my.s-1",
                                           name, sizeof name), 0);
  assert_string_equal(name, "my.s-1");
  assert_int_equal(bp__aws_kin_stream_name("arn:aws:kinesis:us-east-1:1:stream/", name, sizeof name), -1);
  assert_int_equal(bp__aws_kin_stream_name("arn:aws:kinesis:us-east-1:1:stream/a/consumer/b", name, sizeof name), -1);
  assert_int_equal(bp__aws_kin_stream_name("stream/a", name, sizeof name), -1);
  assert_int_equal(bp__aws_kin_stream_name("arn:aws:kinesis:r:1:stream/abcdef", name, 4), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_records),    cmocka_unit_test(test_shard_end_and_empty),
      cmocka_unit_test(test_reuse),      cmocka_unit_test(test_hostile),
      cmocka_unit_test(test_seconds),    cmocka_unit_test(test_list_shards),
      cmocka_unit_test(test_iterator_and_arn),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
