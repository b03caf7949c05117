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
} bp__kin_shard;

/* Kinesis: build c->kin_tail (bp_codec_new, once). */
int bp__kinesis_codec_init(bp_codec *c);

/* Per-source record encoding (bp_codec_kinesis.c, bp_codec_ddb.c). Sizes are exact. */
int bp__kinesis_record_size(bp_codec *c, const char *shard_id, size_t shard_len,
                            const bp_record *r, size_t index, size_t *size);
/* The same with the shard's quoted length known; @p defer_b64 leaves base64 data unchecked
 * (the event encoder's write pass checks it as it copies it, in one pass). */
int bp__kinesis_record_size_q(bp_codec *c, size_t shard_quoted_len, const bp_record *r,
                              size_t index, int defer_b64, size_t *size);
/* The error of a record whose base64 data is not strict base64, else 0. */
int bp__kinesis_data_check(bp_codec *c, const bp_record *r, size_t index);
/* Writes the record; NULL (nothing else reported) when its base64 data is not strict. */
char *bp__kinesis_record_put(const bp_codec *c, bp__kin_shard *shard, const bp_record *r, char *out);
/* DynamoDB: the size pass records each record's shape (which members the host's dynamodb
 * text lacks) for the write pass; @p shape may be NULL when only sizing. */
int bp__ddb_record_size(bp_codec *c, const bp_record *r, size_t index, size_t *size,
                        unsigned char *shape);
char *bp__ddb_record_put(const bp_codec *c, const bp_record *r, unsigned char shape, char *out);

#endif
