// SPDX-License-Identifier: MIT
// The config cases: a CreateEventSourceMapping body goes through Config.fromJSON (the library
// validates the whole request); what the library leaves to the host -- which streams and
// functions exist, which mappings exist already -- is a small registry here, filled from the
// case's environment and its setup calls. The answer is compared with `expect`: status,
// exception name and message, or the response's values.
'use strict';
const { Config } = require('../config.js');
const { ConfigError } = require('../errors.js');
const J = require('./json.js');
const M = require('./match.js');
const { Rng, spread } = require('./rng.js');


class Registry {
  constructor(env, index) {
    this.streams = J.get(env, 'existing_streams');
    this.functions = J.get(env, 'existing_functions');
    this.maps = [];
    this.rng = new Rng(0x636f6e66n ^ spread(index + 1)); // the UUIDs of created mappings
  }
}

const listed = (list, s) => Array.isArray(list) && list.includes(s);
// The function's bare name from a name, a partial ARN or a full ARN (qualifier dropped).
function bareFunction(fn) {
  const i = fn.indexOf('function:');
  return (i >= 0 ? fn.slice(i + 9) : fn).split(':')[0];
}
const arnField = (arn, i) => (arn ? (arn.split(':')[i] || '') : '');

/** The CreateEventSourceMapping response (SEMANTICS.md §2.2) from the parsed configuration. */
function buildResponse(c, uuid) {
  const arn = c.eventSourceArn;
  const fn = c.functionName;
  const fa = c.resolveFunctionArn() || fn || '';
  const r = new Map();
  const of = new Map();
  if (c.onFailureDestination) of.set('Destination', c.onFailureDestination);
  r.set('BatchSize', J.from(c.batchSize));
  r.set('BisectBatchOnFunctionError', c.bisectBatchOnFunctionError);
  r.set('DestinationConfig', new Map([['OnFailure', of]]));
  r.set('EventSourceArn', arn || '');
  r.set('EventSourceMappingArn',
    `arn:aws:lambda:${arnField(arn, 3)}:${arnField(arn, 4)}:event-source-mapping:${uuid}`);
  const filters = c.filters;
  if (filters.length) {
    r.set('FilterCriteria', new Map([['Filters', filters.map((p) => new Map([['Pattern', p]]))]]));
  }
  r.set('FunctionArn', fa);
  r.set('FunctionResponseTypes', c.reportBatchItemFailures ? ['ReportBatchItemFailures'] : []);
  r.set('LastModified', new J.JNum('1764082800.000'));
  r.set('LastProcessingResult', 'No records processed');
  r.set('MaximumBatchingWindowInSeconds', J.from(c.maximumBatchingWindowInSeconds));
  r.set('MaximumRecordAgeInSeconds', J.from(c.maximumRecordAgeInSeconds));
  r.set('MaximumRetryAttempts', J.from(c.maximumRetryAttempts));
  if (c.metricsEventCount) r.set('MetricsConfig', new Map([['Metrics', ['EventCount']]]));
  r.set('ParallelizationFactor', J.from(c.parallelizationFactor));
  const pos = c.startingPosition;
  if (pos) r.set('StartingPosition', pos);
  const ts = c.startingPositionTimestampMs;
  if (pos === 'AT_TIMESTAMP' && ts !== null) {
    r.set('StartingPositionTimestamp',
      new J.JNum(`${Math.floor(ts / 1000)}.${String(ts % 1000).padStart(3, '0')}`));
  }
  r.set('State', 'Creating'); // whatever Enabled says (§2.2)
  r.set('StateTransitionReason', 'User action');
  r.set('TumblingWindowInSeconds', J.from(c.tumblingWindowInSeconds));
  r.set('UUID', uuid);
  return r;
}

const ANSWER_ERROR = (status, type, message) => ({ ok: false, status, type, message, response: null });

/** One CreateEventSourceMapping call against the registry: { ok, status, type, message,
 *  response }, or null when the library accepted a request without FunctionName. */
function createMapping(reg, input) {
  let c;
  try {
    c = Config.fromJSON(J.text(input));
  } catch (err) {
    if (!(err instanceof ConfigError) && !err.codeName) throw err;
    return ANSWER_ERROR(err.httpStatus || 0, err.awsType || err.codeName, err.message);
  }
  try {
    const arn = c.eventSourceArn;
    const fn = c.functionName;
    if (!arn || !fn) return null;
    const name = bareFunction(fn);
    if (reg.streams && !listed(reg.streams, arn)) {
      return ANSWER_ERROR(400, 'InvalidParameterValueException', `Stream not found: ${arn}`);
    }
    if (reg.functions && !listed(reg.functions, name) && !listed(reg.functions, fn)) {
      const fa = buildResponse(c, '').get('FunctionArn');
      return ANSWER_ERROR(404, 'ResourceNotFoundException', `Function not found: ${fa}`);
    }
    const dup = reg.maps.find((m) => m.arn === arn && m.fn === name);
    if (dup) {
      return ANSWER_ERROR(409, 'ResourceConflictException', `The event source arn (" ${arn} ") and ` +
        `function (" ${fn} ") provided mapping already exists. Please update or delete the ` +
        `existing mapping with UUID ${dup.uuid}`);
    }
    const uuid = reg.rng.uuid();
    const response = buildResponse(c, uuid);
    reg.maps.push({ arn: response.get('EventSourceArn'), fn: name, uuid });
    return { ok: true, status: 202, type: '', message: '', response };
  } finally {
    c.close();
  }
}

