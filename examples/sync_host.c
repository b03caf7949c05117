/* SPDX-License-Identifier: MIT */
/*
 * sync_host: the smallest correct batchpoint host. One Kinesis shard of a dozen records kept
 * in memory, a function that reports one record in batchItemFailures the first time it sees
 * it (ReportBatchItemFailures), every completion made inside its callback, and a simulated
 * clock that jumps to the engine's next deadline. Exits 0 only if the final checkpoint is
 * the shard's last record.
 */
#include <stdio.h>
#include <string.h>

#include <batchpoint.h>
#include <batchpoint/bp_engine.h>

#define STREAM_ARN "arn:aws:kinesis:us-east-1:111111111111:stream/orders"
#define FUNCTION_ARN "arn:aws:lambda:us-east-1:111111111111:function:orders"
#define ROLE_ARN "arn:aws:iam::111111111111:role/orders-role"
#define SHARD "shardId-000000000000"
#define NREC 12
#define FLAKY 7 /* the record the function fails once */

typedef struct host {
  char seq[NREC][32], data[NREC][32];
  bp_record recs[NREC]; /* the stream: views of seq[] and data[] */
  size_t next;          /* where a CONTINUE read goes on */
  int flaky_failed;     /* the function failed FLAKY already */
  int64_t now;          /* the simulated clock, epoch ms */
} host;

/* Where a read starts, as a Kinesis shard iterator would. */
static size_t start_of(const host *h, const bp_fetch_req *q) {
  size_t i = 0;
  int cmp = 0;
  switch (q->from) {
  case BP_POSITION_TRIM_HORIZON: return 0;
  case BP_POSITION_CONTINUE: return h->next;
  case BP_POSITION_AT_TIMESTAMP:
    while (i < NREC && h->recs[i].arrival_ms < q->timestamp_ms) i++;
    return i;
  case BP_POSITION_AFTER_SEQUENCE_NUMBER:
    while (i < NREC && !bp_seqnum_compare(h->recs[i].seq, h->recs[i].seq_len, q->after_seq,
                                          q->after_seq_len, &cmp) && cmp <= 0)
      i++;
    return i;
  default: return NREC; /* LATEST */
  }
}

static int on_fetch(bp_engine *e, const bp_fetch_req *q, void *ud) {
  host *h = ud;
  size_t from = start_of(h, q);
  size_t n = NREC - from < q->max_records ? NREC - from : q->max_records;
  h->next = from + n;
  /* The records are copied by the engine; the shard stays open (no BP_FETCH_SHARD_END). */
  return bp_engine_complete_fetch(e, q->req_id, h->now, 0, h->recs + from, n, 0)
             ? BP_ERR_CALLBACK_FAILURE /* a bug of this host: stop the engine */
             : 0;
}

static int on_invoke(bp_engine *e, const bp_invoke_req *q, void *ud) {
  host *h = ud;
  char body[256] = "{\"batchItemFailures\":[]}";
  const bp_record *first = BP_RECORD_AT(q->records, q->record_stride, 0);
  const bp_record *last = BP_RECORD_AT(q->records, q->record_stride, q->count - 1);
  for (size_t i = 0; i < q->count; i++) {
    const bp_record *r = BP_RECORD_AT(q->records, q->record_stride, i);
    if (!h->flaky_failed && r->seq_len == strlen(h->seq[FLAKY]) &&
        !memcmp(r->seq, h->seq[FLAKY], r->seq_len)) {
      h->flaky_failed = 1; /* fails once: the retry succeeds */
      snprintf(body, sizeof body, "{\"batchItemFailures\":[{\"itemIdentifier\":\"%.*s\"}]}",
               (int)r->seq_len, r->seq);
    }
  }
  printf("invoke  %.*s..%.*s  %2zu records  attempt %u%s  -> %s\n", (int)first->seq_len,
         first->seq, (int)last->seq_len, last->seq, q->count, q->attempt,
         q->flags & BP_INVOKE_REMAINDER ? " (what a partial failure left)" : "", body);
  bp_invoke_result res;
  bp_invoke_result_init(&res, sizeof res);
  res.kind = BP_INVOKE_RESULT_RETURNED; /* the function returned: the engine reads the body */
  res.body = body;
  res.body_len = strlen(body);
  /* Completed inside the callback: the engine acts on it after we return. */
  return bp_engine_complete_invoke(e, q->req_id, h->now, &res) ? BP_ERR_CALLBACK_FAILURE : 0;
}

