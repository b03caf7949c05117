# SPDX-License-Identifier: MIT
"""A mapping's `expect` against the host's Log. Fields are checked in the file's order and
the first difference is reported; API-level fields (mapping states, LastProcessingResult)
and metrics the engine does not report become skipped parts. The readings where the format
leaves a choice are bpsim's (examples/bpsim/bpsim_expect.c):
- "invocations" are the attempts that reached the function (throttles excluded); with
  ignore_empty_invocations the empty ones are dropped before anything numbers them;
- invocations that start at the same simulated time on different lanes or shards compare as
  a set (SEMANTICS.md §8.1): each such group is first put in the order `invocations` (or
  `delivered_in_order`) implies where one exists, keeping each lane's own order;
- max_in_flight compares like any count, per shard; max_event_bytes is an upper bound over
  every attempt's event, throttled ones included;
- final_checkpoint / checkpoint_at as a string or null name the shard holding that record
  (with one shard: that shard); an object {shardId: seq|null} checks several shards."""
import re
import time

from .jsonv import MISSING, Num, loads, num_dec, render
from .match import Matcher, regex, rfc3339, seq_eq

_DEST_TYPES = {"sqs": 1, "sns": 2, "s3": 3}
_METRICS = {"PolledEventCount": "polled_event_count",
            "FilteredOutEventCount": "filtered_out_event_count",
            "InvokedEventCount": "invoked_event_count",
            "FailedInvokeEventCount": "failed_invoke_event_count",
            "DroppedEventCount": "dropped_event_count",
            "OnFailureDestinationDeliveredEventCount":
                "on_failure_destination_delivered_event_count",
            "DestinationDeliveryFailures": "destination_delivery_failures"}
_BUDGET = 100000  # placements tried per same-instant group


def _get(obj, k):
    return obj.get(k, MISSING) if isinstance(obj, dict) else MISSING


def _same_batch(want, inv):
    return len(want) == inv.n and all(seq_eq(w, s) for w, s in zip(want, inv.seqs))


def _same_lane(a, b):
    return a.lane == b.lane and a.shard == b.shard


# Whether @inv may stand at expected position @pos: the position after it, or None. Past the
# end of the expectation anything fits (the count is checked on its own).
def _fits_batch(want, pos, inv):
    if pos < len(want) and not _same_batch(want[pos], inv):
        return None
    return pos + 1


def _fits_records(want, pos, inv):
    if pos < len(want):
        if pos + inv.n > len(want):
            return None
        if not all(seq_eq(want[pos + i], s) for i, s in enumerate(inv.seqs)):
            return None
    return pos + inv.n


