/* SPDX-License-Identifier: MIT */
/*
 * What the reader tests share: a real bp_engine whose transport is a stream reader on the
 * add-on's loop (fetch) and a function that returns an empty body at once (success), a
 * driver that ticks the engine and runs the loop, a synchronous call for test setup, and a
 * recorder of shard listings.
 */
#ifndef BATCHPOINT_TEST_AWS_READER_HARNESS_H
#define BATCHPOINT_TEST_AWS_READER_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bp_aws_int.h"

typedef struct rh_host rh_host;
struct rh_host {
  bp__aws_loop *loop;
  bp__aws_reader *reader;
  bp_engine *e;
  size_t invoked;       /* records of successful invocations */
  size_t fetch_errors;  /* BP_EVENT_ERROR events */
  char last_error[512];
  void (*on_invoke)(rh_host *h, const bp_invoke_req *req); /* checks each batch */
  void *user;
};

static inline int rh_fetch(bp_engine *e, const bp_fetch_req *req, void *ud) {
  rh_host *h = ud;
  if (getenv("BP_TEST_VERBOSE")) fprintf(stderr, "fetch %s from %d max %u\n", req->shard_id, (int)req->from, (unsigned)req->max_records);
  return bp__aws_reader_fetch(h->reader, e, req);
}

static inline int rh_invoke(bp_engine *e, const bp_invoke_req *req, void *ud) {
  rh_host *h = ud;
  bp_invoke_result r = BP_INVOKE_RESULT_INIT; /* RETURNED, empty body: a success */
  if (h->on_invoke != NULL) h->on_invoke(h, req);
  h->invoked += req->count;
  return bp_engine_complete_invoke(e, req->req_id, bp__aws_now_ms(), &r) == 0 ? 0 : BP_ERR_IO;
}

static inline int rh_event(bp_engine *e, const bp_engine_event *ev, void *ud) {
  rh_host *h = ud;
  (void)e;
  if (ev->type == BP_EVENT_ERROR) {
    h->fetch_errors++;
    snprintf(h->last_error, sizeof h->last_error, "%s", ev->message ? ev->message : "?");
    if (getenv("BP_TEST_VERBOSE")) fprintf(stderr, "engine error: %s\n", h->last_error);
  }
  return 0;
}

/* An engine over @p cfg (deleted here) with the reader already set in @p h. */
static inline int rh_engine_new(rh_host *h, bp_config *cfg, const bp_engine_opts *o) {
  bp_transport t;
  char err[256];
  int rc;
  memset(&t, 0, sizeof t);
  t.fetch = rh_fetch;
  t.invoke = rh_invoke;
  t.on_event = rh_event;
  rc = bp_engine_new(&h->e, cfg, o, &t, h, NULL, err, sizeof err);
  if (rc != 0) fprintf(stderr, "bp_engine_new: %s\n", err);
  bp_config_del(cfg);
  return rc;
}

/* Tick and run the loop until @p done(h) or @p max_ms of wall time: 1 when done. */
static inline int rh_run(rh_host *h, int (*done)(rh_host *h), int64_t max_ms) {
  int64_t end = bp__aws_now_ms() + max_ms;
  char err[256];
  while (!done(h)) {
    int64_t now = bp__aws_now_ms(), d, wait;
    if (now > end) return 0;
    if (bp_engine_tick(h->e, now) != 0) {
      fprintf(stderr, "bp_engine_tick: %s\n", bp_engine_errmsg(h->e));
      return 0;
    }
    if (done(h)) break;
    d = bp_engine_next_deadline(h->e);
    wait = d == BP_NO_DEADLINE ? 50 : d - bp__aws_now_ms();
    if (wait < 0) wait = 0;
    if (wait > 50) wait = 50;
    if (bp__aws_loop_run_once(h->loop, wait, err, sizeof err) < 0) {
      fprintf(stderr, "bp__aws_loop_run_once: %s\n", err);
      return 0;
    }
  }
  return 1;
}

/* One synchronous JSON call for setup: the status (0 transport error), the body in @p out. */
typedef struct rh_reply {
  int done;
  long status;
  char *body;
} rh_reply;

static inline void rh_reply_done(void *ctx, const bp__aws_http_resp *resp) {
  rh_reply *r = ctx;
  r->done = 1;
  r->status = resp->transport_error ? 0 : resp->status;
  r->body = malloc(resp->body_len + 1);
  if (r->body != NULL) memcpy(r->body, resp->body, resp->body_len + 1);
}

static inline long rh_call(bp__aws_loop *l, const bp__aws_client *c, const char *target,
                           const char *content_type, const char *body, char **out) {
  bp__aws_http_req q;
  rh_reply r = {0, 0, NULL};
  char err[256];
  memset(&q, 0, sizeof q);
  q.client = c;
  q.target = target;
  q.content_type = content_type;
  q.body = body;
  q.body_len = strlen(body);
  if (bp__aws_http_start(l, &q, rh_reply_done, &r) != 0) return -1;
  while (!r.done)
    if (bp__aws_loop_run_once(l, 100, err, sizeof err) < 0) return -1;
  if (out != NULL)
    *out = r.body;
  else
    free(r.body);
  return r.status;
}

/* What a bp__aws_reader_list_shards() callback reported (the first 8 shards). */
typedef struct rh_listing {
  int calls, status;
  size_t n;
  char ids[8][48], parents[8][48]; /* parents: "-" for none */
  int closed[8], has_adjacent[8];
} rh_listing;

/* The bp__aws_reader_list_shards() callback: @p ctx is an rh_listing. */
static inline void rh_on_shards(void *ctx, int status, const char *errmsg,
                                const bp__aws_shard_info *s, size_t n) {
  rh_listing *l = ctx;
  l->calls++;
  l->status = status;
  l->n = n;
  if (status != 0) fprintf(stderr, "list_shards: %s\n", errmsg);
  for (size_t i = 0; i < n && i < 8; i++) {
    snprintf(l->ids[i], sizeof l->ids[i], "%s", s[i].shard_id);
    snprintf(l->parents[i], sizeof l->parents[i], "%s", s[i].parent_id ? s[i].parent_id : "-");
    l->closed[i] = s[i].closed;
    l->has_adjacent[i] = s[i].adjacent_parent_id != NULL;
  }
}

static inline void rh_sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

#endif
