/* SPDX-License-Identifier: MIT */
/*
 * bpsim_load.c: load the scenario file with yajl_tree and check every field the runner uses
 * (a malformed file is reported with the JSON path of the first bad value, never crashes):
 * scenarios with their mappings, function rules, actions and expectations, and config cases.
 * The records of the stream are bpsim_stream.c's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpsim.h"

/* ---- the loader ---- */

int ld_fail(sim_loader *l, const char *fmt, ...) {
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (l->line[0])
    snprintf(l->err, l->errlen, "%s: %s%s%s", l->line, l->path.buf, l->path.len ? ": " : "", msg);
  else
    snprintf(l->err, l->errlen, "%s: %s", l->path.len ? l->path.buf : "(top level)", msg);
  return -1;
}

/* Every member of @p obj is one of @p known (NULL-terminated): a misspelt or newer field
 * must not be ignored silently. */
int ld_known(sim_loader *l, yajl_val obj, const char *const *known, const char *what) {
  for (size_t i = 0; i < obj->u.object.len; i++) {
    const char *k = obj->u.object.keys[i];
    size_t j = 0;
    while (known[j] && strcmp(known[j], k)) j++;
    if (known[j]) continue;
    size_t old = path_key(&l->path, k);
    int rc = ld_fail(l, "unknown %s field (this runner is older than the file?)", what);
    path_pop(&l->path, old);
    return rc;
  }
  return 0;
}

