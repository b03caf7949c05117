// SPDX-License-Identifier: MIT
// FileStore: the library's durable checkpoint store over a directory (bp_file_store), for
// new Engine(config, host, { store, mappingUuid }) and for reading and writing checkpoints
// directly. An engine using the store holds it: the C store is freed only once no engine uses
// it any more, whatever order the JavaScript objects are closed or collected in.
'use strict';
const { g } = require('./ffi_codec.js');
const { errorFor } = require('./errors.js');

const NOT_FOUND = 1;
const SEQ_CAP = 130; // BP_STORE_SEQ_CAP covers any sequence number plus its NUL

const freeStore = new FinalizationRegistry((ptr) => g.file_store_del(ptr));
const message = (buf) => buf.toString('utf8', 0, Math.max(0, buf.indexOf(0)));

class FileStore {
  /** Opens a store over an existing directory (a ResourceError, BP_ERR_IO, otherwise). */
  constructor(directory) {
    const out = [null];
    const err = Buffer.alloc(512);
    const rc = g.file_store_new(out, String(directory), null, err, err.length);
    if (rc !== 0) throw errorFor(rc, message(err));
    this._ptr = out[0];
    this._users = 0;
    this._closing = false;
    this.directory = String(directory);
    freeStore.register(this, this._ptr, this);
  }

  get _handle() {
    if (!this._ptr || this._closing) throw new Error('FileStore is closed');
    return this._ptr;
  }

  // For Engine: the bp_store_ops and user_data; the store stays open until _release().
  _acquire() {
    const h = this._handle;
    this._users++;
    return { ops: g.file_store_ops(), userData: h };
  }

  _release() {
    this._users--;
    if (this._closing && this._users <= 0) this._free();
  }

  /** The shard's checkpoint (a sequence number string), or null when it has none. */
  load(mappingId, shardId) {
    const seq = Buffer.alloc(SEQ_CAP);
    const len = [0];
    const err = Buffer.alloc(512);
    const rc = g.store_load(g.file_store_ops(), this._handle, mappingId, shardId, seq, seq.length,
      len, err, err.length);
    if (rc === NOT_FOUND) return null;
    if (rc !== 0) throw errorFor(rc, message(err));
    return seq.toString('latin1', 0, Number(len[0]));
  }

  /** Replaces the shard's checkpoint, durably (InvalidArgumentError for a bad number). */
  save(mappingId, shardId, seq) {
    const s = Buffer.from(String(seq));
    const err = Buffer.alloc(512);
    const rc = g.store_save(g.file_store_ops(), this._handle, mappingId, shardId, s, s.length,
      err, err.length);
    if (rc !== 0) throw errorFor(rc, message(err));
  }

  /** Forgets the shard's checkpoint; false when there was none. */
  remove(mappingId, shardId) {
    const err = Buffer.alloc(512);
    const rc = g.store_remove(g.file_store_ops(), this._handle, mappingId, shardId, err,
      err.length);
    if (rc === NOT_FOUND) return false;
    if (rc !== 0) throw errorFor(rc, message(err));
    return true;
  }

  _free() {
    if (!this._ptr) return;
    freeStore.unregister(this);
    g.file_store_del(this._ptr);
    this._ptr = null;
  }

  /** Closes the store (deferred while an engine uses it). Idempotent. */
  close() {
    if (!this._ptr) return;
    this._closing = true;
    if (this._users <= 0) this._free();
  }
}

module.exports = { FileStore };
