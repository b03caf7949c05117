/* SPDX-License-Identifier: MIT */
/*
 * bpsim_match.c: compare an expected JSON value (literals and $matchers) with an actual one.
 * Numbers compare by decimal value from their raw tokens (never through a double, so large
 * integers stay exact); approximateArrivalTimestamp and ApproximateCreationDateTime compare
 * to the millisecond; sequence numbers compare numerically as strings.
 */
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpsim.h"

/* ---- decimal numbers from JSON tokens ---- */

/* value = sign * 0.digits * 10^exp, digits without leading or trailing zeros ("" = 0). */
typedef struct dec {
  int neg;
  long exp;
  char digits[80];
  size_t n;
  int inexact; /* more significant digits than kept: compare the kept ones */
} dec;

static int dec_parse(const char *s, dec *d) {
  memset(d, 0, sizeof *d);
  if (*s == '-') {
    d->neg = 1;
    s++;
  }
  if (!isdigit((unsigned char)*s)) return -1;
  long intlen = 0;
  int seen_nonzero = 0;
  for (; isdigit((unsigned char)*s); s++) {
    if (!seen_nonzero && *s == '0') continue;
    seen_nonzero = 1;
    intlen++;
    if (d->n < sizeof d->digits) d->digits[d->n++] = *s;
    else if (*s != '0') d->inexact = 1;
  }
  long lead = 0; /* zeros right after the point, before any significant digit */
  if (*s == '.') {
    s++;
    if (!isdigit((unsigned char)*s)) return -1;
    for (; isdigit((unsigned char)*s); s++) {
      if (!seen_nonzero && *s == '0') {
        lead++;
        continue;
      }
      seen_nonzero = 1;
      if (d->n < sizeof d->digits) d->digits[d->n++] = *s;
      else if (*s != '0') d->inexact = 1;
    }
  }
  long e = 0;
  if (*s == 'e' || *s == 'E') {
    s++;
    int eneg = 0;
    if (*s == '+' || *s == '-') eneg = *s++ == '-';
    if (!isdigit((unsigned char)*s)) return -1;
    for (; isdigit((unsigned char)*s); s++)
      if (e < 100000000) e = e * 10 + (*s - '0');
    if (eneg) e = -e;
  }
  if (*s) return -1;
  while (d->n && d->digits[d->n - 1] == '0') d->n--;
  if (d->n == 0) {
    d->neg = 0;
    d->exp = 0;
    return 0;
  }
  d->exp = (intlen ? intlen : -lead) + e;
  return 0;
}

static int dec_cmp(const dec *a, const dec *b) {
  if (a->n == 0 || b->n == 0) {
    if (a->n == 0 && b->n == 0) return 0;
    if (a->n == 0) return b->neg ? 1 : -1;
    return a->neg ? -1 : 1;
  }
  if (a->neg != b->neg) return a->neg ? -1 : 1;
  int mag;
  if (a->exp != b->exp) {
    mag = a->exp < b->exp ? -1 : 1;
  } else {
    size_t m = a->n < b->n ? a->n : b->n;
    int c = memcmp(a->digits, b->digits, m);
    mag = c < 0 ? -1 : c > 0 ? 1 : a->n < b->n ? -1 : a->n > b->n ? 1 : 0;
  }
  return a->neg ? -mag : mag;
}

int sim_num_cmp(const char *a, const char *b) {
  dec x, y;
  if (dec_parse(a, &x) || dec_parse(b, &y)) return -2;
  return dec_cmp(&x, &y);
}

/* The value times 1000, rounded half away from zero, as an integer (epoch seconds -> ms). */
static int dec_millis(const dec *d, long long *out) {
  if (d->n == 0) {
    *out = 0;
    return 0;
  }
  long shift = d->exp + 3; /* digits before the point of value*1000 */
  if (shift > 18) return -1;
  long long v = 0;
  for (long i = 0; i < shift; i++) v = v * 10 + (i < (long)d->n ? d->digits[i] - '0' : 0);
  if (shift >= 0 && shift < (long)d->n && d->digits[shift] >= '5') v++;
  if (shift < 0) v = 0;
  *out = d->neg ? -v : v;
  return 0;
}

