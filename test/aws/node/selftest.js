// SPDX-License-Identifier: MIT
// Tests the end-to-end tools themselves against the real servers: kinesalite through the AWS SDK
// (create, put, split, merge, shards), lambda_server.js and exec_handler.js answering as Lambda
// does, and check_e2e.js telling a complete run from a lossy or reordered one; with
// offline/node_modules installed, the same handler under serverless-offline too.
// Usage: node selftest.js   (node:test; prints the runner's summary)
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const { spawn, execFileSync, spawnSync } = require('child_process');

const here = __dirname;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-aws-selftest-'));
const children = [];
// The servers would keep the runner alive: stop them when the tests are done.
test.after(() => {
  for (const c of children) { c.removeAllListeners('exit'); c.kill(); }
  fs.rmSync(work, { recursive: true, force: true });
});

function startServer(script, args, stderr = 'inherit') {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [path.join(here, script), ...args], { stdio: ['ignore', 'pipe', stderr] });
    children.push(c);
    let out = '';
    c.stdout.on('data', (d) => {
      out += d;
      const m = /^listening (\d+)$/m.exec(out);
      if (m) resolve(Number(m[1]));
    });
    c.on('exit', (code) => reject(new Error(`${script} exited ${code}`)));
  });
}

function tool(script, args, input) {
  return spawnSync(process.execPath, [path.join(here, script), ...args], { input, encoding: 'utf8' });
}

function post(port, body, headers = {}, fn = 'fn') {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: `/2015-03-31/functions/${fn}/invocations`, headers },
      (res) => {
        let text = '';
        res.on('data', (d) => { text += d; });
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text ? JSON.parse(text) : null }));
      });
    req.on('error', reject);
    req.end(body);
  });
}

// A Kinesis event as Lambda's event source mapping builds it.
function kinesisEvent(datas, shard = 'shardId-000000000001') {
  return JSON.stringify({
    Records: datas.map((d, ix) => ({
      eventSource: 'aws:kinesis', eventName: 'aws:kinesis:record', eventVersion: '1.0',
      eventID: `${shard}:4960${ix}`,
      kinesis: { kinesisSchemaVersion: '1.0', partitionKey: `k${ix}`, sequenceNumber: `4960${ix}`,
                 data: Buffer.from(JSON.stringify(d)).toString('base64'), approximateArrivalTimestamp: 1.7e9 },
    })),
  });
}

const readLog = (f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map(JSON.parse) : []);

test('lambda_server answers as the Lambda Invoke API, with Powertools partial responses', async () => {
  const log = path.join(work, 'lambda.ndjson');
  const port = await startServer('lambda_server.js', ['--log', log, '--throttle-every', '6']);
  const ev = kinesisEvent([{ a: 1 }, { fail: true }, { failUntilAttempt: 2 }]);

  let r = await post(port, ev);
  assert.strictEqual(r.status, 200);
  assert.deepStrictEqual(r.body, { batchItemFailures: [{ itemIdentifier: '49601' }, { itemIdentifier: '49602' }] });
  r = await post(port, ev); // second attempt: failUntilAttempt 2 now succeeds
  assert.deepStrictEqual(r.body, { batchItemFailures: [{ itemIdentifier: '49601' }] });

  r = await post(port, kinesisEvent([{ fail: true }]));
  assert.strictEqual(r.status, 200);
  assert.strictEqual(r.headers['x-amz-function-error'], 'Unhandled');
  assert.strictEqual(r.body.errorType, 'FullBatchFailureError');

  r = await post(port, '{}', { 'X-Amz-Invocation-Type': 'DryRun' });
  assert.strictEqual(r.status, 204);
  r = await post(port, 'not json');
  assert.strictEqual(r.status, 400);
  assert.strictEqual(r.headers['x-amzn-errortype'], 'InvalidRequestContentException');
  r = await post(port, ev); // the 6th call
  assert.strictEqual(r.status, 429);
  assert.strictEqual(r.headers['x-amzn-errortype'], 'TooManyRequestsException');
  r = await post(port, kinesisEvent([]), {
    'X-Amz-Invocation-Type': 'Event', 'X-Amz-Date': '20250101T000000Z',
    Authorization: `AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'a'.repeat(64)}`,
  });
  assert.strictEqual(r.status, 202);

  const lines = readLog(log);
  const recs = lines.filter((l) => l.kind === 'record');
  assert.deepStrictEqual(recs.map((l) => [l.seq, l.attempt, l.shard]),
    [['49600', 1, 'shardId-000000000001'], ['49600', 2, 'shardId-000000000001'], ['49602', 2, 'shardId-000000000001']]);
  const invokes = lines.filter((l) => l.kind === 'invoke');
  assert.deepStrictEqual(invokes.map((l) => l.status), [200, 200, 200, 204, 400, 429, 202]);
  assert.deepStrictEqual(invokes.map((l) => l.signed), [false, false, false, false, false, false, true]);
  assert.strictEqual(invokes[6].invocationType, 'Event');
});

