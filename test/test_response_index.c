/* SPDX-License-Identifier: MIT */
/* The classifier's batch index and its one-pass scan of the common response shape:
 * bp_codec_index_batch() / bp_codec_classify_indexed() (trusted and validated) give what
 * bp_codec_classify_response() gives; duplicates, identifiers not in the batch, hash
 * collisions (slots and tags), host record strides, huge responses, random texts against
 * the general parser, and no allocation per call once warm. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "batchpoint.h"
#include "bp_codec_int.h"
#include "test_alloc.h"

#define RBIF BP_CLASSIFY_REPORT_BATCH_ITEM_FAILURES
#define STATE BP_CLASSIFY_REQUIRE_STATE

static const bp_codec_opts kin_opts = {sizeof(bp_codec_opts),
                                       BP_SOURCE_KINESIS,
                                       "arn:aws:kinesis:us-east-1:111111111111:stream/s1",
                                       NULL,
                                       "arn:aws:iam::111111111111:role/r",
                                       NULL};

/* A batch of N sequence numbers: "1000..." + 7 i (21 digits, ascending). */
enum { N = 300 };
static char seqs[N][32];
static bp_record batch[N];

static void make_batch(void) {
  for (size_t i = 0; i < N; i++) {
    snprintf(seqs[i], sizeof seqs[i], "1%020zu", 1000 + 7 * i);
    bp_record_init(&batch[i], sizeof batch[i]);
    batch[i].seq = seqs[i];
    batch[i].seq_len = strlen(seqs[i]);
  }
}

static bp_codec *codec(void) {
  bp_codec *c;
  assert_int_equal(bp_codec_new(&c, &kin_opts, NULL), 0);
  return c;
}

typedef struct verdict {
  int rc, outcome, reason, has_state;
  size_t index, count;
  char msg[256];
} verdict;

static verdict of(bp_codec *c, int rc, const bp_response_result *r) {
  verdict v;
  memset(&v, 0, sizeof v);
  v.rc = rc;
  v.outcome = r->outcome;
  v.reason = r->reason;
  v.has_state = r->has_state;
  v.index = r->failed_index;
  v.count = r->failed_count;
  snprintf(v.msg, sizeof v.msg, "%s", bp_codec_errmsg(c));
  return v;
}

static verdict strict(bp_codec *c, const char *body, size_t len, const bp_record *b, size_t n,
                      uint32_t flags) {
  bp_response_result r = BP_RESPONSE_RESULT_INIT;
  int rc = bp_codec_classify_response(c, body, len, b, n, flags, &r);
  return of(c, rc, &r);
}

static verdict indexed(bp_codec *c, const char *body, size_t len, uint32_t flags) {
  bp_response_result r = BP_RESPONSE_RESULT_INIT;
  int rc = bp_codec_classify_indexed(c, body, len, flags, &r);
  return of(c, rc, &r);
}

static void same(const verdict *a, const verdict *b, const char *body) {
  if (a->rc != b->rc || a->outcome != b->outcome || a->reason != b->reason ||
      a->index != b->index || a->count != b->count || a->has_state != b->has_state ||
      strcmp(a->msg, b->msg) != 0)
    print_error("body %.200s: %d/%d/%d/%zu/%zu '%s' vs %d/%d/%d/%zu/%zu '%s'\n", body, a->rc,
                a->outcome, a->reason, a->index, a->count, a->msg, b->rc, b->outcome, b->reason,
                b->index, b->count, b->msg);
  assert_int_equal(a->rc, b->rc);
  assert_int_equal(a->outcome, b->outcome);
  assert_int_equal(a->reason, b->reason);
  assert_int_equal(a->index, b->index);
  assert_int_equal(a->count, b->count);
  assert_int_equal(a->has_state, b->has_state);
  assert_string_equal(a->msg, b->msg);
}

