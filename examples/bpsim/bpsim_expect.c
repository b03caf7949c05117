/* SPDX-License-Identifier: MIT */
/*
 * bpsim_expect.c: a mapping's `expect` against the host's log. Fields are checked in the
 * file's order and the first difference is reported; API-level fields (mapping states,
 * LastProcessingResult) and metrics the engine does not report become skipped parts.
 * Readings where the format leaves a choice:
 * - "invocations" are the attempts that reached the function (throttles excluded); with
 *   ignore_empty_invocations the empty ones are dropped before anything numbers them, so
 *   events[].invocation, timing and invocation_count / $ref count the same list;
 * - invocations that start at the same simulated time on different lanes or shards are
 *   compared as a set (SEMANTICS.md §8.1, order within one instant): before any check, each
 *   such group is put in the order `invocations` lists it (or, without `invocations`, the order
 *   `delivered_in_order` implies) where one exists, keeping each lane's own order, so that
 *   `invocation: k` in events and timing means the invocation matched to entry k; order still
 *   counts within a lane and across instants;
 * - max_in_flight is compared like any count (exactly, or by its matcher), per shard;
 * - max_event_bytes is an upper bound over every attempt's event, throttled ones included;
 * - final_checkpoint / checkpoint_at as a string or null name the shard holding that record
 *   (with one shard: that shard); an object {shardId: seq|null} checks several shards.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bpsim.h"

typedef struct chk {
  const sim_file *f;
  const sim_scenario *s;
  const sim_mapping *m;
  sim_log *log;
  sim_report *rep;
  sim_inv **inv; /* the function's invocations (no throttled attempts), in start order */
  size_t n;
  sim_path path;
  sim_match_ctx mc;
} chk;

/* ---- rendering batches with the stream's labels ---- */

static void label_of(const chk *c, const char *seq, char *out, size_t cap) {
  const sim_record *r = sim_find_record(c->s, seq, strlen(seq));
  size_t n = strlen(seq);
  if (r) snprintf(out, cap, "%s", r->label);
  else if (n > 10) snprintf(out, cap, "...%s", seq + n - 8);
  else snprintf(out, cap, "%s", seq);
}

static void cat(char *buf, size_t cap, const char *s) {
  size_t n = strlen(buf), m = strlen(s);
  if (n + m + 4 >= cap) {
    if (n + 4 < cap) memcpy(buf + n, "...", 4);
    return;
  }
  memcpy(buf + n, s, m + 1);
}

static void fmt_seqs(const chk *c, char *const *seqs, size_t n, char *buf, size_t cap) {
  buf[0] = '\0';
  cat(buf, cap, "[");
  for (size_t i = 0; i < n; i++) {
    char l[32];
    label_of(c, seqs[i], l, sizeof l);
    if (i) cat(buf, cap, ",");
    cat(buf, cap, l);
  }
  cat(buf, cap, "]");
}

static void fmt_arr(const chk *c, yajl_val arr, char *buf, size_t cap) {
  buf[0] = '\0';
  cat(buf, cap, "[");
  for (size_t i = 0; i < arr->u.array.len; i++) {
    char l[32];
    label_of(c, arr->u.array.values[i]->u.string, l, sizeof l);
    if (i) cat(buf, cap, ",");
    cat(buf, cap, l);
  }
  cat(buf, cap, "]");
}

static void fmt_all(const chk *c, char *buf, size_t cap) {
  buf[0] = '\0';
  cat(buf, cap, "[");
  for (size_t k = 0; k < c->n; k++) {
    char one[256];
    fmt_seqs(c, c->inv[k]->seqs, c->inv[k]->n, one, sizeof one);
    if (k) cat(buf, cap, ",");
    cat(buf, cap, one);
  }
  cat(buf, cap, "]");
}

static int same_batch(yajl_val want, const sim_inv *inv) {
  if (want->u.array.len != inv->n) return 0;
  for (size_t i = 0; i < inv->n; i++) {
    const char *w = want->u.array.values[i]->u.string;
    if (sim_seq_cmp(w, strlen(w), inv->seqs[i], strlen(inv->seqs[i]))) return 0;
  }
  return 1;
}

static int inv_contains(const sim_inv *inv, const char *seq) {
  for (size_t i = 0; i < inv->n; i++)
    if (sim_seq_cmp(inv->seqs[i], strlen(inv->seqs[i]), seq, strlen(seq)) == 0) return (int)i + 1;
  return 0;
}

/* Compare a computed integer with an expected number or matcher. */
static int match_int(chk *c, yajl_val want, int64_t got) {
  yajl_val a = jv_new_int(got);
  if (!a) return rep_fail(c->rep, "%s: out of memory", c->path.buf);
  int ok = sim_match(&c->mc, want, a, &c->path);
  jv_free(a);
  return ok;
}

/* ---- invocations that start at one instant ---- */

static int same_lane(const sim_inv *a, const sim_inv *b) {
  return a->lane == b->lane && strcmp(a->shard, b->shard) == 0;
}

/* [*g0, *g1): the invocations that start when c->inv[k] starts (start order keeps them
 * together). */
static void instant_group(const chk *c, size_t k, size_t *g0, size_t *g1) {
  size_t a = k, b = k + 1;
  while (a > 0 && c->inv[a - 1]->start_ms == c->inv[k]->start_ms) a--;
  while (b < c->n && c->inv[b]->start_ms == c->inv[k]->start_ms) b++;
  *g0 = a;
  *g1 = b;
}

