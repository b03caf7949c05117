/* SPDX-License-Identifier: MIT */
/*
 * The stream reader: per shard its own NextShardIterator, the last sequence number handed to
 * the engine and a throttle backoff; a fetch follows the iterator (BP_POSITION_CONTINUE) or
 * asks GetShardIterator for the position the engine names, then reads one GetRecords page
 * into a reused record page and completes the engine's fetch from the loop.
 */
#include "bp_aws_reader_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SMALL_RESPONSE_BYTES ((size_t)1 << 20)
#define RECORDS_RESPONSE_BYTES ((size_t)32 << 20)
#define BACKOFF_FIRST_MS 200
#define BACKOFF_CAP_MS 5000
#define MAX_LIST_PAGES 10000 /* a listing that never ends is an error, not a hang */

enum { STAGE_IDLE, STAGE_ITERATOR, STAGE_RECORDS };

typedef struct rshard {
  bp__aws_reader *r;
  char *id;
  char *iterator;                   /* the NextShardIterator to follow; NULL: none */
  char last_seq[BP_STORE_SEQ_CAP];  /* the last record handed to the engine */
  size_t last_seq_len;              /* 0: none since the last explicit start */
  int32_t start_from;               /* the last explicit position asked (renewal when nothing
                                       was read since); BP_POSITION_NONE: none */
  int64_t start_ts;
  int fresh;                        /* the iterator is GetShardIterator's for the start
                                       position, nothing read since */
  int asking_start;                 /* the GetShardIterator in flight is for the start */
  int64_t backoff_until;
  int64_t backoff_ms;
  int64_t millis_behind;
  /* the fetch in flight */
  int stage;
  int renewed;
  bp_engine *e;
  uint64_t req_id;
  uint32_t limit;
} rshard;

struct bp__aws_reader {
  bp__aws_loop *loop;
  const bp__aws_client *client;
  const bp__aws_reader_dialect *d;
  char *stream;
  bp__aws_counters *ctr;
  rshard **shards;
  size_t nshards;
  size_t cap;
  bp__aws_recpage page; /* every GetRecords response, reused */
  bp__aws_buf body;     /* every request body, reused */
  char errmsg[512];
  /* the listing in flight */
  int listing;
  unsigned list_pages;
  bp__aws_shardlist acc;
  bp__aws_shards_done list_done;
  void *list_ctx;
};

/* ShardIteratorType of a position ("TRIM_HORIZON", ...), NULL for NONE and CONTINUE. */
static const char *position_name(int32_t from) {
  switch (from) {
  case BP_POSITION_TRIM_HORIZON: return "TRIM_HORIZON";
  case BP_POSITION_LATEST: return "LATEST";
  case BP_POSITION_AT_TIMESTAMP: return "AT_TIMESTAMP";
  case BP_POSITION_AFTER_SEQUENCE_NUMBER: return "AFTER_SEQUENCE_NUMBER";
  default: return NULL;
  }
}

const char *bp__aws_reader_errmsg(const bp__aws_reader *r) { return r->errmsg; }

static rshard *find_shard(const bp__aws_reader *r, const char *id) {
  size_t i;
  for (i = 0; i < r->nshards; i++)
    if (strcmp(r->shards[i]->id, id) == 0) return r->shards[i];
  return NULL;
}

static rshard *get_shard(bp__aws_reader *r, const char *id) {
  rshard *s = find_shard(r, id);
  size_t n;
  if (s != NULL) return s;
  if (r->nshards == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 8;
    rshard **v = realloc(r->shards, cap * sizeof *v);
    if (v == NULL) return NULL;
    r->shards = v;
    r->cap = cap;
  }
  s = calloc(1, sizeof *s);
  n = strlen(id);
  if (s == NULL || (s->id = malloc(n + 1)) == NULL) {
    free(s);
    return NULL;
  }
  memcpy(s->id, id, n + 1);
  s->r = r;
  s->millis_behind = -1;
  r->shards[r->nshards++] = s;
  return s;
}

static void forget_iterator(rshard *s) {
  free(s->iterator);
  s->iterator = NULL;
  s->fresh = 0;
}

static void set_last_seq(rshard *s, const char *seq, size_t n) {
  if (n >= sizeof s->last_seq) n = 0; /* longer than any valid one: the engine refuses it */
  if (n > 0) memcpy(s->last_seq, seq, n);
  s->last_seq_len = n;
}

/* Complete the fetch in flight; the shard is free again first, since the engine may ask
 * for the next read of this shard from inside the completion. */
