#!/usr/bin/env bash
# What more than one node costs: the redirect on the join (a WHIP POST to a
# node that does not own the room, 307 followed, against the same POST sent
# to the owner), and Redis commands per join and per minute of a session.
# Starts redis-server and two nodes on loopback; prints one JSON object.
# Usage: bench/cluster/run.sh BUILD_DIR [SAMPLES]
set -euo pipefail
build=$(cd "${1:?usage: run.sh BUILD_DIR [SAMPLES]}" && pwd)
samples=${2:-40}
src=$(cd "$(dirname "$0")/../.." && pwd)
bin=$build/voxgate
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export VOXGATE_AUTH_API_KEY=bench-key VOXGATE_AUTH_API_SECRET=bench-secret-that-is-long-enough-for-hs256
export GST_PLUGIN_PATH=$build/plugins

rport=$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)
until redis-cli -p "$rport" ping >/dev/null 2>&1; do sleep 0.05; done
r() { redis-cli -p "$rport" "$@"; }
declare -A port
for id in a b; do
  port[$id]=$(free_port)
  VOXGATE_NODE_ID=$id VOXGATE_CACHE_URL="redis://127.0.0.1:$rport" VOXGATE_ROOMS_MAX_PARTICIPANTS=0 \
    VOXGATE_AGENT_PIPELINE=loopback.pipeline VOXGATE_AGENT_PIPELINES_DIR="$src/pipelines" \
    "$bin" serve --port "${port[$id]}" --data-dir "$work/data-$id" >"$work/$id.out" 2>"$work/$id.err" &
  pids+=($!)
  until curl -sf "http://127.0.0.1:${port[$id]}/healthz" -o /dev/null; do sleep 0.05; done
done
until [ -n "$(r HGET vg:node:b url)" ]; do sleep 0.1; done
admin=$("$bin" token --room bench --identity admin --admin --ttl 600)
curl -sf -X POST -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
  -d '{"name":"bench"}' "http://127.0.0.1:${port[a]}/api/rooms" -o /dev/null
