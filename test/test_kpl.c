/* SPDX-License-Identifier: MIT */
/* KPL de-aggregation: every vector of test/data/kpl-vectors.json (the outcomes
 * aws-kinesis-agg itself gives, digest checked and not), key lookups in any order, the
 * argument checks, MD5 against RFC 1321's suite, and no allocator call at all. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <yajl/yajl_tree.h>

#include "batchpoint.h"
#include "bp_int.h"
#include "bp_md5_int.h"
#include "test_json.h"

#define VECTORS BP_TEST_DATA_DIR "/kpl-vectors.json"

/* ---- Allocator calls, counted where the C library's malloc can be replaced (glibc, no
 * sanitizer interposing its own) ---- */
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#if defined(__has_feature)
#if !__has_feature(address_sanitizer) && !__has_feature(memory_sanitizer)
#define COUNT_ALLOCS 1
#endif
#else
#define COUNT_ALLOCS 1
#endif
#endif

#ifdef COUNT_ALLOCS
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);
static unsigned long alloc_calls;
void *malloc(size_t n) {
  alloc_calls++;
  return __libc_malloc(n);
}
void *calloc(size_t n, size_t size) {
  alloc_calls++;
  return __libc_calloc(n, size);
}
void *realloc(void *p, size_t n) {
  alloc_calls++;
  return __libc_realloc(p, n);
}
void free(void *p) {
  if (p) alloc_calls++;
  __libc_free(p);
}
#endif

/* ---- The vectors ---- */

static yajl_val vec_root;

static int setup_vectors(void **state) {
  (void)state;
  size_t len;
  char *text = test_read_file(VECTORS, &len);
  if (!text) {
    print_error("cannot read %s\n", VECTORS);
    return -1;
  }
  char err[256];
  vec_root = yajl_tree_parse(text, err, sizeof err);
  free(text);
  if (!vec_root) print_error("%s: %s\n", VECTORS, err);
  return vec_root ? 0 : -1;
}

static int teardown_vectors(void **state) {
  (void)state;
  yajl_tree_free(vec_root);
  return 0;
}

static yajl_val get(yajl_val obj, const char *key) {
  const char *path[] = {key, NULL};
  return yajl_tree_get(obj, path, yajl_t_any);
}

/* A base64 member decoded into a malloc'd buffer; *n its length. */
static uint8_t *b64(yajl_val v, size_t *n) {
  assert_true(YAJL_IS_STRING(v));
  const char *s = YAJL_GET_STRING(v);
  size_t sl = strlen(s);
  uint8_t *out = malloc(sl / 4 * 3 + 1);
  assert_non_null(out);
  assert_int_equal(bp_base64_decode(s, sl, out, sl / 4 * 3 + 1, n), 0);
  return out;
}

/* One de-aggregation of a vector's data, decoded beforehand, against its expected outcome:
 * 0 on agreement, else a message. No allocation happens in here. */
typedef struct expect_rec {
  const uint8_t *pk, *ehk, *data; /* pk, ehk NULL when absent */
  size_t pk_len, ehk_len, data_len;
  uint64_t ssn;
  int lossy;
} expect_rec;

typedef struct expect {
  enum { PASSTHROUGH, ERROR, RECORDS } outcome;
  size_t n;
  expect_rec *recs;
} expect;

static const char *key_diff(const char *got, size_t got_len, const uint8_t *want, size_t want_len,
                            int lossy) {
  if (!want) return got ? "a key where the reference has none" : NULL;
  if (!got) return "no key where the reference has one";
  if (got_len == want_len && memcmp(got, want, want_len) == 0) return NULL;
  /* The reference decoded bytes that are not UTF-8 with U+FFFD: ours are the bytes. */
  if (lossy && !bp__utf8_valid(got, got_len)) return NULL;
  return "a different key";
}

