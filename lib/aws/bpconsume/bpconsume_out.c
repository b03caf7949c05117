/* SPDX-License-Identifier: MIT */
/*
 * bpconsume's output: the engine's events as lines for a person (--trace) or NDJSON
 * (--json) on stdout, a status line a person can watch on a terminal (stderr, rewritten in
 * place once a second), and the closing totals.
 */
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "batchpoint.h"
#include "bpconsume.h"

#define MAX_SHARDS_SHOWN 4

struct bpc_out {
  FILE *f;
  int mode;
  int status_line;
  int64_t start_ms;
  int64_t last_activity;
  int64_t last_status;
  uint64_t status_invoked; /* InvokedEventCount at the last status line: records/s */
  int status_shown;
  yajl_gen g;
  char *active[MAX_SHARDS_SHOWN]; /* shards consuming now, for the status line's ages */
  size_t nactive;
  size_t more_active;             /* active shards beyond those */
};

bpc_out *bpc_out_new(FILE *f, int mode, int status_line, int64_t start_ms) {
  bpc_out *o = calloc(1, sizeof *o);
  if (!o) return NULL;
  o->f = f;
  o->mode = mode;
  o->status_line = status_line;
  o->start_ms = o->last_activity = o->last_status = start_ms;
  if (mode == OUT_JSON && !(o->g = yajl_gen_alloc(NULL))) {
    free(o);
    return NULL;
  }
  return o;
}

void bpc_out_del(bpc_out *o) {
  if (!o) return;
  for (size_t i = 0; i < o->nactive; i++) free(o->active[i]);
  if (o->g) yajl_gen_free(o->g);
  free(o);
}

int64_t bpc_out_last_activity(const bpc_out *o) { return o->last_activity; }

static const char *event_name(int type) {
  static const char *const names[] = {
      "?",        "fetch",      "invoke",         "outcome",      "backoff",
      "split",    "discard",    "checkpoint",     "checkpoint_stored", "delivery",
      "metric",   "shard_started", "shard_ended", "error",        "drained"};
  return type > 0 && type < (int)(sizeof names / sizeof *names) ? names[type] : "?";
}

static const char *outcome_name(int detail) {
  switch (detail) {
  case BP_ATTEMPT_SUCCESS: return "success";
  case BP_ATTEMPT_PARTIAL: return "partial";
  case BP_ATTEMPT_RETURNED_FAILED: return "returned_failed";
  case BP_ATTEMPT_FUNCTION_ERROR: return "function_error";
  case BP_ATTEMPT_NOT_REACHED: return "not_reached";
  default: return "?";
  }
}

/* When the event happened: the engine's time, except for events before its first driving
   call (shards added before it has a clock carry now_ms 0). */
static int64_t event_time(const bp_engine_event *ev) {
  return ev->now_ms > 0 ? ev->now_ms : bp_aws_now_ms();
}

/* A record was read, invoked, resolved or delivered: the consumer is not idle. A read that
   failed or was throttled is not idleness either: the shard may hold records not read yet. */
static int is_activity(const bp_engine_event *ev) {
  switch (ev->type) {
  case BP_EVENT_FETCH: return ev->count > 0 || ev->value != 0;
  case BP_EVENT_ERROR:
  case BP_EVENT_INVOKE:
  case BP_EVENT_OUTCOME:
  case BP_EVENT_DISCARD:
  case BP_EVENT_DELIVERY:
  case BP_EVENT_SHARD_STARTED:
  case BP_EVENT_SHARD_ENDED: return 1;
  default: return 0;
  }
}

static void gen_str(yajl_gen g, const char *s, size_t n) {
  yajl_gen_string(g, (const unsigned char *)s, n);
}

static void gen_key(yajl_gen g, const char *k) { gen_str(g, k, strlen(k)); }

