/* SPDX-License-Identifier: MIT */
/* The JSON tree: parse events appended as nodes under a cursor. */
#include <string.h>

#include "bp_json_dom_int.h"

#define CHUNK 4096
#define MAX_DEPTH 256

typedef union chunk_hdr {
  void *next;
  max_align_t align;
} chunk_hdr;

void bp__jdom_init(bp__jdom *dom, const bp_allocator *alloc) {
  memset(dom, 0, sizeof *dom);
  dom->alloc = alloc;
}

void bp__jdom_free(bp__jdom *dom) {
  while (dom->chunks) {
    chunk_hdr *c = dom->chunks;
    dom->chunks = c->next;
    bp__free(dom->alloc, c);
  }
  dom->cur = NULL;
  dom->avail = 0;
  dom->root = NULL;
}

static void *dom_alloc(bp__jdom *dom, size_t n) {
  size_t a = _Alignof(max_align_t);
  n = (n + a - 1) / a * a;
  if (n > dom->avail) {
    size_t size = n > CHUNK ? n : CHUNK;
    chunk_hdr *c = bp__malloc(dom->alloc, sizeof(chunk_hdr) + size);
    if (!c) return NULL;
    c->next = dom->chunks;
    dom->chunks = c;
    dom->cur = (char *)(c + 1);
    dom->avail = size;
  }
  void *p = dom->cur;
  dom->cur += n;
  dom->avail -= n;
  return p;
}

typedef struct builder {
  bp__jdom *dom;
  bp__jnode *stack[MAX_DEPTH]; /* open containers */
  bp__jnode *last[MAX_DEPTH];  /* their last child, for O(1) append */
  int depth;
  const char *key;             /* pending member name */
  size_t key_len;
  bp__errmsg *err;
} builder;

static char *dom_dup_str(bp__jdom *dom, const char *s, size_t n) {
  char *p = dom_alloc(dom, n + 1);
  if (!p) return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

/* Append a new node at the cursor; returns NULL on OOM. */
static bp__jnode *dom_add(builder *b, int type) {
  bp__jnode *n = dom_alloc(b->dom, sizeof *n);
  if (!n) return NULL;
  memset(n, 0, sizeof *n);
  n->type = type;
  if (b->depth == 0) {
    b->dom->root = n;
    return n;
  }
  bp__jnode *parent = b->stack[b->depth - 1];
  if (parent->type == BP__J_OBJECT) {
    n->key = b->key;
    n->key_len = b->key_len;
  }
  if (b->last[b->depth - 1]) b->last[b->depth - 1]->next = n;
  else parent->child = n;
  b->last[b->depth - 1] = n;
  parent->count++;
  return n;
}

static int on_null(void *c) { return dom_add(c, BP__J_NULL) ? 1 : -1; }

static int on_bool(void *c, int v) {
  bp__jnode *n = dom_add(c, BP__J_BOOL);
  if (!n) return -1;
  n->boolean = v;
  return 1;
}

static int on_text(builder *b, int type, const char *s, size_t len) {
  bp__jnode *n = dom_add(b, type);
  if (!n) return -1;
  if (!(n->str = dom_dup_str(b->dom, s, len))) return -1;
  n->len = len;
  return 1;
}

static int on_number(void *c, const char *s, size_t n) { return on_text(c, BP__J_NUMBER, s, n); }
static int on_string(void *c, const char *s, size_t n) { return on_text(c, BP__J_STRING, s, n); }

static int open_container(builder *b, int type) {
  if (b->depth == MAX_DEPTH) {
    if (b->err) bp__error(b->err, BP_ERR_INVALID_JSON, "JSON nested deeper than %d", MAX_DEPTH);
    return 0;
  }
  bp__jnode *n = dom_add(b, type);
  if (!n) return -1;
  b->stack[b->depth] = n;
  b->last[b->depth] = NULL;
  b->depth++;
  return 1;
}

static int on_start_map(void *c) { return open_container(c, BP__J_OBJECT); }
static int on_start_array(void *c) { return open_container(c, BP__J_ARRAY); }

static int on_end(void *c) {
  ((builder *)c)->depth--;
  return 1;
}

static int on_key(void *c, const char *s, size_t n) {
  builder *b = c;
  if (!(b->key = dom_dup_str(b->dom, s, n))) return -1;
  b->key_len = n;
  return 1;
}

static const bp__json_cb dom_cb = {on_null,      on_bool, on_number,      on_string, on_start_map,
                                   on_key,       on_end,  on_start_array, on_end};

int bp__jdom_parse(bp__jdom *dom, bp__json_pool *pool, const char *text, size_t n,
                   bp__errmsg *err) {
  builder b;
  memset(&b, 0, sizeof b);
  b.dom = dom;
  b.err = err;
  bp__jdom_free(dom);
  int rc = bp__json_parse(pool, text, n, &dom_cb, &b, err);
  if (rc) bp__jdom_free(dom);
  return rc;
}

const bp__jnode *bp__jobj_get(const bp__jnode *obj, const char *key) {
  if (!obj || obj->type != BP__J_OBJECT) return NULL;
  size_t klen = strlen(key);
  const bp__jnode *found = NULL;
  for (const bp__jnode *c = obj->child; c; c = c->next)
    if (c->key_len == klen && memcmp(c->key, key, klen) == 0) found = c;
  return found;
}

int bp__jstr_eq(const bp__jnode *n, const char *s) {
  size_t len = strlen(s);
  return n && n->type == BP__J_STRING && n->len == len && memcmp(n->str, s, len) == 0;
}
