#!/bin/sh
# SPDX-License-Identifier: MIT
# The end-to-end proof against real servers on 127.0.0.1: kinesalite (the Kinesis API, in
# memory), the AWS SDK v3 as the producer (node/kinesis_tool.js) and bpconsume invoking a
# Powertools batch handler, first through the Lambda Invoke API (node/lambda_server.js), then
# as an --exec command (node/exec_handler.js). While the producer writes in waves (and, in the
# Lambda run, the stream is split and merged between them), bpconsume is killed with SIGKILL at
# random moments (seeded: the seed is printed, E2E_SEED repeats the delays) and started again; a last
# run with --until-idle must exit 0. node/check_e2e.js then proves: nothing lost (every record
# but the "fail": true ones processed, those in on-failure records), per key first delivered in
# the order produced, children only after parents, on-failure records of Lambda's shape; and the
# last run asked GetShardIterator at most once per shard. The checker is also shown a log with a
# record dropped and one with a child shard's record first, and must fail them.
# MaximumRetryAttempts is 1: a "fail": true record is discarded about 1 s after a restart reaches
# it (retry backoff 1 s, 2 s, ...), so runs between kills (0.2-1.5 s) sometimes get past one and
# the checkpoints move on through the kills (with 2 they could not, and the last run did it all).
# Usage: test/aws/check_bpconsume_e2e.sh BUILD_DIR
# Knobs: E2E_SEED, E2E_KILLS (21), E2E_EXEC_KILLS (5), E2E_WAVE (1000 records, three waves),
#        E2E_EXEC_WAVE (400 records, two waves), E2E_KEYS (16), E2E_KEEP=1 (keep the files of a
#        run that passed; those of a failed run are always kept).
# Every process it starts is stopped on exit. Without node or the npm packages it says
# "skipped", or fails when BP_REQUIRE_ALL=1 is set (CI: nothing may be skipped there).
set -eu
BUILD=${1:?usage: check_bpconsume_e2e.sh BUILD_DIR}
NODE_DIR=$(cd "$(dirname "$0")/node" && pwd)
SEED=${E2E_SEED:-$(date +%s)}
KILLS=${E2E_KILLS:-21}
EXEC_KILLS=${E2E_EXEC_KILLS:-5}
WAVE=${E2E_WAVE:-1000}
EXEC_WAVE=${E2E_EXEC_WAVE:-400}
KEYS=${E2E_KEYS:-16}
FINAL_TIMEOUT_S=120 # the last run must be done by then: more is a stall

skip() {
  if [ "${BP_REQUIRE_ALL:-}" = 1 ]; then echo "e2e: FAILED: $1 (BP_REQUIRE_ALL=1: nothing may be skipped)"; exit 1; fi
  echo "skipped: $1"; exit 0
}
command -v node >/dev/null 2>&1 || skip "node not installed"
for pkg in kinesalite @aws-sdk/client-kinesis @smithy/node-http-handler @aws-lambda-powertools/batch; do
  [ -f "$NODE_DIR/node_modules/$pkg/package.json" ] ||
    skip "npm packages not installed ($pkg: run sh test/aws/node/install.sh)"
done
[ -x "$BUILD/bpconsume" ] || { echo "e2e: FAILED: no $BUILD/bpconsume (make aws)"; exit 1; }

