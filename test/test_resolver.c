/* SPDX-License-Identifier: MIT */
/* Resolver (SEMANTICS.md §3.3-§3.5, §4, §5.1-§5.3, §8.4): the decision table, backoff,
 * record age, metric deltas, and spec scenarios replayed by a tiny lane simulation that
 * drives a bisect splitter with the resolver's actions. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "batchpoint.h"
#include "bp_int.h"
#include "test_alloc.h"

#define T0 INT64_C(1764088532021) /* 2025-11-25T16:35:32.021Z */

static bp_resolver_policy policy(int mra, int bisect, int rbif) {
  bp_resolver_policy p = BP_RESOLVER_POLICY_INIT;
  assert_int_equal(bp_resolver_policy_init(&p, sizeof p), 0);
  p.maximum_retry_attempts = mra;
  p.bisect_batch_on_function_error = bisect;
  p.report_batch_item_failures = rbif;
  return p;
}

static bp_resolver_input input(int outcome, size_t n, uint32_t attempts, uint32_t invocations,
                               uint32_t k, int64_t now) {
  bp_resolver_input in;
  bp_resolver_input_init(&in, sizeof in);
  in.outcome = outcome;
  in.batch_size = n;
  in.attempts = attempts;
  in.invocations = invocations;
  in.consecutive_failures = k;
  in.now_ms = now;
  return in;
}

static bp_resolver_action decide(const bp_resolver_policy *p, const bp_resolver_input *in) {
  bp_resolver_action a = BP_RESOLVER_ACTION_INIT;
  char err[128] = "x";
  assert_int_equal(bp_resolver_decide(p, in, &a, err, sizeof err), 0);
  assert_string_equal(err, "");
  return a;
}

/* =====================================================================================
 * Lane simulation: records r1..rn at lane positions 0..n-1; batches of batch_size cut in
 * order; before each attempt the age check, then the scripted function, the decision and
 * bp_resolver_apply(). Every record must be finished (committed or discarded) exactly
 * once and in lane order.
 * ===================================================================================== */

#define SIM_MAX_RECORDS 64
#define SIM_MAX_LOG 4096

typedef struct sim sim;
/* The function under test: returns a BP_ATTEMPT_* outcome for batch [first, first+count). */
typedef int (*sim_fn)(sim *s, uint64_t first, size_t count, size_t *failed_index,
                      size_t *failed_count);

typedef struct sim_call {
  uint64_t first;
  size_t count;
  int outcome;
  int64_t at_ms;
} sim_call;

typedef struct sim_discard {
  uint64_t first;
  size_t count;
  int condition;
  uint32_t approximate_invoke_count;
  int response_context_present;
  int function_error_null;
  int64_t at_ms;
} sim_discard;

struct sim {
  bp_resolver_policy policy;
  size_t n;
  size_t batch_size;
  int64_t arrival[SIM_MAX_RECORDS];
  int64_t now;
  int64_t duration_ms; /* how long an invocation takes */
  sim_fn fn;
  uint64_t poison;     /* fn_poison: the failing record's position */
  int poison_outcome;  /* fn_poison: FUNCTION_ERROR, RETURNED_FAILED or PARTIAL */
  int script[16];      /* fn_script: outcomes of the first calls (then SUCCESS) */
  size_t script_index[16];
  size_t script_count[16];
  size_t script_len;
  size_t throttles;    /* fn_throttle: NOT_REACHED this many times, then then_outcome */
  int then_outcome;
  size_t max_calls;    /* stop (return 1) after this many attempts; 0 = SIM_MAX_LOG */
  /* results */
  sim_call calls[SIM_MAX_LOG];
  size_t ncalls;
  sim_discard discards[SIM_MAX_RECORDS];
  size_t ndiscards;
  int finished[SIM_MAX_RECORDS];
  size_t committed;
  uint64_t next_finish; /* records are finished in lane order */
  uint32_t k;
  int64_t not_before;
  size_t invoked_events;
  size_t failed_events;
  uint32_t max_k;
};

static void sim_init(sim *s, size_t n, size_t batch_size, const bp_resolver_policy *p) {
  memset(s, 0, sizeof *s);
  assert_true(n <= SIM_MAX_RECORDS);
  s->n = n;
  s->batch_size = batch_size;
  s->policy = *p;
  s->now = T0;
  s->not_before = T0;
  for (size_t i = 0; i < n; i++) s->arrival[i] = T0 - 1000;
}

static int in_batch(uint64_t pos, uint64_t first, size_t count) {
  return pos >= first && pos < first + count;
}

static int fn_success(sim *s, uint64_t first, size_t count, size_t *fi, size_t *fc) {
  (void)s, (void)first, (void)count, (void)fi, (void)fc;
  return BP_ATTEMPT_SUCCESS;
}

static int fn_poison(sim *s, uint64_t first, size_t count, size_t *fi, size_t *fc) {
  if (!in_batch(s->poison, first, count)) return BP_ATTEMPT_SUCCESS;
  if (s->poison_outcome == BP_ATTEMPT_PARTIAL) {
    *fi = (size_t)(s->poison - first);
    *fc = 1;
  }
  return s->poison_outcome;
}

static int fn_script(sim *s, uint64_t first, size_t count, size_t *fi, size_t *fc) {
  (void)first, (void)count;
  size_t i = s->ncalls - 1;
  if (i >= s->script_len) return BP_ATTEMPT_SUCCESS;
  *fi = s->script_index[i];
  *fc = s->script_count[i];
  return s->script[i];
}

static int fn_throttle(sim *s, uint64_t first, size_t count, size_t *fi, size_t *fc) {
  (void)first, (void)count, (void)fi, (void)fc;
  return s->ncalls <= s->throttles ? BP_ATTEMPT_NOT_REACHED : s->then_outcome;
}

static void sim_finish(sim *s, uint64_t first, size_t count) {
  assert_int_equal(first, s->next_finish);
  for (size_t i = 0; i < count; i++) {
    assert_int_equal(s->finished[first + i], 0);
    s->finished[first + i] = 1;
  }
  s->next_finish = first + count;
}

static void sim_log_discard(sim *s, uint64_t first, const bp_resolver_action *a) {
  assert_true(s->ndiscards < SIM_MAX_RECORDS);
  assert_int_equal(a->kind, BP_ACTION_DISCARD);
  assert_true(a->approximate_invoke_count >= 1);
  sim_discard *d = &s->discards[s->ndiscards++];
  d->first = first;
  d->count = a->discard_count;
  d->condition = a->condition;
  d->approximate_invoke_count = a->approximate_invoke_count;
  d->response_context_present = a->response_context_present;
  d->function_error_null = a->function_error_null;
  d->at_ms = s->now;
  sim_finish(s, first, a->discard_count);
}

/* Apply an action and check that the splitter now holds what the action promised. */
static int sim_apply(sim *s, bp_bisect *b, const bp_resolver_action *a) {
  int more = bp_resolver_apply(a, b);
  assert_true(more == BP_BISECT_MORE || more == BP_BISECT_DONE);
  assert_int_equal(more == BP_BISECT_DONE, a->batch_finished && bp_bisect_pending(b) == 0 &&
                                               !bp_bisect_active(b));
  if (more == BP_BISECT_MORE) {
    uint32_t at, inv;
    assert_int_equal(bp_bisect_current(b, NULL, NULL, &at, &inv), 0);
    assert_int_equal(at, a->attempts);
    assert_int_equal(inv, a->invocations);
  }
  s->k = a->consecutive_failures;
  if (s->k > s->max_k) s->max_k = s->k;
  s->not_before = a->not_before_ms;
  return more;
}

