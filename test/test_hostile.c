/* SPDX-License-Identifier: MIT */
/* Hostile arguments to every public function that takes a (pointer, length), a size, a count,
 * an integer setting or a time: SIZE_MAX and huge lengths over short heap buffers, NULL with
 * a length, lengths just over each documented limit, INT_MIN / INT_MAX / UINT32_MAX, negative
 * times and BP_TIME_MAX_MS + 1. Each call must return its documented error code without
 * reading past a buffer (run under ASan by `make sanitize`). One test per function family. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <cmocka.h>

#include "batchpoint.h"
#include "batchpoint/bp_engine.h"

#define KIN_ARN "arn:aws:kinesis:us-east-1:111111111111:stream/s1"
#define ROLE_ARN "arn:aws:iam::111111111111:role/r"
#define FN_ARN "arn:aws:lambda:us-east-1:111111111111:function:f"

/* Lengths no buffer of this test has: each is used over a 2..4-byte heap buffer. */
static const size_t huge[] = {SIZE_MAX, SIZE_MAX - 3, (size_t)PTRDIFF_MAX + 1,
                              (size_t)PTRDIFF_MAX, (size_t)1 << 40};
#define NHUGE (sizeof huge / sizeof huge[0])

static const int64_t bad_times[] = {INT64_MIN, -1, BP_TIME_MAX_MS + 1, INT64_MAX};
#define NTIMES (sizeof bad_times / sizeof bad_times[0])

/* A heap copy of @p s without its NUL: a read past the end is an ASan error. */
static char *heap(const char *s) {
  size_t n = strlen(s);
  char *p = malloc(n ? n : 1);
  memcpy(p, s, n);
  return p;
}

static void test_base(void **state) {
  (void)state;
  const int codes[] = {INT_MIN, INT_MAX, -1000, 1, BP_ERR_FATAL};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    assert_non_null(bp_strerror(codes[i]));
    assert_non_null(bp_err_name(codes[i]));
  }
  assert_int_equal(bp_err_is_fatal(INT_MIN), 1);
  assert_int_equal(bp_err_is_fatal(INT_MAX), 0);
  assert_null(bp_version(INT_MAX));
  assert_non_null(bp_version(INT_MIN));
  /* an arena over a length no buffer has */
  static _Alignas(max_align_t) unsigned char buf[512];
  bp_arena *a;
  bp_allocator al;
  for (size_t i = 0; i < NHUGE; i++)
    if (huge[i] > (size_t)PTRDIFF_MAX || (uintptr_t)buf > UINTPTR_MAX - huge[i])
      assert_int_equal(bp_arena_init(&a, buf, huge[i], &al), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_arena_init(&a, buf, 0, &al), BP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(bp_arena_init(&a, buf, sizeof buf, &al), 0);
  /* requests the arena cannot hold fail cleanly */
  assert_null(al.malloc(SIZE_MAX, al.ud));
  assert_null(al.malloc(SIZE_MAX - 8, al.ud));
  void *p = al.malloc(16, al.ud);
  assert_non_null(p);
  assert_null(al.realloc(p, SIZE_MAX, al.ud));
  al.free(p, al.ud);
}

static void test_seqnum(void **state) {
  (void)state;
  char *s = heap("12");
  int r = 7;
  for (size_t i = 0; i < NHUGE; i++) {
    assert_int_equal(bp_seqnum_validate(s, huge[i]), BP_ERR_INVALID_SEQNUM);
    assert_int_equal(bp_seqnum_compare(s, huge[i], s, 2, &r), BP_ERR_INVALID_SEQNUM);
    assert_int_equal(bp_seqnum_compare(s, 2, s, huge[i], &r), BP_ERR_INVALID_SEQNUM);
  }
  assert_int_equal(bp_seqnum_validate(NULL, 5), BP_ERR_INVALID_SEQNUM);
  char *digits = malloc(BP_MAX_SEQNUM_DIGITS + 1);
  memset(digits, '9', BP_MAX_SEQNUM_DIGITS + 1);
  assert_int_equal(bp_seqnum_validate(digits, BP_MAX_SEQNUM_DIGITS), 0);
  assert_int_equal(bp_seqnum_validate(digits, BP_MAX_SEQNUM_DIGITS + 1), BP_ERR_INVALID_SEQNUM);
  assert_int_equal(r, 7);
  free(digits);
  free(s);
}

