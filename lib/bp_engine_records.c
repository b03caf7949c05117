/* SPDX-License-Identifier: MIT */
/* Per-shard record storage of the engine: a ring of fixed-size slots (one per buffered
 * record, indexed by position) and the record bytes in chunks that never move, so record
 * views lent to a callback stay valid while later fetches are stored. Chunks are recycled
 * as the checkpoint passes their records: no allocation per record in steady state. */
#include <string.h>

#include "bp_engine_int.h"

#define CHUNK_MIN ((size_t)4096)
#define CHUNK_MAX ((size_t)1 << 20)
#define FREE_CHUNKS_KEPT 2

uint32_t bp__lane_of(const char *key, size_t len, uint32_t nlanes) {
  /* SEMANTICS.md §3.2 (batchpoint's decision): FNV-1a-32 of the partition-key bytes, modulo ParallelizationFactor */
  if (nlanes <= 1) return 0; /* one lane: nothing to hash */
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < len; i++) {
    h ^= (uint8_t)key[i];
    h *= 16777619u;
  }
  return h % nlanes;
}

int bp_lane_of(const char *partition_key, size_t len, int parallelization_factor) {
  if ((!partition_key && len) || parallelization_factor < 1 ||
      parallelization_factor > BP_CONFIG_MAX_PARALLELIZATION_FACTOR)
    return BP_ERR_INVALID_ARGUMENT;
  return (int)bp__lane_of(partition_key, len, (uint32_t)parallelization_factor);
}

int bp__records_init(bp_engine *e, bp__shard *s, uint32_t cap, uint64_t max_bytes) {
  s->slots = bp__calloc(&e->alloc, cap, sizeof *s->slots);
  s->links = bp__calloc(&e->alloc, cap, sizeof *s->links);
  if (!s->slots || !s->links) return BP_ERR_NOMEM; /* bp__records_free frees either */
  s->cap = cap;
  size_t cs = (size_t)(max_bytes / 8);
  s->chunk_size = cs < CHUNK_MIN ? CHUNK_MIN : cs > CHUNK_MAX ? CHUNK_MAX : cs;
  return 0;
}

static void chunk_list_free(bp_engine *e, bp__chunk *c) {
  while (c) {
    bp__chunk *n = c->next;
    bp__free(&e->alloc, c);
    c = n;
  }
}

void bp__records_free(bp_engine *e, bp__shard *s) {
  chunk_list_free(e, s->chunk_head);
  chunk_list_free(e, s->chunk_free);
  s->chunk_head = s->chunk_tail = s->chunk_free = NULL;
  bp__free(&e->alloc, s->slots);
  bp__free(&e->alloc, s->links);
  s->slots = NULL;
  s->links = NULL;
}

/* A record's fields in F_* order (pointer, length). */
static void fields_of(const bp_record *r, const char *p[F_COUNT], size_t len[F_COUNT]) {
  p[F_SEQ] = r->seq, len[F_SEQ] = r->seq_len;
  p[F_PK] = r->partition_key, len[F_PK] = r->partition_key_len;
  p[F_DATA] = (const char *)r->data, len[F_DATA] = r->data_len;
  p[F_ENC] = r->encryption_type, len[F_ENC] = r->encryption_type_len;
  p[F_EVID] = r->event_id, len[F_EVID] = r->event_id_len;
  p[F_EVNAME] = r->event_name, len[F_EVNAME] = r->event_name_len;
  p[F_DDB] = r->dynamodb_json, len[F_DDB] = r->dynamodb_json_len;
  p[F_UI] = r->user_identity_json, len[F_UI] = r->user_identity_json_len;
}

const char *bp__records_oversized_field(const bp_record *r) {
  static const char *const name[F_COUNT] = {"seq",      "partition_key", "data",
                                            "encryption_type", "event_id", "event_name",
                                            "dynamodb_json", "user_identity_json"};
  const char *p[F_COUNT];
  size_t len[F_COUNT];
  fields_of(r, p, len);
  for (int f = 0; f < F_COUNT; f++)
    if (len[f] > UINT32_MAX || (p[f] && !bp__span_ok(p[f], len[f]))) return name[f];
  return NULL;
}

