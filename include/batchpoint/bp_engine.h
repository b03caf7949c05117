/* SPDX-License-Identifier: MIT */
/**
 * @file bp_engine.h
 * @brief The shard-consumer engine: Lambda's stream event source mapping (SEMANTICS.md §3-§5,
 *        §8, §10) for one mapping over the shards of one stream, behind host callbacks.
 *
 * The engine composes the components (batch builder, checkpoint tracker, bisect splitter,
 * resolver) and, in a full build, the codec. It does no I/O, reads no clock, starts no
 * thread and keeps no globals: the host does every fetch, invocation, delivery and store
 * through the callbacks of a ::bp_transport, passes its time into every driving call
 * (`now_ms`: milliseconds since the Unix epoch), and asks bp_engine_next_deadline() when to
 * call bp_engine_tick() again.
 *
 * Time (SEMANTICS.md §8.1, §H.6): `now_ms` is the host's wall clock, read when it makes the
 * call (driving calls and completions alike). A `now_ms` earlier than the previous one is a
 * clock step back (an NTP correction): every wait the engine has already decided — retry
 * backoff, a tumbling window's final-invocation retry, the poll interval after an empty
 * fetch, the retry of a failed fetch or checkpoint save, a ::BP_ERR_WOULDBLOCK retry, a
 * batching window (MaximumBatchingWindowInSeconds) — keeps its remaining length measured from
 * the step, so the consumer never stalls for the size of the step, and nothing already due
 * or done is done twice. The engine cannot tell a step from elapsed time: the step is the
 * difference between the two readings. A step forward makes due whatever has become due, as
 * a long pause would. What a step back does NOT move, because it compares the wall clock with
 * the records' arrival times: record age (MaximumRecordAgeInSeconds) and IteratorAge read
 * smaller by the step (IteratorAge may even be negative), and an open tumbling window's end
 * stays on the wall clock, so its final invocation waits until the clock reaches window.end
 * again (a window whose end had already passed stays ended). A completion made inside a
 * callback is timed at the run's `now_ms` at the latest; the next driving call sees a step.
 *
 * The host loop (`transport` holds the host's callbacks, `host` is their user_data):
 * @code
 *   bp_engine *e;
 *   char err[256];
 *   if (bp_engine_new(&e, cfg, NULL, &transport, host, NULL, err, sizeof err) != 0) {
 *     fprintf(stderr, "bp_engine_new: %s\n", err);
 *     return;
 *   }
 *   bp_engine_add_shard(e, "shardId-000000000000", NULL, NULL, NULL, 0);
 *   for (;;) {
 *     bp_engine_tick(e, now_ms());
 *     wait_until(bp_engine_next_deadline(e));  // or until a completion arrives
 *   }
 * @endcode
 *
 * Requests and completions (SEMANTICS.md §H.1-§H.4). Each operation the engine asks for carries a
 * `req_id`, assigned and recorded before the callback runs. A callback returns 0 to accept
 * the request, ::BP_ERR_WOULDBLOCK for "not now" (the engine asks again after
 * bp_engine_opts.wouldblock_retry_ms), or any other negative value, which makes the engine
 * fail for good (::BP_ERR_CALLBACK_FAILURE from every later driving call). An accepted
 * request gets exactly one completion from the host, bp_engine_complete_*(), made inside the
 * callback (a synchronous host) or at any later time (an event loop, a thread pool behind
 * the host's own queue). A completion made inside a callback is only recorded; the engine
 * acts on it after the callback has returned, never recursively. A completion made outside
 * any callback is acted on at once: it runs the engine's due work at its `now_ms`, which may
 * call callbacks before it returns. Driving calls (tick, add_shard, set_enabled, shutdown,
 * del) made from inside a callback return ::BP_ERR_IN_CALLBACK and do nothing.
 *
 * Inside every callback the host may call: the bp_engine_complete_*() functions, the
 * getters (bp_engine_next_deadline(), bp_engine_get_*(), bp_engine_errmsg(),
 * bp_engine_user_data()), and pure functions of other headers. Pointers passed to a
 * callback are valid only until it returns; the host copies what it keeps.
 *
 * Semantics (SEMANTICS.md; each rule is tested): per shard, ParallelizationFactor lanes
 * chosen by FNV-1a-32 of the partition key (§3.2), one batch in flight per lane; batches
 * cut by BatchSize, the 6 MB encoded-event limit and MaximumBatchingWindowInSeconds (§3.1);
 * responses classified per §3.4; retries, bisect, partial-failure remainders, the record-age
 * check before every attempt and on-failure records per §3.5, §4, §5; deterministic backoff
 * (§5.1); the checkpoint over the contiguous finished prefix of all lanes, stored whenever
 * it moves (§3.1, §3.2); polling cadence per §8.1; children of a resharded shard only after
 * every parent is read to its end and resolved (§8.2); metrics per §8.3-§8.4.
 * Tumbling windows (§6): windows aligned to multiples of TumblingWindowInSeconds by
 * arrival time, kept per lane; a batch never spans two windows; each event carries
 * `window`, `state` (from the previous non-failed response of the window, `{}` first),
 * `shardId`, `eventSourceARN` and the two flags; a response without a `state` object is a
 * returned-but-failed attempt; a final invocation with no records at the first time at or
 * after window.end when the window's batches on the lane are resolved (at once when the
 * shard has ended), retried with backoff until it succeeds; a state above 1 MB makes an
 * immediate final invocation with isWindowTerminatedEarly. The checkpoint (reported,
 * stored) does not pass a record of a window until that window's final invocation has
 * succeeded ("on success the sequence number is checkpointed"): after a restart the
 * window's records are read again and aggregated afresh.
 *
 * FilterCriteria (§7): the configuration has already refused invalid patterns; the engine
 * compiles them once at creation, with opts.filter_flags (a pattern outside the
 * strict-Lambda subset is refused there, BP_ERR_CONFIG_INVALID);
 * each fetched record is matched against its filter view before it reaches a lane: a record
 * no pattern matches (or, with a pattern on Kinesis `data`, whose payload is not JSON) is
 * filtered out: finished at once (the checkpoint moves over it and is stored, even when a
 * whole read is filtered out), counted in FilteredOutEventCount, never invoked and never
 * counted toward BatchSize or the 6 MB limit.
 *
 * Fetch size and buffer cap (§8.1): a fetch asks for up to min(10,000, room left under the
 * buffer cap) records, whatever BatchSize is (GetRecords' own limit; opts.max_fetch_records
 * lowers it), so a small BatchSize or a selective filter never makes batches smaller than
 * AWS's. The cap, bp_engine_opts.max_buffered_records (default: the larger of 10,000 and
 * 2 x BatchSize x ParallelizationFactor), counts the records that wait for a lane or are in
 * a batch not yet resolved; finished records (filtered out, committed, discarded, also those
 * a tumbling window holds the checkpoint behind) never count. A host that lowers the cap
 * makes reads smaller, and then batches may be smaller than AWS's: its choice. At one `now`
 * every fetch that is due is requested before the due batches are flushed.
 *
 * Memory: records are copied into per-shard storage bounded by
 * bp_engine_opts.max_buffered_records / max_buffered_bytes; a full shard is not fetched
 * until records are resolved (back-pressure). Record storage grows in chunks up to the byte
 * bound and is reused: no allocation per record in steady state. Worst case per shard, with
 * a host that keeps each fetch within bp_fetch_req.max_bytes (GetRecords: 10 MB a call):
 * max_buffered_bytes (default 2 x 6 MB x ParallelizationFactor) plus the largest record
 * stored past it, plus a ring of 2 x max_buffered_records record slots of under 100 bytes
 * each and a checkpoint tracker of one bit per slot (about 1.8 MB at the default 10,000-record
 * cap), plus per lane one batch's views. A host that ignores max_bytes can make one fetch
 * store up to max_records x 1 MiB. All memory goes through the allocator given to
 * bp_engine_new().
 *
 * One thread at a time per engine; distinct engines are independent.
 */
