# SPDX-License-Identifier: MIT
# Sourced by check scripts that need a tool the machine may lack (the script sets `name`):
# `skipped WHAT` says "<name>: skipped: WHAT" and ends the script with 0, or with 1 when
# BP_REQUIRE_ALL=1 (CI, where nothing may be skipped).
skipped() {
  echo "$name: skipped: $1"
  [ "${BP_REQUIRE_ALL:-}" != 1 ] || { echo "BP_REQUIRE_ALL=1: nothing may be skipped"; exit 1; }
  exit 0
}
