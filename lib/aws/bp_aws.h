/* SPDX-License-Identifier: MIT */
/**
 * @file bp_aws.h
 * @brief libbatchpoint-aws: a ready-made host for the engine over AWS's own APIs — Kinesis or
 *        DynamoDB Streams reads, Lambda Invoke, on-failure destinations — through libcurl.
 *
 * The core (bp_engine.h) does no I/O; this add-on does it for the host, in one thread,
 * asynchronously (libcurl's multi interface): every shard read, every lane's invocation and
 * every delivery is in flight at once, and completions reach the engine from the loop.
 * Link with `pkg-config --libs batchpoint-aws`.
 *
 *  - Reads: Kinesis (ListShards, GetShardIterator, GetRecords; `Data` passed through as
 *    base64) or DynamoDB Streams (DescribeStream, GetShardIterator, GetRecords), chosen by the
 *    mapping's EventSourceArn. The reader follows its own NextShardIterator (SEMANTICS.md
 *    §2.4), renews expired iterators, backs off after ProvisionedThroughputExceeded, and
 *    discovers new shards (at the start, every bp_aws_opts.discovery_interval_ms, and when a
 *    shard ends), adding them to the engine parents first (§8.2).
 *  - Invocations: Lambda Invoke (RequestResponse) of the mapping's FunctionName, or a local
 *    command per batch (bp_aws_opts.exec_command: the event on stdin, the response on stdout).
 *  - On-failure records: the mapping's DestinationConfig (SQS SendMessage, SNS Publish, S3
 *    PutObject), or an NDJSON file (bp_aws_opts.failures_file).
 *  - Signing: SigV4 by libcurl; credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 *    AWS_SESSION_TOKEN; region from bp_aws_opts.region, AWS_REGION, AWS_DEFAULT_REGION, then
 *    the stream ARN. Each service's endpoint can be overridden (as the AWS CLI's
 *    --endpoint-url): a local Kinesis (kinesalite), `sam local start-lambda`, ...: by the
 *    options, else by the AWS SDKs' environment variables AWS_ENDPOINT_URL_KINESIS,
 *    _DYNAMODB_STREAMS, _LAMBDA, _SQS, _SNS, _S3, else AWS_ENDPOINT_URL.
 *
 * Use:
 * @code
 *   bp_aws *aws;
 *   bp_aws_opts ao = BP_AWS_OPTS_INIT;
 *   ao.endpoint_url = "http://127.0.0.1:4567";
 *   if (bp_aws_new(&aws, cfg, &ao, err, sizeof err) != 0) return 1;
 *   bp_engine *e;
 *   if (bp_engine_new(&e, cfg, &eopts, bp_aws_transport(aws), aws, NULL, err, sizeof err))
 *     return 1;
 *   bp_aws_attach(aws, e);
 *   while (!stop) bp_aws_run(aws, 200);  // waits at most 200 ms
 *   bp_engine_shutdown(e, bp_aws_now_ms());
 *   while (!bp_engine_drained(e)) bp_aws_run(aws, 200);
 *   bp_engine_del(e);
 *   bp_aws_del(aws);
 * @endcode
 * One thread at a time per bp_aws.
 */
#ifndef BATCHPOINT_BP_AWS_H
#define BATCHPOINT_BP_AWS_H

#include <stddef.h>
#include <stdint.h>

#include <batchpoint/bp_config.h>
#include <batchpoint/bp_engine.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The host: loop, reader, invoker, destination. Opaque. */
typedef struct bp_aws bp_aws;

/** Options (a plain view, copied with its strings by bp_aws_new()). Fill with
 *  bp_aws_opts_init() or ::BP_AWS_OPTS_INIT; members are only ever appended. */
typedef struct bp_aws_opts {
  uint32_t struct_size;            /**< sizeof(bp_aws_opts) of the caller */
  const char *region;              /**< NULL: AWS_REGION, AWS_DEFAULT_REGION, the stream ARN's */
  const char *endpoint_url;        /**< the stream's API (Kinesis or DynamoDB Streams);
                                        NULL: AWS's endpoint of the region */
  const char *lambda_endpoint_url; /**< Lambda Invoke API; NULL: AWS's */
  const char *sqs_endpoint_url;    /**< NULL: AWS's */
  const char *sns_endpoint_url;    /**< NULL: AWS's */
  const char *s3_endpoint_url;     /**< NULL: AWS's */
  const char *exec_command;        /**< non-NULL: `/bin/sh -c` it per batch instead of Lambda
                                        Invoke: the event on stdin, stdout the response, a
                                        non-zero exit a function error */
  int64_t exec_timeout_ms;         /**< the command's timeout (a function error); 0: 60,000 */
  int64_t invoke_timeout_ms;       /**< Lambda Invoke's HTTP timeout; 0: 960,000 (Lambda's
                                        15 minutes and a margin) */
  const char *failures_file;       /**< non-NULL: on-failure records are appended to this
                                        file (one JSON line each) instead of the mapping's
                                        destination */
  int64_t discovery_interval_ms;   /**< how often shards are listed; 0: 30,000 */
  /** Called with every engine event after the add-on has seen it (NULL: none). */
  int (*on_event)(bp_engine *e, const bp_engine_event *ev, void *user_data);
  void *on_event_user_data;
} bp_aws_opts;

