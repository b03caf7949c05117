/* SPDX-License-Identifier: MIT */
/*
 * The event parser of the function side: one strict pass over a Lambda Kinesis or DynamoDB
 * Streams event (SEMANTICS.md §1.1, §1.2, §6) into the processor's record index. Nothing is
 * delivered before the whole event has been checked, so a malformed event makes no callback.
 * Kinesis data is base64-decoded here, into one buffer reserved for the whole event (the
 * decoded bytes are at most 3/4 of the event), so record views stay valid for the call.
 */
#include <stdio.h>
#include <string.h>

#include "bp_b64_int.h"
#include "bp_handler_int.h"
#include "batchpoint/bp_codec.h"
#include "batchpoint/bp_seqnum.h"

/* Presence bits beyond the string fields. */
#define HEV_SIZE_BYTES (1u << BP__HF_COUNT)
#define HEV_KINESIS (1u << (BP__HF_COUNT + 1))

#define HEV_KEY(s, k, lit) bp__hs_eq((s), (k), lit, sizeof lit - 1)
#define HEV_BIT(f) (1u << (f))

typedef struct hev_parse_ctx {
  bp_handler *h;
  bp__hscan s;
  size_t rec; /* index of the record being parsed, SIZE_MAX outside Records */
  bp__hlearn learn_record, learn_kinesis, learn_dynamodb; /* member order seen */
} hev_parse_ctx;

/* "Records[3].kinesis.data: why" (or "path: why" outside a record). */
static int hev_perr(hev_parse_ctx *c, int code, const char *path, const char *why) {
  bp__errmsg *e = &c->h->err;
  size_t off = (size_t)(c->s.p - c->s.base);
  const char *at = code == BP_ERR_INVALID_JSON ? " at byte " : "";
  char num[32] = "";
  if (*at) snprintf(num, sizeof num, "%zu", off);
  if (c->rec == SIZE_MAX)
    bp__error(e, code, "%s: %s%s%s", path, why, at, num);
  else
    bp__error(e, code, "Records[%zu]%s%s: %s%s%s", c->rec, *path ? "." : "", path, why, at,
              num);
  e->offset = code == BP_ERR_INVALID_JSON ? off : SIZE_MAX;
  return code;
}

/* A scanner failure (JSON or memory) at @p path. */
static int hev_sfail(hev_parse_ctx *c, int rc, const char *path) {
  if (rc == BP_ERR_NOMEM) return bp__error(&c->h->err, rc, "out of memory");
  return hev_perr(c, rc, path, c->s.why);
}

/* Path of an unknown member for messages: "name" (cut at 64 bytes). */
static int hev_skip_member(hev_parse_ctx *c, const char *parent, bp__hstr key) {
  int rc = bp__hs_skip(&c->s, NULL, NULL);
  if (!rc) return 0;
  char path[96];
  size_t kl = key.len & ~BP__HS_UNESC;
  snprintf(path, sizeof path, "%s%s%.*s", parent, *parent ? "." : "", (int)(kl > 64 ? 64 : kl),
           bp__hs_ptr(&c->s, key));
  return hev_sfail(c, rc, path);
}

static int hev_string_field(hev_parse_ctx *c, bp__hrec *r, int f, const char *path) {
  if (!c->s.fast || !bp__hs_plain(&c->s, &r->f[f])) {
    int rc = bp__hs_string(&c->s, &r->f[f]);
    if (rc) return hev_sfail(c, rc, path);
  }
  r->present |= HEV_BIT(f);
  return 0;
}

static int hev_object_span(hev_parse_ctx *c, bp__hstr *out, const char *path) {
  if (bp__hs_peek(&c->s) != '{') return hev_perr(c, BP_ERR_INVALID_JSON, path, "not an object");
  const char *t;
  size_t n;
  int rc = bp__hs_skip(&c->s, &t, &n);
  if (rc) return hev_sfail(c, rc, path);
  out->off = (uint32_t)(t - c->s.base);
  out->len = (uint32_t)n;
  return 0;
}

/* An epoch-seconds number token to whole milliseconds (truncated), exactly, for any JSON
 * number form (fraction, exponent). @return 0 or -1 (negative or out of range). */
