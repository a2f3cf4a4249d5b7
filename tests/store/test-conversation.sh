#!/usr/bin/env bash
# A conversation through the gateway leaves its rows: voxgate serves
# echo.pipeline, the C test client (vg-test-client) joins over WHIP, speaks
# one turn (a 440 Hz tone, then silence), hears it echoed and leaves. The
# room is created first (POST /api/rooms) with a subtopic_id, which the
# conversation must record; a second learner joins a room without one, with
# a token (POST /api/token) whose metadata asks for a subtopic. The store must then hold the conversation
# (completed, ended, its subtopic), its user and
# assistant messages in order, and one session_analytics row counting the
# turns. Run on SQLite (the embedded default) and on a PostgreSQL started by
# tests/harness/postgres.sh. TAP.
set -uo pipefail

bin=${VOXGATE_BIN:?}
client=${1:?usage: test-conversation.sh path/to/vg-test-client}
src=${VOXGATE_SOURCE_DIR:?}
harness="$src/tests/harness/postgres.sh"
work=$(mktemp -d)
chmod 755 "$work"
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  "$harness" destroy "$work/pg" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

. "$src/tests/harness/tap.sh"
check() { if eval "$2"; then ok "$1"; else not_ok "$1"; fi; }

# Prints the rows the conversation left as one JSON object, from either backend.
dump_rows() { # backend room
  python3 - "$@" <<'EOF_PY'
import json, subprocess, sys
backend, room = sys.argv[1], sys.argv[2]
# ROOM is the one parameter: "?" for sqlite3, psql's :'room' variable for PostgreSQL.
queries = {
  "conversations": "SELECT id, identity, status, pipeline, ended_at IS NOT NULL, subtopic_id FROM conversations WHERE room = ROOM",
  "messages": "SELECT m.seq, m.role, m.text FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.room = ROOM ORDER BY m.seq",
  "analytics": "SELECT identity, duration_seconds, user_turns, agent_turns, conversation_id IS NOT NULL, tool_calls, understanding_start IS NULL, understanding_end IS NULL, audio_seconds_in FROM session_analytics WHERE room = ROOM",
}
out = {}
if backend == "sqlite":
    import sqlite3
    db = sqlite3.connect(sys.argv[3])
    for k, q in queries.items():
        out[k] = [list(r) for r in db.execute(q.replace("ROOM", "?"), (room,))]
else:
    for k, q in queries.items():
        text = subprocess.run(["psql", "-XAtF", "\t", "-v", "room=" + room, sys.argv[3]],
                              input=q.replace("ROOM", ":'room'") + ";\n", check=True,
                              capture_output=True, text=True).stdout
        out[k] = [line.split("\t") for line in text.splitlines() if line]
print(json.dumps(out))
EOF_PY
}

check_rows() { # label rows-json identity
  python3 - "$1" "$2" "$3" <<'EOF_PY'
import json, sys
label, rows, identity = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
SUBTOPIC = "2"  # Percentages, the second seeded subtopic
def truthy(v): return v in (1, True, "t", "1")
results = []
conv = rows["conversations"]
results.append(("%s: one conversation for the room, the client's identity, completed and ended" % label,
    len(conv) == 1 and conv[0][1] == identity and conv[0][2] == "completed"
    and conv[0][3] == "echo.pipeline" and truthy(conv[0][4])))
results.append(("%s: the conversation records the room's subtopic" % label,
    len(conv) == 1 and str(conv[0][5]) == SUBTOPIC))
msgs = rows["messages"]
roles = [m[1] for m in msgs]
seqs = [int(m[0]) for m in msgs]
# The agent speaks first (its greeting: echoagent's respond), then the turn.
results.append(("%s: the agent's greeting, then a user message and the agent's answer, in order"
    % label,
    roles[:1] == ["assistant"] and "user" in roles
    and "assistant" in roles[roles.index("user"):]
    and seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    and all(m[2] for m in msgs)))
an = rows["analytics"]
results.append(("%s: one analytics row linked to the conversation, counting the turns" % label,
    len(an) == 1 and an[0][0] == identity and float(an[0][1]) > 1.0
    and int(an[0][2]) >= 1 and int(an[0][3]) >= 1 and truthy(an[0][4])))
# The echo pipeline calls no tools and nobody assessed the learner.
results.append(("%s: the analytics row counts no tool calls and no understanding" % label,
    len(an) == 1 and int(an[0][5]) == 0 and truthy(an[0][6]) and truthy(an[0][7])))
for name, good in results:
    print(("ok" if good else "not ok") + " - " + name)
if not all(g for _, g in results):
    print("# " + json.dumps(rows))
EOF_PY
}