static int cmp_keys(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* No object anywhere in @p v has a key twice (jv_get would see only the first). */
static int ld_unique_keys(sim_loader *l, yajl_val v) {
  if (YAJL_IS_ARRAY(v)) {
    for (size_t i = 0; i < v->u.array.len; i++) {
      size_t old = path_idx(&l->path, i);
      int rc = ld_unique_keys(l, v->u.array.values[i]);
      path_pop(&l->path, old);
      if (rc) return rc;
    }
    return 0;
  }
  if (!YAJL_IS_OBJECT(v) || v->u.object.len == 0) return 0;
  const char **keys = malloc(v->u.object.len * sizeof *keys);
  if (!keys) return ld_fail(l, "out of memory");
  memcpy((void *)keys, v->u.object.keys, v->u.object.len * sizeof *keys);
  qsort((void *)keys, v->u.object.len, sizeof *keys, cmp_keys);
  const char *dup = NULL;
  for (size_t i = 1; i < v->u.object.len && !dup; i++)
    if (!strcmp(keys[i - 1], keys[i])) dup = keys[i];
  free((void *)keys);
  if (dup) {
    size_t old = path_key(&l->path, dup);
    int rc = ld_fail(l, "duplicate key");
    path_pop(&l->path, old);
    return rc;
  }
  for (size_t i = 0; i < v->u.object.len; i++) {
    size_t old = path_key(&l->path, v->u.object.keys[i]);
    int rc = ld_unique_keys(l, v->u.object.values[i]);
    path_pop(&l->path, old);
    if (rc) return rc;
  }
  return 0;
}

static const char *type_name_of(yajl_type t) {
  switch (t) {
  case yajl_t_string: return "a string";
  case yajl_t_number: return "a number";
  case yajl_t_object: return "an object";
  case yajl_t_array: return "an array";
  case yajl_t_true:
  case yajl_t_false: return "a boolean";
  case yajl_t_null: return "null";
  default: return "?";
  }
}

const char *ld_type_name(yajl_val v) { return v ? type_name_of(v->type) : "missing"; }

/* Member getters that fail with the member's path. `need` 1: must be present. */
int ld_member(sim_loader *l, yajl_val obj, const char *key, yajl_type t, int need,
              yajl_val *out) {
  yajl_val v = jv_get(obj, key);
  *out = NULL;
  if (!v) {
    if (!need) return 0;
    size_t old = path_key(&l->path, key);
    int rc = ld_fail(l, "missing");
    path_pop(&l->path, old);
    return rc;
  }
  if (t != yajl_t_any && v->type != t &&
      !(t == yajl_t_true && (v->type == yajl_t_false || v->type == yajl_t_true))) {
    size_t old = path_key(&l->path, key);
    int rc = ld_fail(l, "%s expected, got %s", type_name_of(t), ld_type_name(v));
    path_pop(&l->path, old);
    return rc;
  }
  *out = v;
  return 0;
}

int ld_string(sim_loader *l, yajl_val obj, const char *key, int need, const char **out) {
  yajl_val v;
  *out = NULL;
  if (ld_member(l, obj, key, yajl_t_string, need, &v)) return -1;
  if (v) *out = v->u.string;
  return 0;
}

int ld_int(sim_loader *l, yajl_val obj, const char *key, int need, int64_t lo, int64_t hi,
           int64_t *out, int *present) {
  yajl_val v;
  if (present) *present = 0;
  if (ld_member(l, obj, key, yajl_t_number, need, &v)) return -1;
  if (!v) return 0;
  size_t old = path_key(&l->path, key);
  int rc = 0;
  if (!YAJL_IS_INTEGER(v) || strpbrk(v->u.number.r, ".eE"))
    rc = ld_fail(l, "an integer expected, got %s", v->u.number.r);
  else if (v->u.number.i < lo || v->u.number.i > hi)
    rc = ld_fail(l, "%lld is out of range %lld..%lld", (long long)v->u.number.i, (long long)lo,
                 (long long)hi);
  path_pop(&l->path, old);
  if (rc) return rc;
  *out = v->u.number.i;
  if (present) *present = 1;
  return 0;
}

static int is_seq(const char *s) { return bp_seqnum_validate(s, strlen(s)) == 0; }

/* A value that must be a sequence number string (path already set by the caller). */
int ld_seq_val(sim_loader *l, yajl_val v) {
  if (!YAJL_IS_STRING(v))
    return ld_fail(l, "a sequence number string expected, got %s", ld_type_name(v));
  if (!is_seq(v->u.string)) return ld_fail(l, "not a decimal string");
  return 0;
}

/* A sequence number an expectation or a rule names: a typo there must not pass as "never
 * delivered" or as a rule that never fires. */
static int ld_seq_ref(sim_loader *l, yajl_val v) {
  if (ld_seq_val(l, v)) return -1;
  if (!sim_find_record(l->scn, v->u.string, strlen(v->u.string)))
    return ld_fail(l, "no record of the stream has this sequence number");
  return 0;
}

static int ld_seq_list(sim_loader *l, yajl_val arr) {
  if (!YAJL_IS_ARRAY(arr)) return ld_fail(l, "an array expected, got %s", ld_type_name(arr));
  for (size_t i = 0; i < arr->u.array.len; i++) {
    size_t old = path_idx(&l->path, i);
    int rc = ld_seq_ref(l, arr->u.array.values[i]);
    path_pop(&l->path, old);
    if (rc) return rc;
  }
  return 0;
}

static int ld_seq_lists(sim_loader *l, yajl_val arr) {
  if (!YAJL_IS_ARRAY(arr)) return ld_fail(l, "an array expected, got %s", ld_type_name(arr));
  for (size_t i = 0; i < arr->u.array.len; i++) {
    size_t old = path_idx(&l->path, i);
    int rc = ld_seq_list(l, arr->u.array.values[i]);
    path_pop(&l->path, old);
    if (rc) return rc;
  }
  return 0;
}

static int ld_matchers(sim_loader *l, yajl_val v) {
  const char *why = sim_matcher_check(v, &l->path);
  return why ? ld_fail(l, "%s", why) : 0;
}

static int ld_num_or_matcher(sim_loader *l, yajl_val v) {
  if (YAJL_IS_NUMBER(v)) return 0;
  if (jv_is_matcher(v)) return ld_matchers(l, v);
  return ld_fail(l, "a number or a matcher expected, got %s", ld_type_name(v));
}

static int ld_seq_or_null(sim_loader *l, yajl_val v) {
  if (YAJL_IS_NULL(v)) return 0;
  return ld_seq_ref(l, v);
}

static int ld_side(sim_loader *l, yajl_val side) {
  static const char *const known[] = {"invocation", "at", "time_ms", NULL};
  if (!YAJL_IS_OBJECT(side)) return ld_fail(l, "an object expected, got %s", ld_type_name(side));
  if (ld_known(l, side, known, "timing side")) return -1;
  yajl_val inv = jv_get(side, "invocation"), t = jv_get(side, "time_ms");
  if (t) {
    int64_t x;
    return ld_int(l, side, "time_ms", 1, INT64_MIN / 4, INT64_MAX / 4, &x, NULL);
  }
  if (!inv) return ld_fail(l, "needs 'invocation' or 'time_ms'");
  if (!(YAJL_IS_STRING(inv) && strcmp(inv->u.string, "each") == 0)) {
    int64_t k;
    if (ld_int(l, side, "invocation", 1, 1, INT64_MAX, &k, NULL)) return -1;
  }
  const char *at;
  if (ld_string(l, side, "at", 1, &at)) return -1;
  if (strcmp(at, "start") && strcmp(at, "end")) {
    size_t old = path_key(&l->path, "at");
    int rc = ld_fail(l, "'start' or 'end' expected, got \"%s\"", at);
    path_pop(&l->path, old);
    return rc;
  }
  return 0;
}

/* Member @p key of @p obj, when present, is one of the strings @p values (NULL-terminated). */
static int ld_one_of(sim_loader *l, yajl_val obj, const char *key, const char *const *values,
                     const char *expected) {
  const char *v;
  if (ld_string(l, obj, key, 0, &v)) return -1;
  for (int i = 0; v && values[i]; i++)
    if (!strcmp(v, values[i])) return 0;
  if (!v) return 0;
  size_t old = path_key(&l->path, key);
  int rc = ld_fail(l, "%s expected, got \"%s\"", expected, v);
  path_pop(&l->path, old);
  return rc;
}

/* Member @p key of @p e, when present, is a matcher or else what @p check accepts. */
static int ld_matcher_or(sim_loader *l, yajl_val e, const char *key,
                         int (*check)(sim_loader *, yajl_val)) {
  yajl_val v = jv_get(e, key);
  if (!v) return 0;
  size_t old = path_key(&l->path, key);
  int rc = jv_is_matcher(v) ? ld_matchers(l, v) : check(l, v);
  path_pop(&l->path, old);
  return rc;
}

static int ld_plain_string(sim_loader *l, yajl_val v) {
  return YAJL_IS_STRING(v) ? 0 : ld_fail(l, "a string or a matcher expected, got %s", ld_type_name(v));
}

static int ld_plain_number(sim_loader *l, yajl_val v) {
  return YAJL_IS_NUMBER(v) ? 0 : ld_fail(l, "a number or a matcher expected, got %s", ld_type_name(v));
}

static int ld_string_or_null(sim_loader *l, yajl_val v) {
  return YAJL_IS_STRING(v) || YAJL_IS_NULL(v)
             ? 0
             : ld_fail(l, "a string, null or a matcher expected, got %s", ld_type_name(v));
}

/* One entry of `on_failure`: the full record and/or its flat summary (format: expect_fields). */
static int ld_failure_entry(sim_loader *l, yajl_val e) {
  static const char *const known[] = {
      "destination", "delivery", "record", "condition", "approximateInvokeCount", "functionError",
      "responseContext", "batchSize", "startSequenceNumber", "endSequenceNumber", "timestamp_ms",
      "s3_key_template", "s3_key_regex", NULL};
  static const char *const deliveries[] = {"sqs", "sns", "s3", NULL};
  static const char *const presence[] = {"present", "absent", NULL};
  const char *dest, *tmpl, *rx;
  if (ld_known(l, e, known, "on_failure") || ld_string(l, e, "destination", 0, &dest) ||
      ld_one_of(l, e, "delivery", deliveries, "'sqs', 'sns' or 's3'") ||
      ld_one_of(l, e, "responseContext", presence, "'present' or 'absent'") ||
      ld_string(l, e, "s3_key_template", 0, &tmpl) || ld_string(l, e, "s3_key_regex", 0, &rx) ||
      ld_matcher_or(l, e, "condition", ld_plain_string) ||
      ld_matcher_or(l, e, "functionError", ld_string_or_null) ||
      ld_matcher_or(l, e, "startSequenceNumber", ld_seq_ref) ||
      ld_matcher_or(l, e, "endSequenceNumber", ld_seq_ref) ||
      ld_matcher_or(l, e, "approximateInvokeCount", ld_plain_number) ||
      ld_matcher_or(l, e, "batchSize", ld_plain_number) ||
      ld_matcher_or(l, e, "timestamp_ms", ld_plain_number) ||
      ld_matcher_or(l, e, "record", ld_matchers))
    return -1;
  if (rx && sim_regex(rx, "") < 0) {
    size_t old = path_key(&l->path, "s3_key_regex");
    int rc = ld_fail(l, "not a valid regular expression");
    path_pop(&l->path, old);
    return rc;
  }
  return 0;
}

/* An expected checkpoint: a sequence number or null, or {shard id: that} per shard. */
static int ld_checkpoint(sim_loader *l, yajl_val v) {
  if (!YAJL_IS_OBJECT(v)) return ld_seq_or_null(l, v);
  for (size_t i = 0; i < v->u.object.len; i++) {
    size_t old = path_key(&l->path, v->u.object.keys[i]), k = 0;
    while (k < l->scn->n_shards && strcmp(l->scn->shards[k].id, v->u.object.keys[i])) k++;
    int rc = k == l->scn->n_shards ? ld_fail(l, "no such shard in the stream")
                                   : ld_seq_or_null(l, v->u.object.values[i]);
    path_pop(&l->path, old);
    if (rc) return rc;
  }
  return 0;
}

/* One `expect` field: known name, right shape (values that may hold matchers are checked). */
static int ld_expect_field(sim_loader *l, const char *key, yajl_val v) {
  if (!strcmp(key, "invocations") || !strcmp(key, "inf_expected_invocations"))
    return ld_seq_lists(l, v);
  if (!strcmp(key, "every_invocation") || !strcmp(key, "delivered_in_order") ||
      !strcmp(key, "not_delivered"))
    return ld_seq_list(l, v);
  if (!strcmp(key, "ignore_empty_invocations") || !strcmp(key, "per_key_serial"))
    return YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v) ? 0 : ld_fail(l, "a boolean expected");
  if (!strcmp(key, "invocation_count") || !strcmp(key, "throttled_attempts") ||
      !strcmp(key, "max_in_flight") || !strcmp(key, "max_event_bytes"))
    return ld_num_or_matcher(l, v);
  if (!strcmp(key, "last_processing_result"))
    return YAJL_IS_STRING(v) || jv_is_matcher(v) ? ld_matchers(l, v) : ld_fail(l, "a string expected");
  if (!strcmp(key, "final_checkpoint")) return ld_checkpoint(l, v);
  if (!strcmp(key, "delivery_counts") || !strcmp(key, "per_key_order") ||
      !strcmp(key, "metrics")) {
    if (!YAJL_IS_OBJECT(v)) return ld_fail(l, "an object expected, got %s", ld_type_name(v));
    for (size_t i = 0; i < v->u.object.len; i++) {
      size_t old = path_key(&l->path, v->u.object.keys[i]);
      yajl_val x = v->u.object.values[i];
      int rc = 0;
      if (!strcmp(key, "delivery_counts")) {
        const char *seq = v->u.object.keys[i];
        if (!is_seq(seq)) rc = ld_fail(l, "key is not a decimal string");
        else if (!sim_find_record(l->scn, seq, strlen(seq)))
          rc = ld_fail(l, "no record of the stream has this sequence number");
        else rc = ld_num_or_matcher(l, x);
      }
      else if (!strcmp(key, "per_key_order"))
        rc = ld_seq_list(l, x);
      else
        rc = ld_num_or_matcher(l, x);
      path_pop(&l->path, old);
      if (rc) return rc;
    }
    return 0;
  }
  if (!strcmp(key, "checkpoint_at") || !strcmp(key, "events") || !strcmp(key, "timing") ||
      !strcmp(key, "on_failure")) {
    if (!YAJL_IS_ARRAY(v)) return ld_fail(l, "an array expected, got %s", ld_type_name(v));
    for (size_t i = 0; i < v->u.array.len; i++) {
      size_t old = path_idx(&l->path, i);
      yajl_val e = v->u.array.values[i];
      int rc = 0;
      int64_t x;
      if (!YAJL_IS_OBJECT(e)) {
        rc = ld_fail(l, "an object expected, got %s", ld_type_name(e));
      } else if (!strcmp(key, "checkpoint_at")) {
        static const char *const known[] = {"at_ms", "checkpoint", NULL};
        yajl_val c = jv_get(e, "checkpoint");
        rc = ld_known(l, e, known, "checkpoint_at");
        if (!rc) rc = ld_int(l, e, "at_ms", 1, 0, BP_TIME_MAX_MS, &x, NULL);
        if (!rc && !c) rc = ld_fail(l, "'checkpoint' missing");
        if (!rc) {
          size_t o2 = path_key(&l->path, "checkpoint");
          rc = ld_checkpoint(l, c);
          path_pop(&l->path, o2);
        }
      } else if (!strcmp(key, "events")) {
        static const char *const known[] = {"invocation", "equals", "path", "match", NULL};
        rc = ld_known(l, e, known, "events");
        if (!rc) rc = ld_int(l, e, "invocation", 1, 1, INT64_MAX, &x, NULL);
        yajl_val eq = jv_get(e, "equals"), match = jv_get(e, "match");
        const char *p;
        if (!rc && !eq == !match)
          rc = ld_fail(l, "needs 'equals' or 'path' + 'match' (one of them)");
        if (!rc) rc = ld_string(l, e, "path", match != NULL, &p);
        if (!rc && eq && p) rc = ld_fail(l, "'path' goes with 'match', not with 'equals'");
        if (!rc) {
          size_t o2 = path_key(&l->path, eq ? "equals" : "match");
          rc = ld_matchers(l, eq ? eq : match);
          path_pop(&l->path, o2);
        }
      } else if (!strcmp(key, "timing")) {
        static const char *const known[] = {"left", "op", "right", "offset_ms", NULL};
        const char *op;
        rc = ld_known(l, e, known, "timing");
        if (!rc) rc = ld_string(l, e, "op", 1, &op);
        if (!rc && strcmp(op, ">=") && strcmp(op, "<=")) rc = ld_fail(l, "op must be '>=' or '<='");
        if (!rc) rc = ld_int(l, e, "offset_ms", 0, INT64_MIN / 4, INT64_MAX / 4, &x, NULL);
        for (int s = 0; !rc && s < 2; s++) {
          yajl_val side;
          rc = ld_member(l, e, s ? "right" : "left", yajl_t_object, 1, &side);
          if (!rc) {
            size_t o2 = path_key(&l->path, s ? "right" : "left");
            rc = ld_side(l, side);
            path_pop(&l->path, o2);
          }
        }
      } else {
        rc = ld_failure_entry(l, e);
      }
      path_pop(&l->path, old);
      if (rc) return rc;
    }
    return 0;
  }
  return ld_fail(l, "unknown expectation field (this runner is older than the file?)");
}

