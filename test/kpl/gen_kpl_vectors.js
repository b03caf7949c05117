// SPDX-License-Identifier: MIT
// Writes test/data/kpl-vectors.json: Kinesis record data (aggregated by aws-kinesis-agg
// itself, hand-built hostile aggregates, and seeded random mutations of both) with the
// outcome aws-kinesis-agg's own deaggregate() gives each, with computeChecksums true and
// false. test/test_kpl.c checks that bp_kpl gives exactly these outcomes.
//
// usage (the package is not a dependency of the repository; install it anywhere):
//   mkdir /tmp/agg && cd /tmp/agg && npm init -y && npm install aws-kinesis-agg
//   NODE_PATH=/tmp/agg/node_modules node test/kpl/gen_kpl_vectors.js > test/data/kpl-vectors.json
//
// Outcome of one deaggregation, as written:
//   {"outcome":"passthrough"}                        not aggregated: the record as it is
//   {"outcome":"error","message":"..."}              the whole record fails
//   {"outcome":"records","records":[{"pk":..,"ehk":..,"data":..,"ssn":n}, ...]}
// pk and ehk are the base64 of the key's UTF-8 bytes, or null when the library gives
// undefined; "lossy":true marks a key the library decoded with U+FFFD replacements (its
// bytes were not UTF-8). "nochecksum" is present only when it differs from "checksum".
'use strict';
const crypto = require('crypto');
const agg = require('aws-kinesis-agg');
const aggVersion = require('aws-kinesis-agg/package.json').version;
const pbVersion = require('protobufjs/package.json').version;

const MAGIC = Buffer.from('f3899ac2', 'hex');

// Seeded xorshift32: the file is the same on every run.
let seed = 0x2545f491;
function rand(n) {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed % n;
}
function randBytes(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rand(256);
  return b;
}

// ---- protobuf by hand, for the aggregates the aggregator would never write ----
function varint(v) {
  let x = BigInt(v);
  const out = [];
  do {
    let b = Number(x & 127n);
    x >>= 7n;
    if (x > 0n) b |= 128;
    out.push(b);
  } while (x > 0n);
  return Buffer.from(out);
}
const tag = (field, wt) => varint(field * 8 + wt);
const ld = (field, bytes) => {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  return Buffer.concat([tag(field, 2), varint(b.length), b]);
};
const vf = (field, v) => Buffer.concat([tag(field, 0), varint(v)]);
const cat = (...parts) => Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
const hex = (s) => Buffer.from(s.replace(/ /g, ''), 'hex');
const md5 = (b) => crypto.createHash('md5').update(b).digest();
// magic + body + the body's MD5
const wrap = (body) => cat(MAGIC, body, md5(body));
// Record {pki, [ehki], data, extra...}
function rec(pki, data, ehki, ...extra) {
  const parts = [vf(1, pki)];
  if (ehki !== undefined) parts.push(vf(2, ehki));
  parts.push(ld(3, data), ...extra);
  return ld(3, cat(...parts));
}

// ---- aggregates made by the library's own aggregator ----
function aggregate(userRecords) {
  const a = new agg.RecordAggregator();
  for (const r of userRecords) a.addUserRecord(r);
  return a.build().data;
}

// ---- the reference outcome ----
function keyOut(s) {
  if (s === undefined) return { v: null, lossy: false };
  return { v: Buffer.from(s, 'utf8').toString('base64'), lossy: s.includes('\ufffd') };
}
function deagg(data, computeChecksums) {
  const input = { partitionKey: 'parent-pk', sequenceNumber: '49590338271490256608559692538361571095921575989136588898', data: data.toString('base64') };
  const records = [];
  let out = null;
  agg.deaggregate(input, computeChecksums, (err, r) => {
    if (err) throw err; // never: per-record errors go to the second callback
    records.push(r);
  }, (err, r) => {
    if (out) return;
    if (err) out = { outcome: 'error', message: String(err.message), subsequence: r ? r.subSequenceNumber : undefined };
  });
  if (out) return out;
  if (records.length === 1 && records[0].subSequenceNumber === undefined) {
    if (records[0].data !== input.data) throw new Error('passthrough changed the data');
    return { outcome: 'passthrough' };
  }
  return {
    outcome: 'records',
    records: records.map((r) => {
      const pk = keyOut(r.partitionKey), ehk = keyOut(r.explicitPartitionKey);
      const o = { pk: pk.v, ehk: ehk.v, data: r.data, ssn: r.subSequenceNumber };
      if (pk.lossy || ehk.lossy) o.lossy = true;
      return o;
    }),
  };
}

