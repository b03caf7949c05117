/* SPDX-License-Identifier: MIT */
/*
 * The DynamoDB Streams dialect of the stream reader (JSON 1.0, DynamoDBStreams_20120810.*,
 * signed as "dynamodb" at streams.dynamodb.REGION): DescribeStream pages by
 * ExclusiveStartShardId, no AT_TIMESTAMP, GetRecords at most 1,000 records.
 */
#include <string.h>

#include "bp_aws_ddbstreams_json.h"
#include "bp_aws_reader_int.h"

static int put_arn(bp__aws_buf *b, const char *stream) {
  int rc = bp__aws_buf_puts(b, "{\"StreamArn\":");
  if (rc == 0) rc = bp__aws_buf_json_str(b, stream, strlen(stream));
  return rc;
}

static int list_body(bp__aws_buf *b, const char *stream, const char *page) {
  int rc = put_arn(b, stream);
  if (rc == 0 && page != NULL) {
    rc = bp__aws_buf_puts(b, ",\"ExclusiveStartShardId\":");
    if (rc == 0) rc = bp__aws_buf_json_str(b, page, strlen(page));
  }
  if (rc == 0) rc = bp__aws_buf_puts(b, "}");
  return rc;
}

static int iterator_body(bp__aws_buf *b, const char *stream, const char *shard_id, int32_t from,
                         const char *seq, size_t seq_len, int64_t timestamp_ms) {
  const char *type = bp__aws_position_name(from);
  int rc;
  (void)timestamp_ms;
  if (from == BP_POSITION_AT_TIMESTAMP) return BP_ERR_UNSUPPORTED; /* not in DynamoDB Streams */
  if (type == NULL) return BP_ERR_INVALID_ARGUMENT;
  if (from == BP_POSITION_AFTER_SEQUENCE_NUMBER && (seq == NULL || seq_len == 0))
    return BP_ERR_INVALID_ARGUMENT;
  rc = put_arn(b, stream);
  if (rc == 0) rc = bp__aws_buf_puts(b, ",\"ShardId\":");
  if (rc == 0) rc = bp__aws_buf_json_str(b, shard_id, strlen(shard_id));
  if (rc == 0) rc = bp__aws_buf_printf(b, ",\"ShardIteratorType\":\"%s\"", type);
  if (rc == 0 && from == BP_POSITION_AFTER_SEQUENCE_NUMBER) {
    rc = bp__aws_buf_puts(b, ",\"SequenceNumber\":");
    if (rc == 0) rc = bp__aws_buf_json_str(b, seq, seq_len);
  }
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
  return strcmp(code, "LimitExceededException") == 0 || strcmp(code, "ThrottlingException") == 0 ||
         strcmp(code, "ProvisionedThroughputExceededException") == 0;
}

static const bp__aws_reader_dialect ddbstreams = {
    "DynamoDBStreams_20120810.", "application/x-amz-json-1.0", "DescribeStream", 1000,
    list_body, bp__aws_ddb_parse_describe_stream, iterator_body, records_body,
    bp__aws_ddb_parse_get_records, is_throttle};

int bp__aws_ddbstreams_reader_new(bp__aws_reader **out, bp__aws_loop *l,
                                  const bp__aws_client *client, const char *stream_arn,
                                  bp__aws_counters *counters, char *err, size_t errlen) {
  *out = NULL;
  if (stream_arn == NULL || strncmp(stream_arn, "arn:", 4) != 0 ||
      strstr(stream_arn, ":dynamodb:") == NULL || strstr(stream_arn, "/stream/") == NULL) {
    bp__aws_json_errf(err, errlen,
                      "not a DynamoDB stream ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/T/stream/LABEL): %s",
                      stream_arn != NULL ? stream_arn : "(null)");
    return BP_ERR_INVALID_ARGUMENT;
  }
  return bp__aws_reader_new_dialect(out, l, client, stream_arn, &ddbstreams, counters, err, errlen);
}
