/* SPDX-License-Identifier: MIT */
/* bp__aws_buf: growable bytes, kept NUL-terminated so response bodies and built request
 * texts can be handed to string functions without a copy. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bp_aws_int.h"

/* Room for @p extra more bytes plus the terminating NUL. */
static int buf_reserve(bp__aws_buf *b, size_t extra) {
  if (extra > SIZE_MAX - b->len - 1) return BP_ERR_NOMEM;
  size_t need = b->len + extra + 1;
  if (need <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  char *p = realloc(b->data, cap);
  if (!p) return BP_ERR_NOMEM;
  b->data = p;
  b->cap = cap;
  return 0;
}

int bp__aws_buf_append(bp__aws_buf *b, const void *p, size_t n) {
  if (buf_reserve(b, n) != 0) return BP_ERR_NOMEM;
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

int bp__aws_buf_puts(bp__aws_buf *b, const char *s) {
  return bp__aws_buf_append(b, s, strlen(s));
}

int bp__aws_buf_printf(bp__aws_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return BP_ERR_NOMEM;
  if (buf_reserve(b, (size_t)n) != 0) return BP_ERR_NOMEM;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return 0;
}

int bp__aws_buf_json_str(bp__aws_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  /* Worst case every byte becomes \u00XX: reserve once, then write without checks. */
  if (n > (SIZE_MAX - 3) / 6 || buf_reserve(b, n * 6 + 2) != 0) return BP_ERR_NOMEM;
  char *o = b->data + b->len;
  *o++ = '"';
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      *o++ = '\\';
      *o++ = (char)c;
    } else if (c == '\n') {
      *o++ = '\\';
      *o++ = 'n';
    } else if (c == '\r') {
      *o++ = '\\';
      *o++ = 'r';
    } else if (c == '\t') {
      *o++ = '\\';
      *o++ = 't';
    } else if (c < 0x20 || c == 0x7f) {
      memcpy(o, "\\u00", 4);
      o[4] = hex[c >> 4];
      o[5] = hex[c & 15];
      o += 6;
    } else {
      *o++ = (char)c;
    }
  }
  *o++ = '"';
  *o = '\0';
  b->len = (size_t)(o - b->data);
  return 0;
}

int bp__aws_buf_url_encode(bp__aws_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  if (n > (SIZE_MAX - 1) / 3 || buf_reserve(b, n * 3) != 0) return BP_ERR_NOMEM;
  char *o = b->data + b->len;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      *o++ = (char)c;
    } else {
      *o++ = '%';
      *o++ = hex[c >> 4];
      *o++ = hex[c & 15];
    }
  }
  *o = '\0';
  b->len = (size_t)(o - b->data);
  return 0;
}

void bp__aws_buf_reset(bp__aws_buf *b) {
  b->len = 0;
  if (b->data) b->data[0] = '\0';
}

void bp__aws_buf_free(bp__aws_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}