/* @return 0 when every record is finished, 1 when stopped by max_calls, or a bp_err. */
static int sim_run(sim *s, const bp_allocator *alloc) {
  bp_bisect *b = NULL;
  int rc = bp_bisect_new(&b, alloc);
  if (rc) return rc;
  size_t limit = s->max_calls ? s->max_calls : SIM_MAX_LOG;
  for (size_t pos = 0; pos < s->n;) {
    size_t cnt = s->n - pos < s->batch_size ? s->n - pos : s->batch_size;
    assert_int_equal(bp_bisect_start(b, pos, cnt), 0);
    for (int more = 1; more;) {
      uint64_t first;
      size_t count;
      uint32_t attempts, invocations;
      assert_int_equal(bp_bisect_current(b, &first, &count, &attempts, &invocations), 0);
      if (s->now < s->not_before) s->now = s->not_before; /* wait out the backoff */
      bp_resolver_input in = input(0, count, attempts, invocations, s->k, s->now);
      bp_resolver_action a = BP_RESOLVER_ACTION_INIT;
      assert_int_equal(bp_resolver_age_check(&s->policy, &in, &s->arrival[first], &a, NULL, 0),
                       0);
      if (a.kind == BP_ACTION_DISCARD) {
        assert_int_equal(a.condition, BP_CONDITION_RECORD_AGE_EXCEEDED);
        assert_int_equal(a.response_context_present, 0);
        assert_int_equal(a.invoked_event_count + a.failed_invoke_event_count, 0);
        sim_log_discard(s, first, &a);
        more = sim_apply(s, b, &a);
        continue;
      }
      assert_int_equal(a.kind, BP_ACTION_NONE);
      if (s->ncalls == limit) {
        bp_bisect_del(b);
        return 1;
      }
      sim_call *c = &s->calls[s->ncalls++];
      c->first = first;
      c->count = count;
      c->at_ms = s->now;
      size_t fi = 0, fc = 0;
      c->outcome = s->fn(s, first, count, &fi, &fc);
      s->now += s->duration_ms;
      in.outcome = c->outcome;
      in.failed_index = fi;
      in.failed_count = fc;
      in.now_ms = s->now;
      a = decide(&s->policy, &in);
      s->invoked_events += a.invoked_event_count;
      s->failed_events += a.failed_invoke_event_count;
      switch (a.kind) {
      case BP_ACTION_COMMIT_ALL:
        assert_int_equal(a.commit_count, count);
        sim_finish(s, first, count);
        s->committed += count;
        break;
      case BP_ACTION_COMMIT_PREFIX:
        sim_finish(s, first, a.commit_count);
        s->committed += a.commit_count;
        break;
      case BP_ACTION_DISCARD:
        assert_int_equal(a.condition, BP_CONDITION_RETRY_ATTEMPTS_EXHAUSTED);
        assert_int_equal(a.discard_count, count);
        sim_log_discard(s, first, &a);
        break;
      default:
        break;
      }
      more = sim_apply(s, b, &a);
    }
    pos += cnt;
  }
  bp_bisect_del(b);
  for (size_t i = 0; i < s->n; i++) assert_int_equal(s->finished[i], 1);
  return 0;
}

static void expect_call(const sim *s, size_t i, uint64_t first, size_t count) {
  assert_true(i < s->ncalls);
  if (s->calls[i].first != first || s->calls[i].count != count)
    fail_msg("call %zu: [%llu,+%zu) expected [%llu,+%zu)", i,
             (unsigned long long)s->calls[i].first, s->calls[i].count,
             (unsigned long long)first, count);
}

static size_t deliveries(const sim *s, uint64_t pos) {
  size_t n = 0;
  for (size_t i = 0; i < s->ncalls; i++)
    if (s->calls[i].outcome != BP_ATTEMPT_NOT_REACHED &&
        in_batch(pos, s->calls[i].first, s->calls[i].count))
      n++;
  return n;
}

/* ---- SEMANTICS.md §11 scenarios ---- */

/* S19 / §3.5 calibration: BatchSize 3, MRA 3, RBIF, r6 always reported failed. */
static void test_s19_partial_calibration(void **state) {
  (void)state;
  sim s;
  bp_resolver_policy p = policy(3, 0, 1);
  sim_init(&s, 6, 3, &p);
  s.fn = fn_poison;
  s.poison = 5;
  s.poison_outcome = BP_ATTEMPT_PARTIAL;
  assert_int_equal(sim_run(&s, NULL), 0);
  assert_int_equal(s.ncalls, 6);
  expect_call(&s, 0, 0, 3);
  expect_call(&s, 1, 3, 3);
  for (size_t i = 2; i < 6; i++) expect_call(&s, i, 5, 1);
  for (uint64_t r = 0; r < 5; r++) assert_int_equal(deliveries(&s, r), 1);
  assert_int_equal(deliveries(&s, 5), 5);
  assert_int_equal(s.ndiscards, 1);
  assert_int_equal(s.discards[0].first, 5);
  assert_int_equal(s.discards[0].count, 1); /* batchSize 1, start = end = s6 */
  assert_int_equal(s.discards[0].condition, BP_CONDITION_RETRY_ATTEMPTS_EXHAUSTED);
  assert_int_equal(s.discards[0].approximate_invoke_count, 4);
  assert_int_equal(s.discards[0].response_context_present, 1);
  assert_int_equal(s.discards[0].function_error_null, 1);
  assert_int_equal(s.committed, 5);
  /* §8.4: 3 + 3 + 4x1 invoked; 1 (partial in [r4,r5,r6]) + 4x1 failed */
  assert_int_equal(s.invoked_events, 10);
  assert_int_equal(s.failed_events, 5);
}

/* S13: unknown identifier = returned-but-failed; BatchSize 1, MRA 2, RBIF. */
static void test_s13_unknown_identifier(void **state) {
  (void)state;
  sim s;
  bp_resolver_policy p = policy(2, 0, 1);
  sim_init(&s, 1, 1, &p);
  s.fn = fn_poison;
  s.poison = 0;
  s.poison_outcome = BP_ATTEMPT_RETURNED_FAILED;
  assert_int_equal(sim_run(&s, NULL), 0);
  assert_int_equal(s.ncalls, 3);
  for (size_t i = 0; i < 3; i++) expect_call(&s, i, 0, 1);
  assert_int_equal(s.ndiscards, 1);
  assert_int_equal(s.discards[0].condition, BP_CONDITION_RETRY_ATTEMPTS_EXHAUSTED);
  assert_int_equal(s.discards[0].approximate_invoke_count, 3);
  assert_int_equal(s.discards[0].response_context_present, 1);
  assert_int_equal(s.discards[0].function_error_null, 1);
  assert_int_equal(s.discards[0].count, 1);
  assert_int_equal(s.failed_events, 3);
}

/* S20: the lowest reported sequence number wins: s4 and s2 reported -> retry from r2. */
static void test_s20_lowest_failure_wins(void **state) {
  (void)state;
  sim s;
  bp_resolver_policy p = policy(-1, 0, 1);
  sim_init(&s, 5, 5, &p);
  s.fn = fn_script;
  s.script[0] = BP_ATTEMPT_PARTIAL;
  s.script_index[0] = 1; /* s2 is the lowest of {s4, s2} */
  s.script_count[0] = 2;
  s.script_len = 1;
  assert_int_equal(sim_run(&s, NULL), 0);
  assert_int_equal(s.ncalls, 2);
  expect_call(&s, 0, 0, 5);
  expect_call(&s, 1, 1, 4);
  assert_int_equal(deliveries(&s, 0), 1);
  assert_int_equal(s.ndiscards, 0);
  assert_int_equal(s.committed, 5);
  assert_int_equal(s.invoked_events, 9);
  assert_int_equal(s.failed_events, 2); /* distinct reported identifiers */
}

/* S22: function error, MRA 1, BatchSize 1; the next record is processed normally. */
static void test_s22_function_error_mra1(void **state) {
  (void)state;
  sim s;
  bp_resolver_policy p = policy(1, 0, 0);
  sim_init(&s, 2, 1, &p);
  s.fn = fn_poison;
  s.poison = 0;
  s.poison_outcome = BP_ATTEMPT_FUNCTION_ERROR;
  assert_int_equal(sim_run(&s, NULL), 0);
  assert_int_equal(s.ncalls, 3);
  expect_call(&s, 0, 0, 1);
  expect_call(&s, 1, 0, 1);
  expect_call(&s, 2, 1, 1);
  assert_int_equal(s.ndiscards, 1);
  assert_int_equal(s.discards[0].approximate_invoke_count, 2);
  assert_int_equal(s.discards[0].response_context_present, 1);
  assert_int_equal(s.discards[0].function_error_null, 0); /* "Unhandled" from the host */
  assert_int_equal(s.committed, 1);
  /* after the discard the lane does not wait: r2 goes at the discard's time */
  assert_int_equal(s.calls[2].at_ms, s.discards[0].at_ms);
}

/* S25: MRA 0: exactly one invocation, then discard with count 1. */
static void test_s25_mra0(void **state) {
  (void)state;
  sim s;
  bp_resolver_policy p = policy(0, 0, 0);
  sim_init(&s, 1, 1, &p);
  s.fn = fn_poison;
  s.poison = 0;
  s.poison_outcome = BP_ATTEMPT_FUNCTION_ERROR;
  assert_int_equal(sim_run(&s, NULL), 0);
  assert_int_equal(s.ncalls, 1);
  assert_int_equal(s.ndiscards, 1);
  assert_int_equal(s.discards[0].approximate_invoke_count, 1);
  assert_int_equal(s.discards[0].condition, BP_CONDITION_RETRY_ATTEMPTS_EXHAUSTED);
}

