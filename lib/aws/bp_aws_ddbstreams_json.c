/* SPDX-License-Identifier: MIT */
/* DynamoDB Streams response parsing: see bp_aws_ddbstreams_json.h. */
#include "bp_aws_ddbstreams_json.h"

#include <stdlib.h>
#include <string.h>

/* ---- DescribeStream ---- */

int bp__aws_ddb_parse_describe_stream(const char *body, size_t len, bp__aws_shardlist *acc,
                                      char **last_shard, char *err, size_t errlen) {
  const char *dpath[] = {"StreamDescription", NULL};
  const char *spath[] = {"Shards", NULL};
  yajl_val root = bp__aws_json_tree(body, len, "DescribeStream", err, errlen), desc;
  const char *last = NULL;
  int bad = 0, rc;
  *last_shard = NULL;
  if (root == NULL) return BP_ERR_INVALID_JSON;
  desc = yajl_tree_get(root, dpath, yajl_t_object);
  if (desc == NULL) {
    yajl_tree_free(root);
    bp__aws_json_errf(err, errlen, "DescribeStream: no StreamDescription object");
    return BP_ERR_INVALID_JSON;
  }
  rc = bp__aws_parse_shard_array(yajl_tree_get(desc, spath, yajl_t_any), acc, "DescribeStream",
                                 err, errlen);
  if (rc == 0) last = bp__aws_json_opt_string(desc, "LastEvaluatedShardId", &bad);
  if (rc == 0 && bad) {
    bp__aws_json_errf(err, errlen, "DescribeStream: LastEvaluatedShardId is not a string");
    rc = BP_ERR_INVALID_JSON;
  }
  if (rc == 0 && last != NULL && last[0] != '\0') {
    size_t n = strlen(last);
    *last_shard = malloc(n + 1);
    if (*last_shard == NULL)
      rc = BP_ERR_NOMEM;
    else
      memcpy(*last_shard, last, n + 1);
  }
  yajl_tree_free(root);
  return rc;
}

/* ---- GetRecords ---- */

enum { K_OTHER, K_RECORDS, K_NEXT };
enum { R_OTHER, R_EVENT_ID, R_EVENT_NAME, R_DYNAMODB, R_USER_IDENTITY };
enum { D_OTHER, D_SEQ, D_CREATED, D_KEYS };

typedef struct dctx {
  bp__aws_recpage *p;
  const char *body;
  int depth;       /* containers open */
  int top_key;     /* K_*: member of the top object being read */
  int rec_key;     /* R_*: member of the record being read */
  int ddb_key;     /* D_*: member of the record's dynamodb object being read */
  int in_records;  /* inside the Records array (depth 2) */
  int saw_records;
  int ddb_open;    /* inside the record's dynamodb object (depth 4 and deeper) */
  int uid_open;    /* inside its userIdentity object */
  size_t span_start;
  int keys_open;   /* inside dynamodb.Keys (depth 5) */
  int first_attr;  /* 0: no attribute of Keys yet; 1: reading the first; 2: done */
  long cur;
  int rc;
  char *err;
  size_t errlen;
} dctx;

static int is_key(const char *s, size_t n, const char *k) {
  return strlen(k) == n && memcmp(s, k, n) == 0;
}

static int fail(dctx *c, int rc, const char *msg) {
  c->rc = rc;
  bp__aws_json_errf(c->err, c->errlen, "GetRecords: %s", msg);
  return 0;
}

static int copy(dctx *c, const char *s, size_t n, bp__aws_span *sp) {
  if (bp__aws_recpage_copy(c->p, s, n, sp) != 0) return fail(c, BP_ERR_NOMEM, "out of memory");
  return 1;
}

static int record_end(dctx *c) {
  const bp__aws_recspans *s = &c->p->spans[c->cur];
  if (!s->event_id.set) return fail(c, BP_ERR_INVALID_JSON, "a record without eventID");
  if (!s->event_name.set) return fail(c, BP_ERR_INVALID_JSON, "a record without eventName");
  if (!s->dynamodb.set) return fail(c, BP_ERR_INVALID_JSON, "a record without dynamodb");
  if (!s->seq.set || s->seq.len == 0)
    return fail(c, BP_ERR_INVALID_JSON, "a record without dynamodb.SequenceNumber");
  if (!s->has_arrival)
    return fail(c, BP_ERR_INVALID_JSON, "a record without dynamodb.ApproximateCreationDateTime");
  return 1;
}

