/* SPDX-License-Identifier: MIT */
/* On-failure destination records and S3 keys (SEMANTICS.md §1.4, §5.2-§5.5). */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>

#include "batchpoint/bp_codec.h"
#include "batchpoint/bp_time.h"
#include "test_alloc.h"

#define STREAM_ARN "arn:aws:kinesis:us-east-2:123456789012:stream/mystream"
#define ROLE_ARN "arn:aws:iam::123456789012:role/r"
#define FUNCTION_ARN "arn:aws:lambda:us-east-2:123456789012:function:myfunction"
#define DDB_ARN "arn:aws:dynamodb:us-east-2:123456789012:table/mytable/stream/2019-11-14T00:04:06.388"
#define SEQ_START "49601189658422359378836298521827638475320189012309704722"
#define SEQ_END "49601189658422359378836298522902373528957594348623495186"

/* 2019-11-14T00:38:06.021Z, 00:38:04.835Z, 00:38:05.580Z */
#define T_SEED_TS INT64_C(1573691886021)
#define T_SEED_FIRST INT64_C(1573691884835)
#define T_SEED_LAST INT64_C(1573691885580)

/* ---- helpers ---------------------------------------------------------------------- */

static bp_codec *codec_make(int source, const char *function_arn) {
  bp_codec_opts o = {sizeof(bp_codec_opts), source, source == BP_SOURCE_KINESIS ? STREAM_ARN : DDB_ARN, NULL,
                     ROLE_ARN, function_arn};
  bp_codec *c = NULL;
  assert_int_equal(bp_codec_new(&c, &o, NULL), 0);
  assert_non_null(c);
  return c;
}

static bp_codec *kinesis_codec(void) { return codec_make(BP_SOURCE_KINESIS, FUNCTION_ARN); }

/* The seed 001 sample (AWS Kinesis docs, "Example Failure Record"). */
static bp_failure_info seed_info(void) {
  bp_failure_info f;
  bp_failure_info_init(&f, sizeof f);
  f.condition = BP_CONDITION_RETRY_ATTEMPTS_EXHAUSTED;
  f.request_id = "c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5";
  f.request_id_len = strlen(f.request_id);
  f.approximate_invoke_count = 1;
  f.status_code = 200;
  f.executed_version = "$LATEST";
  f.executed_version_len = 7;
  f.function_error = "Unhandled";
  f.function_error_len = 9;
  f.timestamp_ms = T_SEED_TS;
  f.shard_id = "shardId-000000000001";
  f.start_seq = SEQ_START;
  f.start_seq_len = strlen(SEQ_START);
  f.end_seq = SEQ_END;
  f.end_seq_len = strlen(SEQ_END);
  f.first_arrival_ms = T_SEED_FIRST;
  f.last_arrival_ms = T_SEED_LAST;
  f.batch_size = 500;
  return f;
}

/* Remove whitespace outside strings: the compact form of a pretty-printed JSON text. */
static char *minify(const char *in) {
  char *out = malloc(strlen(in) + 1);
  assert_non_null(out);
  char *p = out;
  int in_str = 0;
  for (; *in; in++) {
    char ch = *in;
    if (in_str) {
      *p++ = ch;
      if (ch == '\\') *p++ = *++in;
      else if (ch == '"') in_str = 0;
    } else if (ch == '"') {
      in_str = 1;
      *p++ = ch;
    } else if (ch != ' ' && ch != '\n' && ch != '\t' && ch != '\r') {
      *p++ = ch;
    }
  }
  *p = '\0';
  return out;
}

static int encode(bp_codec *c, const bp_failure_info *f, const char **out, size_t *len) {
  *out = NULL;
  *len = 0;
  return bp_codec_encode_failure(c, f, out, len);
}

static void assert_encodes_to(bp_codec *c, const bp_failure_info *f, const char *expected) {
  const char *out;
  size_t len;
  int rc = encode(c, f, &out, &len);
  if (rc) print_error("encode: %d %s\n", rc, bp_codec_errmsg(c));
  assert_int_equal(rc, 0);
  assert_non_null(out);
  assert_int_equal(len, strlen(out)); /* NUL-terminated, no embedded NUL */
  assert_string_equal(out, expected);
  assert_string_equal(bp_codec_errmsg(c), "");
}

static yajl_val parse_tree(const char *text) {
  char err[256];
  yajl_val v = yajl_tree_parse(text, err, sizeof err);
  if (!v) print_error("yajl: %s\n", err);
  assert_non_null(v);
  return v;
}

static yajl_val at(yajl_val root, const char *a, const char *b) {
  const char *path[3] = {a, b, NULL};
  return yajl_tree_get(root, path, yajl_t_any);
}

static void assert_str_at(yajl_val root, const char *a, const char *b, const char *want) {
  yajl_val v = at(root, a, b);
  assert_true(YAJL_IS_STRING(v));
  assert_string_equal(YAJL_GET_STRING(v), want);
}

static void assert_int_at(yajl_val root, const char *a, const char *b, long long want) {
  yajl_val v = at(root, a, b);
  assert_true(YAJL_IS_INTEGER(v));
  assert_int_equal(YAJL_GET_INTEGER(v), want);
}

/* The keys of an object, in document order, joined with ','. */
static void assert_keys(yajl_val obj, const char *want) {
  assert_true(YAJL_IS_OBJECT(obj));
  char buf[512] = "";
  for (size_t i = 0; i < obj->u.object.len; i++) {
    if (i) strcat(buf, ",");
    strcat(buf, obj->u.object.keys[i]);
  }
  assert_string_equal(buf, want);
}

/* ---- golden records ----------------------------------------------------------------- */

