/* SPDX-License-Identifier: MIT */
/**
 * @file bp_kpl.h
 * @brief De-aggregation of Kinesis Producer Library (KPL) aggregated records: the user
 *        records packed into one Kinesis record, yielded as views into its bytes.
 *
 * The aggregated format is the 4 magic bytes F3 89 9A C2, a protobuf `AggregatedRecord`
 * message, and the 16-byte MD5 digest of that message:
 *
 *     message AggregatedRecord {
 *       repeated string partition_key_table     = 1;
 *       repeated string explicit_hash_key_table = 2;
 *       repeated Record records                 = 3;
 *     }
 *     message Record {
 *       required uint64 partition_key_index     = 1;
 *       optional uint64 explicit_hash_key_index = 2;
 *       required bytes  data                    = 3;
 *       repeated Tag    tags                    = 4;
 *     }
 *     message Tag { required string key = 1; optional string value = 2; }
 *
 * The outcome of every input is the outcome the `aws-kinesis-agg` npm package (4.2.8, on
 * protobufjs 7.2.4) gives to `deaggregate(record, computeChecksums, ...)`: the source tree's
 * tests compare this library with that one's own results (test/data/kpl-vectors.json). So:
 * - Data that does not start with the magic (shorter than 4 bytes included) is not
 *   aggregated: the caller delivers it as one ordinary record (bp_kpl_is_aggregated()).
 * - Data that starts with the magic is never delivered as itself: it yields its user records,
 *   or is an error (::BP_ERR_CORRUPT), before any record is yielded. Zero user records is a
 *   valid outcome (an empty message with a good digest).
 * - The message is the bytes between the magic and the last 16. Below 20 bytes in all the
 *   library's slice arithmetic applies, and the digest never matches: with
 *   ::BP_KPL_SKIP_DIGEST, a length n of 11 to 15 decodes bytes 4 to 2n - 16 as the message
 *   (a negative slice end counts from the end), any other length an empty message.
 * - A digest that differs from the MD5 of the message is an error (unless
 *   ::BP_KPL_SKIP_DIGEST, the library's computeChecksums=false). A message that fails to
 *   decode is an error even then; decoding is checked before the digest.
 * - Decoding follows protobufjs, not the protobuf specification: the wire type of a known
 *   field is not checked (its value is read as the field's type says); unknown fields are
 *   skipped by wire type (0, 1, 2, 5, and groups 3..4; wire types 4, 6, 7 there are errors);
 *   a truncated `data`, an unterminated varint, a missing `partition_key_index`, `data` or
 *   tag `key` are errors; a string (key, tag) that runs past the message's end is cut at
 *   the end, not an error; a nested message's length bounds its loop, not its last field
 *   (a field may run past it, and decoding goes on after that field); a repeated
 *   non-repeated field keeps the last value. Varints as protobufjs reads them: a tag or a
 *   length keeps 32 bits, and when its 5th byte still continues the next 5 bytes are
 *   skipped unread; an index read with 4 or fewer bytes left ends at its 4th byte whatever
 *   that byte says (even one past the end), and with more left an 11th byte is an error.
 * - A `partition_key_index` beyond the table yields the record without a partition key.
 *   An `explicit_hash_key_index` beyond the table yields it without an explicit hash key;
 *   a record with no `explicit_hash_key_index` gets the table's first entry when the table
 *   is not empty (protobufjs's default index 0), as the library does.
 * - Keys are byte spans as stored; the library decodes them as UTF-8 into JavaScript
 *   strings (invalid sequences become U+FFFD there, here they stay as they are).
 * - One difference is deliberate: groups nested deeper than Node's call stack are an error
 *   there (stack overflow) and are skipped here.
 *
 * Nothing is allocated and nothing is copied: the iterator lives in caller memory and every
 * span points into the input, which must outlive the iterator's use. Looking a key up walks
 * the table from the last key looked up (KPL writes keys in first-use order), so the cost is
 * linear in the input for KPL's own aggregates and at most records x table entries for any
 * other.
 *
 * @code
 * #include <batchpoint/bp_kpl.h>
 * int each_user_record(const void *data, size_t len) {
 *   if (!bp_kpl_is_aggregated(data, len))
 *     return 0; // an ordinary record: deliver it as it is
 *   bp_kpl_iter it;
 *   int rc = bp_kpl_iter_init(&it, sizeof it, data, len, 0);
 *   if (rc < 0)
 *     return rc; // bp_kpl_iter_errmsg(&it) says why
 *   bp_kpl_record r = BP_KPL_RECORD_INIT;
 *   while (bp_kpl_iter_next(&it, &r) == 1) {
 *     // r.data, r.data_len; r.partition_key (NULL when absent); r.sub_sequence_number
 *   }
 *   return 0;
 * }
 * @endcode
 */
#ifndef BATCHPOINT_BP_KPL_H
#define BATCHPOINT_BP_KPL_H

#include "bp_common.h"

#if BP_WITH_CODEC

