/* SPDX-License-Identifier: MIT */
/**
 * @file bp_resolver.h
 * @brief Partial-batch-failure resolver (SEMANTICS.md §3.3-§3.5, §4, §5.1-§5.3, §8.4): what
 *        one invoke attempt's outcome means for the batch, the retry quota, the bisect work
 *        list, the lane's retry backoff and the event-count metrics; plus the record-age
 *        check that precedes every attempt.
 *
 * The resolver is a set of pure functions over plain, caller-owned structs: no object, no
 * allocation, no callbacks, no clock, no I/O, no globals. The same input always gives the
 * same action. Its state is three counters the caller keeps: the current (sub-)batch's
 * `attempts` and `invocations` (kept by the bisect splitter, bp_bisect.h) and the lane's
 * `consecutive_failures` (kept by the caller next to the lane). Each call takes them in a
 * ::bp_resolver_input and returns their next values in a ::bp_resolver_action;
 * bp_resolver_apply() then carries the action out on a bp_bisect work list.
 *
 * The body of a normal return is classified elsewhere (bp_codec_classify_response() in a
 * full build, or the host itself in a core-only build); this header does not depend on the
 * codec. The codec's classifier returns ::BP_ATTEMPT_SUCCESS, ::BP_ATTEMPT_PARTIAL or
 * ::BP_ATTEMPT_RETURNED_FAILED, and discards carry the BP_CONDITION_* values of
 * bp_record.h.
 *
 * Decision table for one attempt on a current batch of n records with counters (a, v) and
 * the lane's k consecutive failures; MRA = MaximumRetryAttempts (-1: forever):
 *
 * - SUCCESS: COMMIT_ALL (n records); next batch (0, 0); k = 0, no wait.
 * - NOT_REACHED (throttle): RETRY with (a, v) unchanged; never splits, never uses the quota;
 *   k + 1.
 * - FUNCTION_ERROR or RETURNED_FAILED with bisect on and n >= 2: SPLIT (the failure is not
 *   counted); the older half is next with (0, 0); k + 1.
 * - FUNCTION_ERROR or RETURNED_FAILED otherwise, and PARTIAL at index 0 (no progress; never
 *   splits): RETRY with (a + 1, v + 1) and k + 1, or, when MRA != -1 and a + 1 > MRA,
 *   DISCARD (RetryAttemptsExhausted) of the whole batch, k = 0, no wait.
 * - PARTIAL at index L > 0 (bisect on or off): COMMIT_PREFIX (L records); records L .. n-1
 *   are a new batch with (0, 0); k + 1.
 *
 * A discard reports approximateInvokeCount = v + 1 (the invocations of that exact batch
 * since it was formed, this one included), responseContext present, and functionError null
 * for RETURNED_FAILED / a no-progress PARTIAL, the host's X-Amz-Function-Error value for
 * FUNCTION_ERROR. Backoff (SEMANTICS.md §5.1, batchpoint's decision): after the k-th consecutive failed attempt the next
 * invocation on the lane starts no earlier than min(base * 2^(k-1), cap) ms after that
 * attempt completed; after a full success or any discard k is 0 and there is no wait.
 *
 * Record age (SEMANTICS.md §5.1, batchpoint's decision): before every invoke attempt (first, retries, throttled attempts,
 * split halves, remainders) call bp_resolver_age_check(): a record is expired iff
 * `now - arrival > MaximumRecordAgeInSeconds * 1000` ms; the longest expired prefix (stopping
 * at the first unexpired record) is discarded with RecordAgeExceeded, approximateInvokeCount
 * = max(v, 1) and no responseContext; the remainder keeps (a, v); a wholly expired batch is
 * discarded without invocation.
 *
 * Time: every time is milliseconds since the Unix epoch, 0 .. BP_TIME_MAX_MS (bp_time.h);
 * others give ::BP_ERR_RANGE.
 *
 * Errors: every function returns 0 (bp_resolver_apply(): a ::BP_BISECT_* value) or a
 * negative ::bp_err. Only bp_resolver_apply() changes anything besides its out-parameters,
 * and it changes nothing on error. When bp_resolver_decide() or bp_resolver_age_check()
 * fail, the action is zero-filled (::BP_ACTION_NONE): never act on it. Functions with an
 * @p errbuf write a NUL-terminated message there on error ("" on success); it may be NULL /
 * 0. No error of this component is fatal.
 *
 * Why plain structs and no handle: the resolver's whole state is three counters that the
 * caller already keeps (two in its bisect splitter, one per lane), so an opaque object would
 * only duplicate them; decisions stay pure, need no memory, and are passed
 * by pointer with fixed-width fields (rule 20). The structs are part of the ABI.
 */
#ifndef BATCHPOINT_BP_RESOLVER_H
#define BATCHPOINT_BP_RESOLVER_H