/* Seed 001 (AWS Kinesis docs "Example Failure Record"), as printed there. */
static const char seed001_pretty[] =
    "{\n"
    "    \"requestContext\": {\n"
    "        \"requestId\": \"c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5\",\n"
    "        \"functionArn\": \"arn:aws:lambda:us-east-2:123456789012:function:myfunction\",\n"
    "        \"condition\": \"RetryAttemptsExhausted\",\n"
    "        \"approximateInvokeCount\": 1\n"
    "    },\n"
    "    \"responseContext\": {\n"
    "        \"statusCode\": 200,\n"
    "        \"executedVersion\": \"$LATEST\",\n"
    "        \"functionError\": \"Unhandled\"\n"
    "    },\n"
    "    \"version\": \"1.0\",\n"
    "    \"timestamp\": \"2019-11-14T00:38:06.021Z\",\n"
    "    \"KinesisBatchInfo\": {\n"
    "        \"shardId\": \"shardId-000000000001\",\n"
    "        \"startSequenceNumber\": \"49601189658422359378836298521827638475320189012309704722\",\n"
    "        \"endSequenceNumber\": \"49601189658422359378836298522902373528957594348623495186\",\n"
    "        \"approximateArrivalOfFirstRecord\": \"2019-11-14T00:38:04.835Z\",\n"
    "        \"approximateArrivalOfLastRecord\": \"2019-11-14T00:38:05.580Z\",\n"
    "        \"batchSize\": 500,\n"
    "        \"streamArn\": \"arn:aws:kinesis:us-east-2:123456789012:stream/mystream\"\n"
    "    }\n"
    "}\n";

static void test_golden_seed001(void **state) {
  (void)state;
  bp_codec *c = kinesis_codec();
  bp_failure_info f = seed_info();
  char *want = minify(seed001_pretty);
  /* The minifier itself is checked against a hand-written prefix. */
  assert_memory_equal(want, "{\"requestContext\":{\"requestId\":\"c9b8fa9f-5a7f-xmpl-", 50);
  assert_encodes_to(c, &f, want);
  free(want);

  const char *out;
  size_t len;
  assert_int_equal(encode(c, &f, &out, &len), 0);
  yajl_val root = parse_tree(out);
  assert_keys(root, "requestContext,responseContext,version,timestamp,KinesisBatchInfo");
  assert_keys(at(root, "requestContext", NULL),
              "requestId,functionArn,condition,approximateInvokeCount");
  assert_str_at(root, "requestContext", "requestId", "c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5");
  assert_str_at(root, "requestContext", "functionArn", FUNCTION_ARN);
  assert_str_at(root, "requestContext", "condition", "RetryAttemptsExhausted");
  assert_int_at(root, "requestContext", "approximateInvokeCount", 1);
  assert_keys(at(root, "responseContext", NULL), "statusCode,executedVersion,functionError");
  assert_int_at(root, "responseContext", "statusCode", 200);
  assert_str_at(root, "responseContext", "executedVersion", "$LATEST");
  assert_str_at(root, "responseContext", "functionError", "Unhandled");
  assert_str_at(root, "version", NULL, "1.0");
  assert_str_at(root, "timestamp", NULL, "2019-11-14T00:38:06.021Z");
  assert_keys(at(root, "KinesisBatchInfo", NULL),
              "shardId,startSequenceNumber,endSequenceNumber,approximateArrivalOfFirstRecord,"
              "approximateArrivalOfLastRecord,batchSize,streamArn");
  assert_str_at(root, "KinesisBatchInfo", "shardId", "shardId-000000000001");
  assert_str_at(root, "KinesisBatchInfo", "startSequenceNumber", SEQ_START);
  assert_str_at(root, "KinesisBatchInfo", "endSequenceNumber", SEQ_END);
  assert_str_at(root, "KinesisBatchInfo", "approximateArrivalOfFirstRecord",
                "2019-11-14T00:38:04.835Z");
  assert_str_at(root, "KinesisBatchInfo", "approximateArrivalOfLastRecord",
                "2019-11-14T00:38:05.580Z");
  assert_int_at(root, "KinesisBatchInfo", "batchSize", 500);
  assert_str_at(root, "KinesisBatchInfo", "streamArn", STREAM_ARN);
  assert_null(at(root, "payload", NULL));
  yajl_tree_free(root);
  bp_codec_del(c);
}

/* SEMANTICS.md §5.3 example. */
static const char spec53_pretty[] =
    "{\n"
    "  \"requestContext\": {\n"
    "    \"requestId\": \"c9b8fa9f-5a7f-4b2e-af9c-0c604cde93a5\",\n"
    "    \"functionArn\": \"arn:aws:lambda:us-east-2:123456789012:function:myfunction\",\n"
    "    \"condition\": \"RetryAttemptsExhausted\",\n"
    "    \"approximateInvokeCount\": 2\n"
    "  },\n"
    "  \"responseContext\": {\n"
    "    \"statusCode\": 200,\n"
    "    \"executedVersion\": \"$LATEST\",\n"
    "    \"functionError\": \"Unhandled\"\n"
    "  },\n"
    "  \"version\": \"1.0\",\n"
    "  \"timestamp\": \"2025-11-25T16:35:32.021Z\",\n"
    "  \"KinesisBatchInfo\": {\n"
    "    \"shardId\": \"shardId-000000000000\",\n"
    "    \"startSequenceNumber\": \"49601189658422359378836298521827638475320189012309704722\",\n"
    "    \"endSequenceNumber\": \"49601189658422359378836298522902373528957594348623495186\",\n"
    "    \"approximateArrivalOfFirstRecord\": \"2025-11-25T16:35:04.835Z\",\n"
    "    \"approximateArrivalOfLastRecord\": \"2025-11-25T16:35:05.580Z\",\n"
    "    \"batchSize\": 500,\n"
    "    \"streamArn\": \"arn:aws:kinesis:us-east-2:123456789012:stream/mystream\"\n"
    "  }\n"
    "}";

