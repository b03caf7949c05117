/* SPDX-License-Identifier: MIT */
/* The shard-consumer engine: creation, shards and their start order (§8.2), fetching and
 * record intake (§8.1), the shard checkpoint and its storage (§3.1, §3.2), the driving loop,
 * completions (queued while a callback runs, never handled recursively), events and
 * queries. One lane's batch flow lives in bp_engine_lane.c. */
#include <string.h>

#include "batchpoint/bp_seqnum.h"
#include "batchpoint/bp_time.h"
#include "bp_engine_int.h"
#if BP_WITH_CODEC
#include "bp_codec_measure_int.h"
#endif

#define DEFAULT_BACKOFF_BASE_MS 1000
#define DEFAULT_BACKOFF_CAP_MS 60000
#define DEFAULT_RETRY_MS 1000
#define DEFAULT_WOULDBLOCK_MS 100
#define MAX_STR_FIELD 128

/* ---- Small helpers ---- */

static char *dup_str(bp_engine *e, const char *s) { /* NULL stays NULL */
  return s ? bp__strndup(&e->alloc, s, strlen(s)) : NULL;
}

static uint64_t rng_next(bp_engine *e) { /* splitmix64: seeded by the host, no globals */
  uint64_t z = (e->rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void bp__engine_uuid(bp_engine *e, char out[37]) {
  uint8_t b[16];
  uint64_t x = rng_next(e), y = rng_next(e);
  for (int i = 0; i < 8; i++) {
    b[i] = (uint8_t)(x >> (8 * i));
    b[8 + i] = (uint8_t)(y >> (8 * i));
  }
  b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
  b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
  static const char hex[] = "0123456789abcdef";
  int o = 0;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
    out[o++] = hex[b[i] >> 4];
    out[o++] = hex[b[i] & 15];
  }
  out[o] = 0;
}

int bp__engine_fail(bp_engine *e, int code, const char *what) {
  if (!e->fatal) {
    e->fatal = code <= BP_ERR_FATAL ? code : BP_ERR_INTERNAL;
    bp__error(&e->err, e->fatal, "engine stopped: %s (%s)", what ? what : "", bp_err_name(code));
  }
  return e->fatal;
}

static bp__shard *find_shard(const bp_engine *e, const char *id) {
  if (!id) return NULL;
  for (size_t i = 0; i < e->nshards; i++)
    if (strcmp(e->shards[i]->id, id) == 0) return e->shards[i];
  return NULL;
}

static int dest_type_of(const char *arn) {
  /* arn:<partition>:<service>:... */
  const char *p = arn ? strchr(arn, ':') : NULL;
  p = p ? strchr(p + 1, ':') : NULL;
  if (!p) return BP_DESTINATION_OTHER;
  p++;
  if (strncmp(p, "sqs:", 4) == 0) return BP_DESTINATION_SQS;
  if (strncmp(p, "sns:", 4) == 0) return BP_DESTINATION_SNS;
  if (strncmp(p, "s3:", 3) == 0) return BP_DESTINATION_S3;
  return BP_DESTINATION_OTHER;
}

/* ---- Calling out ---- */

/* Every callback runs with depth > 0: completions made inside it are recorded only, and
 * driving calls are refused. A fatal return stops the engine. */
static int callback_result(bp_engine *e, int rc, const char *which) {
  if (rc == 0 || rc == BP_ERR_WOULDBLOCK) return rc;
  return bp__engine_fail(e, BP_ERR_CALLBACK_FAILURE, which);
}

int bp__engine_call_invoke(bp_engine *e, const bp_invoke_req *req) {
  e->depth++;
  int rc = e->t.invoke(e, req, e->ud);
  e->depth--;
  return callback_result(e, rc, "the invoke callback failed");
}

int bp__engine_call_deliver(bp_engine *e, const bp_delivery_req *req) {
  e->depth++;
  int rc = e->t.deliver(e, req, e->ud);
  e->depth--;
  return callback_result(e, rc, "the deliver callback failed");
}

static void emit(bp_engine *e, bp_engine_event *ev) {
  if (!e->t.on_event) return;
  ev->now_ms = e->now;
  e->depth++;
  int rc = e->t.on_event(e, ev, e->ud);
  e->depth--;
  if (rc <= BP_ERR_FATAL) bp__engine_fail(e, BP_ERR_CALLBACK_FAILURE, "the on_event callback failed");
}

void bp__engine_event(bp_engine *e, const bp__shard *s, uint32_t lane, int type, int detail,
                      const bp_record *first, const bp_record *last, uint64_t count,
                      int64_t value) {
  if (!e->t.on_event) return;
  bp_engine_event ev;
  memset(&ev, 0, sizeof ev);
  ev.struct_size = sizeof ev;
  ev.type = type;
  ev.detail = detail;
  ev.shard_id = s ? s->id : NULL;
  ev.lane = lane;
  ev.flags = e->event_flags;
  if (first) {
    ev.first_seq = first->seq;
    ev.first_seq_len = first->seq_len;
  }
  if (last) {
    ev.last_seq = last->seq;
    ev.last_seq_len = last->seq_len;
  }
  ev.count = count;
  ev.value = value;
  emit(e, &ev);
}

static void event_seq(bp_engine *e, const bp__shard *s, int type, const char *seq, size_t len,
                      int64_t value) {
  if (!e->t.on_event) return;
  bp_engine_event ev;
  memset(&ev, 0, sizeof ev);
  ev.struct_size = sizeof ev;
  ev.type = type;
  ev.shard_id = s ? s->id : NULL;
  ev.first_seq = seq;
  ev.first_seq_len = len;
  ev.value = value;
  emit(e, &ev);
}

static void event_error(bp_engine *e, const bp__shard *s, int code, const char *msg) {
  if (!e->t.on_event) return;
  bp_engine_event ev;
  memset(&ev, 0, sizeof ev);
  ev.struct_size = sizeof ev;
  ev.type = BP_EVENT_ERROR;
  ev.shard_id = s ? s->id : NULL;
  ev.value = code;
  ev.message = msg;
  emit(e, &ev);
}

void bp__engine_metric(bp_engine *e, bp__shard *s, uint32_t lane, int metric, int64_t value) {
  /* §8.4: event counts only with MetricsConfig EventCount; nothing while disabled. */
  if (!e->enabled) return;
  if (metric != BP_METRIC_ITERATOR_AGE && !e->metrics_on) return;
  bp__engine_event(e, s, lane, BP_EVENT_METRIC, metric, NULL, NULL, 0, value);
}

/* ---- Creation ---- */

#define ENGINE_OPTS_SIZE_V1 BP__SIZE_V1(bp_engine_opts, store_user_data)
#define INVOKE_RESULT_SIZE_V1 BP__SIZE_V1(bp_invoke_result, failed_count)
#define ENGINE_METRICS_SIZE_V1 BP__SIZE_V1(bp_engine_metrics, reserved)

int bp_engine_opts_init(bp_engine_opts *o, size_t size) {
  int rc = bp__struct_init(o, size, ENGINE_OPTS_SIZE_V1);
  if (rc) return rc;
  o->backoff_base_ms = DEFAULT_BACKOFF_BASE_MS;
  o->backoff_cap_ms = DEFAULT_BACKOFF_CAP_MS;
  o->fetch_error_retry_ms = DEFAULT_RETRY_MS;
  o->wouldblock_retry_ms = DEFAULT_WOULDBLOCK_MS;
  return 0;
}

int bp_invoke_result_init(bp_invoke_result *r, size_t size) {
  int rc = bp__struct_init(r, size, INVOKE_RESULT_SIZE_V1);
  if (rc) return rc;
  return 0;
}

int bp_engine_metrics_init(bp_engine_metrics *m, size_t size) {
  int rc = bp__struct_init(m, size, ENGINE_METRICS_SIZE_V1);
  if (rc) return rc;
  return 0;
}

/* The filter flags bp_filter.h defines (BP_FILTER_STRICT_LAMBDA); the value is spelled out
 * because a core-only build has no bp_filter.h. */
#define ENGINE_FILTER_FLAGS 0x1u

/* Kinesis GetRecords' Limit: the most records one read may ask for. */
#define MAX_FETCH_RECORDS 10000u

/* Positions a shard's storage ring and checkpoint tracker hold: twice the buffer cap (§8.1),
 * so finished records behind an unresolved one (another lane's, a filtered one) do not take
 * the room of records to fetch; at most the tracker's limit. */
static uint32_t ring_positions(const bp_engine *e) {
  uint64_t n = 2ull * e->o.max_buffered_records;
  return n > BP_CHECKPOINT_MAX_CAPACITY ? BP_CHECKPOINT_MAX_CAPACITY : (uint32_t)n;
}

static int check_opts(const bp_engine_opts *o, uint32_t batch_size, uint32_t pf, int source,
                      char *errbuf, size_t errlen) {
  if (o->backoff_base_ms < 0 || o->backoff_base_ms > BP_RESOLVER_MAX_BACKOFF_MS ||
      o->backoff_cap_ms < 0 || o->backoff_cap_ms > BP_RESOLVER_MAX_BACKOFF_MS)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                      "backoff_base_ms and backoff_cap_ms must be 0 .. %d", BP_RESOLVER_MAX_BACKOFF_MS);
  if (o->poll_interval_ms < 0 || o->poll_interval_ms > BP_RESOLVER_MAX_BACKOFF_MS ||
      o->fetch_error_retry_ms < 0 || o->fetch_error_retry_ms > BP_RESOLVER_MAX_BACKOFF_MS ||
      o->wouldblock_retry_ms < 0 || o->wouldblock_retry_ms > BP_RESOLVER_MAX_BACKOFF_MS)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                      "poll_interval_ms, fetch_error_retry_ms and wouldblock_retry_ms must be 0 .. %d",
                      BP_RESOLVER_MAX_BACKOFF_MS);
  if (o->max_buffered_records > BP_CHECKPOINT_MAX_CAPACITY) /* the tracker's limit */
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                      "max_buffered_records (%u) must be at most %zu",
                      (unsigned)o->max_buffered_records, (size_t)BP_CHECKPOINT_MAX_CAPACITY);
  if (o->max_buffered_records && (uint64_t)o->max_buffered_records < (uint64_t)batch_size * pf)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                      "max_buffered_records (%u) must hold BatchSize x ParallelizationFactor "
                      "(%u) records", (unsigned)o->max_buffered_records, (unsigned)(batch_size * pf));
  if (o->mapping_uuid && (!o->mapping_uuid[0] || strlen(o->mapping_uuid) > BP_STORE_MAX_ID_LEN))
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                      "mapping_uuid must be 1 .. %d bytes", BP_STORE_MAX_ID_LEN);
  if (o->store && !o->mapping_uuid)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                      "a checkpoint store needs opts.mapping_uuid (the id its checkpoints are kept "
                      "under across restarts)");
  if (o->max_fetch_records > MAX_FETCH_RECORDS)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                      "max_fetch_records %u is above %u (the GetRecords Limit); 0 means the "
                      "engine's default", (unsigned)o->max_fetch_records, MAX_FETCH_RECORDS);
  if (o->function_account && (strspn(o->function_account, "0123456789") != 12 ||
                              o->function_account[12]))
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                      "function_account '%.32s' must be 12 digits (an AWS account id); NULL "
                      "means the stream ARN's account", o->function_account);
  if (o->filter_flags & ~ENGINE_FILTER_FLAGS) /* refused with or without filters configured */
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                      "filter_flags 0x%x: only BP_FILTER_STRICT_LAMBDA (0x1) is defined",
                      (unsigned)o->filter_flags);
  if (o->store && (o->store->version < 1 || !o->store->load || !o->store->save))
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                      "opts.store needs version >= 1, load and save");
#if BP_WITH_CODEC
  if (source == BP_SOURCE_KINESIS && (!o->invoke_identity_arn || !o->invoke_identity_arn[0]))
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                      "Kinesis events need opts.invoke_identity_arn (the function's role ARN)");
#else
  (void)source;
