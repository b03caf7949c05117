# SPDX-License-Identifier: MIT
"""Filter against the shared vectors (test/data/filter-vectors.json): expected matches and
rejected patterns."""
import json
import os
import unittest

import batchpoint as bp
from batchpoint import errors

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
VECTORS = os.path.join(ROOT, "test", "data", "filter-vectors.json")


class FilterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(VECTORS, encoding="utf-8") as f:
            cls.vectors = json.load(f)

    def test_vectors_match(self):
        done = 0
        for v in self.vectors:
            if "match" not in v or not isinstance(v["pattern"], dict):
                continue
            with self.subTest(v["id"]):
                f = bp.Filter(v["pattern"])
                self.assertEqual(f.matches(json.dumps(v["event"])), v["match"])
            done += 1
        self.assertGreater(done, 200)

    def test_invalid_patterns_raise(self):
        done = 0
        for v in self.vectors:
            if not v.get("invalid"):
                continue
            with self.subTest(v["id"]):
                with self.assertRaises(errors.ConfigInvalidError) as cm:
                    bp.Filter(v["pattern"])
                self.assertEqual(cm.exception.message, "Invalid filter pattern definition.")
                if v.get("ruler_error"):
                    self.assertEqual(cm.exception.reason, v["ruler_error"])
            done += 1
        self.assertGreater(done, 30)

    def test_basic(self):
        f = bp.Filter('{"a": [{"prefix": "x"}]}', {"b": [1]})
        self.assertEqual(len(f), 2)
        self.assertTrue(f.matches(b'{"a": "xyz"}'))
        self.assertTrue(f.matches({"b": 1.0}))
        self.assertFalse(f.matches('{"a": "yz", "b": 2}'))
        self.assertTrue(bp.Filter().matches("{}"))
        texts = [b'{"a": "xyz"}', '{"b": 1}', '{"a": "yz", "b": 2}', bytearray(b'{"b": [1]}')]
        self.assertEqual(f.match_many(texts), [True, True, False, True])
        with self.assertRaises(errors.InvalidJsonError):
            f.match_many(['{"b": 1}', "not json"])
        with self.assertRaises(errors.InvalidJsonError):
            f.matches("not json")
        with self.assertRaises(errors.ConfigInvalidError):
            bp.Filter("{not json")


if __name__ == "__main__":
    unittest.main()