#include "bp_bisect.h"
#include "bp_common.h"
#include "bp_record.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Outcome of one invoke attempt (SEMANTICS.md §3.3) ---- */

#define BP_ATTEMPT_SUCCESS 0         /**< returned; full success (or RBIF off) */
#define BP_ATTEMPT_PARTIAL 1         /**< returned; batchItemFailures with lowest failed
                                          record at batch index failed_index (RBIF on only) */
#define BP_ATTEMPT_RETURNED_FAILED 2 /**< returned, but the response is a full failure
                                          (§3.4) or lacks the tumbling `state` (§6):
                                          functionError null */
#define BP_ATTEMPT_FUNCTION_ERROR 3  /**< X-Amz-Function-Error set (exception, timeout,
                                          crash): functionError = the host's value */
#define BP_ATTEMPT_NOT_REACHED 4     /**< throttled / service error: the function never ran */

/* ---- What to do next ---- */

#define BP_ACTION_NONE 0          /**< bp_resolver_age_check(): nothing expired, invoke */
#define BP_ACTION_COMMIT_ALL 1    /**< the whole current batch succeeded */
#define BP_ACTION_COMMIT_PREFIX 2 /**< commit commit_count records; the rest is a new batch */
#define BP_ACTION_RETRY 3         /**< invoke the same batch again at not_before_ms */
#define BP_ACTION_SPLIT 4         /**< bisect: the older half is invoked next */
#define BP_ACTION_DISCARD 5       /**< discard discard_count records from the front */

/** Backoff defaults and limit (ms) (SEMANTICS.md §5.1, batchpoint's decision). */
#define BP_RESOLVER_DEFAULT_BACKOFF_BASE_MS 1000
#define BP_RESOLVER_DEFAULT_BACKOFF_CAP_MS 60000
#define BP_RESOLVER_MAX_BACKOFF_MS 86400000 /**< one day: largest base or cap accepted */

/** Largest accepted maximum_record_age_in_seconds (BP_CONFIG_MAX_RECORD_AGE_IN_SECONDS). */
#define BP_RESOLVER_MAX_RECORD_AGE_IN_SECONDS 604800
/** Largest accepted maximum_retry_attempts (BP_CONFIG_MAX_RETRY_ATTEMPTS). */
#define BP_RESOLVER_MAX_RETRY_ATTEMPTS 10000

/**
 * The mapping's knobs the resolver needs (a plain option view: read during each call, not
 * kept). Fill it with bp_resolver_policy_init() (or ::BP_RESOLVER_POLICY_INIT) and then
 * change fields.
 */
typedef struct bp_resolver_policy {
  uint32_t struct_size;                   /**< see "How structs grow" in bp_common.h */
  int32_t maximum_retry_attempts;         /**< -1 (forever) .. 10,000; default -1 */
  int32_t maximum_record_age_in_seconds;  /**< -1 (forever) or 0 .. 604,800; default -1.
                                               AWS's own minimum of 60 is bp_config's rule */
  int32_t bisect_batch_on_function_error; /**< 0 or 1; default 0 */
  int32_t report_batch_item_failures;     /**< 0 or 1 (FunctionResponseTypes); default 0 */
  int64_t backoff_base_ms;                /**< 0 .. ::BP_RESOLVER_MAX_BACKOFF_MS; default
                                               1000; 0 = no backoff */
  int64_t backoff_cap_ms;                 /**< 0 .. ::BP_RESOLVER_MAX_BACKOFF_MS; default
                                               60000 */
} bp_resolver_policy;

/** Static initializer of ::bp_resolver_policy with the defaults of bp_resolver_policy_init(). */
#define BP_RESOLVER_POLICY_INIT {sizeof(bp_resolver_policy), -1, -1, 0, 0, 1000, 60000}

/** One decision's input (a plain view: read during the call, not kept). Initialise with
 *  bp_resolver_input_init() or ::BP_RESOLVER_INPUT_INIT. */
typedef struct bp_resolver_input {
  uint32_t struct_size;          /**< see "How structs grow" in bp_common.h */
  int32_t outcome;               /**< BP_ATTEMPT_* (bp_resolver_decide() only) */
  uint32_t attempts;             /**< current batch: failed attempts that counted toward
                                      MaximumRetryAttempts, before this attempt */
  uint32_t invocations;          /**< current batch: invocations that reached the function
                                      since it was formed, before this attempt */
  uint32_t consecutive_failures; /**< the lane's k before this attempt */
  size_t batch_size;             /**< records in the current batch, >= 1 */
  size_t failed_index;           /**< PARTIAL: batch index of the lowest reported record,
                                      0 .. batch_size - 1 (0 = no progress) */
  size_t failed_count;           /**< PARTIAL: distinct sequence numbers reported, 1 ..
                                      batch_size - failed_index (for §8.4) */
  int64_t now_ms;                /**< bp_resolver_decide(): when the attempt completed;
                                      bp_resolver_age_check(): now, before the attempt */
} bp_resolver_input;

