/* SPDX-License-Identifier: MIT */
/*
 * The streaming matcher. One pass of parse events over the event text: keys walk a byte trie
 * of the patterns' paths (a key that leaves it makes its whole value a skipped subtree),
 * leaves at a path some condition names are tested against that path's conditions, and
 * every hit is recorded with its array membership (the innermost element of an array of
 * containers holding it). Then each sub-rule is decided: with no array involved by plain
 * booleans, otherwise by a search for hits in mutually consistent array elements, taken in
 * the sub-rule's path order as event-ruler's ACFinder does (exists:false is judged against
 * the elements chosen for the paths before it).
 */
#include <string.h>

#include "bp_filter_int.h"
#include "bp_json_dom_int.h"

#define FM_NONE_NODE (-1)

/* ---- The index ---- */

static uint32_t fm_trie_child(const bp_filter *f, uint32_t node, uint8_t b) {
  for (uint32_t c = f->trie[node].child; c != BP__FT_NONE; c = f->trie[c].sibling)
    if (f->trie[c].byte == b) return c;
  return BP__FT_NONE;
}

/* Insert without allocating: capacity was reserved by the caller. */
static uint32_t fm_trie_insert(bp_filter *f, const char *s, size_t n) {
  uint32_t node = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t c = fm_trie_child(f, node, (uint8_t)s[i]);
    if (c == BP__FT_NONE) {
      c = (uint32_t)f->ntrie++;
      f->trie[c].child = BP__FT_NONE;
      f->trie[c].dot = BP__FT_NONE;
      f->trie[c].sibling = f->trie[node].child;
      f->trie[c].slot = -1;
      f->trie[c].seg_first = f->trie[c].seg_count = 0;
      f->trie[c].byte = (uint8_t)s[i];
      f->trie[node].child = c;
      if (s[i] == '.') f->trie[node].dot = c;
    }
    node = c;
  }
  return node;
}

/*
 * event-ruler skips an event key unless it is one of the "used steps" (the segments of every
 * rule path split on '.' the Java way, trailing empty segments dropped) or, holding a '.',
 * splits into used steps only. So {"a":{"":[...]}} (path "a.", steps {"a"}) never sees the
 * event's {"a":{"":...}} but does see {"a.":...}. The index keeps the steps sorted.
 */
static int fm_seg_cmp(const char *a, size_t an, const char *b, size_t bn) {
  int c = an && bn ? memcmp(a, b, an < bn ? an : bn) : 0;
  return c ? c : (an > bn) - (an < bn);
}

static int fm_step_known(const bp_filter *f, const char *s, size_t n) {
  size_t lo = 0, hi = f->nsteps;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    const uint32_t *e = &f->steps[2 * mid];
    int c = fm_seg_cmp(f->pool.data + e[0], e[1], s, n);
    if (c == 0) return 1;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return 0;
}

/* GenericMachine.isFieldStepUsed() */
static int fm_step_used(const bp_filter *f, const char *k, size_t n) {
  if (fm_step_known(f, k, n)) return 1;
  if (!memchr(k, '.', n)) return 0;
  size_t end = n;
  while (end && k[end - 1] == '.') end--; /* trailing empty segments are dropped */
  for (size_t i = 0; i < end;) {
    const char *d = memchr(k + i, '.', end - i);
    size_t len = d ? (size_t)(d - (k + i)) : end - i;
    if (!fm_step_known(f, k + i, len)) return 0;
    i += len + 1;
  }
  return 1;
}

/* Append the Java split of a path to the steps (unsorted, duplicates kept). */
static void fm_split_path(bp_filter *f, uint32_t off, uint32_t len) {
  const char *p = f->pool.data + off;
  size_t end = len;
  while (end && p[end - 1] == '.') end--;
  if (end == 0 && len != 0) return; /* only dots: Java's split gives no segment */
  for (size_t i = 0;;) {            /* "" splits into one empty segment */
    const char *d = end > i ? memchr(p + i, '.', end - i) : NULL;
    size_t seg = d ? (size_t)(d - (p + i)) : end - i;
    f->steps[2 * f->nsteps] = off + (uint32_t)i;
    f->steps[2 * f->nsteps + 1] = (uint32_t)seg;
    f->nsteps++;
    if (!d) break;
    i += seg + 1;
  }
}

