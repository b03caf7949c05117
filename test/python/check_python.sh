#!/bin/sh
# SPDX-License-Identifier: MIT
# The Python binding's unit tests (engine, config, filter, codec, function side, file store,
# the asyncio example, and the scenario runner's configuration cases), 5,000 lives of the
# leak and crash soak,
# against the build tree's library. "skipped" without python3 (a failure when
# BP_REQUIRE_ALL=1, as in CI).
# Usage: check_python.sh BUILD_DIR
build=${1:-build}
if ! command -v python3 >/dev/null 2>&1; then
  if [ "${BP_REQUIRE_ALL:-0}" = 1 ]; then
    echo "check-python: python3 not found (BP_REQUIRE_ALL=1)" >&2
    exit 1
  fi
  echo "skipped: Python binding (no python3)"
  exit 0
fi
BATCHPOINT_LIBRARY=$(cd "$build" && pwd)/libbatchpoint.so.0
export BATCHPOINT_LIBRARY
PYTHONPATH=lib/bindings/python
export PYTHONPATH
# the C function side's answers, compared with process_batch's (test_handler_window.py)
BATCHPOINT_HANDLER_REF=$(cd "$build" && pwd)/test/handler/handler_ref
export BATCHPOINT_HANDLER_REF
python3 -m unittest discover -s lib/bindings/python/tests -t lib/bindings/python || exit 1
# the leak and crash soak, short (make soak-python runs 100,000 lives)
python3 lib/bindings/python/tests/soak_lives.py 5000 || exit 1
# (batchpoint.sim replays only the configuration cases so far: its unit test checks those;
# the engine scenarios come with the next stage of the binding)
echo "check-python: unit tests passed"
