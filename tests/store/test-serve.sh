#!/usr/bin/env bash
# The store as the voxgate binary uses it: `voxgate migrate` (twice: the second
# applies nothing) on SQLite and PostgreSQL, and `serve` with PostgreSQL:
# migrations at start, /readyz following the database down and up, the data
# API, a clean stop. TAP output.
set -uo pipefail

bin=${VOXGATE_BIN:?}
src=${VOXGATE_SOURCE_DIR:?}
harness="$src/tests/harness/postgres.sh"
tmp=$(mktemp -d)
chmod 755 "$tmp"
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  "$harness" destroy "$tmp/pg" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT

. "$src/tests/harness/tap.sh"
check() { if eval "$2"; then ok "$1"; else not_ok "$1"; fi; }

out=$("$bin" migrate --data-dir "$tmp/data" 2>/dev/null)
check "sqlite: first migrate applies all" '[ "$out" = "voxgate: 6 migrations applied (sqlite)" ]'
out=$("$bin" migrate --data-dir "$tmp/data" 2>/dev/null)
check "sqlite: second migrate applies nothing" '[ "$out" = "voxgate: 0 migrations applied (sqlite)" ]'

url=$("$harness" start "$tmp/pg")
export VOXGATE_STORE_URL=$url
out=$("$bin" migrate --data-dir "$tmp/data" 2>/dev/null)
check "postgresql: first migrate applies all" '[ "$out" = "voxgate: 6 migrations applied (postgresql)" ]'
out=$("$bin" migrate --data-dir "$tmp/data" 2>/dev/null)
check "postgresql: second migrate applies nothing" '[ "$out" = "voxgate: 0 migrations applied (postgresql)" ]'
VOXGATE_STORE_URL=postgresql://postgres@127.0.0.1:1/none "$bin" migrate --data-dir "$tmp/data" >/dev/null 2>&1
check "migrate fails with status 1 when the database is unreachable" '[ $? -eq 1 ]'

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" serve --port "$port" --data-dir "$tmp/data" >"$tmp/serve.log" 2>&1 &
pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
check "serve: ready with the store up" '[ "$(status "http://127.0.0.1:$port/readyz")" = 200 ]'
token=$("$bin" token --admin --identity admin 2>/dev/null)
body=$(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/subtopics?topic=languages")
check "serve: data API lists the seeded subtopics" '[[ "$body" == *"Spanish greetings"* ]]'
room_admin=$("$bin" token --admin --room any --identity admin 2>/dev/null)
check "serve: a room's admin token (token --admin --room) reads no data API" \
  '[ "$(status -H "Authorization: Bearer $room_admin" "http://127.0.0.1:$port/api/conversations")" = 403 ]'

"$harness" stop "$tmp/pg"
down=0
for _ in $(seq 50); do
  body=$(curl -s "http://127.0.0.1:$port/readyz")
  [[ "$body" == *'"store"'* ]] && { down=1; break; }
  sleep 0.1
done
check "serve: /readyz names the store within 5 s of the database stopping" '[ $down = 1 ]'
check "serve: data API answers 503 while the database is down" \
  '[ "$(status -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/subtopics")" = 503 ]'

"$harness" start "$tmp/pg" >/dev/null
up=0
for _ in $(seq 50); do
  [ "$(status "http://127.0.0.1:$port/readyz")" = 200 ] && { up=1; break; }
  sleep 0.1
done
check "serve: ready again within 5 s of the database returning" '[ $up = 1 ]'

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
check "serve: clean exit on SIGTERM" '[ $rc -eq 0 ]'
check "serve: no leftover spool after a clean stop with the database up" '[ ! -e "$tmp/data/store-spool.jsonl" ]'
tap_done