#endif
  return 0;
}

int bp_engine_new_versioned(bp_engine **out, const bp_config *cfg, const bp_engine_opts *opts,
                            int version, const bp_transport *transport, void *user_data,
                            const bp_allocator *alloc, char *errbuf, size_t errlen) {
  if (errbuf && errlen) errbuf[0] = 0;
  if (!out) return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT, "out is NULL");
  *out = NULL;
  if (!cfg || !transport)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT, "cfg and transport are required");
  if (version < 1)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                      "transport version %d: must be >= 1 (BP_TRANSPORT_VERSION)", version);
  bp_transport t;
  memset(&t, 0, sizeof t);
  memcpy(&t, transport, sizeof t); /* version 1 is the whole struct in this release */
  if (!t.fetch || !t.invoke)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                      "the transport needs fetch and invoke callbacks");
  bp_engine_opts o;
  if (!opts) bp_engine_opts_init(&o, sizeof o);
  else if (bp__struct_in(&o, sizeof o, ENGINE_OPTS_SIZE_V1, opts, "bp_engine_opts", errbuf, errlen))
    return BP_ERR_INVALID_ARGUMENT;
  bp_allocator a;
  if (bp__alloc_copy(&a, alloc))
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT, "half-set allocator hooks");

  bp_engine *e = bp__calloc(&a, 1, sizeof *e);
  if (!e) return bp__errbuf(errbuf, errlen, BP_ERR_NOMEM, "out of memory");
  e->alloc = a;
  e->t = t;
  e->ud = user_data;
  e->enabled = 1;
#if BP_WITH_CODEC
  bp__buf_init(&e->payload, &e->alloc);
#endif
  /* Every failure below sets rc (and errbuf) and leaves through `fail`. */
  int rc = bp_config_copy(&e->cfg, cfg, &e->alloc);
  if (rc) {
    rc = bp__errbuf(errbuf, errlen, rc, "cannot copy the configuration: %s", bp_strerror(rc));
    goto fail;
  }
  if (bp_config_validate(e->cfg)) {
    rc = bp__errbuf(errbuf, errlen, BP_ERR_CONFIG_INVALID, "%s", bp_config_errmsg(e->cfg));
    goto fail;
  }
#if !BP_WITH_CODEC
  if (bp_config_get_filter_count(e->cfg)) {
    rc = bp__errbuf(errbuf, errlen, BP_ERR_UNSUPPORTED,
                    "FilterCriteria needs the codec (payloads are parsed as JSON): not in a "
                    "core-only build");
    goto fail;
  }
#endif
  e->tumbling_ms = (int64_t)bp_config_get_tumbling_window_in_seconds(e->cfg) * 1000;
#if !BP_WITH_CODEC
  if (e->tumbling_ms) {
    rc = bp__errbuf(errbuf, errlen, BP_ERR_UNSUPPORTED,
                    "TumblingWindowInSeconds needs the codec (the response's state is read "
                    "from its body): not in a core-only build");
    goto fail;
  }