/* Whether [g0, g1) holds invocations of more than one lane (then its order is not checked). */
static int several_lanes(const chk *c, size_t g0, size_t g1) {
  for (size_t i = g0 + 1; i < g1; i++)
    if (!same_lane(c->inv[g0], c->inv[i])) return 1;
  return 0;
}

/* Whether @p inv may stand at expected position *pos; advances *pos past it. Past the end of
 * the expectation anything fits (the count is checked on its own). */
typedef int (*fits_fn)(yajl_val want, size_t *pos, const sim_inv *inv);

static int fits_batch(yajl_val want, size_t *pos, const sim_inv *inv) {
  if (*pos < want->u.array.len && !same_batch(want->u.array.values[*pos], inv)) return 0;
  ++*pos;
  return 1;
}

static int fits_records(yajl_val want, size_t *pos, const sim_inv *inv) {
  if (*pos < want->u.array.len) {
    if (*pos + inv->n > want->u.array.len) return 0;
    for (size_t i = 0; i < inv->n; i++) {
      const char *w = want->u.array.values[*pos + i]->u.string;
      if (sim_seq_cmp(w, strlen(w), inv->seqs[i], strlen(inv->seqs[i]))) return 0;
    }
  }
  *pos += inv->n;
  return 1;
}

/* Place c->inv[i..g1) so that each fits from @p pos on; the unplaced ones stay in their
 * original relative order, and only the first unplaced one of a lane may be placed next.
 * Depth first, at most *budget steps. */
static int place_group(chk *c, yajl_val want, fits_fn fits, size_t i, size_t g1, size_t pos,
                       size_t *budget) {
  if (i == g1) return 1;
  for (size_t j = i; j < g1; j++) {
    int blocked = 0;
    for (size_t m = i; m < j && !blocked; m++) blocked = same_lane(c->inv[m], c->inv[j]);
    size_t next = pos;
    if (blocked || !fits(want, &next, c->inv[j])) continue;
    if (*budget == 0) return 0;
    --*budget;
    sim_inv *pick = c->inv[j];
    memmove(&c->inv[i + 1], &c->inv[i], (j - i) * sizeof *c->inv);
    c->inv[i] = pick;
    if (place_group(c, want, fits, i + 1, g1, next, budget)) return 1;
    memmove(&c->inv[i], &c->inv[i + 1], (j - i) * sizeof *c->inv);
    c->inv[j] = pick;
  }
  return 0;
}

/* Put every group of same-instant invocations in the order @p want implies, where one exists;
 * a group that cannot match keeps the engine's order (and the check reports it). */
static void order_instants(chk *c, yajl_val want, fits_fn fits) {
  size_t pos = 0;
  for (size_t g0 = 0, g1; g0 < c->n; g0 = g1) {
    instant_group(c, g0, &g0, &g1);
    size_t budget = 100000, end = pos;
    if (g1 - g0 > 1 && place_group(c, want, fits, g0, g1, pos, &budget)) {
      for (size_t i = g0; i < g1; i++) fits(want, &pos, c->inv[i]);
      continue;
    }
    for (size_t i = g0; i < g1; i++) end += fits == fits_batch ? 1 : c->inv[i]->n;
    pos = end;
  }
}

/* ---- invocations ---- */

/* `invocations` and `inf_expected_invocations`; @p info: report as a note, not a failure. */
static void check_batches(chk *c, yajl_val want, int info) {
  char e[600], a[600];
  size_t n = want->u.array.len < c->n ? want->u.array.len : c->n;
  for (size_t k = 0; k < n; k++) {
    if (same_batch(want->u.array.values[k], c->inv[k])) continue;
    size_t g0, g1;
    instant_group(c, k, &g0, &g1);
    if (several_lanes(c, g0, g1)) {
      /* another order of the group may match (inf_expected_invocations beside invocations) */
      size_t budget = 100000, gn = g1 - g0;
      sim_inv **saved = malloc(gn * sizeof *saved);
      if (!saved) return (void)rep_fail(c->rep, "%s: out of memory", c->path.buf);
      memcpy(saved, &c->inv[g0], gn * sizeof *saved);
      int ok = place_group(c, want, fits_batch, g0, g1, g0, &budget);
      memcpy(&c->inv[g0], saved, gn * sizeof *saved);
      free(saved);
      if (ok) {
        k = g1 - 1;
        continue;
      }
      char ew[900], aw[900];
      size_t ge = g1 < want->u.array.len ? g1 : want->u.array.len;
      ew[0] = aw[0] = '\0';
      for (size_t i = g0; i < g1; i++) {
        if (i < ge) {
          fmt_arr(c, want->u.array.values[i], e, sizeof e);
          cat(ew, sizeof ew, i > g0 ? "," : "");
          cat(ew, sizeof ew, e);
        }
        fmt_seqs(c, c->inv[i]->seqs, c->inv[i]->n, a, sizeof a);
        cat(aw, sizeof aw, i > g0 ? "," : "");
        cat(aw, sizeof aw, a);
      }
      if (info)
        rep_note(c->rep, "%s[%zu..%zu]: diverges from the spec's [INF] batches: invocations %zu to %zu "
                 "start at t=%lld on different lanes (a set, each lane in its order): expected {%s}, "
                 "actual {%s}", c->path.buf, g0, g1 - 1, g0 + 1, g1, (long long)c->inv[g0]->start_ms,
                 ew, aw);
      else
        rep_fail(c->rep, "%s[%zu..%zu]: invocations %zu to %zu start at t=%lld on different lanes (a set, "
                 "each lane in its order): expected {%s}, actual {%s}", c->path.buf, g0, g1 - 1, g0 + 1, g1,
                 (long long)c->inv[g0]->start_ms, ew, aw);
      return;
    }
    fmt_arr(c, want->u.array.values[k], e, sizeof e);
    fmt_seqs(c, c->inv[k]->seqs, c->inv[k]->n, a, sizeof a);
    if (info)
      rep_note(c->rep, "%s[%zu]: diverges from the spec's [INF] batches: expected %s, actual %s", c->path.buf, k, e, a);
    else
      rep_fail(c->rep, "%s[%zu]: expected %s, actual %s", c->path.buf, k, e, a);
    return;
  }
  if (want->u.array.len != c->n) {
    char all[900];
    fmt_all(c, all, sizeof all);
    if (info)
      rep_note(c->rep, "%s: diverges from the spec's [INF] batches: %zu expected, %zu made: %s", c->path.buf,
               want->u.array.len, c->n, all);
    else
      rep_fail(c->rep, "%s: %zu invocation(s) expected, %zu made: actual %s", c->path.buf,
               want->u.array.len, c->n, all);
  }
}