int sim_seq_cmp(const char *a, size_t alen, const char *b, size_t blen) {
  while (alen > 1 && *a == '0') a++, alen--;
  while (blen > 1 && *b == '0') b++, blen--;
  if (alen != blen) return alen < blen ? -1 : 1;
  int c = memcmp(a, b, alen);
  return c < 0 ? -1 : c > 0;
}

/* ---- RFC 3339 ---- */

static int digits(const char *s, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (!isdigit((unsigned char)s[i])) return -1;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int sim_rfc3339(const char *s, int64_t *ms, int32_t *sub_ns) {
  int y, mo, d, h, mi, se;
  if (strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
      s[7] != '-' || digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
      digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
      digits(s + 17, 2, &se))
    return -1;
  static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) ||
      h > 23 || mi > 59 || se > 60)
    return -1;
  const char *p = s + 19;
  int64_t frac_ns = 0;
  if (*p == '.') {
    p++;
    if (!isdigit((unsigned char)*p)) return -1;
    int64_t scale = 100000000;
    for (; isdigit((unsigned char)*p); p++) {
      frac_ns += (*p - '0') * scale;
      scale /= 10;
    }
  }
  int64_t off_s = 0;
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int oh, om;
    if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
      return -1;
    off_s = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
    p += 6;
  } else {
    return -1;
  }
  if (*p) return -1;
  int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off_s;
  *ms = secs * 1000 + frac_ns / 1000000;
  *sub_ns = (int32_t)(frac_ns % 1000000);
  return 0;
}

/* ---- regular expressions ---- */

/* PCRE shorthand classes into POSIX ERE; other syntax is shared by the two. */
static char *translate_regex(const char *p) {
  size_t n = strlen(p);
  char *out = malloc(n * 16 + 1);
  if (!out) return NULL;
  size_t o = 0;
  int in_class = 0;
  for (size_t i = 0; i < n; i++) {
    const char *rep = NULL;
    if (p[i] == '\\' && i + 1 < n) {
      switch (p[i + 1]) {
      case 'd': rep = in_class ? "0-9" : "[0-9]"; break;
      case 'D': rep = in_class ? NULL : "[^0-9]"; break;
      case 'w': rep = in_class ? "A-Za-z0-9_" : "[A-Za-z0-9_]"; break;
      case 'W': rep = in_class ? NULL : "[^A-Za-z0-9_]"; break;
      case 's': rep = in_class ? "[:space:]" : "[[:space:]]"; break;
      case 'S': rep = in_class ? NULL : "[^[:space:]]"; break;
      default: break;
      }
      if (rep) {
        memcpy(out + o, rep, strlen(rep));
        o += strlen(rep);
        i++;
        continue;
      }
      if (in_class) { /* a backslash is literal inside a POSIX bracket expression */
        out[o++] = p[++i];
        continue;
      }
      out[o++] = p[i++];
      out[o++] = p[i];
      continue;
    }
    if (!in_class && p[i] == '[') {
      in_class = 1;
      out[o++] = p[i];
      if (i + 1 < n && p[i + 1] == '^') out[o++] = p[++i];
      if (i + 1 < n && p[i + 1] == ']') out[o++] = p[++i];
      continue;
    }
    if (in_class && p[i] == ']') in_class = 0;
    out[o++] = p[i];
  }
  out[o] = '\0';
  return out;
}

int sim_regex(const char *pattern, const char *text) {
  char *ere = translate_regex(pattern);
  if (!ere) return -1;
  regex_t re;
  int rc = regcomp(&re, ere, REG_EXTENDED | REG_NOSUB);
  free(ere);
  if (rc) return -1;
  rc = regexec(&re, text, 0, NULL, 0) == 0;
  regfree(&re);
  return rc;
}

/* ---- matcher shape ---- */

static const char *const matcher_keys[] = {
    "$regex", "$any", "$min", "$max", "$ref", "$type", "$integer_digits", "$json_float",
    "$rfc3339_instant", "$json_encoded_or_object", "$preferred", NULL};

