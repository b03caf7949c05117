/* SPDX-License-Identifier: MIT */
/*
 * bpsim_host.c: the simulated host of one mapping. It serves fetches from the scenario's
 * stream, answers invoke attempts from the scripted function, accepts on-failure
 * deliveries, applies the timed actions, and moves a simulated clock from event to event:
 * the engine's next deadline, the next record arrival, the next function completion, the
 * next action, never beyond run_until_ms. Fetches and deliveries complete inside their
 * callbacks; an invocation completes inside its callback when it takes 0 ms, otherwise at
 * attempt time + sleep_ms from the host's queue (outside any callback). What happens is
 * handed to the timeline (bpsim_trace.c) when one is wanted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpsim.h"

#define SIM_MAX_ATTEMPTS 10000 /* runaway guard */
#define SIM_MAX_SPINS 1000     /* ticks at one instant while the engine says "due now" */
#define SIM_MAX_STEPS 5000000  /* clock steps: a run_until_ms years away must still end */
#define SIM_SEED UINT64_C(0x62707369)

typedef struct sim_pending {
  uint64_t req_id, order;
  int64_t due_ms;
  const sim_rule *rule;
  size_t inv; /* its log->inv entry */
  char request_id[40];
} sim_pending;

typedef struct sim_host {
  const sim_file *f;
  const sim_scenario *s;
  const sim_mapping *m;
  const sim_opts *o;
  sim_log *log;
  sim_report *rep;
  bp_engine *e;
  int64_t now;
  size_t *iter;    /* per shard: where the previous fetch ended */
  int *iter_valid;
  char **ck_last;  /* per shard: the checkpoint last sampled */
  int *ck_known;
  sim_pending *pend;
  size_t n_pend, cap_pend;
  uint64_t order, rng;
  int stop;
  int delivers; /* the mapping has an on-failure destination */
} sim_host;

/* ---- helpers ---- */

static void host_fail(sim_host *h, const char *what, int rc) {
  rep_fail(h->rep, "%s at t=%lld: %s (%s)", what, (long long)h->now,
           h->e ? bp_engine_errmsg(h->e) : "", bp_err_name(rc));
  h->stop = 1;
}

static uint64_t rng_next(uint64_t *s) { /* xorshift64*: request ids and UUIDs, seeded */
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * UINT64_C(0x2545F4914F6CDD1D);
}

