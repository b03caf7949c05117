/* SPDX-License-Identifier: MIT */
/**
 * @file bp_handler.h
 * @brief The function side (BP_WITH_CODEC): a batch processor that reads a Lambda Kinesis or
 *        DynamoDB Streams event from its JSON text, hands its records to a callback one by
 *        one, and answers with the partial batch response (`batchItemFailures`).
 *
 * This is what a function behind an event source mapping runs: the C counterpart of AWS
 * Lambda Powertools' batch utility (`BatchProcessor` + `processPartialResponse`), with the
 * same rules:
 * - records are processed in event order; the callback returns 0 (success) or non-zero
 *   (failure);
 * - the response is `{"batchItemFailures":[{"itemIdentifier":"<seq>"},...]}`, compact, the
 *   failed records in event order, `<seq>` the Kinesis `kinesis.sequenceNumber` or the
 *   DynamoDB `dynamodb.SequenceNumber` (byte for byte what Powertools' `JSON.stringify`
 *   writes); an event with no record gives `{"batchItemFailures":[]}`;
 * - when every record of a non-empty event fails, bp_handler_process() returns
 *   ::BP_ERR_BATCH_FAILED (Powertools throws `FullBatchFailureError`): a custom runtime then
 *   reports a function error; the response text is still available;
 * - ::BP_HANDLER_STOP_AT_FIRST_FAILURE: after the first failure no further callback is
 *   made and every later record is reported failed too (Powertools'
 *   `SqsFifoPartialProcessor`). For a stream the mapping retries from the lowest failed
 *   sequence number anyway (SEMANTICS.md §3.4), so the work after it would be repeated.
 *
 * Tumbling windows (SEMANTICS.md §6): the event's `window`, `state`, `shardId`,
 * `eventSourceARN`, `isFinalInvokeForWindow` and `isWindowTerminatedEarly` are read by
 * bp_handler_get_window(); the response of a window event always carries a `state` member
 * (`{"state":{...},"batchItemFailures":[...]}`): the one set with bp_handler_set_state()
 * during the call, else the event's own state unchanged.
 *
 * Parsing. The whole event is read and checked before the first callback, so a malformed
 * event calls no callback at all. JSON is strict (RFC 8259, strict UTF-8, nothing but
 * whitespace after the value); member names are compared after unescaping; members the
 * processor does not know are checked and ignored; a duplicated member counts with its last
 * occurrence. Each record must be a record of SEMANTICS.md §1.1 (`eventSource`
 * `"aws:kinesis"`) or §1.2 (`"aws:dynamodb"`), with every member those tables do not mark
 * optional, of the right JSON type; all records of one event must have the same source.
 * Sequence numbers must be valid (bp_seqnum.h); Kinesis `data` must be strict base64
 * (bp_base64_decode()). What the record's data holds is not looked at: data that is not
 * JSON is delivered like any other bytes. A failure returns ::BP_ERR_INVALID_JSON (not
 * JSON, or the wrong JSON type) or ::BP_ERR_INVALID_RECORD (a missing member, another
 * source, a bad sequence number, bad base64, a time out of range), and bp_handler_errmsg()
 * names the JSON path, e.g. `Records[3].kinesis.data: invalid base64`.
 *
 * Memory. The processor owns a few buffers (decoded data, unescaped strings, the record
 * index, the response) that grow to the largest event seen and are reused: once warm,
 * processing allocates nothing, whatever the number of records. Use bp_arena_init() hooks
 * to run it inside caller memory. A processor is used by one thread at a time and may be
 * reused for any number of events (one per Lambda container).
 *
 * Example (a Kinesis handler counting JSON payloads with an "id"):
 * @code
 * #include <string.h>
 * #include <batchpoint.h>
 *
 * static int on_record(bp_handler *h, const bp_handler_record *r, void *ud) {
 *   (void)ud;
 *   if (r->data_len < 2 || r->data[0] != '{') {
 *     bp_handler_fail_reason(h, "not a JSON object", 17);
 *     return 1;
 *   }
 *   return 0;
 * }
 *
 * static int handle(bp_handler *h, const char *event, size_t len) {
 *   const char *resp;
 *   size_t resp_len;
 *   int rc = bp_handler_process(h, event, len, on_record, NULL, &resp, &resp_len);
 *   if (rc == 0 || rc == BP_ERR_BATCH_FAILED) {
 *     // send resp (resp_len bytes) as the invocation response, or report a function
 *     // error when rc is BP_ERR_BATCH_FAILED
 *   }
 *   return rc;
 * }
 * @endcode
 */
