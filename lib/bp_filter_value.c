/* SPDX-License-Identifier: MIT */
/*
 * Value matchers of the filter language, each reproducing what event-ruler does underneath:
 * numbers as ComparableNumber (BigDecimal -> double, exactly representable or nothing), IP
 * literals as java.net.InetAddress parses them, equals-ignore-case as per-character
 * alternatives, wildcards as WildcardParser accepts them, and EventBridge's wildcard
 * complexity measure. No locale, no floating-point parsing of text with a decimal point.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bp_filter_int.h"

int bp__filter_grow(const bp_allocator *a, void **p, size_t *cap, size_t need, size_t size) {
  if (need <= *cap) return 0;
  size_t n = *cap ? *cap : 16;
  while (n < need) {
    if (n > SIZE_MAX / 2 / size) return BP_ERR_NOMEM;
    n *= 2;
  }
  void *q = bp__realloc(a, *p, n * size);
  if (!q) return BP_ERR_NOMEM;
  *p = q;
  *cap = n;
  return 0;
}

/* ---- Numbers ---- */

/* A decimal as significant digits (no leading or trailing zeros) times 10^exp. */
typedef struct fv_decimal {
  char dig[24];
  size_t n;
  long long exp;
} fv_decimal;

/* Normalize a JSON number token (or "%e" output: any non-digit before the exponent is the
 * decimal point). @return 0, or -1 when it has more than 17 significant digits. */
static int fv_decimal_of(const char *s, size_t len, fv_decimal *d) {
  size_t i = 0, zeros = 0;
  long long frac = 0;
  int point = 0;
  d->n = 0;
  if (i < len && (s[i] == '-' || s[i] == '+')) i++;
  for (; i < len && s[i] != 'e' && s[i] != 'E'; i++) {
    if (s[i] < '0' || s[i] > '9') {
      point = 1;
      continue;
    }
    if (point) frac++;
    if (s[i] == '0') {
      if (d->n) zeros++; /* leading zeros carry nothing */
      continue;
    }
    if (d->n + zeros + 1 > 17) return -1;
    while (zeros) d->dig[d->n++] = '0', zeros--;
    d->dig[d->n++] = s[i];
  }
  long long e = 0;
  int neg = 0;
  if (i < len) {
    i++;
    if (i < len && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
    for (; i < len; i++)
      if (e < 1000000000LL) e = e * 10 + (s[i] - '0');
  }
  d->exp = (neg ? -e : e) + (long long)zeros - frac;
  return 0;
}

/* The double nearest to a normalized decimal (no decimal point: locale-proof). Up to 15
 * digits times 10^-22 .. 10^22 both operands are exact doubles, so one IEEE multiply or
 * divide (evaluated in double precision) rounds correctly; the rest goes through strtod. */
static double fv_decimal_value(const fv_decimal *d) {
#if FLT_EVAL_METHOD == 0
  static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  if (d->n <= 15 && d->exp >= -22 && d->exp <= 22) {
    uint64_t m = 0;
    for (size_t i = 0; i < d->n; i++) m = m * 10 + (uint64_t)(d->dig[i] - '0');
    return d->exp >= 0 ? (double)m * pow10[d->exp] : (double)m / pow10[-d->exp];
  }
#endif
  char buf[64];
  long long e = d->exp;
  if (e > 100000) e = 100000;
  if (e < -100000) e = -100000;
  memcpy(buf, d->dig, d->n);
  snprintf(buf + d->n, sizeof buf - d->n, "e%lld", e);
  return strtod(buf, NULL);
}

/* The common token: optional '-', at most 15 digits with at most one '.', no exponent. Its
 * digits make an integer m < 10^15 and its value is m / 10^f (f digits after the point):
 * both exact doubles, so one division rounds correctly, to the double fv_decimal_value()
 * reaches from the normalized digits (the same real number, also correctly rounded), and
 * up to 15 significant digits every such value round-trips. @return 1 (*out set), 0 not
 * comparable, -1 another form (the general path decides). */
static int fv_comparable_short(const char *s, size_t n, double *out) {
#if FLT_EVAL_METHOD != 0 /* a division in wider precision would round twice */
  (void)s, (void)n, (void)out;
  return -1;
#else
  static const double pow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6, 1e7,
                                 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  size_t i = n && s[0] == '-', digits = 0, frac = 0;
  int point = 0;
  uint64_t m = 0;
  if (n - i > 16) return -1;
  for (; i < n; i++) {
    unsigned d = (unsigned)(unsigned char)s[i] - '0';
    if (d <= 9) {
      m = m * 10 + d;
      digits++;
      frac += (size_t)point;
    } else if (s[i] == '.' && !point) {
      point = 1;
    } else {
      return -1;
    }
  }
  if (digits == 0 || digits > 15) return -1;
  double v = (double)m / pow10[frac];
  *out = s[0] == '-' && m ? -v : v; /* BigDecimal has no negative zero */
  return 1;
#endif
}

int bp__filter_comparable(const char *s, size_t n, double *out) {
  int quick = fv_comparable_short(s, n, out);
  if (quick >= 0) return quick;
  fv_decimal d;
  if (fv_decimal_of(s, n, &d) < 0) return 0; /* more digits than any double's shortest form */
  if (d.n == 0) {
    *out = 0.0; /* BigDecimal has no negative zero */
    return 1;
  }
  double v = fv_decimal_value(&d);
  if (!isfinite(v) || v == 0.0) return 0;
  int neg = n && s[0] == '-';
  *out = neg ? -v : v;
  /* Up to 15 significant digits every normal double round-trips its decimal (DBL_DIG). */
  if (d.n <= 15 && v >= DBL_MIN) return 1;
  /* Otherwise compare with the shortest representation (Java's Double.toString). */
  for (int p = 1; p <= 17; p++) {
    char buf[48];
    fv_decimal t;
    snprintf(buf, sizeof buf, "%.*e", p - 1, v);
    if (fv_decimal_of(buf, strlen(buf), &t) < 0 || fv_decimal_value(&t) != v) continue;
    return t.n == d.n && t.exp == d.exp && memcmp(t.dig, d.dig, d.n) == 0;
  }
  return 0;
}

/* ---- IP addresses ---- */

static int fv_is_digit(char c) { return c >= '0' && c <= '9'; }

static int fv_hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* event-ruler's gate before InetAddress: [0-9]+\.[0-9]+\.[0-9]+\.[0-9]+ */
static int fv_looks_v4(const char *s, size_t n) {
  int dots = 0, run = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '.') {
      if (!run || ++dots > 3) return 0;
      run = 0;
    } else if (fv_is_digit(s[i])) {
      run++;
    } else {
      return 0;
    }
  }
  return dots == 3 && run;
}

