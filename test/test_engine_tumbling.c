/* SPDX-License-Identifier: MIT */
/* Tumbling windows in the engine (SEMANTICS.md §6 and its (batchpoint's decision) rules), for what the
 * scenario format (test/scenarios/tumbling.json) cannot express: the exact state text in
 * the request and the event, states above 1 MB (early termination) built at run time, a
 * late fetch reopening a closed window, resharding closing the parents' windows (per lane,
 * split and merge), a final invocation refused with WOULDBLOCK, the 6 MB bound with a 1 MB
 * state, and the S3 payload of a window batch. Every run goes through
 * test/support/mock_host.c under the test allocator (no leak).
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <yajl/yajl_tree.h>

#include "batchpoint.h"
#include "batchpoint/bp_engine.h"
#include "engine_fixture.h"
#include "mock_host.h"
#include "test_alloc.h"

#define TW0 INT64_C(1764082800000) /* 2025-11-25T15:00:00Z, a multiple of 60 and 120 s */
#define MAX_STATE 1048576u /* §6: a longer state text terminates the window early */

/* =====================================================================================
 * Helpers
 * ===================================================================================== */

static bp_config *tw_cfg(int window_s) {
  bp_config *c = kcfg();
  assert_int_equal(bp_config_set_tumbling_window_in_seconds(c, window_s), 0);
  return c;
}

static bp_engine_opts tw_opts(void) {
  return engine_opts("a1b2c3d4-0000-4000-8000-0000000000aa", 7);
}

/* A mock whose clock starts at @p now, keeping every event payload. */
static mock_host *tw_mock(int64_t now) {
  mock_host *m = mock_at(now);
  m->keep_payloads = 1;
  return m;
}

/* Create the engine over @p cfg (deleted here) with shard SHARD0; returns its index. */
static int tw_start(mock_host *m, bp_config *cfg) {
  bp_engine_opts o = tw_opts();
  return start(m, cfg, &o);
}

static int is_final(const mock_invoke *inv) { return (inv->flags & BP_INVOKE_FINAL) != 0; }

/* Invocation @p i: records [first, first + count) of @p shard, not a final one. */
static void assert_batch(const mock_host *m, size_t i, int shard, size_t first, size_t count) {
  assert_inv(m, i, shard, first, count);
  if (is_final(&m->invokes[i])) fail_msg("invocation %zu is a final one, expected a batch", i);
}

/* Invocation @p i is a final one (no records), early-terminated or not. */
static void assert_final(const mock_host *m, size_t i, int early) {
  if (i >= m->ninvokes) fail_msg("invocation %zu missing (%zu made)", i, m->ninvokes);
  const mock_invoke *inv = &m->invokes[i];
  if (!is_final(inv) || inv->count != 0 || !!(inv->flags & BP_INVOKE_TERMINATED_EARLY) != !!early)
    fail_msg("invocation %zu: flags %x, %zu records; expected a final invocation%s", i,
             inv->flags, inv->count, early ? " terminated early" : "");
}

static void assert_at(const mock_host *m, size_t i, int64_t t) {
  assert_true(i < m->ninvokes);
  if (m->invokes[i].at_ms != t)
    fail_msg("invocation %zu at TW0%+lld, expected TW0%+lld", i,
             (long long)(m->invokes[i].at_ms - TW0), (long long)(t - TW0));
}

/* The request's window is [start, start + len) and its state text is exactly @p state. */
static void assert_window_state(const mock_host *m, size_t i, int64_t start, int64_t len,
                                const char *state, size_t state_len) {
  assert_true(i < m->ninvokes);
  const mock_invoke *inv = &m->invokes[i];
  if (inv->window_start_ms != start || inv->window_end_ms != start + len)
    fail_msg("invocation %zu: window [TW0%+lld, TW0%+lld), expected [TW0%+lld, TW0%+lld)", i,
             (long long)(inv->window_start_ms - TW0), (long long)(inv->window_end_ms - TW0),
             (long long)(start - TW0), (long long)(start + len - TW0));
  if (!inv->state) fail_msg("invocation %zu: no state", i);
  if (inv->state_len != state_len || memcmp(inv->state, state, state_len))
    fail_msg("invocation %zu: state (%zu bytes) %.80s, expected (%zu bytes) %.80s", i,
             inv->state_len, inv->state, state_len, state);
}

static void assert_state_is(const mock_host *m, size_t i, int64_t start, int64_t len,
                            const char *state) {
  assert_window_state(m, i, start, len, state, strlen(state));
}

/* ---- the event as the function sees it ---- */

/* The event of invocation @p i: Records has @p count elements, the flags are as given,
 * shardId and eventSourceARN are @p shard_id's and the stream's, window.start is
 * @p start_iso (to the second), and the state text appears verbatim in the payload. The
 * tree is read into a summary and freed before anything is asserted (no leak on failure). */
