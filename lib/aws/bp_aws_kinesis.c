/* SPDX-License-Identifier: MIT */
/*
 * The Kinesis dialect of the stream reader (JSON 1.1, Kinesis_20131202.*). Requests name the
 * stream by StreamName, taken from the ARN: kinesalite (the local Kinesis used in tests)
 * knows no StreamARN, and Kinesis accepts either for a stream of the caller's account.
 */
#include <string.h>

#include "bp_aws_kinesis_json.h"
#include "bp_aws_reader_int.h"

static int list_body(bp__aws_buf *b, const char *stream, const char *page) {
  /* later pages carry only the token (ListShards refuses both) */
  int rc = bp__aws_buf_puts(b, page == NULL ? "{\"StreamName\":" : "{\"NextToken\":");
  if (rc == 0) rc = bp__aws_buf_json_str(b, page == NULL ? stream : page, strlen(page == NULL ? stream : page));
  if (rc == 0) rc = bp__aws_buf_puts(b, "}");
  return rc;
}

static const bp__aws_reader_dialect kinesis = {
    "Kinesis_20131202.", "application/x-amz-json-1.1", "ListShards", 10000,
    list_body, bp__aws_kin_parse_list_shards, "StreamName", "StartingSequenceNumber", 1,
    bp__aws_kin_parse_get_records};

int bp__aws_kinesis_reader_new(bp__aws_reader **out, bp__aws_loop *l,
                               const bp__aws_client *client, const char *stream_arn,
                               bp__aws_counters *counters, char *err, size_t errlen) {
  char name[129];
  *out = NULL;
  if (stream_arn == NULL || strstr(stream_arn, ":kinesis:") == NULL ||
      bp__aws_kin_stream_name(stream_arn, name, sizeof name) != 0) {
    bp__aws_json_errf(err, errlen, "not a Kinesis stream ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME): %s",
                      stream_arn != NULL ? stream_arn : "(null)");
    return BP_ERR_INVALID_ARGUMENT;
  }
  return bp__aws_reader_new_dialect(out, l, client, name, &kinesis, counters, err, errlen);
}
