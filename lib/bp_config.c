/* SPDX-License-Identifier: MIT */
/*
 * The ESM configuration object (core): defaults, typed setters with AWS's limits and
 * messages (SEMANTICS.md §2.1, §2.3), getters, the string setter and whole-request checks.
 * Filter patterns are checked with a small allocation-free JSON recognizer; a full build
 * then compiles them (bp_filter.h) so the filter rules are checked too, as AWS does. The
 * JSON request parser lives in bp_config_json.c (codec).
 */
#include <inttypes.h>
#include <string.h>

#include "batchpoint/bp_time.h"
#include "bp_config_int.h"
#ifndef BP_CORE_ONLY
#include "batchpoint/bp_filter.h"
#endif

#define ECHO_MAX 512     /* bytes of a user value echoed in a message */
#define JSON_MAX_DEPTH 256 /* same nesting limit as the JSON DOM */

/* ---- Errors ---- */

void bp__cfg_clear_error(bp_config *c) {
  c->msg[0] = '\0';
  c->msg_offset = SIZE_MAX;
  c->err_type = NULL;
}

int bp__cfg_fail(bp_config *c, int code, const char *type, const char *text) {
  return BP__CFG_FAIL(c, code, type, "%s", text);
}

int bp__cfg_type_error(bp_config *c, const char *path, const char *what) {
  return BP__CFG_FAIL(c, BP_ERR_CONFIG_INVALID, BP__CFG_VALIDATION,
                      "1 validation error detected: Value at '%s' failed to satisfy "
                      "constraint: Member must be %s",
                      path, what);
}

/* The string setter's variant: the text is known, so it is echoed like AWS echoes values. */
static int text_type_error(bp_config *c, const char *path, const char *v, size_t n,
                           const char *what) {
  return BP__CFG_FAIL(c, BP_ERR_CONFIG_INVALID, BP__CFG_VALIDATION,
                      "1 validation error detected: Value '%.*s' at '%s' failed to satisfy "
                      "constraint: Member must be %s",
                      bp__cfg_echo_len(v, n), v, path, what);
}

void bp__cfg_take_error(bp_config *to, const bp_config *from) {
  memcpy(to->msg, from->msg, sizeof to->msg);
  to->msg_offset = from->msg_offset;
  to->err_type = from->err_type;
}

static int nomem(bp_config *c) { return bp__cfg_fail(c, BP_ERR_NOMEM, NULL, "out of memory"); }

int bp__cfg_echo_len(const char *s, size_t n) {
  if (n <= ECHO_MAX) return (int)n;
  n = ECHO_MAX;
  while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--; /* s[n] starts the cut-off part */
  return (int)n;
}

/* Bad string arguments are the caller's bug, not an AWS rejection. */
static int check_text(bp_config *c, const char *s, size_t n) {
  if (!s && n) return bp__cfg_fail(c, BP_ERR_INVALID_ARGUMENT, NULL, "NULL text, length > 0");
  if (s && !bp__span_ok(s, n))
    return BP__CFG_FAIL(c, BP_ERR_INVALID_ARGUMENT, NULL,
                        "text length %zu is larger than any object", n);
  return 0;
}

/* ---- Life cycle ---- */

static void set_defaults(bp_config *c) {
  c->batch_size = BP_CONFIG_DEFAULT_BATCH_SIZE;
  c->window_s = 0;
  c->parallelization = BP_CONFIG_DEFAULT_PARALLELIZATION_FACTOR;
  c->position = BP_POSITION_NONE;
  c->timestamp_ms = BP_CONFIG_NO_TIMESTAMP;
  c->max_retry = BP_CONFIG_DEFAULT_MAXIMUM_RETRY_ATTEMPTS;
  c->max_age_s = BP_CONFIG_DEFAULT_MAXIMUM_RECORD_AGE_IN_SECONDS;
  c->bisect = 0;
  c->report_failures = 0;
  c->tumbling_s = 0;
  c->enabled = 1;
  c->metrics_event_count = 0;
  c->max_filters = BP_CONFIG_DEFAULT_MAX_FILTERS;
  c->source = BP_SOURCE_NONE;
}


void bp__cfg_drop_filters(bp_config *c) {
  for (size_t i = 0; i < c->nfilters; i++) bp__free(&c->alloc, c->filters[i].text);
  c->nfilters = 0;
}

void bp__cfg_release(bp_config *c) {
  bp__cfg_drop_filters(c);
  bp__free(&c->alloc, c->filters);
  bp__free(&c->alloc, c->arn);
  bp__free(&c->alloc, c->function_name);
  bp__free(&c->alloc, c->destination);
  c->filters = NULL;
  c->filters_cap = 0;
  c->arn = c->function_name = c->destination = NULL;
}

static int dup_opt(const bp_allocator *a, const char *s, char **out) {
  *out = NULL;
  return s && !(*out = bp__strndup(a, s, strlen(s))) ? BP_ERR_NOMEM : 0;
}

int bp__cfg_clone(bp_config *dst, const bp_config *src) {
  bp_allocator a = dst->alloc;
  *dst = *src;
  dst->alloc = a;
  dst->arn = dst->function_name = dst->destination = NULL;
  dst->filters = NULL;
  dst->nfilters = dst->filters_cap = 0;
  bp__cfg_clear_error(dst);
  int rc = dup_opt(&a, src->arn, &dst->arn);
  if (!rc) rc = dup_opt(&a, src->function_name, &dst->function_name);
  if (!rc) rc = dup_opt(&a, src->destination, &dst->destination);
  for (size_t i = 0; !rc && i < src->nfilters; i++)
    rc = bp__cfg_push_filter(dst, src->filters[i].text, src->filters[i].len);
  if (rc) bp__cfg_release(dst);
  return rc;
}

void bp__cfg_commit(bp_config *c, bp_config *staged) {
  bp__cfg_release(c);
  bp_allocator a = c->alloc;
  *c = *staged;
  c->alloc = a;
  bp__cfg_clear_error(c);
  staged->arn = staged->function_name = staged->destination = NULL;
  staged->filters = NULL;
  staged->nfilters = staged->filters_cap = 0;
}

int bp_config_new(bp_config **out, const bp_allocator *alloc) {
  if (out) *out = NULL;
  if (!out) return BP_ERR_INVALID_ARGUMENT;
  bp_allocator a;
  if (bp__alloc_copy(&a, alloc)) return BP_ERR_INVALID_ARGUMENT;
  bp_config *c = bp__calloc(&a, 1, sizeof *c);
  if (!c) return BP_ERR_NOMEM;
  c->alloc = a;
  bp__cfg_clear_error(c);
  set_defaults(c);
  *out = c;
  return 0;
}

int bp_config_copy(bp_config **out, const bp_config *src, const bp_allocator *alloc) {
  if (out) *out = NULL;
  if (!out || !src) return BP_ERR_INVALID_ARGUMENT;
  bp_config *c;
  int rc = bp_config_new(&c, alloc);
  if (rc) return rc;
  if ((rc = bp__cfg_clone(c, src))) {
    bp_config_del(c);
    return rc;
  }
  *out = c;
  return 0;
}

