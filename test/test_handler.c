/* SPDX-License-Identifier: MIT */
/* The function-side processor: record views of Kinesis and DynamoDB events (seed samples,
 * SEMANTICS.md §1.3, escapes), the response, full batch failure, stop at the first failure,
 * failure reasons, tumbling windows and state, malformed events with their paths, a round trip
 * through the codec's encoder, failmalloc and no allocation per record when warm. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "batchpoint.h"
#include "test_alloc.h"
#include "test_json.h"

#define SEED_001 BP_TEST_DATA_DIR "/001_c18a7f979ab6fc2b.txt"

#define S(lit) lit, sizeof lit - 1

/* ---- A callback that copies what it sees and fails the records it is told to ---- */

#define MAX_SEEN 64
typedef struct seen_rec {
  bp_handler_record v;
  char data[256];
  char pk[64];
} seen_rec;

typedef struct cb_ctx {
  size_t calls;
  seen_rec seen[MAX_SEEN];
  uint64_t fail_mask; /* bit i: fail record i */
  int fail_all;
  const char *reason;
  const char *state; /* set_state from the callback of record 0 */
} cb_ctx;

static int collect(bp_handler *h, const bp_handler_record *r, void *ud) {
  cb_ctx *c = ud;
  assert_int_equal(r->struct_size, sizeof *r);
  assert_int_equal(r->index, c->calls);
  if (c->calls < MAX_SEEN) {
    seen_rec *s = &c->seen[c->calls];
    s->v = *r;
    if (r->data && r->data_len < sizeof s->data) memcpy(s->data, r->data, r->data_len);
  }
  size_t i = c->calls++;
  /* (failmalloc runs may see BP_ERR_NOMEM here) */
  if (c->state && i == 0) {
    int rc = bp_handler_set_state(h, c->state, strlen(c->state));
    assert_true(rc == 0 || rc == BP_ERR_NOMEM);
  }
  int fail = c->fail_all || (i < 64 && (c->fail_mask >> i & 1));
  if (fail && c->reason) {
    int rc = bp_handler_fail_reason(h, c->reason, strlen(c->reason));
    assert_true(rc == 0 || rc == BP_ERR_NOMEM);
  }
  return fail;
}

static bp_handler *new_handler(uint32_t flags) {
  bp_handler_opts o = BP_HANDLER_OPTS_INIT;
  o.flags = flags;
  bp_handler *h;
  assert_int_equal(bp_handler_new(&h, &o, NULL), 0);
  return h;
}

static int process(bp_handler *h, const char *ev, cb_ctx *c, const char **resp) {
  size_t len;
  int rc = bp_handler_process(h, ev, strlen(ev), collect, c, resp, &len);
  if (*resp) assert_int_equal(strlen(*resp), len);
  return rc;
}

static void assert_span(const char *p, size_t n, const char *want) {
  assert_non_null(p);
  if (n != strlen(want) || memcmp(p, want, n) != 0)
    fail_msg("got '%.*s', want '%s'", (int)n, p, want);
}

/* ---- Seed 001 and the SEMANTICS.md §1.3 examples ---- */

static void test_seed_001(void **state) {
  (void)state;
  char *doc = test_read_file(SEED_001, NULL);
  assert_non_null(doc);
  char *ev = test_extract_object(doc, "\"Records\"");
  assert_non_null(ev);
  bp_handler *h = new_handler(0);
  cb_ctx c = {.fail_mask = 2};
  const char *resp;
  assert_int_equal(process(h, ev, &c, &resp), 0);
  assert_int_equal(c.calls, 2);
  bp_handler_record *r = &c.seen[0].v;
  assert_int_equal(r->source, BP_SOURCE_KINESIS);
  assert_string_equal(c.seen[0].data, "Hello, this is a test.");
  assert_string_equal(c.seen[1].data, "This is only a test.");
  assert_span(r->seq, r->seq_len, "49590338271490256608559692538361571095921575989136588898");
  assert_int_equal(r->arrival_ms, 1545084650987);
  assert_span(r->arrival_text, r->arrival_text_len, "1545084650.987");
  assert_span(r->partition_key, r->partition_key_len, "1");
  assert_span(r->kinesis_schema_version, r->kinesis_schema_version_len, "1.0");
  assert_span(r->data_base64, r->data_base64_len, "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==");
  assert_null(r->encryption_type);
  assert_span(r->event_source, r->event_source_len, "aws:kinesis");
  assert_span(r->event_version, r->event_version_len, "1.0");
  assert_span(r->event_id, r->event_id_len,
              "shardId-000000000006:49590338271490256608559692538361571095921575989136588898");
  assert_span(r->event_name, r->event_name_len, "aws:kinesis:record");
  assert_span(r->invoke_identity_arn, r->invoke_identity_arn_len,
              "arn:aws:iam::123456789012:role/lambda-role");
  assert_span(r->aws_region, r->aws_region_len, "us-east-2");
  assert_span(r->event_source_arn, r->event_source_arn_len,
              "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream");
  assert_null(r->dynamodb_json);
  assert_int_equal(c.seen[1].v.arrival_ms, 1545084711166);
  assert_string_equal(resp, "{\"batchItemFailures\":[{\"itemIdentifier\":"
                            "\"49590338271490256608559692540925702759324208523137515618\"}]}");
  bp_handler_del(h);
  free(ev);
  free(doc);
}

static const char KIN_EXAMPLE[] =
    "{\"Records\":[{\"kinesis\":{\"kinesisSchemaVersion\":\"1.0\",\"partitionKey\":\"test\","
    "\"sequenceNumber\":\"49651234567890123456789012345678901234567890123456789010\",\n"
    " \"data\":\"aGVsbG8=\",\"approximateArrivalTimestamp\":1732550400.123,"
    "\"encryptionType\":\"KMS\"},\n"
    " \"eventSource\":\"aws:kinesis\",\"eventVersion\":\"1.0\",\n"
    " \"eventID\":\"shardId-000000000000:49651234567890123456789012345678901234567890123456789010\",\n"
    " \"eventName\":\"aws:kinesis:record\",\"invokeIdentityArn\":\"arn:aws:iam::111111111111:role/fn-role\",\n"
    " \"awsRegion\":\"us-east-1\",\"eventSourceARN\":\"arn:aws:kinesis:us-east-1:111111111111:stream/s1\"}]}";

