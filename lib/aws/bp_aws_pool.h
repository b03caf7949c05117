/* SPDX-License-Identifier: MIT */
/*
 * Reusable contexts of requests in flight (invokers, destinations): an item is taken when a
 * request starts and given back when it completes, so steady state allocates nothing; the
 * buffers an item owns keep their memory across reuses. Not installed.
 */
#ifndef BATCHPOINT_BP_AWS_POOL_H
#define BATCHPOINT_BP_AWS_POOL_H

#include <stddef.h>

/* The first member of every pooled item. */
typedef struct bp__aws_pool_item {
  struct bp__aws_pool_item *next_free; /* on the free list */
  struct bp__aws_pool_item *next_all;  /* every item the pool owns */
} bp__aws_pool_item;

typedef struct bp__aws_pool {
  size_t item_size;          /* sizeof the module's item struct */
  void (*fini)(void *item);  /* frees what an item owns (its buffers); may be NULL */
  bp__aws_pool_item *free_items;
  bp__aws_pool_item *all;
} bp__aws_pool;

void bp__aws_pool_init(bp__aws_pool *p, size_t item_size, void (*fini)(void *item));
/* A free item (its module fields as left by the last use; a new one zeroed), or NULL. */
void *bp__aws_pool_get(bp__aws_pool *p);
void bp__aws_pool_put(bp__aws_pool *p, void *item);
/* Frees every item, in flight or not: call only when no callback can still run for one
 * (the loop deleted, or nothing pending). */
void bp__aws_pool_free(bp__aws_pool *p);

#endif
