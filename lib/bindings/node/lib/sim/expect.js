// SPDX-License-Identifier: MIT
// A mapping's `expect` against what the host recorded. Fields are checked in the file's order
// and the first difference is reported; API-level fields and metrics the engine does not
// report become skipped parts. The readings where the format leaves a choice are bpsim's:
// - "invocations" are the attempts that reached the function (throttles excluded); with
//   ignore_empty_invocations the empty ones are dropped before anything numbers them;
// - invocations that start at one simulated time on different lanes or shards are compared
//   as a set (SEMANTICS.md §8.1): each such group is first put in the order `invocations`
//   (else `delivered_in_order`) implies where one exists, keeping each lane's own order;
// - max_in_flight is compared like any count, per shard; max_event_bytes is an upper bound
//   over every attempt's event, throttled ones included;
// - final_checkpoint / checkpoint_at as a string or null name the shard holding that record
//   (with one shard: that shard); an object {shardId: seq|null} checks several shards.
'use strict';
const J = require('./json.js');
const M = require('./match.js');
const { findRecord } = require('./stream.js');
const { checkFailures } = require('./failures.js');

class Check {
  constructor(s, m, log, rep) {
    Object.assign(this, { s, m, log, rep });
    this.mc = new M.Matcher(rep);
    const ignoreEmpty = J.get(m.expect, 'ignore_empty_invocations') === true;
    this.inv = log.inv.filter((x) => !x.throttled && !(ignoreEmpty && x.seqs.length === 0));
    this.mc.invocationCount = this.inv.length;
    this.path = '';
  }

  label(seq) {
    const r = findRecord(this.s, seq);
    if (r) return r.label;
    return seq.length > 10 ? `...${seq.slice(-8)}` : seq;
  }

  fmt(seqs) { return `[${seqs.map((x) => this.label(x)).join(',')}]`; }
  fmtAll() { return `[${this.inv.map((x) => this.fmt(x.seqs)).join(',')}]`; }

  matchInt(want, got) { return this.mc.match(want, new J.JNum(String(got)), this.path); }

  // ---- invocations that start at one instant ----

  static sameLane(a, b) { return a.lane === b.lane && a.shard === b.shard; }

  group(k) {
    let a = k;
    let b = k + 1;
    const t = this.inv[k].startMs;
    while (a > 0 && this.inv[a - 1].startMs === t) a--;
    while (b < this.inv.length && this.inv[b].startMs === t) b++;
    return [a, b];
  }

  severalLanes(g0, g1) {
    for (let i = g0 + 1; i < g1; i++) if (!Check.sameLane(this.inv[g0], this.inv[i])) return true;
    return false;
  }

  // Place inv[i..g1) so that each fits from pos on; only the first unplaced invocation of a
  // lane may be placed next. Depth first, at most budget.n steps.
  place(want, fits, i, g1, pos, budget) {
    if (i === g1) return true;
    for (let j = i; j < g1; j++) {
      let blocked = false;
      for (let x = i; x < j && !blocked; x++) blocked = Check.sameLane(this.inv[x], this.inv[j]);
      if (blocked) continue;
      const next = fits(want, pos, this.inv[j]);
      if (next < 0) continue;
      if (budget.n === 0) return false;
      budget.n--;
      const pick = this.inv.splice(j, 1)[0];
      this.inv.splice(i, 0, pick);
      if (this.place(want, fits, i + 1, g1, next, budget)) return true;
      this.inv.splice(i, 1);
      this.inv.splice(j, 0, pick);
    }
    return false;
  }

  orderInstants(want, fits) {
    let pos = 0;
    for (let g0 = 0, g1; g0 < this.inv.length; g0 = g1) {
      [g0, g1] = this.group(g0);
      if (g1 - g0 > 1 && this.place(want, fits, g0, g1, pos, { n: 100000 })) {
        for (let i = g0; i < g1; i++) pos = fits(want, pos, this.inv[i]);
        continue;
      }
      for (let i = g0; i < g1; i++) pos += fits === fitsBatch ? 1 : this.inv[i].seqs.length;
    }
  }

