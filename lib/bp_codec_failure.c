/* SPDX-License-Identifier: MIT */
/*
 * On-failure destination records (SEMANTICS.md §5.2-§5.5) and their S3 object keys.
 *
 * Layout (compact, this key order, §1.4):
 * {"requestContext":{"requestId":..,"functionArn":..,"condition":"..","approximateInvokeCount":N},
 *  "responseContext":{"statusCode":N,"executedVersion":..,"functionError":..|null},
 *  "version":"1.0","timestamp":"YYYY-MM-DDTHH:MM:SS.mmmZ",
 *  "KinesisBatchInfo"|"DDBStreamBatchInfo":{"shardId":..,"startSequenceNumber":"..",
 *  "endSequenceNumber":"..","approximateArrivalOfFirstRecord":"..",
 *  "approximateArrivalOfLastRecord":"..","batchSize":N,"streamArn":..},"payload":".."}
 * responseContext only for RetryAttemptsExhausted; payload only for S3 (info->payload set).
 * Kinesis arrival times carry milliseconds, DynamoDB ones whole seconds.
 *
 * As everywhere in the codec: validate, compute the exact length, reserve once, write.
 */
#include <limits.h>
#include <string.h>

#include "bp_codec_int.h"
#include "bp_jsonw_int.h"
#include "batchpoint/bp_seqnum.h"

#define F_REQ "{\"requestContext\":{\"requestId\":"
#define F_FN ",\"functionArn\":"
#define F_COND ",\"condition\":\""
#define F_INVOKE_COUNT "\",\"approximateInvokeCount\":"
#define F_RESP "},\"responseContext\":{\"statusCode\":"
#define F_EV ",\"executedVersion\":"
#define F_FE ",\"functionError\":"
#define F_VER "},\"version\":\"1.0\",\"timestamp\":\""
#define F_KIN "\",\"KinesisBatchInfo\":{\"shardId\":"
#define F_DDB_INFO "\",\"DDBStreamBatchInfo\":{\"shardId\":"
#define F_START ",\"startSequenceNumber\":\""
#define F_END "\",\"endSequenceNumber\":\""
#define F_FIRST "\",\"approximateArrivalOfFirstRecord\":\""
#define F_LAST "\",\"approximateArrivalOfLastRecord\":\""
#define F_SIZE "\",\"batchSize\":"
#define F_ARN ",\"streamArn\":"
#define F_PAYLOAD "},\"payload\":"
#define F_CLOSE "}}"
#define LIT_LEN(s) (sizeof(s) - 1)

#define COND_RAE "RetryAttemptsExhausted"
#define COND_RAGE "RecordAgeExceeded"
#define LATEST "$LATEST"
#define STATUS_DEFAULT 200

#define ISO_MS_LEN 24 /* YYYY-MM-DDTHH:MM:SS.mmmZ */
#define ISO_S_LEN 20  /* YYYY-MM-DDTHH:MM:SSZ */

/* Overflow-checked length arithmetic (only reachable with absurd lengths on 32-bit). */
static int add(size_t *total, size_t n) {
  if (n > SIZE_MAX - *total) return -1;
  *total += n;
  return 0;
}

/* Escaped length of a string, quotes included; -1 if it could not be represented. */
static int str_len(const char *s, size_t n, size_t *total) {
  if (n > (SIZE_MAX - 2) / 6) return -1;
  return add(total, bp__json_str_len(s, n));
}

static int check_str(bp_codec *c, const char *s, size_t n, const char *what) {
  if (!s) return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT, "%s is NULL", what);
  if (!bp__span_ok(s, n))
    return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT, "%s length %zu is larger than any object",
                     what, n);
  if (!bp__utf8_valid(s, n))
    return bp__error(&c->err, BP_ERR_INVALID_UTF8, "%s is not valid UTF-8", what);
  return 0;
}

static int check_seq(bp_codec *c, const char *s, size_t n, const char *what) {
  if (!s) return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT, "%s is NULL", what);
  if (bp_seqnum_validate(s, n))
    return bp__error(&c->err, BP_ERR_INVALID_SEQNUM, "%s is not a decimal sequence number", what);
  return 0;
}

