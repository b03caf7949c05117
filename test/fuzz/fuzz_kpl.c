/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: KPL de-aggregation (bp_kpl.h) of arbitrary Kinesis record data.
 *
 * Each input is de-aggregated as it is, and sealed (magic + input + its MD5, so that the
 * decoder, not the digest, decides), with the digest checked and not. The outcomes are
 * checked against each other, every yielded span lies inside the input, the count matches
 * the records yielded, and a second iteration yields the same records. Any violation aborts.
 *
 *   replay:    build/fuzz/fuzz_kpl test/fuzz/corpus/kpl
 *   libFuzzer: clang -fsanitize=fuzzer,address,undefined -DBP_STATIC -D_POSIX_C_SOURCE=200809L
 *              -Iinclude -Ilib test/fuzz/fuzz_kpl.c lib/\*.c -lyajl -o /tmp/fk
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batchpoint.h"
#include "bp_md5_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                    \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      fprintf(stderr, "fuzz_kpl: invariant failed at line %d: %s\n", __LINE__, #cond); \
      abort();                                                                         \
    }                                                                                  \
  } while (0)

static int inside(const void *p, size_t n, const uint8_t *buf, size_t size) {
  const uint8_t *q = p;
  return q >= buf && n <= size && q - buf <= (ptrdiff_t)(size - n);
}

/* Iterate an initialised iterator to its end, checking every record; returns a digest of
 * what was yielded (positions and lengths) for the determinism check. */
static uint64_t drain(bp_kpl_iter *it, int count, const uint8_t *buf, size_t size) {
  uint64_t h = 1469598103934665603u;
  bp_kpl_record r = BP_KPL_RECORD_INIT;
  for (int i = 0; i < count; i++) {
    memset(&r, 0x5a, sizeof r);
    r.struct_size = sizeof r;
    CHECK(bp_kpl_iter_next(it, &r) == 1);
    CHECK(r.sub_sequence_number == (uint64_t)i);
    CHECK(r.data != NULL && inside(r.data, r.data_len, buf, size));
    CHECK(r.partition_key == NULL ? r.partition_key_len == 0
                                  : inside(r.partition_key, r.partition_key_len, buf, size));
    CHECK(r.explicit_hash_key == NULL
              ? r.explicit_hash_key_len == 0
              : inside(r.explicit_hash_key, r.explicit_hash_key_len, buf, size));
    CHECK(r.has_explicit_hash_key_index <= 1);
    if (!r.has_explicit_hash_key_index) CHECK(r.explicit_hash_key_index == 0);
    for (size_t k = 0; k < sizeof r.reserved / sizeof r.reserved[0]; k++)
      CHECK(r.reserved[k] == 0);
    uint64_t parts[] = {(uint64_t)(r.data - buf), r.data_len, r.partition_key_index,
                        r.partition_key ? (uint64_t)((const uint8_t *)r.partition_key - buf) : ~0u,
                        r.explicit_hash_key ? (uint64_t)((const uint8_t *)r.explicit_hash_key - buf)
                                            : ~0u};
    for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) h = (h ^ parts[k]) * 1099511628211u;
  }
  CHECK(bp_kpl_iter_next(it, &r) == 0);
  CHECK(bp_kpl_iter_next(it, &r) == 0);
  return h;
}

/* Both digest modes over one buffer; returns the count with the digest not checked. */
static int deaggregate(const uint8_t *buf, size_t size, int digest_good) {
  bp_kpl_iter it;
  int agg = size >= 4 && memcmp(buf, BP_KPL_MAGIC, 4) == 0;
  CHECK(bp_kpl_is_aggregated(buf, size) == agg);
  int checked = bp_kpl_iter_init(&it, sizeof it, buf, size, 0);
  if (checked >= 0) {
    CHECK(agg && bp_kpl_iter_errmsg(&it)[0] == '\0');
    drain(&it, checked, buf, size);
  } else {
    CHECK(checked == (agg ? BP_ERR_CORRUPT : BP_ERR_INVALID_ARGUMENT));
    CHECK(bp_kpl_iter_errmsg(&it)[0] != '\0');
    bp_kpl_record r = BP_KPL_RECORD_INIT;
    CHECK(bp_kpl_iter_next(&it, &r) == BP_ERR_INVALID_ARGUMENT);
  }
  int skipped = bp_kpl_iter_init(&it, sizeof it, buf, size, BP_KPL_SKIP_DIGEST);
  if (!agg) CHECK(skipped == BP_ERR_INVALID_ARGUMENT);
  if (checked >= 0 || digest_good) CHECK(skipped == checked);
  if (skipped < 0) CHECK(checked < 0);
  if (skipped >= 0) {
    uint64_t h1 = drain(&it, skipped, buf, size);
    CHECK(bp_kpl_iter_init(&it, sizeof it, buf, size, BP_KPL_SKIP_DIGEST) == skipped);
    CHECK(drain(&it, skipped, buf, size) == h1);
  }
  return skipped;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  deaggregate(data, size, 0);
  /* the input as the message of an aggregate with the right digest */
  uint8_t *sealed = malloc(size + 20);
  CHECK(sealed != NULL);
  memcpy(sealed, BP_KPL_MAGIC, 4);
  if (size) memcpy(sealed + 4, data, size);
  bp__md5(data, size, sealed + 4 + size);
  deaggregate(sealed, size + 20, 1);
  free(sealed);
  return 0;
}
