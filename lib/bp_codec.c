/* SPDX-License-Identifier: MIT */
/*
 * The codec object and the event encoder: sizes first, then one exact-size write.
 * Per-source record layouts live in bp_codec_kinesis.c and bp_codec_ddb.c.
 */
#include <string.h>

#include "bp_codec_int.h"
#include "bp_codec_measure_int.h"
#include "bp_jsonw_int.h"

/* Store @p s (n bytes) as a quoted, escaped JSON token, and as itself (one allocation). */
static int make_tok(const bp_allocator *a, const char *s, size_t n, bp__jtok *t) {
  t->len = bp__json_str_len(s, n);
  if (!(t->text = bp__malloc(a, t->len + 1 + n + 1))) return BP_ERR_NOMEM;
  *bp__json_str_put(t->text, s, n) = '\0';
  t->raw = t->text + t->len + 1;
  memcpy(t->raw, s, n);
  t->raw[n] = '\0';
  t->raw_len = n;
  return 0;
}

/* arn:partition:service:region:account:resource -> region */
static int region_of(const char *arn, const char **region, size_t *len) {
  const char *p = arn;
  for (int field = 0; field < 3; field++) {
    p = strchr(p, ':');
    if (!p) return -1;
    p++;
  }
  const char *end = strchr(p, ':');
  if (!end || end == p) return -1;
  *region = p;
  *len = (size_t)(end - p);
  return 0;
}

static int valid_name(const char *s) { return s && *s && bp__utf8_valid(s, strlen(s)); }

void bp_codec_del(bp_codec *c) {
  if (!c) return;
  bp_allocator a = c->alloc;
  bp__buf_free(&c->out);
  bp__json_pool_free(&c->json);
  bp__free(&a, c->arn.text);
  bp__free(&a, c->region.text);
  bp__free(&a, c->role.text);
  bp__free(&a, c->function.text);
  bp__free(&a, c->kin_tail);
  bp__free(&a, c->marks);
  bp__seq_index_free(&c->scratch_index, &a);
  bp__seq_index_free(&c->host_index, &a);
  bp__free(&a, c->shapes);
  bp__free(&a, c->norm);
  bp__free(&a, c);
}

#define CODEC_OPTS_SIZE_V1 BP__SIZE_V1(bp_codec_opts, function_arn)
#define WINDOW_FIELDS_SIZE_V1 BP__SIZE_V1(bp_window_fields, is_terminated_early)

int bp_codec_opts_init(bp_codec_opts *o, size_t size) {
  int rc = bp__struct_init(o, size, CODEC_OPTS_SIZE_V1);
  if (rc) return rc;
  return 0;
}

int bp_window_fields_init(bp_window_fields *w, size_t size) {
  int rc = bp__struct_init(w, size, WINDOW_FIELDS_SIZE_V1);
  if (rc) return rc;
  return 0;
}

int bp_codec_new(bp_codec **out, const bp_codec_opts *host_opts, const bp_allocator *alloc) {
  bp_codec_opts o;
  const bp_codec_opts *opts = &o;
  if (out) *out = NULL;
  if (!out || !host_opts ||
      bp__struct_in(&o, sizeof o, CODEC_OPTS_SIZE_V1, host_opts, "bp_codec_opts", NULL, 0))
    return BP_ERR_INVALID_ARGUMENT;
  if (opts->source != BP_SOURCE_KINESIS && opts->source != BP_SOURCE_DYNAMODB)
    return BP_ERR_INVALID_ARGUMENT;
  if (!valid_name(opts->event_source_arn)) return BP_ERR_INVALID_ARGUMENT;
  if (opts->source == BP_SOURCE_KINESIS && !valid_name(opts->invoke_identity_arn))
    return BP_ERR_INVALID_ARGUMENT;
  if (opts->aws_region && !valid_name(opts->aws_region)) return BP_ERR_INVALID_ARGUMENT;
  if (opts->function_arn && !valid_name(opts->function_arn)) return BP_ERR_INVALID_ARGUMENT;
  const char *region = opts->aws_region;
  size_t region_len = region ? strlen(region) : 0;
  if (!region && region_of(opts->event_source_arn, &region, &region_len) < 0)
    return BP_ERR_INVALID_ARGUMENT;

  bp_allocator a;
  if (bp__alloc_copy(&a, alloc)) return BP_ERR_INVALID_ARGUMENT;
  bp_codec *c = bp__calloc(&a, 1, sizeof *c);
  if (!c) return BP_ERR_NOMEM;
  c->alloc = a;
  c->source = opts->source;
  bp__errmsg_clear(&c->err);
  bp__buf_init(&c->out, &c->alloc);
  bp__json_pool_init(&c->json, &c->alloc);
  int rc = make_tok(&a, opts->event_source_arn, strlen(opts->event_source_arn), &c->arn);
  if (!rc) rc = make_tok(&a, region, region_len, &c->region);
  if (!rc && opts->source == BP_SOURCE_KINESIS)
    rc = make_tok(&a, opts->invoke_identity_arn, strlen(opts->invoke_identity_arn), &c->role);
  if (!rc && opts->function_arn)
    rc = make_tok(&a, opts->function_arn, strlen(opts->function_arn), &c->function);
  if (!rc && opts->source == BP_SOURCE_KINESIS) rc = bp__kinesis_codec_init(c);
  if (rc) {
    bp_codec_del(c);
    return rc;
  }
  *out = c;
  return 0;
}

