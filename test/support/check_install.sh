#!/bin/sh
# Install into a temporary prefix (and a DESTDIR staging root), then build and run an
# example using only `pkg-config --cflags --libs batchpoint`, against the shared library.
set -eu
make=$1; cc=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
$make --no-print-directory install PREFIX="$tmp/prefix" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
[ -f "$tmp/prefix/lib/pkgconfig/batchpoint.pc" ] || { echo "check-install: no .pc"; exit 1; }
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
flags=$(pkg-config --cflags --libs batchpoint)
$cc -std=c11 -Wall -Wextra -Werror -o "$tmp/sync_host" examples/pkgconfig_hello.c $flags
LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/sync_host" >/dev/null
# The tools land in $(PREFIX)/bin (full builds) and run from there.
"$tmp/prefix/bin/bpsim" --help | grep -q '^usage: bpsim'
"$tmp/prefix/bin/bpfilter" --help | grep -q '^usage: bpfilter'
# DESTDIR stages under a root without changing the paths written into the .pc file.
$make --no-print-directory install PREFIX=/opt/bp DESTDIR="$tmp/stage" >/dev/null
grep -q '^prefix=/opt/bp$' "$tmp/stage/opt/bp/lib/pkgconfig/batchpoint.pc"
[ -f "$tmp/stage/opt/bp/include/batchpoint/bp_common.h" ]
$make --no-print-directory uninstall PREFIX=/opt/bp DESTDIR="$tmp/stage" >/dev/null
[ ! -e "$tmp/stage/opt/bp/lib/libbatchpoint.a" ] && [ ! -e "$tmp/stage/opt/bp/bin/bpsim" ]
echo "check-install: install (library, headers, .pc, bin/bpsim, bin/bpfilter), pkg-config build, DESTDIR and uninstall ok ($flags)"
