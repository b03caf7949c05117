/* SPDX-License-Identifier: MIT */
/*
 * Randomized model test of the engine (the test strategy): random streams (resharding included),
 * configurations, functions, hosts, store failures, Enabled toggles, crashes and graceful
 * restarts, checked against the invariants of SEMANTICS.md after every step: no record lost,
 * at-least-once, the checkpoint never passes an unfinished record nor moves back, per-key
 * order, one invocation per lane, batch limits, on-failure records, resharding order,
 * metrics, no leak. Streams hold more records than the buffer cap (often one the host
 * lowered), and fetches ask for min(10,000, room under the cap) whatever BatchSize is
 * (SEMANTICS.md §8.1). Some runs have FilterCriteria (SEMANTICS.md §7: records no pattern
 * matches are never invoked nor delivered, counted in FilteredOutEventCount, finished at
 * once); some have tumbling windows (SEMANTICS.md §6: a function that counts the window's
 * records in its `state`; every batch and the final invocation carry the count of the
 * window's records committed so far; a final invocation only once the shard has been read
 * past the window or caught up, so the engine's own back-pressure never splits a window;
 * the checkpoint never passes a committed record before its window's final has succeeded).
 * On some runs the host's wall clock steps back or forward by 1 ms, 1 s or 1 h (SEMANTICS.md
 * §8.1, Time): the engine is given the wall clock, the model keeps real time; every other
 * invariant still holds, and a step back never makes the next deadline later in real time.
 *
 * Run i uses seed i. Environment: BP_MODEL_RUNS=<n> (default below), BP_MODEL_SEED=<n>
 * replays one run, BP_MODEL_VERBOSE=1 traces every request, completion and event.
 * BP_MODEL_TMPDIR (else TMPDIR, else /tmp) holds the file stores' per-run directories.
 *
 * The model keeps what the host saw happen (deliveries, commits, discards, stored
 * checkpoints) across engine lives; what one engine life knows (its checkpoint, which
 * records it has finished) is reset at each crash, since a new engine resumes from the
 * stored checkpoint and may deliver records again (at-least-once).
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <cmocka.h>
#include <yajl/yajl_tree.h>

#include "batchpoint.h"
#include "batchpoint/bp_engine.h"
#include "test_alloc.h"

/* Default run count for `make test`: a few thousand runs, well under the 20-40 s budget on
 * two cores; sanitizer builds run fewer (they are several times slower). */
#if defined(__SANITIZE_ADDRESS__)
#define DEFAULT_RUNS 1000
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DEFAULT_RUNS 1000
#endif
#endif
#ifndef DEFAULT_RUNS
#define DEFAULT_RUNS 3000
#endif

#define T0_MS INT64_C(1700000000000)
#define T_LIMIT_MS (T0_MS + INT64_C(48) * 3600 * 1000) /* runaway guard: simulated time */
#define MAX_STEPS 300000L                              /* runaway guard: host steps */
#define MAX_SHARDS 4
#define MAX_RECS 300
#define MAX_BATCH 20
#define MAX_KEYS 8
#define MAX_PF 4
#define MAX_INV 64
#define MAX_PEND 512
#define POOL_BYTES ((size_t)1 << 20)
#define MAX_BIG_DATA ((size_t)1 << 20) /* a Kinesis record's data is at most 1 MiB */
#define MAPPING_UUID "6c9e2c1c-0d5e-4a55-9d0e-5e2b6f0a1c11"
#define FUNCTION_ARN "arn:aws:lambda:us-east-1:123456789012:function:model"
#define KINESIS_ARN "arn:aws:kinesis:us-east-1:123456789012:stream/model"
#define DDB_ARN "arn:aws:dynamodb:us-east-1:123456789012:table/model/stream/2024-01-01T00:00:00.000"
#define DLQ_ARN "arn:aws:sqs:us-east-1:123456789012:model-dlq"
#define ROLE_ARN "arn:aws:iam::123456789012:role/model"

static uint8_t g_pool[POOL_BYTES + MAX_BIG_DATA];

static const char *const KEYS[MAX_KEYS] = {
    "k0", "k1", "user-42", "\xd0\x9a\xd0\xbb\xd1\x8e\xd1\x87", "k4", "order#7", "k6", "\xc3\xbc"};

static const char *const DDB_NAMES[3] = {"INSERT", "MODIFY", "REMOVE"};

/* ---- the model ---- */

typedef struct mrec {
  uint64_t seqv;
  int64_t arrival_ms; /* the record's approximate arrival (may step back a little) */
  int64_t avail_ms;   /* when the stream shows it (monotonic along the shard) */
  uint32_t data_off, data_len;
  char seq[24];
  uint8_t seq_len, key, poison, ddb_name;
  /* facts the host saw, kept across engine lives */
  uint32_t deliveries;  /* invocations that reached the function with it */
  uint8_t committed;    /* in an invocation completed as success, before any failed record */
  uint8_t covered;      /* discarded: its on-failure delivery completed, or dropped */
  uint8_t discard_seen; /* a discard of it was decided (delivery asked, or dropped) */
  /* this engine life */
  uint8_t fin;          /* finished: committed, or discarded and delivered */
  uint16_t inv_life;    /* invocations with it in this life (throttled included) */
  uint8_t filtered;     /* no filter pattern matches it (FilterCriteria runs) */
  uint8_t held;         /* tumbling: committed in this life, its window's final not yet done */
} mrec;

typedef struct mshard {
  char id[40];
  int parent, adj; /* indices of ParentShardId / AdjacentParentShardId, or -1 */
  int closed;      /* the shard has ended: the last fetch says BP_FETCH_SHARD_END */
  size_t n;
  mrec r[MAX_RECS];
  int stored;      /* stored checkpoint (record index), -1 none: survives crashes */
  int late;        /* a child the host discovers only at discover_at */
  /* this engine life */
  int life_cp;     /* the engine's checkpoint as its events said, -1 none */
  int save_req;    /* highest checkpoint asked to be saved */
  int read_next;   /* index the next fetch must start at */
  int fetch_out, saves_out, end_returned, ended_ev;
  int last_short;  /* the last completed fetch returned fewer records than it asked for */
  int follow;      /* SEMANTICS.md §2.4: the last fetch completed with every record kept, so
                      the next must be CONTINUE (the host's iterator) and nothing else */
  int iter;        /* where the host's iterator stands (valid when follow) */
} mshard;

/* Tumbling windows: one (shard, lane, window) of this engine life. */
typedef struct mwin {
  int shard;
  uint32_t lane;
  int64_t ws;
  uint32_t seg;    /* records committed since the window (re)opened: what its state counts */
  uint32_t finals; /* final invocations made */
} mwin;
#define MAX_WIN (MAX_SHARDS * MAX_RECS)

enum { P_FETCH = 1, P_INVOKE, P_DELIVER, P_SAVE };

typedef struct pend {
  int kind, shard, inv, status;
  uint64_t req_id;
  int64_t due;
  uint32_t max_records;
  int start, save_idx;
  size_t count;
  uint16_t idx[MAX_BATCH];
} pend;

enum { F_SUCCESS, F_ERROR, F_THROTTLE, F_PARTIAL, F_INVALID };

typedef struct minv {
  int used, shard, what;
  uint32_t lane;
  uint64_t req_id;
  size_t n, commit_n, failed_count;
  uint16_t idx[MAX_BATCH];
  uint32_t keymask;
  int final;      /* a tumbling window's final invocation */
  int64_t ws;     /* tumbling: the window's start */
  uint32_t in_n;  /* tumbling: the count the event's state carried */
  bp_invoke_result res;
  char body[1400];
  char reqid[40];
} minv;

typedef struct lanelast {
  int valid, first, last;
  size_t n;
  uint32_t attempt;
  uint32_t k;        /* consecutive failed attempts (§5.1); 0 after a success or a discard */
  int64_t fail_done; /* when the last failed attempt completed */
} lanelast;

typedef struct run {
  uint64_t seed, rng;
  int verbose;
  /* the mapping */
  int source, window, pf, mra, age, bisect, rbif, dest, file_mode, big;
  int tw;             /* TumblingWindowInSeconds (0: none) */
  int filt;           /* FilterCriteria: a pattern passing the keys of passmask */
  uint32_t passmask;
  uint32_t batch, max_buf;
  int64_t backoff_base, backoff_cap;
  /* the host */
  int sync_fetch, sync_invoke, sync_deliver, sync_save; /* % completed inside the callback */
  int64_t max_delay, max_duration;
  int p_wouldblock, p_fetch_err, p_save_err, p_deliv_err, p_load_err, p_bad_record;
  int p_fail, p_throttle, budget;
  int crash_permille, max_crashes, grace_permille, max_graces, toggle_permille;
  int final_shutdown;
  int clock_permille, max_clock_steps; /* the host's wall clock steps (an NTP correction) */
  int64_t discover_at; /* when the host learns of late children (BP_NO_DEADLINE: known) */
  int discovered;
  /* the stream */
  int nshards, nkeys;
  mshard sh[MAX_SHARDS];
  char ddb_json[MAX_KEYS][64];
  /* one engine life */
  bp_config *cfg;
  bp_engine *e;
  test_alloc ta;
  bp_allocator al;
  bp_file_store *fs;
  bp_store_ops store_ops;
  int store_inject; /* the wrapped store may fail now */
  char dir[256];
  int64_t now, enable_at; /* the model's (real) time */
  int64_t clk;            /* the host's wall clock is now + clk (clock steps) */
  int64_t last_fwd;       /* real time of the last step forward (BP_NO_DEADLINE: none) */
  int64_t wall_hi;        /* the latest wall-clock reading given to the engine */
  int in_add;             /* in bp_engine_add_shard, which takes no time: its events carry
                             the engine's last `now`, maybe after a clock step back */
  int nclk;
  int enabled, shutting, drained_ev;
  pend pend[MAX_PEND];
  size_t npend;
  mwin win[MAX_WIN];
  size_t nwin;
  minv inv[MAX_INV];
  lanelast lane_last[MAX_SHARDS][MAX_PF];
  uint64_t l_invoked, l_invocations, l_throttled, l_failed, l_polled, l_nodest, l_deliv_ok,
      l_deliv_fail_recs, l_deliv_fail, l_filtered;
  uint64_t activity;
  int spin;
  /* totals for the report */
  int crashes, graces, lives;
  long steps;
  uint64_t t_invocations, t_discards, t_age_discards, t_retry_discards, t_splits, t_remainders,
      t_big_payloads, t_shard_ends, t_in_callback, t_finals, t_reopens, t_filtered,
      t_clock_steps;
  /* outcome */
  int failed;
  char msg[1024];
} run;

static run g_run;

/* ---- helpers ---- */

