// SPDX-License-Identifier: MIT
// FileStore: direct load/save/remove with the library's errors, and new Engine(..., { store })
// saving checkpoints a second engine resumes after; closing the store before the engine is safe.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { FileStore, Engine, ResourceError, InvalidArgumentError } = require('..');

const MAPPING = '9f3c1c55-2f0c-4c1a-8d3e-1d6a8f0b7e21';
const SHARD = 'shardId-000000000000';
const BODY = { EventSourceArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/s', FunctionName: 'f',
  StartingPosition: 'TRIM_HORIZON', BatchSize: 10 };
const OPTS = { invokeIdentityArn: 'arn:aws:iam::123456789012:role/r', seed: 1, mappingUuid: MAPPING };
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'bpnode-store-'));

test('load, save, remove; errors carry codes', () => {
  const dir = tmp();
  const s = new FileStore(dir);
  assert.strictEqual(s.load(MAPPING, SHARD), null);
  s.save(MAPPING, SHARD, '12345');
  assert.strictEqual(s.load(MAPPING, SHARD), '12345');
  assert.strictEqual(new FileStore(dir).load(MAPPING, SHARD), '12345');
  assert.throws(() => s.save(MAPPING, SHARD, 'x1'), (e) => e instanceof InvalidArgumentError &&
    e.codeName === 'BP_ERR_INVALID_SEQNUM');
  assert.strictEqual(s.remove(MAPPING, SHARD), true);
  assert.strictEqual(s.remove(MAPPING, SHARD), false);
  assert.strictEqual(s.load(MAPPING, SHARD), null);
  s.save(MAPPING, 'shard/../x', '7');
  assert.strictEqual(s.load(MAPPING, 'shard/../x'), '7');
  fs.writeFileSync(path.join(dir, fs.readdirSync(dir)[0]), 'garbage');
  assert.throws(() => s.load(MAPPING, 'shard/../x'), (e) => e.codeName === 'BP_ERR_CORRUPT');
  s.close();
  assert.throws(() => s.load(MAPPING, SHARD), /closed/);
  assert.throws(() => new FileStore(path.join(dir, 'nope')), (e) => e instanceof ResourceError &&
    e.code === -20 && /nope/.test(e.message));
  fs.rmSync(dir, { recursive: true });
});

async function run(e, now, steps) {
  for (let i = 0; i < steps; i++) {
    e.tick(now);
    await e.settled();
    await new Promise((r) => setImmediate(r));
  }
}

test('an engine saves to the store; a second engine resumes after it', async () => {
  const dir = tmp();
  const store = new FileStore(dir);
  const fetches = [];
  let served = false;
  const host = {
    fetch: async (req) => {
      fetches.push(req);
      if (served) return [];
      served = true;
      return [1, 2, 3].map((i) => ({ seq: String(i), arrivalMs: 1000, partitionKey: 'p', data: 'x' }));
    },
    invoke: async () => '',
  };
  const e = new Engine(BODY, host, { ...OPTS, store, clock: () => 1000 });
  e.addShard(SHARD);
  await run(e, 1000, 4);
  assert.strictEqual(store.load(MAPPING, SHARD), '3');
  store.close(); // the engine still holds it
  await run(e, 1001, 1);
  e.close();
  assert.throws(() => store.load(MAPPING, SHARD), /closed/);
  const again = [];
  const e2 = new Engine(BODY, { fetch: async (r) => { again.push(r); return []; }, invoke: async () => '' },
    { ...OPTS, store: new FileStore(dir), clock: () => 2000 });
  e2.addShard(SHARD);
  e2.tick(2000);
  await e2.settled();
  assert.strictEqual(again[0].from, 'AFTER_SEQUENCE_NUMBER');
  assert.strictEqual(again[0].afterSeq, '3');
  e2.close();
  fs.rmSync(dir, { recursive: true });
});