static void test_golden_spec53(void **state) {
  (void)state;
  bp_codec *c = kinesis_codec();
  bp_failure_info f = seed_info();
  f.request_id = "c9b8fa9f-5a7f-4b2e-af9c-0c604cde93a5";
  f.request_id_len = strlen(f.request_id);
  f.approximate_invoke_count = 2;
  f.timestamp_ms = INT64_C(1764088532021);   /* 2025-11-25T16:35:32.021Z */
  f.first_arrival_ms = INT64_C(1764088504835);
  f.last_arrival_ms = INT64_C(1764088505580);
  f.shard_id = "shardId-000000000000";
  char *want = minify(spec53_pretty);
  assert_encodes_to(c, &f, want);
  free(want);
  bp_codec_del(c);
}

/* SEMANTICS.md §5.4: DDBStreamBatchInfo, arrival times in whole seconds (ms truncated). */
static void test_golden_dynamodb(void **state) {
  (void)state;
  bp_codec *c = codec_make(BP_SOURCE_DYNAMODB, FUNCTION_ARN);
  bp_failure_info f = seed_info();
  f.request_id = "c9b8fa9f-5a7f-4b2e-af9c-0c604cde93a5";
  f.request_id_len = strlen(f.request_id);
  f.approximate_invoke_count = 2;
  f.shard_id = "shardId-00000001573689847184-864758bb";
  f.start_seq = "800000000003126276362";
  f.start_seq_len = strlen(f.start_seq);
  f.end_seq = f.start_seq;
  f.end_seq_len = f.start_seq_len;
  f.first_arrival_ms = INT64_C(1573690399999); /* 2019-11-14T00:13:19.999Z */
  f.last_arrival_ms = INT64_C(1573690399000);  /* 2019-11-14T00:13:19.000Z */
  f.batch_size = 1;
  const char *want =
      "{\"requestContext\":{\"requestId\":\"c9b8fa9f-5a7f-4b2e-af9c-0c604cde93a5\","
      "\"functionArn\":\"" FUNCTION_ARN "\",\"condition\":\"RetryAttemptsExhausted\","
      "\"approximateInvokeCount\":2},\"responseContext\":{\"statusCode\":200,"
      "\"executedVersion\":\"$LATEST\",\"functionError\":\"Unhandled\"},\"version\":\"1.0\","
      "\"timestamp\":\"2019-11-14T00:38:06.021Z\",\"DDBStreamBatchInfo\":{"
      "\"shardId\":\"shardId-00000001573689847184-864758bb\","
      "\"startSequenceNumber\":\"800000000003126276362\","
      "\"endSequenceNumber\":\"800000000003126276362\","
      "\"approximateArrivalOfFirstRecord\":\"2019-11-14T00:13:19Z\","
      "\"approximateArrivalOfLastRecord\":\"2019-11-14T00:13:19Z\",\"batchSize\":1,"
      "\"streamArn\":\"" DDB_ARN "\"}}";
  assert_encodes_to(c, &f, want);

  const char *out;
  size_t len;
  assert_int_equal(encode(c, &f, &out, &len), 0);
  yajl_val root = parse_tree(out);
  assert_null(at(root, "KinesisBatchInfo", NULL));
  assert_str_at(root, "DDBStreamBatchInfo", "streamArn", DDB_ARN);
  assert_str_at(root, "DDBStreamBatchInfo", "approximateArrivalOfFirstRecord",
                "2019-11-14T00:13:19Z");
  assert_str_at(root, "timestamp", NULL, "2019-11-14T00:38:06.021Z"); /* keeps its ms */
  yajl_tree_free(root);

  /* RecordAgeExceeded for DynamoDB: same shape without responseContext. */
  f.condition = BP_CONDITION_RECORD_AGE_EXCEEDED;
  f.approximate_invoke_count = 1;
  assert_int_equal(encode(c, &f, &out, &len), 0);
  assert_null(strstr(out, "responseContext"));
  assert_non_null(strstr(out, "\"approximateInvokeCount\":1},\"version\":\"1.0\""));
  bp_codec_del(c);
}

/* Returned-but-failed (§5.3): functionError is JSON null. */
static void test_function_error_null(void **state) {
  (void)state;
  bp_codec *c = kinesis_codec();
  bp_failure_info f = seed_info();
  f.function_error = NULL;
  f.function_error_len = 9; /* ignored with a NULL pointer */
  const char *out;
  size_t len;
  assert_int_equal(encode(c, &f, &out, &len), 0);
  assert_non_null(
      strstr(out, "\"responseContext\":{\"statusCode\":200,\"executedVersion\":\"$LATEST\","
                  "\"functionError\":null},\"version\""));
  yajl_val root = parse_tree(out);
  assert_true(YAJL_IS_NULL(at(root, "responseContext", "functionError")));
  yajl_tree_free(root);

  /* Another host-reported value is written as given (escaped). */
  f.function_error = "Handled";
  f.function_error_len = 7;
  assert_int_equal(encode(c, &f, &out, &len), 0);
  assert_non_null(strstr(out, "\"functionError\":\"Handled\"}"));
  bp_codec_del(c);
}