#ifndef BATCHPOINT_BP_ENGINE_H
#define BATCHPOINT_BP_ENGINE_H

#include "bp_common.h"
#include "bp_config.h"
#include "bp_record.h"
#include "bp_store.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A mapping's shard consumers. Opaque. */
typedef struct bp_engine bp_engine;

/* ---- Requests the engine makes ---- */

/*
 * The requests and events below are written by the library (struct_size = the library's
 * sizeof, reserved zeroed) and borrowed by the callback: a member exists when struct_size
 * covers it ("How structs grow", bp_common.h).
 */

/** A read of one shard (borrowed for the callback). */
typedef struct bp_fetch_req {
  uint32_t struct_size;   /**< bytes of this struct the library filled */
  int32_t from;           /**< where the read starts (SEMANTICS.md §2.4): _CONTINUE (bp_record.h)
                               after a completed read whose records were all kept: the
                               host follows its own iterator (Kinesis NextShardIterator)
                               and calls no GetShardIterator. A position only when the
                               shard starts, starts from a checkpoint, or after a read
                               that failed or was not kept whole: BP_POSITION_TRIM_HORIZON,
                               _LATEST, _AT_TIMESTAMP (the first record with arrival >=
                               timestamp_ms) or _AFTER_SEQUENCE_NUMBER (just after the
                               record after_seq). A long run makes one positioned fetch
                               per shard start */
  uint64_t req_id;
  const char *shard_id;   /**< NUL-terminated */
  uint32_t max_records;   /**< return at most this many records (>= 1): min(10,000, room
                               left under the buffer cap), capped by
                               bp_engine_opts.max_fetch_records when set; more are ignored
                               and read again by the next fetch */
  const char *after_seq;  /**< BP_POSITION_AFTER_SEQUENCE_NUMBER: the last record read (or the
                               checkpoint); NULL otherwise. Not NUL-terminated */
  size_t after_seq_len;
  int64_t timestamp_ms;   /**< BP_POSITION_AT_TIMESTAMP (also set with CONTINUE after an
                               AT_TIMESTAMP start); 0 otherwise */
  uint64_t max_bytes;     /**< advisory: free record storage in bytes; a fetch may exceed
                               it (the storage grows), but keeping to it bounds memory */
  uint64_t reserved[4];   /**< room for members appended later; the library zeroes it */
} bp_fetch_req;

