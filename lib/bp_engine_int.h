/* SPDX-License-Identifier: MIT */
/* Engine internals shared by bp_engine.c (API, shards, fetch, checkpoints, driving loop),
 * bp_engine_lane.c (one lane's batches: invoke, outcome, retry, split, discard) and
 * bp_engine_records.c (per-shard record storage). Engine layer: included by bp_engine*.c
 * only. */
#ifndef BP_ENGINE_INT_H
#define BP_ENGINE_INT_H

#include "batchpoint/bp_batch.h"
#include "batchpoint/bp_bisect.h"
#include "batchpoint/bp_checkpoint.h"
#include "batchpoint/bp_engine.h"
#include "batchpoint/bp_features.h"
#if BP_WITH_CODEC
#include "batchpoint/bp_filter.h"
#endif
#include "batchpoint/bp_resolver.h"
#include "bp_int.h"

/* A tumbling window's event members: the codec's type in a full build; the same members in
 * a core-only build, whose public headers do not declare the codec. */
#if BP_WITH_CODEC
typedef bp_window_fields bp__window;
#else
typedef struct bp__window {
  uint32_t struct_size;
  int64_t start_ms, end_ms;
  const char *state_json;
  size_t state_json_len;
  int32_t is_final, is_terminated_early;
} bp__window;
#endif

#define BP__SEQ_CAP (BP_MAX_SEQNUM_DIGITS + 1)
#define BP__NIL UINT32_MAX /* end of a lane's record list */

/* String fields of a stored record, in the order they are laid out in its chunk. */
enum { F_SEQ, F_PK, F_DATA, F_ENC, F_EVID, F_EVNAME, F_DDB, F_UI, F_COUNT };
/* bp__slot.present: every field after F_DATA is NULL and empty (bp__records_lean()) */
#define BP__SLOT_LEAN 0x8000u

/* A block of record bytes. Records never move once copied (views lent to callbacks stay
 * valid); chunks empty in FIFO order as the checkpoint passes their records. */
typedef struct bp__chunk {
  struct bp__chunk *next;
  size_t cap, used;
  uint32_t live; /* records stored here and not yet released */
  char data[];
} bp__chunk;

/* One buffered record. Slot of position p is slots[p % cap]. */
typedef struct bp__slot {
  uint64_t pos;
  bp__chunk *chunk;
  size_t off;
  uint32_t len[F_COUNT];
  int64_t arrival_ms;
  uint16_t present;    /* bit i: optional field i given (non-NULL); SLOT_LEAN */
  uint8_t shape;       /* the encoder's DynamoDB record shape, measured at intake */
  uint16_t flags;      /* bp_record.flags */
} bp__slot;

/* A slot's place in its lane's queue, apart from the slot: the batch builder walks a lane's
 * records through these 16 bytes each, not through the whole slots (with many lanes a lane's
 * records are far apart in the ring, and the walk would miss the cache once a record). */
typedef struct bp__link {
  size_t record_bytes; /* encoded size in an event (batch builder) */
  uint32_t next;       /* next slot of the same lane not yet in a batch */
} bp__link;

/* Lane states. */
enum {
  LANE_IDLE,       /* no batch: offers buffered records to its builder */
  LANE_READY,      /* a (sub-)batch waits to be invoked at not_before */
  LANE_INVOKING,   /* an invoke request is in flight */
  LANE_COMPLETED,  /* its completion was recorded; to be acted on */
  LANE_DISCARDING, /* a discard waits for its delivery to start (wouldblock) */
  LANE_DELIVERING, /* an on-failure delivery is in flight */
  LANE_DELIVERED   /* its completion was recorded; to be acted on */
};

/* How the current (sub-)batch was formed (bp_invoke_req.flags). */
#define BP__ORIGIN_NEW 0u