/* Every body, every flag set: strict, indexed (validated) and indexed (trusted) agree. */
static void agree(const char *body, const char *what, int outcome, int reason, size_t index,
                  size_t count) {
  bp_codec *c = codec(), *d = codec(), *t = codec();
  assert_int_equal(bp_codec_index_batch(d, batch, N, 0), 0);
  assert_int_equal(bp_codec_index_batch(t, batch, N, BP_INDEX_TRUSTED), 0);
  static const uint32_t flag_sets[] = {0, RBIF, STATE, RBIF | STATE};
  size_t len = strlen(body);
  for (size_t k = 0; k < 4; k++) {
    verdict a = strict(c, body, len, batch, N, flag_sets[k]);
    verdict b = indexed(d, body, len, flag_sets[k]);
    verdict e = indexed(t, body, len, flag_sets[k]);
    same(&a, &b, body);
    same(&a, &e, body);
    if (flag_sets[k] == RBIF) {
      assert_int_equal(a.rc, 0);
      if (a.outcome != outcome || a.reason != reason || a.index != index || a.count != count)
        print_error("%s: body %.200s: got %d/%d/%zu/%zu\n", what, body, a.outcome, a.reason,
                    a.index, a.count);
      assert_int_equal(a.outcome, outcome);
      assert_int_equal(a.reason, reason);
      assert_int_equal(a.index, index);
      assert_int_equal(a.count, count);
    }
  }
  bp_codec_del(c);
  bp_codec_del(d);
  bp_codec_del(t);
}

#define P BP_ATTEMPT_PARTIAL
#define F BP_ATTEMPT_RETURNED_FAILED
#define S BP_ATTEMPT_SUCCESS

