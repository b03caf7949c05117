/* SPDX-License-Identifier: MIT */
/*
 * Response classification (SEMANTICS.md §3.3, §3.4, §6): a function's normally returned
 * body against its batch.
 *
 * Two streaming passes, no DOM and no per-identifier allocation:
 *  1. The whole body (bp__json_parse: strict JSON and UTF-8): the top-level
 *     kind, and the last top-level `batchItemFailures` and `state` members (type and byte
 *     span). The whole text is always parsed, because validity (rule 2) outranks the rest.
 *  2. Only with ReportBatchItemFailures and a non-empty `batchItemFailures` array: that
 *     array's bytes alone (already known to be valid JSON), element by element. Each
 *     identifier is looked up by binary search over the batch (O(log N)); a bitmap over the
 *     batch counts distinct identifiers. The first bad element stops the pass.
 * Nesting depth is a counter (yajl's own stack is a byte per level), so depth costs memory
 * linear in the input and never recursion.
 */
#include <string.h>

#include "bp_codec_int.h"
#include "bp_codec_measure_int.h"
#include "batchpoint/bp_seqnum.h"

/* ---- Pass 1: the body ---- */

enum top_kind { TOP_NONE, TOP_NULL, TOP_SCALAR, TOP_EMPTY_STRING, TOP_ARRAY, TOP_OBJECT };
enum val_kind { V_NULL, V_BOOL, V_NUMBER, V_STRING, V_MAP, V_ARRAY };
enum member { M_OTHER, M_BIF, M_STATE };
enum bif_kind { BIF_ABSENT, BIF_NULL, BIF_ARRAY, BIF_OTHER };

typedef struct body_ctx {
  const bp__json_pool *pool;
  size_t depth;          /* containers open */
  int top;               /* enum top_kind */
  int top_nonempty;      /* TOP_ARRAY with an element */
  int member;            /* enum member: the top-level member whose value comes next */
  int in_bif, in_state;  /* inside the current bif array / state object (depth 2 and more) */
  int bif;               /* enum bif_kind (last occurrence) */
  int bif_nonempty;
  size_t bif_start, bif_end; /* the array's bytes: '[' .. ']' inclusive, end exclusive */
  int state;             /* last `state` member is an object */
  size_t state_start, state_end;
} body_ctx;

static int b_value(body_ctx *b, int kind, size_t n) {
  size_t d = b->depth;
  if (d == 0) {
    if (kind == V_NULL) b->top = TOP_NULL;
    else if (kind == V_STRING) b->top = n ? TOP_SCALAR : TOP_EMPTY_STRING;
    else if (kind == V_ARRAY) b->top = TOP_ARRAY;
    else if (kind == V_MAP) b->top = TOP_OBJECT;
    else b->top = TOP_SCALAR;
  } else if (d == 1) {
    if (b->top == TOP_ARRAY) {
      b->top_nonempty = 1;
    } else if (b->member == M_BIF) { /* a new occurrence replaces an earlier one */
      b->bif = kind == V_NULL ? BIF_NULL : kind == V_ARRAY ? BIF_ARRAY : BIF_OTHER;
      b->bif_nonempty = 0;
      b->bif_start = b->bif_end = 0;
      if (kind == V_ARRAY) {
        b->bif_start = bp__json_offset(b->pool) - 1;
        b->in_bif = 1;
      }
    } else if (b->member == M_STATE) {
      b->state = kind == V_MAP;
      b->state_start = b->state_end = 0;
      if (kind == V_MAP) {
        b->state_start = bp__json_offset(b->pool) - 1;
        b->in_state = 1;
      }
    }
  } else if (d == 2 && b->in_bif) {
    b->bif_nonempty = 1;
  }
  if (kind == V_MAP || kind == V_ARRAY) b->depth++;
  return 1;
}

static int b_end(body_ctx *b) {
  if (--b->depth == 1) {
    if (b->in_bif) {
      b->bif_end = bp__json_offset(b->pool);
      b->in_bif = 0;
    } else if (b->in_state) {
      b->state_end = bp__json_offset(b->pool);
      b->in_state = 0;
    }
  }
  return 1;
}

