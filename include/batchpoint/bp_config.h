/* SPDX-License-Identifier: MIT */
/**
 * @file bp_config.h
 * @brief The event source mapping (ESM) configuration: one opaque object holding the
 *        parameters of a Kinesis / DynamoDB Streams mapping, validated like AWS does.
 *
 * Three ways to fill it, all validating at set time with AWS's own limits and messages
 * (SEMANTICS.md §2.1, §2.3):
 * - typed setters named after the ESM fields (bp_config_set_batch_size(), ...);
 * - one string entry point by ESM name, bp_config_set(c, "BatchSize", "100", ...);
 * - bp_config_parse_json() for a CreateEventSourceMapping request body (needs the codec).
 * Whole-request rules that involve several fields are checked by bp_config_validate().
 *
 * Errors: a rejected value returns ::BP_ERR_CONFIG_INVALID and leaves the configuration
 * unchanged; bp_config_errmsg() then holds AWS's message, bp_config_error_type() the AWS
 * exception name and bp_config_error_http_status() its HTTP status (400), so a host that
 * emulates the Lambda API can answer exactly as AWS would. The message, type and offset are
 * valid until the next call that may fail on the same object. Getters never fail.
 *
 * Ownership: strings passed in are borrowed for the call and copied. Strings returned by
 * getters are owned by the configuration and valid until the same field is changed or the
 * object is deleted. A configuration is used by one thread at a time; objects that consume
 * it (engines) take their own copy with bp_config_copy() at creation.
 */
#ifndef BATCHPOINT_BP_CONFIG_H
#define BATCHPOINT_BP_CONFIG_H

#include "bp_common.h"
#include "bp_record.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An ESM configuration. Opaque; created by bp_config_new() or bp_config_copy(). */
typedef struct bp_config bp_config;

/* The event source kind (BP_SOURCE_*) and StartingPosition (BP_POSITION_NONE,
 * _TRIM_HORIZON, _LATEST, _AT_TIMESTAMP) values are those of bp_record.h. */

/** StartingPositionTimestamp "not set". */
#define BP_CONFIG_NO_TIMESTAMP (-1)

/** Defaults (SEMANTICS.md §2.1, as AWS returns them for a new mapping). */
#define BP_CONFIG_DEFAULT_BATCH_SIZE 100
#define BP_CONFIG_DEFAULT_PARALLELIZATION_FACTOR 1
#define BP_CONFIG_DEFAULT_MAXIMUM_RETRY_ATTEMPTS (-1)       /**< infinite */
#define BP_CONFIG_DEFAULT_MAXIMUM_RECORD_AGE_IN_SECONDS (-1) /**< infinite */
#define BP_CONFIG_DEFAULT_MAX_FILTERS 5

/** Limits (inclusive). */
#define BP_CONFIG_MAX_BATCH_SIZE 10000
#define BP_CONFIG_MAX_BATCHING_WINDOW_IN_SECONDS 300
#define BP_CONFIG_MAX_PARALLELIZATION_FACTOR 10
#define BP_CONFIG_MAX_RETRY_ATTEMPTS 10000
#define BP_CONFIG_MIN_RECORD_AGE_IN_SECONDS 60 /**< besides -1 */
#define BP_CONFIG_MAX_RECORD_AGE_IN_SECONDS 604800
#define BP_CONFIG_MAX_TUMBLING_WINDOW_IN_SECONDS 900
#define BP_CONFIG_MAX_FILTERS_LIMIT 10      /**< highest value of bp_config_set_max_filters() */
#define BP_CONFIG_MAX_PATTERN_CHARS 4096    /**< FilterCriteria pattern, in code points */
#define BP_CONFIG_MAX_DESTINATION_CHARS 350 /**< on-failure destination ARN, in code points */
#define BP_CONFIG_MAX_FUNCTION_NAME_CHARS 140
/** EventSourceArn, in bytes: Kinesis StreamARN's limit (DynamoDB stream ARNs: 1024). */
#define BP_CONFIG_MAX_EVENT_SOURCE_ARN_BYTES 2048

