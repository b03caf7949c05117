/* SPDX-License-Identifier: MIT */
/**
 * @file bp_store.h
 * @brief Checkpoint stores: the interface a host implements to persist checkpoints
 *        (DynamoDB, PostgreSQL, a flash page, ...) and the embedded file store
 *        (BP_WITH_FILE_STORE).
 *
 * What is stored: for each (mapping id, shard id) at most one checkpoint, the sequence number
 * of the last record the mapping has moved past (committed, discarded or filtered out,
 * spec/esm.md §3.1); reads resume after it. A stored checkpoint always wins over
 * StartingPosition, which applies only to a shard for which the store reports
 * ::BP_STORE_NOT_FOUND (§2.4). That is why a store must never answer "not found" for data it
 * cannot read: a corrupt or unreadable checkpoint is an error (::BP_ERR_CORRUPT,
 * ::BP_ERR_IO), so the engine stops instead of silently re-reading the shard from
 * TRIM_HORIZON or skipping it from LATEST.
 *
 * The interface assumes no file system, no clock and no thread: it is one versioned struct
 * of callbacks (::bp_store_ops) plus the host's `user_data`, like SQLite's `sqlite3_vfs`.
 * Calls are synchronous: each callback has finished its work (durably, for save) when it
 * returns. A host whose storage is asynchronous can block, or return ::BP_ERR_WOULDBLOCK
 * ("not now, ask again later"); completion-based stores belong to the engine's transport.
 *
 * Values: ids are NUL-terminated names of 1..::BP_STORE_MAX_ID_LEN bytes (any byte but NUL;
 * a store must not assume they are valid file names, UTF-8 or free of '/' and '..');
 * sequence numbers are decimal strings (bp_seqnum_validate(): 1..BP_MAX_SEQNUM_DIGITS
 * digits, no leading zero), passed as pointer + length, not NUL-terminated.
 *
 * bp_store_load(), bp_store_save() and bp_store_remove() call a store through its ops after
 * checking the arguments, and check what the store answers (a host bug becomes an error
 * code, never a wrong checkpoint). The engine uses them; a host may too.
 */
#ifndef BATCHPOINT_BP_STORE_H
#define BATCHPOINT_BP_STORE_H

#include "bp_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The layout version of ::bp_store_ops this header defines. */
#define BP_STORE_OPS_VERSION 1

/**
 * Positive result of a load (and of a remove): there is no checkpoint for this shard.
 * Distinct from every error, which is negative.
 */
#define BP_STORE_NOT_FOUND 1

/** Longest mapping id or shard id, in bytes (an ARN fits; Kinesis shard ids are <= 128). */
#define BP_STORE_MAX_ID_LEN 1024

/** A buffer of this many bytes holds any sequence number plus a NUL (for bp_store_load()). */
#define BP_STORE_SEQ_CAP (BP_MAX_SEQNUM_DIGITS + 1)

/**
 * A checkpoint store, implemented by the host. The library reads the fields the struct's
 * @c version defines and never writes the struct; new fields are only ever appended (a
 * newer host struct works with an older library, which reads the prefix it knows). Every
 * callback receives the `user_data` the host passed with the ops, as its last argument.
 *
 * Return convention, the same in every callback: 0 success; ::BP_STORE_NOT_FOUND where
 * documented; otherwise a negative ::bp_err — ::BP_ERR_IO (storage unreachable or failed),
 * ::BP_ERR_CORRUPT (stored data unreadable), ::BP_ERR_NOMEM, ::BP_ERR_BUFFER_TOO_SMALL
 * (load: the checkpoint is longer than @p seq_cap), ::BP_ERR_WOULDBLOCK (not now),
 * ::BP_ERR_CALLBACK_FAILURE (anything else; fatal to the engine). bp_store_*() turn any
 * other value into ::BP_ERR_CALLBACK_FAILURE.
 *
 * Pointers passed to a callback are valid only until it returns; the store copies what it
 * keeps. Called from: bp_store_load(), bp_store_save(), bp_store_remove() (and the engine,
 * through them). May call: nothing of the object that called it; bp_seqnum_*() and other
 * pure functions are fine.
 */
