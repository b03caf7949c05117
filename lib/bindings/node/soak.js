// SPDX-License-Identifier: MIT
// Leak and crash soak of the Node binding: LIVES engine lives (100,000 by default) created and
// dropped in random order, half closed explicitly and half left to the garbage collector
// (FinalizationRegistry), with hosts whose callbacks throw synchronously, reject, or resolve
// and then fail the invocation; a FileStore shared by some engines and closed while they still
// use it; Filters, Codecs and BatchProcessors made and dropped along the way. RSS is measured
// after a warm-up, in the middle and at the end (after gc()); the run fails when it grows by
// more than BOUND_MB (16) from the warm-up to the end, or on any unexpected error.
// usage: node --expose-gc soak.js [LIVES]
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const bp = require('./index.js');

if (typeof global.gc !== 'function') {
  process.stderr.write('soak.js needs node --expose-gc\n');
  process.exit(2);
}
const LIVES = Number(process.argv[2] || 100000);
const BOUND_MB = 16;
const POOL = 64;
const BODY = { EventSourceArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/s', FunctionName: 'f',
  StartingPosition: 'TRIM_HORIZON', BatchSize: 2 };
const config = bp.Config.fromJSON(BODY);
const OPTS = { invokeIdentityArn: 'arn:aws:iam::123456789012:role/r', backoffBaseMs: 1,
  fetchErrorRetryMs: 1, mappingUuid: 'soak' };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpnode-soak-'));

let seed = 0x2545f491;
const rand = (n) => { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed % n; };
const boom = () => { throw new Error('host failure'); };
const recs = [1, 2, 3].map((i) => ({ seq: String(i), arrivalMs: 1000, partitionKey: 'p', data: 'x' }));
// The shard's records once, then nothing.
function once() {
  let served = false;
  return async () => { if (served) return []; served = true; return recs; };
}
const HOSTS = [
  () => ({ fetch: boom, invoke: async () => '' }), // a synchronous throw: fatal to the engine
  () => ({ fetch: async () => { throw new Error('rejected'); }, invoke: async () => '' }),
  () => ({ fetch: once(), invoke: async () => { throw new Error('function error'); } }),
  () => ({ fetch: once(), invoke: boom, onEvent: () => {} }),
  () => ({ fetch: once(), invoke: async () => '', onEvent: boom }),
];

const rss = () => process.memoryUsage().rss / 1048576;
async function settle() {
  await new Promise((r) => setImmediate(r));
  global.gc();
  await new Promise((r) => setImmediate(r));
}

async function main() {
  let store = new bp.FileStore(dir);
  const pool = [];
  const expected = [bp.FatalError, bp.StateError];
  let fatal = 0;
  let marks = {};
  const t0 = Date.now();
  for (let life = 0; life < LIVES; life++) {
    if (life === 2000) { await settle(); marks.start = rss(); }
    if (life === LIVES >> 1) { await settle(); marks.middle = rss(); }
    if (life % 5000 === 4999) { store.close(); store = new bp.FileStore(dir); } // closed in use
    const host = HOSTS[rand(HOSTS.length)]();
    const e = new bp.Engine(config, host, { ...OPTS, seed: life, clock: () => 1000,
      store: rand(4) === 0 ? store : undefined });
    e.addShard('shardId-000000000000');
    try {
      e.tick(1000);
    } catch (err) {
      if (!expected.some((c) => err instanceof c)) throw err;
      fatal++;
    }
    pool.push(e);
    if (life % 10 === 0) {
      new bp.Filter({ a: [{ prefix: 'x' }] }).matches('{"a":"xy"}');
      if (life % 100 === 0) new bp.Codec().encodeEvent(recs);
    }
    while (pool.length > POOL || (pool.length && rand(3) === 0)) {
      const victim = pool.splice(rand(pool.length), 1)[0];
      try {
        if (rand(2)) victim.tick(1001);
      } catch (err) {
        if (!expected.some((c) => err instanceof c)) throw err;
      }
      if (rand(2)) victim.close(); // else: left to the FinalizationRegistry
    }
    // the C engines are native memory V8 does not see: collect often enough to bound it
    if (life % 100 === 99) await settle();
  }
  for (const e of pool) e.close();
  pool.length = 0;
  store.close();
  for (let i = 0; i < 3; i++) await settle();
  marks.end = rss();
  fs.rmSync(dir, { recursive: true, force: true });
  const grew = marks.end - marks.start;
  const fmt = (x) => x.toFixed(1);
  console.log(`soak: ${LIVES} engine lives in ${((Date.now() - t0) / 1000).toFixed(1)} s ` +
    `(${fatal} ticks threw the kept host exception); RSS MB start=${fmt(marks.start)} ` +
    `middle=${fmt(marks.middle)} end=${fmt(marks.end)} growth=${fmt(grew)} (bound ${BOUND_MB})`);
  if (grew > BOUND_MB) {
    process.stderr.write(`soak: RSS grew by ${fmt(grew)} MB (> ${BOUND_MB})\n`);
    process.exit(1);
  }
}

main().catch((err) => { process.stderr.write(`soak failed: ${err.stack}\n`); process.exit(1); });
