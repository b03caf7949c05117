// SPDX-License-Identifier: MIT
// batchpoint for Node: Lambda's stream event source mapping semantics over libbatchpoint.
'use strict';
const { f, LIBRARY } = require('./lib/ffi.js');
const errors = require('./lib/errors.js');
const { Config } = require('./lib/config.js');
const { Engine } = require('./lib/engine.js');
const { FileStore } = require('./lib/store.js');
const { Filter } = require('./lib/filter.js');
const { Codec, encodeEvent, classifyResponse } = require('./lib/codec.js');
const handler = require('./lib/handler.js');

module.exports = {
  Config, Engine, ...errors,
  FileStore, Filter, Codec, encodeEvent, classifyResponse,
  BatchProcessor: handler.BatchProcessor, HandlerRecord: handler.HandlerRecord,
  processPartialResponse: handler.processPartialResponse,
  processPartialResponseSync: handler.processPartialResponseSync,
  library: LIBRARY,
  version: () => f.version_string(),
};
