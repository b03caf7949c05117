/* SPDX-License-Identifier: MIT */
/*
 * The yajl bridge: the only file that includes yajl. Strict parsing (UTF-8 validated, no
 * comments, exactly one value, no trailing data) with yajl's memory routed through the
 * owning object's allocator via a small recycling pool, so that parsing one text after
 * another allocates nothing in steady state.
 *
 * yajl does not check its internal allocations (a NULL from malloc is dereferenced), so the
 * pool tracks every block yajl holds and, when the allocator fails mid-parse, jumps back to
 * bp__json_parse, which frees those blocks and reports BP_ERR_NOMEM. yajl holds no other
 * resource, so abandoning its frames this way is safe.
 */
#include <setjmp.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "bp_json_int.h"

/* ---- Recycling, tracking pool ---- */

typedef struct pool_blk {
  struct pool_blk *prev, *next; /* in pool->live while yajl holds the block */
  size_t cap;
} pool_blk;

typedef union pool_hdr {
  pool_blk b;
  max_align_t align;
} pool_hdr;

void bp__json_pool_init(bp__json_pool *pool, const bp_allocator *alloc) {
  memset(pool, 0, sizeof *pool);
  pool->alloc = alloc;
}

void bp__json_pool_free(bp__json_pool *pool) {
  for (int i = 0; i < BP__JSON_POOL_SLOTS; i++) {
    bp__free(pool->alloc, pool->slot[i]);
    pool->slot[i] = NULL;
  }
}

static void live_add(bp__json_pool *pool, pool_hdr *h) {
  h->b.prev = NULL;
  h->b.next = pool->live;
  if (pool->live) ((pool_hdr *)pool->live)->b.prev = &h->b;
  pool->live = h;
}

static void live_remove(bp__json_pool *pool, pool_hdr *h) {
  if (h->b.prev) h->b.prev->next = h->b.next;
  else pool->live = h->b.next;
  if (h->b.next) h->b.next->prev = h->b.prev;
}

static void escape_nomem(bp__json_pool *pool) {
  if (pool->escape) longjmp(*(jmp_buf *)pool->escape, 1);
}

static void *pool_malloc(void *ctx, size_t n) {
  bp__json_pool *pool = ctx;
  int best = -1;
  for (int i = 0; i < BP__JSON_POOL_SLOTS; i++) {
    pool_hdr *h = pool->slot[i];
    if (h && h->b.cap >= n && (best < 0 || h->b.cap < ((pool_hdr *)pool->slot[best])->b.cap))
      best = i;
  }
  pool_hdr *h;
  if (best >= 0) {
    h = pool->slot[best];
    pool->slot[best] = NULL;
  } else {
    h = n > SIZE_MAX - sizeof(pool_hdr) ? NULL : bp__malloc(pool->alloc, sizeof(pool_hdr) + n);
    if (!h) {
      escape_nomem(pool);
      return NULL;
    }
    h->b.cap = n;
  }
  live_add(pool, h);
  return h + 1;
}

static void pool_free(void *ctx, void *p) {
  bp__json_pool *pool = ctx;
  if (!p) return;
  pool_hdr *h = (pool_hdr *)p - 1;
  live_remove(pool, h);
  int victim = 0;
  for (int i = 0; i < BP__JSON_POOL_SLOTS; i++) {
    if (!pool->slot[i]) {
      pool->slot[i] = h;
      return;
    }
    if (((pool_hdr *)pool->slot[i])->b.cap < ((pool_hdr *)pool->slot[victim])->b.cap) victim = i;
  }
  /* All slots full: keep the larger blocks. */
  if (((pool_hdr *)pool->slot[victim])->b.cap < h->b.cap) {
    bp__free(pool->alloc, pool->slot[victim]);
    pool->slot[victim] = h;
  } else {
    bp__free(pool->alloc, h);
  }
}