/* Append the segments of a path (trie built): from each key start, every node where a path
 * ends or a '.' follows, up to the next '.'. Duplicates across paths are removed later. */
static void fm_path_segments(bp_filter *f, uint32_t off, uint32_t len) {
  const char *p = f->pool.data + off;
  uint32_t node = 0, start = 0, begin = 0;
  for (uint32_t i = 0; i < len; i++) {
    node = fm_trie_child(f, node, (uint8_t)p[i]);
    if (p[i] == '.') {
      start = node;
      begin = i + 1;
    } else if (f->trie[node].slot >= 0 || f->trie[node].dot != BP__FT_NONE) {
      bp__fseg *e = &f->seg[f->nseg++];
      e->start = start;
      e->node = node;
      e->off = off + begin;
      e->len = i + 1 - begin;
    }
  }
}

static int fm_seg_before(const bp__fseg *a, const bp__fseg *b) {
  return a->start != b->start ? a->start < b->start : a->node < b->node;
}

/* Group the segments by start node (insertion sort: a few per path), one per end node. */
static void fm_index_segments(bp_filter *f) {
  for (size_t i = 1; i < f->nseg; i++) {
    bp__fseg e = f->seg[i];
    size_t j = i;
    for (; j && fm_seg_before(&e, &f->seg[j - 1]); j--) f->seg[j] = f->seg[j - 1];
    f->seg[j] = e;
  }
  size_t n = 0;
  for (size_t i = 0; i < f->nseg; i++) {
    if (n && f->seg[n - 1].node == f->seg[i].node) continue;
    f->seg[n] = f->seg[i];
    bp__ftrie *t = &f->trie[f->seg[n].start];
    if (!t->seg_count) t->seg_first = (uint32_t)n;
    t->seg_count++;
    n++;
  }
  f->nseg = n;
}

/* Shell sort of the steps (no qsort: the comparison needs the pool). */
static void fm_sort_steps(bp_filter *f) {
  static const size_t gaps[] = {701, 301, 132, 57, 23, 10, 4, 1};
  for (size_t g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
    size_t gap = gaps[g];
    for (size_t i = gap; i < f->nsteps; i++) {
      uint32_t o = f->steps[2 * i], l = f->steps[2 * i + 1];
      size_t j = i;
      for (; j >= gap; j -= gap) {
        const uint32_t *e = &f->steps[2 * (j - gap)];
        if (fm_seg_cmp(f->pool.data + e[0], e[1], f->pool.data + o, l) <= 0) break;
        f->steps[2 * j] = e[0];
        f->steps[2 * j + 1] = e[1];
      }
      f->steps[2 * j] = o;
      f->steps[2 * j + 1] = l;
    }
  }
}