  // ---- the fields ----

  batches(want, info) {
    const report = (msg) => (info ? this.rep.note(msg) : this.rep.fail(msg));
    const n = Math.min(want.length, this.inv.length);
    for (let k = 0; k < n; k++) {
      if (sameBatch(want[k], this.inv[k])) continue;
      const [g0, g1] = this.group(k);
      if (this.severalLanes(g0, g1)) {
        const saved = this.inv.slice(g0, g1);
        const ok = this.place(want, fitsBatch, g0, g1, g0, { n: 100000 });
        this.inv.splice(g0, g1 - g0, ...saved);
        if (ok) {
          k = g1 - 1;
          continue;
        }
        const ge = Math.min(g1, want.length);
        const ew = [];
        const aw = [];
        for (let i = g0; i < g1; i++) {
          if (i < ge) ew.push(this.fmt(want[i]));
          aw.push(this.fmt(this.inv[i].seqs));
        }
        const what = `invocations ${g0 + 1} to ${g1} start at t=${this.inv[g0].startMs} on different ` +
          `lanes (a set, each lane in its order): expected {${ew.join(',')}}, actual {${aw.join(',')}}`;
        report(info ? `${this.path}[${g0}..${g1 - 1}]: diverges from the spec's [INF] batches: ${what}`
          : `${this.path}[${g0}..${g1 - 1}]: ${what}`);
        return;
      }
      const e = this.fmt(want[k]);
      const a = this.fmt(this.inv[k].seqs);
      report(info ? `${this.path}[${k}]: diverges from the spec's [INF] batches: expected ${e}, actual ${a}`
        : `${this.path}[${k}]: expected ${e}, actual ${a}`);
      return;
    }
    if (want.length !== this.inv.length) {
      report(info ? `${this.path}: diverges from the spec's [INF] batches: ${want.length} expected, ` +
        `${this.inv.length} made: ${this.fmtAll()}`
        : `${this.path}: ${want.length} invocation(s) expected, ${this.inv.length} made: actual ${this.fmtAll()}`);
    }
  }

  every(want) {
    this.inv.some((x, k) => {
      if (sameBatch(want, x)) return false;
      this.rep.fail(`${this.path}: invocation ${k + 1} is ${this.fmt(x.seqs)}, expected ${this.fmt(want)}`);
      return true;
    });
  }

  inOrder(want) {
    let i = 0;
    for (let k = 0; k < this.inv.length; k++) {
      for (const got of this.inv[k].seqs) {
        if (i >= want.length) {
          this.rep.fail(`${this.path}: more records delivered than expected: ${this.label(got)} (invocation ${k + 1})`);
          return;
        }
        if (M.seqCmp(want[i], got)) {
          this.rep.fail(`${this.path}[${i}]: expected ${this.label(want[i])}, actual ${this.label(got)} (invocation ${k + 1})`);
          return;
        }
        i++;
      }
    }
    if (i !== want.length) this.rep.fail(`${this.path}: ${want.length} records expected, ${i} delivered`);
  }

  counts(want) {
    const base = this.path;
    for (const [seq, v] of want) {
      const count = this.inv.filter((x) => contains(x, seq)).length;
      this.path = `${base}.${seq}`;
      this.matchInt(v, count);
    }
    this.path = base;
  }

  notDelivered(want) {
    want.some((seq, i) => {
      const k = this.inv.findIndex((x) => contains(x, seq));
      if (k < 0) return false;
      this.rep.fail(`${this.path}[${i}]: ${this.label(seq)} was delivered (invocation ${k + 1})`);
      return true;
    });
  }