/* S30: bisect isolates poison r3 with MRA 0. */
static void s30_setup(sim *s, int outcome) {
  bp_resolver_policy p = policy(0, 1, 0);
  sim_init(s, 4, 4, &p);
  s->fn = fn_poison;
  s->poison = 2;
  s->poison_outcome = outcome;
}

static void s30_check(const sim *s, int function_error_null) {
  assert_int_equal(s->ncalls, 5);
  expect_call(s, 0, 0, 4); /* fail */
  expect_call(s, 1, 0, 2); /* ok */
  expect_call(s, 2, 2, 2); /* fail */
  expect_call(s, 3, 2, 1); /* fail -> discard */
  expect_call(s, 4, 3, 1); /* ok */
  assert_int_equal(s->ndiscards, 1);
  assert_int_equal(s->discards[0].first, 2);
  assert_int_equal(s->discards[0].count, 1);
  assert_int_equal(s->discards[0].approximate_invoke_count, 1);
  assert_int_equal(s->discards[0].function_error_null, function_error_null);
  assert_int_equal(s->committed, 3);
  assert_int_equal(s->invoked_events, 4 + 2 + 2 + 1 + 1);
  assert_int_equal(s->failed_events, 4 + 2 + 1);
}

static void test_s30_bisect_isolates_poison(void **state) {
  (void)state;
  sim s;
  s30_setup(&s, BP_ATTEMPT_FUNCTION_ERROR);
  assert_int_equal(sim_run(&s, NULL), 0);
  s30_check(&s, 0);
}

/* §4 (batchpoint's decision): a full failure after a normal return splits exactly like a function error. */
static void test_returned_failed_splits(void **state) {
  (void)state;
  sim s;
  s30_setup(&s, BP_ATTEMPT_RETURNED_FAILED);
  assert_int_equal(sim_run(&s, NULL), 0);
  s30_check(&s, 1);
}

/* §4 example: bisect + MRA 1 on [r1,r2], r1 poisonous: [r1,r2], [r1], [r1] -> count 2. */
static void test_bisect_mra1_counts_sub_batch_only(void **state) {
  (void)state;
  sim s;
  bp_resolver_policy p = policy(1, 1, 0);
  sim_init(&s, 2, 2, &p);
  s.fn = fn_poison;
  s.poison = 0;
  s.poison_outcome = BP_ATTEMPT_FUNCTION_ERROR;
  assert_int_equal(sim_run(&s, NULL), 0);
  assert_int_equal(s.ncalls, 4);
  expect_call(&s, 0, 0, 2);
  expect_call(&s, 1, 0, 1);
  expect_call(&s, 2, 0, 1);
  expect_call(&s, 3, 1, 1);
  assert_int_equal(s.ndiscards, 1);
  assert_int_equal(s.discards[0].first, 0);
  assert_int_equal(s.discards[0].approximate_invoke_count, 2);
}

/* §4: with MRA 0 a poison record in 2^k records costs k+1 invocations that include it. */
static void test_bisect_power_of_two_cost(void **state) {
  (void)state;
  sim s;
  bp_resolver_policy p = policy(0, 1, 0);
  sim_init(&s, 64, 64, &p);
  p.backoff_base_ms = 0;
  s.policy = p;
  s.fn = fn_poison;
  s.poison = 37;
  s.poison_outcome = BP_ATTEMPT_FUNCTION_ERROR;
  assert_int_equal(sim_run(&s, NULL), 0);
  assert_int_equal(deliveries(&s, 37), 7);
  assert_int_equal(s.ndiscards, 1);
  assert_int_equal(s.discards[0].first, 37);
  assert_int_equal(s.discards[0].count, 1);
  assert_int_equal(s.committed, 63);
}

/* RBIF + bisect: a partial splits at the returned sequence number (= §3.5); a no-progress
 * partial never splits and counts as a failed attempt of the same batch. */
static void test_partial_with_bisect(void **state) {
  (void)state;
  sim s;
  bp_resolver_policy p = policy(1, 1, 1);
  sim_init(&s, 4, 4, &p);
  s.fn = fn_poison;
  s.poison = 2;
  s.poison_outcome = BP_ATTEMPT_PARTIAL;
  assert_int_equal(sim_run(&s, NULL), 0);
  assert_int_equal(s.ncalls, 3);
  expect_call(&s, 0, 0, 4); /* partial at r3: commit r1, r2 (no split) */
  expect_call(&s, 1, 2, 2); /* [r3,r4] partial at index 0: retried whole, not split */
  expect_call(&s, 2, 2, 2);
  assert_int_equal(s.ndiscards, 1);
  assert_int_equal(s.discards[0].first, 2);
  assert_int_equal(s.discards[0].count, 2);
  assert_int_equal(s.discards[0].approximate_invoke_count, 2); /* [r3,r4] since formed */
  assert_int_equal(s.discards[0].function_error_null, 1);
  assert_int_equal(s.committed, 2);
}

static void test_no_progress_partial_never_splits(void **state) {
  (void)state;
  sim s;
  bp_resolver_policy p = policy(2, 1, 1);
  sim_init(&s, 2, 2, &p);
  s.fn = fn_poison;
  s.poison = 0;
  s.poison_outcome = BP_ATTEMPT_PARTIAL;
  assert_int_equal(sim_run(&s, NULL), 0);
  assert_int_equal(s.ncalls, 3);
  for (size_t i = 0; i < 3; i++) expect_call(&s, i, 0, 2);
  assert_int_equal(s.ndiscards, 1);
  assert_int_equal(s.discards[0].count, 2); /* the whole batch: batchSize 2 */
  assert_int_equal(s.discards[0].approximate_invoke_count, 3);
  assert_int_equal(s.discards[0].function_error_null, 1);
  assert_int_equal(s.failed_events, 3); /* one distinct identifier per attempt */
}

/* MRA -1: never discarded for retries (only age could end it). */
static void test_mra_forever(void **state) {
  (void)state;
  sim s;
  bp_resolver_policy p = policy(-1, 0, 0);
  sim_init(&s, 3, 3, &p);
  s.fn = fn_poison;
  s.poison = 1;
  s.poison_outcome = BP_ATTEMPT_FUNCTION_ERROR;
  s.max_calls = 2000;
  assert_int_equal(sim_run(&s, NULL), 1);
  assert_int_equal(s.ncalls, 2000);
  assert_int_equal(s.ndiscards, 0);
  assert_int_equal(s.committed, 0);
  for (size_t i = 0; i < s.ncalls; i++) expect_call(&s, i, 0, 3);
  assert_int_equal(s.k, 2000);
  /* with bisect on as well: splits down to [r2], which then retries forever */
  p.bisect_batch_on_function_error = 1;
  sim_init(&s, 3, 3, &p);
  s.fn = fn_poison;
  s.poison = 1;
  s.poison_outcome = BP_ATTEMPT_FUNCTION_ERROR;
  s.max_calls = 500;
  assert_int_equal(sim_run(&s, NULL), 1);
  assert_int_equal(s.ndiscards, 0);
  assert_int_equal(s.committed, 1); /* r1 */
  expect_call(&s, 0, 0, 3);
  expect_call(&s, 1, 0, 1);
  expect_call(&s, 2, 1, 2);
  for (size_t i = 3; i < s.ncalls; i++) expect_call(&s, i, 1, 1);
}