void bp_config_del(bp_config *c) {
  if (!c) return;
  bp_allocator a = c->alloc;
  bp__cfg_release(c);
  bp__free(&a, c);
}

const char *bp_config_errmsg(const bp_config *c) { return c ? c->msg : ""; }

const char *bp_config_error_type(const bp_config *c) {
  return c && c->err_type ? c->err_type : "";
}

int bp_config_error_http_status(const bp_config *c) { return c && c->err_type ? 400 : 0; }

size_t bp_config_error_offset(const bp_config *c) { return c ? c->msg_offset : SIZE_MAX; }

/* Entry of every mutating call: the previous error is forgotten. */
#define ENTER(c)                                                                                \
  do {                                                                                          \
    if (!(c)) return BP_ERR_INVALID_ARGUMENT;                                                   \
    bp__cfg_clear_error(c);                                                                     \
  } while (0)

/* ---- Integer fields (§2.1 table order) ---- */

static const struct int_field {
  const char *path; /* lowerCamel name AWS's messages use */
  int64_t min, max;
} int_fields[BP__CFG_NINT] = {
    {"batchSize", 1, BP_CONFIG_MAX_BATCH_SIZE},
    {"maximumBatchingWindowInSeconds", 0, BP_CONFIG_MAX_BATCHING_WINDOW_IN_SECONDS},
    {"parallelizationFactor", 1, BP_CONFIG_MAX_PARALLELIZATION_FACTOR},
    {"maximumRetryAttempts", -1, BP_CONFIG_MAX_RETRY_ATTEMPTS},
    {"maximumRecordAgeInSeconds", -1, BP_CONFIG_MAX_RECORD_AGE_IN_SECONDS},
    {"tumblingWindowInSeconds", 0, BP_CONFIG_MAX_TUMBLING_WINDOW_IN_SECONDS},
    {"maxFilters", 1, BP_CONFIG_MAX_FILTERS_LIMIT},
};

static int count_error(bp_config *c, int limit) {
  return BP__CFG_FAIL(c, BP_ERR_CONFIG_INVALID, BP__CFG_INVALID_PARAM,
                      "The number of filters exceeds the limit of %d.", limit);
}

int bp__cfg_set_int(bp_config *c, int field, int64_t v, const char *raw, size_t raw_len) {
  const struct int_field *f = &int_fields[field];
  if (field == BP__CFG_MAX_AGE) {
    /* Its own exception and text for every value outside {-1} ∪ 60..604800 [§2.1 DEC]. */
    if (v != -1 && (v < BP_CONFIG_MIN_RECORD_AGE_IN_SECONDS || v > f->max))
      return bp__cfg_fail(c, BP_ERR_CONFIG_INVALID, BP__CFG_INVALID_PARAM,
                          "MaximumRecordAgeInSeconds must be either -1 (forever) or between "
                          "60 and 604800 (inclusive)");
  } else if (v < f->min || v > f->max) {
    char num[24];
    int numlen;
    if (raw) { /* saturated: echo the text as given */
      numlen = bp__cfg_echo_len(raw, raw_len);
    } else {
      bp__errbuf(num, sizeof num, 0, "%" PRId64, v);
      raw = num;
      numlen = (int)strlen(num);
    }
    return BP__CFG_FAIL(c, BP_ERR_CONFIG_INVALID, BP__CFG_VALIDATION,
                        "1 validation error detected: Value '%.*s' at '%s' failed to satisfy "
                        "constraint: Member must have value %s than or equal to %" PRId64,
                        numlen, raw, f->path, v < f->min ? "greater" : "less",
                        v < f->min ? f->min : f->max);
  }
  int i = (int)v;
  switch (field) {
  case BP__CFG_BATCH_SIZE: c->batch_size = (uint32_t)v; break;
  case BP__CFG_WINDOW: c->window_s = i; break;
  case BP__CFG_PARALLELIZATION: c->parallelization = i; break;
  case BP__CFG_MAX_RETRY: c->max_retry = i; break;
  case BP__CFG_MAX_AGE: c->max_age_s = i; break;
  case BP__CFG_TUMBLING: c->tumbling_s = i; break;
  default:
    if ((size_t)i < c->nfilters) return count_error(c, i); /* would orphan filters */
    c->max_filters = i;
    break;
  }
  return 0;
}

int bp__cfg_parse_int(const char *s, size_t n, int64_t *v) {
  const char *p = s, *e = s + n;
  int neg = p < e && *p == '-';
  p += neg;
  if (p == e || (*p == '0' && e - p > 1)) return -1;
  uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, acc = 0;
  int over = 0;
  for (; p < e; p++) {
    if (*p < '0' || *p > '9') return -1;
    unsigned d = (unsigned)(*p - '0');
    if (acc > (limit - d) / 10) over = 1;
    else acc = acc * 10 + d;
  }
  if (over) {
    *v = neg ? INT64_MIN : INT64_MAX;
    return 1;
  }
  *v = !neg ? (int64_t)acc : acc ? -(int64_t)(acc - 1) - 1 : 0; /* INT64_MIN without overflow */
  return 0;
}

#define SETTER(fn, field, type)                                                                 \
  int fn(bp_config *c, type v) {                                                                \
    ENTER(c);                                                                                   \
    return bp__cfg_set_int(c, field, (int64_t)v, NULL, 0);                                      \
  }
SETTER(bp_config_set_batch_size, BP__CFG_BATCH_SIZE, uint32_t)
SETTER(bp_config_set_maximum_batching_window_in_seconds, BP__CFG_WINDOW, int32_t)
SETTER(bp_config_set_parallelization_factor, BP__CFG_PARALLELIZATION, int32_t)
SETTER(bp_config_set_maximum_retry_attempts, BP__CFG_MAX_RETRY, int32_t)
SETTER(bp_config_set_maximum_record_age_in_seconds, BP__CFG_MAX_AGE, int32_t)
SETTER(bp_config_set_tumbling_window_in_seconds, BP__CFG_TUMBLING, int32_t)
SETTER(bp_config_set_max_filters, BP__CFG_MAX_FILTERS, int32_t)

/* ---- Booleans ---- */

#define FLAG_SETTER(fn, member)                                                                 \
  int fn(bp_config *c, int32_t on) {                                                            \
    ENTER(c);                                                                                   \
    c->member = on != 0;                                                                        \
    return 0;                                                                                   \
  }
FLAG_SETTER(bp_config_set_bisect_batch_on_function_error, bisect)
FLAG_SETTER(bp_config_set_report_batch_item_failures, report_failures)
FLAG_SETTER(bp_config_set_enabled, enabled)
FLAG_SETTER(bp_config_set_metrics_event_count, metrics_event_count)

/* ---- ARNs and names ---- */

static int is_lower(char ch) { return ch >= 'a' && ch <= 'z'; }
static int is_digit(char ch) { return ch >= '0' && ch <= '9'; }
static int is_alnum(char ch) {
  return is_lower(ch) || is_digit(ch) || (ch >= 'A' && ch <= 'Z');
}