  keyOrder(want) {
    for (const [key, list] of want) {
      let prevK = 0;
      let prevPos = 0;
      for (let j = 0; j < list.length; j++) {
        let k = 0;
        let pos = 0;
        for (; k < this.inv.length && !(pos = contains(this.inv[k], list[j])); k++) { /* first */ }
        const l = this.label(list[j]);
        if (!pos) return this.rep.fail(`${this.path}.${key}[${j}]: ${l} was never delivered`);
        if (j && (k < prevK || (k === prevK && pos <= prevPos))) {
          return this.rep.fail(`${this.path}.${key}[${j}]: ${l} was first delivered (invocation ${k + 1}) ` +
            'before the record listed ahead of it');
        }
        prevK = k;
        prevPos = pos;
      }
    }
    return true;
  }

  serial() {
    for (let i = 0; i < this.inv.length; i++) {
      for (let j = i + 1; j < this.inv.length; j++) {
        const a = this.inv[i];
        const b = this.inv[j];
        if (a.startMs < b.endMs && b.startMs < a.endMs && a.keys.some((x) => b.keys.includes(x))) {
          this.rep.fail(`${this.path}: invocations ${i + 1} and ${j + 1} share a partition key and ` +
            `overlap ([${a.startMs}, ${a.endMs}) and [${b.startMs}, ${b.endMs}))`);
          return;
        }
      }
    }
  }

  maxInFlight() {
    let best = 0;
    for (const a of this.inv) {
      let n = 0;
      for (const b of this.inv) {
        if (a.shard !== b.shard) continue;
        if (a === b || (b.startMs <= a.startMs && a.startMs < b.endMs)) n++;
      }
      best = Math.max(best, n);
    }
    return best;
  }

  event(inv) {
    if (inv.event === undefined) {
      try { inv.event = inv.payload ? J.parse(inv.payload.toString('utf8')) : null; } catch { inv.event = null; }
    }
    return inv.event;
  }

  events(want) {
    const base = this.path;
    for (let i = 0; i < want.length && !this.rep.failed; i++) {
      const e = want[i];
      const k = e.get('invocation').value;
      this.path = `${base}[${i}]`;
      if (k > this.inv.length) {
        this.rep.fail(`${this.path}.invocation: invocation ${k} does not exist (${this.inv.length} made)`);
        continue;
      }
      const ev = this.event(this.inv[k - 1]);
      if (ev === null) {
        this.rep.fail(`${this.path}: the event of invocation ${k} is not JSON`);
      } else if (e.has('equals')) {
        this.mc.match(e.get('equals'), ev, `${this.path}.equals`);
      } else {
        const p = e.get('path');
        this.mc.match(e.get('match'), atPath(ev, p), `${this.path}.match(${p})`);
      }
    }
    this.path = base;
  }

  // ---- checkpoints ----

  shardFor(seq) {
    if (this.s.shards.length <= 1 || seq === null) return 0;
    const r = findRecord(this.s, seq);
    const k = r ? this.s.shards.findIndex((sh) => sh.id === r.shard) : -1;
    return k < 0 ? 0 : k;
  }

  checkpointAt(shard, at) {
    let v = null;
    for (const c of this.log.ck) {
      if (c.atMs > at) break;
      if (c.shard === shard) v = c.seq;
    }
    return v;
  }

  oneCheckpoint(want, shard, at, path) {
    const got = this.checkpointAt(shard, at);
    const w = J.isStr(want) ? want : null;
    const same = w !== null ? got !== null && M.seqCmp(w, got) === 0 : got === null;
    if (same) return;
    const wl = w !== null ? this.label(w) : 'null';
    const gl = got !== null ? this.label(got) : 'null';
    this.rep.fail(`${path}: expected ${w !== null ? w : 'null'} (${wl}), actual ${got !== null ? got : 'null'} (${gl})`);
  }

  checkpoint(want, at, path) {
    if (!J.isObj(want)) {
      const w = J.isStr(want) ? want : null;
      if (w !== null || this.s.shards.length <= 1) {
        this.oneCheckpoint(want, this.shardFor(w), at, path);
        return;
      }
      for (let k = 0; k < this.s.shards.length; k++) this.oneCheckpoint(want, k, at, path);
      return;
    }
    for (const [id, v] of want) {
      const k = this.s.shards.findIndex((sh) => sh.id === id);
      this.oneCheckpoint(v, k, at, `${path}.${id}`);
    }
  }

