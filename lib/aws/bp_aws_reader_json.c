/* SPDX-License-Identifier: MIT */
/* Parsing pieces both stream readers share: see bp_aws_reader_json.h. */
#include "bp_aws_reader_json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#define TIME_MAX_MS 253402300799999LL /* BP_TIME_MAX_MS of bp_time.h */

void bp__aws_json_errf(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  if (err == NULL || errlen == 0) return;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* ---- record pages ---- */

void bp__aws_recpage_reset(bp__aws_recpage *p) {
  p->n = 0;
  p->arena_len = 0;
  memset(&p->next_iterator_span, 0, sizeof p->next_iterator_span);
  p->next_iterator = NULL;
  p->millis_behind = -1;
}

void bp__aws_recpage_free(bp__aws_recpage *p) {
  free(p->recs);
  free(p->spans);
  free(p->arena);
  memset(p, 0, sizeof *p);
  p->millis_behind = -1;
}

long bp__aws_recpage_add(bp__aws_recpage *p) {
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 64;
    bp_record *r;
    bp__aws_recspans *s;
    if (cap > ((size_t)-1) / sizeof(bp_record) || cap > ((size_t)-1) / sizeof(bp__aws_recspans))
      return -1;
    r = realloc(p->recs, cap * sizeof *r);
    if (r == NULL) return -1;
    p->recs = r;
    s = realloc(p->spans, cap * sizeof *s);
    if (s == NULL) return -1;
    p->spans = s;
    p->cap = cap;
  }
  memset(&p->spans[p->n], 0, sizeof p->spans[p->n]);
  return (long)p->n++;
}

int bp__aws_recpage_copy(bp__aws_recpage *p, const void *s, size_t n, bp__aws_span *sp) {
  if (n >= ((size_t)-1) / 2 - p->arena_len) return BP_ERR_NOMEM;
  if (p->arena_len + n + 1 > p->arena_cap) {
    size_t cap = p->arena_cap ? p->arena_cap : 4096;
    char *a;
    while (cap < p->arena_len + n + 1) cap *= 2;
    a = realloc(p->arena, cap);
    if (a == NULL) return BP_ERR_NOMEM;
    p->arena = a;
    p->arena_cap = cap;
  }
  if (n > 0) memcpy(p->arena + p->arena_len, s, n);
  p->arena[p->arena_len + n] = '\0';
  sp->off = p->arena_len;
  sp->len = n;
  sp->set = 1;
  p->arena_len += n + 1;
  return 0;
}

static const char *view(const bp__aws_recpage *p, const bp__aws_span *sp, size_t *len) {
  *len = sp->set ? sp->len : 0;
  return sp->set ? p->arena + sp->off : NULL;
}

void bp__aws_recpage_finish(bp__aws_recpage *p) {
  size_t i;
  for (i = 0; i < p->n; i++) {
    const bp__aws_recspans *s = &p->spans[i];
    bp_record *r = &p->recs[i];
    memset(r, 0, sizeof *r);
    r->struct_size = (uint32_t)sizeof *r;
    r->seq = view(p, &s->seq, &r->seq_len);
    r->arrival_ms = s->arrival_ms;
    r->partition_key = view(p, &s->partition_key, &r->partition_key_len);
    r->data = (const uint8_t *)view(p, &s->data, &r->data_len);
    if (r->data != NULL) r->flags = BP_RECORD_DATA_BASE64;
    r->encryption_type = view(p, &s->encryption_type, &r->encryption_type_len);
    r->event_id = view(p, &s->event_id, &r->event_id_len);
    r->event_name = view(p, &s->event_name, &r->event_name_len);
    r->dynamodb_json = view(p, &s->dynamodb, &r->dynamodb_json_len);
    r->user_identity_json = view(p, &s->user_identity, &r->user_identity_json_len);
  }
  p->next_iterator = p->next_iterator_span.set ? p->arena + p->next_iterator_span.off : NULL;
}

/* ---- shard lists ---- */

static char *dup_or_null(const char *s) {
  char *d;
  size_t n;
  if (s == NULL) return NULL;
  n = strlen(s);
  d = malloc(n + 1);
  if (d != NULL) memcpy(d, s, n + 1);
  return d;
}

