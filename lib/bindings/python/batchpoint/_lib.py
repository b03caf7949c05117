# SPDX-License-Identifier: MIT
"""Finding and loading libbatchpoint.so.0, and the C declarations the binding calls.

The struct types mirror include/batchpoint/*.h member for member; the host-filled ones are
initialised by the library's bp_X_init() with ctypes.sizeof(), and the library-filled ones
are read only where their struct_size says the library wrote them.
"""
import ctypes
import ctypes.util
import os

from ctypes import (POINTER, Structure, c_char_p, c_int, c_int32, c_int64, c_size_t,
                    c_uint32, c_uint64, c_void_p)

BP_NO_DEADLINE = 9223372036854775807
BP_ERR_WOULDBLOCK = -14
BP_ERR_CALLBACK_FAILURE = -901
BP_TRANSPORT_VERSION = 1


def _candidates():
    env = os.environ.get("BATCHPOINT_LIBRARY")
    if env:
        return [env]
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.normpath(os.path.join(here, "..", "..", "..", ".."))
    out = [os.path.join(root, "build", "libbatchpoint.so.0"),
           os.path.join(os.getcwd(), "build", "libbatchpoint.so.0")]
    out = [p for p in out if os.path.exists(p)]
    found = ctypes.util.find_library("batchpoint")
    out.append(found or "libbatchpoint.so.0")
    return out


def _load():
    errors = []
    for path in _candidates():
        try:
            return ctypes.CDLL(path), path
        except OSError as exc:
            errors.append(f"{path}: {exc}")
    raise OSError("batchpoint: cannot load libbatchpoint.so.0 (set BATCHPOINT_LIBRARY): "
                  + "; ".join(errors))


lib, LIBRARY_PATH = _load()


class bp_err_desc(Structure):
    _fields_ = [("code", c_int), ("name", c_char_p), ("message", c_char_p)]


class bp_record(Structure):
    _fields_ = [("struct_size", c_uint32), ("flags", c_uint32),
                ("seq", c_void_p), ("seq_len", c_size_t),
                ("arrival_ms", c_int64),
                ("partition_key", c_void_p), ("partition_key_len", c_size_t),
                ("data", c_void_p), ("data_len", c_size_t),
                ("encryption_type", c_void_p), ("encryption_type_len", c_size_t),
                ("event_id", c_void_p), ("event_id_len", c_size_t),
                ("event_name", c_void_p), ("event_name_len", c_size_t),
                ("dynamodb_json", c_void_p), ("dynamodb_json_len", c_size_t),
                ("user_identity_json", c_void_p), ("user_identity_json_len", c_size_t)]


class bp_fetch_req(Structure):
    _fields_ = [("struct_size", c_uint32), ("from_", c_int32), ("req_id", c_uint64),
                ("shard_id", c_char_p), ("max_records", c_uint32),
                ("after_seq", c_void_p), ("after_seq_len", c_size_t),
                ("timestamp_ms", c_int64), ("max_bytes", c_uint64),
                ("reserved", c_uint64 * 4)]


class bp_invoke_req(Structure):
    _fields_ = [("struct_size", c_uint32), ("record_stride", c_uint32), ("req_id", c_uint64),
                ("shard_id", c_char_p), ("lane", c_uint32), ("attempt", c_uint32),
                ("flags", c_uint32), ("pad0", c_uint32),
                ("records", c_void_p), ("count", c_size_t),
                ("window_start_ms", c_int64), ("window_end_ms", c_int64),
                ("state", c_void_p), ("state_len", c_size_t),
                ("payload", c_void_p), ("payload_len", c_size_t),
                ("reserved", c_uint64 * 8)]


class bp_delivery_req(Structure):
    _fields_ = [("struct_size", c_uint32), ("record_stride", c_uint32), ("req_id", c_uint64),
                ("shard_id", c_char_p), ("lane", c_uint32), ("destination_type", c_int32),
                ("destination", c_char_p),
                ("record_json", c_void_p), ("record_json_len", c_size_t),
                ("s3_key", c_char_p), ("condition", c_int32),
                ("approximate_invoke_count", c_uint32), ("timestamp_ms", c_int64),
                ("records", c_void_p), ("count", c_size_t),
                ("reserved", c_uint64 * 8)]


class bp_checkpoint_req(Structure):
    _fields_ = [("struct_size", c_uint32), ("final", c_int32), ("req_id", c_uint64),
                ("shard_id", c_char_p), ("seq", c_void_p), ("seq_len", c_size_t),
                ("reserved", c_uint64 * 4)]


