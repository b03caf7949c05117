/* SPDX-License-Identifier: MIT */
/*
 * The filter object: lifecycle, adding patterns atomically, and the two ways in: a JSON event
 * as is, or a stream record through its filter view (SEMANTICS.md §7.2): the record exactly
 * as the codec delivers it (Kinesis: its members fed as calls, no text written or parsed;
 * DynamoDB: encoded and parsed), plus for Kinesis the decoded payload under `data`.
 */
#include <string.h>

#include "bp_b64_int.h"
#include "bp_codec_int.h"
#include "bp_filter_int.h"

#define FF_MAX_PATTERN_BYTES (16u << 20) /* keeps pool offsets far inside 32 bits */

int bp_filter_new(bp_filter **out, uint32_t flags, const bp_allocator *alloc) {
  if (out) *out = NULL;
  if (!out || (flags & ~BP_FILTER_STRICT_LAMBDA)) return BP_ERR_INVALID_ARGUMENT;
  bp_allocator a;
  if (bp__alloc_copy(&a, alloc)) return BP_ERR_INVALID_ARGUMENT;
  bp_filter *f = bp__calloc(&a, 1, sizeof *f);
  if (!f) return BP_ERR_NOMEM;
  f->alloc = a;
  f->flags = flags;
  bp__errmsg_clear(&f->err);
  bp__json_pool_init(&f->json, &f->alloc);
  bp__buf_init(&f->pool, &f->alloc);
  bp__buf_init(&f->scratch, &f->alloc);
  bp__buf_init(&f->payload, &f->alloc);
  bp__buf_init(&f->unesc, &f->alloc);
  if (bp__filter_index(f)) {
    bp_filter_del(f);
    return BP_ERR_NOMEM;
  }
  *out = f;
  return 0;
}

void bp_filter_del(bp_filter *f) {
  if (!f) return;
  bp_allocator a = f->alloc;
  bp__json_pool_free(&f->json);
  bp__buf_free(&f->pool);
  bp__buf_free(&f->scratch);
  bp__buf_free(&f->payload);
  bp__buf_free(&f->unesc);
  void *arrays[] = {f->m,    f->c,    f->s,    f->sc,    f->trie, f->seg, f->slot, f->slot_conds,
                    f->crec, f->srec, f->refs, f->nodes, f->lv,   f->steps};
  for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) bp__free(&a, arrays[i]);
  bp__free(&a, f);
}

const char *bp_filter_errmsg(const bp_filter *f) { return f ? f->err.text : ""; }

size_t bp_filter_error_offset(const bp_filter *f) { return f ? f->err.offset : SIZE_MAX; }

int bp_filter_count(const bp_filter *f) { return f ? f->npatterns : 0; }

int bp_filter_uses_data(const bp_filter *f) { return f ? f->uses_data : 0; }

int bp_filter_add(bp_filter *f, const char *pattern, size_t len) {
  if (!f) return BP_ERR_INVALID_ARGUMENT;
  bp__errmsg_clear(&f->err);
  if (!pattern && len) return bp__error(&f->err, BP_ERR_INVALID_ARGUMENT, "pattern is NULL");
  if (f->npatterns >= BP_FILTER_MAX_PATTERNS)
    return bp__error(&f->err, BP_ERR_TOO_LARGE, "a filter holds at most %d patterns",
                     BP_FILTER_MAX_PATTERNS);
  if (len > FF_MAX_PATTERN_BYTES)
    return bp__error(&f->err, BP_ERR_TOO_LARGE, "pattern longer than %u bytes",
                     FF_MAX_PATTERN_BYTES);
  size_t pool = f->pool.len, nm = f->nm, nc = f->nc, ns = f->ns, nsc = f->nsc;
  int p = f->npatterns;
  int rc = bp__filter_compile(f, pattern ? pattern : "", len);
  if (!rc) {
    f->pat_sub[p] = (uint32_t)ns;
    f->pat_nsub[p] = (uint32_t)(f->ns - ns);
    f->npatterns++;
    rc = bp__filter_index(f);
    if (rc) {
      f->npatterns--;
      bp__error(&f->err, rc, "out of memory");
    }
  }
  if (rc) { /* back to the filter as it was; its index fits the memory it had */
    f->pool.len = pool;
    f->nm = nm;
    f->nc = nc;
    f->ns = ns;
    f->nsc = nsc;
    f->pat_data[p] = 0;
    if (bp__filter_index(f)) return bp__error(&f->err, BP_ERR_INTERNAL, "index rebuild failed");
    return rc;
  }
  return 0;
}

int bp_filter_match_json(bp_filter *f, const char *json, size_t len, int *matched) {
  if (matched) *matched = 0;
  if (!f) return BP_ERR_INVALID_ARGUMENT;
  bp__errmsg_clear(&f->err);
  if (!matched || (!json && len))
    return bp__error(&f->err, BP_ERR_INVALID_ARGUMENT, "NULL argument");
  if (json && !bp__span_ok(json, len))
    return bp__error(&f->err, BP_ERR_INVALID_ARGUMENT, "length %zu is larger than any object", len);
  int rc = bp__filter_begin(f);
  if (rc) return bp__error(&f->err, rc, "out of memory");
  if ((rc = bp__filter_feed_members(f, json ? json : "", len))) return rc;
  *matched = bp__filter_eval(f);
  return 0;
}

