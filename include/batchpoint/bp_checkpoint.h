/* SPDX-License-Identifier: MIT */
/**
 * @file bp_checkpoint.h
 * @brief Checkpoint tracker: which records of one shard are finished, in any completion
 *        order, and how far the contiguous finished prefix (the checkpoint) reaches.
 *
 * The engine numbers the records of a shard with consecutive positions (uint64_t) as it
 * ingests them, starting at a base of its choice; records of different lanes
 * (ParallelizationFactor > 1) interleave in position order. Each position is tracked as
 * *pending* when its record is buffered and becomes *finished* when the record is moved past:
 * committed by a successful or partially successful invocation, filtered out (finished the
 * moment it is filtered, SEMANTICS.md §3.1) or discarded (finished only once the on-failure
 * delivery has completed, §5.1). The checkpoint is the highest position P such that every
 * tracked position <= P is finished (§3.2: it never passes an unfinished record of any lane).
 * The engine maps the checkpoint back to the record's sequence number and stores that; the
 * tracker never sees sequence numbers.
 *
 * Before any position has been passed (after creation or bp_checkpoint_reset()) there is no
 * checkpoint: "nothing passed yet" is distinct from "position 0 passed". A shard may start
 * its children (§8.2) once its last record is read and bp_checkpoint_outstanding() is 0.
 *
 * Capacity: at most opts.capacity positions may be outstanding (tracked and not yet passed
 * by the checkpoint, whether pending or finished behind an unfinished one). The bitmap is
 * sized once at creation; no call after creation allocates. Tracking beyond the capacity
 * fails with ::BP_ERR_TOO_LARGE and changes nothing: the engine's signal to stop fetching
 * until the checkpoint advances. Every call costs O(1) per position (ranges: per 64
 * positions), amortized over the checkpoint's progress.
 *
 * Errors: every mutating call validates all of its input before changing anything, so on
 * any error the tracker is exactly as before; bp_checkpoint_errmsg() says why. No error of
 * this component is fatal. A tracker is used by one thread at a time.
 */
#ifndef BATCHPOINT_BP_CHECKPOINT_H
#define BATCHPOINT_BP_CHECKPOINT_H

#include "bp_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest accepted bp_checkpoint_opts.capacity (2^30 positions: a 128 MiB bitmap). */
#define BP_CHECKPOINT_MAX_CAPACITY 1073741824u

/** Creation options (a plain view: read during the call, not kept). Initialise with
 *  bp_checkpoint_opts_init() or ::BP_CHECKPOINT_OPTS_INIT. */
typedef struct bp_checkpoint_opts {
  uint32_t struct_size; /**< see "How structs grow" in bp_common.h */
  uint64_t base;   /**< position of the first record the engine will track (e.g. 0) */
  size_t capacity; /**< positions that may be outstanding at once, 1 ..
                        ::BP_CHECKPOINT_MAX_CAPACITY (e.g. the engine's buffered-records cap) */
} bp_checkpoint_opts;

/** Static initializer of ::bp_checkpoint_opts (every other member 0: set capacity). */
#define BP_CHECKPOINT_OPTS_INIT BP_STRUCT_INIT(bp_checkpoint_opts)
/**
 * Zero @p o and set its struct_size.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (NULL; @p size below the first published size).
 * @param size the caller's sizeof(bp_checkpoint_opts): exactly that many bytes are written.
 */
BP_API int bp_checkpoint_opts_init(bp_checkpoint_opts *o, size_t size);

/** A checkpoint tracker for one shard. Opaque. */
typedef struct bp_checkpoint bp_checkpoint;

/* ---- Life cycle ---- */

/**
 * Bytes a tracker with @p opts needs, for bp_checkpoint_init_in().
 * @param opts creation options (borrowed).
 * @return the size in bytes; 0 if @p opts is NULL, its struct_size bad, or its capacity is 0 or above
 *         ::BP_CHECKPOINT_MAX_CAPACITY.
 */
BP_API size_t bp_checkpoint_mem_size(const bp_checkpoint_opts *opts);

/**
 * Create a tracker with no tracked position and no checkpoint; the next position to track
 * is opts->base. This is the tracker's only allocation (one block, bp_checkpoint_mem_size()).
 * @param out   receives the tracker; NULL on failure.
 * @param opts  creation options (read during the call only).
 * @param alloc allocator hooks, copied (NULL: the C library).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p out or @p opts NULL, capacity 0 or above
 *         ::BP_CHECKPOINT_MAX_CAPACITY, or half-set hooks); ::BP_ERR_NOMEM.
 */
BP_API int bp_checkpoint_new(bp_checkpoint **out, const bp_checkpoint_opts *opts,
                             const bp_allocator *alloc);

/**
 * Create a tracker inside caller memory, without any allocation (firmware). The memory must
 * stay valid and untouched until bp_checkpoint_del(); bp_checkpoint_del() frees nothing.
 * @param mem  caller memory, aligned to _Alignof(max_align_t) (borrowed for the tracker's
 *             lifetime).
 * @param len  its length in bytes; at least bp_checkpoint_mem_size(@p opts).
 * @param opts creation options (read during the call only).
 * @param out  receives the tracker (it points into @p mem); NULL on failure.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p out, @p mem or @p opts NULL, @p mem misaligned,
 *         capacity 0 or above ::BP_CHECKPOINT_MAX_CAPACITY); ::BP_ERR_BUFFER_TOO_SMALL
 *         (@p len < bp_checkpoint_mem_size(@p opts)).
 */
