/* SPDX-License-Identifier: MIT */
/* The ESM configuration: defaults, limits, AWS messages, string setter, JSON requests,
 * atomicity, fault injection, and the config_cases of the shared scenario file. */
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

#if BP_WITH_CODEC
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>
#endif

#define KIN_ARN "arn:aws:kinesis:us-east-1:111111111111:stream/s1"
#define DDB_ARN "arn:aws:dynamodb:us-east-1:111111111111:table/t1/stream/2025-11-25T14:00:00.000"
#define SQS_ARN "arn:aws:sqs:us-east-1:111111111111:dlq"
#define VE "ValidationException"
#define IPVE "InvalidParameterValueException"

static bp_config *new_config(void) {
  bp_config *c = NULL;
  assert_int_equal(bp_config_new(&c, NULL), 0);
  assert_non_null(c);
  return c;
}

static void expect_ok(bp_config *c, int rc) {
  if (rc) print_error("unexpected %d: %s\n", rc, bp_config_errmsg(c));
  assert_int_equal(rc, 0);
  assert_string_equal(bp_config_errmsg(c), "");
  assert_string_equal(bp_config_error_type(c), "");
  assert_int_equal(bp_config_error_http_status(c), 0);
}

static void expect_err(bp_config *c, int rc, int code, const char *type, const char *msg) {
  if (rc != code || strcmp(bp_config_errmsg(c), msg) != 0)
    print_error("rc %d (want %d)\n  got:  %s\n  want: %s\n", rc, code, bp_config_errmsg(c), msg);
  assert_int_equal(rc, code);
  assert_string_equal(bp_config_errmsg(c), msg);
  assert_string_equal(bp_config_error_type(c), type);
  assert_int_equal(bp_config_error_http_status(c), *type ? 400 : 0);
}

/* "1 validation error detected: Value '<v>' at '<path>' ... <cmp> than or equal to <bound>" */
static void expect_range(bp_config *c, int rc, const char *v, const char *path, int min_side,
                         long long bound) {
  char want[512];
  snprintf(want, sizeof want,
           "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: "
           "Member must have value %s than or equal to %lld",
           v, path, min_side ? "greater" : "less", bound);
  expect_err(c, rc, BP_ERR_CONFIG_INVALID, VE, want);
}

static const char MAX_AGE_MSG[] =
    "MaximumRecordAgeInSeconds must be either -1 (forever) or between 60 and 604800 (inclusive)";
static const char POSITION_ENUM_TAIL[] =
    "' at 'startingPosition' failed to satisfy constraint: Member must satisfy enum value set: "
    "[LATEST, AT_TIMESTAMP, TRIM_HORIZON]";
static const char NULL_POSITION_MSG[] =
    "1 validation error detected: Value null at 'startingPosition' failed to satisfy "
    "constraint: Member must not be null.";
static const char FILTER_INVALID_MSG[] = "Invalid filter pattern definition.";
static const char ON_SUCCESS_MSG[] =
    "Unsupported DestinationConfig parameter for given event source mapping type.";

/* Every value a getter reports, as one string: equal snapshots = unchanged configuration. */
static void snapshot(const bp_config *c, char *buf, size_t len) {
  const char *arn = bp_config_get_event_source_arn(c), *fn = bp_config_get_function_name(c),
             *dest = bp_config_get_on_failure_destination(c);
  int n = snprintf(buf, len, "%s|%d|%s|%u|%d|%d|%d|%lld|%d|%d|%d|%d|%d|%d|%s|%d|%d|%zu",
                   arn ? arn : "-", bp_config_get_source(c), fn ? fn : "-",
                   bp_config_get_batch_size(c),
                   bp_config_get_maximum_batching_window_in_seconds(c),
                   bp_config_get_parallelization_factor(c), bp_config_get_starting_position(c),
                   (long long)bp_config_get_starting_position_timestamp_ms(c),
                   bp_config_get_maximum_retry_attempts(c),
                   bp_config_get_maximum_record_age_in_seconds(c),
                   bp_config_get_bisect_batch_on_function_error(c),
                   bp_config_get_report_batch_item_failures(c),
                   bp_config_get_tumbling_window_in_seconds(c), bp_config_get_enabled(c),
                   dest ? dest : "-", bp_config_get_metrics_event_count(c),
                   bp_config_get_max_filters(c), bp_config_get_filter_count(c));
  for (size_t i = 0; i < bp_config_get_filter_count(c) && n > 0 && (size_t)n < len; i++) {
    const char *t;
    size_t tl;
    assert_int_equal(bp_config_get_filter(c, i, &t, &tl), 0);
    assert_int_equal(strlen(t), tl);
    n += snprintf(buf + n, len - (size_t)n, "|%s", t);
  }
}

/* ---- defaults, life cycle ---- */

static void check_defaults(const bp_config *c) {
  assert_int_equal(bp_config_get_batch_size(c), 100);
  assert_int_equal(bp_config_get_maximum_batching_window_in_seconds(c), 0);
  assert_int_equal(bp_config_get_parallelization_factor(c), 1);
  assert_int_equal(bp_config_get_maximum_retry_attempts(c), -1);
  assert_int_equal(bp_config_get_maximum_record_age_in_seconds(c), -1);
  assert_int_equal(bp_config_get_bisect_batch_on_function_error(c), 0);
  assert_int_equal(bp_config_get_report_batch_item_failures(c), 0);
  assert_int_equal(bp_config_get_tumbling_window_in_seconds(c), 0);
  assert_int_equal(bp_config_get_enabled(c), 1);
  assert_null(bp_config_get_on_failure_destination(c));
  assert_int_equal(bp_config_get_metrics_event_count(c), 0);
  assert_int_equal(bp_config_get_max_filters(c), 5);
  assert_int_equal(bp_config_get_filter_count(c), 0);
  assert_int_equal(bp_config_get_starting_position(c), BP_POSITION_NONE);
  assert_int_equal(bp_config_get_starting_position_timestamp_ms(c), BP_CONFIG_NO_TIMESTAMP);
  assert_null(bp_config_get_event_source_arn(c));
  assert_int_equal(bp_config_get_source(c), BP_SOURCE_NONE);
  assert_null(bp_config_get_function_name(c));
  assert_null(bp_config_get_function_arn(c));
}

static void test_defaults(void **state) {
  (void)state;
  bp_config *c = new_config();
  check_defaults(c);
  assert_string_equal(bp_config_errmsg(c), "");
  assert_string_equal(bp_config_error_type(c), "");
  assert_int_equal(bp_config_error_http_status(c), 0);
  assert_int_equal(bp_config_error_offset(c), SIZE_MAX);
  bp_config_del(c);
}

static void *half_malloc(size_t n, void *ud) {
  (void)ud;
  return malloc(n);
}

static void test_lifecycle_args(void **state) {
  (void)state;
  bp_config *c = (bp_config *)&c;
  assert_int_equal(bp_config_new(NULL, NULL), BP_ERR_INVALID_ARGUMENT);
  bp_allocator half = {half_malloc, NULL, NULL, NULL};
  assert_int_equal(bp_config_new(&c, &half), BP_ERR_INVALID_ARGUMENT);
  assert_null(c);
  bp_config_del(NULL);
  assert_string_equal(bp_config_errmsg(NULL), "");
  assert_string_equal(bp_config_error_type(NULL), "");
  assert_int_equal(bp_config_error_http_status(NULL), 0);
  assert_int_equal(bp_config_error_offset(NULL), SIZE_MAX);
  /* setters and checks refuse NULL; getters read NULL as zero */
  assert_int_equal(bp_config_set_batch_size(NULL, 1), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_config_set_enabled(NULL, 1), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_config_set_event_source_arn(NULL, "x", 1), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_config_add_filter(NULL, "{}", 2), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_config_clear_filters(NULL), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_config_validate(NULL), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_config_parse_json(NULL, "{}", 2), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_config_get_batch_size(NULL), 0);
  assert_int_equal(bp_config_get_filter_count(NULL), 0);
  assert_null(bp_config_get_event_source_arn(NULL));
  assert_int_equal(bp_config_get_starting_position_timestamp_ms(NULL), BP_CONFIG_NO_TIMESTAMP);
  bp_config *src = new_config();
  c = (bp_config *)&c;
  assert_int_equal(bp_config_copy(&c, NULL, NULL), BP_ERR_INVALID_ARGUMENT);
  assert_null(c);
  assert_int_equal(bp_config_copy(NULL, src, NULL), BP_ERR_INVALID_ARGUMENT);
  /* NULL text with a length is a caller bug, not an AWS rejection */
  expect_err(src, bp_config_set_event_source_arn(src, NULL, 3), BP_ERR_INVALID_ARGUMENT, "",
             "NULL text, length > 0");
  expect_err(src, bp_config_add_filter(src, NULL, 3), BP_ERR_INVALID_ARGUMENT, "",
             "NULL text, length > 0");
  expect_err(src, bp_config_parse_json(src, NULL, 3), BP_ERR_INVALID_ARGUMENT, "",
             "NULL text, length > 0");
  const char *t = NULL;
  size_t tl = 0;
  assert_int_equal(bp_config_get_filter(src, 0, &t, &tl), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_config_get_filter(NULL, 0, &t, &tl), BP_ERR_INVALID_ARGUMENT);
  bp_config_del(src);
}

/* A successful call forgets the previous error. */
static void test_error_cleared(void **state) {
  (void)state;
  bp_config *c = new_config();
  assert_int_equal(bp_config_set_batch_size(c, 0), BP_ERR_CONFIG_INVALID);
  assert_int_equal(bp_config_error_http_status(c), 400);
  expect_ok(c, bp_config_set_batch_size(c, 1));
  assert_int_equal(bp_config_set_batch_size(c, 0), BP_ERR_CONFIG_INVALID);
  expect_ok(c, bp_config_set_enabled(c, 0));
  bp_config_del(c);
}

/* ---- integer fields: below / at / above each limit ---- */

typedef int (*int_setter)(bp_config *, int);

static int set_batch(bp_config *c, int v) { return bp_config_set_batch_size(c, (uint32_t)v); }

static const struct range_case {
  const char *path;
  int_setter set;
  int (*get)(const bp_config *);
  int min, max;
} ranges[] = {
    {"maximumBatchingWindowInSeconds", bp_config_set_maximum_batching_window_in_seconds,
     bp_config_get_maximum_batching_window_in_seconds, 0, 300},
    {"parallelizationFactor", bp_config_set_parallelization_factor,
     bp_config_get_parallelization_factor, 1, 10},
    {"maximumRetryAttempts", bp_config_set_maximum_retry_attempts,
     bp_config_get_maximum_retry_attempts, -1, 10000},
    {"tumblingWindowInSeconds", bp_config_set_tumbling_window_in_seconds,
     bp_config_get_tumbling_window_in_seconds, 0, 900},
    {"maxFilters", bp_config_set_max_filters, bp_config_get_max_filters, 1, 10},
};

static void test_int_ranges(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
    const struct range_case *r = &ranges[i];
    bp_config *c = new_config();
    int before = r->get(c);
    char v[32];
    snprintf(v, sizeof v, "%d", r->min - 1);
    expect_range(c, r->set(c, r->min - 1), v, r->path, 1, r->min);
    assert_int_equal(r->get(c), before); /* unchanged */
    snprintf(v, sizeof v, "%d", r->max + 1);
    expect_range(c, r->set(c, r->max + 1), v, r->path, 0, r->max);
    assert_int_equal(r->get(c), before);
    expect_range(c, r->set(c, INT32_MIN), "-2147483648", r->path, 1, r->min);
    expect_range(c, r->set(c, INT32_MAX), "2147483647", r->path, 0, r->max);
    expect_ok(c, r->set(c, r->min));
    assert_int_equal(r->get(c), r->min);
    expect_ok(c, r->set(c, r->max));
    assert_int_equal(r->get(c), r->max);
    expect_ok(c, r->set(c, r->min + 1));
    assert_int_equal(r->get(c), r->min + 1);
    bp_config_del(c);
  }
}

static void test_batch_size(void **state) {
  (void)state;
  bp_config *c = new_config();
  expect_err(c, bp_config_set_batch_size(c, 0), BP_ERR_CONFIG_INVALID, VE,
             "1 validation error detected: Value '0' at 'batchSize' failed to satisfy "
             "constraint: Member must have value greater than or equal to 1");
  expect_range(c, set_batch(c, 10001), "10001", "batchSize", 0, 10000);
  expect_range(c, bp_config_set_batch_size(c, UINT32_MAX), "4294967295", "batchSize", 0,
               10000);
  assert_int_equal(bp_config_get_batch_size(c), 100);
  expect_ok(c, bp_config_set_batch_size(c, 1));
  assert_int_equal(bp_config_get_batch_size(c), 1);
  expect_ok(c, bp_config_set_batch_size(c, 10000)); /* DynamoDB too [§2.1 DEC] */
  assert_int_equal(bp_config_get_batch_size(c), 10000);
  bp_config_del(c);
}

static void test_max_record_age(void **state) {
  (void)state;
  static const int bad[] = {-2, 0, 1, 30, 59, 604801, INT32_MIN, INT32_MAX};
  static const int good[] = {-1, 60, 61, 3600, 604799, 604800};
  bp_config *c = new_config();
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    expect_err(c, bp_config_set_maximum_record_age_in_seconds(c, bad[i]), BP_ERR_CONFIG_INVALID,
               IPVE, MAX_AGE_MSG);
    assert_int_equal(bp_config_get_maximum_record_age_in_seconds(c), -1);
  }
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    expect_ok(c, bp_config_set_maximum_record_age_in_seconds(c, good[i]));
    assert_int_equal(bp_config_get_maximum_record_age_in_seconds(c), good[i]);
  }
  bp_config_del(c);
}

static void test_flags(void **state) {
  (void)state;
  bp_config *c = new_config();
  expect_ok(c, bp_config_set_bisect_batch_on_function_error(c, 7));
  assert_int_equal(bp_config_get_bisect_batch_on_function_error(c), 1);
  expect_ok(c, bp_config_set_report_batch_item_failures(c, 1));
  assert_int_equal(bp_config_get_report_batch_item_failures(c), 1);
  expect_ok(c, bp_config_set_enabled(c, 0));
  assert_int_equal(bp_config_get_enabled(c), 0);
  expect_ok(c, bp_config_set_metrics_event_count(c, 1));
  assert_int_equal(bp_config_get_metrics_event_count(c), 1);
  expect_ok(c, bp_config_set_bisect_batch_on_function_error(c, 0));
  expect_ok(c, bp_config_set_report_batch_item_failures(c, 0));
  expect_ok(c, bp_config_set_enabled(c, -1));
  expect_ok(c, bp_config_set_metrics_event_count(c, 0));
  assert_int_equal(bp_config_get_bisect_batch_on_function_error(c), 0);
  assert_int_equal(bp_config_get_report_batch_item_failures(c), 0);
  assert_int_equal(bp_config_get_enabled(c), 1);
  assert_int_equal(bp_config_get_metrics_event_count(c), 0);
  bp_config_del(c);
}