const vectors = [];
function add(name, data) {
  const v = { name, data: data.toString('base64'), checksum: deagg(data, true) };
  const nc = deagg(data, false);
  if (JSON.stringify(nc) !== JSON.stringify(v.checksum)) v.nochecksum = nc;
  vectors.push(v);
  return data;
}

// Made by the aggregator.
const one = add('aggregator: 1 user record', aggregate([{ partitionKey: 'pk-1', data: Buffer.from('{"n":1}') }]));
const two = add('aggregator: 2 user records, 2 keys', aggregate([
  { partitionKey: 'alpha', data: Buffer.from('first') },
  { partitionKey: 'beta', data: Buffer.from('second') },
]));
const hundred = [];
for (let i = 0; i < 100; i++)
  hundred.push({ partitionKey: 'key-' + (i % 7), data: Buffer.from(JSON.stringify({ i, pad: 'x'.repeat(i % 13) })) });
add('aggregator: 100 user records, 7 keys', aggregate(hundred));
const distinct = [];
for (let i = 0; i < 200; i++) distinct.push({ partitionKey: 'k' + i + '-' + 'z'.repeat(i % 5), data: Buffer.from([i & 255]) });
add('aggregator: 200 user records, 200 keys', aggregate(distinct));
add('aggregator: unicode partition keys', aggregate([
  { partitionKey: 'clé-ü-日本語', data: Buffer.from('a') },
  { partitionKey: '🚀 ключ', data: Buffer.from('b') },
  { partitionKey: 'clé-ü-日本語', data: Buffer.from('c') },
]));
const withEhk = add('aggregator: explicit hash keys', aggregate([
  { partitionKey: 'p1', explicitHashKey: '340282366920938463463374607431768211455', data: Buffer.from('h1') },
  { partitionKey: 'p2', explicitHashKey: '0', data: Buffer.from('h2') },
  { partitionKey: 'p1', explicitHashKey: '340282366920938463463374607431768211455', data: Buffer.from('h3') },
]));
add('aggregator: explicit hash key on some records only (others get the table\'s first)', aggregate([
  { partitionKey: 'p1', data: Buffer.from('no-ehk') },
  { partitionKey: 'p2', explicitHashKey: '12345', data: Buffer.from('ehk') },
  { partitionKey: 'p3', data: Buffer.from('no-ehk-again') },
]));
add('aggregator: empty data', aggregate([
  { partitionKey: 'e', data: Buffer.alloc(0) },
  { partitionKey: 'e', data: Buffer.from('x') },
  { partitionKey: 'e', data: Buffer.alloc(0) },
]));
add('aggregator: binary data', aggregate([{ partitionKey: 'bin', data: randBytes(300) }]));
add('aggregator: large data (70,000 bytes)', aggregate([
  { partitionKey: 'big', data: randBytes(70000) },
  { partitionKey: 'small', data: Buffer.from('after the big one') },
]));
// The aggregator lists keys with Object.keys: integer-like keys come first, so the table's
// order is not the indexes' order and the user records get other keys back.
add('aggregator: integer-like partition keys (its table order differs from its indexes)', aggregate([
  { partitionKey: 'text', data: Buffer.from('1') },
  { partitionKey: '20', data: Buffer.from('2') },
  { partitionKey: '3', data: Buffer.from('3') },
]));

// Not aggregated.
add('plain: JSON data', Buffer.from('{"hello":"world"}'));
add('plain: empty data', Buffer.alloc(0));
add('plain: 3 bytes of the magic', MAGIC.subarray(0, 3));
add('plain: magic shifted by one byte', cat(hex('00'), MAGIC, md5(Buffer.alloc(0))));
add('plain: magic with one bit changed', cat(hex('f3899ac3'), md5(Buffer.alloc(0))));

