/* SPDX-License-Identifier: MIT */
/*
 * bpfilter_vectors.c: run a vector file in the format of filter-vectors.json (FILTERS.md
 * §7): each vector is a pattern and either an event with its expected verdict or
 * `invalid: true` with, optionally, the expected rejection text. A valid pattern is matched
 * on the event as JSON; where the vector gives a Lambda record (Kinesis `record`, or a
 * DynamoDB `event` that is a whole record) also through the record's filter view, after
 * checking that the view the library builds is the vector's record.
 *
 * In strict mode (BP_FILTER_STRICT_LAMBDA) a vector passes with the same verdict or when its
 * pattern is refused as using an operator Lambda does not document.
 *
 * The file is checked whole before anything runs: a malformed file is reported with the
 * JSON path of the first bad value and nothing else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfilter.h"

/* The library's rejection text for an operator strict mode refuses ends this way. */
#define STRICT_REFUSAL "is not supported by Lambda event filtering"
#define AWS_REASON_PREFIX "Event pattern is not valid. Reason: "

typedef struct vec {
  const char *id;
  char *pattern;       /* the pattern text (owned) */
  int invalid;         /* the pattern must be rejected */
  const char *reason;  /* ...with this text (NULL: any) */
  int match, dropped;  /* the expected verdict */
  char *event;         /* the event text (owned) */
  int record_source;   /* 0, BP_SOURCE_KINESIS or BP_SOURCE_DYNAMODB */
  yajl_val record;     /* the Lambda record as delivered */
  int record_required; /* Kinesis `record`: it must build (a DynamoDB `event` may be partial) */
} vec;

typedef struct vec_file {
  char *text;
  yajl_val root;
  vec *v;
  size_t n;
} vec_file;

static int bad(char *err, size_t errlen, size_t i, const char *field, const char *what) {
  snprintf(err, errlen, "[%zu]%s%s: %s", i, field[0] ? "." : "", field, what);
  return -1;
}

static int is_true(yajl_val v) { return v && YAJL_IS_TRUE(v); }

/* The expected rejection text: expected_error, else ruler_error, else AWS's reason line. */
static const char *reason_of(yajl_val v) {
  const char *e = bpf_string(bpf_member(v, "expected_error"));
  if (!e) e = bpf_string(bpf_member(v, "ruler_error"));
  if (e) return e;
  e = bpf_string(bpf_member(v, "aws_error"));
  size_t n = strlen(AWS_REASON_PREFIX);
  return e && strncmp(e, AWS_REASON_PREFIX, n) == 0 ? e + n : NULL;
}

static int load_vector(yajl_val v, size_t i, vec *out, char *err, size_t errlen) {
  if (!YAJL_IS_OBJECT(v)) return bad(err, errlen, i, "", "not an object");
  if (!(out->id = bpf_string(bpf_member(v, "id"))))
    return bad(err, errlen, i, "id", "missing or not a string");
  /* The pattern: pattern_text, else the raw string of pattern_is_text, else its JSON text. */
  yajl_val pattern = bpf_member(v, "pattern"), ptext = bpf_member(v, "pattern_text");
  if (ptext && !YAJL_IS_STRING(ptext)) return bad(err, errlen, i, "pattern_text", "not a string");
  int raw = !ptext && is_true(bpf_member(v, "pattern_is_text"));
  if (raw && !YAJL_IS_STRING(pattern))
    return bad(err, errlen, i, "pattern", "not a string (pattern_is_text)");
  if (!ptext && !pattern) return bad(err, errlen, i, "pattern", "missing");
  out->pattern = ptext ? strdup(ptext->u.string)
                 : raw ? strdup(pattern->u.string)
                       : bpf_json_text(pattern);
  if (!out->pattern) return bad(err, errlen, i, "pattern", "out of memory");
  if ((out->invalid = is_true(bpf_member(v, "invalid")))) {
    out->reason = reason_of(v);
    return 0;
  }
  yajl_val match = bpf_member(v, "match");
  if (!match || !(YAJL_IS_TRUE(match) || YAJL_IS_FALSE(match)))
    return bad(err, errlen, i, "match", "missing or not a boolean (and not invalid: true)");
  out->match = YAJL_IS_TRUE(match);
  out->dropped = is_true(bpf_member(v, "payload_not_json"));
  /* The event: event_text (when the literal form matters), else the JSON text of event. */
  yajl_val event = bpf_member(v, "event"), etext = bpf_member(v, "event_text");
  if (etext && !YAJL_IS_STRING(etext)) return bad(err, errlen, i, "event_text", "not a string");
  if (!etext && !event) return bad(err, errlen, i, "event", "missing");
  out->event = etext ? strdup(etext->u.string) : bpf_json_text(event);
  if (!out->event) return bad(err, errlen, i, "event", "out of memory");
  const char *input = bpf_string(bpf_member(v, "input"));
  const char *source = bpf_string(bpf_member(v, "lambda_source"));
  if (input && strcmp(input, "kinesis_record") == 0) {
    out->record = bpf_member(v, "record");
    if (!YAJL_IS_OBJECT(out->record)) return bad(err, errlen, i, "record", "not an object");
    out->record_source = BP_SOURCE_KINESIS;
    out->record_required = 1;
  } else if (source && strcmp(source, "dynamodb") == 0 && YAJL_IS_OBJECT(event)) {
    out->record = event;
    out->record_source = BP_SOURCE_DYNAMODB;
  }
  return 0;
}

