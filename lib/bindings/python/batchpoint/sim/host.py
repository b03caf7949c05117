# SPDX-License-Identifier: MIT
"""The simulated host of one mapping, over batchpoint.Engine: it serves fetches from the
scenario's stream, answers invoke attempts from the scripted function, accepts on-failure
deliveries, applies the timed actions, and moves a simulated clock from event to event (the
engine's next deadline, the next record arrival, the next function completion, the next
action; never beyond run_until_ms). Fetches and deliveries complete inside their callbacks;
an invocation completes inside its callback when it takes 0 ms, otherwise at attempt time +
sleep_ms, outside any callback. What happened goes to a Log for the expectations."""
from ..config import Config
from ..engine import Engine, InvokeResult
from ..errors import BatchpointError
from .jsonv import dumps, loads
from .load import RESPOND_ERROR, RESPOND_THROTTLE
from .match import rfc3339, seq_cmp, seq_eq, seq_valid
from .rng import M64, Rng

MAX_ATTEMPTS = 10000  # runaway guards
MAX_SPINS = 1000      # ticks at one instant while the engine says "due now"
MAX_STEPS = 5000000   # clock steps
SEED = 0x62707369
INVALID_ARGUMENT = -2  # BP_ERR_INVALID_ARGUMENT


class Invocation:
    """One invoke attempt as the function (or the throttle) saw it."""
    __slots__ = ("start_ms", "end_ms", "throttled", "lane", "attempt", "flags", "shard", "seqs",
                 "keys", "payload", "_event")

    def __init__(self, req, now, keep_payload):
        self.start_ms = self.end_ms = now
        self.throttled = False
        self.lane, self.attempt, self.flags = req.lane, req.attempt, req.flags
        self.shard = req.shard_id
        recs = list(req.records)
        self.seqs = [r.seq for r in recs]
        self.keys = [r.partition_key or "" for r in recs]
        self.payload = req.payload if keep_payload else None
        self._event = False

    @property
    def n(self):
        return len(self.seqs)

    def contains(self, seq):
        """1-based position of @seq in the batch, 0 if absent."""
        for i, s in enumerate(self.seqs):
            if seq_eq(s, seq):
                return i + 1
        return 0

    @property
    def event(self):
        """The parsed event (None: not kept or not JSON)."""
        if self._event is False:
            try:
                self._event = loads(self.payload) if self.payload is not None else None
            except ValueError:
                self._event = None
        return self._event


class Delivery:
    """One on-failure delivery."""

    def __init__(self, req, now):
        self.at_ms = now
        self.dest_type = req.destination_type
        self.condition = req.condition
        self.approximate_invoke_count = req.approximate_invoke_count
        self.lane = req.lane
        self.timestamp_ms = req.timestamp_ms
        self.destination = req.destination
        self.record_json = req.record_json
        self.s3_key = req.s3_key
        self.shard = req.shard_id
        self.seqs = [r.seq for r in req.records]
        self.record = None  # parsed lazily


class Log:
    """What one mapping's run did: attempts, deliveries, checkpoint moves, metrics."""

    def __init__(self):
        self.inv = []          # every attempt, in start order
        self.dlv = []
        self.ck = []           # (at_ms, shard id, seq or None)
        self.attempts = self.throttled = self.invocations = 0
        self.max_event_bytes = 0
        self.metrics = None
        self.esm_uuid = ""


class _Pending:
    __slots__ = ("req_id", "order", "due_ms", "rule", "request_id")

    def __init__(self, req_id, order, due_ms, rule, request_id):
        self.req_id, self.order, self.due_ms = req_id, order, due_ms
        self.rule, self.request_id = rule, request_id


def _window_info(payload):
    """isFinalInvokeForWindow and window.start (epoch ms or None) of an event."""
    try:
        ev = loads(payload)
    except ValueError:
        return False, None
    if not isinstance(ev, dict):
        return False, None
    final = ev.get("isFinalInvokeForWindow") is True
    window = ev.get("window")
    start = rfc3339(window.get("start")) if isinstance(window, dict) else None
    return final, start[0] if start else None


def _result(rule, request_id):
    if rule.kind == RESPOND_THROTTLE:
        return InvokeResult.throttled()
    if rule.kind == RESPOND_ERROR:
        return InvokeResult.error(rule.error, request_id=request_id)
    return InvokeResult.returned(rule.body or b"", request_id=request_id)


