/* SPDX-License-Identifier: MIT */
/*
 * The smallest program against an installed batchpoint, built with nothing but
 * `cc hello.c $(pkg-config --cflags --libs batchpoint)`: encode one Kinesis event.
 */
#include <stdio.h>
#include <string.h>

#include <batchpoint.h>

int main(void) {
  bp_codec_opts opts = {sizeof(bp_codec_opts), BP_SOURCE_KINESIS, "arn:aws:kinesis:us-east-1:111111111111:stream/s1",
                        NULL, "arn:aws:iam::111111111111:role/fn-role", NULL};
  bp_codec *codec;
  int rc = bp_codec_new(&codec, &opts, NULL);
  if (rc) {
    fprintf(stderr, "bp_codec_new: %s\n", bp_strerror(rc));
    return 1;
  }
  bp_record rec;
  bp_record_init(&rec, sizeof rec);
  rec.seq = "49590338271490256608559692538361571095921575989136588898";
  rec.seq_len = strlen(rec.seq);
  rec.arrival_ms = 1545084650987;
  rec.partition_key = "1";
  rec.partition_key_len = 1;
  rec.data = (const uint8_t *)"hello";
  rec.data_len = 5;
  const char *event;
  size_t len;
  rc = bp_codec_encode_event(codec, "shardId-000000000000", &rec, 1, NULL, &event, &len);
  if (rc) fprintf(stderr, "encode: %s: %s\n", bp_strerror(rc), bp_codec_errmsg(codec));
  else printf("batchpoint %s: %s\n", bp_version_string(), event);
  bp_codec_del(codec);
  return rc ? 1 : 0;
}
