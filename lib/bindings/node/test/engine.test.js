// SPDX-License-Identifier: MIT
// The Engine driven by Promise hosts: completions when the Promises resolve, rejections on
// the engine's failure paths, Buffer payloads, metrics, and synchronous throws kept and
// rethrown by the driving call.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { Engine, Config, FatalError, StateError } = require('..');

const ARN = 'arn:aws:kinesis:us-east-1:123456789012:stream/s';
const BODY = { EventSourceArn: ARN, FunctionName: 'f', StartingPosition: 'TRIM_HORIZON',
  BatchSize: 2 };
const OPTS = { invokeIdentityArn: 'arn:aws:iam::123456789012:role/r', seed: 1 };
const flush = () => new Promise((r) => setImmediate(r));

function records(from, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    out.push({ seq: String(100 + from + i), arrivalMs: 1000, partitionKey: 'pk',
      data: Buffer.from([0xff, 0x00, from + i]) });
  }
  return out;
}

// A host whose shard holds `recs`, then nothing; invoke answers with `answer(req)`.
function host(recs, answer) {
  const h = { fetches: [], invokes: [], deliveries: [], served: false };
  h.fetch = async (req) => {
    h.fetches.push(req);
    if (h.served) return [];
    h.served = true;
    return recs;
  };
  h.invoke = async (req) => { h.invokes.push(req); return answer(req); };
  h.deliver = async (req) => { h.deliveries.push(req); };
  return h;
}

async function drive(e, t0, steps) {
  let now = t0;
  for (let i = 0; i < steps; i++) {
    e.tick(now);
    await e.settled();
    await flush();
    const d = e.nextDeadline();
    now = d === null ? now + 1000 : Math.max(now, d);
  }
  return now;
}

test('records reach the function as Buffers, batches of BatchSize, checkpoint and metrics move', async () => {
  const h = host(records(0, 3), () => '');
  const e = new Engine(Config.fromJSON(BODY), h, { ...OPTS, clock: () => 2000 });
  e.addShard('shardId-000000000000');
  await drive(e, 2000, 6);
  assert.ok(h.fetches.length >= 1);
  assert.strictEqual(h.fetches[0].from, 'TRIM_HORIZON');
  assert.deepStrictEqual(h.invokes.map((r) => r.records.length), [2, 1]);
  const r0 = h.invokes[0].records[0];
  assert.ok(Buffer.isBuffer(r0.data));
  assert.deepStrictEqual([...r0.data], [0xff, 0x00, 0]);
  assert.strictEqual(r0.seq, '100');
  assert.ok(Buffer.isBuffer(h.invokes[0].payload));
  const event = JSON.parse(h.invokes[0].payload);
  assert.strictEqual(event.Records.length, 2);
  assert.strictEqual(event.Records[0].kinesis.data, Buffer.from([0xff, 0, 0]).toString('base64'));
  assert.strictEqual(e.checkpoint('shardId-000000000000'), '102');
  const m = e.metrics();
  assert.strictEqual(m.polledEventCount, 3);
  assert.strictEqual(m.invokedEventCount, 3);
  assert.strictEqual(m.invocations, 2);
  assert.strictEqual(e.metrics('shardId-000000000000').invocations, 2);
  e.close();
});

test('a rejected invoke is a function error: retried, then discarded to the destination', async () => {
  const body = { ...BODY, MaximumRetryAttempts: 1,
    DestinationConfig: { OnFailure: { Destination: 'arn:aws:sqs:us-east-1:123456789012:q' } } };
  const h = host(records(0, 1), () => { throw new Error('boom'); });
  const e = new Engine(body, h, { ...OPTS, clock: () => 2000, backoffBaseMs: 1 });
  e.addShard('shardId-000000000000');
  await drive(e, 2000, 12);
  assert.strictEqual(h.invokes.length, 2); // first attempt + 1 retry
  assert.strictEqual(h.invokes[1].retry, true);
  assert.strictEqual(h.deliveries.length, 1);
  assert.strictEqual(h.deliveries[0].condition, 'RetryAttemptsExhausted');
  assert.strictEqual(h.deliveries[0].destinationType, 'SQS');
  assert.strictEqual(JSON.parse(h.deliveries[0].recordJson).KinesisBatchInfo.batchSize, 1);
  const m = e.metrics();
  assert.strictEqual(m.failedInvokeEventCount, 2);
  assert.strictEqual(m.onFailureDestinationDeliveredEventCount, 1);
  assert.strictEqual(e.checkpoint('shardId-000000000000'), '100');
  e.close();
});

test('a rejected fetch is retried; a partial batch failure response is honoured', async () => {
  let failOnce = true;
  const h = host(records(0, 2), (req) => ({
    body: { batchItemFailures: req.records.length === 2 ? [{ itemIdentifier: '101' }] : [] } }));
  const inner = h.fetch;
  h.fetch = async (req) => {
    if (failOnce) { failOnce = false; h.fetches.push(req); throw new Error('network'); }
    return inner(req);
  };
  const e = new Engine({ ...BODY, FunctionResponseTypes: ['ReportBatchItemFailures'] }, h,
    { ...OPTS, clock: () => 2000, backoffBaseMs: 1, fetchErrorRetryMs: 5 });
  e.addShard('shardId-000000000000');
  await drive(e, 2000, 10);
  assert.ok(h.fetches.length >= 2);
  assert.deepStrictEqual(h.invokes.map((r) => r.records.map((x) => x.seq)), [['100', '101'], ['101']]);
  assert.strictEqual(e.checkpoint('shardId-000000000000'), '101');
  e.close();
});

test('a host that throws synchronously fails the engine; the exception is the cause', () => {
  const err = new Error('sync boom');
  const e = new Engine(BODY, { fetch() { throw err; }, invoke: async () => '' }, OPTS);
  e.addShard('shardId-000000000000');
  assert.throws(() => e.tick(2000), (x) => x instanceof FatalError && x.code === -901 &&
    x.cause === err);
  assert.throws(() => e.tick(2001), FatalError);
  e.close();
});

test('next deadline, idle, shard state; driving calls inside callbacks are refused', async () => {
  let inner = null;
  let e;
  const h = host([], () => '');
  h.fetch = async () => {
    try { e.tick(1); } catch (x) { inner = x; }
    return [];
  };
  e = new Engine(BODY, h, { ...OPTS, pollIntervalMs: 500, clock: () => 2000 });
  e.addShard('shardId-000000000000');
  assert.strictEqual(e.shardState('shardId-000000000000'), 'ACTIVE');
  e.tick(2000);
  await e.settled();
  assert.ok(inner instanceof StateError);
  assert.strictEqual(inner.codeName, 'BP_ERR_IN_CALLBACK');
  assert.strictEqual(e.nextDeadline(), 2500);
  assert.strictEqual(e.idle, true);
  e.close();
  assert.throws(() => e.tick(3000), /closed/);
});
