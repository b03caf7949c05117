/* SPDX-License-Identifier: MIT */
/*
 * The Lambda invoker: one Invoke (RequestResponse) per attempt,
 * POST /2015-03-31/functions/<FunctionName>/invocations with the encoded event as the body.
 * FunctionName in any of its forms (fn, fn:alias, ACCOUNT:function:fn[:alias], the full ARN)
 * becomes the plain name in the path and the qualifier as Invoke's Qualifier parameter: a
 * name has only [A-Za-z0-9_-], so the path never needs percent-encoding, which SigV4 would
 * have to encode a second time for Lambda and libcurl's signer does not (curl 7.x signs the
 * path as sent). The account and region of an ARN are the mapping's own: an event source
 * mapping invokes a function of its own account.
 *
 * How an Invoke response becomes a bp_invoke_result (SEMANTICS.md §3.3, §5.6). The ESM's
 * rule: an attempt that did not reach the function is retried without counting toward
 * MaximumRetryAttempts (THROTTLED); a function error counts (ERROR).
 *
 *   response                                         kind        function_error
 *   ---------------------------------------------    ----------  ---------------------------
 *   2xx, no X-Amz-Function-Error                     RETURNED    (body = the payload)
 *   2xx, X-Amz-Function-Error: Unhandled / Handled   ERROR       the header's value
 *   429 TooManyRequestsException                     THROTTLED
 *   any other 3xx/4xx: ResourceNotFound, Resource-   THROTTLED   (the function never ran;
 *     Conflict, ResourceNotReady, InvalidParameter-             the engine backs off and
 *     Value, InvalidRequestContent, RequestTooLarge,            retries until the records
 *     UnsupportedMediaType, AccessDenied (403),                 expire, as the ESM does
 *     InvalidSignature, ExpiredToken, ...                       while a function is broken)
 *   transport CONNECT (refused, reset, DNS: the      THROTTLED
 *     request may not have arrived)
 *   5xx: ServiceException, EC2..., ENI..., KMS...,   ERROR       the AWS error code
 *     SubnetIPAddressLimitReached, InvalidRuntime,              ("ServiceException"), or
 *     InvalidZipFile, ... (502 and 500)                         "Unhandled" without one
 *   transport TIMEOUT (no response within the        ERROR       "Unhandled": Lambda reports
 *     client's timeout, 15 min + 30 s by default)               a timed-out function so
 *   transport TOO_LARGE (over 6 MB + 1 KiB)          ERROR       "Unhandled": Lambda answers
 *                                                                an oversized payload with a
 *                                                                function error (errorType
 *                                                                Function.ResponseSizeTooLarge
 *                                                                in the body)
 *   transport OTHER (any other curl failure)         ERROR       "Unhandled": the request may
 *                                                                have run the function
 *
 * request_id comes from x-amzn-RequestId and executed_version from X-Amz-Executed-Version,
 * dropped when not printable ASCII of the engine's size (bp__aws_clean_token()).
 */
#include "bp_aws_invoker.h"
#include "bp_aws_pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Lambda's longest timeout (15 min) plus a margin for the Invoke round trip. */
#define LAMBDA_DEFAULT_TIMEOUT_MS (15 * 60 * 1000 + 30 * 1000)
/* A server of Lambda's shape could send a body over the 6 MB limit; stop just past it. */
#define LAMBDA_MAX_RESPONSE (BP__AWS_MAX_RESPONSE_BYTES + 1024)

typedef struct lambda_invoker {
  bp__aws_invoker base;
  bp__aws_loop *loop;
  bp__aws_client client; /* a shallow copy (strings borrowed) with the timeout settled */
  bp__aws_counters *counters;
  bp__aws_buf path;
  bp__aws_pool calls;
} lambda_invoker;

typedef struct lambda_call {
  bp__aws_pool_item item;
  lambda_invoker *iv;
  bp_engine *e;
  uint64_t req_id;
} lambda_call;

static void set_token(const char *value, size_t max, const char **out, size_t *out_len) {
  size_t n = bp__aws_clean_token(value, max);
  *out = n ? value : NULL;
  *out_len = n;
}

static void lambda_done(void *ctx, const bp__aws_http_resp *r) {
  lambda_call *c = ctx;
  lambda_invoker *iv = c->iv;
  bp_invoke_result res;
  bp_invoke_result_init(&res, sizeof res);
  const char *fe = NULL;

  if (r->transport_error || r->status >= 500) iv->counters->http_failures++;
  if (r->transport_error == BP__AWS_HTTP_CONNECT) {
    res.kind = BP_INVOKE_RESULT_THROTTLED;
  } else if (r->transport_error) {
    res.kind = BP_INVOKE_RESULT_ERROR; /* timeout, oversized, other: see the table above */
  } else if (r->status >= 500) {
    res.kind = BP_INVOKE_RESULT_ERROR;
    fe = r->error_code;
  } else if (r->status >= 300 || r->status < 200) {
    res.kind = BP_INVOKE_RESULT_THROTTLED;
  } else if ((fe = bp__aws_http_header(r, "X-Amz-Function-Error")) != NULL) {
    res.kind = BP_INVOKE_RESULT_ERROR;
  } else {
    res.kind = BP_INVOKE_RESULT_RETURNED;
    res.body = r->body_len ? r->body : NULL;
    res.body_len = r->body_len;
  }
  if (res.kind == BP_INVOKE_RESULT_ERROR) {
    iv->counters->invoke_function_errors++;
    set_token(fe, 64, &res.function_error, &res.function_error_len);
    if (!res.function_error) {
      res.function_error = BP__AWS_UNHANDLED;
      res.function_error_len = strlen(BP__AWS_UNHANDLED);
    }
  } else if (res.kind == BP_INVOKE_RESULT_THROTTLED) {
    iv->counters->invoke_throttles++;
  }
  if (!r->transport_error) {
    set_token(bp__aws_http_header(r, "x-amzn-RequestId"), 128, &res.request_id,
              &res.request_id_len);
    set_token(bp__aws_http_header(r, "X-Amz-Executed-Version"), 64, &res.executed_version,
              &res.executed_version_len);
  }
  bp_engine *e = c->e;
  uint64_t id = c->req_id;
  /* Back to the pool first: the completion may start the next invocation at once. */
  bp__aws_pool_put(&iv->calls, c);
  /* Outside any callback: an error here comes from the work the completion ran, which the
   * host's next driving call reports again (bp_engine_errmsg). */
  (void)bp_engine_complete_invoke(e, id, bp__aws_now_ms(), &res);
}

