# SPDX-License-Identifier: MIT
"""FileStore: the library's durable checkpoint store over a directory (bp_file_store), for
Engine(..., store=FileStore(dir)) and for reading / writing checkpoints directly.

Lifetime: an engine using the store holds it; the C store is freed only once no engine uses
it any more, whatever order the Python objects are dropped in."""
from ctypes import byref, c_size_t, c_void_p, create_string_buffer

from . import _lib
from .errors import check


def _id(s):
    return s.encode("utf-8") if isinstance(s, str) else bytes(s)


class FileStore:
    """FileStore(directory): the directory must exist (BP_ERR_IO otherwise)."""

    def __init__(self, directory):
        self._h = None
        self._users = 0
        self._closing = False
        h = c_void_p()
        err = create_string_buffer(512)
        rc = _lib.bp_file_store_new(byref(h), _id(str(directory)), None, err, len(err))
        check(rc, err.value.decode("utf-8", "replace"))
        self._h = h
        self.directory = str(directory)

    def _handle(self):
        if not self._h or self._closing:
            raise ValueError("FileStore is closed")
        return self._h

    # ---- for Engine ----
    def _acquire(self):
        """(ops, user_data) for bp_engine_opts; the store stays alive until _release()."""
        h = self._handle()
        self._users += 1
        return _lib.bp_file_store_ops(), h

    def _release(self):
        self._users -= 1
        if self._closing and self._users <= 0:
            self._free()

    # ---- direct use ----
    def load(self, mapping_id, shard_id):
        """The shard's checkpoint (str), or None when it has none."""
        buf = create_string_buffer(_lib.BP_STORE_SEQ_CAP)
        n = c_size_t()
        err = create_string_buffer(512)
        rc = _lib.bp_store_load(_lib.bp_file_store_ops(), self._handle(), _id(mapping_id),
                                _id(shard_id), buf, len(buf), byref(n), err, len(err))
        if rc == _lib.BP_STORE_NOT_FOUND:
            return None
        check(rc, err.value.decode("utf-8", "replace"))
        return buf.raw[:n.value].decode()

    def save(self, mapping_id, shard_id, seq):
        s = _id(str(seq))
        err = create_string_buffer(512)
        rc = _lib.bp_store_save(_lib.bp_file_store_ops(), self._handle(), _id(mapping_id),
                                _id(shard_id), s, len(s), err, len(err))
        check(rc, err.value.decode("utf-8", "replace"))

    def remove(self, mapping_id, shard_id):
        """Forget the shard's checkpoint; False when there was none."""
        err = create_string_buffer(512)
        rc = _lib.bp_store_remove(_lib.bp_file_store_ops(), self._handle(), _id(mapping_id),
                                  _id(shard_id), err, len(err))
        if rc == _lib.BP_STORE_NOT_FOUND:
            return False
        check(rc, err.value.decode("utf-8", "replace"))
        return True

    def _free(self):
        h, self._h = self._h, None
        if h:
            _lib.bp_file_store_del(h)

    def close(self):
        """Close the store (deferred while an engine uses it). Idempotent."""
        if getattr(self, "_h", None) is None:
            return
        self._closing = True
        if self._users <= 0:
            self._free()

    __del__ = close