/* A '{' just read: the offset of its first byte. */
static int open_span(dctx *c, size_t pos) {
  if (pos == 0 || c->body[pos - 1] != '{') return fail(c, BP_ERR_INVALID_JSON, "cannot locate an object");
  c->span_start = pos - 1;
  return 1;
}

static int top_value(dctx *c, int ev, const char *s, size_t n) {
  if (c->top_key == K_RECORDS) {
    if (ev != BP__AWS_JSON_ARRAY_START) return fail(c, BP_ERR_INVALID_JSON, "Records is not an array");
    c->in_records = 1;
    c->saw_records = 1;
  } else if (c->top_key == K_NEXT) {
    if (ev == BP__AWS_JSON_NULL) {
      c->p->next_iterator_span.set = 0;
      return 1;
    }
    if (ev != BP__AWS_JSON_STRING || n == 0)
      return fail(c, BP_ERR_INVALID_JSON, "NextShardIterator is not a string");
    return copy(c, s, n, &c->p->next_iterator_span);
  }
  return 1;
}

static int record_value(dctx *c, int ev, const char *s, size_t n, size_t pos) {
  bp__aws_recspans *r = &c->p->spans[c->cur];
  switch (c->rec_key) {
  case R_EVENT_ID:
  case R_EVENT_NAME:
    if (ev != BP__AWS_JSON_STRING) return fail(c, BP_ERR_INVALID_JSON, "eventID or eventName is not a string");
    return copy(c, s, n, c->rec_key == R_EVENT_ID ? &r->event_id : &r->event_name);
  case R_DYNAMODB:
    if (ev != BP__AWS_JSON_MAP_START) return fail(c, BP_ERR_INVALID_JSON, "dynamodb is not an object");
    c->ddb_open = 1;
    c->ddb_key = D_OTHER;
    c->first_attr = 0;
    return open_span(c, pos);
  case R_USER_IDENTITY:
    if (ev == BP__AWS_JSON_NULL) return 1;
    if (ev != BP__AWS_JSON_MAP_START) return fail(c, BP_ERR_INVALID_JSON, "userIdentity is not an object");
    c->uid_open = 1;
    return open_span(c, pos);
  default:
    return 1;
  }
}

static int dynamodb_value(dctx *c, int ev, const char *s, size_t n) {
  bp__aws_recspans *r = &c->p->spans[c->cur];
  switch (c->ddb_key) {
  case D_SEQ:
    if (ev != BP__AWS_JSON_STRING) return fail(c, BP_ERR_INVALID_JSON, "SequenceNumber is not a string");
    return copy(c, s, n, &r->seq);
  case D_CREATED:
    if (ev != BP__AWS_JSON_NUMBER || bp__aws_seconds_to_ms(s, n, &r->arrival_ms) != 0)
      return fail(c, BP_ERR_INVALID_JSON,
                  "ApproximateCreationDateTime is not a number of seconds in range");
    r->has_arrival = 1;
    return 1;
  case D_KEYS:
    if (ev != BP__AWS_JSON_MAP_START) return fail(c, BP_ERR_INVALID_JSON, "Keys is not an object");
    c->keys_open = 1;
    return 1;
  default:
    return 1;
  }
}

