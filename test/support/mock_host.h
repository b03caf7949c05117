/* SPDX-License-Identifier: MIT */
/* A scripted host for engine tests: simulated shards, a scripted function, a log of every
 * request the engine makes, synchronous or asynchronous completion per kind of request,
 * scripted callback returns (BP_ERR_WOULDBLOCK, failures), callback nesting depth, and the
 * test allocator under the engine. Everything the mock keeps for itself uses the C library,
 * so the test allocator counts the engine's memory only.
 *
 * Use: m = mock_host_new(); m->now = start; set switches (async, fn, ...);
 * mock_engine_new(m, cfg, &opts); mock_shard_add() + bp_engine_add_shard(); mock_put*();
 * mock_run(m, until) (synchronous host) or mock_tick() + mock_complete_*() (asynchronous);
 * inspect the logs; mock_host_free(m). MOCK_TRACE=1 in the environment prints every call. */
#ifndef BP_MOCK_HOST_H
#define BP_MOCK_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "batchpoint.h"
#include "batchpoint/bp_engine.h"
#include "test_alloc.h"

#define MOCK_MAX_SHARDS 4
#define MOCK_MAX_RECORDS 2048 /* per shard */
#define MOCK_MAX_LOG 4096     /* entries per log */
#define MOCK_SEQ_CAP 48
#define MOCK_STR_CAP 64

/* Kinds of request (index of the per-kind switches below). */
enum { MOCK_FETCH, MOCK_INVOKE, MOCK_DELIVER, MOCK_STORE, MOCK_EVENT, MOCK_KINDS };

/* One record of a simulated shard. Sequence numbers are "4960" + 2-digit shard + 10-digit
 * index, so every record of every shard has a distinct, fixed-length sequence number. */
typedef struct mock_record {
  char seq[MOCK_SEQ_CAP];
  size_t seq_len;
  int64_t arrival_ms;
  char pk[MOCK_STR_CAP];
  size_t pk_len;
  char data[MOCK_STR_CAP];
  size_t data_len;
  char event_id[MOCK_STR_CAP]; /* DynamoDB */
  const char *event_name;      /* DynamoDB */
  char ddb_json[256];          /* DynamoDB */
  size_t ddb_json_len;
  uint32_t invoked;            /* how many invocations carried it */
  char *big_data;              /* mock_put_big(): malloc'd Kinesis data used instead of data */
  size_t big_len;
} mock_record;

typedef struct mock_shard {
  char id[MOCK_STR_CAP];
  mock_record *recs; /* MOCK_MAX_RECORDS, calloc'd */
  size_t n;          /* records written so far */
  int closed;        /* no record follows: fetches that reach the end say SHARD_END */
  size_t iterator;   /* where the previous fetch ended (BP_POSITION_CONTINUE) */
  int has_iterator;
} mock_shard;

typedef struct mock_fetch {
  uint64_t req_id;
  int shard;
  int32_t from;
  uint32_t max_records;
  char after_seq[MOCK_SEQ_CAP];
  size_t after_seq_len;
  int64_t timestamp_ms;
  uint64_t max_bytes;
  uint64_t buffered_at_request; /* the shard's buffered_records when it was asked */
  int64_t at_ms;
  size_t start, returned;       /* what the mock answered (stream indexes) */
  int completed;
  uint64_t order;               /* position among all logged requests */
} mock_fetch;

typedef struct mock_invoke {
  uint64_t req_id;
  int shard;
  uint32_t lane, attempt, flags;
  size_t count;
  size_t rec_off;  /* the records' stream indexes: m->idx_pool[rec_off .. rec_off + count) */
  int64_t at_ms;
  int completed;
  int64_t completed_ms;
  char *payload;   /* copy when m->keep_payloads, else NULL */
  size_t payload_len;
  uint64_t order;
  /* tumbling windows (SEMANTICS.md §6): the request's window and state; count is 0 for a final
   * invocation (BP_INVOKE_FINAL), the only request that may carry no records */
  int64_t window_start_ms, window_end_ms; /* -1 without tumbling windows */
  char *state;                            /* malloc'd NUL-terminated copy, NULL if none */
  size_t state_len;
} mock_invoke;