/* Throttles never consume retries, never split, never discard; they back off. */
static void test_throttles(void **state) {
  (void)state;
  sim s;
  bp_resolver_policy p = policy(0, 1, 1);
  sim_init(&s, 4, 4, &p);
  s.fn = fn_throttle;
  s.throttles = 20;
  s.then_outcome = BP_ATTEMPT_SUCCESS;
  assert_int_equal(sim_run(&s, NULL), 0);
  assert_int_equal(s.ncalls, 21);
  for (size_t i = 0; i < 21; i++) expect_call(&s, i, 0, 4);
  assert_int_equal(s.ndiscards, 0);
  assert_int_equal(s.committed, 4);
  assert_int_equal(s.invoked_events, 4);      /* throttled attempts did not invoke */
  assert_int_equal(s.failed_events, 20 * 4);  /* but count as failed (§8.4 not reached) */
  static const int64_t gaps[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000};
  for (size_t i = 1; i < 21; i++) {
    int64_t want = i - 1 < 8 ? gaps[i - 1] : 60000;
    assert_int_equal(s.calls[i].at_ms - s.calls[i - 1].at_ms, want);
  }
  assert_int_equal(s.k, 0); /* reset by the success */
  assert_int_equal(s.max_k, 20);

  /* throttles then a function error with MRA 0: one reached invocation -> count 1 */
  p = policy(0, 0, 0);
  sim_init(&s, 1, 1, &p);
  s.fn = fn_throttle;
  s.throttles = 5;
  s.then_outcome = BP_ATTEMPT_FUNCTION_ERROR;
  assert_int_equal(sim_run(&s, NULL), 0);
  assert_int_equal(s.ncalls, 6);
  assert_int_equal(s.ndiscards, 1);
  assert_int_equal(s.discards[0].approximate_invoke_count, 1);
  assert_int_equal(s.discards[0].condition, BP_CONDITION_RETRY_ATTEMPTS_EXHAUSTED);
}

/* A throttled batch only ends by age: RecordAgeExceeded, count 1, no responseContext. */
static void test_throttled_until_expired(void **state) {
  (void)state;
  sim s;
  bp_resolver_policy p = policy(0, 1, 0);
  p.maximum_record_age_in_seconds = 60;
  sim_init(&s, 2, 2, &p);
  s.arrival[0] = s.arrival[1] = T0;
  s.fn = fn_throttle;
  s.throttles = SIM_MAX_LOG;
  assert_int_equal(sim_run(&s, NULL), 0);
  /* attempts at +0, +1, +3, +7, +15, +31 s; at +63 s both records are older than 60 s */
  static const int64_t at[] = {0, 1000, 3000, 7000, 15000, 31000};
  assert_int_equal(s.ncalls, 6);
  for (size_t i = 0; i < 6; i++) assert_int_equal(s.calls[i].at_ms - T0, at[i]);
  assert_int_equal(s.ndiscards, 1);
  assert_int_equal(s.discards[0].count, 2);
  assert_int_equal(s.discards[0].condition, BP_CONDITION_RECORD_AGE_EXCEEDED);
  assert_int_equal(s.discards[0].approximate_invoke_count, 1);
  assert_int_equal(s.discards[0].response_context_present, 0);
  assert_int_equal(s.discards[0].at_ms - T0, 63000);
  assert_int_equal(s.invoked_events, 0);
}

/* expire-while-retrying: MRA -1, age 60 s, a failing single record. */
static void test_expire_while_retrying(void **state) {
  (void)state;
  sim s;
  bp_resolver_policy p = policy(-1, 0, 0);
  p.maximum_record_age_in_seconds = 60;
  sim_init(&s, 1, 1, &p);
  s.arrival[0] = T0;
  s.fn = fn_poison;
  s.poison = 0;
  s.poison_outcome = BP_ATTEMPT_FUNCTION_ERROR;
  assert_int_equal(sim_run(&s, NULL), 0);
  assert_int_equal(s.ncalls, 6);
  assert_int_equal(s.ndiscards, 1);
  assert_int_equal(s.discards[0].condition, BP_CONDITION_RECORD_AGE_EXCEEDED);
  assert_int_equal(s.discards[0].approximate_invoke_count, 6);
  assert_int_equal(s.discards[0].response_context_present, 0);
}

/* S28: only the expired prefix (r1) is discarded; r2..r6 are invoked once. */
static void test_s28_expired_prefix(void **state) {
  (void)state;
  sim s;
  bp_resolver_policy p = policy(0, 0, 0);
  p.maximum_record_age_in_seconds = 60;
  sim_init(&s, 6, 10, &p);
  s.arrival[0] = T0 - 80000;
  s.fn = fn_success;
  assert_int_equal(sim_run(&s, NULL), 0);
  assert_int_equal(s.ndiscards, 1);
  assert_int_equal(s.discards[0].first, 0);
  assert_int_equal(s.discards[0].count, 1);
  assert_int_equal(s.discards[0].condition, BP_CONDITION_RECORD_AGE_EXCEEDED);
  assert_int_equal(s.discards[0].approximate_invoke_count, 1);
  assert_int_equal(s.discards[0].response_context_present, 0);
  assert_int_equal(s.ncalls, 1);
  expect_call(&s, 0, 1, 5);
  assert_int_equal(deliveries(&s, 0), 0);
  assert_int_equal(s.committed, 5);
}

/* §5.1: the remainder after a cut keeps attempts and invocations, so a later
 * RetryAttemptsExhausted discard counts the invocations made before the cut; the cut (a
 * discard) resets the backoff. */
static void test_cut_keeps_counters(void **state) {
  (void)state;
  sim s;
  bp_resolver_policy p = policy(10, 0, 0);
  p.maximum_record_age_in_seconds = 60;
  sim_init(&s, 2, 2, &p);
  s.arrival[0] = T0;
  s.arrival[1] = T0 + 30000;
  s.fn = fn_poison;
  s.poison = 1;
  s.poison_outcome = BP_ATTEMPT_FUNCTION_ERROR;
  assert_int_equal(sim_run(&s, NULL), 0);
  assert_int_equal(s.ndiscards, 2);
  assert_int_equal(s.discards[0].first, 0);
  assert_int_equal(s.discards[0].condition, BP_CONDITION_RECORD_AGE_EXCEEDED);
  assert_int_equal(s.discards[0].approximate_invoke_count, 6);
  assert_int_equal(s.discards[0].at_ms - T0, 63000);
  assert_int_equal(s.discards[1].first, 1);
  assert_int_equal(s.discards[1].condition, BP_CONDITION_RETRY_ATTEMPTS_EXHAUSTED);
  assert_int_equal(s.discards[1].approximate_invoke_count, 11);
  assert_int_equal(s.ncalls, 11);
  static const int64_t at[] = {0, 1000, 3000, 7000, 15000, 31000, 63000, 64000, 66000, 70000,
                               78000};
  for (size_t i = 0; i < 11; i++) assert_int_equal(s.calls[i].at_ms - T0, at[i]);
  expect_call(&s, 5, 0, 2);
  expect_call(&s, 6, 1, 1);
}

static int failmalloc_s30(const bp_allocator *hooks, void *ctx) {
  (void)ctx;
  sim *s = test_malloc(sizeof *s);
  s30_setup(s, BP_ATTEMPT_FUNCTION_ERROR);
  int rc = sim_run(s, hooks);
  if (rc == 0) s30_check(s, 0);
  test_free(s);
  return rc;
}

static void test_failmalloc(void **state) {
  (void)state;
  test_alloc_failmalloc(failmalloc_s30, NULL);
}

/* ---- the decision table, directly ---- */

static void test_success_resets(void **state) {
  (void)state;
  bp_resolver_policy p = policy(3, 1, 1);
  bp_resolver_input in = input(BP_ATTEMPT_SUCCESS, 7, 2, 5, 4, T0);
  bp_resolver_action a = decide(&p, &in);
  assert_int_equal(a.kind, BP_ACTION_COMMIT_ALL);
  assert_int_equal(a.batch_finished, 1);
  assert_int_equal(a.commit_count, 7);
  assert_int_equal(a.consecutive_failures, 0);
  assert_int_equal(a.not_before_ms, T0);
  assert_int_equal(a.attempts, 0);
  assert_int_equal(a.invocations, 0);
  assert_int_equal(a.invoked_event_count, 7);
  assert_int_equal(a.failed_invoke_event_count, 0);
  assert_int_equal(a.condition, 0);
}