class bp_engine_event(Structure):
    _fields_ = [("struct_size", c_uint32), ("type", c_int32), ("detail", c_int32),
                ("now_ms", c_int64), ("shard_id", c_char_p), ("lane", c_uint32),
                ("flags", c_uint32),
                ("first_seq", c_void_p), ("first_seq_len", c_size_t),
                ("last_seq", c_void_p), ("last_seq_len", c_size_t),
                ("count", c_uint64), ("value", c_int64), ("message", c_char_p),
                ("reserved", c_uint64 * 4)]


class bp_invoke_result(Structure):
    _fields_ = [("struct_size", c_uint32), ("kind", c_int32), ("outcome", c_int32),
                ("body", c_void_p), ("body_len", c_size_t),
                ("function_error", c_void_p), ("function_error_len", c_size_t),
                ("request_id", c_void_p), ("request_id_len", c_size_t),
                ("executed_version", c_void_p), ("executed_version_len", c_size_t),
                ("failed_index", c_uint32), ("failed_count", c_uint32)]


class bp_engine_metrics(Structure):
    _fields_ = [("struct_size", c_uint32)] + [
        (n, c_int64 if n == "iterator_age_ms" else c_uint64) for n in (
            "polled_event_count", "filtered_out_event_count", "invoked_event_count",
            "failed_invoke_event_count", "dropped_event_count",
            "on_failure_destination_delivered_event_count",
            "destination_delivery_failures", "invocations", "throttled_attempts", "fetches",
            "checkpoints_stored", "iterator_age_ms", "buffered_records", "buffered_bytes")
    ] + [("reserved", c_uint64 * 8)]


class bp_engine_opts(Structure):
    _fields_ = [("struct_size", c_uint32), ("invoke_identity_arn", c_char_p),
                ("aws_region", c_char_p), ("mapping_uuid", c_char_p), ("seed", c_uint64),
                ("max_buffered_records", c_uint32), ("filter_flags", c_uint32),
                ("max_buffered_bytes", c_uint64), ("backoff_base_ms", c_int64),
                ("backoff_cap_ms", c_int64), ("poll_interval_ms", c_int64),
                ("fetch_error_retry_ms", c_int64), ("wouldblock_retry_ms", c_int64),
                ("store", c_void_p), ("store_user_data", c_void_p),
                ("max_fetch_records", c_uint32), ("function_account", c_char_p)]


ENGINE_P = c_void_p
FETCH_CB = ctypes.CFUNCTYPE(c_int, ENGINE_P, POINTER(bp_fetch_req), c_void_p)
INVOKE_CB = ctypes.CFUNCTYPE(c_int, ENGINE_P, POINTER(bp_invoke_req), c_void_p)
DELIVER_CB = ctypes.CFUNCTYPE(c_int, ENGINE_P, POINTER(bp_delivery_req), c_void_p)
CHECKPOINT_CB = ctypes.CFUNCTYPE(c_int, ENGINE_P, POINTER(bp_checkpoint_req), c_void_p)
EVENT_CB = ctypes.CFUNCTYPE(c_int, ENGINE_P, POINTER(bp_engine_event), c_void_p)


class bp_transport(Structure):
    _fields_ = [("fetch", FETCH_CB), ("invoke", INVOKE_CB), ("deliver", DELIVER_CB),
                ("store_checkpoint", CHECKPOINT_CB), ("on_event", EVENT_CB)]


