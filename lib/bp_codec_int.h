/*
 * Internals shared by the codec sources (bp_codec*.c, bp_json*.c, bp_b64.c).
 * Only bp_json.c includes yajl; only the codec layer includes this header.
 */
#ifndef BP_CODEC_INT_H
#define BP_CODEC_INT_H

#include "bp_int.h"
#include "batchpoint/bp_codec.h"

/* ---- JSON text writing: compute exact lengths, then write into reserved space ---- */

/** Escaped length of [s, s+n) including the two quotes (spec/esm.md §1.4 escaping);
 *  SIZE_MAX when it does not fit in a size_t. */
size_t bp__json_str_len(const char *s, size_t n);
/** Write the quoted, escaped string at @p out; returns the end. Room must be reserved. */
char *bp__json_str_put(char *out, const char *s, size_t n);
/** Copy a literal; returns the end. */
char *bp__put(char *out, const char *s, size_t n);
#define BP__PUT_LIT(out, lit) bp__put((out), (lit), sizeof(lit) - 1)
/** Decimal digits of an unsigned value, and writing them. */
size_t bp__u64_len(uint64_t v);
char *bp__u64_put(char *out, uint64_t v);

/* ---- Base64 ---- */

size_t bp__b64_encode(const uint8_t *in, size_t n, char *out);
/** Validate strictly; on success *decoded_len is the number of bytes it decodes to. */
int bp__b64_check(const char *in, size_t n, size_t *decoded_len);

/* ---- yajl bridge (bp_json.c) ---- */

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
 * BP_ERR_NOMEM. Strings and keys are not NUL-terminated and arrive unescaped; numbers
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
  bp__buf out;          /* text returned to the caller */
  bp__json_pool json;   /* yajl memory */
  unsigned char *marks; /* classifier scratch: one bit per batch record */
  size_t marks_cap;     /* bytes */
  unsigned char *shapes; /* encoder scratch: one DynamoDB record shape per record */
  size_t shapes_cap;
};

/* Per-source record encoding (bp_codec_kinesis.c, bp_codec_ddb.c). Sizes are exact. */
int bp__kinesis_record_size(bp_codec *c, const char *shard_id, size_t shard_len,
                            const bp_record *r, size_t index, size_t *size);
char *bp__kinesis_record_put(const bp_codec *c, const char *shard_id, size_t shard_len,
                             const bp_record *r, char *out);
/* DynamoDB: the size pass records each record's shape (which members the host's dynamodb
 * text lacks) for the write pass; @p shape may be NULL when only sizing. */
int bp__ddb_record_size(bp_codec *c, const bp_record *r, size_t index, size_t *size,
                        unsigned char *shape);
char *bp__ddb_record_put(const bp_codec *c, const bp_record *r, unsigned char shape, char *out);

/* For a host that validated each record once (the engine, at intake): the record's exact
 * size in an event and its shape (DynamoDB; 0 for Kinesis), as the encoder computes them. */
int bp__codec_record_measure(bp_codec *c, const char *shard_id, const bp_record *rec,
                             size_t *size, unsigned char *shape);
/* bp_codec_encode_event() over records measured before: sizes[i] and shapes[i] from
 * bp__codec_record_measure() of the same codec and shard; nothing is validated again. */
int bp__codec_encode_measured(bp_codec *c, const char *shard_id, const bp_record *recs,
                              const size_t *sizes, const unsigned char *shapes, size_t n,
                              const bp_window_fields *win, const char **out, size_t *out_len);

#endif