static const char DDB_EXAMPLE[] =
    "{\"Records\":[{\"eventID\":\"c81e728d9d4c2f636f067f89cc14862c\",\"eventName\":\"INSERT\","
    "\"eventVersion\":\"1.1\",\"eventSource\":\"aws:dynamodb\",\n \"awsRegion\":\"us-east-1\",\n"
    " \"dynamodb\":{\"ApproximateCreationDateTime\":1732550400.000,\"Keys\":{\"pk\":{\"S\":\"hello world\"}},\n"
    "  \"NewImage\":{\"pk\":{\"S\":\"hello world\"},\"bin\":{\"B\":\"Zm9vYmFy\"}},"
    "\"SequenceNumber\":\"100000000000000000001\",\"SizeBytes\":70,\"StreamViewType\":\"NEW_IMAGE\"},\n"
    " \"eventSourceARN\":\"arn:aws:dynamodb:us-east-1:111111111111:table/t1/stream/2025-11-25T15:00:00.000\","
    "\"userIdentity\":{\"type\":\"Service\",\"principalId\":\"dynamodb.amazonaws.com\"}}]}";

static void test_semantics_examples(void **state) {
  (void)state;
  bp_handler *h = new_handler(0);
  cb_ctx c = {0};
  const char *resp;
  assert_int_equal(process(h, KIN_EXAMPLE, &c, &resp), 0);
  bp_handler_record *r = &c.seen[0].v;
  assert_string_equal(c.seen[0].data, "hello");
  assert_int_equal(r->data_len, 5);
  assert_int_equal(r->arrival_ms, 1732550400123);
  assert_span(r->encryption_type, r->encryption_type_len, "KMS");
  assert_string_equal(resp, "{\"batchItemFailures\":[]}");

  memset(&c, 0, sizeof c);
  c.fail_mask = 1;
  assert_int_equal(process(h, DDB_EXAMPLE, &c, &resp), BP_ERR_BATCH_FAILED);
  assert_string_equal(resp, "{\"batchItemFailures\":[{\"itemIdentifier\":\"100000000000000000001\"}]}");
  r = &c.seen[0].v;
  assert_int_equal(r->source, BP_SOURCE_DYNAMODB);
  assert_span(r->event_id, r->event_id_len, "c81e728d9d4c2f636f067f89cc14862c");
  assert_span(r->event_name, r->event_name_len, "INSERT");
  assert_span(r->event_version, r->event_version_len, "1.1");
  assert_span(r->event_source, r->event_source_len, "aws:dynamodb");
  assert_span(r->aws_region, r->aws_region_len, "us-east-1");
  assert_span(r->event_source_arn, r->event_source_arn_len,
              "arn:aws:dynamodb:us-east-1:111111111111:table/t1/stream/2025-11-25T15:00:00.000");
  assert_null(r->invoke_identity_arn);
  assert_span(r->seq, r->seq_len, "100000000000000000001");
  assert_int_equal(r->arrival_ms, 1732550400000);
  assert_span(r->arrival_text, r->arrival_text_len, "1732550400.000");
  assert_span(r->keys_json, r->keys_json_len, "{\"pk\":{\"S\":\"hello world\"}}");
  assert_span(r->new_image_json, r->new_image_json_len,
              "{\"pk\":{\"S\":\"hello world\"},\"bin\":{\"B\":\"Zm9vYmFy\"}}");
  assert_null(r->old_image_json);
  assert_span(r->stream_view_type, r->stream_view_type_len, "NEW_IMAGE");
  assert_int_equal(r->size_bytes, 70);
  assert_span(r->user_identity_json, r->user_identity_json_len,
              "{\"type\":\"Service\",\"principalId\":\"dynamodb.amazonaws.com\"}");
  assert_non_null(r->dynamodb_json);
  assert_true(r->dynamodb_json_len > 10 && r->dynamodb_json[0] == '{' &&
              r->dynamodb_json[r->dynamodb_json_len - 1] == '}');
  assert_null(r->data);
  assert_int_equal(r->aggregated, 0);
  assert_int_equal(bp_handler_failure_count(h), 1);
  assert_string_equal(bp_err_name(BP_ERR_BATCH_FAILED), "BP_ERR_BATCH_FAILED");
  bp_handler_del(h);
}

/* ---- A generated Kinesis event ---- */

static char *kinesis_event(size_t n, const char *extra_top) {
  size_t cap = 600 * n + 400, len = 0;
  char *t = malloc(cap);
  assert_non_null(t);
  len += (size_t)snprintf(t, cap, "{\"Records\":[");
  for (size_t i = 0; i < n; i++) {
    char data[32], b64[64];
    int dn = snprintf(data, sizeof data, "{\"id\":%zu}", i);
    size_t w;
    assert_int_equal(bp_base64_encode((const uint8_t *)data, (size_t)dn, b64, sizeof b64, &w), 0);
    b64[w] = '\0';
    len += (size_t)snprintf(
        t + len, cap - len,
        "%s{\"kinesis\":{\"kinesisSchemaVersion\":\"1.0\",\"partitionKey\":\"pk-%zu\","
        "\"sequenceNumber\":\"%zu\",\"data\":\"%s\",\"approximateArrivalTimestamp\":%zu.5},"
        "\"eventSource\":\"aws:kinesis\",\"eventVersion\":\"1.0\",\"eventID\":\"shardId-0:%zu\","
        "\"eventName\":\"aws:kinesis:record\",\"invokeIdentityArn\":\"arn:aws:iam::1:role/r\","
        "\"awsRegion\":\"us-east-1\",\"eventSourceARN\":\"arn:aws:kinesis:us-east-1:1:stream/s\"}",
        i ? "," : "", i, 1000 + i, b64, 1600000000 + i, 1000 + i);
  }
  len += (size_t)snprintf(t + len, cap - len, "]%s}", extra_top ? extra_top : "");
  return t;
}

