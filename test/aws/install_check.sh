#!/bin/sh
# SPDX-License-Identifier: MIT
# The add-on as a user gets it: `make install` into a temporary prefix, then
# examples/aws_consumer.c built with `pkg-config --cflags --libs batchpoint-aws` only, run
# against the installed shared libraries, and the installed bpconsume answering --help.
# usage: install_check.sh BUILD (CC and EXTRA_FLAGS from the environment: a sanitizer build
# passes its -fsanitize flags)
set -eu
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
make -s install BUILD="$build" PREFIX="$tmp/usr" > "$tmp/install.log" 2>&1 || {
  cat "$tmp/install.log"; exit 1; }
export PKG_CONFIG_PATH="$tmp/usr/lib/pkgconfig"
for f in lib/libbatchpoint-aws.so.0 lib/libbatchpoint-aws.a include/batchpoint/bp_aws.h \
         lib/pkgconfig/batchpoint-aws.pc bin/bpconsume; do
  [ -e "$tmp/usr/$f" ] || { echo "check-aws-install: $f was not installed"; exit 1; }
done
flags=$(pkg-config --cflags --libs batchpoint-aws)
${CC:-cc} -std=c11 -Wall -Wextra -Werror ${EXTRA_FLAGS:-} -o "$tmp/aws_consumer" examples/aws_consumer.c $flags
# wrong arguments: the usage line and exit 2, from the installed libraries
set +e
LD_LIBRARY_PATH="$tmp/usr/lib" "$tmp/aws_consumer" > "$tmp/out" 2>&1; rc=$?
set -e
[ "$rc" = 2 ] && grep -q '^usage:' "$tmp/out" || { echo "check-aws-install: aws_consumer exit $rc"; cat "$tmp/out"; exit 1; }
if LD_LIBRARY_PATH="$tmp/usr/lib" ldd "$tmp/aws_consumer" | grep -q "$tmp/usr/lib/libbatchpoint-aws.so.0"; then :; else
  echo "check-aws-install: aws_consumer does not load the installed libbatchpoint-aws"; exit 1
fi
"$tmp/usr/bin/bpconsume" --help | grep -q -- '--mapping FILE' || { echo "check-aws-install: bpconsume --help"; exit 1; }
make -s uninstall BUILD="$build" PREFIX="$tmp/usr" > /dev/null 2>&1
left=$(find "$tmp/usr" -type f | grep -E 'bp_aws|batchpoint-aws|bpconsume' || true)
[ -z "$left" ] || { echo "check-aws-install: left after uninstall: $left"; exit 1; }
echo "check-aws-install: installed, built with pkg-config batchpoint-aws, ran, uninstalled"
