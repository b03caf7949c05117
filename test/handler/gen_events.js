// SPDX-License-Identifier: MIT
// The events of the Powertools conformance test (check_powertools_conformance.sh), written to
// OUT/events.txt (one event a line: its raw text, which has no newline) and OUT/meta.ndjson
// (the same line of each: {"cat","name", ...}):
//   cat "valid"     the response must equal Powertools' byte for byte (modulo whitespace);
//   cat "window"    a tumbling-window event: ours must be Powertools' response with the
//                   event's own state in front ({"state":<meta.state>,...}), as SEMANTICS.md §6
//                   asks of a window response;
//   cat "malformed" ours must reject the event (a malformed-event error); Powertools'
//                   outcome is recorded and, when meta.pt says "rejects" or "accepts", checked.
// Sources: the seed samples of test/data, the events of the scenario files (every expected
// event written out in them, and every shard's stream cut in batches), randomized Kinesis and
// DynamoDB events with failing records (escapes, unicode, non-JSON data, shuffled members,
// whitespace), tumbling-window events, and malformed events (hand-written and mutated).
//
// Usage: node gen_events.js OUTDIR [SEED] [N]   (N random events of each kind; 200 by default)
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..', '..');
const outDir = process.argv[2];
if (!outDir) {
  process.stderr.write('usage: node gen_events.js OUTDIR [SEED] [N]\n');
  process.exit(2);
}
let seed = Number(process.argv[3] || 14) >>> 0;
const N = Number(process.argv[4] || 200);

// mulberry32: reproducible for a seed
function rnd() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n) => Math.floor(rnd() * n);
const pick = (a) => a[int(a.length)];
const chance = (p) => rnd() < p;

const events = [];
const metas = [];
function add(text, meta) {
  if (text.includes('\n')) throw new Error(`event ${meta.name} has a newline`);
  events.push(text);
  metas.push(meta);
}

// ---- a JSON writer with random (valid) spellings -------------------------------------
const hex4 = (c) => {
  const h = c.toString(16).padStart(4, '0');
  return chance(0.5) ? h : h.toUpperCase();
};
// A JSON string: every character that must be escaped is, others sometimes are (\uXXXX,
// surrogate pairs for astral characters, \/).
function jstr(s, fancy) {
  let o = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (ch === '"') o += '\\"';
    else if (ch === '\\') o += '\\\\';
    else if (c < 0x20) {
      const short = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' }[c];
      o += short && chance(0.5) ? short : '\\u' + hex4(c);
    } else if (!fancy) o += ch;
    else if (ch === '/' && chance(0.3)) o += '\\/';
    else if (c > 0xffff && chance(0.5)) {
      const v = c - 0x10000;
      o += '\\u' + hex4(0xd800 + (v >> 10)) + '\\u' + hex4(0xdc00 + (v & 0x3ff));
    } else if ((c > 0x7e || chance(0.05)) && c <= 0xffff && chance(0.4)) o += '\\u' + hex4(c);
    else o += ch;
  }
  return o + '"';
}
const ws = (fancy) => (fancy && chance(0.15) ? pick([' ', '  ', '\t', ' \t ']) : '');
// An object from [key, valueText] pairs, in order or shuffled, with optional whitespace.
function jobj(pairs, fancy) {
  const p = pairs.slice();
  if (fancy && chance(0.3)) for (let i = p.length - 1; i > 0; i--) { const j = int(i + 1); [p[i], p[j]] = [p[j], p[i]]; }
  return '{' + ws(fancy) + p.map(([k, v]) => jstr(k, fancy) + ws(fancy) + ':' + ws(fancy) + v + ws(fancy)).join(',' + ws(fancy)) + '}';
}
const jarr = (items, fancy) => '[' + ws(fancy) + items.join(',' + ws(fancy)) + ws(fancy) + ']';

// ---- random values -------------------------------------------------------------------
const ALPHABET = ['a', 'b', 'Z', '0', '9', '-', '_', ' ', '/', '"', '\\', '\n', '\t', '\u0001', '\u001f',
  'é', 'ß', '中', '文', '\u2028', '\u00a0', '😀', '𝄞', '\u007f', 'F', 'A', 'I', 'L', '{', '}', ':'];
