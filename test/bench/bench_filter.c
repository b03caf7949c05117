/* SPDX-License-Identifier: MIT */
/*
 * Filter benchmarks, printing the peers' line format for the same work ids and the same input
 * as the Node peer benchmark node-filter.js (N JSON texts of S bytes, default 10,000 x 200):
 *   filter-match-json      bp_filter_match_json on each JSON text (parse and match, one pass)
 *   filter-kinesis-record  bp_filter_match_record with {"data": <pattern>} on Kinesis record
 *                          views whose data is the JSON text in base64 (decode + parse + match)
 * The peers' third work, filter-match-obj (matching objects parsed beforehand), has no
 * batchpoint figure: the library takes no parsed-object input, it matches the text directly,
 * so any "already parsed" figure would time something batchpoint never does.
 * One figure of our own on the same records:
 *   filter-kinesis-metadata  {"kinesis":{"partitionKey":[{"prefix":"pk-1"}]}}: no pattern reads
 *                            `data`, so no payload is decoded or parsed (bytes=0: mb_s=-). The
 *                            key is under `kinesis` because batchpoint's filter view is the
 *                            record as delivered (FILTERS.md §5); top-level partitionKey
 *                            never matches there.
 * Extra fields: matched (records the filter accepted), allocs_per_record (allocator calls per
 * record over the timed and warm-up runs, once the filter's buffers have grown; the target
 * is 0). Before any figure every work's match count is checked against the generator's
 * oracle, and against node-filter.js's 3,585 for the default 10,000 records.
 *
 *   bench_filter [--n=10000] [--size=200] [--dump=FILE]   (BENCH_RUNS, BENCH_WARMUP)
 * --dump=FILE writes the JSON texts one per line and exits, as node-filter.js --dump does,
 * so the two inputs can be compared byte for byte.
 */
#include "batchpoint.h"
#include "bench_util.h"
#include "test_alloc_lite.h"

#define PATTERN \
  "{\"type\":[\"order\"],\"region\":[{\"prefix\":\"eu-\"}]," \
  "\"amount\":[{\"numeric\":[\">=\",10,\"<\",150]}]}"
#define KINESIS_PATTERN "{\"data\":" PATTERN "}"
#define METADATA_PATTERN "{\"kinesis\":{\"partitionKey\":[{\"prefix\":\"pk-1\"}]}}"
#define METADATA_PREFIX "pk-1"
#define PEER_DEFAULT_N 10000
#define PEER_DEFAULT_MATCHES 3585 /* what node-filter.js finds for its default 10,000 records */

static void sanity_fail(const char *what) {
  fprintf(stderr, "sanity check failed: %s\n", what);
  exit(1);
}

/* JavaScript's Number-to-string of cents / 100 (shortest round trip): 10, 10.5, 10.05. */
static void js_amount(uint32_t cents, char out[16]) {
  if (cents % 100 == 0) snprintf(out, 16, "%u", cents / 100);
  else if (cents % 10 == 0) snprintf(out, 16, "%u.%u", cents / 100, cents % 100 / 10);
  else snprintf(out, 16, "%u.%02u", cents / 100, cents % 100);
}

/* Filter payloads as lib/gen.js filterPayloads builds them: one xorshift32 step r per record,
 * type / region / amount from r, JSON.stringify key order, "pad" filling to exactly @p size
 * bytes. Returns the number of records the pattern must match (the oracle), or -1 when a
 * record does not fit in @p size bytes. */
static long make_payloads(char *texts, size_t n, size_t size) {
  static const char *const types[] = {"order", "order", "refund", "order"};
  static const char *const regions[] = {"eu-west-1",  "eu-central-1", "us-east-1",
                                        "eu-north-1", "ap-south-1",   "eu-south-2"};
  bench_rng rng = {0x9E3779B9u};
  long matching = 0;
  char head[256], amount[16];
  for (size_t i = 0; i < n; i++) {
    uint32_t r = bench_next(&rng), cents = (r >> 16) % 20000;
    const char *type = types[r % 4], *region = regions[(r >> 8) % 6];
    js_amount(cents, amount);
    int len = snprintf(head, sizeof head,
                       "{\"id\":%zu,\"type\":\"%s\",\"region\":\"%s\",\"amount\":%s,"
                       "\"user\":\"u%zu\",\"pad\":\"\"}",
                       i, type, region, amount, i % 97);
    if (len < 0 || (size_t)len > size) return -1;
    char *t = texts + i * size;
    memcpy(t, head, (size_t)len - 2); /* up to the pad's opening quote */
    memset(t + len - 2, 'x', size - (size_t)len);
    memcpy(t + size - 2, "\"}", 2);
    if (!strcmp(type, "order") && !strncmp(region, "eu-", 3) && cents >= 1000 && cents < 15000)
      matching++;
  }
  return matching;
}

