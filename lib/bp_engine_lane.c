/* SPDX-License-Identifier: MIT */
/* One lane of a shard (SEMANTICS.md §3.2): its batch builder, the bisect work list of the
 * batch being resolved, one invocation in flight, the outcome of each attempt (resolver),
 * retry backoff, and discards with their on-failure records (§4, §5). */
#include <string.h>

#include "bp_engine_int.h"
#if BP_WITH_CODEC
#include "bp_codec_measure_int.h"
#endif

#define BP__RESULT_REACHED(k) ((k) != BP_INVOKE_RESULT_THROTTLED)
#define BP__MAX_STATE_BYTES 1048576u /* §6: a larger state terminates the window early */

int bp__lane_init(bp_engine *e, bp__shard *s, bp__lane *l, uint32_t index) {
  (void)s;
  memset(l, 0, sizeof *l);
  l->index = index;
  l->head = l->tail = l->offer_next = BP__NIL;
  l->win_start = l->win_ended = -1;
  bp__buf_init(&l->body, &e->alloc);
  bp__buf_init(&l->wstate, &e->alloc);
  bp__buf_init(&l->inv_state, &e->alloc);
  bp_batch_opts bo = BP_BATCH_OPTS_INIT;
  bo.batch_size = e->batch_size;
  bo.window_seconds = (int32_t)e->window_s;
  bo.event_overhead = 14;
#if BP_WITH_CODEC
  size_t overhead = 0;
  if (bp_codec_event_overhead(e->codec, s->id, NULL, &overhead) == 0) bo.event_overhead = overhead;
#endif
  int rc = bp_batch_new(&l->builder, &bo, &e->alloc);
  if (rc) return rc;
  rc = bp_bisect_new(&l->bisect, &e->alloc);
  if (rc) return rc;
  l->batch = bp__malloc(&e->alloc, (size_t)e->batch_size * sizeof *l->batch);
  return l->batch ? 0 : BP_ERR_NOMEM;
}

void bp__lane_free(bp_engine *e, bp__lane *l) {
  bp_batch_del(l->builder);
  bp_bisect_del(l->bisect);
  bp__free(&e->alloc, l->batch);
  bp__buf_free(&l->body);
  bp__buf_free(&l->wstate);
  bp__buf_free(&l->inv_state);
  l->builder = NULL;
  l->bisect = NULL;
  l->batch = NULL;
}

int bp__lane_busy(const bp__lane *l) {
  return l->state != LANE_IDLE || l->pending > 0 || l->win_invoked || l->final_early;
}

/* ---- Tumbling windows (§6) ---- */

static int64_t window_of(const bp_engine *e, int64_t arrival_ms) {
  return arrival_ms - arrival_ms % e->tumbling_ms; /* aligned to multiples of its length */
}

static void window_fields(const bp_engine *e, const bp__lane *l, bp__window *w,
                          int final) {
  memset(w, 0, sizeof *w);
  w->struct_size = sizeof *w;
  w->start_ms = l->win_start;
  w->end_ms = l->win_start + e->tumbling_ms;
  if (l->wstate.len) {
    w->state_json = l->wstate.data;
    w->state_json_len = l->wstate.len;
  }
  w->is_final = final;
  w->is_terminated_early = final && l->final_early;
}

/* Is a final invocation owed, and from when may it be made? The lane must hold no batch of
 * its window: the early final pre-empts a waiting retry, the normal one waits until the
 * window's records are all resolved and window.end has come (at once once the shard has
 * ended), and until the shard has been read past the window (§6, batchpoint's decision): a
 * record arriving at or after window.end was read, or the last fetch returned fewer records
 * than it asked for. */
static int final_due(const bp_engine *e, const bp__shard *s, const bp__lane *l, int64_t *at) {
  if (!e->tumbling_ms || (l->state != LANE_IDLE && l->state != LANE_READY)) return 0;
  if (l->final_early) {
    *at = l->final_not_before;
    return 1;
  }
  if (!l->win_invoked || l->state != LANE_IDLE) return 0;
  /* Records of the window come before its final, unless the final was already attempted:
     then processing waits until it succeeds (§6), a late record included. */
  if (l->pending && !l->tries_final &&
      window_of(e, s->slots[l->head].arrival_ms) == l->win_start)
    return 0;
  /* A lane whose next record is of another window has moved on too: an arrival time that
     stepped back (Kinesis' is approximate) puts a record of an EARLIER window behind the open
     one, and waiting for a read past the window would wait forever (that record cannot join
     the open window and blocks the lane): the final is made, and the record opens its own
     window afresh, as a late record does. */
  int moved_on = l->pending && window_of(e, s->slots[l->head].arrival_ms) != l->win_start;
  if (!s->read_end && !s->caught_up && !l->tries_final && !moved_on &&
      !(s->read_any && s->read_max_arrival >= l->win_start + e->tumbling_ms))
    return 0;
  int64_t due = s->read_end || l->win_ended == l->win_start ? e->now
                                                           : l->win_start + e->tumbling_ms;
  *at = due > l->final_not_before ? due : l->final_not_before;
  return 1;
}

