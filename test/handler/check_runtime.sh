#!/bin/sh
# SPDX-License-Identifier: MIT
# The Lambda custom runtime of examples/lambda_runtime/ against a local Runtime API
# (runtime_api.js on 127.0.0.1): a generated event set (valid, window and malformed events)
# answered with /response or /error as handler_ref answers them (and, for valid events, with
# Powertools' response bodies when the npm packages are installed), the stop-at-first-failure
# mode, and an init error for an unknown _HANDLER. "skipped" without node or libcurl (a
# failure when BP_REQUIRE_ALL=1).
# usage: check_runtime.sh BUILD   (from the top of the tree)
set -u
build=$1
name="lambda runtime"
. test/support/skipped.sh
fail() { echo "$name: $*"; exit 1; }
command -v node >/dev/null 2>&1 || skipped "node not installed (Debian: nodejs)"
boot=$build/examples/lambda_runtime/bootstrap
[ -x "$boot" ] || skipped "libcurl not installed (Debian: libcurl4-openssl-dev), no $boot"
ref=$build/test/handler/handler_ref
[ -x "$ref" ] || fail "$ref not built"
dir=$build/handler-runtime
rm -rf "$dir" && mkdir -p "$dir" || exit 1
server_pid=; boot_pid=
cleanup() {
  [ -z "$boot_pid" ] || kill "$boot_pid" 2>/dev/null
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null
}
trap cleanup EXIT

# run NAME HANDLER EVENTS: the bootstrap against a fresh Runtime API serving EVENTS; the
# answers land in $dir/NAME.out, the bootstrap's exit status in $boot_rc.
run() {
  node test/handler/runtime_api.js --events "$3" --out "$dir/$1.out" --timeout-ms 60000 > "$dir/$1.port" &
  server_pid=$!
  i=0
  while ! grep -q '^listening ' "$dir/$1.port" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "$1: the Runtime API did not start"
    kill -0 "$server_pid" 2>/dev/null || fail "$1: the Runtime API exited"
    sleep 0.1
  done
  port=$(sed -n 's/^listening //p' "$dir/$1.port")
  AWS_LAMBDA_RUNTIME_API=127.0.0.1:$port _HANDLER=$2 "$boot" 2> "$dir/$1.log" &
  boot_pid=$!
  # The server exits once every event is answered; the bootstrap then waits on /next (Lambda
  # would freeze it) until we end it, or it exits by itself (init error, a lost connection).
  wait "$server_pid"; server_rc=$?; server_pid=
  [ "$server_rc" -eq 0 ] || { tail -5 "$dir/$1.log"; fail "$1: the Runtime API ended with status $server_rc (3: timed out)"; }
  i=0
  while kill -0 "$boot_pid" 2>/dev/null && [ $i -lt 10 ]; do sleep 0.1; i=$((i + 1)); done
  kill "$boot_pid" 2>/dev/null
  wait "$boot_pid"; boot_rc=$?; boot_pid=
  # 1: the Runtime API went away (it exited); 143: ended by us. Anything else is a crash.
  case $boot_rc in 0 | 1 | 143) ;; *) tail -5 "$dir/$1.log"; fail "$1: bootstrap exit status $boot_rc" ;; esac
}

node test/handler/gen_events.js "$dir" 41 40 > /dev/null || fail "gen_events.js failed"
"$ref" "$dir/events.txt" > "$dir/expected.txt" || fail "handler_ref failed"
"$ref" --stop-at-first-failure "$dir/events.txt" > "$dir/expected-stop.txt" || fail "handler_ref failed"
pt=
if [ -f test/aws/node/node_modules/@aws-lambda-powertools/batch/package.json ]; then
  node test/handler/powertools_ref.js "$dir/events.txt" > "$dir/powertools.txt" || fail "powertools_ref.js failed"
  pt="$dir/meta.ndjson $dir/powertools.txt"
else
  echo "$name: Powertools' bodies not compared: npm packages not installed"
fi
n=$(wc -l < "$dir/events.txt")

run marked marked "$dir/events.txt"
# shellcheck disable=SC2086 # $pt is two file names or nothing
out=$(node test/handler/check_runtime_answers.js "$dir/marked.out" "$dir/expected.txt" $pt) || { echo "$out"; fail "marked: wrong answers (files in $dir)"; }
echo "$name: $n events: $out"

run stop marked-stop-first "$dir/events.txt"
out=$(node test/handler/check_runtime_answers.js "$dir/stop.out" "$dir/expected-stop.txt") || { echo "$out"; fail "marked-stop-first: wrong answers"; }
echo "$name: stop at first failure: $out"

run init no-such-handler "$dir/events.txt"
[ "$boot_rc" -eq 1 ] || fail "init error: bootstrap exit status $boot_rc, not 1"
grep -q '^{"kind":"init_error",.*"errorType":"Runtime.InvalidHandler","body":"{\\"errorMessage\\":\\"unknown handler' "$dir/init.out" ||
  fail "init error: not posted as expected: $(cat "$dir/init.out")"
[ "$(wc -l < "$dir/init.out")" -eq 1 ] || fail "init error: more than the init error: $(cat "$dir/init.out")"
echo "$name: unknown _HANDLER: init/error posted, exit status 1"
