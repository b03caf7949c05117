/* SPDX-License-Identifier: MIT */
/**
 * @file bp_codec.h
 * @brief The codec layer (BP_WITH_CODEC): Lambda event encoders for Kinesis and DynamoDB
 *        streams, the exact encoded size, on-failure record encoder, response
 *        classification, and strict base64.
 *
 * Output is byte-exact and reproducible (SEMANTICS.md §1.4): compact JSON, fixed key order,
 * yajl-style escaping, epoch seconds with three fraction digits. Every size function returns
 * exactly the length the matching encoder writes, so a batch can be cut at the 6 MB
 * invocation limit (::BP_MAX_EVENT_BYTES) without encoding it.
 *
 * Ownership: record views and strings passed in are borrowed for the call only. Text a
 * bp_codec returns (`const char **out`) is owned by the codec and valid until the next call
 * on the same codec or its deletion. A codec is used by one thread at a time.
 *
 * Record arrays (`const bp_record *recs, size_t n`) are walked with each element's
 * struct_size as the stride (bp_record.h): a struct_size of 0, below the first published
 * size of bp_record, or different from the first element's is ::BP_ERR_INVALID_ARGUMENT and
 * the message names the index. Every struct argument is read through its struct_size
 * ("How structs grow" in bp_common.h).
 */
#ifndef BATCHPOINT_BP_CODEC_H
#define BATCHPOINT_BP_CODEC_H

#include "bp_common.h"
#include "bp_record.h"
#include "bp_resolver.h"

#if BP_WITH_CODEC