/* ---- starting position ---- */

static void test_starting_position(void **state) {
  (void)state;
  bp_config *c = new_config();
  char want[256];
  snprintf(want, sizeof want, "1 validation error detected: Value '4%s", POSITION_ENUM_TAIL);
  expect_err(c, bp_config_set_starting_position(c, 4), BP_ERR_CONFIG_INVALID, VE, want);
  snprintf(want, sizeof want, "1 validation error detected: Value '-1%s", POSITION_ENUM_TAIL);
  expect_err(c, bp_config_set_starting_position(c, -1), BP_ERR_CONFIG_INVALID, VE, want);
  for (int p = BP_POSITION_TRIM_HORIZON; p <= BP_POSITION_AT_TIMESTAMP; p++) {
    expect_ok(c, bp_config_set_starting_position(c, p));
    assert_int_equal(bp_config_get_starting_position(c), p);
  }
  expect_ok(c, bp_config_set_starting_position(c, BP_POSITION_NONE));
  assert_int_equal(bp_config_get_starting_position(c), BP_POSITION_NONE);

  static const char range_msg[] = "StartingPositionTimestamp must be between "
                                  "1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z.";
  expect_err(c, bp_config_set_starting_position_timestamp_ms(c, -2), BP_ERR_CONFIG_INVALID,
             IPVE, range_msg);
  expect_err(c, bp_config_set_starting_position_timestamp_ms(c, BP_TIME_MAX_MS + 1),
             BP_ERR_CONFIG_INVALID, IPVE, range_msg);
  expect_ok(c, bp_config_set_starting_position_timestamp_ms(c, 0));
  assert_int_equal(bp_config_get_starting_position_timestamp_ms(c), 0);
  expect_ok(c, bp_config_set_starting_position_timestamp_ms(c, BP_TIME_MAX_MS));
  assert_int_equal(bp_config_get_starting_position_timestamp_ms(c), BP_TIME_MAX_MS);
  expect_ok(c, bp_config_set_starting_position_timestamp_ms(c, BP_CONFIG_NO_TIMESTAMP));
  assert_int_equal(bp_config_get_starting_position_timestamp_ms(c), BP_CONFIG_NO_TIMESTAMP);
  bp_config_del(c);
}

/* ---- ARNs, names, destination ---- */

static int set_arn(bp_config *c, const char *arn) {
  return bp_config_set_event_source_arn(c, arn, strlen(arn));
}

static void test_event_source_arn(void **state) {
  (void)state;
  static const struct {
    const char *arn;
    int source;
  } cases[] = {
      {KIN_ARN, BP_SOURCE_KINESIS},
      {DDB_ARN, BP_SOURCE_DYNAMODB},
      {"arn:aws-cn:kinesis:cn-north-1:111111111111:stream/s", BP_SOURCE_KINESIS},
      {"arn:aws-us-gov:dynamodb:us-gov-west-1:111111111111:table/t/stream/x",
       BP_SOURCE_DYNAMODB},
      {"arn:aws:kinesis:us-east-1:111111111111:stream/s/consumer/c:1700000000",
       BP_SOURCE_KINESIS},
      {SQS_ARN, 0},
      {"arn:aws:lambda:us-east-1:111111111111:function:fn", 0},
      {"arn:aws:kinesis", 0},
      {"arn:aws:kinesis:us-east-1:111111111111:", 0},  /* no resource */
      {"arn:aws:kinesis::111111111111:stream/s", 0},    /* no region */
      {"arn:gcp:kinesis:us-east-1:111111111111:stream/s", 0},
      {"ARN:aws:kinesis:us-east-1:111111111111:stream/s", 0},
      {"kinesis", 0},
      {"", 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    bp_config *c = new_config();
    int rc = set_arn(c, cases[i].arn);
    if (cases[i].source) {
      expect_ok(c, rc);
      assert_string_equal(bp_config_get_event_source_arn(c), cases[i].arn);
      assert_int_equal(bp_config_get_source(c), cases[i].source);
    } else {
      expect_err(c, rc, BP_ERR_CONFIG_INVALID, IPVE, "Unrecognized event source.");
      assert_null(bp_config_get_event_source_arn(c));
    }
    bp_config_del(c);
  }
  /* replacing keeps the old value on failure; embedded NUL and bad UTF-8 are refused */
  bp_config *c = new_config();
  expect_ok(c, set_arn(c, KIN_ARN));
  expect_ok(c, set_arn(c, DDB_ARN));
  assert_int_equal(bp_config_get_source(c), BP_SOURCE_DYNAMODB);
  static const char nul[] = "arn:aws:kinesis:us-east-1:111111111111:stream/a\0b";
  assert_int_equal(bp_config_set_event_source_arn(c, nul, sizeof nul - 1), BP_ERR_CONFIG_INVALID);
  assert_int_equal(set_arn(c, "arn:aws:kinesis:us-east-1:111111111111:stream/\xff"),
                   BP_ERR_CONFIG_INVALID);
  assert_int_equal(bp_config_set_event_source_arn(c, NULL, 0), BP_ERR_CONFIG_INVALID);
  assert_string_equal(bp_config_get_event_source_arn(c), DDB_ARN);
  assert_int_equal(bp_config_get_source(c), BP_SOURCE_DYNAMODB);
  bp_config_del(c);
}

static const char FN_PATTERN[] =
    "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?"
    "([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?";

static void test_function_name(void **state) {
  (void)state;
  static const char *const good[] = {
      "fn", "my-function_1", "fn:PROD", "fn:$LATEST", "111111111111:function:fn",
      "function:fn", "us-east-1:fn", "us-gov-west-1:111111111111:function:fn:7",
      "arn:aws:lambda:us-east-1:111111111111:function:fn",
      "arn:aws:lambda:us-east-1:111111111111:function:fn:$LATEST",
      "arn::lambda:us-east-1:111111111111:function:fn", "arn:aws-cn:lambda:fn"};
  static const char *const bad[] = {"fn with space", "fn:", ":fn", "fn:a:b", "fn/x",
                                    "arn:aws:s3:::bucket", "arn:aws:lambda:us-east-1:1:function:fn",
                                    "fn:$latest", "f\xc3\xa9"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    bp_config *c = new_config();
    expect_ok(c, bp_config_set_function_name(c, good[i], strlen(good[i])));
    assert_string_equal(bp_config_get_function_name(c), good[i]);
    if (strncmp(good[i], "arn:", 4) == 0)
      assert_string_equal(bp_config_get_function_arn(c), good[i]);
    else
      assert_null(bp_config_get_function_arn(c));
    bp_config_del(c);
  }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    bp_config *c = new_config();
    char want[512];
    snprintf(want, sizeof want,
             "1 validation error detected: Value '%s' at 'functionName' failed to satisfy "
             "constraint: Member must satisfy regular expression pattern: %s",
             bad[i], FN_PATTERN);
    expect_err(c, bp_config_set_function_name(c, bad[i], strlen(bad[i])), BP_ERR_CONFIG_INVALID,
               VE, want);
    assert_null(bp_config_get_function_name(c));
    bp_config_del(c);
  }
  bp_config *c = new_config();
  expect_err(c, bp_config_set_function_name(c, "", 0), BP_ERR_CONFIG_INVALID, VE,
             "1 validation error detected: Value '' at 'functionName' failed to satisfy "
             "constraint: Member must have length greater than or equal to 1");
  char name[142];
  memset(name, 'f', sizeof name);
  expect_ok(c, bp_config_set_function_name(c, name, 140));
  assert_int_equal(strlen(bp_config_get_function_name(c)), 140);
  char want[1024];
  snprintf(want, sizeof want,
           "1 validation error detected: Value '%.141s' at 'functionName' failed to satisfy "
           "constraint: Member must have length less than or equal to 140",
           name);
  expect_err(c, bp_config_set_function_name(c, name, 141), BP_ERR_CONFIG_INVALID, VE, want);
  assert_int_equal(strlen(bp_config_get_function_name(c)), 140);
  /* a long value is echoed up to 512 bytes, cut before a split UTF-8 character */
  char huge[4 * BP_CONFIG_MAX_FUNCTION_NAME_CHARS];
  memset(huge, 'a', sizeof huge);
  memcpy(huge + 511, "\xc3\xa9", 2);
  bp_config_set_function_name(c, huge, sizeof huge);
  snprintf(want, sizeof want,
           "1 validation error detected: Value '%.511s' at 'functionName' failed to satisfy "
           "constraint: Member must have length less than or equal to 140",
           huge);
  expect_err(c, bp_config_set_function_name(c, huge, sizeof huge), BP_ERR_CONFIG_INVALID, VE,
             want);
  memcpy(huge + 511, "aa", 2);
  snprintf(want, sizeof want,
           "1 validation error detected: Value '%.512s' at 'functionName' failed to satisfy "
           "constraint: Member must have length less than or equal to 140",
           huge);
  expect_err(c, bp_config_set_function_name(c, huge, sizeof huge), BP_ERR_CONFIG_INVALID, VE,
             want);
  bp_config_del(c);
}

/* Lengths over a documented limit are refused before the text is read: a value of more than
 * 4 bytes per allowed character is over it whatever it holds (not echoed), and a length no
 * object can have is an argument error. The text lives on the heap, 2 bytes long, so a
 * read past it is seen (SIGSEGV or ASan before the fix). */
static void test_hostile_lengths(void **state) {
  (void)state;
  bp_config *c = new_config();
  char *two = malloc(2);
  memcpy(two, "{}", 2);
  const size_t huge[] = {(size_t)1 << 40, (size_t)PTRDIFF_MAX};
  for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
    expect_err(c, bp_config_set_function_name(c, two, huge[i]), BP_ERR_CONFIG_INVALID, VE,
               "1 validation error detected: Value at 'functionName' failed to satisfy "
               "constraint: Member must have length less than or equal to 140");
    expect_err(c, bp_config_set_on_failure_destination(c, two, huge[i]), BP_ERR_CONFIG_INVALID,
               VE,
               "1 validation error detected: Value at 'destinationConfig.onFailure.destination' "
               "failed to satisfy constraint: Member must have length less than or equal to 350");
    expect_err(c, bp_config_add_filter(c, two, huge[i]), BP_ERR_CONFIG_INVALID, VE,
               "1 validation error detected: Value at 'filterCriteria.filters.1.member.pattern' "
               "failed to satisfy constraint: Member must have length less than or equal to "
               "4096");
  }
  /* lengths no object has: the caller's bug */
  const size_t none[] = {SIZE_MAX, (size_t)PTRDIFF_MAX + 1};
  for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
    assert_int_equal(bp_config_set_event_source_arn(c, two, none[i]), BP_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(bp_config_errmsg(c), "length"));
    assert_int_equal(bp_config_set_function_name(c, two, none[i]), BP_ERR_INVALID_ARGUMENT);
    assert_int_equal(bp_config_set_on_failure_destination(c, two, none[i]),
                     BP_ERR_INVALID_ARGUMENT);
    assert_int_equal(bp_config_add_filter(c, two, none[i]), BP_ERR_INVALID_ARGUMENT);
#if BP_WITH_CODEC
    assert_int_equal(bp_config_parse_json(c, two, none[i]), BP_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(bp_config_errmsg(c), "length"));
#endif
  }
  /* just over the byte bound: counted as before (and echoed); one byte more is not read */
  char *name = malloc(4 * BP_CONFIG_MAX_FUNCTION_NAME_CHARS + 1);
  memset(name, 'f', 4 * BP_CONFIG_MAX_FUNCTION_NAME_CHARS + 1);
  assert_int_equal(bp_config_set_function_name(c, name, 4 * BP_CONFIG_MAX_FUNCTION_NAME_CHARS),
                   BP_ERR_CONFIG_INVALID);
  assert_non_null(strstr(bp_config_errmsg(c), "Value 'fff"));
  expect_err(c, bp_config_set_function_name(c, name, 4 * BP_CONFIG_MAX_FUNCTION_NAME_CHARS + 1),
             BP_ERR_CONFIG_INVALID, VE,
             "1 validation error detected: Value at 'functionName' failed to satisfy "
             "constraint: Member must have length less than or equal to 140");
  free(name);
  assert_null(bp_config_get_function_name(c));
  assert_null(bp_config_get_on_failure_destination(c));
  assert_int_equal(bp_config_get_filter_count(c), 0);
  free(two);
  bp_config_del(c);
}

static const char DEST_PATTERN[] =
    "^$|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}(-gov)?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)";

/* FunctionName resolved to the function's ARN (SEMANTICS.md §2.2, §5.3): name, partial ARN and
 * full ARN, with a qualifier, another account, the stream's account and partition, the
 * account argument. */
