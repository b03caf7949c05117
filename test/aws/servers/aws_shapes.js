// SPDX-License-Identifier: MIT
// A loopback server of the shapes of Lambda Invoke, SQS SendMessage (JSON protocol), SNS
// Publish (query protocol) and S3 PutObject, for the tests of the invokers and on-failure
// destinations. Node 18, no dependencies. Signatures are not checked; whether a request was
// signed is recorded.
//
//   node aws_shapes.js [port]     listens on 127.0.0.1 (port 0: any free one) and prints
//                                 the port on its first line of stdout
//
// Test control:
//   POST /_script   {"lambda":[R...],"sqs":[R...],"sns":[R...],"s3":[R...]}: queue scripted
//                   responses; each request of a service takes the next one, and gets the
//                   service's normal success when its queue is empty. R is
//                   {"status":200,"headers":{...},"body":"text" or JSON value,
//                    "error":"AwsErrorCode" (an error body of the service's protocol),
//                    "delayMs":N (answer late), "bigBytes":N (a body of N bytes),
//                    "reset":true (destroy the connection without answering)}
//   GET  /_received the requests received so far, oldest first: [{service, method, path,
//                   headers (lower-case names), signed, body}]
//   POST /_reset    forget the scripts and the requests received
'use strict';

const http = require('http');
const crypto = require('crypto');

const scripts = { lambda: [], sqs: [], sns: [], s3: [] };
let received = [];

function serviceOf(req, body) {
  const path = req.url.split('?')[0];
  if (path.startsWith('/2015-03-31/functions/') && path.endsWith('/invocations')) {
    return 'lambda';
  }
  const target = req.headers['x-amz-target'] || '';
  if (target.startsWith('AmazonSQS.')) return 'sqs';
  if (req.method === 'PUT') return 's3';
  if (req.method === 'POST' && new URLSearchParams(body).get('Action') === 'Publish') return 'sns';
  return null;
}

// The service's normal success.
function success(service, body) {
  const id = crypto.randomUUID();
  switch (service) {
    case 'lambda':
      return {
        status: 200,
        headers: { 'x-amzn-RequestId': id, 'X-Amz-Executed-Version': '$LATEST' },
        body: '{"batchItemFailures":[]}',
      };
    case 'sqs': {
      let msg = '';
      try { msg = JSON.parse(body).MessageBody || ''; } catch (e) { msg = ''; }
      const md5 = crypto.createHash('md5').update(msg).digest('hex');
      return {
        status: 200,
        headers: { 'x-amzn-RequestId': id, 'Content-Type': 'application/x-amz-json-1.0' },
        body: JSON.stringify({ MD5OfMessageBody: md5, MessageId: crypto.randomUUID() }),
      };
    }
    case 'sns':
      return {
        status: 200,
        headers: { 'x-amzn-RequestId': id, 'Content-Type': 'text/xml' },
        body: '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult>' +
          `<MessageId>${crypto.randomUUID()}</MessageId></PublishResult><ResponseMetadata>` +
          `<RequestId>${id}</RequestId></ResponseMetadata></PublishResponse>`,
      };
    default:
      return { status: 200, headers: { ETag: `"${crypto.randomUUID()}"` }, body: '' };
  }
}

// An error body in the service's protocol.
function errorBody(service, code) {
  if (service === 'lambda' || service === 'sqs') {
    return { type: 'application/json', text: JSON.stringify({ __type: code, message: code }) };
  }
  if (service === 'sns') {
    return {
      type: 'text/xml',
      text: `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${code}` +
        '</Message></Error><RequestId>r</RequestId></ErrorResponse>',
    };
  }
  return {
    type: 'application/xml',
    text: `<Error><Code>${code}</Code><Message>${code}</Message></Error>`,
  };
}

function answer(res, service, body, r) {
  if (r.reset) {
    res.socket.destroy();
    return;
  }
  const ok = success(service, body);
  const status = r.status || (r.error ? 400 : ok.status);
  const headers = Object.assign({}, r.error ? {} : ok.headers, r.headers || {});
  if (r.error) {
    const eb = errorBody(service, r.error);
    headers['Content-Type'] = eb.type;
    headers['x-amzn-ErrorType'] = r.error;
    headers['x-amzn-RequestId'] = crypto.randomUUID();
    res.writeHead(status, headers);
    res.end(eb.text);
    return;
  }
  if (r.bigBytes) {
    res.writeHead(status, Object.assign(headers, { 'Content-Length': r.bigBytes }));
    const chunk = Buffer.alloc(65536, 0x61);
    let left = r.bigBytes;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    res.on('error', () => {});
    pump();
    return;
  }
  let text = ok.body;
  if (r.body !== undefined) text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
  res.writeHead(status, headers);
  res.end(text);
}

function control(req, res, body) {
  const reply = (status, value) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  if (req.method === 'GET' && req.url === '/_received') return reply(200, received);
  if (req.method === 'POST' && req.url === '/_reset') {
    received = [];
    for (const k of Object.keys(scripts)) scripts[k] = [];
    return reply(200, {});
  }
  if (req.method === 'POST' && req.url === '/_script') {
    let s;
    try { s = JSON.parse(body); } catch (e) { return reply(400, { error: 'not JSON' }); }
    for (const k of Object.keys(s)) {
      if (!scripts[k] || !Array.isArray(s[k])) return reply(400, { error: `bad key ${k}` });
      scripts[k].push(...s[k]);
    }
    return reply(200, {});
  }
  return reply(404, { error: 'no such control' });
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    if (req.url.startsWith('/_')) return control(req, res, body);
    const service = serviceOf(req, body);
    received.push({
      service,
      method: req.method,
      path: req.url,
      headers: req.headers,
      signed: /^AWS4-HMAC-SHA256 /.test(req.headers.authorization || ''),
      body,
    });
    if (!service) {
      const eb = errorBody('sqs', 'UnknownOperationException');
      res.writeHead(400, { 'Content-Type': eb.type });
      res.end(eb.text);
      return;
    }
    const r = scripts[service].shift() || {};
    if (r.delayMs) setTimeout(() => answer(res, service, body, r), r.delayMs);
    else answer(res, service, body, r);
  });
});

server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