static void check_every(chk *c, yajl_val want) {
  for (size_t k = 0; k < c->n; k++) {
    if (same_batch(want, c->inv[k])) continue;
    char e[600], a[600];
    fmt_arr(c, want, e, sizeof e);
    fmt_seqs(c, c->inv[k]->seqs, c->inv[k]->n, a, sizeof a);
    rep_fail(c->rep, "%s: invocation %zu is %s, expected %s", c->path.buf, k + 1, a, e);
    return;
  }
}

static void check_in_order(chk *c, yajl_val want) {
  size_t i = 0;
  for (size_t k = 0; k < c->n; k++) {
    for (size_t j = 0; j < c->inv[k]->n; j++, i++) {
      const char *got = c->inv[k]->seqs[j];
      char l[32], w[32];
      label_of(c, got, l, sizeof l);
      if (i >= want->u.array.len)
        return (void)rep_fail(c->rep, "%s: more records delivered than expected: %s (invocation %zu)",
                              c->path.buf, l, k + 1);
      const char *ws = want->u.array.values[i]->u.string;
      if (sim_seq_cmp(ws, strlen(ws), got, strlen(got))) {
        label_of(c, ws, w, sizeof w);
        return (void)rep_fail(c->rep, "%s[%zu]: expected %s, actual %s (invocation %zu)", c->path.buf, i,
                              w, l, k + 1);
      }
    }
  }
  if (i != want->u.array.len)
    rep_fail(c->rep, "%s: %zu records expected, %zu delivered", c->path.buf, want->u.array.len, i);
}

static void check_counts(chk *c, yajl_val want) {
  for (size_t i = 0; i < want->u.object.len; i++) {
    const char *seq = want->u.object.keys[i];
    int64_t count = 0;
    for (size_t k = 0; k < c->n; k++) count += inv_contains(c->inv[k], seq) != 0;
    size_t old = path_key(&c->path, seq);
    match_int(c, want->u.object.values[i], count);
    path_pop(&c->path, old);
  }
}

static void check_not_delivered(chk *c, yajl_val want) {
  for (size_t i = 0; i < want->u.array.len; i++) {
    const char *seq = want->u.array.values[i]->u.string;
    for (size_t k = 0; k < c->n; k++) {
      if (!inv_contains(c->inv[k], seq)) continue;
      char l[32];
      label_of(c, seq, l, sizeof l);
      rep_fail(c->rep, "%s[%zu]: %s was delivered (invocation %zu)", c->path.buf, i, l, k + 1);
      return;
    }
  }
}

static void check_key_order(chk *c, yajl_val want) {
  for (size_t i = 0; i < want->u.object.len; i++) {
    yajl_val list = want->u.object.values[i];
    size_t prev_k = 0, prev_pos = 0;
    for (size_t j = 0; j < list->u.array.len; j++) {
      const char *seq = list->u.array.values[j]->u.string;
      size_t k = 0;
      int pos = 0;
      for (; k < c->n && !(pos = inv_contains(c->inv[k], seq)); k++) {
      }
      char l[32];
      label_of(c, seq, l, sizeof l);
      if (!pos)
        return (void)rep_fail(c->rep, "%s.%s[%zu]: %s was never delivered", c->path.buf,
                              want->u.object.keys[i], j, l);
      if (j && (k < prev_k || (k == prev_k && (size_t)pos <= prev_pos)))
        return (void)rep_fail(c->rep, "%s.%s[%zu]: %s was first delivered (invocation %zu) before the "
                              "record listed ahead of it", c->path.buf, want->u.object.keys[i], j, l, k + 1);
      prev_k = k;
      prev_pos = (size_t)pos;
    }
  }
}

static int share_key(const sim_inv *a, const sim_inv *b) {
  for (size_t i = 0; i < a->n; i++)
    for (size_t j = 0; j < b->n; j++)
      if (strcmp(a->keys[i], b->keys[j]) == 0) return 1;
  return 0;
}

