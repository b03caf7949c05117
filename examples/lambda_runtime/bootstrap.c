/* SPDX-License-Identifier: MIT */
/*
 * bootstrap: an AWS Lambda custom runtime in C (runtime `provided.al2023`: this program is the
 * deployment package's `bootstrap`) for a function behind a Kinesis or DynamoDB Streams event
 * source mapping with ReportBatchItemFailures. It loops over the Lambda Runtime API
 * (http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/...), one invocation at a time:
 *   GET  invocation/next                 the event (headers: request id, deadline, trace id)
 *   POST invocation/{id}/response        {"batchItemFailures":[...]} from bp_handler
 *   POST invocation/{id}/error           when every record failed (FullBatchFailureError, so
 *                                        the mapping retries the whole batch) or the event is
 *                                        malformed (InvalidEvent)
 *   POST init/error                      when the processor cannot be set up
 * The record handler is marked.c's (records marked failing fail); replace marked_on_record
 * with your own. _HANDLER (the function's Handler setting) picks the processor's mode:
 * "marked" (default) or "marked-stop-first" (stop at the first failure: the mapping retries
 * from the lowest failed sequence number anyway). libcurl's easy interface, blocking: Lambda
 * sends one event at a time, and the connection is kept alive between calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "marked.h"

#define API_PATH "/2018-06-01/runtime"

typedef struct buf {
  char *p;
  size_t len, cap;
} buf;

typedef struct runtime {
  CURL *curl;
  char base[512];       /* http://host:port/2018-06-01/runtime */
  buf body;             /* the event, reused across invocations */
  char request_id[128]; /* Lambda-Runtime-Aws-Request-Id of the current event */
  char trace_id[512];   /* Lambda-Runtime-Trace-Id */
  char errbuf[CURL_ERROR_SIZE];
} runtime;

static int buf_add(buf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 64 * 1024;
    while (cap < b->len + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
  return 0;
}

static size_t discard(char *data, size_t size, size_t n, void *ud) {
  (void)data;
  (void)ud;
  return size * n;
}

static size_t on_body(char *data, size_t size, size_t n, void *ud) {
  return buf_add(ud, data, size * n) ? 0 : size * n; /* 0: curl fails the transfer */
}

/* Copies the value of header @p name (case-insensitive) from @p line into @p out. */
static void header_value(const char *line, size_t len, const char *name, char *out, size_t cap) {
  size_t k = strlen(name);
  if (len <= k || strncasecmp(line, name, k) || line[k] != ':') return;
  const char *v = line + k + 1, *end = line + len;
  while (v < end && (*v == ' ' || *v == '\t')) v++;
  while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
  size_t n = (size_t)(end - v) < cap - 1 ? (size_t)(end - v) : cap - 1;
  memcpy(out, v, n);
  out[n] = '\0';
}

static size_t on_header(char *line, size_t size, size_t n, void *ud) {
  runtime *rt = ud;
  header_value(line, size * n, "Lambda-Runtime-Aws-Request-Id", rt->request_id, sizeof rt->request_id);
  header_value(line, size * n, "Lambda-Runtime-Trace-Id", rt->trace_id, sizeof rt->trace_id);
  return size * n;
}

/* One request on the kept-alive handle: GET when @p body is NULL, else POST of @p body.
 * @return the HTTP status, or -1 on a transport error (logged). */
static long call(runtime *rt, const char *path, const char *body, size_t body_len,
                 const char *error_type) {
  char url[1024];
  snprintf(url, sizeof url, "%s%s", rt->base, path);
  CURL *c = rt->curl;
  curl_easy_reset(c); /* keeps the connection */
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, rt->errbuf);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  struct curl_slist *hdrs = NULL;
  if (body) {
    char h[256];
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
    if (error_type) {
      snprintf(h, sizeof h, "Lambda-Runtime-Function-Error-Type: %s", error_type);
      hdrs = curl_slist_append(hdrs, h);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard); /* the API's {"status":"OK"} */
  } else {
    rt->body.len = 0;
    rt->request_id[0] = rt->trace_id[0] = '\0';
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &rt->body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, rt);
  }
  rt->errbuf[0] = '\0';
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(hdrs);
  long status = -1;
  if (rc != CURLE_OK) {
    fprintf(stderr, "bootstrap: %s: %s\n", url, rt->errbuf[0] ? rt->errbuf : curl_easy_strerror(rc));
    return -1;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  return status;
}

/* {"errorMessage":...,"errorType":...} into @p out (JSON-escaped; bytes above 0x7f become
 * '?', so the text is valid JSON whatever the message holds). */
