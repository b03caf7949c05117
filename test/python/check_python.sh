#!/bin/sh
# SPDX-License-Identifier: MIT
# The Python binding's unit tests (engine, config, filter, codec, function side, file store, the
# asyncio example, the scenario runner), 5,000 lives of the leak and crash soak, then the
# scenario runner as users run it -- python3 -m batchpoint.sim FILE -- over every scenario file: each case passes, as many as the C bpsim passes (when it is built)
# and as the file has; the files of test/scenarios/fail/ fail, as with bpsim.
# Against the build tree's library. "skipped" without python3 (a failure when BP_REQUIRE_ALL=1,
# as in CI).
# Usage: check_python.sh BUILD_DIR
build=${1:-build}
if ! command -v python3 >/dev/null 2>&1; then
  if [ "${BP_REQUIRE_ALL:-0}" = 1 ]; then
    echo "check-python: python3 not found (BP_REQUIRE_ALL=1)" >&2
    exit 1
  fi
  echo "skipped: Python binding (no python3)"
  exit 0
fi
BATCHPOINT_LIBRARY=$(cd "$build" && pwd)/libbatchpoint.so.0
export BATCHPOINT_LIBRARY
PYTHONPATH=lib/bindings/python
export PYTHONPATH
# the C function side's answers, compared with process_batch's (test_handler_window.py)
BATCHPOINT_HANDLER_REF=$(cd "$build" && pwd)/test/handler/handler_ref
export BATCHPOINT_HANDLER_REF
python3 -m unittest discover -s lib/bindings/python/tests -t lib/bindings/python || exit 1
# the leak and crash soak, short (make soak-python runs 100,000 lives)
python3 lib/bindings/python/tests/soak_lives.py 5000 || exit 1
echo "check-python: unit tests passed"

bpsim=$build/examples/bpsim
# the interpreter itself, not a version manager's shim (each start of which costs more than a run)
py=$(python3 -c 'import sys; print(sys.executable)') || exit 1
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
# "FILE N" for each scenario file: N its scenarios and config cases
cases=$("$py" -c 'import json, sys
for f in sys.argv[1:]:
    d = json.load(open(f))
    print(f, len(d.get("scenarios", [])) + len(d.get("config_cases", [])))' \
	test/data/esm-scenarios.json test/scenarios/*.json examples/scenarios/*.json \
	test/scenarios/fail/*.json) || exit 1
files=0
while read -r f n; do
	"$py" -m batchpoint.sim "$f" > "$out"; rc=$?
	got=$(tail -n 1 "$out")
	case $f in
	test/scenarios/fail/*) want_rc=1; want="0 passed, $n failed, 0 skipped" ;;
	*) want_rc=0; want="$n passed, 0 failed, 0 skipped" ;;
	esac
	if [ -x "$bpsim" ]; then
		c=$("$bpsim" "$f" | tail -n 1)
		[ "$c" = "$want" ] || { echo "check-python: $f: bpsim says \"$c\", expected \"$want\""; exit 1; }
	fi
	if [ "$rc" -ne "$want_rc" ] || [ "$got" != "$want" ]; then
		echo "check-python: python3 -m batchpoint.sim $f: exit $rc, \"$got\" (expected exit $want_rc, \"$want\")"
		grep -v '^PASS' "$out"
		exit 1
	fi
	echo "check-python: batchpoint.sim $f: $got"
	files=$((files + 1))
done <<EOF
$cases
EOF
echo "check-python: batchpoint.sim replayed $files scenario files like bpsim"
