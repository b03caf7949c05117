/* SPDX-License-Identifier: MIT */
/* Shared by the benchmarks: timing, the peers' line format and their deterministic inputs
 * (as the peer benchmarks describe their inputs), so batchpoint's figures sit beside theirs. */
#ifndef BP_BENCH_UTIL_H
#define BP_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static inline int bench_env(const char *name, int dflt) {
  const char *v = getenv(name);
  return v && atoi(v) > 0 ? atoi(v) : dflt;
}

static inline int bench_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median ms of BENCH_RUNS timed runs (default 9) after BENCH_WARMUP (default 2). */
static inline double bench_median(void (*fn)(void *), void *ctx) {
  int runs = bench_env("BENCH_RUNS", 9), warm = bench_env("BENCH_WARMUP", 2);
  double t[64];
  if (runs > 64) runs = 64;
  for (int i = 0; i < warm; i++) fn(ctx);
  for (int i = 0; i < runs; i++) {
    double s = bench_now_ms();
    fn(ctx);
    t[i] = bench_now_ms() - s;
  }
  qsort(t, (size_t)runs, sizeof t[0], bench_cmp_double);
  return t[runs / 2];
}

static inline void bench_line(const char *peer, const char *work, size_t n, size_t bytes, double ms,
                       const char *extra) {
  printf("peer=%s work=%s n=%zu bytes=%zu ms=%.3f ", peer, work, n, bytes, ms);
  if (bytes) printf("mb_s=%.1f ", bytes / 1048576.0 / (ms / 1000));
  else printf("mb_s=- ");
  printf("rec_s=%.0f%s%s\n", n / (ms / 1000), extra ? " " : "", extra ? extra : "");
  fflush(stdout);
}

/* xorshift32, seed 0x9E3779B9: one step per byte (low 8 bits) or per uint32. */
typedef struct { uint32_t s; } bench_rng;
static inline uint32_t bench_next(bench_rng *r) {
  r->s ^= r->s << 13;
  r->s ^= r->s >> 17;
  r->s ^= r->s << 5;
  return r->s;
}

/* Sequence number of record i: 49590338271490256608559692538361571095921575989136588898 +
 * 1000 i, as decimal text (56 digits; added digit by digit, never as an integer). */
static inline void bench_seq(size_t i, char out[64]) {
  const char *base = "49590338271490256608559692538361571095921575989136588898";
  size_t n = strlen(base);
  memcpy(out, base, n + 1);
  uint64_t carry = (uint64_t)i * 1000;
  for (size_t k = n; k-- > 0 && carry;) {
    uint64_t d = (uint64_t)(out[k] - '0') + carry % 10;
    carry /= 10;
    if (d >= 10) {
      d -= 10;
      carry++;
    }
    out[k] = (char)('0' + d);
  }
}

/* Arrival of record i in epoch ms: ((1545084650 + i / 999) * 1000 + i % 999 + 1). */
static inline int64_t bench_arrival(size_t i) {
  return (int64_t)(1545084650 + i / 999) * 1000 + (int64_t)(i % 999) + 1;
}

#define BENCH_SHARD "shardId-000000000006"
#define BENCH_ROLE "arn:aws:iam::123456789012:role/lambda-role"
#define BENCH_STREAM "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"

#endif