/* ... and [0-9a-fA-F:]*:[0-9a-fA-F:]* */
static int fv_looks_v6(const char *s, size_t n) {
  int colon = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == ':')
      colon = 1;
    else if (fv_hex(s[i]) < 0)
      return 0;
  }
  return colon;
}

/* java.net IPAddressUtil.textToNumericFormatV4 on a string that passed looks_v4. */
static int fv_parse_v4(const char *s, size_t n, uint8_t *out) {
  if (n > 15) return -1;
  unsigned long v = 0;
  int k = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '.') {
      if (v > 255) return -1;
      out[k++] = (uint8_t)v;
      v = 0;
    } else {
      v = v * 10 + (unsigned long)(s[i] - '0');
    }
  }
  if (v > 255) return -1;
  out[k] = (uint8_t)v;
  return 4;
}

/* IPAddressUtil.textToNumericFormatV6 on a string that passed looks_v6 (so no '%', no '.'). */
static int fv_parse_v6(const char *s, size_t n, uint8_t *out) {
  uint8_t dst[16] = {0};
  size_t i = 0, j = 0;
  long colonp = -1;
  int saw = 0;
  unsigned v = 0;
  if (n < 2) return -1;
  if (s[0] == ':' && s[++i] != ':') return -1;
  while (i < n) {
    char ch = s[i++];
    int h = fv_hex(ch);
    if (h >= 0) {
      v = (v << 4) | (unsigned)h;
      if (v > 0xffff) return -1;
      saw = 1;
      continue;
    }
    if (!saw) {
      if (colonp != -1) return -1;
      colonp = (long)j;
      continue;
    }
    if (i == n || j + 2 > 16) return -1;
    dst[j++] = (uint8_t)(v >> 8);
    dst[j++] = (uint8_t)v;
    saw = 0;
    v = 0;
  }
  if (saw) {
    if (j + 2 > 16) return -1;
    dst[j++] = (uint8_t)(v >> 8);
    dst[j++] = (uint8_t)v;
  }
  if (colonp != -1) {
    if (j == 16) return -1;
    size_t moved = j - (size_t)colonp;
    for (size_t k = 1; k <= moved; k++) {
      dst[16 - k] = dst[(size_t)colonp + moved - k];
      dst[(size_t)colonp + moved - k] = 0;
    }
    j = 16;
  }
  if (j != 16) return -1;
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (memcmp(dst, mapped, 12) == 0) { /* Java hands IPv4-mapped addresses back as IPv4 */
    memcpy(out, dst + 12, 4);
    return 4;
  }
  memcpy(out, dst, 16);
  return 16;
}

