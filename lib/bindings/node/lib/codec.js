// SPDX-License-Identifier: MIT
// The codec (bp_codec): Lambda's Kinesis / DynamoDB Streams event for a batch of records
// (encodeEvent), and the classification of a function's response against its batch
// (classifyResponse, SEMANTICS.md §3.4). A batch crosses into C as one bp_record array written
// straight into native memory (pointers into the same block), so encoding N records is one
// FFI call and no per-record object is made for koffi to convert; the library writes the event
// straight into JavaScript memory (a Buffer the Codec keeps, or the caller's).
'use strict';
const { koffi, types } = require('./ffi.js');
const { g, Scratch, types: ctypes } = require('./ffi_codec.js');
const { errorFor } = require('./errors.js');

const SOURCES = { kinesis: 1, dynamodb: 2 };
const OUTCOMES = ['success', 'partial', 'failure'];
const REASONS = ['none', 'not_reporting', 'empty', 'invalid_json', 'not_object',
  'failures_not_list', 'bad_item', 'unknown_identifier', 'state_missing'];
const REPORT_BATCH_ITEM_FAILURES = 0x1;
const REQUIRE_STATE = 0x2;
const DEFAULT_ARN = 'arn:aws:kinesis:us-east-1:123456789012:stream/stream';
const DEFAULT_ROLE = 'arn:aws:iam::123456789012:role/lambda-role';
const DEFAULT_SHARD = 'shardId-000000000000';

// bp_record as words of the native block: offsets of its members (checked by the layout test).
const R = types.bp_record;
const RS = koffi.sizeof(R);
const off = (m) => koffi.offsetof(R, m);
const O = {
  size: off('struct_size'), flags: off('flags'), arrival: off('arrival_ms'),
  seq: off('seq'), pk: off('partition_key'), data: off('data'), enc: off('encryption_type'),
  eventId: off('event_id'), eventName: off('event_name'), ddb: off('dynamodb_json'),
  user: off('user_identity_json'),
};
const TWO32 = 4294967296;
const GROW = Symbol('grow');
const BUFFER_TOO_SMALL = -3;
// An ASCII event (the usual one: JSON escapes control characters, and data is base64) is
// decoded as Latin-1, far cheaper than UTF-8 for the same string; isAscii is Node >= 18.15.
const { isAscii } = require('node:buffer');

/**
 * Writes records (the objects Engine hands out and fetch completions take: seq, arrivalMs,
 * partitionKey, data, dataBase64, encryptionType, eventId, eventName, dynamodb, userIdentity)
 * into sc as a bp_record array at offset 0 followed by their bytes. seqOnly: only seq (a
 * batch for classification; an element may then be the sequence number itself). Per member
 * JavaScript stores numbers into a Uint32Array (a pointer is the block's address + an
 * offset) and copies the bytes in (Buffer.write, TypedArray.set): no call into koffi.
 */
function writeRecords(sc, list, seqOnly) {
  const n = list.length;
  for (;;) {
    sc.reserve(n * RS + 64);
    try {
      return tryWrite(sc, list, n, seqOnly);
    } catch (e) {
      if (e !== GROW) throw e;
      sc.reserve(sc.size * 2);
    }
  }
}

function tryWrite(sc, list, n, seqOnly) {
  const { bytes, u32, addr, size } = sc;
  const lo = addr % TWO32;
  const hi = Math.floor(addr / TWO32);
  let pos = n * RS;
  bytes.fill(0, 0, pos);
  // One member: its bytes at pos, its pointer (addr + pos) and length at byte `at`.
  const put = (at, v) => {
    if (v === undefined || v === null) return;
    let len;
    if (typeof v === 'string') {
      if (pos + 3 * v.length > size) throw GROW;
      len = v.length ? bytes.write(v, pos) : 0;
    } else if (v instanceof Uint8Array) {
      if (pos + v.length > size) throw GROW;
      bytes.set(v, pos);
      len = v.length;
    } else {
      put(at, typeof v === 'object' ? JSON.stringify(v) : String(v));
      return;
    }
    const w = at >>> 2;
    const a = lo + pos;
    u32[w] = a >>> 0; // ToUint32: a modulo 2^32
    u32[w + 1] = a >= TWO32 ? hi + 1 : hi;
    u32[w + 2] = len; // its high word stays 0: the block is below 4 GiB
    pos += len;
  };
  for (let i = 0; i < n; i++) {
    const r = list[i];
    const rec = i * RS;
    u32[(rec + O.size) >>> 2] = RS;
    if (seqOnly && typeof r !== 'object') { put(rec + O.seq, String(r)); continue; }
    if (r === null || typeof r !== 'object') {
      throw new TypeError(`record ${i} is not an object`);
    }
    const seq = r.seq ?? r.sequenceNumber;
    put(rec + O.seq, seq === undefined || seq === null ? seq : String(seq));
    if (seqOnly) continue;
    if (r.dataBase64) u32[(rec + O.flags) >>> 2] = 1;
    const arrival = r.arrivalMs || 0;
    u32[(rec + O.arrival) >>> 2] = arrival % TWO32;
    u32[((rec + O.arrival) >>> 2) + 1] = Math.floor(arrival / TWO32);
    put(rec + O.pk, r.partitionKey);
    put(rec + O.data, r.data);
    put(rec + O.enc, r.encryptionType);
    put(rec + O.eventId, r.eventId);
    put(rec + O.eventName, r.eventName);
    put(rec + O.ddb, r.dynamodb);
    put(rec + O.user, r.userIdentity);
  }
  return n;
}

