/* SPDX-License-Identifier: MIT */
/*
 * Codec benchmarks, printing the peers' line format for the same work ids:
 *   encode-kinesis-event, encode-kinesis-event-b64   10,000 records of 100 bytes
 *   base64-encode-1mib, base64-decode-1mib            8 distinct 1 MiB buffers
 * plus libb64 (what a C user would otherwise link) on the base64 work, the number of
 * allocations per record once the codec is warm, and the machine's bound for each size of
 * work (peer=bound: memcpy of as many bytes, the same buffers):
 *   memcpy-event      the encoded event's bytes into a warm buffer
 *   memcpy-1mib       each 1 MiB buffer into another
 */
#include <b64/cencode.h>

#include "batchpoint.h"
#include "bench_util.h"
#include "test_alloc_lite.h"

typedef struct enc_ctx {
  bp_codec *codec;
  bp_record *recs;
  size_t n;
  size_t len;
} enc_ctx;

static void run_encode(void *p) {
  enc_ctx *e = p;
  const char *out;
  if (bp_codec_encode_event(e->codec, BENCH_SHARD, e->recs, e->n, NULL, &out, &e->len)) abort();
}

/* What no encoder can beat: moving the same bytes once. */
typedef struct copy_ctx {
  const void *const *src;
  void *const *dst;
  int k;
  size_t size;
} copy_ctx;

static void run_copy(void *p) {
  copy_ctx *c = p;
  for (int i = 0; i < c->k; i++) memcpy(c->dst[i], c->src[i], c->size);
}

typedef struct b64_ctx {
  uint8_t **raw;
  char **text;
  uint8_t *back;
  int k;
  size_t size;
  int use_libb64;
} b64_ctx;

static void run_b64_encode(void *p) {
  b64_ctx *b = p;
  for (int i = 0; i < b->k; i++) {
    size_t w;
    if (b->use_libb64) {
      base64_encodestate st;
      base64_init_encodestate(&st);
      int n = base64_encode_block((const char *)b->raw[i], (int)b->size, b->text[i], &st);
      n += base64_encode_blockend(b->text[i] + n, &st);
      size_t k = 0; /* Lambda events carry no line breaks: strip libb64's */
      for (int j = 0; j < n; j++)
        if (b->text[i][j] != '\n') b->text[i][k++] = b->text[i][j];
    } else if (bp_base64_encode(b->raw[i], b->size, b->text[i], b->size * 2, &w)) {
      abort();
    }
  }
}

static void run_b64_decode(void *p) {
  b64_ctx *b = p;
  size_t enc = bp_base64_encoded_len(b->size);
  for (int i = 0; i < b->k; i++) {
    size_t w;
    if (bp_base64_decode(b->text[i], enc, b->back, b->size, &w) || w != b->size) abort();
  }
}

