#!/bin/sh
# SPDX-License-Identifier: MIT
# The Python binding installs from the build tree with the one command README gives, offline:
#   python3 -m pip install lib/bindings/python     (--no-index: nothing downloaded)
# and with `make install-python PYTHONDIR=...` (no pip); each installed copy is imported from
# another directory and finds the library through BATCHPOINT_LIBRARY, then through the
# loader's path (LD_LIBRARY_PATH standing in for `make install` + ldconfig).
# Usage: check_python_install.sh BUILD_DIR MAKE
name=check-python-install
. test/support/skipped.sh
build=$(cd "${1:-build}" && pwd); make=${2:-make}
command -v python3 >/dev/null 2>&1 || skipped "no python3"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "$name: FAIL: $1"; exit 1; }
want=$(sed -n 's/^#define BP_VERSION_STRING "\(.*\)"/\1/p' include/batchpoint/bp_version.h)
probe='import batchpoint as bp, sys
assert bp.__version__ == sys.argv[1], bp.__version__
assert bp.__file__.startswith(sys.argv[2]), bp.__file__
assert bp.Filter({"a": [1]}).matches({"a": 1})
print(bp.LIBRARY_PATH)'

# 1. pip, offline: the system's pip into a target directory when there is one (fast), else
# a venv's (Debian: python3-venv provides ensurepip; pip refuses the system site, PEP 668)
if python3 -m pip --version >/dev/null 2>&1; then
  py=python3; site=$tmp/pipsite; where="--target $site"
else
  python3 -m venv "$tmp/venv" >"$tmp/venv.log" 2>&1 || skipped "no pip, and no python3 -m venv (Debian: python3-venv)"
  py=$tmp/venv/bin/python; where=
  site=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
fi
# shellcheck disable=SC2086
"$py" -m pip install --no-index --disable-pip-version-check -q $where lib/bindings/python \
  >"$tmp/pip.log" 2>&1 || { cat "$tmp/pip.log"; fail "pip install"; }
got=$(cd "$tmp" && PYTHONPATH=$site BATCHPOINT_LIBRARY=$build/libbatchpoint.so.0 "$py" -c "$probe" \
  "$want" "$site") || fail "import after pip install"
[ "$got" = "$build/libbatchpoint.so.0" ] || fail "pip copy loaded $got"
got=$(cd "$tmp" && PYTHONPATH=$site LD_LIBRARY_PATH=$build "$py" -c "$probe" "$want" "$site") \
  || fail "import after pip install (library from the loader's path)"
[ -f "$site"/batchpoint-"$want".dist-info/RECORD ] || fail "no RECORD in the installed copy"

# 2. make install-python, no pip
$make --no-print-directory -s install-python PYTHONDIR="$tmp/site" >/dev/null || fail "make install-python"
got=$(cd "$tmp" && PYTHONPATH=$tmp/site BATCHPOINT_LIBRARY=$build/libbatchpoint.so.0 python3 -c \
  "$probe" "$want" "$tmp/site") || fail "import after make install-python"
echo "$name: pip install (offline) and make install-python: imported, library found"
