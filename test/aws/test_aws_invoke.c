/* SPDX-License-Identifier: MIT */
/*
 * The Lambda and exec invokers, each driven by a real bp_engine: Lambda against
 * test/aws/servers/aws_shapes.js (success, partial failure, X-Amz-Function-Error, throttles,
 * 5xx, a slow and an oversized response, a refused connection, a qualified name), exec with
 * small shell commands (success with the event and environment checked, exit 3, a timeout,
 * 7 MB of stdout, two lanes in parallel). Failures are read back from the on-failure record
 * the engine sends to the destination (SQS at the server, or a file).
 */
#include "invoke_host.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

/* The mapping: MaximumRetryAttempts 0 unless @p extra says otherwise. */
#define CONFIG_R(retries, extra) IH_CONFIG("10", retries, IH_SQS_ARN, extra)
#define CONFIG(extra) CONFIG_R("0", extra)

static const char *const one_key[] = {"k"};

static void lambda_host(ih_host *h, const char *function_name, size_t nrec, const char *cfg) {
  char err[256];
  ih_init(h, 1);
  ih_records(h, nrec, one_key, 1);
  assert_int_equal(bp__aws_lambda_invoker_new(&h->iv, h->loop, &h->lambda, function_name,
                                              &h->counters, err, sizeof err), 0);
  ih_aws_dest(h);
  ih_engine(h, cfg);
}

/* The on-failure record of the nth SQS SendMessage (a yajl tree; free it). */
static yajl_val sqs_record(yajl_val all, size_t nth) {
  static const char *body_p[] = {"body", NULL};
  static const char *msg_p[] = {"MessageBody", NULL};
  char err[256];
  yajl_val req = ih_request(all, "sqs", nth);
  assert_non_null(req);
  yajl_val body = yajl_tree_parse(ih_str(req, body_p), err, sizeof err);
  assert_non_null(body);
  const char *msg = ih_str(body, msg_p);
  assert_non_null(msg);
  yajl_val rec = yajl_tree_parse(msg, err, sizeof err);
  yajl_tree_free(body);
  assert_non_null(rec);
  return rec;
}

static const char *rc_condition[] = {"requestContext", "condition", NULL};
static const char *rc_request_id[] = {"requestContext", "requestId", NULL};
static const char *resp_fe[] = {"responseContext", "functionError", NULL};
static const char *resp_version[] = {"responseContext", "executedVersion", NULL};
static const char *path_p[] = {"path", NULL};
static const char *body_p[] = {"body", NULL};

/* Run a one-attempt failing batch to its on-failure record; check it names @p fe. */
static void expect_function_error(ih_host *h, const char *fe) {
  assert_true(ih_drive(h, ih_all_done, 15000));
  bp_engine_metrics m = ih_metrics(h);
  assert_int_equal(m.invocations, 1);
  assert_int_equal(m.throttled_attempts, 0);
  assert_int_equal(m.on_failure_destination_delivered_event_count, 3);
  assert_int_equal(h->counters.invoke_function_errors, 1);
  yajl_val all = ih_received();
  yajl_val rec = sqs_record(all, 0);
  assert_string_equal(ih_str(rec, rc_condition), "RetryAttemptsExhausted");
  assert_string_equal(ih_str(rec, resp_fe), fe);
  yajl_tree_free(rec);
  yajl_tree_free(all);
}

