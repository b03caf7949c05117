# SPDX-License-Identifier: MIT
"""batchpoint: Lambda's Kinesis / DynamoDB Streams event source mapping semantics
(libbatchpoint) from Python, through ctypes."""
from . import errors
from ._lib import LIBRARY_PATH, bp_version_string as _version
from .config import Config
from .engine import (NO_DEADLINE, SHARD_END, WOULDBLOCK, Engine, InvokeResult, Record,
                     RecordBatch)
from .errors import BatchpointError, FatalError
from .codec import Codec, ResponseResult, classify_response, encode_event
from .filter import Filter
from .store import FileStore
from .handler import (BatchProcessor, HandlerRecord, Window, batch_handler, process_batch,
                      process_window)
from .views import Event, RecordView, ViewExpiredError

__version__ = _version().decode()
__all__ = ["Config", "Filter", "Codec", "ResponseResult", "encode_event",
           "classify_response", "BatchProcessor", "HandlerRecord", "batch_handler",
           "process_batch", "process_window", "Window", "FileStore", "Engine", "InvokeResult",
           "Record", "RecordBatch", "Event", "RecordView",
           "BatchpointError", "FatalError", "ViewExpiredError", "errors", "WOULDBLOCK",
           "SHARD_END", "NO_DEADLINE", "LIBRARY_PATH"]