static int ld_expect(sim_loader *l, yajl_val expect) {
  for (size_t i = 0; i < expect->u.object.len; i++) {
    size_t old = path_key(&l->path, expect->u.object.keys[i]);
    int rc = ld_expect_field(l, expect->u.object.keys[i], expect->u.object.values[i]);
    path_pop(&l->path, old);
    if (rc) return rc;
  }
  return 0;
}

static int ld_rule(sim_loader *l, yajl_val r, sim_rule *out) {
  memset(out, 0, sizeof *out);
  out->final_cond = -1;
  if (!YAJL_IS_OBJECT(r)) return ld_fail(l, "an object expected, got %s", ld_type_name(r));
  for (size_t i = 0; i < r->u.object.len; i++) {
    const char *k = r->u.object.keys[i];
    yajl_val v = r->u.object.values[i];
    size_t old = path_key(&l->path, k);
    int rc = 0;
    if (!strcmp(k, "when_batch_contains_seq")) {
      out->has_contains = 1;
      if (YAJL_IS_STRING(v)) {
        rc = ld_seq_ref(l, v);
        out->contains = malloc(sizeof *out->contains);
        if (!out->contains) rc = ld_fail(l, "out of memory");
        else {
          out->contains[0] = v->u.string;
          out->n_contains = 1;
        }
      } else {
        rc = ld_seq_list(l, v);
        if (!rc && v->u.array.len) {
          out->contains = malloc(v->u.array.len * sizeof *out->contains);
          if (!out->contains) rc = ld_fail(l, "out of memory");
          for (size_t j = 0; !rc && j < v->u.array.len; j++)
            out->contains[out->n_contains++] = v->u.array.values[j]->u.string;
        }
      }
    } else if (!strcmp(k, "when_invocation") || !strcmp(k, "when_now_lt_ms") ||
               !strcmp(k, "when_now_ge_ms")) {
      path_pop(&l->path, old);
      int64_t x;
      rc = ld_int(l, r, k, 1, strcmp(k, "when_invocation") ? 0 : 1, BP_TIME_MAX_MS + 1, &x, NULL);
      old = path_key(&l->path, k);
      if (!strcmp(k, "when_invocation")) {
        out->has_invocation = 1;
        out->invocation = x;
      } else if (!strcmp(k, "when_now_lt_ms")) {
        out->has_lt = 1;
        out->now_lt = x;
      } else {
        out->has_ge = 1;
        out->now_ge = x;
      }
    } else if (!strcmp(k, "when_is_final_invoke_for_window")) {
      if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v)) rc = ld_fail(l, "a boolean expected");
      out->final_cond = YAJL_IS_TRUE(v);
    } else if (!strcmp(k, "when_window_start")) {
      int32_t sub;
      if (!YAJL_IS_STRING(v) || sim_rfc3339(v->u.string, &out->window_start_ms, &sub))
        rc = ld_fail(l, "an RFC 3339 instant expected");
      out->has_window_start = 1;
    } else if (!strcmp(k, "respond")) {
      if (!YAJL_IS_OBJECT(v)) {
        rc = ld_fail(l, "an object expected, got %s", ld_type_name(v));
      } else {
        const char *body = NULL, *error = NULL;
        yajl_val thr = NULL;
        int64_t sleep = 0;
        rc = ld_string(l, v, "body", 0, &body);
        if (!rc) rc = ld_string(l, v, "error", 0, &error);
        if (!rc) rc = ld_member(l, v, "throttle", yajl_t_true, 0, &thr);
        if (!rc) rc = ld_int(l, v, "sleep_ms", 0, 0, 86400000LL * 365, &sleep, NULL);
        for (size_t j = 0; !rc && j < v->u.object.len; j++) {
          const char *rk = v->u.object.keys[j];
          if (strcmp(rk, "body") && strcmp(rk, "error") && strcmp(rk, "throttle") &&
              strcmp(rk, "sleep_ms")) {
            size_t o2 = path_key(&l->path, rk);
            rc = ld_fail(l, "unknown response field");
            path_pop(&l->path, o2);
          }
        }
        if (!rc && error && strlen(error) > 64) rc = ld_fail(l, "error: longer than 64 bytes");
        out->body = body;
        out->body_len = body ? strlen(body) : 0;
        out->error = error;
        out->sleep_ms = sleep;
        out->kind = YAJL_IS_TRUE(thr) ? SIM_RESPOND_THROTTLE
                    : error          ? SIM_RESPOND_ERROR
                                     : SIM_RESPOND_BODY;
      }
    } else {
      rc = ld_fail(l, "unknown rule field");
    }
    path_pop(&l->path, old);
    if (rc) return rc;
  }
  if (!jv_get(r, "respond")) return ld_fail(l, "'respond' missing");
  return 0;
}