#ifdef __cplusplus
extern "C" {
#endif

/** The 4 bytes an aggregated record starts with. */
#define BP_KPL_MAGIC "\xF3\x89\x9A\xC2"
/** Length of ::BP_KPL_MAGIC. */
#define BP_KPL_MAGIC_LEN 4u
/** Length of the MD5 digest that ends an aggregated record. */
#define BP_KPL_DIGEST_LEN 16u

/** bp_kpl_iter_init() flag: do not check the MD5 digest (aws-kinesis-agg's
 *  computeChecksums=false). By default (flags 0) it is checked. */
#define BP_KPL_SKIP_DIGEST 0x1u

/** One user record, filled by bp_kpl_iter_next(). Every pointer points into the input. */
typedef struct bp_kpl_record {
  uint32_t struct_size;            /**< see "How structs grow" in bp_common.h */
  uint32_t has_explicit_hash_key_index; /**< 1 if the record carries the field (the key
                                        below may still come from the default index 0) */
  const char *partition_key;       /**< NULL when the index is beyond the table */
  size_t partition_key_len;
  const char *explicit_hash_key;   /**< NULL when absent (see the file's notes) */
  size_t explicit_hash_key_len;
  const uint8_t *data;             /**< the user record's bytes (never NULL; may be empty) */
  size_t data_len;
  uint64_t sub_sequence_number;    /**< 0-based position among the user records */
  uint64_t partition_key_index;    /**< as stored */
  uint64_t explicit_hash_key_index;/**< as stored; 0 when absent */
  uint64_t reserved[4];            /**< room for members appended later; the library zeroes it */
} bp_kpl_record;

/** Static initializer of ::bp_kpl_record (every other member 0). */
#define BP_KPL_RECORD_INIT BP_STRUCT_INIT(bp_kpl_record)
/**
 * Zero @p r and set its struct_size.
 * @param size the caller's sizeof(bp_kpl_record): exactly that many bytes are written.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (NULL; @p size below the first published size).
 */
BP_API int bp_kpl_record_init(bp_kpl_record *r, size_t size);

/** Iterator over the user records of one aggregated record. Lives in caller memory (no
 *  allocation); the members after struct_size are private. */
typedef struct bp_kpl_iter {
  uint32_t struct_size;   /**< set by bp_kpl_iter_init() */
  uint32_t p_state;
  const uint8_t *p_body;
  uint64_t p_body_len;
  uint64_t p_pos;         /* next top-level field to look at */
  uint64_t p_next;        /* sub-sequence number of the next user record */
  uint64_t p_count;       /* user records */
  uint64_t p_key_n[2];    /* entries of the partition key and explicit hash key tables */
  uint64_t p_key_pos[2];  /* table cursor: where the scan for entry p_key_next goes on */
  uint64_t p_key_next[2]; /* the index of the entry that scan finds next */
  uint64_t p_key_at[2];   /* entry p_key_next - 1 (when p_key_next > 0) */
  uint64_t p_key_len[2];
  char p_errmsg[128];
} bp_kpl_iter;

/**
 * @return 1 if @p data starts with ::BP_KPL_MAGIC (at least 4 bytes), else 0: the test the
 *         reference library uses to choose between de-aggregating and passing through.
 */
BP_API int bp_kpl_is_aggregated(const void *data, size_t len);

/**
 * Check an aggregated record completely (decoding, then the digest unless
 * ::BP_KPL_SKIP_DIGEST) and set @p it at its first user record. On error no record is
 * yielded: the reference library reports the whole Kinesis record as an error.
 * @param it   caller memory; @p size is sizeof(bp_kpl_iter).
 * @param data the Kinesis record's data (borrowed until the iteration ends).
 * @param flags 0 or ::BP_KPL_SKIP_DIGEST.
 * @return the number of user records (>= 0; at most INT32_MAX, more is ::BP_ERR_TOO_LARGE);
 *         ::BP_ERR_INVALID_ARGUMENT (NULL @p it or @p data with @p len > 0, @p size too
 *         small, unknown flags, or data that is not aggregated);
 *         ::BP_ERR_CORRUPT (the message does not decode, or the digest differs:
 *         bp_kpl_iter_errmsg() says what and at which byte of the message).
 */
BP_API int bp_kpl_iter_init(bp_kpl_iter *it, size_t size, const void *data, size_t len,
                            uint32_t flags);

/**
 * Yield the next user record into @p r (its struct_size set by the caller).
 * @return 1 (a record), 0 (no more), ::BP_ERR_INVALID_ARGUMENT (NULL, a bad struct_size, or
 *         an iterator whose init failed).
 */
BP_API int bp_kpl_iter_next(bp_kpl_iter *it, bp_kpl_record *r);

/** @return why the last bp_kpl_iter_init() on @p it failed; "" after a success. */
BP_API const char *bp_kpl_iter_errmsg(const bp_kpl_iter *it);

#ifdef __cplusplus
}
#endif

#endif /* BP_WITH_CODEC */

#endif