static int check_time(bp_codec *c, int64_t ms, const char *what) {
  if (!bp__time_in_range(ms))
    return bp__error(&c->err, BP_ERR_RANGE, "%s (%lld ms) is out of range", what, (long long)ms);
  return 0;
}

/* Everything bp_codec_encode_failure() checks before computing a length. */
static int validate(bp_codec *c, const bp_failure_info *f, int with_response) {
  int rc;
  if (c->function.len == 0)
    return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT,
                     "codec has no function_arn: failure records need one");
  if (f->condition != BP_CONDITION_RETRY_ATTEMPTS_EXHAUSTED &&
      f->condition != BP_CONDITION_RECORD_AGE_EXCEEDED)
    return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT, "unknown condition %d", f->condition);
  if (f->approximate_invoke_count == 0)
    return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT, "approximateInvokeCount must be >= 1");
  if (f->batch_size == 0)
    return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT, "batchSize must be >= 1");
  if ((rc = check_str(c, f->request_id, f->request_id_len, "requestId"))) return rc;
  if (!f->shard_id) return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT, "shardId is NULL");
  if ((rc = check_str(c, f->shard_id, strlen(f->shard_id), "shardId"))) return rc;
  if ((rc = check_seq(c, f->start_seq, f->start_seq_len, "startSequenceNumber"))) return rc;
  if ((rc = check_seq(c, f->end_seq, f->end_seq_len, "endSequenceNumber"))) return rc;
  if (bp__seq_cmp(f->start_seq, f->start_seq_len, f->end_seq, f->end_seq_len) > 0)
    return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT,
                     "startSequenceNumber is greater than endSequenceNumber");
  if ((rc = check_time(c, f->timestamp_ms, "timestamp"))) return rc;
  if ((rc = check_time(c, f->first_arrival_ms, "approximateArrivalOfFirstRecord"))) return rc;
  if ((rc = check_time(c, f->last_arrival_ms, "approximateArrivalOfLastRecord"))) return rc;
  if (with_response) {
    /* responseContext members are read only when the record carries one. */
    if (f->status_code != 0 && (f->status_code < 100 || f->status_code > 599))
      return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT, "statusCode %d is not an HTTP status",
                       f->status_code);
    if (f->executed_version &&
        (rc = check_str(c, f->executed_version, f->executed_version_len, "executedVersion")))
      return rc;
    if (f->function_error &&
        (rc = check_str(c, f->function_error, f->function_error_len, "functionError")))
      return rc;
  }
  if (f->payload && (rc = check_str(c, f->payload, f->payload_len, "payload"))) return rc;
  return 0;
}

static int status_of(const bp_failure_info *f) {
  return f->status_code ? f->status_code : STATUS_DEFAULT;
}

static int failure_len(const bp_codec *c, const bp_failure_info *f, int with_response,
                       size_t *size) {
  int kinesis = c->source == BP_SOURCE_KINESIS;
  size_t arrival = kinesis ? ISO_MS_LEN : ISO_S_LEN;
  size_t n = LIT_LEN(F_REQ) + LIT_LEN(F_FN) + LIT_LEN(F_COND) + LIT_LEN(F_INVOKE_COUNT) +
             LIT_LEN(F_VER) + ISO_MS_LEN + (kinesis ? LIT_LEN(F_KIN) : LIT_LEN(F_DDB_INFO)) +
             LIT_LEN(F_START) + LIT_LEN(F_END) + LIT_LEN(F_FIRST) + arrival + LIT_LEN(F_LAST) +
             arrival + LIT_LEN(F_SIZE) + LIT_LEN(F_ARN);
  n += f->condition == BP_CONDITION_RETRY_ATTEMPTS_EXHAUSTED ? LIT_LEN(COND_RAE)
                                                             : LIT_LEN(COND_RAGE);
  n += bp__u64_len(f->approximate_invoke_count) + bp__u64_len(f->batch_size);
  n += f->payload ? LIT_LEN(F_PAYLOAD) + 1 : LIT_LEN(F_CLOSE);
  if (with_response) {
    n += LIT_LEN(F_RESP) + bp__u64_len((uint64_t)status_of(f)) + LIT_LEN(F_EV) + LIT_LEN(F_FE);
    if (f->executed_version) {
      if (str_len(f->executed_version, f->executed_version_len, &n)) return -1;
    } else {
      n += LIT_LEN(LATEST) + 2;
    }
    if (f->function_error) {
      if (str_len(f->function_error, f->function_error_len, &n)) return -1;
    } else {
      n += LIT_LEN("null");
    }
  }
  if (str_len(f->request_id, f->request_id_len, &n) ||
      str_len(f->shard_id, strlen(f->shard_id), &n) || add(&n, c->function.len) ||
      add(&n, c->arn.len) || add(&n, f->start_seq_len) || add(&n, f->end_seq_len))
    return -1;
  if (f->payload && str_len(f->payload, f->payload_len, &n)) return -1;
  *size = n;
  return 0;
}