/* ---- Life cycle and errors ---- */

/**
 * Create a configuration holding the defaults of SEMANTICS.md §2.1: BatchSize 100,
 * MaximumBatchingWindowInSeconds 0, ParallelizationFactor 1, MaximumRetryAttempts -1,
 * MaximumRecordAgeInSeconds -1, BisectBatchOnFunctionError false, FunctionResponseTypes [],
 * TumblingWindowInSeconds 0, Enabled true, no destination, no filters (limit 5), no metrics,
 * and no EventSourceArn, FunctionName or StartingPosition.
 * @param out   receives the new object; NULL on failure.
 * @param alloc allocator hooks, copied (NULL: the C library).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p out NULL, or half-set hooks);
 *         ::BP_ERR_NOMEM.
 */
BP_API int bp_config_new(bp_config **out, const bp_allocator *alloc);

/**
 * Deep-copy @p src (values only: the copy starts with no error).
 * @param out   receives the copy; NULL on failure.
 * @param src   the configuration to copy (borrowed).
 * @param alloc the copy's allocator hooks, copied (NULL: the C library, not @p src's).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p out or @p src NULL, or half-set hooks);
 *         ::BP_ERR_NOMEM.
 */
BP_API int bp_config_copy(bp_config **out, const bp_config *src, const bp_allocator *alloc);

/** Destroy @p c and everything it owns. NULL is allowed. */
BP_API void bp_config_del(bp_config *c);

/**
 * @return the message of the last failed call on @p c ("" if it succeeded or @p c is NULL).
 *         For AWS rejections this is AWS's exact text.
 */
BP_API const char *bp_config_errmsg(const bp_config *c);

/**
 * @return the AWS exception name of the last rejection, "InvalidParameterValueException" or
 *         "ValidationException"; "" when the last call succeeded or failed for a reason AWS
 *         would not report (::BP_ERR_NOMEM, ::BP_ERR_INVALID_ARGUMENT,
 *         ::BP_ERR_CONFIG_UNKNOWN, ::BP_ERR_UNSUPPORTED).
 */
BP_API const char *bp_config_error_type(const bp_config *c);

/** @return the HTTP status AWS answers the last rejection with (400), or 0 when none. */
BP_API int bp_config_error_http_status(const bp_config *c);

/**
 * @return the byte offset in the JSON text where bp_config_parse_json() found a syntax
 *         error, or SIZE_MAX when the last error has no position.
 */
BP_API size_t bp_config_error_offset(const bp_config *c);

/* ---- Typed setters ----
 * Each returns 0; ::BP_ERR_INVALID_ARGUMENT (@p c NULL, a NULL string with a non-zero
 * length, or a length no object can have: above PTRDIFF_MAX); ::BP_ERR_CONFIG_INVALID (the
 * value is outside AWS's limits: see errmsg); and, for those that copy a string,
 * ::BP_ERR_NOMEM. On any error the configuration is unchanged. A string whose length in
 * bytes is over its limit whatever it holds (more than 4 bytes per allowed character) is
 * refused before it is read, and its value is then not echoed in the message ("Value at
 * '<path>' failed to satisfy constraint: Member must have length less than or equal to <n>").
 */

/**
 * EventSourceArn. `arn:<partition>:kinesis:<region>:<account>:<resource>` selects Kinesis,
 * `...:dynamodb:...` DynamoDB Streams (partition `aws` or `aws-*`; region and resource must
 * not be empty), at most ::BP_CONFIG_MAX_EVENT_SOURCE_ARN_BYTES bytes. Anything else:
 * InvalidParameterValueException "Unrecognized event source." (a longer @p len is refused
 * before the text is read).
 * @param arn UTF-8 text, @p len bytes (copied).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT; ::BP_ERR_CONFIG_INVALID; ::BP_ERR_NOMEM.
 */
BP_API int bp_config_set_event_source_arn(bp_config *c, const char *arn, size_t len);

