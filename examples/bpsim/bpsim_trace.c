/* SPDX-License-Identifier: MIT */
/*
 * bpsim_trace.c: everything bpsim writes to stdout. A timeline entry is a time, a kind and
 * named fields; it is written either for a person (--trace: one line "t+1.000s ..." made
 * from a template that names the fields) or as NDJSON (--json: one object per entry with
 * every field, sequence numbers in full, the on-failure record as an embedded object). The
 * per-case result and the count line come in the same two forms. Entries come from the
 * engine's events, the scripted function's responses, the on-failure deliveries and the
 * timed actions; a run of empty fetches becomes one entry.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "bpsim.h"

struct sim_out {
  FILE *f;
  int json;
  yajl_gen g;
  const sim_scenario *s; /* the timeline being written */
  const sim_mapping *m;
  size_t quiet;          /* empty fetches not written yet */
  int64_t quiet_first_ms, quiet_last_ms;
};

sim_out *sim_out_new(FILE *f, int json) {
  sim_out *o = calloc(1, sizeof *o);
  if (!o) return NULL;
  o->f = f;
  o->json = json;
  if (json && !(o->g = yajl_gen_alloc(NULL))) {
    free(o);
    return NULL;
  }
  return o;
}

void sim_out_del(sim_out *o) {
  if (!o) return;
  if (o->g) yajl_gen_free(o->g);
  free(o);
}

/* ---- fields ---- */

typedef enum { F_STR, F_INT, F_BOOL, F_TIME, F_JSON, F_TEXT } field_type;

/* One named value of an entry. F_TIME is an epoch ms shown relative to start_ms; F_TEXT
 * exists only in the text form (a summary of fields the JSON form has in full). */
typedef struct field {
  const char *key;
  field_type type;
  const char *s; /* F_STR / F_TEXT; NULL: null, "-" in text */
  size_t len;
  int64_t i;     /* F_INT / F_BOOL / F_TIME */
  yajl_val v;    /* F_JSON; NULL: null */
} field;

static field f_strn(const char *key, const char *s, size_t len) {
  return (field){key, F_STR, s, len, 0, NULL};
}
static field f_str(const char *key, const char *s) { return f_strn(key, s, s ? strlen(s) : 0); }
static field f_int(const char *key, int64_t i) { return (field){key, F_INT, NULL, 0, i, NULL}; }
static field f_bool(const char *key, int b) { return (field){key, F_BOOL, NULL, 0, b, NULL}; }
static field f_time(const char *key, int64_t ms) { return (field){key, F_TIME, NULL, 0, ms, NULL}; }
static field f_json(const char *key, yajl_val v) { return (field){key, F_JSON, NULL, 0, 0, v}; }
static field f_text(const char *key, const char *s) {
  return (field){key, F_TEXT, s, s ? strlen(s) : 0, 0, NULL};
}

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the text form ---- */

typedef struct line {
  char buf[2048];
  size_t len;
} line;

static void put(line *l, const char *s, size_t n) {
  size_t room = sizeof l->buf - 1 - l->len;
  if (n > room) n = room; /* a very long line is cut, never overflows */
  memcpy(l->buf + l->len, s, n);
  l->len += n;
  l->buf[l->len] = '\0';
}

/* A value from the file or the engine: control characters become spaces (one entry, one line). */
static void put_clean(line *l, const char *s, size_t n) {
  size_t from = l->len;
  put(l, s, n);
  for (size_t i = from; i < l->len; i++)
    if ((unsigned char)l->buf[i] < 0x20) l->buf[i] = ' ';
}

