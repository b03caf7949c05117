#!/bin/sh
# SPDX-License-Identifier: MIT
# make bench-peers' pairing (test/bench/bench_peers.sh) on a stand-in harness: a fake
# SHARED/bench/peers whose run-all.sh prints fixed peer lines, and commands printing fixed
# batchpoint lines. Checks the lines under each peer, the ratios, the notes and the skip.
set -eu
build=$1
dir=$build/check-bench-peers
rm -rf "$dir"
mkdir -p "$dir/shared/bench/peers" "$dir/build"
cat > "$dir/shared/bench/peers/run-all.sh" <<'PEERS'
echo "setup noise" >&2
echo "peer=node-stdlib work=classify-response n=1000 bytes=78023 ms=0.240 mb_s=1.0 rec_s=1"
echo "peer=node-stdlib work=encode-kinesis-event n=10 bytes=100 ms=12.0 mb_s=1.0 rec_s=1"
echo "peer=node-loop work=process-kinesis-batch n=10 bytes=100 ms=98.0 mb_s=1.0 rec_s=1"
PEERS
out=$dir/out
sh test/bench/bench_peers.sh "$dir/shared" "$dir/build" \
  "echo 'peer=batchpoint work=classify-response n=1000 bytes=78023 ms=0.030 mb_s=1.0 rec_s=1'
   echo 'peer=batchpoint work=classify-response-untrusted n=1000 bytes=78023 ms=0.480 mb_s=1.0 rec_s=1'" \
  "echo 'peer=batchpoint work=encode-kinesis-event n=10 bytes=101 ms=1.5 mb_s=1.0 rec_s=1'
   echo 'peer=libb64 work=encode-kinesis-event n=10 bytes=100 ms=3.0 mb_s=1.0 rec_s=1'
   echo 'peer=batchpoint work=engine-noop n=10 bytes=0 ms=2.0 mb_s=- rec_s=1'" \
  > "$out" 2> "$dir/err"
cat > "$dir/want" <<'WANT'
peer=node-stdlib work=classify-response n=1000 bytes=78023 ms=0.240 mb_s=1.0 rec_s=1
  peer=batchpoint work=classify-response n=1000 bytes=78023 ms=0.030 mb_s=1.0 rec_s=1
  ratio=8.0x (batchpoint faster)
  peer=batchpoint work=classify-response-untrusted n=1000 bytes=78023 ms=0.480 mb_s=1.0 rec_s=1
  ratio=0.5x (batchpoint slower: 2.0x the time, another path on the same input)
peer=node-stdlib work=encode-kinesis-event n=10 bytes=100 ms=12.0 mb_s=1.0 rec_s=1
  peer=batchpoint work=encode-kinesis-event n=10 bytes=101 ms=1.5 mb_s=1.0 rec_s=1
  ratio=8.0x (batchpoint faster, but n or bytes differ: not the same input)
peer=node-loop work=process-kinesis-batch n=10 bytes=100 ms=98.0 mb_s=1.0 rec_s=1
  (batchpoint prints no line for this work)
peer=libb64 work=encode-kinesis-event n=10 bytes=100 ms=3.0 mb_s=1.0 rec_s=1
  peer=batchpoint work=encode-kinesis-event n=10 bytes=101 ms=1.5 mb_s=1.0 rec_s=1
  ratio=2.0x (batchpoint faster, but n or bytes differ: not the same input)
batchpoint only (no peer measures this work):
peer=batchpoint work=engine-noop n=10 bytes=0 ms=2.0 mb_s=- rec_s=1
WANT
if ! cmp -s "$out" "$dir/want"; then
  echo "check-bench-peers: the pairing differs from the expected one:"
  diff "$dir/want" "$out" || true
  exit 1
fi
# The harness's files were copied, not run in place; its stderr went to the log.
[ -f "$dir/build/peers/run-all.sh" ] && grep -q "setup noise" "$dir/build/bench-peers.log" || {
  echo "check-bench-peers: the harness was not run from its copy in BUILD/peers"; exit 1; }
skip=$(sh test/bench/bench_peers.sh "$dir/none" "$dir/build" true)
[ "$skip" = "skipped: $dir/none/bench/peers not present" ] || {
  echo "check-bench-peers: no skip message without the harness: '$skip'"; exit 1; }
echo "check-bench-peers: peer lines paired with batchpoint's, ratios and notes as expected"