/** bp_invoke_req.flags */
#define BP_INVOKE_RETRY 0x1u      /**< this (sub-)batch was attempted before: the same records,
                                       or (with BP_INVOKE_REMAINDER) their tail after an
                                       expired prefix was cut off (§5.1) */
#define BP_INVOKE_SPLIT 0x2u      /**< a half made by bisect (§4) */
#define BP_INVOKE_REMAINDER 0x4u  /**< what a partial failure left (§3.5) or an expired
                                       prefix cut left (§5.1) */
#define BP_INVOKE_FINAL 0x8u      /**< a tumbling window's final invocation (§6): no records,
                                       isFinalInvokeForWindow true */
#define BP_INVOKE_TERMINATED_EARLY 0x10u /**< with FINAL: the state exceeded 1 MB (§6) */

/** One invoke attempt (borrowed for the callback). */
typedef struct bp_invoke_req {
  uint32_t struct_size;     /**< bytes of this struct the library filled */
  uint32_t record_stride;   /**< bytes from one element of records to the next */
  uint64_t req_id;
  const char *shard_id;     /**< NUL-terminated */
  uint32_t lane;            /**< 0 .. ParallelizationFactor - 1 */
  uint32_t attempt;         /**< 1-based attempt of this (sub-)batch, throttles included */
  uint32_t flags;           /**< BP_INVOKE_* */
  uint32_t pad0;            /**< 0 */
  const bp_record *records; /**< the batch, in shard order: element i is
                                 BP_RECORD_AT(records, record_stride, i) */
  size_t count;             /**< >= 1; 0 for a final window invocation (BP_INVOKE_FINAL) */
  int64_t window_start_ms;  /**< tumbling windows: the event's window.start; -1 otherwise */
  int64_t window_end_ms;    /**< window.end; -1 without tumbling windows */
  const char *state;        /**< tumbling windows: the event's `state` JSON text (the last
                                 successful or partial response's state of this window, `{}`
                                 at first); NULL otherwise */
  size_t state_len;
  const char *payload;      /**< full build: the encoded event (§1), NUL-terminated; NULL in
                                 a core-only build */
  size_t payload_len;
  uint64_t reserved[8];     /**< room for members appended later; the library zeroes it */
} bp_invoke_req;

/** An on-failure record for the configured destination (borrowed for the callback). */
typedef struct bp_delivery_req {
  uint32_t struct_size;     /**< bytes of this struct the library filled */
  uint32_t record_stride;   /**< bytes from one element of records to the next */
  uint64_t req_id;
  const char *shard_id;     /**< NUL-terminated */
  uint32_t lane;
  int32_t destination_type; /**< BP_DESTINATION_* (bp_record.h) */
  const char *destination;  /**< DestinationConfig.OnFailure.Destination (NUL-terminated) */
  const char *record_json;  /**< full build: the on-failure record (§5.3/§5.4; with the
                                 S3 `payload` for an S3 destination), NUL-terminated; NULL
                                 in a core-only build */
  size_t record_json_len;
  const char *s3_key;       /**< S3 destination: the object key (§5.5); NULL otherwise */
  int32_t condition;        /**< BP_CONDITION_RETRY_ATTEMPTS_EXHAUSTED / _RECORD_AGE_EXCEEDED */
  uint32_t approximate_invoke_count;
  int64_t timestamp_ms;     /**< the record's `timestamp` */
  const bp_record *records; /**< the discarded records, in shard order: element i is
                                 BP_RECORD_AT(records, record_stride, i) */
  size_t count;             /**< batchSize, >= 1 */
  uint64_t reserved[8];     /**< room for members appended later; the library zeroes it */
} bp_delivery_req;

/** A checkpoint to persist (borrowed for the callback). */
typedef struct bp_checkpoint_req {
  uint32_t struct_size; /**< bytes of this struct the library filled */
  int32_t final;        /**< 1: the shard has ended and this is its last checkpoint */
  uint64_t req_id;
  const char *shard_id; /**< NUL-terminated */
  const char *seq;      /**< the last record moved past; not NUL-terminated */
  size_t seq_len;
  uint64_t reserved[4]; /**< room for members appended later; the library zeroes it */
} bp_checkpoint_req;

/* ---- Events: trace, metrics, logs ---- */

/** bp_engine_event.type */
#define BP_EVENT_FETCH 1          /**< a fetch completed: count records kept, first/last seq
                                       (value: status). The next fetch is due at once after
                                       records, poll_interval_ms after the completion's now_ms
                                       when empty */
#define BP_EVENT_INVOKE 2         /**< an attempt starts (just before the invoke callback):
                                       first/last seq, count, value = payload bytes, detail =
                                       attempt, flags = BP_INVOKE_* */
#define BP_EVENT_OUTCOME 3        /**< an attempt's completion was acted on: detail =
                                       BP_ATTEMPT_*, first/last seq + count of the attempted
                                       batch, value = partial failed index */
#define BP_EVENT_BACKOFF 4        /**< the lane waits: value = the time it may invoke again */
#define BP_EVENT_SPLIT 5          /**< bisect: first/last seq + count of the older half */
#define BP_EVENT_DISCARD 6        /**< a discard was decided (its delivery follows): detail =
                                       condition, first/last seq, count, value =
                                       approximateInvokeCount */
