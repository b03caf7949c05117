#!/bin/sh
# SPDX-License-Identifier: MIT
# The shared library exports only bp_ symbols (bp__ internals hidden), toolchain entries
# aside; it exports every function the public headers declare with BP_API; and a program
# that takes the address of every one of them links and runs against it (the ABI/link test,
# generated from the headers so that it cannot fall behind them).
set -eu
lib=$1; hdrs=$2; cc=${CC:-cc}
exported=$(nm -D --defined-only "$lib" | awk '{print $NF}' | sed 's/@.*//' | sort -u)
bad=$(printf '%s\n' "$exported" | grep -v -E '^(bp_[a-z0-9]|_init$|_fini$|_edata$|_end$|__bss_start$|BATCHPOINT_)' || true)
if [ -n "$bad" ]; then echo "check-symbols: unexpected exports:"; echo "$bad"; exit 1; fi
if printf '%s\n' "$exported" | grep -q '^bp__'; then echo "check-symbols: internal bp__ exported"; exit 1; fi
# The BP_API functions of this build's profile (PROFILE_CPPFLAGS, e.g. -DBP_CORE_ONLY): the
# umbrella header preprocessed with BP_API marking them.
profile=${PROFILE_CPPFLAGS:-}
declared=$("$cc" -E -P $profile -DBP_BUILDING -I"$hdrs/.." "$hdrs/../batchpoint.h" | tr '\n' ' ' \
  | grep -o 'visibility("default"))) [^;(]*(' | sed 's/($//; s/.*[ *]//' | sort -u)
[ -n "$declared" ] || { echo "check-symbols: no public function found in $hdrs"; exit 1; }
missing=""
for f in $declared; do printf '%s\n' "$exported" | grep -qx "$f" || missing="$missing $f"; done
if [ -n "$missing" ]; then echo "check-symbols: declared but not exported:$missing"; exit 1; fi

dir=$(dirname "$lib"); src="$dir/test_symbols.c"
{
  echo '#include <stdio.h>'
  echo '#include <batchpoint.h>'
  echo 'typedef void (*fn)(void);'
  echo 'static const fn table[] = {'
  for f in $declared; do echo "  (fn)$f,"; done
  echo '};'
  echo 'int main(void) {'
  echo '  size_t n = sizeof table / sizeof table[0];'
  echo '  for (size_t i = 0; i < n; i++) if (!table[i]) return 1;'
  printf '%s\n' '  printf("test_symbols: %zu public functions linked\n", n);'
  echo '  return bp_version_num() == BP_VERSION_NUM ? 0 : 1;'
  echo '}'
} > "$src"
"$cc" -std=c11 -Wall -Wextra -Werror -Wno-cast-function-type $profile -Iinclude -o "$dir/test_symbols" "$src" \
  -L"$dir" -lbatchpoint
LD_LIBRARY_PATH="$dir" "$dir/test_symbols"
n=$(printf '%s\n' "$exported" | grep -c '^bp_')
echo "check-symbols: $n exported symbols, all bp_, every declared one present${profile:+ ($profile)}"