/** Static initializer of ::bp_resolver_input (every other member 0). */
#define BP_RESOLVER_INPUT_INIT BP_STRUCT_INIT(bp_resolver_input)
/**
 * Zero @p in and set its struct_size.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (NULL; @p size below the first published size).
 * @param size the caller's sizeof(bp_resolver_input): exactly that many bytes are written.
 */
BP_API int bp_resolver_input_init(bp_resolver_input *in, size_t size);

/** One decision's result (written by the resolver; a plain view that bp_resolver_apply()
 *  reads back). Set struct_size with bp_resolver_action_init() or ::BP_RESOLVER_ACTION_INIT
 *  before passing it as an out-parameter. */
typedef struct bp_resolver_action {
  uint32_t struct_size;             /**< the host sets it; the resolver writes that many
                                         bytes at most and leaves here the number it wrote */
  int32_t kind;                     /**< BP_ACTION_* */
  int32_t condition;                /**< DISCARD: BP_CONDITION_* (bp_record.h); otherwise 0 */
  int32_t batch_finished;           /**< 1: the current batch is resolved entirely
                                         (COMMIT_ALL, or DISCARD of all its records): call
                                         bp_bisect_resolve_current() */
  int32_t response_context_present; /**< DISCARD: 1 for RetryAttemptsExhausted, 0 for
                                          RecordAgeExceeded (§5.2) */
  int32_t function_error_null;      /**< DISCARD with responseContext: 1 when functionError
                                         is JSON null (RETURNED_FAILED, no-progress PARTIAL),
                                         0 when it is the host's X-Amz-Function-Error value */
  uint32_t approximate_invoke_count; /**< DISCARD: >= 1 */
  size_t commit_count;              /**< COMMIT_ALL: batch_size; COMMIT_PREFIX: failed_index */
  size_t discard_count;             /**< DISCARD: records discarded from the batch's front */
  uint32_t attempts;                /**< counters of the batch to invoke next: the same batch
                                         (RETRY, NONE, expired-prefix remainder) or a new one
                                         (0: split half, partial remainder, next batch) */
  uint32_t invocations;
  uint32_t consecutive_failures;    /**< the lane's k after this attempt */
  int64_t not_before_ms;            /**< the next invocation on the lane starts no earlier
                                         (backoff); = now_ms when there is no wait */
  size_t invoked_event_count;       /**< §8.4 InvokedEventCount delta of this attempt */
  size_t failed_invoke_event_count; /**< §8.4 FailedInvokeEventCount delta of this attempt */
  uint64_t reserved[4];             /**< room for members appended later; the resolver
                                         zeroes it */
} bp_resolver_action;

/** Static initializer of ::bp_resolver_action (every other member 0). */
#define BP_RESOLVER_ACTION_INIT BP_STRUCT_INIT(bp_resolver_action)
/**
 * Zero @p a and set its struct_size.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (NULL; @p size below the first published size).
 * @param size the caller's sizeof(bp_resolver_action): exactly that many bytes are written.
 */
BP_API int bp_resolver_action_init(bp_resolver_action *a, size_t size);

/**
 * Fill @p p with the defaults (and its struct_size): MaximumRetryAttempts -1, MaximumRecordAgeInSeconds -1,
 * bisect off, ReportBatchItemFailures off, backoff 1,000 ms doubling up to 60,000 ms.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p p NULL).
 * @param size the caller's sizeof(bp_resolver_policy): exactly that many bytes are written.
 */
BP_API int bp_resolver_policy_init(bp_resolver_policy *p, size_t size);

/**
 * Check every field of @p p against the ranges documented in ::bp_resolver_policy.
 * @param errbuf receives a message naming the bad field (may be NULL).
 * @param errlen its size in bytes (may be 0).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p p NULL, or a field out of range).
 */
BP_API int bp_resolver_policy_validate(const bp_resolver_policy *p, char *errbuf,
                                       size_t errlen);

/**
 * The backoff before the next invocation after the k-th consecutive failed attempt:
 * 0 for k = 0, else min(base * 2^(k-1), cap) (no overflow for any k).
 * @param k         consecutive failed attempts on the lane.
 * @param delay_ms  out: the delay in ms.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p p or @p delay_ms NULL, or an invalid policy).
 */
BP_API int bp_resolver_backoff(const bp_resolver_policy *p, uint32_t k, int64_t *delay_ms);