#ifndef BATCHPOINT_BP_HANDLER_H
#define BATCHPOINT_BP_HANDLER_H

#include "bp_common.h"
#include "bp_record.h"

#if BP_WITH_CODEC

#ifdef __cplusplus
extern "C" {
#endif

/** bp_handler_opts.flags: after the first failed record, make no further callback and
 *  report every later record failed too. */
#define BP_HANDLER_STOP_AT_FIRST_FAILURE 0x1u
/** bp_handler_opts.flags: de-aggregate Kinesis records written by the Kinesis Producer
 *  Library (KPL aggregated format, bp_kpl.h, with aws-kinesis-agg's outcomes, digest
 *  checked): the callback sees each user record (bp_handler_record.aggregated set, its own
 *  partition key, explicit hash key, data and sub-sequence number, the parent's sequence
 *  number and other members). A parent whose user records include a failure is reported
 *  once, with its sequence number; an aggregate that does not decode (bad digest, truncated
 *  message) makes no callback and is reported failed, the reason saying why (see
 *  bp_handler_get_failure()). Without ::BP_HANDLER_STOP_AT_FIRST_FAILURE every user record
 *  is offered even after one fails. An aggregate of zero user records succeeds. Records
 *  that are not aggregated are delivered as they are. */
#define BP_HANDLER_DEAGGREGATE 0x2u

/** Options of bp_handler_new(). Initialise with bp_handler_opts_init() or
 *  ::BP_HANDLER_OPTS_INIT. */
typedef struct bp_handler_opts {
  uint32_t struct_size; /**< see "How structs grow" in bp_common.h */
  uint32_t flags;       /**< BP_HANDLER_* */
} bp_handler_opts;

/** Static initializer of ::bp_handler_opts (every other member 0). */
#define BP_HANDLER_OPTS_INIT BP_STRUCT_INIT(bp_handler_opts)
/**
 * Zero @p o and set its struct_size.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (NULL; @p size below the first published size).
 * @param size the caller's sizeof(bp_handler_opts): exactly that many bytes are written.
 */
BP_API int bp_handler_opts_init(bp_handler_opts *o, size_t size);

/** A batch processor. Opaque. */
typedef struct bp_handler bp_handler;

/**
 * One record as the callback sees it (written by the library; read the members its
 * struct_size covers). Every pointer is borrowed: valid until the next
 * bp_handler_process() on the same processor or its deletion. Strings are pointer +
 * length, unescaped UTF-8 (not NUL-terminated; they point into the event text when the JSON
 * string has no escape, else into a buffer of the processor); an absent optional member is
 * NULL with length 0.
 */
typedef struct bp_handler_record {
  uint32_t struct_size;        /**< set by the library */
  int32_t source;              /**< BP_SOURCE_KINESIS or BP_SOURCE_DYNAMODB */
  size_t index;                /**< position in `Records` (0-based) */

  /* The envelope (both sources). */
  const char *event_id;        /**< eventID */
  size_t event_id_len;
  const char *event_name;      /**< eventName: "aws:kinesis:record"; INSERT, MODIFY, REMOVE */
  size_t event_name_len;
  const char *event_source;    /**< eventSource: "aws:kinesis" or "aws:dynamodb" */
  size_t event_source_len;
  const char *event_source_arn;/**< eventSourceARN */
  size_t event_source_arn_len;
  const char *aws_region;      /**< awsRegion */
  size_t aws_region_len;
  const char *event_version;   /**< eventVersion */
  size_t event_version_len;
  const char *invoke_identity_arn; /**< invokeIdentityArn (Kinesis; NULL for DynamoDB) */
  size_t invoke_identity_arn_len;

  /* Both sources: the record's position and time. */
  const char *seq;             /**< kinesis.sequenceNumber / dynamodb.SequenceNumber: the
                                    itemIdentifier reported when the record fails */
  size_t seq_len;
  int64_t arrival_ms;          /**< approximateArrivalTimestamp / ApproximateCreationDateTime
                                    in epoch milliseconds (the seconds token truncated to
                                    whole milliseconds) */
  const char *arrival_text;    /**< that member's JSON number token, as written */
  size_t arrival_text_len;

  /* Kinesis (the `kinesis` object). */
  const char *partition_key;   /**< partitionKey (of the user record when aggregated: NULL
                                    when its index is beyond the aggregate's table) */
  size_t partition_key_len;
  const char *kinesis_schema_version; /**< kinesisSchemaVersion */
  size_t kinesis_schema_version_len;
  const char *encryption_type; /**< encryptionType, NULL when absent */
  size_t encryption_type_len;
  const uint8_t *data;         /**< data, base64-decoded (of the user record when
                                    aggregated); never NULL for Kinesis */
  size_t data_len;
  const char *data_base64;     /**< data as the base64 text of the event (of the parent
                                    record when aggregated) */
  size_t data_base64_len;

  /* DynamoDB (the `dynamodb` object and userIdentity), JSON text spans of the event. */
  const char *dynamodb_json;   /**< the whole `dynamodb` object */
  size_t dynamodb_json_len;
  const char *keys_json;       /**< dynamodb.Keys (an object) */
  size_t keys_json_len;
  const char *new_image_json;  /**< dynamodb.NewImage, NULL when absent */
  size_t new_image_json_len;
  const char *old_image_json;  /**< dynamodb.OldImage, NULL when absent */
  size_t old_image_json_len;
  const char *user_identity_json; /**< userIdentity (TTL deletions), NULL when absent */
  size_t user_identity_json_len;
  const char *stream_view_type;/**< dynamodb.StreamViewType */
  size_t stream_view_type_len;
  int64_t size_bytes;          /**< dynamodb.SizeBytes */

  /* KPL de-aggregation (::BP_HANDLER_DEAGGREGATE). */
  int32_t aggregated;          /**< 1: a user record of a KPL aggregate (seq is its parent's) */
  uint32_t sub_sequence_number;/**< aggregated: its index among the aggregate's records */
  const char *explicit_hash_key; /**< aggregated: its explicit hash key, NULL when none */
  size_t explicit_hash_key_len;

  uint64_t reserved[4];        /**< room for members appended later; zeroed */
} bp_handler_record;

/**
 * The per-record callback. Return 0 when the record succeeded, any other value when it
 * failed (call bp_handler_fail_reason() first to keep a message). The only bp_handler
 * calls allowed inside are bp_handler_fail_reason(), bp_handler_set_state(),
 * bp_handler_get_window(), bp_handler_errmsg() and the bp_handler_ddb_*() readers.
 */
typedef int (*bp_handler_fn)(bp_handler *h, const bp_handler_record *rec, void *user_data);

/**
 * Create a processor.
 * @param out receives it; NULL on failure.
 * @param opts options (copied); NULL for the defaults.
 * @param alloc allocator hooks (copied), NULL for libc.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (NULL @p out, bad struct_size, unknown flag bits,
 *         half-set allocator); ::BP_ERR_NOMEM.
 */
BP_API int bp_handler_new(bp_handler **out, const bp_handler_opts *opts,
                          const bp_allocator *alloc);

/** Destroy a processor (NULL is fine). Invalidates everything it lent. */
BP_API void bp_handler_del(bp_handler *h);

/** @return the last error message ("" if none); valid until the next call on @p h. */
BP_API const char *bp_handler_errmsg(const bp_handler *h);

/**
 * Process one event: parse and check it whole, call @p fn for each record in order, and
 * build the response.
 * @param event the event's JSON text (borrowed until the next call on @p h: the record
 *        views point into it).
 * @param fn the callback; @p user_data is passed to it unchanged.
 * @param response out: the response JSON text (NUL-terminated, owned by @p h, valid until
 *        the next bp_handler_process() or deletion); NULL after an error other than
 *        ::BP_ERR_BATCH_FAILED.
 * @param response_len out: its length.
 * @return 0 (every record succeeded, or some failed: see the response);
 *         ::BP_ERR_BATCH_FAILED (the event had records and all failed; the response lists
 *         them all); ::BP_ERR_INVALID_JSON, ::BP_ERR_INVALID_RECORD (a malformed event, no
 *         callback was made; bp_handler_errmsg() names the JSON path); ::BP_ERR_INVALID_ARGUMENT
 *         (NULL @p h, @p fn or out-pointer, @p event NULL with @p len > 0, a @p len above
 *         PTRDIFF_MAX); ::BP_ERR_TOO_LARGE (an event above 2 GiB); ::BP_ERR_IN_CALLBACK
 *         (called from a callback); ::BP_ERR_NOMEM.
 */
BP_API int bp_handler_process(bp_handler *h, const char *event, size_t len, bp_handler_fn fn,
                              void *user_data, const char **response, size_t *response_len);

/**
 * Keep a message saying why the current record failed (for logging: see
 * bp_handler_get_failure()). Only inside the callback; the last call for a record wins. The
 * text is copied (at most 4,096 bytes are kept).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (NULL @p h, @p msg NULL with @p len > 0);
 *         ::BP_ERR_INVALID_STATE (not inside a callback); ::BP_ERR_NOMEM.
 */
BP_API int bp_handler_fail_reason(bp_handler *h, const char *msg, size_t len);

/**
 * Set the tumbling-window state the response carries: a JSON object (validated; copied and
 * embedded byte for byte). Callable inside a callback or after bp_handler_process() has
 * returned (then the response is rebuilt: call bp_handler_response() for it). Any event may
 * carry a state this way; a window event carries one always.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT; ::BP_ERR_INVALID_JSON (not a JSON object);
 *         ::BP_ERR_INVALID_STATE (no event processed yet); ::BP_ERR_NOMEM.
 */
BP_API int bp_handler_set_state(bp_handler *h, const char *json, size_t len);

/**
 * The response of the last bp_handler_process() (after a bp_handler_set_state() that
 * followed it, the rebuilt one).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT; ::BP_ERR_INVALID_STATE (no response: no event, or
 *         the last one was malformed).
 */
BP_API int bp_handler_response(bp_handler *h, const char **response, size_t *response_len);

/** One failed record of the last event (bp_handler_get_failure()). Set struct_size with
 *  bp_handler_failure_init() or ::BP_HANDLER_FAILURE_INIT before passing it. */
typedef struct bp_handler_failure {
  uint32_t struct_size;   /**< the host sets it; the library writes that many bytes at most */
  int32_t skipped;        /**< 1: not processed (a record after the first failure, with
                               ::BP_HANDLER_STOP_AT_FIRST_FAILURE) */
  size_t index;           /**< the record's position in `Records` */
  const char *seq;        /**< its sequence number (the itemIdentifier) */
  size_t seq_len;
  const char *reason;     /**< the bp_handler_fail_reason() text, NULL when none */
  size_t reason_len;
  uint64_t reserved[4];   /**< zeroed */
} bp_handler_failure;

/** Static initializer of ::bp_handler_failure (every other member 0). */
#define BP_HANDLER_FAILURE_INIT BP_STRUCT_INIT(bp_handler_failure)
/** Zero @p f and set its struct_size. @return 0; ::BP_ERR_INVALID_ARGUMENT. */
BP_API int bp_handler_failure_init(bp_handler_failure *f, size_t size);

/** @return the number of failed records of the last event (0 when none or no event). With
 *  ::BP_HANDLER_DEAGGREGATE this counts parent records (as the response does). */
BP_API size_t bp_handler_failure_count(const bp_handler *h);

/**
 * The @p i-th failed record of the last event, in record order. Pointers are valid as the
 * record views are.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (NULL, bad struct_size, @p i out of range).
 */
BP_API int bp_handler_get_failure(const bp_handler *h, size_t i, bp_handler_failure *out);

/** The tumbling-window members of the event (SEMANTICS.md §6). Set struct_size with
 *  bp_handler_window_init() or ::BP_HANDLER_WINDOW_INIT before passing it. */
typedef struct bp_handler_window {
  uint32_t struct_size;        /**< the host sets it; the library writes that many bytes */
  int32_t is_final;            /**< isFinalInvokeForWindow */
  int64_t start_ms;            /**< window.start (RFC 3339 UTC) in epoch milliseconds */
  int64_t end_ms;              /**< window.end */
  const char *state_json;      /**< the `state` object's JSON text (`{}` when the event has
                                    none) */
  size_t state_json_len;
  const char *shard_id;        /**< shardId */
  size_t shard_id_len;
  const char *event_source_arn;/**< eventSourceARN (top level) */
  size_t event_source_arn_len;
  int32_t is_terminated_early; /**< isWindowTerminatedEarly */
  int32_t pad_;                /**< zero */
  uint64_t reserved[4];        /**< zeroed */
} bp_handler_window;

/** Static initializer of ::bp_handler_window (every other member 0). */
#define BP_HANDLER_WINDOW_INIT BP_STRUCT_INIT(bp_handler_window)
/** Zero @p w and set its struct_size. @return 0; ::BP_ERR_INVALID_ARGUMENT. */
BP_API int bp_handler_window_init(bp_handler_window *w, size_t size);

/**
 * The window of the event being (or last) processed. An event is a window event when it has
 * a top-level `window` member; it then needs `window.start`, `window.end`, `shardId` and
 * `isFinalInvokeForWindow` too (`state` defaults to `{}`, `isWindowTerminatedEarly` to
 * false, `eventSourceARN` to absent).
 * @return 1 (a window event: @p out filled); 0 (not one: @p out zeroed but for struct_size);
 *         ::BP_ERR_INVALID_ARGUMENT; ::BP_ERR_INVALID_STATE (no event processed).
 */
BP_API int bp_handler_get_window(const bp_handler *h, bp_handler_window *out);

/* ---- DynamoDB attribute values (typed DynamoDB JSON) ---- */

/** Attribute types (bp_ddb_attr.type). */
#define BP_DDB_NONE 0 /**< not found */
#define BP_DDB_S 1    /**< string: value = the unescaped UTF-8 */
#define BP_DDB_N 2    /**< number: value = its text, as DynamoDB sends it ("42", "-1.5E3") */
#define BP_DDB_B 3    /**< binary: value = the base64-decoded bytes */
#define BP_DDB_BOOL 4 /**< boolean: boolean = 0/1, value = "true"/"false" */
#define BP_DDB_NULL 5 /**< null: value = "true" */
#define BP_DDB_M 6    /**< map: value = the JSON object text (iterate with bp_handler_ddb_next()) */
#define BP_DDB_L 7    /**< list: value = the JSON array text (iterate) */
#define BP_DDB_SS 8   /**< string set: value = the JSON array text (iterate: BP_DDB_S) */
#define BP_DDB_NS 9   /**< number set: value = the JSON array text (iterate: BP_DDB_N) */
#define BP_DDB_BS 10  /**< binary set: value = the JSON array text (iterate: BP_DDB_B) */

/** One typed attribute value (written by the library). Set struct_size with
 *  bp_ddb_attr_init() or ::BP_DDB_ATTR_INIT before passing it. Pointers are valid until
 *  the current callback returns (decoded and unescaped values live in a buffer of the
 *  processor that is reset before each record), or, outside a callback, until the next
 *  call on the processor. */
typedef struct bp_ddb_attr {
  uint32_t struct_size;   /**< the host sets it; the library writes that many bytes */
  int32_t type;           /**< BP_DDB_* */
  const char *value;      /**< see the types */
  size_t value_len;
  const char *json;       /**< the whole typed value's JSON text, e.g. `{"S":"x"}` */
  size_t json_len;
  int32_t boolean;        /**< BP_DDB_BOOL: 0 or 1 */
  int32_t pad_;           /**< zero */
  uint64_t reserved[4];   /**< zeroed */
} bp_ddb_attr;

/** Static initializer of ::bp_ddb_attr (every other member 0). */
#define BP_DDB_ATTR_INIT BP_STRUCT_INIT(bp_ddb_attr)
/** Zero @p a and set its struct_size. @return 0; ::BP_ERR_INVALID_ARGUMENT. */
BP_API int bp_ddb_attr_init(bp_ddb_attr *a, size_t size);

/**
 * Look up attribute @p name (compared with the unescaped member names; the last one wins)
 * in a DynamoDB item map: an image or Keys span of a record, or the value of an
 * ::BP_DDB_M attribute.
 * @return 1 (found, @p out filled); 0 (absent: out->type ::BP_DDB_NONE);
 *         ::BP_ERR_INVALID_ARGUMENT; ::BP_ERR_INVALID_JSON (@p map is not a JSON object of
 *         typed values: the message says where); ::BP_ERR_INVALID_BASE64 (a B value);
 *         ::BP_ERR_NOMEM.
 */
BP_API int bp_handler_ddb_get(bp_handler *h, const char *map, size_t map_len,
                              const char *name, size_t name_len, bp_ddb_attr *out);

/**
 * Iterate a container: a map (@p type ::BP_DDB_M, @p json an image, Keys or an M value),
 * a list (::BP_DDB_L) or a set (::BP_DDB_SS, ::BP_DDB_NS, ::BP_DDB_BS; elements come as
 * ::BP_DDB_S, ::BP_DDB_N, ::BP_DDB_B). Start with *@p cursor = 0.
 * @param name out (maps only, else NULL/0; may be NULL): the member name, unescaped.
 * @return 1 (an element: @p out filled, @p cursor advanced); 0 (no more);
 *         ::BP_ERR_INVALID_ARGUMENT (unknown @p type, a cursor not from this iteration);
 *         ::BP_ERR_INVALID_JSON; ::BP_ERR_INVALID_BASE64; ::BP_ERR_NOMEM.
 */
BP_API int bp_handler_ddb_next(bp_handler *h, int32_t type, const char *json, size_t len,
                               size_t *cursor, const char **name, size_t *name_len,
                               bp_ddb_attr *out);

#ifdef __cplusplus
}
#endif

#endif /* BP_WITH_CODEC */

#endif
