/* SPDX-License-Identifier: MIT */
/**
 * @file bp_bisect.h
 * @brief Bisect splitter (spec/esm.md §4): the work list of one lane's failing batch — the
 *        (sub-)batch to invoke now and the later halves still waiting — with the attempt and
 *        invocation counters of the current one.
 *
 * The splitter holds no records. The caller (the engine, or a host driving the components
 * itself) keeps the lane's records in its own queue and gives every record of the lane a
 * *lane position*: an opaque uint64_t, consecutive along the lane's queue (e.g. an index
 * into the queue, or a per-lane counter). A batch is the range [first, first + count) of
 * lane positions. With ParallelizationFactor 1 the lane positions may simply be the shard
 * positions of bp_checkpoint.h; with several lanes they are per-lane numbers that the caller
 * maps back to shard positions (records of different lanes interleave in the shard).
 *
 * Protocol, for one batch of a lane:
 * 1. bp_bisect_start() with the batch the builder cut: it becomes the current batch, with
 *    attempts 0 and invocations 0.
 * 2. Before each invoke attempt read the current batch with bp_bisect_current() (and cut an
 *    expired prefix with bp_bisect_trim_front(), spec §5.1), invoke it, and change the work
 *    list as the attempt's outcome requires (bp_resolver.h decides; bp_resolver_apply() makes
 *    exactly these calls):
 *    - retry the same batch: bp_bisect_set_counters();
 *    - split (function error or returned-but-failed with bisect on, count >= 2):
 *      bp_bisect_split();
 *    - partial failure that made progress at index L: bp_bisect_trim_front(L), then
 *      bp_bisect_set_counters(0, 0) (§3.5: the remainder is a new batch);
 *    - current batch committed or discarded entirely: bp_bisect_resolve_current(), which
 *      makes the next waiting half current, or reports that the whole batch is resolved.
 * 3. When bp_bisect_resolve_current() returns ::BP_BISECT_DONE the splitter is idle and the
 *    next batch of the lane may be started.
 *
 * Rules [INF/DEC, spec §4]: a split makes the first floor(n/2) records (the older half) the
 * current batch and puts the other ceil(n/2) records in front of the waiting list; the later
 * half is only current once the earlier one is resolved (succeeded or discarded), so the
 * records of the original batch are resolved in lane order. Both halves start with attempts
 * 0 and invocations 0 (a split consumes no retry, and approximateInvokeCount counts only
 * the invocations of the exact (sub-)batch since it was formed). A one-record batch cannot
 * be split. Cutting records off the front keeps the counters; the caller resets them when
 * the cut is a partial-failure remainder.
 *
 * Memory: one fixed-size block, allocated by bp_bisect_new() or provided by the caller to
 * bp_bisect_init_in(); no call after creation allocates. A batch has at most
 * ::BP_BISECT_MAX_RECORDS records, so at most ceil(log2(10000)) = 14 halves ever wait
 * (::BP_BISECT_MAX_DEPTH slots are reserved).
 *
 * Errors: every mutating call validates its input before changing anything, so on any error
 * the splitter is exactly as before; bp_bisect_errmsg() says why. No error of this component
 * is fatal. No callbacks, no clock, no I/O, no globals. A splitter is used by one thread at a
 * time.
 */
#ifndef BATCHPOINT_BP_BISECT_H
#define BATCHPOINT_BP_BISECT_H

#include "bp_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest batch a splitter accepts: BatchSize's maximum (BP_CONFIG_MAX_BATCH_SIZE). */
#define BP_BISECT_MAX_RECORDS 10000u

/** Waiting-half slots: ceil(log2(::BP_BISECT_MAX_RECORDS)) + 1. */
#define BP_BISECT_MAX_DEPTH 15u

/** bp_bisect_resolve_current() results. */
#define BP_BISECT_DONE 0 /**< the whole batch given to bp_bisect_start() is resolved; idle */
#define BP_BISECT_MORE 1 /**< the next waiting half is now the current batch */

/** The work list of one lane's failing batch. Opaque; see bp_bisect_new(). */
typedef struct bp_bisect bp_bisect;

/* ---- Life cycle ---- */

/**
 * Create an idle splitter. This is its only allocation (one block of bp_bisect_mem_size()
 * bytes). A splitter has no options.
 * @param out   receives the splitter; NULL on failure.
 * @param alloc allocator hooks, copied (NULL: the C library).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p out NULL, or half-set hooks); ::BP_ERR_NOMEM.
 */
BP_API int bp_bisect_new(bp_bisect **out, const bp_allocator *alloc);

/**
 * Bytes of caller memory bp_bisect_init_in() needs. Not part of the ABI: it may change
 * between releases, so ask at run time.
 * @return the size in bytes (never 0).
 */
BP_API size_t bp_bisect_mem_size(void);

/**
 * Create an idle splitter inside caller memory, without any allocation (firmware). The
 * memory must stay valid and untouched until bp_bisect_del(), which frees nothing for such
 * a splitter; afterwards the memory is the caller's again.
 * @param mem caller memory, aligned to _Alignof(max_align_t) (borrowed for the splitter's
 *            lifetime).
 * @param len its length in bytes; at least bp_bisect_mem_size().
 * @param out receives the splitter (it points into @p mem); NULL on failure.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p mem or @p out NULL, @p mem misaligned);
 *         ::BP_ERR_BUFFER_TOO_SMALL (@p len < bp_bisect_mem_size()).
 */
BP_API int bp_bisect_init_in(void *mem, size_t len, bp_bisect **out);