static const char *check_one(const char *k, yajl_val v, yajl_val m) {
  if (!strcmp(k, "$regex")) {
    if (!YAJL_IS_STRING(v)) return "$regex: a string expected";
    if (sim_regex(v->u.string, "") < 0) return "$regex: not a valid regular expression";
  } else if (!strcmp(k, "$min") || !strcmp(k, "$max")) {
    if (!YAJL_IS_NUMBER(v)) return "$min/$max: a number expected";
  } else if (!strcmp(k, "$ref")) {
    if (!YAJL_IS_STRING(v) || strcmp(v->u.string, "invocation_count"))
      return "$ref: only \"invocation_count\" is defined";
  } else if (!strcmp(k, "$type")) {
    static const char *const types[] = {"number", "string", "object", "array", "boolean", "null", NULL};
    int ok = 0;
    for (int i = 0; YAJL_IS_STRING(v) && types[i]; i++) ok |= !strcmp(v->u.string, types[i]);
    if (!ok) return "$type: one of number, string, object, array, boolean, null expected";
  } else if (!strcmp(k, "$integer_digits")) {
    if (!YAJL_IS_INTEGER(v) || v->u.number.i < 1) return "$integer_digits: a positive integer expected";
  } else if (!strcmp(k, "$json_float")) {
    if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v)) return "$json_float: a boolean expected";
  } else if (!strcmp(k, "$rfc3339_instant")) {
    int64_t ms;
    int32_t sub;
    if (!YAJL_IS_STRING(v) || sim_rfc3339(v->u.string, &ms, &sub))
      return "$rfc3339_instant: an RFC 3339 instant expected";
  } else if (!strcmp(k, "$preferred")) {
    if (!YAJL_IS_STRING(v) || (strcmp(v->u.string, "string") && strcmp(v->u.string, "object")))
      return "$preferred: \"string\" or \"object\" expected";
    if (!jv_get(m, "$json_encoded_or_object")) return "$preferred: only with $json_encoded_or_object";
  }
  return NULL;
}

const char *sim_matcher_check(yajl_val e, sim_path *path) {
  if (jv_is_matcher(e)) {
    for (size_t i = 0; i < e->u.object.len; i++) {
      const char *k = e->u.object.keys[i];
      int known = 0;
      for (int j = 0; matcher_keys[j]; j++) known |= !strcmp(k, matcher_keys[j]);
      size_t old = path_key(path, k);
      const char *why = known ? check_one(k, e->u.object.values[i], e) : "unknown matcher";
      if (!why && !strcmp(k, "$json_encoded_or_object")) why = sim_matcher_check(e->u.object.values[i], path);
      if (why) return why; /* the path keeps the matcher key */
      path_pop(path, old);
    }
    return NULL;
  }
  if (YAJL_IS_OBJECT(e)) {
    for (size_t i = 0; i < e->u.object.len; i++) {
      size_t old = path_key(path, e->u.object.keys[i]);
      const char *why = sim_matcher_check(e->u.object.values[i], path);
      if (why) return why;
      path_pop(path, old);
    }
  } else if (YAJL_IS_ARRAY(e)) {
    for (size_t i = 0; i < e->u.array.len; i++) {
      size_t old = path_idx(path, i);
      const char *why = sim_matcher_check(e->u.array.values[i], path);
      if (why) return why;
      path_pop(path, old);
    }
  }
  return NULL;
}

/* ---- comparison ---- */

static int differ(sim_match_ctx *c, sim_path *p, yajl_val expected, yajl_val actual,
                  const char *why) {
  char e[400], a[400];
  jv_render(expected, e, sizeof e);
  jv_render(actual, a, sizeof a);
  if (why)
    rep_fail(c->rep, "%s: %s (expected %s, actual %s)", p->len ? p->buf : "(value)", why, e, a);
  else
    rep_fail(c->rep, "%s: expected %s, actual %s", p->len ? p->buf : "(value)", e, a);
  return 0;
}

