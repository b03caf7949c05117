# SPDX-License-Identifier: MIT
"""python3 -m batchpoint.sim: the shared file passes (test/python/check_python.sh replays every
scenario file); the cases of test/scenarios/fail/ fail with the difference each is about; a
wrong expectation, a wrong config answer and a malformed file are reported as such."""
import contextlib
import copy
import io
import json
import os
import tempfile
import unittest

from batchpoint import sim

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
FETCH = os.path.join(ROOT, "test", "scenarios", "fetch.json")


def run(path, *opts):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = sim.main([*opts, path], out=out)
    return rc, out.getvalue().splitlines(), err.getvalue()


def case_count(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    return len(doc.get("scenarios", [])) + len(doc.get("config_cases", []))


class SimFilesTest(unittest.TestCase):
    def test_shared_file(self):
        path = os.path.join(ROOT, "test", "data", "esm-scenarios.json")
        rc, lines, _ = run(path)
        self.assertEqual(rc, 0, "\n".join(lines))
        self.assertEqual(lines[-1], f"{case_count(path)} passed, 0 failed, 0 skipped")
        self.assertIn("PASS S8b -- skipped parts: expect.last_processing_result (API-level)",
                      lines)
        for cid in ("S1", "S33", "S47", "S7a", "S7h"):
            self.assertTrue(any(x == f"PASS {cid}" or x.startswith(f"PASS {cid} -- ")
                                for x in lines), cid)

    def test_fail_directory(self):
        rc, lines, _ = run(os.path.join(ROOT, "test", "scenarios", "fail", "same-instant.json"))
        self.assertEqual(rc, 1)
        self.assertEqual(lines[-1], "0 passed, 6 failed, 0 skipped")
        want = {
            "F1": "expect.invocations[0..1]: invocations 1 to 2 start at t=1764082801000 on "
                  "different lanes (a set, each lane in its order): expected {[b1],[a1,b1]}, "
                  "actual {[a1],[b1]}",
            "F2": "expect.invocations[0]: expected [b1], actual [a1]",
            "F4": "expect.events[0].match(Records[0].kinesis.partitionKey): expected \"k0\", "
                  "actual \"k1\"",
            "F5": "expect.delivered_in_order[0]: expected b1, actual a1 (invocation 1)",
            "F6": "expect.invocations: 1 invocation(s) expected, 2 made: actual [[r2],[r1]]",
        }
        for cid, why in want.items():
            self.assertIn(f"FAIL {cid}: {why}", lines)


class SimVerdictTest(unittest.TestCase):
    """Altered copies of test/scenarios/fetch.json's first scenario."""

    def setUp(self):
        with open(FETCH, encoding="utf-8") as f:
            self.doc = json.load(f)
        self.doc["scenarios"] = self.doc["scenarios"][:1]
        self.scn = self.doc["scenarios"][0]
        self.seqs = [r["seq"] for r in self.scn["stream"]]
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def run_doc(self, doc):
        path = os.path.join(self.tmp.name, "case.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f)
        return run(path)

    def test_unaltered_passes(self):
        rc, lines, _ = self.run_doc(self.doc)
        self.assertEqual((rc, lines), (0, ["PASS FS1", "1 passed, 0 failed, 0 skipped"]))

    def test_wrong_batches_fail_with_labels(self):
        self.scn["expect"]["invocations"] = [[self.seqs[0]], [self.seqs[1]]]
        rc, lines, _ = self.run_doc(self.doc)
        self.assertEqual(rc, 1)
        self.assertEqual(lines[0], "FAIL FS1: expect.invocations[0]: expected [r1], actual "
                                   "[r1,r2]")
        self.assertEqual(lines[-1], "0 passed, 1 failed, 0 skipped")

    def test_wrong_checkpoint_fails(self):
        self.scn["expect"]["checkpoint_at"][0]["checkpoint"] = self.seqs[0]
        rc, lines, _ = self.run_doc(self.doc)
        self.assertEqual(rc, 1)
        self.assertEqual(lines[0], f"FAIL FS1: expect.checkpoint_at[0].checkpoint: expected "
                                   f"{self.seqs[0]} (r1), actual {self.seqs[1]} (r2)")

    def test_function_failure_changes_what_happens(self):
        # the function fails r1+r2 for good: the checkpoint still moves past them (no
        # destination), after MaximumRetryAttempts 0 -- so the expectation still holds, and
        # the batch was attempted exactly once
        self.scn["config"]["MaximumRetryAttempts"] = 0
        self.scn["function"]["rules"] = [{"respond": {"error": "Unhandled"}}]
        self.scn["expect"]["invocation_count"] = 1
        rc, lines, _ = self.run_doc(self.doc)
        self.assertEqual((rc, lines[0]), (0, "PASS FS1"))
        self.scn["expect"]["invocation_count"] = 2
        rc, lines, _ = self.run_doc(self.doc)
        self.assertEqual(lines[0], "FAIL FS1: expect.invocation_count: expected 2, actual 1")

    def test_rejected_configuration_fails(self):
        self.scn["config"]["BatchSize"] = 0
        rc, lines, _ = self.run_doc(self.doc)
        self.assertEqual(rc, 1)
        self.assertRegex(lines[0], r"^FAIL FS1: config: the mapping's configuration is "
                                   r"rejected: .*batchSize")

    def test_no_rule_matches(self):
        self.scn["function"]["rules"] = [{"when_invocation": 2, "respond": {"body": "null"}}]
        rc, lines, _ = self.run_doc(self.doc)
        self.assertEqual(lines[0], "FAIL FS1: function: no rule matches attempt 1")

    def test_wrong_config_case_answer_fails(self):
        doc = {"config_cases": [{"id": "C1", "input": {
            "EventSourceArn": "arn:aws:kinesis:us-east-1:111111111111:stream/s1",
            "FunctionName": "fn"}, "expect": {"ok": False, "message": "something else"}}]}
        rc, lines, _ = self.run_doc(doc)
        self.assertEqual(rc, 1)
        self.assertRegex(lines[0], r"^FAIL C1: expect.message: expected \"something else\", "
                                   r"actual \"1 validation error detected: .*startingPosition")
        doc["config_cases"][0]["input"]["StartingPosition"] = "LATEST"
        doc["config_cases"][0]["expect"] = {"ok": True, "defaults": {"BatchSize": 100}}
        rc, lines, _ = self.run_doc(doc)
        self.assertEqual((rc, lines[0]), (0, "PASS C1"))
        doc["config_cases"][0]["expect"]["defaults"]["BatchSize"] = 10
        rc, lines, _ = self.run_doc(doc)
        self.assertEqual(lines[0], "FAIL C1: expect.defaults.BatchSize: expected 10, actual 100")

    def test_malformed_files_name_the_path(self):
        bad = copy.deepcopy(self.doc)
        bad["scenarios"][0]["expect"]["invocatons"] = []
        rc, lines, err = self.run_doc(bad)
        self.assertEqual((rc, lines), (2, []))
        self.assertIn("scenarios[0].expect.invocatons: unknown expectation field", err)
        bad = copy.deepcopy(self.doc)
        bad["scenarios"][0]["expect"]["not_delivered"] = ["12345"]
        rc, _, err = self.run_doc(bad)
        self.assertEqual(rc, 2)
        self.assertIn("scenarios[0].expect.not_delivered[0]: no record of the stream has this "
                      "sequence number", err)

    def test_only(self):
        rc, lines, _ = run(FETCH, "--only", "FS2")
        self.assertEqual((rc, lines), (0, ["PASS FS2", "1 passed, 0 failed, 0 skipped"]))
        rc, _, err = run(FETCH, "--only", "nope")
        self.assertEqual(rc, 2)
        self.assertIn('no case "nope"', err)


if __name__ == "__main__":
    unittest.main()
