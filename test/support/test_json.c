/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "test_json.h"

static int equal(yajl_val a, yajl_val b, char *where, size_t wl, const char *path) {
  char sub[512];
  if (!a || !b || a->type != b->type) goto diff;
  switch (a->type) {
    case yajl_t_string:
      if (strcmp(a->u.string, b->u.string)) goto diff;
      return 1;
    case yajl_t_number:
      if (strcmp(a->u.number.r, b->u.number.r)) goto diff;
      return 1;
    case yajl_t_object:
      if (a->u.object.len != b->u.object.len) goto diff;
      for (size_t i = 0; i < a->u.object.len; i++) {
        const char *key = a->u.object.keys[i];
        yajl_val bv = NULL;
        for (size_t j = 0; j < b->u.object.len; j++)
          if (!strcmp(b->u.object.keys[j], key)) bv = b->u.object.values[j];
        snprintf(sub, sizeof sub, "%s.%s", path, key);
        if (!equal(a->u.object.values[i], bv, where, wl, sub)) return 0;
      }
      return 1;
    case yajl_t_array:
      if (a->u.array.len != b->u.array.len) goto diff;
      for (size_t i = 0; i < a->u.array.len; i++) {
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        if (!equal(a->u.array.values[i], b->u.array.values[i], where, wl, sub)) return 0;
      }
      return 1;
    default:
      return 1; /* true, false, null: the type says it all */
  }
diff:
  if (where) snprintf(where, wl, "%s", path[0] ? path : "(root)");
  return 0;
}

int test_json_equal(const char *a, const char *b, char *where, size_t where_len) {
  char err[256];
  yajl_val va = yajl_tree_parse(a, err, sizeof err);
  yajl_val vb = yajl_tree_parse(b, err, sizeof err);
  int eq = va && vb && equal(va, vb, where, where_len, "");
  if ((!va || !vb) && where) snprintf(where, where_len, "parse error: %s", err);
  yajl_tree_free(va);
  yajl_tree_free(vb);
  return eq;
}

int test_json_valid(const char *text, size_t n) {
  char *s = malloc(n + 1);
  if (!s) return 0;
  memcpy(s, text, n);
  s[n] = '\0';
  char err[64];
  yajl_val v = strlen(s) == n ? yajl_tree_parse(s, err, sizeof err) : NULL;
  free(s);
  yajl_tree_free(v);
  return v != NULL;
}

char *test_json_compact(const char *text, size_t n) {
  char *out = malloc(n + 1);
  size_t k = 0;
  int in_str = 0;
  for (size_t i = 0; out && i < n; i++) {
    char c = text[i];
    if (in_str) {
      out[k++] = c;
      if (c == '\\' && i + 1 < n) out[k++] = text[++i];
      else if (c == '"') in_str = 0;
    } else if (c == '"') {
      in_str = 1;
      out[k++] = c;
    } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
      out[k++] = c;
    }
  }
  if (out) out[k] = '\0';
  return out;
}

char *test_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = size >= 0 ? malloc((size_t)size + 1) : NULL;
  if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  if (buf) {
    buf[size] = '\0';
    if (len) *len = (size_t)size;
  }
  return buf;
}

char *test_extract_object(const char *text, const char *marker) {
  const char *m = strstr(text, marker);
  if (!m) return NULL;
  const char *start = m;
  while (start > text && *start != '{') start--;
  if (*start != '{') return NULL;
  int depth = 0, in_str = 0;
  for (const char *p = start; *p; p++) {
    if (in_str) {
      if (*p == '\\' && p[1]) p++;
      else if (*p == '"') in_str = 0;
      continue;
    }
    if (*p == '"') in_str = 1;
    else if (*p == '{') depth++;
    else if (*p == '}' && --depth == 0) {
      size_t n = (size_t)(p - start + 1);
      char *out = malloc(n + 1);
      if (!out) return NULL;
      memcpy(out, start, n);
      out[n] = '\0';
      return out;
    }
  }
  return NULL;
}