/**
 * FunctionName: a name, a partial ARN (`123456789012:function:fn`) or a full ARN, with an
 * optional `:qualifier`; 1..140 characters matching AWS's FunctionName pattern.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT; ::BP_ERR_CONFIG_INVALID (ValidationException);
 *         ::BP_ERR_NOMEM.
 */
BP_API int bp_config_set_function_name(bp_config *c, const char *name, size_t len);

/**
 * BatchSize, 1..10,000 (both sources). Out of range: ValidationException "1 validation error
 * detected: Value '0' at 'batchSize' failed to satisfy constraint: Member must have value
 * greater than or equal to 1" (or "less than or equal to 10000").
 * @return 0; ::BP_ERR_INVALID_ARGUMENT; ::BP_ERR_CONFIG_INVALID.
 */
BP_API int bp_config_set_batch_size(bp_config *c, uint32_t batch_size);

/**
 * MaximumBatchingWindowInSeconds, 0..300 (same message template as BatchSize).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT; ::BP_ERR_CONFIG_INVALID.
 */
BP_API int bp_config_set_maximum_batching_window_in_seconds(bp_config *c, int32_t seconds);

/**
 * ParallelizationFactor, 1..10 (same message template as BatchSize).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT; ::BP_ERR_CONFIG_INVALID.
 */
BP_API int bp_config_set_parallelization_factor(bp_config *c, int32_t factor);

/**
 * StartingPosition: a BP_POSITION_* value (NONE clears it). Any other value:
 * ValidationException "... Member must satisfy enum value set: [LATEST, AT_TIMESTAMP,
 * TRIM_HORIZON]". AT_TIMESTAMP on DynamoDB is a bp_config_validate() error.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT; ::BP_ERR_CONFIG_INVALID.
 */
BP_API int bp_config_set_starting_position(bp_config *c, int32_t position);

/**
 * StartingPositionTimestamp in epoch milliseconds, 0..BP_TIME_MAX_MS of bp_time.h, or
 * ::BP_CONFIG_NO_TIMESTAMP to clear it. Used only with AT_TIMESTAMP.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT; ::BP_ERR_CONFIG_INVALID
 *         (InvalidParameterValueException).
 */
BP_API int bp_config_set_starting_position_timestamp_ms(bp_config *c, int64_t ms);

/**
 * MaximumRetryAttempts, -1 (infinite) .. 10,000 (same message template as BatchSize).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT; ::BP_ERR_CONFIG_INVALID.
 */
BP_API int bp_config_set_maximum_retry_attempts(bp_config *c, int32_t attempts);

/**
 * MaximumRecordAgeInSeconds, -1 (infinite) or 60..604,800. Anything else:
 * InvalidParameterValueException "MaximumRecordAgeInSeconds must be either -1 (forever) or
 * between 60 and 604800 (inclusive)".
 * @return 0; ::BP_ERR_INVALID_ARGUMENT; ::BP_ERR_CONFIG_INVALID.
 */
BP_API int bp_config_set_maximum_record_age_in_seconds(bp_config *c, int32_t seconds);

/**
 * BisectBatchOnFunctionError (non-zero = true).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT.
 */
BP_API int bp_config_set_bisect_batch_on_function_error(bp_config *c, int32_t on);

/**
 * FunctionResponseTypes: non-zero for ["ReportBatchItemFailures"], 0 for [].
 * @return 0; ::BP_ERR_INVALID_ARGUMENT.
 */
BP_API int bp_config_set_report_batch_item_failures(bp_config *c, int32_t on);

/**
 * TumblingWindowInSeconds, 0 (off) .. 900 (same message template as BatchSize).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT; ::BP_ERR_CONFIG_INVALID.
 */
BP_API int bp_config_set_tumbling_window_in_seconds(bp_config *c, int32_t seconds);

/**
 * Enabled (non-zero = true).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT.
 */
BP_API int bp_config_set_enabled(bp_config *c, int32_t on);