static void test_shapes(void **state) {
  (void)state;
  make_batch();
  char body[512];
  /* the common shape, any JSON whitespace */
  snprintf(body, sizeof body, "{\"batchItemFailures\":[{\"itemIdentifier\":\"%s\"}]}", seqs[5]);
  agree(body, "one", P, BP_REASON_NONE, 5, 1);
  snprintf(body, sizeof body,
           " \r\n\t{ \"batchItemFailures\" :\n[ { \"itemIdentifier\" : \"%s\" } "
           ",\t{\"itemIdentifier\":\"%s\"}\n] }\n ",
           seqs[9], seqs[2]);
  agree(body, "spaces", P, BP_REASON_NONE, 2, 2);
  /* duplicates count once; the lowest wins wherever it stands */
  snprintf(body, sizeof body,
           "{\"batchItemFailures\":[{\"itemIdentifier\":\"%s\"},{\"itemIdentifier\":\"%s\"},"
           "{\"itemIdentifier\":\"%s\"},{\"itemIdentifier\":\"%s\"}]}",
           seqs[7], seqs[299], seqs[7], seqs[0]);
  agree(body, "dups", P, BP_REASON_NONE, 0, 3);
  /* not in the batch: a number between two, a leading zero, too short, empty, too long */
  snprintf(body, sizeof body,
           "{\"batchItemFailures\":[{\"itemIdentifier\":\"%s\"},{\"itemIdentifier\":"
           "\"100000000000000001001\"}]}",
           seqs[1]);
  agree(body, "between", F, BP_REASON_UNKNOWN_IDENTIFIER, 0, 0);
  snprintf(body, sizeof body, "{\"batchItemFailures\":[{\"itemIdentifier\":\"0%s\"}]}", seqs[1]);
  agree(body, "leading zero", F, BP_REASON_UNKNOWN_IDENTIFIER, 0, 0);
  snprintf(body, sizeof body, "{\"batchItemFailures\":[{\"itemIdentifier\":\"2%.30s\"}]}",
           seqs[5] + 1);
  agree(body, "same length, another first digit", F, BP_REASON_UNKNOWN_IDENTIFIER, 0, 0);
  snprintf(body, sizeof body, "{\"batchItemFailures\":[{\"itemIdentifier\":\"%.10s9%.20s\"}]}",
           seqs[5], seqs[5] + 11);
  agree(body, "same length, a digit of the shared prefix changed", F, BP_REASON_UNKNOWN_IDENTIFIER,
        0, 0);
  agree("{\"batchItemFailures\":[{\"itemIdentifier\":\"1\"}]}", "short", F,
        BP_REASON_UNKNOWN_IDENTIFIER, 0, 0);
  agree("{\"batchItemFailures\":[{\"itemIdentifier\":\"\"}]}", "empty", F,
        BP_REASON_UNKNOWN_IDENTIFIER, 0, 0);
  char big[400];
  memset(big, '7', 200);
  big[200] = 0;
  snprintf(body, sizeof body, "{\"batchItemFailures\":[{\"itemIdentifier\":\"%s\"}]}", big);
  agree(body, "long", F, BP_REASON_UNKNOWN_IDENTIFIER, 0, 0);
  /* not strings, null, missing: the general rules */
  agree("{\"batchItemFailures\":[{\"itemIdentifier\":null}]}", "null", F, BP_REASON_BAD_ITEM, 0, 0);
  agree("{\"batchItemFailures\":[{\"itemIdentifier\":100000000000000001000}]}", "number", F,
        BP_REASON_BAD_ITEM, 0, 0);
  agree("{\"batchItemFailures\":[{}]}", "missing", F, BP_REASON_BAD_ITEM, 0, 0);
  agree("{\"batchItemFailures\":[]}", "empty list", S, BP_REASON_NONE, 0, 0);
  agree("{\"batchItemFailures\":null}", "null list", S, BP_REASON_NONE, 0, 0);
  /* escapes and other members leave the common shape: same verdicts */
  agree("{\"batchItemFailures\":[{\"itemIdentifier\":\"\\u003100000000000000001007\"}]}", "escape",
        P, BP_REASON_NONE, 1, 1);
  snprintf(body, sizeof body,
           "{\"batchItemFailures\":[{\"itemIdentifier\":\"%s\",\"itemIdentifier\":\"%s\"}]}",
           seqs[0], seqs[3]);
  agree(body, "last itemIdentifier", P, BP_REASON_NONE, 3, 1);
  snprintf(body, sizeof body,
           "{\"batchItemFailures\":[{\"itemIdentifier\":\"%s\"}],\"state\":{\"a\":1}}", seqs[4]);
  agree(body, "state", P, BP_REASON_NONE, 4, 1);
  /* valid shape up to a flaw later on: validity outranks */
  snprintf(body, sizeof body, "{\"batchItemFailures\":[{\"itemIdentifier\":\"%s\"}]}x", seqs[4]);
  agree(body, "trailing", F, BP_REASON_INVALID_JSON, 0, 0);
  snprintf(body, sizeof body,
           "{\"batchItemFailures\":[{\"itemIdentifier\":\"1000000000000000000000\"},{"
           "\"itemIdentifier\":\"%s\"}",
           seqs[4]);
  agree(body, "unknown then truncated", F, BP_REASON_INVALID_JSON, 0, 0);
  snprintf(body, sizeof body, "{\"batchItemFailures\":[{\"itemIdentifier\":\"%s\"},]}", seqs[4]);
  agree(body, "trailing comma", F, BP_REASON_INVALID_JSON, 0, 0);
  snprintf(body, sizeof body, "{\"batchItemFailures\":[{\"itemIdentifier\":\"%s\"}]}\v", seqs[4]);
  agree(body, "vertical tab", F, BP_REASON_INVALID_JSON, 0, 0);
}

/* Host records larger than this library's bp_record: the index reads them at their stride. */
typedef struct host_rec {
  bp_record r;
  char extra[40];
} host_rec;

