/* SPDX-License-Identifier: MIT */
/* DynamoDB Streams response parsing: see bp_aws_ddbstreams_json.h. */
#include "bp_aws_ddbstreams_json.h"

#include <string.h>

/* ---- DescribeStream ---- */

int bp__aws_ddb_parse_describe_stream(const char *body, size_t len, bp__aws_shardlist *acc,
                                      char **last_shard, char *err, size_t errlen) {
  const char *dpath[] = {"StreamDescription", NULL};
  const char *spath[] = {"Shards", NULL};
  yajl_val root = bp__aws_json_tree(body, len, "DescribeStream", err, errlen), desc;
  int rc;
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
  if (rc == 0)
    rc = bp__aws_json_dup_opt_string(desc, "LastEvaluatedShardId", last_shard, "DescribeStream",
                                     err, errlen);
  yajl_tree_free(root);
  return rc;
}

/* ---- GetRecords ---- */

/* The members the reader keeps, numbered as bp__aws_json_key_index() does. */
enum { R_OTHER, R_EVENT_ID, R_EVENT_NAME, R_DYNAMODB, R_USER_IDENTITY };
static const char *const record_keys[] = {"eventID", "eventName", "dynamodb", "userIdentity", NULL};
enum { D_OTHER, D_SEQ, D_CREATED, D_KEYS };
static const char *const dynamodb_keys[] = {"SequenceNumber", "ApproximateCreationDateTime", "Keys",
                                            NULL};

typedef struct dctx {
  int rec_key;     /* R_*: member of the record being read */
  int ddb_key;     /* D_*: member of the record's dynamodb object being read */
  int ddb_open;    /* inside the record's dynamodb object (depth 4 and deeper) */
  int uid_open;    /* inside its userIdentity object */
  size_t span_start;
  int keys_open;   /* inside dynamodb.Keys (depth 5) */
  int first_attr;  /* 0: no attribute of Keys yet; 1: reading the first; 2: done */
} dctx;

static int record_end(bp__aws_records_walk *w) {
  const bp__aws_recspans *s = &w->p->spans[w->cur];
  if (!s->event_id.set) return bp__aws_records_fail(w, BP_ERR_INVALID_JSON, "a record without eventID");
  if (!s->event_name.set)
    return bp__aws_records_fail(w, BP_ERR_INVALID_JSON, "a record without eventName");
  if (!s->dynamodb.set) return bp__aws_records_fail(w, BP_ERR_INVALID_JSON, "a record without dynamodb");
  if (!s->seq.set || s->seq.len == 0)
    return bp__aws_records_fail(w, BP_ERR_INVALID_JSON, "a record without dynamodb.SequenceNumber");
  if (!s->has_arrival)
    return bp__aws_records_fail(w, BP_ERR_INVALID_JSON,
                                "a record without dynamodb.ApproximateCreationDateTime");
  return 1;
}

/* A '{' just read: the offset of its first byte. */
static int open_span(bp__aws_records_walk *w, dctx *c, size_t pos) {
  if (pos == 0 || w->body[pos - 1] != '{')
    return bp__aws_records_fail(w, BP_ERR_INVALID_JSON, "cannot locate an object");
  c->span_start = pos - 1;
  return 1;
}

static int record_value(bp__aws_records_walk *w, dctx *c, int ev, const char *s, size_t n,
                        size_t pos) {
  bp__aws_recspans *r = &w->p->spans[w->cur];
  switch (c->rec_key) {
  case R_EVENT_ID:
  case R_EVENT_NAME:
    if (ev != BP__AWS_JSON_STRING)
      return bp__aws_records_fail(w, BP_ERR_INVALID_JSON, "eventID or eventName is not a string");
    return bp__aws_records_copy(w, s, n, c->rec_key == R_EVENT_ID ? &r->event_id : &r->event_name);
  case R_DYNAMODB:
    if (ev != BP__AWS_JSON_MAP_START)
      return bp__aws_records_fail(w, BP_ERR_INVALID_JSON, "dynamodb is not an object");
    c->ddb_open = 1;
    c->ddb_key = D_OTHER;
    c->first_attr = 0;
    return open_span(w, c, pos);
  case R_USER_IDENTITY:
    if (ev == BP__AWS_JSON_NULL) return 1;
    if (ev != BP__AWS_JSON_MAP_START)
      return bp__aws_records_fail(w, BP_ERR_INVALID_JSON, "userIdentity is not an object");
    c->uid_open = 1;
    return open_span(w, c, pos);
  default:
    return 1;
  }
}

