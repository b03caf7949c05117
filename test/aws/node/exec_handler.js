// SPDX-License-Identifier: MIT
// The Powertools Kinesis batch handler of powertools_handler.js as a command, for bpconsume --exec:
// reads the event JSON on stdin, writes the response JSON on stdout and exits 0; when the handler
// throws (FullBatchFailureError: every record failed) it writes {"errorType","errorMessage"} on
// stdout and exits 1.
// Usage: node exec_handler.js --log FILE [--attempts FILE]
// Each run is a new process, so the per-sequence-number attempt counts ("failUntilAttempt") are
// kept in --attempts FILE (default: the log's name + ".attempts"), one sequence number a line.
'use strict';
const fs = require('fs');
const { makeHandler, errorBody } = require('./powertools_handler.js');

function usage(msg) {
  process.stderr.write(`exec_handler: ${msg}\nusage: exec_handler.js --log FILE [--attempts FILE]\n`);
  process.exit(2);
}

const argv = process.argv.slice(2);
let logFile = null, attemptsFile = null;
for (let i = 0; i < argv.length; i += 2) {
  if (argv[i + 1] === undefined) usage(`${argv[i]} wants a value`);
  if (argv[i] === '--log') logFile = argv[i + 1];
  else if (argv[i] === '--attempts') attemptsFile = argv[i + 1];
  else usage(`unknown option ${argv[i]}`);
}
if (!logFile) usage('--log FILE is required');
attemptsFile = attemptsFile || `${logFile}.attempts`;

const counts = new Map();
if (fs.existsSync(attemptsFile)) {
  for (const seq of fs.readFileSync(attemptsFile, 'utf8').split('\n')) if (seq) counts.set(seq, (counts.get(seq) || 0) + 1);
}
const attempts = {
  bump(seq) {
    fs.appendFileSync(attemptsFile, `${seq}\n`);
    const n = (counts.get(seq) || 0) + 1;
    counts.set(seq, n);
    return n;
  },
};

const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', async () => {
  let event;
  try {
    event = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (e) {
    process.stdout.write(JSON.stringify({ errorType: 'InvalidRequestContentException', errorMessage: e.message }) + '\n');
    process.exitCode = 1;
    return;
  }
  const handler = makeHandler({ logFile, attempts });
  try {
    const result = await handler(event, { functionName: 'exec', awsRequestId: `pid-${process.pid}` }, { invocationType: 'exec' });
    process.stdout.write(JSON.stringify(result) + '\n');
  } catch (e) {
    process.stdout.write(JSON.stringify(errorBody(e)) + '\n');
    process.exitCode = 1;
  }
});
