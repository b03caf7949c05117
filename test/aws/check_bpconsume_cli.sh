#!/bin/sh
# SPDX-License-Identifier: MIT
# bpconsume's command line: --help, bad arguments and mappings (exit 2 with AWS's messages),
# missing credentials, a bad endpoint, an unusable checkpoint directory (exit 1), the mapping
# UUID kept across runs, SIGTERM while idle, --until-idle, --json, and a DynamoDB stream
# (test/aws/servers/ddbstreams_replay.js) whose records reach an --exec command in order.
# usage: check_bpconsume_cli.sh BUILD
set -u
name=check_bpconsume_cli
bin=$1/bpconsume
. test/aws/lib_servers.sh
t0=$(date +%s)
KARN=arn:aws:kinesis:us-east-1:123456789012:stream
DARN=arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/2026-01-01T00:00:00.000

# expect RC WANT_TEXT ARGS...: bpconsume ARGS exits RC and says WANT_TEXT on stderr (it must
# not run long: a guard kills it after 10 s).
expect() {
  _rc=$1; _want=$2; shift 2
  timeout 10 "$bin" "$@" > "$tmp/out" 2> "$tmp/err"; _got=$?
  [ "$_got" -eq "$_rc" ] || { cat "$tmp/err"; fail "bpconsume $*: exit $_got, want $_rc"; }
  grep -qF -- "$_want" "$tmp/err" || { cat "$tmp/err"; fail "bpconsume $*: no '$_want' on stderr"; }
}
mapping() { # FILE JSON
  printf '%s\n' "$2" > "$tmp/$1"
}

# ---- arguments ----
timeout 10 "$bin" --help > "$tmp/help" 2>&1 || fail "--help exits non-zero"
lines=$(wc -l < "$tmp/help")
[ "$lines" -le 40 ] || fail "--help is $lines lines (more than a screen)"
grep -q -- "--mapping FILE" "$tmp/help" || fail "--help does not name --mapping"
expect 2 "--mapping FILE is required"
expect 2 "unknown option --bogus" --mapping x.json --bogus 1
expect 2 "unknown option or missing value" --mapping
expect 2 "--until-idle wants milliseconds" --mapping x.json --until-idle abc
expect 2 "--exec-timeout wants milliseconds" --mapping x.json --exec-timeout -5

# ---- the mapping: AWS's exceptions and messages ----
ok="\"EventSourceArn\":\"$KARN/s\",\"FunctionName\":\"f\",\"StartingPosition\":\"LATEST\""
expect 2 "No such file" --mapping "$tmp/none.json"
mapping bad.json 'not json'
expect 2 "ValidationException: Could not parse request body into json" --mapping "$tmp/bad.json"
mapping bad.json "{$ok,\"BatchSize\":0}"
expect 2 "ValidationException: 1 validation error detected: Value '0' at 'batchSize' failed to satisfy constraint: Member must have value greater than or equal to 1" \
  --mapping "$tmp/bad.json"
mapping bad.json "{\"EventSourceArn\":\"$KARN/s\",\"FunctionName\":\"f\",\"StartingPosition\":\"SOMEWHERE\"}"
expect 2 "ValidationException: 1 validation error detected: Value 'SOMEWHERE' at 'startingPosition' failed to satisfy constraint: Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]" \
  --mapping "$tmp/bad.json"
mapping bad.json "{\"EventSourceArn\":\"$KARN/s\",\"StartingPosition\":\"LATEST\"}"
expect 2 "ValidationException: 1 validation error detected: Value null at 'functionName' failed to satisfy constraint: Member must not be null." \
  --mapping "$tmp/bad.json"
mapping bad.json "{\"FunctionName\":\"f\",\"StartingPosition\":\"LATEST\"}"
expect 2 "InvalidParameterValueException: Unrecognized event source." --mapping "$tmp/bad.json"