static void assert_event(const mock_host *m, size_t i, size_t count, int final, int early,
                         const char *shard_id, const char *start_iso) {
  const mock_invoke *inv = &m->invokes[i];
  assert_non_null(inv->payload);
  assert_non_null(inv->state);
  yajl_val ev = json_parse(inv->payload);
  yajl_val recs = json_at(ev, "Records");
  yajl_val f = json_at(ev, "isFinalInvokeForWindow"), t = json_at(ev, "isWindowTerminatedEarly");
  const char *wpath[] = {"window", "start", NULL};
  const char *ws = YAJL_GET_STRING(yajl_tree_get(ev, wpath, yajl_t_string));
  const char *sid = YAJL_GET_STRING(json_at(ev, "shardId"));
  const char *arn = YAJL_GET_STRING(json_at(ev, "eventSourceARN"));
  char what[160] = "";
  if (!YAJL_IS_ARRAY(recs) || recs->u.array.len != count)
    snprintf(what, sizeof what, "Records is not an array of %zu", count);
  else if (!(final ? YAJL_IS_TRUE(f) : YAJL_IS_FALSE(f)))
    snprintf(what, sizeof what, "isFinalInvokeForWindow is not %s", final ? "true" : "false");
  else if (!(early ? YAJL_IS_TRUE(t) : YAJL_IS_FALSE(t)))
    snprintf(what, sizeof what, "isWindowTerminatedEarly is not %s", early ? "true" : "false");
  else if (!sid || strcmp(sid, shard_id))
    snprintf(what, sizeof what, "shardId is not %s", shard_id);
  else if (!arn || strcmp(arn, STREAM_ARN))
    snprintf(what, sizeof what, "eventSourceARN is not the stream ARN");
  else if (!ws || strncmp(ws, start_iso, strlen(start_iso)))
    snprintf(what, sizeof what, "window.start %.40s is not %s", ws ? ws : "(none)", start_iso);
  else if (!YAJL_IS_OBJECT(json_at(ev, "state")))
    snprintf(what, sizeof what, "state is not an object");
  yajl_tree_free(ev);
  if (what[0]) fail_msg("invocation %zu: %s", i, what);
  if (!strstr(inv->payload, inv->state))
    fail_msg("invocation %zu: the state text is not in the event verbatim", i);
}

/* =====================================================================================
 * The scripted function: a response per invocation (by index), defaults otherwise.
 * ===================================================================================== */

#define TW_MAX_SCRIPT 64

typedef struct tw_script {
  const char *body[TW_MAX_SCRIPT]; /* RETURNED with this body (NULL: the default) */
  int kind[TW_MAX_SCRIPT];         /* 0: returned; else BP_INVOKE_RESULT_ERROR / _THROTTLED */
  const char *dflt;                /* default body of a batch */
  const char *final_body;          /* default body of a final invocation */
  int fail_shard_final;            /* shard whose final on lane fail_lane fails ... */
  uint32_t fail_lane;
  int fail_finals;                 /* ... this many times (function error) */
} tw_script;

static void tw_fn(mock_host *m, const mock_invoke *inv, bp_invoke_result *r) {
  tw_script *s = m->fn_ctx;
  size_t i = (size_t)(inv - m->invokes);
  if (is_final(inv) && s->fail_finals > 0 && inv->shard == s->fail_shard_final &&
      inv->lane == s->fail_lane) {
    s->fail_finals--;
    r->kind = BP_INVOKE_RESULT_ERROR;
    return;
  }
  if (i < TW_MAX_SCRIPT && s->kind[i]) {
    r->kind = s->kind[i];
    return;
  }
  const char *b = i < TW_MAX_SCRIPT && s->body[i] ? s->body[i]
                  : is_final(inv)                 ? s->final_body
                                                  : s->dflt;
  r->kind = BP_INVOKE_RESULT_RETURNED;
  r->body = b;
  r->body_len = b ? strlen(b) : 0;
}

static void tw_script_init(tw_script *s) {
  memset(s, 0, sizeof *s);
  s->dflt = "{\"state\":{}}";
  s->final_body = "{\"state\":{}}";
  s->fail_shard_final = -1;
}

/* Big bodies live until the test's teardown, so a failed assertion does not leak them. */
#define TW_MAX_BIG 4
static char *big_bodies[TW_MAX_BIG];

static void free_big_bodies(void) {
  for (int i = 0; i < TW_MAX_BIG; i++) {
    free(big_bodies[i]);
    big_bodies[i] = NULL;
  }
}

/* A response body whose `state` text is exactly @p state_len bytes:
 * {"state":{"big":"xxx..."}<tail>} with @p tail spliced in after the state (may be ""). The
 * state text starts at *state_off. Freed by the teardown. */
static char *big_body(size_t state_len, const char *tail, size_t *state_off) {
  const char *head = "{\"state\":";
  size_t fill = state_len - strlen("{\"big\":\"\"}");
  size_t n = strlen(head) + state_len + strlen(tail) + 2;
  char *b = malloc(n);
  assert_non_null(b);
  int slot = 0;
  while (slot < TW_MAX_BIG && big_bodies[slot]) slot++;
  assert_true(slot < TW_MAX_BIG);
  big_bodies[slot] = b;
  char *p = b;
  memcpy(p, head, strlen(head));
  p += strlen(head);
  *state_off = (size_t)(p - b);
  memcpy(p, "{\"big\":\"", 8);
  p += 8;
  memset(p, 'x', fill);
  p += fill;
  memcpy(p, "\"}", 2);
  p += 2;
  memcpy(p, tail, strlen(tail));
  p += strlen(tail);
  *p++ = '}';
  *p = '\0';
  assert_int_equal((size_t)(p - b) + 1, n);
  return b;
}

/* =====================================================================================
 * Tests
 * ===================================================================================== */

/* §6 (batchpoint's decision) state passing: `{}` at the first invocation of a window; then the state of the
 * window's last successful response, passed through as the exact JSON text returned
 * (whitespace, number spelling, escapes kept) in bp_invoke_req.state and in the event; the
 * final invocation carries it with no records; the next window starts with `{}`, whatever
 * the final's response said. */