static void test_stride_and_lifetime(void **state) {
  (void)state;
  make_batch();
  static host_rec hb[N];
  for (size_t i = 0; i < N; i++) {
    memset(&hb[i], 0xee, sizeof hb[i]);
    bp_record_init(&hb[i].r, sizeof hb[i]);
    hb[i].r.seq = seqs[i];
    hb[i].r.seq_len = strlen(seqs[i]);
  }
  bp_codec *c = codec();
  char body[256];
  snprintf(body, sizeof body,
           "{\"batchItemFailures\":[{\"itemIdentifier\":\"%s\"},{\"itemIdentifier\":\"%s\"}]}",
           seqs[250], seqs[17]);
  assert_int_equal(bp_codec_index_batch(c, &hb[0].r, N, 0), 0);
  verdict v = indexed(c, body, strlen(body), RBIF);
  assert_int_equal(v.outcome, BP_ATTEMPT_PARTIAL);
  assert_int_equal(v.index, 17);
  assert_int_equal(v.count, 2);
  /* strict calls on other batches leave the index alone */
  verdict w = strict(c, body, strlen(body), batch + 100, 200, RBIF);
  assert_int_equal(w.outcome, BP_ATTEMPT_RETURNED_FAILED);
  assert_int_equal(w.reason, BP_REASON_UNKNOWN_IDENTIFIER);
  v = indexed(c, body, strlen(body), RBIF);
  assert_int_equal(v.index, 17);
  /* a new index replaces it: positions are the new batch's */
  assert_int_equal(bp_codec_index_batch(c, batch + 10, 250, BP_INDEX_TRUSTED), 0);
  v = indexed(c, body, strlen(body), RBIF);
  assert_int_equal(v.outcome, BP_ATTEMPT_PARTIAL);
  assert_int_equal(v.index, 7);
  /* empty batch: every identifier is unknown */
  assert_int_equal(bp_codec_index_batch(c, NULL, 0, 0), 0);
  v = indexed(c, body, strlen(body), RBIF);
  assert_int_equal(v.reason, BP_REASON_UNKNOWN_IDENTIFIER);
  bp_codec_del(c);
}

static void test_index_arguments(void **state) {
  (void)state;
  make_batch();
  bp_codec *c = codec();
  bp_response_result r = BP_RESPONSE_RESULT_INIT;
  const char *body = "{\"batchItemFailures\":[]}";
  /* no index yet */
  assert_int_equal(bp_codec_classify_indexed(c, body, strlen(body), RBIF, &r),
                   BP_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(bp_codec_errmsg(c), "bp_codec_index_batch"));
  assert_int_equal(bp_codec_index_batch(NULL, batch, N, 0), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_codec_index_batch(c, batch, N, 0x2), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_codec_index_batch(c, NULL, 3, BP_INDEX_TRUSTED), BP_ERR_INVALID_ARGUMENT);
  /* validated unless trusted: a bad batch is refused and leaves no index */
  assert_int_equal(bp_codec_index_batch(c, batch, N, 0), 0);
  bp_record bad[3];
  memcpy(bad, batch, sizeof bad);
  bad[1] = batch[0];
  bad[0] = batch[1]; /* out of order */
  assert_int_equal(bp_codec_index_batch(c, bad, 3, 0), BP_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(bp_codec_errmsg(c), "not above the previous one"));
  assert_int_equal(bp_codec_classify_indexed(c, body, strlen(body), RBIF, &r),
                   BP_ERR_INVALID_ARGUMENT);
  bad[1].seq = "12a";
  bad[1].seq_len = 3;
  assert_int_equal(bp_codec_index_batch(c, bad, 3, 0), BP_ERR_INVALID_ARGUMENT);
  assert_non_null(strstr(bp_codec_errmsg(c), "invalid sequence number"));
  bad[1].struct_size = 4;
  assert_int_equal(bp_codec_index_batch(c, bad, 3, BP_INDEX_TRUSTED), BP_ERR_INVALID_ARGUMENT);
  /* the result and flags are checked as bp_codec_classify_response() checks them */
  assert_int_equal(bp_codec_index_batch(c, batch, N, 0), 0);
  assert_int_equal(bp_codec_classify_indexed(c, body, strlen(body), RBIF, NULL),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_codec_classify_indexed(c, body, strlen(body), 0x8, &r),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_codec_classify_indexed(c, NULL, 1, RBIF, &r), BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_codec_classify_indexed(NULL, body, strlen(body), RBIF, &r),
                   BP_ERR_INVALID_ARGUMENT);
  assert_int_equal(bp_codec_classify_indexed(c, NULL, 0, RBIF, &r), 0);
  assert_int_equal(r.outcome, BP_ATTEMPT_SUCCESS);
  assert_int_equal(r.reason, BP_REASON_EMPTY);
  bp_codec_del(c);
}

