/* SPDX-License-Identifier: MIT */
/*
 * The add-on's host (bp_aws.h): composes the loop, a reader, an invoker and a destination
 * into one bp_transport, drives the engine from the loop and adds the shards it discovers,
 * parents first (SEMANTICS.md §8.2).
 */
#include "bp_aws.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bp_aws_int.h"
#include "bp_aws_reader_int.h"

#define DEFAULT_DISCOVERY_MS 30000
#define DEFAULT_EXEC_TIMEOUT_MS 60000
#define DEFAULT_INVOKE_TIMEOUT_MS 960000
/* After a shard ends its children may not be listed yet (a reshard in progress): look again
   soon rather than a full discovery interval later. */
#define SHARD_END_RELIST_MS 1000
#define LIST_RETRY_MS 5000

typedef struct known_shard {
  char *id;
} known_shard;

struct bp_aws {
  bp__aws_loop *loop;
  bp__aws_creds creds;
  bp__aws_client stream_client, lambda_client, sqs_client, sns_client, s3_client;
  int have_lambda, have_sqs, have_sns, have_s3;
  bp__aws_counters counters;
  bp__aws_reader *reader;
  bp__aws_invoker *invoker;
  bp__aws_dest *dest;
  bp_transport transport;
  int (*user_on_event)(bp_engine *, const bp_engine_event *, void *);
  void *user_on_event_ud;
  bp_engine *engine;
  int64_t discovery_ms;
  int64_t list_due;     /* when the next listing starts (0: now) */
  int listing;          /* a listing is in flight */
  int list_failed;      /* the last listing failed: its retry is due (still discovering) */
  known_shard *known;   /* shards given to the engine */
  size_t nknown, capknown;
  uint64_t shards_added;
  char err[512];
};

static void set_err(bp_aws *a, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(a->err, sizeof a->err, fmt, ap);
  va_end(ap);
}

int bp_aws_opts_init(bp_aws_opts *o, size_t size) {
  if (!o || size < sizeof(uint32_t)) return BP_ERR_INVALID_ARGUMENT;
  memset(o, 0, size);
  o->struct_size = (uint32_t)(size > sizeof *o ? sizeof *o : size);
  return 0;
}

int64_t bp_aws_now_ms(void) { return bp__aws_now_ms(); }

/* ---- the transport ---- */

static int t_fetch(bp_engine *e, const bp_fetch_req *req, void *ud) {
  return bp__aws_reader_fetch(((bp_aws *)ud)->reader, e, req);
}

static int t_invoke(bp_engine *e, const bp_invoke_req *req, void *ud) {
  return bp__aws_invoker_invoke(((bp_aws *)ud)->invoker, e, req);
}

static int t_deliver(bp_engine *e, const bp_delivery_req *req, void *ud) {
  bp_aws *a = ud;
  if (!a->dest) return BP_ERR_UNSUPPORTED; /* bp_aws_new() refused such a mapping */
  return bp__aws_dest_deliver(a->dest, e, req);
}

static int t_on_event(bp_engine *e, const bp_engine_event *ev, void *ud) {
  bp_aws *a = ud;
  /* a shard read to its end: its children may be listed now (§8.2) */
  if (ev->type == BP_EVENT_SHARD_ENDED) {
    int64_t soon = bp__aws_now_ms() + SHARD_END_RELIST_MS;
    if (a->list_due > soon) a->list_due = soon;
  }
  if (!a->user_on_event) return 0;
  /* a failed read says only "fetch failed": add what the reader saw (the service's error) */
  const char *why = bp__aws_reader_errmsg(a->reader);
  if (ev->type == BP_EVENT_ERROR && ev->shard_id && ev->message &&
      !strcmp(ev->message, "fetch failed") && why && *why) {
    char text[sizeof a->err];
    snprintf(text, sizeof text, "fetch failed: %s", why);
    bp_engine_event copy = *ev;
    copy.message = text;
    return a->user_on_event(e, &copy, a->user_on_event_ud);
  }
  return a->user_on_event(e, ev, a->user_on_event_ud);
}

const bp_transport *bp_aws_transport(const bp_aws *a) { return a ? &a->transport : NULL; }

/* ---- set-up ---- */

