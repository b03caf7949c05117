#!/bin/sh
# SPDX-License-Identifier: MIT
# bpsim on malformed scenario files: each must end with exit status 2, nothing on stdout and
# exactly one line `bpsim: FILE: <what>` on stderr -- never a crash, a sanitizer report, a
# run or a pass. Where a field is wrong, <what> names its JSON path.
#
#   check_bpsim_malformed.sh BPSIM SHARED_FILE
#
# Inputs: truncations of SHARED_FILE; garbage made here from fixed seeds (random bytes,
# random JSON tokens, deep nesting, NUL bytes, bad UTF-8, a binary, a directory, a missing
# file); edits of test/bpsim/base.json (a small valid file, checked to pass first) and of
# its test/bpsim/base.ndjson that each break one field; byte mutations of base.json that may
# stay valid (exit 0 or 1 allowed there, but never a signal or a sanitizer report); the
# issue's example (a bad seq in the shared file's scenarios[3]); a well-formed case the
# runner cannot complete (it must fail, exit 1, not crash).
# shellcheck disable=SC2016,SC2059 # '$' is literal JSON here; printf formats are made here
set -u
[ $# -eq 2 ] || { echo "usage: $0 BPSIM SHARED_FILE" >&2; exit 2; }
bpsim=$1
shared=$2
base=$(dirname "$0")/../bpsim
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bpsim-malformed.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
n=0

fail() {
  echo "bpsim malformed inputs: FAIL: $*"
  [ -s "$tmp/err" ] && head -n 8 "$tmp/err" | sed 's/^/  stderr: /'
  exit 1
}

# expect_error FILE [TEXT]: exit 2, no output, stderr one line "bpsim: FILE: ..." holding TEXT.
expect_error() {
  "$bpsim" "$1" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  n=$((n + 1))
  [ "$rc" -eq 2 ] || fail "$1: exit status $rc, 2 expected${2:+ (with '$2')}"
  [ ! -s "$tmp/out" ] || fail "$1: output on stdout"
  [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "$1: stderr is not one line"
  msg=$(cat "$tmp/err")
  case $msg in "bpsim: $1: "?*) ;; *) fail "$1: stderr is not 'bpsim: $1: <what>'" ;; esac
  case $msg in *"${2-}"*) ;; *) fail "$1: the message lacks '$2'" ;; esac
}

# A fresh copy of test/bpsim/base.json and base.ndjson in $tmp.
fresh() {
  cp "$base/base.json" "$base/base.ndjson" "$tmp/" || fail "cannot copy $base/base.*"
}

# edit FILE FROM TO: in $tmp/FILE replace FROM (which must occur exactly once) by TO.
edit() {
  FROM=$2 TO=$3 awk '
    BEGIN { from = ENVIRON["FROM"]; to = ENVIRON["TO"] }
    { rest = $0; line = ""
      while ((i = index(rest, from)) > 0) {
        line = line substr(rest, 1, i - 1) to; rest = substr(rest, i + length(from)); count++
      }
      print line rest }
    END { exit count != 1 }' "$tmp/$1" >"$tmp/edit" || fail "$1: '$2' does not occur exactly once"
  mv "$tmp/edit" "$tmp/$1"
}

# bad TEXT FILE FROM TO [FILE FROM TO ...]: base with these edits -> an error holding TEXT.
bad() {
  want=$1
  shift
  fresh
  while [ $# -ge 3 ]; do
    edit "$1" "$2" "$3"
    shift 3
  done
  expect_error "$tmp/base.json" "$want"
}

# bytes SEED COUNT ALPHABET: COUNT pseudo-random bytes (octal escapes for printf) drawn
# from ALPHABET (a list of octal codes) by a small exact LCG: the same bytes on every run.
bytes() {
  awk -v seed="$1" -v count="$2" -v alphabet="$3" 'BEGIN {
    n = split(alphabet, a, " "); x = seed
    for (i = 0; i < count; i++) { x = (x * 75 + 74) % 65537; printf "\\%s", a[x % n + 1] }
  }'
}

all_bytes=$(awk 'BEGIN { for (i = 0; i < 256; i++) printf "%03o ", i }')
# {}[]",:0123456789.-eE tfnrul and backslash
json_bytes='173 175 133 135 042 054 072 060 061 062 063 064 065 066 067 070 071 056 055 145 105 040 164 146 156 162 165 154 134'

# ---- 0. the base file is valid (so each edit below breaks exactly what it says) ----
fresh
"$bpsim" "$tmp/base.json" >"$tmp/out" 2>"$tmp/err" || fail "test/bpsim/base.json does not pass"
[ ! -s "$tmp/err" ] || fail "test/bpsim/base.json: output on stderr"
grep -q '^3 passed, 0 failed, 0 skipped$' "$tmp/out" || fail "test/bpsim/base.json: not 3 passed"

