#!/bin/sh
# SPDX-License-Identifier: MIT
# check-node-binding: the binding's node --test suite and the scenario runner over the
# shared scenarios, against the build tree's library. Usage: check.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
here=$(dirname "$0")
skipped() { echo "skipped: $1"; [ "${BP_REQUIRE_ALL:-}" != 1 ] || exit 1; exit 0; }
command -v node >/dev/null 2>&1 || skipped "Node binding (node not installed; Debian: nodejs)"
[ -d "$here/node_modules/koffi" ] || skipped "Node binding (koffi not installed: npm missing?)"
export BATCHPOINT_LIBRARY="$build/libbatchpoint.so.0"
export BP_NODE_LAYOUT="$build/bindings/node/layout"
export BP_HANDLER_REF="$build/test/handler/handler_ref"
(cd "$here" && node --test test/)
echo "check-node-binding: node --test passed"