class Checker:
    def __init__(self, scn, mapping, log, rep):
        self.s, self.m, self.log, self.rep = scn, mapping, log, rep
        ignore_empty = mapping.expect.get("ignore_empty_invocations") is True
        self.inv = [i for i in log.inv if not i.throttled and not (ignore_empty and i.n == 0)]
        self.n = len(self.inv)
        self.mc = Matcher(rep, self.n)
        self.path = ""

    # ---- rendering batches with the stream's labels ----

    def label(self, seq):
        r = self.s.stream.find(seq)
        if r is not None:
            return r.label
        return "..." + seq[-8:] if len(seq) > 10 else seq

    def fmt(self, seqs):
        return "[" + ",".join(self.label(s) for s in seqs) + "]"

    def fmt_all(self):
        return "[" + ",".join(self.fmt(i.seqs) for i in self.inv) + "]"

    def match_int(self, want, got, path):
        return self.mc.match(want, got, path)

    # ---- invocations that start at one instant ----

    def instant_group(self, k):
        a, b = k, k + 1
        t = self.inv[k].start_ms
        while a > 0 and self.inv[a - 1].start_ms == t:
            a -= 1
        while b < self.n and self.inv[b].start_ms == t:
            b += 1
        return a, b

    def several_lanes(self, g0, g1):
        return any(not _same_lane(self.inv[g0], self.inv[i]) for i in range(g0 + 1, g1))

    def place_group(self, want, fits, i, g1, pos, budget):
        """Place inv[i..g1) so each fits from @pos on; only the first unplaced one of a lane
        may be placed next. Depth first, at most budget[0] steps."""
        if i == g1:
            return True
        inv = self.inv
        for j in range(i, g1):
            if any(_same_lane(inv[m], inv[j]) for m in range(i, j)):
                continue
            nxt = fits(want, pos, inv[j])
            if nxt is None:
                continue
            if budget[0] == 0:
                return False
            budget[0] -= 1
            inv.insert(i, inv.pop(j))
            if self.place_group(want, fits, i + 1, g1, nxt, budget):
                return True
            inv.insert(j, inv.pop(i))
        return False

    def order_instants(self, want, fits):
        pos, g0 = 0, 0
        while g0 < self.n:
            g0, g1 = self.instant_group(g0)
            if g1 - g0 > 1 and self.place_group(want, fits, g0, g1, pos, [_BUDGET]):
                for i in range(g0, g1):
                    pos = fits(want, pos, self.inv[i])
            else:
                pos += sum(1 if fits is _fits_batch else self.inv[i].n for i in range(g0, g1))
            g0 = g1

    # ---- invocations ----

    def batches(self, want, info):
        """`invocations` and `inf_expected_invocations` (@info: a note, not a failure)."""
        p = self.path
        say = self.rep.note if info else self.rep.fail
        k, n = 0, min(len(want), self.n)
        while k < n:
            if _same_batch(want[k], self.inv[k]):
                k += 1
                continue
            g0, g1 = self.instant_group(k)
            if self.several_lanes(g0, g1):
                saved = self.inv[g0:g1]
                ok = self.place_group(want, _fits_batch, g0, g1, g0, [_BUDGET])
                self.inv[g0:g1] = saved
                if ok:
                    k = g1
                    continue
                ge = min(g1, len(want))
                ew = ",".join(self.fmt(want[i]) for i in range(g0, ge))
                aw = ",".join(self.fmt(self.inv[i].seqs) for i in range(g0, g1))
                what = (f"invocations {g0 + 1} to {g1} start at t={self.inv[g0].start_ms} on "
                        f"different lanes (a set, each lane in its order): expected {{{ew}}}, "
                        f"actual {{{aw}}}")
                if info:
                    say(f"{p}[{g0}..{g1 - 1}]: diverges from the spec's [INF] batches: {what}")
                else:
                    say(f"{p}[{g0}..{g1 - 1}]: {what}")
                return
            e, a = self.fmt(want[k]), self.fmt(self.inv[k].seqs)
            if info:
                say(f"{p}[{k}]: diverges from the spec's [INF] batches: expected {e}, actual {a}")
            else:
                say(f"{p}[{k}]: expected {e}, actual {a}")
            return
        if len(want) != self.n:
            if info:
                say(f"{p}: diverges from the spec's [INF] batches: {len(want)} expected, "
                    f"{self.n} made: {self.fmt_all()}")
            else:
                say(f"{p}: {len(want)} invocation(s) expected, {self.n} made: actual "
                    f"{self.fmt_all()}")

    def every(self, want):
        for k, inv in enumerate(self.inv):
            if not _same_batch(want, inv):
                return self.rep.fail(f"{self.path}: invocation {k + 1} is {self.fmt(inv.seqs)}, "
                                     f"expected {self.fmt(want)}")

    def in_order(self, want):
        i = 0
        for k, inv in enumerate(self.inv):
            for got in inv.seqs:
                if i >= len(want):
                    return self.rep.fail(f"{self.path}: more records delivered than expected: "
                                         f"{self.label(got)} (invocation {k + 1})")
                if not seq_eq(want[i], got):
                    return self.rep.fail(f"{self.path}[{i}]: expected {self.label(want[i])}, "
                                         f"actual {self.label(got)} (invocation {k + 1})")
                i += 1
        if i != len(want):
            self.rep.fail(f"{self.path}: {len(want)} records expected, {i} delivered")

    def counts(self, want):
        for seq, w in want.items():
            count = sum(1 for inv in self.inv if inv.contains(seq))
            self.match_int(w, count, f"{self.path}.{seq}")

    def not_delivered(self, want):
        for i, seq in enumerate(want):
            for k, inv in enumerate(self.inv):
                if inv.contains(seq):
                    return self.rep.fail(f"{self.path}[{i}]: {self.label(seq)} was delivered "
                                         f"(invocation {k + 1})")

    def key_order(self, want):
        for key, seqs in want.items():
            prev = None
            for j, seq in enumerate(seqs):
                found = next(((k, inv.contains(seq)) for k, inv in enumerate(self.inv)
                              if inv.contains(seq)), None)
                where = f"{self.path}.{key}[{j}]"
                if found is None:
                    return self.rep.fail(f"{where}: {self.label(seq)} was never delivered")
                if j and found <= prev:
                    return self.rep.fail(f"{where}: {self.label(seq)} was first delivered "
                                         f"(invocation {found[0] + 1}) before the record listed "
                                         "ahead of it")
                prev = found

    def serial(self):
        for i, a in enumerate(self.inv):
            for j in range(i + 1, self.n):
                b = self.inv[j]
                if a.start_ms < b.end_ms and b.start_ms < a.end_ms and \
                        set(a.keys) & set(b.keys):
                    return self.rep.fail(
                        f"{self.path}: invocations {i + 1} and {j + 1} share a partition key "
                        f"and overlap ([{a.start_ms}, {a.end_ms}) and [{b.start_ms}, "
                        f"{b.end_ms}))")

    def max_in_flight(self):
        """Most invocations running at one instant on one shard (intervals [start, end))."""
        best = 0
        for i, a in enumerate(self.inv):
            n = sum(1 for j, b in enumerate(self.inv) if a.shard == b.shard and
                    (j == i or b.start_ms <= a.start_ms < b.end_ms))
            best = max(best, n)
        return best

    # ---- events ----

    def events(self, want):
        for i, e in enumerate(want):
            if self.rep.failed:
                return
            k = int(e["invocation"])
            p = f"{self.path}[{i}]"
            if k > self.n:
                self.rep.fail(f"{p}.invocation: invocation {k} does not exist ({self.n} made)")
                continue
            ev = self.inv[k - 1].event
            if ev is None:
                self.rep.fail(f"{p}: the event of invocation {k} is not JSON")
            elif "equals" in e:
                self.mc.match(e["equals"], ev, f"{p}.equals")
            else:
                self.mc.match(e["match"], _at_path(ev, e["path"]), f"{p}.match({e['path']})")

    # ---- on-failure records ----

    def one_failure(self, want, d, p):
        rep = self.rep
        if d.record_json is None:
            return rep.fail(f"{p}: the delivery carries no record_json")
        if d.record is None:
            try:
                d.record = loads(d.record_json)
            except ValueError as exc:
                return rep.fail(f"{p}: the on-failure record is not JSON: {exc}")
        rec = d.record
        dest, delivery = want.get("destination"), want.get("delivery")
        if dest is not None and dest != d.destination:
            return rep.fail(f"{p}.destination: expected \"{dest}\", actual "
                            f"\"{d.destination or '(none)'}\"")
        if delivery is not None and _DEST_TYPES[delivery] != d.dest_type:
            return rep.fail(f"{p}.delivery: expected {delivery}, the engine delivered to "
                            f"destination type {d.dest_type}")
        if delivery == "s3" and _get(rec, "payload") is MISSING:
            return rep.fail(f"{p}.record.payload: missing in an S3 object body")
        if "record" in want and not self.mc.match(want["record"], rec, f"{p}.record"):
            return
        req, resp = _get(rec, "requestContext"), _get(rec, "responseContext")
        info = _get(rec, "KinesisBatchInfo")
        if info is MISSING:
            info = _get(rec, "DDBStreamBatchInfo")
        flat = (("condition", _get(req, "condition")),
                ("approximateInvokeCount", _get(req, "approximateInvokeCount")),
                ("batchSize", _get(info, "batchSize")),
                ("startSequenceNumber", _get(info, "startSequenceNumber")),
                ("endSequenceNumber", _get(info, "endSequenceNumber")))
        for name, actual in flat:
            if name not in want:
                continue
            self.mc.seq_strings = True
            ok = self.mc.match(want[name], actual, f"{p}.{name}")
            self.mc.seq_strings = False
            if not ok:
                return
        if "responseContext" in want:
            w = want["responseContext"]
            if (w == "present") != (resp is not MISSING):
                return rep.fail(f"{p}.responseContext: expected {w}, actual "
                                f"{'present' if resp is not MISSING else 'absent'}")
        if "functionError" in want:
            w, fe = want["functionError"], _get(resp, "functionError")
            if w == "absent":
                if fe is not MISSING:
                    return rep.fail(f"{p}.functionError: expected absent, actual "
                                    f"{render(fe, 128)}")
            elif not self.mc.match(w, fe, f"{p}.functionError"):
                return
        # the record and the request the engine handed over must agree
        aic, bs = _get(req, "approximateInvokeCount"), _get(info, "batchSize")
        if isinstance(aic, Num) and aic.is_int and int(aic) != d.approximate_invoke_count:
            return rep.fail(f"{p}: engine: bp_delivery_req.approximate_invoke_count "
                            f"{d.approximate_invoke_count} differs from the record's {int(aic)}")
        if isinstance(bs, Num) and bs.is_int and int(bs) != len(d.seqs):
            return rep.fail(f"{p}: engine: bp_delivery_req.count {len(d.seqs)} differs from "
                            f"the record's batchSize {int(bs)}")
        tss = _get(rec, "timestamp")
        got = rfc3339(tss) if isinstance(tss, str) else None
        ts = got[0] if got else 0
        if "timestamp_ms" in want:
            if got is None:
                return rep.fail(f"{p}.timestamp_ms: the record has no RFC 3339 timestamp")
            if not self.mc.match(want["timestamp_ms"], ts, f"{p}.timestamp_ms"):
                return
        if got is not None and ts != d.timestamp_ms:
            return rep.fail(f"{p}: engine: bp_delivery_req.timestamp_ms {d.timestamp_ms} "
                            f"differs from the record's timestamp {tss}")
        tmpl, rx = want.get("s3_key_template"), want.get("s3_key_regex")
        if (tmpl is not None or rx is not None) and d.s3_key is None:
            return rep.fail(f"{p}: the delivery has no s3_key")
        if tmpl is not None:
            pattern = _template_regex(tmpl, self.log.esm_uuid, d.shard, ts)
            if pattern is None:
                return rep.fail(f"{p}.s3_key_template: cannot read the template")
            if not re.search(pattern, d.s3_key):
                return rep.fail(f"{p}.s3_key_template: \"{d.s3_key}\" does not fit \"{tmpl}\" "
                                f"(timestamp {tss if got else '?'})")
        if rx is not None and regex(rx, d.s3_key) is not True:
            return rep.fail(f"{p}.s3_key_regex: \"{d.s3_key}\" does not match")
        # always: not earlier than the end of the last invocation that held its records
        last_end = -1
        for inv in self.log.inv:
            if inv.throttled or inv.start_ms > d.at_ms or inv.shard != d.shard:
                continue
            if any(inv.contains(s) for s in d.seqs):
                last_end = max(last_end, inv.end_ms)
        if got is not None and last_end >= 0 and ts < last_end:
            rep.fail(f"{p}: the record's timestamp {tss} is earlier than the end "
                     f"(t={last_end}) of the last invocation that contained its records")

    def failures(self, want):
        dlv = self.log.dlv
        for i in range(min(len(want), len(dlv))):
            if self.rep.failed:
                return
            self.one_failure(want[i], dlv[i], f"{self.path}[{i}]")
        if not self.rep.failed and len(want) != len(dlv):
            extra = ""
            if len(dlv) > len(want):
                d = dlv[len(want)]
                cond = d.condition if d.condition == "RecordAgeExceeded" \
                    else "RetryAttemptsExhausted"
                extra = (f"; the first unexpected: {cond} {self.label(d.seqs[0])}.."
                         f"{self.label(d.seqs[-1])} ({len(d.seqs)} records) at t={d.at_ms}")
            self.rep.fail(f"{self.path}: {len(want)} on-failure record(s) expected, {len(dlv)} "
                          f"emitted{extra}")

    # ---- checkpoints ----

    def shard_for(self, seq):
        """The shard an expected checkpoint is about: the only one, or the one holding it."""
        shards = list(self.s.stream.shards)
        if len(shards) <= 1 or seq is None:
            return shards[0] if shards else None
        r = self.s.stream.find(seq)
        return r.shard if r is not None else shards[0]

    def checkpoint_at(self, shard, at):
        v = None
        for t, sid, seq in self.log.ck:
            if t > at:
                break
            if sid == shard:
                v = seq
        return v

    def one_checkpoint(self, want, shard, at, p):
        got = self.checkpoint_at(shard, at)
        same = got is not None and seq_eq(want, got) if want is not None else got is None
        if same:
            return
        wl = self.label(want) if want is not None else "null"
        gl = self.label(got) if got is not None else "null"
        self.rep.fail(f"{p}: expected {want if want is not None else 'null'} ({wl}), actual "
                      f"{got if got is not None else 'null'} ({gl})")

    def checkpoint(self, want, at, p):
        if not isinstance(want, dict):
            shards = list(self.s.stream.shards)
            if want is not None or len(shards) <= 1:
                return self.one_checkpoint(want, self.shard_for(want), at, p)
            for sid in shards:
                self.one_checkpoint(want, sid, at, p)
            return
        for sid, w in want.items():
            self.one_checkpoint(w, sid, at, f"{p}.{sid}")

    # ---- timing ----

    def side_time(self, side, each):
        if "time_ms" in side:
            return int(side["time_ms"])
        inv = side["invocation"]
        k = each if isinstance(inv, str) else int(inv) - 1
        if k >= self.n:
            return None
        return self.inv[k].start_ms if side["at"] == "start" else self.inv[k].end_ms

    def timing(self, want):
        for i, t in enumerate(want):
            if self.rep.failed:
                return
            left, right = t["left"], t["right"]
            offset = int(t["offset_ms"]) if "offset_ms" in t else 0
            ge = t["op"] == ">="
            each = isinstance(left.get("invocation"), str) or \
                isinstance(right.get("invocation"), str)
            for k in range(self.n if each else 1):
                a, b = self.side_time(left, k), self.side_time(right, k)
                if a is None or b is None:
                    self.rep.fail(f"{self.path}[{i}]: names invocation that does not exist "
                                  f"({self.n} made)")
                    break
                if (a >= b + offset) if ge else (a <= b + offset):
                    continue
                start = self.s.start_ms
                self.rep.fail(f"{self.path}[{i}]: {a} {t['op']} {b} + {offset} does not hold "
                              f"(t - start_ms: {a - start} vs {b - start})"
                              + (" for invocation 'each'" if each else ""))
                break

    # ---- metrics ----

    def metrics(self, want):
        m = self.log.metrics
        for name, w in want.items():
            v = None
            if m is not None:
                if name in _METRICS:
                    v = m.get(_METRICS[name])
                elif name == "IteratorAge" and m.get("iterator_age_ms", -1) >= 0:
                    v = m["iterator_age_ms"]
            if v is None:
                self.rep.part(f"{self.path}.{name} (not reported by the engine)")
                continue
            self.match_int(w, v, f"{self.path}.{name}")

    # ---- driver ----

    def field(self, k, v):
        p = self.path
        if k == "invocations":
            self.batches(v, False)
        elif k == "inf_expected_invocations":
            self.batches(v, True)
        elif k == "invocation_count":
            self.match_int(v, self.n, p)
        elif k == "every_invocation":
            self.every(v)
        elif k == "throttled_attempts":
            self.match_int(v, self.log.throttled, p)
        elif k == "delivered_in_order":
            self.in_order(v)
        elif k == "delivery_counts":
            self.counts(v)
        elif k == "not_delivered":
            self.not_delivered(v)
        elif k == "per_key_order":
            self.key_order(v)
        elif k == "per_key_serial":
            if v is True:
                self.serial()
        elif k == "max_in_flight":
            self.match_int(v, self.max_in_flight(), p)
        elif k == "max_event_bytes":
            got = self.log.max_event_bytes
            limit = num_dec(v)  # a plain number is an upper bound
            if limit is not None and limit >= 0:
                if got > limit:
                    self.rep.fail(f"{p}: an event of {got} bytes exceeds {render(v)}")
            else:
                self.match_int(v, got, p)
        elif k == "events":
            self.events(v)
        elif k == "on_failure":
            self.failures(v)
        elif k == "final_checkpoint":
            self.checkpoint(v, self.s.run_until_ms, p)
        elif k == "checkpoint_at":
            for i, e in enumerate(v):
                self.checkpoint(e["checkpoint"], int(e["at_ms"]), f"{p}[{i}].checkpoint")
        elif k == "timing":
            self.timing(v)
        elif k == "metrics":
            self.metrics(v)
        elif k == "last_processing_result":
            self.rep.part(f"{p} (API-level)")
        # ignore_empty_invocations: applied when the list is built

    def run(self):
        expect = self.m.expect
        order = expect.get("invocations")
        if isinstance(order, list):
            self.order_instants(order, _fits_batch)
        elif isinstance(expect.get("delivered_in_order"), list):
            self.order_instants(expect["delivered_in_order"], _fits_records)
        failed_before = self.rep.failed
        for k, v in expect.items():
            self.path = f"{self.m.path}.{k}"
            self.field(k, v)
        if self.rep.failed and not failed_before:
            prefix = self.m.path + "."
            if self.rep.failure.startswith(prefix):
                dep = _inf_dependency(self.s.inf_deps, self.rep.failure[len(prefix):])
                if dep:
                    self.rep.failure = (f"diverges from spec choice (inf_dependencies: "
                                        f"\"{dep}\"): {self.rep.failure}")


