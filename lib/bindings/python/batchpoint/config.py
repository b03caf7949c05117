# SPDX-License-Identifier: MIT
"""Config: a mapping's configuration (bp_config), from a CreateEventSourceMapping body or
from keyword arguments with AWS's member names; rejections raise with AWS's message."""
import json

from ctypes import byref, c_void_p, create_string_buffer

from . import _lib
from .errors import check


class Config:
    """A bp_config. Build it with Config.from_json(body) or Config(**aws_members)."""

    def __init__(self, **members):
        h = c_void_p()
        check(_lib.bp_config_new(byref(h), None))
        self._h = h
        if members:
            self._apply_json(json.dumps(members).encode())

    @classmethod
    def from_json(cls, body):
        """Apply a CreateEventSourceMapping body (str, bytes or dict) and validate it."""
        if isinstance(body, dict):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        c = cls()
        c._apply_json(bytes(body))
        return c

    def _apply_json(self, text):
        rc = _lib.bp_config_parse_json(self._h, text, len(text))
        self._raise(rc)

    def _raise(self, rc):
        if rc < 0:
            check(rc, _lib.bp_config_errmsg(self._h).decode("utf-8", "replace"),
                  (_lib.bp_config_error_type(self._h) or b"").decode())

    def set(self, name, value):
        """Set one parameter by its ESM name from text (bp_config_set)."""
        err = create_string_buffer(512)
        rc = _lib.bp_config_set(self._h, name.encode(), str(value).encode(), err, len(err))
        self._raise(rc)

    def validate(self):
        self._raise(_lib.bp_config_validate(self._h))

    @property
    def event_source_arn(self):
        v = _lib.bp_config_get_event_source_arn(self._h)
        return v.decode() if v else None

    @property
    def function_name(self):
        v = _lib.bp_config_get_function_name(self._h)
        return v.decode() if v else None

    @property
    def batch_size(self):
        return _lib.bp_config_get_batch_size(self._h)

    @property
    def source(self):
        """"kinesis", "dynamodb" or None."""
        return {1: "kinesis", 2: "dynamodb"}.get(_lib.bp_config_get_source(self._h))

    def close(self):
        h, self._h = getattr(self, "_h", None), None
        if h:
            _lib.bp_config_del(h)

    __del__ = close