static int b_null(void *ctx) { return b_value(ctx, V_NULL, 0); }
static int b_bool(void *ctx, int v) {
  (void)v;
  return b_value(ctx, V_BOOL, 0);
}
static int b_number(void *ctx, const char *s, size_t n) {
  (void)s;
  return b_value(ctx, V_NUMBER, n);
}
static int b_string(void *ctx, const char *s, size_t n) {
  (void)s;
  return b_value(ctx, V_STRING, n);
}
static int b_start_map(void *ctx) { return b_value(ctx, V_MAP, 0); }
static int b_start_array(void *ctx) { return b_value(ctx, V_ARRAY, 0); }
static int b_end_any(void *ctx) { return b_end(ctx); }

#define KEY_IS(s, n, lit) ((n) == sizeof(lit) - 1 && memcmp((s), (lit), (n)) == 0)

static int b_key(void *ctx, const char *s, size_t n) {
  body_ctx *b = ctx;
  if (b->depth == 1)
    b->member = KEY_IS(s, n, "batchItemFailures") ? M_BIF
                : KEY_IS(s, n, "state")           ? M_STATE
                                                  : M_OTHER;
  return 1;
}

static const bp__json_cb body_cb = {b_null,      b_bool, b_number,  b_string,     b_start_map,
                                    b_key,       b_end_any, b_start_array, b_end_any};

/* ---- Pass 2: the batchItemFailures array ---- */

enum ident { ID_NONE, ID_NOT_STRING, ID_UNKNOWN, ID_FOUND };

typedef struct items_ctx {
  bp_codec *c;
  bp__seq_index *x;  /* the batch */
  int nomem;         /* building the index failed */
  size_t depth;      /* relative to the array: 1 inside it, 2 inside an element */
  size_t element;    /* index of the current element */
  int pending;       /* the next depth-2 value is an itemIdentifier */
  int ident;         /* enum ident of the element's last itemIdentifier */
  size_t found;      /* its batch index when ID_FOUND */
  int reason;        /* BP_REASON_* of the first bad element, 0 while all are fine */
  size_t lowest;     /* lowest batch index reported */
  size_t count;      /* distinct indices reported */
} items_ctx;

/* Batch position of identifier @p s, or 0 (none). The index is built at the first lookup, so
 * a response that names no record never pays for it. */
static int lookup(items_ctx *t, const char *s, size_t len, size_t *index) {
  if (len == 0 || len > BP_MAX_SEQNUM_DIGITS) return 0;
  if (bp__seq_index_build(t->x, &t->c->alloc)) {
    t->nomem = 1;
    return -1;
  }
  return bp__seq_index_find(t->x, s, len, index);
}

static int bad_item(items_ctx *t, int reason, const char *why) {
  t->reason = reason;
  bp__error(&t->c->err, BP_ERR_INVALID_JSON, "batchItemFailures[%zu]: %s", t->element, why);
  return 0; /* stop: the verdict is reached */
}

static int i_value(items_ctx *t, int kind, const char *s, size_t n) {
  if (t->depth == 1) { /* an element */
    if (kind != V_MAP) return bad_item(t, BP_REASON_BAD_ITEM, "not an object");
    t->ident = ID_NONE;
    t->pending = 0;
  } else if (t->depth == 2 && t->pending) {
    t->pending = 0;
    if (kind != V_STRING) {
      t->ident = ID_NOT_STRING;
    } else {
      int found = lookup(t, s, n, &t->found);
      if (found < 0) return 0; /* out of memory: stop */
      t->ident = found ? ID_FOUND : ID_UNKNOWN;
    }
  }
  if (kind == V_MAP || kind == V_ARRAY) t->depth++;
  return 1;
}

