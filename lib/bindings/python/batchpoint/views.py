# SPDX-License-Identifier: MIT
"""What a callback receives: requests and events as plain Python objects whose borrowed
parts (records, payloads, state) are light views over the library's memory. A view is valid
only while its callback runs; touching it afterwards raises ViewExpiredError."""
import ctypes

from . import _lib
from .errors import BatchpointError, BY_CODE

_INVALID_STATE = -13


class ViewExpiredError(BY_CODE.get(_INVALID_STATE, BatchpointError)):
    """A view handed to a callback was used after the callback returned."""

    def __init__(self, what):
        super().__init__(f"{what} was borrowed for a callback that has returned; "
                         "copy what you keep", _INVALID_STATE)


class _Lease:
    """Shared validity flag of everything one callback borrowed."""
    __slots__ = ("valid",)

    def __init__(self):
        self.valid = True


def _bytes(ptr, n):
    return ctypes.string_at(ptr, n) if ptr and n else b""


def _text(ptr, n):
    return _bytes(ptr, n).decode("utf-8") if ptr else None


def _covers(size, field):
    f = getattr(_lib.bp_record, field)
    return size >= f.offset + f.size


class RecordView:
    """One record of a batch (borrowed). seq, arrival_ms, partition_key, data (bytes),
    encryption_type, event_id, event_name, dynamodb (JSON text), user_identity."""
    __slots__ = ("_lease", "_addr")

    def __init__(self, lease, addr):
        self._lease = lease
        self._addr = addr

    def _rec(self):
        if not self._lease.valid:
            raise ViewExpiredError("record")
        return _lib.bp_record.from_address(self._addr)

    def _str(self, field):
        r = self._rec()
        if not _covers(r.struct_size, field + "_len"):
            return None
        return _text(getattr(r, field), getattr(r, field + "_len"))

    seq = property(lambda self: self._str("seq"))
    partition_key = property(lambda self: self._str("partition_key"))
    encryption_type = property(lambda self: self._str("encryption_type"))
    event_id = property(lambda self: self._str("event_id"))
    event_name = property(lambda self: self._str("event_name"))
    dynamodb = property(lambda self: self._str("dynamodb_json"))
    user_identity = property(lambda self: self._str("user_identity_json"))

    @property
    def arrival_ms(self):
        return self._rec().arrival_ms

    @property
    def flags(self):
        return self._rec().flags

    @property
    def data(self):
        r = self._rec()
        return _bytes(r.data, r.data_len)

    def __repr__(self):
        if not self._lease.valid:
            return "<RecordView (expired)>"
        return f"<RecordView seq={self.seq} arrival_ms={self.arrival_ms}>"


class RecordsView:
    """The records of a request, in shard order (a sequence of RecordView)."""
    __slots__ = ("_lease", "_base", "_stride", "_n")

    def __init__(self, lease, base, stride, n):
        self._lease, self._base, self._stride, self._n = lease, base or 0, stride, n

    def __len__(self):
        if not self._lease.valid:
            raise ViewExpiredError("records")
        return self._n

    def __getitem__(self, i):
        n = len(self)
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(n))]
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(i)
        return RecordView(self._lease, self._base + i * self._stride)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]


class _Request:
    """Base of the requests: plain attributes plus borrowed views."""

    def __init__(self, lease):
        self._lease = lease

    def _check(self, what):
        if not self._lease.valid:
            raise ViewExpiredError(what)


class FetchRequest(_Request):
    """A read of one shard: req_id, shard_id, position (BP_POSITION_* name), after_seq,
    timestamp_ms, max_records, max_bytes."""
    POSITIONS = {1: "TRIM_HORIZON", 2: "LATEST", 3: "AT_TIMESTAMP",
                 4: "AFTER_SEQUENCE_NUMBER", 5: "CONTINUE"}

    def __init__(self, lease, r):
        super().__init__(lease)
        self.req_id = r.req_id
        self.shard_id = r.shard_id.decode()
        self.position = self.POSITIONS.get(r.from_, str(r.from_))
        self.max_records = r.max_records
        self.after_seq = _text(r.after_seq, r.after_seq_len)
        self.timestamp_ms = r.timestamp_ms
        self.max_bytes = r.max_bytes