static uint64_t rnd(run *R) { /* splitmix64: fixed seeds, reproducible */
  uint64_t z = (R->rng += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static uint32_t below(run *R, uint32_t n) { return n ? (uint32_t)(rnd(R) % n) : 0; }
static int pct(run *R, int p) { return (int)below(R, 100) < p; }
static int permille(run *R, int p) { return (int)below(R, 1000) < p; }
static int64_t upto(run *R, int64_t hi) {
  return hi > 0 ? (int64_t)(rnd(R) % (uint64_t)(hi + 1)) : 0;
}

/* The host's wall clock: what every driving call and completion is given. */
static int64_t wall(const run *R) { return R->now + R->clk; }

static void failf(run *R, const char *fmt, ...) {
  if (R->failed) return; /* the first violation is the one to report */
  R->failed = 1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(R->msg, sizeof R->msg, fmt, ap);
  va_end(ap);
  if (R->verbose) fprintf(stderr, "[%+lld] VIOLATION: %s\n", (long long)(R->now - T0_MS), R->msg);
}

static void trace(run *R, const char *fmt, ...) {
  if (!R->verbose) return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "[%+lld] ", (long long)(R->now - T0_MS));
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static uint32_t fnv1a32(const char *k, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) {
    h ^= (uint8_t)k[i];
    h *= 16777619u;
  }
  return h;
}

static uint32_t lane_of(const run *R, int key) {
  return fnv1a32(KEYS[key], strlen(KEYS[key])) % (uint32_t)R->pf;
}

static int shard_by_id(const run *R, const char *id) {
  for (int s = 0; id && s < R->nshards; s++)
    if (strcmp(R->sh[s].id, id) == 0) return s;
  return -1;
}

/* The record of shard @p S with that sequence number, or -1. */
static int seq_index(const mshard *S, const char *seq, size_t len) {
  if (!seq || len == 0 || len > 20 || (len > 1 && seq[0] == '0')) return -1;
  uint64_t v = 0;
  for (size_t i = 0; i < len; i++) {
    if (seq[i] < '0' || seq[i] > '9') return -1;
    uint64_t d = (uint64_t)(seq[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return -1;
    v = v * 10 + d;
  }
  size_t lo = 0, hi = S->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (S->r[mid].seqv < v) lo = mid + 1;
    else hi = mid;
  }
  return lo < S->n && S->r[lo].seqv == v ? (int)lo : -1;
}

static const char *seq_of(const mshard *S, int i) { return i >= 0 ? S->r[i].seq : "-"; }

/* The lane's records of shard @p S within [first, last] (sequence numbers), into @p out
 * (filtered-out records never reach a lane). */
static size_t lane_range(const run *R, const mshard *S, int first, int last, uint32_t lane,
                         uint16_t *out, size_t cap) {
  size_t k = 0;
  for (int i = first; i <= last; i++)
    if (lane_of(R, S->r[i].key) == lane && !S->r[i].filtered) {
      if (k < cap) out[k] = (uint16_t)i;
      k++;
    }
  return k;
}

/* ---- stream and mapping generation ---- */

static void gen_shard_records(run *R, mshard *S, size_t n) {
  /* Some shards cross a power of ten, so sequence numbers of different lengths compare. */
  uint64_t seq = pct(R, 30) ? UINT64_C(999999000) + below(R, 500)
                            : UINT64_C(49600000000000000) + (uint64_t)below(R, 1000000) * 1000;
  /* Some shards hold records already old at the start (discarded for their age at once). */
  int64_t avail = pct(R, 30) ? T0_MS - 900000 + upto(R, 600000) : T0_MS - 60000 + upto(R, 180000);
  int burst = pct(R, 30);
  S->n = n;
  for (size_t i = 0; i < n; i++) {
    mrec *r = &S->r[i];
    memset(r, 0, sizeof *r);
    seq += 1 + (pct(R, 50) ? below(R, 3) : below(R, 200000));
    avail += burst && pct(R, 70) ? 0 : upto(R, pct(R, 10) ? 20000 : 3000);
    r->seqv = seq;
    r->seq_len = (uint8_t)snprintf(r->seq, sizeof r->seq, "%llu", (unsigned long long)seq);
    r->avail_ms = avail;
    r->arrival_ms = avail - (pct(R, 10) ? upto(R, 2500) : 0);
    r->key = (uint8_t)below(R, (uint32_t)R->nkeys);
    r->ddb_name = (uint8_t)below(R, 3);
    if (R->big && pct(R, 40))
      r->data_len = (uint32_t)(200000 + below(R, (uint32_t)(MAX_BIG_DATA - 200000)));
    else
      r->data_len = 1 + below(R, pct(R, 10) ? 2000 : 64);
    r->data_off = below(R, (uint32_t)POOL_BYTES);
  }
}

static void gen_run(run *R) {
  R->source = pct(R, 25) ? BP_SOURCE_DYNAMODB : BP_SOURCE_KINESIS;
  R->batch = pct(R, 30) ? 1 + below(R, 3) : 1 + below(R, MAX_BATCH);
  R->window = pct(R, 50) ? 0 : (int)below(R, 4);
  R->pf = 1 + (int)below(R, MAX_PF);
  R->mra = -1 + (int)below(R, 5);
  R->age = pct(R, 50) ? -1 : 60 + (int)below(R, 541);
  R->bisect = pct(R, 40);
  R->rbif = pct(R, 50);
  R->dest = pct(R, 60);
  R->file_mode = pct(R, 8); /* each save fsyncs twice: file-store runs are kept short */
  R->big = R->source == BP_SOURCE_KINESIS && pct(R, 2);
  static const int64_t bases[] = {1000, 100, 10, 0};
  static const int64_t caps[] = {60000, 5000, 1000};
  R->backoff_base = bases[below(R, 4)];
  R->backoff_cap = caps[below(R, 3)];
  /* Retries without backoff and functions that take no time would retry a poison record
   * forever at one instant when only its age can end it. */
  if (R->mra < 0 && R->backoff_base == 0) R->backoff_base = 10;
  if (R->backoff_cap < R->backoff_base) R->backoff_cap = R->backoff_base;
  uint32_t minbuf = R->batch * (uint32_t)R->pf;
  R->max_buf = pct(R, 40) ? 0 : pct(R, 50) ? minbuf : minbuf * (2 + below(R, 4));

  static const int sync_styles[] = {100, 0, 50, 90};
  int style = (int)below(R, 4);
  R->sync_fetch = pct(R, 20) ? sync_styles[below(R, 4)] : sync_styles[style];
  R->sync_invoke = pct(R, 20) ? sync_styles[below(R, 4)] : sync_styles[style];
  R->sync_deliver = pct(R, 20) ? sync_styles[below(R, 4)] : sync_styles[style];
  R->sync_save = pct(R, 20) ? sync_styles[below(R, 4)] : sync_styles[style];
  static const int64_t delays[] = {0, 50, 2000, 10000};
  R->max_delay = delays[below(R, 4)];
  R->max_duration = delays[below(R, 4)];
  R->p_wouldblock = pct(R, 30) ? 5 : 0;
  R->p_fetch_err = pct(R, 30) ? 10 : 0;
  R->p_save_err = pct(R, 30) ? 15 : 0;
  R->p_deliv_err = pct(R, 30) ? 25 : 0;
  R->p_load_err = pct(R, 30) ? 30 : 0;
  R->p_bad_record = pct(R, 10) ? 5 : 0;
  R->p_fail = pct(R, 30) ? 0 : (int)below(R, 50);
  R->p_throttle = pct(R, 50) ? 0 : (int)below(R, 15);
  R->budget = (int)below(R, 80);
  R->max_crashes = pct(R, 40) ? 0 : 1 + (int)below(R, 3);
  R->crash_permille = 2 + (int)below(R, 20);
  R->max_graces = pct(R, 70) ? 0 : 1 + (int)below(R, 2);
  R->grace_permille = 2 + (int)below(R, 10);
  R->toggle_permille = pct(R, 60) ? 0 : 2 + (int)below(R, 15);
  R->final_shutdown = pct(R, 50);

  R->nkeys = 1 + (int)below(R, MAX_KEYS);
  for (int k = 0; k < MAX_KEYS; k++)
    snprintf(R->ddb_json[k], sizeof R->ddb_json[k], "{\"Keys\":{\"id\":{\"S\":\"%s\"}}}", KEYS[k]);

  /* Topology: open shards; a split (closed parent, 1-2 children); a merge (two closed
   * parents, one child); a closed shard without children. */
  int topo = (int)below(R, 4), ns = 0;
  for (int i = 0; i < MAX_SHARDS; i++) R->sh[i].parent = R->sh[i].adj = -1;
  if (topo == 0) {
    ns = 1 + (int)below(R, 3);
  } else if (topo == 1) {
    R->sh[0].closed = 1;
    ns = 2 + (int)below(R, 2);
    for (int i = 1; i < ns; i++) R->sh[i].parent = 0;
    if (pct(R, 30) && ns < MAX_SHARDS) ns++; /* an unrelated open shard */
  } else if (topo == 2) {
    R->sh[0].closed = R->sh[1].closed = 1;
    R->sh[2].parent = 0;
    R->sh[2].adj = 1;
    ns = 3;
  } else {
    R->sh[0].closed = 1;
    ns = 1 + (int)below(R, 2);
  }
  R->nshards = ns;
  R->discover_at = BP_NO_DEADLINE;
  R->discovered = 1;
  if (topo != 0 && topo != 3 && pct(R, 50)) {
    /* The host learns of the children later (as a real host does once the parent closes). */
    for (int i = 0; i < ns; i++)
      R->sh[i].late = R->sh[i].parent >= 0;
    R->discover_at = T0_MS + upto(R, 400000);
    R->discovered = 0;
  }
  size_t cap = R->big ? 30 : R->file_mode ? 40 : MAX_RECS;
  for (int s = 0; s < ns; s++) {
    mshard *S = &R->sh[s];
    snprintf(S->id, sizeof S->id, "shardId-%012d", s + (int)(R->seed % 7) * 10);
    size_t n = pct(R, 20) ? below(R, 11) : below(R, (uint32_t)cap + 1);
    gen_shard_records(R, S, n);
    S->stored = -1;
  }
  /* Poison records fail every attempt: only when retries or age end them. */
  if (R->mra >= 0 || R->age >= 0) {
    int p = pct(R, 50) ? 0 : 1 + (int)below(R, 5);
    for (int s = 0; s < ns; s++)
      for (size_t i = 0; i < R->sh[s].n; i++) R->sh[s].r[i].poison = (uint8_t)pct(R, p);
  }
  /* Tumbling windows on some runs: windows of a few seconds to minutes, often holding more
   * records than a host-lowered buffer cap (the split window of issue 12). */
  if (!R->big && pct(R, 20)) {
    static const int tws[] = {1, 2, 5, 10, 30, 60, 300};
    R->tw = tws[below(R, 7)];
    if (pct(R, 50)) R->max_buf = R->batch * (uint32_t)R->pf;
    /* Arrival times step back on some runs: a lane's next record may then be of an earlier
     * window than its open one (the engine makes the open window's final and lets the record
     * open its own window). BP_MODEL_TW_MONOTONIC=1 keeps arrivals monotonic instead. */
    if (getenv("BP_MODEL_TW_MONOTONIC"))
      for (int s = 0; s < ns; s++)
        for (size_t i = 0; i < R->sh[s].n; i++) R->sh[s].r[i].arrival_ms = R->sh[s].r[i].avail_ms;
  }
  /* FilterCriteria on some runs: a pattern on the partition key (Kinesis) or on the
   * DynamoDB keys, passing a random subset of the keys (maybe none). */
  if (pct(R, 20)) {
    R->filt = 1;
    R->passmask = (uint32_t)below(R, 1u << R->nkeys);
    if (pct(R, 50)) R->passmask |= 1u << below(R, (uint32_t)R->nkeys);
    for (int s = 0; s < ns; s++)
      for (size_t i = 0; i < R->sh[s].n; i++)
        R->sh[s].r[i].filtered = (uint8_t)!((R->passmask >> R->sh[s].r[i].key) & 1u);
  }
  /* The wall clock steps back or forward by 1 ms, 1 s or 1 h on some runs (SEMANTICS.md
   * §8.1, Time): during backoff, polling, batching and tumbling windows, WOULDBLOCK waits. */
  if (pct(R, 25)) {
    R->clock_permille = 2 + (int)below(R, 10);
    R->max_clock_steps = 1 + (int)below(R, 4);
  }
}

/* The filter pattern of a FilterCriteria run. */
static void filter_pattern(const run *R, char *out, size_t cap) {
  size_t k = (size_t)snprintf(out, cap, R->source == BP_SOURCE_KINESIS
                                            ? "{\"kinesis\":{\"partitionKey\":["
                                            : "{\"dynamodb\":{\"Keys\":{\"id\":{\"S\":[");
  int first = 1;
  for (int key = 0; key < R->nkeys; key++)
    if ((R->passmask >> key) & 1u) {
      k += (size_t)snprintf(out + k, cap - k, "%s\"%s\"", first ? "" : ",", KEYS[key]);
      first = 0;
    }
  if (first) /* no key passes: a value no record has */
    k += (size_t)snprintf(out + k, cap - k, "\"no-such-key\"");
  snprintf(out + k, cap - k, R->source == BP_SOURCE_KINESIS ? "]}}" : "]}}}}");
}

static int make_config(run *R) {
  bp_config *c = NULL;
  if (bp_config_new(&c, NULL) != 0) return -1;
  R->cfg = c;
  const char *arn = R->source == BP_SOURCE_KINESIS ? KINESIS_ARN : DDB_ARN;
  int rc;
  if (pct(R, 30)) {
    /* The same configuration through the CreateEventSourceMapping JSON. */
    char json[1024];
    snprintf(json, sizeof json,
             "{\"EventSourceArn\":\"%s\",\"FunctionName\":\"%s\",\"StartingPosition\":"
             "\"TRIM_HORIZON\",\"BatchSize\":%u,\"MaximumBatchingWindowInSeconds\":%d,"
             "\"ParallelizationFactor\":%d,\"MaximumRetryAttempts\":%d,"
             "\"MaximumRecordAgeInSeconds\":%d,\"BisectBatchOnFunctionError\":%s,"
             "\"TumblingWindowInSeconds\":%d,"
             "\"FunctionResponseTypes\":[%s]%s%s%s}",
             arn, FUNCTION_ARN, R->batch, R->window, R->pf, R->mra, R->age,
             R->bisect ? "true" : "false", R->tw, R->rbif ? "\"ReportBatchItemFailures\"" : "",
             R->dest ? ",\"DestinationConfig\":{\"OnFailure\":{\"Destination\":\"" : "",
             R->dest ? DLQ_ARN : "", R->dest ? "\"}}" : "");
    rc = bp_config_parse_json(c, json, strlen(json));
    if (rc) {
      failf(R, "bp_config_parse_json: %s (%s)", bp_config_errmsg(c), json);
      return -1;
    }
  } else {
    rc = bp_config_set_event_source_arn(c, arn, strlen(arn));
    rc = rc ? rc : bp_config_set_function_name(c, FUNCTION_ARN, strlen(FUNCTION_ARN));
    rc = rc ? rc : bp_config_set_starting_position(c, BP_POSITION_TRIM_HORIZON);
    rc = rc ? rc : bp_config_set_batch_size(c, R->batch);
    rc = rc ? rc : bp_config_set_maximum_batching_window_in_seconds(c, R->window);
    rc = rc ? rc : bp_config_set_parallelization_factor(c, R->pf);
    rc = rc ? rc : bp_config_set_maximum_retry_attempts(c, R->mra);
    rc = rc ? rc : bp_config_set_maximum_record_age_in_seconds(c, R->age);
    rc = rc ? rc : bp_config_set_bisect_batch_on_function_error(c, R->bisect);
    rc = rc ? rc : bp_config_set_report_batch_item_failures(c, R->rbif);
    rc = rc ? rc : bp_config_set_tumbling_window_in_seconds(c, R->tw);
    if (!rc && R->dest) rc = bp_config_set_on_failure_destination(c, DLQ_ARN, strlen(DLQ_ARN));
    rc = rc ? rc : bp_config_validate(c);
    if (rc) {
      failf(R, "configuration: %s", bp_config_errmsg(c));
      return -1;
    }
  }
  if (bp_config_get_batch_size(c) != R->batch || bp_config_get_parallelization_factor(c) != R->pf ||
      bp_config_get_maximum_retry_attempts(c) != R->mra ||
      bp_config_get_maximum_record_age_in_seconds(c) != R->age ||
      bp_config_get_report_batch_item_failures(c) != R->rbif ||
      (bp_config_get_on_failure_destination(c) != NULL) != R->dest ||
      bp_config_get_tumbling_window_in_seconds(c) != R->tw) {
    failf(R, "configuration reads back different values");
    return -1;
  }
  if (R->filt) {
    char pat[256];
    filter_pattern(R, pat, sizeof pat);
    rc = bp_config_add_filter(c, pat, strlen(pat));
    if (rc || bp_config_get_filter_count(c) != 1) {
      failf(R, "bp_config_add_filter(%s): %s", pat, bp_config_errmsg(c));
      return -1;
    }
  }
  (void)bp_config_set_metrics_event_count(c, 1);
  return 0;
}

/* ---- invariants shared by callbacks ---- */

/* Every parent of shard @p s has ended in this engine and its final checkpoint is stored. */
static void check_parents(run *R, int s, const char *what) {
  const mshard *S = &R->sh[s];
  int ps[2] = {S->parent, S->adj};
  for (int k = 0; k < 2; k++) {
    if (ps[k] < 0) continue;
    const mshard *P = &R->sh[ps[k]];
    int st = bp_engine_get_shard_state(R->e, P->id);
    if (st != BP_SHARD_ENDED)
      failf(R, "%s of child %s while its parent %s is in state %d, not BP_SHARD_ENDED", what,
            S->id, P->id, st);
    else if (P->n && P->stored != (int)P->n - 1)
      failf(R, "%s of child %s while parent %s's stored checkpoint is %s, not its last record %s",
            what, S->id, P->id, seq_of(P, P->stored), P->r[P->n - 1].seq);
  }
}

/* The engine's checkpoint of shard @p s moved to record @p idx (or is asked to be stored):
 * every record up to it must be finished in this life. */
static void check_passed(run *R, int s, int idx, int from, const char *what) {
  mshard *S = &R->sh[s];
  for (int i = from + 1; i <= idx; i++)
    if (!S->r[i].fin) {
      failf(R, "%s of %s at %s passes record %s (index %d), which this engine has not finished "
               "(delivered %u, committed %d, discard seen %d)",
            what, S->id, S->r[idx].seq, S->r[i].seq, i, S->r[i].deliveries, S->r[i].committed,
            S->r[i].discard_seen);
      return;
    } else if (S->r[i].held) {
      failf(R, "%s of %s at %s passes record %s (index %d) of the tumbling window starting %lld "
               "on lane %u, whose final invocation has not succeeded since it was committed",
            what, S->id, S->r[idx].seq, S->r[i].seq, i, (long long)S->r[i].arrival_ms,
            lane_of(R, S->r[i].key));
      return;
    }
}

/* ---- tumbling windows ---- */

static int64_t window_of(const run *R, int64_t arrival_ms) {
  int64_t w = (int64_t)R->tw * 1000;
  int64_t q = arrival_ms / w;
  if (arrival_ms % w < 0) q--;
  return q * w;
}

static mwin *find_win(run *R, int s, uint32_t lane, int64_t ws) {
  for (size_t i = 0; i < R->nwin; i++)
    if (R->win[i].shard == s && R->win[i].lane == lane && R->win[i].ws == ws) return &R->win[i];
  if (R->nwin >= MAX_WIN) {
    failf(R, "more than %d tumbling windows", MAX_WIN);
    return NULL;
  }
  mwin *w = &R->win[R->nwin++];
  memset(w, 0, sizeof *w);
  w->shard = s;
  w->lane = lane;
  w->ws = ws;
  return w;
}

/* The count an event's `state` carries: `{}` or the `{"n":<count>}` the function returned. */
static int state_count(const char *st, size_t len, uint32_t *n) {
  unsigned v = 0;
  char buf[64];
  if (!st || len >= sizeof buf) return -1;
  memcpy(buf, st, len);
  buf[len] = 0;
  if (strcmp(buf, "{}") == 0) {
    *n = 0;
    return 0;
  }
  int end = 0;
  if (sscanf(buf, "{\"n\":%u}%n", &v, &end) != 1 || (size_t)end != len) return -1;
  *n = v;
  return 0;
}

/* A discard of @p n records of shard @p s (indices @p idx) decided at @p ts_ms. */
static void check_discard(run *R, int s, const uint16_t *idx, size_t n, int condition,
                          uint32_t aic, int64_t ts_ms, const char *what) {
  mshard *S = &R->sh[s];
  if (n == 0 || n > R->batch) {
    failf(R, "%s of %s: %zu records (BatchSize %u)", what, S->id, n, R->batch);
    return;
  }
  if (aic < 1) failf(R, "%s of %s: approximateInvokeCount 0", what, S->id);
  if (condition == BP_CONDITION_RECORD_AGE_EXCEEDED) R->t_age_discards++;
  else R->t_retry_discards++;
  if (condition == BP_CONDITION_RETRY_ATTEMPTS_EXHAUSTED) {
    if (R->mra < 0)
      failf(R, "%s of %s at %s: RetryAttemptsExhausted with MaximumRetryAttempts -1", what, S->id,
            S->r[idx[0]].seq);
    else if (aic != (uint32_t)R->mra + 1)
      failf(R, "%s of %s at %s: RetryAttemptsExhausted with approximateInvokeCount %u, "
               "MaximumRetryAttempts %d (expected %d)",
            what, S->id, S->r[idx[0]].seq, aic, R->mra, R->mra + 1);
  } else if (condition == BP_CONDITION_RECORD_AGE_EXCEEDED) {
    int64_t age = ts_ms - S->r[idx[0]].arrival_ms;
    if (R->age < 0)
      failf(R, "%s of %s at %s: RecordAgeExceeded with MaximumRecordAgeInSeconds -1", what,
            S->id, S->r[idx[0]].seq);
    else if (age <= (int64_t)R->age * 1000)
      failf(R, "%s of %s at %s: RecordAgeExceeded but the first record's age at %lld is %lld ms "
               "(max %d s)",
            what, S->id, S->r[idx[0]].seq, (long long)(ts_ms - T0_MS), (long long)age, R->age);
  } else {
    failf(R, "%s of %s: unknown condition %d", what, S->id, condition);
  }
  /* (decided at the latest reading: a retried delivery keeps its time across a step back) */
  if (ts_ms > R->wall_hi)
    failf(R, "%s of %s: decided in the future (%lld > the latest wall clock %lld)", what, S->id,
          (long long)(ts_ms - T0_MS), (long long)(R->wall_hi - T0_MS));
  for (size_t i = 0; i < n; i++) {
    mrec *r = &S->r[idx[i]];
    if (r->fin) {
      failf(R, "%s of %s: record %s was already finished in this engine life", what, S->id,
            r->seq);
      return;
    }
    if (i && idx[i] <= idx[i - 1]) {
      failf(R, "%s of %s: records not ascending", what, S->id);
      return;
    }
    r->discard_seen = 1;
  }
}

/* ---- host: completions ---- */

static int push_pend(run *R, const pend *p) {
  if (R->npend >= MAX_PEND) {
    failf(R, "more than %d requests in flight", MAX_PEND);
    return -1;
  }
  R->pend[R->npend++] = *p;
  return 0;
}

static int64_t delay(run *R, int64_t max) { return R->now + upto(R, max); }

static void expect_ok(run *R, int rc, const char *what) {
  if (rc != 0 && !R->failed)
    failf(R, "%s returned %s: %s", what, bp_err_name(rc), R->e ? bp_engine_errmsg(R->e) : "");
}

static void complete_fetch(run *R, const pend *p) {
  mshard *S = &R->sh[p->shard];
  S->fetch_out--;
  /* a failed read, or (half of them) a throttled one: nothing read, the iterator stands */
  int status = pct(R, R->p_fetch_err) ? (pct(R, 50) ? BP_ERR_WOULDBLOCK : BP_ERR_IO) : 0;
  size_t start = (size_t)p->start, avail = start;
  while (avail < S->n && S->r[avail].avail_ms <= R->now) avail++;
  size_t k = avail - start;
  if (k > p->max_records) k = p->max_records;
  if (k > 1 && pct(R, 30)) k = 1 + below(R, (uint32_t)k);
  int bad = status == 0 && pct(R, R->p_bad_record);
  if (bad && k + 1 > p->max_records) k--;
  bp_record recs[MAX_RECS + 1]; /* local: a nested completion must not share it */
  uint32_t flags = 0;
  if (!bad && S->closed && start + k == S->n && (S->n == 0 || S->r[S->n - 1].avail_ms <= R->now))
    flags = BP_FETCH_SHARD_END;
  for (size_t i = 0; i < k + (size_t)bad; i++) {
    bp_record *b = &recs[i];
    const mrec *r = i < k ? &S->r[start + i] : &R->sh[0].r[0];
    bp_record_init(b, sizeof *b);
    b->seq = r->seq;
    b->seq_len = r->seq_len;
    b->arrival_ms = r->arrival_ms;
    b->partition_key = KEYS[r->key];
    b->partition_key_len = strlen(KEYS[r->key]);
    if (R->source == BP_SOURCE_KINESIS) {
      b->data = g_pool + r->data_off;
      b->data_len = r->data_len;
    } else {
      b->event_id = r->seq;
      b->event_id_len = r->seq_len;
      b->event_name = DDB_NAMES[r->ddb_name];
      b->event_name_len = strlen(b->event_name);
      b->dynamodb_json = R->ddb_json[r->key];
      b->dynamodb_json_len = strlen(R->ddb_json[r->key]);
    }
    if (i == k) { /* the bad one: a sequence number with a leading zero */
      b->seq = "0123";
      b->seq_len = 4;
    }
  }
  trace(R, "fetch %llu of %s done: status %d, %zu records from %zu%s%s",
        (unsigned long long)p->req_id, S->id, status, k, start, bad ? " + a bad one" : "",
        flags ? ", SHARD_END" : "");
  /* The model first: a completion outside callbacks runs the engine's work at once. */
  if (status != BP_ERR_WOULDBLOCK) S->follow = status == 0 && !bad;
  if (status == 0) {
    S->iter = (int)(start + k);
    S->read_next = (int)(start + k);
    R->l_polled += k;
    if (flags) S->end_returned = 1;
    S->last_short = k + (size_t)bad < p->max_records || bad;
    for (size_t i = start; i < start + k; i++)
      if (S->r[i].filtered && !S->r[i].fin) { /* finished at once (SEMANTICS.md §7) */
        S->r[i].fin = 1;
        R->l_filtered++;
        R->t_filtered++;
      }
  }
  int rc = bp_engine_complete_fetch(R->e, p->req_id, wall(R), status, recs,
                                    status ? 0 : k + (size_t)bad, status ? 0 : flags);
  if (R->failed) return;
  if (status == 0) {
    if (bad ? rc != BP_ERR_INVALID_RECORD : rc != 0)
      failf(R, "bp_engine_complete_fetch (%zu records%s) returned %s: %s", k,
            bad ? " and a bad one" : "", bp_err_name(rc), bp_engine_errmsg(R->e));
  } else {
    expect_ok(R, rc, "bp_engine_complete_fetch (failed read)");
  }
}

static void complete_invoke(run *R, const pend *p) {
  minv *v = &R->inv[p->inv];
  mshard *S = &R->sh[v->shard];
  for (size_t i = 0; i < v->commit_n; i++) {
    mrec *r = &S->r[v->idx[i]];
    r->committed = 1;
    r->fin = 1;
    r->held = (uint8_t)(R->tw > 0); /* until its window's final invocation succeeds */
  }
  if (R->tw && v->commit_n && !v->final) {
    mwin *w = find_win(R, v->shard, v->lane, v->ws);
    if (w) w->seg += (uint32_t)v->commit_n;
  }
  if (v->final) {
    if (v->what == F_THROTTLE) R->l_throttled++;
    else R->l_invocations++;
    if (v->what == F_SUCCESS) {
      /* What the window finished may be checkpointed now; later records of it (late ones)
       * open it again with state {}. */
      mwin *w = find_win(R, v->shard, v->lane, v->ws);
      if (w) w->seg = 0;
      for (size_t i = 0; i < S->n; i++)
        if (S->r[i].held && lane_of(R, S->r[i].key) == v->lane &&
            window_of(R, S->r[i].arrival_ms) == v->ws)
          S->r[i].held = 0;
    }
    trace(R, "final %llu of %s lane %u window %lld done: what %d", (unsigned long long)v->req_id,
          S->id, v->lane, (long long)v->ws, v->what);
    bp_invoke_result fres = v->res;
    char fbody[sizeof v->body];
    memcpy(fbody, v->body, sizeof fbody);
    if (fres.body == v->body) fres.body = fbody;
    uint64_t fid = v->req_id;
    v->used = 0;
    int frc = bp_engine_complete_invoke(R->e, fid, wall(R), &fres);
    expect_ok(R, frc, "bp_engine_complete_invoke (final)");
    return;
  }
  if (v->what == F_THROTTLE) {
    R->l_throttled++;
    R->l_failed += v->n;
  } else {
    R->l_invocations++;
    R->l_invoked += v->n;
    if (v->what == F_PARTIAL) R->l_failed += v->failed_count;
    else if (v->what != F_SUCCESS) R->l_failed += v->n;
  }
  lanelast *ll = &R->lane_last[v->shard][v->lane];
  if (v->what == F_SUCCESS) {
    ll->k = 0;
  } else {
    ll->k++;
    ll->fail_done = R->now;
  }
  trace(R, "invoke %llu of %s lane %u done: what %d, commit %zu of %zu",
        (unsigned long long)v->req_id, S->id, v->lane, v->what, v->commit_n, v->n);
  /* The slot may be reused by an invocation the completion starts: copy what it holds. */
  bp_invoke_result res = v->res;
  char body[sizeof v->body], reqid[sizeof v->reqid];
  memcpy(body, v->body, sizeof body);
  memcpy(reqid, v->reqid, sizeof reqid);
  if (res.body == v->body) res.body = body;
  if (res.request_id == v->reqid) res.request_id = reqid;
  uint64_t id = v->req_id;
  v->used = 0;
  int rc = bp_engine_complete_invoke(R->e, id, wall(R), &res);
  expect_ok(R, rc, "bp_engine_complete_invoke");
}

static void complete_delivery(run *R, const pend *p) {
  mshard *S = &R->sh[p->shard];
  for (size_t i = 0; i < p->count; i++) {
    mrec *r = &S->r[p->idx[i]];
    r->covered = 1;
    r->fin = 1;
  }
  if (p->status == 0) {
    R->l_deliv_ok += p->count;
  } else {
    R->l_deliv_fail++;
    R->l_deliv_fail_recs += p->count;
  }
  trace(R, "delivery %llu of %s done: status %d, %zu records", (unsigned long long)p->req_id,
        S->id, p->status, p->count);
  int rc = bp_engine_complete_delivery(R->e, p->req_id, wall(R), p->status);
  expect_ok(R, rc, "bp_engine_complete_delivery");
}

static void complete_save(run *R, const pend *p) {
  mshard *S = &R->sh[p->shard];
  S->saves_out--;
  if (p->status == 0) {
    if (p->save_idx < S->stored)
      failf(R, "stored checkpoint of %s moves back from %s to %s", S->id, seq_of(S, S->stored),
            seq_of(S, p->save_idx));
    S->stored = p->save_idx;
  }
  trace(R, "save %llu of %s at %s done: status %d", (unsigned long long)p->req_id, S->id,
        seq_of(S, p->save_idx), p->status);
  int rc = bp_engine_complete_checkpoint(R->e, p->req_id, wall(R), p->status);
  expect_ok(R, rc, "bp_engine_complete_checkpoint");
}

static void complete(run *R, const pend *p) {
  switch (p->kind) {
  case P_FETCH: complete_fetch(R, p); break;
  case P_INVOKE: complete_invoke(R, p); break;
  case P_DELIVER: complete_delivery(R, p); break;
  default: complete_save(R, p); break;
  }
}

/* ---- host: callbacks ---- */

static int cb_fetch(bp_engine *e, const bp_fetch_req *q, void *ud) {
  run *R = ud;
  (void)e;
  R->activity++;
  if (R->failed) return 0;
  int s = shard_by_id(R, q->shard_id);
  if (s < 0) {
    failf(R, "fetch of unknown shard %s", q->shard_id ? q->shard_id : "(null)");
    return 0;
  }
  mshard *S = &R->sh[s];
  if (!R->enabled) failf(R, "fetch of %s while disabled", S->id);
  if (R->shutting) failf(R, "fetch of %s after bp_engine_shutdown", S->id);
  if (S->fetch_out) failf(R, "two fetches of %s in flight", S->id);
  if (S->end_returned) failf(R, "fetch of %s after it returned BP_FETCH_SHARD_END", S->id);
  if (q->max_records < 1) failf(R, "fetch of %s with max_records 0", S->id);
  /* SEMANTICS.md §8.1: a fetch asks for up to min(10,000, room under the buffer cap),
   * whatever BatchSize is. With the default cap (at least 10,000) and at most MAX_RECS
   * records in a shard, the room left is never below 10,000 - MAX_RECS. */
  if (q->max_records > 10000 || (R->max_buf && q->max_records > R->max_buf))
    failf(R, "fetch of %s asks for %u records (cap %u)", S->id, q->max_records, R->max_buf);
  if (!R->max_buf && q->max_records < 10000 - MAX_RECS)
    failf(R, "fetch of %s asks for %u records: the default cap leaves at least %d", S->id,
          q->max_records, 10000 - MAX_RECS);
  check_parents(R, s, "fetch");
  int start = -1;
  if ((q->from == BP_POSITION_CONTINUE) != (S->follow != 0))
    failf(R, "fetch of %s from %d: %s", S->id, q->from,
          S->follow ? "a position was asked though the host's iterator stands (a "
                      "GetShardIterator per poll, SEMANTICS.md §2.4)"
                    : "CONTINUE after a read that failed or was not kept whole");
  if (q->from == BP_POSITION_CONTINUE) {
    start = S->iter;
  } else if (q->from == BP_POSITION_TRIM_HORIZON) {
    start = 0;
  } else if (q->from == BP_POSITION_AFTER_SEQUENCE_NUMBER) {
    int i = seq_index(S, q->after_seq, q->after_seq_len);
    if (i < 0) failf(R, "fetch of %s after a sequence number not in the shard (%.*s)", S->id,
                     (int)q->after_seq_len, q->after_seq ? q->after_seq : "");
    start = i + 1;
  } else {
    failf(R, "fetch of %s from %d (TRIM_HORIZON mapping)", S->id, q->from);
  }
  if (!R->failed && start != S->read_next)
    failf(R, "fetch of %s starts at record %d, expected %d (%s)", S->id, start, S->read_next,
          start > S->read_next ? "records skipped" : "records read twice");
  if (R->failed) return 0;
  if (pct(R, R->p_wouldblock)) return BP_ERR_WOULDBLOCK;
  trace(R, "fetch %llu of %s from %d (max %u)", (unsigned long long)q->req_id, S->id, start,
        q->max_records);
  pend p;
  memset(&p, 0, sizeof p);
  p.kind = P_FETCH;
  p.shard = s;
  p.req_id = q->req_id;
  p.start = start;
  p.max_records = q->max_records;
  S->fetch_out++;
  if (pct(R, R->sync_fetch)) {
    complete_fetch(R, &p);
  } else {
    p.due = delay(R, R->max_delay);
    push_pend(R, &p);
  }
  return 0;
}

/* What the function does with this batch (decided when it is invoked). */
static void decide(run *R, minv *v) {
  const mshard *S = &R->sh[v->shard];
  size_t n = v->n;
  int first_poison = -1;
  for (size_t i = 0; i < n && first_poison < 0; i++)
    if (S->r[v->idx[i]].poison) first_poison = (int)i;
  int what = F_SUCCESS;
  if (R->budget > 0 && pct(R, R->p_throttle)) {
    what = F_THROTTLE;
    R->budget--;
  } else if (first_poison >= 0 || (R->budget > 0 && pct(R, R->p_fail))) {
    if (first_poison < 0) R->budget--;
    int kinds[3] = {F_ERROR, F_PARTIAL, F_INVALID};
    what = kinds[below(R, R->rbif ? 3 : 1)];
  }
  bp_invoke_result *res = &v->res;
  bp_invoke_result_init(res, sizeof *res);
  v->what = what;
  v->commit_n = 0;
  v->failed_count = 0;
  if (pct(R, 50)) {
    unsigned hi = (unsigned)below(R, UINT32_MAX);
    unsigned long long lo = (unsigned long long)(rnd(R) & UINT64_C(0xffffffffffff));
    snprintf(v->reqid, sizeof v->reqid, "%08x-1111-4222-8333-%012llx", hi, lo);
    res->request_id = v->reqid;
    res->request_id_len = strlen(v->reqid);
  }
  if (pct(R, 20)) {
    res->executed_version = "7";
    res->executed_version_len = 1;
  }
  switch (what) {
  case F_SUCCESS: {
    v->commit_n = n;
    if (R->tw) { /* the function's aggregate: a count of the window's records */
      snprintf(v->body, sizeof v->body, "{\"state\":{\"n\":%u}}", v->in_n + (unsigned)n);
      res->body = v->body;
      res->body_len = strlen(v->body);
      break;
    }
    static const char *const ok_bodies[] = {"", "  \n", "null", "\"\"", "[]", "{}",
                                            "{\"batchItemFailures\":[]}",
                                            "{\"batchItemFailures\":null}", "{\"other\":1}"};
    int form = (int)below(R, 11);
    if (form == 9) {
      res->kind = BP_INVOKE_RESULT_CLASSIFIED;
      res->outcome = BP_ATTEMPT_SUCCESS;
    } else if (form == 10 && !R->rbif) {
      /* Without ReportBatchItemFailures the body is never read: a failure list or junk is
       * a success (SEMANTICS.md §3.3, pitfall 3). */
      char seq[24]; /* a copy: gcc cannot tell the record from the body apart */
      memcpy(seq, S->r[v->idx[0]].seq, sizeof seq);
      if (pct(R, 50))
        snprintf(v->body, sizeof v->body,
                 "{\"batchItemFailures\":[{\"itemIdentifier\":\"%s\"}]}", seq);
      else snprintf(v->body, sizeof v->body, "not json at all");
      res->body = v->body;
      res->body_len = strlen(v->body);
    } else {
      const char *b = ok_bodies[form % 9];
      res->body = *b ? b : NULL;
      res->body_len = strlen(b);
    }
    break;
  }
  case F_ERROR:
    v->commit_n = 0;
    res->kind = BP_INVOKE_RESULT_ERROR;
    if (pct(R, 50)) {
      res->function_error = pct(R, 50) ? "Unhandled" : "TimeoutError";
      res->function_error_len = strlen(res->function_error);
    }
    if (pct(R, 20)) {
      res->kind = BP_INVOKE_RESULT_CLASSIFIED;
      res->outcome = BP_ATTEMPT_FUNCTION_ERROR;
    }
    break;
  case F_THROTTLE:
    res->kind = BP_INVOKE_RESULT_THROTTLED;
    if (pct(R, 30)) {
      res->kind = BP_INVOKE_RESULT_CLASSIFIED;
      res->outcome = BP_ATTEMPT_NOT_REACHED;
    }
    break;
  case F_PARTIAL: {
    size_t limit = first_poison >= 0 ? (size_t)first_poison : n - 1;
    size_t L = below(R, (uint32_t)limit + 1);
    uint8_t failed[MAX_BATCH] = {0};
    failed[L] = 1;
    for (size_t i = L + 1; i < n; i++)
      failed[i] = (uint8_t)(S->r[v->idx[i]].poison || pct(R, 30));
    for (size_t i = 0; i < n; i++) v->failed_count += failed[i];
    v->commit_n = L;
    if (!R->tw && pct(R, 40)) {
      res->kind = BP_INVOKE_RESULT_CLASSIFIED;
      res->outcome = BP_ATTEMPT_PARTIAL;
      res->failed_index = (uint32_t)L;
      res->failed_count = (uint32_t)v->failed_count;
    } else {
      /* Identifiers in a random order, sometimes one twice (counted once). */
      size_t len = (size_t)snprintf(v->body, sizeof v->body, "{\"batchItemFailures\":[");
      size_t order[MAX_BATCH], m = 0;
      for (size_t i = 0; i < n; i++)
        if (failed[i]) order[m++] = i;
      for (size_t i = m; i > 1; i--) {
        size_t j = below(R, (uint32_t)i), t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
      }
      int dup = pct(R, 20);
      for (size_t i = 0; i < m + (size_t)dup; i++) {
        char seq[24];
        memcpy(seq, S->r[v->idx[order[i % m]]].seq, sizeof seq);
        len += (size_t)snprintf(v->body + len, sizeof v->body - len,
                                "%s{\"itemIdentifier\":\"%s\"}", i ? "," : "", seq);
      }
      if (R->tw) /* the state counts the records the function took */
        snprintf(v->body + len, sizeof v->body - len, "],\"state\":{\"n\":%u}}",
                 v->in_n + (unsigned)L);
      else snprintf(v->body + len, sizeof v->body - len, "]}");
      res->body = v->body;
      res->body_len = strlen(v->body);
    }
    break;
  }
  default: { /* F_INVALID, ReportBatchItemFailures on: a full failure, functionError null */
    static const char *const bad_bodies[] = {
        "{\"batchItemFailures\":[{\"itemIdentifier\":123}]}",
        "{\"batchItemFailures\":[{\"itemIdentifier\":\"\"}]}",
        "{\"batchItemFailures\":[{\"itemIdentifier\":null}]}",
        "{\"batchItemFailures\":[{\"foo\":123}]}",
        "{\"batchItemFailures\":{}}",
        "not json",
        "42",
        "{\"batchItemFailures\":[{\"itemIdentifier\":\"7\"}]}"};
    int form = (int)below(R, 9);
    if (form == 8) {
      res->kind = BP_INVOKE_RESULT_CLASSIFIED;
      res->outcome = BP_ATTEMPT_RETURNED_FAILED;
    } else {
      res->body = bad_bodies[form];
      res->body_len = strlen(bad_bodies[form]);
    }
    break;
  }
  }
}

/* The function's answer to an accepted invocation (a batch or a final): at once, inside the
 * callback, or later from the pending queue. */
static void answer_invoke(run *R, int s, uint64_t req_id, int slot) {
  pend p;
  memset(&p, 0, sizeof p);
  p.kind = P_INVOKE;
  p.shard = s;
  p.req_id = req_id;
  p.inv = slot;
  if (pct(R, R->sync_invoke)) {
    complete_invoke(R, &p);
  } else {
    p.due = delay(R, R->max_duration);
    push_pend(R, &p);
  }
}

/* A tumbling window's final invocation (SEMANTICS.md §6). */
static int final_invoke(run *R, int s, const bp_invoke_req *q) {
  mshard *S = &R->sh[s];
  if (!R->tw || q->count != 0 || q->lane >= (uint32_t)R->pf ||
      (q->flags & BP_INVOKE_TERMINATED_EARLY)) {
    failf(R, "final invocation on %s lane %u with %zu records, flags %u (TumblingWindow %d)",
          S->id, q->lane, q->count, q->flags, R->tw);
    return 0;
  }
  int64_t ws = q->window_start_ms;
  if (window_of(R, ws) != ws || q->window_end_ms != ws + (int64_t)R->tw * 1000) {
    failf(R, "final invocation on %s lane %u: window [%lld, %lld) not aligned to %d s", S->id,
          q->lane, (long long)ws, (long long)q->window_end_ms, R->tw);
    return 0;
  }
  mwin *w = find_win(R, s, q->lane, ws);
  uint32_t n = 0;
  if (!w) return 0;
  if (state_count(q->state, q->state_len, &n) != 0 || n != w->seg) {
    failf(R, "final invocation on %s lane %u window %lld: state %.*s, but the window's records "
             "committed since it opened are %u",
          S->id, q->lane, (long long)ws, (int)q->state_len, q->state ? q->state : "", w->seg);
    return 0;
  }
  /* The shard has been read past the window (a record arriving at or after window.end read),
   * or the last read returned fewer records than asked for, or the shard ended. Else the
   * engine's own back-pressure would split the window (issue 12). Checked at the first
   * attempt: a retry waits for nothing (records read since are late ones). */
  int past = S->last_short || S->end_returned || q->attempt > 1;
  for (int i = 0; i < S->read_next && !past; i++)
    if (S->r[i].arrival_ms >= q->window_end_ms) past = 1;
  /* ... or the lane has moved on: its next record read is of another (an earlier) window,
   * which an arrival time that stepped back puts behind the open one (SEMANTICS.md §6). */
  for (int i = 0; i < S->read_next && !past; i++)
    if (!S->r[i].fin && lane_of(R, S->r[i].key) == q->lane) {
      past = window_of(R, S->r[i].arrival_ms) != ws;
      break;
    }
  if (!past)
    failf(R, "final invocation on %s lane %u window %lld..%lld before the shard was read past "
             "the window (read up to index %d of %zu, the last fetch full)",
          S->id, q->lane, (long long)ws, (long long)q->window_end_ms, S->read_next, S->n);
  for (int k = 0; k < MAX_INV; k++)
    if (R->inv[k].used && R->inv[k].shard == s && R->inv[k].lane == q->lane)
      failf(R, "final invocation on %s lane %u while an invocation of the lane is in flight",
            S->id, q->lane);
  /* Every batch of the window on the lane is resolved, and the lane's next record is not
   * of the window (arrival times are not monotonic: a record of the window after one of a
   * later window comes as a late record, after the final). */
  for (int i = 0; i < S->read_next && q->attempt == 1; i++)
    if (!S->r[i].fin && lane_of(R, S->r[i].key) == q->lane) {
      if (window_of(R, S->r[i].arrival_ms) == ws)
        failf(R, "final invocation on %s lane %u window %lld while its record %s, the lane's "
                 "next, is unresolved",
              S->id, q->lane, (long long)ws, S->r[i].seq);
      break;
    }
  if (R->failed) return 0;
  if (pct(R, R->p_wouldblock)) return BP_ERR_WOULDBLOCK;
  int slot = -1;
  for (int k = 0; k < MAX_INV && slot < 0; k++)
    if (!R->inv[k].used) slot = k;
  if (slot < 0) {
    failf(R, "more than %d invocations in flight", MAX_INV);
    return 0;
  }
  if (w->finals) R->t_reopens++;
  w->finals++;
  R->t_finals++;
  minv *v = &R->inv[slot];
  memset(v, 0, sizeof *v);
  v->used = 1;
  v->final = 1;
  v->shard = s;
  v->lane = q->lane;
  v->ws = ws;
  v->in_n = n;
  v->req_id = q->req_id;
  bp_invoke_result_init(&v->res, sizeof v->res);
  v->what = F_SUCCESS;
  if (R->budget > 0 && pct(R, R->p_throttle + R->p_fail)) {
    R->budget--;
    v->what = pct(R, 30) ? F_THROTTLE : F_ERROR;
  }
  if (v->what == F_THROTTLE) {
    v->res.kind = BP_INVOKE_RESULT_THROTTLED;
  } else if (v->what == F_ERROR) {
    v->res.kind = BP_INVOKE_RESULT_ERROR;
  } else {
    snprintf(v->body, sizeof v->body, "{\"state\":{\"n\":%u}}", n);
    v->res.body = v->body;
    v->res.body_len = strlen(v->body);
  }
  trace(R, "final %llu on %s lane %u attempt %u window %lld state %.*s -> what %d",
        (unsigned long long)q->req_id, S->id, q->lane, q->attempt, (long long)ws,
        (int)q->state_len, q->state, v->what);
  answer_invoke(R, s, q->req_id, slot);
  return 0;
}

static int cb_invoke(bp_engine *e, const bp_invoke_req *q, void *ud) {
  run *R = ud;
  R->activity++;
  if (R->failed) return 0;
  int s = shard_by_id(R, q->shard_id);
  if (s < 0) {
    failf(R, "invoke of unknown shard %s", q->shard_id ? q->shard_id : "(null)");
    return 0;
  }
  mshard *S = &R->sh[s];
  if (!R->enabled) failf(R, "invoke on %s while disabled", S->id);
  if (R->shutting) failf(R, "invoke on %s after bp_engine_shutdown", S->id);
  if (q->flags & BP_INVOKE_FINAL) return R->failed ? 0 : final_invoke(R, s, q);
  if (q->count < 1 || q->count > R->batch || !q->records) {
    failf(R, "invoke on %s with %zu records (BatchSize %u)", S->id, q->count, R->batch);
    return 0;
  }
  if (q->lane >= (uint32_t)R->pf) {
    failf(R, "invoke on %s lane %u (ParallelizationFactor %d)", S->id, q->lane, R->pf);
    return 0;
  }
  check_parents(R, s, "invoke");
  if (!q->payload || q->payload_len < 14 || memcmp(q->payload, "{\"Records\":[", 12) != 0 ||
      (!R->tw && memcmp(q->payload + q->payload_len - 2, "]}", 2) != 0))
    failf(R, "invoke on %s: the payload is not a {\"Records\":[...]} event", S->id);
  else if (q->count > 1 && q->payload_len > BP_MAX_EVENT_BYTES)
    failf(R, "invoke on %s: %zu records in a payload of %zu bytes (> %u)", S->id, q->count,
          q->payload_len, BP_MAX_EVENT_BYTES);
  minv nv;
  memset(&nv, 0, sizeof nv);
  nv.shard = s;
  nv.lane = q->lane;
  nv.n = q->count;
  for (size_t i = 0; i < q->count && !R->failed; i++) {
    const bp_record *b = BP_RECORD_AT(q->records, q->record_stride, i);
    int x = seq_index(S, b->seq, b->seq_len);
    if (x < 0) {
      failf(R, "invoke on %s: record %zu has a sequence number not in the shard", S->id, i);
      break;
    }
    const mrec *r = &S->r[x];
    nv.idx[i] = (uint16_t)x;
    nv.keymask |= 1u << r->key;
    if (i && x <= nv.idx[i - 1])
      failf(R, "invoke on %s: records not in ascending order (%s after %s)", S->id, r->seq,
            S->r[nv.idx[i - 1]].seq);
    if (lane_of(R, r->key) != q->lane)
      failf(R, "invoke on %s lane %u: record %s has key %s of lane %u", S->id, q->lane, r->seq,
            KEYS[r->key], lane_of(R, r->key));
    if (b->arrival_ms != r->arrival_ms || b->partition_key_len != strlen(KEYS[r->key]) ||
        memcmp(b->partition_key, KEYS[r->key], b->partition_key_len) != 0 ||
        (R->source == BP_SOURCE_KINESIS &&
         (b->data_len != r->data_len || memcmp(b->data, g_pool + r->data_off, r->data_len) != 0)))
      failf(R, "invoke on %s: record %s differs from the one fetched", S->id, r->seq);
    if (r->fin)
      failf(R, "invoke on %s: record %s was already finished in this engine life", S->id, r->seq);
    if (r->filtered)
      failf(R, "invoke on %s: record %s matches no filter pattern", S->id, r->seq);
  }
  if (R->failed) return 0;
  nv.ws = -1;
  if (R->tw) {
    /* One window per batch; the state carries the count of the window's records committed
     * since it opened (every batch's state reaches the next). */
    nv.ws = window_of(R, S->r[nv.idx[0]].arrival_ms);
    for (size_t i = 0; i < nv.n; i++)
      if (window_of(R, S->r[nv.idx[i]].arrival_ms) != nv.ws) {
        failf(R, "invoke on %s lane %u: records %s and %s of different tumbling windows", S->id,
              q->lane, S->r[nv.idx[0]].seq, S->r[nv.idx[i]].seq);
        return 0;
      }
    mwin *w = find_win(R, s, q->lane, nv.ws);
    if (!w) return 0;
    if (q->window_start_ms != nv.ws || q->window_end_ms != nv.ws + (int64_t)R->tw * 1000)
      failf(R, "invoke on %s lane %u: window [%lld, %lld), its records' window starts at %lld",
            S->id, q->lane, (long long)q->window_start_ms, (long long)q->window_end_ms,
            (long long)nv.ws);
    else if (state_count(q->state, q->state_len, &nv.in_n) != 0 || nv.in_n != w->seg)
      failf(R, "invoke on %s lane %u window %lld: state %.*s, but the window's records committed "
               "since it opened are %u",
            S->id, q->lane, (long long)nv.ws, (int)q->state_len, q->state ? q->state : "",
            w->seg);
  } else if (q->window_start_ms != -1 || q->window_end_ms != -1 || q->state) {
    failf(R, "invoke on %s: a window or state without tumbling windows", S->id);
  }
  if (R->failed) return 0;
  /* One invocation per lane; invocations sharing a key never overlap. */
  int slot = -1;
  for (int k = 0; k < MAX_INV; k++) {
    const minv *o = &R->inv[k];
    if (!o->used) {
      if (slot < 0) slot = k;
      continue;
    }
    if (o->shard != s) continue;
    if (o->lane == q->lane)
      failf(R, "two invocations in flight on %s lane %u", S->id, q->lane);
    else if (o->keymask & nv.keymask)
      failf(R, "invocations on %s lanes %u and %u overlap and share a partition key", S->id,
            o->lane, q->lane);
  }
  if (slot < 0) failf(R, "more than %d invocations in flight", MAX_INV);
  /* Retry accounting of the lane. */
  lanelast *ll = &R->lane_last[s][q->lane];
  if (q->flags & BP_INVOKE_RETRY) {
    /* RETRY: the lane's last batch again; with REMAINDER (an expired prefix was cut, the
     * counters kept) a tail of it. */
    int tail = (q->flags & BP_INVOKE_REMAINDER) != 0;
    if (!ll->valid || ll->last != nv.idx[nv.n - 1] ||
        (tail ? nv.idx[0] < ll->first || nv.n > ll->n : ll->first != nv.idx[0] || ll->n != nv.n))
      failf(R, "invoke on %s lane %u flagged RETRY with records %s..%s, not the lane's last batch",
            S->id, q->lane, S->r[nv.idx[0]].seq, S->r[nv.idx[nv.n - 1]].seq);
    else if (q->attempt != ll->attempt + 1)
      failf(R, "invoke on %s lane %u: RETRY attempt %u after attempt %u", S->id, q->lane,
            q->attempt, ll->attempt);
  } else if (q->flags == 0) {
    if (q->attempt != 1)
      failf(R, "invoke on %s lane %u: a fresh batch with attempt %u", S->id, q->lane, q->attempt);
    for (size_t i = 0; i < nv.n; i++)
      if (S->r[nv.idx[i]].inv_life) {
        failf(R, "invoke on %s lane %u: a fresh batch (no flags) holds record %s invoked before "
                 "in this life",
              S->id, q->lane, S->r[nv.idx[i]].seq);
        break;
      }
  }
  if (ll->k > 0 && !(R->last_fwd != BP_NO_DEADLINE && R->last_fwd >= ll->fail_done)) {
    /* (a clock step forward since the failure makes the backoff due early, as a pause would;
     * a step back keeps its remaining length: the wait in real time is the same) */
    int64_t wait = R->backoff_base;
    for (uint32_t i = 1; i < ll->k && wait < R->backoff_cap; i++) wait *= 2;
    if (wait > R->backoff_cap) wait = R->backoff_cap;
    if (R->now < ll->fail_done + wait)
      failf(R, "invoke on %s lane %u at %lld: %u consecutive failures, the last done at %lld, "
               "so no invocation before %lld (backoff %lld ms)",
            S->id, q->lane, (long long)(R->now - T0_MS), ll->k,
            (long long)(ll->fail_done - T0_MS), (long long)(ll->fail_done + wait - T0_MS),
            (long long)wait);
  }
  bp_engine_metrics sm = BP_ENGINE_METRICS_INIT;
  if (bp_engine_get_metrics(e, S->id, &sm) != 0 ||
      (sm.iterator_age_ms != wall(R) - S->r[nv.idx[nv.n - 1]].arrival_ms &&
       /* a clock step back can make the age negative: bp_engine_get_metrics then says -1,
        * its "none yet" (the BP_METRIC_ITERATOR_AGE event has the negative value) */
       !(sm.iterator_age_ms == -1 && wall(R) < S->r[nv.idx[nv.n - 1]].arrival_ms)))
    failf(R, "invoke on %s: IteratorAge %lld, not now - arrival of the last record = %lld",
          S->id, (long long)sm.iterator_age_ms,
          (long long)(wall(R) - S->r[nv.idx[nv.n - 1]].arrival_ms));
  if (R->failed) return 0;
  if (pct(R, 2)) {
    /* Driving calls from inside a callback are refused and do nothing. */
    R->t_in_callback++;
    const char *names[5] = {"bp_engine_tick", "bp_engine_del", "bp_engine_set_enabled",
                            "bp_engine_shutdown", "bp_engine_add_shard"};
    int rcs[5];
    rcs[0] = bp_engine_tick(e, wall(R));
    rcs[1] = bp_engine_del(e);
    rcs[2] = bp_engine_set_enabled(e, wall(R), 0);
    rcs[3] = bp_engine_shutdown(e, wall(R));
    rcs[4] = bp_engine_add_shard(e, "shardId-999999999999", NULL, NULL, NULL, 0);
    for (int i = 0; i < 5; i++)
      if (rcs[i] != BP_ERR_IN_CALLBACK)
        failf(R, "%s inside the invoke callback returned %s, not BP_ERR_IN_CALLBACK", names[i],
              bp_err_name(rcs[i]));
    if (R->failed) return 0;
  }
  if (pct(R, R->p_wouldblock)) return BP_ERR_WOULDBLOCK;

  ll->valid = 1;
  ll->first = nv.idx[0];
  ll->last = nv.idx[nv.n - 1];
  ll->n = nv.n;
  ll->attempt = q->attempt;
  minv *v = &R->inv[slot];
  *v = nv;
  v->used = 1;
  v->req_id = q->req_id;
  decide(R, v);
  if (v->res.body == v->body && v->body[0] == 0) v->res.body = NULL;
  for (size_t i = 0; i < v->n; i++) S->r[v->idx[i]].inv_life++;
  if (v->what != F_THROTTLE) {
    /* The function got these records: first deliveries per key in sequence order. */
    for (size_t i = 0; i < v->n && !R->failed; i++) {
      int j = v->idx[i];
      mrec *r = &S->r[j];
      if (r->deliveries == 0)
        for (int k = 0; k < j; k++) {
          const mrec *o = &S->r[k];
          if (o->key == r->key && o->deliveries == 0 && !o->discard_seen) {
            failf(R, "%s: record %s (key %s) delivered first while the earlier %s of that key "
                     "was neither delivered nor discarded",
                  S->id, r->seq, KEYS[r->key], o->seq);
            break;
          }
        }
      r->deliveries++;
    }
    R->t_invocations++;
  }
  if (q->flags & BP_INVOKE_SPLIT) R->t_splits++;
  if (q->flags & BP_INVOKE_REMAINDER) R->t_remainders++;
  if (q->payload_len > BP_MAX_EVENT_BYTES / 2) R->t_big_payloads++;
  trace(R, "invoke %llu on %s lane %u attempt %u flags %u: %s..%s (%zu), payload %zu -> what %d",
        (unsigned long long)q->req_id, S->id, q->lane, q->attempt, q->flags, S->r[v->idx[0]].seq,
        S->r[v->idx[v->n - 1]].seq, v->n, q->payload_len, v->what);
  answer_invoke(R, s, q->req_id, slot);
  return 0;
}

static const char *jstr(yajl_val v) {
  const char *t = v && YAJL_IS_STRING(v) ? v->u.string : NULL;
  return t ? t : "";
}

/* The on-failure record's JSON agrees with the request. */
static void check_failure_json(run *R, const mshard *S, const bp_delivery_req *q) {
  char err[128];
  if (!q->record_json || q->record_json_len != strlen(q->record_json)) {
    failf(R, "delivery on %s: record_json missing or not NUL-terminated", S->id);
    return;
  }
  yajl_val root = yajl_tree_parse(q->record_json, err, sizeof err);
  if (!root) {
    failf(R, "delivery on %s: record_json is not JSON (%s)", S->id, err);
    return;
  }
  const char *info = R->source == BP_SOURCE_KINESIS ? "KinesisBatchInfo" : "DDBStreamBatchInfo";
  const char *p_cond[] = {"requestContext", "condition", NULL};
  const char *p_aic[] = {"requestContext", "approximateInvokeCount", NULL};
  const char *p_resp[] = {"responseContext", NULL};
  const char *p_size[] = {info, "batchSize", NULL};
  const char *p_start[] = {info, "startSequenceNumber", NULL};
  const char *p_end[] = {info, "endSequenceNumber", NULL};
  const char *p_shard[] = {info, "shardId", NULL};
  yajl_val cond = yajl_tree_get(root, p_cond, yajl_t_string);
  yajl_val aic = yajl_tree_get(root, p_aic, yajl_t_number);
  yajl_val resp = yajl_tree_get(root, p_resp, yajl_t_object);
  yajl_val size = yajl_tree_get(root, p_size, yajl_t_number);
  yajl_val start = yajl_tree_get(root, p_start, yajl_t_string);
  yajl_val end = yajl_tree_get(root, p_end, yajl_t_string);
  yajl_val shard = yajl_tree_get(root, p_shard, yajl_t_string);
  const char *want_cond = q->condition == BP_CONDITION_RETRY_ATTEMPTS_EXHAUSTED
                              ? "RetryAttemptsExhausted"
                              : "RecordAgeExceeded";
  const bp_record *first = BP_RECORD_AT(q->records, q->record_stride, 0);
  const bp_record *last = BP_RECORD_AT(q->records, q->record_stride, q->count - 1);
  if (!cond || strcmp(jstr(cond), want_cond) != 0)
    failf(R, "delivery on %s: condition in the record is not %s", S->id, want_cond);
  else if (!aic || !YAJL_IS_INTEGER(aic) ||
           YAJL_GET_INTEGER(aic) != (long long)q->approximate_invoke_count)
    failf(R, "delivery on %s: approximateInvokeCount in the record differs from %u", S->id,
          q->approximate_invoke_count);
  else if ((resp != NULL) != (q->condition == BP_CONDITION_RETRY_ATTEMPTS_EXHAUSTED))
    failf(R, "delivery on %s: responseContext %s with %s", S->id, resp ? "present" : "absent",
          want_cond);
  else if (!size || !YAJL_IS_INTEGER(size) || YAJL_GET_INTEGER(size) != (long long)q->count)
    failf(R, "delivery on %s: batchSize differs from the %zu records", S->id, q->count);
  else if (!start || strlen(jstr(start)) != first->seq_len ||
           memcmp(jstr(start), first->seq, first->seq_len) != 0)
    failf(R, "delivery on %s: startSequenceNumber is not the first record's", S->id);
  else if (!end || strlen(jstr(end)) != last->seq_len ||
           memcmp(jstr(end), last->seq, last->seq_len) != 0)
    failf(R, "delivery on %s: endSequenceNumber is not the last record's", S->id);
  else if (!shard || strcmp(jstr(shard), S->id) != 0)
    failf(R, "delivery on %s: shardId differs", S->id);
  yajl_tree_free(root);
}

static int cb_deliver(bp_engine *e, const bp_delivery_req *q, void *ud) {
  run *R = ud;
  (void)e;
  R->activity++;
  if (R->failed) return 0;
  int s = shard_by_id(R, q->shard_id);
  if (s < 0) {
    failf(R, "delivery for unknown shard %s", q->shard_id ? q->shard_id : "(null)");
    return 0;
  }
  mshard *S = &R->sh[s];
  if (pct(R, R->p_wouldblock)) return BP_ERR_WOULDBLOCK;
  if (!R->dest) failf(R, "delivery on %s without a destination", S->id);
  if (q->count < 1 || q->count > R->batch || !q->records) {
    failf(R, "delivery on %s of %zu records (BatchSize %u)", S->id, q->count, R->batch);
    return 0;
  }
  if (q->destination_type != BP_DESTINATION_SQS || !q->destination ||
      strcmp(q->destination, DLQ_ARN) != 0)
    failf(R, "delivery on %s: destination %s type %d", S->id,
          q->destination ? q->destination : "(null)", q->destination_type);
  uint16_t idx[MAX_BATCH];
  for (size_t i = 0; i < q->count && !R->failed; i++) {
    const bp_record *ri = BP_RECORD_AT(q->records, q->record_stride, i);
    int x = seq_index(S, ri->seq, ri->seq_len);
    if (x < 0) {
      failf(R, "delivery on %s: record %zu has a sequence number not in the shard", S->id, i);
      break;
    }
    idx[i] = (uint16_t)x;
    if (S->r[x].filtered)
      failf(R, "delivery on %s: record %s matches no filter pattern", S->id, S->r[x].seq);
    if (lane_of(R, S->r[x].key) != q->lane)
      failf(R, "delivery on %s lane %u: record %s is of lane %u", S->id, q->lane, S->r[x].seq,
            lane_of(R, S->r[x].key));
  }
  if (R->failed) return 0;
  /* The discarded records are the lane's records from the first to the last. */
  uint16_t span[MAX_BATCH];
  size_t m = lane_range(R, S, idx[0], idx[q->count - 1], q->lane, span, MAX_BATCH);
  if (m != q->count)
    failf(R, "delivery on %s lane %u: %zu records, but the lane has %zu from %s to %s", S->id,
          q->lane, q->count, m, S->r[idx[0]].seq, S->r[idx[q->count - 1]].seq);
  check_discard(R, s, idx, q->count, q->condition, q->approximate_invoke_count, q->timestamp_ms,
                "delivery");
  check_failure_json(R, S, q);
  if (R->failed) return 0;
  R->t_discards++;
  trace(R, "delivery %llu on %s lane %u: %s..%s (%zu) condition %d aic %u",
        (unsigned long long)q->req_id, S->id, q->lane, S->r[idx[0]].seq,
        S->r[idx[q->count - 1]].seq, q->count, q->condition, q->approximate_invoke_count);
  pend p;
  memset(&p, 0, sizeof p);
  p.kind = P_DELIVER;
  p.shard = s;
  p.req_id = q->req_id;
  p.count = q->count;
  memcpy(p.idx, idx, q->count * sizeof idx[0]);
  p.status = pct(R, R->p_deliv_err) ? BP_ERR_IO : 0;
  if (pct(R, R->sync_deliver)) {
    complete_delivery(R, &p);
  } else {
    p.due = delay(R, R->max_delay);
    push_pend(R, &p);
  }
  return 0;
}

/* A checkpoint about to be stored: records up to it finished, never behind. */
static int check_save(run *R, int s, const char *seq, size_t len, int final, const char *what) {
  mshard *S = &R->sh[s];
  int x = seq_index(S, seq, len);
  if (x < 0) {
    failf(R, "%s of %s: %.*s is not a sequence number of the shard", what, S->id, (int)len,
          seq ? seq : "");
    return -1;
  }
  check_passed(R, s, x, -1, what);
  if (x < S->save_req)
    failf(R, "%s of %s at %s after one at %s (moves back)", what, S->id, S->r[x].seq,
          seq_of(S, S->save_req));
  if (x < S->stored)
    failf(R, "%s of %s at %s behind the stored %s", what, S->id, S->r[x].seq,
          seq_of(S, S->stored));
  if (final && (!S->closed || x != (int)S->n - 1))
    failf(R, "%s of %s at %s flagged final (closed %d, last %s)", what, S->id, S->r[x].seq,
          S->closed, seq_of(S, (int)S->n - 1));
  if (x > S->save_req) S->save_req = x;
  return x;
}

static int cb_store(bp_engine *e, const bp_checkpoint_req *q, void *ud) {
  run *R = ud;
  (void)e;
  R->activity++;
  if (R->failed) return 0;
  int s = shard_by_id(R, q->shard_id);
  if (s < 0) {
    failf(R, "checkpoint of unknown shard %s", q->shard_id ? q->shard_id : "(null)");
    return 0;
  }
  mshard *S = &R->sh[s];
  if (R->file_mode) failf(R, "store_checkpoint called though the transport has none");
  int x = check_save(R, s, q->seq, q->seq_len, q->final, "checkpoint save");
  if (S->saves_out)
    failf(R, "two checkpoint saves of %s in flight (completions could reorder them)", S->id);
  if (R->failed) return 0;
  if (pct(R, R->p_wouldblock)) return BP_ERR_WOULDBLOCK;
  trace(R, "save %llu of %s at %s%s", (unsigned long long)q->req_id, S->id, S->r[x].seq,
        q->final ? " (final)" : "");
  pend p;
  memset(&p, 0, sizeof p);
  p.kind = P_SAVE;
  p.shard = s;
  p.req_id = q->req_id;
  p.save_idx = x;
  p.status = pct(R, R->p_save_err) ? BP_ERR_IO : 0;
  S->saves_out++;
  if (pct(R, R->sync_save)) {
    complete_save(R, &p);
  } else {
    p.due = delay(R, R->max_delay);
    push_pend(R, &p);
  }
  return 0;
}

static void on_checkpoint_event(run *R, int s, const bp_engine_event *ev) {
  mshard *S = &R->sh[s];
  int x = seq_index(S, ev->first_seq, ev->first_seq_len);
  if (x < 0) {
    failf(R, "checkpoint event of %s: %.*s is not a sequence number of the shard", S->id,
          (int)ev->first_seq_len, ev->first_seq ? ev->first_seq : "");
    return;
  }
  if (x < S->life_cp) {
    failf(R, "checkpoint of %s moves back from %s to %s", S->id, S->r[S->life_cp].seq,
          S->r[x].seq);
    return;
  }
  check_passed(R, s, x, S->life_cp, "checkpoint");
  S->life_cp = x;
}

static void on_discard_event(run *R, int s, const bp_engine_event *ev) {
  mshard *S = &R->sh[s];
  int a = seq_index(S, ev->first_seq, ev->first_seq_len);
  int b = seq_index(S, ev->last_seq, ev->last_seq_len);
  if (a < 0 || b < a) {
    failf(R, "discard event of %s: bad first/last sequence numbers", S->id);
    return;
  }
  uint16_t idx[MAX_BATCH];
  size_t m = lane_range(R, S, a, b, ev->lane, idx, MAX_BATCH);
  if (m != ev->count || m > MAX_BATCH) {
    failf(R, "discard event of %s lane %u: count %llu, but the lane has %zu records from %s to %s",
          S->id, ev->lane, (unsigned long long)ev->count, m, S->r[a].seq, S->r[b].seq);
    return;
  }
  if (ev->lane < MAX_PF) R->lane_last[s][ev->lane].k = 0; /* any discard resets the backoff */
  if (R->dest) return; /* the delivery request is checked and finishes them */
  check_discard(R, s, idx, m, ev->detail, (uint32_t)ev->value, ev->now_ms, "discard");
  for (size_t i = 0; i < m; i++) {
    S->r[idx[i]].covered = 1;
    S->r[idx[i]].fin = 1;
  }
  R->l_nodest += m;
  R->t_discards++;
}

static int cb_event(bp_engine *e, const bp_engine_event *ev, void *ud) {
  run *R = ud;
  (void)e;
  if (R->failed) return 0;
  int s = ev->shard_id ? shard_by_id(R, ev->shard_id) : -1;
  if (R->verbose && ev->type != BP_EVENT_METRIC)
    trace(R, "  event %d shard %s lane %u detail %d count %llu value %lld %.*s..%.*s %s", ev->type,
          ev->shard_id ? ev->shard_id : "-", ev->lane, ev->detail, (unsigned long long)ev->count,
          (long long)ev->value, (int)ev->first_seq_len, ev->first_seq ? ev->first_seq : "",
          (int)ev->last_seq_len, ev->last_seq ? ev->last_seq : "", ev->message ? ev->message : "");
  if (ev->now_ms > wall(R) && !R->in_add)
    failf(R, "event %d at %lld, after the host's time %lld", ev->type,
          (long long)(ev->now_ms - T0_MS), (long long)(wall(R) - T0_MS));
  switch (ev->type) {
  case BP_EVENT_CHECKPOINT:
    if (s < 0) failf(R, "checkpoint event without a known shard");
    else on_checkpoint_event(R, s, ev);
    break;
  case BP_EVENT_DISCARD:
    if (s < 0) failf(R, "discard event without a known shard");
    else on_discard_event(R, s, ev);
    break;
  case BP_EVENT_SHARD_ENDED:
    if (s < 0) {
      failf(R, "shard-ended event without a known shard");
      break;
    }
    if (!R->sh[s].closed) failf(R, "shard-ended event of the open shard %s", R->sh[s].id);
    else if (R->sh[s].n && R->sh[s].stored != (int)R->sh[s].n - 1)
      failf(R, "shard %s ended with its stored checkpoint at %s, not the last record %s",
            R->sh[s].id, seq_of(&R->sh[s], R->sh[s].stored), R->sh[s].r[R->sh[s].n - 1].seq);
    else check_passed(R, s, (int)R->sh[s].n - 1, -1, "shard end");
    R->sh[s].ended_ev = 1;
    R->t_shard_ends++;
    break;
  case BP_EVENT_DRAINED:
    if (!R->shutting) failf(R, "drained event without bp_engine_shutdown");
    R->drained_ev = 1;
    break;
  default:
    break;
  }
  return 0;
}

/* ---- the file store, wrapped to fail on purpose ---- */

static int st_load(const char *mapping, const char *shard, char *out, size_t cap, size_t *len,
                   void *ud) {
  run *R = ud;
  if (R->store_inject && pct(R, R->p_load_err)) return BP_ERR_IO;
  return bp_file_store_ops()->load(mapping, shard, out, cap, len, R->fs);
}

static int st_save(const char *mapping, const char *shard, const char *seq, size_t len, void *ud) {
  run *R = ud;
  R->activity++;
  if (R->failed) return BP_ERR_IO;
  int s = shard_by_id(R, shard);
  if (s < 0 || strcmp(mapping, MAPPING_UUID) != 0) {
    failf(R, "store save for mapping %s shard %s", mapping, shard);
    return BP_ERR_IO;
  }
  int x = check_save(R, s, seq, len, 0, "store save");
  if (R->failed) return BP_ERR_IO;
  if (pct(R, R->p_wouldblock)) return BP_ERR_WOULDBLOCK;
  if (pct(R, R->p_save_err)) {
    trace(R, "store save of %s at %s: failed on purpose", R->sh[s].id, R->sh[s].r[x].seq);
    return BP_ERR_IO;
  }
  int rc = bp_file_store_ops()->save(mapping, shard, seq, len, R->fs);
  if (rc) {
    failf(R, "file store save: %s (%s)", bp_err_name(rc), bp_file_store_errmsg(R->fs));
    return rc;
  }
  mshard *S = &R->sh[s];
  if (x < S->stored)
    failf(R, "stored checkpoint of %s moves back from %s to %s", S->id, seq_of(S, S->stored),
          S->r[x].seq);
  S->stored = x;
  trace(R, "store save of %s at %s", S->id, S->r[x].seq);
  return 0;
}

static int st_remove(const char *mapping, const char *shard, void *ud) {
  run *R = ud;
  int s = shard_by_id(R, shard);
  int rc = bp_file_store_ops()->remove(mapping, shard, R->fs);
  trace(R, "store remove of %s: %d", shard, rc);
  if (s >= 0 && (rc == 0 || rc == BP_STORE_NOT_FOUND)) R->sh[s].stored = -1;
  return rc;
}

static const char *st_errmsg(void *ud) {
  run *R = ud;
  return bp_file_store_errmsg(R->fs);
}

/* ---- engine lives ---- */

/* Give the engine one shard of the stream (children only once the host knows them). A
 * stored checkpoint comes from the file store (the engine loads it) or from the host. */
static void add_shard(run *R, int s) {
  mshard *S = &R->sh[s];
  if (S->late && !R->discovered) return;
  const char *parent = S->parent >= 0 ? R->sh[S->parent].id : NULL;
  const char *adj = S->adj >= 0 ? R->sh[S->adj].id : NULL;
  const char *cp = NULL;
  size_t cp_len = 0;
  if (!R->file_mode && S->stored >= 0) {
    cp = S->r[S->stored].seq;
    cp_len = S->r[S->stored].seq_len;
  }
  for (int tries = 0;; tries++) {
    R->store_inject = tries < 3;
    R->in_add = 1;
    int rc = bp_engine_add_shard(R->e, S->id, parent, adj, cp, cp_len);
    R->in_add = 0;
    R->store_inject = 1;
    if (rc == BP_ERR_IO && R->file_mode && tries < 3) continue; /* injected load failure */
    expect_ok(R, rc, "bp_engine_add_shard");
    break;
  }
}

static void start_life(run *R) {
  char err[256] = "";
  test_alloc_init(&R->ta, &R->al);
  if (R->file_mode) {
    int rc = bp_file_store_new(&R->fs, R->dir, NULL, err, sizeof err);
    if (rc) {
      failf(R, "bp_file_store_new(%s): %s", R->dir, err);
      return;
    }
    /* What the previous life stored is on disk. */
    for (int s = 0; s < R->nshards; s++) {
      char seq[BP_STORE_SEQ_CAP];
      size_t len = 0;
      mshard *S = &R->sh[s];
      rc = bp_store_load(bp_file_store_ops(), R->fs, MAPPING_UUID, S->id, seq, sizeof seq, &len,
                         err, sizeof err);
      int x = rc == 0 ? seq_index(S, seq, len) : -1;
      if (rc < 0 || (rc == 0 && x < 0) || x != S->stored)
        failf(R, "file store holds %s for %s (rc %d), the model %s", rc == 0 ? seq : "nothing",
              S->id, rc, seq_of(S, S->stored));
    }
  }
  bp_engine_opts o;
  bp_engine_opts_init(&o, sizeof o);
  o.invoke_identity_arn = ROLE_ARN;
  o.mapping_uuid = MAPPING_UUID;
  o.seed = R->seed * 31 + (uint64_t)R->lives;
  o.max_buffered_records = R->max_buf;
  o.backoff_base_ms = R->backoff_base;
  o.backoff_cap_ms = R->backoff_cap;
  bp_transport t;
  memset(&t, 0, sizeof t);
  t.fetch = cb_fetch;
  t.invoke = cb_invoke;
  t.deliver = cb_deliver;
  t.on_event = cb_event;
  if (R->file_mode) {
    memset(&R->store_ops, 0, sizeof R->store_ops);
    R->store_ops.version = BP_STORE_OPS_VERSION;
    R->store_ops.load = st_load;
    R->store_ops.save = st_save;
    R->store_ops.remove = st_remove;
    R->store_ops.errmsg = st_errmsg;
    o.store = &R->store_ops;
    o.store_user_data = R;
  } else {
    t.store_checkpoint = cb_store;
  }
  R->e = NULL;
  int rc = bp_engine_new(&R->e, R->cfg, &o, &t, R, &R->al, err, sizeof err);
  if (rc) {
    failf(R, "bp_engine_new: %s (%s)", bp_err_name(rc), err);
    return;
  }
  R->enabled = 1;
  R->shutting = R->drained_ev = 0;
  R->enable_at = BP_NO_DEADLINE;
  R->npend = 0;
  memset(R->inv, 0, sizeof R->inv);
  memset(R->lane_last, 0, sizeof R->lane_last);
  R->l_invoked = R->l_invocations = R->l_throttled = R->l_failed = R->l_polled = 0;
  R->l_nodest = R->l_deliv_ok = R->l_deliv_fail_recs = R->l_deliv_fail = R->l_filtered = 0;
  R->nwin = 0;
  R->spin = 0;
  for (int s = 0; s < R->nshards; s++) {
    mshard *S = &R->sh[s];
    S->life_cp = S->save_req = S->stored;
    S->read_next = S->stored + 1;
    S->fetch_out = S->saves_out = S->end_returned = S->ended_ev = S->last_short = 0;
    S->follow = 0; /* a new engine life starts from the stored checkpoint */
    for (size_t i = 0; i < S->n; i++) {
      S->r[i].fin = (uint8_t)((int)i <= S->stored);
      S->r[i].inv_life = 0;
      S->r[i].held = 0;
    }
  }
  /* Parents come first in the shard table, so they are added before their children. */
  for (int s = 0; s < R->nshards && !R->failed; s++) add_shard(R, s);
  R->lives++;
  trace(R, "engine life %d starts", R->lives);
}

/* End an engine life: a crash (requests in flight are abandoned) or after draining. */
static void end_life(run *R, int crash) {
  if (!R->e) return;
  if (crash && !R->file_mode) {
    /* A save in flight may have reached the store before the crash. */
    for (size_t i = 0; i < R->npend; i++) {
      const pend *p = &R->pend[i];
      mshard *S = &R->sh[p->shard];
      if (p->kind == P_SAVE && p->status == 0 && pct(R, 50) && p->save_idx >= S->stored)
        S->stored = p->save_idx;
    }
  }
  R->npend = 0;
  memset(R->inv, 0, sizeof R->inv);
  int rc = bp_engine_del(R->e);
  R->e = NULL;
  if (rc) failf(R, "bp_engine_del returned %s", bp_err_name(rc));
  if (!R->failed && R->ta.live_blocks)
    failf(R, "leak: %zu blocks (%zu bytes) live after bp_engine_del", R->ta.live_blocks,
          R->ta.live_bytes);
  if (R->fs) {
    bp_file_store_del(R->fs);
    R->fs = NULL;
  }
}

/* ---- checks after every step ---- */

static void check_step(run *R) {
  if (R->failed || !R->e) return;
  bp_engine_metrics m = BP_ENGINE_METRICS_INIT, ms = BP_ENGINE_METRICS_INIT;
  if (bp_engine_get_metrics(R->e, NULL, &m) != 0) {
    failf(R, "bp_engine_get_metrics failed");
    return;
  }
#define EQ(field, want)                                                                          \
  if (m.field != (want)) {                                                                       \
    failf(R, "metric " #field " is %llu, the host saw %llu", (unsigned long long)m.field,       \
          (unsigned long long)(want));                                                           \
    return;                                                                                      \
  }
  EQ(invoked_event_count, R->l_invoked)
  EQ(invocations, R->l_invocations)
  EQ(throttled_attempts, R->l_throttled)
  EQ(failed_invoke_event_count, R->l_failed)
  EQ(polled_event_count, R->l_polled)
  EQ(filtered_out_event_count, R->l_filtered)
  EQ(on_failure_destination_delivered_event_count, R->l_deliv_ok)
  EQ(dropped_event_count, R->l_nodest + R->l_deliv_fail_recs)
  EQ(destination_delivery_failures, R->l_deliv_fail)
#undef EQ
  uint64_t inv = 0, pol = 0, drop = 0;
  for (int s = 0; s < R->nshards; s++) {
    mshard *S = &R->sh[s];
    if (S->late && !R->discovered) continue; /* not given to the engine yet */
    if (bp_engine_get_metrics(R->e, S->id, &ms) != 0) {
      failf(R, "bp_engine_get_metrics(%s) failed", S->id);
      return;
    }
    inv += ms.invoked_event_count;
    pol += ms.polled_event_count;
    drop += ms.dropped_event_count;
    char buf[BP_STORE_SEQ_CAP];
    size_t len = 0;
    int rc = bp_engine_get_checkpoint(R->e, S->id, buf, sizeof buf, &len);
    int x = rc == 0 ? seq_index(S, buf, len) : -1;
    if ((rc != 0 && rc != BP_STORE_NOT_FOUND) || (rc == 0 && x < 0)) {
      failf(R, "bp_engine_get_checkpoint(%s) returned %d (%s)", S->id, rc, buf);
      return;
    }
    if (x != S->life_cp) {
      failf(R, "bp_engine_get_checkpoint(%s) is %s, its events said %s", S->id, seq_of(S, x),
            seq_of(S, S->life_cp));
      return;
    }
  }
  if (inv != m.invoked_event_count || pol != m.polled_event_count || drop != m.dropped_event_count)
    failf(R, "per-shard metrics do not add up to the engine's");
}

/* Every record finished and its checkpoint stored; closed shards ended. */
static int all_done(run *R) {
  if (!R->discovered) return 0;
  for (int s = 0; s < R->nshards; s++) {
    mshard *S = &R->sh[s];
    if (S->n && (S->stored != (int)S->n - 1 || S->life_cp != (int)S->n - 1)) return 0;
    if (S->closed && bp_engine_get_shard_state(R->e, S->id) != BP_SHARD_ENDED) return 0;
  }
  return 1;
}

static int64_t next_pend(const run *R) {
  int64_t t = BP_NO_DEADLINE;
  for (size_t i = 0; i < R->npend; i++)
    if (R->pend[i].due < t) t = R->pend[i].due;
  return t;
}

static void describe_state(run *R, char *buf, size_t len) {
  size_t k = 0;
  for (int s = 0; s < R->nshards && k < len; s++) {
    mshard *S = &R->sh[s];
    if (S->late && !R->discovered) continue;
    k += (size_t)snprintf(buf + k, len - k, " [%s n=%zu cp=%s stored=%s state=%d]", S->id, S->n,
                          seq_of(S, S->life_cp), seq_of(S, S->stored),
                          bp_engine_get_shard_state(R->e, S->id));
  }
}

/* One host step: move the clock to the next thing due and do it. */
static void step(run *R) {
  if (++R->steps > MAX_STEPS || R->now > T_LIMIT_MS) {
    char st[512] = "";
    describe_state(R, st, sizeof st);
    failf(R, "runaway: %ld steps, %lld ms simulated, not finished:%s", R->steps,
          (long long)(R->now - T0_MS), st);
    return;
  }
  int64_t dl = bp_engine_next_deadline(R->e);
  if (dl != BP_NO_DEADLINE) dl -= R->clk; /* the engine's deadline is on the wall clock */
  int64_t tp = next_pend(R);
  int64_t ta = R->enabled || R->shutting ? BP_NO_DEADLINE : R->enable_at;
  int64_t t = dl < tp ? dl : tp;
  if (ta < t) t = ta;
  if (!R->discovered && !R->shutting && R->discover_at < t) t = R->discover_at;
  if (t == BP_NO_DEADLINE) {
    char st[512] = "";
    describe_state(R, st, sizeof st);
    failf(R, "stuck: no deadline and nothing in flight, but not finished:%s", st);
    return;
  }
  int64_t before = R->now;
  if (t > R->now) R->now = t;
  if (wall(R) > R->wall_hi) R->wall_hi = wall(R);
  uint64_t act = R->activity;
  int rc;
  if (!R->discovered && !R->shutting && R->discover_at <= R->now) {
    /* the run loop adds the children */
  } else if (ta <= R->now) {
    trace(R, "enable");
    R->enabled = 1;
    rc = bp_engine_set_enabled(R->e, wall(R), 1);
    expect_ok(R, rc, "bp_engine_set_enabled(1)");
  } else if (tp <= R->now && (dl > R->now || pct(R, 50))) {
    size_t due[MAX_PEND], nd = 0;
    for (size_t i = 0; i < R->npend; i++)
      if (R->pend[i].due <= R->now) due[nd++] = i;
    size_t i = due[below(R, (uint32_t)nd)];
    pend p = R->pend[i];
    R->pend[i] = R->pend[--R->npend];
    complete(R, &p);
  } else {
    rc = bp_engine_tick(R->e, wall(R));
    expect_ok(R, rc, "bp_engine_tick");
    /* A deadline at or before now must mean work that a tick does. */
    if (R->activity == act && R->now == before && bp_engine_next_deadline(R->e) <= wall(R)) {
      if (++R->spin > 50) failf(R, "the deadline stays at or before now, but ticks do nothing");
    } else {
      R->spin = 0;
    }
  }
  check_step(R);
}

/* Shutdown and drain, then check that every checkpoint is stored. */
static void drain(run *R) {
  trace(R, "shutdown");
  R->shutting = 1;
  int rc = bp_engine_shutdown(R->e, wall(R));
  expect_ok(R, rc, "bp_engine_shutdown");
  check_step(R);
  while (!R->failed && !bp_engine_drained(R->e)) step(R);
  if (R->failed) return;
  if (!R->drained_ev) failf(R, "drained without a BP_EVENT_DRAINED event");
  for (int s = 0; s < R->nshards && !R->failed; s++) {
    mshard *S = &R->sh[s];
    if (S->life_cp != S->stored)
      failf(R, "drained with %s's checkpoint %s not stored (stored %s)", S->id,
            seq_of(S, S->life_cp), seq_of(S, S->stored));
  }
}

static void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *de;
    char path[512];
    while ((de = readdir(d)) != NULL) {
      if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
      snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
      unlink(path);
    }
    closedir(d);
  }
  rmdir(dir);
}