static void line_col(const char *text, size_t offset, size_t *line, size_t *col) {
  *line = 1;
  *col = 1;
  for (size_t i = 0; i < offset && text[i]; i++) {
    if (text[i] == '\n') {
      ++*line;
      *col = 1;
    } else {
      ++*col;
    }
  }
}

static void vec_file_free(vec_file *f) {
  for (size_t i = 0; i < f->n; i++) {
    free(f->v[i].pattern);
    free(f->v[i].event);
  }
  free(f->v);
  yajl_tree_free(f->root);
  free(f->text);
}

static int vec_file_load(vec_file *f, const char *path, char *err, size_t errlen) {
  size_t len = 0, at = 0, line, col;
  char msg[256];
  memset(f, 0, sizeof *f);
  if (!(f->text = bpf_read_file(path, &len, msg, sizeof msg))) {
    snprintf(err, errlen, "%s", msg);
    return -1;
  }
  if (!(f->root = bpf_json_parse(f->text, len, &at, msg, sizeof msg))) {
    line_col(f->text, at, &line, &col);
    snprintf(err, errlen, "not valid JSON at line %zu, column %zu: %s", line, col, msg);
    return -1;
  }
  if (!YAJL_IS_ARRAY(f->root) || f->root->u.array.len == 0) {
    snprintf(err, errlen, "not a JSON array of vectors");
    return -1;
  }
  size_t n = f->root->u.array.len;
  if (!(f->v = calloc(n, sizeof *f->v))) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  for (; f->n < n; f->n++)
    if (load_vector(f->root->u.array.values[f->n], f->n, &f->v[f->n], err, errlen)) {
      f->n++; /* its texts are freed with the others */
      return -1;
    }
  return 0;
}

/* ---- running one vector ---- */

static const char *result_name(int r) {
  return r == BP_FILTER_MATCH ? "match" : r == BP_FILTER_DROPPED ? "dropped" : "no match";
}

