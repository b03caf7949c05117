// SPDX-License-Identifier: MIT
// Config.fromJSON: AWS's members, AWS's exception names and exact messages, error classes.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { Config, ConfigError, BatchpointError } = require('..');

const ARN = 'arn:aws:kinesis:us-east-1:123456789012:stream/s';

test('a valid body gives a Config with AWS defaults', () => {
  const c = Config.fromJSON({ EventSourceArn: ARN, FunctionName: 'f', StartingPosition: 'LATEST' });
  assert.strictEqual(c.source, 'kinesis');
  assert.strictEqual(c.batchSize, 100);
  assert.strictEqual(c.eventSourceArn, ARN);
  c.close();
  assert.throws(() => c.ptr, /closed/);
  const d = Config.fromJSON(Buffer.from(JSON.stringify({ EventSourceArn:
    'arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024', FunctionName: 'f',
    StartingPosition: 'TRIM_HORIZON' })));
  assert.strictEqual(d.source, 'dynamodb');
});

test('AWS rejections are ConfigErrors with code, type, status and AWS text', () => {
  assert.throws(() => Config.fromJSON({ EventSourceArn: ARN, FunctionName: 'f',
    StartingPosition: 'LATEST', BatchSize: 20000 }), (e) => {
    assert.ok(e instanceof ConfigError && e instanceof BatchpointError);
    assert.strictEqual(e.code, -11);
    assert.strictEqual(e.codeName, 'BP_ERR_CONFIG_INVALID');
    assert.strictEqual(e.httpStatus, 400);
    assert.match(e.awsType, /Exception$/);
    assert.match(e.message, /10000/);
    return true;
  });
  assert.throws(() => Config.fromJSON('{"EventSourceArn":'), (e) => e instanceof ConfigError &&
    e.code === -7 && e.awsType === 'ValidationException' &&
    /^Could not parse request body into json/.test(e.message));
  assert.throws(() => Config.fromJSON({ EventSourceArn: ARN, FunctionName: 'f',
    StartingPosition: 'LATEST', Bogus: 1 }), ConfigError);
});
