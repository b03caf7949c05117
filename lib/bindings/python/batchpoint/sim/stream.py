# SPDX-License-Identifier: MIT
"""The records of a scenario's simulated stream: its inline `stream` or its `stream_file`
(NDJSON, one record a line, relative to the scenario file), checked field by field and
grouped by shard into the Records the host hands to complete_fetch."""
import os
from bisect import bisect_right

from ..engine import Record
from .checks import (TIME_MAX_MS, LoadError, fail, integer, key, known, member, parse,
                     read_file, seq_val)
from .jsonv import dumps, type_name
from .match import seq_cmp

_KINESIS = ("label", "shard", "seq", "partition_key", "arrival_ms", "data", "data_fill")
_DYNAMODB = ("label", "shard", "seq", "partition_key", "arrival_ms", "event_name", "event_id",
             "dynamodb", "user_identity")
_MAX_ID_LEN = 1024  # BP_STORE_MAX_ID_LEN


class SimRecord:
    """One record: label, shard, seq, arrival_ms, partition_key, and `record` (the Record
    the engine is handed)."""
    __slots__ = ("label", "shard", "seq", "arrival_ms", "partition_key", "record")


class Shard:
    def __init__(self, shard_id):
        self.id = shard_id
        self.recs = []     # SimRecord, ascending seq
        self.records = []  # their Records


class Stream:
    """All records of a scenario, by shard (in order of first appearance)."""

    def __init__(self, recs):
        self.recs = recs
        self.shards = {}
        for r in recs:
            self.shards.setdefault(r.shard, Shard(r.shard))
        self.arrivals = sorted({r.arrival_ms for r in recs})

    def find(self, seq):
        """The record with this sequence number (numeric equality), or None."""
        for r in self.recs:
            if seq_cmp(r.seq, seq) == 0:
                return r
        return None

    def next_arrival(self, now):
        """The first arrival after @now, or None."""
        i = bisect_right(self.arrivals, now)
        return self.arrivals[i] if i < len(self.arrivals) else None


def _data(rec, path):
    """Kinesis payload bytes: `data` (UTF-8 text) or `data_fill` {prefix, char, length}."""
    if ("data" in rec) == ("data_fill" in rec):
        fail(path, "exactly one of 'data' and 'data_fill' expected")
    if "data" in rec:
        return member(rec, "data", "string", True, path).encode()
    fill = member(rec, "data_fill", "object", True, path)
    fp = key(path, "data_fill")
    prefix = member(fill, "prefix", "string", False, fp) or ""
    ch = member(fill, "char", "string", True, fp)
    length = integer(fill, "length", True, 0, 64 << 20, fp)
    prefix_b, ch_b = prefix.encode(), ch.encode()
    if not ch_b:
        fail(fp, "char: empty")
    if len(prefix_b) > length:
        fail(fp, "prefix longer than length")
    if (length - len(prefix_b)) % len(ch_b):
        fail(fp, "char does not fill length exactly")
    return prefix_b + ch_b * ((length - len(prefix_b)) // len(ch_b))


def _record(rec, i, dynamodb, path):
    if not isinstance(rec, dict):
        fail(path, f"an object expected, got {type_name(rec)}")
    known(rec, _DYNAMODB if dynamodb else _KINESIS,
          "DynamoDB record" if dynamodb else "Kinesis record", path)
    r = SimRecord()
    label = member(rec, "label", "string", False, path)
    r.shard = member(rec, "shard", "string", True, path)
    if "seq" not in rec:
        fail(key(path, "seq"), "missing")
    r.seq = seq_val(rec["seq"], key(path, "seq"))
    if not r.shard or len(r.shard.encode()) > _MAX_ID_LEN:
        fail(key(path, "shard"), "bad shard id")
    r.arrival_ms = integer(rec, "arrival_ms", True, 0, TIME_MAX_MS, path)
    r.partition_key = member(rec, "partition_key", "string", not dynamodb, path)
    r.label = label if label is not None else f"#{i}"
    pk = r.partition_key or ""
    if not dynamodb:
        r.record = Record(r.seq, r.arrival_ms, partition_key=pk, data=_data(rec, path))
        return r
    name = member(rec, "event_name", "string", True, path)
    event_id = member(rec, "event_id", "string", True, path)
    ddb = member(rec, "dynamodb", "object", True, path)
    ui = member(rec, "user_identity", "object", False, path)
    if name not in ("INSERT", "MODIFY", "REMOVE"):
        fail(key(path, "event_name"), f"INSERT, MODIFY or REMOVE expected, got \"{name}\"")
    r.record = Record(r.seq, r.arrival_ms, partition_key=pk, event_id=event_id,
                      event_name=name, dynamodb=dumps(ddb),
                      user_identity=dumps(ui) if ui is not None else None)
    return r


def _lines(scn_path, name, directory):
    """(where, record object) of each non-blank line of a stream_file."""
    fpath = key(scn_path, "stream_file")
    if not name:
        fail(fpath, "empty")
    try:
        text = read_file(name if os.path.isabs(name) else os.path.join(directory, name))
    except LoadError as exc:
        raise LoadError(fpath, f"{name}: {exc.msg}") from None
    out = []
    for n, line in enumerate(text.split(b"\n"), 1):
        line = line.rstrip(b"\r")
        if line.strip(b" \t"):
            where = f"{fpath} {name} line {n}"
            try:
                out.append((where, parse(line, one_line=True)))
            except LoadError as exc:
                raise LoadError(where, exc.msg) from None
    return out


def load_stream(node, dynamodb, scn_path, directory):
    """The Stream of a scenario from its `stream` or `stream_file` (exactly one)."""
    stream = member(node, "stream", "array", False, scn_path)
    name = member(node, "stream_file", "string", False, scn_path)
    if (stream is None) == (name is None):
        if name is not None:
            fail(key(scn_path, "stream_file"), "give 'stream' or 'stream_file', not both")
        fail(key(scn_path, "stream"), "missing (or give 'stream_file')")
    if stream is not None:
        items = [(f"{scn_path}.stream[{i}]", rec) for i, rec in enumerate(stream)]
    else:
        items = _lines(scn_path, name, directory)
    recs = []
    last = {}
    for i, (where, rec) in enumerate(items):
        # inside a stream_file line the path starts again at the line's object
        inner = "" if stream is None else where
        try:
            r = _record(rec, i, dynamodb, inner)
            prev = last.get(r.shard)
            if prev is not None and seq_cmp(prev, r.seq) >= 0:
                fail(key(inner, "seq"), f"not above the previous record of shard {r.shard} "
                     "(shard order is ascending)")
        except LoadError as exc:
            if stream is None:  # "...stream_file F line N: seq: what"
                raise LoadError(f"{where}: {exc.path}" if exc.path else where, exc.msg) \
                    from None
            raise
        last[r.shard] = r.seq
        recs.append(r)
    s = Stream(recs)
    for r in recs:
        s.shards[r.shard].recs.append(r)
        s.shards[r.shard].records.append(r.record)
    return s
