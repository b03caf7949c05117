// SPDX-License-Identifier: MIT
// The C ABI of libbatchpoint as koffi sees it: the library found, the structs declared member
// by member as in include/batchpoint/*.h (test/layout.test.js checks every size and offset
// against the C compiler), the functions, and the byte helpers the other modules share.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const koffi = require('koffi');

// BATCHPOINT_LIBRARY, else the build tree of this checkout, else the system's loader.
function libraryPath() {
  if (process.env.BATCHPOINT_LIBRARY) return process.env.BATCHPOINT_LIBRARY;
  const built = path.resolve(__dirname, '..', '..', '..', '..', 'build', 'libbatchpoint.so.0');
  return fs.existsSync(built) ? built : 'libbatchpoint.so.0';
}

const LIBRARY = libraryPath();
const lib = koffi.load(LIBRARY);

// Pointers whose bytes carry a separate length are 'void *' (never decoded as C strings).
const bp_record = koffi.struct('bp_record', {
  struct_size: 'uint32_t', flags: 'uint32_t', seq: 'void *', seq_len: 'size_t',
  arrival_ms: 'int64_t', partition_key: 'void *', partition_key_len: 'size_t',
  data: 'void *', data_len: 'size_t', encryption_type: 'void *', encryption_type_len: 'size_t',
  event_id: 'void *', event_id_len: 'size_t', event_name: 'void *', event_name_len: 'size_t',
  dynamodb_json: 'void *', dynamodb_json_len: 'size_t', user_identity_json: 'void *',
  user_identity_json_len: 'size_t',
});
const bp_fetch_req = koffi.struct('bp_fetch_req', {
  struct_size: 'uint32_t', from: 'int32_t', req_id: 'uint64_t', shard_id: 'void *',
  max_records: 'uint32_t', after_seq: 'void *', after_seq_len: 'size_t', timestamp_ms: 'int64_t',
  max_bytes: 'uint64_t', reserved: koffi.array('uint64_t', 4),
});
const bp_invoke_req = koffi.struct('bp_invoke_req', {
  struct_size: 'uint32_t', record_stride: 'uint32_t', req_id: 'uint64_t', shard_id: 'void *',
  lane: 'uint32_t', attempt: 'uint32_t', flags: 'uint32_t', pad0: 'uint32_t', records: 'void *',
  count: 'size_t', window_start_ms: 'int64_t', window_end_ms: 'int64_t', state: 'void *',
  state_len: 'size_t', payload: 'void *', payload_len: 'size_t',
  reserved: koffi.array('uint64_t', 8),
});
const bp_delivery_req = koffi.struct('bp_delivery_req', {
  struct_size: 'uint32_t', record_stride: 'uint32_t', req_id: 'uint64_t', shard_id: 'void *',
  lane: 'uint32_t', destination_type: 'int32_t', destination: 'void *', record_json: 'void *',
  record_json_len: 'size_t', s3_key: 'void *', condition: 'int32_t',
  approximate_invoke_count: 'uint32_t', timestamp_ms: 'int64_t', records: 'void *',
  count: 'size_t', reserved: koffi.array('uint64_t', 8),
});
const bp_checkpoint_req = koffi.struct('bp_checkpoint_req', {
  struct_size: 'uint32_t', final: 'int32_t', req_id: 'uint64_t', shard_id: 'void *',
  seq: 'void *', seq_len: 'size_t', reserved: koffi.array('uint64_t', 4),
});
const bp_engine_event = koffi.struct('bp_engine_event', {
  struct_size: 'uint32_t', type: 'int32_t', detail: 'int32_t', now_ms: 'int64_t',
  shard_id: 'void *', lane: 'uint32_t', flags: 'uint32_t', first_seq: 'void *',
  first_seq_len: 'size_t', last_seq: 'void *', last_seq_len: 'size_t', count: 'uint64_t',
  value: 'int64_t', message: 'void *', reserved: koffi.array('uint64_t', 4),
});
const fetch_cb = koffi.proto('int bp_fetch_cb(void *e, void *req, void *user_data)');
const invoke_cb = koffi.proto('int bp_invoke_cb(void *e, void *req, void *user_data)');
const deliver_cb = koffi.proto('int bp_deliver_cb(void *e, void *req, void *user_data)');
const checkpoint_cb = koffi.proto('int bp_checkpoint_cb(void *e, void *req, void *user_data)');
const event_cb = koffi.proto('int bp_event_cb(void *e, void *ev, void *user_data)');
const bp_transport = koffi.struct('bp_transport', {
  fetch: koffi.pointer(fetch_cb), invoke: koffi.pointer(invoke_cb),
  deliver: koffi.pointer(deliver_cb), store_checkpoint: koffi.pointer(checkpoint_cb),
  on_event: koffi.pointer(event_cb),
});
const bp_engine_opts = koffi.struct('bp_engine_opts', {
  struct_size: 'uint32_t', invoke_identity_arn: 'const char *', aws_region: 'const char *',
  mapping_uuid: 'const char *', seed: 'uint64_t', max_buffered_records: 'uint32_t',
  filter_flags: 'uint32_t', max_buffered_bytes: 'uint64_t', backoff_base_ms: 'int64_t',
  backoff_cap_ms: 'int64_t', poll_interval_ms: 'int64_t', fetch_error_retry_ms: 'int64_t',
  wouldblock_retry_ms: 'int64_t', store: 'void *', store_user_data: 'void *',
  max_fetch_records: 'uint32_t', function_account: 'const char *',
});
const bp_invoke_result = koffi.struct('bp_invoke_result', {
  struct_size: 'uint32_t', kind: 'int32_t', outcome: 'int32_t', body: 'void *',
  body_len: 'size_t', function_error: 'void *', function_error_len: 'size_t',
  request_id: 'void *', request_id_len: 'size_t', executed_version: 'void *',
  executed_version_len: 'size_t', failed_index: 'uint32_t', failed_count: 'uint32_t',
});
const METRIC_NAMES = [
  'polled_event_count', 'filtered_out_event_count', 'invoked_event_count',
  'failed_invoke_event_count', 'dropped_event_count',
  'on_failure_destination_delivered_event_count', 'destination_delivery_failures',
  'invocations', 'throttled_attempts', 'fetches', 'checkpoints_stored', 'iterator_age_ms',
  'buffered_records', 'buffered_bytes',
];
const metricsDef = { struct_size: 'uint32_t' };
for (const m of METRIC_NAMES) metricsDef[m] = m === 'iterator_age_ms' ? 'int64_t' : 'uint64_t';
metricsDef.reserved = koffi.array('uint64_t', 8);
const bp_engine_metrics = koffi.struct('bp_engine_metrics', metricsDef);