int bp__aws_shardlist_add(bp__aws_shardlist *l, const char *id, const char *parent,
                          const char *adjacent, int closed) {
  bp__aws_shard_info *si;
  char *a, *b, *c;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    bp__aws_shard_info *v = realloc(l->v, cap * sizeof *v);
    if (v == NULL) return BP_ERR_NOMEM;
    l->v = v;
    l->cap = cap;
  }
  a = dup_or_null(id);
  b = dup_or_null(parent);
  c = dup_or_null(adjacent);
  if (a == NULL || (parent != NULL && b == NULL) || (adjacent != NULL && c == NULL)) {
    free(a);
    free(b);
    free(c);
    return BP_ERR_NOMEM;
  }
  si = &l->v[l->n++];
  si->shard_id = a;
  si->parent_id = b;
  si->adjacent_parent_id = c;
  si->closed = closed;
  return 0;
}

void bp__aws_shardlist_clear(bp__aws_shardlist *l) {
  size_t i;
  for (i = 0; i < l->n; i++) {
    free((char *)l->v[i].shard_id);
    free((char *)l->v[i].parent_id);
    free((char *)l->v[i].adjacent_parent_id);
  }
  free(l->v);
  memset(l, 0, sizeof *l);
}

/* ---- numbers ---- */

int bp__aws_seconds_to_ms(const char *s, size_t n, int64_t *ms) {
  uint64_t mant = 0;
  long exp10 = 3; /* seconds -> ms */
  size_t i = 0, sig = 0;
  int any = 0;
  if (n > 0 && s[0] == '-') return BP_ERR_INVALID_JSON; /* an arrival time before 1970 */
  for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, any = 1) {
    if (mant == 0 && s[i] == '0') continue;
    if (sig < 19) {
      mant = mant * 10 + (uint64_t)(s[i] - '0');
      sig++;
    } else {
      exp10++; /* a digit past the 19 kept: only its place counts */
    }
  }
  if (i < n && s[i] == '.') {
    for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, any = 1) {
      if (mant == 0 && s[i] == '0') {
        exp10--;
        continue;
      }
      if (sig < 19) {
        mant = mant * 10 + (uint64_t)(s[i] - '0');
        sig++;
        exp10--;
      }
    }
  }
  if (!any) return BP_ERR_INVALID_JSON;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    int neg = 0, edig = 0;
    long e = 0;
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, edig = 1)
      if (e < 100000) e = e * 10 + (s[i] - '0');
    if (!edig) return BP_ERR_INVALID_JSON;
    exp10 += neg ? -e : e;
  }
  if (i != n) return BP_ERR_INVALID_JSON;
  if (mant == 0) {
    *ms = 0;
    return 0;
  }
  if (exp10 >= 0) {
    for (; exp10 > 0; exp10--) {
      if (mant > (uint64_t)TIME_MAX_MS / 10 + 1) return BP_ERR_RANGE;
      mant *= 10;
    }
  } else if (exp10 < -19) {
    mant = 0; /* below half a millisecond */
  } else {
    uint64_t div = 1;
    for (; exp10 < 0; exp10++) div *= 10;
    mant = mant / div + ((mant % div) >= (div - div / 2) ? 1 : 0);
  }
  if (mant > (uint64_t)TIME_MAX_MS) return BP_ERR_RANGE;
  *ms = (int64_t)mant;
  return 0;
}

/* ---- small responses (yajl trees) ---- */

yajl_val bp__aws_json_tree(const char *body, size_t len, const char *what, char *err,
                           size_t errlen) {
  char ebuf[128];
  yajl_val root;
  if (strlen(body) != len) {
    bp__aws_json_errf(err, errlen, "%s: a NUL byte in the response", what);
    return NULL;
  }
  ebuf[0] = '\0';
  root = yajl_tree_parse(body, ebuf, sizeof ebuf);
  if (root == NULL) {
    bp__aws_json_errf(err, errlen, "%s: malformed JSON: %s", what, ebuf);
    return NULL;
  }
  if (!YAJL_IS_OBJECT(root)) {
    yajl_tree_free(root);
    bp__aws_json_errf(err, errlen, "%s: the response is not a JSON object", what);
    return NULL;
  }
  return root;
}

