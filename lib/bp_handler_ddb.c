/* SPDX-License-Identifier: MIT */
/*
 * The typed DynamoDB attribute reader of the function side: look an attribute up in an
 * image, Keys or M value, iterate maps, lists and sets, read S / N / B / BOOL / NULL. It scans
 * the JSON text each time (images are small) with the processor's strict scanner; unescaped
 * strings and decoded binaries go to blocks that do not move until the next record.
 */
#include <string.h>

#include "bp_handler_int.h"
#include "batchpoint/bp_codec.h"

#define KEY(s, k, lit) bp__hs_eq((s), (k), lit, sizeof lit - 1)

int bp_ddb_attr_init(bp_ddb_attr *a, size_t size) {
  return bp__struct_init(a, size, BP__SIZE_V1(bp_ddb_attr, reserved));
}

/* ---- Value blocks ---- */

char *bp__hpool_alloc(bp__hpool *pool, const bp_allocator *a, size_t n) {
  n = n ? n : 1;
  for (; pool->cur < pool->n; pool->cur++) {
    bp__hblock *b = &pool->b[pool->cur];
    if (b->cap - b->used >= n) {
      char *p = b->p + b->used;
      b->used += n;
      return p;
    }
  }
  if (pool->n == pool->cap) {
    size_t cap = pool->cap ? pool->cap * 2 : 8;
    bp__hblock *nb = bp__realloc(a, pool->b, cap * sizeof *nb);
    if (!nb) return NULL;
    pool->b = nb;
    pool->cap = cap;
  }
  size_t size = pool->n ? pool->b[pool->n - 1].cap * 2 : 4096;
  if (size < n) size = n;
  char *p = bp__malloc(a, size);
  if (!p) return NULL;
  pool->b[pool->n++] = (bp__hblock){p, size, n};
  pool->cur = pool->n - 1;
  return p;
}

void bp__hpool_reset(bp__hpool *pool) {
  for (size_t i = 0; i < pool->n; i++) pool->b[i].used = 0;
  pool->cur = 0;
}

void bp__hpool_free(bp__hpool *pool, const bp_allocator *a) {
  for (size_t i = 0; i < pool->n; i++) bp__free(a, pool->b[i].p);
  bp__free(a, pool->b);
  memset(pool, 0, sizeof *pool);
}

/* ---- Reading ---- */

static int jerr(bp_handler *h, const bp__hscan *s, int rc, const char *what) {
  if (rc == BP_ERR_NOMEM) return bp__error(&h->err, rc, "out of memory");
  size_t off = (size_t)(s->p - s->base);
  bp__errmsg *e = &h->err;
  int r = bp__error(e, rc, "%s at byte %zu: %s", what, off, *s->why ? s->why : "invalid");
  e->offset = off;
  return r;
}

/* A string of @p s, copied to the value blocks when it was unescaped (the scanner's buffer is
 * reused by the next string). */
static int lend_string(bp_handler *h, const bp__hscan *s, bp__hstr str, const char **p,
                       size_t *n) {
  *n = str.len & ~BP__HS_UNESC;
  if (!(str.len & BP__HS_UNESC)) {
    *p = s->base + str.off;
    return 0;
  }
  char *q = bp__hpool_alloc(&h->values, &h->alloc, *n);
  if (!q) return bp__error(&h->err, BP_ERR_NOMEM, "out of memory");
  memcpy(q, s->unesc->data + str.off, *n);
  *p = q;
  return 0;
}

static int decode_b64(bp_handler *h, const bp__hscan *s, bp__hstr str, bp_ddb_attr *a) {
  size_t n = str.len & ~BP__HS_UNESC, w;
  char *q = bp__hpool_alloc(&h->values, &h->alloc, n / 4 * 3 + 1);
  if (!q) return bp__error(&h->err, BP_ERR_NOMEM, "out of memory");
  if (bp_base64_decode(bp__hs_ptr(s, str), n, (uint8_t *)q, n / 4 * 3 + 1, &w))
    return bp__error(&h->err, BP_ERR_INVALID_BASE64, "a B value is not valid base64");
  a->value = q;
  a->value_len = w;
  return 0;
}

