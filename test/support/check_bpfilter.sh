#!/bin/sh
# SPDX-License-Identifier: MIT
# check_bpfilter.sh BPFILTER VECTORS_FILE: the bpfilter tool end to end.
#   - VECTORS_FILE passes whole, in default and strict Lambda mode;
#   - a small vector file gives the exact PASS/FAIL lines (test/bpfilter/vectors*.expected);
#   - patterns over JSON events (inline, from a file, from stdin, several -p), Kinesis records
#     (base64 data, one payload not JSON) and DynamoDB records give the exact expected output;
#   - --matching prints the matching lines verbatim;
#   - invalid patterns, strict refusals, malformed lines, hostile lines, truncated or
#     malformed vector files, missing files and bad usage give the documented exit status
#     and message, never a crash.
# Prints "bpfilter: ok (N checks)", or the first failure and exits 1. POSIX sh.

set -f # patterns hold brackets: never glob
BPF=$1
VECTORS=$2
if [ -z "$BPF" ] || [ -z "$VECTORS" ]; then
	echo "usage: check_bpfilter.sh BPFILTER VECTORS_FILE" >&2
	exit 2
fi
DATA=$(cd "$(dirname "$0")/../bpfilter" && pwd) || exit 1
TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM
checks=0

fail() {
	echo "bpfilter: FAIL: $*" >&2
	exit 1
}

# run ARGS...: stdout in $TMP/out, stderr in $TMP/err, exit status in $rc.
run() {
	"$BPF" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
}