const char *bp_codec_errmsg(const bp_codec *c) { return c ? c->err.text : ""; }

/* ---- Event layout ----
 * {"Records":[r0,r1,...]}                                           plain event
 * {"Records":[...],"window":{"start":S,"end":E},"state":{...},
 *  "shardId":"..","eventSourceARN":"..","isFinalInvokeForWindow":b,
 *  "isWindowTerminatedEarly":b}                                     tumbling window (§6)
 */

static int check_window(bp_codec *c, const bp_window_fields *w) {
  if (!bp__time_in_range(w->start_ms) || !bp__time_in_range(w->end_ms))
    return bp__error(&c->err, BP_ERR_RANGE, "window start/end out of range");
  if (w->state_json && !bp__span_ok(w->state_json, w->state_json_len))
    return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT,
                     "window state length %zu is larger than any object", w->state_json_len);
  if (w->state_json) {
    int rc = bp__json_parse(&c->json, w->state_json, w->state_json_len, NULL, NULL, &c->err);
    if (rc == BP_ERR_NOMEM) return rc;
    if (rc || w->state_json_len == 0 || w->state_json[0] != '{')
      return bp__error(&c->err, BP_ERR_INVALID_JSON, "window state is not a JSON object");
  }
  return 0;
}

static size_t window_len(const bp_codec *c, size_t shard_quoted_len,
                         const bp_window_fields *w) {
  return sizeof(",\"window\":{\"start\":\"\",\"end\":\"\"}") - 1 + 2 * 20 +
         sizeof(",\"state\":") - 1 + (w->state_json ? w->state_json_len : 2) +
         sizeof(",\"shardId\":") - 1 + shard_quoted_len +
         sizeof(",\"eventSourceARN\":") - 1 + c->arn.len +
         sizeof(",\"isFinalInvokeForWindow\":") - 1 + (w->is_final ? 4 : 5) +
         sizeof(",\"isWindowTerminatedEarly\":") - 1 + (w->is_terminated_early ? 4 : 5);
}

static char *window_put(const bp_codec *c, const char *shard, size_t shard_len,
                        const bp_window_fields *w, char *p) {
  p = BP__PUT_LIT(p, ",\"window\":{\"start\":\"");
  p += bp__fmt_iso(w->start_ms, 0, p);
  p = BP__PUT_LIT(p, "\",\"end\":\"");
  p += bp__fmt_iso(w->end_ms, 0, p);
  p = BP__PUT_LIT(p, "\"},\"state\":");
  p = w->state_json ? bp__put(p, w->state_json, w->state_json_len) : BP__PUT_LIT(p, "{}");
  p = BP__PUT_LIT(p, ",\"shardId\":");
  p = bp__json_str_put(p, shard, shard_len);
  p = BP__PUT_LIT(p, ",\"eventSourceARN\":");
  p = bp__put(p, c->arn.text, c->arn.len);
  p = BP__PUT_LIT(p, ",\"isFinalInvokeForWindow\":");
  p = w->is_final ? BP__PUT_LIT(p, "true") : BP__PUT_LIT(p, "false");
  p = BP__PUT_LIT(p, ",\"isWindowTerminatedEarly\":");
  p = w->is_terminated_early ? BP__PUT_LIT(p, "true") : BP__PUT_LIT(p, "false");
  return p;
}