// message_template: {setup[i].Key} from the setup calls' responses.
function expand(t, setupResp) {
  let bad = false;
  const out = t.replace(/\{([^}]*)\}/g, (all, inner) => {
    const m = /^setup\[([0-9]+)\]\.(.+)$/.exec(inner);
    const resp = m ? setupResp[Number(m[1])] : null;
    const v = resp ? resp.get(m[2]) : undefined;
    if (J.isStr(v)) return v;
    if (J.isNum(v)) return v.raw;
    bad = true;
    return all;
  });
  return bad ? null : out;
}

function compare(expect, a, setupResp, rep) {
  const mc = new M.Matcher(rep);
  const wantOk = J.get(expect, 'ok') === true;
  if (wantOk !== a.ok) {
    if (a.ok) rep.fail('expect.ok: expected false, actual true (HTTP 202)');
    else rep.fail(`expect.ok: expected true, actual false (HTTP ${a.status} ${a.type}: ${a.message})`);
    return;
  }
  if (expect.has('http_status')) mc.match(expect.get('http_status'), new J.JNum(String(a.status)), 'expect.http_status');
  if (!wantOk) {
    if (expect.has('error_type')) mc.match(expect.get('error_type'), a.type, 'expect.error_type');
    const msg = J.getStr(expect, 'message');
    if (msg !== null && msg !== a.message) rep.fail(`expect.message: expected "${msg}", actual "${a.message}"`);
    const tmpl = J.getStr(expect, 'message_template');
    if (tmpl !== null) {
      const want = expand(tmpl, setupResp);
      if (want === null) rep.fail(`expect.message_template: cannot expand "${tmpl}"`);
      else if (want !== a.message) rep.fail(`expect.message_template: expected "${want}", actual "${a.message}"`);
    }
    const rx = J.getStr(expect, 'message_regex');
    if (rx !== null) {
      const m = M.regex(rx, a.message);
      if (m !== 1) rep.fail(`expect.message_regex: "${a.message}" ${m < 0 ? '(bad regex)' : 'does not match'}`);
    }
    return;
  }
  const resp = a.response;
  for (const k of ['defaults', 'response_matchers']) {
    const d = J.get(expect, k);
    if (!J.isObj(d)) continue;
    for (const [key, v] of d) mc.match(v, resp.get(key), `expect.${k}.${key}`);
  }
  const absent = J.get(expect, 'absent_keys');
  (Array.isArray(absent) ? absent : []).forEach((k, i) => {
    if (J.isStr(k) && resp.has(k)) rep.fail(`expect.absent_keys[${i}]: ${k} is present`);
  });
  const exact = J.get(expect, 'keys_exact');
  if (Array.isArray(exact)) {
    exact.forEach((k, i) => {
      if (J.isStr(k) && !resp.has(k)) rep.fail(`expect.keys_exact[${i}]: ${k} is missing from the response`);
    });
    for (const k of resp.keys()) if (!exact.includes(k)) rep.fail(`expect.keys_exact: the response also has ${k}`);
  }
}

const NO_FUNCTION = 'the library accepted the request without FunctionName (AWS requires it); ' +
  "the runner's function registry cannot check it";

/** Runs config case @p kase; the outcome goes to @p rep. */
function runConfigCase(kase, rep) {
  const node = kase.node;
  const reg = new Registry(J.get(node, 'environment'), kase.index);
  const setup = J.get(node, 'setup') || [];
  const setupResp = [];
  for (let i = 0; i < setup.length && !rep.failed; i++) {
    const st = setup[i];
    const action = st.get('action');
    if (action !== 'CreateEventSourceMapping') {
      rep.skip(`setup[${i}]: action ${action} is not supported`);
      return;
    }
    const sa = createMapping(reg, st.get('input'));
    if (!sa) {
      rep.fail(`setup[${i}].input: ${NO_FUNCTION}`);
      break;
    }
    setupResp[i] = sa.response;
    const want = J.get(J.get(st, 'expect'), 'ok');
    if (want !== undefined && want !== sa.ok) {
      rep.fail(`setup[${i}].expect.ok: expected ${want}, actual ${sa.ok} (${sa.status} ${sa.type}: ${sa.message})`);
    }
  }
  if (rep.failed) return;
  const a = createMapping(reg, node.get('input'));
  if (!a) {
    rep.fail(`input: ${NO_FUNCTION}`);
    return;
  }
  compare(node.get('expect'), a, setupResp, rep);
}

module.exports = { runConfigCase };
