# SPDX-License-Identifier: MIT
"""The config cases: a CreateEventSourceMapping body goes through Config.from_json (which
validates the whole request); what the library leaves to the host -- which streams and
functions exist, which mappings exist already -- is a small registry here, filled from the
case's environment and its setup calls. The answer is compared with `expect`: status,
exception name and message, or the response's values."""
import re

from ..config import Config
from ..errors import BatchpointError
from .jsonv import MISSING, Num, dumps
from .match import Matcher, regex
from .rng import M64, Rng


class _Unchecked(Exception):
    """The library accepted a request without FunctionName or EventSourceArn."""


class Answer:
    def __init__(self, ok=False, status=0, error_type="", message="", response=None):
        self.ok, self.status, self.type, self.message = ok, status, error_type, message
        self.response = response


def _bare_function(fn):
    """The function's bare name from a name, a partial ARN or a full ARN (no qualifier)."""
    i = fn.find("function:")
    return (fn[i + 9:] if i >= 0 else fn).split(":")[0]


def _arn_field(arn, i):
    parts = (arn or "").split(":")
    return parts[i] if i < len(parts) else ""


def build_response(c, uuid):
    """The CreateEventSourceMapping response (SEMANTICS.md §2.2) from the configuration."""
    arn = c.event_source_arn or ""
    try:
        fa = c.function_arn()
    except BatchpointError:
        fa = c.function_name or ""
    r = {"BatchSize": c.batch_size,
         "BisectBatchOnFunctionError": c.bisect_batch_on_function_error,
         "DestinationConfig": {"OnFailure": ({"Destination": c.on_failure_destination}
                                             if c.on_failure_destination else {})},
         "EventSourceArn": arn,
         "EventSourceMappingArn": (f"arn:aws:lambda:{_arn_field(arn, 3)}:{_arn_field(arn, 4)}:"
                                   f"event-source-mapping:{uuid}")}
    if c.filters:
        r["FilterCriteria"] = {"Filters": [{"Pattern": p} for p in c.filters]}
    r["FunctionArn"] = fa
    r["FunctionResponseTypes"] = ["ReportBatchItemFailures"] if c.report_batch_item_failures \
        else []
    r["LastModified"] = Num("1764082800.000")
    r["LastProcessingResult"] = "No records processed"
    r["MaximumBatchingWindowInSeconds"] = c.maximum_batching_window_in_seconds
    r["MaximumRecordAgeInSeconds"] = c.maximum_record_age_in_seconds
    r["MaximumRetryAttempts"] = c.maximum_retry_attempts
    if c.metrics_event_count:
        r["MetricsConfig"] = {"Metrics": ["EventCount"]}
    r["ParallelizationFactor"] = c.parallelization_factor
    if c.starting_position:
        r["StartingPosition"] = c.starting_position
    ts = c.starting_position_timestamp_ms
    if c.starting_position == "AT_TIMESTAMP" and ts is not None:
        r["StartingPositionTimestamp"] = Num(f"{ts // 1000}.{ts % 1000:03d}")
    r["State"] = "Creating"  # whatever Enabled says (§2.2)
    r["StateTransitionReason"] = "User action"
    r["TumblingWindowInSeconds"] = c.tumbling_window_in_seconds
    r["UUID"] = uuid
    return r


class Registry:
    """The streams, functions and mappings that exist for one case."""

    def __init__(self, case):
        env = case.node.get("environment") or {}
        self.streams = env.get("existing_streams")
        self.functions = env.get("existing_functions")
        self.maps = []  # (event source ARN, bare function name, UUID)
        self.rng = Rng(0x636f6e66 ^ (((case.index + 1) * 0x9E3779B97F4A7C15) & M64))

    def create(self, body):
        """One CreateEventSourceMapping call: an Answer (_Unchecked: see _Unchecked)."""
        try:
            c = Config.from_json(dumps(body).encode())
        except BatchpointError as exc:
            return Answer(status=getattr(exc, "http_status", 400),
                          error_type=exc.error_type or exc.name, message=exc.message)
        try:
            arn, fn = c.event_source_arn, c.function_name
            if not arn or not fn:
                raise _Unchecked()
            name = _bare_function(fn)
            if self.streams is not None and arn not in self.streams:
                return Answer(status=400, error_type="InvalidParameterValueException",
                              message=f"Stream not found: {arn}")
            if self.functions is not None and name not in self.functions and \
                    fn not in self.functions:
                fa = build_response(c, "")["FunctionArn"]
                return Answer(status=404, error_type="ResourceNotFoundException",
                              message=f"Function not found: {fa}")
            for m_arn, m_fn, m_uuid in self.maps:
                if m_arn == arn and m_fn == name:
                    return Answer(status=409, error_type="ResourceConflictException", message=(
                        f"The event source arn (\" {arn} \") and function (\" {fn} \") "
                        "provided mapping already exists. Please update or delete the "
                        f"existing mapping with UUID {m_uuid}"))
            uuid = self.rng.uuid()
            resp = build_response(c, uuid)
            self.maps.append((resp["EventSourceArn"], name, uuid))
            return Answer(ok=True, status=202, response=resp)
        finally:
            c.close()


