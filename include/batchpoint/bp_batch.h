/* SPDX-License-Identifier: MIT */
/**
 * @file bp_batch.h
 * @brief The batch builder (SEMANTICS.md §3.1, §3.2, §6): decides where the batches of one
 *        lane are cut — by BatchSize, by the 6 MB invocation payload limit, by the batching
 *        window, and before the first record of a later tumbling window.
 *
 * The builder holds no records. The caller (the engine, or a host driving the components
 * itself) keeps the lane's records in its own queue, in order, and tells the builder only
 * what it needs to know about each: its encoded size (bp_codec_record_size() in a full
 * build), its tumbling-window key and the time it was offered. The builder answers with
 * counts and exact byte sizes; bp_batch_take() says how many records at the head of the
 * caller's queue form the batch. It never allocates after creation, never calls out, reads
 * no clock and keeps no globals: the same calls give the same answers.
 *
 * One builder per lane (§3.2). The protocol for a lane that is free (no invocation in
 * flight):
 * 1. offer the lane's buffered records in order with bp_batch_offer(), until one is refused
 *    (::BP_BATCH_FULL: it stays at the head of the queue) or none is left;
 * 2. ask bp_batch_ready(b, now_ms) (now_ms: milliseconds since the Unix epoch): if it names a
 *    reason, bp_batch_take() and invoke; if not, wait until bp_batch_deadline() (or until
 *    more records arrive, then go to 1);
 * 3. after a take, offer again from the new head of the queue (the refused record first).
 * While the lane has an invocation in flight nothing is offered, so the next batch's window
 * opens no earlier than the completion (§3.1). Retries of a failed batch are the engine's
 * business and never go through the builder.
 *
 * Rules (SEMANTICS.md §3.1; batchpoint's decision where AWS documents no rule):
 * - The event size of n >= 1 records is `event_overhead + sum(record_bytes) + (n - 1)`
 *   (the commas between elements), exactly what the codec encodes. A record is refused when
 *   adding it would make that size exceed max_event_bytes; an event of exactly
 *   max_event_bytes (6,291,456 by default) is allowed.
 * - A record offered to an empty batch is always accepted, even if the event of that one
 *   record exceeds the limit: it forms a batch of one, which is then full.
 * - BatchSize: a batch holding batch_size records is full.
 * - Batching window: the window opens at the `now_ms` of the offer that adds the first
 *   record; the batch is ready at the first `now_ms >= opened_at + window_seconds * 1000`
 *   (inclusive). With window_seconds 0 a batch is ready as soon as it holds a record.
 * - Tumbling windows (§6): a record whose window_key differs from the batch's is refused,
 *   so a batch never spans two windows.
 *
 * Time: every `now_ms` is milliseconds since the Unix epoch, 0 .. ::BP_TIME_MAX_MS of
 * bp_time.h (others give ::BP_ERR_RANGE). It need not be monotonic: each call uses the value
 * it is given. A clock that steps back leaves the window's opening time unchanged and only
 * delays the moment the window is seen to have elapsed; a caller that wants the window to
 * keep its remaining length across a clock step moves the opening time by the step with
 * bp_batch_shift() (the engine does, SEMANTICS.md §8.1).
 *
 * Return values: calls that answer a question return a non-negative ::BP_BATCH_* value;
 * misuse returns a negative ::bp_err and changes nothing. The builder is used by one thread
 * at a time.
 */
#ifndef BATCHPOINT_BP_BATCH_H
#define BATCHPOINT_BP_BATCH_H

#include "bp_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** bp_batch_offer() results. */
#define BP_BATCH_ACCEPTED 0 /**< the record was added to the batch */
#define BP_BATCH_FULL 1     /**< the record was not added: take the batch first */

/**
 * bp_batch_ready() reasons, in precedence order when several hold (COUNT first). 0 means
 * not ready.
 */
