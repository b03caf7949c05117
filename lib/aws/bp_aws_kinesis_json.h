/* SPDX-License-Identifier: MIT */
/*
 * The Kinesis responses the reader parses (JSON 1.1): ListShards and GetRecords, and the
 * stream name of a stream ARN. Pure functions of their input (unit-tested with canned bodies).
 */
#ifndef BATCHPOINT_BP_AWS_KINESIS_JSON_H
#define BATCHPOINT_BP_AWS_KINESIS_JSON_H

#include <stddef.h>

#include "bp_aws_reader_json.h"

/*
 * One ListShards page (@p body NUL-terminated, @p len bytes): its shards are appended to
 * @p acc; *@p next_token receives a malloc'd NextToken, or NULL on the last page.
 * 0, BP_ERR_INVALID_JSON (with a message) or BP_ERR_NOMEM.
 */
int bp__aws_kin_parse_list_shards(const char *body, size_t len, bp__aws_shardlist *acc,
                                  char **next_token, char *err, size_t errlen);

/*
 * A GetRecords response into @p p (reset first): SequenceNumber, PartitionKey, Data (base64
 * text as sent), ApproximateArrivalTimestamp (seconds -> ms), EncryptionType; then
 * NextShardIterator (NULL: the shard has ended) and MillisBehindLatest. On success the page
 * is finished (views made). 0, BP_ERR_INVALID_JSON (malformed, a wrong type, a record without
 * a required member; @p err says which) or BP_ERR_NOMEM.
 */
int bp__aws_kin_parse_get_records(bp__aws_recpage *p, const char *body, size_t len, char *err,
                                  size_t errlen);

/* The stream name of arn:...:kinesis:REGION:ACCOUNT:stream/NAME into @p out: 0 or -1. */
int bp__aws_kin_stream_name(const char *arn, char *out, size_t cap);

#endif
