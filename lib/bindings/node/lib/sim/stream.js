// SPDX-License-Identifier: MIT
// The records of a scenario's simulated stream, checked field by field (errors name the JSON
// path) and grouped by shard, each as the record object the binding's fetch completion takes.
// A scenario gives them inline (`stream`) or as `stream_file`: an NDJSON file relative to the
// scenario file, one record a line (blank lines skipped); errors there read
// `scenarios[0].stream_file poison.ndjson line 3: seq: not a decimal string`.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const J = require('./json.js');
const { isSeq, seqCmp } = require('./match.js');

const TIME_MAX_MS = 253402300799999;
const MAX_ID_LEN = 128; // BP_STORE_MAX_ID_LEN

// Kinesis payload bytes: `data` (UTF-8 text) or `data_fill` {prefix, char, length}.
function data(l, rec) {
  const d = rec.get('data');
  const fill = rec.get('data_fill');
  if ((d !== undefined) === (fill !== undefined)) l.fail("exactly one of 'data' and 'data_fill' expected");
  if (d !== undefined) {
    if (!J.isStr(d)) l.at('data', () => l.fail(`a string expected, got ${J.typeName(d)}`));
    return Buffer.from(d, 'utf8');
  }
  return l.at('data_fill', () => {
    if (!J.isObj(fill)) l.fail(`an object expected, got ${J.typeName(fill)}`);
    const prefix = Buffer.from(l.string(fill, 'prefix', false) || '', 'utf8');
    const chs = l.string(fill, 'char', true);
    const length = l.int(fill, 'length', true, 0, 64 << 20);
    if (!chs) l.fail('char: empty');
    const ch = Buffer.from(chs, 'utf8');
    if (prefix.length > length) l.fail('prefix longer than length');
    if ((length - prefix.length) % ch.length) l.fail('char does not fill length exactly');
    const out = Buffer.alloc(length);
    prefix.copy(out, 0);
    if (length > prefix.length) out.fill(ch, prefix.length);
    return out;
  });
}

const KINESIS = ['label', 'shard', 'seq', 'partition_key', 'arrival_ms', 'data', 'data_fill'];
const DYNAMODB = ['label', 'shard', 'seq', 'partition_key', 'arrival_ms', 'event_name',
  'event_id', 'dynamodb', 'user_identity'];

/** One record: { label, shard, seq, arrivalMs, view } (view: what complete() is given). */
function record(l, s, rec, i) {
  if (!J.isObj(rec)) l.fail(`an object expected, got ${J.typeName(rec)}`);
  l.known(rec, s.dynamodb ? DYNAMODB : KINESIS, s.dynamodb ? 'DynamoDB record' : 'Kinesis record');
  const label = l.string(rec, 'label', false);
  const shard = l.string(rec, 'shard', true);
  const seq = l.member(rec, 'seq', 'any', true);
  l.at('seq', () => l.seqVal(seq));
  if (!shard || Buffer.byteLength(shard) > MAX_ID_LEN) l.at('shard', () => l.fail('bad shard id'));
  const arrivalMs = l.int(rec, 'arrival_ms', true, 0, TIME_MAX_MS);
  const pk = l.string(rec, 'partition_key', !s.dynamodb);
  const r = { label: label !== undefined ? label : `#${i}`, shard, seq, arrivalMs };
  r.view = { seq, arrivalMs, partitionKey: pk !== undefined ? pk : '' };
  if (!s.dynamodb) {
    r.view.data = data(l, rec);
    return r;
  }
  const name = l.string(rec, 'event_name', true);
  const id = l.string(rec, 'event_id', true);
  const ddb = l.member(rec, 'dynamodb', 'object', true);
  const ui = l.member(rec, 'user_identity', 'object', false);
  if (!['INSERT', 'MODIFY', 'REMOVE'].includes(name)) {
    l.at('event_name', () => l.fail(`INSERT, MODIFY or REMOVE expected, got "${name}"`));
  }
  Object.assign(r.view, { eventId: id, eventName: name, dynamodb: J.text(ddb) });
  if (ui !== undefined) r.view.userIdentity = J.text(ui);
  return r;
}

// Runs fn with the loader's messages pointing at record i (`stream[i]`, or the NDJSON line).
function atRecord(l, src, i, fn) {
  const saved = l.path;
  if (src.lines) {
    l.line = `${saved}.stream_file ${src.file} line ${src.lines[i]}`;
    l.path = '';
  } else {
    l.path = `${saved}${saved ? '.' : ''}stream[${i}]`;
  }
  try { return fn(); } finally { l.path = saved; l.line = ''; }
}

function readNdjson(l, name) {
  const src = { nodes: [], lines: [], file: name };
  const text = l.at('stream_file', () => {
    if (!name) l.fail('empty');
    const p = path.isAbsolute(name) ? name : path.join(l.dir, name);
    try { return fs.readFileSync(p, 'utf8'); } catch (err) { return l.fail(`${name}: ${err.message}`); }
  });
  text.split('\n').forEach((raw, n) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (!/[^ \t]/.test(line)) return;
    src.lines.push(n + 1);
    let v;
    try { v = J.parse(line); } catch (err) {
      atRecord(l, src, src.lines.length - 1, () => l.fail(err.message.replace(/^line 1 /, '')));
    }
    src.nodes.push(v);
  });
  return src;
}

/** The records of scenario @p s from `stream` or `stream_file` (exactly one given), grouped
 *  by shard in order of first appearance. @return { recs, shards: [{ id, recs }] }. */
function loadStream(l, s, stream, file) {
  if ((stream !== undefined) === (file !== undefined)) {
    l.at(file !== undefined ? 'stream_file' : 'stream', () => l.fail(file !== undefined
      ? "give 'stream' or 'stream_file', not both" : "missing (or give 'stream_file')"));
  }
  const src = file !== undefined ? readNdjson(l, file) : { nodes: stream, lines: null };
  const recs = src.nodes.map((node, i) => atRecord(l, src, i, () => record(l, s, node, i)));
  const shards = [];
  const byId = new Map();
  recs.forEach((r, i) => {
    let sh = byId.get(r.shard);
    if (!sh) {
      sh = { id: r.shard, recs: [] };
      byId.set(r.shard, sh);
      shards.push(sh);
    }
    const prev = sh.recs[sh.recs.length - 1];
    if (prev && seqCmp(prev.seq, r.seq) >= 0) {
      atRecord(l, src, i, () => l.at('seq', () =>
        l.fail(`not above the previous record of shard ${r.shard} (shard order is ascending)`)));
    }
    sh.recs.push(r);
  });
  const bySeq = new Map();
  for (const r of recs) if (!bySeq.has(r.seq)) bySeq.set(r.seq, r);
  return { recs, shards, bySeq };
}

/** The record with this sequence number (numeric equality), or null. */
function findRecord(s, seq) {
  if (!s || !isSeq(seq)) return s ? s.recs.find((r) => seqCmp(r.seq, seq) === 0) || null : null;
  return s.bySeq.get(seq) || null;
}

module.exports = { loadStream, findRecord };
