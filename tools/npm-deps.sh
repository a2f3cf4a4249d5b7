#!/usr/bin/env bash
# Installs the Node.js packages of the interoperability and browser tests
# (tests/js) from its lock file, once.
set -euo pipefail
cd "$(dirname "$0")/../tests/js"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules
fi
