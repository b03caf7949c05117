# SPDX-License-Identifier: MIT
"""Filter: Lambda FilterCriteria patterns (bp_filter), compiled once and matched against
JSON events. A rejected pattern raises the binding's exception for BP_ERR_CONFIG_INVALID
with Lambda's message ("Invalid filter pattern definition."); `reason` keeps event-ruler's."""
import ctypes
import json

from ctypes import byref, c_int, c_size_t, c_void_p

from . import _lib
from .codec import _DEFAULT_ARN, Codec
from .engine import Record, _b, _record_array
from .errors import check, error_for
from .handler import HandlerRecord
from .views import RecordView

STRICT_LAMBDA = 0x1
INVALID_PATTERN = "Invalid filter pattern definition."
DEFAULT_SHARD = "shardId-000000000000"


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
        self._codecs = {}
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

    def matches(self, event, codec=None, shard_id=None):
        """True when some pattern matches @event:
        - JSON text (str, bytes) or a dict that is not a record: the event itself;
        - a record: matched through its filter view (the record as Lambda delivers it, with a
          Kinesis payload's JSON under top-level `data`; a payload that is not JSON while a
          pattern reads `data` never matches). Records are the RecordView an engine callback
          holds, a Record, a HandlerRecord of process_batch, a Lambda record dict
          (`eventSource` "aws:kinesis" / "aws:dynamodb"), a GetRecords Kinesis record dict
          (`SequenceNumber`, `Data`, `PartitionKey`, as boto3 returns it) or a dict with
          Record's names (`seq`, `data`, `partition_key`, ...).
        @codec: the mapping's Codec (stream ARN, region, role in the view); by default the
        record's own (Lambda and handler records) or a default Kinesis codec. @shard_id: for
        the Kinesis eventID (default: the record's own, else "shardId-000000000000")."""
        if isinstance(event, (str, bytes, bytearray, memoryview)):
            return self._match_text(_text(event))
        rec = _as_record(event)
        if rec is None:
            return self._match_text(_text(event))
        record, own = rec
        if codec is None:
            codec = self._codec(own)
        shard = _b(shard_id or own.get("shard_id") or DEFAULT_SHARD)
        if isinstance(record, RecordView):
            addr = record._addr if record._lease.valid else None
            if addr is None:
                record._rec()  # raises ViewExpiredError
            return self._match_record(codec, shard, addr)
        arr, n, keep = _record_array([record])
        ok = self._match_record(codec, shard, ctypes.addressof(arr))
        del keep
        return ok

    def match_many(self, events):
        """[matches(e) for e in events] for JSON texts (str / bytes), in one tight loop:
        the per-call cost is the FFI crossing alone."""
        # a prototype without argtypes, every argument a ready ctypes object but the text:
        # ctypes' per-argument conversion is most of a call's cost
        fn, h, m, n = _lib.lib["bp_filter_match_json"], self._handle(), c_int(), c_size_t()
        ref = byref(m)
        out = []
        append = out.append
        for t in events:
            if type(t) is not bytes:
                t = _text(t)
            n.value = len(t)
            rc = fn(h, t, n, ref)
            if rc < 0:
                check(rc, _lib.bp_filter_errmsg(h).decode("utf-8", "replace"))
            append(m.value == 1)
        return out

    def _match_text(self, text):
        m = c_int()
        rc = _lib.bp_filter_match_json(self._handle(), text, len(text), byref(m))
        if rc < 0:
            check(rc, _lib.bp_filter_errmsg(self._h).decode("utf-8", "replace"))
        return bool(m.value)

    def _match_record(self, codec, shard, addr):
        m = c_int()
        rc = _lib.bp_filter_match_record(self._handle(), codec._handle(), shard, addr, byref(m))
        if rc < 0:
            msg = (_lib.bp_filter_errmsg(self._h) or _lib.bp_codec_errmsg(codec._h) or b"")
            check(rc, msg.decode("utf-8", "replace"))
        return m.value == _lib.BP_FILTER_MATCH

    def _codec(self, own):
        """A Codec for the record's stream, one per distinct stream, kept by the filter."""
        key = (own.get("event_source_arn") or _DEFAULT_ARN, own.get("invoke_identity_arn"),
               own.get("aws_region"))
        c = self._codecs.get(key)
        if c is None:
            kw = {k: v for k, v in (("invoke_identity_arn", key[1]), ("aws_region", key[2]))
                  if v}
            c = self._codecs[key] = Codec(key[0], **kw)
        return c

    def close(self):
        h, self._h = getattr(self, "_h", None), None
        if h:
            _lib.bp_filter_del(h)

    __del__ = close


def _epoch_ms(v):
    """An epoch-seconds number (Lambda's), or a datetime (boto3's), in milliseconds."""
    if hasattr(v, "timestamp"):
        return int(round(v.timestamp() * 1000))
    return int(round(float(v) * 1000))


def _lambda_record(d):
    """(Record, own stream fields) of a Lambda event record dict."""
    own = {"event_source_arn": d.get("eventSourceARN"), "aws_region": d.get("awsRegion"),
           "invoke_identity_arn": d.get("invokeIdentityArn")}
    if d.get("eventSource") == "aws:kinesis":
        k = d.get("kinesis", {})
        own["shard_id"] = (d.get("eventID") or "").rpartition(":")[0] or None
        return Record(k.get("sequenceNumber"), _epoch_ms(k.get("approximateArrivalTimestamp", 0)),
                      k.get("partitionKey"), k.get("data", ""), k.get("encryptionType"),
                      data_base64=True), own
    ddb = d.get("dynamodb", {})
    return Record(ddb.get("SequenceNumber"), _epoch_ms(ddb.get("ApproximateCreationDateTime", 0)),
                  event_id=d.get("eventID"), event_name=d.get("eventName"),
                  dynamodb=json.dumps(ddb),
                  user_identity=json.dumps(d["userIdentity"]) if "userIdentity" in d else None,
                  ), own


def _handler_record(r):
    """(Record, own stream fields) of a process_batch HandlerRecord."""
    own = {"event_source_arn": r.event_source_arn, "aws_region": r.aws_region,
           "invoke_identity_arn": r.invoke_identity_arn}
    if r.source == "kinesis":
        own["shard_id"] = (r.event_id or "").rpartition(":")[0] or None
        return Record(r.sequence_number, r.arrival_ms, r.partition_key, r.data,
                      r.encryption_type), own
    return Record(r.sequence_number, r.arrival_ms, event_id=r.event_id,
                  event_name=r.event_name, dynamodb=r.dynamodb_json,
                  user_identity=r.user_identity_json), own


def _as_record(x):
    """(record, own stream fields) when @x is a record (see Filter.matches), else None."""
    if isinstance(x, (RecordView, Record)):
        return x, {}
    if isinstance(x, HandlerRecord):
        return _handler_record(x)
    if not isinstance(x, dict):
        return None
    if x.get("eventSource") in ("aws:kinesis", "aws:dynamodb"):
        return _lambda_record(x)
    if "SequenceNumber" in x and "Data" in x and "PartitionKey" in x:
        return Record(x["SequenceNumber"], _epoch_ms(x.get("ApproximateArrivalTimestamp", 0)),
                      x["PartitionKey"], x["Data"], x.get("EncryptionType")), {}
    if "seq" in x:
        return Record(**x), {}
    return None