/* Before a batch of the open window is finished (@p first: its first shard position): the
 * window holds the shard checkpoint just before that record until its final invocation
 * succeeds (§6), so a restart replays the window's records instead of losing its aggregated
 * state. Only from the lane's own first held record on: records before it (other lanes')
 * may still be checkpointed. No final is owed (no record reached the function): nothing to
 * hold. */
static void hold_for_window(const bp_engine *e, const bp__shard *s, bp__lane *l,
                            uint64_t first) {
  if (!e->tumbling_ms || !l->win_invoked || l->hold) return;
  l->hold = 1;
  if (first > s->oldest_pos) { /* the record before it is still stored */
    bp_record v;
    bp__records_view(s, (uint32_t)((first - 1) % s->cap), &v);
    l->hold_has = 1;
    memcpy(l->hold_seq, v.seq, v.seq_len);
    l->hold_len = v.seq_len;
    return;
  }
  l->hold_has = s->live_has; /* released: the checkpoint is just before it */
  memcpy(l->hold_seq, s->live, s->live_len);
  l->hold_len = s->live_len;
}

enum { SLOTS_AHEAD = 8 };

/* Views, arrival times and shard positions of lane positions [first, first + n). */
static void load_batch(bp_engine *e, const bp__shard *s, const bp__lane *l, uint32_t first,
                       size_t n) {
  /* The scratch still holds this batch (its invocation was just completed): reuse it. */
  if (e->views_lane == l && e->views_first == first && e->views_n == n) return;
  e->views_lane = l;
  e->views_first = first;
  e->views_n = n;
  for (size_t i = 0; i < n; i++) {
    uint32_t slot = l->batch[first + i];
    /* at ParallelizationFactor > 1 a lane's records lie apart in the ring: ask ahead */
    if (i + SLOTS_AHEAD < n) BP__PREFETCH(&s->slots[l->batch[first + i + SLOTS_AHEAD]]);
    bp__records_view(s, slot, &e->views[i]);
    e->arrivals[i] = e->views[i].arrival_ms;
    e->positions[i] = s->slots[slot].pos;
    e->sizes[i] = s->links[slot].record_bytes;
    e->shapes[i] = s->slots[slot].shape;
  }
}

/* Shard positions of lane positions [first, first + n): all that settling a successful attempt
 * reads (the checkpoint). Views are built only when something reads them (load_batch()). */
static void load_positions(bp_engine *e, const bp__shard *s, const bp__lane *l, uint32_t first,
                           size_t n) {
  if (e->views_lane == l && e->views_first == first && e->views_n == n) return;
  e->views_lane = NULL; /* the scratch's views are another batch's */
  for (size_t i = 0; i < n; i++) e->positions[i] = s->slots[l->batch[first + i]].pos;
}

/* An event about lane positions [first, first + n): views of its two ends, built only when the
 * host listens. */
static void batch_event(bp_engine *e, const bp__shard *s, const bp__lane *l, int type,
                        int detail, uint32_t first, size_t n, int64_t value) {
  if (!e->t.on_event) return;
  bp_record v0, v1;
  bp__records_view(s, l->batch[first], &v0);
  bp__records_view(s, l->batch[first + n - 1], &v1);
  bp__engine_event(e, s, l->index, type, detail, &v0, &v1, n, value);
}

static void copy_str(char *dst, size_t cap, const char *src) {
  size_t n = strlen(src);
  if (n >= cap) n = cap - 1;
  memcpy(dst, src, n);
  dst[n] = 0;
}

/* A new (sub-)batch is current: attempts counted afresh, no invocation of it known yet. */
static void new_current(bp__lane *l, uint32_t origin) {
  l->origin = origin;
  l->tries = 0;
  l->has_last = 0;
}

/* ---- Forming a batch ---- */

