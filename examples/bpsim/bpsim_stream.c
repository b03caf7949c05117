/* SPDX-License-Identifier: MIT */
/*
 * bpsim_stream.c: the records of a scenario's simulated stream, checked field by field (errors
 * name the JSON path) and grouped by shard into the views the engine fetches.
 *
 * An extension of the format: a scenario may give its records as `stream_file` instead of
 * `stream`: a path (relative to the directory of the scenario file) of an NDJSON file, one
 * record per line, each an object with exactly the fields of a `stream` entry; lines that
 * hold only white space are skipped. Errors there read
 * `scenarios[0].stream_file poison.ndjson line 3: seq: not a decimal string`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpsim.h"

/* Kinesis payload bytes: `data` (UTF-8 text) or `data_fill` {prefix, char, length}. */
static int ld_data(sim_loader *l, yajl_val rec, sim_record *r) {
  yajl_val data = jv_get(rec, "data"), fill = jv_get(rec, "data_fill");
  if ((data != NULL) == (fill != NULL)) return ld_fail(l, "exactly one of 'data' and 'data_fill' expected");
  if (data) {
    if (!YAJL_IS_STRING(data)) {
      size_t old = path_key(&l->path, "data");
      int rc = ld_fail(l, "a string expected, got %s", ld_type_name(data));
      path_pop(&l->path, old);
      return rc;
    }
    r->data_len = strlen(data->u.string);
    r->data = malloc(r->data_len + 1);
    if (!r->data) return ld_fail(l, "out of memory");
    memcpy(r->data, data->u.string, r->data_len + 1);
    return 0;
  }
  size_t old = path_key(&l->path, "data_fill");
  const char *prefix = NULL, *ch = NULL;
  int64_t length = 0;
  int rc = YAJL_IS_OBJECT(fill) ? 0 : ld_fail(l, "an object expected, got %s", ld_type_name(fill));
  if (!rc) rc = ld_string(l, fill, "prefix", 0, &prefix);
  if (!rc) rc = ld_string(l, fill, "char", 1, &ch);
  if (!rc) rc = ld_int(l, fill, "length", 1, 0, 64 << 20, &length, NULL);
  if (!rc && !*ch) rc = ld_fail(l, "char: empty");
  size_t plen = prefix ? strlen(prefix) : 0, clen = ch ? strlen(ch) : 1;
  if (!rc && plen > (size_t)length) rc = ld_fail(l, "prefix longer than length");
  if (!rc && ((size_t)length - plen) % clen) rc = ld_fail(l, "char does not fill length exactly");
  if (!rc) {
    r->data_len = (size_t)length;
    r->data = malloc(r->data_len + 1);
    if (!r->data) rc = ld_fail(l, "out of memory");
  }
  if (!rc) {
    if (plen) memcpy(r->data, prefix, plen);
    for (size_t i = plen; i < r->data_len; i += clen) memcpy(r->data + i, ch, clen);
    r->data[r->data_len] = 0;
  }
  path_pop(&l->path, old);
  return rc;
}

/* Where a scenario's records come from, to name a bad one. */
typedef struct rec_src {
  yajl_val *nodes;  /* the record objects */
  size_t *lines;    /* stream_file: the line of each record; NULL: the inline `stream` */
  const char *file; /* stream_file as the scenario gives it */
} rec_src;

/* Point the loader's messages at record @p i of the scenario (the loader's path): its
 * `stream[i]`, or `stream_file F line N` with the path continuing inside that line. */
static void ld_enter_record(sim_loader *l, const rec_src *src, size_t i, sim_path *saved) {
  *saved = l->path;
  if (src->lines) {
    snprintf(l->line, sizeof l->line, "%.300s.stream_file %.200s line %zu", saved->buf, src->file,
             src->lines[i]);
    path_set(&l->path, "");
  } else {
    path_key(&l->path, "stream");
    path_idx(&l->path, i);
  }
}

static void ld_leave_record(sim_loader *l, const sim_path *saved) {
  l->path = *saved;
  l->line[0] = '\0';
}