static int ff_codec_error(bp_filter *f, bp_codec *c, int rc) {
  return bp__error(&f->err, rc, "%s", c->err.text[0] ? c->err.text : bp_strerror(rc));
}

/* The Kinesis payload bytes, base64-decoded when flagged. */
static int ff_payload(bp_filter *f, const bp_record *r, const char **data, size_t *len) {
  if (!r->data && r->data_len)
    return bp__error(&f->err, BP_ERR_INVALID_RECORD,
                     "record 0: data is NULL with a non-zero length");
  if (r->data && !bp__span_ok(r->data, r->data_len)) /* read alone, without the codec */
    return bp__error(&f->err, BP_ERR_INVALID_RECORD,
                     "record 0: data length %zu is larger than any object", r->data_len);
  if (!(r->flags & BP_RECORD_DATA_BASE64)) {
    *data = (const char *)r->data;
    *len = r->data_len;
    return 0;
  }
  size_t need = r->data_len / 4 * 3 + 3;
  f->payload.len = 0;
  if (bp__buf_reserve(&f->payload, need)) return bp__error(&f->err, BP_ERR_NOMEM, "out of memory");
  size_t n = 0;
  int rc = bp_base64_decode((const char *)r->data, r->data_len, (uint8_t *)f->payload.data,
                            f->payload.cap, &n);
  if (rc) return bp__error(&f->err, rc, "record 0: data is not strict base64");
  *data = f->payload.data;
  *len = n;
  return 0;
}

/* The Kinesis record view's keys, in BP__FV_* order: the top level's, then kinesis's. */
static const struct {
  const char *key;
  uint8_t len;
} ff_view_keys[BP__FV_COUNT] = {
    {"kinesis", 7},        {"eventSource", 11},  {"eventVersion", 12},
    {"eventID", 7},        {"eventName", 9},     {"invokeIdentityArn", 17},
    {"awsRegion", 9},      {"eventSourceARN", 14}, {"kinesisSchemaVersion", 20},
    {"partitionKey", 12},  {"sequenceNumber", 14}, {"data", 4},
    {"approximateArrivalTimestamp", 27}, {"encryptionType", 14}};

void bp__filter_view_index(bp_filter *f) {
  f->view_tested = 0;
  for (int i = 0; i < BP__FV_COUNT; i++) {
    uint32_t parent = i < BP__FV_SCHEMA ? 0 : f->view_key[BP__FV_KINESIS];
    uint32_t node = bp__filter_key_node(f, parent, i < BP__FV_SCHEMA, ff_view_keys[i].key,
                                        ff_view_keys[i].len);
    f->view_key[i] = node;
    if (node != BP__FT_DEAD && f->trie[node].slot >= 0) f->view_tested |= 1u << i;
  }
}

/* Test view member @p i (a string) if some condition names it. */
static void ff_member(bp_filter *f, int i, const char *s, size_t n) {
  if (f->view_tested & (1u << i)) bp__filter_leaf_string(f, f->view_key[i], s, n);
}

/* The Kinesis record as delivered (bp__kinesis_record_put's members and values), its tested
 * members given straight to the matcher: every one is a scalar outside any array, so no
 * text is written or parsed and no level opened. Members no condition names are not even
 * formed (eventID, the timestamp, kinesis.data's base64). @return 0 or BP_ERR_NOMEM. The
 * record was validated. */
static int ff_kinesis_events(bp_filter *f, const bp_codec *c, const char *shard,
                             size_t shard_len, const bp_record *r) {
  uint32_t tested = f->view_tested;
  if (!tested) return 0;
  ff_member(f, BP__FV_SCHEMA, "1.0", 3);
  ff_member(f, BP__FV_PARTITION_KEY, r->partition_key ? r->partition_key : "",
            r->partition_key_len);
  ff_member(f, BP__FV_SEQ, r->seq, r->seq_len);
  if ((tested & (1u << BP__FV_DATA)) && (r->flags & BP_RECORD_DATA_BASE64)) {
    ff_member(f, BP__FV_DATA, (const char *)r->data, r->data_len);
  } else if (tested & (1u << BP__FV_DATA)) {
    f->scratch.len = 0;
    if (bp__buf_reserve(&f->scratch, bp_base64_encoded_len(r->data_len) + 1))
      return bp__error(&f->err, BP_ERR_NOMEM, "out of memory");
    ff_member(f, BP__FV_DATA, f->scratch.data,
              bp__b64_encode(r->data, r->data_len, f->scratch.data));
  }
  if (tested & (1u << BP__FV_ARRIVAL)) {
    char ts[40];
    bp__filter_leaf_number(f, f->view_key[BP__FV_ARRIVAL], ts,
                           bp__fmt_epoch_seconds(r->arrival_ms, ts));
  }
  if (r->encryption_type)
    ff_member(f, BP__FV_ENCRYPTION, r->encryption_type, r->encryption_type_len);
  ff_member(f, BP__FV_EVENT_SOURCE, "aws:kinesis", 11);
  ff_member(f, BP__FV_EVENT_VERSION, "1.0", 3);
  if (tested & (1u << BP__FV_EVENT_ID)) { /* shardId:sequenceNumber */
    f->payload.len = 0;
    if (bp__buf_append(&f->payload, shard, shard_len) || bp__buf_append(&f->payload, ":", 1) ||
        bp__buf_append(&f->payload, r->seq, r->seq_len))
      return bp__error(&f->err, BP_ERR_NOMEM, "out of memory");
    ff_member(f, BP__FV_EVENT_ID, f->payload.data, f->payload.len);
  }
  ff_member(f, BP__FV_EVENT_NAME, "aws:kinesis:record", 18);
  ff_member(f, BP__FV_INVOKE_ARN, c->role.raw, c->role.raw_len);
  ff_member(f, BP__FV_REGION, c->region.raw, c->region.raw_len);
  ff_member(f, BP__FV_SOURCE_ARN, c->arn.raw, c->arn.raw_len);
  return 0;
}

