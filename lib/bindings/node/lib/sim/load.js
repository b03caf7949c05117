// SPDX-License-Identifier: MIT
// Loading a scenario file (the esm-scenarios.json format, described by the file's `format`
// object): scenarios with their mappings, function rules, actions and expectations, and the
// config cases. Every field the runner uses is checked; a malformed file throws a LoadError
// naming the JSON path of the first bad value. The records are stream.js's.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const J = require('./json.js');
const M = require('./match.js');
const { loadStream, findRecord } = require('./stream.js');

const TIME_MAX_MS = 253402300799999; // 9999-12-31T23:59:59.999Z (BP_TIME_MAX_MS)
const MAX_SETUP = 16;

class LoadError extends Error {}

/** The loader's position in the file: its messages name that JSON path. */
class Loader {
  constructor(dir) {
    this.dir = dir;
    this.path = '';
    this.line = ''; // "scenarios[0].stream_file F line N" while reading that line
    this.scn = null; // sequence numbers in expectations must be its records'
  }

  fail(msg) {
    if (this.line) throw new LoadError(`${this.line}: ${this.path}${this.path ? ': ' : ''}${msg}`);
    throw new LoadError(`${this.path || '(top level)'}: ${msg}`);
  }

  /** Runs fn with the path extended by a key or an index. */
  at(part, fn) {
    const old = this.path;
    this.path = typeof part === 'number' ? `${old}[${part}]` : old ? `${old}.${part}` : part;
    try { return fn(); } finally { this.path = old; }
  }

  known(obj, names, what) {
    for (const k of obj.keys()) {
      if (!names.includes(k)) this.at(k, () => this.fail(`unknown ${what} field (this runner is older than the file?)`));
    }
  }

  /** Member key of obj of type t ('string', 'number', 'object', 'array', 'boolean', 'any'). */
  member(obj, key, t, need) {
    const v = J.get(obj, key);
    if (v === undefined) {
      if (need) this.at(key, () => this.fail('missing'));
      return undefined;
    }
    const ok = t === 'any' || (t === 'string' && J.isStr(v)) || (t === 'number' && J.isNum(v)) ||
      (t === 'object' && J.isObj(v)) || (t === 'array' && Array.isArray(v)) ||
      (t === 'boolean' && J.isBool(v));
    if (!ok) {
      const name = { string: 'a string', number: 'a number', object: 'an object', array: 'an array',
        boolean: 'a boolean' }[t];
      this.at(key, () => this.fail(`${name} expected, got ${J.typeName(v)}`));
    }
    return v;
  }

  string(obj, key, need) { return this.member(obj, key, 'string', need); }

  int(obj, key, need, lo, hi) {
    const v = this.member(obj, key, 'number', need);
    if (v === undefined) return undefined;
    return this.at(key, () => {
      if (!v.isInt) this.fail(`an integer expected, got ${v.raw}`);
      const x = Number(v.raw);
      if (x < lo || x > hi) this.fail(`${v.raw} is out of range ${lo}..${hi}`);
      return x;
    });
  }

  seqVal(v) {
    if (!J.isStr(v)) this.fail(`a sequence number string expected, got ${J.typeName(v)}`);
    if (!M.isSeq(v)) this.fail('not a decimal string');
  }

  /** A sequence number an expectation or a rule names: it must be one of the stream's. */
  seqRef(v) {
    this.seqVal(v);
    if (!findRecord(this.scn, v)) this.fail('no record of the stream has this sequence number');
  }

  seqList(arr) {
    if (!Array.isArray(arr)) this.fail(`an array expected, got ${J.typeName(arr)}`);
    arr.forEach((v, i) => this.at(i, () => this.seqRef(v)));
  }

  matchers(v) {
    const bad = M.matcherCheck(v, this.path);
    if (bad) {
      const old = this.path;
      this.path = bad.path;
      try { this.fail(bad.why); } finally { this.path = old; }
    }
  }

  numOrMatcher(v) {
    if (J.isNum(v)) return;
    if (J.isMatcher(v)) this.matchers(v);
    else this.fail(`a number or a matcher expected, got ${J.typeName(v)}`);
  }

  oneOf(obj, key, values, expected) {
    const v = this.string(obj, key, false);
    if (v !== undefined && !values.includes(v)) this.at(key, () => this.fail(`${expected} expected, got "${v}"`));
  }

  matcherOr(e, key, check) {
    const v = J.get(e, key);
    if (v === undefined) return;
    this.at(key, () => (J.isMatcher(v) ? this.matchers(v) : check(v)));
  }

