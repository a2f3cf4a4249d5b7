#!/usr/bin/env bash
# The tutor soak (issue 20, docs/RELIABILITY.md "Tutor soak"): N learners
# (default 12, about half of what the sessions benchmark holds on this
# machine's gateway core) talking in turns to tutor.pipeline against the fake
# Realtime server for SECONDS (default 3600). Every SAMPLE_S (60) it samples
# the gateway's RSS, fds, threads and CPU; at the end it prints the curve and
# the client's loss and reply times, and fails when RSS grew by more than
# RSS_GROWTH_KB (8192) from the first sample after the joins, fds or threads
# ended above their first sample, fds stayed open after the learners left,
# loss reached 0.5 %, or a session did not connect.
#   bench/soak/tutor-soak.sh [BUILD] [SECONDS] [N]
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-build}" && pwd)
duration=${2:-3600}
n=${3:-12}
sample_s=${SAMPLE_S:-60}
work=$(mktemp -d)
export GST_PLUGIN_PATH=$build/plugins
trap 'stop_all; rm -rf "$work"' EXIT
# shellcheck source=bench/sessions/lib.sh
. "$src/bench/sessions/lib.sh"

proc_sample() { # pid -> cpu_ticks rss_kb threads fds
  local stat
  stat=$(cut -d' ' -f14,15 "/proc/$1/stat" 2>/dev/null) || return 1
  echo "$((${stat% *} + ${stat#* })) $(awk '/VmRSS/ {print $2}' "/proc/$1/status")" \
    "$(ls "/proc/$1/task" | wc -l) $(ls "/proc/$1/fd" | wc -l)"
}

start_realtime soak
start_gateway tutor soak
read -r _ _ thr0 fds0 < <(proc_sample "$gw")
# The client stays a little longer than the sampling, so every sample has
# all its sessions.
start_client tutor soak "$n" "$((duration + sample_s + 15))"
if ! wait_joined soak 120; then
  echo "tutor-soak: the $n sessions did not join" >&2
  tail -n 5 "$work/client-soak.log" >&2
  exit 1
fi
hz=$(getconf CLK_TCK)
echo "minute,rss_kb,fds,threads,cpu_cores" >"$work/curve.csv"
start=$SECONDS
read -r t_prev _ _ _ < <(proc_sample "$gw")
while kill -0 "$client" 2>/dev/null && [ $((SECONDS - start + sample_s)) -le "$duration" ]; do
  sleep "$sample_s"
  read -r t rss thr fds < <(proc_sample "$gw") || break
  awk -v m="$(((SECONDS - start) / 60))" -v r="$rss" -v f="$fds" -v th="$thr" \
    -v c="$((t - t_prev))" -v hz="$hz" -v s="$sample_s" \
    'BEGIN { printf "%d,%d,%d,%d,%.3f\n", m, r, f, th, c / hz / s }' >>"$work/curve.csv"
  t_prev=$t
  tail -n 1 "$work/curve.csv" >&2
done
# After the learners leave: what the gateway holds again.
wait "$client" 2>/dev/null
client=""
sleep 20 # the peers vanish without a DELETE: [webrtc] disconnect_timeout (15 s)
read -r _ rss_after thr_after fds_after < <(proc_sample "$gw")
stop_all
python3 - "$work/curve.csv" "$work/client-soak.json" "$n" "$thr0" "$fds0" \
  "${RSS_GROWTH_KB:-8192}" "$thr_after" "$fds_after" "$rss_after" <<'EOF_PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
n, thr0, fds0, bound = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
thr_after, fds_after, rss_after = int(sys.argv[7]), int(sys.argv[8]), int(sys.argv[9])
try:
    client = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
except Exception:
    client = {}
if len(rows) < 3:
    print(json.dumps({"error": "too few samples", "samples": len(rows)}))
    sys.exit(1)
first, last = rows[1], rows[-1]  # the first minute still settles
growth = int(last["rss_kb"]) - int(first["rss_kb"])
sent = client.get("packets_received", 0) + client.get("packets_lost", 0)
loss = 100.0 * client.get("packets_lost", 0) / sent if sent else None
up = client.get("frames_sent", 0)
up_loss = 100.0 * client.get("upstream_lost", 0) / up if up else None
step = max(1, len(rows) // 12)
result = {
    "sessions": n, "minutes": int(last["minute"]), "connected": client.get("connected", 0),
    "rss_kb": {"minute_%s" % r["minute"]: int(r["rss_kb"]) for r in rows[::step] + [last]},
    "rss_growth_kb": growth, "fds": [int(first["fds"]), int(last["fds"])],
    "threads": [int(first["threads"]), int(last["threads"])],
    "cpu_cores_mean": round(sum(float(r["cpu_cores"]) for r in rows) / len(rows), 3),
    "loss_pct": round(loss, 3) if loss is not None else None,
    "upstream_loss_pct": round(up_loss, 3) if up_loss is not None else None,
    "reply_ms_p50": round(client.get("reply_seconds", {}).get("p50", -1) * 1000, 1),
    "reply_ms_p95": round(client.get("reply_seconds", {}).get("p95", -1) * 1000, 1),
    "replies": client.get("reply_seconds", {}).get("n", 0),
    "failures": client.get("failures", [])[:3],
    "before_join": {"threads": thr0, "fds": fds0},
    "after_leave": {"threads": thr_after, "fds": fds_after, "rss_kb": rss_after},
}
why = []
if result["connected"] < n: why.append("%d of %d connected" % (result["connected"], n))
if growth > bound: why.append("RSS grew %d KB (bound %d)" % (growth, bound))
if int(last["fds"]) > int(first["fds"]): why.append("fds grew %s -> %s" % (first["fds"], last["fds"]))
if int(last["threads"]) > int(first["threads"]): why.append("threads grew")
if loss is None or loss >= 0.5: why.append("loss %s %%" % loss)
# What the first session creates for all stays (the shared ICE agent's
# sockets, the Realtime I/O thread's and the playout pool's wakeup fds, the
# store's files): 13 fds after one 2-session minute. A leak per session
# would show N times over.
if fds_after > fds0 + 20: why.append("fds after leaving %d, before joining %d" % (fds_after, fds0))
result["ok"] = not why
result["why"] = why
print(json.dumps(result))
sys.exit(0 if not why else 1)
EOF_PY
