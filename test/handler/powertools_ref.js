// SPDX-License-Identifier: MIT
// The reference side of the Powertools conformance test: each event of a file through AWS
// Lambda Powertools' batch utility (BatchProcessor + processPartialResponse, the package
// pinned in test/aws/node/package.json), one output line per event:
//   the response, JSON.stringify'd (what a Node function returns to Lambda), or
//   "error <class>" when the handler throws (FullBatchFailureError, UnexpectedBatchTypeError,
//   a TypeError from a malformed record, SyntaxError for an event that is not JSON).
//
// Usage: node powertools_ref.js EVENTS        one event per line (raw JSON text, any bytes)
//        node powertools_ref.js --array FILE  a JSON array of events
//
// The rule that fails a record, evaluated the same way by handler_ref.c (a rule over bytes,
// so that both sides agree on every input, whatever a JSON parser would make of it):
//   Kinesis:  the base64-decoded data contains the bytes "fail":true or the bytes FAIL;
//   DynamoDB: dynamodb.NewImage has an attribute "fail" whose value is {"BOOL": true}.
'use strict';
const fs = require('fs');
const path = require('path');
const { BatchProcessor, EventType, processPartialResponse } = require(
  path.join(__dirname, '../aws/node/node_modules/@aws-lambda-powertools/batch'));

const FAIL_JSON = Buffer.from('"fail":true');
const FAIL_TEXT = Buffer.from('FAIL');

async function kinesisRecord(record) {
  // Buffer.from(x, 'base64') throws only when data is not a string (a malformed record).
  const data = Buffer.from(record.kinesis.data, 'base64');
  if (data.includes(FAIL_JSON) || data.includes(FAIL_TEXT))
    throw new Error(`record ${record.kinesis.sequenceNumber} is marked failing`);
}

async function dynamodbRecord(record) {
  const img = record.dynamodb.NewImage;
  if (img && img.fail && img.fail.BOOL === true)
    throw new Error(`record ${record.dynamodb.SequenceNumber} is marked failing`);
}

function isDynamoDB(event) {
  const r = event && Array.isArray(event.Records) ? event.Records[0] : null;
  return !!r && (r.eventSource === 'aws:dynamodb' || (r.dynamodb !== undefined && r.kinesis === undefined));
}

async function one(text) {
  let event;
  try {
    event = JSON.parse(text);
  } catch (e) {
    return `error ${e.name}`;
  }
  const ddb = isDynamoDB(event);
  // One processor per event, as a function holding one per invocation would.
  const processor = new BatchProcessor(ddb ? EventType.DynamoDBStreams : EventType.KinesisDataStreams);
  try {
    const res = await processPartialResponse(event, ddb ? dynamodbRecord : kinesisRecord, processor,
      { processInParallel: false });
    return JSON.stringify(res);
  } catch (e) {
    return `error ${(e && e.name) || 'Error'}`;
  }
}

async function main() {
  const args = process.argv.slice(2);
  let texts;
  if (args[0] === '--array' && args.length === 2) {
    texts = JSON.parse(fs.readFileSync(args[1], 'utf8')).map((e) => JSON.stringify(e));
  } else if (args.length === 1) {
    texts = fs.readFileSync(args[0], 'utf8').split('\n');
    if (texts.length && texts[texts.length - 1] === '') texts.pop();
  } else {
    process.stderr.write('usage: node powertools_ref.js EVENTS | --array FILE\n');
    process.exit(2);
  }
  const out = [];
  for (const t of texts) out.push(await one(t));
  process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
}

main().catch((e) => {
  process.stderr.write(`powertools_ref: ${e.stack || e}\n`);
  process.exit(1);
});
