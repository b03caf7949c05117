// SPDX-License-Identifier: MIT
// The C ABI of the function-side surface as koffi sees it: the file store (bp_store.h), the
// filter (bp_filter.h), the codec (bp_codec.h) and the batch processor (bp_handler.h). The
// structs are declared member by member as in the headers (test/layout.test.js checks each
// size and offset against the C compiler, with those of lib/ffi.js), and the native scratch
// memory the codec and the filter write their inputs into (one crossing per call, no
// per-record object marshalling).
'use strict';
const { koffi, lib } = require('./ffi.js');

const bp_codec_opts = koffi.struct('bp_codec_opts', {
  struct_size: 'uint32_t', source: 'int32_t', event_source_arn: 'const char *',
  aws_region: 'const char *', invoke_identity_arn: 'const char *', function_arn: 'const char *',
});
const bp_window_fields = koffi.struct('bp_window_fields', {
  struct_size: 'uint32_t', start_ms: 'int64_t', end_ms: 'int64_t', state_json: 'void *',
  state_json_len: 'size_t', is_final: 'int32_t', is_terminated_early: 'int32_t',
});
const bp_response_result = koffi.struct('bp_response_result', {
  struct_size: 'uint32_t', outcome: 'int32_t', reason: 'int32_t', has_state: 'int32_t',
  failed_index: 'size_t', failed_count: 'size_t', state_offset: 'size_t', state_len: 'size_t',
  reserved: koffi.array('uint64_t', 4),
});
const bp_handler_opts = koffi.struct('bp_handler_opts', {
  struct_size: 'uint32_t', flags: 'uint32_t',
});
// The string members of bp_handler_record, in order, each followed by its _len.
const HANDLER_STRINGS_A = ['event_id', 'event_name', 'event_source', 'event_source_arn',
  'aws_region', 'event_version', 'invoke_identity_arn', 'seq'];
const HANDLER_STRINGS_B = ['arrival_text', 'partition_key', 'kinesis_schema_version',
  'encryption_type', 'data', 'data_base64', 'dynamodb_json', 'keys_json', 'new_image_json',
  'old_image_json', 'user_identity_json', 'stream_view_type'];
const handlerRecordDef = { struct_size: 'uint32_t', source: 'int32_t', index: 'size_t' };
for (const m of HANDLER_STRINGS_A) { handlerRecordDef[m] = 'void *'; handlerRecordDef[`${m}_len`] = 'size_t'; }
handlerRecordDef.arrival_ms = 'int64_t';
for (const m of HANDLER_STRINGS_B) { handlerRecordDef[m] = 'void *'; handlerRecordDef[`${m}_len`] = 'size_t'; }
Object.assign(handlerRecordDef, {
  size_bytes: 'int64_t', aggregated: 'int32_t', sub_sequence_number: 'uint32_t',
  explicit_hash_key: 'void *', explicit_hash_key_len: 'size_t',
  reserved: koffi.array('uint64_t', 4),
});
const bp_handler_record = koffi.struct('bp_handler_record', handlerRecordDef);
const bp_handler_failure = koffi.struct('bp_handler_failure', {
  struct_size: 'uint32_t', skipped: 'int32_t', index: 'size_t', seq: 'void *', seq_len: 'size_t',
  reason: 'void *', reason_len: 'size_t', reserved: koffi.array('uint64_t', 4),
});
const handler_cb = koffi.proto('int bp_handler_fn(void *h, void *rec, void *user_data)');