static void test_state_text_exact(void **state) {
  (void)state;
  static const char odd[] = "{ \"b\" : [1, 2.50, \"\\u00e9\", 1e3] ,\"a\":{}\t}";
  char body0[256];
  snprintf(body0, sizeof body0, "{\"batchItemFailures\":[],\"state\" :  %s  }", odd);
  mock_host *m = tw_mock(TW0 + 5000);
  bp_config *cfg = tw_cfg(120);
  assert_int_equal(bp_config_set_batch_size(cfg, 1), 0);
  int s = tw_start(m, cfg);
  mock_put(m, s, "k", "a", TW0 + 1000);
  mock_put(m, s, "k", "b", TW0 + 2000);
  tw_script sc;
  tw_script_init(&sc);
  sc.body[0] = body0;
  sc.body[1] = "{\"state\":{\"n\":\"2\"}}";
  sc.final_body = "{\"state\":{\"ignored\":1}}";
  m->fn = tw_fn;
  m->fn_ctx = &sc;

  assert_int_equal(mock_run(m, TW0 + 119999), 0);
  assert_int_equal(m->ninvokes, 2);
  assert_batch(m, 0, s, 0, 1);
  assert_int_equal(m->invokes[0].flags, 0);
  assert_state_is(m, 0, TW0, 120000, "{}");
  assert_event(m, 0, 1, 0, 0, SHARD0, "2025-11-25T15:00:00");
  assert_batch(m, 1, s, 1, 1);
  assert_state_is(m, 1, TW0, 120000, odd);
  assert_event(m, 1, 1, 0, 0, SHARD0, "2025-11-25T15:00:00");

  /* the final at window.end exactly, with the last state */
  assert_int_equal(mock_run(m, TW0 + 120000), 0);
  assert_int_equal(m->ninvokes, 3);
  assert_final(m, 2, 0);
  assert_at(m, 2, TW0 + 120000);
  assert_int_equal(m->invokes[2].attempt, 1);
  assert_state_is(m, 2, TW0, 120000, "{\"n\":\"2\"}");
  assert_event(m, 2, 0, 1, 0, SHARD0, "2025-11-25T15:00:00");

  /* the next window: fresh state */
  mock_put(m, s, "k", "c", TW0 + 121000);
  assert_int_equal(mock_run(m, TW0 + 239999), 0);
  assert_int_equal(m->ninvokes, 4);
  assert_batch(m, 3, s, 2, 1);
  assert_state_is(m, 3, TW0 + 120000, 120000, "{}");
  assert_event(m, 3, 1, 0, 0, SHARD0, "2025-11-25T15:02:00");
  assert_int_equal(mock_run(m, TW0 + 240000), 0);
  assert_int_equal(m->ninvokes, 5);
  assert_final(m, 4, 0);
  assert_at(m, 4, TW0 + 240000);
  assert_state_is(m, 4, TW0 + 120000, 120000, "{}");
  bp_engine_metrics mt = mock_metrics(m, NULL);
  assert_int_equal(mt.invocations, 5);
  assert_int_equal(mt.invoked_event_count, 3); /* §8.4: finals add 0 */
  assert_int_equal(mock_checkpoint(m, s), 2);
  assert_int_equal(m->ndeliveries, 0);
  mock_host_free(m);
}

/* §6: "on success [of the final invocation] the sequence number is checkpointed". The
 * window's records are finished batch by batch (storage is released), but the checkpoint
 * published, reported and stored stays before the window until its final invocation
 * succeeds; a failed final keeps it there. A restart then replays the window's records
 * with fresh state instead of losing what was aggregated. */
static void test_checkpoint_waits_for_final(void **state) {
  (void)state;
  mock_host *m = tw_mock(TW0 + 5000);
  bp_config *cfg = tw_cfg(120);
  assert_int_equal(bp_config_set_batch_size(cfg, 1), 0);
  int s = tw_start(m, cfg);
  mock_put(m, s, "k", "a", TW0 + 1000);
  mock_put(m, s, "k", "b", TW0 + 2000);
  tw_script sc;
  tw_script_init(&sc);
  sc.kind[2] = BP_INVOKE_RESULT_ERROR; /* the first final fails once */
  m->fn = tw_fn;
  m->fn_ctx = &sc;
  assert_int_equal(mock_run(m, TW0 + 119999), 0);
  assert_int_equal(m->ninvokes, 2);
  assert_int_equal(mock_checkpoint(m, s), -1);
  assert_int_equal(mock_saved_checkpoint(m, s), -1);
  for (size_t i = 0; i < m->nevents; i++)
    assert_int_not_equal(m->events[i].type, BP_EVENT_CHECKPOINT);
  /* the final at window.end fails: still nothing checkpointed */
  assert_int_equal(mock_run(m, TW0 + 120000), 0);
  assert_int_equal(m->ninvokes, 3);
  assert_final(m, 2, 0);
  assert_int_equal(mock_checkpoint(m, s), -1);
  /* its retry succeeds: both records are checkpointed and stored at once */
  assert_int_equal(mock_run(m, TW0 + 125000), 0);
  assert_int_equal(m->ninvokes, 4);
  assert_final(m, 3, 0);
  assert_int_equal(mock_checkpoint(m, s), 1);
  assert_int_equal(mock_saved_checkpoint(m, s), 1);
  /* the next window holds from r1 on */
  mock_put(m, s, "k", "c", TW0 + 130000);
  assert_int_equal(mock_run(m, TW0 + 239999), 0);
  assert_int_equal(m->ninvokes, 5);
  assert_batch(m, 4, s, 2, 1);
  assert_int_equal(mock_saved_checkpoint(m, s), 1);
  assert_int_equal(mock_run(m, TW0 + 240000), 0);
  assert_int_equal(m->ninvokes, 6);
  assert_final(m, 5, 0);
  assert_int_equal(mock_saved_checkpoint(m, s), 2);
  mock_host_free(m);
}

/* §6 (batchpoint's decision) early termination: a state text above 1,048,576 bytes makes an immediate final
 * invocation with that state and both flags; the window's later records continue with `{}`
 * (flags false) and it still gets its normal final at window.end. Exactly 1,048,576 bytes
 * is no early termination. */
