/* SPDX-License-Identifier: MIT */
/*
 * On-failure destinations under a real bp_engine whose function always fails (the exec
 * invoker running `exit 1`, MaximumRetryAttempts 0): SQS SendMessage, SNS Publish and S3
 * PutObject at test/aws/servers/aws_shapes.js (bodies read back and parsed), one retry of a
 * 5xx / throttle, no retry of a 4xx, unusable ARNs, and the NDJSON file destination.
 */
#include "invoke_host.h"

#define CONFIG(dest, batch) IH_CONFIG(batch, "0", dest, "")

static const char *const one_key[] = {"k"};
static const char *rc_condition[] = {"requestContext", "condition", NULL};
static const char *resp_fe[] = {"responseContext", "functionError", NULL};
static const char *batch_size_p[] = {"KinesisBatchInfo", "batchSize", NULL};
static const char *start_seq_p[] = {"KinesisBatchInfo", "startSequenceNumber", NULL};
static const char *path_p[] = {"path", NULL};
static const char *body_p[] = {"body", NULL};

static void failing_host(ih_host *h, size_t nrec, const char *cfg, int to_file) {
  char err[256];
  ih_init(h, !to_file);
  ih_records(h, nrec, one_key, 1);
  assert_int_equal(bp__aws_exec_invoker_new(&h->iv, h->loop, "cat >/dev/null; exit 1", 10000,
                                            &h->counters, err, sizeof err), 0);
  if (to_file)
    ih_file_dest(h);
  else
    ih_aws_dest(h);
  ih_engine(h, cfg);
}

static void check_record(yajl_val rec, const ih_host *h, long long batch) {
  assert_string_equal(ih_str(rec, rc_condition), "RetryAttemptsExhausted");
  assert_string_equal(ih_str(rec, resp_fe), "Unhandled");
  assert_int_equal(YAJL_GET_INTEGER(yajl_tree_get(rec, batch_size_p, yajl_t_number)), batch);
  assert_string_equal(ih_str(rec, start_seq_p), h->seq[0]);
}

static yajl_val parse(const char *text) {
  char err[256];
  yajl_val v = yajl_tree_parse(text, err, sizeof err);
  if (!v) fail_msg("not JSON (%s): %.200s", err, text);
  return v;
}

static void test_sqs(void **state) {
  (void)state;
  ih_host h;
  failing_host(&h, 3, CONFIG(IH_SQS_ARN, "10"), 0);
  assert_true(ih_drive(&h, ih_all_done, 10000));
  bp_engine_metrics m = ih_metrics(&h);
  assert_int_equal(m.on_failure_destination_delivered_event_count, 3);
  assert_int_equal(m.destination_delivery_failures, 0);
  assert_int_equal(h.counters.deliveries, 1);
  assert_int_equal(h.counters.delivery_failures, 0);
  yajl_val all = ih_received();
  assert_int_equal(ih_count(all, "sqs"), 1);
  yajl_val req = ih_request(all, "sqs", 0);
  static const char *target[] = {"headers", "x-amz-target", NULL};
  static const char *ctype[] = {"headers", "content-type", NULL};
  static const char *auth[] = {"headers", "authorization", NULL};
  static const char *url_p[] = {"QueueUrl", NULL};
  static const char *msg_p[] = {"MessageBody", NULL};
  assert_string_equal(ih_str(req, target), "AmazonSQS.SendMessage");
  assert_string_equal(ih_str(req, ctype), "application/x-amz-json-1.0");
  assert_non_null(strstr(ih_str(req, auth), "/us-east-1/sqs/aws4_request"));
  yajl_val body = parse(ih_str(req, body_p));
  char url[256];
  snprintf(url, sizeof url, "%s/123456789012/q", ih_url());
  assert_string_equal(ih_str(body, url_p), url);
  yajl_val rec = parse(ih_str(body, msg_p));
  check_record(rec, &h, 3);
  yajl_tree_free(rec);
  yajl_tree_free(body);
  yajl_tree_free(all);
  ih_fini(&h);
}

/* application/x-www-form-urlencoded value of @p name in @p form, decoded into @p out. */
static void form_value(const char *form, const char *name, bp__aws_buf *out) {
  size_t n = strlen(name);
  const char *p = form;
  while (p && (strncmp(p, name, n) || p[n] != '=')) {
    p = strchr(p, '&');
    if (p) p++;
  }
  if (!p) fail_msg("no %s in %s", name, form);
  for (p += n + 1; *p && *p != '&'; p++) {
    char c = *p;
    if (c == '+') c = ' ';
    else if (c == '%' && p[1] && p[2]) {
      char hex[3] = {p[1], p[2], 0};
      c = (char)strtol(hex, NULL, 16);
      p += 2;
    }
    assert_int_equal(bp__aws_buf_append(out, &c, 1), 0);
  }
}