#define BP_BATCH_NOT_READY 0    /**< empty, or still inside its batching window */
#define BP_BATCH_READY_COUNT 1  /**< holds BatchSize records */
#define BP_BATCH_READY_BYTES 2  /**< the next record does not fit in max_event_bytes (it was
                                     refused, or no record of >= 1 byte could fit), or a
                                     single record exceeds the limit on its own */
#define BP_BATCH_READY_KEY 3    /**< a record of another tumbling window was refused */
#define BP_BATCH_READY_FORCED 4 /**< bp_batch_force() was called (end of shard, shutdown) */
#define BP_BATCH_READY_WINDOW 5 /**< the batching window elapsed (or window_seconds is 0) */

/** A lane's batch builder. Opaque; see bp_batch_new() and bp_batch_init_in(). */
typedef struct bp_batch bp_batch;

/** Options of a batch builder (copied at creation). Initialise with bp_batch_opts_init()
 *  or ::BP_BATCH_OPTS_INIT. */
typedef struct bp_batch_opts {
  uint32_t struct_size;    /**< see "How structs grow" in bp_common.h */
  uint32_t batch_size;     /**< BatchSize: 1 .. 10,000 (BP_CONFIG_MAX_BATCH_SIZE) */
  int32_t window_seconds;  /**< MaximumBatchingWindowInSeconds: 0 .. 300
                                (BP_CONFIG_MAX_BATCHING_WINDOW_IN_SECONDS) */
  size_t max_event_bytes;  /**< payload limit in bytes, inclusive; 0 means
                                ::BP_MAX_EVENT_BYTES */
  size_t event_overhead;   /**< bytes of the event with no records, as
                                bp_codec_event_overhead() gives them (`{"Records":[]}` is
                                14; tumbling-window members and `state` add to it); any
                                value (see bp_batch_set_event_overhead()) */
} bp_batch_opts;

/** Static initializer of ::bp_batch_opts (every other member 0: set batch_size). */
#define BP_BATCH_OPTS_INIT BP_STRUCT_INIT(bp_batch_opts)
/**
 * Zero @p o and set its struct_size.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (NULL; @p size below the first published size).
 * @param size the caller's sizeof(bp_batch_opts): exactly that many bytes are written.
 */
BP_API int bp_batch_opts_init(bp_batch_opts *o, size_t size);

/* ---- Life cycle ---- */

/**
 * Create a batch builder, empty. This is its only allocation.
 * @param out   receives the builder; NULL on failure.
 * @param opts  options (borrowed; copied).
 * @param alloc allocator hooks (copied), NULL for the C library.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p out or @p opts NULL, batch_size outside
 *         1..10,000, window_seconds outside 0..300, bad struct_size, half-set allocator hooks); ::BP_ERR_NOMEM.
 */
BP_API int bp_batch_new(bp_batch **out, const bp_batch_opts *opts, const bp_allocator *alloc);

/**
 * Bytes of caller memory bp_batch_init_in() needs. The size does not depend on the options
 * in this version; it is not part of the ABI and may change between releases.
 * @param opts the options the builder will get (borrowed; may be NULL).
 * @return the size in bytes (never 0).
 */
BP_API size_t bp_batch_mem_size(const bp_batch_opts *opts);

/**
 * Create a batch builder inside caller memory, without any allocation (firmware).
 * bp_batch_del() on such a builder frees nothing; the memory must outlive the builder and
 * may be reused once bp_batch_del() has been called.
 * @param mem  caller memory, aligned to _Alignof(max_align_t).
 * @param len  its length; at least bp_batch_mem_size(@p opts).
 * @param opts options (borrowed; copied).
 * @param out  receives the builder (which lives in @p mem); NULL on failure.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p mem, @p opts or @p out NULL, @p mem misaligned,
 *         invalid options as for bp_batch_new()); ::BP_ERR_BUFFER_TOO_SMALL (@p len below
 *         bp_batch_mem_size()).
 */