typedef struct work_ctx {
  bp_filter *filter;
  bp_codec *codec;        /* NULL: match the JSON texts; else the record views */
  const char *texts;
  size_t size;
  const bp_record *recs;
  size_t n;
  long expected;          /* every run must find exactly this many */
  long matched, dropped;  /* what the last run found (every payload is JSON: 0 dropped) */
  int rc;                 /* the last run's error, 0 if none */
  int bad_runs;           /* runs with an error or another count */
} work_ctx;

static void run_work(void *p) {
  work_ctx *w = p;
  long matched = 0, dropped = 0;
  for (size_t i = 0; i < w->n; i++) {
    int m = 0, rc;
    if (w->codec) {
      rc = bp_filter_match_record(w->filter, w->codec, BENCH_SHARD, &w->recs[i], &m);
      dropped += m == BP_FILTER_DROPPED;
      m = m == BP_FILTER_MATCH;
    } else {
      rc = bp_filter_match_json(w->filter, w->texts + i * w->size, w->size, &m);
    }
    if (rc) {
      w->rc = rc;
      w->bad_runs++;
      return;
    }
    matched += m;
  }
  w->matched = matched;
  w->dropped = dropped;
  if (matched != w->expected || dropped) w->bad_runs++;
}

static bp_filter *new_filter(const char *pattern, const bp_allocator *hooks) {
  bp_filter *f = NULL;
  if (bp_filter_new(&f, 0, hooks)) sanity_fail("bp_filter_new failed");
  if (bp_filter_add(f, pattern, strlen(pattern))) {
    fprintf(stderr, "sanity check failed: pattern %s rejected: %s\n", pattern,
            bp_filter_errmsg(f));
    exit(1);
  }
  return f;
}

/* One untimed run must find the expected count; it also grows the filter's buffers, so the
 * timed runs see the steady state. */
static void check_work(const char *work, work_ctx *w) {
  run_work(w);
  if (w->bad_runs) {
    char msg[200];
    if (w->rc)
      snprintf(msg, sizeof msg, "%s: %s: %s", work, bp_err_name(w->rc),
               bp_filter_errmsg(w->filter));
    else
      snprintf(msg, sizeof msg, "%s: %ld matches and %ld dropped, expected %ld and 0", work,
               w->matched, w->dropped, w->expected);
    sanity_fail(msg);
  }
}

/* The figure, with the allocator calls of the warm-up and timed runs. */
static void bench_work(const char *work, work_ctx *w, const lite_alloc *counter, size_t bytes) {
  size_t before = counter->calls;
  double ms = bench_median(run_work, w);
  if (w->bad_runs) {
    fprintf(stderr, "bench_filter: %s: %d timed runs failed (%s)\n", work, w->bad_runs,
            bp_filter_errmsg(w->filter));
    exit(1);
  }
  int runs = bench_env("BENCH_RUNS", 9);
  if (runs > 64) runs = 64; /* bench_median's cap */
  int calls = runs + bench_env("BENCH_WARMUP", 2);
  char extra[96];
  snprintf(extra, sizeof extra, "matched=%ld allocs_per_record=%.4f", w->matched,
           (double)(counter->calls - before) / (double)w->n / calls);
  bench_line("batchpoint", work, w->n, bytes, ms, extra);
}

static int dump(const char *path, const char *texts, size_t n, size_t size) {
  FILE *f = fopen(path, "w");
  if (!f) {
    perror(path);
    return 1;
  }
  for (size_t i = 0; i < n; i++) {
    fwrite(texts + i * size, 1, size, f);
    fputc('\n', f);
  }
  if (fclose(f)) {
    perror(path);
    return 1;
  }
  return 0;
}

