// SPDX-License-Identifier: MIT
// A loopback server of the Lambda Invoke API shape
//   POST /2015-03-31/functions/<name>/invocations
// running the Powertools Kinesis batch handler of powertools_handler.js. It answers as Lambda does:
//   200 + the handler's {"batchItemFailures":[...]}, or 200 + X-Amz-Function-Error: Unhandled and
//   {"errorType","errorMessage"} when the handler throws (FullBatchFailureError: every record failed);
//   202 for InvocationType Event, 204 for DryRun; 4xx errors with x-amzn-ErrorType.
// Usage: node lambda_server.js --log FILE [--port N] [--function NAME] [--throttle-every N]
//                              [--delay-ms MS]
// Prints `listening <port>` on stdout. Each invocation adds a line {"kind":"invoke", ...} to the log
// after its records' lines; each line carries the invocation's type and whether it was SigV4-signed.
'use strict';
const fs = require('fs');
const http = require('http');
const { makeHandler, errorBody } = require('./powertools_handler.js');

const MAX_PAYLOAD = 6 * 1024 * 1024; // Lambda's synchronous payload limit

function parseArgs(argv) {
  const o = { log: null, port: 0, function: null, throttleEvery: 0, delayMs: 0 };
  const names = { '--log': 'log', '--port': 'port', '--function': 'function',
                  '--throttle-every': 'throttleEvery', '--delay-ms': 'delayMs' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = names[argv[i]];
    if (!key || argv[i + 1] === undefined) throw new Error(`bad option ${argv[i]}`);
    o[key] = typeof o[key] === 'number' ? Number(argv[i + 1]) : argv[i + 1];
    if (typeof o[key] === 'number' && !(Number.isInteger(o[key]) && o[key] >= 0))
      throw new Error(`${argv[i]} wants a whole number`);
  }
  if (!o.log) throw new Error('--log FILE is required');
  return o;
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`lambda_server: ${e.message}\n`);
  process.exit(2);
}

const seen = new Map();
const handler = makeHandler({
  logFile: opts.log,
  attempts: { bump: (seq) => { const n = (seen.get(seq) || 0) + 1; seen.set(seq, n); return n; } },
});

let calls = 0;

function send(res, status, headers, body) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text),
                          'x-amzn-RequestId': `req-${calls}`, ...headers });
  res.end(text);
}

function sendError(res, status, type, message) {
  send(res, status, { 'x-amzn-ErrorType': type }, { Type: 'User', message });
}

async function invoke(req, res, name, body) {
  const n = ++calls;
  const invocationType = req.headers['x-amz-invocation-type'] || 'RequestResponse';
  const auth = req.headers.authorization || '';
  // SigV4 for the lambda service, as the AWS SDKs and CLI sign it
  const signed = /^AWS4-HMAC-SHA256 Credential=[^,]+\/lambda\/aws4_request, *SignedHeaders=[^,]+, *Signature=[0-9a-f]{64}$/
    .test(auth) && !!req.headers['x-amz-date'];
  const line = { kind: 'invoke', n, function: name, invocationType, signed, bytes: body.length };

  if (opts.throttleEvery && n % opts.throttleEvery === 0) {
    fs.appendFileSync(opts.log, JSON.stringify({ ...line, status: 429 }) + '\n');
    return sendError(res, 429, 'TooManyRequestsException', 'Rate Exceeded.');
  }
  if (invocationType === 'DryRun') {
    fs.appendFileSync(opts.log, JSON.stringify({ ...line, status: 204 }) + '\n');
    return send(res, 204, {});
  }
  let event;
  try {
    event = JSON.parse(body.toString('utf8'));
  } catch (e) {
    fs.appendFileSync(opts.log, JSON.stringify({ ...line, status: 400 }) + '\n');
    return sendError(res, 400, 'InvalidRequestContentException', `Could not parse request body into json: ${e.message}`);
  }
  if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));

  const records = event && Array.isArray(event.Records) ? event.Records.length : 0;
  const extra = { invocation: n, invocationType, signed };
  let result, error = null;
  try {
    result = await handler(event, { functionName: name, awsRequestId: `req-${n}` }, extra);
  } catch (e) {
    error = e;
  }
  const failures = result && Array.isArray(result.batchItemFailures) ? result.batchItemFailures.length : records;
  const status = invocationType === 'Event' ? 202 : 200;
  fs.appendFileSync(opts.log, JSON.stringify({ ...line, status, records, failures, error: error ? error.name : null }) + '\n');
  if (status === 202) return send(res, 202, {});
  if (error) return send(res, 200, { 'X-Amz-Function-Error': 'Unhandled', 'X-Amz-Executed-Version': '$LATEST' }, errorBody(error));
  return send(res, 200, { 'X-Amz-Executed-Version': '$LATEST' }, result);
}

const server = http.createServer((req, res) => {
  const m = /^\/2015-03-31\/functions\/([^/?]+)\/invocations(\?.*)?$/.exec(req.url);
  if (req.method !== 'POST' || !m) {
    req.resume();
    return sendError(res, 404, 'UnknownOperationException', `no route for ${req.method} ${req.url}`);
  }
  const name = decodeURIComponent(m[1]);
  const chunks = [];
  let size = 0, tooBig = false;
  req.on('data', (c) => {
    size += c.length;
    if (size > MAX_PAYLOAD) tooBig = true;
    else chunks.push(c);
  });
  req.on('end', () => {
    if (tooBig) return sendError(res, 413, 'RequestTooLargeException', `Request must be smaller than ${MAX_PAYLOAD} bytes for the InvokeFunction operation`);
    if (opts.function && name !== opts.function && !name.endsWith(`:function:${opts.function}`))
      return sendError(res, 404, 'ResourceNotFoundException', `Function not found: ${name}`);
    invoke(req, res, name, Buffer.concat(chunks)).catch((e) => {
      process.stderr.write(`lambda_server: ${e.stack}\n`);
      if (!res.headersSent) sendError(res, 500, 'ServiceException', String(e.message));
    });
  });
});

server.listen(opts.port, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
// Lines are written synchronously, so nothing is lost by leaving at once (close() would wait for keep-alive clients).
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
