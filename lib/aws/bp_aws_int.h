/* SPDX-License-Identifier: MIT */
/*
 * libbatchpoint-aws internals: the pieces the add-on's host (bp_aws.c) composes.
 *
 *   loop      one thread: libcurl's multi interface plus child processes (bp_aws_loop.c)
 *   http      one signed AWS request, asynchronous (bp_aws_http.c)
 *   env       credentials, region and endpoints (bp_aws_env.c)
 *   buf       a growable byte buffer with JSON string escaping (bp_aws_buf.c)
 *   readers   Kinesis (bp_aws_kinesis.c) and DynamoDB Streams (bp_aws_ddbstreams.c)
 *   invokers  Lambda Invoke (bp_aws_lambda.c) and a local command (bp_aws_exec.c)
 *   dest      SQS, SNS, S3 and an NDJSON file (bp_aws_dest.c)
 *
 * Every completion callback below runs from bp__aws_loop_run_once(), never from inside the
 * start call, and never from inside an engine callback: a module that completes an engine
 * request from it (bp_engine_complete_*) is outside any engine callback, so the engine acts
 * on the completion at once and may call the transport again, which may start new work on
 * the loop (allowed: the loop collects finished work before it runs callbacks).
 *
 * Nothing here is public or installed; symbols are prefixed bp__aws_ and hidden from the
 * shared library (lib/aws/batchpoint-aws.map).
 */
#ifndef BATCHPOINT_BP_AWS_INT_H
#define BATCHPOINT_BP_AWS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "batchpoint.h"

/* ---- buf: growable bytes ---- */

typedef struct bp__aws_buf {
  char *data; /* NUL-terminated whenever len > 0 or after any append */
  size_t len;
  size_t cap;
} bp__aws_buf;