int bp__filter_index(bp_filter *f) {
  size_t bytes = 1, refs = 0;
  for (size_t i = 0; i < f->nc; i++)
    if (f->c[i].referenced) bytes += f->c[i].path_len, refs++;
  /* Worst cases: one node (and one segment) per path byte, one slot per condition. */
  if (bp__filter_grow(&f->alloc, (void **)&f->trie, &f->trie_cap, bytes, sizeof *f->trie) ||
      bp__filter_grow(&f->alloc, (void **)&f->seg, &f->seg_cap, bytes, sizeof *f->seg) ||
      bp__filter_grow(&f->alloc, (void **)&f->slot, &f->slot_cap, refs + 1, sizeof *f->slot) ||
      bp__filter_grow(&f->alloc, (void **)&f->slot_conds, &f->slot_conds_cap, refs + 1,
                      sizeof *f->slot_conds) ||
      bp__filter_grow(&f->alloc, (void **)&f->crec, &f->crec_cap, f->nc + 1, sizeof *f->crec) ||
      bp__filter_grow(&f->alloc, (void **)&f->srec, &f->srec_cap, refs + 1, sizeof *f->srec) ||
      bp__filter_grow(&f->alloc, (void **)&f->steps, &f->steps_cap, 2 * (bytes + refs + 1),
                      sizeof *f->steps))
    return BP_ERR_NOMEM;
  f->nsteps = 0;
  f->ntrie = 1;
  f->trie[0].child = f->trie[0].sibling = f->trie[0].dot = BP__FT_NONE;
  f->trie[0].slot = -1;
  f->trie[0].seg_first = f->trie[0].seg_count = 0;
  f->trie[0].byte = 0;
  f->nslot = 0;
  f->nseg = 0;
  f->uses_data = f->needs_record = f->needs_kinesis_data = 0;
  for (size_t i = 0; i < f->nc; i++) {
    bp__fcond *c = &f->c[i];
    if (!c->referenced) continue;
    const char *p = f->pool.data + c->path;
    uint32_t node = fm_trie_insert(f, p, c->path_len);
    if (f->trie[node].slot < 0) {
      f->trie[node].slot = (int32_t)f->nslot;
      f->slot[f->nslot].count = 0;
      f->slot[f->nslot].track = 0;
      f->nslot++;
    }
    c->slot = (uint32_t)f->trie[node].slot;
    fm_split_path(f, c->path, c->path_len);
    f->slot[c->slot].count++;
    if (c->absence) f->slot[c->slot].track = 1;
    int data = c->path_len >= 4 && memcmp(p, "data", 4) == 0 && (c->path_len == 4 || p[4] == '.');
    if (data)
      f->uses_data = 1;
    else
      f->needs_record = 1;
    if (c->path_len == 12 && memcmp(p, "kinesis.data", 12) == 0) f->needs_kinesis_data = 1;
  }
  uint32_t at = 0;
  for (size_t s = 0; s < f->nslot; s++) {
    f->slot[s].first = at;
    at += f->slot[s].count;
    f->slot[s].count = 0;
  }
  for (size_t i = 0; i < f->nc; i++) {
    bp__fcond *c = &f->c[i];
    if (!c->referenced) continue;
    bp__fslot *s = &f->slot[c->slot];
    f->slot_conds[s->first + s->count++] = (uint32_t)i;
  }
  f->nslot_conds = at;
  for (size_t i = 0; i < f->nc; i++)
    if (f->c[i].referenced) fm_path_segments(f, f->c[i].path, f->c[i].path_len);
  fm_index_segments(f);
  fm_sort_steps(f);
  memset(f->crec, 0, f->crec_cap * sizeof *f->crec);
  memset(f->srec, 0, f->srec_cap * sizeof *f->srec);
  f->gen = 0;
  bp__filter_view_index(f);
  return 0;
}

/* ---- Leaves ---- */

typedef struct fm_val {
  int type;      /* BP__J_* */
  const char *s; /* string bytes, or the token text of a number, null, true, false */
  size_t n;
  int num; /* -1 not yet known, 0 not comparable, 1 comparable (d) */
  double d;
  int ip; /* -2 not yet known, else bp__filter_ip_parse() */
  uint8_t ipb[16];
} fm_val;

static int fm_comparable(fm_val *v) {
  if (v->type != BP__J_NUMBER) return 0;
  if (v->num < 0) v->num = bp__filter_comparable(v->s, v->n, &v->d);
  return v->num;
}

static int fm_ip_of(fm_val *v) {
  if (v->type != BP__J_STRING) return 0;
  if (v->ip == -2) v->ip = bp__filter_ip_parse(v->s, v->n, v->ipb);
  return v->ip;
}

static uint32_t fm_rd32(const char *p) {
  uint32_t x;
  memcpy(&x, p, 4);
  return x;
}