#endif
  e->source = bp_config_get_source(e->cfg);
  e->batch_size = bp_config_get_batch_size(e->cfg);
  e->pf = (uint32_t)bp_config_get_parallelization_factor(e->cfg);
  e->window_s = (uint32_t)bp_config_get_maximum_batching_window_in_seconds(e->cfg);
  e->metrics_on = bp_config_get_metrics_event_count(e->cfg);
  e->enabled = bp_config_get_enabled(e->cfg);
  e->destination = bp_config_get_on_failure_destination(e->cfg);
  if (e->destination && !e->destination[0]) e->destination = NULL;
  e->dest_type = dest_type_of(e->destination);
  if (e->destination && !t.deliver) {
    rc = bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                    "the configuration names an on-failure destination: the transport needs "
                    "a deliver callback");
    goto fail;
  }
  if ((rc = check_opts(&o, e->batch_size, e->pf, e->source, errbuf, errlen))) goto fail;
  if (!o.max_buffered_records) { /* §8.1: at least one GetRecords' worth */
    uint32_t twice = 2u * e->batch_size * e->pf;
    o.max_buffered_records = twice > MAX_FETCH_RECORDS ? twice : MAX_FETCH_RECORDS;
  }
  if (!o.max_buffered_bytes) o.max_buffered_bytes = 2ull * BP_MAX_EVENT_BYTES * e->pf;
  /* Zero intervals would let a failing host spin inside one tick: at least 1 ms. */
  if (!o.fetch_error_retry_ms) o.fetch_error_retry_ms = DEFAULT_RETRY_MS;
  if (!o.wouldblock_retry_ms) o.wouldblock_retry_ms = DEFAULT_WOULDBLOCK_MS;
  if (!o.poll_interval_ms) o.poll_interval_ms = e->source == BP_SOURCE_DYNAMODB ? 250 : 1000;
  e->rng = o.seed;
  e->o_role = dup_str(e, o.invoke_identity_arn);
  e->o_region = dup_str(e, o.aws_region);
  e->o_uuid = dup_str(e, o.mapping_uuid);
  if ((o.invoke_identity_arn && !e->o_role) || (o.aws_region && !e->o_region) ||
      (o.mapping_uuid && !e->o_uuid))
    goto nomem;
  o.invoke_identity_arn = e->o_role;
  o.aws_region = e->o_region;
  o.mapping_uuid = e->o_uuid;
  e->o = o;
  e->o.function_account = NULL; /* borrowed: read only below, to resolve the function ARN */
  if (e->o_uuid) {
    size_t n = strlen(e->o_uuid);
    memcpy(e->uuid, e->o_uuid, n < 36 ? n : 36);
  } else {
    bp__engine_uuid(e, e->uuid);
  }
  bp_resolver_policy_init(&e->policy, sizeof e->policy);
  e->policy.maximum_retry_attempts = bp_config_get_maximum_retry_attempts(e->cfg);
  e->policy.maximum_record_age_in_seconds = bp_config_get_maximum_record_age_in_seconds(e->cfg);
  e->policy.bisect_batch_on_function_error = bp_config_get_bisect_batch_on_function_error(e->cfg);
  e->policy.report_batch_item_failures = bp_config_get_report_batch_item_failures(e->cfg);
  e->policy.backoff_base_ms = o.backoff_base_ms;
  e->policy.backoff_cap_ms = o.backoff_cap_ms;
#if BP_WITH_CODEC
  {
    bp_codec_opts co;
    char fn_arn[BP_CONFIG_FUNCTION_ARN_CAP];
    size_t fn_len;
    bp_codec_opts_init(&co, sizeof co);
    co.source = e->source == BP_SOURCE_DYNAMODB ? BP_SOURCE_DYNAMODB : BP_SOURCE_KINESIS;
    co.event_source_arn = bp_config_get_event_source_arn(e->cfg);
    co.aws_region = e->o_region;
    co.invoke_identity_arn = e->o_role;
    /* SEMANTICS.md §5.3: the mapping's FunctionArn, FunctionName resolved as AWS does. */
    if (bp_config_resolve_function_arn(e->cfg, o.function_account, fn_arn, sizeof fn_arn,
                                       &fn_len)) {
      rc = bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                      "FunctionName '%s' names no account and the stream ARN has none: set "
                      "opts.function_account (the function's 12-digit account)",
                      bp_config_get_function_name(e->cfg));
      goto fail;
    }
    co.function_arn = fn_arn;
    if ((rc = bp_codec_new(&e->codec, &co, &e->alloc))) {
      rc = bp__errbuf(errbuf, errlen, rc, "codec: %s", bp_strerror(rc));
      goto fail;
    }
  }
  if (bp_config_get_filter_count(e->cfg)) { /* §7: compiled once, never checked at match time */
    if ((rc = bp_filter_new(&e->filter, o.filter_flags, &e->alloc))) {
      rc = bp__errbuf(errbuf, errlen, rc, "filter: %s", bp_strerror(rc));
      goto fail;
    }
    for (size_t i = 0; i < bp_config_get_filter_count(e->cfg); i++) {
      const char *text;
      size_t len;
      bp_config_get_filter(e->cfg, i, &text, &len);
      rc = bp_filter_add(e->filter, text, len);
      if (rc) {
        rc = bp__errbuf(errbuf, errlen, rc,
                        "Invalid filter pattern definition. (filter %zu: %s)", i + 1,
                        bp_filter_errmsg(e->filter));
        goto fail;
      }
    }
  }
#endif
  e->views = bp__calloc(&e->alloc, e->batch_size, sizeof *e->views);
  e->arrivals = bp__calloc(&e->alloc, e->batch_size, sizeof *e->arrivals);
  e->positions = bp__calloc(&e->alloc, e->batch_size, sizeof *e->positions);
  e->sizes = bp__calloc(&e->alloc, e->batch_size, sizeof *e->sizes);
  e->shapes = bp__calloc(&e->alloc, e->batch_size, sizeof *e->shapes);
  if (!e->views || !e->arrivals || !e->positions || !e->sizes || !e->shapes) goto nomem;
  *out = e;
  return 0;
nomem:
  rc = bp__errbuf(errbuf, errlen, BP_ERR_NOMEM, "out of memory");
fail:
  bp_engine_del(e);
  return rc;
}

static void shard_free(bp_engine *e, bp__shard *s) {
  if (!s) return;
  if (s->lanes)
    for (uint32_t i = 0; i < s->nlanes; i++) bp__lane_free(e, &s->lanes[i]);
  bp__free(&e->alloc, s->lanes);
  bp__records_free(e, s);
  bp_checkpoint_del(s->tracker);
  bp__free(&e->alloc, s->id);
  bp__free(&e->alloc, s->parent);
  bp__free(&e->alloc, s->adjacent);
  bp__free(&e->alloc, s);
}

int bp_engine_del(bp_engine *e) {
  if (!e) return 0;
  if (e->depth) return bp__error(&e->err, BP_ERR_IN_CALLBACK, "bp_engine_del inside a callback");
  for (size_t i = 0; i < e->nshards; i++) shard_free(e, e->shards[i]);
  bp__free(&e->alloc, e->shards);
#if BP_WITH_CODEC
  bp_filter_del(e->filter);
  bp_codec_del(e->codec);
  bp__buf_free(&e->payload);
#endif
  bp_config_del(e->cfg);
  bp__free(&e->alloc, e->views);
  bp__free(&e->alloc, e->arrivals);
  bp__free(&e->alloc, e->positions);
  bp__free(&e->alloc, e->sizes);
  bp__free(&e->alloc, e->shapes);
  bp__free(&e->alloc, e->o_role);
  bp__free(&e->alloc, e->o_region);
  bp__free(&e->alloc, e->o_uuid);
  bp_allocator a = e->alloc;
  bp__free(&a, e);
  return 0;
}

const char *bp_engine_errmsg(const bp_engine *e) { return e ? e->err.text : ""; }

void *bp_engine_user_data(const bp_engine *e) { return e ? e->ud : NULL; }

/* ---- Time (§8.1) ---- */

static int64_t step_earlier(int64_t t, int64_t d) { return t > d ? t - d : 0; }

/* Take @p now as the engine's time; returns the time the caller acts at. Every driving call
 * and completion passes its now_ms through here. A now earlier than the last one is a clock
 * step back (§8.1, batchpoint's decision): every wait already decided -- retry backoff, a
 * final invocation's retry, the poll interval, a fetch or save retry, a wouldblock retry, a
 * batching window, a completion not acted on yet -- moves back by the step, so it keeps its
 * remaining length measured from the step; a wait already due stays due (nothing is done
 * twice), and a tumbling window whose end had passed stays ended. Arrival times and window
 * starts stay where they are: record age, IteratorAge and window membership go on comparing
 * the wall clock with them. Inside a callback (a completion recorded during a run) a step
 * back is not applied: the completion counts at the run's time and the next driving call
 * sees the step. A step forward needs nothing: what has become due is done. */
static int64_t engine_clock(bp_engine *e, int64_t now) {
  if (now >= e->now) {
    e->now = now;
    return now;
  }
  if (e->depth) return e->now;
  int64_t d = e->now - now;
  for (size_t i = 0; i < e->nshards; i++) {
    bp__shard *s = e->shards[i];
    s->fetch_due = step_earlier(s->fetch_due, d);
    s->save_due = step_earlier(s->save_due, d);
    for (uint32_t j = 0; j < s->nlanes; j++) {
      bp__lane *l = &s->lanes[j];
      l->not_before = step_earlier(l->not_before, d);
      l->final_not_before = step_earlier(l->final_not_before, d);
      l->done_ms = step_earlier(l->done_ms, d);
      bp_batch_shift(l->builder, -d);
      if (e->tumbling_ms && l->win_start >= 0 && e->now >= l->win_start + e->tumbling_ms)
        l->win_ended = l->win_start;
    }
  }
  e->now = now;
  return now;
}