/**
 * Decide what the outcome of one invoke attempt on the current batch means (the table in
 * the file comment). Counters saturate at UINT32_MAX.
 * @param p      the policy (borrowed).
 * @param in     the attempt and the counters before it (borrowed); all fields but
 *               failed_index / failed_count (PARTIAL only) are read.
 * @param out    receives the action.
 * @param errbuf receives a message on error (may be NULL); @p errlen its size (may be 0).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (a NULL pointer, an invalid policy, unknown outcome,
 *         batch_size 0, PARTIAL with ReportBatchItemFailures off, failed_index not below
 *         batch_size, failed_count 0 or above batch_size - failed_index); ::BP_ERR_RANGE
 *         (now_ms outside 0 .. BP_TIME_MAX_MS).
 */
BP_API int bp_resolver_decide(const bp_resolver_policy *p, const bp_resolver_input *in,
                              bp_resolver_action *out, char *errbuf, size_t errlen);

/**
 * The longest expired prefix of a batch: the number of leading records with
 * `now_ms - arrival_ms[i] > max_record_age_in_seconds * 1000`, stopping at the first record
 * that is not expired (arrival times need not be monotonic). An age exactly equal to the
 * maximum is not expired; a record that arrives "in the future" is not expired.
 * @param arrival_ms arrival times of the batch's records in order (borrowed; may be NULL
 *                   when @p n is 0).
 * @param n          number of records.
 * @param now_ms     now.
 * @param max_record_age_in_seconds -1 (nothing ever expires) or 0 .. 604,800.
 * @param expired    out: the prefix length, 0 .. @p n (== @p n: the whole batch expired).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p expired NULL, @p arrival_ms NULL with @p n > 0,
 *         an @p n no array can have, maximum age out of range); ::BP_ERR_RANGE (@p now_ms
 *         or an arrival time outside 0 .. BP_TIME_MAX_MS).
 */
BP_API int bp_resolver_expired_prefix(const int64_t *arrival_ms, size_t n, int64_t now_ms,
                                      int32_t max_record_age_in_seconds, size_t *expired);

/**
 * The record-age check before an invoke attempt of the current batch (SEMANTICS.md §5.1), as an
 * action: ::BP_ACTION_NONE (nothing expired: invoke it; counters and k unchanged) or
 * ::BP_ACTION_DISCARD with condition RecordAgeExceeded of the expired prefix
 * (discard_count records; batch_finished 1 when that is the whole batch),
 * approximate_invoke_count max(invocations, 1), no responseContext, k reset to 0; the
 * remainder keeps the batch's attempts and invocations (0/0 when the whole batch went).
 * After a prefix cut the remainder can be invoked at once: it starts with a record that is
 * not expired at @p now_ms. Any discard resets k, the expired-prefix cut included
 * (SEMANTICS.md §5.1, batchpoint's decision: "k returns to 0 after ... a discard").
 * @param p          the policy (maximum_record_age_in_seconds is used).
 * @param in         now_ms = now; attempts, invocations, consecutive_failures, batch_size
 *                   of the current batch (outcome and the PARTIAL fields are ignored).
 * @param arrival_ms the current batch's arrival times, in->batch_size entries (borrowed).
 * @param out        receives the action (metric deltas are 0: nothing was invoked).
 * @param errbuf     receives a message on error (may be NULL); @p errlen its size.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (a NULL pointer, an invalid policy, batch_size 0 or
 *         larger than any array); ::BP_ERR_RANGE (now_ms or an arrival time outside
 *         0 .. BP_TIME_MAX_MS).
 */
BP_API int bp_resolver_age_check(const bp_resolver_policy *p, const bp_resolver_input *in,
                                 const int64_t *arrival_ms, bp_resolver_action *out,
                                 char *errbuf, size_t errlen);

/**
 * Carry an action out on a bisect work list whose current batch is the one the action was
 * decided for: NONE / RETRY set the counters; SPLIT splits; COMMIT_PREFIX cuts commit_count
 * records and sets the counters to 0/0; a DISCARD of a prefix cuts discard_count records and
 * keeps the counters; COMMIT_ALL and a whole DISCARD resolve the current batch. The caller
 * commits / discards the records concerned (read them with bp_bisect_current() before this
 * call) and waits until not_before_ms before the next invocation.
 * @param a the action (borrowed).
 * @param b the work list.
 * @return ::BP_BISECT_MORE (1: a current batch remains, invoke it next) or ::BP_BISECT_DONE
 *         (0: the batch given to bp_bisect_start() is resolved); ::BP_ERR_INVALID_ARGUMENT
 *         (a NULL pointer, unknown kind, counts that do not fit the current batch);
 *         ::BP_ERR_INVALID_STATE (@p b idle, or SPLIT of a one-record batch). Nothing
 *         changes on error.
 */
BP_API int bp_resolver_apply(const bp_resolver_action *a, bp_bisect *b);

#ifdef __cplusplus
}
#endif

#endif