/* RecordAgeExceeded: no responseContext, whatever the info's response fields hold. */
static void test_record_age_no_response_context(void **state) {
  (void)state;
  bp_codec *c = kinesis_codec();
  bp_failure_info f = seed_info();
  f.condition = BP_CONDITION_RECORD_AGE_EXCEEDED;
  f.batch_size = 1;
  f.end_seq = f.start_seq;
  f.end_seq_len = f.start_seq_len;
  f.function_error = "Unhandled";
  f.function_error_len = 9;
  const char *want =
      "{\"requestContext\":{\"requestId\":\"c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5\","
      "\"functionArn\":\"" FUNCTION_ARN "\",\"condition\":\"RecordAgeExceeded\","
      "\"approximateInvokeCount\":1},\"version\":\"1.0\","
      "\"timestamp\":\"2019-11-14T00:38:06.021Z\",\"KinesisBatchInfo\":{"
      "\"shardId\":\"shardId-000000000001\",\"startSequenceNumber\":\"" SEQ_START "\","
      "\"endSequenceNumber\":\"" SEQ_START "\","
      "\"approximateArrivalOfFirstRecord\":\"2019-11-14T00:38:04.835Z\","
      "\"approximateArrivalOfLastRecord\":\"2019-11-14T00:38:05.580Z\",\"batchSize\":1,"
      "\"streamArn\":\"" STREAM_ARN "\"}}";
  assert_encodes_to(c, &f, want);

  /* Response members are not even looked at: bad values do not matter. */
  f.status_code = -1;
  f.executed_version = "\xff";
  f.executed_version_len = 1;
  f.function_error = "\xc0\xaf";
  f.function_error_len = 2;
  assert_encodes_to(c, &f, want);

  const char *out;
  size_t len;
  assert_int_equal(encode(c, &f, &out, &len), 0);
  yajl_val root = parse_tree(out);
  assert_keys(root, "requestContext,version,timestamp,KinesisBatchInfo");
  assert_str_at(root, "requestContext", "condition", "RecordAgeExceeded");
  yajl_tree_free(root);
  bp_codec_del(c);
}

static void test_executed_version_and_status(void **state) {
  (void)state;
  bp_codec *c = kinesis_codec();
  bp_failure_info f = seed_info();
  const char *out;
  size_t len;

  f.executed_version = NULL; /* default */
  f.executed_version_len = 3;
  assert_int_equal(encode(c, &f, &out, &len), 0);
  assert_non_null(strstr(out, ",\"executedVersion\":\"$LATEST\","));

  f.executed_version = "17";
  f.executed_version_len = 2;
  assert_int_equal(encode(c, &f, &out, &len), 0);
  assert_non_null(strstr(out, ",\"executedVersion\":\"17\","));

  f.executed_version = "";
  f.executed_version_len = 0;
  assert_int_equal(encode(c, &f, &out, &len), 0);
  assert_non_null(strstr(out, ",\"executedVersion\":\"\","));

  f.status_code = 0; /* unset: 200 */
  assert_int_equal(encode(c, &f, &out, &len), 0);
  assert_non_null(strstr(out, "{\"statusCode\":200,"));
  f.status_code = 100;
  assert_int_equal(encode(c, &f, &out, &len), 0);
  assert_non_null(strstr(out, "{\"statusCode\":100,"));
  f.status_code = 599;
  assert_int_equal(encode(c, &f, &out, &len), 0);
  assert_non_null(strstr(out, "{\"statusCode\":599,"));
  bp_codec_del(c);
}

/* Extremes of the numbers and times: exact lengths still hold. */
static void test_extremes(void **state) {
  (void)state;
  bp_codec *c = kinesis_codec();
  bp_failure_info f = seed_info();
  const char *out;
  size_t len;
  f.approximate_invoke_count = UINT32_MAX;
  f.batch_size = UINT32_MAX;
  f.timestamp_ms = BP_TIME_MAX_MS;
  f.first_arrival_ms = 0;
  f.last_arrival_ms = BP_TIME_MAX_MS;
  f.start_seq = "0";
  f.start_seq_len = 1;
  assert_int_equal(encode(c, &f, &out, &len), 0);
  assert_int_equal(len, strlen(out));
  assert_non_null(strstr(out, "\"approximateInvokeCount\":4294967295}"));
  assert_non_null(strstr(out, "\"batchSize\":4294967295,"));
  assert_non_null(strstr(out, "\"timestamp\":\"9999-12-31T23:59:59.999Z\""));
  assert_non_null(strstr(out, "\"approximateArrivalOfFirstRecord\":\"1970-01-01T00:00:00.000Z\""));
  assert_non_null(strstr(out, "\"approximateArrivalOfLastRecord\":\"9999-12-31T23:59:59.999Z\""));
  assert_non_null(strstr(out, "\"startSequenceNumber\":\"0\""));
  yajl_val root = parse_tree(out);
  assert_int_at(root, "KinesisBatchInfo", "batchSize", 4294967295LL);
  yajl_tree_free(root);

  /* Non-monotonic arrival times are reported as given. */
  f.first_arrival_ms = T_SEED_LAST;
  f.last_arrival_ms = T_SEED_FIRST;
  assert_int_equal(encode(c, &f, &out, &len), 0);
  assert_non_null(strstr(out, "\"approximateArrivalOfFirstRecord\":\"2019-11-14T00:38:05.580Z\""));
  bp_codec_del(c);
}

/* A shard id (and other strings) with characters that need escaping. */
static void test_escaping(void **state) {
  (void)state;
  bp_codec *c = kinesis_codec();
  bp_failure_info f = seed_info();
  f.shard_id = "shard\"Id\\1/\x01\xc3\xa9";
  f.request_id = "req\n\"id\"";
  f.request_id_len = strlen(f.request_id);
  f.function_error = "Un\thandled";
  f.function_error_len = strlen(f.function_error);
  const char *out;
  size_t len;
  assert_int_equal(encode(c, &f, &out, &len), 0);
  assert_non_null(strstr(out, "{\"shardId\":\"shard\\\"Id\\\\1/\\u0001\xc3\xa9\","));
  assert_non_null(strstr(out, "{\"requestId\":\"req\\n\\\"id\\\"\","));
  assert_non_null(strstr(out, ",\"functionError\":\"Un\\thandled\"}"));
  yajl_val root = parse_tree(out);
  assert_str_at(root, "KinesisBatchInfo", "shardId", f.shard_id);
  assert_str_at(root, "requestContext", "requestId", f.request_id);
  assert_str_at(root, "responseContext", "functionError", f.function_error);
  yajl_tree_free(root);
  bp_codec_del(c);

  /* ARNs are escaped once, by the codec. */
  bp_codec_opts o = {sizeof(bp_codec_opts), BP_SOURCE_KINESIS, "arn:aws:kinesis:us-east-2:1:stream/s\"q", NULL,
                     ROLE_ARN, "arn:aws:lambda:us-east-2:1:function:f\\n"};
  assert_int_equal(bp_codec_new(&c, &o, NULL), 0);
  f = seed_info();
  assert_int_equal(encode(c, &f, &out, &len), 0);
  assert_non_null(strstr(out, "\"functionArn\":\"arn:aws:lambda:us-east-2:1:function:f\\\\n\","));
  assert_non_null(strstr(out, "\"streamArn\":\"arn:aws:kinesis:us-east-2:1:stream/s\\\"q\"}}"));
  bp_codec_del(c);
}

