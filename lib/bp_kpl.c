/* SPDX-License-Identifier: MIT */
/* KPL de-aggregation (bp_kpl.h). The decoder reproduces what protobufjs 7 does with the
 * AggregatedRecord schema, quirks included, because the outcome a record must get is the one
 * aws-kinesis-agg gives it: the position may pass the end by one byte, a byte past the end
 * reads as a continuation byte with no payload, strings are cut at the end, lengths of
 * nested messages bound only their loops. One pass checks everything (init); later passes
 * walk the same bytes again to yield records and find keys, and cannot fail. */
#include "batchpoint/bp_kpl.h"

#include <stdio.h>
#include <string.h>

#include "bp_int.h"
#include "bp_md5_int.h"

#define KPL_RECORD_SIZE_V1 BP__SIZE_V1(bp_kpl_record, reserved)
#define KPL_READY 0x80000000u /* p_state: init succeeded */

enum { KPL_WT_VARINT = 0, KPL_WT_FIXED64 = 1, KPL_WT_LEN = 2, KPL_WT_GROUP = 3,
       KPL_WT_END_GROUP = 4, KPL_WT_FIXED32 = 5 };
enum { KPL_F_PK_TABLE = 1, KPL_F_EHK_TABLE = 2, KPL_F_RECORDS = 3 };       /* AggregatedRecord */
enum { KPL_F_PK_INDEX = 1, KPL_F_EHK_INDEX = 2, KPL_F_DATA = 3, KPL_F_TAGS = 4 }; /* Record */
enum { KPL_F_TAG_KEY = 1, KPL_F_TAG_VALUE = 2 };                                  /* Tag */

typedef struct kpl_rd {
  const uint8_t *buf;
  uint64_t len;
  uint64_t pos;      /* may be len + 1 (see kpl_rd_u64) */
  const char *err;   /* the first error, NULL while none */
  uint64_t err_pos;
} kpl_rd;

typedef struct kpl_rec {
  int has_pki, has_ehki, has_data;
  uint64_t pki, ehki, data_at, data_len;
} kpl_rec;

/* One field of the top-level message. */
typedef struct kpl_el {
  uint32_t field;
  uint64_t at, len; /* a table entry's span */
  kpl_rec rec;      /* field KPL_F_RECORDS */
} kpl_el;

static int kpl_rd_fail(kpl_rd *r, const char *what) {
  if (!r->err) {
    r->err = what;
    r->err_pos = r->pos;
  }
  return -1;
}

/* A byte past the end reads as JavaScript's `undefined`: no payload bits, and never below
 * 128, so it never ends a varint. */
static unsigned kpl_rd_byte(const kpl_rd *r, uint64_t p, int *past_end) {
  *past_end = p >= r->len;
  return *past_end ? 0u : r->buf[p];
}

/* protobufjs's 32-bit varint (tags, lengths): five bytes at most are looked at (the fifth
 * gives 4 bits); when the fifth still has its continuation bit, five more bytes are skipped
 * unseen. */
static int kpl_rd_u32(kpl_rd *r, uint32_t *out) {
  uint32_t v = 0;
  for (unsigned i = 0; i < 5; i++) {
    int past;
    unsigned b = kpl_rd_byte(r, r->pos + i, &past);
    v |= (uint32_t)(b & (i == 4 ? 15u : 127u)) << (7 * i);
    if (!past && b < 128) {
      r->pos += i + 1;
      *out = v;
      return 0;
    }
  }
  if (r->pos + 10 > r->len) {
    r->pos = r->len;
    return kpl_rd_fail(r, "varint runs past the end");
  }
  r->pos += 10;
  *out = v;
  return 0;
}

/* protobufjs's 64-bit varint. With more than 4 bytes left, up to 10 bytes are read (an 11th
 * continuation is an error); with 4 or fewer, at most 4 are read and the 4th ends the varint
 * whatever its top bit, even when it lies past the end (the position is then len + 1). */