static void write_json(bpc_out *o, const bp_engine_event *ev) {
  yajl_gen g = o->g;
  yajl_gen_clear(g);
  yajl_gen_reset(g, NULL);
  yajl_gen_map_open(g);
  gen_key(g, "t");
  yajl_gen_integer(g, event_time(ev));
  gen_key(g, "event");
  gen_key(g, event_name(ev->type));
  if (ev->shard_id) {
    gen_key(g, "shard");
    gen_key(g, ev->shard_id);
    gen_key(g, "lane");
    yajl_gen_integer(g, ev->lane);
  }
  if (ev->first_seq) {
    gen_key(g, "first_seq");
    gen_str(g, ev->first_seq, ev->first_seq_len);
  }
  if (ev->last_seq) {
    gen_key(g, "last_seq");
    gen_str(g, ev->last_seq, ev->last_seq_len);
  }
  gen_key(g, "count");
  yajl_gen_integer(g, (long long)ev->count);
  gen_key(g, "detail");
  yajl_gen_integer(g, ev->detail);
  gen_key(g, "value");
  yajl_gen_integer(g, ev->value);
  if (ev->type == BP_EVENT_OUTCOME) {
    gen_key(g, "outcome");
    gen_key(g, outcome_name(ev->detail));
  }
  if (ev->message) {
    gen_key(g, "message");
    gen_key(g, ev->message);
  }
  yajl_gen_map_close(g);
  const unsigned char *buf;
  size_t len;
  yajl_gen_get_buf(g, &buf, &len);
  fprintf(o->f, "%.*s\n", (int)len, (const char *)buf);
}

static void write_text(bpc_out *o, const bp_engine_event *ev) {
  int64_t t = event_time(ev) - o->start_ms;
  fprintf(o->f, "t+%lld.%03llds %-17s", (long long)(t / 1000), (long long)(t % 1000 + 1000) % 1000,
          event_name(ev->type));
  if (ev->shard_id) fprintf(o->f, " %s/%u", ev->shard_id, ev->lane);
  if (ev->first_seq)
    fprintf(o->f, " %.*s..%.*s", (int)ev->first_seq_len, ev->first_seq,
            (int)(ev->last_seq ? ev->last_seq_len : 0), ev->last_seq ? ev->last_seq : "");
  switch (ev->type) {
  case BP_EVENT_FETCH: fprintf(o->f, " records=%llu status=%lld", (unsigned long long)ev->count,
                               (long long)ev->value); break;
  case BP_EVENT_INVOKE: fprintf(o->f, " records=%llu bytes=%lld attempt=%d",
                                (unsigned long long)ev->count, (long long)ev->value,
                                ev->detail); break;
  case BP_EVENT_OUTCOME: fprintf(o->f, " %s records=%llu", outcome_name(ev->detail),
                                 (unsigned long long)ev->count); break;
  case BP_EVENT_DISCARD: fprintf(o->f, " %s records=%llu",
                                 ev->detail == BP_CONDITION_RECORD_AGE_EXCEEDED
                                     ? "RecordAgeExceeded" : "RetryAttemptsExhausted",
                                 (unsigned long long)ev->count); break;
  case BP_EVENT_BACKOFF: fprintf(o->f, " until t+%lldms", (long long)(ev->value - o->start_ms));
                         break;
  case BP_EVENT_METRIC: fprintf(o->f, " metric=%d value=%lld", ev->detail,
                                (long long)ev->value); break;
  default:
    if (ev->count) fprintf(o->f, " count=%llu", (unsigned long long)ev->count);
    if (ev->value) fprintf(o->f, " value=%lld", (long long)ev->value);
  }
  if (ev->message) fprintf(o->f, " %s", ev->message);
  fputc('\n', o->f);
}

/* The status line shows the IteratorAge of the first MAX_SHARDS_SHOWN active shards. */
static void track_shard(bpc_out *o, const char *id, int started) {
  if (!id) return;
  for (size_t i = 0; i < o->nactive; i++)
    if (!strcmp(o->active[i], id)) {
      if (!started) {
        free(o->active[i]);
        o->active[i] = o->active[--o->nactive];
      }
      return;
    }
  if (!started) {
    if (o->more_active) o->more_active--;
    return;
  }
  char *copy = o->nactive < MAX_SHARDS_SHOWN ? strdup(id) : NULL;
  if (copy) o->active[o->nactive++] = copy;
  else o->more_active++;
}

int bpc_out_event(bp_engine *e, const bp_engine_event *ev, void *user_data) {
  (void)e;
  bpc_out *o = user_data;
  if (is_activity(ev)) o->last_activity = event_time(ev);
  if (ev->type == BP_EVENT_SHARD_STARTED || ev->type == BP_EVENT_SHARD_ENDED)
    track_shard(o, ev->shard_id, ev->type == BP_EVENT_SHARD_STARTED);
  if (ev->type == BP_EVENT_ERROR && o->mode == OUT_QUIET)
    fprintf(stderr, "bpconsume: %s%s%s\n", ev->shard_id ? ev->shard_id : "",
            ev->shard_id ? ": " : "", ev->message ? ev->message : "error");
  if (o->mode == OUT_QUIET || ev->type == BP_EVENT_METRIC) return 0;
  if (o->mode == OUT_JSON) write_json(o, ev);
  else write_text(o, ev);
  return 0;
}