mkdir -p "$BUILD"
WORK=$(mktemp -d "$BUILD/e2e-bpconsume.XXXXXX")
PIDS=""  # servers and producer steps
CPID=""  # the bpconsume running now
cleanup() {
  [ -n "$CPID" ] && kill -9 "$CPID" 2>/dev/null
  for pid in $PIDS; do kill "$pid" 2>/dev/null || true; done
  # --exec handlers a killed bpconsume left behind (each leads its own process group)
  for f in "$WORK"/*.exec-pids; do
    [ -f "$f" ] || continue
    for pid in $(cat "$f"); do
      ps -p "$pid" -o args= 2>/dev/null | grep -q exec_handler.js && kill -9 "-$pid" 2>/dev/null
    done
  done
  for pid in $CPID $PIDS; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
fail() { echo "e2e: FAILED: $*"; echo "e2e: files in $WORK"; exit 1; }
export AWS_ACCESS_KEY_ID=AKIDE2E AWS_SECRET_ACCESS_KEY=e2e-secret AWS_REGION=us-east-1
unset AWS_SESSION_TOKEN http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY

# start NAME COMMAND...: runs a server that prints "listening <port>", sets PORT
start() {
  name=$1; shift
  "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" &
  PIDS="$PIDS $!"
  tries=0
  while ! grep -q '^listening ' "$WORK/$name.out" 2>/dev/null; do
    if ! kill -0 "$!" 2>/dev/null || [ $tries -ge 100 ]; then
      echo "e2e: $name did not start:"; cat "$WORK/$name.err"; exit 1
    fi
    tries=$((tries + 1)); sleep 0.1
  done
  PORT=$(sed -n 's/^listening //p' "$WORK/$name.out")
}

start kinesalite node "$NODE_DIR/kinesalite_server.js" \
  --createStreamMs 0 --deleteStreamMs 0 --updateStreamMs 0 --shardLimit 100
KINESIS_URL=http://127.0.0.1:$PORT
start lambda node "$NODE_DIR/lambda_server.js" --log "$WORK/lambda.log.ndjson" --function e2e-fn
LAMBDA_URL=http://127.0.0.1:$PORT
echo "e2e: seed $SEED (E2E_SEED=$SEED repeats the kill delays); kinesalite at $KINESIS_URL, lambda at $LAMBDA_URL; files in $WORK"

kt() { node "$NODE_DIR/kinesis_tool.js" --endpoint-url "$KINESIS_URL" "$@"; }

# mapping RUN: the CreateEventSourceMapping body of run RUN (its stream is named RUN)
mapping() {
  cat > "$WORK/$1.mapping.json" <<EOF
{"EventSourceArn": "arn:aws:kinesis:us-east-1:000000000000:stream/$1",
 "FunctionName": "e2e-fn", "StartingPosition": "TRIM_HORIZON",
 "BatchSize": 100, "ParallelizationFactor": 2,
 "FunctionResponseTypes": ["ReportBatchItemFailures"], "BisectBatchOnFunctionError": true,
 "MaximumRetryAttempts": 1,
 "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:e2e-on-failure"}}}
EOF
}

# consume [OPTION...]: starts bpconsume for run $RUN in the background (CPID); stdout to
# $RUN.bpconsume.out, stderr appended to $RUN.bpconsume.err
consume() {
  if [ "$RUN" = lambda ]; then
    set -- --lambda-endpoint-url "$LAMBDA_URL" "$@"
  else
    # the handler's pid first: a handler a killed bpconsume leaves behind is stopped on exit
    set -- --exec "echo \$\$ >> '$WORK/$RUN.exec-pids'; exec node '$NODE_DIR/exec_handler.js' --log '$WORK/$RUN.log.ndjson'" "$@"
  fi
  "$BUILD/bpconsume" --mapping "$WORK/$RUN.mapping.json" --endpoint-url "$KINESIS_URL" \
    --checkpoint-dir "$WORK/$RUN.checkpoints" --failures-file "$WORK/$RUN.failures.ndjson" "$@" \
    > "$WORK/$RUN.bpconsume.out" 2>> "$WORK/$RUN.bpconsume.err" &
  CPID=$!
}

# step KT_ARGS...: a producer step in the background (STEP): kinesis_tool.js once per
# argument (a word list), in order; stopping the step stops the tool it runs
STEP=""
step() {
  (
    child=""
    trap '[ -n "$child" ] && kill "$child" 2>/dev/null; exit 143' TERM
    for c in "$@"; do
      eval "set -- $c"
      node "$NODE_DIR/kinesis_tool.js" --endpoint-url "$KINESIS_URL" "$@" & child=$!
      wait "$child" || exit 1
    done
  ) >> "$WORK/$RUN.producer.out" 2>&1 &
  STEP=$!; PIDS="$PIDS $STEP"
}
step_wait() {
  [ -n "$STEP" ] || return 0
  rc=0; wait "$STEP" || rc=$?
  STEP=""
  [ $rc -eq 0 ] || { cat "$WORK/$RUN.producer.out"; fail "$RUN: a producer step failed ($rc)"; }
}

# chaos N SEED: N times start bpconsume, let it run a random 0.2-1.5 s, SIGKILL it; before
# kill i the hook at_kill i runs (the producer's waves, the reshards)
chaos() {
  i=0
  for d in $(awk -v n="$1" -v seed="$2" 'BEGIN { srand(seed); for (k = 0; k < n; k++) printf "%.2f\n", 0.2 + rand() * 1.3 }'); do
    i=$((i + 1))
    at_kill "$i"
    consume
    sleep "$d"
    kill -9 "$CPID" 2>/dev/null || true
    rc=0; wait "$CPID" 2>/dev/null || rc=$? # (dash reports a killed job on stderr)
    CPID=""
    [ $rc -eq 137 ] || { tail -5 "$WORK/$RUN.bpconsume.err"; fail "$RUN: bpconsume exited $rc by itself before kill $i"; }
    KILLED=$i
  done
}

# last_run: bpconsume --until-idle 3000 --json to its end, which must be exit 0 in time
last_run() {
  consume --until-idle 3000 --json
  waited=0
  while kill -0 "$CPID" 2>/dev/null && [ $waited -lt $((FINAL_TIMEOUT_S * 10)) ]; do
    sleep 0.1; waited=$((waited + 1))
  done
  kill -0 "$CPID" 2>/dev/null && fail "$RUN: the last run still runs after ${FINAL_TIMEOUT_S} s (a stall)"
  rc=0; wait "$CPID" || rc=$?
  CPID=""
  [ $rc -eq 0 ] || { tail -5 "$WORK/$RUN.bpconsume.err"; fail "$RUN: the last run exited $rc"; }
  # handlers a killed bpconsume left behind may still write to the log: wait for them
  [ -f "$WORK/$RUN.exec-pids" ] || return 0
  for pid in $(cat "$WORK/$RUN.exec-pids"); do
    waited=0
    while kill -0 "$pid" 2>/dev/null && [ $waited -lt 100 ]; do sleep 0.1; waited=$((waited + 1)); done
  done
}

# summary FIELD: a number of the last run's {"summary":{...}} line
summary() {
  v=$(sed -n 's/^{"summary":{.*"'"$1"'":\([0-9]*\).*/\1/p' "$WORK/$RUN.bpconsume.out")
  [ -n "$v" ] || { echo "e2e: FAILED: $RUN: no $1 in the last run's summary" >&2; exit 1; }
  echo "$v"
}