/* Does a string satisfy any item of an anything-but set? (kind-specific test) */
static int fm_in_set(const bp_filter *f, const bp__fmatch *m, const fm_val *v) {
  const char *p = f->pool.data + m->str;
  if (m->kind == BP__FM_AB_NUM) {
    for (uint32_t i = 0; i < m->len; i++) {
      double d;
      memcpy(&d, p + 8 * (size_t)i, sizeof d);
      if (d == v->d) return 1;
    }
    return 0;
  }
  for (uint32_t i = 0; i < m->len; i++) {
    uint32_t n = fm_rd32(p);
    const char *item = p + 4;
    p = item + n;
    switch (m->kind) {
      case BP__FM_AB_STR:
        if (n == v->n && memcmp(item, v->s, n) == 0) return 1;
        break;
      case BP__FM_AB_PREFIX:
        if (n <= v->n && memcmp(item, v->s, n) == 0) return 1;
        break;
      case BP__FM_AB_SUFFIX:
        if (n <= v->n && memcmp(item, v->s + v->n - n, n) == 0) return 1;
        break;
      case BP__FM_AB_EIC:
        if (bp__filter_eic_match((const uint8_t *)item, n, v->s, v->n, 0)) return 1;
        break;
      default:
        if (bp__filter_wild_match((const uint8_t *)item, v->s, v->n)) return 1;
        break;
    }
  }
  return 0;
}

static int fm_matcher(const bp_filter *f, const bp__fmatch *m, fm_val *v) {
  const char *op = f->pool.data + m->str;
  int str = v->type == BP__J_STRING;
  switch (m->kind) {
    case BP__FM_EXACT_STR:
      return str && v->n == m->len && memcmp(v->s, op, m->len) == 0;
    case BP__FM_EXACT_RAW:
      return !str && v->n == m->len && memcmp(v->s, op, m->len) == 0;
    case BP__FM_NUM_EQ:
      return fm_comparable(v) && v->d == m->lo;
    case BP__FM_RANGE:
      if (!fm_comparable(v)) return 0;
      if (m->has_lo && !(m->lo_open ? v->d > m->lo : v->d >= m->lo)) return 0;
      return !m->has_hi || (m->hi_open ? v->d < m->hi : v->d <= m->hi);
    case BP__FM_IP:
      return fm_ip_of(v) == m->ip_len && memcmp(v->ipb, m->ip_lo, m->ip_len) >= 0 &&
             memcmp(v->ipb, m->ip_hi, m->ip_len) <= 0;
    case BP__FM_PREFIX:
      return str && m->len <= v->n && memcmp(v->s, op, m->len) == 0;
    case BP__FM_SUFFIX:
      return str && m->len <= v->n && memcmp(v->s + v->n - m->len, op, m->len) == 0;
    case BP__FM_PREFIX_EIC:
      return str && bp__filter_eic_match((const uint8_t *)op, m->len, v->s, v->n, 1);
    case BP__FM_SUFFIX_EIC:
      return str && bp__filter_eic_match((const uint8_t *)op, m->len, v->s, v->n, 2);
    case BP__FM_EIC:
      return str && bp__filter_eic_match((const uint8_t *)op, m->len, v->s, v->n, 0);
    case BP__FM_WILDCARD:
      return str && bp__filter_wild_match((const uint8_t *)op, v->s, v->n);
    case BP__FM_EXISTS:
      return 1;
    case BP__FM_AB_NUM: /* excludes equal numbers only; strings and others pass */
      return !(fm_comparable(v) && fm_in_set(f, m, v));
    default: /* string anything-buts: numbers, booleans and null pass */
      return !(str && fm_in_set(f, m, v));
  }
}