# ---- 1. truncations of the shared file ----
size=$(wc -c <"$shared")
end=$size # bytes up to the JSON text's last one; a cut in the white space after it stays valid
while [ "$end" -gt 0 ]; do
  c=$(tail -c +"$end" "$shared" | head -c 1 | od -An -c | tr -d ' ')
  case $c in '\n' | '\r' | '\t' | '') end=$((end - 1)) ;; *) break ;; esac
done
[ "$end" -gt 128 ] || fail "$shared: too short"
cuts=$(awk -v end="$end" 'BEGIN {
  for (l = 0; l < end; l += 997) print l
  for (l = 1; l <= 64; l++) print l
  for (l = end - 64; l < end; l++) print l
}')
for l in $cuts; do
  head -c "$l" "$shared" >"$tmp/cut.json"
  expect_error "$tmp/cut.json"
done

# ---- 2. garbage ----
g=$tmp/garbage.json
: >"$g" && expect_error "$g" "not JSON: line 1, column 1"
for text in null '[]' '{}' '"text"' 42 true '{"scenarios": []}'; do
  printf '%s\n' "$text" >"$g" && expect_error "$g" "(top level): "
done
printf '{"scenarios": 5}' >"$g" && expect_error "$g" "scenarios: an array expected, got a number"
printf '{"scenarios": [[]]}' >"$g" && expect_error "$g" "scenarios[0]: an object expected, got an array"
printf '{"scenarios": [{"id": "x"]}' >"$g" && expect_error "$g" "not JSON: line 1, column 26"
printf '{"scenarios": [\000]}' >"$g" && expect_error "$g" "line 1, column 16: a NUL byte"
printf '{"scenarios": ["\377"]}' >"$g" && expect_error "$g" "not JSON: line 1, column"
printf '{"scenarios": ["a\\u0000b"]}' >"$g" && expect_error "$g" "line 1, column 18: a \\u0000 escape"
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "["; for (i = 0; i < 100000; i++) printf "]" }' >"$g"
expect_error "$g" "line 1, column 129: nested deeper than 128 levels"
for seed in 1 2 3 4 5 6 7 8; do
  printf "$(bytes "$seed" 3000 "$all_bytes")" >"$g" && expect_error "$g"
  printf "$(bytes "$seed" 3000 "$json_bytes")" >"$g" && expect_error "$g"
  { printf '{"scenarios": [{"id": "g", "stream": ['; printf "$(bytes "$seed" 500 "$json_bytes")"; } >"$g"
  expect_error "$g"
done
expect_error "$bpsim" "a NUL byte"
mkdir "$tmp/dir.json" && expect_error "$tmp/dir.json" "read error: Is a directory"
expect_error "$tmp/missing.json" "cannot open: No such file or directory"

# ---- 3. one wrong field each (the path in the message is the point) ----
S=496690000000000000000000000000000000000000000000000000
bad 'scenarios[0].stream[0].seq: not a decimal string' \
  base.json "\"seq\": \"${S}01\", \"partition_key\"" '"seq": "12x4", "partition_key"'
bad 'scenarios[0].stream[1].seq: a sequence number string expected, got a number' \
  base.json "\"seq\": \"${S}02\", \"partition_key\"" "\"seq\": ${S}02, \"partition_key\""
bad 'scenarios[0].stream[1].seq: not above the previous record of shard shardId-000000000000' \
  base.json "\"seq\": \"${S}02\", \"partition_key\"" "\"seq\": \"${S}00\", \"partition_key\""
bad 'scenarios[0].stream[0].arrival_ms: a number expected, got a string' \
  base.json '"data": "one", "arrival_ms": 1764082801000' '"data": "one", "arrival_ms": "soon"'
bad 'scenarios[0].stream[0].arrival_ms: an integer expected, got 1e400' \
  base.json '"data": "one", "arrival_ms": 1764082801000' '"data": "one", "arrival_ms": 1e400'
bad 'scenarios[0].stream[0]: exactly one of' base.json '"data": "one",' '"data": "one", "data_fill": {"char": "x", "length": 3},'
bad 'scenarios[0].stream[1].data_fill: char does not fill length exactly' base.json '"char": "."' '"char": ".."'
bad 'scenarios[0].stream[0].partiton_key: unknown Kinesis record field' base.json '"partition_key": "k", "data": "one"' '"partiton_key": "k", "data": "one"'
bad "scenarios[0].source_kind: 'kinesis' or 'dynamodb' expected" base.json '"id": "B1", "source_kind": "kinesis"' '"id": "B1", "source_kind": "kafka"'
bad 'scenarios[0].config: an object expected, got an array' \
  base.json '"config": {"BatchSize": 2,' '"config": [{"BatchSize": 2,' base.json 'sqs:us-east-1:111111111111:dlq"}}},' 'sqs:us-east-1:111111111111:dlq"}}}],'
