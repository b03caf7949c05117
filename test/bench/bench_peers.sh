#!/bin/sh
# SPDX-License-Identifier: MIT
# make bench-peers: the peers' harness (SHARED/bench/peers, its README has the line format)
# and batchpoint's benches in one sitting, then each peer's line with batchpoint's line(s) of
# the same work id under it and the ratio of their medians:
#
#   peer=node-stdlib work=classify-response n=1000 bytes=78023 ms=0.238 ...
#     peer=batchpoint work=classify-response n=1000 bytes=78023 ms=0.031 ...
#     ratio=7.7x (batchpoint faster)
#
# Usage: sh test/bench/bench_peers.sh SHARED BUILD [COMMAND...]
#   SHARED   where the peers live (make's SHARED, ../shared by default); without
#            SHARED/bench/peers this prints "skipped: ..." and exits 0.
#   BUILD    the build directory: the peers are copied to BUILD/peers (SHARED stays
#            untouched; their setup.sh installs the pinned npm packages there once).
#   COMMAND  each one a program or shell command printing `peer=... work=...` lines
#            (batchpoint's bench binaries).
# Environment: BENCH_RUNS, BENCH_WARMUP (passed to both sides), NODE, PYTHON (the peers');
# MAKE: when set, the make targets bench-node and bench-python (the bindings' benches) are
# run too where that make knows them.
set -u
shared=$1
build=$2
shift 2
src=$shared/bench/peers
if [ ! -d "$src" ]; then
  echo "skipped: $src not present"
  exit 0
fi

dir=$build/peers
mkdir -p "$dir"
# The harness's files (never its node_modules), writable in the copy.
(cd "$src" && tar --exclude=./node_modules -cf - .) | (cd "$dir" && tar -xf -) || exit 1
chmod -R u+w "$dir"

peers_out=$build/bench-peers.peers
ours_out=$build/bench-peers.batchpoint
log=$build/bench-peers.log
fail=0

echo "bench-peers: peers' harness (setup once, then run-all.sh; log in $log)" >&2
if ! sh "$dir/run-all.sh" > "$peers_out" 2> "$log"; then
  echo "bench-peers: FAILED: $dir/run-all.sh (last lines of $log):" >&2
  tail -5 "$log" >&2
  fail=1
fi

echo "bench-peers: batchpoint's benches" >&2
: > "$ours_out"
for cmd in "$@"; do
  if ! sh -c "$cmd" >> "$ours_out"; then
    echo "bench-peers: FAILED: $cmd" >&2
    fail=1
  fi
done
if [ -n "${MAKE:-}" ]; then
  for t in bench-node bench-python; do
    "$MAKE" -n "$t" > /dev/null 2>&1 || continue
    if ! "$MAKE" -s --no-print-directory "$t" >> "$ours_out"; then
      echo "bench-peers: FAILED: $MAKE $t" >&2
      fail=1
    fi
  done
fi

# Peer lines in their order (the harness's, then other libraries our benches measure, such
# as libb64); under each, batchpoint's lines of its work id, and of its variants (a work id
# W-suffix that no peer measures: the same input through another path, e.g.
# classify-response-untrusted), each with the ratio of the medians; last, the bound lines
# (peer=bound: memcpy of the same bytes).
awk '
  function field(line, name,   n, i, a) {
    n = split(line, a, " ")
    for (i = 1; i <= n; i++)
      if (index(a[i], name "=") == 1) return substr(a[i], length(name) + 2)
    return ""
  }
  function ratio(peer, ours,   pms, bms, r, note) {
    pms = field(peer, "ms") + 0
    bms = field(ours, "ms") + 0
    if (bms <= 0 || pms <= 0) { print "  ratio=- (a median of 0 ms)"; return }
    r = pms / bms
    note = ""
    if (field(ours, "work") != field(peer, "work")) note = ", another path on the same input"
    else if (field(ours, "n") != field(peer, "n") || field(ours, "bytes") != field(peer, "bytes"))
      note = ", but n or bytes differ: not the same input"
    if (r >= 1) printf "  ratio=%.1fx (batchpoint faster%s)\n", r, note
    else printf "  ratio=%.1fx (batchpoint slower: %.1fx the time%s)\n", r, 1 / r, note
  }
  !/^peer=/ { next }
  field($0, "peer") == "bound" { bounds[++nb] = $0; next }
  FILENAME == ARGV[1] || field($0, "peer") !~ /^batchpoint/ {
    peers[++np] = $0
    measured[field($0, "work")] = 1
    next
  }
  { ours[++no] = $0 }
  END {
    # Each of our lines goes under the work id it measures, or the longest measured W of
    # which it is a variant W-suffix; else it is listed at the end.
    for (j = 1; j <= no; j++) {
      w = field(ours[j], "work")
      home = ""
      if (w in measured) home = w
      else
        for (m in measured)
          if (index(w, m "-") == 1 && length(m) > length(home)) home = m
      if (home == "") { alone[++na] = ours[j]; continue }
      under[home] = under[home] ours[j] "\n"
    }
    for (i = 1; i <= np; i++) {
      print peers[i]
      w = field(peers[i], "work")
      if (!(w in under)) { print "  (batchpoint prints no line for this work)"; continue }
      n = split(under[w], lines, "\n")
      for (k = 1; k <= n; k++) {
        if (lines[k] == "") continue
        print "  " lines[k]
        ratio(peers[i], lines[k])
      }
    }
    if (na) print "batchpoint only (no peer measures this work):"
    for (j = 1; j <= na; j++) print alone[j]
    if (nb) print "the machine'"'"'s bound (memcpy of the same bytes, same buffers):"
    for (j = 1; j <= nb; j++) print bounds[j]
  }
' "$peers_out" "$ours_out"
exit $fail
