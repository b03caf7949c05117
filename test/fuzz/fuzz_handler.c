/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the function side's event parser and DynamoDB reader. The first byte chooses
 * the options (bit 0 stop at the first failure, bit 7 KPL de-aggregation) and which records
 * fail, the rest is the event text. Whatever the bytes:
 * bp_handler_process() returns one of its documented codes; a text yajl rejects is refused,
 * and a text the processor accepts is one yajl accepts (the scanner is as
 * strict as the library's JSON parser); a response is valid JSON; every record view is
 * readable to its last byte, and the DynamoDB reader never fails on a record's images in a
 * way it does not document.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bp_json_int.h"
#include "batchpoint/bp_handler.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned touch(const void *p, size_t n) {
  unsigned x = 0;
  for (size_t i = 0; i < n; i++) x += ((const unsigned char *)p)[i];
  return x;
}

static void walk(bp_handler *h, int32_t type, const char *json, size_t len, int depth) {
  size_t cur = 0;
  for (int k = 0; k < 64; k++) {
    bp_ddb_attr a = BP_DDB_ATTR_INIT;
    const char *name;
    size_t name_len;
    int rc = bp_handler_ddb_next(h, type, json, len, &cur, &name, &name_len, &a);
    if (rc == 0) return;
    if (rc < 0) {
      if (rc != BP_ERR_INVALID_JSON && rc != BP_ERR_INVALID_BASE64) abort();
      return;
    }
    touch(a.value, a.value_len);
    touch(a.json, a.json_len);
    if (type == BP_DDB_M) touch(name, name_len);
    if (depth < 4 && a.type >= BP_DDB_M) walk(h, a.type, a.value, a.value_len, depth + 1);
  }
}

static int on_record(bp_handler *h, const bp_handler_record *r, void *ud) {
  unsigned mask = *(const unsigned *)ud;
  touch(r->seq, r->seq_len);
  touch(r->event_id, r->event_id_len);
  touch(r->partition_key, r->partition_key_len);
  touch(r->data, r->data_len);
  touch(r->data_base64, r->data_base64_len);
  touch(r->dynamodb_json, r->dynamodb_json_len);
  if (r->keys_json) {
    walk(h, BP_DDB_M, r->keys_json, r->keys_json_len, 0);
    bp_ddb_attr a = BP_DDB_ATTR_INIT;
    int rc = bp_handler_ddb_get(h, r->keys_json, r->keys_json_len, "pk", 2, &a);
    if (rc < 0 && rc != BP_ERR_INVALID_JSON && rc != BP_ERR_INVALID_BASE64) abort();
  }
  if (r->new_image_json) walk(h, BP_DDB_M, r->new_image_json, r->new_image_json_len, 0);
  if (mask >> (r->index % 8) & 1) {
    bp_handler_fail_reason(h, "fuzz", 4);
    return 1;
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  unsigned mask = (data[0] >> 1) & 0x3F;
  bp_handler_opts o = BP_HANDLER_OPTS_INIT;
  o.flags = (data[0] & 1 ? BP_HANDLER_STOP_AT_FIRST_FAILURE : 0) |
            (data[0] & 0x80 ? BP_HANDLER_DEAGGREGATE : 0);
  bp_handler *h;
  if (bp_handler_new(&h, &o, NULL)) abort();
  const char *text = (const char *)data + 1, *resp;
  size_t len = size - 1, resp_len;
  int rc = bp_handler_process(h, text, len, on_record, &mask, &resp, &resp_len);
  bp_allocator libc;
  if (bp__alloc_copy(&libc, NULL)) abort();
  bp__json_pool pool;
  bp__json_pool_init(&pool, &libc);
  int valid = bp__json_parse(&pool, text, len, NULL, NULL, NULL) == 0;
  /* (a record error met before the bad JSON is reported as such) */
  if (!valid && rc != BP_ERR_INVALID_JSON && rc != BP_ERR_INVALID_RECORD) abort();
  if (rc == 0 || rc == BP_ERR_BATCH_FAILED) {
    if (!valid || !resp || strlen(resp) != resp_len) abort();
    if (bp__json_parse(&pool, resp, resp_len, NULL, NULL, NULL) != 0) abort();
    bp_handler_window w = BP_HANDLER_WINDOW_INIT;
    int wr = bp_handler_get_window(h, &w);
    if (wr < 0) abort();
    if (wr == 1) touch(w.state_json, w.state_json_len);
  } else if (rc != BP_ERR_INVALID_JSON && rc != BP_ERR_INVALID_RECORD) {
    abort();
  } else if (resp || !*bp_handler_errmsg(h)) {
    abort();
  }
  bp__json_pool_free(&pool);
  bp_handler_del(h);
  return 0;
}
