/* SPDX-License-Identifier: MIT */
/*
 * bpsim: the scenario runner. Shared types of its files:
 *   bpsim.c         main, command line, one line per case
 *   bpsim_load.c    loading the scenario file (errors name the JSON path)
 *   bpsim_stream.c  the records of a scenario's stream: inline `stream` or `stream_file` NDJSON
 *   bpsim_parse.c   reading a JSON file or line into a tree (size, NUL and nesting limits)
 *   bpsim_json.c    JSON helpers: reading, rendering, writing and building values
 *   bpsim_report.c  JSON paths and the per-case report
 *   bpsim_match.c   value comparison and the $matchers
 *   bpsim_host.c    the simulated host: stream, scripted function, clock, engine callbacks
 *   bpsim_expect.c  a scenario's `expect` against what the host recorded
 *   bpsim_config.c  the config cases (CreateEventSourceMapping bodies)
 *   bpsim_trace.c   the output: result lines and timelines, as text or NDJSON
 * Everything lives in main's locals or in objects it owns: no global mutable state.
 */
#ifndef BPSIM_H
#define BPSIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include <batchpoint.h>
#include <batchpoint/bp_engine.h>

#if defined(__GNUC__) || defined(__clang__)
#define SIM_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SIM_PRINTF(a, b)
#endif

/* ---- the scenario file (bpsim_load.c, its records bpsim_stream.c) ---- */

/** One record of the simulated stream; bp_record views point into these strings. */
typedef struct sim_record {
  const char *label;   /* r1 ... (from the file, or "#<index>") */
  const char *shard;   /* borrowed from the file tree */
  const char *seq;
  size_t seq_len;
  int64_t arrival_ms;
  uint8_t *data;       /* Kinesis payload bytes (owned) */
  size_t data_len;
  char *ddb_json;      /* DynamoDB StreamRecord text (owned) */
  char *user_identity; /* DynamoDB userIdentity text (owned) or NULL */
  char label_buf[24];
} sim_record;

/** The records of one shard, in order, with their views for complete_fetch. */
typedef struct sim_shard {
  const char *id;
  sim_record **recs;
  bp_record *views;
  size_t n;
} sim_shard;

#define SIM_RESPOND_BODY 0
#define SIM_RESPOND_ERROR 1
#define SIM_RESPOND_THROTTLE 2

/** One rule of the scripted function. */
typedef struct sim_rule {
  const char **contains; /* when_batch_contains_seq (any of) */
  size_t n_contains;
  int has_contains;
  int has_invocation, has_lt, has_ge, final_cond; /* final_cond: -1 none, 0/1 */
  int64_t invocation, now_lt, now_ge;
  int has_window_start;
  int64_t window_start_ms;
  int kind;              /* SIM_RESPOND_* */
  const char *body;      /* NULL: empty */
  size_t body_len;
  const char *error;     /* X-Amz-Function-Error */
  int64_t sleep_ms;
} sim_rule;

typedef struct sim_action {
  int64_t at_ms;
  const char *action;
  yajl_val input, expect_response, expect_state;
} sim_action;

/** One mapping of a scenario (the top-level config/function/expect, or one of `mappings`). */
typedef struct sim_mapping {
  const char *name;
  yajl_val config, expect;
  sim_rule *rules;
  size_t n_rules;
  char path[64]; /* JSON path of its expect ("expect" or "mappings[1].expect") */
} sim_mapping;

typedef struct sim_scenario {
  const char *id;
  size_t index;
  int dynamodb;
  yajl_val node, env, inf_deps;
  sim_record *recs;
  size_t n_recs;
  sim_shard *shards;
  size_t n_shards;
  int64_t start_ms, run_until_ms;
  sim_action *actions;
  size_t n_actions;
  sim_mapping *maps;
  size_t n_maps;
  yajl_val *line_trees; /* `stream_file`: one parsed tree per record line (owned) */
  size_t n_line_trees;
} sim_scenario;