static void *pool_realloc(void *ctx, void *p, size_t n) {
  bp__json_pool *pool = ctx;
  if (!p) return pool_malloc(ctx, n);
  pool_hdr *h = (pool_hdr *)p - 1;
  if (h->b.cap >= n) return p;
  live_remove(pool, h);
  pool_hdr *g = n > SIZE_MAX - sizeof(pool_hdr) ? NULL
                                                : bp__realloc(pool->alloc, h, sizeof(pool_hdr) + n);
  if (!g) {
    live_add(pool, h); /* still yajl's; freed with the others on escape */
    escape_nomem(pool);
    return NULL;
  }
  g->b.cap = n;
  live_add(pool, g);
  return g + 1;
}

/* ---- Streaming parse ---- */

typedef struct parse_ctx {
  const bp__json_cb *cb;
  void *ctx;
  int nomem;        /* a callback ran out of memory */
  yajl_handle h;
  size_t depth;     /* open containers */
  int finishing;    /* inside yajl_complete_parse: offsets no longer index the text */
  int ended;        /* the top-level value is complete */
  size_t end;       /* its end offset in the text */
} parse_ctx;

static int relay(parse_ctx *pc, int r) {
  if (r < 0) pc->nomem = 1;
  return r > 0;
}

/* yajl 2.1 accepts trailing garbage that starts an unterminated string (`{}"x`: its lexer
 * reports "need more input"), so the bridge records where the top-level value ends and
 * bp__json_parse requires nothing but whitespace after it. A value completed while
 * finishing was terminated by the end of the text itself. */
static void value_done(parse_ctx *pc) {
  if (pc->depth) return;
  pc->ended = 1;
  pc->end = pc->finishing ? SIZE_MAX : yajl_get_bytes_consumed(pc->h);
}

#define HAS(name) (pc->cb && pc->cb->name)

static int y_null(void *c) {
  parse_ctx *pc = c;
  value_done(pc);
  return HAS(null_) ? relay(pc, pc->cb->null_(pc->ctx)) : 1;
}
static int y_boolean(void *c, int v) {
  parse_ctx *pc = c;
  value_done(pc);
  return HAS(boolean) ? relay(pc, pc->cb->boolean(pc->ctx, v)) : 1;
}
static int y_number(void *c, const char *s, size_t n) {
  parse_ctx *pc = c;
  value_done(pc);
  return HAS(number) ? relay(pc, pc->cb->number(pc->ctx, s, n)) : 1;
}
static int y_string(void *c, const unsigned char *s, size_t n) {
  parse_ctx *pc = c;
  value_done(pc);
  return HAS(string) ? relay(pc, pc->cb->string(pc->ctx, (const char *)s, n)) : 1;
}
static int y_start_map(void *c) {
  parse_ctx *pc = c;
  pc->depth++;
  return HAS(start_map) ? relay(pc, pc->cb->start_map(pc->ctx)) : 1;
}
static int y_map_key(void *c, const unsigned char *s, size_t n) {
  parse_ctx *pc = c;
  return HAS(map_key) ? relay(pc, pc->cb->map_key(pc->ctx, (const char *)s, n)) : 1;
}
static int y_end_map(void *c) {
  parse_ctx *pc = c;
  pc->depth--;
  value_done(pc);
  return HAS(end_map) ? relay(pc, pc->cb->end_map(pc->ctx)) : 1;
}
static int y_start_array(void *c) {
  parse_ctx *pc = c;
  pc->depth++;
  return HAS(start_array) ? relay(pc, pc->cb->start_array(pc->ctx)) : 1;
}
static int y_end_array(void *c) {
  parse_ctx *pc = c;
  pc->depth--;
  value_done(pc);
  return HAS(end_array) ? relay(pc, pc->cb->end_array(pc->ctx)) : 1;
}