/* All return 0 or BP_ERR_NOMEM. The buffer keeps its memory across bp__aws_buf_reset(). */
int bp__aws_buf_append(bp__aws_buf *b, const void *p, size_t n);
int bp__aws_buf_puts(bp__aws_buf *b, const char *s);
int bp__aws_buf_printf(bp__aws_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Append @p s as a JSON string literal, quotes included (escapes ", \ and controls). */
int bp__aws_buf_json_str(bp__aws_buf *b, const char *s, size_t n);
/* Append @p s percent-encoded for a form body / query (RFC 3986 unreserved kept). */
int bp__aws_buf_url_encode(bp__aws_buf *b, const char *s, size_t n);
void bp__aws_buf_reset(bp__aws_buf *b);
void bp__aws_buf_free(bp__aws_buf *b);

/* ---- env: credentials, region, endpoints ---- */

typedef struct bp__aws_creds {
  char *access_key_id;     /* AWS_ACCESS_KEY_ID */
  char *secret_access_key; /* AWS_SECRET_ACCESS_KEY */
  char *session_token;     /* AWS_SESSION_TOKEN, NULL if unset */
} bp__aws_creds;

/* From the environment. A missing key pair is an error naming the variables. */
int bp__aws_creds_from_env(bp__aws_creds *c, char *err, size_t errlen);
void bp__aws_creds_free(bp__aws_creds *c);

/* One service at one endpoint. */
typedef struct bp__aws_client {
  const bp__aws_creds *creds; /* borrowed */
  char *region;               /* e.g. "us-east-1" */
  char *signing_name;         /* SigV4 service: kinesis, dynamodb, lambda, sqs, sns, s3 */
  char *endpoint;             /* base URL, no trailing slash: the override, or
                                 https://<host_prefix>.<region>.amazonaws.com */
  int64_t timeout_ms;         /* per request; 0: 30,000 */
} bp__aws_client;

/*
 * @p host_prefix: "kinesis", "streams.dynamodb", "lambda", "sqs", "sns", "s3".
 * @p endpoint_override: NULL or a URL ("http://127.0.0.1:4567"), as the AWS CLI's
 * --endpoint-url; refused unless it starts with http:// or https://.
 */
int bp__aws_client_init(bp__aws_client *c, const bp__aws_creds *creds, const char *region,
                        const char *host_prefix, const char *signing_name,
                        const char *endpoint_override, char *err, size_t errlen);
void bp__aws_client_free(bp__aws_client *c);

/* The region of an ARN (arn:aws:kinesis:REGION:...), copied into @p out; 0 or -1. */
int bp__aws_arn_region(const char *arn, char *out, size_t cap);

/* ---- loop ---- */

typedef struct bp__aws_loop bp__aws_loop;

int bp__aws_loop_new(bp__aws_loop **out, char *err, size_t errlen);
/* Abandons work in flight: no callback runs for it. */
void bp__aws_loop_del(bp__aws_loop *l);
/* Wall clock, ms since the epoch (CLOCK_REALTIME): the now_ms every completion passes. */
int64_t bp__aws_now_ms(void);
/*
 * Wait up to @p timeout_ms (0: do not wait) for transfers and children, then run the
 * callbacks of everything that finished. Returns the number of callbacks run, or a
 * negative bp_err (BP_ERR_IO with the message in @p err).
 */
int bp__aws_loop_run_once(bp__aws_loop *l, int64_t timeout_ms, char *err, size_t errlen);
/* Transfers and children in flight. */
size_t bp__aws_loop_pending(const bp__aws_loop *l);

/* ---- http: one signed request ---- */

/* bp__aws_http_resp.transport_error: no HTTP response could be used. */
#define BP__AWS_HTTP_OK 0
#define BP__AWS_HTTP_CONNECT 1   /* could not connect / reset / DNS: the request may not
                                    have reached the service */
#define BP__AWS_HTTP_TIMEOUT 2   /* no complete response within timeout_ms */
#define BP__AWS_HTTP_TOO_LARGE 3 /* the body exceeded max_response_bytes (transfer stopped) */
#define BP__AWS_HTTP_OTHER 4     /* any other curl failure */

typedef struct bp__aws_http_req {
  const bp__aws_client *client; /* creds, region, signing name, endpoint, timeout */
  const char *method;           /* "POST" (NULL) or "PUT" */
  const char *path;             /* appended to client->endpoint; NULL: "/" */
  const char *target;           /* X-Amz-Target (JSON protocols), NULL for none */
  const char *content_type;     /* NULL: application/x-amz-json-1.1 with a target, else
                                   application/x-www-form-urlencoded */
  const char *const *headers;   /* extra "Name: value" lines, NULL-terminated; may be NULL */
  const char *body;             /* copied by bp__aws_http_start() */
  size_t body_len;
  size_t max_response_bytes;    /* 0: 64 MiB */
} bp__aws_http_req;

typedef struct bp__aws_http_resp {
  int transport_error;       /* BP__AWS_HTTP_* */
  const char *error_text;    /* transport_error != 0: curl's message; else NULL */
  long status;               /* HTTP status (0 without a response) */
  const char *body;          /* NUL-terminated (never NULL); valid during the callback */
  size_t body_len;
  const char *error_code;    /* status >= 300: the AWS error code, short form
                                ("ProvisionedThroughputExceededException"): from the
                                x-amzn-ErrorType header, the JSON __type / code, or the XML
                                <Code>; NULL if none */
  const char *error_message; /* its message (JSON message / Message, XML <Message>), or NULL */
  const void *priv;          /* the loop's, for bp__aws_http_header() */
} bp__aws_http_resp;

/* A response header's value (case-insensitive name, trimmed), or NULL. */
const char *bp__aws_http_header(const bp__aws_http_resp *r, const char *name);

typedef void (*bp__aws_http_done)(void *ctx, const bp__aws_http_resp *resp);

/*
 * Start a request signed with SigV4 by libcurl (CURLOPT_AWS_SIGV4
 * "aws:amz:<region>:<signing_name>", the session token as X-Amz-Security-Token).
 * @p done runs exactly once, from bp__aws_loop_run_once(). Returns 0 or BP_ERR_NOMEM /
 * BP_ERR_INVALID_ARGUMENT (then @p done never runs).
 */
int bp__aws_http_start(bp__aws_loop *l, const bp__aws_http_req *req, bp__aws_http_done done,
                       void *ctx);

/* ---- child processes (the exec invoker) ---- */

typedef struct bp__aws_child_result {
  int spawn_errno;     /* non-zero: the command could not be started (no other field set) */
  int exited;          /* 1: exit_code is valid */
  int exit_code;
  int term_signal;     /* the signal that ended it, 0 if none */
  int timed_out;       /* 1: killed (SIGKILL) after timeout_ms */
  int too_large;       /* 1: stdout passed max_stdout; killed */
  const char *out;     /* stdout (NUL-terminated, never NULL); valid during the callback */
  size_t out_len;
} bp__aws_child_result;

typedef void (*bp__aws_child_done)(void *ctx, const bp__aws_child_result *r);

/*
 * Run `/bin/sh -c command` with @p in on its stdin (then closed), stdout captured, stderr
 * inherited, @p env (NULL-terminated "NAME=value" list, may be NULL) added to the
 * environment. Non-blocking pipes polled by the loop. Returns 0 or a negative bp_err.
 */
int bp__aws_child_start(bp__aws_loop *l, const char *command, const char *const *env,
                        const char *in, size_t in_len, int64_t timeout_ms, size_t max_stdout,
                        bp__aws_child_done done, void *ctx);

/* ---- counters every module adds to (bp_aws_get_stats() reports them) ---- */

typedef struct bp__aws_counters {
  uint64_t http_requests;
  uint64_t http_failures;        /* transport errors and statuses >= 500 */
  uint64_t list_shards;          /* ListShards / DescribeStream calls */
  uint64_t get_shard_iterator;   /* GetShardIterator calls */
  uint64_t get_records;          /* GetRecords calls */
  uint64_t records_read;
  uint64_t fetch_throttles;      /* ProvisionedThroughputExceeded / LimitExceeded */
  uint64_t expired_iterators;    /* ExpiredIteratorException renewed */
  uint64_t invokes;              /* invocations started */
  uint64_t invoke_function_errors;
  uint64_t invoke_throttles;     /* 429 / not reached */
  uint64_t deliveries;
  uint64_t delivery_failures;
  int64_t millis_behind_latest;  /* the last figure any GetRecords returned (-1 none) */
} bp__aws_counters;

/* ---- readers ---- */

typedef struct bp__aws_reader bp__aws_reader;

/* A shard as the stream lists it. */
typedef struct bp__aws_shard_info {
  const char *shard_id;
  const char *parent_id;          /* NULL if none */
  const char *adjacent_parent_id; /* NULL if none */
  int closed;                     /* has an EndingSequenceNumber */
} bp__aws_shard_info;

/* @p status 0 with the full list (every page), or negative with @p errmsg. */
typedef void (*bp__aws_shards_done)(void *ctx, int status, const char *errmsg,
                                    const bp__aws_shard_info *shards, size_t n);

/*
 * A reader of one stream. @p counters is shared (borrowed). Kinesis: @p stream_arn is the
 * stream's ARN (StreamARN in every call). DynamoDB Streams: the stream's ARN
 * (.../stream/<label>).
 */
int bp__aws_kinesis_reader_new(bp__aws_reader **out, bp__aws_loop *l,
                               const bp__aws_client *client, const char *stream_arn,
                               bp__aws_counters *counters, char *err, size_t errlen);
int bp__aws_ddbstreams_reader_new(bp__aws_reader **out, bp__aws_loop *l,
                                  const bp__aws_client *client, const char *stream_arn,
                                  bp__aws_counters *counters, char *err, size_t errlen);

/*
 * The body of the transport's fetch callback (called inside it): start the read of
 * @p req and return 0, or BP_ERR_WOULDBLOCK (the shard is backing off after a throttle:
 * the engine asks again later). The read completes with bp_engine_complete_fetch(e, ...)
 * from the loop: records as bp_record views (Kinesis Data passed through as base64,
 * BP_RECORD_DATA_BASE64), BP_FETCH_SHARD_END when the shard has no NextShardIterator,
 * status BP_ERR_WOULDBLOCK after a throttle (nothing read, the iterator kept), a negative
 * status after any other failure.
 */
int bp__aws_reader_fetch(bp__aws_reader *r, bp_engine *e, const bp_fetch_req *req);

/* List every shard (all pages), asynchronously. */
int bp__aws_reader_list_shards(bp__aws_reader *r, bp__aws_shards_done done, void *ctx);

/* The last MillisBehindLatest of a shard, -1 when unknown (Kinesis only). */
int64_t bp__aws_reader_millis_behind(const bp__aws_reader *r, const char *shard_id);

void bp__aws_reader_del(bp__aws_reader *r);

/* ---- invokers ---- */

typedef struct bp__aws_invoker bp__aws_invoker;

/* Lambda Invoke (RequestResponse) of @p function_name (name, name:qualifier or ARN). */
int bp__aws_lambda_invoker_new(bp__aws_invoker **out, bp__aws_loop *l,
                               const bp__aws_client *client, const char *function_name,
                               bp__aws_counters *counters, char *err, size_t errlen);
/* `/bin/sh -c command` per batch: the event on stdin, stdout the response. */
int bp__aws_exec_invoker_new(bp__aws_invoker **out, bp__aws_loop *l, const char *command,
                             int64_t timeout_ms, bp__aws_counters *counters, char *err,
                             size_t errlen);
/* The body of the transport's invoke callback: 0 (started) or a negative bp_err. Completes
 * with bp_engine_complete_invoke() from the loop. */
int bp__aws_invoker_invoke(bp__aws_invoker *iv, bp_engine *e, const bp_invoke_req *req);
void bp__aws_invoker_del(bp__aws_invoker *iv);

/* ---- on-failure destinations ---- */

typedef struct bp__aws_dest bp__aws_dest;

/* Through the AWS services (clients for sqs, sns, s3; any may be NULL when unused). */
int bp__aws_dest_new_aws(bp__aws_dest **out, bp__aws_loop *l, const bp__aws_client *sqs,
                         const bp__aws_client *sns, const bp__aws_client *s3,
                         bp__aws_counters *counters, char *err, size_t errlen);
/* Append each on-failure record as one line of @p path (NDJSON; fsync before completing). */
int bp__aws_dest_new_file(bp__aws_dest **out, bp__aws_loop *l, const char *path,
                          bp__aws_counters *counters, char *err, size_t errlen);
/* The body of the transport's deliver callback. Completes with bp_engine_complete_delivery(). */
int bp__aws_dest_deliver(bp__aws_dest *d, bp_engine *e, const bp_delivery_req *req);
void bp__aws_dest_del(bp__aws_dest *d);

#endif
