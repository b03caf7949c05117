/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: bp_codec_classify_response() on arbitrary bodies.
 *
 * Each input is classified against a fixed batch under all four flag combinations, and
 * the results are checked against each other, against an independent strict JSON validator
 * (RFC 8259 + strict UTF-8, iterative so depth is free), against an empty batch, and with
 * whitespace added around the body. Any violation aborts.
 *
 *   replay:    build/fuzz/fuzz_response test/fuzz/corpus/response
 *   libFuzzer: clang -fsanitize=fuzzer,address,undefined -DBP_STATIC -D_POSIX_C_SOURCE=200809L
 *              -Iinclude -Ilib test/fuzz/fuzz_response.c lib/\*.c -lyajl -o /tmp/fr
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batchpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                         \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      fprintf(stderr, "fuzz_response: invariant failed at line %d: %s\n", __LINE__, #cond); \
      abort();                                                                              \
    }                                                                                       \
  } while (0)

#define RBIF BP_CLASSIFY_REPORT_BATCH_ITEM_FAILURES
#define STATE BP_CLASSIFY_REQUIRE_STATE

/* ---- An independent strict JSON validator ---- */

static int is_ws(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static size_t skip_ws(const uint8_t *s, size_t n, size_t i) {
  while (i < n && is_ws(s[i])) i++;
  return i;
}

/* Strict UTF-8 sequence at s[i] (a byte >= 0x80): its length, or 0. */
static size_t utf8_seq(const uint8_t *s, size_t n, size_t i) {
  uint8_t c = s[i];
  size_t len;
  uint32_t cp, min;
  if (c >= 0xc2 && c <= 0xdf) len = 2, cp = c & 0x1f, min = 0x80;
  else if (c >= 0xe0 && c <= 0xef) len = 3, cp = c & 0x0f, min = 0x800;
  else if (c >= 0xf0 && c <= 0xf4) len = 4, cp = c & 0x07, min = 0x10000;
  else return 0;
  if (n - i < len) return 0;
  for (size_t k = 1; k < len; k++) {
    if ((s[i + k] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (s[i + k] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

static int hex(uint8_t c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A string starting at s[*i] == '"'; advances past it. */
static int j_string(const uint8_t *s, size_t n, size_t *i) {
  size_t p = *i + 1;
  while (p < n) {
    uint8_t c = s[p];
    if (c == '"') {
      *i = p + 1;
      return 1;
    }
    if (c < 0x20) return 0;
    if (c == '\\') {
      if (++p >= n) return 0;
      c = s[p];
      if (c == 'u') {
        if (n - p < 5) return 0;
        for (int k = 1; k <= 4; k++)
          if (!hex(s[p + k])) return 0;
        p += 5;
      } else if (strchr("\"\\/bfnrt", c) && c) {
        p++;
      } else {
        return 0;
      }
    } else if (c >= 0x80) {
      size_t l = utf8_seq(s, n, p);
      if (!l) return 0;
      p += l;
    } else {
      p++;
    }
  }
  return 0;
}

static int digit(const uint8_t *s, size_t n, size_t p) { return p < n && s[p] >= '0' && s[p] <= '9'; }

static int j_number(const uint8_t *s, size_t n, size_t *i) {
  size_t p = *i;
  if (p < n && s[p] == '-') p++;
  if (!digit(s, n, p)) return 0;
  if (s[p] == '0') p++;
  else while (digit(s, n, p)) p++;
  if (p < n && s[p] == '.') {
    p++;
    if (!digit(s, n, p)) return 0;
    while (digit(s, n, p)) p++;
  }
  if (p < n && (s[p] == 'e' || s[p] == 'E')) {
    p++;
    if (p < n && (s[p] == '+' || s[p] == '-')) p++;
    if (!digit(s, n, p)) return 0;
    while (digit(s, n, p)) p++;
  }
  *i = p;
  return 1;
}

static int j_literal(const uint8_t *s, size_t n, size_t *i, const char *lit) {
  size_t l = strlen(lit);
  if (n - *i < l || memcmp(s + *i, lit, l) != 0) return 0;
  *i += l;
  return 1;
}

/* Exactly one JSON value surrounded by optional whitespace. */
static int json_valid(const uint8_t *s, size_t n) {
  char *stack = malloc(n + 1); /* '{' or '[' per open container */
  CHECK(stack != NULL);
  size_t depth = 0, i = skip_ws(s, n, 0);
  int ok = 0;
  for (;;) {
    /* a value at s[i] */
    if (i >= n) goto done;
    uint8_t c = s[i];
    if (c == '{' || c == '[') {
      stack[depth++] = (char)c;
      i = skip_ws(s, n, i + 1);
      if (i < n && s[i] == (c == '{' ? '}' : ']')) {
        depth--;
        i++;
      } else if (c == '{') {
        if (i >= n || s[i] != '"' || !j_string(s, n, &i)) goto done;
        i = skip_ws(s, n, i);
        if (i >= n || s[i] != ':') goto done;
        i = skip_ws(s, n, i + 1);
        continue;
      } else {
        continue;
      }
    } else if (c == '"') {
      if (!j_string(s, n, &i)) goto done;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      if (!j_number(s, n, &i)) goto done;
    } else if (!j_literal(s, n, &i, "true") && !j_literal(s, n, &i, "false") &&
               !j_literal(s, n, &i, "null")) {
      goto done;
    }
    /* after a value: close containers, or a comma and the next value */
    for (;;) {
      i = skip_ws(s, n, i);
      if (depth == 0) {
        ok = i == n;
        goto done;
      }
      if (i >= n) goto done;
      char top = stack[depth - 1];
      if (s[i] == (top == '{' ? '}' : ']')) {
        depth--;
        i++;
        continue;
      }
      if (s[i] != ',') goto done;
      i = skip_ws(s, n, i + 1);
      if (top == '{') {
        if (i >= n || s[i] != '"' || !j_string(s, n, &i)) goto done;
        i = skip_ws(s, n, i);
        if (i >= n || s[i] != ':') goto done;
        i = skip_ws(s, n, i + 1);
      }
      break;
    }
  }
done:
  free(stack);
  return ok;
}

/* ---- Invariants ---- */

static void check_shape(const bp_response_result *r, const char *body, size_t size,
                        size_t n) {
  switch (r->outcome) {
  case BP_ATTEMPT_SUCCESS:
    CHECK(r->reason == BP_REASON_NONE || r->reason == BP_REASON_NOT_REPORTING ||
          r->reason == BP_REASON_EMPTY);
    break;
  case BP_ATTEMPT_PARTIAL:
    CHECK(r->reason == BP_REASON_NONE);
    CHECK(r->failed_index < n);
    CHECK(r->failed_count >= 1 && r->failed_count <= n - r->failed_index);
    break;
  case BP_ATTEMPT_RETURNED_FAILED:
    CHECK(r->reason >= BP_REASON_INVALID_JSON && r->reason <= BP_REASON_STATE_MISSING);
    break;
  default:
    CHECK(0);
  }
  if (r->outcome != BP_ATTEMPT_PARTIAL) CHECK(r->failed_index == 0 && r->failed_count == 0);
  CHECK(r->has_state == 0 || r->has_state == 1);
  if (r->has_state) {
    CHECK(r->state_len >= 2 && r->state_offset <= size && r->state_len <= size - r->state_offset);
    CHECK(body[r->state_offset] == '{' && body[r->state_offset + r->state_len - 1] == '}');
    CHECK(json_valid((const uint8_t *)body + r->state_offset, r->state_len));
  } else {
    CHECK(r->state_offset == 0 && r->state_len == 0);
  }
}

static int same(const bp_response_result *a, const bp_response_result *b) {
  return a->outcome == b->outcome && a->reason == b->reason &&
         a->failed_index == b->failed_index && a->failed_count == b->failed_count &&
         a->has_state == b->has_state && a->state_offset == b->state_offset &&
         a->state_len == b->state_len;
}

static bp_response_result classify(bp_codec *c, const char *body, size_t size,
                                   const bp_record *b, size_t n, uint32_t flags) {
  bp_response_result r = BP_RESPONSE_RESULT_INIT;
  memset(&r, 0xa5, sizeof r);
  CHECK(bp_codec_classify_response(c, body, size, b, n, flags, &r) == 0);
  check_shape(&r, body, size, n);
  if (r.outcome == BP_ATTEMPT_RETURNED_FAILED) CHECK(bp_codec_errmsg(c)[0] != '\0');
  else CHECK(bp_codec_errmsg(c)[0] == '\0');
  return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const bp_codec_opts opts = {sizeof(bp_codec_opts), BP_SOURCE_KINESIS,
                                     "arn:aws:kinesis:us-east-1:111111111111:stream/s1", NULL,
                                     "arn:aws:iam::111111111111:role/r", NULL};
  static const char *const seqs[] = {"9", "10", "11", "100",
                                     "49590338271490256608559692538361571095921575989136588898"};
  enum { N = sizeof seqs / sizeof seqs[0] };
  bp_record batch[N];
  memset(batch, 0, sizeof batch);
  for (size_t i_ = 0; i_ < sizeof batch / sizeof batch[0]; i_++) batch[i_].struct_size = sizeof batch[0];
  for (size_t i = 0; i < N; i++) {
    batch[i].seq = seqs[i];
    batch[i].seq_len = strlen(seqs[i]);
  }
  bp_codec *c;
  CHECK(bp_codec_new(&c, &opts, NULL) == 0);
  const char *body = (const char *)data;

  bp_response_result r0 = classify(c, body, size, batch, N, 0);
  bp_response_result r1 = classify(c, body, size, batch, N, RBIF);
  bp_response_result r2 = classify(c, body, size, batch, N, STATE);
  bp_response_result r3 = classify(c, body, size, batch, N, RBIF | STATE);

  /* flags 0: success, body unread */
  CHECK(r0.outcome == BP_ATTEMPT_SUCCESS && r0.reason == BP_REASON_NOT_REPORTING);
  CHECK(!r0.has_state);
  /* the state is located the same way whatever the (non-zero) flags */
  CHECK(r1.has_state == r2.has_state && r1.has_state == r3.has_state);
  CHECK(r1.state_offset == r2.state_offset && r1.state_offset == r3.state_offset);
  CHECK(r1.state_len == r2.state_len && r1.state_len == r3.state_len);
  /* REQUIRE_STATE alone */
  if (r2.has_state) CHECK(r2.outcome == BP_ATTEMPT_SUCCESS && r2.reason == BP_REASON_NOT_REPORTING);
  else CHECK(r2.outcome == BP_ATTEMPT_RETURNED_FAILED && r2.reason == BP_REASON_STATE_MISSING);
  /* RBIF never says STATE_MISSING or NOT_REPORTING; both flags combine as documented */
  CHECK(r1.reason != BP_REASON_STATE_MISSING && r1.reason != BP_REASON_NOT_REPORTING);
  if (r1.outcome == BP_ATTEMPT_RETURNED_FAILED || r1.has_state) {
    CHECK(same(&r1, &r3));
  } else {
    CHECK(r3.outcome == BP_ATTEMPT_RETURNED_FAILED && r3.reason == BP_REASON_STATE_MISSING);
    CHECK(r3.failed_index == 0 && r3.failed_count == 0);
  }

  /* rule 1 and rule 2 against the independent validator */
  size_t k = 0;
  while (k < size && (data[k] == ' ' || data[k] == '\t' || data[k] == '\n' || data[k] == '\r'))
    k++;
  int blank = k == size;
  CHECK(blank == (r1.reason == BP_REASON_EMPTY));
  if (!blank) CHECK(json_valid(data, size) == (r1.reason != BP_REASON_INVALID_JSON));
  if (r1.has_state) CHECK(!blank && r1.reason != BP_REASON_INVALID_JSON && data[k] == '{');

  /* deterministic, with the codec's recycled memory */
  bp_response_result again = classify(c, body, size, batch, N, RBIF);
  CHECK(same(&r1, &again));

  /* an empty batch: partials become unknown identifiers, success stays success */
  bp_response_result e = classify(c, body, size, NULL, 0, RBIF);
  if (r1.outcome == BP_ATTEMPT_PARTIAL)
    CHECK(e.outcome == BP_ATTEMPT_RETURNED_FAILED && e.reason == BP_REASON_UNKNOWN_IDENTIFIER);
  else if (r1.reason == BP_REASON_BAD_ITEM || r1.reason == BP_REASON_UNKNOWN_IDENTIFIER)
    CHECK(e.reason == BP_REASON_BAD_ITEM || e.reason == BP_REASON_UNKNOWN_IDENTIFIER);
  else
    CHECK(same(&r1, &e));

  /* a batch of only the lowest failed record: a partial at index 0 if it was the only one
   * reported, else the others are now unknown */
  if (r1.outcome == BP_ATTEMPT_PARTIAL) {
    bp_response_result one = classify(c, body, size, &batch[r1.failed_index], 1, RBIF);
    if (r1.failed_count == 1) CHECK(one.outcome == BP_ATTEMPT_PARTIAL && one.failed_index == 0);
    else CHECK(one.outcome == BP_ATTEMPT_RETURNED_FAILED && one.reason == BP_REASON_UNKNOWN_IDENTIFIER);
    /* the tail of the batch from the failed record keeps every identifier */
    bp_response_result tail =
        classify(c, body, size, &batch[r1.failed_index], N - r1.failed_index, RBIF);
    CHECK(tail.outcome == BP_ATTEMPT_PARTIAL && tail.failed_index == 0 &&
          tail.failed_count == r1.failed_count);
  }

  /* whitespace around the body changes nothing but offsets */
  char *padded = malloc(size + 2);
  CHECK(padded != NULL);
  padded[0] = '\n';
  if (size) memcpy(padded + 1, data, size);
  padded[size + 1] = ' ';
  bp_response_result p = classify(c, padded, size + 2, batch, N, RBIF | STATE);
  CHECK(p.outcome == r3.outcome && p.reason == r3.reason && p.failed_index == r3.failed_index &&
        p.failed_count == r3.failed_count && p.has_state == r3.has_state);
  if (p.has_state) CHECK(p.state_offset == r3.state_offset + 1 && p.state_len == r3.state_len);
  free(padded);

  bp_codec_del(c);
  return 0;
}