typedef struct bp_store_ops {
  /** ::BP_STORE_OPS_VERSION the host was compiled with (>= 1). */
  int version;

  /**
   * Read the checkpoint of one shard.
   * @param mapping_id the mapping (NUL-terminated, borrowed).
   * @param shard_id   the shard (NUL-terminated, borrowed).
   * @param seq_out    receives the sequence number's digits, no NUL (at most @p seq_cap).
   * @param seq_cap    size of @p seq_out in bytes.
   * @param seq_len    receives the number of digits written; 0 when not found.
   * @return 0 (found); ::BP_STORE_NOT_FOUND (this shard never had a checkpoint, or it was
   *         removed); a negative ::bp_err. Required.
   */
  int (*load)(const char *mapping_id, const char *shard_id, char *seq_out, size_t seq_cap,
              size_t *seq_len, void *user_data);

  /**
   * Replace the checkpoint of one shard, durably: once save returns 0 a load after any
   * crash returns this value (or a later one); if it fails or the process dies inside it,
   * a load returns the previous value or this one, never a mix and never an error.
   * @param seq     the sequence number's digits (borrowed; already validated).
   * @param seq_len their number, 1..BP_MAX_SEQNUM_DIGITS.
   * @return 0; a negative ::bp_err. Required.
   */
  int (*save)(const char *mapping_id, const char *shard_id, const char *seq, size_t seq_len,
              void *user_data);

  /**
   * Forget the checkpoint of one shard (e.g. a parent shard, spec/esm.md §8.2, once every
   * child has a checkpoint of its own: removing it earlier would make a restart re-read the
   * parent from StartingPosition). Optional: NULL means the store keeps checkpoints forever.
   * @return 0 (removed); ::BP_STORE_NOT_FOUND (there was none); a negative ::bp_err.
   */
  int (*remove)(const char *mapping_id, const char *shard_id, void *user_data);

  /**
   * The store's message for its last failed call, or NULL / "" when it has none. Optional.
   * The text is copied into the caller's error buffer by bp_store_*().
   */
  const char *(*errmsg)(void *user_data);
} bp_store_ops;

/**
 * Load a shard's checkpoint through @p ops and check the answer.
 * @param ops        the store (borrowed for the call).
 * @param user_data  passed to the callback unchanged.
 * @param mapping_id NUL-terminated, 1..::BP_STORE_MAX_ID_LEN bytes.
 * @param shard_id   NUL-terminated, 1..::BP_STORE_MAX_ID_LEN bytes.
 * @param seq_out    receives the digits followed by a NUL ("" when not found or on error).
 * @param seq_cap    size of @p seq_out, >= 2; ::BP_STORE_SEQ_CAP always suffices. The
 *                   store is given @p seq_cap - 1 bytes, keeping room for the NUL.
 * @param seq_len    receives the number of digits (0 when not found or on error).
 * @param errbuf     receives a message on error, "" otherwise (may be NULL).
 * @param errlen     size of @p errbuf (may be 0).
 * @return 0 (a valid sequence number is in @p seq_out); ::BP_STORE_NOT_FOUND;
 *         ::BP_ERR_INVALID_ARGUMENT (a NULL pointer, @p ops version < 1 or no load, an id
 *         empty or too long, @p seq_cap < 2); ::BP_ERR_CORRUPT (the store returned something
 *         that is not a sequence number); ::BP_ERR_CALLBACK_FAILURE (the store broke the
 *         contract: unknown return value, or a length beyond the buffer); any negative code
 *         of the error table the store returned (::BP_ERR_IO, ::BP_ERR_CORRUPT,
 *         ::BP_ERR_BUFFER_TOO_SMALL, ::BP_ERR_NOMEM, ::BP_ERR_WOULDBLOCK, ...), unchanged.
 */
BP_API int bp_store_load(const bp_store_ops *ops, void *user_data, const char *mapping_id,
                         const char *shard_id, char *seq_out, size_t seq_cap, size_t *seq_len,
                         char *errbuf, size_t errlen);

/**
 * Save a shard's checkpoint through @p ops, after validating it (the store is not called
 * when an argument is refused).
 * @param seq     the digits (borrowed, need not be NUL-terminated).
 * @param seq_len their number.
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (a NULL pointer, @p ops version < 1 or no save, an
 *         id empty or too long); ::BP_ERR_INVALID_SEQNUM (@p seq is not a sequence number);
 *         ::BP_ERR_CALLBACK_FAILURE (the store returned a value outside its contract); any
 *         negative code of the error table the store returned, unchanged.
 */
BP_API int bp_store_save(const bp_store_ops *ops, void *user_data, const char *mapping_id,
                         const char *shard_id, const char *seq, size_t seq_len, char *errbuf,
                         size_t errlen);