/* A chunk with room for n bytes at the tail: the current one, a recycled one, or a new one
 * (of the standard size, or of n bytes for a record bigger than that). */
static bp__chunk *chunk_for(bp_engine *e, bp__shard *s, size_t n) {
  bp__chunk *c = s->chunk_tail;
  if (c && c->cap - c->used >= n) return c;
  if (c && c->live == 0 && c->cap >= n) { /* nothing left in it: reuse in place */
    c->used = 0;
    return c;
  }
  if (s->chunk_free && s->chunk_free->cap >= n) {
    c = s->chunk_free;
    s->chunk_free = c->next;
  } else {
    size_t cap = n > s->chunk_size ? n : s->chunk_size;
    if (cap > SIZE_MAX - sizeof *c) return NULL;
    c = bp__malloc(&e->alloc, sizeof *c + cap);
    if (!c) return NULL;
    c->cap = cap;
    s->bytes_in_use += cap;
  }
  c->next = NULL;
  c->used = 0;
  c->live = 0;
  if (s->chunk_tail) s->chunk_tail->next = c;
  else s->chunk_head = c;
  s->chunk_tail = c;
  return c;
}

/* Copy one field to @p to; record its length and presence in the slot. */
static inline char *put_field(bp__slot *sl, int f, const void *p, size_t len, char *to) {
  sl->present |= (uint16_t)((p != NULL) << f);
  sl->len[f] = (uint32_t)len;
  if (len) memcpy(to, p, len);
  return to + len;
}

int bp__records_add(bp_engine *e, bp__shard *s, const bp_record *r, int lean,
                    size_t record_bytes, uint32_t *slot_out) {
  /* at most eight lengths of at most UINT32_MAX each: their sum fits in 64 bits */
  uint64_t sum;
  if (lean) { /* three fields, the other five known NULL and empty */
    if ((r->seq_len | r->partition_key_len | r->data_len) > UINT32_MAX) return BP_ERR_TOO_LARGE;
    sum = (uint64_t)r->seq_len + r->partition_key_len + r->data_len;
  } else {
    if ((r->seq_len | r->partition_key_len | r->data_len | r->encryption_type_len |
         r->event_id_len | r->event_name_len | r->dynamodb_json_len |
         r->user_identity_json_len) > UINT32_MAX)
      return BP_ERR_TOO_LARGE;
    sum = (uint64_t)r->seq_len + r->partition_key_len + r->data_len + r->encryption_type_len +
          r->event_id_len + r->event_name_len + r->dynamodb_json_len + r->user_identity_json_len;
  }
  if (sum > SIZE_MAX) return BP_ERR_TOO_LARGE;
  size_t total = (size_t)sum;
  bp__chunk *c = chunk_for(e, s, total ? total : 1);
  if (!c) return BP_ERR_NOMEM;
  uint32_t idx = (uint32_t)(s->next_pos % s->cap);
  bp__slot *sl = &s->slots[idx];
  sl->pos = s->next_pos;
  sl->chunk = c;
  sl->off = c->used;
  sl->shape = 0;
  char *to = c->data + c->used; /* in F_* order */
  if (lean) {
    sl->present = (uint16_t)(BP__SLOT_LEAN | (r->seq != NULL) << F_SEQ |
                             (r->partition_key != NULL) << F_PK | (r->data != NULL) << F_DATA);
    sl->len[F_SEQ] = (uint32_t)r->seq_len;
    sl->len[F_PK] = (uint32_t)r->partition_key_len;
    sl->len[F_DATA] = (uint32_t)r->data_len;
    memset(&sl->len[F_ENC], 0, sizeof sl->len[0] * (F_COUNT - F_ENC));
    to = bp__put(to, r->seq, r->seq_len);
    to = bp__put(to, r->partition_key, r->partition_key_len);
    bp__put(to, (const char *)r->data, r->data_len);
  } else {
    sl->present = 0; /* not lean, even when every later field turns out NULL and empty */
    to = put_field(sl, F_SEQ, r->seq, r->seq_len, to);
    to = put_field(sl, F_PK, r->partition_key, r->partition_key_len, to);
    to = put_field(sl, F_DATA, r->data, r->data_len, to);
    to = put_field(sl, F_ENC, r->encryption_type, r->encryption_type_len, to);
    to = put_field(sl, F_EVID, r->event_id, r->event_id_len, to);
    to = put_field(sl, F_EVNAME, r->event_name, r->event_name_len, to);
    to = put_field(sl, F_DDB, r->dynamodb_json, r->dynamodb_json_len, to);
    put_field(sl, F_UI, r->user_identity_json, r->user_identity_json_len, to);
  }
  c->used += total ? total : 1; /* an empty record keeps a distinct offset; harmless */
  c->live++;
  sl->arrival_ms = r->arrival_ms;
  sl->flags = (uint16_t)r->flags;
  s->links[idx].record_bytes = record_bytes;
  s->links[idx].next = BP__NIL;
  s->next_pos++;
  *slot_out = idx;
  return 0;
}