static int shard_prepare(bp_codec *c, const char *shard_id, bp__kin_shard *s) {
  if (!shard_id) return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT, "shard id is NULL");
  s->raw = shard_id;
  s->raw_len = strlen(shard_id);
  if (!bp__utf8_valid(shard_id, s->raw_len))
    return bp__error(&c->err, BP_ERR_INVALID_UTF8, "shard id is not valid UTF-8");
  s->quoted_len = bp__json_str_len(shard_id, s->raw_len);
  return 0;
}

static int overhead(bp_codec *c, const bp__kin_shard *s, const bp_window_fields *w, size_t *size) {
  size_t n = sizeof("{\"Records\":[]}") - 1;
  if (w) {
    int rc = check_window(c, w);
    if (rc) return rc;
    n = bp__size_add(n, window_len(c, s->quoted_len, w));
  }
  *size = n;
  return 0;
}

/* A length no object can have (a caller bug) is refused before any byte is read. */
static int record_spans(bp_codec *c, const bp_record *r, size_t index) {
  static const char *const name[] = {"sequenceNumber", "partitionKey",  "data",
                                     "encryptionType", "eventID",       "eventName",
                                     "dynamodb",       "userIdentity"};
  const void *p[] = {r->seq,      r->partition_key, r->data,          r->encryption_type,
                     r->event_id, r->event_name,    r->dynamodb_json, r->user_identity_json};
  const size_t n[] = {r->seq_len,      r->partition_key_len, r->data_len,
                      r->encryption_type_len, r->event_id_len, r->event_name_len,
                      r->dynamodb_json_len,   r->user_identity_json_len};
  for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
    if (p[i] && !bp__span_ok(p[i], n[i]))
      return bp__error(&c->err, BP_ERR_INVALID_RECORD,
                       "record %zu: %s length %zu is larger than any object", index, name[i],
                       n[i]);
  return 0;
}

/* @p defer_b64: see bp__kinesis_record_size_q(). */
static int record_size(bp_codec *c, const bp__kin_shard *s, const bp_record *r, size_t index,
                       int defer_b64, size_t *size, unsigned char *shape) {
  int rc = record_spans(c, r, index);
  if (rc) return rc;
  if (c->source == BP_SOURCE_KINESIS)
    return bp__kinesis_record_size_q(c, s->quoted_len, r, index,
                                     defer_b64 ? BP__SIZE_DEFER_B64 : 0u, size, NULL);
  return bp__ddb_record_size(c, r, index, size, shape);
}

/* The host's window fields, read through their struct_size (NULL stays NULL). */
static int window_read(bp_codec *c, const bp_window_fields *in, bp_window_fields *w,
                       const bp_window_fields **out) {
  *out = NULL;
  if (!in) return 0;
  int rc = bp__struct_in(w, sizeof *w, WINDOW_FIELDS_SIZE_V1, in, "bp_window_fields", c->err.text,
                         sizeof c->err.text);
  if (!rc) *out = w;
  return rc;
}

int bp__codec_records(bp_codec *c, const bp_record *recs, size_t n, const bp_record **out) {
  size_t stride;
  *out = recs;
  if (!recs || n == 0) return 0;
  int rc = bp__records_stride(recs, n, &stride, c->err.text, sizeof c->err.text);
  if (rc || stride == sizeof(bp_record)) return rc;
  if (n > c->norm_cap) { /* a host of another bp_record size: not the engine's hot path */
    if (n > SIZE_MAX / sizeof(bp_record))
      return bp__error(&c->err, BP_ERR_NOMEM, "out of memory for %zu records", n);
    bp_record *p = bp__realloc(&c->alloc, c->norm, n * sizeof(bp_record));
    if (!p) return bp__error(&c->err, BP_ERR_NOMEM, "out of memory for %zu records", n);
    c->norm = p;
    c->norm_cap = n;
  }
  for (size_t i = 0; i < n; i++) {
    bp_record tmp;
    c->norm[i] = *bp__record_get(recs, stride, i, &tmp);
  }
  *out = c->norm;
  return 0;
}

