# SPDX-License-Identifier: MIT
"""Loading a scenario file: scenarios with their mappings, function rules, actions and
expectations, and config cases, each field checked where it is read (LoadError names the
JSON path of the first bad value). The records are stream.py's."""
import os

from .checks import (INT64_MAX, TIME_MAX_MS, fail, integer, key, known, member, parse,
                     read_file, seq_val, string_list)
from .jsonv import DupDict, is_matcher, is_num, type_name
from .match import matcher_check, regex_ok, rfc3339, seq_valid
from .stream import load_stream

RESPOND_BODY, RESPOND_ERROR, RESPOND_THROTTLE = 0, 1, 2
MAX_SETUP = 16  # most `setup` calls a config case may make


class Rule:
    """One rule of the scripted function: conditions (None: any) and its response."""
    contains = invocation = now_lt = now_ge = final_cond = window_start_ms = None
    kind, body, error, sleep_ms = RESPOND_BODY, None, None, 0


class Action:
    def __init__(self, at_ms, action, input_, expect_response, expect_state):
        self.at_ms, self.action, self.input = at_ms, action, input_
        self.expect_response, self.expect_state = expect_response, expect_state


class Mapping:
    """One mapping of a scenario: the top-level config/function/expect, or one of
    `mappings` (path: where its expect is, "expect" or "mappings[1].expect")."""

    def __init__(self, name, config, expect, rules, path):
        self.name, self.config, self.expect, self.rules, self.path = (
            name, config, expect, rules, path)


class Scenario:
    pass


class Case:
    def __init__(self, case_id, index, node):
        self.id, self.index, self.node = case_id, index, node


class SimFile:
    def __init__(self, env, scenarios, cases):
        self.env, self.scenarios, self.cases = env, scenarios, cases

    def env_value(self, scn, name):
        """An environment value: the scenario's own first, then the file's."""
        for env in (scn.env if scn else None, self.env):
            if env and isinstance(env.get(name), str):
                return env[name]
        return None

# ---- small checks ----


def _seq_ref(v, path, scn):
    """A sequence number an expectation or a rule names: a typo must not pass as "never
    delivered" or as a rule that never fires."""
    seq_val(v, path)
    if scn.stream.find(v) is None:
        fail(path, "no record of the stream has this sequence number")


def _seq_list(arr, path, scn):
    if not isinstance(arr, list):
        fail(path, f"an array expected, got {type_name(arr)}")
    for i, v in enumerate(arr):
        _seq_ref(v, f"{path}[{i}]", scn)


def _matchers(v, path):
    bad = matcher_check(v, path)
    if bad:
        fail(*bad)


def _num_or_matcher(v, path):
    if is_num(v):
        return
    if not is_matcher(v):
        fail(path, f"a number or a matcher expected, got {type_name(v)}")
    _matchers(v, path)


def _one_of(obj, k, values, expected, path):
    v = member(obj, k, "string", False, path)
    if v is not None and v not in values:
        fail(key(path, k), f"{expected} expected, got \"{v}\"")


def _matcher_or(obj, k, check, path):
    """Member @k of @obj, when present, is a matcher or else what @check accepts."""
    if k not in obj:
        return
    v, p = obj[k], key(path, k)
    if is_matcher(v):
        _matchers(v, p)
    else:
        check(v, p)


def _plain(kinds, what):
    def check(v, p):
        if not any(k(v) for k in kinds):
            fail(p, f"{what} or a matcher expected, got {type_name(v)}")
    return check


_is_str = (lambda v: isinstance(v, str))
_plain_string = _plain((_is_str,), "a string")
_plain_number = _plain((is_num,), "a number")
_string_or_null = _plain((_is_str, lambda v: v is None), "a string, null")


def _checkpoint(v, path, scn):
    """An expected checkpoint: a sequence number or null, or {shard id: that} per shard."""
    if not isinstance(v, dict):
        if v is not None:
            _seq_ref(v, path, scn)
        return
    for shard, x in v.items():
        if shard not in scn.stream.shards:
            fail(key(path, shard), "no such shard in the stream")
        if x is not None:
            _seq_ref(x, key(path, shard), scn)

