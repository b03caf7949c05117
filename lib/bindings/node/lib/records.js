// SPDX-License-Identifier: MIT
// Records across the boundary: JS record objects -> bp_record arrays for a fetch completion,
// and bp_record views borrowed by a callback -> plain JS objects (bytes copied).
'use strict';
const { koffi, types, bytes, text } = require('./ffi.js');

const RECORD_SIZE = koffi.sizeof(types.bp_record);
const BASE64 = 0x1;

function asBytes(v) {
  if (v === undefined || v === null) return null;
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  return Buffer.from(JSON.stringify(v), 'utf8'); // a DynamoDB StreamRecord given as an object
}

// One JS record -> the object koffi encodes as a bp_record. The Buffers it points into are
// returned in `keep` so they outlive the completion call.
function toC(r, keep) {
  const c = { struct_size: RECORD_SIZE, flags: r.dataBase64 ? BASE64 : 0,
    arrival_ms: r.arrivalMs ?? r.approximateArrivalTimestamp ?? 0 };
  const set = (ptr, len, v) => {
    const b = asBytes(v);
    if (b === null) { c[ptr] = null; c[len] = 0; return; }
    const z = Buffer.concat([b, Buffer.alloc(1)]); // never an empty (NULL) pointer for ""
    keep.push(z);
    c[ptr] = z; c[len] = b.length;
  };
  set('seq', 'seq_len', String(r.seq ?? r.sequenceNumber));
  set('partition_key', 'partition_key_len', r.partitionKey);
  set('data', 'data_len', r.data);
  set('encryption_type', 'encryption_type_len', r.encryptionType);
  set('event_id', 'event_id_len', r.eventId);
  set('event_name', 'event_name_len', r.eventName);
  set('dynamodb_json', 'dynamodb_json_len', r.dynamodb);
  set('user_identity_json', 'user_identity_json_len', r.userIdentity);
  return c;
}

/** JS records -> one Buffer holding the bp_record array (and the Buffers it points to). */
function encodeRecords(list) {
  const keep = [];
  const arr = Buffer.alloc(Math.max(1, list.length) * RECORD_SIZE);
  list.forEach((r, i) => koffi.encode(arr, i * RECORD_SIZE, types.bp_record, toC(r, keep)));
  return { arr, keep };
}

/** A borrowed bp_record (element i of a callback's array) -> a plain JS object. */
function fromC(base, stride, i) {
  const r = koffi.decode(base, i * stride, types.bp_record);
  const out = {
    seq: text(r.seq, r.seq_len),
    arrivalMs: Number(r.arrival_ms),
  };
  if (r.partition_key) out.partitionKey = text(r.partition_key, r.partition_key_len);
  if (r.data) { out.data = bytes(r.data, r.data_len); out.dataBase64 = !!(r.flags & BASE64); }
  if (r.encryption_type) out.encryptionType = text(r.encryption_type, r.encryption_type_len);
  if (r.event_id) out.eventId = text(r.event_id, r.event_id_len);
  if (r.event_name) out.eventName = text(r.event_name, r.event_name_len);
  if (r.dynamodb_json) out.dynamodb = text(r.dynamodb_json, r.dynamodb_json_len);
  if (r.user_identity_json) out.userIdentity = text(r.user_identity_json, r.user_identity_json_len);
  return out;
}

function decodeRecords(base, stride, count) {
  const out = [];
  for (let i = 0; i < Number(count); i++) out.push(fromC(base, stride, i));
  return out;
}

module.exports = { encodeRecords, decodeRecords, RECORD_SIZE };
