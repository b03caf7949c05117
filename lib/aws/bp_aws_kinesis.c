/* SPDX-License-Identifier: MIT */
/*
 * The Kinesis dialect of the stream reader (JSON 1.1, Kinesis_20131202.*). Requests name the
 * stream by StreamName, taken from the ARN: kinesalite (the local Kinesis used in tests)
 * knows no StreamARN, and Kinesis accepts either for a stream of the caller's account.
 */
#include <stdlib.h>
#include <string.h>

#include "bp_aws_kinesis_json.h"
#include "bp_aws_reader_int.h"

static int list_body(bp__aws_buf *b, const char *stream, const char *page) {
  /* later pages carry only the token (ListShards refuses both) */
  int rc = bp__aws_buf_puts(b, page == NULL ? "{\"StreamName\":" : "{\"NextToken\":");
  if (rc == 0) rc = bp__aws_buf_json_str(b, page == NULL ? stream : page, strlen(page == NULL ? stream : page));
  if (rc == 0) rc = bp__aws_buf_puts(b, "}");
  return rc;
}

static int iterator_body(bp__aws_buf *b, const char *stream, const char *shard_id, int32_t from,
                         const char *seq, size_t seq_len, int64_t timestamp_ms) {
  const char *type = bp__aws_position_name(from);
  int rc;
  if (type == NULL) return BP_ERR_INVALID_ARGUMENT;
  if (from == BP_POSITION_AFTER_SEQUENCE_NUMBER && (seq == NULL || seq_len == 0))
    return BP_ERR_INVALID_ARGUMENT;
  if (from == BP_POSITION_AT_TIMESTAMP && timestamp_ms < 0) return BP_ERR_INVALID_ARGUMENT;
  rc = bp__aws_buf_puts(b, "{\"StreamName\":");
  if (rc == 0) rc = bp__aws_buf_json_str(b, stream, strlen(stream));
  if (rc == 0) rc = bp__aws_buf_puts(b, ",\"ShardId\":");
  if (rc == 0) rc = bp__aws_buf_json_str(b, shard_id, strlen(shard_id));
  if (rc == 0) rc = bp__aws_buf_printf(b, ",\"ShardIteratorType\":\"%s\"", type);
  if (rc == 0 && from == BP_POSITION_AFTER_SEQUENCE_NUMBER) {
    rc = bp__aws_buf_puts(b, ",\"StartingSequenceNumber\":");
    if (rc == 0) rc = bp__aws_buf_json_str(b, seq, seq_len);
  }
  /* Timestamp: seconds since the epoch, a number with the milliseconds as its fraction */
  if (rc == 0 && from == BP_POSITION_AT_TIMESTAMP)
    rc = bp__aws_buf_printf(b, ",\"Timestamp\":%lld.%03lld", (long long)(timestamp_ms / 1000),
                            (long long)(timestamp_ms % 1000));
  if (rc == 0) rc = bp__aws_buf_puts(b, "}");
  return rc;
}

static int records_body(bp__aws_buf *b, const char *iterator, uint32_t limit) {
  int rc = bp__aws_buf_puts(b, "{\"ShardIterator\":");
  if (rc == 0) rc = bp__aws_buf_json_str(b, iterator, strlen(iterator));
  if (rc == 0) rc = bp__aws_buf_printf(b, ",\"Limit\":%u}", (unsigned)limit);
  return rc;
}

static int is_throttle(const char *code) {
  return strcmp(code, "ProvisionedThroughputExceededException") == 0 ||
         strcmp(code, "LimitExceededException") == 0 || strcmp(code, "ThrottlingException") == 0;
}

static const bp__aws_reader_dialect kinesis = {
    "Kinesis_20131202.", "application/x-amz-json-1.1", "ListShards", 10000,
    list_body, bp__aws_kin_parse_list_shards, iterator_body, records_body,
    bp__aws_kin_parse_get_records, is_throttle};

int bp__aws_kinesis_reader_new(bp__aws_reader **out, bp__aws_loop *l,
                               const bp__aws_client *client, const char *stream_arn,
                               bp__aws_counters *counters, char *err, size_t errlen) {
  char name[129];
  *out = NULL;
  if (stream_arn == NULL || strstr(stream_arn, ":kinesis:") == NULL ||
      bp__aws_kin_stream_name(stream_arn, name, sizeof name) != 0) {
    bp__aws_json_errf(err, errlen, "not a Kinesis stream ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME): %s",
                      stream_arn != NULL ? stream_arn : "(null)");
    return BP_ERR_INVALID_ARGUMENT;
  }
  return bp__aws_reader_new_dialect(out, l, client, name, &kinesis, counters, err, errlen);
}