static void putf(line *l, const char *fmt, ...) SIM_PRINTF(2, 3);
static void putf(line *l, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0) put(l, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void put_time(line *l, int64_t rel_ms) {
  unsigned long long a = rel_ms < 0 ? (unsigned long long)-rel_ms : (unsigned long long)rel_ms;
  putf(l, "t%c%llu.%03llus", rel_ms < 0 ? '-' : '+', a / 1000, a % 1000);
}

static void put_field(const sim_out *o, line *l, const field *f) {
  switch (f->type) {
  case F_STR:
  case F_TEXT:
    if (f->s) put_clean(l, f->s, f->len);
    else put(l, "-", 1);
    break;
  case F_INT: putf(l, "%lld", (long long)f->i); break;
  case F_BOOL: put(l, f->i ? "true" : "false", f->i ? 4 : 5); break;
  case F_TIME: put_time(l, f->i - o->s->start_ms); break;
  case F_JSON: {
    char tmp[256];
    jv_render(f->v, tmp, sizeof tmp);
    put(l, tmp, strlen(tmp));
    break;
  }
  }
}

/* "{key}" in @p tmpl becomes that field's text; "\n" starts an indented continuation line. */
static void write_text(sim_out *o, int64_t now, const char *tmpl, const field *f, size_t n) {
  line l = {.len = 0}; /* buf all zero */
  put(&l, "    ", 4);
  put_time(&l, now - o->s->start_ms);
  if (o->s->n_maps > 1 && o->m->name) putf(&l, " %s", o->m->name);
  put(&l, " ", 1);
  for (const char *p = tmpl; *p;) {
    const char *close = *p == '{' ? strchr(p, '}') : NULL;
    if (!close) {
      size_t run = strcspn(p + 1, "{\n") + 1;
      if (*p == '\n') {
        put(&l, "\n              ", 15);
        run = 1;
      } else {
        put(&l, p, run);
      }
      p += run;
      continue;
    }
    size_t klen = (size_t)(close - p - 1);
    for (size_t i = 0; i < n; i++)
      if (strlen(f[i].key) == klen && !strncmp(f[i].key, p + 1, klen)) put_field(o, &l, &f[i]);
    p = close + 1;
  }
  fprintf(o->f, "%s\n", l.buf);
}

/* ---- the JSON form ---- */

static int gen_str(yajl_gen g, const char *s, size_t len) {
  if (!s) return yajl_gen_null(g) != yajl_gen_status_ok;
  return yajl_gen_string(g, (const unsigned char *)s, len) != yajl_gen_status_ok;
}

static int gen_field(const sim_out *o, const field *f) {
  yajl_gen g = o->g;
  if (gen_str(g, f->key, strlen(f->key))) return 1;
  switch (f->type) {
  case F_STR: return gen_str(g, f->s, f->len);
  case F_INT: return yajl_gen_integer(g, f->i) != yajl_gen_status_ok;
  case F_BOOL: return yajl_gen_bool(g, (int)f->i) != yajl_gen_status_ok;
  case F_TIME: return yajl_gen_integer(g, f->i - o->s->start_ms) != yajl_gen_status_ok;
  case F_JSON: return sim_gen_value(g, f->v);
  case F_TEXT: break; /* not reached: text-only fields are skipped */
  }
  return 1;
}

/* One NDJSON line: the object @p head (its own fields) and @p n more; F_TEXT ones left out. */
static void write_json(sim_out *o, const field *head, size_t nh, const field *f, size_t n) {
  yajl_gen g = o->g;
  int bad = yajl_gen_map_open(g) != yajl_gen_status_ok;
  for (size_t i = 0; !bad && i < nh + n; i++) {
    const field *x = i < nh ? &head[i] : &f[i - nh];
    if (x->type != F_TEXT) bad = gen_field(o, x);
  }
  bad = bad || yajl_gen_map_close(g) != yajl_gen_status_ok;
  const unsigned char *buf;
  size_t len;
  if (!bad && yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok) {
    fwrite(buf, 1, len, o->f);
    fputc('\n', o->f);
  } else {
    fprintf(stderr, "bpsim: cannot write a JSON line\n");
  }
  yajl_gen_clear(g);
  yajl_gen_reset(g, NULL);
}

/* ---- entries ---- */

static void write_entry(sim_out *o, int64_t now, const char *kind, const char *tmpl, const field *f,
                        size_t n) {
  if (!o->json) {
    write_text(o, now, tmpl, f, n);
    return;
  }
  const field head[] = {f_str("scenario", o->s->id), f_str("mapping", o->m->name),
                        f_time("t_ms", now), f_str("kind", kind)};
  write_json(o, head, N_OF(head), f, n);
}

/* Runs of empty fetches become one entry, written before the next other entry. */
static void flush_quiet(sim_out *o) {
  if (!o->quiet) return;
  field f[] = {f_int("count", (int64_t)o->quiet), f_time("last_t_ms", o->quiet_last_ms)};
  if (o->json) {
    write_entry(o, o->quiet_first_ms, "empty_fetches", NULL, f, N_OF(f));
  } else {
    line l = {.len = 0}; /* buf all zero */
    putf(&l, "    ... %zu empty fetch(es), the last at ", o->quiet);
    put_time(&l, o->quiet_last_ms - o->s->start_ms);
    fprintf(o->f, "%s\n", l.buf);
  }
  o->quiet = 0;
}

static void entry(sim_out *o, int64_t now, const char *kind, const char *tmpl, const field *f,
                  size_t n) {
  flush_quiet(o);
  write_entry(o, now, kind, tmpl, f, n);
}

/* The scenario's label of a sequence number (r1 ...), its last digits when no record of
 * the stream has it, NULL for none. */
static const char *label(const sim_out *o, const char *seq, size_t len, char *buf, size_t cap) {
  const sim_record *r = seq && len ? sim_find_record(o->s, seq, len) : NULL;
  if (r) return r->label;
  if (!seq || !len) return NULL;
  if (len > 8) snprintf(buf, cap, "...%.*s", 8, seq + len - 8);
  else snprintf(buf, cap, "%.*s", (int)len, seq);
  return buf;
}

void sim_tl_begin(sim_out *o, const sim_scenario *s, const sim_mapping *m) {
  o->s = s;
  o->m = m;
  o->quiet = 0;
  if (!o->json) {
    fprintf(o->f, "  %s%s%s (t = time since start_ms):\n", s->id, m->name ? " mapping " : "",
            m->name ? m->name : "");
    return;
  }
  field f[] = {f_int("start_ms", s->start_ms), f_int("run_until_ms", s->run_until_ms)};
  entry(o, s->start_ms, "start", NULL, f, N_OF(f));
}

void sim_tl_end(sim_out *o, int64_t now, const bp_engine_metrics *t) {
  flush_quiet(o);
  if (!t) return;
  field f[] = {
      f_int("invocations", (int64_t)t->invocations),
      f_int("throttled_attempts", (int64_t)t->throttled_attempts),
      f_int("fetches", (int64_t)t->fetches),
      f_int("checkpoints_stored", (int64_t)t->checkpoints_stored),
      f_int("PolledEventCount", (int64_t)t->polled_event_count),
      f_int("FilteredOutEventCount", (int64_t)t->filtered_out_event_count),
      f_int("InvokedEventCount", (int64_t)t->invoked_event_count),
      f_int("FailedInvokeEventCount", (int64_t)t->failed_invoke_event_count),
      f_int("DroppedEventCount", (int64_t)t->dropped_event_count),
      f_int("OnFailureDestinationDeliveredEventCount",
            (int64_t)t->on_failure_destination_delivered_event_count),
      f_int("DestinationDeliveryFailures", (int64_t)t->destination_delivery_failures),
      f_int("IteratorAge", t->iterator_age_ms),
  };
  entry(o, now, "totals",
        "totals: {invocations} invocation(s), {throttled_attempts} throttled, {fetches} "
        "fetch(es), {checkpoints_stored} checkpoint(s) stored\n"
        "Polled {PolledEventCount}, FilteredOut {FilteredOutEventCount}, Invoked "
        "{InvokedEventCount}, FailedInvoke {FailedInvokeEventCount}, Dropped {DroppedEventCount},\n"
        "OnFailureDestinationDelivered {OnFailureDestinationDeliveredEventCount}, "
        "DestinationDeliveryFailures {DestinationDeliveryFailures}, last IteratorAge "
        "{IteratorAge} ms",
        f, N_OF(f));
}

static const char *from_name(int64_t from) {
  switch (from) {
  case BP_POSITION_TRIM_HORIZON: return "TRIM_HORIZON";
  case BP_POSITION_LATEST: return "LATEST";
  case BP_POSITION_AT_TIMESTAMP: return "AT_TIMESTAMP";
  case BP_POSITION_AFTER_SEQUENCE_NUMBER: return "AFTER_SEQUENCE_NUMBER";
  case BP_POSITION_CONTINUE: return "CONTINUE";
  default: return "?";
  }
}

/* How the engine classified an attempt's response: JSON name, text. */
static const char *outcome_name(int32_t o, int text) {
  switch (o) {
  case BP_ATTEMPT_SUCCESS: return "success";
  case BP_ATTEMPT_PARTIAL: return "partial";
  case BP_ATTEMPT_RETURNED_FAILED:
    return text ? "returned but failed (a full-failure or invalid response, or no state)"
                : "returned_failed";
  case BP_ATTEMPT_FUNCTION_ERROR: return text ? "function error" : "function_error";
  case BP_ATTEMPT_NOT_REACHED: return text ? "not reached (throttled)" : "not_reached";
  default: return "?";
  }
}

static const char *condition_name(int64_t c) {
  return c == BP_CONDITION_RECORD_AGE_EXCEEDED ? "RecordAgeExceeded"
         : c == BP_CONDITION_RETRY_ATTEMPTS_EXHAUSTED ? "RetryAttemptsExhausted"
                                                       : "?";
}

static const char *metric_name(int32_t m) {
  static const char *const names[] = {
      "?", "IteratorAge", "PolledEventCount", "FilteredOutEventCount", "InvokedEventCount",
      "FailedInvokeEventCount", "DroppedEventCount", "OnFailureDestinationDeliveredEventCount",
      "DestinationDeliveryFailures"};
  return m > 0 && (size_t)m < N_OF(names) ? names[m] : "?";
}

/* BP_INVOKE_* as a JSON array ("flags") and as " [retry,split]" for the text. */
static yajl_val invoke_flags(uint32_t flags, char *text, size_t cap) {
  static const struct {
    uint32_t bit;
    const char *name;
  } names[] = {{BP_INVOKE_RETRY, "retry"},
               {BP_INVOKE_SPLIT, "split"},
               {BP_INVOKE_REMAINDER, "remainder"},
               {BP_INVOKE_FINAL, "final"},
               {BP_INVOKE_TERMINATED_EARLY, "terminated_early"}};
  yajl_val arr = jv_new_arr();
  size_t len = 0;
  text[0] = '\0';
  for (size_t i = 0; i < N_OF(names); i++) {
    if (!(flags & names[i].bit)) continue;
    if (arr) jv_push(arr, jv_new_str(names[i].name, strlen(names[i].name)));
    int n = snprintf(text + len, cap - len, "%s%s", len ? "," : " [", names[i].name);
    if (n > 0 && (size_t)n < cap - len) len += (size_t)n;
  }
  if (len && len + 1 < cap) memcpy(text + len, "]", 2);
  return arr;
}

void sim_tl_event(sim_out *o, int64_t now, const bp_engine_event *ev) {
  char a[32], b[32];
  const char *first = label(o, ev->first_seq, ev->first_seq_len, a, sizeof a);
  const char *last = label(o, ev->last_seq, ev->last_seq_len, b, sizeof b);
  /* the fields most events share */
  const field shard = f_str("shard", ev->shard_id), lane = f_int("lane", ev->lane),
              first_seq = f_strn("first_seq", ev->first_seq, ev->first_seq_len),
              last_seq = f_strn("last_seq", ev->last_seq, ev->last_seq_len),
              first_l = f_str("first", first), last_l = f_str("last", last),
              records = f_int("records", (int64_t)ev->count);
  switch (ev->type) {
  case BP_EVENT_FETCH: {
    if (ev->count == 0 && ev->value == 0) {
      if (!o->quiet++) o->quiet_first_ms = now;
      o->quiet_last_ms = now;
      return;
    }
    field f[] = {shard, first_seq, last_seq, first_l, last_l, records, f_int("status", ev->value)};
    entry(o, now, "fetch",
          ev->value ? "fetch {shard}: failed (status {status})"
                    : "fetch {shard}: {records} record(s) {first}..{last}",
          f, N_OF(f));
    return;
  }
  case BP_EVENT_INVOKE: {
    char text[96];
    yajl_val flags = invoke_flags(ev->flags, text, sizeof text);
    field f[] = {shard, lane, f_int("attempt", ev->detail), first_seq, last_seq, first_l, last_l,
                 records, f_int("event_bytes", ev->value), f_json("flags", flags),
                 f_text("flag_text", text)};
    entry(o, now, "invoke",
          "invoke {shard} lane {lane} attempt {attempt}: {first}..{last}, {records} record(s), "
          "{event_bytes} bytes{flag_text}",
          f, N_OF(f));
    jv_free(flags);
    return;
  }
  case BP_EVENT_OUTCOME: {
    int partial = ev->detail == BP_ATTEMPT_PARTIAL;
    field f[] = {shard, lane, f_str("classified", outcome_name(ev->detail, 0)), first_seq,
                 last_seq, first_l, last_l, records, f_text("text", outcome_name(ev->detail, 1)),
                 f_int("failed_index", ev->value)};
    entry(o, now, "outcome",
          partial ? "outcome lane {lane} {first}..{last} ({records}): partial, the first failed "
                    "at index {failed_index}"
                  : "outcome lane {lane} {first}..{last} ({records}): {text}",
          f, partial ? N_OF(f) : N_OF(f) - 1);
    return;
  }
  case BP_EVENT_BACKOFF: {
    field f[] = {shard, lane, f_time("until_t_ms", ev->value), f_int("wait_ms", ev->value - now)};
    entry(o, now, "backoff", "backoff lane {lane}: waits {wait_ms} ms, until {until_t_ms}", f,
          N_OF(f));
    return;
  }
  case BP_EVENT_SPLIT: {
    field f[] = {shard, lane, first_seq, last_seq, first_l, last_l, records};
    entry(o, now, "split", "split lane {lane}: older half {first}..{last} ({records})", f, N_OF(f));
    return;
  }
  case BP_EVENT_DISCARD: { /* no destination (the host traces the others with the record) */
    field f[] = {shard, lane, f_str("condition", condition_name(ev->detail)), first_seq,
                 last_seq, first_l, last_l, records, f_int("approximate_invoke_count", ev->value),
                 f_str("destination", NULL), f_json("record", NULL)};
    entry(o, now, "discard",
          "discard lane {lane} {condition}: {first}..{last} ({records} record(s), "
          "approximateInvokeCount {approximate_invoke_count}), dropped: no on-failure destination",
          f, N_OF(f));
    return;
  }
  case BP_EVENT_CHECKPOINT: {
    field f[] = {shard, f_strn("seq", ev->first_seq, ev->first_seq_len), f_str("label", first)};
    entry(o, now, "checkpoint", "checkpoint {shard} -> {label}", f, N_OF(f));
    return;
  }
  case BP_EVENT_CHECKPOINT_STORED: {
    field f[] = {shard, f_int("status", ev->value)};
    entry(o, now, "checkpoint_stored", "checkpoint stored {shard} (status {status})", f, N_OF(f));
    return;
  }
  case BP_EVENT_DELIVERY: {
    field f[] = {shard, lane, f_int("status", ev->value)};
    entry(o, now, "delivery", "delivery lane {lane} completed (status {status})", f, N_OF(f));
    return;
  }
  case BP_EVENT_METRIC: {
    field f[] = {shard, lane, f_str("name", metric_name(ev->detail)), f_int("value", ev->value)};
    entry(o, now, "metric",
          ev->detail == BP_METRIC_ITERATOR_AGE ? "metric {name} {value} ms (lane {lane})"
                                               : "metric {name} +{value} (lane {lane})",
          f, N_OF(f));
    return;
  }
  case BP_EVENT_SHARD_STARTED: {
    field f[] = {shard, f_str("from", from_name(ev->value))};
    entry(o, now, "shard_started", "shard {shard} started ({from})", f, N_OF(f));
    return;
  }
  case BP_EVENT_SHARD_ENDED:
    entry(o, now, "shard_ended", "shard {shard} ended", &shard, 1);
    return;
  case BP_EVENT_ERROR: {
    field f[] = {shard, f_str("message", ev->message), f_int("code", ev->value),
                 f_str("code_name", bp_err_name((int)ev->value))};
    entry(o, now, "error", "ERROR {message} ({code_name})", f, N_OF(f));
    return;
  }
  case BP_EVENT_DRAINED:
    entry(o, now, "drained", "drained", NULL, 0);
    return;
  default: {
    field f[] = {f_int("type", ev->type), f_int("detail", ev->detail), f_int("value", ev->value)};
    entry(o, now, "event", "event {type} (detail {detail}, value {value})", f, N_OF(f));
    return;
  }
  }
}

void sim_tl_response(sim_out *o, int64_t now, const sim_inv *inv, size_t call, const sim_rule *r,
                     size_t rule_no, const char *request_id) {
  const char *kind = r->kind == SIM_RESPOND_THROTTLE ? "throttled"
                     : r->kind == SIM_RESPOND_ERROR  ? "error"
                                                     : "body";
  /* the body in the text form: long ones cut */
  char body[72] = "";
  size_t n = r->body_len < sizeof body - 4 ? r->body_len : sizeof body - 4;
  if (n) memcpy(body, r->body, n);
  memcpy(body + n, n < r->body_len ? "..." : "", n < r->body_len ? 4 : 1);
  char what[160];
  if (r->kind == SIM_RESPOND_THROTTLE) snprintf(what, sizeof what, "throttled");
  else if (r->kind == SIM_RESPOND_ERROR)
    snprintf(what, sizeof what, "error %s%s%s", r->error, n ? ", body " : "", body);
  else snprintf(what, sizeof what, n ? "body %s" : "empty body", body);
  field f[] = {f_str("shard", inv->shard),
               f_int("lane", inv->lane),
               f_int("attempt", inv->attempt),
               f_int("call", (int64_t)call),
               f_int("rule", (int64_t)rule_no),
               f_str("response", kind),
               f_str("function_error", r->kind == SIM_RESPOND_ERROR ? r->error : NULL),
               f_strn("body", r->kind == SIM_RESPOND_THROTTLE ? NULL : r->body ? r->body : "",
                      r->body_len),
               f_int("duration_ms", inv->end_ms - inv->start_ms),
               f_str("request_id", r->kind == SIM_RESPOND_THROTTLE ? NULL : request_id),
               f_text("what", what)};
  entry(o, now, "response",
        "response lane {lane} attempt {attempt} (call {call}, rule {rule}, {duration_ms} ms): "
        "{what}",
        f, N_OF(f));
}

/* A scalar of the on-failure record as text ("-" when absent). */
static const char *scalar(yajl_val v) {
  if (YAJL_IS_STRING(v)) return v->u.string;
  if (YAJL_IS_NUMBER(v)) return v->u.number.r;
  if (YAJL_IS_NULL(v)) return "null";
  return v ? "?" : "-";
}

/* The key fields of an on-failure record on one line. */
static void record_summary(const sim_out *o, yajl_val rec, char *buf, size_t cap) {
  yajl_val rc = jv_get(rec, "requestContext"), rsp = jv_get(rec, "responseContext");
  yajl_val bi = jv_get(rec, "KinesisBatchInfo");
  if (!bi) bi = jv_get(rec, "DDBStreamBatchInfo");
  const char *start = YAJL_GET_STRING(jv_get(bi, "startSequenceNumber"));
  const char *end = YAJL_GET_STRING(jv_get(bi, "endSequenceNumber"));
  char a[32], b[32];
  const char *sa = label(o, start, start ? strlen(start) : 0, a, sizeof a);
  const char *sb = label(o, end, end ? strlen(end) : 0, b, sizeof b);
  yajl_val fe = jv_get(rsp, "functionError");
  snprintf(buf, cap,
           "on-failure record: condition %s, approximateInvokeCount %s, %s..%s, batchSize %s%s%s%s",
           scalar(jv_get(rc, "condition")), scalar(jv_get(rc, "approximateInvokeCount")),
           sa ? sa : "-", sb ? sb : "-", scalar(jv_get(bi, "batchSize")),
           fe ? ", functionError " : "", fe ? scalar(fe) : "",
           jv_get(rec, "payload") ? ", with the S3 payload" : "");
}

void sim_tl_discard(sim_out *o, int64_t now, const bp_delivery_req *req) {
  static const char *const dest[] = {"other", "sqs", "sns", "s3"};
  const bp_record *r0 = BP_RECORD_AT(req->records, req->record_stride, 0);
  const bp_record *rn = BP_RECORD_AT(req->records, req->record_stride, req->count - 1);
  char a[32], b[32], err[128], summary[512];
  yajl_val rec = req->record_json ? yajl_tree_parse(req->record_json, err, sizeof err) : NULL;
  if (rec) record_summary(o, rec, summary, sizeof summary);
  else
    snprintf(summary, sizeof summary, "on-failure record: %s",
             req->record_json ? "not JSON" : "none");
  int type = req->destination_type >= 0 && req->destination_type < 4 ? req->destination_type : 0;
  field f[] = {f_str("shard", req->shard_id),
               f_int("lane", req->lane),
               f_str("condition", condition_name(req->condition)),
               f_strn("first_seq", r0->seq, r0->seq_len),
               f_strn("last_seq", rn->seq, rn->seq_len),
               f_str("first", label(o, r0->seq, r0->seq_len, a, sizeof a)),
               f_str("last", label(o, rn->seq, rn->seq_len, b, sizeof b)),
               f_int("records", (int64_t)req->count),
               f_int("approximate_invoke_count", req->approximate_invoke_count),
               f_str("destination", req->destination),
               f_str("delivery", dest[type]),
               f_str("s3_key", req->s3_key),
               f_json("record", rec),
               f_text("summary", summary)};
  entry(o, now, "discard",
        "discard lane {lane} {condition}: {first}..{last} ({records} record(s), "
        "approximateInvokeCount {approximate_invoke_count}) -> {delivery} {destination}\n{summary}",
        f, N_OF(f));
  yajl_tree_free(rec);
}

void sim_tl_action(sim_out *o, int64_t now, size_t index, const char *action, int enabled) {
  field f[] = {f_int("index", (int64_t)index), f_str("action", action), f_bool("enabled", enabled)};
  entry(o, now, "action", "action {index}: {action} Enabled={enabled}", f, N_OF(f));
}

/* ---- results ---- */

int sim_out_result(sim_out *o, const char *id, const sim_report *r) {
  int code = r->failed ? 1 : r->skipped ? 2 : 0;
  static const char *const status[] = {"PASS", "FAIL", "SKIP"};
  char detail[2200] = "";
  if (code == 1) snprintf(detail, sizeof detail, "%s", r->fail);
  else if (code == 2) snprintf(detail, sizeof detail, "%s", r->skip);
  else
    snprintf(detail, sizeof detail, "%s%s%s%s%s", r->parts[0] ? "skipped parts: " : "", r->parts,
             r->parts[0] && r->notes[0] ? " -- " : "", r->notes[0] ? "note: " : "", r->notes);
  if (o->json) {
    field f[] = {f_str("kind", "result"), f_str("id", id), f_str("status", status[code]),
                 f_str("detail", detail[0] ? detail : NULL)};
    write_json(o, f, N_OF(f), NULL, 0);
  } else {
    fprintf(o->f, "%s %s%s%s\n", status[code], id, detail[0] ? (code ? ": " : " -- ") : "", detail);
  }
  return code;
}

void sim_out_summary(sim_out *o, const int counts[3]) {
  if (o->json) {
    field f[] = {f_str("kind", "summary"), f_int("passed", counts[0]), f_int("failed", counts[1]),
                 f_int("skipped", counts[2])};
    write_json(o, f, N_OF(f), NULL, 0);
  } else {
    fprintf(o->f, "%d passed, %d failed, %d skipped\n", counts[0], counts[1], counts[2]);
  }
}