static void test_resolve_function_arn(void **state) {
  (void)state;
  static const struct {
    const char *stream, *fn, *account, *want;
  } cases[] = {
      {KIN_ARN, "fn", NULL, "arn:aws:lambda:us-east-1:111111111111:function:fn"},
      {KIN_ARN, "fn:prod", NULL, "arn:aws:lambda:us-east-1:111111111111:function:fn:prod"},
      {KIN_ARN, "fn:$LATEST", NULL, "arn:aws:lambda:us-east-1:111111111111:function:fn:$LATEST"},
      {KIN_ARN, "fn", "222222222222", "arn:aws:lambda:us-east-1:222222222222:function:fn"},
      {DDB_ARN, "fn:7", NULL, "arn:aws:lambda:us-east-1:111111111111:function:fn:7"},
      {KIN_ARN, "333333333333:function:fn", NULL,
       "arn:aws:lambda:us-east-1:333333333333:function:fn"},
      /* the account FunctionName names wins over the argument */
      {KIN_ARN, "333333333333:function:fn:v2", "222222222222",
       "arn:aws:lambda:us-east-1:333333333333:function:fn:v2"},
      {KIN_ARN, "arn:aws:lambda:us-east-1:444444444444:function:fn", "222222222222",
       "arn:aws:lambda:us-east-1:444444444444:function:fn"},
      {KIN_ARN, "arn:aws:lambda:us-east-1:111111111111:function:fn:$LATEST", NULL,
       "arn:aws:lambda:us-east-1:111111111111:function:fn:$LATEST"},
      /* partition and region from the stream ARN */
      {"arn:aws-cn:kinesis:cn-north-1:555555555555:stream/s", "fn", NULL,
       "arn:aws-cn:lambda:cn-north-1:555555555555:function:fn"},
      {"arn:aws-us-gov:dynamodb:us-gov-west-1:666666666666:table/t/stream/x", "function:fn",
       NULL, "arn:aws-us-gov:lambda:us-gov-west-1:666666666666:function:fn"},
      {"arn:aws-cn:kinesis:cn-north-1:555555555555:stream/s",
       "arn:aws-cn:lambda:cn-north-1:555555555555:function:fn",
       NULL, "arn:aws-cn:lambda:cn-north-1:555555555555:function:fn"},
      /* the parts of the ARN-like forms that are missing are completed */
      {KIN_ARN, "arn::lambda:us-east-1:111111111111:function:fn", NULL,
       "arn:aws:lambda:us-east-1:111111111111:function:fn"},
      {KIN_ARN, "arn:aws:lambda:fn", NULL, "arn:aws:lambda:us-east-1:111111111111:function:fn"},
      {KIN_ARN, "us-east-1:fn", NULL, "arn:aws:lambda:us-east-1:111111111111:function:fn"},
      /* a stream ARN without an account: the argument gives it */
      {"arn:aws:kinesis:us-east-1::stream/s", "fn", "222222222222",
       "arn:aws:lambda:us-east-1:222222222222:function:fn"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    bp_config *c = new_config();
    expect_ok(c, bp_config_set_event_source_arn(c, cases[i].stream, strlen(cases[i].stream)));
    expect_ok(c, bp_config_set_function_name(c, cases[i].fn, strlen(cases[i].fn)));
    char buf[BP_CONFIG_FUNCTION_ARN_CAP];
    size_t len = 99;
    int rc = bp_config_resolve_function_arn(c, cases[i].account, buf, sizeof buf, &len);
    if (rc || strcmp(buf, cases[i].want))
      print_error("case %zu (%s): rc %d, %s\n", i, cases[i].fn, rc, buf);
    assert_int_equal(rc, 0);
    assert_string_equal(buf, cases[i].want);
    assert_int_equal(len, strlen(cases[i].want));
    /* the length alone, then a buffer one byte short and one exactly right */
    size_t n = strlen(cases[i].want);
    assert_int_equal(bp_config_resolve_function_arn(c, cases[i].account, NULL, 0, &len),
                     BP_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(len, n);
    memset(buf, 'x', sizeof buf);
    assert_int_equal(bp_config_resolve_function_arn(c, cases[i].account, buf, n, &len),
                     BP_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(len, n);
    assert_int_equal(buf[0], 0);
    assert_int_equal(bp_config_resolve_function_arn(c, cases[i].account, buf, n + 1, &len), 0);
    assert_string_equal(buf, cases[i].want);
    /* the config getters are unchanged: FunctionName as given */
    assert_string_equal(bp_config_get_function_name(c), cases[i].fn);
    bp_config_del(c);
  }

  bp_config *c = new_config();
  char buf[BP_CONFIG_FUNCTION_ARN_CAP];
  size_t len = 99;
  /* nothing to resolve yet */
  assert_int_equal(bp_config_resolve_function_arn(c, NULL, buf, sizeof buf, &len),
                   BP_ERR_INVALID_STATE);
  assert_int_equal(len, 0);
  expect_ok(c, bp_config_set_function_name(c, "fn", 2));
  assert_int_equal(bp_config_resolve_function_arn(c, NULL, buf, sizeof buf, &len),
                   BP_ERR_INVALID_STATE); /* no EventSourceArn */
  /* a stream ARN without an account and no account argument */
  expect_ok(c, bp_config_set_event_source_arn(c, "arn:aws:kinesis:us-east-1::stream/s", 35));
  assert_int_equal(bp_config_resolve_function_arn(c, NULL, buf, sizeof buf, &len),
                   BP_ERR_INVALID_STATE);
  expect_ok(c, bp_config_set_function_name(c, "777777777777:function:fn", 24));
  assert_int_equal(bp_config_resolve_function_arn(c, NULL, buf, sizeof buf, &len), 0);
  assert_string_equal(buf, "arn:aws:lambda:us-east-1:777777777777:function:fn");
  /* bad arguments */
  static const char *const bad_account[] = {"", "12345678901", "1234567890123", "12345678901a",
                                            "abcdefghijkl", " 11111111111"};
  for (size_t i = 0; i < sizeof bad_account / sizeof bad_account[0]; i++) {
    len = 99;
    assert_int_equal(bp_config_resolve_function_arn(c, bad_account[i], buf, sizeof buf, &len),
                     BP_ERR_INVALID_ARGUMENT);
    assert_int_equal(len, 0);
  }
  assert_int_equal(bp_config_resolve_function_arn(NULL, NULL, buf, sizeof buf, &len),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_config_resolve_function_arn(c, NULL, buf, sizeof buf, NULL),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_config_resolve_function_arn(c, NULL, NULL, 1, &len),
                   BP_ERR_INVALID_ARGUMENT);
  bp_config_del(c);

  /* the longest FunctionName and stream ARN fit BP_CONFIG_FUNCTION_ARN_CAP */
  c = new_config();
  char stream[BP_CONFIG_MAX_EVENT_SOURCE_ARN_BYTES + 1], fn[BP_CONFIG_MAX_FUNCTION_NAME_CHARS + 1];
  memset(stream, 'a', BP_CONFIG_MAX_EVENT_SOURCE_ARN_BYTES);
  memcpy(stream, "arn:aws-", 8);
  memcpy(stream + BP_CONFIG_MAX_EVENT_SOURCE_ARN_BYTES - 40, ":kinesis:us-east-1:111111111111:stream/s",
         40);
  stream[BP_CONFIG_MAX_EVENT_SOURCE_ARN_BYTES] = 0;
  expect_ok(c, bp_config_set_event_source_arn(c, stream, strlen(stream)));
  memset(fn, 'f', BP_CONFIG_MAX_FUNCTION_NAME_CHARS);
  memcpy(fn + BP_CONFIG_MAX_FUNCTION_NAME_CHARS - 5, ":prod", 5);
  fn[BP_CONFIG_MAX_FUNCTION_NAME_CHARS] = 0;
  expect_ok(c, bp_config_set_function_name(c, fn, strlen(fn)));
  assert_int_equal(bp_config_resolve_function_arn(c, NULL, buf, sizeof buf, &len), 0);
  assert_int_equal(len, strlen(stream) - strlen("kinesis") + strlen("lambda") -
                            strlen("stream/s") + strlen("function:") + strlen(fn));
  bp_config_del(c);
}

static void test_destination(void **state) {
  (void)state;
  static const char *const good[] = {SQS_ARN, "arn:aws:sns:us-east-1:111111111111:topic",
                                     "arn:aws:s3:::bucket",
                                     "arn:aws-cn:sqs:cn-north-1:111111111111:q"};
  static const char *const bad[] = {"sqs", "arn:aws:sqs", "arn:aws::us-east-1:111111111111:q",
                                    "arn:aws:sqs:useast1:111111111111:q",
                                    "arn:aws:sqs:us-east-1:1111:q", "arn:aws:sqs:us-east-1::q\n"};
  bp_config *c = new_config();
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    expect_ok(c, bp_config_set_on_failure_destination(c, good[i], strlen(good[i])));
    assert_string_equal(bp_config_get_on_failure_destination(c), good[i]);
  }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char want[512];
    snprintf(want, sizeof want,
             "1 validation error detected: Value '%s' at 'destinationConfig.onFailure."
             "destination' failed to satisfy constraint: Member must satisfy regular expression "
             "pattern: %s",
             bad[i], DEST_PATTERN);
    expect_err(c, bp_config_set_on_failure_destination(c, bad[i], strlen(bad[i])),
               BP_ERR_CONFIG_INVALID, VE, want);
    assert_string_equal(bp_config_get_on_failure_destination(c), good[3]);
  }
  /* 350 characters is the limit */
  char arn[400] = "arn:aws:sqs:us-east-1:111111111111:";
  size_t pre = strlen(arn);
  memset(arn + pre, 'q', sizeof arn - pre - 1);
  arn[sizeof arn - 1] = '\0';
  expect_ok(c, bp_config_set_on_failure_destination(c, arn, 350));
  assert_int_equal(strlen(bp_config_get_on_failure_destination(c)), 350);
  char want[1024];
  snprintf(want, sizeof want,
           "1 validation error detected: Value '%.351s' at 'destinationConfig.onFailure."
           "destination' failed to satisfy constraint: Member must have length less than or "
           "equal to 350",
           arn);
  expect_err(c, bp_config_set_on_failure_destination(c, arn, 351), BP_ERR_CONFIG_INVALID, VE,
             want);
  assert_int_equal(strlen(bp_config_get_on_failure_destination(c)), 350);
  /* the empty string removes it */
  expect_ok(c, bp_config_set_on_failure_destination(c, "", 0));
  assert_null(bp_config_get_on_failure_destination(c));
  expect_ok(c, bp_config_set_on_failure_destination(c, NULL, 0));
  assert_null(bp_config_get_on_failure_destination(c));
  bp_config_del(c);
}

/* ---- filters ---- */

static int add_filter(bp_config *c, const char *p) { return bp_config_add_filter(c, p, strlen(p)); }

/* {"a":[[...]]} with @p k arrays: 1 + k levels. */
static size_t nested(char *out, int k) {
  size_t n = 0;
  memcpy(out, "{\"a\":", 5);
  n = 5;
  for (int i = 0; i < k; i++) out[n++] = '[';
  for (int i = 0; i < k; i++) out[n++] = ']';
  out[n++] = '}';
  return n;
}

static void test_filter_patterns(void **state) {
  (void)state;
  static const char *const good[] = {
      " {\"a\" : [ 1 ] } ", "{\"data\":{\"a\":[1,2.5,-3e2,\"x\",true,false,null]}}",
      "{\"eventName\":[\"INSERT\"]}", "{\"a\":{\"b\":{\"c\":[{\"numeric\":[\">\",0]}]}}}",
      "{\"k\":[\"\\u00e9\\ud83d\\ude00\\n\\\"\"]}", "{\"\xc3\xa9\":[\"\xf0\x9f\x98\x80\"]}",
      "\t\r\n{\"a\":[\"x\"]}\n"};
  /* JSON objects that are no filter: refused as AWS does at CreateEventSourceMapping
   * (AWS-REC for the eventSource ones), with event-ruler's reason after AWS's message. */
  static const char *const not_filters[][2] = {
      {"{}", "Empty objects are not allowed"},
      {" { } ", "Empty objects are not allowed"},
      {"{\"a\":[]}", "Empty arrays are not allowed"},
      {"{\"eventSource\": \"aws:sqs\"}", "\"eventSource\" must be an object or an array"},
      {"{\"eventSource\": []}", "Empty arrays are not allowed"},
      {"{\"a\":[{\"prefx\":\"x\"}]}", "Unrecognized match type prefx"}};
  static const char *const bad[] = {
      "single-string", "[{\"eventName\": [\"INSERT\"=123}]", "", " ", "[]", "\"x\"", "1",
      "null", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":[1,]}", "{,}", "{\"a\":01}",
      "{\"a\":1.}", "{\"a\":-}", "{\"a\":1e}", "{\"a\":tru}", "{\"a\":\"\\x\"}",
      "{\"a\":\"\\u12G4\"}", "{\"a\":\"tab\there\"}", "{\"a\":1} {}", "{\"a\":1}x",
      "{'a':1}", "{a:1}", "{\"a\":[1]]}", "{\"a\":\"\xff\"}", "{\"a\":\"\xc0\xaf\"}",
      "{\"a\":1 /* c */}", "{\"a\":\"unterminated}"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    bp_config *c = new_config();
    expect_ok(c, add_filter(c, good[i]));
    const char *t;
    size_t tl;
    assert_int_equal(bp_config_get_filter(c, 0, &t, &tl), 0);
    assert_int_equal(tl, strlen(good[i]));
    assert_memory_equal(t, good[i], tl);
    bp_config_del(c);
  }
  for (size_t i = 0; i < sizeof not_filters / sizeof not_filters[0]; i++) {
    bp_config *c = new_config();
    char want[256];
    snprintf(want, sizeof want, "%s (filter 1: %s)", FILTER_INVALID_MSG, not_filters[i][1]);
    expect_err(c, add_filter(c, not_filters[i][0]), BP_ERR_CONFIG_INVALID, IPVE, want);
    assert_int_equal(bp_config_get_filter_count(c), 0);
    bp_config_del(c);
  }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    bp_config *c = new_config();
    int rc = add_filter(c, bad[i]);
    if (rc != BP_ERR_CONFIG_INVALID) print_error("pattern %zu accepted: %s\n", i, bad[i]);
    expect_err(c, rc, BP_ERR_CONFIG_INVALID, IPVE, FILTER_INVALID_MSG);
    assert_int_equal(bp_config_get_filter_count(c), 0);
    bp_config_del(c);
  }
  /* a raw NUL inside or after the object */
  bp_config *c = new_config();
  assert_int_equal(bp_config_add_filter(c, "{\"a\":\"\0\"}", 9), BP_ERR_CONFIG_INVALID);
  assert_int_equal(bp_config_add_filter(c, "{}\0", 3), BP_ERR_CONFIG_INVALID);
  /* nesting: 256 levels are JSON (refused as a filter, for the nested arrays), 257 are not
   * JSON to the recognizer */
  char deep[600];
  size_t n = nested(deep, 255);
  assert_int_equal(bp_config_add_filter(c, deep, n), BP_ERR_CONFIG_INVALID);
  assert_non_null(strstr(bp_config_errmsg(c), "(filter 1: Match value must be"));
  n = nested(deep, 256);
  expect_err(c, bp_config_add_filter(c, deep, n), BP_ERR_CONFIG_INVALID, IPVE,
             FILTER_INVALID_MSG);
  bp_config_del(c);
}

