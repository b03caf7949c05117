/* SPDX-License-Identifier: MIT */
/*
 * On-failure destinations (SEMANTICS.md §5.3-§5.5): the engine's on-failure record sent as
 *   SQS  SendMessage, JSON protocol (AmazonSQS.SendMessage, application/x-amz-json-1.0):
 *        {"QueueUrl":"<endpoint>/<ACCOUNT>/<NAME>","MessageBody":<record>} from the queue ARN
 *        arn:aws:sqs:REGION:ACCOUNT:NAME. (Servers older than SQS's 2023 JSON protocol, e.g.
 *        old LocalStack / ElasticMQ releases, accept only the query protocol.)
 *   SNS  Publish, query protocol: Action=Publish&Version=2010-03-31&TopicArn=..&Message=..
 *   S3   PutObject, path style: PUT /<bucket>/<key> (the key of §5.5, each segment
 *        percent-encoded, '/' kept), bucket from arn:aws:s3:::bucket, application/json
 *   file one line per record (NDJSON), O_APPEND, fsync'd before the completion.
 * A 2xx completes the delivery with 0. A transport error, a 5xx, a 429 or a throttling error
 * code is retried once at once (as AWS SDKs retry); anything else, or a second failure,
 * completes it with a negative status: the engine counts DestinationDeliveryFailures and the
 * records stay discarded. A destination that cannot be used (a malformed ARN, a service
 * without a client, BP_DESTINATION_OTHER) fails the delivery the same way, inside the
 * callback (the engine records such a completion).
 */
#include "bp_aws_int.h"
#include "bp_aws_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

typedef struct dest_call dest_call;

struct bp__aws_dest {
  bp__aws_loop *loop;
  const bp__aws_client *sqs, *sns, *s3; /* borrowed; NULL when unused (or a file dest) */
  int fd;                               /* the file destination, -1 otherwise */
  bp__aws_counters *counters;
  bp__aws_pool calls;
};

/* One delivery in flight; its buffers are kept for the retry and reused by later calls. */
struct dest_call {
  bp__aws_pool_item item;
  bp__aws_dest *d;
  bp_engine *e;
  uint64_t req_id;
  int retried;
  bp__aws_http_req hr; /* pointers into the buffers below */
  bp__aws_buf body;
  bp__aws_buf path;
};

static void dest_call_fini(void *item) {
  dest_call *c = item;
  bp__aws_buf_free(&c->body);
  bp__aws_buf_free(&c->path);
}

/* Field @p idx (0-based, ':'-separated) of @p arn: its start and length; -1 if missing. */
static int arn_field(const char *arn, int idx, const char **start, size_t *len) {
  const char *p = arn;
  for (int i = 0; i < idx; i++) {
    p = strchr(p, ':');
    if (!p) return -1;
    p++;
  }
  const char *end = strchr(p, ':');
  *start = p;
  *len = end ? (size_t)(end - p) : strlen(p);
  return 0;
}

/* @p arn is arn:<partition>:<service>:... */
static int arn_is(const char *arn, const char *service) {
  const char *s;
  size_t n;
  return arn && !strncmp(arn, "arn:", 4) && !arn_field(arn, 2, &s, &n) &&
         n == strlen(service) && !memcmp(s, service, n);
}

/* Worth the one retry: not delivered for a reason that may pass (as the SDKs' retry rule). */
static int retryable(const bp__aws_http_resp *r) {
  if (r->transport_error || r->status >= 500 || r->status == 429) return 1;
  const char *code = r->error_code;
  return code && (strstr(code, "Throttl") || !strcmp(code, "SlowDown") ||
                  !strcmp(code, "RequestThrottled"));
}

static void finish(bp__aws_dest *d, bp_engine *e, uint64_t id, int status) {
  if (status) d->counters->delivery_failures++;
  else d->counters->deliveries++;
  /* Outside a callback its error comes from the work the completion ran, which the host's
   * next driving call reports again; inside one it is only recorded. */
  (void)bp_engine_complete_delivery(e, id, bp__aws_now_ms(), status);
}

static void dest_done(void *ctx, const bp__aws_http_resp *r) {
  dest_call *c = ctx;
  bp__aws_dest *d = c->d;
  int ok = !r->transport_error && r->status >= 200 && r->status < 300;
  if (r->transport_error || r->status >= 500) d->counters->http_failures++;
  if (!ok && !c->retried && retryable(r)) {
    c->retried = 1;
    if (!bp__aws_http_start(d->loop, &c->hr, dest_done, c)) {
      d->counters->http_requests++;
      return;
    }
  }
  bp_engine *e = c->e;
  uint64_t id = c->req_id;
  bp__aws_pool_put(&d->calls, c); /* first: the completion may start another delivery */
  finish(d, e, id, ok ? 0 : BP_ERR_IO);
}

