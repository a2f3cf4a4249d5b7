#!/usr/bin/env bash
# SIGKILL of `voxgate serve` holding a tutor conversation, then a restart:
# the conversation the killed process left `active` is marked `abandoned`,
# ended at its last message, while another node's live conversation on the
# same database is left alone and a conversation the restarted node opens is
# not touched. voxgate serves tutor.pipeline against the fake Realtime
# server (vg-realtime-server, which greets, so the conversation has a
# message), a webrtcbin peer holds the session (vg-churn --hold). Run on
# SQLite (the default) and on a PostgreSQL started by
# tests/harness/postgres.sh. TAP.
set -uo pipefail

bin=${VOXGATE_BIN:?}
churn=${1:?usage: test-kill-restart.sh path/to/vg-churn path/to/vg-realtime-server}
rtserver=${2:?usage: test-kill-restart.sh path/to/vg-churn path/to/vg-realtime-server}
src=${VOXGATE_SOURCE_DIR:?}
harness="$src/tests/harness/postgres.sh"
py=/usr/bin/python3
work=$(mktemp -d)
chmod 755 "$work" # the postgres user reaches its directory in there
pid=
hold_pid=
rt_pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  [ -n "$hold_pid" ] && kill "$hold_pid" 2>/dev/null
  [ -n "$rt_pid" ] && kill "$rt_pid" 2>/dev/null
  "$harness" destroy "$work/pg" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

. "$src/tests/harness/tap.sh"