typedef struct bp__lane {
  uint32_t index;
  int state;
  bp_batch *builder;
  bp_bisect *bisect;
  /* records of this lane not yet in a batch, in order */
  uint32_t head, tail, pending;
  uint32_t offered; /* leading pending records offered to the builder */
  uint32_t offer_next;
  /* the batch started on the splitter: slot indices; lane positions are indices here */
  uint32_t *batch;
  uint32_t batch_n;
  uint32_t origin;      /* BP_INVOKE_* of the current sub-batch */
  uint32_t tries;       /* attempts made on the current sub-batch, throttles included */
  uint32_t k;           /* consecutive failed attempts (backoff) */
  uint64_t retry_gen;   /* the run that made the last retry */
  int64_t not_before;
  uint64_t req_id;
  /* the recorded completion */
  int64_t done_ms;
  int32_t res_kind, res_outcome;
  uint32_t res_failed_index, res_failed_count;
  bp__buf body;
  char res_request_id[129], res_function_error[65], res_version[65];
  /* the current sub-batch's last invocation that reached the function */
  int has_last;
  char last_request_id[129], last_function_error[65], last_version[65];
  /* tumbling windows (§6) */
  int64_t win_start;    /* the lane's current window (its start, epoch ms); -1: none */
  int win_invoked;      /* a record of it reached the function: a final invocation is owed */
  int final_early;      /* the state exceeded 1 MB: an immediate final invocation is owed */
  int in_final;         /* the attempt in flight (or completed) is a final invocation */
  int final_return;     /* the lane state to go back to after it */
  uint32_t tries_final; /* attempts of the owed final invocation */
  int64_t final_not_before;
  int64_t win_ended;    /* the window (its start) whose end the clock had passed before it
                           stepped back: that end stays passed (§8.1); -1: none */
  bp__buf wstate;       /* the window's state JSON text; empty means {} */
  bp__buf inv_state;    /* the state the current batch's last attempt carried */
  /* the shard checkpoint the window holds back until its final invocation succeeds (§6:
     "on success the sequence number is checkpointed") */
  int hold;             /* 1: a batch of the open window was finished */
  int hold_has;         /* 0: held at "nothing passed" */
  char hold_seq[BP__SEQ_CAP];
  size_t hold_len;
  /* a discard being resolved */
  bp_resolver_action discard;
  uint32_t discard_first; /* lane position */
  int64_t discard_ms;
  int delivery_status;
} bp__lane;

typedef struct bp__shard {
  char *id;
  char *parent, *adjacent;
  int state;       /* BP_SHARD_* */
  int consumed_parents; /* 1: a parent was consumed here: start at TRIM_HORIZON */
  /* reading */
  int started_from;  /* BP_POSITION_* of the first fetch */
  int fetched_once;
  /* §2.4: 1 when the last fetch completed and every record it returned was kept, so the host's
     iterator stands where the engine's reading does: the next fetch is CONTINUE */
  int follow_iterator;
  int read_any;
  int read_end;
  int fetch_inflight;
  uint64_t fetch_req;
  uint64_t fetch_gen; /* the run that made the last fetch */
  uint64_t filtered_in_fetch; /* records of the fetch being completed that were filtered out */
  uint32_t fetch_max;
  int64_t fetch_due;
  /* §8.1 buffer cap: records waiting for a lane or in a batch not yet resolved (finished
     ones never count); at most bp_engine_opts.max_buffered_records */
  uint64_t unresolved;
  /* §6: how far the shard has been read: the latest arrival time read, and whether the last
     completed fetch returned fewer records than it asked for (caught up with the stream) */
  int64_t read_max_arrival;
  int caught_up;
  char last_read[BP__SEQ_CAP];
  size_t last_read_len;
  /* storage */
  bp__slot *slots;
  bp__link *links; /* one per slot, same index */
  uint32_t cap; /* positions the ring holds: 2 x the buffer cap (finished records behind an
                   unresolved one keep their slot until the checkpoint passes them) */
  uint64_t next_pos;   /* position of the next record read */
  uint64_t oldest_pos; /* first position not yet released */
  bp__chunk *chunk_head, *chunk_tail, *chunk_free;
  size_t chunk_size;
  uint64_t bytes_in_use;
  bp_checkpoint *tracker;
  /* the tracker's checkpoint (storage is released behind it); the published one below may
     stay behind it while a tumbling window holds it */
  int live_has;
  char live[BP__SEQ_CAP];
  size_t live_len;
  /* checkpoint (published: reported, stored) */
  int has_ckpt;
  char ckpt[BP__SEQ_CAP];
  size_t ckpt_len;
  int ckpt_dirty;      /* differs from what was stored */
  int save_inflight;
  uint64_t save_req;
  char saving[BP__SEQ_CAP];
  size_t saving_len;
  int64_t save_due;
  /* lanes */
  bp__lane *lanes;
  uint32_t nlanes;
  bp_engine_metrics m;
} bp__shard;

struct bp_engine {
  bp_allocator alloc;
  bp__errmsg err;
  bp_config *cfg;
  bp_transport t;
  void *ud;
  bp_engine_opts o;
  char *o_role, *o_region, *o_uuid;
  char uuid[37];
  bp_resolver_policy policy;
  int source;
  uint32_t batch_size, pf, window_s;
  int64_t tumbling_ms; /* TumblingWindowInSeconds x 1000; 0: off */
  int metrics_on;
  const char *destination; /* owned by cfg */
  int dest_type;
#if BP_WITH_CODEC
  bp_filter *filter; /* FilterCriteria; NULL: none */
  bp_codec *codec;
  bp__buf payload; /* S3 payload copy while the codec writes the failure record */
#endif
  /* scratch for one (sub-)batch */
  bp_record *views;
  const void *views_lane; /* whose batch the scratch holds (lane, first, n); NULL: none */
  uint32_t views_first;
  size_t views_n;
  int64_t *arrivals;
  uint64_t *positions;
  size_t *sizes;          /* the views' encoded sizes and shapes, measured at intake: events */
  unsigned char *shapes;  /* are encoded without validating the records again */
  bp__shard **shards;
  size_t nshards, shards_cap;
  uint64_t next_req;
  uint64_t gen; /* run counter */
  uint64_t rng;
  int64_t now;
  int depth;       /* callback nesting */
  uint32_t event_flags; /* flags of the next event (INVOKE) */
  int fatal;       /* 0 or the code every driving call returns */
  int enabled;
  int shutting_down, drained, drained_reported;
};