#define BP_EVENT_CHECKPOINT 7     /**< the checkpoint moved: first_seq = new checkpoint */
#define BP_EVENT_CHECKPOINT_STORED 8 /**< a checkpoint save completed: value = status */
#define BP_EVENT_DELIVERY 9       /**< an on-failure delivery completed: value = status */
#define BP_EVENT_METRIC 10        /**< detail = BP_METRIC_*, value = the figure */
#define BP_EVENT_SHARD_STARTED 11 /**< first fetch requested (value = BP_POSITION_*) */
#define BP_EVENT_SHARD_ENDED 12   /**< read to its end, every record resolved, stored */
#define BP_EVENT_ERROR 13         /**< message says what (value: the bp_err code) */
#define BP_EVENT_DRAINED 14       /**< bp_engine_shutdown() has finished */

/** bp_engine_event.detail for BP_EVENT_METRIC (SEMANTICS.md §8.3-§8.4). */
/* Metric events carry the increment (a count added by this step), except IteratorAge. */
#define BP_METRIC_ITERATOR_AGE 1                      /**< ms, once per invoke attempt */
#define BP_METRIC_POLLED_EVENT_COUNT 2
#define BP_METRIC_FILTERED_OUT_EVENT_COUNT 3
#define BP_METRIC_INVOKED_EVENT_COUNT 4
#define BP_METRIC_FAILED_INVOKE_EVENT_COUNT 5
#define BP_METRIC_DROPPED_EVENT_COUNT 6
#define BP_METRIC_ON_FAILURE_DESTINATION_DELIVERED_EVENT_COUNT 7
#define BP_METRIC_DESTINATION_DELIVERY_FAILURES 8

/** One thing that happened (borrowed for the callback). Fields a type does not use are 0. */
typedef struct bp_engine_event {
  uint32_t struct_size;  /**< bytes of this struct the library filled */
  int32_t type;          /**< BP_EVENT_* */
  int32_t detail;
  int64_t now_ms;        /**< the engine's time when it happened */
  const char *shard_id;  /**< NUL-terminated; NULL for engine-wide events */
  uint32_t lane;
  uint32_t flags;        /**< BP_EVENT_INVOKE: BP_INVOKE_*; 0 otherwise */
  const char *first_seq; /**< not NUL-terminated */
  size_t first_seq_len;
  const char *last_seq;
  size_t last_seq_len;
  uint64_t count;
  int64_t value;
  const char *message;   /**< BP_EVENT_ERROR: NUL-terminated text; NULL otherwise */
  uint64_t reserved[4];  /**< room for members appended later; the library zeroes it */
} bp_engine_event;

/* ---- The transport ---- */

/** The layout version of ::bp_transport this header defines. */
#define BP_TRANSPORT_VERSION 1

/**
 * The host's callbacks (SEMANTICS.md §H.2): handle first, `user_data` last, `int` return:
 * 0 accepted, ::BP_ERR_WOULDBLOCK not now, anything else fatal to the engine. The engine
 * copies the bytes of the version the host names; later members are zero. Members are only
 * ever appended.
 */
typedef struct bp_transport {
  /** Read records of a shard. Complete with bp_engine_complete_fetch(). Required. */
  int (*fetch)(bp_engine *e, const bp_fetch_req *req, void *user_data);
  /** Invoke the function with a batch. Complete with bp_engine_complete_invoke(). Required. */
  int (*invoke)(bp_engine *e, const bp_invoke_req *req, void *user_data);
  /**
   * Deliver an on-failure record to the destination. Complete with
   * bp_engine_complete_delivery(). Required when the configuration names a destination.
   */
  int (*deliver)(bp_engine *e, const bp_delivery_req *req, void *user_data);
  /**
   * Persist a checkpoint. Complete with bp_engine_complete_checkpoint(). Optional: NULL
   * means the engine saves through bp_engine_opts.store when one is given, and otherwise
   * keeps checkpoints in memory only (bp_engine_get_checkpoint(), BP_EVENT_CHECKPOINT).
   */
  int (*store_checkpoint)(bp_engine *e, const bp_checkpoint_req *req, void *user_data);
  /**
   * Something happened: trace, metric or error (no completion; the return value is
   * ignored unless it is fatal, bp_err_is_fatal()). Optional. Unlike the other callbacks it
   * also reports completions as they are recorded, so it may run inside a
   * bp_engine_complete_*() call made from another callback (nested); like every callback it
   * may call getters and completions, and driving calls get ::BP_ERR_IN_CALLBACK.
   */
  int (*on_event)(bp_engine *e, const bp_engine_event *ev, void *user_data);
} bp_transport;

/* ---- Options ---- */

/** Engine options (a plain view, copied by bp_engine_new()). Fill with bp_engine_opts_init()
 *  or ::BP_ENGINE_OPTS_INIT. */
