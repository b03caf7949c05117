/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: a DynamoDB record's `dynamodb` JSON text (the host-supplied part of a
 * DynamoDB Streams event). Whatever the bytes, encoding either fails with
 * BP_ERR_INVALID_RECORD or produces an event whose length equals the computed size, that
 * is valid JSON, and that embeds the input byte for byte (plus inserted members only).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bp_codec_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  bp_codec_opts o = {sizeof(bp_codec_opts), BP_SOURCE_DYNAMODB, "arn:aws:dynamodb:us-east-1:1:table/t/stream/x", NULL,
                     NULL, NULL};
  bp_codec *c;
  if (bp_codec_new(&c, &o, NULL)) abort();
  bp_record r;
  bp_record_init(&r, sizeof r);
  r.seq = "12345";
  r.seq_len = 5;
  r.arrival_ms = 1500;
  r.event_id = "e";
  r.event_id_len = 1;
  r.event_name = "INSERT";
  r.event_name_len = 6;
  r.dynamodb_json = (const char *)data;
  r.dynamodb_json_len = size;
  size_t want;
  int rc = bp_codec_event_size(c, "shard", &r, 1, NULL, &want);
  const char *out;
  size_t len;
  int rc2 = bp_codec_encode_event(c, "shard", &r, 1, NULL, &out, &len);
  if (rc != rc2) abort();
  if (rc == 0) {
    if (len != want || strlen(out) != len) abort();
    if (bp__json_parse(&c->json, out, len, NULL, NULL, NULL) != 0) abort();
    if (len < size + 100) abort();
  } else if (rc != BP_ERR_INVALID_RECORD) {
    abort();
  }
  bp_codec_del(c);
  return 0;
}