static int ld_record(sim_loader *l, sim_scenario *s, yajl_val rec, size_t i, sim_record *r) {
  static const char *const kinesis[] = {"label", "shard", "seq", "partition_key", "arrival_ms",
                                        "data", "data_fill", NULL};
  static const char *const dynamodb[] = {"label", "shard", "seq", "partition_key", "arrival_ms",
                                         "event_name", "event_id", "dynamodb", "user_identity", NULL};
  if (!YAJL_IS_OBJECT(rec)) return ld_fail(l, "an object expected, got %s", ld_type_name(rec));
  const char *label, *pk = NULL;
  yajl_val seq;
  if (ld_known(l, rec, s->dynamodb ? dynamodb : kinesis,
               s->dynamodb ? "DynamoDB record" : "Kinesis record") ||
      ld_string(l, rec, "label", 0, &label) || ld_string(l, rec, "shard", 1, &r->shard) ||
      ld_member(l, rec, "seq", yajl_t_any, 1, &seq))
    return -1;
  size_t old = path_key(&l->path, "seq");
  int rc = ld_seq_val(l, seq);
  path_pop(&l->path, old);
  if (rc) return rc;
  if (!*r->shard || strlen(r->shard) > BP_STORE_MAX_ID_LEN) {
    old = path_key(&l->path, "shard");
    rc = ld_fail(l, "bad shard id");
    path_pop(&l->path, old);
    return rc;
  }
  r->seq = seq->u.string;
  r->seq_len = strlen(r->seq);
  if (ld_int(l, rec, "arrival_ms", 1, 0, BP_TIME_MAX_MS, &r->arrival_ms, NULL)) return -1;
  if (ld_string(l, rec, "partition_key", !s->dynamodb, &pk)) return -1;
  if (label) {
    r->label = label;
  } else {
    snprintf(r->label_buf, sizeof r->label_buf, "#%zu", i);
    r->label = r->label_buf;
  }
  if (!s->dynamodb) return ld_data(l, rec, r);
  const char *name, *id;
  yajl_val ddb, ui;
  if (ld_string(l, rec, "event_name", 1, &name) || ld_string(l, rec, "event_id", 1, &id) ||
      ld_member(l, rec, "dynamodb", yajl_t_object, 1, &ddb) ||
      ld_member(l, rec, "user_identity", yajl_t_object, 0, &ui))
    return -1;
  if (strcmp(name, "INSERT") && strcmp(name, "MODIFY") && strcmp(name, "REMOVE")) {
    old = path_key(&l->path, "event_name");
    rc = ld_fail(l, "INSERT, MODIFY or REMOVE expected, got \"%s\"", name);
    path_pop(&l->path, old);
    return rc;
  }
  r->ddb_json = jv_text(ddb, NULL);
  if (ui) r->user_identity = jv_text(ui, NULL);
  if (!r->ddb_json || (ui && !r->user_identity)) return ld_fail(l, "out of memory");
  return 0;
}

/* Group the records by shard (in order of first appearance) and build their views. */
static int ld_shards(sim_loader *l, sim_scenario *s, const rec_src *src) {
  s->shards = calloc(s->n_recs ? s->n_recs : 1, sizeof *s->shards);
  if (!s->shards) return ld_fail(l, "out of memory");
  for (size_t i = 0; i < s->n_recs; i++) {
    size_t k = 0;
    while (k < s->n_shards && strcmp(s->shards[k].id, s->recs[i].shard)) k++;
    if (k == s->n_shards) s->shards[s->n_shards++].id = s->recs[i].shard;
    s->shards[k].n++;
  }
  for (size_t k = 0; k < s->n_shards; k++) {
    sim_shard *sh = &s->shards[k];
    sh->recs = calloc(sh->n, sizeof *sh->recs);
    sh->views = calloc(sh->n, sizeof *sh->views);
    if (!sh->recs || !sh->views) return ld_fail(l, "out of memory");
    sh->n = 0;
  }
  for (size_t i = 0; i < s->n_recs; i++) {
    sim_record *r = &s->recs[i];
    size_t k = 0;
    while (strcmp(s->shards[k].id, r->shard)) k++;
    sim_shard *sh = &s->shards[k];
    if (sh->n && sim_seq_cmp(sh->recs[sh->n - 1]->seq, sh->recs[sh->n - 1]->seq_len, r->seq,
                             r->seq_len) >= 0) {
      sim_path saved;
      ld_enter_record(l, src, i, &saved);
      path_key(&l->path, "seq");
      ld_fail(l, "not above the previous record of shard %s (shard order is ascending)", r->shard);
      ld_leave_record(l, &saved);
      return -1;
    }
    bp_record *v = &sh->views[sh->n];
    bp_record_init(v, sizeof *v);
    yajl_val rec = src->nodes[i];
    const char *pk = YAJL_GET_STRING(jv_get(rec, "partition_key"));
    v->seq = r->seq;
    v->seq_len = r->seq_len;
    v->arrival_ms = r->arrival_ms;
    v->partition_key = pk ? pk : "";
    v->partition_key_len = pk ? strlen(pk) : 0;
    if (s->dynamodb) {
      const char *id = YAJL_GET_STRING(jv_get(rec, "event_id"));
      const char *name = YAJL_GET_STRING(jv_get(rec, "event_name"));
      v->event_id = id;
      v->event_id_len = strlen(id);
      v->event_name = name;
      v->event_name_len = strlen(name);
      v->dynamodb_json = r->ddb_json;
      v->dynamodb_json_len = strlen(r->ddb_json);
      v->user_identity_json = r->user_identity;
      v->user_identity_json_len = r->user_identity ? strlen(r->user_identity) : 0;
    } else {
      v->data = r->data;
      v->data_len = r->data_len;
    }
    sh->recs[sh->n++] = r;
  }
  return 0;
}

