// SPDX-License-Identifier: MIT
// A producer and admin tool speaking to a Kinesis endpoint through the real AWS SDK v3 client.
// Usage: node kinesis_tool.js --endpoint-url URL COMMAND ...
//   create STREAM SHARDS                 CreateStream, then wait until ACTIVE
//   put STREAM N --out FILE [--keys K] [--fail-every F] [--flaky-every F --flaky-attempts A]
//        N records of JSON {"k":key,"i":per-key counter,"fail":bool[,"failUntilAttempt":A]} over K
//        partition keys ("k0".."k<K-1>", round robin), PutRecords in batches of <= 500, in order;
//        every F-th record (1-based) gets "fail": true, every F-th of --flaky-every gets
//        "failUntilAttempt": A. Appends {"shard","seq","key","i","fail"} per record to FILE (NDJSON);
//        a key's counter goes on from the records already in FILE.
//   split STREAM SHARD                   SplitShard at the middle of SHARD's hash range, wait ACTIVE
//   merge STREAM SHARD1 SHARD2           MergeShards of two adjacent open shards, wait ACTIVE
//   shards STREAM                        ListShards, one JSON line per shard
'use strict';
const fs = require('fs');
const { NodeHttpHandler } = require('@smithy/node-http-handler');
const {
  KinesisClient, CreateStreamCommand, DescribeStreamSummaryCommand, PutRecordsCommand,
  ListShardsCommand, SplitShardCommand, MergeShardsCommand,
} = require('@aws-sdk/client-kinesis');

const PUT_BATCH = 500; // PutRecords' limit

// The SDK warns on every run under Node 18 (still supported by the version pinned here, and
// what CI has); that warning would bury the tool's own output.
const emitWarning = process.emitWarning;
process.emitWarning = (warning, ...rest) => {
  if (String(warning).startsWith('NodeDeprecationWarning: The AWS SDK')) return;
  emitWarning.call(process, warning, ...rest);
};

function die(msg) {
  process.stderr.write(`kinesis_tool: ${msg}\n`);
  process.exit(2);
}

// Splits argv into positional words and --name value options.
function parse(argv) {
  const pos = [], opt = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--')) {
      if (argv[i + 1] === undefined) die(`${argv[i]} wants a value`);
      opt[argv[i].slice(2)] = argv[++i];
    } else pos.push(argv[i]);
  }
  return { pos, opt };
}

function count(v, name, min) {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) die(`${name} must be a whole number >= ${min}, not ${v}`);
  return n;
}

function client(endpoint) {
  return new KinesisClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
    // The SDK's default handler for Kinesis speaks HTTP/2; kinesalite only HTTP/1.1.
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5000, requestTimeout: 30000 }),
  });
}