/* ---- hash collisions ---- */

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

static int cmp_seq(const void *a, const void *b) {
  const char *x = *(const char *const *)a, *y = *(const char *const *)b;
  size_t lx = strlen(x), ly = strlen(y);
  if (lx != ly) return lx < ly ? -1 : 1;
  return strcmp(x, y);
}

/* Candidate sequence numbers for the collision searches: distinct for each k, of 1 to 10
 * digits, so a batch of them has numbers of several lengths and the index hashes them whole. */
static void cand(uint64_t k, char out[32]) {
  snprintf(out, 32, "%llu", (unsigned long long)(k * 7919u + 7u));
}

/* Slot collisions: 12 numbers whose hashes share the table's low bits (the last slot, so
 * the probe chain wraps to slot 0), and two numbers whose 32-bit tags and slot agree (so a
 * lookup meets a slot whose tag matches and only the bytes tell them apart). */
static void test_collisions(void **state) {
  (void)state;
  /* n = 12: the table has 32 slots (mask 31). */
  static char pool[12][32];
  const char *sorted[12];
  size_t got = 0;
  char extra[32] = "";
  for (uint64_t k = 0; got < 12 || !extra[0]; k++) {
    char s[32];
    cand(k, s);
    if ((bp__seq_hash(s, strlen(s)) & 31) != 31) continue;
    if (got < 12)
      snprintf(pool[got++], 32, "%s", s);
    else
      snprintf(extra, sizeof extra, "%s", s);
  }
  for (size_t i = 0; i < 12; i++) sorted[i] = pool[i];
  qsort(sorted, 12, sizeof sorted[0], cmp_seq);
  assert_true(strlen(sorted[0]) != strlen(sorted[11])); /* whole numbers are hashed */
  bp_record b[12];
  for (size_t i = 0; i < 12; i++) {
    bp_record_init(&b[i], sizeof b[i]);
    b[i].seq = sorted[i];
    b[i].seq_len = strlen(sorted[i]);
  }
  bp_codec *c = codec();
  assert_int_equal(bp_codec_index_batch(c, b, 12, 0), 0);
  assert_int_equal(c->host_index.mask, 31);
  char body[2048];
  size_t len = 0;
  len += (size_t)snprintf(body + len, sizeof body - len, "{\"batchItemFailures\":[");
  for (size_t i = 12; i-- > 1;) /* all but the first, in reverse */
    len += (size_t)snprintf(body + len, sizeof body - len, "%s{\"itemIdentifier\":\"%s\"}",
                            i == 11 ? "" : ",", sorted[i]);
  snprintf(body + len, sizeof body - len, "]}");
  verdict v = indexed(c, body, strlen(body), RBIF);
  assert_int_equal(v.outcome, BP_ATTEMPT_PARTIAL);
  assert_int_equal(v.index, 1);
  assert_int_equal(v.count, 11);
  verdict w = strict(c, body, strlen(body), b, 12, RBIF);
  same(&v, &w, body);
  /* a 13th number of the same slot is not in the batch: the whole chain is walked */
  snprintf(body, sizeof body, "{\"batchItemFailures\":[{\"itemIdentifier\":\"%s\"}]}", extra);
  v = indexed(c, body, strlen(body), RBIF);
  assert_int_equal(v.reason, BP_REASON_UNKNOWN_IDENTIFIER);

  /* Same tag (hash bits 32..63) and same slot of a 16-slot table (bits 0..3): a 36-bit
   * birthday search over 2^20 candidates. */
  enum { M = 1 << 20 };
  uint64_t *keys = malloc(M * sizeof *keys);
  assert_non_null(keys);
  for (uint64_t k = 0; k < M; k++) {
    char s[32];
    cand(k, s);
    uint64_t h = bp__seq_hash(s, strlen(s));
    keys[k] = ((h >> 32) << 4 | (h & 15)) << 20 | k;
  }
  qsort(keys, M, sizeof *keys, cmp_u64);
  uint64_t ka = 0, kb = 0;
  int found = 0;
  for (size_t i = 1; i < M && !found; i++)
    if (keys[i] >> 20 == keys[i - 1] >> 20) {
      ka = keys[i - 1] & (M - 1);
      kb = keys[i] & (M - 1);
      found = 1;
    }
  free(keys);
  assert_true(found);
  char sa[32], sb[32];
  cand(ka, sa);
  cand(kb, sb);
  uint64_t ha = bp__seq_hash(sa, strlen(sa)), hb = bp__seq_hash(sb, strlen(sb));
  assert_true(ha >> 32 == hb >> 32 && (ha & 15) == (hb & 15) && strcmp(sa, sb) != 0);
  bp_record one;
  bp_record_init(&one, sizeof one);
  one.seq = sa;
  one.seq_len = strlen(sa);
  assert_int_equal(bp_codec_index_batch(c, &one, 1, 0), 0);
  assert_int_equal(c->host_index.mask, 15);
  snprintf(body, sizeof body, "{\"batchItemFailures\":[{\"itemIdentifier\":\"%s\"}]}", sb);
  v = indexed(c, body, strlen(body), RBIF);
  assert_int_equal(v.reason, BP_REASON_UNKNOWN_IDENTIFIER);
  snprintf(body, sizeof body, "{\"batchItemFailures\":[{\"itemIdentifier\":\"%s\"}]}", sa);
  v = indexed(c, body, strlen(body), RBIF);
  assert_int_equal(v.outcome, BP_ATTEMPT_PARTIAL);
  assert_int_equal(v.index, 0);
  bp_codec_del(c);
}

