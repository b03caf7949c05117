// SPDX-License-Identifier: MIT
// The function side (bp_handler), in the idiom of Powertools for TypeScript's batch utility:
//
//   const { processPartialResponse } = require('batchpoint');
//   exports.handler = (event, context) =>
//     processPartialResponse(event, async (record) => { JSON.parse(record.data); }, { context });
//
// A record handler that throws (or rejects) fails its record; the answer is
// {batchItemFailures: [{itemIdentifier}, ...]} exactly as bp_handler builds it; when every
// record of a non-empty event fails, a BatchFailedError (Powertools' FullBatchFailureError) is
// thrown, carrying `response` and `recordErrors`. Event parsing and checking, the response and
// the stop-at-first-failure / KPL de-aggregation rules are the library's.
//
// bp_handler calls its callback synchronously, so the asynchronous form makes two passes over
// the event: the first copies the records out (HandlerRecord), the handlers then run (in
// parallel unless told otherwise), and the second pass hands each record's outcome back so the
// library writes the response.
'use strict';
const { koffi, text, bytes } = require('./ffi.js');
const { g, handler_cb, HANDLER_STRINGS_A, HANDLER_STRINGS_B, types } = require('./ffi_codec.js');
const { errorFor, BatchFailedError } = require('./errors.js');

const STOP_AT_FIRST_FAILURE = 0x1;
const DEAGGREGATE = 0x2;
const BATCH_FAILED = -21;
const SOURCES = [null, 'kinesis', 'dynamodb'];
const HR = types.bp_handler_record;
const HR_SIZE = koffi.sizeof(HR);

const camel = (m) => m.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
// bp_handler_record string members -> HandlerRecord properties (JSON spans end in Json).
const STRING_FIELDS = [...HANDLER_STRINGS_A, ...HANDLER_STRINGS_B, 'explicit_hash_key']
  .filter((m) => m !== 'data' && m !== 'seq')
  .map((m) => [m, camel(m), koffi.offsetof(HR, `${m}_len`) + 8]);

/**
 * One record of the event, copied out of the library (so it stays valid in async handlers):
 * index, source ('kinesis' | 'dynamodb'), sequenceNumber, arrivalMs, data (Buffer, base64-
 * decoded: the user record's when de-aggregated), the envelope strings (eventId, eventName,
 * eventSource, eventSourceArn, awsRegion, eventVersion, invokeIdentityArn), Kinesis
 * partitionKey, kinesisSchemaVersion, encryptionType, dataBase64, explicitHashKey, DynamoDB
 * JSON text dynamodbJson, keysJson, newImageJson, oldImageJson, userIdentityJson,
 * streamViewType, sizeBytes, and aggregated / subSequenceNumber (KPL). Absent members are null.
 */
class HandlerRecord {
  constructor(r) {
    const covers = (end) => r.struct_size >= end;
    this.index = Number(r.index);
    this.source = SOURCES[r.source] || null;
    this.sequenceNumber = text(r.seq, r.seq_len);
    this.arrivalMs = Number(r.arrival_ms);
    this.data = r.data ? bytes(r.data, r.data_len) :
      this.source === 'kinesis' ? Buffer.alloc(0) : null;
    for (const [m, js, end] of STRING_FIELDS) {
      this[js] = covers(end) && r[m] ? text(r[m], r[`${m}_len`]) : null;
    }
    this.sizeBytes = this.source === 'dynamodb' ? Number(r.size_bytes) : null;
    this.aggregated = !!r.aggregated;
    this.subSequenceNumber = r.aggregated ? r.sub_sequence_number : null;
  }

  /** data parsed as JSON. */
  json() { return JSON.parse(this.data); }
}
Object.defineProperty(HandlerRecord.prototype, 'seq', { get() { return this.sequenceNumber; } });

function eventBytes(event) {
  if (Buffer.isBuffer(event)) return event;
  if (event instanceof Uint8Array) return Buffer.from(event.buffer, event.byteOffset, event.byteLength);
  return Buffer.from(typeof event === 'string' ? event : JSON.stringify(event));
}

