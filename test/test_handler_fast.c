/* SPDX-License-Identifier: MIT */
/* The event parser's shortcuts for text as Lambda writes it (bp_handler_event.c: member names
 * with their separators, epoch seconds, base64 data decoded up to its quote) against its
 * general path (bp__handler_general): generated Kinesis and DynamoDB events, in Lambda's form
 * and with odd orders, whitespace, escapes, missing members and odd numbers, then random
 * mutations of them. For every text, the same verdict, message, records, failures, response
 * and window. And bp__b64_decode_quoted() against bp_base64_decode() on every path. */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "batchpoint.h"
#include "bp_b64_int.h"
#include "bp_handler_int.h"

/* ---- a deterministic generator ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t n) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return n ? (uint32_t)(rng_state >> 32) % n : 0;
}

/* Now and then, when @p odd: 1 in @p k, or in 6k for an event made mostly of valid parts. */
static uint32_t rarely = 1;
static int oddly(int odd, uint32_t k) { return odd && rnd(k * rarely) == 0; }

typedef struct text {
  char *p;
  size_t len, cap;
} text;

static void put(text *t, const char *s, size_t n) {
  if (t->len + n + 1 > t->cap) {
    t->cap = (t->len + n + 1) * 2;
    t->p = realloc(t->p, t->cap);
    assert_non_null(t->p);
  }
  memcpy(t->p + t->len, s, n);
  t->len += n;
  t->p[t->len] = '\0';
}
static void puts_(text *t, const char *s) { put(t, s, strlen(s)); }
static void putf(text *t, const char *fmt, ...) {
  char b[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(b, sizeof b, fmt, ap);
  va_end(ap);
  assert_true(n >= 0 && (size_t)n < sizeof b); /* a piece longer than b would be cut */
  put(t, b, (size_t)n);
}

/* Whitespace, now and then (Lambda writes none). */
static void ws(text *t, int odd) {
  static const char *const w[] = {" ", "\n", "\t", "\r\n  "};
  if (odd && rnd(12) == 0) puts_(t, w[rnd(4)]);
}

/* A string value: as is, or with some byte written as an escape. */
static void str(text *t, const char *s, int odd) {
  puts_(t, "\"");
  int esc = odd && rnd(8) == 0 ? (int)rnd((uint32_t)strlen(s) + 1) : -1;
  for (int i = 0; s[i]; i++) {
    if (i == esc) putf(t, rnd(2) ? "\\u%04x" : "\\u%04X", (unsigned char)s[i]);
    else if (i == esc + 1 && s[i] == '/') puts_(t, "\\/");
    else put(t, s + i, 1);
  }
  puts_(t, "\"");
}

/* Epoch seconds in the forms Lambda writes, and the other JSON forms. */
static void seconds(text *t, int odd) {
  static const char *const forms[] = {
      "1545084650.123", "1545084650", "1545084650.1", "1545084650.12", "1545084650.123456789",
      "1.545084650123e9", "1545084650123e-3", "0.5", "0", "-1", "01545084650", "1545084650.",
      "1545084650.e3", "15450846501234567", "154508465012", "1545084650123", "9999999999999",
      "1545084650.1234567890123456789012345678901234567890", "1545084650E0", "1545084650e+0",
      "\"1545084650\"", "1545084650.12x", "1e400", "253402300800", "253402300799.999", "-0",
      "1545084650.00000000000000000000000000001", "12345678901234567890123456789012345",
      "1545084650.1.2", "1545084650-1", "true"};
  if (!oddly(odd, 3)) {
    putf(t, "%u.%u", 1545084650u + rnd(100000), rnd(1000) + 1);
    return;
  }
  puts_(t, forms[rnd(sizeof forms / sizeof *forms)]);
}

static const char b64abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64 of random bytes; when odd, sometimes not quite base64. */
static void data(text *t, int odd) {
  uint8_t raw[200];
  char b[300];
  size_t n = rnd(4) ? rnd(200) : rnd(8), w;
  for (size_t i = 0; i < n; i++) raw[i] = (uint8_t)rnd(256);
  assert_int_equal(bp_base64_encode(raw, n, b, sizeof b, &w), 0);
  b[w] = '\0';
  if (w && oddly(odd, 4)) {
    size_t at = rnd((uint32_t)w);
    switch (rnd(7)) {
    case 0: b[at] = "=\"\\ -_.\x80"[rnd(8)]; break;          /* outside the alphabet */
    case 1: b[w - 1] = b64abc[rnd(64)]; break;                /* the padding replaced */
    case 2: b[at] = b64abc[rnd(64)]; break;                   /* non-canonical bits maybe */
    case 3: memmove(b + at, b + at + 1, w - at); break;       /* a character less */
    case 4: b[w - 1] = '\0'; break;
    case 5: if (w + 2 < sizeof b) memcpy(b + w, "==", 3); break;
    default: { /* an escape: still valid JSON, and the same base64 once unescaped */
      str(t, b, 1);
      return;
    }
    }
  }
  puts_(t, "\"");
  puts_(t, b);
  puts_(t, "\"");
}

/* A member: separator, name (maybe escaped), colon. */
static void key(text *t, int *first, const char *name, int odd) {
  ws(t, odd);
  if (!*first) puts_(t, ",");
  *first = 0;
  ws(t, odd);
  str(t, name, oddly(odd, 6));
  ws(t, odd);
  puts_(t, ":");
  ws(t, odd);
}

/* n items written by fn in order (Lambda's) or shuffled, some left out or doubled. */
typedef void (*item_fn)(text *t, int *first, int which, int odd, int rec);
static void members(text *t, int n, item_fn fn, int odd, int rec) {
  int order[16];
  for (int i = 0; i < n; i++) order[i] = i;
  if (oddly(odd, 6))
    for (int i = n - 1; i > 0; i--) {
      int j = (int)rnd((uint32_t)i + 1), x = order[i];
      order[i] = order[j];
      order[j] = x;
    }
  puts_(t, "{");
  int first = 1;
  for (int i = 0; i < n; i++) {
    if (oddly(odd, 30)) continue;
    fn(t, &first, order[i], odd, rec);
    if (oddly(odd, 40)) fn(t, &first, order[i], odd, rec);
  }
  if (oddly(odd, 20)) {
    key(t, &first, rnd(2) ? "extra" : "dat", odd);
    puts_(t, rnd(2) ? "[1,{\"a\":null}]" : "\"x\"");
  }
  ws(t, odd);
  puts_(t, "}");
}

#define SEQ "49590338271490256608559692538361571095921575989136588898"

static void kinesis_member(text *t, int *first, int which, int odd, int rec) {
  switch (which) {
  case 0: key(t, first, "kinesisSchemaVersion", odd); str(t, "1.0", odd); break;
  case 1: key(t, first, "partitionKey", odd); {
      char pk[32];
      snprintf(pk, sizeof pk, "pk-%d/\xc3\xa9", rec);
      str(t, pk, odd);
    }
    break;
  case 2: key(t, first, "sequenceNumber", odd);
    if (oddly(odd, 10)) str(t, rnd(2) ? "0123" : "12a", 0);
    else putf(t, "\"%s%02d\"", SEQ, rec);
    break;
  case 3: key(t, first, "data", odd); data(t, odd); break;
  case 4: key(t, first, "approximateArrivalTimestamp", odd); seconds(t, odd); break;
  default: key(t, first, "encryptionType", odd); str(t, "KMS", odd); break;
  }
}

static void kinesis_obj(text *t, int odd, int rec) {
  members(t, rnd(3) ? 5 : 6, kinesis_member, odd, rec);
}

static void ddb_member(text *t, int *first, int which, int odd, int rec) {
  switch (which) {
  case 0: key(t, first, "ApproximateCreationDateTime", odd); seconds(t, odd); break;
  case 1: key(t, first, "Keys", odd); puts_(t, "{\"Id\":{\"N\":\"101\"}}"); break;
  case 2: key(t, first, "NewImage", odd); puts_(t, "{\"Message\":{\"S\":\"New item!\"}}"); break;
  case 3: key(t, first, "SequenceNumber", odd); putf(t, "\"1%03d\"", rec); break;
  case 4: key(t, first, "SizeBytes", odd); putf(t, "%u", rnd(1000)); break;
  default: key(t, first, "StreamViewType", odd); str(t, "NEW_AND_OLD_IMAGES", odd); break;
  }
}

static int rec_ddb; /* the record's source: 1 DynamoDB */

static void record_member(text *t, int *first, int which, int odd, int rec) {
  static const char arn_k[] = "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream";
  static const char arn_d[] = "arn:aws:dynamodb:us-east-2:123456789012:table/t/stream/2015";
  if (rec_ddb) {
    switch (which) {
    case 0: key(t, first, "eventID", odd); putf(t, "\"c4ca4238a0b9%04d\"", rec); break;
    case 1: key(t, first, "eventName", odd); str(t, "INSERT", odd); break;
    case 2: key(t, first, "eventVersion", odd); str(t, "1.1", odd); break;
    case 3: key(t, first, "eventSource", odd); str(t, oddly(odd, 60) ? "aws:kinesis" : "aws:dynamodb", odd); break;
    case 4: key(t, first, "awsRegion", odd); str(t, "us-east-2", odd); break;
    case 5: key(t, first, "dynamodb", odd); members(t, 6, ddb_member, odd, rec); break;
    default: key(t, first, "eventSourceARN", odd); str(t, arn_d, odd); break;
    }
    return;
  }
  switch (which) {
  case 0: key(t, first, "kinesis", odd); kinesis_obj(t, odd, rec); break;
  case 1: key(t, first, "eventSource", odd); str(t, oddly(odd, 60) ? "aws:dynamodb" : "aws:kinesis", odd); break;
  case 2: key(t, first, "eventVersion", odd); str(t, "1.0", odd); break;
  case 3: key(t, first, "eventID", odd);
    putf(t, "\"shardId-000000000006:%s%02d\"", SEQ, rec);
    break;
  case 4: key(t, first, "eventName", odd); str(t, "aws:kinesis:record", odd); break;
  case 5: key(t, first, "invokeIdentityArn", odd);
    str(t, "arn:aws:iam::123456789012:role/lambda-role", odd);
    break;
  case 6: key(t, first, "awsRegion", odd); str(t, "us-east-2", odd); break;
  default: key(t, first, "eventSourceARN", odd); str(t, arn_k, odd); break;
  }
}

static void gen_event(text *t, int odd) {
  t->len = 0;
  int ddb = rnd(5) == 0, n = (int)rnd(6);
  puts_(t, "{");
  ws(t, odd);
  if (oddly(odd, 10)) puts_(t, "\"shardId\":\"s-1\",\"window\":{\"start\":\"2020-07-30T17:00:00Z\",\"end\":\"2020-07-30T17:05:00Z\"},\"isFinalInvokeForWindow\":false,");
  puts_(t, "\"Records\":");
  ws(t, odd);
  puts_(t, "[");
  for (int i = 0; i < n; i++) {
    if (i) puts_(t, ",");
    ws(t, odd);
    rec_ddb = ddb;
    members(t, ddb ? 7 : 8, record_member, odd, i);
  }
  ws(t, odd);
  puts_(t, "]");
  ws(t, odd);
  puts_(t, "}");
}

/* A random change of a few bytes, from those that matter to JSON and base64. */
static void mutate(text *t) {
  static const char pick[] = "\"\\{}[],: \te.-+0123456789=A/x\x80\xc3";
  int k = 1 + (int)rnd(3);
  for (int j = 0; j < k && t->len; j++) {
    size_t at = rnd((uint32_t)t->len);
    switch (rnd(4)) {
    case 0: t->p[at] = pick[rnd(sizeof pick - 1)]; break;
    case 1: memmove(t->p + at, t->p + at + 1, t->len - at), t->len--; break;
    case 2: t->len = at; t->p[at] = '\0'; break;
    default: /* one byte inserted */
      put(t, " ", 1);
      memmove(t->p + at + 1, t->p + at, t->len - at - 1);
      t->p[at] = pick[rnd(sizeof pick - 1)];
    }
  }
}

/* ---- what a run shows ---- */

typedef struct runlog {
  text t;
  const char *event;
  size_t event_len;
  int rc;
} runlog;

static void span(runlog *l, const char *name, const char *p, size_t n) {
  if (!p) {
    putf(&l->t, "%s=NULL;", name);
    return;
  }
  long off = p >= l->event && p + n <= l->event + l->event_len ? (long)(p - l->event) : -1;
  putf(&l->t, "%s@%ld[%zu]=", name, off, n);
  put(&l->t, p, n);
  puts_(&l->t, ";");
}

static int log_record(bp_handler *h, const bp_handler_record *r, void *ud) {
  (void)h;
  runlog *l = ud;
  putf(&l->t, "\n#%zu src=%d ms=%lld size=%lld agg=%d ", r->index, (int)r->source,
       (long long)r->arrival_ms, (long long)r->size_bytes, r->aggregated);
  span(l, "id", r->event_id, r->event_id_len);
  span(l, "name", r->event_name, r->event_name_len);
  span(l, "source", r->event_source, r->event_source_len);
  span(l, "arn", r->event_source_arn, r->event_source_arn_len);
  span(l, "region", r->aws_region, r->aws_region_len);
  span(l, "version", r->event_version, r->event_version_len);
  span(l, "invoke", r->invoke_identity_arn, r->invoke_identity_arn_len);
  span(l, "seq", r->seq, r->seq_len);
  span(l, "arrival", r->arrival_text, r->arrival_text_len);
  span(l, "pk", r->partition_key, r->partition_key_len);
  span(l, "schema", r->kinesis_schema_version, r->kinesis_schema_version_len);
  span(l, "enc", r->encryption_type, r->encryption_type_len);
  span(l, "data", (const char *)r->data, r->data_len);
  span(l, "b64", r->data_base64, r->data_base64_len);
  span(l, "ddb", r->dynamodb_json, r->dynamodb_json_len);
  span(l, "keys", r->keys_json, r->keys_json_len);
  span(l, "new", r->new_image_json, r->new_image_json_len);
  span(l, "old", r->old_image_json, r->old_image_json_len);
  span(l, "user", r->user_identity_json, r->user_identity_json_len);
  span(l, "view", r->stream_view_type, r->stream_view_type_len);
  /* Fail some records, by what they hold. */
  return r->data_len % 3 == 1 || r->arrival_ms % 5 == 0;
}

static void run(bp_handler *h, const text *ev, runlog *l) {
  l->t.len = 0;
  l->event = ev->p;
  l->event_len = ev->len;
  const char *resp;
  size_t resp_len;
  int rc = bp_handler_process(h, ev->p, ev->len, log_record, l, &resp, &resp_len);
  l->rc = rc;
  putf(&l->t, "\nrc=%d msg=%s offset=%zu failures=%zu", rc, bp_handler_errmsg(h),
       rc ? h->err.offset : 0, bp_handler_failure_count(h));
  span(l, "\nresponse", resp, resp_len);
  bp_handler_window w = BP_HANDLER_WINDOW_INIT;
  int wrc = bp_handler_get_window(h, &w);
  putf(&l->t, "\nwindow=%d %lld %lld %d ", wrc, (long long)w.start_ms, (long long)w.end_ms,
       w.is_final);
  span(l, "shard", w.shard_id, w.shard_id_len);
}

typedef struct counts {
  size_t texts, accepted, records;
} counts;

static void compare(bp_handler *fast, bp_handler *general, const text *ev, runlog *a,
                    runlog *b, counts *n) {
  run(fast, ev, a);
  run(general, ev, b);
  if (a->t.len != b->t.len || memcmp(a->t.p, b->t.p, a->t.len) != 0) {
    fprintf(stderr, "event: %s\nfast: %s\ngeneral: %s\n", ev->p, a->t.p, b->t.p);
    fail_msg("the shortcuts and the general path differ");
  }
  n->texts++;
  n->accepted += a->rc == 0 || a->rc == BP_ERR_BATCH_FAILED;
  for (const char *p = a->t.p; (p = strstr(p, "\n#")); p++) n->records++;
}

static void test_fast_equals_general(void **state) {
  (void)state;
  bp_handler *fast, *general;
  assert_int_equal(bp_handler_new(&fast, NULL, NULL), 0);
  assert_int_equal(bp_handler_new(&general, NULL, NULL), 0);
  bp__handler_general(general, 1);
  text ev = {0};
  runlog a = {0}, b = {0};
  counts n = {0}, lambda_form = {0};
  for (int i = 0; i < 20000; i++) {
    int odd = i % 4 != 0;
    rarely = i % 4 == 2 ? 6 : 1;
    gen_event(&ev, odd);
    compare(fast, general, &ev, &a, &b, odd ? &n : &lambda_form);
    for (int m = 0; m < 3; m++) {
      text mu = {0};
      put(&mu, ev.p, ev.len);
      mutate(&mu);
      compare(fast, general, &mu, &a, &b, &n);
      free(mu.p);
    }
  }
  /* The generator reaches both sides: events that parse (all of Lambda's form) and not. */
  printf("Lambda's form: %zu texts, %zu records; others: %zu texts, %zu accepted, %zu records\n",
         lambda_form.texts, lambda_form.records, n.texts, n.accepted, n.records);
  assert_true(lambda_form.accepted == lambda_form.texts);
  assert_true(lambda_form.records > 8000);
  assert_true(n.accepted > 8000 && n.accepted < n.texts / 2);
  assert_true(n.records > 12000);
  free(ev.p);
  free(a.t.p);
  free(b.t.p);
  bp_handler_del(fast);
  bp_handler_del(general);
}

/* Each required member left out: refused, naming it (the check is one mask test first). */
static void test_required_members(void **state) {
  (void)state;
  static const char *const kin[] = {
      "\"kinesisSchemaVersion\":\"1.0\"", "\"partitionKey\":\"k\"", "\"sequenceNumber\":\"1\"",
      "\"data\":\"aGk=\"", "\"approximateArrivalTimestamp\":1.5"};
  static const char *const env_k[] = {
      "\"eventSource\":\"aws:kinesis\"", "\"eventVersion\":\"1.0\"", "\"eventID\":\"x\"",
      "\"eventName\":\"aws:kinesis:record\"", "\"invokeIdentityArn\":\"a\"",
      "\"awsRegion\":\"r\"", "\"eventSourceARN\":\"s\""};
  static const char *const ddb[] = {
      "\"ApproximateCreationDateTime\":1", "\"Keys\":{}", "\"SequenceNumber\":\"1\"",
      "\"SizeBytes\":1", "\"StreamViewType\":\"KEYS_ONLY\""};
  static const char *const env_d[] = {
      "\"eventSource\":\"aws:dynamodb\"", "\"eventVersion\":\"1.1\"", "\"eventID\":\"x\"",
      "\"eventName\":\"INSERT\"", "\"awsRegion\":\"r\"", "\"eventSourceARN\":\"s\""};
  bp_handler *h;
  assert_int_equal(bp_handler_new(&h, NULL, NULL), 0);
  for (int src = 0; src < 2; src++) {
    const char *const *inner = src ? ddb : kin, *const *env = src ? env_d : env_k;
    size_t ni = 5, ne = src ? 6 : 7;
    for (size_t drop = 0; drop <= ni + ne; drop++) {
      text t = {0};
      puts_(&t, src ? "{\"Records\":[{\"dynamodb\":{" : "{\"Records\":[{\"kinesis\":{");
      for (size_t i = 0, first = 1; i < ni; i++)
        if (i != drop) putf(&t, "%s%s", first ? "" : ",", inner[i]), first = 0;
      puts_(&t, "}");
      for (size_t i = 0; i < ne; i++)
        if (ni + i != drop) putf(&t, ",%s", env[i]);
      puts_(&t, "}]}");
      const char *resp;
      size_t len;
      runlog l = {0};
      int rc = bp_handler_process(h, t.p, t.len, log_record, &l, &resp, &len);
      free(l.t.p);
      if (drop == ni + ne) { /* all there: the one record delivered (and failed) */
        assert_int_equal(rc, BP_ERR_BATCH_FAILED);
      } else {
        const char *m = drop < ni ? inner[drop] : env[drop - ni];
        char want[96];
        snprintf(want, sizeof want, "Records[0].%s%.*s: missing",
                 drop < ni ? (src ? "dynamodb." : "kinesis.") : "",
                 (int)(strchr(m + 1, '"') - m - 1), m + 1);
        assert_int_equal(rc, BP_ERR_INVALID_RECORD);
        assert_string_equal(bp_handler_errmsg(h), want);
      }
      free(t.p);
    }
  }
  bp_handler_del(h);
}

/* ---- bp__b64_decode_quoted against bp_base64_decode ---- */

/* The answer bp__b64_decode_quoted must give: the text up to the first quote, decoded. */
static int expected(const char *in, size_t avail, uint8_t *out, size_t *in_len, size_t *w) {
  const char *q = memchr(in, '"', avail);
  if (!q) return BP_ERR_INVALID_BASE64;
  *in_len = (size_t)(q - in);
  return bp_base64_decode(in, *in_len, out, 4096, w) ? BP_ERR_INVALID_BASE64 : 0;
}

static void check_quoted(const char *in, size_t avail) {
  uint8_t want[4096], got[4096 + BP__B64_QUOTED_SLACK];
  size_t wl = 0, ww = 0;
  int wrc = expected(in, avail, want, &wl, &ww);
  for (int path = 0; path <= BP__B64_AVX2; path++) {
    size_t gl = 0, gw = 0;
    int grc = bp__b64_decode_quoted_on(path, in, avail, got, &gl, &gw);
    if (grc != wrc) fprintf(stderr, "path %d: %.*s\n", path, (int)avail, in);
    assert_int_equal(grc, wrc);
    if (wrc) continue;
    assert_int_equal(gl, wl);
    assert_int_equal(gw, ww);
    if (ww) assert_memory_equal(got, want, ww);
  }
}

static void test_decode_quoted(void **state) {
  (void)state;
  char buf[600];
  uint8_t raw[300];
  /* Every length, every way to end it, with text after the quote of every length. */
  for (size_t n = 0; n <= 260; n++) {
    for (size_t i = 0; i < n; i++) raw[i] = (uint8_t)rnd(256);
    size_t w;
    assert_int_equal(bp_base64_encode(raw, n, buf, sizeof buf, &w), 0);
    for (size_t after = 0; after < 40; after += 1 + after / 4) {
      memcpy(buf + w, "\",\"approximateArrivalTimestamp\":1545084650.123}", 48);
      check_quoted(buf, w);            /* no quote */
      check_quoted(buf, w + 1 + after);
      /* One character changed, to each kind. */
      for (int k = 0; k < 6 && w; k++) {
        size_t at = rnd((uint32_t)w);
        char keep = buf[at];
        buf[at] = "=\"\\A/+ \x80\x00z9_"[rnd(12)];
        check_quoted(buf, w + 1 + after);
        buf[at] = keep;
      }
      /* The last characters: padding and the bits it hides. */
      for (int k = 0; k < 4 && w >= 4; k++) {
        char keep[4];
        memcpy(keep, buf + w - 4, 4);
        buf[w - 1 - rnd(3)] = rnd(2) ? '=' : b64abc[rnd(64)];
        buf[w - 2] = rnd(3) ? buf[w - 2] : b64abc[rnd(64)];
        check_quoted(buf, w + 1 + after);
        memcpy(buf + w - 4, keep, 4);
      }
    }
  }
  check_quoted("", 0);
  check_quoted("\"", 1);
  check_quoted("=\"", 2);
  check_quoted("==\"", 3);
  check_quoted("QQ==\"", 5);
  check_quoted("QR==\"", 5);
  check_quoted("QUI=\"", 5);
  check_quoted("QUJ=\"", 5);
  check_quoted("QUJD=\"", 6);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_decode_quoted),
      cmocka_unit_test(test_fast_equals_general),
      cmocka_unit_test(test_required_members),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