int main(int argc, char **argv) {
  size_t n = 10000, size = 100;
  for (int i = 1; i < argc; i++) {
    if (!strncmp(argv[i], "--n=", 4)) n = (size_t)atol(argv[i] + 4);
    if (!strncmp(argv[i], "--size=", 7)) size = (size_t)atol(argv[i] + 7);
  }
  /* Inputs exactly as the peers build them. */
  uint8_t *raw = malloc(n * size);
  char (*seqs)[64] = malloc(n * sizeof *seqs);
  char (*pks)[16] = malloc(n * sizeof *pks);
  char *b64 = malloc(n * bp_base64_encoded_len(size));
  bp_record *recs = calloc(n, sizeof *recs), *recs64 = calloc(n, sizeof *recs64);
  if (!raw || !seqs || !pks || !b64 || !recs || !recs64) return 1;
  bench_rng rng = {0x9E3779B9u};
  for (size_t i = 0; i < n * size; i++) raw[i] = (uint8_t)bench_next(&rng);
  size_t elen = bp_base64_encoded_len(size);
  for (size_t i = 0; i < n; i++) {
    bench_seq(i, seqs[i]);
    snprintf(pks[i], sizeof pks[i], "pk-%zu", i % 16);
    size_t w;
    bp_base64_encode(raw + i * size, size, b64 + i * elen, elen, &w);
    bp_record r = BP_RECORD_INIT;
    r.seq = seqs[i];
    r.seq_len = strlen(seqs[i]);
    r.arrival_ms = bench_arrival(i);
    r.partition_key = pks[i];
    r.partition_key_len = strlen(pks[i]);
    r.data = raw + i * size;
    r.data_len = size;
    recs[i] = r;
    r.data = (const uint8_t *)b64 + i * elen;
    r.data_len = elen;
    r.flags = BP_RECORD_DATA_BASE64;
    recs64[i] = r;
  }
  lite_alloc counter;
  bp_allocator hooks;
  lite_alloc_init(&counter, &hooks);
  bp_codec_opts o = {sizeof(bp_codec_opts), BP_SOURCE_KINESIS, BENCH_STREAM, NULL, BENCH_ROLE, NULL};
  bp_codec *codec;
  if (bp_codec_new(&codec, &o, &hooks)) return 1;

  enc_ctx e = {codec, recs, n, 0};
  run_encode(&e); /* warm: the output buffer reaches its size */
  size_t before = counter.calls;
  double ms = bench_median(run_encode, &e);
  char extra[64];
  snprintf(extra, sizeof extra, "allocs_per_record=%.4f",
           (double)(counter.calls - before) / (double)n / (bench_env("BENCH_RUNS", 9) + bench_env("BENCH_WARMUP", 2)));
  bench_line("batchpoint", "encode-kinesis-event", n, e.len, ms, extra);
  e.recs = recs64;
  ms = bench_median(run_encode, &e);
  bench_line("batchpoint", "encode-kinesis-event-b64", n, e.len, ms, NULL);
  const char *event;
  size_t event_len;
  if (bp_codec_encode_event(codec, BENCH_SHARD, recs, n, NULL, &event, &event_len)) return 1;
  void *event_copy = malloc(event_len);
  if (!event_copy) return 1;
  memset(event_copy, 0, event_len); /* warm, as the codec's own output buffer is */
  const void *ev_src[1] = {event};
  void *ev_dst[1] = {event_copy};
  copy_ctx cc = {ev_src, ev_dst, 1, event_len};
  ms = bench_median(run_copy, &cc);
  bench_line("bound", "memcpy-event", n, event_len, ms, NULL);
  free(event_copy);
  bp_codec_del(codec);

  /* base64 over 8 distinct 1 MiB buffers (buffer k from seed 0x9E3779B9 + k). */
  enum { K = 8 };
  size_t mib = 1 << 20;
  uint8_t *bufs[K];
  char *texts[K];
  for (int k = 0; k < K; k++) {
    bufs[k] = malloc(mib);
    texts[k] = malloc(mib * 2);
    if (!bufs[k] || !texts[k]) return 1;
    bench_rng r = {0x9E3779B9u + (uint32_t)k};
    for (size_t i = 0; i < mib; i++) bufs[k][i] = (uint8_t)bench_next(&r);
  }
  b64_ctx b = {bufs, texts, malloc(mib), K, mib, 0};
  ms = bench_median(run_b64_encode, &b);
  bench_line("batchpoint", "base64-encode-1mib", K, K * mib, ms, NULL);
  ms = bench_median(run_b64_decode, &b);
  bench_line("batchpoint", "base64-decode-1mib", K, K * mib, ms, NULL);
  b.use_libb64 = 1;
  ms = bench_median(run_b64_encode, &b);
  bench_line("libb64", "base64-encode-1mib", K, K * mib, ms, "newlines-stripped");
  copy_ctx mc = {(const void *const *)bufs, (void *const *)texts, K, mib};
  ms = bench_median(run_copy, &mc);
  bench_line("bound", "memcpy-1mib", K, K * mib, ms, NULL);
  for (int k = 0; k < K; k++) {
    free(bufs[k]);
    free(texts[k]);
  }
  free(b.back);
  free(raw);
  free(seqs);
  free(pks);
  free(b64);
  free(recs);
  free(recs64);
  return 0;
}
