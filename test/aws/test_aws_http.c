/* SPDX-License-Identifier: MIT */
/*
 * The add-on's loop and signed HTTP against a real local server (test/aws/servers/hostile.js,
 * its URL in BP_AWS_TEST_URL, set by test/aws/run_tests.sh), plus buf and env.
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

#include "bp_aws_int.h"

static char key_id[] = "AKIDEXAMPLE";
static char secret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
static char token[] = "session-token-123";
static bp__aws_creds creds = {key_id, secret, token};

/* What one request saw, copied out of the callback. */
typedef struct seen {
  int calls;
  int transport_error;
  long status;
  char body[4096];
  size_t body_len;
  char code[128];
  char message[256];
  int has_code, has_message;
  char echo_hdr[64];
  char ctype_hdr[64];
} seen;

static void on_done(void *ctx, const bp__aws_http_resp *r) {
  seen *s = ctx;
  s->calls++;
  s->transport_error = r->transport_error;
  s->status = r->status;
  s->body_len = r->body_len;
  assert_non_null(r->body);
  assert_int_equal(strlen(r->body) <= r->body_len, 1);
  snprintf(s->body, sizeof s->body, "%s", r->body);
  s->has_code = r->error_code != NULL;
  s->has_message = r->error_message != NULL;
  if (r->error_code) snprintf(s->code, sizeof s->code, "%s", r->error_code);
  if (r->error_message) snprintf(s->message, sizeof s->message, "%s", r->error_message);
  const char *h = bp__aws_http_header(r, "x-echo");
  snprintf(s->echo_hdr, sizeof s->echo_hdr, "%s", h ? h : "(none)");
  h = bp__aws_http_header(r, "CONTENT-TYPE");
  snprintf(s->ctype_hdr, sizeof s->ctype_hdr, "%s", h ? h : "(none)");
}

typedef struct fixture {
  bp__aws_loop *loop;
  bp__aws_client client;
} fixture;

static int setup(void **state) {
  const char *url = getenv("BP_AWS_TEST_URL");
  if (!url) {
    fprintf(stderr, "BP_AWS_TEST_URL unset: run through test/aws/run_tests.sh\n");
    return -1;
  }
  fixture *f = calloc(1, sizeof *f);
  char err[256];
  assert_int_equal(bp__aws_loop_new(&f->loop, err, sizeof err), 0);
  assert_int_equal(bp__aws_client_init(&f->client, &creds, "us-east-1", "kinesis", "kinesis", url,
                                       err, sizeof err),
                   0);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  bp__aws_loop_del(f->loop);
  bp__aws_client_free(&f->client);
  free(f);
  return 0;
}

/* Runs the loop until nothing is pending (or 10 s pass: then fails). */
static void drain(bp__aws_loop *l) {
  char err[256];
  int64_t end = bp__aws_now_ms() + 10000;
  while (bp__aws_loop_pending(l) > 0) {
    assert_true(bp__aws_now_ms() < end);
    assert_true(bp__aws_loop_run_once(l, 100, err, sizeof err) >= 0);
  }
}

static void request(fixture *f, const char *path, const char *target, seen *s) {
  bp__aws_http_req req = {.client = &f->client, .path = path, .target = target,
                          .body = "{}", .body_len = 2};
  assert_int_equal(bp__aws_http_start(f->loop, &req, on_done, s), 0);
  assert_int_equal(s->calls, 0); /* never from inside the start */
  drain(f->loop);
  assert_int_equal(s->calls, 1);
}

static const char *jstr(yajl_val root, const char *a, const char *b) {
  const char *path[] = {a, b, NULL};
  yajl_val v = yajl_tree_get(root, path, yajl_t_string);
  return v ? YAJL_GET_STRING(v) : NULL;
}

