#!/usr/bin/env bash
# bench/realtime/run.sh BUILD_DIR: 200 openairealtime instances in one process
# against the fake Realtime server (a separate process, so that its CPU is not
# counted). Prints one JSON object of results on its last line.
# Knobs: VG_BENCH_INSTANCES (200), VG_BENCH_SECONDS (20).
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
n=${VG_BENCH_INSTANCES:-200}
seconds=${VG_BENCH_SECONDS:-20}
ninja -C "$build" plugins/libgstvoxgate.so tests/realtime-server/vg-realtime-server \
  tests/plugin/vg-realtime-bench >&2
export GST_PLUGIN_PATH="$build/plugins"
export GST_REGISTRY="$build/bench-gst-registry.bin"
ulimit -n 4096 2>/dev/null || true

out=$(mktemp)
"$build/tests/realtime-server/vg-realtime-server" --port 0 --quiet >"$out" 2>&2 &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 50); do
  [ -s "$out" ] && break
  sleep 0.1
done
url=$(head -n 1 "$out")
[ -n "$url" ] || { echo "fake server did not start" >&2; exit 1; }
echo "server $url; $n instances for $seconds s" >&2
"$build/tests/plugin/vg-realtime-bench" --url "$url" --instances "$n" --seconds "$seconds" | tail -n 1
