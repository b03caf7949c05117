/* SPDX-License-Identifier: MIT */
/* Partial-batch-failure resolver: pure decisions over caller-owned counters (SEMANTICS.md
 * §3.3-§3.5, §4, §5.1-§5.3, §8.4). No allocation, no state of its own. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "batchpoint/bp_bisect.h"
#include "batchpoint/bp_resolver.h"
#include "batchpoint/bp_time.h"
#include "bp_int.h"

static uint32_t inc_sat(uint32_t v) { return v == UINT32_MAX ? v : v + 1; }

static int time_ok(int64_t ms) { return ms >= 0 && ms <= BP_TIME_MAX_MS; }

#define RESOLVER_POLICY_SIZE_V1 BP__SIZE_V1(bp_resolver_policy, backoff_cap_ms)
#define RESOLVER_INPUT_SIZE_V1 BP__SIZE_V1(bp_resolver_input, now_ms)
#define RESOLVER_ACTION_SIZE_V1 BP__SIZE_V1(bp_resolver_action, reserved)

static int policy_check(const bp_resolver_policy *p, char *errbuf, size_t errlen) {
  if (p->maximum_retry_attempts < -1 ||
      p->maximum_retry_attempts > BP_RESOLVER_MAX_RETRY_ATTEMPTS)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                      "maximum_retry_attempts %ld is not -1 .. %d",
                      (long)p->maximum_retry_attempts, BP_RESOLVER_MAX_RETRY_ATTEMPTS);
  if (p->maximum_record_age_in_seconds < -1 ||
      p->maximum_record_age_in_seconds > BP_RESOLVER_MAX_RECORD_AGE_IN_SECONDS)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                      "maximum_record_age_in_seconds %ld is not -1 .. %d",
                      (long)p->maximum_record_age_in_seconds,
                      BP_RESOLVER_MAX_RECORD_AGE_IN_SECONDS);
  if (p->bisect_batch_on_function_error != 0 && p->bisect_batch_on_function_error != 1)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                      "bisect_batch_on_function_error %ld is not 0 or 1",
                      (long)p->bisect_batch_on_function_error);
  if (p->report_batch_item_failures != 0 && p->report_batch_item_failures != 1)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                      "report_batch_item_failures %ld is not 0 or 1",
                      (long)p->report_batch_item_failures);
  if (p->backoff_base_ms < 0 || p->backoff_base_ms > BP_RESOLVER_MAX_BACKOFF_MS)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                      "backoff_base_ms %lld is not 0 .. %d", (long long)p->backoff_base_ms,
                      BP_RESOLVER_MAX_BACKOFF_MS);
  if (p->backoff_cap_ms < 0 || p->backoff_cap_ms > BP_RESOLVER_MAX_BACKOFF_MS)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                      "backoff_cap_ms %lld is not 0 .. %d", (long long)p->backoff_cap_ms,
                      BP_RESOLVER_MAX_BACKOFF_MS);
  return bp__errbuf(errbuf, errlen, 0, "%s", "");
}

/* The host's policy, read through its struct_size into @p p, and checked. */
static int policy_read(const bp_resolver_policy *in, bp_resolver_policy *p, char *errbuf,
                       size_t errlen) {
  if (!in) return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT, "policy is NULL");
  int rc = bp__struct_in(p, sizeof *p, RESOLVER_POLICY_SIZE_V1, in, "bp_resolver_policy", errbuf, errlen);
  return rc ? rc : policy_check(p, errbuf, errlen);
}

int bp_resolver_input_init(bp_resolver_input *in, size_t size) {
  int rc = bp__struct_init(in, size, RESOLVER_INPUT_SIZE_V1);
  if (rc) return rc;
  return 0;
}

int bp_resolver_action_init(bp_resolver_action *a, size_t size) {
  int rc = bp__struct_init(a, size, RESOLVER_ACTION_SIZE_V1);
  if (rc) return rc;
  return 0;
}

int bp_resolver_policy_init(bp_resolver_policy *p, size_t size) {
  int rc = bp__struct_init(p, size, RESOLVER_POLICY_SIZE_V1);
  if (rc) return rc;
  p->maximum_retry_attempts = -1;
  p->maximum_record_age_in_seconds = -1;
  p->bisect_batch_on_function_error = 0;
  p->report_batch_item_failures = 0;
  p->backoff_base_ms = BP_RESOLVER_DEFAULT_BACKOFF_BASE_MS;
  p->backoff_cap_ms = BP_RESOLVER_DEFAULT_BACKOFF_CAP_MS;
  return 0;
}

