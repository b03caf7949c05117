// SPDX-License-Identifier: MIT
// A fault-injecting proxy in front of a Kinesis (kinesalite) for the hostile tests: listens on
// 127.0.0.1 at a port the system picks, prints that port, forwards every request to the
// target, and on ListShards / GetShardIterator / GetRecords (X-Amz-Target) injects, with
// probability --rate and a seeded pseudo-random choice, one of the faults below. GET /_stats
// answers the counts as JSON; SIGTERM prints them on stderr and exits.
// usage: node faulty_proxy.js --target URL [--rate P] [--seed N] [--slow-ms MS]
// Node 18, no dependencies.
'use strict';
const http = require('http');

const opts = { target: null, rate: 0.2, seed: 1, slowMs: 2500 };
for (let i = 2; i < process.argv.length; i += 2) {
  const [k, v] = [process.argv[i], process.argv[i + 1]];
  if (k === '--target') opts.target = new URL(v);
  else if (k === '--rate') opts.rate = Number(v);
  else if (k === '--seed') opts.seed = Number(v) >>> 0;
  else if (k === '--slow-ms') opts.slowMs = Number(v);
  else { console.error('faulty_proxy: unknown option ' + k); process.exit(2); }
}
if (!opts.target) {
  console.error('usage: node faulty_proxy.js --target URL [--rate P] [--seed N] [--slow-ms MS]');
  process.exit(2);
}

// mulberry32: a small seeded generator, so a seed names one schedule of faults.
let state = opts.seed || 1;
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

// Faults, and the operations each applies to.
const ALL = ['ListShards', 'GetShardIterator', 'GetRecords'];
const FAULTS = {
  reset: ALL,          // the request reaches the server, the connection dies before the answer
  truncated: ALL,      // 200, half of the server's body, then the connection closes
  internal: ALL,       // 500 InternalFailure, not forwarded
  throttle: ALL,       // 400 ProvisionedThroughputExceededException, not forwarded
  slow: ALL,           // forwarded and answered after --slow-ms
  garbage: ALL,        // 200 and 10 MB of bytes that are not JSON
  wrong_types: ALL,    // the server's answer with a member of the wrong type
  expired: ['GetRecords'], // 400 ExpiredIteratorException, not forwarded
};
const counts = { requests: 0, forwarded: 0 };
for (const k of Object.keys(FAULTS)) counts[k] = 0;

// Whether a request gets a fault is drawn with --rate; which fault is the next of a seeded
// shuffle of all kinds that applies to the operation (a pending kind waits for one it
// applies to), so a few dozen requests see every kind.
const cycle = Object.keys(FAULTS);
for (let i = cycle.length - 1; i > 0; i--) {
  const j = Math.floor(random() * (i + 1));
  [cycle[i], cycle[j]] = [cycle[j], cycle[i]];
}
let next = 0;

function pickFault(op) {
  if (!ALL.includes(op) || random() >= opts.rate) return null;
  for (let k = 0; k < cycle.length; k++) {
    const i = (next + k) % cycle.length;
    if (!FAULTS[cycle[i]].includes(op)) continue;
    [cycle[i], cycle[next]] = [cycle[next], cycle[i]];
    const kind = cycle[next];
    next = (next + 1) % cycle.length;
    return kind;
  }
  return null;
}

function kinesisError(res, status, type, message) {
  const body = JSON.stringify({ __type: type, message });
  res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

// The answer with one member of the wrong type: a string where an array is, a number where a
// string is.
let wrongRecord = false;
function wrongTypes(op, body) {
  let o;
  try { o = JSON.parse(body); } catch (e) { return body; }
  if (op === 'GetRecords') {
    // alternately (not drawn: the schedule of faults stays the seed's)
    if (Array.isArray(o.Records) && o.Records.length > 0 && (wrongRecord = !wrongRecord))
      o.Records[o.Records.length - 1].SequenceNumber = 12345678901234567890;
    else o.Records = 'x';
  } else if (op === 'GetShardIterator') {
    o.ShardIterator = 42;
  } else {
    o.Shards = 'x';
  }
  return JSON.stringify(o);
}

function forward(req, body, then) {
  const headers = Object.assign({}, req.headers, { host: opts.target.host });
  const up = http.request({
    host: opts.target.hostname, port: opts.target.port, method: req.method, path: req.url, headers,
  }, (ur) => {
    const chunks = [];
    ur.on('data', (c) => chunks.push(c));
    ur.on('end', () => { counts.forwarded++; then(null, ur, Buffer.concat(chunks)); });
    ur.on('error', (e) => then(e));
  });
  up.on('error', (e) => then(e));
  up.end(body);
}

function reply(res, ur, body) {
  const h = Object.assign({}, ur.headers, { 'content-length': body.length });
  delete h['transfer-encoding'];
  delete h.connection;
  res.writeHead(ur.statusCode, h);
  res.end(body);
}

const GARBAGE_BYTES = 10 << 20;

function inject(fault, op, req, res, body) {
  switch (fault) {
    case 'internal': return kinesisError(res, 500, 'InternalFailure', 'injected');
    case 'throttle':
      return kinesisError(res, 400, 'ProvisionedThroughputExceededException', 'Rate exceeded for shard (injected)');
    case 'expired':
      return kinesisError(res, 400, 'ExpiredIteratorException', 'Iterator expired (injected)');
    case 'garbage': {
      res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.1', 'Content-Length': GARBAGE_BYTES });
      const chunk = Buffer.alloc(1 << 16, '{"Records":[{{{\u00ff');
      let left = GARBAGE_BYTES;
      const more = () => {
        while (left > 0) {
          const n = Math.min(left, chunk.length);
          left -= n;
          if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return res.once('drain', more);
        }
        res.end();
      };
      res.on('close', () => { left = 0; });
      return more();
    }
  }
  forward(req, body, (err, ur, ubody) => {
    if (err) return res.destroy();
    switch (fault) {
      case 'reset': return res.socket.destroy();
      case 'truncated':
        res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.1', 'Content-Length': ubody.length });
        res.write(ubody.subarray(0, Math.floor(ubody.length / 2)));
        return setTimeout(() => res.socket.destroy(), 20);
      case 'slow': return setTimeout(() => reply(res, ur, ubody), opts.slowMs);
      case 'wrong_types':
        if (ur.statusCode !== 200) return reply(res, ur, ubody);
        return reply(res, ur, Buffer.from(wrongTypes(op, ubody.toString('utf8'))));
    }
    return reply(res, ur, ubody);
  });
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/_stats') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    return res.end(JSON.stringify(counts));
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const target = req.headers['x-amz-target'] || '';
    const op = target.slice(target.indexOf('.') + 1);
    counts.requests++;
    const fault = pickFault(op);
    if (fault) counts[fault]++;
    if (fault) return inject(fault, op, req, res, body);
    forward(req, body, (err, ur, ubody) => (err ? res.destroy() : reply(res, ur, ubody)));
  });
});
server.keepAliveTimeout = 30000;
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\n'));
process.on('SIGTERM', () => {
  process.stderr.write('faulty_proxy: ' + JSON.stringify(counts) + '\n');
  process.exit(0);
});
