// SPDX-License-Identifier: MIT
// A minimal Kinesis client for the shell tests (Kinesis JSON API over plain http, no SDK;
// kinesalite accepts any signature):
//   node kinesis_mini.js create URL STREAM SHARDS   create the stream, wait until ACTIVE
//   node kinesis_mini.js put URL STREAM N KEYS [BATCH [PAUSE_MS]]   put N records (data
//       "r<i>", partition key "k<i mod KEYS>") in order, one PutRecords of BATCH (default and
//       at most 500) at a time, PAUSE_MS apart, and print each as a JSON line
//       {"seq","pk","data"} (data base64, as Kinesis returns it)
// Node 18, no dependencies.
'use strict';
const http = require('http');

function call(url, op, body) {
  const u = new URL(url);
  const text = JSON.stringify(body);
  const date = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: u.hostname, port: u.port, method: 'POST', path: '/',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': 'Kinesis_20131202.' + op,
        'X-Amz-Date': date,
        Authorization: 'AWS4-HMAC-SHA256 Credential=x/' + date.slice(0, 8) +
          '/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=0',
        'Content-Length': Buffer.byteLength(text),
      },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const s = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) return reject(new Error(op + ': HTTP ' + res.statusCode + ' ' + s));
        resolve(s ? JSON.parse(s) : {});
      });
    });
    req.on('error', reject);
    req.end(text);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function create(url, stream, shards) {
  await call(url, 'CreateStream', { StreamName: stream, ShardCount: shards });
  for (let i = 0; i < 200; i++) {
    const d = await call(url, 'DescribeStream', { StreamName: stream });
    if (d.StreamDescription.StreamStatus === 'ACTIVE') return;
    await sleep(50);
  }
  throw new Error('stream ' + stream + ' did not become ACTIVE');
}

async function put(url, stream, n, keys, per, pause) {
  const out = [];
  for (let i = 0; i < n; i += per) {
    if (i > 0 && pause > 0) await sleep(pause);
    const batch = [];
    for (let j = i; j < Math.min(n, i + per); j++)
      batch.push({ PartitionKey: 'k' + (j % keys), Data: Buffer.from('r' + j).toString('base64') });
    const r = await call(url, 'PutRecords', { StreamName: stream, Records: batch });
    if (r.FailedRecordCount) throw new Error('PutRecords: ' + r.FailedRecordCount + ' failed');
    r.Records.forEach((x, k) => out.push(JSON.stringify({ seq: x.SequenceNumber, pk: batch[k].PartitionKey, data: batch[k].Data })));
  }
  process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
}

const [cmd, url, stream, a, b, c, d] = process.argv.slice(2);
const run = cmd === 'create' ? create(url, stream, Number(a))
  : cmd === 'put' ? put(url, stream, Number(a), Number(b), Math.min(500, Number(c) || 500), Number(d) || 0)
  : Promise.reject(new Error('usage: kinesis_mini.js create|put URL STREAM ...'));
run.catch((e) => { console.error('kinesis_mini: ' + e.message); process.exit(1); });