/* Offer the lane's pending records to its builder; take a batch when it is ready. */
static int form_batch(bp_engine *e, bp__shard *s, bp__lane *l, int64_t now) {
  if (l->offered == 0) l->offer_next = l->head;
  if (e->tumbling_ms && bp_batch_count(l->builder) == 0 && l->offer_next != BP__NIL) {
    int64_t w = window_of(e, s->slots[l->offer_next].arrival_ms);
    if (w != l->win_start) {
      if (l->win_invoked) return 0; /* the old window's final invocation comes first */
      l->win_start = w;             /* a new window: fresh state */
      l->wstate.len = 0;
    }
#if BP_WITH_CODEC
    bp__window wf;
    size_t overhead;
    window_fields(e, l, &wf, 0);
    int orc = bp_codec_event_overhead(e->codec, s->id, &wf, &overhead);
    if (orc) return bp__engine_fail(e, orc, bp_codec_errmsg(e->codec));
    bp_batch_set_event_overhead(l->builder, overhead);
#endif
  }
  while (l->offer_next != BP__NIL) {
    const bp__link *sl = &s->links[l->offer_next];
    int64_t key = e->tumbling_ms ? window_of(e, s->slots[l->offer_next].arrival_ms) : 0;
    int rc = bp_batch_offer(l->builder, sl->record_bytes, key, now);
    if (rc == BP_BATCH_FULL) break;
    if (rc < 0) return bp__engine_fail(e, BP_ERR_INTERNAL, bp_batch_errmsg(l->builder));
    l->offered++;
    l->offer_next = sl->next;
  }
  if (s->read_end || e->shutting_down) bp_batch_force(l->builder);
  int ready = bp_batch_ready(l->builder, now);
  if (ready <= 0) return 0;
  size_t count = 0;
  if (bp_batch_take(l->builder, &count, NULL) < 0 || count == 0 || count > l->offered)
    return bp__engine_fail(e, BP_ERR_INTERNAL, "batch builder and lane queue disagree");
  if (e->views_lane == l) e->views_lane = NULL; /* the lane's batch array changes */
  for (size_t i = 0; i < count; i++) {
    l->batch[i] = l->head;
    l->head = s->links[l->head].next;
  }
  if (l->head == BP__NIL) l->tail = BP__NIL;
  l->pending -= (uint32_t)count;
  l->offered -= (uint32_t)count;
  l->batch_n = (uint32_t)count;
  if (bp_bisect_start(l->bisect, 0, count) < 0)
    return bp__engine_fail(e, BP_ERR_INTERNAL, bp_bisect_errmsg(l->bisect));
  new_current(l, BP__ORIGIN_NEW);
  l->state = LANE_READY;
  l->not_before = now;
  return 1;
}

/* Carry a resolver action out on the lane's work list and set what the lane does next.
 * @return BP_BISECT_DONE (the lane is idle) or BP_BISECT_MORE (a current batch is ready),
 *         or the engine's fatal code. */
static int apply_action(bp_engine *e, bp__lane *l, const bp_resolver_action *a) {
  int rc = bp_resolver_apply(a, l->bisect);
  if (rc < 0) return bp__engine_fail(e, BP_ERR_INTERNAL, "bisect refused the resolver's action");
  l->k = a->consecutive_failures;
  l->not_before = a->not_before_ms;
  if (rc == BP_BISECT_DONE) {
    l->state = LANE_IDLE;
    l->batch_n = 0;
    return rc;
  }
  l->state = LANE_READY;
  if (a->kind == BP_ACTION_SPLIT || a->batch_finished) new_current(l, BP_INVOKE_SPLIT);
  else if (a->kind == BP_ACTION_COMMIT_PREFIX) new_current(l, BP_INVOKE_REMAINDER);
  else if (a->kind == BP_ACTION_DISCARD) l->origin = BP_INVOKE_REMAINDER; /* counters kept */
  return rc;
}

/* ---- Discards (§5.1) ---- */

static int start_delivery(bp_engine *e, bp__shard *s, bp__lane *l, int64_t now);

