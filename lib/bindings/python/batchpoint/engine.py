# SPDX-License-Identifier: MIT
"""Engine: the shard-consumer engine (bp_engine) driven by a Python host object.

The host has fetch(req), invoke(req), deliver(req) and optionally store_checkpoint(req) and
on_event(ev). A callback returns None to accept the request (complete it then or later with
engine.complete_*) or WOULDBLOCK for "not now". A callback that raises makes the engine fail
for good (BP_ERR_CALLBACK_FAILURE); the exception itself is re-raised from the driving call
(tick, add_shard, shutdown, a completion made outside callbacks) that ran the callback.
"""
import ctypes
import sys
import weakref

from array import array
from itertools import accumulate

from ctypes import byref, c_size_t, c_void_p, create_string_buffer

from . import _lib
from .errors import BatchpointError, check
from .views import (CheckpointRequest, DeliveryRequest, Event, FetchRequest, InvokeRequest,
                    _Lease)

WOULDBLOCK = _lib.BP_ERR_WOULDBLOCK
SHARD_END = 0x1
NO_DEADLINE = _lib.BP_NO_DEADLINE

_OPTS = ("invoke_identity_arn", "aws_region", "mapping_uuid", "seed", "max_buffered_records",
         "filter_flags", "max_buffered_bytes", "backoff_base_ms", "backoff_cap_ms",
         "poll_interval_ms", "fetch_error_retry_ms", "wouldblock_retry_ms",
         "max_fetch_records", "function_account")
_STRING_OPTS = ("invoke_identity_arn", "aws_region", "mapping_uuid", "function_account")


class Record:
    """A record the host hands to complete_fetch (plain values). Kinesis: seq, arrival_ms,
    partition_key, data (bytes), encryption_type. DynamoDB: seq, arrival_ms, event_id,
    event_name, dynamodb (JSON text), user_identity (JSON text), partition_key (hash key,
    routing only). data_base64=True: data is base64 text."""
    __slots__ = ("seq", "arrival_ms", "partition_key", "data", "encryption_type", "event_id",
                 "event_name", "dynamodb", "user_identity", "data_base64")

    def __init__(self, seq, arrival_ms=0, partition_key=None, data=b"", encryption_type=None,
                 event_id=None, event_name=None, dynamodb=None, user_identity=None,
                 data_base64=False):
        self.seq, self.arrival_ms, self.partition_key = seq, arrival_ms, partition_key
        self.data, self.encryption_type = data, encryption_type
        self.event_id, self.event_name = event_id, event_name
        self.dynamodb, self.user_identity = dynamodb, user_identity
        self.data_base64 = data_base64


class InvokeResult:
    """How an invoke attempt ended. Use InvokeResult.returned(body), .error(function_error),
    .throttled() or .classified(outcome, failed_index, failed_count)."""
    RETURNED, ERROR, THROTTLED, CLASSIFIED = 0, 1, 2, 3

    def __init__(self, kind=0, body=b"", function_error=None, request_id=None,
                 executed_version=None, outcome=0, failed_index=0, failed_count=0):
        self.kind, self.body, self.function_error = kind, body, function_error
        self.request_id, self.executed_version = request_id, executed_version
        self.outcome, self.failed_index, self.failed_count = outcome, failed_index, failed_count

    @classmethod
    def returned(cls, body=b"", **kw):
        return cls(cls.RETURNED, body, **kw)

    @classmethod
    def error(cls, function_error="Unhandled", body=b"", **kw):
        return cls(cls.ERROR, body, function_error, **kw)

    @classmethod
    def throttled(cls, **kw):
        return cls(cls.THROTTLED, **kw)


def _b(v):
    if v is None:
        return None
    if isinstance(v, str):
        return v.encode("utf-8")
    return bytes(v)