/* ---- huge responses ---- */

static void test_huge(void **state) {
  (void)state;
  make_batch();
  enum { ITEMS = 200000 };
  size_t cap = (size_t)ITEMS * 64 + 64, len = 0;
  char *body = malloc(cap);
  assert_non_null(body);
  len += (size_t)snprintf(body, cap, "{\"batchItemFailures\":[");
  for (size_t k = 0; k < ITEMS; k++)
    len += (size_t)snprintf(body + len, cap - len, "%s{\"itemIdentifier\":\"%s\"}", k ? "," : "",
                            seqs[(k * 37 + 11) % N]);
  memcpy(body + len, "]}", 3);
  len += 2;
  bp_codec *c = codec();
  assert_int_equal(bp_codec_index_batch(c, batch, N, BP_INDEX_TRUSTED), 0);
  verdict v = indexed(c, body, len, RBIF);
  assert_int_equal(v.outcome, BP_ATTEMPT_PARTIAL);
  assert_int_equal(v.index, 0);
  assert_int_equal(v.count, N);
  verdict w = strict(c, body, len, batch, N, RBIF);
  same(&v, &w, "huge");
  /* the last identifier unknown: found only at the end */
  char *last = strrchr(body, '1');
  while (*last != '"') last--;
  last[1] = '9';
  v = indexed(c, body, len, RBIF);
  assert_int_equal(v.outcome, BP_ATTEMPT_RETURNED_FAILED);
  assert_int_equal(v.reason, BP_REASON_UNKNOWN_IDENTIFIER);
  assert_non_null(strstr(v.msg, "batchItemFailures[199999]"));
  last[1] = '1';
  /* the last byte wrong: invalid JSON whatever came before */
  body[len - 1] = ']';
  v = indexed(c, body, len, RBIF);
  assert_int_equal(v.reason, BP_REASON_INVALID_JSON);
  w = strict(c, body, len, batch, N, RBIF);
  same(&v, &w, "huge invalid");
  bp_codec_del(c);
  free(body);
}

/* ---- random texts: the one-pass scan gives what the general passes give ---- */

