/* SPDX-License-Identifier: MIT */
/* The scripted host of mock_host.h. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mock_host.h"

/* ---- life cycle ---- */

/* Every live mock, so a test that fails half-way (cmocka jumps out of it) can still be
 * cleaned up by mock_host_release_all() in its teardown. */
#define MOCK_MAX_LIVE 16
static mock_host *live[MOCK_MAX_LIVE];

static void track(mock_host *m, int add) {
  for (int i = 0; i < MOCK_MAX_LIVE; i++) {
    if (add ? live[i] == NULL : live[i] == m) {
      live[i] = add ? m : NULL;
      return;
    }
  }
  assert_true(!add); /* more than MOCK_MAX_LIVE mocks at once */
}

mock_host *mock_host_new(void) {
  mock_host *m = calloc(1, sizeof *m);
  assert_non_null(m);
  track(m, 1);
  test_alloc_init(&m->ta, &m->hooks);
  m->alloc = &m->hooks;
  m->now = 0;
  m->trace = getenv("MOCK_TRACE") != NULL;
  m->fetches = calloc(MOCK_MAX_LOG, sizeof *m->fetches);
  m->invokes = calloc(MOCK_MAX_LOG, sizeof *m->invokes);
  m->idx_pool = calloc(MOCK_MAX_LOG * 16, sizeof *m->idx_pool);
  m->deliveries = calloc(MOCK_MAX_LOG, sizeof *m->deliveries);
  m->saves = calloc(MOCK_MAX_LOG, sizeof *m->saves);
  m->events = calloc(MOCK_MAX_LOG, sizeof *m->events);
  assert_true(m->fetches && m->invokes && m->idx_pool && m->deliveries && m->saves &&
              m->events);
  return m;
}

static void release(mock_host *m) {
  track(m, 0);
  for (size_t i = 0; i < m->ninvokes; i++) {
    free(m->invokes[i].payload);
    free(m->invokes[i].state);
  }
  for (size_t i = 0; i < m->ndeliveries; i++) {
    free(m->deliveries[i].record_json);
    free(m->deliveries[i].s3_key);
  }
  for (int s = 0; s < m->nshards; s++) {
    for (size_t i = 0; i < m->shards[s].n; i++) free(m->shards[s].recs[i].big_data);
    free(m->shards[s].recs);
  }
  free(m->fetches);
  free(m->invokes);
  free(m->idx_pool);
  free(m->deliveries);
  free(m->saves);
  free(m->events);
  free(m);
}

void mock_host_free(mock_host *m) {
  if (!m) return;
  if (m->e) {
    int rc = bp_engine_del(m->e);
    m->e = NULL;
    assert_int_equal(rc, 0);
  }
  if (m->alloc == &m->hooks && m->ta.live_blocks != 0) {
    size_t n = m->ta.live_blocks;
    release(m);
    fail_msg("the engine leaked %zu blocks", n);
  }
  release(m);
}

int mock_host_release_all(void) {
  for (int i = 0; i < MOCK_MAX_LIVE; i++) {
    mock_host *m = live[i];
    if (!m) continue;
    if (m->e && m->depth == 0) bp_engine_del(m->e);
    m->e = NULL;
    release(m);
  }
  return 0;
}

/* ---- streams ---- */

int mock_shard_add(mock_host *m, const char *id) {
  assert_true(m->nshards < MOCK_MAX_SHARDS);
  assert_true(strlen(id) < MOCK_STR_CAP);
  mock_shard *sh = &m->shards[m->nshards];
  memset(sh, 0, sizeof *sh);
  strcpy(sh->id, id);
  sh->recs = calloc(MOCK_MAX_RECORDS, sizeof *sh->recs);
  assert_non_null(sh->recs);
  return m->nshards++;
}

int mock_shard_find(const mock_host *m, const char *id) {
  for (int s = 0; s < m->nshards; s++)
    if (!strcmp(m->shards[s].id, id)) return s;
  return -1;
}

