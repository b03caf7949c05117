#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the end-to-end tests' npm packages from package-lock.json, once: the stamp
# node_modules/.batchpoint-installed holds the lock file's checksum and a changed lock installs again.
# Without node or npm it says "skipped" and succeeds, so `make` goes on without these tests.
# Optional dependencies (kinesalite's leveldown, a native LevelDB binding) are left out:
# kinesalite runs in memory here and never loads it.
set -eu
cd "$(dirname "$0")"
# BP_REQUIRE_ALL=1 (CI): nothing may be skipped.
skipped() { echo "skipped: $1"; [ "${BP_REQUIRE_ALL:-}" != 1 ] || exit 1; exit 0; }
command -v node >/dev/null 2>&1 || skipped "node not installed (Debian: nodejs)"
command -v npm >/dev/null 2>&1 || skipped "npm not installed (Debian: npm)"
sum=$(cksum < package-lock.json)
stamp=node_modules/.batchpoint-installed
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then exit 0; fi
echo "npm ci in test/aws/node (node $(node --version), npm $(npm --version))"
npm ci --no-audit --no-fund --omit=optional
echo "$sum" > "$stamp"