typedef struct bp_engine_opts {
  uint32_t struct_size;            /**< see "How structs grow" in bp_common.h */
  const char *invoke_identity_arn; /**< Kinesis events' invokeIdentityArn (the function's
                                        role); required for Kinesis in a full build */
  const char *aws_region;          /**< awsRegion; NULL: from the stream ARN */
  const char *mapping_uuid;        /**< the mapping's UUID (S3 keys, store ids); NULL: one
                                        is drawn from the seeded generator */
  uint64_t seed;                   /**< seeds the generator of request ids and UUIDs (§5.3) */
  uint32_t max_buffered_records;   /**< per shard: the buffer cap (§8.1), records waiting
                                        for a lane or in a batch not yet resolved;
                                        >= BatchSize x ParallelizationFactor and
                                        <= 2^30 (BP_CHECKPOINT_MAX_CAPACITY); 0: the larger
                                        of 10,000 and 2 x BatchSize x
                                        ParallelizationFactor. Lower: smaller reads, and
                                        batches may be smaller than AWS's */
  uint32_t filter_flags;           /**< flags for compiling FilterCriteria (bp_filter.h):
                                        BP_FILTER_STRICT_LAMBDA (0x1) rejects the operators
                                        Lambda does not list; 0: the full language;
                                        other bits: BP_ERR_INVALID_ARGUMENT */
  uint64_t max_buffered_bytes;     /**< per shard, soft (a fetch may exceed it); 0: 2 x 6 MB x
                                        ParallelizationFactor */
  int64_t backoff_base_ms;         /**< retry backoff (§5.1): default 1,000 */
  int64_t backoff_cap_ms;          /**< default 60,000 */
  int64_t poll_interval_ms;        /**< after an empty fetch; 0: 1,000 (Kinesis), 250
                                        (DynamoDB) */
  int64_t fetch_error_retry_ms;    /**< after a failed fetch or checkpoint save; default
                                        1,000 */
  int64_t wouldblock_retry_ms;     /**< after a callback said ::BP_ERR_WOULDBLOCK; default 100 */
  const bp_store_ops *store;       /**< checkpoint store used when the transport has no
                                        store_checkpoint; NULL: none */
  void *store_user_data;
  uint32_t max_fetch_records;      /**< the most records one fetch asks for (Kinesis GetRecords
                                        `Limit`, 1..10,000); 0: the engine's default,
                                        min(10,000, room left under the buffer cap).
                                        Appended in 0.2 after the first layout: an older
                                        host reads as 0 */
  const char *function_account;    /**< the function's AWS account, 12 digits: completes a
                                        FunctionName given without one (a name, `fn:alias`)
                                        into the `functionArn` of on-failure records
                                        (bp_config_resolve_function_arn()); NULL: the stream
                                        ARN's account. Appended in 0.2: an older host reads
                                        as NULL */
} bp_engine_opts;

/** Static initializer of ::bp_engine_opts with the defaults of bp_engine_opts_init(). */
#define BP_ENGINE_OPTS_INIT                                                                   \
  {sizeof(bp_engine_opts), 0, 0, 0, 0, 0, 0, 0, 1000, 60000, 0, 1000, 100, 0, 0, 0, 0}

/**
 * Fill @p o with the defaults above (and its struct_size).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p o NULL).
 * @param size the caller's sizeof(bp_engine_opts): exactly that many bytes are written.
 */
BP_API int bp_engine_opts_init(bp_engine_opts *o, size_t size);

/* ---- Life cycle ---- */

/**
 * Create an engine for one mapping. Use the bp_engine_new() macro; FFI bindings call this
 * function with ::BP_TRANSPORT_VERSION.
 * @param out       receives the engine; NULL on failure.
 * @param cfg       the mapping (borrowed; copied and validated as bp_config_validate()).
 * @param opts      options (borrowed; copied with their strings); NULL for the defaults.
 * @param version   ::BP_TRANSPORT_VERSION the host was compiled with (>= 1).
 * @param transport the callbacks (borrowed; copied).
 * @param user_data passed to every callback; bp_engine_user_data() returns it.
 * @param alloc     allocator hooks (copied), NULL for the C library.
 * @param errbuf    receives a message on failure (may be NULL); @p errlen its size.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (a NULL pointer, a missing required callback, bad
 *         options or their struct_size; in a full build, a FunctionName that names no account
 *         over a stream ARN without one and no opts.function_account: SEMANTICS.md §5.3);
 *         ::BP_ERR_CONFIG_INVALID (the configuration does not validate);
 *         ::BP_ERR_CONFIG_INVALID also for a FilterCriteria pattern the filter compiler
 *         rejects ("Invalid filter pattern definition." and the reason);
 *         ::BP_ERR_UNSUPPORTED (FilterCriteria or TumblingWindowInSeconds in a core-only
 *         build, which cannot read record payloads or the response's state; a
 *         configuration that needs the codec in a core-only build is fine, since the engine
 *         then passes records only); ::BP_ERR_NOMEM.
 */
BP_API int bp_engine_new_versioned(bp_engine **out, const bp_config *cfg,
                                   const bp_engine_opts *opts, int version,
                                   const bp_transport *transport, void *user_data,
                                   const bp_allocator *alloc, char *errbuf, size_t errlen);

/** Create an engine with this header's transport version (see bp_engine_new_versioned()). */
#define bp_engine_new(out, cfg, opts, transport, user_data, alloc, errbuf, errlen)            \
  bp_engine_new_versioned((out), (cfg), (opts), BP_TRANSPORT_VERSION, (transport),            \
                          (user_data), (alloc), (errbuf), (errlen))