# ---- the environment ----
mapping k.json "{$ok}"
st="$tmp/state"
env -u AWS_ACCESS_KEY_ID timeout 10 "$bin" --mapping "$tmp/k.json" --exec cat --checkpoint-dir "$st" \
  > "$tmp/out" 2> "$tmp/err"
rc=$?
[ "$rc" -eq 2 ] || { cat "$tmp/err"; fail "no credentials: exit $rc, want 2"; }
grep -q "AWS_ACCESS_KEY_ID.*AWS_SECRET_ACCESS_KEY" "$tmp/err" ||
  { cat "$tmp/err"; fail "the credentials message does not name the variables"; }
expect 2 "ftp://x" --mapping "$tmp/k.json" --exec cat --checkpoint-dir "$st" --endpoint-url ftp://x
: > "$tmp/file"
expect 1 "$tmp/file/sub" --mapping "$tmp/k.json" --exec cat --checkpoint-dir "$tmp/file/sub" \
  --endpoint-url http://127.0.0.1:9

# ---- against kinesalite ----
need_kinesalite
stream=cli$$
node test/aws/servers/kinesis_mini.js create "$KIN" "$stream" 2 || fail "CreateStream"
mapping k.json "{\"EventSourceArn\":\"$KARN/$stream\",\"FunctionName\":\"f\",\"StartingPosition\":\"TRIM_HORIZON\"}"
ms() { echo $(( $(date +%s%N) / 1000000 )); }

# --until-idle on an empty stream ends by itself, and --json is NDJSON with the shards
a=$(ms)
timeout 20 "$bin" --mapping "$tmp/k.json" --endpoint-url "$KIN" --exec 'cat >/dev/null; echo {}' \
  --checkpoint-dir "$st" --until-idle 500 --json > "$tmp/run1.ndjson" 2> "$tmp/err" ||
  { cat "$tmp/err"; fail "--until-idle 500 on an empty stream: exit $?"; }
took=$(( $(ms) - a ))
echo "$name: --until-idle 500 on an empty stream: exited 0 after $took ms"
[ "$took" -ge 500 ] || fail "--until-idle 500 ended after $took ms, before 500 ms of idleness"
node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter((l) => l);
const ev = lines.map((l, i) => { try { return JSON.parse(l); } catch (e) { console.log("line " + (i + 1) + " is not JSON: " + l); process.exit(1); } });
const started = ev.filter((e) => e.event === "shard_started").map((e) => e.shard).sort();
if (started.join() !== "shardId-000000000000,shardId-000000000001") { console.log("shard_started: " + started); process.exit(1); }
if (!ev.some((e) => e.event === "drained") || !ev[ev.length - 1].summary) { console.log("no drained event or summary last"); process.exit(1); }
' "$tmp/run1.ndjson" || fail "--json output"

# --until-idle does not end a run before the shards are read (the shards are added before
# the engine's first tick: their events carry no time)
stream2=cli2$$
node test/aws/servers/kinesis_mini.js create "$KIN" "$stream2" 2 || fail "CreateStream"
node test/aws/servers/kinesis_mini.js put "$KIN" "$stream2" 20 5 > /dev/null || fail "PutRecords"
mapping k2.json "{\"EventSourceArn\":\"$KARN/$stream2\",\"FunctionName\":\"f\",\"StartingPosition\":\"TRIM_HORIZON\"}"
timeout 20 "$bin" --mapping "$tmp/k2.json" --endpoint-url "$KIN" --exec 'cat >/dev/null; echo {}' \
  --checkpoint-dir "$tmp/state2" --until-idle 300 > /dev/null 2> "$tmp/err" ||
  { cat "$tmp/err"; fail "--until-idle 300: exit $?"; }
grep -q "polled 20, filtered 0, invoked 20 " "$tmp/err" ||
  { cat "$tmp/err"; fail "--until-idle 300 ended before the 20 records were read"; }