static int kpl_rd_u64(kpl_rd *r, uint64_t *out) {
  uint64_t v = 0;
  int past;
  unsigned b;
  if (!(r->pos < r->len && r->len - r->pos > 4)) {
    for (unsigned i = 0; i < 3; i++) {
      if (r->pos >= r->len) return kpl_rd_fail(r, "varint runs past the end");
      b = r->buf[r->pos++];
      v |= (uint64_t)(b & 127) << (7 * i);
      if (b < 128) goto done;
    }
    b = kpl_rd_byte(r, r->pos++, &past);
    v |= (uint64_t)(b & 127) << 21;
    goto done;
  }
  for (unsigned i = 0; i < 5; i++) {
    b = r->buf[r->pos++];
    v |= (uint64_t)(b & 127) << (7 * i);
    if (b < 128) goto done;
  }
  int fast = r->len - r->pos > 4;
  for (unsigned i = 0; i < 5; i++) {
    if (!fast && r->pos >= r->len) return kpl_rd_fail(r, "varint runs past the end");
    b = r->buf[r->pos++];
    v |= (uint64_t)(b & 127) << (35 + 7 * i);
    if (b < 128) goto done;
  }
  return kpl_rd_fail(r, "varint longer than 10 bytes");
done:
  *out = v;
  return 0;
}

/* A string field: its span is cut at the end of the message (no error). */
static int kpl_rd_string(kpl_rd *r, uint64_t *at, uint64_t *len) {
  uint32_t n;
  if (kpl_rd_u32(r, &n)) return -1;
  uint64_t end = r->pos + n > r->len ? r->len : r->pos + n;
  *at = r->pos;
  *len = end - r->pos;
  r->pos = end;
  return 0;
}

/* A bytes field: it must end within the message. */
static int kpl_rd_bytes(kpl_rd *r, uint64_t *at, uint64_t *len) {
  uint32_t n;
  if (kpl_rd_u32(r, &n)) return -1;
  if (r->pos + n > r->len) return kpl_rd_fail(r, "bytes run past the end");
  *at = r->pos;
  *len = n;
  r->pos += n;
  return 0;
}

static int kpl_rd_skip_plain(kpl_rd *r, uint32_t wt) {
  uint32_t n;
  switch (wt) {
  case KPL_WT_VARINT:
    do {
      if (r->pos >= r->len) return kpl_rd_fail(r, "varint runs past the end");
    } while (r->buf[r->pos++] & 128);
    return 0;
  case KPL_WT_FIXED64: n = 8; break;
  case KPL_WT_FIXED32: n = 4; break;
  case KPL_WT_LEN:
    if (kpl_rd_u32(r, &n)) return -1;
    break;
  default: return kpl_rd_fail(r, "invalid wire type");
  }
  if (r->pos + n > r->len) return kpl_rd_fail(r, "skipped field runs past the end");
  r->pos += n;
  return 0;
}

/* Skip an unknown field. A group ends at the next end-group tag of its depth; field numbers
 * are not matched, as in protobufjs (a counter here where it recurses). */
static int kpl_rd_skip(kpl_rd *r, uint32_t wt) {
  if (wt != KPL_WT_GROUP) return kpl_rd_skip_plain(r, wt);
  for (uint64_t depth = 1; depth;) {
    uint32_t t;
    if (kpl_rd_u32(r, &t)) return -1;
    if ((t & 7) == KPL_WT_END_GROUP) depth--;
    else if ((t & 7) == KPL_WT_GROUP) depth++;
    else if (kpl_rd_skip_plain(r, t & 7)) return -1;
  }
  return 0;
}

static int kpl_rd_tag(kpl_rd *r, uint64_t len) {
  uint64_t end = r->pos + len, at, n;
  int has_key = 0;
  while (r->pos < end) {
    uint32_t t;
    if (kpl_rd_u32(r, &t)) return -1;
    switch (t >> 3) {
    case KPL_F_TAG_KEY:
    case KPL_F_TAG_VALUE:
      if (kpl_rd_string(r, &at, &n)) return -1;
      has_key |= (t >> 3) == KPL_F_TAG_KEY;
      break;
    default:
      if (kpl_rd_skip(r, t & 7)) return -1;
    }
  }
  return has_key ? 0 : kpl_rd_fail(r, "a tag without its required key");
}

