# SPDX-License-Identifier: MIT
"""JSON values as the runner reads them: numbers keep their token (Num), so large integers
stay exact, a float token stays a float token and a configuration is sent to the library as
written; objects with a key twice are marked (DupDict) for the loader to name."""
import json
from decimal import Decimal, InvalidOperation


class Num:
    """A JSON number by its token."""
    __slots__ = ("raw",)

    def __init__(self, raw):
        self.raw = raw

    @property
    def is_int(self):
        """An integer token (no fraction, no exponent), like yajl's integer numbers."""
        return not any(c in self.raw for c in ".eE")

    def __int__(self):
        return int(self.raw)

    def dec(self):
        return Decimal(self.raw)

    def __repr__(self):
        return self.raw


class DupDict(dict):
    """An object of the file with a key twice (dup: the first repeated key)."""
    dup = None


def _pairs(pairs):
    d = dict(pairs)
    if len(d) == len(pairs):
        return d
    seen = set()
    out = DupDict(d)
    for k, _ in pairs:
        if k in seen:
            out.dup = k
            break
        seen.add(k)
    return out


def _constant(name):
    raise ValueError(f"{name} is not JSON")


def loads(text):
    """Parse JSON text (str or bytes); ValueError when it is not JSON."""
    return json.loads(text, parse_int=Num, parse_float=Num, parse_constant=_constant,
                      object_pairs_hook=_pairs)


def dumps(v):
    """Compact JSON text of @v, numbers as their own tokens."""
    if isinstance(v, dict):
        return "{" + ",".join(_str(k) + ":" + dumps(x) for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ",".join(dumps(x) for x in v) + "]"
    if isinstance(v, Num):
        return v.raw
    if isinstance(v, str):
        return _str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    return str(v)  # an int the runner made


def _str(s):
    return json.dumps(s, ensure_ascii=False)


def is_num(v):
    return isinstance(v, Num) or (isinstance(v, int) and not isinstance(v, bool))


def num_dec(v):
    """Decimal value of a number (Num or int); None for anything else."""
    if isinstance(v, Num):
        try:
            return v.dec()
        except InvalidOperation:
            return None
    if is_num(v):
        return Decimal(v)
    return None


def is_matcher(v):
    """An object whose keys all start with '$'."""
    return isinstance(v, dict) and bool(v) and all(k.startswith("$") for k in v)


def type_name(v, missing=False):
    """How the messages name a value's type ("a string", "an object", ... or "missing")."""
    if missing:
        return "missing"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, str):
        return "a string"
    if is_num(v):
        return "a number"
    if isinstance(v, dict):
        return "an object"
    if isinstance(v, list):
        return "an array"
    return "null"


class _Missing:
    """The value of a member that is not there (rendered "(missing)")."""


MISSING = _Missing()


def _render_str(s):
    out = ['"']
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20:
            out.append("\\u%04X" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _render(v, depth, out):
    if v is MISSING:
        out.append("(missing)")
    elif depth > 64:
        out.append("...")
    elif isinstance(v, str):
        out.append(_render_str(v))
    elif isinstance(v, dict):
        out.append("{")
        for i, (k, x) in enumerate(v.items()):
            if i:
                out.append(",")
            out.append(_render_str(k) + ":")
            _render(x, depth + 1, out)
        out.append("}")
    elif isinstance(v, list):
        out.append("[")
        for i, x in enumerate(v):
            if i:
                out.append(",")
            _render(x, depth + 1, out)
        out.append("]")
    else:
        out.append(dumps(v))


def render(v, cap=400):
    """Compact JSON text of @v for a message, cut with "..." to fit @cap characters."""
    out = []
    _render(v, 0, out)
    text = "".join(out)
    return text if len(text) + 4 <= cap else text[:cap - 4] + "..."