run_conversation() { # backend
  local backend=$1 room="store-e2e-$1"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  VOXGATE_AGENT_PIPELINE=echo.pipeline VOXGATE_AGENT_PIPELINES_DIR="$src/pipelines" \
    "$bin" serve --port "$port" --data-dir "$work/data-$backend" \
    >"$work/serve-$backend.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.05
  done

  # The room teaches a subtopic (2: Percentages, seeded by the migrations).
  local token code
  token=$("$bin" token --admin --identity admin 2>/dev/null)
  code=$(curl -s -o "$work/bad-$backend.json" -w '%{http_code}' -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d "{\"name\":\"$room\",\"subtopic_id\":\"fractions\"}" \
    "http://127.0.0.1:$port/api/rooms")
  check "$backend: a subtopic_id that is not a positive integer is refused" '[ "$code" = 400 ]'
  code=$(curl -s -o "$work/room-$backend.json" -w '%{http_code}' -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d "{\"name\":\"$room\",\"subtopic_id\":2}" \
    "http://127.0.0.1:$port/api/rooms")
  check "$backend: the room is created with its subtopic" '[ "$code" = 200 ] || [ "$code" = 201 ]'

  out=$("$client" --url "http://127.0.0.1:$port" --room "$room" --api-key devkey \
    --api-secret secret --identity "learner-$backend" --tone 440 --talk-ms 1200 --duration 3 2>"$work/client-$backend.err")
  rc=$?
  echo "# $backend: $out"
  if [ $rc -eq 0 ] && grep -q '"connected":1,"heard_tone":1' <<<"$out"; then
    ok "$backend: the client connects and hears its turn echoed"
  else
    not_ok "$backend: the client connects and hears its turn echoed" \
      "$(tail -5 "$work/client-$backend.err"; tail -5 "$work/serve-$backend.log")"
  fi
  identity=learner-$backend

  # A room nobody gave a subtopic: the learner's token asks for one (3) in its metadata.
  local token_room="store-e2e-token-$backend" ptoken
  ptoken=$(curl -s -H 'Content-Type: application/json' \
    -d "{\"room_name\":\"$token_room\",\"participant_identity\":\"tok-$backend\",\"participant_metadata\":\"{\\\"subtopic_id\\\":3}\"}" \
    "http://127.0.0.1:$port/api/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["participant_token"])')
  out=$("$client" --url "http://127.0.0.1:$port" --room "$token_room" --token "$ptoken" \
    --tone 440 --talk-ms 300 --duration 1 2>>"$work/client-$backend.err")
  check "$backend: a learner joins with a token asking for a subtopic" 'grep -q "\"connected\":1" <<<"$out"'

  # The rows are written when the participant leaves; stopping the gateway
  # drains the store, so everything must be there afterwards.
  kill -TERM "$pid"
  wait "$pid"
  local stop_rc=$?
  pid=
  if [ $stop_rc -eq 0 ]; then ok "$backend: clean stop"; else not_ok "$backend: clean stop (status $stop_rc)"; fi

  local target
  if [ "$backend" = sqlite ]; then target="$work/data-$backend/voxgate.db"; else target=$VOXGATE_STORE_URL; fi
  rows=$(dump_rows "$backend" "$token_room" "$target" 2>&1)
  check "$backend: the conversation records the subtopic of the learner's token" \
    'python3 -c "import json,sys; c=json.loads(sys.argv[1])[\"conversations\"]; sys.exit(not (len(c) == 1 and str(c[0][5]) == \"3\"))" "$rows"'
  rows=$(dump_rows "$backend" "$room" "$target" 2>&1)
  while read -r line; do
    case $line in
      "ok - "*) ok "${line#ok - }" ;;
      "not ok - "*) not_ok "${line#not ok - }" ;;
      *) echo "$line" ;;
    esac
  done < <(check_rows "$backend" "$rows" "$identity")
}

run_conversation sqlite
export VOXGATE_STORE_URL
VOXGATE_STORE_URL=$("$harness" start "$work/pg")
run_conversation postgres
tap_done
