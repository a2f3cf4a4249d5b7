#!/usr/bin/env bash
# The suite's closing line as CI reads it: tools/summarize-tests.py counts
# skipped cases apart, and tools/closing-line.sh (used by .ci/run) keeps the
# real counts whatever the line's form. TAP output.
set -uo pipefail
src=${VOXGATE_SOURCE_DIR:?}
. "$src/tests/harness/tap.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One meson test record per line, as meson writes testlog.json.
record() { python3 -c 'import json,sys; print(json.dumps({"name": sys.argv[1], "result": sys.argv[2], "stdout": sys.argv[3]}))' "$@"; }
{
  record a OK $'ok 1 - one\nok 2 - two # SKIP no device\n1..2'
  record b SKIP ''
  record c OK $'ok 1 - three\n1..1'
} >"$tmp/skips.json"
out=$(python3 "$src/tools/summarize-tests.py" "$tmp/skips.json"); rc=$?
if [ "$out" = "2 passed, 0 failed, 2 skipped" ] && [ $rc -eq 0 ]; then ok "summary: skips counted apart, exit 0"
else not_ok "summary: skips counted apart, exit 0" "got '$out' (exit $rc)"; fi

record d FAIL $'ok 1 - four\nnot ok 2 - five\n1..2' >"$tmp/fail.json"
out=$(python3 "$src/tools/summarize-tests.py" "$tmp/fail.json" | tail -n 1); rc=$?
if [ "$out" = "1 passed, 1 failed" ]; then ok "summary: a failure is counted"
else not_ok "summary: a failure is counted" "got '$out'"; fi

# The suite's log and the sanitizer run's add up into one line; the second's
# failures carry its label.
record e OK $'ok 1 - six\nok 2 - seven\n1..2' >"$tmp/main.json"
record e FAIL $'ok 1 - six\nok 2 - seven\n1..2' >"$tmp/asan.json"
out=$(python3 "$src/tools/summarize-tests.py" "$tmp/main.json" "asan=$tmp/asan.json"); rc=$?
if [ "$(tail -n 1 <<<"$out")" = "4 passed, 1 failed" ] && grep -qx 'FAILED: asan:e (FAIL)' <<<"$out" \
  && [ $rc -eq 1 ]; then ok "summary: two logs add up; a leak after the last case fails the second"
else not_ok "summary: two logs add up; a leak after the last case fails the second" "got '$out' (exit $rc)"; fi

printf 'meson output\n7 passed, 0 failed, 3 skipped\n' >"$tmp/run.log"
out=$("$src/tools/closing-line.sh" "$tmp/run.log"); rc=$?
if [ "$out" = "7 passed, 0 failed, 3 skipped" ] && [ $rc -eq 0 ]; then ok "CI: a line with skips is the suite's count"
else not_ok "CI: a line with skips is the suite's count" "got '$out' (exit $rc)"; fi

printf '5 passed, 0 failed\nmake: *** [test] Error 1\n' >"$tmp/after.log"
out=$("$src/tools/closing-line.sh" "$tmp/after.log"); rc=$?
if [ "$out" = "5 passed, 0 failed" ] && [ $rc -eq 0 ]; then ok "CI: the count is found before make's error line"
else not_ok "CI: the count is found before make's error line" "got '$out' (exit $rc)"; fi

printf 'E: Unable to locate package\n' >"$tmp/none.log"
out=$("$src/tools/closing-line.sh" "$tmp/none.log"); rc=$?
if [ "$out" = "0 passed, 1 failed" ] && [ $rc -eq 1 ]; then ok "CI: no count is a failure"
else not_ok "CI: no count is a failure" "got '$out' (exit $rc)"; fi
tap_done
