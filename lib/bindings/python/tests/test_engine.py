# SPDX-License-Identifier: MIT
"""Engine driven by a Python host: records in, invocations out, completions inside and
after callbacks, a raising callback re-raised, borrowed views expiring, metrics."""
import json
import unittest

import batchpoint as bp
from batchpoint import errors

ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/s"
ROLE = "arn:aws:iam::123456789012:role/r"
SHARD = "shardId-000000000000"


def config(**extra):
    body = {"EventSourceArn": ARN, "FunctionName": "f", "StartingPosition": "TRIM_HORIZON",
            "BatchSize": 2}
    body.update(extra)
    return bp.Config.from_json(body)


def records(n, first=1):
    return [bp.Record(str(i), 1000, "pk", b"payload-%d" % i) for i in range(first, first + n)]


class Host:
    """Serves `recs` on the first fetch; answers invocations at once unless deferred."""

    def __init__(self, recs, sync=True):
        self.recs, self.sync = list(recs), sync
        self.engine = None
        self.fetched = False
        self.invokes, self.pending, self.events, self.kept = [], [], [], []

    def fetch(self, req):
        if self.fetched:
            return
        self.fetched = True
        self.engine.complete_fetch(req.req_id, 1000, 0, self.recs)

    def invoke(self, req):
        self.invokes.append([(r.seq, r.data) for r in req.records])
        self.kept.append((req, req.records[0]))
        if self.sync:
            self.engine.complete_invoke(req.req_id, 1000, bp.InvokeResult.returned(b"{}"))
        else:
            self.pending.append((req.req_id, json.loads(req.payload)))

    def deliver(self, req):
        pass

    def on_event(self, ev):
        self.events.append(ev.type)


def engine_for(host, **cfg):
    e = bp.Engine(config(**cfg), host, invoke_identity_arn=ROLE, seed=1)
    host.engine = e
    e.add_shard(SHARD)
    return e


