// SPDX-License-Identifier: MIT
// batchpoint for Node: Lambda's stream event source mapping semantics over libbatchpoint.
'use strict';
const { f, LIBRARY } = require('./lib/ffi.js');
const errors = require('./lib/errors.js');
const { Config } = require('./lib/config.js');
const { Engine } = require('./lib/engine.js');

module.exports = {
  Config, Engine, ...errors,
  library: LIBRARY,
  version: () => f.version_string(),
};