  // ---- timing ----

  sideTime(side, each) {
    if (side.has('time_ms')) return side.get('time_ms').value;
    const inv = side.get('invocation');
    const k = J.isStr(inv) ? each : inv.value - 1;
    if (k >= this.inv.length) return null;
    return side.get('at') === 'start' ? this.inv[k].startMs : this.inv[k].endMs;
  }

  timing(want) {
    for (let i = 0; i < want.length && !this.rep.failed; i++) {
      const t = want[i];
      const l = t.get('left');
      const r = t.get('right');
      const offset = t.has('offset_ms') ? t.get('offset_ms').value : 0;
      const ge = t.get('op') === '>=';
      const isEach = (x) => J.isStr(x.get('invocation'));
      const rounds = isEach(l) || isEach(r) ? this.inv.length : 1;
      for (let k = 0; k < rounds; k++) {
        const a = this.sideTime(l, k);
        const b = this.sideTime(r, k);
        if (a === null || b === null) {
          this.rep.fail(`${this.path}[${i}]: names invocation that does not exist (${this.inv.length} made)`);
          break;
        }
        if (ge ? a >= b + offset : a <= b + offset) continue;
        this.rep.fail(`${this.path}[${i}]: ${a} ${ge ? '>=' : '<='} ${b} + ${offset} does not hold ` +
          `(t - start_ms: ${a - this.s.startMs} vs ${b - this.s.startMs})${rounds > 1 ? " for invocation 'each'" : ''}`);
        break;
      }
    }
  }

  // ---- metrics ----

  metrics(want) {
    const m = this.log.metrics;
    const base = this.path;
    for (const [name, v] of want) {
      let got;
      if (m) {
        const key = METRICS[name];
        if (key) got = m[key];
        else if (name === 'IteratorAge' && m.iteratorAgeMs >= 0) got = m.iteratorAgeMs;
      }
      if (got === undefined) {
        this.rep.part(`${base}.${name} (not reported by the engine)`);
        continue;
      }
      this.path = `${base}.${name}`;
      this.matchInt(v, got);
    }
    this.path = base;
  }

  field(key, v) {
    switch (key) {
      case 'invocations': return this.batches(v, false);
      case 'inf_expected_invocations': return this.batches(v, true);
      case 'invocation_count': return this.matchInt(v, this.inv.length);
      case 'every_invocation': return this.every(v);
      case 'throttled_attempts': return this.matchInt(v, this.log.throttled);
      case 'delivered_in_order': return this.inOrder(v);
      case 'delivery_counts': return this.counts(v);
      case 'not_delivered': return this.notDelivered(v);
      case 'per_key_order': return this.keyOrder(v);
      case 'per_key_serial': return v === true ? this.serial() : undefined;
      case 'max_in_flight': return this.matchInt(v, this.maxInFlight());
      case 'max_event_bytes': {
        const got = this.log.maxEventBytes;
        if (J.isNum(v) && M.numCmp(v.raw, '0') >= 0) {
          if (M.numCmp(String(got), v.raw) > 0) this.rep.fail(`${this.path}: an event of ${got} bytes exceeds ${v.raw}`);
          return undefined;
        }
        return this.matchInt(v, got);
      }
      case 'events': return this.events(v);
      case 'on_failure': return checkFailures(this, v);
      case 'final_checkpoint': return this.checkpoint(v, this.s.runUntilMs, this.path);
      case 'checkpoint_at':
        v.forEach((e, i) => this.checkpoint(e.get('checkpoint'), e.get('at_ms').value,
          `${this.path}[${i}].checkpoint`));
        return undefined;
      case 'timing': return this.timing(v);
      case 'metrics': return this.metrics(v);
      case 'last_processing_result': return this.rep.part(`${this.path} (API-level)`);
      default: return undefined; // ignore_empty_invocations: applied when the list is built
    }
  }

