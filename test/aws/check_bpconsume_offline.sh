#!/bin/sh
# SPDX-License-Identifier: MIT
# bpconsume against serverless-offline, a Lambda Invoke API server no one here wrote (Serverless
# Framework v3 + serverless-offline from npm: no account, no Docker), running AWS Lambda
# Powertools' batch handler (test/aws/node/offline): 300 records on a 2-shard kinesalite stream,
# every 37th failing for good. Every record must be processed by the function or covered by an
# on-failure record, in order per partition key, with ReportBatchItemFailures and retries.
# usage: check_bpconsume_offline.sh BUILD
set -u
name=check_bpconsume_offline
bin=$1/bpconsume
. test/support/skipped.sh
command -v node >/dev/null 2>&1 || skipped "node not installed"
[ -f test/aws/node/offline/node_modules/serverless-offline/package.json ] ||
  skipped "serverless-offline not installed (test/aws/node/install.sh)"
[ -f test/aws/node/node_modules/@aws-sdk/client-kinesis/package.json ] ||
  skipped "npm packages not installed (test/aws/node/install.sh)"
. test/aws/lib_servers.sh
need_kinesalite
t0=$(date +%s)
E2E_LOG="$tmp/processed.ndjson"
: > "$E2E_LOG"
# serverless-offline takes a few seconds to start: start.js prints its port when it answers
node test/aws/node/offline/start.js --log "$E2E_LOG" > "$tmp/offline.out" 2> "$tmp/offline.err" &
pids="$pids $!"
i=0
while ! grep -q '^listening ' "$tmp/offline.out" 2>/dev/null && [ $i -lt 600 ]; do
  sleep 0.1; i=$((i + 1)); done
port=$(sed -n 's/^listening //p' "$tmp/offline.out")
[ -n "$port" ] || { cat "$tmp/offline.err"; fail "serverless-offline did not start"; }

stream=offline$$
kt() { node test/aws/node/kinesis_tool.js --endpoint-url "$KIN" "$@"; }
kt create "$stream" 2 > /dev/null || fail "CreateStream"
kt put "$stream" 300 --keys 8 --fail-every 37 --out "$tmp/produced.ndjson" > /dev/null || fail "PutRecords"
cat > "$tmp/mapping.json" <<JSON
{"EventSourceArn":"arn:aws:kinesis:us-east-1:123456789012:stream/$stream","FunctionName":"e2e-fn",
 "StartingPosition":"TRIM_HORIZON","BatchSize":50,"FunctionResponseTypes":["ReportBatchItemFailures"],
 "MaximumRetryAttempts":1,"DestinationConfig":{"OnFailure":{"Destination":"arn:aws:sqs:us-east-1:123456789012:dlq"}}}
JSON
"$bin" --mapping "$tmp/mapping.json" --endpoint-url "$KIN" \
  --lambda-endpoint-url "http://127.0.0.1:$port" --checkpoint-dir "$tmp/state" \
  --failures-file "$tmp/failures.ndjson" --until-idle 3000 > "$tmp/out" 2> "$tmp/err" ||
  { cat "$tmp/err"; fail "bpconsume exited $?"; }
node test/aws/node/check_e2e.js --produced "$tmp/produced.ndjson" --processed "$E2E_LOG" \
  --failures "$tmp/failures.ndjson" > "$tmp/check" 2>&1 || { cat "$tmp/check"; fail "check_e2e"; }
grep -q '"kind":"record"' "$E2E_LOG" || fail "serverless-offline processed nothing"
[ -s "$tmp/failures.ndjson" ] || fail "no on-failure record for the failing records"
echo "$name: $(cat "$tmp/check"); $(tail -1 "$tmp/err" | sed 's/^bpconsume: //'); $(($(date +%s) - t0)) s"