int main(void) {
  host h;
  memset(&h, 0, sizeof h);
  h.now = 1764088532021; /* 2025-11-25T16:35:32.021Z */
  for (int i = 0; i < NREC; i++) {
    snprintf(h.seq[i], sizeof h.seq[i], "4960000000000000000000%04d", 10 * (i + 1));
    snprintf(h.data[i], sizeof h.data[i], "{\"order\":%d}", i);
    bp_record *r = &h.recs[i];
    bp_record_init(r, sizeof *r);
    r->seq = h.seq[i];
    r->seq_len = strlen(h.seq[i]);
    r->arrival_ms = h.now - 1000 * (NREC - i);
    r->partition_key = "customer-1";
    r->partition_key_len = strlen(r->partition_key);
    r->data = (const uint8_t *)h.data[i];
    r->data_len = strlen(h.data[i]);
  }

  /* The mapping, as CreateEventSourceMapping would take it. */
  bp_config *cfg = NULL;
  if (bp_config_new(&cfg, NULL) ||
      bp_config_set_event_source_arn(cfg, STREAM_ARN, strlen(STREAM_ARN)) ||
      bp_config_set_function_name(cfg, FUNCTION_ARN, strlen(FUNCTION_ARN)) ||
      bp_config_set_starting_position(cfg, BP_POSITION_TRIM_HORIZON) ||
      bp_config_set_batch_size(cfg, 5) || bp_config_set_report_batch_item_failures(cfg, 1)) {
    fprintf(stderr, "sync_host: config: %s\n", bp_config_errmsg(cfg));
    return 1;
  }
  bp_engine_opts opts;
  bp_engine_opts_init(&opts, sizeof opts);
  opts.invoke_identity_arn = ROLE_ARN; /* the Kinesis event's invokeIdentityArn */
  bp_transport tr;
  memset(&tr, 0, sizeof tr); /* no deliver (no destination), no store: checkpoints in memory */
  tr.fetch = on_fetch;
  tr.invoke = on_invoke;
  bp_engine *e = NULL;
  char err[256];
  int rc = bp_engine_new(&e, cfg, &opts, &tr, &h, NULL, err, sizeof err);
  bp_config_del(cfg); /* the engine keeps its own copy */
  if (rc || (rc = bp_engine_add_shard(e, SHARD, NULL, NULL, NULL, 0))) {
    fprintf(stderr, "sync_host: %s: %s\n", bp_err_name(rc), e ? bp_engine_errmsg(e) : err);
    bp_engine_del(e);
    return 1;
  }

  /* Tick until idle, jumping the clock to the next deadline (a real host would sleep). */
  for (int i = 0; i < 1000 && !rc; i++) {
    if ((rc = bp_engine_tick(e, h.now))) break;
    if (bp_engine_idle(e) && h.next == NREC) break;
    int64_t next = bp_engine_next_deadline(e);
    if (next > h.now) h.now = next;
  }
  char ckpt[BP_STORE_SEQ_CAP] = "";
  size_t len = 0;
  if (!rc) rc = bp_engine_get_checkpoint(e, SHARD, ckpt, sizeof ckpt, &len);
  printf("final checkpoint %s (%s)\n", ckpt, rc ? bp_engine_errmsg(e) : "ok");
  bp_engine_del(e);
  /* The outcome, asserted: every record passed, the flaky one after its retry. */
  if (rc || !h.flaky_failed || strcmp(ckpt, h.seq[NREC - 1])) {
    fprintf(stderr, "sync_host: expected checkpoint %s\n", h.seq[NREC - 1]);
    return 1;
  }
  return 0;
}
