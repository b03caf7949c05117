/* SPDX-License-Identifier: MIT */
/* Clock steps (SEMANTICS.md §8.1, batchpoint's decision "time"): `now` is the host's wall
 * clock; a now earlier than the previous one is a step back, after which every wait already
 * decided keeps its remaining length measured from the step (no stall for the size of the
 * step, nothing due done twice); a step forward makes due what has become due. Each wait
 * (retry backoff, poll interval, fetch-error retry, batching window, a tumbling window's
 * final retry, a WOULDBLOCK retry of an invocation, a fetch and a delivery, a checkpoint
 * save's retry) is stepped back and forward by 1 ms, 1 s and 1 h; each run asserts the next
 * deadline and that the due work is done exactly once. Every run goes through test/support/mock_host.c under the test
 * allocator (no leak). */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "batchpoint.h"
#include "batchpoint/bp_engine.h"
#include "engine_fixture.h"
#include "mock_host.h"

#define TW0 INT64_C(1764082800000) /* 2025-11-25T15:00:00Z, a multiple of 60 s */
#define HOUR INT64_C(3600000)

static bp_engine_opts time_opts(void) {
  return engine_opts("a1b2c3d4-0000-4000-8000-00000000c10c", 12);
}

/* ---- One wait per setup: the mock, the time of its last tick, what the wait ends in ---- */

typedef struct waiting {
  mock_host *m;
  int64_t t;    /* the last tick: the wait is pending after it */
  int kind;     /* the work the wait ends in: a call of this MOCK_* kind */
} waiting;

/* A first fetch the test completes itself (at @p now, the record of the stream in it); the
 * fetch that follows stays in flight, so no poll deadline mixes with the wait under test. */
static void first_fetch(mock_host *m, int64_t now) {
  m->async[MOCK_FETCH] = 1;
  assert_int_equal(mock_tick(m, now), 0);
  assert_int_equal(m->nfetches, 1);
  assert_int_equal(mock_complete_fetch(m, 0, now, 0), 0);
  assert_int_equal(mock_pending(m, MOCK_FETCH), 1);
}

/* Retry backoff (§5.1): the only record failed once at T0; retried at T0 + 1,000. */
static waiting setup_backoff(void) {
  mock_host *m = mk_mock();
  bp_engine_opts o = time_opts();
  int s = start(m, kcfg(), &o);
  m->fn = mock_fn_fail;
  mock_put(m, s, "k", "a", T0);
  first_fetch(m, T0);
  assert_int_equal(m->ninvokes, 1);
  return (waiting){m, T0, MOCK_INVOKE};
}

/* Poll interval (§8.1): an empty fetch at T0; the next one at T0 + 1,000. */
static waiting setup_poll(void) {
  mock_host *m = mk_mock();
  bp_engine_opts o = time_opts();
  start(m, kcfg(), &o);
  assert_int_equal(mock_tick(m, T0), 0);
  assert_int_equal(m->nfetches, 1);
  return (waiting){m, T0, MOCK_FETCH};
}

/* Fetch-error retry: a failed fetch at T0 is retried after fetch_error_retry_ms (3,000). */
static waiting setup_fetch_error(void) {
  mock_host *m = mk_mock();
  bp_engine_opts o = time_opts();
  o.fetch_error_retry_ms = 3000;
  start(m, kcfg(), &o);
  m->fetch_status = BP_ERR_IO;
  m->fetch_status_times = 1;
  assert_int_equal(mock_tick(m, T0), 0);
  assert_int_equal(m->nfetches, 1);
  assert_int_equal(bp_engine_next_deadline(m->e), T0 + 3000);
  return (waiting){m, T0, MOCK_FETCH};
}

/* Batching window (MaximumBatchingWindowInSeconds 5): opened at T0 by the only record. */
static waiting setup_batching_window(void) {
  mock_host *m = mk_mock();
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_maximum_batching_window_in_seconds(cfg, 5), 0);
  bp_engine_opts o = time_opts();
  int s = start(m, cfg, &o);
  mock_put(m, s, "k", "a", T0);
  first_fetch(m, T0);
  assert_int_equal(m->ninvokes, 0);
  assert_int_equal(bp_engine_next_deadline(m->e), T0 + 5000);
  return (waiting){m, T0, MOCK_INVOKE};
}