static void test_filter_limits(void **state) {
  (void)state;
  bp_config *c = new_config();
  for (int i = 0; i < 5; i++) expect_ok(c, add_filter(c, "{\"a\":[1]}"));
  expect_err(c, add_filter(c, "{\"a\":[2]}"), BP_ERR_CONFIG_INVALID, IPVE,
             "The number of filters exceeds the limit of 5.");
  /* count comes before validity */
  expect_err(c, add_filter(c, "nope"), BP_ERR_CONFIG_INVALID, IPVE,
             "The number of filters exceeds the limit of 5.");
  assert_int_equal(bp_config_get_filter_count(c), 5);
  /* the limit cannot drop below what is set */
  expect_err(c, bp_config_set_max_filters(c, 4), BP_ERR_CONFIG_INVALID, IPVE,
             "The number of filters exceeds the limit of 4.");
  assert_int_equal(bp_config_get_max_filters(c), 5);
  expect_ok(c, bp_config_set_max_filters(c, 10));
  for (int i = 0; i < 5; i++) expect_ok(c, add_filter(c, "{\"b\":[1]}"));
  expect_err(c, add_filter(c, "{}"), BP_ERR_CONFIG_INVALID, IPVE, /* count comes first */
             "The number of filters exceeds the limit of 10.");
  assert_int_equal(bp_config_get_filter_count(c), 10);
  const char *t;
  size_t tl;
  assert_int_equal(bp_config_get_filter(c, 9, &t, &tl), 0);
  assert_string_equal(t, "{\"b\":[1]}");
  assert_int_equal(bp_config_get_filter(c, 10, &t, &tl), BP_ERR_INVALID_ARGUMENT);
  expect_ok(c, bp_config_clear_filters(c));
  assert_int_equal(bp_config_get_filter_count(c), 0);
  expect_ok(c, bp_config_set_max_filters(c, 1));
  expect_ok(c, add_filter(c, "{\"c\":[1]}"));
  expect_err(c, add_filter(c, "{\"c\":[1]}"), BP_ERR_CONFIG_INVALID, IPVE,
             "The number of filters exceeds the limit of 1.");
  bp_config_del(c);
}

/* A pattern of exactly n code points: {"a":["é...é"]} with 2-byte characters. */
static char *pattern_of(size_t code_points, size_t *bytes) {
  size_t fill = code_points - 10; /* {"a":[""]} is 10 code points */
  char *p = malloc(10 + 2 * fill + 1);
  size_t n;
  memcpy(p, "{\"a\":[\"", 7);
  n = 7;
  for (size_t i = 0; i < fill; i++) {
    p[n++] = '\xc3';
    p[n++] = '\xa9';
  }
  memcpy(p + n, "\"]}", 3);
  n += 3;
  p[n] = '\0';
  *bytes = n;
  return p;
}

static void test_filter_length(void **state) {
  (void)state;
  bp_config *c = new_config();
  size_t n;
  char *p = pattern_of(4096, &n);
  assert_true(n > 4096); /* bytes exceed the limit, code points do not */
  expect_ok(c, bp_config_add_filter(c, p, n));
  free(p);
  p = pattern_of(4097, &n);
  expect_err(c, bp_config_add_filter(c, p, n), BP_ERR_CONFIG_INVALID, VE,
             "1 validation error detected: Value at 'filterCriteria.filters.2.member.pattern' "
             "failed to satisfy constraint: Member must have length less than or equal to 4096");
  /* length comes before validity */
  p[0] = 'x';
  expect_err(c, bp_config_add_filter(c, p, n), BP_ERR_CONFIG_INVALID, VE,
             "1 validation error detected: Value at 'filterCriteria.filters.2.member.pattern' "
             "failed to satisfy constraint: Member must have length less than or equal to 4096");
  free(p);
  assert_int_equal(bp_config_get_filter_count(c), 1);
  bp_config_del(c);
}

/* ---- whole-request validation ---- */

static void test_validate(void **state) {
  (void)state;
  bp_config *c = new_config();
  /* missing ARN comes first, even with StartingPosition missing too */
  expect_err(c, bp_config_validate(c), BP_ERR_CONFIG_INVALID, IPVE, "Unrecognized event source.");
  expect_ok(c, set_arn(c, KIN_ARN));
  /* then FunctionName, required by AWS's model validation */
  expect_err(c, bp_config_validate(c), BP_ERR_CONFIG_INVALID, VE,
             "1 validation error detected: Value null at 'functionName' failed to satisfy "
             "constraint: Member must not be null.");
  expect_ok(c, bp_config_set_function_name(c, "fn", 2));
  expect_err(c, bp_config_validate(c), BP_ERR_CONFIG_INVALID, IPVE, NULL_POSITION_MSG);
  expect_ok(c, bp_config_set_starting_position(c, BP_POSITION_AT_TIMESTAMP));
  expect_err(c, bp_config_validate(c), BP_ERR_CONFIG_INVALID, IPVE,
             "StartingPositionTimestamp is required when StartingPosition is AT_TIMESTAMP.");
  expect_ok(c, bp_config_set_starting_position_timestamp_ms(c, 1741010802000));
  expect_ok(c, bp_config_validate(c));
  /* AT_TIMESTAMP on DynamoDB, reported before the missing timestamp */
  expect_ok(c, set_arn(c, DDB_ARN));
  expect_ok(c, bp_config_set_starting_position_timestamp_ms(c, BP_CONFIG_NO_TIMESTAMP));
  expect_err(c, bp_config_validate(c), BP_ERR_CONFIG_INVALID, IPVE,
             "Unsupported starting position for arn type: " DDB_ARN);
  for (int p = BP_POSITION_TRIM_HORIZON; p <= BP_POSITION_LATEST; p++) {
    expect_ok(c, bp_config_set_starting_position(c, p));
    expect_ok(c, bp_config_validate(c));
  }
  bp_config_del(c);
  /* a long DynamoDB stream ARN is echoed whole */
  c = new_config();
  expect_ok(c, bp_config_set_function_name(c, "fn", 2));
  char arn[512] = "arn:aws:dynamodb:us-east-1:111111111111:table/";
  size_t n = strlen(arn);
  memset(arn + n, 't', 255);
  strcpy(arn + n + 255, "/stream/2025-11-25T14:00:00.000");
  expect_ok(c, set_arn(c, arn));
  expect_ok(c, bp_config_set_starting_position(c, BP_POSITION_AT_TIMESTAMP));
  char want[600];
  snprintf(want, sizeof want, "Unsupported starting position for arn type: %s", arn);
  expect_err(c, bp_config_validate(c), BP_ERR_CONFIG_INVALID, IPVE, want);
  bp_config_del(c);
}

/* ---- copy ---- */

static void test_copy(void **state) {
  (void)state;
  test_alloc ta;
  bp_allocator hooks;
  test_alloc_init(&ta, &hooks);
  bp_config *c = new_config();
  expect_ok(c, set_arn(c, KIN_ARN));
  expect_ok(c, bp_config_set_function_name(c, "fn", 2));
  expect_ok(c, bp_config_set_on_failure_destination(c, SQS_ARN, strlen(SQS_ARN)));
  expect_ok(c, add_filter(c, "{\"a\":[1]}"));
  expect_ok(c, add_filter(c, "{\"b\":[2]}"));
  expect_ok(c, bp_config_set_batch_size(c, 7));
  expect_ok(c, bp_config_set_max_filters(c, 8));
  assert_int_equal(bp_config_set_batch_size(c, 0), BP_ERR_CONFIG_INVALID); /* error not copied */
  bp_config *d = NULL;
  assert_int_equal(bp_config_copy(&d, c, &hooks), 0);
  assert_true(ta.live_blocks > 0); /* the copy uses its own allocator */
  char a[2048], b[2048];
  snapshot(c, a, sizeof a);
  snapshot(d, b, sizeof b);
  assert_string_equal(a, b);
  assert_string_equal(bp_config_errmsg(d), "");
  assert_ptr_not_equal(bp_config_get_event_source_arn(c), bp_config_get_event_source_arn(d));
  /* independent */
  expect_ok(d, bp_config_clear_filters(d));
  expect_ok(d, set_arn(d, DDB_ARN));
  snapshot(c, b, sizeof b);
  assert_string_equal(a, b);
  bp_config_del(c);
  snapshot(d, b, sizeof b);
  bp_config_del(d);
  assert_int_equal(ta.live_blocks, 0);
}

/* ---- string setter ---- */

static int set(bp_config *c, const char *name, const char *value) {
  char errbuf[1024];
  memset(errbuf, 'x', sizeof errbuf);
  int rc = bp_config_set(c, name, value, errbuf, sizeof errbuf);
  assert_string_equal(errbuf, bp_config_errmsg(c)); /* "" on success */
  return rc;
}

static void test_set_by_name(void **state) {
  (void)state;
  bp_config *c = new_config();
  expect_ok(c, set(c, "EventSourceArn", DDB_ARN));
  assert_int_equal(bp_config_get_source(c), BP_SOURCE_DYNAMODB);
  expect_ok(c, set(c, "FunctionName", "fn"));
  expect_ok(c, set(c, "BatchSize", "100"));
  expect_ok(c, set(c, "BatchSize", "10000"));
  expect_ok(c, set(c, "MaximumBatchingWindowInSeconds", "300"));
  expect_ok(c, set(c, "ParallelizationFactor", "10"));
  expect_ok(c, set(c, "StartingPosition", "TRIM_HORIZON"));
  assert_int_equal(bp_config_get_starting_position(c), BP_POSITION_TRIM_HORIZON);
  expect_ok(c, set(c, "StartingPosition", "LATEST"));
  assert_int_equal(bp_config_get_starting_position(c), BP_POSITION_LATEST);
  expect_ok(c, set(c, "StartingPositionTimestamp", "1741010802.1239"));
  assert_int_equal(bp_config_get_starting_position_timestamp_ms(c), 1741010802123);
  expect_ok(c, set(c, "StartingPositionTimestamp", ""));
  assert_int_equal(bp_config_get_starting_position_timestamp_ms(c), BP_CONFIG_NO_TIMESTAMP);
  expect_ok(c, set(c, "MaximumRetryAttempts", "-1"));
  expect_ok(c, set(c, "MaximumRetryAttempts", "10000"));
  expect_ok(c, set(c, "MaximumRecordAgeInSeconds", "60"));
  expect_ok(c, set(c, "BisectBatchOnFunctionError", "true"));
  expect_ok(c, set(c, "FunctionResponseTypes", "ReportBatchItemFailures"));
  expect_ok(c, set(c, "TumblingWindowInSeconds", "900"));
  expect_ok(c, set(c, "Enabled", "false"));
  expect_ok(c, set(c, "DestinationConfig.OnFailure.Destination", SQS_ARN));
  expect_ok(c, set(c, "MetricsConfig.Metrics", "EventCount"));
  expect_ok(c, set(c, "MaxFilters", "6"));
  expect_ok(c, set(c, "FilterCriteria.Filters.Pattern", "{\"a\":[1]}"));
  assert_int_equal(bp_config_get_batch_size(c), 10000);
  assert_int_equal(bp_config_get_maximum_batching_window_in_seconds(c), 300);
  assert_int_equal(bp_config_get_parallelization_factor(c), 10);
  assert_int_equal(bp_config_get_maximum_retry_attempts(c), 10000);
  assert_int_equal(bp_config_get_maximum_record_age_in_seconds(c), 60);
  assert_int_equal(bp_config_get_bisect_batch_on_function_error(c), 1);
  assert_int_equal(bp_config_get_report_batch_item_failures(c), 1);
  assert_int_equal(bp_config_get_tumbling_window_in_seconds(c), 900);
  assert_int_equal(bp_config_get_enabled(c), 0);
  assert_string_equal(bp_config_get_on_failure_destination(c), SQS_ARN);
  assert_int_equal(bp_config_get_metrics_event_count(c), 1);
  assert_int_equal(bp_config_get_max_filters(c), 6);
  assert_int_equal(bp_config_get_filter_count(c), 1);
  assert_string_equal(bp_config_get_function_name(c), "fn");
  /* the other values of each */
  expect_ok(c, set(c, "BisectBatchOnFunctionError", "false"));
  expect_ok(c, set(c, "Enabled", "true"));
  expect_ok(c, set(c, "FunctionResponseTypes", ""));
  expect_ok(c, set(c, "MetricsConfig.Metrics", ""));
  expect_ok(c, set(c, "DestinationConfig.OnFailure.Destination", ""));
  expect_ok(c, set(c, "StartingPosition", "AT_TIMESTAMP"));
  expect_ok(c, set(c, "FilterCriteria", ""));
  assert_int_equal(bp_config_get_bisect_batch_on_function_error(c), 0);
  assert_int_equal(bp_config_get_enabled(c), 1);
  assert_int_equal(bp_config_get_report_batch_item_failures(c), 0);
  assert_int_equal(bp_config_get_metrics_event_count(c), 0);
  assert_null(bp_config_get_on_failure_destination(c));
  assert_int_equal(bp_config_get_starting_position(c), BP_POSITION_AT_TIMESTAMP);
  assert_int_equal(bp_config_get_filter_count(c), 0);
  bp_config_del(c);
}

