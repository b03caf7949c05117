#!/bin/sh
# SPDX-License-Identifier: MIT
# bpconsume's on-failure destinations and Lambda endpoint reached through the AWS SDKs'
# endpoint variables (AWS_ENDPOINT_URL_SQS / _SNS / _S3 / _LAMBDA), against kinesalite and the
# service shapes of test/aws/servers/aws_shapes.js: a function that always fails, no retries,
# BatchSize 5, so 12 records make on-failure records that must arrive as SQS SendMessage, SNS
# Publish and S3 PutObject bodies covering every record, each with the SEMANTICS.md §5 shape.
# usage: check_bpconsume_destinations.sh BUILD
set -u
name=check_bpconsume_destinations
bin=$1/bpconsume
. test/aws/lib_servers.sh
need_kinesalite
start_server shapes SHAPES node test/aws/servers/aws_shapes.js
t0=$(date +%s)
stream=dest$$
node test/aws/servers/kinesis_mini.js create "$KIN" "$stream" 1 || fail "CreateStream"
node test/aws/servers/kinesis_mini.js put "$KIN" "$stream" 12 3 > "$tmp/put.ndjson" || fail "put"
export AWS_ENDPOINT_URL_SQS=$SHAPES AWS_ENDPOINT_URL_SNS=$SHAPES AWS_ENDPOINT_URL_S3=$SHAPES
export AWS_ENDPOINT_URL_KINESIS=$KIN

# destination ARN, function (--exec ... or the Lambda shape), directory
run() {
  mkdir -p "$tmp/$3"
  printf '{"EventSourceArn":"arn:aws:kinesis:us-east-1:123456789012:stream/%s","FunctionName":"f","StartingPosition":"TRIM_HORIZON","BatchSize":5,"MaximumRetryAttempts":0,"DestinationConfig":{"OnFailure":{"Destination":"%s"}}}\n' \
    "$stream" "$1" > "$tmp/$3/mapping.json"
  "$bin" --mapping "$tmp/$3/mapping.json" --checkpoint-dir "$tmp/$3/state" $2 --until-idle 1500 \
    > "$tmp/$3/out" 2> "$tmp/$3/err" || { cat "$tmp/$3/err"; fail "$3: bpconsume exited $?"; }
}
run arn:aws:sqs:us-east-1:123456789012:dlq "--exec false" sqs
run arn:aws:sns:us-east-1:123456789012:topic "--exec false" sns
run arn:aws:s3:::bucket-of-failures "--exec false" s3
# the Lambda Invoke shape from AWS_ENDPOINT_URL_LAMBDA: it answers 500 for every call here
node -e 'require("http").request(process.argv[1] + "/_script", {method: "POST"}, (r) => r.resume()).end(process.argv[2])' \
  "$SHAPES" '{"lambda":[{"status":500,"error":"ServiceException"},{"status":500,"error":"ServiceException"},{"status":500,"error":"ServiceException"}]}' ||
  fail "scripting the Lambda shape"
AWS_ENDPOINT_URL_LAMBDA=$SHAPES run arn:aws:sqs:us-east-1:123456789012:dlq2 "" lambda

node - "$SHAPES" "$tmp/put.ndjson" <<'JS' || fail "see above"
const http = require('http');
const fs = require('fs');
const [url, putFile] = process.argv.slice(2);
const put = fs.readFileSync(putFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l).seq);
http.get(url + '/_received', (res) => {
  let s = '';
  res.on('data', (c) => (s += c));
  res.on('end', () => {
    const got = JSON.parse(s);
    const bad = [];
    const records = { sqs: [], sns: [], s3: [], dlq2: [] };
    for (const r of got) {
      if (!r.signed) bad.push(r.service + ' request not signed');
      let rec;
      let svc = r.service;
      if (r.service === 'sqs') {
        const msg = JSON.parse(r.body);
        rec = JSON.parse(msg.MessageBody);
        if (!/\/123456789012\/dlq2?$/.test(msg.QueueUrl)) bad.push('QueueUrl ' + msg.QueueUrl);
        if (msg.QueueUrl.endsWith('/dlq2')) svc = 'dlq2';
      }
      else if (r.service === 'sns') rec = JSON.parse(new URLSearchParams(r.body).get('Message'));
      else if (r.service === 's3') {
        rec = JSON.parse(r.body);
        if (!r.path.startsWith('/bucket-of-failures/aws/lambda/')) bad.push('S3 key ' + r.path);
        if (r.method !== 'PUT') bad.push('S3 method ' + r.method);
      } else continue;
      const info = rec.KinesisBatchInfo;
      if (rec.requestContext.condition !== 'RetryAttemptsExhausted' || !info || info.batchSize !== 5 && info.batchSize !== 2)
        bad.push(r.service + ': not an on-failure record of 5 or 2: ' + JSON.stringify(rec).slice(0, 200));
      records[svc].push(info);
    }
    for (const svc of ['sqs', 'sns', 's3', 'dlq2']) {
      // every record put lies in one of the service's batches (sequence numbers compared as decimals)
      const cover = (seq) => records[svc].some((i) => BigInt(i.startSequenceNumber) <= BigInt(seq) && BigInt(seq) <= BigInt(i.endSequenceNumber));
      const missing = put.filter((s) => !cover(s));
      if (records[svc].length !== 3 || missing.length) bad.push(svc + ': ' + records[svc].length + ' on-failure records, ' + missing.length + ' records not covered');
    }
    const lambda = got.filter((r) => r.service === 'lambda');
    if (lambda.length < 3) bad.push('Lambda Invoke calls: ' + lambda.length);
    // the Lambda run: 3 batches, each a function error (500) with no retry: 3 records to dlq2
    if (bad.length) { console.log(bad.join('\n')); process.exit(1); }
    console.log('sqs/sns/s3/lambda run: 3 on-failure records each, covering all ' + put.length + ' records; Lambda: ' + lambda.length + ' invokes');
  });
});
JS
echo "$name: ok ($(($(date +%s) - t0)) s)"