/* ---- Driving-call guard ---- */

static int enter(bp_engine *e, int64_t now) {
  if (!e) return BP_ERR_INVALID_ARGUMENT;
  if (e->depth)
    return bp__error(&e->err, BP_ERR_IN_CALLBACK,
                     "a driving call was made from inside a callback; make it after the "
                     "callback has returned");
  if (e->fatal) return e->fatal;
  if (!bp__time_in_range(now)) return bp__error(&e->err, BP_ERR_RANGE, "now_ms out of range");
  bp__errmsg_clear(&e->err);
  engine_clock(e, now);
  return 0;
}

/* ---- Shards ---- */

static int shard_try_start(bp_engine *e, bp__shard *s, int64_t now);

static int valid_id(const char *id) {
  return id && id[0] && strlen(id) <= BP_STORE_MAX_ID_LEN;
}

int bp_engine_add_shard(bp_engine *e, const char *shard_id, const char *parent_id,
                        const char *adjacent_parent_id, const char *checkpoint,
                        size_t checkpoint_len) {
  if (!e) return BP_ERR_INVALID_ARGUMENT;
  if (e->depth) return bp__error(&e->err, BP_ERR_IN_CALLBACK, "bp_engine_add_shard inside a callback");
  if (e->fatal) return e->fatal;
  bp__errmsg_clear(&e->err);
  if (e->shutting_down)
    return bp__error(&e->err, BP_ERR_INVALID_STATE, "the engine is shutting down");
  if (!valid_id(shard_id))
    return bp__error(&e->err, BP_ERR_INVALID_ARGUMENT, "shard_id must be 1 .. %d bytes",
                     BP_STORE_MAX_ID_LEN);
  if ((parent_id && !valid_id(parent_id)) || (adjacent_parent_id && !valid_id(adjacent_parent_id)))
    return bp__error(&e->err, BP_ERR_INVALID_ARGUMENT, "a parent id must be 1 .. %d bytes",
                     BP_STORE_MAX_ID_LEN);
  if (find_shard(e, shard_id))
    return bp__error(&e->err, BP_ERR_INVALID_ARGUMENT, "shard %s was already added", shard_id);
  char stored[BP__SEQ_CAP];
  size_t stored_len = 0;
  if (!checkpoint && checkpoint_len)
    return bp__error(&e->err, BP_ERR_INVALID_ARGUMENT, "checkpoint is NULL with a length");
  if (checkpoint) {
    if (bp_seqnum_validate(checkpoint, checkpoint_len) != 0)
      return bp__error(&e->err, BP_ERR_INVALID_ARGUMENT,
                       "checkpoint of shard %s is not a sequence number", shard_id);
    memcpy(stored, checkpoint, checkpoint_len);
    stored_len = checkpoint_len;
  } else if (e->o.store) {
    char msg[256];
    int rc = bp_store_load(e->o.store, e->o.store_user_data, e->uuid, shard_id, stored,
                           sizeof stored, &stored_len, msg, sizeof msg);
    if (rc < 0)
      return bp__error(&e->err, rc, "loading the checkpoint of shard %s: %s", shard_id, msg);
    if (rc == BP_STORE_NOT_FOUND) stored_len = 0;
  }
  if (e->nshards == e->shards_cap) {
    size_t cap = e->shards_cap ? e->shards_cap * 2 : 4;
    bp__shard **n = bp__realloc(&e->alloc, e->shards, cap * sizeof *n);
    if (!n) return bp__error(&e->err, BP_ERR_NOMEM, "out of memory");
    e->shards = n;
    e->shards_cap = cap;
  }
  bp__shard *s = bp__calloc(&e->alloc, 1, sizeof *s);
  if (!s) return bp__error(&e->err, BP_ERR_NOMEM, "out of memory");
  s->id = dup_str(e, shard_id);
  s->parent = dup_str(e, parent_id);
  s->adjacent = dup_str(e, adjacent_parent_id);
  s->m.iterator_age_ms = -1;
  bp_checkpoint_opts co = BP_CHECKPOINT_OPTS_INIT;
  co.capacity = ring_positions(e);
  if (!s->id || (parent_id && !s->parent) || (adjacent_parent_id && !s->adjacent) ||
      bp_checkpoint_new(&s->tracker, &co, &e->alloc) ||
      bp__records_init(e, s, (uint32_t)co.capacity, e->o.max_buffered_bytes))
    goto nomem;
  s->lanes = bp__calloc(&e->alloc, e->pf, sizeof *s->lanes);
  if (!s->lanes) goto nomem;
  for (uint32_t i = 0; i < e->pf; i++) {
    s->nlanes = i + 1;
    if (bp__lane_init(e, s, &s->lanes[i], i)) goto nomem;
  }
  if (stored_len) {
    memcpy(s->ckpt, stored, stored_len);
    s->ckpt_len = stored_len;
    s->has_ckpt = 1;
    memcpy(s->live, stored, stored_len);
    s->live_len = stored_len;
    s->live_has = 1;
    memcpy(s->last_read, stored, stored_len);
    s->last_read_len = stored_len;
    s->started_from = BP_POSITION_AFTER_SEQUENCE_NUMBER;
  }
  s->state = BP_SHARD_WAITING;
  e->shards[e->nshards++] = s;
  shard_try_start(e, s, e->now); /* no parent to wait for: due at once */
  return 0;
nomem:
  shard_free(e, s);
  return bp__error(&e->err, BP_ERR_NOMEM, "out of memory");
}

static int parent_ended(const bp_engine *e, const char *id, int *consumed) {
  if (!id) return 1;
  const bp__shard *p = find_shard(e, id);
  if (!p) return 1; /* never given: nothing to wait for */
  *consumed = 1;
  return p->state == BP_SHARD_ENDED;
}

/* Every parent of @p s has ended (§8.2); *consumed says whether one was known here. */
static int parents_ended(const bp_engine *e, const bp__shard *s, int *consumed) {
  return parent_ended(e, s->parent, consumed) && parent_ended(e, s->adjacent, consumed);
}

/* Start the shard when its parents have ended (§8.2). */
static int shard_try_start(bp_engine *e, bp__shard *s, int64_t now) {
  int consumed = 0;
  if (!parents_ended(e, s, &consumed)) return 0;
  s->consumed_parents = consumed;
  if (!s->started_from) {
    int sp = bp_config_get_starting_position(e->cfg);
    s->started_from = consumed || sp == BP_POSITION_TRIM_HORIZON
                          ? BP_POSITION_TRIM_HORIZON
                          : sp == BP_POSITION_LATEST ? BP_POSITION_LATEST
                                                              : BP_POSITION_AT_TIMESTAMP;
  }
  s->state = BP_SHARD_ACTIVE;
  s->fetch_due = now;
  bp__engine_event(e, s, 0, BP_EVENT_SHARD_STARTED, 0, NULL, NULL, 0, s->started_from);
  return 1;
}

static int run(bp_engine *e, int64_t now);

/* ---- Fetching (§8.1) ---- */

static int can_fetch(const bp_engine *e, const bp__shard *s) {
  return s->state == BP_SHARD_ACTIVE && !s->read_end && !s->fetch_inflight && e->enabled &&
         !e->shutting_down && s->unresolved < e->o.max_buffered_records &&
         bp_checkpoint_outstanding(s->tracker) < s->cap &&
         s->bytes_in_use < e->o.max_buffered_bytes;
}