const char *bp__aws_json_opt_string(yajl_val obj, const char *key, int *bad) {
  const char *path[2];
  yajl_val v;
  path[0] = key;
  path[1] = NULL;
  v = YAJL_IS_OBJECT(obj) ? yajl_tree_get(obj, path, yajl_t_any) : NULL;
  if (v == NULL || YAJL_IS_NULL(v)) return NULL;
  if (!YAJL_IS_STRING(v)) {
    *bad = 1;
    return NULL;
  }
  return YAJL_GET_STRING(v);
}

int bp__aws_json_dup_opt_string(yajl_val obj, const char *key, char **out, const char *what,
                                char *err, size_t errlen) {
  int bad = 0;
  const char *v = bp__aws_json_opt_string(obj, key, &bad);
  size_t n;
  *out = NULL;
  if (bad) {
    bp__aws_json_errf(err, errlen, "%s: %s is not a string", what, key);
    return BP_ERR_INVALID_JSON;
  }
  if (v == NULL || v[0] == '\0') return 0;
  n = strlen(v);
  *out = malloc(n + 1);
  if (*out == NULL) return BP_ERR_NOMEM;
  memcpy(*out, v, n + 1);
  return 0;
}

int bp__aws_json_key_index(const char *s, size_t n, const char *const *names) {
  int i;
  for (i = 0; names[i] != NULL; i++)
    if (strlen(names[i]) == n && memcmp(s, names[i], n) == 0) return i + 1;
  return 0;
}

int bp__aws_parse_shard_array(yajl_val shards, bp__aws_shardlist *acc, const char *what,
                              char *err, size_t errlen) {
  size_t i;
  if (!YAJL_IS_ARRAY(shards)) {
    bp__aws_json_errf(err, errlen, "%s: Shards is not an array", what);
    return BP_ERR_INVALID_JSON;
  }
  for (i = 0; i < shards->u.array.len; i++) {
    yajl_val s = shards->u.array.values[i], range;
    const char *path[] = {"SequenceNumberRange", NULL};
    const char *id, *parent, *adjacent, *end = NULL;
    int bad = 0, rc;
    if (!YAJL_IS_OBJECT(s)) {
      bp__aws_json_errf(err, errlen, "%s: shard %zu is not an object", what, i);
      return BP_ERR_INVALID_JSON;
    }
    id = bp__aws_json_opt_string(s, "ShardId", &bad);
    parent = bp__aws_json_opt_string(s, "ParentShardId", &bad);
    adjacent = bp__aws_json_opt_string(s, "AdjacentParentShardId", &bad);
    range = yajl_tree_get(s, path, yajl_t_any);
    if (range != NULL && !YAJL_IS_NULL(range)) {
      if (YAJL_IS_OBJECT(range))
        end = bp__aws_json_opt_string(range, "EndingSequenceNumber", &bad);
      else
        bad = 1;
    }
    if (bad || id == NULL || id[0] == '\0') {
      bp__aws_json_errf(err, errlen, "%s: shard %zu: no ShardId string, or a member of the wrong type",
                        what, i);
      return BP_ERR_INVALID_JSON;
    }
    rc = bp__aws_shardlist_add(acc, id, parent, adjacent, end != NULL);
    if (rc != 0) return rc;
  }
  return 0;
}

int bp__aws_parse_shard_iterator(const char *body, size_t len, char **out, char *err,
                                 size_t errlen) {
  yajl_val root = bp__aws_json_tree(body, len, "GetShardIterator", err, errlen);
  const char *it;
  int bad = 0;
  size_t n;
  *out = NULL;
  if (root == NULL) return BP_ERR_INVALID_JSON;
  it = bp__aws_json_opt_string(root, "ShardIterator", &bad);
  if (it == NULL || it[0] == '\0') {
    yajl_tree_free(root);
    bp__aws_json_errf(err, errlen, "GetShardIterator: no ShardIterator string in the response");
    return BP_ERR_INVALID_JSON;
  }
  n = strlen(it);
  *out = malloc(n + 1);
  if (*out != NULL) memcpy(*out, it, n + 1);
  yajl_tree_free(root);
  return *out != NULL ? 0 : BP_ERR_NOMEM;
}

