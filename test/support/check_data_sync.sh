#!/bin/sh
# SPDX-License-Identifier: MIT
# check_data_sync.sh [UPSTREAM_DIR]: test/data holds copies of upstream files, listed in
# test/data/MANIFEST as "local-name upstream-relative-path" (# comments, blank lines). Every
# file of test/data is listed and present; when UPSTREAM_DIR (default ../shared, relative to
# the repository root) exists, each copy must equal its upstream byte for byte, so that a
# change upstream fails `make test` with the file's name instead of going unnoticed. A
# path of "-" marks a file made in this repository (test/data/README.md names its
# generator): it has no upstream to equal.
# Prints "data sync: ok (N files)" or "data sync: skipped (...)", or every failure and exits 1.
set -u
cd "$(dirname "$0")/../.." || exit 1
up=${1:-../shared}
manifest=test/data/MANIFEST
[ -r "$manifest" ] || { echo "data sync: no $manifest" >&2; exit 1; }

bad=0
n=0
own=0
listed=" "
while read -r name path rest; do
	case $name in '' | '#'*) continue ;; esac
	if [ -z "$path" ] || [ -n "$rest" ]; then
		echo "data sync: $manifest: bad line '$name $path $rest' (want: local-name upstream-path)" >&2
		bad=1; continue
	fi
	n=$((n + 1))
	[ "$path" = - ] && own=$((own + 1))
	listed="$listed$name "
	[ -f "test/data/$name" ] || { echo "data sync: test/data/$name is listed in $manifest but missing" >&2; bad=1; }
done <"$manifest"

# A copy added without a MANIFEST line would never be compared.
for f in test/data/*; do
	name=${f#test/data/}
	case $name in README.md | MANIFEST) continue ;; esac
	case $listed in *" $name "*) ;; *)
		echo "data sync: $f has no line in $manifest (add: $name UPSTREAM-PATH)" >&2; bad=1 ;;
	esac
done
[ "$bad" -eq 0 ] || exit 1

if [ ! -d "$up" ]; then
	echo "data sync: skipped (no $up beside the repository)"
	exit 0
fi
while read -r name path rest; do
	case $name in '' | '#'*) continue ;; esac
	[ "$path" = - ] && continue
	if [ ! -f "$up/$path" ]; then
		echo "data sync: test/data/$name: its upstream $up/$path is gone: find where it went and update $manifest" >&2
		bad=1
	elif ! cmp -s "test/data/$name" "$up/$path"; then
		echo "data sync: test/data/$name differs from $up/$path: copy it again (cp $up/$path test/data/$name)" >&2
		bad=1
	fi
done <"$manifest"
[ "$bad" -eq 0 ] || exit 1
echo "data sync: ok ($((n - own)) files equal to $up, $own made here)"
