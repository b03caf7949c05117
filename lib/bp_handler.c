/* SPDX-License-Identifier: MIT */
/*
 * The function-side batch processor: the object, the per-record loop with Powertools'
 * rules (record order, full batch failure, stop at the first failure), the failure list
 * and the response text (`{"state":...,"batchItemFailures":[...]}`, as JSON.stringify
 * writes it). The event is parsed by bp_handler_event.c first.
 */
#include <string.h>

#include "bp_handler_int.h"
#include "batchpoint/bp_kpl.h"

#define HANDLER_FLAGS (BP_HANDLER_STOP_AT_FIRST_FAILURE | BP_HANDLER_DEAGGREGATE)
#define HANDLER_MAX_REASON 4096

int bp_handler_opts_init(bp_handler_opts *o, size_t size) {
  return bp__struct_init(o, size, BP__SIZE_V1(bp_handler_opts, flags));
}

int bp_handler_failure_init(bp_handler_failure *f, size_t size) {
  return bp__struct_init(f, size, BP__SIZE_V1(bp_handler_failure, reserved));
}

int bp_handler_window_init(bp_handler_window *w, size_t size) {
  return bp__struct_init(w, size, BP__SIZE_V1(bp_handler_window, reserved));
}

int bp_handler_new(bp_handler **out, const bp_handler_opts *opts, const bp_allocator *alloc) {
  if (!out) return BP_ERR_INVALID_ARGUMENT;
  *out = NULL;
  bp_handler_opts o = {.struct_size = sizeof o};
  if (opts && bp__struct_in(&o, sizeof o, BP__SIZE_V1(bp_handler_opts, flags), opts,
                            "bp_handler_opts", NULL, 0))
    return BP_ERR_INVALID_ARGUMENT;
  if (o.flags & ~HANDLER_FLAGS) return BP_ERR_INVALID_ARGUMENT;
  bp_allocator a;
  if (bp__alloc_copy(&a, alloc)) return BP_ERR_INVALID_ARGUMENT;
  bp_handler *h = bp__calloc(&a, 1, sizeof *h);
  if (!h) return BP_ERR_NOMEM;
  h->alloc = a;
  h->flags = o.flags;
  bp__errmsg_clear(&h->err);
  bp__buf *bufs[] = {&h->unesc, &h->stack,      &h->data,    &h->reasons,      &h->cur_reason,
                     &h->state, &h->out,        &h->scratch, &h->scratch_stack};
  for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) bp__buf_init(bufs[i], &h->alloc);
  *out = h;
  return 0;
}

void bp_handler_del(bp_handler *h) {
  if (!h) return;
  bp__buf *bufs[] = {&h->unesc, &h->stack,      &h->data,    &h->reasons,      &h->cur_reason,
                     &h->state, &h->out,        &h->scratch, &h->scratch_stack};
  for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) bp__buf_free(bufs[i]);
  bp__hpool_free(&h->values, &h->alloc);
  bp__free(&h->alloc, h->recs);
  bp__free(&h->alloc, h->fails);
  bp__free(&h->alloc, h);
}

const char *bp_handler_errmsg(const bp_handler *h) { return h ? h->err.text : ""; }

void bp__handler_general(bp_handler *h, int on) { h->general = on != 0; }

/* ---- Record views ---- */

static void hd_set_str(const bp_handler *h, const bp__hrec *r, int f, const char **p, size_t *n) {
  if (!(r->present & (1u << f))) return;
  bp__hstr s = r->f[f];
  *p = s.len & BP__HS_UNESC ? h->unesc.data + s.off : h->event + s.off;
  *n = s.len & ~BP__HS_UNESC;
}

