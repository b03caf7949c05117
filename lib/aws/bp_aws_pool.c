/* SPDX-License-Identifier: MIT */
/* Reusable request contexts (bp_aws_pool.h). */
#include "bp_aws_pool.h"

#include <stdlib.h>

void bp__aws_pool_init(bp__aws_pool *p, size_t item_size, void (*fini)(void *item)) {
  p->item_size = item_size < sizeof(bp__aws_pool_item) ? sizeof(bp__aws_pool_item) : item_size;
  p->fini = fini;
  p->free_items = NULL;
  p->all = NULL;
}

void *bp__aws_pool_get(bp__aws_pool *p) {
  bp__aws_pool_item *it = p->free_items;
  if (it) {
    p->free_items = it->next_free;
    it->next_free = NULL;
    return it;
  }
  it = calloc(1, p->item_size);
  if (!it) return NULL;
  it->next_all = p->all;
  p->all = it;
  return it;
}

void bp__aws_pool_put(bp__aws_pool *p, void *item) {
  bp__aws_pool_item *it = item;
  it->next_free = p->free_items;
  p->free_items = it;
}

void bp__aws_pool_free(bp__aws_pool *p) {
  bp__aws_pool_item *it = p->all;
  while (it) {
    bp__aws_pool_item *next = it->next_all;
    if (p->fini) p->fini(it);
    free(it);
    it = next;
  }
  p->all = NULL;
  p->free_items = NULL;
}
