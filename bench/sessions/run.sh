#!/usr/bin/env bash
# Session density: N concurrent WebRTC sessions, each its own room with the
# loopback agent, from one load-client process (tests/client). While they
# run, the gateway's CPU, memory, threads and fds are sampled from /proc.
# Stops early when sessions fail to connect (the machine is saturated).
# Prints one JSON object on its last line.
#   bench/sessions/run.sh BUILD_DIR [N...]     (default N: 1 25 50 100 200)
set -uo pipefail
build=${1:-build}
shift || true
counts=("${@:-1 25 50 100 200}")
[ $# -gt 0 ] || counts=(1 25 50 100 200)
hold=${HOLD_SECONDS:-20}
work=$(mktemp -d)
trap 'kill $gw 2>/dev/null; rm -rf "$work"' EXIT
export GST_PLUGIN_PATH=$PWD/$build/plugins

proc_sample() { # pid -> "cpu_ticks rss_kb threads fds"
  local stat; stat=$(cut -d')' -f2- "/proc/$1/stat")
  local ticks; ticks=$(awk '{print $12 + $13}' <<<"$stat")
  local rss; rss=$(awk '/VmRSS/ {print $2}' "/proc/$1/status")
  local thr; thr=$(awk '/Threads/ {print $2}' "/proc/$1/status")
  local fds; fds=$(ls "/proc/$1/fd" | wc -l)
  echo "$ticks $rss $thr $fds"
}

results=""
for n in "${counts[@]}"; do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  VOXGATE_AGENT_PIPELINE=loopback.pipeline VOXGATE_LOG_LEVEL=warning VOXGATE_ROOMS_MAX_PARTICIPANTS=0 \
    taskset -c 0 "$build/voxgate" serve --port "$port" --data-dir "$work/data-$n" >/dev/null 2>"$work/gw-$n.log" &
  gw=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.05; done
  read -r t0 rss0 thr0 fds0 < <(proc_sample $gw)

  ramp_s=$(python3 -c "print($n * 0.03 + 3)")
  taskset -c 1 "$build/tests/rooms/vg-test-client" --url "http://127.0.0.1:$port" --room bench --room-per-peer \
    --peers "$n" --ramp-ms 30 --api-key devkey --api-secret secret --tone 440 \
    --duration "$(python3 -c "print($ramp_s + $hold)")" >"$work/client-$n.json" 2>"$work/client-$n.log" &
  client=$!
  # Steady state: after the ramp, sample CPU over the hold window.
  sleep "$ramp_s"
  read -r t1 rss1 thr1 fds1 < <(proc_sample $gw)
  sleep "$hold"
  read -r t2 rss2 thr2 fds2 < <(proc_sample $gw)
  wait $client
  kill -TERM $gw; wait $gw 2>/dev/null

  hz=$(getconf CLK_TCK)
  row=$(python3 - "$n" "$hz" "$hold" "$t1" "$t2" "$rss0" "$rss2" "$thr0" "$thr2" "$fds0" "$fds2" "$work/client-$n.json" <<'EOF_PY'
import json, sys
n, hz, hold = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
t1, t2, rss0, rss2, thr0, thr2, fds0, fds2 = map(float, sys.argv[4:12])
try:
    client = json.loads(open(sys.argv[12]).read().strip().splitlines()[-1])
except Exception:
    client = {"connected": 0, "heard_tone": 0, "connect_seconds": {}}
cpu = (t2 - t1) / hz / hold          # cores used in the steady state
row = {
    "sessions": n, "connected": client.get("connected", 0), "heard_tone": client.get("heard_tone", 0),
    "connect_ms_p50": round(client.get("connect_seconds", {}).get("p50", -1) * 1000, 1),
    "connect_ms_p95": round(client.get("connect_seconds", {}).get("p95", -1) * 1000, 1),
    "gateway_cpu_cores": round(cpu, 3), "cpu_pct_per_session": round(cpu * 100 / n, 3),
    "rss_mb": round(rss2 / 1024, 1), "rss_kb_per_session": round((rss2 - rss0) / n, 1),
    "threads": int(thr2), "threads_per_session": round((thr2 - thr0) / n, 2),
    "fds_per_session": round((fds2 - fds0) / n, 2),
}
print(json.dumps(row))
EOF_PY
)
  echo "sessions=$n: $row" >&2
  results+="${results:+,}$row"
  connected=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["connected"])' "$row")
  if [ "$connected" -lt "$n" ]; then
    echo "stopping: only $connected of $n sessions connected (saturated)" >&2
    break
  fi
done
echo "{\"pipeline\":\"loopback.pipeline\",\"hold_seconds\":$hold,\"gateway_cpu\":0,\"client_cpu\":1,\"runs\":[$results]}"