static void test_lambda_success(void **state) {
  (void)state;
  ih_host h;
  lambda_host(&h, "f", 3, CONFIG(""));
  assert_true(ih_drive(&h, ih_all_done, 10000));
  bp_engine_metrics m = ih_metrics(&h);
  assert_int_equal(m.invocations, 1);
  assert_int_equal(m.throttled_attempts, 0);
  assert_int_equal(m.dropped_event_count, 0);
  assert_int_equal(h.counters.invokes, 1);
  assert_int_equal(h.counters.invoke_function_errors, 0);
  yajl_val all = ih_received();
  assert_int_equal(ih_count(all, "lambda"), 1);
  assert_int_equal(ih_count(all, "sqs"), 0);
  yajl_val req = ih_request(all, "lambda", 0);
  assert_string_equal(ih_str(req, path_p), "/2015-03-31/functions/f/invocations");
  static const char *inv_type[] = {"headers", "x-amz-invocation-type", NULL};
  static const char *auth[] = {"headers", "authorization", NULL};
  assert_string_equal(ih_str(req, inv_type), "RequestResponse");
  assert_non_null(strstr(ih_str(req, auth), "/us-east-1/lambda/aws4_request"));
  /* The body is the engine's event: the three records. */
  char err[256];
  yajl_val ev = yajl_tree_parse(ih_str(req, body_p), err, sizeof err);
  assert_non_null(ev);
  static const char *recs_p[] = {"Records", NULL};
  yajl_val recs = yajl_tree_get(ev, recs_p, yajl_t_array);
  assert_non_null(recs);
  assert_int_equal(YAJL_GET_ARRAY(recs)->len, 3);
  static const char *src_p[] = {"eventSource", NULL};
  assert_string_equal(ih_str(YAJL_GET_ARRAY(recs)->values[0], src_p), "aws:kinesis");
  yajl_tree_free(ev);
  yajl_tree_free(all);
  ih_fini(&h);
}

/* A RETURNED body reaches the engine: a partial failure retries from the failed record. */
static void test_lambda_partial_failure(void **state) {
  (void)state;
  ih_host h;
  lambda_host(&h, "f", 3,
              CONFIG_R("1", ",\"FunctionResponseTypes\":[\"ReportBatchItemFailures\"]"));
  char script[256];
  snprintf(script, sizeof script,
           "{\"lambda\":[{\"body\":{\"batchItemFailures\":[{\"itemIdentifier\":\"%s\"}]}}]}",
           h.seq[1]);
  ih_script(script);
  assert_true(ih_drive(&h, ih_all_done, 10000));
  bp_engine_metrics m = ih_metrics(&h);
  assert_int_equal(m.invocations, 2);
  assert_int_equal(m.dropped_event_count, 0);
  yajl_val all = ih_received();
  assert_int_equal(ih_count(all, "lambda"), 2);
  char err[256];
  yajl_val ev = yajl_tree_parse(ih_str(ih_request(all, "lambda", 1), body_p), err, sizeof err);
  assert_non_null(ev);
  static const char *recs_p[] = {"Records", NULL};
  static const char *seq_p[] = {"kinesis", "sequenceNumber", NULL};
  yajl_val recs = yajl_tree_get(ev, recs_p, yajl_t_array);
  assert_int_equal(YAJL_GET_ARRAY(recs)->len, 2);
  assert_string_equal(ih_str(YAJL_GET_ARRAY(recs)->values[0], seq_p), h.seq[1]);
  yajl_tree_free(ev);
  yajl_tree_free(all);
  ih_fini(&h);
}

/* X-Amz-Function-Error: an attempt that failed; its request id and version reach the record. */
static void test_lambda_function_error(void **state) {
  (void)state;
  ih_host h;
  lambda_host(&h, "f", 3, CONFIG(""));
  ih_script("{\"lambda\":[{\"headers\":{\"X-Amz-Function-Error\":\"Handled\","
            "\"x-amzn-RequestId\":\"11111111-2222-3333-4444-555555555555\","
            "\"X-Amz-Executed-Version\":\"7\"},\"body\":{\"errorMessage\":\"boom\"}}]}");
  expect_function_error(&h, "Handled");
  yajl_val all = ih_received();
  yajl_val rec = sqs_record(all, 0);
  assert_string_equal(ih_str(rec, rc_request_id), "11111111-2222-3333-4444-555555555555");
  assert_string_equal(ih_str(rec, resp_version), "7");
  yajl_tree_free(rec);
  yajl_tree_free(all);
  ih_fini(&h);
}