/* Every ASCII byte in every string field: exact length (else BP_ERR_INTERNAL) and
 * a JSON text that decodes back to the input. */
static void test_escaping_every_ascii_byte(void **state) {
  (void)state;
  bp_codec *c = kinesis_codec();
  for (int b = 1; b < 0x80; b++) {
    char s[4] = {'a', (char)b, 'z', '\0'};
    bp_failure_info f = seed_info();
    f.request_id = s;
    f.request_id_len = 3;
    f.shard_id = s;
    f.executed_version = s;
    f.executed_version_len = 3;
    f.function_error = s;
    f.function_error_len = 3;
    f.payload = s;
    f.payload_len = 3;
    const char *out;
    size_t len;
    int rc = encode(c, &f, &out, &len);
    if (rc) print_error("byte 0x%02x: %d %s\n", b, rc, bp_codec_errmsg(c));
    assert_int_equal(rc, 0);
    assert_int_equal(len, strlen(out));
    yajl_val root = parse_tree(out);
    assert_str_at(root, "requestContext", "requestId", s);
    assert_str_at(root, "KinesisBatchInfo", "shardId", s);
    assert_str_at(root, "responseContext", "executedVersion", s);
    assert_str_at(root, "responseContext", "functionError", s);
    assert_str_at(root, "payload", NULL, s);
    yajl_tree_free(root);
  }
  bp_codec_del(c);
}

/* ---- S3 variant -------------------------------------------------------------------- */

/* Decode the top-level "payload" member with yajl's callbacks (keeps embedded NULs). */
typedef struct payload_ctx {
  int depth;
  int is_payload; /* the last top-level key was "payload" */
  int found;
  int last_key_payload; /* "payload" was the last top-level key seen */
  char *value;
  size_t len;
} payload_ctx;

static int p_string(void *ud, const unsigned char *s, size_t n) {
  payload_ctx *p = ud;
  if (p->depth == 1 && p->is_payload) {
    p->value = malloc(n + 1);
    assert_non_null(p->value);
    memcpy(p->value, s, n);
    p->value[n] = '\0';
    p->len = n;
    p->found++;
  }
  return 1;
}

static int p_key(void *ud, const unsigned char *s, size_t n) {
  payload_ctx *p = ud;
  if (p->depth == 1) {
    p->is_payload = n == 7 && memcmp(s, "payload", 7) == 0;
    p->last_key_payload = p->is_payload;
  }
  return 1;
}

static int p_start(void *ud) {
  ((payload_ctx *)ud)->depth++;
  return 1;
}

static int p_end(void *ud) {
  ((payload_ctx *)ud)->depth--;
  return 1;
}

static void decode_payload(const char *text, size_t n, payload_ctx *ctx) {
  static const yajl_callbacks cb = {NULL, NULL, NULL, NULL, NULL, p_string,
                                    p_start, p_key, p_end, p_start, p_end};
  memset(ctx, 0, sizeof *ctx);
  yajl_handle h = yajl_alloc(&cb, NULL, ctx);
  assert_non_null(h);
  assert_int_equal(yajl_parse(h, (const unsigned char *)text, n), yajl_status_ok);
  assert_int_equal(yajl_complete_parse(h), yajl_status_ok);
  yajl_free(h);
}

static void test_s3_payload(void **state) {
  (void)state;
  bp_codec *c = kinesis_codec();
  bp_failure_info f = seed_info();
  /* quotes, backslashes, every short escape, other control bytes (NUL included), DEL,
   * solidus, and 2-, 3- and 4-byte UTF-8 */
  static const char payload[] =
      "{\"Records\":[{\"data\":\"a\\\"b\\\\c\"}]}\"\\\b\t\n\f\r\x00\x01\x1f\x7f/"
      "\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e";
  const size_t plen = sizeof payload - 1;
  f.payload = payload;
  f.payload_len = plen;
  const char *out;
  size_t len;
  assert_int_equal(encode(c, &f, &out, &len), 0);
  static const char tail[] =
      "\"streamArn\":\"" STREAM_ARN "\"},\"payload\":"
      "\"{\\\"Records\\\":[{\\\"data\\\":\\\"a\\\\\\\"b\\\\\\\\c\\\"}]}\\\"\\\\\\b\\t\\n\\f\\r"
      "\\u0000\\u0001\\u001F\x7f/\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e\"}";
  assert_true(len > sizeof tail);
  assert_string_equal(out + len - (sizeof tail - 1), tail); /* payload is the last member */

  /* Everything before the payload is the SQS record with its closing brace removed. */
  char *with = strndup(out, len);
  assert_non_null(with);
  f.payload = NULL;
  assert_int_equal(encode(c, &f, &out, &len), 0);
  char *without = minify(seed001_pretty);
  assert_string_equal(out, without);
  assert_memory_equal(with, without, len - 1);
  f.payload = payload;

  payload_ctx ctx;
  decode_payload(with, strlen(with), &ctx);
  assert_int_equal(ctx.found, 1);
  assert_true(ctx.last_key_payload);
  assert_int_equal(ctx.len, plen);
  assert_memory_equal(ctx.value, payload, plen);
  free(ctx.value);

  /* The tree view agrees on every other member. */
  yajl_val root = parse_tree(with);
  assert_keys(root, "requestContext,responseContext,version,timestamp,KinesisBatchInfo,payload");
  assert_true(YAJL_IS_STRING(at(root, "payload", NULL)));
  yajl_tree_free(root);
  free(with);
  free(without);

  /* A realistic event payload decodes back to the same JSON text. */
  static const char event[] =
      "{\"Records\":[{\"kinesis\":{\"kinesisSchemaVersion\":\"1.0\",\"partitionKey\":\"1\","
      "\"sequenceNumber\":\"" SEQ_START "\",\"data\":\"SGVsbG8=\","
      "\"approximateArrivalTimestamp\":1573691884.835},\"eventSource\":\"aws:kinesis\"}]}";
  f.payload = event;
  f.payload_len = sizeof event - 1;
  f.condition = BP_CONDITION_RECORD_AGE_EXCEEDED;
  assert_int_equal(encode(c, &f, &out, &len), 0);
  root = parse_tree(out);
  assert_keys(root, "requestContext,version,timestamp,KinesisBatchInfo,payload");
  assert_str_at(root, "payload", NULL, event);
  yajl_val inner = parse_tree(YAJL_GET_STRING(at(root, "payload", NULL)));
  assert_true(YAJL_IS_ARRAY(at(inner, "Records", NULL)));
  yajl_tree_free(inner);
  yajl_tree_free(root);

  /* An empty payload is still a member. */
  f.payload = "";
  f.payload_len = 0;
  assert_int_equal(encode(c, &f, &out, &len), 0);
  assert_true(len > 15);
  assert_string_equal(out + len - 15, "},\"payload\":\"\"}");
  bp_codec_del(c);
}