/** Most `setup` calls a config case may make (the loader refuses more). */
#define SIM_MAX_SETUP 16

typedef struct sim_case {
  const char *id;
  size_t index;
  yajl_val node;
} sim_case;

typedef struct sim_file {
  yajl_val root, env;
  sim_scenario *scn;
  size_t n_scn;
  sim_case *cases;
  size_t n_cases;
} sim_file;

/** Load and check @p path. @return 0; -1 with "json.path: what" in @p err. */
int sim_file_load(sim_file *f, const char *path, char *err, size_t errlen);
void sim_file_free(sim_file *f);

/** Environment value of a scenario (its own first, then the file's); NULL if absent. */
const char *sim_env(const sim_file *f, const sim_scenario *s, const char *key);
/** The record with this sequence number (numeric equality), or NULL. */
const sim_record *sim_find_record(const sim_scenario *s, const char *seq, size_t len);

/* ---- JSON helpers (bpsim_json.c) ---- */

/** Member @p key of object @p obj (NULL if absent or @p obj is not an object). */
yajl_val jv_get(yajl_val obj, const char *key);
/** Compact JSON text of @p v, cut with "..." to fit @p cap. */
void jv_render(yajl_val v, char *buf, size_t cap);
/** Compact JSON text of @p v (numbers as their raw tokens); malloc'd, NULL on OOM. */
char *jv_text(yajl_val v, size_t *len);
/** Write a parsed value into @p g (numbers as their own tokens). @return 0, 1 failed. */
int sim_gen_value(yajl_gen g, yajl_val v);
/** Whether @p v is a matcher: an object whose keys all start with '$'. */
int jv_is_matcher(yajl_val v);

/* Values the runner builds itself (freed with jv_free, never with yajl_tree_free). */
yajl_val jv_new_str(const char *s, size_t len);
yajl_val jv_new_int(int64_t i);
yajl_val jv_new_raw_num(const char *token);
yajl_val jv_new_bool(int b);
yajl_val jv_new_null(void);
yajl_val jv_new_arr(void);
yajl_val jv_new_obj(void);
/** Append / add; they take @p v (freed on failure). @return 0, -1 on OOM. */
int jv_push(yajl_val arr, yajl_val v);
int jv_put(yajl_val obj, const char *key, yajl_val v);
void jv_free(yajl_val v);

/* ---- paths and the per-case report (bpsim_report.c) ---- */

typedef struct sim_path {
  char buf[512];
  size_t len;
} sim_path;

void path_set(sim_path *p, const char *s);
/** Append ".key" / "[i]"; @return the old length for path_pop(). */
size_t path_key(sim_path *p, const char *key);
size_t path_idx(sim_path *p, size_t i);
void path_pop(sim_path *p, size_t len);

typedef struct sim_report {
  int failed, skipped; /* skipped: the whole case */
  char fail[1536];     /* the first difference */
  char skip[512];      /* the case's skip reason */
  char parts[1024];    /* skipped parts ("; "-separated) */
  char notes[1024];    /* informational divergences */
} sim_report;

/** Record the first failure (later ones are ignored). @return 0 (for `return rep_fail()`). */
int rep_fail(sim_report *r, const char *fmt, ...) SIM_PRINTF(2, 3);
void rep_part(sim_report *r, const char *fmt, ...) SIM_PRINTF(2, 3);
void rep_note(sim_report *r, const char *fmt, ...) SIM_PRINTF(2, 3);

/* ---- reading JSON text (bpsim_parse.c) ---- */

/** The whole file @p path, NUL-terminated (at most 256 MiB). @return malloc'd text; NULL with
 *  why in @p err. */
char *sim_read_file(const char *path, size_t *len, char *err, size_t errlen);
/** Parse one JSON text (@p one_line: positions as "column C" only). @return the tree; NULL
 *  with where and why it is not usable in @p err. */
yajl_val sim_parse_text(const char *text, size_t len, int one_line, char *err, size_t errlen);

