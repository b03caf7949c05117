// SPDX-License-Identifier: MIT
// Comparing an expected JSON value (literals and $matchers) with an actual one, as bpsim
// does: numbers by decimal value from their tokens (never through a double), the two stream
// timestamps to the millisecond, sequence numbers numerically as strings, objects without
// regard to key order, arrays in order. Also the helpers the other modules share: sequence
// numbers, RFC 3339 instants and the PCRE-style regular expressions of the format.
'use strict';
const J = require('./json.js');

// ---- decimal numbers from JSON tokens: sign * 0.digits * 10^exp ----

function decParse(s) {
  const m = /^(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/.exec(s);
  if (!m) return null;
  const intPart = m[2].replace(/^0+/, '');
  const frac = m[3] || '';
  let digits;
  let exp;
  if (intPart) {
    digits = intPart + frac;
    exp = intPart.length;
  } else {
    const lead = frac.length - frac.replace(/^0+/, '').length;
    digits = frac.slice(lead);
    exp = -lead;
  }
  digits = digits.replace(/0+$/, '');
  if (!digits) return { neg: false, exp: 0, digits: '' };
  return { neg: m[1] === '-', exp: exp + Number(m[4] || 0), digits };
}

function decCmp(a, b) {
  if (!a.digits || !b.digits) {
    if (!a.digits && !b.digits) return 0;
    if (!a.digits) return b.neg ? 1 : -1;
    return a.neg ? -1 : 1;
  }
  if (a.neg !== b.neg) return a.neg ? -1 : 1;
  let mag;
  if (a.exp !== b.exp) mag = a.exp < b.exp ? -1 : 1;
  else mag = a.digits < b.digits ? -1 : a.digits > b.digits ? 1 : 0;
  return a.neg ? -mag : mag;
}

/** Two number tokens by value: -1, 0, 1; -2 when one is not a number. */
function numCmp(a, b) {
  const x = decParse(a);
  const y = decParse(b);
  return x && y ? decCmp(x, y) : -2;
}

/** The value times 1000 rounded half away from zero (epoch seconds -> ms), as a BigInt. */
function decMillis(d) {
  if (!d.digits) return 0n;
  const shift = d.exp + 3;
  if (shift > 18) return null;
  if (shift < 0) return 0n;
  let v = BigInt(d.digits.slice(0, shift).padEnd(shift, '0') || '0');
  if (shift < d.digits.length && d.digits[shift] >= '5') v += 1n;
  return d.neg ? -v : v;
}

// ---- sequence numbers ----

/** A valid sequence number: 1..128 digits, no leading zero but "0" (bp_seqnum.h). */
const isSeq = (s) => typeof s === 'string' && /^(0|[1-9][0-9]{0,127})$/.test(s);

/** Sequence numbers compared numerically as strings: -1, 0, 1. */
function seqCmp(a, b) {
  a = a.replace(/^0+(?=.)/, '');
  b = b.replace(/^0+(?=.)/, '');
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---- RFC 3339 ----

function daysFromCivil(y, m, d) {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor((y >= 0 ? y : y - 399) / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const MDAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const RFC3339 = /^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))$/;

/** RFC 3339 text -> { ms, subNs } (epoch ms and the nanoseconds below it), or null. */
function rfc3339(s) {
  const m = typeof s === 'string' ? RFC3339.exec(s) : null;
  if (!m) return null;
  const [y, mo, d, h, mi, se] = m.slice(1, 7).map(Number);
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  if (mo < 1 || mo > 12 || d < 1 || d > MDAYS[mo - 1] || (mo === 2 && d === 29 && !leap) ||
    h > 23 || mi > 59 || se > 60) return null;
  const fracNs = m[7] ? Number(m[7].slice(0, 9).padEnd(9, '0')) : 0;
  let off = 0;
  if (!m[8]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return null;
    off = (oh * 3600 + om * 60) * (m[9] === '-' ? -1 : 1);
  }
  const secs = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
  return { ms: secs * 1000 + Math.floor(fracNs / 1e6), subNs: fracNs % 1e6 };
}

// ---- regular expressions (the format's are PCRE-style; JavaScript's RegExp reads them) ----

const regexCache = new Map();
/** Whether @p text matches @p pattern: 1, 0; -1 when the pattern is not valid. */
function regex(pattern, text) {
  let re = regexCache.get(pattern);
  if (re === undefined) {
    try { re = new RegExp(pattern); } catch { re = null; }
    regexCache.set(pattern, re);
  }
  if (!re) return -1;
  return re.test(text) ? 1 : 0;
}

// ---- matcher shape ----

const MATCHER_KEYS = new Set(['$regex', '$any', '$min', '$max', '$ref', '$type',
  '$integer_digits', '$json_float', '$rfc3339_instant', '$json_encoded_or_object', '$preferred']);
const TYPES = new Set(['number', 'string', 'object', 'array', 'boolean', 'null']);

function checkOne(k, v, m) {
  if (k === '$regex') {
    if (!J.isStr(v)) return '$regex: a string expected';
    if (regex(v, '') < 0) return '$regex: not a valid regular expression';
  } else if (k === '$min' || k === '$max') {
    if (!J.isNum(v)) return '$min/$max: a number expected';
  } else if (k === '$ref') {
    if (v !== 'invocation_count') return '$ref: only "invocation_count" is defined';
  } else if (k === '$type') {
    if (!TYPES.has(v)) return '$type: one of number, string, object, array, boolean, null expected';
  } else if (k === '$integer_digits') {
    if (!J.isNum(v) || !v.isInt || v.value < 1) return '$integer_digits: a positive integer expected';
  } else if (k === '$json_float') {
    if (!J.isBool(v)) return '$json_float: a boolean expected';
  } else if (k === '$rfc3339_instant') {
    if (!rfc3339(v)) return '$rfc3339_instant: an RFC 3339 instant expected';
  } else if (k === '$preferred') {
    if (v !== 'string' && v !== 'object') return '$preferred: "string" or "object" expected';
    if (!m.has('$json_encoded_or_object')) return '$preferred: only with $json_encoded_or_object';
  }
  return null;
}

/** The shape of the matchers inside an expected value: null, or { path, why }. */
function matcherCheck(e, path) {
  if (J.isMatcher(e)) {
    for (const [k, v] of e) {
      const p = `${path}.${k}`;
      const why = MATCHER_KEYS.has(k) ? checkOne(k, v, e) : 'unknown matcher';
      if (why) return { path: p, why };
      if (k === '$json_encoded_or_object') {
        const inner = matcherCheck(v, p);
        if (inner) return inner;
      }
    }
    return null;
  }
  if (J.isObj(e)) {
    for (const [k, v] of e) {
      const r = matcherCheck(v, path ? `${path}.${k}` : k);
      if (r) return r;
    }
  } else if (Array.isArray(e)) {
    for (let i = 0; i < e.length; i++) {
      const r = matcherCheck(e[i], `${path}[${i}]`);
      if (r) return r;
    }
  }
  return null;
}

// ---- comparison ----

function typeOf(v) {
  if (J.isNum(v)) return 'number';
  if (J.isStr(v)) return 'string';
  if (J.isObj(v)) return 'object';
  if (Array.isArray(v)) return 'array';
  if (J.isBool(v)) return 'boolean';
  return 'null';
}

const TIMESTAMP_KEYS = new Set(['approximateArrivalTimestamp', 'ApproximateCreationDateTime']);

/** Compares values for one case's report: invocationCount is what {"$ref":
 *  "invocation_count"} means, seqStrings makes sequence-number strings compare numerically. */
class Matcher {
  constructor(rep) {
    this.rep = rep;
    this.invocationCount = 0;
    this.seqStrings = false;
  }

  differ(p, e, a, why) {
    const where = p || '(value)';
    const es = J.render(e);
    const as = J.render(a);
    return this.rep.fail(why ? `${where}: ${why} (expected ${es}, actual ${as})`
      : `${where}: expected ${es}, actual ${as}`);
  }

  matcher(m, a, p) {
    if (a === undefined) return this.differ(p, m, a, 'missing');
    let v;
    if ((v = m.get('$type')) !== undefined && typeOf(a) !== v) return this.differ(p, m, a, 'wrong type');
    if ((v = m.get('$regex')) !== undefined) {
      if (!J.isStr(a)) return this.differ(p, m, a, 'not a string');
      const r = regex(v, a);
      if (r < 0) return this.differ(p, m, a, 'bad regular expression');
      if (!r) return this.differ(p, m, a, 'no regex match');
    }
    const mn = m.get('$min');
    const mx = m.get('$max');
    if (mn !== undefined || mx !== undefined) {
      if (!J.isNum(a)) return this.differ(p, m, a, 'not a number');
      if (mn !== undefined && numCmp(a.raw, mn.raw) < 0) return this.differ(p, m, a, 'below $min');
      if (mx !== undefined && numCmp(a.raw, mx.raw) > 0) return this.differ(p, m, a, 'above $max');
    }
    if (m.has('$ref')) {
      const tok = String(this.invocationCount);
      if (!J.isNum(a) || numCmp(a.raw, tok) !== 0) {
        return this.differ(p, m, a, `not the invocation count ${tok}`);
      }
    }
    if ((v = m.get('$integer_digits')) !== undefined) {
      const d = J.isNum(a) ? decParse(a.raw) : null;
      if (!d) return this.differ(p, m, a, 'not a number');
      const got = d.exp > 0 ? d.exp : 1;
      if (got !== v.value) return this.differ(p, m, a, 'wrong number of integer digits');
    }
    if ((v = m.get('$json_float')) !== undefined) {
      if (!J.isNum(a)) return this.differ(p, m, a, 'not a number');
      const isFloat = !a.isInt;
      if (isFloat !== v) return this.differ(p, m, a, isFloat ? 'a float token' : 'not a float token');
    }
    if ((v = m.get('$rfc3339_instant')) !== undefined) {
      const want = rfc3339(v);
      const got = rfc3339(a);
      if (!got) return this.differ(p, m, a, 'not an RFC 3339 instant');
      if (want.ms !== got.ms || want.subNs !== got.subNs) {
        return this.differ(p, m, a, 'a different instant');
      }
    }
    if ((v = m.get('$json_encoded_or_object')) !== undefined) {
      const pref = m.get('$preferred');
      if (J.isStr(a) && !J.isStr(v)) {
        let parsed;
        try { parsed = J.parse(a); } catch { return this.differ(p, m, a, 'a string that is not JSON'); }
        const ok = this.match(v, parsed, `${p}.(decoded)`);
        if (ok && pref !== undefined && pref !== 'string') {
          this.rep.note(`${p}: a JSON string, the spec's [INF] prefers an object`);
        }
        if (!ok) return false;
      } else {
        const ok = this.match(v, a, p);
        if (ok && pref !== undefined && pref !== 'object') {
          this.rep.note(`${p}: a JSON object, the spec's [INF] prefers an encoded string`);
        }
        if (!ok) return false;
      }
    }
    return true; // $any, $preferred: nothing more to check
  }

  rec(e, a, p, key) {
    if (J.isMatcher(e)) return this.matcher(e, a, p);
    if (a === undefined) return this.differ(p, e, a, 'missing');
    if (J.isNum(e)) {
      if (!J.isNum(a)) return this.differ(p, e, a, null);
      if (TIMESTAMP_KEYS.has(key)) {
        const x = decParse(e.raw);
        const y = decParse(a.raw);
        const xm = x && decMillis(x);
        const ym = y && decMillis(y);
        if (xm === null || ym === null || xm === undefined || ym === undefined || xm !== ym) {
          return this.differ(p, e, a, 'not the same millisecond');
        }
        return true;
      }
      return numCmp(e.raw, a.raw) === 0 ? true : this.differ(p, e, a, null);
    }
    if (J.isStr(e)) {
      if (!J.isStr(a)) return this.differ(p, e, a, null);
      const same = this.seqStrings && isSeq(e) ? seqCmp(e, a) === 0 : e === a;
      return same ? true : this.differ(p, e, a, null);
    }
    if (Array.isArray(e)) {
      if (!Array.isArray(a)) return this.differ(p, e, a, null);
      const n = Math.min(e.length, a.length);
      for (let i = 0; i < n; i++) if (!this.rec(e[i], a[i], `${p}[${i}]`, null)) return false;
      if (e.length !== a.length) {
        return this.differ(p, e, a, `${e.length} elements expected, ${a.length} found`);
      }
      return true;
    }
    if (J.isObj(e)) {
      if (!J.isObj(a)) return this.differ(p, e, a, null);
      for (const [k, v] of e) {
        if (!this.rec(v, a.get(k), p ? `${p}.${k}` : k, k)) return false;
      }
      for (const k of a.keys()) {
        if (!e.has(k)) return this.rep.fail(`${p ? `${p}.${k}` : k}: unexpected member`);
      }
      return true;
    }
    return e === a ? true : this.differ(p, e, a, null);
  }

  /** @return true equal; false different (the first difference is in the report). */
  match(expected, actual, path) {
    const dot = path ? path.lastIndexOf('.') : -1;
    const key = path ? path.slice(dot + 1) : null;
    return this.rec(expected, actual, path, key);
  }
}

module.exports = { numCmp, seqCmp, isSeq, rfc3339, regex, matcherCheck, Matcher };