/* SendMessage's request; @p arn arn:aws:sqs:REGION:ACCOUNT:NAME. */
static int build_sqs(dest_call *c, const bp__aws_client *cl, const char *arn,
                     const bp_delivery_req *req) {
  const char *acct, *name;
  size_t acct_n, name_n;
  if (arn_field(arn, 4, &acct, &acct_n) || arn_field(arn, 5, &name, &name_n) || !acct_n ||
      !name_n || name[name_n] != '\0')
    return BP_ERR_INVALID_ARGUMENT;
  bp__aws_buf *b = &c->path; /* holds the QueueUrl for a moment */
  int rc = bp__aws_buf_printf(b, "%s/%.*s/%.*s", cl->endpoint, (int)acct_n, acct, (int)name_n,
                              name);
  if (!rc) rc = bp__aws_buf_puts(&c->body, "{\"QueueUrl\":");
  if (!rc) rc = bp__aws_buf_json_str(&c->body, b->data, b->len);
  if (!rc) rc = bp__aws_buf_puts(&c->body, ",\"MessageBody\":");
  if (!rc) rc = bp__aws_buf_json_str(&c->body, req->record_json, req->record_json_len);
  if (!rc) rc = bp__aws_buf_puts(&c->body, "}");
  if (rc) return rc;
  bp__aws_buf_reset(b);
  c->hr.target = "AmazonSQS.SendMessage";
  c->hr.content_type = "application/x-amz-json-1.0";
  return 0;
}

static int build_sns(dest_call *c, const char *arn, const bp_delivery_req *req) {
  bp__aws_buf *b = &c->body;
  int rc = bp__aws_buf_puts(b, "Action=Publish&Version=2010-03-31&TopicArn=");
  if (!rc) rc = bp__aws_buf_url_encode(b, arn, strlen(arn));
  if (!rc) rc = bp__aws_buf_puts(b, "&Message=");
  if (!rc) rc = bp__aws_buf_url_encode(b, req->record_json, req->record_json_len);
  return rc;
}

/* PutObject's request; @p arn arn:aws:s3:::bucket. */
static int build_s3(dest_call *c, const char *arn, const bp_delivery_req *req) {
  const char *bucket;
  size_t bucket_n;
  if (arn_field(arn, 5, &bucket, &bucket_n) || !bucket_n || memchr(bucket, '/', bucket_n) ||
      !req->s3_key || !*req->s3_key)
    return BP_ERR_INVALID_ARGUMENT;
  bp__aws_buf *p = &c->path;
  int rc = bp__aws_buf_puts(p, "/");
  if (!rc) rc = bp__aws_buf_url_encode(p, bucket, bucket_n);
  for (const char *seg = req->s3_key; !rc && seg;) {
    const char *slash = strchr(seg, '/');
    size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
    rc = bp__aws_buf_puts(p, "/");
    if (!rc) rc = bp__aws_buf_url_encode(p, seg, n);
    seg = slash ? slash + 1 : NULL;
  }
  if (!rc) rc = bp__aws_buf_append(&c->body, req->record_json, req->record_json_len);
  if (rc) return rc;
  c->hr.method = "PUT";
  c->hr.content_type = "application/json";
  return 0;
}

static int deliver_aws(bp__aws_dest *d, bp_engine *e, const bp_delivery_req *req) {
  const bp__aws_client *cl = NULL;
  const char *service = NULL;
  switch (req->destination_type) {
  case BP_DESTINATION_SQS: cl = d->sqs; service = "sqs"; break;
  case BP_DESTINATION_SNS: cl = d->sns; service = "sns"; break;
  case BP_DESTINATION_S3: cl = d->s3; service = "s3"; break;
  default: break;
  }
  if (!cl || !arn_is(req->destination, service)) {
    finish(d, e, req->req_id, BP_ERR_INVALID_ARGUMENT); /* unusable: fails, never retried */
    return 0;
  }
  dest_call *c = bp__aws_pool_get(&d->calls);
  if (!c) return BP_ERR_WOULDBLOCK; /* out of memory now: the engine asks again later */
  c->d = d;
  c->e = e;
  c->req_id = req->req_id;
  c->retried = 0;
  bp__aws_buf_reset(&c->body);
  bp__aws_buf_reset(&c->path);
  memset(&c->hr, 0, sizeof c->hr);
  c->hr.client = cl;
  c->hr.method = "POST";
  int rc;
  switch (req->destination_type) {
  case BP_DESTINATION_SQS: rc = build_sqs(c, cl, req->destination, req); break;
  case BP_DESTINATION_SNS: rc = build_sns(c, req->destination, req); break;
  default: rc = build_s3(c, req->destination, req); break;
  }
  if (!rc) {
    c->hr.path = c->path.len ? c->path.data : NULL;
    c->hr.body = c->body.data;
    c->hr.body_len = c->body.len;
    rc = bp__aws_http_start(d->loop, &c->hr, dest_done, c);
  }
  if (rc) {
    bp__aws_pool_put(&d->calls, c);
    if (rc == BP_ERR_NOMEM) return BP_ERR_WOULDBLOCK;
    finish(d, e, req->req_id, rc); /* a malformed ARN or key: this delivery fails */
    return 0;
  }
  d->counters->http_requests++;
  return 0;
}

