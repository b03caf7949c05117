/* SPDX-License-Identifier: MIT */
/*
 * bpsim_parse.c: a JSON file or line to a yajl tree. The text is read with a size limit and
 * scanned first for what yajl_tree would accept but the runner cannot hold; a text that is
 * not JSON is reported with the line and column where the parser stopped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "bpsim.h"

/* Files larger than this are refused rather than read until memory runs out (a FIFO, a
 * device); large records belong in `data_fill`. */
#define SIM_MAX_FILE_BYTES ((size_t)256 << 20)

char *sim_read_file(const char *path, size_t *len, char *err, size_t errlen) {
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    snprintf(err, errlen, "cannot open: %s", strerror(errno));
    return NULL;
  }
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  int read_errno = 0, too_big = 0;
  while (buf) {
    errno = 0;
    n += fread(buf + n, 1, cap - n - 1, fp);
    read_errno = errno;
    if (n < cap - 1) break;
    if (cap >= SIM_MAX_FILE_BYTES) {
      too_big = 1;
      break;
    }
    char *nb = realloc(buf, cap * 2);
    if (!nb) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = nb;
    cap *= 2;
  }
  int bad = ferror(fp);
  fclose(fp);
  if (!buf || bad || too_big) {
    free(buf);
    if (too_big) snprintf(err, errlen, "larger than %zu MiB", SIM_MAX_FILE_BYTES >> 20);
    else if (bad) snprintf(err, errlen, "read error: %s", read_errno ? strerror(read_errno) : "?");
    else snprintf(err, errlen, "out of memory");
    return NULL;
  }
  buf[n] = '\0';
  *len = n;
  return buf;
}

/* "line L, column C" of byte @p at (just "column C" in a @p one_line text). */
static void text_pos(const char *text, size_t at, int one_line, char *out, size_t cap) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < at; i++) {
    if (text[i] == '\n') line++, col = 1;
    else col++;
  }
  if (one_line) snprintf(out, cap, "column %zu", col);
  else snprintf(out, cap, "line %zu, column %zu", line, col);
}

/* Deeper nesting is refused: yajl_tree_free and the comparisons recurse. */
#define SIM_MAX_DEPTH 128
#define SIM_STR_(x) #x
#define SIM_STR(x) SIM_STR_(x)

/* What yajl_tree would accept but the runner cannot hold: a NUL byte, a "\u0000" escape
 * (the tree's strings end at a NUL) and deep nesting. @return NULL or what is wrong, at *at. */
static const char *scan_text(const char *text, size_t len, size_t *at) {
  size_t depth = 0;
  int in_str = 0;
  for (size_t i = 0; i < len; i++) {
    char ch = text[i];
    *at = i;
    if (ch == '\0') return "a NUL byte (not JSON text)";
    if (in_str && ch == '\\') {
      if (len - i > 5 && !memcmp(text + i + 1, "u0000", 5))
        return "a \\u0000 escape (NUL characters are not supported)";
      if (i + 1 < len && text[i + 1]) i++; /* the escaped character */
    } else if (ch == '"') {
      in_str = !in_str;
    } else if (!in_str && (ch == '[' || ch == '{') && ++depth > SIM_MAX_DEPTH) {
      return "nested deeper than " SIM_STR(SIM_MAX_DEPTH) " levels (not supported)";
    } else if (!in_str && (ch == ']' || ch == '}') && depth) {
      depth--;
    }
  }
  return NULL;
}

/* Parse one JSON text; NULL with where and why it is not usable in @p err. */
yajl_val sim_parse_text(const char *text, size_t len, int one_line, char *err, size_t errlen) {
  char pos[64];
  size_t at = 0;
  const char *why = scan_text(text, len, &at);
  if (why) {
    text_pos(text, at, one_line, pos, sizeof pos);
    snprintf(err, errlen, "%s: %s", pos, why);
    return NULL;
  }
  char perr[512];
  yajl_val root = yajl_tree_parse(text, perr, sizeof perr);
  if (root) return root;
  /* yajl_tree does not say where: parse again with the stream parser for the offset */
  yajl_handle h = yajl_alloc(NULL, NULL, NULL);
  if (!h) {
    snprintf(err, errlen, "not JSON (out of memory for the details)");
    return NULL;
  }
  yajl_status st = yajl_parse(h, (const unsigned char *)text, len);
  at = len;
  if (st == yajl_status_ok) st = yajl_complete_parse(h);
  else at = yajl_get_bytes_consumed(h);
  unsigned char *msg = yajl_get_error(h, 0, NULL, 0);
  char what[200];
  snprintf(what, sizeof what, "%s", msg ? (const char *)msg : "parse error");
  for (char *p = what; *p; p++)
    if (*p == '\n') *p = '\0';
  text_pos(text, at, one_line, pos, sizeof pos);
  snprintf(err, errlen, "not JSON: %s: %s", pos, what);
  if (msg) yajl_free_error(h, msg);
  yajl_free(h);
  return NULL;
}