/* Length of the prefix of [s, e) up to the next ':' (or e). */
static size_t field_len(const char *s, const char *e) {
  const char *p = memchr(s, ':', (size_t)(e - s));
  return (size_t)((p ? p : e) - s);
}

/* `aws[a-zA-Z0-9-]*` (with_digits) or `aws[a-zA-Z-]*`. */
static int is_partition(const char *s, size_t n, int with_digits) {
  if (n < 3 || memcmp(s, "aws", 3) != 0) return 0;
  for (size_t i = 3; i < n; i++)
    if (!(is_alnum(s[i]) && (with_digits || !is_digit(s[i]))) && s[i] != '-') return 0;
  return 1;
}

/* AWS's region pattern `[a-z]{2}(-gov)?-[a-z]+-\d{1}`. */
static int region_tail(const char *s, size_t n) { /* `-[a-z]+-\d` */
  if (n < 4 || s[0] != '-' || !is_digit(s[n - 1]) || s[n - 2] != '-') return 0;
  for (size_t i = 1; i < n - 2; i++)
    if (!is_lower(s[i])) return 0;
  return 1;
}
static int is_region(const char *s, size_t n) {
  if (n < 2 || !is_lower(s[0]) || !is_lower(s[1])) return 0;
  if (n >= 6 && memcmp(s + 2, "-gov", 4) == 0 && region_tail(s + 6, n - 6)) return 1;
  return region_tail(s + 2, n - 2);
}

static int is_account(const char *s, size_t n) {
  if (n != 12) return 0;
  for (size_t i = 0; i < n; i++)
    if (!is_digit(s[i])) return 0;
  return 1;
}

/* `arn:<partition>:<kinesis|dynamodb>:<region>:<account>:<resource>` -> source kind. */
static int arn_source(const char *s, size_t n) {
  const char *e = s + n;
  if (!bp__utf8_valid(s, n) || memchr(s, '\0', n)) return BP_SOURCE_NONE;
  if (n < 4 || memcmp(s, "arn:", 4) != 0) return BP_SOURCE_NONE;
  const char *f[5];
  size_t len[5];
  const char *p = s + 4;
  for (int i = 0; i < 4; i++) { /* partition, service, region, account */
    f[i] = p;
    len[i] = field_len(p, e);
    if (f[i] + len[i] == e) return BP_SOURCE_NONE;
    p = f[i] + len[i] + 1;
  }
  f[4] = p; /* the resource keeps its own colons */
  len[4] = (size_t)(e - p);
  if (!is_partition(f[0], len[0], 1) || len[2] == 0 || len[4] == 0) return BP_SOURCE_NONE;
  if (len[1] == 7 && memcmp(f[1], "kinesis", 7) == 0) return BP_SOURCE_KINESIS;
  if (len[1] == 8 && memcmp(f[1], "dynamodb", 8) == 0) return BP_SOURCE_DYNAMODB;
  return BP_SOURCE_NONE;
}

/* Replace *slot by a copy of [s, s+n), or by NULL when @p n is 0 and @p empty_clears. */
static int replace_text(bp_config *c, char **slot, const char *s, size_t n, int empty_clears) {
  char *t = NULL;
  if (!(empty_clears && n == 0) && !(t = bp__strndup(&c->alloc, s, n))) return nomem(c);
  bp__free(&c->alloc, *slot);
  *slot = t;
  return 0;
}

int bp_config_set_event_source_arn(bp_config *c, const char *arn, size_t len) {
  ENTER(c);
  int rc = check_text(c, arn, len);
  if (rc) return rc;
  int source = len > BP_CONFIG_MAX_EVENT_SOURCE_ARN_BYTES ? BP_SOURCE_NONE /* unread */
                                                         : arn_source(arn ? arn : "", len);
  if (source == BP_SOURCE_NONE)
    return bp__cfg_fail(c, BP_ERR_CONFIG_INVALID, BP__CFG_INVALID_PARAM,
                        "Unrecognized event source.");
  if ((rc = replace_text(c, &c->arn, arn, len, 0))) return rc;
  c->source = source;
  return 0;
}

static size_t code_points(const char *s, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) k += ((unsigned char)s[i] & 0xC0) != 0x80;
  return k;
}

/* `[a-zA-Z0-9-_]+` */
static int is_fn_word(const char *s, size_t n) {
  if (n == 0) return 0;
  for (size_t i = 0; i < n; i++)
    if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_') return 0;
  return 1;
}

#define MAX_FN_TOKENS 9
/* The parts of a FunctionName: partition (of an `arn:` prefix), region, account, name,
 * qualifier; len 0 when absent. */
enum { FN_PARTITION, FN_REGION, FN_ACCOUNT, FN_NAME, FN_QUALIFIER, FN_PARTS };
typedef struct fn_parts {
  const char *p[FN_PARTS];
  size_t len[FN_PARTS];
} fn_parts;

/* AWS's FunctionName pattern, anchored: (arn:(aws[a-zA-Z-]*)?:lambda:)?
 * ([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)
 * (:(\$LATEST|[a-zA-Z0-9-_]+))? -- tried as the 32 combinations of its optional parts
 * over the ':'-separated tokens (no part but the resource can contain ':'). The first
 * combination that matches fills @p out (may be NULL). */
static int function_name_ok(const char *s, size_t n, fn_parts *out) {
  const char *tok[MAX_FN_TOKENS];
  size_t len[MAX_FN_TOKENS], k = 0;
  const char *p = s, *e = s + n;
  for (;;) {
    if (k == MAX_FN_TOKENS) return 0;
    tok[k] = p;
    len[k] = field_len(p, e);
    p += len[k++];
    if (p == e) break;
    p++;
  }
  for (unsigned m = 0; m < 32; m++) {
    int arn = m & 1, region = (m >> 1) & 1, account = (m >> 2) & 1, fn = (m >> 3) & 1,
        qual = (m >> 4) & 1;
    if ((size_t)(3 * arn + region + account + fn + 1 + qual) != k) continue;
    size_t i = 0;
    if (arn && !(len[0] == 3 && memcmp(tok[0], "arn", 3) == 0 &&
                 (len[1] == 0 || is_partition(tok[1], len[1], 0)) && len[2] == 6 &&
                 memcmp(tok[2], "lambda", 6) == 0))
      continue;
    i += 3 * (size_t)arn;
    if (region && !is_region(tok[i], len[i])) continue;
    i += (size_t)region;
    if (account && !is_account(tok[i], len[i])) continue;
    i += (size_t)account;
    if (fn && !(len[i] == 8 && memcmp(tok[i], "function", 8) == 0)) continue;
    i += (size_t)fn;
    if (!is_fn_word(tok[i], len[i])) continue;
    i++;
    if (qual && !(is_fn_word(tok[i], len[i]) ||
                  (len[i] == 7 && memcmp(tok[i], "$LATEST", 7) == 0)))
      continue;
    if (out) {
      size_t at[FN_PARTS] = {1, 3 * (size_t)arn, 3 * (size_t)arn + (size_t)region, i - 1, i};
      int has[FN_PARTS] = {arn, region, account, 1, qual};
      for (int f = 0; f < FN_PARTS; f++) {
        out->p[f] = has[f] ? tok[at[f]] : "";
        out->len[f] = has[f] ? len[at[f]] : 0;
      }
    }
    return 1;
  }
  return 0;
}

