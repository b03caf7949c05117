// SPDX-License-Identifier: MIT
// sim.js, the scenario runner with the host in JavaScript: a scenario that holds passes, the
// same scenario with a wrong expectation fails naming the difference, a config case gets
// AWS's answer, a malformed file is refused with the JSON path, and the command's exit status.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');
const { runFile } = require('../lib/sim/run.js');
const { LoadError } = require('../lib/sim/load.js');

const SEQ = (n) => `4966702000000000000000000000000000000000000000000000000${n}`;
const T0 = 1764082807000;

// Two records; r1 is read at T0 and opens a 1 s window that r2 (readable at T0 + 0.5 s)
// joins: one invocation [r1, r2], then the checkpoint at r2. `expect` is overridable.
function scenario(expect, rules = [{ respond: { body: 'null' } }]) {
  return {
    environment: { region: 'us-east-1', role_arn: 'arn:aws:iam::111111111111:role/fn-role' },
    scenarios: [{
      id: 'W1', source_kind: 'kinesis',
      config: { EventSourceArn: 'arn:aws:kinesis:us-east-1:111111111111:stream/s1',
        FunctionName: 'arn:aws:lambda:us-east-1:111111111111:function:fn',
        StartingPosition: 'TRIM_HORIZON', BatchSize: 10, MaximumBatchingWindowInSeconds: 1 },
      stream: [1, 2].map((n) => ({ label: `r${n}`, shard: 'shardId-000000000000', seq: SEQ(n),
        partition_key: 'pk', arrival_ms: T0 + (n - 1) * 500, data: `{"v": ${n}}` })),
      start_ms: T0, run_until_ms: T0 + 10000,
      function: { rules },
      expect,
    }],
    config_cases: [{
      id: 'C1', input: { EventSourceArn: 'arn:aws:kinesis:us-east-1:111111111111:stream/s1',
        FunctionName: 'fn', StartingPosition: 'TRIM_HORIZON', BatchSize: 0 },
      expect: { ok: false, http_status: 400, error_type: 'ValidationException' },
    }],
  };
}

function run(doc, opts = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpsim-node-'));
  const file = path.join(dir, 's.json');
  fs.writeFileSync(file, JSON.stringify(doc));
  const lines = [];
  try {
    const counts = runFile(file, { ...opts, write: (l) => lines.push(l) });
    return { counts, lines, file };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test("a scenario that holds passes, and the config case gets AWS's answer", () => {
  const { counts, lines } = run(scenario({
    invocations: [[SEQ(1), SEQ(2)]], invocation_count: 1, final_checkpoint: SEQ(2),
    events: [{ invocation: 1, path: 'Records[1].kinesis.partitionKey', match: 'pk' }],
    timing: [{ left: { invocation: 1, at: 'start' }, op: '>=', right: { time_ms: T0 + 1000 } }],
    metrics: { PolledEventCount: 2, InvokedEventCount: 2 },
  }));
  assert.deepStrictEqual(lines, ['PASS W1', 'PASS C1', '2 passed, 0 failed, 0 skipped']);
  assert.deepStrictEqual(counts, { passed: 2, failed: 0, skipped: 0 });
});

test('a wrong expectation fails with the first difference, named by its path', () => {
  const { counts, lines } = run(scenario({ invocations: [[SEQ(1)], [SEQ(2)]] }));
  assert.strictEqual(lines[0], 'FAIL W1: expect.invocations[0]: expected [r1], actual [r1,r2]');
  assert.deepStrictEqual(counts, { passed: 1, failed: 1, skipped: 0 });

  const late = run(scenario({ final_checkpoint: SEQ(1) }));
  assert.strictEqual(late.lines[0], `FAIL W1: expect.final_checkpoint: expected ${SEQ(1)} (r1), ` +
    `actual ${SEQ(2)} (r2)`);
});

test('the scripted function: an error then success retries the batch; timing by sleep_ms', () => {
  const { lines } = run(scenario({
    invocations: [[SEQ(1), SEQ(2)], [SEQ(1), SEQ(2)]], final_checkpoint: SEQ(2),
    timing: [{ left: { invocation: 1, at: 'end' }, op: '>=', right: { invocation: 1, at: 'start' },
      offset_ms: 250 }],
  }, [{ when_invocation: 1, respond: { error: 'Unhandled', sleep_ms: 250 } },
    { respond: { body: 'null' } }]));
  assert.strictEqual(lines[0], 'PASS W1');
});

test('a malformed file is refused with the JSON path of the bad value', () => {
  const doc = scenario({ invocations: [['12']] });
  assert.throws(() => run(doc), (err) => err instanceof LoadError &&
    err.message === 'scenarios[0].expect.invocations[0][0]: no record of the stream has this sequence number');
  doc.scenarios[0].expect = { invocatons: [] };
  assert.throws(() => run(doc), /expect\.invocatons: unknown expectation field/);
});

test('the command: its lines and exit status (1 when a case fails)', () => {
  const sim = path.join(__dirname, '..', 'sim.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpsim-node-'));
  try {
    const file = path.join(dir, 's.json');
    fs.writeFileSync(file, JSON.stringify(scenario({ invocation_count: 1 })));
    const ok = execFileSync(process.execPath, [sim, '--only', 'W1', file], { encoding: 'utf8' });
    assert.strictEqual(ok, 'PASS W1\n1 passed, 0 failed, 0 skipped\n');
    fs.writeFileSync(file, JSON.stringify(scenario({ invocation_count: 2 })));
    const bad = spawnSync(process.execPath, [sim, file], { encoding: 'utf8' });
    assert.strictEqual(bad.status, 1);
    assert.match(bad.stdout, /^FAIL W1: expect\.invocation_count: expected 2, actual 1$/m);
    const usage = spawnSync(process.execPath, [sim, '--only', 'nope', file], { encoding: 'utf8' });
    assert.strictEqual(usage.status, 2);
    assert.match(usage.stderr, /no case "nope"/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