static int lambda_invoke(bp__aws_invoker *base, bp_engine *e, const bp_invoke_req *req) {
  lambda_invoker *iv = (lambda_invoker *)base;
  static const char *const headers[] = {"X-Amz-Invocation-Type: RequestResponse", NULL};
  if (!req->payload) return BP_ERR_UNSUPPORTED; /* a core-only library encodes no event */
  lambda_call *c = bp__aws_pool_get(&iv->calls);
  if (!c) return BP_ERR_WOULDBLOCK; /* out of memory now: the engine asks again later */
  c->iv = iv;
  c->e = e;
  c->req_id = req->req_id;
  bp__aws_http_req hr;
  memset(&hr, 0, sizeof hr);
  hr.client = &iv->client;
  hr.method = "POST";
  hr.path = iv->path.data;
  hr.content_type = "application/json";
  hr.headers = headers;
  hr.body = req->payload;
  hr.body_len = req->payload_len;
  hr.max_response_bytes = LAMBDA_MAX_RESPONSE;
  int rc = bp__aws_http_start(iv->loop, &hr, lambda_done, c);
  if (rc) {
    bp__aws_pool_put(&iv->calls, c);
    return rc == BP_ERR_NOMEM ? BP_ERR_WOULDBLOCK : rc;
  }
  iv->counters->invokes++;
  iv->counters->http_requests++;
  return 0;
}

static void lambda_del(bp__aws_invoker *base) {
  lambda_invoker *iv = (lambda_invoker *)base;
  bp__aws_pool_free(&iv->calls);
  bp__aws_buf_free(&iv->path);
  free(iv);
}

static const bp__aws_invoker_ops lambda_ops = {lambda_invoke, lambda_del};

/* FunctionName's name and qualifier: "fn", "fn:q", "ACCOUNT:function:fn[:q]" or
   "arn:aws:lambda:REGION:ACCOUNT:function:fn[:q]". */
static void split_function_name(const char *fn, const char **name, size_t *name_len,
                                const char **qual, size_t *qual_len) {
  const char *p = strstr(fn, ":function:");
  p = p ? p + strlen(":function:") : fn;
  const char *colon = strchr(p, ':');
  *name = p;
  *name_len = colon ? (size_t)(colon - p) : strlen(p);
  *qual = colon ? colon + 1 : p + *name_len;
  *qual_len = colon ? strlen(colon + 1) : 0;
}

int bp__aws_lambda_invoker_new(bp__aws_invoker **out, bp__aws_loop *l,
                               const bp__aws_client *client, const char *function_name,
                               bp__aws_counters *counters, char *err, size_t errlen) {
  if (out) *out = NULL;
  if (!out || !l || !client || !counters || !function_name || !*function_name) {
    if (err && errlen) snprintf(err, errlen, "lambda invoker: a function name is required");
    return BP_ERR_INVALID_ARGUMENT;
  }
  lambda_invoker *iv = calloc(1, sizeof *iv);
  if (!iv) {
    if (err && errlen) snprintf(err, errlen, "lambda invoker: out of memory");
    return BP_ERR_NOMEM;
  }
  iv->base.ops = &lambda_ops;
  iv->loop = l;
  iv->client = *client;
  if (iv->client.timeout_ms <= 0) iv->client.timeout_ms = LAMBDA_DEFAULT_TIMEOUT_MS;
  iv->counters = counters;
  bp__aws_pool_init(&iv->calls, sizeof(lambda_call), NULL);
  const char *name, *qual;
  size_t name_len, qual_len;
  split_function_name(function_name, &name, &name_len, &qual, &qual_len);
  if (bp__aws_buf_puts(&iv->path, "/2015-03-31/functions/") ||
      bp__aws_buf_url_encode(&iv->path, name, name_len) ||
      bp__aws_buf_puts(&iv->path, "/invocations") ||
      (qual_len && (bp__aws_buf_puts(&iv->path, "?Qualifier=") ||
                    bp__aws_buf_url_encode(&iv->path, qual, qual_len)))) {
    lambda_del(&iv->base);
    if (err && errlen) snprintf(err, errlen, "lambda invoker: out of memory");
    return BP_ERR_NOMEM;
  }
  *out = &iv->base;
  return 0;
}