def _fn(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


bp_err_descs = _fn("bp_err_descs", None, POINTER(POINTER(bp_err_desc)), POINTER(c_size_t))
bp_err_is_fatal = _fn("bp_err_is_fatal", c_int, c_int)
bp_strerror = _fn("bp_strerror", c_char_p, c_int)
bp_version_string = _fn("bp_version_string", c_char_p)
bp_feature_enabled = _fn("bp_feature_enabled", c_int, c_char_p)

bp_config_new = _fn("bp_config_new", c_int, POINTER(c_void_p), c_void_p)
bp_config_del = _fn("bp_config_del", None, c_void_p)
bp_config_errmsg = _fn("bp_config_errmsg", c_char_p, c_void_p)
bp_config_error_type = _fn("bp_config_error_type", c_char_p, c_void_p)
bp_config_error_http_status = _fn("bp_config_error_http_status", c_int, c_void_p)
bp_config_parse_json = _fn("bp_config_parse_json", c_int, c_void_p, c_char_p, c_size_t)
bp_config_set = _fn("bp_config_set", c_int, c_void_p, c_char_p, c_char_p, c_char_p, c_size_t)
bp_config_validate = _fn("bp_config_validate", c_int, c_void_p)
bp_config_get_source = _fn("bp_config_get_source", c_int32, c_void_p)
bp_config_get_batch_size = _fn("bp_config_get_batch_size", c_uint32, c_void_p)
bp_config_get_event_source_arn = _fn("bp_config_get_event_source_arn", c_char_p, c_void_p)
bp_config_get_function_name = _fn("bp_config_get_function_name", c_char_p, c_void_p)

bp_record_init = _fn("bp_record_init", c_int, POINTER(bp_record), c_size_t)
bp_invoke_result_init = _fn("bp_invoke_result_init", c_int, POINTER(bp_invoke_result),
                            c_size_t)
bp_engine_metrics_init = _fn("bp_engine_metrics_init", c_int, POINTER(bp_engine_metrics),
                             c_size_t)
bp_engine_opts_init = _fn("bp_engine_opts_init", c_int, POINTER(bp_engine_opts), c_size_t)

bp_engine_new_versioned = _fn("bp_engine_new_versioned", c_int, POINTER(c_void_p), c_void_p,
                              POINTER(bp_engine_opts), c_int, POINTER(bp_transport),
                              c_void_p, c_void_p, c_char_p, c_size_t)
bp_engine_del = _fn("bp_engine_del", c_int, c_void_p)
bp_engine_errmsg = _fn("bp_engine_errmsg", c_char_p, c_void_p)
bp_engine_add_shard = _fn("bp_engine_add_shard", c_int, c_void_p, c_char_p, c_char_p,
                          c_char_p, c_char_p, c_size_t)
bp_engine_tick = _fn("bp_engine_tick", c_int, c_void_p, c_int64)
bp_engine_next_deadline = _fn("bp_engine_next_deadline", c_int64, c_void_p)
bp_engine_set_enabled = _fn("bp_engine_set_enabled", c_int, c_void_p, c_int64, c_int)
bp_engine_shutdown = _fn("bp_engine_shutdown", c_int, c_void_p, c_int64)
bp_engine_drained = _fn("bp_engine_drained", c_int, c_void_p)
bp_engine_idle = _fn("bp_engine_idle", c_int, c_void_p)
bp_engine_complete_fetch = _fn("bp_engine_complete_fetch", c_int, c_void_p, c_uint64, c_int64,
                               c_int, c_void_p, c_size_t, c_uint32)
bp_engine_complete_invoke = _fn("bp_engine_complete_invoke", c_int, c_void_p, c_uint64,
                                c_int64, POINTER(bp_invoke_result))
bp_engine_complete_delivery = _fn("bp_engine_complete_delivery", c_int, c_void_p, c_uint64,
                                  c_int64, c_int)
bp_engine_complete_checkpoint = _fn("bp_engine_complete_checkpoint", c_int, c_void_p,
                                    c_uint64, c_int64, c_int)
bp_engine_get_metrics = _fn("bp_engine_get_metrics", c_int, c_void_p, c_char_p,
                            POINTER(bp_engine_metrics))
bp_engine_get_checkpoint = _fn("bp_engine_get_checkpoint", c_int, c_void_p, c_char_p,
                               c_char_p, c_size_t, POINTER(c_size_t))
bp_engine_get_shard_state = _fn("bp_engine_get_shard_state", c_int, c_void_p, c_char_p)

# ---- bp_filter.h ----
bp_filter_new = _fn("bp_filter_new", c_int, POINTER(c_void_p), c_uint32, c_void_p)
bp_filter_del = _fn("bp_filter_del", None, c_void_p)
bp_filter_errmsg = _fn("bp_filter_errmsg", c_char_p, c_void_p)
bp_filter_add = _fn("bp_filter_add", c_int, c_void_p, c_char_p, c_size_t)
bp_filter_count = _fn("bp_filter_count", c_int, c_void_p)
bp_filter_match_json = _fn("bp_filter_match_json", c_int, c_void_p, c_char_p, c_size_t,
                           POINTER(c_int))
bp_filter_match_record = _fn("bp_filter_match_record", c_int, c_void_p, c_void_p, c_char_p,
                             c_void_p, POINTER(c_int))
BP_FILTER_MATCH, BP_FILTER_DROPPED = 1, 2

# ---- bp_codec.h ----
BP_SOURCE_KINESIS = 1
BP_SOURCE_DYNAMODB = 2


class bp_codec_opts(Structure):
    _fields_ = [("struct_size", c_uint32), ("source", c_int32),
                ("event_source_arn", c_char_p), ("aws_region", c_char_p),
                ("invoke_identity_arn", c_char_p), ("function_arn", c_char_p)]


class bp_response_result(Structure):
    _fields_ = [("struct_size", c_uint32), ("outcome", c_int32), ("reason", c_int32),
                ("has_state", c_int32), ("failed_index", c_size_t),
                ("failed_count", c_size_t), ("state_offset", c_size_t),
                ("state_len", c_size_t), ("reserved", c_uint64 * 4)]


bp_codec_opts_init = _fn("bp_codec_opts_init", c_int, POINTER(bp_codec_opts), c_size_t)
bp_response_result_init = _fn("bp_response_result_init", c_int, POINTER(bp_response_result),
                              c_size_t)
bp_codec_new = _fn("bp_codec_new", c_int, POINTER(c_void_p), POINTER(bp_codec_opts), c_void_p)
bp_codec_del = _fn("bp_codec_del", None, c_void_p)
bp_codec_errmsg = _fn("bp_codec_errmsg", c_char_p, c_void_p)
bp_codec_encode_event = _fn("bp_codec_encode_event", c_int, c_void_p, c_char_p, c_void_p,
                            c_size_t, c_void_p, POINTER(c_void_p), POINTER(c_size_t))
bp_codec_classify_response = _fn("bp_codec_classify_response", c_int, c_void_p, c_char_p,
                                 c_size_t, c_void_p, c_size_t, c_uint32,
                                 POINTER(bp_response_result))

# ---- bp_handler.h ----


class bp_handler_opts(Structure):
    _fields_ = [("struct_size", c_uint32), ("flags", c_uint32)]


def _span(*names):
    out = []
    for n in names:
        out += [(n, c_void_p), (n + "_len", c_size_t)]
    return out


class bp_handler_record(Structure):
    _fields_ = ([("struct_size", c_uint32), ("source", c_int32), ("index", c_size_t)]
                + _span("event_id", "event_name", "event_source", "event_source_arn",
                        "aws_region", "event_version", "invoke_identity_arn", "seq")
                + [("arrival_ms", c_int64)]
                + _span("arrival_text", "partition_key", "kinesis_schema_version",
                        "encryption_type", "data", "data_base64", "dynamodb_json",
                        "keys_json", "new_image_json", "old_image_json",
                        "user_identity_json", "stream_view_type")
                + [("size_bytes", c_int64), ("aggregated", c_int32),
                   ("sub_sequence_number", c_uint32)]
                + _span("explicit_hash_key")
                + [("reserved", c_uint64 * 4)])


class bp_handler_failure(Structure):
    _fields_ = [("struct_size", c_uint32), ("skipped", c_int32), ("index", c_size_t),
                ("seq", c_void_p), ("seq_len", c_size_t),
                ("reason", c_void_p), ("reason_len", c_size_t),
                ("reserved", c_uint64 * 4)]


HANDLER_P = c_void_p
HANDLER_CB = ctypes.CFUNCTYPE(c_int, HANDLER_P, POINTER(bp_handler_record), c_void_p)
bp_handler_opts_init = _fn("bp_handler_opts_init", c_int, POINTER(bp_handler_opts), c_size_t)
bp_handler_failure_init = _fn("bp_handler_failure_init", c_int, POINTER(bp_handler_failure),
                              c_size_t)
bp_handler_new = _fn("bp_handler_new", c_int, POINTER(c_void_p), POINTER(bp_handler_opts),
                     c_void_p)
bp_handler_del = _fn("bp_handler_del", None, c_void_p)
bp_handler_errmsg = _fn("bp_handler_errmsg", c_char_p, c_void_p)
bp_handler_process = _fn("bp_handler_process", c_int, c_void_p, c_char_p, c_size_t,
                         HANDLER_CB, c_void_p, POINTER(c_void_p), POINTER(c_size_t))
bp_handler_fail_reason = _fn("bp_handler_fail_reason", c_int, c_void_p, c_char_p, c_size_t)

# ---- bp_store.h (the file store; its ops are opaque to Python: only passed on) ----
BP_STORE_NOT_FOUND = 1
BP_STORE_SEQ_CAP = 128 + 1  # BP_MAX_SEQNUM_DIGITS + 1
bp_file_store_new = _fn("bp_file_store_new", c_int, POINTER(c_void_p), c_char_p, c_void_p,
                        c_char_p, c_size_t)
bp_file_store_del = _fn("bp_file_store_del", None, c_void_p)
bp_file_store_ops = _fn("bp_file_store_ops", c_void_p)
bp_file_store_errmsg = _fn("bp_file_store_errmsg", c_char_p, c_void_p)
bp_store_load = _fn("bp_store_load", c_int, c_void_p, c_void_p, c_char_p, c_char_p, c_char_p,
                    c_size_t, POINTER(c_size_t), c_char_p, c_size_t)
bp_store_save = _fn("bp_store_save", c_int, c_void_p, c_void_p, c_char_p, c_char_p, c_char_p,
                    c_size_t, c_char_p, c_size_t)
bp_store_remove = _fn("bp_store_remove", c_int, c_void_p, c_void_p, c_char_p, c_char_p,
                      c_char_p, c_size_t)

# ---- bp_config.h getters (the CreateEventSourceMapping response's values) ----
BP_CONFIG_FUNCTION_ARN_CAP = 2048 + 4 * 140 + 64
for _name, _res in (("bp_config_get_maximum_batching_window_in_seconds", c_int32),
                    ("bp_config_get_parallelization_factor", c_int32),
                    ("bp_config_get_starting_position", c_int32),
                    ("bp_config_get_starting_position_timestamp_ms", c_int64),
                    ("bp_config_get_maximum_retry_attempts", c_int32),
                    ("bp_config_get_maximum_record_age_in_seconds", c_int32),
                    ("bp_config_get_bisect_batch_on_function_error", c_int32),
                    ("bp_config_get_report_batch_item_failures", c_int32),
                    ("bp_config_get_tumbling_window_in_seconds", c_int32),
                    ("bp_config_get_enabled", c_int32),
                    ("bp_config_get_on_failure_destination", c_char_p),
                    ("bp_config_get_metrics_event_count", c_int32),
                    ("bp_config_get_filter_count", c_size_t)):
    globals()[_name] = _fn(_name, _res, c_void_p)
bp_config_get_filter = _fn("bp_config_get_filter", c_int, c_void_p, c_size_t,
                           POINTER(c_char_p), POINTER(c_size_t))
bp_config_resolve_function_arn = _fn("bp_config_resolve_function_arn", c_int, c_void_p,
                                     c_char_p, c_char_p, c_size_t, POINTER(c_size_t))

# ---- bp_seqnum.h ----
bp_seqnum_validate = _fn("bp_seqnum_validate", c_int, c_char_p, c_size_t)

# ---- bp_handler.h: tumbling windows and the DynamoDB attribute reader ----


class bp_handler_window(Structure):
    _fields_ = [("struct_size", c_uint32), ("is_final", c_int32),
                ("start_ms", c_int64), ("end_ms", c_int64)]
    _fields_ += _span("state_json", "shard_id", "event_source_arn")
    _fields_ += [("is_terminated_early", c_int32), ("pad_", c_int32),
                 ("reserved", c_uint64 * 4)]


class bp_ddb_attr(Structure):
    _fields_ = [("struct_size", c_uint32), ("type", c_int32),
                ("value", c_void_p), ("value_len", c_size_t),
                ("json", c_void_p), ("json_len", c_size_t),
                ("boolean", c_int32), ("pad_", c_int32), ("reserved", c_uint64 * 4)]


BP_DDB_S, BP_DDB_N, BP_DDB_B, BP_DDB_BOOL, BP_DDB_NULL = 1, 2, 3, 4, 5
BP_DDB_M, BP_DDB_L, BP_DDB_SS, BP_DDB_NS, BP_DDB_BS = 6, 7, 8, 9, 10
bp_handler_window_init = _fn("bp_handler_window_init", c_int, POINTER(bp_handler_window),
                             c_size_t)
bp_handler_get_window = _fn("bp_handler_get_window", c_int, c_void_p,
                            POINTER(bp_handler_window))
bp_handler_set_state = _fn("bp_handler_set_state", c_int, c_void_p, c_char_p, c_size_t)
bp_handler_response = _fn("bp_handler_response", c_int, c_void_p, POINTER(c_void_p),
                          POINTER(c_size_t))
bp_ddb_attr_init = _fn("bp_ddb_attr_init", c_int, POINTER(bp_ddb_attr), c_size_t)
bp_handler_ddb_next = _fn("bp_handler_ddb_next", c_int, c_void_p, c_int32, c_void_p, c_size_t,
                          POINTER(c_size_t), POINTER(c_void_p), POINTER(c_size_t),
                          POINTER(bp_ddb_attr))