static int fm_record(bp_filter *f, bp__frec *r, int32_t memb) {
  if (r->gen != f->gen) {
    r->gen = f->gen;
    r->head = -1;
    r->last = -2;
    r->free_ = 0;
  }
  if (memb < 0) {
    r->free_ = 1;
    return 0;
  }
  if (r->last == memb) return 0;
  if (bp__filter_grow(&f->alloc, (void **)&f->refs, &f->refs_cap, f->nrefs + 1, sizeof *f->refs))
    return -1;
  f->refs[f->nrefs].node = memb;
  f->refs[f->nrefs].next = r->head;
  r->head = (int32_t)f->nrefs++;
  r->last = memb;
  f->constrained = 1;
  return 0;
}

/* Test a leaf at trie node @p node (membership @p memb) against its path's conditions and
 * record the hits. @return 1, or -1 out of memory. */
static int fm_leaf_at(bp_filter *f, uint32_t node, int32_t memb, int type, const char *s,
                      size_t n) {
  if (node == BP__FT_DEAD || f->trie[node].slot < 0) return 1;
  const bp__fslot *slot = &f->slot[f->trie[node].slot];
  fm_val v = {type, s, n, -1, 0.0, -2, {0}};
  if (slot->track && fm_record(f, &f->srec[f->trie[node].slot], memb)) return -1;
  for (uint32_t i = 0; i < slot->count; i++) {
    uint32_t ci = f->slot_conds[slot->first + i];
    const bp__fcond *c = &f->c[ci];
    for (uint32_t k = 0; k < c->count; k++)
      if (fm_matcher(f, &f->m[c->first + k], &v)) {
        if (fm_record(f, &f->crec[ci], memb)) return -1;
        break;
      }
  }
  return 1;
}

static int fm_leaf(bp_filter *f, int type, const char *s, size_t n) {
  const bp__flevel *top = &f->lv[f->nlv - 1];
  return fm_leaf_at(f, top->kind == BP__FL_OBJ ? top->key : top->trie, top->memb, type, s, n);
}

/* ---- Parse events ---- */

static void fm_after_value(bp_filter *f) {
  bp__flevel *top = &f->lv[f->nlv - 1];
  if (top->kind == BP__FL_ARR) top->index++;
}

static int fm_scalar(bp_filter *f, int type, const char *s, size_t n) {
  if (f->dead) return 1;
  if (f->members_mode && f->text_depth == 0) {
    f->not_object = 1;
    bp__error(&f->err, BP_ERR_INVALID_JSON, "the event is not a JSON object");
    return 0;
  }
  int rc = fm_leaf(f, type, s, n);
  if (rc < 0) {
    f->oom = 1;
    return -1;
  }
  fm_after_value(f);
  return 1;
}

static int fm_null(void *ctx) { return fm_scalar(ctx, BP__J_NULL, "null", 4); }
static int fm_bool(void *ctx, int b) {
  return fm_scalar(ctx, BP__J_BOOL, b ? "true" : "false", b ? 4 : 5);
}
static int fm_number(void *ctx, const char *s, size_t n) {
  return fm_scalar(ctx, BP__J_NUMBER, s, n);
}
static int fm_string(void *ctx, const char *s, size_t n) {
  return fm_scalar(ctx, BP__J_STRING, s, n);
}

