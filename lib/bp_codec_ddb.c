/* SPDX-License-Identifier: MIT */
/*
 * One DynamoDB Streams record of a Lambda event (SEMANTICS.md §1.2, §1.4):
 * {"eventID":..,"eventName":..,"eventVersion":"1.1","eventSource":"aws:dynamodb",
 *  "awsRegion":..,"dynamodb":{..},"eventSourceARN":..[,"userIdentity":{..}]}
 *
 * The host's `dynamodb` JSON object is validated and embedded byte for byte. The record
 * view's sequence number and arrival time are authoritative: a missing
 * ApproximateCreationDateTime is inserted as the first member and a missing SequenceNumber
 * as the last; present ones must agree with the view or the record is rejected.
 */
#include <string.h>

#include "bp_codec_int.h"
#include "bp_jsonw_int.h"
#include "batchpoint/bp_seqnum.h"

#define D_ID "{\"eventID\":"
#define D_NAME ",\"eventName\":\""
#define D_MID "\",\"eventVersion\":\"1.1\",\"eventSource\":\"aws:dynamodb\",\"awsRegion\":"
#define D_DDB ",\"dynamodb\":"
#define D_ARN ",\"eventSourceARN\":"
#define D_UID ",\"userIdentity\":"
#define D_ACDT "\"ApproximateCreationDateTime\":"
#define D_SEQ "\"SequenceNumber\":\""
#define LIT_LEN(s) (sizeof(s) - 1)

/* What the scan of the host's `dynamodb` text found (bp__ddb_shape bits). */
#define HAS_ACDT 1u
#define HAS_SEQ 2u
#define HAS_MEMBERS 4u

typedef struct scan {
  const bp_record *r;
  int depth;
  int key; /* the pending top-level key: 0 other, 1 ACDT, 2 SequenceNumber */
  unsigned shape;
  int mismatch; /* 1: ACDT disagrees, 2: SequenceNumber disagrees, 3: wrong type */
} scan;

/* Decimal digits of ms as text (no sign; ms >= 0). */
static size_t ms_digits(int64_t ms, char *out) {
  char tmp[24];
  size_t n = 0;
  do {
    tmp[n++] = (char)('0' + ms % 10);
    ms /= 10;
  } while (ms);
  for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
  return n;
}

/*
 * Does the JSON number token (epoch seconds) denote the same millisecond as @p ms? The token
 * is read exactly as decimal (mantissa digits x 10^exp), truncated to whole milliseconds;
 * no floating point, so 1732550400.123 and 1.732550400123E9 both match 1732550400123.
 */
static int number_is_ms(const char *s, size_t n, int64_t ms) {
  char mant[64];
  size_t m = 0, i = 0;
  long exp = 0;
  if (i < n && s[i] == '-') return 0;
  for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
    if (m == 0 && s[i] == '0') continue; /* leading zeros carry no value */
    if (m == sizeof mant) return 0;
    mant[m++] = s[i];
  }
  if (i < n && s[i] == '.') {
    for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
      exp--;
      if (m == 0 && s[i] == '0') continue;
      if (m == sizeof mant) return 0;
      mant[m++] = s[i];
    }
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    int neg = 0;
    long e = 0;
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
      if ((e = e * 10 + (s[i] - '0')) > 1000) return 0;
    exp += neg ? -e : e;
  }
  exp += 3; /* seconds -> milliseconds */
  char want[24];
  size_t w = ms == 0 ? 0 : ms_digits(ms, want);
  /* value in ms, truncated: mant (m digits) x 10^exp */
  if (exp >= 0) {
    if (m == 0) return w == 0;
    if ((size_t)exp > sizeof want || m + (size_t)exp != w) return 0;
    if (memcmp(mant, want, m) != 0) return 0;
    for (size_t k = m; k < w; k++)
      if (want[k] != '0') return 0;
    return 1;
  }
  size_t drop = (size_t)-exp;
  size_t keep = m > drop ? m - drop : 0;
  return keep == w && memcmp(mant, want, keep) == 0;
}