/* The output buffer is reused: a large record then a small one are both exact. */
static void test_buffer_reuse(void **state) {
  (void)state;
  bp_codec *c = kinesis_codec();
  bp_failure_info f = seed_info();
  size_t big = 100000;
  char *payload = malloc(big);
  assert_non_null(payload);
  for (size_t i = 0; i < big; i++) payload[i] = (char)(i % 3 == 0 ? '"' : 'x');
  f.payload = payload;
  f.payload_len = big;
  const char *out;
  size_t len;
  assert_int_equal(encode(c, &f, &out, &len), 0);
  size_t quotes = (big + 2) / 3;
  assert_int_equal(len, strlen(out));
  f.payload = NULL;
  size_t small_len;
  const char *small;
  assert_int_equal(encode(c, &f, &small, &small_len), 0);
  char *want = minify(seed001_pretty);
  assert_string_equal(small, want);
  assert_int_equal(len, small_len + strlen(",\"payload\":\"\"") + big + quotes);
  free(want);
  free(payload);
  bp_codec_del(c);
}

/* ---- validation ------------------------------------------------------------------- */

static void expect_error(bp_codec *c, const bp_failure_info *f, int code, const char *msg) {
  const char *out = (const char *)1;
  size_t len = 12345;
  int rc = bp_codec_encode_failure(c, f, &out, &len);
  if (rc != code) print_error("expected %d, got %d (%s)\n", code, rc, bp_codec_errmsg(c));
  assert_int_equal(rc, code);
  assert_true(out == (const char *)1); /* outputs untouched on error */
  assert_int_equal(len, 12345);
  if (msg) {
    if (!strstr(bp_codec_errmsg(c), msg))
      print_error("message \"%s\" lacks \"%s\"\n", bp_codec_errmsg(c), msg);
    assert_non_null(strstr(bp_codec_errmsg(c), msg));
  }
}

