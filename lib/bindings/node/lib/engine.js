// SPDX-License-Identifier: MIT
// Engine: bp_engine driven from JavaScript. The host's fetch/invoke/deliver (and optional
// storeCheckpoint) are async functions: each callback accepts the request at once and the
// completion is made when the host's Promise settles (a rejection takes the engine's failure
// path for that request). A host function that throws synchronously, or an onEvent that
// throws, is a fatal callback failure: the exception is kept and thrown by the driving call.
// A host function may instead return Engine.PENDING and settle the request itself with
// engine.complete(reqId, value) / engine.reject(reqId, err): synchronous completions, inside
// the callback or at any later moment the host chooses (a simulated clock, a replay).
'use strict';
const { koffi, f, types, protos, METRIC_NAMES, TRANSPORT_VERSION, text, bytes, cstr } =
  require('./ffi.js');
const { encodeRecords, decodeRecords } = require('./records.js');
const { errorFor } = require('./errors.js');
const { Config } = require('./config.js');

const ERR_IO = -20;
const ERR_WOULDBLOCK = -14;
const ERR_CALLBACK_FAILURE = -901;
const POSITIONS = ['NONE', 'TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP', 'AFTER_SEQUENCE_NUMBER',
  'CONTINUE'];
const DESTINATIONS = ['OTHER', 'SQS', 'SNS', 'S3'];
const CONDITIONS = [null, 'RetryAttemptsExhausted', 'RecordAgeExceeded'];
const SHARD_STATES = ['WAITING', 'ACTIVE', 'ENDING', 'ENDED'];
const OPTION_MEMBERS = {
  invokeIdentityArn: 'invoke_identity_arn', awsRegion: 'aws_region', mappingUuid: 'mapping_uuid',
  seed: 'seed', maxBufferedRecords: 'max_buffered_records', filterFlags: 'filter_flags',
  maxBufferedBytes: 'max_buffered_bytes', backoffBaseMs: 'backoff_base_ms',
  backoffCapMs: 'backoff_cap_ms', pollIntervalMs: 'poll_interval_ms',
  fetchErrorRetryMs: 'fetch_error_retry_ms', wouldblockRetryMs: 'wouldblock_retry_ms',
  maxFetchRecords: 'max_fetch_records', functionAccount: 'function_account',
};

// The library writes struct_size = its sizeof into each request: it must cover our struct.
function borrowed(ptr, type, name) {
  const r = koffi.decode(ptr, type);
  if (r.struct_size < koffi.sizeof(type)) {
    throw new Error(`${name}.struct_size ${r.struct_size} is below the binding's ` +
      `${koffi.sizeof(type)}: the library is older than these declarations`);
  }
  return r;
}

const freeEngine = new FinalizationRegistry(({ ptr, cbs, store }) => {
  f.engine_del(ptr);
  for (const cb of cbs) koffi.unregister(cb);
  if (store) store._release(); // after bp_engine_del: the C store outlives the engine
});