static void test_set_by_name_errors(void **state) {
  (void)state;
  bp_config *c = new_config();
  char snap[2048], now[2048];
  snapshot(c, snap, sizeof snap);
  expect_err(c, set(c, "batchsize", "1"), BP_ERR_CONFIG_UNKNOWN, "",
             "No such configuration property: \"batchsize\"");
  expect_err(c, set(c, "Queues", "x"), BP_ERR_CONFIG_UNKNOWN, "",
             "No such configuration property: \"Queues\"");
  expect_err(c, set(c, "BatchSize", "0"), BP_ERR_CONFIG_INVALID, VE,
             "1 validation error detected: Value '0' at 'batchSize' failed to satisfy "
             "constraint: Member must have value greater than or equal to 1");
  expect_range(c, set(c, "BatchSize", "-5"), "-5", "batchSize", 1, 1);
  expect_range(c, set(c, "BatchSize", "99999999999999999999999"), "99999999999999999999999",
               "batchSize", 0, 10000);
  expect_range(c, set(c, "BatchSize", "-9223372036854775808"), "-9223372036854775808",
               "batchSize", 1, 1);
  expect_range(c, set(c, "MaximumBatchingWindowInSeconds", "301"), "301",
               "maximumBatchingWindowInSeconds", 0, 300);
  expect_range(c, set(c, "ParallelizationFactor", "0"), "0", "parallelizationFactor", 1, 1);
  expect_range(c, set(c, "MaximumRetryAttempts", "-2"), "-2", "maximumRetryAttempts", 1, -1);
  expect_range(c, set(c, "TumblingWindowInSeconds", "901"), "901", "tumblingWindowInSeconds",
               0, 900);
  expect_range(c, set(c, "MaxFilters", "11"), "11", "maxFilters", 0, 10);
  expect_err(c, set(c, "MaximumRecordAgeInSeconds", "59"), BP_ERR_CONFIG_INVALID, IPVE,
             MAX_AGE_MSG);
  expect_err(c, set(c, "MaximumRecordAgeInSeconds", "99999999999999999999"),
             BP_ERR_CONFIG_INVALID, IPVE, MAX_AGE_MSG);
  static const char *const not_ints[] = {"", "abc", "1.0", "1e2", " 1", "1 ", "+1", "01", "-",
                                         "0x10", "1O"};
  for (size_t i = 0; i < sizeof not_ints / sizeof not_ints[0]; i++) {
    char want[256];
    snprintf(want, sizeof want,
             "1 validation error detected: Value '%s' at 'batchSize' failed to satisfy "
             "constraint: Member must be an integer",
             not_ints[i]);
    expect_err(c, set(c, "BatchSize", not_ints[i]), BP_ERR_CONFIG_INVALID, VE, want);
  }
  expect_err(c, set(c, "Enabled", "yes"), BP_ERR_CONFIG_INVALID, VE,
             "1 validation error detected: Value 'yes' at 'enabled' failed to satisfy "
             "constraint: Member must be a boolean (true or false)");
  expect_err(c, set(c, "BisectBatchOnFunctionError", "TRUE"), BP_ERR_CONFIG_INVALID, VE,
             "1 validation error detected: Value 'TRUE' at 'bisectBatchOnFunctionError' failed "
             "to satisfy constraint: Member must be a boolean (true or false)");
  char want[512];
  snprintf(want, sizeof want, "1 validation error detected: Value 'invalid%s", POSITION_ENUM_TAIL);
  expect_err(c, set(c, "StartingPosition", "invalid"), BP_ERR_CONFIG_INVALID, VE, want);
  snprintf(want, sizeof want, "1 validation error detected: Value 'latest%s", POSITION_ENUM_TAIL);
  expect_err(c, set(c, "StartingPosition", "latest"), BP_ERR_CONFIG_INVALID, VE, want);
  snprintf(want, sizeof want, "1 validation error detected: Value '%s", POSITION_ENUM_TAIL);
  expect_err(c, set(c, "StartingPosition", ""), BP_ERR_CONFIG_INVALID, VE, want);
  expect_err(c, set(c, "StartingPositionTimestamp", "yesterday"), BP_ERR_CONFIG_INVALID, VE,
             "1 validation error detected: Value 'yesterday' at 'startingPositionTimestamp' "
             "failed to satisfy constraint: Member must be a number (epoch seconds)");
  expect_err(c, set(c, "StartingPositionTimestamp", "-1"), BP_ERR_CONFIG_INVALID, IPVE,
             "StartingPositionTimestamp must be between 1970-01-01T00:00:00Z and "
             "9999-12-31T23:59:59.999Z.");
  expect_err(c, set(c, "StartingPositionTimestamp", "253402300800"), BP_ERR_CONFIG_INVALID,
             IPVE,
             "StartingPositionTimestamp must be between 1970-01-01T00:00:00Z and "
             "9999-12-31T23:59:59.999Z.");
  expect_err(c, set(c, "EventSourceArn", SQS_ARN), BP_ERR_CONFIG_INVALID, IPVE,
             "Unrecognized event source.");
  expect_err(c, set(c, "DestinationConfig.OnSuccess.Destination", SQS_ARN),
             BP_ERR_CONFIG_INVALID, IPVE, ON_SUCCESS_MSG);
  expect_err(c, set(c, "FilterCriteria.Filters.Pattern", "single-string"),
             BP_ERR_CONFIG_INVALID, IPVE, FILTER_INVALID_MSG);
  expect_err(c, set(c, "FunctionName", "a b"), BP_ERR_CONFIG_INVALID, VE,
             "1 validation error detected: Value 'a b' at 'functionName' failed to satisfy "
             "constraint: Member must satisfy regular expression pattern: "
             "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?"
             "(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?");
  snapshot(c, now, sizeof now);
  assert_string_equal(snap, now); /* nothing changed */
  /* NULL arguments: errbuf still gets a message; NULL errbuf is fine */
  char errbuf[64];
  assert_int_equal(bp_config_set(NULL, "BatchSize", "1", errbuf, sizeof errbuf),
                   BP_ERR_INVALID_ARGUMENT);
  assert_string_equal(errbuf, "NULL argument");
  assert_int_equal(bp_config_set(c, NULL, "1", NULL, 0), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_config_set(c, "BatchSize", NULL, NULL, 0), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_config_set(c, "BatchSize", "0", NULL, 0), BP_ERR_CONFIG_INVALID);
  assert_int_equal(bp_config_set(c, "BatchSize", "0", errbuf, 1), BP_ERR_CONFIG_INVALID);
  assert_string_equal(errbuf, "");
  /* errbuf is truncated, never overrun */
  assert_int_equal(bp_config_set(c, "BatchSize", "0", errbuf, 8), BP_ERR_CONFIG_INVALID);
  assert_string_equal(errbuf, "1 valid");
  bp_config_del(c);
}

static void test_set_lists(void **state) {
  (void)state;
  bp_config *c = new_config();
  static const char *const frt_on[] = {"ReportBatchItemFailures", "[\"ReportBatchItemFailures\"]",
                                       " [ \"ReportBatchItemFailures\" ] ",
                                       "[\"\\u0052eportBatchItemFailures\"]"};
  static const char *const frt_off[] = {"", "[]", " [ ] "};
  for (size_t i = 0; i < sizeof frt_on / sizeof frt_on[0]; i++) {
    expect_ok(c, set(c, "FunctionResponseTypes", frt_on[i]));
    assert_int_equal(bp_config_get_report_batch_item_failures(c), 1);
    expect_ok(c, set(c, "FunctionResponseTypes", frt_off[i % 3]));
    assert_int_equal(bp_config_get_report_batch_item_failures(c), 0);
  }
  expect_ok(c, set(c, "MetricsConfig.Metrics", "[\"EventCount\"]"));
  assert_int_equal(bp_config_get_metrics_event_count(c), 1);
  expect_ok(c, set(c, "MetricsConfig.Metrics", "[\"EventCount\", \"EventCount\"]"));
  expect_ok(c, set(c, "MetricsConfig.Metrics", "[]"));
  assert_int_equal(bp_config_get_metrics_event_count(c), 0);
  static const char frt_enum[] =
      "' at 'functionResponseTypes' failed to satisfy constraint: Member must satisfy enum "
      "value set: [ReportBatchItemFailures]";
  char want[512];
  snprintf(want, sizeof want, "1 validation error detected: Value 'Foo%s", frt_enum);
  expect_err(c, set(c, "FunctionResponseTypes", "Foo"), BP_ERR_CONFIG_INVALID, VE, want);
  expect_err(c, set(c, "FunctionResponseTypes", "[\"ReportBatchItemFailures\",\"Foo\"]"),
             BP_ERR_CONFIG_INVALID, VE, want);
  snprintf(want, sizeof want, "1 validation error detected: Value 'reportbatchitemfailures%s",
           frt_enum);
  expect_err(c, set(c, "FunctionResponseTypes", "reportbatchitemfailures"),
             BP_ERR_CONFIG_INVALID, VE, want);
  expect_err(c, set(c, "FunctionResponseTypes",
                    "[\"ReportBatchItemFailures\", \"ReportBatchItemFailures\"]"),
             BP_ERR_CONFIG_INVALID, VE,
             "1 validation error detected: Value '[ReportBatchItemFailures, "
             "ReportBatchItemFailures]' at 'functionResponseTypes' failed to satisfy "
             "constraint: Member must have length less than or equal to 1");
  static const char *const not_lists[] = {"[", "[\"a\"", "[\"a\",]", "[1]", "[\"a\"] x",
                                          "[,]", "[\"\\q\"]", "[\"a\" \"b\"]"};
  for (size_t i = 0; i < sizeof not_lists / sizeof not_lists[0]; i++) {
    snprintf(want, sizeof want,
             "1 validation error detected: Value '%s' at 'functionResponseTypes' failed to "
             "satisfy constraint: Member must be a list of strings",
             not_lists[i]);
    expect_err(c, set(c, "FunctionResponseTypes", not_lists[i]), BP_ERR_CONFIG_INVALID, VE, want);
  }
  /* syntax is checked before the items: a bad item and a syntax error -> syntax */
  expect_err(c, set(c, "FunctionResponseTypes", "[\"Foo\",1]"), BP_ERR_CONFIG_INVALID, VE,
             "1 validation error detected: Value '[\"Foo\",1]' at 'functionResponseTypes' failed "
             "to satisfy constraint: Member must be a list of strings");
  expect_err(c, set(c, "MetricsConfig.Metrics", "[\"ErrorCount\"]"), BP_ERR_CONFIG_INVALID, VE,
             "1 validation error detected: Value 'ErrorCount' at 'metricsConfig.metrics' failed "
             "to satisfy constraint: Member must satisfy enum value set: [EventCount]");
  assert_int_equal(bp_config_get_report_batch_item_failures(c), 0);
  assert_int_equal(bp_config_get_metrics_event_count(c), 0);
  bp_config_del(c);
}

#if BP_WITH_CODEC
static void test_set_filter_criteria(void **state) {
  (void)state;
  bp_config *c = new_config();
  expect_ok(c, add_filter(c, "{\"old\":[1]}"));
  expect_ok(c, set(c, "FilterCriteria",
                   "{\"Filters\":[{\"Pattern\":\"{\\\"a\\\":[1]}\"},{\"Pattern\":\"{\\\"b\\\":[2]}\"}]}"));
  assert_int_equal(bp_config_get_filter_count(c), 2);
  const char *t;
  size_t tl;
  assert_int_equal(bp_config_get_filter(c, 0, &t, &tl), 0);
  assert_string_equal(t, "{\"a\":[1]}");
  expect_err(c, set(c, "FilterCriteria", "{\"Filters\":[{\"Pattern\":\"x\"}]}"),
             BP_ERR_CONFIG_INVALID, IPVE, FILTER_INVALID_MSG);
  expect_err(c, set(c, "FilterCriteria", "{\"Filters\":[{\"Pattern\":\"{\\\"b\\\":[2]}\",\"P\":1}]}"),
             BP_ERR_CONFIG_INVALID, VE, "Unknown parameter in FilterCriteria.Filters: \"P\"");
  expect_err(c, set(c, "FilterCriteria", "[]"), BP_ERR_INVALID_JSON, VE,
             "Could not parse FilterCriteria into json: not a JSON object");
  assert_int_equal(set(c, "FilterCriteria", "{"), BP_ERR_INVALID_JSON);
  /* AWS-REC: a JSON object that is no filter; the reason names the filter's position */
  expect_err(c,
             set(c, "FilterCriteria",
                 "{\"Filters\":[{\"Pattern\":\"{\\\"a\\\":[1]}\"},"
                 "{\"Pattern\":\"{\\\"eventSource\\\": \\\"aws:sqs\\\"}\"}]}"),
             BP_ERR_CONFIG_INVALID, IPVE,
             "Invalid filter pattern definition. (filter 2: \"eventSource\" must be an object or "
             "an array)");
  assert_int_equal(bp_config_get_filter_count(c), 2);
  expect_ok(c, set(c, "FilterCriteria", "{\"Filters\":[]}"));
  assert_int_equal(bp_config_get_filter_count(c), 0);
  expect_ok(c, set(c, "FilterCriteria", "{\"Filters\":[{\"Pattern\":\"{\\\"b\\\":[2]}\"}]}"));
  expect_ok(c, set(c, "FilterCriteria", "{}"));
  assert_int_equal(bp_config_get_filter_count(c), 0);
  bp_config_del(c);
}
#endif

/* ---- JSON requests ---- */

#if BP_WITH_CODEC

static int parse(bp_config *c, const char *json) {
  return bp_config_parse_json(c, json, strlen(json));
}

#define BASE "\"EventSourceArn\":\"" KIN_ARN "\",\"FunctionName\":\"fn\""
#define BASE_LATEST BASE ",\"StartingPosition\":\"LATEST\""

static const char FULL_BODY[] =
    "{\"EventSourceArn\":\"" KIN_ARN "\",\"FunctionName\":\"arn:aws:lambda:us-east-1:"
    "111111111111:function:fn\",\"Enabled\":false,\"BatchSize\":10,\"FilterCriteria\":"
    "{\"Filters\":[{\"Pattern\":\"{\\\"data\\\":{\\\"a\\\":[1]}}\"},{\"Pattern\":"
    "\"{\\\"partitionKey\\\":[\\\"k\\\"]}\"}]},\"MaximumBatchingWindowInSeconds\":5,"
    "\"ParallelizationFactor\":2,\"StartingPosition\":\"AT_TIMESTAMP\","
    "\"StartingPositionTimestamp\":1741010802.5,\"DestinationConfig\":{\"OnFailure\":"
    "{\"Destination\":\"" SQS_ARN "\"}},\"MaximumRecordAgeInSeconds\":3600,"
    "\"BisectBatchOnFunctionError\":true,\"MaximumRetryAttempts\":3,"
    "\"TumblingWindowInSeconds\":60,\"FunctionResponseTypes\":[\"ReportBatchItemFailures\"],"
    "\"MetricsConfig\":{\"Metrics\":[\"EventCount\"]}}";

static void test_json_full(void **state) {
  (void)state;
  bp_config *c = new_config();
  expect_ok(c, parse(c, FULL_BODY));
  assert_string_equal(bp_config_get_event_source_arn(c), KIN_ARN);
  assert_int_equal(bp_config_get_source(c), BP_SOURCE_KINESIS);
  assert_string_equal(bp_config_get_function_arn(c),
                      "arn:aws:lambda:us-east-1:111111111111:function:fn");
  assert_int_equal(bp_config_get_enabled(c), 0);
  assert_int_equal(bp_config_get_batch_size(c), 10);
  assert_int_equal(bp_config_get_filter_count(c), 2);
  const char *t;
  size_t tl;
  assert_int_equal(bp_config_get_filter(c, 1, &t, &tl), 0);
  assert_string_equal(t, "{\"partitionKey\":[\"k\"]}");
  assert_int_equal(bp_config_get_maximum_batching_window_in_seconds(c), 5);
  assert_int_equal(bp_config_get_parallelization_factor(c), 2);
  assert_int_equal(bp_config_get_starting_position(c), BP_POSITION_AT_TIMESTAMP);
  assert_int_equal(bp_config_get_starting_position_timestamp_ms(c), 1741010802500);
  assert_string_equal(bp_config_get_on_failure_destination(c), SQS_ARN);
  assert_int_equal(bp_config_get_maximum_record_age_in_seconds(c), 3600);
  assert_int_equal(bp_config_get_bisect_batch_on_function_error(c), 1);
  assert_int_equal(bp_config_get_maximum_retry_attempts(c), 3);
  assert_int_equal(bp_config_get_tumbling_window_in_seconds(c), 60);
  assert_int_equal(bp_config_get_report_batch_item_failures(c), 1);
  assert_int_equal(bp_config_get_metrics_event_count(c), 1);
  expect_ok(c, bp_config_validate(c));
  bp_config_del(c);

  /* the minimal body keeps every default */
  c = new_config();
  expect_ok(c, parse(c, "{" BASE_LATEST "}"));
  assert_int_equal(bp_config_get_starting_position(c), BP_POSITION_LATEST);
  assert_string_equal(bp_config_get_function_name(c), "fn");
  assert_null(bp_config_get_function_arn(c));
  bp_config_del(c);
}

