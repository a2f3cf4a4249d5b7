#!/usr/bin/env bash
# bench/greeting/run.sh BUILD_DIR: the time from the WHIP POST to the first
# greeting audio the learner hears, through the whole gateway (voxgate serve,
# tutor.pipeline, the fake Realtime server as a separate process). The C test
# client joins N learners (VG_BENCH_PEERS, 5), one fresh room each, one after
# the other (VG_BENCH_RAMP_MS apart, 1500), sending silence: the only audio
# they can hear is the tutor's greeting. Prints the client's JSON (its
# first_audio_seconds is WHIP POST -> first audible buffer) on its last line.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
peers=${VG_BENCH_PEERS:-5}
ramp=${VG_BENCH_RAMP_MS:-1500}
ninja -C "$build" voxgate plugins/libgstvoxgate.so tests/realtime-server/vg-realtime-server \
  tests/rooms/vg-test-client >&2
export GST_PLUGIN_PATH="$build/plugins"
export GST_REGISTRY="$build/bench-gst-registry.bin"
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

"$build/tests/realtime-server/vg-realtime-server" --port 0 --quiet --response-ms 2000 \
  >"$work/rt.url" 2>"$work/rt.log" &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/rt.url" ] && break; sleep 0.1; done
rt=$(head -n 1 "$work/rt.url")
[ -n "$rt" ] || { echo "fake server did not start" >&2; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
OPENAI_API_KEY=test-key VOXGATE_AGENT_PIPELINE=tutor.pipeline \
  VOXGATE_AGENT_PIPELINES_DIR="$src/pipelines" VOXGATE_AGENT_REALTIME_URL="$rt" \
  "$build/voxgate" serve --port "$port" --data-dir "$work/data" >"$work/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.05
done
echo "gateway :$port, fake Realtime server $rt; $peers learners, ${ramp} ms apart" >&2
"$build/tests/rooms/vg-test-client" --url "http://127.0.0.1:$port" --room greet --room-per-peer \
  --api-key devkey --api-secret secret --identity learner --peers "$peers" --ramp-ms "$ramp" \
  --tone 0 --duration 3 | tail -n 1
