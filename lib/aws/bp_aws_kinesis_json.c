/* SPDX-License-Identifier: MIT */
/* Kinesis response parsing: see bp_aws_kinesis_json.h. */
#include "bp_aws_kinesis_json.h"

#include <string.h>

/* ---- ListShards ---- */

int bp__aws_kin_parse_list_shards(const char *body, size_t len, bp__aws_shardlist *acc,
                                  char **next_token, char *err, size_t errlen) {
  const char *path[] = {"Shards", NULL};
  yajl_val root = bp__aws_json_tree(body, len, "ListShards", err, errlen);
  int rc;
  *next_token = NULL;
  if (root == NULL) return BP_ERR_INVALID_JSON;
  rc = bp__aws_parse_shard_array(yajl_tree_get(root, path, yajl_t_any), acc, "ListShards", err,
                                 errlen);
  if (rc == 0) rc = bp__aws_json_dup_opt_string(root, "NextToken", next_token, "ListShards", err, errlen);
  yajl_tree_free(root);
  return rc;
}

/* ---- GetRecords ---- */

/* The members of a record the reader keeps, numbered as bp__aws_json_key_index() does. */
enum { R_OTHER, R_SEQ, R_PK, R_DATA, R_ARRIVAL, R_ENC };
static const char *const record_keys[] = {"SequenceNumber", "PartitionKey", "Data",
                                          "ApproximateArrivalTimestamp", "EncryptionType", NULL};

typedef struct kctx {
  int rec_key; /* R_*: the record's member being read */
} kctx;

static int record_end(bp__aws_records_walk *w) {
  const bp__aws_recspans *s = &w->p->spans[w->cur];
  if (!s->seq.set || s->seq.len == 0)
    return bp__aws_records_fail(w, BP_ERR_INVALID_JSON, "a record without SequenceNumber");
  if (!s->partition_key.set)
    return bp__aws_records_fail(w, BP_ERR_INVALID_JSON, "a record without PartitionKey");
  if (!s->data.set) return bp__aws_records_fail(w, BP_ERR_INVALID_JSON, "a record without Data");
  if (!s->has_arrival)
    return bp__aws_records_fail(w, BP_ERR_INVALID_JSON, "a record without ApproximateArrivalTimestamp");
  return 1;
}

static int record_value(bp__aws_records_walk *w, int rec_key, int ev, const char *s, size_t n) {
  bp__aws_recspans *r = &w->p->spans[w->cur];
  bp__aws_span *sp;
  switch (rec_key) {
  case R_SEQ: sp = &r->seq; break;
  case R_PK: sp = &r->partition_key; break;
  case R_DATA: sp = &r->data; break;
  case R_ENC: sp = &r->encryption_type; break;
  case R_ARRIVAL:
    if (ev != BP__AWS_JSON_NUMBER || bp__aws_seconds_to_ms(s, n, &r->arrival_ms) != 0)
      return bp__aws_records_fail(w, BP_ERR_INVALID_JSON,
                                  "ApproximateArrivalTimestamp is not a number of seconds in range");
    r->has_arrival = 1;
    return 1;
  default:
    return 1;
  }
  if (ev == BP__AWS_JSON_NULL && rec_key == R_ENC) return 1; /* optional */
  if (ev != BP__AWS_JSON_STRING)
    return bp__aws_records_fail(w, BP_ERR_INVALID_JSON, "a record member of the wrong type");
  return bp__aws_records_copy(w, s, n, sp);
}

/* A Kinesis record is flat: only its own members (depth 3) matter. */
static int in_record(bp__aws_records_walk *w, int ev, const char *s, size_t n, size_t pos,
                     int depth) {
  kctx *c = w->ctx;
  (void)pos;
  if (depth != 3 || ev == BP__AWS_JSON_MAP_END || ev == BP__AWS_JSON_ARRAY_END) return 1;
  if (ev == BP__AWS_JSON_KEY) {
    c->rec_key = bp__aws_json_key_index(s, n, record_keys);
    return 1;
  }
  return record_value(w, c->rec_key, ev, s, n);
}

static const bp__aws_records_dialect kinesis_records = {in_record, record_end, 1};

int bp__aws_kin_parse_get_records(bp__aws_recpage *p, const char *body, size_t len, char *err,
                                  size_t errlen) {
  kctx c = {R_OTHER};
  return bp__aws_parse_records(p, body, len, &kinesis_records, &c, err, errlen);
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