test('exec_handler: response on stdout, exit 1 on a full batch failure, attempts kept across runs', () => {
  const log = path.join(work, 'exec.ndjson');
  const ev = kinesisEvent([{ a: 1 }, { failUntilAttempt: 2 }]);
  let r = tool('exec_handler.js', ['--log', log], ev);
  assert.strictEqual(r.status, 0);
  assert.deepStrictEqual(JSON.parse(r.stdout), { batchItemFailures: [{ itemIdentifier: '49601' }] });
  r = tool('exec_handler.js', ['--log', log], ev);
  assert.deepStrictEqual(JSON.parse(r.stdout), { batchItemFailures: [] });
  r = tool('exec_handler.js', ['--log', log], kinesisEvent([{ fail: true }]));
  assert.strictEqual(r.status, 1);
  assert.strictEqual(JSON.parse(r.stdout).errorType, 'FullBatchFailureError');
  assert.deepStrictEqual(readLog(log).map((l) => `${l.kind} ${l.seq}`),
    ['record 49600', 'failed 49601', 'record 49600', 'record 49601', 'failed 49600']);
});

test('kinesis_tool against kinesalite; check_e2e tells complete runs from lossy and reordered ones', async () => {
  const port = await startServer('kinesalite_server.js', []);
  const kt = (...a) => execFileSync(process.execPath, [path.join(here, 'kinesis_tool.js'), '--endpoint-url', `http://127.0.0.1:${port}`, ...a], { encoding: 'utf8' });
  kt('create', 's', '2');
  const out = path.join(work, 'produced.ndjson');
  kt('put', 's', '1200', '--keys', '5', '--fail-every', '100', '--out', out);
  kt('split', 's', 'shardId-000000000000');
  kt('put', 's', '10', '--keys', '5', '--out', out); // after the split: into the children
  let shards = kt('shards', 's').trim().split('\n').map(JSON.parse);
  assert.deepStrictEqual(shards.map((s) => s.ShardId),
    ['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002', 'shardId-000000000003']);
  assert.ok(shards[0].SequenceNumberRange.EndingSequenceNumber, 'the split parent is closed');
  kt('merge', 's', 'shardId-000000000002', 'shardId-000000000003');
  shards = kt('shards', 's').trim().split('\n').map(JSON.parse);
  assert.strictEqual(shards[4].ParentShardId, 'shardId-000000000002');
  assert.strictEqual(shards[4].AdjacentParentShardId, 'shardId-000000000003');

  const produced = readLog(out);
  assert.strictEqual(produced.length, 1210);
  assert.strictEqual(new Set(produced.map((p) => p.seq)).size, 1210);
  assert.strictEqual(produced.filter((p) => p.fail).length, 12);
  assert.ok(produced.slice(1200).every((p) => p.shard !== 'shardId-000000000000'));

  // A run as a consumer would leave it: every good record processed in order, one twice,
  // the failing ones in on-failure records.
  const good = produced.filter((p) => !p.fail).map((p) => ({ kind: 'record', seq: p.seq, key: p.key, shard: p.shard, data: { k: p.key, i: p.i } }));
  good.push(good[3]);
  const failures = produced.filter((p) => p.fail).map((p) => ({ KinesisBatchInfo: { shardId: p.shard, startSequenceNumber: p.seq, endSequenceNumber: p.seq } }));
  const write = (name, rows) => { const f = path.join(work, name); fs.writeFileSync(f, rows.map((x) => JSON.stringify(x) + '\n').join('')); return f; };
  const failFile = write('failures.ndjson', failures);
  const check = (rows, withFailures = true) => tool('check_e2e.js',
    ['--produced', out, '--processed', write('processed.ndjson', rows), ...(withFailures ? ['--failures', failFile] : [])]);

  let r = check(good);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /produced 1210, processed 1198, duplicates 1, in failure file 12, lost 0, order violations 0/);
  r = check(good, false);
  assert.strictEqual(r.status, 1);
  assert.match(r.stdout, /lost 12,/);
  r = check(good.slice(1));
  assert.strictEqual(r.status, 1);
  assert.match(r.stdout, /lost 1,/);
  const k0 = good.filter((g) => g.key === 'k0');
  r = check([k0[1], k0[0], ...good.filter((g) => g.key !== 'k0'), ...k0.slice(2)]);
  assert.strictEqual(r.status, 1);
  assert.match(r.stdout, /order violations 1,/);
  // A failed attempt is a delivery: k0[0] failed, k0[1] succeeded, then k0[0] did (Powertools
  // goes on past a failure and Lambda retries from it) keeps the order.
  r = check([{ ...k0[0], kind: 'failed' }, k0[1], k0[0], ...good.filter((g) => g.key !== 'k0'), ...k0.slice(2)]);
  assert.strictEqual(r.status, 0, r.stdout);

  // Children only after parents, with the lineage of kinesis_tool.js shards.
  const shardsFile = write('shards.ndjson', shards);
  const lineage = (rows) => tool('check_e2e.js', ['--produced', out, '--processed', write('processed.ndjson', rows),
    '--failures', failFile, '--shards', shardsFile]);
  r = lineage(good);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /children before parents 0/);
  const child = good.find((g) => g.shard === 'shardId-000000000002');
  r = lineage([child, ...good]);
  assert.strictEqual(r.status, 1);
  assert.match(r.stdout, /children before parents 1/);

  // --strict-failures: Lambda's on-failure record shape, and every "fail": true record in one.
  const strict = (rows) => tool('check_e2e.js', ['--produced', out, '--processed', write('processed.ndjson', good),
    '--failures', write('failures.ndjson', rows), '--strict-failures']);
  const shaped = produced.filter((p) => p.fail).map((p) => ({
    requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 2 },
    KinesisBatchInfo: { shardId: p.shard, startSequenceNumber: p.seq, endSequenceNumber: p.seq, batchSize: 1,
                        streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/s' },
  }));
  r = strict(shaped);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /on-failure records 12, malformed 0, failing records not covered 0/);
  r = strict([...shaped.slice(1), { ...shaped[0], requestContext: { condition: 'Other', approximateInvokeCount: 1 } }]);
  assert.strictEqual(r.status, 1);
  assert.match(r.stdout, /malformed 1, failing records not covered 0/);
  r = strict(shaped.slice(1));
  assert.strictEqual(r.status, 1);
  assert.match(r.stdout, /lost 1, .*failing records not covered 1/);
});