/** Static initializer of ::bp_aws_opts (every member 0 or NULL: the defaults). */
#define BP_AWS_OPTS_INIT {sizeof(bp_aws_opts), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}

/** Zero @p o and set its struct_size. @return 0; ::BP_ERR_INVALID_ARGUMENT (NULL, @p size
 *  too small). @param size the caller's sizeof(bp_aws_opts). */
int bp_aws_opts_init(bp_aws_opts *o, size_t size);

/**
 * Create the host for the mapping @p cfg (validated; borrowed: the add-on copies what it
 * needs). Reads the credentials from the environment.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (NULL, bad options, no credentials, no region, a bad
 *         endpoint URL, a destination the add-on cannot reach: the message says which);
 *         ::BP_ERR_CONFIG_INVALID (@p cfg does not validate); ::BP_ERR_NOMEM; ::BP_ERR_IO.
 */
int bp_aws_new(bp_aws **out, const bp_config *cfg, const bp_aws_opts *opts, char *errbuf,
               size_t errlen);

/** The transport to give bp_engine_new() with @p a as its user_data (no store_checkpoint:
 *  give the engine a store, bp_engine_opts.store). Valid while @p a lives. */
const bp_transport *bp_aws_transport(const bp_aws *a);

/**
 * Bind the engine made with bp_aws_transport() (one engine per bp_aws) and start listing
 * shards; they are added to the engine as the list arrives.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT; ::BP_ERR_INVALID_STATE (already attached).
 */
int bp_aws_attach(bp_aws *a, bp_engine *e);

/**
 * One turn of the loop: tick the engine when its deadline has come, wait for I/O until the
 * engine's next deadline or @p max_wait_ms (whichever is first), hand every finished request
 * to the engine, list shards when due.
 * @return 0; the engine's fatal error (bp_engine_tick()); ::BP_ERR_IO (the loop failed:
 *         bp_aws_errmsg()); ::BP_ERR_INVALID_STATE (not attached).
 */
int bp_aws_run(bp_aws *a, int64_t max_wait_ms);

/** The wall clock the add-on passes to the engine: ms since the Unix epoch. */
int64_t bp_aws_now_ms(void);

/** Requests made and what came of them (totals since bp_aws_new()). */
typedef struct bp_aws_stats {
  uint32_t struct_size;          /**< set by the caller (sizeof); the library writes at most
                                      that many bytes */
  uint64_t http_requests;
  uint64_t http_failures;        /**< transport errors and statuses >= 500 */
  uint64_t list_shards;          /**< ListShards / DescribeStream calls */
  uint64_t get_shard_iterator;   /**< GetShardIterator calls */
  uint64_t get_records;          /**< GetRecords calls */
  uint64_t records_read;
  uint64_t fetch_throttles;      /**< reads throttled (ProvisionedThroughputExceeded) */
  uint64_t expired_iterators;    /**< iterators renewed */
  uint64_t invokes;              /**< invocations started (Lambda or the command) */
  uint64_t invoke_function_errors;
  uint64_t invoke_throttles;     /**< not reached: 429 and service errors */
  uint64_t deliveries;           /**< on-failure records delivered */
  uint64_t delivery_failures;
  uint64_t shards_added;         /**< shards given to the engine */
  int64_t millis_behind_latest;  /**< the last MillisBehindLatest read (-1: none) */
  uint64_t reserved[8];          /**< zeroed */
} bp_aws_stats;

/** Fill @p out (its struct_size set by the caller). @return 0; ::BP_ERR_INVALID_ARGUMENT. */
int bp_aws_get_stats(const bp_aws *a, bp_aws_stats *out);

/** The last MillisBehindLatest of one shard (Kinesis), -1 when unknown. */
int64_t bp_aws_millis_behind(const bp_aws *a, const char *shard_id);

/** Shard listings still in flight or due, a failed listing's retry included (0 when
 *  discovery is at rest). */
int bp_aws_discovering(const bp_aws *a);

/** The message of the last failure ("" if none; never NULL). */
const char *bp_aws_errmsg(const bp_aws *a);

/** Destroy: requests in flight are abandoned (drain the engine first). Delete the engine
 *  before or after, but never complete it afterwards. */
void bp_aws_del(bp_aws *a);

#ifdef __cplusplus
}
#endif

#endif
