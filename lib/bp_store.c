/* SPDX-License-Identifier: MIT */
/* Checked calls through any checkpoint store's bp_store_ops (every build: a firmware build
 * without a file system uses them for its own store). The embedded file store is in
 * bp_store_file.c. */
#include <string.h>

#include "bp_int.h"
#include "batchpoint/bp_seqnum.h"
#include "batchpoint/bp_store.h"
#include "bp_store_int.h"

/* ---- Id checks (shared with the file store) ---- */

const char *bp__store_id_problem(const char *id, size_t *len) {
  if (!id) return "is NULL";
  size_t n = 0;
  while (n <= BP_STORE_MAX_ID_LEN && id[n]) n++;
  if (n == 0) return "is empty";
  if (n > BP_STORE_MAX_ID_LEN) return "is too long";
  *len = n;
  return NULL;
}

/* 0, or BP_ERR_INVALID_ARGUMENT with the message in errbuf. */
static int store_check_ids(const char *mapping_id, const char *shard_id, size_t *mlen,
                           size_t *slen, char *errbuf, size_t errlen) {
  const char *why = bp__store_id_problem(mapping_id, mlen);
  if (why)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                      "mapping id %s (1..%d bytes)", why, BP_STORE_MAX_ID_LEN);
  why = bp__store_id_problem(shard_id, slen);
  if (why)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT, "shard id %s (1..%d bytes)",
                      why, BP_STORE_MAX_ID_LEN);
  return 0;
}

/* ---- Checked calls through any store ---- */

static void store_clear_errbuf(char *errbuf, size_t errlen) {
  if (errbuf && errlen) errbuf[0] = '\0';
}

static int store_known_error(int rc) {
  const bp_err_desc *tab;
  size_t n;
  if (rc >= 0) return 0;
  bp_err_descs(&tab, &n);
  for (size_t i = 0; i < n; i++)
    if (tab[i].code == rc) return 1;
  return 0;
}

/* The store answered @p rc, which is neither 0 nor (where allowed) BP_STORE_NOT_FOUND. */
static int store_host_error(const bp_store_ops *ops, void *user_data, const char *op, int rc,
                            char *errbuf, size_t errlen) {
  if (!store_known_error(rc))
    return bp__errbuf(errbuf, errlen, BP_ERR_CALLBACK_FAILURE,
                      "checkpoint store %s returned %d, which is not a bp_err code", op, rc);
  const char *msg = ops->errmsg ? ops->errmsg(user_data) : NULL;
  if (msg && msg[0])
    return bp__errbuf(errbuf, errlen, rc, "checkpoint store %s: %s", op, msg);
  return bp__errbuf(errbuf, errlen, rc, "checkpoint store %s failed: %s", op, bp_strerror(rc));
}

/* Version 1 fields are all this library knows; a newer struct starts with the same ones. */
static int store_check_ops(const bp_store_ops *ops, char *errbuf, size_t errlen) {
  if (!ops) return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT, "ops is NULL");
  if (ops->version < 1)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                      "ops version %d (expected 1..%d)", ops->version, BP_STORE_OPS_VERSION);
  return 0;
}

int bp_store_load(const bp_store_ops *ops, void *user_data, const char *mapping_id,
                  const char *shard_id, char *seq_out, size_t seq_cap, size_t *seq_len,
                  char *errbuf, size_t errlen) {
  size_t mlen, slen, got = 0;
  store_clear_errbuf(errbuf, errlen);
  if (seq_len) *seq_len = 0;
  if (seq_out && seq_cap) seq_out[0] = '\0';
  int rc = store_check_ops(ops, errbuf, errlen);
  if (rc) return rc;
  if (!ops->load)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT, "the store has no load");
  if (!seq_out || !seq_len || seq_cap < 2)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT,
                      "seq_out and seq_len are required, and seq_cap must be >= 2");
  rc = store_check_ids(mapping_id, shard_id, &mlen, &slen, errbuf, errlen);
  if (rc) return rc;

  rc = ops->load(mapping_id, shard_id, seq_out, seq_cap - 1, &got, user_data);
  if (rc == BP_STORE_NOT_FOUND) {
    seq_out[0] = '\0';
    return BP_STORE_NOT_FOUND;
  }
  if (rc != 0) {
    seq_out[0] = '\0';
    return store_host_error(ops, user_data, "load", rc, errbuf, errlen);
  }
  if (got > seq_cap - 1) {
    seq_out[0] = '\0';
    return bp__errbuf(errbuf, errlen, BP_ERR_CALLBACK_FAILURE,
                      "checkpoint store load reported %zu bytes for a %zu-byte buffer", got,
                      seq_cap - 1);
  }
  if (bp_seqnum_validate(seq_out, got) != 0) {
    seq_out[0] = '\0';
    return bp__errbuf(errbuf, errlen, BP_ERR_CORRUPT,
                      "checkpoint store load returned %zu bytes that are not a sequence number",
                      got);
  }
  seq_out[got] = '\0';
  *seq_len = got;
  return 0;
}

int bp_store_save(const bp_store_ops *ops, void *user_data, const char *mapping_id,
                  const char *shard_id, const char *seq, size_t seq_len, char *errbuf,
                  size_t errlen) {
  size_t mlen, slen;
  store_clear_errbuf(errbuf, errlen);
  int rc = store_check_ops(ops, errbuf, errlen);
  if (rc) return rc;
  if (!ops->save)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_ARGUMENT, "the store has no save");
  rc = store_check_ids(mapping_id, shard_id, &mlen, &slen, errbuf, errlen);
  if (rc) return rc;
  if (bp_seqnum_validate(seq, seq_len) != 0)
    return bp__errbuf(errbuf, errlen, BP_ERR_INVALID_SEQNUM,
                      "checkpoint is not a sequence number (1..%d digits, no leading zero)",
                      BP_MAX_SEQNUM_DIGITS);
  rc = ops->save(mapping_id, shard_id, seq, seq_len, user_data);
  if (rc == 0) return 0;
  return store_host_error(ops, user_data, "save", rc, errbuf, errlen);
}

int bp_store_remove(const bp_store_ops *ops, void *user_data, const char *mapping_id,
                    const char *shard_id, char *errbuf, size_t errlen) {
  size_t mlen, slen;
  store_clear_errbuf(errbuf, errlen);
  int rc = store_check_ops(ops, errbuf, errlen);
  if (rc) return rc;
  rc = store_check_ids(mapping_id, shard_id, &mlen, &slen, errbuf, errlen);
  if (rc) return rc;
  if (!ops->remove)
    return bp__errbuf(errbuf, errlen, BP_ERR_UNSUPPORTED, "the store has no remove");
  rc = ops->remove(mapping_id, shard_id, user_data);
  if (rc == 0 || rc == BP_STORE_NOT_FOUND) return rc;
  return store_host_error(ops, user_data, "remove", rc, errbuf, errlen);
}