static void hd_make_view(const bp_handler *h, size_t i, bp_handler_record *v) {
  const bp__hrec *r = &h->recs[i];
  memset(v, 0, sizeof *v);
  v->struct_size = sizeof *v;
  v->source = r->source;
  v->index = i;
  v->arrival_ms = r->arrival_ms;
  hd_set_str(h, r, BP__HF_EVENT_ID, &v->event_id, &v->event_id_len);
  hd_set_str(h, r, BP__HF_EVENT_NAME, &v->event_name, &v->event_name_len);
  hd_set_str(h, r, BP__HF_EVENT_SOURCE, &v->event_source, &v->event_source_len);
  hd_set_str(h, r, BP__HF_EVENT_SOURCE_ARN, &v->event_source_arn, &v->event_source_arn_len);
  hd_set_str(h, r, BP__HF_AWS_REGION, &v->aws_region, &v->aws_region_len);
  hd_set_str(h, r, BP__HF_EVENT_VERSION, &v->event_version, &v->event_version_len);
  hd_set_str(h, r, BP__HF_INVOKE_ARN, &v->invoke_identity_arn, &v->invoke_identity_arn_len);
  hd_set_str(h, r, BP__HF_SEQ, &v->seq, &v->seq_len);
  hd_set_str(h, r, BP__HF_ARRIVAL, &v->arrival_text, &v->arrival_text_len);
  if (r->source == BP_SOURCE_KINESIS) {
    hd_set_str(h, r, BP__HF_PARTITION_KEY, &v->partition_key, &v->partition_key_len);
    hd_set_str(h, r, BP__HF_SCHEMA, &v->kinesis_schema_version, &v->kinesis_schema_version_len);
    hd_set_str(h, r, BP__HF_ENCRYPTION, &v->encryption_type, &v->encryption_type_len);
    hd_set_str(h, r, BP__HF_DATA, &v->data_base64, &v->data_base64_len);
    v->data = (const uint8_t *)h->data.data + r->data_off;
    v->data_len = r->data_len;
  } else {
    hd_set_str(h, r, BP__HF_DYNAMODB, &v->dynamodb_json, &v->dynamodb_json_len);
    hd_set_str(h, r, BP__HF_KEYS, &v->keys_json, &v->keys_json_len);
    hd_set_str(h, r, BP__HF_NEW_IMAGE, &v->new_image_json, &v->new_image_json_len);
    hd_set_str(h, r, BP__HF_OLD_IMAGE, &v->old_image_json, &v->old_image_json_len);
    hd_set_str(h, r, BP__HF_USER_IDENTITY, &v->user_identity_json, &v->user_identity_json_len);
    hd_set_str(h, r, BP__HF_VIEW_TYPE, &v->stream_view_type, &v->stream_view_type_len);
    v->size_bytes = r->size_bytes;
  }
}

/* ---- Failures and the response ---- */

static int hd_add_failure(bp_handler *h, size_t index, int skipped) {
  if (h->nfails == h->fails_cap) {
    size_t cap = h->fails_cap ? h->fails_cap * 2 : 16;
    bp__hfail *p = bp__realloc(&h->alloc, h->fails, cap * sizeof *p);
    if (!p) return BP_ERR_NOMEM;
    h->fails = p;
    h->fails_cap = cap;
  }
  bp__hfail *f = &h->fails[h->nfails];
  f->index = index;
  f->skipped = skipped;
  f->reason = SIZE_MAX;
  f->reason_len = 0;
  if (h->has_cur_reason) {
    f->reason = h->reasons.len;
    f->reason_len = h->cur_reason.len;
    int rc = bp__buf_append(&h->reasons, h->cur_reason.data, h->cur_reason.len);
    if (rc) return rc;
  }
  h->nfails++;
  return 0;
}

static const char *hd_seq_of(const bp_handler *h, size_t i, size_t *n) {
  const bp__hrec *r = &h->recs[i];
  bp__hstr s = r->f[BP__HF_SEQ];
  *n = s.len & ~BP__HS_UNESC;
  return s.len & BP__HS_UNESC ? h->unesc.data + s.off : h->event + s.off;
}

#define HD_APPEND_LIT(b, lit) bp__buf_append((b), lit, sizeof lit - 1)

/* Sequence numbers are validated digits: no escaping is ever needed. */
static int hd_build_response(bp_handler *h) {
  bp__buf *o = &h->out;
  o->len = 0;
  h->has_response = 0;
  int rc = 0;
  const char *state = NULL;
  size_t state_len = 0;
  if (h->has_state) {
    state = h->state.data;
    state_len = h->state.len;
  } else if (h->win.present) {
    state = h->win.state;
    state_len = h->win.state_len;
  }
  if (state) {
    rc = HD_APPEND_LIT(o, "{\"state\":");
    if (!rc) rc = bp__buf_append(o, state, state_len);
    if (!rc) rc = HD_APPEND_LIT(o, ",\"batchItemFailures\":[");
  } else {
    rc = HD_APPEND_LIT(o, "{\"batchItemFailures\":[");
  }
  /* One reservation for every item, then plain copies. */
  size_t need = 2;
  for (size_t i = 0; i < h->nfails; i++) {
    size_t n;
    hd_seq_of(h, h->fails[i].index, &n);
    need += n + sizeof "{\"itemIdentifier\":\"\"}," - 1;
  }
  if (!rc) rc = bp__buf_reserve(o, need);
  if (rc) return bp__error(&h->err, rc, "out of memory");
  char *p = o->data + o->len;
  for (size_t i = 0; i < h->nfails; i++) {
    size_t n;
    const char *seq = hd_seq_of(h, h->fails[i].index, &n);
    if (i) *p++ = ',';
    memcpy(p, "{\"itemIdentifier\":\"", 19);
    p += 19;
    memcpy(p, seq, n);
    p += n;
    memcpy(p, "\"}", 2);
    p += 2;
  }
  memcpy(p, "]}", 2);
  p += 2;
  o->len = (size_t)(p - o->data);
  bp__buf_terminate(o);
  h->has_response = 1;
  return 0;
}