class Engine {
  /**
   * @param {Config|string|object} config a Config or a CreateEventSourceMapping body
   * @param {object} host { fetch, invoke, deliver?, storeCheckpoint?, onEvent? }
   * @param {object} options engine options (camelCase of bp_engine_opts), `clock`, and
   *   `store` (a FileStore, used when the host has no storeCheckpoint)
   */
  constructor(config, host, options = {}) {
    if (!host || typeof host.fetch !== 'function' || typeof host.invoke !== 'function') {
      throw new TypeError('host must have async fetch(req) and invoke(req) functions');
    }
    const cfg = config instanceof Config ? config : Config.fromJSON(config);
    this._host = host;
    this._clock = options.clock || Date.now;
    this._failure = null; // the first exception of a callback, thrown by the driving call
    this._asyncErrors = []; // errors of completions made after a Promise settled
    this._pending = new Set();
    this._manual = new Map(); // reqId -> completion, for requests answered Engine.PENDING
    this._closed = false;

    const opts = {};
    f.engine_opts_init(opts, koffi.sizeof(types.bp_engine_opts));
    for (const [js, c] of Object.entries(OPTION_MEMBERS)) {
      if (options[js] !== undefined) opts[c] = options[js];
    }
    // A FileStore: the engine saves checkpoints there when the host has no storeCheckpoint.
    const store = options.store || null;
    if (store) {
      const { ops, userData } = store._acquire();
      opts.store = ops;
      opts.store_user_data = userData;
    }
    const cbs = [];
    const reg = (fn, proto) => {
      const p = koffi.register(fn, koffi.pointer(proto));
      cbs.push(p);
      return p;
    };
    // koffi keeps registered functions alive: they reach the engine through a WeakRef, so an
    // engine nobody closes can still be collected (and its FinalizationRegistry entry run).
    const self = new WeakRef(this);
    const via = (method) => (e, req) => {
      const me = self.deref();
      return me ? me._guard(() => me[method](req)) : ERR_CALLBACK_FAILURE;
    };
    const transport = {
      fetch: reg(via('_onFetch'), protos.fetch_cb),
      invoke: reg(via('_onInvoke'), protos.invoke_cb),
      deliver: host.deliver ? reg(via('_onDeliver'), protos.deliver_cb) : null,
      store_checkpoint: host.storeCheckpoint ? reg(via('_onCheckpoint'), protos.checkpoint_cb) :
        null,
      on_event: host.onEvent ? reg(via('_onEvent'), protos.event_cb) : null,
    };
    const out = [null];
    const errbuf = Buffer.alloc(512);
    const rc = f.engine_new_versioned(out, cfg.ptr, opts, TRANSPORT_VERSION, transport, null,
      null, errbuf, errbuf.length);
    if (config !== cfg) cfg.close();
    if (rc !== 0) {
      for (const cb of cbs) koffi.unregister(cb);
      if (store) store._release();
      throw errorFor(rc, errbuf.toString('utf8', 0, errbuf.indexOf(0)));
    }
    this._ptr = out[0];
    this._cbs = cbs;
    this._store = store;
    freeEngine.register(this, { ptr: this._ptr, cbs, store }, this);
  }

  // Runs one callback body: a synchronous exception is kept and made fatal to the engine.
  _guard(fn) {
    try {
      return fn() || 0;
    } catch (err) {
      if (!this._failure) this._failure = err;
      return ERR_CALLBACK_FAILURE;
    }
  }

  // Calls the host for request id; completes it when the host's Promise settles, or leaves
  // it to complete()/reject() (callable from inside the host's function too) when the host
  // answered Engine.PENDING.
  _request(id, callHost, complete) {
    const key = String(id);
    this._manual.set(key, complete);
    let call;
    try {
      call = callHost(); // a synchronous throw is fatal (_guard)
    } catch (err) {
      this._manual.delete(key);
      throw err;
    }
    if (call === PENDING) return;
    if (!this._manual.delete(key)) {
      throw new Error(`request ${key} was completed by complete()/reject(): return Engine.PENDING`);
    }
    const p = Promise.resolve(call).then(
      (v) => this._complete(() => complete(v, null)),
      (err) => this._complete(() => complete(undefined, err || new Error('rejected'))));
    this._pending.add(p);
    p.finally(() => this._pending.delete(p));
  }

  _complete(fn) {
    if (this._closed) return;
    let rc;
    try { rc = fn(); } catch (err) { this._asyncErrors.push(err); return; }
    if (rc !== 0) this._asyncErrors.push(this._error(rc));
  }

  _error(rc) {
    const err = errorFor(rc, this._ptr ? f.engine_errmsg(this._ptr) : undefined);
    if (this._failure && rc === ERR_CALLBACK_FAILURE) err.cause = this._failure;
    return err;
  }

  _onFetch(reqPtr) {
    const r = borrowed(reqPtr, types.bp_fetch_req, 'bp_fetch_req');
    const id = r.req_id;
    const req = {
      reqId: id, shardId: cstr(r.shard_id), from: POSITIONS[r.from] || r.from,
      maxRecords: r.max_records, afterSeq: text(r.after_seq, r.after_seq_len),
      timestampMs: Number(r.timestamp_ms), maxBytes: Number(r.max_bytes),
    };
    this._request(id, () => this._host.fetch(req), (v, err) => {
      if (err) {
        return f.engine_complete_fetch(this._ptr, id, this._clock(),
          err.throttled ? ERR_WOULDBLOCK : ERR_IO, null, 0, 0);
      }
      const list = Array.isArray(v) ? v : (v && v.records) || [];
      const flags = v && !Array.isArray(v) && v.shardEnd ? 1 : 0;
      const { arr, keep } = encodeRecords(list);
      const rc = f.engine_complete_fetch(this._ptr, id, this._clock(), 0, arr, list.length, flags);
      keep.length = 0;
      return rc;
    });
  }

