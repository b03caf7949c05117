#!/bin/sh
# SPDX-License-Identifier: MIT
# bpsim compares invocations that start at one simulated time on different lanes or shards
# as a set (SEMANTICS.md §8.1, order within one instant; the `invocations` field of the
# scenario format): test/scenarios/same-instant.json lists them in another order than the
# engine's and must pass with no divergence note; every case of
# test/scenarios/fail/same-instant.json must FAIL, each with the difference it is about.
# Usage: check_bpsim_same_instant.sh BPSIM
set -u
bpsim=$1
cd "$(dirname "$0")/../.." || exit 1
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
fail() { echo "bpsim same instant: $*"; cat "$out"; exit 1; }

"$bpsim" test/scenarios/same-instant.json > "$out"; rc=$?
[ "$rc" -eq 0 ] || fail "test/scenarios/same-instant.json: exit status $rc (expected 0)"
tail -n 1 "$out" | grep -q '^5 passed, 0 failed, 0 skipped$' || fail "same-instant.json: not 5 passed"
! grep -q 'note:' "$out" || fail "same-instant.json: a divergence note"

"$bpsim" test/scenarios/fail/same-instant.json > "$out"; rc=$?
[ "$rc" -eq 1 ] || fail "test/scenarios/fail/same-instant.json: exit status $rc (expected 1)"
tail -n 1 "$out" | grep -q '^0 passed, 6 failed, 0 skipped$' || fail "fail/same-instant.json: not 6 failed"
want() { # ID, then the failure line's text after "FAIL ID: " as a basic regular expression
	grep -q "^FAIL $1: $2" "$out" || fail "$1 does not fail with: $2"
}
set -f
want F1 'expect.invocations\[0..1\]: invocations 1 to 2 start at t=[0-9]* on different lanes (a set, each lane in its order): expected {\[b1\],\[a1,b1\]}, actual {\[a1\],\[b1\]}$'
want F2 'expect.invocations\[0\]: expected \[b1\], actual \[a1\]$'
want F3 'expect.invocations\[0..3\]: .* expected {\[a2\],\[a1\],\[b1\],\[b2\]}, actual {\[a1\],\[b1\],\[a2\],\[b2\]}$'
want F4 'expect.events\[0\].match(Records\[0\].kinesis.partitionKey): expected "k0", actual "k1"$'
want F5 'expect.delivered_in_order\[0\]: expected b1, actual a1 (invocation 1)$'
want F6 'expect.invocations: 1 invocation(s) expected, 2 made: actual \[\[r2\],\[r1\]\]$'
echo "bpsim same instant: ok (5 passing, 6 failing cases)"
