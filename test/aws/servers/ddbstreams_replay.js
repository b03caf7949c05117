// SPDX-License-Identifier: MIT
// A loopback DynamoDB Streams (JSON 1.0, DynamoDBStreams_20120810.*) for the reader tests:
// DescribeStream / GetShardIterator / GetRecords answered from recorded exchanges shaped like
// the service's (our own recordings). One stream, a closed parent shard and its open child;
// DescribeStream lists them on two pages; the parent's second read answers
// ExpiredIteratorException once, the child's first read LimitExceededException once; the
// parent's read past its last record has no NextShardIterator (SHARD_END).
// Prints its port (127.0.0.1, chosen by the system). Node 18, no dependencies.
'use strict';
const http = require('http');

const ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/2026-01-01T00:00:00.000';
const PARENT = 'shardId-00000001767225600000-0a1b2c3d';
const CHILD = 'shardId-00000001767229200000-4e5f6a7b';
const T0 = 1767225600; // 2026-01-01T00:00:00Z, seconds

function record(i, seq, name, extra) {
  const id = { N: String(100 + i) };
  const dynamodb = {
    ApproximateCreationDateTime: T0 + i,
    Keys: { Id: id },
    SequenceNumber: seq,
    SizeBytes: 26 + i,
    StreamViewType: 'NEW_AND_OLD_IMAGES',
  };
  if (name !== 'REMOVE') dynamodb.NewImage = { Id: id, Msg: { S: 'm\u00e9' + i } };
  if (name !== 'INSERT') dynamodb.OldImage = { Id: id, Msg: { S: 'old' + i } };
  return Object.assign({
    awsRegion: 'us-east-1',
    dynamodb,
    eventID: 'e' + String(i).padStart(31, '0'),
    eventName: name,
    eventSource: 'aws:dynamodb',
    eventVersion: '1.1',
  }, extra || {});
}

// Sequence numbers: 21 digits, ascending within each shard.
const shards = {
  [PARENT]: {
    closed: true,
    records: [0, 1, 2, 3, 4].map((i) =>
      record(i, '1000000000000000000' + String(10 + i), i === 2 ? 'MODIFY' : 'INSERT')),
  },
  [CHILD]: {
    closed: false,
    records: [5, 6, 7].map((i) =>
      record(i, '2000000000000000000' + String(10 + i), i === 7 ? 'REMOVE' : 'INSERT',
        i === 7 ? { userIdentity: { principalId: 'dynamodb.amazonaws.com', type: 'Service' } } : null)),
  },
};
shards[PARENT].end = shards[PARENT].records[4].dynamodb.SequenceNumber;

const iterators = new Map(); // iterator -> { shard, index }
let nextIterator = 1;
let parentReads = 0;
let childReads = 0;

function iterator(shard, index) {
  const it = ARN + '|1|AAAAAAAAAA' + Buffer.from(shard + ':' + index + ':' + nextIterator++).toString('base64');
  iterators.set(it, { shard, index });
  return it;
}

function shardJson(id) {
  const s = shards[id];
  const range = { StartingSequenceNumber: s.records[0].dynamodb.SequenceNumber };
  if (s.closed) range.EndingSequenceNumber = s.end;
  const o = { SequenceNumberRange: range, ShardId: id };
  if (id === CHILD) o.ParentShardId = PARENT;
  return o;
}

function fail(res, code, message) {
  res.writeHead(400, { 'Content-Type': 'application/x-amz-json-1.0' });
  res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#' + code, message }));
}

const ops = {
  DescribeStream(q, res) {
    if (q.StreamArn !== ARN) return fail(res, 'ResourceNotFoundException', 'Requested resource not found');
    const desc = {
      CreationRequestDateTime: T0,
      KeySchema: [{ AttributeName: 'Id', KeyType: 'HASH' }],
      StreamArn: ARN,
      StreamLabel: '2026-01-01T00:00:00.000',
      StreamStatus: 'ENABLED',
      StreamViewType: 'NEW_AND_OLD_IMAGES',
      TableName: 'T',
    };
    if (q.ExclusiveStartShardId === undefined) {
      desc.Shards = [shardJson(PARENT)];
      desc.LastEvaluatedShardId = PARENT;
    } else if (q.ExclusiveStartShardId === PARENT) {
      desc.Shards = [shardJson(CHILD)];
    } else {
      desc.Shards = [];
    }
    return { StreamDescription: desc };
  },
  GetShardIterator(q, res) {
    const s = shards[q.ShardId];
    if (q.StreamArn !== ARN || !s) return fail(res, 'ResourceNotFoundException', 'Requested resource not found');
    let index;
    switch (q.ShardIteratorType) {
      case 'TRIM_HORIZON': index = 0; break;
      case 'LATEST': index = s.records.length; break;
      case 'AT_SEQUENCE_NUMBER':
      case 'AFTER_SEQUENCE_NUMBER': {
        index = s.records.findIndex((r) => r.dynamodb.SequenceNumber === q.SequenceNumber);
        if (index < 0) return fail(res, 'ValidationException', 'Invalid SequenceNumber');
        if (q.ShardIteratorType === 'AFTER_SEQUENCE_NUMBER') index++;
        break;
      }
      default: return fail(res, 'ValidationException', 'Invalid ShardIteratorType');
    }
    return { ShardIterator: iterator(q.ShardId, index) };
  },
  GetRecords(q, res) {
    const pos = iterators.get(q.ShardIterator);
    if (!pos) return fail(res, 'ValidationException', 'Invalid ShardIterator');
    if (pos.shard === PARENT && ++parentReads === 2)
      return fail(res, 'ExpiredIteratorException', 'Iterator expired');
    if (pos.shard === CHILD && ++childReads === 1)
      return fail(res, 'LimitExceededException', 'Rate exceeded for shard');
    const s = shards[pos.shard];
    const limit = Math.min(q.Limit || 1000, 2); // small pages: several reads per shard
    const recs = s.records.slice(pos.index, pos.index + limit);
    const out = { Records: recs };
    if (!(s.closed && recs.length === 0 && pos.index >= s.records.length))
      out.NextShardIterator = iterator(pos.shard, pos.index + recs.length);
    return out;
  },
};

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const target = req.headers['x-amz-target'] || '';
    const op = target.startsWith('DynamoDBStreams_20120810.') ? target.slice(25) : '';
    if (!req.headers.authorization) return fail(res, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    if (!ops[op]) return fail(res, 'UnknownOperationException', 'Unknown operation ' + target);
    let q;
    try { q = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch (e) { return fail(res, 'SerializationException', 'Bad JSON'); }
    const out = ops[op](q, res);
    if (out === undefined) return;
    res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.0' });
    res.end(JSON.stringify(out));
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\n'));