static const char *type_of(yajl_val v) {
  if (YAJL_IS_NUMBER(v)) return "number";
  if (YAJL_IS_STRING(v)) return "string";
  if (YAJL_IS_OBJECT(v)) return "object";
  if (YAJL_IS_ARRAY(v)) return "array";
  if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) return "boolean";
  return "null";
}

static int match_matcher(sim_match_ctx *c, yajl_val m, yajl_val a, sim_path *p) {
  if (!a) return differ(c, p, m, a, "missing");
  yajl_val v;
  if ((v = jv_get(m, "$type")) && strcmp(type_of(a), v->u.string))
    return differ(c, p, m, a, "wrong type");
  if ((v = jv_get(m, "$regex"))) {
    if (!YAJL_IS_STRING(a)) return differ(c, p, m, a, "not a string");
    int r = sim_regex(v->u.string, a->u.string);
    if (r < 0) return differ(c, p, m, a, "bad regular expression");
    if (!r) return differ(c, p, m, a, "no regex match");
  }
  yajl_val mn = jv_get(m, "$min"), mx = jv_get(m, "$max");
  if (mn || mx) {
    if (!YAJL_IS_NUMBER(a)) return differ(c, p, m, a, "not a number");
    if (mn && sim_num_cmp(a->u.number.r, mn->u.number.r) < 0) return differ(c, p, m, a, "below $min");
    if (mx && sim_num_cmp(a->u.number.r, mx->u.number.r) > 0) return differ(c, p, m, a, "above $max");
  }
  if (jv_get(m, "$ref")) {
    char tok[32];
    snprintf(tok, sizeof tok, "%lld", (long long)c->invocation_count);
    if (!YAJL_IS_NUMBER(a) || sim_num_cmp(a->u.number.r, tok) != 0) {
      char why[64];
      snprintf(why, sizeof why, "not the invocation count %s", tok);
      return differ(c, p, m, a, why);
    }
  }
  if ((v = jv_get(m, "$integer_digits"))) {
    dec d;
    if (!YAJL_IS_NUMBER(a) || dec_parse(a->u.number.r, &d)) return differ(c, p, m, a, "not a number");
    long got = d.exp > 0 ? d.exp : 1;
    if (got != v->u.number.i) return differ(c, p, m, a, "wrong number of integer digits");
  }
  if ((v = jv_get(m, "$json_float"))) {
    if (!YAJL_IS_NUMBER(a)) return differ(c, p, m, a, "not a number");
    int is_float = strpbrk(a->u.number.r, ".eE") != NULL;
    if (is_float != YAJL_IS_TRUE(v))
      return differ(c, p, m, a, is_float ? "a float token" : "not a float token");
  }
  if ((v = jv_get(m, "$rfc3339_instant"))) {
    int64_t want, got;
    int32_t wsub, gsub;
    sim_rfc3339(v->u.string, &want, &wsub);
    if (!YAJL_IS_STRING(a) || sim_rfc3339(a->u.string, &got, &gsub))
      return differ(c, p, m, a, "not an RFC 3339 instant");
    if (want != got || wsub != gsub) return differ(c, p, m, a, "a different instant");
  }
  if ((v = jv_get(m, "$json_encoded_or_object"))) {
    yajl_val pref = jv_get(m, "$preferred");
    int ok;
    if (YAJL_IS_STRING(a) && !YAJL_IS_STRING(v)) {
      char err[128];
      yajl_val parsed = yajl_tree_parse(a->u.string, err, sizeof err);
      if (!parsed) return differ(c, p, m, a, "a string that is not JSON");
      size_t old = path_key(p, "(decoded)");
      ok = sim_match(c, v, parsed, p);
      path_pop(p, old);
      yajl_tree_free(parsed);
      if (ok && pref && strcmp(pref->u.string, "string"))
        rep_note(c->rep, "%s: a JSON string, the spec's [INF] prefers an object", p->buf);
    } else {
      ok = sim_match(c, v, a, p);
      if (ok && pref && strcmp(pref->u.string, "object"))
        rep_note(c->rep, "%s: a JSON object, the spec's [INF] prefers an encoded string", p->buf);
    }
    if (!ok) return 0;
  }
  return 1; /* $any, $preferred: nothing more to check */
}