/**
 * DestinationConfig.OnFailure.Destination: an ARN of at most 350 characters matching AWS's
 * ARN pattern; the empty string removes the destination.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT; ::BP_ERR_CONFIG_INVALID (ValidationException);
 *         ::BP_ERR_NOMEM.
 */
BP_API int bp_config_set_on_failure_destination(bp_config *c, const char *arn, size_t len);

/**
 * MetricsConfig: non-zero for {"Metrics":["EventCount"]}, 0 for no metrics.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT.
 */
BP_API int bp_config_set_metrics_event_count(bp_config *c, int32_t on);

/**
 * The FilterCriteria limit (AWS quota: 5 by default, raisable to 10), 1..10. Lowering it
 * below the number of filters already set fails with the count message.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT; ::BP_ERR_CONFIG_INVALID.
 */
BP_API int bp_config_set_max_filters(bp_config *c, int32_t max_filters);

/**
 * Append one FilterCriteria pattern (copied). Checked in AWS's order: count
 * (InvalidParameterValueException "The number of filters exceeds the limit of <n>."), length
 * (at most 4,096 code points; ValidationException), then syntax: the pattern must be one
 * JSON object (InvalidParameterValueException "Invalid filter pattern definition."), then,
 * in builds with the codec, the filter rules (the pattern is compiled as bp_filter.h does,
 * full language): a JSON object that is no filter, such as `{"eventSource": "aws:sqs"}`,
 * fails with "Invalid filter pattern definition. (filter <n>: <event-ruler's reason>)".
 * The strict-Lambda subset is checked when the engine compiles the filters
 * (bp_engine_opts.filter_flags). A core-only build checks the syntax only.
 * @param pattern UTF-8 JSON text, @p len bytes.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT; ::BP_ERR_CONFIG_INVALID; ::BP_ERR_NOMEM.
 */
BP_API int bp_config_add_filter(bp_config *c, const char *pattern, size_t len);

/**
 * Remove every filter (FilterCriteria {"Filters": []}).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT.
 */
BP_API int bp_config_clear_filters(bp_config *c);

/* ---- Getters (never fail; a NULL @p c reads as 0 / NULL) ---- */

/** @return EventSourceArn (NUL-terminated), or NULL when not set. */
BP_API const char *bp_config_get_event_source_arn(const bp_config *c);
/** @return BP_SOURCE_KINESIS / _DYNAMODB, or BP_SOURCE_NONE without an ARN. */
BP_API int32_t bp_config_get_source(const bp_config *c);
/** @return FunctionName as given, or NULL when not set. */
BP_API const char *bp_config_get_function_name(const bp_config *c);
/** @return FunctionName when it is a full function ARN (`arn:...:lambda:...`), else NULL.
 *  bp_config_resolve_function_arn() completes the other forms. */
BP_API const char *bp_config_get_function_arn(const bp_config *c);

/** A buffer of this many bytes always holds bp_config_resolve_function_arn()'s result. */
#define BP_CONFIG_FUNCTION_ARN_CAP                                                            \
  (BP_CONFIG_MAX_EVENT_SOURCE_ARN_BYTES + 4 * BP_CONFIG_MAX_FUNCTION_NAME_CHARS + 64)

/**
 * The function's ARN as CreateEventSourceMapping resolves FunctionName (its response's
 * `FunctionArn`, SEMANTICS.md §2.2; the `functionArn` of on-failure records, §5.3):
 * `arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]`. Every part
 * FunctionName gives is kept (a full ARN comes back as given, a qualifier stays); partition and
 * region otherwise come from EventSourceArn (a trigger is never cross-region, §8.1); the account
 * from @p account, else from EventSourceArn. `fn` on `arn:aws-cn:kinesis:cn-north-1:
 * 111111111111:stream/s` resolves to `arn:aws-cn:lambda:cn-north-1:111111111111:function:fn`.
 * Pure: reads @p c only.
 * @param account the function's account, 12 digits; NULL: EventSourceArn's account.
 * @param buf     receives the ARN and a NUL (NULL only with @p cap 0);
 *                ::BP_CONFIG_FUNCTION_ARN_CAP bytes always suffice.
 * @param len     receives the ARN's length, also on ::BP_ERR_BUFFER_TOO_SMALL (the length
 *                needed, without the NUL); 0 on other errors.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (NULL @p c or @p len, @p buf NULL with @p cap > 0,
 *         @p account not 12 digits); ::BP_ERR_INVALID_STATE (FunctionName or EventSourceArn
 *         not set, or no account: FunctionName names none, @p account is NULL and
 *         EventSourceArn's account field is not 12 digits); ::BP_ERR_BUFFER_TOO_SMALL.
 */