bad 'scenarios[0].config.BatchSize: duplicate key' base.json '"BatchSize": 2,' '"BatchSize": 2, "BatchSize": 3,'
bad 'scenarios[0].run_until_ms: 1764082700000 is out of range' base.json '"run_until_ms": 1764082860000' '"run_until_ms": 1764082700000'
bad 'scenarios[0].strem: unknown scenario field' base.json '"title": "Inline records' '"strem": [], "title": "Inline records'
bad 'scenarios[0].function.rules: an array expected, got an object' base.json '"rules": [{"when_batch_contains_seq"' '"rules": {"x": [{"when_batch_contains_seq"' \
  base.json '"body": "{}"}}, {"respond": {"body": "null"}}]}' '"body": "{}"}}, {"respond": {"body": "null"}}]}}'
bad 'scenarios[1].function.rules: no rule' base.json '"rules": [{"respond": {"body": "null"}}]' '"rules": []'
bad 'scenarios[0].function.rules[0].when_batch_contains: unknown rule field' base.json '"when_batch_contains_seq"' '"when_batch_contains"'
bad "scenarios[0].function.rules[1]: 'respond' missing" base.json '"body": "{}"}}, {"respond": {"body": "null"}}' '"body": "{}"}}, {"when_invocation": 5}'
bad 'scenarios[0].function.rules[0].respond.error: a string expected, got a number' base.json '"error": "Unhandled"' '"error": 500'
bad 'scenarios[0].function.rules[0].when_batch_contains_seq: no record of the stream has this sequence number' \
  base.json "\"when_batch_contains_seq\": \"${S}02\"" "\"when_batch_contains_seq\": \"${S}09\""
bad 'scenarios[0].expect.invocations[0][1]: no record of the stream has this sequence number' \
  base.json "\"invocations\": [[\"${S}01\", \"${S}02\"]]" "\"invocations\": [[\"${S}01\", \"${S}22\"]]"
bad 'scenarios[0].expect.invocatons: unknown expectation field' base.json '    "invocations": [[' '    "invocatons": [['
bad 'scenarios[0].expect.invocation_count.$foo: unknown matcher' base.json '"invocation_count": {"$min": 1}' '"invocation_count": {"$foo": 1}'
bad 'scenarios[0].expect.invocation_count.$min: $min/$max: a number expected' base.json '"invocation_count": {"$min": 1}' '"invocation_count": {"$min": "1"}'
bad 'scenarios[0].expect.events[0].match.$regex: $regex: not a valid regular expression' base.json '{"$regex": "^k$"}' '{"$regex": "(k"}'
bad 'scenarios[0].expect.events[0]: needs ' base.json '"match": {"$regex": "^k$"}' '"match": {"$regex": "^k$"}, "equals": {}'
bad 'scenarios[0].expect.events[0].invocation: 0 is out of range' base.json '"invocation": 1, "path"' '"invocation": 0, "path"'
bad "scenarios[0].expect.timing[0]: op must be '>=' or '<='" base.json '"op": ">="' '"op": "=="'
bad 'scenarios[0].expect.timing[0].left.at: ' base.json '"at": "start"' '"at": "middle"'
bad 'scenarios[0].expect.on_failure[0].responseContext: ' base.json '"responseContext": "present"' '"responseContext": "maybe"'
bad 'scenarios[0].expect.on_failure[0].batchsize: unknown on_failure field' base.json '"batchSize": 2' '"batchsize": 2'
bad 'scenarios[0].expect.on_failure[0].startSequenceNumber: not a decimal string' base.json "\"startSequenceNumber\": \"${S}01\"" '"startSequenceNumber": "s1"'
bad 'scenarios[0].expect.final_checkpoint.shardId-000000000001: no such shard in the stream' base.json '"final_checkpoint": {"shardId-000000000000"' '"final_checkpoint": {"shardId-000000000001"'
bad 'scenarios[1].expect.final_checkpoint: not a decimal string' base.json "\"final_checkpoint\": \"${S}04\"" '"final_checkpoint": "r4"'
bad 'scenarios[0].environment.esm_uuid: not a UUID' base.json '"esm_uuid": "0c8d4b2e' '"esm_uuid": "ESM-0c8d4b2e'
bad 'environment.region: a string or a number expected, got an object' base.json '"region": "us-east-1"' '"region": {"name": "us-east-1"}'
bad 'scenarios[1].id: duplicate id "B1"' base.json '"id": "B2"' '"id": "B1"'
bad 'config_cases[0].id: duplicate id "B1"' base.json '"id": "C1"' '"id": "B1"'
bad 'config_cases[0].expect.ok: missing' base.json '"ok": true, ' ''
bad 'config_cases[0].expect.status: unknown config case expectation field' base.json '"http_status": 202' '"status": 202'
bad 'config_cases[0].environment.existing_functions: an array expected, got a string' base.json '"existing_functions": ["fn"]' '"existing_functions": "fn"'
bad 'config_cases[0].inputs: unknown config case field' base.json '"input": {' '"inputs": {'
bad 'formats: unknown top-level field' base.json '"format": {' '"formats": {'