# check PRODUCED: check_e2e.js on run $RUN, the last run's event times and GetShardIterator
# calls; prints the figures
check() {
  produced=$(wc -l < "$WORK/$RUN.produced.ndjson")
  [ "$produced" -eq "$1" ] || fail "$RUN: the producer wrote $produced of $1 records"
  kt shards "$RUN" > "$WORK/$RUN.shards.ndjson"
  figures=$(node "$NODE_DIR/check_e2e.js" --produced "$WORK/$RUN.produced.ndjson" \
    --processed "$WORK/$RUN.log.ndjson" --failures "$WORK/$RUN.failures.ndjson" \
    --shards "$WORK/$RUN.shards.ndjson" --strict-failures 2> "$WORK/$RUN.check.err") ||
    { cat "$WORK/$RUN.check.err"; fail "$RUN: check_e2e: $figures"; }
  # Stronger than lost 0: only the "fail": true records never succeed, so every other record
  # was processed (Powertools processes a batch's other records even when one fails).
  nfail=$(grep -c '"fail":true' "$WORK/$RUN.produced.ndjson" || true)
  case $figures in
    *", processed $((produced - nfail)),"*) ;;
    *) fail "$RUN: $figures: not every record but the $nfail failing ones was processed" ;;
  esac
  # every event carries the engine's time (shard_started once came before its first tick: 0)
  if grep -q '^{"t":0,' "$WORK/$RUN.bpconsume.out"; then
    fail "$RUN: events of the last run timed at 0: $(grep '^{"t":0,' "$WORK/$RUN.bpconsume.out" | head -1)"
  fi
  gsi=$(summary get_shard_iterator); shards=$(summary shards)
  [ "$gsi" -le "$shards" ] || fail "$RUN: the last run called GetShardIterator $gsi times for $shards shards"
  echo "e2e: $RUN: $figures"
  echo "e2e: $RUN: $KILLED kills, $(invocations) invocations in all, last run: $(summary polled) records read, $(summary invocations) invocations," \
    "GetShardIterator $gsi for $shards shards; $(($(date +%s) - T0)) s"
}