offer=$(printf 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 %s\r\na=setup:actpass\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n' \
  "$(python3 -c 'print(":".join(["AB"]*32))')")

# post NODE IDENTITY [--location-trusted]: one WHIP POST (curl drops the
# Authorization header on a redirect to another port unless trusted) (the answer waits for ICE gathering),
# prints "SECONDS STATUS LOCATION"; the session is left at once.
post() {
  local tok out
  tok=$("$bin" token --room bench --identity "$2" --ttl 600)
  out=$(curl -s -o /dev/null ${3:-} -w '%{time_total} %{http_code} %header{location}' -X POST \
    -H "Authorization: Bearer $tok" -H 'Content-Type: application/sdp' --data-binary "$offer" \
    "http://127.0.0.1:${port[$1]}/api/rooms/bench/whip")
  echo "$out"
  set -- $out
  [ "${2:-}" = 201 ] && curl -s -o /dev/null -X DELETE -H "Authorization: Bearer $tok" "$3"
  return 0
}
cmdstats() { r INFO commandstats | tr -d '\r' | awk -F'[:=,]' '/^cmdstat_/ {sub("cmdstat_","",$1); print $1, $3}'; }
: >"$work/direct"; : >"$work/redirected"; : >"$work/redirect-only"
for i in $(seq "$samples"); do
  post a "d$i" | cut -d' ' -f1 >>"$work/direct"
  post b "r$i" --location-trusted | cut -d' ' -f1 >>"$work/redirected"
  post b "x$i" | cut -d' ' -f1 >>"$work/redirect-only" # the 307 alone
done

# Redis traffic of real joins through the non-owner (vg-test-client: ICE,
# DTLS, audio, DELETE): every EVALSHA in the window, told apart by script
# (MONITOR), heartbeats (one sync per node per interval) counted apart.
joins=10
sleep 3
redis-cli -p "$rport" MONITOR >"$work/monitor" &
mpid=$!
pids+=("$mpid")
sleep 0.5
cmdstats >"$work/c0"
t0=$(date +%s.%N)
"$build/tests/rooms/vg-test-client" --url "http://127.0.0.1:${port[b]}" --room bench --peers "$joins" \
  --ramp-ms 300 --api-key "$VOXGATE_AUTH_API_KEY" --api-secret "$VOXGATE_AUTH_API_SECRET" --tone 440 \
  --duration 2 >"$work/joins.json" 2>/dev/null || true
sleep 0.5
t1=$(date +%s.%N)
cmdstats >"$work/c1"
kill "$mpid"
echo "$t0 $t1 $joins" >"$work/window"
# Then one minute with one session open and nothing else happening.
"$build/tests/rooms/vg-test-client" --url "http://127.0.0.1:${port[b]}" --room bench --peers 1 \
  --api-key "$VOXGATE_AUTH_API_KEY" --api-secret "$VOXGATE_AUTH_API_SECRET" --tone 440 \
  --duration 75 >/dev/null 2>&1 &
pids+=($!)
sleep 10
cmdstats >"$work/c2"
sleep 60
cmdstats >"$work/c3"

VG_LUA_DIR=$src/gateway/cluster/lua python3 - "$work" "$samples" <<'PY'
import json, statistics, sys
work, n = sys.argv[1], int(sys.argv[2])
def ms(name):
    v = sorted(float(x) * 1000 for x in open(f"{work}/{name}") if x.strip())
    return {"n": len(v), "p50": round(statistics.median(v), 2), "p95": round(v[int(0.95 * (len(v) - 1) + 0.5)], 2)}
def stats(name):
    return {l.split()[0]: int(l.split()[1]) for l in open(f"{work}/{name}") if l.strip()}
def diff(a, b):
    a, b = stats(a), stats(b)
    d = {k: b[k] - a.get(k, 0) for k in b if b[k] - a.get(k, 0) > 0}
    client = {k: v for k, v in d.items() if k in ("evalsha", "eval", "ping", "select", "auth", "info")}
    return {"client_calls": sum(v for k, v in client.items() if k != "info"), "all_commands": sum(v for k, v in d.items() if k != "info"), "by_command": d}
direct, redirected = ms("direct"), ms("redirected")
import hashlib, re, os
lua = os.environ["VG_LUA_DIR"]
common = open(os.path.join(lua, "common.lua")).read()
names = {hashlib.sha1((common + "\n" + open(os.path.join(lua, n + ".lua")).read()).encode()).hexdigest(): n
         for n in ("place", "sync", "forget", "lookup")}
calls = {}
for line in open(f"{work}/monitor", errors="replace"):
    m = re.search(r'"(?:evalsha|EVALSHA)" "([0-9a-f]{40})"', line)
    if m:
        calls[names.get(m.group(1), "other")] = calls.get(names.get(m.group(1), "other"), 0) + 1
t0, t1, joins = open(f"{work}/window").read().split()
window = float(t1) - float(t0)
heartbeats = round(window / 2.0 * 2)  # two nodes, [node] heartbeat_interval = 2
event_syncs = max(calls.get("sync", 0) - heartbeats, 0)
per_join = {"place": calls.get("place", 0) / int(joins), "sync_on_room_events": event_syncs / int(joins),
            "lookup": calls.get("lookup", 0) / int(joins), "forget": calls.get("forget", 0) / int(joins)}
print(json.dumps({
    "whip_post_direct_ms": direct, "whip_post_through_non_owner_ms": redirected,
    "redirect_307_alone_ms": ms("redirect-only"),
    "overhead_p50_ms": round(redirected["p50"] - direct["p50"], 2),
    "overhead_p95_ms": round(redirected["p95"] - direct["p95"], 2),
    "joins_connected": json.load(open(f"{work}/joins.json")).get("connected") if os.path.getsize(f"{work}/joins.json") else None,
    "window_s": round(window, 1), "evalsha_in_window_by_script": calls, "heartbeats_in_window_est": heartbeats,
    "redis_evalsha_per_join": per_join,
    "redis_all_commands_in_window": diff("c0", "c1"),
    "redis_per_minute_two_nodes_one_session": diff("c2", "c3"),
}, indent=1))
PY
