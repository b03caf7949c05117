# SPDX-License-Identifier: MIT
"""Filter: Lambda FilterCriteria patterns (bp_filter), compiled once and matched against
JSON events. A rejected pattern raises the binding's exception for BP_ERR_CONFIG_INVALID
with Lambda's message ("Invalid filter pattern definition."); `reason` keeps event-ruler's."""
import json

from ctypes import byref, c_int, c_void_p

from . import _lib
from .errors import check, error_for

STRICT_LAMBDA = 0x1
INVALID_PATTERN = "Invalid filter pattern definition."


def _text(v):
    if isinstance(v, (dict, list)):
        v = json.dumps(v)
    if isinstance(v, str):
        v = v.encode("utf-8")
    return bytes(v)


class Filter:
    """Filter(pattern, *more, strict=False): the patterns are OR-ed; no pattern matches
    everything. Each pattern is JSON text (str/bytes) or a dict."""

    def __init__(self, *patterns, strict=False):
        self._h = None
        h = c_void_p()
        check(_lib.bp_filter_new(byref(h), STRICT_LAMBDA if strict else 0, None))
        self._h = h
        for p in patterns:
            self.add(p)

    def _handle(self):
        if not self._h:
            raise ValueError("Filter is closed")
        return self._h

    def add(self, pattern):
        text = _text(pattern)
        rc = _lib.bp_filter_add(self._handle(), text, len(text))
        if rc < 0:
            reason = _lib.bp_filter_errmsg(self._h).decode("utf-8", "replace")
            exc = error_for(rc, INVALID_PATTERN if reason else None, "InvalidParameterValueException")
            exc.reason = reason
            raise exc

    def __len__(self):
        return _lib.bp_filter_count(self._h) if self._h else 0

    def matches(self, event):
        """True when some pattern matches @event (JSON text as str/bytes, or a dict)."""
        text = _text(event)
        m = c_int()
        rc = _lib.bp_filter_match_json(self._handle(), text, len(text), byref(m))
        if rc < 0:
            check(rc, _lib.bp_filter_errmsg(self._h).decode("utf-8", "replace"))
        return bool(m.value)

    def close(self):
        h, self._h = getattr(self, "_h", None), None
        if h:
            _lib.bp_filter_del(h)

    __del__ = close
