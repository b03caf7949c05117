/* SPDX-License-Identifier: MIT */
/*
 * What the loop (bp_aws_loop.c) shares with the modules that put work on it: the HTTP
 * transfers (bp_aws_http.c) and the child processes (bp_aws_child.c). Each module collects
 * its finished work into the loop's ready list; bp__aws_loop_run_once() then runs the
 * callbacks of that list, so a callback that starts new work never sees a half-collected
 * loop.
 */
#ifndef BATCHPOINT_BP_AWS_LOOP_INT_H
#define BATCHPOINT_BP_AWS_LOOP_INT_H

#include <curl/curl.h>

#include "bp_aws_int.h"

/* A finished piece of work whose callback has not run yet. */
typedef struct bp__aws_work bp__aws_work;
struct bp__aws_work {
  bp__aws_work *next;
  void (*finish)(bp__aws_work *w); /* runs the callback, then releases the work */
};

typedef struct bp__aws_xfer bp__aws_xfer;   /* bp_aws_http.c */
typedef struct bp__aws_child bp__aws_child; /* bp_aws_child.c */

struct bp__aws_loop {
  CURLM *multi;             /* one multi handle: its connection pool is reused */
  size_t transfers;         /* easy handles added to multi */
  bp__aws_xfer *active;     /* those transfers (to abandon them) */
  bp__aws_xfer *idle;       /* finished transfers kept for reuse (their easy handles) */
  bp__aws_child *children;  /* children not yet finished */
  size_t nchildren;
  bp__aws_work *ready;      /* finished, callback pending (FIFO) */
  bp__aws_work **ready_tail;
  struct curl_waitfd *waitfds; /* the children's pipes, rebuilt before each poll */
  size_t waitfds_cap;
};

/* Queue finished work; its callback runs at the end of the current run_once. */
void bp__aws_loop_ready(bp__aws_loop *l, bp__aws_work *w);

/* Monotonic ms, for deadlines. */
int64_t bp__aws_mono_ms(void);

/* http: move the transfers curl reports done to the ready list; free every transfer. */
void bp__aws_http_collect(bp__aws_loop *l);
void bp__aws_http_abandon(bp__aws_loop *l);

/*
 * children: fill l->waitfds with the pipes to poll (count in *n), lower *timeout_ms to the
 * next deadline; then, after the poll, move data, enforce deadlines and caps, reap, and
 * queue the finished. abandon kills and reaps every child without callbacks.
 */
int bp__aws_children_waitfds(bp__aws_loop *l, unsigned *n, int64_t *timeout_ms);
void bp__aws_children_service(bp__aws_loop *l);
void bp__aws_children_abandon(bp__aws_loop *l);

#endif
