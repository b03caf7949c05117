// SPDX-License-Identifier: MIT
// The function serverless-offline runs: the Powertools handler shared with lambda_server.js.
// Attempt counts live in the worker's memory, as in one warm Lambda instance.
'use strict';
const { makeHandler } = require('../powertools_handler.js');

const seen = new Map();
const handler = makeHandler({
  logFile: process.env.E2E_LOG,
  attempts: { bump: (seq) => { const n = (seen.get(seq) || 0) + 1; seen.set(seq, n); return n; } },
});

module.exports.handler = (event, context) => handler(event, context, { via: 'serverless-offline' });