/* The record path: 1 passed or not applicable, 0 failed (the reason in @p why). */
static int check_record(bp_filter *f, bpf_codecs *cc, const vec *v, char *why, size_t cap) {
  char msg[512];
  bpf_record r;
  if (bpf_record_build(v->record, v->record_source, 0, &r, msg, sizeof msg)) {
    if (!v->record_required) return 1; /* a partial DynamoDB sample: the JSON view only */
    snprintf(why, cap, "cannot build the Kinesis record: %s", msg);
    return 0;
  }
  int ok = 0;
  const char *text = NULL;
  size_t len = 0, at = 0;
  bp_codec *codec = bpf_codec_for(cc, &r, msg, sizeof msg);
  yajl_val event = NULL;
  if (!codec) {
    snprintf(why, cap, "cannot build a codec: %s", msg);
  } else if (bp_codec_encode_event(codec, r.shard, &r.view, 1, NULL, &text, &len)) {
    snprintf(why, cap, "the record does not encode: %s", bp_codec_errmsg(codec));
  } else if (!(event = bpf_json_parse(text, len, &at, msg, sizeof msg))) {
    snprintf(why, cap, "the encoded record does not parse: %s", msg);
  } else {
    /* Patterns see the record as the codec delivers it: that must be the vector's record. */
    yajl_val records = bpf_member(event, "Records");
    yajl_val delivered =
        YAJL_IS_ARRAY(records) && records->u.array.len == 1 ? records->u.array.values[0] : NULL;
    int result = BP_FILTER_NO_MATCH;
    int want = v->match ? BP_FILTER_MATCH : v->dropped ? BP_FILTER_DROPPED : BP_FILTER_NO_MATCH;
    char where[256];
    if (!bpf_json_equal(v->record, delivered, where, sizeof where))
      snprintf(why, cap, "the record view differs from the vector's record at %s", where);
    else if (bpf_match_record(f, codec, &r, &result, msg, sizeof msg))
      snprintf(why, cap, "record rejected: %s", msg);
    else if (result != want)
      snprintf(why, cap, "expected %s, got %s (record view)", result_name(want),
               result_name(result));
    else
      ok = 1;
  }
  yajl_tree_free(event);
  bpf_record_free(&r);
  return ok;
}

/* 1 passed, 0 failed (why says how); *refused is set for a strict-mode refusal. */
static int run_vector(const vec *v, int strict, bpf_codecs *cc, int *refused, char *why,
                      size_t cap) {
  bp_filter *f = NULL;
  *refused = 0;
  if (bp_filter_new(&f, strict ? BP_FILTER_STRICT_LAMBDA : 0, NULL)) {
    snprintf(why, cap, "out of memory");
    return 0;
  }
  int ok = 0, rc = bp_filter_add(f, v->pattern, strlen(v->pattern));
  const char *msg = bp_filter_errmsg(f);
  if (strict && rc == BP_ERR_CONFIG_INVALID && strstr(msg, STRICT_REFUSAL)) {
    *refused = ok = 1;
  } else if (v->invalid) {
    if (rc == 0)
      snprintf(why, cap, "expected a rejection, the pattern was accepted");
    else if (rc != BP_ERR_CONFIG_INVALID)
      snprintf(why, cap, "expected a rejection, got error %s: %s", bp_err_name(rc), msg);
    else if (v->reason && strcmp(msg, v->reason) != 0)
      snprintf(why, cap, "expected the rejection \"%s\", got \"%s\"", v->reason, msg);
    else
      ok = 1;
  } else if (rc) {
    snprintf(why, cap, "expected %s, the pattern was rejected: %s", v->match ? "match" : "no match",
             msg);
  } else {
    int matched = 0;
    if (bp_filter_match_json(f, v->event, strlen(v->event), &matched))
      snprintf(why, cap, "event rejected: %s", bp_filter_errmsg(f));
    else if (matched != v->match)
      snprintf(why, cap, "expected %s, got %s (JSON view)", v->match ? "match" : "no match",
               matched ? "match" : "no match");
    else
      ok = !v->record_source || check_record(f, cc, v, why, cap);
  }
  bp_filter_del(f);
  return ok;
}

int bpf_run_vectors(const char *path, int strict) {
  vec_file file;
  char err[512];
  if (vec_file_load(&file, path, err, sizeof err)) {
    fprintf(stderr, "bpfilter: %s: %s\n", path, err);
    vec_file_free(&file);
    return 2;
  }
  bpf_codecs codecs;
  memset(&codecs, 0, sizeof codecs);
  size_t passed = 0, failed = 0;
  for (size_t i = 0; i < file.n; i++) {
    char why[1024];
    int refused = 0;
    if (run_vector(&file.v[i], strict, &codecs, &refused, why, sizeof why)) {
      passed++;
      printf("PASS %s%s\n", file.v[i].id, refused ? " (refused in strict mode)" : "");
    } else {
      failed++;
      printf("FAIL %s: %s\n", file.v[i].id, why);
    }
  }
  printf("%zu passed, %zu failed\n", passed, failed);
  bpf_codecs_free(&codecs);
  vec_file_free(&file);
  return failed ? 1 : 0;
}
