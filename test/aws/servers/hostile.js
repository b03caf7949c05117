// SPDX-License-Identifier: MIT
// A hostile HTTP server for the add-on's HTTP tests (Node 18+, no dependencies). Listens on
// 127.0.0.1 on a free port and prints the port on its first line of stdout. Routes:
//   /echo           200, JSON of what it saw: method, path, headers (lower-case), body
//   /wait?ms=N      200 after N ms (an id from ?id= echoed), for concurrency
//   /error/<kind>   an AWS error: json-hash, json-plain, json-code, header, xml
//   /big?mb=N       200 with an N MB body
//   /slow?ms=N      headers at once, the body only after N ms
//   /reset          the connection reset without a response
//   /truncate       Content-Length 1000, 10 bytes sent, then the connection closed
'use strict';
const http = require('http');

function send(res, status, headers, body) {
  res.writeHead(status, Object.assign({ 'Content-Length': Buffer.byteLength(body) }, headers));
  res.end(body);
}

const errors = {
  'json-hash': [400, {}, JSON.stringify({
    __type: 'com.amazonaws.kinesis.v20131202#ProvisionedThroughputExceededException',
    message: 'Rate exceeded for shard shardId-000000000000' })],
  'json-plain': [400, {}, JSON.stringify({ __type: 'ResourceNotFoundException',
    message: 'Stream not found' })],
  'json-code': [400, {}, JSON.stringify({ code: 'ExpiredIteratorException', Message: 'Iterator expired' })],
  header: [429, { 'x-amzn-ErrorType': 'TooManyRequestsException:http://internal.amazon.com/coral/com.amazonaws.lambda/' },
    JSON.stringify({ Type: 'User', message: 'Rate Exceeded.' })],
  xml: [403, { 'Content-Type': 'text/xml' },
    '<?xml version="1.0"?><ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>' +
    '<Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>'],
};

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const p = url.pathname;
    if (p === '/echo') {
      send(res, 200, { 'Content-Type': 'application/json', 'X-Echo': ' padded value ' },
        JSON.stringify({ method: req.method, path: req.url, headers: req.headers, body,
          port: req.socket.remotePort }));
    } else if (p === '/wait') {
      const ms = Number(url.searchParams.get('ms') || 0);
      setTimeout(() => send(res, 200, {}, JSON.stringify({ id: url.searchParams.get('id'), body })), ms);
    } else if (p.startsWith('/error/') && errors[p.slice(7)]) {
      const [status, headers, text] = errors[p.slice(7)];
      send(res, status, headers, text);
    } else if (p === '/big') {
      const mb = Number(url.searchParams.get('mb') || 1);
      const chunk = Buffer.alloc(1 << 20, 'x');
      const chunked = url.searchParams.get('chunked') === '1';
      res.writeHead(200, chunked ? {} : { 'Content-Length': mb << 20 });
      let sent = 0;
      const more = () => {
        while (sent < mb) {
          sent++;
          if (!res.write(chunk)) { res.once('drain', more); return; }
        }
        res.end();
      };
      res.on('error', () => {});
      more();
    } else if (p === '/slow') {
      const ms = Number(url.searchParams.get('ms') || 5000);
      res.writeHead(200, { 'Content-Length': 2 });
      res.flushHeaders();
      const t = setTimeout(() => res.end('ok'), ms);
      res.on('close', () => clearTimeout(t));
    } else if (p === '/reset') {
      if (req.socket.resetAndDestroy) req.socket.resetAndDestroy();
      else req.socket.destroy();
    } else if (p === '/truncate') {
      req.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789');
      req.socket.end();
      req.socket.destroy();
    } else {
      send(res, 404, {}, JSON.stringify({ __type: 'UnknownOperationException', message: p }));
    }
  });
});
server.keepAliveTimeout = 30000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(server.address().port + '\n');
});
process.on('SIGTERM', () => process.exit(0));