/* Batches of a window succeed with a state; final invocations fail. */
static void fn_final_fails(mock_host *m, const mock_invoke *inv, bp_invoke_result *r) {
  if (inv->flags & BP_INVOKE_FINAL) {
    r->kind = BP_INVOKE_RESULT_ERROR;
    return;
  }
  snprintf(m->body, sizeof m->body, "{\"state\":{\"n\":1}}");
  r->body = m->body;
  r->body_len = strlen(m->body);
}

/* A tumbling window's final retry (§6): window [TW0, TW0 + 60 s), its final invocation
 * failed at its end, retried 1,000 ms later. */
static waiting setup_final_retry(void) {
  mock_host *m = mock_at(TW0 + 1000);
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_tumbling_window_in_seconds(cfg, 60), 0);
  bp_engine_opts o = time_opts();
  int s = start(m, cfg, &o);
  m->fn = fn_final_fails;
  mock_put(m, s, "k", "a", TW0 + 1000);
  first_fetch(m, TW0 + 1000);
  assert_int_equal(m->ninvokes, 1);
  assert_int_equal(bp_engine_next_deadline(m->e), TW0 + 60000);
  assert_int_equal(mock_tick(m, TW0 + 60000), 0);
  assert_int_equal(m->ninvokes, 2);
  assert_true(m->invokes[1].flags & BP_INVOKE_FINAL);
  return (waiting){m, TW0 + 60000, MOCK_INVOKE};
}

/* An invocation the host refused with WOULDBLOCK at T0: asked again after 100 ms. */
static waiting setup_invoke_wouldblock(void) {
  mock_host *m = mk_mock();
  bp_engine_opts o = time_opts();
  int s = start(m, kcfg(), &o);
  mock_put(m, s, "k", "a", T0);
  m->wouldblock[MOCK_INVOKE] = 1;
  first_fetch(m, T0);
  assert_int_equal(m->calls[MOCK_INVOKE], 1);
  assert_int_equal(m->ninvokes, 0);
  return (waiting){m, T0, MOCK_INVOKE};
}

/* A fetch the host refused with WOULDBLOCK at T0: asked again after 100 ms. */
static waiting setup_fetch_wouldblock(void) {
  mock_host *m = mk_mock();
  bp_engine_opts o = time_opts();
  start(m, kcfg(), &o);
  m->wouldblock[MOCK_FETCH] = 1;
  assert_int_equal(mock_tick(m, T0), 0);
  assert_int_equal(m->calls[MOCK_FETCH], 1);
  assert_int_equal(m->nfetches, 0);
  return (waiting){m, T0, MOCK_FETCH};
}

/* An on-failure delivery the host refused with WOULDBLOCK at T0 (MaximumRetryAttempts 0:
 * the failed batch is discarded at once): asked again after 100 ms. */
static waiting setup_delivery_wouldblock(void) {
  mock_host *m = mk_mock();
  bp_config *cfg = kcfg();
  static const char dlq[] = "arn:aws:sqs:us-east-1:111111111111:dlq";
  assert_int_equal(bp_config_set_on_failure_destination(cfg, dlq, strlen(dlq)), 0);
  assert_int_equal(bp_config_set_maximum_retry_attempts(cfg, 0), 0);
  bp_engine_opts o = time_opts();
  int s = start(m, cfg, &o);
  m->fn = mock_fn_fail;
  mock_put(m, s, "k", "a", T0);
  m->wouldblock[MOCK_DELIVER] = 1;
  first_fetch(m, T0);
  assert_int_equal(m->ninvokes, 1);
  assert_int_equal(m->calls[MOCK_DELIVER], 1);
  assert_int_equal(m->ndeliveries, 0);
  return (waiting){m, T0, MOCK_DELIVER};
}

/* A checkpoint save that failed at T0 is retried after fetch_error_retry_ms (3,000). */
static waiting setup_save_retry(void) {
  mock_host *m = mk_mock();
  bp_engine_opts o = time_opts();
  o.fetch_error_retry_ms = 3000;
  int s = start(m, kcfg(), &o);
  mock_put(m, s, "k", "a", T0);
  m->save_status = BP_ERR_IO;
  m->save_status_times = 1;
  first_fetch(m, T0);
  assert_int_equal(m->ninvokes, 1);
  assert_int_equal(m->calls[MOCK_STORE], 1);
  assert_int_equal(bp_engine_next_deadline(m->e), T0 + 3000);
  return (waiting){m, T0, MOCK_STORE};
}