class Host:
    """Runs one mapping @m of scenario @s into @log, failures into @rep."""

    def __init__(self, s, m, log, rep, keep_payloads):
        self.s, self.m, self.log, self.rep = s, m, log, rep
        self.keep_payloads = keep_payloads
        self.engine = None
        self.now = s.start_ms
        self.iter = {}      # shard id -> where its previous fetch ended
        self.ck_last = {}   # shard id -> the checkpoint last sampled
        self.pend = []
        self.order = 0
        self.rng = Rng(SEED ^ ((s.index * 0x9E3779B97F4A7C15) & M64))
        self.stop = False

    # ---- helpers ----

    def _fail(self, what, exc):
        self.rep.fail(f"{what} at t={self.now}: {exc.message} ({exc.name})")
        self.stop = True

    def _stop(self, msg):
        self.rep.fail(msg)
        self.stop = True

    def sample_checkpoints(self):
        """Remember each shard's checkpoint whenever it changed (after each driving call)."""
        for sid in self.s.stream.shards:
            try:
                now = self.engine.checkpoint(sid)
            except BatchpointError:
                continue
            if sid in self.ck_last and self.ck_last[sid] == now:
                continue
            self.log.ck.append((self.now, sid, now))
            self.ck_last[sid] = now

    # ---- callbacks (batchpoint.Engine's host interface) ----

    def fetch(self, req):
        sh = self.s.stream.shards.get(req.shard_id)
        if sh is None:
            self._stop(f"engine: fetch of unknown shard \"{req.shard_id}\" at t={self.now}")
            return INVALID_ARGUMENT
        recs, pos = sh.recs, 0
        if req.position == "TRIM_HORIZON":
            pos = 0
        elif req.position == "LATEST":  # after every record that arrived by the creation
            for i, r in enumerate(recs):
                if r.arrival_ms <= self.s.start_ms:
                    pos = i + 1
        elif req.position == "AT_TIMESTAMP":
            while pos < len(recs) and recs[pos].arrival_ms < req.timestamp_ms:
                pos += 1
        elif req.position == "AFTER_SEQUENCE_NUMBER":
            if req.after_seq is None or not seq_valid(req.after_seq):
                self._stop("engine: fetch AFTER_SEQ with an invalid sequence number at "
                           f"t={self.now}")
                return INVALID_ARGUMENT
            while pos < len(recs) and seq_cmp(recs[pos].seq, req.after_seq) <= 0:
                pos += 1
        elif req.position == "CONTINUE":
            if sh.id not in self.iter:
                self._stop(f"engine: fetch CONTINUE of shard {sh.id} before any fetch "
                           f"(t={self.now})")
                return INVALID_ARGUMENT
            pos = self.iter[sh.id]
        else:
            self._stop(f"engine: fetch with unknown 'from' {req.position}")
            return INVALID_ARGUMENT
        n = 0
        while pos + n < len(recs) and n < req.max_records and \
                recs[pos + n].arrival_ms <= self.now:
            n += 1
        self.iter[sh.id] = pos + n
        try:
            self.engine.complete_fetch(req.req_id, self.now, 0, sh.records[pos:pos + n])
        except BatchpointError as exc:
            self._fail("bp_engine_complete_fetch", exc)
        return 0

    def _pick_rule(self, req):
        window = None
        for r in self.m.rules:
            if r.contains is not None:
                seqs = [x.seq for x in req.records]
                if not any(seq_eq(c, s) for c in r.contains for s in seqs):
                    continue
            if r.invocation is not None and r.invocation != self.log.attempts:
                continue
            if r.now_lt is not None and not self.now < r.now_lt:
                continue
            if r.now_ge is not None and not self.now >= r.now_ge:
                continue
            if r.final_cond is not None or r.window_start_ms is not None:
                if window is None:
                    window = _window_info(req.payload)
                final, start = window
                if r.final_cond is not None and final != r.final_cond:
                    continue
                if r.window_start_ms is not None and start != r.window_start_ms:
                    continue
            return r
        return None

    def invoke(self, req):
        log = self.log
        if self.stop:
            return 0  # the run is ending: leave it in flight (abandoned with the engine)
        log.attempts += 1
        if log.attempts > MAX_ATTEMPTS:
            self._stop(f"runaway guard: more than {MAX_ATTEMPTS} invoke attempts "
                       f"(t={self.now})")
            return 0
        if req.payload_len is None:
            self._stop("engine: invoke request without a payload (core-only build?)")
            return 0
        log.max_event_bytes = max(log.max_event_bytes, req.payload_len)
        rule = self._pick_rule(req)
        if rule is None:
            self._stop(f"function: no rule matches attempt {log.attempts}")
            return 0
        inv = Invocation(req, self.now, self.keep_payloads)
        log.inv.append(inv)
        inv.end_ms = self.now + rule.sleep_ms
        inv.throttled = rule.kind == RESPOND_THROTTLE
        if inv.throttled:
            log.throttled += 1
        else:
            log.invocations += 1
        request_id = self.rng.uuid()
        if rule.sleep_ms == 0:
            try:
                self.engine.complete_invoke(req.req_id, self.now, _result(rule, request_id))
            except BatchpointError as exc:
                self._fail("bp_engine_complete_invoke", exc)
            return 0
        self.pend.append(_Pending(req.req_id, self.order, inv.end_ms, rule, request_id))
        self.order += 1
        return 0

    def deliver(self, req):
        self.log.dlv.append(Delivery(req, self.now))
        try:
            self.engine.complete_delivery(req.req_id, self.now, 0)
        except BatchpointError as exc:
            self._fail("bp_engine_complete_delivery", exc)
        return 0

    # ---- the run ----

    def _apply_action(self, a):
        fn, mine = a.input.get("FunctionName"), self.m.config.get("FunctionName")
        if isinstance(fn, str) and isinstance(mine, str) and fn != mine:
            return True  # another mapping's
        en = a.input.get("Enabled")
        if isinstance(en, bool):
            try:
                self.engine.set_enabled(self.now, en)
            except BatchpointError as exc:
                self._fail("bp_engine_set_enabled", exc)
                return False
        return True

    def _next_time(self, next_action):
        t = self.engine.next_deadline()
        cands = [x for x in (t, self.s.stream.next_arrival(self.now)) if x is not None]
        cands += [p.due_ms for p in self.pend]
        if next_action < len(self.s.actions):
            cands.append(self.s.actions[next_action].at_ms)
        return min(cands) if cands else None

    def _complete_due(self):
        """Complete the earliest queued invocation due by now. @return True if one was."""
        due = [p for p in self.pend if p.due_ms <= self.now]
        if not due:
            return False
        p = min(due, key=lambda x: (x.due_ms, x.order))
        self.pend.remove(p)
        try:
            self.engine.complete_invoke(p.req_id, self.now, _result(p.rule, p.request_id))
        except BatchpointError as exc:
            self.sample_checkpoints()
            self._fail("bp_engine_complete_invoke", exc)
            return False
        self.sample_checkpoints()
        return True

    def _tick(self):
        try:
            self.engine.tick(self.now)
        except BatchpointError as exc:
            self.sample_checkpoints()
            self._fail("bp_engine_tick", exc)
            return False
        self.sample_checkpoints()
        return True

    def loop(self):
        next_action, steps, spins = 0, 0, 0
        if not self._tick():
            return
        actions = self.s.actions
        while not self.stop:
            while not self.stop and self._complete_due():
                pass
            if self.stop:
                return
            while next_action < len(actions) and actions[next_action].at_ms <= self.now:
                next_action += 1
                if not self._apply_action(actions[next_action - 1]):
                    return
                self.sample_checkpoints()
            if not self._tick() or self.stop:
                return
            t = self._next_time(next_action)
            if t is not None and t <= self.now:
                spins += 1
                if spins > MAX_SPINS:
                    self.rep.fail(f"engine: next deadline stays at or before t={self.now} "
                                  f"after {MAX_SPINS} ticks")
                    return
                continue
            spins = 0
            if t is None or t > self.s.run_until_ms:
                return
            steps += 1
            if steps > MAX_STEPS:
                self.rep.fail(f"runaway guard: more than {MAX_STEPS} clock steps (t={self.now})")
                return
            self.now = t