static void test_response_rules(void **state) {
  (void)state;
  bp_handler *h = new_handler(0);
  const char *resp;
  cb_ctx c = {0};
  /* empty Records */
  assert_int_equal(process(h, "{\"Records\":[]}", &c, &resp), 0);
  assert_string_equal(resp, "{\"batchItemFailures\":[]}");
  assert_int_equal(c.calls, 0);
  char *ev = kinesis_event(5, NULL);
  /* some fail, in record order */
  c = (cb_ctx){.fail_mask = 0x16, .reason = "boom"};
  assert_int_equal(process(h, ev, &c, &resp), 0);
  assert_int_equal(c.calls, 5);
  assert_string_equal(resp, "{\"batchItemFailures\":[{\"itemIdentifier\":\"1001\"},"
                            "{\"itemIdentifier\":\"1002\"},{\"itemIdentifier\":\"1004\"}]}");
  assert_int_equal(bp_handler_failure_count(h), 3);
  bp_handler_failure f = BP_HANDLER_FAILURE_INIT;
  assert_int_equal(bp_handler_get_failure(h, 2, &f), 0);
  assert_int_equal(f.index, 4);
  assert_int_equal(f.skipped, 0);
  assert_span(f.seq, f.seq_len, "1004");
  assert_span(f.reason, f.reason_len, "boom");
  assert_int_equal(bp_handler_get_failure(h, 3, &f), BP_ERR_INVALID_ARGUMENT);
  const char *again;
  size_t again_len;
  assert_int_equal(bp_handler_response(h, &again, &again_len), 0);
  assert_ptr_equal(again, resp);
  /* the data of each record */
  assert_string_equal(c.seen[3].data, "{\"id\":3}");
  assert_int_equal(c.seen[3].v.arrival_ms, 1600000003500);
  /* all fail: BP_ERR_BATCH_FAILED, the response still there */
  c = (cb_ctx){.fail_all = 1};
  assert_int_equal(process(h, ev, &c, &resp), BP_ERR_BATCH_FAILED);
  assert_non_null(resp);
  assert_non_null(strstr(resp, "\"1000\"") && strstr(resp, "\"1004\""));
  assert_int_equal(bp_handler_failure_count(h), 5);
  /* none fail */
  c = (cb_ctx){0};
  assert_int_equal(process(h, ev, &c, &resp), 0);
  assert_string_equal(resp, "{\"batchItemFailures\":[]}");
  assert_int_equal(bp_handler_failure_count(h), 0);
  bp_handler_del(h);

  /* stop at the first failure: no further callback, every later record failed */
  h = new_handler(BP_HANDLER_STOP_AT_FIRST_FAILURE);
  c = (cb_ctx){.fail_mask = 0x4};
  assert_int_equal(process(h, ev, &c, &resp), 0);
  assert_int_equal(c.calls, 3);
  assert_string_equal(resp, "{\"batchItemFailures\":[{\"itemIdentifier\":\"1002\"},"
                            "{\"itemIdentifier\":\"1003\"},{\"itemIdentifier\":\"1004\"}]}");
  assert_int_equal(bp_handler_get_failure(h, 1, &f), 0);
  assert_int_equal(f.skipped, 1);
  assert_null(f.reason);
  c = (cb_ctx){.fail_mask = 0x1};
  assert_int_equal(process(h, ev, &c, &resp), BP_ERR_BATCH_FAILED);
  assert_int_equal(c.calls, 1);
  bp_handler_del(h);
  free(ev);
}

/* ---- Tumbling windows ---- */

static void test_tumbling(void **state) {
  (void)state;
  bp_handler *h = new_handler(0);
  char *ev = kinesis_event(
      2, ",\"window\":{\"start\":\"2020-12-09T07:04:00Z\",\"end\":\"2020-12-09T07:06:00Z\"},"
         "\"state\":{\"sum\": 3},\"shardId\":\"shardId-000000000006\","
         "\"eventSourceARN\":\"arn:aws:kinesis:us-east-1:1:stream/s\","
         "\"isFinalInvokeForWindow\":false,\"isWindowTerminatedEarly\":true");
  const char *resp;
  cb_ctx c = {.fail_mask = 2};
  assert_int_equal(process(h, ev, &c, &resp), 0);
  /* the event's state passes through when the function sets none */
  assert_string_equal(resp, "{\"state\":{\"sum\": 3},\"batchItemFailures\":"
                            "[{\"itemIdentifier\":\"1001\"}]}");
  bp_handler_window w = BP_HANDLER_WINDOW_INIT;
  assert_int_equal(bp_handler_get_window(h, &w), 1);
  assert_int_equal(w.start_ms, 1607497440000);
  assert_int_equal(w.end_ms, 1607497560000);
  assert_span(w.state_json, w.state_json_len, "{\"sum\": 3}");
  assert_span(w.shard_id, w.shard_id_len, "shardId-000000000006");
  assert_span(w.event_source_arn, w.event_source_arn_len, "arn:aws:kinesis:us-east-1:1:stream/s");
  assert_int_equal(w.is_final, 0);
  assert_int_equal(w.is_terminated_early, 1);
  /* set from the callback */
  c = (cb_ctx){.state = "{\"sum\":5}"};
  assert_int_equal(process(h, ev, &c, &resp), 0);
  assert_string_equal(resp, "{\"state\":{\"sum\":5},\"batchItemFailures\":[]}");
  /* set after: the response is rebuilt */
  assert_int_equal(bp_handler_set_state(h, S("{\"a\":[1,{\"b\":null}]}")), 0);
  size_t len;
  assert_int_equal(bp_handler_response(h, &resp, &len), 0);
  assert_string_equal(resp, "{\"state\":{\"a\":[1,{\"b\":null}]},\"batchItemFailures\":[]}");
  assert_int_equal(bp_handler_set_state(h, S("[1]")), BP_ERR_INVALID_JSON);
  assert_int_equal(bp_handler_set_state(h, S("{\"a\":1} x")), BP_ERR_INVALID_JSON);
  assert_int_equal(bp_handler_set_state(h, S("{\"a\":")), BP_ERR_INVALID_JSON);
  free(ev);
  /* a final invocation: no records, no state member (then {}) */
  const char *fin = "{\"Records\":[],\"window\":{\"start\":\"2020-12-09T07:04:00.250Z\","
                    "\"end\":\"2020-12-09T07:06:00Z\"},\"shardId\":\"s\","
                    "\"isFinalInvokeForWindow\":true}";
  c = (cb_ctx){0};
  assert_int_equal(process(h, fin, &c, &resp), 0);
  assert_string_equal(resp, "{\"state\":{},\"batchItemFailures\":[]}");
  assert_int_equal(bp_handler_get_window(h, &w), 1);
  assert_int_equal(w.is_final, 1);
  assert_int_equal(w.start_ms, 1607497440250);
  assert_null(w.event_source_arn);
  /* not a window event */
  assert_int_equal(process(h, "{\"Records\":[]}", &c, &resp), 0);
  assert_int_equal(bp_handler_get_window(h, &w), 0);
  assert_int_equal(w.start_ms, 0);
  /* a state set for a plain event is carried too */
  assert_int_equal(bp_handler_set_state(h, S("{}")), 0);
  assert_int_equal(bp_handler_response(h, &resp, &len), 0);
  assert_string_equal(resp, "{\"state\":{},\"batchItemFailures\":[]}");
  bp_handler_del(h);
}

/* ---- Escapes and unusual spellings ---- */