static void test_sns(void **state) {
  (void)state;
  ih_host h;
  failing_host(&h, 2, CONFIG("arn:aws:sns:us-east-1:123456789012:t", "10"), 0);
  assert_true(ih_drive(&h, ih_all_done, 10000));
  assert_int_equal(ih_metrics(&h).on_failure_destination_delivered_event_count, 2);
  yajl_val all = ih_received();
  assert_int_equal(ih_count(all, "sns"), 1);
  const char *form = ih_str(ih_request(all, "sns", 0), body_p);
  bp__aws_buf v = {0};
  form_value(form, "Action", &v);
  assert_string_equal(v.data, "Publish");
  bp__aws_buf_reset(&v);
  form_value(form, "Version", &v);
  assert_string_equal(v.data, "2010-03-31");
  bp__aws_buf_reset(&v);
  form_value(form, "TopicArn", &v);
  assert_string_equal(v.data, "arn:aws:sns:us-east-1:123456789012:t");
  bp__aws_buf_reset(&v);
  form_value(form, "Message", &v);
  yajl_val rec = parse(v.data);
  check_record(rec, &h, 2);
  yajl_tree_free(rec);
  bp__aws_buf_free(&v);
  yajl_tree_free(all);
  ih_fini(&h);
}

static void test_s3(void **state) {
  (void)state;
  ih_host h;
  failing_host(&h, 3, CONFIG("arn:aws:s3:::bkt", "10"), 0);
  assert_true(ih_drive(&h, ih_all_done, 10000));
  assert_int_equal(ih_metrics(&h).on_failure_destination_delivered_event_count, 3);
  /* The §5.5 key the engine gave: aws/lambda/<uuid>/<shard>/YYYY/MM/DD/... */
  assert_memory_equal(h.s3_key, "aws/lambda/", 11);
  assert_non_null(strstr(h.s3_key, "/" IH_SHARD "/"));
  yajl_val all = ih_received();
  assert_int_equal(ih_count(all, "s3"), 1);
  yajl_val req = ih_request(all, "s3", 0);
  static const char *method_p[] = {"method", NULL};
  static const char *ctype[] = {"headers", "content-type", NULL};
  static const char *payload_p[] = {"payload", NULL};
  static const char *recs_p[] = {"Records", NULL};
  char path[600];
  snprintf(path, sizeof path, "/bkt/%s", h.s3_key); /* its characters need no encoding */
  assert_string_equal(ih_str(req, path_p), path);
  assert_string_equal(ih_str(req, method_p), "PUT");
  assert_string_equal(ih_str(req, ctype), "application/json");
  yajl_val rec = parse(ih_str(req, body_p));
  check_record(rec, &h, 3);
  yajl_val ev = parse(ih_str(rec, payload_p)); /* the invocation event, as a string */
  assert_int_equal(YAJL_GET_ARRAY(yajl_tree_get(ev, recs_p, yajl_t_array))->len, 3);
  yajl_tree_free(ev);
  yajl_tree_free(rec);
  yajl_tree_free(all);
  ih_fini(&h);
}

/* One 5xx (or throttle) is retried at once; the retry delivers. */
static void test_retry_once_then_delivered(void **state) {
  (void)state;
  ih_host h;
  failing_host(&h, 2, CONFIG(IH_SQS_ARN, "1"), 0);
  /* Each request takes the next response: {} is a success. */
  ih_script("{\"sqs\":[{\"status\":500,\"error\":\"InternalError\"},{},"
            "{\"status\":400,\"error\":\"ThrottlingException\"},{}]}");
  assert_true(ih_drive(&h, ih_all_done, 10000));
  bp_engine_metrics m = ih_metrics(&h);
  assert_int_equal(m.on_failure_destination_delivered_event_count, 2);
  assert_int_equal(m.destination_delivery_failures, 0);
  assert_int_equal(h.counters.deliveries, 2);
  yajl_val all = ih_received();
  assert_int_equal(ih_count(all, "sqs"), 4); /* each failed once, then was sent again */
  yajl_tree_free(all);
  ih_fini(&h);
}