int bp_resolver_policy_validate(const bp_resolver_policy *p, char *errbuf, size_t errlen) {
  bp_resolver_policy pol;
  return policy_read(p, &pol, errbuf, errlen);
}

/* min(base * 2^(k-1), cap); base and cap are already within 0 .. one day. */
static int64_t backoff_of(const bp_resolver_policy *p, uint32_t k) {
  if (k == 0 || p->backoff_base_ms == 0 || p->backoff_cap_ms == 0) return 0;
  int64_t d = p->backoff_base_ms;
  /* d <= one day, so doubling while d < cap never overflows; at most ~27 rounds. */
  for (uint32_t i = 1; i < k && d < p->backoff_cap_ms; i++) d *= 2;
  return d < p->backoff_cap_ms ? d : p->backoff_cap_ms;
}

int bp_resolver_backoff(const bp_resolver_policy *p, uint32_t k, int64_t *delay_ms) {
  bp_resolver_policy pol;
  if (!delay_ms || policy_read(p, &pol, NULL, 0)) return BP_ERR_INVALID_ARGUMENT;
  *delay_ms = backoff_of(&pol, k);
  return 0;
}

static int fail(bp_resolver_action *out, int code) {
  if (out) memset(out, 0, sizeof *out);
  return code;
}

/* The counters and lane state after a failed attempt that keeps working on the lane. */
static void failed_attempt(const bp_resolver_policy *p, const bp_resolver_input *in,
                           bp_resolver_action *out) {
  out->consecutive_failures = inc_sat(in->consecutive_failures);
  out->not_before_ms = in->now_ms + backoff_of(p, out->consecutive_failures);
}

/* Full success, or any discard: k returns to 0 and the next invocation need not wait. */
static void lane_reset(const bp_resolver_input *in, bp_resolver_action *out) {
  out->consecutive_failures = 0;
  out->not_before_ms = in->now_ms;
}

/* A reached failure that consumes the quota: retry, or discard when exhausted. */
static void count_or_discard(const bp_resolver_policy *p, const bp_resolver_input *in,
                             int function_error_null, bp_resolver_action *out) {
  uint32_t attempts = inc_sat(in->attempts);
  uint32_t invocations = inc_sat(in->invocations);
  if (p->maximum_retry_attempts >= 0 && attempts > (uint32_t)p->maximum_retry_attempts) {
    out->kind = BP_ACTION_DISCARD;
    out->condition = BP_CONDITION_RETRY_ATTEMPTS_EXHAUSTED;
    out->batch_finished = 1;
    out->discard_count = in->batch_size;
    out->approximate_invoke_count = invocations; /* >= 1: this one reached the function */
    out->response_context_present = 1;
    out->function_error_null = function_error_null;
    out->attempts = 0;
    out->invocations = 0;
    lane_reset(in, out);
    return;
  }
  out->kind = BP_ACTION_RETRY;
  out->attempts = attempts;
  out->invocations = invocations;
  failed_attempt(p, in, out);
}

/* The arguments of a decision, read through their struct_size: the policy and the input
 * into local copies, and the action's struct_size checked (it is written at the end). */
static int args_read(const bp_resolver_policy *pp, const bp_resolver_input *inp,
                     bp_resolver_action *outp, bp_resolver_policy *p, bp_resolver_input *in,
                     char *errbuf, size_t errlen) {
  if (!outp || !inp)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT, "%s is NULL",
                      !outp ? "action" : "input");
  int rc = bp__struct_check(outp, RESOLVER_ACTION_SIZE_V1, "bp_resolver_action", errbuf, errlen);
  if (!rc) rc = bp__struct_in(in, sizeof *in, RESOLVER_INPUT_SIZE_V1, inp, "bp_resolver_input", errbuf,
                              errlen);
  return rc ? rc : policy_read(pp, p, errbuf, errlen);
}

/* Hand the action to the host (zero-filled after an error, as documented). */
static int action_out(bp_resolver_action *outp, bp_resolver_action *a, int rc) {
  if (rc) memset(a, 0, sizeof *a);
  a->struct_size = sizeof *a;
  if (outp && bp__struct_out(outp, a, sizeof *a, RESOLVER_ACTION_SIZE_V1, "bp_resolver_action", NULL, 0))
    return rc ? rc : BP_ERR_INVALID_ARGUMENT;
  return rc;
}

