/* SPDX-License-Identifier: MIT */
/* The "marked failing" record handler (marked.h). */
#include "marked.h"

#include <stdio.h>
#include <string.h>

static int contains(const uint8_t *hay, size_t n, const char *needle) {
  size_t k = strlen(needle);
  for (size_t i = 0; k <= n && i <= n - k; i++)
    if (hay[i] == (uint8_t)needle[0] && !memcmp(hay + i, needle, k)) return 1;
  return 0;
}

static int fail(bp_handler *h, const char *why) {
  bp_handler_fail_reason(h, why, strlen(why));
  return 1;
}

int marked_on_record(bp_handler *h, const bp_handler_record *rec, void *user_data) {
  (void)user_data;
  if (rec->source == BP_SOURCE_KINESIS) {
    if (contains(rec->data, rec->data_len, "\"fail\":true")) return fail(h, "data has \"fail\":true");
    if (contains(rec->data, rec->data_len, "FAIL")) return fail(h, "data has FAIL");
    return 0;
  }
  if (!rec->new_image_json) return 0;
  bp_ddb_attr a = BP_DDB_ATTR_INIT;
  int rc = bp_handler_ddb_get(h, rec->new_image_json, rec->new_image_json_len, "fail", 4, &a);
  if (rc < 0) { /* the message is copied first: fail_reason may reuse the message buffer */
    char why[256];
    snprintf(why, sizeof why, "NewImage: %s", bp_handler_errmsg(h));
    return fail(h, why);
  }
  if (rc == 1 && a.type == BP_DDB_BOOL && a.boolean) return fail(h, "NewImage.fail is true");
  return 0;
}
