/* SPDX-License-Identifier: MIT */
/* Event encoders (Kinesis, DynamoDB, tumbling windows) and the exact size function. */
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
#define SEED_002 BP_TEST_DATA_DIR "/002_8e67dc656fb60d3d.txt"

static bp_record krec(const char *seq, int64_t arrival, const char *pk, const char *data,
                      size_t data_len, uint32_t flags) {
  bp_record r;
  bp_record_init(&r, sizeof r);
  r.seq = seq;
  r.seq_len = strlen(seq);
  r.arrival_ms = arrival;
  r.partition_key = pk;
  r.partition_key_len = strlen(pk);
  r.data = (const uint8_t *)data;
  r.data_len = data_len;
  r.flags = flags;
  return r;
}

static bp_codec *kinesis_codec(const char *arn, const char *role) {
  bp_codec_opts o = {sizeof(bp_codec_opts), BP_SOURCE_KINESIS, arn, NULL, role, NULL};
  bp_codec *c;
  assert_int_equal(bp_codec_new(&c, &o, NULL), 0);
  return c;
}

/* Encode, and check the size functions agree with the output to the byte. */
static const char *encode(bp_codec *c, const char *shard, const bp_record *r, size_t n,
                          const bp_window_fields *w, size_t *len) {
  size_t size, overhead, sum = 0;
  assert_int_equal(bp_codec_event_size(c, shard, r, n, w, &size), 0);
  assert_int_equal(bp_codec_event_overhead(c, shard, w, &overhead), 0);
  for (size_t i = 0; i < n; i++) {
    size_t rs;
    assert_int_equal(bp_codec_record_size(c, shard, &r[i], &rs), 0);
    sum += rs + (i > 0);
  }
  assert_int_equal(overhead + sum, size);
  const char *out;
  int rc = bp_codec_encode_event(c, shard, r, n, w, &out, len);
  if (rc) fail_msg("encode: %d %s", rc, bp_codec_errmsg(c));
  assert_int_equal(*len, size);
  assert_int_equal(strlen(out), *len);
  assert_true(test_json_valid(out, *len));
  /* bp_codec_encode_event_to: the same bytes in the caller's buffer, nothing past them and
   * nothing at all into a buffer one byte short (whose length it still reports). */
  char *buf = malloc(size + 2);
  assert_non_null(buf);
  memset(buf, '#', size + 2);
  size_t to_len = 0;
  if (size > 0) {
    assert_int_equal(bp_codec_encode_event_to(c, shard, r, n, w, buf, size - 1, &to_len),
                     BP_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(to_len, size);
    assert_int_equal(buf[0], '#');
  }
  to_len = 0;
  assert_int_equal(bp_codec_encode_event_to(c, shard, r, n, w, buf, size + 1, &to_len), 0);
  assert_int_equal(to_len, size);
  assert_memory_equal(buf, out, size); /* out (the codec's memory) is left as it was */
  assert_int_equal(buf[size], '#');
  free(buf);
  return out;
}

static void assert_json_equal(const char *got, const char *want) {
  char where[256] = "";
  if (!test_json_equal(got, want, where, sizeof where))
    fail_msg("JSON differs at %s\n got: %.400s\nwant: %.400s", where, got, want);
}

/* ---- golden: AWS documentation samples ---- */

/* Seed 001 (AWS "Using Lambda with Kinesis" example event): encode its records from raw
 * bytes and from base64 pass-through; both must equal the sample field by field and, since
 * the key order is the sample's, byte for byte after removing its indentation. */
static void test_golden_seed_001(void **state) {
  (void)state;
  char *doc = test_read_file(SEED_001, NULL);
  assert_non_null(doc);
  char *sample = test_extract_object(doc, "\"Records\"");
  assert_non_null(sample);
  char *compact = test_json_compact(sample, strlen(sample));
  bp_codec *c = kinesis_codec("arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream",
                              "arn:aws:iam::123456789012:role/lambda-role");
  const char *s1 = "49590338271490256608559692538361571095921575989136588898";
  const char *s2 = "49590338271490256608559692540925702759324208523137515618";
  bp_record raw[2] = {
      krec(s1, 1545084650987, "1", "Hello, this is a test.", 22, 0),
      krec(s2, 1545084711166, "1", "This is only a test.", 20, 0)};
  bp_record b64[2] = {
      krec(s1, 1545084650987, "1", "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==", 32, BP_RECORD_DATA_BASE64),
      krec(s2, 1545084711166, "1", "VGhpcyBpcyBvbmx5IGEgdGVzdC4=", 28, BP_RECORD_DATA_BASE64)};
  size_t len;
  const char *out = encode(c, "shardId-000000000006", raw, 2, NULL, &len);
  assert_json_equal(out, sample);
  assert_string_equal(out, compact);
  out = encode(c, "shardId-000000000006", b64, 2, NULL, &len);
  assert_string_equal(out, compact);
  bp_codec_del(c);
  free(compact);
  free(sample);
  free(doc);
}

/* Seed 002: a real event whose `data` values the page abbreviated with "[...]" (not base64).
 * Strict validation rejects them; every other field matches the sample. */
static void test_golden_seed_002(void **state) {
  (void)state;
  char *doc = test_read_file(SEED_002, NULL);
  assert_non_null(doc);
  char *sample = test_extract_object(doc, "\"Records\"");
  assert_non_null(sample);
  bp_codec *c = kinesis_codec("arn:aws:kinesis:us-west-2:515126931066:stream/devRetailStream",
                              "arn:aws:iam::515126931066:role/devProductCatalogReaderWriter");
  const char *d1 = "eyJzY2hlbWEiOiJjb20ubm9yZHN0cm9tL3JldGFpb[...]Y3NDZvciBNZW4ifX0=";
  const char *d2 = "eyJzY2hlbWEiOiJjb20ubm9yZHN0cm9tL3JldGFpb[...]I3MyRlcnMgZm9yIE1lbiJ9fQ==";
  const char *s1 = "49568749374218235080373793662003016116473266703358230578";
  const char *s2 = "49568749374218235080373793662021150003767486140978823218";
  bp_record r[2] = {krec(s1, 1484245766362, "undefined", d1, strlen(d1), BP_RECORD_DATA_BASE64),
                    krec(s2, 1484245766739, "undefined", d2, strlen(d2), BP_RECORD_DATA_BASE64)};
  const char *out;
  size_t len;
  assert_int_equal(bp_codec_encode_event(c, "shardId-000000000003", r, 2, NULL, &out, &len),
                   BP_ERR_INVALID_RECORD);
  assert_non_null(strstr(bp_codec_errmsg(c), "record 0"));
  assert_non_null(strstr(bp_codec_errmsg(c), "base64"));
  /* Replace the abbreviated data by a placeholder on both sides and compare the rest. */
  r[0].data = (const uint8_t *)"AAAA";
  r[0].data_len = 4;
  r[1].data = (const uint8_t *)"AAAA";
  r[1].data_len = 4;
  out = encode(c, "shardId-000000000003", r, 2, NULL, &len);
  char *fixed = malloc(strlen(sample) + 1);
  assert_non_null(fixed);
  strcpy(fixed, sample);
  char *p;
  while ((p = strstr(fixed, "eyJzY2hl"))) {
    char *q = strchr(p, '"');
    memmove(p + 4, q, strlen(q) + 1);
    memcpy(p, "AAAA", 4);
  }
  assert_json_equal(out, fixed);
  free(fixed);
  bp_codec_del(c);
  free(sample);
  free(doc);
}

/* The field-exact examples of SEMANTICS.md §1.3, byte for byte. */
static void test_golden_spec_examples(void **state) {
  (void)state;
  bp_codec *c = kinesis_codec("arn:aws:kinesis:us-east-1:111111111111:stream/s1",
                              "arn:aws:iam::111111111111:role/fn-role");
  const char *seq = "49651234567890123456789012345678901234567890123456789010";
  bp_record r = krec(seq, 1732550400123, "test", "hello", 5, 0);
  size_t len;
  const char *out = encode(c, "shardId-000000000000", &r, 1, NULL, &len);
  assert_string_equal(
      out,
      "{\"Records\":[{\"kinesis\":{\"kinesisSchemaVersion\":\"1.0\",\"partitionKey\":\"test\","
      "\"sequenceNumber\":\"49651234567890123456789012345678901234567890123456789010\","
      "\"data\":\"aGVsbG8=\",\"approximateArrivalTimestamp\":1732550400.123},"
      "\"eventSource\":\"aws:kinesis\",\"eventVersion\":\"1.0\","
      "\"eventID\":\"shardId-000000000000:49651234567890123456789012345678901234567890123456789010\","
      "\"eventName\":\"aws:kinesis:record\",\"invokeIdentityArn\":\"arn:aws:iam::111111111111:role/fn-role\","
      "\"awsRegion\":\"us-east-1\",\"eventSourceARN\":\"arn:aws:kinesis:us-east-1:111111111111:stream/s1\"}]}");
  bp_codec_del(c);

  bp_codec_opts o = {sizeof(bp_codec_opts), BP_SOURCE_DYNAMODB,
                     "arn:aws:dynamodb:us-east-1:111111111111:table/t1/stream/2025-11-25T15:00:00.000",
                     NULL, NULL, NULL};
  assert_int_equal(bp_codec_new(&c, &o, NULL), 0);
  const char *ddb = "{\"Keys\":{\"pk\":{\"S\":\"hello world\"}},"
                    "\"NewImage\":{\"pk\":{\"S\":\"hello world\"},\"bin\":{\"B\":\"Zm9vYmFy\"}},"
                    "\"SequenceNumber\":\"100000000000000000001\",\"SizeBytes\":70,"
                    "\"StreamViewType\":\"NEW_IMAGE\"}";
  bp_record d;
  bp_record_init(&d, sizeof d);
  d.seq = "100000000000000000001";
  d.seq_len = strlen(d.seq);
  d.arrival_ms = 1732550400000;
  d.event_id = "c81e728d9d4c2f636f067f89cc14862c";
  d.event_id_len = strlen(d.event_id);
  d.event_name = "INSERT";
  d.event_name_len = 6;
  d.dynamodb_json = ddb;
  d.dynamodb_json_len = strlen(ddb);
  out = encode(c, "shardId-00000001764079200000-8a1b2c3d", &d, 1, NULL, &len);
  assert_string_equal(
      out,
      "{\"Records\":[{\"eventID\":\"c81e728d9d4c2f636f067f89cc14862c\",\"eventName\":\"INSERT\","
      "\"eventVersion\":\"1.1\",\"eventSource\":\"aws:dynamodb\",\"awsRegion\":\"us-east-1\","
      "\"dynamodb\":{\"ApproximateCreationDateTime\":1732550400.000,\"Keys\":{\"pk\":{\"S\":\"hello world\"}},"
      "\"NewImage\":{\"pk\":{\"S\":\"hello world\"},\"bin\":{\"B\":\"Zm9vYmFy\"}},"
      "\"SequenceNumber\":\"100000000000000000001\",\"SizeBytes\":70,\"StreamViewType\":\"NEW_IMAGE\"},"
      "\"eventSourceARN\":\"arn:aws:dynamodb:us-east-1:111111111111:table/t1/stream/2025-11-25T15:00:00.000\"}]}");
  bp_codec_del(c);
}

/* ---- tumbling window members (SEMANTICS.md §6, D-KWIN example layout) ---- */

static void test_window_event(void **state) {
  (void)state;
  bp_codec *c = kinesis_codec("arn:aws:kinesis:us-east-1:111111111111:stream/s1",
                              "arn:aws:iam::111111111111:role/fn-role");
  bp_window_fields w = {sizeof(bp_window_fields), 1607497440000, 1607497560000, NULL, 0, 1, 0};
  size_t len;
  const char *out = encode(c, "shardId-000000000006", NULL, 0, &w, &len);
  assert_string_equal(out,
                      "{\"Records\":[],\"window\":{\"start\":\"2020-12-09T07:04:00Z\","
                      "\"end\":\"2020-12-09T07:06:00Z\"},\"state\":{},"
                      "\"shardId\":\"shardId-000000000006\","
                      "\"eventSourceARN\":\"arn:aws:kinesis:us-east-1:111111111111:stream/s1\","
                      "\"isFinalInvokeForWindow\":true,\"isWindowTerminatedEarly\":false}");
  const char *state_json = "{ \"count\": \"5\" }";
  w.state_json = state_json;
  w.state_json_len = strlen(state_json);
  w.is_final = 0;
  w.is_terminated_early = 1;
  bp_record r = krec("1", 1607497475000, "k", "x", 1, 0);
  out = encode(c, "shardId-000000000006", &r, 1, &w, &len);
  assert_non_null(strstr(out, "\"state\":{ \"count\": \"5\" },")); /* embedded verbatim */
  assert_non_null(strstr(out, "\"isFinalInvokeForWindow\":false,\"isWindowTerminatedEarly\":true}"));
  assert_non_null(strstr(out, "\"approximateArrivalTimestamp\":1607497475.000}"));
  /* state must be a JSON object */
  const char *bad_states[] = {"[]", "\"s\"", "{", "{} x", "", "null"};
  for (size_t i = 0; i < sizeof bad_states / sizeof bad_states[0]; i++) {
    w.state_json = bad_states[i];
    w.state_json_len = strlen(bad_states[i]);
    size_t size;
    assert_int_equal(bp_codec_event_size(c, "s", &r, 1, &w, &size), BP_ERR_INVALID_JSON);
  }
  w.state_json = NULL;
  w.start_ms = -1;
  size_t size;
  assert_int_equal(bp_codec_event_size(c, "s", &r, 1, &w, &size), BP_ERR_RANGE);
  char buf[512];
  size = 7;
  assert_int_equal(bp_codec_encode_event_to(c, "s", &r, 1, &w, buf, sizeof buf, &size),
                   BP_ERR_RANGE);
  assert_int_equal(size, 7); /* untouched on a validation error */
  assert_int_equal(bp_codec_encode_event_to(c, "s", &r, 1, NULL, NULL, 0, &size),
                   BP_ERR_BUFFER_TOO_SMALL); /* a size query with no buffer */
  assert_true(size > 0 && size < sizeof buf);
  assert_int_equal(bp_codec_encode_event_to(c, "s", &r, 1, NULL, NULL, 1, &size),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_codec_encode_event_to(c, "s", &r, 1, NULL, buf, sizeof buf, NULL),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_codec_encode_event_to(NULL, "s", &r, 1, NULL, buf, sizeof buf, &size),
                   BP_ERR_INVALID_ARGUMENT);
  bp_codec_del(c);
}

/* ---- escaping and validation ---- */

static void test_escaping(void **state) {
  (void)state;
  bp_codec *c = kinesis_codec("arn:aws:kinesis:us-east-1:1:stream/a\"b\\c",
                              "arn:aws:iam::1:role/r");
  const char pk[] = "q\"b\\s/\b\f\n\r\t\x01\x1f\x7f caf\xc3\xa9";
  bp_record r = krec("5", 1000, pk, "", 0, 0);
  r.encryption_type = "KMS";
  r.encryption_type_len = 3;
  size_t len;
  const char *out = encode(c, "shard\"1", &r, 1, NULL, &len);
  assert_non_null(strstr(out, "\"partitionKey\":\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001F\x7f caf\xc3\xa9\""));
  assert_non_null(strstr(out, "\"eventID\":\"shard\\\"1:5\""));
  assert_non_null(strstr(out, ":stream/a\\\"b\\\\c\"}]}")); /* eventSourceARN, escaped */
  assert_non_null(strstr(out, "\"data\":\"\",\"approximateArrivalTimestamp\":1.000,\"encryptionType\":\"KMS\"}"));
  bp_codec_del(c);
}

static void test_kinesis_invalid_records(void **state) {
  (void)state;
  bp_codec *c = kinesis_codec("arn:aws:kinesis:us-east-1:1:stream/s", "arn:aws:iam::1:role/r");
  struct {
    bp_record r;
    const char *msg;
  } cases[] = {
      {krec("01", 1, "k", "x", 1, 0), "sequenceNumber"},
      {krec("", 1, "k", "x", 1, 0), "sequenceNumber"},
      {krec("1a", 1, "k", "x", 1, 0), "sequenceNumber"},
      {krec("1", -1, "k", "x", 1, 0), "approximateArrivalTimestamp"},
      {krec("1", BP_TIME_MAX_MS + 1, "k", "x", 1, 0), "approximateArrivalTimestamp"},
      {krec("1", 1, "\xc3", "x", 1, 0), "partitionKey"},
      {krec("1", 1, "k", "Zm9v\n", 5, BP_RECORD_DATA_BASE64), "base64"},
      {krec("1", 1, "k", "Zm9", 3, BP_RECORD_DATA_BASE64), "base64"},
      {krec("1", 1, "k", NULL, 3, 0), "data"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    bp_record two[2] = {krec("1", 1, "k", "x", 1, 0), cases[i].r};
    size_t size;
    assert_int_equal(bp_codec_event_size(c, "s", two, 2, NULL, &size), BP_ERR_INVALID_RECORD);
    if (!strstr(bp_codec_errmsg(c), cases[i].msg) || !strstr(bp_codec_errmsg(c), "record 1"))
      fail_msg("case %zu: message '%s'", i, bp_codec_errmsg(c));
    const char *out;
    assert_int_equal(bp_codec_encode_event(c, "s", two, 2, NULL, &out, &size), BP_ERR_INVALID_RECORD);
  }
  bp_record bad_enc = krec("1", 1, "k", "x", 1, 0);
  bad_enc.encryption_type = "\xff";
  bad_enc.encryption_type_len = 1;
  size_t size;
  assert_int_equal(bp_codec_record_size(c, "s", &bad_enc, &size), BP_ERR_INVALID_RECORD);
  /* argument errors */
  bp_record ok = krec("1", 1, "k", "x", 1, 0);
  assert_int_equal(bp_codec_event_size(c, NULL, &ok, 1, NULL, &size), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_codec_event_size(c, "\xff", &ok, 1, NULL, &size), BP_ERR_INVALID_UTF8);
  assert_int_equal(bp_codec_event_size(c, "s", NULL, 1, NULL, &size), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_codec_event_size(c, "s", &ok, 1, NULL, NULL), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_codec_event_size(NULL, "s", &ok, 1, NULL, &size), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_codec_encode_event(c, "s", &ok, 1, NULL, NULL, &size), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_codec_record_size(c, "s", NULL, &size), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_codec_event_overhead(c, "s", NULL, NULL), BP_ERR_INVALID_ARGUMENT);
  /* after an error the codec keeps working */
  size_t len;
  encode(c, "s", &ok, 1, NULL, &len);
  bp_codec_del(c);
}

/* Kinesis partition keys are 1 to 256 Unicode code points (PutRecord); a length above
 * 4 x 256 bytes, or one no buffer has, is refused before the key is read. */
static void test_kinesis_partition_key_limits(void **state) {
  (void)state;
  bp_codec *c = kinesis_codec("arn:aws:kinesis:us-east-1:1:stream/s", "arn:aws:iam::1:role/r");
  char *key = malloc(4 * 257); /* on the heap, so a read past its end is seen by ASan */
  size_t size;
  struct {
    const char *unit; /* one character */
    size_t chars;
    int rc;
    const char *msg;
  } cases[] = {
      {"k", 0, BP_ERR_INVALID_RECORD, "record 0: partitionKey is empty"},
      {"k", 1, 0, ""},
      {"k", 256, 0, ""},
      {"k", 257, BP_ERR_INVALID_RECORD, "record 0: partitionKey is longer than 256 characters"},
      {"\xc3\xa9", 256, 0, ""}, /* 512 bytes, 256 characters */
      {"\xc3\xa9", 257, BP_ERR_INVALID_RECORD,
       "record 0: partitionKey is longer than 256 characters"},
      {"\xf0\x9f\x98\x80", 256, 0, ""}, /* 1,024 bytes */
      {"\xf0\x9f\x98\x80", 257, BP_ERR_INVALID_RECORD,
       "record 0: partitionKey is longer than 256 characters"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t u = strlen(cases[i].unit);
    for (size_t k = 0; k < cases[i].chars; k++) memcpy(key + k * u, cases[i].unit, u);
    bp_record r = krec("1", 1, "k", "x", 1, 0);
    r.partition_key = key;
    r.partition_key_len = u * cases[i].chars;
    if (bp_codec_record_size(c, "s", &r, &size) != cases[i].rc ||
        strcmp(bp_codec_errmsg(c), cases[i].msg) != 0)
      fail_msg("case %zu: '%s'", i, bp_codec_errmsg(c));
  }
  /* NULL with length 0 is the empty key */
  bp_record r = krec("1", 1, "k", "x", 1, 0);
  r.partition_key = NULL;
  r.partition_key_len = 0;
  assert_int_equal(bp_codec_record_size(c, "s", &r, &size), BP_ERR_INVALID_RECORD);
  assert_string_equal(bp_codec_errmsg(c), "record 0: partitionKey is empty");
  /* hostile lengths over a 2-byte key: never read */
  memcpy(key, "pk", 2);
  const size_t huge[] = {4 * 256 + 1, (size_t)1 << 40, (size_t)PTRDIFF_MAX, SIZE_MAX};
  for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
    r = krec("1", 1, "k", "x", 1, 0);
    r.partition_key = key;
    r.partition_key_len = huge[i];
    assert_int_equal(bp_codec_record_size(c, "s", &r, &size), BP_ERR_INVALID_RECORD);
    assert_non_null(strstr(bp_codec_errmsg(c), "partitionKey"));
    const char *out;
    assert_int_equal(bp_codec_encode_event(c, "s", &r, 1, NULL, &out, &size),
                     BP_ERR_INVALID_RECORD);
  }
  free(key);
  bp_codec_del(c);
}

/* The encoder checks base64 data as it copies it (one pass), after the size pass: its error
 * must still be the one the size functions give, the first in record order. Random batches
 * with defects (bad sequence number, base64, partition key, encryptionType) in random
 * records, each compared. */
static void test_deferred_base64_error_order(void **state) {
  (void)state;
  bp_codec *c = kinesis_codec("arn:aws:kinesis:us-east-1:1:stream/s", "arn:aws:iam::1:role/r");
  uint32_t rng = 12345;
  int b64_errors = 0;
  for (int iter = 0; iter < 3000; iter++) {
    bp_record r[6];
    for (size_t i = 0; i < 6; i++) {
      rng = rng * 1103515245u + 12345u;
      unsigned defects = (rng >> 16) % 32 < 20 ? 0 : (rng >> 21); /* most records clean */
      r[i] = krec((defects & 1) ? "01" : "1", 1, (defects & 4) ? "\xc3" : "k",
                  (defects & 2) ? "Zm9v Zg==" : "Zm9vZg==", (defects & 2) ? 9 : 8,
                  BP_RECORD_DATA_BASE64);
      if (defects & 8) {
        r[i].encryption_type = "\xff";
        r[i].encryption_type_len = 1;
      }
    }
    size_t size, len;
    const char *out;
    int want = bp_codec_event_size(c, "s", r, 6, NULL, &size);
    char msg[256];
    snprintf(msg, sizeof msg, "%s", bp_codec_errmsg(c));
    int got = bp_codec_encode_event(c, "s", r, 6, NULL, &out, &len);
    assert_int_equal(got, want);
    if (strcmp(msg, bp_codec_errmsg(c)))
      fail_msg("iteration %d: size says '%s', encode '%s'", iter, msg, bp_codec_errmsg(c));
    /* into a caller's buffer, large or too small: the data error before "too small" */
    static char to[8192];
    size_t caps[2] = {sizeof to, 16};
    for (size_t k = 0; k < 2; k++) {
      got = bp_codec_encode_event_to(c, "s", r, 6, NULL, to, caps[k], &len);
      assert_int_equal(got, want || k == 0 ? want : BP_ERR_BUFFER_TOO_SMALL);
      if (want && strcmp(msg, bp_codec_errmsg(c)))
        fail_msg("iteration %d: size says '%s', encode_to '%s'", iter, msg, bp_codec_errmsg(c));
    }
    b64_errors += strstr(msg, "base64") != NULL;
  }
  assert_true(b64_errors > 100); /* the case under test did occur */
  /* bad base64 found only by the write pass: the record after clean ones is named */
  bp_record r[3] = {krec("1", 1, "k", "Zm9v", 4, BP_RECORD_DATA_BASE64),
                    krec("2", 1, "k", "Zm9v", 4, BP_RECORD_DATA_BASE64),
                    krec("3", 1, "k", "Zm9\x80", 4, BP_RECORD_DATA_BASE64)};
  const char *out;
  size_t len;
  assert_int_equal(bp_codec_encode_event(c, "s", r, 3, NULL, &out, &len), BP_ERR_INVALID_RECORD);
  assert_non_null(strstr(bp_codec_errmsg(c), "record 2: data is not strict base64"));
  /* and the codec keeps working: the same records, fixed, encode as the raw bytes do */
  r[2] = krec("3", 1, "k", "Zm9v", 4, BP_RECORD_DATA_BASE64);
  char *b64_event = strdup(encode(c, "s", r, 3, NULL, &len));
  for (size_t i = 0; i < 3; i++) r[i] = krec(i == 0 ? "1" : i == 1 ? "2" : "3", 1, "k", "foo", 3, 0);
  size_t raw_len;
  assert_string_equal(encode(c, "s", r, 3, NULL, &raw_len), b64_event);
  free(b64_event);
  bp_codec_del(c);
}

/* Sizes that do not fit in a size_t are refused, never wrapped; raw data is not read to
 * measure it, and a length no object can have is refused before anything is read. */
static void test_record_size_overflow(void **state) {
  (void)state;
  bp_codec *c = kinesis_codec("arn:aws:kinesis:us-east-1:1:stream/s", "arn:aws:iam::1:role/r");
  char *two = malloc(2);
  memcpy(two, "xy", 2);
  size_t size = 0;
  const size_t huge[] = {SIZE_MAX, (SIZE_MAX / 4) * 3 + 1, (size_t)PTRDIFF_MAX + 1};
  for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
    bp_record r = krec("1", 1, "k", two, huge[i], 0);
    assert_int_equal(bp_codec_record_size(c, "s", &r, &size), BP_ERR_INVALID_RECORD);
    assert_non_null(strstr(bp_codec_errmsg(c), "data"));
    r = krec("1", 1, "k", two, huge[i], BP_RECORD_DATA_BASE64);
    assert_int_equal(bp_codec_record_size(c, "s", &r, &size), BP_ERR_INVALID_RECORD);
    r = krec("1", 1, "k", "x", 1, 0);
    r.encryption_type = two;
    r.encryption_type_len = huge[i];
    assert_int_equal(bp_codec_record_size(c, "s", &r, &size), BP_ERR_INVALID_RECORD);
    assert_non_null(strstr(bp_codec_errmsg(c), "encryptionType"));
  }
  /* the largest raw payload whose base64 fits: measured (not read), then too large */
  bp_record r = krec("1", 1, "k", two, (size_t)PTRDIFF_MAX, 0);
  assert_int_equal(bp_codec_record_size(c, "s", &r, &size), 0);
  assert_true(size > bp_base64_encoded_len((size_t)PTRDIFF_MAX));
  bp_record many[2] = {r, r};
  assert_int_equal(bp_codec_event_size(c, "s", many, 2, NULL, &size), BP_ERR_INVALID_RECORD);
  assert_non_null(strstr(bp_codec_errmsg(c), "too large"));
  bp_codec_del(c);
  free(two);
}

static void test_codec_new_errors(void **state) {
  (void)state;
  bp_codec *c = (bp_codec *)1;
  bp_codec_opts o = {sizeof(bp_codec_opts), BP_SOURCE_KINESIS, "arn:aws:kinesis:us-east-1:1:stream/s", NULL, "role", NULL};
  assert_int_equal(bp_codec_new(NULL, &o, NULL), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_codec_new(&c, NULL, NULL), BP_ERR_INVALID_ARGUMENT);
  assert_null(c);
  o.source = 3;
  assert_int_equal(bp_codec_new(&c, &o, NULL), BP_ERR_INVALID_ARGUMENT);
  o.source = BP_SOURCE_KINESIS;
  o.invoke_identity_arn = NULL; /* required for Kinesis */
  assert_int_equal(bp_codec_new(&c, &o, NULL), BP_ERR_INVALID_ARGUMENT);
  o.source = BP_SOURCE_DYNAMODB; /* not for DynamoDB */
  assert_int_equal(bp_codec_new(&c, &o, NULL), 0);
  bp_codec_del(c);
  o.event_source_arn = "not-an-arn"; /* region not derivable */
  assert_int_equal(bp_codec_new(&c, &o, NULL), BP_ERR_INVALID_ARGUMENT);
  o.aws_region = "eu-west-1"; /* unless given */
  assert_int_equal(bp_codec_new(&c, &o, NULL), 0);
  bp_codec_del(c);
  o.event_source_arn = "\xff";
  assert_int_equal(bp_codec_new(&c, &o, NULL), BP_ERR_INVALID_ARGUMENT);
  o.event_source_arn = "";
  assert_int_equal(bp_codec_new(&c, &o, NULL), BP_ERR_INVALID_ARGUMENT);
  bp_codec_del(NULL);
  assert_string_equal(bp_codec_errmsg(NULL), "");
}

/* ---- DynamoDB ---- */

static bp_record drec(const char *seq, int64_t arrival, const char *name, const char *json) {
  bp_record r;
  bp_record_init(&r, sizeof r);
  r.seq = seq;
  r.seq_len = strlen(seq);
  r.arrival_ms = arrival;
  r.event_id = "id-1";
  r.event_id_len = 4;
  r.event_name = name;
  r.event_name_len = strlen(name);
  r.dynamodb_json = json;
  r.dynamodb_json_len = json ? strlen(json) : 0;
  return r;
}

static bp_codec *ddb_codec(void) {
  bp_codec_opts o = {sizeof(bp_codec_opts), BP_SOURCE_DYNAMODB, "arn:aws:dynamodb:us-east-2:1:table/t/stream/2019-11-14T00:04:06.388",
                     NULL, NULL, NULL};
  bp_codec *c;
  assert_int_equal(bp_codec_new(&c, &o, NULL), 0);
  return c;
}

/* The dynamodb text as embedded in the single record of an encoded event. */
static void ddb_embedded(bp_codec *c, const bp_record *r, const char *want) {
  size_t len;
  const char *out = encode(c, "shard-1", r, 1, NULL, &len);
  const char *start = strstr(out, "\"dynamodb\":") + strlen("\"dynamodb\":");
  const char *end = strstr(out, ",\"eventSourceARN\"");
  assert_int_equal((size_t)(end - start), strlen(want));
  assert_memory_equal(start, want, strlen(want));
}

static void test_ddb_member_insertion(void **state) {
  (void)state;
  bp_codec *c = ddb_codec();
  bp_record r = drec("800000000003126276362", 1573690399000, "MODIFY", "{\"Keys\":{\"k\":{\"N\":\"1\"}}}");
  ddb_embedded(c, &r, "{\"ApproximateCreationDateTime\":1573690399.000,\"Keys\":{\"k\":{\"N\":\"1\"}},"
                      "\"SequenceNumber\":\"800000000003126276362\"}");
  r = drec("7", 1000, "REMOVE", " { } ");
  ddb_embedded(c, &r, " {\"ApproximateCreationDateTime\":1.000 ,\"SequenceNumber\":\"7\"} ");
  r = drec("7", 1000, "INSERT", "{\n \"SizeBytes\": 5\n}");
  ddb_embedded(c, &r, "{\"ApproximateCreationDateTime\":1.000,\n \"SizeBytes\": 5\n,\"SequenceNumber\":\"7\"}");
  /* present and equal: embedded untouched, whatever the number's spelling */
  const char *same[] = {
      "{\"ApproximateCreationDateTime\":1.5,\"SequenceNumber\":\"7\"}",
      "{\"SequenceNumber\":\"7\",\"ApproximateCreationDateTime\":1.500}",
      "{\"ApproximateCreationDateTime\":1.5E0,\"SequenceNumber\":\"7\"}",
      "{\"ApproximateCreationDateTime\":15e-1,\"SequenceNumber\":\"7\"}",
      "{\"ApproximateCreationDateTime\":1.5009,\"SequenceNumber\":\"7\"}", /* same ms */
      "{\"ApproximateCreationDateTime\":0.0015e3,\"SequenceNumber\":\"7\"}",
  };
  for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
    r = drec("7", 1500, "INSERT", same[i]);
    ddb_embedded(c, &r, same[i]);
  }
  r = drec("7", 1500, "INSERT", "{\"SequenceNumber\":\"7\"}");
  ddb_embedded(c, &r, "{\"ApproximateCreationDateTime\":1.500,\"SequenceNumber\":\"7\"}");
  r = drec("7", 0, "INSERT", "{\"ApproximateCreationDateTime\":0}");
  ddb_embedded(c, &r, "{\"ApproximateCreationDateTime\":0,\"SequenceNumber\":\"7\"}");
  r = drec("7", 1573690399000, "INSERT", "{\"ApproximateCreationDateTime\":1573690399}");
  ddb_embedded(c, &r, "{\"ApproximateCreationDateTime\":1573690399,\"SequenceNumber\":\"7\"}");
  /* nested members of the same names are not the record's */
  r = drec("7", 1000, "INSERT", "{\"Keys\":{\"SequenceNumber\":{\"S\":\"x\"}}}");
  ddb_embedded(c, &r, "{\"ApproximateCreationDateTime\":1.000,\"Keys\":{\"SequenceNumber\":{\"S\":\"x\"}},\"SequenceNumber\":\"7\"}");
  bp_codec_del(c);
}

