#!/usr/bin/env bash
# Runs the whole suite with meson, then the C tests under ASan+UBSan
# (tools/asan-tests.sh, in ASAN_BUILD, default build-asan; SANITIZE=0 skips
# it), and prints one closing line "N passed, N failed" that counts every test
# case of both runs (each GTest or TAP case, each other test program as one).
set -uo pipefail
build=${1:-build}
tools=$(dirname "$0")
meson test -C "$build" --print-errorlogs --num-processes 2 "${@:2}"
rc=$?
logs=("$build/meson-logs/testlog.json")
if [ "${SANITIZE:-1}" != 0 ]; then
  asan=${ASAN_BUILD:-build-asan}
  echo "== the C tests under ASan+UBSan, in $asan (tools/asan-tests.sh; SANITIZE=0 skips) =="
  start=$(date +%s)
  rm -f "$asan/meson-logs/testlog.json"
  "$tools/asan-tests.sh" "$asan" || rc=1
  echo "== ASan+UBSan run: $(($(date +%s) - start)) s (build and tests) =="
  if [ -s "$asan/meson-logs/testlog.json" ]; then
    logs+=("asan=$asan/meson-logs/testlog.json")
  else
    # It did not get to run its tests (configure or build failed): one failure.
    failed=$(mktemp)
    echo '{"name": "build", "result": "FAIL", "stdout": ""}' >"$failed"
    logs+=("asan=$failed")
  fi
fi
python3 "$tools/summarize-tests.py" "${logs[@]}"
sum=$?
[ -n "${failed:-}" ] && rm -f "$failed"
[ $rc -eq 0 ] && [ $sum -eq 0 ]