static int fm_open(bp_filter *f, int kind) {
  f->text_depth++;
  if (f->dead) {
    f->dead++;
    return 1;
  }
  if (f->members_mode && f->text_depth == 1) { /* the event's own top-level object */
    if (kind == BP__FL_OBJ) return 1;
    f->not_object = 1;
    bp__error(&f->err, BP_ERR_INVALID_JSON, "the event is not a JSON object");
    return 0;
  }
  bp__flevel *parent = &f->lv[f->nlv - 1];
  uint32_t node = parent->kind == BP__FL_OBJ ? parent->key : parent->trie;
  if (node == BP__FT_DEAD) { /* no path goes through here: skip the whole value */
    f->dead = 1;
    return 1;
  }
  if (bp__filter_grow(&f->alloc, (void **)&f->lv, &f->lv_cap, f->nlv + 1, sizeof *f->lv)) {
    f->oom = 1;
    return -1;
  }
  parent = &f->lv[f->nlv - 1];
  bp__flevel *l = &f->lv[f->nlv];
  memset(l, 0, sizeof *l);
  l->kind = (uint8_t)kind;
  l->trie = node;
  l->key = BP__FT_DEAD;
  l->memb = parent->memb;
  if (parent->kind == BP__FL_ARR) { /* an element of an array: its own membership node */
    if (bp__filter_grow(&f->alloc, (void **)&f->nodes, &f->nodes_cap, f->nnodes + 1,
                        sizeof *f->nodes)) {
      f->oom = 1;
      return -1;
    }
    l->element = 1;
    l->saved_nodes = (uint32_t)f->nnodes;
    l->saved_refs = (uint32_t)f->nrefs;
    bp__fnode *nd = &f->nodes[f->nnodes];
    nd->parent = parent->memb;
    nd->arr = parent->arr;
    nd->depth = parent->memb < 0 ? 1 : f->nodes[parent->memb].depth + 1;
    l->memb = (int32_t)f->nnodes++;
  }
  if (kind == BP__FL_ARR) l->arr = f->next_arr++;
  f->nlv++;
  return 1;
}

static int fm_close(bp_filter *f) {
  f->text_depth--;
  if (f->dead) {
    f->dead--;
    return 1;
  }
  if (f->members_mode && f->text_depth == 0) return 1; /* the root stays */
  bp__flevel *l = &f->lv[--f->nlv];
  /* An element no recorded leaf refers to gives its nodes back (bounded memory). */
  if (l->element && f->nrefs == l->saved_refs) f->nnodes = l->saved_nodes;
  fm_after_value(f);
  return 1;
}

static int fm_start_map(void *ctx) { return fm_open(ctx, BP__FL_OBJ); }
static int fm_start_array(void *ctx) { return fm_open(ctx, BP__FL_ARR); }
static int fm_end(void *ctx) { return fm_close(ctx); }

/* The general case of bp__filter_key_node(): event-ruler's step rule decides. */
BP__NOINLINE static uint32_t fm_key_node_steps(const bp_filter *f, uint32_t node, const char *k, size_t n) {
  return fm_step_used(f, k, n) ? node : BP__FT_DEAD;
}

uint32_t bp__filter_key_walk(const bp_filter *f, uint32_t parent, int root, const char *k,
                             size_t n) {
  /* The trie node of the key in its object (a key below the root continues its object's
   * path after a '.'), BP__FT_DEAD when no path goes on with it. */
  uint32_t node = parent;
  if (node == BP__FT_DEAD) return node;
  if (!root && (node = f->trie[node].dot) == BP__FT_NONE) return BP__FT_DEAD;
  unsigned dots = 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t b = (uint8_t)k[i];
    dots |= b == '.';
    if ((node = fm_trie_child(f, node, b)) == BP__FT_NONE) return BP__FT_DEAD;
  }
  /* A key without '.' walked from a segment's start to a segment's end (a path ends or a
   * '.' follows) is a segment of that path, so a used step: no search. */
  if (n && !dots && (f->trie[node].slot >= 0 || f->trie[node].dot != BP__FT_NONE)) return node;
  return fm_key_node_steps(f, node, k, n);
}

uint32_t bp__filter_key_node(const bp_filter *f, uint32_t parent, int root, const char *k,
                             size_t n) {
  if (parent == BP__FT_DEAD) return parent;
  uint32_t start = parent;
  if (!root && (start = f->trie[parent].dot) == BP__FT_NONE) return BP__FT_DEAD;
  /* A key spelling one of its start's segments leads to that segment's end, as the walk
   * would find (no '.' in it, and the walk ends where a path ends or a '.' follows). */
  const bp__ftrie *t = &f->trie[start];
  const bp__fseg *e = f->seg + t->seg_first, *e_end = e + t->seg_count;
  for (; e < e_end; e++) {
    if (e->len != n) continue;
    const char *s = f->pool.data + e->off;
    size_t i = 0;
    while (i < n && s[i] == k[i]) i++;
    if (i == n) return e->node;
  }
  /* No path goes on with its first byte: the walk would stop there. */
  if (n && fm_trie_child(f, start, (uint8_t)k[0]) == BP__FT_NONE) return BP__FT_DEAD;
  return bp__filter_key_walk(f, parent, root, k, n);
}