static int is_timestamp_key(const char *k) {
  return k && (!strcmp(k, "approximateArrivalTimestamp") || !strcmp(k, "ApproximateCreationDateTime"));
}

static int match_rec(sim_match_ctx *c, yajl_val e, yajl_val a, sim_path *p, const char *key) {
  if (jv_is_matcher(e)) return match_matcher(c, e, a, p);
  if (!a) return differ(c, p, e, a, "missing");
  if (YAJL_IS_NUMBER(e)) {
    if (!YAJL_IS_NUMBER(a)) return differ(c, p, e, a, NULL);
    if (is_timestamp_key(key)) {
      dec x, y;
      long long xm, ym;
      if (dec_parse(e->u.number.r, &x) || dec_parse(a->u.number.r, &y) || dec_millis(&x, &xm) ||
          dec_millis(&y, &ym) || xm != ym)
        return differ(c, p, e, a, "not the same millisecond");
      return 1;
    }
    return sim_num_cmp(e->u.number.r, a->u.number.r) == 0 ? 1 : differ(c, p, e, a, NULL);
  }
  if (YAJL_IS_STRING(e)) {
    if (!YAJL_IS_STRING(a)) return differ(c, p, e, a, NULL);
    int same = c->seq_strings && bp_seqnum_validate(e->u.string, strlen(e->u.string)) == 0
                   ? sim_seq_cmp(e->u.string, strlen(e->u.string), a->u.string,
                                 strlen(a->u.string)) == 0
                   : strcmp(e->u.string, a->u.string) == 0;
    return same ? 1 : differ(c, p, e, a, NULL);
  }
  if (YAJL_IS_ARRAY(e)) {
    if (!YAJL_IS_ARRAY(a)) return differ(c, p, e, a, NULL);
    size_t n = e->u.array.len < a->u.array.len ? e->u.array.len : a->u.array.len;
    for (size_t i = 0; i < n; i++) {
      size_t old = path_idx(p, i);
      int ok = match_rec(c, e->u.array.values[i], a->u.array.values[i], p, NULL);
      path_pop(p, old);
      if (!ok) return 0;
    }
    if (e->u.array.len != a->u.array.len) {
      char why[96];
      snprintf(why, sizeof why, "%zu elements expected, %zu found", e->u.array.len, a->u.array.len);
      return differ(c, p, e, a, why);
    }
    return 1;
  }
  if (YAJL_IS_OBJECT(e)) {
    if (!YAJL_IS_OBJECT(a)) return differ(c, p, e, a, NULL);
    for (size_t i = 0; i < e->u.object.len; i++) {
      const char *k = e->u.object.keys[i];
      size_t old = path_key(p, k);
      int ok = match_rec(c, e->u.object.values[i], jv_get(a, k), p, k);
      path_pop(p, old);
      if (!ok) return 0;
    }
    for (size_t i = 0; i < a->u.object.len; i++) {
      if (!jv_get(e, a->u.object.keys[i])) {
        size_t old = path_key(p, a->u.object.keys[i]);
        rep_fail(c->rep, "%s: unexpected member", p->buf);
        path_pop(p, old);
        return 0;
      }
    }
    return 1;
  }
  if (YAJL_IS_TRUE(e) || YAJL_IS_FALSE(e) || YAJL_IS_NULL(e))
    return e->type == a->type ? 1 : differ(c, p, e, a, NULL);
  return differ(c, p, e, a, "unsupported expected value");
}

int sim_match(sim_match_ctx *c, yajl_val expected, yajl_val actual, sim_path *path) {
  const char *key = NULL;
  /* the last path component names the member (for the timestamp rule) */
  if (path && path->len) {
    const char *dot = strrchr(path->buf, '.');
    key = dot ? dot + 1 : path->buf;
  }
  return match_rec(c, expected, actual, path, key);
}