static int ld_mapping(sim_loader *l, yajl_val config, yajl_val function, yajl_val expect,
                      sim_mapping *m) {
  static const char *const known[] = {"rules", NULL};
  size_t old = path_key(&l->path, "function");
  yajl_val rules;
  int rc = YAJL_IS_OBJECT(function) ? ld_known(l, function, known, "function")
                                    : ld_fail(l, "an object expected, got %s", ld_type_name(function));
  if (!rc) rc = ld_member(l, function, "rules", yajl_t_array, 1, &rules);
  if (!rc) {
    path_key(&l->path, "rules");
    if (rules->u.array.len == 0) rc = ld_fail(l, "no rule");
    m->rules = calloc(rules->u.array.len ? rules->u.array.len : 1, sizeof *m->rules);
    if (!m->rules) rc = ld_fail(l, "out of memory");
    for (size_t i = 0; !rc && i < rules->u.array.len; i++) {
      size_t o2 = path_idx(&l->path, i);
      rc = ld_rule(l, rules->u.array.values[i], &m->rules[i]);
      m->n_rules = i + 1;
      path_pop(&l->path, o2);
    }
  }
  path_pop(&l->path, old);
  if (rc) return rc;
  m->config = config;
  m->expect = expect;
  old = path_key(&l->path, "expect");
  rc = ld_expect(l, expect);
  path_pop(&l->path, old);
  return rc;
}