const freeCodec = new FinalizationRegistry(({ ptr, sc }) => { g.codec_del(ptr); sc.free(); });

class Codec {
  /**
   * @param {object} o source ('kinesis' | 'dynamodb', default from the ARN), eventSourceArn,
   *   invokeIdentityArn (the function's role, Kinesis), awsRegion (default: the ARN's),
   *   functionArn (on-failure records)
   */
  constructor({ eventSourceArn = DEFAULT_ARN, invokeIdentityArn = DEFAULT_ROLE, source,
    awsRegion = null, functionArn = null } = {}) {
    const src = source || (eventSourceArn.includes(':dynamodb:') ? 'dynamodb' : 'kinesis');
    if (!SOURCES[src]) throw new TypeError(`unknown source ${src}`);
    const o = {};
    g.codec_opts_init(o, koffi.sizeof(ctypes.bp_codec_opts));
    Object.assign(o, { source: SOURCES[src], event_source_arn: eventSourceArn,
      invoke_identity_arn: invokeIdentityArn, aws_region: awsRegion, function_arn: functionArn });
    const out = [null];
    const rc = g.codec_new(out, o, null);
    if (rc !== 0) throw errorFor(rc, `bp_codec_new: ${rc === -1 ? 'invalid options' : ''}`);
    this._ptr = out[0];
    this._sc = new Scratch(1 << 16);
    this._out = Buffer.alloc(0); // the event, written by the library (see encodeEvent)
    this._len = new BigUint64Array(1); // its length, written by the library
    this.source = src;
    freeCodec.register(this, { ptr: this._ptr, sc: this._sc }, this);
  }

  get ptr() {
    if (!this._ptr) throw new Error('Codec is closed');
    return this._ptr;
  }

  _check(rc) {
    if (rc !== 0) throw errorFor(rc, g.codec_errmsg(this._ptr));
  }

  /**
   * The event Lambda would send for `records` of `shardId`: a Buffer of its own (or, with
   * as: 'string', the text). window: { startMs, endMs, state, isFinal, isTerminatedEarly } for
   * a tumbling window event. The library writes the event into a Buffer this Codec keeps
   * (grown to the largest event, freed by close()); by default it is copied out of it.
   * copy: false returns that Buffer's first bytes instead (a subarray, no allocation): valid
   * until the next encodeEvent or close() on this Codec, which overwrite them (send it, then
   * encode the next). into: a Buffer or Uint8Array of the caller's the event is written
   * into instead (the result is a Buffer over its first bytes); one too small throws an
   * InvalidArgumentError (code -3) whose `needed` is the length, having written nothing.
   */
  encodeEvent(records, { shardId = DEFAULT_SHARD, window = null, as = 'buffer', copy = true,
    into = null } = {}) {
    const ptr = this.ptr;
    if (into !== null && !(into instanceof Uint8Array)) {
      throw new TypeError('into must be a Buffer or a Uint8Array');
    }
    const n = writeRecords(this._sc, records, false);
    let win = null;
    if (window) {
      win = {};
      g.window_fields_init(win, koffi.sizeof(ctypes.bp_window_fields));
      const st = window.state;
      const state = st === undefined || st === null ? null :
        Buffer.from(typeof st === 'string' || Buffer.isBuffer(st) ? st : JSON.stringify(st));
      Object.assign(win, { start_ms: window.startMs || 0, end_ms: window.endMs || 0,
        state_json: state, state_json_len: state ? state.length : 0,
        is_final: window.isFinal ? 1 : 0, is_terminated_early: window.isTerminatedEarly ? 1 : 0 });
    }
    const recs = n ? this._sc.ptr : null;
    const len = this._len;
    let dst = into || this._out;
    let rc = g.codec_encode_event_to(ptr, shardId, recs, n, win, dst, dst.length, len);
    if (rc === BUFFER_TOO_SMALL && !into) {
      dst = this._grow(Number(len[0]));
      rc = g.codec_encode_event_to(ptr, shardId, recs, n, win, dst, dst.length, len);
    }
    if (rc === BUFFER_TOO_SMALL) {
      throw errorFor(rc, g.codec_errmsg(ptr), { needed: Number(len[0]) });
    }
    this._check(rc);
    const nb = Number(len[0]);
    const ev = into ? Buffer.from(into.buffer, into.byteOffset, nb) : dst.subarray(0, nb);
    if (as === 'string') return ev.toString(isAscii && isAscii(ev) ? 'latin1' : 'utf8');
    if (into || !copy) return ev;
    const out = Buffer.allocUnsafe(nb);
    ev.copy(out);
    return out;
  }

