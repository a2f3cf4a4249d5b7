#!/usr/bin/env bash
# Two and three voxgate nodes on one real redis-server: the node registry,
# a room created through A and joined through B (307 followed, audio round
# trip), sessions redirected, the room API on any node (curl and LiveKit's
# SDK), webhooks sent once (by the owner), kill -9 of the owner and the room
# placed again on rejoin within the heartbeat TTL, SIGTERM drain, and Redis
# stopped and restarted under a live session. Prints TAP.
# Usage: test-cluster.sh path/to/vg-test-client
set -uo pipefail

bin=${VOXGATE_BIN:?}
client=${1:?usage: test-cluster.sh path/to/vg-test-client}
src=${VOXGATE_SOURCE_DIR:?}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  [ -n "${VG_KEEP_WORK:-}" ] && echo "# kept $work" || rm -rf "$work"
}
trap cleanup EXIT
. "$src/tests/harness/tap.sh"
check() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # TENTHS COMMAND...: true once COMMAND succeeds within TENTHS/10 s
  local n=$1; shift
  for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
  return 1
}

export VOXGATE_AUTH_API_KEY=cluster-key
export VOXGATE_AUTH_API_SECRET=cluster-secret-that-is-long-enough-for-hs256
DEAD_AFTER=3

rport=$(free_port)
start_redis() {
  redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
    >>"$work/redis.log" 2>&1 &
  rpid=$!
  pids+=("$rpid")
  wait_for 50 redis-cli -p "$rport" ping >/dev/null 2>&1
}
r() { redis-cli -p "$rport" "$@"; }
start_redis || { not_ok "redis-server starts"; tap_done; exit 1; }

wport=$(free_port)
python3 "$src/tests/cluster/webhook-sink.py" "$wport" "$work/hooks.jsonl" &
pids+=($!)

declare -A port pid
# start_node ID [VAR=VALUE...]: a node on a free port; waits for /healthz.
start_node() {
  local id=$1; shift
  port[$id]=$(free_port)
  env "$@" VOXGATE_NODE_ID="$id" VOXGATE_CACHE_URL="redis://127.0.0.1:$rport" \
    VOXGATE_NODE_HEARTBEAT_INTERVAL=1 VOXGATE_NODE_DEAD_AFTER=$DEAD_AFTER \
    VOXGATE_AGENT_PIPELINE=loopback.pipeline VOXGATE_AGENT_PIPELINES_DIR="$src/pipelines" \
    VOXGATE_WEBHOOKS_URLS="http://127.0.0.1:$wport/hook" VOXGATE_NODE_DRAIN_TIMEOUT=20 \
    "$bin" serve --port "${port[$id]}" --data-dir "$work/data-$id" >"$work/$id.out" 2>"$work/$id.err" &
  pid[$id]=$!
  pids+=("${pid[$id]}")
  wait_for 100 curl -sf "http://127.0.0.1:${port[$id]}/healthz" -o /dev/null
}
url() { echo "http://127.0.0.1:${port[$1]}"; }
token() { "$bin" token --room "$1" --identity "$2" ${3:+--admin} --ttl 600; }
offer() { # a minimal valid audio offer (ICE credentials, fingerprint, Opus)
  printf 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 %s\r\na=setup:actpass\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n' \
    "$(python3 -c 'print(":".join(["AB"]*32))')"
}
# whip NODE ROOM IDENTITY [OFFER]: POST an offer without following; prints
# "STATUS LOCATION" (the redirect's or the session's).
whip() {
  curl -s -o /dev/null -w '%{http_code} %header{location}' -X POST -H "Authorization: Bearer $(token "$2" "$3")" \
    -H 'Content-Type: application/sdp' --data-binary "${4:-$(offer)}" "$(url "$1")/api/rooms/$2/whip"
}
leave() { # leave ROOM IDENTITY SESSION_URL: the session's own DELETE
  curl -s -o /dev/null -X DELETE -H "Authorization: Bearer $(token "$1" "$2")" "$3"
}
api() { # api NODE METHOD PATH [BODY]: prints the body, then the status on the last line
  local body=${4:-}
  curl -s -w '\n%{http_code}' -X "$2" -H "Authorization: Bearer $(token "${ROOM:-x}" admin 1)" \
    ${body:+-H 'Content-Type: application/json' --data "$body"} "$(url "$1")$3"
}
join_client() { # join_client NODE ROOM DURATION [more args]: runs vg-test-client, JSON on stdout
  local node=$1 room=$2 duration=$3; shift 3
  "$client" --url "$(url "$node")" --room "$room" --api-key "$VOXGATE_AUTH_API_KEY" \
    --api-secret "$VOXGATE_AUTH_API_SECRET" --tone 440 --duration "$duration" "$@" 2>>"$work/client.err"
}