static void test_retry_counting(void **state) {
  (void)state;
  bp_resolver_policy p = policy(3, 0, 0);
  bp_resolver_input in = input(BP_ATTEMPT_FUNCTION_ERROR, 1, 2, 2, 2, T0);
  bp_resolver_action a = decide(&p, &in);
  assert_int_equal(a.kind, BP_ACTION_RETRY);
  assert_int_equal(a.attempts, 3);
  assert_int_equal(a.invocations, 3);
  assert_int_equal(a.consecutive_failures, 3);
  assert_int_equal(a.not_before_ms, T0 + 4000);
  assert_int_equal(a.batch_finished, 0);
  in.attempts = 3;
  in.invocations = 3;
  a = decide(&p, &in);
  assert_int_equal(a.kind, BP_ACTION_DISCARD);
  assert_int_equal(a.approximate_invoke_count, 4);
  assert_int_equal(a.discard_count, 1);
  assert_int_equal(a.batch_finished, 1);
  assert_int_equal(a.consecutive_failures, 0);
  assert_int_equal(a.not_before_ms, T0);
  /* the limit's ends: MRA 10,000 */
  p.maximum_retry_attempts = 10000;
  in = input(BP_ATTEMPT_FUNCTION_ERROR, 1, 9999, 9999, 0, T0);
  assert_int_equal(decide(&p, &in).kind, BP_ACTION_RETRY);
  in.attempts = 10000;
  in.invocations = 10000;
  a = decide(&p, &in);
  assert_int_equal(a.kind, BP_ACTION_DISCARD);
  assert_int_equal(a.approximate_invoke_count, 10001);
  /* a quota lowered below the attempts already made discards at the next failure */
  p.maximum_retry_attempts = 1;
  in.attempts = 5;
  assert_int_equal(decide(&p, &in).kind, BP_ACTION_DISCARD);
  /* counters saturate instead of wrapping */
  p.maximum_retry_attempts = -1;
  in = input(BP_ATTEMPT_FUNCTION_ERROR, 1, UINT32_MAX, UINT32_MAX, UINT32_MAX, T0);
  a = decide(&p, &in);
  assert_int_equal(a.kind, BP_ACTION_RETRY);
  assert_int_equal(a.attempts, UINT32_MAX);
  assert_int_equal(a.invocations, UINT32_MAX);
  assert_int_equal(a.consecutive_failures, UINT32_MAX);
  assert_int_equal(a.not_before_ms, T0 + 60000);
}

static void test_throttle_decision(void **state) {
  (void)state;
  bp_resolver_policy p = policy(0, 1, 1);
  bp_resolver_input in = input(BP_ATTEMPT_NOT_REACHED, 8, 0, 0, 0, T0);
  for (uint32_t i = 0; i < 100; i++) {
    bp_resolver_action a = decide(&p, &in);
    assert_int_equal(a.kind, BP_ACTION_RETRY);
    assert_int_equal(a.attempts, 0);
    assert_int_equal(a.invocations, 0);
    assert_int_equal(a.invoked_event_count, 0);
    assert_int_equal(a.failed_invoke_event_count, 8);
    in.consecutive_failures = a.consecutive_failures;
  }
  assert_int_equal(in.consecutive_failures, 100);
  /* counters of earlier reached attempts are left alone */
  in = input(BP_ATTEMPT_NOT_REACHED, 1, 7, 9, 0, T0);
  bp_resolver_action a = decide(&p, &in);
  assert_int_equal(a.attempts, 7);
  assert_int_equal(a.invocations, 9);
}

static void test_split_decision(void **state) {
  (void)state;
  bp_resolver_policy p = policy(0, 1, 0);
  bp_resolver_input in = input(BP_ATTEMPT_FUNCTION_ERROR, 2, 0, 0, 0, T0);
  bp_resolver_action a = decide(&p, &in);
  assert_int_equal(a.kind, BP_ACTION_SPLIT);
  assert_int_equal(a.attempts, 0);
  assert_int_equal(a.invocations, 0);
  assert_int_equal(a.consecutive_failures, 1);
  assert_int_equal(a.not_before_ms, T0 + 1000); /* a split half waits the backoff too */
  assert_int_equal(a.invoked_event_count, 2);
  assert_int_equal(a.failed_invoke_event_count, 2);
  /* one record cannot split: it consumes the quota */
  in.batch_size = 1;
  a = decide(&p, &in);
  assert_int_equal(a.kind, BP_ACTION_DISCARD);
  assert_int_equal(a.function_error_null, 0);
  /* bisect off: no split */
  p.bisect_batch_on_function_error = 0;
  p.maximum_retry_attempts = 1;
  in.batch_size = 10;
  assert_int_equal(decide(&p, &in).kind, BP_ACTION_RETRY);
}

static void test_partial_decision(void **state) {
  (void)state;
  bp_resolver_policy p = policy(0, 0, 1);
  bp_resolver_input in = input(BP_ATTEMPT_PARTIAL, 5, 3, 4, 1, T0);
  in.failed_index = 3;
  in.failed_count = 2;
  bp_resolver_action a = decide(&p, &in);
  assert_int_equal(a.kind, BP_ACTION_COMMIT_PREFIX);
  assert_int_equal(a.commit_count, 3);
  assert_int_equal(a.attempts, 0); /* §3.5: new batch */
  assert_int_equal(a.invocations, 0);
  assert_int_equal(a.consecutive_failures, 2); /* a failed attempt for the backoff */
  assert_int_equal(a.not_before_ms, T0 + 2000);
  assert_int_equal(a.batch_finished, 0);
  assert_int_equal(a.invoked_event_count, 5);
  assert_int_equal(a.failed_invoke_event_count, 2);
  /* progress even with MRA 0 and attempts beyond the quota: never a discard */
  in.attempts = 100;
  assert_int_equal(decide(&p, &in).kind, BP_ACTION_COMMIT_PREFIX);
  /* same with bisect on: the split point is the returned sequence number */
  p.bisect_batch_on_function_error = 1;
  assert_int_equal(decide(&p, &in).kind, BP_ACTION_COMMIT_PREFIX);
  /* no progress: a failed attempt, with bisect on too */
  in.failed_index = 0;
  in.failed_count = 5;
  in.attempts = 0;
  a = decide(&p, &in);
  assert_int_equal(a.kind, BP_ACTION_DISCARD); /* MRA 0 */
  assert_int_equal(a.function_error_null, 1);
  assert_int_equal(a.response_context_present, 1);
  assert_int_equal(a.approximate_invoke_count, 5);
  assert_int_equal(a.discard_count, 5);
  assert_int_equal(a.failed_invoke_event_count, 5);
  p.maximum_retry_attempts = 1;
  a = decide(&p, &in);
  assert_int_equal(a.kind, BP_ACTION_RETRY);
  assert_int_equal(a.attempts, 1);
  assert_int_equal(a.invocations, 5);
}

/* §8.4: the metric deltas of one attempt for every outcome. */
static void test_metric_deltas(void **state) {
  (void)state;
  static const struct {
    int outcome;
    size_t invoked, failed;
  } rows[] = {
      {BP_ATTEMPT_SUCCESS, 6, 0},         {BP_ATTEMPT_PARTIAL, 6, 3},
      {BP_ATTEMPT_RETURNED_FAILED, 6, 6}, {BP_ATTEMPT_FUNCTION_ERROR, 6, 6},
      {BP_ATTEMPT_NOT_REACHED, 0, 6},
  };
  for (int bisect = 0; bisect <= 1; bisect++)
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
      bp_resolver_policy p = policy(-1, bisect, 1);
      bp_resolver_input in = input(rows[i].outcome, 6, 0, 0, 0, T0);
      in.failed_index = 2;
      in.failed_count = 3;
      bp_resolver_action a = decide(&p, &in);
      assert_int_equal(a.invoked_event_count, rows[i].invoked);
      assert_int_equal(a.failed_invoke_event_count, rows[i].failed);
    }
}

static void test_function_error_flag(void **state) {
  (void)state;
  bp_resolver_policy p = policy(0, 0, 1);
  bp_resolver_input in = input(BP_ATTEMPT_FUNCTION_ERROR, 3, 0, 0, 0, T0);
  bp_resolver_action a = decide(&p, &in);
  assert_int_equal(a.function_error_null, 0);
  assert_int_equal(a.response_context_present, 1);
  in.outcome = BP_ATTEMPT_RETURNED_FAILED;
  a = decide(&p, &in);
  assert_int_equal(a.function_error_null, 1);
  assert_int_equal(a.response_context_present, 1);
  /* RETURNED_FAILED is allowed with RBIF off (missing tumbling state, §6) */
  p.report_batch_item_failures = 0;
  a = decide(&p, &in);
  assert_int_equal(a.kind, BP_ACTION_DISCARD);
  assert_int_equal(a.function_error_null, 1);
}

/* ---- backoff ---- */