/* The resolver decided to discard a prefix of the current batch at @p now. */
static int begin_discard(bp_engine *e, bp__shard *s, bp__lane *l, const bp_resolver_action *a,
                         uint32_t first, int64_t now) {
  l->discard = *a;
  l->discard_first = first;
  l->discard_ms = now;
  l->delivery_status = 0;
  load_batch(e, s, l, first, a->discard_count);
  bp__engine_event(e, s, l->index, BP_EVENT_DISCARD, a->condition, &e->views[0],
                   &e->views[a->discard_count - 1], a->discard_count,
                   a->approximate_invoke_count);
  if (!e->destination) {
    l->state = LANE_DELIVERED;
    l->delivery_status = 1; /* no destination: dropped */
    return 1;
  }
  l->state = LANE_DISCARDING;
  l->not_before = now;
  return start_delivery(e, s, l, now);
}

static int start_delivery(bp_engine *e, bp__shard *s, bp__lane *l, int64_t now) {
  const bp_resolver_action *a = &l->discard;
  size_t n = a->discard_count;
  load_batch(e, s, l, l->discard_first, n);
  bp_delivery_req req;
  memset(&req, 0, sizeof req);
  req.struct_size = sizeof req;
  req.record_stride = sizeof(bp_record);
  req.req_id = ++e->next_req;
  req.shard_id = s->id;
  req.lane = l->index;
  req.destination_type = e->dest_type;
  req.destination = e->destination;
  req.condition = a->condition;
  req.approximate_invoke_count = a->approximate_invoke_count;
  req.timestamp_ms = l->discard_ms;
  req.records = e->views;
  req.count = n;
  char uuid[37], key[1200];
#if BP_WITH_CODEC
  bp_failure_info fi;
  bp_failure_info_init(&fi, sizeof fi);
  fi.condition = a->condition;
  char rid[37];
  if (l->has_last && l->last_request_id[0]) {
    fi.request_id = l->last_request_id;
  } else {
    bp__engine_uuid(e, rid);
    fi.request_id = rid;
  }
  fi.request_id_len = strlen(fi.request_id);
  fi.approximate_invoke_count = a->approximate_invoke_count;
  fi.status_code = 200; /* the codec omits responseContext for RecordAgeExceeded */
  if (a->response_context_present) {
    if (l->has_last && l->last_version[0]) {
      fi.executed_version = l->last_version;
      fi.executed_version_len = strlen(l->last_version);
    }
    if (!a->function_error_null) {
      fi.function_error = l->has_last && l->last_function_error[0] ? l->last_function_error
                                                                    : "Unhandled";
      fi.function_error_len = strlen(fi.function_error);
    }
  }
  fi.timestamp_ms = l->discard_ms;
  fi.shard_id = s->id;
  fi.start_seq = e->views[0].seq;
  fi.start_seq_len = e->views[0].seq_len;
  fi.end_seq = e->views[n - 1].seq;
  fi.end_seq_len = e->views[n - 1].seq_len;
  fi.first_arrival_ms = e->views[0].arrival_ms;
  fi.last_arrival_ms = e->views[n - 1].arrival_ms;
  fi.batch_size = (uint32_t)n;
  if (e->dest_type == BP_DESTINATION_S3) {
    const char *ev;
    size_t evlen;
    bp__window wf;
    if (e->tumbling_ms) {
      window_fields(e, l, &wf, 0);
      if (l->has_last) { /* byte-identical to the last invocation's event (§5.5) */
        wf.state_json = l->inv_state.len ? l->inv_state.data : NULL;
        wf.state_json_len = l->inv_state.len;
      }
    }
    int rc = bp__codec_encode_measured(e->codec, s->id, e->views, e->sizes, e->shapes, n,
                                       e->tumbling_ms ? &wf : NULL, &ev, &evlen);
    if (rc == 0) {
      e->payload.len = 0;
      rc = bp__buf_append(&e->payload, ev, evlen);
    }
    if (rc) return rc == BP_ERR_NOMEM ? rc : bp__engine_fail(e, rc, bp_codec_errmsg(e->codec));
    fi.payload = e->payload.data;
    fi.payload_len = e->payload.len;
    bp__engine_uuid(e, uuid);
    if (bp_failure_s3_key(e->uuid, s->id, l->discard_ms, uuid, key, sizeof key) > 0)
      req.s3_key = key;
  }
  int rc = bp_codec_encode_failure(e->codec, &fi, &req.record_json, &req.record_json_len);
  if (rc) return rc == BP_ERR_NOMEM ? rc : bp__engine_fail(e, rc, bp_codec_errmsg(e->codec));
#else
  (void)uuid;
  (void)key;
#endif
  l->req_id = req.req_id;
  l->state = LANE_DELIVERING;
  int crc = bp__engine_call_deliver(e, &req);
  if (crc == BP_ERR_WOULDBLOCK && l->state == LANE_DELIVERING && l->req_id == req.req_id) {
    l->state = LANE_DISCARDING;
    l->not_before = now + e->o.wouldblock_retry_ms;
    return 0;
  }
  return crc < 0 && crc != BP_ERR_WOULDBLOCK ? crc : 1;
}