static char *failure_put(const bp_codec *c, const bp_failure_info *f, int with_response,
                         char *p) {
  int kinesis = c->source == BP_SOURCE_KINESIS;
  p = BP__PUT_LIT(p, F_REQ);
  p = bp__json_str_put(p, f->request_id, f->request_id_len);
  p = BP__PUT_LIT(p, F_FN);
  p = bp__put(p, c->function.text, c->function.len);
  p = BP__PUT_LIT(p, F_COND);
  p = f->condition == BP_CONDITION_RETRY_ATTEMPTS_EXHAUSTED ? BP__PUT_LIT(p, COND_RAE)
                                                            : BP__PUT_LIT(p, COND_RAGE);
  p = BP__PUT_LIT(p, F_INVOKE_COUNT);
  p = bp__u64_put(p, f->approximate_invoke_count);
  if (with_response) {
    p = BP__PUT_LIT(p, F_RESP);
    p = bp__u64_put(p, (uint64_t)status_of(f));
    p = BP__PUT_LIT(p, F_EV);
    p = f->executed_version ? bp__json_str_put(p, f->executed_version, f->executed_version_len)
                            : BP__PUT_LIT(p, "\"" LATEST "\"");
    p = BP__PUT_LIT(p, F_FE);
    p = f->function_error ? bp__json_str_put(p, f->function_error, f->function_error_len)
                          : BP__PUT_LIT(p, "null");
  }
  p = BP__PUT_LIT(p, F_VER);
  p += bp__fmt_iso(f->timestamp_ms, 1, p);
  p = kinesis ? BP__PUT_LIT(p, F_KIN) : BP__PUT_LIT(p, F_DDB_INFO);
  p = bp__json_str_put(p, f->shard_id, strlen(f->shard_id));
  p = BP__PUT_LIT(p, F_START);
  p = bp__put(p, f->start_seq, f->start_seq_len);
  p = BP__PUT_LIT(p, F_END);
  p = bp__put(p, f->end_seq, f->end_seq_len);
  p = BP__PUT_LIT(p, F_FIRST);
  p += bp__fmt_iso(f->first_arrival_ms, kinesis, p);
  p = BP__PUT_LIT(p, F_LAST);
  p += bp__fmt_iso(f->last_arrival_ms, kinesis, p);
  p = BP__PUT_LIT(p, F_SIZE);
  p = bp__u64_put(p, f->batch_size);
  p = BP__PUT_LIT(p, F_ARN);
  p = bp__put(p, c->arn.text, c->arn.len);
  if (f->payload) {
    p = BP__PUT_LIT(p, F_PAYLOAD);
    p = bp__json_str_put(p, f->payload, f->payload_len);
    *p++ = '}';
  } else {
    p = BP__PUT_LIT(p, F_CLOSE);
  }
  return p;
}

#define FAILURE_INFO_SIZE_V1 BP__SIZE_V1(bp_failure_info, payload_len)

int bp_failure_info_init(bp_failure_info *f, size_t size) {
  int rc = bp__struct_init(f, size, FAILURE_INFO_SIZE_V1);
  if (rc) return rc;
  return 0;
}