static void test_early_termination(void **state) {
  (void)state;
  for (int over = 1; over >= 0; over--) {
    size_t len = MAX_STATE + (size_t)over, off = 0;
    char *big = big_body(len, "", &off);
    mock_host *m = tw_mock(TW0 + 5000);
    bp_config *cfg = tw_cfg(120);
    assert_int_equal(bp_config_set_batch_size(cfg, 1), 0);
    int s = tw_start(m, cfg);
    mock_put(m, s, "k", "a", TW0 + 1000);
    mock_put(m, s, "k", "b", TW0 + 2000);
    mock_put(m, s, "k", "c", TW0 + 3000);
    tw_script sc;
    tw_script_init(&sc);
    sc.body[0] = big;
    sc.body[over ? 2 : 1] = "{\"state\":{\"n\":\"1\"}}";
    sc.body[over ? 3 : 2] = "{\"state\":{\"n\":\"2\"}}";
    m->fn = tw_fn;
    m->fn_ctx = &sc;
    assert_int_equal(mock_run(m, TW0 + 119999), 0);
    size_t i = 0;
    assert_batch(m, i, s, 0, 1);
    assert_state_is(m, i++, TW0, 120000, "{}");
    if (over) {
      /* at once, with the big state text, both flags true */
      assert_final(m, i, 1);
      assert_at(m, i, TW0 + 5000);
      assert_window_state(m, i, TW0, 120000, big + off, len);
      assert_event(m, i, 0, 1, 1, SHARD0, "2025-11-25T15:00:00");
      i++;
      assert_batch(m, i, s, 1, 1);
      assert_state_is(m, i, TW0, 120000, "{}");
      assert_event(m, i, 1, 0, 0, SHARD0, "2025-11-25T15:00:00");
      i++;
    } else {
      assert_batch(m, i, s, 1, 1);
      assert_window_state(m, i, TW0, 120000, big + off, len);
      assert_event(m, i, 1, 0, 0, SHARD0, "2025-11-25T15:00:00");
      i++;
    }
    assert_batch(m, i, s, 2, 1);
    assert_state_is(m, i++, TW0, 120000, "{\"n\":\"1\"}");
    assert_int_equal(m->ninvokes, i);
    /* the normal final at window.end */
    assert_int_equal(mock_run(m, TW0 + 300000), 0);
    assert_int_equal(m->ninvokes, i + 1);
    assert_final(m, i, 0);
    assert_at(m, i, TW0 + 120000);
    assert_state_is(m, i, TW0, 120000, "{\"n\":\"2\"}");
    assert_event(m, i, 0, 1, 0, SHARD0, "2025-11-25T15:00:00");
    assert_int_equal(mock_checkpoint(m, s), 2);
    mock_host_free(m);
  }
}

/* §6 (batchpoint's decision): the early final is due at once, whatever retry backoff the lane has pending (here
 * the remainder of a partial response, due 1 s later); it is retried with the backoff when
 * it fails, and the pending remainder waits until it has succeeded. The remainder then starts
 * the window afresh with `{}`. */
static void test_early_final_preempts_retry(void **state) {
  (void)state;
  mock_host *m = tw_mock(TW0 + 5000);
  bp_config *cfg = tw_cfg(120);
  assert_int_equal(bp_config_set_batch_size(cfg, 2), 0);
  assert_int_equal(bp_config_set_report_batch_item_failures(cfg, 1), 0);
  int s = tw_start(m, cfg);
  mock_put(m, s, "k", "a", TW0 + 1000);
  mock_put(m, s, "k", "b", TW0 + 1000);
  char tail[160];
  snprintf(tail, sizeof tail, ",\"batchItemFailures\":[{\"itemIdentifier\":\"%s\"}]",
           mock_rec(m, s, 1)->seq);
  size_t off = 0;
  char *big = big_body(MAX_STATE + 1, tail, &off);
  tw_script sc;
  tw_script_init(&sc);
  sc.body[0] = big;                    /* partial at r1, state > 1 MB */
  sc.kind[1] = BP_INVOKE_RESULT_ERROR; /* the early final fails once */
  sc.body[3] = "{\"state\":{\"n\":\"1\"}}";
  m->fn = tw_fn;
  m->fn_ctx = &sc;
  assert_int_equal(mock_run(m, TW0 + 119999), 0);
  assert_int_equal(m->ninvokes, 4);
  assert_batch(m, 0, s, 0, 2);
  assert_at(m, 0, TW0 + 5000);
  assert_final(m, 1, 1);
  assert_at(m, 1, TW0 + 5000); /* not at the remainder's TW0 + 6000 */
  assert_window_state(m, 1, TW0, 120000, big + off, MAX_STATE + 1);
  assert_int_equal(m->invokes[1].attempt, 1);
  assert_final(m, 2, 1); /* k = 2 after the partial and the failed final: 2 s */
  assert_at(m, 2, TW0 + 7000);
  assert_int_equal(m->invokes[2].attempt, 2);
  assert_window_state(m, 2, TW0, 120000, big + off, MAX_STATE + 1);
  assert_batch(m, 3, s, 1, 1);
  assert_true(m->invokes[3].flags & BP_INVOKE_REMAINDER);
  assert_at(m, 3, TW0 + 7000);
  assert_state_is(m, 3, TW0, 120000, "{}");
  assert_event(m, 3, 1, 0, 0, SHARD0, "2025-11-25T15:00:00");
  /* the early final checkpointed r0; r1 waits for the window's normal final */
  assert_int_equal(mock_checkpoint(m, s), 0);
  assert_int_equal(mock_saved_checkpoint(m, s), 0);
  assert_int_equal(mock_run(m, TW0 + 200000), 0);
  assert_int_equal(m->ninvokes, 5);
  assert_final(m, 4, 0);
  assert_at(m, 4, TW0 + 120000);
  assert_state_is(m, 4, TW0, 120000, "{\"n\":\"1\"}");
  assert_int_equal(mock_saved_checkpoint(m, s), 1);
  assert_int_equal(m->ndeliveries, 0);
  mock_host_free(m);
}

static size_t find_inv_of(const mock_host *m, int shard, size_t rec) {
  for (size_t i = 0; i < m->ninvokes; i++) {
    const mock_invoke *inv = &m->invokes[i];
    if (inv->shard != shard) continue;
    for (size_t j = 0; j < inv->count; j++)
      if (mock_inv_records(m, inv)[j] == rec) return i;
  }
  fail_msg("record %zu of shard %d was never invoked", rec, shard);
  return 0;
}