static int hev_seconds_to_ms(const char *t, size_t n, int64_t *ms) {
  if (t[0] == '-') return -1;
  size_t i = 0, nd = 0, nfrac = 0;
  const char *mant = t;
  while (i < n && t[i] >= '0' && t[i] <= '9') i++, nd++;
  if (i < n && t[i] == '.') {
    i++;
    while (i < n && t[i] >= '0' && t[i] <= '9') i++, nd++, nfrac++;
  }
  long exp = 0;
  if (i < n) { /* e / E, sign, digits (grammar already checked) */
    int neg = t[i + 1] == '-';
    i += 1 + (t[i + 1] == '-' || t[i + 1] == '+');
    for (; i < n; i++) exp = exp < 100000 ? exp * 10 + (t[i] - '0') : exp;
    if (neg) exp = -exp;
  }
  /* value * 1000 = digits * 10^shift; keep the digits left of the decimal point. */
  long keep = (long)nd + exp + 3 - (long)nfrac;
  int64_t acc = 0;
  for (long k = 0, pos = 0; k < keep; k++) {
    int d = 0;
    if ((size_t)k < nd) {
      if (mant[pos] == '.') pos++;
      d = mant[pos++] - '0';
    }
    if (acc > (INT64_MAX - 9) / 10) return -1;
    acc = acc * 10 + d;
  }
  if (!bp__time_in_range(acc)) return -1;
  *ms = acc;
  return 0;
}

/* hev_seconds_to_ms() of the form Lambda writes, digits[.digits] with at most 12 integer
 * digits, in one loop: 1 when done (in range), 0 to leave the token to hev_seconds_to_ms(). */
static int hev_seconds_plain(const char *t, size_t n, int64_t *ms) {
  size_t i = 0;
  int64_t v = 0;
  while (i < n && i < 12 && (unsigned)(t[i] - '0') < 10) v = v * 10 + (t[i++] - '0');
  int frac = 0, k = 0;
  if (i < n && t[i] == '.')
    for (i++; i < n && (unsigned)(t[i] - '0') < 10; i++)
      if (k < 3) frac = frac * 10 + (t[i] - '0'), k++;
  if (i == 0 || i != n) return 0;
  for (; k < 3; k++) frac *= 10;
  v = v * 1000 + frac;
  if (!bp__time_in_range(v)) return 0;
  *ms = v;
  return 1;
}

/* When t[0..8) are eight digits (as the ten of today's epoch seconds begin), their value in
 * *@p v: @return 8, else 0. All eight at once in a word, on a little-endian machine. */
static size_t hev_eight_digits(const unsigned char *t, int64_t *v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  uint64_t w;
  memcpy(&w, t, 8);
  if (!bp__word_all_digits(w)) return 0;
  w -= BP__HS_ONES * '0';                                   /* digit values, first lowest */
  w = (w * 10 + (w >> 8)) & 0x00FF00FF00FF00FFull;          /* pairs */
  w = (w * 100 + (w >> 16)) & 0x0000FFFF0000FFFFull;        /* fours */
  *v = (int64_t)((w * 10000 + (w >> 32)) & 0xFFFFFFFFull); /* eight */
  return 8;
#else
  (void)t, (void)v;
  return 0;
#endif
}

/* The number Lambda writes, digits[.digits] starting with 1-9, read in one pass without the
 * scanner: 1 (in range, *@p n bytes at s->p), 0 for anything else, which then takes the
 * general way (bp__hs_number(), hev_seconds_plain(), hev_seconds_to_ms()) for its error or
 * value. Same value: 12 integer digits at most, the fraction truncated to milliseconds. */
static int hev_seconds_fast(const bp__hscan *s, int64_t *ms, size_t *n) {
  enum { LOOK = 32 }; /* bytes looked at; the token must end before them */
  const unsigned char *t = (const unsigned char *)s->p;
  if (s->end - s->p < LOOK || (unsigned)(t[0] - '1') > 8) return 0;
  int64_t v = 0;
  size_t i = hev_eight_digits(t, &v);
  for (unsigned d; (d = (unsigned)(t[i] - '0')) < 10 && i < 13; i++) v = v * 10 + d;
  if (i > 12) return 0;
  if (t[i] == '.') {
    unsigned d = (unsigned)(t[++i] - '0');
    if (d > 9) return 0; /* a dot without digits: the scanner's error */
    int64_t frac = d;
    int k = 1;
    for (i++; (d = (unsigned)(t[i] - '0')) < 10 && i < LOOK - 1; i++)
      if (k < 3) frac = frac * 10 + d, k++;
    for (; k < 3; k++) frac *= 10;
    v = v * 1000 + frac;
  } else {
    v *= 1000;
  }
  /* The token ends here (an exponent or a long run of digits: the general way). */
  if ((unsigned)(t[i] - '0') < 10 || (t[i] | 0x20) == 'e' || !bp__time_in_range(v)) return 0;
  *ms = v;
  *n = i;
  return 1;
}

