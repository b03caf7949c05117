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
# ci DIR: npm ci in DIR unless its lock file is the one installed last
ci() {
  sum=$(cksum < "$1/package-lock.json")
  stamp=$1/node_modules/.batchpoint-installed
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then return 0; fi
  echo "npm ci in test/aws/node/$1 (node $(node --version), npm $(npm --version))"
  (cd "$1" && npm ci --no-audit --no-fund --omit=optional)
  echo "$sum" > "$stamp"
}
ci .
# serverless-offline (Serverless Framework v3): a second Lambda Invoke API server for
# bpconsume's tests, kept apart because it is large (about 280 MB).
ci offline