static const char *env_nonempty(const char *name) {
  const char *v = getenv(name);
  return v && *v ? v : NULL;
}

/* The ARN's service (arn:aws:SERVICE:...) equals @p service. */
static int arn_service_is(const char *arn, const char *service) {
  const char *p = arn;
  for (int i = 0; i < 2 && p; i++) {
    p = strchr(p, ':');
    if (p) p++;
  }
  size_t n = strlen(service);
  return p && !strncmp(p, service, n) && p[n] == ':';
}

static int client(bp_aws *a, bp__aws_client *c, const char *region, const char *prefix,
                  const char *signing, const char *url, int64_t timeout_ms, char *err,
                  size_t errlen) {
  int rc = bp__aws_client_init(c, &a->creds, region, prefix, signing, url, err, errlen);
  if (!rc && timeout_ms) c->timeout_ms = timeout_ms;
  return rc;
}

/* A service's endpoint: the option, else the AWS SDKs' service-specific environment variable
   (AWS_ENDPOINT_URL_SQS, ...), else AWS_ENDPOINT_URL, else NULL (AWS's own endpoint). */
static const char *endpoint(const char *option, const char *service_env) {
  if (option) return option;
  char name[64];
  snprintf(name, sizeof name, "AWS_ENDPOINT_URL_%s", service_env);
  const char *v = env_nonempty(name);
  return v ? v : env_nonempty("AWS_ENDPOINT_URL");
}

/* The region of a destination or function ARN, else the default. */
static void arn_region_or(const char *arn, const char *fallback, char *out, size_t cap) {
  if (!arn || strncmp(arn, "arn:", 4) || bp__aws_arn_region(arn, out, cap) || !*out)
    snprintf(out, cap, "%s", fallback);
}

static int make_clients(bp_aws *a, const bp_config *cfg, const bp_aws_opts *o,
                        const char *region, char *err, size_t errlen) {
  int32_t source = bp_config_get_source(cfg);
  int rc = source == BP_SOURCE_DYNAMODB
               ? client(a, &a->stream_client, region, "streams.dynamodb", "dynamodb",
                        endpoint(o->endpoint_url, "DYNAMODB_STREAMS"), 0, err, errlen)
               : client(a, &a->stream_client, region, "kinesis", "kinesis",
                        endpoint(o->endpoint_url, "KINESIS"), 0,
                        err, errlen);
  if (rc) return rc;
  char r[64];
  if (!o->exec_command) {
    arn_region_or(bp_config_get_function_name(cfg), region, r, sizeof r);
    rc = client(a, &a->lambda_client, r, "lambda", "lambda",
                endpoint(o->lambda_endpoint_url, "LAMBDA"),
                o->invoke_timeout_ms ? o->invoke_timeout_ms : DEFAULT_INVOKE_TIMEOUT_MS, err,
                errlen);
    if (rc) return rc;
    a->have_lambda = 1;
  }
  const char *dest = bp_config_get_on_failure_destination(cfg);
  if (dest && !o->failures_file) {
    arn_region_or(dest, region, r, sizeof r);
    if (arn_service_is(dest, "sqs")) {
      rc = client(a, &a->sqs_client, r, "sqs", "sqs", endpoint(o->sqs_endpoint_url, "SQS"), 0,
                  err, errlen);
      a->have_sqs = !rc;
    } else if (arn_service_is(dest, "sns")) {
      rc = client(a, &a->sns_client, r, "sns", "sns", endpoint(o->sns_endpoint_url, "SNS"), 0,
                  err, errlen);
      a->have_sns = !rc;
    } else if (arn_service_is(dest, "s3")) {
      rc = client(a, &a->s3_client, r, "s3", "s3", endpoint(o->s3_endpoint_url, "S3"), 0, err,
                  errlen);
      a->have_s3 = !rc;
    } else {
      snprintf(err, errlen, "on-failure destination %s: only SQS, SNS and S3 are supported",
               dest);
      return BP_ERR_INVALID_ARGUMENT;
    }
  }
  return rc;
}