static int length_error(bp_config *c, const char *path, const char *v, size_t n,
                        const char *cmp, int limit) {
  return BP__CFG_FAIL(c, BP_ERR_CONFIG_INVALID, BP__CFG_VALIDATION,
                      "1 validation error detected: Value '%.*s' at '%s' failed to satisfy "
                      "constraint: Member must have length %s than or equal to %d",
                      bp__cfg_echo_len(v, n), v, path, cmp, limit);
}

/* A UTF-8 character is at most 4 bytes: a value longer than 4 x @p limit bytes is over the
 * limit whatever it holds, and is refused before any byte is read (so it is not echoed). */
static int over_chars_unread(bp_config *c, const char *path, size_t n, int limit) {
  if (n <= 4 * (size_t)limit) return 0;
  return BP__CFG_FAIL(c, BP_ERR_CONFIG_INVALID, BP__CFG_VALIDATION,
                      "1 validation error detected: Value at '%s' failed to satisfy "
                      "constraint: Member must have length less than or equal to %d",
                      path, limit);
}

static int pattern_error(bp_config *c, const char *path, const char *v, size_t n,
                         const char *regex) {
  return BP__CFG_FAIL(c, BP_ERR_CONFIG_INVALID, BP__CFG_VALIDATION,
                      "1 validation error detected: Value '%.*s' at '%s' failed to satisfy "
                      "constraint: Member must satisfy regular expression pattern: %s",
                      bp__cfg_echo_len(v, n), v, path, regex);
}

int bp_config_set_function_name(bp_config *c, const char *name, size_t len) {
  ENTER(c);
  int rc = check_text(c, name, len);
  if (rc) return rc;
  if (!name) name = "";
  if (len == 0) return length_error(c, "functionName", name, len, "greater", 1);
  if ((rc = over_chars_unread(c, "functionName", len, BP_CONFIG_MAX_FUNCTION_NAME_CHARS)))
    return rc;
  if (code_points(name, len) > BP_CONFIG_MAX_FUNCTION_NAME_CHARS)
    return length_error(c, "functionName", name, len, "less",
                        BP_CONFIG_MAX_FUNCTION_NAME_CHARS);
  if (!function_name_ok(name, len, NULL))
    return pattern_error(c, "functionName", name, len,
                         "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?"
                         "(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)"
                         "(:(\\$LATEST|[a-zA-Z0-9-_]+))?");
  return replace_text(c, &c->function_name, name, len, 0);
}

/* AWS's destination pattern: ^$|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:
 * ([a-z]{2}(-gov)?-[a-z]+-\d{1})?:(\d{12})?:(.*) -- `.` excludes line breaks. */
static int destination_ok(const char *s, size_t n) {
  const char *e = s + n, *f[4];
  size_t len[4];
  if (n == 0) return 1;
  if (!bp__utf8_valid(s, n) || n < 4 || memcmp(s, "arn:", 4) != 0) return 0;
  const char *p = s + 4;
  for (int i = 0; i < 4; i++) {
    f[i] = p;
    len[i] = field_len(p, e);
    if (f[i] + len[i] == e) return 0;
    p = f[i] + len[i] + 1;
  }
  if (!is_partition(f[0], len[0], 1) || len[1] == 0) return 0;
  for (size_t i = 0; i < len[1]; i++)
    if (!is_alnum(f[1][i]) && f[1][i] != '-') return 0;
  if (len[2] && !is_region(f[2], len[2])) return 0;
  if (len[3] && !is_account(f[3], len[3])) return 0;
  for (; p < e; p++)
    if (*p == '\n' || *p == '\r' || *p == '\0') return 0;
  return 1;
}

int bp_config_set_on_failure_destination(bp_config *c, const char *arn, size_t len) {
  static const char path[] = "destinationConfig.onFailure.destination";
  ENTER(c);
  int rc = check_text(c, arn, len);
  if (rc) return rc;
  if (!arn) arn = "";
  if ((rc = over_chars_unread(c, path, len, BP_CONFIG_MAX_DESTINATION_CHARS))) return rc;
  if (code_points(arn, len) > BP_CONFIG_MAX_DESTINATION_CHARS)
    return length_error(c, path, arn, len, "less", BP_CONFIG_MAX_DESTINATION_CHARS);
  if (!destination_ok(arn, len))
    return pattern_error(c, path, arn, len,
                         "^$|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}(-gov)?-[a-z]+-"
                         "\\d{1})?:(\\d{12})?:(.*)");
  return replace_text(c, &c->destination, arn, len, 1);
}

/* ---- StartingPosition and its timestamp ---- */

static const char *const position_names[] = {NULL, "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"};

static int position_error(bp_config *c, const char *v, size_t n) {
  return BP__CFG_FAIL(c, BP_ERR_CONFIG_INVALID, BP__CFG_VALIDATION,
                      "1 validation error detected: Value '%.*s' at 'startingPosition' failed "
                      "to satisfy constraint: Member must satisfy enum value set: [LATEST, "
                      "AT_TIMESTAMP, TRIM_HORIZON]",
                      bp__cfg_echo_len(v, n), v);
}

int bp__cfg_set_position_text(bp_config *c, const char *s, size_t n) {
  for (int i = 1; i <= BP_POSITION_AT_TIMESTAMP; i++) {
    if (strlen(position_names[i]) == n && memcmp(position_names[i], s, n) == 0) {
      c->position = i;
      return 0;
    }
  }
  return position_error(c, s, n);
}

int bp_config_set_starting_position(bp_config *c, int32_t position) {
  ENTER(c);
  if (position < BP_POSITION_NONE || position > BP_POSITION_AT_TIMESTAMP) {
    char num[16];
    bp__errbuf(num, sizeof num, 0, "%d", position);
    return position_error(c, num, strlen(num));
  }
  c->position = position;
  return 0;
}

static int timestamp_range_error(bp_config *c) {
  return bp__cfg_fail(c, BP_ERR_CONFIG_INVALID, BP__CFG_INVALID_PARAM,
                      "StartingPositionTimestamp must be between 1970-01-01T00:00:00Z and "
                      "9999-12-31T23:59:59.999Z.");
}

int bp_config_set_starting_position_timestamp_ms(bp_config *c, int64_t ms) {
  ENTER(c);
  if (ms != BP_CONFIG_NO_TIMESTAMP && (ms < 0 || ms > BP_TIME_MAX_MS))
    return timestamp_range_error(c);
  c->timestamp_ms = ms;
  return 0;
}

int bp__cfg_set_timestamp_text(bp_config *c, const char *s, size_t n) {
  int64_t ms;
  int rc = bp__cfg_parse_seconds(s, n, &ms);
  if (rc == -1)
    return text_type_error(c, "startingPositionTimestamp", s, n, "a number (epoch seconds)");
  if (rc) return timestamp_range_error(c);
  c->timestamp_ms = ms;
  return 0;
}

