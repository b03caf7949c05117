# SPDX-License-Identifier: MIT
"""Comparing an expected JSON value (literals and $matchers) with an actual one: numbers by
decimal value from their tokens, the two stream timestamps to the millisecond, sequence
numbers numerically; plus the RFC 3339 and regular-expression helpers the checks share."""
import calendar
import re
from decimal import ROUND_HALF_UP, Decimal

from .. import _lib
from .jsonv import MISSING, Num, is_matcher, is_num, loads, num_dec, render

# ---- sequence numbers ----


def seq_valid(s):
    """A sequence number the library accepts (decimal digits, no leading zero, <= 128)."""
    b = s.encode()
    return _lib.bp_seqnum_validate(b, len(b)) == 0


def seq_cmp(a, b):
    """Sequence numbers compared numerically as strings: -1, 0, 1."""
    a = a.lstrip("0") or "0"
    b = b.lstrip("0") or "0"
    if len(a) != len(b):
        return -1 if len(a) < len(b) else 1
    return (a > b) - (a < b)


def seq_eq(a, b):
    return seq_cmp(a, b) == 0

# ---- RFC 3339 ----


_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
                      r"(?:([Zz])|([+-])(\d{2}):(\d{2}))")
_MDAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def rfc3339(s):
    """RFC 3339 text to (epoch ms, nanoseconds below the ms); None if not RFC 3339."""
    m = _RFC3339.fullmatch(s) if isinstance(s, str) else None
    if not m:
        return None
    y, mo, d, h, mi, se = (int(m.group(i)) for i in range(1, 7))
    leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
    if not (1 <= mo <= 12 and 1 <= d <= _MDAYS[mo - 1]) or (mo == 2 and d == 29 and not leap) \
            or h > 23 or mi > 59 or se > 60:
        return None
    frac_ns = int((m.group(7) or "0")[:9].ljust(9, "0"))
    off = 0
    if m.group(9):
        oh, om = int(m.group(10)), int(m.group(11))
        if oh > 23 or om > 59:
            return None
        off = (oh * 3600 + om * 60) * (-1 if m.group(9) == "-" else 1)
    days = calendar.timegm((y, mo, d, 0, 0, 0)) // 86400
    secs = days * 86400 + h * 3600 + mi * 60 + se - off
    return secs * 1000 + frac_ns // 1000000, frac_ns % 1000000

# ---- regular expressions ----


def regex_ok(pattern):
    try:
        re.compile(pattern)
        return True
    except re.error:
        return False


def regex(pattern, text):
    """Whether @pattern matches somewhere in @text: True, False; None: a bad pattern."""
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return None

# ---- matcher shape ----


_TYPES = ("number", "string", "object", "array", "boolean", "null")


def _check_one(k, v, m):
    if k == "$regex":
        if not isinstance(v, str):
            return "$regex: a string expected"
        if not regex_ok(v):
            return "$regex: not a valid regular expression"
    elif k in ("$min", "$max"):
        if not is_num(v):
            return "$min/$max: a number expected"
    elif k == "$ref":
        if v != "invocation_count":
            return "$ref: only \"invocation_count\" is defined"
    elif k == "$type":
        if v not in _TYPES:
            return "$type: one of number, string, object, array, boolean, null expected"
    elif k == "$integer_digits":
        if not (isinstance(v, Num) and v.is_int and int(v) >= 1):
            return "$integer_digits: a positive integer expected"
    elif k == "$json_float":
        if not isinstance(v, bool):
            return "$json_float: a boolean expected"
    elif k == "$rfc3339_instant":
        if rfc3339(v) is None:
            return "$rfc3339_instant: an RFC 3339 instant expected"
    elif k == "$preferred":
        if v not in ("string", "object"):
            return "$preferred: \"string\" or \"object\" expected"
        if "$json_encoded_or_object" not in m:
            return "$preferred: only with $json_encoded_or_object"
    elif k not in ("$any", "$json_encoded_or_object"):
        return "unknown matcher"
    return None


def matcher_check(e, path):
    """The shape of the matchers inside an expected value: None, or (path, what is wrong)."""
    if is_matcher(e):
        for k, v in e.items():
            p = f"{path}.{k}" if path else k
            why = _check_one(k, v, e)
            if why:
                return p, why
            if k == "$json_encoded_or_object":
                bad = matcher_check(v, p)
                if bad:
                    return bad
        return None
    if isinstance(e, dict):
        items = ((f"{path}.{k}" if path else k, v) for k, v in e.items())
    elif isinstance(e, list):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(e))
    else:
        return None
    for p, v in items:
        bad = matcher_check(v, p)
        if bad:
            return bad
    return None

# ---- comparison ----


def type_of(v):
    if isinstance(v, bool):
        return "boolean"
    if is_num(v):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, dict):
        return "object"
    if isinstance(v, list):
        return "array"
    return "null"


