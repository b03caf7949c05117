# SPDX-License-Identifier: MIT
"""FileStore: direct load/save/remove, and Engine(..., store=FileStore(dir)) persisting
checkpoints that a second engine resumes from; drop order does not matter."""
import gc
import os
import tempfile
import unittest

import batchpoint as bp
from batchpoint import errors

from .test_engine import ROLE, SHARD, Host, config, records

MAPPING = "9f3c1c55-2f0c-4c1a-8d3e-1d6a8f0b7e21"


class StoreHost(Host):
    """Host without store_checkpoint (so the engine uses its store); remembers fetches."""

    def __init__(self, recs):
        super().__init__(recs)
        self.fetches = []

    def fetch(self, req):
        self.fetches.append((req.position, req.after_seq))
        super().fetch(req)


class FileStoreTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def test_direct(self):
        s = bp.FileStore(self.dir)
        self.assertIsNone(s.load(MAPPING, SHARD))
        s.save(MAPPING, SHARD, "12345")
        self.assertEqual(s.load(MAPPING, SHARD), "12345")
        self.assertEqual(bp.FileStore(self.dir).load(MAPPING, SHARD), "12345")
        with self.assertRaises(errors.InvalidSeqnumError):
            s.save(MAPPING, SHARD, "x1")
        self.assertTrue(s.remove(MAPPING, SHARD))
        self.assertFalse(s.remove(MAPPING, SHARD))
        self.assertIsNone(s.load(MAPPING, SHARD))
        s.close()
        with self.assertRaises(ValueError):
            s.load(MAPPING, SHARD)

    def test_missing_directory(self):
        with self.assertRaises(errors.IoError):
            bp.FileStore(os.path.join(self.dir, "nope"))

    def test_engine_saves_and_resumes(self):
        store = bp.FileStore(self.dir)
        h = StoreHost(records(3))
        e = bp.Engine(config(), h, store=store, invoke_identity_arn=ROLE, seed=1,
                      mapping_uuid=MAPPING)
        h.engine = e
        e.add_shard(SHARD)
        for _ in range(4):
            e.tick(1000)
        self.assertEqual(store.load(MAPPING, SHARD), "3")
        self.assertTrue(os.listdir(self.dir))
        # drop the store first: the engine keeps it alive
        store.close()
        del store
        gc.collect()
        e.close()
        # a second engine over the same directory resumes after the checkpoint
        h2 = StoreHost([])
        with bp.Engine(config(), h2, store=bp.FileStore(self.dir), invoke_identity_arn=ROLE,
                       seed=1, mapping_uuid=MAPPING) as e2:
            h2.engine = e2
            e2.add_shard(SHARD)
            e2.tick(2000)
            self.assertEqual(h2.fetches[0], ("AFTER_SEQUENCE_NUMBER", "3"))


if __name__ == "__main__":
    unittest.main()
