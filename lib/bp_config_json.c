/* SPDX-License-Identifier: MIT */
/*
 * CreateEventSourceMapping request bodies -> bp_config (codec layer: the JSON DOM).
 * Three stages, so that the first problem is the one AWS reports (SEMANTICS.md §2.3):
 * syntax (the DOM), decoding (unknown members, JSON types; AWS deserializes before it
 * validates), then the checks in §2.3 order applied to a staging copy that replaces the
 * configuration only when everything passed.
 */
#include <string.h>

#include "bp_config_int.h"
#include "bp_json_dom_int.h"
#include "batchpoint/bp_codec.h"

_Static_assert(BP_SOURCE_KINESIS == BP_SOURCE_KINESIS &&
                   BP_SOURCE_DYNAMODB == BP_SOURCE_DYNAMODB,
               "bp_config.h and bp_codec.h disagree on source kinds");

enum { T_STRING, T_INT, T_NUMBER, T_BOOL, T_OBJECT, T_ARRAY };

static const char *const type_names[] = {"a string", "an integer", "a number",
                                         "a boolean", "an object",  "a list"};

/* Top-level members this parser reads, with the path AWS's messages use. */
enum {
  M_ARN, M_FUNCTION, M_ENABLED, M_BATCH_SIZE, M_FILTER_CRITERIA, M_WINDOW, M_PARALLELIZATION,
  M_POSITION, M_TIMESTAMP, M_DESTINATION, M_MAX_AGE, M_BISECT, M_MAX_RETRY, M_TUMBLING,
  M_RESPONSE_TYPES, M_METRICS, M_COUNT
};

static const struct cj_member {
  const char *name;
  const char *path;
  int type;
} cj_members[M_COUNT] = {
    {"EventSourceArn", "eventSourceArn", T_STRING},
    {"FunctionName", "functionName", T_STRING},
    {"Enabled", "enabled", T_BOOL},
    {"BatchSize", "batchSize", T_INT},
    {"FilterCriteria", "filterCriteria", T_OBJECT},
    {"MaximumBatchingWindowInSeconds", "maximumBatchingWindowInSeconds", T_INT},
    {"ParallelizationFactor", "parallelizationFactor", T_INT},
    {"StartingPosition", "startingPosition", T_STRING},
    {"StartingPositionTimestamp", "startingPositionTimestamp", T_NUMBER},
    {"DestinationConfig", "destinationConfig", T_OBJECT},
    {"MaximumRecordAgeInSeconds", "maximumRecordAgeInSeconds", T_INT},
    {"BisectBatchOnFunctionError", "bisectBatchOnFunctionError", T_BOOL},
    {"MaximumRetryAttempts", "maximumRetryAttempts", T_INT},
    {"TumblingWindowInSeconds", "tumblingWindowInSeconds", T_INT},
    {"FunctionResponseTypes", "functionResponseTypes", T_ARRAY},
    {"MetricsConfig", "metricsConfig", T_OBJECT},
};

/* Members AWS accepts for other kinds of event source (SQS, MQ, Kafka, DocumentDB) or that
 * do not change stream semantics: accepted and ignored. */
static const char *const foreign_members[] = {
    "Tags", "Topics", "Queues", "SourceAccessConfigurations", "SelfManagedEventSource",
    "AmazonManagedKafkaEventSourceConfig", "SelfManagedKafkaEventSourceConfig",
    "ScalingConfig", "DocumentDBEventSourceConfig", "KMSKeyArn", "ProvisionedPollerConfig",
    NULL};

typedef struct request {
  const bp__jnode *m[M_COUNT]; /* NULL when absent or JSON null */
  int on_success;              /* DestinationConfig.OnSuccess given */
  int on_failure;              /* DestinationConfig.OnFailure given */
  const bp__jnode *destination; /* ... .OnFailure.Destination (NULL: none) */
  const bp__jnode *filters;     /* FilterCriteria.Filters (NULL: none) */
  const bp__jnode *metrics;     /* MetricsConfig.Metrics (NULL: none) */
} request;

/* ---- Decoding ---- */

static int key_is(const bp__jnode *n, const char *name) {
  size_t len = strlen(name);
  return n->key_len == len && memcmp(n->key, name, len) == 0;
}