static int shard_fetch(bp_engine *e, bp__shard *s, int64_t now) {
  bp_fetch_req req;
  memset(&req, 0, sizeof req);
  req.struct_size = sizeof req;
  req.req_id = ++e->next_req;
  req.shard_id = s->id;
  /* §8.1: up to GetRecords' 10,000, whatever BatchSize is, within the room left under the
     buffer cap (and the positions the ring has left) */
  uint64_t room = e->o.max_buffered_records - s->unresolved;
  uint64_t ring_room = s->cap - bp_checkpoint_outstanding(s->tracker);
  if (ring_room < room) room = ring_room;
  req.max_records = room > MAX_FETCH_RECORDS ? MAX_FETCH_RECORDS : (uint32_t)room;
  if (e->o.max_fetch_records && req.max_records > e->o.max_fetch_records)
    req.max_records = e->o.max_fetch_records; /* the host's GetRecords Limit */
  req.max_bytes = e->o.max_buffered_bytes - s->bytes_in_use;
  /* §2.4 (batchpoint's decision): reads follow the host's iterator; a position is asked for
     only at the start, from a checkpoint, or after a read that failed or was not kept whole */
  if (s->follow_iterator) {
    req.from = BP_POSITION_CONTINUE;
  } else if (s->read_any || s->started_from == BP_POSITION_AFTER_SEQUENCE_NUMBER) {
    req.from = BP_POSITION_AFTER_SEQUENCE_NUMBER;
    req.after_seq = s->last_read;
    req.after_seq_len = s->last_read_len;
  } else if (s->fetched_once && s->started_from == BP_POSITION_LATEST) {
    req.from = BP_POSITION_CONTINUE; /* LATEST is resolved once: asked again, it would skip */
  } else {
    req.from = s->started_from;
  }
  if (s->started_from == BP_POSITION_AT_TIMESTAMP && !s->read_any)
    req.timestamp_ms = bp_config_get_starting_position_timestamp_ms(e->cfg);
  s->fetch_inflight = 1;
  s->fetch_req = req.req_id;
  s->fetch_max = req.max_records;
  s->fetch_gen = e->gen;
  int was_fetched = s->fetched_once;
  s->fetched_once = 1;
  e->depth++;
  int rc = e->t.fetch(e, &req, e->ud);
  e->depth--;
  if (rc == BP_ERR_WOULDBLOCK && s->fetch_inflight && s->fetch_req == req.req_id) {
    s->fetch_inflight = 0;
    s->fetched_once = was_fetched;
    s->fetch_due = now + e->o.wouldblock_retry_ms;
    return 0;
  }
  if (rc == 0 || rc == BP_ERR_WOULDBLOCK) return 1;
  return bp__engine_fail(e, BP_ERR_CALLBACK_FAILURE, "the fetch callback failed");
}

/* What intake needs of the shard, prepared once a fetch. */
typedef struct bp__intake_shard {
#if BP_WITH_CODEC
  bp__codec_shard codec;
  int rc; /* the codec's error for the shard id: every record's (none is measured) */
#else
  int unused;
#endif
} bp__intake_shard;

/* Validate and copy one fetched record; route it to its lane. */
static int intake(bp_engine *e, bp__shard *s, const bp__intake_shard *sh, const bp_record *r) {
  if (!r->seq || bp_seqnum_validate(r->seq, r->seq_len) != 0)
    return bp__error(&e->err, BP_ERR_INVALID_RECORD, "a record's sequence number is invalid");
  const char *oversized = bp__records_oversized(r); /* lengths first, before any byte */
  if (oversized)
    return bp__error(&e->err, BP_ERR_INVALID_RECORD, "record %.*s: %s is too long to store",
                     (int)r->seq_len, r->seq, oversized);
  if (s->last_read_len && bp__seq_cmp(r->seq, r->seq_len, s->last_read, s->last_read_len) <= 0)
    return bp__error(&e->err, BP_ERR_INVALID_RECORD,
                     "sequence number %.*s is not above the last one read (%.*s)",
                     (int)(r->seq_len > 60 ? 60 : r->seq_len), r->seq,
                     (int)(s->last_read_len > 60 ? 60 : s->last_read_len), s->last_read);
  if (!bp__time_in_range(r->arrival_ms))
    return bp__error(&e->err, BP_ERR_INVALID_RECORD, "record %.*s: arrival_ms out of range",
                     (int)(r->seq_len > 60 ? 60 : r->seq_len), r->seq);
  size_t size = 0;
  unsigned char shape = 0;
#if BP_WITH_CODEC
  int vrc = sh->rc ? sh->rc : bp__codec_record_measure(e->codec, &sh->codec, r, &size, &shape);
  if (vrc == BP_ERR_NOMEM) return bp__error(&e->err, vrc, "out of memory");
  if (vrc)
    return bp__error(&e->err, BP_ERR_INVALID_RECORD, "record %.*s: %s",
                     (int)(r->seq_len > 60 ? 60 : r->seq_len), r->seq, bp_codec_errmsg(e->codec));
#else
  (void)sh;
  /* No codec to validate: the Kinesis rule it would apply to the key (lane routing reads it). */
  if (e->source == BP_SOURCE_KINESIS) {
    if (!r->partition_key && r->partition_key_len)
      return bp__error(&e->err, BP_ERR_INVALID_RECORD, "record %.*s: partitionKey is NULL",
                       (int)r->seq_len, r->seq);
    int pk = bp__utf8_len_check(r->partition_key ? r->partition_key : "", r->partition_key_len,
                                1, BP_KINESIS_MAX_PARTITION_KEY_CHARS);
    if (pk)
      return bp__error(&e->err, BP_ERR_INVALID_RECORD, "record %.*s: partitionKey %s",
                       (int)r->seq_len, r->seq,
                       pk == BP__UTF8_INVALID     ? "is not valid UTF-8"
                       : pk == BP__UTF8_TOO_SHORT ? "is empty"
                                                  : "is longer than 256 characters");
  }
  /* No encoder: an upper bound of the record's JSON (base64 data, escaped strings). Every
   * field is at most UINT32_MAX bytes (checked above), so the sum is taken in 64 bits. */
  uint64_t bound = 4 * (((uint64_t)r->data_len + 2) / 3) +
                   6 * ((uint64_t)r->partition_key_len + r->encryption_type_len +
                        r->event_id_len + r->event_name_len) +
                   2 * (uint64_t)r->seq_len + r->dynamodb_json_len + r->user_identity_json_len +
                   512 + 2 * (uint64_t)strlen(s->id);
  size = bound > SIZE_MAX ? SIZE_MAX : (size_t)bound;
#endif
  int keep = 1;
#if BP_WITH_CODEC
  if (e->filter) {
    int verdict;
    int frc = bp_filter_match_record(e->filter, e->codec, s->id, r, &verdict);
    if (frc == BP_ERR_NOMEM) return bp__error(&e->err, frc, "out of memory");
    if (frc)
      return bp__error(&e->err, BP_ERR_INVALID_RECORD, "record %.*s: %s",
                       (int)(r->seq_len > 60 ? 60 : r->seq_len), r->seq,
                       bp_filter_errmsg(e->filter));
    keep = verdict == BP_FILTER_MATCH;
  }
#endif
  uint64_t pos = s->next_pos;
  uint32_t slot;
  int rc = bp__records_add(e, s, r, bp__records_lean(r), size, &slot);
  if (rc) return bp__error(&e->err, rc, "cannot store record: %s", bp_strerror(rc));
  s->slots[slot].shape = shape;
  if (bp_checkpoint_track(s->tracker, pos, 1) < 0)
    return bp__engine_fail(e, BP_ERR_INTERNAL, bp_checkpoint_errmsg(s->tracker));
  memcpy(s->last_read, r->seq, r->seq_len);
  s->last_read_len = r->seq_len;
  if (!s->read_any || r->arrival_ms > s->read_max_arrival) s->read_max_arrival = r->arrival_ms;
  s->read_any = 1;
  s->unresolved++;
  if (!keep) { /* filtered out: finished at once (§3.1 (batchpoint's decision), §7.3) */
    s->m.filtered_out_event_count++;
    s->filtered_in_fetch++;
    rc = bp__engine_finish(e, s, &pos, 1);
    return rc < 0 ? rc : 0;
  }
  uint32_t lane = bp__lane_of(r->partition_key, r->partition_key ? r->partition_key_len : 0, e->pf);
  s->links[slot].next = BP__NIL;
  bp__lane *l = &s->lanes[lane];
  if (l->tail == BP__NIL) l->head = slot;
  else s->links[l->tail].next = slot;
  l->tail = slot;
  if (l->offer_next == BP__NIL && l->offered == l->pending) l->offer_next = slot;
  l->pending++;
  return 0;
}