/* Feed the record as delivered: Kinesis as calls, DynamoDB encoded into f->scratch and
 * parsed (its `dynamodb` member is the host's JSON text). */
static int ff_feed_record(bp_filter *f, bp_codec *c, const char *shard, const bp_record *r) {
  size_t size = 0;
  unsigned char shape = 0;
  int rc;
  bp__errmsg_clear(&c->err);
  if (c->source == BP_SOURCE_KINESIS) {
    size_t shard_len = strlen(shard);
    if (!bp__utf8_valid(shard, shard_len))
      return bp__error(&f->err, BP_ERR_INVALID_UTF8, "shard id is not valid UTF-8");
    bp_record view = *r;
    if (!f->needs_kinesis_data) { /* nothing reads kinesis.data: it is not checked either */
      view.data = NULL; /* empty base64 data, with nothing to check */
      view.data_len = 0;
      view.flags |= BP_RECORD_DATA_BASE64;
    }
    /* the encoder's checks of a record; the size itself is not needed */
    if ((rc = bp__kinesis_record_check(c, shard, shard_len, &view, 0)))
      return ff_codec_error(f, c, rc);
    return ff_kinesis_events(f, c, shard, shard_len, r);
  }
  if ((rc = bp__ddb_record_size(c, r, 0, &size, &shape))) return ff_codec_error(f, c, rc);
  f->scratch.len = 0;
  if (bp__buf_reserve(&f->scratch, size))
    return bp__error(&f->err, BP_ERR_NOMEM, "out of memory");
  bp__ddb_record_put(c, r, shape, f->scratch.data);
  rc = bp__filter_feed_members(f, f->scratch.data, size);
  if (rc == BP_ERR_INVALID_JSON) /* the codec wrote it: cannot happen */
    return bp__error(&f->err, BP_ERR_INTERNAL, "encoded record does not parse: %s", f->err.text);
  return rc;
}

int bp_filter_match_record(bp_filter *f, bp_codec *codec, const char *shard_id,
                           const bp_record *host_rec, int *result) {
  if (result) *result = BP_FILTER_NO_MATCH;
  if (!f) return BP_ERR_INVALID_ARGUMENT;
  bp__errmsg_clear(&f->err);
  if (!codec || !host_rec || !result)
    return bp__error(&f->err, BP_ERR_INVALID_ARGUMENT, "NULL argument");
  bp_record copy;
  const bp_record *rec = host_rec;
  if (host_rec->struct_size != sizeof(bp_record)) { /* the engine's records never copy */
    int rc = bp__struct_in(&copy, sizeof copy, BP__RECORD_SIZE_V1, host_rec, "bp_record",
                           f->err.text, sizeof f->err.text);
    if (rc) return rc;
    rec = &copy;
  }
  int kinesis = codec->source == BP_SOURCE_KINESIS;
  if (kinesis && !shard_id) return bp__error(&f->err, BP_ERR_INVALID_ARGUMENT, "shard id is NULL");
  if (f->npatterns == 0) {
    *result = BP_FILTER_MATCH;
    return 0;
  }
  int rc = bp__filter_begin(f);
  if (rc) return bp__error(&f->err, rc, "out of memory");
  if (kinesis && f->uses_data) {
    const char *data = NULL;
    size_t len = 0;
    if ((rc = ff_payload(f, rec, &data, &len))) return rc;
    rc = bp__filter_feed_value(f, "data", 4, data ? data : "", len);
    if (rc == BP_ERR_INVALID_JSON) { /* SEMANTICS.md §7.3: dropped, whatever else matches */
      bp__errmsg_clear(&f->err);
      *result = BP_FILTER_DROPPED;
      return 0;
    }
    if (rc) return rc;
  }
  if (f->needs_record && (rc = ff_feed_record(f, codec, shard_id, rec))) return rc;
  *result = bp__filter_eval(f) ? BP_FILTER_MATCH : BP_FILTER_NO_MATCH;
  return 0;
}