/* Every member of @p obj must be in @p known (or, at top level, a foreign member). */
static int check_members(bp_config *c, const bp__jnode *obj, const char *const *known,
                         int top, const char *where) {
  for (const bp__jnode *m = obj->child; m; m = m->next) {
    int ok = 0;
    for (size_t i = 0; !ok && known[i]; i++) ok = key_is(m, known[i]);
    for (size_t i = 0; top && !ok && foreign_members[i]; i++) ok = key_is(m, foreign_members[i]);
    if (!ok)
      return BP__CFG_FAIL(c, BP_ERR_CONFIG_INVALID, BP__CFG_VALIDATION,
                          "Unknown parameter in %s: \"%.*s\"", where,
                          bp__cfg_echo_len(m->key, m->key_len), m->key);
  }
  return 0;
}

static int is_int_token(const bp__jnode *n) {
  return n->type == BP__J_NUMBER && !memchr(n->str, '.', n->len) &&
         !memchr(n->str, 'e', n->len) && !memchr(n->str, 'E', n->len);
}

static int has_type(const bp__jnode *n, int type) {
  switch (type) {
  case T_STRING: return n->type == BP__J_STRING;
  case T_INT: return is_int_token(n);
  case T_NUMBER: return n->type == BP__J_NUMBER;
  case T_BOOL: return n->type == BP__J_BOOL;
  case T_OBJECT: return n->type == BP__J_OBJECT;
  default: return n->type == BP__J_ARRAY;
  }
}

/* Member @p key of @p obj with type @p type; *out NULL when absent or null. */
static int get_typed(bp_config *c, const bp__jnode *obj, const char *key, int type,
                     const char *path, const bp__jnode **out) {
  const bp__jnode *n = bp__jobj_get(obj, key);
  *out = NULL;
  if (!n || n->type == BP__J_NULL) return 0;
  if (!has_type(n, type)) return bp__cfg_type_error(c, path, type_names[type]);
  *out = n;
  return 0;
}

/* Every element of @p arr has @p type (elements are never null in AWS's lists). */
static int check_elements(bp_config *c, const bp__jnode *arr, int type, const char *path) {
  size_t i = 1;
  for (const bp__jnode *e = arr->child; e; e = e->next, i++) {
    if (!has_type(e, type)) {
      char p[96];
      bp__errbuf(p, sizeof p, 0, "%s.%zu.member", path, i);
      return bp__cfg_type_error(c, p, type_names[type]);
    }
  }
  return 0;
}

static int decode_destination(bp_config *c, const bp__jnode *dc, request *r) {
  static const char *const known[] = {"OnFailure", "OnSuccess", NULL};
  static const char *const dest[] = {"Destination", NULL};
  const bp__jnode *on_failure = NULL, *on_success = NULL;
  int rc = check_members(c, dc, known, 0, "DestinationConfig");
  if (!rc) rc = get_typed(c, dc, "OnFailure", T_OBJECT, "destinationConfig.onFailure", &on_failure);
  if (!rc) rc = get_typed(c, dc, "OnSuccess", T_OBJECT, "destinationConfig.onSuccess", &on_success);
  if (!rc && on_failure) rc = check_members(c, on_failure, dest, 0, "DestinationConfig.OnFailure");
  if (!rc && on_failure)
    rc = get_typed(c, on_failure, "Destination", T_STRING,
                   "destinationConfig.onFailure.destination", &r->destination);
  r->on_failure = on_failure != NULL;
  r->on_success = on_success != NULL;
  return rc;
}

static int decode_criteria(bp_config *c, const bp__jnode *fc, request *r) {
  static const char *const known[] = {"Filters", NULL};
  static const char *const filter[] = {"Pattern", NULL};
  const bp__jnode *pattern;
  int rc = check_members(c, fc, known, 0, "FilterCriteria");
  if (!rc) rc = get_typed(c, fc, "Filters", T_ARRAY, "filterCriteria.filters", &r->filters);
  if (rc || !r->filters) return rc;
  if ((rc = check_elements(c, r->filters, T_OBJECT, "filterCriteria.filters"))) return rc;
  size_t i = 1;
  for (const bp__jnode *f = r->filters->child; f; f = f->next, i++) {
    char path[96];
    bp__errbuf(path, sizeof path, 0, "filterCriteria.filters.%zu.member.pattern", i);
    if ((rc = check_members(c, f, filter, 0, "FilterCriteria.Filters")) ||
        (rc = get_typed(c, f, "Pattern", T_STRING, path, &pattern)))
      return rc;
  }
  return 0;
}