/* One run; 0 when every invariant held, else -1 with R->msg. */
static int run_one(run *R, uint64_t seed, int verbose, const char *tmpdir) {
  memset(R, 0, sizeof *R);
  R->seed = seed;
  R->rng = seed * UINT64_C(0x2545F4914F6CDD1D) + 1;
  R->verbose = verbose;
  R->now = T0_MS;
  R->last_fwd = BP_NO_DEADLINE;
  R->wall_hi = R->now;
  gen_run(R);
  if (R->verbose)
    fprintf(stderr,
            "seed %llu: source %d shards %d keys %d batch %u window %d pf %d mra %d age %d bisect "
            "%d rbif %d dest %d file %d big %d backoff %lld/%lld maxbuf %u sync %d/%d/%d/%d "
            "delay %lld dur %lld fail %d throttle %d budget %d crashes %d graces %d toggle %d "
            "tumbling %d filter %d/%#x clock steps %d/%d\n",
            (unsigned long long)seed, R->source, R->nshards, R->nkeys, R->batch, R->window, R->pf,
            R->mra, R->age, R->bisect, R->rbif, R->dest, R->file_mode, R->big,
            (long long)R->backoff_base, (long long)R->backoff_cap, R->max_buf, R->sync_fetch,
            R->sync_invoke, R->sync_deliver, R->sync_save, (long long)R->max_delay,
            (long long)R->max_duration, R->p_fail, R->p_throttle, R->budget, R->max_crashes,
            R->max_graces, R->toggle_permille, R->tw, R->filt, R->passmask,
            R->clock_permille, R->max_clock_steps);
  if (R->file_mode) {
    snprintf(R->dir, sizeof R->dir, "%s/bp-model-XXXXXX", tmpdir);
    if (!mkdtemp(R->dir)) {
      failf(R, "mkdtemp(%s) failed", R->dir);
      return -1;
    }
  }
  if (make_config(R) == 0) start_life(R);
  while (!R->failed) {
    if (!R->discovered && R->now >= R->discover_at) {
      trace(R, "the host discovers the children");
      R->discovered = 1;
      for (int s = 0; s < R->nshards && !R->failed; s++)
        if (R->sh[s].late) add_shard(R, s);
      check_step(R);
      continue;
    }
    if (all_done(R)) break;
    if (permille(R, R->crash_permille) && R->crashes < R->max_crashes) {
      trace(R, "CRASH");
      R->crashes++;
      end_life(R, 1);
      if (!R->failed) start_life(R);
      continue;
    }
    if (permille(R, R->grace_permille) && R->graces < R->max_graces) {
      R->graces++;
      drain(R);
      end_life(R, 0);
      if (!R->failed) start_life(R);
      continue;
    }
    if (R->nclk < R->max_clock_steps && permille(R, R->clock_permille)) {
      static const int64_t sizes[] = {1, 1000, 3600000};
      int64_t d = sizes[below(R, 3)] * (pct(R, 60) ? -1 : 1);
      R->nclk++;
      R->t_clock_steps++;
      int64_t before = bp_engine_next_deadline(R->e);
      if (before != BP_NO_DEADLINE) before -= R->clk;
      R->clk += d;
      if (d > 0) R->last_fwd = R->now;
      if (wall(R) > R->wall_hi) R->wall_hi = wall(R);
      trace(R, "the wall clock steps %+lld ms", (long long)d);
      /* The host ticks on its own cadence: the engine sees the step at once. A step back
       * keeps every decided wait's remaining length: nothing waits longer in real time
       * (tumbling windows' ends excepted: they stay on the wall clock). */
      uint64_t act = R->activity;
      int rc = bp_engine_tick(R->e, wall(R));
      expect_ok(R, rc, "bp_engine_tick (after a clock step)");
      int64_t after = bp_engine_next_deadline(R->e);
      if (after != BP_NO_DEADLINE) after -= R->clk;
      if (d < 0 && !R->tw && R->activity == act && before != BP_NO_DEADLINE && before > R->now &&
          after > before)
        failf(R, "a clock step of %lld ms moved the next deadline from %lld to %lld (real time)",
              (long long)d, (long long)(before - T0_MS),
              after == BP_NO_DEADLINE ? -1LL : (long long)(after - T0_MS));
      check_step(R);
      continue;
    }
    if (R->enabled && permille(R, R->toggle_permille)) {
      trace(R, "disable");
      R->enabled = 0;
      R->enable_at = R->now + upto(R, 30000);
      int rc = bp_engine_set_enabled(R->e, wall(R), 0);
      expect_ok(R, rc, "bp_engine_set_enabled(0)");
      check_step(R);
      continue;
    }
    step(R);
  }
  if (!R->failed && R->final_shutdown) drain(R);
  /* No record lost: each was committed or discarded with its on-failure record. */
  for (int s = 0; s < R->nshards && !R->failed; s++) {
    mshard *S = &R->sh[s];
    for (size_t i = 0; i < S->n; i++)
      if (!S->r[i].committed && !S->r[i].covered && !S->r[i].filtered) {
        failf(R, "record %s of %s lost: never committed nor discarded (delivered %u times)",
              S->r[i].seq, S->id, S->r[i].deliveries);
        break;
      }
    if (!R->failed && S->closed && !S->ended_ev)
      failf(R, "closed shard %s ended without a BP_EVENT_SHARD_ENDED event in this life", S->id);
  }
  if (R->e) {
    if (R->failed) { /* no leak check after a violation: state is unknown */
      bp_engine_del(R->e);
      R->e = NULL;
      if (R->fs) bp_file_store_del(R->fs);
      R->fs = NULL;
    } else {
      end_life(R, 0);
    }
  }
  bp_config_del(R->cfg);
  R->cfg = NULL;
  if (R->file_mode) remove_dir(R->dir);
  return R->failed ? -1 : 0;
}