int bp_engine_complete_fetch(bp_engine *e, uint64_t req_id, int64_t now_ms, int status,
                             const bp_record *records, size_t n, uint32_t flags) {
  if (!e) return BP_ERR_INVALID_ARGUMENT;
  if (e->fatal) return e->fatal;
  bp__shard *s = NULL;
  for (size_t i = 0; i < e->nshards && !s; i++)
    if (e->shards[i]->fetch_inflight && e->shards[i]->fetch_req == req_id) s = e->shards[i];
  if (!s) return bp__error(&e->err, BP_ERR_UNKNOWN_REQUEST, "no fetch %llu in flight",
                           (unsigned long long)req_id);
  if (!bp__time_in_range(now_ms)) return bp__error(&e->err, BP_ERR_RANGE, "now_ms out of range");
  if (!records && n && status == 0)
    return bp__error(&e->err, BP_ERR_INVALID_ARGUMENT, "records is NULL with n > 0");
  size_t stride = sizeof(bp_record);
  if (status == 0 && /* also refuses an @p n no array of the host's stride can have */
      bp__records_stride(records, n, &stride, e->err.text, sizeof e->err.text))
    return BP_ERR_INVALID_ARGUMENT; /* nothing kept; the fetch stays in flight */
  now_ms = engine_clock(e, now_ms);
  s->fetch_inflight = 0;
  int result = 0;
  size_t kept = 0;
  if (status == BP_ERR_WOULDBLOCK) {
    /* throttled (ProvisionedThroughputExceeded): nothing read, the host's iterator stands */
    s->fetch_due = now_ms + e->o.wouldblock_retry_ms;
    bp__engine_event(e, s, 0, BP_EVENT_FETCH, 0, NULL, NULL, 0, status);
  } else if (status < 0) {
    s->follow_iterator = 0;
    s->fetch_due = now_ms + e->o.fetch_error_retry_ms;
    event_error(e, s, status, "fetch failed");
  } else {
    size_t take = n > s->fetch_max ? s->fetch_max : n;
    s->filtered_in_fetch = 0;
    bp_record tmp, first, last; /* a host of another bp_record size: one copy at a time */
    bp__intake_shard sh;
    memset(&sh, 0, sizeof sh);
#if BP_WITH_CODEC
    if (take) sh.rc = bp__codec_shard_prepare(e->codec, s->id, &sh.codec);
#endif
    for (; kept < take; kept++) {
      int rc = intake(e, s, &sh, bp__record_get(records, stride, kept, &tmp));
      if (rc) {
        result = rc;
        break;
      }
    }
    s->m.polled_event_count += kept;
    s->m.fetches++;
    if (result) event_error(e, s, result, e->err.text);
    if ((flags & BP_FETCH_SHARD_END) && kept == n) s->read_end = 1;
    s->follow_iterator = kept == n; /* records left behind are read again after the last kept */
    if (!result) s->caught_up = n < s->fetch_max; /* §6: read past a window's end */
    s->fetch_due = kept && !result ? now_ms
                   : result        ? now_ms + e->o.fetch_error_retry_ms
                                   : now_ms + e->o.poll_interval_ms;
    bp__engine_event(e, s, 0, BP_EVENT_FETCH, 0,
                     kept ? bp__record_get(records, stride, 0, &first) : NULL,
                     kept ? bp__record_get(records, stride, kept - 1, &last) : NULL, kept,
                     status);
    bp__engine_metric(e, s, 0, BP_METRIC_POLLED_EVENT_COUNT, (int64_t)kept);
    if (s->filtered_in_fetch)
      bp__engine_metric(e, s, 0, BP_METRIC_FILTERED_OUT_EVENT_COUNT,
                        (int64_t)s->filtered_in_fetch);
  }
  if (e->depth) return result;
  int rc = run(e, e->now);
  return result ? result : rc;
}

/* ---- The checkpoint (§3.1, §3.2) ---- */

int bp__engine_finish(bp_engine *e, bp__shard *s, const uint64_t *positions, size_t n) {
  if (!n) return 0;
  uint64_t ck;
  int rc = (positions[n - 1] - positions[0] == n - 1)
               ? bp_checkpoint_finish(s->tracker, positions[0], n, &ck)
               : bp_checkpoint_finish_list(s->tracker, positions, n, &ck);
  if (rc < 0) return bp__engine_fail(e, BP_ERR_INTERNAL, bp_checkpoint_errmsg(s->tracker));
  s->unresolved -= n; /* they leave the buffer cap (§8.1) */
  if (rc == 0) return 0;
  bp_record v;
  bp__records_view(s, (uint32_t)(ck % s->cap), &v);
  memcpy(s->live, v.seq, v.seq_len);
  s->live_len = v.seq_len;
  s->live_has = 1;
  bp__records_release(e, s, ck);
  bp__engine_publish_checkpoint(e, s);
  return 1;
}

void bp__engine_publish_checkpoint(bp_engine *e, bp__shard *s) {
  int has = s->live_has;
  const char *seq = s->live;
  size_t len = s->live_len;
  for (uint32_t i = 0; i < s->nlanes && has; i++) {
    const bp__lane *l = &s->lanes[i];
    if (!l->hold) continue;
    if (!l->hold_has) has = 0;
    else if (bp__seq_cmp(l->hold_seq, l->hold_len, seq, len) < 0) {
      seq = l->hold_seq;
      len = l->hold_len;
    }
  }
  if (!has || (s->has_ckpt && len == s->ckpt_len && !memcmp(seq, s->ckpt, len))) return;
  memmove(s->ckpt, seq, len);
  s->ckpt_len = len;
  s->has_ckpt = 1;
  s->ckpt_dirty = 1;
  s->save_due = e->now;
  event_seq(e, s, BP_EVENT_CHECKPOINT, s->ckpt, s->ckpt_len, 0);
}

/* Read to its end and every record resolved, and no lane's open window holds the checkpoint
 * back (§6): the checkpoint is then the shard's last record. */
static int shard_final(const bp__shard *s) {
  if (!s->read_end || bp_checkpoint_outstanding(s->tracker) != 0) return 0;
  for (uint32_t i = 0; i < s->nlanes; i++)
    if (s->lanes[i].hold) return 0;
  return 1;
}

static int shard_save(bp_engine *e, bp__shard *s, int64_t now) {
  memcpy(s->saving, s->ckpt, s->ckpt_len);
  s->saving_len = s->ckpt_len;
  s->ckpt_dirty = 0;
  if (e->t.store_checkpoint) {
    bp_checkpoint_req req;
    memset(&req, 0, sizeof req);
    req.struct_size = sizeof req;
    req.req_id = ++e->next_req;
    req.shard_id = s->id;
    req.seq = s->saving;
    req.seq_len = s->saving_len;
    req.final = shard_final(s);
    s->save_inflight = 1;
    s->save_req = req.req_id;
    e->depth++;
    int rc = e->t.store_checkpoint(e, &req, e->ud);
    e->depth--;
    if (rc == BP_ERR_WOULDBLOCK && s->save_inflight && s->save_req == req.req_id) {
      s->save_inflight = 0;
      s->ckpt_dirty = 1;
      s->save_due = now + e->o.wouldblock_retry_ms;
      return 0;
    }
    if (rc != 0 && rc != BP_ERR_WOULDBLOCK)
      return bp__engine_fail(e, BP_ERR_CALLBACK_FAILURE, "the store_checkpoint callback failed");
    return 1;
  }
  if (e->o.store) {
    char msg[256];
    int rc = bp_store_save(e->o.store, e->o.store_user_data, e->uuid, s->id, s->saving,
                           s->saving_len, msg, sizeof msg);
    if (rc == BP_ERR_CALLBACK_FAILURE) return bp__engine_fail(e, rc, msg);
    if (rc < 0) {
      s->ckpt_dirty = 1;
      s->save_due = now + (rc == BP_ERR_WOULDBLOCK ? e->o.wouldblock_retry_ms
                                                   : e->o.fetch_error_retry_ms);
      event_error(e, s, rc, msg);
      return 0;
    }
  }
  s->m.checkpoints_stored++;
  event_seq(e, s, BP_EVENT_CHECKPOINT_STORED, s->saving, s->saving_len, 0);
  return 1;
}

