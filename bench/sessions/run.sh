#!/usr/bin/env bash
# Session density: N concurrent WebRTC sessions, each its own room, for the
# loopback pipeline (the agent echoes the room) and the tutor pipeline
# (openairealtime against the fake Realtime server, vg-realtime-server), from
# one load-client process (tests/client, --preencoded: Opus frames encoded
# once and sent by one pacing thread; only MEASURE peers decode everything).
# The gateway is pinned to core 0; the load client and the fake Realtime
# server share core 1, and their CPU is reported beside the gateway's. While
# the sessions run, the gateway's CPU, memory, threads and fds are sampled
# from /proc. N grows until a run saturates: a session failed to connect,
# loss >= 0.5 % or the gateway's core >= 0.95 busy (a round trip p95 >= 60
# ms, loopback, is recorded as over the latency goal but does not stop N);
# it also stops when the client's core (client + fake server) is >= 0.95
# busy, as the figures are then the client's limit, not the gateway's.
# Progress goes to stderr; one JSON object on the last line.
#
#   bench/sessions/run.sh BUILD_DIR [N...]    (default N: 1 25 50 100 200)
# Environment:
#   SESSIONS="1 25"         the N to run (instead of the arguments)
#   PIPELINES="loopback tutor"  which pipelines (default both)
#   HOLD_SECONDS=20         steady-state window sampled per run
#   MEASURE=10              peers that decode all they hear (round trips, replies)
#   BENCH_QUICK=1           SESSIONS="1 10", HOLD_SECONDS=8: a smoke run
#   TURNS=1500:3000         tutor: the learner's turn and the pause after it (ms)
#   RESPONSE_MS=1500        tutor: audio per reply of the fake Realtime server
#   GATEWAY_CPUS=0 CLIENT_CPUS=1  taskset CPU lists (see bench/sessions/lib.sh)
set -uo pipefail
build=${1:-build}
shift || true
src=$(cd "$(dirname "$0")/../.." && pwd)
cd "$src" || exit 1
if [ "${BENCH_QUICK:-0}" = 1 ]; then
  default_sessions="1 10"
  hold=${HOLD_SECONDS:-8}
else
  default_sessions="1 25 50 100 200"
  hold=${HOLD_SECONDS:-20}
fi
if [ -n "${SESSIONS:-}" ]; then
  read -r -a counts <<<"$SESSIONS"