/**
 * Destroy the engine. Requests still in flight are abandoned: the host must not complete
 * them afterwards (use bp_engine_shutdown() first to drain). Frees everything.
 * @return 0; ::BP_ERR_IN_CALLBACK (called from a callback: nothing is freed).
 */
BP_API int bp_engine_del(bp_engine *e);

/**
 * The message of the last failed call on @p e ("" if it succeeded; never NULL).
 */
BP_API const char *bp_engine_errmsg(const bp_engine *e);

/** @return the user_data given at creation (NULL for a NULL engine). */
BP_API void *bp_engine_user_data(const bp_engine *e);

/* ---- Shards ---- */

/**
 * Add a shard of the stream. It starts (its first fetch is due at once) when every parent
 * the engine knows has ended (read to its end, every record resolved, the last checkpoint
 * stored, SEMANTICS.md §8.2); a parent the engine was never given counts as ended, so add parents
 * before their children. Where the shard starts reading: after @p checkpoint when given;
 * otherwise after the store's checkpoint when bp_engine_opts.store is set; otherwise at
 * the mapping's StartingPosition (TRIM_HORIZON for a child whose parents the engine
 * consumed, §8.2).
 * @param shard_id     NUL-terminated, 1 .. ::BP_STORE_MAX_ID_LEN bytes, new to the engine.
 * @param parent_id    ParentShardId, NULL if none.
 * @param adjacent_parent_id AdjacentParentShardId (a merge), NULL if none.
 * @param checkpoint   the shard's stored checkpoint (a sequence number), NULL if the host
 *                     has none; @p checkpoint_len its length.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (bad id, duplicate shard, invalid checkpoint, NULL
 *         checkpoint with @p checkpoint_len > 0);
 *         the store's error (::BP_ERR_CORRUPT, ::BP_ERR_IO, ...: the shard is not added);
 *         ::BP_ERR_INVALID_STATE (after bp_engine_shutdown()); ::BP_ERR_IN_CALLBACK;
 *         ::BP_ERR_NOMEM; the fatal code of a failed engine. A shard without a parent to
 *         wait for is ::BP_SHARD_ACTIVE at once (its first fetch is due at the last time the
 *         engine saw); bp_engine_get_checkpoint() reports the checkpoint it starts after.
 */
BP_API int bp_engine_add_shard(bp_engine *e, const char *shard_id, const char *parent_id,
                               const char *adjacent_parent_id, const char *checkpoint,
                               size_t checkpoint_len);

/* ---- Driving ---- */

/**
 * Do the work that is due at @p now_ms: fetches, batches, invocations, retries, discards,
 * checkpoint saves. Callbacks run inside this call; completions made inside them are acted
 * on before it returns.
 * @return 0; ::BP_ERR_RANGE (@p now_ms outside 0 .. BP_TIME_MAX_MS); ::BP_ERR_IN_CALLBACK;
 *         ::BP_ERR_CALLBACK_FAILURE (a callback failed: the engine is unusable; errmsg says
 *         which); ::BP_ERR_NOMEM (nothing was lost; tick again).
 */
BP_API int bp_engine_tick(bp_engine *e, int64_t now_ms);

/**
 * When the engine next has work to do if nothing else happens: an absolute time in ms, a
 * time at or before the last `now_ms` it saw when work is due already, or ::BP_NO_DEADLINE
 * (only completions can make progress). Callable inside callbacks.
 */
BP_API int64_t bp_engine_next_deadline(const bp_engine *e);

/**
 * Enabled=false / true (SEMANTICS.md §2.4 (batchpoint's decision)): when disabled no new fetch, invocation or retry
 * starts; what is in flight completes and is applied (commit, retry state, discard).
 * Re-enabling resumes every lane where it stopped (the checkpoint, the buffered records,
 * the retry state). Also runs due work at @p now_ms.
 * @return as bp_engine_tick().
 */
BP_API int bp_engine_set_enabled(bp_engine *e, int64_t now_ms, int enabled);

/**
 * Drain: from now on no fetch and no new batch; invocations in flight complete and their
 * outcomes are applied (commits, and the discards they decide, whose deliveries are made),
 * but no retry starts; then the last checkpoint of every shard is stored. When all of this
 * is done bp_engine_drained() is 1 and a ::BP_EVENT_DRAINED event is reported. Also runs due
 * work at @p now_ms.
 * @return as bp_engine_tick().
 */
BP_API int bp_engine_shutdown(bp_engine *e, int64_t now_ms);

/** @return 1 when bp_engine_shutdown() has finished draining, else 0. */
BP_API int bp_engine_drained(const bp_engine *e);

/* ---- Completions (callable inside callbacks) ---- */

/** bp_engine_complete_fetch() flags */
#define BP_FETCH_SHARD_END 0x1u /**< the shard is closed and every record has been returned */