static int i_end(void *ctx) {
  items_ctx *t = ctx;
  if (--t->depth != 1) return 1;
  /* An element ends: judge its last itemIdentifier. */
  switch (t->ident) {
  case ID_NONE:
    return bad_item(t, BP_REASON_BAD_ITEM, "no itemIdentifier");
  case ID_NOT_STRING:
    return bad_item(t, BP_REASON_BAD_ITEM, "itemIdentifier is not a string");
  case ID_UNKNOWN:
    return bad_item(t, BP_REASON_UNKNOWN_IDENTIFIER,
                    "itemIdentifier is not a sequence number of this batch");
  default:
    break;
  }
  unsigned char bit = (unsigned char)(1u << (t->found & 7));
  unsigned char *m = &t->c->marks[t->found >> 3];
  if (!(*m & bit)) {
    *m |= bit;
    t->count++;
  }
  if (t->found < t->lowest) t->lowest = t->found;
  t->element++;
  return 1;
}

static int i_null(void *ctx) { return i_value(ctx, V_NULL, NULL, 0); }
static int i_bool(void *ctx, int v) {
  (void)v;
  return i_value(ctx, V_BOOL, NULL, 0);
}
static int i_number(void *ctx, const char *s, size_t n) { return i_value(ctx, V_NUMBER, s, n); }
static int i_string(void *ctx, const char *s, size_t n) { return i_value(ctx, V_STRING, s, n); }
static int i_start_map(void *ctx) { return i_value(ctx, V_MAP, NULL, 0); }
static int i_start_array(void *ctx) { return i_value(ctx, V_ARRAY, NULL, 0); }

static int i_key(void *ctx, const char *s, size_t n) {
  items_ctx *t = ctx;
  if (t->depth == 2) t->pending = KEY_IS(s, n, "itemIdentifier");
  return 1;
}

static const bp__json_cb items_cb = {i_null,  i_bool, i_number,      i_string, i_start_map,
                                     i_key,   i_end,  i_start_array, i_end};

/* ---- Entry point ---- */

/* Every sequence number of the batch (records of @p stride, checked by
 * bp__records_stride()) valid and strictly above the one before. */
static int check_batch(bp_codec *c, const bp_record *batch, size_t n, size_t stride) {
  if (!batch && n) return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT, "batch NULL, n > 0");
  const char *prev = NULL;
  size_t prev_len = 0;
  for (size_t i = 0; i < n; i++) {
    bp_record tmp;
    const bp_record *r = bp__record_get(batch, stride, i, &tmp);
    if (bp_seqnum_validate(r->seq, r->seq_len))
      return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT,
                       "batch[%zu]: invalid sequence number", i);
    if (i && bp__seq_cmp(prev, prev_len, r->seq, r->seq_len) >= 0)
      return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT,
                       "batch[%zu]: sequence number not above the previous one", i);
    prev = r->seq;
    prev_len = r->seq_len;
  }
  return 0;
}

static int only_whitespace(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') return 0;
  return 1;
}

static void set(bp_response_result *r, int outcome, int reason) {
  r->outcome = outcome;
  r->reason = reason;
}

/* One bit per batch record, all clear: which records were reported (failed_count). */
static int resp_marks_reset(bp_codec *c, size_t n) {
  size_t need = n / 8 + 1;
  if (need > c->marks_cap) {
    unsigned char *m = bp__realloc(&c->alloc, c->marks, need);
    if (!m) return bp__error(&c->err, BP_ERR_NOMEM, "out of memory");
    c->marks = m;
    c->marks_cap = need;
  }
  memset(c->marks, 0, need);
  return 0;
}

/* ---- The common shape, in one pass ---- */

static const char *resp_skip_ws(const char *p, const char *e) {
  while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
  return p;
}

/* The token @p lit, then whitespace; else the text is not of the common shape. */
#define EXPECT(lit)                                                                   \
  do {                                                                                \
    if ((size_t)(e - p) < sizeof(lit) - 1 || memcmp(p, lit, sizeof(lit) - 1) != 0)    \
      return 0;                                                                       \
    p = resp_skip_ws(p + sizeof(lit) - 1, e);                                              \
  } while (0)

/* The shape functions return, {"batchItemFailures":[{"itemIdentifier":"<digits>"},...]} with
 * JSON whitespace anywhere between tokens and every identifier a sequence number of the
 * batch, in one pass with no parser. These texts are valid JSON that the general passes
 * classify PARTIAL, so the result is theirs. Any other text (another member, an escape, an
 * unknown identifier, invalid JSON...) returns 0 and the general passes decide, message
 * included. Returns 1 when *r is filled, BP_ERR_NOMEM. */