static void check_serial(chk *c) {
  for (size_t i = 0; i < c->n; i++)
    for (size_t j = i + 1; j < c->n; j++) {
      const sim_inv *a = c->inv[i], *b = c->inv[j];
      if (a->start_ms < b->end_ms && b->start_ms < a->end_ms && share_key(a, b))
        return (void)rep_fail(c->rep, "%s: invocations %zu and %zu share a partition key and overlap "
                              "([%lld, %lld) and [%lld, %lld))", c->path.buf, i + 1, j + 1,
                              (long long)a->start_ms, (long long)a->end_ms, (long long)b->start_ms,
                              (long long)b->end_ms);
    }
}

/* Most invocations running at one instant on one shard (intervals [start, end)). */
static int64_t max_in_flight(const chk *c) {
  int64_t best = 0;
  for (size_t i = 0; i < c->n; i++) {
    int64_t n = 0;
    for (size_t j = 0; j < c->n; j++) {
      const sim_inv *a = c->inv[i], *b = c->inv[j];
      if (strcmp(a->shard, b->shard)) continue;
      if (j == i || (b->start_ms <= a->start_ms && a->start_ms < b->end_ms)) n++;
    }
    if (n > best) best = n;
  }
  return best;
}

/* ---- events ---- */

/* A value inside an event by a path like `Records[0].kinesis.data`. */
static yajl_val at_path(yajl_val v, const char *p) {
  if (p[0] == '$') p += p[1] == '.' ? 2 : 1;
  while (*p && v) {
    if (*p == '[') {
      char *end;
      unsigned long i = strtoul(p + 1, &end, 10);
      if (*end != ']' || !YAJL_IS_ARRAY(v) || i >= v->u.array.len) return NULL;
      v = v->u.array.values[i];
      p = end + 1;
    } else {
      if (*p == '.') p++;
      size_t n = strcspn(p, ".[");
      char key[256];
      if (n == 0 || n >= sizeof key) return NULL;
      memcpy(key, p, n);
      key[n] = '\0';
      v = jv_get(v, key);
      p += n;
    }
  }
  return v;
}

static void check_events(chk *c, yajl_val want) {
  for (size_t i = 0; i < want->u.array.len && !c->rep->failed; i++) {
    yajl_val e = want->u.array.values[i];
    int64_t k = jv_get(e, "invocation")->u.number.i;
    size_t old = path_idx(&c->path, i);
    if ((size_t)k > c->n) {
      rep_fail(c->rep, "%s.invocation: invocation %lld does not exist (%zu made)", c->path.buf,
               (long long)k, c->n);
    } else {
      yajl_val ev = sim_inv_event(c->inv[k - 1]);
      yajl_val eq = jv_get(e, "equals");
      if (!ev) {
        rep_fail(c->rep, "%s: the event of invocation %lld is not JSON", c->path.buf, (long long)k);
      } else if (eq) {
        size_t o2 = path_key(&c->path, "equals");
        sim_match(&c->mc, eq, ev, &c->path);
        path_pop(&c->path, o2);
      } else {
        const char *p = jv_get(e, "path")->u.string;
        char sub[320];
        snprintf(sub, sizeof sub, "match(%s)", p);
        size_t o2 = path_key(&c->path, sub);
        sim_match(&c->mc, jv_get(e, "match"), at_path(ev, p), &c->path);
        path_pop(&c->path, o2);
      }
    }
    path_pop(&c->path, old);
  }
}

/* ---- on-failure records ---- */

static yajl_val batch_info(yajl_val rec) {
  yajl_val b = jv_get(rec, "KinesisBatchInfo");
  return b ? b : jv_get(rec, "DDBStreamBatchInfo");
}

static int dest_type_of(const char *delivery) {
  if (!strcmp(delivery, "sqs")) return BP_DESTINATION_SQS;
  if (!strcmp(delivery, "sns")) return BP_DESTINATION_SNS;
  return BP_DESTINATION_S3;
}

/* ERE-escape @p s onto @p out. */
static void re_escape(const char *s, char *out, size_t cap) {
  size_t o = strlen(out);
  for (; *s && o + 3 < cap; s++) {
    if (strchr(".[]{}()*+?^$|\\", *s)) out[o++] = '\\';
    out[o++] = *s;
  }
  out[o] = '\0';
}

