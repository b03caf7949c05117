/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: a FilterCriteria pattern and an event. The input is the pattern text, a
 * newline, then the event text. Whatever the bytes: a pattern is accepted or rejected with a
 * reason (never half-added); strict Lambda mode accepts a subset and answers the same; an
 * accepted pattern matches the event through the JSON path and, with the event as a Kinesis
 * payload, through the record path, with results in range and the two paths agreeing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "batchpoint.h"
#include "batchpoint/bp_filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nl = memchr(data, '\n', size);
  size_t plen = nl ? (size_t)(nl - data) : size;
  const char *pat = (const char *)data;
  const char *ev = nl ? (const char *)nl + 1 : "";
  size_t elen = nl ? size - plen - 1 : 0;

  bp_filter *f = NULL, *s = NULL;
  if (bp_filter_new(&f, 0, NULL) || bp_filter_new(&s, BP_FILTER_STRICT_LAMBDA, NULL)) abort();
  int rc = bp_filter_add(f, pat, plen);
  int rs = bp_filter_add(s, pat, plen);
  if (rc != 0 && rc != BP_ERR_CONFIG_INVALID && rc != BP_ERR_TOO_LARGE) abort();
  if (rc ? !bp_filter_errmsg(f)[0] || bp_filter_count(f) != 0 : bp_filter_count(f) != 1) abort();
  if (rs == 0 && rc != 0) abort(); /* strict accepts a subset */

  int m = -1, ms = -1;
  int jr = bp_filter_match_json(f, ev, elen, &m);
  if (jr != 0 && jr != BP_ERR_INVALID_JSON) abort();
  if (m != 0 && m != 1) abort();
  if (rc != 0 && jr == 0 && m != 1) abort(); /* an empty filter matches everything */
  if (rs == 0 && rc == 0) {
    if (bp_filter_match_json(s, ev, elen, &ms) != jr || ms != m) abort();
  }

  /* The event as a Kinesis payload: under `data`, next to the record's own fields. */
  bp_codec *c = NULL;
  bp_codec_opts o = {sizeof(bp_codec_opts), BP_SOURCE_KINESIS, "arn:aws:kinesis:us-east-1:111111111111:stream/s", NULL,
                     "arn:aws:iam::111111111111:role/r", NULL};
  if (bp_codec_new(&c, &o, NULL)) abort();
  bp_record r;
  bp_record_init(&r, sizeof r);
  r.seq = "49590338271490256608559692538361571095921575989136588898";
  r.seq_len = strlen(r.seq);
  r.arrival_ms = 1545084650987;
  r.partition_key = "pk";
  r.partition_key_len = 2;
  r.data = (const uint8_t *)ev;
  r.data_len = elen;
  int res = -1;
  int kr = bp_filter_match_record(f, c, "shardId-000000000000", &r, &res);
  if (kr != 0) abort();
  if (res != BP_FILTER_MATCH && res != BP_FILTER_NO_MATCH && res != BP_FILTER_DROPPED) abort();
  if (res == BP_FILTER_DROPPED && (rc != 0 || !bp_filter_uses_data(f))) abort();
  bp_codec_del(c);
  bp_filter_del(s);
  bp_filter_del(f);
  return 0;
}
