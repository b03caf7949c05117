/* SPDX-License-Identifier: MIT */
/*
 * The old-binary test: a host compiled against test/abi/include — the public headers as they
 * were when struct_size was introduced (the ABI baseline) — and linked against the library of
 * today. It fills every struct with the sizes those headers give (smaller than today's where
 * members were appended since), walks the records it is handed with their stride, reads
 * metrics into a struct of the old size with guard bytes behind it, and checks the outcome.
 * Exits 0 only if all of it holds.
 */
#include <stdio.h>
#include <string.h>

#include <batchpoint.h>

#define STREAM_ARN "arn:aws:kinesis:us-east-1:111111111111:stream/orders"
#define FUNCTION_ARN "arn:aws:lambda:us-east-1:111111111111:function:orders"
#define ROLE_ARN "arn:aws:iam::111111111111:role/orders-role"
#define SHARD "shardId-000000000000"
#define NREC 12
#define FLAKY 7

typedef struct host {
  char seq[NREC][32], data[NREC][32];
  bp_record recs[NREC];
  size_t next;
  int flaky_failed, invocations, bad;
  int64_t now;
} host;

static int fail(host *h, const char *what) {
  fprintf(stderr, "old_host: %s\n", what);
  h->bad = 1;
  return BP_ERR_CALLBACK_FAILURE;
}

static int on_fetch(bp_engine *e, const bp_fetch_req *q, void *ud) {
  host *h = ud;
  size_t from = 0;
  int cmp = 0;
  if (q->from == BP_POSITION_CONTINUE) from = h->next;
  if (q->from == BP_POSITION_AFTER_SEQUENCE_NUMBER)
    while (from < NREC && !bp_seqnum_compare(h->recs[from].seq, h->recs[from].seq_len,
                                             q->after_seq, q->after_seq_len, &cmp) && cmp <= 0)
      from++;
  size_t n = NREC - from < q->max_records ? NREC - from : q->max_records;
  h->next = from + n;
  return bp_engine_complete_fetch(e, q->req_id, h->now, 0, h->recs + from, n, 0)
             ? fail(h, bp_engine_errmsg(e))
             : 0;
}

static int on_invoke(bp_engine *e, const bp_invoke_req *q, void *ud) {
  host *h = ud;
  char body[256] = "{\"batchItemFailures\":[]}";
  h->invocations++;
  if (q->struct_size < offsetof(bp_invoke_req, reserved)) return fail(h, "invoke_req too small");
  for (size_t i = 0; i < q->count; i++) {
    const bp_record *r = BP_RECORD_AT(q->records, q->record_stride, i);
    if (r->data_len != strlen(h->data[0]) && r->data_len != strlen(h->data[NREC - 1]))
      return fail(h, "a record's data is not what was fetched");
    if (!h->flaky_failed && r->seq_len == strlen(h->seq[FLAKY]) &&
        !memcmp(r->seq, h->seq[FLAKY], r->seq_len)) {
      h->flaky_failed = 1;
      snprintf(body, sizeof body, "{\"batchItemFailures\":[{\"itemIdentifier\":\"%.*s\"}]}",
               (int)r->seq_len, r->seq);
    }
  }
  if (!q->payload || !strstr(q->payload, "\"kinesisSchemaVersion\":\"1.0\""))
    return fail(h, "the payload is not a Kinesis event");
  bp_invoke_result res;
  bp_invoke_result_init(&res, sizeof res);
  res.body = body;
  res.body_len = strlen(body);
  return bp_engine_complete_invoke(e, q->req_id, h->now, &res) ? fail(h, bp_engine_errmsg(e))
                                                                : 0;
}