/**
 * Destroy a splitter (NULL is allowed). Frees its block unless it was made by
 * bp_bisect_init_in().
 */
BP_API void bp_bisect_del(bp_bisect *b);

/**
 * @return the message of the last failed call on @p b ("" if it succeeded or @p b is NULL);
 *         valid until the next mutating call on @p b.
 */
BP_API const char *bp_bisect_errmsg(const bp_bisect *b);

/* ---- Work list ---- */

/**
 * Begin the work list of a new batch: [@p first, @p first + @p count) becomes the current
 * batch with attempts 0 and invocations 0, and nothing waits. The splitter must be idle
 * (never started, resolved to ::BP_BISECT_DONE, or bp_bisect_reset()).
 * @param first lane position of the batch's first record.
 * @param count records in the batch, 1 .. ::BP_BISECT_MAX_RECORDS.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p b NULL, @p count 0); ::BP_ERR_TOO_LARGE
 *         (@p count above ::BP_BISECT_MAX_RECORDS); ::BP_ERR_RANGE (@p first + @p count
 *         exceeds UINT64_MAX); ::BP_ERR_INVALID_STATE (a batch is still being worked on).
 */
BP_API int bp_bisect_start(bp_bisect *b, uint64_t first, size_t count);

/**
 * Abandon the work list (e.g. the lane is shut down or its shard is closed): the splitter
 * becomes idle. Allowed in any state.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p b NULL).
 */
BP_API int bp_bisect_reset(bp_bisect *b);

/** @return 1 if a batch is being worked on (there is a current batch), 0 if idle or NULL. */
BP_API int bp_bisect_active(const bp_bisect *b);

/**
 * The current (sub-)batch: the one to invoke next. Each out-parameter may be NULL.
 * @param first       out: lane position of its first record.
 * @param count       out: its number of records (>= 1).
 * @param attempts    out: its failed attempts that counted toward MaximumRetryAttempts.
 * @param invocations out: its invocations that reached the function since it was formed
 *                    (approximateInvokeCount when it is discarded).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p b NULL); ::BP_ERR_INVALID_STATE (idle). The
 *         out-parameters are untouched on error.
 */
BP_API int bp_bisect_current(const bp_bisect *b, uint64_t *first, size_t *count,
                             uint32_t *attempts, uint32_t *invocations);

/**
 * Set the counters of the current batch (after a retry decision, or 0/0 for a
 * partial-failure remainder).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p b NULL); ::BP_ERR_INVALID_STATE (idle).
 */
BP_API int bp_bisect_set_counters(bp_bisect *b, uint32_t attempts, uint32_t invocations);

/**
 * Split the current batch of n >= 2 records: the later ceil(n/2) records wait in front of
 * the waiting list, the first floor(n/2) become the current batch; both have attempts 0
 * and invocations 0.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p b NULL); ::BP_ERR_INVALID_STATE (idle, or the
 *         current batch has one record and cannot be split); ::BP_ERR_INTERNAL (no free
 *         waiting slot: cannot happen for batches of at most ::BP_BISECT_MAX_RECORDS).
 */
BP_API int bp_bisect_split(bp_bisect *b);

/**
 * Cut @p k records off the front of the current batch (they were committed by a partial
 * failure, or discarded as an expired prefix). The remainder keeps the counters; reset them
 * with bp_bisect_set_counters() when the spec makes it a new batch (§3.5). To finish the
 * whole current batch use bp_bisect_resolve_current() instead.
 * @param k records to cut, 1 .. count - 1.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p b NULL, @p k 0 or not below the current count);
 *         ::BP_ERR_INVALID_STATE (idle).
 */
BP_API int bp_bisect_trim_front(bp_bisect *b, size_t k);

/**
 * The current batch is finished (committed or discarded entirely). The first waiting half,
 * if any, becomes current (attempts 0, invocations 0).
 * @return ::BP_BISECT_MORE (a waiting half is now current); ::BP_BISECT_DONE (nothing waits:
 *         the batch given to bp_bisect_start() is resolved and the splitter is idle);
 *         ::BP_ERR_INVALID_ARGUMENT (@p b NULL); ::BP_ERR_INVALID_STATE (idle).
 */
BP_API int bp_bisect_resolve_current(bp_bisect *b);

/* ---- Inspection ---- */

/** @return the number of halves waiting behind the current batch (0 if idle or NULL). */
BP_API size_t bp_bisect_pending(const bp_bisect *b);

/**
 * One waiting half. Each out-parameter may be NULL.
 * @param i     0 is the next to become current, bp_bisect_pending() - 1 the last.
 * @param first out: lane position of its first record.
 * @param count out: its number of records.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p b NULL, @p i >= bp_bisect_pending()).
 */
BP_API int bp_bisect_pending_at(const bp_bisect *b, size_t i, uint64_t *first, size_t *count);

/**
 * The batch given to bp_bisect_start(), unchanged by splits and cuts. Each out-parameter
 * may be NULL.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p b NULL); ::BP_ERR_INVALID_STATE (idle).
 */
BP_API int bp_bisect_original(const bp_bisect *b, uint64_t *first, size_t *count);

/**
 * @return splits made since the last bp_bisect_start(), kept after ::BP_BISECT_DONE until
 *         the next start; 0 before any start, after bp_bisect_reset() or for NULL.
 */
BP_API uint32_t bp_bisect_splits(const bp_bisect *b);

#ifdef __cplusplus
}
#endif

#endif