static mock_record *new_record(mock_host *m, int shard, int64_t arrival_ms, size_t *index) {
  assert_true(shard >= 0 && shard < m->nshards);
  mock_shard *sh = &m->shards[shard];
  assert_true(sh->n < MOCK_MAX_RECORDS);
  mock_record *r = &sh->recs[sh->n];
  memset(r, 0, sizeof *r);
  r->seq_len = (size_t)snprintf(r->seq, sizeof r->seq, "4960%02d%010zu", shard, sh->n);
  r->arrival_ms = arrival_ms;
  *index = sh->n++;
  return r;
}

size_t mock_put(mock_host *m, int shard, const char *pk, const char *data, int64_t arrival_ms) {
  size_t i;
  mock_record *r = new_record(m, shard, arrival_ms, &i);
  assert_true(strlen(pk) < MOCK_STR_CAP && strlen(data) < MOCK_STR_CAP);
  r->pk_len = strlen(pk);
  memcpy(r->pk, pk, r->pk_len);
  r->data_len = strlen(data);
  memcpy(r->data, data, r->data_len);
  return i;
}

size_t mock_put_big(mock_host *m, int shard, const char *pk, size_t len, char fill,
                    int64_t arrival_ms) {
  size_t i = mock_put(m, shard, pk, "", arrival_ms);
  mock_record *r = &m->shards[shard].recs[i];
  r->big_data = malloc(len ? len : 1);
  assert_non_null(r->big_data);
  memset(r->big_data, fill, len);
  r->big_len = len;
  return i;
}

void mock_put_n(mock_host *m, int shard, size_t n, unsigned keys, int64_t arrival_ms) {
  for (size_t j = 0; j < n; j++) {
    char pk[32], data[32];
    snprintf(pk, sizeof pk, "k%u", (unsigned)(m->shards[shard].n % (keys ? keys : 1)));
    snprintf(data, sizeof data, "d%06zu", m->shards[shard].n);
    mock_put(m, shard, pk, data, arrival_ms);
  }
}

size_t mock_put_ddb(mock_host *m, int shard, const char *pk, const char *event_name,
                    int64_t arrival_ms) {
  size_t i;
  mock_record *r = new_record(m, shard, arrival_ms, &i);
  assert_true(strlen(pk) < 32);
  r->pk_len = strlen(pk);
  memcpy(r->pk, pk, r->pk_len);
  snprintf(r->event_id, sizeof r->event_id, "ev%zu", i);
  r->event_name = event_name;
  r->ddb_json_len = (size_t)snprintf(
      r->ddb_json, sizeof r->ddb_json,
      "{\"Keys\":{\"pk\":{\"S\":\"%s\"}},\"NewImage\":{\"pk\":{\"S\":\"%s\"}},"
      "\"SizeBytes\":26,\"StreamViewType\":\"NEW_IMAGE\"}",
      pk, pk);
  return i;
}

const mock_record *mock_rec(const mock_host *m, int shard, size_t index) {
  assert_true(shard >= 0 && shard < m->nshards);
  assert_true(index < m->shards[shard].n);
  return &m->shards[shard].recs[index];
}

size_t mock_index_of(const mock_host *m, int shard, const char *seq, size_t len) {
  assert_true(shard >= 0 && shard < m->nshards);
  const mock_shard *sh = &m->shards[shard];
  for (size_t i = 0; i < sh->n; i++)
    if (sh->recs[i].seq_len == len && !memcmp(sh->recs[i].seq, seq, len)) return i;
  fail_msg("sequence number %.*s is not a record of shard %s", (int)len, seq, sh->id);
  return 0;
}