free_port() {
  $py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_line() { # file pattern seconds
  for _ in $(seq $(($3 * 20))); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# One statement with parameters, on either backend; prints the first
# column of each row. sql BACKEND TARGET SQL [PARAM...]: the SQL names its
# parameters ?1, ?2... (bound by sqlite3, psql's :'p1' variables).
sql() {
  $py - "$@" <<'EOF_PY'
import re, subprocess, sys
backend, target, query, params = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
if backend == "sqlite":
    import sqlite3
    db = sqlite3.connect(target, timeout=10)
    rows = db.execute(query, params).fetchall()
    db.commit()
    for r in rows:
        print("" if r[0] is None else r[0])
else:
    args = ["psql", "-XAt", "-v", "ON_ERROR_STOP=1"]
    for i, p in enumerate(params, 1):
        args += ["-v", "p%d=%s" % (i, p)]
    text = re.sub(r"\?(\d+)", r":'p\1'", query)
    out = subprocess.run(args + [target], input=text + ";\n", check=True, capture_output=True,
                         text=True).stdout
    sys.stdout.write(out)
EOF_PY
}

start_gateway() { # backend
  port=$(free_port)
  OPENAI_API_KEY=test-key VOXGATE_AGENT_PIPELINE=tutor.pipeline \
    VOXGATE_AGENT_PIPELINES_DIR="$src/pipelines" VOXGATE_AGENT_REALTIME_URL="$rt_url" \
    VOXGATE_NODE_ID=node-a VOXGATE_WEBRTC_DISCONNECT_TIMEOUT=2 \
    "$bin" serve --port "$port" --data-dir "$work/data-$1" >>"$work/serve-$1.log" 2>&1 &
  pid=$!
  for _ in $(seq 200); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  return 1
}

hold() { # room out-file
  "$churn" --url "http://127.0.0.1:$port" --api-key devkey --api-secret secret --room "$1" \
    --hold 1 --linger-ms 60000 >"$2" 2>"$2.err" &
  hold_pid=$!
  wait_line "$2" '"ready":1' 40
}

stop_hold() {
  kill "$hold_pid" 2>/dev/null
  wait "$hold_pid" 2>/dev/null
  hold_pid=
}

# Waits up to $1 s for "sql ..." (the rest) to print something; prints it.
wait_sql() {
  local secs=$1 out
  shift
  for _ in $(seq $((secs * 10))); do
    out=$(sql "$@" 2>/dev/null)
    [ -n "$out" ] && { echo "$out"; return 0; }
    sleep 0.1
  done
  return 1
}

# The fake Realtime server: prints its URL, greets each session.
"$rtserver" --port 0 >"$work/rt.url" 2>"$work/rt.err" &
rt_pid=$!
wait_line "$work/rt.url" '^ws' 10 || not_ok "the fake Realtime server starts" "$(cat "$work/rt.err")"
rt_url=$(head -1 "$work/rt.url")

run_case() { # backend
  local b=$1 target id other later
  if [ "$b" = sqlite ]; then target="$work/data-$b/voxgate.db"; else target=$VOXGATE_STORE_URL; fi
  start_gateway "$b" || not_ok "$b: the gateway starts" "$(tail -5 "$work/serve-$b.log")"

  # Another node's live conversation on the same database.
  other=$($py -c 'import uuid; print(uuid.uuid4())')
  sql "$b" "$target" "INSERT INTO conversations (id, room, identity, status, started_at, node_id)
    VALUES (?1, 'elsewhere', 'uma', 'active', ?2, 'node-b')" "$other" \
    "$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)" >/dev/null \
    || not_ok "$b: another node's conversation is inserted"

  hold "kill-$b" "$work/hold1-$b.out" || not_ok "$b: a learner joins" "$(cat "$work/hold1-$b.out.err")"
  # The tutor greets: the conversation has a message before the kill.
  id=$(wait_sql 20 "$b" "$target" "SELECT c.id FROM conversations c JOIN messages m
    ON m.conversation_id = c.id WHERE c.room = ?1 AND c.status = 'active' LIMIT 1" "kill-$b")
  if [ -n "$id" ]; then
    ok "$b: the tutor session is in the store, active, with the greeting ($id)"
  else
    not_ok "$b: the tutor session is in the store, active, with the greeting" \
      "$(sql "$b" "$target" "SELECT status FROM conversations WHERE room = ?1" "kill-$b"; tail -5 "$work/serve-$b.log")"
  fi

  kill -9 "$pid"
  wait "$pid" 2>/dev/null
  pid=
  stop_hold
  status=$(sql "$b" "$target" "SELECT status FROM conversations WHERE id = ?1" "$id")
  [ "$status" = active ] && ok "$b: after SIGKILL the conversation is still active" \
    || not_ok "$b: after SIGKILL the conversation is still active" "$status"

  start_gateway "$b" || not_ok "$b: the gateway starts again" "$(tail -5 "$work/serve-$b.log")"
  status=$(wait_sql 10 "$b" "$target" "SELECT status FROM conversations WHERE id = ?1 AND status <> 'active'" "$id")
  if [ "$status" = abandoned ]; then
    ok "$b: after the restart the killed session's conversation is abandoned"
  else
    not_ok "$b: after the restart the killed session's conversation is abandoned" \
      "${status:-still active}; $(grep -i 'store' "$work/serve-$b.log" | tail -3)"
  fi
  same=$(sql "$b" "$target" "SELECT count(*) FROM conversations c WHERE c.id = ?1
    AND c.ended_at = (SELECT max(m.created_at) FROM messages m WHERE m.conversation_id = c.id)" "$id")
  [ "$same" = 1 ] && ok "$b: it ended at its last message" \
    || not_ok "$b: it ended at its last message" \
      "$(sql "$b" "$target" "SELECT ended_at FROM conversations WHERE id = ?1" "$id")"
  # Through the data API too.
  admin=$("$bin" token --admin --identity admin 2>/dev/null)
  api=$(curl -s -H "Authorization: Bearer $admin" "http://127.0.0.1:$port/api/conversations/$id")
  if $py -c 'import json,sys; c=json.loads(sys.argv[1]); c=c.get("conversation", c); sys.exit(not (c["status"] == "abandoned" and c["ended_at"]))' "$api" 2>/dev/null; then
    ok "$b: GET /api/conversations/{id} says abandoned, with ended_at"
  else
    not_ok "$b: GET /api/conversations/{id} says abandoned, with ended_at" "$api"
  fi
  status=$(sql "$b" "$target" "SELECT status FROM conversations WHERE id = ?1" "$other")
  [ "$status" = active ] && ok "$b: another node's live conversation is left active" \
    || not_ok "$b: another node's live conversation is left active" "$status"

  # A session on the restarted node is its own business.
  hold "after-$b" "$work/hold2-$b.out" || not_ok "$b: a learner joins the restarted node" "$(cat "$work/hold2-$b.out.err")"
  later=$(wait_sql 20 "$b" "$target" "SELECT status FROM conversations WHERE room = ?1" "after-$b")
  [ "$later" = active ] && ok "$b: a conversation the restarted node opens stays active" \
    || not_ok "$b: a conversation the restarted node opens stays active" "${later:-none}"
  stop_hold
  kill -TERM "$pid"
  wait "$pid"
  rc=$?
  pid=
  [ "$rc" = 0 ] && ok "$b: the restarted gateway stops cleanly" \
    || not_ok "$b: the restarted gateway stops cleanly" "status $rc"
}

run_case sqlite
export VOXGATE_STORE_URL
VOXGATE_STORE_URL=$("$harness" start "$work/pg") || not_ok "PostgreSQL starts"
run_case postgres
tap_done
