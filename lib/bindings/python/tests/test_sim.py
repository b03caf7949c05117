# SPDX-License-Identifier: MIT
"""The scenario runner over both scenario sources: no case fails, the library's own config
rejections pass with AWS's type and message."""
import contextlib
import glob
import io
import os
import unittest

from batchpoint import sim

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))


def run(path):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = sim.main([path])
    return rc, out.getvalue().splitlines()


class SimTest(unittest.TestCase):
    def test_shared_file(self):
        rc, lines = run(os.path.join(ROOT, "test", "data", "esm-scenarios.json"))
        self.assertEqual(rc, 0)
        for cid in ("S7a", "S7b", "S7c", "S7f", "S7g", "S7h"):
            self.assertIn(f"PASS {cid}", lines)
        self.assertRegex(lines[-1], r"^[1-9]\d* passed, 0 failed, \d+ skipped$")

    def test_scenario_directory(self):
        files = sorted(glob.glob(os.path.join(ROOT, "test", "scenarios", "*.json")))
        self.assertTrue(files)
        for path in files:
            rc, lines = run(path)
            self.assertEqual(rc, 0, path)
            self.assertRegex(lines[-1], r"^\d+ passed, 0 failed, \d+ skipped$")


if __name__ == "__main__":
    unittest.main()