static double seconds_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_model(void **state) {
  (void)state;
  const char *env_runs = getenv("BP_MODEL_RUNS");
  const char *env_seed = getenv("BP_MODEL_SEED");
  const char *env_verbose = getenv("BP_MODEL_VERBOSE");
  const char *tmpdir = getenv("BP_MODEL_TMPDIR");
  if (!tmpdir || !*tmpdir) tmpdir = getenv("TMPDIR");
  if (!tmpdir || !*tmpdir) tmpdir = "/tmp";
  int verbose = env_verbose && *env_verbose && strcmp(env_verbose, "0") != 0;
  const char *env_list = getenv("BP_MODEL_LIST"); /* one line per run (replay checks) */
  int list = env_list && *env_list && strcmp(env_list, "0") != 0;
  uint64_t first = 0, runs = DEFAULT_RUNS;
  if (env_runs && *env_runs) runs = strtoull(env_runs, NULL, 10);
  if (env_seed && *env_seed) {
    first = strtoull(env_seed, NULL, 10);
    runs = 1;
  }
  for (size_t i = 0; i < sizeof g_pool; i++) g_pool[i] = (uint8_t)(i * 2654435761u >> 13);

  double t0 = seconds_now();
  uint64_t failures = 0, lives = 0, crashes = 0, graces = 0, invocations = 0, discards = 0;
  uint64_t age = 0, retry = 0, splits = 0, rem = 0, big = 0, ends = 0, incb = 0, file_runs = 0;
  uint64_t tw_runs = 0, filt_runs = 0, finals = 0, reopens = 0, filtered = 0, clk = 0;
  long steps = 0;
  for (uint64_t i = 0; i < runs; i++) {
    run *R = &g_run;
    uint64_t seed = first + i;
    if (run_one(R, seed, verbose, tmpdir) != 0) {
      if (failures < 20)
        print_error("model run seed %llu failed: %s\n  replay: BP_MODEL_SEED=%llu "
                    "BP_MODEL_VERBOSE=1 test_engine_model\n",
                    (unsigned long long)seed, R->msg, (unsigned long long)seed);
      failures++;
    }
    if (list)
      fprintf(stderr, "seed %llu: %s, %d lives, %ld steps, %llu invocations, %llu discards\n",
              (unsigned long long)seed, R->failed ? "FAILED" : "ok", R->lives, R->steps,
              (unsigned long long)R->t_invocations, (unsigned long long)R->t_discards);
    lives += (uint64_t)R->lives;
    crashes += (uint64_t)R->crashes;
    graces += (uint64_t)R->graces;
    invocations += R->t_invocations;
    discards += R->t_discards;
    age += R->t_age_discards;
    retry += R->t_retry_discards;
    splits += R->t_splits;
    rem += R->t_remainders;
    big += R->t_big_payloads;
    ends += R->t_shard_ends;
    incb += R->t_in_callback;
    file_runs += (uint64_t)R->file_mode;
    tw_runs += R->tw > 0;
    filt_runs += (uint64_t)R->filt;
    finals += R->t_finals;
    reopens += R->t_reopens;
    filtered += R->t_filtered;
    clk += R->t_clock_steps;
    steps += R->steps;
  }
  double dt = seconds_now() - t0;
  print_message("model: %llu runs (seeds %llu..%llu), %llu failed, %.1f s; %llu engine lives, "
                "%llu crashes, %llu graceful restarts, %llu invocations, %llu discards, "
                "%ld steps\n",
                (unsigned long long)runs, (unsigned long long)first,
                (unsigned long long)(first + runs - 1), (unsigned long long)failures, dt,
                (unsigned long long)lives, (unsigned long long)crashes, (unsigned long long)graces,
                (unsigned long long)invocations, (unsigned long long)discards, steps);
  print_message("model: %llu file-store runs; discards %llu RecordAgeExceeded, %llu "
                "RetryAttemptsExhausted; invocations %llu split halves, %llu remainders, %llu "
                "over 3 MB; %llu shard ends; %llu in-callback refusals checked\n",
                (unsigned long long)file_runs, (unsigned long long)age, (unsigned long long)retry,
                (unsigned long long)splits, (unsigned long long)rem, (unsigned long long)big,
                (unsigned long long)ends, (unsigned long long)incb);
  print_message("model: %llu tumbling-window runs, %llu final invocations (%llu of a window "
                "reopened by a late record); %llu FilterCriteria runs, %llu records filtered out; "
                "%llu wall-clock steps\n",
                (unsigned long long)tw_runs, (unsigned long long)finals,
                (unsigned long long)reopens, (unsigned long long)filt_runs,
                (unsigned long long)filtered, (unsigned long long)clk);
  if (failures) fail_msg("%llu of %llu model runs failed", (unsigned long long)failures,
                         (unsigned long long)runs);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_model),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