static int make_parts(bp_aws *a, const bp_config *cfg, const bp_aws_opts *o, char *err,
                      size_t errlen) {
  const char *arn = bp_config_get_event_source_arn(cfg);
  int rc = bp_config_get_source(cfg) == BP_SOURCE_DYNAMODB
               ? bp__aws_ddbstreams_reader_new(&a->reader, a->loop, &a->stream_client, arn,
                                               &a->counters, err, errlen)
               : bp__aws_kinesis_reader_new(&a->reader, a->loop, &a->stream_client, arn,
                                            &a->counters, err, errlen);
  if (rc) return rc;
  rc = o->exec_command
           ? bp__aws_exec_invoker_new(&a->invoker, a->loop, o->exec_command,
                                      o->exec_timeout_ms ? o->exec_timeout_ms
                                                         : DEFAULT_EXEC_TIMEOUT_MS,
                                      &a->counters, err, errlen)
           : bp__aws_lambda_invoker_new(&a->invoker, a->loop, &a->lambda_client,
                                        bp_config_get_function_name(cfg), &a->counters, err,
                                        errlen);
  if (rc) return rc;
  if (o->failures_file)
    return bp__aws_dest_new_file(&a->dest, a->loop, o->failures_file, &a->counters, err,
                                 errlen);
  if (a->have_sqs || a->have_sns || a->have_s3)
    return bp__aws_dest_new_aws(&a->dest, a->loop, a->have_sqs ? &a->sqs_client : NULL,
                                a->have_sns ? &a->sns_client : NULL,
                                a->have_s3 ? &a->s3_client : NULL, &a->counters, err, errlen);
  return 0;
}

int bp_aws_new(bp_aws **out, const bp_config *cfg, const bp_aws_opts *opts, char *errbuf,
               size_t errlen) {
  char scratch[8];
  if (!errbuf || !errlen) {
    errbuf = scratch;
    errlen = sizeof scratch;
  }
  *errbuf = 0;
  if (!out || !cfg) {
    snprintf(errbuf, errlen, "bp_aws_new: NULL argument");
    return BP_ERR_INVALID_ARGUMENT;
  }
  *out = NULL;
  bp_aws_opts o;
  memset(&o, 0, sizeof o);
  if (opts) {
    if (opts->struct_size < offsetof(bp_aws_opts, discovery_interval_ms)) {
      snprintf(errbuf, errlen, "bp_aws_opts: struct_size %u is too small",
               (unsigned)opts->struct_size);
      return BP_ERR_INVALID_ARGUMENT;
    }
    memcpy(&o, opts, opts->struct_size < sizeof o ? opts->struct_size : sizeof o);
  }
  bp_config *copy = NULL;
  if (bp_config_copy(&copy, cfg, NULL) != 0) {
    snprintf(errbuf, errlen, "out of memory");
    return BP_ERR_NOMEM;
  }
  if (bp_config_validate(copy) != 0) {
    snprintf(errbuf, errlen, "%s", bp_config_errmsg(copy));
    bp_config_del(copy);
    return BP_ERR_CONFIG_INVALID;
  }
  bp_config_del(copy);
  if (o.exec_timeout_ms < 0 || o.invoke_timeout_ms < 0 || o.discovery_interval_ms < 0) {
    snprintf(errbuf, errlen, "bp_aws_opts: a negative timeout or interval");
    return BP_ERR_INVALID_ARGUMENT;
  }
  bp_aws *a = calloc(1, sizeof *a);
  if (!a) {
    snprintf(errbuf, errlen, "out of memory");
    return BP_ERR_NOMEM;
  }
  a->counters.millis_behind_latest = -1;
  a->discovery_ms = o.discovery_interval_ms ? o.discovery_interval_ms : DEFAULT_DISCOVERY_MS;
  a->user_on_event = o.on_event;
  a->user_on_event_ud = o.on_event_user_data;
  a->transport.fetch = t_fetch;
  a->transport.invoke = t_invoke;
  a->transport.deliver = t_deliver;
  a->transport.on_event = t_on_event;

  char region[64] = "";
  const char *r = o.region ? o.region : env_nonempty("AWS_REGION");
  if (!r) r = env_nonempty("AWS_DEFAULT_REGION");
  if (r) snprintf(region, sizeof region, "%s", r);
  else bp__aws_arn_region(bp_config_get_event_source_arn(cfg), region, sizeof region);
  int rc = 0;
  if (!*region) {
    snprintf(errbuf, errlen, "no region: set AWS_REGION or use a stream ARN with one");
    rc = BP_ERR_INVALID_ARGUMENT;
  }
  if (!rc) rc = bp__aws_creds_from_env(&a->creds, errbuf, errlen);
  if (!rc) rc = bp__aws_loop_new(&a->loop, errbuf, errlen);
  if (!rc) rc = make_clients(a, cfg, &o, region, errbuf, errlen);
  if (!rc) rc = make_parts(a, cfg, &o, errbuf, errlen);
  if (rc) {
    bp_aws_del(a);
    return rc < 0 ? rc : BP_ERR_INVALID_ARGUMENT;
  }
  *out = a;
  return 0;
}

