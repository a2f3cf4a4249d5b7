#!/usr/bin/env bash
# Store benchmark on both backends: messages/second through the store and
# p99 of reading one conversation of 1000 messages; p50/p95 of the tutor's
# reads (understanding, progress, worked examples) over ASSESSMENTS
# assessment rows. PostgreSQL is a throwaway
# server (tests/harness/postgres.sh) with fsync on; SQLite is WAL with
# synchronous=NORMAL, as the gateway runs them.
#   bench/store/run.sh BUILD_DIR [MESSAGES] [ASSESSMENTS]
# The last line of output is one JSON object.
set -euo pipefail

build=$(cd "${1:?usage: $0 BUILD_DIR [MESSAGES] [ASSESSMENTS]}" && pwd)
messages=${2:-20000}
assessments=${3:-5000}
src=$(cd "$(dirname "$0")/../.." && pwd)
ninja -C "$build" tests/store/bench-store >/dev/null
tmp=$(mktemp -d)
chmod 755 "$tmp"
trap '"$src/tests/harness/postgres.sh" destroy "$tmp/pg" >/dev/null 2>&1; rm -rf "$tmp"' EXIT

sqlite=$("$build/tests/store/bench-store" "sqlite:$tmp/bench.db" "$tmp/sqlite" "$messages" 200 "$assessments" 2>/dev/null)
echo "$sqlite"
url=$(PG_FSYNC=on "$src/tests/harness/postgres.sh" start "$tmp/pg")
pg=$("$build/tests/store/bench-store" "$url" "$tmp/pgdata" "$messages" 200 "$assessments" 2>/dev/null)
echo "$pg"
echo "{\"sqlite\":$sqlite,\"postgresql\":$pg}"
