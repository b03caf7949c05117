# SPDX-License-Identifier: MIT
# Shared by the bpconsume check scripts (sourced, not run: run_tests.sh runs only check_*.sh):
# a temporary directory, servers started on free ports of 127.0.0.1 and stopped on exit, and
# a kinesalite (the one run_tests.sh started, else our own).
# The sourcing script sets `name` first.
# Without node there is no server to test against: skipped (a failure when BP_REQUIRE_ALL=1).
if ! command -v node >/dev/null 2>&1; then
  echo "$name: skipped: node not installed"
  [ "${BP_REQUIRE_ALL:-}" != 1 ] || exit 1
  exit 0
fi
tmp=$(mktemp -d)
pids=""
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null; done
  for p in $pids; do wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY

# On failure BP_TEST_KEEP=DIR keeps the temporary directory (logs, events) there.
fail() {
  echo "$name: FAIL: $*"
  [ -n "${BP_TEST_KEEP:-}" ] && cp -r "$tmp" "$BP_TEST_KEEP" && echo "$name: kept $BP_TEST_KEEP"
  exit 1
}

# start_server NAME VAR COMMAND...: start COMMAND (it prints its port first) in the background,
# set VAR to its URL.
start_server() {
  _n=$1; _v=$2; shift 2
  "$@" > "$tmp/$_n.port" 2> "$tmp/$_n.err" &
  pids="$pids $!"
  _i=0
  while [ ! -s "$tmp/$_n.port" ] && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
  _p=$(head -1 "$tmp/$_n.port" | sed 's/^listening //')
  [ -n "$_p" ] || { cat "$tmp/$_n.err"; fail "the $_n server did not start"; }
  eval "$_v=http://127.0.0.1:$_p"
}

# need_kinesalite: set KIN to a kinesalite URL, or exit 0 saying skipped.
need_kinesalite() {
  if [ -n "${BP_AWS_KINESALITE_URL:-}" ]; then KIN=$BP_AWS_KINESALITE_URL; return; fi
  if [ ! -f test/aws/node/node_modules/kinesalite/package.json ]; then
    echo "$name: skipped: kinesalite not installed"
    [ "${BP_REQUIRE_ALL:-}" != 1 ] || fail "BP_REQUIRE_ALL=1: nothing may be skipped"
    exit 0
  fi
  start_server kinesalite KIN node test/aws/node/kinesalite_server.js
}

# Dummy credentials: the local servers accept any signature.
export AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=secret AWS_REGION=us-east-1
unset AWS_SESSION_TOKEN AWS_DEFAULT_REGION