static void test_escapes(void **state) {
  (void)state;
  const char *ev =
      "{ \"Records\" : [ {\"kinesis\":{\"kinesisSchemaVersion\":\"1.0\","
      "\"partitionKey\":\"caf\\u00e9 \\\"q\\\" \\ud83d\\ude00 \\/ \\\\ \\n\","
      "\"sequenceNumber\":\"\\u0031\\u0032\",\"data\":\"\\u0061GVsbG8=\","
      "\"approximateArrivalTimestamp\":1.5e9,\"extra\":{\"x\":[true,false,null,-1.5E-3,\"s\"]}},"
      "\"eventSource\":\"aws:\\u006binesis\",\"eventVersion\":\"1.0\",\"eventID\":\"a\\tb\","
      "\"eventName\":\"n\",\"invokeIdentityArn\":\"i\",\"awsRegion\":\"r\",\"eventSourceARN\":\"a\","
      "\"\\u0065ventName\":\"é\"}],\"other\":[{}] } \r\n\t";
  bp_handler *h = new_handler(0);
  cb_ctx c = {.fail_all = 1};
  const char *resp;
  assert_int_equal(process(h, ev, &c, &resp), BP_ERR_BATCH_FAILED);
  bp_handler_record *r = &c.seen[0].v;
  assert_span(r->partition_key, r->partition_key_len, "caf\xc3\xa9 \"q\" \xf0\x9f\x98\x80 / \\ \n");
  assert_span(r->seq, r->seq_len, "12");
  assert_string_equal(c.seen[0].data, "hello");
  assert_span(r->data_base64, r->data_base64_len, "aGVsbG8=");
  assert_int_equal(r->arrival_ms, 1500000000000);
  assert_span(r->event_source, r->event_source_len, "aws:kinesis");
  assert_span(r->event_id, r->event_id_len, "a\tb");
  assert_span(r->event_name, r->event_name_len, "\xc3\xa9"); /* the last duplicate wins */
  assert_string_equal(resp, "{\"batchItemFailures\":[{\"itemIdentifier\":\"12\"}]}");
  /* data that is not JSON is still delivered: bytes */
  const char *bin = "{\"Records\":[{\"kinesis\":{\"kinesisSchemaVersion\":\"1.0\",\"partitionKey\":\"k\","
                    "\"sequenceNumber\":\"7\",\"data\":\"AP+A\",\"approximateArrivalTimestamp\":0},"
                    "\"eventSource\":\"aws:kinesis\",\"eventVersion\":\"1.0\",\"eventID\":\"e\","
                    "\"eventName\":\"n\",\"invokeIdentityArn\":\"i\",\"awsRegion\":\"r\","
                    "\"eventSourceARN\":\"a\"},"
                    "{\"kinesis\":{\"kinesisSchemaVersion\":\"1.0\",\"partitionKey\":\"k\","
                    "\"sequenceNumber\":\"8\",\"data\":\"\",\"approximateArrivalTimestamp\":1},"
                    "\"eventSource\":\"aws:kinesis\",\"eventVersion\":\"1.0\",\"eventID\":\"e\","
                    "\"eventName\":\"n\",\"invokeIdentityArn\":\"i\",\"awsRegion\":\"r\","
                    "\"eventSourceARN\":\"a\"}]}";
  c = (cb_ctx){0};
  assert_int_equal(process(h, bin, &c, &resp), 0);
  assert_int_equal(c.seen[0].v.data_len, 3);
  assert_memory_equal(c.seen[0].data, "\x00\xff\x80", 3);
  assert_int_equal(c.seen[0].v.arrival_ms, 0);
  assert_int_equal(c.seen[1].v.data_len, 0);
  assert_non_null(c.seen[1].v.data);
  bp_handler_del(h);
}

/* ---- Malformed events: the code and the path ---- */

typedef struct bad_case {
  const char *name;
  const char *from, *to; /* replace the first `from` of the base event by `to` */
  int code;
  const char *msg;       /* a substring of bp_handler_errmsg() */
} bad_case;

static const char BASE[] =
    "{\"Records\":[{\"kinesis\":{\"kinesisSchemaVersion\":\"1.0\",\"partitionKey\":\"k\","
    "\"sequenceNumber\":\"5\",\"data\":\"aGk=\",\"approximateArrivalTimestamp\":1.5},"
    "\"eventSource\":\"aws:kinesis\",\"eventVersion\":\"1.0\",\"eventID\":\"e\","
    "\"eventName\":\"n\",\"invokeIdentityArn\":\"i\",\"awsRegion\":\"r\",\"eventSourceARN\":\"a\"},"
    "{\"kinesis\":{\"kinesisSchemaVersion\":\"1.0\",\"partitionKey\":\"k2\","
    "\"sequenceNumber\":\"6\",\"data\":\"aGk=\",\"approximateArrivalTimestamp\":2.5},"
    "\"eventSource\":\"aws:kinesis\",\"eventVersion\":\"1.0\",\"eventID\":\"e\","
    "\"eventName\":\"n\",\"invokeIdentityArn\":\"i\",\"awsRegion\":\"r\",\"eventSourceARN\":\"a\"}]}";