int bp_engine_complete_checkpoint(bp_engine *e, uint64_t req_id, int64_t now_ms, int status) {
  if (!e) return BP_ERR_INVALID_ARGUMENT;
  if (e->fatal) return e->fatal;
  bp__shard *s = NULL;
  for (size_t i = 0; i < e->nshards && !s; i++)
    if (e->shards[i]->save_inflight && e->shards[i]->save_req == req_id) s = e->shards[i];
  if (!s) return bp__error(&e->err, BP_ERR_UNKNOWN_REQUEST, "no checkpoint save %llu in flight",
                           (unsigned long long)req_id);
  if (!bp__time_in_range(now_ms)) return bp__error(&e->err, BP_ERR_RANGE, "now_ms out of range");
  now_ms = engine_clock(e, now_ms);
  s->save_inflight = 0;
  if (status < 0) {
    s->ckpt_dirty = 1; /* retried with the latest value */
    s->save_due = now_ms + e->o.fetch_error_retry_ms;
    event_error(e, s, status, "checkpoint save failed");
  } else {
    s->m.checkpoints_stored++;
    event_seq(e, s, BP_EVENT_CHECKPOINT_STORED, s->saving, s->saving_len, status);
  }
  return e->depth ? 0 : run(e, e->now);
}

/* ---- Driving ---- */

static int lanes_quiet(const bp__shard *s) {
  for (uint32_t i = 0; i < s->nlanes; i++)
    if (bp__lane_busy(&s->lanes[i])) return 0;
  return 1;
}

static int saves_settled(const bp__shard *s) { return !s->ckpt_dirty && !s->save_inflight; }

/* Read to its end, every record and window resolved, the last checkpoint stored (§8.2). */
static int shard_can_end(const bp__shard *s) {
  return shard_final(s) && lanes_quiet(s) && saves_settled(s) && !s->fetch_inflight;
}

static int shard_step(bp_engine *e, bp__shard *s, int64_t now) {
  int progress = 0, rc;
  if (s->state == BP_SHARD_WAITING) {
    if (e->shutting_down || !shard_try_start(e, s, now)) return 0;
    progress = 1;
  }
  if (s->state == BP_SHARD_ENDED) return 0;
  for (uint32_t i = 0; i < s->nlanes && !e->fatal; i++) {
    rc = bp__lane_step(e, s, &s->lanes[i], now);
    if (rc < 0) return rc;
    progress |= rc;
  }
  if (e->fatal) return e->fatal;
  if (s->ckpt_dirty && !s->save_inflight && now >= s->save_due) {
    rc = shard_save(e, s, now);
    if (rc < 0) return rc;
    progress = 1;
  }
  if (can_fetch(e, s) && now >= s->fetch_due && s->fetch_gen != e->gen) {
    rc = shard_fetch(e, s, now);
    if (rc < 0) return rc;
    progress = 1;
  }
  if (s->state == BP_SHARD_ACTIVE && shard_can_end(s)) {
    s->state = BP_SHARD_ENDED;
    bp__engine_event(e, s, 0, BP_EVENT_SHARD_ENDED, 0, NULL, NULL, 0, 0);
    progress = 1;
  }
  return progress;
}

static int engine_settled(const bp_engine *e) {
  for (size_t i = 0; i < e->nshards; i++) {
    const bp__shard *s = e->shards[i];
    if (s->fetch_inflight || !saves_settled(s)) return 0;
    for (uint32_t j = 0; j < s->nlanes; j++) {
      int st = s->lanes[j].state;
      if (st != LANE_IDLE && st != LANE_READY) return 0;
    }
  }
  return 1;
}

/* §8.1 "Order within one instant": the fetches due are requested before any lane flushes,
 * so records a synchronous host returns at `now` join the batches flushed at `now`. */
static int fetch_due_first(bp_engine *e, int64_t now) {
  int progress = 0;
  for (size_t i = 0; i < e->nshards && !e->fatal; i++) {
    bp__shard *s = e->shards[i];
    if (can_fetch(e, s) && now >= s->fetch_due && s->fetch_gen != e->gen) {
      int rc = shard_fetch(e, s, now);
      if (rc < 0) return rc;
      progress = 1;
    }
  }
  return progress;
}

static int run(bp_engine *e, int64_t now) {
  int progress;
  e->gen++; /* each shard fetches, and each lane retries, at most once per run */
  do {
    progress = fetch_due_first(e, now);
    if (e->fatal) return e->fatal;
    if (progress < 0) return progress;
    for (size_t i = 0; i < e->nshards; i++) {
      int rc = shard_step(e, e->shards[i], now);
      if (e->fatal) return e->fatal;
      if (rc < 0) return rc; /* NOMEM: nothing lost, tick again */
      progress |= rc;
    }
  } while (progress);
  if (e->shutting_down && !e->drained && engine_settled(e)) {
    e->drained = 1;
    if (!e->drained_reported) {
      e->drained_reported = 1;
      bp__engine_event(e, NULL, 0, BP_EVENT_DRAINED, 0, NULL, NULL, 0, 0);
    }
  }
  return e->fatal;
}

int bp_engine_tick(bp_engine *e, int64_t now_ms) {
  int rc = enter(e, now_ms);
  if (rc) return rc;
  return run(e, now_ms);
}

int64_t bp_engine_next_deadline(const bp_engine *e) {
  if (!e || e->fatal || e->drained) return BP_NO_DEADLINE;
  int64_t d = BP_NO_DEADLINE;
  for (size_t i = 0; i < e->nshards; i++) {
    const bp__shard *s = e->shards[i];
    if (s->state == BP_SHARD_WAITING || s->state == BP_SHARD_ENDED) continue;
    for (uint32_t j = 0; j < s->nlanes; j++) {
      int64_t ld = bp__lane_deadline(e, s, &s->lanes[j]);
      if (ld < d) d = ld;
    }
    if (s->ckpt_dirty && !s->save_inflight && s->save_due < d) d = s->save_due;
    if (can_fetch(e, s) && s->fetch_due < d) d = s->fetch_due;
    if (shard_can_end(s)) d = e->now;
  }
  /* a shard waiting for a parent that has just ended */
  for (size_t i = 0; i < e->nshards && d > e->now; i++) {
    const bp__shard *s = e->shards[i];
    int consumed = 0;
    if (s->state == BP_SHARD_WAITING && !e->shutting_down && parents_ended(e, s, &consumed))
      d = e->now;
  }
  return d;
}

int bp_engine_set_enabled(bp_engine *e, int64_t now_ms, int enabled) {
  int rc = enter(e, now_ms);
  if (rc) return rc;
  e->enabled = enabled ? 1 : 0;
  return run(e, now_ms);
}

int bp_engine_shutdown(bp_engine *e, int64_t now_ms) {
  int rc = enter(e, now_ms);
  if (rc) return rc;
  e->shutting_down = 1;
  return run(e, now_ms);
}

int bp_engine_drained(const bp_engine *e) { return e && e->drained; }

/* ---- Invoke and delivery completions ---- */

static bp__lane *find_lane(bp_engine *e, uint64_t req_id, int state, bp__shard **sout) {
  for (size_t i = 0; i < e->nshards; i++) {
    bp__shard *s = e->shards[i];
    for (uint32_t j = 0; j < s->nlanes; j++)
      if (s->lanes[j].state == state && s->lanes[j].req_id == req_id) {
        *sout = s;
        return &s->lanes[j];
      }
  }
  return NULL;
}

static int copy_field(bp_engine *e, char *dst, size_t cap, const char *src, size_t len,
                      const char *name) {
  if (!src) {
    dst[0] = 0;
    return 0;
  }
  if (len >= cap || !bp__utf8_valid(src, len) || memchr(src, 0, len))
    return bp__error(&e->err, BP_ERR_INVALID_ARGUMENT,
                     "%s must be valid UTF-8 of at most %zu bytes", name, cap - 1);
  memcpy(dst, src, len);
  dst[len] = 0;
  return 0;
}