# the mapping UUID is made once and kept
uuid=$(cat "$st/mapping-uuid")
echo "$uuid" | grep -qE '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' ||
  fail "mapping-uuid '$uuid' is not a version 4 UUID"

# SIGTERM while idle: drain and exit 0 promptly (same directory: a restart)
"$bin" --mapping "$tmp/k.json" --endpoint-url "$KIN" --exec 'cat >/dev/null; echo {}' \
  --checkpoint-dir "$st" --json > "$tmp/run2.ndjson" 2> "$tmp/err" &
pid=$!
pids="$pids $pid"
i=0
while [ "$(grep -c '"event":"fetch"' "$tmp/run2.ndjson")" -lt 2 ] && [ $i -lt 100 ]; do
  sleep 0.1; i=$((i + 1))
done
[ $i -lt 100 ] || fail "no fetch within 10 s"
sleep 0.3
a=$(ms)
kill -TERM "$pid"
while kill -0 "$pid" 2>/dev/null && [ $(( $(ms) - a )) -lt 5000 ]; do sleep 0.05; done
wait "$pid"; rc=$?
took=$(( $(ms) - a ))
[ "$rc" -eq 0 ] || { cat "$tmp/err"; fail "SIGTERM: exit $rc"; }
[ "$took" -lt 2000 ] || fail "SIGTERM while idle took $took ms"
echo "$name: SIGTERM while idle: exited 0 after $took ms"
grep -q '"event":"drained"' "$tmp/run2.ndjson" || fail "SIGTERM: no drained event"
[ "$(cat "$st/mapping-uuid")" = "$uuid" ] || fail "the mapping UUID changed across runs"

# ---- a DynamoDB stream (its own replay server: the replay keeps state) ----
start_server ddb DDB node test/aws/servers/ddbstreams_replay.js
mapping d.json "{\"EventSourceArn\":\"$DARN\",\"FunctionName\":\"f\",\"StartingPosition\":\"TRIM_HORIZON\",\"BatchSize\":3}"
mkdir "$tmp/ev"
cat > "$tmp/handler.sh" <<'EOF'
f=$1/$(date +%s%N).$$
cat > "$f.part" && mv "$f.part" "$f.json" && echo '{}'
EOF
timeout 30 "$bin" --mapping "$tmp/d.json" --endpoint-url "$DDB" --checkpoint-dir "$tmp/dstate" \
  --exec "sh $tmp/handler.sh $tmp/ev" --until-idle 1500 > "$tmp/out" 2> "$tmp/err" ||
  { cat "$tmp/err"; fail "DynamoDB stream: exit $?"; }
node -e '
const fs = require("fs"), dir = process.argv[1];
const got = [];
for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort())
  for (const r of JSON.parse(fs.readFileSync(dir + "/" + f, "utf8")).Records) got.push(r);
const ids = got.map((r) => r.eventID + "/" + r.dynamodb.SequenceNumber);
const want = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => "e" + String(i).padStart(31, "0") + "/" +
  (i < 5 ? "1000000000000000000" : "2000000000000000000") + String(10 + i));
if (ids.join() !== want.join()) { console.log("got  " + ids.join("\n     ") + "\nwant " + want.join("\n     ")); process.exit(1); }
const names = got.map((r) => r.eventName).join();
if (names !== "INSERT,INSERT,MODIFY,INSERT,INSERT,INSERT,INSERT,REMOVE") { console.log("eventName: " + names); process.exit(1); }
if (got.some((r) => r.eventSource !== "aws:dynamodb" || r.eventSourceARN !== process.argv[2])) { console.log("eventSource/ARN"); process.exit(1); }
' "$tmp/ev" "$DARN" || fail "DynamoDB stream: the records the command received"
grep -q "polled 8," "$tmp/err" || { cat "$tmp/err"; fail "DynamoDB stream: the summary does not say polled 8"; }
echo "$name: ok ($(( $(date +%s) - t0 )) s)"