static int fm_key(void *ctx, const char *k, size_t n) {
  bp_filter *f = ctx;
  if (f->dead) return 1;
  bp__flevel *l = &f->lv[f->nlv - 1];
  l->key = bp__filter_key_node(f, l->trie, l->root, k, n);
  return l->key == BP__FT_DEAD ? 2 : 1; /* 2: no path reaches into its value */
}

static const bp__json_cb fm_cb = {fm_null, fm_bool, fm_number,      fm_string, fm_start_map,
                                  fm_key,  fm_end,  fm_start_array, fm_end};

int bp__filter_begin(bp_filter *f) {
  if (++f->gen == 0) { /* wrapped: forget every stamp */
    memset(f->crec, 0, f->crec_cap * sizeof *f->crec);
    memset(f->srec, 0, f->srec_cap * sizeof *f->srec);
    f->gen = 1;
  }
  f->nrefs = f->nnodes = 0;
  f->next_arr = 0;
  f->dead = 0;
  f->constrained = f->oom = f->not_object = 0;
  if (bp__filter_grow(&f->alloc, (void **)&f->lv, &f->lv_cap, 8, sizeof *f->lv))
    return BP_ERR_NOMEM;
  memset(&f->lv[0], 0, sizeof f->lv[0]);
  f->lv[0].kind = BP__FL_OBJ;
  f->lv[0].root = 1;
  f->lv[0].trie = 0;
  f->lv[0].key = BP__FT_DEAD;
  f->lv[0].memb = FM_NONE_NODE;
  f->nlv = 1;
  return 0;
}

/* Parse an event's text: the fast scan, or when it leaves the text undecided, the scan's
 * events undone (a text is the only one fed to its event, right after bp__filter_begin) and
 * the yajl bridge for the verdict and its message. */
static int fm_feed(bp_filter *f, const char *text, size_t n) {
  uint32_t root_key = f->lv[0].key;
  size_t nlv = f->nlv;
  f->text_depth = 0;
  f->dead = 0;
  int rc = bp__json_scan(text, n, &fm_cb, f, &f->unesc);
  f->nlv = nlv; /* an abandoned parse may leave levels behind */
  if (rc == BP__JSON_UNDECIDED) {
    if (bp__filter_begin(f)) return bp__error(&f->err, BP_ERR_NOMEM, "out of memory");
    f->lv[0].key = root_key;
    f->text_depth = 0;
    f->dead = 0;
    rc = bp__json_parse(&f->json, text, n, &fm_cb, f, &f->err);
    f->nlv = nlv;
  }
  f->dead = 0;
  if (rc == BP_ERR_NOMEM || f->oom) return bp__error(&f->err, BP_ERR_NOMEM, "out of memory");
  return rc;
}

int bp__filter_feed_members(bp_filter *f, const char *text, size_t n) {
  f->members_mode = 1;
  return fm_feed(f, text, n);
}

int bp__filter_feed_value(bp_filter *f, const char *key, size_t key_len, const char *text,
                          size_t n) {
  f->members_mode = 0;
  f->lv[0].key = bp__filter_key_node(f, 0, 1, key, key_len);
  return fm_feed(f, text, n);
}

/* A leaf outside every array, its node known: what a parse reaching it records (a leaf
 * outside arrays neither opens a level nor records a membership, so it cannot run out of
 * memory). */
void bp__filter_leaf_string(bp_filter *f, uint32_t node, const char *s, size_t n) {
  fm_leaf_at(f, node, FM_NONE_NODE, BP__J_STRING, s, n);
}
void bp__filter_leaf_number(bp_filter *f, uint32_t node, const char *s, size_t n) {
  fm_leaf_at(f, node, FM_NONE_NODE, BP__J_NUMBER, s, n);
}

