#!/bin/sh
# SPDX-License-Identifier: MIT
# Run every cmocka binary, then every fuzz target over its corpus. Prints per-binary output,
# then a closing "tests: N passed, N failed" line counting test cases (a fuzz corpus replay
# counts as one), and fails if anything failed.
build=$1; shift
passed=0; failed=0; failures=""; phase=unit
log=$(mktemp); trap 'rm -f "$log"' EXIT
for t in "$@"; do
  if [ "$t" = "--" ]; then phase=fuzz; continue; fi
  if [ "$phase" = unit ]; then
    echo "== $t"
    "$t" >"$log" 2>&1; rc=$?
    cat "$log"
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
    if [ "$rc" -ne 0 ]; then
      failures="$failures $t"
      [ -z "$f" ] && failed=$((failed + 1)) # crashed before cmocka's summary
    fi
  else
    name=$(basename "$t"); corpus="test/fuzz/corpus/${name#fuzz_}"
    echo "== $t $corpus"
    if "$t" "$corpus"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures="$failures $t"; fi
  fi
done
[ -n "$failures" ] && echo "failed:$failures"
echo "tests: $passed passed, $failed failed"
[ -z "$failures" ] && [ "$failed" -eq 0 ]