# ---- 4. records from an NDJSON file (stream_file) ----
bad 'scenarios[1].stream_file base.ndjson line 3: seq: not a decimal string' base.ndjson "\"seq\": \"${S}04\"" '"seq": "4x"'
bad 'scenarios[1].stream_file base.ndjson line 3: not JSON: column 49: lexical error' base.ndjson '"shardId-000000000000", "seq": "'"${S}04" '"shardId-000000000000"; "seq": "'"${S}04"
bad 'scenarios[1].stream_file base.ndjson line 1: an object expected, got an array' base.ndjson '{"label": "r3"' '[{"label": "r3"' base.ndjson '"data": "three", "arrival_ms": 1764082801000}' '"data": "three", "arrival_ms": 1764082801000}]'
bad 'scenarios[1].stream_file base.ndjson line 1: labels: unknown Kinesis record field' base.ndjson '"label": "r3"' '"labels": "r3"'
bad 'scenarios[1].stream_file base.ndjson line 3: seq: not above the previous record' base.ndjson "\"seq\": \"${S}04\"" "\"seq\": \"${S}03\""
bad 'scenarios[1].expect.invocations[0][1]: no record of the stream has this sequence number' base.ndjson "\"seq\": \"${S}04\"" "\"seq\": \"${S}05\""
bad "scenarios[1].stream_file: give 'stream' or 'stream_file', not both" base.json '"stream_file": "base.ndjson"' '"stream_file": "base.ndjson", "stream": []'
bad "scenarios[1].stream: missing (or give 'stream_file')" base.json '"stream_file": "base.ndjson",' ''
bad 'scenarios[1].stream_file: nothing.ndjson: cannot open: No such file or directory' base.json '"stream_file": "base.ndjson"' '"stream_file": "nothing.ndjson"'
bad 'scenarios[1].stream_file: a string expected, got an array' base.json '"stream_file": "base.ndjson"' '"stream_file": ["base.ndjson"]'
fresh
printf '{"label": "r3", \000}\n' >"$tmp/base.ndjson"
expect_error "$tmp/base.json" 'scenarios[1].stream_file base.ndjson line 1: column 17: a NUL byte'

# ---- 5. byte mutations of base.json: any exit status but a signal, a message for status 2 ----
fresh
size=$(wc -c <"$base/base.json")
i=0
for p in $(awk -v size="$size" 'BEGIN { for (p = 1; p <= size; p += 29) print p }'); do
  i=$((i + 1))
  {
    head -c $((p - 1)) "$base/base.json"
    case $((i % 6)) in 0) printf '"' ;; 1) printf '}' ;; 2) printf '9' ;; 3) printf 'x' ;; 4) printf ']' ;; 5) printf ' ' ;; esac
    tail -c +$((p + 1)) "$base/base.json"
  } >"$tmp/base.json"
  "$bpsim" "$tmp/base.json" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  n=$((n + 1))
  case $rc in
  0 | 1) [ ! -s "$tmp/err" ] || fail "mutation at byte $p: exit status $rc with output on stderr" ;;
  2) expect_error "$tmp/base.json" ;;
  *) fail "mutation at byte $p: exit status $rc" ;;
  esac
done

# ---- 6. the issue's example: a bad sequence number deep in the shared file ----
awk '/^   "id": "/ { ids++ } ids == 4 && !done && /"seq": "/ { sub(/"seq": "[0-9]*"/, "\"seq\": \"12x4\""); done = 1 } { print }' \
  "$shared" >"$tmp/shared.json"
expect_error "$tmp/shared.json" 'scenarios[3].stream[0].seq: not a decimal string'

# ---- 7. well-formed but odd: the case fails, the runner does not crash ----
fresh # a config case without FunctionName (the library accepts it; the registry needs a name)
edit base.json '"FunctionName": "fn", ' ''
"$bpsim" "$tmp/base.json" >"$tmp/out" 2>"$tmp/err"
rc=$?
n=$((n + 1))
[ "$rc" -eq 1 ] && [ ! -s "$tmp/err" ] && grep -q '^FAIL C1: ' "$tmp/out" ||
  fail "config case without FunctionName: exit status $rc, 1 and 'FAIL C1: ...' expected"

echo "bpsim malformed inputs: ok ($n checks)"