/* ---- shard discovery (§8.2) ---- */

static int is_known(const bp_aws *a, const char *id) {
  for (size_t i = 0; i < a->nknown; i++)
    if (!strcmp(a->known[i].id, id)) return 1;
  return 0;
}

/* A parent counts as present when the engine has it, or when the stream no longer lists it
   (trimmed): then there is nothing to wait for. */
static int parent_ready(const bp_aws *a, const char *parent, const bp__aws_shard_info *s,
                        size_t n) {
  if (!parent || is_known(a, parent)) return 1;
  for (size_t i = 0; i < n; i++)
    if (!strcmp(s[i].shard_id, parent)) return 0;
  return 1;
}

static int add_known(bp_aws *a, const bp__aws_shard_info *s) {
  if (a->nknown == a->capknown) {
    size_t cap = a->capknown ? 2 * a->capknown : 16;
    known_shard *k = realloc(a->known, cap * sizeof *k);
    if (!k) return BP_ERR_NOMEM;
    a->known = k;
    a->capknown = cap;
  }
  char *id = strdup(s->shard_id);
  if (!id) return BP_ERR_NOMEM;
  int rc = bp_engine_add_shard(a->engine, s->shard_id, s->parent_id, s->adjacent_parent_id,
                               NULL, 0);
  if (rc) {
    free(id);
    return rc;
  }
  a->known[a->nknown++].id = id;
  a->shards_added++;
  return 0;
}

static void on_shards(void *ctx, int status, const char *errmsg, const bp__aws_shard_info *s,
                      size_t n) {
  bp_aws *a = ctx;
  a->listing = 0;
  int64_t now = bp__aws_now_ms();
  if (status) {
    set_err(a, "listing shards: %s", errmsg ? errmsg : "failed");
    a->list_failed = 1;
    a->list_due = now + LIST_RETRY_MS;
    return;
  }
  a->list_failed = 0;
  a->err[0] = 0;
  a->list_due = now + a->discovery_ms;
  /* The engine's clock is its last driving call (none yet before the first shard): bring it
     to now, so shard_started events and the shards' first reads are timed now, not at 0.
     A fatal error is sticky and surfaces from bp_aws_run's next tick. */
  bp_engine_tick(a->engine, now);
  /* parents before children: add what is ready, again until nothing more is */
  for (int progress = 1; progress;) {
    progress = 0;
    for (size_t i = 0; i < n; i++) {
      if (is_known(a, s[i].shard_id) || !parent_ready(a, s[i].parent_id, s, n) ||
          !parent_ready(a, s[i].adjacent_parent_id, s, n))
        continue;
      int rc = add_known(a, &s[i]);
      if (rc) {
        set_err(a, "adding shard %s: %s", s[i].shard_id, bp_engine_errmsg(a->engine));
        a->list_failed = 1;
        a->list_due = now + LIST_RETRY_MS;
        return;
      }
      progress = 1;
    }
  }
}

static int maybe_list(bp_aws *a, int64_t now) {
  if (a->listing || now < a->list_due) return 0;
  int rc = bp__aws_reader_list_shards(a->reader, on_shards, a);
  if (rc) {
    set_err(a, "listing shards: %s", bp_err_name(rc));
    a->list_failed = 1;
    a->list_due = now + LIST_RETRY_MS;
    return 0;
  }
  a->listing = 1;
  return 0;
}

