#!/usr/bin/env bash
# Runs the whole suite with meson and prints one closing line
# "N passed, N failed" that counts every test case (each GTest or TAP case,
# each other test program as one).
set -uo pipefail
build=${1:-build}
meson test -C "$build" --print-errorlogs --num-processes 2 "${@:2}"
rc=$?
python3 "$(dirname "$0")/summarize-tests.py" "$build/meson-logs/testlog.json"
sum=$?
[ $rc -eq 0 ] && [ $sum -eq 0 ]