# ---- expectations ----


def _failure_entry(e, path, scn):
    """One entry of `on_failure`: the full record and/or its flat summary."""
    known(e, ("destination", "delivery", "record", "condition", "approximateInvokeCount",
              "functionError", "responseContext", "batchSize", "startSequenceNumber",
              "endSequenceNumber", "timestamp_ms", "s3_key_template", "s3_key_regex"),
          "on_failure", path)
    member(e, "destination", "string", False, path)
    _one_of(e, "delivery", ("sqs", "sns", "s3"), "'sqs', 'sns' or 's3'", path)
    _one_of(e, "responseContext", ("present", "absent"), "'present' or 'absent'", path)
    member(e, "s3_key_template", "string", False, path)
    rx = member(e, "s3_key_regex", "string", False, path)
    _matcher_or(e, "condition", _plain_string, path)
    _matcher_or(e, "functionError", _string_or_null, path)
    for k in ("startSequenceNumber", "endSequenceNumber"):
        _matcher_or(e, k, lambda v, p: _seq_ref(v, p, scn), path)
    for k in ("approximateInvokeCount", "batchSize", "timestamp_ms"):
        _matcher_or(e, k, _plain_number, path)
    _matcher_or(e, "record", _matchers, path)
    if rx is not None and not regex_ok(rx):
        fail(key(path, "s3_key_regex"), "not a valid regular expression")


