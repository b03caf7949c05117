// SPDX-License-Identifier: MIT
// Filter against the shared vectors (test/data/filter-vectors.json): every expected match,
// every rejected pattern (ConfigError, code -11, Lambda's message, event-ruler's reason), and
// stream records matched through their filter view.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { Filter, ConfigError, InvalidArgumentError, encodeEvent } = require('..');

const VECTORS = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', '..', '..',
  'test', 'data', 'filter-vectors.json'), 'utf8'));

// JSON whose numbers all survive JSON.parse exactly (integers within 2^53).
function exact(x) {
  if (typeof x === 'number') return !Number.isInteger(x) || Number.isSafeInteger(x);
  if (x && typeof x === 'object') return Object.values(x).every(exact);
  return true;
}

test('the vectors\' matches, as text, Buffer and object', () => {
  let done = 0;
  let skipped = 0;
  for (const v of VECTORS) {
    if (!('match' in v) || typeof v.pattern !== 'object' || v.invalid) continue;
    // numbers JavaScript cannot hold exactly are taken from the vector's texts, or skipped
    if (!v.pattern_text && !exact(v.pattern)) { skipped++; continue; }
    if (!v.event_text && !exact(v.event)) { skipped++; continue; }
    const f = new Filter(v.pattern_text ?? v.pattern);
    const text = v.event_text ?? JSON.stringify(v.event);
    assert.strictEqual(f.matches(text), v.match, v.id);
    assert.strictEqual(f.matches(Buffer.from(text)), v.match, v.id);
    if (!v.event_text && !('seq' in v.event)) assert.strictEqual(f.matches(v.event), v.match, v.id);
    f.close();
    done++;
  }
  assert.ok(done > 200 && skipped < 5, `${done} vectors, ${skipped} skipped`);
});

test('the vectors\' invalid patterns throw ConfigError with the code and the reason', () => {
  let done = 0;
  for (const v of VECTORS) {
    if (!v.invalid) continue;
    assert.throws(() => new Filter(v.pattern), (e) => {
      assert.ok(e instanceof ConfigError, v.id);
      assert.strictEqual(e.code, -11);
      assert.strictEqual(e.codeName, 'BP_ERR_CONFIG_INVALID');
      assert.strictEqual(e.message, 'Invalid filter pattern definition.');
      assert.strictEqual(e.awsType, 'InvalidParameterValueException');
      if (v.ruler_error) assert.strictEqual(e.reason, v.ruler_error, v.id);
      else assert.ok(e.reason);
      return true;
    });
    done++;
  }
  assert.ok(done > 30, `${done} invalid vectors`);
});

test('several patterns are OR-ed; no pattern matches all; bad events and too many patterns', () => {
  const f = new Filter('{"a": [{"prefix": "x"}]}', { b: [1] });
  assert.strictEqual(f.size, 2);
  assert.strictEqual(f.matches('{"a": "xyz"}'), true);
  assert.strictEqual(f.matches({ b: 1.0 }), true);
  assert.strictEqual(f.matches('{"a": "yz", "b": 2}'), false);
  assert.strictEqual(f.matches('{"a": "xé€𝄞"}'), true); // UTF-8 written by the binding
  assert.strictEqual(new Filter().matches('{}'), true);
  assert.throws(() => f.matches('not json'), (e) => e instanceof InvalidArgumentError && e.code === -7);
  const ten = new Filter(Array.from({ length: 10 }, (_, i) => ({ k: [i] })), {});
  assert.throws(() => ten.add({ k: [10] }), (e) => e.code === -8 && e.codeName === 'BP_ERR_TOO_LARGE');
  assert.throws(() => new Filter([{ a: [{ wildcard: 'x*' }] }], { strict: true }), ConfigError);
  assert.strictEqual(new Filter({ a: [{ wildcard: 'x*' }] }).matches({ a: 'xy' }), true);
  f.close();
  assert.throws(() => f.matches('{}'), /closed/);
});

test('stream records through their filter view: data, metadata, dropped', () => {
  const rec = (seq, data) => ({ seq, arrivalMs: 1545084650001, partitionKey: 'pk-1',
    data: Buffer.from(data) });
  const f = new Filter({ data: { type: ['order'] } });
  assert.strictEqual(f.matches(rec('1', '{"type":"order"}')), true);
  assert.strictEqual(f.matches(rec('2', '{"type":"refund"}')), false);
  assert.strictEqual(f.matchRecord(rec('3', 'not json')), 'dropped');
  assert.strictEqual(f.matchRecord(rec('4', '{"type":"order"}')), 'match');
  const meta = new Filter({ kinesis: { partitionKey: ['pk-1'] } });
  assert.strictEqual(meta.matches(rec('5', 'not json')), true);
  // the same view the codec encodes: the event's record matches as JSON too
  const ev = JSON.parse(encodeEvent([rec('6', 'x')]));
  assert.strictEqual(meta.matches(ev.Records[0]), true);
  assert.throws(() => meta.matchRecord({ seq: 'x1', arrivalMs: 0, partitionKey: 'p', data: '' }),
    (e) => e.code === -18 && /sequence/.test(e.message));
});
