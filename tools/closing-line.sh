#!/usr/bin/env bash
# Prints the closing line of a test run's log: the suite's last
# "N passed, N failed[, N skipped]" line, or "0 passed, 1 failed" when the
# run ended before the suite counted anything (install or build failure).
# Exits 0 when the log had a count, 1 otherwise.
#   tools/closing-line.sh LOG
set -uo pipefail
count=$(grep -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "$1" | tail -n 1)
if [ -z "$count" ]; then
  echo "0 passed, 1 failed"
  exit 1
fi
echo "$count"
