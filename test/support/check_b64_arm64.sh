#!/bin/sh
# SPDX-License-Identifier: MIT
# The base64 NEON path (lib/bp_b64_neon.c) on AArch64: test/test_b64_paths.c cross-built,
# statically, with the base64 sources only (and test/support/cross/cmocka.h for the target's
# missing cmocka), run under qemu-user. It compares the NEON path with the portable one on
# every input class and must report "portable..neon". Skipped without the cross compiler
# (gcc-aarch64-linux-gnu) or qemu-aarch64 (qemu-user).
#
# usage: check_b64_arm64.sh BUILD_DIR
name=check-b64-arm64
. "$(dirname "$0")/skipped.sh"
build=$1
xcc=${XCC:-aarch64-linux-gnu-gcc}
command -v "$xcc" >/dev/null 2>&1 || skipped "no $xcc (apt-get install gcc-aarch64-linux-gnu)"
command -v qemu-aarch64 >/dev/null 2>&1 || skipped "no qemu-aarch64 (apt-get install qemu-user)"
mkdir -p "$build/arm64"
bin=$build/arm64/test_b64_paths
"$xcc" -O2 -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
  -D_POSIX_C_SOURCE=200809L -Iinclude -Ilib -Itest/support/cross -DBP_STATIC -DBP_BUILDING \
  -static -o "$bin" test/test_b64_paths.c lib/bp_b64.c lib/bp_b64_neon.c lib/bp_b64_x86.c \
  || { echo "$name: cross build failed"; exit 1; }
out=$(qemu-aarch64 "$bin" 2>&1) || { printf '%s\n' "$out" | tail -5; echo "$name: FAILED"; exit 1; }
printf '%s\n' "$out" | grep -q 'paths compared on this CPU: portable..neon' \
  || { printf '%s\n' "$out"; echo "$name: the NEON path was not taken"; exit 1; }
echo "$name: NEON and portable base64 agree ($(printf '%s\n' "$out" | sed -n 's/^base64 path comparisons: //p') comparisons under qemu-aarch64)"
