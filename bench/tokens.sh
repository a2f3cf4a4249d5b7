#!/usr/bin/env bash
# Token endpoint throughput: the gateway pinned to CPU 0, wrk to CPU 1, the
# rate limit lifted. Prints one JSON object on its last line.
#   bench/tokens.sh BUILD_DIR [SECONDS]
set -euo pipefail
build=${1:-build}
secs=${2:-10}
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
VOXGATE_RATE_LIMIT_TOKEN_PER_MINUTE=0 VOXGATE_LOG_LEVEL=warning \
  taskset -c 0 "$build/voxgate" serve --port "$port" --data-dir "$work" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.05; done

run() { # connections path
  taskset -c 1 wrk -t1 -c"$1" -d"${secs}s" --latency "http://127.0.0.1:$port$2" 2>&1
}
to_ms() { # wrk latency like 97.00us / 2.24ms / 1.01s -> milliseconds
  python3 -c 'import sys,re; v=sys.argv[1]; m=re.match(r"([\d.]+)(us|ms|s)$",v); f={"us":1e-3,"ms":1,"s":1e3}[m.group(2)]; print(round(float(m.group(1))*f,3))' "$1"
}
json="{"
for c in 4 16 64; do
  out=$(run "$c" "/api/getToken?room=bench&name=bench")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(to_ms "$(awk '$1=="50%" {print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1=="99%" {print $2}' <<<"$out")")
  echo "getToken c=$c: $rps req/s, p50 $p50 ms, p99 $p99 ms" >&2
  json+="\"getToken_c$c\":{\"rps\":$rps,\"p50_ms\":$p50,\"p99_ms\":$p99},"
done
out=$(run 16 "/healthz")
rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
echo "healthz c=16 (libsoup floor): $rps req/s" >&2
json+="\"healthz_c16_rps\":$rps,\"gateway_cpu\":0,\"wrk_cpu\":1,\"seconds\":$secs}"
echo "$json"
