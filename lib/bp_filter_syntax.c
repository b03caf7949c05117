/* SPDX-License-Identifier: MIT */
/*
 * Reason texts for pattern texts that are not JSON, worded like the Jackson parser messages
 * event-ruler passes on (the part before Jackson's location suffix): a small recursive scan
 * that only runs after yajl has rejected the text, to say what and where.
 */
#include <stdio.h>
#include <string.h>

#include "bp_filter_int.h"

#define FS_MSG_STR 120

static int fs_quote_len(const char *s, size_t n) {
  if (n <= FS_MSG_STR) return (int)n;
  n = FS_MSG_STR;
  while (n && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
  return (int)n;
}

typedef struct fs_scan {
  const unsigned char *s;
  size_t n, i;
  char *msg;
  size_t msg_len;
} fs_scan;

static void fs_ws(fs_scan *t) {
  while (t->i < t->n &&
         (t->s[t->i] == ' ' || t->s[t->i] == '\t' || t->s[t->i] == '\n' || t->s[t->i] == '\r'))
    t->i++;
}

static int fs_fail(fs_scan *t, const char *expect) {
  if (t->i >= t->n) {
    snprintf(t->msg, t->msg_len, "Unexpected end-of-input: %s", expect);
    return -1;
  }
  unsigned c = t->s[t->i];
  if (c < 0x20)
    snprintf(t->msg, t->msg_len, "Unexpected character ((CTRL-CHAR, code %u)): %s", c, expect);
  else if (c < 0x80)
    snprintf(t->msg, t->msg_len, "Unexpected character ('%c' (code %u)): %s", (int)c, c, expect);
  else
    snprintf(t->msg, t->msg_len, "Unexpected character (code %u): %s", c, expect);
  return -1;
}

static int fs_ident(unsigned c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '$' || c >= 0x80;
}

#define FS_VALUE_EXPECTED "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"

static int fs_value(fs_scan *t, int depth);

static int fs_string(fs_scan *t) {
  t->i++; /* the opening quote */
  while (t->i < t->n) {
    unsigned c = t->s[t->i];
    if (c == '"') {
      t->i++;
      return 0;
    }
    if (c < 0x20) {
      snprintf(t->msg, t->msg_len,
               "Illegal unquoted character ((CTRL-CHAR, code %u)): has to be escaped using "
               "backslash to be included in string value",
               c);
      return -1;
    }
    if (c == '\\') {
      unsigned e = t->i + 1 < t->n ? t->s[t->i + 1] : 0;
      if (e == 'u') {
        for (size_t k = 2; k < 6; k++) {
          unsigned h = t->i + k < t->n ? t->s[t->i + k] : 0;
          if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F'))) {
            t->i += k;
            return fs_fail(t, "expected a hex-digit for character escape sequence");
          }
        }
        t->i += 6;
        continue;
      }
      if (!e || !strchr("\"\\/bfnrt", (int)e)) {
        if (e >= 0x20 && e < 0x80)
          snprintf(t->msg, t->msg_len, "Unrecognized character escape '%c' (code %u)", (int)e, e);
        else
          snprintf(t->msg, t->msg_len, "Unrecognized character escape (code %u)", e);
        t->i++;
        return -1;
      }
      t->i += 2;
      continue;
    }
    t->i++;
  }
  snprintf(t->msg, t->msg_len,
           "Unexpected end-of-input: was expecting closing quote for a string value");
  return -1;
}

static int fs_scan_number(fs_scan *t) {
  size_t i = t->i;
  if (t->s[i] == '-') i++;
  if (i >= t->n || t->s[i] < '0' || t->s[i] > '9') {
    t->i = i;
    return fs_fail(t, "expected digit (0-9) to follow minus sign, for valid numeric value");
  }
  if (t->s[i] == '0' && i + 1 < t->n && t->s[i + 1] >= '0' && t->s[i + 1] <= '9') {
    t->i = i;
    snprintf(t->msg, t->msg_len, "Invalid numeric value: Leading zeroes not allowed");
    return -1;
  }
  while (i < t->n && t->s[i] >= '0' && t->s[i] <= '9') i++;
  if (i < t->n && t->s[i] == '.') {
    i++;
    if (i >= t->n || t->s[i] < '0' || t->s[i] > '9') {
      t->i = i;
      return fs_fail(t, "Decimal point not followed by a digit");
    }
    while (i < t->n && t->s[i] >= '0' && t->s[i] <= '9') i++;
  }
  if (i < t->n && (t->s[i] == 'e' || t->s[i] == 'E')) {
    i++;
    if (i < t->n && (t->s[i] == '+' || t->s[i] == '-')) i++;
    if (i >= t->n || t->s[i] < '0' || t->s[i] > '9') {
      t->i = i;
      return fs_fail(t, "Exponent indicator not followed by a digit");
    }
    while (i < t->n && t->s[i] >= '0' && t->s[i] <= '9') i++;
  }
  t->i = i;
  return 0;
}

