/* SPDX-License-Identifier: MIT */
/*
 * bpsim_json.c: small JSON helpers shared by the other files: reading members, rendering a
 * value for a message, writing it with yajl_gen, and the values the runner builds itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "bpsim.h"

/* ---- reading values ---- */

yajl_val jv_get(yajl_val obj, const char *key) {
  if (!YAJL_IS_OBJECT(obj)) return NULL;
  for (size_t i = 0; i < obj->u.object.len; i++)
    if (strcmp(obj->u.object.keys[i], key) == 0) return obj->u.object.values[i];
  return NULL;
}

int jv_is_matcher(yajl_val v) {
  if (!YAJL_IS_OBJECT(v) || v->u.object.len == 0) return 0;
  for (size_t i = 0; i < v->u.object.len; i++)
    if (v->u.object.keys[i][0] != '$') return 0;
  return 1;
}

typedef struct rbuf {
  char *buf;
  size_t cap, len;
  int cut;
} rbuf;

static void rb_put(rbuf *b, const char *s, size_t n) {
  if (b->cut) return;
  if (b->len + n + 4 > b->cap) {
    size_t room = b->cap > b->len + 4 ? b->cap - b->len - 4 : 0;
    memcpy(b->buf + b->len, s, room);
    b->len += room;
    memcpy(b->buf + b->len, "...", 4);
    b->len += 3;
    b->cut = 1;
    return;
  }
  memcpy(b->buf + b->len, s, n);
  b->len += n;
  b->buf[b->len] = '\0';
}

static void rb_str(rbuf *b, const char *s) {
  rb_put(b, "\"", 1);
  for (; *s && !b->cut; s++) {
    char esc[8];
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      esc[0] = '\\';
      esc[1] = (char)c;
      rb_put(b, esc, 2);
    } else if (c < 0x20) {
      snprintf(esc, sizeof esc, "\\u%04X", c);
      rb_put(b, esc, 6);
    } else {
      rb_put(b, s, 1);
    }
  }
  rb_put(b, "\"", 1);
}

static void rb_val(rbuf *b, yajl_val v, int depth) {
  if (b->cut) return;
  if (!v) {
    rb_put(b, "(missing)", 9);
  } else if (depth > 64) {
    rb_put(b, "...", 3);
  } else if (YAJL_IS_STRING(v)) {
    rb_str(b, v->u.string);
  } else if (YAJL_IS_NUMBER(v)) {
    rb_put(b, v->u.number.r, strlen(v->u.number.r));
  } else if (YAJL_IS_OBJECT(v)) {
    rb_put(b, "{", 1);
    for (size_t i = 0; i < v->u.object.len; i++) {
      if (i) rb_put(b, ",", 1);
      rb_str(b, v->u.object.keys[i]);
      rb_put(b, ":", 1);
      rb_val(b, v->u.object.values[i], depth + 1);
    }
    rb_put(b, "}", 1);
  } else if (YAJL_IS_ARRAY(v)) {
    rb_put(b, "[", 1);
    for (size_t i = 0; i < v->u.array.len; i++) {
      if (i) rb_put(b, ",", 1);
      rb_val(b, v->u.array.values[i], depth + 1);
    }
    rb_put(b, "]", 1);
  } else if (YAJL_IS_TRUE(v)) {
    rb_put(b, "true", 4);
  } else if (YAJL_IS_FALSE(v)) {
    rb_put(b, "false", 5);
  } else {
    rb_put(b, "null", 4);
  }
}

void jv_render(yajl_val v, char *buf, size_t cap) {
  if (cap < 8) {
    if (cap) buf[0] = '\0';
    return;
  }
  rbuf b = {buf, cap, 0, 0};
  buf[0] = '\0';
  rb_val(&b, v, 0);
}

static int gen_val(yajl_gen g, yajl_val v, int depth) { /* 0 or -1 */
  if (depth > 512) return -1;
  if (YAJL_IS_OBJECT(v)) {
    if (yajl_gen_map_open(g) != yajl_gen_status_ok) return -1;
    for (size_t i = 0; i < v->u.object.len; i++) {
      const char *k = v->u.object.keys[i];
      if (yajl_gen_string(g, (const unsigned char *)k, strlen(k)) != yajl_gen_status_ok ||
          gen_val(g, v->u.object.values[i], depth + 1))
        return -1;
    }
    return yajl_gen_map_close(g) == yajl_gen_status_ok ? 0 : -1;
  }
  if (YAJL_IS_ARRAY(v)) {
    if (yajl_gen_array_open(g) != yajl_gen_status_ok) return -1;
    for (size_t i = 0; i < v->u.array.len; i++)
      if (gen_val(g, v->u.array.values[i], depth + 1)) return -1;
    return yajl_gen_array_close(g) == yajl_gen_status_ok ? 0 : -1;
  }
  yajl_gen_status st;
  if (YAJL_IS_STRING(v))
    st = yajl_gen_string(g, (const unsigned char *)v->u.string, strlen(v->u.string));
  else if (YAJL_IS_NUMBER(v))
    st = yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r)); /* the raw token */
  else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
    st = yajl_gen_bool(g, YAJL_IS_TRUE(v));
  else
    st = yajl_gen_null(g);
  return st == yajl_gen_status_ok ? 0 : -1;
}