# --- the node registry ----------------------------------------------------------
start_node a && start_node b || { not_ok "two nodes start"; tap_done; exit 1; }
registered() { [ "$(r HGET vg:node:a url)" = "$(url a)" ] && [ "$(r HGET vg:node:b url)" = "$(url b)" ]; }
check "each node registers its URL in Redis" wait_for 50 registered
ttl=$(r PTTL vg:node:a)
check "a node's entry carries the heartbeat TTL ($ttl ms)" test "$ttl" -gt 0 -a "$ttl" -le $((DEAD_AFTER * 1000))
hb1=$(r HGET vg:node:a heartbeat); sleep 1.5; hb2=$(r HGET vg:node:a heartbeat)
check "the heartbeat is refreshed" test "$hb2" -gt "$hb1"

# --- a room created through A, joined through B -----------------------------------
ROOM=lesson
out=$(api a POST /api/rooms '{"name":"lesson"}')
check "the room is created through node A" test "$(tail -1 <<<"$out")" = 201
check "Redis names A as its owner" test "$(r HGET vg:room:lesson owner)" = a
read -r status location <<<"$(whip b lesson learner-x)"
check "a WHIP POST to node B is 307 to the same path on A" \
  test "$status" = 307 -a "$location" = "$(url a)/api/rooms/lesson/whip"
metrics=$(curl -s "$(url b)/metrics")
check "B counts the redirect in its metrics" grep -q '^voxgate_cluster_routed_total{action="redirect"} [1-9]' <<<"$metrics"
if out=$(promtool check metrics <<<"$metrics" 2>&1); then ok "promtool accepts the cluster metrics"; else not_ok "promtool accepts the cluster metrics" "$out"; fi
r SET vg:room:hostile "not a hash" >/dev/null
read -r status location <<<"$(whip b hostile learner-x)"
check "a room key of the wrong type in Redis is a 503 for that room" test "$status" = 503
check "and the node is still up" curl -sf "$(url b)/healthz" -o /dev/null
read -r status location <<<"$(whip b nowhere learner-x 'not an offer')"
check "a bad offer is refused before any placement" test "$status" = 400 -a "$(r EXISTS vg:room:nowhere)" = 0

join_client b lesson 12 --identity learner >"$work/join.json" &
cpid=$!
pids+=("$cpid")
has_session() { [ -n "$(r --scan --pattern 'vg:session:*')" ]; }
wait_for 150 has_session
sid=$(r --scan --pattern 'vg:session:*' | head -1)
sid=${sid#vg:session:}
check "the session is recorded with its node" test -n "$sid" -a "$(r HGET "vg:session:$sid" node)" = a
status=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -X PATCH -H "Authorization: Bearer $(token lesson learner)" \
  -H 'Content-Type: application/trickle-ice-sdpfrag' --data 'a=ice-ufrag:abcd' "$(url b)/api/sessions/$sid")
check "a PATCH on node B for A's session is 307 to A" test "$status" = "307 $(url a)/api/sessions/$sid"
status=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$(url b)/api/sessions/$sid")
check "without a valid token no redirect is given" test "$status" = 401