/* One string element of a set (or the scalar of S / N / B), typed @p type. */
static int string_value(bp_handler *h, bp__hscan *s, int32_t type, bp_ddb_attr *a) {
  bp__hstr str;
  h->scratch.len = 0;
  int rc = bp__hs_string(s, &str);
  if (rc) return jerr(h, s, rc, "DynamoDB value");
  a->type = type;
  if (type == BP_DDB_B) return decode_b64(h, s, str, a);
  return lend_string(h, s, str, &a->value, &a->value_len);
}

static int array_of_strings(bp_handler *h, bp__hscan *s) {
  if (bp__hs_peek(s) != '[') return jerr(h, s, BP_ERR_INVALID_JSON, "a set is not an array");
  s->p++;
  int more;
  for (int first = 1; (more = bp__hs_element(s, first)) == 1; first = 0) {
    h->scratch.len = 0;
    int rc = bp__hs_string(s, NULL);
    if (rc) return jerr(h, s, rc, "set element");
  }
  return more < 0 ? jerr(h, s, more, "set") : 0;
}

/* A typed value `{"T": v}` at the scanner (whitespace allowed), into @p a. */
static int typed_value(bp_handler *h, bp__hscan *s, bp_ddb_attr *a) {
  bp__hs_peek(s);
  const char *start = s->p;
  if (bp__hs_expect(s, '{'))
    return jerr(h, s, BP_ERR_INVALID_JSON, "not a typed DynamoDB value");
  bp__hstr k;
  h->scratch.len = 0;
  int rc = bp__hs_member(s, 1, &k);
  if (rc != 1) return jerr(h, s, rc ? rc : BP_ERR_INVALID_JSON, "not a typed DynamoDB value");
  int32_t type = KEY(s, k, "S")      ? BP_DDB_S
                 : KEY(s, k, "N")    ? BP_DDB_N
                 : KEY(s, k, "B")    ? BP_DDB_B
                 : KEY(s, k, "BOOL") ? BP_DDB_BOOL
                 : KEY(s, k, "NULL") ? BP_DDB_NULL
                 : KEY(s, k, "M")    ? BP_DDB_M
                 : KEY(s, k, "L")    ? BP_DDB_L
                 : KEY(s, k, "SS")   ? BP_DDB_SS
                 : KEY(s, k, "NS")   ? BP_DDB_NS
                 : KEY(s, k, "BS")   ? BP_DDB_BS
                                     : BP_DDB_NONE;
  if (type == BP_DDB_NONE) return jerr(h, s, BP_ERR_INVALID_JSON, "unknown DynamoDB type");
  memset((char *)a + sizeof a->struct_size, 0, sizeof *a - sizeof a->struct_size);
  a->type = type;
  switch (type) {
  case BP_DDB_S:
  case BP_DDB_N:
  case BP_DDB_B:
    if ((rc = string_value(h, s, type, a))) return rc;
    break;
  case BP_DDB_BOOL:
  case BP_DDB_NULL: {
    int v;
    if (bp__hs_bool(s, &v) || (type == BP_DDB_NULL && !v))
      return jerr(h, s, BP_ERR_INVALID_JSON, type == BP_DDB_NULL ? "NULL is not true"
                                                                   : "BOOL is not a boolean");
    a->boolean = v;
    a->value = v ? "true" : "false";
    a->value_len = v ? 4 : 5;
    break;
  }
  default: {
    int c = bp__hs_peek(s);
    const char *t = s->p;
    if (type == BP_DDB_M ? c != '{' : c != '[')
      return jerr(h, s, BP_ERR_INVALID_JSON, type == BP_DDB_M ? "M is not an object"
                                                              : "not an array");
    rc = type >= BP_DDB_SS ? array_of_strings(h, s) : bp__hs_skip(s, NULL, NULL);
    if (rc) return rc < 0 && type < BP_DDB_SS ? jerr(h, s, rc, "DynamoDB value") : rc;
    a->value = t;
    a->value_len = (size_t)(s->p - t);
  }
  }
  rc = bp__hs_member(s, 0, NULL);
  if (rc != 0)
    return jerr(h, s, rc < 0 ? rc : BP_ERR_INVALID_JSON, "a typed value has one member");
  a->json = start;
  a->json_len = (size_t)(s->p - start);
  return 0;
}

static int out_attr(bp_ddb_attr *out, const bp_ddb_attr *a) {
  return bp__struct_out(out, a, sizeof *a, BP__SIZE_V1(bp_ddb_attr, reserved), "bp_ddb_attr",
                        NULL, 0);
}

