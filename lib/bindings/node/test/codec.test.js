// SPDX-License-Identifier: MIT
// encodeEvent: Lambda's Kinesis / DynamoDB event for records (Buffers and strings in, the
// library's bytes out), windows, bad records as errors; classifyResponse: the §3.4 outcomes.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { Codec, encodeEvent, classifyResponse, InvalidArgumentError } = require('..');

const ARN = 'arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream';
const ROLE = 'arn:aws:iam::123456789012:role/r';

test('a Kinesis event: every member, data base64, byte-exact arrival, Buffer or string out', () => {
  const recs = [
    { seq: '49590338271490256608559692538361571095921575989136588898', arrivalMs: 1545084650987,
      partitionKey: 'pk-é', data: Buffer.from([0, 255, 1]) },
    { seq: '49590338271490256608559692538361571095921575989136589898', arrivalMs: 1545084651001,
      partitionKey: 'k', data: 'aGk=', dataBase64: true, encryptionType: 'KMS' },
  ];
  const buf = encodeEvent(recs, { eventSourceArn: ARN, invokeIdentityArn: ROLE, shardId: 'shardId-000000000006' });
  assert.ok(Buffer.isBuffer(buf));
  const ev = JSON.parse(buf);
  assert.strictEqual(ev.Records.length, 2);
  const r0 = ev.Records[0];
  assert.deepStrictEqual(r0, {
    kinesis: { kinesisSchemaVersion: '1.0', partitionKey: 'pk-é', sequenceNumber: recs[0].seq,
      data: 'AP8B', approximateArrivalTimestamp: 1545084650.987 },
    eventSource: 'aws:kinesis', eventVersion: '1.0',
    eventID: `shardId-000000000006:${recs[0].seq}`, eventName: 'aws:kinesis:record',
    invokeIdentityArn: ROLE, awsRegion: 'us-east-2', eventSourceARN: ARN });
  assert.match(buf.toString(), /"approximateArrivalTimestamp":1545084651\.001/);
  assert.strictEqual(ev.Records[1].kinesis.data, 'aGk=');
  assert.strictEqual(ev.Records[1].kinesis.encryptionType, 'KMS');
  const c = new Codec({ eventSourceArn: ARN, invokeIdentityArn: ROLE });
  assert.strictEqual(c.encodeEvent(recs, { shardId: 'shardId-000000000006', as: 'string' }), buf.toString());
  assert.strictEqual(c.encodeEvent([]).toString(), '{"Records":[]}');
  // a large batch grows the native block and keeps every byte
  const many = Array.from({ length: 3000 }, (_, i) => ({ seq: String(1000 + i), arrivalMs: 1e12 + i,
    partitionKey: 'p'.repeat(200), data: Buffer.alloc(300, i & 0xff) }));
  const big = JSON.parse(c.encodeEvent(many));
  assert.strictEqual(big.Records.length, 3000);
  assert.deepStrictEqual(Buffer.from(big.Records[2999].kinesis.data, 'base64'), Buffer.alloc(300, 2999 & 0xff));
  c.close();
  assert.throws(() => c.encodeEvent(recs), /closed/);
});

test('a tumbling-window event and a DynamoDB event', () => {
  const w = JSON.parse(encodeEvent([{ seq: '1', arrivalMs: 1000, partitionKey: 'p', data: 'x' }],
    { window: { startMs: 60000, endMs: 120000, state: { n: 1 }, isFinal: true } }));
  assert.deepStrictEqual(w.state, { n: 1 });
  assert.strictEqual(w.isFinalInvokeForWindow, true);
  assert.strictEqual(w.shardId, 'shardId-000000000000');
  const ddbArn = 'arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024-01-01T00:00:00.000';
  const ddb = { ApproximateCreationDateTime: 1700000000, Keys: { id: { S: 'a' } },
    SequenceNumber: '100', SizeBytes: 10, StreamViewType: 'KEYS_ONLY' };
  const ev = JSON.parse(encodeEvent([{ seq: '100', arrivalMs: 1700000000000, eventId: 'e1',
    eventName: 'INSERT', dynamodb: ddb }], { eventSourceArn: ddbArn }));
  assert.strictEqual(ev.Records[0].eventSource, 'aws:dynamodb');
  assert.strictEqual(ev.Records[0].eventName, 'INSERT');
  assert.deepStrictEqual(ev.Records[0].dynamodb.Keys, { id: { S: 'a' } });
});

test('bad records are errors with codes and the index', () => {
  assert.throws(() => encodeEvent([{ seq: '1', arrivalMs: 0, partitionKey: 'p', data: 'x' },
    { seq: '01', arrivalMs: 0, partitionKey: 'p', data: 'x' }]),
  (e) => e instanceof InvalidArgumentError && e.code === -18 && /record 1/.test(e.message));
  assert.throws(() => encodeEvent([{ seq: '1', arrivalMs: 0, partitionKey: 'p', data: '!!',
    dataBase64: true }]), (e) => e.code < 0);
  assert.throws(() => encodeEvent([42]), TypeError);
});