  _onInvoke(reqPtr) {
    const r = borrowed(reqPtr, types.bp_invoke_req, 'bp_invoke_req');
    const id = r.req_id;
    const req = {
      reqId: id, shardId: cstr(r.shard_id), lane: r.lane, attempt: r.attempt, flags: r.flags,
      retry: !!(r.flags & 1), split: !!(r.flags & 2), remainder: !!(r.flags & 4),
      final: !!(r.flags & 8), terminatedEarly: !!(r.flags & 16),
      records: r.records ? decodeRecords(r.records, r.record_stride, r.count) : [],
      windowStartMs: Number(r.window_start_ms), windowEndMs: Number(r.window_end_ms),
      state: text(r.state, r.state_len),
      payload: r.payload ? bytes(r.payload, r.payload_len) : null,
    };
    this._request(id, () => this._host.invoke(req), (v, err) => this._completeInvoke(id, v, err));
  }

  _completeInvoke(id, v, err) {
    const res = {};
    f.invoke_result_init(res, koffi.sizeof(types.bp_invoke_result));
    const keep = [];
    const put = (ptr, len, s) => {
      if (s === undefined || s === null) return;
      const b = Buffer.isBuffer(s) ? s : Buffer.from(typeof s === 'string' ? s : String(s));
      const z = Buffer.concat([b, Buffer.alloc(1)]);
      keep.push(z);
      res[ptr] = z; res[len] = b.length;
    };
    if (err) {
      if (err.throttled) res.kind = 2;
      else { res.kind = 1; put('function_error', 'function_error_len', err.functionError); }
    } else if (v && typeof v === 'object' && !Buffer.isBuffer(v) && !(v instanceof Uint8Array)) {
      if (v.throttled) res.kind = 2;
      else if (v.functionError !== undefined) {
        res.kind = 1; put('function_error', 'function_error_len', v.functionError);
      } else {
        const body = v.body;
        put('body', 'body_len', body === undefined || typeof body === 'string' ||
          Buffer.isBuffer(body) ? body : JSON.stringify(body));
      }
      put('request_id', 'request_id_len', v.requestId);
      put('executed_version', 'executed_version_len', v.executedVersion);
    } else if (v !== undefined && v !== null) {
      put('body', 'body_len', v instanceof Uint8Array && !Buffer.isBuffer(v) ?
        Buffer.from(v) : v);
    }
    const rc = f.engine_complete_invoke(this._ptr, id, this._clock(), res);
    keep.length = 0;
    return rc;
  }

  _onDeliver(reqPtr) {
    const r = borrowed(reqPtr, types.bp_delivery_req, 'bp_delivery_req');
    const id = r.req_id;
    const req = {
      reqId: id, shardId: cstr(r.shard_id), lane: r.lane,
      destinationType: DESTINATIONS[r.destination_type] || r.destination_type,
      destination: cstr(r.destination),
      recordJson: r.record_json ? text(r.record_json, r.record_json_len) : null,
      s3Key: cstr(r.s3_key), condition: CONDITIONS[r.condition] || r.condition,
      approximateInvokeCount: r.approximate_invoke_count, timestampMs: Number(r.timestamp_ms),
      records: r.records ? decodeRecords(r.records, r.record_stride, r.count) : [],
    };
    this._request(id, () => this._host.deliver(req), (v, err) =>
      f.engine_complete_delivery(this._ptr, id, this._clock(), err ? ERR_IO : 0));
  }

  _onCheckpoint(reqPtr) {
    const r = borrowed(reqPtr, types.bp_checkpoint_req, 'bp_checkpoint_req');
    const id = r.req_id;
    const req = { reqId: id, shardId: cstr(r.shard_id), seq: text(r.seq, r.seq_len),
      final: !!r.final };
    this._request(id, () => this._host.storeCheckpoint(req), (v, err) =>
      f.engine_complete_checkpoint(this._ptr, id, this._clock(), err ? ERR_IO : 0));
  }

