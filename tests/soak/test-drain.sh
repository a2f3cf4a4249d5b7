#!/usr/bin/env bash
# SIGTERM and SIGKILL of `voxgate serve` with live webrtcbin peers
# (tests/client/vg-churn-cli.c --hold), recording on and a webhook receiver:
#  1. SIGTERM with [node] drain_timeout: every participant is told on its
#     events channel (node_draining), new sessions get 503 draining, the peers
#     DELETE, the recording is finished, the webhooks delivered, the store's
#     conversations completed, exit 0 long before the grace.
#  2. SIGTERM with peers that stay: exit 0 within drain_timeout + 5 s.
#  3. SIGKILL: the next start on the same data directory opens the store
#     (rows written before the kill are there) and serves.
# TAP.
set -uo pipefail

bin=${VOXGATE_BIN:?}
churn=${1:?usage: test-drain.sh path/to/vg-churn}
src=${VOXGATE_SOURCE_DIR:?}
py=/usr/bin/python3
work=$(mktemp -d)
pid=
hook_pid=
hold_pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  [ -n "$hook_pid" ] && kill "$hook_pid" 2>/dev/null
  [ -n "$hold_pid" ] && kill "$hold_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

. "$src/tests/harness/tap.sh"

free_port() {
  $py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }
wait_line() { # file pattern seconds
  for _ in $(seq $(($3 * 20))); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}
start_gateway() { # data-dir drain-timeout
  port=$(free_port)
  VOXGATE_NODE_DRAIN_TIMEOUT=$2 VOXGATE_WEBRTC_DISCONNECT_TIMEOUT=2 \
    VOXGATE_AGENT_PIPELINE=loopback.pipeline VOXGATE_AGENT_PIPELINES_DIR="$src/pipelines" \
    VOXGATE_RECORDING_ENABLED=true VOXGATE_RECORDING_DIR="$1/rec" \
    VOXGATE_WEBHOOKS_URLS="http://127.0.0.1:$hook_port/hook" \
    "$bin" serve --port "$port" --data-dir "$1" >>"$work/out.log" 2>>"$work/err.log" &
  pid=$!
  for _ in $(seq 200); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  return 1
}
# Waits for the gateway to exit: sets rc and took (seconds since $1).
wait_exit() {
  wait "$pid"
  rc=$?
  pid=
  took=$(since "$1")
}