static int hev_arrival_field(hev_parse_ctx *c, bp__hrec *r, const char *path) {
  const char *t;
  size_t n;
  if (c->s.fast && hev_seconds_fast(&c->s, &r->arrival_ms, &n)) {
    t = c->s.p;
    c->s.p += n;
    r->f[BP__HF_ARRIVAL].off = (uint32_t)(t - c->s.base);
    r->f[BP__HF_ARRIVAL].len = (uint32_t)n;
    r->present |= HEV_BIT(BP__HF_ARRIVAL);
    return 0;
  }
  if (bp__hs_peek(&c->s) == '"')
    return hev_perr(c, BP_ERR_INVALID_JSON, path, "a string, not a number");
  int rc = bp__hs_number(&c->s, &t, &n);
  if (rc) return hev_sfail(c, rc, path);
  if (!hev_seconds_plain(t, n, &r->arrival_ms) && hev_seconds_to_ms(t, n, &r->arrival_ms))
    return hev_perr(c, BP_ERR_INVALID_RECORD, path, "epoch seconds out of range");
  r->f[BP__HF_ARRIVAL].off = (uint32_t)(t - c->s.base);
  r->f[BP__HF_ARRIVAL].len = (uint32_t)n;
  r->present |= HEV_BIT(BP__HF_ARRIVAL);
  return 0;
}

static int hev_seq_field(hev_parse_ctx *c, bp__hrec *r, const char *path) {
  /* Plain digits (always, from Lambda) are read directly; anything else is scanned. */
  int digits = bp__hs_digits(&c->s, &r->f[BP__HF_SEQ]);
  if (!digits) {
    int rc = bp__hs_string(&c->s, &r->f[BP__HF_SEQ]);
    if (rc) return hev_sfail(c, rc, path);
  }
  r->present |= HEV_BIT(BP__HF_SEQ);
  bp__hstr q = r->f[BP__HF_SEQ];
  const char *t = bp__hs_ptr(&c->s, q);
  size_t n = q.len & ~BP__HS_UNESC;
  /* Read as digits, only bp_seqnum_validate()'s length and leading-zero rules are left. */
  if (digits ? n == 0 || n > BP_MAX_SEQNUM_DIGITS || (t[0] == '0' && n > 1)
             : bp_seqnum_validate(t, n) != 0)
    return hev_perr(c, BP_ERR_INVALID_RECORD, path, "not a sequence number (decimal digits)");
  return 0;
}

static int hev_decode_into(bp_handler *h, const char *b64, size_t n, bp__hrec *r) {
  bp__buf *out = &h->data;
  size_t written;
  /* Room was reserved for the whole event: the decoded bytes never exceed 3/4 of it. */
  if (bp_base64_decode(b64, n, (uint8_t *)out->data + out->len, out->cap - out->len, &written))
    return -1;
  r->data_off = (uint32_t)out->len;
  r->data_len = (uint32_t)written;
  out->len += written;
  return 0;
}

static int hev_data_field(hev_parse_ctx *c, bp__hrec *r) {
  bp__hscan *s = &c->s;
  /* Fast path: up to the next quote, decoded strictly. Valid base64 holds only characters a
   * JSON string may hold as they are, so when it decodes, the string was valid too. The
   * data buffer has the decoder's slack (bp__handler_parse). */
  if (s->fast && bp__hs_peek(s) == '"') {
    bp__buf *out = &c->h->data;
    size_t n, written;
    if (bp__b64_decode_quoted(s->p + 1, (size_t)(s->end - s->p - 1),
                              (uint8_t *)out->data + out->len, &n, &written) == 0) {
      r->data_off = (uint32_t)out->len;
      r->data_len = (uint32_t)written;
      out->len += written;
      r->f[BP__HF_DATA].off = (uint32_t)(s->p + 1 - s->base);
      r->f[BP__HF_DATA].len = (uint32_t)n;
      r->present |= HEV_BIT(BP__HF_DATA);
      s->p += n + 2;
      return 0;
    }
  }
  int rc = hev_string_field(c, r, BP__HF_DATA, "kinesis.data");
  if (rc) return rc;
  bp__hstr d = r->f[BP__HF_DATA];
  if (hev_decode_into(c->h, bp__hs_ptr(s, d), d.len & ~BP__HS_UNESC, r))
    return hev_perr(c, BP_ERR_INVALID_RECORD, "kinesis.data", "invalid base64");
  return 0;
}

