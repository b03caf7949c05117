/* SPDX-License-Identifier: MIT */
/*
 * bpfilter_record.c: a Lambda Kinesis or DynamoDB record (the JSON of one element of
 * `Records`, SEMANTICS.md §1.1 / §1.2) turned into the library's record view and a codec, so
 * that bp_filter_match_record() evaluates patterns on exactly the filter view the engine
 * uses (SEMANTICS.md §7.2): the record as the codec delivers it, plus the decoded `data`.
 *
 * The view is rebuilt from the record's fields, so constant fields (eventSource,
 * eventVersion, ...) are Lambda's whatever the line says.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfilter.h"

/* Stand-ins for mapping-wide fields a hand-written record may leave out. */
#define PLACEHOLDER_KINESIS_ARN "arn:aws:kinesis:us-east-1:000000000000:stream/bpfilter"
#define PLACEHOLDER_DDB_ARN \
  "arn:aws:dynamodb:us-east-1:000000000000:table/bpfilter/stream/1970-01-01T00:00:00.000"
#define PLACEHOLDER_ROLE "arn:aws:iam::000000000000:role/bpfilter"
#define PLACEHOLDER_SHARD "shardId-000000000000"

static int fail(char *err, size_t errlen, const char *field, const char *what) {
  snprintf(err, errlen, "%s %s", field, what);
  return -1;
}

/* A required string member: 0, or -1 naming @p field. */
static int need_string(yajl_val obj, const char *key, const char *field, const char **out,
                       char *err, size_t errlen) {
  *out = bpf_string(bpf_member(obj, key));
  return *out ? 0 : fail(err, errlen, field, "is missing or not a string");
}

/* An optional string member: absent is fine (NULL), another type is not. */
static int opt_string(yajl_val obj, const char *key, const char *field, const char **out, char *err,
                      size_t errlen) {
  yajl_val v = bpf_member(obj, key);
  *out = bpf_string(v);
  return v && !*out ? fail(err, errlen, field, "is not a string") : 0;
}

/*
 * Epoch seconds as Lambda writes them (digits, optionally '.' and a fraction) to epoch ms,
 * truncated to the millisecond as the codec compares them. -1 for any other number (the
 * token is valid JSON already: only a sign or an exponent can be left to refuse).
 */
static int64_t seconds_to_ms(yajl_val v) {
  if (!YAJL_IS_NUMBER(v)) return -1;
  int64_t ms = 0;
  int digits = 0, frac = -1;
  for (const char *s = v->u.number.r; *s; s++) {
    if (*s == '.') {
      frac = 0;
    } else if (*s >= '0' && *s <= '9') {
      if (frac >= 3) continue; /* below the millisecond */
      if (++digits > 16) return -1;
      ms = ms * 10 + (*s - '0');
      if (frac >= 0) frac++;
    } else {
      return -1;
    }
  }
  for (frac = frac < 0 ? 0 : frac; frac < 3; frac++) ms *= 10;
  return ms;
}

static int need_seconds(yajl_val obj, const char *key, const char *field, int64_t *ms, char *err,
                        size_t errlen) {
  *ms = seconds_to_ms(bpf_member(obj, key));
  if (*ms >= 0) return 0;
  return fail(err, errlen, field, "is missing or not epoch seconds (like 1545084650.987)");
}

/* eventSourceARN, awsRegion and (Kinesis) invokeIdentityArn, or their stand-ins. */
static int mapping_fields(yajl_val v, bpf_record *r, int placeholders, char *err, size_t errlen) {
  int kinesis = r->source == BP_SOURCE_KINESIS;
  if (opt_string(v, "eventSourceARN", "eventSourceARN", &r->arn, err, errlen) ||
      opt_string(v, "awsRegion", "awsRegion", &r->region, err, errlen) ||
      (kinesis && opt_string(v, "invokeIdentityArn", "invokeIdentityArn", &r->role, err, errlen)))
    return -1;
  if (!placeholders) { /* the record must carry them all */
    if (!r->arn) return fail(err, errlen, "eventSourceARN", "is missing");
    if (!r->region) return fail(err, errlen, "awsRegion", "is missing");
    if (kinesis && !r->role) return fail(err, errlen, "invokeIdentityArn", "is missing");
  }
  if (!r->arn) r->arn = kinesis ? PLACEHOLDER_KINESIS_ARN : PLACEHOLDER_DDB_ARN;
  if (kinesis && !r->role) r->role = PLACEHOLDER_ROLE;
  return 0;
}