/* A JSON number token: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? ; returns its end or NULL. */
static const char *scan_number(const char *p, const char *e) {
  if (p < e && *p == '-') p++;
  if (p == e || !is_digit(*p)) return NULL;
  if (*p++ != '0')
    while (p < e && is_digit(*p)) p++;
  if (p < e && *p == '.') {
    if (++p == e || !is_digit(*p)) return NULL;
    while (p < e && is_digit(*p)) p++;
  }
  if (p < e && (*p == 'e' || *p == 'E')) {
    if (++p < e && (*p == '+' || *p == '-')) p++;
    if (p == e || !is_digit(*p)) return NULL;
    while (p < e && is_digit(*p)) p++;
  }
  return p;
}

int bp__cfg_parse_seconds(const char *s, size_t n, int64_t *ms) {
  const char *e = s + n, *p = s;
  if (!n || scan_number(s, e) != e) return -1;
  int neg = *p == '-';
  p += neg;
  const char *ip = p;
  while (p < e && is_digit(*p)) p++;
  const char *ipe = p, *fp = p, *fpe = p;
  if (p < e && *p == '.') {
    fp = ++p;
    while (p < e && is_digit(*p)) p++;
    fpe = p;
  }
  long exp = 0;
  if (p < e) { /* exponent; its magnitude is capped, far beyond any representable time */
    int eneg = *++p == '-';
    p += *p == '-' || *p == '+';
    for (; p < e; p++)
      if (exp < 100000) exp = exp * 10 + (*p - '0');
    if (eneg) exp = -exp;
  }
  /* value = digits(int ++ frac) * 10^(exp - nfrac); ms keeps the first (nint + exp + 3). */
  long keep = (long)(ipe - ip) + exp + 3, idx = 0;
  int64_t v = 0;
  for (const char *d = ip; d < fpe && idx < keep; d++) {
    if (d == ipe) d = fp;
    if (d == fpe) break;
    v = v * 10 + (*d - '0');
    idx++;
    if (v > BP_TIME_MAX_MS) return -2;
  }
  for (; idx < keep && v != 0; idx++) /* trailing zeros of a positive exponent */
    if ((v *= 10) > BP_TIME_MAX_MS) return -2;
  if (neg && v != 0) return -2; /* before the epoch; -0.0001 truncates to 0 */
  *ms = v;
  return 0;
}

/* ---- Whole-request checks ---- */

int bp__cfg_check_arn_present(bp_config *c) {
  if (!c->arn)
    return bp__cfg_fail(c, BP_ERR_CONFIG_INVALID, BP__CFG_INVALID_PARAM,
                        "Unrecognized event source.");
  return 0;
}

int bp__cfg_check_position(bp_config *c) {
  if (c->position == BP_POSITION_NONE)
    return bp__cfg_fail(c, BP_ERR_CONFIG_INVALID, BP__CFG_INVALID_PARAM,
                        "1 validation error detected: Value null at 'startingPosition' "
                        "failed to satisfy constraint: Member must not be null.");
  if (c->position == BP_POSITION_AT_TIMESTAMP) {
    if (c->source == BP_SOURCE_DYNAMODB)
      return BP__CFG_FAIL(c, BP_ERR_CONFIG_INVALID, BP__CFG_INVALID_PARAM,
                          "Unsupported starting position for arn type: %s", c->arn);
    if (c->timestamp_ms == BP_CONFIG_NO_TIMESTAMP)
      return bp__cfg_fail(c, BP_ERR_CONFIG_INVALID, BP__CFG_INVALID_PARAM,
                          "StartingPositionTimestamp is required when StartingPosition is "
                          "AT_TIMESTAMP.");
  }
  return 0;
}

int bp__cfg_check_function_present(bp_config *c) {
  if (!c->function_name)
    return bp__cfg_fail(c, BP_ERR_CONFIG_INVALID, BP__CFG_VALIDATION,
                        "1 validation error detected: Value null at 'functionName' failed to "
                        "satisfy constraint: Member must not be null.");
  return 0;
}

int bp_config_validate(bp_config *c) {
  ENTER(c);
  int rc = bp__cfg_check_arn_present(c);
  if (!rc) rc = bp__cfg_check_function_present(c);
  return rc ? rc : bp__cfg_check_position(c);
}

/* ---- Enumerated lists ---- */

static const struct list_def {
  const char *path;
  const char *value; /* the one member of the enum set for streams */
  size_t max_items;  /* 0: no limit (repeats are harmless) */
} lists[] = {
    {"functionResponseTypes", "ReportBatchItemFailures", 1},
    {"metricsConfig.metrics", "EventCount", 0},
};

int bp__cfg_list_item(bp_config *c, int list, const char *s, size_t n) {
  const struct list_def *l = &lists[list];
  if (strlen(l->value) == n && memcmp(l->value, s, n) == 0) return 0;
  return BP__CFG_FAIL(c, BP_ERR_CONFIG_INVALID, BP__CFG_VALIDATION,
                      "1 validation error detected: Value '%.*s' at '%s' failed to satisfy "
                      "constraint: Member must satisfy enum value set: [%s]",
                      bp__cfg_echo_len(s, n), s, l->path, l->value);
}

int bp__cfg_list_done(bp_config *c, int list, size_t count) {
  const struct list_def *l = &lists[list];
  if (l->max_items && count > l->max_items) {
    /* Every item passed the enum check, so the list is the one value repeated. */
    char items[256];
    size_t used = 0, vlen = strlen(l->value);
    for (size_t i = 0; i < count && used + vlen + 3 < sizeof items; i++) {
      if (i) {
        memcpy(items + used, ", ", 2);
        used += 2;
      }
      memcpy(items + used, l->value, vlen);
      used += vlen;
    }
    items[used] = '\0';
    return BP__CFG_FAIL(c, BP_ERR_CONFIG_INVALID, BP__CFG_VALIDATION,
                        "1 validation error detected: Value '[%s]' at '%s' failed to satisfy "
                        "constraint: Member must have length less than or equal to %zu",
                        items, l->path, l->max_items);
  }
  if (list == BP__CFG_LIST_RESPONSE_TYPES) c->report_failures = count > 0;
  else c->metrics_event_count = count > 0;
  return 0;
}

/* ---- A strict JSON recognizer (RFC 8259, yajl's rules: UTF-8 checked, no comments) ---- */