# A webhook receiver: each body on one line in hooks.jsonl.
hook_port=$(free_port)
$py - "$hook_port" "$work/hooks.jsonl" <<'PY' &
import http.server, sys
port, out = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(out, "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
hook_pid=$!

# ---- 1. SIGTERM, peers that leave 1.5 s after being told ----
data="$work/d1"
start_gateway "$data" 20 || not_ok "the gateway starts" "$(tail -5 "$work/err.log")"
"$churn" --url "http://127.0.0.1:$port" --api-key devkey --api-secret secret --room drain \
  --hold 2 --leave-on-drain --linger-ms 1500 >"$work/hold1.out" 2>"$work/hold1.err" &
hold_pid=$!
wait_line "$work/hold1.out" '"ready":2' 40 || not_ok "two peers join" "$(cat "$work/hold1.err")"
sleep 2 # some audio in the recording
t0=$(now)
kill -TERM "$pid"
if wait_line "$work/hold1.out" '"told":2' 10; then
  ok "SIGTERM: both participants are told on events: $(grep told "$work/hold1.out")"
else
  not_ok "SIGTERM: both participants are told on events" "$(cat "$work/hold1.out" "$work/hold1.err")"
fi
grep -q '"grace_seconds":20' "$work/hold1.out" && ok "the event carries the grace (grace_seconds 20)" \
  || not_ok "the event carries the grace (grace_seconds 20)" "$(cat "$work/hold1.out")"
token=$("$bin" token --room drain --identity late 2>/dev/null)
code=$(curl -s -o "$work/late.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/sdp' --data-binary $'v=0\r\n' "http://127.0.0.1:$port/api/rooms/drain/whip")
if [ "$code" = 503 ] && grep -q draining "$work/late.json"; then
  ok "while draining a new WHIP session is refused: 503 draining"
else
  not_ok "while draining a new WHIP session is refused: 503 draining" "$code $(cat "$work/late.json")"
fi
wait "$hold_pid"
hold_rc=$?
hold_pid=
wait_exit "$t0"
echo "# SIGTERM to exit with 2 peers leaving 1.5 s after being told: ${took} s"
if [ "$rc" = 0 ] && awk -v t="$took" 'BEGIN{exit !(t < 10)}'; then
  ok "exit 0 ${took} s after SIGTERM, once the peers left (1.5 s after being told; grace 20 s)"
else
  not_ok "exit 0 soon after SIGTERM once the peers left" "status $rc after $took s; $(tail -5 "$work/err.log")"
fi
[ "$hold_rc" = 0 ] || not_ok "the peers' client exits 0" "$hold_rc"
rec=$(ls "$data"/rec/drain-*.ogg 2>/dev/null | head -1)
if [ -n "$rec" ] && ! ls "$data"/rec/*.part >/dev/null 2>&1; then
  ok "the recording is finished (no .part left): $(basename "$rec")"
else
  not_ok "the recording is finished (no .part left)" "$(ls -la "$data/rec" 2>&1)"
fi
left=$(grep -c '"event":"participant_left"' "$work/hooks.jsonl" 2>/dev/null)
finished=$(grep -c '"event":"room_finished"' "$work/hooks.jsonl" 2>/dev/null)
egress=$(grep -c '"event":"egress_ended"' "$work/hooks.jsonl" 2>/dev/null)
if [ "$left" = 2 ] && [ "$finished" = 1 ] && [ "$egress" = 1 ]; then
  ok "the webhooks are delivered before exit (participant_left x2, room_finished, egress_ended)"
else
  not_ok "the webhooks are delivered before exit" "participant_left $left, room_finished $finished, egress_ended $egress"
fi
convs=$($py -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(" ".join(r[0] for r in c.execute("select status from conversations where room=? order by status", ("drain",))))' "$data/voxgate.db" 2>&1)
if [ "$convs" = "completed completed" ]; then
  ok "the store holds both conversations, completed"
else
  not_ok "the store holds both conversations, completed" "$convs"
fi
[ ! -e "$data/store-spool.jsonl" ] && ok "no spool left: every write reached the database" \
  || not_ok "no spool left: every write reached the database" "$(wc -l <"$data/store-spool.jsonl")"

# ---- 2. SIGTERM, peers that stay ----
data="$work/d2"
start_gateway "$data" 2 || not_ok "the gateway starts" "$(tail -5 "$work/err.log")"
"$churn" --url "http://127.0.0.1:$port" --api-key devkey --api-secret secret --room stay \
  --hold 1 --linger-ms 30000 >"$work/hold2.out" 2>"$work/hold2.err" &
hold_pid=$!
wait_line "$work/hold2.out" '"ready":1' 40 || not_ok "a peer joins" "$(cat "$work/hold2.err")"
t0=$(now)
kill -TERM "$pid"
wait_exit "$t0"
echo "# SIGTERM to exit with a peer that stays, drain_timeout 2 s: ${took} s"
grep -q '"told":1' "$work/hold2.out" && ok "the staying peer is told too" \
  || not_ok "the staying peer is told too" "$(cat "$work/hold2.out")"
if [ "$rc" = 0 ] && awk -v t="$took" 'BEGIN{exit !(t >= 2 && t < 2 + 5 + 3)}'; then
  ok "exit 0 ${took} s after SIGTERM: after drain_timeout (2 s), within it + 5 s + 3 s"
else
  not_ok "exit 0 within drain_timeout + 5 s" "status $rc after $took s; $(tail -5 "$work/err.log")"
fi
kill "$hold_pid" 2>/dev/null
wait "$hold_pid" 2>/dev/null
hold_pid=
[ -n "$(ls "$data"/rec/stay-*.ogg 2>/dev/null)" ] && ok "its recording is finished too" \
  || not_ok "its recording is finished too" "$(ls -la "$data/rec" 2>&1)"

# ---- 3. SIGKILL, then a start on the same data ----
data="$work/d3"
start_gateway "$data" 0 || not_ok "the gateway starts" "$(tail -5 "$work/err.log")"
"$churn" --url "http://127.0.0.1:$port" --api-key devkey --api-secret secret --room killed \
  --hold 1 --linger-ms 30000 >"$work/hold3.out" 2>"$work/hold3.err" &
hold_pid=$!
wait_line "$work/hold3.out" '"ready":1' 40 || not_ok "a peer joins" "$(cat "$work/hold3.err")"
sleep 1
kill -9 "$pid"
wait "$pid" 2>/dev/null
pid=
kill "$hold_pid" 2>/dev/null
wait "$hold_pid" 2>/dev/null
hold_pid=
if start_gateway "$data" 0; then
  ok "after SIGKILL the gateway starts again on the same data directory"
else
  not_ok "after SIGKILL the gateway starts again on the same data directory" "$(tail -5 "$work/err.log")"
fi
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")
[ "$code" = 200 ] && ok "and is ready (the store opened)" || not_ok "and is ready (the store opened)" "$code"
convs=$($py -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(" ".join(r[0] for r in c.execute("select status from conversations where room=?", ("killed",))))' "$data/voxgate.db" 2>&1)
echo "# the killed session's conversation after the restart: ${convs:-none}"
if [ -n "$convs" ]; then
  ok "the conversation written before the kill is in the store ($convs)"
else
  not_ok "the conversation written before the kill is in the store" "none"
fi
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
[ "$rc" = 0 ] && ok "and stops cleanly" || not_ok "and stops cleanly" "$rc"
tap_done