# A run named $1 (its mapping, and its stream of two shards), its clock and kills from zero.
begin_run() {
  RUN=$1 T0=$(date +%s) KILLED=0
  mapping "$1"
  kt create "$1" 2 > /dev/null
}

# ---- 1. the Lambda Invoke API, with a split and a merge between the waves ----
START=$(date +%s)
begin_run lambda
invocations() { grep -c '"kind":"invoke"' "$WORK/lambda.log.ndjson"; }
put() { echo "put lambda $WAVE --keys $KEYS --fail-every 307 --flaky-every 53 --flaky-attempts 2 --out '$WORK/lambda.produced.ndjson'"; }
at_kill() {
  case $1 in
    1) step "$(put)" ;;
    $((KILLS / 3 + 1))) step_wait; step "split lambda shardId-000000000000" "$(put)" ;;
    # shard 3 (the split's upper half) and shard 1 are adjacent: the merge has two lineages
    $((2 * KILLS / 3 + 1))) step_wait; step "merge lambda shardId-000000000003 shardId-000000000001" "$(put)" ;;
  esac
}
chaos "$KILLS" "$SEED"
step_wait
last_run
check $((3 * WAVE))

# The checker sees a broken run on this data: a processed record dropped from the log is lost,
# and the merged shard's first record moved to the top comes before its parents' records.
log=$WORK/lambda.log.ndjson
seq=$(grep '"kind":"record"' "$log" | tail -1 | sed 's/.*"seq":"\([0-9]*\)".*/\1/')
grep -v "\"seq\":\"$seq\"" "$log" > "$WORK/control-lost.ndjson"
out=$(node "$NODE_DIR/check_e2e.js" --produced "$WORK/lambda.produced.ndjson" \
  --processed "$WORK/control-lost.ndjson" 2>/dev/null) && fail "control: check_e2e passed a log without $seq"
case $out in *", lost $((nfail + 1)),"*) ;; *) fail "control: dropping $seq: $out" ;; esac
{ grep '"shard":"shardId-000000000004"' "$log" | grep -E '"kind":"(record|failed)"' | head -1; cat "$log"; } \
  > "$WORK/control-lineage.ndjson"
out=$(node "$NODE_DIR/check_e2e.js" --produced "$WORK/lambda.produced.ndjson" \
  --processed "$WORK/control-lineage.ndjson" --failures "$WORK/lambda.failures.ndjson" \
  --shards "$WORK/lambda.shards.ndjson" 2>/dev/null) && fail "control: check_e2e passed a child first"
case $out in *"children before parents 0"*) fail "control: a child first: $out" ;; esac
echo "e2e: lambda: the checker fails a log missing one record and one with a child first"

# ---- 2. --exec: a command per batch, no reshard ----
begin_run exec
invocations() { wc -l < "$WORK/exec.exec-pids"; }
put() { echo "put exec $EXEC_WAVE --keys $KEYS --fail-every 133 --flaky-every 41 --flaky-attempts 2 --out '$WORK/exec.produced.ndjson'"; }
at_kill() {
  case $1 in
    1) step "$(put)" ;;
    $((EXEC_KILLS / 2 + 1))) step_wait; step "$(put)" ;;
  esac
}
chaos "$EXEC_KILLS" "$((SEED + 1))"
step_wait
last_run
check $((2 * EXEC_WAVE))
echo "e2e: passed in $(($(date +%s) - START)) s (seed $SEED)"
[ "${E2E_KEEP:-}" = 1 ] || rm -rf "$WORK"