/* Member names in the order Lambda writes them (SEMANTICS.md §1.4). */
enum { HEV_K_SCHEMA, HEV_K_PKEY, HEV_K_SEQ, HEV_K_DATA, HEV_K_ARRIVAL, HEV_K_ENCRYPTION, HEV_K_COUNT };
static const bp__hkey hev_kinesis_keys[HEV_K_COUNT] = {
    BP__HKEY("kinesisSchemaVersion"), BP__HKEY("partitionKey"),
    BP__HKEY("sequenceNumber"),       BP__HKEY("data"),
    BP__HKEY("approximateArrivalTimestamp"), BP__HKEY("encryptionType")};

static int hev_parse_kinesis(hev_parse_ctx *c, bp__hrec *r) {
  int rc = bp__hs_expect(&c->s, '{'), more, which, prev = HEV_K_COUNT;
  if (rc) return hev_perr(c, BP_ERR_INVALID_JSON, "kinesis", "not an object");
  r->present |= HEV_KINESIS;
  bp__hstr k;
  for (int first = 1; (more = bp__hs_member_known(&c->s, first, hev_kinesis_keys, HEV_K_COUNT,
                                                  &c->learn_kinesis, &prev, &which, &k)) == 1;
       first = 0) {
    switch (which) {
    case HEV_K_DATA: rc = hev_data_field(c, r); break;
    case HEV_K_SEQ: rc = hev_seq_field(c, r, "kinesis.sequenceNumber"); break;
    case HEV_K_PKEY: rc = hev_string_field(c, r, BP__HF_PARTITION_KEY, "kinesis.partitionKey"); break;
    case HEV_K_ARRIVAL: rc = hev_arrival_field(c, r, "kinesis.approximateArrivalTimestamp"); break;
    case HEV_K_SCHEMA:
      rc = hev_string_field(c, r, BP__HF_SCHEMA, "kinesis.kinesisSchemaVersion");
      break;
    case HEV_K_ENCRYPTION:
      rc = hev_string_field(c, r, BP__HF_ENCRYPTION, "kinesis.encryptionType");
      break;
    default: rc = hev_skip_member(c, "kinesis", k);
    }
    if (rc) return rc;
  }
  return more < 0 ? hev_sfail(c, more, "kinesis") : 0;
}

static int hev_size_bytes_field(hev_parse_ctx *c, bp__hrec *r) {
  const char *t;
  size_t n;
  int rc = bp__hs_number(&c->s, &t, &n);
  if (rc) return hev_sfail(c, rc, "dynamodb.SizeBytes");
  int64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (t[i] < '0' || t[i] > '9' || v > (INT64_MAX - 9) / 10)
      return hev_perr(c, BP_ERR_INVALID_RECORD, "dynamodb.SizeBytes", "not a non-negative integer");
    v = v * 10 + (t[i] - '0');
  }
  r->size_bytes = v;
  r->present |= HEV_SIZE_BYTES;
  return 0;
}

enum { HEV_D_ARRIVAL, HEV_D_KEYS, HEV_D_NEW, HEV_D_OLD, HEV_D_SEQ, HEV_D_SIZE, HEV_D_VIEW, HEV_D_COUNT };
static const bp__hkey hev_dynamodb_keys[HEV_D_COUNT] = {
    BP__HKEY("ApproximateCreationDateTime"), BP__HKEY("Keys"), BP__HKEY("NewImage"),
    BP__HKEY("OldImage"), BP__HKEY("SequenceNumber"), BP__HKEY("SizeBytes"),
    BP__HKEY("StreamViewType")};

static int hev_image_field(hev_parse_ctx *c, bp__hrec *r, int f, const char *path) {
  r->present |= HEV_BIT(f);
  return hev_object_span(c, &r->f[f], path);
}