static void test_signed_post(void **state) {
  fixture *f = *state;
  static seen s;
  memset(&s, 0, sizeof s);
  static const char body[] = "{\"StreamARN\":\"arn:aws:kinesis:us-east-1:1:stream/x\"}";
  bp__aws_http_req req = {.client = &f->client, .path = "/echo",
                          .target = "Kinesis_20131202.ListShards", .body = body,
                          .body_len = sizeof body - 1};
  assert_int_equal(bp__aws_http_start(f->loop, &req, on_done, &s), 0);
  assert_int_equal(bp__aws_loop_pending(f->loop), 1);
  drain(f->loop);
  assert_int_equal(s.calls, 1);
  assert_int_equal(s.transport_error, BP__AWS_HTTP_OK);
  assert_int_equal(s.status, 200);
  assert_int_equal(s.has_code, 0);
  assert_string_equal(s.echo_hdr, "padded value"); /* trimmed, found case-insensitively */
  assert_string_equal(s.ctype_hdr, "application/json");

  yajl_val root = yajl_tree_parse(s.body, NULL, 0);
  assert_non_null(root);
  assert_string_equal(jstr(root, "method", NULL), "POST");
  assert_string_equal(jstr(root, "body", NULL), body);
  assert_string_equal(jstr(root, "headers", "x-amz-target"), "Kinesis_20131202.ListShards");
  assert_string_equal(jstr(root, "headers", "x-amz-security-token"), token);
  assert_string_equal(jstr(root, "headers", "content-type"), "application/x-amz-json-1.1");
  assert_null(jstr(root, "headers", "expect"));
  const char *date = jstr(root, "headers", "x-amz-date");
  assert_non_null(date);
  assert_int_equal(strlen(date), 16); /* 20240131T120000Z */
  char cred[128];
  snprintf(cred, sizeof cred, "AWS4-HMAC-SHA256 Credential=%s/%.8s/us-east-1/kinesis/aws4_request,",
           key_id, date);
  const char *auth = jstr(root, "headers", "authorization");
  assert_non_null(auth);
  assert_memory_equal(auth, cred, strlen(cred));
  /* The token and the target are signed, not merely sent. */
  const char *signed_hdrs = strstr(auth, "SignedHeaders=");
  assert_non_null(signed_hdrs);
  assert_non_null(strstr(signed_hdrs, "x-amz-security-token"));
  assert_non_null(strstr(signed_hdrs, "x-amz-target"));
  assert_non_null(strstr(auth, "Signature="));
  yajl_tree_free(root);
}

static void test_put_form_and_reuse(void **state) {
  fixture *f = *state;
  static seen a, b;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  const char *extra[] = {"X-Test-Extra: one", NULL};
  bp__aws_http_req req = {.client = &f->client, .method = "PUT", .path = "/echo?x=1",
                          .headers = extra, .body = "a=b", .body_len = 3};
  assert_int_equal(bp__aws_http_start(f->loop, &req, on_done, &a), 0);
  drain(f->loop);
  req.method = NULL;
  assert_int_equal(bp__aws_http_start(f->loop, &req, on_done, &b), 0);
  drain(f->loop);
  yajl_val ra = yajl_tree_parse(a.body, NULL, 0), rb = yajl_tree_parse(b.body, NULL, 0);
  assert_non_null(ra);
  assert_non_null(rb);
  assert_string_equal(jstr(ra, "method", NULL), "PUT");
  assert_string_equal(jstr(rb, "method", NULL), "POST");
  assert_string_equal(jstr(ra, "path", NULL), "/echo?x=1");
  assert_string_equal(jstr(ra, "body", NULL), "a=b");
  assert_string_equal(jstr(ra, "headers", "content-type"), "application/x-www-form-urlencoded");
  assert_string_equal(jstr(ra, "headers", "x-test-extra"), "one");
  assert_null(jstr(ra, "headers", "x-amz-target"));
  /* The second request went over the first one's connection (same client port). */
  const char *port[] = {"port", NULL};
  yajl_val pa = yajl_tree_get(ra, port, yajl_t_number), pb = yajl_tree_get(rb, port, yajl_t_number);
  assert_non_null(pa);
  assert_non_null(pb);
  assert_int_equal(YAJL_GET_INTEGER(pa), YAJL_GET_INTEGER(pb));
  yajl_tree_free(ra);
  yajl_tree_free(rb);
}

#define NCONC 50
static int conc_calls[NCONC];
static int conc_ok;

static void on_conc(void *ctx, const bp__aws_http_resp *r) {
  int i = (int)(intptr_t)ctx;
  conc_calls[i]++;
  char want[32];
  snprintf(want, sizeof want, "\"id\":\"%d\"", i);
  if (r->transport_error == 0 && r->status == 200 && strstr(r->body, want)) conc_ok++;
}