// The envelope.
add('envelope: magic only', MAGIC);
for (let n = 5; n < 20; n++) add(`envelope: magic + ${n - 4} zero bytes`, cat(MAGIC, Buffer.alloc(n - 4)));
add('envelope: empty message, good digest', cat(MAGIC, md5(Buffer.alloc(0))));
add('envelope: empty message, zero digest', cat(MAGIC, Buffer.alloc(16)));
// Under 20 bytes the library's slice(4, length - 16) has a negative end for lengths below
// 16 (it counts from the end: 2 * length - 16), so bytes 4 .. 2 * length - 16 are decoded;
// from 16 to 19 the end is 0..3 and nothing is.
add('envelope: 15 bytes, bytes 4..13 are a whole message', cat(MAGIC, ld(1, 'a'), rec(0, 'x'), hex('ff')));
add('envelope: 13 bytes, bytes 4..9 are a whole message', cat(MAGIC, ld(3, hex('0800 1a00')), hex('ffffff')));
add('envelope: 19 bytes, a message after the magic is not decoded', cat(MAGIC, ld(1, 'a'), rec(0, 'x'), hex('2000 288000')));
add('envelope: bad digest (last byte)', (() => { const b = Buffer.from(one); b[b.length - 1] ^= 1; return b; })());
add('envelope: bad digest (first byte)', (() => { const b = Buffer.from(two); b[b.length - 16] ^= 0x80; return b; })());
add('envelope: a message byte changed, digest kept', (() => { const b = Buffer.from(two); b[b.length - 17] ^= 0x01; return b; })());
for (const cut of [1, 8, 16, 17, 20])
  add(`envelope: the last ${cut} bytes cut`, withEhk.subarray(0, withEhk.length - cut));
add('envelope: trailing byte after the digest', cat(one, hex('00')));

// Decoding, with good digests.
const pkt = ld(1, 'pk');
add('decode: truncated message (record length past the end)', wrap(cat(pkt, hex('1a 20 0800 1a02 6869'))));
add('decode: data length past the end', wrap(cat(pkt, hex('1a 06 0800 1a10 6869'))));
add('decode: partition key string past the end (cut, not an error)', wrap(cat(rec(0, 'd'), hex('0a 40 6162 63'))));
add('decode: tag value string past the end', wrap(cat(pkt, hex('1a 0c 0800 1a01 78 22 05 0a01 6b 12 30'))));
add('decode: record missing partition_key_index', wrap(cat(pkt, ld(3, ld(3, 'd')))));
add('decode: record missing data', wrap(cat(pkt, ld(3, vf(1, 0)))));
add('decode: tag without key', wrap(cat(pkt, rec(0, 'd', undefined, ld(4, ld(2, 'v'))))));
add('decode: tag with key and value', wrap(cat(pkt, rec(0, 'd', undefined, ld(4, cat(ld(1, 'k'), ld(2, 'v')))))));
add('decode: partition_key_index out of range', wrap(cat(pkt, rec(1, 'd'), rec(0, 'e'))));
add('decode: huge partition_key_index', wrap(cat(pkt, rec('18446744073709551615', 'd'))));
add('decode: explicit_hash_key_index out of range', wrap(cat(pkt, ld(2, '99'), rec(0, 'd', 1), rec(0, 'e', 0))));
add('decode: explicit_hash_key_index with an empty table', wrap(cat(pkt, rec(0, 'd', 0))));
add('decode: no records, only tables', wrap(cat(pkt, ld(2, '7'))));
add('decode: unknown fields of every wire type', wrap(cat(
  vf(9, 300), tag(10, 1), Buffer.alloc(8), ld(11, 'skip me'), tag(12, 5), Buffer.alloc(4),
  tag(13, 3), vf(1, 1), ld(2, 'g'), tag(14, 3), tag(14, 4), tag(13, 4),
  pkt, rec(0, 'after unknowns', undefined, vf(7, 1), ld(8, 'x')), vf(0, 5))));