BP_API int bp_batch_init_in(void *mem, size_t len, const bp_batch_opts *opts, bp_batch **out);

/**
 * Destroy a builder. Frees its memory unless it was made by bp_batch_init_in().
 * @param b the builder (NULL is fine); invalid afterwards.
 */
BP_API void bp_batch_del(bp_batch *b);

/**
 * The message of the last failed call on @p b that records one (those taking a non-const
 * builder: offer, force, take, reset, set_event_overhead, shift).
 * @param b the builder (may be NULL).
 * @return the message, owned by @p b, valid until the next call on it; "" if that call
 *         succeeded or @p b is NULL.
 */
BP_API const char *bp_batch_errmsg(const bp_batch *b);

/* ---- Building ---- */

/**
 * Offer the next record of the lane. Refusal (::BP_BATCH_FULL) means the batch must be
 * taken before this record can go anywhere; it is then full for good: every later offer is
 * refused too, until bp_batch_take() or bp_batch_reset(). Checks, in order:
 * the batch holds batch_size records or is already full (refused); the record's
 * @p window_key differs from the batch's (refused, reason ::BP_BATCH_READY_KEY); the event
 * would exceed max_event_bytes (refused, reason ::BP_BATCH_READY_BYTES). An empty batch
 * accepts any record and opens its window at @p now_ms.
 * @param b            the builder.
 * @param record_bytes the record's encoded size (bp_codec_record_size()), >= 1.
 * @param window_key   the record's tumbling window (its start, epoch ms), or 0 when tumbling
 *                     windows are off; compared for equality only.
 * @param now_ms       the host's time (opens the window of an empty batch).
 * @return ::BP_BATCH_ACCEPTED; ::BP_BATCH_FULL; ::BP_ERR_INVALID_ARGUMENT (@p b NULL,
 *         @p record_bytes 0); ::BP_ERR_RANGE (@p now_ms outside 0..BP_TIME_MAX_MS);
 *         ::BP_ERR_TOO_LARGE (empty batch: event_overhead + @p record_bytes does not fit in a
 *         size_t, so no exact size could be reported; the record is not added).
 */
BP_API int bp_batch_offer(bp_batch *b, size_t record_bytes, int64_t window_key, int64_t now_ms);

/**
 * Is the batch to be taken at @p now_ms? Call it after offering every buffered record.
 * @param b      the builder.
 * @param now_ms the host's time.
 * @return ::BP_BATCH_NOT_READY (0: empty, or waiting for its window) or the first reason
 *         that holds, in this order: ::BP_BATCH_READY_COUNT, ::BP_BATCH_READY_BYTES,
 *         ::BP_BATCH_READY_KEY, ::BP_BATCH_READY_FORCED, ::BP_BATCH_READY_WINDOW;
 *         ::BP_ERR_INVALID_ARGUMENT (@p b NULL); ::BP_ERR_RANGE (@p now_ms outside
 *         0..BP_TIME_MAX_MS). Nothing is recorded in bp_batch_errmsg().
 */
BP_API int bp_batch_ready(const bp_batch *b, int64_t now_ms);

/**
 * When the batch becomes ready if nothing else happens: the time to ask again (fold it into
 * the engine's next deadline). For every `now_ms` at or after bp_batch_opened_at():
 * bp_batch_ready(b, now_ms) != 0 exactly when now_ms >= this value.
 * @param b the builder (may be NULL).
 * @return ::BP_NO_DEADLINE (@p b NULL or empty); bp_batch_opened_at() when the batch is
 *         ready whatever the time (full, forced, or window_seconds 0); otherwise the window's
 *         end, opened_at + window_seconds * 1000.
 */
BP_API int64_t bp_batch_deadline(const bp_batch *b);