/* The first final invocation of shard @p shard, lane @p lane, for the window starting at
 * @p start, at or after invocation @p from; fails if none. */
static size_t find_final(const mock_host *m, int shard, uint32_t lane, int64_t start,
                         size_t from) {
  for (size_t i = from; i < m->ninvokes; i++) {
    const mock_invoke *inv = &m->invokes[i];
    if (is_final(inv) && inv->shard == shard && inv->lane == lane &&
        inv->window_start_ms == start)
      return i;
  }
  fail_msg("no final invocation of shard %d lane %u for window TW0%+lld after #%zu", shard,
           lane, (long long)(start - TW0), from);
  return 0;
}

/* §6 (batchpoint's decision): a record read after its window's final invocation was made (a late fetch)
 * opens that window again with `{}`, followed by another final invocation for it. */
static void test_late_record(void **state) {
  (void)state;
  mock_host *m = tw_mock(TW0 + 10000);
  int s = tw_start(m, tw_cfg(60));
  mock_put(m, s, "k", "a", TW0 + 10000);
  tw_script sc;
  tw_script_init(&sc);
  sc.body[0] = "{\"state\":{\"r\":\"0\"}}";
  sc.body[2] = "{\"state\":{\"r\":\"1\"}}";
  m->fn = tw_fn;
  m->fn_ctx = &sc;
  assert_int_equal(mock_run(m, TW0 + 60500), 0);
  assert_int_equal(m->ninvokes, 2);
  assert_final(m, 1, 0);
  assert_at(m, 1, TW0 + 60000);
  assert_state_is(m, 1, TW0, 60000, "{\"r\":\"0\"}");

  /* a record of the closed window is read at TW0 + 61 s (the next poll) */
  mock_put(m, s, "k", "b", TW0 + 20000);
  assert_int_equal(mock_run(m, TW0 + 62000), 0);
  assert_int_equal(m->ninvokes, 4);
  assert_batch(m, 2, s, 1, 1);
  assert_at(m, 2, TW0 + 61000);
  assert_state_is(m, 2, TW0, 60000, "{}");
  assert_event(m, 2, 1, 0, 0, SHARD0, "2025-11-25T15:00:00");
  assert_final(m, 3, 0); /* window.end has passed: at once */
  assert_at(m, 3, TW0 + 61000);
  assert_state_is(m, 3, TW0, 60000, "{\"r\":\"1\"}");
  assert_int_equal(mock_checkpoint(m, s), 1);

  /* a late record behind a record of a later window: whatever the order of the two
   * windows' invocations, the late one reopens its window with {} and gets a final; the
   * later window keeps its own state and its final waits for its end */
  sc.dflt = "{\"state\":{\"r\":\"later\"}}";
  mock_put(m, s, "k", "c", TW0 + 65000);
  mock_put(m, s, "k", "d", TW0 + 30000);
  assert_int_equal(mock_run(m, TW0 + 300000), 0);
  size_t ic = find_inv_of(m, s, 2), id = find_inv_of(m, s, 3);
  assert_int_equal(m->invokes[ic].count, 1);
  assert_int_equal(m->invokes[id].count, 1);
  assert_state_is(m, ic, TW0 + 60000, 60000, "{}");
  assert_state_is(m, id, TW0, 60000, "{}");
  size_t fd = find_final(m, s, 0, TW0, id);
  assert_state_is(m, fd, TW0, 60000, "{\"r\":\"later\"}");
  size_t fc = find_final(m, s, 0, TW0 + 60000, ic);
  assert_true(m->invokes[fc].at_ms >= TW0 + 120000);
  assert_state_is(m, fc, TW0 + 60000, 60000, "{\"r\":\"later\"}");
  assert_int_equal(m->ninvokes, 8);
  assert_int_equal(mock_checkpoint(m, s), 3);
  mock_host_free(m);
}

/* §6 resharding + §8.2: when a parent shard ends, the final invocations of its lanes' open
 * windows are made at once (not at window.end); a failed one is retried with the backoff,
 * and the child starts only once they have succeeded. The child's windows are its own, with
 * fresh state, and their finals come at window.end. ParallelizationFactor 2. */
