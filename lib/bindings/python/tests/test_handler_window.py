# SPDX-License-Identifier: MIT
"""The function side beyond plain batches: DynamoDB images as Python values (the library's
typed reader against a pure-Python oracle), tumbling windows (state in, state out), and the
binding's answers compared line by line with the C handler's (test/handler/handler_ref,
when BATCHPOINT_HANDLER_REF names it) on generated Kinesis, DynamoDB, window and malformed
events."""
import base64
import json
import os
import subprocess
import tempfile
import unittest
from decimal import Decimal

import batchpoint as bp
from batchpoint import errors

KIN_ARN = "arn:aws:kinesis:us-east-2:123456789012:stream/s"
DDB_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024-01-01T00:00:00.000"
SHARD = "shardId-000000000003"


def typed(v):
    """Oracle: one typed DynamoDB JSON value as Python (boto3 TypeDeserializer's choices)."""
    (t, x), = v.items()
    return {"S": lambda: x, "N": lambda: Decimal(x), "B": lambda: base64.b64decode(x),
            "BOOL": lambda: x, "NULL": lambda: None,
            "M": lambda: {k: typed(e) for k, e in x.items()},
            "L": lambda: [typed(e) for e in x], "SS": lambda: set(x),
            "NS": lambda: {Decimal(e) for e in x},
            "BS": lambda: {base64.b64decode(e) for e in x}}[t]()


def kinesis_event(payloads, first=0):
    recs = [bp.Record(str(1000 + first + i), 1700000000000 + i, "pk-%d" % (i % 3), p)
            for i, p in enumerate(payloads)]
    return json.loads(bp.encode_event(recs, SHARD, event_source_arn=KIN_ARN))


def ddb_event(images):
    recs = []
    for i, img in enumerate(images):
        d = {"Keys": {"id": img["id"]}, "SequenceNumber": str(500 + i), "SizeBytes": 40,
             "StreamViewType": "NEW_AND_OLD_IMAGES"}
        if img is not None:
            d["NewImage"] = img
        recs.append(bp.Record(str(500 + i), 1700000000000, event_id="ev%d" % i,
                              event_name="MODIFY", dynamodb=json.dumps(d)))
    return json.loads(bp.encode_event(recs, event_source_arn=DDB_ARN))


def windowed(event, state, final=False):
    event.update({"window": {"start": "2024-01-01T00:00:00Z", "end": "2024-01-01T00:01:00Z"},
                  "state": state, "shardId": SHARD, "eventSourceARN": KIN_ARN,
                  "isFinalInvokeForWindow": final, "isWindowTerminatedEarly": False})
    return event


RICH = {"id": {"S": "k\u00e9\\"}, "n": {"N": "-1.50E3"}, "b": {"B": "AAEC/w=="},
        "t": {"BOOL": True}, "f": {"BOOL": False}, "z": {"NULL": True},
        "m": {"M": {"inner": {"L": [{"N": "1"}, {"S": "two"}, {"M": {}}]}}},
        "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]}, "bs": {"BS": ["AQ==", "Ag=="]},
        "l": {"L": []}}


class DynamoDBImagesTest(unittest.TestCase):
    def test_images_as_python_values(self):
        imgs = [RICH, {"id": {"S": "k2"}, "fail": {"BOOL": True}}]
        seen = []
        bp.process_batch(ddb_event(imgs), lambda r: seen.append((r.keys, r.new_image,
                                                                 r.old_image)))
        self.assertEqual(seen, [({"id": typed(i["id"])}, {k: typed(v) for k, v in i.items()},
                                 None) for i in imgs])
        self.assertEqual(seen[0][1]["n"], Decimal("-1500"))
        self.assertEqual(seen[0][1]["b"], b"\x00\x01\x02\xff")

    def test_kinesis_has_no_images(self):
        seen = []
        bp.process_batch(kinesis_event([b"x"]), lambda r: seen.append((r.keys, r.new_image)))
        self.assertEqual(seen, [(None, None)])

    def test_bad_attribute_fails_the_record(self):
        bad = {"id": {"S": "k"}, "x": {"B": "not base64!"}}
        resp = bp.process_batch(ddb_event([bad, {"id": {"S": "ok"}}]), lambda r: r.new_image)
        self.assertEqual(resp, {"batchItemFailures": [{"itemIdentifier": "500"}]})