/* The delivery completed (or there was no destination): the records are finished. */
static int finish_discard(bp_engine *e, bp__shard *s, bp__lane *l) {
  const bp_resolver_action *a = &l->discard;
  size_t n = a->discard_count;
  load_batch(e, s, l, l->discard_first, n);
  if (l->delivery_status == 0) {
    s->m.on_failure_destination_delivered_event_count += n;
    bp__engine_metric(e, s, l->index, BP_METRIC_ON_FAILURE_DESTINATION_DELIVERED_EVENT_COUNT,
                      (int64_t)n);
  } else {
    if (l->delivery_status < 0) {
      s->m.destination_delivery_failures++;
      bp__engine_metric(e, s, l->index, BP_METRIC_DESTINATION_DELIVERY_FAILURES, 1);
    }
    s->m.dropped_event_count += n;
    bp__engine_metric(e, s, l->index, BP_METRIC_DROPPED_EVENT_COUNT, (int64_t)n);
  }
  hold_for_window(e, s, l, e->positions[0]);
  int rc = bp__engine_finish(e, s, e->positions, n);
  if (rc < 0) return rc;
  rc = apply_action(e, l, a);
  return rc < 0 ? rc : 1;
}

/* ---- Invoking ---- */

static int invoke_current(bp_engine *e, bp__shard *s, bp__lane *l, int64_t now) {
  uint64_t first;
  size_t n;
  uint32_t attempts, invocations;
  if (bp_bisect_current(l->bisect, &first, &n, &attempts, &invocations) < 0)
    return bp__engine_fail(e, BP_ERR_INTERNAL, "no current batch on a ready lane");
  load_batch(e, s, l, (uint32_t)first, n);
  /* §5.1: the record-age check runs before every attempt, the first included. */
  bp_resolver_input in;
  bp_resolver_input_init(&in, sizeof in);
  in.attempts = attempts;
  in.invocations = invocations;
  in.consecutive_failures = l->k;
  in.batch_size = n;
  in.now_ms = now;
  bp_resolver_action a = BP_RESOLVER_ACTION_INIT;
  char msg[128];
  int rc = bp_resolver_age_check(&e->policy, &in, e->arrivals, &a, msg, sizeof msg);
  if (rc < 0) return bp__engine_fail(e, BP_ERR_INTERNAL, msg);
  if (a.kind == BP_ACTION_DISCARD) return begin_discard(e, s, l, &a, (uint32_t)first, now);

  bp_invoke_req req;
  memset(&req, 0, sizeof req);
  req.struct_size = sizeof req;
  req.record_stride = sizeof(bp_record);
  req.req_id = ++e->next_req;
  req.shard_id = s->id;
  req.lane = l->index;
  req.attempt = l->tries + 1;
  req.flags = l->origin | (l->tries ? BP_INVOKE_RETRY : 0u);
  req.records = e->views;
  req.count = n;
  req.window_start_ms = req.window_end_ms = -1;
  bp__window wf;
  if (e->tumbling_ms) {
    window_fields(e, l, &wf, 0);
    l->inv_state.len = 0; /* what this attempt carries, for an S3 payload after it */
    if (l->wstate.len && bp__buf_append(&l->inv_state, l->wstate.data, l->wstate.len))
      return BP_ERR_NOMEM;
    req.window_start_ms = wf.start_ms;
    req.window_end_ms = wf.end_ms;
    req.state = wf.state_json ? wf.state_json : "{}";
    req.state_len = wf.state_json ? wf.state_json_len : 2;
  }
#if BP_WITH_CODEC
  rc = bp__codec_encode_measured(e->codec, s->id, e->views, e->sizes, e->shapes, n,
                                 e->tumbling_ms ? &wf : NULL, &req.payload, &req.payload_len);
  if (rc) return rc == BP_ERR_NOMEM ? rc : bp__engine_fail(e, rc, bp_codec_errmsg(e->codec));
#endif
  l->tries++;
  l->req_id = req.req_id;
  l->state = LANE_INVOKING;
  e->event_flags = req.flags;
  bp__engine_event(e, s, l->index, BP_EVENT_INVOKE, (int)req.attempt, &e->views[0],
                   &e->views[n - 1], n, (int64_t)req.payload_len);
  e->event_flags = 0;
  /* §8.3 (batchpoint's decision): IteratorAge once per attempt that carries records. */
  int64_t age = now - e->views[n - 1].arrival_ms;
  s->m.iterator_age_ms = age;
  bp__engine_metric(e, s, l->index, BP_METRIC_ITERATOR_AGE, age);
  rc = bp__engine_call_invoke(e, &req);
  if (rc == BP_ERR_WOULDBLOCK && l->state == LANE_INVOKING && l->req_id == req.req_id) {
    l->tries--;
    l->state = LANE_READY;
    l->not_before = now + e->o.wouldblock_retry_ms;
    return 0;
  }
  return rc < 0 && rc != BP_ERR_WOULDBLOCK ? rc : 1;
}