static void test_resharding_closes_window(void **state) {
  (void)state;
  mock_host *m = tw_mock(TW0 + 5000);
  bp_config *cfg = tw_cfg(120);
  assert_int_equal(bp_config_set_parallelization_factor(cfg, 2), 0);
  bp_engine_opts o = tw_opts();
  create_engine(m, cfg, &o);
  int p = mock_shard_add(m, "shardId-P");
  int c = mock_shard_add(m, "shardId-C");
  char k0[16], k1[16];
  key_for_lane(0, 2, "key", k0, sizeof k0);
  key_for_lane(1, 2, "key", k1, sizeof k1);
  mock_put(m, p, k0, "p0", TW0 + 1000);
  mock_put(m, p, k1, "p1", TW0 + 1000);
  m->shards[p].closed = 1;
  mock_put(m, c, k0, "c0", TW0 + 2000);
  mock_put(m, c, k1, "c1", TW0 + 2000);
  tw_script sc;
  tw_script_init(&sc);
  sc.dflt = "{\"state\":{\"seen\":1}}";
  sc.fail_shard_final = p;
  sc.fail_lane = 1;
  sc.fail_finals = 2;
  m->fn = tw_fn;
  m->fn_ctx = &sc;
  assert_int_equal(bp_engine_add_shard(m->e, "shardId-P", NULL, NULL, NULL, 0), 0);
  assert_int_equal(bp_engine_add_shard(m->e, "shardId-C", "shardId-P", NULL, NULL, 0), 0);

  assert_int_equal(mock_run(m, TW0 + 7999), 0);
  /* P: a batch per lane, then each lane's final at once (the shard has ended) */
  for (uint32_t lane = 0; lane < 2; lane++) {
    size_t b = find_inv_of(m, p, lane);
    assert_int_equal(m->invokes[b].lane, lane);
    assert_at(m, b, TW0 + 5000);
    assert_state_is(m, b, TW0, 120000, "{}");
    size_t f = find_final(m, p, lane, TW0, b);
    assert_final(m, f, 0);
    assert_at(m, f, TW0 + 5000);
    assert_state_is(m, f, TW0, 120000, "{\"seen\":1}");
    assert_event(m, f, 0, 1, 0, "shardId-P", "2025-11-25T15:00:00");
  }
  /* lane 1's final failed at 5 s and 6 s (backoff 1 s, 2 s): P has not ended, C waits */
  size_t f1 = find_final(m, p, 1, TW0, 0);
  size_t f1b = find_final(m, p, 1, TW0, f1 + 1);
  assert_at(m, f1b, TW0 + 6000);
  assert_int_equal(m->ninvokes, 5);
  assert_int_equal(bp_engine_get_shard_state(m->e, "shardId-P"), BP_SHARD_ENDING);
  assert_int_equal(bp_engine_get_shard_state(m->e, "shardId-C"), BP_SHARD_WAITING);
  for (size_t i = 0; i < m->nfetches; i++) assert_int_not_equal(m->fetches[i].shard, c);

  assert_int_equal(mock_run(m, TW0 + 8000), 0);
  size_t f1c = find_final(m, p, 1, TW0, f1b + 1);
  assert_at(m, f1c, TW0 + 8000);
  assert_int_equal(bp_engine_get_shard_state(m->e, "shardId-P"), BP_SHARD_ENDED);
  assert_int_equal(mock_saved_checkpoint(m, p), 1);
  /* Lane 0's final moved the checkpoint to p0 while lane 1's window still held p1: that
   * save is not the shard's last, so it is not flagged final (bp_checkpoint_req.final);
   * the save at p1 is (found by the randomized model, seed 478). */
  size_t nfinal = 0;
  for (size_t i = 0; i < m->nsaves; i++) {
    const mock_save *sv = &m->saves[i];
    if (sv->shard != p) continue;
    long at = (long)mock_index_of(m, p, sv->seq, sv->seq_len);
    if (sv->final != (at == 1))
      fail_msg("save %zu of shardId-P at p%ld flagged final %d", i, at, sv->final);
    nfinal += (size_t)sv->final;
  }
  assert_true(nfinal >= 1);
  /* C starts after P's last final: its windows are its own, with fresh state */
  size_t first_c = 0;
  while (first_c < m->nfetches && m->fetches[first_c].shard != c) first_c++;
  assert_true(first_c < m->nfetches);
  assert_true(m->fetches[first_c].order > m->invokes[f1c].order);
  for (uint32_t lane = 0; lane < 2; lane++) {
    size_t b = find_inv_of(m, c, lane);
    assert_int_equal(m->invokes[b].lane, lane);
    assert_at(m, b, TW0 + 8000);
    assert_state_is(m, b, TW0, 120000, "{}");
  }
  assert_int_equal(m->ninvokes, 8);

  /* C has not ended: its finals wait for window.end */
  assert_int_equal(mock_run(m, TW0 + 119999), 0);
  assert_int_equal(m->ninvokes, 8);
  assert_int_equal(mock_run(m, TW0 + 120000), 0);
  assert_int_equal(m->ninvokes, 10);
  for (uint32_t lane = 0; lane < 2; lane++) {
    size_t f = find_final(m, c, lane, TW0, 8);
    assert_at(m, f, TW0 + 120000);
    assert_state_is(m, f, TW0, 120000, "{\"seen\":1}");
  }
  assert_int_equal(mock_checkpoint(m, c), 1);
  assert_int_equal(m->ndeliveries, 0);
  mock_host_free(m);
}

/* A final invocation the host refuses with WOULDBLOCK is asked again after
 * wouldblock_retry_ms; the refusal is not a failed attempt (no backoff, attempt 1). */
static void test_final_wouldblock(void **state) {
  (void)state;
  mock_host *m = tw_mock(TW0 + 1000);
  int s = tw_start(m, tw_cfg(60));
  mock_put(m, s, "k", "a", TW0 + 1000);
  tw_script sc;
  tw_script_init(&sc);
  m->fn = tw_fn;
  m->fn_ctx = &sc;
  assert_int_equal(mock_run(m, TW0 + 59999), 0);
  assert_int_equal(m->ninvokes, 1);
  int calls = m->calls[MOCK_INVOKE];
  m->wouldblock[MOCK_INVOKE] = 1;
  assert_int_equal(mock_run(m, TW0 + 60099), 0);
  assert_int_equal(m->calls[MOCK_INVOKE], calls + 1);
  assert_int_equal(m->ninvokes, 1);
  assert_int_equal(mock_run(m, TW0 + 60100), 0);
  assert_int_equal(m->ninvokes, 2);
  assert_final(m, 1, 0);
  assert_at(m, 1, TW0 + 60100);
  assert_int_equal(m->invokes[1].attempt, 1);
  assert_int_equal(mock_run(m, TW0 + 300000), 0);
  assert_int_equal(m->ninvokes, 2);
  mock_host_free(m);
}

/* §3.1 (batchpoint's decision): the 6 MB bound measures the complete event, the window fields and the state
 * included: after a response with a 1,048,576-byte state the next batch of 400 KiB records
 * holds fewer records, as many as fit. */
