// SPDX-License-Identifier: MIT
// The `on_failure` expectation: each on-failure record the engine delivered against its
// expected entry (destination, delivery kind, the record or its flat summary, the S3 key),
// and the record's agreement with the delivery request the engine handed to the host.
'use strict';
const J = require('./json.js');
const M = require('./match.js');

const DELIVERY = { sqs: 'SQS', sns: 'SNS', s3: 'S3' };
const DEST_NUMBER = { OTHER: 0, SQS: 1, SNS: 2, S3: 3 };

const reEscape = (s) => s.replace(/[.[\]{}()*+?^$|\\]/g, '\\$&');

// The strftime conversions the templates use, in UTC.
function strftime(fmt, ms) {
  const d = new Date(ms);
  const p2 = (n) => String(n).padStart(2, '0');
  const conv = {
    Y: () => String(d.getUTCFullYear()), m: () => p2(d.getUTCMonth() + 1), d: () => p2(d.getUTCDate()),
    H: () => p2(d.getUTCHours()), M: () => p2(d.getUTCMinutes()), S: () => p2(d.getUTCSeconds()),
    '%': () => '%',
  };
  let bad = false;
  const out = fmt.replace(/%(.)/g, (all, c) => {
    if (conv[c]) return conv[c]();
    bad = true;
    return all;
  });
  return bad ? null : out;
}

// s3_key_template into an anchored regex ({esm_uuid}, {shardId}, {timestamp:fmt}, {uuid}).
function templateRegex(t, uuid, shard, tsMs) {
  let out = '^';
  for (;;) {
    const open = t.indexOf('{');
    out += reEscape(open < 0 ? t : t.slice(0, open));
    if (open < 0) break;
    const close = t.indexOf('}', open);
    if (close < 0) return null;
    const name = t.slice(open + 1, close);
    if (name === 'esm_uuid') out += reEscape(uuid);
    else if (name === 'shardId') out += reEscape(shard);
    else if (name === 'uuid') out += '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
    else if (name.startsWith('timestamp:')) {
      const when = strftime(name.slice(10), tsMs);
      if (when === null) return null;
      out += reEscape(when);
    } else return null;
    t = t.slice(close + 1);
  }
  return `${out}$`;
}