add('decode: unknown field with wire type 4', wrap(cat(pkt, tag(9, 4), rec(0, 'd'))));
add('decode: unknown field with wire type 6', wrap(cat(pkt, tag(9, 6), rec(0, 'd'))));
add('decode: unknown field with wire type 7', wrap(cat(pkt, rec(0, 'd'), tag(9, 7))));
add('decode: unterminated group', wrap(cat(pkt, rec(0, 'd'), tag(9, 3), vf(1, 1))));
add('decode: groups nested 200 deep', wrap(cat(pkt, Buffer.concat(Array(200).fill(tag(9, 3))), Buffer.concat(Array(200).fill(tag(9, 4))), rec(0, 'd'))));
add('decode: unknown varint runs past the end', wrap(cat(pkt, rec(0, 'd'), hex('48 ff ff'))));
add('decode: unknown fixed64 past the end', wrap(cat(pkt, rec(0, 'd'), hex('49 0000'))));
add('decode: partition key table entry with wire type 0', wrap(cat(hex('08 02 6869'), rec(0, 'd'))));
add('decode: records field with wire type 0', wrap(cat(pkt, hex('18 05 0800 1a01 78'))));
add('decode: partition_key_index with wire type 2', wrap(cat(pkt, ld(3, cat(hex('0a 00'), ld(3, 'd'))))));
add('decode: data with wire type 0', wrap(cat(pkt, ld(3, cat(vf(1, 0), hex('18 02 6869'))))));
add('decode: a field number 0', wrap(cat(pkt, hex('00 01'), rec(0, 'd'))));
add('decode: repeated partition_key_index and data (last wins)', wrap(cat(pkt, ld(1, 'second'), ld(3, cat(vf(1, 0), ld(3, 'first'), vf(1, 1), ld(3, 'last'))))));
add('decode: 10-byte varint index', wrap(cat(pkt, ld(3, cat(hex('08 80 80 80 80 80 80 80 80 80 00'), ld(3, 'd'))))));
add('decode: 11-byte varint index', wrap(cat(pkt, ld(3, cat(hex('08 80 80 80 80 80 80 80 80 80 80 00'), ld(3, 'd'))))));
add('decode: index varint of 3 continuation bytes ending the message (a 4th is read past it)', wrap(cat(pkt, hex('1a 07 1a01 78 08 808080'))));
add('decode: index varint whose 4th byte is the last and continues', wrap(cat(pkt, hex('1a 07 1a 00 08 81 80 80 80'))));
add('decode: 5-byte tag varint with continuation (5 bytes skipped)', wrap(cat(pkt, hex('9a 80 80 80 90 ff ff ff ff ff 05 0800 1a01 78'))));
add('decode: tag varint wrapping to field 1', wrap(cat(hex('8a 80 80 80 10 02 6869'), rec(0, 'd'))));
add('decode: record length shorter than its last field', wrap(cat(pkt, hex('1a 03 0800 1a 02 6869'), rec(0, 'n'))));
add('decode: partition key not UTF-8', wrap(cat(ld(1, hex('ff fe 41')), rec(0, 'd'))));
add('decode: explicit hash key not UTF-8', wrap(cat(pkt, ld(2, hex('c3')), rec(0, 'd', 0))));

// Seeded mutations: the message is changed and its digest recomputed, so that decoding
// itself is what differs; a third of them keep the stale digest.
const bases = [
  cat(pkt, ld(2, '42'), rec(0, 'hello', 0), rec(0, 'world', undefined, ld(4, cat(ld(1, 'k'), ld(2, 'v'))))),
  cat(ld(1, 'a'), ld(1, 'b'), rec(1, 'x'), rec(0, ''), rec(1, 'yz', 0)),
  two.subarray(4, two.length - 16),
  withEhk.subarray(4, withEhk.length - 16),
];
const mutations = 400;
for (let i = 0; i < mutations; i++) {
  let b = Buffer.from(bases[rand(bases.length)]);
  const edits = 1 + rand(3);
  for (let e = 0; e < edits; e++) {
    const at = rand(b.length + 1);
    switch (rand(5)) {
      case 0: if (at < b.length) b[at] = rand(256); break;
      case 1: if (at < b.length) b[at] ^= 1 << rand(8); break;
      case 2: b = cat(b.subarray(0, at), randBytes(1 + rand(3)), b.subarray(at)); break;
      case 3: b = cat(b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rand(3)))); break;
      default: b = b.subarray(0, at);
    }
  }
  const data = rand(3) === 0 ? cat(MAGIC, b, md5(bases[0])) : wrap(b);
  add(`mutation ${i}`, data);
}

const out = {
  generator: 'test/kpl/gen_kpl_vectors.js',
  reference: `aws-kinesis-agg ${aggVersion} (protobufjs ${pbVersion}), deaggregate(record, computeChecksums)`,
  node: process.version,
  vectors,
};
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
