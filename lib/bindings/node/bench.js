// SPDX-License-Identifier: MIT
// Benchmarks of the Node binding in the peers' line format (the peer harness's README):
//   peer=batchpoint-node work=<id> n= bytes= ms=<median> mb_s= rec_s=
// on the inputs the peers build (their generator's definitions, re-implemented here: the
// repository never needs the peers' directory), so the lines sit beside the peers' own:
//   encode-kinesis-event  N records of S pseudo-random bytes (xorshift32 from 0x9e3779b9),
//                         56-digit sequence numbers, 'pk-<i%16>', arrival times -> the event,
//                         through encodeEvent (the FFI crossing and the copy out included;
//                         peer=batchpoint-node-nocopy: with copy: false, the codec's reused
//                         Buffer; peer=batchpoint-node-into: into a Buffer of the caller's;
//                         peer=batchpoint-node-string: as: 'string', a string as the peer's)
//   filter-match-json     N JSON texts of S bytes (one xorshift32 draw each) matched against
//                         the 3-field pattern with Filter.matches (text in, one call each)
// usage: node bench.js [--n=10000] [--size=100] [--filter-size=200] [--runs=9] [--warmup=2]
// BENCH_RUNS / BENCH_WARMUP give the defaults of --runs / --warmup, as in the peers.
'use strict';
const { encodeEvent, Filter } = require('./index.js');

const args = { n: 10000, size: 100, 'filter-size': 200, runs: +(process.env.BENCH_RUNS || 9),
  warmup: +(process.env.BENCH_WARMUP || 2) };
for (const a of process.argv.slice(2)) {
  const m = /^--([a-z-]+)=(\d+)$/.exec(a);
  if (!m || !(m[1] in args)) { process.stderr.write(`unknown argument ${a}\n`); process.exit(2); }
  args[m[1]] = Number(m[2]);
}
const { n, size, runs, warmup } = args;

function check(ok, what) {
  if (!ok) { process.stderr.write(`sanity check failed: ${what}\n`); process.exit(1); }
}

// xorshift32 (13/17/5), the peers' generator.
function rng(seed = 0x9e3779b9) {
  let s = seed >>> 0;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
}

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

function bench(work, items, bytes, fn, peer = 'batchpoint-node') {
  for (let i = 0; i < warmup; i++) fn();
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const m = median(ms);
  const mbs = bytes > 0 ? (bytes / 1048576 / (m / 1000)).toFixed(1) : '-';
  console.log(`peer=${peer} work=${work} n=${items} bytes=${bytes} ms=${m.toFixed(3)} ` +
    `mb_s=${mbs} rec_s=${Math.round(items / (m / 1000))}`);
}

// ---- encode-kinesis-event ----
const SEQ_BASE = 49590338271490256608559692538361571095921575989136588898n;
const SHARD = 'shardId-000000000006';
const ROLE = 'arn:aws:iam::123456789012:role/lambda-role';
const STREAM = 'arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream';
const next = rng();
const raw = Buffer.allocUnsafe(n * size);
for (let i = 0; i < raw.length; i++) raw[i] = next() & 0xff;
const records = Array.from({ length: n }, (_, i) => ({
  seq: (SEQ_BASE + BigInt(i) * 1000n).toString(),
  partitionKey: `pk-${i % 16}`,
  data: raw.subarray(i * size, (i + 1) * size),
  arrivalMs: (1545084650 + Math.floor(i / 999)) * 1000 + (i % 999) + 1,
}));
const opts = { eventSourceArn: STREAM, invokeIdentityArn: ROLE, shardId: SHARD };
const event = encodeEvent(records, opts);
{
  const ev = JSON.parse(event);
  check(ev.Records.length === n, 'record count');
  for (const i of [0, n >> 1, n - 1]) {
    const r = ev.Records[i];
    const want = {
      kinesis: { kinesisSchemaVersion: '1.0', partitionKey: records[i].partitionKey,
        sequenceNumber: records[i].seq, data: records[i].data.toString('base64'),
        approximateArrivalTimestamp: records[i].arrivalMs / 1000 },
      eventSource: 'aws:kinesis', eventVersion: '1.0', eventID: `${SHARD}:${records[i].seq}`,
      eventName: 'aws:kinesis:record', invokeIdentityArn: ROLE, awsRegion: 'us-east-2',
      eventSourceARN: STREAM };
    check(JSON.stringify(r) === JSON.stringify(want), `record ${i} as the peers' layout`);
  }
}
bench('encode-kinesis-event', n, event.length, () => encodeEvent(records, opts));
// the same with copy: false (a view of the codec's reused Buffer, valid until its next call)
const view = { ...opts, copy: false };
check(encodeEvent(records, view).equals(event), 'copy: false gives the same bytes');
bench('encode-kinesis-event', n, event.length, () => encodeEvent(records, view),
  'batchpoint-node-nocopy');
const into = { ...opts, into: Buffer.allocUnsafe(event.length) };
check(encodeEvent(records, into).equals(event), 'into gives the same bytes');
bench('encode-kinesis-event', n, event.length, () => encodeEvent(records, into),
  'batchpoint-node-into');
const str = { ...opts, as: 'string' };
check(encodeEvent(records, str) === event.toString(), 'as: string gives the same text');
bench('encode-kinesis-event', n, event.length, () => encodeEvent(records, str),
  'batchpoint-node-string');

// ---- filter-match-json ----
const fsize = args['filter-size'];
const TYPES = ['order', 'order', 'refund', 'order'];
const REGIONS = ['eu-west-1', 'eu-central-1', 'us-east-1', 'eu-north-1', 'ap-south-1', 'eu-south-2'];
function padded(obj) {
  const head = JSON.stringify({ ...obj, pad: '' });
  return `${head.slice(0, -2)}${'x'.repeat(fsize - Buffer.byteLength(head))}"}`;
}
const draw = rng();
let expected = 0;
const payloads = Array.from({ length: n }, (_, i) => {
  const r = draw();
  const type = TYPES[r % 4];
  const region = REGIONS[(r >>> 8) % 6];
  const amount = ((r >>> 16) % 20000) / 100;
  if (type === 'order' && region.startsWith('eu-') && amount >= 10 && amount < 150) expected++;
  return padded({ id: i, type, region, amount, user: `u${i % 97}` });
});
check(payloads.every((p) => Buffer.byteLength(p) === fsize), 'payload size');
const filter = new Filter({ type: ['order'], region: [{ prefix: 'eu-' }],
  amount: [{ numeric: ['>=', 10, '<', 150] }] });
const matchAll = () => {
  let m = 0;
  for (let i = 0; i < n; i++) if (filter.matches(payloads[i])) m++;
  return m;
};
const got = matchAll();
check(got === expected, `filter matched ${got}, expected ${expected}`);
bench('filter-match-json', n, n * fsize, matchAll);
