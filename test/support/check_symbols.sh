#!/bin/sh
# The shared library exports only bp_ symbols (bp__ internals hidden), toolchain entries
# aside, and exports every function the public headers declare with BP_API.
set -eu
lib=$1; hdrs=$2
exported=$(nm -D --defined-only "$lib" | awk '{print $NF}' | sed 's/@.*//' | sort -u)
bad=$(printf '%s\n' "$exported" | grep -v -E '^(bp_[a-z0-9]|_init$|_fini$|_edata$|_end$|__bss_start$|BATCHPOINT_)' || true)
if [ -n "$bad" ]; then echo "check-symbols: unexpected exports:"; echo "$bad"; exit 1; fi
if printf '%s\n' "$exported" | grep -q '^bp__'; then echo "check-symbols: internal bp__ exported"; exit 1; fi
declared=$(cat "$hdrs"/*.h | tr '\n' ' ' | grep -o 'BP_API [^;(]*(' | sed 's/($//; s/.*[ *]//' | sort -u)
missing=""
for f in $declared; do printf '%s\n' "$exported" | grep -qx "$f" || missing="$missing $f"; done
if [ -n "$missing" ]; then echo "check-symbols: declared but not exported:$missing"; exit 1; fi
n=$(printf '%s\n' "$exported" | grep -c '^bp_')
echo "check-symbols: $n exported symbols, all bp_, all declared ones present"