elif [ $# -gt 0 ]; then
  counts=("$@")
else
  read -r -a counts <<<"$default_sessions"
fi
read -r -a pipelines <<<"${PIPELINES:-loopback tutor}"
measure=${MEASURE:-10}
turns=${TURNS:-1500:3000}
settle_s=2 # after the last join: the first greetings play, the jitterbuffers fill

work=$(mktemp -d)
gw="" client="" rt="" # the current run's processes, cleared once reaped
cleanup() {
  for p in $client $gw $rt; do kill "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
export GST_PLUGIN_PATH=$src/$build/plugins
# shellcheck source=bench/sessions/lib.sh
. "$src/bench/sessions/lib.sh"
client_bin=$build/tests/rooms/vg-test-client
rt_bin=$build/tests/realtime-server/vg-realtime-server
for b in "$build/voxgate" "$client_bin"; do
  [ -x "$b" ] || { echo "sessions: $b is not built" >&2; exit 1; }
done
log() { echo "[sessions $(date +%T)] $*" >&2; }

proc_sample() { # pid -> "cpu_ticks rss_kb threads fds"
  local stat ticks rss thr fds
  stat=$(cut -d')' -f2- "/proc/$1/stat" 2>/dev/null) || { echo "0 0 0 0"; return; }
  ticks=$(awk '{print $12 + $13}' <<<"$stat")
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$1/status")
  thr=$(awk '/Threads/ {print $2}' "/proc/$1/status")
  fds=$(find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  echo "$ticks $rss $thr $fds"
}

# One run: pipeline $1 (loopback|tutor), $2 sessions. Prints its JSON row.
run_one() {
  local kind=$1 n=$2 name=$1-$2 extra=()
  # About 30 round trips per run (3 rounds at 10 measured peers, 20 at one):
  # the p95 of a few samples would be their maximum, one scheduling hiccup.
  local measured=$((n < measure ? n : measure))
  local rounds=$(((30 + measured - 1) / measured))
  [ $rounds -gt 20 ] && rounds=20
  [ $rounds -lt 3 ] && rounds=3
  [ "$kind" = loopback ] && extra=(--rtt $rounds)
  if [ "$kind" = tutor ]; then
    [ -x "$rt_bin" ] || { echo '{"error":"vg-realtime-server is not built"}'; return; }
    start_realtime "$name"
  fi
  start_gateway "$kind" "$name"
  local t0 rss0 thr0 fds0
  read -r t0 rss0 thr0 fds0 < <(proc_sample $gw)
  start_client "$kind" "$name" "$n" $((settle_s + hold + 1)) --measure "$measure" "${extra[@]}"
  local join_start=$SECONDS
  if ! wait_joined "$name" $((n / 2 + 60)); then
    log "$kind $n: the client did not report its peers joined"
  fi
  local join_s=$((SECONDS - join_start))
  sleep $settle_s
  local t1 c1 r1 x
  read -r t1 x x x < <(proc_sample $gw)
  read -r c1 x x x < <(proc_sample $client)
  r1=0
  [ -n "$rt" ] && read -r r1 x x x < <(proc_sample "$rt")
  sleep "$hold"
  local t2 rss2 thr2 fds2 c2 crss cthr r2 rrss
  read -r t2 rss2 thr2 fds2 < <(proc_sample $gw)
  read -r c2 crss cthr x < <(proc_sample $client)
  r2=0 rrss=0
  [ -n "$rt" ] && read -r r2 rrss x x < <(proc_sample "$rt")
  stop_all

  python3 - "$kind" "$n" "$(getconf CLK_TCK)" "$hold" "$t1" "$t2" "$rss0" "$rss2" "$thr0" \
    "$thr2" "$fds0" "$fds2" "$work/client-$kind-$n.json" "$c1" "$c2" "$crss" "$cthr" "$r1" "$r2" \
    "$rrss" "$join_s" "${RESPONSE_MS:-1500}" <<'EOF_PY'
import json, sys
kind, n, hz, hold = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
t1, t2, rss0, rss2, thr0, thr2, fds0, fds2 = map(float, sys.argv[5:13])
c1, c2, crss, cthr, r1, r2, rrss, join_s, response_ms = map(float, sys.argv[14:23])
try:
    client = json.loads(open(sys.argv[13]).read().strip().splitlines()[-1])
except Exception:
    client = {"connected": 0, "heard_tone": 0}
def ms(name, q):
    v = client.get(name, {}).get(q, -1)
    return round(v * 1000, 1) if v is not None and v >= 0 else None
def val(name, q):
    v = client.get(name, {}).get(q, -1)
    return round(v, 3) if v is not None and v >= 0 else None
cpu = (t2 - t1) / hz / hold          # cores used in the steady state
sent = client.get("packets_received", 0) + client.get("packets_lost", 0)
up = client.get("frames_sent", 0)
pacer = client.get("pacer", {})
client_cpu = (c2 - c1) / hz / hold
row = {
    "sessions": n, "connected": client.get("connected", 0), "measured": client.get("measured", 0),
    "heard_tone": client.get("heard_tone", 0), "heard_audio": client.get("heard_audio", 0),
    "join_seconds": join_s,
    "connect_ms_p50": ms("connect_seconds", "p50"), "connect_ms_p95": ms("connect_seconds", "p95"),
    "first_audio_ms_p50": ms("first_audio_seconds", "p50"),
    "first_audio_ms_p95": ms("first_audio_seconds", "p95"),
    "loss_pct": round(100.0 * client.get("packets_lost", 0) / sent, 3) if sent else None,
    "loss_pct_p95": val("loss_percent", "p95"),
    "upstream_loss_pct": round(100.0 * client.get("upstream_lost", 0) / up, 3) if up else None,
    "jitter_ms_p50": val("jitter_ms", "p50"), "jitter_ms_p95": val("jitter_ms", "p95"),
    "gateway_cpu_cores": round(cpu, 3), "cpu_pct_per_session": round(cpu * 100 / n, 3),
    "rss_mb": round(rss2 / 1024, 1), "rss_kb_per_session": round((rss2 - rss0) / n, 1),
    "threads": int(thr2), "threads_per_session": round((thr2 - thr0) / n, 2),
    "fds": int(fds2), "fds_per_session": round((fds2 - fds0) / n, 2),
    "client_cpu_cores": round(client_cpu, 3),
    "client_cpu_pct_per_peer": round(client_cpu * 100 / n, 3),
    "client_rss_mb": round(crss / 1024, 1), "client_threads": int(cthr),
    "client_pacer_late_pct": round(100.0 * pacer.get("late_ticks", 0) / pacer["ticks"], 2)
        if pacer.get("ticks") else None,
    "client_pacer_max_late_ms": pacer.get("max_late_ms"),
}
if kind == "loopback":
    row["round_trip_ms_p50"] = ms("round_trip_seconds", "p50")
    row["round_trip_ms_p95"] = ms("round_trip_seconds", "p95")
    row["round_trips"] = client.get("round_trip_seconds", {}).get("n", 0)
else:
    row["reply_ms_p50"] = ms("reply_seconds", "p50")
    row["reply_ms_p95"] = ms("reply_seconds", "p95")
    row["replies"] = client.get("reply_seconds", {}).get("n", 0)
    row["realtime_server_cpu_cores"] = round((r2 - r1) / hz / hold, 3)
    row["realtime_server_rss_mb"] = round(rrss / 1024, 1)
    row["response_audio_ms"] = int(response_ms)
# The client's core: if it was busy the figures are the client's limit, not the gateway's.
row["client_core_busy"] = round(client_cpu + row.get("realtime_server_cpu_cores", 0), 3)
if client.get("failures"):
    row["failures"] = client["failures"][:3]
print(json.dumps(row))
EOF_PY
}

# Over the latency goal (round trip p95 >= 60 ms), or nothing. Recorded, but
# N keeps growing: the gateway's CPU and memory at larger N are still worth
# knowing, and a latency past the goal is not a failure of the run.
latency_over() {
  python3 -c '
import json, sys
r = json.loads(sys.argv[1])
p95 = r.get("round_trip_ms_p95") or 0
print("round trip p95 %.0f ms" % p95 if p95 >= 60 else "")' "$1"
}

# The reason a run saturated, or nothing.
saturation() {
  python3 -c '
import json, sys
r = json.loads(sys.argv[1])
why = []
if r.get("error"): why.append(r["error"])
if r.get("connected", 0) < r["sessions"]:
    why.append("only %d of %d sessions connected" % (r.get("connected", 0), r["sessions"]))
if (r.get("loss_pct") or 0) >= 0.5: why.append("%.2f %% packet loss" % r["loss_pct"])
if r.get("gateway_cpu_cores", 0) >= 0.95 * int(sys.argv[3]):
    why.append("the gateway core is busy (%.2f)" % r["gateway_cpu_cores"])
# Past this the figures are the load client'"'"'s limit, not the gateway'"'"'s.
if r.get("client_core_busy", 0) >= 0.95 * int(sys.argv[2]):
    why.append("the load client'"'"'s core is busy (%.2f): client-bound" % r["client_core_busy"])
print("; ".join(why))' "$1" "$(cpu_count "$client_cpus")" "$(cpu_count "$gateway_cpus")"
}

log "pipelines: ${pipelines[*]}; sessions: ${counts[*]}; ${hold} s steady state each; $measure measured peers"
out="{\"hold_seconds\":$hold,\"measured_peers\":$measure,\"gateway_cpu\":\"$gateway_cpus\","
out+="\"client_cpu\":\"$client_cpus\","
out+="\"turns_ms\":\"$turns\",\"pipelines\":{"
firstp=1
for kind in "${pipelines[@]}"; do
  case $kind in loopback | tutor) ;; *) log "unknown pipeline $kind"; continue ;; esac
  results=""
  saturated=null
  why_json=null
  over=null
  over_json=null
  for n in "${counts[@]}"; do
    log "$kind: $n sessions..."
    run_one "$kind" "$n" >"$work/row-$kind-$n.json" # not in a subshell: cleanup sees its processes
    row=$(tail -n 1 "$work/row-$kind-$n.json")
    if ! python3 -c 'import json,sys; json.loads(sys.argv[1])' "$row" 2>/dev/null; then
      log "$kind $n: no result"
      break
    fi
    log "$kind $n: $(python3 -c '
import json, sys
r = json.loads(sys.argv[1])
lat = ("round trip p50/p95 %s/%s ms" % (r.get("round_trip_ms_p50"), r.get("round_trip_ms_p95"))
       if "round_trip_ms_p50" in r else
       "reply p50/p95 %s/%s ms" % (r.get("reply_ms_p50"), r.get("reply_ms_p95")))
print("%d/%d connected, gateway %.2f cores (%.2f %%/session), %.0f KB/session, loss %s %%, %s, "
      "first audio p95 %s ms; client %.2f cores (%.2f %%/peer)%s" % (
      r["connected"], r["sessions"], r["gateway_cpu_cores"], r["cpu_pct_per_session"],
      r["rss_kb_per_session"], r.get("loss_pct"), lat, r.get("first_audio_ms_p95"),
      r["client_cpu_cores"], r["client_cpu_pct_per_peer"],
      ", fake server %.2f cores" % r["realtime_server_cpu_cores"] if "realtime_server_cpu_cores" in r else ""))' "$row")"
    results+="${results:+,}$row"
    late=$(latency_over "$row")
    if [ -n "$late" ] && [ "$over" = null ]; then
      log "$kind: over the latency goal at $n sessions: $late"
      over=$n
      over_json=$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$late")
    fi
    why=$(saturation "$row")
    if [ -n "$why" ]; then
      log "$kind: saturated at $n sessions: $why; not growing N further"
      saturated=$n
      why_json=$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$why")
      break
    fi
  done
  [ $firstp -eq 1 ] || out+=","
  firstp=0
  out+="\"$kind\":{\"pipeline\":\"$kind.pipeline\",\"saturated_at\":$saturated,"
  out+="\"saturated_because\":$why_json,\"latency_over_at\":$over,"
  out+="\"latency_over_because\":$over_json,\"runs\":[$results]}"
done
out+="}}"
echo "$out"