/* All of @p n bytes of @p iov, through short writes and interrupts. */
static int write_all(int fd, struct iovec *iov, int n) {
  while (n > 0) {
    ssize_t w = writev(fd, iov, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    while (n > 0 && (size_t)w >= iov->iov_len) {
      w -= (ssize_t)iov->iov_len;
      iov++;
      n--;
    }
    if (n > 0) {
      iov->iov_base = (char *)iov->iov_base + w;
      iov->iov_len -= (size_t)w;
    }
  }
  return 0;
}

static int deliver_file(bp__aws_dest *d, bp_engine *e, const bp_delivery_req *req) {
  /* The codec writes compact JSON (SEMANTICS.md §1.4): the record is one line already. */
  struct iovec iov[2] = {{(void *)req->record_json, req->record_json_len}, {"\n", 1}};
  int ok = write_all(d->fd, iov, 2) == 0 && fsync(d->fd) == 0;
  finish(d, e, req->req_id, ok ? 0 : BP_ERR_IO); /* inside the callback: recorded (§H) */
  return 0;
}

int bp__aws_dest_deliver(bp__aws_dest *d, bp_engine *e, const bp_delivery_req *req) {
  if (!d || !e || !req) return BP_ERR_INVALID_ARGUMENT;
  if (!req->record_json) return BP_ERR_UNSUPPORTED; /* a core-only library writes no record */
  return d->fd >= 0 ? deliver_file(d, e, req) : deliver_aws(d, e, req);
}

static int dest_alloc(bp__aws_dest **out, bp__aws_loop *l, bp__aws_counters *counters,
                      char *err, size_t errlen) {
  *out = NULL;
  if (!l || !counters) {
    if (err && errlen) snprintf(err, errlen, "destination: a loop and counters are required");
    return BP_ERR_INVALID_ARGUMENT;
  }
  bp__aws_dest *d = calloc(1, sizeof *d);
  if (!d) {
    if (err && errlen) snprintf(err, errlen, "destination: out of memory");
    return BP_ERR_NOMEM;
  }
  d->loop = l;
  d->fd = -1;
  d->counters = counters;
  bp__aws_pool_init(&d->calls, sizeof(dest_call), dest_call_fini);
  *out = d;
  return 0;
}

int bp__aws_dest_new_aws(bp__aws_dest **out, bp__aws_loop *l, const bp__aws_client *sqs,
                         const bp__aws_client *sns, const bp__aws_client *s3,
                         bp__aws_counters *counters, char *err, size_t errlen) {
  if (!out) return BP_ERR_INVALID_ARGUMENT;
  int rc = dest_alloc(out, l, counters, err, errlen);
  if (rc) return rc;
  (*out)->sqs = sqs;
  (*out)->sns = sns;
  (*out)->s3 = s3;
  return 0;
}

int bp__aws_dest_new_file(bp__aws_dest **out, bp__aws_loop *l, const char *path,
                          bp__aws_counters *counters, char *err, size_t errlen) {
  if (!out) return BP_ERR_INVALID_ARGUMENT;
  *out = NULL;
  if (!path || !*path) {
    if (err && errlen) snprintf(err, errlen, "destination: a file path is required");
    return BP_ERR_INVALID_ARGUMENT;
  }
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (err && errlen) snprintf(err, errlen, "destination: %s: %s", path, strerror(errno));
    return BP_ERR_IO;
  }
  int rc = dest_alloc(out, l, counters, err, errlen);
  if (rc) {
    close(fd);
    return rc;
  }
  (*out)->fd = fd;
  return 0;
}

void bp__aws_dest_del(bp__aws_dest *d) {
  if (!d) return;
  bp__aws_pool_free(&d->calls);
  if (d->fd >= 0) close(d->fd);
  free(d);
}