static void error_body(char *out, size_t cap, const char *type, const char *msg) {
  size_t o = (size_t)snprintf(out, cap, "{\"errorMessage\":\"");
  for (const unsigned char *s = (const unsigned char *)msg; *s && o + 8 < cap; s++) {
    if (*s == '"' || *s == '\\') o += (size_t)snprintf(out + o, cap - o, "\\%c", *s);
    else if (*s < 0x20) o += (size_t)snprintf(out + o, cap - o, "\\u%04x", *s);
    else out[o++] = *s < 0x80 ? (char)*s : '?';
  }
  snprintf(out + o, cap - o, "\",\"errorType\":\"%s\"}", type);
}

static long post_error(runtime *rt, const char *path, const char *type, const char *msg) {
  char body[2048];
  error_body(body, sizeof body, type, msg);
  fprintf(stderr, "bootstrap: %s: %s\n", type, msg);
  return call(rt, path, body, strlen(body), type);
}

/* Logs why each failed record failed (CloudWatch gets stderr). */
static void log_failures(const bp_handler *h) {
  size_t n = bp_handler_failure_count(h);
  for (size_t i = 0; i < n; i++) {
    bp_handler_failure f = BP_HANDLER_FAILURE_INIT;
    if (bp_handler_get_failure(h, i, &f)) continue;
    fprintf(stderr, "bootstrap: record %zu (%.*s) failed: %.*s\n", f.index, (int)f.seq_len, f.seq,
            f.reason ? (int)f.reason_len : 7, f.reason ? f.reason : "skipped");
  }
}

/* One invocation: the event in rt->body, its answer posted. @return 0, or -1 when the
 * Runtime API could not be reached (the container is then of no use: exit). */
static int invoke(runtime *rt, bp_handler *h) {
  char path[256], msg[1024];
  if (rt->trace_id[0]) setenv("_X_AMZN_TRACE_ID", rt->trace_id, 1);
  const char *resp;
  size_t resp_len;
  int rc = bp_handler_process(h, rt->body.p ? rt->body.p : "", rt->body.len, marked_on_record,
                              NULL, &resp, &resp_len);
  long status;
  if (rc == 0) {
    log_failures(h);
    snprintf(path, sizeof path, "/invocation/%s/response", rt->request_id);
    status = call(rt, path, resp, resp_len, NULL);
  } else {
    snprintf(path, sizeof path, "/invocation/%s/error", rt->request_id);
    if (rc == BP_ERR_BATCH_FAILED) {
      log_failures(h);
      snprintf(msg, sizeof msg, "All %zu records failed processing", bp_handler_failure_count(h));
      status = post_error(rt, path, "FullBatchFailureError", msg);
    } else {
      snprintf(msg, sizeof msg, "%s: %s", bp_err_name(rc), bp_handler_errmsg(h));
      status = post_error(rt, path, rc == BP_ERR_NOMEM ? "Runtime.OutOfMemory" : "InvalidEvent", msg);
    }
  }
  if (status < 0) return -1;
  if (status != 202) fprintf(stderr, "bootstrap: %s: HTTP %ld\n", path, status);
  return 0;
}

int main(void) {
  const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
  if (!api || !*api) {
    fprintf(stderr, "bootstrap: AWS_LAMBDA_RUNTIME_API is not set (run me as a Lambda custom runtime)\n");
    return 1;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT)) return 1;
  runtime rt = {0};
  snprintf(rt.base, sizeof rt.base, "http://%s" API_PATH, api);
  rt.curl = curl_easy_init();
  if (!rt.curl) return 1;

  /* Init: the processor, in the mode _HANDLER names. */
  const char *mode = getenv("_HANDLER");
  bp_handler_opts opts = BP_HANDLER_OPTS_INIT;
  bp_handler *h = NULL;
  int rc = 0;
  if (mode && *mode && strcmp(mode, "marked") && strcmp(mode, "marked-stop-first")) {
    char msg[512];
    snprintf(msg, sizeof msg, "unknown handler \"%s\" (marked, marked-stop-first)", mode);
    post_error(&rt, "/init/error", "Runtime.InvalidHandler", msg);
    rc = 1;
  } else {
    if (mode && !strcmp(mode, "marked-stop-first")) opts.flags |= BP_HANDLER_STOP_AT_FIRST_FAILURE;
    int err = bp_handler_new(&h, &opts, NULL);
    if (err) {
      post_error(&rt, "/init/error", "Runtime.InitError", bp_err_name(err));
      rc = 1;
    }
  }
  /* The loop: Lambda freezes or ends the process between and after invocations. */
  while (!rc) {
    long status = call(&rt, "/invocation/next", NULL, 0, NULL);
    if (status < 0) rc = 1;
    else if (status != 200 || !rt.request_id[0]) {
      fprintf(stderr, "bootstrap: invocation/next: HTTP %ld%s\n", status,
              rt.request_id[0] ? "" : " without a request id");
      rc = 1; /* the Runtime API is not what we expect: Lambda starts a new container */
    } else if (invoke(&rt, h)) {
      rc = 1;
    }
  }
  bp_handler_del(h);
  free(rt.body.p);
  curl_easy_cleanup(rt.curl);
  curl_global_cleanup();
  return rc;
}
