// SPDX-License-Identifier: MIT
// Prints, as JSON, sizeof and offsetof of every struct the Node binding declares to koffi,
// as the C compiler lays them out from the public headers: test/layout.test.js compares
// them with koffi's sizeof/offsetof, so no layout in lib/ffi.js is taken on trust.
#include <batchpoint.h>
#include <stddef.h>
#include <stdio.h>

#define F(T, m) printf("%s\"%s\":%zu", first++ ? "," : "", #m, offsetof(T, m))
#define BEGIN(T) do { int first = 0; printf("%s\"%s\":{\"sizeof\":%zu,\"members\":{", n++ ? "," : "", #T, sizeof(T))
#define END() printf("}}"); } while (0)

int main(void) {
  int n = 0;
  printf("{");
  BEGIN(bp_record); F(bp_record, struct_size); F(bp_record, flags); F(bp_record, seq);
  F(bp_record, seq_len); F(bp_record, arrival_ms); F(bp_record, partition_key);
  F(bp_record, partition_key_len); F(bp_record, data); F(bp_record, data_len);
  F(bp_record, encryption_type); F(bp_record, encryption_type_len); F(bp_record, event_id);
  F(bp_record, event_id_len); F(bp_record, event_name); F(bp_record, event_name_len);
  F(bp_record, dynamodb_json); F(bp_record, dynamodb_json_len); F(bp_record, user_identity_json);
  F(bp_record, user_identity_json_len); END();
  BEGIN(bp_fetch_req); F(bp_fetch_req, struct_size); F(bp_fetch_req, from); F(bp_fetch_req, req_id);
  F(bp_fetch_req, shard_id); F(bp_fetch_req, max_records); F(bp_fetch_req, after_seq);
  F(bp_fetch_req, after_seq_len); F(bp_fetch_req, timestamp_ms); F(bp_fetch_req, max_bytes);
  F(bp_fetch_req, reserved); END();
  BEGIN(bp_invoke_req); F(bp_invoke_req, struct_size); F(bp_invoke_req, record_stride);
  F(bp_invoke_req, req_id); F(bp_invoke_req, shard_id); F(bp_invoke_req, lane);
  F(bp_invoke_req, attempt); F(bp_invoke_req, flags); F(bp_invoke_req, pad0);
  F(bp_invoke_req, records); F(bp_invoke_req, count); F(bp_invoke_req, window_start_ms);
  F(bp_invoke_req, window_end_ms); F(bp_invoke_req, state); F(bp_invoke_req, state_len);
  F(bp_invoke_req, payload); F(bp_invoke_req, payload_len); F(bp_invoke_req, reserved); END();
  BEGIN(bp_delivery_req); F(bp_delivery_req, struct_size); F(bp_delivery_req, record_stride);
  F(bp_delivery_req, req_id); F(bp_delivery_req, shard_id); F(bp_delivery_req, lane);
  F(bp_delivery_req, destination_type); F(bp_delivery_req, destination);
  F(bp_delivery_req, record_json); F(bp_delivery_req, record_json_len); F(bp_delivery_req, s3_key);
  F(bp_delivery_req, condition); F(bp_delivery_req, approximate_invoke_count);
  F(bp_delivery_req, timestamp_ms); F(bp_delivery_req, records); F(bp_delivery_req, count);
  F(bp_delivery_req, reserved); END();
  BEGIN(bp_checkpoint_req); F(bp_checkpoint_req, struct_size); F(bp_checkpoint_req, final);
  F(bp_checkpoint_req, req_id); F(bp_checkpoint_req, shard_id); F(bp_checkpoint_req, seq);
  F(bp_checkpoint_req, seq_len); F(bp_checkpoint_req, reserved); END();
  BEGIN(bp_engine_event); F(bp_engine_event, struct_size); F(bp_engine_event, type);
  F(bp_engine_event, detail); F(bp_engine_event, now_ms); F(bp_engine_event, shard_id);
  F(bp_engine_event, lane); F(bp_engine_event, flags); F(bp_engine_event, first_seq);
  F(bp_engine_event, first_seq_len); F(bp_engine_event, last_seq); F(bp_engine_event, last_seq_len);
  F(bp_engine_event, count); F(bp_engine_event, value); F(bp_engine_event, message);
  F(bp_engine_event, reserved); END();
  BEGIN(bp_transport); F(bp_transport, fetch); F(bp_transport, invoke); F(bp_transport, deliver);
  F(bp_transport, store_checkpoint); F(bp_transport, on_event); END();
  BEGIN(bp_engine_opts); F(bp_engine_opts, struct_size); F(bp_engine_opts, invoke_identity_arn);
  F(bp_engine_opts, aws_region); F(bp_engine_opts, mapping_uuid); F(bp_engine_opts, seed);
  F(bp_engine_opts, max_buffered_records); F(bp_engine_opts, filter_flags);
  F(bp_engine_opts, max_buffered_bytes); F(bp_engine_opts, backoff_base_ms);
  F(bp_engine_opts, backoff_cap_ms); F(bp_engine_opts, poll_interval_ms);
  F(bp_engine_opts, fetch_error_retry_ms); F(bp_engine_opts, wouldblock_retry_ms);
  F(bp_engine_opts, store); F(bp_engine_opts, store_user_data); F(bp_engine_opts, max_fetch_records);
  F(bp_engine_opts, function_account); END();
  BEGIN(bp_invoke_result); F(bp_invoke_result, struct_size); F(bp_invoke_result, kind);
  F(bp_invoke_result, outcome); F(bp_invoke_result, body); F(bp_invoke_result, body_len);
  F(bp_invoke_result, function_error); F(bp_invoke_result, function_error_len);
  F(bp_invoke_result, request_id); F(bp_invoke_result, request_id_len);
  F(bp_invoke_result, executed_version); F(bp_invoke_result, executed_version_len);
  F(bp_invoke_result, failed_index); F(bp_invoke_result, failed_count); END();
  BEGIN(bp_engine_metrics); F(bp_engine_metrics, struct_size); F(bp_engine_metrics, polled_event_count);
  F(bp_engine_metrics, filtered_out_event_count); F(bp_engine_metrics, invoked_event_count);
  F(bp_engine_metrics, failed_invoke_event_count); F(bp_engine_metrics, dropped_event_count);
  F(bp_engine_metrics, on_failure_destination_delivered_event_count);
  F(bp_engine_metrics, destination_delivery_failures); F(bp_engine_metrics, invocations);
  F(bp_engine_metrics, throttled_attempts); F(bp_engine_metrics, fetches);
  F(bp_engine_metrics, checkpoints_stored); F(bp_engine_metrics, iterator_age_ms);
  F(bp_engine_metrics, buffered_records); F(bp_engine_metrics, buffered_bytes);
  F(bp_engine_metrics, reserved); END();
  /* the function-side surface (lib/ffi_codec.js) */
  BEGIN(bp_codec_opts);
   F(bp_codec_opts, struct_size); F(bp_codec_opts, source); F(bp_codec_opts, event_source_arn);
   F(bp_codec_opts, aws_region); F(bp_codec_opts, invoke_identity_arn);
   F(bp_codec_opts, function_arn); END();
  BEGIN(bp_window_fields);
   F(bp_window_fields, struct_size); F(bp_window_fields, start_ms); F(bp_window_fields, end_ms);
   F(bp_window_fields, state_json); F(bp_window_fields, state_json_len);
   F(bp_window_fields, is_final); F(bp_window_fields, is_terminated_early); END();
  BEGIN(bp_response_result);
   F(bp_response_result, struct_size); F(bp_response_result, outcome);
   F(bp_response_result, reason); F(bp_response_result, has_state);
   F(bp_response_result, failed_index); F(bp_response_result, failed_count);
   F(bp_response_result, state_offset); F(bp_response_result, state_len);
   F(bp_response_result, reserved); END();
  BEGIN(bp_handler_opts);
   F(bp_handler_opts, struct_size); F(bp_handler_opts, flags); END();
  BEGIN(bp_handler_record);
   F(bp_handler_record, struct_size); F(bp_handler_record, source); F(bp_handler_record, index);
   F(bp_handler_record, event_id); F(bp_handler_record, event_id_len);
   F(bp_handler_record, event_name); F(bp_handler_record, event_name_len);
   F(bp_handler_record, event_source); F(bp_handler_record, event_source_len);
   F(bp_handler_record, event_source_arn); F(bp_handler_record, event_source_arn_len);
   F(bp_handler_record, aws_region); F(bp_handler_record, aws_region_len);
   F(bp_handler_record, event_version); F(bp_handler_record, event_version_len);
   F(bp_handler_record, invoke_identity_arn); F(bp_handler_record, invoke_identity_arn_len);
   F(bp_handler_record, seq); F(bp_handler_record, seq_len); F(bp_handler_record, arrival_ms);
   F(bp_handler_record, arrival_text); F(bp_handler_record, arrival_text_len);
   F(bp_handler_record, partition_key); F(bp_handler_record, partition_key_len);
   F(bp_handler_record, kinesis_schema_version); F(bp_handler_record, kinesis_schema_version_len);
   F(bp_handler_record, encryption_type); F(bp_handler_record, encryption_type_len);
   F(bp_handler_record, data); F(bp_handler_record, data_len); F(bp_handler_record, data_base64);
   F(bp_handler_record, data_base64_len); F(bp_handler_record, dynamodb_json);
   F(bp_handler_record, dynamodb_json_len); F(bp_handler_record, keys_json);
   F(bp_handler_record, keys_json_len); F(bp_handler_record, new_image_json);
   F(bp_handler_record, new_image_json_len); F(bp_handler_record, old_image_json);
   F(bp_handler_record, old_image_json_len); F(bp_handler_record, user_identity_json);
   F(bp_handler_record, user_identity_json_len); F(bp_handler_record, stream_view_type);
   F(bp_handler_record, stream_view_type_len); F(bp_handler_record, size_bytes);
   F(bp_handler_record, aggregated); F(bp_handler_record, sub_sequence_number);
   F(bp_handler_record, explicit_hash_key); F(bp_handler_record, explicit_hash_key_len);
   F(bp_handler_record, reserved); END();
  BEGIN(bp_handler_failure);
   F(bp_handler_failure, struct_size); F(bp_handler_failure, skipped);
   F(bp_handler_failure, index); F(bp_handler_failure, seq); F(bp_handler_failure, seq_len);
   F(bp_handler_failure, reason); F(bp_handler_failure, reason_len);
   F(bp_handler_failure, reserved); END();
  printf("}\n");
  return 0;
}
