// SPDX-License-Identifier: MIT
// Config: a mapping (bp_config) from a CreateEventSourceMapping body, with AWS's messages.
'use strict';
const { f } = require('./ffi.js');
const { errorFor, ConfigError } = require('./errors.js');

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