/* ---- Acting on an attempt's outcome (§3.3-§3.5, §4, §5.1) ---- */

static int act_on_result(bp_engine *e, bp__shard *s, bp__lane *l) {
  uint64_t first;
  size_t n;
  uint32_t attempts, invocations;
  if (bp_bisect_current(l->bisect, &first, &n, &attempts, &invocations) < 0)
    return bp__engine_fail(e, BP_ERR_INTERNAL, "completion without a current batch");
  load_positions(e, s, l, (uint32_t)first, n);
  bp_resolver_input in;
  bp_resolver_input_init(&in, sizeof in);
  in.attempts = attempts;
  in.invocations = invocations;
  in.consecutive_failures = l->k;
  in.batch_size = n;
  in.now_ms = l->done_ms;
  switch (l->res_kind) {
  case BP_INVOKE_RESULT_THROTTLED: in.outcome = BP_ATTEMPT_NOT_REACHED; break;
  case BP_INVOKE_RESULT_ERROR: in.outcome = BP_ATTEMPT_FUNCTION_ERROR; break;
  case BP_INVOKE_RESULT_CLASSIFIED:
    in.outcome = l->res_outcome;
    in.failed_index = l->res_failed_index;
    in.failed_count = l->res_failed_count;
    break;
  default: {
#if BP_WITH_CODEC
    bp_response_result rr;
    uint32_t flags = e->policy.report_batch_item_failures ? BP_CLASSIFY_REPORT_BATCH_ITEM_FAILURES
                                                          : 0u;
    if (e->tumbling_ms) flags |= BP_CLASSIFY_REQUIRE_STATE;
    memset(&rr, 0, sizeof rr); /* nothing to read: any normal return is a success (§3.3) */
    if (flags) load_batch(e, s, l, (uint32_t)first, n);
    int rc = flags ? bp__codec_classify(e->codec, l->body.data, l->body.len, e->views, n, flags,
                                        &rr)
                   : 0;
    if (rc) return rc == BP_ERR_NOMEM ? rc : bp__engine_fail(e, rc, bp_codec_errmsg(e->codec));
    in.outcome = rr.outcome; /* SUCCESS, PARTIAL, FAILURE = BP_ATTEMPT_* values */
    in.failed_index = rr.failed_index;
    in.failed_count = rr.failed_count;
    if (e->tumbling_ms && rr.outcome != BP_ATTEMPT_RETURNED_FAILED && rr.has_state) {
      /* §6: the next invocation of the window carries this response's state text */
      l->wstate.len = 0;
      if (bp__buf_append(&l->wstate, l->body.data + rr.state_offset, rr.state_len))
        return BP_ERR_NOMEM;
      if (rr.state_len > BP__MAX_STATE_BYTES) {
        l->final_early = 1;
        l->final_not_before = l->done_ms;
      }
    }
#else
    return bp__engine_fail(e, BP_ERR_INTERNAL, "unclassified response in a core-only build");
#endif
  }
  }
  if (BP__RESULT_REACHED(l->res_kind)) { /* the batch's last invocation (§5.3 requestId) */
    l->win_invoked = e->tumbling_ms != 0;
    l->has_last = 1;
    copy_str(l->last_request_id, sizeof l->last_request_id, l->res_request_id);
    copy_str(l->last_version, sizeof l->last_version, l->res_version);
    copy_str(l->last_function_error, sizeof l->last_function_error, l->res_function_error);
  }
  bp_resolver_action a = BP_RESOLVER_ACTION_INIT;
  char msg[160];
  int rc = bp_resolver_decide(&e->policy, &in, &a, msg, sizeof msg);
  if (rc < 0) return bp__engine_fail(e, BP_ERR_INTERNAL, msg);

  batch_event(e, s, l, BP_EVENT_OUTCOME, in.outcome, (uint32_t)first, n,
              in.outcome == BP_ATTEMPT_PARTIAL ? (int64_t)in.failed_index : 0);
  if (in.outcome == BP_ATTEMPT_NOT_REACHED) {
    s->m.throttled_attempts++;
  } else {
    s->m.invocations++;
    s->m.invoked_event_count += a.invoked_event_count;
    bp__engine_metric(e, s, l->index, BP_METRIC_INVOKED_EVENT_COUNT,
                      (int64_t)a.invoked_event_count);
  }
  if (a.failed_invoke_event_count) {
    s->m.failed_invoke_event_count += a.failed_invoke_event_count;
    bp__engine_metric(e, s, l->index, BP_METRIC_FAILED_INVOKE_EVENT_COUNT,
                      (int64_t)a.failed_invoke_event_count);
  }

  if (a.kind == BP_ACTION_DISCARD) return begin_discard(e, s, l, &a, (uint32_t)first, l->done_ms);
  if (a.kind == BP_ACTION_COMMIT_ALL || a.kind == BP_ACTION_COMMIT_PREFIX) {
    hold_for_window(e, s, l, e->positions[0]);
    rc = bp__engine_finish(e, s, e->positions, a.commit_count);
    if (rc < 0) return rc;
  }
  if (a.kind == BP_ACTION_SPLIT)
    batch_event(e, s, l, BP_EVENT_SPLIT, 0, (uint32_t)first, n / 2, 0);
  rc = apply_action(e, l, &a);
  if (rc < 0) return rc;
  if (rc == BP_BISECT_MORE && a.not_before_ms > l->done_ms)
    bp__engine_event(e, s, l->index, BP_EVENT_BACKOFF, (int)l->k, NULL, NULL, 0,
                     a.not_before_ms);
  return 1;
}