typedef waiting (*setup_fn)(void);

/* Tick at @p t: the work is done @p done times in all (and a second tick at the same time
 * does nothing more: nothing due is done twice). */
static void tick_expect(mock_host *m, int kind, int64_t t, int done, const char *what,
                        int64_t step) {
  assert_int_equal(mock_tick(m, t), 0);
  if (m->calls[kind] != done)
    fail_msg("%s, step %+lld ms: %d calls at %+lld, expected %d", what, (long long)step,
             m->calls[kind], (long long)(t - T0), done);
  assert_int_equal(mock_tick(m, t), 0);
  assert_int_equal(m->calls[kind], done);
}

static void deadline_expect(const mock_host *m, int64_t d, const char *what, int64_t step) {
  int64_t got = bp_engine_next_deadline(m->e);
  if (got != d)
    fail_msg("%s, step %+lld ms: next deadline %lld, expected %lld (%+lld ms off)", what,
             (long long)step, (long long)got, (long long)d, (long long)(got - d));
}

/* The wait of @p setup, stepped by @p step ms right after it was decided. */
static void step_once(setup_fn setup, const char *what, int64_t step) {
  waiting w = setup();
  mock_host *m = w.m;
  int64_t due = bp_engine_next_deadline(m->e);
  int64_t left = due - w.t;
  assert_true(left > 0);
  int c0 = m->calls[w.kind];
  int64_t t1 = w.t + step;
  if (step < 0) {
    /* a step back: the wait keeps its remaining length, measured from the step */
    tick_expect(m, w.kind, t1, c0, what, step);
    deadline_expect(m, t1 + left, what, step);
    if (left > 1) {
      tick_expect(m, w.kind, t1 + left - 1, c0, what, step);
      deadline_expect(m, t1 + left, what, step);
    }
    tick_expect(m, w.kind, t1 + left, c0 + 1, what, step);
  } else if (step >= left) {
    /* a step forward past the wait: due at once, done once */
    tick_expect(m, w.kind, t1, c0 + 1, what, step);
  } else {
    /* a step forward inside the wait: it ends where it did */
    tick_expect(m, w.kind, t1, c0, what, step);
    deadline_expect(m, due, what, step);
    tick_expect(m, w.kind, due - 1, c0, what, step);
    tick_expect(m, w.kind, due, c0 + 1, what, step);
  }
  deadline_expect(m, bp_engine_next_deadline(m->e), what, step); /* a getter: no change */
  assert_true(bp_engine_next_deadline(m->e) > m->now);            /* nothing left due */
  mock_host_free(m);
}

static void steps(setup_fn setup, const char *what) {
  static const int64_t sizes[] = {1, 1000, HOUR};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    step_once(setup, what, -sizes[i]);
    step_once(setup, what, sizes[i]);
  }
}

static void test_backoff(void **state) {
  (void)state;
  steps(setup_backoff, "retry backoff");
}

static void test_poll(void **state) {
  (void)state;
  steps(setup_poll, "poll interval");
}

static void test_fetch_error(void **state) {
  (void)state;
  steps(setup_fetch_error, "fetch-error retry");
}

static void test_batching_window(void **state) {
  (void)state;
  steps(setup_batching_window, "batching window");
}

static void test_final_retry(void **state) {
  (void)state;
  steps(setup_final_retry, "final-invocation retry");
}

static void test_invoke_wouldblock(void **state) {
  (void)state;
  steps(setup_invoke_wouldblock, "invoke WOULDBLOCK");
}

static void test_fetch_wouldblock(void **state) {
  (void)state;
  steps(setup_fetch_wouldblock, "fetch WOULDBLOCK");
}

static void test_delivery_wouldblock(void **state) {
  (void)state;
  steps(setup_delivery_wouldblock, "delivery WOULDBLOCK");
}