static void test_event_limit_counts_state(void **state) {
  (void)state;
  size_t off = 0;
  char *big = big_body(MAX_STATE, "", &off);
  mock_host *m = tw_mock(TW0 + 5000);
  bp_config *cfg = tw_cfg(900);
  assert_int_equal(bp_config_set_batch_size(cfg, 100), 0);
  int s = tw_start(m, cfg);
  for (int i = 0; i < 30; i++) mock_put_big(m, s, "k", 400 * 1024, 'a', TW0 + 1000);
  tw_script sc;
  tw_script_init(&sc);
  sc.body[0] = big;
  m->fn = tw_fn;
  m->fn_ctx = &sc;
  assert_int_equal(mock_run(m, TW0 + 10000), 0);
  assert_true(m->ninvokes >= 3);
  for (size_t i = 0; i < m->ninvokes; i++) assert_true(m->invokes[i].payload_len <= 6291456);
  /* every record encodes to the same size: one more record adds `per` bytes */
  assert_int_equal(m->invokes[0].count, 11);
  assert_state_is(m, 2, TW0, 900000, "{}");
  assert_int_equal(m->invokes[2].count, 10);
  size_t per = m->invokes[0].payload_len - m->invokes[2].payload_len;
  assert_window_state(m, 1, TW0, 900000, big + off, MAX_STATE);
  assert_int_equal(m->invokes[1].count, 9);
  assert_true(m->invokes[1].payload_len + per > 6291456);
  assert_int_equal(mock_rec(m, s, 29)->invoked, 1);
  mock_host_free(m);
}

/* §6 resharding with a merge: each parent closes its window when it ends, at once, even when
 * its end (SHARD_END) comes with an empty read long after its records were handled; the
 * child starts after both, with fresh state. */
static void test_resharding_merge_closes_windows(void **state) {
  (void)state;
  mock_host *m = tw_mock(TW0 + 5000);
  bp_engine_opts o = tw_opts();
  bp_config *cfg = tw_cfg(120);
  create_engine(m, cfg, &o);
  int p1 = mock_shard_add(m, "shardId-P1");
  int p2 = mock_shard_add(m, "shardId-P2");
  int c = mock_shard_add(m, "shardId-C");
  mock_put(m, p1, "k", "p1", TW0 + 1000);
  m->shards[p1].closed = 1;
  mock_put(m, p2, "k", "p2", TW0 + 1000);
  mock_put(m, c, "k", "c", TW0 + 2000);
  tw_script sc;
  tw_script_init(&sc);
  sc.dflt = "{\"state\":{\"seen\":1}}";
  m->fn = tw_fn;
  m->fn_ctx = &sc;
  assert_int_equal(bp_engine_add_shard(m->e, "shardId-P1", NULL, NULL, NULL, 0), 0);
  assert_int_equal(bp_engine_add_shard(m->e, "shardId-P2", NULL, NULL, NULL, 0), 0);
  assert_int_equal(bp_engine_add_shard(m->e, "shardId-C", "shardId-P1", "shardId-P2", NULL, 0),
                   0);
  assert_int_equal(mock_run(m, TW0 + 19999), 0);
  /* P1 ended with its read: its final at once; P2 is open, its final waits */
  size_t f1 = find_final(m, p1, 0, TW0, 0);
  assert_at(m, f1, TW0 + 5000);
  assert_state_is(m, f1, TW0, 120000, "{\"seen\":1}");
  assert_int_equal(bp_engine_get_shard_state(m->e, "shardId-P1"), BP_SHARD_ENDED);
  assert_int_equal(m->ninvokes, 3);
  for (size_t i = 0; i < m->ninvokes; i++) assert_int_not_equal(m->invokes[i].shard, c);
  /* P2's end is read by the poll at TW0 + 20 s: its final then, not at window.end */
  m->shards[p2].closed = 1;
  assert_int_equal(mock_run(m, TW0 + 20000), 0);
  size_t f2 = find_final(m, p2, 0, TW0, 0);
  assert_at(m, f2, TW0 + 20000);
  assert_state_is(m, f2, TW0, 120000, "{\"seen\":1}");
  assert_int_equal(bp_engine_get_shard_state(m->e, "shardId-P2"), BP_SHARD_ENDED);
  size_t bc = find_inv_of(m, c, 0);
  assert_true(bc > f2);
  assert_at(m, bc, TW0 + 20000);
  assert_state_is(m, bc, TW0, 120000, "{}");
  assert_int_equal(mock_run(m, TW0 + 119999), 0);
  assert_int_equal(m->ninvokes, 5);
  assert_int_equal(mock_run(m, TW0 + 120000), 0);
  size_t fc = find_final(m, c, 0, TW0, bc);
  assert_at(m, fc, TW0 + 120000);
  mock_host_free(m);
}

/* The `payload` string of an S3 on-failure record, copied into @p out. */
static void s3_payload_of(const mock_delivery *d, char *out, size_t cap) {
  yajl_val tree = json_parse(d->record_json);
  yajl_val p = json_at(tree, "payload");
  int ok = YAJL_IS_STRING(p) && strlen(p->u.string) < cap;
  if (ok) memcpy(out, p->u.string, strlen(p->u.string) + 1);
  yajl_tree_free(tree);
  if (!ok) fail_msg("the S3 record's payload is not a JSON string below %zu bytes", cap);
}

/* The S3 object's payload of a discarded window batch (§5.5 (batchpoint's decision)): byte-identical to the
 * last invocation's event, whose window fields and state it therefore carries. */