static int kpl_rd_record(kpl_rd *r, uint64_t len, kpl_rec *rec) {
  uint64_t end = r->pos + len;
  memset(rec, 0, sizeof *rec);
  while (r->pos < end) {
    uint32_t t, n;
    if (kpl_rd_u32(r, &t)) return -1;
    switch (t >> 3) {
    case KPL_F_PK_INDEX:
      if (kpl_rd_u64(r, &rec->pki)) return -1;
      rec->has_pki = 1;
      break;
    case KPL_F_EHK_INDEX:
      if (kpl_rd_u64(r, &rec->ehki)) return -1;
      rec->has_ehki = 1;
      break;
    case KPL_F_DATA:
      if (kpl_rd_bytes(r, &rec->data_at, &rec->data_len)) return -1;
      rec->has_data = 1;
      break;
    case KPL_F_TAGS:
      if (kpl_rd_u32(r, &n) || kpl_rd_tag(r, n)) return -1;
      break;
    default:
      if (kpl_rd_skip(r, t & 7)) return -1;
    }
  }
  if (!rec->has_pki) return kpl_rd_fail(r, "a record without its required partition_key_index");
  if (!rec->has_data) return kpl_rd_fail(r, "a record without its required data");
  return 0;
}

/* The next field of the top-level message (r->pos < r->len). Wire types of known fields
 * are not looked at: protobufjs reads what the schema says. */
static int kpl_rd_top(kpl_rd *r, kpl_el *el) {
  uint32_t t, n;
  if (kpl_rd_u32(r, &t)) return -1;
  el->field = t >> 3;
  switch (el->field) {
  case KPL_F_PK_TABLE:
  case KPL_F_EHK_TABLE: return kpl_rd_string(r, &el->at, &el->len);
  case KPL_F_RECORDS: return kpl_rd_u32(r, &n) || kpl_rd_record(r, n, &el->rec) ? -1 : 0;
  default: el->field = 0; return kpl_rd_skip(r, t & 7);
  }
}

/* Node's Buffer#slice(start, end) on a buffer of @p n bytes: negative ends count from the
 * end, both are clamped to 0..n, and an end before the start gives nothing. */
static void kpl_node_slice(uint64_t n, int64_t start, int64_t end, uint64_t *s, uint64_t *e) {
  int64_t len = (int64_t)n;
  if (start < 0) start = start + len < 0 ? 0 : start + len;
  if (end < 0) end = end + len < 0 ? 0 : end + len;
  if (start > len) start = len;
  if (end > len) end = len;
  if (end < start) end = start;
  *s = (uint64_t)start;
  *e = (uint64_t)end;
}

int bp_kpl_record_init(bp_kpl_record *r, size_t size) {
  return bp__struct_init(r, size, KPL_RECORD_SIZE_V1);
}

int bp_kpl_is_aggregated(const void *data, size_t len) {
  return data && len >= BP_KPL_MAGIC_LEN && memcmp(data, BP_KPL_MAGIC, BP_KPL_MAGIC_LEN) == 0;
}

static int kpl_iter_fail(bp_kpl_iter *it, int code, const char *what, uint64_t at) {
  snprintf(it->p_errmsg, sizeof it->p_errmsg,
           "KPL aggregated record: %s (byte %llu of the message)", what, (unsigned long long)at);
  return code;
}