function rstr(max) {
  let s = '';
  for (let n = 1 + int(max); n > 0; n--) s += pick(ALPHABET);
  return s;
}
function digits(n) {
  let s = String(1 + int(9));
  while (s.length < n) s += String(int(10));
  return s;
}
// Ascending sequence numbers of one shard (same length, so string order is numeric order).
function seqs(n, len) {
  const base = digits(len - 6);
  let x = int(1000);
  const out = [];
  for (let i = 0; i < n; i++) { x += 1 + int(5000); out.push(base + String(x).padStart(6, '0')); }
  return out;
}
function arrival(fancy) {
  const ms = 1700000000000 + int(1e10);
  const s = Math.floor(ms / 1000);
  if (fancy && chance(0.1)) return String(s);
  if (fancy && chance(0.1)) return `${s}.${String(ms % 1000).padStart(3, '0')}${int(10)}${int(10)}${int(10)}`;
  return `${s}.${String(ms % 1000).padStart(3, '0')}`;
}
// Kinesis data bytes: JSON (sometimes "fail":true), text (sometimes FAIL), binary, empty.
function kdata() {
  switch (int(7)) {
    case 0: return Buffer.from(JSON.stringify({ k: 'k' + int(9), i: int(1e6), fail: chance(0.3) }));
    case 1: return Buffer.from(JSON.stringify({ k: rstr(8), v: rstr(20), n: rnd() }));
    case 2: return Buffer.from(pick(['plain text ', 'FAIL ', 'fail ', 'xFAILx', 'FAI L']) + rstr(30));
    case 3: { const b = Buffer.alloc(int(64)); for (let i = 0; i < b.length; i++) b[i] = int(256); return b; }
    case 4: return Buffer.alloc(0);
    case 5: return Buffer.from('{"fail":true}');
    default: return Buffer.from(JSON.stringify({ id: int(1e9), body: 'x'.repeat(int(200)) }));
  }
}

const REGIONS = ['us-east-1', 'eu-west-3', 'ap-southeast-2'];
function kinesisRecord(seq, shard, region, fancy, data) {
  const arn = `arn:aws:kinesis:${region}:111111111111:stream/s-${shard.slice(-2)}`;
  const kin = [['kinesisSchemaVersion', jstr('1.0', fancy)], ['partitionKey', jstr(rstr(24), fancy)],
    ['sequenceNumber', jstr(seq, fancy && chance(0.1))], ['data', jstr((data || kdata()).toString('base64'), false)],
    ['approximateArrivalTimestamp', arrival(fancy)]];
  if (chance(0.2)) kin.push(['encryptionType', jstr('KMS', fancy)]);
  const rec = [['kinesis', jobj(kin, fancy)], ['eventSource', jstr('aws:kinesis', fancy)],
    ['eventVersion', jstr('1.0', fancy)], ['eventID', jstr(`${shard}:${seq}`, fancy)],
    ['eventName', jstr('aws:kinesis:record', fancy)],
    ['invokeIdentityArn', jstr('arn:aws:iam::111111111111:role/fn-role', fancy)],
    ['awsRegion', jstr(region, fancy)], ['eventSourceARN', jstr(arn, fancy)]];
  if (fancy && chance(0.1)) rec.push(['x-unknown', pick(['null', '[1,{"a":[]}]', '{"kinesis":7}', '"é"'])]);
  return jobj(rec, fancy);
}

