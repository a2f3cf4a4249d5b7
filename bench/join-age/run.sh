#!/usr/bin/env bash
# CPU of the participant mixer threads (pN-mix) for two WHIP joins into a
# fresh room and into a room AGE seconds old (default 60), on `voxgate serve`
# with loopback.pipeline. A join must cost the same whatever the room's age
# (issue 15). Each thread's utime+stime is sampled every 50 ms while the two
# peers are in the room; the last sample of each thread is summed. Not part
# of `make bench` (it waits AGE seconds).
#
#   bench/join-age/run.sh [BUILD_DIR] [AGE]
#
# Prints one line per room, then one JSON object.
set -uo pipefail
cd "$(dirname "$0")/../.."
build=$(realpath "${1:-build}")
age=${2:-60}
work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
VOXGATE_AGENT_PIPELINE=loopback.pipeline VOXGATE_AGENT_PIPELINES_DIR="$PWD/pipelines" \
  GST_PLUGIN_PATH="$build/plugins" "$build/voxgate" serve --port "$port" --data-dir "$work/data" \
  >"$work/out.log" 2>"$work/err.log" &
pid=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.05
done

client() {
  "$build/tests/rooms/vg-test-client" --url "http://127.0.0.1:$port" --api-key devkey \
    --api-secret secret --tone 440 "$@" >/dev/null 2>>"$work/client.err"
}

# Seconds of CPU of the pN-mix threads seen during the next $1 seconds.
sample_mix() {
  local end=$(($(date +%s%N) + $1 * 1000000000)) t comm s sum=0
  declare -A last
  while [ "$(date +%s%N)" -lt "$end" ]; do
    for t in /proc/$pid/task/*; do
      comm=$(cat "$t/comm" 2>/dev/null) || continue
      [[ $comm =~ ^p[0-9]+-mix ]] || continue
      s=$(cut -d' ' -f14,15 "$t/stat" 2>/dev/null) || continue
      [ -n "$s" ] && last[${t##*/}]=$((${s% *} + ${s#* }))
    done
    sleep 0.05
  done
  for s in "${last[@]}"; do sum=$((sum + s)); done
  python3 -c "import os,sys; print('%.2f' % (int(sys.argv[1]) / os.sysconf('SC_CLK_TCK')))" "$sum"
}

two_joins() {
  client --room "$1" --peers 2 --ramp-ms 50 --duration 3 &
  local c=$! cpu
  cpu=$(sample_mix 6)
  wait $c
  echo "$cpu"
}

client --room old --duration 0.2 # creates the room, which outlives its first peer (empty_timeout)
t0=$(date +%s)
fresh=$(two_joins fresh)
echo "fresh room: pN-mix CPU for two joins: $fresh s" >&2
sleep $((age - ($(date +%s) - t0)))
old=$(two_joins old)
echo "room $age s old: pN-mix CPU for two joins: $old s" >&2
echo "{\"age_s\":$age,\"fresh_mix_cpu_s\":$fresh,\"old_mix_cpu_s\":$old}"