def _set_str(struct, field, value, keep):
    """Point struct.field/field_len at value's bytes (kept alive in keep)."""
    b = _b(value)
    if b is None:
        return
    buf = ctypes.create_string_buffer(b, len(b))
    keep.append(buf)
    setattr(struct, field, ctypes.addressof(buf))
    setattr(struct, field + "_len", len(b))


# bp_record as 8-byte slots: a batch's array is filled column by column (one C-speed pass
# per member over the whole batch, the strings of a member joined into one buffer), never
# record by record: the crossing costs about the same for 10 records or 10,000.
_REC_SLOTS = ctypes.sizeof(_lib.bp_record) // 8
_STR_COLUMNS = (("seq", "seq"), ("partition_key", "partition_key"), ("data", "data"),
                ("encryption_type", "encryption_type"), ("event_id", "event_id"),
                ("event_name", "event_name"), ("dynamodb", "dynamodb_json"),
                ("user_identity", "user_identity_json"))
COLUMNS = tuple(c for c, _ in _STR_COLUMNS) + ("arrival_ms", "data_base64")


def _slot(field):
    return getattr(_lib.bp_record, field).offset // 8


def _head_slot():
    """struct_size and flags (slot 0) as bp_record_init sets them, flags 0."""
    r = _lib.bp_record()
    check(_lib.bp_record_init(byref(r), ctypes.sizeof(r)))
    return memoryview(r).cast("B").cast("q")[0]


assert ctypes.sizeof(_lib.bp_record) % 8 == 0 and _lib.bp_record.flags.offset == 4
_HEAD = _head_slot()


def _bytes_offset():
    """Where a bytes object's buffer starts from its id() in this interpreter (CPython: a
    fixed header), checked on a few objects; None elsewhere (the strings are then joined)."""
    if sys.implementation.name != "cpython":
        return None
    samples = [b"x", b"batchpoint", bytes(1000)]
    offs = {ctypes.cast(ctypes.c_char_p(b), c_void_p).value - id(b) for b in samples}
    return offs.pop() if len(offs) == 1 else None


_BYTES_AT = _bytes_offset()


def _bytes_column(vals):
    if set(map(type, vals)) <= {bytes}:
        return vals
    try:
        return list(map(str.encode, vals))  # the usual case: all str
    except TypeError:
        return [_b(v) for v in vals]


def _fill_strings(mv, field, vals, n, keep):
    """Point member @field of the n records at @vals (str / bytes, None for absent): at each
    bytes object's own buffer (CPython), else into one buffer joining them."""
    vals = _bytes_column(vals if isinstance(vals, list) else list(vals))
    if len(vals) != n:
        raise ValueError(f"{field}: {len(vals)} values for {n} records")
    absent = None in vals
    if absent and all(v is None for v in vals):
        return
    keep.append(vals)
    if absent:
        ptrs = array("q", [0] * n)
        lens = array("q", [0 if v is None else len(v) for v in vals])
        present = [i for i, v in enumerate(vals) if v is not None]
        sub = [vals[i] for i in present]
        sub_ptrs, _ = _pointers(sub, keep)
        for i, p in zip(present, sub_ptrs):
            ptrs[i] = p
    else:
        ptrs, lens = _pointers(vals, keep)
    k = _slot(field)
    mv[k::_REC_SLOTS] = ptrs
    mv[k + 1::_REC_SLOTS] = lens


def _pointers(vals, keep):
    """(addresses, lengths) of the bytes objects @vals, as arrays."""
    lens = array("q", map(len, vals))
    if _BYTES_AT is not None:
        return array("q", map(_BYTES_AT.__add__, map(id, vals))), lens
    blob = b"".join(vals)
    keep.append(blob)
    base = ctypes.cast(ctypes.c_char_p(blob), c_void_p).value or 0
    return array("q", map(base.__add__, accumulate(lens, initial=0)))[:len(vals)], lens