/* s3_key_template into an anchored regex ({esm_uuid}, {shardId}, {timestamp:fmt}, {uuid}). */
static int template_regex(const char *t, const char *uuid, const char *shard, int64_t ts_ms,
                          char *out, size_t cap) {
  snprintf(out, cap, "^");
  while (*t) {
    const char *open = strchr(t, '{');
    char lit[512];
    size_t n = open ? (size_t)(open - t) : strlen(t);
    if (n >= sizeof lit) return -1;
    memcpy(lit, t, n);
    lit[n] = '\0';
    re_escape(lit, out, cap);
    if (!open) break;
    const char *close = strchr(open, '}');
    if (!close) return -1;
    char name[128];
    size_t m = (size_t)(close - open - 1);
    if (m >= sizeof name) return -1;
    memcpy(name, open + 1, m);
    name[m] = '\0';
    if (!strcmp(name, "esm_uuid")) {
      re_escape(uuid, out, cap);
    } else if (!strcmp(name, "shardId")) {
      re_escape(shard, out, cap);
    } else if (!strcmp(name, "uuid")) {
      cat(out, cap, "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    } else if (!strncmp(name, "timestamp:", 10)) {
      time_t secs = (time_t)(ts_ms / 1000);
      struct tm tm;
      char when[128];
      if (!gmtime_r(&secs, &tm) || !strftime(when, sizeof when, name + 10, &tm)) return -1;
      re_escape(when, out, cap);
    } else {
      return -1;
    }
    t = close + 1;
  }
  cat(out, cap, "$");
  return 0;
}

static void check_one_failure(chk *c, yajl_val want, sim_dlv *d) {
  sim_report *r = c->rep; /* the loader checked the fields' names and shapes */
  if (!d->record_json) return (void)rep_fail(r, "%s: the delivery carries no record_json", c->path.buf);
  if (!d->record) {
    char err[256];
    d->record = yajl_tree_parse(d->record_json, err, sizeof err);
    if (!d->record) return (void)rep_fail(r, "%s: the on-failure record is not JSON: %s", c->path.buf, err);
  }
  yajl_val rec = d->record, v;
  const char *dest = YAJL_GET_STRING(jv_get(want, "destination"));
  const char *delivery = YAJL_GET_STRING(jv_get(want, "delivery"));
  if (dest && (!d->destination || strcmp(dest, d->destination)))
    return (void)rep_fail(r, "%s.destination: expected \"%s\", actual \"%s\"", c->path.buf, dest,
                          d->destination ? d->destination : "(none)");
  if (delivery && dest_type_of(delivery) != d->dest_type)
    return (void)rep_fail(r, "%s.delivery: expected %s, the engine delivered to destination type %d",
                          c->path.buf, delivery, d->dest_type);
  if (delivery && !strcmp(delivery, "s3") && !jv_get(rec, "payload"))
    return (void)rep_fail(r, "%s.record.payload: missing in an S3 object body", c->path.buf);
  if ((v = jv_get(want, "record"))) {
    size_t old = path_key(&c->path, "record");
    int ok = sim_match(&c->mc, v, rec, &c->path);
    path_pop(&c->path, old);
    if (!ok) return;
  }
  /* the flat summary */
  yajl_val req = jv_get(rec, "requestContext"), resp = jv_get(rec, "responseContext");
  yajl_val info = batch_info(rec);
  struct {
    const char *name;
    yajl_val actual;
  } flat[] = {{"condition", jv_get(req, "condition")},
              {"approximateInvokeCount", jv_get(req, "approximateInvokeCount")},
              {"batchSize", jv_get(info, "batchSize")},
              {"startSequenceNumber", jv_get(info, "startSequenceNumber")},
              {"endSequenceNumber", jv_get(info, "endSequenceNumber")}};
  for (size_t i = 0; i < sizeof flat / sizeof flat[0]; i++) {
    if (!(v = jv_get(want, flat[i].name))) continue;
    size_t old = path_key(&c->path, flat[i].name);
    c->mc.seq_strings = 1;
    int ok = sim_match(&c->mc, v, flat[i].actual, &c->path);
    c->mc.seq_strings = 0;
    path_pop(&c->path, old);
    if (!ok) return;
  }
  if ((v = jv_get(want, "responseContext"))) {
    const char *w = v->u.string;
    if ((!strcmp(w, "present")) != (resp != NULL))
      return (void)rep_fail(r, "%s.responseContext: expected %s, actual %s", c->path.buf, w,
                            resp ? "present" : "absent");
  }
  if ((v = jv_get(want, "functionError"))) {
    yajl_val fe = jv_get(resp, "functionError");
    const char *w = YAJL_GET_STRING(v);
    size_t old = path_key(&c->path, "functionError");
    if (w && !strcmp(w, "absent")) {
      if (fe) {
        char a[128];
        jv_render(fe, a, sizeof a);
        rep_fail(r, "%s: expected absent, actual %s", c->path.buf, a);
      }
    } else {
      sim_match(&c->mc, v, fe, &c->path);
    }
    path_pop(&c->path, old);
    if (r->failed) return;
  }
  /* the record and the request the engine handed over must agree */
  yajl_val aic = jv_get(req, "approximateInvokeCount"), bs = jv_get(info, "batchSize");
  if (YAJL_IS_INTEGER(aic) && aic->u.number.i != (long long)d->approximate_invoke_count)
    return (void)rep_fail(r, "%s: engine: bp_delivery_req.approximate_invoke_count %u differs from "
                          "the record's %lld", c->path.buf, d->approximate_invoke_count, aic->u.number.i);
  if (YAJL_IS_INTEGER(bs) && bs->u.number.i != (long long)d->n)
    return (void)rep_fail(r, "%s: engine: bp_delivery_req.count %zu differs from the record's batchSize %lld",
                          c->path.buf, d->n, bs->u.number.i);
  int64_t ts = 0;
  int32_t sub;
  const char *tss = YAJL_GET_STRING(jv_get(rec, "timestamp"));
  int have_ts = tss && sim_rfc3339(tss, &ts, &sub) == 0;
  if ((v = jv_get(want, "timestamp_ms"))) {
    if (!have_ts) return (void)rep_fail(r, "%s.timestamp_ms: the record has no RFC 3339 timestamp", c->path.buf);
    size_t old = path_key(&c->path, "timestamp_ms");
    int ok = match_int(c, v, ts);
    path_pop(&c->path, old);
    if (!ok) return;
  }
  if (have_ts && ts != d->timestamp_ms)
    return (void)rep_fail(r, "%s: engine: bp_delivery_req.timestamp_ms %lld differs from the record's "
                          "timestamp %s", c->path.buf, (long long)d->timestamp_ms, tss);
  const char *tmpl = YAJL_GET_STRING(jv_get(want, "s3_key_template"));
  const char *rx = YAJL_GET_STRING(jv_get(want, "s3_key_regex"));
  if ((tmpl || rx) && !d->s3_key) return (void)rep_fail(r, "%s: the delivery has no s3_key", c->path.buf);
  if (tmpl) {
    char re[2048];
    if (template_regex(tmpl, c->log->esm_uuid, d->shard, ts, re, sizeof re))
      return (void)rep_fail(r, "%s.s3_key_template: cannot read the template", c->path.buf);
    if (sim_regex(re, d->s3_key) != 1)
      return (void)rep_fail(r, "%s.s3_key_template: \"%s\" does not fit \"%s\" (timestamp %s)", c->path.buf,
                            d->s3_key, tmpl, tss ? tss : "?");
  }
  if (rx && sim_regex(rx, d->s3_key) != 1)
    return (void)rep_fail(r, "%s.s3_key_regex: \"%s\" does not match", c->path.buf, d->s3_key);
  /* always: not earlier than the end of the last invocation that held the discarded records */
  int64_t last_end = -1;
  for (size_t k = 0; k < c->log->n_inv; k++) {
    const sim_inv *inv = &c->log->inv[k];
    if (inv->throttled || inv->start_ms > d->at_ms || strcmp(inv->shard, d->shard)) continue;
    for (size_t j = 0; j < d->n; j++)
      if (inv_contains(inv, d->seqs[j]) && inv->end_ms > last_end) last_end = inv->end_ms;
  }
  if (have_ts && last_end >= 0 && ts < last_end)
    rep_fail(r, "%s: the record's timestamp %s is earlier than the end (t=%lld) of the last invocation "
             "that contained its records", c->path.buf, tss, (long long)last_end);
}

static void check_failures(chk *c, yajl_val want) {
  size_t n = want->u.array.len < c->log->n_dlv ? want->u.array.len : c->log->n_dlv;
  for (size_t i = 0; i < n && !c->rep->failed; i++) {
    size_t old = path_idx(&c->path, i);
    check_one_failure(c, want->u.array.values[i], &c->log->dlv[i]);
    path_pop(&c->path, old);
  }
  if (!c->rep->failed && want->u.array.len != c->log->n_dlv) {
    char extra[400] = "";
    if (c->log->n_dlv > want->u.array.len) {
      const sim_dlv *d = &c->log->dlv[want->u.array.len];
      char a[32], b[32];
      label_of(c, d->seqs[0], a, sizeof a);
      label_of(c, d->seqs[d->n - 1], b, sizeof b);
      snprintf(extra, sizeof extra, "; the first unexpected: %s %s..%s (%zu records) at t=%lld",
               d->condition == BP_CONDITION_RECORD_AGE_EXCEEDED ? "RecordAgeExceeded" : "RetryAttemptsExhausted",
               a, b, d->n, (long long)d->at_ms);
    }
    rep_fail(c->rep, "%s: %zu on-failure record(s) expected, %zu emitted%s", c->path.buf,
             want->u.array.len, c->log->n_dlv, extra);
  }
}

/* ---- checkpoints ---- */

/* The shard an expected checkpoint is about: the only one, or the one holding @p seq. */
static size_t shard_for(const chk *c, const char *seq) {
  if (c->s->n_shards <= 1 || !seq) return 0;
  const sim_record *r = sim_find_record(c->s, seq, strlen(seq));
  for (size_t k = 0; r && k < c->s->n_shards; k++)
    if (!strcmp(c->s->shards[k].id, r->shard)) return k;
  return 0;
}

static const char *checkpoint_at(const chk *c, size_t shard, int64_t at) {
  const char *v = NULL;
  for (size_t i = 0; i < c->log->n_ck && c->log->ck[i].at_ms <= at; i++)
    if (c->log->ck[i].shard == shard) v = c->log->ck[i].seq;
  return v;
}

static void check_one_checkpoint(chk *c, yajl_val want, size_t shard, int64_t at) {
  const char *got = checkpoint_at(c, shard, at);
  const char *w = YAJL_GET_STRING(want);
  int same = w ? got && sim_seq_cmp(w, strlen(w), got, strlen(got)) == 0 : got == NULL;
  if (same) return;
  char wl[40] = "null", gl[40] = "null";
  if (w) label_of(c, w, wl, sizeof wl);
  if (got) label_of(c, got, gl, sizeof gl);
  rep_fail(c->rep, "%s: expected %s (%s), actual %s (%s)", c->path.buf, w ? w : "null", wl,
           got ? got : "null", gl);
}

static void check_checkpoint(chk *c, yajl_val want, int64_t at) {
  if (!YAJL_IS_OBJECT(want)) {
    const char *w = YAJL_GET_STRING(want);
    if (w || c->s->n_shards <= 1) return check_one_checkpoint(c, want, shard_for(c, w), at);
    for (size_t k = 0; k < c->s->n_shards; k++) check_one_checkpoint(c, want, k, at);
    return;
  }
  for (size_t i = 0; i < want->u.object.len; i++) { /* the loader checked the shard ids */
    size_t k = 0;
    while (strcmp(c->s->shards[k].id, want->u.object.keys[i])) k++;
    size_t old = path_key(&c->path, want->u.object.keys[i]);
    check_one_checkpoint(c, want->u.object.values[i], k, at);
    path_pop(&c->path, old);
  }
}

/* ---- timing ---- */

static int side_time(const chk *c, yajl_val side, size_t each, int64_t *t) {
  yajl_val tm = jv_get(side, "time_ms"), inv = jv_get(side, "invocation");
  if (tm) {
    *t = tm->u.number.i;
    return 0;
  }
  size_t k = YAJL_IS_STRING(inv) ? each : (size_t)inv->u.number.i - 1;
  if (k >= c->n) return -1;
  *t = strcmp(jv_get(side, "at")->u.string, "start") ? c->inv[k]->end_ms : c->inv[k]->start_ms;
  return 0;
}

static int is_each(yajl_val side) { return YAJL_IS_STRING(jv_get(side, "invocation")); }

static void check_timing(chk *c, yajl_val want) {
  for (size_t i = 0; i < want->u.array.len && !c->rep->failed; i++) {
    yajl_val t = want->u.array.values[i], l = jv_get(t, "left"), rt = jv_get(t, "right");
    yajl_val off = jv_get(t, "offset_ms");
    int64_t offset = off ? off->u.number.i : 0;
    int ge = !strcmp(jv_get(t, "op")->u.string, ">=");
    size_t rounds = is_each(l) || is_each(rt) ? c->n : 1;
    for (size_t k = 0; k < rounds; k++) {
      int64_t a, b;
      if (side_time(c, l, k, &a) || side_time(c, rt, k, &b)) {
        rep_fail(c->rep, "%s[%zu]: names invocation that does not exist (%zu made)", c->path.buf, i, c->n);
        break;
      }
      if (ge ? a >= b + offset : a <= b + offset) continue;
      rep_fail(c->rep, "%s[%zu]: %lld %s %lld + %lld does not hold (t - start_ms: %lld vs %lld)%s",
               c->path.buf, i, (long long)a, ge ? ">=" : "<=", (long long)b, (long long)offset,
               (long long)(a - c->s->start_ms), (long long)(b - c->s->start_ms),
               rounds > 1 ? " for invocation 'each'" : "");
      break;
    }
  }
}

/* ---- metrics ---- */

static int metric_value(const bp_engine_metrics *m, const char *name, int64_t *out) {
  static const struct {
    const char *name;
    size_t off;
  } names[] = {
      {"PolledEventCount", offsetof(bp_engine_metrics, polled_event_count)},
      {"FilteredOutEventCount", offsetof(bp_engine_metrics, filtered_out_event_count)},
      {"InvokedEventCount", offsetof(bp_engine_metrics, invoked_event_count)},
      {"FailedInvokeEventCount", offsetof(bp_engine_metrics, failed_invoke_event_count)},
      {"DroppedEventCount", offsetof(bp_engine_metrics, dropped_event_count)},
      {"OnFailureDestinationDeliveredEventCount",
       offsetof(bp_engine_metrics, on_failure_destination_delivered_event_count)},
      {"DestinationDeliveryFailures", offsetof(bp_engine_metrics, destination_delivery_failures)},
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (strcmp(names[i].name, name)) continue;
    uint64_t v;
    memcpy(&v, (const char *)m + names[i].off, sizeof v);
    *out = (int64_t)v;
    return 0;
  }
  if (!strcmp(name, "IteratorAge") && m->iterator_age_ms >= 0) {
    *out = m->iterator_age_ms;
    return 0;
  }
  return -1;
}

static void check_metrics(chk *c, yajl_val want) {
  for (size_t i = 0; i < want->u.object.len; i++) {
    int64_t v;
    const char *name = want->u.object.keys[i];
    if (!c->log->have_metrics || metric_value(&c->log->metrics, name, &v)) {
      rep_part(c->rep, "%s.%s (not reported by the engine)", c->path.buf, name);
      continue;
    }
    size_t old = path_key(&c->path, name);
    match_int(c, want->u.object.values[i], v);
    path_pop(&c->path, old);
  }
}

/* ---- driver ---- */

static void check_field(chk *c, const char *key, yajl_val v) {
  if (!strcmp(key, "invocations")) check_batches(c, v, 0);
  else if (!strcmp(key, "inf_expected_invocations")) check_batches(c, v, 1);
  else if (!strcmp(key, "invocation_count")) match_int(c, v, (int64_t)c->n);
  else if (!strcmp(key, "every_invocation")) check_every(c, v);
  else if (!strcmp(key, "throttled_attempts")) match_int(c, v, (int64_t)c->log->throttled);
  else if (!strcmp(key, "delivered_in_order")) check_in_order(c, v);
  else if (!strcmp(key, "delivery_counts")) check_counts(c, v);
  else if (!strcmp(key, "not_delivered")) check_not_delivered(c, v);
  else if (!strcmp(key, "per_key_order")) check_key_order(c, v);
  else if (!strcmp(key, "per_key_serial")) {
    if (YAJL_IS_TRUE(v)) check_serial(c);
  } else if (!strcmp(key, "max_in_flight")) match_int(c, v, max_in_flight(c));
  else if (!strcmp(key, "max_event_bytes")) {
    int64_t got = (int64_t)c->log->max_event_bytes;
    if (YAJL_IS_NUMBER(v) && sim_num_cmp(v->u.number.r, "0") >= 0) {
      char tok[32];
      snprintf(tok, sizeof tok, "%lld", (long long)got);
      if (sim_num_cmp(tok, v->u.number.r) > 0)
        rep_fail(c->rep, "%s: an event of %lld bytes exceeds %s", c->path.buf, (long long)got, v->u.number.r);
    } else {
      match_int(c, v, got);
    }
  } else if (!strcmp(key, "events")) check_events(c, v);
  else if (!strcmp(key, "on_failure")) check_failures(c, v);
  else if (!strcmp(key, "final_checkpoint")) check_checkpoint(c, v, c->s->run_until_ms);
  else if (!strcmp(key, "checkpoint_at")) {
    for (size_t i = 0; i < v->u.array.len; i++) {
      yajl_val e = v->u.array.values[i];
      size_t old = path_idx(&c->path, i);
      path_key(&c->path, "checkpoint");
      check_checkpoint(c, jv_get(e, "checkpoint"), jv_get(e, "at_ms")->u.number.i);
      path_pop(&c->path, old);
    }
  } else if (!strcmp(key, "timing")) check_timing(c, v);
  else if (!strcmp(key, "metrics")) check_metrics(c, v);
  else if (!strcmp(key, "last_processing_result")) rep_part(c->rep, "%s (API-level)", c->path.buf);
  /* ignore_empty_invocations: applied when the list is built */
}

/* Whether a failing path (relative to expect) is listed in inf_dependencies. */
static const char *inf_dependency(const chk *c, const char *failed) {
  char rel[512];
  size_t o = 0;
  for (const char *p = failed; *p && o + 1 < sizeof rel;) { /* drop ".equals": paths name events */
    if (!strncmp(p, ".equals", 7) && (p[7] == '.' || p[7] == ':' || !p[7])) {
      p += 7;
      continue;
    }
    rel[o++] = *p++;
  }
  rel[o] = '\0';
  yajl_val deps = c->s->inf_deps;
  for (size_t i = 0; deps && i < deps->u.array.len; i++) {
    const char *d = YAJL_GET_STRING(deps->u.array.values[i]);
    while (d && *d) { /* "a / b, c (why)": each token up to a space */
      while (*d == ' ' || *d == '/' || *d == ',') d++;
      size_t n = strcspn(d, " /,");
      if (n && strncmp(rel, d, n) == 0 && (rel[n] == '\0' || rel[n] == '[' || rel[n] == '.' || rel[n] == ':'))
        return YAJL_GET_STRING(deps->u.array.values[i]);
      d += n;
      if (*d == ' ' && d[1] != '/') break; /* the rest is the reason */
      if (*d == ',' && d[1] == ' ') d++;
    }
  }
  return NULL;
}

int sim_needs_payloads(const sim_mapping *m) { return jv_get(m->expect, "events") != NULL; }

void sim_check(const sim_file *f, const sim_scenario *s, const sim_mapping *m, sim_log *log,
               sim_report *rep) {
  chk c;
  memset(&c, 0, sizeof c);
  c.f = f;
  c.s = s;
  c.m = m;
  c.log = log;
  c.rep = rep;
  c.mc.rep = rep;
  int ignore_empty = YAJL_IS_TRUE(jv_get(m->expect, "ignore_empty_invocations"));
  c.inv = calloc(log->n_inv ? log->n_inv : 1, sizeof *c.inv);
  if (!c.inv) {
    rep_fail(rep, "out of memory");
    return;
  }
  for (size_t i = 0; i < log->n_inv; i++)
    if (!log->inv[i].throttled && !(ignore_empty && log->inv[i].n == 0)) c.inv[c.n++] = &log->inv[i];
  c.mc.invocation_count = (int64_t)c.n;
  yajl_val order = jv_get(m->expect, "invocations");
  if (YAJL_IS_ARRAY(order)) order_instants(&c, order, fits_batch);
  else if (YAJL_IS_ARRAY(order = jv_get(m->expect, "delivered_in_order")))
    order_instants(&c, order, fits_records);
  int failed_before = rep->failed;
  yajl_val ex = m->expect;
  for (size_t i = 0; i < ex->u.object.len; i++) {
    path_set(&c.path, m->path);
    path_key(&c.path, ex->u.object.keys[i]);
    check_field(&c, ex->u.object.keys[i], ex->u.object.values[i]);
  }
  if (rep->failed && !failed_before) {
    size_t pl = strlen(m->path);
    const char *rel = strncmp(rep->fail, m->path, pl) == 0 && rep->fail[pl] == '.' ? rep->fail + pl + 1 : NULL;
    const char *dep = rel ? inf_dependency(&c, rel) : NULL;
    if (dep) {
      char msg[sizeof rep->fail + 640];
      snprintf(msg, sizeof msg, "diverges from spec choice (inf_dependencies: \"%.500s\"): %s", dep, rep->fail);
      memcpy(rep->fail, msg, sizeof rep->fail - 1);
      rep->fail[sizeof rep->fail - 1] = '\0';
    }
  }
  free(c.inv);
}