static const bad_case bad_cases[] = {
    {"not JSON", "{\"Records\"", "x{\"Records\"", BP_ERR_INVALID_JSON, "(event): not a JSON object"},
    {"trailing", "]}", "]}}", BP_ERR_INVALID_JSON, "data after"},
    {"truncated", "]}", "]", BP_ERR_INVALID_JSON, "(event)"},
    {"no Records", "\"Records\"", "\"Recordz\"", BP_ERR_INVALID_RECORD, "Records: missing"},
    {"Records object", "\"Records\":[", "\"Records\":{\"a\":[", BP_ERR_INVALID_JSON, "Records: not an array"},
    {"record not object", "\"Records\":[", "\"Records\":[1,", BP_ERR_INVALID_JSON, "Records[0]: not an object"},
    {"bad base64", "\"data\":\"aGk=\",\"approximateArrivalTimestamp\":2.5",
     "\"data\":\"aGk\",\"approximateArrivalTimestamp\":2.5", BP_ERR_INVALID_RECORD,
     "Records[1].kinesis.data: invalid base64"},
    {"base64 padding bits", "aGk=", "aGl=", BP_ERR_INVALID_RECORD, "Records[0].kinesis.data: invalid base64"},
    {"abbreviated data", "aGk=", "eyJz[...]fQ==", BP_ERR_INVALID_RECORD, "kinesis.data"},
    {"data number", "\"data\":\"aGk=\"", "\"data\":5", BP_ERR_INVALID_JSON, "Records[0].kinesis.data"},
    {"missing data", "\"data\":\"aGk=\",", "", BP_ERR_INVALID_RECORD, "Records[0].kinesis.data: missing"},
    {"missing seq", "\"sequenceNumber\":\"6\",", "", BP_ERR_INVALID_RECORD,
     "Records[1].kinesis.sequenceNumber: missing"},
    {"bad seq", "\"sequenceNumber\":\"5\"", "\"sequenceNumber\":\"05\"", BP_ERR_INVALID_RECORD,
     "Records[0].kinesis.sequenceNumber: not a sequence number"},
    {"seq letters", "\"sequenceNumber\":\"5\"", "\"sequenceNumber\":\"5a\"", BP_ERR_INVALID_RECORD,
     "kinesis.sequenceNumber"},
    {"seq number", "\"sequenceNumber\":\"5\"", "\"sequenceNumber\":5", BP_ERR_INVALID_JSON,
     "Records[0].kinesis.sequenceNumber"},
    {"empty seq", "\"sequenceNumber\":\"5\"", "\"sequenceNumber\":\"\"", BP_ERR_INVALID_RECORD,
     "kinesis.sequenceNumber"},
    {"missing pk", "\"partitionKey\":\"k\",", "", BP_ERR_INVALID_RECORD, "Records[0].kinesis.partitionKey: missing"},
    {"missing arrival", ",\"approximateArrivalTimestamp\":1.5", "", BP_ERR_INVALID_RECORD,
     "Records[0].kinesis.approximateArrivalTimestamp: missing"},
    {"arrival string", "1.5}", "\"1.5\"}", BP_ERR_INVALID_JSON, "approximateArrivalTimestamp"},
    {"arrival negative", "1.5}", "-1.5}", BP_ERR_INVALID_RECORD, "approximateArrivalTimestamp: epoch seconds out of range"},
    {"arrival huge", "1.5}", "1e300}", BP_ERR_INVALID_RECORD, "out of range"},
    {"bad number", "1.5}", "1.}", BP_ERR_INVALID_JSON, "Records[0].kinesis.approximateArrivalTimestamp"},
    {"leading zero", "1.5}", "01.5}", BP_ERR_INVALID_JSON, "Records[0].kinesis"},
    {"missing schema", "\"kinesisSchemaVersion\":\"1.0\",", "", BP_ERR_INVALID_RECORD, "kinesisSchemaVersion: missing"},
    {"kinesis not object", "{\"kinesis\":{", "{\"kinesis\":[{", BP_ERR_INVALID_JSON, "Records[0].kinesis: not an object"},
    {"missing kinesis", "\"kinesis\":{\"kinesisSchemaVersion\"", "\"kinesiz\":{\"kinesisSchemaVersion\"",
     BP_ERR_INVALID_RECORD, "Records[0].kinesis: missing"},
    {"missing eventSource", "\"eventSource\":\"aws:kinesis\",", "", BP_ERR_INVALID_RECORD,
     "Records[0].eventSource: missing"},
    {"another source", "\"eventSource\":\"aws:kinesis\"", "\"eventSource\":\"aws:sqs\"", BP_ERR_INVALID_RECORD,
     "Records[0].eventSource: not aws:kinesis or aws:dynamodb"},
    {"missing eventID", "\"eventID\":\"e\",", "", BP_ERR_INVALID_RECORD, "Records[0].eventID: missing"},
    {"missing role", "\"invokeIdentityArn\":\"i\",", "", BP_ERR_INVALID_RECORD, "Records[0].invokeIdentityArn: missing"},
    {"missing region", "\"awsRegion\":\"r\",", "", BP_ERR_INVALID_RECORD, "Records[0].awsRegion: missing"},
    {"missing arn", ",\"eventSourceARN\":\"a\"", "", BP_ERR_INVALID_RECORD, "Records[0].eventSourceARN: missing"},
    {"missing version", "\"eventVersion\":\"1.0\",", "", BP_ERR_INVALID_RECORD, "Records[0].eventVersion: missing"},
    {"missing name", "\"eventName\":\"n\",", "", BP_ERR_INVALID_RECORD, "Records[0].eventName: missing"},
    {"eventID number", "\"eventID\":\"e\"", "\"eventID\":1", BP_ERR_INVALID_JSON, "Records[0].eventID: expected a string"},
    {"dynamodb in kinesis", "\"eventID\":\"e\"", "\"eventID\":\"e\",\"dynamodb\":{}", BP_ERR_INVALID_RECORD,
     "Records[0].dynamodb: in a Kinesis record"},
    {"bad escape", "\"partitionKey\":\"k\"", "\"partitionKey\":\"\\x\"", BP_ERR_INVALID_JSON,
     "Records[0].kinesis.partitionKey: invalid escape"},
    {"lone surrogate", "\"partitionKey\":\"k\"", "\"partitionKey\":\"\\ud800\"", BP_ERR_INVALID_JSON,
     "invalid escape"},
    {"low surrogate", "\"partitionKey\":\"k\"", "\"partitionKey\":\"\\udc00x\"", BP_ERR_INVALID_JSON, "invalid escape"},
    {"control char", "\"partitionKey\":\"k\"", "\"partitionKey\":\"\x01\"", BP_ERR_INVALID_JSON, "control character"},
    {"raw newline", "\"partitionKey\":\"k\"", "\"partitionKey\":\"a\nb\"", BP_ERR_INVALID_JSON, "control character"},
    {"bad utf8", "\"partitionKey\":\"k\"", "\"partitionKey\":\"\xc3\x28\"", BP_ERR_INVALID_JSON, "invalid UTF-8"},
    {"overlong", "\"partitionKey\":\"k\"", "\"partitionKey\":\"\xc0\xaf\"", BP_ERR_INVALID_JSON, "invalid UTF-8"},
    {"surrogate utf8", "\"partitionKey\":\"k\"", "\"partitionKey\":\"\xed\xa0\x80\"", BP_ERR_INVALID_JSON, "invalid UTF-8"},
    {"above U+10FFFF", "\"partitionKey\":\"k\"", "\"partitionKey\":\"\xf4\x90\x80\x80\"", BP_ERR_INVALID_JSON, "invalid UTF-8"},
    {"bad utf8 in unknown", "\"eventID\":\"e\"", "\"eventID\":\"e\",\"zz\":[\"\xff\"]", BP_ERR_INVALID_JSON,
     "Records[0].zz: invalid UTF-8"},
    {"bad literal", "\"eventID\":\"e\"", "\"eventID\":\"e\",\"zz\":tru", BP_ERR_INVALID_JSON, "Records[0].zz"},
    {"unterminated", "\"eventID\":\"e\"", "\"eventID\":\"e", BP_ERR_INVALID_JSON, "Records"},
    {"missing colon", "\"eventID\":\"e\"", "\"eventID\"\"e\"", BP_ERR_INVALID_JSON, "expected ':'"},
    {"trailing comma", "\"eventSourceARN\":\"a\"}]", "\"eventSourceARN\":\"a\",}]", BP_ERR_INVALID_JSON,
     "Records[1]: expected a member name"},
    {"comma in array", "\"eventSourceARN\":\"a\"}]", "\"eventSourceARN\":\"a\"},]", BP_ERR_INVALID_JSON,
     "Records"},
    {"mixed sources", "\"eventSource\":\"aws:kinesis\",\"eventVersion\":\"1.0\",\"eventID\":\"e\",\"eventName\":\"n\",\"invokeIdentityArn\":\"i\",\"awsRegion\":\"r\",\"eventSourceARN\":\"a\"}]}",
     "\"eventSource\":\"aws:dynamodb\",\"eventVersion\":\"1.0\",\"eventID\":\"e\",\"eventName\":\"n\",\"awsRegion\":\"r\",\"eventSourceARN\":\"a\"}]}",
     BP_ERR_INVALID_RECORD, "Records[1].dynamodb: missing"},
    {"kinesis in dynamodb", "\"eventSource\":\"aws:kinesis\"", "\"eventSource\":\"aws:dynamodb\",\"dynamodb\":{}",
     BP_ERR_INVALID_RECORD, "Records[0].kinesis: in a DynamoDB record"},
    {"window not object", "]}", "],\"window\":1}", BP_ERR_INVALID_JSON, "window: not an object"},
    {"window bad time", "]}", "],\"window\":{\"start\":\"2020-13-01T00:00:00Z\",\"end\":\"x\"}}",
     BP_ERR_INVALID_RECORD, "window.start: not an RFC 3339 UTC time"},
    {"window no end", "]}", "],\"window\":{\"start\":\"2020-12-01T00:00:00Z\"},\"shardId\":\"s\",\"isFinalInvokeForWindow\":false}",
     BP_ERR_INVALID_RECORD, "window.end: missing"},
    {"window no shard", "]}", "],\"window\":{\"start\":\"2020-12-01T00:00:00Z\",\"end\":\"2020-12-01T00:01:00Z\"},\"isFinalInvokeForWindow\":false}",
     BP_ERR_INVALID_RECORD, "shardId: missing"},
    {"window no final", "]}", "],\"window\":{\"start\":\"2020-12-01T00:00:00Z\",\"end\":\"2020-12-01T00:01:00Z\"},\"shardId\":\"s\"}",
     BP_ERR_INVALID_RECORD, "isFinalInvokeForWindow: missing"},
    {"final not bool", "]}", "],\"isFinalInvokeForWindow\":\"true\"}", BP_ERR_INVALID_JSON,
     "isFinalInvokeForWindow: not a boolean"},
    {"state not object", "]}", "],\"state\":[]}", BP_ERR_INVALID_JSON, "state: not an object"},
    {"Feb 30", "]}", "],\"window\":{\"start\":\"2021-02-29T00:00:00Z\",\"end\":\"x\"}}", BP_ERR_INVALID_RECORD,
     "window.start"},
    {"deep unknown", "]}", "],\"x\":[[[[[[[[[[[[[[[[{\"a\":[1,2,{\"b\":]}]]]]]]]]]]]]]]]]}", BP_ERR_INVALID_JSON, "x: expected a value"},
};