static int resp_classify_common(bp_codec *c, const char *body, size_t len, bp__seq_index *x,
                           bp_response_result *r) {
  const char *p = resp_skip_ws(body, body + len), *e = body + len;
  size_t lowest = SIZE_MAX, count = 0;
  EXPECT("{");
  EXPECT("\"batchItemFailures\"");
  EXPECT(":");
  EXPECT("[");
  int rc = resp_marks_reset(c, x->n);
  if (rc) return rc;
  for (;;) {
    EXPECT("{");
    EXPECT("\"itemIdentifier\"");
    EXPECT(":");
    if (p == e || *p != '"') return 0;
    const char *id = ++p;
    p = bp__digits_end(p, e);
    size_t id_len = (size_t)(p - id), at;
    EXPECT("\"");
    EXPECT("}");
    if (id_len == 0 || id_len > BP_MAX_SEQNUM_DIGITS) return 0;
    if (bp__seq_index_build(x, &c->alloc))
      return bp__error(&c->err, BP_ERR_NOMEM, "out of memory");
    if (!bp__seq_index_find(x, id, id_len, &at)) return 0;
    unsigned char bit = (unsigned char)(1u << (at & 7));
    if (!(c->marks[at >> 3] & bit)) {
      c->marks[at >> 3] |= bit;
      count++;
    }
    if (at < lowest) lowest = at;
    if (p < e && *p == ',') {
      p = resp_skip_ws(p + 1, e);
      continue;
    }
    EXPECT("]");
    break;
  }
  EXPECT("}");
  if (p != e) return 0;
  set(r, BP_ATTEMPT_PARTIAL, BP_REASON_NONE);
  r->failed_index = lowest;
  r->failed_count = count;
  return 1;
}

#undef EXPECT

/* Rules 7 and 8 over body[b->bif_start, b->bif_end). */
static int classify_items(bp_codec *c, const char *body, const body_ctx *b, bp__seq_index *x,
                          bp_response_result *r) {
  int rc = resp_marks_reset(c, x->n);
  if (rc) return rc;
  items_ctx t;
  memset(&t, 0, sizeof t);
  t.c = c;
  t.x = x;
  t.lowest = SIZE_MAX;
  rc = bp__json_parse(&c->json, body + b->bif_start, b->bif_end - b->bif_start, &items_cb, &t,
                      NULL);
  if (rc == BP_ERR_NOMEM || t.nomem) return bp__error(&c->err, BP_ERR_NOMEM, "out of memory");
  if (t.reason) {
    set(r, BP_ATTEMPT_RETURNED_FAILED, t.reason);
    return 0;
  }
  if (rc) /* cannot happen: the bytes were validated by the first pass */
    return bp__error(&c->err, BP_ERR_INTERNAL, "batchItemFailures re-parse failed");
  set(r, BP_ATTEMPT_PARTIAL, BP_REASON_NONE);
  r->failed_index = t.lowest;
  r->failed_count = t.count;
  return 0;
}