/**
 * Remove a shard's checkpoint through @p ops.
 * @return 0; ::BP_STORE_NOT_FOUND (there was none); ::BP_ERR_INVALID_ARGUMENT (a NULL
 *         pointer, @p ops version < 1, an id empty or too long); ::BP_ERR_UNSUPPORTED (the
 *         store has no remove); ::BP_ERR_CALLBACK_FAILURE (a value outside the contract); any
 *         negative code of the error table the store returned, unchanged.
 */
BP_API int bp_store_remove(const bp_store_ops *ops, void *user_data, const char *mapping_id,
                           const char *shard_id, char *errbuf, size_t errlen);

#if BP_WITH_FILE_STORE

/* ---- The embedded file store (POSIX) ---- */

/**
 * A checkpoint store keeping one small file per (mapping, shard) in one directory. Opaque.
 *
 * Crash safety: save writes `<name>.tmp`, fsyncs it, renames it over `<name>` and fsyncs
 * the directory, so after a crash at any instant (process or machine, given a file system
 * that honours fsync) the file holds the previous checkpoint or the new one. A leftover
 * `.tmp` file is ignored by load and replaced by the next save. The directory must exist;
 * the store does not create it. At most one store (one writer) per directory at a time.
 *
 * File names: `bp.<mapping>+<shard>.ckpt`, each id percent-encoded (`%XX`) outside
 * [A-Za-z0-9._-], so no id can leave the directory or collide with another; when that name
 * would exceed 200 bytes, `bp.h.<32 hex digits of a hash of both ids>.ckpt`. Each file
 * repeats both ids, so a collision or a file copied under another name reads as corrupt,
 * never as another shard's checkpoint. On a case-insensitive file system ids that differ
 * only in case share a file (and read as corrupt): avoid them there.
 *
 * File content (text, `cat`-able): `BPCK 1 <mapping len> <shard len> <seq len>\n`, the
 * mapping id, `\n`, the shard id, `\n`, the sequence number, `\n`, then
 * `crc32 <8 hex digits>\n` over everything before it. A load that finds anything else
 * (empty, truncated, extended, a flipped bit, other ids, a bad sequence number) returns
 * ::BP_ERR_CORRUPT; a valid file of a newer format version returns ::BP_ERR_UNSUPPORTED.
 *
 * Memory: one allocation at creation; load, save and remove allocate nothing. One thread
 * at a time per store; distinct stores are independent.
 */
typedef struct bp_file_store bp_file_store;

/**
 * Open a file store over an existing directory (kept open until bp_file_store_del()).
 * @param out    receives the store; NULL on failure.
 * @param dir    the directory (NUL-terminated path, copied).
 * @param alloc  allocator hooks, copied (NULL: the C library).
 * @param errbuf receives a message on failure (with the errno text for ::BP_ERR_IO), ""
 *               on success (may be NULL).
 * @param errlen size of @p errbuf (may be 0).
 * @return 0; ::BP_ERR_INVALID_ARGUMENT (@p out or @p dir NULL, @p dir empty, half-set
 *         hooks); ::BP_ERR_NOMEM; ::BP_ERR_IO (the directory cannot be opened: missing, not
 *         a directory, no permission).
 */
BP_API int bp_file_store_new(bp_file_store **out, const char *dir, const bp_allocator *alloc,
                             char *errbuf, size_t errlen);

/** Close and free a file store. NULL is allowed. Its files stay. */
BP_API void bp_file_store_del(bp_file_store *fs);

/**
 * The file store's operations (static, valid for the life of the process). Pass the
 * ::bp_file_store as their `user_data`: bp_store_load(bp_file_store_ops(), fs, ...).
 * Errors of its callbacks: load: ::BP_STORE_NOT_FOUND (no file), ::BP_ERR_CORRUPT,
 * ::BP_ERR_UNSUPPORTED (newer format), ::BP_ERR_BUFFER_TOO_SMALL, ::BP_ERR_IO; save:
 * ::BP_ERR_INVALID_SEQNUM, ::BP_ERR_IO (nothing replaced, unless the directory fsync was
 * what failed: then the new file may or may not survive a machine crash; save again);
 * remove: ::BP_STORE_NOT_FOUND, ::BP_ERR_IO; all: ::BP_ERR_INVALID_ARGUMENT (NULL
 * pointers, ids empty or too long). bp_file_store_errmsg() says why.
 */
BP_API const bp_store_ops *bp_file_store_ops(void);

/**
 * @return the message of the last failed call on @p fs ("" after a successful one, or if
 *         @p fs is NULL); valid until the next call on @p fs.
 */
BP_API const char *bp_file_store_errmsg(const bp_file_store *fs);

#endif /* BP_WITH_FILE_STORE */

#ifdef __cplusplus
}
#endif

#endif