static void test_backoff_schedule(void **state) {
  (void)state;
  bp_resolver_policy p = BP_RESOLVER_POLICY_INIT;
  assert_int_equal(bp_resolver_policy_init(&p, sizeof p), 0);
  static const int64_t want[] = {0, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000};
  for (uint32_t k = 0; k < 10; k++) {
    int64_t d = -1;
    assert_int_equal(bp_resolver_backoff(&p, k, &d), 0);
    assert_int_equal(d, want[k]);
  }
  int64_t d;
  assert_int_equal(bp_resolver_backoff(&p, UINT32_MAX, &d), 0);
  assert_int_equal(d, 60000);
  p.backoff_base_ms = 500;
  p.backoff_cap_ms = 3000;
  static const int64_t want2[] = {0, 500, 1000, 2000, 3000, 3000};
  for (uint32_t k = 0; k < 6; k++) {
    assert_int_equal(bp_resolver_backoff(&p, k, &d), 0);
    assert_int_equal(d, want2[k]);
  }
  p.backoff_base_ms = 5000; /* base above cap: the cap */
  assert_int_equal(bp_resolver_backoff(&p, 1, &d), 0);
  assert_int_equal(d, 3000);
  p.backoff_base_ms = 0; /* no backoff */
  assert_int_equal(bp_resolver_backoff(&p, 1000000, &d), 0);
  assert_int_equal(d, 0);
  p.backoff_base_ms = BP_RESOLVER_MAX_BACKOFF_MS;
  p.backoff_cap_ms = BP_RESOLVER_MAX_BACKOFF_MS;
  assert_int_equal(bp_resolver_backoff(&p, UINT32_MAX, &d), 0);
  assert_int_equal(d, BP_RESOLVER_MAX_BACKOFF_MS);
  p.backoff_base_ms = 1;
  assert_int_equal(bp_resolver_backoff(&p, 40, &d), 0);
  assert_int_equal(d, BP_RESOLVER_MAX_BACKOFF_MS);
  assert_int_equal(bp_resolver_backoff(NULL, 1, &d), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_resolver_backoff(&p, 1, NULL), BP_ERR_INVALID_ARGUMENT);
  p.backoff_cap_ms = -1;
  assert_int_equal(bp_resolver_backoff(&p, 1, &d), BP_ERR_INVALID_ARGUMENT);
}

/* k grows with each failed attempt of any kind and returns to 0 after success / discard. */
static void test_backoff_in_decisions(void **state) {
  (void)state;
  bp_resolver_policy p = policy(5, 0, 1);
  static const int outcomes[] = {BP_ATTEMPT_NOT_REACHED, BP_ATTEMPT_FUNCTION_ERROR,
                                 BP_ATTEMPT_RETURNED_FAILED, BP_ATTEMPT_PARTIAL,
                                 BP_ATTEMPT_NOT_REACHED, BP_ATTEMPT_FUNCTION_ERROR};
  static const int64_t waits[] = {1000, 2000, 4000, 8000, 16000, 32000};
  bp_resolver_input in = input(0, 4, 0, 0, 0, T0);
  for (size_t i = 0; i < 6; i++) {
    in.outcome = outcomes[i];
    in.failed_index = 1;
    in.failed_count = 1;
    bp_resolver_action a = decide(&p, &in);
    assert_int_equal(a.consecutive_failures, i + 1);
    assert_int_equal(a.not_before_ms - in.now_ms, waits[i]);
    in.consecutive_failures = a.consecutive_failures;
    in.now_ms = a.not_before_ms + 250;
  }
  in.outcome = BP_ATTEMPT_SUCCESS;
  bp_resolver_action a = decide(&p, &in);
  assert_int_equal(a.consecutive_failures, 0);
  assert_int_equal(a.not_before_ms, in.now_ms);
  /* after a discard too */
  in.outcome = BP_ATTEMPT_FUNCTION_ERROR;
  in.attempts = 5;
  a = decide(&p, &in);
  assert_int_equal(a.kind, BP_ACTION_DISCARD);
  assert_int_equal(a.consecutive_failures, 0);
  assert_int_equal(a.not_before_ms, in.now_ms);
  /* base 0: retries at once */
  p.backoff_base_ms = 0;
  in.attempts = 0;
  a = decide(&p, &in);
  assert_int_equal(a.not_before_ms, in.now_ms);
  assert_int_equal(a.consecutive_failures, in.consecutive_failures + 1);
}

/* ---- record age ---- */

static void test_age_boundary(void **state) {
  (void)state;
  int64_t arr[3];
  size_t k = 99;
  arr[0] = T0 - 60000; /* age == max: not expired */
  assert_int_equal(bp_resolver_expired_prefix(arr, 1, T0, 60, &k), 0);
  assert_int_equal(k, 0);
  arr[0] = T0 - 60001; /* one ms more: expired */
  assert_int_equal(bp_resolver_expired_prefix(arr, 1, T0, 60, &k), 0);
  assert_int_equal(k, 1);
  /* -1: never */
  assert_int_equal(bp_resolver_expired_prefix(arr, 1, T0, -1, &k), 0);
  assert_int_equal(k, 0);
  /* 0 s: anything older than now */
  arr[0] = T0;
  assert_int_equal(bp_resolver_expired_prefix(arr, 1, T0, 0, &k), 0);
  assert_int_equal(k, 0);
  arr[0] = T0 - 1;
  assert_int_equal(bp_resolver_expired_prefix(arr, 1, T0, 0, &k), 0);
  assert_int_equal(k, 1);
  /* a record from "the future" is not expired */
  arr[0] = T0 + 5000;
  assert_int_equal(bp_resolver_expired_prefix(arr, 1, T0, 0, &k), 0);
  assert_int_equal(k, 0);
  /* the prefix stops at the first unexpired record, even if later ones are older */
  arr[0] = T0 - 90000;
  arr[1] = T0 - 10000;
  arr[2] = T0 - 90000;
  assert_int_equal(bp_resolver_expired_prefix(arr, 3, T0, 60, &k), 0);
  assert_int_equal(k, 1);
  arr[1] = T0 - 70000;
  assert_int_equal(bp_resolver_expired_prefix(arr, 3, T0, 60, &k), 0);
  assert_int_equal(k, 3); /* whole batch */
  assert_int_equal(bp_resolver_expired_prefix(NULL, 0, T0, 60, &k), 0);
  assert_int_equal(k, 0);
  /* the extremes of the time range */
  arr[0] = 0;
  assert_int_equal(bp_resolver_expired_prefix(arr, 1, BP_TIME_MAX_MS, 604800, &k), 0);
  assert_int_equal(k, 1);
  arr[0] = BP_TIME_MAX_MS;
  assert_int_equal(bp_resolver_expired_prefix(arr, 1, 0, 0, &k), 0);
  assert_int_equal(k, 0);
  /* invalid */
  assert_int_equal(bp_resolver_expired_prefix(arr, 1, T0, 60, NULL), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_resolver_expired_prefix(NULL, 1, T0, 60, &k), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_resolver_expired_prefix(arr, 1, T0, -2, &k), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_resolver_expired_prefix(arr, 1, T0, 604801, &k),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_resolver_expired_prefix(arr, 1, -1, 60, &k), BP_ERR_RANGE);
  assert_int_equal(bp_resolver_expired_prefix(arr, 1, BP_TIME_MAX_MS + 1, 60, &k),
                   BP_ERR_RANGE);
  arr[0] = -5;
  assert_int_equal(bp_resolver_expired_prefix(arr, 1, T0, 60, &k), BP_ERR_RANGE);
}