static void test_validation(void **state) {
  (void)state;
  bp_codec *c = kinesis_codec();
  bp_failure_info f = BP_FAILURE_INFO_INIT;
  const char *out;
  size_t len;

  /* NULL arguments */
  f = seed_info();
  assert_int_equal(bp_codec_encode_failure(NULL, &f, &out, &len), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_codec_encode_failure(c, NULL, &out, &len), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_codec_encode_failure(c, &f, NULL, &len), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_codec_encode_failure(c, &f, &out, NULL), BP_ERR_INVALID_ARGUMENT);
  assert_string_not_equal(bp_codec_errmsg(c), "");

  /* condition */
  f = seed_info();
  f.condition = 0;
  expect_error(c, &f, BP_ERR_INVALID_ARGUMENT, "condition");
  f.condition = 3;
  expect_error(c, &f, BP_ERR_INVALID_ARGUMENT, "condition");

  /* counts */
  f = seed_info();
  f.approximate_invoke_count = 0;
  expect_error(c, &f, BP_ERR_INVALID_ARGUMENT, "approximateInvokeCount");
  f = seed_info();
  f.batch_size = 0;
  expect_error(c, &f, BP_ERR_INVALID_ARGUMENT, "batchSize");

  /* requestId */
  f = seed_info();
  f.request_id = NULL;
  expect_error(c, &f, BP_ERR_INVALID_ARGUMENT, "requestId");
  f = seed_info();
  f.request_id = "ab\xed\xa0\x80"; /* a surrogate */
  f.request_id_len = 5;
  expect_error(c, &f, BP_ERR_INVALID_UTF8, "requestId");

  /* shardId */
  f = seed_info();
  f.shard_id = NULL;
  expect_error(c, &f, BP_ERR_INVALID_ARGUMENT, "shardId");
  f = seed_info();
  f.shard_id = "shard\xc0\xaf"; /* overlong */
  expect_error(c, &f, BP_ERR_INVALID_UTF8, "shardId");

  /* sequence numbers */
  f = seed_info();
  f.start_seq = NULL;
  expect_error(c, &f, BP_ERR_INVALID_ARGUMENT, "startSequenceNumber");
  f = seed_info();
  f.end_seq = NULL;
  expect_error(c, &f, BP_ERR_INVALID_ARGUMENT, "endSequenceNumber");
  f = seed_info();
  f.start_seq = "0123";
  f.start_seq_len = 4;
  expect_error(c, &f, BP_ERR_INVALID_SEQNUM, "startSequenceNumber");
  f = seed_info();
  f.start_seq_len = 0;
  expect_error(c, &f, BP_ERR_INVALID_SEQNUM, "startSequenceNumber");
  f = seed_info();
  f.end_seq = "12a";
  f.end_seq_len = 3;
  expect_error(c, &f, BP_ERR_INVALID_SEQNUM, "endSequenceNumber");
  f = seed_info();
  f.end_seq = "-1";
  f.end_seq_len = 2;
  expect_error(c, &f, BP_ERR_INVALID_SEQNUM, "endSequenceNumber");
  char digits[130];
  memset(digits, '9', sizeof digits);
  f = seed_info();
  f.end_seq = digits;
  f.end_seq_len = 129; /* one more than BP_MAX_SEQNUM_DIGITS */
  expect_error(c, &f, BP_ERR_INVALID_SEQNUM, "endSequenceNumber");
  f.end_seq_len = 128;
  assert_int_equal(encode(c, &f, &out, &len), 0);

  /* start > end: numerically, not by bytes */
  f = seed_info();
  f.start_seq = "10";
  f.start_seq_len = 2;
  f.end_seq = "9";
  f.end_seq_len = 1;
  expect_error(c, &f, BP_ERR_INVALID_ARGUMENT, "greater");
  f.start_seq = "9";
  f.start_seq_len = 1;
  f.end_seq = "10";
  f.end_seq_len = 2;
  assert_int_equal(encode(c, &f, &out, &len), 0);
  f = seed_info();
  f.start_seq = SEQ_END;
  f.end_seq = SEQ_START;
  expect_error(c, &f, BP_ERR_INVALID_ARGUMENT, "greater");

  /* times */
  f = seed_info();
  f.timestamp_ms = -1;
  expect_error(c, &f, BP_ERR_RANGE, "timestamp");
  f = seed_info();
  f.timestamp_ms = BP_TIME_MAX_MS + 1;
  expect_error(c, &f, BP_ERR_RANGE, "timestamp");
  f = seed_info();
  f.first_arrival_ms = INT64_MIN;
  expect_error(c, &f, BP_ERR_RANGE, "approximateArrivalOfFirstRecord");
  f = seed_info();
  f.last_arrival_ms = INT64_MAX;
  expect_error(c, &f, BP_ERR_RANGE, "approximateArrivalOfLastRecord");

  /* responseContext members (RetryAttemptsExhausted only) */
  f = seed_info();
  f.status_code = 99;
  expect_error(c, &f, BP_ERR_INVALID_ARGUMENT, "statusCode");
  f.status_code = 600;
  expect_error(c, &f, BP_ERR_INVALID_ARGUMENT, "statusCode");
  f.status_code = -200;
  expect_error(c, &f, BP_ERR_INVALID_ARGUMENT, "statusCode");
  f = seed_info();
  f.executed_version = "\x80";
  f.executed_version_len = 1;
  expect_error(c, &f, BP_ERR_INVALID_UTF8, "executedVersion");
  f = seed_info();
  f.function_error = "Unhandled\xf4\x90\x80\x80"; /* > U+10FFFF */
  f.function_error_len = 13;
  expect_error(c, &f, BP_ERR_INVALID_UTF8, "functionError");

  /* payload */
  f = seed_info();
  f.payload = "{\"Records\":[\xe2\x82]}"; /* truncated sequence */
  f.payload_len = strlen(f.payload);
  expect_error(c, &f, BP_ERR_INVALID_UTF8, "payload");
  f.condition = BP_CONDITION_RECORD_AGE_EXCEEDED;
  expect_error(c, &f, BP_ERR_INVALID_UTF8, "payload");

  /* the codec recovers: a valid call succeeds and clears the message */
  f = seed_info();
  char *want = minify(seed001_pretty);
  assert_encodes_to(c, &f, want);
  free(want);
  bp_codec_del(c);

  /* a codec without function_arn cannot write failure records */
  c = codec_make(BP_SOURCE_KINESIS, NULL);
  f = seed_info();
  expect_error(c, &f, BP_ERR_INVALID_ARGUMENT, "function_arn");
  bp_codec_del(c);
  c = codec_make(BP_SOURCE_DYNAMODB, NULL);
  expect_error(c, &f, BP_ERR_INVALID_ARGUMENT, "function_arn");
  bp_codec_del(c);
}

/* ---- S3 object key ------------------------------------------------------------------ */

#define ESM_UUID "2b733gdc-8ac3-cdf5-af3a-1827b3b11284"
#define OBJ_UUID "0f8fad5b-d9cb-469f-a165-70867728950e"
#define SEED_KEY                                                                 \
  "aws/lambda/" ESM_UUID "/shardId-000000000001/2019/11/14/2019-11-14T00.38.06-" \
  OBJ_UUID

