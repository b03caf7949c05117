// SPDX-License-Identifier: MIT
// The Kinesis batch handler shared by lambda_server.js and exec_handler.js, built with
// Powertools' batch utility the way a real function would be. A record's data is base64 JSON:
//   "fail": true            the record handler always throws
//   "failUntilAttempt": N   it throws until this sequence number has been seen N times
// Every record that succeeds is appended (appendFileSync: one write per line) to the log as
//   {"kind":"record","seq","key","shard","data","attempt", ...extra}
// and every attempt that throws as {"kind":"failed","seq","key","shard","attempt", ...extra}:
// Powertools goes on past a failed record, so a later record of its key may succeed first, and
// only the failed line shows the failed one was delivered before it.
'use strict';
const fs = require('fs');
const { BatchProcessor, EventType, processPartialResponse } = require('@aws-lambda-powertools/batch');

// attempts: { bump(seq) -> how many times seq has now been seen }
function makeHandler({ logFile, attempts }) {
  return async function handler(event, context, extra) {
    // One processor per invocation: it holds the batch's state, and the server may run
    // invocations concurrently (Lambda would give each its own instance).
    const processor = new BatchProcessor(EventType.KinesisDataStreams);
    const recordHandler = async (record) => {
      const k = record.kinesis;
      const attempt = attempts.bump(k.sequenceNumber);
      const data = JSON.parse(Buffer.from(k.data, 'base64').toString('utf8'));
      // eventID is "<shardId>:<sequenceNumber>"
      const shard = String(record.eventID || '').split(':')[0];
      const log = (kind) => {
        const line = { kind, seq: k.sequenceNumber, key: k.partitionKey, shard, data, attempt, ...extra };
        if (logFile) fs.appendFileSync(logFile, JSON.stringify(line) + '\n');
      };
      let why = null;
      if (data && data.fail === true) why = `record ${k.sequenceNumber} has "fail": true`;
      else if (data && Number.isInteger(data.failUntilAttempt) && attempt < data.failUntilAttempt)
        why = `record ${k.sequenceNumber}: attempt ${attempt} of ${data.failUntilAttempt}`;
      if (why) {
        log('failed');
        throw new Error(why);
      }
      log('record');
    };
    // In order, one at a time, so the log shows the order the batch was handled in.
    return processPartialResponse(event, recordHandler, processor, { context, processInParallel: false });
  };
}

// Lambda's body for an unhandled error.
function errorBody(err) {
  return { errorType: (err && err.name) || 'Error', errorMessage: String((err && err.message) || err) };
}

module.exports = { makeHandler, errorBody };