/* ---- The loop ---- */

static int hd_call(bp_handler *h, const bp_handler_record *v, bp_handler_fn fn, void *ud) {
  bp__hpool_reset(&h->values);
  h->in_callback = 1;
  int r = fn(h, v, ud);
  h->in_callback = 0;
  return r != 0;
}

/* A KPL aggregate (BP_HANDLER_DEAGGREGATE): each user record through the callback, with the
 * parent's sequence number. @return 1 when the parent failed: a user record failed, or the
 * aggregate does not decode (no callback then: bp_kpl.h, as aws-kinesis-agg reports the
 * whole record as an error). Without the stop flag every user record is still offered. */
static int hd_deliver_aggregate(bp_handler *h, bp_handler_record *v, bp_handler_fn fn,
                                void *ud) {
  bp_kpl_iter it;
  if (bp_kpl_iter_init(&it, sizeof it, v->data, v->data_len, 0) < 0) {
    static const char pre[] = "KPL aggregate: ";
    const char *why = bp_kpl_iter_errmsg(&it);
    h->cur_reason.len = 0;
    if (bp__buf_append(&h->cur_reason, pre, sizeof pre - 1) == 0 &&
        bp__buf_append(&h->cur_reason, why, strlen(why)) == 0)
      h->has_cur_reason = 1;
    return 1;
  }
  bp_kpl_record k = BP_KPL_RECORD_INIT;
  int failed = 0;
  v->aggregated = 1;
  while (bp_kpl_iter_next(&it, &k) == 1) {
    v->sub_sequence_number = (uint32_t)k.sub_sequence_number;
    v->partition_key = k.partition_key;
    v->partition_key_len = k.partition_key_len;
    v->explicit_hash_key = k.explicit_hash_key;
    v->explicit_hash_key_len = k.explicit_hash_key_len;
    v->data = k.data;
    v->data_len = k.data_len;
    if (hd_call(h, v, fn, ud)) {
      failed = 1;
      if (h->flags & BP_HANDLER_STOP_AT_FIRST_FAILURE) break;
    }
  }
  return failed;
}

static int hd_run_records(bp_handler *h, bp_handler_fn fn, void *user_data) {
  int stopped = 0;
  for (size_t i = 0; i < h->nrecs; i++) {
    h->has_cur_reason = 0;
    if (stopped) {
      if (hd_add_failure(h, i, 1)) return bp__error(&h->err, BP_ERR_NOMEM, "out of memory");
      continue;
    }
    bp_handler_record v;
    hd_make_view(h, i, &v);
    int failed = (h->flags & BP_HANDLER_DEAGGREGATE) && v.source == BP_SOURCE_KINESIS &&
                         bp_kpl_is_aggregated(v.data, v.data_len)
                     ? hd_deliver_aggregate(h, &v, fn, user_data)
                     : hd_call(h, &v, fn, user_data);
    if (!failed) continue;
    if (hd_add_failure(h, i, 0)) return bp__error(&h->err, BP_ERR_NOMEM, "out of memory");
    if (h->flags & BP_HANDLER_STOP_AT_FIRST_FAILURE) stopped = 1;
  }
  h->has_cur_reason = 0;
  return 0;
}

int bp_handler_process(bp_handler *h, const char *event, size_t len, bp_handler_fn fn,
                       void *user_data, const char **response, size_t *response_len) {
  if (!h) return BP_ERR_INVALID_ARGUMENT;
  if (h->in_callback)
    return bp__error(&h->err, BP_ERR_IN_CALLBACK, "bp_handler_process called from a callback");
  if (response) *response = NULL;
  if (response_len) *response_len = 0;
  if (!fn || !response || !response_len || (!event && len) || !bp__span_ok(event, len))
    return bp__error(&h->err, BP_ERR_INVALID_ARGUMENT,
                     "bp_handler_process: NULL callback, out-pointer or event text");
  bp__errmsg_clear(&h->err);
  h->processed = 0;
  h->has_response = 0;
  h->has_state = 0;
  h->nfails = 0;
  h->reasons.len = 0;
  h->event = event ? event : "";
  h->event_len = len;
  int rc = bp__handler_parse(h, h->event, len);
  if (rc) {
    h->nrecs = 0;
    return rc;
  }
  h->processed = 1;
  if ((rc = hd_run_records(h, fn, user_data))) return rc;
  if ((rc = hd_build_response(h))) return rc;
  *response = h->out.data;
  *response_len = h->out.len;
  if (h->nrecs && h->nfails == h->nrecs)
    return bp__error(&h->err, BP_ERR_BATCH_FAILED, "all %zu records failed", h->nrecs);
  return 0;
}

