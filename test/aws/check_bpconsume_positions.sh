#!/bin/sh
# SPDX-License-Identifier: MIT
# bpconsume's StartingPosition against kinesalite, end to end: LATEST delivers only what is put
# after the shard consumers started, AT_TIMESTAMP only what arrived at or after the timestamp,
# TRIM_HORIZON everything; a restart resumes after the stored checkpoint (AFTER_SEQUENCE_NUMBER)
# whatever the StartingPosition says. Each run: one GetShardIterator per shard.
# usage: check_bpconsume_positions.sh BUILD
set -u
name=check_bpconsume_positions
bin=$1/bpconsume
. test/aws/lib_servers.sh
need_kinesalite
t0=$(date +%s)
stream=pos$$
arn="arn:aws:kinesis:us-east-1:123456789012:stream/$stream"
mini() { node test/aws/servers/kinesis_mini.js "$@"; }
mini create "$KIN" "$stream" 2 || fail "CreateStream"
mini put "$KIN" "$stream" 40 4 > "$tmp/wave1.ndjson" || fail "put wave 1"
# the AT_TIMESTAMP boundary: a whole second after wave 1 (arrival times are kinesalite's clock)
sleep 1.1
ts=$(node -e 'console.log((Date.now() / 1000).toFixed(3))')
sleep 0.2
mini put "$KIN" "$stream" 30 4 > "$tmp/wave2.ndjson" || fail "put wave 2"

# run POSITION EXTRA_JSON DIR: bpconsume with that StartingPosition, events kept per invocation
cat > "$tmp/handler.sh" <<'SH'
cat > "$1/$(date +%s%N).$$.json" && echo '{}'
SH
run() {
  mkdir -p "$tmp/$3/ev"
  printf '{"EventSourceArn":"%s","FunctionName":"f","StartingPosition":"%s"%s}\n' \
    "$arn" "$1" "$2" > "$tmp/$3/mapping.json"
  "$bin" --mapping "$tmp/$3/mapping.json" --endpoint-url "$KIN" --checkpoint-dir "$tmp/$3/state" \
    --exec "sh $tmp/handler.sh $tmp/$3/ev" --until-idle "${4:-1500}" --json \
    > "$tmp/$3/out.ndjson" 2> "$tmp/$3/err" || { cat "$tmp/$3/err"; fail "$1: bpconsume exited $?"; }
}
# delivered DIR EXPECTED_FILES...: the sequence numbers delivered equal those of the files
delivered() {
  dir=$1; shift
  node - "$tmp/$dir" "$@" <<'JS' || fail "$dir: see above"
const fs = require('fs');
const [dir, ...files] = process.argv.slice(2);
const want = new Set(files.flatMap((f) => fs.readFileSync(f, 'utf8').trim().split('\n')
  .filter(Boolean).map((l) => JSON.parse(l).seq)));
const got = [];
for (const f of fs.readdirSync(dir + '/ev').sort())
  for (const r of JSON.parse(fs.readFileSync(dir + '/ev/' + f, 'utf8')).Records) got.push(r.kinesis.sequenceNumber);
const bad = [];
for (const s of got) if (!want.has(s)) bad.push('delivered but not expected: ' + s);
for (const s of want) if (!got.includes(s)) bad.push('expected but not delivered: ' + s);
if (got.length !== new Set(got).size) bad.push('delivered twice');
const sum = fs.readFileSync(dir + '/out.ndjson', 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  .find((e) => e.summary).summary;
if (sum.get_shard_iterator !== 2) bad.push('GetShardIterator ' + sum.get_shard_iterator + ', not 2');
if (bad.length) { console.log(bad.slice(0, 10).join('\n')); process.exit(1); }
console.log(dir.replace(/.*\//, '') + ': ' + got.length + ' records as expected, GetShardIterator ' + sum.get_shard_iterator);
JS
}

run TRIM_HORIZON "" trim
delivered trim "$tmp/wave1.ndjson" "$tmp/wave2.ndjson"
run AT_TIMESTAMP ",\"StartingPositionTimestamp\":$ts" at
delivered at "$tmp/wave2.ndjson"

# LATEST: started before wave 3; it must see wave 3 only (records put while it polls)
mkdir -p "$tmp/latest/ev"
printf '{"EventSourceArn":"%s","FunctionName":"f","StartingPosition":"LATEST"}\n' "$arn" \
  > "$tmp/latest/mapping.json"
"$bin" --mapping "$tmp/latest/mapping.json" --endpoint-url "$KIN" --checkpoint-dir "$tmp/latest/state" \
  --exec "sh $tmp/handler.sh $tmp/latest/ev" --until-idle 2500 --json \
  > "$tmp/latest/out.ndjson" 2> "$tmp/latest/err" &
consumer=$!
pids="$pids $consumer"
i=0
while [ "$(grep -c '"event":"fetch"' "$tmp/latest/out.ndjson" 2>/dev/null)" -lt 2 ] && [ $i -lt 100 ]; do
  sleep 0.1; i=$((i + 1)); done
[ $i -lt 100 ] || fail "LATEST: no read within 10 s"
mini put "$KIN" "$stream" 25 4 > "$tmp/wave3.ndjson" || fail "put wave 3"
wait "$consumer" || { cat "$tmp/latest/err"; fail "LATEST: bpconsume failed"; }
delivered latest "$tmp/wave3.ndjson"

# a restart resumes after the checkpoint, not at TRIM_HORIZON: waves 3 and 4 only
mini put "$KIN" "$stream" 20 4 > "$tmp/wave4.ndjson" || fail "put wave 4"
rm -rf "$tmp/trim/ev" && mkdir "$tmp/trim/ev"
run TRIM_HORIZON "" trim
delivered trim "$tmp/wave3.ndjson" "$tmp/wave4.ndjson"
echo "$name: ok ($(($(date +%s) - t0)) s)"
