#!/bin/sh
# SPDX-License-Identifier: MIT
# Check dependencies by probing their headers.
#   deps.sh lib   the library's own (yajl; nothing when CORE_ONLY=1). Never installs: a
#                 missing header stops the build with the package name and the command.
#                 This is what `make`, `make install` and packagers run.
#   deps.sh all   everything `make demo` / `make test` need (yajl, libb64, cmocka,
#                 pkg-config). On Debian-like systems the missing packages are installed with
#                 apt-get (sudo when not root) unless INSTALL_DEPS=0; elsewhere the exact
#                 package names are printed and the build stops.
# DEPS_CFLAGS: the build's own -I/-D flags (a packager's yajl elsewhere is found too).
set -u
CC=${CC:-cc}
mode=${1:-all}
missing=""
probe() { # probe PACKAGE 'C source'
  if ! printf '%s\n' "$2" | "$CC" ${DEPS_CFLAGS:-} -E -x c - >/dev/null 2>&1; then missing="$missing $1"; fi
}
if [ "${CORE_ONLY:-}" != 1 ]; then
  probe libyajl-dev '#include <yajl/yajl_parse.h>'
fi
if [ "$mode" = lib ]; then
  [ -z "$missing" ] && exit 0
  echo "batchpoint: missing yajl headers (yajl/yajl_parse.h): apt-get install$missing" >&2
  echo "  (yajl 2.x; or build the core only: make CORE_ONLY=1)" >&2
  exit 1
fi
probe libb64-dev '#include <b64/cencode.h>'
probe libcmocka-dev '#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>'
command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
[ -z "$missing" ] && exit 0

echo "batchpoint: missing build dependencies:$missing"
if [ "${INSTALL_DEPS:-1}" != 0 ] && command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""
  elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"
  else
    echo "batchpoint: not root and no sudo: install as root: apt-get install$missing" >&2
    exit 1
  fi
  echo "batchpoint: installing with apt-get:$missing"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing \
    || { echo "batchpoint: apt-get failed; install:$missing" >&2; exit 1; }
  exit 0
fi
cat >&2 <<TXT
batchpoint: please install:$missing
  Debian/Ubuntu: apt-get install$missing
  other systems: yajl 2.x (headers yajl/yajl_parse.h), libb64 1.2 (b64/cencode.h, tests only),
  cmocka 1.1 (tests only), pkg-config
TXT
exit 1
