# SPDX-License-Identifier: MIT
"""The function side (bp_handler): process a Lambda Kinesis / DynamoDB Streams event record
by record with a Python callable and answer with the partial batch response, like
Powertools' process_partial_response.

    def record_handler(record):      # raise to fail the record
        payload = json.loads(record.data)

    def lambda_handler(event, context):
        return process_batch(event, record_handler)

The callable receives a HandlerRecord, a view valid only while the callable runs (touching
it afterwards raises ViewExpiredError); copy what you keep. When every record of a non-empty
event fails, BatchFailedError (BP_ERR_BATCH_FAILED) is raised, carrying `response` and the
records' `exceptions`, so that Lambda reports a function error and retries the batch.

DynamoDB records give their Keys / NewImage / OldImage as plain dicts (record.keys,
record.new_image, record.old_image; read by the library's typed attribute reader). Tumbling
windows, state in and state out:

    def record_handler(record, window):
        window.state["sum"] = window.state.get("sum", 0) + record.json()["amount"]

    def lambda_handler(event, context):
        return process_window(event, record_handler)   # {"state": ..., "batchItemFailures": ...}
"""
import ctypes
import json

from decimal import Decimal
from ctypes import byref, c_size_t, c_void_p

from . import _lib
from .errors import check, error_for
from .views import ViewExpiredError, _Lease

STOP_AT_FIRST_FAILURE = 0x1
DEAGGREGATE = 0x2
_BATCH_FAILED = "BP_ERR_BATCH_FAILED"
_SOURCES = {_lib.BP_SOURCE_KINESIS: "kinesis", _lib.BP_SOURCE_DYNAMODB: "dynamodb"}


def _covers(size, field):
    f = getattr(_lib.bp_handler_record, field)
    return size >= f.offset + f.size


class HandlerRecord:
    """One record of the event (borrowed for the callback). Strings: event_id, event_name,
    event_source, event_source_arn, aws_region, event_version, invoke_identity_arn,
    sequence_number, arrival_text, partition_key, kinesis_schema_version, encryption_type,
    data_base64, explicit_hash_key; JSON text: dynamodb_json, keys_json, new_image_json,
    old_image_json, user_identity_json, stream_view_type; data (bytes, base64-decoded);
    numbers: index, arrival_ms, size_bytes, aggregated, sub_sequence_number; source."""
    __slots__ = ("_lease", "_p", "_h")

    def __init__(self, lease, p, h=None):
        self._lease, self._p, self._h = lease, p, h

    def _rec(self):
        if not self._lease.valid:
            raise ViewExpiredError("handler record")
        return self._p.contents

    def _str(self, field):
        r = self._rec()
        if not _covers(r.struct_size, field + "_len"):
            return None
        ptr = getattr(r, field)
        if not ptr:
            return None
        return ctypes.string_at(ptr, getattr(r, field + "_len")).decode("utf-8")

    def _num(self, field):
        r = self._rec()
        return getattr(r, field) if _covers(r.struct_size, field) else None

    @property
    def data(self):
        r = self._rec()
        if not r.data or not _covers(r.struct_size, "data_len"):
            return None if r.source != _lib.BP_SOURCE_KINESIS else b""
        return ctypes.string_at(r.data, r.data_len)

    @property
    def source(self):
        return _SOURCES.get(self._rec().source)

    def json(self):
        """data parsed as JSON."""
        return json.loads(self.data)

    def _image(self, field):
        r = self._rec()
        if not _covers(r.struct_size, field + "_len") or not getattr(r, field):
            return None
        return _ddb_map(self._h, getattr(r, field), getattr(r, field + "_len"))

    @property
    def keys(self):
        """DynamoDB: dynamodb.Keys as a plain dict (typed values read by the library:
        S str, N decimal.Decimal, B bytes, BOOL bool, NULL None, M dict, L list, SS/NS/BS
        set), as boto3's TypeDeserializer gives them; None for Kinesis."""
        return self._image("keys_json")

    @property
    def new_image(self):
        """DynamoDB: dynamodb.NewImage as a plain dict (see keys), None when absent."""
        return self._image("new_image_json")

    @property
    def old_image(self):
        """DynamoDB: dynamodb.OldImage as a plain dict (see keys), None when absent."""
        return self._image("old_image_json")

    def __repr__(self):
        if not self._lease.valid:
            return "<HandlerRecord (expired)>"
        return f"<HandlerRecord {self.source} #{self.index} seq={self.sequence_number}>"


