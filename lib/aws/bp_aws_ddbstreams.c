/* SPDX-License-Identifier: MIT */
/*
 * The DynamoDB Streams dialect of the stream reader (JSON 1.0, DynamoDBStreams_20120810.*,
 * signed as "dynamodb" at streams.dynamodb.REGION): DescribeStream pages by
 * ExclusiveStartShardId, no AT_TIMESTAMP, GetRecords at most 1,000 records.
 */
#include <string.h>

#include "bp_aws_ddbstreams_json.h"
#include "bp_aws_reader_int.h"

static int list_body(bp__aws_buf *b, const char *stream, const char *page) {
  int rc = bp__aws_buf_puts(b, "{\"StreamArn\":");
  if (rc == 0) rc = bp__aws_buf_json_str(b, stream, strlen(stream));
  if (rc == 0 && page != NULL) {
    rc = bp__aws_buf_puts(b, ",\"ExclusiveStartShardId\":");
    if (rc == 0) rc = bp__aws_buf_json_str(b, page, strlen(page));
  }
  if (rc == 0) rc = bp__aws_buf_puts(b, "}");
  return rc;
}

static const bp__aws_reader_dialect ddbstreams = {
    "DynamoDBStreams_20120810.", "application/x-amz-json-1.0", "DescribeStream", 1000,
    list_body, bp__aws_ddb_parse_describe_stream, "StreamArn", "SequenceNumber", 0,
    bp__aws_ddb_parse_get_records};

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
