/* SPDX-License-Identifier: MIT */
/*
 * bpsim_config.c: the config cases. A CreateEventSourceMapping body goes through
 * bp_config_parse_json() (which validates the whole request); what the library leaves to
 * the host -- which streams and functions exist, which mappings exist already -- is a small
 * registry here, filled from the case's environment and its setup calls. The answer is then
 * compared with `expect`: status, exception name and message, or the response's values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpsim.h"

typedef struct reg_mapping {
  const char *arn;
  char fn[160];
  char uuid[40];
} reg_mapping;

typedef struct registry {
  yajl_val streams, functions;
  reg_mapping maps[SIM_MAX_SETUP + 1];
  size_t n;
  uint64_t rng;
} registry;

typedef struct answer {
  int ok, status;
  char type[64];
  char message[1024];
  yajl_val response; /* built by the runner (jv_free) */
} answer;

static void uuid_next(uint64_t *s, char out[40]) {
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  uint64_t a = x * UINT64_C(0x2545F4914F6CDD1D);
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  uint64_t b = x * UINT64_C(0x2545F4914F6CDD1D);
  snprintf(out, 40, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
           (unsigned)a & 0xfff, (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
           (unsigned long long)(b & UINT64_C(0xffffffffffff)));
}

static int listed(yajl_val list, const char *s) {
  for (size_t i = 0; YAJL_IS_ARRAY(list) && i < list->u.array.len; i++) {
    const char *v = YAJL_GET_STRING(list->u.array.values[i]);
    if (v && !strcmp(v, s)) return 1;
  }
  return 0;
}

/* The function's bare name from a name, a partial ARN or a full ARN (qualifier dropped). */
static void bare_function(const char *fn, char *out, size_t cap) {
  const char *p = strstr(fn, "function:");
  p = p ? p + 9 : fn;
  size_t n = strcspn(p, ":");
  snprintf(out, cap, "%.*s", (int)n, p);
}

/* arn:<partition>:<service>:<region>:<account>:... field @p i (0-based) into @p out. */
static void arn_field(const char *arn, int i, char *out, size_t cap) {
  out[0] = '\0';
  for (int k = 0; arn && k < i; k++) {
    arn = strchr(arn, ':');
    if (arn) arn++;
  }
  if (arn) snprintf(out, cap, "%.*s", (int)strcspn(arn, ":"), arn);
}

static const char *position_name(int p) {
  switch (p) {
  case BP_POSITION_TRIM_HORIZON: return "TRIM_HORIZON";
  case BP_POSITION_LATEST: return "LATEST";
  case BP_POSITION_AT_TIMESTAMP: return "AT_TIMESTAMP";
  default: return NULL;
  }
}

/* The CreateEventSourceMapping response (SEMANTICS.md §2.2) from the parsed configuration. */
static yajl_val build_response(const bp_config *c, const char *uuid) {
  const char *arn = bp_config_get_event_source_arn(c);
  char region[64], account[32], fa[BP_CONFIG_FUNCTION_ARN_CAP], esm_arn[256];
  arn_field(arn, 3, region, sizeof region);
  arn_field(arn, 4, account, sizeof account);
  const char *fn = bp_config_get_function_name(c);
  size_t fa_len;
  if (bp_config_resolve_function_arn(c, NULL, fa, sizeof fa, &fa_len))
    snprintf(fa, sizeof fa, "%s", fn ? fn : "");
  snprintf(esm_arn, sizeof esm_arn, "arn:aws:lambda:%s:%s:event-source-mapping:%s", region, account, uuid);
  yajl_val r = jv_new_obj(), dc = jv_new_obj(), of = jv_new_obj(), frt = jv_new_arr();
  int bad = !r || !dc || !of || !frt;
  const char *dest = bp_config_get_on_failure_destination(c);
  if (dest) bad |= jv_put(of, "Destination", jv_new_str(dest, strlen(dest)));
  bad |= jv_put(dc, "OnFailure", of);
  if (bp_config_get_report_batch_item_failures(c))
    bad |= jv_push(frt, jv_new_str("ReportBatchItemFailures", 23));
  bad |= jv_put(r, "BatchSize", jv_new_int(bp_config_get_batch_size(c)));
  bad |= jv_put(r, "BisectBatchOnFunctionError", jv_new_bool(bp_config_get_bisect_batch_on_function_error(c)));
  bad |= jv_put(r, "DestinationConfig", dc);
  bad |= jv_put(r, "EventSourceArn", jv_new_str(arn ? arn : "", arn ? strlen(arn) : 0));
  bad |= jv_put(r, "EventSourceMappingArn", jv_new_str(esm_arn, strlen(esm_arn)));
  if (bp_config_get_filter_count(c)) {
    yajl_val fc = jv_new_obj(), list = jv_new_arr();
    bad |= !fc || !list;
    for (size_t i = 0; !bad && i < bp_config_get_filter_count(c); i++) {
      const char *text;
      size_t len;
      yajl_val one = jv_new_obj();
      bad |= bp_config_get_filter(c, i, &text, &len) != 0 || !one;
      if (!bad) bad |= jv_put(one, "Pattern", jv_new_str(text, len));
      bad |= jv_push(list, one);
    }
    bad |= jv_put(fc, "Filters", list);
    bad |= jv_put(r, "FilterCriteria", fc);
  }
  bad |= jv_put(r, "FunctionArn", jv_new_str(fa, strlen(fa)));
  bad |= jv_put(r, "FunctionResponseTypes", frt);
  bad |= jv_put(r, "LastModified", jv_new_raw_num("1764082800.000"));
  bad |= jv_put(r, "LastProcessingResult", jv_new_str("No records processed", 20));
  bad |= jv_put(r, "MaximumBatchingWindowInSeconds", jv_new_int(bp_config_get_maximum_batching_window_in_seconds(c)));
  bad |= jv_put(r, "MaximumRecordAgeInSeconds", jv_new_int(bp_config_get_maximum_record_age_in_seconds(c)));
  bad |= jv_put(r, "MaximumRetryAttempts", jv_new_int(bp_config_get_maximum_retry_attempts(c)));
  if (bp_config_get_metrics_event_count(c)) {
    yajl_val mc = jv_new_obj(), list = jv_new_arr();
    bad |= !mc || !list;
    bad |= jv_push(list, jv_new_str("EventCount", 10));
    bad |= jv_put(mc, "Metrics", list);
    bad |= jv_put(r, "MetricsConfig", mc);
  }
  bad |= jv_put(r, "ParallelizationFactor", jv_new_int(bp_config_get_parallelization_factor(c)));
  const char *pos = position_name(bp_config_get_starting_position(c));
  if (pos) bad |= jv_put(r, "StartingPosition", jv_new_str(pos, strlen(pos)));
  int64_t ts = bp_config_get_starting_position_timestamp_ms(c);
  if (bp_config_get_starting_position(c) == BP_POSITION_AT_TIMESTAMP && ts >= 0) {
    char tok[40];
    snprintf(tok, sizeof tok, "%lld.%03lld", (long long)(ts / 1000), (long long)(ts % 1000));
    bad |= jv_put(r, "StartingPositionTimestamp", jv_new_raw_num(tok));
  }
  bad |= jv_put(r, "State", jv_new_str("Creating", 8)); /* whatever Enabled says (§2.2) */
  bad |= jv_put(r, "StateTransitionReason", jv_new_str("User action", 11));
  bad |= jv_put(r, "TumblingWindowInSeconds", jv_new_int(bp_config_get_tumbling_window_in_seconds(c)));
  bad |= jv_put(r, "UUID", jv_new_str(uuid, strlen(uuid)));
  if (bad) {
    jv_free(r);
    return NULL;
  }
  return r;
}

static void set_error(answer *a, int status, const char *type, const char *msg) {
  a->ok = 0;
  a->status = status;
  snprintf(a->type, sizeof a->type, "%s", type);
  snprintf(a->message, sizeof a->message, "%s", msg);
}

/*
 * One CreateEventSourceMapping call against the registry. @return 0 answered in @p a;
 * -1 out of memory; 1 the library accepted a request without FunctionName, which the
 * registry cannot check (see create_problem()).
 */
static int create_mapping(registry *reg, yajl_val input, answer *a) {
  memset(a, 0, sizeof *a);
  size_t len;
  char *body = jv_text(input, &len);
  bp_config *c = NULL;
  if (!body || bp_config_new(&c, NULL)) {
    free(body);
    return -1;
  }
  int rc = bp_config_parse_json(c, body, len);
  free(body);
  if (rc == BP_ERR_NOMEM) {
    bp_config_del(c);
    return -1;
  }
  if (rc < 0) {
    const char *type = bp_config_error_type(c);
    set_error(a, bp_config_error_http_status(c), *type ? type : bp_err_name(rc), bp_config_errmsg(c));
    bp_config_del(c);
    return 0;
  }
  const char *arn = bp_config_get_event_source_arn(c);
  const char *fn = bp_config_get_function_name(c);
  if (!arn || !fn) {
    bp_config_del(c);
    return 1;
  }
  char name[160], msg[1024];
  bare_function(fn, name, sizeof name);
  if (reg->streams && !listed(reg->streams, arn)) {
    snprintf(msg, sizeof msg, "Stream not found: %s", arn);
    set_error(a, 400, "InvalidParameterValueException", msg);
  } else if (reg->functions && !listed(reg->functions, name) && !listed(reg->functions, fn)) {
    yajl_val resp = build_response(c, "");
    const char *fa = resp ? YAJL_GET_STRING(jv_get(resp, "FunctionArn")) : fn;
    snprintf(msg, sizeof msg, "Function not found: %s", fa);
    jv_free(resp);
    set_error(a, 404, "ResourceNotFoundException", msg);
  } else {
    for (size_t i = 0; i < reg->n; i++) {
      if (strcmp(reg->maps[i].arn, arn) || strcmp(reg->maps[i].fn, name)) continue;
      snprintf(msg, sizeof msg,
               "The event source arn (\" %s \") and function (\" %s \") provided mapping already "
               "exists. Please update or delete the existing mapping with UUID %s",
               arn, fn, reg->maps[i].uuid);
      set_error(a, 409, "ResourceConflictException", msg);
      break;
    }
  }
  if (a->status) {
    bp_config_del(c);
    return 0;
  }
  reg_mapping *m = &reg->maps[reg->n];
  uuid_next(&reg->rng, m->uuid);
  a->response = build_response(c, m->uuid);
  if (!a->response) {
    bp_config_del(c);
    return -1;
  }
  m->arn = YAJL_GET_STRING(jv_get(a->response, "EventSourceArn")); /* lives with the response */
  snprintf(m->fn, sizeof m->fn, "%s", name);
  reg->n++;
  a->ok = 1;
  a->status = 202;
  bp_config_del(c);
  return 0;
}

/* message_template: {setup[i].Key} from the setup calls' responses. */
static int expand(const char *t, yajl_val *setup_resp, size_t n_setup, char *out, size_t cap) {
  size_t o = 0;
  while (*t) {
    if (*t != '{') {
      if (o + 1 >= cap) return -1;
      out[o++] = *t++;
      continue;
    }
    size_t i;
    char key[128];
    int used = 0;
    if (sscanf(t, "{setup[%zu].%127[^}]}%n", &i, key, &used) != 2 || used == 0 || i >= n_setup ||
        !setup_resp[i])
      return -1;
    yajl_val v = jv_get(setup_resp[i], key);
    const char *s = YAJL_GET_STRING(v) ? v->u.string : YAJL_IS_NUMBER(v) ? v->u.number.r : NULL;
    if (!s || o + strlen(s) >= cap) return -1;
    memcpy(out + o, s, strlen(s));
    o += strlen(s);
    t += used;
  }
  out[o] = '\0';
  return 0;
}

static void compare(const sim_case *kase, yajl_val expect, answer *a, yajl_val *setup_resp,
                    size_t n_setup, sim_report *rep) {
  sim_match_ctx mc = {rep, 0, 0};
  sim_path p; /* the loader checked the fields' names and shapes */
  int want_ok = YAJL_IS_TRUE(jv_get(expect, "ok"));
  if (want_ok != a->ok) {
    if (a->ok) rep_fail(rep, "expect.ok: expected false, actual true (HTTP 202)");
    else rep_fail(rep, "expect.ok: expected true, actual false (HTTP %d %s: %s)", a->status, a->type, a->message);
    return;
  }
  yajl_val v;
  if ((v = jv_get(expect, "http_status"))) {
    path_set(&p, "expect.http_status");
    yajl_val got = jv_new_int(a->status);
    sim_match(&mc, v, got, &p);
    jv_free(got);
  }
  if (!want_ok) {
    if ((v = jv_get(expect, "error_type"))) {
      path_set(&p, "expect.error_type");
      yajl_val got = jv_new_str(a->type, strlen(a->type));
      sim_match(&mc, v, got, &p);
      jv_free(got);
    }
    const char *msg = YAJL_GET_STRING(jv_get(expect, "message"));
    if (msg && strcmp(msg, a->message))
      rep_fail(rep, "expect.message: expected \"%s\", actual \"%s\"", msg, a->message);
    const char *tmpl = YAJL_GET_STRING(jv_get(expect, "message_template"));
    if (tmpl) {
      char want[1024];
      if (expand(tmpl, setup_resp, n_setup, want, sizeof want))
        rep_fail(rep, "expect.message_template: cannot expand \"%s\"", tmpl);
      else if (strcmp(want, a->message))
        rep_fail(rep, "expect.message_template: expected \"%s\", actual \"%s\"", want, a->message);
    }
    const char *rx = YAJL_GET_STRING(jv_get(expect, "message_regex"));
    if (rx) {
      int m = sim_regex(rx, a->message);
      if (m != 1) rep_fail(rep, "expect.message_regex: \"%s\" %s", a->message, m < 0 ? "(bad regex)" : "does not match");
    }
    return;
  }
  yajl_val resp = a->response;
  const char *objs[] = {"defaults", "response_matchers"};
  for (int k = 0; k < 2; k++) {
    yajl_val d = jv_get(expect, objs[k]);
    for (size_t i = 0; YAJL_IS_OBJECT(d) && i < d->u.object.len; i++) {
      path_set(&p, "expect");
      path_key(&p, objs[k]);
      path_key(&p, d->u.object.keys[i]);
      sim_match(&mc, d->u.object.values[i], jv_get(resp, d->u.object.keys[i]), &p);
    }
  }
  yajl_val absent = jv_get(expect, "absent_keys");
  for (size_t i = 0; YAJL_IS_ARRAY(absent) && i < absent->u.array.len; i++) {
    const char *k = YAJL_GET_STRING(absent->u.array.values[i]);
    if (k && jv_get(resp, k)) rep_fail(rep, "expect.absent_keys[%zu]: %s is present", i, k);
  }
  yajl_val exact = jv_get(expect, "keys_exact");
  if (YAJL_IS_ARRAY(exact)) {
    for (size_t i = 0; i < exact->u.array.len; i++) {
      const char *k = YAJL_GET_STRING(exact->u.array.values[i]);
      if (k && !jv_get(resp, k)) rep_fail(rep, "expect.keys_exact[%zu]: %s is missing from the response", i, k);
    }
    for (size_t i = 0; i < resp->u.object.len; i++)
      if (!listed(exact, resp->u.object.keys[i]))
        rep_fail(rep, "expect.keys_exact: the response also has %s", resp->u.object.keys[i]);
  }
  (void)kase;
}

static const char *create_problem(int rc) {
  return rc < 0 ? "out of memory"
                : "the library accepted the request without FunctionName (AWS requires it); the "
                  "runner's function registry cannot check it";
}

void sim_config_case(const sim_file *f, const sim_case *kase, sim_report *rep) {
  registry reg;
  memset(&reg, 0, sizeof reg);
  yajl_val env = jv_get(kase->node, "environment");
  reg.streams = jv_get(env, "existing_streams");
  reg.functions = jv_get(env, "existing_functions");
  reg.rng = UINT64_C(0x636f6e66) ^ ((uint64_t)kase->index + 1) * UINT64_C(0x9E3779B97F4A7C15);
  (void)f;
  yajl_val setup = jv_get(kase->node, "setup");
  yajl_val setup_resp[SIM_MAX_SETUP] = {0};
  size_t n_setup = setup ? setup->u.array.len : 0;
  answer a;
  memset(&a, 0, sizeof a);
  for (size_t i = 0; i < n_setup && !rep->failed; i++) {
    yajl_val st = setup->u.array.values[i];
    const char *action = jv_get(st, "action")->u.string;
    if (strcmp(action, "CreateEventSourceMapping")) {
      rep->skipped = 1;
      snprintf(rep->skip, sizeof rep->skip, "setup[%zu]: action %s is not supported", i, action);
      goto out;
    }
    answer sa;
    int rc = create_mapping(&reg, jv_get(st, "input"), &sa);
    if (rc) {
      rep_fail(rep, "setup[%zu].input: %s", i, create_problem(rc));
      break;
    }
    setup_resp[i] = sa.response;
    yajl_val want = jv_get(jv_get(st, "expect"), "ok");
    if (want && YAJL_IS_TRUE(want) != sa.ok)
      rep_fail(rep, "setup[%zu].expect.ok: expected %s, actual %s (%d %s: %s)", i,
               YAJL_IS_TRUE(want) ? "true" : "false", sa.ok ? "true" : "false", sa.status, sa.type,
               sa.message);
  }
  if (rep->failed) goto out;
  int rc = create_mapping(&reg, jv_get(kase->node, "input"), &a);
  if (rc) {
    rep_fail(rep, "input: %s", create_problem(rc));
    goto out;
  }
  compare(kase, jv_get(kase->node, "expect"), &a, setup_resp, n_setup, rep);
out:
  jv_free(a.response);
  for (size_t i = 0; i < n_setup; i++) jv_free(setup_resp[i]);
}