def unsupported_action(a, i):
    """Why action @a cannot be carried out by the engine, or None (UpdateEventSourceMapping
    with Enabled, plus ids)."""
    if a.action != "UpdateEventSourceMapping":
        return f"actions[{i}]: action {a.action} is not supported by the runner"
    for k, v in a.input.items():
        if k == "Enabled" and isinstance(v, bool) or k in ("UUID", "FunctionName"):
            continue
        return f"actions[{i}].input.{k}: the engine cannot change a running mapping's {k}"
    return None


def run(f, s, m, rep, keep_payloads):
    """Run mapping @m of scenario @s from start_ms to run_until_ms. @return its Log, or None
    when the run was skipped (rep says why)."""
    log = Log()
    for i, a in enumerate(s.actions):
        why = unsupported_action(a, i)
        if why:
            rep.skip(why)
            return None
    h = Host(s, m, log, rep, keep_payloads)
    try:
        cfg = Config.from_json(dumps(m.config).encode())
    except BatchpointError as exc:
        rep.fail(f"{m.path[:-len('expect')]}config: the mapping's configuration is rejected: "
                 f"{exc.message}")
        return log
    log.esm_uuid = f.env_value(s, "esm_uuid") or h.rng.uuid()  # the host chooses the UUID
    opts = {"mapping_uuid": log.esm_uuid, "seed": SEED + s.index}
    for opt, name in (("invoke_identity_arn", "role_arn"), ("aws_region", "region")):
        v = f.env_value(s, name)
        if v is not None:
            opts[opt] = v
    try:
        h.engine = Engine(cfg, h, **opts)
    except BatchpointError as exc:
        if exc.name == "BP_ERR_UNSUPPORTED":
            rep.skip(f"engine: {exc.message[:400]}")
            return None
        rep.fail(f"engine: bp_engine_new refused the mapping: {exc.message} ({exc.name})")
        return log
    try:
        for sid in s.stream.shards:
            try:
                h.engine.add_shard(sid)
            except BatchpointError as exc:
                h._fail("bp_engine_add_shard", exc)
                return log
        h.loop()
        if h.pend and not rep.failed:
            rep.fail(f"at run_until_ms {len(h.pend)} invocation(s) still in flight (the first "
                     f"completes at t={h.pend[0].due_ms})")
        log.metrics = h.engine.metrics()
        return log
    finally:
        h.engine.close()
        cfg.close()
