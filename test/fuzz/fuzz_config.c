/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: a CreateEventSourceMapping request body. Whatever the bytes, parsing either
 * succeeds or fails with a config/JSON error and an AWS exception name, the config stays
 * usable (atomic on failure), a copy reads back the same values, and the function ARN
 * resolves within BP_CONFIG_FUNCTION_ARN_CAP.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "batchpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  bp_config *c;
  if (bp_config_new(&c, NULL)) abort();
  uint32_t before = bp_config_get_batch_size(c);
  int rc = bp_config_parse_json(c, (const char *)data, size);
  if (rc != 0) {
    if (rc != BP_ERR_CONFIG_INVALID && rc != BP_ERR_INVALID_JSON) abort();
    if (!bp_config_errmsg(c)[0]) abort();
    if (bp_config_get_batch_size(c) != before) abort(); /* atomic */
  } else {
    if (bp_config_validate(c) != 0) abort();
    bp_config *d;
    if (bp_config_copy(&d, c, NULL)) abort();
    if (bp_config_get_batch_size(d) != bp_config_get_batch_size(c) ||
        bp_config_get_filter_count(d) != bp_config_get_filter_count(c))
      abort();
    bp_config_del(d);
    /* the function ARN resolves, or only for want of an account, and fits the documented cap */
    char arn[BP_CONFIG_FUNCTION_ARN_CAP];
    size_t len;
    rc = bp_config_resolve_function_arn(c, NULL, arn, sizeof arn, &len);
    if (rc == 0 ? strlen(arn) != len || strncmp(arn, "arn:", 4) != 0
                : rc != BP_ERR_INVALID_STATE)
      abort();
    if (bp_config_resolve_function_arn(c, "123456789012", arn, sizeof arn, &len) != 0) abort();
  }
  bp_config_del(c);
  return 0;
}