static int hev_parse_dynamodb(hev_parse_ctx *c, bp__hrec *r) {
  bp__hscan *s = &c->s;
  bp__hs_peek(s);
  const char *start = s->p;
  int rc = bp__hs_expect(s, '{'), more, which, prev = HEV_D_COUNT;
  if (rc) return hev_perr(c, BP_ERR_INVALID_JSON, "dynamodb", "not an object");
  bp__hstr k;
  for (int first = 1; (more = bp__hs_member_known(s, first, hev_dynamodb_keys, HEV_D_COUNT,
                                                  &c->learn_dynamodb, &prev, &which, &k)) == 1;
       first = 0) {
    switch (which) {
    case HEV_D_KEYS: rc = hev_image_field(c, r, BP__HF_KEYS, "dynamodb.Keys"); break;
    case HEV_D_NEW: rc = hev_image_field(c, r, BP__HF_NEW_IMAGE, "dynamodb.NewImage"); break;
    case HEV_D_OLD: rc = hev_image_field(c, r, BP__HF_OLD_IMAGE, "dynamodb.OldImage"); break;
    case HEV_D_SEQ: rc = hev_seq_field(c, r, "dynamodb.SequenceNumber"); break;
    case HEV_D_ARRIVAL: rc = hev_arrival_field(c, r, "dynamodb.ApproximateCreationDateTime"); break;
    case HEV_D_SIZE: rc = hev_size_bytes_field(c, r); break;
    case HEV_D_VIEW: rc = hev_string_field(c, r, BP__HF_VIEW_TYPE, "dynamodb.StreamViewType"); break;
    default: rc = hev_skip_member(c, "dynamodb", k);
    }
    if (rc) return rc;
  }
  if (more < 0) return hev_sfail(c, more, "dynamodb");
  r->f[BP__HF_DYNAMODB].off = (uint32_t)(start - s->base);
  r->f[BP__HF_DYNAMODB].len = (uint32_t)(s->p - start);
  r->present |= HEV_BIT(BP__HF_DYNAMODB);
  return 0;
}

typedef struct hev_required {
  uint32_t bit;
  const char *path;
} hev_required;

/* The bits of the two lists below. */
#define HEV_ENVELOPE_REQUIRED                                                                   \
  (HEV_BIT(BP__HF_SEQ) | HEV_BIT(BP__HF_ARRIVAL) | HEV_BIT(BP__HF_EVENT_ID) |                  \
   HEV_BIT(BP__HF_EVENT_NAME) | HEV_BIT(BP__HF_EVENT_VERSION) | HEV_BIT(BP__HF_AWS_REGION) |   \
   HEV_BIT(BP__HF_EVENT_SOURCE_ARN))
#define HEV_KINESIS_REQUIRED                                                                    \
  (HEV_ENVELOPE_REQUIRED | HEV_BIT(BP__HF_DATA) | HEV_BIT(BP__HF_PARTITION_KEY) |              \
   HEV_BIT(BP__HF_SCHEMA) | HEV_BIT(BP__HF_INVOKE_ARN))
#define HEV_DYNAMODB_REQUIRED                                                                   \
  (HEV_ENVELOPE_REQUIRED | HEV_BIT(BP__HF_KEYS) | HEV_SIZE_BYTES | HEV_BIT(BP__HF_VIEW_TYPE))

static const hev_required hev_kinesis_required[] = {
    {HEV_BIT(BP__HF_SEQ), "kinesis.sequenceNumber"},
    {HEV_BIT(BP__HF_DATA), "kinesis.data"},
    {HEV_BIT(BP__HF_PARTITION_KEY), "kinesis.partitionKey"},
    {HEV_BIT(BP__HF_ARRIVAL), "kinesis.approximateArrivalTimestamp"},
    {HEV_BIT(BP__HF_SCHEMA), "kinesis.kinesisSchemaVersion"},
    {HEV_BIT(BP__HF_EVENT_ID), "eventID"},
    {HEV_BIT(BP__HF_EVENT_NAME), "eventName"},
    {HEV_BIT(BP__HF_EVENT_VERSION), "eventVersion"},
    {HEV_BIT(BP__HF_INVOKE_ARN), "invokeIdentityArn"},
    {HEV_BIT(BP__HF_AWS_REGION), "awsRegion"},
    {HEV_BIT(BP__HF_EVENT_SOURCE_ARN), "eventSourceARN"},
};