static void test_ddb_user_identity(void **state) {
  (void)state;
  bp_codec *c = ddb_codec();
  bp_record r = drec("7", 1000, "REMOVE", "{}");
  const char *uid = "{\"type\":\"Service\",\"principalId\":\"dynamodb.amazonaws.com\"}";
  r.user_identity_json = uid;
  r.user_identity_json_len = strlen(uid);
  size_t len;
  const char *out = encode(c, "s", &r, 1, NULL, &len);
  assert_non_null(strstr(out, "/stream/2019-11-14T00:04:06.388\",\"userIdentity\":{\"type\":\"Service\","
                              "\"principalId\":\"dynamodb.amazonaws.com\"}}]}"));
  assert_non_null(strstr(out, "\"awsRegion\":\"us-east-2\""));
  bp_codec_del(c);
}

static void test_ddb_invalid(void **state) {
  (void)state;
  bp_codec *c = ddb_codec();
  struct {
    bp_record r;
    const char *msg;
  } cases[] = {
      {drec("7", 1000, "UPSERT", "{}"), "eventName"},
      {drec("7", 1000, "insert", "{}"), "eventName"},
      {drec("07", 1000, "INSERT", "{}"), "SequenceNumber"},
      {drec("7", -5, "INSERT", "{}"), "ApproximateCreationDateTime"},
      {drec("7", 1000, "INSERT", NULL), "not a JSON object"},
      {drec("7", 1000, "INSERT", "[]"), "not a JSON object"},
      {drec("7", 1000, "INSERT", "{\"a\":}"), "not a JSON object"},
      {drec("7", 1000, "INSERT", "{} {}"), "not a JSON object"},
      {drec("7", 1000, "INSERT", "{\"a\":\"\xff\"}"), "not a JSON object"},
      {drec("7", 1000, "INSERT", "{\"SequenceNumber\":\"8\"}"), "differs"},
      {drec("7", 1000, "INSERT", "{\"SequenceNumber\":\"07\"}"), "differs"},
      {drec("7", 1000, "INSERT", "{\"SequenceNumber\":7}"), "wrong type"},
      {drec("7", 1000, "INSERT", "{\"ApproximateCreationDateTime\":1.001}"), "differs"},
      {drec("7", 1000, "INSERT", "{\"ApproximateCreationDateTime\":-1}"), "differs"},
      {drec("7", 1000, "INSERT", "{\"ApproximateCreationDateTime\":\"1\"}"), "wrong type"},
      {drec("7", 1000, "INSERT", "{\"ApproximateCreationDateTime\":{}}"), "wrong type"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t size;
    int rc = bp_codec_event_size(c, "s", &cases[i].r, 1, NULL, &size);
    if (rc != BP_ERR_INVALID_RECORD || !strstr(bp_codec_errmsg(c), cases[i].msg))
      fail_msg("case %zu: rc %d message '%s'", i, rc, bp_codec_errmsg(c));
  }
  bp_record r = drec("7", 1000, "INSERT", "{}");
  r.event_id = NULL;
  size_t size;
  assert_int_equal(bp_codec_record_size(c, "s", &r, &size), BP_ERR_INVALID_RECORD);
  r = drec("7", 1000, "INSERT", "{}");
  r.user_identity_json = "\"Service\"";
  r.user_identity_json_len = 9;
  assert_int_equal(bp_codec_record_size(c, "s", &r, &size), BP_ERR_INVALID_RECORD);
  assert_non_null(strstr(bp_codec_errmsg(c), "userIdentity"));
  bp_codec_del(c);
}

/* ---- randomized: size == output length, output valid JSON, data round-trips ---- */

static uint32_t rnd(uint32_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

static void test_random_sizes(void **state) {
  (void)state;
  static const char *pieces[] = {"a", "\"", "\\", "\n", "\x01", "\x1f", "\xc3\xa9", "/",
                                 "\xf0\x9f\x98\x80", " ", "\x7f"};
  bp_codec *c = kinesis_codec("arn:aws:kinesis:us-east-1:1:stream/s", "arn:aws:iam::1:role/r");
  bp_codec *d = ddb_codec();
  uint32_t s = 7;
  char pk[20][64], seqs[20][40], json[20][1024];
  uint8_t data[20][300];
  bp_record r[20];
  for (int iter = 0; iter < 300; iter++) {
    size_t n = rnd(&s) % 20;
    for (size_t i = 0; i < n; i++) {
      pk[i][0] = '\0';
      for (uint32_t k = rnd(&s) % 8 + 1; k; k--) /* a Kinesis key is never empty */
        strcat(pk[i], pieces[rnd(&s) % 11]);
      snprintf(seqs[i], sizeof seqs[i], "%u%u", rnd(&s) % 9 + 1, rnd(&s));
      size_t dl = rnd(&s) % 300;
      for (size_t k = 0; k < dl; k++) data[i][k] = (uint8_t)rnd(&s);
      r[i] = krec(seqs[i], (int64_t)(rnd(&s) % 2000000000) * 1000 + rnd(&s) % 1000, pk[i],
                  (const char *)data[i], dl, 0);
      if (rnd(&s) % 4 == 0) {
        r[i].encryption_type = pk[i];
        r[i].encryption_type_len = strlen(pk[i]);
      }
    }
    bp_window_fields w = {sizeof(bp_window_fields), 0, 120000, "{\"n\":1}", 7, (int)(rnd(&s) % 2), 0};
    size_t len;
    const char *shard = iter % 3 ? "shardId-000000000001" : "sh\"ard";
    encode(c, shard, r, n, rnd(&s) % 3 ? NULL : &w, &len);
    for (size_t i = 0; i < n; i++) {
      const char *shapes[] = {"{}", "{\"Keys\":{\"a\":{\"S\":\"%s\"}}}", "{ \"SequenceNumber\" : \"%s\" }",
                              "{\"ApproximateCreationDateTime\":%lld.%03lld,\"x\":[1,{}]}"};
      int shape = (int)(rnd(&s) % 4);
      if (shape == 2) snprintf(json[i], sizeof json[i], shapes[2], seqs[i]);
      else if (shape == 3)
        snprintf(json[i], sizeof json[i], shapes[3], (long long)(r[i].arrival_ms / 1000),
                 (long long)(r[i].arrival_ms % 1000));
      else snprintf(json[i], sizeof json[i], shapes[shape], "v");
      r[i].event_name = "MODIFY";
      r[i].event_name_len = 6;
      r[i].event_id = pk[i][0] ? pk[i] : "e";
      r[i].event_id_len = strlen(r[i].event_id);
      r[i].dynamodb_json = json[i];
      r[i].dynamodb_json_len = strlen(json[i]);
    }
    encode(d, "s", r, n, NULL, &len);
  }
  bp_codec_del(c);
  bp_codec_del(d);
}

/* approximateArrivalTimestamp of every record equals bp_time_format_epoch_seconds(), whether
 * the record shares the second before it, starts a new one, goes back in time, or has more
 * digits (the encoder reuses the seconds' text within a second). */
static void test_arrival_seconds_runs(void **state) {
  (void)state;
  static const int64_t ms[] = {0,          1,          999,           1000,          1000,
                               1999,       1001,       999999999999,  1000000000000, 1000000000001,
                               1545084650001, 1545084650999, 1545084651000, 1545084650500,
                               BP_TIME_MAX_MS, BP_TIME_MAX_MS - 1, 5, 5};
  enum { N = sizeof ms / sizeof ms[0] };
  bp_codec *c = kinesis_codec("arn:aws:kinesis:us-east-1:1:stream/s", "arn:aws:iam::1:role/r");
  bp_record r[N];
  char seqs[N][8];
  for (size_t i = 0; i < N; i++) {
    snprintf(seqs[i], sizeof seqs[i], "%zu", i + 1);
    r[i] = krec(seqs[i], ms[i], "k", "d", 1, 0);
  }
  size_t len;
  const char *out = encode(c, "shardId-1", r, N, NULL, &len);
  const char *p = out;
  static const char key[] = "\"approximateArrivalTimestamp\":";
  for (size_t i = 0; i < N; i++) {
    p = strstr(p, key);
    assert_non_null(p);
    p += sizeof key - 1;
    char want[32];
    int n = bp_time_format_epoch_seconds(ms[i], want, sizeof want);
    assert_true(n > 0);
    if (strncmp(p, want, (size_t)n) || (p[n] != ',' && p[n] != '}'))
      fail_msg("record %zu: %.20s, want %s", i, p, want);
  }
  assert_null(strstr(p, key));
  bp_codec_del(c);
}

/* A batch near the 6 MB limit: sizes stay exact at scale. */
static void test_large_event(void **state) {
  (void)state;
  bp_codec *c = kinesis_codec("arn:aws:kinesis:us-east-1:1:stream/s", "arn:aws:iam::1:role/r");
  size_t n = 11, dl = 400 * 1024;
  uint8_t *data = malloc(dl);
  assert_non_null(data);
  memset(data, 0xAB, dl);
  bp_record r[12];
  char seqs[12][8];
  for (size_t i = 0; i < 12; i++) {
    snprintf(seqs[i], sizeof seqs[i], "%zu", i + 1);
    r[i] = krec(seqs[i], 1000, "pk", (const char *)data, dl, 0);
  }
  size_t size11, size12, len;
  assert_int_equal(bp_codec_event_size(c, "s", r, n, NULL, &size11), 0);
  assert_int_equal(bp_codec_event_size(c, "s", r, 12, NULL, &size12), 0);
  assert_true(size11 <= BP_MAX_EVENT_BYTES); /* 11 x 400 KiB fit (SEMANTICS.md §11.47) */
  assert_true(size12 > BP_MAX_EVENT_BYTES);  /* a 12th does not */
  encode(c, "s", r, n, NULL, &len);
  assert_int_equal(BP_MAX_EVENT_BYTES, 6291456u);
  free(data);
  bp_codec_del(c);
}

/* ---- memory: failmalloc and no allocation in steady state ---- */

typedef struct fm_ctx {
  int source;
} fm_ctx;

static int encode_scenario(const bp_allocator *hooks, void *ctx) {
  fm_ctx *f = ctx;
  bp_codec_opts o = {sizeof(bp_codec_opts), f->source,
                     f->source == BP_SOURCE_KINESIS ? "arn:aws:kinesis:us-east-1:1:stream/s"
                                                    : "arn:aws:dynamodb:us-east-1:1:table/t/stream/x",
                     NULL, "arn:aws:iam::1:role/r", NULL};
  bp_codec *c;
  int rc = bp_codec_new(&c, &o, hooks);
  if (rc) return rc;
  bp_record r[3];
  for (int i = 0; i < 3; i++) {
    r[i] = drec(i == 0 ? "1" : i == 1 ? "2" : "3", 1000, "INSERT",
                "{\"Keys\":{\"a\":{\"S\":\"\\u00e9 long enough to make yajl grow its buffers\"}}}");
    r[i].partition_key = "k";
    r[i].partition_key_len = 1;
    r[i].data = (const uint8_t *)"payload";
    r[i].data_len = 7;
  }
  bp_window_fields w = {sizeof(bp_window_fields), 0, 60000, "{\"s\":[1,2,3]}", 13, 0, 0};
  const char *out;
  size_t len;
  for (int round = 0; round < 2 && !rc; round++)
    rc = bp_codec_encode_event(c, "shard", r, 3, round ? &w : NULL, &out, &len);
  bp_codec_del(c);
  return rc;
}

static void test_failmalloc_kinesis(void **state) {
  (void)state;
  fm_ctx f = {BP_SOURCE_KINESIS};
  test_alloc_failmalloc(encode_scenario, &f);
}

static void test_failmalloc_ddb(void **state) {
  (void)state;
  fm_ctx f = {BP_SOURCE_DYNAMODB};
  test_alloc_failmalloc(encode_scenario, &f);
}

static void test_steady_state_no_alloc(void **state) {
  (void)state;
  test_alloc t;
  bp_allocator hooks;
  test_alloc_init(&t, &hooks);
  bp_codec_opts o = {sizeof(bp_codec_opts), BP_SOURCE_DYNAMODB, "arn:aws:dynamodb:us-east-1:1:table/t/stream/x", NULL, NULL, NULL};
  bp_codec *c;
  assert_int_equal(bp_codec_new(&c, &o, &hooks), 0);
  enum { N = 500 };
  static bp_record r[N];
  static char seqs[N][12];
  for (int i = 0; i < N; i++) {
    snprintf(seqs[i], sizeof seqs[i], "%d", 1000 + i);
    r[i] = drec(seqs[i], 1000, "INSERT", "{\"Keys\":{\"a\":{\"S\":\"x\"}},\"NewImage\":{\"a\":{\"S\":\"x\"}}}");
  }
  const char *out;
  size_t len;
  assert_int_equal(bp_codec_encode_event(c, "s", r, N, NULL, &out, &len), 0);
  size_t before = t.calls;
  for (int round = 0; round < 5; round++)
    assert_int_equal(bp_codec_encode_event(c, "s", r, N, NULL, &out, &len), 0);
  assert_int_equal(t.calls, before); /* 2,500 records validated and encoded, no allocation */
  bp_codec_del(c);
  assert_int_equal(t.live_blocks, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_golden_seed_001),     cmocka_unit_test(test_golden_seed_002),
      cmocka_unit_test(test_golden_spec_examples), cmocka_unit_test(test_window_event),
      cmocka_unit_test(test_escaping),            cmocka_unit_test(test_kinesis_invalid_records),
      cmocka_unit_test(test_codec_new_errors),    cmocka_unit_test(test_ddb_member_insertion),
      cmocka_unit_test(test_ddb_user_identity),   cmocka_unit_test(test_ddb_invalid),
      cmocka_unit_test(test_random_sizes),        cmocka_unit_test(test_large_event),
      cmocka_unit_test(test_failmalloc_kinesis),  cmocka_unit_test(test_failmalloc_ddb),
      cmocka_unit_test(test_steady_state_no_alloc),
      cmocka_unit_test(test_kinesis_partition_key_limits),
      cmocka_unit_test(test_record_size_overflow),
      cmocka_unit_test(test_deferred_base64_error_order),
      cmocka_unit_test(test_arrival_seconds_runs),
  };
  return cmocka_run_group_tests_name("codec_event", tests, NULL, NULL);
}