void mock_view(const mock_host *m, int shard, size_t index, bp_record *out) {
  const mock_record *r = mock_rec(m, shard, index);
  bp_record_init(out, sizeof *out);
  out->seq = r->seq;
  out->seq_len = r->seq_len;
  out->arrival_ms = r->arrival_ms;
  out->partition_key = r->pk;
  out->partition_key_len = r->pk_len;
  if (r->event_name) {
    out->event_id = r->event_id;
    out->event_id_len = strlen(r->event_id);
    out->event_name = r->event_name;
    out->event_name_len = strlen(r->event_name);
    out->dynamodb_json = r->ddb_json;
    out->dynamodb_json_len = r->ddb_json_len;
  } else if (r->big_data) {
    out->data = (const uint8_t *)r->big_data;
    out->data_len = r->big_len;
  } else {
    out->data = (const uint8_t *)r->data;
    out->data_len = r->data_len;
  }
}

/* ---- callbacks ---- */

/* Entry bookkeeping shared by every callback: call count, nesting depth, scripted refusals. */
static int enter(mock_host *m, int kind) {
  m->calls[kind]++;
  m->depth++;
  if (m->depth > m->max_depth) m->max_depth = m->depth;
  if (m->depth > 1) {
    m->nested[kind]++;
    if (m->trace)
      fprintf(stderr, "  [mock] nested callback: kind %d at depth %d\n", kind, m->depth);
  }
  if (m->fail[kind]) return m->fail[kind];
  if (m->wouldblock[kind] > 0) {
    m->wouldblock[kind]--;
    return BP_ERR_WOULDBLOCK;
  }
  return 0;
}

static int shard_of(const mock_host *m, const char *id) {
  int s = mock_shard_find(m, id);
  if (s < 0) fail_msg("request for unknown shard %s", id);
  return s;
}

/* A completion refused for its arguments leaves the request in flight (bp_engine.h); any
 * other result, errors of the work it ran included, means the engine took it. */
static int still_pending(int rc) { return rc == BP_ERR_INVALID_ARGUMENT || rc == BP_ERR_RANGE; }

static void sync_result(mock_host *m, int rc) {
  m->last_complete_rc = rc;
  if (rc != 0) m->complete_errors++;
}

static size_t fetch_start(mock_host *m, const mock_fetch *f) {
  mock_shard *sh = &m->shards[f->shard];
  switch (f->from) {
  case BP_POSITION_TRIM_HORIZON:
    return 0;
  case BP_POSITION_LATEST:
    return sh->n;
  case BP_POSITION_AT_TIMESTAMP: {
    size_t i = 0;
    while (i < sh->n && sh->recs[i].arrival_ms < f->timestamp_ms) i++;
    return i;
  }
  case BP_POSITION_AFTER_SEQUENCE_NUMBER:
    return mock_index_of(m, f->shard, f->after_seq, f->after_seq_len) + 1;
  case BP_POSITION_CONTINUE:
    if (!sh->has_iterator) fail_msg("CONTINUE on shard %s, which was never read", sh->id);
    return sh->iterator;
  default:
    fail_msg("fetch from %d", (int)f->from);
  }
  return 0;
}

static int answer_fetch(mock_host *m, bp_engine *e, size_t i, int64_t now, int status) {
  mock_fetch *f = &m->fetches[i];
  mock_shard *sh = &m->shards[f->shard];
  size_t start = fetch_start(m, f), n = 0;
  if (status == 0) {
    n = sh->n - start;
    size_t cap = (size_t)f->max_records + m->over_deliver;
    if (n > cap) n = cap;
  }
  bp_record *views = calloc(n ? n : 1, sizeof *views);
  assert_non_null(views);
  for (size_t j = 0; j < n; j++) mock_view(m, f->shard, start + j, &views[j]);
  uint32_t flags = 0;
  if (status == 0 && sh->closed && start + n == sh->n && n <= f->max_records)
    flags = BP_FETCH_SHARD_END;
  if (status == 0) {
    sh->iterator = start + n;
    sh->has_iterator = 1;
  }
  f->start = start;
  f->returned = n;
  f->completed = 1;
  m->now = now;
  int rc = bp_engine_complete_fetch(e, f->req_id, now, status, views, n, flags);
  if (m->trace)
    fprintf(stderr, "  [mock %lld] fetch #%zu answered %zu from %zu status %d flags %u: %s\n",
            (long long)now, i, n, start, status, flags, bp_err_name(rc));
  free(views);
  return rc;
}