static const hev_required hev_dynamodb_required[] = {
    {HEV_BIT(BP__HF_SEQ), "dynamodb.SequenceNumber"},
    {HEV_BIT(BP__HF_KEYS), "dynamodb.Keys"},
    {HEV_BIT(BP__HF_ARRIVAL), "dynamodb.ApproximateCreationDateTime"},
    {HEV_SIZE_BYTES, "dynamodb.SizeBytes"},
    {HEV_BIT(BP__HF_VIEW_TYPE), "dynamodb.StreamViewType"},
    {HEV_BIT(BP__HF_EVENT_ID), "eventID"},
    {HEV_BIT(BP__HF_EVENT_NAME), "eventName"},
    {HEV_BIT(BP__HF_EVENT_VERSION), "eventVersion"},
    {HEV_BIT(BP__HF_AWS_REGION), "awsRegion"},
    {HEV_BIT(BP__HF_EVENT_SOURCE_ARN), "eventSourceARN"},
};

/* The record's source, from eventSource, and its required members. */
static int hev_check_record(hev_parse_ctx *c, bp__hrec *r) {
  bp__hscan *s = &c->s;
  if (!(r->present & HEV_BIT(BP__HF_EVENT_SOURCE)))
    return hev_perr(c, BP_ERR_INVALID_RECORD, "eventSource", "missing");
  bp__hstr es = r->f[BP__HF_EVENT_SOURCE];
  const hev_required *req;
  size_t nreq;
  uint32_t mask;
  if (HEV_KEY(s, es, "aws:kinesis")) {
    r->source = BP_SOURCE_KINESIS;
    if (!(r->present & HEV_KINESIS)) return hev_perr(c, BP_ERR_INVALID_RECORD, "kinesis", "missing");
    if (r->present & HEV_BIT(BP__HF_DYNAMODB))
      return hev_perr(c, BP_ERR_INVALID_RECORD, "dynamodb", "in a Kinesis record");
    req = hev_kinesis_required;
    nreq = sizeof hev_kinesis_required / sizeof *req;
    mask = HEV_KINESIS_REQUIRED;
  } else if (HEV_KEY(s, es, "aws:dynamodb")) {
    r->source = BP_SOURCE_DYNAMODB;
    if (!(r->present & HEV_BIT(BP__HF_DYNAMODB)))
      return hev_perr(c, BP_ERR_INVALID_RECORD, "dynamodb", "missing");
    if (r->present & HEV_KINESIS)
      return hev_perr(c, BP_ERR_INVALID_RECORD, "kinesis", "in a DynamoDB record");
    req = hev_dynamodb_required;
    nreq = sizeof hev_dynamodb_required / sizeof *req;
    mask = HEV_DYNAMODB_REQUIRED;
  } else {
    return hev_perr(c, BP_ERR_INVALID_RECORD, "eventSource",
                "not aws:kinesis or aws:dynamodb (a record of another source)");
  }
  /* One test for the whole list; the loop only names the first member missing. */
  if ((r->present & mask) != mask)
    for (size_t i = 0; i < nreq; i++)
      if (!(r->present & req[i].bit))
        return hev_perr(c, BP_ERR_INVALID_RECORD, req[i].path, "missing");
  if (c->rec > 0 && r->source != c->h->recs[0].source)
    return hev_perr(c, BP_ERR_INVALID_RECORD, "eventSource",
                "differs from the first record's (one event, one source)");
  return 0;
}

/* Both sources' envelopes: Kinesis order first, the DynamoDB-only names after. */
enum { HEV_R_KINESIS, HEV_R_SOURCE, HEV_R_VERSION, HEV_R_ID, HEV_R_NAME, HEV_R_INVOKE, HEV_R_REGION, HEV_R_ARN, HEV_R_DYNAMODB,
       HEV_R_USER, HEV_R_COUNT };
static const bp__hkey hev_record_keys[HEV_R_COUNT] = {
    BP__HKEY("kinesis"),   BP__HKEY("eventSource"),       BP__HKEY("eventVersion"),
    BP__HKEY("eventID"),   BP__HKEY("eventName"),         BP__HKEY("invokeIdentityArn"),
    BP__HKEY("awsRegion"), BP__HKEY("eventSourceARN"),    BP__HKEY("dynamodb"),
    BP__HKEY("userIdentity")};