static int decide(const bp_resolver_policy *p, const bp_resolver_input *in,
                  bp_resolver_action *out, char *errbuf, size_t errlen) {
  size_t n = in->batch_size;
  if (n == 0) return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT, "batch_size is 0");
  if (!time_ok(in->now_ms))
    return bp__errbuf(errbuf, errlen, BP_ERR_RANGE, "now_ms %lld is outside 0 .. %lld",
                      (long long)in->now_ms, (long long)BP_TIME_MAX_MS);
  switch (in->outcome) {
  case BP_ATTEMPT_SUCCESS:
    out->kind = BP_ACTION_COMMIT_ALL;
    out->batch_finished = 1;
    out->commit_count = n;
    out->invoked_event_count = n;
    lane_reset(in, out);
    return 0;

  case BP_ATTEMPT_NOT_REACHED: /* §5.6: no quota, no split; only age ends it */
    out->kind = BP_ACTION_RETRY;
    out->attempts = in->attempts;
    out->invocations = in->invocations;
    out->failed_invoke_event_count = n;
    failed_attempt(p, in, out);
    return 0;

  case BP_ATTEMPT_FUNCTION_ERROR:
  case BP_ATTEMPT_RETURNED_FAILED: /* §4 (batchpoint's decision): returned-but-failed splits the same way */
    out->invoked_event_count = n;
    out->failed_invoke_event_count = n;
    if (p->bisect_batch_on_function_error && n >= 2) {
      out->kind = BP_ACTION_SPLIT; /* the failure that splits is not counted */
      failed_attempt(p, in, out);
      return 0;
    }
    count_or_discard(p, in, in->outcome == BP_ATTEMPT_RETURNED_FAILED, out);
    return 0;

  case BP_ATTEMPT_PARTIAL:
    if (!p->report_batch_item_failures)
      return fail(out, bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                                  "a partial failure needs report_batch_item_failures"));
    if (in->failed_index >= n)
      return fail(out, bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                                  "failed_index %zu is not below batch_size %zu",
                                  in->failed_index, n));
    if (in->failed_count == 0 || in->failed_count > n - in->failed_index)
      return fail(out, bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                                  "failed_count %zu is not 1 .. %zu", in->failed_count,
                                  n - in->failed_index));
    out->invoked_event_count = n;
    out->failed_invoke_event_count = in->failed_count;
    if (in->failed_index == 0) { /* no progress: a failed attempt, never a split (§3.5) */
      count_or_discard(p, in, 1, out);
      return 0;
    }
    /* progress: commit the prefix; the remainder is a new batch (§3.5, §4 with RBIF) */
    out->kind = BP_ACTION_COMMIT_PREFIX;
    out->commit_count = in->failed_index;
    out->attempts = 0;
    out->invocations = 0;
    failed_attempt(p, in, out);
    return 0;

  default:
    return fail(out, bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                                "unknown outcome %ld", (long)in->outcome));
  }
}

/* Shared by both age functions: validates everything before answering. */
static int expired_prefix(const int64_t *arrival_ms, size_t n, int64_t now_ms,
                          int32_t max_age_s, size_t *expired, char *errbuf, size_t errlen) {
  if (!arrival_ms && n > 0)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT, "arrival_ms is NULL");
  if (arrival_ms && !bp__array_ok(arrival_ms, n, sizeof *arrival_ms))
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT, "n %zu is larger than any array", n);
  if (max_age_s < -1 || max_age_s > BP_RESOLVER_MAX_RECORD_AGE_IN_SECONDS)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                      "maximum record age %ld is not -1 .. %d", (long)max_age_s,
                      BP_RESOLVER_MAX_RECORD_AGE_IN_SECONDS);
  if (!time_ok(now_ms))
    return bp__errbuf(errbuf, errlen, BP_ERR_RANGE, "now_ms %lld is outside 0 .. %lld",
                      (long long)now_ms, (long long)BP_TIME_MAX_MS);
  for (size_t i = 0; i < n; i++)
    if (!time_ok(arrival_ms[i]))
      return bp__errbuf(errbuf, errlen, BP_ERR_RANGE,
                        "arrival_ms[%zu] %lld is outside 0 .. %lld", i,
                        (long long)arrival_ms[i], (long long)BP_TIME_MAX_MS);
  size_t k = 0;
  if (max_age_s >= 0) {
    /* Both times are in 0 .. BP_TIME_MAX_MS, so the difference cannot overflow. */
    int64_t max_ms = (int64_t)max_age_s * 1000;
    while (k < n && now_ms - arrival_ms[k] > max_ms) k++;
  }
  *expired = k;
  return 0;
}

int bp_resolver_expired_prefix(const int64_t *arrival_ms, size_t n, int64_t now_ms,
                               int32_t max_record_age_in_seconds, size_t *expired) {
  if (!expired) return BP_ERR_INVALID_ARGUMENT;
  return expired_prefix(arrival_ms, n, now_ms, max_record_age_in_seconds, expired, NULL, 0);
}