/* 429, a 403 and a reset connection did not reach the function: retried, not attempts. */
static void test_lambda_throttles(void **state) {
  (void)state;
  ih_host h;
  lambda_host(&h, "f", 3, CONFIG(""));
  /* The reset first: on a reused connection curl itself retries a request that got no
   * answer at all, and that retry would take the next scripted response. */
  ih_script("{\"lambda\":[{\"reset\":true},{\"status\":429,\"error\":\"TooManyRequestsException\"},"
            "{\"status\":403,\"error\":\"AccessDeniedException\"},"
            "{\"status\":404,\"error\":\"ResourceNotFoundException\"}]}");
  assert_true(ih_drive(&h, ih_all_done, 10000));
  bp_engine_metrics m = ih_metrics(&h);
  assert_int_equal(m.throttled_attempts, 4);
  assert_int_equal(m.invocations, 1);
  assert_int_equal(m.dropped_event_count, 0);
  assert_int_equal(h.counters.invoke_throttles, 4);
  assert_int_equal(h.counters.invokes, 5);
  yajl_val all = ih_received();
  assert_int_equal(ih_count(all, "lambda"), 5);
  assert_int_equal(ih_count(all, "sqs"), 0);
  yajl_tree_free(all);
  ih_fini(&h);
}

/* A 5xx service error is a function error named by its code. */
static void test_lambda_service_error(void **state) {
  (void)state;
  ih_host h;
  lambda_host(&h, "f", 3, CONFIG(""));
  ih_script("{\"lambda\":[{\"status\":502,\"error\":\"EC2ThrottledException\"}]}");
  expect_function_error(&h, "EC2ThrottledException");
  ih_fini(&h);
}

/* No response within the client's timeout: Lambda reports a timed-out function Unhandled. */
static void test_lambda_timeout(void **state) {
  (void)state;
  ih_host h;
  lambda_host(&h, "f", 3, CONFIG(""));
  h.lambda.timeout_ms = 300; /* the invoker copies the client when created: recreate it */
  bp__aws_invoker_del(h.iv);
  char err[256];
  assert_int_equal(bp__aws_lambda_invoker_new(&h.iv, h.loop, &h.lambda, "f", &h.counters, err,
                                              sizeof err), 0);
  ih_script("{\"lambda\":[{\"delayMs\":3000}]}");
  int64_t t0 = bp__aws_now_ms();
  expect_function_error(&h, "Unhandled");
  assert_true(bp__aws_now_ms() - t0 < 2500);
  ih_fini(&h);
}

/* A body over 6 MB is cut off: a function error, as Lambda reports it. */
static void test_lambda_oversized(void **state) {
  (void)state;
  ih_host h;
  lambda_host(&h, "f", 3, CONFIG(""));
  ih_script("{\"lambda\":[{\"bigBytes\":7340032}]}");
  expect_function_error(&h, "Unhandled");
  ih_fini(&h);
}

/* A body of exactly 6 MB is a response (here not JSON: a full failure, retried). */
static void test_lambda_response_at_limit(void **state) {
  (void)state;
  ih_host h;
  lambda_host(&h, "f", 3,
              CONFIG(",\"FunctionResponseTypes\":[\"ReportBatchItemFailures\"]"));
  ih_script("{\"lambda\":[{\"bigBytes\":6291456}]}");
  assert_true(ih_drive(&h, ih_all_done, 15000));
  assert_int_equal(h.counters.invoke_function_errors, 0);
  yajl_val all = ih_received();
  yajl_val rec = sqs_record(all, 0);
  /* returned-but-failed: functionError null (SEMANTICS.md §5.3) */
  static const char *fe_p[] = {"responseContext", "functionError", NULL};
  assert_true(YAJL_IS_NULL(yajl_tree_get(rec, fe_p, yajl_t_any)));
  yajl_tree_free(rec);
  yajl_tree_free(all);
  ih_fini(&h);
}

static int two_throttles(const ih_host *h) { return h->counters.invoke_throttles >= 2; }