/* ---- the callback parser ---- */

typedef struct walker {
  yajl_handle h;
  bp__aws_json_on on;
  void *ctx;
  int stopped;
} walker;

static int emit(void *w_, int ev, const char *s, size_t n) {
  walker *w = w_;
  if (w->on(w->ctx, ev, s, n, (size_t)yajl_get_bytes_consumed(w->h))) return 1;
  w->stopped = 1;
  return 0;
}

static int cb_null(void *w) { return emit(w, BP__AWS_JSON_NULL, NULL, 0); }
static int cb_bool(void *w, int b) { return emit(w, BP__AWS_JSON_BOOL, b ? "true" : "false", b ? 4 : 5); }
static int cb_number(void *w, const char *s, size_t n) { return emit(w, BP__AWS_JSON_NUMBER, s, n); }
static int cb_string(void *w, const unsigned char *s, size_t n) {
  return emit(w, BP__AWS_JSON_STRING, (const char *)s, n);
}
static int cb_key(void *w, const unsigned char *s, size_t n) {
  return emit(w, BP__AWS_JSON_KEY, (const char *)s, n);
}
static int cb_start_map(void *w) { return emit(w, BP__AWS_JSON_MAP_START, NULL, 0); }
static int cb_end_map(void *w) { return emit(w, BP__AWS_JSON_MAP_END, NULL, 0); }
static int cb_start_array(void *w) { return emit(w, BP__AWS_JSON_ARRAY_START, NULL, 0); }
static int cb_end_array(void *w) { return emit(w, BP__AWS_JSON_ARRAY_END, NULL, 0); }

static const yajl_callbacks walk_callbacks = {
    cb_null, cb_bool, NULL, NULL, cb_number, cb_string, cb_start_map,
    cb_key,  cb_end_map, cb_start_array, cb_end_array};

int bp__aws_json_walk(const char *body, size_t len, bp__aws_json_on on, void *ctx,
                      const char *what, char *err, size_t errlen) {
  walker w;
  yajl_status st;
  w.on = on;
  w.ctx = ctx;
  w.stopped = 0;
  w.h = yajl_alloc(&walk_callbacks, NULL, &w);
  if (w.h == NULL) return BP_ERR_NOMEM;
  /* The whole body in one call: yajl_get_bytes_consumed() is then an offset into it. */
  st = yajl_parse(w.h, (const unsigned char *)body, len);
  if (st == yajl_status_ok) st = yajl_complete_parse(w.h);
  if (st != yajl_status_ok) {
    if (!w.stopped) {
      unsigned char *m = yajl_get_error(w.h, 0, (const unsigned char *)body, len);
      bp__aws_json_errf(err, errlen, "%s: malformed JSON: %s", what,
                        m != NULL ? (const char *)m : "?");
      if (m != NULL) yajl_free_error(w.h, m);
    }
    yajl_free(w.h);
    return BP_ERR_INVALID_JSON;
  }
  yajl_free(w.h);
  return 0;
}

/* ---- the GetRecords walk ---- */

enum { TOP_OTHER, TOP_RECORDS, TOP_NEXT, TOP_MILLIS };

int bp__aws_records_fail(bp__aws_records_walk *w, int rc, const char *msg) {
  w->rc = rc;
  bp__aws_json_errf(w->err, w->errlen, "GetRecords: %s", msg);
  return 0;
}

int bp__aws_records_copy(bp__aws_records_walk *w, const char *s, size_t n, bp__aws_span *sp) {
  if (bp__aws_recpage_copy(w->p, s, n, sp) != 0)
    return bp__aws_records_fail(w, BP_ERR_NOMEM, "out of memory");
  return 1;
}