  stringList(arr) {
    arr.forEach((v, i) => {
      if (!J.isStr(v)) this.at(i, () => this.fail(`a string expected, got ${J.typeName(v)}`));
    });
  }
}

// ---- expectations ----

function side(l, s) {
  if (!J.isObj(s)) l.fail(`an object expected, got ${J.typeName(s)}`);
  l.known(s, ['invocation', 'at', 'time_ms'], 'timing side');
  if (s.has('time_ms')) return l.int(s, 'time_ms', true, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const inv = s.get('invocation');
  if (inv === undefined) l.fail("needs 'invocation' or 'time_ms'");
  if (inv !== 'each') l.int(s, 'invocation', true, 1, Number.MAX_SAFE_INTEGER);
  const at = l.string(s, 'at', true);
  if (at !== 'start' && at !== 'end') l.at('at', () => l.fail(`'start' or 'end' expected, got "${at}"`));
  return undefined;
}

function failureEntry(l, e) {
  l.known(e, ['destination', 'delivery', 'record', 'condition', 'approximateInvokeCount',
    'functionError', 'responseContext', 'batchSize', 'startSequenceNumber', 'endSequenceNumber',
    'timestamp_ms', 's3_key_template', 's3_key_regex'], 'on_failure');
  l.string(e, 'destination', false);
  l.oneOf(e, 'delivery', ['sqs', 'sns', 's3'], "'sqs', 'sns' or 's3'");
  l.oneOf(e, 'responseContext', ['present', 'absent'], "'present' or 'absent'");
  l.string(e, 's3_key_template', false);
  const rx = l.string(e, 's3_key_regex', false);
  const str = (v) => J.isStr(v) || l.fail(`a string or a matcher expected, got ${J.typeName(v)}`);
  const num = (v) => J.isNum(v) || l.fail(`a number or a matcher expected, got ${J.typeName(v)}`);
  l.matcherOr(e, 'condition', str);
  l.matcherOr(e, 'functionError', (v) => J.isStr(v) || v === null ||
    l.fail(`a string, null or a matcher expected, got ${J.typeName(v)}`));
  l.matcherOr(e, 'startSequenceNumber', (v) => l.seqRef(v));
  l.matcherOr(e, 'endSequenceNumber', (v) => l.seqRef(v));
  l.matcherOr(e, 'approximateInvokeCount', num);
  l.matcherOr(e, 'batchSize', num);
  l.matcherOr(e, 'timestamp_ms', num);
  l.matcherOr(e, 'record', (v) => l.matchers(v));
  if (rx !== undefined && M.regex(rx, '') < 0) l.at('s3_key_regex', () => l.fail('not a valid regular expression'));
}

function checkpointValue(l, v) {
  const one = (x) => { if (x !== null) l.seqRef(x); };
  if (!J.isObj(v)) return one(v);
  for (const [k, x] of v) {
    l.at(k, () => {
      if (!l.scn.shards.some((s) => s.id === k)) l.fail('no such shard in the stream');
      one(x);
    });
  }
  return undefined;
}

function expectField(l, key, v) {
  switch (key) {
    case 'invocations': case 'inf_expected_invocations':
      if (!Array.isArray(v)) l.fail(`an array expected, got ${J.typeName(v)}`);
      v.forEach((x, i) => l.at(i, () => l.seqList(x)));
      return;
    case 'every_invocation': case 'delivered_in_order': case 'not_delivered':
      l.seqList(v);
      return;
    case 'ignore_empty_invocations': case 'per_key_serial':
      if (!J.isBool(v)) l.fail('a boolean expected');
      return;
    case 'invocation_count': case 'throttled_attempts': case 'max_in_flight': case 'max_event_bytes':
      l.numOrMatcher(v);
      return;
    case 'last_processing_result':
      if (J.isStr(v) || J.isMatcher(v)) l.matchers(v); else l.fail('a string expected');
      return;
    case 'final_checkpoint':
      checkpointValue(l, v);
      return;
    case 'delivery_counts': case 'per_key_order': case 'metrics':
      if (!J.isObj(v)) l.fail(`an object expected, got ${J.typeName(v)}`);
      for (const [k, x] of v) {
        l.at(k, () => {
          if (key === 'delivery_counts') {
            if (!M.isSeq(k)) l.fail('key is not a decimal string');
            if (!findRecord(l.scn, k)) l.fail('no record of the stream has this sequence number');
            l.numOrMatcher(x);
          } else if (key === 'per_key_order') l.seqList(x);
          else l.numOrMatcher(x);
        });
      }
      return;
    case 'checkpoint_at': case 'events': case 'timing': case 'on_failure':
      if (!Array.isArray(v)) l.fail(`an array expected, got ${J.typeName(v)}`);
      v.forEach((e, i) => l.at(i, () => {
        if (!J.isObj(e)) l.fail(`an object expected, got ${J.typeName(e)}`);
        if (key === 'checkpoint_at') {
          l.known(e, ['at_ms', 'checkpoint'], 'checkpoint_at');
          l.int(e, 'at_ms', true, 0, TIME_MAX_MS);
          if (!e.has('checkpoint')) l.fail("'checkpoint' missing");
          l.at('checkpoint', () => checkpointValue(l, e.get('checkpoint')));
        } else if (key === 'events') {
          l.known(e, ['invocation', 'equals', 'path', 'match'], 'events');
          l.int(e, 'invocation', true, 1, Number.MAX_SAFE_INTEGER);
          const eq = e.get('equals');
          const match = e.get('match');
          if ((eq === undefined) === (match === undefined)) l.fail("needs 'equals' or 'path' + 'match' (one of them)");
          const p = l.string(e, 'path', match !== undefined);
          if (eq !== undefined && p !== undefined) l.fail("'path' goes with 'match', not with 'equals'");
          l.at(eq !== undefined ? 'equals' : 'match', () => l.matchers(eq !== undefined ? eq : match));
        } else if (key === 'timing') {
          l.known(e, ['left', 'op', 'right', 'offset_ms'], 'timing');
          const op = l.string(e, 'op', true);
          if (op !== '>=' && op !== '<=') l.fail("op must be '>=' or '<='");
          l.int(e, 'offset_ms', false, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
          for (const s of ['left', 'right']) {
            const x = l.member(e, s, 'object', true);
            l.at(s, () => side(l, x));
          }
        } else failureEntry(l, e);
      }));
      return;
    default:
      l.fail('unknown expectation field (this runner is older than the file?)');
  }
}

// ---- the scripted function ----

const INT_CONDITIONS = { when_invocation: 'invocation', when_now_lt_ms: 'nowLt',
  when_now_ge_ms: 'nowGe' };

/** One rule: its conditions and its response ({ kind: 'body'|'error'|'throttle', ... }). */
function rule(l, r) {
  if (!J.isObj(r)) l.fail(`an object expected, got ${J.typeName(r)}`);
  const out = { contains: null, invocation: null, nowLt: null, nowGe: null, final: null,
    windowStartMs: null, kind: 'body', body: '', error: null, sleepMs: 0 };
  for (const [k, v] of r) {
    if (INT_CONDITIONS[k]) { // l.int names the member itself
      out[INT_CONDITIONS[k]] = l.int(r, k, true, k === 'when_invocation' ? 1 : 0, TIME_MAX_MS + 1);
      continue;
    }
    l.at(k, () => {
      if (k === 'when_batch_contains_seq') {
        if (J.isStr(v)) { l.seqRef(v); out.contains = [v]; } else { l.seqList(v); out.contains = v; }
      } else if (k === 'when_is_final_invoke_for_window') {
        if (!J.isBool(v)) l.fail('a boolean expected');
        out.final = v;
      } else if (k === 'when_window_start') {
        const t = M.rfc3339(v);
        if (!t) l.fail('an RFC 3339 instant expected');
        out.windowStartMs = t.ms;
      } else if (k === 'respond') {
        if (!J.isObj(v)) l.fail(`an object expected, got ${J.typeName(v)}`);
        const body = l.string(v, 'body', false);
        const error = l.string(v, 'error', false);
        const thr = l.member(v, 'throttle', 'boolean', false);
        const sleep = l.int(v, 'sleep_ms', false, 0, 86400000 * 365);
        for (const rk of v.keys()) {
          if (!['body', 'error', 'throttle', 'sleep_ms'].includes(rk)) l.at(rk, () => l.fail('unknown response field'));
        }
        if (error !== undefined && Buffer.byteLength(error) > 64) l.fail('error: longer than 64 bytes');
        out.body = body === undefined ? '' : body;
        out.error = error === undefined ? null : error;
        out.sleepMs = sleep === undefined ? 0 : sleep;
        out.kind = thr === true ? 'throttle' : error !== undefined ? 'error' : 'body';
      } else l.fail('unknown rule field');
    });
  }
  if (!r.has('respond')) l.fail("'respond' missing");
  return out;
}

function mapping(l, config, fn, expect, name, expectPath) {
  const rules = l.at('function', () => {
    if (!J.isObj(fn)) l.fail(`an object expected, got ${J.typeName(fn)}`);
    l.known(fn, ['rules'], 'function');
    const list = l.member(fn, 'rules', 'array', true);
    return l.at('rules', () => {
      if (list.length === 0) l.fail('no rule');
      return list.map((r, i) => l.at(i, () => rule(l, r)));
    });
  });
  l.at('expect', () => { for (const [k, v] of expect) l.at(k, () => expectField(l, k, v)); });
  return { name, config, expect, rules, path: expectPath };
}

function actionsOf(l, list) {
  const out = [];
  list.forEach((a, i) => l.at(i, () => {
    if (!J.isObj(a)) l.fail(`an object expected, got ${J.typeName(a)}`);
    l.known(a, ['at_ms', 'action', 'input', 'expect_response', 'expect_state_eventually'], 'action');
    const x = {
      atMs: l.int(a, 'at_ms', true, 0, TIME_MAX_MS), action: l.string(a, 'action', true),
      input: l.member(a, 'input', 'object', true),
      expectResponse: l.member(a, 'expect_response', 'object', false),
      expectState: l.member(a, 'expect_state_eventually', 'any', false),
    };
    if (i && x.atMs < out[i - 1].atMs) l.fail('actions out of time order');
    out.push(x);
  }));
  return out;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function env(l, e) {
  for (const [k, v] of e) {
    l.at(k, () => {
      if (!J.isStr(v) && !J.isNum(v)) l.fail(`a string or a number expected, got ${J.typeName(v)}`);
      if (['region', 'role_arn', 'esm_uuid'].includes(k) && !J.isStr(v)) l.fail(`a string expected, got ${J.typeName(v)}`);
      if (k === 'esm_uuid' && !UUID.test(v)) l.fail('not a UUID (8-4-4-4-12 lowercase hex digits)');
    });
  }
}

function scenario(l, node, index) {
  if (!J.isObj(node)) l.fail(`an object expected, got ${J.typeName(node)}`);
  l.known(node, ['id', 'number', 'title', 'derived', 'source', 'spec_refs', 'notes', 'source_kind',
    'config', 'environment', 'mappings', 'stream', 'stream_file', 'start_ms', 'run_until_ms',
    'actions', 'function', 'expect', 'inf_dependencies'], 'scenario');
  const s = { id: l.string(node, 'id', true), index, node };
  const kind = l.string(node, 'source_kind', true);
  if (kind !== 'kinesis' && kind !== 'dynamodb') l.at('source_kind', () => l.fail(`'kinesis' or 'dynamodb' expected, got "${kind}"`));
  s.dynamodb = kind === 'dynamodb';
  s.env = l.member(node, 'environment', 'object', false);
  s.infDeps = l.member(node, 'inf_dependencies', 'array', false);
  s.startMs = l.int(node, 'start_ms', true, 0, TIME_MAX_MS);
  s.runUntilMs = l.int(node, 'run_until_ms', true, s.startMs, TIME_MAX_MS);
  const stream = l.member(node, 'stream', 'array', false);
  const file = l.string(node, 'stream_file', false);
  const actions = l.member(node, 'actions', 'array', false);
  const mappings = l.member(node, 'mappings', 'array', false);
  if (s.env) l.at('environment', () => env(l, s.env));
  if (s.infDeps) l.at('inf_dependencies', () => l.stringList(s.infDeps));
  Object.assign(s, loadStream(l, s, stream, file));
  l.scn = s;
  s.actions = actions ? l.at('actions', () => actionsOf(l, actions)) : [];
  if (mappings) {
    s.maps = l.at('mappings', () => {
      if (mappings.length === 0) l.fail('empty');
      return mappings.map((m, i) => l.at(i, () => {
        if (!J.isObj(m)) l.fail(`an object expected, got ${J.typeName(m)}`);
        l.known(m, ['name', 'config', 'function', 'expect'], 'mapping');
        const name = l.string(m, 'name', false);
        const cfg = l.member(m, 'config', 'object', true);
        const fn = l.member(m, 'function', 'any', true);
        const ex = l.member(m, 'expect', 'object', true);
        return mapping(l, cfg, fn, ex, name, `mappings[${i}].expect`);
      }));
    });
  } else {
    const cfg = l.member(node, 'config', 'object', true);
    const fn = l.member(node, 'function', 'any', true);
    const ex = l.member(node, 'expect', 'object', true);
    s.maps = [mapping(l, cfg, fn, ex, undefined, 'expect')];
  }
  return s;
}

function caseExpect(l, e) {
  l.known(e, ['ok', 'http_status', 'error_type', 'message', 'message_template', 'message_regex',
    'defaults', 'response_matchers', 'absent_keys', 'keys_exact'], 'config case expectation');
  l.member(e, 'ok', 'boolean', true);
  for (const k of ['message', 'message_template', 'message_regex']) {
    const s = l.string(e, k, false);
    if (s !== undefined && k === 'message_regex' && M.regex(s, '') < 0) l.at(k, () => l.fail('not a valid regular expression'));
  }
  for (const k of ['defaults', 'response_matchers']) l.member(e, k, 'object', false);
  for (const k of ['absent_keys', 'keys_exact']) {
    const v = l.member(e, k, 'array', false);
    if (v) l.at(k, () => l.stringList(v));
  }
  for (const [k, v] of e) l.at(k, () => l.matchers(v));
}

function configCase(l, node, index) {
  if (!J.isObj(node)) l.fail(`an object expected, got ${J.typeName(node)}`);
  l.known(node, ['id', 'number', 'title', 'derived', 'source', 'spec_refs', 'notes', 'environment',
    'setup', 'input', 'expect'], 'config case');
  const c = { id: l.string(node, 'id', true), index, node };
  l.member(node, 'input', 'object', true);
  const expect = l.member(node, 'expect', 'object', true);
  const e = l.member(node, 'environment', 'object', false);
  const setup = l.member(node, 'setup', 'array', false);
  if (e) {
    l.at('environment', () => {
      l.known(e, ['existing_streams', 'existing_functions'], 'config case environment');
      for (const k of ['existing_streams', 'existing_functions']) {
        const list = l.member(e, k, 'array', false);
        if (list) l.at(k, () => l.stringList(list));
      }
    });
  }
  l.at('expect', () => caseExpect(l, expect));
  if (setup) {
    l.at('setup', () => {
      if (setup.length > MAX_SETUP) l.fail(`more than ${MAX_SETUP} calls`);
      setup.forEach((st, i) => l.at(i, () => {
        if (!J.isObj(st)) l.fail(`an object expected, got ${J.typeName(st)}`);
        l.known(st, ['action', 'input', 'expect'], 'setup');
        l.string(st, 'action', true);
        l.member(st, 'input', 'object', true);
        const x = l.member(st, 'expect', 'object', false);
        if (x) l.at('expect', () => { l.known(x, ['ok'], 'setup expectation'); l.member(x, 'ok', 'boolean', false); });
      }));
    });
  }
  return c;
}

/** Loads and checks @p file. @return { env, scenarios, cases }; throws LoadError. */
function loadFile(file) {
  let text;
  try { text = fs.readFileSync(file, 'utf8'); } catch (err) { throw new LoadError(err.message); }
  let root;
  try { root = J.parse(text); } catch (err) { throw new LoadError(err.message); }
  const l = new Loader(path.dirname(file));
  if (!J.isObj(root)) l.fail(`an object expected, got ${J.typeName(root)}`);
  l.known(root, ['format', 'environment', 'scenarios', 'config_cases'], 'top-level');
  const fenv = l.member(root, 'environment', 'object', false);
  const scns = l.member(root, 'scenarios', 'array', false) || [];
  const cases = l.member(root, 'config_cases', 'array', false) || [];
  if (!scns.length && !cases.length) l.fail('no scenario and no config case (nothing to run)');
  if (fenv) l.at('environment', () => env(l, fenv));
  const out = { env: fenv, scenarios: [], cases: [] };
  scns.forEach((s, i) => { l.path = `scenarios[${i}]`; l.scn = null; out.scenarios.push(scenario(l, s, i)); });
  cases.forEach((c, i) => { l.path = `config_cases[${i}]`; out.cases.push(configCase(l, c, i)); });
  const seen = new Set();
  [...out.scenarios, ...out.cases].forEach((x, i) => {
    if (seen.has(x.id)) {
      const sc = i < out.scenarios.length;
      l.path = `${sc ? 'scenarios' : 'config_cases'}[${sc ? i : i - out.scenarios.length}].id`;
      l.fail(`duplicate id "${x.id}"`);
    }
    seen.add(x.id);
  });
  return out;
}

/** An environment value of a scenario (its own first, then the file's), or null. */
function envValue(file, s, key) {
  const v = s ? J.getStr(s.env, key) : null;
  return v !== null ? v : J.getStr(file.env, key);
}

module.exports = { loadFile, envValue, LoadError, Loader, TIME_MAX_MS };