int bp_engine_complete_invoke(bp_engine *e, uint64_t req_id, int64_t now_ms,
                              const bp_invoke_result *host_result) {
  if (!e) return BP_ERR_INVALID_ARGUMENT;
  bp_invoke_result result;
  const bp_invoke_result *r = host_result ? &result : NULL;
  if (e->fatal) return e->fatal;
  bp__shard *s;
  bp__lane *l = find_lane(e, req_id, LANE_INVOKING, &s);
  if (!l) return bp__error(&e->err, BP_ERR_UNKNOWN_REQUEST, "no invocation %llu in flight",
                           (unsigned long long)req_id);
  if (!r) return bp__error(&e->err, BP_ERR_INVALID_ARGUMENT, "result is NULL");
  if (bp__struct_in(&result, sizeof result, INVOKE_RESULT_SIZE_V1, host_result, "bp_invoke_result",
                    e->err.text, sizeof e->err.text))
    return BP_ERR_INVALID_ARGUMENT;
  if (!bp__time_in_range(now_ms)) return bp__error(&e->err, BP_ERR_RANGE, "now_ms out of range");
  if (r->kind < BP_INVOKE_RESULT_RETURNED || r->kind > BP_INVOKE_RESULT_CLASSIFIED)
    return bp__error(&e->err, BP_ERR_INVALID_ARGUMENT, "unknown result kind %d", (int)r->kind);
#if !BP_WITH_CODEC
  if (r->kind == BP_INVOKE_RESULT_RETURNED)
    return bp__error(&e->err, BP_ERR_INVALID_ARGUMENT,
                     "a core-only build cannot classify a response: use "
                     "BP_INVOKE_RESULT_CLASSIFIED");
#endif
  if (r->kind == BP_INVOKE_RESULT_CLASSIFIED && e->tumbling_ms &&
      (l->in_final || r->outcome == BP_ATTEMPT_SUCCESS || r->outcome == BP_ATTEMPT_PARTIAL))
    return bp__error(&e->err, BP_ERR_INVALID_ARGUMENT,
                     "with tumbling windows a returned response must be passed as "
                     "BP_INVOKE_RESULT_RETURNED: its `state` is read from the body");
  if (r->kind == BP_INVOKE_RESULT_CLASSIFIED) {
    uint64_t first;
    size_t n = 0; /* set: the lane's bisect is active (a one-file build cannot see it) */
    bp_bisect_current(l->bisect, &first, &n, NULL, NULL);
    if (r->outcome < BP_ATTEMPT_SUCCESS || r->outcome > BP_ATTEMPT_NOT_REACHED)
      return bp__error(&e->err, BP_ERR_INVALID_ARGUMENT, "unknown outcome %d", (int)r->outcome);
    if (r->outcome == BP_ATTEMPT_PARTIAL &&
        (!e->policy.report_batch_item_failures || r->failed_index >= n || r->failed_count == 0 ||
         r->failed_count > n - r->failed_index))
      return bp__error(&e->err, BP_ERR_INVALID_ARGUMENT,
                       "a PARTIAL outcome needs ReportBatchItemFailures, failed_index below the "
                       "batch size (%zu) and failed_count 1 .. %zu", n, n - r->failed_index);
  }
  if (r->body_len && !r->body)
    return bp__error(&e->err, BP_ERR_INVALID_ARGUMENT, "body is NULL with body_len > 0");
  if (r->body && !bp__span_ok(r->body, r->body_len))
    return bp__error(&e->err, BP_ERR_INVALID_ARGUMENT, "body_len %zu is larger than any object",
                     r->body_len);
  char rid[129], fe[65], ver[65];
  int rc;
  if ((rc = copy_field(e, rid, sizeof rid, r->request_id, r->request_id_len, "request_id")) ||
      (rc = copy_field(e, fe, sizeof fe, r->function_error, r->function_error_len,
                       "function_error")) ||
      (rc = copy_field(e, ver, sizeof ver, r->executed_version, r->executed_version_len,
                       "executed_version")))
    return rc;
  l->body.len = 0;
  if (r->kind == BP_INVOKE_RESULT_RETURNED && r->body_len &&
      bp__buf_append(&l->body, r->body, r->body_len))
    return bp__error(&e->err, BP_ERR_NOMEM, "out of memory copying the response");
  now_ms = engine_clock(e, now_ms);
  memcpy(l->res_request_id, rid, sizeof rid);
  memcpy(l->res_function_error, fe, sizeof fe);
  memcpy(l->res_version, ver, sizeof ver);
  l->res_kind = r->kind;
  l->res_outcome = r->outcome;
  l->res_failed_index = r->failed_index;
  l->res_failed_count = r->failed_count;
  l->done_ms = now_ms;
  l->state = LANE_COMPLETED;
  return e->depth ? 0 : run(e, e->now);
}

int bp_engine_complete_delivery(bp_engine *e, uint64_t req_id, int64_t now_ms, int status) {
  if (!e) return BP_ERR_INVALID_ARGUMENT;
  if (e->fatal) return e->fatal;
  bp__shard *s;
  bp__lane *l = find_lane(e, req_id, LANE_DELIVERING, &s);
  if (!l) return bp__error(&e->err, BP_ERR_UNKNOWN_REQUEST, "no delivery %llu in flight",
                           (unsigned long long)req_id);
  if (!bp__time_in_range(now_ms)) return bp__error(&e->err, BP_ERR_RANGE, "now_ms out of range");
  now_ms = engine_clock(e, now_ms);
  l->delivery_status = status < 0 ? -1 : 0;
  l->state = LANE_DELIVERED;
  bp__engine_event(e, s, l->index, BP_EVENT_DELIVERY, 0, NULL, NULL, l->discard.discard_count,
                   status);
  return e->depth ? 0 : run(e, e->now);
}

/* ---- Queries ---- */

static void add_metrics(bp_engine_metrics *t, const bp__shard *s) {
  t->polled_event_count += s->m.polled_event_count;
  t->filtered_out_event_count += s->m.filtered_out_event_count;
  t->invoked_event_count += s->m.invoked_event_count;
  t->failed_invoke_event_count += s->m.failed_invoke_event_count;
  t->dropped_event_count += s->m.dropped_event_count;
  t->on_failure_destination_delivered_event_count +=
      s->m.on_failure_destination_delivered_event_count;
  t->destination_delivery_failures += s->m.destination_delivery_failures;
  t->invocations += s->m.invocations;
  t->throttled_attempts += s->m.throttled_attempts;
  t->fetches += s->m.fetches;
  t->checkpoints_stored += s->m.checkpoints_stored;
  if (s->m.iterator_age_ms >= 0) t->iterator_age_ms = s->m.iterator_age_ms;
  t->buffered_records += bp_checkpoint_outstanding(s->tracker);
  t->buffered_bytes += s->bytes_in_use;
}

int bp_engine_get_metrics(const bp_engine *e, const char *shard_id, bp_engine_metrics *out) {
  if (!e || !out || bp__struct_check(out, ENGINE_METRICS_SIZE_V1, "bp_engine_metrics", NULL, 0))
    return BP_ERR_INVALID_ARGUMENT;
  bp_engine_metrics m;
  bp_engine_metrics_init(&m, sizeof m);
  m.iterator_age_ms = -1;
  if (shard_id) {
    const bp__shard *s = find_shard(e, shard_id);
    if (!s) return BP_ERR_INVALID_ARGUMENT;
    add_metrics(&m, s);
  } else {
    for (size_t i = 0; i < e->nshards; i++) add_metrics(&m, e->shards[i]);
  }
  return bp__struct_out(out, &m, sizeof m, ENGINE_METRICS_SIZE_V1, "bp_engine_metrics", NULL, 0);
}

int bp_engine_get_checkpoint(const bp_engine *e, const char *shard_id, char *buf, size_t cap,
                             size_t *len) {
  if (!e || !buf || !len) return BP_ERR_INVALID_ARGUMENT;
  const bp__shard *s = find_shard(e, shard_id);
  if (!s) return BP_ERR_INVALID_ARGUMENT;
  if (cap) buf[0] = 0;
  *len = 0;
  if (!s->has_ckpt) return BP_STORE_NOT_FOUND;
  if (cap <= s->ckpt_len) return BP_ERR_BUFFER_TOO_SMALL;
  memcpy(buf, s->ckpt, s->ckpt_len);
  buf[s->ckpt_len] = 0;
  *len = s->ckpt_len;
  return 0;
}

int bp_engine_get_shard_state(const bp_engine *e, const char *shard_id) {
  if (!e) return BP_ERR_INVALID_ARGUMENT;
  const bp__shard *s = find_shard(e, shard_id);
  if (!s) return BP_ERR_INVALID_ARGUMENT;
  if (s->state == BP_SHARD_ACTIVE && s->read_end) return BP_SHARD_ENDING;
  return s->state;
}

int bp_engine_idle(const bp_engine *e) {
  if (!e) return 0;
  for (size_t i = 0; i < e->nshards; i++) {
    const bp__shard *s = e->shards[i];
    if (s->fetch_inflight || !saves_settled(s) || !lanes_quiet(s)) return 0;
  }
  return 1;
}
