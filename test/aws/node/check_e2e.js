// SPDX-License-Identifier: MIT
// Checks an end-to-end run: every record the producer wrote was processed by the function or is
// covered by an on-failure record, and per partition key the records were first delivered to the
// function (processed, or a failed attempt) in the order they were produced. (First processing
// may differ: Powertools goes on past a failed record and Lambda retries from it, so a later
// record of the key can succeed before the failed one does.)
// Usage: node check_e2e.js --produced FILE [--produced FILE ...] --processed LOG [--failures FILE]
//                          [--shards FILE] [--strict-failures]
//   --produced   kinesis_tool.js put --out files: {"shard","seq","key","i","fail"} lines
//   --processed  the log of lambda_server.js / exec_handler.js: {"kind":"record"|"failed","seq",...}
//   --failures   bpconsume's --failures-file: on-failure records whose KinesisBatchInfo gives
//                shardId, startSequenceNumber, endSequenceNumber (a range, both ends included)
//   --shards     kinesis_tool.js shards output: also checks children only after parents, i.e. no
//                record of a child shard is first processed before every record of its parent(s)
//                (those not in the failure file) was processed (delivered: processed or failed)
//   --strict-failures  every on-failure record has Lambda's shape (requestContext.condition
//                RetryAttemptsExhausted, KinesisBatchInfo with shardId, sequence numbers and
//                batchSize) and every produced "fail": true record is in one
// Prints one line of counts; exits 1 when a record is lost, processed out of order, processed but
// never produced, processed with data other than what was produced, before its parent shard's
// records, or (--strict-failures) a failure line is malformed or a failing record not in one;
// 2 on bad input.
'use strict';
const fs = require('fs');