/**
 * Complete a fetch. @p records are copied (the memory is the host's again on return); they
 * are walked with each element's struct_size as the stride (bp_record.h). The
 * records must be the shard's next ones, in order (ascending sequence numbers, each above
 * the last record read), valid for the mapping's source (a full build validates them with
 * the codec). On a bad record the valid records before it are kept, the rest are ignored,
 * and the call returns ::BP_ERR_INVALID_RECORD: the next fetch reads again after the last
 * record kept (BP_POSITION_AFTER_SEQUENCE_NUMBER), so nothing is skipped silently; the same
 * holds for records beyond bp_fetch_req.max_records. After a read kept whole the next fetch
 * is BP_POSITION_CONTINUE (SEMANTICS.md §2.4).
 * @param status 0: the read succeeded; ::BP_ERR_WOULDBLOCK: it was throttled (Kinesis
 *               ProvisionedThroughputExceededException): nothing was read, the host's
 *               iterator stands, the next fetch is asked after
 *               bp_engine_opts.wouldblock_retry_ms and is still CONTINUE when this one
 *               was; any other negative value: it failed (records ignored; the fetch is
 *               retried after bp_engine_opts.fetch_error_retry_ms from a position).
 * @param flags  BP_FETCH_SHARD_END or 0.
 * @return 0; ::BP_ERR_UNKNOWN_REQUEST (no fetch with that id is in flight: nothing
 *         changes); ::BP_ERR_INVALID_ARGUMENT (records NULL with n > 0, an @p n no array
 *         can have, a struct_size of 0, too small or differing between elements: nothing
 *         kept); ::BP_ERR_INVALID_RECORD (also a field longer than UINT32_MAX bytes,
 *         refused before it is read);
 *         ::BP_ERR_RANGE (@p now_ms); ::BP_ERR_NOMEM (nothing kept; fetched again); and,
 *         outside callbacks, the errors of bp_engine_tick().
 */
BP_API int bp_engine_complete_fetch(bp_engine *e, uint64_t req_id, int64_t now_ms, int status,
                                    const bp_record *records, size_t n, uint32_t flags);

/** bp_invoke_result.kind */
#define BP_INVOKE_RESULT_RETURNED 0   /**< the function returned; body = its response */
#define BP_INVOKE_RESULT_ERROR 1      /**< X-Amz-Function-Error: exception, timeout, crash */
#define BP_INVOKE_RESULT_THROTTLED 2  /**< not reached: throttle or service error */
#define BP_INVOKE_RESULT_CLASSIFIED 3 /**< the host classified the response itself (required
                                           in a core-only build): outcome + failed_* */

/** How an invoke attempt ended (a plain view, read during the completion call). Initialise
 *  with bp_invoke_result_init() or ::BP_INVOKE_RESULT_INIT. */
typedef struct bp_invoke_result {
  uint32_t struct_size;         /**< see "How structs grow" in bp_common.h */
  int32_t kind;                 /**< BP_INVOKE_RESULT_* */
  int32_t outcome;              /**< CLASSIFIED: BP_ATTEMPT_* (bp_resolver.h) */
  const char *body;             /**< RETURNED: response payload (any bytes; NULL if len 0) */
  size_t body_len;
  const char *function_error;   /**< ERROR: the X-Amz-Function-Error value; NULL:
                                     "Unhandled" (at most 64 bytes, UTF-8) */
  size_t function_error_len;
  const char *request_id;       /**< the invocation's request id (on-failure requestId);
                                     NULL: none (at most 128 bytes, UTF-8) */
  size_t request_id_len;
  const char *executed_version; /**< NULL: "$LATEST" (at most 64 bytes, UTF-8) */
  size_t executed_version_len;
  uint32_t failed_index;        /**< CLASSIFIED PARTIAL: batch index of the lowest failed */
  uint32_t failed_count;        /**< CLASSIFIED PARTIAL: distinct failed records (>= 1) */
} bp_invoke_result;

/** Static initializer of ::bp_invoke_result (kind RETURNED, empty body: a success). */
#define BP_INVOKE_RESULT_INIT BP_STRUCT_INIT(bp_invoke_result)

/** Zero @p r (kind RETURNED, empty body: a success) and set its struct_size.
 *  @return 0; ::BP_ERR_INVALID_ARGUMENT (NULL; @p size below the first
 *         published size).
 * @param size the caller's sizeof(bp_invoke_result): exactly that many bytes are written.
 */
BP_API int bp_invoke_result_init(bp_invoke_result *r, size_t size);

/**
 * Complete an invoke attempt. The result is copied. Whatever a completion made outside a
 * callback returns besides ::BP_ERR_UNKNOWN_REQUEST, ::BP_ERR_INVALID_ARGUMENT and
 * ::BP_ERR_RANGE, the completion itself was recorded (a later error comes from the work it
 * ran). The same holds for the other completions.
 * @return 0; ::BP_ERR_UNKNOWN_REQUEST (nothing changes); ::BP_ERR_INVALID_ARGUMENT (bad
 *         struct_size, kind or outcome, body NULL with body_len > 0 or body_len above
 *         PTRDIFF_MAX, strings too long (refused before they are read) or not UTF-8,
 *         RETURNED in a core-only build,
 *         CLASSIFIED PARTIAL with a bad index or ReportBatchItemFailures off: the request
 *         stays in flight, complete it again correctly); ::BP_ERR_RANGE; and, outside
 *         callbacks, the errors of bp_engine_tick().
 */
BP_API int bp_engine_complete_invoke(bp_engine *e, uint64_t req_id, int64_t now_ms,
                                     const bp_invoke_result *result);