void bpc_out_status(bpc_out *o, bp_engine *e, int64_t now, int final) {
  if (!o->status_line) return;
  if (final) {
    if (o->status_shown) fputs("\r\033[K", stderr);
    return;
  }
  if (now - o->last_status < 1000) return;
  bp_engine_metrics m = BP_ENGINE_METRICS_INIT;
  if (bp_engine_get_metrics(e, NULL, &m)) return;
  double secs = (double)(now - o->last_status) / 1000.0;
  double rate = secs > 0 ? (double)(m.invoked_event_count - o->status_invoked) / secs : 0;
  o->status_invoked = m.invoked_event_count;
  o->last_status = now;
  fprintf(stderr,
          "\r\033[K%.0f rec/s | read %llu invoked %llu | invocations %llu throttled %llu | "
          "discarded %llu | IteratorAge",
          rate, (unsigned long long)m.polled_event_count,
          (unsigned long long)m.invoked_event_count, (unsigned long long)m.invocations,
          (unsigned long long)m.throttled_attempts, (unsigned long long)m.dropped_event_count);
  for (size_t i = 0; i < o->nactive; i++) {
    bp_engine_metrics sm = BP_ENGINE_METRICS_INIT;
    const char *id = o->active[i], *tail = strrchr(id, '-'); /* shardId-000000000001 -> 000000000001 */
    if (!bp_engine_get_metrics(e, id, &sm))
      fprintf(stderr, " %s:%lldms", tail ? tail + 1 : id, (long long)sm.iterator_age_ms);
  }
  if (o->more_active) fprintf(stderr, " (+%zu shards)", o->more_active);
  fflush(stderr);
  o->status_shown = 1;
}

void bpc_out_summary(bpc_out *o, bp_engine *e, const bp_aws *aws, int64_t now) {
  bp_engine_metrics m = BP_ENGINE_METRICS_INIT;
  bp_aws_stats st;
  memset(&st, 0, sizeof st);
  st.struct_size = sizeof st;
  if (bp_engine_get_metrics(e, NULL, &m) || bp_aws_get_stats(aws, &st)) return;
  FILE *f = o->mode == OUT_JSON ? o->f : stderr;
  fprintf(f,
          o->mode == OUT_JSON
              ? "{\"summary\":{\"ms\":%lld,\"polled\":%llu,\"filtered\":%llu,\"invoked\":%llu,"
                "\"invocations\":%llu,\"throttled\":%llu,\"failed_invoke_events\":%llu,"
                "\"dropped\":%llu,\"delivered\":%llu,\"delivery_failures\":%llu,"
                "\"checkpoints_stored\":%llu,\"get_shard_iterator\":%llu,\"get_records\":%llu,"
                "\"shards\":%llu,\"http_failures\":%llu,\"fetch_throttles\":%llu,"
                "\"expired_iterators\":%llu}}\n"
              : "bpconsume: %lld ms: polled %llu, filtered %llu, invoked %llu in %llu "
                "invocations (%llu throttled, %llu failed events), discarded %llu (%llu "
                "delivered, %llu delivery failures), %llu checkpoints stored; "
                "GetShardIterator %llu, GetRecords %llu, shards %llu; retried: %llu HTTP failures, "
                "%llu throttled reads, %llu expired iterators\n",
          (long long)(now - o->start_ms), (unsigned long long)m.polled_event_count,
          (unsigned long long)m.filtered_out_event_count,
          (unsigned long long)m.invoked_event_count, (unsigned long long)m.invocations,
          (unsigned long long)m.throttled_attempts,
          (unsigned long long)m.failed_invoke_event_count,
          (unsigned long long)m.dropped_event_count,
          (unsigned long long)m.on_failure_destination_delivered_event_count,
          (unsigned long long)m.destination_delivery_failures,
          (unsigned long long)m.checkpoints_stored, (unsigned long long)st.get_shard_iterator,
          (unsigned long long)st.get_records, (unsigned long long)st.shards_added,
          (unsigned long long)st.http_failures, (unsigned long long)st.fetch_throttles,
          (unsigned long long)st.expired_iterators);
  fflush(f);
}