static int decode(bp_config *c, const bp__jnode *root, request *r) {
  const char *known[M_COUNT + 1];
  for (int i = 0; i < M_COUNT; i++) known[i] = cj_members[i].name;
  known[M_COUNT] = NULL;
  memset(r, 0, sizeof *r);
  int rc = check_members(c, root, known, 1, "input");
  for (int i = 0; !rc && i < M_COUNT; i++)
    rc = get_typed(c, root, cj_members[i].name, cj_members[i].type, cj_members[i].path, &r->m[i]);
  if (!rc && r->m[M_RESPONSE_TYPES])
    rc = check_elements(c, r->m[M_RESPONSE_TYPES], T_STRING, "functionResponseTypes");
  if (!rc && r->m[M_DESTINATION]) rc = decode_destination(c, r->m[M_DESTINATION], r);
  if (!rc && r->m[M_FILTER_CRITERIA]) rc = decode_criteria(c, r->m[M_FILTER_CRITERIA], r);
  if (!rc && r->m[M_METRICS]) {
    static const char *const metrics[] = {"Metrics", NULL};
    rc = check_members(c, r->m[M_METRICS], metrics, 0, "MetricsConfig");
    if (!rc)
      rc = get_typed(c, r->m[M_METRICS], "Metrics", T_ARRAY, "metricsConfig.metrics",
                     &r->metrics);
    if (!rc && r->metrics) rc = check_elements(c, r->metrics, T_STRING, "metricsConfig.metrics");
  }
  return rc;
}

/* ---- Applying, in SEMANTICS.md §2.3 order, to a staging copy ---- */

static int apply_int(bp_config *t, const bp__jnode *n, int field) {
  if (!n) return 0;
  int64_t v;
  int over = bp__cfg_parse_int(n->str, n->len, &v); /* a JSON integer: 0 or 1 (saturated) */
  return bp__cfg_set_int(t, field, v, over ? n->str : NULL, n->len);
}

static int apply_list(bp_config *t, const bp__jnode *arr, int list) {
  int rc;
  for (const bp__jnode *e = arr->child; e; e = e->next)
    if ((rc = bp__cfg_list_item(t, list, e->str, e->len))) return rc;
  return bp__cfg_list_done(t, list, arr->count);
}

/* FilterCriteria replaces the filters: count, every length, every pattern, then commit. */
static int apply_filters(bp_config *t, const bp__jnode *filters) {
  size_t n = filters ? filters->count : 0, i;
  const bp__jnode *f, *p;
  int rc = bp__cfg_check_filter_count(t, n);
  for (f = filters ? filters->child : NULL, i = 0; !rc && f; f = f->next, i++)
    if ((p = bp__jobj_get(f, "Pattern")) && p->type == BP__J_STRING)
      rc = bp__cfg_check_pattern_len(t, i, p->str, p->len);
  for (f = filters ? filters->child : NULL, i = 0; !rc && f; f = f->next, i++) {
    p = bp__jobj_get(f, "Pattern"); /* absent or null: not a pattern either */
    rc = p && p->type == BP__J_STRING ? bp__cfg_check_pattern(t, i, p->str, p->len)
                                      : bp__cfg_check_pattern(t, i, "", 0);
  }
  if (rc) return rc;
  bp__cfg_drop_filters(t);
  for (f = filters ? filters->child : NULL; !rc && f; f = f->next) {
    p = bp__jobj_get(f, "Pattern");
    rc = bp__cfg_push_filter(t, p->str, p->len);
  }
  return rc;
}