def _columns_array(n, columns, scratch=None):
    """A bp_record array of @n records from @columns (COLUMNS' names: lists of n values;
    data_base64 a bool for all), and what keeps its memory alive (the array first).
    @scratch: an earlier array to reuse (zeroed) when it is large enough: a fresh array of
    10,000 records is 1.4 MB of new pages each call."""
    if scratch is not None and len(scratch) >= n:
        arr = scratch
        ctypes.memset(arr, 0, n * ctypes.sizeof(_lib.bp_record))
    else:
        arr = (_lib.bp_record * max(n, 1))()
    keep = [arr]
    if n == 0:
        return arr, 0, keep
    mv = memoryview(arr).cast("B").cast("q")
    head = _HEAD | ((1 << 32) if columns.get("data_base64") else 0)
    mv[0::_REC_SLOTS] = array("q", [head]) * n
    for col, field in _STR_COLUMNS:
        vals = columns.get(col)
        if vals is not None:
            _fill_strings(mv, field, vals, n, keep)
    arrival = columns.get("arrival_ms")
    if arrival is not None:
        mv[_slot("arrival_ms")::_REC_SLOTS] = array("q", arrival)
    return arr, n, keep


class RecordBatch:
    """Records prepared once as the library's bp_record array, column by column (see
    _columns_array for the columns), for hosts that hand over many records: complete_fetch
    and Codec.encode_event take a RecordBatch or a slice of one (batch[i:j], no copy)
    without building anything per record. RecordBatch.of(records) converts Record objects."""
    __slots__ = ("_arr", "_keep", "_start", "_n")

    def __init__(self, seq=(), **columns):
        columns["seq"] = list(seq)
        self._arr, n, self._keep = _columns_array(len(columns["seq"]), columns)
        self._start, self._n = 0, n

    @classmethod
    def of(cls, records):
        b = cls.__new__(cls)
        b._arr, b._n, b._keep = _record_array(records)
        b._start = 0
        return b

    def __len__(self):
        return self._n

    def __getitem__(self, sl):
        if not isinstance(sl, slice) or sl.step not in (None, 1):
            raise TypeError("RecordBatch: only contiguous slices (batch[i:j])")
        i, j, _ = sl.indices(self._n)
        b = RecordBatch.__new__(RecordBatch)
        b._arr, b._keep = self._arr, self._keep
        b._start, b._n = self._start + i, max(j - i, 0)
        return b

    def _address(self):
        return ctypes.addressof(self._arr) + self._start * ctypes.sizeof(_lib.bp_record)


def _record_fields(r):
    if isinstance(r, dict):
        return Record(**r)
    return r


def _record_array(records):
    """A bp_record array for @records (Record objects or dicts), and what keeps its memory
    alive (the array first)."""
    recs = [_record_fields(r) for r in records]
    n = len(recs)
    cols = {c: [getattr(r, c) for r in recs] for c in COLUMNS[:-2]}
    cols["arrival_ms"] = [int(r.arrival_ms) for r in recs]
    arr, n, keep = _columns_array(n, cols)
    if any(r.data_base64 for r in recs):
        mv = memoryview(arr).cast("B").cast("q")
        for i, r in enumerate(recs):
            if r.data_base64:
                mv[i * _REC_SLOTS] |= 1 << 32
    return arr, n, keep


