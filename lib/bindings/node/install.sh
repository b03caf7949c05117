#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Node binding's one dependency (koffi, pinned in package-lock.json) with npm ci,
# once: the stamp node_modules/.batchpoint-installed holds the lock file's checksum. koffi's
# prebuilt binary comes from its per-platform optional package (@koromix/koffi-<os>-<cpu>),
# so optional dependencies are kept. Without node or npm it says "skipped" and succeeds.
set -eu
cd "$(dirname "$0")"
skipped() { echo "skipped: $1"; [ "${BP_REQUIRE_ALL:-}" != 1 ] || exit 1; exit 0; }
command -v node >/dev/null 2>&1 || skipped "node not installed (Debian: nodejs)"
command -v npm >/dev/null 2>&1 || skipped "npm not installed (Debian: npm)"
sum=$(cksum < package-lock.json)
stamp=node_modules/.batchpoint-installed
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then exit 0; fi
echo "npm ci in lib/bindings/node (node $(node --version), npm $(npm --version))"
npm ci --no-audit --no-fund
echo "$sum" > "$stamp"