int sim_gen_value(yajl_gen g, yajl_val v) { return gen_val(g, v, 0) ? 1 : 0; }

char *jv_text(yajl_val v, size_t *len) {
  yajl_gen g = yajl_gen_alloc(NULL);
  if (!g) return NULL;
  char *out = NULL;
  const unsigned char *buf;
  size_t n;
  if (gen_val(g, v, 0) == 0 && yajl_gen_get_buf(g, &buf, &n) == yajl_gen_status_ok) {
    out = malloc(n + 1);
    if (out) {
      memcpy(out, buf, n);
      out[n] = '\0';
      if (len) *len = n;
    }
  }
  yajl_gen_free(g);
  return out;
}

/* ---- values the runner builds ---- */

static yajl_val jv_node(yajl_type t) {
  yajl_val v = calloc(1, sizeof *v);
  if (v) v->type = t;
  return v;
}

yajl_val jv_new_str(const char *s, size_t len) {
  yajl_val v = jv_node(yajl_t_string);
  if (!v) return NULL;
  v->u.string = malloc(len + 1);
  if (!v->u.string) {
    free(v);
    return NULL;
  }
  memcpy(v->u.string, s, len);
  v->u.string[len] = '\0';
  return v;
}

yajl_val jv_new_raw_num(const char *token) {
  yajl_val v = jv_node(yajl_t_number);
  if (!v) return NULL;
  size_t n = strlen(token);
  v->u.number.r = malloc(n + 1);
  if (!v->u.number.r) {
    free(v);
    return NULL;
  }
  memcpy(v->u.number.r, token, n + 1);
  char *end;
  v->u.number.d = strtod(token, &end);
  v->u.number.flags = YAJL_NUMBER_DOUBLE_VALID;
  if (!strpbrk(token, ".eE")) {
    v->u.number.i = strtoll(token, &end, 10);
    v->u.number.flags |= YAJL_NUMBER_INT_VALID;
  }
  return v;
}

yajl_val jv_new_int(int64_t i) {
  char tok[32];
  snprintf(tok, sizeof tok, "%lld", (long long)i);
  return jv_new_raw_num(tok);
}

yajl_val jv_new_bool(int b) { return jv_node(b ? yajl_t_true : yajl_t_false); }
yajl_val jv_new_null(void) { return jv_node(yajl_t_null); }
yajl_val jv_new_arr(void) { return jv_node(yajl_t_array); }
yajl_val jv_new_obj(void) { return jv_node(yajl_t_object); }

int jv_push(yajl_val arr, yajl_val v) {
  if (!v || !YAJL_IS_ARRAY(arr)) {
    jv_free(v);
    return -1;
  }
  yajl_val *nv = realloc(arr->u.array.values, (arr->u.array.len + 1) * sizeof *nv);
  if (!nv) {
    jv_free(v);
    return -1;
  }
  nv[arr->u.array.len++] = v;
  arr->u.array.values = nv;
  return 0;
}

int jv_put(yajl_val obj, const char *key, yajl_val v) {
  if (!v || !YAJL_IS_OBJECT(obj)) {
    jv_free(v);
    return -1;
  }
  size_t n = obj->u.object.len;
  const char **nk = realloc((void *)obj->u.object.keys, (n + 1) * sizeof *nk);
  if (nk) obj->u.object.keys = nk;
  yajl_val *nv = nk ? realloc(obj->u.object.values, (n + 1) * sizeof *nv) : NULL;
  if (nv) obj->u.object.values = nv;
  size_t klen = strlen(key);
  char *k = nv ? malloc(klen + 1) : NULL;
  if (!k) {
    jv_free(v);
    return -1;
  }
  memcpy(k, key, klen + 1);
  nk[n] = k;
  nv[n] = v;
  obj->u.object.len = n + 1;
  return 0;
}

void jv_free(yajl_val v) {
  if (!v) return;
  if (YAJL_IS_STRING(v)) {
    free(v->u.string);
  } else if (YAJL_IS_NUMBER(v)) {
    free(v->u.number.r);
  } else if (YAJL_IS_OBJECT(v)) {
    for (size_t i = 0; i < v->u.object.len; i++) {
      free((void *)v->u.object.keys[i]);
      jv_free(v->u.object.values[i]);
    }
    free((void *)v->u.object.keys);
    free(v->u.object.values);
  } else if (YAJL_IS_ARRAY(v)) {
    for (size_t i = 0; i < v->u.array.len; i++) jv_free(v->u.array.values[i]);
    free(v->u.array.values);
  }
  free(v);
}