def _at_path(v, p):
    """A value inside an event by a path like `Records[0].kinesis.data` (MISSING if none)."""
    if p.startswith("$"):
        p = p[2:] if p[1:2] == "." else p[1:]
    for tok in re.findall(r"\[(\d+)\]|\.?([^.\[]+)", p):
        idx, name = tok
        if idx:
            i = int(idx)
            if not isinstance(v, list) or i >= len(v):
                return MISSING
            v = v[i]
        else:
            v = _get(v, name)
            if v is MISSING:
                return MISSING
    return v


def _template_regex(t, uuid, shard, ts_ms):
    """s3_key_template into an anchored regex ({esm_uuid}, {shardId}, {timestamp:fmt},
    {uuid}); None when it cannot be read."""
    out = ["^"]
    while t:
        open_ = t.find("{")
        out.append(re.escape(t if open_ < 0 else t[:open_]))
        if open_ < 0:
            break
        close = t.find("}", open_)
        if close < 0:
            return None
        name = t[open_ + 1:close]
        if name == "esm_uuid":
            out.append(re.escape(uuid))
        elif name == "shardId":
            out.append(re.escape(shard))
        elif name == "uuid":
            out.append("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
        elif name.startswith("timestamp:"):
            out.append(re.escape(time.strftime(name[10:], time.gmtime(ts_ms // 1000))))
        else:
            return None
        t = t[close + 1:]
    out.append("$")
    return "".join(out)


def _inf_dependency(deps, failed):
    """The inf_dependencies entry naming the failing path (relative to expect), or None."""
    rel = re.sub(r"\.equals(?=[.:]|$)", "", failed)
    for entry in deps or ():
        d = entry
        while d:
            d = d.lstrip(" /,")
            n = len(re.match(r"[^ /,]*", d).group(0))
            if n and rel.startswith(d[:n]) and (len(rel) == n or rel[n] in "[.:"):
                return entry
            d = d[n:]
            if d.startswith(" ") and d[1:2] != "/":
                break  # the rest is the reason
            if d.startswith(", "):
                d = d[1:]
    return None


def check(scn, mapping, log, rep):
    """Check @mapping's `expect` against @log; differences and skipped parts go to @rep."""
    Checker(scn, mapping, log, rep).run()


def needs_payloads(mapping):
    """Whether the expectations need the invocations' events kept."""
    return "events" in mapping.expect