static void complete(rshard *s, int status, const bp_record *recs, size_t n, uint32_t flags) {
  bp_engine *e = s->e;
  uint64_t id = s->req_id;
  int rc;
  s->stage = STAGE_IDLE;
  s->e = NULL;
  rc = bp_engine_complete_fetch(e, id, bp__aws_now_ms(), status, recs, n, flags);
  if (status == 0 && rc == BP_ERR_INVALID_RECORD) {
    /* the engine kept a prefix and reads again after it: our position is past it */
    snprintf(s->r->errmsg, sizeof s->r->errmsg, "shard %s: the engine refused a record: %s",
             s->id, bp_engine_errmsg(e));
    forget_iterator(s);
    s->last_seq_len = 0;
  }
}

static void fail(rshard *s, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Record why, forget the iterator (the engine repositions explicitly) and complete. */
static void fail(rshard *s, int status, const char *fmt, ...) {
  char *m = s->r->errmsg;
  size_t cap = sizeof s->r->errmsg;
  int k = snprintf(m, cap, "shard %s: ", s->id);
  va_list ap;
  if (k > 0 && (size_t)k < cap) {
    va_start(ap, fmt);
    vsnprintf(m + k, cap - (size_t)k, fmt, ap);
    va_end(ap);
  }
  forget_iterator(s);
  complete(s, status, NULL, 0, 0);
}

static char *target(const bp__aws_reader *r, const char *op, char *buf, size_t cap) {
  snprintf(buf, cap, "%s%s", r->d->target_prefix, op);
  return buf;
}

static int start(bp__aws_reader *r, const char *op, size_t max_bytes, bp__aws_http_done done,
                 void *ctx) {
  char tgt[96];
  bp__aws_http_req q;
  int rc;
  memset(&q, 0, sizeof q);
  q.client = r->client;
  q.target = target(r, op, tgt, sizeof tgt);
  q.content_type = r->d->content_type;
  q.body = r->body.data;
  q.body_len = r->body.len;
  q.max_response_bytes = max_bytes;
  rc = bp__aws_http_start(r->loop, &q, done, ctx);
  if (rc == 0) r->ctr->http_requests++;
  return rc;
}

/* Every response counts once in the host's totals (bp_aws_stats). */
static void count_response(bp__aws_reader *r, const bp__aws_http_resp *resp) {
  if (resp->transport_error != BP__AWS_HTTP_OK || resp->status >= 500) r->ctr->http_failures++;
}

/* ---- errors of a response ---- */

/* The codes by which both services ask the caller to slow down (a throttle, not a failure). */
static int is_throttle(const bp__aws_http_resp *resp) {
  const char *code = resp->error_code;
  return resp->transport_error == BP__AWS_HTTP_OK && code != NULL &&
         (strcmp(code, "ProvisionedThroughputExceededException") == 0 ||
          strcmp(code, "LimitExceededException") == 0 || strcmp(code, "ThrottlingException") == 0);
}

static void throttled(rshard *s) {
  int64_t now = bp__aws_now_ms();
  s->r->ctr->fetch_throttles++;
  s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : BACKOFF_FIRST_MS;
  if (s->backoff_ms > BACKOFF_CAP_MS) s->backoff_ms = BACKOFF_CAP_MS;
  s->backoff_until = now + s->backoff_ms;
  complete(s, BP_ERR_WOULDBLOCK, NULL, 0, 0); /* nothing read; the iterator is kept */
}

static void failed_response(rshard *s, const char *op, const bp__aws_http_resp *resp) {
  char what[384];
  if (resp->transport_error != BP__AWS_HTTP_OK)
    snprintf(what, sizeof what, "transport error %d: %s", resp->transport_error,
             resp->error_text ? resp->error_text : "?");
  else
    snprintf(what, sizeof what, "HTTP %ld %s: %s", resp->status,
             resp->error_code ? resp->error_code : "(no error code)",
             resp->error_message ? resp->error_message : "");
  fail(s, BP_ERR_IO, "%s failed: %s", op, what);
}

/* ---- request bodies (the same for both services but for member names) ---- */

static int records_body(bp__aws_buf *b, const char *iterator, uint32_t limit) {
  int rc = bp__aws_buf_puts(b, "{\"ShardIterator\":");
  if (rc == 0) rc = bp__aws_buf_json_str(b, iterator, strlen(iterator));
  if (rc == 0) rc = bp__aws_buf_printf(b, ",\"Limit\":%u}", (unsigned)limit);
  return rc;
}

static int iterator_body(bp__aws_buf *b, const bp__aws_reader_dialect *d, const char *stream,
                         const char *shard_id, int32_t from, const char *seq, size_t seq_len,
                         int64_t timestamp_ms) {
  const char *type = position_name(from);
  int rc;
  if (from == BP_POSITION_AT_TIMESTAMP && !d->at_timestamp) return BP_ERR_UNSUPPORTED;
  if (type == NULL) return BP_ERR_INVALID_ARGUMENT;
  if (from == BP_POSITION_AFTER_SEQUENCE_NUMBER && (seq == NULL || seq_len == 0))
    return BP_ERR_INVALID_ARGUMENT;
  if (from == BP_POSITION_AT_TIMESTAMP && timestamp_ms < 0) return BP_ERR_INVALID_ARGUMENT;
  rc = bp__aws_buf_printf(b, "{\"%s\":", d->stream_member);
  if (rc == 0) rc = bp__aws_buf_json_str(b, stream, strlen(stream));
  if (rc == 0) rc = bp__aws_buf_puts(b, ",\"ShardId\":");
  if (rc == 0) rc = bp__aws_buf_json_str(b, shard_id, strlen(shard_id));
  if (rc == 0) rc = bp__aws_buf_printf(b, ",\"ShardIteratorType\":\"%s\"", type);
  if (rc == 0 && from == BP_POSITION_AFTER_SEQUENCE_NUMBER) {
    rc = bp__aws_buf_printf(b, ",\"%s\":", d->seq_member);
    if (rc == 0) rc = bp__aws_buf_json_str(b, seq, seq_len);
  }
  /* Timestamp: seconds since the epoch, a number with the milliseconds as its fraction */
  if (rc == 0 && from == BP_POSITION_AT_TIMESTAMP)
    rc = bp__aws_buf_printf(b, ",\"Timestamp\":%lld.%03lld", (long long)(timestamp_ms / 1000),
                            (long long)(timestamp_ms % 1000));
  if (rc == 0) rc = bp__aws_buf_puts(b, "}");
  return rc;
}

/* ---- the read ---- */

static void on_records(void *ctx, const bp__aws_http_resp *resp);
static void on_iterator(void *ctx, const bp__aws_http_resp *resp);

static int start_records(rshard *s) {
  bp__aws_reader *r = s->r;
  int rc;
  bp__aws_buf_reset(&r->body);
  rc = records_body(&r->body, s->iterator, s->limit);
  if (rc == 0) rc = start(r, "GetRecords", RECORDS_RESPONSE_BYTES, on_records, s);
  if (rc == 0) {
    s->stage = STAGE_RECORDS;
    r->ctr->get_records++;
  }
  return rc;
}

static int start_iterator(rshard *s, int32_t from, const char *seq, size_t seq_len, int64_t ts) {
  bp__aws_reader *r = s->r;
  int rc;
  bp__aws_buf_reset(&r->body);
  rc = iterator_body(&r->body, r->d, r->stream, s->id, from, seq, seq_len, ts);
  if (rc == 0) rc = start(r, "GetShardIterator", SMALL_RESPONSE_BYTES, on_iterator, s);
  if (rc == 0) {
    s->stage = STAGE_ITERATOR;
    r->ctr->get_shard_iterator++;
  }
  return rc;
}

/* A new iterator where the reader stands: after the last record handed over, else at the
 * start position asked last. */
static int renew_iterator(rshard *s) {
  forget_iterator(s);
  s->asking_start = 0;
  if (s->last_seq_len > 0)
    return start_iterator(s, BP_POSITION_AFTER_SEQUENCE_NUMBER, s->last_seq, s->last_seq_len, 0);
  if (s->start_from != BP_POSITION_NONE && s->start_from != BP_POSITION_AFTER_SEQUENCE_NUMBER)
    return start_iterator(s, s->start_from, NULL, 0, s->start_ts);
  return BP_ERR_INVALID_STATE;
}

static void on_iterator(void *ctx, const bp__aws_http_resp *resp) {
  rshard *s = ctx;
  char err[256];
  int rc;
  count_response(s->r, resp);
  if (resp->transport_error != BP__AWS_HTTP_OK || resp->status >= 300) {
    if (is_throttle(resp))
      throttled(s);
    else
      failed_response(s, "GetShardIterator", resp);
    return;
  }
  forget_iterator(s);
  err[0] = '\0';
  rc = bp__aws_parse_shard_iterator(resp->body, resp->body_len, &s->iterator, err, sizeof err);
  s->fresh = rc == 0 && s->asking_start;
  if (rc == 0) rc = start_records(s);
  if (rc != 0) fail(s, BP_ERR_IO, "%s", err[0] ? err : "cannot start GetRecords");
}

static void on_records(void *ctx, const bp__aws_http_resp *resp) {
  rshard *s = ctx;
  bp__aws_reader *r = s->r;
  bp__aws_recpage *p = &r->page;
  char err[256];
  size_t n;
  uint32_t flags = 0;
  int rc;
  count_response(r, resp);
  if (resp->transport_error != BP__AWS_HTTP_OK || resp->status >= 300) {
    if (resp->transport_error == BP__AWS_HTTP_OK && resp->error_code != NULL &&
        strcmp(resp->error_code, "ExpiredIteratorException") == 0 && !s->renewed) {
      s->renewed = 1;
      r->ctr->expired_iterators++;
      if (renew_iterator(s) == 0) return;
    }
    if (is_throttle(resp))
      throttled(s);
    else
      failed_response(s, "GetRecords", resp);
    return;
  }
  err[0] = '\0';
  rc = r->d->parse_records(p, resp->body, resp->body_len, err, sizeof err);
  if (rc != 0) {
    fail(s, BP_ERR_IO, "%s", err);
    return;
  }
  s->backoff_ms = 0;
  if (p->millis_behind >= 0) {
    s->millis_behind = p->millis_behind;
    r->ctr->millis_behind_latest = p->millis_behind;
  }
  n = p->n;
  forget_iterator(s);
  if (n > s->limit) {
    n = s->limit; /* more than asked: the rest is read again after the last handed over */
  } else if (p->next_iterator != NULL) {
    size_t len = strlen(p->next_iterator);
    s->iterator = malloc(len + 1);
    if (s->iterator != NULL) memcpy(s->iterator, p->next_iterator, len + 1);
    /* out of memory: the next CONTINUE renews the iterator after the last record */
  } else {
    flags = BP_FETCH_SHARD_END;
  }
  if (n > 0) set_last_seq(s, p->recs[n - 1].seq, p->recs[n - 1].seq_len);
  r->ctr->records_read += n;
  complete(s, 0, p->recs, n, flags);
}

/* @p req asks for the position the shard's fresh iterator was made for. */
static int same_start(const rshard *s, const bp_fetch_req *req) {
  if (req->from != s->start_from) return 0;
  if (req->from == BP_POSITION_AT_TIMESTAMP) return req->timestamp_ms == s->start_ts;
  if (req->from == BP_POSITION_AFTER_SEQUENCE_NUMBER)
    return req->after_seq != NULL && req->after_seq_len == s->last_seq_len &&
           memcmp(req->after_seq, s->last_seq, s->last_seq_len) == 0;
  return 1;
}

int bp__aws_reader_fetch(bp__aws_reader *r, bp_engine *e, const bp_fetch_req *req) {
  rshard *s = get_shard(r, req->shard_id);
  int rc;
  if (s == NULL) return BP_ERR_WOULDBLOCK; /* out of memory: ask again later */
  if (s->stage != STAGE_IDLE) return BP_ERR_WOULDBLOCK;
  if (bp__aws_now_ms() < s->backoff_until) return BP_ERR_WOULDBLOCK;
  s->e = e;
  s->req_id = req->req_id;
  s->limit = req->max_records < 1 ? 1 : req->max_records;
  if (s->limit > r->d->max_limit) s->limit = r->d->max_limit;
  s->renewed = 0;
  s->asking_start = 0;
  if (req->from == BP_POSITION_CONTINUE) {
    if (s->iterator != NULL)
      rc = start_records(s);
    else if (s->last_seq_len > 0)
      rc = start_iterator(s, BP_POSITION_AFTER_SEQUENCE_NUMBER, s->last_seq, s->last_seq_len, 0);
    else
      rc = BP_ERR_INVALID_STATE;
    if (rc == BP_ERR_INVALID_STATE) {
      fail(s, BP_ERR_INVALID_STATE, "asked to continue with no iterator and no record read");
      return 0;
    }
  } else if (s->iterator != NULL && s->fresh && same_start(s, req)) {
    rc = start_records(s); /* e.g. asked again after a throttle: the iterator stands */
  } else {
    forget_iterator(s);
    s->start_from = req->from;
    s->start_ts = req->timestamp_ms;
    if (req->from == BP_POSITION_AFTER_SEQUENCE_NUMBER)
      set_last_seq(s, req->after_seq, req->after_seq != NULL ? req->after_seq_len : 0);
    else
      s->last_seq_len = 0;
    s->asking_start = 1;
    rc = start_iterator(s, req->from, req->after_seq, req->after_seq_len, req->timestamp_ms);
  }
  if (rc != 0) {
    /* completed here (the engine allows completions inside its callback) */
    fail(s, rc, "cannot start the read (%s)", bp_err_name(rc));
  }
  return 0;
}

/* ---- listing ---- */

/* The callback may start the next listing: it gets a list this one no longer holds. */
static void list_finish(bp__aws_reader *r, int status) {
  bp__aws_shardlist acc = r->acc;
  memset(&r->acc, 0, sizeof r->acc);
  r->listing = 0;
  if (status == 0)
    r->list_done(r->list_ctx, 0, NULL, acc.v, acc.n);
  else
    r->list_done(r->list_ctx, status, r->errmsg, NULL, 0);
  bp__aws_shardlist_clear(&acc);
}

static int list_page(bp__aws_reader *r, const char *page);

static void on_list(void *ctx, const bp__aws_http_resp *resp) {
  bp__aws_reader *r = ctx;
  char err[256], *page = NULL;
  int rc, more;
  count_response(r, resp);
  if (resp->transport_error != BP__AWS_HTTP_OK || resp->status >= 300) {
    snprintf(r->errmsg, sizeof r->errmsg, "%s failed: %s %ld %s: %s", r->d->list_op,
             resp->transport_error ? "transport error" : "HTTP",
             resp->transport_error ? (long)resp->transport_error : resp->status,
             resp->error_code ? resp->error_code : (resp->error_text ? resp->error_text : ""),
             resp->error_message ? resp->error_message : "");
    list_finish(r, BP_ERR_IO);
    return;
  }
  err[0] = '\0';
  rc = r->d->parse_list(resp->body, resp->body_len, &r->acc, &page, err, sizeof err);
  if (rc == 0 && page != NULL && r->list_pages >= MAX_LIST_PAGES) {
    snprintf(err, sizeof err, "%s: more than %d pages", r->d->list_op, MAX_LIST_PAGES);
    rc = BP_ERR_IO;
  }
  if (rc == 0 && page != NULL) {
    rc = list_page(r, page);
    if (rc != 0) snprintf(err, sizeof err, "%s: cannot start the next page", r->d->list_op);
  }
  more = page != NULL;
  free(page);
  if (rc != 0) {
    snprintf(r->errmsg, sizeof r->errmsg, "%s", err);
    list_finish(r, BP_ERR_IO);
  } else if (!more) {
    list_finish(r, 0);
  }
}

static int list_page(bp__aws_reader *r, const char *page) {
  int rc;
  bp__aws_buf_reset(&r->body);
  rc = r->d->list_body(&r->body, r->stream, page);
  if (rc == 0) rc = start(r, r->d->list_op, SMALL_RESPONSE_BYTES, on_list, r);
  if (rc == 0) {
    r->ctr->list_shards++;
    r->list_pages++;
  }
  return rc;
}

int bp__aws_reader_list_shards(bp__aws_reader *r, bp__aws_shards_done done, void *ctx) {
  int rc;
  if (r->listing) return BP_ERR_INVALID_STATE;
  r->list_done = done;
  r->list_ctx = ctx;
  r->list_pages = 0;
  rc = list_page(r, NULL);
  if (rc == 0) r->listing = 1;
  return rc;
}

/* ---- life cycle ---- */

int64_t bp__aws_reader_millis_behind(const bp__aws_reader *r, const char *shard_id) {
  const rshard *s = find_shard(r, shard_id);
  return s != NULL ? s->millis_behind : -1;
}

int bp__aws_reader_new_dialect(bp__aws_reader **out, bp__aws_loop *l,
                               const bp__aws_client *client, const char *stream,
                               const bp__aws_reader_dialect *d, bp__aws_counters *counters,
                               char *err, size_t errlen) {
  bp__aws_reader *r = calloc(1, sizeof *r);
  size_t n = strlen(stream);
  *out = NULL;
  if (r == NULL || (r->stream = malloc(n + 1)) == NULL) {
    free(r);
    bp__aws_json_errf(err, errlen, "out of memory");
    return BP_ERR_NOMEM;
  }
  memcpy(r->stream, stream, n + 1);
  r->loop = l;
  r->client = client;
  r->d = d;
  r->ctr = counters;
  r->page.millis_behind = -1;
  *out = r;
  return 0;
}

void bp__aws_reader_del(bp__aws_reader *r) {
  size_t i;
  if (r == NULL) return;
  for (i = 0; i < r->nshards; i++) {
    free(r->shards[i]->iterator);
    free(r->shards[i]->id);
    free(r->shards[i]);
  }
  free(r->shards);
  free(r->stream);
  bp__aws_recpage_free(&r->page);
  bp__aws_buf_free(&r->body);
  bp__aws_shardlist_clear(&r->acc);
  free(r);
}
