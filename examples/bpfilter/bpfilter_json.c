/* SPDX-License-Identifier: MIT */
/*
 * bpfilter_json.c: reading whole files, strict JSON parsing into yajl trees (yajl_tree_parse
 * alone accepts comments, and trees are freed and walked recursively, so depth is bounded
 * first), and the tree helpers the record and vector code share: member lookup, compact
 * text, value equality.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "bpfilter.h"

char *bpf_read_file(const char *path, size_t *len, char *err, size_t errlen) {
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    snprintf(err, errlen, "%s", strerror(errno));
    return NULL;
  }
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    n += fread(buf + n, 1, cap - 1 - n, fp);
    if (n < cap - 1) break; /* end of file or an error, told apart below */
    char *bigger = realloc(buf, cap * 2);
    if (!bigger) free(buf);
    buf = bigger;
    cap *= 2;
  }
  int failed = !buf || ferror(fp);
  int saved = errno;
  fclose(fp);
  if (failed) {
    snprintf(err, errlen, "%s", buf ? strerror(saved) : "out of memory");
    free(buf);
    return NULL;
  }
  buf[n] = '\0';
  *len = n;
  return buf;
}

/* Where the nesting of a JSON text first exceeds BPF_MAX_DEPTH, or SIZE_MAX. Exact for valid
 * JSON (strings and their escapes are skipped); invalid JSON is refused by yajl anyway. */
static size_t too_deep_at(const char *s, size_t n) {
  int depth = 0, in_string = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (in_string) {
      if (c == '\\')
        i++;
      else if (c == '"')
        in_string = 0;
    } else if (c == '"') {
      in_string = 1;
    } else if (c == '{' || c == '[') {
      if (++depth > BPF_MAX_DEPTH) return i;
    } else if (c == '}' || c == ']') {
      depth--;
    }
  }
  return SIZE_MAX;
}