/* `stream_file`: the records as NDJSON lines (see the top of this file). */
static int ld_stream_file(sim_loader *l, sim_scenario *s, const char *name, rec_src *src) {
  char path[4096], why[600];
  size_t len = 0, old = path_key(&l->path, "stream_file");
  int rc = 0;
  if (!*name) rc = ld_fail(l, "empty");
  else if ((size_t)snprintf(path, sizeof path, "%s%s", name[0] == '/' ? "" : l->dir, name) >=
           sizeof path)
    rc = ld_fail(l, "path too long");
  char *text = rc ? NULL : sim_read_file(path, &len, why, sizeof why);
  if (!rc && !text) rc = ld_fail(l, "%s: %s", name, why);
  path_pop(&l->path, old);
  if (rc) return rc;
  size_t cap = 1;
  for (size_t i = 0; i < len; i++) cap += text[i] == '\n';
  s->line_trees = calloc(cap, sizeof *s->line_trees);
  src->lines = calloc(cap, sizeof *src->lines);
  src->nodes = s->line_trees;
  src->file = name;
  if (!s->line_trees || !src->lines) rc = ld_fail(l, "out of memory");
  char *p = text;
  for (size_t line = 1; !rc && p < text + len; line++) {
    char *nl = memchr(p, '\n', (size_t)(text + len - p)), *end = nl ? nl : text + len;
    size_t n = (size_t)(end - p);
    if (n && p[n - 1] == '\r') n--; /* CRLF */
    p[n] = '\0';
    if (strspn(p, " \t") < n) {
      src->lines[s->n_line_trees] = line;
      s->line_trees[s->n_line_trees] = sim_parse_text(p, n, 1, why, sizeof why);
      if (!s->line_trees[s->n_line_trees]) {
        sim_path saved;
        ld_enter_record(l, src, s->n_line_trees, &saved);
        ld_fail(l, "%s", why);
        ld_leave_record(l, &saved);
        rc = -1;
      } else {
        s->n_line_trees++;
      }
    }
    p = nl ? nl + 1 : text + len;
  }
  free(text);
  s->n_recs = s->n_line_trees;
  return rc;
}

/* The records of scenario @p s: its `stream` entries or its `stream_file` lines, checked,
 * then grouped by shard. */
int ld_stream(sim_loader *l, sim_scenario *s, yajl_val stream, const char *file) {
  int rc = 0;
  if ((stream != NULL) == (file != NULL)) {
    size_t old = path_key(&l->path, file ? "stream_file" : "stream");
    rc = ld_fail(l, file ? "give 'stream' or 'stream_file', not both"
                         : "missing (or give 'stream_file')");
    path_pop(&l->path, old);
    return rc;
  }
  rec_src src = {stream ? stream->u.array.values : NULL, NULL, NULL};
  if (file) rc = ld_stream_file(l, s, file, &src);
  size_t n = file ? s->n_recs : stream->u.array.len;
  s->n_recs = 0;
  if (!rc) s->recs = calloc(n ? n : 1, sizeof *s->recs);
  if (!rc && !s->recs) rc = ld_fail(l, "out of memory");
  for (size_t i = 0; !rc && i < n; i++) {
    sim_path saved;
    s->n_recs = i + 1;
    ld_enter_record(l, &src, i, &saved);
    rc = ld_record(l, s, src.nodes[i], i, &s->recs[i]);
    ld_leave_record(l, &saved);
  }
  if (!rc) rc = ld_shards(l, s, &src);
  free(src.lines);
  return rc;
}

const sim_record *sim_find_record(const sim_scenario *s, const char *seq, size_t len) {
  for (size_t i = 0; i < s->n_recs; i++)
    if (sim_seq_cmp(s->recs[i].seq, s->recs[i].seq_len, seq, len) == 0) return &s->recs[i];
  return NULL;
}