static char *replace(const char *base, const char *from, const char *to) {
  const char *at = strstr(base, from);
  if (!at) fail_msg("'%s' not in the base event", from);
  size_t n = strlen(base) - strlen(from) + strlen(to);
  char *out = malloc(n + 1);
  assert_non_null(out);
  size_t pre = (size_t)(at - base);
  memcpy(out, base, pre);
  strcpy(out + pre, to);
  strcat(out, at + strlen(from));
  return out;
}

static void test_malformed(void **state) {
  (void)state;
  bp_handler *h = new_handler(0);
  cb_ctx c = {0};
  const char *resp;
  assert_int_equal(process(h, BASE, &c, &resp), 0);
  for (size_t i = 0; i < sizeof bad_cases / sizeof *bad_cases; i++) {
    const bad_case *b = &bad_cases[i];
    char *ev = replace(BASE, b->from, b->to);
    c = (cb_ctx){0};
    size_t len = 99;
    int rc = bp_handler_process(h, ev, strlen(ev), collect, &c, &resp, &len);
    if (rc != b->code || !strstr(bp_handler_errmsg(h), b->msg))
      fail_msg("case '%s': got %s '%s', want %s '%s'", b->name, bp_err_name(rc),
               bp_handler_errmsg(h), bp_err_name(b->code), b->msg);
    assert_int_equal(c.calls, 0); /* nothing is delivered from a malformed event */
    assert_null(resp);
    assert_int_equal(len, 0);
    assert_int_equal(bp_handler_response(h, &resp, &len), BP_ERR_INVALID_STATE);
    free(ev);
  }
  /* one event, one source */
  size_t kl = strlen(KIN_EXAMPLE), dl = strlen(DDB_EXAMPLE);
  char *mixed = malloc(kl + dl);
  assert_non_null(mixed);
  memcpy(mixed, KIN_EXAMPLE, kl - 2);
  mixed[kl - 2] = ',';
  memcpy(mixed + kl - 1, DDB_EXAMPLE + 12, dl - 12 + 1);
  c = (cb_ctx){0};
  assert_int_equal(process(h, mixed, &c, &resp), BP_ERR_INVALID_RECORD);
  assert_string_equal(bp_handler_errmsg(h),
                      "Records[1].eventSource: differs from the first record's (one event, one source)");
  assert_int_equal(c.calls, 0);
  free(mixed);
  /* empty and whitespace-only text */
  assert_int_equal(bp_handler_process(h, "", 0, collect, &c, &resp, &(size_t){0}),
                   BP_ERR_INVALID_JSON);
  assert_non_null(strstr(bp_handler_errmsg(h), "empty text"));
  assert_int_equal(bp_handler_process(h, NULL, 0, collect, &c, &resp, &(size_t){0}),
                   BP_ERR_INVALID_JSON);
  assert_int_equal(bp_handler_process(h, S(" \n"), collect, &c, &resp, &(size_t){0}),
                   BP_ERR_INVALID_JSON);
  assert_int_equal(bp_handler_process(h, S("[]"), collect, &c, &resp, &(size_t){0}),
                   BP_ERR_INVALID_JSON);
  /* a NUL inside the text */
  assert_int_equal(bp_handler_process(h, "{\"Records\":[]}\0", 15, collect, &c, &resp,
                                      &(size_t){0}),
                   BP_ERR_INVALID_JSON);
  bp_handler_del(h);
}

static int reenter(bp_handler *h, const bp_handler_record *r, void *ud) {
  (void)r;
  (void)ud;
  const char *resp;
  size_t len;
  assert_int_equal(bp_handler_process(h, S("{\"Records\":[]}"), reenter, NULL, &resp, &len),
                   BP_ERR_IN_CALLBACK);
  return 0;
}