int bp_resolver_decide(const bp_resolver_policy *pp, const bp_resolver_input *inp,
                       bp_resolver_action *outp, char *errbuf, size_t errlen) {
  bp_resolver_policy p;
  bp_resolver_input in;
  bp_resolver_action a;
  memset(&a, 0, sizeof a);
  int rc = args_read(pp, inp, outp, &p, &in, errbuf, errlen);
  if (!rc) rc = decide(&p, &in, &a, errbuf, errlen);
  return action_out(outp, &a, rc);
}

static int age_check(const bp_resolver_policy *p, const bp_resolver_input *in,
                     const int64_t *arrival_ms, bp_resolver_action *out, char *errbuf,
                     size_t errlen) {
  int rc;
  if (!arrival_ms)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT, "arrival_ms is NULL");
  if (in->batch_size == 0)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT, "batch_size is 0");
  size_t k = 0;
  rc = expired_prefix(arrival_ms, in->batch_size, in->now_ms,
                      p->maximum_record_age_in_seconds, &k, errbuf, errlen);
  if (rc) return rc;
  out->not_before_ms = in->now_ms;
  if (k == 0) {
    out->kind = BP_ACTION_NONE;
    out->attempts = in->attempts;
    out->invocations = in->invocations;
    out->consecutive_failures = in->consecutive_failures;
    return 0;
  }
  int all = k == in->batch_size;
  out->kind = BP_ACTION_DISCARD;
  out->condition = BP_CONDITION_RECORD_AGE_EXCEEDED;
  out->batch_finished = all;
  out->discard_count = k;
  out->approximate_invoke_count = in->invocations ? in->invocations : 1;
  out->response_context_present = 0;
  out->function_error_null = 0;
  out->attempts = all ? 0 : in->attempts;
  out->invocations = all ? 0 : in->invocations;
  lane_reset(in, out);
  return 0;
}

int bp_resolver_age_check(const bp_resolver_policy *pp, const bp_resolver_input *inp,
                          const int64_t *arrival_ms, bp_resolver_action *outp, char *errbuf,
                          size_t errlen) {
  bp_resolver_policy p;
  bp_resolver_input in;
  bp_resolver_action a;
  memset(&a, 0, sizeof a);
  int rc = args_read(pp, inp, outp, &p, &in, errbuf, errlen);
  if (!rc) rc = age_check(&p, &in, arrival_ms, &a, errbuf, errlen);
  return action_out(outp, &a, rc);
}

int bp_resolver_apply(const bp_resolver_action *ap, bp_bisect *b) {
  bp_resolver_action act;
  if (!ap || !b ||
      bp__struct_in(&act, sizeof act, RESOLVER_ACTION_SIZE_V1, ap, "bp_resolver_action", NULL, 0))
    return BP_ERR_INVALID_ARGUMENT;
  const bp_resolver_action *a = &act;
  size_t count;
  int rc = bp_bisect_current(b, NULL, &count, NULL, NULL);
  if (rc) return rc;
  switch (a->kind) {
  case BP_ACTION_NONE:
  case BP_ACTION_RETRY:
    rc = bp_bisect_set_counters(b, a->attempts, a->invocations);
    return rc ? rc : BP_BISECT_MORE;
  case BP_ACTION_SPLIT:
    rc = bp_bisect_split(b);
    return rc ? rc : BP_BISECT_MORE;
  case BP_ACTION_COMMIT_ALL:
    if (a->commit_count != count) return BP_ERR_INVALID_ARGUMENT;
    return bp_bisect_resolve_current(b);
  case BP_ACTION_COMMIT_PREFIX:
    if (a->commit_count == 0 || a->commit_count >= count) return BP_ERR_INVALID_ARGUMENT;
    rc = bp_bisect_trim_front(b, a->commit_count);
    if (rc) return rc;
    rc = bp_bisect_set_counters(b, 0, 0);
    return rc ? rc : BP_BISECT_MORE;
  case BP_ACTION_DISCARD:
    if (a->discard_count == 0 || a->discard_count > count) return BP_ERR_INVALID_ARGUMENT;
    if (a->discard_count == count) return bp_bisect_resolve_current(b);
    rc = bp_bisect_trim_front(b, a->discard_count);
    if (rc) return rc;
    rc = bp_bisect_set_counters(b, a->attempts, a->invocations);
    return rc ? rc : BP_BISECT_MORE;
  default:
    return BP_ERR_INVALID_ARGUMENT;
  }
}