int bp_codec_event_overhead(bp_codec *c, const char *shard_id, const bp_window_fields *host_win,
                            size_t *size) {
  if (!c) return BP_ERR_INVALID_ARGUMENT;
  bp__errmsg_clear(&c->err);
  if (!size) return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT, "size is NULL");
  bp__kin_shard s = BP__KIN_SHARD_INIT;
  bp_window_fields wf;
  const bp_window_fields *win;
  int rc = window_read(c, host_win, &wf, &win);
  if (rc) return rc;
  rc = shard_prepare(c, shard_id, &s);
  return rc ? rc : overhead(c, &s, win, size);
}

int bp_codec_record_size(bp_codec *c, const char *shard_id, const bp_record *host_rec,
                         size_t *size) {
  if (!c) return BP_ERR_INVALID_ARGUMENT;
  bp__errmsg_clear(&c->err);
  if (!size || !host_rec) return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT, "NULL argument");
  bp__kin_shard s = BP__KIN_SHARD_INIT;
  bp_record rec;
  int rc = bp__struct_in(&rec, sizeof rec, BP__RECORD_SIZE_V1, host_rec, "bp_record",
                         c->err.text, sizeof c->err.text);
  if (!rc) rc = shard_prepare(c, shard_id, &s);
  return rc ? rc : record_size(c, &s, &rec, 0, 0, size, NULL);
}

/* The error of the first of recs[0..n) whose base64 data is not strict, else 0: the error an
 * encoder that deferred those checks owes before any later one (event_size, write_event). */
static int first_bad_data(bp_codec *c, const bp_record *recs, size_t n) {
  for (size_t k = 0; c->source == BP_SOURCE_KINESIS && k < n; k++) {
    int rc = bp__kinesis_data_check(c, &recs[k], k);
    if (rc) return rc;
  }
  return 0;
}

/* With @p defer_b64 (the encoder, whose write pass checks base64 data as it copies it) the
 * error of a record is still the first one in record order: a record before it with bad
 * base64 data is reported instead. */
static int event_size(bp_codec *c, const bp__kin_shard *s, const bp_record *recs, size_t n,
                      const bp_window_fields *w, int defer_b64, size_t *size,
                      unsigned char *shapes) {
  if (!recs && n) return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT, "records NULL, n > 0");
  if (recs && !bp__array_ok(recs, n, sizeof *recs))
    return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT, "n %zu is larger than any array", n);
  size_t total;
  int rc = overhead(c, s, w, &total);
  if (rc) return rc;
  defer_b64 = defer_b64 && c->source == BP_SOURCE_KINESIS;
  for (size_t i = 0; i < n; i++) {
    size_t r;
    if ((rc = record_size(c, s, &recs[i], i, defer_b64, &r, shapes ? &shapes[i] : NULL))) {
      int data_rc = defer_b64 ? first_bad_data(c, recs, i) : 0;
      return data_rc ? data_rc : rc;
    }
    total = bp__size_add(total, bp__size_add(r, i > 0));
  }
  if (total == SIZE_MAX) {
    if (defer_b64 && (rc = first_bad_data(c, recs, n))) return rc;
    return bp__error(&c->err, BP_ERR_INVALID_RECORD, "event too large: its size does not fit "
                                                     "in a size_t");
  }
  *size = total;
  return 0;
}

int bp_codec_event_size(bp_codec *c, const char *shard_id, const bp_record *host_recs,
                        size_t n, const bp_window_fields *host_win, size_t *size) {
  if (!c) return BP_ERR_INVALID_ARGUMENT;
  bp__errmsg_clear(&c->err);
  if (!size) return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT, "size is NULL");
  bp__kin_shard s = BP__KIN_SHARD_INIT;
  bp_window_fields wf;
  const bp_window_fields *win;
  const bp_record *recs;
  int rc = window_read(c, host_win, &wf, &win);
  if (!rc) rc = bp__codec_records(c, host_recs, n, &recs);
  if (!rc) rc = shard_prepare(c, shard_id, &s);
  return rc ? rc : event_size(c, &s, recs, n, win, 0, size, NULL);
}

