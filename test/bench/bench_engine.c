/* SPDX-License-Identifier: MIT */
/*
 * Engine throughput with a no-op function: records per second through the whole engine
 * (fetch, lanes, batch cut, event encoding, invocation, commit, checkpoint) with a
 * synchronous host that completes every fetch and invocation inside the callback (an empty
 * response body: success). One shard of 100-byte records with distinct partition keys, for
 * BatchSize 100 and 10,000 x ParallelizationFactor 1 and 10:
 *   work=engine-noop-bs<BatchSize>-pf<ParallelizationFactor>  n=<records per pass>
 * ms is the median of BENCH_RUNS passes (default 9) after one warm-up pass; each pass feeds
 * n new records (BENCH_ENGINE_N or --n=, default 100,000) to the same engine, prepared
 * untimed. Extra fields: allocs_per_record (allocator calls per record over the timed
 * passes: the steady state; the target is 0), peak_bytes (the most memory the engine held
 * at once, through its allocator hooks), maxrss_kb (the process so far), invocations per
 * pass, encode_ms and encode_share: the share of the time that is event encoding, measured
 * apart (the engine's callbacks are not timed one by one): one more pass records which
 * records each invocation carried, then bp_codec_encode_event() (which validates, measures
 * and writes, as the engine does between intake and invocation) encodes those same batches,
 * BENCH_RUNS times, untimed setup aside; encode_ms is that median, encode_share
 * encode_ms / ms. The events must have the engine's sizes (checked: exit status 1 if not).
 * Nothing about time is asserted; the exit status is 1 if a record is lost or invoked twice
 * (there are no failures here, so each must be invoked exactly once).
 * --only=bs<BatchSize>-pf<ParallelizationFactor> runs that configuration alone (profiling).
 */
#include <sys/resource.h>

#include "batchpoint.h"
#include "batchpoint/bp_engine.h"
#include "bench_util.h"

#define SEQ_LEN 56
#define SEQ_STRIDE 64
#define PASS_AT 46 /* the pass number: 3 digits, then the record index: 7 digits */
#define INDEX_AT 49
#define DATA_SIZE 100
#define FETCH_MAX 10000 /* Kinesis GetRecords returns at most 10,000 records */

/* ---- an allocator that counts calls and live bytes ---- */

typedef union hdr {
  max_align_t align;
  size_t size;
} hdr;

typedef struct counter {
  size_t calls, live, peak;
} counter;

static void *ca_malloc(size_t n, void *ud) {
  counter *c = ud;
  c->calls++;
  hdr *h = malloc(sizeof *h + n);
  if (!h) return NULL;
  h->size = n;
  c->live += n;
  if (c->live > c->peak) c->peak = c->live;
  return h + 1;
}

static void ca_free(void *p, void *ud) {
  if (!p) return;
  hdr *h = (hdr *)p - 1;
  ((counter *)ud)->live -= h->size;
  free(h);
}

static void *ca_realloc(void *p, size_t n, void *ud) {
  counter *c = ud;
  if (!p) return ca_malloc(n, ud);
  c->calls++;
  hdr *h = (hdr *)p - 1;
  size_t old = h->size;
  hdr *g = realloc(h, sizeof *g + n);
  if (!g) return NULL;
  g->size = n;
  c->live = c->live - old + n;
  if (c->live > c->peak) c->peak = c->live;
  return g + 1;
}

/* ---- the host ---- */

typedef struct host {
  bp_record *recs; /* this pass's records, in shard order */
  char *seqs;      /* SEQ_STRIDE bytes each */
  size_t n;
  size_t next;     /* fetch cursor: the first record not yet handed over */
  size_t empty_polls; /* fetches that found nothing new, this pass */
  unsigned pass;
  uint8_t *seen;   /* invocations per record in this pass */
  size_t distinct, extra, foreign;
  uint64_t invocations;
  int64_t now;
  int failed;
  bp_invoke_result ok;
  /* the recording pass (encode_share): record indices in invocation order, batch ends */
  int recording;
  size_t *order, norder;
  size_t *ends, nbatches;
  uint64_t payload_bytes;
} host;

static void set_pass(host *h, unsigned pass) {
  char digits[4];
  snprintf(digits, sizeof digits, "%03u", pass % 1000);
  for (size_t i = 0; i < h->n; i++) memcpy(h->seqs + i * SEQ_STRIDE + PASS_AT, digits, 3);
  memset(h->seen, 0, h->n);
  h->pass = pass;
  h->next = 0;
  h->distinct = h->extra = h->foreign = h->empty_polls = 0;
  h->invocations = 0;
}