#ifdef __cplusplus
extern "C" {
#endif

/** Tumbling-window members of an event (SEMANTICS.md §6). Initialise with
 *  bp_window_fields_init() or ::BP_WINDOW_FIELDS_INIT. */
typedef struct bp_window_fields {
  uint32_t struct_size;       /**< see "How structs grow" in bp_common.h */
  int64_t start_ms;           /**< window.start, epoch ms (whole seconds are printed) */
  int64_t end_ms;             /**< window.end */
  const char *state_json;     /**< a JSON object, embedded byte for byte; NULL means `{}` */
  size_t state_json_len;
  int32_t is_final;           /**< isFinalInvokeForWindow (0/1) */
  int32_t is_terminated_early;/**< isWindowTerminatedEarly (0/1) */
} bp_window_fields;

/** Static initializer of ::bp_window_fields (every other member 0). */
#define BP_WINDOW_FIELDS_INIT BP_STRUCT_INIT(bp_window_fields)
/**
 * Zero @p w and set its struct_size.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (NULL; @p size below the first published size).
 * @param size the caller's sizeof(bp_window_fields): exactly that many bytes are written.
 */
BP_API int bp_window_fields_init(bp_window_fields *w, size_t size);

/** What every event and failure record of one mapping shares. Strings are NUL-terminated.
 *  Initialise with bp_codec_opts_init() or ::BP_CODEC_OPTS_INIT. */
typedef struct bp_codec_opts {
  uint32_t struct_size;            /**< see "How structs grow" in bp_common.h */
  int32_t source;                  /**< BP_SOURCE_KINESIS or BP_SOURCE_DYNAMODB */
  const char *event_source_arn;    /**< stream ARN (eventSourceARN, streamArn) */
  const char *aws_region;          /**< awsRegion; NULL: the ARN's region field */
  const char *invoke_identity_arn; /**< Kinesis invokeIdentityArn (function role); required
                                        for Kinesis, ignored for DynamoDB */
  const char *function_arn;        /**< on-failure functionArn; NULL: failure records fail */
} bp_codec_opts;

/** Static initializer of ::bp_codec_opts (every other member 0). */
#define BP_CODEC_OPTS_INIT BP_STRUCT_INIT(bp_codec_opts)
/**
 * Zero @p o and set its struct_size.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (NULL; @p size below the first published size).
 * @param size the caller's sizeof(bp_codec_opts): exactly that many bytes are written.
 */
BP_API int bp_codec_opts_init(bp_codec_opts *o, size_t size);

typedef struct bp_codec bp_codec;

/**
 * Create a codec. All strings of @p opts are copied.
 * @param out receives the codec; NULL on failure.
 * @param alloc allocator hooks (copied), NULL for libc; yajl's memory goes through them too.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (NULL out/opts, bad struct_size, unknown source, missing or
 *         non-UTF-8 ARN, region not derivable, Kinesis without invoke_identity_arn, half-set
 *         allocator); ::BP_ERR_NOMEM.
 */
BP_API int bp_codec_new(bp_codec **out, const bp_codec_opts *opts, const bp_allocator *alloc);

/** Destroy a codec (NULL is fine). Invalidates text it returned. */
BP_API void bp_codec_del(bp_codec *codec);

/** @return the codec's last error message ("" if none); valid until the next call on it. */
BP_API const char *bp_codec_errmsg(const bp_codec *codec);

/**
 * Exact byte length of the event bp_codec_encode_event() would produce, computed without
 * encoding (records are validated the same way).
 * @param shard_id shard of the records (eventID prefix for Kinesis, `shardId` of tumbling
 *        events); NUL-terminated.
 * @param win tumbling-window fields, or NULL for a plain event.
 * @param size out: the length in bytes.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (NULL pointer with n > 0, an @p n no array of records
 *         can have, NULL shard_id or size, a window state length above PTRDIFF_MAX);
 *         ::BP_ERR_INVALID_RECORD (a record fails validation: the message names its index
 *         and field; a field length above PTRDIFF_MAX, or a Kinesis partition key longer
 *         than 4 x 256 bytes, is refused before the field is read; so is a size that does not
 *         fit in a size_t);
 *         ::BP_ERR_INVALID_JSON (window state not a JSON object).
 */
BP_API int bp_codec_event_size(bp_codec *codec, const char *shard_id, const bp_record *recs,
                               size_t n, const bp_window_fields *win, size_t *size);

/**
 * Bytes one record adds to an event (its element, without the separating comma). For a
 * batch: event size = bp_codec_event_overhead() + sum(record sizes) + (n > 0 ? n - 1 : 0).
 * @return as bp_codec_event_size().
 */
BP_API int bp_codec_record_size(bp_codec *codec, const char *shard_id, const bp_record *rec,
                                size_t *size);

/** Bytes of an event with no records (`{"Records":[]}` plus any window members). */
BP_API int bp_codec_event_overhead(bp_codec *codec, const char *shard_id,
                                   const bp_window_fields *win, size_t *size);

/**
 * Encode `{"Records":[...]}` (plus window members if @p win) for @p n records.
 * @param out receives the text (owned by the codec, NUL-terminated, valid until the next call
 *        on @p codec); @p out_len its length.
 * @return 0; the errors of bp_codec_event_size(); ::BP_ERR_NOMEM.
 */
BP_API int bp_codec_encode_event(bp_codec *codec, const char *shard_id, const bp_record *recs,
                                 size_t n, const bp_window_fields *win, const char **out,
                                 size_t *out_len);

/**
 * Encode the same event as bp_codec_encode_event() into the caller's @p buf: for a host
 * that owns its output memory (a binding's reusable buffer), so the event is written once,
 * where it is sent from, and never copied out of the codec.
 * @param buf receives exactly *@p out_len bytes (no NUL); may be NULL when @p cap is 0.
 * @param cap bytes @p buf holds.
 * @param out_len out: the event's length, also when the buffer is too small (then nothing
 *        is written to @p buf: grow it to *@p out_len and call again).
 * @return 0; ::BP_ERR_BUFFER_TOO_SMALL (@p cap below the event's length); the errors of
 *         bp_codec_event_size() (then *@p out_len is untouched).
 */
BP_API int bp_codec_encode_event_to(bp_codec *codec, const char *shard_id,
                                    const bp_record *recs, size_t n,
                                    const bp_window_fields *win, char *buf, size_t cap,
                                    size_t *out_len);

/* ---- On-failure records (SEMANTICS.md §5.3-§5.5) ---- */

/** Everything an on-failure record says about one discarded batch. Initialise with
 *  bp_failure_info_init() or ::BP_FAILURE_INFO_INIT. */
typedef struct bp_failure_info {
  uint32_t struct_size;            /**< see "How structs grow" in bp_common.h */
  int32_t condition;               /**< BP_CONDITION_* (bp_record.h) */
  const char *request_id;          /**< requestContext.requestId (a UUID) */
  size_t request_id_len;
  uint32_t approximate_invoke_count; /**< >= 1 */
  int32_t status_code;             /**< responseContext.statusCode (200) */
  const char *executed_version;    /**< NULL: "$LATEST" */
  size_t executed_version_len;
  const char *function_error;      /**< X-Amz-Function-Error ("Unhandled"); NULL: JSON null */
  size_t function_error_len;
  int64_t timestamp_ms;            /**< when the discard was decided */
  const char *shard_id;            /**< NUL-terminated */
  const char *start_seq;           /**< first discarded record */
  size_t start_seq_len;
  const char *end_seq;             /**< last discarded record */
  size_t end_seq_len;
  int64_t first_arrival_ms;
  int64_t last_arrival_ms;
  uint32_t batch_size;             /**< records discarded, >= 1 */
  const char *payload;             /**< S3 only: the invocation event text, emitted as a JSON
                                        string member "payload"; NULL for SQS/SNS */
  size_t payload_len;
} bp_failure_info;

/** Static initializer of ::bp_failure_info (every other member 0). */
#define BP_FAILURE_INFO_INIT BP_STRUCT_INIT(bp_failure_info)
/**
 * Zero @p f and set its struct_size.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (NULL; @p size below the first published size).
 * @param size the caller's sizeof(bp_failure_info): exactly that many bytes are written.
 */
BP_API int bp_failure_info_init(bp_failure_info *f, size_t size);

/**
 * Encode the on-failure record: requestContext, responseContext (omitted for
 * RecordAgeExceeded), version, timestamp, KinesisBatchInfo / DDBStreamBatchInfo, payload.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (NULL pointers, unknown condition, count or batch
 *         size 0, codec without function_arn, a string length above PTRDIFF_MAX, refused
 *         before the string is read); ::BP_ERR_INVALID_SEQNUM; ::BP_ERR_RANGE (a
 *         time out of range); ::BP_ERR_INVALID_UTF8; ::BP_ERR_NOMEM.
 */
BP_API int bp_codec_encode_failure(bp_codec *codec, const bp_failure_info *info,
                                   const char **out, size_t *out_len);

/**
 * S3 object key of an on-failure record:
 * `aws/lambda/<esm_uuid>/<shard_id>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>` (UTC, from
 * @p timestamp_ms, seconds truncated). Strings are NUL-terminated.
 * @return characters written (without the NUL); ::BP_ERR_INVALID_ARGUMENT; ::BP_ERR_RANGE;
 *         ::BP_ERR_BUFFER_TOO_SMALL.
 */
BP_API int bp_failure_s3_key(const char *esm_uuid, const char *shard_id, int64_t timestamp_ms,
                             const char *uuid, char *buf, size_t len);

/* ---- Response classification (SEMANTICS.md §3.4) ---- */

/* The outcome of a normally returned response is a BP_ATTEMPT_* value of bp_resolver.h:
 * ::BP_ATTEMPT_SUCCESS (checkpoint past the whole batch), ::BP_ATTEMPT_PARTIAL (commit
 * before failed_index, retry from it) or ::BP_ATTEMPT_RETURNED_FAILED (full failure,
 * functionError null). */

/** Why (bp_response_result.reason). */
#define BP_REASON_NONE 0                 /**< success, or partial with valid identifiers */
#define BP_REASON_NOT_REPORTING 1        /**< success: ReportBatchItemFailures is off */
#define BP_REASON_EMPTY 2                /**< success: zero bytes / whitespace only */
#define BP_REASON_INVALID_JSON 3         /**< failure: not valid JSON */
#define BP_REASON_NOT_OBJECT 4           /**< failure: a non-empty non-object value */
#define BP_REASON_FAILURES_NOT_LIST 5    /**< failure: batchItemFailures not an array */
#define BP_REASON_BAD_ITEM 6             /**< failure: an element that is not an object, or
                                              lacks a string itemIdentifier */
#define BP_REASON_UNKNOWN_IDENTIFIER 7   /**< failure: an identifier not in this batch */
#define BP_REASON_STATE_MISSING 8        /**< failure (tumbling): no `state` object */

/** Result of bp_codec_classify_response() (written by the library). Set struct_size with
 *  bp_response_result_init() or ::BP_RESPONSE_RESULT_INIT before passing it. */
typedef struct bp_response_result {
  uint32_t struct_size;   /**< the host sets it; the library writes that many bytes at most
                               and leaves here the number it wrote */
  int32_t outcome;        /**< BP_ATTEMPT_SUCCESS, _PARTIAL or _RETURNED_FAILED */
  int32_t reason;         /**< BP_REASON_* */
  int32_t has_state;      /**< a top-level `state` member that is a JSON object was found */
  size_t failed_index;    /**< PARTIAL: batch index of the numerically lowest identifier */
  size_t failed_count;    /**< PARTIAL: distinct sequence numbers reported */
  size_t state_offset;    /**< its JSON text: body[state_offset, state_offset+state_len) */
  size_t state_len;
  uint64_t reserved[4];   /**< room for members appended later; the library zeroes it */
} bp_response_result;

/** Static initializer of ::bp_response_result (every other member 0). */
#define BP_RESPONSE_RESULT_INIT BP_STRUCT_INIT(bp_response_result)
/**
 * Zero @p r and set its struct_size.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (NULL; @p size below the first published size).
 * @param size the caller's sizeof(bp_response_result): exactly that many bytes are written.
 */
BP_API int bp_response_result_init(bp_response_result *r, size_t size);

/** Flags of bp_codec_classify_response(). */
#define BP_CLASSIFY_REPORT_BATCH_ITEM_FAILURES 0x1u /**< FunctionResponseTypes set */
#define BP_CLASSIFY_REQUIRE_STATE 0x2u               /**< tumbling windows: `state` required */

/**
 * Classify a function's normally returned response body against its batch.
 *
 * With ::BP_CLASSIFY_REPORT_BATCH_ITEM_FAILURES the rules 1-8 of SEMANTICS.md §3.4 apply in
 * order. JSON is strict: RFC 8259 grammar, strict UTF-8 (no overlongs, surrogates or code
 * points above U+10FFFF), one value and nothing after it but JSON whitespace (space, tab,
 * CR, LF). A duplicated top-level `batchItemFailures` or `state` member counts with its last
 * occurrence, and so does a duplicated `itemIdentifier` inside one element; member names
 * and identifiers are compared after JSON unescaping. An identifier matches when it equals,
 * byte for byte, a sequence number of @p batch (so "010" never matches "10"); a string that
 * matches nothing is ::BP_REASON_UNKNOWN_IDENTIFIER, anything else that is not a matching
 * string is ::BP_REASON_BAD_ITEM; the first bad element gives the reason. A PARTIAL whose
 * failed_index is 0 is the no-progress case of §3.5.
 *
 * Without it the outcome is ::BP_ATTEMPT_SUCCESS / ::BP_REASON_NOT_REPORTING, and with no flag at all the
 * body is not read (has_state stays 0).
 *
 * ::BP_CLASSIFY_REQUIRE_STATE (tumbling windows, §6, with or without the flag above): a
 * response that would be SUCCESS or PARTIAL becomes RETURNED_FAILED / ::BP_REASON_STATE_MISSING
 * unless the body is a valid JSON object whose (last) top-level `state` member is an object.
 * Empty, whitespace-only, `null` and non-JSON bodies have no state, so they fail this way. A
 * FAILURE of the §3.4 rules keeps its own reason.
 *
 * Whenever the body is read (any flag set) and is a valid JSON object with a (last)
 * top-level `state` object, has_state is 1 and state_offset/state_len delimit that object's
 * text in @p body, from its `{` to its matching `}`, whatever the outcome. Fields the
 * outcome does not use are 0. After a FAILURE, bp_codec_errmsg() says why; otherwise it is "".
 * Body length is not limited and never changes the outcome; nesting depth is not limited.
 * Cost: O(len + n + F) for F identifiers (validation, then a hash index of the batch built
 * only when an identifier is to be looked up); no allocation per record or identifier.
 *
 * @param body the response bytes (any content; may be NULL when @p len is 0).
 * @param batch the batch's records in shard order (strictly ascending sequence numbers);
 *        only seq/seq_len are read. Validated whatever the flags.
 * @param flags BP_CLASSIFY_*.
 * @param result out: its struct_size set by the host (bp_response_result_init()); zeroed
 *        first, then filled.
 * @return 0 (the classification is in @p result, whatever the body held);
 *         ::BP_ERR_INVALID_ARGUMENT (NULL codec or result, body NULL with len > 0, a @p len no
 *         object can have (above PTRDIFF_MAX: refused before the body is read), batch NULL
 *         with n > 0 or an @p n no array can have, a sequence number that fails
 *         bp_seqnum_validate() or is not above the previous one (the message names its
 *         index), unknown flag bits);
 *         ::BP_ERR_NOMEM (no classification was made).
 */
BP_API int bp_codec_classify_response(bp_codec *codec, const char *body, size_t len,
                                      const bp_record *batch, size_t n, uint32_t flags,
                                      bp_response_result *result);

/** Flag of bp_codec_index_batch(): the caller vouches for the batch (see there). */
#define BP_INDEX_TRUSTED 0x1u

/**
 * Index @p batch once for any number of bp_codec_classify_indexed() calls: a hash table from
 * sequence number to batch position, built in O(n) in memory the codec keeps and reuses (no
 * allocation per record). Without ::BP_INDEX_TRUSTED the batch is validated exactly as
 * bp_codec_classify_response() validates it.
 *
 * The index refers to @p batch: its elements (seq/seq_len and the text they point to) must
 * stay alive and unchanged until the next bp_codec_index_batch() on this codec, or
 * bp_codec_del(). bp_codec_classify_response() neither uses nor changes it.
 *
 * @param batch the batch's records in shard order, of any bp_record struct_size (the same in
 *        every element, as everywhere); only seq/seq_len are read.
 * @param flags 0, or ::BP_INDEX_TRUSTED: the caller built the batch from sequence numbers it
 *        already validated (bp_seqnum_validate(), strictly ascending), as the engine and the
 *        function side do, so they are not read again here. The promise is the caller's: a
 *        batch that breaks it gives unspecified classifications.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (NULL @p codec; NULL @p batch with @p n > 0; unknown
 *         @p flags; a struct_size; without ::BP_INDEX_TRUSTED an invalid sequence number or one
 *         not above the previous one); ::BP_ERR_NOMEM. After an error no batch is indexed.
 */
BP_API int bp_codec_index_batch(bp_codec *codec, const bp_record *batch, size_t n,
                                uint32_t flags);

/**
 * bp_codec_classify_response() against the batch of the last successful
 * bp_codec_index_batch() on @p codec: the same rules, outcome, reason, result and message,
 * for the same body, flags and batch. The batch is neither validated nor walked again: cost
 * O(len + F) for F identifiers (each looked up by hash).
 * @return as bp_codec_classify_response(); also ::BP_ERR_INVALID_ARGUMENT when no batch is
 *         indexed.
 */
BP_API int bp_codec_classify_indexed(bp_codec *codec, const char *body, size_t len,
                                     uint32_t flags, bp_response_result *result);

/* ---- Base64 (standard alphabet, `=` padding, never a line break) ---- */

/**
 * @return the encoded length of @p n bytes: 4 * ceil(n / 3); SIZE_MAX when that does not fit
 *         in a size_t (@p n above (SIZE_MAX / 4) * 3). Every real length is a multiple of 4,
 *         so SIZE_MAX is never one.
 */
BP_API size_t bp_base64_encoded_len(size_t n);

/**
 * Encode @p n bytes. Writes exactly bp_base64_encoded_len(n) characters (no NUL, no newline).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (NULL @p written, NULL @p in or @p out with @p n > 0);
 *         ::BP_ERR_TOO_LARGE (the encoded length does not fit in a size_t, checked first);
 *         ::BP_ERR_BUFFER_TOO_SMALL.
 */
BP_API int bp_base64_encode(const uint8_t *in, size_t n, char *out, size_t out_len,
                            size_t *written);

/**
 * Strictly decode base64: length a multiple of 4, standard alphabet only, `=` only as the
 * last one or two characters, and zero unused bits in the last symbol. Whitespace, line
 * breaks and trailing data are rejected.
 * Validation and decoding are one pass: after an error the contents of @p out are
 * unspecified (and @p written is untouched).
 * @param written out: decoded bytes.
 * @return 0; ::BP_ERR_INVALID_BASE64; ::BP_ERR_INVALID_ARGUMENT; ::BP_ERR_BUFFER_TOO_SMALL
 *         (@p out_len below the decoded length, which is at most 3 * n / 4). The sizes are
 *         checked before the text is read: a length not a multiple of 4 is
 *         ::BP_ERR_INVALID_BASE64 and one that cannot fit in @p out ::BP_ERR_BUFFER_TOO_SMALL
 *         whatever the text holds.
 */
BP_API int bp_base64_decode(const char *in, size_t n, uint8_t *out, size_t out_len,
                            size_t *written);

#ifdef __cplusplus
}
#endif

#endif /* BP_WITH_CODEC */

#endif