  // The kept output Buffer, at least `need` bytes (powers of two from 64 KiB).
  _grow(need) {
    let cap = Math.max(1 << 16, this._out.length);
    while (cap < need) cap *= 2;
    this._out = Buffer.allocUnsafeSlow(cap);
    return this._out;
  }

  /**
   * Classifies a function's returned response body (Buffer or string) against its batch (the
   * records, or their sequence numbers, in shard order). Flags: reportBatchItemFailures
   * (default true), requireState (tumbling windows).
   */
  classifyResponse(batch, body, { reportBatchItemFailures = true, requireState = false } = {}) {
    const ptr = this.ptr;
    const b = body === undefined || body === null ? Buffer.alloc(0) :
      Buffer.isBuffer(body) ? body : Buffer.from(body);
    const n = writeRecords(this._sc, batch, true);
    const res = {};
    g.response_result_init(res, koffi.sizeof(ctypes.bp_response_result));
    const flags = (reportBatchItemFailures ? REPORT_BATCH_ITEM_FAILURES : 0) |
      (requireState ? REQUIRE_STATE : 0);
    this._check(g.codec_classify_response(ptr, b.length ? b : null, b.length,
      n ? this._sc.ptr : null, n, flags, res));
    const outcome = OUTCOMES[res.outcome] || String(res.outcome);
    const fi = Number(res.failed_index);
    const item = batch[fi];
    return {
      outcome, outcomeCode: res.outcome, reason: REASONS[res.reason] || String(res.reason),
      failedIndex: outcome === 'partial' ? fi : null,
      failedItemIdentifier: outcome === 'partial' ?
        String(typeof item === 'object' ? item.seq ?? item.sequenceNumber : item) : null,
      failedCount: Number(res.failed_count),
      state: res.has_state ? b.toString('utf8', Number(res.state_offset),
        Number(res.state_offset) + Number(res.state_len)) : null,
      message: g.codec_errmsg(ptr) || null,
    };
  }

  close() {
    if (!this._ptr) return;
    freeCodec.unregister(this);
    g.codec_del(this._ptr);
    this._sc.free();
    this._out = null;
    this._ptr = null;
  }
}

// encodeEvent / classifyResponse without a Codec: one per distinct set of codec options, kept.
const codecs = new Map();
const CODEC_KEYS = ['eventSourceArn', 'invokeIdentityArn', 'source', 'awsRegion', 'functionArn'];
function codecFor(opts) {
  const key = CODEC_KEYS.map((k) => opts[k] ?? '').join('\n');
  let c = codecs.get(key);
  if (!c) {
    if (codecs.size >= 16) codecs.delete(codecs.keys().next().value);
    const o = {};
    for (const k of CODEC_KEYS) if (opts[k] !== undefined) o[k] = opts[k];
    c = new Codec(o);
    codecs.set(key, c);
  }
  return c;
}

/** Codec(opts).encodeEvent(records, opts) with a kept codec (see Codec). */
function encodeEvent(records, opts = {}) { return codecFor(opts).encodeEvent(records, opts); }
/** Codec(opts).classifyResponse(batch, body, opts) with a kept codec. */
function classifyResponse(batch, body, opts = {}) {
  return codecFor(opts).classifyResponse(batch, body, opts);
}

module.exports = { Codec, encodeEvent, classifyResponse, writeRecords, codecFor };
