# SPDX-License-Identifier: MIT
"""The loader's shared checks: every value the runner uses is checked where it is read, and a
malformed file is reported as LoadError("json.path: what") naming the first bad value."""
import json

from .jsonv import Num, loads, type_name
from .match import seq_valid

TIME_MAX_MS = 253402300799999  # BP_TIME_MAX_MS
INT64_MAX = 2**63 - 1


class LoadError(Exception):
    """What is wrong (msg) and where (path: a JSON path, "" for the top level)."""

    def __init__(self, path, msg):
        super().__init__(f"{path or '(top level)'}: {msg}")
        self.path, self.msg = path, msg


def key(path, k):
    return f"{path}.{k}" if path else k


def fail(path, msg):
    raise LoadError(path, msg)


def read_file(name):
    """The bytes of file @name; OSError's reason as bpsim words it in LoadError("", ...)."""
    try:
        with open(name, "rb") as f:
            return f.read()
    except IsADirectoryError as exc:
        raise LoadError("", f"read error: {exc.strerror}") from None
    except OSError as exc:
        raise LoadError("", f"cannot open: {exc.strerror}") from None


def parse(text, one_line=False):
    """JSON text into values; LoadError("", "not JSON: <where>: <why>") when it is not."""
    try:
        return loads(text)
    except json.JSONDecodeError as exc:
        where = f"column {exc.colno}" if one_line else f"line {exc.lineno}, column {exc.colno}"
        raise LoadError("", f"not JSON: {where}: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:
        raise LoadError("", f"not JSON: {exc}") from None


_KINDS = {"string": str, "object": dict, "array": list, "number": Num, "boolean": bool}


def known(obj, names, what, path):
    """Every member of @obj is one of @names: a misspelt or newer field is not ignored."""
    for k in obj:
        if k not in names:
            fail(key(path, k), f"unknown {what} field (this runner is older than the file?)")


def member(obj, k, kind, need, path):
    """Member @k of @obj, of @kind ("string", ..., None: any); None when absent and not
    @need."""
    if k not in obj:
        if need:
            fail(key(path, k), "missing")
        return None
    v = obj[k]
    if kind and not isinstance(v, _KINDS[kind]):
        article = "an" if kind[0] in "aeiou" else "a"
        fail(key(path, k), f"{article} {kind} expected, got {type_name(v)}")
    return v


def integer(obj, k, need, lo, hi, path):
    v = member(obj, k, "number", need, path)
    if v is None:
        return None
    if not v.is_int:
        fail(key(path, k), f"an integer expected, got {v.raw}")
    x = int(v)
    if not lo <= x <= hi:
        fail(key(path, k), f"{x} is out of range {lo}..{hi}")
    return x


def seq_val(v, path):
    """A value that must be a sequence number string."""
    if not isinstance(v, str):
        fail(path, f"a sequence number string expected, got {type_name(v)}")
    if not seq_valid(v):
        fail(path, "not a decimal string")
    return v


def string_list(arr, path):
    for i, v in enumerate(arr):
        if not isinstance(v, str):
            fail(f"{path}[{i}]", f"a string expected, got {type_name(v)}")