static int cb_fetch(bp_engine *e, const bp_fetch_req *req, void *ud) {
  mock_host *m = ud;
  int rc = enter(m, MOCK_FETCH);
  if (rc == 0) {
    assert_true(m->nfetches < MOCK_MAX_LOG);
    size_t i = m->nfetches++;
    mock_fetch *f = &m->fetches[i];
    memset(f, 0, sizeof *f);
    f->order = m->order_next++;
    f->req_id = req->req_id;
    f->shard = shard_of(m, req->shard_id);
    f->from = req->from;
    f->max_records = req->max_records;
    if (req->after_seq) {
      assert_true(req->after_seq_len < MOCK_SEQ_CAP);
      memcpy(f->after_seq, req->after_seq, req->after_seq_len);
      f->after_seq_len = req->after_seq_len;
    }
    f->timestamp_ms = req->timestamp_ms;
    f->max_bytes = req->max_bytes;
    f->at_ms = m->now;
    if (m->trace)
      fprintf(stderr, "  [mock %lld] fetch #%zu %s from %d max %u after %.*s\n",
              (long long)m->now, i, req->shard_id, (int)req->from, req->max_records,
              (int)f->after_seq_len, f->after_seq);
    bp_engine_metrics mt = BP_ENGINE_METRICS_INIT;
    if (bp_engine_get_metrics(e, req->shard_id, &mt) == 0)
      f->buffered_at_request = mt.buffered_records;
    if (m->hook) m->hook(m, e, MOCK_FETCH);
    if (!m->async[MOCK_FETCH]) {
      int status = 0;
      if (m->fetch_status_times > 0) {
        m->fetch_status_times--;
        status = m->fetch_status;
      }
      int crc = answer_fetch(m, e, i, m->now, status);
      sync_result(m, crc);
      if (still_pending(crc)) f->completed = 0;
    }
  }
  m->depth--;
  return rc;
}

static int complete_invoke(mock_host *m, bp_engine *e, size_t i, int64_t now) {
  mock_invoke *inv = &m->invokes[i];
  bp_invoke_result r = BP_INVOKE_RESULT_INIT;
  assert_int_equal(bp_invoke_result_init(&r, sizeof r), 0);
  if (m->fn) m->fn(m, inv, &r);
  inv->completed = 1;
  inv->completed_ms = now;
  m->now = now;
  int rc = bp_engine_complete_invoke(e, inv->req_id, now, &r);
  if (m->trace)
    fprintf(stderr, "  [mock %lld] invoke #%zu completed kind %d: %s\n", (long long)now, i,
            (int)r.kind, bp_err_name(rc));
  if (still_pending(rc)) inv->completed = 0;
  return rc;
}

