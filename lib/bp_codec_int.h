/* SPDX-License-Identifier: MIT */
/*
 * The codec object (struct bp_codec) and the per-source record encoders, shared by the codec
 * sources (bp_codec*.c) and the filter's record view (bp_filter.c). Codec layer: never
 * included by base, components or the engine (the engine's entry points into the codec are
 * in bp_codec_measure_int.h).
 */
#ifndef BP_CODEC_INT_H
#define BP_CODEC_INT_H

#include "bp_int.h"
#include "bp_json_int.h"
#include "batchpoint/bp_codec.h"

/* ---- The classifier's batch index (bp_codec_index.c) ---- */

typedef struct bp__seq_index {
  uint64_t *slots;  /* open addressing: hash high 32 bits | position + 1; 0 = empty */
  size_t cap;       /* slots allocated */
  size_t mask;      /* slots in use - 1 (a power of two - 1) */
  const char *base; /* the batch, read at its stride; only seq/seq_len are read */
  size_t stride;
  size_t n;
  const char *first; /* base[0]'s number when width > 0 */
  size_t width;      /* every number's length, or 0 (mixed lengths, or n < 2) */
  size_t prefix;     /* bytes every number shares with `first` (0 when width is 0) */
  int ready;         /* slots index base[0, n) */
} bp__seq_index;

/* Hash of a sequence number's bytes (every byte counts). */
uint64_t bp__seq_hash(const char *s, size_t len);
/* Point the index at a batch; the table is built by the next bp__seq_index_build(). */
void bp__seq_index_set(bp__seq_index *x, const bp_record *batch, size_t stride, size_t n);
/* Build the table (once per bp__seq_index_set()). BP_ERR_NOMEM. */
int bp__seq_index_build(bp__seq_index *x, const bp_allocator *a);
/* 1 and *pos when @p s equals, byte for byte, the sequence number of batch[*pos]; else 0. */
int bp__seq_index_find(const bp__seq_index *x, const char *s, size_t len, size_t *pos);
void bp__seq_index_free(bp__seq_index *x, const bp_allocator *a);

/* ---- The codec object ---- */

typedef struct bp__jtok {
  char *text; /* NUL-terminated JSON string token, quotes included */
  size_t len;
  char *raw;  /* the string itself (unescaped, NUL-terminated), in the same block */
  size_t raw_len;
} bp__jtok;

struct bp_codec {
  bp_allocator alloc;
  bp__errmsg err;
  int source;
  /* The mapping's strings, stored once as ready JSON string tokens (quoted, escaped). */
  bp__jtok arn;      /* eventSourceARN / streamArn */
  bp__jtok region;   /* awsRegion */
  bp__jtok role;     /* invokeIdentityArn (Kinesis) */
  bp__jtok function; /* functionArn (failure records); len 0 when not configured */
  char *kin_tail;     /* Kinesis: the end of every record, from eventID's closing quote */
  size_t kin_tail_len;
  bp__buf out;          /* text returned to the caller */
  bp__json_pool json;   /* yajl memory */
  unsigned char *marks; /* classifier scratch: one bit per batch record */
  size_t marks_cap;     /* bytes */
  bp__seq_index scratch_index; /* the batch of the current classification call */
  bp__seq_index host_index;    /* bp_codec_index_batch()'s, kept until replaced */
  unsigned char *shapes; /* encoder scratch: one DynamoDB record shape per record */
  size_t shapes_cap;
  bp_record *norm;       /* a host's record array of another bp_record size, copied */
  size_t norm_cap;       /* records */
};

/* A host's record array as sizeof(bp_record)-strided records: @p recs itself when its
 * elements are of this library's size, else a copy in the codec's scratch (valid until
 * the next call). Checks every element's struct_size (bp__records_stride()). */
int bp__codec_records(bp_codec *c, const bp_record *recs, size_t n, const bp_record **out);

/* The shard id of an event: itself and its quoted, escaped length, computed once a call.
 * The Kinesis writer escapes it into the first record's eventID and copies that record's
 * text from the end of its kinesis object to the ':' after the shard for the others
 * (@p mid, @p mid_len; NULL until written). */
typedef struct bp__kin_shard {
  const char *raw;
  size_t raw_len;
  size_t quoted_len;
  const char *mid;
  size_t mid_len;
  /* approximateArrivalTimestamp's seconds and '.' as last written (ts_len 0: none yet) */
  uint64_t ts_sec;
  size_t ts_len;
  char ts_text[24];
} bp__kin_shard;
#define BP__KIN_SHARD_INIT {.raw = NULL}

/* Kinesis: build c->kin_tail (bp_codec_new, once). */
int bp__kinesis_codec_init(bp_codec *c);

/* Per-source record encoding (bp_codec_kinesis.c, bp_codec_ddb.c). Sizes are exact. */
int bp__kinesis_record_size(bp_codec *c, const char *shard_id, size_t shard_len,
                            const bp_record *r, size_t index, size_t *size);
/* The same with the shard's quoted length known. @p flags: BP__SIZE_DEFER_B64 leaves base64
 * data unchecked (the event encoder's write pass checks it as it copies it, in one pass);
 * BP__SIZE_TRUSTED skips what the engine checked at intake (sequence number, arrival time,
 * field spans). */
#define BP__SIZE_DEFER_B64 1u
#define BP__SIZE_TRUSTED 2u
#define BP__SIZE_UNSIZED 4u /* checks only, *size left alone: bp__kinesis_record_check */
/* @p shape (NULL: not wanted): the record's shape for the writer, BP__KIN_PK_PLAIN or 0. */
#define BP__KIN_PK_PLAIN 1u /* the partition key is ASCII with nothing to escape */
int bp__kinesis_record_size_q(bp_codec *c, size_t shard_quoted_len, const bp_record *r,
                              size_t index, unsigned flags, size_t *size, unsigned char *shape);
/* bp__kinesis_record_size's checks and verdict, the size not wanted: it is only computed
 * when some field is long enough for the sum to reach SIZE_MAX (the "too large" error). */
int bp__kinesis_record_check(bp_codec *c, const char *shard_id, size_t shard_len,
                             const bp_record *r, size_t index);
/* The error of a record whose base64 data is not strict base64, else 0. */
int bp__kinesis_data_check(bp_codec *c, const bp_record *r, size_t index);
/* Writes the record; NULL (nothing else reported) when its base64 data is not strict. @p shape:
 * bp__kinesis_record_size_q()'s for this record, or 0. */
char *bp__kinesis_record_put(const bp_codec *c, bp__kin_shard *shard, const bp_record *r,
                             unsigned shape, char *out);
/* DynamoDB: the size pass records each record's shape (which members the host's dynamodb
 * text lacks) for the write pass; @p shape may be NULL when only sizing. */
int bp__ddb_record_size(bp_codec *c, const bp_record *r, size_t index, size_t *size,
                        unsigned char *shape);
/* The same for a record whose sequence number and arrival time the engine validated. */
int bp__ddb_record_size_trusted(bp_codec *c, const bp_record *r, size_t *size,
                                unsigned char *shape);
char *bp__ddb_record_put(const bp_codec *c, const bp_record *r, unsigned char shape, char *out);

#endif
