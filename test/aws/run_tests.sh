#!/bin/sh
# SPDX-License-Identifier: MIT
# The add-on's tests: starts the hostile HTTP server (test/aws/servers/hostile.js) on a free
# port of 127.0.0.1, gives its URL to every test binary as BP_AWS_TEST_URL, runs each binary
# and each test/aws/check_*.sh (with BUILD as argument), stops the server, and prints a closing
# "aws tests: N passed, N failed" line counting test cases.
# usage: run_tests.sh BUILD TEST_BINARY...
build=$1; shift
if ! command -v node >/dev/null 2>&1; then
  echo "aws tests: skipped: node not installed (Debian: nodejs)"; exit 0
fi
tmp=$(mktemp -d); server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
node test/aws/servers/hostile.js > "$tmp/port" &
server=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
port=$(head -1 "$tmp/port")
[ -n "$port" ] || { echo "aws tests: the test server did not start"; exit 1; }
export BP_AWS_TEST_URL="http://127.0.0.1:$port"
# Local stream servers for the reader tests: kinesalite when BP_TEST_KINESALITE names its
# cli.js (else those tests say skipped), the DynamoDB Streams replay always.
start_server() { # name, port variable, command...
  name=$1; var=$2; shift 2
  "$@" > "$tmp/$name.port" &
  servers="$servers $!"
  i=0
  while [ ! -s "$tmp/$name.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  p=$(head -1 "$tmp/$name.port")
  [ -n "$p" ] || { echo "aws tests: the $name server did not start"; exit 1; }
  export "$var=http://127.0.0.1:$p"
}
servers=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; [ -n "$servers" ] && kill $servers 2>/dev/null; rm -rf "$tmp"' EXIT
[ -n "$BP_TEST_KINESALITE" ] && start_server kinesalite BP_AWS_KINESALITE_URL node test/aws/servers/kinesalite.js "$BP_TEST_KINESALITE"
start_server ddbstreams BP_AWS_DDBSTREAMS_URL node test/aws/servers/ddbstreams_replay.js
# A proxy from the environment must not take requests meant for the local server.
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY

passed=0; failed=0; failures=""
for t in "$@"; do
  echo "== $t"
  "$t" > "$tmp/log" 2>&1; rc=$?
  cat "$tmp/log"
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$tmp/log" | tail -1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$tmp/log" | tail -1)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  if [ "$rc" -ne 0 ]; then
    failures="$failures $t"
    [ -z "$f" ] && failed=$((failed + 1)) # crashed before cmocka's summary
  fi
done
for s in test/aws/check_*.sh; do
  [ -f "$s" ] || continue
  echo "== $s"
  if sh "$s" "$build"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures="$failures $s"; fi
done
[ -n "$failures" ] && echo "failed:$failures"
echo "aws tests: $passed passed, $failed failed"
[ -z "$failures" ] && [ "$failed" -eq 0 ]