void bp__records_view(const bp__shard *s, uint32_t slot, bp_record *out) {
  const bp__slot *sl = &s->slots[slot];
  const char *p = sl->chunk->data + sl->off;
  /* every member is set: no memset of the whole view first */
  out->struct_size = sizeof *out;
  out->flags = sl->flags;
  out->arrival_ms = sl->arrival_ms;
  out->seq_len = sl->len[F_SEQ];
  out->partition_key_len = sl->len[F_PK];
  out->data_len = sl->len[F_DATA];
  if (sl->present & BP__SLOT_LEAN) { /* the later fields' lengths are not read */
    out->seq = (sl->present & (1u << F_SEQ)) ? p : NULL;
    p += sl->len[F_SEQ];
    out->partition_key = (sl->present & (1u << F_PK)) ? p : NULL;
    p += sl->len[F_PK];
    out->data = (const uint8_t *)((sl->present & (1u << F_DATA)) ? p : NULL);
    out->encryption_type = out->event_id = out->event_name = NULL;
    out->dynamodb_json = out->user_identity_json = NULL;
    out->encryption_type_len = out->event_id_len = out->event_name_len = 0;
    out->dynamodb_json_len = out->user_identity_json_len = 0;
    return;
  }
  const char *f[F_COUNT];
#define BP__VIEW_FIELD(i)                               \
  f[i] = (sl->present & (1u << (i))) ? p : NULL; \
  p += sl->len[i];
  BP__VIEW_FIELD(0) BP__VIEW_FIELD(1) BP__VIEW_FIELD(2) BP__VIEW_FIELD(3)
  BP__VIEW_FIELD(4) BP__VIEW_FIELD(5) BP__VIEW_FIELD(6) BP__VIEW_FIELD(7)
#undef BP__VIEW_FIELD
  out->seq = f[F_SEQ];
  out->partition_key = f[F_PK];
  out->data = (const uint8_t *)f[F_DATA];
  out->encryption_type = f[F_ENC];
  out->encryption_type_len = sl->len[F_ENC];
  out->event_id = f[F_EVID];
  out->event_id_len = sl->len[F_EVID];
  out->event_name = f[F_EVNAME];
  out->event_name_len = sl->len[F_EVNAME];
  out->dynamodb_json = f[F_DDB];
  out->dynamodb_json_len = sl->len[F_DDB];
  out->user_identity_json = f[F_UI];
  out->user_identity_json_len = sl->len[F_UI];
}

/* Release every record up to position @p upto (the checkpoint passed them). */
void bp__records_release(bp_engine *e, bp__shard *s, uint64_t upto) {
  while (s->oldest_pos <= upto && s->oldest_pos < s->next_pos) {
    bp__slot *sl = &s->slots[s->oldest_pos % s->cap];
    sl->chunk->live--;
    sl->chunk = NULL;
    s->oldest_pos++;
  }
  /* Chunks empty front to back; the tail stays to be refilled in place. */
  while (s->chunk_head && s->chunk_head != s->chunk_tail && s->chunk_head->live == 0) {
    bp__chunk *c = s->chunk_head;
    s->chunk_head = c->next;
    size_t kept = 0;
    for (bp__chunk *f = s->chunk_free; f; f = f->next) kept++;
    if (c->cap == s->chunk_size && kept < FREE_CHUNKS_KEPT) {
      c->next = s->chunk_free;
      s->chunk_free = c;
    } else {
      s->bytes_in_use -= c->cap;
      bp__free(&e->alloc, c);
    }
  }
}