static void test_age_check_action(void **state) {
  (void)state;
  bp_resolver_policy p = policy(3, 1, 1);
  p.maximum_record_age_in_seconds = 60;
  int64_t arr[4] = {T0 - 61000, T0 - 60001, T0 - 60000, T0};
  bp_resolver_input in = input(0, 4, 2, 3, 5, T0);
  bp_resolver_action a = BP_RESOLVER_ACTION_INIT;
  char err[64] = "x";
  assert_int_equal(bp_resolver_age_check(&p, &in, arr, &a, err, sizeof err), 0);
  assert_string_equal(err, "");
  assert_int_equal(a.kind, BP_ACTION_DISCARD);
  assert_int_equal(a.condition, BP_CONDITION_RECORD_AGE_EXCEEDED);
  assert_int_equal(a.discard_count, 2);
  assert_int_equal(a.batch_finished, 0);
  assert_int_equal(a.approximate_invoke_count, 3);
  assert_int_equal(a.response_context_present, 0);
  assert_int_equal(a.attempts, 2); /* the remainder keeps its counters */
  assert_int_equal(a.invocations, 3);
  assert_int_equal(a.consecutive_failures, 0);
  assert_int_equal(a.not_before_ms, T0);
  /* applied to a splitter: the prefix is cut, counters kept */
  bp_bisect *b = NULL;
  assert_int_equal(bp_bisect_new(&b, NULL), 0);
  assert_int_equal(bp_bisect_start(b, 40, 4), 0);
  assert_int_equal(bp_bisect_set_counters(b, 2, 3), 0);
  assert_int_equal(bp_resolver_apply(&a, b), BP_BISECT_MORE);
  uint64_t f;
  size_t c;
  uint32_t at, inv;
  assert_int_equal(bp_bisect_current(b, &f, &c, &at, &inv), 0);
  assert_int_equal(f, 42);
  assert_int_equal(c, 2);
  assert_int_equal(at, 2);
  assert_int_equal(inv, 3);
  /* the remainder then passes the check at the same now */
  in.batch_size = 2;
  assert_int_equal(bp_resolver_age_check(&p, &in, arr + 2, &a, NULL, 0), 0);
  assert_int_equal(a.kind, BP_ACTION_NONE);
  assert_int_equal(a.attempts, 2);
  assert_int_equal(a.invocations, 3);
  assert_int_equal(a.consecutive_failures, 5); /* unchanged */
  assert_int_equal(bp_resolver_apply(&a, b), BP_BISECT_MORE);
  /* wholly expired, never invoked: count 1, batch resolved */
  in = input(0, 2, 0, 0, 0, T0 + 100000);
  assert_int_equal(bp_resolver_age_check(&p, &in, arr + 2, &a, NULL, 0), 0);
  assert_int_equal(a.kind, BP_ACTION_DISCARD);
  assert_int_equal(a.discard_count, 2);
  assert_int_equal(a.batch_finished, 1);
  assert_int_equal(a.approximate_invoke_count, 1);
  assert_int_equal(a.attempts, 0);
  assert_int_equal(a.invocations, 0);
  assert_int_equal(bp_resolver_apply(&a, b), BP_BISECT_DONE);
  bp_bisect_del(b);
  /* age off */
  p.maximum_record_age_in_seconds = -1;
  in = input(0, 4, 0, 0, 0, BP_TIME_MAX_MS);
  assert_int_equal(bp_resolver_age_check(&p, &in, arr, &a, NULL, 0), 0);
  assert_int_equal(a.kind, BP_ACTION_NONE);
}

/* ---- invalid input ---- */

static void test_invalid_decide(void **state) {
  (void)state;
  bp_resolver_policy p = policy(3, 0, 1);
  bp_resolver_input in = input(BP_ATTEMPT_PARTIAL, 4, 0, 0, 0, T0);
  bp_resolver_action a = BP_RESOLVER_ACTION_INIT;
  char err[128];
  in.failed_index = 4; /* L out of range */
  in.failed_count = 1;
  memset(&a, 0x5a, sizeof a);
  assert_int_equal(bp_resolver_decide(&p, &in, &a, err, sizeof err), BP_ERR_INVALID_ARGUMENT);
  assert_true(strstr(err, "failed_index 4") != NULL);
  assert_int_equal(a.kind, BP_ACTION_NONE); /* zero-filled */
  assert_int_equal(a.not_before_ms, 0);
  in.failed_index = 3;
  in.failed_count = 2; /* only one record from index 3 */
  assert_int_equal(bp_resolver_decide(&p, &in, &a, err, sizeof err), BP_ERR_INVALID_ARGUMENT);
  assert_true(strstr(err, "failed_count 2") != NULL);
  in.failed_count = 0;
  assert_int_equal(bp_resolver_decide(&p, &in, &a, err, sizeof err), BP_ERR_INVALID_ARGUMENT);
  in.failed_count = 1;
  assert_int_equal(bp_resolver_decide(&p, &in, &a, err, sizeof err), 0);
  p.report_batch_item_failures = 0; /* partial only arrives with RBIF */
  assert_int_equal(bp_resolver_decide(&p, &in, &a, err, sizeof err), BP_ERR_INVALID_ARGUMENT);
  assert_true(strstr(err, "report_batch_item_failures") != NULL);
  p.report_batch_item_failures = 1;
  in.batch_size = 0; /* count 0 */
  assert_int_equal(bp_resolver_decide(&p, &in, &a, err, sizeof err), BP_ERR_INVALID_ARGUMENT);
  assert_string_equal(err, "batch_size is 0");
  in = input(7, 1, 0, 0, 0, T0);
  assert_int_equal(bp_resolver_decide(&p, &in, &a, err, sizeof err), BP_ERR_INVALID_ARGUMENT);
  assert_string_equal(err, "unknown outcome 7");
  in.outcome = -1;
  assert_int_equal(bp_resolver_decide(&p, &in, &a, NULL, 0), BP_ERR_INVALID_ARGUMENT);
  in = input(BP_ATTEMPT_SUCCESS, 1, 0, 0, 0, -1);
  assert_int_equal(bp_resolver_decide(&p, &in, &a, err, sizeof err), BP_ERR_RANGE);
  in.now_ms = BP_TIME_MAX_MS + 1;
  assert_int_equal(bp_resolver_decide(&p, &in, &a, err, sizeof err), BP_ERR_RANGE);
  in.now_ms = BP_TIME_MAX_MS;
  assert_int_equal(bp_resolver_decide(&p, &in, &a, err, sizeof err), 0);
  in.now_ms = 0;
  assert_int_equal(bp_resolver_decide(&p, &in, &a, err, sizeof err), 0);
  assert_int_equal(bp_resolver_decide(NULL, &in, &a, err, sizeof err), BP_ERR_INVALID_ARGUMENT);
  assert_string_equal(err, "policy is NULL");
  assert_int_equal(bp_resolver_decide(&p, NULL, &a, err, sizeof err), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_resolver_decide(&p, &in, NULL, err, sizeof err), BP_ERR_INVALID_ARGUMENT);
  /* a tiny error buffer is truncated and terminated */
  char tiny[4];
  assert_int_equal(bp_resolver_decide(NULL, &in, &a, tiny, sizeof tiny),
                   BP_ERR_INVALID_ARGUMENT);
  assert_string_equal(tiny, "pol");
}