for _f, _c in (("event_id", None), ("event_name", None), ("event_source", None),
               ("event_source_arn", None), ("aws_region", None), ("event_version", None),
               ("invoke_identity_arn", None), ("sequence_number", "seq"),
               ("arrival_text", None), ("partition_key", None),
               ("kinesis_schema_version", None), ("encryption_type", None),
               ("data_base64", None), ("dynamodb_json", None), ("keys_json", None),
               ("new_image_json", None), ("old_image_json", None),
               ("user_identity_json", None), ("stream_view_type", None),
               ("explicit_hash_key", None)):
    setattr(HandlerRecord, _f, property(lambda self, c=_c or _f: self._str(c)))
for _f in ("index", "arrival_ms", "size_bytes", "aggregated", "sub_sequence_number"):
    setattr(HandlerRecord, _f, property(lambda self, c=_f: self._num(c)))
HandlerRecord.seq = HandlerRecord.sequence_number


def _ddb_value(h, a):
    t = a.type
    if t in (_lib.BP_DDB_M, _lib.BP_DDB_L, _lib.BP_DDB_SS, _lib.BP_DDB_NS, _lib.BP_DDB_BS):
        items = _ddb_items(h, t, a.value, a.value_len)
        if t == _lib.BP_DDB_M:
            return dict(items)
        vals = [v for _, v in items]
        return vals if t == _lib.BP_DDB_L else set(vals)
    raw = ctypes.string_at(a.value, a.value_len) if a.value else b""
    if t == _lib.BP_DDB_S:
        return raw.decode("utf-8")
    if t == _lib.BP_DDB_N:
        return Decimal(raw.decode("ascii"))
    if t == _lib.BP_DDB_B:
        return raw
    if t == _lib.BP_DDB_BOOL:
        return bool(a.boolean)
    return None  # BP_DDB_NULL


def _ddb_items(h, type_, ptr, n):
    """[(name or None, value)] of a DynamoDB container, read by bp_handler_ddb_next. The
    container's text is copied first: the reader's buffer is reset as it goes."""
    text = ctypes.create_string_buffer(ctypes.string_at(ptr, n), n)
    cur, name, name_len = c_size_t(0), c_void_p(), c_size_t()
    a = _lib.bp_ddb_attr()
    out = []
    while True:
        check(_lib.bp_ddb_attr_init(byref(a), ctypes.sizeof(a)))
        rc = _lib.bp_handler_ddb_next(h, type_, text, n, byref(cur), byref(name),
                                      byref(name_len), byref(a))
        if rc < 0:
            check(rc, _lib.bp_handler_errmsg(h).decode("utf-8", "replace"))
        if rc == 0:
            return out
        key = ctypes.string_at(name.value, name_len.value).decode("utf-8") if name.value else None
        out.append((key, _ddb_value(h, a)))


def _ddb_map(h, ptr, n):
    return dict(_ddb_items(h, _lib.BP_DDB_M, ptr, n))


class Window:
    """A tumbling-window event's members (SEMANTICS.md §6): start_ms, end_ms, is_final,
    is_terminated_early, shard_id, event_source_arn, and `state`: the event's state as a
    dict, yours to change (or replace); the response carries it back."""

    def __init__(self, w):
        def text(f):
            p = getattr(w, f)
            return ctypes.string_at(p, getattr(w, f + "_len")).decode("utf-8") if p else None
        self.start_ms, self.end_ms = w.start_ms, w.end_ms
        self.is_final, self.is_terminated_early = bool(w.is_final), bool(w.is_terminated_early)
        self.shard_id, self.event_source_arn = text("shard_id"), text("event_source_arn")
        self.state = json.loads(text("state_json") or "{}")
        self._state_in = _compact(self.state)

    def __repr__(self):
        return (f"<Window {self.start_ms}..{self.end_ms} final={self.is_final} "
                f"state={self.state!r}>")


def _compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _window(h):
    w = _lib.bp_handler_window()
    check(_lib.bp_handler_window_init(byref(w), ctypes.sizeof(w)))
    rc = _lib.bp_handler_get_window(h, byref(w))
    check(rc)
    return Window(w) if rc == 1 else None