/* Check every work, then print the figures; exits 1 on a failed check. */
static void bench_all(const char *texts, size_t n, size_t size, long expected,
                      const bp_record *recs, long pk_expected) {
  lite_alloc counter;
  bp_allocator hooks;
  lite_alloc_init(&counter, &hooks);
  bp_codec_opts o = {sizeof(bp_codec_opts), BP_SOURCE_KINESIS, BENCH_STREAM, NULL, BENCH_ROLE, NULL};
  bp_codec *codec = NULL;
  if (bp_codec_new(&codec, &o, &hooks)) sanity_fail("bp_codec_new failed");
  bp_filter *json_f = new_filter(PATTERN, &hooks);
  bp_filter *data_f = new_filter(KINESIS_PATTERN, &hooks);
  bp_filter *meta_f = new_filter(METADATA_PATTERN, &hooks);
  if (!bp_filter_uses_data(data_f) || bp_filter_uses_data(meta_f))
    sanity_fail("bp_filter_uses_data: the data pattern must use data, the metadata one not");

  work_ctx json_w = {.filter = json_f, .texts = texts, .size = size, .n = n, .expected = expected};
  work_ctx data_w = {.filter = data_f, .codec = codec, .recs = recs, .n = n, .expected = expected};
  work_ctx meta_w = {.filter = meta_f, .codec = codec, .recs = recs, .n = n,
                     .expected = pk_expected};
  check_work("filter-match-json", &json_w);
  check_work("filter-kinesis-record", &data_w);
  check_work("filter-kinesis-metadata", &meta_w);
  bench_work("filter-match-json", &json_w, &counter, n * size);
  bench_work("filter-kinesis-record", &data_w, &counter, n * size);
  bench_work("filter-kinesis-metadata", &meta_w, &counter, 0);

  bp_filter_del(json_f);
  bp_filter_del(data_f);
  bp_filter_del(meta_f);
  bp_codec_del(codec);
}

int main(int argc, char **argv) {
  size_t n = PEER_DEFAULT_N, size = 200;
  const char *dump_path = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strncmp(argv[i], "--n=", 4)) n = (size_t)atol(argv[i] + 4);
    else if (!strncmp(argv[i], "--size=", 7)) size = (size_t)atol(argv[i] + 7);
    else if (!strncmp(argv[i], "--dump=", 7)) dump_path = argv[i] + 7;
    else {
      fprintf(stderr, "bench_filter: unknown argument %s; accepted: --n=10000 --size=200 "
                      "--dump=FILE\n", argv[i]);
      return 2;
    }
  }
  if (n < 1 || n > 10000000 || size > 1000000) {
    fprintf(stderr, "bench_filter: --n must be 1 .. 10,000,000 and --size at most 1,000,000\n");
    return 2;
  }

  /* Inputs, untimed: the JSON texts, their base64, one Kinesis record view each. */
  int rc = 0;
  size_t elen = bp_base64_encoded_len(size);
  char *texts = malloc(n * size), *b64 = malloc(n * elen);
  char (*seqs)[64] = malloc(n * sizeof *seqs);
  char (*pks)[16] = malloc(n * sizeof *pks);
  bp_record *recs = calloc(n, sizeof *recs);
  long expected = texts ? make_payloads(texts, n, size) : 0;
  if (!texts || !b64 || !seqs || !pks || !recs) {
    fprintf(stderr, "bench_filter: out of memory for %zu records of %zu bytes\n", n, size);
    rc = 1;
  } else if (expected < 0) {
    fprintf(stderr, "bench_filter: --size=%zu is too small for a record\n", size);
    rc = 2;
  } else if (dump_path) {
    rc = dump(dump_path, texts, n, size);
  } else if (n == PEER_DEFAULT_N && expected != PEER_DEFAULT_MATCHES) {
    char msg[120];
    snprintf(msg, sizeof msg, "the generator gives %ld matches, node-filter.js %d", expected,
             PEER_DEFAULT_MATCHES);
    sanity_fail(msg);
  } else {
    long pk_expected = 0;
    for (size_t i = 0; i < n; i++) {
      bench_seq(i, seqs[i]);
      snprintf(pks[i], sizeof pks[i], "pk-%zu", i % 16);
      pk_expected += !strncmp(pks[i], METADATA_PREFIX, strlen(METADATA_PREFIX));
      size_t w;
      if (bp_base64_encode((const uint8_t *)texts + i * size, size, b64 + i * elen, elen, &w))
        sanity_fail("bp_base64_encode failed");
      bp_record *r = &recs[i];
      bp_record_init(r, sizeof *r);
      r->seq = seqs[i];
      r->seq_len = strlen(seqs[i]);
      r->arrival_ms = bench_arrival(i);
      r->partition_key = pks[i];
      r->partition_key_len = strlen(pks[i]);
      r->data = (const uint8_t *)b64 + i * elen;
      r->data_len = elen;
      r->flags = BP_RECORD_DATA_BASE64;
    }
    bench_all(texts, n, size, expected, recs, pk_expected);
  }
  free(texts);
  free(b64);
  free(seqs);
  free(pks);
  free(recs);
  return rc;
}