def _side(side, path):
    if not isinstance(side, dict):
        fail(path, f"an object expected, got {type_name(side)}")
    known(side, ("invocation", "at", "time_ms"), "timing side", path)
    if "time_ms" in side:
        integer(side, "time_ms", True, -(2**63) // 4, INT64_MAX // 4, path)
        return
    if "invocation" not in side:
        fail(path, "needs 'invocation' or 'time_ms'")
    if side["invocation"] != "each":
        integer(side, "invocation", True, 1, INT64_MAX, path)
    at = member(side, "at", "string", True, path)
    if at not in ("start", "end"):
        fail(key(path, "at"), f"'start' or 'end' expected, got \"{at}\"")


def _list_entry(name, e, path, scn):
    if not isinstance(e, dict):
        fail(path, f"an object expected, got {type_name(e)}")
    if name == "checkpoint_at":
        known(e, ("at_ms", "checkpoint"), "checkpoint_at", path)
        integer(e, "at_ms", True, 0, TIME_MAX_MS, path)
        if "checkpoint" not in e:
            fail(path, "'checkpoint' missing")
        _checkpoint(e["checkpoint"], key(path, "checkpoint"), scn)
    elif name == "events":
        known(e, ("invocation", "equals", "path", "match"), "events", path)
        integer(e, "invocation", True, 1, INT64_MAX, path)
        if ("equals" in e) == ("match" in e):
            fail(path, "needs 'equals' or 'path' + 'match' (one of them)")
        p = member(e, "path", "string", "match" in e, path)
        if "equals" in e and p is not None:
            fail(path, "'path' goes with 'match', not with 'equals'")
        which = "equals" if "equals" in e else "match"
        _matchers(e[which], key(path, which))
    elif name == "timing":
        known(e, ("left", "op", "right", "offset_ms"), "timing", path)
        if member(e, "op", "string", True, path) not in (">=", "<="):
            fail(path, "op must be '>=' or '<='")
        integer(e, "offset_ms", False, -(2**63) // 4, INT64_MAX // 4, path)
        for s in ("left", "right"):
            _side(member(e, s, "object", True, path), key(path, s))
    else:
        _failure_entry(e, path, scn)


def _expect_field(k, v, path, scn):
    if k in ("invocations", "inf_expected_invocations"):
        if not isinstance(v, list):
            fail(path, f"an array expected, got {type_name(v)}")
        for i, batch in enumerate(v):
            _seq_list(batch, f"{path}[{i}]", scn)
    elif k in ("every_invocation", "delivered_in_order", "not_delivered"):
        _seq_list(v, path, scn)
    elif k in ("ignore_empty_invocations", "per_key_serial"):
        if not isinstance(v, bool):
            fail(path, "a boolean expected")
    elif k in ("invocation_count", "throttled_attempts", "max_in_flight", "max_event_bytes"):
        _num_or_matcher(v, path)
    elif k == "last_processing_result":
        if not (isinstance(v, str) or is_matcher(v)):
            fail(path, "a string expected")
        _matchers(v, path)
    elif k == "final_checkpoint":
        _checkpoint(v, path, scn)
    elif k in ("delivery_counts", "per_key_order", "metrics"):
        if not isinstance(v, dict):
            fail(path, f"an object expected, got {type_name(v)}")
        for name, x in v.items():
            p = key(path, name)
            if k == "delivery_counts":
                if not seq_valid(name):
                    fail(p, "key is not a decimal string")
                if scn.stream.find(name) is None:
                    fail(p, "no record of the stream has this sequence number")
                _num_or_matcher(x, p)
            elif k == "per_key_order":
                _seq_list(x, p, scn)
            else:
                _num_or_matcher(x, p)
    elif k in ("checkpoint_at", "events", "timing", "on_failure"):
        if not isinstance(v, list):
            fail(path, f"an array expected, got {type_name(v)}")
        for i, e in enumerate(v):
            _list_entry(k, e, f"{path}[{i}]", scn)
    else:
        fail(path, "unknown expectation field (this runner is older than the file?)")

# ---- the function's rules ----


def _rule(r, path, scn):
    if not isinstance(r, dict):
        fail(path, f"an object expected, got {type_name(r)}")
    out = Rule()
    for k, v in r.items():
        p = key(path, k)
        if k == "when_batch_contains_seq":
            if isinstance(v, str):
                _seq_ref(v, p, scn)
                out.contains = [v]
            else:
                _seq_list(v, p, scn)
                out.contains = list(v)
        elif k in ("when_invocation", "when_now_lt_ms", "when_now_ge_ms"):
            x = integer(r, k, True, 1 if k == "when_invocation" else 0, TIME_MAX_MS + 1, path)
            setattr(out, {"when_invocation": "invocation", "when_now_lt_ms": "now_lt",
                          "when_now_ge_ms": "now_ge"}[k], x)
        elif k == "when_is_final_invoke_for_window":
            if not isinstance(v, bool):
                fail(p, "a boolean expected")
            out.final_cond = v
        elif k == "when_window_start":
            t = rfc3339(v)
            if t is None:
                fail(p, "an RFC 3339 instant expected")
            out.window_start_ms = t[0]
        elif k == "respond":
            if not isinstance(v, dict):
                fail(p, f"an object expected, got {type_name(v)}")
            body = member(v, "body", "string", False, p)
            error = member(v, "error", "string", False, p)
            throttle = member(v, "throttle", "boolean", False, p)
            out.sleep_ms = integer(v, "sleep_ms", False, 0, 86400000 * 365, p) or 0
            known(v, ("body", "error", "throttle", "sleep_ms"), "response", p)
            if error is not None and len(error.encode()) > 64:
                fail(p, "error: longer than 64 bytes")
            out.body = body.encode() if body else None
            out.error = error
            out.kind = (RESPOND_THROTTLE if throttle else
                        RESPOND_ERROR if error is not None else RESPOND_BODY)
        else:
            fail(p, "unknown rule field")
    if "respond" not in r:
        fail(path, "'respond' missing")
    return out


def _mapping(config, function, expect, path, scn, rel, name=None):
    """A mapping at @path (its expect reported as @rel)."""
    fpath = key(path, "function")
    if not isinstance(function, dict):
        fail(fpath, f"an object expected, got {type_name(function)}")
    known(function, ("rules",), "function", fpath)
    rules = member(function, "rules", "array", True, fpath)
    rpath = key(fpath, "rules")
    if not rules:
        fail(rpath, "no rule")
    parsed = [_rule(r, f"{rpath}[{i}]", scn) for i, r in enumerate(rules)]
    epath = key(path, "expect")
    for k, v in expect.items():
        _expect_field(k, v, key(epath, k), scn)
    return Mapping(name, config, expect, parsed, rel)

# ---- scenarios ----


def _is_uuid(s):
    if len(s) != 36:
        return False
    return all((c == "-") == (i in (8, 13, 18, 23)) and (c == "-" or c in "0123456789abcdef")
               for i, c in enumerate(s))


def _env(env, path):
    """An `environment` object: constants the runner hands to the engine."""
    for k, v in env.items():
        p = key(path, k)
        if not (isinstance(v, str) or is_num(v)):
            fail(p, f"a string or a number expected, got {type_name(v)}")
        if k in ("region", "role_arn", "esm_uuid") and not isinstance(v, str):
            fail(p, f"a string expected, got {type_name(v)}")
        if k == "esm_uuid" and not _is_uuid(v):
            fail(p, "not a UUID (8-4-4-4-12 lowercase hex digits)")


_SCENARIO_FIELDS = ("id", "number", "title", "derived", "source", "spec_refs", "notes",
                    "source_kind", "config", "environment", "mappings", "stream", "stream_file",
                    "start_ms", "run_until_ms", "actions", "function", "expect",
                    "inf_dependencies")


def _actions(actions, path):
    out = []
    for i, a in enumerate(actions):
        p = f"{path}[{i}]"
        if not isinstance(a, dict):
            fail(p, f"an object expected, got {type_name(a)}")
        known(a, ("at_ms", "action", "input", "expect_response", "expect_state_eventually"),
              "action", p)
        x = Action(integer(a, "at_ms", True, 0, TIME_MAX_MS, p),
                   member(a, "action", "string", True, p), member(a, "input", "object", True, p),
                   member(a, "expect_response", "object", False, p),
                   a.get("expect_state_eventually"))
        if out and x.at_ms < out[-1].at_ms:
            fail(p, "actions out of time order")
        out.append(x)
    return out


def _scenario(node, index, path, directory):
    if not isinstance(node, dict):
        fail(path, f"an object expected, got {type_name(node)}")
    known(node, _SCENARIO_FIELDS, "scenario", path)
    s = Scenario()
    s.index = index
    s.node = node
    s.id = member(node, "id", "string", True, path)
    kind = member(node, "source_kind", "string", True, path)
    if kind not in ("kinesis", "dynamodb"):
        fail(key(path, "source_kind"), f"'kinesis' or 'dynamodb' expected, got \"{kind}\"")
    s.dynamodb = kind == "dynamodb"
    s.env = member(node, "environment", "object", False, path)
    s.inf_deps = member(node, "inf_dependencies", "array", False, path)
    s.start_ms = integer(node, "start_ms", True, 0, TIME_MAX_MS, path)
    s.run_until_ms = integer(node, "run_until_ms", True, s.start_ms, TIME_MAX_MS, path)
    actions = member(node, "actions", "array", False, path)
    mappings = member(node, "mappings", "array", False, path)
    if s.env:
        _env(s.env, key(path, "environment"))
    if s.inf_deps:
        string_list(s.inf_deps, key(path, "inf_dependencies"))
    s.stream = load_stream(node, s.dynamodb, path, directory)
    s.actions = _actions(actions, key(path, "actions")) if actions else []
    if mappings is not None:
        if not mappings:
            fail(key(path, "mappings"), "empty")
        s.maps = []
        for i, m in enumerate(mappings):
            p = f"{path}.mappings[{i}]"
            if not isinstance(m, dict):
                fail(p, f"an object expected, got {type_name(m)}")
            known(m, ("name", "config", "function", "expect"), "mapping", p)
            name = member(m, "name", "string", False, p)
            cfg = member(m, "config", "object", True, p)
            fn = member(m, "function", None, True, p)
            ex = member(m, "expect", "object", True, p)
            s.maps.append(_mapping(cfg, fn, ex, p, s, f"mappings[{i}].expect", name))
        return s
    cfg = member(node, "config", "object", True, path)
    fn = member(node, "function", None, True, path)
    ex = member(node, "expect", "object", True, path)
    s.maps = [_mapping(cfg, fn, ex, path, s, "expect")]
    return s

# ---- config cases ----


def _case_expect(expect, path):
    known(expect, ("ok", "http_status", "error_type", "message", "message_template",
                   "message_regex", "defaults", "response_matchers", "absent_keys",
                   "keys_exact"), "config case expectation", path)
    member(expect, "ok", "boolean", True, path)
    for k in ("message", "message_template", "message_regex"):
        s = member(expect, k, "string", False, path)
        if s is not None and k == "message_regex" and not regex_ok(s):
            fail(key(path, k), "not a valid regular expression")
    for k in ("defaults", "response_matchers"):
        member(expect, k, "object", False, path)
    for k in ("absent_keys", "keys_exact"):
        v = member(expect, k, "array", False, path)
        if v is not None:
            string_list(v, key(path, k))
    for k, v in expect.items():
        _matchers(v, key(path, k))


def _case(node, index, path):
    if not isinstance(node, dict):
        fail(path, f"an object expected, got {type_name(node)}")
    known(node, ("id", "number", "title", "derived", "source", "spec_refs", "notes",
                 "environment", "setup", "input", "expect"), "config case", path)
    case_id = member(node, "id", "string", True, path)
    member(node, "input", "object", True, path)
    expect = member(node, "expect", "object", True, path)
    env = member(node, "environment", "object", False, path)
    setup = member(node, "setup", "array", False, path)
    if env is not None:
        epath = key(path, "environment")
        known(env, ("existing_streams", "existing_functions"), "config case environment", epath)
        for k in ("existing_streams", "existing_functions"):
            v = member(env, k, "array", False, epath)
            if v is not None:
                string_list(v, key(epath, k))
    _case_expect(expect, key(path, "expect"))
    spath = key(path, "setup")
    if setup and len(setup) > MAX_SETUP:
        fail(spath, f"more than {MAX_SETUP} calls")
    for i, st in enumerate(setup or ()):
        p = f"{spath}[{i}]"
        if not isinstance(st, dict):
            fail(p, f"an object expected, got {type_name(st)}")
        known(st, ("action", "input", "expect"), "setup", p)
        member(st, "action", "string", True, p)
        member(st, "input", "object", True, p)
        x = member(st, "expect", "object", False, p)
        if x is not None:
            known(x, ("ok",), "setup expectation", key(p, "expect"))
            member(x, "ok", "boolean", False, key(p, "expect"))
    return Case(case_id, index, node)

# ---- the file ----


def _unique_keys(v, path):
    """No object anywhere has a key twice."""
    if isinstance(v, list):
        for i, x in enumerate(v):
            _unique_keys(x, f"{path}[{i}]")
    elif isinstance(v, dict):
        if isinstance(v, DupDict):
            fail(key(path, v.dup), "duplicate key")
        for k, x in v.items():
            _unique_keys(x, key(path, k))


def load(path):
    """The SimFile at @path; LoadError("json.path: what") when it is not usable."""
    root = parse(read_file(path))
    directory = os.path.dirname(path)
    if not isinstance(root, dict):
        fail("", f"an object expected, got {type_name(root)}")
    _unique_keys(root, "")
    known(root, ("format", "environment", "scenarios", "config_cases"), "top-level", "")
    env = member(root, "environment", "object", False, "")
    scenarios = member(root, "scenarios", "array", False, "") or []
    cases = member(root, "config_cases", "array", False, "") or []
    if not scenarios and not cases:
        fail("", "no scenario and no config case (nothing to run)")
    if env:
        _env(env, "environment")
    scns = [_scenario(n, i, f"scenarios[{i}]", directory) for i, n in enumerate(scenarios)]
    kases = [_case(n, i, f"config_cases[{i}]") for i, n in enumerate(cases)]
    seen = set()
    for where, items in (("scenarios", scns), ("config_cases", kases)):
        for i, x in enumerate(items):
            if x.id in seen:
                fail(f"{where}[{i}].id", f"duplicate id \"{x.id}\"")
            seen.add(x.id)
    return SimFile(env, scns, kases)


