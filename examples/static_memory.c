/* SPDX-License-Identifier: MIT */
/*
 * Firmware profile: the engine and its configuration living in a static buffer through the
 * arena allocator, with no malloc at all (also in the core-only build, `make CORE_ONLY=1`,
 * where the host classifies each response itself: BP_INVOKE_RESULT_CLASSIFIED). Consumes one
 * shard of eight records, one of them reported as a failed item once, and prints the arena's
 * high-water mark.
 *
 * How "no malloc" is asserted: the Makefile links this program with
 * `-DWRAP_MALLOC -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free`. The linker
 * then sends every call to those functions from this file and from libbatchpoint.a (the
 * only path from the library to the C library's allocator is lib/bp_mem.c) to the
 * __wrap_ functions below, which count and forward. Calls made inside the C library itself
 * (stdio's buffers) are not redirected, so printing stays harmless. A first malloc before
 * the run proves the wrapping is in effect, so the check cannot pass by not being linked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <batchpoint.h>
#include <batchpoint/bp_engine.h>

#define STREAM_ARN "arn:aws:kinesis:eu-west-1:111111111111:stream/sensors"
#define FUNCTION_NAME "sensor-sink"
#define SHARD "shardId-000000000000"
#define NREC 8
#define FLAKY 5 /* the record reported as failed once */

#ifdef WRAP_MALLOC
static unsigned long malloc_calls;
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);
void *__wrap_malloc(size_t n) { return malloc_calls++, __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t size) { return malloc_calls++, __real_calloc(n, size); }
void *__wrap_realloc(void *p, size_t n) { return malloc_calls++, __real_realloc(p, n); }
void __wrap_free(void *p) { __real_free(p); }
#endif

static _Alignas(max_align_t) unsigned char heap[32 * 1024];

typedef struct host {
  char seq[NREC][24];
  bp_record recs[NREC];
  size_t next;
  int flaky_failed;
  int64_t now;
} host;

/* Reads go on from the start or where the last one ended (TRIM_HORIZON, no restart here). */
static int on_fetch(bp_engine *e, const bp_fetch_req *q, void *ud) {
  host *h = ud;
  size_t from = q->from == BP_POSITION_CONTINUE ? h->next : 0;
  size_t n = NREC - from < q->max_records ? NREC - from : q->max_records;
  h->next = from + n;
  return bp_engine_complete_fetch(e, q->req_id, h->now, 0, h->recs + from, n, 0)
             ? BP_ERR_CALLBACK_FAILURE
             : 0;
}

/* The function ran; the host classifies its answer, as a core-only engine cannot parse
 * it: a success, or a partial failure at the batch index of the first failed record. */
static int on_invoke(bp_engine *e, const bp_invoke_req *q, void *ud) {
  host *h = ud;
  bp_invoke_result res;
  bp_invoke_result_init(&res, sizeof res);
  res.kind = BP_INVOKE_RESULT_CLASSIFIED;
  res.outcome = BP_ATTEMPT_SUCCESS;
  for (size_t i = 0; i < q->count; i++) {
    /* the engine's copy: compare the digits */
    const bp_record *r = BP_RECORD_AT(q->records, q->record_stride, i);
    if (!h->flaky_failed && r->seq_len == strlen(h->seq[FLAKY]) &&
        !memcmp(r->seq, h->seq[FLAKY], r->seq_len)) {
      h->flaky_failed = 1;
      res.outcome = BP_ATTEMPT_PARTIAL;
      res.failed_index = (uint32_t)i;
      res.failed_count = 1;
    }
  }
  const bp_record *first = BP_RECORD_AT(q->records, q->record_stride, 0);
  printf("invoke %zu records from %.*s: %s\n", q->count, (int)first->seq_len, first->seq,
         res.outcome == BP_ATTEMPT_SUCCESS ? "success" : "one item failed");
  return bp_engine_complete_invoke(e, q->req_id, h->now, &res) ? BP_ERR_CALLBACK_FAILURE : 0;
}