class BatchProcessor:
    """A reusable bp_handler (one per Lambda container). stop_at_first_failure and
    deaggregate are bp_handler_opts' flags. After process(), `exceptions` lists
    (record index, sequence number, exception) for the records that failed."""

    def __init__(self, stop_at_first_failure=False, deaggregate=False):
        self._h = None
        o = _lib.bp_handler_opts()
        check(_lib.bp_handler_opts_init(byref(o), ctypes.sizeof(o)))
        o.flags = (STOP_AT_FIRST_FAILURE if stop_at_first_failure else 0) | (
            DEAGGREGATE if deaggregate else 0)
        h = c_void_p()
        check(_lib.bp_handler_new(byref(h), byref(o), None))
        self._h = h
        self.exceptions = []

    def process(self, event, handler, on_window=None):
        """Run @handler over @event (dict, str or bytes); return the response dict.
        Tumbling windows: `self.window` is the event's Window (None for a plain event), set
        before the first record; @handler may update window.state; @on_window(window), when
        given, runs after the records (also for an event with none, as final invocations
        often are) and may update it too. The response carries window.state back."""
        if not self._h:
            raise ValueError("BatchProcessor is closed")
        if isinstance(event, dict):
            event = json.dumps(event)
        if isinstance(event, str):
            event = event.encode("utf-8")
        event = bytes(event)
        self.exceptions = []
        self.window = None
        fatal = []

        def cb(h, p, _ud):
            lease = _Lease()
            rec = HandlerRecord(lease, p, h)
            try:
                if self.window is None and p.contents.index == 0:
                    self.window = _window(h)
                handler(rec)
                return 0
            except BaseException as exc:  # noqa: B902 - a failed record, whatever it raised
                r = p.contents
                seq = ctypes.string_at(r.seq, r.seq_len).decode() if r.seq else None
                self.exceptions.append((r.index, seq, exc))
                msg = f"{type(exc).__name__}: {exc}".encode("utf-8", "replace")[:4096]
                _lib.bp_handler_fail_reason(h, msg, len(msg))
                if not isinstance(exc, Exception):
                    fatal.append(exc)
                return 1
            finally:
                lease.valid = False

        fn = _lib.HANDLER_CB(cb)
        out, out_len = c_void_p(), c_size_t()
        rc = _lib.bp_handler_process(self._h, event, len(event), fn, None, byref(out),
                                     byref(out_len))
        if fatal:
            raise fatal[0]
        if rc < 0 and not out.value:
            check(rc, _lib.bp_handler_errmsg(self._h).decode("utf-8", "replace"))
        if self.window is None:
            self.window = _window(self._h)
        if self.window is not None:
            self._state_out(on_window, out, out_len)
        response = json.loads(ctypes.string_at(out.value, out_len.value))
        if rc < 0:
            exc = error_for(rc, "All records failed processing. " + "; ".join(
                f"{type(e).__name__}: {e}" for _, _, e in self.exceptions))
            exc.response = response
            exc.exceptions = list(self.exceptions)
            raise exc
        return response

    def _state_out(self, on_window, out, out_len):
        """window.state (after on_window) into the response; an unchanged state leaves the
        event's own text, as the library echoes it."""
        if on_window is not None:
            on_window(self.window)
        if not isinstance(self.window.state, dict):
            raise TypeError("window.state must be a dict (a JSON object)")
        state = _compact(self.window.state)
        if state == self.window._state_in:
            return
        rc = _lib.bp_handler_set_state(self._h, state, len(state))
        check(rc, _lib.bp_handler_errmsg(self._h).decode("utf-8", "replace"))
        check(_lib.bp_handler_response(self._h, byref(out), byref(out_len)))

    def close(self):
        h, self._h = getattr(self, "_h", None), None
        if h:
            _lib.bp_handler_del(h)

    __del__ = close


def process_batch(event, handler, stop_at_first_failure=False, deaggregate=False,
                  on_window=None):
    """Process @event with @handler(record) and return {"batchItemFailures": [...]} (see
    the module's documentation); for a tumbling-window event, see process_window."""
    p = BatchProcessor(stop_at_first_failure, deaggregate)
    try:
        return p.process(event, handler, on_window)
    finally:
        p.close()


def process_window(event, handler, on_window=None, **options):
    """Tumbling windows, state in, state out: @handler(record, window) for each record,
    window.state being the event's state as a dict to update; @on_window(window) once after
    the records (final invocation: window.is_final). Returns
    {"state": window.state, "batchItemFailures": [...]}. A plain (non-window) event gives
    window None and no state."""
    p = BatchProcessor(**options)
    try:
        return p.process(event, lambda r: handler(r, p.window), on_window)
    finally:
        p.close()


def batch_handler(record_handler, **options):
    """Decorator style: lambda_handler = batch_handler(record_handler) gives a Lambda
    handler (event, context) answering with the partial batch response."""
    def lambda_handler(event, context=None):
        return process_batch(event, record_handler, **options)
    return lambda_handler
