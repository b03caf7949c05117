/* SPDX-License-Identifier: MIT */
/* Kinesis response parsing: see bp_aws_kinesis_json.h. */
#include "bp_aws_kinesis_json.h"

#include <stdlib.h>
#include <string.h>

/* ---- ListShards ---- */

int bp__aws_kin_parse_list_shards(const char *body, size_t len, bp__aws_shardlist *acc,
                                  char **next_token, char *err, size_t errlen) {
  const char *path[] = {"Shards", NULL};
  yajl_val root = bp__aws_json_tree(body, len, "ListShards", err, errlen), shards;
  const char *tok;
  int bad = 0, rc;
  *next_token = NULL;
  if (root == NULL) return BP_ERR_INVALID_JSON;
  shards = yajl_tree_get(root, path, yajl_t_any);
  rc = bp__aws_parse_shard_array(shards, acc, "ListShards", err, errlen);
  tok = bp__aws_json_opt_string(root, "NextToken", &bad);
  if (rc == 0 && bad) {
    bp__aws_json_errf(err, errlen, "ListShards: NextToken is not a string");
    rc = BP_ERR_INVALID_JSON;
  }
  if (rc == 0 && tok != NULL && tok[0] != '\0') {
    size_t n = strlen(tok);
    *next_token = malloc(n + 1);
    if (*next_token == NULL)
      rc = BP_ERR_NOMEM;
    else
      memcpy(*next_token, tok, n + 1);
  }
  yajl_tree_free(root);
  return rc;
}

/* ---- GetRecords ---- */

enum { K_OTHER, K_RECORDS, K_NEXT, K_MILLIS };
enum { R_OTHER, R_SEQ, R_PK, R_DATA, R_ARRIVAL, R_ENC };

typedef struct kctx {
  bp__aws_recpage *p;
  int depth;      /* containers open */
  int top_key;    /* the key of the top object's member being read (K_*) */
  int rec_key;    /* the key of the record's member being read (R_*) */
  int in_records; /* inside the Records array (depth 2) */
  int saw_records;
  long cur;       /* the record being read */
  int rc;
  char *err;
  size_t errlen;
} kctx;

static int is_key(const char *s, size_t n, const char *k) {
  return strlen(k) == n && memcmp(s, k, n) == 0;
}

static int fail(kctx *c, int rc, const char *msg) {
  c->rc = rc;
  bp__aws_json_errf(c->err, c->errlen, "GetRecords: %s", msg);
  return 0;
}

static int copy(kctx *c, const char *s, size_t n, bp__aws_span *sp) {
  if (bp__aws_recpage_copy(c->p, s, n, sp) != 0) return fail(c, BP_ERR_NOMEM, "out of memory");
  return 1;
}