static int dynamodb_value(bp__aws_records_walk *w, dctx *c, int ev, const char *s, size_t n) {
  bp__aws_recspans *r = &w->p->spans[w->cur];
  switch (c->ddb_key) {
  case D_SEQ:
    if (ev != BP__AWS_JSON_STRING)
      return bp__aws_records_fail(w, BP_ERR_INVALID_JSON, "SequenceNumber is not a string");
    return bp__aws_records_copy(w, s, n, &r->seq);
  case D_CREATED:
    if (ev != BP__AWS_JSON_NUMBER || bp__aws_seconds_to_ms(s, n, &r->arrival_ms) != 0)
      return bp__aws_records_fail(w, BP_ERR_INVALID_JSON,
                                  "ApproximateCreationDateTime is not a number of seconds in range");
    r->has_arrival = 1;
    return 1;
  case D_KEYS:
    if (ev != BP__AWS_JSON_MAP_START)
      return bp__aws_records_fail(w, BP_ERR_INVALID_JSON, "Keys is not an object");
    c->keys_open = 1;
    return 1;
  default:
    return 1;
  }
}

static int on_key(dctx *c, const char *s, size_t n, int depth) {
  if (depth == 3)
    c->rec_key = bp__aws_json_key_index(s, n, record_keys);
  else if (depth == 4 && c->ddb_open)
    c->ddb_key = bp__aws_json_key_index(s, n, dynamodb_keys);
  else if (depth == 5 && c->keys_open && c->first_attr == 0)
    c->first_attr = 1;
  return 1;
}

/* The end of a container inside a record: @p depth containers are still open. */
static int on_close(bp__aws_records_walk *w, dctx *c, size_t pos, int depth) {
  bp__aws_recspans *r = &w->p->spans[w->cur];
  if (depth == 3 && (c->ddb_open || c->uid_open)) {
    bp__aws_span *sp = c->ddb_open ? &r->dynamodb : &r->user_identity;
    c->ddb_open = c->uid_open = 0;
    return bp__aws_records_copy(w, w->body + c->span_start, pos - c->span_start, sp);
  }
  if (depth == 4 && c->keys_open) c->keys_open = 0;
  if (depth == 5 && c->keys_open && c->first_attr == 1) c->first_attr = 2;
  return 1;
}

static int in_record(bp__aws_records_walk *w, int ev, const char *s, size_t n, size_t pos,
                     int depth) {
  dctx *c = w->ctx;
  bp__aws_span *pk = &w->p->spans[w->cur].partition_key;
  if (ev == BP__AWS_JSON_KEY) return on_key(c, s, n, depth);
  if (ev == BP__AWS_JSON_MAP_END || ev == BP__AWS_JSON_ARRAY_END) return on_close(w, c, pos, depth);
  if (depth == 3) return record_value(w, c, ev, s, n, pos);
  if (depth == 4 && c->ddb_open) return dynamodb_value(w, c, ev, s, n);
  /* the scalar of the first key attribute: {"id": {"S": "abc"}} gives abc */
  if (depth == 6 && c->keys_open && c->first_attr == 1 && ev == BP__AWS_JSON_STRING && !pk->set)
    return bp__aws_records_copy(w, s, n, pk);
  return 1;
}

static const bp__aws_records_dialect ddb_records = {in_record, record_end, 0};

int bp__aws_ddb_parse_get_records(bp__aws_recpage *p, const char *body, size_t len, char *err,
                                  size_t errlen) {
  dctx c;
  memset(&c, 0, sizeof c);
  return bp__aws_parse_records(p, body, len, &ddb_records, &c, err, errlen);
}