static int on_key(dctx *c, const char *s, size_t n) {
  int d = c->depth;
  if (d == 1)
    c->top_key = is_key(s, n, "Records") ? K_RECORDS
                 : is_key(s, n, "NextShardIterator") ? K_NEXT
                                                     : K_OTHER;
  else if (d == 3 && c->in_records)
    c->rec_key = is_key(s, n, "eventID") ? R_EVENT_ID
                 : is_key(s, n, "eventName") ? R_EVENT_NAME
                 : is_key(s, n, "dynamodb") ? R_DYNAMODB
                 : is_key(s, n, "userIdentity") ? R_USER_IDENTITY
                                                : R_OTHER;
  else if (d == 4 && c->ddb_open)
    c->ddb_key = is_key(s, n, "SequenceNumber") ? D_SEQ
                 : is_key(s, n, "ApproximateCreationDateTime") ? D_CREATED
                 : is_key(s, n, "Keys") ? D_KEYS
                                        : D_OTHER;
  else if (d == 5 && c->keys_open && c->first_attr == 0)
    c->first_attr = 1;
  return 1;
}

static int on_close(dctx *c, int ev, size_t pos) {
  bp__aws_recspans *r;
  c->depth--;
  if (!c->in_records) return 1;
  if (c->depth == 1) {
    c->in_records = 0;
    return 1;
  }
  if (c->depth == 2 && ev == BP__AWS_JSON_MAP_END) return record_end(c);
  r = &c->p->spans[c->cur];
  if (c->depth == 3 && (c->ddb_open || c->uid_open)) {
    bp__aws_span *sp = c->ddb_open ? &r->dynamodb : &r->user_identity;
    c->ddb_open = c->uid_open = 0;
    return copy(c, c->body + c->span_start, pos - c->span_start, sp);
  }
  if (c->depth == 4 && c->keys_open) c->keys_open = 0;
  if (c->depth == 5 && c->keys_open && c->first_attr == 1) c->first_attr = 2;
  return 1;
}

static int on_event(void *ctx, int ev, const char *s, size_t n, size_t pos) {
  dctx *c = ctx;
  int d = c->depth;
  if (ev == BP__AWS_JSON_KEY) return on_key(c, s, n);
  if (ev == BP__AWS_JSON_MAP_END || ev == BP__AWS_JSON_ARRAY_END) return on_close(c, ev, pos);
  if (ev == BP__AWS_JSON_MAP_START || ev == BP__AWS_JSON_ARRAY_START) c->depth++;
  if (d == 0) {
    if (ev != BP__AWS_JSON_MAP_START) return fail(c, BP_ERR_INVALID_JSON, "the response is not an object");
    return 1;
  }
  if (d == 1) return top_value(c, ev, s, n);
  if (!c->in_records) return 1;
  if (d == 2) {
    if (ev != BP__AWS_JSON_MAP_START) return fail(c, BP_ERR_INVALID_JSON, "a record is not an object");
    c->cur = bp__aws_recpage_add(c->p);
    c->rec_key = R_OTHER;
    if (c->cur < 0) return fail(c, BP_ERR_NOMEM, "out of memory");
    return 1;
  }
  if (d == 3) return record_value(c, ev, s, n, pos);
  if (d == 4 && c->ddb_open) return dynamodb_value(c, ev, s, n);
  /* the scalar of the first key attribute: {"id": {"S": "abc"}} gives abc */
  if (d == 6 && c->keys_open && c->first_attr == 1 && ev == BP__AWS_JSON_STRING &&
      !c->p->spans[c->cur].partition_key.set)
    return copy(c, s, n, &c->p->spans[c->cur].partition_key);
  return 1;
}

int bp__aws_ddb_parse_get_records(bp__aws_recpage *p, const char *body, size_t len, char *err,
                                  size_t errlen) {
  dctx c;
  int rc;
  memset(&c, 0, sizeof c);
  c.p = p;
  c.body = body;
  c.err = err;
  c.errlen = errlen;
  bp__aws_recpage_reset(p);
  rc = bp__aws_json_walk(body, len, on_event, &c, "GetRecords", err, errlen);
  if (rc != 0) {
    bp__aws_recpage_reset(p);
    return c.rc != 0 ? c.rc : rc;
  }
  if (!c.saw_records) {
    bp__aws_recpage_reset(p);
    bp__aws_json_errf(err, errlen, "GetRecords: no Records array in the response");
    return BP_ERR_INVALID_JSON;
  }
  bp__aws_recpage_finish(p);
  return 0;
}