/* ---- the loader's shared checks (bpsim_load.c; the records' in bpsim_stream.c) ---- */

/** Where the loader is in the file: its messages name that JSON path. */
typedef struct sim_loader {
  char *err;
  size_t errlen;
  sim_path path;
  char line[600];          /* "scenarios[0].stream_file F line N" while reading that line */
  char dir[1024];          /* directory of the scenario file with its '/' ("": the current one) */
  const sim_scenario *scn; /* sequence numbers in expectations must be its records' */
} sim_loader;

/** Put "path: what" (or "stream_file line: path: what") into the error. @return -1. */
int ld_fail(sim_loader *l, const char *fmt, ...) SIM_PRINTF(2, 3);
/** Every member of @p obj is one of @p known (NULL-terminated). @return 0, -1 failed. */
int ld_known(sim_loader *l, yajl_val obj, const char *const *known, const char *what);
/** "a string", "an object", ... or "missing", as the messages name a value. */
const char *ld_type_name(yajl_val v);
/* Member getters that fail with the member's path. `need` 1: must be present (else *out is
 * NULL / untouched). @return 0, -1 failed. */
int ld_member(sim_loader *l, yajl_val obj, const char *key, yajl_type t, int need,
              yajl_val *out);
int ld_string(sim_loader *l, yajl_val obj, const char *key, int need, const char **out);
int ld_int(sim_loader *l, yajl_val obj, const char *key, int need, int64_t lo, int64_t hi,
           int64_t *out, int *present);
/** A value that must be a sequence number string (path already set by the caller). */
int ld_seq_val(sim_loader *l, yajl_val v);
/** The records of @p s from its `stream` or `stream_file` (exactly one given), grouped by
 *  shard. @return 0, -1 failed. */
int ld_stream(sim_loader *l, sim_scenario *s, yajl_val stream, const char *file);

/* ---- comparison (bpsim_match.c) ---- */

typedef struct sim_match_ctx {
  sim_report *rep;
  int64_t invocation_count; /* $ref "invocation_count" */
  int seq_strings;          /* strings are sequence numbers: compare numerically */
} sim_match_ctx;

/**
 * Compare @p actual (may be NULL: missing) with @p expected: literals exactly (objects
 * key-order-free, arrays in order, numbers by value, the two stream timestamps to 1 ms),
 * matchers wherever they appear. On a difference the first one goes to ctx->rep with @p path.
 * @return 1 equal, 0 different.
 */
int sim_match(sim_match_ctx *ctx, yajl_val expected, yajl_val actual, sim_path *path);
/** Check the shape of matchers inside an expected value. @return NULL or what is wrong. */
const char *sim_matcher_check(yajl_val expected, sim_path *path);
/** Compare two JSON number tokens by value: -1, 0, 1; -2 when one is not a number. */
int sim_num_cmp(const char *a, const char *b);
/** Sequence numbers compared numerically as strings: -1, 0, 1. */
int sim_seq_cmp(const char *a, size_t alen, const char *b, size_t blen);
/** RFC 3339 text to epoch ms (fractions below 1 ms must be zero for exactness; *sub gets the
 *  nanoseconds below the ms). @return 0, -1 if not RFC 3339. */
int sim_rfc3339(const char *s, int64_t *ms, int32_t *sub_ns);
/** POSIX ERE match of a PCRE-style pattern (\d \w \s translated). @return 1, 0, -1 bad. */
int sim_regex(const char *pattern, const char *text);

/* ---- the simulated host (bpsim_host.c) ---- */

/** One invoke attempt as the function (or the throttle) saw it. */
typedef struct sim_inv {
  int64_t start_ms, end_ms;
  int throttled;
  uint32_t lane, attempt, flags;
  const char *shard;
  char **seqs, **keys; /* owned copies */
  size_t n;
  char *payload;       /* kept only when `events` needs it */
  size_t payload_len;
  yajl_val event;      /* parsed lazily (yajl_tree) */
  int event_bad;
} sim_inv;

