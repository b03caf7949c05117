# SPDX-License-Identifier: MIT
"""Filter.matches on records: the RecordView an engine callback holds, Record, process_batch's
HandlerRecord, Lambda record dicts (Kinesis, DynamoDB), GetRecords dicts, Record-named dicts;
each compared with the same record's filter view matched as JSON text."""
import base64
import json
import unittest

import batchpoint as bp
from batchpoint import errors

ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/s"
ROLE = "arn:aws:iam::123456789012:role/r"
SHARD = "shardId-000000000007"
DDB_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024-01-01T00:00:00.000"

DATA = bp.Filter({"data": {"kind": ["order"], "n": [{"numeric": [">", 2]}]}})
PKEY = bp.Filter({"kinesis": {"partitionKey": [{"prefix": "eu-"}]}})
SOURCE = bp.Filter({"eventSourceARN": [ARN]})

PAYLOADS = [b'{"kind":"order","n":3}', b'{"kind":"order","n":1}', b'{"kind":"refund","n":9}',
            b"not json", b'{"kind":"order","n":7}']


def recs():
    return [bp.Record(str(100 + i), 1700000000000 + i, ("eu-" if i % 2 else "us-") + str(i), p)
            for i, p in enumerate(PAYLOADS)]


def expected(f, rec_dicts, reads_data):
    """The oracle: each Lambda record's filter view built by hand, matched as JSON text (a
    payload that is not JSON drops the record when a pattern reads `data`)."""
    out = []
    for d in rec_dicts:
        view = dict(d)
        raw = base64.b64decode(d["kinesis"]["data"])
        try:
            view["data"] = json.loads(raw)
        except ValueError:
            if reads_data:
                out.append(False)
                continue
        out.append(f.matches(json.dumps(view)))
    return out


class FilterRecordTest(unittest.TestCase):
    def setUp(self):
        self.codec = bp.Codec(ARN, ROLE)
        self.event = json.loads(self.codec.encode_event(recs(), SHARD))

    def test_lambda_record_dicts(self):
        for f in (DATA, PKEY, SOURCE):
            want = expected(f, self.event["Records"], f is DATA)
            self.assertEqual([f.matches(d) for d in self.event["Records"]], want)
        self.assertEqual([DATA.matches(d) for d in self.event["Records"]],
                         [True, False, False, False, True])
        self.assertEqual([PKEY.matches(d) for d in self.event["Records"]],
                         [False, True, False, True, False])
        self.assertTrue(all(SOURCE.matches(d) for d in self.event["Records"]))
        # the stream's ARN comes from the record: another stream does not match
        other = dict(self.event["Records"][0], eventSourceARN=ARN + "x")
        self.assertFalse(SOURCE.matches(other))

    def test_record_objects_and_dicts(self):
        got = [DATA.matches(r) for r in recs()]
        self.assertEqual(got, [True, False, False, False, True])
        named = [{"seq": r.seq, "arrival_ms": r.arrival_ms, "partition_key": r.partition_key,
                  "data": r.data} for r in recs()]
        self.assertEqual([DATA.matches(d) for d in named], got)
        boto = [{"SequenceNumber": r.seq, "PartitionKey": r.partition_key, "Data": r.data,
                 "ApproximateArrivalTimestamp": r.arrival_ms / 1000} for r in recs()]
        self.assertEqual([DATA.matches(d) for d in boto], got)
        self.assertEqual([PKEY.matches(d) for d in boto], [False, True, False, True, False])
        # codec and shard given: the view's eventSourceARN / eventID are theirs
        eid = bp.Filter({"eventID": [SHARD + ":100"]})
        self.assertTrue(eid.matches(recs()[0], codec=self.codec, shard_id=SHARD))
        self.assertFalse(eid.matches(recs()[0], codec=self.codec))
        self.assertTrue(SOURCE.matches(recs()[0], codec=self.codec))
        self.assertFalse(SOURCE.matches(recs()[0]))  # the default codec's stream

    def test_a_plain_dict_is_still_an_event(self):
        self.assertTrue(DATA.matches({"data": {"kind": "order", "n": 5}}))
        self.assertFalse(DATA.matches({"data": {"kind": "order", "n": 1}}))

    def test_handler_records(self):
        seen = []
        bp.process_batch(self.event, lambda r: seen.append((DATA.matches(r), PKEY.matches(r),
                                                            SOURCE.matches(r))))
        self.assertEqual(seen, [(True, False, True), (False, True, True), (False, False, True),
                                (False, True, True), (True, False, True)])

    def test_dynamodb(self):
        ddb = [{"Keys": {"id": {"S": "k%d" % i}},
                "NewImage": {"id": {"S": "k%d" % i}, "n": {"N": str(i)}},
                "SequenceNumber": str(200 + i), "SizeBytes": 20, "StreamViewType": "NEW_IMAGE"}
               for i in range(4)]
        rs = [bp.Record(str(200 + i), 1700000000000, event_id="e%d" % i, event_name="INSERT",
                        dynamodb=json.dumps(d)) for i, d in enumerate(ddb)]
        ev = json.loads(bp.encode_event(rs, event_source_arn=DDB_ARN))
        f = bp.Filter({"dynamodb": {"NewImage": {"n": {"N": ["2", "3"]}}}})
        self.assertEqual([f.matches(d) for d in ev["Records"]], [False, False, True, True])
        self.assertEqual([f.matches(json.dumps(d)) for d in ev["Records"]],
                         [False, False, True, True])
        seen = []
        bp.process_batch(ev, lambda r: seen.append(f.matches(r)))
        self.assertEqual(seen, [False, False, True, True])

    def test_engine_record_views(self):
        seen, kept = [], []

        class Host:
            engine = None
            fetched = False

            def fetch(self, req):
                if not self.fetched:
                    self.fetched = True
                    self.engine.complete_fetch(req.req_id, 1000, 0, recs())

            def invoke(self, req):
                for r in req.records:
                    seen.append((DATA.matches(r), PKEY.matches(r, shard_id=req.shard_id)))
                    kept.append(r)
                self.engine.complete_invoke(req.req_id, 1000, bp.InvokeResult.returned(b"{}"))

            def deliver(self, req):
                pass

        h = Host()
        cfg = bp.Config.from_json({"EventSourceArn": ARN, "FunctionName": "f",
                                   "StartingPosition": "TRIM_HORIZON", "BatchSize": 10})
        with bp.Engine(cfg, h, invoke_identity_arn=ROLE) as e:
            h.engine = e
            e.add_shard(SHARD)
            e.tick(1000)
        self.assertEqual(seen, [(True, False), (False, True), (False, False), (False, True),
                                (True, False)])
        with self.assertRaises(bp.ViewExpiredError):
            DATA.matches(kept[0])

    def test_bad_record(self):
        with self.assertRaises(errors.BatchpointError):
            PKEY.matches({"seq": "not-a-number", "data": b"{}"})


if __name__ == "__main__":
    unittest.main()
