/* SPDX-License-Identifier: MIT */
/*
 * One Kinesis record of a Lambda event (SEMANTICS.md §1.1, key order §1.4):
 * {"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":..,"sequenceNumber":"..",
 *  "data":"<base64>","approximateArrivalTimestamp":<s.mmm>[,"encryptionType":..]},
 *  "eventSource":"aws:kinesis","eventVersion":"1.0","eventID":"<shard>:<seq>",
 *  "eventName":"aws:kinesis:record","invokeIdentityArn":..,"awsRegion":..,"eventSourceARN":..}
 */
#include "bp_b64_int.h"
#include "bp_codec_int.h"
#include "bp_jsonw_int.h"
#include "batchpoint/bp_seqnum.h"

#define K_OPEN "{\"kinesis\":{\"kinesisSchemaVersion\":\"1.0\",\"partitionKey\":"
#define K_SEQ ",\"sequenceNumber\":\""
#define K_DATA "\",\"data\":\""
#define K_TS "\",\"approximateArrivalTimestamp\":"
#define K_ENC ",\"encryptionType\":"
#define K_MID "},\"eventSource\":\"aws:kinesis\",\"eventVersion\":\"1.0\",\"eventID\":"
#define K_NAME "\",\"eventName\":\"aws:kinesis:record\",\"invokeIdentityArn\":"
#define K_REGION ",\"awsRegion\":"
#define K_ARN ",\"eventSourceARN\":"
#define LIT_LEN(s) (sizeof(s) - 1)

int bp__kinesis_codec_init(bp_codec *c) {
  size_t n = LIT_LEN(K_NAME) + c->role.len + LIT_LEN(K_REGION) + c->region.len +
             LIT_LEN(K_ARN) + c->arn.len + 1;
  char *p = bp__malloc(&c->alloc, n);
  if (!p) return BP_ERR_NOMEM;
  c->kin_tail = p;
  c->kin_tail_len = n;
  p = BP__PUT_LIT(p, K_NAME);
  p = bp__put(p, c->role.text, c->role.len);
  p = BP__PUT_LIT(p, K_REGION);
  p = bp__put(p, c->region.text, c->region.len);
  p = BP__PUT_LIT(p, K_ARN);
  p = bp__put(p, c->arn.text, c->arn.len);
  *p = '}';
  return 0;
}

static int kin_bad(bp_codec *c, size_t index, const char *what) {
  return bp__error(&c->err, BP_ERR_INVALID_RECORD, "record %zu: %s", index, what);
}

int bp__kinesis_data_check(bp_codec *c, const bp_record *r, size_t index) {
  size_t decoded;
  if ((r->flags & BP_RECORD_DATA_BASE64) && r->data &&
      bp__b64_check((const char *)r->data, r->data_len, &decoded))
    return kin_bad(c, index, "data is not strict base64");
  return 0;
}

/* data's length in the event. Base64 data is checked here unless @p defer (the writer checks
 * it as it copies it). */
static int data_b64_len(bp_codec *c, const bp_record *r, size_t index, int defer, size_t *len) {
  if (!r->data && r->data_len) return kin_bad(c, index, "data is NULL with a non-zero length");
  if (r->flags & BP_RECORD_DATA_BASE64) {
    int rc = defer ? 0 : bp__kinesis_data_check(c, r, index);
    if (rc) return rc;
    *len = r->data_len;
  } else {
    *len = bp_base64_encoded_len(r->data_len); /* SIZE_MAX when too large: refused below */
  }
  return 0;
}

/* An error of a check after the data's: with that check deferred, bad base64 data is still
 * the record's first error. */
static int late_bad(bp_codec *c, const bp_record *r, size_t index, int defer, const char *what) {
  int rc = defer ? bp__kinesis_data_check(c, r, index) : 0;
  return rc ? rc : kin_bad(c, index, what);
}

int bp__kinesis_record_size(bp_codec *c, const char *shard_id, size_t shard_len,
                            const bp_record *r, size_t index, size_t *size) {
  return bp__kinesis_record_size_q(c, bp__json_str_len(shard_id, shard_len), r, index, 0, size,
                                   NULL);
}

int bp__kinesis_record_check(bp_codec *c, const char *shard_id, size_t shard_len,
                             const bp_record *r, size_t index) {
  /* With every length below SIZE_MAX / 16, the ten terms of the size (a text's escaped form
   * is at most 6 bytes a byte, plus its quotes) cannot add up to SIZE_MAX. */
  const size_t small = SIZE_MAX / 16;
  size_t data = r->flags & BP_RECORD_DATA_BASE64 ? r->data_len : bp_base64_encoded_len(r->data_len);
  size_t size;
  if (shard_len < small && r->seq_len < small && r->partition_key_len < small &&
      r->encryption_type_len < small && data < small)
    return bp__kinesis_record_size_q(c, 0, r, index, BP__SIZE_UNSIZED, &size, NULL);
  return bp__kinesis_record_size(c, shard_id, shard_len, r, index, &size);
}

