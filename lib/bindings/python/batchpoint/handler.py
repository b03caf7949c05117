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
"""
import ctypes
import json

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
    __slots__ = ("_lease", "_p")

    def __init__(self, lease, p):
        self._lease, self._p = lease, p

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

    def process(self, event, handler):
        """Run @handler over @event (dict, str or bytes); return the response dict."""
        if not self._h:
            raise ValueError("BatchProcessor is closed")
        if isinstance(event, dict):
            event = json.dumps(event)
        if isinstance(event, str):
            event = event.encode("utf-8")
        event = bytes(event)
        self.exceptions = []
        fatal = []

        def cb(h, p, _ud):
            lease = _Lease()
            rec = HandlerRecord(lease, p)
            try:
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
        response = json.loads(ctypes.string_at(out.value, out_len.value))
        if rc < 0:
            exc = error_for(rc, "All records failed processing. " + "; ".join(
                f"{type(e).__name__}: {e}" for _, _, e in self.exceptions))
            exc.response = response
            exc.exceptions = list(self.exceptions)
            raise exc
        return response

    def close(self):
        h, self._h = getattr(self, "_h", None), None
        if h:
            _lib.bp_handler_del(h)

    __del__ = close


def process_batch(event, handler, stop_at_first_failure=False, deaggregate=False):
    """Process @event with @handler(record) and return {"batchItemFailures": [...]} (see
    the module's documentation)."""
    p = BatchProcessor(stop_at_first_failure, deaggregate)
    try:
        return p.process(event, handler)
    finally:
        p.close()


def batch_handler(record_handler, **options):
    """Decorator style: lambda_handler = batch_handler(record_handler) gives a Lambda
    handler (event, context) answering with the partial batch response."""
    def lambda_handler(event, context=None):
        return process_batch(event, record_handler, **options)
    return lambda_handler