int bp_handler_response(bp_handler *h, const char **response, size_t *response_len) {
  if (!h || !response || !response_len) return BP_ERR_INVALID_ARGUMENT;
  if (!h->has_response) {
    *response = NULL;
    *response_len = 0;
    return BP_ERR_INVALID_STATE;
  }
  *response = h->out.data;
  *response_len = h->out.len;
  return 0;
}

int bp_handler_fail_reason(bp_handler *h, const char *msg, size_t len) {
  if (!h || (!msg && len)) return BP_ERR_INVALID_ARGUMENT;
  if (!h->in_callback) return BP_ERR_INVALID_STATE;
  if (len > HANDLER_MAX_REASON) len = HANDLER_MAX_REASON;
  h->cur_reason.len = 0;
  int rc = bp__buf_append(&h->cur_reason, msg, len);
  if (rc) return rc;
  h->has_cur_reason = 1;
  return 0;
}

int bp_handler_set_state(bp_handler *h, const char *json, size_t len) {
  if (!h || (!json && len) || !bp__span_ok(json, len)) return BP_ERR_INVALID_ARGUMENT;
  if (!h->processed) return BP_ERR_INVALID_STATE;
  bp__hscan s;
  bp__hs_init(&s, json ? json : "", len, &h->scratch, &h->scratch_stack);
  size_t keep = h->scratch.len;
  int rc = bp__hs_peek(&s) == '{' ? bp__hs_skip(&s, NULL, NULL) : BP_ERR_INVALID_JSON;
  h->scratch.len = keep;
  if (rc == BP_ERR_NOMEM) return rc;
  if (rc || bp__hs_peek(&s) != -1) return BP_ERR_INVALID_JSON;
  h->state.len = 0;
  if ((rc = bp__buf_append(&h->state, json, len))) return rc;
  h->has_state = 1;
  /* After the loop, the response changes at once. */
  if (!h->in_callback && h->has_response) return hd_build_response(h);
  return 0;
}

size_t bp_handler_failure_count(const bp_handler *h) { return h ? h->nfails : 0; }

int bp_handler_get_failure(const bp_handler *h, size_t i, bp_handler_failure *out) {
  if (!h || !out || i >= h->nfails) return BP_ERR_INVALID_ARGUMENT;
  bp_handler_failure f;
  memset(&f, 0, sizeof f);
  f.struct_size = sizeof f;
  const bp__hfail *x = &h->fails[i];
  f.index = x->index;
  f.skipped = x->skipped;
  f.seq = hd_seq_of(h, x->index, &f.seq_len);
  if (x->reason != SIZE_MAX) {
    f.reason = h->reasons.data + x->reason;
    f.reason_len = x->reason_len;
  }
  return bp__struct_out(out, &f, sizeof f, BP__SIZE_V1(bp_handler_failure, reserved),
                        "bp_handler_failure", NULL, 0);
}

int bp_handler_get_window(const bp_handler *h, bp_handler_window *out) {
  if (!h || !out) return BP_ERR_INVALID_ARGUMENT;
  bp_handler_window w;
  memset(&w, 0, sizeof w);
  w.struct_size = sizeof w;
  const bp__hwin *x = &h->win;
  int present = h->processed && x->present;
  if (present) {
    w.start_ms = x->start_ms;
    w.end_ms = x->end_ms;
    w.is_final = x->is_final;
    w.is_terminated_early = x->is_terminated_early;
    w.state_json = x->state;
    w.state_json_len = x->state_len;
    bp__hstr s = x->shard_id;
    w.shard_id = s.len & BP__HS_UNESC ? h->unesc.data + s.off : h->event + s.off;
    w.shard_id_len = s.len & ~BP__HS_UNESC;
    if (x->has_arn) {
      s = x->event_source_arn;
      w.event_source_arn = s.len & BP__HS_UNESC ? h->unesc.data + s.off : h->event + s.off;
      w.event_source_arn_len = s.len & ~BP__HS_UNESC;
    }
  }
  int rc = bp__struct_out(out, &w, sizeof w, BP__SIZE_V1(bp_handler_window, reserved),
                          "bp_handler_window", NULL, 0);
  if (rc) return rc;
  if (!h->processed) return BP_ERR_INVALID_STATE;
  return present;
}