static const char *run_one(const uint8_t *data, size_t len, uint32_t flags, const expect *e,
                           char *why, size_t why_len) {
  bp_kpl_iter it;
  int agg = bp_kpl_is_aggregated(data, len);
  int rc = bp_kpl_iter_init(&it, sizeof it, data, len, flags);
  if (e->outcome == PASSTHROUGH)
    return !agg && rc == BP_ERR_INVALID_ARGUMENT ? NULL : "not passed through";
  if (!agg) return "not seen as aggregated";
  if (e->outcome == ERROR) {
    if (rc != BP_ERR_CORRUPT) {
      snprintf(why, why_len, "rc %d where the reference errs", rc);
      return why;
    }
    bp_kpl_record r = BP_KPL_RECORD_INIT;
    if (bp_kpl_iter_errmsg(&it)[0] == '\0') return "no error message";
    return bp_kpl_iter_next(&it, &r) == BP_ERR_INVALID_ARGUMENT ? NULL : "next after an error";
  }
  if (rc < 0 || (size_t)rc != e->n) {
    snprintf(why, why_len, "rc %d (%s), want %zu records", rc, bp_kpl_iter_errmsg(&it), e->n);
    return why;
  }
  if (bp_kpl_iter_errmsg(&it)[0] != '\0') return "an error message after a success";
  for (size_t i = 0; i < e->n; i++) {
    const expect_rec *w = &e->recs[i];
    bp_kpl_record r = BP_KPL_RECORD_INIT;
    if (bp_kpl_iter_next(&it, &r) != 1) return "fewer records";
    const char *d = key_diff(r.partition_key, r.partition_key_len, w->pk, w->pk_len, w->lossy);
    if (!d)
      d = key_diff(r.explicit_hash_key, r.explicit_hash_key_len, w->ehk, w->ehk_len, w->lossy);
    if (!d && (r.data_len != w->data_len || memcmp(r.data, w->data, w->data_len) != 0))
      d = "different data";
    if (!d && (r.data < data || r.data + r.data_len > data + len)) d = "data outside the input";
    if (!d && r.sub_sequence_number != w->ssn) d = "a different sub-sequence number";
    if (d) {
      snprintf(why, why_len, "record %zu: %s", i, d);
      return why;
    }
  }
  bp_kpl_record r = BP_KPL_RECORD_INIT;
  return bp_kpl_iter_next(&it, &r) == 0 ? NULL : "more records";
}

/* The vector's expected outcome, its buffers malloc'd (freed by expect_free). */
static void expect_read(yajl_val o, expect *e, int *has_lossy) {
  assert_true(YAJL_IS_OBJECT(o));
  const char *outcome = YAJL_GET_STRING(get(o, "outcome"));
  assert_non_null(outcome);
  memset(e, 0, sizeof *e);
  if (strcmp(outcome, "passthrough") == 0) {
    e->outcome = PASSTHROUGH;
    return;
  }
  if (strcmp(outcome, "error") == 0) {
    e->outcome = ERROR;
    return;
  }
  assert_string_equal(outcome, "records");
  e->outcome = RECORDS;
  yajl_val recs = get(o, "records");
  assert_true(YAJL_IS_ARRAY(recs));
  e->n = YAJL_GET_ARRAY(recs)->len;
  e->recs = calloc(e->n + 1, sizeof *e->recs);
  assert_non_null(e->recs);
  for (size_t i = 0; i < e->n; i++) {
    yajl_val r = YAJL_GET_ARRAY(recs)->values[i];
    expect_rec *w = &e->recs[i];
    yajl_val pk = get(r, "pk"), ehk = get(r, "ehk"), lossy = get(r, "lossy");
    if (!YAJL_IS_NULL(pk)) w->pk = b64(pk, &w->pk_len);
    if (!YAJL_IS_NULL(ehk)) w->ehk = b64(ehk, &w->ehk_len);
    w->data = b64(get(r, "data"), &w->data_len);
    w->ssn = (uint64_t)YAJL_GET_INTEGER(get(r, "ssn"));
    w->lossy = lossy && YAJL_IS_TRUE(lossy);
    *has_lossy |= w->lossy;
  }
}

static void expect_free(expect *e) {
  for (size_t i = 0; i < e->n; i++) {
    free((void *)e->recs[i].pk);
    free((void *)e->recs[i].ehk);
    free((void *)e->recs[i].data);
  }
  free(e->recs);
}