static void make_uuid(uint64_t *s, char out[40]) {
  uint64_t a = rng_next(s), b = rng_next(s);
  snprintf(out, 40, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
           (unsigned)a & 0xfff, (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
           (unsigned long long)(b & UINT64_C(0xffffffffffff)));
}

static size_t shard_index(const sim_host *h, const char *id) {
  for (size_t k = 0; k < h->s->n_shards; k++)
    if (strcmp(h->s->shards[k].id, id) == 0) return k;
  return (size_t)-1;
}

/* Remember the checkpoint of every shard whenever it changed (after each driving call). */
static void sample_checkpoints(sim_host *h) {
  for (size_t k = 0; h->e && k < h->s->n_shards; k++) {
    char buf[BP_STORE_SEQ_CAP];
    size_t len = 0;
    int rc = bp_engine_get_checkpoint(h->e, h->s->shards[k].id, buf, sizeof buf, &len);
    const char *now = rc == 0 ? buf : NULL;
    if (rc < 0) continue;
    if (h->ck_known[k] && ((!now && !h->ck_last[k]) || (now && h->ck_last[k] && !strcmp(now, h->ck_last[k]))))
      continue;
    sim_log *log = h->log;
    if (log->n_ck == log->cap_ck) {
      size_t cap = log->cap_ck ? log->cap_ck * 2 : 16;
      sim_ckpt *n = realloc(log->ck, cap * sizeof *n);
      if (!n) return;
      log->ck = n;
      log->cap_ck = cap;
    }
    char *copy = NULL;
    if (now && !(copy = malloc(len + 1))) return;
    if (copy) memcpy(copy, buf, len + 1);
    log->ck[log->n_ck++] = (sim_ckpt){h->now, k, copy};
    h->ck_last[k] = copy;
    h->ck_known[k] = 1;
  }
}

/* ---- callbacks ---- */

static int cb_fetch(bp_engine *e, const bp_fetch_req *req, void *ud) {
  sim_host *h = ud;
  size_t k = shard_index(h, req->shard_id);
  if (k == (size_t)-1) {
    rep_fail(h->rep, "engine: fetch of unknown shard \"%s\" at t=%lld", req->shard_id, (long long)h->now);
    h->stop = 1;
    return BP_ERR_INVALID_ARGUMENT;
  }
  const sim_shard *sh = &h->s->shards[k];
  size_t pos = 0;
  switch (req->from) {
  case BP_POSITION_TRIM_HORIZON:
    pos = 0;
    break;
  case BP_POSITION_LATEST: /* after every record that arrived by the mapping's creation */
    for (size_t i = 0; i < sh->n; i++)
      if (sh->recs[i]->arrival_ms <= h->s->start_ms) pos = i + 1;
    break;
  case BP_POSITION_AT_TIMESTAMP:
    while (pos < sh->n && sh->recs[pos]->arrival_ms < req->timestamp_ms) pos++;
    break;
  case BP_POSITION_AFTER_SEQUENCE_NUMBER:
    if (!req->after_seq || bp_seqnum_validate(req->after_seq, req->after_seq_len)) {
      rep_fail(h->rep, "engine: fetch AFTER_SEQ with an invalid sequence number at t=%lld", (long long)h->now);
      h->stop = 1;
      return BP_ERR_INVALID_ARGUMENT;
    }
    while (pos < sh->n && sim_seq_cmp(sh->recs[pos]->seq, sh->recs[pos]->seq_len, req->after_seq,
                                      req->after_seq_len) <= 0)
      pos++;
    break;
  case BP_POSITION_CONTINUE:
    if (!h->iter_valid[k]) {
      rep_fail(h->rep, "engine: fetch CONTINUE of shard %s before any fetch (t=%lld)", sh->id, (long long)h->now);
      h->stop = 1;
      return BP_ERR_INVALID_ARGUMENT;
    }
    pos = h->iter[k];
    break;
  default:
    rep_fail(h->rep, "engine: fetch with unknown 'from' %d", (int)req->from);
    h->stop = 1;
    return BP_ERR_INVALID_ARGUMENT;
  }
  size_t n = 0;
  while (pos + n < sh->n && n < req->max_records && sh->recs[pos + n]->arrival_ms <= h->now) n++;
  h->iter[k] = pos + n;
  h->iter_valid[k] = 1;
  int rc = bp_engine_complete_fetch(e, req->req_id, h->now, 0, n ? &sh->views[pos] : NULL, n, 0);
  if (rc < 0) host_fail(h, "bp_engine_complete_fetch", rc);
  return 0;
}

/* isFinalInvokeForWindow and window.start of an event, for the tumbling-window conditions. */
static void window_info(const bp_invoke_req *req, int *final, int *has_start, int64_t *start) {
  *final = 0;
  *has_start = 0;
  if (!req->payload) return;
  char err[64];
  yajl_val ev = yajl_tree_parse(req->payload, err, sizeof err);
  *final = YAJL_IS_TRUE(jv_get(ev, "isFinalInvokeForWindow"));
  const char *ws = YAJL_GET_STRING(jv_get(jv_get(ev, "window"), "start"));
  int32_t sub;
  if (ws && sim_rfc3339(ws, start, &sub) == 0) *has_start = 1;
  yajl_tree_free(ev);
}

static const sim_rule *pick_rule(const sim_host *h, const bp_invoke_req *req) {
  int window_known = 0, final = 0, has_start = 0;
  int64_t start = 0;
  for (size_t i = 0; i < h->m->n_rules; i++) {
    const sim_rule *r = &h->m->rules[i];
    if (r->has_contains) {
      int any = 0;
      for (size_t j = 0; j < r->n_contains && !any; j++)
        for (size_t x = 0; x < req->count && !any; x++) {
          const bp_record *rx = BP_RECORD_AT(req->records, req->record_stride, x);
          any = sim_seq_cmp(r->contains[j], strlen(r->contains[j]), rx->seq, rx->seq_len) == 0;
        }
      if (!any) continue;
    }
    if (r->has_invocation && (size_t)r->invocation != h->log->attempts) continue;
    if (r->has_lt && !(h->now < r->now_lt)) continue;
    if (r->has_ge && !(h->now >= r->now_ge)) continue;
    if (r->final_cond >= 0 || r->has_window_start) {
      if (!window_known) window_info(req, &final, &has_start, &start);
      window_known = 1;
      if (r->final_cond >= 0 && final != r->final_cond) continue;
      if (r->has_window_start && (!has_start || start != r->window_start_ms)) continue;
    }
    return r;
  }
  return NULL;
}

static void result_of(const sim_rule *r, const char *request_id, bp_invoke_result *res) {
  bp_invoke_result_init(res, sizeof *res);
  if (r->kind == SIM_RESPOND_THROTTLE) {
    res->kind = BP_INVOKE_RESULT_THROTTLED;
    return;
  }
  res->request_id = request_id;
  res->request_id_len = strlen(request_id);
  if (r->kind == SIM_RESPOND_ERROR) {
    res->kind = BP_INVOKE_RESULT_ERROR;
    res->function_error = r->error;
    res->function_error_len = strlen(r->error);
  } else {
    res->kind = BP_INVOKE_RESULT_RETURNED;
    res->body = r->body_len ? r->body : NULL;
    res->body_len = r->body_len;
  }
}

static sim_inv *new_inv(sim_host *h, const bp_invoke_req *req) {
  sim_log *log = h->log;
  if (log->n_inv == log->cap_inv) {
    size_t cap = log->cap_inv ? log->cap_inv * 2 : 16;
    sim_inv *n = realloc(log->inv, cap * sizeof *n);
    if (!n) return NULL;
    log->inv = n;
    log->cap_inv = cap;
  }
  sim_inv *inv = &log->inv[log->n_inv];
  memset(inv, 0, sizeof *inv);
  size_t bytes = 2 * req->count * sizeof(char *) + 1;
  for (size_t i = 0; i < req->count; i++) {
    const bp_record *ri = BP_RECORD_AT(req->records, req->record_stride, i);
    bytes += ri->seq_len + ri->partition_key_len + 2;
  }
  char **block = malloc(bytes); /* seq and key pointers, then their text */
  if (!block) return NULL;
  char *text = (char *)(block + 2 * req->count);
  for (size_t i = 0; i < req->count; i++) {
    const bp_record *r = BP_RECORD_AT(req->records, req->record_stride, i);
    block[i] = text;
    memcpy(text, r->seq, r->seq_len);
    text[r->seq_len] = '\0';
    text += r->seq_len + 1;
    block[req->count + i] = text;
    if (r->partition_key_len) memcpy(text, r->partition_key, r->partition_key_len);
    text[r->partition_key_len] = '\0';
    text += r->partition_key_len + 1;
  }
  inv->seqs = block;
  inv->keys = block + req->count;
  inv->n = req->count;
  size_t k = shard_index(h, req->shard_id);
  inv->shard = k == (size_t)-1 ? "?" : h->s->shards[k].id;
  inv->start_ms = h->now;
  inv->lane = req->lane;
  inv->attempt = req->attempt;
  inv->flags = req->flags;
  inv->payload_len = req->payload_len;
  if (h->o->keep_payloads && req->payload) {
    inv->payload = malloc(req->payload_len + 1);
    if (!inv->payload) {
      free(block);
      return NULL;
    }
    memcpy(inv->payload, req->payload, req->payload_len);
    inv->payload[req->payload_len] = '\0';
  }
  log->n_inv++;
  return inv;
}

static int cb_invoke(bp_engine *e, const bp_invoke_req *req, void *ud) {
  sim_host *h = ud;
  sim_log *log = h->log;
  if (h->stop) return 0; /* the run is ending: leave it in flight (abandoned by del) */
  if (++log->attempts > SIM_MAX_ATTEMPTS) {
    rep_fail(h->rep, "runaway guard: more than %d invoke attempts (t=%lld)", SIM_MAX_ATTEMPTS,
             (long long)h->now);
    h->stop = 1;
    return 0;
  }
  if (!req->payload) {
    rep_fail(h->rep, "engine: invoke request without a payload (core-only build?)");
    h->stop = 1;
    return 0;
  }
  if (req->payload_len > log->max_event_bytes) log->max_event_bytes = req->payload_len;
  const sim_rule *r = pick_rule(h, req);
  sim_inv *inv = r ? new_inv(h, req) : NULL;
  if (!inv) {
    rep_fail(h->rep, r ? "host: out of memory" : "function: no rule matches attempt %zu", log->attempts);
    h->stop = 1;
    return 0;
  }
  inv->end_ms = h->now + r->sleep_ms;
  inv->throttled = r->kind == SIM_RESPOND_THROTTLE;
  if (inv->throttled) log->throttled++;
  else log->invocations++;
  char request_id[40];
  make_uuid(&h->rng, request_id);
  if (r->sleep_ms == 0) {
    if (h->o->tl)
      sim_tl_response(h->o->tl, h->now, inv, log->n_inv, r, (size_t)(r - h->m->rules), request_id);
    bp_invoke_result res = BP_INVOKE_RESULT_INIT;
    result_of(r, request_id, &res);
    int rc = bp_engine_complete_invoke(e, req->req_id, h->now, &res);
    if (rc < 0) host_fail(h, "bp_engine_complete_invoke", rc);
    return 0;
  }
  if (h->n_pend == h->cap_pend) {
    size_t cap = h->cap_pend ? h->cap_pend * 2 : 8;
    sim_pending *n = realloc(h->pend, cap * sizeof *n);
    if (!n) {
      rep_fail(h->rep, "host: out of memory");
      h->stop = 1;
      return 0;
    }
    h->pend = n;
    h->cap_pend = cap;
  }
  sim_pending *p = &h->pend[h->n_pend++];
  p->req_id = req->req_id;
  p->order = h->order++;
  p->due_ms = inv->end_ms;
  p->rule = r;
  p->inv = log->n_inv - 1;
  memcpy(p->request_id, request_id, sizeof request_id);
  return 0;
}

static char *dup_n(const char *s, size_t n) {
  char *p = s ? malloc(n + 1) : NULL;
  if (p) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

static int cb_deliver(bp_engine *e, const bp_delivery_req *req, void *ud) {
  sim_host *h = ud;
  sim_log *log = h->log;
  if (log->n_dlv == log->cap_dlv) {
    size_t cap = log->cap_dlv ? log->cap_dlv * 2 : 8;
    sim_dlv *n = realloc(log->dlv, cap * sizeof *n);
    if (!n) goto oom;
    log->dlv = n;
    log->cap_dlv = cap;
  }
  sim_dlv *d = &log->dlv[log->n_dlv];
  memset(d, 0, sizeof *d);
  d->at_ms = h->now;
  d->dest_type = req->destination_type;
  d->condition = req->condition;
  d->approximate_invoke_count = req->approximate_invoke_count;
  d->lane = req->lane;
  d->timestamp_ms = req->timestamp_ms;
  d->destination = dup_n(req->destination, req->destination ? strlen(req->destination) : 0);
  d->record_json = dup_n(req->record_json, req->record_json_len);
  d->record_len = req->record_json_len;
  d->s3_key = dup_n(req->s3_key, req->s3_key ? strlen(req->s3_key) : 0);
  d->shard = dup_n(req->shard_id, strlen(req->shard_id));
  d->seqs = calloc(req->count ? req->count : 1, sizeof *d->seqs);
  log->n_dlv++; /* from here sim_log_free owns what was allocated */
  if (!d->shard || !d->seqs || (req->destination && !d->destination) ||
      (req->record_json && !d->record_json) || (req->s3_key && !d->s3_key))
    goto oom;
  for (size_t i = 0; i < req->count; i++) {
    const bp_record *ri = BP_RECORD_AT(req->records, req->record_stride, i);
    if (!(d->seqs[i] = dup_n(ri->seq, ri->seq_len))) goto oom;
    d->n = i + 1;
  }
  if (h->o->tl) sim_tl_discard(h->o->tl, h->now, req);
  int rc = bp_engine_complete_delivery(e, req->req_id, h->now, 0);
  if (rc < 0) host_fail(h, "bp_engine_complete_delivery", rc);
  return 0;
oom:
  rep_fail(h->rep, "host: out of memory");
  h->stop = 1;
  return 0;
}

static int cb_event(bp_engine *e, const bp_engine_event *ev, void *ud) {
  sim_host *h = ud;
  (void)e;
  /* with a destination the discard is traced with its on-failure record, by cb_deliver */
  if (h->o->tl && !(ev->type == BP_EVENT_DISCARD && h->delivers)) sim_tl_event(h->o->tl, h->now, ev);
  return 0;
}

/* ---- the run ---- */

/* Actions the engine can carry out: UpdateEventSourceMapping with Enabled (plus ids). */
static const char *unsupported_action(const sim_action *a, size_t i, char *buf, size_t cap) {
  if (strcmp(a->action, "UpdateEventSourceMapping")) {
    snprintf(buf, cap, "actions[%zu]: action %s is not supported by the runner", i, a->action);
    return buf;
  }
  for (size_t k = 0; k < a->input->u.object.len; k++) {
    const char *key = a->input->u.object.keys[k];
    yajl_val v = a->input->u.object.values[k];
    if (!strcmp(key, "Enabled") && (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))) continue;
    if (!strcmp(key, "UUID") || !strcmp(key, "FunctionName")) continue;
    snprintf(buf, cap, "actions[%zu].input.%s: the engine cannot change a running mapping's %s", i, key, key);
    return buf;
  }
  return NULL;
}

static int action_applies(const sim_action *a, const sim_mapping *m) {
  const char *fn = YAJL_GET_STRING(jv_get(a->input, "FunctionName"));
  const char *mine = YAJL_GET_STRING(jv_get(m->config, "FunctionName"));
  return !fn || !mine || strcmp(fn, mine) == 0;
}

static int apply_action(sim_host *h, size_t i) {
  const sim_action *a = &h->s->actions[i];
  if (!action_applies(a, h->m)) return 0;
  yajl_val en = jv_get(a->input, "Enabled");
  if (en) {
    if (h->o->tl) sim_tl_action(h->o->tl, h->now, i, a->action, YAJL_IS_TRUE(en));
    int rc = bp_engine_set_enabled(h->e, h->now, YAJL_IS_TRUE(en));
    if (rc < 0) {
      host_fail(h, "bp_engine_set_enabled", rc);
      return -1;
    }
  }
  return 0;
}

static int64_t next_time(const sim_host *h, size_t next_action) {
  int64_t t = bp_engine_next_deadline(h->e);
  for (size_t i = 0; i < h->s->n_recs; i++)
    if (h->s->recs[i].arrival_ms > h->now && h->s->recs[i].arrival_ms < t) t = h->s->recs[i].arrival_ms;
  for (size_t i = 0; i < h->n_pend; i++)
    if (h->pend[i].due_ms < t) t = h->pend[i].due_ms;
  if (next_action < h->s->n_actions && h->s->actions[next_action].at_ms < t)
    t = h->s->actions[next_action].at_ms;
  return t;
}

/* Complete the earliest queued invocation due by now. @return 1 done, 0 none, -1 error. */
static int complete_due(sim_host *h) {
  size_t best = (size_t)-1;
  for (size_t i = 0; i < h->n_pend; i++)
    if (h->pend[i].due_ms <= h->now &&
        (best == (size_t)-1 || h->pend[i].due_ms < h->pend[best].due_ms ||
         (h->pend[i].due_ms == h->pend[best].due_ms && h->pend[i].order < h->pend[best].order)))
      best = i;
  if (best == (size_t)-1) return 0;
  sim_pending p = h->pend[best];
  h->pend[best] = h->pend[--h->n_pend];
  if (h->o->tl)
    sim_tl_response(h->o->tl, h->now, &h->log->inv[p.inv], p.inv + 1, p.rule,
                    (size_t)(p.rule - h->m->rules), p.request_id);
  bp_invoke_result res = BP_INVOKE_RESULT_INIT;
  result_of(p.rule, p.request_id, &res);
  int rc = bp_engine_complete_invoke(h->e, p.req_id, h->now, &res);
  sample_checkpoints(h);
  if (rc < 0) {
    host_fail(h, "bp_engine_complete_invoke", rc);
    return -1;
  }
  return 1;
}

static void run_loop(sim_host *h) {
  size_t next_action = 0, steps = 0;
  int spins = 0;
  int rc = bp_engine_tick(h->e, h->now);
  sample_checkpoints(h);
  if (rc < 0) {
    host_fail(h, "bp_engine_tick", rc);
    return;
  }
  while (!h->stop) {
    int r;
    while ((r = complete_due(h)) == 1 && !h->stop) {
    }
    if (r < 0 || h->stop) return;
    while (next_action < h->s->n_actions && h->s->actions[next_action].at_ms <= h->now) {
      if (apply_action(h, next_action++)) return;
      sample_checkpoints(h);
    }
    rc = bp_engine_tick(h->e, h->now);
    sample_checkpoints(h);
    if (rc < 0) {
      host_fail(h, "bp_engine_tick", rc);
      return;
    }
    if (h->stop) return;
    int64_t t = next_time(h, next_action);
    if (t <= h->now) {
      if (++spins > SIM_MAX_SPINS) {
        rep_fail(h->rep, "engine: next deadline stays at or before t=%lld after %d ticks",
                 (long long)h->now, SIM_MAX_SPINS);
        return;
      }
      continue;
    }
    spins = 0;
    if (t == BP_NO_DEADLINE || t > h->s->run_until_ms) return;
    if (++steps > SIM_MAX_STEPS) {
      rep_fail(h->rep, "runaway guard: more than %d clock steps (t=%lld)", SIM_MAX_STEPS, (long long)h->now);
      return;
    }
    h->now = t;
  }
}

int sim_run(const sim_file *f, const sim_scenario *s, const sim_mapping *m, const sim_opts *o,
            sim_log *log, sim_report *rep) {
  memset(log, 0, sizeof *log);
  if (o->tl) sim_tl_begin(o->tl, s, m);
  char why[256];
  for (size_t i = 0; i < s->n_actions; i++) {
    if (unsupported_action(&s->actions[i], i, why, sizeof why)) {
      rep->skipped = 1;
      snprintf(rep->skip, sizeof rep->skip, "%s", why);
      if (o->tl) sim_tl_end(o->tl, s->start_ms, NULL);
      return 1;
    }
  }
  sim_host h;
  memset(&h, 0, sizeof h);
  h.f = f;
  h.s = s;
  h.m = m;
  h.o = o;
  h.log = log;
  h.rep = rep;
  h.now = s->start_ms;
  h.rng = SIM_SEED ^ (uint64_t)s->index * UINT64_C(0x9E3779B97F4A7C15);
  size_t ns = s->n_shards ? s->n_shards : 1;
  h.iter = calloc(ns, sizeof *h.iter);
  h.iter_valid = calloc(ns, sizeof *h.iter_valid);
  h.ck_last = calloc(ns, sizeof *h.ck_last);
  h.ck_known = calloc(ns, sizeof *h.ck_known);
  bp_config *cfg = NULL;
  size_t len = 0;
  char *body = jv_text(m->config, &len);
  int ret = 0;
  if (!h.iter || !h.iter_valid || !h.ck_last || !h.ck_known || !body || bp_config_new(&cfg, NULL)) {
    rep_fail(rep, "host: out of memory");
    goto out;
  }
  int rc = bp_config_parse_json(cfg, body, len);
  if (rc < 0) {
    /* "expect" -> "config", "mappings[1].expect" -> "mappings[1].config" */
    rep_fail(rep, "%.*sconfig: the mapping's configuration is rejected: %s",
             (int)(strlen(m->path) - strlen("expect")), m->path, bp_config_errmsg(cfg));
    goto out;
  }
  h.delivers = bp_config_get_on_failure_destination(cfg) != NULL;
  const char *uuid = sim_env(f, s, "esm_uuid");
  if (uuid) snprintf(log->esm_uuid, sizeof log->esm_uuid, "%s", uuid);
  else make_uuid(&h.rng, log->esm_uuid); /* the host chooses the mapping UUID */
  bp_engine_opts opts;
  bp_engine_opts_init(&opts, sizeof opts);
  opts.invoke_identity_arn = sim_env(f, s, "role_arn");
  opts.aws_region = sim_env(f, s, "region");
  opts.mapping_uuid = log->esm_uuid;
  opts.seed = SIM_SEED + s->index;
  bp_transport tr;
  memset(&tr, 0, sizeof tr);
  tr.fetch = cb_fetch;
  tr.invoke = cb_invoke;
  tr.deliver = cb_deliver;
  tr.on_event = cb_event;
  char err[512] = "";
  rc = bp_engine_new(&h.e, cfg, &opts, &tr, &h, NULL, err, sizeof err);
  if (rc == BP_ERR_UNSUPPORTED) {
    rep->skipped = 1;
    snprintf(rep->skip, sizeof rep->skip, "engine: %.400s", err);
    ret = 1;
    goto out;
  }
  if (rc < 0) {
    rep_fail(rep, "engine: bp_engine_new refused the mapping: %s (%s)", err, bp_err_name(rc));
    goto out;
  }
  for (size_t k = 0; k < s->n_shards; k++) {
    rc = bp_engine_add_shard(h.e, s->shards[k].id, NULL, NULL, NULL, 0);
    if (rc < 0) {
      host_fail(&h, "bp_engine_add_shard", rc);
      goto out;
    }
  }
  run_loop(&h);
  if (h.n_pend && !rep->failed) {
    rep_fail(rep, "at run_until_ms %zu invocation(s) still in flight (the first completes at t=%lld)",
             h.n_pend, (long long)h.pend[0].due_ms);
  }
  bp_engine_metrics_init(&log->metrics, sizeof log->metrics);
  if (bp_engine_get_metrics(h.e, NULL, &log->metrics) == 0) log->have_metrics = 1;
out:
  if (o->tl) sim_tl_end(o->tl, h.now, log->have_metrics ? &log->metrics : NULL);
  if (h.e) bp_engine_del(h.e);
  bp_config_del(cfg);
  free(body);
  free(h.iter);
  free(h.iter_valid);
  free(h.ck_last); /* the strings belong to log->ck */
  free(h.ck_known);
  free(h.pend);
  return ret;
}

yajl_val sim_inv_event(sim_inv *inv) {
  if (!inv->event && !inv->event_bad && inv->payload) {
    char err[256];
    inv->event = yajl_tree_parse(inv->payload, err, sizeof err);
    inv->event_bad = inv->event == NULL;
  }
  return inv->event;
}

void sim_log_free(sim_log *log) {
  for (size_t i = 0; i < log->n_inv; i++) {
    free(log->inv[i].seqs); /* one block with the keys */
    free(log->inv[i].payload);
    yajl_tree_free(log->inv[i].event);
  }
  for (size_t i = 0; i < log->n_dlv; i++) {
    sim_dlv *d = &log->dlv[i];
    for (size_t k = 0; k < d->n; k++) free(d->seqs[k]);
    free(d->seqs);
    free(d->destination);
    free(d->record_json);
    free(d->s3_key);
    free(d->shard);
    yajl_tree_free(d->record);
  }
  for (size_t i = 0; i < log->n_ck; i++) free(log->ck[i].seq);
  free(log->inv);
  free(log->dlv);
  free(log->ck);
  memset(log, 0, sizeof *log);
}
