# SPDX-License-Identifier: MIT
"""Exceptions: one class per bp_err code, generated from the library's error table
(bp_err_descs), all under BatchpointError; the fatal ones also under FatalError."""
import ctypes

from . import _lib


class BatchpointError(Exception):
    """A batchpoint call failed. `code` is the bp_err value, `name` its name
    ("BP_ERR_CONFIG_INVALID"), `message` the library's message (AWS's text for a
    configuration rejection), `error_type` AWS's exception name when there is one."""
    code = None
    name = None

    def __init__(self, message, code=None, error_type=""):
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.error_type = error_type


class FatalError(BatchpointError):
    """A code at or below BP_ERR_FATAL: the object that returned it is unusable."""


def _class_name(name):
    parts = name[len("BP_ERR_"):].split("_") if name.startswith("BP_ERR_") else [name]
    return "".join(p.capitalize() for p in parts) + "Error"


def _build():
    tab = ctypes.POINTER(_lib.bp_err_desc)()
    n = ctypes.c_size_t()
    _lib.bp_err_descs(ctypes.byref(tab), ctypes.byref(n))
    by_code = {}
    for i in range(n.value):
        row = tab[i]
        if row.code == 0:
            continue
        name = row.name.decode()
        if name == "BP_ERR_FATAL":  # the threshold itself: the base class
            FatalError.code, FatalError.name = row.code, name
            by_code[row.code] = FatalError
            continue
        bases = (FatalError,) if _lib.bp_err_is_fatal(row.code) else (BatchpointError,)
        cls = type(_class_name(name), bases, {
            "code": row.code, "name": name, "__doc__": row.message.decode(),
            "__module__": __name__})
        by_code[row.code] = cls
    return by_code


BY_CODE = _build()
globals().update({cls.__name__: cls for cls in BY_CODE.values()})


def error_for(code, message=None, error_type=""):
    """The exception for @code (BatchpointError for a code not in the table)."""
    if not message:
        message = _lib.bp_strerror(code).decode()
    cls = BY_CODE.get(code)
    if cls is None:
        exc = BatchpointError(message, code, error_type)
        exc.name = "BP_ERR_UNKNOWN"
        return exc
    return cls(message, code, error_type)


def check(code, message=None, error_type=""):
    """Raise the exception of a negative @code; return it otherwise."""
    if code < 0:
        raise error_for(code, message, error_type)
    return code
