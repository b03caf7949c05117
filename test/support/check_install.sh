#!/bin/sh
# SPDX-License-Identifier: MIT
# Install into a temporary prefix (and a DESTDIR staging root), then build and run an
# example using only `pkg-config --cflags --libs batchpoint`, against the shared library.
# The same for the core-only build in BUILD/core-only (already built): its installed
# bp_features.h and .pc alone must give a program the core-only profile.
# usage: check_install.sh MAKE CC BUILD
set -eu
make="$1 BUILD=$3"; cc=$2; core_make="$1 BUILD=$3/core-only CORE_ONLY=1 INSTALL_DEPS=0"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# The profile the installed headers state is the one the library reports at run time.
cat > "$tmp/profile.c" <<'C'
#include <stdio.h>
#include <batchpoint.h>
#if defined(BP_CORE_ONLY) || !defined(BP_BUILT_PROFILE)
#error "the installed bp_features.h should fix the profile without -D flags"
#endif
int main(void) {
  if (bp_feature_enabled("CODEC") != BP_WITH_CODEC) return 1;
  if (bp_feature_enabled("FILE_STORE") != BP_WITH_FILE_STORE) return 1;
  if (bp_feature_enabled("STDIO") != BP_WITH_STDIO) return 1;
  printf("codec %d\n", BP_WITH_CODEC);
  return 0;
}
C
$make --no-print-directory install PREFIX="$tmp/prefix" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
[ -f "$tmp/prefix/lib/pkgconfig/batchpoint.pc" ] || { echo "check-install: no .pc"; exit 1; }
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
flags=$(pkg-config --cflags --libs batchpoint)
$cc -std=c11 -Wall -Wextra -Werror -o "$tmp/sync_host" examples/pkgconfig_hello.c $flags
LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/sync_host" >/dev/null
$cc -std=c11 -Wall -Wextra -Werror -o "$tmp/profile" "$tmp/profile.c" $flags
[ "$(LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/profile")" = "codec 1" ]
# The reference the headers cite is installed beside them, and no installed text names a place
# outside the installed tree (a steering document, a sibling checkout) or an unexplained tag.
for doc in SEMANTICS.md FILTERS.md; do
  [ -f "$tmp/prefix/include/batchpoint/$doc" ] || { echo "check-install: $doc not installed"; exit 1; }
done
if grep -rnE '\.\./shared|spec/(esm|filter)\.md|STYLE rule|DESIGN\.md|\[DEC' "$tmp/prefix/include"; then
  echo "check-install: an installed file cites a document outside the installation"; exit 1
fi
for cited in $(grep -rhoE '(SEMANTICS|FILTERS)\.md' "$tmp/prefix/include" | sort -u); do
  [ -f "$tmp/prefix/include/batchpoint/$cited" ] || { echo "check-install: $cited cited, not installed"; exit 1; }
done
# The tools land in $(PREFIX)/bin (full builds) and run from there.
"$tmp/prefix/bin/bpsim" --help | grep -q '^usage: bpsim'
"$tmp/prefix/bin/bpfilter" --help | grep -q '^usage: bpfilter'
# DESTDIR stages under a root without changing the paths written into the .pc file.
$make --no-print-directory install PREFIX=/opt/bp DESTDIR="$tmp/stage" >/dev/null
grep -q '^prefix=/opt/bp$' "$tmp/stage/opt/bp/lib/pkgconfig/batchpoint.pc"
[ -f "$tmp/stage/opt/bp/include/batchpoint/bp_common.h" ]
$make --no-print-directory uninstall PREFIX=/opt/bp DESTDIR="$tmp/stage" >/dev/null
[ ! -e "$tmp/stage/opt/bp/lib/libbatchpoint.a" ] && [ ! -e "$tmp/stage/opt/bp/bin/bpsim" ]
# Core-only: no yajl in the .pc, the codec absent from the installed headers.
$core_make --no-print-directory install PREFIX="$tmp/core" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
core_pc="$tmp/core/lib/pkgconfig/batchpoint.pc"
grep -q '^Requires.private: *$' "$core_pc" || { echo "check-install: core-only .pc requires:"; cat "$core_pc"; exit 1; }
core_flags=$(PKG_CONFIG_PATH="$tmp/core/lib/pkgconfig" pkg-config --cflags --libs batchpoint)
$cc -std=c11 -Wall -Wextra -Werror -o "$tmp/core_profile" "$tmp/profile.c" $core_flags
[ "$(LD_LIBRARY_PATH="$tmp/core/lib" "$tmp/core_profile")" = "codec 0" ]
if $cc -std=c11 -Wall -Wextra -Werror -o "$tmp/core_hello" examples/pkgconfig_hello.c $core_flags \
  >/dev/null 2>&1; then echo "check-install: the codec example built against a core-only install"; exit 1; fi
echo "check-install: core-only install, pkg-config build and profile ok ($core_flags)"
echo "check-install: install (library, headers, reference docs, .pc, bin/bpsim, bin/bpfilter), pkg-config build, DESTDIR and uninstall ok ($flags)"