const g = {
  // file store
  file_store_new: lib.func('int bp_file_store_new(_Out_ void **out, const char *dir, ' +
    'void *alloc, _Out_ uint8_t *errbuf, size_t errlen)'),
  file_store_del: lib.func('void bp_file_store_del(void *fs)'),
  file_store_ops: lib.func('void *bp_file_store_ops(void)'),
  store_load: lib.func('int bp_store_load(void *ops, void *ud, const char *mapping, ' +
    'const char *shard, _Out_ uint8_t *seq, size_t cap, _Out_ size_t *len, ' +
    '_Out_ uint8_t *errbuf, size_t errlen)'),
  store_save: lib.func('int bp_store_save(void *ops, void *ud, const char *mapping, ' +
    'const char *shard, const uint8_t *seq, size_t len, _Out_ uint8_t *errbuf, size_t errlen)'),
  store_remove: lib.func('int bp_store_remove(void *ops, void *ud, const char *mapping, ' +
    'const char *shard, _Out_ uint8_t *errbuf, size_t errlen)'),
  // filter
  filter_new: lib.func('int bp_filter_new(_Out_ void **out, uint32_t flags, void *alloc)'),
  filter_del: lib.func('void bp_filter_del(void *f)'),
  filter_errmsg: lib.func('const char *bp_filter_errmsg(void *f)'),
  filter_add: lib.func('int bp_filter_add(void *f, const uint8_t *pattern, size_t len)'),
  filter_count: lib.func('int bp_filter_count(void *f)'),
  // json: native scratch memory (a pointer) or a Buffer; matched: a native int
  filter_match_json: lib.func('int bp_filter_match_json(void *f, void *json, size_t len, ' +
    'void *matched)'),
  filter_match_record: lib.func('int bp_filter_match_record(void *f, void *codec, ' +
    'const char *shard, void *rec, _Out_ int *result)'),
  // codec
  codec_opts_init: lib.func('int bp_codec_opts_init(_Inout_ bp_codec_opts *o, size_t size)'),
  codec_new: lib.func('int bp_codec_new(_Out_ void **out, const bp_codec_opts *o, void *alloc)'),
  codec_del: lib.func('void bp_codec_del(void *c)'),
  codec_errmsg: lib.func('const char *bp_codec_errmsg(void *c)'),
  window_fields_init: lib.func('int bp_window_fields_init(_Inout_ bp_window_fields *w, ' +
    'size_t size)'),
  // buf: a Buffer (its memory, written in place); len: a one-element BigUint64Array
  codec_encode_event_to: lib.func('int bp_codec_encode_event_to(void *c, const char *shard, ' +
    'void *recs, size_t n, const bp_window_fields *win, void *buf, size_t cap, void *len)'),
  response_result_init: lib.func('int bp_response_result_init(_Inout_ bp_response_result *r, ' +
    'size_t size)'),
  codec_classify_response: lib.func('int bp_codec_classify_response(void *c, void *body, ' +
    'size_t len, void *batch, size_t n, uint32_t flags, _Inout_ bp_response_result *r)'),
  // handler
  handler_opts_init: lib.func('int bp_handler_opts_init(_Inout_ bp_handler_opts *o, size_t size)'),
  handler_new: lib.func('int bp_handler_new(_Out_ void **out, const bp_handler_opts *o, ' +
    'void *alloc)'),
  handler_del: lib.func('void bp_handler_del(void *h)'),
  handler_errmsg: lib.func('const char *bp_handler_errmsg(void *h)'),
  handler_process: lib.func('int bp_handler_process(void *h, const uint8_t *event, size_t len, ' +
    'bp_handler_fn *fn, void *ud, _Out_ void **resp, _Out_ size_t *resp_len)'),
  handler_fail_reason: lib.func('int bp_handler_fail_reason(void *h, const uint8_t *msg, ' +
    'size_t len)'),
};

/**
 * Native memory the binding writes inputs into from JavaScript (through `bytes`, a Buffer over
 * it) and hands to the library as one pointer: `ptr` (for calls) and `addr` (its address, for
 * pointers written inside it). Grows by doubling; freed by free() or when collected.
 */
const freeScratch = new FinalizationRegistry((ptr) => koffi.free(ptr));
class Scratch {
  constructor(size = 4096) { this.ptr = null; this.size = 0; this.reserve(size); }
  reserve(size) {
    if (size <= this.size) return;
    let cap = Math.max(4096, this.size);
    while (cap < size) cap *= 2;
    this.free();
    this.ptr = koffi.alloc('uint8_t', cap);
    this.size = cap;
    this.addr = Number(koffi.address(this.ptr));
    this.bytes = Buffer.from(koffi.view(this.ptr, cap));
    this.u32 = new Uint32Array(this.bytes.buffer, this.bytes.byteOffset, cap >>> 2);
    freeScratch.register(this, this.ptr, this);
  }
  free() {
    if (!this.ptr) return;
    freeScratch.unregister(this);
    koffi.free(this.ptr);
    this.ptr = null; this.size = 0; this.bytes = null; this.u32 = null;
  }
}

module.exports = {
  g, Scratch, handler_cb, HANDLER_STRINGS_A, HANDLER_STRINGS_B,
  types: { bp_codec_opts, bp_window_fields, bp_response_result, bp_handler_opts,
    bp_handler_record, bp_handler_failure },
};
