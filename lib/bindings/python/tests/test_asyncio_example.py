# SPDX-License-Identifier: MIT
"""examples/asyncio_consumer.py run as a test: a simulated stream and function with async
delays; every record processed exactly once, in order per partition key, invocations
overlapping (ParallelizationFactor 3), the checkpoint at the last record; a function that
raises (retried, then processed once); a host callback that raises (re-raised from the
driver, nothing lost or crashed)."""
import asyncio
import importlib.util
import os
import unittest

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "examples", "asyncio_consumer.py")
spec = importlib.util.spec_from_file_location("asyncio_consumer", EXAMPLE)
ex = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ex)

N, KEYS = 120, 5


async def produce(stream, host):
    for i in range(N):
        stream.put(f"k{i % KEYS}", b'{"i":%d}' % i, host.now_ms())
        if i % 7 == 0:
            await asyncio.sleep(0.002)


class AsyncioExampleTest(unittest.TestCase):
    def check_delivery(self, stream, function):
        ok = function.processed
        self.assertEqual(sorted(int(s) for _, s in ok), [int(r.seq) for r in stream.records])
        self.assertEqual(len(ok), N)  # exactly once
        for k in range(KEYS):
            mine = [int(s) for key, s in ok if key == f"k{k}"]
            self.assertEqual(mine, sorted(mine), f"k{k} out of order")
            self.assertEqual(len(mine), N // KEYS)

    def test_every_record_once_in_order_per_key(self):
        stream, function = ex.SimStream(seed=3), ex.SimFunction(seed=4)
        checkpoint, metrics = asyncio.run(ex.consume(stream, function, produce, N))
        self.check_delivery(stream, function)
        self.assertEqual(checkpoint, stream.records[-1].seq)
        self.assertGreater(function.max_running, 1)  # the lanes really overlapped
        self.assertEqual(metrics["invoked_event_count"], N)
        self.assertEqual(metrics["failed_invoke_event_count"], 0)

    def test_raising_function_is_retried(self):
        class Flaky(ex.SimFunction):
            def check(self, event):
                # every batch holding a multiple of 9 fails on its first attempt
                seqs = tuple(r["kinesis"]["sequenceNumber"] for r in event["Records"])
                if any(int(s) % 9 == 0 for s in seqs) and seqs not in self.failed:
                    self.failed.add(seqs)
                    raise RuntimeError("flaky %s" % (seqs,))

        stream, function = ex.SimStream(seed=5), Flaky(seed=6)
        function.failed = set()
        checkpoint, metrics = asyncio.run(ex.consume(stream, function, produce, N,
                                                     backoff_base_ms=5, backoff_cap_ms=20))
        self.check_delivery(stream, function)
        self.assertEqual(checkpoint, stream.records[-1].seq)
        self.assertGreater(len(function.failed), 3)
        self.assertGreater(metrics["failed_invoke_event_count"], 0)
        self.assertEqual(stream.dead_letters, [])

    def test_raising_invoke_callback_reraised(self):
        class Bug(Exception):
            pass

        class BuggyHost(ex.AsyncHost):
            def invoke(self, req):
                self.calls += 1
                if self.calls == 3:
                    raise Bug("host bug")
                super().invoke(req)

        BuggyHost.calls = 0
        stream, function = ex.SimStream(seed=7), ex.SimFunction(seed=8)
        with self.assertRaises(Bug):
            asyncio.run(ex.consume(stream, function, produce, N, host_class=BuggyHost))
        self.assertLess(len(function.processed), N)


if __name__ == "__main__":
    unittest.main()