static void test_s3_payload_window_fields(void **state) {
  (void)state;
  const char *s3 = "arn:aws:s3:::bucket";
  mock_host *m = tw_mock(TW0 + 5000);
  bp_config *cfg = tw_cfg(120);
  assert_int_equal(bp_config_set_batch_size(cfg, 1), 0);
  assert_int_equal(bp_config_set_maximum_retry_attempts(cfg, 0), 0);
  assert_int_equal(bp_config_set_on_failure_destination(cfg, s3, strlen(s3)), 0);
  int s = tw_start(m, cfg);
  mock_put(m, s, "k", "a", TW0 + 1000);
  mock_put(m, s, "k", "b", TW0 + 2000);
  tw_script sc;
  tw_script_init(&sc);
  sc.body[0] = "{\"state\": {\"n\" : 1}}";
  sc.kind[1] = BP_INVOKE_RESULT_ERROR;
  m->fn = tw_fn;
  m->fn_ctx = &sc;
  assert_int_equal(mock_run(m, TW0 + 200000), 0);
  assert_int_equal(m->ndeliveries, 1);
  assert_batch(m, 1, s, 1, 1);
  assert_state_is(m, 1, TW0, 120000, "{\"n\" : 1}");
  char payload[8192];
  s3_payload_of(&m->deliveries[0], payload, sizeof payload);
  assert_string_equal(payload, m->invokes[1].payload);
  assert_final(m, 2, 0);
  assert_state_is(m, 2, TW0, 120000, "{\"n\" : 1}");
  mock_host_free(m);
}

/* ---- Found as engine bugs while writing these tests, fixed since ---- */

/* A no-progress partial response with a state updates the window's state; when that
 * attempt exhausts MaximumRetryAttempts the S3 payload is still byte-identical to the last
 * invocation's event (§5.5 (batchpoint's decision)), i.e. carries the state that invocation was sent. */
static void test_s3_payload_after_partial_state(void **state) {
  (void)state;
  const char *s3 = "arn:aws:s3:::bucket";
  mock_host *m = tw_mock(TW0 + 5000);
  bp_config *cfg = tw_cfg(120);
  assert_int_equal(bp_config_set_batch_size(cfg, 2), 0);
  assert_int_equal(bp_config_set_maximum_retry_attempts(cfg, 0), 0);
  assert_int_equal(bp_config_set_report_batch_item_failures(cfg, 1), 0);
  assert_int_equal(bp_config_set_on_failure_destination(cfg, s3, strlen(s3)), 0);
  int s = tw_start(m, cfg);
  mock_put(m, s, "k", "a", TW0 + 1000);
  mock_put(m, s, "k", "b", TW0 + 1000);
  char body0[200];
  snprintf(body0, sizeof body0,
           "{\"state\":{\"p\":1},\"batchItemFailures\":[{\"itemIdentifier\":\"%s\"}]}",
           mock_rec(m, s, 0)->seq);
  tw_script sc;
  tw_script_init(&sc);
  sc.body[0] = body0;
  m->fn = tw_fn;
  m->fn_ctx = &sc;
  assert_int_equal(mock_run(m, TW0 + 200000), 0);
  assert_batch(m, 0, s, 0, 2);
  assert_int_equal(m->ndeliveries, 1);
  char payload[8192];
  s3_payload_of(&m->deliveries[0], payload, sizeof payload);
  size_t pl = strlen(payload), il = strlen(m->invokes[0].payload);
  if (strcmp(payload, m->invokes[0].payload)) /* the window fields are at the end */
    fail_msg("S3 payload ...%s\ndiffers from the last invocation's event ...%s",
             payload + (pl > 300 ? pl - 300 : 0), m->invokes[0].payload + (il > 300 ? il - 300 : 0));
  mock_host_free(m);
}

/* After a failed final invocation, a late record of that window (read before the final's
 * retry is due) waits until the final has succeeded, then reopens the window with {}.
 * §6 (batchpoint's decision): a failed final is retried with the backoff until it succeeds (DOC: processing of
 * the shard is suspended until then), §5.1: the next invocation on the lane waits the
 * backoff, and a record read after the final was made reopens the window with {}. */
static void test_late_record_during_failed_final(void **state) {
  (void)state;
  mock_host *m = tw_mock(TW0 + 10000);
  int s = tw_start(m, tw_cfg(60));
  mock_put(m, s, "k", "a", TW0 + 10000);
  tw_script sc;
  tw_script_init(&sc);
  sc.body[0] = "{\"state\":{\"r\":\"0\"}}";
  sc.kind[1] = sc.kind[2] = BP_INVOKE_RESULT_ERROR; /* the final fails at 60 s and 61 s */
  m->fn = tw_fn;
  m->fn_ctx = &sc;
  assert_int_equal(mock_run(m, TW0 + 61500), 0);
  assert_int_equal(m->ninvokes, 3);
  assert_final(m, 2, 0);
  assert_at(m, 2, TW0 + 61000); /* the next attempt is due at TW0 + 63 s */
  mock_put(m, s, "k", "late", TW0 + 20000);  /* read by the poll at TW0 + 62 s */
  sc.body[4] = "{\"state\":{\"r\":\"1\"}}";
  assert_int_equal(mock_run(m, TW0 + 70000), 0);
  assert_final(m, 3, 0);
  assert_at(m, 3, TW0 + 63000);
  assert_state_is(m, 3, TW0, 60000, "{\"r\":\"0\"}");
  assert_batch(m, 4, s, 1, 1);
  assert_at(m, 4, TW0 + 63000);
  assert_state_is(m, 4, TW0, 60000, "{}");
  assert_final(m, 5, 0);
  assert_state_is(m, 5, TW0, 60000, "{\"r\":\"1\"}");
  mock_host_free(m);
}

/* Every test frees its mocks; the teardown frees those of a test that failed half-way, and
 * the big response bodies. */
static int teardown(void **state) {
  (void)state;
  free_big_bodies();
  return release_mocks(state);
}

#define TEST(f) cmocka_unit_test_teardown(f, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      TEST(test_state_text_exact),
      TEST(test_checkpoint_waits_for_final),
      TEST(test_early_termination),
      TEST(test_early_final_preempts_retry),
      TEST(test_late_record),
      TEST(test_resharding_closes_window),
      TEST(test_final_wouldblock),
      TEST(test_event_limit_counts_state),
      TEST(test_resharding_merge_closes_windows),
      TEST(test_s3_payload_window_fields),
      TEST(test_s3_payload_after_partial_state),
      TEST(test_late_record_during_failed_final),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