/* A non-negative integer of at most 18 digits (MillisBehindLatest). */
static int parse_millis(const char *s, size_t n, int64_t *out) {
  int64_t v = 0;
  size_t i;
  if (n == 0 || n > 18) return -1;
  for (i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

static int record_end(kctx *c) {
  const bp__aws_recspans *s = &c->p->spans[c->cur];
  if (!s->seq.set || s->seq.len == 0) return fail(c, BP_ERR_INVALID_JSON, "a record without SequenceNumber");
  if (!s->partition_key.set) return fail(c, BP_ERR_INVALID_JSON, "a record without PartitionKey");
  if (!s->data.set) return fail(c, BP_ERR_INVALID_JSON, "a record without Data");
  if (!s->has_arrival)
    return fail(c, BP_ERR_INVALID_JSON, "a record without ApproximateArrivalTimestamp");
  return 1;
}

static int top_value(kctx *c, int ev, const char *s, size_t n) {
  switch (c->top_key) {
  case K_RECORDS:
    if (ev != BP__AWS_JSON_ARRAY_START) return fail(c, BP_ERR_INVALID_JSON, "Records is not an array");
    c->in_records = 1;
    c->saw_records = 1;
    return 1;
  case K_NEXT:
    if (ev == BP__AWS_JSON_NULL) {
      c->p->next_iterator_span.set = 0;
      return 1;
    }
    if (ev != BP__AWS_JSON_STRING || n == 0)
      return fail(c, BP_ERR_INVALID_JSON, "NextShardIterator is not a string");
    return copy(c, s, n, &c->p->next_iterator_span);
  case K_MILLIS:
    if (ev != BP__AWS_JSON_NUMBER || parse_millis(s, n, &c->p->millis_behind) != 0)
      return fail(c, BP_ERR_INVALID_JSON, "MillisBehindLatest is not a non-negative integer");
    return 1;
  default:
    return 1;
  }
}

static int record_value(kctx *c, int ev, const char *s, size_t n) {
  bp__aws_recspans *r = &c->p->spans[c->cur];
  bp__aws_span *sp;
  switch (c->rec_key) {
  case R_SEQ: sp = &r->seq; break;
  case R_PK: sp = &r->partition_key; break;
  case R_DATA: sp = &r->data; break;
  case R_ENC: sp = &r->encryption_type; break;
  case R_ARRIVAL:
    if (ev != BP__AWS_JSON_NUMBER || bp__aws_seconds_to_ms(s, n, &r->arrival_ms) != 0)
      return fail(c, BP_ERR_INVALID_JSON,
                  "ApproximateArrivalTimestamp is not a number of seconds in range");
    r->has_arrival = 1;
    return 1;
  default:
    return 1;
  }
  if (ev == BP__AWS_JSON_NULL && c->rec_key == R_ENC) return 1; /* optional */
  if (ev != BP__AWS_JSON_STRING) return fail(c, BP_ERR_INVALID_JSON, "a record member of the wrong type");
  return copy(c, s, n, sp);
}

static int on_event(void *ctx, int ev, const char *s, size_t n, size_t pos) {
  kctx *c = ctx;
  int d = c->depth;
  (void)pos;
  if (ev == BP__AWS_JSON_KEY) {
    if (d == 1)
      c->top_key = is_key(s, n, "Records") ? K_RECORDS
                   : is_key(s, n, "NextShardIterator") ? K_NEXT
                   : is_key(s, n, "MillisBehindLatest") ? K_MILLIS
                                                        : K_OTHER;
    else if (d == 3 && c->in_records)
      c->rec_key = is_key(s, n, "SequenceNumber") ? R_SEQ
                   : is_key(s, n, "PartitionKey") ? R_PK
                   : is_key(s, n, "Data") ? R_DATA
                   : is_key(s, n, "ApproximateArrivalTimestamp") ? R_ARRIVAL
                   : is_key(s, n, "EncryptionType") ? R_ENC
                                                    : R_OTHER;
    return 1;
  }
  if (ev == BP__AWS_JSON_MAP_END || ev == BP__AWS_JSON_ARRAY_END) {
    c->depth--;
    if (c->in_records && c->depth == 2 && ev == BP__AWS_JSON_MAP_END) return record_end(c);
    if (c->in_records && c->depth == 1) c->in_records = 0;
    return 1;
  }
  /* a value at depth d: a scalar, or a container that opens */
  if (ev == BP__AWS_JSON_MAP_START || ev == BP__AWS_JSON_ARRAY_START) c->depth++;
  if (d == 0) {
    if (ev != BP__AWS_JSON_MAP_START) return fail(c, BP_ERR_INVALID_JSON, "the response is not an object");
    return 1;
  }
  if (d == 1) return top_value(c, ev, s, n);
  if (d == 2 && c->in_records) {
    if (ev != BP__AWS_JSON_MAP_START) return fail(c, BP_ERR_INVALID_JSON, "a record is not an object");
    c->cur = bp__aws_recpage_add(c->p);
    c->rec_key = R_OTHER;
    if (c->cur < 0) return fail(c, BP_ERR_NOMEM, "out of memory");
    return 1;
  }
  if (d == 3 && c->in_records) return record_value(c, ev, s, n);
  return 1;
}

int bp__aws_kin_parse_get_records(bp__aws_recpage *p, const char *body, size_t len, char *err,
                                  size_t errlen) {
  kctx c;
  int rc;
  memset(&c, 0, sizeof c);
  c.p = p;
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

/* ---- ARNs ---- */

int bp__aws_kin_stream_name(const char *arn, char *out, size_t cap) {
  const char *s = strstr(arn != NULL ? arn : "", ":stream/");
  size_t n;
  if (strncmp(arn != NULL ? arn : "", "arn:", 4) != 0 || s == NULL) return -1;
  s += strlen(":stream/");
  n = strcspn(s, "/");
  if (n == 0 || s[n] != '\0' || n >= cap) return -1;
  memcpy(out, s, n);
  out[n] = '\0';
  return 0;
}