/* ---- Decide ---- */

static const bp__frec *fm_fresh(const bp_filter *f, const bp__frec *r) {
  return r->gen == f->gen ? r : NULL;
}

/* Two leaves may be used together unless some array holds them in different elements. */
static int fm_consistent(const bp_filter *f, int32_t a, int32_t b) {
  if (a < 0 || b < 0 || a == b) return 1;
  const bp__fnode *n = f->nodes;
  while (n[a].depth > n[b].depth) a = n[a].parent;
  while (n[b].depth > n[a].depth) b = n[b].parent;
  if (a == b) return 1; /* one inside the other */
  while (n[a].parent != n[b].parent) {
    a = n[a].parent;
    b = n[b].parent;
  }
  /* Siblings under one element (or both outermost): same array means different elements. */
  return n[a].arr != n[b].arr;
}

static int fm_fits(const bp_filter *f, int32_t node, const int32_t *chosen, size_t nchosen) {
  for (size_t i = 0; i < nchosen; i++)
    if (!fm_consistent(f, node, chosen[i])) return 0;
  return 1;
}

/* exists:false: is some leaf at the path usable together with the choices so far? */
static int fm_present(const bp_filter *f, const bp__fcond *c, const int32_t *chosen,
                      size_t nchosen) {
  const bp__frec *r = fm_fresh(f, &f->srec[c->slot]);
  if (!r) return 0;
  if (r->free_) return 1;
  for (int32_t k = r->head; k >= 0; k = f->refs[k].next)
    if (fm_fits(f, f->refs[k].node, chosen, nchosen)) return 1;
  return 0;
}

static int fm_search(const bp_filter *f, const bp__fsub *s, size_t i, int32_t *chosen,
                     size_t nchosen) {
  if (i == s->count) return 1;
  const bp__fcond *c = &f->c[f->sc[s->first + i]];
  const bp__frec *r = fm_fresh(f, &f->crec[f->sc[s->first + i]]);
  int later_absence = (int32_t)i < s->last_absence;
  if (r && r->free_) {
    if (fm_search(f, s, i + 1, chosen, nchosen)) return 1;
    /* A leaf in an array only adds constraints; they can only help a later exists:false. */
    if (!later_absence) return 0;
  }
  for (int32_t k = r ? r->head : -1; k >= 0; k = f->refs[k].next) {
    int32_t node = f->refs[k].node;
    if (!fm_fits(f, node, chosen, nchosen)) continue;
    chosen[nchosen] = node;
    if (fm_search(f, s, i + 1, chosen, nchosen + 1)) return 1;
  }
  if (c->absence && !(r && r->free_) && !fm_present(f, c, chosen, nchosen))
    return fm_search(f, s, i + 1, chosen, nchosen);
  return 0;
}

static int fm_sub_matches(const bp_filter *f, const bp__fsub *s) {
  /* Every condition needs a hit or a chance of absence; then, without arrays, that's all. */
  for (uint32_t i = 0; i < s->count; i++) {
    const bp__fcond *c = &f->c[f->sc[s->first + i]];
    const bp__frec *r = fm_fresh(f, &f->crec[f->sc[s->first + i]]);
    if (r) continue;
    if (!c->absence) return 0;
    const bp__frec *o = fm_fresh(f, &f->srec[c->slot]);
    if (o && o->free_) return 0;
  }
  if (!f->constrained) return 1;
  int32_t chosen[256];
  return fm_search(f, s, 0, chosen, 0);
}

int bp__filter_eval(bp_filter *f) {
  if (f->npatterns == 0) return 1;
  for (int p = 0; p < f->npatterns; p++)
    for (uint32_t i = 0; i < f->pat_nsub[p]; i++)
      if (fm_sub_matches(f, &f->s[f->pat_sub[p] + i])) return 1;
  return 0;
}