typedef struct sim_dlv {
  int64_t at_ms;
  int dest_type;
  int condition;
  uint32_t approximate_invoke_count, lane;
  int64_t timestamp_ms;
  char *destination, *record_json, *s3_key, *shard;
  size_t record_len;
  char **seqs;
  size_t n;
  yajl_val record; /* parsed lazily */
} sim_dlv;

typedef struct sim_ckpt {
  int64_t at_ms;
  size_t shard;
  char *seq; /* NULL: nothing passed */
} sim_ckpt;

typedef struct sim_log {
  sim_inv *inv;  /* every attempt, in start order */
  size_t n_inv, cap_inv;
  sim_dlv *dlv;
  size_t n_dlv, cap_dlv;
  sim_ckpt *ck;
  size_t n_ck, cap_ck;
  size_t attempts, throttled, invocations;
  size_t max_event_bytes;
  bp_engine_metrics metrics;
  int have_metrics;
  char esm_uuid[40];
} sim_log;

typedef struct sim_out sim_out;

typedef struct sim_opts {
  sim_out *tl;       /* where the timeline goes (--trace, --json); NULL: none */
  int keep_payloads;
} sim_opts;

/**
 * Run one mapping of @p s from start_ms to run_until_ms and fill @p log.
 * @return 0 ran (rep may hold a failure that stopped the run); 1 the engine refused the
 *         configuration as unsupported (rep->skip says why).
 */
int sim_run(const sim_file *f, const sim_scenario *s, const sim_mapping *m,
            const sim_opts *o, sim_log *log, sim_report *rep);
void sim_log_free(sim_log *log);
/** The parsed event of an invocation, or NULL (not kept / not JSON). */
yajl_val sim_inv_event(sim_inv *inv);

/* ---- expectations (bpsim_expect.c) ---- */

/** Check mapping @p m's `expect` against @p log; differences and skipped parts go to @p rep. */
void sim_check(const sim_file *f, const sim_scenario *s, const sim_mapping *m, sim_log *log,
               sim_report *rep);
/** Whether `expect` of @p m needs invocation payloads kept. */
int sim_needs_payloads(const sim_mapping *m);

/* ---- config cases (bpsim_config.c) ---- */

void sim_config_case(const sim_file *f, const sim_case *c, sim_report *rep);

/* ---- output: result lines and the timeline, as text or NDJSON (bpsim_trace.c) ---- */

/** Output to @p f; @p json: NDJSON lines instead of text. @return NULL on OOM. */
sim_out *sim_out_new(FILE *f, int json);
void sim_out_del(sim_out *o);
/** `PASS id` / `FAIL id: ...` / `SKIP id: ...` or its JSON line. @return 0 pass, 1 fail, 2 skip. */
int sim_out_result(sim_out *o, const char *id, const sim_report *r);
/** The count line; @p counts: passed, failed, skipped. */
void sim_out_summary(sim_out *o, const int counts[3]);

/* The timeline of one mapping's run: begin, entries at simulated times, end. */
void sim_tl_begin(sim_out *o, const sim_scenario *s, const sim_mapping *m);
/** Writes pending empty fetches and the engine's totals (@p totals NULL: none). */
void sim_tl_end(sim_out *o, int64_t now, const bp_engine_metrics *totals);
void sim_tl_event(sim_out *o, int64_t now, const bp_engine_event *ev);
/** The function's answer to call number @p call (rule @p rule_no of the mapping). */
void sim_tl_response(sim_out *o, int64_t now, const sim_inv *inv, size_t call, const sim_rule *r,
                     size_t rule_no, const char *request_id);
/** A discard with its on-failure record (the delivery request). */
void sim_tl_discard(sim_out *o, int64_t now, const bp_delivery_req *req);
void sim_tl_action(sim_out *o, int64_t now, size_t index, const char *action, int enabled);

#endif