/* The envelope member -> field (HEV_R_ID .. HEV_R_ARN, HEV_R_SOURCE, HEV_R_VERSION). */
static int hev_envelope_field(int which, const char **path) {
  static const struct {
    int f;
    const char *path;
  } map[HEV_R_COUNT] = {
      [HEV_R_SOURCE] = {BP__HF_EVENT_SOURCE, "eventSource"},
      [HEV_R_VERSION] = {BP__HF_EVENT_VERSION, "eventVersion"},
      [HEV_R_ID] = {BP__HF_EVENT_ID, "eventID"},
      [HEV_R_NAME] = {BP__HF_EVENT_NAME, "eventName"},
      [HEV_R_INVOKE] = {BP__HF_INVOKE_ARN, "invokeIdentityArn"},
      [HEV_R_REGION] = {BP__HF_AWS_REGION, "awsRegion"},
      [HEV_R_ARN] = {BP__HF_EVENT_SOURCE_ARN, "eventSourceARN"},
  };
  *path = map[which].path;
  return map[which].f;
}

static int hev_parse_record(hev_parse_ctx *c, bp__hrec *r) {
  bp__hscan *s = &c->s;
  static const bp__hrec empty; /* copied, not memset: a call per record costs more */
  *r = empty;
  int rc = bp__hs_expect(s, '{'), more, which, prev = HEV_R_COUNT;
  if (rc) return hev_perr(c, BP_ERR_INVALID_JSON, "", "not an object");
  bp__hstr k;
  for (int first = 1; (more = bp__hs_member_known(s, first, hev_record_keys, HEV_R_COUNT,
                                                  &c->learn_record, &prev, &which, &k)) == 1;
       first = 0) {
    const char *path;
    switch (which) {
    case HEV_R_KINESIS: rc = hev_parse_kinesis(c, r); break;
    case HEV_R_DYNAMODB: rc = hev_parse_dynamodb(c, r); break;
    case HEV_R_USER: rc = hev_image_field(c, r, BP__HF_USER_IDENTITY, "userIdentity"); break;
    case -1: rc = hev_skip_member(c, "", k); break;
    default: {
      int f = hev_envelope_field(which, &path);
      rc = hev_string_field(c, r, f, path);
    }
    }
    if (rc) return rc;
  }
  if (more < 0) return hev_sfail(c, more, "");
  return hev_check_record(c, r);
}

static int hev_parse_records(hev_parse_ctx *c) {
  bp_handler *h = c->h;
  h->nrecs = 0; /* a duplicated Records member: the last one counts */
  c->rec = SIZE_MAX;
  if (bp__hs_peek(&c->s) != '[') return hev_perr(c, BP_ERR_INVALID_JSON, "Records", "not an array");
  c->s.p++;
  int more, rc;
  for (int first = 1; (more = bp__hs_element(&c->s, first)) == 1; first = 0) {
    if (h->nrecs == h->recs_cap) {
      size_t cap = h->recs_cap ? h->recs_cap * 2 : 64;
      bp__hrec *p = bp__realloc(&h->alloc, h->recs, cap * sizeof *p);
      if (!p) return bp__error(&h->err, BP_ERR_NOMEM, "out of memory");
      h->recs = p;
      h->recs_cap = cap;
    }
    c->rec = h->nrecs;
    if ((rc = hev_parse_record(c, &h->recs[h->nrecs]))) return rc;
    h->nrecs++;
    c->rec = SIZE_MAX;
  }
  return more < 0 ? hev_sfail(c, more, "Records") : 0;
}

static int hev_window_time(hev_parse_ctx *c, int64_t *ms, int *has, const char *path) {
  bp__hstr t;
  int rc = bp__hs_string(&c->s, &t);
  if (rc) return hev_sfail(c, rc, path);
  if (bp__parse_iso(bp__hs_ptr(&c->s, t), t.len & ~BP__HS_UNESC, ms))
    return hev_perr(c, BP_ERR_INVALID_RECORD, path, "not an RFC 3339 UTC time");
  *has = 1;
  return 0;
}

static int hev_parse_window(hev_parse_ctx *c) {
  bp__hwin *w = &c->h->win;
  bp__hscan *s = &c->s;
  int rc = bp__hs_expect(s, '{'), more;
  if (rc) return hev_perr(c, BP_ERR_INVALID_JSON, "window", "not an object");
  w->present = 1;
  bp__hstr k;
  for (int first = 1; (more = bp__hs_member(s, first, &k)) == 1; first = 0) {
    if (HEV_KEY(s, k, "start")) rc = hev_window_time(c, &w->start_ms, &w->has_start, "window.start");
    else if (HEV_KEY(s, k, "end")) rc = hev_window_time(c, &w->end_ms, &w->has_end, "window.end");
    else rc = hev_skip_member(c, "window", k);
    if (rc) return rc;
  }
  return more < 0 ? hev_sfail(c, more, "window") : 0;
}