BP_API int bp_checkpoint_init_in(void *mem, size_t len, const bp_checkpoint_opts *opts,
                                 bp_checkpoint **out);

/**
 * Destroy a tracker. NULL is allowed. A tracker made by bp_checkpoint_init_in() only
 * becomes invalid; its memory is the caller's again.
 */
BP_API void bp_checkpoint_del(bp_checkpoint *t);

/**
 * @return the message of the last failed call on @p t ("" if it succeeded or @p t is NULL);
 *         valid until the next mutating call on @p t.
 */
BP_API const char *bp_checkpoint_errmsg(const bp_checkpoint *t);

/**
 * Forget everything: no tracked position, no checkpoint, next position to track @p base.
 * For a restart from a stored checkpoint: the engine keeps the stored sequence number for
 * as long as bp_checkpoint_get() reports none, and numbers the records it reads after it
 * from @p base. O(capacity / 64).
 * @param base the position of the next record to track.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p t NULL).
 */
BP_API int bp_checkpoint_reset(bp_checkpoint *t, uint64_t base);

/* ---- Tracking and finishing ---- */

/**
 * Track positions [@p first, @p first + @p count) as pending. They must continue right after
 * the last tracked position (@p first == bp_checkpoint_next()).
 * @param first the first position of the run.
 * @param count number of positions, >= 1; @p first + @p count must not exceed UINT64_MAX
 *        (so position UINT64_MAX is never tracked).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p t NULL, @p count 0, @p first not the next
 *         position, or the run overflows uint64_t); ::BP_ERR_TOO_LARGE (outstanding + @p count
 *         would exceed the capacity: retry after the checkpoint advances; a @p count above
 *         the capacity never fits). Nothing changes on error.
 */
BP_API int bp_checkpoint_track(bp_checkpoint *t, uint64_t first, uint64_t count);

/**
 * Mark positions [@p first, @p first + @p count) finished, in any order relative to other
 * calls, and advance the checkpoint over the finished prefix. Every position of the run must
 * be tracked, not yet passed by the checkpoint and still pending: finishing a position twice
 * is an error (it reveals a record resolved twice), as is finishing one the checkpoint has
 * already passed, one before the base or one not tracked yet.
 * @param first the first position of the run.
 * @param count number of positions, >= 1.
 * @param checkpoint out, may be NULL: the new checkpoint when 1 is returned; untouched
 *        otherwise.
 * @return 1 if the checkpoint moved, 0 if it did not (an earlier position is still pending);
 *         ::BP_ERR_INVALID_ARGUMENT (@p t NULL, @p count 0, the run overflows uint64_t, or a
 *         position is untracked, already passed or already finished; see errmsg). Nothing
 *         changes on error.
 */
BP_API int bp_checkpoint_finish(bp_checkpoint *t, uint64_t first, uint64_t count,
                                uint64_t *checkpoint);

/**
 * Mark a list of positions finished at once: a lane's batch, whose positions are not
 * contiguous when lanes interleave. The list may be in any order. Atomic: the same rules as
 * bp_checkpoint_finish() apply to every position (a position listed twice counts as a double
 * finish), and if any position is refused none is marked. O(@p n), no allocation.
 * @param positions the positions (borrowed for the call).
 * @param n number of positions, >= 1.
 * @param checkpoint out, may be NULL: the new checkpoint when 1 is returned; untouched
 *        otherwise.
 * @return 1 if the checkpoint moved, 0 if not; ::BP_ERR_INVALID_ARGUMENT (@p t or
 *         @p positions NULL, @p n 0 or larger than any array, or a position untracked,
 *         already passed, already finished or listed twice; errmsg names the first one
 *         refused). Nothing changes on error.
 */
BP_API int bp_checkpoint_finish_list(bp_checkpoint *t, const uint64_t *positions, size_t n,
                                     uint64_t *checkpoint);

/* ---- Queries (never change the tracker or its errmsg) ---- */

/**
 * The checkpoint: the highest position P such that every position from the base to P is
 * finished.
 * @param position out, may be NULL: the checkpoint when 1 is returned; untouched otherwise.
 * @return 1 if there is a checkpoint; 0 if nothing has been passed since creation or the
 *         last reset; ::BP_ERR_INVALID_ARGUMENT (@p t NULL).
 */
BP_API int bp_checkpoint_get(const bp_checkpoint *t, uint64_t *position);

/**
 * Whether one position is finished.
 * @return 1 finished (passed by the checkpoint or finished ahead of it); 0 pending;
 *         ::BP_ERR_INVALID_ARGUMENT (@p t NULL, or @p position before the base or not
 *         tracked yet).
 */
BP_API int bp_checkpoint_is_finished(const bp_checkpoint *t, uint64_t position);

/** @return the next position to track (the base while nothing is tracked); 0 if @p t is NULL. */
BP_API uint64_t bp_checkpoint_next(const bp_checkpoint *t);

/**
 * @return positions tracked and not yet passed by the checkpoint (pending ones and those
 *         finished behind a pending one); 0 when every tracked position is passed, or @p t
 *         is NULL. bp_checkpoint_track() accepts up to capacity minus this many.
 */
BP_API uint64_t bp_checkpoint_outstanding(const bp_checkpoint *t);

/** @return the capacity the tracker was created with; 0 if @p t is NULL. */
BP_API size_t bp_checkpoint_capacity(const bp_checkpoint *t);

#ifdef __cplusplus
}
#endif

#endif