/* ---- Final window invocations (§6 (batchpoint's decision)) ---- */

static int invoke_final(bp_engine *e, bp__shard *s, bp__lane *l, int64_t now) {
  bp__window wf;
  window_fields(e, l, &wf, 1);
  bp_invoke_req req;
  memset(&req, 0, sizeof req);
  req.struct_size = sizeof req;
  req.record_stride = sizeof(bp_record);
  req.req_id = ++e->next_req;
  req.shard_id = s->id;
  req.lane = l->index;
  req.attempt = l->tries_final + 1;
  req.flags = BP_INVOKE_FINAL | (l->final_early ? BP_INVOKE_TERMINATED_EARLY : 0u);
  req.records = e->views;
  req.count = 0;
  req.window_start_ms = wf.start_ms;
  req.window_end_ms = wf.end_ms;
  req.state = wf.state_json ? wf.state_json : "{}";
  req.state_len = wf.state_json ? wf.state_json_len : 2;
#if BP_WITH_CODEC
  int rc = bp_codec_encode_event(e->codec, s->id, e->views, 0, &wf, &req.payload,
                                 &req.payload_len);
  if (rc) return rc == BP_ERR_NOMEM ? rc : bp__engine_fail(e, rc, bp_codec_errmsg(e->codec));
#endif
  l->final_return = l->state;
  l->in_final = 1;
  l->tries_final++;
  l->req_id = req.req_id;
  l->state = LANE_INVOKING;
  e->event_flags = req.flags;
  bp__engine_event(e, s, l->index, BP_EVENT_INVOKE, (int)req.attempt, NULL, NULL, 0,
                   (int64_t)req.payload_len);
  e->event_flags = 0;
  int crc = bp__engine_call_invoke(e, &req);
  if (crc == BP_ERR_WOULDBLOCK && l->state == LANE_INVOKING && l->req_id == req.req_id) {
    l->state = l->final_return;
    l->in_final = 0;
    l->tries_final--;
    l->final_not_before = now + e->o.wouldblock_retry_ms;
    return 0;
  }
  return crc < 0 && crc != BP_ERR_WOULDBLOCK ? crc : 1;
}

/* A final invocation succeeds when the function returned a `state` object; any other end
 * is retried with the lane's backoff (no retry quota, no record age, no discard). */