static int ld_actions(sim_loader *l, sim_scenario *s, yajl_val actions) {
  static const char *const known[] = {"at_ms", "action", "input", "expect_response",
                                      "expect_state_eventually", NULL};
  s->actions = calloc(actions->u.array.len ? actions->u.array.len : 1, sizeof *s->actions);
  if (!s->actions) return ld_fail(l, "out of memory");
  for (size_t i = 0; i < actions->u.array.len; i++) {
    size_t old = path_idx(&l->path, i);
    yajl_val a = actions->u.array.values[i];
    sim_action *x = &s->actions[i];
    int rc = YAJL_IS_OBJECT(a) ? ld_known(l, a, known, "action")
                               : ld_fail(l, "an object expected, got %s", ld_type_name(a));
    yajl_val st = NULL;
    if (!rc) rc = ld_int(l, a, "at_ms", 1, 0, BP_TIME_MAX_MS, &x->at_ms, NULL);
    if (!rc) rc = ld_string(l, a, "action", 1, &x->action);
    if (!rc) rc = ld_member(l, a, "input", yajl_t_object, 1, &x->input);
    if (!rc) rc = ld_member(l, a, "expect_response", yajl_t_object, 0, &x->expect_response);
    if (!rc) rc = ld_member(l, a, "expect_state_eventually", yajl_t_any, 0, &st);
    x->expect_state = st;
    if (!rc && i && x->at_ms < s->actions[i - 1].at_ms) rc = ld_fail(l, "actions out of time order");
    s->n_actions = i + 1;
    path_pop(&l->path, old);
    if (rc) return rc;
  }
  return 0;
}