static int s_value(scan *s, int is_number, int is_string, const char *v, size_t n) {
  if (s->depth != 1 || !s->key) return 1;
  if (s->key == 1) {
    s->shape |= HAS_ACDT;
    if (!is_number) s->mismatch = 3;
    else if (!number_is_ms(v, n, s->r->arrival_ms)) s->mismatch = 1;
  } else {
    s->shape |= HAS_SEQ;
    if (!is_string) s->mismatch = 3;
    else if (bp__seq_cmp(v, n, s->r->seq, s->r->seq_len) != 0) s->mismatch = 2;
  }
  s->key = 0;
  return 1;
}

static int s_null(void *c) { return s_value(c, 0, 0, NULL, 0); }
static int s_bool(void *c, int v) {
  (void)v;
  return s_value(c, 0, 0, NULL, 0);
}
static int s_number(void *c, const char *v, size_t n) { return s_value(c, 1, 0, v, n); }
static int s_string(void *c, const char *v, size_t n) { return s_value(c, 0, 1, v, n); }
static int s_open(void *c) {
  scan *s = c;
  if (s->depth == 1 && s->key) s_value(s, 0, 0, NULL, 0); /* a container where a scalar belongs */
  s->depth++;
  return 1;
}
static int s_close(void *c) {
  ((scan *)c)->depth--;
  return 1;
}
static int s_key(void *c, const char *k, size_t n) {
  scan *s = c;
  if (s->depth != 1) return 1;
  s->shape |= HAS_MEMBERS;
  s->key = (n == LIT_LEN("ApproximateCreationDateTime") &&
            memcmp(k, "ApproximateCreationDateTime", n) == 0)
               ? 1
               : (n == LIT_LEN("SequenceNumber") && memcmp(k, "SequenceNumber", n) == 0) ? 2 : 0;
  return 1;
}

static const bp__json_cb scan_cb = {s_null, s_bool, s_number, s_string, s_open,
                                    s_key,  s_close, s_open,  s_close};

static int bad(bp_codec *c, size_t index, const char *what) {
  return bp__error(&c->err, BP_ERR_INVALID_RECORD, "record %zu: %s", index, what);
}

/* First non-whitespace byte of a JSON text (the parser already accepted it). */
static const char *first_ns(const char *s, size_t n) {
  while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) s++, n--;
  return s;
}

static int is_object(const char *s, size_t n) { return n && *first_ns(s, n) == '{'; }

static int parse_object(bp_codec *c, const char *text, size_t n, const bp__json_cb *cb,
                        void *ctx, size_t index, const char *field) {
  if (!text) return bad(c, index, field);
  int rc = bp__json_parse(&c->json, text, n, cb, ctx, NULL);
  if (rc == BP_ERR_NOMEM) return bp__error(&c->err, rc, "out of memory");
  if (rc || !is_object(text, n)) return bad(c, index, field);
  return 0;
}

static int ddb_size(bp_codec *c, const bp_record *r, size_t index, size_t *size,
                    unsigned char *shape);

int bp__ddb_record_size(bp_codec *c, const bp_record *r, size_t index, size_t *size,
                        unsigned char *shape) {
  if (bp_seqnum_validate(r->seq, r->seq_len))
    return bad(c, index, "SequenceNumber is not a decimal sequence number");
  if (!bp__time_in_range(r->arrival_ms))
    return bad(c, index, "ApproximateCreationDateTime out of range");
  return ddb_size(c, r, index, size, shape);
}

int bp__ddb_record_size_trusted(bp_codec *c, const bp_record *r, size_t *size,
                                unsigned char *shape) {
  return ddb_size(c, r, 0, size, shape);
}