async function waitActive(kc, stream) {
  const deadline = Date.now() + 30000;
  for (;;) {
    const s = await kc.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    if (s.StreamDescriptionSummary.StreamStatus === 'ACTIVE') return;
    if (Date.now() > deadline) die(`${stream} still ${s.StreamDescriptionSummary.StreamStatus} after 30 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function listShards(kc, stream) {
  const shards = [];
  let token;
  do {
    const r = await kc.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: stream }));
    shards.push(...r.Shards);
    token = r.NextToken;
  } while (token);
  return shards;
}

async function put(kc, stream, n, opt) {
  if (!opt.out) die('put wants --out FILE');
  const keys = count(opt.keys || '1', '--keys', 1);
  const failEvery = count(opt['fail-every'] || '0', '--fail-every', 0);
  const flakyEvery = count(opt['flaky-every'] || '0', '--flaky-every', 0);
  const flakyAttempts = count(opt['flaky-attempts'] || '2', '--flaky-attempts', 1);
  // Counters go on from records an earlier put wrote to the same file, so "i" orders a key's
  // records over the whole run (e.g. puts before and after a split).
  const perKey = new Array(keys).fill(0);
  if (fs.existsSync(opt.out)) {
    for (const line of fs.readFileSync(opt.out, 'utf8').split('\n')) {
      if (!line) continue;
      const r = JSON.parse(line), kn = Number(String(r.key).slice(1));
      if (kn < keys) perKey[kn] = Math.max(perKey[kn], r.i + 1);
    }
  }
  const out = fs.openSync(opt.out, 'a');
  for (let start = 0; start < n; start += PUT_BATCH) {
    const batch = [];
    for (let j = start; j < Math.min(n, start + PUT_BATCH); j++) {
      const kn = j % keys;
      const data = { k: `k${kn}`, i: perKey[kn]++, fail: failEvery > 0 && (j + 1) % failEvery === 0 };
      if (flakyEvery > 0 && (j + 1) % flakyEvery === 0) data.failUntilAttempt = flakyAttempts;
      batch.push(data);
    }
    const r = await kc.send(new PutRecordsCommand({
      StreamName: stream,
      Records: batch.map((d) => ({ PartitionKey: d.k, Data: Buffer.from(JSON.stringify(d)) })),
    }));
    // Re-sending a failed entry would put it after later records of its key and break the
    // per-key order the checks rely on, so a partial failure is an error here.
    if (r.FailedRecordCount) {
      const bad = r.Records.find((x) => x.ErrorCode);
      die(`PutRecords: ${r.FailedRecordCount} of ${batch.length} records failed (${bad.ErrorCode}: ${bad.ErrorMessage})`);
    }
    const lines = r.Records.map((x, idx) => JSON.stringify({
      shard: x.ShardId, seq: x.SequenceNumber, key: batch[idx].k, i: batch[idx].i, fail: batch[idx].fail,
    }) + '\n');
    fs.writeSync(out, lines.join(''));
  }
  fs.fsyncSync(out);
  fs.closeSync(out);
  process.stdout.write(`put ${n} records over ${keys} keys into ${stream}\n`);
}

async function split(kc, stream, shardId) {
  const shard = (await listShards(kc, stream)).find((s) => s.ShardId === shardId);
  if (!shard) die(`no shard ${shardId} in ${stream}`);
  const lo = BigInt(shard.HashKeyRange.StartingHashKey), hi = BigInt(shard.HashKeyRange.EndingHashKey);
  if (hi <= lo) die(`${shardId} covers a single hash key and cannot be split`);
  // The new shard starts half-way; it must lie in (lo, hi].
  const mid = lo + (hi - lo + 1n) / 2n;
  await kc.send(new SplitShardCommand({ StreamName: stream, ShardToSplit: shardId, NewStartingHashKey: mid.toString() }));
  await waitActive(kc, stream);
  process.stdout.write(`split ${shardId} at ${mid}\n`);
}

async function main() {
  const { pos, opt } = parse(process.argv.slice(2));
  const endpoint = opt['endpoint-url'];
  if (!endpoint) die('--endpoint-url URL is required');
  const [cmd, stream, a, b] = pos;
  if (!cmd || !stream) die('usage: kinesis_tool.js --endpoint-url URL create|put|split|merge|shards STREAM ...');
  const kc = client(endpoint);
  switch (cmd) {
    case 'create':
      await kc.send(new CreateStreamCommand({ StreamName: stream, ShardCount: count(a, 'SHARDS', 1) }));
      await waitActive(kc, stream);
      process.stdout.write(`created ${stream}\n`);
      break;
    case 'put':
      await put(kc, stream, count(a, 'N', 0), opt);
      break;
    case 'split':
      if (!a) die('split wants STREAM SHARD');
      await split(kc, stream, a);
      break;
    case 'merge':
      if (!a || !b) die('merge wants STREAM SHARD1 SHARD2');
      await kc.send(new MergeShardsCommand({ StreamName: stream, ShardToMerge: a, AdjacentShardToMerge: b }));
      await waitActive(kc, stream);
      process.stdout.write(`merged ${a} and ${b}\n`);
      break;
    case 'shards':
      for (const s of await listShards(kc, stream)) process.stdout.write(JSON.stringify(s) + '\n');
      break;
    default:
      die(`unknown command ${cmd}`);
  }
}

main().catch((e) => {
  process.stderr.write(`kinesis_tool: ${e.name}: ${e.message}\n`);
  process.exit(1);
});