static void test_json_defaults_kept(void **state) {
  (void)state;
  bp_config *c = new_config();
  expect_ok(c, parse(c, "{" BASE_LATEST "}"));
  /* everything but the three given fields is the §2.1 default */
  assert_int_equal(bp_config_get_batch_size(c), 100);
  assert_int_equal(bp_config_get_maximum_batching_window_in_seconds(c), 0);
  assert_int_equal(bp_config_get_parallelization_factor(c), 1);
  assert_int_equal(bp_config_get_maximum_retry_attempts(c), -1);
  assert_int_equal(bp_config_get_maximum_record_age_in_seconds(c), -1);
  assert_int_equal(bp_config_get_bisect_batch_on_function_error(c), 0);
  assert_int_equal(bp_config_get_report_batch_item_failures(c), 0);
  assert_int_equal(bp_config_get_tumbling_window_in_seconds(c), 0);
  assert_int_equal(bp_config_get_enabled(c), 1);
  assert_null(bp_config_get_on_failure_destination(c));
  assert_int_equal(bp_config_get_filter_count(c), 0);
  bp_config_del(c);
}

static void test_json_values(void **state) {
  (void)state;
  static const struct {
    const char *member;
    int64_t ms;
  } ts[] = {{"1741010802", 1741010802000},        {"1741010802.1239", 1741010802123},
            {"1.741010802123E9", 1741010802123},  {"1.7410108021239e+9", 1741010802123},
            {"0", 0},                             {"-0", 0},
            {"0.0009", 0},                        {"1e-300", 0},
            {"253402300799.999", BP_TIME_MAX_MS}, {"17410108021230e-4", 1741010802123},
            {"1741010802.000000000000000000000000001", 1741010802000}};
  for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
    bp_config *c = new_config();
    char body[512];
    snprintf(body, sizeof body,
             "{" BASE ",\"StartingPosition\":\"AT_TIMESTAMP\",\"StartingPositionTimestamp\":%s}",
             ts[i].member);
    expect_ok(c, parse(c, body));
    assert_int_equal(bp_config_get_starting_position_timestamp_ms(c), ts[i].ms);
    bp_config_del(c);
  }
  static const char *const ts_range[] = {"-1", "-0.001", "253402300800", "1e999999999999",
                                         "99999999999999999999999"};
  for (size_t i = 0; i < sizeof ts_range / sizeof ts_range[0]; i++) {
    bp_config *c = new_config();
    char body[512];
    snprintf(body, sizeof body, "{" BASE_LATEST ",\"StartingPositionTimestamp\":%s}", ts_range[i]);
    expect_err(c, parse(c, body), BP_ERR_CONFIG_INVALID, IPVE,
               "StartingPositionTimestamp must be between 1970-01-01T00:00:00Z and "
               "9999-12-31T23:59:59.999Z.");
    bp_config_del(c);
  }
  /* null means absent; a repeated member: the last one wins */
  bp_config *c = new_config();
  expect_ok(c, parse(c, "{" BASE_LATEST ",\"BatchSize\":null,\"FilterCriteria\":null,"
                        "\"DestinationConfig\":null,\"MetricsConfig\":null,"
                        "\"FunctionResponseTypes\":null,\"Enabled\":null}"));
  assert_int_equal(bp_config_get_batch_size(c), 100);
  assert_int_equal(bp_config_get_enabled(c), 1);
  expect_ok(c, parse(c, "{\"BatchSize\":0,\"BatchSize\":7}"));
  assert_int_equal(bp_config_get_batch_size(c), 7);
  /* foreign members are ignored */
  expect_ok(c, parse(c, "{\"Queues\":[\"q\"],\"Topics\":[\"t\"],\"Tags\":{\"a\":\"b\"},"
                        "\"SourceAccessConfigurations\":[],\"ScalingConfig\":{},"
                        "\"KMSKeyArn\":\"k\",\"SelfManagedEventSource\":{},"
                        "\"AmazonManagedKafkaEventSourceConfig\":{},"
                        "\"SelfManagedKafkaEventSourceConfig\":{},"
                        "\"DocumentDBEventSourceConfig\":{},\"ProvisionedPollerConfig\":{}}"));
  /* the body applies over the current values (merging), then validates the result */
  expect_ok(c, parse(c, "{\"BatchSize\":9}"));
  assert_int_equal(bp_config_get_batch_size(c), 9);
  assert_string_equal(bp_config_get_event_source_arn(c), KIN_ARN);
  /* empty containers switch features off */
  expect_ok(c, parse(c, "{\"FunctionResponseTypes\":[\"ReportBatchItemFailures\"],"
                        "\"MetricsConfig\":{\"Metrics\":[\"EventCount\"]},"
                        "\"FilterCriteria\":{\"Filters\":[{\"Pattern\":\"{\\\"b\\\":[2]}\"}]},"
                        "\"DestinationConfig\":{\"OnFailure\":{\"Destination\":\"" SQS_ARN
                        "\"}}}"));
  assert_int_equal(bp_config_get_report_batch_item_failures(c), 1);
  assert_int_equal(bp_config_get_metrics_event_count(c), 1);
  assert_int_equal(bp_config_get_filter_count(c), 1);
  assert_non_null(bp_config_get_on_failure_destination(c));
  expect_ok(c, parse(c, "{\"FunctionResponseTypes\":[],\"MetricsConfig\":{},"
                        "\"FilterCriteria\":{},\"DestinationConfig\":{\"OnFailure\":{}}}"));
  assert_int_equal(bp_config_get_report_batch_item_failures(c), 0);
  assert_int_equal(bp_config_get_metrics_event_count(c), 0);
  assert_int_equal(bp_config_get_filter_count(c), 0);
  assert_null(bp_config_get_on_failure_destination(c));
  expect_ok(c, parse(c, "{\"MetricsConfig\":{\"Metrics\":[\"EventCount\"]},"
                        "\"DestinationConfig\":{\"OnFailure\":{\"Destination\":\"" SQS_ARN
                        "\"}}}"));
  expect_ok(c, parse(c, "{\"MetricsConfig\":{\"Metrics\":[]},"
                        "\"DestinationConfig\":{\"OnFailure\":{\"Destination\":\"\"}},"
                        "\"FilterCriteria\":{\"Filters\":[]}}"));
  assert_int_equal(bp_config_get_metrics_event_count(c), 0);
  assert_null(bp_config_get_on_failure_destination(c));
  /* escapes in member values are decoded */
  expect_ok(c, parse(c, "{\"FunctionName\":\"f\\u006e\","
                        "\"StartingPosition\":\"TRIM_\\u0048ORIZON\"}"));
  assert_string_equal(bp_config_get_function_name(c), "fn");
  assert_int_equal(bp_config_get_starting_position(c), BP_POSITION_TRIM_HORIZON);
  bp_config_del(c);
}

static void test_json_syntax(void **state) {
  (void)state;
  static const char *const bad[] = {"", " ", "{", "{\"BatchSize\":", "{\"BatchSize\":1",
                                    "{\"BatchSize\":1,}", "{\"a\" 1}", "nul", "{} {}",
                                    "{\"x\":\"\xff\"}", "{\"BatchSize\":01}", "{/*c*/}",
                                    ("{\"EventSourceArn\":\"" KIN_ARN)};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    bp_config *c = new_config();
    assert_int_equal(parse(c, bad[i]), BP_ERR_INVALID_JSON);
    assert_string_equal(bp_config_error_type(c), VE);
    assert_int_equal(bp_config_error_http_status(c), 400);
    assert_true(strncmp(bp_config_errmsg(c), "Could not parse request body into json: ", 40) == 0);
    if (bp_config_error_offset(c) > strlen(bad[i]))
      print_error("case %zu offset %zu: %s\n", i, bp_config_error_offset(c), bp_config_errmsg(c));
    assert_true(bp_config_error_offset(c) <= strlen(bad[i]));
    check_defaults(c);
    bp_config_del(c);
  }
  static const char *const not_objects[] = {"[]", "1", "\"x\"", "null", "true", "[{}]"};
  for (size_t i = 0; i < sizeof not_objects / sizeof not_objects[0]; i++) {
    bp_config *c = new_config();
    expect_err(c, parse(c, not_objects[i]), BP_ERR_INVALID_JSON, VE,
               "Could not parse request body into json: not a JSON object");
    assert_int_equal(bp_config_error_offset(c), 0);
    bp_config_del(c);
  }
  /* NULL with length 0 is the empty text */
  bp_config *c = new_config();
  assert_int_equal(bp_config_parse_json(c, NULL, 0), BP_ERR_INVALID_JSON);
  /* the offset points into the text */
  assert_int_equal(parse(c, "{\"BatchSize\":1 x}"), BP_ERR_INVALID_JSON);
  assert_true(bp_config_error_offset(c) >= 14 && bp_config_error_offset(c) <= 16);
  /* a later successful call clears it */
  expect_ok(c, parse(c, "{" BASE_LATEST "}"));
  assert_int_equal(bp_config_error_offset(c), SIZE_MAX);
  bp_config_del(c);
}

