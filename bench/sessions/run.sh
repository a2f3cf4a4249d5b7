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
    --peers "$n" --ramp-ms 30 --api-key devkey --api-secret secret --tone 440 --rtt 3 \
    --duration "$(python3 -c "print($ramp_s + $hold)")" >"$work/client-$n.json" 2>"$work/client-$n.log" &
  client=$!
  # Steady state: after the ramp, sample CPU over the hold window.
  sleep "$ramp_s"
  read -r t1 rss1 thr1 fds1 < <(proc_sample $gw)
  read -r c1 crss1 cthr1 cfds1 < <(proc_sample $client)
  sleep "$hold"
  read -r t2 rss2 thr2 fds2 < <(proc_sample $gw)
  read -r c2 crss2 cthr2 cfds2 < <(proc_sample $client)
  wait $client
  kill -TERM $gw; wait $gw 2>/dev/null

  hz=$(getconf CLK_TCK)
  row=$(python3 - "$n" "$hz" "$hold" "$t1" "$t2" "$rss0" "$rss2" "$thr0" "$thr2" "$fds0" "$fds2" "$work/client-$n.json" "$c1" "$c2" "$crss2" "$cthr2" <<'EOF_PY'
import json, sys
n, hz, hold = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
t1, t2, rss0, rss2, thr0, thr2, fds0, fds2 = map(float, sys.argv[4:12])
c1, c2, crss, cthr = map(float, sys.argv[13:17])
try:
    client = json.loads(open(sys.argv[12]).read().strip().splitlines()[-1])
except Exception:
    client = {"connected": 0, "heard_tone": 0}
def ms(name, q):
    v = client.get(name, {}).get(q, -1)
    return round(v * 1000, 1) if v >= 0 else None
def val(name, q):
    v = client.get(name, {}).get(q, -1)
    return round(v, 3) if v >= 0 else None
cpu = (t2 - t1) / hz / hold          # cores used in the steady state
sent = client.get("packets_received", 0) + client.get("packets_lost", 0)
row = {
    "sessions": n, "connected": client.get("connected", 0), "heard_tone": client.get("heard_tone", 0),
    "connect_ms_p50": ms("connect_seconds", "p50"), "connect_ms_p95": ms("connect_seconds", "p95"),
    "first_audio_ms_p50": ms("first_audio_seconds", "p50"),
    "first_audio_ms_p95": ms("first_audio_seconds", "p95"),
    "round_trip_ms_p50": ms("round_trip_seconds", "p50"),
    "round_trip_ms_p95": ms("round_trip_seconds", "p95"),
    "round_trips": client.get("round_trip_seconds", {}).get("n", 0),
    "loss_pct": round(100.0 * client.get("packets_lost", 0) / sent, 3) if sent else None,
    "loss_pct_p95": val("loss_percent", "p95"),
    "jitter_ms_p50": val("jitter_ms", "p50"), "jitter_ms_p95": val("jitter_ms", "p95"),
    "gateway_cpu_cores": round(cpu, 3), "cpu_pct_per_session": round(cpu * 100 / n, 3),
    "rss_mb": round(rss2 / 1024, 1), "rss_kb_per_session": round((rss2 - rss0) / n, 1),
    "threads": int(thr2), "threads_per_session": round((thr2 - thr0) / n, 2),
    "fds_per_session": round((fds2 - fds0) / n, 2),
    "client_cpu_cores": round((c2 - c1) / hz / hold, 3), "client_rss_mb": round(crss / 1024, 1),
    "client_threads": int(cthr),
}
print(json.dumps(row))
EOF_PY
)
  echo "sessions=$n: $row" >&2
  results+="${results:+,}$row"
  why=$(python3 -c '
import json, sys
r = json.loads(sys.argv[1])
if r["connected"] < r["sessions"]: print("only %d of %d sessions connected" % (r["connected"], r["sessions"]))
elif (r["loss_pct"] or 0) > 0.5: print("%.2f %% packet loss" % r["loss_pct"])
elif r["gateway_cpu_cores"] > 0.95: print("the gateway core is busy (%.2f)" % r["gateway_cpu_cores"])' "$row")
  if [ -n "$why" ]; then
    echo "stopping: $why (saturated)" >&2
    saturated=$n
    break
  fi
done
echo "{\"pipeline\":\"loopback.pipeline\",\"hold_seconds\":$hold,\"gateway_cpu\":0,\"client_cpu\":1,\"saturated_at\":${saturated:-null},\"runs\":[$results]}"