static int apply(bp_config *t, const request *r) {
  const bp__jnode *const *m = r->m;
  int rc = 0;
  if (r->on_success)
    return bp__cfg_fail(t, BP_ERR_CONFIG_INVALID, BP__CFG_INVALID_PARAM,
                        "Unsupported DestinationConfig parameter for given event source "
                        "mapping type.");
  if (r->on_failure) /* {"OnFailure":{}} is how AWS shows "no destination" */
    rc = r->destination
             ? bp_config_set_on_failure_destination(t, r->destination->str, r->destination->len)
             : bp_config_set_on_failure_destination(t, "", 0);
  if (!rc && m[M_ARN]) rc = bp_config_set_event_source_arn(t, m[M_ARN]->str, m[M_ARN]->len);
  if (!rc) rc = bp__cfg_check_arn_present(t);
  if (!rc && m[M_FUNCTION])
    rc = bp_config_set_function_name(t, m[M_FUNCTION]->str, m[M_FUNCTION]->len);
  if (!rc) rc = bp__cfg_check_function_present(t);
  /* numeric ranges, §2.1 table order */
  if (!rc) rc = apply_int(t, m[M_BATCH_SIZE], BP__CFG_BATCH_SIZE);
  if (!rc) rc = apply_int(t, m[M_WINDOW], BP__CFG_WINDOW);
  if (!rc && m[M_TIMESTAMP])
    rc = bp__cfg_set_timestamp_text(t, m[M_TIMESTAMP]->str, m[M_TIMESTAMP]->len);
  if (!rc) rc = apply_int(t, m[M_PARALLELIZATION], BP__CFG_PARALLELIZATION);
  if (!rc) rc = apply_int(t, m[M_MAX_RETRY], BP__CFG_MAX_RETRY);
  if (!rc) rc = apply_int(t, m[M_MAX_AGE], BP__CFG_MAX_AGE);
  if (!rc) rc = apply_int(t, m[M_TUMBLING], BP__CFG_TUMBLING);
  if (rc) return rc;
  if (m[M_BISECT]) t->bisect = m[M_BISECT]->boolean != 0;
  if (m[M_ENABLED]) t->enabled = m[M_ENABLED]->boolean != 0;
  if (m[M_POSITION]) rc = bp__cfg_set_position_text(t, m[M_POSITION]->str, m[M_POSITION]->len);
  if (!rc) rc = bp__cfg_check_position(t);
  if (!rc && m[M_RESPONSE_TYPES])
    rc = apply_list(t, m[M_RESPONSE_TYPES], BP__CFG_LIST_RESPONSE_TYPES);
  if (!rc && m[M_FILTER_CRITERIA]) rc = apply_filters(t, r->filters);
  if (!rc && m[M_METRICS]) {
    if (r->metrics) rc = apply_list(t, r->metrics, BP__CFG_LIST_METRICS);
    else rc = bp__cfg_list_done(t, BP__CFG_LIST_METRICS, 0);
  }
  return rc;
}

/* ---- Entry points ---- */

typedef int (*stage_fn)(bp_config *c, const bp__jnode *root, request *r);

/* Parse @p json, decode it with @p decode_fn, apply to a staging copy, commit on success. */
static int cj_run(bp_config *c, const char *json, size_t len, stage_fn decode_fn,
                  const char *what) {
  bp__json_pool pool;
  bp__jdom dom;
  bp__errmsg err;
  request r;
  bp__json_pool_init(&pool, &c->alloc);
  bp__jdom_init(&dom, &c->alloc);
  int rc = bp__jdom_parse(&dom, &pool, json, len, &err);
  if (rc == BP_ERR_NOMEM) {
    rc = bp__cfg_fail(c, rc, NULL, "out of memory");
  } else if (rc) {
    BP__CFG_FAIL(c, rc, BP__CFG_VALIDATION, "Could not parse %s into json: %s", what, err.text);
    c->msg_offset = err.offset < len ? err.offset : len; /* yajl may count one past the end */
  } else if (dom.root->type != BP__J_OBJECT) {
    rc = BP__CFG_FAIL(c, BP_ERR_INVALID_JSON, BP__CFG_VALIDATION,
                      "Could not parse %s into json: not a JSON object", what);
    c->msg_offset = 0;
  } else if (!(rc = decode_fn(c, dom.root, &r))) {
    bp_config staged;
    staged.alloc = c->alloc;
    if ((rc = bp__cfg_clone(&staged, c))) {
      rc = bp__cfg_fail(c, rc, NULL, "out of memory");
    } else if ((rc = decode_fn == decode ? apply(&staged, &r)
                                         : apply_filters(&staged, r.filters))) {
      bp__cfg_take_error(c, &staged);
      bp__cfg_release(&staged);
    } else {
      bp__cfg_commit(c, &staged);
    }
  }
  bp__jdom_free(&dom);
  bp__json_pool_free(&pool);
  return rc;
}

int bp_config_parse_json(bp_config *c, const char *json, size_t len) {
  if (!c) return BP_ERR_INVALID_ARGUMENT;
  bp__cfg_clear_error(c);
  if (!json && len) return bp__cfg_fail(c, BP_ERR_INVALID_ARGUMENT, NULL, "NULL text, length > 0");
  if (json && !bp__span_ok(json, len))
    return BP__CFG_FAIL(c, BP_ERR_INVALID_ARGUMENT, NULL,
                        "text length %zu is larger than any object", len);
  return cj_run(c, json, len, decode, "request body");
}

static int decode_criteria_only(bp_config *c, const bp__jnode *root, request *r) {
  memset(r, 0, sizeof *r);
  return decode_criteria(c, root, r);
}

int bp__cfg_set_filter_criteria_json(bp_config *c, const char *json, size_t len) {
  return cj_run(c, json, len, decode_criteria_only, "FilterCriteria");
}