def _expand(t, setup_resp):
    """message_template: {setup[i].Key} from the setup calls' responses; None if it cannot."""
    out, pos = [], 0
    for m in re.finditer(r"\{([^}]*)\}?", t):
        out.append(t[pos:m.start()])
        ref = re.fullmatch(r"\{setup\[(\d+)\]\.([^}]{1,127})\}", m.group(0))
        if not ref or int(ref.group(1)) >= len(setup_resp) or not setup_resp[int(ref.group(1))]:
            return None
        v = setup_resp[int(ref.group(1))].get(ref.group(2))
        if isinstance(v, Num):
            v = v.raw
        elif isinstance(v, int) and not isinstance(v, bool):
            v = str(v)
        if not isinstance(v, str):
            return None
        out.append(v)
        pos = m.end()
    out.append(t[pos:])
    return "".join(out)


def _compare(expect, a, setup_resp, rep):
    mc = Matcher(rep)
    want_ok = expect.get("ok") is True
    if want_ok != a.ok:
        if a.ok:
            rep.fail("expect.ok: expected false, actual true (HTTP 202)")
        else:
            rep.fail(f"expect.ok: expected true, actual false (HTTP {a.status} {a.type}: "
                     f"{a.message})")
        return
    if "http_status" in expect:
        mc.match(expect["http_status"], a.status, "expect.http_status")
    if not want_ok:
        if "error_type" in expect:
            mc.match(expect["error_type"], a.type, "expect.error_type")
        msg = expect.get("message")
        if msg is not None and msg != a.message:
            rep.fail(f"expect.message: expected \"{msg}\", actual \"{a.message}\"")
        tmpl = expect.get("message_template")
        if tmpl is not None:
            want = _expand(tmpl, setup_resp)
            if want is None:
                rep.fail(f"expect.message_template: cannot expand \"{tmpl}\"")
            elif want != a.message:
                rep.fail(f"expect.message_template: expected \"{want}\", actual \"{a.message}\"")
        rx = expect.get("message_regex")
        if rx is not None:
            m = regex(rx, a.message)
            if m is not True:
                rep.fail(f"expect.message_regex: \"{a.message}\" "
                         + ("(bad regex)" if m is None else "does not match"))
        return
    resp = a.response
    for k in ("defaults", "response_matchers"):
        for name, v in (expect.get(k) or {}).items():
            mc.match(v, resp.get(name, MISSING), f"expect.{k}.{name}")
    for i, name in enumerate(expect.get("absent_keys") or ()):
        if name in resp:
            rep.fail(f"expect.absent_keys[{i}]: {name} is present")
    exact = expect.get("keys_exact")
    if isinstance(exact, list):
        for i, name in enumerate(exact):
            if name not in resp:
                rep.fail(f"expect.keys_exact[{i}]: {name} is missing from the response")
        for name in resp:
            if name not in exact:
                rep.fail(f"expect.keys_exact: the response also has {name}")


_UNCHECKED = ("the library accepted the request without FunctionName (AWS requires it); the "
              "runner's function registry cannot check it")


def run_case(case, rep):
    """Run config case @case into @rep."""
    reg = Registry(case)
    setup_resp = []
    for i, st in enumerate(case.node.get("setup") or ()):
        if st["action"] != "CreateEventSourceMapping":
            rep.skip(f"setup[{i}]: action {st['action']} is not supported")
            return
        try:
            sa = reg.create(st["input"])
        except _Unchecked:
            rep.fail(f"setup[{i}].input: {_UNCHECKED}")
            return
        setup_resp.append(sa.response)
        want = (st.get("expect") or {}).get("ok")
        if isinstance(want, bool) and want != sa.ok:
            rep.fail(f"setup[{i}].expect.ok: expected {str(want).lower()}, actual "
                     f"{str(sa.ok).lower()} ({sa.status} {sa.type}: {sa.message})")
            return
    try:
        a = reg.create(case.node["input"])
    except _Unchecked:
        rep.fail(f"input: {_UNCHECKED}")
        return
    _compare(case.node["expect"], a, setup_resp, rep)
