/* SPDX-License-Identifier: MIT */
/*
 * Pattern compilation, following event-ruler's JsonRuleCompiler step by step so that the same
 * texts are accepted, with the same reason text for the first problem in document order.
 *
 * The pattern is read into a small tree (bp_json_dom) and walked in document order the way
 * the Java compiler walks its token stream: a list of sub-rules (maps path -> condition) is
 * carried along; a value list is put into every sub-rule (a later duplicate path replaces
 * the earlier one: "last wins"); `$or` forks the list, one copy per branch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bp_filter_int.h"
#include "bp_json_dom_int.h"

#define FC_MAX_RULE_SIZE 256 /* event-ruler's GenericMachine.MAXIMUM_RULE_SIZE */
#define FC_WILD_LIMIT 10     /* highest accepted wildcard complexity (FILTERS.md 4.9) */
#define FC_MSG_STR 120       /* bytes of a pattern string quoted in a message */

enum { AB_PLAIN, AB_EIC, AB_PREFIX, AB_SUFFIX, AB_WILDCARD };

/* One sub-rule under construction: (path id, condition id) pairs. */
typedef struct fc_rule {
  uint32_t *pairs;
  size_t n, cap;
} fc_rule;

typedef struct fc_rules {
  fc_rule *r;
  size_t n, cap;
} fc_rules;

typedef struct fc_path {
  uint32_t off, len; /* in f->pool */
} fc_path;

typedef struct fc_ctx {
  bp_filter *f;
  uint32_t pattern;
  bp__buf path; /* event-ruler's Path.name(): the pushed steps joined with '.' */
  size_t steps;
  fc_path *paths; /* this pattern's distinct paths */
  size_t npaths, paths_cap;
  fc_rules rules;
  char msg[160];
} fc_ctx;

/* ---- Errors ---- */

static int fc_nomem(fc_ctx *x) { return bp__error(&x->f->err, BP_ERR_NOMEM, "out of memory"); }

static int fc_invalid(fc_ctx *x, const char *fmt, ...) BP__PRINTF(2, 3);
static int fc_invalid(fc_ctx *x, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  bp__verror(&x->f->err, BP_ERR_CONFIG_INVALID, fmt, ap);
  va_end(ap);
  return BP_ERR_CONFIG_INVALID;
}

