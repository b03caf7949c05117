// SPDX-License-Identifier: MIT
// The simulated host of one mapping, over the binding's Engine: it serves fetches from the
// scenario's stream, answers invoke attempts from the scripted function, accepts on-failure
// deliveries, applies the timed actions, and moves a simulated clock from event to event (the
// engine's next deadline, the next record arrival, the next function completion, the next
// action; never beyond run_until_ms). Every request is answered Engine.PENDING and completed
// with engine.complete(): fetches and deliveries inside their callbacks, an invocation inside
// its callback when it takes 0 ms, else at attempt time + sleep_ms from the host's queue,
// outside any callback -- so the completion order is the simulated clock's, deterministic.
'use strict';
const { Engine } = require('../engine.js');
const { Config } = require('../config.js');
const J = require('./json.js');
const M = require('./match.js');
const { envValue } = require('./load.js');
const { Rng, spread } = require('./rng.js');

const MAX_ATTEMPTS = 10000; // runaway guard
const MAX_SPINS = 1000; // ticks at one instant while the engine says "due now"
const MAX_STEPS = 5000000; // clock steps: a run_until_ms years away must still end
const SIM_SEED = 0x62707369n;
const ERR_UNSUPPORTED = -12;

/** What a run records: attempts, deliveries, checkpoint moves, counters, metrics. */
function newLog() {
  return { inv: [], dlv: [], ck: [], attempts: 0, throttled: 0, invocations: 0,
    maxEventBytes: 0, metrics: null, esmUuid: '' };
}

function describe(err) {
  if (err && err.codeName) return `${err.message} (${err.codeName})`;
  return `${err && err.message} (${err && err.cause ? err.cause.message : 'exception'})`;
}

class Host {
  constructor(file, s, m, opts, log, rep) {
    Object.assign(this, { file, s, m, opts, log, rep });
    this.engine = null;
    this.now = s.startMs;
    this.iter = new Map(); // per shard: where the previous fetch ended
    this.ckLast = new Map(); // per shard index: the checkpoint last sampled
    this.pend = [];
    this.order = 0;
    this.rng = new Rng(SIM_SEED ^ spread(s.index));
    this.stop = false;
    this.shardIndex = new Map(s.shards.map((sh, k) => [sh.id, k]));
  }

  fail(what, err) {
    this.rep.fail(`${what} at t=${this.now}: ${describe(err)}`);
    this.stop = true;
  }

  // Remember the checkpoint of every shard whenever it changed (after each driving call).
  sampleCheckpoints() {
    this.s.shards.forEach((sh, k) => {
      let now;
      try { now = this.engine.checkpoint(sh.id); } catch { return; }
      if (this.ckLast.has(k) && this.ckLast.get(k) === now) return;
      this.log.ck.push({ atMs: this.now, shard: k, seq: now });
      this.ckLast.set(k, now);
    });
  }

  // ---- callbacks ----

  fetch(req) {
    const k = this.shardIndex.get(req.shardId);
    const bad = (msg) => {
      this.rep.fail(msg);
      this.stop = true;
      throw new Error(msg);
    };
    if (k === undefined) bad(`engine: fetch of unknown shard "${req.shardId}" at t=${this.now}`);
    const sh = this.s.shards[k];
    let pos = 0;
    switch (req.from) {
      case 'TRIM_HORIZON': break;
      case 'LATEST': // after every record that arrived by the mapping's creation
        sh.recs.forEach((r, i) => { if (r.arrivalMs <= this.s.startMs) pos = i + 1; });
        break;
      case 'AT_TIMESTAMP':
        while (pos < sh.recs.length && sh.recs[pos].arrivalMs < req.timestampMs) pos++;
        break;
      case 'AFTER_SEQUENCE_NUMBER':
        if (!M.isSeq(req.afterSeq)) {
          bad(`engine: fetch AFTER_SEQ with an invalid sequence number at t=${this.now}`);
        }
        while (pos < sh.recs.length && M.seqCmp(sh.recs[pos].seq, req.afterSeq) <= 0) pos++;
        break;
      case 'CONTINUE':
        if (!this.iter.has(k)) {
          bad(`engine: fetch CONTINUE of shard ${sh.id} before any fetch (t=${this.now})`);
        }
        pos = this.iter.get(k);
        break;
      default:
        bad(`engine: fetch with unknown 'from' ${req.from}`);
    }
    let n = 0;
    while (pos + n < sh.recs.length && n < req.maxRecords && sh.recs[pos + n].arrivalMs <= this.now) n++;
    this.iter.set(k, pos + n);
    try {
      this.engine.complete(req.reqId, sh.recs.slice(pos, pos + n).map((r) => r.view));
    } catch (err) {
      this.fail('bp_engine_complete_fetch', err);
    }
    return Engine.PENDING;
  }

  // isFinalInvokeForWindow and window.start of an event (tumbling-window conditions).
  static windowInfo(req) {
    const out = { final: false, start: null };
    if (!req.payload) return out;
    let ev;
    try { ev = J.parse(req.payload.toString('utf8')); } catch { return out; }
    out.final = J.get(ev, 'isFinalInvokeForWindow') === true;
    const t = M.rfc3339(J.get(J.get(ev, 'window'), 'start'));
    if (t) out.start = t.ms;
    return out;
  }