class Engine:
    """A bp_engine over @config (a Config) with @host's callbacks. Keyword options are
    bp_engine_opts' members (invoke_identity_arn, seed, poll_interval_ms, ...). store: a
    FileStore the engine saves checkpoints to when the host has no store_checkpoint."""

    def __init__(self, config, host, store=None, **options):
        self._h = None
        self._store = None
        self._host = host
        self._pending = None   # the first exception a callback raised, not yet re-raised
        self._depth = 0        # callbacks running now
        opts = _lib.bp_engine_opts()
        check(_lib.bp_engine_opts_init(byref(opts), ctypes.sizeof(opts)))
        keep = []
        for k, v in options.items():
            if k not in _OPTS:
                raise TypeError(f"Engine: unknown option {k!r}")
            if k in _STRING_OPTS:
                v = _b(v)
                keep.append(v)
            setattr(opts, k, v)
        if store is not None:
            opts.store, opts.store_user_data = store._acquire()
            self._store = store  # released by close(), after bp_engine_del
        me = weakref.ref(self)
        t = _lib.bp_transport()
        t.fetch = _lib.FETCH_CB(_trampoline(me, "fetch", FetchRequest))
        t.invoke = _lib.INVOKE_CB(_trampoline(me, "invoke", InvokeRequest))
        t.deliver = _lib.DELIVER_CB(_trampoline(me, "deliver", DeliveryRequest))
        if callable(getattr(host, "store_checkpoint", None)):
            t.store_checkpoint = _lib.CHECKPOINT_CB(
                _trampoline(me, "store_checkpoint", CheckpointRequest))
        if callable(getattr(host, "on_event", None)):
            t.on_event = _lib.EVENT_CB(_event_trampoline(me))
        self._transport = t  # the callbacks live as long as the engine
        h = c_void_p()
        err = create_string_buffer(1024)
        rc = _lib.bp_engine_new_versioned(byref(h), config._h, byref(opts),
                                          _lib.BP_TRANSPORT_VERSION, byref(t), None, None,
                                          err, len(err))
        if rc < 0:
            self._release_store()
        check(rc, err.value.decode("utf-8", "replace"))
        self._h = h

    # ---- plumbing ----

    def _handle(self):
        if not self._h:
            raise check_closed()
        return self._h

    def _done(self, rc):
        """After a call that may have run callbacks: re-raise a callback's exception, else
        raise the call's error."""
        if self._pending is not None and self._depth == 0:
            exc, self._pending = self._pending, None
            raise exc
        if rc < 0:
            check(rc, _lib.bp_engine_errmsg(self._h).decode("utf-8", "replace"))
        return rc

    # ---- driving ----

    def add_shard(self, shard_id, parent_id=None, adjacent_parent_id=None, checkpoint=None):
        cp = _b(checkpoint)
        rc = _lib.bp_engine_add_shard(self._handle(), shard_id.encode(), _b(parent_id),
                                      _b(adjacent_parent_id), cp, len(cp) if cp else 0)
        self._done(rc)

    def tick(self, now_ms):
        self._done(_lib.bp_engine_tick(self._handle(), int(now_ms)))

    def set_enabled(self, now_ms, enabled):
        self._done(_lib.bp_engine_set_enabled(self._handle(), int(now_ms), 1 if enabled else 0))

    def shutdown(self, now_ms):
        self._done(_lib.bp_engine_shutdown(self._handle(), int(now_ms)))

    def next_deadline(self):
        """The next time (ms) the engine has work, or None when only completions can help."""
        d = _lib.bp_engine_next_deadline(self._handle())
        return None if d == NO_DEADLINE else d

    @property
    def drained(self):
        return bool(_lib.bp_engine_drained(self._handle()))

    @property
    def idle(self):
        return bool(_lib.bp_engine_idle(self._handle()))

    # ---- completions ----

    def complete_fetch(self, req_id, now_ms, status=0, records=(), flags=0):
        """@records: Record objects, dicts with Record's names, or a RecordBatch (slice)."""
        if isinstance(records, RecordBatch):
            n, addr, keep = len(records), records._address(), records
        else:
            arr, n, keep = _record_array(records)
            addr = ctypes.addressof(arr)
        rc = _lib.bp_engine_complete_fetch(self._handle(), req_id, int(now_ms), status,
                                           addr if n else None, n, flags)
        del keep
        return self._done(rc)

    def complete_invoke(self, req_id, now_ms, result=None):
        if result is None:
            result = InvokeResult.returned()
        res = _lib.bp_invoke_result()
        check(_lib.bp_invoke_result_init(byref(res), ctypes.sizeof(res)))
        keep = []
        res.kind, res.outcome = result.kind, result.outcome
        res.failed_index, res.failed_count = result.failed_index, result.failed_count
        if result.body:
            _set_str(res, "body", result.body, keep)
        _set_str(res, "function_error", result.function_error, keep)
        _set_str(res, "request_id", result.request_id, keep)
        _set_str(res, "executed_version", result.executed_version, keep)
        rc = _lib.bp_engine_complete_invoke(self._handle(), req_id, int(now_ms), byref(res))
        return self._done(rc)

    def complete_delivery(self, req_id, now_ms, status=0):
        return self._done(_lib.bp_engine_complete_delivery(self._handle(), req_id,
                                                           int(now_ms), status))

    def complete_checkpoint(self, req_id, now_ms, status=0):
        return self._done(_lib.bp_engine_complete_checkpoint(self._handle(), req_id,
                                                             int(now_ms), status))

    # ---- queries ----

    def metrics(self, shard_id=None):
        """The totals (or one shard's) as a dict of SEMANTICS.md §8.4 figures."""
        m = _lib.bp_engine_metrics()
        check(_lib.bp_engine_metrics_init(byref(m), ctypes.sizeof(m)))
        check(_lib.bp_engine_get_metrics(self._handle(), _b(shard_id), byref(m)),
              _lib.bp_engine_errmsg(self._h).decode("utf-8", "replace"))
        out = {}
        for name, _t in _lib.bp_engine_metrics._fields_:
            f = getattr(_lib.bp_engine_metrics, name)
            if name in ("struct_size", "reserved") or m.struct_size < f.offset + f.size:
                continue
            out[name] = getattr(m, name)
        return out

    def checkpoint(self, shard_id):
        """The shard's checkpoint in memory (a sequence number), or None."""
        buf = create_string_buffer(160)
        n = c_size_t()
        rc = _lib.bp_engine_get_checkpoint(self._handle(), shard_id.encode(), buf, len(buf),
                                           byref(n))
        if rc > 0:
            return None
        check(rc)
        return buf.raw[:n.value].decode()

    def shard_state(self, shard_id):
        """"waiting", "active", "ending" or "ended"."""
        rc = check(_lib.bp_engine_get_shard_state(self._handle(), shard_id.encode()))
        return ("waiting", "active", "ending", "ended")[rc]

    # ---- life ----

    def close(self):
        """Destroy the engine (requests in flight are abandoned). Idempotent."""
        h = self._h
        if not h:
            return
        if self._depth:
            raise check_in_callback()
        self._h = None
        _lib.bp_engine_del(h)
        self._release_store()

    def _release_store(self):
        st, self._store = self._store, None
        if st is not None:
            st._release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_h", None) and not getattr(self, "_depth", 0):
            self.close()


def check_closed():
    from .errors import error_for
    return error_for(-13, "the engine is closed")


def check_in_callback():
    from .errors import error_for
    return error_for(-15, "Engine.close() called from inside a callback")


def _run(me, call):
    """Run one host callback: keep its exception for the driving call, say failure to C."""
    eng = me()
    if eng is None:
        return _lib.BP_ERR_CALLBACK_FAILURE
    eng._depth += 1
    try:
        rv = call(eng)
    except BaseException as exc:  # noqa: B902 - never let an exception cross into C
        if eng._pending is None:
            eng._pending = exc
        return _lib.BP_ERR_CALLBACK_FAILURE
    finally:
        eng._depth -= 1
    if rv is None or rv == 0:
        return 0
    if isinstance(rv, int) and rv < 0:
        return rv
    return 0


def _trampoline(me, name, req_type):
    def cb(_e, req_p, _ud):
        lease = _Lease()

        def call(eng):
            try:
                return getattr(eng._host, name)(req_type(lease, req_p.contents))
            finally:
                lease.valid = False
        return _run(me, call)
    return cb


def _event_trampoline(me):
    def cb(_e, ev_p, _ud):
        return _run(me, lambda eng: eng._host.on_event(Event(ev_p.contents)))
    return cb