/* The rules over the batch that @p x indexes; body and flags already checked. */
static int resp_classify(bp_codec *c, const char *body, size_t len, bp__seq_index *x,
                         uint32_t flags, bp_response_result *r) {
  const int rbif = (flags & BP_CLASSIFY_REPORT_BATCH_ITEM_FAILURES) != 0;
  const int need_state = (flags & BP_CLASSIFY_REQUIRE_STATE) != 0;
  if (!rbif && !need_state) { /* the body is not read at all */
    set(r, BP_ATTEMPT_SUCCESS, BP_REASON_NOT_REPORTING);
    return 0;
  }
  int rc;
  if (rbif && !need_state && body) { /* the common shape: one pass, done */
    rc = resp_classify_common(c, body, len, x, r);
    if (rc) return rc < 0 ? rc : 0;
  }

  /* Pass 1. */
  int valid = 0, empty = 0;
  body_ctx b;
  memset(&b, 0, sizeof b);
  b.pool = &c->json;
  if (!body || only_whitespace(body, len)) {
    empty = 1;
  } else { /* bp__json_parse is strict where yajl is not (UTF-8, VT/FF, trailing data) */
    rc = bp__json_parse(&c->json, body, len, &body_cb, &b, &c->err);
    if (rc == BP_ERR_NOMEM) return rc;
    valid = rc == 0;
  }
  if (valid && b.top == TOP_OBJECT && b.state) {
    r->has_state = 1;
    r->state_offset = b.state_start;
    r->state_len = b.state_end - b.state_start;
  }

  if (!rbif) {
    set(r, BP_ATTEMPT_SUCCESS, BP_REASON_NOT_REPORTING);
  } else if (empty) {                                  /* rule 1 */
    set(r, BP_ATTEMPT_SUCCESS, BP_REASON_EMPTY);
  } else if (!valid) {                                 /* rule 2 (message already set) */
    set(r, BP_ATTEMPT_RETURNED_FAILED, BP_REASON_INVALID_JSON);
  } else if (b.top == TOP_NULL || b.top == TOP_EMPTY_STRING ||
             (b.top == TOP_ARRAY && !b.top_nonempty)) { /* rule 3 */
    set(r, BP_ATTEMPT_SUCCESS, BP_REASON_NONE);
  } else if (b.top != TOP_OBJECT) {                    /* rule 4 */
    set(r, BP_ATTEMPT_RETURNED_FAILED, BP_REASON_NOT_OBJECT);
    bp__error(&c->err, BP_ERR_INVALID_JSON, "response is not a JSON object");
  } else if (b.bif == BIF_ABSENT || b.bif == BIF_NULL ||
             (b.bif == BIF_ARRAY && !b.bif_nonempty)) { /* rule 5 */
    set(r, BP_ATTEMPT_SUCCESS, BP_REASON_NONE);
  } else if (b.bif != BIF_ARRAY) {                     /* rule 6 */
    set(r, BP_ATTEMPT_RETURNED_FAILED, BP_REASON_FAILURES_NOT_LIST);
    bp__error(&c->err, BP_ERR_INVALID_JSON, "batchItemFailures is not an array");
  } else if ((rc = classify_items(c, body, &b, x, r))) { /* rules 7, 8 */
    memset(r, 0, sizeof *r); /* no classification was made */
    return rc;
  }

  if (need_state && r->outcome != BP_ATTEMPT_RETURNED_FAILED && !r->has_state) { /* §6 */
    set(r, BP_ATTEMPT_RETURNED_FAILED, BP_REASON_STATE_MISSING);
    r->failed_index = r->failed_count = 0;
    bp__error(&c->err, BP_ERR_INVALID_JSON, "response has no `state` object");
  }
  if (r->outcome != BP_ATTEMPT_RETURNED_FAILED) bp__errmsg_clear(&c->err);
  return 0;
}

/* Checks every entry point makes first: the body's span and the flags. */
static int resp_check_call(bp_codec *c, const char *body, size_t len, uint32_t flags) {
  if (!body && len) return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT, "body NULL, len > 0");
  if (body && !bp__span_ok(body, len)) /* checked even when the body is not read */
    return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT,
                     "body length %zu is larger than any object", len);
  if (flags & ~(uint32_t)(BP_CLASSIFY_REPORT_BATCH_ITEM_FAILURES | BP_CLASSIFY_REQUIRE_STATE))
    return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT, "unknown flags 0x%x", (unsigned)flags);
  return 0;
}

/* Classify against @p batch (records of @p stride), validated unless @p trusted. */
static int resp_classify_batch(bp_codec *c, const char *body, size_t len, const bp_record *batch,
                          size_t n, size_t stride, int trusted, uint32_t flags,
                          bp_response_result *r) {
  memset(r, 0, sizeof *r);
  bp__errmsg_clear(&c->err);
  int rc = resp_check_call(c, body, len, flags);
  if (!rc && !trusted) rc = check_batch(c, batch, n, stride);
  if (rc) return rc;
  bp__seq_index_set(&c->scratch_index, batch, stride, n);
  return resp_classify(c, body, len, &c->scratch_index, flags, r);
}

