# SPDX-License-Identifier: MIT
"""Leak and crash soak: LIVES engine lives (default 100,000), created and dropped in random
order, with host callbacks that raise at random; records and views kept past their callbacks
and touched after the engine is gone; configs dropped before their engines. Each raising
callback's exception must come out of the driving call (tick / add_shard / a completion),
a kept view must raise ViewExpiredError, and the process's resident size (/proc/self/statm)
must stay flat: measured after a warm-up (the first 10 % of the lives: the pool of live
engines, the kept views and Python's own caches reach their size), at the middle and at the
end, it may grow by at most BOUND_KB (default 4,096) from warm-up to end, and malloc's bytes
in use (mallinfo2) by at most HEAP_BOUND_KB (default 512). glibc's mmap
threshold is pinned at 128 KiB (mallopt) so that the engines' large blocks go back to the
system when freed: RSS then measures what is held, not heap fragmentation.

  python3 soak_lives.py [LIVES]   (make soak-python; BATCHPOINT_LIBRARY, PYTHONPATH=lib/bindings/python)
Prints one line: lives, seconds, RSS at warm-up / middle / end, raised and re-raised counts.
"""
import ctypes
import gc
import os
import random
import sys
import time

import batchpoint as bp

ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/s"
ROLE = "arn:aws:iam::123456789012:role/r"
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def pin_mmap_threshold():
    try:
        ctypes.CDLL(None).mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD (glibc)
    except (OSError, AttributeError):
        pass


class _MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                               "usmblks", "fsmblks", "uordblks", "fordblks",
                                               "keepcost")]


def heap_kb():
    """malloc's bytes in use (glibc mallinfo2: heap + mmapped blocks), None elsewhere."""
    try:
        f = ctypes.CDLL(None).mallinfo2
    except (OSError, AttributeError):
        return None
    f.restype = _MallInfo2
    m = f()
    return (m.uordblks + m.hblkhd) // 1024


def rss_kb():
    """Resident kB once Python's garbage is collected and malloc's free pages are handed
    back (glibc malloc_trim): what the process holds, not what its heap once reached."""
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE_KB


def measure():
    return rss_kb(), heap_kb()


class Boom(Exception):
    pass


class Host:
    def __init__(self, rng, kept):
        self.rng, self.kept, self.engine, self.raised, self.seq = rng, kept, None, 0, 100

    def _maybe_raise(self, p):
        if self.rng.random() < p:
            self.raised += 1
            raise Boom()

    def fetch(self, req):
        self._maybe_raise(0.15)
        k = self.rng.randrange(0, 8)
        recs = [bp.Record(str(self.seq + i), 1000, "k%d" % (i % 3), b"x" * i) for i in range(k)]
        self.seq += k
        self.engine.complete_fetch(req.req_id, 1000, 0, recs)

    def invoke(self, req):
        if self.rng.random() < 0.3:
            self.kept.append(req.records[0])  # a view kept past its callback
        self._maybe_raise(0.2)
        if self.rng.random() < 0.5:
            self.engine.complete_invoke(req.req_id, 1000, bp.InvokeResult.returned(b"{}"))

    def deliver(self, req):
        self._maybe_raise(0.5)

    def on_event(self, ev):
        self._maybe_raise(0.01)


def life(rng, pool, kept, counts):
    """Create one engine and drive it a little; it joins the pool of live engines."""
    cfg = bp.Config.from_json({"EventSourceArn": ARN, "FunctionName": "f",
                               "StartingPosition": "TRIM_HORIZON",
                               "BatchSize": rng.randrange(1, 5),
                               "ParallelizationFactor": rng.randrange(1, 3)})
    h = Host(rng, kept)
    # small buffers (the default reserves a ring of 20,000 record slots and more per shard,
    # ~2 MB: one life in 100 keeps it)
    caps = {} if rng.random() < 0.01 else {"max_buffered_records": 64,
                                            "max_buffered_bytes": 65536}
    e = bp.Engine(cfg, h, invoke_identity_arn=ROLE, seed=rng.randrange(1 << 30), **caps)
    h.engine = e
    del cfg  # the engine outlives its config object
    reraised = 0
    for step in range(rng.randrange(1, 4)):
        try:
            if step == 0:
                e.add_shard("shardId-000000000000")
            e.tick(1000 + step * 1000)
        except Boom:
            reraised += 1
        except bp.FatalError:
            pass  # the engine failed for good after a callback raised: it says so
    counts[0] += h.raised
    counts[1] += reraised
    pool.append(e if rng.random() < 0.5 else h)  # kept through the engine or the host


def drop(rng, pool):
    e = pool.pop(rng.randrange(len(pool)))
    if isinstance(e, Host):
        h, e = e, e.engine
        if rng.random() < 0.5:
            h.engine = None  # the host lets go first: the engine dies when dropped below
    if rng.random() < 0.5:
        e.close()
        e.close()  # idempotent


def main():
    lives = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    pin_mmap_threshold()
    bound = int(os.environ.get("BOUND_KB", 4096))
    heap_bound = int(os.environ.get("HEAP_BOUND_KB", 512))
    rng = random.Random(int(os.environ.get("SEED", 1)))
    pool, kept, counts = [], [], [0, 0]
    marks = {}
    t0 = time.monotonic()
    for i in range(lives):
        life(rng, pool, kept, counts)
        while len(pool) > 64 or (pool and rng.random() < 0.45):
            drop(rng, pool)
        if len(kept) > 256:  # touch the kept views: every one has expired
            for v in kept:
                try:
                    v.seq
                    raise AssertionError("a view was readable after its callback")
                except bp.ViewExpiredError:
                    pass
            kept.clear()
        mark = {max(lives // 10, 1): "warm", lives // 2: "middle", lives: "end"}.get(i + 1)
        if mark:  # every engine of the pool dropped (in random order), then measured
            while pool:
                drop(rng, pool)
            kept.clear()
            marks[mark] = measure()
    secs = time.monotonic() - t0
    (rss0, heap0), (rss1, heap1), (rss2, heap2) = (marks[k] for k in ("warm", "middle", "end"))
    print(f"soak_lives: {lives} engine lives in {secs:.1f} s; RSS kB warm-up {rss0} middle "
          f"{rss1} end {rss2} (growth {rss2 - rss0}, bound {bound}); malloc in use kB {heap0} "
          f"{heap1} {heap2} (bound {heap_bound}); callbacks raised {counts[0]}, re-raised from the driving call "
          f"{counts[1]}")
    if counts[1] == 0 or counts[1] > counts[0]:
        print("soak_lives: FAIL: raising callbacks were not re-raised")
        return 1
    if rss2 - rss0 > bound or (heap0 is not None and heap2 - heap0 > heap_bound):
        print("soak_lives: FAIL: memory grew beyond the bound")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