class InvokeRequest(_Request):
    """An invoke attempt: req_id, shard_id, lane, attempt, flags, count, window_start_ms,
    window_end_ms, payload_len (None when the build encodes no event); borrowed: records
    (RecordsView), payload (bytes of the encoded event),
    state (JSON text or None)."""
    RETRY, SPLIT, REMAINDER, FINAL, TERMINATED_EARLY = 0x1, 0x2, 0x4, 0x8, 0x10

    def __init__(self, lease, r):
        super().__init__(lease)
        self.req_id = r.req_id
        self.shard_id = r.shard_id.decode()
        self.lane, self.attempt, self.flags = r.lane, r.attempt, r.flags
        self.count = r.count
        self.window_start_ms, self.window_end_ms = r.window_start_ms, r.window_end_ms
        self.payload_len = r.payload_len if r.payload else None  # None: no payload
        self._r = r
        self.records = RecordsView(lease, r.records, r.record_stride, r.count)

    @property
    def payload(self):
        self._check("payload")
        return _bytes(self._r.payload, self._r.payload_len)

    @property
    def state(self):
        self._check("state")
        return _text(self._r.state, self._r.state_len)


class DeliveryRequest(_Request):
    """An on-failure delivery: req_id, shard_id, lane, destination, destination_type,
    s3_key, condition, approximate_invoke_count, timestamp_ms, count; borrowed:
    record_json (text), records."""
    CONDITIONS = {1: "RetryAttemptsExhausted", 2: "RecordAgeExceeded"}

    def __init__(self, lease, r):
        super().__init__(lease)
        self.req_id = r.req_id
        self.shard_id = r.shard_id.decode()
        self.lane = r.lane
        self.destination_type = r.destination_type
        self.destination = r.destination.decode() if r.destination else None
        self.s3_key = r.s3_key.decode() if r.s3_key else None
        self.condition = self.CONDITIONS.get(r.condition, str(r.condition))
        self.approximate_invoke_count = r.approximate_invoke_count
        self.timestamp_ms = r.timestamp_ms
        self.count = r.count
        self._r = r
        self.records = RecordsView(lease, r.records, r.record_stride, r.count)

    @property
    def record_json(self):
        self._check("record_json")
        return _text(self._r.record_json, self._r.record_json_len)


class CheckpointRequest(_Request):
    """A checkpoint to persist: req_id, shard_id, seq, final (plain values)."""

    def __init__(self, lease, r):
        super().__init__(lease)
        self.req_id = r.req_id
        self.shard_id = r.shard_id.decode()
        self.seq = _text(r.seq, r.seq_len)
        self.final = bool(r.final)


EVENT_TYPES = {1: "fetch", 2: "invoke", 3: "outcome", 4: "backoff", 5: "split", 6: "discard",
               7: "checkpoint", 8: "checkpoint_stored", 9: "delivery", 10: "metric",
               11: "shard_started", 12: "shard_ended", 13: "error", 14: "drained"}


class Event:
    """Something that happened (all plain values, copied): type (name), type_code, detail,
    now_ms, shard_id, lane, flags, first_seq, last_seq, count, value, message."""

    def __init__(self, e):
        self.type_code = e.type
        self.type = EVENT_TYPES.get(e.type, str(e.type))
        self.detail, self.now_ms = e.detail, e.now_ms
        self.shard_id = e.shard_id.decode() if e.shard_id else None
        self.lane, self.flags = e.lane, e.flags
        self.first_seq = _text(e.first_seq, e.first_seq_len)
        self.last_seq = _text(e.last_seq, e.last_seq_len)
        self.count, self.value = e.count, e.value
        self.message = e.message.decode("utf-8", "replace") if e.message else None

    def __repr__(self):
        return f"<Event {self.type} shard={self.shard_id} count={self.count} value={self.value}>"