/**
 * Complete an on-failure delivery. Whatever @p status, the records stay discarded and the
 * checkpoint moves past them (§5.1); a failure counts in DestinationDeliveryFailures and
 * DroppedEventCount.
 * @param status 0 delivered; negative: failed.
 * @return 0; ::BP_ERR_UNKNOWN_REQUEST; ::BP_ERR_RANGE; outside callbacks, tick's errors.
 */
BP_API int bp_engine_complete_delivery(bp_engine *e, uint64_t req_id, int64_t now_ms,
                                       int status);

/**
 * Complete a checkpoint save. A failed save is retried (with the latest checkpoint) after
 * bp_engine_opts.fetch_error_retry_ms.
 * @param status 0 stored; negative: failed.
 * @return 0; ::BP_ERR_UNKNOWN_REQUEST; ::BP_ERR_RANGE; outside callbacks, tick's errors.
 */
BP_API int bp_engine_complete_checkpoint(bp_engine *e, uint64_t req_id, int64_t now_ms,
                                         int status);

/* ---- Queries (callable inside callbacks; never change the engine) ---- */

/** Totals since creation (SEMANTICS.md §8.4 names; plus the engine's own counts). Written by the
 *  library: set struct_size with bp_engine_metrics_init() or ::BP_ENGINE_METRICS_INIT. */
typedef struct bp_engine_metrics {
  uint32_t struct_size;       /**< the host sets it; the library writes that many bytes at
                                   most and leaves here the number it wrote */
  uint64_t polled_event_count;
  uint64_t filtered_out_event_count;
  uint64_t invoked_event_count;
  uint64_t failed_invoke_event_count;
  uint64_t dropped_event_count;
  uint64_t on_failure_destination_delivered_event_count;
  uint64_t destination_delivery_failures;
  uint64_t invocations;       /**< attempts that reached the function */
  uint64_t throttled_attempts;
  uint64_t fetches;
  uint64_t checkpoints_stored;
  int64_t iterator_age_ms;    /**< the last IteratorAge reported; -1 before any */
  uint64_t buffered_records;  /**< records held now, all shards */
  uint64_t buffered_bytes;    /**< record storage allocated now, all shards */
  uint64_t reserved[8];       /**< room for members appended later; the library zeroes it */
} bp_engine_metrics;

/** Static initializer of ::bp_engine_metrics (every other member 0). */
#define BP_ENGINE_METRICS_INIT BP_STRUCT_INIT(bp_engine_metrics)
/**
 * Zero @p m and set its struct_size.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (NULL; @p size below the first published size).
 * @param size the caller's sizeof(bp_engine_metrics): exactly that many bytes are written.
 */
BP_API int bp_engine_metrics_init(bp_engine_metrics *m, size_t size);

/**
 * Totals of the engine (@p shard_id NULL) or of one shard.
 * @param out its struct_size set by the host (bp_engine_metrics_init()).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (NULL @p e or @p out, bad struct_size, unknown shard).
 */
BP_API int bp_engine_get_metrics(const bp_engine *e, const char *shard_id,
                                 bp_engine_metrics *out);

/**
 * The shard's checkpoint in memory (the last record moved past), stored or not.
 * @param buf receives the digits and a NUL; ::BP_STORE_SEQ_CAP bytes always suffice.
 * @return 0; ::BP_STORE_NOT_FOUND (nothing passed yet; buf ""); ::BP_ERR_INVALID_ARGUMENT
 *         (unknown shard, NULL pointer); ::BP_ERR_BUFFER_TOO_SMALL.
 */
BP_API int bp_engine_get_checkpoint(const bp_engine *e, const char *shard_id, char *buf,
                                    size_t cap, size_t *len);

/** bp_engine_get_shard_state() values */
#define BP_SHARD_WAITING 0 /**< a parent has not ended yet */
#define BP_SHARD_ACTIVE 1  /**< consuming */
#define BP_SHARD_ENDING 2  /**< read to its end; resolving and storing the last checkpoint */
#define BP_SHARD_ENDED 3   /**< done (children may start) */

/** @return BP_SHARD_*; ::BP_ERR_INVALID_ARGUMENT for an unknown shard or NULL pointer. */
BP_API int bp_engine_get_shard_state(const bp_engine *e, const char *shard_id);

/**
 * @return 1 when nothing is in flight, no batch is buffered or waiting and no checkpoint
 *         remains to be stored (a test or a shutdown can stop); 0 otherwise.
 */
BP_API int bp_engine_idle(const bp_engine *e);

/* ---- Pure helpers ---- */

/**
 * The lane a record of @p partition_key goes to (SEMANTICS.md §3.2): FNV-1a-32 of the key's
 * bytes modulo @p parallelization_factor, exactly as the engine routes records (for
 * DynamoDB the key is the hash-key bytes given as bp_record.partition_key). A host uses it
 * to predict or display routing without copying the hash. Pure: no engine needed.
 * @param partition_key the key's bytes (any bytes; NULL only when @p len is 0).
 * @param parallelization_factor 1 .. ::BP_CONFIG_MAX_PARALLELIZATION_FACTOR.
 * @return the lane, 0 .. factor - 1; ::BP_ERR_INVALID_ARGUMENT (NULL key with @p len > 0,
 *         factor out of range).
 */
BP_API int bp_lane_of(const char *partition_key, size_t len, int parallelization_factor);

#ifdef __cplusplus
}
#endif

#endif