static void test_arguments(void **state) {
  (void)state;
  bp_handler *h;
  assert_int_equal(bp_handler_new(NULL, NULL, NULL), BP_ERR_INVALID_ARGUMENT);
  bp_handler_opts o = BP_HANDLER_OPTS_INIT;
  o.flags = 0x100;
  assert_int_equal(bp_handler_new(&h, &o, NULL), BP_ERR_INVALID_ARGUMENT);
  assert_null(h);
  o.flags = 0;
  o.struct_size = 0;
  assert_int_equal(bp_handler_new(&h, &o, NULL), BP_ERR_INVALID_ARGUMENT);
  bp_allocator half = {0};
  test_alloc ta;
  test_alloc_init(&ta, &half);
  half.free = NULL;
  assert_int_equal(bp_handler_new(&h, NULL, &half), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_handler_opts_init(NULL, sizeof o), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_handler_opts_init(&o, 2), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_handler_new(&h, NULL, NULL), 0);
  const char *resp;
  size_t len;
  assert_int_equal(bp_handler_process(NULL, S("{}"), collect, NULL, &resp, &len), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_handler_process(h, S("{}"), NULL, NULL, &resp, &len), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_handler_process(h, S("{}"), collect, NULL, NULL, &len), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_handler_process(h, NULL, 3, collect, NULL, &resp, &len), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_handler_process(h, "x", SIZE_MAX, collect, NULL, &resp, &len), BP_ERR_INVALID_ARGUMENT);
  /* nothing processed yet */
  bp_handler_window w = BP_HANDLER_WINDOW_INIT;
  assert_int_equal(bp_handler_get_window(h, &w), BP_ERR_INVALID_STATE);
  assert_int_equal(bp_handler_set_state(h, S("{}")), BP_ERR_INVALID_STATE);
  assert_int_equal(bp_handler_response(h, &resp, &len), BP_ERR_INVALID_STATE);
  assert_int_equal(bp_handler_fail_reason(h, S("x")), BP_ERR_INVALID_STATE);
  assert_int_equal(bp_handler_failure_count(h), 0);
  assert_int_equal(bp_handler_failure_count(NULL), 0);
  assert_string_equal(bp_handler_errmsg(NULL), "");
  /* re-entry from a callback */
  char *ev = kinesis_event(1, NULL);
  assert_int_equal(bp_handler_process(h, ev, strlen(ev), reenter, NULL, &resp, &len), 0);
  free(ev);
  bp_handler_del(h);
  bp_handler_del(NULL);
  /* KPL de-aggregation is not in this build yet */
  o = (bp_handler_opts)BP_HANDLER_OPTS_INIT;
  o.flags = BP_HANDLER_DEAGGREGATE;
  assert_int_equal(bp_handler_new(&h, &o, NULL), BP_ERR_UNSUPPORTED);
}

/* ---- Round trip: events the codec encodes decode to the same views ---- */

