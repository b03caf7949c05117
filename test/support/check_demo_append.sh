#!/bin/sh
# SPDX-License-Identifier: MIT
# The demo's stream file when the disk fills during an append (a file size limit stands in
# for the full disk): the append is rolled back, the run fails saying so, the file is byte
# for byte what it was, and the next run succeeds. A partial last line that an older demo
# left is refused with a message that names it.
set -u
demo=$1; dir=$2; seed=${3:-examples/records.ndjson}
stream=$dir/stream.ndjson
fail() { echo "check-demo-append: $*"; exit 1; }

rm -rf "$dir" && mkdir -p "$dir" || fail "cannot make $dir"
"$demo" --dir "$dir" --seed "$seed" --append 0 --quiet >/dev/null 2>&1 || fail "first run failed"
cp "$stream" "$dir/before"
size=$(wc -c < "$stream")
# The limit falls within the next 512 bytes (ulimit -f counts 512-byte blocks), inside the
# lines this run appends (15 lines of about 150 bytes), so a write is cut short. SIGXFSZ is
# ignored, so the write fails with EFBIG instead of killing the demo, as ENOSPC would.
blocks=$((size / 512 + 1))
out=$( (trap '' XFSZ; ulimit -f "$blocks" && exec "$demo" --dir "$dir" --seed "$seed" \
  --append 5 --quiet) 2>&1 )
rc=$?
[ "$rc" -eq 1 ] || fail "a run under a file size limit exited $rc: $out"
echo "$out" | grep -q "appending records: .*the file is back as it was" \
  || fail "no rollback message: $out"
cmp -s "$stream" "$dir/before" || fail "the stream file was left changed"
"$demo" --dir "$dir" --seed "$seed" --append 5 --quiet >/dev/null 2>&1 \
  || fail "the run after the rollback failed"

printf '{"shard":"shardId-000000000000","seq":"4965' >> "$stream"
out=$("$demo" --dir "$dir" --seed "$seed" --quiet 2>&1)
rc=$?
[ "$rc" -eq 1 ] && echo "$out" | grep -q "the last line is incomplete" \
  || fail "a partial last line was not refused (exit $rc): $out"
echo "check-demo-append: a failed append is rolled back; a partial last line is refused"
