#!/usr/bin/env bash
# bench/tools/run.sh BUILD_DIR [ROUNDS] [CALLS_PER_ROUND]: the tutor's tool
# latency through a whole room (tutor.pipeline, the fake Realtime server,
# the agents bound to the tutor, the store), per tool, on SQLite and on
# PostgreSQL (a throwaway server, tests/harness/postgres.sh, fsync on): the
# server's time from response.function_call_arguments.done to the
# function_call_output item, store reads and writes included. Goal: < 50 ms.
# Prints {"sqlite":{...},"postgresql":{...}} on its last line.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
rounds=${2:-5}
per_round=${3:-4}
src=$(cd "$(dirname "$0")/../.." && pwd)
ninja -C "$build" tests/store/bench-tutor-tools plugins/libgstvoxgate.so >&2
export GST_PLUGIN_PATH="$build/plugins"
export GST_REGISTRY="$build/bench-gst-registry.bin"
export VOXGATE_SOURCE_DIR="$src"
sqlite=$("$build/tests/store/bench-tutor-tools" sqlite "$rounds" "$per_round" | tail -n 1)
pg=$(PG_FSYNC=on "$build/tests/store/bench-tutor-tools" postgres "$rounds" "$per_round" | tail -n 1)
echo "{\"sqlite\":$sqlite,\"postgresql\":$pg}"
