# SPDX-License-Identifier: MIT
"""encode_event: the Kinesis event's fields; classify_response: partial, success, failure."""
import base64
import json
import unittest

import batchpoint as bp
from batchpoint import errors

ARN = "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"
ROLE = "arn:aws:iam::123456789012:role/lambda-role"
SHARD = "shardId-000000000006"
SEQS = ["49590338271490256608559692538361571095921575989136588898",
        "49590338271490256608559692540925702759324208523137515618",
        "49590338271490256608559692540925702759324208523137515619"]


def recs():
    return [bp.Record(s, 1545084650987 + i, "pk%d" % i, b"payload \x00\xff %d" % i)
            for i, s in enumerate(SEQS)]


class CodecTest(unittest.TestCase):
    def test_encode_kinesis(self):
        text = bp.encode_event(recs(), SHARD, event_source_arn=ARN, invoke_identity_arn=ROLE)
        self.assertIsInstance(text, bytes)
        ev = json.loads(text)
        self.assertEqual(len(ev["Records"]), 3)
        for i, r in enumerate(ev["Records"]):
            self.assertEqual(r["kinesis"]["sequenceNumber"], SEQS[i])
            self.assertEqual(base64.b64decode(r["kinesis"]["data"]), b"payload \x00\xff %d" % i)
            self.assertEqual(r["kinesis"]["partitionKey"], "pk%d" % i)
            self.assertEqual(r["eventID"], SHARD + ":" + SEQS[i])
            self.assertEqual(r["eventSource"], "aws:kinesis")
            self.assertEqual(r["eventSourceARN"], ARN)
            self.assertEqual(r["invokeIdentityArn"], ROLE)
            self.assertEqual(r["awsRegion"], "us-east-2")
        self.assertIn(b'"approximateArrivalTimestamp":1545084650.987', text)

    def test_encode_invalid_record(self):
        with self.assertRaises(errors.InvalidRecordError) as cm:
            bp.encode_event([bp.Record("not-a-seq", 0, "pk", b"x")])
        self.assertTrue(cm.exception.message)

    def test_classify(self):
        body = json.dumps({"batchItemFailures": [{"itemIdentifier": SEQS[1]}]})
        r = bp.classify_response(body, SEQS)
        self.assertEqual((r.outcome, r.failed_index, r.failed_count), ("partial", 1, 1))
        r = bp.classify_response("{}", SEQS)
        self.assertEqual((r.outcome, r.failed_index), ("success", None))
        r = bp.classify_response("not json", SEQS)
        self.assertEqual((r.outcome, r.reason), ("failure", "invalid_json"))
        self.assertTrue(r.message)
        r = bp.classify_response('{"batchItemFailures":[{"itemIdentifier":"7"}]}', SEQS)
        self.assertEqual((r.outcome, r.reason), ("failure", "unknown_identifier"))
        r = bp.classify_response(b"not json", SEQS, report_batch_item_failures=False)
        self.assertEqual((r.outcome, r.reason), ("success", "not_reporting"))
        d = bp.classify_response('{"state":{"n":1},"batchItemFailures":[]}', SEQS).as_dict()
        self.assertEqual(d["state"], '{"n":1}')

    def test_classify_bad_batch(self):
        with self.assertRaises(errors.InvalidArgumentError):
            bp.classify_response("{}", [SEQS[1], SEQS[0]])


class EncodeColumnsTest(unittest.TestCase):
    """The column path gives the same bytes as the record path (mixed absent members,
    base64 data, DynamoDB), and refuses columns of the wrong length or name."""

    def test_same_bytes_as_records(self):
        recs = [bp.Record(str(10 + i), 1700000000000 + 7 * i, "pk-%d" % i,
                          bytes((i * k) % 256 for k in range(3 * i)), "KMS" if i % 3 == 0 else None)
                for i in range(50)]
        c = bp.Codec()
        cols = {name: [getattr(r, name) for r in recs]
                for name in ("seq", "partition_key", "data", "encryption_type", "arrival_ms")}
        self.assertEqual(c.encode_columns("shardId-000000000002", **cols),
                         c.encode_event(recs, "shardId-000000000002"))
        ev = json.loads(c.encode_columns(**cols))
        self.assertEqual([("encryptionType" in r["kinesis"]) for r in ev["Records"]],
                         [i % 3 == 0 for i in range(50)])
        b64 = [base64.b64encode(d).decode() for d in cols["data"]]
        self.assertEqual(c.encode_columns(**dict(cols, data=b64), data_base64=True),
                         c.encode_event(recs, "shardId-000000000000"))
        self.assertEqual(c.encode_columns(seq=[]), c.encode_event([]))
        batch = bp.RecordBatch(**cols)
        self.assertEqual(c.encode_event(batch[5:9]), c.encode_event(recs[5:9]))
        self.assertEqual(c.encode_event(bp.RecordBatch.of(recs)[40:]), c.encode_event(recs[40:]))
        self.assertEqual(len(batch[45:100]), 5)

    def test_dynamodb_columns(self):
        arn = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024-01-01T00:00:00.000"
        c = bp.Codec(arn)
        ddb = [json.dumps({"Keys": {"k": {"N": str(i)}}, "SequenceNumber": str(i + 1),
                           "SizeBytes": 9, "StreamViewType": "KEYS_ONLY"}) for i in range(3)]
        recs = [bp.Record(str(i + 1), 1700000000000, event_id="e%d" % i, event_name="INSERT",
                          dynamodb=d) for i, d in enumerate(ddb)]
        self.assertEqual(c.encode_columns(seq=[r.seq for r in recs],
                                          arrival_ms=[1700000000000] * 3,
                                          event_id=[r.event_id for r in recs],
                                          event_name=["INSERT"] * 3, dynamodb=ddb),
                         c.encode_event(recs))

    def test_bad_columns(self):
        c = bp.Codec()
        with self.assertRaises(ValueError):
            c.encode_columns(seq=["1", "2"], data=[b"x"])
        with self.assertRaises(TypeError):
            c.encode_columns(seq=["1"], payload=[b"x"])
        with self.assertRaises(errors.InvalidRecordError):
            c.encode_columns(seq=["x1"], data=[b""], partition_key=["k"], arrival_ms=[1])


if __name__ == "__main__":
    unittest.main()