const f = {
  version_num: lib.func('int bp_version_num(void)'),
  version_string: lib.func('const char *bp_version_string(void)'),
  err_name: lib.func('const char *bp_err_name(int code)'),
  strerror: lib.func('const char *bp_strerror(int code)'),
  config_new: lib.func('int bp_config_new(_Out_ void **out, void *alloc)'),
  config_del: lib.func('void bp_config_del(void *c)'),
  config_errmsg: lib.func('const char *bp_config_errmsg(void *c)'),
  config_error_type: lib.func('const char *bp_config_error_type(void *c)'),
  config_error_http_status: lib.func('int bp_config_error_http_status(void *c)'),
  config_parse_json: lib.func('int bp_config_parse_json(void *c, const uint8_t *json, size_t len)'),
  config_get_source: lib.func('int32_t bp_config_get_source(void *c)'),
  config_get_batch_size: lib.func('uint32_t bp_config_get_batch_size(void *c)'),
  config_get_event_source_arn: lib.func('const char *bp_config_get_event_source_arn(void *c)'),
  config_get_function_name: lib.func('const char *bp_config_get_function_name(void *c)'),
  engine_opts_init: lib.func('int bp_engine_opts_init(_Inout_ bp_engine_opts *o, size_t size)'),
  invoke_result_init: lib.func('int bp_invoke_result_init(_Inout_ bp_invoke_result *r, size_t size)'),
  record_init: lib.func('int bp_record_init(_Inout_ bp_record *r, size_t size)'),
  engine_metrics_init: lib.func('int bp_engine_metrics_init(_Inout_ bp_engine_metrics *m, size_t size)'),
  engine_new_versioned: lib.func('int bp_engine_new_versioned(_Out_ void **out, void *cfg, ' +
    'const bp_engine_opts *opts, int version, const bp_transport *transport, void *user_data, ' +
    'void *alloc, _Out_ uint8_t *errbuf, size_t errlen)'),
  engine_del: lib.func('int bp_engine_del(void *e)'),
  engine_errmsg: lib.func('const char *bp_engine_errmsg(void *e)'),
  engine_add_shard: lib.func('int bp_engine_add_shard(void *e, const char *shard_id, ' +
    'const char *parent_id, const char *adjacent_parent_id, const uint8_t *checkpoint, size_t len)'),
  engine_tick: lib.func('int bp_engine_tick(void *e, int64_t now_ms)'),
  engine_set_enabled: lib.func('int bp_engine_set_enabled(void *e, int64_t now_ms, int enabled)'),
  engine_shutdown: lib.func('int bp_engine_shutdown(void *e, int64_t now_ms)'),
  engine_drained: lib.func('int bp_engine_drained(void *e)'),
  engine_idle: lib.func('int bp_engine_idle(void *e)'),
  engine_next_deadline: lib.func('int64_t bp_engine_next_deadline(void *e)'),
  engine_complete_fetch: lib.func('int bp_engine_complete_fetch(void *e, uint64_t req_id, ' +
    'int64_t now_ms, int status, const uint8_t *records, size_t n, uint32_t flags)'),
  engine_complete_invoke: lib.func('int bp_engine_complete_invoke(void *e, uint64_t req_id, ' +
    'int64_t now_ms, const bp_invoke_result *result)'),
  engine_complete_delivery: lib.func('int bp_engine_complete_delivery(void *e, uint64_t req_id, ' +
    'int64_t now_ms, int status)'),
  engine_complete_checkpoint: lib.func('int bp_engine_complete_checkpoint(void *e, ' +
    'uint64_t req_id, int64_t now_ms, int status)'),
  engine_get_metrics: lib.func('int bp_engine_get_metrics(void *e, const char *shard_id, ' +
    '_Inout_ bp_engine_metrics *out)'),
  engine_get_checkpoint: lib.func('int bp_engine_get_checkpoint(void *e, const char *shard_id, ' +
    '_Out_ uint8_t *buf, size_t cap, _Out_ size_t *len)'),
  engine_get_shard_state: lib.func('int bp_engine_get_shard_state(void *e, const char *shard_id)'),
};

// The bytes at p (len of them), copied: the memory is the library's and is gone after the call.
function bytes(p, len) {
  if (!p || !len) return Buffer.alloc(0);
  return Buffer.from(new Uint8Array(koffi.view(p, Number(len))));
}
function text(p, len) { return p ? bytes(p, len).toString('utf8') : null; }
function cstr(p) { return p ? koffi.decode(p, 'char', -1) : null; }

module.exports = {
  koffi, lib, f, LIBRARY, METRIC_NAMES, bytes, text, cstr,
  types: {
    bp_record, bp_fetch_req, bp_invoke_req, bp_delivery_req, bp_checkpoint_req, bp_engine_event,
    bp_transport, bp_engine_opts, bp_invoke_result, bp_engine_metrics,
  },
  protos: { fetch_cb, invoke_cb, deliver_cb, checkpoint_cb, event_cb },
  TRANSPORT_VERSION: 1,
};
