// SPDX-License-Identifier: MIT
// A minimal Lambda Runtime API on 127.0.0.1 for testing a custom runtime (check_runtime.sh):
// it queues the events of a file (one a line, raw bytes), hands them out one at a time on
//   GET  /2018-06-01/runtime/invocation/next        (headers Lambda-Runtime-Aws-Request-Id,
//        Lambda-Runtime-Deadline-Ms, Lambda-Runtime-Invoked-Function-Arn, Lambda-Runtime-Trace-Id)
// and records the answers:
//   POST /2018-06-01/runtime/invocation/{id}/response
//   POST /2018-06-01/runtime/invocation/{id}/error  (Lambda-Runtime-Function-Error-Type header)
//   POST /2018-06-01/runtime/init/error
// Like Lambda, it gives the next event only after the previous one was answered, and leaves a
// /next without an event pending. When every event is answered (or an init error came) it
// writes OUT, one line per answer in event order, and exits 0:
//   {"kind":"response"|"error"|"init_error","index":i,"id":...,"errorType":header,"body":text}
// plus {"kind":"violation","detail":...} lines for protocol errors (unknown id, a second
// answer, a /next before the previous answer). Exit 3 when --timeout-ms passes first.
// usage: node runtime_api.js --events FILE --out FILE [--timeout-ms MS]   prints "listening <port>"
'use strict';
const fs = require('fs');
const http = require('http');

const args = {};
for (let i = 2; i + 1 < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
if (!args.events || !args.out) {
  process.stderr.write('usage: node runtime_api.js --events FILE --out FILE [--timeout-ms MS]\n');
  process.exit(2);
}
const raw = fs.readFileSync(args.events);
const events = [];
for (let at = 0; at < raw.length;) {
  let nl = raw.indexOf(0x0a, at);
  if (nl < 0) nl = raw.length;
  events.push(raw.subarray(at, nl));
  at = nl + 1;
}

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:111111111111:function:fn';
const idOf = (i) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const answers = [], violations = [];
let next = 0; // the next event to hand out
let open = -1; // the event handed out and not answered yet
let finished = false;

function finish(code) {
  if (finished) return;
  finished = true;
  const lines = answers.filter(Boolean).concat(violations.map((detail) => ({ kind: 'violation', detail })));
  fs.writeFileSync(args.out, lines.map((l) => JSON.stringify(l) + '\n').join(''));
  server.close();
  // Pending /next requests stay open (as on Lambda): end the process, not the wait.
  setImmediate(() => process.exit(code));
}

function readBody(req, cb) {
  const parts = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', () => cb(Buffer.concat(parts)));
}

const server = http.createServer((req, res) => {
  const url = req.url;
  const reply = (status, obj) => { res.writeHead(status, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(obj)); };
  if (req.method === 'GET' && url === '/2018-06-01/runtime/invocation/next') {
    if (open >= 0) violations.push(`/next while event ${open} is unanswered`);
    if (next >= events.length) return; // nothing more: the request waits, as on Lambda
    open = next++;
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Lambda-Runtime-Aws-Request-Id': idOf(open),
      'Lambda-Runtime-Deadline-Ms': String(Date.now() + 30000),
      'Lambda-Runtime-Invoked-Function-Arn': FUNCTION_ARN,
      'Lambda-Runtime-Trace-Id': `Root=1-5bef4de7-${open.toString(16).padStart(24, "0")};Parent=9a9197af755a6419;Sampled=0`,
    });
    res.end(events[open]);
    return;
  }
  let m;
  if (req.method === 'POST' && (m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url))) {
    readBody(req, (body) => {
      const i = events.findIndex((_, k) => idOf(k) === m[1]);
      if (i < 0 || i !== open) {
        violations.push(`${m[2]} for ${i < 0 ? 'an unknown id' : answers[i] ? 'an answered event' : 'an event not handed out'} ${m[1]}`);
        return reply(400, { errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' });
      }
      answers[i] = { kind: m[2], index: i, id: m[1], errorType: req.headers['lambda-runtime-function-error-type'] || null, body: body.toString('utf8') };
      open = -1;
      reply(202, { status: 'OK' });
      if (next >= events.length) finish(0);
    });
    return;
  }
  if (req.method === 'POST' && url === '/2018-06-01/runtime/init/error') {
    readBody(req, (body) => {
      answers.push({ kind: 'init_error', index: null, id: null, errorType: req.headers['lambda-runtime-function-error-type'] || null, body: body.toString('utf8') });
      reply(202, { status: 'OK' });
      finish(0);
    });
    return;
  }
  violations.push(`${req.method} ${url}`);
  reply(404, { errorMessage: 'not found', errorType: 'NotFound' });
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
  if (events.length === 0) finish(0);
});
setTimeout(() => finish(3), Number(args['timeout-ms'] || 60000)).unref();