typedef struct mock_delivery {
  uint64_t req_id;
  int shard;
  uint32_t lane;
  int32_t destination_type;
  int32_t condition;
  uint32_t approximate_invoke_count;
  int64_t timestamp_ms;
  size_t count, first, last; /* stream indexes of the discarded records */
  char destination[160];
  char *record_json;         /* malloc'd copies */
  char *s3_key;
  int64_t at_ms;
  int completed;
  int status;
  uint64_t order;
} mock_delivery;

typedef struct mock_save {
  uint64_t req_id;
  int shard;
  char seq[MOCK_SEQ_CAP];
  size_t seq_len;
  int final;
  int64_t at_ms;
  int completed;
  int status;
  uint64_t order;
} mock_save;

typedef struct mock_event {
  int32_t type, detail;
  int64_t now_ms;
  int shard; /* -1: engine-wide */
  uint32_t lane;
  char first_seq[MOCK_SEQ_CAP];
  uint64_t count;
  int64_t value;
} mock_event;

typedef struct mock_host mock_host;

/* The function under test: called for each invocation when it is completed (inside the
 * invoke callback for a synchronous host, from mock_complete_invoke() otherwise). @p r comes
 * zeroed (a success); strings it points to must stay valid until the completion returns
 * (m->body is scratch space for that). */
typedef void (*mock_fn)(mock_host *m, const mock_invoke *inv, bp_invoke_result *r);

/* Called inside every callback (after it was logged, before any completion). */
typedef void (*mock_hook)(mock_host *m, bp_engine *e, int kind);

struct mock_host {
  bp_engine *e;
  test_alloc ta;
  bp_allocator hooks;
  const bp_allocator *alloc; /* what mock_engine_new() passes: &hooks unless changed */
  uint64_t order_next;
  int64_t now; /* the time synchronous completions use; mock_run() never ticks before it:
                  set it to the scenario's start time */

  mock_shard shards[MOCK_MAX_SHARDS];
  int nshards;

  /* switches, per MOCK_* kind */
  int async[MOCK_KINDS];      /* 1: log and return 0; the test completes later */
  int wouldblock[MOCK_KINDS]; /* this many next calls return BP_ERR_WOULDBLOCK */
  int fail[MOCK_KINDS];       /* non-zero: every next call returns this value */
  int no_callback[MOCK_KINDS]; /* transport member left NULL (DELIVER, STORE, EVENT) */

  int fetch_status;           /* status of the next synchronous fetch completions ... */
  int fetch_status_times;     /* ... this many times (then 0) */
  uint32_t over_deliver;      /* fetch answers this many records beyond max_records */
  int deliver_status;         /* status of synchronous delivery completions */
  int save_status;            /* status of synchronous checkpoint completions ... */
  int save_status_times;      /* ... this many times (then 0) */
  int keep_payloads;
  int trace;                  /* MOCK_TRACE set in the environment: log every call */

  mock_fn fn;
  void *fn_ctx;
  char body[8192];
  mock_hook hook;
  void *hook_ctx;

  /* accounting */
  int depth, max_depth;
  int nested[MOCK_KINDS];      /* callbacks that started while another one was running */
  int calls[MOCK_KINDS];       /* every callback call, refused ones included */
  int complete_errors;         /* synchronous completions that did not return 0 */
  int last_complete_rc;

  /* logs (fixed arrays, never reallocated: entries stay put while the engine runs) */
  mock_fetch *fetches;
  size_t nfetches;
  mock_invoke *invokes;
  size_t ninvokes;
  size_t *idx_pool;
  size_t idx_used;
  mock_delivery *deliveries;
  size_t ndeliveries;
  mock_save *saves;
  size_t nsaves;
  mock_event *events;
  size_t nevents;
  uint64_t event_counts[32];   /* per BP_EVENT_* type */
  int64_t metric_sums[16];     /* per BP_METRIC_* detail: sum of the values reported */
  int64_t metric_last[16];
  uint64_t metric_events[16];
};

