/* SPDX-License-Identifier: MIT */
/*
 * The codec's entry points for the engine (bp_codec.c): events of records the engine
 * validated and measured once, at intake, and the classification of its responses. Codec layer: included by bp_codec.c and the
 * engine (bp_engine*.c) only.
 */
#ifndef BP_CODEC_MEASURE_INT_H
#define BP_CODEC_MEASURE_INT_H

#include "batchpoint/bp_codec.h"

/* A shard id checked and measured once for the records of a fetch. */
typedef struct bp__codec_shard {
  size_t quoted_len; /* its length as a JSON string */
} bp__codec_shard;
/* @return 0, or the encoder's error for this shard id (with its message in the codec). */
int bp__codec_shard_prepare(bp_codec *c, const char *shard_id, bp__codec_shard *s);
/* For a host that validated each record once (the engine, at intake: its sequence number,
 * arrival time and field spans, which are not checked again here): the record's exact size
 * in an event of the shard @p s (prepared above) and its shape (DynamoDB's; for Kinesis,
 * whether its partition key is written as it is), as
 * the encoder computes them. The codec's message is set on an error only. */
int bp__codec_record_measure(bp_codec *c, const bp__codec_shard *s, const bp_record *rec,
                             size_t *size, unsigned char *shape);
/* bp_codec_encode_event() over records measured before: sizes[i] and shapes[i] from
 * bp__codec_record_measure() of the same codec and shard; nothing is validated again. */
int bp__codec_encode_measured(bp_codec *c, const char *shard_id, const bp_record *recs,
                              const size_t *sizes, const unsigned char *shapes, size_t n,
                              const bp_window_fields *win, const char **out, size_t *out_len);

/* bp_codec_classify_response() over sizeof(bp_record)-strided records and a result of this
 * library's size (the engine's own), whose sequence numbers the engine validated and ordered
 * at intake: they are not validated again (bp_codec_index_batch()'s BP_INDEX_TRUSTED). */
int bp__codec_classify(bp_codec *c, const char *body, size_t len, const bp_record *batch,
                       size_t n, uint32_t flags, bp_response_result *r);

#endif