function die(msg) {
  process.stderr.write(`check_e2e: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { produced: [], processed: null, failures: null, shards: null, strict: false };
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--strict-failures') {
      o.strict = true;
      i--;
      continue;
    }
    const v = argv[i + 1];
    if (v === undefined) die(`${argv[i]} wants a value`);
    if (argv[i] === '--produced') o.produced.push(v);
    else if (argv[i] === '--processed') o.processed = v;
    else if (argv[i] === '--failures') o.failures = v;
    else if (argv[i] === '--shards') o.shards = v;
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

const problems = [];
// Lambda's on-failure record for a Kinesis source, as far as this run can know it.
function malformedFailure(r) {
  const c = r.requestContext, b = r.KinesisBatchInfo;
  if (!c || c.condition !== 'RetryAttemptsExhausted') return 'requestContext.condition is not RetryAttemptsExhausted';
  if (typeof c.approximateInvokeCount !== 'number' || c.approximateInvokeCount < 1) return 'no requestContext.approximateInvokeCount';
  if (!/^\d+$/.test(String(b.startSequenceNumber)) || !/^\d+$/.test(String(b.endSequenceNumber))) return 'sequence numbers are not decimal strings';
  if (BigInt(b.startSequenceNumber) > BigInt(b.endSequenceNumber)) return 'startSequenceNumber after endSequenceNumber';
  if (!Number.isInteger(b.batchSize) || b.batchSize < 1) return 'no KinesisBatchInfo.batchSize';
  if (typeof b.streamArn !== 'string' || !b.streamArn.startsWith('arn:')) return 'no KinesisBatchInfo.streamArn';
  return null;
}

let malformed = 0, failLines = 0;
const ranges = new Map(); // shard -> [[start, end], ...]
if (opts.failures && fs.existsSync(opts.failures)) {
  for (const r of ndjson(opts.failures)) {
    const b = r.KinesisBatchInfo;
    if (!b || typeof b.shardId !== 'string') die(`${opts.failures}: a line without KinesisBatchInfo.shardId`);
    failLines++;
    const why = opts.strict ? malformedFailure(r) : null;
    if (why) {
      malformed++;
      problems.push(`on-failure record ${JSON.stringify(b)}: ${why}`);
    }
    const range = [seqNum(b.startSequenceNumber, opts.failures), seqNum(b.endSequenceNumber, opts.failures)];
    if (!ranges.has(b.shardId)) ranges.set(b.shardId, []);
    ranges.get(b.shardId).push(range);
  }
}
const inFailureFile = (rec) =>
  (ranges.get(rec.shard) || []).some(([lo, hi]) => lo <= BigInt(rec.seq) && BigInt(rec.seq) <= hi);

// Children only after parents: per shard, how many of its produced records outside the failure
// file are still unprocessed; a child's first processed record wants its parents' counts at 0.
const parents = new Map(); // shard -> [parent ids]
const pending = new Map(); // shard -> records not yet processed (failure file excluded)
const childStarted = new Set();
let childBeforeParent = 0;
if (opts.shards) {
  for (const s of ndjson(opts.shards)) {
    if (typeof s.ShardId !== 'string') die(`${opts.shards}: a line without ShardId`);
    parents.set(s.ShardId, [s.ParentShardId, s.AdjacentParentShardId].filter((x) => typeof x === 'string'));
  }
  for (const p of produced.values()) {
    if (!parents.has(p.shard)) die(`${opts.shards}: no shard ${p.shard}, produced into`);
    if (!inFailureFile(p)) pending.set(p.shard, (pending.get(p.shard) || 0) + 1);
  }
}

const times = new Map(); // seq -> how often processed
const delivered = new Set(); // seqs the function saw, processed or failed
const lastI = new Map(); // key -> i of the last first-delivered record
let unknown = 0, mismatched = 0, orderViolations = 0;
for (const r of ndjson(opts.processed)) {
  if (r.kind !== 'record' && r.kind !== 'failed') continue;
  const p = produced.get(r.seq);
  if (!delivered.has(r.seq)) {
    delivered.add(r.seq);
    if (!p) {
      unknown++;
      problems.push(`delivered but never produced: ${r.seq}`);
      continue;
    }
    if (r.key !== p.key || r.shard !== p.shard || !r.data || r.data.i !== p.i || r.data.k !== p.key) {
      mismatched++;
      problems.push(`${r.seq}: delivered ${JSON.stringify({ key: r.key, shard: r.shard, data: r.data })}, produced ${JSON.stringify(p)}`);
    }
    if (lastI.has(p.key) && p.i <= lastI.get(p.key)) {
      orderViolations++;
      problems.push(`key ${p.key}: i ${p.i} (${r.seq}) first delivered after i ${lastI.get(p.key)}`);
    }
    lastI.set(p.key, Math.max(p.i, lastI.has(p.key) ? lastI.get(p.key) : -1));
    if (opts.shards && !childStarted.has(p.shard)) {
      childStarted.add(p.shard);
      for (const parent of parents.get(p.shard)) {
        const left = pending.get(parent) || 0;
        if (left > 0) {
          childBeforeParent++;
          problems.push(`${p.shard}: first record ${r.seq} delivered while ${left} of parent ${parent} were not processed`);
        }
      }
    }
  }
  if (!p || r.kind !== 'record') continue;
  const n = (times.get(r.seq) || 0) + 1;
  times.set(r.seq, n);
  if (n === 1 && opts.shards && !inFailureFile(p)) pending.set(p.shard, pending.get(p.shard) - 1);
}

let processed = 0, duplicates = 0, failed = 0, lost = 0, failNotCovered = 0;
for (const [seq, p] of produced) {
  const n = times.get(seq) || 0;
  if (n > 0) processed++;
  if (n > 1) duplicates++;
  const covered = inFailureFile(p);
  if (covered) failed++;
  if (opts.strict && p.fail && !covered) {
    failNotCovered++;
    problems.push(`"fail": true record ${seq} (shard ${p.shard}) is in no on-failure record`);
  }
  if (n === 0 && !covered) {
    lost++;
    problems.push(`lost: ${seq} (shard ${p.shard}, key ${p.key}, i ${p.i})`);
  }
}

for (const line of problems.slice(0, 20)) process.stderr.write(`check_e2e: ${line}\n`);
if (problems.length > 20) process.stderr.write(`check_e2e: ... and ${problems.length - 20} more\n`);
process.stdout.write(`produced ${produced.size}, processed ${processed}, duplicates ${duplicates}, ` +
  `in failure file ${failed}, lost ${lost}, order violations ${orderViolations}, ` +
  `unknown ${unknown}, mismatched ${mismatched}` +
  (opts.shards ? `, children before parents ${childBeforeParent}` : '') +
  (opts.strict ? `, on-failure records ${failLines}, malformed ${malformed}, failing records not covered ${failNotCovered}` : '') +
  '\n');
process.exit(lost || orderViolations || unknown || mismatched || childBeforeParent || malformed || failNotCovered ? 1 : 0);
