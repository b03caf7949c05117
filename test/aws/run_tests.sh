#!/bin/sh
# SPDX-License-Identifier: MIT
# The add-on's tests: starts the hostile HTTP server (test/aws/servers/hostile.js) and the
# service shapes server (aws_shapes.js, URL in BP_TEST_SHAPES_URL), each on a free
# port of 127.0.0.1, gives the hostile one's URL to every test binary as BP_AWS_TEST_URL, runs each binary
# and each test/aws/check_*.sh (with BUILD as argument), stops the servers, and prints a closing
# "aws tests: N passed, N failed" line counting test cases.
# usage: run_tests.sh BUILD TEST_BINARY...
build=$1; shift
# BP_REQUIRE_ALL=1 (CI): a part that would be skipped fails instead.
skip() {
  echo "aws tests: skipped: $1"
  if [ "${BP_REQUIRE_ALL:-}" = 1 ]; then echo "BP_REQUIRE_ALL=1: nothing may be skipped"; exit 1; fi
}
if ! command -v node >/dev/null 2>&1; then skip "node not installed (Debian: nodejs)"; exit 0; fi
tmp=$(mktemp -d); servers=""
trap '[ -n "$servers" ] && kill $servers 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
start_server() { # name, URL variable, command...: the server prints its port first
  name=$1; var=$2; shift 2
  "$@" > "$tmp/$name.port" &
  servers="$servers $!"
  i=0
  while [ ! -s "$tmp/$name.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  p=$(head -1 "$tmp/$name.port" | sed 's/^listening //')
  [ -n "$p" ] || { echo "aws tests: the $name server did not start"; exit 1; }
  export "$var=http://127.0.0.1:$p"
}
# The hostile HTTP server, the service shapes the invokers and destinations talk to, the
# DynamoDB Streams replay, and kinesalite (the npm packages of test/aws/node: `make` installs
# them with npm ci; without npm the kinesalite tests say skipped).
start_server hostile BP_AWS_TEST_URL node test/aws/servers/hostile.js
start_server shapes BP_TEST_SHAPES_URL node test/aws/servers/aws_shapes.js
start_server ddbstreams BP_AWS_DDBSTREAMS_URL node test/aws/servers/ddbstreams_replay.js
if [ -f test/aws/node/node_modules/kinesalite/package.json ]; then
  start_server kinesalite BP_AWS_KINESALITE_URL node test/aws/node/kinesalite_server.js
else
  skip "kinesalite not installed (test/aws/node: npm ci)"
fi
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
