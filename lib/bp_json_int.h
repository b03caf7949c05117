/* SPDX-License-Identifier: MIT */
/*
 * The yajl bridge (bp_json.c): streaming parse with a recycling memory pool. Only bp_json.c
 * includes yajl; bp_json_scan.c is a fast path without it. Codec layer: included by codec
 * sources (bp_codec*.c, bp_json*.c, bp_config_json.c, bp_filter*.c) only, never by base,
 * components or the engine.
 */
#ifndef BP_JSON_INT_H
#define BP_JSON_INT_H

#include "bp_int.h"

/*
 * A small recycling pool in front of the object's allocator, handed to yajl: parsing one
 * JSON text after another reuses the same blocks, so steady-state parsing allocates nothing.
 */
#define BP__JSON_POOL_SLOTS 8
typedef struct bp__json_pool {
  const bp_allocator *alloc;
  void *slot[BP__JSON_POOL_SLOTS]; /* cached free blocks (with size headers), or NULL */
  void *live;    /* blocks yajl holds now (a list), freed wholesale if a parse is abandoned */
  void *parsing; /* the yajl handle of the parse in progress */
  void *escape;  /* jmp_buf of the parse in progress: yajl does not survive a NULL malloc */
} bp__json_pool;

void bp__json_pool_init(bp__json_pool *pool, const bp_allocator *alloc);
void bp__json_pool_free(bp__json_pool *pool);

/* Events of a streaming parse. Return 1 to continue, 0 to stop (the parse then fails with
 * BP_ERR_INVALID_JSON and the callback may have written its own message), -1 to stop with
 * BP_ERR_NOMEM. map_key may return 2: the key's value is not needed (bp__json_scan then
 * checks it without making its events; bp__json_parse makes them, as for 1). Strings and keys are not NUL-terminated and arrive unescaped; numbers
 * arrive as their raw token text. */
typedef struct bp__json_cb {
  int (*null_)(void *ctx);
  int (*boolean)(void *ctx, int v);
  int (*number)(void *ctx, const char *s, size_t n);
  int (*string)(void *ctx, const char *s, size_t n);
  int (*start_map)(void *ctx);
  int (*map_key)(void *ctx, const char *s, size_t n);
  int (*end_map)(void *ctx);
  int (*start_array)(void *ctx);
  int (*end_array)(void *ctx);
} bp__json_cb;

/**
 * Parse exactly one JSON value from [text, text+n) (UTF-8 validated, no comments, no
 * trailing data). @p cb may be NULL for validation only; NULL members are skipped.
 * On error writes a message to @p err (may be NULL) with err->offset at the byte
 * where parsing failed.
 * @return 0; BP_ERR_INVALID_JSON; BP_ERR_NOMEM.
 */
int bp__json_parse(bp__json_pool *pool, const char *text, size_t n, const bp__json_cb *cb,
                   void *ctx, bp__errmsg *err);

/**
 * Byte offset of the parser while inside a callback: the position just after the token
 * being reported. Valid only during bp__json_parse callbacks of @p pool's current parse.
 */
size_t bp__json_offset(const bp__json_pool *pool);

/** bp__json_scan(): the text is left to bp__json_parse. */
#define BP__JSON_UNDECIDED 1

/**
 * Fast path of bp__json_parse (bp_json_scan.c): the same events for every text it accepts,
 * with escaped strings decoded into @p unesc (grown to the text's length at most) and every
 * other string given in place. No pool, no allocation once @p unesc has grown.
 * @return 0 (valid, every event made); BP_ERR_NOMEM (a callback returned -1, or @p unesc
 * could not grow); BP__JSON_UNDECIDED: invalid, a callback stopped, or the text holds what
 * only bp__json_parse decodes (a \u escape of a surrogate, nesting past 1024). Events may
 * have been made: the caller undoes their effect and asks bp__json_parse for the verdict.
 */
int bp__json_scan(const char *text, size_t n, const bp__json_cb *cb, void *ctx, bp__buf *unesc);

#endif