/* 8-4-4-4-12 lowercase hex digits, as AWS writes a mapping's UUID. */
static int is_uuid(const char *s) {
  if (strlen(s) != 36) return 0;
  for (int i = 0; i < 36; i++) {
    int dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (s[i] == '-') || (!dash && !strchr("0123456789abcdef", s[i]))) return 0;
  }
  return 1;
}

/* An `environment` object: constants the runner hands to the engine. */
static int ld_env(sim_loader *l, yajl_val env) {
  for (size_t i = 0; i < env->u.object.len; i++) {
    const char *k = env->u.object.keys[i];
    yajl_val v = env->u.object.values[i];
    size_t old = path_key(&l->path, k);
    int rc = 0;
    if (!YAJL_IS_STRING(v) && !YAJL_IS_NUMBER(v))
      rc = ld_fail(l, "a string or a number expected, got %s", ld_type_name(v));
    else if ((!strcmp(k, "region") || !strcmp(k, "role_arn") || !strcmp(k, "esm_uuid")) &&
             !YAJL_IS_STRING(v))
      rc = ld_fail(l, "a string expected, got %s", ld_type_name(v));
    else if (!strcmp(k, "esm_uuid") && !is_uuid(v->u.string))
      rc = ld_fail(l, "not a UUID (8-4-4-4-12 lowercase hex digits)");
    path_pop(&l->path, old);
    if (rc) return rc;
  }
  return 0;
}

static int ld_string_list(sim_loader *l, yajl_val arr) {
  for (size_t i = 0; i < arr->u.array.len; i++) {
    if (YAJL_IS_STRING(arr->u.array.values[i])) continue;
    size_t old = path_idx(&l->path, i);
    int rc = ld_fail(l, "a string expected, got %s", ld_type_name(arr->u.array.values[i]));
    path_pop(&l->path, old);
    return rc;
  }
  return 0;
}

static void free_trees(yajl_val *trees, size_t n) {
  for (size_t i = 0; i < n; i++) yajl_tree_free(trees[i]);
  free(trees);
}

static int ld_scenario(sim_loader *l, yajl_val node, sim_scenario *s) {
  static const char *const known[] = {
      "id", "number", "title", "derived", "source", "spec_refs", "notes", "source_kind", "config",
      "environment", "mappings", "stream", "stream_file", "start_ms", "run_until_ms", "actions",
      "function", "expect", "inf_dependencies", NULL};
  const char *kind, *file;
  yajl_val stream, actions, mappings;
  s->node = node;
  if (!YAJL_IS_OBJECT(node)) return ld_fail(l, "an object expected, got %s", ld_type_name(node));
  if (ld_known(l, node, known, "scenario") || ld_string(l, node, "id", 1, &s->id) ||
      ld_string(l, node, "source_kind", 1, &kind))
    return -1;
  if (strcmp(kind, "kinesis") && strcmp(kind, "dynamodb")) {
    size_t old = path_key(&l->path, "source_kind");
    int rc = ld_fail(l, "'kinesis' or 'dynamodb' expected, got \"%s\"", kind);
    path_pop(&l->path, old);
    return rc;
  }
  s->dynamodb = kind[0] == 'd';
  if (ld_member(l, node, "environment", yajl_t_object, 0, &s->env) ||
      ld_member(l, node, "inf_dependencies", yajl_t_array, 0, &s->inf_deps) ||
      ld_int(l, node, "start_ms", 1, 0, BP_TIME_MAX_MS, &s->start_ms, NULL) ||
      ld_int(l, node, "run_until_ms", 1, s->start_ms, BP_TIME_MAX_MS, &s->run_until_ms, NULL) ||
      ld_member(l, node, "stream", yajl_t_array, 0, &stream) ||
      ld_string(l, node, "stream_file", 0, &file) ||
      ld_member(l, node, "actions", yajl_t_array, 0, &actions) ||
      ld_member(l, node, "mappings", yajl_t_array, 0, &mappings))
    return -1;
  size_t old = path_key(&l->path, "environment");
  int rc = s->env ? ld_env(l, s->env) : 0;
  path_pop(&l->path, old);
  old = path_key(&l->path, "inf_dependencies");
  if (!rc && s->inf_deps) rc = ld_string_list(l, s->inf_deps);
  path_pop(&l->path, old);
  if (rc || (rc = ld_stream(l, s, stream, file))) return rc;
  l->scn = s;
  if (actions) {
    old = path_key(&l->path, "actions");
    rc = ld_actions(l, s, actions);
    path_pop(&l->path, old);
    if (rc) return rc;
  }
  if (mappings) {
    static const char *const mapping_fields[] = {"name", "config", "function", "expect", NULL};
    if (mappings->u.array.len == 0) {
      old = path_key(&l->path, "mappings");
      rc = ld_fail(l, "empty");
      path_pop(&l->path, old);
      return rc;
    }
    s->maps = calloc(mappings->u.array.len, sizeof *s->maps);
    if (!s->maps) return ld_fail(l, "out of memory");
    old = path_key(&l->path, "mappings");
    for (size_t i = 0; i < mappings->u.array.len && !rc; i++) {
      size_t o2 = path_idx(&l->path, i);
      yajl_val m = mappings->u.array.values[i], cfg, fn, ex;
      sim_mapping *sm = &s->maps[i];
      s->n_maps = i + 1;
      rc = YAJL_IS_OBJECT(m) ? ld_known(l, m, mapping_fields, "mapping")
                             : ld_fail(l, "an object expected, got %s", ld_type_name(m));
      if (!rc) rc = ld_string(l, m, "name", 0, &sm->name);
      if (!rc) rc = ld_member(l, m, "config", yajl_t_object, 1, &cfg);
      if (!rc) rc = ld_member(l, m, "function", yajl_t_any, 1, &fn);
      if (!rc) rc = ld_member(l, m, "expect", yajl_t_object, 1, &ex);
      snprintf(sm->path, sizeof sm->path, "mappings[%zu].expect", i);
      if (!rc) rc = ld_mapping(l, cfg, fn, ex, sm);
      path_pop(&l->path, o2);
    }
    path_pop(&l->path, old);
    return rc;
  }
  yajl_val cfg, fn, ex;
  s->maps = calloc(1, sizeof *s->maps);
  if (!s->maps) return ld_fail(l, "out of memory");
  s->n_maps = 1;
  snprintf(s->maps[0].path, sizeof s->maps[0].path, "expect");
  if (ld_member(l, node, "config", yajl_t_object, 1, &cfg) ||
      ld_member(l, node, "function", yajl_t_any, 1, &fn) ||
      ld_member(l, node, "expect", yajl_t_object, 1, &ex))
    return -1;
  return ld_mapping(l, cfg, fn, ex, &s->maps[0]);
}

