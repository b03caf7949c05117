# SPDX-License-Identifier: MIT
"""Benchmarks of the Python binding in the peers' line format (peer=batchpoint-python), on
the inputs the peers build (/work/shared/bench/peers README: xorshift32 from 0x9E3779B9,
generated here, nothing imported from there), so the lines sit beside the peers':

  encode-kinesis-event      N=10,000 raw 100-byte buffers + metadata strings (str) -> the
                            Lambda event bytes: str -> UTF-8 and seconds -> ms conversions,
                            one bp_codec_encode_event crossing (Codec.encode_columns)
  encode-kinesis-event-b64  the same with data already base64 text
  filter-match-json         N=10,000 JSON texts of 200 bytes, the 3-field pattern: one
                            bp_filter_match_json crossing per text (Filter.match_many)
  engine-noop-bs100-pf1     the engine with a no-op Python host (fetch and invoke complete
                            inside the callbacks), BatchSize 100: records/s; n records per
                            pass prepared untimed as a RecordBatch (bench_engine.c's work)

  python3 lib/bindings/python/bench.py [--n=10000] [--size=100] [--engine-n=100000]
Environment: BENCH_RUNS (default 9), BENCH_WARMUP (default 2), BATCHPOINT_LIBRARY.
Each work first checks its result (the encoded text equals a pure-Python encoding; the
filter finds the generator's count; the engine invokes every record once) and exits 1 with
"sanity check failed: ..." otherwise.
"""
import base64
import hashlib
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import batchpoint as bp  # noqa: E402

PEER = "batchpoint-python"
SEED = 0x9E3779B9
SEQ_BASE = 49590338271490256608559692538361571095921575989136588898
SHARD = "shardId-000000000006"
ROLE = "arn:aws:iam::123456789012:role/lambda-role"
STREAM = "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"
PATTERN = {"type": ["order"], "region": [{"prefix": "eu-"}],
           "amount": [{"numeric": [">=", 10, "<", 150]}]}


def args():
    o = {"n": 10000, "size": 100, "filter-size": 200, "engine-n": 100000, "check": 0}
    for a in sys.argv[1:]:
        k, _, v = a.lstrip("-").partition("=")
        if k not in o:
            sys.exit(f"unknown argument {a!r}; accepted: " + " ".join(f"--{k}=" for k in o))
        o[k] = int(v or 1)
    o["runs"] = int(os.environ.get("BENCH_RUNS", 9))
    o["warmup"] = int(os.environ.get("BENCH_WARMUP", 2))
    return o


def check(cond, what):
    if not cond:
        sys.stderr.write(f"sanity check failed: {what}\n")
        sys.exit(1)


def line(work, n, nbytes, ms, extra=""):
    mbs = f"{nbytes / (1 << 20) / (ms / 1000):.1f}" if nbytes > 0 else "-"
    print(f"peer={PEER} work={work} n={n} bytes={nbytes} ms={ms:.3f} mb_s={mbs} "
          f"rec_s={round(n / (ms / 1000))}{extra}", flush=True)


def bench(o, fn):
    """Median ms of o['runs'] timed calls after o['warmup'] untimed ones; fn(k) per run."""
    k = 0
    for _ in range(o["warmup"]):
        fn(k)
        k += 1
    runs = []
    for _ in range(o["runs"]):
        t0 = time.perf_counter_ns()
        fn(k)
        runs.append((time.perf_counter_ns() - t0) / 1e6)
        k += 1
    return statistics.median(runs)


def xorshift32(seed=SEED):
    s = seed

    def nxt():
        nonlocal s
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        return s
    return nxt


# ---- encode-kinesis-event ----