static int kinesis_record(yajl_val v, bpf_record *r, int placeholders, char *err, size_t errlen) {
  yajl_val k = bpf_member(v, "kinesis");
  if (!YAJL_IS_OBJECT(k)) return fail(err, errlen, "kinesis", "is missing or not an object");
  const char *data, *key, *seq, *enc, *id;
  int64_t ms;
  if (need_string(k, "data", "kinesis.data", &data, err, errlen) ||
      need_string(k, "partitionKey", "kinesis.partitionKey", &key, err, errlen) ||
      need_string(k, "sequenceNumber", "kinesis.sequenceNumber", &seq, err, errlen) ||
      need_seconds(k, "approximateArrivalTimestamp", "kinesis.approximateArrivalTimestamp", &ms,
                   err, errlen) ||
      opt_string(k, "encryptionType", "kinesis.encryptionType", &enc, err, errlen) ||
      opt_string(v, "eventID", "eventID", &id, err, errlen))
    return -1;
  if (!id && !placeholders) return fail(err, errlen, "eventID", "is missing");
  /* eventID is "<shardId>:<sequenceNumber>": the shard is the part before the colon. */
  const char *colon = id ? strchr(id, ':') : NULL;
  if (id && (!colon || colon == id || (size_t)(colon - id) >= sizeof r->shard))
    return fail(err, errlen, "eventID", "is not <shardId>:<sequenceNumber>");
  if (id) {
    memcpy(r->shard, id, (size_t)(colon - id));
    r->shard[colon - id] = '\0';
  } else {
    snprintf(r->shard, sizeof r->shard, "%s", PLACEHOLDER_SHARD);
  }
  r->view.seq = seq;
  r->view.seq_len = strlen(seq);
  r->view.arrival_ms = ms;
  r->view.partition_key = key;
  r->view.partition_key_len = strlen(key);
  r->view.data = (const uint8_t *)data; /* base64 as delivered: the library decodes it */
  r->view.data_len = strlen(data);
  r->view.flags = BP_RECORD_DATA_BASE64;
  if (enc) {
    r->view.encryption_type = enc;
    r->view.encryption_type_len = strlen(enc);
  }
  return mapping_fields(v, r, placeholders, err, errlen);
}

static int dynamodb_record(yajl_val v, bpf_record *r, int placeholders, char *err, size_t errlen) {
  const char *id, *name, *seq;
  int64_t ms;
  yajl_val ddb = bpf_member(v, "dynamodb"), uid = bpf_member(v, "userIdentity");
  if (need_string(v, "eventID", "eventID", &id, err, errlen) ||
      need_string(v, "eventName", "eventName", &name, err, errlen))
    return -1;
  if (!YAJL_IS_OBJECT(ddb)) return fail(err, errlen, "dynamodb", "is missing or not an object");
  if (need_string(ddb, "SequenceNumber", "dynamodb.SequenceNumber", &seq, err, errlen) ||
      need_seconds(ddb, "ApproximateCreationDateTime", "dynamodb.ApproximateCreationDateTime", &ms,
                   err, errlen))
    return -1;
  if (uid && !YAJL_IS_OBJECT(uid)) return fail(err, errlen, "userIdentity", "is not an object");
  r->ddb_text = bpf_json_text(ddb);
  r->user_identity = uid ? bpf_json_text(uid) : NULL;
  if (!r->ddb_text || (uid && !r->user_identity)) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  r->view.seq = seq;
  r->view.seq_len = strlen(seq);
  r->view.arrival_ms = ms;
  r->view.event_id = id;
  r->view.event_id_len = strlen(id);
  r->view.event_name = name;
  r->view.event_name_len = strlen(name);
  r->view.dynamodb_json = r->ddb_text;
  r->view.dynamodb_json_len = strlen(r->ddb_text);
  if (r->user_identity) {
    r->view.user_identity_json = r->user_identity;
    r->view.user_identity_json_len = strlen(r->user_identity);
  }
  return mapping_fields(v, r, placeholders, err, errlen);
}