int bp__codec_shard_prepare(bp_codec *c, const char *shard_id, bp__codec_shard *out) {
  bp__errmsg_clear(&c->err);
  bp__kin_shard s = BP__KIN_SHARD_INIT;
  int rc = shard_prepare(c, shard_id, &s);
  out->quoted_len = s.quoted_len;
  return rc;
}

int bp__codec_record_measure(bp_codec *c, const bp__codec_shard *s, const bp_record *rec,
                             size_t *size, unsigned char *shape) {
  *shape = 0;
  if (c->source == BP_SOURCE_KINESIS)
    return bp__kinesis_record_size_q(c, s->quoted_len, rec, 0, BP__SIZE_TRUSTED, size, shape);
  return bp__ddb_record_size_trusted(c, rec, size, shape);
}

static int write_event(bp_codec *c, bp__kin_shard *s, const bp_record *recs,
                       const unsigned char *shapes, size_t n, const bp_window_fields *win,
                       size_t size, const char **out, size_t *out_len);
static int write_event_at(bp_codec *c, bp__kin_shard *s, const bp_record *recs,
                          const unsigned char *shapes, size_t n, const bp_window_fields *win,
                          size_t size, char *dst);

int bp__codec_encode_measured(bp_codec *c, const char *shard_id, const bp_record *recs,
                              const size_t *sizes, const unsigned char *shapes, size_t n,
                              const bp_window_fields *win, const char **out, size_t *out_len) {
  bp__errmsg_clear(&c->err);
  bp__kin_shard s = BP__KIN_SHARD_INIT;
  size_t size;
  int rc = shard_prepare(c, shard_id, &s);
  if (rc || (rc = overhead(c, &s, win, &size))) return rc;
  for (size_t i = 0; i < n; i++) size = bp__size_add(size, bp__size_add(sizes[i], i > 0));
  if (size == SIZE_MAX) return bp__error(&c->err, BP_ERR_NOMEM, "event too large for memory");
  return write_event(c, &s, recs, shapes, n, win, size, out, out_len);
}

/* What both encoders know once the event is measured. */
typedef struct event_plan {
  bp__kin_shard s;
  bp_window_fields wf; /* the host's window, read (win points here when there is one) */
  const bp_window_fields *win;
  const bp_record *recs;
  size_t size;
} event_plan;

/* Validates the arguments and measures the event (sizes and DynamoDB shapes in c->shapes):
 * what both encoders do before writing. Base64 data is left for the write pass to check as it
 * copies it (first_bad_data owes its error when no write follows). */
static int prepare_event(bp_codec *c, const char *shard_id, const bp_record *host_recs, size_t n,
                         const bp_window_fields *host_win, event_plan *ep) {
  ep->s = (bp__kin_shard)BP__KIN_SHARD_INIT;
  int rc = window_read(c, host_win, &ep->wf, &ep->win);
  if (!rc) rc = bp__codec_records(c, host_recs, n, &ep->recs);
  if (!rc) rc = shard_prepare(c, shard_id, &ep->s);
  if (rc) return rc;
  if (n && (!ep->recs || !bp__array_ok(ep->recs, n, sizeof *ep->recs))) /* before sizing shapes */
    return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT, "records NULL or n %zu too large", n);
  if (c->source == BP_SOURCE_DYNAMODB && n > c->shapes_cap) {
    unsigned char *p = bp__realloc(&c->alloc, c->shapes, n);
    if (!p) return bp__error(&c->err, BP_ERR_NOMEM, "out of memory");
    c->shapes = p;
    c->shapes_cap = n;
  }
  return event_size(c, &ep->s, ep->recs, n, ep->win, 1, &ep->size, c->shapes);
}

int bp_codec_encode_event(bp_codec *c, const char *shard_id, const bp_record *host_recs,
                          size_t n, const bp_window_fields *host_win, const char **out,
                          size_t *out_len) {
  if (!c) return BP_ERR_INVALID_ARGUMENT;
  bp__errmsg_clear(&c->err);
  if (!out || !out_len) return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT, "NULL output");
  event_plan ep;
  int rc = prepare_event(c, shard_id, host_recs, n, host_win, &ep);
  return rc ? rc : write_event(c, &ep.s, ep.recs, c->shapes, n, ep.win, ep.size, out, out_len);
}

