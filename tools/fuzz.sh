#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of tests/fuzz/ (docs/RELIABILITY.md).
#   tools/fuzz.sh build [DIR]          configure DIR (default build-fuzz) with clang and build them
#   tools/fuzz.sh run RUNS [DIR] [T..] run each target (or T..) for RUNS executions from its corpus
#   tools/fuzz.sh time SECONDS [DIR] [T..]  run each target (or T..) for SECONDS
#   tools/fuzz.sh ci SECONDS [DIR]     replay each target's committed corpus (the CI check;
#                                      SECONDS bounds it): deterministic, so CI fails only on
#                                      a regression, never on what a mutation finds by chance
# A crash, leak, timeout or sanitizer report fails the run and leaves the
# reproducer in DIR/fuzz-out/TARGET/ (add it to tests/fuzz/corpus/TARGET/ with the fix).
# Prints one line per target: executions, exec/s, result.
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-}
targets_all=(jwt sdp-offer sdp-candidates sdpfrag json-body config http-head rt-events redis-reply
  tools-file events-message)

build() {
  local dir=$1
  if [ ! -f "$dir/build.ninja" ]; then
    local cc
    cc=$(command -v clang-14 || command -v clang) || {
      echo "fuzz: clang is missing (tools/install-deps.sh test installs clang-14)" >&2
      return 1
    }
    local log
    log=$(mktemp)
    CC=$cc meson setup "$dir" "$src" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
      -Dbuildtype=debugoptimized >"$log" 2>&1 || {
      cat "$log" >&2
      rm -f "$log"
      return 1
    }
    rm -f "$log"
  fi
  ninja -C "$dir" fuzz >/dev/null || ninja -C "$dir" fuzz
}

# Runs one target with libFuzzer's arguments "$@"; prints its summary line.
run_target() {
  local dir=$1 name=$2
  shift 2
  local out="$dir/fuzz-out/$name" log
  rm -rf "$out"
  mkdir -p "$out/new"
  log="$out/log"
  # New inputs go to the scratch directory, never into the committed corpus.
  (cd "$out" && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0 G_SLICE=always-malloc G_DEBUG=gc-friendly \
    "$dir/tests/fuzz/fuzz-$name" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$out/" "$@" "$out/new" "$src/tests/fuzz/corpus/$name") >"$log" 2>&1
  local rc=$?
  local execs rate
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  if [ $rc -eq 0 ]; then
    printf '%-16s %12s executions %8s exec/s  ok\n' "$name" "${execs:-?}" "${rate:-?}"
  else
    printf '%-16s %12s executions %8s exec/s  FAILED (rc %d): %s\n' "$name" "${execs:-?}" \
      "${rate:-?}" "$rc" "$(grep -m1 -E 'ERROR: |SUMMARY: |==ERROR|runtime error' "$log")"
    grep -E -A30 'ERROR: |runtime error' "$log" | head -n 60 >&2
    ls "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-* 2>/dev/null >&2
  fi
  return $rc
}

case "$mode" in
  build)
    build "$(realpath -m "${2:-build-fuzz}")"
    ;;
  run | time)
    n=${2:?usage: tools/fuzz.sh run RUNS|time SECONDS [DIR] [TARGET...]}
    limit=-runs=$n
    [ "$mode" = run ] || limit=-max_total_time=$n
    dir=$(realpath -m "${3:-build-fuzz}")
    shift $(($# < 3 ? $# : 3))
    targets=("$@")
    [ ${#targets[@]} -gt 0 ] || targets=("${targets_all[@]}")
    build "$dir" || exit 1
    failed=0
    for t in "${targets[@]}"; do
      run_target "$dir" "$t" "$limit" || failed=1
    done
    exit $failed
    ;;
  ci)
    secs=${2:?usage: tools/fuzz.sh ci SECONDS [DIR]}
    dir=$(realpath -m "${3:-build-fuzz}")
    build "$dir" || exit 1
    failed=0
    for t in "${targets_all[@]}"; do
      run_target "$dir" "$t" -runs=0 -max_total_time="$secs" || failed=1
    done
    exit $failed
    ;;
  *)
    sed -n '2,9p' "$0" >&2
    exit 2
    ;;
esac
