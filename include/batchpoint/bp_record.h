/* SPDX-License-Identifier: MIT */
/**
 * @file bp_record.h
 * @brief The stream vocabulary of the core: event sources, stream positions, the record view
 *        (::bp_record), discard conditions and destination kinds. Needs no codec.
 *
 * Arrays of records. The host gives the library `const bp_record *recs, size_t n`: each
 * element starts with its `struct_size`, and the elements lie `struct_size` bytes apart (a
 * host may embed bp_record at the start of a bigger struct of its own and set struct_size
 * to that size). Every element of one array must carry the same struct_size.
 * The library hands arrays to the host with an explicit stride (bp_invoke_req.record_stride,
 * bp_delivery_req.record_stride): iterate them with BP_RECORD_AT(), never with `records[i]`,
 * and read a member only when the element's struct_size covers it.
 */
#ifndef BATCHPOINT_BP_RECORD_H
#define BATCHPOINT_BP_RECORD_H

#include "bp_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Event source kinds (int32_t in the ABI), derived from the stream ARN. */
#define BP_SOURCE_NONE 0     /**< none yet (a configuration without EventSourceArn) */
#define BP_SOURCE_KINESIS 1  /**< arn:aws...:kinesis:... */
#define BP_SOURCE_DYNAMODB 2 /**< arn:aws...:dynamodb:... */

/**
 * Stream positions (int32_t in the ABI), named after Kinesis' ShardIteratorType.
 * The configuration's StartingPosition takes TRIM_HORIZON, LATEST or AT_TIMESTAMP (NONE:
 * not set); bp_fetch_req.from any of TRIM_HORIZON .. CONTINUE.
 */
#define BP_POSITION_NONE 0                  /**< not set */
#define BP_POSITION_TRIM_HORIZON 1          /**< the oldest record of the shard */
#define BP_POSITION_LATEST 2                /**< just after the newest record, resolved now */
#define BP_POSITION_AT_TIMESTAMP 3          /**< the first record with arrival >= a timestamp
                                                 (Kinesis only) */
#define BP_POSITION_AFTER_SEQUENCE_NUMBER 4 /**< just after a given record */
#define BP_POSITION_CONTINUE 5              /**< where the shard's previous fetch ended: the
                                                 host follows its own iterator (Kinesis
                                                 NextShardIterator), SEMANTICS.md §2.4 */

/** Discard conditions (int32_t in the ABI): the on-failure record's requestContext.condition
 *  (SEMANTICS.md §5.2). */
#define BP_CONDITION_RETRY_ATTEMPTS_EXHAUSTED 1 /**< "RetryAttemptsExhausted" */
#define BP_CONDITION_RECORD_AGE_EXCEEDED 2      /**< "RecordAgeExceeded" */

/** On-failure destination kinds, from the destination ARN's service. */
#define BP_DESTINATION_OTHER 0
#define BP_DESTINATION_SQS 1
#define BP_DESTINATION_SNS 2
#define BP_DESTINATION_S3 3

/** bp_record.flags: Kinesis `data` is already base64 text (validated, passed through). */
#define BP_RECORD_DATA_BASE64 0x1u

/** Longest Kinesis partition key, in Unicode code points (Kinesis PutRecord: 1 to 256). */
#define BP_KINESIS_MAX_PARTITION_KEY_CHARS 256

/**
 * One stream record, as a plain view (borrowed; nothing is copied by the encoders).
 * Strings are pointer + length and must be valid UTF-8; optional ones are NULL when absent.
 * Initialise with bp_record_init() or ::BP_RECORD_INIT (or, in C, a designated initializer
 * with `.struct_size = sizeof(bp_record)`).
 *
 * Kinesis uses: seq, arrival_ms, partition_key, data (+ BP_RECORD_DATA_BASE64),
 * encryption_type (optional).
 * DynamoDB uses: seq, arrival_ms, event_id, event_name, dynamodb_json, user_identity_json
 * (optional), and partition_key as the hash-key bytes (lane routing only; not encoded).
 * A Kinesis partition key is 1 to ::BP_KINESIS_MAX_PARTITION_KEY_CHARS code points of UTF-8;
 * a longer length is refused before the key is read.
 */
typedef struct bp_record {
  uint32_t struct_size;       /**< sizeof(bp_record) the host was compiled with (or the size
                                   of the host struct that embeds it): see bp_common.h */
  uint32_t flags;             /**< BP_RECORD_* */
  const char *seq;            /**< sequence number, decimal digits (bp_seqnum.h) */
  size_t seq_len;
  int64_t arrival_ms;         /**< approximate arrival / creation time, epoch ms >= 0 */
  const char *partition_key;  /**< Kinesis partitionKey */
  size_t partition_key_len;
  const uint8_t *data;        /**< Kinesis payload: raw bytes, or base64 text if flagged */
  size_t data_len;
  const char *encryption_type;/**< Kinesis encryptionType ("KMS"), NULL when absent */
  size_t encryption_type_len;
  const char *event_id;       /**< DynamoDB eventID */
  size_t event_id_len;
  const char *event_name;     /**< DynamoDB "INSERT", "MODIFY" or "REMOVE" */
  size_t event_name_len;
  const char *dynamodb_json;  /**< DynamoDB StreamRecord: a JSON object (Keys, images, ...) */
  size_t dynamodb_json_len;
  const char *user_identity_json; /**< DynamoDB userIdentity object (TTL deletes), or NULL */
  size_t user_identity_json_len;
} bp_record;

/** Static initializer: `bp_record r = BP_RECORD_INIT;` (every other member 0). */
#define BP_RECORD_INIT BP_STRUCT_INIT(bp_record)

/**
 * Zero @p r and set its struct_size.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p r NULL).
 * @param size the caller's sizeof(bp_record): exactly that many bytes are written.
 */
BP_API int bp_record_init(bp_record *r, size_t size);

/** Element @p i of a record array the library hands over (records + record_stride). */
#define BP_RECORD_AT(base, stride, i)                                                        \
  ((const bp_record *)(const void *)((const char *)(base) + (size_t)(i) * (size_t)(stride)))

#ifdef __cplusplus
}
#endif

#endif