class EngineTest(unittest.TestCase):
    def test_records_in_invocations_out_inside_callbacks(self):
        h = Host(records(3))
        with engine_for(h) as e:
            e.tick(1000)
            e.tick(1000)
            self.assertEqual(h.invokes, [[("1", b"payload-1"), ("2", b"payload-2")],
                                         [("3", b"payload-3")]])
            self.assertEqual(e.checkpoint(SHARD), "3")
            m = e.metrics()
            self.assertEqual((m["polled_event_count"], m["invoked_event_count"],
                              m["invocations"]), (3, 3, 2))
            self.assertIn("invoke", h.events)
            self.assertIn("checkpoint", h.events)

    def test_fetch_from_a_record_batch(self):
        batch = bp.RecordBatch(seq=[str(i) for i in range(1, 8)], arrival_ms=[1000] * 7,
                               partition_key=["pk"] * 7,
                               data=[b"payload-%d" % i for i in range(1, 8)])

        class BatchHost(Host):
            def fetch(self, req):  # max_records at a time, slices of the prepared array
                k = getattr(self, "k", 0)
                self.k = min(k + req.max_records, len(batch))
                self.engine.complete_fetch(req.req_id, 1000, 0, batch[k:self.k])

        h = BatchHost([])
        with engine_for(h, BatchSize=3) as e:
            for _ in range(6):
                e.tick(1000)
            self.assertEqual([s for inv in h.invokes for s, _ in inv],
                             [str(i) for i in range(1, 8)])
            self.assertEqual(h.invokes[0][0], ("1", b"payload-1"))
            self.assertEqual(e.checkpoint(SHARD), "7")

    def test_completion_after_the_callback(self):
        h = Host(records(2), sync=False)
        with engine_for(h) as e:
            e.tick(1000)
            self.assertEqual(len(h.pending), 1)
            self.assertIsNone(e.checkpoint(SHARD))
            req_id, event = h.pending.pop()
            self.assertEqual(len(event["Records"]), 2)
            self.assertEqual(event["Records"][0]["kinesis"]["sequenceNumber"], "1")
            e.complete_invoke(req_id, 1500, bp.InvokeResult.returned(b"{}"))
            self.assertEqual(e.checkpoint(SHARD), "2")
            with self.assertRaises(errors.UnknownRequestError):
                e.complete_invoke(req_id, 1500)

    def test_function_error_retries(self):
        h = Host(records(1), sync=False)
        with engine_for(h, MaximumRetryAttempts=0,
                        DestinationConfig=None) as e:
            e.tick(1000)
            req_id, _ = h.pending.pop()
            e.complete_invoke(req_id, 1100, bp.InvokeResult.error("Unhandled"))
            self.assertEqual(e.metrics()["failed_invoke_event_count"], 1)
            self.assertEqual(e.metrics()["dropped_event_count"], 1)

    def test_views_expire_after_the_callback(self):
        h = Host(records(1))
        with engine_for(h) as e:
            e.tick(1000)
            req, rec = h.kept[0]
            self.assertEqual(req.count, 1)  # plain values stay
            with self.assertRaises(bp.ViewExpiredError):
                rec.seq
            with self.assertRaises(bp.ViewExpiredError):
                req.payload
            with self.assertRaises(bp.ViewExpiredError):
                len(req.records)

    def test_raising_callback_is_reraised_and_engine_fails(self):
        class Boom(Exception):
            pass

        class Raising(Host):
            def invoke(self, req):
                raise Boom("from invoke")

        h = Raising(records(1))
        e = engine_for(h)
        with self.assertRaises(Boom) as cm:
            e.tick(1000)
        self.assertEqual(str(cm.exception), "from invoke")
        with self.assertRaises(errors.CallbackFailureError):
            e.tick(1001)
        e.close()
        e.close()

    def test_raising_on_event_is_reraised(self):
        class Raising(Host):
            def on_event(self, ev):
                raise KeyError(ev.type)

        h = Raising(records(1))
        e = bp.Engine(config(), h, invoke_identity_arn=ROLE)
        h.engine = e
        with self.assertRaises(KeyError) as cm:
            e.add_shard(SHARD)  # the shard_started event runs inside add_shard
        self.assertEqual(cm.exception.args, ("shard_started",))
        with self.assertRaises(errors.CallbackFailureError):
            e.tick(1000)
        e.close()

    def test_wouldblock_asks_again(self):
        class Busy(Host):
            busy = 1

            def invoke(self, req):
                if self.busy:
                    self.busy -= 1
                    return bp.WOULDBLOCK
                return super().invoke(req)

        h = Busy(records(1))
        with engine_for(h) as e:
            e.tick(1000)
            self.assertEqual(h.invokes, [])
            e.tick(1050)
            self.assertEqual(h.invokes, [])
            e.tick(1100)
            self.assertEqual(len(h.invokes), 1)

    def test_driving_call_inside_callback_is_refused(self):
        seen = []

        class Nested(Host):
            def invoke(self, req):
                try:
                    self.engine.tick(1000)
                except errors.InCallbackError as exc:
                    seen.append(exc.code)
                super().invoke(req)

        h = Nested(records(1))
        with engine_for(h) as e:
            e.tick(1000)
        self.assertEqual(seen, [-15])

    def test_closed_engine_raises(self):
        h = Host(records(1))
        e = engine_for(h)
        e.close()
        with self.assertRaises(errors.InvalidStateError):
            e.tick(1000)

    def test_bad_option_and_bad_config(self):
        with self.assertRaises(TypeError):
            bp.Engine(config(), Host([]), no_such_option=1)
        with self.assertRaises(errors.InvalidArgumentError):
            bp.Engine(config(), Host([]))  # Kinesis needs invoke_identity_arn

    def test_engines_dropped_in_any_order(self):
        engines = []
        for i in range(50):
            h = Host(records(2))
            engines.append(engine_for(h))
            engines[-1].tick(1000)
        for e in engines[::2] + engines[1::2]:
            del e
        engines.clear()


if __name__ == "__main__":
    unittest.main()