/* The whole life of an engine inside the arena. 0 when the shard was consumed. */
static int run(host *h, const bp_allocator *alloc) {
  bp_config *cfg = NULL;
  if (bp_config_new(&cfg, alloc) ||
      bp_config_set_event_source_arn(cfg, STREAM_ARN, strlen(STREAM_ARN)) ||
      bp_config_set_function_name(cfg, FUNCTION_NAME, strlen(FUNCTION_NAME)) ||
      bp_config_set_starting_position(cfg, BP_POSITION_TRIM_HORIZON) ||
      bp_config_set_batch_size(cfg, 3) || bp_config_set_report_batch_item_failures(cfg, 1)) {
    fprintf(stderr, "static_memory: config: %s\n", bp_config_errmsg(cfg));
    bp_config_del(cfg);
    return 1;
  }
  bp_engine_opts opts;
  bp_engine_opts_init(&opts, sizeof opts);
  opts.invoke_identity_arn = "arn:aws:iam::111111111111:role/sensor-sink"; /* full build */
  opts.mapping_uuid = "5b0d6a3c-9e1f-4a7b-8c2d-3e4f5a6b7c8d";
  opts.max_buffered_records = 8;     /* small, fixed bounds: the arena must hold them */
  opts.max_buffered_bytes = 4096;
  bp_transport tr;
  memset(&tr, 0, sizeof tr);
  tr.fetch = on_fetch;
  tr.invoke = on_invoke;
  bp_engine *e = NULL;
  char err[128], ckpt[BP_STORE_SEQ_CAP] = "";
  int rc = bp_engine_new(&e, cfg, &opts, &tr, h, alloc, err, sizeof err);
  bp_config_del(cfg);
  if (rc) {
    fprintf(stderr, "static_memory: engine: %s: %s\n", bp_err_name(rc), err);
    return 1;
  }
  rc = bp_engine_add_shard(e, SHARD, NULL, NULL, NULL, 0);
  for (int i = 0; i < 100 && !rc; i++) {
    if ((rc = bp_engine_tick(e, h->now)) || (bp_engine_idle(e) && h->next == NREC)) break;
    int64_t next = bp_engine_next_deadline(e);
    if (next > h->now) h->now = next; /* simulated clock: jump to the next deadline */
  }
  size_t len;
  if (rc || (rc = bp_engine_get_checkpoint(e, SHARD, ckpt, sizeof ckpt, &len)))
    fprintf(stderr, "static_memory: %s: %s\n", bp_err_name(rc), bp_engine_errmsg(e));
  printf("final checkpoint %s\n", ckpt);
  bp_engine_del(e);
  return rc || !h->flaky_failed || strcmp(ckpt, h->seq[NREC - 1]);
}

int main(void) {
#ifdef WRAP_MALLOC
  void *volatile probe = malloc(1); /* counted: proves the wrapping is linked in */
  free(probe);
  if (malloc_calls != 1) return fprintf(stderr, "static_memory: malloc is not wrapped\n"), 1;
  malloc_calls = 0;
#endif
  printf("batchpoint %s, codec %s\n", bp_version_string(),
         bp_feature_enabled("CODEC") ? "built in" : "left out (core only)");
  bp_arena *arena;
  bp_allocator alloc;
  int rc = bp_arena_init(&arena, heap, sizeof heap, &alloc);
  if (rc) return fprintf(stderr, "static_memory: arena: %s\n", bp_strerror(rc)), 1;

  host h;
  memset(&h, 0, sizeof h);
  h.now = 1573691884835;
  for (int i = 0; i < NREC; i++) {
    snprintf(h.seq[i], sizeof h.seq[i], "%d", 1000 + 7 * i);
    bp_record *r = &h.recs[i];
    bp_record_init(r, sizeof *r);
    r->seq = h.seq[i];
    r->seq_len = strlen(h.seq[i]);
    r->arrival_ms = h.now - 500;
    r->partition_key = "sensor-42";
    r->partition_key_len = strlen(r->partition_key);
    r->data = (const uint8_t *)"21.5C";
    r->data_len = 5;
  }
  rc = run(&h, &alloc);

  size_t used, high_water, capacity, failures;
  bp_arena_stats(arena, &used, &high_water, &capacity, &failures);
  printf("arena: %zu of %zu bytes in use after the engine was deleted, high-water %zu, "
         "%zu failed requests\n", used, capacity, high_water, failures);
#ifdef WRAP_MALLOC
  printf("malloc, calloc, realloc called %lu times\n", malloc_calls);
  if (malloc_calls) rc = 1;
#else
  printf("malloc calls not counted (build with -DWRAP_MALLOC and the --wrap link flags)\n");
#endif
  return rc || used ? 1 : 0;
}