// DynamoDB typed values
function ddbValue(depth, fancy) {
  switch (int(depth > 1 ? 6 : 10)) {
    case 0: return jobj([['S', jstr(rstr(12), fancy)]], fancy);
    case 1: return jobj([['N', jstr(pick(['42', '-1.5E3', '0', '3.14159', '1e-7']), false)]], fancy);
    case 2: return jobj([['B', jstr(kdata().toString('base64'), false)]], fancy);
    case 3: return jobj([['BOOL', pick(['true', 'false'])]], fancy);
    case 4: return jobj([['NULL', 'true']], fancy);
    case 5: return jobj([['SS', jarr(['"a"', jstr(rstr(5), fancy)], fancy)]], fancy);
    case 6: return jobj([['M', ddbItem(depth + 1, fancy, false)]], fancy);
    case 7: return jobj([['L', jarr([ddbValue(depth + 1, fancy), ddbValue(depth + 1, fancy)], fancy)]], fancy);
    case 8: return jobj([['NS', jarr(['"1"', '"2.5"'], fancy)]], fancy);
    default: return jobj([['BS', jarr(['"Zm9v"', '"YmFy"'], fancy)]], fancy);
  }
}
// failMode: false / 'true' / 'false' / 'string' / 'nested' / 'dup-true' / 'dup-false'
function ddbItem(depth, fancy, failMode) {
  const pairs = [['pk', jobj([['S', jstr(rstr(10), fancy)]], fancy)]];
  for (let n = int(4); n > 0; n--) pairs.push(['a' + int(100), ddbValue(depth, fancy)]);
  const t = jobj([['BOOL', 'true']], fancy), f = jobj([['BOOL', 'false']], fancy);
  if (failMode === 'true') pairs.push(['fail', t]);
  else if (failMode === 'false') pairs.push(['fail', f]);
  else if (failMode === 'string') pairs.push(['fail', jobj([['S', '"true"']], fancy)]);
  else if (failMode === 'nested') pairs.push(['inner', jobj([['M', jobj([['fail', t]], fancy)]], fancy)]);
  else if (failMode === 'dup-true') pairs.push(['fail', f], ['fail', t]);
  else if (failMode === 'dup-false') pairs.push(['fail', t], ['fail', f]);
  return jobj(pairs, fancy);
}
function ddbRecord(seq, region, fancy) {
  const name = pick(['INSERT', 'MODIFY', 'REMOVE']);
  const view = pick(['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES']);
  const failMode = pick([false, false, 'true', 'true', 'false', 'string', 'nested', 'dup-true', 'dup-false']);
  const d = [['ApproximateCreationDateTime', arrival(fancy)],
    ['Keys', jobj([['pk', jobj([['S', jstr(rstr(10), fancy)]], fancy)]], fancy)]];
  if (name !== 'REMOVE' && (view === 'NEW_IMAGE' || view === 'NEW_AND_OLD_IMAGES')) d.push(['NewImage', ddbItem(0, fancy, failMode)]);
  if (name !== 'INSERT' && (view === 'OLD_IMAGE' || view === 'NEW_AND_OLD_IMAGES')) d.push(['OldImage', ddbItem(0, fancy, pick([false, 'true']))]);
  d.push(['SequenceNumber', jstr(seq, false)], ['SizeBytes', String(20 + int(400))], ['StreamViewType', jstr(view, fancy)]);
  const arn = `arn:aws:dynamodb:${region}:111111111111:table/t1/stream/2025-11-25T14:00:00.000`;
  const rec = [['eventID', jstr(digits(32), fancy)], ['eventName', jstr(name, fancy)], ['eventVersion', jstr('1.1', fancy)],
    ['eventSource', jstr('aws:dynamodb', fancy)], ['awsRegion', jstr(region, fancy)], ['dynamodb', jobj(d, fancy)],
    ['eventSourceARN', jstr(arn, fancy)]];
  if (name === 'REMOVE' && chance(0.3)) rec.push(['userIdentity', '{"type":"Service","principalId":"dynamodb.amazonaws.com"}']);
  return jobj(rec, fancy);
}

function randomKinesisEvent(n, fancy) {
  const shard = 'shardId-0000000000' + String(int(100)).padStart(2, '0');
  const region = pick(REGIONS);
  const s = seqs(n, pick([21, 56, 56, 80]));
  return '{' + ws(fancy) + '"Records":' + jarr(s.map((q) => kinesisRecord(q, shard, region, fancy)), fancy) + '}';
}
function randomDdbEvent(n, fancy) {
  const region = pick(REGIONS);
  const s = seqs(n, 21);
  return '{"Records":' + jarr(s.map((q) => ddbRecord(q, region, fancy)), fancy) + '}';
}
function windowEvent(records, state, final) {
  const start = 1607497440 + 120 * int(1000);
  const iso = (t) => new Date(t * 1000).toISOString().replace('.000Z', 'Z');
  return `{"Records":[${records.join(',')}],"window":{"start":"${iso(start)}","end":"${iso(start + 120)}"},` +
    `"state":${state},"shardId":"shardId-000000000006","eventSourceARN":"arn:aws:kinesis:us-east-1:111111111111:stream/s1",` +
    `"isFinalInvokeForWindow":${final},"isWindowTerminatedEarly":${chance(0.1)}}`;
}