test('classifyResponse: partial, success, failure reasons, state', () => {
  const seqs = ['100', '200', '300'];
  let r = classifyResponse(seqs, Buffer.from('{"batchItemFailures":[{"itemIdentifier":"300"},{"itemIdentifier":"200"}]}'));
  assert.strictEqual(r.outcome, 'partial');
  assert.strictEqual(r.failedIndex, 1);
  assert.strictEqual(r.failedItemIdentifier, '200');
  assert.strictEqual(r.failedCount, 2);
  assert.strictEqual(classifyResponse(seqs, '{}').outcome, 'success');
  assert.strictEqual(classifyResponse(seqs, '').reason, 'empty');
  r = classifyResponse(seqs, 'not json');
  assert.deepStrictEqual([r.outcome, r.reason], ['failure', 'invalid_json']);
  assert.ok(r.message);
  r = classifyResponse(seqs, '{"batchItemFailures":[{"itemIdentifier":"7"}]}');
  assert.deepStrictEqual([r.outcome, r.reason], ['failure', 'unknown_identifier']);
  r = classifyResponse(seqs, 'not json', { reportBatchItemFailures: false });
  assert.deepStrictEqual([r.outcome, r.reason], ['success', 'not_reporting']);
  r = classifyResponse(seqs.map((seq) => ({ seq })), '{"state":{"n":1},"batchItemFailures":[]}', { requireState: true });
  assert.deepStrictEqual([r.outcome, r.state], ['success', '{"n":1}']);
  assert.strictEqual(classifyResponse(seqs, '{}', { requireState: true }).reason, 'state_missing');
  assert.throws(() => classifyResponse(['2', '1'], '{}'), (e) => e.code === -1 || e.code === -4);
});

test('copy: false and into: the same bytes as the copy, written where the caller says', () => {
  const c = new Codec({ eventSourceArn: ARN, invokeIdentityArn: ROLE });
  const recs = Array.from({ length: 50 }, (_, i) => ({ seq: String(1000 + i), arrivalMs: 1e12 + i,
    partitionKey: i % 7 ? `k${i}` : 'clé', data: Buffer.alloc(i, i) }));
  const win = { startMs: 60000, endMs: 120000, state: { n: 1 } };
  const own = c.encodeEvent(recs);
  const ownWin = c.encodeEvent(recs, { window: win });
  // copy: false: a view of the Codec's buffer, overwritten by its next encodeEvent
  const view = c.encodeEvent(recs, { copy: false });
  assert.ok(view.equals(own));
  c.encodeEvent(recs.slice(0, 2), { copy: false });
  assert.ok(!view.equals(own), 'the next call reuses the memory the view shows');
  assert.strictEqual(view.subarray(0, 12).toString(), '{"Records":[');
  // copies (the default) are the caller's and never change
  c.encodeEvent([], { copy: false });
  assert.ok(own.equals(c.encodeEvent(recs)));
  // into: a Buffer at an offset of a larger one, a plain Uint8Array, strings
  const big = Buffer.alloc(own.length + 100, 0x23);
  const into = big.subarray(10, 10 + own.length + 50);
  const got = c.encodeEvent(recs, { into });
  assert.ok(got.equals(own));
  assert.strictEqual(got.buffer, big.buffer);
  assert.strictEqual(got.byteOffset, 10);
  assert.strictEqual(big[9], 0x23);
  assert.strictEqual(big[10 + own.length], 0x23);
  const u8 = new Uint8Array(ownWin.length);
  assert.ok(c.encodeEvent(recs, { into: u8, window: win }).equals(ownWin));
  assert.ok(Buffer.from(u8).equals(ownWin));
  assert.strictEqual(c.encodeEvent(recs, { into, as: 'string' }), own.toString());
  const ascii = recs.filter((r) => r.partitionKey !== 'clé');
  assert.strictEqual(c.encodeEvent(ascii, { as: 'string' }), c.encodeEvent(ascii).toString('utf8'));
  // too small: nothing written, the length needed said
  const small = Buffer.alloc(own.length - 1, 0x23);
  assert.throws(() => c.encodeEvent(recs, { into: small }),
    (e) => e instanceof InvalidArgumentError && e.code === -3 && e.needed === own.length);
  assert.ok(small.every((b) => b === 0x23));
  assert.throws(() => c.encodeEvent(recs, { into: [] }), TypeError);
  // bad records fail the same way with into
  assert.throws(() => c.encodeEvent([{ seq: '01', arrivalMs: 0, partitionKey: 'p', data: 'x' }],
    { into }), (e) => e.code === -18);
  c.close();
});