static void begin(bp_handler *h, bp__hscan *s, const char *json, size_t len) {
  if (!h->in_callback) bp__hpool_reset(&h->values);
  bp__errmsg_clear(&h->err);
  bp__hs_init(s, json ? json : "", len, &h->scratch, &h->scratch_stack);
}

int bp_handler_ddb_get(bp_handler *h, const char *map, size_t map_len, const char *name,
                       size_t name_len, bp_ddb_attr *out) {
  if (!h || !out || (!map && map_len) || (!name && name_len) || !bp__span_ok(map, map_len) ||
      !bp__span_ok(name, name_len) || !out->struct_size)
    return BP_ERR_INVALID_ARGUMENT;
  bp__hscan s;
  begin(h, &s, map, map_len);
  if (bp__hs_expect(&s, '{')) return jerr(h, &s, BP_ERR_INVALID_JSON, "not an item map");
  const char *found = NULL;
  int more, rc;
  bp__hstr k;
  for (int first = 1; (more = bp__hs_member(&s, first, &k)) == 1; first = 0) {
    int match = bp__hs_eq(&s, k, name ? name : "", name_len);
    h->scratch.len = 0;
    bp__hs_peek(&s);
    if (match) found = s.p;
    if ((rc = bp__hs_skip(&s, NULL, NULL))) return jerr(h, &s, rc, "attribute value");
  }
  if (more < 0) return jerr(h, &s, more, "item map");
  if (bp__hs_peek(&s) != -1) return jerr(h, &s, BP_ERR_INVALID_JSON, "data after the map");
  bp_ddb_attr a = {.struct_size = sizeof a};
  if (found) {
    s.p = found;
    if ((rc = typed_value(h, &s, &a))) return rc;
  }
  if ((rc = out_attr(out, &a))) return rc;
  return found ? 1 : 0;
}

int bp_handler_ddb_next(bp_handler *h, int32_t type, const char *json, size_t len,
                        size_t *cursor, const char **name, size_t *name_len, bp_ddb_attr *out) {
  if (!h || !cursor || !out || (!json && len) || !bp__span_ok(json, len) || !out->struct_size ||
      type < BP_DDB_M || type > BP_DDB_BS || (*cursor > len && *cursor != SIZE_MAX))
    return BP_ERR_INVALID_ARGUMENT;
  if (name) *name = NULL;
  if (name_len) *name_len = 0;
  bp_ddb_attr a = {.struct_size = sizeof a};
  int rc;
  if (*cursor == SIZE_MAX) return out_attr(out, &a) ? BP_ERR_INVALID_ARGUMENT : 0;
  bp__hscan s;
  begin(h, &s, json, len);
  int first = *cursor == 0;
  if (first) {
    if (bp__hs_expect(&s, type == BP_DDB_M ? '{' : '['))
      return jerr(h, &s, BP_ERR_INVALID_JSON, type == BP_DDB_M ? "not a map" : "not an array");
  } else {
    s.p += *cursor;
  }
  int more;
  bp__hstr k;
  h->scratch.len = 0;
  if (type == BP_DDB_M) {
    more = bp__hs_member(&s, first, &k);
    if (more == 1 && name && name_len && (rc = lend_string(h, &s, k, name, name_len)))
      return rc;
  } else {
    more = bp__hs_element(&s, first);
  }
  if (more < 0) return jerr(h, &s, more, "container");
  if (more == 0) {
    if (bp__hs_peek(&s) != -1) return jerr(h, &s, BP_ERR_INVALID_JSON, "data after the value");
    *cursor = SIZE_MAX;
    return out_attr(out, &a) ? BP_ERR_INVALID_ARGUMENT : 0;
  }
  if (type == BP_DDB_M || type == BP_DDB_L) {
    if ((rc = typed_value(h, &s, &a))) return rc;
  } else {
    bp__hs_peek(&s);
    const char *t = s.p;
    int32_t et = type == BP_DDB_SS ? BP_DDB_S : type == BP_DDB_NS ? BP_DDB_N : BP_DDB_B;
    if ((rc = string_value(h, &s, et, &a))) return rc;
    a.json = t;
    a.json_len = (size_t)(s.p - t);
  }
  *cursor = (size_t)(s.p - s.base);
  if ((rc = out_attr(out, &a))) return rc;
  return 1;
}
