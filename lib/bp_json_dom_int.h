/* SPDX-License-Identifier: MIT */
/*
 * A compact read-only JSON tree for configuration-sized texts (CreateEventSourceMapping
 * bodies, filter patterns), built on bp__json_parse. All nodes and strings live in a few
 * chunks owned by the dom; bp__jdom_free releases everything at once.
 * Codec layer: included by bp_json_dom.c and the codec's pattern and configuration readers
 * (bp_filter*.c, bp_config_json.c) only.
 */
#ifndef BP_JSON_DOM_INT_H
#define BP_JSON_DOM_INT_H

#include "bp_json_int.h"

enum { BP__J_NULL, BP__J_BOOL, BP__J_NUMBER, BP__J_STRING, BP__J_OBJECT, BP__J_ARRAY };

typedef struct bp__jnode {
  int type;
  int boolean;            /* BP__J_BOOL */
  const char *key;        /* member name inside an object (unescaped), else NULL */
  size_t key_len;
  const char *str;        /* BP__J_STRING (unescaped) or BP__J_NUMBER (raw token) */
  size_t len;
  size_t count;           /* children of an object/array */
  struct bp__jnode *child; /* first child, in document order */
  struct bp__jnode *next;  /* next sibling */
} bp__jnode;

typedef struct bp__jdom {
  const bp_allocator *alloc;
  void *chunks;   /* list of allocated chunks */
  char *cur;      /* free space in the newest chunk */
  size_t avail;
  bp__jnode *root;
} bp__jdom;

void bp__jdom_init(bp__jdom *dom, const bp_allocator *alloc);
/** Parse @p text; on success dom->root is the value. @return 0, BP_ERR_INVALID_JSON, NOMEM. */
int bp__jdom_parse(bp__jdom *dom, bp__json_pool *pool, const char *text, size_t n,
                   bp__errmsg *err);
void bp__jdom_free(bp__jdom *dom);

/** Member @p key of an object (the last one if repeated), or NULL. */
const bp__jnode *bp__jobj_get(const bp__jnode *obj, const char *key);
/** 1 if the node is a string equal to the NUL-terminated @p s. */
int bp__jstr_eq(const bp__jnode *n, const char *s);

#endif