static void test_concurrent(void **state) {
  fixture *f = *state;
  memset(conc_calls, 0, sizeof conc_calls);
  conc_ok = 0;
  char path[64];
  for (int i = 0; i < NCONC; i++) {
    snprintf(path, sizeof path, "/wait?ms=%d&id=%d", (i * 37) % 200, i);
    bp__aws_http_req req = {.client = &f->client, .path = path, .target = "T.Op", .body = "{}",
                            .body_len = 2};
    assert_int_equal(bp__aws_http_start(f->loop, &req, on_conc, (void *)(intptr_t)i), 0);
  }
  assert_int_equal(bp__aws_loop_pending(f->loop), NCONC);
  int64_t t0 = bp__aws_now_ms();
  drain(f->loop);
  /* In flight together: 50 requests of up to 200 ms each finish well under their sum. */
  assert_true(bp__aws_now_ms() - t0 < 3000);
  for (int i = 0; i < NCONC; i++) assert_int_equal(conc_calls[i], 1);
  assert_int_equal(conc_ok, NCONC);
}

/* A callback that starts the next request from inside run_once. */
static int chain_left;
static fixture *chain_f;
static void on_chain(void *ctx, const bp__aws_http_resp *r) {
  (void)ctx;
  assert_int_equal(r->status, 200);
  if (--chain_left > 0) {
    bp__aws_http_req req = {.client = &chain_f->client, .path = "/wait", .body = "", .body_len = 0};
    assert_int_equal(bp__aws_http_start(chain_f->loop, &req, on_chain, NULL), 0);
  }
}

static void test_callback_starts_request(void **state) {
  fixture *f = *state;
  chain_f = f;
  chain_left = 5;
  bp__aws_http_req req = {.client = &f->client, .path = "/wait"};
  assert_int_equal(bp__aws_http_start(f->loop, &req, on_chain, NULL), 0);
  drain(f->loop);
  assert_int_equal(chain_left, 0);
}

static void expect_error(fixture *f, const char *path, long status, const char *code,
                         const char *message) {
  seen s;
  memset(&s, 0, sizeof s);
  request(f, path, "T.Op", &s);
  assert_int_equal(s.transport_error, BP__AWS_HTTP_OK);
  assert_int_equal(s.status, status);
  assert_true(s.has_code);
  assert_string_equal(s.code, code);
  assert_true(s.has_message);
  assert_string_equal(s.message, message);
}

static void test_error_codes(void **state) {
  fixture *f = *state;
  expect_error(f, "/error/json-hash", 400, "ProvisionedThroughputExceededException",
               "Rate exceeded for shard shardId-000000000000");
  expect_error(f, "/error/json-plain", 400, "ResourceNotFoundException", "Stream not found");
  expect_error(f, "/error/json-code", 400, "ExpiredIteratorException", "Iterator expired");
  expect_error(f, "/error/header", 429, "TooManyRequestsException", "Rate Exceeded.");
  expect_error(f, "/error/xml", 403, "InvalidClientTokenId",
               "The security token included in the request is invalid.");
}

static void expect_transport(fixture *f, const char *path, size_t cap, int err1, int err2) {
  seen s;
  memset(&s, 0, sizeof s);
  bp__aws_http_req req = {.client = &f->client, .path = path, .max_response_bytes = cap};
  assert_int_equal(bp__aws_http_start(f->loop, &req, on_done, &s), 0);
  drain(f->loop);
  assert_int_equal(s.calls, 1);
  if (s.transport_error != err1 && s.transport_error != err2)
    fail_msg("%s: transport_error %d, expected %d or %d", path, s.transport_error, err1, err2);
  assert_int_equal(s.status, 0);
  assert_true(s.body_len <= (cap ? cap : s.body_len));
}

static void test_too_large(void **state) {
  fixture *f = *state;
  /* With a Content-Length, and chunked (only counting the bytes can catch it). */
  expect_transport(f, "/big?mb=10", 1 << 20, BP__AWS_HTTP_TOO_LARGE, BP__AWS_HTTP_TOO_LARGE);
  expect_transport(f, "/big?mb=10&chunked=1", 1 << 20, BP__AWS_HTTP_TOO_LARGE,
                   BP__AWS_HTTP_TOO_LARGE);
  /* Under the cap it arrives whole. */
  seen s;
  memset(&s, 0, sizeof s);
  bp__aws_http_req req = {.client = &f->client, .path = "/big?mb=2&chunked=1",
                          .max_response_bytes = 3 << 20};
  assert_int_equal(bp__aws_http_start(f->loop, &req, on_done, &s), 0);
  drain(f->loop);
  assert_int_equal(s.transport_error, 0);
  assert_int_equal(s.body_len, 2 << 20);
}

