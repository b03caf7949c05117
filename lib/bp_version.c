/* SPDX-License-Identifier: MIT */
/* Runtime version and build-profile queries. */
#include <string.h>

#include "bp_int.h"

static const bp_version_info version_info = {1, BP_VERSION_NUM, BP_VERSION_STRING};

int bp_version_num(void) { return BP_VERSION_NUM; }

const char *bp_version_string(void) { return BP_VERSION_STRING; }

const bp_version_info *bp_version(int least_num) {
  return least_num > BP_VERSION_NUM ? NULL : &version_info;
}

int bp_feature_enabled(const char *name) {
  if (!name) return 0;
  if (strcmp(name, "CODEC") == 0) return BP_WITH_CODEC;
  if (strcmp(name, "FILE_STORE") == 0) return BP_WITH_FILE_STORE;
  if (strcmp(name, "STDIO") == 0) return BP_WITH_STDIO;
  return 0;
}
