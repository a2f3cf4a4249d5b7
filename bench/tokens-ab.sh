#!/usr/bin/env bash
# Two voxgate builds side by side on the token endpoint (before/after a
# change): both gateways on core 0, wrk on core 1 alternating between them,
# `wrk -t2 -c32` with keep-alive, the rate limit lifted. Prints req/s, p99
# and the gateway's CPU time per request for each run.
#   bench/tokens-ab.sh BUILD_A BUILD_B [SECONDS] [PAIRS]
set -euo pipefail
a=$1 b=$2 secs=${3:-8} pairs=${4:-4}
path="/api/getToken?room=bench&name=bench"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port_a=$(free_port) port_b=$(free_port)
wa=$(mktemp -d) wb=$(mktemp -d)
VOXGATE_RATE_LIMIT_TOKEN_PER_MINUTE=0 VOXGATE_LOG_LEVEL=warning \
  taskset -c 0 "$a/voxgate" serve --port "$port_a" --data-dir "$wa" >/dev/null 2>&1 &
pa=$!
VOXGATE_RATE_LIMIT_TOKEN_PER_MINUTE=0 VOXGATE_LOG_LEVEL=warning \
  taskset -c 0 "$b/voxgate" serve --port "$port_b" --data-dir "$wb" >/dev/null 2>&1 &
pb=$!
trap 'kill $pa $pb 2>/dev/null; wait 2>/dev/null; rm -rf "$wa" "$wb"' EXIT
for p in "$port_a" "$port_b"; do
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$p/healthz" >/dev/null && break; sleep 0.05; done
  taskset -c 1 wrk -t2 -c32 -d2s "http://127.0.0.1:$p$path" >/dev/null 2>&1
done
one() { # pid port label
  local t0 t1 out n
  t0=$(awk '{print $14 + $15}' "/proc/$1/stat")
  out=$(taskset -c 1 wrk -t2 -c32 -d"${secs}s" --latency "http://127.0.0.1:$2$path" 2>&1)
  t1=$(awk '{print $14 + $15}' "/proc/$1/stat")
  n=$(awk '/requests in/ {print $1}' <<<"$out")
  echo "$3: $(awk '/Requests\/sec/ {print $2}' <<<"$out") req/s, p99 $(awk '$1=="99%" {print $2}' <<<"$out"), $(python3 -c 'import sys,os; print(round((int(sys.argv[2])-int(sys.argv[1]))/os.sysconf("SC_CLK_TCK")/int(sys.argv[3])*1e6, 1))' "$t0" "$t1" "$n") µs CPU/req"
}
for i in $(seq "$pairs"); do
  if [ $((i % 2)) -eq 1 ]; then one $pa "$port_a" A; one $pb "$port_b" B; else one $pb "$port_b" B; one $pa "$port_a" A; fi
done