def _millis(d):
    """The value times 1000, rounded half away from zero (epoch seconds -> ms)."""
    return int((d * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


_TIMESTAMP_KEYS = ("approximateArrivalTimestamp", "ApproximateCreationDateTime")


class Matcher:
    """Compares expected with actual values; the first difference goes to @report."""

    def __init__(self, report, invocation_count=0):
        self.report = report
        self.invocation_count = invocation_count
        self.seq_strings = False  # strings are sequence numbers: compare numerically

    def match(self, expected, actual, path):
        """@actual MISSING when absent. @return True equal, False different (reported)."""
        key = None
        if path:
            key = path[path.rfind(".") + 1:]
        return self._rec(expected, actual, path, key)

    def _differ(self, p, e, a, why=None):
        where = p or "(value)"
        if why:
            self.report.fail(f"{where}: {why} (expected {render(e)}, actual {render(a)})")
        else:
            self.report.fail(f"{where}: expected {render(e)}, actual {render(a)}")
        return False

    def _matcher(self, m, a, p):
        if a is MISSING:
            return self._differ(p, m, a, "missing")
        if "$type" in m and type_of(a) != m["$type"]:
            return self._differ(p, m, a, "wrong type")
        if "$regex" in m:
            if not isinstance(a, str):
                return self._differ(p, m, a, "not a string")
            r = regex(m["$regex"], a)
            if r is None:
                return self._differ(p, m, a, "bad regular expression")
            if not r:
                return self._differ(p, m, a, "no regex match")
        if "$min" in m or "$max" in m:
            d = num_dec(a)
            if d is None:
                return self._differ(p, m, a, "not a number")
            if "$min" in m and d < num_dec(m["$min"]):
                return self._differ(p, m, a, "below $min")
            if "$max" in m and d > num_dec(m["$max"]):
                return self._differ(p, m, a, "above $max")
        if "$ref" in m:
            d = num_dec(a)
            if d is None or d != self.invocation_count:
                return self._differ(p, m, a, f"not the invocation count {self.invocation_count}")
        if "$integer_digits" in m:
            d = num_dec(a)
            if d is None:
                return self._differ(p, m, a, "not a number")
            got = d.adjusted() + 1 if d != 0 and d.adjusted() >= 0 else 1
            if got != int(m["$integer_digits"]):
                return self._differ(p, m, a, "wrong number of integer digits")
        if "$json_float" in m:
            if not is_num(a):
                return self._differ(p, m, a, "not a number")
            is_float = isinstance(a, Num) and not a.is_int
            if is_float != m["$json_float"]:
                return self._differ(p, m, a, "a float token" if is_float else "not a float token")
        if "$rfc3339_instant" in m:
            got = rfc3339(a)
            if got is None:
                return self._differ(p, m, a, "not an RFC 3339 instant")
            if got != rfc3339(m["$rfc3339_instant"]):
                return self._differ(p, m, a, "a different instant")
        if "$json_encoded_or_object" in m:
            v, pref = m["$json_encoded_or_object"], m.get("$preferred")
            if isinstance(a, str) and not isinstance(v, str):
                try:
                    parsed = loads(a)
                except ValueError:
                    return self._differ(p, m, a, "a string that is not JSON")
                dp = p + ".(decoded)" if p else "(decoded)"
                ok = self._rec(v, parsed, dp, "(decoded)")
                if ok and pref and pref != "string":
                    self.report.note(f"{p}: a JSON string, the spec's [INF] prefers an object")
            else:
                ok = self._rec(v, a, p, None)
                if ok and pref and pref != "object":
                    self.report.note(f"{p}: a JSON object, the spec's [INF] prefers an encoded "
                                     "string")
            if not ok:
                return False
        return True  # $any, $preferred: nothing more to check

    def _rec(self, e, a, p, key):
        if is_matcher(e):
            return self._matcher(e, a, p)
        if a is MISSING:
            return self._differ(p, e, a, "missing")
        if is_num(e):
            if not is_num(a):
                return self._differ(p, e, a)
            x, y = num_dec(e), num_dec(a)
            if key in _TIMESTAMP_KEYS:
                if x is None or y is None or _millis(x) != _millis(y):
                    return self._differ(p, e, a, "not the same millisecond")
                return True
            return True if x == y else self._differ(p, e, a)
        if isinstance(e, str):
            if not isinstance(a, str):
                return self._differ(p, e, a)
            same = seq_eq(e, a) if self.seq_strings and seq_valid(e) else e == a
            return True if same else self._differ(p, e, a)
        if isinstance(e, list):
            if not isinstance(a, list):
                return self._differ(p, e, a)
            for i, (x, y) in enumerate(zip(e, a)):
                if not self._rec(x, y, f"{p}[{i}]", None):
                    return False
            if len(e) != len(a):
                return self._differ(p, e, a, f"{len(e)} elements expected, {len(a)} found")
            return True
        if isinstance(e, dict):
            if not isinstance(a, dict):
                return self._differ(p, e, a)
            for k, x in e.items():
                if not self._rec(x, a.get(k, MISSING), f"{p}.{k}" if p else k, k):
                    return False
            for k in a:
                if k not in e:
                    self.report.fail(f"{p}.{k}: unexpected member" if p
                                     else f"{k}: unexpected member")
                    return False
            return True
        if isinstance(e, bool) or e is None:
            same = (e is None and a is None) or (isinstance(a, bool) and a == e)
            return True if same else self._differ(p, e, a)
        return self._differ(p, e, a, "unsupported expected value")