int bp_codec_encode_event_to(bp_codec *c, const char *shard_id, const bp_record *host_recs,
                             size_t n, const bp_window_fields *host_win, char *buf, size_t cap,
                             size_t *out_len) {
  if (!c) return BP_ERR_INVALID_ARGUMENT;
  bp__errmsg_clear(&c->err);
  if (!out_len || (!buf && cap))
    return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT, "NULL output");
  event_plan ep;
  int rc = prepare_event(c, shard_id, host_recs, n, host_win, &ep);
  if (rc) return rc;
  if (ep.size > cap) { /* bad data before too small, as when checked first */
    if ((rc = first_bad_data(c, ep.recs, n))) return rc;
    *out_len = ep.size;
    return bp__error(&c->err, BP_ERR_BUFFER_TOO_SMALL, "the event needs %zu bytes, the buffer "
                                                       "holds %zu", ep.size, cap);
  }
  if ((rc = write_event_at(c, &ep.s, ep.recs, c->shapes, n, ep.win, ep.size, buf))) return rc;
  *out_len = ep.size;
  return 0;
}

/* The write pass is the first to read each record's data, which lies wherever the host keeps
 * it: asking for a record's first lines a few records ahead hides most of the wait (on 100-byte
 * records, bench_codec's encode went from 2-3 % slower than hot data to level with it). */
enum { DATA_AHEAD = 4 };
static void prefetch_data(const bp_record *r) {
  const char *d = (const char *)r->data;
  if (r->data_len) BP__PREFETCH(d);
  if (r->data_len > 64) BP__PREFETCH(d + 64);
  if (r->data_len > 128) BP__PREFETCH(d + 128);
}

/* The event of @p n records whose sizes (and DynamoDB shapes) are known: @p size bytes at
 * @p dst, which holds at least that many. */
static int write_event_at(bp_codec *c, bp__kin_shard *s, const bp_record *recs,
                          const unsigned char *shapes, size_t n, const bp_window_fields *win,
                          size_t size, char *dst) {
  char *p = dst;
  p = BP__PUT_LIT(p, "{\"Records\":[");
  for (size_t i = 0; i < n; i++) {
    if (i) *p++ = ',';
    if (i + DATA_AHEAD < n) prefetch_data(&recs[i + DATA_AHEAD]);
    /* a Kinesis codec's own shapes are NULL (only the engine measures Kinesis shapes) */
    p = c->source == BP_SOURCE_KINESIS ? bp__kinesis_record_put(c, s, &recs[i], shapes ? shapes[i] : 0u, p)
                                       : bp__ddb_record_put(c, &recs[i], shapes[i], p);
    if (!p) { /* base64 data checked as it was copied (event_size deferred it) */
      int rc = bp__kinesis_data_check(c, &recs[i], i);
      return rc ? rc : bp__error(&c->err, BP_ERR_INTERNAL, "record %zu not written", i);
    }
  }
  *p++ = ']';
  if (win) p = window_put(c, s->raw, s->raw_len, win, p);
  *p++ = '}';
  size_t len = (size_t)(p - dst);
  if (len != size)
    return bp__error(&c->err, BP_ERR_INTERNAL, "encoded %zu bytes, computed %zu", len, size);
  return 0;
}

/* The same into the codec's own buffer, NUL-terminated. */
static int write_event(bp_codec *c, bp__kin_shard *s, const bp_record *recs,
                       const unsigned char *shapes, size_t n, const bp_window_fields *win,
                       size_t size, const char **out, size_t *out_len) {
  c->out.len = 0;
  if (bp__buf_reserve(&c->out, size)) {
    int rc = first_bad_data(c, recs, n); /* bad data before no memory, as when checked first */
    return rc ? rc : bp__error(&c->err, BP_ERR_NOMEM, "out of memory for a %zu-byte event", size);
  }
  int rc = write_event_at(c, s, recs, shapes, n, win, size, c->out.data);
  if (rc) return rc;
  c->out.len = size;
  bp__buf_terminate(&c->out);
  *out = c->out.data;
  *out_len = c->out.len;
  return 0;
}