  _onEvent(evPtr) {
    const r = borrowed(evPtr, types.bp_engine_event, 'bp_engine_event');
    this._host.onEvent({
      type: r.type, detail: r.detail, nowMs: Number(r.now_ms), shardId: cstr(r.shard_id),
      lane: r.lane, flags: r.flags, firstSeq: text(r.first_seq, r.first_seq_len),
      lastSeq: text(r.last_seq, r.last_seq_len), count: Number(r.count),
      value: Number(r.value), message: cstr(r.message),
    });
  }

  get ptr() {
    if (this._closed) throw new Error('Engine is closed');
    return this._ptr;
  }

  // A driving call's result: errors recorded by earlier async completions come first.
  _check(rc) {
    if (this._asyncErrors.length) throw this._asyncErrors.shift();
    if (rc !== 0) throw this._error(rc);
  }

  addShard(shardId, { parentId = null, adjacentParentId = null, checkpoint = null } = {}) {
    const cp = checkpoint === null ? null : Buffer.from(String(checkpoint));
    this._check(f.engine_add_shard(this.ptr, shardId, parentId, adjacentParentId, cp,
      cp ? cp.length : 0));
  }
  tick(nowMs = this._clock()) { this._check(f.engine_tick(this.ptr, nowMs)); }
  setEnabled(enabled, nowMs = this._clock()) {
    this._check(f.engine_set_enabled(this.ptr, nowMs, enabled ? 1 : 0));
  }
  shutdown(nowMs = this._clock()) { this._check(f.engine_shutdown(this.ptr, nowMs)); }
  get drained() { return f.engine_drained(this.ptr) === 1; }
  get idle() { return f.engine_idle(this.ptr) === 1; }
  /** Absolute ms of the next due work, or null (BP_NO_DEADLINE: only completions progress). */
  nextDeadline() {
    const d = f.engine_next_deadline(this.ptr);
    return BigInt(d) === 9223372036854775807n ? null : Number(d);
  }
  /** Completes request reqId (answered Engine.PENDING) with what its Promise would resolve
   *  to; synchronous, allowed inside a callback. Throws the library's error. */
  complete(reqId, value) { this._settle(reqId, value, null); }
  /** Fails request reqId (answered Engine.PENDING) as a rejection with err would. */
  reject(reqId, err) { this._settle(reqId, undefined, err || new Error('rejected')); }
  _settle(reqId, value, err) {
    const key = String(reqId);
    const complete = this._manual.get(key);
    if (this._closed) throw new Error('Engine is closed');
    if (!complete) throw new Error(`no request ${key} awaits complete()/reject()`);
    this._manual.delete(key);
    const rc = complete(value, err);
    if (rc !== 0) throw this._error(rc);
  }
  /** Every request's Promise settled and its completion made (for tests and shutdown). */
  async settled() {
    while (this._pending.size) await Promise.allSettled([...this._pending]);
  }
  metrics(shardId = null) {
    const m = {};
    f.engine_metrics_init(m, koffi.sizeof(types.bp_engine_metrics));
    const rc = f.engine_get_metrics(this.ptr, shardId, m);
    if (rc !== 0) throw this._error(rc);
    const out = {};
    for (const k of METRIC_NAMES) {
      out[k.replace(/_([a-z])/g, (_, c) => c.toUpperCase())] = Number(m[k]);
    }
    return out;
  }
  checkpoint(shardId) {
    const buf = Buffer.alloc(160);
    const len = [0];
    const rc = f.engine_get_checkpoint(this.ptr, shardId, buf, buf.length, len);
    if (rc === 0) return buf.toString('utf8', 0, Number(len[0]));
    if (rc > 0) return null; // BP_STORE_NOT_FOUND: nothing passed yet
    throw this._error(rc);
  }
  shardState(shardId) {
    const s = f.engine_get_shard_state(this.ptr, shardId);
    if (s < 0) throw this._error(s);
    return SHARD_STATES[s];
  }
  /** Destroys the engine; requests still in flight are abandoned (their Promises ignored). */
  close() {
    if (this._closed) return;
    const rc = f.engine_del(this._ptr);
    if (rc !== 0) throw this._error(rc);
    this._closed = true;
    this._manual.clear();
    freeEngine.unregister(this);
    for (const cb of this._cbs) koffi.unregister(cb);
    if (this._store) this._store._release();
    this._store = null;
  }
}

/** What a host function returns to complete the request itself (complete()/reject()). */
const PENDING = Symbol('batchpoint.pending');
Engine.PENDING = PENDING;

module.exports = { Engine };