static uint32_t rnd(uint32_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

/* A random UTF-8 string of 1..maxn code points, escapes and non-ASCII included. */
static size_t rand_text(uint32_t *s, char *out, size_t maxn) {
  static const char *const pieces[] = {"a", "Z", "0", "\"", "\\", "/", "\n", "\t", "\x01",
                                       "\x1f", " ", "\xc3\xa9", "\xe2\x82\xac",
                                       "\xf0\x9f\x98\x80", "\x7f", "{", "]"};
  size_t n = 1 + rnd(s) % maxn, len = 0;
  for (size_t i = 0; i < n; i++) {
    const char *p = pieces[rnd(s) % (sizeof pieces / sizeof *pieces)];
    memcpy(out + len, p, strlen(p));
    len += strlen(p);
  }
  return len;
}

typedef struct rt_ctx {
  const bp_record *recs;
  size_t n, calls;
  int source;
  const char *arn, *role, *region;
} rt_ctx;

static int rt_check(bp_handler *h, const bp_handler_record *v, void *ud) {
  (void)h;
  rt_ctx *c = ud;
  const bp_record *r = &c->recs[c->calls++];
  assert_int_equal(v->source, c->source);
  assert_int_equal(v->seq_len, r->seq_len);
  assert_memory_equal(v->seq, r->seq, r->seq_len);
  assert_int_equal(v->arrival_ms, r->arrival_ms);
  assert_span(v->event_source_arn, v->event_source_arn_len, c->arn);
  assert_span(v->aws_region, v->aws_region_len, c->region);
  if (c->source == BP_SOURCE_KINESIS) {
    assert_int_equal(v->partition_key_len, r->partition_key_len);
    assert_memory_equal(v->partition_key, r->partition_key, r->partition_key_len);
    assert_int_equal(v->data_len, r->data_len);
    if (r->data_len) assert_memory_equal(v->data, r->data, r->data_len);
    assert_int_equal(v->encryption_type != NULL, r->encryption_type != NULL);
    if (r->encryption_type)
      assert_memory_equal(v->encryption_type, r->encryption_type, r->encryption_type_len);
    assert_span(v->invoke_identity_arn, v->invoke_identity_arn_len, c->role);
    assert_span(v->event_name, v->event_name_len, "aws:kinesis:record");
    assert_span(v->event_version, v->event_version_len, "1.0");
    assert_int_equal(v->event_id_len, strlen("shardId-000000000001:") + r->seq_len);
  } else {
    assert_int_equal(v->event_id_len, r->event_id_len);
    assert_memory_equal(v->event_id, r->event_id, r->event_id_len);
    assert_int_equal(v->event_name_len, r->event_name_len);
    assert_memory_equal(v->event_name, r->event_name, r->event_name_len);
    assert_int_equal(v->user_identity_json != NULL, r->user_identity_json != NULL);
    assert_non_null(v->keys_json);
    assert_int_equal(v->size_bytes, 42);
  }
  return (int)(c->calls % 3 == 0);
}

static void round_trip(int source, uint32_t seed, size_t rounds) {
  const char *arn = source == BP_SOURCE_KINESIS ? "arn:aws:kinesis:eu-west-1:1:stream/rt"
                                                : "arn:aws:dynamodb:eu-west-1:1:table/t/stream/x";
  bp_codec_opts o = BP_CODEC_OPTS_INIT;
  o.source = source;
  o.event_source_arn = arn;
  o.invoke_identity_arn = "arn:aws:iam::1:role/r";
  bp_codec *codec;
  assert_int_equal(bp_codec_new(&codec, &o, NULL), 0);
  bp_handler *h = new_handler(0);
  enum { MAXN = 12 };
  static char texts[MAXN][4][400];
  static char seqs[MAXN][40];
  static uint8_t data[MAXN][300];
  bp_record recs[MAXN];
  uint32_t s = seed;
  uint64_t seq = 1 + rnd(&s) % 1000;
  for (size_t round = 0; round < rounds; round++) {
    size_t n = rnd(&s) % MAXN;
    for (size_t i = 0; i < n; i++) {
      bp_record *r = &recs[i];
      bp_record_init(r, sizeof *r);
      seq += 1 + rnd(&s) % 100000;
      r->seq = seqs[i];
      r->seq_len = (size_t)sprintf(seqs[i], "%llu", (unsigned long long)seq);
      r->arrival_ms = (int64_t)(rnd(&s) % 2000000000) * 1000 + rnd(&s) % 1000;
      if (source == BP_SOURCE_KINESIS) {
        r->partition_key = texts[i][0];
        r->partition_key_len = rand_text(&s, texts[i][0], 20);
        r->data_len = rnd(&s) % 300;
        for (size_t k = 0; k < r->data_len; k++) data[i][k] = (uint8_t)rnd(&s);
        r->data = data[i];
        if (rnd(&s) % 4 == 0) {
          r->encryption_type = texts[i][1];
          r->encryption_type_len = rand_text(&s, texts[i][1], 5);
        }
      } else {
        r->event_id = texts[i][0];
        r->event_id_len = rand_text(&s, texts[i][0], 30);
        static const char *const names[] = {"INSERT", "MODIFY", "REMOVE"};
        r->event_name = names[rnd(&s) % 3];
        r->event_name_len = strlen(r->event_name);
        char pk[200];
        size_t pkl = rand_text(&s, pk, 10);
        /* the key as a JSON string: escape through the codec's rules is not needed here,
         * a base64 binary key is always plain */
        char b64[300];
        size_t w;
        assert_int_equal(bp_base64_encode((const uint8_t *)pk, pkl, b64, sizeof b64, &w), 0);
        r->dynamodb_json = texts[i][1];
        r->dynamodb_json_len = (size_t)snprintf(
            texts[i][1], sizeof texts[i][1],
            "{\"Keys\":{\"k\":{\"B\":\"%.*s\"}},\"SizeBytes\":42,\"StreamViewType\":\"KEYS_ONLY\"}",
            (int)w, b64);
        if (rnd(&s) % 3 == 0) {
          r->user_identity_json = "{\"type\":\"Service\"}";
          r->user_identity_json_len = strlen(r->user_identity_json);
        }
      }
    }
    const char *ev;
    size_t len;
    int rc = bp_codec_encode_event(codec, "shardId-000000000001", recs, n, NULL, &ev, &len);
    if (rc) fail_msg("encode: %s", bp_codec_errmsg(codec));
    rt_ctx c = {recs, n, 0, source, arn, "arn:aws:iam::1:role/r", "eu-west-1"};
    const char *resp;
    size_t resp_len;
    rc = bp_handler_process(h, ev, len, rt_check, &c, &resp, &resp_len);
    if (rc && rc != BP_ERR_BATCH_FAILED) fail_msg("process: %s", bp_handler_errmsg(h));
    assert_int_equal(c.calls, n);
    /* every third record failed: the response lists them, and the codec's classifier
     * reads it back as the partial response it is */
    bp_response_result res = BP_RESPONSE_RESULT_INIT;
    assert_int_equal(bp_codec_classify_response(codec, resp, resp_len, recs, n,
                                                BP_CLASSIFY_REPORT_BATCH_ITEM_FAILURES, &res),
                     0);
    if (n >= 3) {
      assert_int_equal(res.outcome, n == 3 ? BP_ATTEMPT_PARTIAL : BP_ATTEMPT_PARTIAL);
      assert_int_equal(res.failed_index, 2);
      assert_int_equal(res.failed_count, n / 3);
    } else {
      assert_int_equal(res.outcome, BP_ATTEMPT_SUCCESS);
    }
  }
  bp_handler_del(h);
  bp_codec_del(codec);
}

static void test_round_trip(void **state) {
  (void)state;
  round_trip(BP_SOURCE_KINESIS, 0x9e3779b9u, 2000);
  round_trip(BP_SOURCE_DYNAMODB, 0x12345678u, 2000);
}

/* ---- Memory ---- */

static int fm_scenario(const bp_allocator *hooks, void *ctx) {
  const char *ev = ctx;
  bp_handler *h;
  int rc = bp_handler_new(&h, NULL, hooks);
  if (rc) return rc;
  cb_ctx c = {.fail_mask = 1, .reason = "r"};
  const char *resp;
  size_t len;
  rc = bp_handler_process(h, ev, strlen(ev), collect, &c, &resp, &len);
  if (!rc) rc = bp_handler_set_state(h, S("{\"s\":\"\\u00e9\"}"));
  bp_handler_del(h);
  return rc;
}

static void test_failmalloc(void **state) {
  (void)state;
  char *ev = kinesis_event(40, ",\"window\":{\"start\":\"2020-12-09T07:04:00Z\",\"end\":"
                               "\"2020-12-09T07:06:00Z\"},\"shardId\":\"s\","
                               "\"isFinalInvokeForWindow\":false,\"k\\u00e9\":1");
  test_alloc_failmalloc(fm_scenario, ev);
  free(ev);
}

static void test_no_allocation_when_warm(void **state) {
  (void)state;
  test_alloc t;
  bp_allocator hooks;
  test_alloc_init(&t, &hooks);
  bp_handler *h;
  assert_int_equal(bp_handler_new(&h, NULL, &hooks), 0);
  char *big = kinesis_event(3000, NULL);
  cb_ctx c = {.fail_mask = ~0ull >> 1, .reason = "why"};
  const char *resp;
  size_t len;
  assert_int_equal(bp_handler_process(h, big, strlen(big), collect, &c, &resp, &len), 0);
  size_t before = t.calls;
  for (int i = 0; i < 3; i++) {
    c = (cb_ctx){.fail_mask = ~0ull >> 1, .reason = "why"};
    assert_int_equal(bp_handler_process(h, big, strlen(big), collect, &c, &resp, &len), 0);
    char *small = kinesis_event(10, NULL); /* smaller events never allocate either */
    c = (cb_ctx){.fail_mask = 5};
    assert_int_equal(bp_handler_process(h, small, strlen(small), collect, &c, &resp, &len), 0);
    free(small);
  }
  assert_int_equal(t.calls, before);
  bp_handler_del(h);
  free(big);
  assert_int_equal(t.live_blocks, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_seed_001),
      cmocka_unit_test(test_semantics_examples),
      cmocka_unit_test(test_response_rules),
      cmocka_unit_test(test_tumbling),
      cmocka_unit_test(test_escapes),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_arguments),
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_failmalloc),
      cmocka_unit_test(test_no_allocation_when_warm),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