/* Nothing listens: not reached, so throttled and retried, never an attempt. */
static void test_lambda_connect_refused(void **state) {
  (void)state;
  ih_host h;
  char err[256], url[64];
  ih_init(&h, 0);
  ih_records(&h, 3, one_key, 1);
  /* A port that was free a moment ago. */
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  socklen_t alen = sizeof a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(getsockname(s, (struct sockaddr *)&a, &alen), 0);
  close(s);
  snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(a.sin_port));
  assert_int_equal(bp__aws_client_init(&h.lambda, &h.creds, "us-east-1", "lambda", "lambda",
                                       url, err, sizeof err), 0);
  h.have_lambda = 1;
  assert_int_equal(bp__aws_lambda_invoker_new(&h.iv, h.loop, &h.lambda, "f", &h.counters, err,
                                              sizeof err), 0);
  assert_int_equal(bp__aws_dest_new_file(&h.dest, h.loop, "/dev/null", &h.counters, err,
                                         sizeof err), 0);
  ih_engine(&h, CONFIG(""));
  assert_true(ih_drive(&h, two_throttles, 10000));
  bp_engine_metrics m = ih_metrics(&h);
  assert_true(m.throttled_attempts >= 1);
  assert_int_equal(m.invocations, 0);
  assert_int_equal(m.dropped_event_count, 0);
  assert_int_equal(h.delivery_reqs, 0);
  ih_fini(&h);
}

/* Every form of FunctionName becomes the plain name in the path (nothing to percent-encode,
 * so nothing SigV4 would have to encode twice) and its qualifier as ?Qualifier=. */
static void test_lambda_qualified_name(void **state) {
  (void)state;
  static const char *const forms[][2] = {
      {"arn:aws:lambda:us-east-1:123456789012:function:f:live",
       "/2015-03-31/functions/f/invocations?Qualifier=live"},
      {"arn:aws:lambda:us-east-1:123456789012:function:f", "/2015-03-31/functions/f/invocations"},
      {"123456789012:function:f:7", "/2015-03-31/functions/f/invocations?Qualifier=7"},
      {"f:prod", "/2015-03-31/functions/f/invocations?Qualifier=prod"},
  };
  for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
    ih_host h;
    lambda_host(&h, forms[i][0], 2, CONFIG(""));
    assert_true(ih_drive(&h, ih_all_done, 10000));
    yajl_val all = ih_received();
    assert_string_equal(ih_str(ih_request(all, "lambda", 0), path_p), forms[i][1]);
    yajl_tree_free(all);
    ih_fini(&h);
  }
}

/* ---- exec ---- */

static void exec_host(ih_host *h, const char *command, int64_t timeout_ms, size_t nrec,
                      const char *const *keys, size_t nkeys, const char *cfg) {
  char err[256];
  ih_init(h, 0);
  ih_records(h, nrec, keys, nkeys);
  assert_int_equal(bp__aws_exec_invoker_new(&h->iv, h->loop, command, timeout_ms, &h->counters,
                                            err, sizeof err), 0);
  ih_file_dest(h);
  ih_engine(h, cfg);
}

/* The one on-failure line of the file destination (a yajl tree; free it). */
static yajl_val failure_line(void) {
  char path[128], line[8192], err[256];
  ih_tmp_path(path, sizeof path, "failures.ndjson");
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  assert_non_null(fgets(line, sizeof line, f));
  assert_null(fgets(line + 4096, 4096, f)); /* exactly one line */
  fclose(f);
  yajl_val v = yajl_tree_parse(line, err, sizeof err);
  assert_non_null(v);
  return v;
}

static void read_file(const char *name, char *out, size_t cap) {
  char path[128];
  ih_tmp_path(path, sizeof path, name);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  size_t n = fread(out, 1, cap - 1, f);
  out[n] = '\0';
  fclose(f);
}

static void test_exec_success(void **state) {
  (void)state;
  ih_host h;
  char cmd[512];
  snprintf(cmd, sizeof cmd,
           "cat > '%s/event.json'; echo \"$BP_SHARD_ID $BP_ATTEMPT $BP_RECORD_COUNT\" > "
           "'%s/env'; echo '{\"batchItemFailures\":[]}'",
           ih_tmpdir, ih_tmpdir);
  exec_host(&h, cmd, 10000, 3, one_key, 1, CONFIG(""));
  assert_true(ih_drive(&h, ih_all_done, 10000));
  bp_engine_metrics m = ih_metrics(&h);
  assert_int_equal(m.invocations, 1);
  assert_int_equal(m.dropped_event_count, 0);
  assert_int_equal(h.counters.invokes, 1);
  char buf[4096], err[256];
  read_file("env", buf, sizeof buf);
  assert_string_equal(buf, IH_SHARD " 1 3\n");
  read_file("event.json", buf, sizeof buf);
  yajl_val ev = yajl_tree_parse(buf, err, sizeof err);
  assert_non_null(ev);
  static const char *recs_p[] = {"Records", NULL};
  assert_int_equal(YAJL_GET_ARRAY(yajl_tree_get(ev, recs_p, yajl_t_array))->len, 3);
  yajl_tree_free(ev);
  ih_fini(&h);
}