/* A body of the common shape with random whitespace, identifiers (in the batch, or not) and
 * up to two random byte edits. Its twin has a first member "z":0 added, which the one-pass
 * scan never takes, so the general passes classify it; both must agree. */
static size_t random_body(uint32_t *rng, char *out, size_t cap) {
#define NEXT() (*rng ^= *rng << 13, *rng ^= *rng >> 17, *rng ^= *rng << 5, *rng)
  static const char *const ws[] = {"", "", "", " ", "\n", "\t", "\r\n "};
#define WS() (len += (size_t)snprintf(out + len, cap - len, "%s", ws[NEXT() % 7]))
  size_t len = 0, items = 1 + NEXT() % 6;
  len += (size_t)snprintf(out, cap, "{");
  WS();
  len += (size_t)snprintf(out + len, cap - len, "\"batchItemFailures\"");
  WS();
  len += (size_t)snprintf(out + len, cap - len, ":");
  WS();
  len += (size_t)snprintf(out + len, cap - len, "[");
  for (size_t k = 0; k < items; k++) {
    WS();
    if (k) len += (size_t)snprintf(out + len, cap - len, ",");
    WS();
    len += (size_t)snprintf(out + len, cap - len, "{");
    WS();
    len += (size_t)snprintf(out + len, cap - len, "\"itemIdentifier\"");
    WS();
    len += (size_t)snprintf(out + len, cap - len, ":");
    WS();
    uint32_t pick = NEXT() % 20;
    if (pick == 0)
      len += (size_t)snprintf(out + len, cap - len, "\"100000000000000001001\"");
    else if (pick == 1)
      len += (size_t)snprintf(out + len, cap - len, "\"\"");
    else if (pick == 2)
      len += (size_t)snprintf(out + len, cap - len, "7");
    else
      len += (size_t)snprintf(out + len, cap - len, "\"%s\"", seqs[NEXT() % N]);
    WS();
    len += (size_t)snprintf(out + len, cap - len, "}");
  }
  WS();
  len += (size_t)snprintf(out + len, cap - len, "]");
  WS();
  len += (size_t)snprintf(out + len, cap - len, "}");
  WS();
  for (uint32_t e = NEXT() % 3; e-- > 0 && len > 2;) {
    size_t at = 1 + NEXT() % (len - 1); /* never the opening brace */
    static const char bytes[] = "{}[]\":,0123456789 \\x\x01\x80";
    uint32_t op = NEXT() % 3;
    if (op == 0) { /* delete */
      memmove(out + at, out + at + 1, len - at);
      len--;
    } else if (op == 1) { /* replace */
      out[at] = bytes[NEXT() % (sizeof bytes - 1)];
    } else if (len + 1 < cap) { /* insert */
      memmove(out + at + 1, out + at, len - at + 1);
      out[at] = bytes[NEXT() % (sizeof bytes - 1)];
      len++;
    }
  }
  out[len] = 0;
  return len;
#undef WS
#undef NEXT
}

static void test_random_against_general(void **state) {
  (void)state;
  make_batch();
  bp_codec *c = codec();
  assert_int_equal(bp_codec_index_batch(c, batch, N, BP_INDEX_TRUSTED), 0);
  uint32_t rng = 0x2545F491u;
  size_t partial = 0, compared = 0;
  for (int i = 0; i < 20000; i++) {
    char body[2048], twin[2100];
    size_t len = random_body(&rng, body, sizeof body);
    /* the twin needs a member after the added one: '{' then (whitespace) '"' */
    size_t j = 1;
    while (j < len && strchr(" \t\r\n", body[j])) j++;
    if (j >= len || body[j] != '"') continue;
    snprintf(twin, sizeof twin, "{\"z\":0,%s", body + 1);
    verdict a = indexed(c, body, len, RBIF);
    verdict b = indexed(c, twin, strlen(twin), RBIF);
    if (a.rc != b.rc || a.outcome != b.outcome || a.reason != b.reason || a.index != b.index ||
        a.count != b.count)
      print_error("body %s: %d/%d/%zu/%zu vs twin %d/%d/%zu/%zu\n", body, a.outcome, a.reason,
                  a.index, a.count, b.outcome, b.reason, b.index, b.count);
    assert_int_equal(a.rc, b.rc);
    assert_int_equal(a.outcome, b.outcome);
    assert_int_equal(a.reason, b.reason);
    assert_int_equal(a.index, b.index);
    assert_int_equal(a.count, b.count);
    verdict s = strict(c, body, len, batch, N, RBIF);
    same(&a, &s, body);
    partial += a.outcome == BP_ATTEMPT_PARTIAL;
    compared++;
  }
  /* the generator reaches both kinds of verdict */
  assert_true(compared > 10000);
  assert_true(partial > 1000 && partial < compared);
  bp_codec_del(c);
}

