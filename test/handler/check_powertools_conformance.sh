#!/bin/sh
# SPDX-License-Identifier: MIT
# Conformance of bp_handler with AWS Lambda Powertools' batch utility (BatchProcessor +
# processPartialResponse, @aws-lambda-powertools/batch as pinned in test/aws/node/package.json):
# the same events (gen_events.js: seed samples, the scenario files' events, randomized Kinesis
# and DynamoDB events with failing records, tumbling windows, malformed events) through both,
# the same "marked failing" rule (examples/lambda_runtime/marked.h), and the outputs compared
# by compare.js: valid events byte for byte; window events but for the state ours adds
# (SEMANTICS.md §6); malformed events rejected by us. Where Powertools answers a malformed
# event instead of throwing, the difference is counted; BP_CONFORMANCE_VERBOSE=1 lists them.
# The differences found (see also gen_events.js's MALFORMED list):
#   - data that is not strict base64 (the [...] of seed 002, no padding, base64url, spaces,
#     non-zero pad bits, a replaced character): Node's decoder skips what it cannot read, so
#     Powertools hands the record garbage bytes; we reject the event (SEMANTICS.md §1.1:
#     Lambda sends strict base64);
#   - a failed record without a sequence number: Powertools reports {"itemIdentifier":...}
#     missing ({} for Kinesis) and, for DynamoDB, drops it from batchItemFailures, so the
#     mapping checkpoints past a failed record; a number instead of a string is reported as a
#     number. We reject such events (no callback is made);
#   - a record of another source (eventSource aws:sqs, missing, a Kinesis record in a DynamoDB
#     event), members of the wrong type, a bad sequence number, a window without shardId or
#     with a non-object state, a lone surrogate escape, invalid UTF-8: Powertools does not
#     look; we reject;
#   - shapes where Powertools throws too (no Records, a record that is not an object, data a
#     number alone, a Kinesis event with a DynamoDB record): it throws UnexpectedBatchTypeError,
#     FullBatchFailureError or a TypeError from its own code; we return BP_ERR_INVALID_JSON or
#     BP_ERR_INVALID_RECORD naming the JSON path.
# AWS never delivers those shapes (SEMANTICS.md §1); where it does deliver, we answer as
# Powertools does, byte for byte.
# usage: check_powertools_conformance.sh BUILD   (from the top of the tree)
#   BP_CONFORMANCE_SEED (14), BP_CONFORMANCE_N (200 random events of each kind)
set -u
build=$1
name="powertools conformance"
. test/support/skipped.sh
fail() { echo "$name: $*"; exit 1; }
command -v node >/dev/null 2>&1 || skipped "node not installed (Debian: nodejs)"
[ -f test/aws/node/node_modules/@aws-lambda-powertools/batch/package.json ] ||
  skipped "npm packages not installed (sh test/aws/node/install.sh)"
ref=$build/test/handler/handler_ref
[ -x "$ref" ] || fail "$ref not built (make $ref)"
dir=$build/handler-conformance
rm -rf "$dir" && mkdir -p "$dir" || exit 1

node test/handler/gen_events.js "$dir" "${BP_CONFORMANCE_SEED:-14}" "${BP_CONFORMANCE_N:-200}" > "$dir/gen.out" ||
  fail "gen_events.js failed"
node test/handler/powertools_ref.js "$dir/events.txt" > "$dir/powertools.txt" || fail "powertools_ref.js failed"
"$ref" "$dir/events.txt" > "$dir/ours.txt" || fail "handler_ref failed (status $?)"
"$ref" --stop-at-first-failure "$dir/events.txt" > "$dir/ours-stop.txt" || fail "handler_ref --stop-at-first-failure failed"
echo "$name: $(cat "$dir/gen.out")"
node test/handler/compare.js "$dir/meta.ndjson" "$dir/powertools.txt" "$dir/ours.txt" \
  "$dir/events.txt" "$dir/ours-stop.txt" || fail "mismatches (files in $dir)"