static void test_json_types(void **state) {
  (void)state;
  static const struct {
    const char *members;
    const char *path;
    const char *what;
  } cases[] = {
      {"\"BatchSize\":\"100\"", "batchSize", "an integer"},
      {"\"BatchSize\":10.5", "batchSize", "an integer"},
      {"\"BatchSize\":1e2", "batchSize", "an integer"},
      {"\"BatchSize\":true", "batchSize", "an integer"},
      {"\"MaximumBatchingWindowInSeconds\":[]", "maximumBatchingWindowInSeconds", "an integer"},
      {"\"ParallelizationFactor\":{}", "parallelizationFactor", "an integer"},
      {"\"MaximumRetryAttempts\":\"-1\"", "maximumRetryAttempts", "an integer"},
      {"\"MaximumRecordAgeInSeconds\":60.0", "maximumRecordAgeInSeconds", "an integer"},
      {"\"TumblingWindowInSeconds\":false", "tumblingWindowInSeconds", "an integer"},
      {"\"EventSourceArn\":1", "eventSourceArn", "a string"},
      {"\"FunctionName\":[]", "functionName", "a string"},
      {"\"StartingPosition\":2", "startingPosition", "a string"},
      {"\"StartingPositionTimestamp\":\"2025-03-03T00:00:00Z\"", "startingPositionTimestamp",
       "a number"},
      {"\"Enabled\":\"true\"", "enabled", "a boolean"},
      {"\"BisectBatchOnFunctionError\":1", "bisectBatchOnFunctionError", "a boolean"},
      {"\"FunctionResponseTypes\":\"ReportBatchItemFailures\"", "functionResponseTypes",
       "a list"},
      {"\"FunctionResponseTypes\":[1]", "functionResponseTypes.1.member", "a string"},
      {"\"FunctionResponseTypes\":[\"ReportBatchItemFailures\",null]",
       "functionResponseTypes.2.member", "a string"},
      {"\"FilterCriteria\":[]", "filterCriteria", "an object"},
      {"\"FilterCriteria\":{\"Filters\":{}}", "filterCriteria.filters", "a list"},
      {"\"FilterCriteria\":{\"Filters\":[\"{}\"]}", "filterCriteria.filters.1.member",
       "an object"},
      {"\"FilterCriteria\":{\"Filters\":[{\"Pattern\":\"{\\\"b\\\":[2]}\"},{\"Pattern\":{}}]}",
       "filterCriteria.filters.2.member.pattern", "a string"},
      {"\"DestinationConfig\":\"x\"", "destinationConfig", "an object"},
      {"\"DestinationConfig\":{\"OnFailure\":\"x\"}", "destinationConfig.onFailure",
       "an object"},
      {"\"DestinationConfig\":{\"OnSuccess\":1}", "destinationConfig.onSuccess", "an object"},
      {"\"DestinationConfig\":{\"OnFailure\":{\"Destination\":1}}",
       "destinationConfig.onFailure.destination", "a string"},
      {"\"MetricsConfig\":[]", "metricsConfig", "an object"},
      {"\"MetricsConfig\":{\"Metrics\":\"EventCount\"}", "metricsConfig.metrics", "a list"},
      {"\"MetricsConfig\":{\"Metrics\":[{}]}", "metricsConfig.metrics.1.member", "a string"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    bp_config *c = new_config();
    char body[512], want[512];
    /* the type error wins over every validation error of the same body */
    snprintf(body, sizeof body,
             "{\"DestinationConfig\":{\"OnSuccess\":{}},\"BatchSize\":0,%s}", cases[i].members);
    if (strstr(cases[i].members, "DestinationConfig") || strstr(cases[i].members, "BatchSize"))
      snprintf(body, sizeof body, "{%s}", cases[i].members);
    snprintf(want, sizeof want,
             "1 validation error detected: Value at '%s' failed to satisfy constraint: Member "
             "must be %s",
             cases[i].path, cases[i].what);
    expect_err(c, parse(c, body), BP_ERR_CONFIG_INVALID, VE, want);
    check_defaults(c);
    bp_config_del(c);
  }
}

static void test_json_unknown_members(void **state) {
  (void)state;
  static const struct {
    const char *body;
    const char *msg;
  } cases[] = {
      {"{\"BatchSzie\":10}", "Unknown parameter in input: \"BatchSzie\""},
      {"{\"batchSize\":10}", "Unknown parameter in input: \"batchSize\""},
      {"{\"BatchSize\":\"x\",\"Nope\":1}", "Unknown parameter in input: \"Nope\""},
      {"{\"DestinationConfig\":{\"OnFailur\":{}}}",
       "Unknown parameter in DestinationConfig: \"OnFailur\""},
      {"{\"DestinationConfig\":{\"OnFailure\":{\"Arn\":\"x\"}}}",
       "Unknown parameter in DestinationConfig.OnFailure: \"Arn\""},
      {"{\"FilterCriteria\":{\"Filter\":[]}}", "Unknown parameter in FilterCriteria: \"Filter\""},
      {"{\"FilterCriteria\":{\"Filters\":[{\"pattern\":\"{}\"}]}}",
       "Unknown parameter in FilterCriteria.Filters: \"pattern\""},
      {"{\"MetricsConfig\":{\"Metric\":[]}}", "Unknown parameter in MetricsConfig: \"Metric\""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    bp_config *c = new_config();
    expect_err(c, parse(c, cases[i].body), BP_ERR_CONFIG_INVALID, VE, cases[i].msg);
    bp_config_del(c);
  }
}

/* Bodies with several problems report the first in SEMANTICS.md §2.3 order. */
static void test_json_error_order(void **state) {
  (void)state;
  static const struct {
    const char *body;
    const char *type;
    const char *msg; /* NULL: the enum message for 'invalid' */
  } cases[] = {
      /* OnSuccess before a missing ARN and everything else */
      {"{\"DestinationConfig\":{\"OnSuccess\":{\"Destination\":\"" SQS_ARN "\"}},"
       "\"BatchSize\":0,\"FilterCriteria\":{\"Filters\":[{\"Pattern\":\"x\"}]}}",
       IPVE, ON_SUCCESS_MSG},
      /* missing ARN before numeric ranges and StartingPosition */
      {"{\"FunctionName\":\"fn\",\"BatchSize\":0}", IPVE, "Unrecognized event source."},
      {"{\"EventSourceArn\":\"" SQS_ARN "\",\"BatchSize\":0}", IPVE, "Unrecognized event source."},
      /* numeric ranges in §2.1 table order, whatever the member order */
      {"{" BASE ",\"TumblingWindowInSeconds\":901,\"MaximumRecordAgeInSeconds\":1,"
       "\"MaximumRetryAttempts\":-2,\"ParallelizationFactor\":0,"
       "\"MaximumBatchingWindowInSeconds\":301,\"BatchSize\":10001}",
       VE,
       "1 validation error detected: Value '10001' at 'batchSize' failed to satisfy "
       "constraint: Member must have value less than or equal to 10000"},
      {"{" BASE ",\"TumblingWindowInSeconds\":901,\"MaximumRecordAgeInSeconds\":1,"
       "\"MaximumRetryAttempts\":-2,\"ParallelizationFactor\":0,"
       "\"MaximumBatchingWindowInSeconds\":301}",
       VE,
       "1 validation error detected: Value '301' at 'maximumBatchingWindowInSeconds' failed to "
       "satisfy constraint: Member must have value less than or equal to 300"},
      {"{" BASE ",\"TumblingWindowInSeconds\":901,\"MaximumRecordAgeInSeconds\":1,"
       "\"MaximumRetryAttempts\":-2,\"ParallelizationFactor\":0}",
       VE,
       "1 validation error detected: Value '0' at 'parallelizationFactor' failed to satisfy "
       "constraint: Member must have value greater than or equal to 1"},
      {"{" BASE ",\"TumblingWindowInSeconds\":901,\"MaximumRecordAgeInSeconds\":1,"
       "\"MaximumRetryAttempts\":-2}",
       VE,
       "1 validation error detected: Value '-2' at 'maximumRetryAttempts' failed to satisfy "
       "constraint: Member must have value greater than or equal to -1"},
      {"{" BASE ",\"TumblingWindowInSeconds\":901,\"MaximumRecordAgeInSeconds\":1}", IPVE,
       MAX_AGE_MSG},
      {"{" BASE ",\"TumblingWindowInSeconds\":901}", VE,
       "1 validation error detected: Value '901' at 'tumblingWindowInSeconds' failed to satisfy "
       "constraint: Member must have value less than or equal to 900"},
      /* numeric ranges before StartingPosition (missing or not in the enum) */
      {"{" BASE ",\"MaximumRecordAgeInSeconds\":30}", IPVE, MAX_AGE_MSG},
      {"{" BASE ",\"StartingPosition\":\"invalid\",\"BatchSize\":0}", VE,
       "1 validation error detected: Value '0' at 'batchSize' failed to satisfy constraint: "
       "Member must have value greater than or equal to 1"},
      /* StartingPosition before FunctionResponseTypes and filters */
      {"{" BASE ",\"FunctionResponseTypes\":[\"Foo\"],\"FilterCriteria\":{\"Filters\":"
       "[{\"Pattern\":\"x\"}]}}",
       IPVE, NULL_POSITION_MSG},
      {"{" BASE ",\"StartingPosition\":\"invalid\",\"FunctionResponseTypes\":[\"Foo\"]}", VE,
       NULL},
      {"{\"EventSourceArn\":\"" DDB_ARN "\",\"FunctionName\":\"fn\","
       "\"StartingPosition\":\"AT_TIMESTAMP\",\"FunctionResponseTypes\":[\"Foo\"]}",
       IPVE, "Unsupported starting position for arn type: " DDB_ARN},
      /* FunctionName (model validation) right after the ARN, before the numeric ranges */
      {"{\"EventSourceArn\":\"" KIN_ARN "\",\"BatchSize\":0}", VE,
       "1 validation error detected: Value null at 'functionName' failed to satisfy "
       "constraint: Member must not be null."},
      {"{" BASE ",\"StartingPosition\":\"AT_TIMESTAMP\",\"FunctionResponseTypes\":[\"Foo\"]}",
       IPVE, "StartingPositionTimestamp is required when StartingPosition is AT_TIMESTAMP."},
      /* FunctionResponseTypes before filters */
      {"{" BASE_LATEST ",\"FunctionResponseTypes\":[\"Foo\"],\"FilterCriteria\":{\"Filters\":"
       "[{\"Pattern\":\"x\"},{},{},{},{},{}]}}",
       VE,
       "1 validation error detected: Value 'Foo' at 'functionResponseTypes' failed to satisfy "
       "constraint: Member must satisfy enum value set: [ReportBatchItemFailures]"},
      {"{" BASE_LATEST ",\"FunctionResponseTypes\":[\"ReportBatchItemFailures\","
       "\"ReportBatchItemFailures\"]}",
       VE,
       "1 validation error detected: Value '[ReportBatchItemFailures, ReportBatchItemFailures]' "
       "at 'functionResponseTypes' failed to satisfy constraint: Member must have length less "
       "than or equal to 1"},
      /* filters: count, then length, then validity */
      {"{" BASE_LATEST ",\"FilterCriteria\":{\"Filters\":[{\"Pattern\":\"x\"},{},{},{},{},{}]}}",
       IPVE, "The number of filters exceeds the limit of 5."},
      {"{" BASE_LATEST ",\"FilterCriteria\":{\"Filters\":[{\"Pattern\":\"x\"},{}]}}", IPVE,
       FILTER_INVALID_MSG},
      {"{" BASE_LATEST ",\"FilterCriteria\":{\"Filters\":[{\"Pattern\":\"{\\\"b\\\":[2]}\"},{}]}}", IPVE,
       FILTER_INVALID_MSG},
      {"{" BASE_LATEST ",\"FilterCriteria\":{\"Filters\":[{\"Pattern\":null}]}}", IPVE,
       FILTER_INVALID_MSG},
      {"{" BASE_LATEST ",\"FilterCriteria\":{\"Filters\":[{\"Pattern\":\"\"}]}}", IPVE,
       FILTER_INVALID_MSG},
      {"{" BASE_LATEST ",\"FilterCriteria\":{\"Filters\":[{\"Pattern\":\"[{\\\"eventName\\\": "
       "[\\\"INSERT\\\"=123}]\"}]}}",
       IPVE, FILTER_INVALID_MSG},
      /* filters before metrics */
      {"{" BASE_LATEST ",\"MetricsConfig\":{\"Metrics\":[\"ErrorCount\"]},\"FilterCriteria\":"
       "{\"Filters\":[{\"Pattern\":\"x\"}]}}",
       IPVE, FILTER_INVALID_MSG},
      {"{" BASE_LATEST ",\"MetricsConfig\":{\"Metrics\":[\"ErrorCount\"]}}", VE,
       "1 validation error detected: Value 'ErrorCount' at 'metricsConfig.metrics' failed to "
       "satisfy constraint: Member must satisfy enum value set: [EventCount]"},
      /* on-failure destination right after OnSuccess */
      {"{\"DestinationConfig\":{\"OnFailure\":{\"Destination\":\"dlq\"}}}", VE,
       "1 validation error detected: Value 'dlq' at 'destinationConfig.onFailure.destination' "
       "failed to satisfy constraint: Member must satisfy regular expression pattern: "
       "^$|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}(-gov)?-[a-z]+-\\d{1})?:"
       "(\\d{12})?:(.*)"},
      /* FunctionName right after the ARN */
      {"{\"EventSourceArn\":\"" KIN_ARN "\",\"FunctionName\":\"a b\",\"BatchSize\":0}", VE,
       "1 validation error detected: Value 'a b' at 'functionName' failed to satisfy "
       "constraint: Member must satisfy regular expression pattern: "
       "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?"
       "(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"},
      /* integers beyond int64 keep their text */
      {"{" BASE_LATEST ",\"BatchSize\":123456789012345678901234567890}", VE,
       "1 validation error detected: Value '123456789012345678901234567890' at 'batchSize' "
       "failed to satisfy constraint: Member must have value less than or equal to 10000"},
      {"{" BASE_LATEST ",\"ParallelizationFactor\":-123456789012345678901234567890}", VE,
       "1 validation error detected: Value '-123456789012345678901234567890' at "
       "'parallelizationFactor' failed to satisfy constraint: Member must have value greater "
       "than or equal to 1"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    bp_config *c = new_config();
    char want[512];
    const char *msg = cases[i].msg;
    if (!msg) {
      snprintf(want, sizeof want, "1 validation error detected: Value 'invalid%s",
               POSITION_ENUM_TAIL);
      msg = want;
    }
    int rc = parse(c, cases[i].body);
    if (strcmp(bp_config_errmsg(c), msg) != 0) print_error("case %zu\n", i);
    expect_err(c, rc, BP_ERR_CONFIG_INVALID, cases[i].type, msg);
    check_defaults(c);
    bp_config_del(c);
  }
}

/* A failed parse leaves every value as it was, filters included. */
static void test_json_atomic(void **state) {
  (void)state;
  bp_config *c = new_config();
  expect_ok(c, parse(c, FULL_BODY));
  char before[4096], after[4096];
  snapshot(c, before, sizeof before);
  static const char *const bad[] = {
      "{\"EventSourceArn\":\"" DDB_ARN "\",\"BatchSize\":5,\"Enabled\":true,"
      "\"FilterCriteria\":{\"Filters\":[]},\"DestinationConfig\":{\"OnFailure\":{}},"
      "\"FunctionName\":\"other\",\"TumblingWindowInSeconds\":901}",
      "{\"EventSourceArn\":\"" DDB_ARN "\",\"FilterCriteria\":{\"Filters\":[]}}", /* AT_TIMESTAMP */
      ("{\"StartingPosition\":\"LATEST\",\"FilterCriteria\":{\"Filters\":[{\"Pattern\":\"{\\\"b\\\":[2]}\"},"
       "{\"Pattern\":\"x\"}]}}"),
      "{\"BatchSize\":1,\"MetricsConfig\":{\"Metrics\":[\"Nope\"]}}",
      "{\"BatchSize\":1,\"StartingPosition\":\"LATEST\"", /* truncated */
      "{\"BatchSize\":1,\"Oops\":2}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_not_equal(parse(c, bad[i]), 0);
    assert_string_not_equal(bp_config_errmsg(c), "");
    snapshot(c, after, sizeof after);
    assert_string_equal(before, after);
  }
  bp_config_del(c);
}

static int yajl_accepts(const char *s, size_t n) {
  yajl_handle h = yajl_alloc(NULL, NULL, NULL);
  yajl_config(h, yajl_allow_comments, 0);
  yajl_config(h, yajl_dont_validate_strings, 0);
  int ok = yajl_parse(h, (const unsigned char *)s, n) == yajl_status_ok &&
           yajl_complete_parse(h) == yajl_status_ok;
  yajl_free(h);
  return ok;
}

/* The core's own pattern recognizer agrees with yajl (strict mode) on random token soup.
 * yajl alone accepts an unterminated string after a complete value (`{}"abc`: it checks only
 * the parser state at the end); appending a quote turns that tail into trailing garbage,
 * so the oracle asks both ways. */
static int yajl_object_ok(const char *s, size_t n) {
  char quoted[1100];
  memcpy(quoted, s, n);
  quoted[n] = '"';
  int ok = yajl_accepts(s, n) && yajl_accepts(quoted, n + 1);
  size_t i = 0;
  while (i < n && strchr(" \t\r\n", s[i])) i++;
  return ok && i < n && s[i] == '{';
}

static uint32_t rnd(uint32_t *seed, uint32_t n) {
  *seed = *seed * 1103515245u + 12345u;
  return (*seed >> 16) % n;
}

static const char *const scalars[] = {
    "\"a\"", "\"\\u00e9\"", "\"\\ud83d\\ude00\"", "\"\\ud800\"", "\"\xc3\xa9\"", "\"\\n\\/\"",
    "0", "-1", "12", "1.5", "2e5", "3E-2", "-0.0e+1", "true", "false", "null", "\"\""};

/* A random valid JSON value of limited depth. */
static void gen_json(uint32_t *seed, char *buf, size_t *n, int depth, int object) {
  int kind = object ? 0 : depth > 3 ? 2 : (int)rnd(seed, 3);
  if (kind == 2) {
    const char *t = scalars[rnd(seed, sizeof scalars / sizeof scalars[0])];
    memcpy(buf + *n, t, strlen(t));
    *n += strlen(t);
    return;
  }
  buf[(*n)++] = kind == 0 ? '{' : '[';
  int items = (int)rnd(seed, 3);
  for (int i = 0; i < items; i++) {
    if (i) buf[(*n)++] = ',';
    if (rnd(seed, 4) == 0) buf[(*n)++] = ' ';
    if (kind == 0) {
      memcpy(buf + *n, "\"k\":", 4);
      *n += 4;
    }
    gen_json(seed, buf, n, depth + 1, 0);
  }
  buf[(*n)++] = kind == 0 ? '}' : ']';
}

static void test_pattern_vs_yajl(void **state) {
  (void)state;
  static const char noise[] = "{}[]:,\" \\-.0e1tfnu\xff\x01\t";
  uint32_t seed = 12345;
  bp_config *c = new_config();
  int accepted = 0, rejected = 0;
  for (int round = 0; round < 50000; round++) {
    char buf[1024]; /* a generated object stays under 600 bytes */
    size_t n = 0;
    gen_json(&seed, buf, &n, 0, 1);
    assert_true(n < 700);
    for (int m = (int)rnd(&seed, 3); m > 0 && n > 0; m--) { /* 0..2 byte mutations */
      size_t at = rnd(&seed, (uint32_t)n);
      char ch = noise[rnd(&seed, sizeof noise - 1)];
      switch (rnd(&seed, 3)) {
      case 0: memmove(buf + at, buf + at + 1, n - at - 1); n--; break;
      case 1: memmove(buf + at + 1, buf + at, n - at); buf[at] = ch; n++; break;
      default: buf[at] = ch; break;
      }
    }
    int want = yajl_object_ok(buf, n);
    int rc = bp_config_add_filter(c, buf, n);
    /* JSON that is no filter is refused after the syntax check, with a reason appended */
    int json_ok = rc == 0 || (rc == BP_ERR_CONFIG_INVALID &&
                              !strncmp(bp_config_errmsg(c), "Invalid filter pattern definition. (", 36));
    if (json_ok != want) print_error("disagree (yajl %d): [%.*s]\n", want, (int)n, buf);
    assert_int_equal(json_ok, want);
    if (json_ok) {
      accepted++;
      expect_ok(c, bp_config_clear_filters(c));
    } else {
      rejected++;
    }
  }
  assert_true(accepted > 10000 && rejected > 10000);
  bp_config_del(c);
}

/* ---- fault injection ---- */

static int scenario_full(const bp_allocator *a, void *ctx) {
  (void)ctx;
  bp_config *c = NULL, *d = NULL;
  int rc = bp_config_new(&c, a);
  if (rc) return rc;
  rc = bp_config_parse_json(c, FULL_BODY, strlen(FULL_BODY));
  if (!rc) rc = bp_config_copy(&d, c, a);
  if (!rc) rc = bp_config_set(d, "FilterCriteria.Filters.Pattern", "{\"x\":[1]}", NULL, 0);
  if (!rc) rc = bp_config_set(d, "FilterCriteria", "{\"Filters\":[{\"Pattern\":\"{\\\"b\\\":[2]}\"}]}", NULL, 0);
  if (!rc) rc = bp_config_set(d, "EventSourceArn", DDB_ARN, NULL, 0);
  if (!rc) rc = bp_config_set(d, "FunctionName", "fn2", NULL, 0);
  if (!rc) rc = bp_config_set(d, "DestinationConfig.OnFailure.Destination", SQS_ARN, NULL, 0);
  if (!rc) rc = bp_config_set(d, "StartingPosition", "LATEST", NULL, 0);
  if (!rc) rc = bp_config_validate(d);
  if (!rc) { /* a rejected body: either the rejection or NOMEM, never anything else */
    rc = bp_config_parse_json(d, "{\"BatchSize\":0}", 15);
    rc = rc == BP_ERR_CONFIG_INVALID ? 0 : rc == BP_ERR_NOMEM ? rc : BP_ERR_INTERNAL;
  }
  bp_config_del(d);
  bp_config_del(c);
  return rc;
}

static void test_failmalloc(void **state) {
  (void)state;
  test_alloc_failmalloc(scenario_full, NULL);
}

/* Every allocation failure inside a call leaves the configuration exactly as it was. */
static void test_nomem_atomic(void **state) {
  (void)state;
  test_alloc ta;
  bp_allocator hooks;
  test_alloc_init(&ta, &hooks);
  bp_config *c = NULL;
  assert_int_equal(bp_config_new(&c, &hooks), 0);
  assert_int_equal(parse(c, "{" BASE_LATEST ",\"FilterCriteria\":{\"Filters\":[{\"Pattern\":"
                            "\"{\\\"a\\\":[1]}\"}]}}"),
                   0);
  char before[4096], after[4096];
  snapshot(c, before, sizeof before);
  int done = 0;
  for (size_t i = 1; !done; i++) {
    ta.fail_at = ta.calls + i;
    int rc = parse(c, FULL_BODY);
    if (rc == 0) {
      done = 1;
      break;
    }
    assert_int_equal(rc, BP_ERR_NOMEM);
    assert_string_equal(bp_config_errmsg(c), "out of memory");
    assert_string_equal(bp_config_error_type(c), "");
    snapshot(c, after, sizeof after);
    assert_string_equal(before, after);
  }
  /* the typed setters that copy strings, too */
  snapshot(c, before, sizeof before);
  for (int which = 0; which < 4; which++) {
    ta.fail_at = ta.calls + 1;
    int rc = which == 0   ? set_arn(c, DDB_ARN)
             : which == 1 ? bp_config_set_function_name(c, "g", 1)
             : which == 2 ? bp_config_set_on_failure_destination(c, SQS_ARN, strlen(SQS_ARN))
                          : bp_config_set(c, "FilterCriteria", "{\"Filters\":[]}", NULL, 0);
    assert_int_equal(rc, BP_ERR_NOMEM);
    snapshot(c, after, sizeof after);
    assert_string_equal(before, after);
  }
  ta.fail_at = 0;
  expect_ok(c, bp_config_clear_filters(c));
  for (size_t i = 1;; i++) { /* add_filter: the array, then the text */
    ta.fail_at = ta.calls + i;
    int rc = add_filter(c, "{\"a\":[1]}");
    if (!rc) break;
    assert_int_equal(rc, BP_ERR_NOMEM);
    assert_int_equal(bp_config_get_filter_count(c), 0);
  }
  ta.fail_at = 0;
  bp_config *d = (bp_config *)&d;
  ta.fail_at = ta.calls + 1;
  assert_int_equal(bp_config_copy(&d, c, &hooks), BP_ERR_NOMEM);
  assert_null(d);
  ta.fail_at = 0;
  bp_config_del(c);
  assert_int_equal(ta.live_blocks, 0);
}

/* ---- the shared scenario file: config_cases ---- */

#define SCENARIOS BP_TEST_DATA_DIR "/esm-scenarios.json"

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  for (;;) {
    n += fread(buf + n, 1, cap - n - 1, f);
    if (n < cap - 1) break;
    cap *= 2;
    buf = realloc(buf, cap);
  }
  fclose(f);
  buf[n] = '\0';
  return buf;
}

static void gen_value(yajl_gen g, yajl_val v) {
  if (YAJL_IS_OBJECT(v)) {
    yajl_gen_map_open(g);
    for (size_t i = 0; i < v->u.object.len; i++) {
      const char *k = v->u.object.keys[i];
      yajl_gen_string(g, (const unsigned char *)k, strlen(k));
      gen_value(g, v->u.object.values[i]);
    }
    yajl_gen_map_close(g);
  } else if (YAJL_IS_ARRAY(v)) {
    yajl_gen_array_open(g);
    for (size_t i = 0; i < v->u.array.len; i++) gen_value(g, v->u.array.values[i]);
    yajl_gen_array_close(g);
  } else if (YAJL_IS_STRING(v)) {
    const char *s = YAJL_GET_STRING(v);
    yajl_gen_string(g, (const unsigned char *)s, strlen(s));
  } else if (YAJL_IS_NUMBER(v)) {
    yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r)); /* the raw token, unchanged */
  } else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
    yajl_gen_bool(g, YAJL_IS_TRUE(v));
  } else {
    yajl_gen_null(g);
  }
}