/* A config case's `expect` (format: config_case_fields). */
static int ld_case_expect(sim_loader *l, yajl_val expect) {
  static const char *const known[] = {"ok", "http_status", "error_type", "message",
                                      "message_template", "message_regex", "defaults",
                                      "response_matchers", "absent_keys", "keys_exact", NULL};
  static const char *const strings[] = {"message", "message_template", "message_regex", NULL};
  static const char *const objects[] = {"defaults", "response_matchers", NULL};
  static const char *const lists[] = {"absent_keys", "keys_exact", NULL};
  yajl_val v;
  if (ld_known(l, expect, known, "config case expectation") ||
      ld_member(l, expect, "ok", yajl_t_true, 1, &v))
    return -1;
  for (int i = 0; strings[i]; i++) {
    const char *s;
    if (ld_string(l, expect, strings[i], 0, &s)) return -1;
    if (s && i == 2 && sim_regex(s, "") < 0) {
      size_t old = path_key(&l->path, strings[i]);
      int rc = ld_fail(l, "not a valid regular expression");
      path_pop(&l->path, old);
      return rc;
    }
  }
  for (int i = 0; objects[i]; i++)
    if (ld_member(l, expect, objects[i], yajl_t_object, 0, &v)) return -1;
  for (int i = 0; lists[i]; i++) {
    if (ld_member(l, expect, lists[i], yajl_t_array, 0, &v)) return -1;
    size_t old = path_key(&l->path, lists[i]);
    int rc = v ? ld_string_list(l, v) : 0;
    path_pop(&l->path, old);
    if (rc) return rc;
  }
  for (size_t i = 0; i < expect->u.object.len; i++) {
    size_t old = path_key(&l->path, expect->u.object.keys[i]);
    int rc = ld_matchers(l, expect->u.object.values[i]);
    path_pop(&l->path, old);
    if (rc) return rc;
  }
  return 0;
}

static int ld_case(sim_loader *l, yajl_val node, sim_case *c) {
  static const char *const known[] = {"id", "number", "title", "derived", "source", "spec_refs",
                                      "notes", "environment", "setup", "input", "expect", NULL};
  static const char *const env_fields[] = {"existing_streams", "existing_functions", NULL};
  static const char *const setup_fields[] = {"action", "input", "expect", NULL};
  yajl_val input, expect, env, setup;
  c->node = node;
  if (!YAJL_IS_OBJECT(node)) return ld_fail(l, "an object expected, got %s", ld_type_name(node));
  if (ld_known(l, node, known, "config case") || ld_string(l, node, "id", 1, &c->id) ||
      ld_member(l, node, "input", yajl_t_object, 1, &input) ||
      ld_member(l, node, "expect", yajl_t_object, 1, &expect) ||
      ld_member(l, node, "environment", yajl_t_object, 0, &env) ||
      ld_member(l, node, "setup", yajl_t_array, 0, &setup))
    return -1;
  size_t old = path_key(&l->path, "environment");
  int rc = env ? ld_known(l, env, env_fields, "config case environment") : 0;
  for (int i = 0; !rc && env && env_fields[i]; i++) {
    yajl_val list;
    rc = ld_member(l, env, env_fields[i], yajl_t_array, 0, &list);
    size_t o2 = path_key(&l->path, env_fields[i]);
    if (!rc && list) rc = ld_string_list(l, list);
    path_pop(&l->path, o2);
  }
  path_pop(&l->path, old);
  old = path_key(&l->path, "expect");
  if (!rc) rc = ld_case_expect(l, expect);
  path_pop(&l->path, old);
  old = path_key(&l->path, "setup");
  if (!rc && setup && setup->u.array.len > SIM_MAX_SETUP)
    rc = ld_fail(l, "more than %d calls", SIM_MAX_SETUP);
  for (size_t i = 0; !rc && setup && i < setup->u.array.len; i++) {
    size_t o2 = path_idx(&l->path, i);
    yajl_val st = setup->u.array.values[i], x;
    const char *action;
    rc = YAJL_IS_OBJECT(st) ? ld_known(l, st, setup_fields, "setup")
                            : ld_fail(l, "an object expected, got %s", ld_type_name(st));
    if (!rc) rc = ld_string(l, st, "action", 1, &action);
    if (!rc) rc = ld_member(l, st, "input", yajl_t_object, 1, &x);
    if (!rc) rc = ld_member(l, st, "expect", yajl_t_object, 0, &x);
    if (!rc && x) {
      static const char *const ok_only[] = {"ok", NULL};
      size_t o3 = path_key(&l->path, "expect");
      rc = ld_known(l, x, ok_only, "setup expectation");
      if (!rc) rc = ld_member(l, x, "ok", yajl_t_true, 0, &x);
      path_pop(&l->path, o3);
    }
    path_pop(&l->path, o2);
  }
  path_pop(&l->path, old);
  return rc;
}