/* The record's checks after its sequence number and arrival time, and its size. */
static int ddb_size(bp_codec *c, const bp_record *r, size_t index, size_t *size,
                    unsigned char *shape) {
  if (!r->event_id || !r->event_id_len) return bad(c, index, "eventID is missing");
  if (!bp__utf8_valid(r->event_id, r->event_id_len))
    return bad(c, index, "eventID is not valid UTF-8");
  static const char *const names[] = {"INSERT", "MODIFY", "REMOVE"};
  int named = 0;
  for (int i = 0; i < 3; i++)
    named |= r->event_name && r->event_name_len == strlen(names[i]) &&
             memcmp(r->event_name, names[i], r->event_name_len) == 0;
  if (!named) return bad(c, index, "eventName is not INSERT, MODIFY or REMOVE");

  scan s = {r, 0, 0, 0, 0};
  int rc = parse_object(c, r->dynamodb_json, r->dynamodb_json_len, &scan_cb, &s, index,
                        "dynamodb is not a JSON object");
  if (rc) return rc;
  if (s.mismatch == 1)
    return bad(c, index, "dynamodb.ApproximateCreationDateTime differs from the record's arrival time");
  if (s.mismatch == 2)
    return bad(c, index, "dynamodb.SequenceNumber differs from the record's sequence number");
  if (s.mismatch == 3)
    return bad(c, index, "dynamodb.ApproximateCreationDateTime or SequenceNumber has the wrong type");

  /* eventID and the two objects are unbounded: summed with saturation, so a size that does
   * not fit in a size_t is refused, never wrapped. */
  size_t n = LIT_LEN(D_NAME) + r->event_name_len + LIT_LEN(D_MID) + c->region.len +
             LIT_LEN(D_DDB) + LIT_LEN(D_ARN) + c->arn.len + 1 + LIT_LEN(D_ID);
  n = bp__size_add(bp__size_add(n, bp__json_str_len(r->event_id, r->event_id_len)),
                   r->dynamodb_json_len);
  int members = (s.shape & HAS_MEMBERS) != 0;
  if (!(s.shape & HAS_ACDT))
    n = bp__size_add(n, LIT_LEN(D_ACDT) + bp__epoch_seconds_len(r->arrival_ms) + members);
  if (!(s.shape & HAS_SEQ))
    n = bp__size_add(n, (members || !(s.shape & HAS_ACDT)) + LIT_LEN(D_SEQ) + r->seq_len + 1);
  if (r->user_identity_json) {
    rc = parse_object(c, r->user_identity_json, r->user_identity_json_len, NULL, NULL, index,
                      "userIdentity is not a JSON object");
    if (rc) return rc;
    n = bp__size_add(n, bp__size_add(LIT_LEN(D_UID), r->user_identity_json_len));
  }
  if (n == SIZE_MAX)
    return bad(c, index, "record too large: its size does not fit in a size_t");
  if (shape) *shape = (unsigned char)s.shape;
  *size = n;
  return 0;
}

/* Embed the host object, inserting the members it lacks right after its '{' and before its
 * final '}' (both located by the validating scan: first and last non-space bytes). */
static char *put_dynamodb(const bp_record *r, unsigned shape, char *p) {
  const char *t = r->dynamodb_json, *end = t + r->dynamodb_json_len;
  const char *open = first_ns(t, r->dynamodb_json_len);
  const char *close = end - 1;
  while (*close != '}') close--;
  int members = (shape & HAS_MEMBERS) != 0;
  p = bp__put(p, t, (size_t)(open - t) + 1);
  if (!(shape & HAS_ACDT)) {
    p = BP__PUT_LIT(p, D_ACDT);
    p += bp__fmt_epoch_seconds(r->arrival_ms, p);
    if (members) *p++ = ',';
  }
  p = bp__put(p, open + 1, (size_t)(close - open - 1));
  if (!(shape & HAS_SEQ)) {
    if (members || !(shape & HAS_ACDT)) *p++ = ',';
    p = BP__PUT_LIT(p, D_SEQ);
    p = bp__put(p, r->seq, r->seq_len);
    *p++ = '"';
  }
  return bp__put(p, close, (size_t)(end - close));
}

char *bp__ddb_record_put(const bp_codec *c, const bp_record *r, unsigned char shape, char *p) {
  p = BP__PUT_LIT(p, D_ID);
  p = bp__json_str_put(p, r->event_id, r->event_id_len);
  p = BP__PUT_LIT(p, D_NAME);
  p = bp__put(p, r->event_name, r->event_name_len);
  p = BP__PUT_LIT(p, D_MID);
  p = bp__put(p, c->region.text, c->region.len);
  p = BP__PUT_LIT(p, D_DDB);
  p = put_dynamodb(r, shape, p);
  p = BP__PUT_LIT(p, D_ARN);
  p = bp__put(p, c->arn.text, c->arn.len);
  if (r->user_identity_json) {
    p = BP__PUT_LIT(p, D_UID);
    p = bp__put(p, r->user_identity_json, r->user_identity_json_len);
  }
  *p++ = '}';
  return p;
}