/* A non-negative integer of at most 18 digits (MillisBehindLatest). */
static int parse_millis(const char *s, size_t n, int64_t *out) {
  int64_t v = 0;
  size_t i;
  if (n == 0 || n > 18) return -1;
  for (i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

static int top_key(const bp__aws_records_walk *w, const char *s, size_t n) {
  static const char *const names[] = {"Records", "NextShardIterator", "MillisBehindLatest", NULL};
  int k = bp__aws_json_key_index(s, n, names);
  return k == TOP_MILLIS && !w->d->millis_behind ? TOP_OTHER : k;
}

static int top_value(bp__aws_records_walk *w, int ev, const char *s, size_t n) {
  switch (w->top_key) {
  case TOP_RECORDS:
    if (ev != BP__AWS_JSON_ARRAY_START)
      return bp__aws_records_fail(w, BP_ERR_INVALID_JSON, "Records is not an array");
    w->in_records = 1;
    w->saw_records = 1;
    return 1;
  case TOP_NEXT:
    if (ev == BP__AWS_JSON_NULL) {
      w->p->next_iterator_span.set = 0;
      return 1;
    }
    if (ev != BP__AWS_JSON_STRING || n == 0)
      return bp__aws_records_fail(w, BP_ERR_INVALID_JSON, "NextShardIterator is not a string");
    return bp__aws_records_copy(w, s, n, &w->p->next_iterator_span);
  case TOP_MILLIS:
    if (ev != BP__AWS_JSON_NUMBER || parse_millis(s, n, &w->p->millis_behind) != 0)
      return bp__aws_records_fail(w, BP_ERR_INVALID_JSON,
                                  "MillisBehindLatest is not a non-negative integer");
    return 1;
  default:
    return 1;
  }
}

static int on_close(bp__aws_records_walk *w, int ev, size_t pos) {
  w->depth--;
  if (!w->in_records) return 1;
  if (w->depth == 1) {
    w->in_records = 0;
    return 1;
  }
  if (w->depth == 2) return ev == BP__AWS_JSON_MAP_END ? w->d->record_end(w) : 1;
  return w->d->in_record(w, ev, NULL, 0, pos, w->depth);
}

static int on_records_event(void *ctx, int ev, const char *s, size_t n, size_t pos) {
  bp__aws_records_walk *w = ctx;
  int d = w->depth;
  if (ev == BP__AWS_JSON_KEY) {
    if (d == 1) w->top_key = top_key(w, s, n);
    return d >= 3 && w->in_records ? w->d->in_record(w, ev, s, n, pos, d) : 1;
  }
  if (ev == BP__AWS_JSON_MAP_END || ev == BP__AWS_JSON_ARRAY_END) return on_close(w, ev, pos);
  /* a value at depth d: a scalar, or a container that opens */
  if (ev == BP__AWS_JSON_MAP_START || ev == BP__AWS_JSON_ARRAY_START) w->depth++;
  if (d == 0) {
    if (ev != BP__AWS_JSON_MAP_START)
      return bp__aws_records_fail(w, BP_ERR_INVALID_JSON, "the response is not an object");
    return 1;
  }
  if (d == 1) return top_value(w, ev, s, n);
  if (!w->in_records) return 1;
  if (d == 2) {
    if (ev != BP__AWS_JSON_MAP_START)
      return bp__aws_records_fail(w, BP_ERR_INVALID_JSON, "a record is not an object");
    w->cur = bp__aws_recpage_add(w->p);
    if (w->cur < 0) return bp__aws_records_fail(w, BP_ERR_NOMEM, "out of memory");
    return 1;
  }
  return w->d->in_record(w, ev, s, n, pos, d);
}

int bp__aws_parse_records(bp__aws_recpage *p, const char *body, size_t len,
                          const bp__aws_records_dialect *d, void *ctx, char *err,
                          size_t errlen) {
  bp__aws_records_walk w;
  int rc;
  memset(&w, 0, sizeof w);
  w.p = p;
  w.body = body;
  w.d = d;
  w.ctx = ctx;
  w.err = err;
  w.errlen = errlen;
  bp__aws_recpage_reset(p);
  rc = bp__aws_json_walk(body, len, on_records_event, &w, "GetRecords", err, errlen);
  if (rc != 0) {
    bp__aws_recpage_reset(p);
    return w.rc != 0 ? w.rc : rc;
  }
  if (!w.saw_records) {
    bp__aws_recpage_reset(p);
    bp__aws_json_errf(err, errlen, "GetRecords: no Records array in the response");
    return BP_ERR_INVALID_JSON;
  }
  bp__aws_recpage_finish(p);
  return 0;
}