static void expect_exec_failure(const char *cmd, int64_t timeout_ms) {
  ih_host h;
  exec_host(&h, cmd, timeout_ms, 3, one_key, 1, CONFIG(""));
  int64_t t0 = bp__aws_now_ms();
  assert_true(ih_drive(&h, ih_all_done, 10000));
  assert_true(bp__aws_now_ms() - t0 < 4000);
  bp_engine_metrics m = ih_metrics(&h);
  assert_int_equal(m.invocations, 1);
  assert_int_equal(m.on_failure_destination_delivered_event_count, 3);
  assert_int_equal(h.counters.invoke_function_errors, 1);
  yajl_val rec = failure_line();
  assert_string_equal(ih_str(rec, rc_condition), "RetryAttemptsExhausted");
  assert_string_equal(ih_str(rec, resp_fe), "Unhandled");
  yajl_tree_free(rec);
  ih_fini(&h);
}

static void test_exec_exit_code(void **state) {
  (void)state;
  expect_exec_failure("cat >/dev/null; echo '{}'; exit 3", 10000);
}

static void test_exec_signal(void **state) {
  (void)state;
  expect_exec_failure("kill -9 $$", 10000);
}

static void test_exec_timeout(void **state) {
  (void)state;
  expect_exec_failure("sleep 30", 300);
}

static void test_exec_oversized(void **state) {
  (void)state;
  expect_exec_failure("head -c 7340032 /dev/zero", 10000);
}

/* Two lanes, two children at once: both one-second commands finish in about a second. */
static void test_exec_parallel_lanes(void **state) {
  (void)state;
  const char *keys[2] = {NULL, NULL};
  static const char *const candidates[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
  for (size_t i = 0; i < 8; i++) {
    int lane = bp_lane_of(candidates[i], 1, 2);
    if (!keys[lane]) keys[lane] = candidates[i];
  }
  assert_non_null(keys[0]);
  assert_non_null(keys[1]);
  ih_host h;
  exec_host(&h, "cat >/dev/null; sleep 1; echo '{}'", 10000, 4, keys, 2,
            CONFIG(",\"ParallelizationFactor\":2"));
  int64_t t0 = bp__aws_now_ms();
  assert_true(ih_drive(&h, ih_all_done, 10000));
  int64_t took = bp__aws_now_ms() - t0;
  assert_int_equal(ih_metrics(&h).invocations, 2);
  assert_true(took >= 1000);
  assert_true(took < 1900);
  ih_fini(&h);
}

static int setup_all(void **state) {
  (void)state;
  return ih_suite_setup("/tmp/bp_aws_invoke.XXXXXX");
}

static int teardown_all(void **state) {
  (void)state;
  return ih_suite_teardown();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lambda_success),
      cmocka_unit_test(test_lambda_partial_failure),
      cmocka_unit_test(test_lambda_function_error),
      cmocka_unit_test(test_lambda_throttles),
      cmocka_unit_test(test_lambda_service_error),
      cmocka_unit_test(test_lambda_timeout),
      cmocka_unit_test(test_lambda_oversized),
      cmocka_unit_test(test_lambda_response_at_limit),
      cmocka_unit_test(test_lambda_connect_refused),
      cmocka_unit_test(test_lambda_qualified_name),
      cmocka_unit_test(test_exec_success),
      cmocka_unit_test(test_exec_exit_code),
      cmocka_unit_test(test_exec_signal),
      cmocka_unit_test(test_exec_timeout),
      cmocka_unit_test(test_exec_oversized),
      cmocka_unit_test(test_exec_parallel_lanes),
  };
  return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
