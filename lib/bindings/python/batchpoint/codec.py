# SPDX-License-Identifier: MIT
"""The codec (bp_codec): Lambda's Kinesis / DynamoDB Streams event JSON for a batch of
records (encode_event), and the classification of a function's response against its batch
(classify_response, SEMANTICS.md §3.4)."""
import ctypes

from ctypes import byref, c_size_t, c_void_p

from . import _lib
from .engine import COLUMNS, RecordBatch, _b, _columns_array, _record_array
from .errors import check

SUCCESS, PARTIAL, RETURNED_FAILED = 0, 1, 2
OUTCOMES = {SUCCESS: "success", PARTIAL: "partial", RETURNED_FAILED: "failure"}
REASONS = {0: "none", 1: "not_reporting", 2: "empty", 3: "invalid_json", 4: "not_object",
           5: "failures_not_list", 6: "bad_item", 7: "unknown_identifier", 8: "state_missing"}
REPORT_BATCH_ITEM_FAILURES, REQUIRE_STATE = 0x1, 0x2
_SOURCES = {"kinesis": _lib.BP_SOURCE_KINESIS, "dynamodb": _lib.BP_SOURCE_DYNAMODB}

_DEFAULT_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/stream"
_DEFAULT_ROLE = "arn:aws:iam::123456789012:role/lambda-role"


class Codec:
    """A bp_codec for one stream: source "kinesis" or "dynamodb", the stream ARN, the
    function role (Kinesis invokeIdentityArn), the region (default: the ARN's)."""

    def __init__(self, event_source_arn=_DEFAULT_ARN, invoke_identity_arn=_DEFAULT_ROLE,
                 source=None, aws_region=None, function_arn=None):
        self._h = None
        self._scratch = None
        if source is None:
            source = "dynamodb" if ":dynamodb:" in event_source_arn else "kinesis"
        o = _lib.bp_codec_opts()
        check(_lib.bp_codec_opts_init(byref(o), ctypes.sizeof(o)))
        o.source = _SOURCES[source]
        self._keep = [_b(event_source_arn), _b(invoke_identity_arn), _b(aws_region),
                      _b(function_arn)]
        o.event_source_arn, o.invoke_identity_arn, o.aws_region, o.function_arn = self._keep
        h = c_void_p()
        check(_lib.bp_codec_new(byref(h), byref(o), None))
        self._h = h

    def _handle(self):
        if not self._h:
            raise ValueError("Codec is closed")
        return self._h

    def _check(self, rc):
        if rc < 0:
            check(rc, _lib.bp_codec_errmsg(self._h).decode("utf-8", "replace"))

    def encode_event(self, records, shard_id="shardId-000000000000"):
        """The event JSON (bytes) Lambda would send for @records (Record objects or dicts
        with Record's names) of @shard_id."""
        if isinstance(records, RecordBatch):
            return self._encode(shard_id, records._address(), len(records), records)
        arr, n, keep = _record_array([{"seq": r} if isinstance(r, str) else r for r in records])
        return self._encode(shard_id, ctypes.addressof(arr), n, keep)

    def encode_columns(self, shard_id="shardId-000000000000", **columns):
        """encode_event for a batch given column by column, the fast path for large
        batches: seq, partition_key, data, encryption_type, event_id, event_name, dynamodb,
        user_identity (lists of str / bytes, None for absent), arrival_ms (list of int),
        data_base64 (a bool for every record). Same bytes as encode_event."""
        unknown = set(columns) - set(COLUMNS)
        if unknown:
            raise TypeError(f"encode_columns: unknown column(s) {sorted(unknown)}")
        n = len(columns["seq"])
        arr, n, keep = _columns_array(n, columns, self._scratch)
        self._scratch = arr  # reused by the next call (the codec is one thread's at a time)
        return self._encode(shard_id, ctypes.addressof(arr), n, keep)

    def _encode(self, shard_id, addr, n, keep):
        out, out_len = c_void_p(), c_size_t()
        rc = _lib.bp_codec_encode_event(self._handle(), _b(shard_id), addr if n else None, n,
                                        None, byref(out), byref(out_len))
        self._check(rc)
        del keep
        return ctypes.string_at(out.value, out_len.value)

    def classify_response(self, body, batch_seqs, report_batch_item_failures=True,
                          require_state=False):
        """Classify a returned response @body against the batch's sequence numbers (in
        shard order). Returns a ResponseResult."""
        body = _b(body) or b""
        arr, n, keep = _record_array([{"seq": str(s)} for s in batch_seqs])
        flags = (REPORT_BATCH_ITEM_FAILURES if report_batch_item_failures else 0) | (
            REQUIRE_STATE if require_state else 0)
        res = _lib.bp_response_result()
        check(_lib.bp_response_result_init(byref(res), ctypes.sizeof(res)))
        rc = _lib.bp_codec_classify_response(self._handle(), body, len(body),
                                             arr if n else None, n, flags, byref(res))
        self._check(rc)
        msg = _lib.bp_codec_errmsg(self._h).decode("utf-8", "replace")
        del keep
        return ResponseResult(res, body, msg)

    def close(self):
        h, self._h = getattr(self, "_h", None), None
        if h:
            _lib.bp_codec_del(h)

    __del__ = close


class ResponseResult:
    """outcome ("success", "partial", "failure"), outcome_code (BP_ATTEMPT_*), reason
    (name), failed_index / failed_count (partial), state (JSON text or None), message."""

    def __init__(self, r, body, message):
        self.outcome_code = r.outcome
        self.outcome = OUTCOMES.get(r.outcome, str(r.outcome))
        self.reason = REASONS.get(r.reason, str(r.reason))
        self.failed_index = r.failed_index if r.outcome == PARTIAL else None
        self.failed_count = r.failed_count
        self.state = (body[r.state_offset:r.state_offset + r.state_len].decode("utf-8")
                      if r.has_state else None)
        self.message = message

    def as_dict(self):
        return {"outcome": self.outcome, "reason": self.reason,
                "failed_index": self.failed_index, "failed_count": self.failed_count,
                "state": self.state}

    def __repr__(self):
        return f"<ResponseResult {self.outcome} failed_index={self.failed_index} reason={self.reason}>"


def encode_event(records, shard_id="shardId-000000000000", **codec_options):
    """Codec(**codec_options).encode_event(records, shard_id)."""
    return Codec(**codec_options).encode_event(records, shard_id)


def classify_response(body, batch_seqs, **flags):
    """Codec().classify_response(body, batch_seqs, **flags)."""
    return Codec().classify_response(body, batch_seqs, **flags)