static int hev_bool_member(hev_parse_ctx *c, int *v, const char *path) {
  int rc = bp__hs_bool(&c->s, v);
  return rc ? hev_perr(c, BP_ERR_INVALID_JSON, path, "not a boolean") : 0;
}

static int hev_top_member(hev_parse_ctx *c, bp__hstr k, int *has_records) {
  bp__hscan *s = &c->s;
  bp__hwin *w = &c->h->win;
  int rc;
  if (HEV_KEY(s, k, "Records")) {
    *has_records = 1;
    return hev_parse_records(c);
  }
  if (HEV_KEY(s, k, "window")) return hev_parse_window(c);
  if (HEV_KEY(s, k, "state")) {
    bp__hstr span;
    if ((rc = hev_object_span(c, &span, "state"))) return rc;
    w->state = s->base + span.off;
    w->state_len = span.len;
    return 0;
  }
  if (HEV_KEY(s, k, "shardId")) {
    if ((rc = bp__hs_string(s, &w->shard_id))) return hev_sfail(c, rc, "shardId");
    w->has_shard = 1;
    return 0;
  }
  if (HEV_KEY(s, k, "eventSourceARN")) {
    if ((rc = bp__hs_string(s, &w->event_source_arn))) return hev_sfail(c, rc, "eventSourceARN");
    w->has_arn = 1;
    return 0;
  }
  if (HEV_KEY(s, k, "isFinalInvokeForWindow")) {
    w->has_final = 1;
    return hev_bool_member(c, &w->is_final, "isFinalInvokeForWindow");
  }
  if (HEV_KEY(s, k, "isWindowTerminatedEarly"))
    return hev_bool_member(c, &w->is_terminated_early, "isWindowTerminatedEarly");
  return hev_skip_member(c, "", k);
}

int bp__handler_parse(bp_handler *h, const char *event, size_t len) {
  hev_parse_ctx c = {.h = h, .rec = SIZE_MAX};
  bp__hlearn_init(&c.learn_record, HEV_R_COUNT);
  bp__hlearn_init(&c.learn_kinesis, HEV_K_COUNT);
  bp__hlearn_init(&c.learn_dynamodb, HEV_D_COUNT);
  h->nrecs = 0;
  h->unesc.len = 0;
  h->data.len = 0;
  memset(&h->win, 0, sizeof h->win);
  if (len > INT32_MAX)
    return bp__error(&h->err, BP_ERR_TOO_LARGE, "event of %zu bytes: at most 2 GiB", len);
  /* Decoded data never exceeds 3/4 of the event; the slack is bp__b64_decode_quoted()'s. */
  int rc = bp__buf_reserve(&h->data, len / 4 * 3 + 3 + BP__B64_QUOTED_SLACK);
  if (rc) return bp__error(&h->err, rc, "out of memory");
  bp__hs_init(&c.s, event, len, &h->unesc, &h->stack);
  c.s.fast = !h->general;
  if (bp__hs_peek(&c.s) != '{')
    return hev_perr(&c, BP_ERR_INVALID_JSON, "(event)", c.s.p < c.s.end ? "not a JSON object"
                                                                     : "empty text");
  c.s.p++;
  int more, has_records = 0;
  bp__hstr k;
  for (int first = 1; (more = bp__hs_member(&c.s, first, &k)) == 1; first = 0)
    if ((rc = hev_top_member(&c, k, &has_records))) return rc;
  if (more < 0) return hev_sfail(&c, more, "(event)");
  if (bp__hs_peek(&c.s) != -1)
    return hev_perr(&c, BP_ERR_INVALID_JSON, "(event)", "data after the JSON value");
  if (!has_records) return hev_perr(&c, BP_ERR_INVALID_RECORD, "Records", "missing");
  bp__hwin *w = &h->win;
  if (w->present) {
    const char *miss = !w->has_start   ? "window.start"
                       : !w->has_end   ? "window.end"
                       : !w->has_shard ? "shardId"
                       : !w->has_final ? "isFinalInvokeForWindow"
                                       : NULL;
    if (miss) return hev_perr(&c, BP_ERR_INVALID_RECORD, miss, "missing (a tumbling-window event)");
    if (!w->state) {
      w->state = "{}";
      w->state_len = 2;
    }
  }
  return 0;
}