/* bp_engine.c */
int bp__engine_call_invoke(bp_engine *e, const bp_invoke_req *req);
int bp__engine_call_deliver(bp_engine *e, const bp_delivery_req *req);
void bp__engine_event(bp_engine *e, const bp__shard *s, uint32_t lane, int type, int detail,
                      const bp_record *first, const bp_record *last, uint64_t count,
                      int64_t value);
void bp__engine_metric(bp_engine *e, bp__shard *s, uint32_t lane, int metric, int64_t value);
int bp__engine_fail(bp_engine *e, int code, const char *what);
void bp__engine_uuid(bp_engine *e, char out[37]);
int bp__engine_finish(bp_engine *e, bp__shard *s, const uint64_t *positions, size_t n);
/** Publish the shard's checkpoint: the tracker's, unless a lane's open tumbling window
 *  holds an earlier one (§6). Moves, marks it for saving and reports it when it changed. */
void bp__engine_publish_checkpoint(bp_engine *e, bp__shard *s);

/* bp_engine_lane.c */
int bp__lane_init(bp_engine *e, bp__shard *s, bp__lane *l, uint32_t index);
void bp__lane_free(bp_engine *e, bp__lane *l);
int bp__lane_step(bp_engine *e, bp__shard *s, bp__lane *l, int64_t now);
int64_t bp__lane_deadline(const bp_engine *e, const bp__shard *s, const bp__lane *l);
int bp__lane_busy(const bp__lane *l);

/* bp_engine_records.c */
int bp__records_init(bp_engine *e, bp__shard *s, uint32_t cap, uint64_t max_bytes);
void bp__records_free(bp_engine *e, bp__shard *s);
/** The first field of @p r whose length no stored record can have (above PTRDIFF_MAX, or
 *  above UINT32_MAX, the storage's field limit): its name, or NULL when every field fits.
 *  Reads lengths only, never the bytes. Field by field: */
const char *bp__records_oversized_field(const bp_record *r);
/** ... and inline, with the usual record decided in one test: every length fits in 32 bits
 *  and no field starts within 4 GiB of the top of the address space, so no span can wrap. */
static inline const char *bp__records_oversized(const bp_record *r) {
#if UINTPTR_MAX > UINT32_MAX
  uintptr_t top = (uintptr_t)r->seq | (uintptr_t)r->partition_key | (uintptr_t)r->data |
                  (uintptr_t)r->encryption_type | (uintptr_t)r->event_id |
                  (uintptr_t)r->event_name | (uintptr_t)r->dynamodb_json |
                  (uintptr_t)r->user_identity_json;
  size_t lens = r->seq_len | r->partition_key_len | r->data_len | r->encryption_type_len |
                r->event_id_len | r->event_name_len | r->dynamodb_json_len |
                r->user_identity_json_len;
  if (lens <= UINT32_MAX && top <= UINTPTR_MAX - UINT32_MAX) return NULL;
#endif
  return bp__records_oversized_field(r);
}
/** Has @p r only the fields a Kinesis record without encryption has (sequence number,
 *  partition key, data): every later field NULL and empty? Such a record is stored and lent
 *  back through shorter paths (bp__records_add()'s @p lean). */
static inline int bp__records_lean(const bp_record *r) {
  return ((uintptr_t)r->encryption_type | (uintptr_t)r->event_id | (uintptr_t)r->event_name |
          (uintptr_t)r->dynamodb_json | (uintptr_t)r->user_identity_json |
          r->encryption_type_len | r->event_id_len | r->event_name_len | r->dynamodb_json_len |
          r->user_identity_json_len) == 0;
}
/** Store a copy of @p r at the next position; @p lean: bp__records_lean(@p r). */
int bp__records_add(bp_engine *e, bp__shard *s, const bp_record *r, int lean,
                    size_t record_bytes, uint32_t *slot_out);
void bp__records_view(const bp__shard *s, uint32_t slot, bp_record *out);
void bp__records_release(bp_engine *e, bp__shard *s, uint64_t upto_pos);
uint32_t bp__lane_of(const char *key, size_t len, uint32_t nlanes);

#endif
