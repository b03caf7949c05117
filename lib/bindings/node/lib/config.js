// SPDX-License-Identifier: MIT
// Config: a mapping (bp_config) from a CreateEventSourceMapping body, with AWS's messages.
'use strict';
const { f, lib, koffi } = require('./ffi.js');
const { errorFor, ConfigError } = require('./errors.js');

// The rest of the parsed request (bp_config.h's getters), for hosts that act on it.
const g = {
  arn: lib.func('const char *bp_config_get_function_arn(void *c)'),
  resolveArn: lib.func('int bp_config_resolve_function_arn(void *c, const char *account, ' +
    '_Out_ uint8_t *buf, size_t cap, _Out_ size_t *len)'),
  window: lib.func('int32_t bp_config_get_maximum_batching_window_in_seconds(void *c)'),
  factor: lib.func('int32_t bp_config_get_parallelization_factor(void *c)'),
  position: lib.func('int32_t bp_config_get_starting_position(void *c)'),
  positionTs: lib.func('int64_t bp_config_get_starting_position_timestamp_ms(void *c)'),
  retries: lib.func('int32_t bp_config_get_maximum_retry_attempts(void *c)'),
  age: lib.func('int32_t bp_config_get_maximum_record_age_in_seconds(void *c)'),
  bisect: lib.func('int32_t bp_config_get_bisect_batch_on_function_error(void *c)'),
  rbif: lib.func('int32_t bp_config_get_report_batch_item_failures(void *c)'),
  tumbling: lib.func('int32_t bp_config_get_tumbling_window_in_seconds(void *c)'),
  enabled: lib.func('int32_t bp_config_get_enabled(void *c)'),
  onFailure: lib.func('const char *bp_config_get_on_failure_destination(void *c)'),
  metricsEventCount: lib.func('int32_t bp_config_get_metrics_event_count(void *c)'),
  filterCount: lib.func('size_t bp_config_get_filter_count(void *c)'),
  filter: lib.func('int bp_config_get_filter(void *c, size_t index, _Out_ void **text, ' +
    '_Out_ size_t *len)'),
};
const POSITIONS = [null, 'TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'];

const freeConfig = new FinalizationRegistry((ptr) => f.config_del(ptr));

class Config {
  constructor() {
    const out = [null];
    const rc = f.config_new(out, null);
    if (rc !== 0) throw errorFor(rc, 'bp_config_new failed');
    this._ptr = out[0];
    freeConfig.register(this, this._ptr, this);
  }

  /** A configuration from a CreateEventSourceMapping request body (string, Buffer or object). */
  static fromJSON(body) {
    const c = new Config();
    const text = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    const buf = Buffer.from(text);
    const rc = f.config_parse_json(c._ptr, buf, buf.length);
    if (rc !== 0) {
      const err = errorFor(rc, f.config_errmsg(c._ptr), {
        awsType: f.config_error_type(c._ptr) || null,
        httpStatus: f.config_error_http_status(c._ptr) || null,
      });
      c.close();
      // Every AWS rejection is a ConfigError, whatever the code (INVALID_JSON included).
      if (err.awsType && !(err instanceof ConfigError)) {
        throw Object.assign(new ConfigError(rc, err.message), {
          awsType: err.awsType, httpStatus: err.httpStatus,
        });
      }
      throw err;
    }
    return c;
  }

  get source() { return ['none', 'kinesis', 'dynamodb'][f.config_get_source(this.ptr)]; }
  get batchSize() { return f.config_get_batch_size(this.ptr); }
  get eventSourceArn() { return f.config_get_event_source_arn(this.ptr); }
  get functionName() { return f.config_get_function_name(this.ptr); }

  /** FunctionName as given; resolveFunctionArn() completes a name or partial ARN. */
  get functionArn() { return g.arn(this.ptr); }
  /** The function's full ARN (the account from EventSourceArn unless given), or null. */
  resolveFunctionArn(account = null) {
    const buf = Buffer.alloc(512);
    const len = [0];
    if (g.resolveArn(this.ptr, account, buf, buf.length, len) !== 0) return null;
    return buf.toString('utf8', 0, Number(len[0]));
  }
  get maximumBatchingWindowInSeconds() { return g.window(this.ptr); }
  get parallelizationFactor() { return g.factor(this.ptr); }
  /** 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP', or null when not set. */
  get startingPosition() { return POSITIONS[g.position(this.ptr)] || null; }
  /** StartingPositionTimestamp in epoch ms, or null. */
  get startingPositionTimestampMs() {
    const t = Number(g.positionTs(this.ptr));
    return t < 0 ? null : t;
  }
  get maximumRetryAttempts() { return g.retries(this.ptr); }
  get maximumRecordAgeInSeconds() { return g.age(this.ptr); }
  get bisectBatchOnFunctionError() { return g.bisect(this.ptr) === 1; }
  get reportBatchItemFailures() { return g.rbif(this.ptr) === 1; }
  get tumblingWindowInSeconds() { return g.tumbling(this.ptr); }
  get enabled() { return g.enabled(this.ptr) === 1; }
  /** The on-failure destination ARN, or null. */
  get onFailureDestination() { return g.onFailure(this.ptr); }
  get metricsEventCount() { return g.metricsEventCount(this.ptr) === 1; }
  /** The FilterCriteria patterns, as given. */
  get filters() {
    const out = [];
    const n = Number(g.filterCount(this.ptr));
    for (let i = 0; i < n; i++) {
      const text = [null];
      const len = [0];
      if (g.filter(this.ptr, i, text, len) === 0) {
        out.push(Buffer.from(koffi.view(text[0], Number(len[0]))).toString('utf8'));
      }
    }
    return out;
  }

  get ptr() {
    if (!this._ptr) throw new Error('Config is closed');
    return this._ptr;
  }

  /** Frees the configuration now (an engine made from it keeps its own copy). */
  close() {
    if (!this._ptr) return;
    freeConfig.unregister(this);
    f.config_del(this._ptr);
    this._ptr = null;
  }
}

module.exports = { Config };