static void test_timeout(void **state) {
  fixture *f = *state;
  f->client.timeout_ms = 300;
  int64_t t0 = bp__aws_now_ms();
  expect_transport(f, "/slow?ms=5000", 0, BP__AWS_HTTP_TIMEOUT, BP__AWS_HTTP_TIMEOUT);
  int64_t took = bp__aws_now_ms() - t0;
  assert_true(took >= 250 && took < 3000);
  f->client.timeout_ms = 0;
}

static void test_reset_and_truncated(void **state) {
  fixture *f = *state;
  expect_transport(f, "/reset", 0, BP__AWS_HTTP_CONNECT, BP__AWS_HTTP_OTHER);
  expect_transport(f, "/truncate", 0, BP__AWS_HTTP_CONNECT, BP__AWS_HTTP_OTHER);
  /* The loop still works after them. */
  seen s;
  memset(&s, 0, sizeof s);
  request(f, "/echo", NULL, &s);
  assert_int_equal(s.status, 200);
}

static void test_connect_refused(void **state) {
  (void)state;
  bp__aws_loop *l;
  bp__aws_client c;
  char err[256];
  assert_int_equal(bp__aws_loop_new(&l, err, sizeof err), 0);
  /* Port 1 on loopback: nothing listens there. */
  assert_int_equal(bp__aws_client_init(&c, &creds, "us-east-1", "kinesis", "kinesis",
                                       "http://127.0.0.1:1", err, sizeof err),
                   0);
  seen s;
  memset(&s, 0, sizeof s);
  bp__aws_http_req req = {.client = &c, .path = "/"};
  assert_int_equal(bp__aws_http_start(l, &req, on_done, &s), 0);
  drain(l);
  assert_int_equal(s.calls, 1);
  assert_int_equal(s.transport_error, BP__AWS_HTTP_CONNECT);
  bp__aws_loop_del(l);
  bp__aws_client_free(&c);
}

static int child_calls;
static char child_fds[64];
static void on_child(void *ctx, const bp__aws_child_result *r) {
  (void)ctx;
  child_calls++;
  snprintf(child_fds, sizeof child_fds, "%s", r->out);
}

/* A child started while a connection is open inherits no socket of curl's. */
static void test_child_gets_no_socket(void **state) {
  fixture *f = *state;
  seen s;
  memset(&s, 0, sizeof s);
  request(f, "/echo", NULL, &s); /* the connection stays in the pool */
  child_calls = 0;
  assert_int_equal(bp__aws_child_start(f->loop, "ls -l /proc/$$/fd | grep -c socket:", NULL,
                                       NULL, 0, 5000, 0, on_child, NULL),
                   0);
  drain(f->loop);
  assert_int_equal(child_calls, 1);
  assert_string_equal(child_fds, "0\n");
}

static void never(void *ctx, const bp__aws_http_resp *r) {
  (void)ctx;
  (void)r;
  fail_msg("an abandoned request's callback ran");
}

static void test_del_abandons(void **state) {
  fixture *f = *state;
  bp__aws_http_req req = {.client = &f->client, .path = "/slow?ms=5000"};
  assert_int_equal(bp__aws_http_start(f->loop, &req, never, NULL), 0);
  char err[256];
  assert_true(bp__aws_loop_run_once(f->loop, 50, err, sizeof err) >= 0);
  assert_int_equal(bp__aws_loop_pending(f->loop), 1);
  /* teardown deletes the loop with the request in flight */
}

static void test_bad_requests(void **state) {
  fixture *f = *state;
  bp__aws_http_req req = {.client = &f->client, .method = "GET"};
  assert_int_equal(bp__aws_http_start(f->loop, &req, never, NULL), BP_ERR_INVALID_ARGUMENT);
  req.method = NULL;
  req.body_len = 5;
  assert_int_equal(bp__aws_http_start(f->loop, &req, never, NULL), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp__aws_loop_pending(f->loop), 0);
}

/* ---- buf and env (no server) ---- */

