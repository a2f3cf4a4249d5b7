#!/usr/bin/env bash
# The benchmark's load mode of vg-test-client (--preencoded: frames encoded
# once, one pacing thread, only --measure peers decode past their first
# audio) against the voxgate binary: on loopback.pipeline every peer hears
# audio, the measured peer hears its tone and times round trips, the
# gateway receives what was sent; on tutor.pipeline against the fake
# Realtime server, peers speaking in turns (--turns) are greeted and their
# replies are timed. TAP.
#   test-load-client.sh path/to/vg-test-client path/to/vg-realtime-server
set -uo pipefail

bin=${VOXGATE_BIN:?}
client=${1:?usage: test-load-client.sh vg-test-client vg-realtime-server}
rt_bin=${2:?usage: test-load-client.sh vg-test-client vg-realtime-server}
src=${VOXGATE_SOURCE_DIR:?}
work=$(mktemp -d)
gw="" rt=""
cleanup() {
  for p in $gw $rt; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

. "$src/tests/harness/tap.sh"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start_gateway() { # PIPELINE [ENV...]
  local pipeline=$1
  shift
  port=$(free_port)
  env VOXGATE_AGENT_PIPELINE="$pipeline" VOXGATE_AGENT_PIPELINES_DIR="$src/pipelines" "$@" \
    "$bin" serve --port "$port" --data-dir "$work/data-$pipeline" >/dev/null 2>"$work/gw.log" &
  gw=$!
  for _ in $(seq 200); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.05
  done
}

stop_gateway() {
  kill -TERM "$gw" 2>/dev/null
  wait "$gw" 2>/dev/null
  gw=""
}

# check NAME PYTHON-EXPRESSION-OVER-r (the client's JSON)
# (and the client's exit status $rc: 0 when every peer connected and it
# found nothing wrong; sanitizers report with another)
check() {
  if python3 -c 'import json, sys; r = json.loads(sys.argv[1]); sys.exit(0 if eval(sys.argv[2]) else 1)' \
    "$out" "$2" 2>/dev/null; then
    ok "$1"
  else
    not_ok "$1" "$2: $out
$(tail -n 20 "$work/client.err")"
  fi
}

# ---- loopback ----
start_gateway loopback.pipeline
"$client" --url "http://127.0.0.1:$port" --room load --room-per-peer --peers 3 --ramp-ms 20 \
  --api-key devkey --api-secret secret --tone 440 --duration 2 --rtt 2 --preencoded --measure 1 \
  >"$work/client.out" 2>"$work/client.err"
rc=$?
out=$(tail -n 1 "$work/client.out")
echo "# $out"
check "three pre-encoded peers connect and all hear audio" \
  'r["connected"] == 3 and r["heard_audio"] == 3 and r["measured"] == 1 and '"$rc"' == 0'
check "the measured peer hears its 440 Hz tone back" 'r["heard_tone"] == 1'
check "the measured peer times its round trips (20 ms .. 1 s)" \
  'r["round_trip_seconds"]["n"] >= 1 and 0.02 <= r["round_trip_seconds"]["p50"] < 1'
check "frames went out every 20 ms and the gateway reports none lost" \
  'r["frames_sent"] >= 3 * 2 * 40 and r["upstream_lost"] == 0 and r["pacer"]["ticks"] > 100'
check "every peer receives the gateway's stream" \
  'r["packets_received"] >= 3 * 2 * 40 and r["loss_percent"]["max"] < 5'
stop_gateway

# ---- tutor ----
"$rt_bin" --port 0 --response-ms 800 >"$work/rt.url" 2>"$work/rt.log" &
rt=$!
for _ in $(seq 50); do [ -s "$work/rt.url" ] && break; sleep 0.1; done
start_gateway tutor.pipeline OPENAI_API_KEY=test-key VOXGATE_AGENT_REALTIME_URL="$(head -n 1 "$work/rt.url")"
"$client" --url "http://127.0.0.1:$port" --room tutor-load --room-per-peer --peers 2 \
  --ramp-ms 20 --api-key devkey --api-secret secret --tone 440 --duration 7 --preencoded \
  --measure 1 --turns 800:2500 --turn-delay-ms 500 >"$work/client.out" 2>"$work/client.err"
rc=$?
out=$(tail -n 1 "$work/client.out")
echo "# $out"
check "two learners connect and hear their greeting" \
  'r["connected"] == 2 and r["heard_audio"] == 2 and '"$rc"' == 0'
# A reply comes after the server VAD's 500 ms of silence.
check "the measured learner's replies are timed (> 0.5 s, < 3 s)" \
  'r["reply_seconds"]["n"] >= 1 and 0.5 < r["reply_seconds"]["p50"] < 3'
stop_gateway
kill -TERM "$rt" 2>/dev/null
wait "$rt" 2>/dev/null
rt=""
tap_done