const offline = fs.existsSync(path.join(here, 'offline', 'node_modules', 'serverless-offline'));
test('serverless-offline serves the same handler through the Lambda Invoke API',
  { skip: !offline && 'offline/ not installed (cd test/aws/node/offline && npm ci)' }, async () => {
    const log = path.join(work, 'offline.ndjson');
    const port = await startServer('offline/start.js', ['--log', log], 'ignore');
    const ev = kinesisEvent([{ a: 1 }, { fail: true }, { failUntilAttempt: 2 }]);
    let r = await post(port, ev, {}, 'e2e-fn');
    assert.strictEqual(r.status, 200);
    assert.deepStrictEqual(r.body, { batchItemFailures: [{ itemIdentifier: '49601' }, { itemIdentifier: '49602' }] });
    r = await post(port, ev, {}, 'e2e-fn');
    assert.deepStrictEqual(r.body, { batchItemFailures: [{ itemIdentifier: '49601' }] });
    r = await post(port, kinesisEvent([{ fail: true }]), {}, 'e2e-fn');
    assert.strictEqual(r.status, 200);
    assert.strictEqual(r.headers['x-amz-function-error'], 'Unhandled');
    // the worker thread loses the error's class: errorType is "Error" here
    assert.match(r.body.errorMessage, /All records failed processing/);
    r = await post(port, ev, {}, 'no-such-fn');
    assert.strictEqual(r.status, 404);
    assert.strictEqual(r.headers['x-amzn-errortype'], 'ResourceNotFoundException');
    assert.deepStrictEqual(readLog(log).filter((l) => l.kind === 'record').map((l) => [l.seq, l.attempt, l.via]),
      [['49600', 1, 'serverless-offline'], ['49600', 2, 'serverless-offline'], ['49602', 2, 'serverless-offline']]);
  });
