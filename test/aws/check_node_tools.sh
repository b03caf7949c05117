#!/bin/sh
# SPDX-License-Identifier: MIT
# The end-to-end tools themselves (test/aws/node/selftest.js): the Lambda server's answers, the
# exec handler, the SDK producer against kinesalite, and check_e2e.js catching a lost record, a
# reordered one and a missing failure file. A checker that passes everything proves nothing.
# usage: check_node_tools.sh BUILD
set -u
if [ ! -f test/aws/node/node_modules/kinesalite/package.json ]; then
  echo "check_node_tools: skipped: npm packages not installed (test/aws/node/install.sh)"
  [ "${BP_REQUIRE_ALL:-}" != 1 ] || exit 1
  exit 0
fi
node test/aws/node/selftest.js > "${TMPDIR:-/tmp}/bp-node-selftest.$$" 2>&1; rc=$?
[ $rc -eq 0 ] || cat "${TMPDIR:-/tmp}/bp-node-selftest.$$"
grep -E '^# (pass|fail|skipped)' "${TMPDIR:-/tmp}/bp-node-selftest.$$" | tr '\n' ' '; echo
rm -f "${TMPDIR:-/tmp}/bp-node-selftest.$$"
exit $rc
