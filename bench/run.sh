#!/usr/bin/env bash
# `make bench`: runs every benchmark section and writes bench/results.json
# and docs/BENCHMARKS.md. A section is a script that prints one JSON object
# on its last line; sections whose script is absent are skipped and say so.
# BENCH_SECTIONS="sessions tokens" runs only those sections; the sessions
# section reads SESSIONS, PIPELINES, HOLD_SECONDS and BENCH_QUICK (see
# bench/sessions/run.sh).
set -uo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
sections=(
  "tokens:bench/tokens.sh"
  "realtime:bench/realtime/run.sh"
  "store:bench/store/run.sh"
  "sessions:bench/sessions/run.sh"
  "opus:bench/opus/run.sh"
  "tools:bench/tools/run.sh"
)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
cpu=$(awk -F: '/model name/ {gsub(/^ +/,"",$2); print $2; exit}' /proc/cpuinfo)
results="{\"commit\":\"$commit\",\"date\":\"$(date -u +%FT%TZ)\",\"cores\":$(nproc),\"cpu\":\"$cpu\",\"sections\":{"
first=1
for entry in "${sections[@]}"; do
  name=${entry%%:*}
  script=${entry#*:}
  if [ -n "${BENCH_SECTIONS:-}" ] && [[ " $BENCH_SECTIONS " != *" $name "* ]]; then
    continue
  fi
  if [ ! -x "$script" ]; then
    echo "== $name: not available ($script)" >&2
    continue
  fi
  echo "== $name ($(date +%T))" >&2
  t0=$SECONDS
  line=$("$script" "$build" | tail -n 1)
  echo "== $name: $((SECONDS - t0)) s" >&2
  if python3 -c 'import json,sys; json.loads(sys.argv[1])' "$line" 2>/dev/null; then
    [ $first -eq 1 ] || results+=","
    results+="\"$name\":$line"
    first=0
  else
    echo "== $name: no JSON result" >&2
  fi
done
results+="}}"
# A partial run (BENCH_SECTIONS) keeps the other sections of the last results
# and says which sections this run measured.
python3 - "$results" "${BENCH_SECTIONS:-}" <<'EOF_PY' >bench/results.json.new
import json, sys
new = json.loads(sys.argv[1])
if sys.argv[2]:
    try:
        old = json.load(open("bench/results.json"))
        new["sections"] = {**old.get("sections", {}), **new["sections"]}
        new["this_run"] = sys.argv[2].split()
    except (OSError, ValueError):
        pass
print(json.dumps(new, indent=2))
EOF_PY
mv bench/results.json.new bench/results.json
python3 bench/report.py bench/results.json bench/optimisations.md >docs/BENCHMARKS.md
cat docs/BENCHMARKS.md
