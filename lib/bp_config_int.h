/* SPDX-License-Identifier: MIT */
/*
 * Internals of the configuration object, shared by bp_config.c (core) and bp_config_json.c
 * (codec), which alone include it. Components layer: it must not pull in yajl or codec
 * headers.
 */
#ifndef BP_CONFIG_INT_H
#define BP_CONFIG_INT_H

#include "bp_int.h"
#include "batchpoint/bp_config.h"

/* Larger than bp__errmsg: AWS messages echo ARNs (a DynamoDB stream ARN can exceed 300). */
#define BP__CFG_MSG_LEN 1024

/* Exception names (bp_config_error_type). */
#define BP__CFG_INVALID_PARAM "InvalidParameterValueException"
#define BP__CFG_VALIDATION "ValidationException"

typedef struct bp__cfg_pattern {
  char *text; /* NUL-terminated, no embedded NUL (valid JSON cannot hold one raw) */
  size_t len;
} bp__cfg_pattern;

struct bp_config {
  bp_allocator alloc;
  /* last error; not part of the configuration (never copied, never rolled back) */
  char msg[BP__CFG_MSG_LEN];
  size_t msg_offset;    /* byte offset into a JSON text, SIZE_MAX when none */
  const char *err_type; /* static exception name, NULL when the last error was not AWS's */
  /* values */
  uint32_t batch_size;
  int window_s;
  int parallelization;
  int position;         /* BP_POSITION_* */
  int64_t timestamp_ms; /* BP_CONFIG_NO_TIMESTAMP when unset */
  int max_retry;
  int max_age_s;
  int bisect;
  int report_failures;
  int tumbling_s;
  int enabled;
  int metrics_event_count;
  int max_filters;
  int source;             /* BP_SOURCE_* derived from the ARN */
  char *arn;              /* NULL when unset; strings are NUL-terminated */
  char *function_name;
  char *destination;      /* NULL: no on-failure destination */
  bp__cfg_pattern *filters;
  size_t nfilters;
  size_t filters_cap;
};

/* ---- Errors: each returns @p code ---- */

/* Format an AWS rejection of exception @p type into c->msg; evaluates to @p code. */
#define BP__CFG_FAIL(c, code, type, ...)                                                        \
  ((c)->err_type = (type), bp__errbuf((c)->msg, sizeof (c)->msg, (code), __VA_ARGS__))

/* Bytes of a user value to echo with "%.*s": at most 512, cut at a UTF-8 boundary, so the
 * constraint text after it always fits in the message. */
int bp__cfg_echo_len(const char *s, size_t n);

void bp__cfg_clear_error(bp_config *c);
int bp__cfg_fail(bp_config *c, int code, const char *type, const char *text);
/* ValidationException for a JSON value of the wrong type at @p path ("batchSize"). */
int bp__cfg_type_error(bp_config *c, const char *path, const char *what);
/* Copy the error of @p from (a staging copy) into @p to. */
void bp__cfg_take_error(bp_config *to, const bp_config *from);

/* ---- Staging copies (atomic multi-field updates) ---- */

/* Deep-copy @p src's values into @p dst, which uses @p src's allocator. 0 or NOMEM. */
int bp__cfg_clone(bp_config *dst, const bp_config *src);
/* Free the values a staging copy owns. */
void bp__cfg_release(bp_config *c);
/* Move @p staged's values into @p c (freeing c's old ones); @p staged is left empty. */
void bp__cfg_commit(bp_config *c, bp_config *staged);

/* ---- Checks shared with the JSON parser, in SEMANTICS.md §2.3 order ---- */

/* Integer fields, in §2.1 table order. */
enum {
  BP__CFG_BATCH_SIZE,
  BP__CFG_WINDOW,
  BP__CFG_PARALLELIZATION,
  BP__CFG_MAX_RETRY,
  BP__CFG_MAX_AGE,
  BP__CFG_TUMBLING,
  BP__CFG_MAX_FILTERS,
  BP__CFG_NINT
};

/* Set integer field @p field to @p v after its range check. @p raw (may be NULL) is the
 * value's text, echoed in the message when @p v saturated (out of int64 range). */
int bp__cfg_set_int(bp_config *c, int field, int64_t v, const char *raw, size_t raw_len);

/* Strict JSON integer text. @return 0 ok, 1 out of int64 range (*v saturated), -1 syntax. */
int bp__cfg_parse_int(const char *s, size_t n, int64_t *v);
/* JSON number text of epoch seconds -> ms (sub-ms digits truncated).
 * @return 0 ok, -1 syntax, -2 outside 0..BP_TIME_MAX_MS. */
int bp__cfg_parse_seconds(const char *s, size_t n, int64_t *ms);

/* StartingPositionTimestamp from JSON-number text of epoch seconds (type or range error). */
int bp__cfg_set_timestamp_text(bp_config *c, const char *s, size_t n);

/* StartingPosition from its enum text (ValidationException when not in the enum). */
int bp__cfg_set_position_text(bp_config *c, const char *s, size_t n);

/* Whole-request checks on the merged configuration. */
int bp__cfg_check_arn_present(bp_config *c);
int bp__cfg_check_position(bp_config *c);
/** FunctionName is required (AWS model validation: ValidationException). */
int bp__cfg_check_function_present(bp_config *c);

/* Enumerated lists: FunctionResponseTypes, MetricsConfig.Metrics. */
enum { BP__CFG_LIST_RESPONSE_TYPES, BP__CFG_LIST_METRICS };
/* Check one item (not NUL-terminated). */
int bp__cfg_list_item(bp_config *c, int list, const char *s, size_t n);
/* After every item passed: check the count and set the field (count 0 = off). */
int bp__cfg_list_done(bp_config *c, int list, size_t count);

/* Filters: count, then each length, then each pattern's validity (§2.3 order). */
int bp__cfg_check_filter_count(bp_config *c, size_t n);
int bp__cfg_check_pattern_len(bp_config *c, size_t index, const char *s, size_t n);
int bp__cfg_check_pattern(bp_config *c, size_t index, const char *s, size_t n);
/* Append an already checked pattern. 0 or NOMEM (config unchanged). */
int bp__cfg_push_filter(bp_config *c, const char *s, size_t n);
void bp__cfg_drop_filters(bp_config *c);

/* Codec side (bp_config_json.c, or BP_ERR_UNSUPPORTED stubs in a core-only build):
 * the "FilterCriteria" string setter value, a {"Filters":[...]} JSON text. */
int bp__cfg_set_filter_criteria_json(bp_config *c, const char *json, size_t len);

#endif