static void test_vectors(void **state) {
  (void)state;
  yajl_val vecs = get(vec_root, "vectors");
  assert_true(YAJL_IS_ARRAY(vecs));
  size_t nv = YAJL_GET_ARRAY(vecs)->len;
  size_t seen[3][2] = {{0}}, records = 0, lossy = 0, failures = 0;
  unsigned long allocs = 0;
#ifdef COUNT_ALLOCS
  { /* the counter sees the C library's allocator */
    unsigned long before = alloc_calls;
    void *volatile p = malloc(1);
    free(p);
    assert_int_equal(alloc_calls - before, 2);
  }
#endif
  for (size_t v = 0; v < nv; v++) {
    yajl_val vec = YAJL_GET_ARRAY(vecs)->values[v];
    const char *name = YAJL_GET_STRING(get(vec, "name"));
    size_t len;
    uint8_t *data = b64(get(vec, "data"), &len);
    yajl_val nc = get(vec, "nochecksum");
    for (int mode = 0; mode < 2; mode++) {
      expect e;
      int has_lossy = 0;
      expect_read(mode == 1 && nc ? nc : get(vec, "checksum"), &e, &has_lossy);
      char why[160];
#ifdef COUNT_ALLOCS
      unsigned long before = alloc_calls;
#endif
      const char *d = run_one(data, len, mode ? BP_KPL_SKIP_DIGEST : 0, &e, why, sizeof why);
#ifdef COUNT_ALLOCS
      allocs += alloc_calls - before;
#endif
      if (d) {
        print_error("%s (%s): %s\n", name, mode ? "digest not checked" : "digest checked", d);
        failures++;
      }
      seen[e.outcome][mode]++;
      records += e.n;
      lossy += (size_t)has_lossy;
      expect_free(&e);
    }
    free(data);
  }
  printf("kpl vectors: %zu inputs x 2 digest modes: %zu/%zu passthrough, %zu/%zu error, "
         "%zu/%zu de-aggregated (%zu user records, %zu with keys not UTF-8); "
         "allocator calls inside bp_kpl: %lu%s\n",
         nv, seen[PASSTHROUGH][0], seen[PASSTHROUGH][1], seen[ERROR][0], seen[ERROR][1],
         seen[RECORDS][0], seen[RECORDS][1], records, lossy, allocs,
#ifdef COUNT_ALLOCS
         ""
#else
         " (not counted in this build)"
#endif
  );
  assert_int_equal(failures, 0);
  assert_int_equal(allocs, 0);
  /* the file is whole: every outcome is there in both modes */
  assert_true(nv >= 400);
  for (int o = 0; o < 3; o++) assert_true(seen[o][0] > 0 && seen[o][1] > 0);
  assert_true(lossy > 0);
}

/* ---- Aggregates built here ---- */

static size_t put_varint(uint8_t *p, uint64_t v) {
  size_t n = 0;
  do {
    p[n] = (uint8_t)(v & 127);
    v >>= 7;
    if (v) p[n] |= 128;
    n++;
  } while (v);
  return n;
}

static size_t put_ld(uint8_t *p, unsigned field, const void *s, size_t len) {
  size_t n = put_varint(p, field << 3 | 2);
  n += put_varint(p + n, len);
  memcpy(p + n, s, len);
  return n + len;
}

/* magic + body + MD5 of body, body built in place at buf + 4 (blen bytes). */
static size_t seal(uint8_t *buf, size_t blen) {
  memcpy(buf, BP_KPL_MAGIC, BP_KPL_MAGIC_LEN);
  bp__md5(buf + 4, blen, buf + 4 + blen);
  return 4 + blen + BP_KPL_DIGEST_LEN;
}