int bp__filter_ip_parse(const char *s, size_t n, uint8_t out[16]) {
  if (fv_looks_v4(s, n)) return fv_parse_v4(s, n, out);
  if (fv_looks_v6(s, n)) return fv_parse_v6(s, n, out);
  return 0;
}

/* ---- Equals-ignore-case ---- */

/* Decode one code point of valid UTF-8 at s (n > 0); *len its byte count. */
static uint32_t fv_utf8_next(const unsigned char *s, size_t n, size_t *len) {
  if (s[0] < 0x80 || n < 2) {
    *len = 1;
    return s[0];
  }
  if (s[0] < 0xE0) {
    *len = 2;
    return ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
  }
  if (s[0] < 0xF0 || n < 4) {
    *len = n < 3 ? n : 3;
    return ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) |
           (n > 2 ? (s[2] & 0x3F) : 0);
  }
  *len = 4;
  return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
         ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
}

static size_t fv_utf8_put(uint32_t cp, uint8_t *o) {
  if (cp < 0x80) {
    o[0] = (uint8_t)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (uint8_t)(0xC0 | (cp >> 6));
    o[1] = (uint8_t)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (uint8_t)(0xE0 | (cp >> 12));
    o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (uint8_t)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (uint8_t)(0xF0 | (cp >> 18));
  o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (uint8_t)(0x80 | (cp & 0x3F));
  return 4;
}

/* One character's record: u8 a, lower form, u8 b, upper form (b = 0: same). */
static size_t fv_eic_char(uint32_t cp, const unsigned char *raw, size_t raw_len, uint8_t *o) {
  uint32_t lo[3], up[3];
  size_t nl = 1, nu = 1;
  uint8_t a[12], b[12];
  size_t al = 0, bl = 0;
  if (cp > 0xFFFF) { /* outside the BMP: compared exactly (see bp_filter.h) */
    memcpy(a, raw, raw_len);
    al = raw_len;
  } else {
    nu = bp__filter_case(cp, lo, &nl, up);
    for (size_t i = 0; i < nl; i++) al += fv_utf8_put(lo[i], a + al);
    for (size_t i = 0; i < nu; i++) bl += fv_utf8_put(up[i], b + bl);
    if (al == bl && memcmp(a, b, al) == 0) bl = 0;
  }
  size_t k = 0;
  o[k++] = (uint8_t)al;
  memcpy(o + k, a, al);
  k += al;
  o[k++] = (uint8_t)bl;
  memcpy(o + k, b, bl);
  return k + bl;
}

int bp__filter_eic_encode(bp__buf *pool, const char *s, size_t n, int reverse) {
  const unsigned char *u = (const unsigned char *)s;
  uint8_t rec[32];
  if (!reverse) {
    for (size_t i = 0; i < n;) {
      size_t len;
      uint32_t cp = fv_utf8_next(u + i, n - i, &len);
      size_t k = fv_eic_char(cp, u + i, len, rec);
      if (bp__buf_append(pool, rec, k)) return BP_ERR_NOMEM;
      i += len;
    }
    return 0;
  }
  for (size_t end = n; end > 0;) {
    size_t start = end - 1;
    while (start > 0 && (u[start] & 0xC0) == 0x80) start--;
    size_t len;
    uint32_t cp = fv_utf8_next(u + start, end - start, &len);
    size_t k = fv_eic_char(cp, u + start, end - start, rec);
    if (bp__buf_append(pool, rec, k)) return BP_ERR_NOMEM;
    end = start;
  }
  return 0;
}

int bp__filter_eic_match(const uint8_t *enc, size_t enc_len, const char *s, size_t n, int mode) {
  size_t pos = 0, end = n;
  for (size_t k = 0; k < enc_len;) {
    size_t a = enc[k];
    const uint8_t *fa = enc + k + 1;
    size_t b = enc[k + 1 + a];
    const uint8_t *fb = enc + k + 2 + a;
    k += 2 + a + b;
    if (mode == 2) { /* suffix: records are last character first */
      if (a <= end && memcmp(s + end - a, fa, a) == 0)
        end -= a;
      else if (b && b <= end && memcmp(s + end - b, fb, b) == 0)
        end -= b;
      else
        return 0;
    } else {
      if (a <= n - pos && memcmp(s + pos, fa, a) == 0)
        pos += a;
      else if (b && b <= n - pos && memcmp(s + pos, fb, b) == 0)
        pos += b;
      else
        return 0;
    }
  }
  return mode != 0 || pos == n;
}

/* ---- Wildcards ---- */

int bp__filter_wild_check(const char *s, size_t n, char *msg, size_t msg_len) {
  /* Positions count the opening quote event-ruler puts around the value. */
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '*') {
      if (i + 1 < n && s[i + 1] == '*') {
        snprintf(msg, msg_len, "Consecutive wildcard characters at pos %zu", i + 1);
        return -1;
      }
    } else if (s[i] == '\\') {
      if (i + 1 < n && (s[i + 1] == '*' || s[i + 1] == '\\')) {
        i++;
        continue;
      }
      snprintf(msg, msg_len, "Invalid escape character at pos %zu", i + 1);
      return -1;
    }
  }
  return 0;
}