/* Two 5xx: the delivery fails; a 4xx is not retried. The records stay discarded. */
static void test_failures(void **state) {
  (void)state;
  ih_host h;
  failing_host(&h, 2, CONFIG(IH_SQS_ARN, "1"), 0);
  ih_script("{\"sqs\":[{\"status\":500,\"error\":\"InternalError\"},{\"status\":503},"
            "{\"status\":400,\"error\":\"AccessDenied\"}]}");
  assert_true(ih_drive(&h, ih_all_done, 10000));
  bp_engine_metrics m = ih_metrics(&h);
  assert_int_equal(m.on_failure_destination_delivered_event_count, 0);
  assert_int_equal(m.destination_delivery_failures, 2);
  assert_int_equal(m.dropped_event_count, 2);
  assert_int_equal(h.counters.deliveries, 0);
  assert_int_equal(h.counters.delivery_failures, 2);
  yajl_val all = ih_received();
  assert_int_equal(ih_count(all, "sqs"), 3);
  yajl_tree_free(all);
  ih_fini(&h);
}

/* An ARN the destination cannot use fails its deliveries without a request. */
static void test_unusable_destination(void **state) {
  (void)state;
  ih_host h;
  failing_host(&h, 1, CONFIG("arn:aws:sqs:us-east-1::q", "10"), 0);
  assert_true(ih_drive(&h, ih_all_done, 10000));
  assert_int_equal(ih_metrics(&h).destination_delivery_failures, 1);
  assert_int_equal(h.counters.delivery_failures, 1);
  yajl_val all = ih_received();
  assert_int_equal(ih_count(all, "sqs"), 0);
  yajl_tree_free(all);
  ih_fini(&h);
}

/* No client for the destination's service: a failed delivery, not a crash. */
static void test_missing_client(void **state) {
  (void)state;
  ih_host h;
  char err[256];
  failing_host(&h, 1, CONFIG("arn:aws:s3:::bkt", "10"), 0);
  bp__aws_dest_del(h.dest);
  assert_int_equal(bp__aws_dest_new_aws(&h.dest, h.loop, &h.sqs, NULL, NULL, &h.counters, err,
                                        sizeof err), 0);
  assert_true(ih_drive(&h, ih_all_done, 10000));
  assert_int_equal(ih_metrics(&h).destination_delivery_failures, 1);
  ih_fini(&h);
}

/* One line per discarded batch, appended, each the on-failure record. */
static void test_file(void **state) {
  (void)state;
  ih_host h;
  failing_host(&h, 3, CONFIG(IH_SQS_ARN, "1"), 1);
  assert_true(ih_drive(&h, ih_all_done, 10000));
  bp_engine_metrics m = ih_metrics(&h);
  assert_int_equal(m.on_failure_destination_delivered_event_count, 3);
  assert_int_equal(h.counters.deliveries, 3);
  assert_int_equal(h.json_with_newline, 0); /* the engine's records are one line each */
  char path[128], line[8192];
  ih_tmp_path(path, sizeof path, "failures.ndjson");
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  size_t n = 0;
  while (fgets(line, sizeof line, f)) {
    assert_true(n < 3);
    assert_non_null(strchr(line, '\n'));
    yajl_val rec = parse(line);
    assert_string_equal(ih_str(rec, rc_condition), "RetryAttemptsExhausted");
    assert_string_equal(ih_str(rec, start_seq_p), h.seq[n]);
    yajl_tree_free(rec);
    n++;
  }
  fclose(f);
  assert_int_equal(n, 3);
  ih_fini(&h);
}

static void test_file_bad_path(void **state) {
  (void)state;
  ih_host h;
  char err[256] = "";
  ih_init(&h, 0);
  assert_int_equal(bp__aws_dest_new_file(&h.dest, h.loop, "/nonexistent-dir/x.ndjson",
                                         &h.counters, err, sizeof err), BP_ERR_IO);
  assert_null(h.dest);
  assert_non_null(strstr(err, "/nonexistent-dir/x.ndjson"));
  bp__aws_loop_del(h.loop);
  bp__aws_creds_free(&h.creds);
}

static int setup_all(void **state) {
  (void)state;
  return ih_suite_setup("/tmp/bp_aws_dest.XXXXXX");
}

static int teardown_all(void **state) {
  (void)state;
  return ih_suite_teardown();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sqs),
      cmocka_unit_test(test_sns),
      cmocka_unit_test(test_s3),
      cmocka_unit_test(test_retry_once_then_delivered),
      cmocka_unit_test(test_failures),
      cmocka_unit_test(test_unusable_destination),
      cmocka_unit_test(test_missing_client),
      cmocka_unit_test(test_file),
      cmocka_unit_test(test_file_bad_path),
  };
  return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
