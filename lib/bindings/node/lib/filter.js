// SPDX-License-Identifier: MIT
// Filter: Lambda FilterCriteria patterns (bp_filter), compiled once, matched against JSON
// events (text, Buffer or object) and against stream records through their filter view
// (SEMANTICS.md §7.2). A rejected pattern throws a ConfigError with Lambda's message
// ("Invalid filter pattern definition."), the code, and event-ruler's reason in `reason`.
'use strict';
const { g, Scratch } = require('./ffi_codec.js');
const { errorFor } = require('./errors.js');
const { Codec, writeRecords } = require('./codec.js');

const STRICT_LAMBDA = 0x1;
const INVALID_PATTERN = 'Invalid filter pattern definition.';
const RESULTS = ['no-match', 'match', 'dropped'];

const freeFilter = new FinalizationRegistry(({ ptr, sc }) => { g.filter_del(ptr); sc.free(); });

function patternText(p) {
  if (typeof p === 'string' || Buffer.isBuffer(p)) return Buffer.from(p);
  if (p instanceof Uint8Array) return Buffer.from(p.buffer, p.byteOffset, p.byteLength);
  return Buffer.from(JSON.stringify(p));
}

// A stream record as the engine hands it out (or a fetch completion takes it).
function isRecord(x) {
  return typeof x.seq === 'string' && typeof x.arrivalMs === 'number';
}

class Filter {
  /**
   * new Filter(...patterns): the patterns (JSON text, Buffer or object) are OR-ed; no pattern
   * matches every event. new Filter([patterns], options) takes options: strict (only the
   * operators Lambda documents), and for matching records the mapping's source,
   * eventSourceArn, invokeIdentityArn, awsRegion (the strings of the filter view).
   */
  constructor(...args) {
    let patterns = args;
    let options = {};
    if (Array.isArray(args[0])) { patterns = args[0]; options = args[1] || {}; }
    const out = [null];
    const rc = g.filter_new(out, options.strict ? STRICT_LAMBDA : 0, null);
    if (rc !== 0) throw errorFor(rc);
    this._ptr = out[0];
    this._sc = new Scratch(4096);
    this._matched = new Int32Array(1);
    this._options = options;
    this._codec = null;
    freeFilter.register(this, { ptr: this._ptr, sc: this._sc }, this);
    for (const p of patterns) this.add(p);
  }

  get ptr() {
    if (!this._ptr) throw new Error('Filter is closed');
    return this._ptr;
  }

  /** Compiles one more pattern (at most 10); throws ConfigError for an invalid one. */
  add(pattern) {
    const text = patternText(pattern);
    const rc = g.filter_add(this.ptr, text, text.length);
    if (rc === 0) return this;
    const reason = g.filter_errmsg(this._ptr);
    if (rc === -11) {
      throw errorFor(rc, INVALID_PATTERN, { reason, awsType: 'InvalidParameterValueException',
        httpStatus: 400 });
    }
    throw errorFor(rc, reason || undefined);
  }

  get size() { return this._ptr ? g.filter_count(this._ptr) : 0; }

  /**
   * True when some pattern matches: a JSON event (string, Buffer, Uint8Array, or an object,
   * serialised), or a stream record as Engine hands it out (seq, arrivalMs, data, ...), matched
   * through its filter view (a record dropped for non-JSON data does not match).
   */
  matches(x) {
    if (typeof x === 'string') {
      const sc = this._sc;
      if (3 * x.length > sc.size) sc.reserve(3 * x.length);
      return this._matchJson(sc.ptr, x.length ? sc.bytes.write(x, 0) : 0);
    }
    if (x instanceof Uint8Array) return this._matchJson(x, x.length);
    if (x !== null && typeof x === 'object' && isRecord(x)) return this.matchRecord(x) === 'match';
    return this.matches(JSON.stringify(x));
  }

  _matchJson(p, len) {
    const m = this._matched;
    const rc = g.filter_match_json(this.ptr, p, len, m);
    if (rc !== 0) throw errorFor(rc, g.filter_errmsg(this._ptr));
    return m[0] === 1;
  }

  /**
   * A stream record through its filter view: 'match', 'no-match' or 'dropped' (Kinesis data
   * that is not JSON while a pattern references data). shardId: the record's shard (the
   * Kinesis eventID prefix).
   */
  matchRecord(record, shardId = 'shardId-000000000000') {
    const ptr = this.ptr;
    if (!this._codec) this._codec = new Codec(this._options);
    const sc = this._codec._sc;
    writeRecords(sc, [record], false);
    const out = [0];
    const rc = g.filter_match_record(ptr, this._codec.ptr, shardId, sc.ptr, out);
    if (rc !== 0) throw errorFor(rc, g.codec_errmsg(this._codec.ptr) || g.filter_errmsg(ptr));
    return RESULTS[out[0]];
  }

  close() {
    if (!this._ptr) return;
    freeFilter.unregister(this);
    g.filter_del(this._ptr);
    this._sc.free();
    if (this._codec) this._codec.close();
    this._ptr = null;
  }
}

module.exports = { Filter, INVALID_PATTERN };
