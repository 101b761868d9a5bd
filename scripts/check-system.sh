#!/usr/bin/env bash
# Check what `make run` / `make test` need from the operating system before they touch pip:
# Python 3.11+, a working `python3 -m venv` (Debian's python3-venv) and WeasyPrint's system
# libraries. On a miss, print the one `apt-get install` line that fixes it and exit 1.
#
# Usage: scripts/check-system.sh [PYTHON] [VENV_DIR]
set -euo pipefail

PYTHON="${1:-python3}"
VENV_DIR="${2:-.venv}"
missing=()

if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "error: $PYTHON not found. Chi bộ needs Python 3.11 or newer." >&2
    echo "  apt-get install python3 python3-venv" >&2
    exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "error: $("$PYTHON" --version 2>&1) is too old: Chi bộ needs Python 3.11 or newer." >&2
    exit 1
fi

# `python3 -m venv` only fails on Debian/Ubuntu when python3-venv (ensurepip) is missing.
# Try it for real, in a throwaway folder, unless the project's venv already works.
if ! "$VENV_DIR/bin/python" -c 'import sys' >/dev/null 2>&1; then
    probe="$(mktemp -d)"
    if ! "$PYTHON" -m venv "$probe/venv" >/dev/null 2>&1; then
        missing+=(python3-venv)
    fi
    rm -rf "$probe"
fi

# WeasyPrint (minutes and resolution PDFs) loads these with dlopen at run time.
# package name -> shared object it provides
declare -A weasy_libs=(
    [libpango-1.0-0]=libpango-1.0.so.0
    [libpangoft2-1.0-0]=libpangoft2-1.0.so.0
    [libharfbuzz-subset0]=libharfbuzz-subset.so.0
)
ldcache="$( (/sbin/ldconfig -p || ldconfig -p) 2>/dev/null || true)"
for pkg in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0; do
    if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        continue
    fi
    if grep -q "${weasy_libs[$pkg]} " <<<"$ldcache"; then
        continue
    fi
    missing+=("$pkg")
done

sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo "; fi

if ((${#missing[@]})); then
    echo "error: missing system packages: ${missing[*]}" >&2
    echo "Install them with:" >&2
    echo "" >&2
    echo "    ${sudo}apt-get install ${missing[*]}" >&2
    echo "" >&2
    exit 1
fi
