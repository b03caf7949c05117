#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the end-to-end tests' npm packages from package-lock.json, once: the stamp
# node_modules/.batchpoint-installed holds the lock file's checksum and a changed lock installs again.
# Without node or npm it says "skipped" and succeeds, so `make` goes on without these tests.
# Optional dependencies (kinesalite's leveldown, a native LevelDB binding) are left out:
# kinesalite runs in memory here and never loads it.
set -eu
cd "$(dirname "$0")"
if ! command -v node >/dev/null 2>&1; then echo "skipped: node not installed"; exit 0; fi
if ! command -v npm >/dev/null 2>&1; then echo "skipped: npm not installed"; exit 0; fi
sum=$(cksum < package-lock.json)
stamp=node_modules/.batchpoint-installed
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then exit 0; fi
echo "npm ci in test/aws/node (node $(node --version), npm $(npm --version))"
npm ci --no-audit --no-fund --omit=optional
echo "$sum" > "$stamp"