/* Bytes of s to quote in a message: at most MSG_STR, cut on a character boundary. */
static int fc_quote_len(const char *s, size_t n) {
  if (n <= FC_MSG_STR) return (int)n;
  n = FC_MSG_STR;
  while (n && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
  return (int)n;
}

#define FC_Q(s, n) fc_quote_len((s), (n)), (s)

/* Jackson's getText() of the token a node starts with. */
static const char *fc_token_text(const bp__jnode *v, int *len) {
  const char *t = "]";
  if (v) {
    switch (v->type) {
      case BP__J_NULL:
        t = "null";
        break;
      case BP__J_BOOL:
        t = v->boolean ? "true" : "false";
        break;
      case BP__J_OBJECT:
        t = "{";
        break;
      case BP__J_ARRAY:
        t = "[";
        break;
      default:
        *len = fc_quote_len(v->str, v->len);
        return v->str;
    }
  }
  *len = (int)strlen(t);
  return t;
}

static int fc_strict_reject(fc_ctx *x, const char *what) {
  return fc_invalid(x, "%s is not supported by Lambda event filtering", what);
}

static int fc_strict(const fc_ctx *x) { return (x->f->flags & BP_FILTER_STRICT_LAMBDA) != 0; }

/* ---- Pool and matcher helpers ---- */

static int fc_pool_put(fc_ctx *x, const void *p, size_t n, uint32_t *off) {
  *off = (uint32_t)x->f->pool.len;
  return bp__buf_append(&x->f->pool, p, n) ? fc_nomem(x) : 0;
}

static int fc_put_u32(fc_ctx *x, uint32_t v) {
  uint32_t off;
  return fc_pool_put(x, &v, 4, &off);
}

static bp__fmatch *fc_new_matcher(fc_ctx *x, int kind) {
  bp_filter *f = x->f;
  if (bp__filter_grow(&f->alloc, (void **)&f->m, &f->m_cap, f->nm + 1, sizeof *f->m)) return NULL;
  bp__fmatch *m = &f->m[f->nm++];
  memset(m, 0, sizeof *m);
  m->kind = (uint8_t)kind;
  return m;
}

static int fc_add_string(fc_ctx *x, int kind, const char *s, size_t n) {
  uint32_t off;
  int rc = fc_pool_put(x, s, n, &off);
  if (rc) return rc;
  bp__fmatch *m = fc_new_matcher(x, kind);
  if (!m) return fc_nomem(x);
  m->str = off;
  m->len = (uint32_t)n;
  return 0;
}

/* ---- Numbers ---- */

static int fc_number(fc_ctx *x, const bp__jnode *v, double *d) {
  if (bp__filter_comparable(v->str, v->len, d)) return 0;
  return fc_invalid(x, "Cannot compare number : %.*s", FC_Q(v->str, v->len));
}

static int fc_is_num(const bp__jnode *v) { return v && v->type == BP__J_NUMBER; }

static int fc_too_many(fc_ctx *x) {
  return fc_invalid(x, "Too many elements in numeric expression");
}

static int fc_range(fc_ctx *x, const bp__jnode *lo, int lo_open, const bp__jnode *hi, int hi_open) {
  double a = 0, b = 0;
  int rc;
  if (lo && (rc = fc_number(x, lo, &a))) return rc;
  if (hi && (rc = fc_number(x, hi, &b))) return rc;
  if (lo && hi && !(a < b)) return fc_invalid(x, "Bottom must be less than top");
  bp__fmatch *m = fc_new_matcher(x, BP__FM_RANGE);
  if (!m) return fc_nomem(x);
  m->has_lo = lo != NULL;
  m->has_hi = hi != NULL;
  m->lo_open = (uint8_t)lo_open;
  m->hi_open = (uint8_t)hi_open;
  m->lo = a;
  m->hi = b;
  return 0;
}

/* {"numeric": [op, n (, op, n)]} as JsonRuleCompiler.processNumericMatchExpression reads it. */
static int fc_numeric(fc_ctx *x, const bp__jnode *arr) {
  const bp__jnode *e0 = arr->child, *e1 = e0 ? e0->next : NULL, *e2 = e1 ? e1->next : NULL;
  int tl;
  const char *t;
  if (!e0 || e0->type != BP__J_STRING) {
    t = fc_token_text(e0, &tl);
    return fc_invalid(x, "Invalid member in numeric match: %.*s", tl, t);
  }
  if (bp__jstr_eq(e0, "=")) {
    if (!fc_is_num(e1)) return fc_invalid(x, "Value of equals must be numeric");
    if (e2) return fc_too_many(x);
    double d;
    int rc = fc_number(x, e1, &d);
    if (rc) return rc;
    bp__fmatch *m = fc_new_matcher(x, BP__FM_NUM_EQ);
    if (!m) return fc_nomem(x);
    m->lo = d;
    return 0;
  }
  if (bp__jstr_eq(e0, ">=") || bp__jstr_eq(e0, ">")) {
    int open = bp__jstr_eq(e0, ">");
    if (!fc_is_num(e1)) return fc_invalid(x, "Value of %s must be numeric", open ? ">" : ">=");
    if (!e2) return fc_range(x, e1, open, NULL, 0);
    if (e2->type != BP__J_STRING) {
      t = fc_token_text(e2, &tl);
      return fc_invalid(x, "Bad value in numeric range: %.*s", tl, t);
    }
    int top_open = bp__jstr_eq(e2, "<");
    if (!top_open && !bp__jstr_eq(e2, "<="))
      return fc_invalid(x, "Bad numeric range operator: %.*s", FC_Q(e2->str, e2->len));
    const bp__jnode *e3 = e2->next;
    if (!fc_is_num(e3)) return fc_invalid(x, "Value of %s must be numeric", top_open ? "<" : "<=");
    if (e3->next) return fc_invalid(x, "Too many terms in numeric range expression");
    return fc_range(x, e1, open, e3, top_open);
  }
  if (bp__jstr_eq(e0, "<=") || bp__jstr_eq(e0, "<")) {
    int open = bp__jstr_eq(e0, "<");
    if (!fc_is_num(e1)) return fc_invalid(x, "Value of %s must be numeric", open ? "<" : "<=");
    if (e2) return fc_too_many(x);
    return fc_range(x, NULL, 0, e1, open);
  }
  return fc_invalid(x, "Unrecognized numeric range operator: %.*s", FC_Q(e0->str, e0->len));
}

/* ---- IP addresses ---- */

static int fc_ip_matcher(fc_ctx *x, const uint8_t *lo, const uint8_t *hi, int len) {
  bp__fmatch *m = fc_new_matcher(x, BP__FM_IP);
  if (!m) return fc_nomem(x);
  m->ip_len = (uint8_t)len;
  memcpy(m->ip_lo, lo, (size_t)len);
  memcpy(m->ip_hi, hi, (size_t)len);
  return 0;
}

/* CIDR.cidr(): "address/bits", checked in event-ruler's order with its messages. */
static int fc_cidr(fc_ctx *x, const char *s, size_t n) {
  /* Java's split("/") drops trailing empty strings. */
  size_t end = n;
  while (end && s[end - 1] == '/') end--;
  const char *slash = memchr(s, '/', end);
  if (!slash || memchr(slash + 1, '/', end - (size_t)(slash + 1 - s)))
    return fc_invalid(x, "Malformed CIDR, one '/' required");
  const char *b = slash + 1;
  size_t bn = end - (size_t)(b - s), i = 0;
  int neg = 0;
  long long bits = 0;
  if (bn && (b[0] == '+' || b[0] == '-')) neg = b[i++] == '-';
  if (i == bn) return fc_invalid(x, "Malformed CIDR, mask bits must be an integer");
  for (; i < bn; i++) {
    if (b[i] < '0' || b[i] > '9')
      return fc_invalid(x, "Malformed CIDR, mask bits must be an integer");
    bits = bits * 10 + (b[i] - '0');
    if (bits > 2147483648LL) return fc_invalid(x, "Malformed CIDR, mask bits must be an integer");
  }
  if (!neg && bits > 2147483647LL)
    return fc_invalid(x, "Malformed CIDR, mask bits must be an integer");
  if (neg && bits > 0) return fc_invalid(x, "Malformed CIDR, mask bits must not be negative");
  size_t an = (size_t)(slash - s);
  uint8_t ip[16], lo[16], hi[16];
  int len = bp__filter_ip_parse(s, an, ip);
  if (len == 0) return fc_invalid(x, "Nonstandard IP address: %.*s", FC_Q(s, an));
  if (len < 0) return fc_invalid(x, "Invalid IP address: %.*s", FC_Q(s, an));
  if (len == 4 && bits > 31) return fc_invalid(x, "IPv4 mask bits must be < 32");
  if (len == 16 && bits > 127) return fc_invalid(x, "IPv6 mask bits must be < 128");
  for (int k = 0; k < len; k++) {
    long long fixed = bits - 8LL * k; /* mask bits inside this byte */
    uint8_t mask = fixed >= 8 ? 0xff : fixed <= 0 ? 0 : (uint8_t)(0xff << (8 - fixed));
    lo[k] = ip[k] & mask;
    hi[k] = (uint8_t)(ip[k] | (uint8_t)~mask);
  }
  return fc_ip_matcher(x, lo, hi, len);
}

/* ---- anything-but ---- */

static int fc_ab_kind(int type) {
  switch (type) {
    case AB_EIC:
      return BP__FM_AB_EIC;
    case AB_PREFIX:
      return BP__FM_AB_PREFIX;
    case AB_SUFFIX:
      return BP__FM_AB_SUFFIX;
    default:
      return BP__FM_AB_WILDCARD;
  }
}

/* A non-string in an anything-but object's value (JsonRuleCompiler's three messages). */
static int fc_ab_not_string(fc_ctx *x, int type) {
  if (type == AB_EIC)
    return fc_invalid(x,
                      "Inside anything-but/equals-ignore-case list, number|start|null|boolean is "
                      "not supported.");
  if (type == AB_WILDCARD) return fc_invalid(x, "wildcard match pattern must be a string");
  return fc_invalid(x, "prefix/suffix match pattern must be a string");
}

/* One item of an anything-but object set, appended as (u32 n, encoding). */
static int fc_ab_item(fc_ctx *x, int type, const bp__jnode *v) {
  if (v->type != BP__J_STRING) return fc_ab_not_string(x, type);
  if ((type == AB_PREFIX || type == AB_SUFFIX) && v->len == 0)
    return fc_invalid(x, "Null prefix/suffix not allowed");
  size_t at = x->f->pool.len;
  int rc = fc_put_u32(x, 0);
  if (rc) return rc;
  if (type == AB_EIC)
    rc = bp__filter_eic_encode(&x->f->pool, v->str, v->len, 0);
  else if (type == AB_WILDCARD)
    rc = bp__filter_wild_encode(&x->f->pool, v->str, v->len);
  else
    rc = bp__buf_append(&x->f->pool, v->str, v->len);
  if (rc) return fc_nomem(x);
  uint32_t n = (uint32_t)(x->f->pool.len - at - 4);
  memcpy(x->f->pool.data + at, &n, 4);
  return 0;
}

static int fc_wild_valid(fc_ctx *x, const bp__jnode *v) {
  char msg[80];
  if (bp__filter_wild_check(v->str, v->len, msg, sizeof msg)) return fc_invalid(x, "%s", msg);
  return 0;
}

static int fc_ab_set(fc_ctx *x, int type, const bp__jnode *v) {
  uint32_t first = (uint32_t)x->f->pool.len, count = 0;
  int rc;
  if (v->type == BP__J_ARRAY) {
    for (const bp__jnode *e = v->child; e; e = e->next, count++)
      if ((rc = fc_ab_item(x, type, e))) return rc;
    if (type == AB_WILDCARD)
      for (const bp__jnode *e = v->child; e; e = e->next)
        if ((rc = fc_wild_valid(x, e))) return rc;
    if (!count) return fc_invalid(x, "Empty arrays are not allowed"); /* see bp_filter.h */
  } else {
    if (v->type != BP__J_STRING) return fc_ab_not_string(x, type);
    if (type == AB_WILDCARD && (rc = fc_wild_valid(x, v))) return rc;
    if ((rc = fc_ab_item(x, type, v))) return rc;
    count = 1;
  }
  bp__fmatch *m = fc_new_matcher(x, fc_ab_kind(type));
  if (!m) return fc_nomem(x);
  m->str = first;
  m->len = count;
  return 0;
}

/* Plain anything-but: one string or number, or a list of all strings or all numbers. */
static int fc_ab_plain(fc_ctx *x, const bp__jnode *v) {
  uint32_t first = (uint32_t)x->f->pool.len, count = 0;
  int strings = 0, numbers = 0, rc;
  int list = v->type == BP__J_ARRAY;
  for (const bp__jnode *e = list ? v->child : v; e; e = list ? e->next : NULL, count++) {
    if (e->type == BP__J_STRING) {
      strings = 1;
      if ((rc = fc_put_u32(x, (uint32_t)e->len))) return rc;
      uint32_t off;
      if ((rc = fc_pool_put(x, e->str, e->len, &off))) return rc;
    } else if (e->type == BP__J_NUMBER) {
      numbers = 1;
      double d;
      uint32_t off;
      if ((rc = fc_number(x, e, &d)) || (rc = fc_pool_put(x, &d, sizeof d, &off))) return rc;
    } else {
      return fc_invalid(x, "Inside anything but list, start|null|boolean is not supported.");
    }
  }
  if (strings == numbers)
    return fc_invalid(x,
                      "Inside anything but list, either all values are number or string, mixed "
                      "type is not supported");
  bp__fmatch *m = fc_new_matcher(x, numbers ? BP__FM_AB_NUM : BP__FM_AB_STR);
  if (!m) return fc_nomem(x);
  m->str = first;
  m->len = count;
  return 0;
}

static int fc_anything_but(fc_ctx *x, const bp__jnode *expr, const bp__jnode *v) {
  int type = AB_PLAIN;
  const bp__jnode *inner = v;
  if (v->type == BP__J_OBJECT) {
    if (!v->child) return fc_invalid(x, "Anything-But expression name not found");
    const bp__jnode *op = v->child;
    if (op->key_len == 18 && !memcmp(op->key, "equals-ignore-case", 18))
      type = AB_EIC;
    else if (op->key_len == 6 && !memcmp(op->key, "prefix", 6))
      type = AB_PREFIX;
    else if (op->key_len == 6 && !memcmp(op->key, "suffix", 6))
      type = AB_SUFFIX;
    else if (op->key_len == 8 && !memcmp(op->key, "wildcard", 8))
      type = AB_WILDCARD;
    else
      return fc_invalid(x, "Unsupported anything-but pattern: %.*s", FC_Q(op->key, op->key_len));
    if (fc_strict(x)) return fc_strict_reject(x, "anything-but with an object");
    inner = op;
  }
  if (inner->type != BP__J_ARRAY && inner->type != BP__J_STRING && inner->type != BP__J_NUMBER)
    return fc_invalid(x, "Value of anything-but must be an array or single string/number value.");
  int rc = type == AB_PLAIN ? fc_ab_plain(x, inner) : fc_ab_set(x, type, inner);
  if (rc) return rc;
  if (type == AB_PLAIN) return expr->count > 1 ? fc_too_many(x) : 0;
  if (v->count > 1 || expr->count > 1) return fc_too_many(x);
  return 0;
}

/* ---- Match expressions ---- */

static int fc_one_key(fc_ctx *x, const bp__jnode *expr) {
  return expr->count > 1 ? fc_invalid(x, "Only one key allowed in match expression") : 0;
}

/* {"prefix": {"equals-ignore-case": "..."}} and the suffix form. */
static int fc_affix_eic(fc_ctx *x, const bp__jnode *expr, const bp__jnode *v, int suffix) {
  const char *Word = suffix ? "Suffix" : "Prefix", *word = suffix ? "suffix" : "prefix";
  if (!v->child) return fc_invalid(x, "%s expression name not found", Word);
  const bp__jnode *op = v->child;
  if (!(op->key_len == 18 && !memcmp(op->key, "equals-ignore-case", 18)))
    return fc_invalid(x, "Unsupported %s pattern: %.*s", word, FC_Q(op->key, op->key_len));
  if (fc_strict(x))
    return fc_strict_reject(
        x, suffix ? "suffix with equals-ignore-case" : "prefix with equals-ignore-case");
  if (op->type != BP__J_STRING)
    return fc_invalid(x, "equals-ignore-case match pattern must be a string");
  if (v->count > 1 || expr->count > 1)
    return fc_invalid(x, "Only one key allowed in match expression");
  uint32_t at = (uint32_t)x->f->pool.len;
  if (bp__filter_eic_encode(&x->f->pool, op->str, op->len, suffix)) return fc_nomem(x);
  bp__fmatch *m = fc_new_matcher(x, suffix ? BP__FM_SUFFIX_EIC : BP__FM_PREFIX_EIC);
  if (!m) return fc_nomem(x);
  m->str = at;
  m->len = (uint32_t)(x->f->pool.len - at);
  return 0;
}

static int fc_key_is(const bp__jnode *n, const char *s) {
  size_t l = strlen(s);
  return n->key_len == l && memcmp(n->key, s, l) == 0;
}

/* An object in a value list: JsonRuleCompiler.processMatchExpression. *absent is set for
 * {"exists": false}. */
static int fc_match_expression(fc_ctx *x, const bp__jnode *expr, int *absent) {
  const bp__jnode *v = expr->child;
  int rc;
  if (!v) return fc_invalid(x, "Match expression name not found");
  if (fc_key_is(v, "exactly")) {
    if (fc_strict(x)) return fc_strict_reject(x, "exactly");
    if (v->type != BP__J_STRING) return fc_invalid(x, "exact match pattern must be a string");
    if ((rc = fc_one_key(x, expr))) return rc;
    return fc_add_string(x, BP__FM_EXACT_STR, v->str, v->len);
  }
  if (fc_key_is(v, "prefix") || fc_key_is(v, "suffix")) {
    int suffix = fc_key_is(v, "suffix");
    if (v->type == BP__J_OBJECT) return fc_affix_eic(x, expr, v, suffix);
    if (v->type != BP__J_STRING)
      return fc_invalid(x, "%s match pattern must be a string", suffix ? "suffix" : "prefix");
    if ((rc = fc_one_key(x, expr))) return rc;
    return fc_add_string(x, suffix ? BP__FM_SUFFIX : BP__FM_PREFIX, v->str, v->len);
  }
  if (fc_key_is(v, "numeric")) {
    if (v->type != BP__J_ARRAY) return fc_invalid(x, "Value of numeric must be an array.");
    if ((rc = fc_numeric(x, v))) return rc;
    return expr->count > 1 ? fc_too_many(x) : 0;
  }
  if (fc_key_is(v, "anything-but")) return fc_anything_but(x, expr, v);
  if (fc_key_is(v, "exists")) {
    if (v->type != BP__J_BOOL)
      return fc_invalid(x, "exists match pattern must be either true or false.");
    if ((rc = fc_one_key(x, expr))) return rc;
    if (!v->boolean) {
      *absent = 1;
      return 0;
    }
    return fc_new_matcher(x, BP__FM_EXISTS) ? 0 : fc_nomem(x);
  }
  if (fc_key_is(v, "cidr")) {
    if (fc_strict(x)) return fc_strict_reject(x, "cidr");
    if (v->type != BP__J_STRING) return fc_invalid(x, "prefix match pattern must be a string");
    if ((rc = fc_cidr(x, v->str, v->len))) return rc;
    return fc_one_key(x, expr);
  }
  if (fc_key_is(v, "equals-ignore-case")) {
    if (v->type != BP__J_STRING)
      return fc_invalid(x, "equals-ignore-case match pattern must be a string");
    if ((rc = fc_one_key(x, expr))) return rc;
    uint32_t at = (uint32_t)x->f->pool.len;
    if (bp__filter_eic_encode(&x->f->pool, v->str, v->len, 0)) return fc_nomem(x);
    bp__fmatch *m = fc_new_matcher(x, BP__FM_EIC);
    if (!m) return fc_nomem(x);
    m->str = at;
    m->len = (uint32_t)(x->f->pool.len - at);
    return 0;
  }
  if (fc_key_is(v, "wildcard")) {
    if (fc_strict(x)) return fc_strict_reject(x, "wildcard");
    if (v->type != BP__J_STRING) return fc_invalid(x, "wildcard match pattern must be a string");
    if ((rc = fc_wild_valid(x, v)) || (rc = fc_one_key(x, expr))) return rc;
    uint32_t at = (uint32_t)x->f->pool.len;
    if (bp__filter_wild_encode(&x->f->pool, v->str, v->len)) return fc_nomem(x);
    bp__fmatch *m = fc_new_matcher(x, BP__FM_WILDCARD);
    if (!m) return fc_nomem(x);
    m->str = at;
    m->len = (uint32_t)(x->f->pool.len - at);
    return 0;
  }
  return fc_invalid(x, "Unrecognized match type %.*s", FC_Q(v->key, v->key_len));
}

/* ---- Sub-rules ---- */

static int fc_rule_put(fc_ctx *x, fc_rule *r, uint32_t path, uint32_t cond) {
  for (size_t i = 0; i < r->n; i++)
    if (r->pairs[2 * i] == path) {
      r->pairs[2 * i + 1] = cond;
      return 0;
    }
  if (bp__filter_grow(&x->f->alloc, (void **)&r->pairs, &r->cap, 2 * (r->n + 1), sizeof *r->pairs))
    return fc_nomem(x);
  r->pairs[2 * r->n] = path;
  r->pairs[2 * r->n + 1] = cond;
  r->n++;
  return 0;
}

static void fc_rules_clear(fc_ctx *x, fc_rules *l) {
  for (size_t i = 0; i < l->n; i++) bp__free(&x->f->alloc, l->r[i].pairs);
  l->n = 0;
}

static void fc_rules_free(fc_ctx *x, fc_rules *l) {
  fc_rules_clear(x, l);
  bp__free(&x->f->alloc, l->r);
  l->r = NULL;
  l->cap = 0;
}

static int fc_rules_push_copy(fc_ctx *x, fc_rules *dst, const fc_rule *src) {
  if (dst->n >= BP_FILTER_MAX_COMBINATIONS)
    return fc_invalid(x,
                      "Pattern is too complex: its $or groups expand to more than %d "
                      "combinations",
                      BP_FILTER_MAX_COMBINATIONS);
  if (bp__filter_grow(&x->f->alloc, (void **)&dst->r, &dst->cap, dst->n + 1, sizeof *dst->r))
    return fc_nomem(x);
  fc_rule *r = &dst->r[dst->n];
  memset(r, 0, sizeof *r);
  if (src && src->n) {
    r->pairs = bp__malloc(&x->f->alloc, 2 * src->n * sizeof *r->pairs);
    if (!r->pairs) return fc_nomem(x);
    memcpy(r->pairs, src->pairs, 2 * src->n * sizeof *r->pairs);
    r->n = src->n;
    r->cap = 2 * src->n; /* in pair members */
  }
  dst->n++;
  return 0;
}

/* Move every sub-rule of @p src to the end of @p dst. */
static int fc_rules_take(fc_ctx *x, fc_rules *dst, fc_rules *src) {
  if (dst->n + src->n > BP_FILTER_MAX_COMBINATIONS)
    return fc_invalid(x,
                      "Pattern is too complex: its $or groups expand to more than %d "
                      "combinations",
                      BP_FILTER_MAX_COMBINATIONS);
  if (bp__filter_grow(&x->f->alloc, (void **)&dst->r, &dst->cap, dst->n + src->n, sizeof *dst->r))
    return fc_nomem(x);
  memcpy(dst->r + dst->n, src->r, src->n * sizeof *src->r);
  dst->n += src->n;
  src->n = 0;
  return 0;
}

/* Intern the path: its id in this pattern and its text in the pool. */
static int fc_intern(fc_ctx *x, const char *s, size_t n, uint32_t *id) {
  for (size_t i = 0; i < x->npaths; i++)
    if (x->paths[i].len == n && memcmp(x->f->pool.data + x->paths[i].off, s, n) == 0) {
      *id = (uint32_t)i;
      return 0;
    }
  if (bp__filter_grow(&x->f->alloc, (void **)&x->paths, &x->paths_cap, x->npaths + 1,
                      sizeof *x->paths))
    return fc_nomem(x);
  uint32_t off;
  int rc = fc_pool_put(x, s, n, &off);
  if (rc) return rc;
  x->paths[x->npaths].off = off;
  x->paths[x->npaths].len = (uint32_t)n;
  *id = (uint32_t)x->npaths++;
  return 0;
}

/* A value list: JsonRuleCompiler.writeRules. */
static int fc_write_rules(fc_ctx *x, const char *key, size_t key_len, const bp__jnode *arr) {
  bp_filter *f = x->f;
  uint32_t first = (uint32_t)f->nm;
  int absent = 0, rc, any = 0;
  for (const bp__jnode *e = arr->child; e; e = e->next, any = 1) {
    switch (e->type) {
      case BP__J_OBJECT:
        if ((rc = fc_match_expression(x, e, &absent))) return rc;
        break;
      case BP__J_STRING: {
        uint8_t ip[16];
        int len = bp__filter_ip_parse(e->str, e->len, ip);
        rc = len > 0 ? fc_ip_matcher(x, ip, ip, len)
                     : fc_add_string(x, BP__FM_EXACT_STR, e->str, e->len);
        if (rc) return rc;
        break;
      }
      case BP__J_NUMBER: {
        double d;
        if (bp__filter_comparable(e->str, e->len, &d)) { /* by value, and by literal text */
          bp__fmatch *m = fc_new_matcher(x, BP__FM_NUM_EQ);
          if (!m) return fc_nomem(x);
          m->lo = d;
        }
        if ((rc = fc_add_string(x, BP__FM_EXACT_RAW, e->str, e->len))) return rc;
        break;
      }
      case BP__J_NULL:
        if ((rc = fc_add_string(x, BP__FM_EXACT_RAW, "null", 4))) return rc;
        break;
      case BP__J_BOOL:
        rc = e->boolean ? fc_add_string(x, BP__FM_EXACT_RAW, "true", 4)
                        : fc_add_string(x, BP__FM_EXACT_RAW, "false", 5);
        if (rc) return rc;
        break;
      default:
        return fc_invalid(x, "Match value must be String, number, true, false, or null");
    }
  }
  if (!any) return fc_invalid(x, "Empty arrays are not allowed");

  /* Path.extendedName(): the name, a '.' unless the name is empty, the key. */
  size_t base = x->path.len;
  if ((base && bp__buf_append(&x->path, ".", 1)) || bp__buf_append(&x->path, key, key_len)) {
    x->path.len = base;
    return fc_nomem(x);
  }
  uint32_t pid = 0;
  rc = fc_intern(x, x->path.data, x->path.len, &pid);
  x->path.len = base;
  if (rc) return rc;

  if (bp__filter_grow(&f->alloc, (void **)&f->c, &f->c_cap, f->nc + 1, sizeof *f->c))
    return fc_nomem(x);
  bp__fcond *c = &f->c[f->nc];
  memset(c, 0, sizeof *c);
  c->pattern = x->pattern;
  c->path = x->paths[pid].off;
  c->path_len = x->paths[pid].len;
  c->first = first;
  c->count = (uint32_t)(f->nm - first);
  c->absence = (uint8_t)absent;
  uint32_t cid = (uint32_t)f->nc++;
  if (x->rules.n == 0 && (rc = fc_rules_push_copy(x, &x->rules, NULL))) return rc;
  for (size_t i = 0; i < x->rules.n; i++)
    if ((rc = fc_rule_put(x, &x->rules.r[i], pid, cid))) return rc;
  return 0;
}

static int fc_is_reserved(const bp__jnode *n) {
  static const char *const names[] = {"exactly",
                                      "equals-ignore-case",
                                      "prefix",
                                      "suffix",
                                      "anything-but",
                                      "exists",
                                      "wildcard",
                                      "numeric",
                                      "cidr",
                                      "=",
                                      "<",
                                      "<=",
                                      ">",
                                      ">=",
                                      "regex",
                                      "not-wildcard",
                                      "not-equals-ignore-case",
                                      "date-after",
                                      "date-on-or-after",
                                      "date-before",
                                      "date-on-or-before",
                                      "in-date-range",
                                      "ip-address-in-range",
                                      "ip-address-not-in-range"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (fc_key_is(n, names[i])) return 1;
  return 0;
}

static int fc_parse_object(fc_ctx *x, const bp__jnode *obj, int inside_or);

/* "$or": [ {...}, {...}, ... ]: JsonRuleCompiler.parseIntoOrRelationship. */
static int fc_parse_or(fc_ctx *x, const bp__jnode *v) {
  fc_rules current = x->rules, done = {NULL, 0, 0};
  int rc = 0, branches = 0;
  memset(&x->rules, 0, sizeof x->rules);
  if (v->type != BP__J_ARRAY) {
    rc = fc_invalid(x, "It must be an Array followed with $or.");
    goto out;
  }
  for (const bp__jnode *e = v->child; e; e = e->next) {
    branches++;
    if (e->type != BP__J_OBJECT) {
      rc = fc_invalid(x, "Only JSON object is allowed in array of $or relationship.");
      goto out;
    }
    /* The branch starts from a copy of the sub-rules so far (one empty one if none). */
    for (size_t i = 0; i < current.n && !rc; i++)
      rc = fc_rules_push_copy(x, &x->rules, &current.r[i]);
    if (!rc && current.n == 0) rc = fc_rules_push_copy(x, &x->rules, NULL);
    if (!rc) rc = fc_parse_object(x, e, 1);
    if (!rc) rc = fc_rules_take(x, &done, &x->rules);
    fc_rules_clear(x, &x->rules);
    if (rc) goto out;
  }
  if (branches < 2) rc = fc_invalid(x, "There must have at least 2 Objects in $or relationship.");
out:
  fc_rules_free(x, &x->rules);
  fc_rules_free(x, &current);
  x->rules = done;
  return rc;
}

static int fc_parse_object(fc_ctx *x, const bp__jnode *obj, int inside_or) {
  if (!obj->child) return fc_invalid(x, "Empty objects are not allowed");
  for (const bp__jnode *m = obj->child; m; m = m->next) {
    int rc;
    if (fc_key_is(m, "$or")) {
      if ((rc = fc_parse_or(x, m))) return rc;
      continue;
    }
    if (inside_or && fc_is_reserved(m))
      return fc_invalid(x, "%.*s is Ruler reserved fieldName which cannot be used inside $or.",
                        FC_Q(m->key, m->key_len));
    if (m->type == BP__J_OBJECT) {
      size_t base = x->path.len;
      if ((x->steps && bp__buf_append(&x->path, ".", 1)) ||
          bp__buf_append(&x->path, m->key, m->key_len)) {
        x->path.len = base;
        return fc_nomem(x);
      }
      x->steps++;
      rc = fc_parse_object(x, m, inside_or);
      x->steps--;
      x->path.len = base;
      if (rc) return rc;
    } else if (m->type == BP__J_ARRAY) {
      if ((rc = fc_write_rules(x, m->key, m->key_len, m))) return rc;
    } else {
      return fc_invalid(x, "\"%.*s\" must be an object or an array", FC_Q(m->key, m->key_len));
    }
  }
  return 0;
}

/* ---- After the walk ---- */

typedef struct fc_sort_item {
  const char *path;
  size_t len;
  uint32_t cond;
} fc_sort_item;

static int fc_by_java_path(const void *a, const void *b) {
  const fc_sort_item *p = a, *q = b;
  return bp__filter_java_cmp(p->path, p->len, q->path, q->len);
}

static int fc_emit_subrules(fc_ctx *x) {
  bp_filter *f = x->f;
  fc_sort_item *items = NULL;
  size_t items_cap = 0;
  int rc = 0;
  for (size_t i = 0; i < x->rules.n && !rc; i++) {
    fc_rule *r = &x->rules.r[i];
    if (r->n > FC_MAX_RULE_SIZE) {
      rc = fc_invalid(x, "Size of rule exceeds max value of %d", FC_MAX_RULE_SIZE);
      break;
    }
    if (bp__filter_grow(&f->alloc, (void **)&items, &items_cap, r->n, sizeof *items) ||
        bp__filter_grow(&f->alloc, (void **)&f->s, &f->s_cap, f->ns + 1, sizeof *f->s) ||
        bp__filter_grow(&f->alloc, (void **)&f->sc, &f->sc_cap, f->nsc + r->n, sizeof *f->sc)) {
      rc = fc_nomem(x);
      break;
    }
    for (size_t k = 0; k < r->n; k++) {
      bp__fcond *c = &f->c[r->pairs[2 * k + 1]];
      items[k].path = f->pool.data + c->path;
      items[k].len = c->path_len;
      items[k].cond = r->pairs[2 * k + 1];
      c->referenced = 1;
    }
    qsort(items, r->n, sizeof *items, fc_by_java_path);
    bp__fsub *s = &f->s[f->ns++];
    s->pattern = x->pattern;
    s->first = (uint32_t)f->nsc;
    s->count = (uint32_t)r->n;
    s->last_absence = -1;
    for (size_t k = 0; k < r->n; k++) {
      f->sc[f->nsc++] = items[k].cond;
      if (f->c[items[k].cond].absence) s->last_absence = (int32_t)k;
    }
  }
  bp__free(&f->alloc, items);
  return rc;
}

/* EventBridge's wildcard complexity limit, per path over the pattern's wildcard operands. */
static int fc_check_complexity(fc_ctx *x, size_t first_cond) {
  bp_filter *f = x->f;
  const uint8_t **encs = NULL;
  size_t cap = 0;
  int rc = 0;
  for (size_t p = 0; p < x->npaths && !rc; p++) {
    size_t n = 0;
    for (size_t i = first_cond; i < f->nc && !rc; i++) {
      bp__fcond *c = &f->c[i];
      if (!c->referenced || c->path != x->paths[p].off) continue;
      for (uint32_t k = c->first; k < c->first + c->count; k++) {
        bp__fmatch *m = &f->m[k];
        if (m->kind != BP__FM_WILDCARD && m->kind != BP__FM_AB_WILDCARD) continue;
        uint32_t items = m->kind == BP__FM_WILDCARD ? 1 : m->len;
        const uint8_t *e = (const uint8_t *)f->pool.data + m->str;
        if (bp__filter_grow(&f->alloc, (void **)&encs, &cap, n + items, sizeof *encs)) {
          rc = fc_nomem(x);
          break;
        }
        for (uint32_t j = 0; j < items; j++) {
          if (m->kind == BP__FM_AB_WILDCARD) e += 4; /* item length */
          size_t size = bp__filter_wild_size(e), d = 0;
          while (d < n && !(bp__filter_wild_size(encs[d]) == size && !memcmp(encs[d], e, size)))
            d++;
          if (d == n) encs[n++] = e; /* one operand counts once, as in a byte machine */
          e += size;
        }
      }
    }
    if (rc || n == 0) continue;
    int measure = bp__filter_wild_complexity(&f->alloc, encs, n, FC_WILD_LIMIT + 1);
    if (measure < 0)
      rc = fc_nomem(x);
    else if (measure > FC_WILD_LIMIT)
      rc = fc_invalid(x,
                      "Rule is too complex - try using fewer wildcard characters or fewer "
                      "repeating character sequences after a wildcard character");
  }
  bp__free(&f->alloc, (void *)encs);
  return rc;
}

/* ---- Entry ---- */

int bp__filter_compile(bp_filter *f, const char *text, size_t len) {
  fc_ctx x;
  memset(&x, 0, sizeof x);
  x.f = f;
  x.pattern = (uint32_t)f->npatterns;
  bp__buf_init(&x.path, &f->alloc);
  size_t first_cond = f->nc;
  bp__jdom dom;
  bp__jdom_init(&dom, &f->alloc);
  int rc;

  size_t i = 0;
  while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) i++;
  if (i == len) {
    rc = fc_invalid(&x, "Filter is not an object");
    goto out;
  }
  rc = bp__jdom_parse(&dom, &f->json, text, len, &f->err);
  if (rc == BP_ERR_NOMEM) {
    rc = fc_nomem(&x);
    goto out;
  }
  if (rc) {
    char msg[200];
    size_t at = f->err.offset;
    if (bp__filter_syntax_message(text, len, msg, sizeof msg, &at)) {
      rc = fc_invalid(&x, "%s", msg);
      f->err.offset = at;
    } else { /* valid JSON: the tree's nesting limit */
      char keep[BP__ERRMSG_LEN];
      memcpy(keep, f->err.text, sizeof keep);
      rc = fc_invalid(&x, "%s", keep);
    }
    goto out;
  }
  if (dom.root->type != BP__J_OBJECT) {
    rc = fc_invalid(&x, "Filter is not an object");
    goto out;
  }
  if ((rc = fc_parse_object(&x, dom.root, 0))) goto out;
  if ((rc = fc_emit_subrules(&x))) goto out;
  rc = fc_check_complexity(&x, first_cond);
  if (!rc) {
    int data = 0;
    for (size_t k = first_cond; k < f->nc; k++) {
      bp__fcond *c = &f->c[k];
      const char *p = f->pool.data + c->path;
      if (c->referenced && c->path_len >= 4 && memcmp(p, "data", 4) == 0 &&
          (c->path_len == 4 || p[4] == '.'))
        data = 1;
    }
    f->pat_data[x.pattern] = (uint8_t)data;
  }
out:
  fc_rules_free(&x, &x.rules);
  bp__free(&f->alloc, x.paths);
  bp__buf_free(&x.path);
  bp__jdom_free(&dom);
  return rc;
}
