/* SPDX-License-Identifier: MIT */
/* Error codes: texts, names and the table for bindings. */
#include "bp_int.h"

#define BP__ERR_ROW(c, m) {c, #c, m}

static const bp_err_desc err_table[] = {
    BP__ERR_ROW(BP_OK, "success"),
    BP__ERR_ROW(BP_ERR_INVALID_ARGUMENT, "invalid argument"),
    BP__ERR_ROW(BP_ERR_NOMEM, "out of memory"),
    BP__ERR_ROW(BP_ERR_BUFFER_TOO_SMALL, "buffer too small"),
    BP__ERR_ROW(BP_ERR_INVALID_SEQNUM, "invalid sequence number"),
    BP__ERR_ROW(BP_ERR_INVALID_UTF8, "invalid UTF-8"),
    BP__ERR_ROW(BP_ERR_INVALID_BASE64, "invalid base64"),
    BP__ERR_ROW(BP_ERR_INVALID_JSON, "invalid JSON"),
    BP__ERR_ROW(BP_ERR_TOO_LARGE, "size limit exceeded"),
    BP__ERR_ROW(BP_ERR_RANGE, "value out of range"),
    BP__ERR_ROW(BP_ERR_CONFIG_UNKNOWN, "unknown configuration parameter"),
    BP__ERR_ROW(BP_ERR_CONFIG_INVALID, "invalid configuration value"),
    BP__ERR_ROW(BP_ERR_UNSUPPORTED, "not supported by this build"),
    BP__ERR_ROW(BP_ERR_INVALID_STATE, "operation not allowed in the current state"),
    BP__ERR_ROW(BP_ERR_WOULDBLOCK, "operation would block"),
    BP__ERR_ROW(BP_ERR_IN_CALLBACK, "call not allowed from inside a callback"),
    BP__ERR_ROW(BP_ERR_UNKNOWN_REQUEST, "unknown request id"),
    BP__ERR_ROW(BP_ERR_CANCELLED, "operation cancelled"),
    BP__ERR_ROW(BP_ERR_INVALID_RECORD, "invalid record"),
    BP__ERR_ROW(BP_ERR_CORRUPT, "stored data is corrupt"),
    BP__ERR_ROW(BP_ERR_IO, "I/O error"),
    BP__ERR_ROW(BP_ERR_BATCH_FAILED, "every record of the batch failed"),
    BP__ERR_ROW(BP_ERR_FATAL, "fatal error"),
    BP__ERR_ROW(BP_ERR_CALLBACK_FAILURE, "callback failure"),
    BP__ERR_ROW(BP_ERR_INTERNAL, "internal error"),
};

#define ERR_TABLE_LEN (sizeof(err_table) / sizeof(err_table[0]))

static const bp_err_desc *find(int code) {
  for (size_t i = 0; i < ERR_TABLE_LEN; i++)
    if (err_table[i].code == code) return &err_table[i];
  return NULL;
}

int bp_err_is_fatal(int code) { return code <= BP_ERR_FATAL; }

const char *bp_strerror(int code) {
  const bp_err_desc *d = find(code);
  return d ? d->message : "unknown error code";
}

const char *bp_err_name(int code) {
  const bp_err_desc *d = find(code);
  return d ? d->name : "BP_ERR_UNKNOWN";
}

void bp_err_descs(const bp_err_desc **tab, size_t *n) {
  if (tab) *tab = err_table;
  if (n) *n = ERR_TABLE_LEN;
}