function describe(err) {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

const freeHandler = new FinalizationRegistry((ptr) => g.handler_del(ptr));

class BatchProcessor {
  /**
   * A reusable bp_handler (one per Lambda container). stopAtFirstFailure: after the first
   * failed record no further handler runs and every later record is reported failed (records
   * are then processed one at a time); deaggregate: KPL aggregates are handed over as their
   * user records. After each process, `failures` lists {index, itemIdentifier, error}.
   */
  constructor({ stopAtFirstFailure = false, deaggregate = false } = {}) {
    const o = {};
    g.handler_opts_init(o, koffi.sizeof(types.bp_handler_opts));
    o.flags = (stopAtFirstFailure ? STOP_AT_FIRST_FAILURE : 0) | (deaggregate ? DEAGGREGATE : 0);
    const out = [null];
    const rc = g.handler_new(out, o, null);
    if (rc !== 0) throw errorFor(rc);
    this._ptr = out[0];
    this.stopAtFirstFailure = stopAtFirstFailure;
    this.failures = [];
    freeHandler.register(this, this._ptr, this);
  }

  get ptr() {
    if (!this._ptr) throw new Error('BatchProcessor is closed');
    return this._ptr;
  }

  // One bp_handler_process with fn(h, recPtr) -> 0 | 1; returns [rc, response text or null].
  _run(event, fn) {
    const ptr = this.ptr;
    const cb = koffi.register((h, p) => fn(h, p), koffi.pointer(handler_cb));
    const out = [null];
    const len = [0];
    let rc;
    try {
      rc = g.handler_process(ptr, event, event.length, cb, null, out, len);
    } finally {
      koffi.unregister(cb);
    }
    if (rc !== 0 && rc !== BATCH_FAILED) throw errorFor(rc, g.handler_errmsg(ptr));
    const n = Number(len[0]);
    return [rc, Buffer.from(koffi.view(out[0], n)).toString('utf8')];
  }

  _fail(h, err, idx) {
    const msg = Buffer.from(describe(err).slice(0, 4096));
    g.handler_fail_reason(h, msg, msg.length);
    this.failures.push(idx);
  }

  _answer(rc, textOut, errors, throwOnFull) {
    const response = JSON.parse(textOut);
    if (rc === BATCH_FAILED && throwOnFull) {
      throw new BatchFailedError(BATCH_FAILED, `All records failed processing. ${errors.length} ` +
        'individual errors logged separately below.', { response, recordErrors: errors });
    }
    return response;
  }

  /**
   * Runs the async (or sync) handler(record, context) over the event (object, JSON text or
   * Buffer) and resolves to {batchItemFailures}. processInParallel (default true, as
   * Powertools): the handlers run concurrently; false: one after the other.
   */
  async process(event, handler, { processInParallel = true, throwOnFullBatchFailure = true,
    context } = {}) {
    const ev = eventBytes(event);
    const records = [];
    this.failures = [];
    this._run(ev, (h, p) => { records.push(new HandlerRecord(koffi.decode(p, HR))); return 0; });
    const errors = new Array(records.length).fill(undefined);
    const call = async (r) => handler(r, context);
    if (processInParallel && !this.stopAtFirstFailure) {
      const settled = await Promise.allSettled(records.map(call));
      settled.forEach((s, i) => { if (s.status === 'rejected') errors[i] = s.reason ?? new Error('rejected'); });
    } else {
      for (let i = 0; i < records.length; i++) {
        try { await call(records[i]); } catch (err) {
          errors[i] = err ?? new Error('rejected');
          if (this.stopAtFirstFailure) break;
        }
      }
    }
    let k = 0;
    const [rc, out] = this._run(ev, (h, p) => {
      const i = k++;
      if (errors[i] === undefined) return 0;
      this._fail(h, errors[i], { index: records[i].index,
        itemIdentifier: records[i].sequenceNumber, error: errors[i] });
      return 1;
    });
    return this._answer(rc, out, errors.filter((e) => e !== undefined), throwOnFullBatchFailure);
  }

  /** The synchronous form: handler(record, context) runs inside the library's callback. */
  processSync(event, handler, { throwOnFullBatchFailure = true, context } = {}) {
    const ev = eventBytes(event);
    const errors = [];
    this.failures = [];
    const [rc, out] = this._run(ev, (h, p) => {
      const rec = new HandlerRecord(koffi.decode(p, HR));
      try {
        const v = handler(rec, context);
        if (v && typeof v.then === 'function') {
          throw new TypeError('the record handler returned a Promise: use process()');
        }
        return 0;
      } catch (err) {
        errors.push(err);
        this._fail(h, err, { index: rec.index, itemIdentifier: rec.sequenceNumber, error: err });
        return 1;
      }
    });
    return this._answer(rc, out, errors, throwOnFullBatchFailure);
  }

  close() {
    if (!this._ptr) return;
    freeHandler.unregister(this);
    g.handler_del(this._ptr);
    this._ptr = null;
  }
}

/**
 * Powertools' processPartialResponse: handler(record, context) over the event, resolving to
 * {batchItemFailures}. Options: processor (a BatchProcessor to reuse), stopAtFirstFailure,
 * deaggregate (for a processor made here), processInParallel, throwOnFullBatchFailure, context.
 */
async function processPartialResponse(event, handler, options = {}) {
  const p = options.processor || new BatchProcessor(options);
  try {
    return await p.process(event, handler, options);
  } finally {
    if (!options.processor) p.close();
  }
}

/** processPartialResponse for a synchronous handler (Powertools' processPartialResponseSync). */
function processPartialResponseSync(event, handler, options = {}) {
  const p = options.processor || new BatchProcessor(options);
  try {
    return p.processSync(event, handler, options);
  } finally {
    if (!options.processor) p.close();
  }
}

module.exports = {
  BatchProcessor, HandlerRecord, processPartialResponse, processPartialResponseSync, HR_SIZE,
};