  pickRule(req) {
    let win = null;
    for (const r of this.m.rules) {
      if (r.contains && !r.contains.some((w) => req.records.some((x) => M.seqCmp(w, x.seq) === 0))) continue;
      if (r.invocation !== null && r.invocation !== this.log.attempts) continue;
      if (r.nowLt !== null && !(this.now < r.nowLt)) continue;
      if (r.nowGe !== null && !(this.now >= r.nowGe)) continue;
      if (r.final !== null || r.windowStartMs !== null) {
        if (!win) win = Host.windowInfo(req);
        if (r.final !== null && win.final !== r.final) continue;
        if (r.windowStartMs !== null && win.start !== r.windowStartMs) continue;
      }
      return r;
    }
    return null;
  }

  static result(r, requestId) {
    if (r.kind === 'throttle') return { throttled: true };
    if (r.kind === 'error') return { functionError: r.error, requestId };
    return { body: r.body === '' ? undefined : r.body, requestId };
  }

  invoke(req) {
    const log = this.log;
    if (this.stop) return Engine.PENDING; // the run is ending: left in flight (abandoned)
    if (++log.attempts > MAX_ATTEMPTS) {
      this.rep.fail(`runaway guard: more than ${MAX_ATTEMPTS} invoke attempts (t=${this.now})`);
      this.stop = true;
      return Engine.PENDING;
    }
    if (!req.payload) {
      this.rep.fail('engine: invoke request without a payload (core-only build?)');
      this.stop = true;
      return Engine.PENDING;
    }
    if (req.payload.length > log.maxEventBytes) log.maxEventBytes = req.payload.length;
    const r = this.pickRule(req);
    if (!r) {
      this.rep.fail(`function: no rule matches attempt ${log.attempts}`);
      this.stop = true;
      return Engine.PENDING;
    }
    const inv = {
      startMs: this.now, endMs: this.now + r.sleepMs, throttled: r.kind === 'throttle',
      lane: req.lane, attempt: req.attempt, flags: req.flags,
      shard: this.shardIndex.has(req.shardId) ? req.shardId : '?',
      seqs: req.records.map((x) => x.seq), keys: req.records.map((x) => x.partitionKey || ''),
      payload: this.opts.keepPayloads ? req.payload : null, event: undefined,
    };
    log.inv.push(inv);
    if (inv.throttled) log.throttled++;
    else log.invocations++;
    const requestId = this.rng.uuid();
    if (r.sleepMs === 0) {
      try {
        this.engine.complete(req.reqId, Host.result(r, requestId));
      } catch (err) {
        this.fail('bp_engine_complete_invoke', err);
      }
      return Engine.PENDING;
    }
    this.pend.push({ reqId: req.reqId, order: this.order++, dueMs: inv.endMs, rule: r, requestId });
    return Engine.PENDING;
  }

  deliver(req) {
    this.log.dlv.push({
      atMs: this.now, destType: req.destinationType, condition: req.condition,
      approximateInvokeCount: req.approximateInvokeCount, lane: req.lane,
      timestampMs: req.timestampMs, destination: req.destination, recordJson: req.recordJson,
      s3Key: req.s3Key, shard: req.shardId, seqs: req.records.map((x) => x.seq), record: undefined,
    });
    try {
      this.engine.complete(req.reqId, undefined);
    } catch (err) {
      this.fail('bp_engine_complete_delivery', err);
    }
    return Engine.PENDING;
  }

  // ---- the run ----

  // Actions the engine can carry out: UpdateEventSourceMapping with Enabled (plus ids).
  static unsupportedAction(a, i) {
    if (a.action !== 'UpdateEventSourceMapping') {
      return `actions[${i}]: action ${a.action} is not supported by the runner`;
    }
    for (const [k, v] of a.input) {
      if (k === 'Enabled' && J.isBool(v)) continue;
      if (k === 'UUID' || k === 'FunctionName') continue;
      return `actions[${i}].input.${k}: the engine cannot change a running mapping's ${k}`;
    }
    return null;
  }

  applyAction(i) {
    const a = this.s.actions[i];
    const fn = J.getStr(a.input, 'FunctionName');
    const mine = J.getStr(this.m.config, 'FunctionName');
    if (fn !== null && mine !== null && fn !== mine) return true;
    const en = J.get(a.input, 'Enabled');
    if (en === undefined) return true;
    try {
      this.engine.setEnabled(en === true, this.now);
    } catch (err) {
      this.fail('bp_engine_set_enabled', err);
      return false;
    }
    return true;
  }

  nextTime(nextAction) {
    const d = this.engine.nextDeadline();
    let t = d === null ? Infinity : d;
    for (const r of this.s.recs) if (r.arrivalMs > this.now && r.arrivalMs < t) t = r.arrivalMs;
    for (const p of this.pend) if (p.dueMs < t) t = p.dueMs;
    if (nextAction < this.s.actions.length && this.s.actions[nextAction].atMs < t) {
      t = this.s.actions[nextAction].atMs;
    }
    return t;
  }