static int act_on_final(bp_engine *e, bp__shard *s, bp__lane *l) {
  int outcome = l->res_kind == BP_INVOKE_RESULT_THROTTLED ? BP_ATTEMPT_NOT_REACHED
                : l->res_kind == BP_INVOKE_RESULT_ERROR   ? BP_ATTEMPT_FUNCTION_ERROR
                                                          : BP_ATTEMPT_RETURNED_FAILED;
#if BP_WITH_CODEC
  if (l->res_kind == BP_INVOKE_RESULT_RETURNED) {
    bp_response_result rr;
    int rc = bp__codec_classify(e->codec, l->body.data, l->body.len, NULL, 0,
                                BP_CLASSIFY_REQUIRE_STATE, &rr);
    if (rc) return rc == BP_ERR_NOMEM ? rc : bp__engine_fail(e, rc, bp_codec_errmsg(e->codec));
    if (rr.outcome == BP_ATTEMPT_SUCCESS) outcome = BP_ATTEMPT_SUCCESS;
  }
#endif
  l->in_final = 0;
  l->state = l->final_return;
  if (outcome == BP_ATTEMPT_NOT_REACHED) s->m.throttled_attempts++;
  else s->m.invocations++;
  bp__engine_event(e, s, l->index, BP_EVENT_OUTCOME, outcome, NULL, NULL, 0, 0);
  if (outcome == BP_ATTEMPT_SUCCESS) {
    l->k = 0;
    l->tries_final = 0;
    l->wstate.len = 0; /* the next invocation of the window (if any) starts afresh */
    if (l->final_early) l->final_early = 0; /* the window goes on: its normal final stays owed */
    else l->win_invoked = 0;
    l->final_not_before = l->done_ms;
    l->hold = 0; /* what the window finished may be checkpointed now */
    bp__engine_publish_checkpoint(e, s);
    return 1;
  }
  if (l->k < UINT32_MAX) l->k++;
  int64_t delay = 0;
  bp_resolver_backoff(&e->policy, l->k, &delay);
  l->final_not_before = l->done_ms + delay;
  if (delay > 0)
    bp__engine_event(e, s, l->index, BP_EVENT_BACKOFF, (int)l->k, NULL, NULL, 0,
                     l->final_not_before);
  return 1;
}

/* ---- The lane's step and deadline ---- */

int bp__lane_step(bp_engine *e, bp__shard *s, bp__lane *l, int64_t now) {
  int stopped = !e->enabled || e->shutting_down;
  int64_t at;
  if (!stopped && final_due(e, s, l, &at)) {
    if (now >= at) return invoke_final(e, s, l, now);
    /* Nothing of the lane overtakes an owed final: neither a pending retry (early final)
       nor a batch of a later window or a late record (§6). */
    if (l->final_early || l->state == LANE_IDLE) return 0;
  }
  switch (l->state) {
  case LANE_COMPLETED: return l->in_final ? act_on_final(e, s, l) : act_on_result(e, s, l);
  case LANE_DELIVERED: return finish_discard(e, s, l);
  case LANE_DISCARDING:
    if (now < l->not_before) return 0;
    return start_delivery(e, s, l, now);
  case LANE_READY:
    if (stopped || now < l->not_before) return 0;
    if (l->tries && l->retry_gen == e->gen) return 0; /* one retry per run: no spinning */
    if (l->tries) l->retry_gen = e->gen;
    return invoke_current(e, s, l, now);
  case LANE_IDLE:
    if (stopped || l->pending == 0) return 0;
    return form_batch(e, s, l, now);
  default: return 0; /* a request is in flight */
  }
}

int64_t bp__lane_deadline(const bp_engine *e, const bp__shard *s, const bp__lane *l) {
  int stopped = !e->enabled || e->shutting_down;
  int64_t at;
  if (!stopped && final_due(e, s, l, &at)) {
    if (l->final_early || l->state == LANE_IDLE) {
      /* records of a later window wait for it; records of this window come first */
      return at;
    }
  }
  switch (l->state) {
  case LANE_COMPLETED:
  case LANE_DELIVERED: return e->now;
  case LANE_DISCARDING: return l->not_before;
  case LANE_READY: return stopped ? BP_NO_DEADLINE : l->not_before;
  case LANE_IDLE:
    if (stopped || l->pending == 0) return BP_NO_DEADLINE;
    if (l->offered < l->pending) return e->now; /* records not offered yet */
    if (s->read_end) return e->now;
    return bp_batch_deadline(l->builder);
  default: return BP_NO_DEADLINE;
  }
}