static void test_buf(void **state) {
  (void)state;
  bp__aws_buf b = {0};
  assert_int_equal(bp__aws_buf_json_str(&b, "a\"b\\c\n\x01\x7f", 8), 0);
  assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001\\u007f\"");
  bp__aws_buf_reset(&b);
  assert_int_equal(b.len, 0);
  assert_string_equal(b.data, "");
  assert_int_equal(bp__aws_buf_url_encode(&b, "a b/c~d=é", 10), 0);
  assert_string_equal(b.data, "a%20b%2Fc~d%3D%C3%A9");
  bp__aws_buf_reset(&b);
  for (int i = 0; i < 1000; i++) assert_int_equal(bp__aws_buf_printf(&b, "%04d,", i), 0);
  assert_int_equal(b.len, 5000);
  assert_memory_equal(b.data + 4995, "0999,", 6);
  assert_int_equal(bp__aws_buf_append(&b, "", 0), 0);
  bp__aws_buf_free(&b);
  assert_null(b.data);
}

static void test_env(void **state) {
  (void)state;
  char err[256];
  bp__aws_creds c;
  unsetenv("AWS_ACCESS_KEY_ID");
  setenv("AWS_SECRET_ACCESS_KEY", "s", 1);
  assert_int_equal(bp__aws_creds_from_env(&c, err, sizeof err), BP_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err, "AWS_ACCESS_KEY_ID"));
  setenv("AWS_ACCESS_KEY_ID", "AK", 1);
  setenv("AWS_SESSION_TOKEN", "", 1);
  assert_int_equal(bp__aws_creds_from_env(&c, err, sizeof err), 0);
  assert_string_equal(c.access_key_id, "AK");
  assert_string_equal(c.secret_access_key, "s");
  assert_null(c.session_token);
  bp__aws_creds_free(&c);
  setenv("AWS_SESSION_TOKEN", "T", 1);
  assert_int_equal(bp__aws_creds_from_env(&c, err, sizeof err), 0);
  assert_string_equal(c.session_token, "T");

  bp__aws_client cl;
  assert_int_equal(bp__aws_client_init(&cl, &c, "eu-west-2", "streams.dynamodb", "dynamodb", NULL,
                                       err, sizeof err),
                   0);
  assert_string_equal(cl.endpoint, "https://streams.dynamodb.eu-west-2.amazonaws.com");
  assert_string_equal(cl.signing_name, "dynamodb");
  assert_string_equal(cl.region, "eu-west-2");
  bp__aws_client_free(&cl);
  assert_int_equal(bp__aws_client_init(&cl, &c, "us-east-1", "sqs", "sqs", "http://localhost:4566//",
                                       err, sizeof err),
                   0);
  assert_string_equal(cl.endpoint, "http://localhost:4566");
  bp__aws_client_free(&cl);
  assert_int_equal(bp__aws_client_init(&cl, &c, "us-east-1", "sqs", "sqs", "ftp://x", err, sizeof err),
                   BP_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(err, "http://"));
  assert_int_equal(bp__aws_client_init(&cl, &c, "US EAST", "sqs", "sqs", NULL, err, sizeof err),
                   BP_ERR_INVALID_ARGUMENT);
  bp__aws_creds_free(&c);

  char region[32];
  assert_int_equal(bp__aws_arn_region("arn:aws:kinesis:ap-south-1:123456789012:stream/s", region,
                                      sizeof region),
                   0);
  assert_string_equal(region, "ap-south-1");
  assert_int_equal(bp__aws_arn_region("arn:aws:kinesis::1:stream/s", region, sizeof region), -1);
  assert_int_equal(bp__aws_arn_region("not-an-arn", region, sizeof region), -1);
  assert_int_equal(bp__aws_arn_region("arn:aws:kinesis:us-east-1", region, sizeof region), -1);
  assert_int_equal(bp__aws_arn_region("arn:aws:kinesis:us-east-1:1:x", region, 4), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_buf),
      cmocka_unit_test(test_env),
      cmocka_unit_test_setup_teardown(test_signed_post, setup, teardown),
      cmocka_unit_test_setup_teardown(test_put_form_and_reuse, setup, teardown),
      cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
      cmocka_unit_test_setup_teardown(test_callback_starts_request, setup, teardown),
      cmocka_unit_test_setup_teardown(test_error_codes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
      cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reset_and_truncated, setup, teardown),
      cmocka_unit_test(test_connect_refused),
      cmocka_unit_test_setup_teardown(test_child_gets_no_socket, setup, teardown),
      cmocka_unit_test_setup_teardown(test_del_abandons, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