yajl_val bpf_json_parse(const char *text, size_t len, size_t *offset, char *err, size_t errlen) {
  const char *nul = memchr(text, '\0', len);
  if (nul) {
    *offset = (size_t)(nul - text);
    snprintf(err, errlen, "a NUL byte");
    return NULL;
  }
  if ((*offset = too_deep_at(text, len)) != SIZE_MAX) {
    snprintf(err, errlen, "nested deeper than %d levels", BPF_MAX_DEPTH);
    return NULL;
  }
  /* A validating pass first (no callbacks): strict config and a usable error offset. */
  yajl_handle h = yajl_alloc(NULL, NULL, NULL);
  if (!h) {
    *offset = 0;
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  yajl_status st = yajl_parse(h, (const unsigned char *)text, len);
  *offset = yajl_get_bytes_consumed(h);
  if (st == yajl_status_ok) {
    st = yajl_complete_parse(h);
    *offset = len; /* whatever is wrong now is at the end */
  }
  if (st != yajl_status_ok) {
    unsigned char *msg = yajl_get_error(h, 0, (const unsigned char *)text, len);
    snprintf(err, errlen, "%s", msg ? (const char *)msg : "parse error");
    size_t n = strlen(err);
    while (n && (err[n - 1] == '\n' || err[n - 1] == ' ')) err[--n] = '\0';
    if (msg) yajl_free_error(h, msg);
    yajl_free(h);
    return NULL;
  }
  yajl_free(h);
  char tree_err[256];
  yajl_val v = yajl_tree_parse(text, tree_err, sizeof tree_err);
  if (!v) snprintf(err, errlen, "out of memory");
  return v;
}

yajl_val bpf_member(yajl_val obj, const char *key) {
  if (!YAJL_IS_OBJECT(obj)) return NULL;
  for (size_t i = obj->u.object.len; i-- > 0;)
    if (strcmp(obj->u.object.keys[i], key) == 0) return obj->u.object.values[i];
  return NULL;
}

const char *bpf_string(yajl_val v) { return YAJL_IS_STRING(v) ? v->u.string : NULL; }

/* ---- compact text ---- */

typedef struct tbuf {
  char *p;
  size_t len, cap;
  int oom;
} tbuf;

static void tb_put(tbuf *b, const char *s, size_t n) {
  if (b->oom) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (b->len + n + 1 > cap) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void tb_string(tbuf *b, const char *s) {
  tb_put(b, "\"", 1);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    char esc[8];
    if (c == '"' || c == '\\') {
      esc[0] = '\\';
      esc[1] = (char)c;
      tb_put(b, esc, 2);
    } else if (c < 0x20) {
      snprintf(esc, sizeof esc, "\\u%04X", c);
      tb_put(b, esc, 6);
    } else {
      tb_put(b, s, 1);
    }
  }
  tb_put(b, "\"", 1);
}

static void tb_value(tbuf *b, yajl_val v) {
  if (YAJL_IS_OBJECT(v)) {
    tb_put(b, "{", 1);
    for (size_t i = 0; i < v->u.object.len; i++) {
      if (i) tb_put(b, ",", 1);
      tb_string(b, v->u.object.keys[i]);
      tb_put(b, ":", 1);
      tb_value(b, v->u.object.values[i]);
    }
    tb_put(b, "}", 1);
  } else if (YAJL_IS_ARRAY(v)) {
    tb_put(b, "[", 1);
    for (size_t i = 0; i < v->u.array.len; i++) {
      if (i) tb_put(b, ",", 1);
      tb_value(b, v->u.array.values[i]);
    }
    tb_put(b, "]", 1);
  } else if (YAJL_IS_STRING(v)) {
    tb_string(b, v->u.string);
  } else if (YAJL_IS_NUMBER(v)) {
    tb_put(b, v->u.number.r, strlen(v->u.number.r)); /* the token as written */
  } else if (YAJL_IS_TRUE(v)) {
    tb_put(b, "true", 4);
  } else if (YAJL_IS_FALSE(v)) {
    tb_put(b, "false", 5);
  } else {
    tb_put(b, "null", 4);
  }
}

char *bpf_json_text(yajl_val v) {
  tbuf b = {NULL, 0, 0, 0};
  tb_value(&b, v);
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  return b.p;
}

/* ---- equality ---- */

static int differ(char *where, size_t cap, const char *path) {
  snprintf(where, cap, "%s", path[0] ? path : "(top level)");
  return 0;
}

static int equal_at(yajl_val a, yajl_val b, char *path, size_t cap, char *where, size_t wcap) {
  size_t mark = strlen(path);
  if (YAJL_IS_OBJECT(a) && YAJL_IS_OBJECT(b)) {
    if (a->u.object.len != b->u.object.len) return differ(where, wcap, path);
    for (size_t i = 0; i < a->u.object.len; i++) {
      const char *key = a->u.object.keys[i];
      snprintf(path + mark, cap - mark, "%s%s", mark ? "." : "", key);
      if (!equal_at(a->u.object.values[i], bpf_member(b, key), path, cap, where, wcap)) return 0;
    }
  } else if (YAJL_IS_ARRAY(a) && YAJL_IS_ARRAY(b)) {
    if (a->u.array.len != b->u.array.len) return differ(where, wcap, path);
    for (size_t i = 0; i < a->u.array.len; i++) {
      snprintf(path + mark, cap - mark, "[%zu]", i);
      if (!equal_at(a->u.array.values[i], b->u.array.values[i], path, cap, where, wcap)) return 0;
    }
  } else if (YAJL_IS_STRING(a) && YAJL_IS_STRING(b)) {
    if (strcmp(a->u.string, b->u.string)) return differ(where, wcap, path);
  } else if (YAJL_IS_NUMBER(a) && YAJL_IS_NUMBER(b)) { /* 1.5 and 1.500 are one value */
    if (strcmp(a->u.number.r, b->u.number.r) &&
        strtod(a->u.number.r, NULL) != strtod(b->u.number.r, NULL))
      return differ(where, wcap, path);
  } else if (!a || !b || a->type != b->type) { /* absent, or true/false/null/type mismatch */
    return differ(where, wcap, path);
  }
  path[mark] = '\0';
  return 1;
}

int bpf_json_equal(yajl_val a, yajl_val b, char *where, size_t cap) {
  char path[512] = "";
  return equal_at(a, b, path, sizeof path, where, cap);
}