static const char *skip_ws(const char *p, const char *e) {
  while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

static int hex4(const char *p, const char *e, unsigned *v) {
  if (e - p < 4) return 0;
  *v = 0;
  for (int i = 0; i < 4; i++) {
    char ch = p[i];
    unsigned d = is_digit(ch) ? (unsigned)(ch - '0')
                 : (ch >= 'a' && ch <= 'f') ? (unsigned)(ch - 'a' + 10)
                 : (ch >= 'A' && ch <= 'F') ? (unsigned)(ch - 'A' + 10) : 16u;
    if (d == 16) return 0;
    *v = *v << 4 | d;
  }
  return 1;
}

typedef struct str_out {
  char *buf; /* NULL: validate only */
  size_t cap, len; /* len counts every decoded byte, also those past cap */
} str_out;

static void put_byte(str_out *o, unsigned b) {
  if (o && o->buf && o->len < o->cap) o->buf[o->len] = (char)b;
  if (o) o->len++;
}

static void put_code_point(str_out *o, unsigned cp) {
  if (cp < 0x80) {
    put_byte(o, cp);
  } else if (cp < 0x800) {
    put_byte(o, 0xC0 | cp >> 6);
    put_byte(o, 0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    put_byte(o, 0xE0 | cp >> 12);
    put_byte(o, 0x80 | (cp >> 6 & 0x3F));
    put_byte(o, 0x80 | (cp & 0x3F));
  } else {
    put_byte(o, 0xF0 | cp >> 18);
    put_byte(o, 0x80 | (cp >> 12 & 0x3F));
    put_byte(o, 0x80 | (cp >> 6 & 0x3F));
    put_byte(o, 0x80 | (cp & 0x3F));
  }
}

/* A string token at p (the quote). Returns its end or NULL; decodes into @p o if given.
 * Like yajl, a lone surrogate escape is syntactically fine (decoded as '?'). */
static const char *scan_string(const char *p, const char *e, str_out *o) {
  const char *start = ++p;
  while (p < e && *p != '"') {
    unsigned char ch = (unsigned char)*p;
    if (ch < 0x20) return NULL;
    if (ch != '\\') {
      put_byte(o, ch);
      p++;
      continue;
    }
    if (++p == e) return NULL;
    const char *esc = "\"\\/bfnrt", *dec = "\"\\/\b\f\n\r\t", *hit = strchr(esc, *p);
    if (*p && hit) {
      put_byte(o, (unsigned char)dec[hit - esc]);
      p++;
      continue;
    }
    unsigned cp, lo;
    if (*p != 'u' || !hex4(p + 1, e, &cp)) return NULL;
    p += 5;
    if (cp >= 0xD800 && cp <= 0xDBFF && e - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
        hex4(p + 2, e, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      p += 6;
    } else if (cp >= 0xD800 && cp <= 0xDFFF) {
      cp = '?';
    }
    put_code_point(o, cp);
  }
  if (p == e || !bp__utf8_valid(start, (size_t)(p - start))) return NULL;
  return p + 1;
}

static const char *scan_literal(const char *p, const char *e) {
  static const char *const lit[] = {"true", "false", "null"};
  for (int i = 0; i < 3; i++) {
    size_t n = strlen(lit[i]);
    if ((size_t)(e - p) >= n && memcmp(p, lit[i], n) == 0) return p + n;
  }
  return NULL;
}

/* `"key" :` at p (whitespace allowed around); returns the position after ':' or NULL. */
static const char *scan_key(const char *p, const char *e) {
  p = skip_ws(p, e);
  if (p == e || *p != '"' || !(p = scan_string(p, e, NULL))) return NULL;
  p = skip_ws(p, e);
  return p < e && *p == ':' ? p + 1 : NULL;
}

/* 1 if [s, s+n) is exactly one JSON object (whitespace around allowed). Iterative, so the
 * stack use is fixed whatever the nesting. */
static int json_object_valid(const char *s, size_t n) {
  unsigned char is_obj[JSON_MAX_DEPTH];
  int depth = 0, need_value = 1;
  const char *e = s + n, *p = skip_ws(s, e);
  if (p == e || *p != '{') return 0;
  for (;;) {
    p = skip_ws(p, e);
    if (!need_value) {
      if (depth == 0) return p == e;
      if (p == e) return 0;
      if (*p == ',') {
        p++;
        if (is_obj[depth - 1] && !(p = scan_key(p, e))) return 0;
        need_value = 1;
      } else if (*p == (is_obj[depth - 1] ? '}' : ']')) {
        p++;
        depth--;
      } else {
        return 0;
      }
      continue;
    }
    if (p == e) return 0;
    if (*p == '{' || *p == '[') {
      if (depth == JSON_MAX_DEPTH) return 0;
      int obj = *p == '{';
      is_obj[depth++] = (unsigned char)obj;
      p = skip_ws(p + 1, e);
      if (p < e && *p == (obj ? '}' : ']')) {
        p++;
        depth--;
        need_value = 0;
      } else if (obj && !(p = scan_key(p, e))) {
        return 0;
      }
      continue;
    }
    if (*p == '"') p = scan_string(p, e, NULL);
    else if (*p == '-' || is_digit(*p)) p = scan_number(p, e);
    else p = scan_literal(p, e);
    if (!p) return 0;
    need_value = 0;
  }
}

/* ---- Filters ---- */

int bp__cfg_check_filter_count(bp_config *c, size_t n) {
  return n > (size_t)c->max_filters ? count_error(c, c->max_filters) : 0;
}

int bp__cfg_check_pattern_len(bp_config *c, size_t index, const char *s, size_t n) {
  /* Counted only when the bytes can be within the limit (4 bytes per character at most). */
  if (n <= 4 * (size_t)BP_CONFIG_MAX_PATTERN_CHARS &&
      code_points(s, n) <= BP_CONFIG_MAX_PATTERN_CHARS)
    return 0;
  /* The value is not echoed: by definition it would not fit the message. */
  return BP__CFG_FAIL(c, BP_ERR_CONFIG_INVALID, BP__CFG_VALIDATION,
                      "1 validation error detected: Value at "
                      "'filterCriteria.filters.%zu.member.pattern' failed to satisfy "
                      "constraint: Member must have length less than or equal to %d",
                      index + 1, BP_CONFIG_MAX_PATTERN_CHARS);
}

#ifndef BP_CORE_ONLY
/* A full build compiles the pattern as AWS does at CreateEventSourceMapping, so an object
 * that is no valid filter ({"eventSource": "aws:sqs"}) is refused here, not at engine
 * creation; the reason (event-ruler's text) follows AWS's message. */
static int check_pattern_rules(bp_config *c, size_t index, const char *s, size_t n) {
  bp_filter *f;
  int rc = bp_filter_new(&f, 0, &c->alloc);
  if (rc) return rc == BP_ERR_NOMEM ? nomem(c) : bp__cfg_fail(c, rc, NULL, bp_strerror(rc));
  rc = bp_filter_add(f, s, n);
  if (rc == BP_ERR_CONFIG_INVALID)
    rc = BP__CFG_FAIL(c, rc, BP__CFG_INVALID_PARAM,
                      "Invalid filter pattern definition. (filter %zu: %s)", index + 1,
                      bp_filter_errmsg(f));
  else if (rc == BP_ERR_NOMEM)
    rc = nomem(c);
  else if (rc)
    rc = bp__cfg_fail(c, rc, NULL, bp_strerror(rc));
  bp_filter_del(f);
  return rc;
}
#endif

int bp__cfg_check_pattern(bp_config *c, size_t index, const char *s, size_t n) {
  if (!json_object_valid(s, n))
    return bp__cfg_fail(c, BP_ERR_CONFIG_INVALID, BP__CFG_INVALID_PARAM,
                        "Invalid filter pattern definition.");
#ifndef BP_CORE_ONLY
  return check_pattern_rules(c, index, s, n);
#else
  (void)index;
  return 0;
#endif
}

int bp__cfg_push_filter(bp_config *c, const char *s, size_t n) {
  if (c->nfilters >= BP_CONFIG_MAX_FILTERS_LIMIT)
    return bp__cfg_fail(c, BP_ERR_INTERNAL, NULL, "filter count above the limit");
  if (!c->filters) { /* never more than the hard limit: allocate it once */
    c->filters = bp__calloc(&c->alloc, BP_CONFIG_MAX_FILTERS_LIMIT, sizeof *c->filters);
    if (!c->filters) return nomem(c);
    c->filters_cap = BP_CONFIG_MAX_FILTERS_LIMIT;
  }
  char *t = bp__strndup(&c->alloc, s, n);
  if (!t) return nomem(c);
  c->filters[c->nfilters].text = t;
  c->filters[c->nfilters++].len = n;
  return 0;
}

int bp_config_add_filter(bp_config *c, const char *pattern, size_t len) {
  ENTER(c);
  int rc = check_text(c, pattern, len);
  if (rc) return rc;
  if (!pattern) pattern = "";
  if ((rc = bp__cfg_check_filter_count(c, c->nfilters + 1)) ||
      (rc = bp__cfg_check_pattern_len(c, c->nfilters, pattern, len)) ||
      (rc = bp__cfg_check_pattern(c, c->nfilters, pattern, len)))
    return rc;
  return bp__cfg_push_filter(c, pattern, len);
}

int bp_config_clear_filters(bp_config *c) {
  ENTER(c);
  bp__cfg_drop_filters(c);
  return 0;
}

/* ---- Getters ---- */

const char *bp_config_get_event_source_arn(const bp_config *c) { return c ? c->arn : NULL; }
int32_t bp_config_get_source(const bp_config *c) { return c ? c->source : 0; }
const char *bp_config_get_function_name(const bp_config *c) {
  return c ? c->function_name : NULL;
}
const char *bp_config_get_function_arn(const bp_config *c) {
  /* The pattern check guarantees that a name starting "arn:" is arn:...:lambda:... */
  return c && c->function_name && strncmp(c->function_name, "arn:", 4) == 0 ? c->function_name
                                                                             : NULL;
}
/* Field @p i (0: partition .. 3: account) of the validated EventSourceArn. */
static size_t arn_field(const char *arn, int i, const char **f) {
  const char *p = arn + 4, *e = arn + strlen(arn);
  for (int k = 0; k < i; k++) p += field_len(p, e) + 1;
  *f = p;
  return field_len(p, e);
}

int bp_config_resolve_function_arn(const bp_config *c, const char *account, char *buf,
                                   size_t cap, size_t *len) {
  if (len) *len = 0;
  if (!c || !len || (!buf && cap) || (account && !is_account(account, strlen(account))))
    return BP_ERR_INVALID_ARGUMENT;
  if (buf && cap) buf[0] = 0;
  fn_parts fp;
  if (!c->function_name || !c->arn ||
      !function_name_ok(c->function_name, strlen(c->function_name), &fp))
    return BP_ERR_INVALID_STATE;
  /* Each part FunctionName gives is kept; the others come from the stream's ARN (a
   * trigger is never cross-region, SEMANTICS.md §8.1), the account from @p account first. */
  if (!fp.len[FN_PARTITION]) fp.len[FN_PARTITION] = arn_field(c->arn, 0, &fp.p[FN_PARTITION]);
  if (!fp.len[FN_REGION]) fp.len[FN_REGION] = arn_field(c->arn, 2, &fp.p[FN_REGION]);
  if (!fp.len[FN_ACCOUNT] && account) fp.p[FN_ACCOUNT] = account, fp.len[FN_ACCOUNT] = 12;
  if (!fp.len[FN_ACCOUNT]) {
    fp.len[FN_ACCOUNT] = arn_field(c->arn, 3, &fp.p[FN_ACCOUNT]);
    if (!is_account(fp.p[FN_ACCOUNT], fp.len[FN_ACCOUNT])) return BP_ERR_INVALID_STATE;
  }
  static const char *const lit[FN_PARTS + 1] = {"arn:", ":lambda:", ":", ":function:", ":", ""};
  size_t n = 0;
  for (int f = 0; f < FN_PARTS; f++)
    if (fp.len[f] || f != FN_QUALIFIER) n += strlen(lit[f]) + fp.len[f];
  *len = n;
  if (cap <= n) return BP_ERR_BUFFER_TOO_SMALL;
  char *w = buf;
  for (int f = 0; f < FN_PARTS; f++) {
    if (!fp.len[f] && f == FN_QUALIFIER) break;
    size_t k = strlen(lit[f]);
    memcpy(w, lit[f], k);
    memcpy(w + k, fp.p[f], fp.len[f]);
    w += k + fp.len[f];
  }
  *w = 0;
  return 0;
}
uint32_t bp_config_get_batch_size(const bp_config *c) { return c ? c->batch_size : 0; }
int32_t bp_config_get_maximum_batching_window_in_seconds(const bp_config *c) {
  return c ? c->window_s : 0;
}
int32_t bp_config_get_parallelization_factor(const bp_config *c) {
  return c ? c->parallelization : 0;
}
int32_t bp_config_get_starting_position(const bp_config *c) { return c ? c->position : 0; }
int64_t bp_config_get_starting_position_timestamp_ms(const bp_config *c) {
  return c ? c->timestamp_ms : BP_CONFIG_NO_TIMESTAMP;
}
int32_t bp_config_get_maximum_retry_attempts(const bp_config *c) { return c ? c->max_retry : 0; }
int32_t bp_config_get_maximum_record_age_in_seconds(const bp_config *c) {
  return c ? c->max_age_s : 0;
}
int32_t bp_config_get_bisect_batch_on_function_error(const bp_config *c) {
  return c ? c->bisect : 0;
}
int32_t bp_config_get_report_batch_item_failures(const bp_config *c) {
  return c ? c->report_failures : 0;
}
int32_t bp_config_get_tumbling_window_in_seconds(const bp_config *c) {
  return c ? c->tumbling_s : 0;
}
int32_t bp_config_get_enabled(const bp_config *c) { return c ? c->enabled : 0; }
const char *bp_config_get_on_failure_destination(const bp_config *c) {
  return c ? c->destination : NULL;
}
int32_t bp_config_get_metrics_event_count(const bp_config *c) {
  return c ? c->metrics_event_count : 0;
}
int32_t bp_config_get_max_filters(const bp_config *c) { return c ? c->max_filters : 0; }
size_t bp_config_get_filter_count(const bp_config *c) { return c ? c->nfilters : 0; }

int bp_config_get_filter(const bp_config *c, size_t index, const char **text, size_t *len) {
  if (!c || !text || !len || index >= c->nfilters) return BP_ERR_INVALID_ARGUMENT;
  *text = c->filters[index].text;
  *len = c->filters[index].len;
  return 0;
}

/* ---- The string setter ---- */

enum { K_INT, K_BOOL, K_SRC_ARN, K_FUNCTION, K_DESTINATION, K_ON_SUCCESS, K_POSITION, K_TIMESTAMP,
       K_LIST, K_PATTERN, K_CRITERIA };

static const struct named {
  const char *name;
  int kind;
  int arg;          /* int field, list id, or flag number */
  const char *path; /* for type errors */
} named_params[] = {
    {"EventSourceArn", K_SRC_ARN, 0, "eventSourceArn"},
    {"FunctionName", K_FUNCTION, 0, "functionName"},
    {"BatchSize", K_INT, BP__CFG_BATCH_SIZE, NULL},
    {"MaximumBatchingWindowInSeconds", K_INT, BP__CFG_WINDOW, NULL},
    {"ParallelizationFactor", K_INT, BP__CFG_PARALLELIZATION, NULL},
    {"StartingPosition", K_POSITION, 0, "startingPosition"},
    {"StartingPositionTimestamp", K_TIMESTAMP, 0, "startingPositionTimestamp"},
    {"MaximumRetryAttempts", K_INT, BP__CFG_MAX_RETRY, NULL},
    {"MaximumRecordAgeInSeconds", K_INT, BP__CFG_MAX_AGE, NULL},
    {"BisectBatchOnFunctionError", K_BOOL, 0, "bisectBatchOnFunctionError"},
    {"FunctionResponseTypes", K_LIST, BP__CFG_LIST_RESPONSE_TYPES, "functionResponseTypes"},
    {"TumblingWindowInSeconds", K_INT, BP__CFG_TUMBLING, NULL},
    {"Enabled", K_BOOL, 1, "enabled"},
    {"DestinationConfig.OnFailure.Destination", K_DESTINATION, 0, NULL},
    {"DestinationConfig.OnSuccess.Destination", K_ON_SUCCESS, 0, NULL},
    {"MetricsConfig.Metrics", K_LIST, BP__CFG_LIST_METRICS, "metricsConfig.metrics"},
    {"FilterCriteria", K_CRITERIA, 0, NULL},
    {"FilterCriteria.Filters.Pattern", K_PATTERN, 0, NULL},
    {"MaxFilters", K_INT, BP__CFG_MAX_FILTERS, NULL},
};

/* "" = no items; text starting with '[' = a JSON array of strings; else one item. The array
 * is checked for syntax first, then item by item (AWS deserializes before it validates). */
static int set_list_text(bp_config *c, const struct named *np, const char *v, size_t n) {
  const char *e = v + n, *p = skip_ws(v, e);
  int rc;
  if (n == 0) return bp__cfg_list_done(c, np->arg, 0);
  if (p == e || *p != '[') {
    if ((rc = bp__cfg_list_item(c, np->arg, v, n))) return rc;
    return bp__cfg_list_done(c, np->arg, 1);
  }
  for (int pass = 0;; pass++) {
    size_t count = 0;
    int closed = 0;
    const char *q = skip_ws(p + 1, e);
    if (q < e && *q == ']') {
      closed = 1;
      q++;
    }
    while (!closed) {
      char item[64];
      str_out o = {item, sizeof item, 0};
      if (q == e || *q != '"' || !(q = scan_string(q, e, pass ? &o : NULL))) break;
      if (pass && (rc = bp__cfg_list_item(c, np->arg, item, o.len < o.cap ? o.len : o.cap)))
        return rc;
      count++;
      q = skip_ws(q, e);
      if (q < e && *q == ']') {
        closed = 1;
        q++;
      } else if (q < e && *q == ',') {
        q = skip_ws(q + 1, e);
      } else {
        break;
      }
    }
    if (!closed || skip_ws(q, e) != e)
      return text_type_error(c, np->path, v, n, "a list of strings");
    if (pass) return bp__cfg_list_done(c, np->arg, count);
  }
}

static int set_by_kind(bp_config *c, const struct named *np, const char *v, size_t n) {
  int64_t iv;
  int rc;
  switch (np->kind) {
  case K_INT:
    rc = bp__cfg_parse_int(v, n, &iv);
    if (rc < 0) return text_type_error(c, int_fields[np->arg].path, v, n, "an integer");
    return bp__cfg_set_int(c, np->arg, iv, rc ? v : NULL, n);
  case K_BOOL: {
    int on = n == 4 && memcmp(v, "true", 4) == 0;
    if (!on && !(n == 5 && memcmp(v, "false", 5) == 0))
      return text_type_error(c, np->path, v, n, "a boolean (true or false)");
    if (np->arg) c->enabled = on;
    else c->bisect = on;
    return 0;
  }
  case K_SRC_ARN: return bp_config_set_event_source_arn(c, v, n);
  case K_FUNCTION: return bp_config_set_function_name(c, v, n);
  case K_DESTINATION: return bp_config_set_on_failure_destination(c, v, n);
  case K_ON_SUCCESS:
    return bp__cfg_fail(c, BP_ERR_CONFIG_INVALID, BP__CFG_INVALID_PARAM,
                        "Unsupported DestinationConfig parameter for given event source "
                        "mapping type.");
  case K_POSITION: return bp__cfg_set_position_text(c, v, n);
  case K_TIMESTAMP:
    if (n == 0) {
      c->timestamp_ms = BP_CONFIG_NO_TIMESTAMP;
      return 0;
    }
    return bp__cfg_set_timestamp_text(c, v, n);
  case K_LIST: return set_list_text(c, np, v, n);
  case K_PATTERN: return bp_config_add_filter(c, v, n);
  default: /* K_CRITERIA */
    if (n == 0) {
      bp__cfg_drop_filters(c);
      return 0;
    }
    return bp__cfg_set_filter_criteria_json(c, v, n);
  }
}

int bp_config_set(bp_config *c, const char *name, const char *value, char *errbuf,
                  size_t errlen) {
  if (!c || !name || !value)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT, "NULL argument");
  bp__cfg_clear_error(c);
  int rc = BP_ERR_CONFIG_UNKNOWN;
  for (size_t i = 0; i < sizeof named_params / sizeof named_params[0]; i++) {
    if (strcmp(named_params[i].name, name) == 0) {
      rc = set_by_kind(c, &named_params[i], value, strlen(value));
      break;
    }
  }
  if (rc == BP_ERR_CONFIG_UNKNOWN)
    bp__errbuf(c->msg, sizeof c->msg, rc, "No such configuration property: \"%.*s\"",
               bp__cfg_echo_len(name, strlen(name)), name);
  return bp__errbuf(errbuf, errlen, rc, "%s", rc ? c->msg : "");
}

/* ---- Core-only build: no JSON parser (bp_config_parse_json() is not declared) ---- */

#if !BP_WITH_CODEC
int bp__cfg_set_filter_criteria_json(bp_config *c, const char *json, size_t len) {
  (void)json;
  (void)len;
  return bp__cfg_fail(c, BP_ERR_UNSUPPORTED, NULL,
                      "FilterCriteria JSON needs the codec (BP_WITH_CODEC is 0 in this build)");
}
#endif