int bp_aws_attach(bp_aws *a, bp_engine *e) {
  if (!a || !e) return BP_ERR_INVALID_ARGUMENT;
  if (a->engine) return BP_ERR_INVALID_STATE;
  a->engine = e;
  a->list_due = 0;
  return maybe_list(a, bp__aws_now_ms());
}

/* A failed listing is not at rest: its retry is due, and shards may be missing until then. */
int bp_aws_discovering(const bp_aws *a) {
  return a && (a->listing || a->list_failed || !a->engine);
}

/* ---- driving ---- */

int bp_aws_run(bp_aws *a, int64_t max_wait_ms) {
  if (!a) return BP_ERR_INVALID_ARGUMENT;
  if (!a->engine) return BP_ERR_INVALID_STATE;
  int64_t now = bp__aws_now_ms();
  maybe_list(a, now);
  int64_t deadline = bp_engine_next_deadline(a->engine);
  if (deadline != BP_NO_DEADLINE && deadline <= now) {
    int rc = bp_engine_tick(a->engine, now);
    if (rc && bp_err_is_fatal(rc)) return rc;
    deadline = bp_engine_next_deadline(a->engine);
  }
  int64_t wait = max_wait_ms < 0 ? 0 : max_wait_ms;
  if (deadline != BP_NO_DEADLINE && deadline - now < wait) wait = deadline - now;
  if (!a->listing && a->list_due - now < wait) wait = a->list_due - now;
  if (wait < 0) wait = 0;
  int rc = bp__aws_loop_run_once(a->loop, wait, a->err, sizeof a->err);
  if (rc < 0) return rc;
  /* a completion's work ran inside the loop: an engine that failed there says so now */
  deadline = bp_engine_next_deadline(a->engine);
  if (deadline != BP_NO_DEADLINE && deadline <= bp__aws_now_ms()) {
    rc = bp_engine_tick(a->engine, bp__aws_now_ms());
    if (rc && bp_err_is_fatal(rc)) return rc;
  }
  return 0;
}

/* ---- queries ---- */

int bp_aws_get_stats(const bp_aws *a, bp_aws_stats *out) {
  if (!a || !out || out->struct_size < offsetof(bp_aws_stats, reserved))
    return BP_ERR_INVALID_ARGUMENT;
  bp_aws_stats s;
  memset(&s, 0, sizeof s);
  const bp__aws_counters *c = &a->counters;
  s.struct_size = (uint32_t)(out->struct_size < sizeof s ? out->struct_size : sizeof s);
  s.http_requests = c->http_requests;
  s.http_failures = c->http_failures;
  s.list_shards = c->list_shards;
  s.get_shard_iterator = c->get_shard_iterator;
  s.get_records = c->get_records;
  s.records_read = c->records_read;
  s.fetch_throttles = c->fetch_throttles;
  s.expired_iterators = c->expired_iterators;
  s.invokes = c->invokes;
  s.invoke_function_errors = c->invoke_function_errors;
  s.invoke_throttles = c->invoke_throttles;
  s.deliveries = c->deliveries;
  s.delivery_failures = c->delivery_failures;
  s.shards_added = a->shards_added;
  s.millis_behind_latest = c->millis_behind_latest;
  memcpy(out, &s, s.struct_size);
  return 0;
}

int64_t bp_aws_millis_behind(const bp_aws *a, const char *shard_id) {
  return a && shard_id ? bp__aws_reader_millis_behind(a->reader, shard_id) : -1;
}

const char *bp_aws_errmsg(const bp_aws *a) { return a ? a->err : ""; }

void bp_aws_del(bp_aws *a) {
  if (!a) return;
  /* the loop first: no callback of the parts runs after this */
  bp__aws_loop_del(a->loop);
  bp__aws_dest_del(a->dest);
  bp__aws_invoker_del(a->invoker);
  bp__aws_reader_del(a->reader);
  bp__aws_client_free(&a->stream_client);
  bp__aws_client_free(&a->lambda_client);
  bp__aws_client_free(&a->sqs_client);
  bp__aws_client_free(&a->sns_client);
  bp__aws_client_free(&a->s3_client);
  bp__aws_creds_free(&a->creds);
  for (size_t i = 0; i < a->nknown; i++) free(a->known[i].id);
  free(a->known);
  free(a);
}