/* First record of the pass with a sequence number above @p seq. */
static size_t after(const host *h, const char *seq, size_t len) {
  if (h->next && len == SEQ_LEN && !memcmp(seq, h->recs[h->next - 1].seq, SEQ_LEN))
    return h->next; /* the usual case: right after the last record handed over */
  size_t lo = 0, hi = h->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int cmp = 0;
    bp_seqnum_compare(h->recs[mid].seq, SEQ_LEN, seq, len, &cmp);
    if (cmp > 0) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

static int on_fetch(bp_engine *e, const bp_fetch_req *q, void *ud) {
  host *h = ud;
  size_t from;
  switch (q->from) {
  case BP_POSITION_TRIM_HORIZON:
    from = 0;
    break;
  case BP_POSITION_AFTER_SEQUENCE_NUMBER:
    from = after(h, q->after_seq, q->after_seq_len);
    break;
  case BP_POSITION_CONTINUE:
    from = h->next;
    break;
  default:
    h->failed = 1;
    return BP_ERR_CALLBACK_FAILURE;
  }
  size_t k = h->n - from;
  if (k > q->max_records) k = q->max_records;
  if (k > FETCH_MAX) k = FETCH_MAX;
  h->next = from + k;
  if (!k) h->empty_polls++;
  if (bp_engine_complete_fetch(e, q->req_id, h->now, 0, h->recs + from, k, 0)) h->failed = 1;
  return 0;
}

static int on_invoke(bp_engine *e, const bp_invoke_req *q, void *ud) {
  host *h = ud;
  h->invocations++;
  for (size_t i = 0; i < q->count; i++) {
    const bp_record *ri = BP_RECORD_AT(q->records, q->record_stride, i);
    const char *s = ri->seq;
    if (ri->seq_len != SEQ_LEN || memcmp(s + PASS_AT, h->recs[0].seq + PASS_AT, 3)) {
      h->foreign++; /* a record of an earlier pass, invoked again */
      continue;
    }
    size_t idx = 0;
    for (int k = INDEX_AT; k < SEQ_LEN; k++) idx = idx * 10 + (size_t)(s[k] - '0');
    if (idx >= h->n) h->foreign++;
    else if (h->seen[idx]++) h->extra++;
    else h->distinct++;
    if (h->recording && idx < h->n && h->norder < h->n) h->order[h->norder++] = idx;
  }
  if (h->recording && h->nbatches < h->n) {
    h->ends[h->nbatches++] = h->norder;
    h->payload_bytes += q->payload_len;
  }
  if (bp_engine_complete_invoke(e, q->req_id, h->now, &h->ok)) h->failed = 1;
  return 0;
}

static int on_deliver(bp_engine *e, const bp_delivery_req *q, void *ud) {
  host *h = ud; /* nothing fails, so nothing is discarded */
  h->failed = 1;
  bp_engine_complete_delivery(e, q->req_id, h->now, 0);
  return 0;
}

/* Feed one pass and drive the engine until every record has been invoked and it is idle,
 * or until it is idle with every record handed over and polling an empty shard (a loss). */
static int drive(host *h, bp_engine *e) {
  for (unsigned long iter = 0; !h->failed; iter++) {
    int rc = bp_engine_tick(e, h->now);
    if (rc) {
      fprintf(stderr, "bench_engine: tick: %s: %s\n", bp_err_name(rc), bp_engine_errmsg(e));
      return -1;
    }
    if (bp_engine_idle(e) && (h->distinct == h->n || (h->next == h->n && h->empty_polls)))
      return 0;
    int64_t next = bp_engine_next_deadline(e);
    if (next == BP_NO_DEADLINE || iter > 100000000ul) {
      fprintf(stderr, "bench_engine: the engine stopped with %zu of %zu records invoked\n",
              h->distinct, h->n);
      return -1;
    }
    if (next > h->now) h->now = next;
  }
  fprintf(stderr, "bench_engine: a callback failed: %s\n", bp_engine_errmsg(e));
  return -1;
}

/* The recorded batches (the last pass's records, in invocation order) encoded by a codec of
 * the engine's options, @p runs times: the median in @p ms. */
static int encode_alone(host *h, int runs, double *ms) {
  if (h->norder != h->n) {
    fprintf(stderr, "bench_engine: the recording pass saw %zu of %zu records\n", h->norder,
            h->n);
    return -1;
  }
  bp_record *flat = malloc(h->n * sizeof *flat);
  bp_codec_opts o;
  bp_codec_opts_init(&o, sizeof o);
  o.source = BP_SOURCE_KINESIS;
  o.event_source_arn = BENCH_STREAM;
  o.invoke_identity_arn = BENCH_ROLE;
  bp_codec *c = NULL;
  if (!flat || bp_codec_new(&c, &o, NULL)) {
    free(flat);
    return -1;
  }
  for (size_t i = 0; i < h->n; i++) flat[i] = h->recs[h->order[i]];
  double t[64];
  int rc = 0;
  for (int r = 0; r < runs && !rc; r++) {
    uint64_t bytes = 0;
    double start = bench_now_ms();
    for (size_t b = 0, from = 0; b < h->nbatches && !rc; from = h->ends[b++]) {
      const char *ev;
      size_t len;
      rc = bp_codec_encode_event(c, BENCH_SHARD, flat + from, h->ends[b] - from, NULL, &ev, &len);
      bytes += len;
    }
    t[r] = bench_now_ms() - start;
    if (!rc && bytes != h->payload_bytes) {
      fprintf(stderr, "bench_engine: encoded %llu bytes alone, %llu in the engine\n",
              (unsigned long long)bytes, (unsigned long long)h->payload_bytes);
      rc = -1;
    }
  }
  if (rc > 0) fprintf(stderr, "bench_engine: encode: %s\n", bp_codec_errmsg(c));
  bp_codec_del(c);
  free(flat);
  if (rc) return -1;
  qsort(t, (size_t)runs, sizeof t[0], bench_cmp_double);
  *ms = t[runs / 2];
  return 0;
}

static int run_config(host *h, uint32_t batch_size, int factor, int runs) {
  counter c = {0, 0, 0};
  bp_allocator hooks = {ca_malloc, ca_realloc, ca_free, &c};
  bp_config *cfg = NULL;
  int rc = bp_config_new(&cfg, NULL);
  if (!rc) rc = bp_config_set_event_source_arn(cfg, BENCH_STREAM, strlen(BENCH_STREAM));
  if (!rc) rc = bp_config_set_function_name(cfg, "bench-noop", strlen("bench-noop"));
  if (!rc) rc = bp_config_set_starting_position(cfg, BP_POSITION_TRIM_HORIZON);
  if (!rc) rc = bp_config_set_batch_size(cfg, batch_size);
  if (!rc) rc = bp_config_set_parallelization_factor(cfg, factor);
  bp_engine_opts opts;
  bp_engine_opts_init(&opts, sizeof opts);
  opts.invoke_identity_arn = BENCH_ROLE;
  opts.mapping_uuid = "00000000-0000-4000-8000-000000000001";
  bp_transport tr = {on_fetch, on_invoke, on_deliver, NULL, NULL};
  bp_engine *e = NULL;
  char err[256] = "";
  if (!rc) rc = bp_engine_new(&e, cfg, &opts, &tr, h, &hooks, err, sizeof err);
  bp_config_del(cfg);
  if (!rc) rc = bp_engine_add_shard(e, BENCH_SHARD, NULL, NULL, NULL, 0);
  if (rc) {
    fprintf(stderr, "bench_engine: setup: %s: %s%s\n", bp_err_name(rc), err,
                e ? bp_engine_errmsg(e) : "");
    bp_engine_del(e);
    return -1;
  }
  h->failed = 0;
  double t[64];
  size_t calls = 0;
  uint64_t invocations = 0;
  for (int pass = 0; pass <= runs && !rc; pass++) {
    set_pass(h, (unsigned)pass + 1); /* untimed: the next n sequence numbers */
    size_t before = c.calls;
    double start = bench_now_ms();
    rc = drive(h, e);
    double ms = bench_now_ms() - start;
    if (!rc && (h->distinct != h->n || h->extra || h->foreign)) {
      fprintf(stderr,
              "bench_engine: bs%u pf%d pass %d: %zu of %zu records invoked, %zu twice, %zu "
              "from an earlier pass\n",
              batch_size, factor, pass, h->distinct, h->n, h->extra, h->foreign);
      rc = -1;
    }
    if (pass) { /* pass 0 warms the engine up: its storage reaches its size */
      t[pass - 1] = ms;
      calls += c.calls - before;
      invocations = h->invocations;
    }
  }
  double enc_ms = 0;
  if (!rc) { /* the recording pass, then the same batches through the encoder alone */
    set_pass(h, (unsigned)runs + 2);
    h->recording = 1;
    h->norder = h->nbatches = 0;
    h->payload_bytes = 0;
    rc = drive(h, e);
    h->recording = 0;
    if (!rc && encode_alone(h, runs, &enc_ms)) rc = -1;
  }
  bp_engine_del(e);
  if (rc) return -1;
  if (c.live) {
    fprintf(stderr, "bench_engine: %zu bytes still allocated after bp_engine_del\n", c.live);
    return -1;
  }
  qsort(t, (size_t)runs, sizeof t[0], bench_cmp_double);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  char work[64], extra[256];
  snprintf(work, sizeof work, "engine-noop-bs%u-pf%d", batch_size, factor);
  snprintf(extra, sizeof extra,
           "invocations=%llu allocs_per_record=%.4f peak_bytes=%zu maxrss_kb=%ld "
           "encode_ms=%.3f encode_share=%.2f",
           (unsigned long long)invocations, (double)calls / (double)h->n / runs, c.peak,
           (long)ru.ru_maxrss, enc_ms, enc_ms / t[runs / 2]);
  bench_line("batchpoint", work, h->n, h->n * DATA_SIZE, t[runs / 2], extra);
  return 0;
}

int main(int argc, char **argv) {
  size_t n = (size_t)bench_env("BENCH_ENGINE_N", 100000);
  const char *only = NULL; /* --only=bs100-pf10: that configuration alone (profiling) */
  for (int i = 1; i < argc; i++) {
    if (!strncmp(argv[i], "--n=", 4)) n = (size_t)atol(argv[i] + 4);
    if (!strncmp(argv[i], "--only=", 7)) only = argv[i] + 7;
  }
  int runs = bench_env("BENCH_RUNS", 9);
  if (runs > 64) runs = 64;
  if (n < 1 || n > 9999999) {
    fprintf(stderr, "bench_engine: n must be 1 .. 9,999,999\n");
    return 2;
  }
  /* The records, untimed: seq = 46 fixed digits + pass (3) + index (7); pk-<i>; 100 bytes. */
  host h;
  memset(&h, 0, sizeof h);
  h.n = n;
  h.recs = calloc(n, sizeof *h.recs);
  h.seqs = malloc(n * SEQ_STRIDE);
  char (*pks)[16] = malloc(n * sizeof *pks);
  uint8_t *data = malloc(n * DATA_SIZE);
  h.seen = malloc(n);
  h.order = malloc(n * sizeof *h.order);
  h.ends = malloc(n * sizeof *h.ends);
  if (!h.recs || !h.seqs || !pks || !data || !h.seen || !h.order || !h.ends) return 1;
  const char *base = "4959033827149025660855969253836157109592157598";
  bench_rng rng = {0x9E3779B9u};
  for (size_t i = 0; i < n * DATA_SIZE; i++) data[i] = (uint8_t)bench_next(&rng);
  for (size_t i = 0; i < n; i++) {
    char *s = h.seqs + i * SEQ_STRIDE;
    snprintf(s, SEQ_STRIDE, "%.46s000%07zu", base, i);
    snprintf(pks[i], sizeof pks[i], "pk-%zu", i);
    bp_record *r = &h.recs[i];
    bp_record_init(r, sizeof *r);
    r->seq = s;
    r->seq_len = SEQ_LEN;
    r->arrival_ms = bench_arrival(i);
    r->partition_key = pks[i];
    r->partition_key_len = strlen(pks[i]);
    r->data = data + i * DATA_SIZE;
    r->data_len = DATA_SIZE;
  }
  bp_invoke_result_init(&h.ok, sizeof h.ok);
  h.now = bench_arrival(n) + 1000;

  static const uint32_t sizes[] = {100, 10000};
  static const int factors[] = {1, 10};
  int rc = 0;
  for (size_t b = 0; b < 2 && !rc; b++)
    for (size_t f = 0; f < 2 && !rc; f++) {
      char name[32];
      snprintf(name, sizeof name, "bs%u-pf%d", sizes[b], factors[f]);
      if (!only || !strcmp(only, name)) rc = run_config(&h, sizes[b], factors[f], runs);
    }
  free(h.recs);
  free(h.seqs);
  free(pks);
  free(data);
  free(h.seen);
  free(h.order);
  free(h.ends);
  return rc ? 1 : 0;
}
