#!/usr/bin/env bash
# Where a session's time and memory go: perf (CPU) and massif (heap) on the
# gateway while the load client holds sessions, with the same placement as
# the sessions benchmark (gateway on core 0; client and fake Realtime server
# on core 1). Prints summaries; the raw files stay in $PROFILE_OUT.
#
#   bench/profile.sh BUILD_DIR [perf|massif|all]      (default all)
# Environment:
#   PROFILE_SESSIONS=25     sessions while perf records
#   PROFILE_SECONDS=15      perf's recording window (steady state)
#   PROFILE_PIPELINES="loopback tutor"
#   MASSIF_SESSIONS=8       sessions under massif (valgrind: ~30x slower)
#   MASSIF_PIPELINES=loopback
#   PROFILE_OUT=DIR         where perf.data and massif.out go (default a temporary directory)
#   PROFILE_TOP=25          rows per table
# Needs perf (linux-perf) and valgrind (tools/install-deps.sh bench).
set -uo pipefail
build=${1:-build}
what=${2:-all}
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src" || exit 1
sessions=${PROFILE_SESSIONS:-25}
seconds=${PROFILE_SECONDS:-15}
read -r -a pipelines <<<"${PROFILE_PIPELINES:-loopback tutor}"
massif_sessions=${MASSIF_SESSIONS:-8}
read -r -a massif_pipelines <<<"${MASSIF_PIPELINES:-loopback}"
top=${PROFILE_TOP:-25}
work=${PROFILE_OUT:-$(mktemp -d)}
mkdir -p "$work"
gw="" client="" rt=""
trap 'for p in $client $gw $rt; do kill "$p" 2>/dev/null; done' EXIT
export GST_PLUGIN_PATH=$src/$build/plugins
# shellcheck source=bench/sessions/lib.sh
. "$src/bench/sessions/lib.sh"
log() { echo "[profile $(date +%T)] $*" >&2; }

# Context switches of every thread of $1 (voluntary + involuntary).
switches() {
  cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {print s + 0}'
}

# Threads of $1 by name (digits folded: "queue12:src" -> "queue:src").
thread_names() {
  for t in /proc/"$1"/task/*; do cat "$t/comm"; done 2>/dev/null | sed 's/[0-9]\+//g' |
    sort | uniq -c | sort -rn | head -n 20
}

profile_perf() {
  local kind=$1 name=perf-$1
  command -v perf >/dev/null || { log "perf is not installed (tools/install-deps.sh bench)"; return; }
  [ "$kind" = tutor ] && start_realtime "$name"
  start_gateway "$kind" "$name"
  start_client "$kind" "$name" "$sessions" $((seconds + 4)) --measure 5
  if ! wait_joined "$name" $((sessions / 2 + 60)); then
    log "$kind: the client did not join"
    stop_all
    return
  fi
  sleep 2
  local s0 s1 hz t0 t1 threads
  threads=$(thread_names "$gw")
  hz=$(getconf CLK_TCK)
  s0=$(switches "$gw")
  t0=$(cut -d')' -f2- /proc/"$gw"/stat | awk '{print $12 + $13}')
  perf record -q -F 999 -g -p "$gw" -o "$work/$name.data" -- sleep "$seconds" 2>/dev/null
  s1=$(switches "$gw")
  t1=$(cut -d')' -f2- /proc/"$gw"/stat | awk '{print $12 + $13}')
  echo "### perf, $kind.pipeline, $sessions sessions, ${seconds} s"
  echo
  python3 -c 'import sys; n, s, hz, t = map(float, sys.argv[1:5]); print(
      "gateway CPU %.3f cores (%.2f %% of a core per session); %.0f context switches per session "
      "per second" % (t / hz / s, 100 * t / hz / s / n, float(sys.argv[5]) / s / n))' \
    "$sessions" "$seconds" "$hz" $((t1 - t0)) $((s1 - s0))
  echo
  stop_all
  echo "Threads (before the recording):"
  sed 's/^/    /' <<<"$threads"
  echo
  echo "By library (self time):"
  perf report -i "$work/$name.data" --no-children --sort dso --stdio -g none 2>/dev/null |
    grep -v '^#' | grep -v '^$' | head -n "$top" | sed 's/^/    /'
  echo
  echo "By library and function (self time):"
  perf report -i "$work/$name.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null |
    grep -v '^#' | grep -v '^$' | head -n "$top" | sed 's/^/    /'
  echo
  echo "By thread (self time, digits folded):"
  perf report -i "$work/$name.data" --no-children --sort comm --stdio -g none 2>/dev/null |
    grep -v '^#' | grep -v '^$' |
    awk '{gsub(/[0-9]+/, "", $2); t[$2] += $1} END {for (k in t) printf "%7.2f%%  %s\n", t[k], k}' |
    sort -rn | head -n 15 | sed 's/^/    /'
  echo
}

profile_massif() {
  local kind=$1 name=massif-$1
  command -v valgrind >/dev/null || { log "valgrind is not installed"; return; }
  [ "$kind" = tutor ] && start_realtime "$name"
  local out=$work/$name.out t_gw t_client t_joined
  # massif's times are ms since the gateway started: the client's join and
  # its steady state are located on the same scale.
  t_gw=$(date +%s%3N)
  # Everything is ~30x slower: no join may time out on the gateway's side.
  gateway_env=(VOXGATE_WEBRTC_JOIN_TIMEOUT=600)
  start_gateway "$kind" "$name" valgrind --tool=massif --massif-out-file="$out" --time-unit=ms \
    --max-snapshots=1000 --detailed-freq=10 --depth=40 --threshold=0.02
  # Under valgrind the warm-up (plugins, the DTLS certificate) takes seconds,
  # and joins one at a time: a join that overlaps it or another times out.
  sleep "${MASSIF_WARMUP_S:-20}"
  t_client=$(( $(date +%s%3N) - t_gw ))
  RAMP_MS=${MASSIF_RAMP_MS:-4000} start_client "$kind" "$name" "$massif_sessions" 20 --measure 0 --connect-timeout 240 \
    --http-timeout 120
  if ! wait_joined "$name" 300; then
    log "$kind: the client did not join under valgrind"
  fi
  t_joined=$(( $(date +%s%3N) - t_gw ))
  log "$kind: $massif_sessions sessions joined under massif after $(( (t_joined - t_client) / 1000 )) s"
  stop_all
  gateway_env=()
  [ -s "$out" ] || { log "no massif output"; return; }
  local connected
  connected=$(python3 -c 'import json, sys; print(json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])["connected"])' \
    "$work/client-$name.json" 2>/dev/null || echo 0)
  echo "### massif, $kind.pipeline, $massif_sessions sessions"
  echo
  if [ "$connected" != "$massif_sessions" ]; then
    echo "Only $connected of $massif_sessions sessions connected under valgrind (the machine is too"
    echo "busy for it, or a timeout is too short): no summary. Raw file: $out"
    echo
    return
  fi
  # Steady state: 10 s after the last join (the client stays 20 s).
  python3 "$src/bench/massif-summary.py" "$out" "$massif_sessions" "$t_client" \
    $((t_joined + 10000)) "$top"
  echo
}

case $what in
  perf | all) for k in "${pipelines[@]}"; do log "perf: $k..."; profile_perf "$k"; done ;;&
  massif | all) for k in "${massif_pipelines[@]}"; do log "massif: $k..."; profile_massif "$k"; done ;;
  perf) ;;
  *) echo "usage: $0 BUILD_DIR [perf|massif|all]" >&2; exit 2 ;;
esac
log "raw files in $work"