/* 60 keys, 300 records whose indexes jump back and forth: each gets its own key back. */
static void test_key_lookup_any_order(void **state) {
  (void)state;
  enum { KEYS = 60, RECS = 300 };
  static uint8_t buf[32768];
  size_t n = 4;
  char key[16];
  for (int k = 0; k < KEYS; k++) {
    int kl = snprintf(key, sizeof key, "key-%d", k);
    n += put_ld(buf + n, 1, key, (size_t)kl);
    kl = snprintf(key, sizeof key, "%d", 1000 + k);
    n += put_ld(buf + n, 2, key, (size_t)kl);
  }
  uint32_t x = 12345;
  int want[RECS];
  for (int i = 0; i < RECS; i++) {
    x = x * 1103515245u + 12345u;
    want[i] = i % 5 == 0 ? KEYS - 1 - i % KEYS : (int)(x >> 16) % KEYS;
    uint8_t r[32];
    size_t rn = put_varint(r, 1 << 3);
    rn += put_varint(r + rn, (uint64_t)want[i]);
    rn += put_varint(r + rn, 2 << 3);
    rn += put_varint(r + rn, (uint64_t)want[i]);
    rn += put_ld(r + rn, 3, &i, sizeof i);
    n += put_ld(buf + n, 3, r, rn);
  }
  assert_true(n + 16 < sizeof buf);
  size_t len = seal(buf, n - 4);
  bp_kpl_iter it;
  assert_int_equal(bp_kpl_iter_init(&it, sizeof it, buf, len, 0), RECS);
  bp_kpl_record r = BP_KPL_RECORD_INIT;
  for (int i = 0; i < RECS; i++) {
    assert_int_equal(bp_kpl_iter_next(&it, &r), 1);
    char pk[16], ehk[16];
    int pl = snprintf(pk, sizeof pk, "key-%d", want[i]);
    int el = snprintf(ehk, sizeof ehk, "%d", 1000 + want[i]);
    assert_int_equal(r.partition_key_len, (size_t)pl);
    assert_memory_equal(r.partition_key, pk, (size_t)pl);
    assert_int_equal(r.explicit_hash_key_len, (size_t)el);
    assert_memory_equal(r.explicit_hash_key, ehk, (size_t)el);
    assert_int_equal(r.has_explicit_hash_key_index, 1);
    assert_int_equal(r.partition_key_index, (uint64_t)want[i]);
    assert_int_equal(r.data_len, sizeof i);
    assert_memory_equal(r.data, &i, sizeof i);
    assert_int_equal(r.sub_sequence_number, (uint64_t)i);
  }
  assert_int_equal(bp_kpl_iter_next(&it, &r), 0);
  assert_int_equal(bp_kpl_iter_next(&it, &r), 0);
}

/* ---- Arguments ---- */

