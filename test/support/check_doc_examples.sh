#!/bin/sh
# SPDX-License-Identifier: MIT
# Every code example of the documentation compiles: the @code ... @endcode blocks of
# include/batchpoint/*.h and the ```c blocks of README.md, with -Wall -Wextra -Werror
# (-fsyntax-only: nothing is linked or run). Errors point at the example's own file and line.
#
# How a block becomes a translation unit (write examples to fit):
# - A block that defines `main` is a whole program and is compiled as it is.
# - Otherwise the common indentation is removed; `#include` lines go to the top; a function
#   definition starting at column 0 (up to its closing `}` at column 0) stays at file scope;
#   every other line is the body of `void doc_example(void)`, after the prelude below.
# - The prelude includes <stdint.h>, <stdio.h>, <stdlib.h>, <string.h> and <batchpoint.h>
#   and declares what examples take from the host, never defined: now_ms(), wait_until(),
#   and the objects cfg, host, transport, err, body/body_len, response/response_len, records/n,
#   file_store, my_deliver(), my_events(). Callback parameters may go unused
#   (-Wno-unused-parameter): examples show the full signatures.
# - A block whose first line is `// fragment` (header) or that opens with ```c fragment
#   (README) is not compiled: keep those few.
# usage: check_doc_examples.sh [CC [FLAGS...]]   (run from the top of the tree)
set -eu
cc=${1:-cc}; [ $# -gt 0 ] && shift
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

cat > "$tmp/prelude.h" <<'C'
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <batchpoint.h>
int64_t now_ms(void);                 /* the host's clock: milliseconds since the Unix epoch */
void wait_until(int64_t deadline_ms); /* sleep until then, or until a completion arrives */
extern bp_config *cfg;                /* a configuration (bp_config_new, bp_config_set) */
extern void *host;                    /* the host's context: the callbacks' user_data */
extern const bp_transport transport;  /* the host's callbacks */
extern char err[256];                 /* room for an error message */
extern const char *body, *response;   /* a request or response body */
extern size_t body_len, response_len;
extern const bp_record *records;      /* records read from the stream */
extern size_t n;
extern bp_file_store *file_store;
int my_deliver(bp_engine *e, const bp_delivery_req *req, void *user_data);
int my_events(bp_engine *e, const bp_engine_event *ev, void *user_data);
C

# Extract: one $tmp/bN.raw per block, its first line "FILE LINE" (the block's first line).
awk -v dir="$tmp" '
  FNR == 1 { inblk = 0 }
  function start(skip) { k++; inblk = 1; out = dir "/b" k ".raw"; skipped = skip
    print FILENAME " " (FNR + 1) > out }
  function stop() { inblk = 0; close(out); if (skipped) { system("rm -f " out); nskip++ } }
  FILENAME ~ /\.h$/ && /@code/ { start(0); next }
  FILENAME ~ /\.h$/ && /@endcode/ && inblk { stop(); next }
  FILENAME ~ /\.md$/ && /^```c( fragment)?[ \t]*$/ { start($0 ~ /fragment/); next }
  FILENAME ~ /\.md$/ && /^```/ && inblk { stop(); next }
  inblk { line = $0; if (FILENAME ~ /\.h$/) sub(/^ \* ?/, "", line); print line > out }
  END { print nskip + 0 > (dir "/skipped") }
' include/batchpoint/*.h README.md

total=0; failed=0; frag=0
for raw in "$tmp"/b*.raw; do
  [ -e "$raw" ] || continue
  total=$((total + 1))
  src=${raw%.raw}.c
  awk -v prelude="$tmp/prelude.h" '
    NR == 1 { file = $1; base = $2 - 1; next }
    { text[NR] = $0 }
    END {
      ind = -1
      for (i = 2; i <= NR; i++) if (text[i] ~ /[^ \t]/) {
        match(text[i], /^ */); if (ind < 0 || RLENGTH < ind) ind = RLENGTH }
      if (ind < 0) ind = 0
      whole = 0
      for (i = 2; i <= NR; i++) { text[i] = substr(text[i], ind + 1)
        if (text[i] ~ /(^|[ *])main[ \t]*\(/) whole = 1 }
      if (text[2] ~ /^\/\/ fragment/) { print "/* fragment */"; exit }
      if (whole) { for (i = 2; i <= NR; i++) { printf "#line %d \"%s\"\n%s\n", base + i - 1, file, text[i] }; exit }
      print "#include \"" prelude "\""
      for (i = 2; i <= NR; i++) if (text[i] ~ /^#include/) {
        printf "#line %d \"%s\"\n%s\n", base + i - 1, file, text[i]; text[i] = "" }
      infn = 0
      for (i = 2; i <= NR; i++) {
        if (!infn && text[i] ~ /^[A-Za-z_].*\)[ \t]*\{[ \t]*$/ &&
            text[i] !~ /^(for|if|while|switch|else|do)[^A-Za-z0-9_]/) infn = 1
        if (infn) { printf "#line %d \"%s\"\n%s\n", base + i - 1, file, text[i]; fnline[i] = 1 }
        if (infn && text[i] ~ /^\}/) infn = 0
      }
      print "void doc_example(void);"
      print "void doc_example(void) {"
      for (i = 2; i <= NR; i++) if (!fnline[i]) printf "#line %d \"%s\"\n%s\n", base + i - 1, file, text[i]
      print "}"
    }' "$raw" > "$src"
  where=$(head -1 "$raw")
  if grep -q '^/\* fragment \*/$' "$src"; then total=$((total - 1)); frag=$((frag + 1)); continue; fi
  if ! "$cc" -std=c11 -Wall -Wextra -Werror -Wno-unused-parameter -D_POSIX_C_SOURCE=200809L \
      -Iinclude "$@" -fsyntax-only -x c "$src" > "$tmp/log" 2>&1; then
    echo "check-doc-examples: the example at ${where% *}:${where#* } does not compile:"
    cat "$tmp/log"
    failed=$((failed + 1))
  fi
done
skipped=$(( $(cat "$tmp/skipped") + frag ))
[ "$failed" -eq 0 ] || { echo "check-doc-examples: $failed of $total examples fail"; exit 1; }
echo "check-doc-examples: $total examples compile ($skipped marked as fragments)"