static void test_save_retry(void **state) {
  (void)state;
  steps(setup_save_retry, "checkpoint-save retry");
}

/* The host's report: a consumer polling an idle shard, its wall clock stepped back one hour
 * (an NTP correction), then ticked every second for 60 s. Before the rule it made no fetch
 * and named a deadline 3,540,000 ms away; now it polls once a second throughout. */
static void test_hour_back_keeps_polling(void **state) {
  (void)state;
  waiting w = setup_poll();
  mock_host *m = w.m;
  int64_t t = w.t - HOUR; /* the engine sees two readings: the step is all it knows */
  assert_int_equal(mock_tick(m, t), 0);
  assert_int_equal(m->nfetches, 1);
  assert_int_equal(bp_engine_next_deadline(m->e), t + 1000);
  for (int i = 1; i <= 60; i++) assert_int_equal(mock_tick(m, t + 1000 * i), 0);
  assert_int_equal(m->nfetches, 61);
  assert_int_equal(bp_engine_next_deadline(m->e), t + 61000);
  mock_host_free(m);
}

/* A step back reported by a completion made outside any callback moves the waits like a
 * tick does: here the completion of an asynchronous empty fetch, one hour back, keeps the
 * pending retry 1,000 ms away and schedules the next poll one interval after it. */
static void test_step_back_in_completion(void **state) {
  (void)state;
  mock_host *m = mk_mock();
  bp_engine_opts o = time_opts();
  int s = start(m, kcfg(), &o);
  m->fn = mock_fn_fail;
  mock_put(m, s, "k", "a", T0);
  first_fetch(m, T0); /* the batch failed at T0: retry at T0 + 1,000 */
  assert_int_equal(bp_engine_next_deadline(m->e), T0 + 1000);
  int64_t t = T0 - HOUR;
  assert_int_equal(mock_complete_fetch(m, 1, t, 0), 0); /* empty: next poll at t + 1,000 */
  assert_int_equal(bp_engine_next_deadline(m->e), t + 1000); /* and the retry: 1,000 ms left */
  assert_int_equal(mock_tick(m, t + 999), 0);
  assert_int_equal(m->ninvokes, 1);
  assert_int_equal(m->nfetches, 2);
  assert_int_equal(mock_tick(m, t + 1000), 0);
  assert_int_equal(m->ninvokes, 2);
  assert_int_equal(m->nfetches, 3);
  mock_host_free(m);
}

/* Window membership stays on the wall clock: a step back while a tumbling window is open
 * (its end not reached) leaves the window's end where it is, so its final invocation waits
 * until the clock reaches window.end again; records keep their windows. */
static void test_open_window_end_stays(void **state) {
  (void)state;
  mock_host *m = mock_at(TW0 + 1000);
  bp_config *cfg = kcfg();
  assert_int_equal(bp_config_set_tumbling_window_in_seconds(cfg, 60), 0);
  bp_engine_opts o = time_opts();
  int s = start(m, cfg, &o);
  m->fn = fn_final_fails;
  mock_put(m, s, "k", "a", TW0 + 1000);
  first_fetch(m, TW0 + 1000);
  assert_int_equal(m->ninvokes, 1);
  assert_int_equal(mock_tick(m, TW0 + 1000 - 1000), 0); /* one second back */
  assert_int_equal(bp_engine_next_deadline(m->e), TW0 + 60000);
  assert_int_equal(mock_tick(m, TW0 + 59999), 0);
  assert_int_equal(m->ninvokes, 1);
  assert_int_equal(mock_tick(m, TW0 + 60000), 0);
  assert_int_equal(m->ninvokes, 2);
  assert_true(m->invokes[1].flags & BP_INVOKE_FINAL);
  mock_host_free(m);
}

#define TEST(f) cmocka_unit_test_teardown(f, release_mocks)

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(test_backoff),
      TEST(test_poll),
      TEST(test_fetch_error),
      TEST(test_batching_window),
      TEST(test_final_retry),
      TEST(test_invoke_wouldblock),
      TEST(test_fetch_wouldblock),
      TEST(test_delivery_wouldblock),
      TEST(test_save_retry),
      TEST(test_hour_back_keeps_polling),
      TEST(test_step_back_in_completion),
      TEST(test_open_window_end_stays),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
