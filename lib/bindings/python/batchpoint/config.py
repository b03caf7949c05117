# SPDX-License-Identifier: MIT
"""Config: a mapping's configuration (bp_config), from a CreateEventSourceMapping body or
from keyword arguments with AWS's member names; rejections raise with AWS's message."""
import json

from ctypes import byref, c_char_p, c_size_t, c_void_p, create_string_buffer

from . import _lib
from .errors import check, error_for

_POSITIONS = {1: "TRIM_HORIZON", 2: "LATEST", 3: "AT_TIMESTAMP"}


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
        """Raise @rc's exception with AWS's message, exception name and HTTP status."""
        if rc < 0:
            exc = error_for(rc, _lib.bp_config_errmsg(self._h).decode("utf-8", "replace"),
                            (_lib.bp_config_error_type(self._h) or b"").decode())
            exc.http_status = _lib.bp_config_error_http_status(self._h)
            raise exc

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

    # ---- the values CreateEventSourceMapping's response reports (SEMANTICS.md §2.2) ----

    def _get(self, name):
        return getattr(_lib, "bp_config_get_" + name)(self._h)

    maximum_batching_window_in_seconds = property(
        lambda self: self._get("maximum_batching_window_in_seconds"))
    parallelization_factor = property(lambda self: self._get("parallelization_factor"))
    maximum_retry_attempts = property(lambda self: self._get("maximum_retry_attempts"))
    maximum_record_age_in_seconds = property(
        lambda self: self._get("maximum_record_age_in_seconds"))
    tumbling_window_in_seconds = property(lambda self: self._get("tumbling_window_in_seconds"))
    bisect_batch_on_function_error = property(
        lambda self: bool(self._get("bisect_batch_on_function_error")))
    report_batch_item_failures = property(
        lambda self: bool(self._get("report_batch_item_failures")))
    metrics_event_count = property(lambda self: bool(self._get("metrics_event_count")))
    enabled = property(lambda self: bool(self._get("enabled")))

    @property
    def starting_position(self):
        """"TRIM_HORIZON", "LATEST", "AT_TIMESTAMP" or None."""
        return _POSITIONS.get(self._get("starting_position"))

    @property
    def starting_position_timestamp_ms(self):
        """StartingPositionTimestamp in epoch ms, or None."""
        v = self._get("starting_position_timestamp_ms")
        return None if v < 0 else v

    @property
    def on_failure_destination(self):
        v = self._get("on_failure_destination")
        return v.decode() if v else None

    @property
    def filters(self):
        """The FilterCriteria patterns as given (list of str)."""
        out = []
        for i in range(self._get("filter_count")):
            text, n = c_char_p(), c_size_t()
            check(_lib.bp_config_get_filter(self._h, i, byref(text), byref(n)))
            out.append(text.value[:n.value].decode())
        return out

    def function_arn(self, account=None):
        """FunctionName resolved to a full ARN (bp_config_resolve_function_arn)."""
        buf = create_string_buffer(_lib.BP_CONFIG_FUNCTION_ARN_CAP)
        n = c_size_t()
        check(_lib.bp_config_resolve_function_arn(
            self._h, account.encode() if account else None, buf, len(buf), byref(n)))
        return buf.raw[:n.value].decode()

    def close(self):
        h, self._h = getattr(self, "_h", None), None
        if h:
            _lib.bp_config_del(h)

    __del__ = close