  // Whether a failing path (relative to expect) is listed in inf_dependencies.
  infDependency(failed) {
    const rel = failed.replace(/\.equals(?=[.:]|$)/g, ''); // paths name events without it
    for (const dep of this.s.infDeps || []) {
      if (!J.isStr(dep)) continue;
      let d = dep;
      while (d) { // "a / b, c (why)": each token up to a space
        d = d.replace(/^[ /,]+/, '');
        const n = d.search(/[ /,]|$/);
        const tok = d.slice(0, n);
        if (n && rel.startsWith(tok) && /^(?:$|[[.:])/.test(rel.slice(n))) return dep;
        d = d.slice(n);
        if (d[0] === ' ' && d[1] !== '/') break; // the rest is the reason
        if (d[0] === ',' && d[1] === ' ') d = d.slice(1);
      }
    }
    return null;
  }
}

const METRICS = {
  PolledEventCount: 'polledEventCount', FilteredOutEventCount: 'filteredOutEventCount',
  InvokedEventCount: 'invokedEventCount', FailedInvokeEventCount: 'failedInvokeEventCount',
  DroppedEventCount: 'droppedEventCount',
  OnFailureDestinationDeliveredEventCount: 'onFailureDestinationDeliveredEventCount',
  DestinationDeliveryFailures: 'destinationDeliveryFailures',
};

function sameBatch(want, inv) {
  return want.length === inv.seqs.length && want.every((w, i) => M.seqCmp(w, inv.seqs[i]) === 0);
}

/** 1-based position of seq in the invocation, or 0. */
function contains(inv, seq) {
  for (let i = 0; i < inv.seqs.length; i++) if (M.seqCmp(inv.seqs[i], seq) === 0) return i + 1;
  return 0;
}

// Where an invocation may stand: the next expected position, or -1 when it does not fit
// there. Past the end of the expectation anything fits (the count is checked on its own).
function fitsBatch(want, pos, inv) {
  if (pos < want.length && !sameBatch(want[pos], inv)) return -1;
  return pos + 1;
}

function fitsRecords(want, pos, inv) {
  if (pos < want.length) {
    if (pos + inv.seqs.length > want.length) return -1;
    for (let i = 0; i < inv.seqs.length; i++) if (M.seqCmp(want[pos + i], inv.seqs[i])) return -1;
  }
  return pos + inv.seqs.length;
}

/** A value inside an event by a path like `Records[0].kinesis.data`. */
function atPath(v, p) {
  if (p[0] === '$') p = p.slice(p[1] === '.' ? 2 : 1);
  const re = /\[([0-9]+)\]|\.?([^.[]+)/y;
  let m;
  while (p.length && v !== undefined && re.lastIndex < p.length && (m = re.exec(p))) {
    if (m[1] !== undefined) v = Array.isArray(v) ? v[Number(m[1])] : undefined;
    else v = J.get(v, m[2]);
  }
  if (re.lastIndex < p.length && v !== undefined && p.length) return undefined;
  return v;
}

/** Checks mapping @p m's `expect` against @p log; differences and skipped parts go to @p rep. */
function checkMapping(s, m, log, rep) {
  const c = new Check(s, m, log, rep);
  const order = J.get(m.expect, 'invocations');
  const inOrder = J.get(m.expect, 'delivered_in_order');
  if (Array.isArray(order)) c.orderInstants(order, fitsBatch);
  else if (Array.isArray(inOrder)) c.orderInstants(inOrder, fitsRecords);
  const failedBefore = rep.failed;
  for (const [key, v] of m.expect) {
    c.path = `${m.path}.${key}`;
    c.field(key, v);
  }
  if (rep.failed && !failedBefore && rep.failText.startsWith(`${m.path}.`)) {
    const dep = c.infDependency(rep.failText.slice(m.path.length + 1));
    if (dep) rep.failText = `diverges from spec choice (inf_dependencies: "${dep.slice(0, 500)}"): ${rep.failText}`;
  }
}

/** Whether `expect` of @p m needs the invocations' events kept. */
const needsPayloads = (m) => J.get(m.expect, 'events') !== undefined;

module.exports = { checkMapping, needsPayloads };