/* ---- life cycle ---- */
mock_host *mock_host_new(void);
/* Delete the engine (asserting bp_engine_del() returns 0 and nothing leaked) and the mock. */
void mock_host_free(mock_host *m);
/* Free every mock still alive (after a failed test: use it as the teardown); returns 0. */
int mock_host_release_all(void);
/* Fill @p t with the mock's callbacks (no_callback members NULL). */
void mock_transport(mock_host *m, bp_transport *t);
/* bp_engine_new() with the mock's transport and test allocator; sets m->e on success. */
int mock_engine_new(mock_host *m, const bp_config *cfg, const bp_engine_opts *opts);

/* ---- streams ---- */
int mock_shard_add(mock_host *m, const char *id);  /* returns the shard index */
int mock_shard_find(const mock_host *m, const char *id);
/* Append a Kinesis record; returns its stream index. */
size_t mock_put(mock_host *m, int shard, const char *pk, const char *data, int64_t arrival_ms);
/* Append a Kinesis record whose data is @p len bytes of @p fill (any size); returns its
 * stream index. */
size_t mock_put_big(mock_host *m, int shard, const char *pk, size_t len, char fill,
                    int64_t arrival_ms);
/* Append @p n records with partition keys "k<i % keys>" and data "d<index>". */
void mock_put_n(mock_host *m, int shard, size_t n, unsigned keys, int64_t arrival_ms);
/* Append a DynamoDB record (hash key @p pk of type S). */
size_t mock_put_ddb(mock_host *m, int shard, const char *pk, const char *event_name,
                    int64_t arrival_ms);
const mock_record *mock_rec(const mock_host *m, int shard, size_t index);
/* The stream index of a sequence number of @p shard (fails the test if unknown). */
size_t mock_index_of(const mock_host *m, int shard, const char *seq, size_t len);
/* Fill @p out with a view of a stored record. */
void mock_view(const mock_host *m, int shard, size_t index, bp_record *out);

/* ---- driving ---- */
int mock_tick(mock_host *m, int64_t now);
/* Tick at every deadline up to @p until (inclusive), then at @p until; returns the first
 * non-zero tick result (and stops there), else 0. */
int mock_run(mock_host *m, int64_t until);

/* ---- asynchronous completions (outside callbacks) ---- */
size_t mock_pending(const mock_host *m, int kind);
/* Index in its log of the oldest request of @p kind not completed yet (fails if none). */
size_t mock_first_pending(const mock_host *m, int kind);
/* Answer fetch @p i from the stream as a synchronous fetch would, with @p status. */
int mock_complete_fetch(mock_host *m, size_t i, int64_t now, int status);
/* Complete invocation @p i with the scripted function's result. */
int mock_complete_invoke(mock_host *m, size_t i, int64_t now);
int mock_complete_delivery(mock_host *m, size_t i, int64_t now, int status);
int mock_complete_save(mock_host *m, size_t i, int64_t now, int status);

/* Complete every pending request (oldest first, at m->now) and tick every deadline, until
 * nothing is pending and the next deadline is after @p until; returns the first error of a
 * tick or completion that is not 0, else 0. */
int mock_settle(mock_host *m, int64_t until);

/* ---- queries ---- */
const size_t *mock_inv_records(const mock_host *m, const mock_invoke *inv);
/* The checkpoint in memory, as a stream index of @p shard; -1 when none. */
long mock_checkpoint(const mock_host *m, int shard);
/* The last saved checkpoint (completed with status 0) of @p shard as a stream index; -1. */
long mock_saved_checkpoint(const mock_host *m, int shard);
bp_engine_metrics mock_metrics(const mock_host *m, const char *shard_id);
/* Number of logged events of @p type. */
uint64_t mock_events(const mock_host *m, int type);

/* FNV-1a-32 (SEMANTICS.md §3.2): lane = mock_fnv1a32(pk) % ParallelizationFactor. */
uint32_t mock_fnv1a32(const char *s, size_t n);

/* Scripted functions: always succeed (NULL fn does the same); always fail with a function
 * error; always throttled. */
void mock_fn_fail(mock_host *m, const mock_invoke *inv, bp_invoke_result *r);
void mock_fn_throttle(mock_host *m, const mock_invoke *inv, bp_invoke_result *r);

#endif