static void fv_put_u32(uint8_t *o, uint32_t v) { memcpy(o, &v, 4); }
static uint32_t fv_get_u32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

int bp__filter_wild_encode(bp__buf *pool, const char *s, size_t n) {
  /* Two passes over the operand: count the segments, then write each unescaped. */
  uint32_t nseg = 1;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '\\')
      i++;
    else if (s[i] == '*')
      nseg++;
  }
  uint8_t hdr[4];
  fv_put_u32(hdr, nseg);
  if (bp__buf_append(pool, hdr, 4)) return BP_ERR_NOMEM;
  size_t i = 0;
  for (uint32_t k = 0; k < nseg; k++) {
    size_t at = pool->len;
    if (bp__buf_append(pool, hdr, 4)) return BP_ERR_NOMEM;
    uint32_t len = 0;
    for (; i < n && s[i] != '*'; i++) {
      if (s[i] == '\\') i++;
      if (bp__buf_append(pool, s + i, 1)) return BP_ERR_NOMEM;
      len++;
    }
    i++; /* the wildcard */
    fv_put_u32((uint8_t *)pool->data + at, len);
  }
  return 0;
}

size_t bp__filter_wild_size(const uint8_t *enc) {
  uint32_t nseg = fv_get_u32(enc);
  size_t k = 4;
  for (uint32_t i = 0; i < nseg; i++) k += 4 + fv_get_u32(enc + k);
  return k;
}

static const char *fv_find(const char *h, size_t hn, const uint8_t *nd, size_t nn) {
  if (nn == 0) return h;
  for (size_t i = 0; i + nn <= hn; i++)
    if (h[i] == (char)nd[0] && memcmp(h + i, nd, nn) == 0) return h + i;
  return NULL;
}

