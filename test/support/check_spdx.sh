#!/bin/sh
# SPDX-License-Identifier: MIT
# Every source file names its license (MIT, the LICENSE file) with an SPDX identifier line in
# its first 3 lines, after a shebang if it has one: the tracked *.c *.h *.js *.mjs *.py *.sh
# files, the Makefiles and .ci/run (git ls-files; outside a git checkout, every such file but
# the build tree's and installed npm packages').
# Lists the offenders and fails. With --fix, adds the line instead, in the file's comment
# style: `/* <the line> */` first in C and JavaScript files (`// ...` after a shebang),
# `# <the line>` first (after the shebang) in the others.
# usage: check_spdx.sh [--fix]   (from the top of the tree)
set -eu
fix=0; [ "${1:-}" = --fix ] && fix=1
tag='SPDX-License-Identifier: MIT'
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  list=$(git ls-files)
else
  list=$(find . \( -path ./build -o -name node_modules \) -prune -o -type f -print | sed 's|^\./||')
fi
bad=0; fixed=0; checked=0
for f in $list; do
  case "$f" in
    *.c | *.h | *.js | *.mjs) style=c ;;
    *.sh | *.py | Makefile | */Makefile | .ci/run) style=hash ;;
    *) continue ;;
  esac
  [ -f "$f" ] || continue
  checked=$((checked + 1))
  if head -1 "$f" | grep -q '^#!'; then first=2; else first=1; fi
  sed -n "$first,$((first + 2))p" "$f" | grep -q "$tag" && continue
  if [ "$fix" = 0 ]; then echo "check-spdx: no '$tag' in the first lines of $f"; bad=$((bad + 1)); continue; fi
  if [ "$style" = c ] && [ "$first" = 1 ]; then line="/* $tag */"
  elif [ "$style" = c ]; then line="// $tag"
  else line="# $tag"; fi
  tmp="$f.spdx.tmp"
  { [ "$first" = 2 ] && head -1 "$f"; echo "$line"; tail -n +"$first" "$f"; } > "$tmp"
  cat "$tmp" > "$f" && rm -f "$tmp" # cat keeps the file's mode
  fixed=$((fixed + 1))
done
if [ "$fix" = 1 ]; then echo "check-spdx: added the line to $fixed of $checked files"; exit 0; fi
[ "$bad" -eq 0 ] || { echo "check-spdx: $bad of $checked files lack it (fix: sh $0 --fix)"; exit 1; }
echo "check-spdx: $checked files carry '$tag'"