// ---- 1. seed samples ----------------------------------------------------------------------
// The ```json block of each seed page holding "Records", on one line.
for (const [file, cat, pt] of [['001_c18a7f979ab6fc2b.txt', 'valid'], ['002_8e67dc656fb60d3d.txt', 'malformed', 'accepts']]) {
  const doc = fs.readFileSync(path.join(root, 'test/data', file), 'utf8');
  const blocks = doc.split('```').filter((b, i) => i % 2 === 1 && b.includes('"Records"'));
  blocks.forEach((b, i) => {
    const text = b.replace(/^json\s*/, '').trim().replace(/\s*\n\s*/g, ' ');
    add(text, { cat, name: `seed ${file} block ${i}`, ...(pt ? { pt, why: 'data abbreviated with [...]: not base64' } : {}) });
  });
}

// ---- 2. the scenario files' events --------------------------------------------------------
function scenarioFiles() {
  const dirs = [['test/data', /^esm-scenarios\.json$/], ['test/scenarios', /\.json$/], ['examples/scenarios', /\.json$/]];
  const out = [];
  for (const [d, re] of dirs)
    for (const f of fs.readdirSync(path.join(root, d)).sort()) if (re.test(f)) out.push(path.join(root, d, f));
  return out;
}
function streamRecords(file, s) {
  if (s.stream) return s.stream;
  if (s.stream_file)
    return fs.readFileSync(path.resolve(path.dirname(file), s.stream_file), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  return [];
}
function walkEquals(x, found) {
  if (Array.isArray(x)) x.forEach((y) => walkEquals(y, found));
  else if (x && typeof x === 'object') {
    if (Array.isArray(x.Records)) found.push(x);
    else Object.values(x).forEach((y) => walkEquals(y, found));
  }
}
// An expected event with its matchers resolved: {"$rfc3339_instant": T} is the instant T;
// an event with any other matcher ($regex, $any, ...) stands for many: undefined (skipped).
function concrete(x) {
  if (Array.isArray(x)) {
    const a = x.map(concrete);
    return a.includes(undefined) ? undefined : a;
  }
  if (!x || typeof x !== 'object') return x;
  const keys = Object.keys(x);
  if (keys.some((k) => k.startsWith('$'))) return keys.length === 1 && keys[0] === '$rfc3339_instant' ? x[keys[0]] : undefined;
  const o = {};
  for (const k of keys) if ((o[k] = concrete(x[k])) === undefined) return undefined;
  return o;
}
for (const file of scenarioFiles()) {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  const env = doc.environment || {};
  const rel = path.relative(root, file);
  for (const s of doc.scenarios || []) {
    // Events written out in the scenario (expected events, function inputs).
    const found = [];
    walkEquals(s.expect || {}, found);
    (s.mappings || []).forEach((m) => walkEquals(m.expect || {}, found));
    found.map(concrete).forEach((e, i) => {
      if (e === undefined) return;
      add(JSON.stringify(e), e.window ? { cat: 'window', name: `${rel} ${s.id} event ${i}`, state: JSON.stringify(e.state || {}) }
        : { cat: 'valid', name: `${rel} ${s.id} event ${i}` });
    });
    // The stream, per shard, in batches of 10 records.
    const byShard = new Map();
    for (const r of streamRecords(file, s)) {
      if (!byShard.has(r.shard)) byShard.set(r.shard, []);
      byShard.get(r.shard).push(r);
    }
    const cfg = s.config || (s.mappings && s.mappings[0].config) || {};
    const arn = cfg.EventSourceArn || env.kinesis_stream_arn || 'arn:aws:kinesis:us-east-1:111111111111:stream/s1';
    const region = arn.split(':')[3];
    for (const [shard, recs] of byShard) {
      for (let i = 0; i < recs.length; i += 10) {
        const batch = recs.slice(i, i + 10).map((r) => {
          const secs = `${Math.floor(r.arrival_ms / 1000)}.${String(r.arrival_ms % 1000).padStart(3, '0')}`;
          if (s.source_kind === 'dynamodb') {
            const d = { ApproximateCreationDateTime: 0, ...r.dynamodb, SequenceNumber: r.seq };
            const dj = JSON.stringify(d).replace('"ApproximateCreationDateTime":0', `"ApproximateCreationDateTime":${secs}`);
            return `{"eventID":${JSON.stringify(r.event_id)},"eventName":${JSON.stringify(r.event_name)},"eventVersion":"1.1",` +
              `"eventSource":"aws:dynamodb","awsRegion":"${region}","dynamodb":${dj},"eventSourceARN":${JSON.stringify(arn)}` +
              (r.user_identity ? `,"userIdentity":${JSON.stringify(r.user_identity)}` : '') + '}';
          }
          const data = r.data_fill ? r.data_fill.prefix + r.data_fill.char.repeat(Math.max(0, r.data_fill.length - r.data_fill.prefix.length))
            : (r.data || '');
          return `{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":${JSON.stringify(r.partition_key)},` +
            `"sequenceNumber":"${r.seq}","data":"${Buffer.from(data).toString('base64')}","approximateArrivalTimestamp":${secs}},` +
            `"eventSource":"aws:kinesis","eventVersion":"1.0","eventID":"${shard}:${r.seq}","eventName":"aws:kinesis:record",` +
            `"invokeIdentityArn":${JSON.stringify(env.role_arn || 'arn:aws:iam::111111111111:role/fn-role')},` +
            `"awsRegion":"${region}","eventSourceARN":${JSON.stringify(arn)}}`;
        });
        add(`{"Records":[${batch.join(',')}]}`, { cat: 'valid', name: `${rel} ${s.id} stream ${shard} batch ${i / 10}` });
      }
    }
  }
}

// ---- 3. randomized events -----------------------------------------------------------------
add('{"Records":[]}', { cat: 'valid', name: 'no records' });
for (let i = 0; i < N; i++) add(randomKinesisEvent(1 + int(i % 10 === 0 ? 300 : 25), i % 2 === 1), { cat: 'valid', name: `random kinesis ${i}` });
for (let i = 0; i < N / 2; i++) add(randomDdbEvent(1 + int(20), i % 2 === 1), { cat: 'valid', name: `random dynamodb ${i}` });
// every record failing, and exactly one failing, and none
const failing = Buffer.from('{"fail":true}'), ok = Buffer.from('{"fail":false}');
const kin = (datas) => { const s = seqs(datas.length, 56); return `{"Records":[${datas.map((d, i) => kinesisRecord(s[i], 'shardId-000000000001', 'us-east-1', false, d)).join(',')}]}`; };
add(kin([failing]), { cat: 'valid', name: 'one record, failing' });
add(kin([failing, failing, failing]), { cat: 'valid', name: 'all of three failing' });
add(kin([ok, failing, ok]), { cat: 'valid', name: 'the middle one failing' });
add(kin([ok, ok]), { cat: 'valid', name: 'none failing' });
// a duplicated member counts with its last occurrence (JSON.parse does the same)
add(`{"Records":[${kinesisRecord(seqs(1, 56)[0], 'shardId-000000000001', 'us-east-1', false, failing)}],"Records":[]}`, { cat: 'valid', name: 'Records twice, the last empty' });
// tumbling windows
for (let i = 0; i < N / 10; i++) {
  const state = pick(['{}', '{"count":3,"sum":{"a":1.5}}', '{"k":"v é \\u00e9"}', '{ "spaced" : [1, 2] }']);
  const recs = JSON.parse(randomKinesisEvent(1 + int(5), false)).Records.map((r) => JSON.stringify(r));
  const final = i % 5 === 0;
  add(windowEvent(final ? [] : recs, state, final), { cat: 'window', name: `window ${i}`, state });
}

// ---- 4. malformed events ------------------------------------------------------------------
const K = (seq, data, extra) => `{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"p","sequenceNumber":${seq},"data":${data},` +
  `"approximateArrivalTimestamp":1545084650.987},"eventSource":"aws:kinesis","eventVersion":"1.0","eventID":"shardId-000000000006:1",` +
  `"eventName":"aws:kinesis:record","invokeIdentityArn":"arn:aws:iam::123456789012:role/r","awsRegion":"us-east-2",` +
  `"eventSourceARN":"arn:aws:kinesis:us-east-2:123456789012:stream/s"${extra || ''}}`;
const GOOD = K('"49590338271490256608559692538361571095921575989136588898"', '"aGk="');
const FAILS = K('"49590338271490256608559692538361571095921575989136588899"', '"RkFJTA=="');
const D = (dyn, extra) => `{"eventID":"1","eventName":"INSERT","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1",` +
  `"dynamodb":${dyn},"eventSourceARN":"arn:aws:dynamodb:us-east-1:1:table/t/stream/x"${extra || ''}}`;
const DFAIL_NOSEQ = D('{"ApproximateCreationDateTime":1.0,"Keys":{"k":{"N":"1"}},"NewImage":{"fail":{"BOOL":true}},"SizeBytes":1,"StreamViewType":"NEW_IMAGE"}');
const DGOOD = D('{"ApproximateCreationDateTime":1.0,"Keys":{"k":{"N":"1"}},"SequenceNumber":"2","SizeBytes":1,"StreamViewType":"KEYS_ONLY"}');
const MALFORMED = [
  ['not JSON', 'not json', 'rejects'],
  ['empty text', '', 'rejects'],
  ['trailing garbage', '{"Records":[]} x', 'rejects'],
  ['trailing comma', `{"Records":[${GOOD},]}`, 'rejects'],
  ['no Records', '{}', 'rejects'],
  ['Records an object', '{"Records":{}}', 'rejects'],
  ['Records null', '{"Records":null}', 'rejects'],
  ['event an array', '[]', 'rejects'],
  ['event null', 'null', 'rejects'],
  ['event a string', '"Records"', 'rejects'],
  ['a record a number', '{"Records":[1]}', 'rejects'],
  ['a record null', '{"Records":[null]}', 'rejects'],
  ['no sequenceNumber, its record failing', `{"Records":[${GOOD},${K('null', '"RkFJTA=="').replace('"sequenceNumber":null,', '')}]}`, 'accepts'],
  ['data not base64 ([...])', `{"Records":[${K('"1"', '"aGVsbG8[...]sbG8="')}]}`, 'accepts'],
  ['data base64 without padding', `{"Records":[${K('"1"', '"aGk"')}]}`, 'accepts'],
  ['data base64url', `{"Records":[${K('"1"', '"-_-_"')}]}`, 'accepts'],
  ['data base64 with a space', `{"Records":[${K('"1"', '"aG k="')}]}`, 'accepts'],
  ['data base64 with non-zero pad bits', `{"Records":[${K('"1"', '"aGl="')}]}`, 'accepts'],
  ['data a number, with a good record', `{"Records":[${GOOD},${K('"2"', '5')}]}`, 'accepts'],
  ['data a number, alone', `{"Records":[${K('"2"', '5')}]}`, 'rejects'],
  ['sequenceNumber a number, its record failing', `{"Records":[${GOOD},${K('7', '"RkFJTA=="')}]}`, 'accepts'],
  ['sequenceNumber not digits', `{"Records":[${K('"abc"', '"aGk="')}]}`, 'accepts'],
  ['sequenceNumber with a leading zero', `{"Records":[${K('"0123"', '"aGk="')}]}`, 'accepts'],
  ['sequenceNumber empty', `{"Records":[${K('""', '"aGk="')}]}`, 'accepts'],
  ['a kinesis and a dynamodb record', `{"Records":[${GOOD},${DGOOD}]}`, 'rejects'],
  ['a dynamodb and a kinesis record', `{"Records":[${DGOOD},${GOOD}]}`, 'accepts'],
  ['eventSource aws:sqs', `{"Records":[${GOOD.replace('"aws:kinesis"', '"aws:sqs"')}]}`, 'accepts'],
  ['no eventSource', `{"Records":[${GOOD.replace('"eventSource":"aws:kinesis",', '')}]}`, 'accepts'],
  ['no kinesis object, with a good record', `{"Records":[${GOOD},{"eventSource":"aws:kinesis"}]}`, 'rejects'],
  ['approximateArrivalTimestamp a string', `{"Records":[${GOOD.replace('1545084650.987', '"1545084650.987"')}]}`, 'accepts'],
  ['partitionKey a number', `{"Records":[${GOOD.replace('"partitionKey":"p"', '"partitionKey":1')}]}`, 'accepts'],
  ['a lone surrogate escape', `{"Records":[${GOOD.replace('"partitionKey":"p"', '"partitionKey":"\\ud800"')}]}`, 'accepts'],
  ['a bad escape', `{"Records":[${GOOD.replace('"partitionKey":"p"', '"partitionKey":"\\x"')}]}`, 'rejects'],
  ['a raw control character in a string', `{"Records":[${GOOD.replace('"partitionKey":"p"', '"partitionKey":"a\u0001b"')}]}`, 'rejects'],
  ['dynamodb: no SequenceNumber, its record failing', `{"Records":[${DGOOD},${DFAIL_NOSEQ}]}`, 'accepts'],
  ['dynamodb: no dynamodb object, with a good record', `{"Records":[${DGOOD},${D('null').replace(',"dynamodb":null', '')}]}`, 'accepts'],
  ['dynamodb: NewImage an array', `{"Records":[${D('{"ApproximateCreationDateTime":1.0,"Keys":{},"NewImage":[],"SequenceNumber":"3","SizeBytes":1,"StreamViewType":"NEW_IMAGE"}')}]}`, 'accepts'],
  ['dynamodb: SizeBytes a string', `{"Records":[${DGOOD.replace('"SizeBytes":1', '"SizeBytes":"1"')}]}`, 'accepts'],
  ['window without shardId', windowEvent([GOOD], '{}', false).replace('"shardId":"shardId-000000000006",', ''), 'accepts'],
  ['window state an array', windowEvent([GOOD], '[]', false), 'accepts'],
];
for (const [name, text, pt] of MALFORMED) add(text, { cat: 'malformed', name, pt });
// Invalid UTF-8 inside a string (Node reads the line as UTF-8 and replaces it with U+FFFD).
add(`{"Records":[${GOOD.replace('"partitionKey":"p"', '"partitionKey":"\xff\xfe"')}]}`, { cat: 'malformed', name: 'invalid UTF-8 in a string', pt: 'accepts', latin1: true });
// Mutations of random valid events: truncated (never JSON), or a base64 character replaced.
for (let i = 0; i < N / 4; i++) {
  const e = randomKinesisEvent(1 + int(8), false);
  add(e.slice(0, int(e.length)), { cat: 'malformed', name: `truncated ${i}`, pt: 'rejects' });
  const at = e.indexOf('"data":"') + 8;
  add(e.slice(0, at) + '!' + e.slice(at + 1), { cat: 'malformed', name: `bad base64 ${i}` });
}

fs.mkdirSync(outDir, { recursive: true });
// Lines are written as bytes: the invalid UTF-8 case is latin1 text.
const buf = Buffer.concat(events.map((t, i) => Buffer.from(t + '\n', metas[i].latin1 ? 'latin1' : 'utf8')));
fs.writeFileSync(path.join(outDir, 'events.txt'), buf);
fs.writeFileSync(path.join(outDir, 'meta.ndjson'), metas.map((m) => JSON.stringify(m)).join('\n') + '\n');
const count = (c) => metas.filter((m) => m.cat === c).length;
process.stdout.write(`${events.length} events: ${count('valid')} valid, ${count('window')} window, ${count('malformed')} malformed\n`);