static void test_time(void **state) {
  (void)state;
  char buf[BP_TIME_ISO_MS_LEN];
  for (size_t i = 0; i < NTIMES; i++) {
    assert_int_equal(bp_time_format_iso_ms(bad_times[i], buf, sizeof buf), BP_ERR_RANGE);
    assert_int_equal(bp_time_format_iso_s(bad_times[i], buf, sizeof buf), BP_ERR_RANGE);
    assert_int_equal(bp_time_format_epoch_seconds(bad_times[i], buf, sizeof buf), BP_ERR_RANGE);
  }
  assert_int_equal(bp_time_format_iso_ms(0, NULL, 64), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_time_format_iso_ms(BP_TIME_MAX_MS, buf, 0), BP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(bp_time_format_iso_ms(BP_TIME_MAX_MS, buf, BP_TIME_ISO_MS_LEN - 1),
                   BP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(bp_time_format_iso_ms(BP_TIME_MAX_MS, buf, sizeof buf), 24);
}

static void test_config(void **state) {
  (void)state;
  bp_config *c;
  assert_int_equal(bp_config_new(&c, NULL), 0);
  char *two = heap("{}");
  int (*const text_setters[])(bp_config *, const char *, size_t) = {
      bp_config_set_event_source_arn, bp_config_set_function_name,
      bp_config_set_on_failure_destination, bp_config_add_filter, bp_config_parse_json};
  for (size_t k = 0; k < sizeof text_setters / sizeof text_setters[0]; k++) {
    assert_int_equal(text_setters[k](c, NULL, 1), BP_ERR_INVALID_ARGUMENT);
    assert_int_equal(text_setters[k](NULL, two, 2), BP_ERR_INVALID_ARGUMENT);
    for (size_t i = 0; i < NHUGE; i++) {
      int impossible = huge[i] > (size_t)PTRDIFF_MAX || (uintptr_t)two > UINTPTR_MAX - huge[i];
      if (text_setters[k] == bp_config_parse_json && !impossible && BP_WITH_CODEC)
        continue; /* a request body has no length limit: such a length is the caller's word */
      int rc = text_setters[k](c, two, huge[i]);
      if (impossible)
        assert_int_equal(rc, BP_ERR_INVALID_ARGUMENT);
      else if (text_setters[k] == bp_config_parse_json) /* core-only build */
        assert_int_equal(rc, BP_ERR_UNSUPPORTED);
      else
        assert_int_equal(rc, BP_ERR_CONFIG_INVALID); /* over the limit: not read */
      assert_true(bp_config_errmsg(c)[0] != '\0');
    }
  }
  /* just over each character limit */
  char *text = malloc(4 * 4096 + 1);
  memset(text, 'a', 4 * 4096 + 1);
  assert_int_equal(bp_config_set_function_name(c, text, 141), BP_ERR_CONFIG_INVALID);
  assert_int_equal(
      bp_config_set_event_source_arn(c, text, BP_CONFIG_MAX_EVENT_SOURCE_ARN_BYTES + 1),
      BP_ERR_CONFIG_INVALID);
  assert_int_equal(bp_config_set_on_failure_destination(c, text, 351), BP_ERR_CONFIG_INVALID);
  assert_int_equal(bp_config_add_filter(c, text, 4097), BP_ERR_CONFIG_INVALID);
  assert_int_equal(bp_config_add_filter(c, text, 4 * 4096 + 1), BP_ERR_CONFIG_INVALID);
  free(text);
  /* integer setters */
  assert_int_equal(bp_config_set_batch_size(c, 0), BP_ERR_CONFIG_INVALID);
  assert_int_equal(bp_config_set_batch_size(c, UINT32_MAX), BP_ERR_CONFIG_INVALID);
  assert_int_equal(bp_config_set_batch_size(c, BP_CONFIG_MAX_BATCH_SIZE + 1),
                   BP_ERR_CONFIG_INVALID);
  int (*const int_setters[])(bp_config *, int) = {
      bp_config_set_maximum_batching_window_in_seconds, bp_config_set_parallelization_factor,
      bp_config_set_starting_position, bp_config_set_maximum_retry_attempts,
      bp_config_set_maximum_record_age_in_seconds, bp_config_set_tumbling_window_in_seconds,
      bp_config_set_max_filters};
  const int bad_ints[] = {INT_MIN, INT_MAX, -2};
  for (size_t k = 0; k < sizeof int_setters / sizeof int_setters[0]; k++)
    for (size_t i = 0; i < sizeof bad_ints / sizeof bad_ints[0]; i++) {
      assert_int_equal(int_setters[k](c, bad_ints[i]), BP_ERR_CONFIG_INVALID);
      assert_int_equal(int_setters[k](NULL, 1), BP_ERR_INVALID_ARGUMENT);
    }
  int (*const flag_setters[])(bp_config *, int) = {
      bp_config_set_bisect_batch_on_function_error, bp_config_set_report_batch_item_failures,
      bp_config_set_enabled, bp_config_set_metrics_event_count};
  for (size_t k = 0; k < sizeof flag_setters / sizeof flag_setters[0]; k++) {
    assert_int_equal(flag_setters[k](c, INT_MIN), 0); /* non-zero is true */
    assert_int_equal(flag_setters[k](c, INT_MAX), 0);
  }
  const int64_t bad_ts[] = {INT64_MIN, -2, BP_TIME_MAX_MS + 1, INT64_MAX};
  for (size_t i = 0; i < sizeof bad_ts / sizeof bad_ts[0]; i++)
    assert_int_equal(bp_config_set_starting_position_timestamp_ms(c, bad_ts[i]),
                     BP_ERR_CONFIG_INVALID);
  assert_int_equal(bp_config_set_starting_position_timestamp_ms(c, BP_TIME_MAX_MS), 0);
  const char *t;
  size_t tl;
  assert_int_equal(bp_config_get_filter(c, SIZE_MAX, &t, &tl), BP_ERR_INVALID_ARGUMENT);
  char err[8];
  assert_int_equal(bp_config_set(c, "BatchSize", "99999999999999999999999", err, sizeof err),
                   BP_ERR_CONFIG_INVALID);
  assert_int_equal(bp_config_set(c, "BatchSize", "-2147483649", err, 0), BP_ERR_CONFIG_INVALID);
  assert_int_equal(bp_config_set(c, "StartingPositionTimestamp", "1e308", err, sizeof err),
                   BP_ERR_CONFIG_INVALID);
  assert_int_equal(bp_config_set(c, "StartingPositionTimestamp", "-1", err, sizeof err),
                   BP_ERR_CONFIG_INVALID);
  free(two);
  bp_config_del(c);
}

#if BP_WITH_CODEC

static bp_codec *kinesis_codec(void) {
  bp_codec_opts o = {.struct_size = sizeof(bp_codec_opts), .source = BP_SOURCE_KINESIS, .event_source_arn = KIN_ARN,
                     .invoke_identity_arn = ROLE_ARN, .function_arn = FN_ARN};
  bp_codec *c;
  assert_int_equal(bp_codec_new(&c, &o, NULL), 0);
  return c;
}

static bp_record good_record(void) {
  bp_record r;
  bp_record_init(&r, sizeof r);
  r.seq = "1";
  r.seq_len = 1;
  r.arrival_ms = 1000;
  r.partition_key = "k";
  r.partition_key_len = 1;
  r.data = (const uint8_t *)"x";
  r.data_len = 1;
  return r;
}

/* Every length field of a record, one at a time, over a 2-byte heap buffer. */
static void each_bad_record(void (*check)(void *ctx, const bp_record *r), void *ctx) {
  char *two = heap("ab");
  for (int f = 0; f < 8; f++)
    for (size_t i = 0; i < NHUGE; i++) {
      bp_record r = good_record();
      switch (f) {
      case 0: r.seq = two, r.seq_len = huge[i]; break;
      case 1: r.partition_key = two, r.partition_key_len = huge[i]; break;
      case 2: r.data = (const uint8_t *)two, r.data_len = huge[i]; break;
      case 3: r.encryption_type = two, r.encryption_type_len = huge[i]; break;
      case 4: r.event_id = two, r.event_id_len = huge[i]; break;
      case 5: r.event_name = two, r.event_name_len = huge[i]; break;
      case 6: r.dynamodb_json = two, r.dynamodb_json_len = huge[i]; break;
      default: r.user_identity_json = two, r.user_identity_json_len = huge[i]; break;
      }
      /* a PTRDIFF_MAX raw payload is measured without being read: that one is valid */
      if (f == 2 && huge[i] <= (size_t)PTRDIFF_MAX) continue;
      /* encryptionType has no limit, and fields a Kinesis record does not use are checked
       * only for lengths no object has */
      if (f >= 3 && huge[i] <= (size_t)PTRDIFF_MAX) continue;
      check(ctx, &r);
    }
  /* the base64-flagged payload is validated (read): only impossible lengths are refused */
  bp_record r = good_record();
  r.data = (const uint8_t *)two;
  r.data_len = SIZE_MAX;
  r.flags = BP_RECORD_DATA_BASE64;
  check(ctx, &r);
  free(two);
}

static void codec_refuses(void *ctx, const bp_record *r) {
  bp_codec *c = ctx;
  size_t size;
  const char *out;
  bp_record two[2] = {good_record(), *r};
  two[1].seq = r->seq == good_record().seq ? "2" : r->seq;
  if (bp_codec_record_size(c, "s", r, &size) != BP_ERR_INVALID_RECORD)
    fail_msg("record_size accepted a hostile record: %s", bp_codec_errmsg(c));
  assert_int_equal(bp_codec_event_size(c, "s", two, 2, NULL, &size), BP_ERR_INVALID_RECORD);
  assert_int_equal(bp_codec_encode_event(c, "s", two, 2, NULL, &out, &size),
                   BP_ERR_INVALID_RECORD);
}

static void test_codec(void **state) {
  (void)state;
  bp_codec *c = kinesis_codec();
  each_bad_record(codec_refuses, c);
  /* record arrays no memory holds */
  bp_record one = good_record();
  size_t size;
  const char *out;
  const size_t counts[] = {SIZE_MAX, SIZE_MAX / sizeof(bp_record) + 1, (size_t)PTRDIFF_MAX};
  for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
    assert_int_equal(bp_codec_event_size(c, "s", &one, counts[i], NULL, &size),
                     BP_ERR_INVALID_ARGUMENT);
    assert_int_equal(bp_codec_encode_event(c, "s", &one, counts[i], NULL, &out, &size),
                     BP_ERR_INVALID_ARGUMENT);
  }
  /* window fields */
  char *state_json = heap("{}");
  bp_window_fields w = {.struct_size = sizeof(bp_window_fields), .start_ms = 0, .end_ms = 1000, .state_json = state_json,
                        .state_json_len = SIZE_MAX};
  assert_int_equal(bp_codec_event_overhead(c, "s", &w, &size), BP_ERR_INVALID_ARGUMENT);
  w.state_json_len = (size_t)PTRDIFF_MAX + 1;
  assert_int_equal(bp_codec_encode_event(c, "s", &one, 1, &w, &out, &size),
                   BP_ERR_INVALID_ARGUMENT);
  w.state_json_len = 2;
  for (size_t i = 0; i < NTIMES; i++) {
    w.start_ms = bad_times[i];
    assert_int_equal(bp_codec_event_overhead(c, "s", &w, &size), BP_ERR_RANGE);
  }
  free(state_json);
  /* failure records: every string over a 2-byte buffer, every time out of range */
  char *two = heap("ab");
  bp_failure_info base;
  bp_failure_info_init(&base, sizeof base);
  base.condition = BP_CONDITION_RETRY_ATTEMPTS_EXHAUSTED;
  base.request_id = "r";
  base.request_id_len = 1;
  base.approximate_invoke_count = 1;
  base.status_code = 200;
  base.timestamp_ms = 1000;
  base.shard_id = "s";
  base.start_seq = base.end_seq = "1";
  base.start_seq_len = base.end_seq_len = 1;
  base.batch_size = 1;
  assert_int_equal(bp_codec_encode_failure(c, &base, &out, &size), 0);
  for (int f = 0; f < 6; f++)
    for (size_t i = 0; i < NHUGE; i++) {
      bp_failure_info fi = base;
      switch (f) {
      case 0: fi.request_id = two, fi.request_id_len = huge[i]; break;
      case 1: fi.executed_version = two, fi.executed_version_len = huge[i]; break;
      case 2: fi.function_error = two, fi.function_error_len = huge[i]; break;
      case 3: fi.payload = two, fi.payload_len = huge[i]; break;
      case 4: fi.start_seq = two, fi.start_seq_len = huge[i]; break;
      default: fi.end_seq = two, fi.end_seq_len = huge[i]; break;
      }
      if (f < 4 && huge[i] <= (size_t)PTRDIFF_MAX) continue; /* no limit: read as promised */
      int rc = bp_codec_encode_failure(c, &fi, &out, &size);
      assert_int_equal(rc, f < 4 ? BP_ERR_INVALID_ARGUMENT : BP_ERR_INVALID_SEQNUM);
    }
  for (size_t i = 0; i < NTIMES; i++) {
    bp_failure_info fi = base;
    fi.timestamp_ms = bad_times[i];
    assert_int_equal(bp_codec_encode_failure(c, &fi, &out, &size), BP_ERR_RANGE);
    fi = base;
    fi.first_arrival_ms = bad_times[i];
    assert_int_equal(bp_codec_encode_failure(c, &fi, &out, &size), BP_ERR_RANGE);
  }
  char key[128];
  for (size_t i = 0; i < NTIMES; i++)
    assert_int_equal(bp_failure_s3_key("u", "s", bad_times[i], "v", key, sizeof key),
                     BP_ERR_RANGE);
  assert_int_equal(bp_failure_s3_key("u", "s", 0, "v", key, 0), BP_ERR_BUFFER_TOO_SMALL);
  bp_failure_info fi = base;
  fi.status_code = INT_MIN;
  assert_int_equal(bp_codec_encode_failure(c, &fi, &out, &size), BP_ERR_INVALID_ARGUMENT);
  fi.status_code = INT_MAX;
  assert_int_equal(bp_codec_encode_failure(c, &fi, &out, &size), BP_ERR_INVALID_ARGUMENT);
  fi = base;
  fi.condition = INT_MIN;
  assert_int_equal(bp_codec_encode_failure(c, &fi, &out, &size), BP_ERR_INVALID_ARGUMENT);
  fi = base;
  fi.approximate_invoke_count = UINT32_MAX;
  fi.batch_size = UINT32_MAX;
  assert_int_equal(bp_codec_encode_failure(c, &fi, &out, &size), 0);
  free(two);
  bp_codec_del(c);
}

static void test_response(void **state) {
  (void)state;
  bp_codec *c = kinesis_codec();
  char *body = heap("{}");
  bp_record one = good_record();
  bp_response_result r;
  const uint32_t flags[] = {0, BP_CLASSIFY_REPORT_BATCH_ITEM_FAILURES,
                            BP_CLASSIFY_REQUIRE_STATE};
  for (size_t k = 0; k < sizeof flags / sizeof flags[0]; k++) {
    for (size_t i = 0; i < NHUGE; i++) {
      if (huge[i] <= (size_t)PTRDIFF_MAX) continue; /* unlimited by design: read as promised */
      assert_int_equal(bp_codec_classify_response(c, body, huge[i], &one, 1, flags[k], &r),
                       BP_ERR_INVALID_ARGUMENT);
    }
    assert_int_equal(bp_codec_classify_response(c, body, 2, &one, SIZE_MAX, flags[k], &r),
                     BP_ERR_INVALID_ARGUMENT);
    assert_int_equal(bp_codec_classify_response(c, NULL, 1, &one, 1, flags[k], &r),
                     BP_ERR_INVALID_ARGUMENT);
  }
  assert_int_equal(bp_codec_classify_response(c, body, 2, &one, 1, UINT32_MAX, &r),
                   BP_ERR_INVALID_ARGUMENT);
  /* a batch record whose sequence number length is hostile */
  char *two = heap("12");
  bp_record bad = good_record();
  bad.seq = two;
  bad.seq_len = SIZE_MAX;
  assert_int_equal(bp_codec_classify_response(c, body, 2, &bad, 1, 0, &r),
                   BP_ERR_INVALID_ARGUMENT);
  free(two);
  free(body);
  bp_codec_del(c);
}

static void test_base64(void **state) {
  (void)state;
  char *in = heap("Zm9v");
  char out[8];
  uint8_t dec[8];
  size_t w = 5;
  assert_int_equal(bp_base64_encoded_len(SIZE_MAX), SIZE_MAX);
  assert_int_equal(bp_base64_encoded_len((SIZE_MAX / 4) * 3 + 3), SIZE_MAX);
  for (size_t i = 0; i < NHUGE; i++) {
    int rc = bp_base64_encode((const uint8_t *)in, huge[i], out, sizeof out, &w);
    assert_true(rc == BP_ERR_TOO_LARGE || rc == BP_ERR_BUFFER_TOO_SMALL);
    rc = bp_base64_decode(in, huge[i], dec, sizeof dec, &w);
    assert_true(rc == BP_ERR_INVALID_BASE64 || rc == BP_ERR_BUFFER_TOO_SMALL);
  }
  assert_int_equal(bp_base64_encode(NULL, 1, out, sizeof out, &w), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_base64_decode(NULL, 4, dec, sizeof dec, &w), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(w, 5);
  free(in);
}

static void test_filter(void **state) {
  (void)state;
  bp_filter *f;
  assert_int_equal(bp_filter_new(&f, UINT32_MAX, NULL), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_filter_new(&f, 0, NULL), 0);
  char *two = heap("{}");
  int matched = 7;
  for (size_t i = 0; i < NHUGE; i++) {
    int rc = bp_filter_add(f, two, huge[i]);
    assert_true(rc == BP_ERR_TOO_LARGE || rc == BP_ERR_INVALID_ARGUMENT);
    if (huge[i] <= (size_t)PTRDIFF_MAX) continue; /* no limit: read as promised */
    assert_int_equal(bp_filter_match_json(f, two, huge[i], &matched), BP_ERR_INVALID_ARGUMENT);
    assert_int_equal(matched, 0);
  }
  assert_int_equal(bp_filter_add(f, NULL, 1), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_filter_match_json(f, NULL, 1, &matched), BP_ERR_INVALID_ARGUMENT);
  const char *pattern = "{\"kinesis\":{\"partitionKey\":[\"k\"]}}";
  assert_int_equal(bp_filter_add(f, pattern, strlen(pattern)), 0);
  bp_codec *c = kinesis_codec();
  char *key = heap("ab");
  for (size_t i = 0; i < NHUGE; i++) {
    bp_record r = good_record();
    r.partition_key = key;
    r.partition_key_len = huge[i];
    int result = 9;
    assert_int_equal(bp_filter_match_record(f, c, "s", &r, &result), BP_ERR_INVALID_RECORD);
    assert_int_equal(result, BP_FILTER_NO_MATCH);
  }
  /* a filter on `data` alone reads the payload without the codec */
  bp_filter *d;
  assert_int_equal(bp_filter_new(&d, 0, NULL), 0);
  const char *on_data = "{\"data\":{\"t\":[1]}}";
  assert_int_equal(bp_filter_add(d, on_data, strlen(on_data)), 0);
  for (size_t i = 0; i < NHUGE; i++) {
    if (huge[i] <= (size_t)PTRDIFF_MAX) continue; /* no limit: read as promised */
    for (uint32_t flags = 0; flags <= BP_RECORD_DATA_BASE64; flags++) {
      bp_record r = good_record();
      r.data = (const uint8_t *)key;
      r.data_len = huge[i];
      r.flags = flags;
      int result = 9;
      assert_int_equal(bp_filter_match_record(d, c, "s", &r, &result), BP_ERR_INVALID_RECORD);
      assert_int_equal(result, BP_FILTER_NO_MATCH);
    }
  }
  bp_filter_del(d);
  free(key);
  free(two);
  bp_codec_del(c);
  bp_filter_del(f);
}

#endif /* BP_WITH_CODEC */

static void test_batch(void **state) {
  (void)state;
  bp_batch_opts o = {.struct_size = sizeof(bp_batch_opts), .batch_size = 0, .event_overhead = 14};
  bp_batch *b;
  assert_int_equal(bp_batch_new(&b, &o, NULL), BP_ERR_INVALID_ARGUMENT);
  o.batch_size = UINT32_MAX;
  assert_int_equal(bp_batch_new(&b, &o, NULL), BP_ERR_INVALID_ARGUMENT);
  o.batch_size = BP_CONFIG_MAX_BATCH_SIZE + 1;
  assert_int_equal(bp_batch_new(&b, &o, NULL), BP_ERR_INVALID_ARGUMENT);
  o.batch_size = 10;
  o.window_seconds = UINT32_MAX;
  assert_int_equal(bp_batch_new(&b, &o, NULL), BP_ERR_INVALID_ARGUMENT);
  o.window_seconds = BP_CONFIG_MAX_BATCHING_WINDOW_IN_SECONDS + 1;
  assert_int_equal(bp_batch_new(&b, &o, NULL), BP_ERR_INVALID_ARGUMENT);
  o.window_seconds = 0;
  o.max_event_bytes = SIZE_MAX;
  o.event_overhead = SIZE_MAX;
  static _Alignas(max_align_t) unsigned char mem[1024];
  assert_true(bp_batch_mem_size(&o) <= sizeof mem);
  assert_int_equal(bp_batch_init_in(mem, 0, &o, &b), BP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(bp_batch_init_in(mem, SIZE_MAX, &o, &b), 0); /* only its size is used */
  for (size_t i = 0; i < NTIMES; i++) {
    assert_int_equal(bp_batch_offer(b, 1, 0, bad_times[i]), BP_ERR_RANGE);
    assert_int_equal(bp_batch_ready(b, bad_times[i]), BP_ERR_RANGE);
  }
  assert_int_equal(bp_batch_offer(b, 0, 0, 0), BP_ERR_INVALID_ARGUMENT);
  /* overhead SIZE_MAX + a record: no exact size fits in a size_t */
  assert_int_equal(bp_batch_offer(b, 1, 0, 0), BP_ERR_TOO_LARGE);
  assert_int_equal(bp_batch_offer(b, SIZE_MAX, INT64_MIN, 0), BP_ERR_TOO_LARGE);
  assert_int_equal(bp_batch_count(b), 0);
  assert_int_equal(bp_batch_set_event_overhead(b, SIZE_MAX - 2), 0);
  assert_int_equal(bp_batch_offer(b, 2, INT64_MAX, 0), BP_BATCH_ACCEPTED);
  assert_int_equal(bp_batch_event_bytes(b), SIZE_MAX);
  /* the next record would need SIZE_MAX + 2 bytes: refused, never wrapped */
  assert_int_equal(bp_batch_offer(b, SIZE_MAX, INT64_MAX, 0), BP_BATCH_FULL);
  size_t count, bytes;
  assert_int_equal(bp_batch_take(b, &count, &bytes), 0);
  assert_int_equal(count, 1);
  assert_int_equal(bytes, SIZE_MAX);
  bp_batch_del(b);
}

static void test_bisect(void **state) {
  (void)state;
  bp_bisect *b;
  assert_int_equal(bp_bisect_new(&b, NULL), 0);
  assert_int_equal(bp_bisect_start(b, 0, SIZE_MAX), BP_ERR_TOO_LARGE);
  assert_int_equal(bp_bisect_start(b, 0, BP_BISECT_MAX_RECORDS + 1), BP_ERR_TOO_LARGE);
  assert_int_equal(bp_bisect_start(b, UINT64_MAX, 1), BP_ERR_RANGE);
  assert_int_equal(bp_bisect_start(b, UINT64_MAX - 9, 10), BP_ERR_RANGE);
  assert_int_equal(bp_bisect_start(b, UINT64_MAX - 10, 10), 0);
  assert_int_equal(bp_bisect_trim_front(b, SIZE_MAX), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_bisect_trim_front(b, 10), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_bisect_pending_at(b, SIZE_MAX, NULL, NULL), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_bisect_set_counters(b, UINT32_MAX, UINT32_MAX), 0);
  assert_int_equal(bp_bisect_split(b), 0);
  uint64_t first;
  size_t count;
  assert_int_equal(bp_bisect_pending_at(b, 0, &first, &count), 0);
  assert_true(first == UINT64_MAX - 5 && count == 5); /* the later half ends before the top */
  static _Alignas(max_align_t) unsigned char mem[4096];
  bp_bisect *m;
  if (bp_bisect_mem_size() <= sizeof mem) {
    assert_int_equal(bp_bisect_init_in(mem, 0, &m), BP_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(bp_bisect_init_in(mem, SIZE_MAX, &m), 0);
    bp_bisect_del(m);
  }
  bp_bisect_del(b);
}

static void test_checkpoint(void **state) {
  (void)state;
  bp_checkpoint_opts o = {.struct_size = sizeof(bp_checkpoint_opts), .base = 0, .capacity = SIZE_MAX};
  bp_checkpoint *t;
  assert_int_equal(bp_checkpoint_mem_size(&o), 0);
  assert_int_equal(bp_checkpoint_new(&t, &o, NULL), BP_ERR_INVALID_ARGUMENT);
  o.capacity = BP_CHECKPOINT_MAX_CAPACITY + 1;
  assert_int_equal(bp_checkpoint_new(&t, &o, NULL), BP_ERR_INVALID_ARGUMENT);
  o.capacity = 64;
  o.base = UINT64_MAX - 4;
  assert_int_equal(bp_checkpoint_new(&t, &o, NULL), 0);
  assert_int_equal(bp_checkpoint_track(t, UINT64_MAX - 4, UINT64_MAX), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_checkpoint_track(t, UINT64_MAX - 4, 5), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_checkpoint_track(t, UINT64_MAX - 4, 4), 0);
  assert_int_equal(bp_checkpoint_finish(t, UINT64_MAX - 4, UINT64_MAX, NULL),
                   BP_ERR_INVALID_ARGUMENT);
  uint64_t pos = UINT64_MAX - 4;
  assert_int_equal(bp_checkpoint_finish_list(t, &pos, SIZE_MAX, NULL), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_checkpoint_finish_list(t, &pos, SIZE_MAX / 8 + 1, NULL),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_checkpoint_is_finished(t, UINT64_MAX), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_checkpoint_finish_list(t, &pos, 1, NULL), 1);
  bp_checkpoint_del(t);
  static _Alignas(max_align_t) unsigned char mem[4096];
  o.base = 0;
  assert_true(bp_checkpoint_mem_size(&o) <= sizeof mem);
  assert_int_equal(bp_checkpoint_init_in(mem, SIZE_MAX, &o, &t), 0);
  bp_checkpoint_del(t);
}

static void test_resolver(void **state) {
  (void)state;
  bp_resolver_policy p;
  assert_int_equal(bp_resolver_policy_init(&p, sizeof p), 0);
  int64_t d;
  assert_int_equal(bp_resolver_backoff(&p, UINT32_MAX, &d), 0);
  assert_true(d >= 0 && d <= 60000);
  const int64_t arrival[1] = {1000};
  size_t expired = 7;
  assert_int_equal(bp_resolver_expired_prefix(arrival, SIZE_MAX, 2000, 60, &expired),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_resolver_expired_prefix(arrival, SIZE_MAX / 8 + 1, 2000, 60, &expired),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_resolver_expired_prefix(arrival, 1, 2000, INT32_MIN, &expired),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_resolver_expired_prefix(arrival, 1, 2000, INT32_MAX, &expired),
                   BP_ERR_INVALID_ARGUMENT);
  for (size_t i = 0; i < NTIMES; i++)
    assert_int_equal(bp_resolver_expired_prefix(arrival, 1, bad_times[i], 60, &expired),
                     BP_ERR_RANGE);
  assert_int_equal(expired, 7);
  bp_resolver_input in;
  bp_resolver_input_init(&in, sizeof in);
  in.outcome = BP_ATTEMPT_FUNCTION_ERROR;
  in.batch_size = SIZE_MAX;
  in.now_ms = 2000;
  bp_resolver_action a;
  bp_resolver_action_init(&a, sizeof a);
  /* batch_size entries of arrival_ms: an impossible count is refused before reading them */
  assert_int_equal(bp_resolver_age_check(&p, &in, arrival, &a, NULL, 0),
                   BP_ERR_INVALID_ARGUMENT);
  in.batch_size = 1;
  in.attempts = in.invocations = in.consecutive_failures = UINT32_MAX;
  assert_int_equal(bp_resolver_decide(&p, &in, &a, NULL, 0), 0);
  for (size_t i = 0; i < NTIMES; i++) {
    in.now_ms = bad_times[i];
    assert_int_equal(bp_resolver_decide(&p, &in, &a, NULL, 0), BP_ERR_RANGE);
  }
  in.now_ms = 2000;
  in.outcome = INT32_MIN;
  assert_int_equal(bp_resolver_decide(&p, &in, &a, NULL, 0), BP_ERR_INVALID_ARGUMENT);
  p.maximum_retry_attempts = INT32_MIN;
  assert_int_equal(bp_resolver_policy_validate(&p, NULL, 0), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_resolver_policy_init(&p, sizeof p), 0);
  p.backoff_base_ms = INT64_MIN;
  assert_int_equal(bp_resolver_policy_validate(&p, NULL, 0), BP_ERR_INVALID_ARGUMENT);
  p.backoff_base_ms = INT64_MAX;
  assert_int_equal(bp_resolver_policy_validate(&p, NULL, 0), BP_ERR_INVALID_ARGUMENT);
}

/* A store that must never be called with a refused argument. */
static int store_calls;
static int st_load(const char *m, const char *s, char *seq, size_t cap, size_t *len, void *ud) {
  (void)m, (void)s, (void)seq, (void)cap, (void)ud;
  store_calls++;
  *len = SIZE_MAX; /* a lie the library must catch */
  return 0;
}
static int st_save(const char *m, const char *s, const char *seq, size_t len, void *ud) {
  (void)m, (void)s, (void)seq, (void)len, (void)ud;
  store_calls++;
  return 0;
}

static void test_store(void **state) {
  (void)state;
  bp_store_ops ops = {.version = BP_STORE_OPS_VERSION, .load = st_load, .save = st_save};
  char *two = heap("12");
  for (size_t i = 0; i < NHUGE; i++)
    assert_int_equal(bp_store_save(&ops, NULL, "m", "s", two, huge[i], NULL, 0),
                     BP_ERR_INVALID_SEQNUM);
  assert_int_equal(store_calls, 0);
  char *id = malloc(BP_STORE_MAX_ID_LEN + 2);
  memset(id, 'i', BP_STORE_MAX_ID_LEN + 1);
  id[BP_STORE_MAX_ID_LEN + 1] = '\0';
  assert_int_equal(bp_store_save(&ops, NULL, id, "s", "1", 1, NULL, 0), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_store_remove(&ops, NULL, "m", id, NULL, 0), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(store_calls, 0);
  char seq[BP_STORE_SEQ_CAP];
  size_t len = 3;
  assert_int_equal(bp_store_load(&ops, NULL, "m", "s", seq, 1, &len, NULL, 0),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_store_load(&ops, NULL, "m", "s", seq, sizeof seq, &len, NULL, 0),
                   BP_ERR_CALLBACK_FAILURE); /* the store's impossible length */
  assert_int_equal(len, 0);
  ops.version = INT_MIN;
  assert_int_equal(bp_store_save(&ops, NULL, "m", "s", "1", 1, NULL, 0), BP_ERR_INVALID_ARGUMENT);
  free(id);
  free(two);
}

/* ---- Engine: a host that keeps the request ids and completes nothing on its own ---- */

typedef struct host {
  uint64_t fetch_id, invoke_id;
  int fetches, invokes;
} host;

static int h_fetch(bp_engine *e, const bp_fetch_req *req, void *ud) {
  (void)e;
  host *h = ud;
  h->fetch_id = req->req_id;
  h->fetches++;
  return 0;
}
static int h_invoke(bp_engine *e, const bp_invoke_req *req, void *ud) {
  (void)e;
  host *h = ud;
  h->invoke_id = req->req_id;
  h->invokes++;
  return 0;
}

static void test_engine(void **state) {
  (void)state;
  bp_config *cfg;
  assert_int_equal(bp_config_new(&cfg, NULL), 0);
  assert_int_equal(bp_config_set_event_source_arn(cfg, KIN_ARN, strlen(KIN_ARN)), 0);
  assert_int_equal(bp_config_set_function_name(cfg, "f", 1), 0);
  assert_int_equal(bp_config_set_starting_position(cfg, BP_POSITION_TRIM_HORIZON), 0);
  bp_engine_opts o;
  assert_int_equal(bp_engine_opts_init(&o, sizeof o), 0);
  o.invoke_identity_arn = ROLE_ARN;
  o.mapping_uuid = "a1b2c3d4-0000-4000-8000-000000000001";
  host h = {0, 0, 0, 0};
  bp_transport t = {.fetch = h_fetch, .invoke = h_invoke};
  bp_engine *e;
  char err[256];
  /* options out of range */
  bp_engine_opts bad = o;
  bad.max_buffered_records = UINT32_MAX;
  assert_int_equal(bp_engine_new(&e, cfg, &bad, &t, &h, NULL, err, sizeof err),
                   BP_ERR_INVALID_ARGUMENT);
  const int64_t bad_ms[] = {INT64_MIN, -1, INT64_MAX};
  for (size_t i = 0; i < sizeof bad_ms / sizeof bad_ms[0]; i++) {
    int64_t *fields[] = {&bad.backoff_base_ms, &bad.backoff_cap_ms, &bad.poll_interval_ms,
                         &bad.fetch_error_retry_ms, &bad.wouldblock_retry_ms};
    for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
      bad = o;
      *fields[k] = bad_ms[i];
      assert_int_equal(bp_engine_new(&e, cfg, &bad, &t, &h, NULL, err, sizeof err),
                       BP_ERR_INVALID_ARGUMENT);
    }
  }
  bad = o;
  bad.filter_flags = UINT32_MAX;
  assert_int_equal(bp_engine_new(&e, cfg, &bad, &t, &h, NULL, err, sizeof err),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_engine_new_versioned(&e, cfg, &o, INT_MIN, &t, &h, NULL, err, sizeof err),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_engine_new(&e, cfg, &o, &t, &h, NULL, err, sizeof err), 0);

  /* shards: checkpoint lengths */
  char *two = heap("12");
  for (size_t i = 0; i < NHUGE; i++)
    assert_int_equal(bp_engine_add_shard(e, "s", NULL, NULL, two, huge[i]),
                     BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_engine_add_shard(e, "s", NULL, NULL, NULL, 5), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_engine_add_shard(e, "s", NULL, NULL, NULL, 0), 0);

  /* times */
  for (size_t i = 0; i < NTIMES; i++) {
    assert_int_equal(bp_engine_tick(e, bad_times[i]), BP_ERR_RANGE);
    assert_int_equal(bp_engine_set_enabled(e, bad_times[i], 1), BP_ERR_RANGE);
  }
  assert_int_equal(bp_engine_tick(e, 1000), 0);
  assert_int_equal(h.fetches, 1);
  for (size_t i = 0; i < NTIMES; i++)
    assert_int_equal(bp_engine_complete_fetch(e, h.fetch_id, bad_times[i], 0, NULL, 0, 0),
                     BP_ERR_RANGE);

  /* record arrays and record fields */
  bp_record one;
  bp_record_init(&one, sizeof one);
  one.seq = "1";
  one.seq_len = 1;
  one.arrival_ms = 1000;
  one.partition_key = "k";
  one.partition_key_len = 1;
  one.data = (const uint8_t *)"x";
  one.data_len = 1;
  assert_int_equal(bp_engine_complete_fetch(e, h.fetch_id, 1000, 0, &one, SIZE_MAX, 0),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_engine_complete_fetch(e, h.fetch_id, 1000, 0, &one,
                                            SIZE_MAX / sizeof one + 1, 0),
                   BP_ERR_INVALID_ARGUMENT);
  for (int f = 0; f < 5; f++)
    for (size_t i = 0; i < NHUGE; i++) {
      if (f >= 2 && huge[i] <= UINT32_MAX) continue;
      bp_record r = one;
      switch (f) {
      case 0: r.seq = two, r.seq_len = huge[i]; break;
      case 1: r.partition_key = two, r.partition_key_len = huge[i]; break;
      case 2: r.data = (const uint8_t *)two, r.data_len = huge[i]; break;
      case 3: r.event_id = two, r.event_id_len = huge[i]; break;
      default: r.dynamodb_json = two, r.dynamodb_json_len = huge[i]; break;
      }
      assert_int_equal(bp_engine_complete_fetch(e, h.fetch_id, 1000, 0, &r, 1, 0),
                       BP_ERR_INVALID_RECORD);
      /* each refusal completed the fetch: the next one is due at once after a retry wait */
      assert_int_equal(bp_engine_tick(e, 1000 + (int64_t)(h.fetches * 2000)), 0);
    }
  /* Kinesis partition keys: 1 to 256 code points, in a core-only build too (no codec) */
  char *key = malloc(257);
  memset(key, 'k', 257);
  const size_t key_len[] = {0, 257};
  for (size_t i = 0; i < 2; i++) {
    bp_record r = one;
    r.partition_key = key;
    r.partition_key_len = key_len[i];
    assert_int_equal(bp_engine_complete_fetch(e, h.fetch_id, 1000, 0, &r, 1, 0),
                     BP_ERR_INVALID_RECORD);
    assert_non_null(strstr(bp_engine_errmsg(e), "partitionKey"));
    assert_int_equal(bp_engine_tick(e, 1000 + (int64_t)(h.fetches * 2000)), 0);
  }
  free(key);
  assert_int_equal(bp_engine_complete_fetch(e, h.fetch_id, 1000 + (int64_t)(h.fetches * 2000),
                                            0, &one, 1, 0),
                   0);
  assert_int_equal(h.invokes, 1);

  /* the invoke result */
  bp_invoke_result r;
  const int64_t now = 1000 + (int64_t)(h.fetches * 2000);
  assert_int_equal(bp_invoke_result_init(&r, sizeof r), 0);
  r.kind = INT32_MIN;
  assert_int_equal(bp_engine_complete_invoke(e, h.invoke_id, now, &r), BP_ERR_INVALID_ARGUMENT);
  r.kind = INT32_MAX;
  assert_int_equal(bp_engine_complete_invoke(e, h.invoke_id, now, &r), BP_ERR_INVALID_ARGUMENT);
  for (size_t i = 0; i < NHUGE; i++) {
    for (int f = 0; f < 4; f++) {
      assert_int_equal(bp_invoke_result_init(&r, sizeof r), 0);
      switch (f) {
      case 0: r.body = two, r.body_len = huge[i]; break;
      case 1: r.kind = BP_INVOKE_RESULT_ERROR, r.function_error = two,
              r.function_error_len = huge[i]; break;
      case 2: r.request_id = two, r.request_id_len = huge[i]; break;
      default: r.executed_version = two, r.executed_version_len = huge[i]; break;
      }
      if (f == 0 && huge[i] <= (size_t)PTRDIFF_MAX) continue; /* unlimited: read as promised */
      assert_int_equal(bp_engine_complete_invoke(e, h.invoke_id, now, &r),
                       BP_ERR_INVALID_ARGUMENT);
    }
  }
  char *limits = malloc(129);
  memset(limits, 'v', 129);
  assert_int_equal(bp_invoke_result_init(&r, sizeof r), 0);
  r.request_id = limits;
  r.request_id_len = 129;
  assert_int_equal(bp_engine_complete_invoke(e, h.invoke_id, now, &r), BP_ERR_INVALID_ARGUMENT);
  r.request_id_len = 128;
  r.executed_version = limits;
  r.executed_version_len = 65;
  assert_int_equal(bp_engine_complete_invoke(e, h.invoke_id, now, &r), BP_ERR_INVALID_ARGUMENT);
  r.executed_version_len = 64;
  r.kind = BP_INVOKE_RESULT_CLASSIFIED;
  r.outcome = INT32_MIN;
  assert_int_equal(bp_engine_complete_invoke(e, h.invoke_id, now, &r), BP_ERR_INVALID_ARGUMENT);
  r.outcome = BP_ATTEMPT_PARTIAL;
  r.failed_index = UINT32_MAX;
  r.failed_count = UINT32_MAX;
  assert_int_equal(bp_engine_complete_invoke(e, h.invoke_id, now, &r), BP_ERR_INVALID_ARGUMENT);
  for (size_t i = 0; i < NTIMES; i++) {
    assert_int_equal(bp_invoke_result_init(&r, sizeof r), 0);
    assert_int_equal(bp_engine_complete_invoke(e, h.invoke_id, bad_times[i], &r), BP_ERR_RANGE);
  }
  assert_int_equal(bp_invoke_result_init(&r, sizeof r), 0);
  r.kind = BP_INVOKE_RESULT_CLASSIFIED; /* a core-only build cannot read a body */
  r.outcome = BP_ATTEMPT_SUCCESS;
  assert_int_equal(bp_engine_complete_invoke(e, h.invoke_id, now, &r), 0);
  free(limits);

  /* queries */
  char buf[BP_STORE_SEQ_CAP];
  size_t len;
  assert_int_equal(bp_engine_get_checkpoint(e, "s", buf, 0, &len), BP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(bp_engine_get_checkpoint(e, "s", buf, sizeof buf, &len), 0);
  assert_string_equal(buf, "1");
  for (size_t i = 0; i < NTIMES; i++) {
    assert_int_equal(bp_engine_complete_delivery(e, 1, bad_times[i], 0),
                     BP_ERR_UNKNOWN_REQUEST);
    assert_int_equal(bp_engine_shutdown(e, bad_times[i]), BP_ERR_RANGE);
  }
  free(two);
  assert_int_equal(bp_engine_del(e), 0);
  bp_config_del(cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_base),       cmocka_unit_test(test_seqnum),
      cmocka_unit_test(test_time),       cmocka_unit_test(test_config),
#if BP_WITH_CODEC
      cmocka_unit_test(test_codec),      cmocka_unit_test(test_response),
      cmocka_unit_test(test_base64),     cmocka_unit_test(test_filter),
#endif
      cmocka_unit_test(test_batch),      cmocka_unit_test(test_bisect),
      cmocka_unit_test(test_checkpoint), cmocka_unit_test(test_resolver),
      cmocka_unit_test(test_store),      cmocka_unit_test(test_engine),
  };
  return cmocka_run_group_tests_name("hostile", tests, NULL, NULL);
}