/**
 * Mark a non-empty batch ready now (::BP_BATCH_READY_FORCED unless a reason of higher
 * precedence holds) and refuse further records: for the end of a shard, shutdown, or a
 * tumbling window the engine closes. An empty batch stays empty and is not marked.
 * @param b the builder.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p b NULL).
 */
BP_API int bp_batch_force(bp_batch *b);

/**
 * Hand over the current batch, ready or not, and start an empty one (the options and the
 * event overhead are kept). The batch is the first @p count records of the caller's queue.
 * Readiness is not checked: a host may flush early (shutdown) by taking at any time.
 * @param b           the builder.
 * @param count       out: records in the batch, 1 .. batch_size (may be NULL).
 * @param event_bytes out: exact size of its event, event_overhead + sum + (count - 1)
 *                    (may be NULL); above max_event_bytes only for a batch of one record
 *                    that is too big on its own.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p b NULL); ::BP_ERR_INVALID_STATE (the batch is
 *         empty; the outputs are untouched).
 */
BP_API int bp_batch_take(bp_batch *b, size_t *count, size_t *event_bytes);

/**
 * Drop the current batch without handing it over (the records stay in the caller's queue);
 * the options and the event overhead are kept. An empty batch is fine.
 * @param b the builder.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p b NULL).
 */
BP_API int bp_batch_reset(bp_batch *b);

/**
 * Change the size of an event with no records, for the batches to come: with tumbling
 * windows the `window` members and the `state` text differ from one batch to the next
 * (take the value from bp_codec_event_overhead() before offering a batch's first record).
 * @param b              the builder.
 * @param event_overhead bytes; any value (an overhead above max_event_bytes makes every
 *        batch a batch of one).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p b NULL); ::BP_ERR_INVALID_STATE (the batch holds
 *         records: its size would change under it; take or reset it first).
 */
BP_API int bp_batch_set_event_overhead(bp_batch *b, size_t event_overhead);

/**
 * Move the opening time of the current batch by @p delta_ms (negative: earlier), for a
 * caller whose clock stepped (SEMANTICS.md §8.1): after a step of `d` ms (`d` < 0 back), a
 * shift by `d` keeps what is left of the batching window, measured from the step. The new
 * opening time is clamped to 0 .. ::BP_TIME_MAX_MS; an empty batch is left as it is (it has
 * no opening time). Nothing else changes.
 * @param b        the builder.
 * @param delta_ms the step, any value.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p b NULL).
 */
BP_API int bp_batch_shift(bp_batch *b, int64_t delta_ms);

/* ---- Getters (never fail; a NULL builder gives the empty-batch value) ---- */

/**
 * @param b the builder (may be NULL).
 * @return records in the current batch (0 when empty).
 */
BP_API size_t bp_batch_count(const bp_batch *b);

/**
 * @param b the builder (may be NULL).
 * @return the exact event size of the current batch, event_overhead + sum + (count - 1); the
 *         event overhead when empty (0 for NULL).
 */
BP_API size_t bp_batch_event_bytes(const bp_batch *b);

/**
 * @param b the builder (may be NULL).
 * @return the current event overhead (bp_batch_set_event_overhead()); 0 for NULL.
 */
BP_API size_t bp_batch_event_overhead(const bp_batch *b);

/**
 * @param b the builder (may be NULL).
 * @return the effective payload limit (max_event_bytes, 0 resolved to the default); 0 for
 *         NULL.
 */
BP_API size_t bp_batch_max_event_bytes(const bp_batch *b);

/**
 * @param b the builder (may be NULL).
 * @return the `now_ms` at which the current batch's window opened; -1 when empty or NULL.
 */
BP_API int64_t bp_batch_opened_at(const bp_batch *b);

/**
 * @param b the builder (may be NULL).
 * @return the tumbling-window key of the current batch's records; 0 when empty or NULL.
 */
BP_API int64_t bp_batch_window_key(const bp_batch *b);

#ifdef __cplusplus
}
#endif

#endif