int bp__filter_wild_match(const uint8_t *enc, const char *s, size_t n) {
  uint32_t nseg = fv_get_u32(enc);
  const uint8_t *p = enc + 4;
  uint32_t len = fv_get_u32(p);
  if (nseg == 1) return len == n && memcmp(p + 4, s, n) == 0;
  /* First segment anchors the start, the last the end, the middle ones go leftmost. */
  if (len > n || memcmp(p + 4, s, len) != 0) return 0;
  size_t pos = len;
  p += 4 + len;
  for (uint32_t k = 1; k + 1 < nseg; k++) {
    len = fv_get_u32(p);
    const char *at = fv_find(s + pos, n - pos, p + 4, len);
    if (!at) return 0;
    pos = (size_t)(at - s) + len;
    p += 4 + len;
  }
  len = fv_get_u32(p);
  return len <= n - pos && memcmp(s + n - len, p + 4, len) == 0;
}

/*
 * Complexity. Each operand becomes the token list of its quoted value ('"', bytes and
 * wildcards, '"'). NFA states: one per byte token (that byte consumed) and one per wildcard
 * (inside it). A state followed by a wildcard can enter it on any byte or skip it. The
 * measure of a set of simultaneously active states is its size plus the wildcards its
 * members can enter that are not active yet; event-ruler's MachineComplexityEvaluator
 * counts the same way: 7 for the accepted "/Users/<wildcard>/dir/dir/dir/dir/dir/doc.txt", 11
 * for "<w>:<w>:<w>:<w>:<w>:event-bus/<w>" that EventBridge rejects (FILTERS.md 4.9).
 */
typedef struct fv_nfa {
  int16_t *byte; /* token k: a byte, or -1 for a wildcard */
  uint32_t *end; /* token k: end of its operand's tokens */
  size_t nt;
  uint32_t *start; /* first token of each operand */
  size_t nops;
} fv_nfa;

typedef struct fv_set {
  uint32_t n;
  uint32_t s[16]; /* state k + 1: token k consumed (byte) or being matched (wildcard) */
} fv_set;

static void fv_set_add(fv_set *x, uint32_t v) {
  for (uint32_t i = 0; i < x->n; i++)
    if (x->s[i] == v) return;
  if (x->n < 16) x->s[x->n++] = v;
}

static int fv_set_has(const fv_set *x, uint32_t v) {
  for (uint32_t i = 0; i < x->n; i++)
    if (x->s[i] == v) return 1;
  return 0;
}

/* Consume byte c with token p next (p < e, the operand's end). */
static void fv_moves(const fv_nfa *w, uint32_t p, uint32_t e, int c, fv_set *out) {
  if (p >= e) return;
  if (w->byte[p] < 0) {
    fv_set_add(out, p + 1);        /* the wildcard takes the byte */
    fv_moves(w, p + 1, e, c, out); /* or matches nothing */
  } else if (w->byte[p] == c) {
    fv_set_add(out, p + 1);
  }
}

static void fv_step(const fv_nfa *w, uint32_t st, int c, fv_set *out) {
  if (st == 0) {
    for (size_t i = 0; i < w->nops; i++) fv_moves(w, w->start[i], w->end[w->start[i]], c, out);
    return;
  }
  uint32_t k = st - 1;
  if (w->byte[k] < 0) fv_set_add(out, st); /* stay inside the wildcard */
  fv_moves(w, k + 1, w->end[k], c, out);
}

static int fv_measure(const fv_nfa *w, const fv_set *x) {
  int m = (int)x->n;
  for (uint32_t i = 0; i < x->n; i++) {
    uint32_t k = x->s[i] - 1;
    if (w->byte[k] < 0 || k + 1 >= w->end[k]) continue;
    if (w->byte[k + 1] < 0 && !fv_set_has(x, k + 2)) m++; /* a wildcard it can enter next */
  }
  return m;
}