  // Complete the earliest queued invocation due by now. @return 1 done, 0 none, -1 error.
  completeDue() {
    let best = -1;
    this.pend.forEach((p, i) => {
      if (p.dueMs > this.now) return;
      const b = this.pend[best];
      if (best < 0 || p.dueMs < b.dueMs || (p.dueMs === b.dueMs && p.order < b.order)) best = i;
    });
    if (best < 0) return 0;
    const p = this.pend[best];
    this.pend[best] = this.pend[this.pend.length - 1];
    this.pend.pop();
    let err = null;
    try {
      this.engine.complete(p.reqId, Host.result(p.rule, p.requestId));
    } catch (e) {
      err = e;
    }
    this.sampleCheckpoints();
    if (err) {
      this.fail('bp_engine_complete_invoke', err);
      return -1;
    }
    return 1;
  }

  tick(what) {
    let err = null;
    try { this.engine.tick(this.now); } catch (e) { err = e; }
    this.sampleCheckpoints();
    if (err) this.fail(what, err);
    return !err;
  }

  loop() {
    let nextAction = 0;
    let steps = 0;
    let spins = 0;
    if (!this.tick('bp_engine_tick')) return;
    while (!this.stop) {
      let r;
      while ((r = this.completeDue()) === 1 && !this.stop) { /* every one due by now */ }
      if (r < 0 || this.stop) return;
      while (nextAction < this.s.actions.length && this.s.actions[nextAction].atMs <= this.now) {
        if (!this.applyAction(nextAction++)) return;
        this.sampleCheckpoints();
      }
      if (!this.tick('bp_engine_tick') || this.stop) return;
      const t = this.nextTime(nextAction);
      if (t <= this.now) {
        if (++spins > MAX_SPINS) {
          this.rep.fail(`engine: next deadline stays at or before t=${this.now} after ${MAX_SPINS} ticks`);
          return;
        }
        continue;
      }
      spins = 0;
      if (t === Infinity || t > this.s.runUntilMs) return;
      if (++steps > MAX_STEPS) {
        this.rep.fail(`runaway guard: more than ${MAX_STEPS} clock steps (t=${this.now})`);
        return;
      }
      this.now = t;
    }
  }

  /** @return false ran (the report may hold a failure); true the engine refused the
   *  configuration as unsupported (the report is skipped). */
  run() {
    const { s, m, rep, log, file } = this;
    for (let i = 0; i < s.actions.length; i++) {
      const why = Host.unsupportedAction(s.actions[i], i);
      if (why) {
        rep.skip(why);
        return true;
      }
    }
    let cfg;
    try {
      cfg = Config.fromJSON(J.text(m.config));
    } catch (err) {
      // "expect" -> "config", "mappings[1].expect" -> "mappings[1].config"
      rep.fail(`${m.path.slice(0, -'expect'.length)}config: the mapping's configuration is rejected: ${err.message}`);
      return false;
    }
    try {
      return this.runWith(cfg, file, s, log, rep);
    } finally {
      cfg.close();
      if (this.engine) this.engine.close();
    }
  }

  runWith(cfg, file, s, log, rep) {
    const uuid = envValue(file, s, 'esm_uuid');
    log.esmUuid = uuid !== null ? uuid : this.rng.uuid(); // the host chooses the mapping UUID
    const opts = { mappingUuid: log.esmUuid, seed: SIM_SEED + BigInt(s.index), clock: () => this.now };
    const role = envValue(file, s, 'role_arn');
    const region = envValue(file, s, 'region');
    if (role !== null) opts.invokeIdentityArn = role;
    if (region !== null) opts.awsRegion = region;
    const host = {
      fetch: (req) => this.fetch(req),
      invoke: (req) => this.invoke(req),
      deliver: (req) => this.deliver(req),
    };
    try {
      this.engine = new Engine(cfg, host, opts);
    } catch (err) {
      if (err.code === ERR_UNSUPPORTED) {
        rep.skip(`engine: ${err.message.slice(0, 400)}`);
        return true;
      }
      rep.fail(`engine: bp_engine_new refused the mapping: ${err.message} (${err.codeName})`);
      return false;
    }
    for (const sh of s.shards) {
      try {
        this.engine.addShard(sh.id);
      } catch (err) {
        this.fail('bp_engine_add_shard', err);
        return false;
      }
    }
    this.loop();
    if (this.pend.length && !rep.failed) {
      rep.fail(`at run_until_ms ${this.pend.length} invocation(s) still in flight (the first ` +
        `completes at t=${this.pend[0].dueMs})`);
    }
    try { log.metrics = this.engine.metrics(); } catch { log.metrics = null; }
    return false;
  }
}

/**
 * Runs mapping @p m of scenario @p s from start_ms to run_until_ms.
 * @return { log, unsupported } (unsupported: the report says why the case is skipped).
 */
function runMapping(file, s, m, opts, rep) {
  const log = newLog();
  const unsupported = new Host(file, s, m, opts, log, rep).run();
  return { log, unsupported };
}

module.exports = { runMapping };
