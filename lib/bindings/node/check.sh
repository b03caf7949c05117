#!/bin/sh
# SPDX-License-Identifier: MIT
# check-node-binding: the binding's node --test suite, then the scenario runner (sim.js) over the
# shared scenarios, against the build tree's library. Usage: check.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
here=$(dirname "$0")
skipped() { echo "skipped: $1"; [ "${BP_REQUIRE_ALL:-}" != 1 ] || exit 1; exit 0; }
command -v node >/dev/null 2>&1 || skipped "Node binding (node not installed; Debian: nodejs)"
[ -d "$here/node_modules/koffi" ] || skipped "Node binding (koffi not installed: npm missing?)"
export BATCHPOINT_LIBRARY="$build/libbatchpoint.so.0"
export BP_NODE_LAYOUT="$build/bindings/node/layout"
export BP_HANDLER_REF="$build/test/handler/handler_ref"
(cd "$here" && node --test test/)
echo "check-node-binding: node --test passed"

# The scenario runner (sim.js, host in JavaScript) over every scenario file: bpsim's count line
# exactly (nothing failed or skipped that bpsim passes), and every case of the must-fail files
# failing with bpsim's very line (the difference it is about).
root=$(cd "$here/../../.." && pwd)
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
n=0
for f in "$root"/test/data/esm-scenarios.json "$root"/test/scenarios/*.json \
	"$root"/examples/scenarios/*.json; do
	want=$("$build/examples/bpsim" "$f" | tail -n 1)
	rc=0; node "$here/sim.js" "$f" > "$out" || rc=$?
	got=$(tail -n 1 "$out")
	case $want in "0 passed"*) echo "check-node-binding: bpsim passes nothing in $f"; exit 1;; esac
	if [ "$rc" -ne 0 ] || [ "$got" != "$want" ]; then
		grep -v '^PASS' "$out"
		echo "check-node-binding: sim.js $f: \"$got\" (exit $rc), bpsim: \"$want\""
		exit 1
	fi
	n=$((n + 1))
done
for f in "$root"/test/scenarios/fail/*.json; do
	rc=0; node "$here/sim.js" "$f" > "$out" || rc=$?
	if [ "$rc" -ne 1 ] || ! tail -n 1 "$out" | grep -q '^0 passed, [1-9][0-9]* failed'; then
		cat "$out"
		echo "check-node-binding: sim.js $f: every case must FAIL (exit $rc)"
		exit 1
	fi
	if ! "$build/examples/bpsim" "$f" | diff - "$out" >&2; then
		echo "check-node-binding: sim.js $f: not bpsim's FAIL lines (diff above: < bpsim, > sim.js)"
		exit 1
	fi
	n=$((n + 1))
done
echo "check-node-binding: sim.js gives bpsim's counts on $n scenario files (must-fail files failing)"
