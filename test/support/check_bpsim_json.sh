#!/bin/sh
# SPDX-License-Identifier: MIT
# `bpsim --json` over the shared scenario file: stdout is NDJSON only (every line one
# object), the last line is the summary with nothing failed, and S30's timeline has what the
# issue asks of it: invocations, a split, a discard with its on-failure record embedded as
# an object (not a string), checkpoint moves. Usage: check_bpsim_json.sh BPSIM SHARED_FILE
set -u
bpsim=$1; file=$2
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
fail() { echo "bpsim --json: $*"; exit 1; }

"$bpsim" --json "$file" > "$out"; rc=$?
[ "$rc" -eq 0 ] || fail "exit status $rc (expected 0)"
n=$(wc -l < "$out")
[ "$n" -gt 100 ] || fail "only $n lines"
bad=$(grep -v -c -E '^\{".*\}$' "$out")
[ "$bad" -eq 0 ] || fail "$bad line(s) are not one JSON object, the first: $(grep -v -m1 -E '^\{".*\}$' "$out")"
tail -n 1 "$out" | grep -q -E '^\{"kind":"summary","passed":[1-9][0-9]*,"failed":0,"skipped":0\}$' ||
  fail "last line is not a summary with nothing failed or skipped: $(tail -n 1 "$out")"
grep -q '^{"kind":"result","id":"S30","status":"PASS"' "$out" || fail "no PASS result for S30"
s30='^\{"scenario":"S30","mapping":null,"t_ms":[0-9]+,"kind":'
for want in '"invoke",.*"first_seq":"[0-9]+","last_seq":"[0-9]+",.*"records":[0-9]+,"event_bytes":[0-9]+' \
            '"split",' '"checkpoint",' '"backoff",.*"wait_ms":[0-9]+' \
            '"discard",.*"record":\{"requestContext":\{' ; do
  grep -q -E "$s30$want" "$out" || fail "S30's timeline has no entry matching $want"
done
echo "bpsim --json: ok ($n lines)"