int bp_kpl_iter_init(bp_kpl_iter *it, size_t size, const void *data, size_t len,
                     uint32_t flags) {
  if (!it || size < sizeof(bp_kpl_iter)) return BP_ERR_INVALID_ARGUMENT;
  memset(it, 0, sizeof *it);
  it->struct_size = (uint32_t)sizeof *it;
  if (flags & ~BP_KPL_SKIP_DIGEST)
    return bp__errbuf(it->p_errmsg, sizeof it->p_errmsg, BP_ERR_INVALID_ARGUMENT,
                      "bp_kpl_iter_init: unknown flags 0x%x", (unsigned)flags);
  if (!bp_kpl_is_aggregated(data, len))
    return bp__errbuf(it->p_errmsg, sizeof it->p_errmsg, BP_ERR_INVALID_ARGUMENT,
                      "bp_kpl_iter_init: the data does not start with the KPL magic");
  const uint8_t *bytes = data;
  uint64_t bs, be, ds, de;
  kpl_node_slice(len, BP_KPL_MAGIC_LEN, (int64_t)len - BP_KPL_DIGEST_LEN, &bs, &be);
  kpl_node_slice(len, (int64_t)len - BP_KPL_DIGEST_LEN, (int64_t)len, &ds, &de);

  kpl_rd r = {bytes + bs, be - bs, 0, NULL, 0};
  kpl_el el;
  while (r.pos < r.len) {
    if (kpl_rd_top(&r, &el)) return kpl_iter_fail(it, BP_ERR_CORRUPT, r.err, r.err_pos);
    if (el.field == KPL_F_RECORDS) it->p_count++;
    else if (el.field == KPL_F_PK_TABLE || el.field == KPL_F_EHK_TABLE) it->p_key_n[el.field - 1]++;
  }
  if (!(flags & BP_KPL_SKIP_DIGEST)) {
    uint8_t md5[BP__MD5_LEN];
    bp__md5(r.buf, (size_t)r.len, md5);
    if (de - ds != BP__MD5_LEN || memcmp(md5, bytes + ds, BP__MD5_LEN) != 0)
      return kpl_iter_fail(it, BP_ERR_CORRUPT, "the MD5 digest differs", r.len);
  }
  if (it->p_count > INT32_MAX)
    return kpl_iter_fail(it, BP_ERR_TOO_LARGE, "more than INT32_MAX user records", r.len);
  it->p_body = r.buf;
  it->p_body_len = r.len;
  it->p_state = KPL_READY | flags;
  return (int)it->p_count;
}

/* Entry @p i (< its table's size) of table @p t (0: partition keys, 1: explicit hash keys),
 * scanning on from the last entry found, or from the start when @p i lies before it. */
static void kpl_find_key(bp_kpl_iter *it, int t, uint64_t i, const char **s, size_t *n) {
  if (!(it->p_key_next[t] > 0 && i >= it->p_key_next[t] - 1)) {
    it->p_key_pos[t] = 0;
    it->p_key_next[t] = 0;
  }
  kpl_rd r = {it->p_body, it->p_body_len, it->p_key_pos[t], NULL, 0};
  kpl_el el;
  while (it->p_key_next[t] <= i && r.pos < r.len && kpl_rd_top(&r, &el) == 0) {
    if (el.field != (uint32_t)t + 1) continue;
    it->p_key_at[t] = el.at;
    it->p_key_len[t] = el.len;
    it->p_key_next[t]++;
  }
  it->p_key_pos[t] = r.pos;
  *s = (const char *)it->p_body + it->p_key_at[t];
  *n = (size_t)it->p_key_len[t];
}

int bp_kpl_iter_next(bp_kpl_iter *it, bp_kpl_record *out) {
  if (!it || !out || !(it->p_state & KPL_READY) ||
      bp__struct_check(out, KPL_RECORD_SIZE_V1, "bp_kpl_record", NULL, 0))
    return BP_ERR_INVALID_ARGUMENT;
  if (it->p_next >= it->p_count) return 0;
  kpl_rd r = {it->p_body, it->p_body_len, it->p_pos, NULL, 0};
  kpl_el el;
  do { /* init checked every field: no failure here */
    if (kpl_rd_top(&r, &el)) return BP_ERR_INTERNAL;
  } while (el.field != KPL_F_RECORDS);
  it->p_pos = r.pos;

  bp_kpl_record rec;
  memset(&rec, 0, sizeof rec);
  rec.struct_size = sizeof rec;
  rec.data = it->p_body + el.rec.data_at;
  rec.data_len = (size_t)el.rec.data_len;
  rec.sub_sequence_number = it->p_next++;
  rec.partition_key_index = el.rec.pki;
  rec.explicit_hash_key_index = el.rec.ehki;
  rec.has_explicit_hash_key_index = (uint32_t)el.rec.has_ehki;
  if (el.rec.pki < it->p_key_n[0])
    kpl_find_key(it, 0, el.rec.pki, &rec.partition_key, &rec.partition_key_len);
  /* An absent index is protobufjs's default 0. */
  if (el.rec.ehki < it->p_key_n[1])
    kpl_find_key(it, 1, el.rec.ehki, &rec.explicit_hash_key, &rec.explicit_hash_key_len);
  bp__struct_out(out, &rec, sizeof rec, KPL_RECORD_SIZE_V1, "bp_kpl_record", NULL, 0);
  return 1;
}

const char *bp_kpl_iter_errmsg(const bp_kpl_iter *it) { return it ? it->p_errmsg : ""; }
