#!/usr/bin/env bash
# The cluster's Lua scripts (gateway/cluster/lua/) against a real
# redis-server: placement, liveness by TTL, drain, capacity, conflicts,
# hostile key types, and many concurrent placements with one winner. Prints TAP.
set -uo pipefail

src=${VOXGATE_SOURCE_DIR:?}
lua=$src/gateway/cluster/lua
work=$(mktemp -d)
rpid=
cleanup() { [ -n "$rpid" ] && kill "$rpid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
. "$src/tests/harness/tap.sh"
check() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
rpid=$!
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
r() { redis-cli -p "$port" "$@"; }
P=vg:
# script NAME NKEYS KEYS... ARGS...: runs common.lua + NAME.lua as cluster-scripts.c sends it.
script() { local name=$1; shift; r EVAL "$(cat "$lua/common.lua" "$lua/$name.lua")" "$@"; }
# place ROOM SELF SESSIONS CAPACITY DRAINING [TTL]
place() { script place 1 "${P}room:$1" "$P" "$1" "$2" "http://$2" "$3" "$4" "$5" "$(date +%s%3N)" "${6:-30000}"; }
# heartbeat SELF SESSIONS CAPACITY DRAINING [ROOMS_JSON] [NODE_TTL]
heartbeat() {
  script sync 0 "$P" "$1" "$(date +%s%3N)" "${6:-5000}" 30000 30000 \
    "{\"url\":\"http://$1\",\"sessions\":$2,\"rooms\":0,\"cpu\":0.1,\"capacity\":$3,\"draining\":$4}" "${5:-[]}"
}
owner_of() { jq -r .owner <<<"$1"; }

heartbeat A 0 0 false >/dev/null
heartbeat B 0 0 false >/dev/null
out=$(place r1 A 0 0 0)
check "first placement takes the receiving node" test "$(jq -r '.owner + " " + (.placed|tostring)' <<<"$out")" = "A true"
out=$(place r1 B 0 0 0)
check "a second node reads the owner and its URL" test "$(jq -r '.owner + " " + .url + " " + (.placed|tostring)' <<<"$out")" = "A http://A false"
check "the room key has a TTL" test "$(r PTTL ${P}room:r1)" -gt 0

r DEL ${P}node:A >/dev/null   # A stops heartbeating: its entry expires
out=$(place r1 B 0 0 0)
check "a dead owner's room is placed again" test "$(owner_of "$out")" = B

heartbeat A 0 0 true >/dev/null
out=$(place r2 A 0 0 1)
check "a draining node places new rooms elsewhere" test "$(owner_of "$out")" = B
out=$(place r3 A 5 5 0)
check "a full node places on a node with room" test "$(owner_of "$out")" = B
heartbeat C 1 0 false >/dev/null
heartbeat B 7 0 false >/dev/null
out=$(place r4 A 5 5 0)
check "the least loaded node with room wins" test "$(owner_of "$out")" = C
heartbeat B 0 0 true >/dev/null
heartbeat C 0 0 true >/dev/null
out=$(place r5 A 0 0 1)
check "no node takes new rooms: refused as draining" test "$(jq -r .error <<<"$out")" = draining
check "a refused placement writes nothing" test "$(r EXISTS ${P}room:r5)" = 0

r SET ${P}room:hostile 1 >/dev/null
out=$(place hostile A 0 0 0)
check "a room key of the wrong type is an error for that key" test "$(jq -r .error <<<"$out")" = "room key holds a string"
r HSET ${P}node:X url http://X sessions lots capacity '' >/dev/null
r SADD ${P}nodes X >/dev/null
heartbeat A 3 3 false >/dev/null
out=$(place r6 A 3 3 0)
check "a node entry with junk numbers is read as empty, not a crash" test "$(owner_of "$out")" = X

# Liveness is the TTL: a node that stops heartbeating is dead after it.
heartbeat D 0 0 false '[]' 300 >/dev/null
check "a heartbeat registers the node with its TTL" test "$(r HGET ${P}node:D url)" = http://D
sleep 0.4
check "a node is gone once its heartbeat TTL passes" test "$(r EXISTS ${P}node:D)" = 0

# Room and session state written by the owner's heartbeat.
heartbeat A 1 0 false '[{"name":"r7","created_at":1700000000,"views":["{\"name\":\"r7\"}","{\"name\":\"r7\",\"p\":1}"],"sessions":[{"id":"s1","identity":"alice"}]}]' >/dev/null
check "sync writes the room with its views" test "$(r HGET ${P}room:r7 v1)" = '{"name":"r7","p":1}'
out=$(script lookup 0 "$P" session s1 0)
check "a session is looked up to its node" test "$(jq -r '.owner + " " + .room + " " + .identity' <<<"$out")" = "A r7 alice"
out=$(script lookup 0 "$P" room r7 1)
check "a room is looked up with one view" test "$(jq -r '.owner + " " + .view' <<<"$out")" = 'A {"name":"r7","p":1}'
out=$(script lookup 0 "$P" list "" 0)
check "the list holds live rooms with views" test "$(jq -r '[.rooms[].name] | join(",")' <<<"$out")" = r7
out=$(script sync 0 "$P" B "$(date +%s%3N)" 5000 30000 30000 '{"url":"http://B","sessions":0,"rooms":1,"cpu":0,"capacity":0,"draining":false}' \
  '[{"name":"r7","created_at":1,"views":["x","y"],"sessions":[]}]')
check "a room owned by another live node is a conflict, not taken" test "$(jq -r '.conflicts[0]' <<<"$out")" = r7 -a "$(r HGET ${P}room:r7 owner)" = A
out=$(script forget 0 "$P" B '["r7"]' '["s1"]')
check "another node cannot release the room" test "$(r HGET ${P}room:r7 owner)" = A -a "$(r EXISTS ${P}session:s1)" = 1
out=$(script forget 0 "$P" A '["r7"]' '["s1"]')
check "the owner releases its room and sessions" test "$(jq -r .released <<<"$out")" = 1 -a "$(r EXISTS ${P}room:r7 ${P}session:s1)" = 0
r DEL ${P}node:A >/dev/null
heartbeat B 0 0 false '[{"name":"r8","created_at":1,"views":["{}"],"sessions":[]}]' >/dev/null
r HSET ${P}room:r9 owner A v0 '{}' >/dev/null
r ZADD ${P}rooms 1 r9 >/dev/null
out=$(script lookup 0 "$P" list "" 0)
check "rooms of dead nodes are not listed" test "$(jq -r '[.rooms[].name] | join(",")' <<<"$out")" = r8

# Many nodes racing for one room: exactly one owner, and everyone agrees.
r FLUSHALL >/dev/null
for i in $(seq 1 12); do heartbeat "N$i" 0 0 false >/dev/null; done
racers=()
for i in $(seq 1 12); do place race "N$i" 0 0 0 >"$work/race.$i" & racers+=($!); done
wait "${racers[@]}"
owners=$(cat "$work"/race.* | jq -r .owner | sort -u)
placed=$(cat "$work"/race.* | jq -r 'select(.placed) | .owner' | wc -l)
check "concurrent placements: one owner, placed once" test "$(wc -l <<<"$owners")" = 1 -a "$placed" = 1
tap_done