int sim_file_load(sim_file *f, const char *path, char *err, size_t errlen) {
  static const char *const known[] = {"format", "environment", "scenarios", "config_cases", NULL};
  memset(f, 0, sizeof *f);
  size_t len;
  char *text = sim_read_file(path, &len, err, errlen);
  if (!text) return -1;
  f->root = sim_parse_text(text, len, 0, err, errlen);
  free(text);
  if (!f->root) return -1;
  sim_loader l;
  memset(&l, 0, sizeof l);
  l.err = err;
  l.errlen = errlen;
  const char *slash = strrchr(path, '/');
  size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
  if (dlen >= sizeof l.dir) return ld_fail(&l, "the file's directory name is too long");
  memcpy(l.dir, path, dlen);
  if (!YAJL_IS_OBJECT(f->root)) return ld_fail(&l, "an object expected, got %s", ld_type_name(f->root));
  yajl_val scenarios, cases;
  if (ld_unique_keys(&l, f->root) || ld_known(&l, f->root, known, "top-level") ||
      ld_member(&l, f->root, "environment", yajl_t_object, 0, &f->env) ||
      ld_member(&l, f->root, "scenarios", yajl_t_array, 0, &scenarios) ||
      ld_member(&l, f->root, "config_cases", yajl_t_array, 0, &cases))
    return -1;
  if (!(scenarios && scenarios->u.array.len) && !(cases && cases->u.array.len))
    return ld_fail(&l, "no scenario and no config case (nothing to run)");
  if (f->env) {
    path_set(&l.path, "environment");
    if (ld_env(&l, f->env)) return -1;
  }
  if (scenarios && scenarios->u.array.len) {
    f->scn = calloc(scenarios->u.array.len, sizeof *f->scn);
    if (!f->scn) return ld_fail(&l, "out of memory");
    for (size_t i = 0; i < scenarios->u.array.len; i++) {
      path_set(&l.path, "scenarios");
      path_idx(&l.path, i);
      f->n_scn = i + 1;
      f->scn[i].index = i;
      if (ld_scenario(&l, scenarios->u.array.values[i], &f->scn[i])) return -1;
    }
  }
  if (cases && cases->u.array.len) {
    f->cases = calloc(cases->u.array.len, sizeof *f->cases);
    if (!f->cases) return ld_fail(&l, "out of memory");
    for (size_t i = 0; i < cases->u.array.len; i++) {
      path_set(&l.path, "config_cases");
      path_idx(&l.path, i);
      f->n_cases = i + 1;
      f->cases[i].index = i;
      if (ld_case(&l, cases->u.array.values[i], &f->cases[i])) return -1;
    }
  }
  /* ids must be unique: --only selects by id */
  for (size_t i = 0; i < f->n_scn + f->n_cases; i++) {
    const char *a = i < f->n_scn ? f->scn[i].id : f->cases[i - f->n_scn].id;
    for (size_t j = 0; j < i; j++) {
      const char *b = j < f->n_scn ? f->scn[j].id : f->cases[j - f->n_scn].id;
      if (strcmp(a, b) == 0) {
        path_set(&l.path, i < f->n_scn ? "scenarios" : "config_cases");
        path_idx(&l.path, i < f->n_scn ? i : i - f->n_scn);
        path_key(&l.path, "id");
        return ld_fail(&l, "duplicate id \"%s\"", a);
      }
    }
  }
  return 0;
}

void sim_file_free(sim_file *f) {
  for (size_t i = 0; i < f->n_scn; i++) {
    sim_scenario *s = &f->scn[i];
    for (size_t k = 0; k < s->n_recs; k++) {
      free(s->recs[k].data);
      free(s->recs[k].ddb_json);
      free(s->recs[k].user_identity);
    }
    for (size_t k = 0; s->shards && k < s->n_shards; k++) {
      free(s->shards[k].recs);
      free(s->shards[k].views);
    }
    for (size_t k = 0; k < s->n_maps; k++) {
      for (size_t j = 0; j < s->maps[k].n_rules; j++) free((void *)s->maps[k].rules[j].contains);
      free(s->maps[k].rules);
    }
    free(s->recs);
    free(s->shards);
    free(s->actions);
    free(s->maps);
    free_trees(s->line_trees, s->n_line_trees);
  }
  free(f->scn);
  free(f->cases);
  yajl_tree_free(f->root);
  memset(f, 0, sizeof *f);
}

const char *sim_env(const sim_file *f, const sim_scenario *s, const char *key) {
  const char *v = s ? YAJL_GET_STRING(jv_get(s->env, key)) : NULL;
  return v ? v : YAJL_GET_STRING(jv_get(f->env, key));
}
