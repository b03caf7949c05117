// SPDX-License-Identifier: MIT
// The function side: processPartialResponse / BatchProcessor answer exactly as the C handler
// (test/handler/handler_ref, the "marked failing" rule) over the Powertools conformance events
// (test/handler/gen_events.js), async and sync, parallel and serial; full failure throws
// BatchFailedError with the response and the records' errors; malformed events throw the
// library's error with its code; records are copies that outlive the callback.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const bp = require('..');

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const REF = process.env.BP_HANDLER_REF ||
  path.join(ROOT, 'build', 'test', 'handler', 'handler_ref');

// The rule of examples/lambda_runtime/marked.c, in JavaScript.
function marked(r) {
  if (r.source === 'kinesis') {
    if (r.data.includes('"fail":true') || r.data.includes('FAIL')) throw new Error('marked');
    return;
  }
  if (!r.newImageJson) return;
  const img = JSON.parse(r.newImageJson);
  if (img.fail && img.fail.BOOL === true) throw new Error('marked');
}

function ours(line, processor, mode) {
  try {
    const opts = { processor, processInParallel: mode === 'parallel' };
    const res = mode === 'sync' ? bp.processPartialResponseSync(line, marked, opts) :
      bp.processPartialResponse(line, async (r) => { await null; marked(r); }, opts);
    return Promise.resolve(res).then((v) => JSON.stringify(v), describe);
  } catch (err) {
    return Promise.resolve(describe(err));
  }
}
function describe(err) {
  if (err instanceof bp.BatchFailedError) return 'error FullBatchFailureError';
  if (err instanceof bp.BatchpointError) return `error ${err.codeName}: ${err.message}`.replace(/[\r\n]/g, ' ');
  throw err;
}

test('responses equal the C handler\'s over the conformance events', { skip: !fs.existsSync(REF) &&
  `no ${REF} (make build/test/handler/handler_ref)` }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpnode-events-'));
  try {
    execFileSync(process.execPath, [path.join(ROOT, 'test', 'handler', 'gen_events.js'), dir, '7', '40'],
      { stdio: 'ignore' });
    // Buffers, split on newlines (some events are not UTF-8; an empty line is an event)
    const all = fs.readFileSync(path.join(dir, 'events.txt'));
    const events = [];
    for (let at = 0, nl; (nl = all.indexOf(10, at)) >= 0; at = nl + 1) events.push(all.subarray(at, nl));
    for (const stop of [false, true]) {
      const ref = execFileSync(REF, stop ? ['--stop-at-first-failure', path.join(dir, 'events.txt')] :
        [path.join(dir, 'events.txt')], { maxBuffer: 1 << 28 }).toString().split('\n');
      const processor = new bp.BatchProcessor({ stopAtFirstFailure: stop });
      let failedBatches = 0;
      let partial = 0;
      for (const mode of ['parallel', 'serial', 'sync']) {
        for (let i = 0; i < events.length; i++) {
          const got = await ours(events[i], processor, mode);
          // the response as an object (Powertools' shape); the C side's text parsed
          const want = ref[i].startsWith('error ') ? ref[i] : JSON.stringify(JSON.parse(ref[i]));
          assert.strictEqual(got, want, `event ${i} (${mode}, stop=${stop})`);
          if (got === 'error FullBatchFailureError') failedBatches++;
          if (/itemIdentifier/.test(got)) partial++;
        }
      }
      assert.ok(events.length > 100 && failedBatches > 0 && partial > 10);
      processor.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const ARN = 'arn:aws:kinesis:us-east-1:123456789012:stream/s';
function kinesisEvent(datas) {
  const recs = datas.map((d, i) => ({ seq: String(1000 + i), arrivalMs: 1545084650001 + i,
    partitionKey: `pk${i}`, data: Buffer.from(d) }));
  return bp.encodeEvent(recs, { eventSourceArn: ARN, shardId: 'shardId-000000000001' });
}

test('throw = failed record; all failed = BatchFailedError with response and recordErrors', async () => {
  const ev = kinesisEvent(['{"id":1}', 'bad', '{"id":3}']);
  const seen = [];
  const res = await bp.processPartialResponse(ev, async (r) => { seen.push(r); r.json(); });
  assert.deepStrictEqual(res, { batchItemFailures: [{ itemIdentifier: '1001' }] });
  // the records are copies: still readable after the library's callback returned
  assert.deepStrictEqual(seen.map((r) => [r.index, r.seq, r.partitionKey, r.data.toString()]),
    [[0, '1000', 'pk0', '{"id":1}'], [1, '1001', 'pk1', 'bad'], [2, '1002', 'pk2', '{"id":3}']]);
  assert.strictEqual(seen[0].eventSourceArn, ARN);
  assert.strictEqual(seen[0].eventId, 'shardId-000000000001:1000');
  assert.strictEqual(seen[0].arrivalMs, 1545084650001);
  const boom = new Error('nope');
  await assert.rejects(bp.processPartialResponse(ev, async () => { throw boom; }), (e) => {
    assert.ok(e instanceof bp.BatchFailedError && e instanceof bp.BatchpointError);
    assert.strictEqual(e.code, -21);
    assert.strictEqual(e.codeName, 'BP_ERR_BATCH_FAILED');
    assert.strictEqual(bp.FullBatchFailureError, bp.BatchFailedError);
    assert.strictEqual(e.response.batchItemFailures.length, 3);
    assert.deepStrictEqual(e.recordErrors, [boom, boom, boom]);
    return true;
  });
  const res2 = await bp.processPartialResponse(ev, () => { throw boom; },
    { throwOnFullBatchFailure: false });
  assert.strictEqual(res2.batchItemFailures.length, 3);
  const p = new bp.BatchProcessor();
  assert.deepStrictEqual(p.processSync(ev, (r) => { if (r.index === 2) throw boom; }),
    { batchItemFailures: [{ itemIdentifier: '1002' }] });
  assert.deepStrictEqual(p.failures.map((x) => [x.index, x.itemIdentifier, x.error]), [[2, '1002', boom]]);
  // a sync handler returning a Promise is a failure that says so
  assert.strictEqual(p.processSync(ev, async () => {}, { throwOnFullBatchFailure: false })
    .batchItemFailures.length, 3);
  assert.match(p.failures[0].error.message, /Promise/);
  p.close();
  assert.throws(() => p.processSync(ev, () => {}), /closed/);
});

test('stopAtFirstFailure: later handlers are not run, later records reported', async () => {
  const ev = kinesisEvent(['a', 'FAIL', 'c', 'd']);
  const ran = [];
  const res = await bp.processPartialResponse(ev, async (r) => { ran.push(r.index); marked(r); },
    { stopAtFirstFailure: true });
  assert.deepStrictEqual(ran, [0, 1]);
  assert.deepStrictEqual(res.batchItemFailures.map((x) => x.itemIdentifier), ['1001', '1002', '1003']);
});

test('malformed events throw the library error (code, JSON path) and call no handler', async () => {
  let calls = 0;
  await assert.rejects(bp.processPartialResponse('{"Records":[{"eventSource":"aws:kinesis"}]}',
    async () => { calls++; }), (e) => e instanceof bp.InvalidArgumentError && e.code === -18 &&
    /Records\[0\]/.test(e.message));
  await assert.rejects(bp.processPartialResponse('not json', async () => { calls++; }),
    (e) => e.code === -7 && e.codeName === 'BP_ERR_INVALID_JSON');
  assert.strictEqual(calls, 0);
  assert.deepStrictEqual(await bp.processPartialResponse({ Records: [] }, async () => {}),
    { batchItemFailures: [] });
});