static void test_s3_key(void **state) {
  (void)state;
  char buf[256];
  const size_t n = strlen(SEED_KEY);
  int rc = bp_failure_s3_key(ESM_UUID, "shardId-000000000001", T_SEED_TS, OBJ_UUID, buf,
                             sizeof buf);
  assert_int_equal(rc, (int)n);
  assert_string_equal(buf, SEED_KEY);

  /* exact fit (text + NUL) */
  memset(buf, 'X', sizeof buf);
  rc = bp_failure_s3_key(ESM_UUID, "shardId-000000000001", T_SEED_TS, OBJ_UUID, buf, n + 1);
  assert_int_equal(rc, (int)n);
  assert_string_equal(buf, SEED_KEY);
  assert_int_equal(buf[n + 1], 'X');

  /* one byte short: error, buffer untouched */
  memset(buf, 'X', sizeof buf);
  rc = bp_failure_s3_key(ESM_UUID, "shardId-000000000001", T_SEED_TS, OBJ_UUID, buf, n);
  assert_int_equal(rc, BP_ERR_BUFFER_TOO_SMALL);
  for (size_t i = 0; i < sizeof buf; i++) assert_int_equal(buf[i], 'X');
  assert_int_equal(bp_failure_s3_key(ESM_UUID, "s", T_SEED_TS, OBJ_UUID, buf, 0),
                   BP_ERR_BUFFER_TOO_SMALL);

  /* seconds truncated, UTC, zero padding, leap day, range ends */
  rc = bp_failure_s3_key("e", "s", INT64_C(1709251199999), "u", buf, sizeof buf);
  assert_string_equal(buf, "aws/lambda/e/s/2024/02/29/2024-02-29T23.59.59-u");
  assert_int_equal(rc, (int)strlen(buf));
  rc = bp_failure_s3_key("e", "s", 0, "u", buf, sizeof buf);
  assert_string_equal(buf, "aws/lambda/e/s/1970/01/01/1970-01-01T00.00.00-u");
  rc = bp_failure_s3_key("e", "s", BP_TIME_MAX_MS, "u", buf, sizeof buf);
  assert_string_equal(buf, "aws/lambda/e/s/9999/12/31/9999-12-31T23.59.59-u");
  assert_int_equal(rc, (int)strlen(buf));

  /* DynamoDB shard ids and non-ASCII components are kept as-is */
  rc = bp_failure_s3_key(ESM_UUID, "shardId-00000001573689847184-864758bb",
                         INT64_C(1573690399000), OBJ_UUID, buf, sizeof buf);
  assert_string_equal(buf, "aws/lambda/" ESM_UUID
                           "/shardId-00000001573689847184-864758bb/2019/11/14/"
                           "2019-11-14T00.13.19-" OBJ_UUID);
  rc = bp_failure_s3_key("e", "s\xc3\xa9", 0, "u", buf, sizeof buf);
  assert_int_equal(rc, (int)strlen(buf));

  /* the key's time is the record's timestamp (seconds truncated, ':' -> '.') */
  bp_codec *c = kinesis_codec();
  bp_failure_info f = seed_info();
  const char *out;
  size_t len;
  assert_int_equal(encode(c, &f, &out, &len), 0);
  const char *ts = strstr(out, "\"timestamp\":\"") + 13;
  char expect_time[20];
  memcpy(expect_time, ts, 19);
  expect_time[19] = '\0';
  expect_time[13] = expect_time[16] = '.';
  rc = bp_failure_s3_key(ESM_UUID, f.shard_id, f.timestamp_ms, OBJ_UUID, buf, sizeof buf);
  assert_non_null(strstr(buf, expect_time));
  bp_codec_del(c);

  /* invalid arguments */
  assert_int_equal(bp_failure_s3_key(NULL, "s", 0, "u", buf, sizeof buf),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_failure_s3_key("e", NULL, 0, "u", buf, sizeof buf),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_failure_s3_key("e", "s", 0, NULL, buf, sizeof buf),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_failure_s3_key("e", "s", 0, "u", NULL, 100), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_failure_s3_key("", "s", 0, "u", buf, sizeof buf),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_failure_s3_key("e", "", 0, "u", buf, sizeof buf),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_failure_s3_key("e", "s", 0, "", buf, sizeof buf),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_failure_s3_key("e", "a/b", 0, "u", buf, sizeof buf),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_failure_s3_key("e/", "s", 0, "u", buf, sizeof buf),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_failure_s3_key("e", "s\xff", 0, "u", buf, sizeof buf),
                   BP_ERR_INVALID_ARGUMENT);
  /* argument errors come before range and size errors */
  assert_int_equal(bp_failure_s3_key("e", "s", -1, "u", NULL, 0), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_failure_s3_key("e", "s", -1, "u", buf, sizeof buf), BP_ERR_RANGE);
  assert_int_equal(bp_failure_s3_key("e", "s", BP_TIME_MAX_MS + 1, "u", buf, sizeof buf),
                   BP_ERR_RANGE);
  assert_int_equal(bp_failure_s3_key("e", "s", -1, "u", buf, 1), BP_ERR_RANGE);
}

/* ---- allocation failures ---------------------------------------------------------------- */

static int failmalloc_scenario(const bp_allocator *hooks, void *ctx) {
  (void)ctx;
  bp_codec_opts o = {sizeof(bp_codec_opts), BP_SOURCE_KINESIS, STREAM_ARN, NULL, ROLE_ARN, FUNCTION_ARN};
  bp_codec *c = NULL;
  int rc = bp_codec_new(&c, &o, hooks);
  if (rc) {
    assert_null(c);
    return rc;
  }
  bp_failure_info f = seed_info();
  const char *out = NULL;
  size_t len = 0;
  rc = bp_codec_encode_failure(c, &f, &out, &len);
  if (!rc) {
    char *want = minify(seed001_pretty);
    assert_string_equal(out, want);
    free(want);
    /* a second, larger record grows the buffer */
    char payload[4000];
    memset(payload, '\n', sizeof payload);
    f.payload = payload;
    f.payload_len = sizeof payload;
    rc = bp_codec_encode_failure(c, &f, &out, &len);
    if (!rc) assert_int_equal(len, strlen(out));
  }
  if (rc) assert_int_equal(rc, BP_ERR_NOMEM);
  bp_codec_del(c);
  return rc;
}

static void test_failmalloc(void **state) {
  (void)state;
  test_alloc_failmalloc(failmalloc_scenario, NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_golden_seed001),
      cmocka_unit_test(test_golden_spec53),
      cmocka_unit_test(test_golden_dynamodb),
      cmocka_unit_test(test_function_error_null),
      cmocka_unit_test(test_record_age_no_response_context),
      cmocka_unit_test(test_executed_version_and_status),
      cmocka_unit_test(test_extremes),
      cmocka_unit_test(test_escaping),
      cmocka_unit_test(test_escaping_every_ascii_byte),
      cmocka_unit_test(test_s3_payload),
      cmocka_unit_test(test_buffer_reuse),
      cmocka_unit_test(test_validation),
      cmocka_unit_test(test_s3_key),
      cmocka_unit_test(test_failmalloc),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
