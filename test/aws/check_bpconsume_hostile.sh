#!/bin/sh
# SPDX-License-Identifier: MIT
# bpconsume against a hostile Kinesis: kinesalite behind test/aws/servers/faulty_proxy.js,
# which answers about one ListShards / GetShardIterator / GetRecords in five with a fault
# (connection reset, truncated body, 500, throttle, a slow answer, 10 MB of garbage, wrong
# types, an expired iterator). 1,000 records on 2 shards, put while bpconsume reads; each
# must reach the command at least once, in order per partition key, and bpconsume must
# exit 0 by itself (--until-idle) having retried.
# usage: check_bpconsume_hostile.sh BUILD
set -u
name=check_bpconsume_hostile
bin=$1/bpconsume
. test/aws/lib_servers.sh
need_kinesalite
start_server proxy PROXY node test/aws/servers/faulty_proxy.js --target "$KIN" --rate 0.2 --seed 2
t0=$(date +%s)

stream=hostile$$
node test/aws/servers/kinesis_mini.js create "$KIN" "$stream" 2 || fail "CreateStream"
printf '{"EventSourceArn":"arn:aws:kinesis:us-east-1:123456789012:stream/%s","FunctionName":"f","StartingPosition":"TRIM_HORIZON","BatchSize":10}\n' \
  "$stream" > "$tmp/mapping.json"
# The command keeps each event in its own file, named by the time it started (a shard's
# invocations never overlap, so the names order them per shard), and succeeds.
mkdir "$tmp/ev"
cat > "$tmp/handler.sh" <<'EOF'
f=$1/$(date +%s%N).$$
cat > "$f.part" && mv "$f.part" "$f.json" && echo '{}'
EOF

# The records arrive in 40 waves while bpconsume reads (the reads, and so the faults, go on).
node test/aws/servers/kinesis_mini.js put "$KIN" "$stream" 1000 10 25 150 > "$tmp/put.ndjson" &
producer=$!
pids="$pids $producer"
"$bin" --mapping "$tmp/mapping.json" --endpoint-url "$PROXY" --checkpoint-dir "$tmp/state" \
  --exec "sh $tmp/handler.sh $tmp/ev" --until-idle 3000 --json > "$tmp/out.ndjson" 2> "$tmp/err" &
consumer=$!
pids="$pids $consumer"
wait "$producer" || fail "PutRecords"
# a stall is a failure, not a hung test
i=0
while kill -0 "$consumer" 2>/dev/null && [ $i -lt 900 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$consumer" 2>/dev/null; then
  kill -9 "$consumer"; tail -5 "$tmp/err"; fail "bpconsume did not finish within 90 s"
fi
wait "$consumer"; rc=$?
[ "$rc" -eq 0 ] || { tail -20 "$tmp/err"; fail "bpconsume exited $rc"; }

node -e '
const http = require("http");
http.get(process.argv[1] + "/_stats", (r) => { let s = ""; r.on("data", (c) => s += c); r.on("end", () => console.log(s)); });
' "$PROXY" > "$tmp/stats.json" || fail "proxy stats"

node - "$tmp/put.ndjson" "$tmp/ev" "$tmp/out.ndjson" "$tmp/stats.json" <<'EOF' || fail "see above"
const fs = require('fs');
const [putFile, evDir, outFile, statsFile] = process.argv.slice(2);
const bad = [];
const put = fs.readFileSync(putFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
if (put.length !== 1000) bad.push('put ' + put.length + ' records, not 1000');
// every record the command received, in the order the invocations started
const got = [];
for (const f of fs.readdirSync(evDir).filter((f) => f.endsWith('.json')).sort()) {
  for (const r of JSON.parse(fs.readFileSync(evDir + '/' + f, 'utf8')).Records) got.push(r.kinesis);
}
const first = new Map();
got.forEach((k, i) => { if (!first.has(k.sequenceNumber)) first.set(k.sequenceNumber, { i, k }); });
const lastByKey = new Map();
for (const p of put) {
  const f = first.get(p.seq);
  if (!f) { bad.push('never delivered: ' + JSON.stringify(p)); continue; }
  if (f.k.partitionKey !== p.pk || f.k.data !== p.data) bad.push('changed: ' + JSON.stringify([p, f.k]));
  // put order per key is sequence order; first deliveries must follow it
  const last = lastByKey.get(p.pk);
  if (last !== undefined && f.i < last) bad.push('out of order for ' + p.pk + ' at ' + p.seq);
  lastByKey.set(p.pk, f.i);
}
const events = fs.readFileSync(outFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const summary = events.find((e) => e.summary);
const errors = events.filter((e) => e.event === 'error').length;
if (!summary) bad.push('no summary');
else {
  if (summary.summary.invoked < 1000) bad.push('summary: invoked ' + summary.summary.invoked);
  if (!(summary.summary.http_failures > 0)) bad.push('summary: no http_failures');
  if (!(summary.summary.expired_iterators > 0)) bad.push('summary: no expired_iterators');
}
if (errors < 3) bad.push('only ' + errors + ' fetch error events');
const stats = JSON.parse(fs.readFileSync(statsFile, 'utf8'));
for (const k of ['reset', 'truncated', 'internal', 'throttle', 'slow', 'garbage', 'wrong_types', 'expired'])
  if (!(stats[k] > 0)) bad.push('the proxy never injected ' + k);
console.log('check_bpconsume_hostile: ' + got.length + ' records delivered (' + (got.length - first.size) +
  ' again), ' + errors + ' error events; proxy ' + JSON.stringify(stats) +
  (summary ? '; ' + JSON.stringify(summary.summary) : ''));
if (bad.length) { console.log(bad.slice(0, 20).join('\n')); process.exit(1); }
EOF
echo "$name: ok ($(( $(date +%s) - t0 )) s)"
