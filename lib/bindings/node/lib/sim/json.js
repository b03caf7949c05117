// SPDX-License-Identifier: MIT
// JSON for the scenario runner: numbers keep their source token (JSON.parse would round
// large integers and forget "1.0" vs "1", which the matchers compare), objects are Maps (file
// order for every key, duplicate keys refused with their path), and two writers: compact text
// for the library and a rendering cut to a length for messages.
'use strict';

/** A JSON number as written: `raw` is its token. */
class JNum {
  constructor(raw) { this.raw = String(raw); }
  /** Whether the token is an integer (no fraction, no exponent). */
  get isInt() { return !/[.eE]/.test(this.raw); }
  get value() { return Number(this.raw); }
}

class JSONError extends Error {}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const NUM = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/** Parses @p text; throws JSONError naming the offset (or, for a duplicate key, its path). */
function parse(text) {
  let i = 0;
  const path = [];
  const fail = (what) => {
    const before = text.slice(0, i);
    const line = before.split('\n').length;
    const col = i - before.lastIndexOf('\n');
    throw new JSONError(`line ${line} column ${col}: ${what}`);
  };
  const ws = () => { while (i < text.length && WS.has(text.charCodeAt(i))) i++; };
  const str = () => {
    const start = ++i;
    let out = '';
    let from = start;
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) fail('a control character in a string');
      if (c === 0x5c) {
        out += text.slice(from, i);
        const e = text[i + 1];
        const simple = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e in simple) { out += simple[e]; i += 2; } else if (e === 'u') {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          i += 6;
        } else fail('bad escape');
        from = i;
        continue;
      }
      i++;
    }
    out += text.slice(from, i);
    i++;
    return out;
  };
  const value = (depth) => {
    if (depth > 512) fail('nested too deeply');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const m = new Map();
      ws();
      if (text[i] === '}') { i++; return m; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('a key expected');
        const k = str();
        ws();
        if (text[i] !== ':') fail("':' expected");
        i++;
        path.push(k);
        const v = value(depth + 1);
        if (m.has(k)) throw new JSONError(`${pathText(path)}: duplicate key`);
        path.pop();
        m.set(k, v);
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return m; }
        fail("',' or '}' expected");
      }
    }
    if (c === '[') {
      i++;
      const a = [];
      ws();
      if (text[i] === ']') { i++; return a; }
      for (;;) {
        path.push(a.length);
        a.push(value(depth + 1));
        path.pop();
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return a; }
        fail("',' or ']' expected");
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) { i += 4; return true; }
    if (text.startsWith('false', i)) { i += 5; return false; }
    if (text.startsWith('null', i)) { i += 4; return null; }
    NUM.lastIndex = i;
    const m = NUM.exec(text);
    if (!m) fail('a value expected');
    i += m[0].length;
    return new JNum(m[0]);
  };
  const v = value(0);
  ws();
  if (i < text.length) fail('trailing text after the value');
  return v;
}

/** "a.b[2].c" from path components (strings: keys, numbers: indexes). */
function pathText(parts) {
  let s = '';
  for (const p of parts) s += typeof p === 'number' ? `[${p}]` : (s ? '.' : '') + p;
  return s;
}

const isObj = (v) => v instanceof Map;
const isNum = (v) => v instanceof JNum;
const isStr = (v) => typeof v === 'string';
const isBool = (v) => v === true || v === false;
/** Member @p key of @p obj, or undefined (missing, or @p obj is not an object). */
const get = (obj, key) => (obj instanceof Map ? obj.get(key) : undefined);
const getStr = (obj, key) => { const v = get(obj, key); return typeof v === 'string' ? v : null; };
/** A matcher: an object whose keys all start with '$'. */
function isMatcher(v) {
  if (!(v instanceof Map) || v.size === 0) return false;
  for (const k of v.keys()) if (k[0] !== '$') return false;
  return true;
}

function typeName(v) {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (isStr(v)) return 'a string';
  if (isNum(v)) return 'a number';
  if (isBool(v)) return 'a boolean';
  if (Array.isArray(v)) return 'an array';
  return 'an object';
}

function quoteRender(s) {
  // eslint-disable-next-line no-control-regex
  return `"${s.replace(/["\\]/g, (c) => `\\${c}`).replace(/[\x00-\x1f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`)}"`;
}

/** Compact text of @p v for a message, cut with "..." to fit @p cap characters. */
function render(v, cap = 400) {
  const parts = [];
  const walk = (x, depth) => {
    if (x === undefined) parts.push('(missing)');
    else if (depth > 64) parts.push('...');
    else if (isStr(x)) parts.push(quoteRender(x));
    else if (isNum(x)) parts.push(x.raw);
    else if (x instanceof Map) {
      parts.push('{');
      let first = true;
      for (const [k, y] of x) {
        if (!first) parts.push(',');
        first = false;
        parts.push(quoteRender(k), ':');
        walk(y, depth + 1);
      }
      parts.push('}');
    } else if (Array.isArray(x)) {
      parts.push('[');
      x.forEach((y, n) => { if (n) parts.push(','); walk(y, depth + 1); });
      parts.push(']');
    } else parts.push(String(x));
  };
  walk(v, 0);
  const s = parts.join('');
  return s.length + 4 > cap ? `${s.slice(0, cap - 4)}...` : s;
}

/** Compact JSON text of @p v (numbers as their tokens). */
function text(v) {
  if (isNum(v)) return v.raw;
  if (v instanceof Map) return `{${[...v].map(([k, x]) => `${JSON.stringify(k)}:${text(x)}`).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map(text).join(',')}]`;
  return JSON.stringify(v);
}

/** A runner-built value from plain JS (numbers become JNum; objects Maps). */
function from(x) {
  if (typeof x === 'number' || typeof x === 'bigint') return new JNum(String(x));
  if (x instanceof JNum || x === null || typeof x !== 'object') return x;
  if (Array.isArray(x)) return x.map(from);
  if (x instanceof Map) return x;
  return new Map(Object.entries(x).map(([k, v]) => [k, from(v)]));
}

module.exports = {
  JNum, JSONError, parse, pathText, render, text, from, get, getStr, isMatcher, isObj, isNum,
  isStr, isBool, typeName,
};