static void test_arguments(void **state) {
  (void)state;
  static uint8_t buf[64];
  size_t n = 4;
  n += put_ld(buf + n, 1, "pk", 2);
  n += put_ld(buf + n, 3, "\x08\x00\x1a\x01x", 5);
  size_t len = seal(buf, n - 4);
  bp_kpl_iter it;
  bp_kpl_record r = BP_KPL_RECORD_INIT;

  assert_int_equal(bp_kpl_is_aggregated(NULL, 0), 0);
  assert_int_equal(bp_kpl_is_aggregated(buf, 3), 0);
  assert_int_equal(bp_kpl_is_aggregated(buf, 4), 1);
  assert_int_equal(bp_kpl_iter_init(NULL, sizeof it, buf, len, 0), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_kpl_iter_init(&it, sizeof it - 1, buf, len, 0), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_kpl_iter_init(&it, sizeof it, buf, len, 0x2), BP_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(bp_kpl_iter_errmsg(&it), "flags"));
  assert_int_equal(bp_kpl_iter_next(&it, &r), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_kpl_iter_init(&it, sizeof it, NULL, 0, 0), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_kpl_iter_init(&it, sizeof it, "{}", 2, 0), BP_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(bp_kpl_iter_errmsg(&it), "magic"));

  assert_int_equal(bp_kpl_iter_init(&it, sizeof it, buf, len, 0), 1);
  assert_string_equal(bp_kpl_iter_errmsg(&it), "");
  assert_int_equal(bp_kpl_iter_next(NULL, &r), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_kpl_iter_next(&it, NULL), BP_ERR_INVALID_ARGUMENT);
  bp_kpl_record bad = BP_KPL_RECORD_INIT;
  bad.struct_size = 8;
  assert_int_equal(bp_kpl_iter_next(&it, &bad), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_kpl_iter_next(&it, &r), 1);
  assert_int_equal(r.partition_key_len, 2);
  assert_memory_equal(r.partition_key, "pk", 2);
  assert_null(r.explicit_hash_key);
  assert_int_equal(r.has_explicit_hash_key_index, 0);
  assert_int_equal(r.data_len, 1);
  assert_int_equal(r.data[0], 'x');
  assert_int_equal(bp_kpl_iter_next(&it, &r), 0);

  /* a record struct from a host built before `reserved` existed: nothing written past it */
  uint8_t host[sizeof(bp_kpl_record) + 8];
  memset(host, 0xa5, sizeof host);
  uint32_t old = (uint32_t)offsetof(bp_kpl_record, reserved);
  assert_int_equal(bp_kpl_record_init((bp_kpl_record *)(void *)host, old), BP_ERR_INVALID_ARGUMENT);
  bp_kpl_record *hr = (bp_kpl_record *)(void *)host;
  assert_int_equal(bp_kpl_record_init(hr, sizeof(bp_kpl_record)), 0);
  assert_int_equal(bp_kpl_iter_init(&it, sizeof it, buf, len, 0), 1);
  assert_int_equal(bp_kpl_iter_next(&it, hr), 1);
  for (size_t i = sizeof(bp_kpl_record); i < sizeof host; i++) assert_int_equal(host[i], 0xa5);

  /* the digest: one bit off fails, unless it is not checked */
  buf[len - 1] ^= 1;
  assert_int_equal(bp_kpl_iter_init(&it, sizeof it, buf, len, 0), BP_ERR_CORRUPT);
  assert_non_null(strstr(bp_kpl_iter_errmsg(&it), "MD5"));
  assert_int_equal(bp_kpl_iter_init(&it, sizeof it, buf, len, BP_KPL_SKIP_DIGEST), 1);
}

/* ---- MD5: RFC 1321's test suite (A.5), and the block boundaries ---- */

static void test_md5(void **state) {
  (void)state;
  static const char *const suite[][2] = {
      {"", "d41d8cd98f00b204e9800998ecf8427e"},
      {"a", "0cc175b9c0f1b6a831c399e269772661"},
      {"abc", "900150983cd24fb0d6963f7d28e17f72"},
      {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
      {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
      {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
       "d174ab98d277d9f5a5611c2c9f419d9f"},
      {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
       "57edf4a22be3c955ac49da2e2107b67a"},
  };
  for (size_t i = 0; i < sizeof suite / sizeof suite[0]; i++) {
    uint8_t d[16];
    char hex[33];
    bp__md5(suite[i][0], strlen(suite[i][0]), d);
    for (int k = 0; k < 16; k++) snprintf(hex + 2 * k, 3, "%02x", d[k]);
    assert_string_equal(hex, suite[i][1]);
  }
  /* n times 'x' around the padding's one-block / two-block boundaries (md5sum's digests) */
  static const struct { size_t n; const char *hex; } runs[] = {
      {55, "04364420e25c512fd958a70738aa8f72"}, {56, "668a72d5ba17f08e62dabcafad6db14b"},
      {63, "7dc2ca208106a2f703567bdff99d8981"}, {64, "c1bb4f81d892b2d57947682aeb252456"},
      {65, "1bc932052302d074bdec39795fe00cf6"}, {119, "ab347a5f68c8a443cfcddc633f12c24f"},
      {120, "fb98667f98096de92620b64f46e1c5b5"},
  };
  char xs[120];
  memset(xs, 'x', sizeof xs);
  for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
    uint8_t d[16];
    char hex[33];
    bp__md5(xs, runs[i].n, d);
    for (int k = 0; k < 16; k++) snprintf(hex + 2 * k, 3, "%02x", d[k]);
    assert_string_equal(hex, runs[i].hex);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_vectors, setup_vectors, teardown_vectors),
      cmocka_unit_test(test_key_lookup_any_order),
      cmocka_unit_test(test_arguments),
      cmocka_unit_test(test_md5),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