function checkOne(c, want, d, path) {
  const r = c.rep;
  if (d.recordJson === null) return r.fail(`${path}: the delivery carries no record_json`);
  if (d.record === undefined) {
    try { d.record = J.parse(d.recordJson); } catch (err) {
      return r.fail(`${path}: the on-failure record is not JSON: ${err.message}`);
    }
  }
  const rec = d.record;
  const dest = J.getStr(want, 'destination');
  const delivery = J.getStr(want, 'delivery');
  if (dest !== null && d.destination !== dest) {
    return r.fail(`${path}.destination: expected "${dest}", actual "${d.destination || '(none)'}"`);
  }
  if (delivery !== null && DELIVERY[delivery] !== d.destType) {
    return r.fail(`${path}.delivery: expected ${delivery}, the engine delivered to destination type ` +
      `${DEST_NUMBER[d.destType] !== undefined ? DEST_NUMBER[d.destType] : d.destType}`);
  }
  if (delivery === 's3' && J.get(rec, 'payload') === undefined) {
    return r.fail(`${path}.record.payload: missing in an S3 object body`);
  }
  if (want.has('record') && !c.mc.match(want.get('record'), rec, `${path}.record`)) return false;
  // the flat summary
  const req = J.get(rec, 'requestContext');
  const resp = J.get(rec, 'responseContext');
  const info = J.get(rec, 'KinesisBatchInfo') !== undefined ? J.get(rec, 'KinesisBatchInfo')
    : J.get(rec, 'DDBStreamBatchInfo');
  const flat = [['condition', J.get(req, 'condition')],
    ['approximateInvokeCount', J.get(req, 'approximateInvokeCount')],
    ['batchSize', J.get(info, 'batchSize')], ['startSequenceNumber', J.get(info, 'startSequenceNumber')],
    ['endSequenceNumber', J.get(info, 'endSequenceNumber')]];
  for (const [name, actual] of flat) {
    if (!want.has(name)) continue;
    c.mc.seqStrings = true;
    const ok = c.mc.match(want.get(name), actual, `${path}.${name}`);
    c.mc.seqStrings = false;
    if (!ok) return false;
  }
  if (want.has('responseContext')) {
    const w = want.get('responseContext');
    if ((w === 'present') !== (resp !== undefined)) {
      return r.fail(`${path}.responseContext: expected ${w}, actual ${resp !== undefined ? 'present' : 'absent'}`);
    }
  }
  if (want.has('functionError')) {
    const v = want.get('functionError');
    const fe = J.get(resp, 'functionError');
    if (v === 'absent') {
      if (fe !== undefined) return r.fail(`${path}.functionError: expected absent, actual ${J.render(fe, 128)}`);
    } else if (!c.mc.match(v, fe, `${path}.functionError`)) return false;
  }
  // the record and the request the engine handed over must agree
  const aic = J.get(req, 'approximateInvokeCount');
  const bs = J.get(info, 'batchSize');
  if (J.isNum(aic) && aic.isInt && aic.value !== d.approximateInvokeCount) {
    return r.fail(`${path}: engine: bp_delivery_req.approximate_invoke_count ${d.approximateInvokeCount} ` +
      `differs from the record's ${aic.raw}`);
  }
  if (J.isNum(bs) && bs.isInt && bs.value !== d.seqs.length) {
    return r.fail(`${path}: engine: bp_delivery_req.count ${d.seqs.length} differs from the record's batchSize ${bs.raw}`);
  }
  const tss = J.getStr(rec, 'timestamp');
  const t = M.rfc3339(tss);
  const ts = t ? t.ms : 0;
  if (want.has('timestamp_ms')) {
    if (!t) return r.fail(`${path}.timestamp_ms: the record has no RFC 3339 timestamp`);
    if (!c.mc.match(want.get('timestamp_ms'), new J.JNum(String(ts)), `${path}.timestamp_ms`)) return false;
  }
  if (t && ts !== d.timestampMs) {
    return r.fail(`${path}: engine: bp_delivery_req.timestamp_ms ${d.timestampMs} differs from the record's timestamp ${tss}`);
  }
  const tmpl = J.getStr(want, 's3_key_template');
  const rx = J.getStr(want, 's3_key_regex');
  if ((tmpl !== null || rx !== null) && !d.s3Key) return r.fail(`${path}: the delivery has no s3_key`);
  if (tmpl !== null) {
    const re = templateRegex(tmpl, c.log.esmUuid, d.shard, ts);
    if (re === null) return r.fail(`${path}.s3_key_template: cannot read the template`);
    if (M.regex(re, d.s3Key) !== 1) {
      return r.fail(`${path}.s3_key_template: "${d.s3Key}" does not fit "${tmpl}" (timestamp ${tss || '?'})`);
    }
  }
  if (rx !== null && M.regex(rx, d.s3Key) !== 1) return r.fail(`${path}.s3_key_regex: "${d.s3Key}" does not match`);
  // always: not earlier than the end of the last invocation that held the discarded records
  let lastEnd = -1;
  for (const inv of c.log.inv) {
    if (inv.throttled || inv.startMs > d.atMs || inv.shard !== d.shard) continue;
    for (const seq of d.seqs) {
      if (inv.seqs.some((x) => M.seqCmp(x, seq) === 0) && inv.endMs > lastEnd) lastEnd = inv.endMs;
    }
  }
  if (t && lastEnd >= 0 && ts < lastEnd) {
    return r.fail(`${path}: the record's timestamp ${tss} is earlier than the end (t=${lastEnd}) of the ` +
      'last invocation that contained its records');
  }
  return true;
}

/** `on_failure`: the delivered records in order, then their number. */
function checkFailures(c, want) {
  const dlv = c.log.dlv;
  const n = Math.min(want.length, dlv.length);
  for (let i = 0; i < n && !c.rep.failed; i++) checkOne(c, want[i], dlv[i], `${c.path}[${i}]`);
  if (c.rep.failed || want.length === dlv.length) return;
  let extra = '';
  if (dlv.length > want.length) {
    const d = dlv[want.length];
    extra = `; the first unexpected: ${d.condition === 'RecordAgeExceeded' ? 'RecordAgeExceeded' : 'RetryAttemptsExhausted'} ` +
      `${c.label(d.seqs[0])}..${c.label(d.seqs[d.seqs.length - 1])} (${d.seqs.length} records) at t=${d.atMs}`;
  }
  c.rep.fail(`${c.path}: ${want.length} on-failure record(s) expected, ${dlv.length} emitted${extra}`);
}

module.exports = { checkFailures };