int bpf_record_build(yajl_val v, int source, int placeholders, bpf_record *r, char *err,
                     size_t errlen) {
  memset(r, 0, sizeof *r);
  bp_record_init(&r->view, sizeof r->view);
  r->source = source;
  if (!YAJL_IS_OBJECT(v)) {
    snprintf(err, errlen, "the record is not a JSON object");
    return -1;
  }
  int rc = source == BP_SOURCE_KINESIS ? kinesis_record(v, r, placeholders, err, errlen)
                                       : dynamodb_record(v, r, placeholders, err, errlen);
  if (rc) bpf_record_free(r);
  return rc;
}

void bpf_record_free(bpf_record *r) {
  free(r->ddb_text);
  free(r->user_identity);
  r->ddb_text = r->user_identity = NULL;
}

/* ---- codecs ---- */

static int same(const char *a, const char *b) {
  return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static char *dup_or_null(const char *s, int *oom) {
  if (!s) return NULL;
  char *d = strdup(s);
  if (!d) *oom = 1;
  return d;
}

bp_codec *bpf_codec_for(bpf_codecs *cc, const bpf_record *r, char *err, size_t errlen) {
  if (cc->codec && cc->source == r->source && same(cc->arn, r->arn) &&
      same(cc->region, r->region) && same(cc->role, r->role))
    return cc->codec;
  bpf_codecs_free(cc);
  bp_codec_opts o = {sizeof(bp_codec_opts), r->source, r->arn, r->region, r->role, NULL};
  int rc = bp_codec_new(&cc->codec, &o, NULL);
  if (rc) {
    snprintf(err, errlen, "eventSourceARN/awsRegion%s not usable: %s",
             r->source == BP_SOURCE_KINESIS ? "/invokeIdentityArn" : "", bp_strerror(rc));
    return NULL;
  }
  int oom = 0;
  cc->source = r->source;
  cc->arn = dup_or_null(r->arn, &oom);
  cc->region = dup_or_null(r->region, &oom);
  cc->role = dup_or_null(r->role, &oom);
  if (oom) {
    bpf_codecs_free(cc);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  return cc->codec;
}

void bpf_codecs_free(bpf_codecs *cc) {
  bp_codec_del(cc->codec);
  free(cc->arn);
  free(cc->region);
  free(cc->role);
  memset(cc, 0, sizeof *cc);
}

/* The library's record messages start "record 0: " (an index into a batch): not ours. */
static void copy_reason(char *err, size_t errlen, const char *msg, int rc) {
  static const char prefix[] = "record 0: ";
  if (!msg[0]) msg = bp_strerror(rc);
  if (strncmp(msg, prefix, sizeof prefix - 1) == 0) msg += sizeof prefix - 1;
  snprintf(err, errlen, "%s", msg);
}

int bpf_match_record(bp_filter *f, bp_codec *codec, const bpf_record *r, int *result, char *err,
                     size_t errlen) {
  /* Validate first: the filter skips the parts of a record no pattern reads, and a malformed
   * record should be reported whatever the patterns are. */
  size_t size = 0;
  int rc = bp_codec_record_size(codec, r->shard, &r->view, &size);
  if (rc) {
    copy_reason(err, errlen, bp_codec_errmsg(codec), rc);
    return -1;
  }
  rc = bp_filter_match_record(f, codec, r->shard, &r->view, result);
  if (rc) {
    copy_reason(err, errlen, bp_filter_errmsg(f), rc);
    return -1;
  }
  return 0;
}
