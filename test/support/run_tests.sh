#!/bin/sh
# Run every test binary, then every fuzz target over its corpus; print a closing
# "N passed, N failed" line (N counts binaries) and fail if anything failed.
build=$1; shift
passed=0; failed=0; failures=""
phase=unit
for t in "$@"; do
  if [ "$t" = "--" ]; then phase=fuzz; continue; fi
  if [ "$phase" = unit ]; then
    echo "== $t"
    if "$t"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures="$failures $t"; fi
  else
    name=$(basename "$t"); corpus="test/fuzz/corpus/${name#fuzz_}"
    echo "== $t $corpus"
    if "$t" "$corpus"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures="$failures $t"; fi
  fi
done
[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
