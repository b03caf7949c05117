// SPDX-License-Identifier: MIT
// bp_err codes as JavaScript exceptions: one class per family, each keeping the code, its
// name (bp_err_name) and the library's message (for configurations, AWS's exact text).
'use strict';
const { f } = require('./ffi.js');

class BatchpointError extends Error {
  constructor(code, message, extra = {}) {
    super(message || f.strerror(code));
    this.name = this.constructor.name;
    this.code = code;
    this.codeName = f.err_name(code);
    Object.assign(this, extra);
  }
}
/** A configuration AWS would reject (awsType: InvalidParameterValueException / ValidationException). */
class ConfigError extends BatchpointError {}
/** A bad argument, value, record or text (INVALID_ARGUMENT, _SEQNUM, _UTF8, _JSON, RANGE, ...). */
class InvalidArgumentError extends BatchpointError {}
/** A call the object's state does not allow (IN_CALLBACK, INVALID_STATE, UNKNOWN_REQUEST, ...). */
class StateError extends BatchpointError {}
/** Out of memory, unsupported in this build, or stored data / I/O failures. */
class ResourceError extends BatchpointError {}
/** A fatal failure: the object is unusable (CALLBACK_FAILURE, INTERNAL). */
class FatalError extends BatchpointError {}
/** BATCH_FAILED: every record of a non-empty event failed (Powertools' FullBatchFailureError);
 *  `response` holds the batchItemFailures response, `recordErrors` what each record threw. */
class BatchFailedError extends BatchpointError {}

const FAMILY = new Map([
  [-10, ConfigError], [-11, ConfigError],
  [-1, InvalidArgumentError], [-3, InvalidArgumentError], [-4, InvalidArgumentError],
  [-5, InvalidArgumentError], [-6, InvalidArgumentError], [-7, InvalidArgumentError],
  [-8, InvalidArgumentError], [-9, InvalidArgumentError], [-18, InvalidArgumentError],
  [-13, StateError], [-14, StateError], [-15, StateError], [-16, StateError], [-17, StateError],
  [-2, ResourceError], [-12, ResourceError], [-19, ResourceError], [-20, ResourceError],
  [-21, BatchFailedError],
]);

function errorFor(code, message, extra) {
  const Cls = code <= -900 ? FatalError : FAMILY.get(code) || BatchpointError;
  return new Cls(code, message, extra);
}

module.exports = {
  BatchpointError, ConfigError, InvalidArgumentError, StateError, ResourceError, FatalError,
  BatchFailedError, FullBatchFailureError: BatchFailedError, errorFor,
};
