#!/usr/bin/env bash
# Regenerates contracts/build/<Name>.json from contracts/src/*.sol with the
# solc version pinned in contracts/package-lock.json. The artifacts are
# checked in; run this after changing a contract and commit the result.
set -euo pipefail
cd "$(dirname "$0")/../contracts"
npm ci --no-audit --no-fund
node compile.js