class WindowTest(unittest.TestCase):
    def test_state_in_state_out(self):
        def total(record, window):
            window.state["sum"] = window.state.get("sum", 0) + record.json()["v"]
            window.state.setdefault("seqs", []).append(record.sequence_number)

        ev = windowed(kinesis_event([b'{"v":1}', b'{"v":2}', b'{"v":4}']), {"sum": 10})
        resp = bp.process_window(ev, total)
        self.assertEqual(resp, {"state": {"sum": 17, "seqs": ["1000", "1001", "1002"]},
                                "batchItemFailures": []})
        # the next invocation of the window gets that state back
        ev2 = windowed(kinesis_event([b'{"v":8}'], 3), resp["state"])
        self.assertEqual(bp.process_window(ev2, total)["state"]["sum"], 25)

    def test_window_fields_and_final_hook(self):
        got = []

        def final(window):
            got.append((window.start_ms, window.end_ms, window.is_final, window.shard_id,
                        window.event_source_arn, dict(window.state)))
            if window.is_final:
                window.state = {}

        ev = windowed({"Records": []}, {"sum": 3}, final=True)
        resp = bp.process_window(ev, lambda r, w: None, on_window=final)
        self.assertEqual(got, [(1704067200000, 1704067260000, True, SHARD, KIN_ARN,
                                {"sum": 3})])
        self.assertEqual(resp, {"state": {}, "batchItemFailures": []})

    def test_failures_and_state_together(self):
        def h(record, window):
            window.state["n"] = window.state.get("n", 0) + 1
            if b"FAIL" in record.data:
                raise ValueError("marked")

        ev = windowed(kinesis_event([b"ok", b"FAIL", b"ok"]), {})
        self.assertEqual(bp.process_window(ev, h), {
            "state": {"n": 3}, "batchItemFailures": [{"itemIdentifier": "1001"}]})

    def test_unchanged_state_is_the_events_own(self):
        ev = windowed(kinesis_event([b"a"]), {"k": [1, 2.50]})
        p = bp.BatchProcessor()
        text = json.dumps(ev)
        resp = p.process(text, lambda r: None)
        self.assertEqual(resp, {"state": {"k": [1, 2.5]}, "batchItemFailures": []})
        self.assertIsInstance(p.window, bp.Window)
        p.close()

    def test_plain_event_has_no_window(self):
        seen = []
        resp = bp.process_window(kinesis_event([b"a"]), lambda r, w: seen.append(w))
        self.assertEqual((seen, resp), ([None], {"batchItemFailures": []}))

    def test_state_must_be_an_object(self):
        def bad(window):
            window.state = [1]
        with self.assertRaises(TypeError):
            bp.process_window(windowed({"Records": []}, {}), lambda r, w: None, on_window=bad)


def marked(record):
    """test/handler's "marked failing" rule (examples/lambda_runtime/marked.c), in Python."""
    if record.source == "kinesis":
        if b'"fail":true' in record.data or b"FAIL" in record.data:
            raise ValueError("marked")
        return
    img = record.new_image
    if img is not None and img.get("fail") is True:
        raise ValueError("marked")


def answer(event_text, **options):
    """The binding's line for one event, in handler_ref's format."""
    try:
        resp = bp.process_batch(event_text, marked, **options)
    except errors.BatchFailedError:
        return "error FullBatchFailureError"
    except errors.BatchpointError as exc:
        return f"error {exc.name}: {exc.message}".replace("\n", " ")
    return json.dumps(resp, separators=(",", ":"))


def corpus():
    evs = [kinesis_event([b'{"a":1}', b'{"fail":true}', b"FAIL", b"ok"]),
           kinesis_event([b"FAIL", b"FAIL"]), kinesis_event([]),
           kinesis_event([b"x" * 300, b'{"fail":false}']),
           ddb_event([RICH, {"id": {"S": "2"}, "fail": {"BOOL": True}},
                      {"id": {"S": "3"}, "fail": {"S": "true"}}]),
           ddb_event([{"id": {"S": "1"}, "fail": {"BOOL": True}}]),
           windowed(kinesis_event([b"ok", b"FAIL"]), {"sum": 1, "s": "\u00e9"}),
           windowed({"Records": []}, {}, final=True)]
    texts = [json.dumps(e, separators=(",", ":")) for e in evs]
    bad = json.loads(texts[0])
    bad["Records"][2]["kinesis"]["data"] = "!!"
    texts += ["not json", "[]", json.dumps(bad), '{"Records":[{"eventSource":"aws:sqs"}]}']
    return texts


class CompareWithCTest(unittest.TestCase):
    def test_same_answers_as_handler_ref(self):
        ref = os.environ.get("BATCHPOINT_HANDLER_REF")
        if not ref:
            self.skipTest("BATCHPOINT_HANDLER_REF not set (make check-python sets it)")
        texts = corpus()
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write("\n".join(texts) + "\n")
        try:
            for flag, opts in (([], {}), (["--stop-at-first-failure"],
                                          {"stop_at_first_failure": True})):
                want = subprocess.run([ref] + flag + [f.name], check=True, capture_output=True,
                                      text=True).stdout.splitlines()
                got = [answer(t, **opts) for t in texts]
                self.assertEqual(len(want), len(texts))
                for i, (g, w) in enumerate(zip(got, want)):
                    self.assertEqual(g, w, f"event {i} {flag}")
        finally:
            os.unlink(f.name)


if __name__ == "__main__":
    unittest.main()
