/* SPDX-License-Identifier: MIT */
/*
 * classify-response: a 10,000-record batch, a response naming 1,000 of its records
 * (positions 3, 13, ..., 9993, shuffled as the peers shuffle them); parse, validate every
 * itemIdentifier against the batch, find the numerically lowest. Same line format and input
 * as the peer benchmarks node-response.js and python-response.py, three ways:
 *  - classify-response: the batch indexed once, untimed (bp_codec_index_batch()), as the
 *    peers index theirs (a Map / dict built before timing); timed: bp_codec_classify_indexed().
 *    The same work as the peers' line of this id.
 *  - classify-response-engine: per call, index the (trusted) batch, then classify: what the
 *    engine does for each response (its records were validated at intake).
 *  - classify-response-untrusted: per call, bp_codec_classify_response(): validate all 10,000
 *    sequence numbers and their order, index, classify.
 */
#include "batchpoint.h"
#include "bench_util.h"

typedef struct cls_ctx {
  bp_codec *codec;
  const char *text;
  size_t len;
  bp_record *batch;
  size_t n;
  int reps;
} cls_ctx;

static void check(int rc, const bp_response_result *res) {
  if (rc || res->outcome != BP_ATTEMPT_PARTIAL || res->failed_index != 3 ||
      res->failed_count != 1000)
    abort();
}

static void run_indexed(void *p) {
  cls_ctx *c = p;
  for (int r = 0; r < c->reps; r++) {
    bp_response_result res = BP_RESPONSE_RESULT_INIT;
    check(bp_codec_classify_indexed(c->codec, c->text, c->len,
                                    BP_CLASSIFY_REPORT_BATCH_ITEM_FAILURES, &res),
          &res);
  }
}

static void run_engine(void *p) {
  cls_ctx *c = p;
  for (int r = 0; r < c->reps; r++) {
    bp_response_result res = BP_RESPONSE_RESULT_INIT;
    if (bp_codec_index_batch(c->codec, c->batch, c->n, BP_INDEX_TRUSTED)) abort();
    check(bp_codec_classify_indexed(c->codec, c->text, c->len,
                                    BP_CLASSIFY_REPORT_BATCH_ITEM_FAILURES, &res),
          &res);
  }
}

static void run_untrusted(void *p) {
  cls_ctx *c = p;
  for (int r = 0; r < c->reps; r++) {
    bp_response_result res = BP_RESPONSE_RESULT_INIT;
    check(bp_codec_classify_response(c->codec, c->text, c->len, c->batch, c->n,
                                     BP_CLASSIFY_REPORT_BATCH_ITEM_FAILURES, &res),
          &res);
  }
}

int main(void) {
  enum { BATCH = 10000, F = 1000, REPS = 20 };
  static char seqs[BATCH][64];
  static bp_record batch[BATCH];
  for (size_t i = 0; i < BATCH; i++) {
    bench_seq(i, seqs[i]);
    bp_record_init(&batch[i], sizeof batch[i]);
    batch[i].seq = seqs[i];
    batch[i].seq_len = strlen(seqs[i]);
  }
  size_t failed[F];
  for (size_t k = 0; k < F; k++) failed[k] = 3 + k * (BATCH / F);
  bench_rng rng = {0x9E3779B9u};
  for (size_t i = F - 1; i > 0; i--) { /* Fisher-Yates, j = step mod (i + 1) */
    size_t j = bench_next(&rng) % (i + 1);
    size_t t = failed[i];
    failed[i] = failed[j];
    failed[j] = t;
  }
  size_t cap = 100 + F * 100, len = 0;
  char *text = malloc(cap);
  if (!text) return 1;
  len += (size_t)snprintf(text + len, cap - len, "{\"batchItemFailures\":[");
  for (size_t k = 0; k < F; k++)
    len += (size_t)snprintf(text + len, cap - len, "%s{\"itemIdentifier\":\"%s\"}", k ? "," : "",
                            seqs[failed[k]]);
  len += (size_t)snprintf(text + len, cap - len, "]}");
  bp_codec_opts o = {sizeof(bp_codec_opts), BP_SOURCE_KINESIS, BENCH_STREAM, NULL, BENCH_ROLE, NULL};
  bp_codec *codec;
  if (bp_codec_new(&codec, &o, NULL)) return 1;
  cls_ctx c = {codec, text, len, batch, BATCH, REPS};
  if (bp_codec_index_batch(codec, batch, BATCH, 0)) return 1; /* untimed, as the peers' index */
  bench_line("batchpoint", "classify-response", F, len, bench_median(run_indexed, &c) / REPS,
             NULL);
  bench_line("batchpoint", "classify-response-engine", F, len,
             bench_median(run_engine, &c) / REPS, NULL);
  bench_line("batchpoint", "classify-response-untrusted", F, len,
             bench_median(run_untrusted, &c) / REPS, NULL);
  bp_codec_del(codec);
  free(text);
  return 0;
}
