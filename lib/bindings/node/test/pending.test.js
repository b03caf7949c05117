// SPDX-License-Identifier: MIT
// Engine.PENDING: a host that completes requests itself with engine.complete()/reject(),
// inside the callback or later, synchronously -- the order of completions is the host's.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { Engine, Config } = require('..');

const BODY = { EventSourceArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/s',
  FunctionName: 'f', StartingPosition: 'TRIM_HORIZON', BatchSize: 2 };
const OPTS = { invokeIdentityArn: 'arn:aws:iam::123456789012:role/r', seed: 1 };
const SHARD = 'shardId-000000000000';

function records(n) {
  return Array.from({ length: n }, (_, i) => ({ seq: String(100 + i), arrivalMs: 1000,
    partitionKey: 'pk', data: Buffer.from(`r${i}`) }));
}

test('fetch completed inside its callback, invoke completed after it: no Promise involved', () => {
  let now = 2000;
  const invokes = [];
  let served = false;
  let e = null;
  const host = {
    fetch(req) {
      e.complete(req.reqId, served ? [] : records(3)); // inside the callback
      served = true;
      return Engine.PENDING;
    },
    invoke(req) {
      invokes.push(req);
      return Engine.PENDING; // completed below, outside any callback
    },
  };
  e = new Engine(Config.fromJSON(BODY), host, { ...OPTS, clock: () => now });
  e.addShard(SHARD);
  e.tick(now);
  assert.strictEqual(invokes.length, 1); // one lane: the first batch in flight
  assert.deepStrictEqual(invokes[0].records.map((r) => r.seq), ['100', '101']);
  assert.strictEqual(e.checkpoint(SHARD), null);
  now = 2500;
  e.complete(invokes[0].reqId, '');
  assert.strictEqual(e.checkpoint(SHARD), '101'); // synchronously
  e.tick(now);
  assert.strictEqual(invokes.length, 2);
  e.reject(invokes[1].reqId, Object.assign(new Error('boom'), { functionError: 'Unhandled' }));
  now = e.nextDeadline(); // the retry's backoff
  e.tick(now);
  assert.strictEqual(invokes.length, 3); // the retry of the failed batch
  assert.deepStrictEqual(invokes[2].records.map((r) => r.seq), ['102']);
  assert.ok(invokes[2].retry);
  assert.throws(() => e.complete(invokes[1].reqId, ''), /no request .* awaits/);
  e.close();
  assert.throws(() => e.complete(invokes[2].reqId, ''), /closed/);
});

test('a request completes once; a host that completes it and returns a value fails the engine', () => {
  let e = null;
  const host = {
    fetch(req) {
      e.complete(req.reqId, []);
      assert.throws(() => e.complete(req.reqId, []), /no request/);
      return Engine.PENDING;
    },
    invoke() { return Engine.PENDING; },
  };
  e = new Engine(Config.fromJSON(BODY), host, { ...OPTS, clock: () => 2000 });
  e.addShard(SHARD);
  e.tick(2000);
  // a host that completed the request and returned something else is a fatal host error
  let e2 = null;
  const bad = {
    fetch(req) { e2.complete(req.reqId, []); return []; },
    invoke() { return Engine.PENDING; },
  };
  e2 = new Engine(Config.fromJSON(BODY), bad, { ...OPTS, clock: () => 2000 });
  e2.addShard(SHARD);
  assert.throws(() => e2.tick(2000), (err) => /return Engine\.PENDING/.test(err.cause.message));
  e.close();
  e2.close();
});