/* ---- no allocation per call once warm ---- */

static void test_no_allocation_when_warm(void **state) {
  (void)state;
  make_batch();
  test_alloc ta;
  bp_allocator hooks;
  test_alloc_init(&ta, &hooks);
  bp_codec *c;
  assert_int_equal(bp_codec_new(&c, &kin_opts, &hooks), 0);
  char body[256];
  snprintf(body, sizeof body,
           "{\"batchItemFailures\":[{\"itemIdentifier\":\"%s\"},{\"itemIdentifier\":\"%s\"}]}",
           seqs[3], seqs[200]);
  bp_response_result r = BP_RESPONSE_RESULT_INIT;
  assert_int_equal(bp_codec_index_batch(c, batch, N, 0), 0);
  assert_int_equal(bp_codec_classify_indexed(c, body, strlen(body), RBIF, &r), 0);
  assert_int_equal(bp_codec_classify_response(c, body, strlen(body), batch, N, RBIF, &r), 0);
  size_t before = ta.calls;
  for (int i = 0; i < 10; i++) {
    assert_int_equal(bp_codec_index_batch(c, batch, N, BP_INDEX_TRUSTED), 0);
    assert_int_equal(bp_codec_classify_indexed(c, body, strlen(body), RBIF, &r), 0);
    assert_int_equal(r.failed_index, 3);
    assert_int_equal(bp_codec_classify_response(c, body, strlen(body), batch, N, RBIF, &r), 0);
    assert_int_equal(r.failed_count, 2);
  }
  assert_int_equal(ta.calls, before);
  bp_codec_del(c);
  assert_int_equal(ta.live_blocks, 0);
}

static int fm_index(const bp_allocator *hooks, void *ctx) {
  (void)ctx;
  bp_codec *c;
  int rc = bp_codec_new(&c, &kin_opts, hooks);
  if (rc) return rc;
  char body[256];
  snprintf(body, sizeof body, "{\"batchItemFailures\":[{\"itemIdentifier\":\"%s\"}]}", seqs[9]);
  bp_response_result r = BP_RESPONSE_RESULT_INIT;
  rc = bp_codec_index_batch(c, batch, N, 0);
  if (!rc) rc = bp_codec_classify_indexed(c, body, strlen(body), RBIF, &r);
  if (!rc && (r.outcome != BP_ATTEMPT_PARTIAL || r.failed_index != 9)) rc = BP_ERR_INTERNAL;
  if (!rc) rc = bp_codec_classify_response(c, body, strlen(body), batch, N, RBIF, &r);
  if (!rc && r.failed_index != 9) rc = BP_ERR_INTERNAL;
  bp_codec_del(c);
  return rc;
}

static void test_failmalloc(void **state) {
  (void)state;
  make_batch();
  test_alloc_failmalloc(fm_index, NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_shapes),
      cmocka_unit_test(test_stride_and_lifetime),
      cmocka_unit_test(test_index_arguments),
      cmocka_unit_test(test_collisions),
      cmocka_unit_test(test_huge),
      cmocka_unit_test(test_random_against_general),
      cmocka_unit_test(test_no_allocation_when_warm),
      cmocka_unit_test(test_failmalloc),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
