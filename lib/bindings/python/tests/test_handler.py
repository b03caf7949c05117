# SPDX-License-Identifier: MIT
"""process_batch (bp_handler): success, partial failure, all failed, record views (Kinesis
seed event of test/data, generated Kinesis and DynamoDB events), expired views, bad events."""
import ctypes
import json
import os
import unittest

import batchpoint as bp
from batchpoint import _lib, errors

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
SEED = os.path.join(ROOT, "test", "data", "001_c18a7f979ab6fc2b.txt")
SEQ1 = "49590338271490256608559692538361571095921575989136588898"
SEQ2 = "49590338271490256608559692540925702759324208523137515618"


def seed_event():
    """The sample event of AWS's "Using Lambda with Kinesis" page (the first JSON block)."""
    with open(SEED, encoding="utf-8") as f:
        text = f.read()
    start = text.index("```\n{") + 4
    return text[start:text.index("\n```", start)]


def generated(n=4):
    recs = [bp.Record("%d" % (100 + i), 1700000000000 + i, "pk-%d" % i,
                      json.dumps({"i": i}).encode()) for i in range(n)]
    return bp.encode_event(recs, "shardId-000000000001")


class HandlerTest(unittest.TestCase):
    def test_seed_event_all_succeed(self):
        seen = []

        def handle(r):
            # the library's struct_size equals our mirror's size (bp_handler.h, member for member)
            self.assertEqual(r._rec().struct_size, ctypes.sizeof(_lib.bp_handler_record))
            seen.append((r.index, r.sequence_number, r.partition_key, r.data, r.source,
                         r.event_id, r.aws_region, r.arrival_ms, r.new_image_json))

        self.assertEqual(bp.process_batch(seed_event(), handle), {"batchItemFailures": []})
        self.assertEqual(seen, [
            (0, SEQ1, "1", b"Hello, this is a test.", "kinesis",
             "shardId-000000000006:" + SEQ1, "us-east-2", 1545084650987, None),
            (1, SEQ2, "1", b"This is only a test.", "kinesis",
             "shardId-000000000006:" + SEQ2, "us-east-2", 1545084711166, None)])

    def test_partial_failure(self):
        def handle(r):
            if r.json()["i"] % 2:
                raise ValueError("odd %d" % r.json()["i"])

        p = bp.BatchProcessor()
        resp = p.process(generated(), handle)
        self.assertEqual(resp, {"batchItemFailures": [{"itemIdentifier": "101"},
                                                      {"itemIdentifier": "103"}]})
        self.assertEqual([(i, s, str(e)) for i, s, e in p.exceptions],
                         [(1, "101", "odd 1"), (3, "103", "odd 3")])
        # the processor is reusable
        self.assertEqual(p.process(generated(2), lambda r: None), {"batchItemFailures": []})
        p.close()

    def test_stop_at_first_failure(self):
        calls = []

        def handle(r):
            calls.append(r.index)
            if r.index == 1:
                raise RuntimeError("x")

        resp = bp.process_batch(generated(), handle, stop_at_first_failure=True)
        self.assertEqual(calls, [0, 1])
        self.assertEqual([f["itemIdentifier"] for f in resp["batchItemFailures"]],
                         ["101", "102", "103"])

    def test_all_failed_raises(self):
        def handle(r):
            raise KeyError(r.sequence_number)

        with self.assertRaises(errors.BatchFailedError) as cm:
            bp.process_batch(seed_event(), handle)
        self.assertEqual(cm.exception.response, {"batchItemFailures": [
            {"itemIdentifier": SEQ1}, {"itemIdentifier": SEQ2}]})
        self.assertEqual(len(cm.exception.exceptions), 2)
        self.assertIsInstance(cm.exception.exceptions[0][2], KeyError)

    def test_empty_event(self):
        self.assertEqual(bp.process_batch({"Records": []}, lambda r: 1 / 0),
                         {"batchItemFailures": []})

    def test_dynamodb(self):
        arn = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024-01-01T00:00:00.000"
        ddb = {"Keys": {"id": {"S": "k1"}}, "NewImage": {"id": {"S": "k1"}, "n": {"N": "5"}},
               "SequenceNumber": "111", "SizeBytes": 26, "StreamViewType": "NEW_IMAGE"}
        rec = bp.Record("111", 1700000000000, event_id="e1", event_name="INSERT",
                        dynamodb=json.dumps(ddb))
        ev = bp.encode_event([rec], event_source_arn=arn)
        seen = []

        def handle(r):
            seen.append((r.source, r.sequence_number, json.loads(r.new_image_json),
                         json.loads(r.keys_json), r.old_image_json, r.event_name,
                         r.stream_view_type, r.size_bytes, r.data))

        self.assertEqual(bp.process_batch(ev, handle), {"batchItemFailures": []})
        self.assertEqual(seen, [("dynamodb", "111", ddb["NewImage"], ddb["Keys"], None,
                                 "INSERT", "NEW_IMAGE", 26, None)])

    def test_view_expires(self):
        kept = []
        bp.process_batch(seed_event(), kept.append)
        with self.assertRaises(bp.ViewExpiredError):
            kept[0].data
        self.assertIn("expired", repr(kept[0]))

    def test_malformed_event(self):
        with self.assertRaises(errors.InvalidJsonError):
            bp.process_batch("not json", lambda r: None)
        bad = json.loads(seed_event())
        bad["Records"][1]["kinesis"]["data"] = "!!"
        with self.assertRaises(errors.InvalidRecordError) as cm:
            bp.process_batch(bad, lambda r: None)
        self.assertIn("Records[1]", cm.exception.message)

    def test_base_exception_propagates(self):
        class Stop(BaseException):
            pass

        def handle(r):
            raise Stop()

        with self.assertRaises(Stop):
            bp.process_batch(seed_event(), handle)

    def test_decorator(self):
        h = bp.batch_handler(lambda r: None)
        self.assertEqual(h(json.loads(seed_event()), None), {"batchItemFailures": []})


if __name__ == "__main__":
    unittest.main()