static void test_policy_validation(void **state) {
  (void)state;
  bp_resolver_policy p = BP_RESOLVER_POLICY_INIT;
  assert_int_equal(bp_resolver_policy_init(NULL, sizeof(bp_resolver_policy)), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_resolver_policy_init(&p, sizeof p), 0);
  assert_int_equal(p.maximum_retry_attempts, -1);
  assert_int_equal(p.maximum_record_age_in_seconds, -1);
  assert_int_equal(p.bisect_batch_on_function_error, 0);
  assert_int_equal(p.report_batch_item_failures, 0);
  assert_int_equal(p.backoff_base_ms, 1000);
  assert_int_equal(p.backoff_cap_ms, 60000);
  char err[128] = "x";
  assert_int_equal(bp_resolver_policy_validate(&p, err, sizeof err), 0);
  assert_string_equal(err, "");
  assert_int_equal(bp_resolver_policy_validate(NULL, NULL, 0), BP_ERR_INVALID_ARGUMENT);
  static const struct {
    int field;
    int64_t value;
    const char *name;
  } bad[] = {
      {0, -2, "maximum_retry_attempts"},        {0, 10001, "maximum_retry_attempts"},
      {1, -2, "maximum_record_age_in_seconds"}, {1, 604801, "maximum_record_age_in_seconds"},
      {2, 2, "bisect_batch_on_function_error"}, {2, -1, "bisect_batch_on_function_error"},
      {3, 2, "report_batch_item_failures"},     {4, -1, "backoff_base_ms"},
      {4, BP_RESOLVER_MAX_BACKOFF_MS + 1, "backoff_base_ms"},
      {5, -1, "backoff_cap_ms"},
      {5, BP_RESOLVER_MAX_BACKOFF_MS + 1, "backoff_cap_ms"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    bp_resolver_policy q;
    bp_resolver_policy_init(&q, sizeof q);
    switch (bad[i].field) {
    case 0: q.maximum_retry_attempts = (int32_t)bad[i].value; break;
    case 1: q.maximum_record_age_in_seconds = (int32_t)bad[i].value; break;
    case 2: q.bisect_batch_on_function_error = (int32_t)bad[i].value; break;
    case 3: q.report_batch_item_failures = (int32_t)bad[i].value; break;
    case 4: q.backoff_base_ms = bad[i].value; break;
    default: q.backoff_cap_ms = bad[i].value; break;
    }
    assert_int_equal(bp_resolver_policy_validate(&q, err, sizeof err), BP_ERR_INVALID_ARGUMENT);
    assert_true(strstr(err, bad[i].name) != NULL);
    bp_resolver_input in = input(BP_ATTEMPT_SUCCESS, 1, 0, 0, 0, T0);
    bp_resolver_action a = BP_RESOLVER_ACTION_INIT;
    assert_int_equal(bp_resolver_decide(&q, &in, &a, NULL, 0), BP_ERR_INVALID_ARGUMENT);
    int64_t arr[1] = {T0};
    assert_int_equal(bp_resolver_age_check(&q, &in, arr, &a, NULL, 0), BP_ERR_INVALID_ARGUMENT);
  }
  /* the extremes are accepted */
  p.maximum_retry_attempts = 10000;
  p.maximum_record_age_in_seconds = 604800;
  p.backoff_base_ms = 0;
  p.backoff_cap_ms = BP_RESOLVER_MAX_BACKOFF_MS;
  assert_int_equal(bp_resolver_policy_validate(&p, NULL, 0), 0);
  p.maximum_record_age_in_seconds = 0;
  assert_int_equal(bp_resolver_policy_validate(&p, NULL, 0), 0);
}

static void test_invalid_age_check(void **state) {
  (void)state;
  bp_resolver_policy p = policy(3, 0, 0);
  p.maximum_record_age_in_seconds = 60;
  int64_t arr[2] = {T0, T0};
  bp_resolver_input in = input(0, 2, 0, 0, 0, T0);
  bp_resolver_action a = BP_RESOLVER_ACTION_INIT;
  char err[128];
  assert_int_equal(bp_resolver_age_check(NULL, &in, arr, &a, err, sizeof err),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_resolver_age_check(&p, NULL, arr, &a, err, sizeof err),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_resolver_age_check(&p, &in, NULL, &a, err, sizeof err),
                   BP_ERR_INVALID_ARGUMENT);
  assert_string_equal(err, "arrival_ms is NULL");
  assert_int_equal(bp_resolver_age_check(&p, &in, arr, NULL, err, sizeof err),
                   BP_ERR_INVALID_ARGUMENT);
  in.batch_size = 0;
  assert_int_equal(bp_resolver_age_check(&p, &in, arr, &a, err, sizeof err),
                   BP_ERR_INVALID_ARGUMENT);
  in.batch_size = 2;
  arr[1] = BP_TIME_MAX_MS + 1;
  assert_int_equal(bp_resolver_age_check(&p, &in, arr, &a, err, sizeof err), BP_ERR_RANGE);
  assert_true(strstr(err, "arrival_ms[1]") != NULL);
  arr[1] = T0;
  in.now_ms = -3;
  assert_int_equal(bp_resolver_age_check(&p, &in, arr, &a, err, sizeof err), BP_ERR_RANGE);
  assert_int_equal(a.kind, BP_ACTION_NONE);
}

static void test_invalid_apply(void **state) {
  (void)state;
  bp_bisect *b = NULL;
  assert_int_equal(bp_bisect_new(&b, NULL), 0);
  bp_resolver_action a;
  bp_resolver_action_init(&a, sizeof a);
  a.kind = BP_ACTION_RETRY;
  assert_int_equal(bp_resolver_apply(NULL, b), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_resolver_apply(&a, NULL), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_resolver_apply(&a, b), BP_ERR_INVALID_STATE); /* idle */
  assert_int_equal(bp_bisect_start(b, 0, 3), 0);
  a.kind = 99;
  assert_int_equal(bp_resolver_apply(&a, b), BP_ERR_INVALID_ARGUMENT);
  a.kind = BP_ACTION_COMMIT_ALL;
  a.commit_count = 2; /* not the whole batch */
  assert_int_equal(bp_resolver_apply(&a, b), BP_ERR_INVALID_ARGUMENT);
  a.kind = BP_ACTION_COMMIT_PREFIX;
  a.commit_count = 3;
  assert_int_equal(bp_resolver_apply(&a, b), BP_ERR_INVALID_ARGUMENT);
  a.commit_count = 0;
  assert_int_equal(bp_resolver_apply(&a, b), BP_ERR_INVALID_ARGUMENT);
  a.kind = BP_ACTION_DISCARD;
  a.discard_count = 4;
  assert_int_equal(bp_resolver_apply(&a, b), BP_ERR_INVALID_ARGUMENT);
  a.discard_count = 0;
  assert_int_equal(bp_resolver_apply(&a, b), BP_ERR_INVALID_ARGUMENT);
  uint64_t f;
  size_t c;
  assert_int_equal(bp_bisect_current(b, &f, &c, NULL, NULL), 0); /* unchanged */
  assert_int_equal(f, 0);
  assert_int_equal(c, 3);
  assert_int_equal(bp_bisect_pending(b), 0);
  /* SPLIT of a one-record batch */
  a.kind = BP_ACTION_COMMIT_PREFIX;
  a.commit_count = 2;
  assert_int_equal(bp_resolver_apply(&a, b), BP_BISECT_MORE);
  a.kind = BP_ACTION_SPLIT;
  assert_int_equal(bp_resolver_apply(&a, b), BP_ERR_INVALID_STATE);
  a.kind = BP_ACTION_COMMIT_ALL;
  a.commit_count = 1;
  assert_int_equal(bp_resolver_apply(&a, b), BP_BISECT_DONE);
  bp_bisect_del(b);
}

/* The outcome and condition values line up with the codec's, as documented. */
static void test_codec_values(void **state) {
  (void)state;
#if BP_WITH_CODEC
  assert_int_equal(BP_ATTEMPT_SUCCESS, BP_ATTEMPT_SUCCESS);
  assert_int_equal(BP_ATTEMPT_PARTIAL, BP_ATTEMPT_PARTIAL);
  assert_int_equal(BP_ATTEMPT_RETURNED_FAILED, BP_ATTEMPT_RETURNED_FAILED);
  assert_int_equal(BP_CONDITION_RETRY_ATTEMPTS_EXHAUSTED, BP_CONDITION_RETRY_ATTEMPTS_EXHAUSTED);
  assert_int_equal(BP_CONDITION_RECORD_AGE_EXCEEDED, BP_CONDITION_RECORD_AGE_EXCEEDED);
#endif
  assert_int_equal(BP_RESOLVER_MAX_RETRY_ATTEMPTS, BP_CONFIG_MAX_RETRY_ATTEMPTS);
  assert_int_equal(BP_RESOLVER_MAX_RECORD_AGE_IN_SECONDS, BP_CONFIG_MAX_RECORD_AGE_IN_SECONDS);
  assert_int_equal(BP_BISECT_MAX_RECORDS, BP_CONFIG_MAX_BATCH_SIZE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_s19_partial_calibration),
      cmocka_unit_test(test_s13_unknown_identifier),
      cmocka_unit_test(test_s20_lowest_failure_wins),
      cmocka_unit_test(test_s22_function_error_mra1),
      cmocka_unit_test(test_s25_mra0),
      cmocka_unit_test(test_s30_bisect_isolates_poison),
      cmocka_unit_test(test_returned_failed_splits),
      cmocka_unit_test(test_bisect_mra1_counts_sub_batch_only),
      cmocka_unit_test(test_bisect_power_of_two_cost),
      cmocka_unit_test(test_partial_with_bisect),
      cmocka_unit_test(test_no_progress_partial_never_splits),
      cmocka_unit_test(test_mra_forever),
      cmocka_unit_test(test_throttles),
      cmocka_unit_test(test_throttled_until_expired),
      cmocka_unit_test(test_expire_while_retrying),
      cmocka_unit_test(test_s28_expired_prefix),
      cmocka_unit_test(test_cut_keeps_counters),
      cmocka_unit_test(test_failmalloc),
      cmocka_unit_test(test_success_resets),
      cmocka_unit_test(test_retry_counting),
      cmocka_unit_test(test_throttle_decision),
      cmocka_unit_test(test_split_decision),
      cmocka_unit_test(test_partial_decision),
      cmocka_unit_test(test_metric_deltas),
      cmocka_unit_test(test_function_error_flag),
      cmocka_unit_test(test_backoff_schedule),
      cmocka_unit_test(test_backoff_in_decisions),
      cmocka_unit_test(test_age_boundary),
      cmocka_unit_test(test_age_check_action),
      cmocka_unit_test(test_invalid_decide),
      cmocka_unit_test(test_policy_validation),
      cmocka_unit_test(test_invalid_age_check),
      cmocka_unit_test(test_invalid_apply),
      cmocka_unit_test(test_codec_values),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