int bp__kinesis_record_size_q(bp_codec *c, size_t shard_quoted_len, const bp_record *r,
                              size_t index, unsigned flags, size_t *size, unsigned char *shape) {
  int defer_b64 = (flags & BP__SIZE_DEFER_B64) != 0;
  if (!(flags & BP__SIZE_TRUSTED)) {
    if (bp_seqnum_validate(r->seq, r->seq_len)) return kin_bad(c, index, "sequenceNumber is not a decimal sequence number");
    if (!bp__time_in_range(r->arrival_ms)) return kin_bad(c, index, "approximateArrivalTimestamp out of range");
  }
  size_t pk_quoted; /* the key's length in the event */
  unsigned char pk_shape = 0;
  if (r->partition_key && r->partition_key_len - 1 < BP_KINESIS_MAX_PARTITION_KEY_CHARS &&
      bp__json_plain(r->partition_key, r->partition_key_len)) {
    /* 1 to 256 ASCII bytes, none escaped: valid, as many characters, quoted as they are */
    pk_quoted = r->partition_key_len + 2;
    pk_shape = BP__KIN_PK_PLAIN;
  } else {
    if (!r->partition_key && r->partition_key_len) return kin_bad(c, index, "partitionKey is NULL");
    switch (bp__utf8_len_check(r->partition_key ? r->partition_key : "", r->partition_key_len, 1,
                               BP_KINESIS_MAX_PARTITION_KEY_CHARS)) {
    case BP__UTF8_INVALID: return kin_bad(c, index, "partitionKey is not valid UTF-8");
    case BP__UTF8_TOO_SHORT: return kin_bad(c, index, "partitionKey is empty");
    case BP__UTF8_TOO_LONG: return kin_bad(c, index, "partitionKey is longer than 256 characters");
    default: break;
    }
    pk_quoted = 0; /* measured below, when the size is wanted */
  }
  size_t data_len = 0;
  int rc = data_b64_len(c, r, index, defer_b64, &data_len);
  if (rc) return rc;
  if (flags & BP__SIZE_UNSIZED) {
    if (r->encryption_type && !bp__utf8_valid(r->encryption_type, r->encryption_type_len))
      return late_bad(c, r, index, defer_b64, "encryptionType is not valid UTF-8");
    return 0;
  }
  /* Every term but data, the shard id and encryptionType is bounded; those three are summed
   * with saturation so a size that does not fit in a size_t is refused, never wrapped. */
  if (!pk_quoted) pk_quoted = bp__json_str_len(r->partition_key, r->partition_key_len);
  size_t n = LIT_LEN(K_OPEN) + pk_quoted +
             LIT_LEN(K_SEQ) + r->seq_len + LIT_LEN(K_DATA) + LIT_LEN(K_TS) +
             bp__epoch_seconds_len(r->arrival_ms) + LIT_LEN(K_MID) + r->seq_len +
             c->kin_tail_len;
  n = bp__size_add(bp__size_add(n, data_len), shard_quoted_len);
  if (r->encryption_type) {
    if (!bp__utf8_valid(r->encryption_type, r->encryption_type_len))
      return late_bad(c, r, index, defer_b64, "encryptionType is not valid UTF-8");
    n = bp__size_add(n, LIT_LEN(K_ENC) +
                            bp__json_str_len(r->encryption_type, r->encryption_type_len));
  }
  if (n == SIZE_MAX)
    return late_bad(c, r, index, defer_b64, "record too large: its size does not fit in a size_t");
  *size = n;
  if (shape) *shape = pk_shape;
  return 0;
}

/* approximateArrivalTimestamp (§1.4: seconds, '.', three digits). The records of a batch mostly
 * share their second: its digits are formatted once, then copied with the milliseconds. */
static char *put_arrival(bp__kin_shard *sh, int64_t ms, char *p) {
  uint64_t sec = (uint64_t)ms / 1000;
  unsigned frac = (unsigned)((uint64_t)ms - sec * 1000);
  if (!sh->ts_len || sec != sh->ts_sec) {
    sh->ts_len = bp__fmt_epoch_seconds(ms, sh->ts_text) - 3; /* through the '.' */
    sh->ts_sec = sec;
  }
  p = bp__put(p, sh->ts_text, sh->ts_len);
  p[0] = (char)('0' + frac / 100);
  p[1] = (char)('0' + frac / 10 % 10);
  p[2] = (char)('0' + frac % 10);
  return p + 3;
}

char *bp__kinesis_record_put(const bp_codec *c, bp__kin_shard *shard, const bp_record *r,
                             unsigned shape, char *p) {
  p = BP__PUT_LIT(p, K_OPEN);
  if (shape & BP__KIN_PK_PLAIN) { /* measured: nothing to escape */
    *p++ = '"';
    p = bp__put(p, r->partition_key, r->partition_key_len);
    *p++ = '"';
  } else {
    p = bp__json_str_put(p, r->partition_key, r->partition_key_len);
  }
  p = BP__PUT_LIT(p, K_SEQ);
  p = bp__put(p, r->seq, r->seq_len);
  p = BP__PUT_LIT(p, K_DATA);
  if (!(r->flags & BP_RECORD_DATA_BASE64)) p += bp__b64_encode(r->data, r->data_len, p);
  else if (bp__b64_check_copy((const char *)r->data, r->data_len, p)) return NULL;
  else p += r->data_len;
  p = BP__PUT_LIT(p, K_TS);
  p = put_arrival(shard, r->arrival_ms, p);
  if (r->encryption_type) {
    p = BP__PUT_LIT(p, K_ENC);
    p = bp__json_str_put(p, r->encryption_type, r->encryption_type_len);
  }
  if (shard->mid) { /* the same text as the first record's */
    p = bp__put(p, shard->mid, shard->mid_len);
  } else {
    shard->mid = p;
    p = BP__PUT_LIT(p, K_MID);
    p = bp__json_str_put(p, shard->raw, shard->raw_len) - 1; /* eventID: reopened */
    *p++ = ':';
    shard->mid_len = (size_t)(p - shard->mid);
  }
  p = bp__put(p, r->seq, r->seq_len);
  return bp__put(p, c->kin_tail, c->kin_tail_len);
}