static int json_only_whitespace(const char *s, size_t from, size_t n) {
  for (size_t i = from; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') return 0;
  return 1;
}

static const yajl_callbacks y_callbacks = {
    y_null,    y_boolean, NULL,        NULL,          y_number,   y_string,
    y_start_map, y_map_key, y_end_map, y_start_array, y_end_array};

static void abandon(bp__json_pool *pool) {
  while (pool->live) {
    pool_hdr *h = pool->live;
    pool->live = h->b.next;
    bp__free(pool->alloc, h);
  }
}

static int json_nomem(bp__errmsg *err) {
  return err ? bp__error(err, BP_ERR_NOMEM, "out of memory") : BP_ERR_NOMEM;
}

typedef struct run_out {
  yajl_status st;
  size_t offset;
} run_out;

/* The setjmp frame: yajl_alloc itself does not check its allocations either, so the whole
 * life of the handle happens here. Nothing modified after setjmp is read after a jump. */
static int json_run(bp__json_pool *pool, parse_ctx *pc, const char *text, size_t n, run_out *out) {
  jmp_buf env;
  if (setjmp(env)) return -1;
  pool->escape = &env;
  yajl_alloc_funcs af = {pool_malloc, pool_realloc, pool_free, pool};
  yajl_handle h = yajl_alloc(&y_callbacks, &af, pc);
  pc->h = h;
  yajl_config(h, yajl_allow_comments, 0);
  yajl_config(h, yajl_dont_validate_strings, 0);
  pool->parsing = h;
  out->st = yajl_parse(h, (const unsigned char *)(text ? text : ""), n);
  out->offset = yajl_get_bytes_consumed(h); /* counts the last call only: read it now */
  pc->finishing = 1;
  if (out->st == yajl_status_ok) {
    out->st = yajl_complete_parse(h);
    if (out->st != yajl_status_ok) out->offset = n; /* the text ended too early */
  }
  pool->parsing = NULL;
  yajl_free(h);
  pool->escape = NULL;
  return 0;
}

/* Where yajl 2.1 is more lenient than RFC 8259 + RFC 3629, reject before it runs: its UTF-8
 * check lets overlongs, surrogates and code points above U+10FFFF through, and its lexer
 * skips VT and FF as whitespace (raw control bytes are valid nowhere in JSON). */
static int lenient_spots(const char *text, size_t n, bp__errmsg *err) {
  if (!bp__utf8_valid(text, n)) {
    if (err) bp__error(err, BP_ERR_INVALID_JSON, "invalid JSON: not valid UTF-8");
    return BP_ERR_INVALID_JSON;
  }
  const char *vt = memchr(text, '\v', n), *ff = memchr(text, '\f', n);
  if (vt || ff) {
    const char *at = vt && (!ff || vt < ff) ? vt : ff;
    if (err) {
      bp__error(err, BP_ERR_INVALID_JSON, "invalid JSON at byte %zu: control character",
                (size_t)(at - text));
      err->offset = (size_t)(at - text);
    }
    return BP_ERR_INVALID_JSON;
  }
  return 0;
}

int bp__json_parse(bp__json_pool *pool, const char *text, size_t n, const bp__json_cb *cb,
                   void *ctx, bp__errmsg *err) {
  parse_ctx pc = {cb, ctx, 0, NULL, 0, 0, 0, 0};
  run_out out = {yajl_status_ok, 0};
  if (err) bp__errmsg_clear(err);
  if (n && lenient_spots(text, n, err)) return BP_ERR_INVALID_JSON;
  pool->live = NULL;
  if (json_run(pool, &pc, text, n, &out) < 0) {
    pool->escape = NULL;
    pool->parsing = NULL;
    abandon(pool);
    return json_nomem(err);
  }
  if (out.st == yajl_status_ok) {
    if (pc.ended && (pc.end == SIZE_MAX || json_only_whitespace(text, pc.end, n))) return 0;
    if (err) {
      bp__error(err, BP_ERR_INVALID_JSON, "invalid JSON at byte %zu: trailing data", pc.end);
      err->offset = pc.end;
    }
    return BP_ERR_INVALID_JSON;
  }
  if (pc.nomem) return json_nomem(err);
  if (err) {
    if (out.st != yajl_status_client_canceled || !err->text[0])
      bp__error(err, BP_ERR_INVALID_JSON, "invalid JSON at byte %zu", out.offset);
    err->offset = out.offset;
  }
  return BP_ERR_INVALID_JSON;
}

size_t bp__json_offset(const bp__json_pool *pool) {
  return pool->parsing ? yajl_get_bytes_consumed((yajl_handle)pool->parsing) : 0;
}
