#!/usr/bin/env bash
# The voxgate binary serving rooms end to end: vg-test-client (the load
# client) joins three peers over WHIP, each hears its tone back through
# loopback.pipeline, they leave with DELETE, and /metrics counts them. TAP.
set -uo pipefail

bin=${VOXGATE_BIN:?}
client=${1:?usage: test-cli.sh path/to/vg-test-client}
src=${VOXGATE_SOURCE_DIR:?}
work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

. "${VOXGATE_SOURCE_DIR:?}/tests/harness/tap.sh"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
VOXGATE_AGENT_PIPELINE=loopback.pipeline VOXGATE_AGENT_PIPELINES_DIR="$src/pipelines" \
  "$bin" serve --port "$port" --data-dir "$work/data" >"$work/out.log" 2>"$work/err.log" &
pid=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.05
done

out=$("$client" --url "http://127.0.0.1:$port" --room cli --peers 3 --ramp-ms 20 \
  --api-key devkey --api-secret secret --tone 440 --duration 2 2>"$work/client.err")
rc=$?
echo "# $out"
if [ $rc -eq 0 ] && grep -q '"connected":3,"heard_tone":3' <<<"$out"; then
  ok "three WHIP peers connect and hear their tone"
else
  not_ok "three WHIP peers connect and hear their tone" "$(tail -5 "$work/client.err")"
fi

metrics=$(curl -sf "http://127.0.0.1:$port/metrics")
if grep -q '^voxgate_webrtc_connect_seconds_count 3' <<<"$metrics" \
  && grep -q '^voxgate_participants 0' <<<"$metrics" \
  && grep -q '^voxgate_rooms 1' <<<"$metrics"; then
  ok "metrics count the connections and the departures"
else
  not_ok "metrics count the connections and the departures" "$(grep '^voxgate_' <<<"$metrics")"
fi

kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
if ! kill -0 "$pid" 2>/dev/null; then
  pid=
  ok "stops cleanly with a room open"
else
  not_ok "stops cleanly with a room open"
fi
tap_done