def encode_inputs(n, size):
    nxt = xorshift32()
    raw = bytes(nxt() & 0xFF for _ in range(n * size))
    return {"data": [raw[i * size:(i + 1) * size] for i in range(n)],
            "seq": [str(SEQ_BASE + i * 1000) for i in range(n)],
            "pk": [f"pk-{i % 16}" for i in range(n)],
            # epoch seconds, a millisecond fraction never .000
            "arrival": [((1545084650 + i // 999) * 1000 + i % 999 + 1) / 1000 for i in range(n)]}


def python_encode(inp):
    """The oracle: the event as Lambda's JSON, built with json (compact)."""
    recs = [{"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": inp["pk"][i],
                         "sequenceNumber": s,
                         "data": base64.b64encode(inp["data"][i]).decode("ascii"),
                         "approximateArrivalTimestamp": inp["arrival"][i]},
             "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": f"{SHARD}:{s}",
             "eventName": "aws:kinesis:record", "invokeIdentityArn": ROLE,
             "awsRegion": "us-east-2", "eventSourceARN": STREAM}
            for i, s in enumerate(inp["seq"])]
    return json.dumps({"Records": recs}, separators=(",", ":")).encode()


def bench_encode(o):
    inp = encode_inputs(o["n"], o["size"])
    codec = bp.Codec(STREAM, ROLE)
    b64 = [base64.b64encode(d).decode("ascii") for d in inp["data"]]

    def from_raw(_k=0):
        return codec.encode_columns(SHARD, seq=inp["seq"], partition_key=inp["pk"],
                                    data=inp["data"],
                                    arrival_ms=[round(a * 1000) for a in inp["arrival"]])

    def from_b64(_k=0):
        return codec.encode_columns(SHARD, seq=inp["seq"], partition_key=inp["pk"], data=b64,
                                    data_base64=True,
                                    arrival_ms=[round(a * 1000) for a in inp["arrival"]])

    text = from_raw()
    # the same JSON value; the text differs only where batchpoint writes three fraction
    # digits always (SEMANTICS.md §1.4: 1545084650.010, json.dumps 1545084650.01)
    check(json.loads(text) == json.loads(python_encode(inp)),
          "encode: the binding's event differs from json.dumps'")
    check(text == from_b64(), "encode: the base64 variant differs")
    if o["check"]:
        print(f"sha256={hashlib.sha256(text).hexdigest()} bytes={len(text)} n={o['n']} "
              f"size={o['size']}")
    line("encode-kinesis-event", o["n"], len(text), bench(o, from_raw))
    line("encode-kinesis-event-b64", o["n"], len(text), bench(o, from_b64))


# ---- filter-match-json ----

def padded(obj, size):
    head = json.dumps(dict(obj, pad=""), separators=(",", ":"))
    check(len(head) <= size, f"record {obj['id']} fits in {size} bytes")
    return head[:-2] + "x" * (size - len(head)) + '"}'


def filter_inputs(n, size):
    types = ["order", "order", "refund", "order"]
    regions = ["eu-west-1", "eu-central-1", "us-east-1", "eu-north-1", "ap-south-1",
               "eu-south-2"]
    nxt = xorshift32()
    out, matching = [], 0
    for i in range(n):
        r = nxt()
        t, reg, amount = types[r % 4], regions[(r >> 8) % 6], ((r >> 16) % 20000) / 100
        amount = int(amount) if amount == int(amount) else amount  # as JSON.stringify
        out.append(padded({"id": i, "type": t, "region": reg, "amount": amount,
                           "user": f"u{i % 97}"}, size).encode())
        matching += t == "order" and reg.startswith("eu-") and 10 <= amount < 150
    return out, matching


def bench_filter(o):
    n, size = o["n"], o["filter-size"]
    texts, matching = filter_inputs(n, size)
    check(all(len(t) == size for t in texts), "filter: record size")
    f = bp.Filter(PATTERN)
    got = sum(f.match_many(texts))
    check(got == matching, f"filter: {got} matches, expected {matching}")
    if n == 10000:
        check(got == 3585, f"filter: {got} matches, node-filter.js finds 3585")
    line("filter-match-json", n, n * size, bench(o, lambda _k: f.match_many(texts)),
         f" matched={got}")


# ---- engine-noop-bs100-pf1 ----

class NoopHost:
    """Hands the pass's records over max_records at a time; every invocation succeeds."""

    def __init__(self):
        self.engine, self.batch, self.next, self.invoked, self.invocations = None, None, 0, 0, 0
        self.ok = bp.InvokeResult.returned(b"")

    def fetch(self, req):
        k = self.next
        self.next = min(k + req.max_records, len(self.batch))
        self.engine.complete_fetch(req.req_id, 0, 0, self.batch[k:self.next])

    def invoke(self, req):
        self.invocations += 1
        self.invoked += req.count
        self.engine.complete_invoke(req.req_id, 0, self.ok)

    def deliver(self, req):
        raise AssertionError("nothing fails, so nothing is delivered")


def bench_engine(o):
    n = o["engine-n"]
    cfg = bp.Config.from_json({"EventSourceArn": STREAM, "FunctionName": "bench-noop",
                               "StartingPosition": "TRIM_HORIZON", "BatchSize": 100,
                               "ParallelizationFactor": 1})
    h = NoopHost()
    e = bp.Engine(cfg, h, invoke_identity_arn=ROLE,
                  mapping_uuid="00000000-0000-4000-8000-000000000001")
    h.engine = e
    e.add_shard(SHARD)
    raw = bytes(range(100))
    passes = []

    def prepare(k):  # untimed: pass k's n new records (sequence numbers above the last)
        base = SEQ_BASE + k * n * 10
        return bp.RecordBatch(seq=[str(base + i * 10) for i in range(n)],
                              partition_key=[f"pk-{i}" for i in range(n)],
                              data=[raw] * n, arrival_ms=[1545084650000] * n)

    for k in range(o["warmup"] + o["runs"]):
        h.batch, h.next, h.invoked = prepare(k), 0, 0
        t0 = time.perf_counter_ns()
        now = 0
        while h.invoked < n:
            e.tick(now)
            d = e.next_deadline()
            check(d is not None, f"engine: stopped with {h.invoked} of {n} invoked")
            now = max(now, d)
        ms = (time.perf_counter_ns() - t0) / 1e6
        check(h.invoked == n, f"engine: {h.invoked} records invoked of {n}")
        if k >= o["warmup"]:
            passes.append(ms)
    check(e.checkpoint(SHARD) == str(SEQ_BASE + (o["warmup"] + o["runs"] - 1) * n * 10
                                     + (n - 1) * 10), "engine: final checkpoint")
    inv = h.invocations // (o["warmup"] + o["runs"])
    e.close()
    line("engine-noop-bs100-pf1", n, 0, statistics.median(passes), f" invocations={inv}")


def main():
    o = args()
    check(o["runs"] >= 7, "BENCH_RUNS >= 7")
    bench_encode(o)
    bench_filter(o)
    bench_engine(o)


if __name__ == "__main__":
    main()