#define RESPONSE_RESULT_SIZE_V1 BP__SIZE_V1(bp_response_result, reserved)

int bp_response_result_init(bp_response_result *r, size_t size) {
  int rc = bp__struct_init(r, size, RESPONSE_RESULT_SIZE_V1);
  if (rc) return rc;
  return 0;
}

/* The host's result: checked first, written last (as far as its struct_size allows). */
static int resp_result_check(bp_codec *c, bp_response_result *out) {
  bp__errmsg_clear(&c->err);
  if (!out) return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT, "result is NULL");
  return bp__struct_check(out, RESPONSE_RESULT_SIZE_V1, "bp_response_result", c->err.text,
                          sizeof c->err.text);
}

static void resp_result_out(bp_response_result *out, bp_response_result *r) {
  r->struct_size = sizeof *r;
  bp__struct_out(out, r, sizeof *r, RESPONSE_RESULT_SIZE_V1, "bp_response_result", NULL, 0);
}

int bp_codec_classify_response(bp_codec *c, const char *body, size_t len,
                               const bp_record *batch, size_t n, uint32_t flags,
                               bp_response_result *out) {
  if (!c) return BP_ERR_INVALID_ARGUMENT;
  int rc = resp_result_check(c, out);
  if (rc) return rc;
  bp_response_result r;
  size_t stride = sizeof *batch;
  memset(&r, 0, sizeof r);
  if (batch && n) rc = bp__records_stride(batch, n, &stride, c->err.text, sizeof c->err.text);
  if (!rc) rc = resp_classify_batch(c, body, len, batch, n, stride, 0, flags, &r);
  resp_result_out(out, &r);
  return rc;
}

int bp__codec_classify(bp_codec *c, const char *body, size_t len, const bp_record *batch,
                       size_t n, uint32_t flags, bp_response_result *r) {
  return resp_classify_batch(c, body, len, batch, n, sizeof *batch, 1, flags, r);
}

int bp_codec_index_batch(bp_codec *c, const bp_record *batch, size_t n, uint32_t flags) {
  if (!c) return BP_ERR_INVALID_ARGUMENT;
  bp__errmsg_clear(&c->err);
  bp__seq_index_set(&c->host_index, NULL, sizeof *batch, 0); /* no index until this succeeds */
  if (flags & ~(uint32_t)BP_INDEX_TRUSTED)
    return bp__error(&c->err, BP_ERR_INVALID_ARGUMENT, "unknown flags 0x%x", (unsigned)flags);
  size_t stride = sizeof *batch;
  int rc = 0;
  if (batch && n) rc = bp__records_stride(batch, n, &stride, c->err.text, sizeof c->err.text);
  if (!rc && !batch && n) rc = bp__error(&c->err, BP_ERR_INVALID_ARGUMENT, "batch NULL, n > 0");
  if (!rc && !(flags & BP_INDEX_TRUSTED)) rc = check_batch(c, batch, n, stride);
  if (rc) return rc;
  bp__seq_index_set(&c->host_index, batch, stride, n);
  if (bp__seq_index_build(&c->host_index, &c->alloc)) {
    bp__seq_index_set(&c->host_index, NULL, sizeof *batch, 0);
    return bp__error(&c->err, BP_ERR_NOMEM, "out of memory indexing %zu records", n);
  }
  return 0;
}

int bp_codec_classify_indexed(bp_codec *c, const char *body, size_t len, uint32_t flags,
                              bp_response_result *out) {
  if (!c) return BP_ERR_INVALID_ARGUMENT;
  int rc = resp_result_check(c, out);
  if (rc) return rc;
  bp_response_result r;
  memset(&r, 0, sizeof r);
  if (!c->host_index.ready)
    rc = bp__error(&c->err, BP_ERR_INVALID_ARGUMENT,
                   "no batch is indexed: bp_codec_index_batch() first");
  else rc = resp_check_call(c, body, len, flags);
  if (!rc) rc = resp_classify(c, body, len, &c->host_index, flags, &r);
  resp_result_out(out, &r);
  return rc;
}