# --- a browser's join through B: relayed, not redirected ---------------------------
# fetch() drops Authorization on a cross-origin redirect, so a request with an
# Origin header is relayed to the owner, and its session stays on B's origin.
hdr="$work/relay.headers"
status=$(curl -s -D "$hdr" -o "$work/relay.sdp" -w '%{http_code}' -X POST -H "Origin: $(url b)" \
  -H "Authorization: Bearer $(token lesson browser)" -H 'Content-Type: application/sdp' \
  --data-binary "$(offer)" "$(url b)/api/rooms/lesson/whip")
location=$(tr -d '\r' <"$hdr" | sed -n 's/^[Ll]ocation: //p')
check "a browser's WHIP POST to B is answered (201) by A's room through B" \
  test "$status" = 201 -a -n "$(grep -m1 '^a=fingerprint:' "$work/relay.sdp")"
check "its Location is a path on B, not A's URL ($location)" \
  eval '[[ "$location" == /api/sessions/* ]]'
check "the relayed answer keeps its ETag" grep -qi '^etag: ' "$hdr"
session_on_a() { [ "$(r HGET "vg:session:${location##*/}" node)" = a ]; }
check "the session lives on A" wait_for 80 session_on_a
status=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "Origin: $(url b)" \
  -H "Authorization: Bearer $(token lesson browser)" "$(url b)$location")
check "the browser's DELETE through B is relayed to A ($status)" test "$status" = 200 -o "$status" = 204
gone_on_a() { api a GET /api/rooms/lesson/participants | head -1 | jq -e 'all(.participants[]; .identity != "browser")' >/dev/null; }
check "and the participant is gone from A's room" wait_for 50 gone_on_a

# --- the room API on any node ------------------------------------------------------
listed_on() { api "$1" GET /api/rooms | head -1 | jq -e '.rooms[] | select(.name == "lesson" and .num_participants == 1)' >/dev/null; }
check "GET /api/rooms on A lists the room with its participant" wait_for 80 listed_on a
check "GET /api/rooms on B lists it from Redis" wait_for 80 listed_on b
out=$(api b GET /api/rooms/lesson/participants)
check "the participant list through B" test "$(head -1 <<<"$out" | jq -r '.participants[0].identity')" = learner
out=$(api b GET /api/rooms/no-such-room)
check "an unknown room is 404 on any node" test "$(tail -1 <<<"$out")" = 404
out=$(cd "$src/tests/js" && VG_NODE_A=$(url a) VG_NODE_B=$(url b) VG_ROOM=lesson VG_IDENTITY=learner \
  VG_KEY=$VOXGATE_AUTH_API_KEY VG_SECRET=$VOXGATE_AUTH_API_SECRET node cluster-sdk.mjs 2>&1)
rc=$?
if [ $rc -eq 0 ]; then ok "livekit-server-sdk on both nodes: ListRooms, ListParticipants, UpdateRoomMetadata, RemoveParticipant through B"
else not_ok "livekit-server-sdk on both nodes: ListRooms, ListParticipants, UpdateRoomMetadata, RemoveParticipant through B" "$out"; fi
echo "$out" | sed 's/^/# sdk: /'
out=$(VG_NODE_A=$(url a) VG_NODE_B=$(url b) VG_ROOM=lesson /usr/bin/python3 "$src/tests/cluster/aiortc-redirect.py" 2>&1)
rc=$?
echo "$out" | grep '^# '
if [ $rc -eq 0 ]; then ok "aiortc joins through B: follows the 307, audio round trip through A, leaves on A"
else not_ok "aiortc joins through B: follows the 307, audio round trip through A, leaves on A" "$out"; fi
wait "$cpid"
join=$(cat "$work/join.json")
echo "# join through B: $join"
check "the client joined through B (redirect followed) and heard its tone back" \
  test "$(jq -r '.connected + .heard_tone' <<<"$join")" = 2

hooks() { jq -r --arg room "$1" --arg ev "$2" 'select(.room == $room and .event == $ev) | .event' "$work/hooks.jsonl" 2>/dev/null | wc -l; }
check "room_started was sent once cluster-wide (by the owner)" test "$(hooks lesson room_started)" = 1
joined() { jq -r --arg id "$1" 'select(.room == "lesson" and .event == "participant_joined" and .identity == $id) | .event' "$work/hooks.jsonl" | wc -l; }
check "participant_joined was sent once per participant" test "$(joined learner)" = 1 -a "$(joined aio-redirected)" = 1

# --- the owner dies: the room is placed again on rejoin ------------------------------
kill -9 "${pid[a]}"
killed=$(date +%s%3N)
replaced() { read -r status location <<<"$(whip b lesson learner-y)"; [ "$status" = 201 ]; }
if wait_for $(( (DEAD_AFTER + 3) * 10 )) replaced; then
  took=$(( $(date +%s%3N) - killed ))
  check "after kill -9 of the owner, a rejoin through B lands on B within the TTL ($took ms)" \
    test "$took" -le $(( (DEAD_AFTER + 2) * 1000 ))
else
  not_ok "after kill -9 of the owner, a rejoin through B lands on B within the TTL"
fi
check "Redis names B as the owner now" test "$(r HGET vg:room:lesson owner)" = b
check "the session's Location is absolute, on B" test "${location%/api/sessions/*}" = "$(url b)"
leave lesson learner-y "$location"
out=$(join_client b lesson 2 --identity back)
check "a learner rejoining through B connects and hears audio" test "$(jq -r '.connected + .heard_tone' <<<"$out")" = 2

# --- drain -------------------------------------------------------------------------
start_node c || not_ok "node c starts"
wait_for 50 test -n "$(r HGET vg:node:c url)"
join_client b lesson 8 --identity stays >"$work/stay.json" &
spid=$!
pids+=("$spid")
b_busy() { [ "$(r HGET vg:node:b sessions)" = 1 ]; }
wait_for 150 b_busy
sleep 1 # connected, audio flowing
kill -TERM "${pid[b]}"
draining() { [ "$(r HGET vg:node:b draining)" = 1 ]; }
check "SIGTERM marks the node draining in Redis" wait_for 30 draining
read -r status location <<<"$(whip b fresh learner-z)"
check "a draining node sends a new room to another node" test "$status" = 307 -a "$location" = "$(url c)/api/rooms/fresh/whip"
read -r status location <<<"$(whip b lesson learner-w)"
check "a draining node still takes joins to its open room" test "$status" = 201
leave lesson learner-w "$location"
wait "$spid"
check "the session on the draining node kept its audio" test "$(jq -r '.connected + .heard_tone' "$work/stay.json")" = 2
gone() { ! kill -0 "${pid[b]}" 2>/dev/null; }
check "the drained node stops once its room is empty" wait_for 150 gone
check "it left the registry" test "$(r EXISTS vg:node:b)" = 0

# --- Redis away and back under a live session ----------------------------------------
join_client c steady 10 --identity steady >"$work/steady.json" &
spid=$!
pids+=("$spid")
c_busy() { [ "$(r HGET vg:node:c sessions)" = 1 ]; }
wait_for 150 c_busy
sleep 1
kill "$rpid"
sleep 1
read -r status location <<<"$(whip c lonely learner-q)"
check "Redis down: a new room is served locally" test "$status" = 201
leave lonely learner-q "$location"
check "Redis down: the node stays up" curl -sf "$(url c)/healthz" -o /dev/null
start_redis
back() { [ "$(r HGET vg:node:c url)" = "$(url c)" ] && [ "$(r HGET vg:room:steady owner)" = c ]; }
check "Redis back: the node and its rooms are registered again" wait_for 60 back
wait "$spid"
check "the session's audio was unaffected" test "$(jq -r '.connected + .heard_tone' "$work/steady.json")" = 2
kill -TERM "${pid[c]}"
wait "${pid[c]}"
rc=$?
check "node c stops cleanly (exit $rc) and leaves the registry" test $rc = 0 -a "$(r EXISTS vg:node:c)" = 0
tap_done