static int fs_word(fs_scan *t) {
  static const char *const words[] = {"true", "false", "null"};
  size_t end = t->i;
  while (end < t->n && fs_ident(t->s[end]) && end - t->i < 256) end++;
  for (int k = 0; k < 3; k++) {
    size_t l = strlen(words[k]);
    if (end - t->i == l && memcmp(t->s + t->i, words[k], l) == 0) {
      t->i = end;
      return 0;
    }
  }
  snprintf(t->msg, t->msg_len, "Unrecognized token '%.*s': was expecting %s",
           fs_quote_len((const char *)t->s + t->i, end - t->i), (const char *)t->s + t->i,
           FS_VALUE_EXPECTED);
  return -1;
}

static int fs_value(fs_scan *t, int depth) {
  fs_ws(t);
  if (t->i >= t->n) return fs_fail(t, "expected a value");
  unsigned c = t->s[t->i];
  if (c == '"') return fs_string(t);
  if (c == '-' || (c >= '0' && c <= '9')) return fs_scan_number(t);
  if (fs_ident(c)) return fs_word(t);
  if (depth > 10000) return fs_fail(t, "nesting too deep");
  if (c == '{') {
    t->i++;
    fs_ws(t);
    if (t->i < t->n && t->s[t->i] == '}') {
      t->i++;
      return 0;
    }
    for (;;) {
      fs_ws(t);
      if (t->i >= t->n || t->s[t->i] != '"')
        return fs_fail(t, "was expecting double-quote to start field name");
      if (fs_string(t)) return -1;
      fs_ws(t);
      if (t->i >= t->n || t->s[t->i] != ':')
        return fs_fail(t, "was expecting a colon to separate field name and value");
      t->i++;
      if (fs_value(t, depth + 1)) return -1;
      fs_ws(t);
      if (t->i < t->n && t->s[t->i] == ',') {
        t->i++;
        continue;
      }
      if (t->i < t->n && t->s[t->i] == '}') {
        t->i++;
        return 0;
      }
      return fs_fail(t, "was expecting comma to separate Object entries");
    }
  }
  if (c == '[') {
    t->i++;
    fs_ws(t);
    if (t->i < t->n && t->s[t->i] == ']') {
      t->i++;
      return 0;
    }
    for (;;) {
      if (fs_value(t, depth + 1)) return -1;
      fs_ws(t);
      if (t->i < t->n && t->s[t->i] == ',') {
        t->i++;
        continue;
      }
      if (t->i < t->n && t->s[t->i] == ']') {
        t->i++;
        return 0;
      }
      return fs_fail(t, "was expecting comma to separate Array entries");
    }
  }
  return fs_fail(t, "expected a valid value " FS_VALUE_EXPECTED);
}

/* Word the syntax error of a text yajl rejected, as event-ruler would meet it: its first
 * token decides "Filter is not an object" before the rest is read. @return 0 if the scan
 * finds no error (the text is JSON). */
int bp__filter_syntax_message(const char *text, size_t n, char *msg, size_t msg_len, size_t *at) {
  fs_scan t = {(const unsigned char *)text, n, 0, msg, msg_len};
  if (!bp__utf8_valid(text, n)) {
    size_t i = 0;
    while (i < n) { /* the first byte no well-formed character starts at */
      size_t l = 1;
      while (l <= 4 && i + l <= n && !bp__utf8_valid(text + i, l)) l++;
      if (l > 4 || i + l > n) break;
      i += l;
    }
    snprintf(msg, msg_len, "Invalid UTF-8 byte 0x%02X in pattern text",
             i < n ? (unsigned)(unsigned char)text[i] : 0u);
    *at = i;
    return 1;
  }
  fs_ws(&t);
  unsigned c = t.i < n ? t.s[t.i] : 0;
  if (c == '[' || c == '"') {
    snprintf(msg, msg_len, "Filter is not an object");
  } else if (c != '{') {
    if (fs_value(&t, 0) == 0) snprintf(msg, msg_len, "Filter is not an object");
  } else if (fs_value(&t, 0) == 0) {
    fs_ws(&t);
    if (t.i >= n) return 0;
    snprintf(msg, msg_len, "Unexpected content after the pattern object");
  }
  *at = t.i;
  return 1;
}
