/* SPDX-License-Identifier: MIT */
/*
 * The stream reader (bp_aws_reader.c) is one state machine for both services; what differs
 * (operation names, member names, listing bodies, response parsers, limits) is a dialect that
 * bp_aws_kinesis.c and bp_aws_ddbstreams.c provide.
 */
#ifndef BATCHPOINT_BP_AWS_READER_INT_H
#define BATCHPOINT_BP_AWS_READER_INT_H

#include "bp_aws_int.h"
#include "bp_aws_reader_json.h"

typedef struct bp__aws_reader_dialect {
  const char *target_prefix; /* X-Amz-Target up to the operation: "Kinesis_20131202." */
  const char *content_type;  /* application/x-amz-json-1.1 or -1.0 */
  const char *list_op;       /* "ListShards" / "DescribeStream" */
  uint32_t max_limit;        /* GetRecords Limit cap: 10,000 / 1,000 */
  /* A listing page's body: @p page NULL for the first, else the previous page's token. */
  int (*list_body)(bp__aws_buf *b, const char *stream, const char *page);
  /* One listing page: shards appended to @p acc, *@p page the next page's token or NULL. */
  int (*parse_list)(const char *body, size_t len, bp__aws_shardlist *acc, char **page,
                    char *err, size_t errlen);
  /* GetShardIterator's members: the stream's ("StreamName" / "StreamArn"), the sequence
   * number's ("StartingSequenceNumber" / "SequenceNumber"), and whether AT_TIMESTAMP exists
   * (else BP_ERR_UNSUPPORTED). */
  const char *stream_member;
  const char *seq_member;
  int at_timestamp;
  int (*parse_records)(bp__aws_recpage *p, const char *body, size_t len, char *err,
                       size_t errlen);
} bp__aws_reader_dialect;

/* A reader of one stream that names it as @p stream in request bodies (Kinesis: the stream
 * name; DynamoDB Streams: the ARN). */
int bp__aws_reader_new_dialect(bp__aws_reader **out, bp__aws_loop *l,
                               const bp__aws_client *client, const char *stream,
                               const bp__aws_reader_dialect *d, bp__aws_counters *counters,
                               char *err, size_t errlen);

/* The message of the reader's last failed read or listing ("" if none). */
const char *bp__aws_reader_errmsg(const bp__aws_reader *r);

#endif
