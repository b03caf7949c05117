// SPDX-License-Identifier: MIT
// Checks an end-to-end run: every record the producer wrote was processed by the function or is
// covered by an on-failure record, and per partition key the records were first processed in the
// order they were produced.
// Usage: node check_e2e.js --produced FILE [--produced FILE ...] --processed LOG [--failures FILE]
//   --produced   kinesis_tool.js put --out files: {"shard","seq","key","i","fail"} lines
//   --processed  the log of lambda_server.js / exec_handler.js: {"kind":"record","seq",...} lines
//   --failures   bpconsume's --failures-file: on-failure records whose KinesisBatchInfo gives
//                shardId, startSequenceNumber, endSequenceNumber (a range, both ends included)
// Prints one line of counts; exits 1 when a record is lost, processed out of order, processed but
// never produced, or processed with data other than what was produced; 2 on bad input.
'use strict';
const fs = require('fs');

function die(msg) {
  process.stderr.write(`check_e2e: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { produced: [], processed: null, failures: null };
  for (let i = 0; i < argv.length; i += 2) {
    const v = argv[i + 1];
    if (v === undefined) die(`${argv[i]} wants a value`);
    if (argv[i] === '--produced') o.produced.push(v);
    else if (argv[i] === '--processed') o.processed = v;
    else if (argv[i] === '--failures') o.failures = v;
    else die(`unknown option ${argv[i]}`);
  }
  if (!o.produced.length || !o.processed) die('usage: check_e2e.js --produced FILE... --processed LOG [--failures FILE]');
  return o;
}

function* ndjson(file) {
  const text = fs.readFileSync(file, 'utf8');
  let n = 0;
  for (const line of text.split('\n')) {
    n++;
    if (!line.trim()) continue;
    try {
      yield JSON.parse(line);
    } catch (e) {
      die(`${file}:${n}: ${e.message}`);
    }
  }
}

function seqNum(v, where) {
  if (typeof v !== 'string' || !/^\d+$/.test(v)) die(`${where}: sequence number ${JSON.stringify(v)} is not a decimal string`);
  return BigInt(v);
}

const opts = parseArgs(process.argv.slice(2));

const produced = new Map(); // seq -> {shard, key, i, fail}
for (const f of opts.produced) {
  for (const r of ndjson(f)) {
    seqNum(r.seq, f);
    if (produced.has(r.seq)) die(`${f}: sequence number ${r.seq} produced twice`);
    produced.set(r.seq, r);
  }
}

const ranges = new Map(); // shard -> [[start, end], ...]
if (opts.failures && fs.existsSync(opts.failures)) {
  for (const r of ndjson(opts.failures)) {
    const b = r.KinesisBatchInfo;
    if (!b || typeof b.shardId !== 'string') die(`${opts.failures}: a line without KinesisBatchInfo.shardId`);
    const range = [seqNum(b.startSequenceNumber, opts.failures), seqNum(b.endSequenceNumber, opts.failures)];
    if (!ranges.has(b.shardId)) ranges.set(b.shardId, []);
    ranges.get(b.shardId).push(range);
  }
}
const inFailureFile = (rec) =>
  (ranges.get(rec.shard) || []).some(([lo, hi]) => lo <= BigInt(rec.seq) && BigInt(rec.seq) <= hi);

const times = new Map(); // seq -> how often processed
const lastI = new Map(); // key -> i of the last first-processed record
let unknown = 0, mismatched = 0, orderViolations = 0;
const problems = [];
for (const r of ndjson(opts.processed)) {
  if (r.kind !== 'record') continue;
  const n = (times.get(r.seq) || 0) + 1;
  times.set(r.seq, n);
  if (n > 1) continue;
  const p = produced.get(r.seq);
  if (!p) {
    unknown++;
    problems.push(`processed but never produced: ${r.seq}`);
    continue;
  }
  if (r.key !== p.key || r.shard !== p.shard || !r.data || r.data.i !== p.i || r.data.k !== p.key) {
    mismatched++;
    problems.push(`${r.seq}: processed ${JSON.stringify({ key: r.key, shard: r.shard, data: r.data })}, produced ${JSON.stringify(p)}`);
  }
  if (lastI.has(p.key) && p.i <= lastI.get(p.key)) {
    orderViolations++;
    problems.push(`key ${p.key}: i ${p.i} (${r.seq}) first processed after i ${lastI.get(p.key)}`);
  }
  lastI.set(p.key, Math.max(p.i, lastI.has(p.key) ? lastI.get(p.key) : -1));
}

let processed = 0, duplicates = 0, failed = 0, lost = 0;
for (const [seq, p] of produced) {
  const n = times.get(seq) || 0;
  if (n > 0) processed++;
  if (n > 1) duplicates++;
  const covered = inFailureFile(p);
  if (covered) failed++;
  if (n === 0 && !covered) {
    lost++;
    problems.push(`lost: ${seq} (shard ${p.shard}, key ${p.key}, i ${p.i})`);
  }
}

for (const line of problems.slice(0, 20)) process.stderr.write(`check_e2e: ${line}\n`);
if (problems.length > 20) process.stderr.write(`check_e2e: ... and ${problems.length - 20} more\n`);
process.stdout.write(`produced ${produced.size}, processed ${processed}, duplicates ${duplicates}, ` +
  `in failure file ${failed}, lost ${lost}, order violations ${orderViolations}, ` +
  `unknown ${unknown}, mismatched ${mismatched}\n`);
process.exit(lost || orderViolations || unknown || mismatched ? 1 : 0);
