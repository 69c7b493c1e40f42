#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what the client
# compatibility tests need, then `cargo test --workspace --locked`, then a
# short run of the fuzz targets (scripts/fuzz.sh; TALLY_SKIP_FUZZ=1 skips it).
#
#   scripts/test.sh                      # everything
#   scripts/test.sh -p tally-rpc         # extra arguments go to cargo test
#
# - ethers.js (tests/js) needs Node.js and npm: installed with apt when
#   missing, then `npm ci` in tests/js.
# - The explorer's browser test (tests/js/explorer.mjs) needs Chromium and
#   its WebDriver: Debian's chromium and chromium-driver, installed with apt
#   when missing (selenium-webdriver comes with `npm ci`).
# - web3.py (tests/py) needs the web3 module: installed into a virtualenv,
#   .venv at the repository root (gitignored), so the system Python is left
#   alone; the tests find it through TALLY_PYTHON. Set TALLY_PYTHON yourself
#   to use another interpreter that has web3, and the venv is skipped.
#
# Each step is skipped when its inputs (package-lock.json,
# requirements.txt) have not changed since it last succeeded, so a second
# run goes straight to cargo.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

say() { printf 'test.sh: %s\n' "$*" >&2; }

# Root installs directly (CI containers); others through sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    say "need root to run: $*"
    return 1
  fi
}

apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    say "cannot install $* (no apt-get): install it with your package manager and run again"
    exit 1
  fi
  say "installing $* with apt-get"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# The sha256 of a file, to tell whether an install is still current.
digest() { sha256sum "$1" | cut -d' ' -f1; }

# --- Node.js and the ethers test ---------------------------------------------
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm
fi
js_stamp=tests/js/node_modules/.tally-lock.sha256
if [ "$(cat "$js_stamp" 2>/dev/null)" != "$(digest tests/js/package-lock.json)" ]; then
  say "npm ci in tests/js"
  (cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
  digest tests/js/package-lock.json >"$js_stamp"
fi

# --- Chromium for the explorer's browser test -------------------------------
# CHROMIUM and CHROMEDRIVER name other builds; the test then uses those.
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ] || [ ! -x "${CHROMEDRIVER:-/usr/bin/chromedriver}" ]; then
  apt_install chromium chromium-driver
fi

# --- Python and the web3.py test ---------------------------------------------
if [ -z "${TALLY_PYTHON:-}" ]; then
  venv="$root/.venv"
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c '' 2>/dev/null; then
    command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
    # Debian and Ubuntu ship venv (and the pip it bootstraps) separately.
    if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
      apt_install python3-venv
    fi
    say "creating a Python virtualenv in .venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
  fi
  py_stamp="$venv/.tally-requirements.sha256"
  if [ "$(cat "$py_stamp" 2>/dev/null)" != "$(digest tests/py/requirements.txt)" ]; then
    say "installing tests/py/requirements.txt into .venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      -r tests/py/requirements.txt
    digest tests/py/requirements.txt >"$py_stamp"
  fi
  export TALLY_PYTHON="$venv/bin/python"
  export PATH="$venv/bin:$PATH"
fi

cargo test --workspace --locked "$@"

# --- Fuzzing -------------------------------------------------------------------
# A short run of every fuzz target (docs/fuzzing.md), after the tests:
# TALLY_FUZZ_SECONDS per target (default 15), skipped with TALLY_SKIP_FUZZ=1
# and when cargo test was given arguments (a partial run).
if [ "${TALLY_SKIP_FUZZ:-0}" = 1 ] || [ "$#" -gt 0 ]; then
  say "skipping the fuzz targets"
else
  scripts/fuzz.sh "${TALLY_FUZZ_SECONDS:-15}"
fi