static int fv_set_cmp(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static uint64_t fv_set_hash(const fv_set *x) {
  uint64_t h = 1469598103934665603ull ^ x->n;
  for (uint32_t i = 0; i < x->n; i++) h = (h ^ x->s[i]) * 1099511628211ull;
  return h;
}

#define FV_MAX_DFA_STATES 20000

int bp__filter_wild_complexity(const bp_allocator *a, const uint8_t *const *encs, size_t n,
                               int cap) {
  if (cap > 15) cap = 15;
  fv_nfa w = {NULL, NULL, 0, NULL, n};
  size_t total = 0;
  for (size_t i = 0; i < n; i++) total += bp__filter_wild_size(encs[i]) + 2;
  int rc = BP_ERR_NOMEM, result = 0;
  fv_set *queue = NULL;
  uint64_t *hashes = NULL;
  size_t hcap = 1;
  while (hcap < 2 * FV_MAX_DFA_STATES) hcap *= 2;
  w.byte = bp__calloc(a, total ? total : 1, sizeof *w.byte);
  w.end = bp__calloc(a, total ? total : 1, sizeof *w.end);
  w.start = bp__calloc(a, n ? n : 1, sizeof *w.start);
  queue = bp__calloc(a, FV_MAX_DFA_STATES, sizeof *queue);
  hashes = bp__calloc(a, hcap, sizeof *hashes);
  if (!w.byte || !w.end || !w.start || !queue || !hashes) goto out;
  uint8_t used[256] = {0};
  for (size_t i = 0; i < n; i++) {
    w.start[i] = (uint32_t)w.nt;
    w.byte[w.nt++] = '"';
    uint32_t nseg = fv_get_u32(encs[i]);
    const uint8_t *p = encs[i] + 4;
    for (uint32_t k = 0; k < nseg; k++) {
      uint32_t len = fv_get_u32(p);
      if (k) w.byte[w.nt++] = -1;
      for (uint32_t j = 0; j < len; j++) {
        w.byte[w.nt++] = p[4 + j];
        used[p[4 + j]] = 1;
      }
      p += 4 + len;
    }
    w.byte[w.nt++] = '"';
    for (size_t k = w.start[i]; k < w.nt; k++) w.end[k] = (uint32_t)w.nt;
  }
  used['"'] = 1;
  int other = -1; /* one byte standing for every byte no operand names */
  for (int c = 0; c < 256 && other < 0; c++)
    if (!used[c]) other = c;
  size_t head = 0, tail = 0;
  queue[tail].n = 1;
  queue[tail++].s[0] = 0;
  while (head < tail) {
    fv_set cur = queue[head++];
    for (int c = 0; c < 256; c++) {
      if (!used[c] && c != other) continue;
      fv_set nx;
      nx.n = 0;
      for (uint32_t i = 0; i < cur.n; i++) fv_step(&w, cur.s[i], c, &nx);
      if (!nx.n) continue;
      int m = fv_measure(&w, &nx);
      if (m > result) result = m;
      if (result >= cap || nx.n >= 16 || tail == FV_MAX_DFA_STATES) {
        result = cap; /* capped like event-ruler's evaluator */
        rc = 0;
        goto out;
      }
      qsort(nx.s, nx.n, sizeof nx.s[0], fv_set_cmp);
      uint64_t h = fv_set_hash(&nx) | 1;
      size_t slot = (size_t)(h & (hcap - 1));
      int seen = 0;
      while (hashes[slot]) { /* a 64-bit FNV hash stands for the set */
        if (hashes[slot] == h) {
          seen = 1;
          break;
        }
        slot = (slot + 1) & (hcap - 1);
      }
      if (seen) continue;
      hashes[slot] = h;
      queue[tail++] = nx;
    }
  }
  rc = 0;
out:
  bp__free(a, w.byte);
  bp__free(a, w.end);
  bp__free(a, w.start);
  bp__free(a, queue);
  bp__free(a, hashes);
  return rc ? rc : result;
}

/* ---- Java string order ---- */

int bp__filter_java_cmp(const char *a, size_t an, const char *b, size_t bn) {
  const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
  size_t i = 0, j = 0;
  while (i < an && j < bn) {
    size_t li, lj;
    uint32_t p = fv_utf8_next(x + i, an - i, &li), q = fv_utf8_next(y + j, bn - j, &lj);
    if (p != q) {
      /* UTF-16 units: a supplementary character starts with a high surrogate. */
      uint32_t up = p > 0xFFFF ? 0xD800 + ((p - 0x10000) >> 10) : p;
      uint32_t uq = q > 0xFFFF ? 0xD800 + ((q - 0x10000) >> 10) : q;
      if (up != uq) return up < uq ? -1 : 1;
      return p < q ? -1 : 1;
    }
    i += li;
    j += lj;
  }
  return (i < an) - (j < bn);
}
