/* SPDX-License-Identifier: MIT */
/*
 * The DynamoDB Streams responses the reader parses (JSON 1.0): DescribeStream and GetRecords.
 * Pure functions of their input (unit-tested with canned bodies).
 */
#ifndef BATCHPOINT_BP_AWS_DDBSTREAMS_JSON_H
#define BATCHPOINT_BP_AWS_DDBSTREAMS_JSON_H

#include <stddef.h>

#include "bp_aws_reader_json.h"

/*
 * One DescribeStream page (@p body NUL-terminated, @p len bytes): the shards of
 * StreamDescription.Shards are appended to @p acc (no adjacent parents in DynamoDB);
 * *@p last_shard receives a malloc'd LastEvaluatedShardId, or NULL on the last page.
 * 0, BP_ERR_INVALID_JSON (with a message) or BP_ERR_NOMEM.
 */
int bp__aws_ddb_parse_describe_stream(const char *body, size_t len, bp__aws_shardlist *acc,
                                      char **last_shard, char *err, size_t errlen);

/*
 * A GetRecords response into @p p (reset first): per record seq = dynamodb.SequenceNumber,
 * arrival_ms = dynamodb.ApproximateCreationDateTime (seconds) x 1000, event_id = eventID,
 * event_name = eventName, dynamodb_json = the `dynamodb` object's text verbatim,
 * user_identity_json = the `userIdentity` object's text (when present), partition_key = the
 * scalar text of the first attribute of dynamodb.Keys (lane routing). Then NextShardIterator
 * (NULL: the shard has ended). 0, BP_ERR_INVALID_JSON or BP_ERR_NOMEM.
 */
int bp__aws_ddb_parse_get_records(bp__aws_recpage *p, const char *body, size_t len, char *err,
                                  size_t errlen);

#endif