# status N WHAT: the last run exited with N. Below 2 results go to stdout alone, so stderr
# is empty; status 2 says why in one line (either way a sanitizer report fails the check).
status() {
	[ "$rc" -eq "$1" ] || fail "$2: exit status $rc, want $1; stderr: $(head -3 "$TMP/err")"
	if [ "$1" -lt 2 ]; then
		[ ! -s "$TMP/err" ] || fail "$2: unexpected stderr: $(head -3 "$TMP/err")"
	else
		[ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "$2: want one line on stderr: $(head -3 "$TMP/err")"
	fi
	checks=$((checks + 1))
}

# same FILE WHAT: the last run's stdout is exactly FILE.
same() {
	diff -u "$1" "$TMP/out" >"$TMP/diff" || { cat "$TMP/diff" >&2; fail "$2: output differs from $1"; }
	checks=$((checks + 1))
}

# has FILE TEXT WHAT: FILE holds a line containing TEXT (fixed string).
has() {
	grep -F -q -- "$2" "$1" || fail "$3: no \"$2\" in $(basename "$1"): $(head -3 "$1")"
	checks=$((checks + 1))
}

# lines FILE PATTERN N WHAT: FILE has N lines matching the basic regular expression.
lines() {
	n=$(grep -c -- "$2" "$1")
	[ "$n" -eq "$3" ] || fail "$4: $n lines match '$2' in $(basename "$1"), want $3"
	checks=$((checks + 1))
}

EVENT_PATTERN='{"detail":{"state":["running"],"cpu":[{"numeric":[">",80]}]}}'
KINESIS_PATTERN='{"data":{"temperature":[{"numeric":[">=",30]}]},"kinesis":{"partitionKey":[{"prefix":"sensor-"}]}}'
DDB_PATTERN='{"eventName":["INSERT","MODIFY"],"dynamodb":{"NewImage":{"status":{"S":["active"]}}}}'

# ---- vector files ----
[ -r "$VECTORS" ] || fail "no vector file at $VECTORS"
total=$(grep -c '^  "id": ' "$VECTORS") # one per vector in the shared file's layout
[ "$total" -gt 0 ] || fail "cannot count the vectors of $VECTORS"

run --vectors "$VECTORS"
status 0 "--vectors over the shared file"
[ "$(tail -n 1 "$TMP/out")" = "$total passed, 0 failed" ] ||
	fail "--vectors: last line '$(tail -n 1 "$TMP/out")', want '$total passed, 0 failed'"
lines "$TMP/out" '^PASS ' "$total" "--vectors PASS lines"

run --vectors "$VECTORS" --strict
status 0 "--vectors --strict over the shared file"
[ "$(tail -n 1 "$TMP/out")" = "$total passed, 0 failed" ] ||
	fail "--vectors --strict: last line '$(tail -n 1 "$TMP/out")'"
has "$TMP/out" "(refused in strict mode)" "--vectors --strict refuses the operators Lambda lacks"

run --vectors "$DATA/vectors.json"
status 1 "a vector file with failing vectors"
same "$DATA/vectors.expected" "--vectors test/bpfilter/vectors.json"
run --vectors "$DATA/vectors.json" --strict
status 1 "a vector file with failing vectors, strict"
same "$DATA/vectors-strict.expected" "--vectors --strict test/bpfilter/vectors.json"

dd if="$VECTORS" of="$TMP/truncated.json" bs=3000 count=1 2>/dev/null
run --vectors "$TMP/truncated.json"
status 2 "a truncated vector file"
has "$TMP/err" "$TMP/truncated.json: not valid JSON at line " "truncated vector file message"
[ ! -s "$TMP/out" ] || fail "a truncated vector file printed results"

printf '[{"id":"x","pattern":{"a":[1]},"match":true,"event":{"a":1}},{"id":"y","pattern":{"a":[1]}}]\n' \
	>"$TMP/malformed.json"
run --vectors "$TMP/malformed.json"
status 2 "a vector without match or invalid"
has "$TMP/err" "[1].match: missing or not a boolean" "malformed vector message"
[ ! -s "$TMP/out" ] || fail "a malformed vector file printed results"

printf '{"id":"x"}\n' >"$TMP/object.json"
run --vectors "$TMP/object.json"
status 2 "a vector file that is not an array"
has "$TMP/err" "not a JSON array of vectors" "non-array vector file message"

# ---- patterns over event files ----
run "$EVENT_PATTERN" "$DATA/events.ndjson"
status 0 "JSON events"
same "$DATA/events.expected" "JSON events, inline pattern"

run "$DATA/pattern.json" "$DATA/events.ndjson"
status 0 "JSON events, pattern from a file"
same "$DATA/events.expected" "JSON events, pattern from a file"

"$BPF" "$EVENT_PATTERN" - <"$DATA/events.ndjson" >"$TMP/out" 2>"$TMP/err"
rc=$?
status 0 "JSON events from stdin"
same "$DATA/events.expected" "JSON events from stdin"

run -p '{"source":["db"]}' -p '{"detail":{"cpu":[{"numeric":["<",20]}]}}' "$DATA/events.ndjson"
status 0 "two -p patterns"
same "$DATA/events-or.expected" "two -p patterns are OR-ed"

run --matching "$EVENT_PATTERN" "$DATA/events.ndjson"
status 0 "--matching"
: >"$TMP/want"
for n in $(sed -n 's/^MATCH //p' "$DATA/events.expected"); do
	sed -n "${n}p" "$DATA/events.ndjson" >>"$TMP/want"
done
same "$TMP/want" "--matching prints the matching lines verbatim"

run --kinesis "$KINESIS_PATTERN" "$DATA/kinesis.ndjson"
status 0 "Kinesis records"
same "$DATA/kinesis.expected" "Kinesis records"

run --dynamodb "$DDB_PATTERN" "$DATA/dynamodb.ndjson"
status 0 "DynamoDB records"
same "$DATA/dynamodb.expected" "DynamoDB records"

# ---- invalid patterns ----
run '{"a":1}' "$DATA/events.ndjson"
status 2 "an invalid pattern"
[ "$(cat "$TMP/err")" = 'bpfilter: invalid pattern: "a" must be an object or an array' ] ||
	fail "invalid pattern message: $(cat "$TMP/err")"
[ ! -s "$TMP/out" ] || fail "an invalid pattern printed results"

run '{"a":[1]' "$DATA/events.ndjson"
status 2 "a pattern that is not JSON"
has "$TMP/err" "bpfilter: invalid pattern: " "pattern syntax error message"
has "$TMP/err" "(at byte " "pattern syntax error offset"

run -p '{"a":[1]}' -p '{"b":[]}' "$DATA/events.ndjson"
status 2 "an invalid second -p pattern"
has "$TMP/err" "bpfilter: invalid pattern: Empty arrays are not allowed (pattern 2 of 2)" \
	"which -p pattern is invalid"

run --strict '{"ip":[{"cidr":"10.0.0.0/8"}]}' "$DATA/events.ndjson"
status 2 "cidr in strict mode"
has "$TMP/err" "bpfilter: invalid pattern: " "strict refusal message"
has "$TMP/err" "not supported by Lambda" "strict refusal reason"

set --
i=0
while [ $i -le 10 ]; do
	set -- "$@" -p "{\"k$i\":[1]}"
	i=$((i + 1))
done
run "$@" "$DATA/events.ndjson"
status 2 "eleven -p patterns"
has "$TMP/err" "at most 10 patterns" "too many patterns message"

# ---- malformed and hostile event lines ----
run "$EVENT_PATTERN" "$DATA/garbage.ndjson"
status 1 "malformed JSON event lines"
lines "$TMP/out" '^ERROR [0-9]*: ..*' 5 "malformed JSON event lines"
has "$TMP/out" "MATCH 2" "the good line among malformed ones"
[ "$(tail -n 1 "$TMP/out")" = "1 matched, 0 not matched, 5 malformed" ] ||
	fail "malformed lines count line: $(tail -n 1 "$TMP/out")"

run --matching "$EVENT_PATTERN" "$DATA/garbage.ndjson"
[ "$rc" -eq 1 ] || fail "--matching over malformed lines: exit status $rc, want 1"
[ "$(cat "$TMP/out")" = "$(sed -n 2p "$DATA/garbage.ndjson")" ] ||
	fail "--matching over malformed lines: stdout is not the one matching line"
lines "$TMP/err" '^bpfilter: .*garbage\.ndjson:[0-9]*: ..*' 5 "--matching reports malformed lines on stderr"

run --kinesis "$KINESIS_PATTERN" "$DATA/garbage.ndjson"
status 1 "malformed lines as Kinesis records"
lines "$TMP/out" '^ERROR [0-9]*: ..*' 6 "malformed lines as Kinesis records"

run --kinesis "$KINESIS_PATTERN" "$DATA/kinesis-bad.ndjson"
status 1 "malformed Kinesis records"
lines "$TMP/out" '^ERROR [0-9]*: ..*' 7 "malformed Kinesis records"
has "$TMP/out" "ERROR 1: kinesis.data is missing or not a string" "Kinesis record without data"
has "$TMP/out" "ERROR 2: data is not strict base64" "Kinesis data not base64"
has "$TMP/out" "ERROR 4: kinesis.approximateArrivalTimestamp is missing or not epoch seconds" \
	"Kinesis arrival time as a string"
has "$TMP/out" "ERROR 6: eventID is not <shardId>:<sequenceNumber>" "Kinesis eventID without shard"

run --dynamodb "$DDB_PATTERN" "$DATA/dynamodb-bad.ndjson"
status 1 "malformed DynamoDB records"
lines "$TMP/out" '^ERROR [0-9]*: ..*' 7 "malformed DynamoDB records"
has "$TMP/out" "ERROR 1: eventName is not INSERT, MODIFY or REMOVE" "DynamoDB eventName"
has "$TMP/out" "ERROR 3: dynamodb.SequenceNumber is missing" "DynamoDB record without SequenceNumber"
has "$TMP/out" "ERROR 5: userIdentity is not an object" "DynamoDB userIdentity"

# 100000 brackets (a recursive parser would overflow its stack) and NUL bytes.
awk 'BEGIN { printf "{\"a\":"; for (i = 0; i < 100000; i++) printf "["; print "" }' >"$TMP/hostile.ndjson"
printf '{"a":"x\000y"}\n' >>"$TMP/hostile.ndjson"
for mode in "" --kinesis --dynamodb; do
	run $mode '{"a":[1]}' "$TMP/hostile.ndjson"
	status 1 "hostile lines ${mode:-as JSON events}"
	lines "$TMP/out" '^ERROR [0-9]*: ..*' 2 "hostile lines ${mode:-as JSON events}"
done
has "$TMP/out" "nested deeper than" "deep nesting message"
has "$TMP/out" "a NUL byte" "NUL byte message"

# ---- files and usage ----
run "$EVENT_PATTERN" "$TMP/missing.ndjson"
status 2 "a missing events file"
has "$TMP/err" "$TMP/missing.ndjson: No such file or directory" "missing events file message"

run "$TMP/missing-pattern.json" "$DATA/events.ndjson"
status 2 "a missing pattern file"
has "$TMP/err" "$TMP/missing-pattern.json: No such file or directory" "missing pattern file message"

run --vectors "$TMP/missing.json"
status 2 "a missing vector file"
has "$TMP/err" "$TMP/missing.json: No such file or directory" "missing vector file message"

run --help
status 0 "--help"
awk 'length($0) > 80 { wide = 1 } END { exit wide || NR > 24 || NR < 5 }' "$TMP/out" ||
	fail "--help is not a screen (at most 24 lines of at most 80 columns)"
checks=$((checks + 1))

for args in "" "$EVENT_PATTERN" "--bogus $EVENT_PATTERN x" "--kinesis --dynamodb {} x" \
	"--vectors $VECTORS {}" "-p"; do
	run $args
	status 2 "usage error: bpfilter $args"
	has "$TMP/err" "bpfilter --help explains the usage" "usage error message: bpfilter $args"
done

echo "bpfilter: ok ($checks checks)"