BP_API int bp_config_resolve_function_arn(const bp_config *c, const char *account, char *buf,
                                          size_t cap, size_t *len);
/** @return BatchSize. */
BP_API uint32_t bp_config_get_batch_size(const bp_config *c);
/** @return MaximumBatchingWindowInSeconds. */
BP_API int32_t bp_config_get_maximum_batching_window_in_seconds(const bp_config *c);
/** @return ParallelizationFactor. */
BP_API int32_t bp_config_get_parallelization_factor(const bp_config *c);
/** @return a BP_POSITION_* value (NONE when not set). */
BP_API int32_t bp_config_get_starting_position(const bp_config *c);
/** @return StartingPositionTimestamp in epoch ms, or ::BP_CONFIG_NO_TIMESTAMP. */
BP_API int64_t bp_config_get_starting_position_timestamp_ms(const bp_config *c);
/** @return MaximumRetryAttempts (-1 = infinite). */
BP_API int32_t bp_config_get_maximum_retry_attempts(const bp_config *c);
/** @return MaximumRecordAgeInSeconds (-1 = infinite). */
BP_API int32_t bp_config_get_maximum_record_age_in_seconds(const bp_config *c);
/** @return BisectBatchOnFunctionError, 0 or 1. */
BP_API int32_t bp_config_get_bisect_batch_on_function_error(const bp_config *c);
/** @return 1 if FunctionResponseTypes is ["ReportBatchItemFailures"], 0 if []. */
BP_API int32_t bp_config_get_report_batch_item_failures(const bp_config *c);
/** @return TumblingWindowInSeconds (0 = no window). */
BP_API int32_t bp_config_get_tumbling_window_in_seconds(const bp_config *c);
/** @return Enabled, 0 or 1. */
BP_API int32_t bp_config_get_enabled(const bp_config *c);
/** @return the on-failure destination ARN, or NULL when there is none. */
BP_API const char *bp_config_get_on_failure_destination(const bp_config *c);
/** @return 1 if MetricsConfig is {"Metrics":["EventCount"]}, else 0. */
BP_API int32_t bp_config_get_metrics_event_count(const bp_config *c);
/** @return the FilterCriteria limit (1..10). */
BP_API int32_t bp_config_get_max_filters(const bp_config *c);
/** @return the number of filter patterns. */
BP_API size_t bp_config_get_filter_count(const bp_config *c);

/**
 * The @p index-th filter pattern, as given (NUL-terminated; no embedded NUL).
 * @param text out: the pattern (owned by @p c). @param len out: its length in bytes.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p c, @p text or @p len NULL, or @p index >= count).
 */
BP_API int bp_config_get_filter(const bp_config *c, size_t index, const char **text,
                                size_t *len);

/* ---- By name, whole request ---- */