int bp_codec_encode_failure(bp_codec *c, const bp_failure_info *host_info, const char **out,
                            size_t *out_len) {
  if (!c) return BP_ERR_INVALID_ARGUMENT;
  bp__errmsg_clear(&c->err);
  if (!host_info || !out || !out_len)
    return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT, "NULL argument");
  bp_failure_info fi;
  const bp_failure_info *info = &fi;
  if (bp__struct_in(&fi, sizeof fi, FAILURE_INFO_SIZE_V1, host_info, "bp_failure_info", c->err.text,
                    sizeof c->err.text))
    return BP_ERR_INVALID_ARGUMENT;
  int with_response = info->condition == BP_CONDITION_RETRY_ATTEMPTS_EXHAUSTED;
  int rc = validate(c, info, with_response);
  if (rc) return rc;
  size_t size;
  if (failure_len(c, info, with_response, &size))
    return bp__error(&c->err, BP_ERR_NOMEM, "failure record too large to represent");
  c->out.len = 0;
  if (bp__buf_reserve(&c->out, size))
    return bp__error(&c->err, BP_ERR_NOMEM, "out of memory for a %zu-byte failure record",
                     size);
  char *p = failure_put(c, info, with_response, c->out.data);
  c->out.len = (size_t)(p - c->out.data);
  if (c->out.len != size)
    return bp__error(&c->err, BP_ERR_INTERNAL, "encoded %zu bytes, computed %zu", c->out.len,
                     size);
  bp__buf_terminate(&c->out);
  *out = c->out.data;
  *out_len = c->out.len;
  return 0;
}

/* ---- S3 object key (§5.5) ---- */

#define K_PREFIX "aws/lambda/"
#define K_DATE_LEN 11 /* YYYY/MM/DD/ */
#define K_TIME_LEN 19 /* YYYY-MM-DDTHH.MM.SS */

/* A key component: non-empty UTF-8 without '/', so the key keeps its shape. */
static int key_part(const char *s, size_t *len) {
  if (!s) return -1;
  size_t n = strlen(s);
  if (n == 0 || memchr(s, '/', n) || !bp__utf8_valid(s, n)) return -1;
  *len = n;
  return 0;
}

static char *put_digits(char *p, int v, int width) {
  for (int i = width; i-- > 0; v /= 10) p[i] = (char)('0' + v % 10);
  return p + width;
}

int bp_failure_s3_key(const char *esm_uuid, const char *shard_id, int64_t timestamp_ms,
                      const char *uuid, char *buf, size_t len) {
  size_t esm_len, shard_len, uuid_len;
  if (!buf || key_part(esm_uuid, &esm_len) || key_part(shard_id, &shard_len) ||
      key_part(uuid, &uuid_len))
    return BP_ERR_INVALID_ARGUMENT;
  if (!bp__time_in_range(timestamp_ms)) return BP_ERR_RANGE;
  size_t need = LIT_LEN(K_PREFIX) + K_DATE_LEN + K_TIME_LEN + 3; /* three separators */
  if (esm_len > (size_t)INT_MAX || shard_len > (size_t)INT_MAX - esm_len ||
      uuid_len > (size_t)INT_MAX - esm_len - shard_len ||
      need > (size_t)INT_MAX - esm_len - shard_len - uuid_len)
    return BP_ERR_INVALID_ARGUMENT; /* the count would not fit the int result */
  need += esm_len + shard_len + uuid_len;
  if (len < need + 1) return BP_ERR_BUFFER_TOO_SMALL;

  int y, mo, d, h, mi, s, milli;
  bp__civil(timestamp_ms, &y, &mo, &d, &h, &mi, &s, &milli);
  char *p = buf;
  p = BP__PUT_LIT(p, K_PREFIX);
  p = bp__put(p, esm_uuid, esm_len);
  *p++ = '/';
  p = bp__put(p, shard_id, shard_len);
  *p++ = '/';
  p = put_digits(p, y, 4);
  *p++ = '/';
  p = put_digits(p, mo, 2);
  *p++ = '/';
  p = put_digits(p, d, 2);
  *p++ = '/';
  p = put_digits(p, y, 4);
  *p++ = '-';
  p = put_digits(p, mo, 2);
  *p++ = '-';
  p = put_digits(p, d, 2);
  *p++ = 'T';
  p = put_digits(p, h, 2);
  *p++ = '.';
  p = put_digits(p, mi, 2);
  *p++ = '.';
  p = put_digits(p, s, 2);
  *p++ = '-';
  p = bp__put(p, uuid, uuid_len);
  *p = '\0';
  return (int)(p - buf);
}