static int cb_invoke(bp_engine *e, const bp_invoke_req *req, void *ud) {
  mock_host *m = ud;
  int rc = enter(m, MOCK_INVOKE);
  if (rc == 0) {
    assert_true(m->ninvokes < MOCK_MAX_LOG);
    assert_true(req->count >= 1 || (req->flags & BP_INVOKE_FINAL));
    assert_true(m->idx_used + req->count <= MOCK_MAX_LOG * 16);
    size_t i = m->ninvokes++;
    mock_invoke *inv = &m->invokes[i];
    memset(inv, 0, sizeof *inv);
    inv->order = m->order_next++;
    inv->req_id = req->req_id;
    inv->shard = shard_of(m, req->shard_id);
    inv->lane = req->lane;
    inv->attempt = req->attempt;
    inv->flags = req->flags;
    inv->count = req->count;
    inv->rec_off = m->idx_used;
    inv->at_ms = m->now;
    inv->window_start_ms = req->window_start_ms;
    inv->window_end_ms = req->window_end_ms;
    if (req->state) {
      inv->state = malloc(req->state_len + 1);
      assert_non_null(inv->state);
      memcpy(inv->state, req->state, req->state_len);
      inv->state[req->state_len] = '\0';
      inv->state_len = req->state_len;
    }
    if (m->trace)
      fprintf(stderr, "  [mock %lld] invoke #%zu %s lane %u attempt %u flags %x count %zu\n",
              (long long)m->now, i, req->shard_id, req->lane, req->attempt, req->flags,
              req->count);
    for (size_t j = 0; j < req->count; j++) {
      const bp_record *rj = BP_RECORD_AT(req->records, req->record_stride, j);
      size_t idx = mock_index_of(m, inv->shard, rj->seq, rj->seq_len);
      m->idx_pool[m->idx_used++] = idx;
      m->shards[inv->shard].recs[idx].invoked++;
    }
    /* a full build always hands over the encoded event, NUL-terminated */
    assert_non_null(req->payload);
    assert_int_equal(strlen(req->payload), req->payload_len);
    inv->payload_len = req->payload_len;
    if (m->keep_payloads) {
      inv->payload = malloc(req->payload_len + 1);
      assert_non_null(inv->payload);
      memcpy(inv->payload, req->payload, req->payload_len + 1);
    }
    if (m->hook) m->hook(m, e, MOCK_INVOKE);
    if (!m->async[MOCK_INVOKE]) sync_result(m, complete_invoke(m, e, i, m->now));
  }
  m->depth--;
  return rc;
}