static yajl_val member(yajl_val obj, const char *key) {
  const char *path[] = {key, NULL};
  return obj ? yajl_tree_get(obj, path, yajl_t_any) : NULL;
}

/* Getter for a "defaults" entry; 0 and *known = 0 for a name the runner does not know. */
static long long default_of(const bp_config *c, const char *name, int *known) {
  static const struct {
    const char *name;
    int (*get)(const bp_config *);
  } ints[] = {
      {"MaximumBatchingWindowInSeconds", bp_config_get_maximum_batching_window_in_seconds},
      {"ParallelizationFactor", bp_config_get_parallelization_factor},
      {"MaximumRetryAttempts", bp_config_get_maximum_retry_attempts},
      {"MaximumRecordAgeInSeconds", bp_config_get_maximum_record_age_in_seconds},
      {"TumblingWindowInSeconds", bp_config_get_tumbling_window_in_seconds},
      {"BisectBatchOnFunctionError", bp_config_get_bisect_batch_on_function_error},
      {"Enabled", bp_config_get_enabled},
      {"FunctionResponseTypes", bp_config_get_report_batch_item_failures},
  };
  *known = 1;
  if (strcmp(name, "BatchSize") == 0) return bp_config_get_batch_size(c);
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
    if (strcmp(name, ints[i].name) == 0) return ints[i].get(c);
  *known = 0;
  return 0;
}

static long long expected_default(yajl_val v) {
  if (YAJL_IS_TRUE(v)) return 1;
  if (YAJL_IS_FALSE(v)) return 0;
  if (YAJL_IS_ARRAY(v)) return v->u.array.len > 0; /* FunctionResponseTypes */
  return YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : -999999;
}

/* The host owns streams and mappings: cases that need them are not applicable here. */
static const char *not_applicable(yajl_val kase, yajl_val expect) {
  const char *msg = YAJL_GET_STRING(member(expect, "message"));
  if (member(kase, "setup")) return "needs a mapping registry (earlier CreateEventSourceMapping)";
  if (msg && strncmp(msg, "Stream not found: ", 18) == 0)
    return "needs a stream registry (the host owns streams)";
  return NULL;
}

static int run_case(yajl_val kase, const char *id) {
  yajl_val input = member(kase, "input"), expect = member(kase, "expect");
  int failed = 0;
  yajl_gen g = yajl_gen_alloc(NULL);
  gen_value(g, input);
  const unsigned char *body;
  size_t len;
  yajl_gen_get_buf(g, &body, &len);
  bp_config *c = new_config();
  int rc = bp_config_parse_json(c, (const char *)body, len);
  if (!rc) rc = bp_config_validate(c);
  int want_ok = YAJL_IS_TRUE(member(expect, "ok"));
  if (want_ok != (rc == 0)) {
    printf("  %s: ok %d, want %d (%d: %s)\n", id, rc == 0, want_ok, rc, bp_config_errmsg(c));
    failed = 1;
  } else if (!want_ok) {
    const char *type = YAJL_GET_STRING(member(expect, "error_type"));
    const char *msg = YAJL_GET_STRING(member(expect, "message"));
    yajl_val status = member(expect, "http_status");
    if (rc != BP_ERR_CONFIG_INVALID || !type || strcmp(bp_config_error_type(c), type) != 0 ||
        !msg || strcmp(bp_config_errmsg(c), msg) != 0 || !YAJL_IS_INTEGER(status) ||
        YAJL_GET_INTEGER(status) != bp_config_error_http_status(c)) {
      printf("  %s: got %d %s %d \"%s\"\n      want %s %lld \"%s\"\n", id, rc,
             bp_config_error_type(c), bp_config_error_http_status(c), bp_config_errmsg(c),
             type ? type : "?", YAJL_IS_INTEGER(status) ? YAJL_GET_INTEGER(status) : -1,
             msg ? msg : "?");
      failed = 1;
    }
  } else {
    yajl_val defaults = member(expect, "defaults");
    for (size_t i = 0; YAJL_IS_OBJECT(defaults) && i < defaults->u.object.len; i++) {
      int known;
      const char *name = defaults->u.object.keys[i];
      long long got = default_of(c, name, &known);
      long long want = expected_default(defaults->u.object.values[i]);
      if (!known || got != want) {
        printf("  %s: %s = %lld, want %lld%s\n", id, name, got, want, known ? "" : " (no getter)");
        failed = 1;
      }
    }
  }
  bp_config_del(c);
  yajl_gen_free(g);
  return failed;
}

static void test_config_cases(void **state) {
  (void)state;
  char *text = read_file(SCENARIOS);
  if (!text) {
    print_error("cannot read %s (run the tests from the repository root)\n", SCENARIOS);
    fail();
  }
  char err[256];
  yajl_val root = yajl_tree_parse(text, err, sizeof err);
  free(text);
  if (!root) print_error("%s: %s\n", SCENARIOS, err);
  assert_non_null(root);
  yajl_val cases = member(root, "config_cases");
  assert_true(YAJL_IS_ARRAY(cases));
  int passed = 0, failed = 0, na = 0;
  for (size_t i = 0; i < cases->u.array.len; i++) {
    yajl_val kase = cases->u.array.values[i];
    const char *id = YAJL_GET_STRING(member(kase, "id"));
    yajl_val expect = member(kase, "expect");
    const char *why = not_applicable(kase, expect);
    if (why) {
      /* the configuration layer itself must accept these requests */
      bp_config *c = new_config();
      yajl_gen g = yajl_gen_alloc(NULL);
      gen_value(g, member(kase, "input"));
      const unsigned char *body;
      size_t len;
      yajl_gen_get_buf(g, &body, &len);
      int rc = bp_config_parse_json(c, (const char *)body, len);
      if (!rc) rc = bp_config_validate(c);
      if (rc) {
        printf("  %s: config layer rejected a request it should pass on: %s\n", id,
               bp_config_errmsg(c));
        failed++;
      } else {
        printf("  %s: not applicable: %s\n", id, why);
        na++;
      }
      yajl_gen_free(g);
      bp_config_del(c);
      continue;
    }
    if (run_case(kase, id ? id : "?")) failed++;
    else passed++;
  }
  yajl_tree_free(root);
  printf("config cases: %d passed, %d failed, %d not applicable\n", passed, failed, na);
  assert_int_equal(failed, 0);
  assert_int_equal(passed + na, 14);
}

#else /* core-only build */

static void test_json_unsupported(void **state) {
  (void)state;
  bp_config *c = new_config();
  expect_err(c, bp_config_parse_json(c, "{}", 2), BP_ERR_UNSUPPORTED, "",
             "JSON configuration needs the codec (BP_WITH_CODEC is 0 in this build)");
  assert_int_equal(set(c, "FilterCriteria", "{\"Filters\":[]}"), BP_ERR_UNSUPPORTED);
  expect_ok(c, set(c, "FilterCriteria", ""));
  bp_config_del(c);
}

#endif

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),         cmocka_unit_test(test_lifecycle_args),
      cmocka_unit_test(test_error_cleared),    cmocka_unit_test(test_int_ranges),
      cmocka_unit_test(test_batch_size),       cmocka_unit_test(test_max_record_age),
      cmocka_unit_test(test_flags),            cmocka_unit_test(test_starting_position),
      cmocka_unit_test(test_event_source_arn), cmocka_unit_test(test_function_name),
      cmocka_unit_test(test_resolve_function_arn),
      cmocka_unit_test(test_destination),      cmocka_unit_test(test_filter_patterns),
      cmocka_unit_test(test_hostile_lengths),
      cmocka_unit_test(test_filter_limits),    cmocka_unit_test(test_filter_length),
      cmocka_unit_test(test_validate),         cmocka_unit_test(test_copy),
      cmocka_unit_test(test_set_by_name),      cmocka_unit_test(test_set_by_name_errors),
      cmocka_unit_test(test_set_lists),
#if BP_WITH_CODEC
      cmocka_unit_test(test_set_filter_criteria), cmocka_unit_test(test_json_full),
      cmocka_unit_test(test_json_defaults_kept),  cmocka_unit_test(test_json_values),
      cmocka_unit_test(test_json_syntax),         cmocka_unit_test(test_json_types),
      cmocka_unit_test(test_json_unknown_members), cmocka_unit_test(test_json_error_order),
      cmocka_unit_test(test_json_atomic),         cmocka_unit_test(test_failmalloc),
      cmocka_unit_test(test_nomem_atomic),        cmocka_unit_test(test_config_cases),
      cmocka_unit_test(test_pattern_vs_yajl),
#else
      cmocka_unit_test(test_json_unsupported),
#endif
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