int main(void) {
  static host h;
  h.now = 1764088532021;
  for (int i = 0; i < NREC; i++) {
    snprintf(h.seq[i], sizeof h.seq[i], "4960000000000000000000%04d", 10 * (i + 1));
    snprintf(h.data[i], sizeof h.data[i], "{\"order\":%d}", i < 10 ? 1 : 10);
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
  printf("old_host: built with bp_record %zu bytes, bp_engine_opts %zu, bp_engine_metrics %zu; "
         "library %s\n",
         sizeof(bp_record), sizeof(bp_engine_opts), sizeof(bp_engine_metrics),
         bp_version_string());

  bp_config *cfg = NULL;
  if (bp_config_new(&cfg, NULL) ||
      bp_config_set_event_source_arn(cfg, STREAM_ARN, strlen(STREAM_ARN)) ||
      bp_config_set_function_name(cfg, FUNCTION_ARN, strlen(FUNCTION_ARN)) ||
      bp_config_set_starting_position(cfg, BP_POSITION_TRIM_HORIZON) ||
      bp_config_set_batch_size(cfg, 5) || bp_config_set_report_batch_item_failures(cfg, 1)) {
    fprintf(stderr, "old_host: config: %s\n", bp_config_errmsg(cfg));
    return 1;
  }
  /* The options of the old size, with guard bytes behind them: init must not write there. */
  struct {
    bp_engine_opts o;
    unsigned char guard[64];
  } opts;
  memset(&opts, 0xA5, sizeof opts);
  bp_engine_opts_init(&opts.o, sizeof opts.o);
  for (size_t i = 0; i < sizeof opts.guard; i++)
    if (opts.guard[i] != 0xA5) {
      fprintf(stderr, "old_host: bp_engine_opts_init wrote past the old struct\n");
      return 1;
    }
  opts.o.invoke_identity_arn = ROLE_ARN;
  bp_transport tr;
  memset(&tr, 0, sizeof tr);
  tr.fetch = on_fetch;
  tr.invoke = on_invoke;
  bp_engine *e = NULL;
  char err[256];
  int rc = bp_engine_new(&e, cfg, &opts.o, &tr, &h, NULL, err, sizeof err);
  bp_config_del(cfg);
  if (rc || (rc = bp_engine_add_shard(e, SHARD, NULL, NULL, NULL, 0))) {
    fprintf(stderr, "old_host: %s: %s\n", bp_err_name(rc), e ? bp_engine_errmsg(e) : err);
    bp_engine_del(e);
    return 1;
  }
  for (int i = 0; i < 1000 && !rc && !h.bad; i++) {
    if ((rc = bp_engine_tick(e, h.now))) break;
    if (bp_engine_idle(e) && h.next == NREC) break;
    int64_t next = bp_engine_next_deadline(e);
    if (next > h.now) h.now = next;
  }
  char ckpt[BP_STORE_SEQ_CAP] = "";
  size_t len = 0;
  if (!rc) rc = bp_engine_get_checkpoint(e, SHARD, ckpt, sizeof ckpt, &len);
  /* Metrics into the old struct: the library writes no more than its struct_size. */
  struct {
    bp_engine_metrics m;
    unsigned char guard[64];
  } met;
  memset(&met, 0xA5, sizeof met);
  bp_engine_metrics_init(&met.m, sizeof met.m);
  if (!rc) rc = bp_engine_get_metrics(e, NULL, &met.m);
  bp_engine_del(e);
  int guard_ok = 1;
  for (size_t i = 0; i < sizeof met.guard; i++) guard_ok &= met.guard[i] == 0xA5;
  printf("old_host: %d invocations, polled %llu, invoked %llu, final checkpoint %s\n",
         h.invocations, (unsigned long long)met.m.polled_event_count,
         (unsigned long long)met.m.invoked_event_count, ckpt);
  if (rc || h.bad || !h.flaky_failed || strcmp(ckpt, h.seq[NREC - 1]) || !guard_ok ||
      met.m.polled_event_count != NREC || met.m.struct_size != sizeof met.m) {
    fprintf(stderr, "old_host: FAILED (rc %d, guard %s, struct_size %u)\n", rc,
            guard_ok ? "intact" : "overwritten", (unsigned)met.m.struct_size);
    return 1;
  }
  printf("old_host: ok\n");
  return 0;
}