/**
 * Set a parameter by its ESM name from text (librdkafka style). Names (case-sensitive):
 * - `EventSourceArn`, `FunctionName`, `DestinationConfig.OnFailure.Destination` ("" removes
 *   the destination): the text itself;
 * - `BatchSize`, `MaximumBatchingWindowInSeconds`, `ParallelizationFactor`,
 *   `MaximumRetryAttempts`, `MaximumRecordAgeInSeconds`, `TumblingWindowInSeconds`, and the
 *   batchpoint option `MaxFilters`: a decimal integer ("100", "-1");
 * - `StartingPosition`: `TRIM_HORIZON`, `LATEST` or `AT_TIMESTAMP`;
 * - `StartingPositionTimestamp`: epoch seconds as a JSON number ("1741010802.5"); "" clears;
 * - `BisectBatchOnFunctionError`, `Enabled`: `true` or `false`;
 * - `FunctionResponseTypes`: `ReportBatchItemFailures`, "" (none), or a JSON array text;
 * - `MetricsConfig.Metrics`: `EventCount`, "" (none), or a JSON array text;
 * - `FilterCriteria.Filters.Pattern`: appends one pattern (as bp_config_add_filter());
 * - `FilterCriteria`: "" removes every filter; a JSON text `{"Filters":[{"Pattern":"..."}]}`
 *   replaces them (codec builds only);
 * - `DestinationConfig.OnSuccess.Destination`: always rejected, as AWS does for streams.
 * Text that is not of the field's type gets a ValidationException ("... Member must be an
 * integer"). The message is also written to @p errbuf.
 * @param name   NUL-terminated ESM name. @param value NUL-terminated text.
 * @param errbuf receives the message on failure, "" on success (may be NULL).
 * @param errlen size of @p errbuf (may be 0).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p c, @p name or @p value NULL);
 *         ::BP_ERR_CONFIG_UNKNOWN (no parameter by that name); ::BP_ERR_CONFIG_INVALID;
 *         ::BP_ERR_NOMEM; ::BP_ERR_UNSUPPORTED (`FilterCriteria` JSON in a core-only build).
 */
BP_API int bp_config_set(bp_config *c, const char *name, const char *value, char *errbuf,
                         size_t errlen);

/**
 * Whole-request checks, in AWS's order (SEMANTICS.md §2.3): EventSourceArn set
 * ("Unrecognized event source."), FunctionName set (ValidationException "1 validation error
 * detected: Value null at 'functionName' failed to satisfy constraint: Member must not be
 * null."), StartingPosition set ("1 validation error detected: Value null at
 * 'startingPosition' failed to satisfy constraint: Member must not be null."),
 * AT_TIMESTAMP not on DynamoDB ("Unsupported starting position for arn type: <arn>"),
 * AT_TIMESTAMP with a timestamp ("StartingPositionTimestamp is required when
 * StartingPosition is AT_TIMESTAMP."). All but FunctionName are
 * InvalidParameterValueException. Stream existence and duplicate mappings are the host's to
 * check. bp_config_parse_json() checks FunctionName right after EventSourceArn.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p c NULL); ::BP_ERR_CONFIG_INVALID.
 */
BP_API int bp_config_validate(bp_config *c);

#if BP_WITH_CODEC
/**
 * Apply a CreateEventSourceMapping request body (JSON object, AWS member names) over the
 * current values, then run bp_config_validate() on the result. Atomic: on any error the
 * configuration is unchanged. The first problem is reported in the order of SEMANTICS.md
 * §2.3, after JSON syntax, unknown members and wrong JSON types (ValidationException
 * "... Member must be an integer" and the like). JSON null means "absent". Members AWS
 * accepts only for other source kinds (Queues, Topics, SourceAccessConfigurations, Tags,
 * ScalingConfig, ...) are ignored; other unknown members are rejected. FilterCriteria
 * replaces the filters; DestinationConfig.OnSuccess is rejected.
 * @param json UTF-8 text, @p len bytes (borrowed).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p c NULL, @p json NULL with @p len > 0, or @p len
 *         above PTRDIFF_MAX: refused before the text is read);
 *         ::BP_ERR_INVALID_JSON (not one JSON object: a ValidationException "Could not parse
 *         request body into json: ..."; see bp_config_error_offset());
 *         ::BP_ERR_CONFIG_INVALID; ::BP_ERR_NOMEM. Declared and defined only when BP_WITH_CODEC
 *         is 1 (a core-only library has no JSON parser).
 */
BP_API int bp_config_parse_json(bp_config *c, const char *json, size_t len);
#endif /* BP_WITH_CODEC */

#ifdef __cplusplus
}
#endif

#endif