static char *dup_text(const char *s, size_t n) {
  if (!s) return NULL;
  char *d = malloc(n + 1);
  assert_non_null(d);
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

static int cb_deliver(bp_engine *e, const bp_delivery_req *req, void *ud) {
  mock_host *m = ud;
  int rc = enter(m, MOCK_DELIVER);
  if (rc == 0) {
    assert_true(m->ndeliveries < MOCK_MAX_LOG);
    assert_true(req->count >= 1);
    size_t i = m->ndeliveries++;
    mock_delivery *d = &m->deliveries[i];
    memset(d, 0, sizeof *d);
    d->order = m->order_next++;
    d->req_id = req->req_id;
    d->shard = shard_of(m, req->shard_id);
    d->lane = req->lane;
    d->destination_type = req->destination_type;
    if (req->destination) snprintf(d->destination, sizeof d->destination, "%s", req->destination);
    d->condition = req->condition;
    d->approximate_invoke_count = req->approximate_invoke_count;
    d->timestamp_ms = req->timestamp_ms;
    d->count = req->count;
    const bp_record *r0 = BP_RECORD_AT(req->records, req->record_stride, 0);
    const bp_record *rn = BP_RECORD_AT(req->records, req->record_stride, req->count - 1);
    d->first = mock_index_of(m, d->shard, r0->seq, r0->seq_len);
    d->last = mock_index_of(m, d->shard, rn->seq, rn->seq_len);
    assert_non_null(req->record_json);
    assert_int_equal(strlen(req->record_json), req->record_json_len);
    d->record_json = dup_text(req->record_json, req->record_json_len);
    if (req->s3_key) d->s3_key = dup_text(req->s3_key, strlen(req->s3_key));
    d->at_ms = m->now;
    if (m->trace)
      fprintf(stderr, "  [mock %lld] deliver #%zu cond %d count %zu approx %u\n",
              (long long)m->now, i, (int)d->condition, d->count, d->approximate_invoke_count);
    if (m->hook) m->hook(m, e, MOCK_DELIVER);
    if (!m->async[MOCK_DELIVER]) {
      d->completed = 1;
      d->status = m->deliver_status;
      int crc = bp_engine_complete_delivery(e, d->req_id, m->now, m->deliver_status);
      sync_result(m, crc);
      if (still_pending(crc)) d->completed = 0;
    }
  }
  m->depth--;
  return rc;
}

static int cb_store(bp_engine *e, const bp_checkpoint_req *req, void *ud) {
  mock_host *m = ud;
  int rc = enter(m, MOCK_STORE);
  if (rc == 0) {
    assert_true(m->nsaves < MOCK_MAX_LOG);
    size_t i = m->nsaves++;
    mock_save *s = &m->saves[i];
    memset(s, 0, sizeof *s);
    s->order = m->order_next++;
    s->req_id = req->req_id;
    s->shard = shard_of(m, req->shard_id);
    assert_true(req->seq_len > 0 && req->seq_len < MOCK_SEQ_CAP);
    memcpy(s->seq, req->seq, req->seq_len);
    s->seq_len = req->seq_len;
    s->final = req->final;
    s->at_ms = m->now;
    if (m->trace)
      fprintf(stderr, "  [mock %lld] save #%zu %s %s final %d\n", (long long)m->now, i,
              req->shard_id, s->seq, s->final);
    if (m->hook) m->hook(m, e, MOCK_STORE);
    if (!m->async[MOCK_STORE]) {
      int status = 0;
      if (m->save_status_times > 0) {
        m->save_status_times--;
        status = m->save_status;
      }
      s->completed = 1;
      s->status = status;
      int crc = bp_engine_complete_checkpoint(e, s->req_id, m->now, status);
      sync_result(m, crc);
      if (still_pending(crc)) s->completed = 0;
    }
  }
  m->depth--;
  return rc;
}

static int cb_event(bp_engine *e, const bp_engine_event *ev, void *ud) {
  mock_host *m = ud;
  int rc = enter(m, MOCK_EVENT);
  if (ev->type >= 0 && ev->type < 32) m->event_counts[ev->type]++;
  if (ev->type == BP_EVENT_METRIC && ev->detail >= 0 && ev->detail < 16) {
    m->metric_sums[ev->detail] += ev->value;
    m->metric_last[ev->detail] = ev->value;
    m->metric_events[ev->detail]++;
  }
  if (m->trace)
    fprintf(stderr, "  [mock %lld] event %d detail %d count %llu value %lld%s%s\n",
            (long long)ev->now_ms, (int)ev->type, (int)ev->detail,
            (unsigned long long)ev->count, (long long)ev->value, ev->message ? " " : "",
            ev->message ? ev->message : "");
  if (m->nevents < MOCK_MAX_LOG) {
    mock_event *x = &m->events[m->nevents++];
    memset(x, 0, sizeof *x);
    x->type = ev->type;
    x->detail = ev->detail;
    x->now_ms = ev->now_ms;
    x->shard = ev->shard_id ? mock_shard_find(m, ev->shard_id) : -1;
    x->lane = ev->lane;
    if (ev->first_seq && ev->first_seq_len < MOCK_SEQ_CAP)
      memcpy(x->first_seq, ev->first_seq, ev->first_seq_len);
    x->count = ev->count;
    x->value = ev->value;
  }
  if (m->hook) m->hook(m, e, MOCK_EVENT);
  m->depth--;
  return rc;
}

void mock_transport(mock_host *m, bp_transport *t) {
  memset(t, 0, sizeof *t);
  t->fetch = cb_fetch;
  t->invoke = cb_invoke;
  if (!m->no_callback[MOCK_DELIVER]) t->deliver = cb_deliver;
  if (!m->no_callback[MOCK_STORE]) t->store_checkpoint = cb_store;
  if (!m->no_callback[MOCK_EVENT]) t->on_event = cb_event;
}

int mock_engine_new(mock_host *m, const bp_config *cfg, const bp_engine_opts *opts) {
  bp_transport t;
  mock_transport(m, &t);
  char err[256];
  int rc = bp_engine_new(&m->e, cfg, opts, &t, m, m->alloc, err, sizeof err);
  if (rc != 0 && rc != BP_ERR_NOMEM) print_message("bp_engine_new: %s\n", err);
  return rc;
}

/* ---- driving ---- */

int mock_tick(mock_host *m, int64_t now) {
  m->now = now;
  if (m->trace) fprintf(stderr, "  [mock %lld] tick\n", (long long)now);
  return bp_engine_tick(m->e, now);
}

int mock_run(mock_host *m, int64_t until) {
  int64_t last = INT64_MIN;
  int spins = 0;
  for (int guard = 0;; guard++) {
    if (guard > 1000000) fail_msg("mock_run: no end in sight");
    int64_t d = bp_engine_next_deadline(m->e);
    if (d == BP_NO_DEADLINE || d > until) break;
    int64_t t = d > m->now ? d : m->now;
    if (t == last) {
      if (++spins > 1000) fail_msg("mock_run: deadline %lld stays due", (long long)t);
    } else {
      spins = 0;
    }
    last = t;
    int rc = mock_tick(m, t);
    if (rc) return rc;
  }
  return mock_tick(m, until > m->now ? until : m->now);
}

/* ---- asynchronous completions ---- */

size_t mock_pending(const mock_host *m, int kind) {
  size_t n = 0;
  switch (kind) {
  case MOCK_FETCH:
    for (size_t i = 0; i < m->nfetches; i++) n += !m->fetches[i].completed;
    break;
  case MOCK_INVOKE:
    for (size_t i = 0; i < m->ninvokes; i++) n += !m->invokes[i].completed;
    break;
  case MOCK_DELIVER:
    for (size_t i = 0; i < m->ndeliveries; i++) n += !m->deliveries[i].completed;
    break;
  case MOCK_STORE:
    for (size_t i = 0; i < m->nsaves; i++) n += !m->saves[i].completed;
    break;
  default:
    break;
  }
  return n;
}

size_t mock_first_pending(const mock_host *m, int kind) {
  switch (kind) {
  case MOCK_FETCH:
    for (size_t i = 0; i < m->nfetches; i++)
      if (!m->fetches[i].completed) return i;
    break;
  case MOCK_INVOKE:
    for (size_t i = 0; i < m->ninvokes; i++)
      if (!m->invokes[i].completed) return i;
    break;
  case MOCK_DELIVER:
    for (size_t i = 0; i < m->ndeliveries; i++)
      if (!m->deliveries[i].completed) return i;
    break;
  case MOCK_STORE:
    for (size_t i = 0; i < m->nsaves; i++)
      if (!m->saves[i].completed) return i;
    break;
  default:
    break;
  }
  fail_msg("no pending request of kind %d", kind);
  return 0;
}

int mock_complete_fetch(mock_host *m, size_t i, int64_t now, int status) {
  assert_true(i < m->nfetches && !m->fetches[i].completed);
  int rc = answer_fetch(m, m->e, i, now, status);
  if (still_pending(rc)) m->fetches[i].completed = 0;
  return rc;
}

int mock_complete_invoke(mock_host *m, size_t i, int64_t now) {
  assert_true(i < m->ninvokes && !m->invokes[i].completed);
  return complete_invoke(m, m->e, i, now);
}

int mock_complete_delivery(mock_host *m, size_t i, int64_t now, int status) {
  assert_true(i < m->ndeliveries && !m->deliveries[i].completed);
  mock_delivery *d = &m->deliveries[i];
  d->completed = 1;
  d->status = status;
  m->now = now;
  int rc = bp_engine_complete_delivery(m->e, d->req_id, now, status);
  if (still_pending(rc)) d->completed = 0;
  return rc;
}

int mock_complete_save(mock_host *m, size_t i, int64_t now, int status) {
  assert_true(i < m->nsaves && !m->saves[i].completed);
  mock_save *s = &m->saves[i];
  s->completed = 1;
  s->status = status;
  m->now = now;
  int rc = bp_engine_complete_checkpoint(m->e, s->req_id, now, status);
  if (still_pending(rc)) s->completed = 0;
  return rc;
}

/* The kind and index of the oldest pending request, or -1. */
static int oldest_pending(const mock_host *m, size_t *index) {
  int kind = -1;
  uint64_t best = UINT64_MAX;
  for (size_t i = 0; i < m->nfetches; i++)
    if (!m->fetches[i].completed && m->fetches[i].order < best) {
      best = m->fetches[i].order, kind = MOCK_FETCH, *index = i;
    }
  for (size_t i = 0; i < m->ninvokes; i++)
    if (!m->invokes[i].completed && m->invokes[i].order < best) {
      best = m->invokes[i].order, kind = MOCK_INVOKE, *index = i;
    }
  for (size_t i = 0; i < m->ndeliveries; i++)
    if (!m->deliveries[i].completed && m->deliveries[i].order < best) {
      best = m->deliveries[i].order, kind = MOCK_DELIVER, *index = i;
    }
  for (size_t i = 0; i < m->nsaves; i++)
    if (!m->saves[i].completed && m->saves[i].order < best) {
      best = m->saves[i].order, kind = MOCK_STORE, *index = i;
    }
  return kind;
}

int mock_settle(mock_host *m, int64_t until) {
  for (int guard = 0;; guard++) {
    if (guard > 1000000) fail_msg("mock_settle: no end in sight");
    size_t i = 0;
    int rc = 0;
    switch (oldest_pending(m, &i)) {
    case MOCK_FETCH:
      rc = mock_complete_fetch(m, i, m->now, 0);
      break;
    case MOCK_INVOKE:
      rc = mock_complete_invoke(m, i, m->now);
      break;
    case MOCK_DELIVER:
      rc = mock_complete_delivery(m, i, m->now, m->deliver_status);
      break;
    case MOCK_STORE:
      rc = mock_complete_save(m, i, m->now, 0);
      break;
    default: {
      int64_t d = bp_engine_next_deadline(m->e);
      if (d == BP_NO_DEADLINE || d > until) return 0;
      rc = mock_tick(m, d > m->now ? d : m->now);
      break;
    }
    }
    if (rc) return rc;
  }
}

/* ---- queries ---- */

const size_t *mock_inv_records(const mock_host *m, const mock_invoke *inv) {
  return &m->idx_pool[inv->rec_off];
}

long mock_checkpoint(const mock_host *m, int shard) {
  char buf[BP_STORE_SEQ_CAP];
  size_t len = 0;
  int rc = bp_engine_get_checkpoint(m->e, m->shards[shard].id, buf, sizeof buf, &len);
  if (rc == BP_STORE_NOT_FOUND) return -1;
  assert_int_equal(rc, 0);
  assert_int_equal(strlen(buf), len);
  return (long)mock_index_of(m, shard, buf, len);
}

long mock_saved_checkpoint(const mock_host *m, int shard) {
  for (size_t i = m->nsaves; i-- > 0;) {
    const mock_save *s = &m->saves[i];
    if (s->shard == shard && s->completed && s->status == 0)
      return (long)mock_index_of(m, shard, s->seq, s->seq_len);
  }
  return -1;
}

bp_engine_metrics mock_metrics(const mock_host *m, const char *shard_id) {
  bp_engine_metrics mt;
  bp_engine_metrics_init(&mt, sizeof mt);
  assert_int_equal(bp_engine_get_metrics(m->e, shard_id, &mt), 0);
  return mt;
}

uint64_t mock_events(const mock_host *m, int type) {
  return type >= 0 && type < 32 ? m->event_counts[type] : 0;
}

uint32_t mock_fnv1a32(const char *s, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) {
    h ^= (uint8_t)s[i];
    h *= 16777619u;
  }
  return h;
}

void mock_fn_fail(mock_host *m, const mock_invoke *inv, bp_invoke_result *r) {
  (void)m;
  (void)inv;
  r->kind = BP_INVOKE_RESULT_ERROR;
}

void mock_fn_throttle(mock_host *m, const mock_invoke *inv, bp_invoke_result *r) {
  (void)m;
  (void)inv;
  r->kind = BP_INVOKE_RESULT_THROTTLED;
}
