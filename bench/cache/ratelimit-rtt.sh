#!/usr/bin/env bash
# What counting rate limits in Redis adds to a token request: two gateways,
# one with the in-process limiter and one with [cache] url on a local
# redis-server (tests/harness/redis.sh), the limit high enough never to
# refuse; sequential requests alternate between them so both see the same
# machine load. Prints p50/p95 per gateway, the difference, and Redis
# commands per request (Redis's own count). Last line: one JSON object.
#   bench/cache/ratelimit-rtt.sh BUILD_DIR [REQUESTS]
set -euo pipefail
build=${1:-build}
n=${2:-2000}
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; "$src/tests/harness/redis.sh" destroy "$work/redis" >/dev/null; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

url=$("$src/tests/harness/redis.sh" start "$work/redis")
start() { # name cache_url -> port on stdout
  local port
  port=$(free_port)
  VOXGATE_CACHE_URL=$2 VOXGATE_RATE_LIMIT_TOKEN_PER_MINUTE=1000000 VOXGATE_LOG_LEVEL=warning \
    "$build/voxgate" serve --port "$port" --data-dir "$work/$1" >/dev/null 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.05; done
  echo "$port"
}
local_port=$(start local "")
redis_port=$(start redis "$url")
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$redis_port/readyz" >/dev/null && break; sleep 0.05; done

stats() { redis-cli -p "${url##*:}" INFO commandstats | tr -d '\r'; }
# Commands the gateways sent (EVALSHA/EVAL) and all Redis ran (the script's
# own calls included), INFO left out.
sent() { stats | awk -F'[:=,]' '$1 == "cmdstat_evalsha" || $1 == "cmdstat_eval" { s += $3 } END { print s + 0 }'; }
calls() { stats | awk -F'[:=,]' '/^cmdstat_/ && $1 != "cmdstat_info" { s += $3 } END { print s + 0 }'; }
before=$(calls)
sent_before=$(sent)
python3 - "$local_port" "$redis_port" "$n" "$work/lat.json" <<'EOF_PY'
import http.client, json, sys, time
lp, rp, n, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def one(port):
    t = time.perf_counter()
    c = http.client.HTTPConnection("127.0.0.1", port)
    c.request("GET", "/api/getToken?room=bench&name=bench")
    r = c.getresponse(); r.read(); c.close()
    assert r.status == 200, r.status
    return (time.perf_counter() - t) * 1000
for p in (lp, rp):  # warm up
    for _ in range(50): one(p)
lat = {"local": [], "redis": []}
for i in range(n):
    lat["local"].append(one(lp)); lat["redis"].append(one(rp))
json.dump(lat, open(out, "w"))
EOF_PY
after=$(calls)
sent_after=$(sent)
curl -s "http://127.0.0.1:$redis_port/metrics" >"$work/metrics"
python3 - "$work/lat.json" "$n" "$before" "$after" "$sent_before" "$sent_after" "$work/metrics" <<'EOF_PY' 
import json, sys
lat = json.load(open(sys.argv[1])); n = int(sys.argv[2]); before, after = int(sys.argv[3]), int(sys.argv[4])
sent = int(sys.argv[6]) - int(sys.argv[5])
def q(v, p): v = sorted(v); return v[min(len(v) - 1, int(p * len(v)))]
r = {}
for k in ("local", "redis"):
    r[k] = {"p50_ms": round(q(lat[k], .5), 3), "p95_ms": round(q(lat[k], .95), 3)}
    print(f"{k:6} limiter: p50 {r[k]['p50_ms']} ms, p95 {r[k]['p95_ms']} ms ({n} requests)", file=sys.stderr)
r["added_p50_ms"] = round(r["redis"]["p50_ms"] - r["local"]["p50_ms"], 3)
r["added_p95_ms"] = round(r["redis"]["p95_ms"] - r["local"]["p95_ms"], 3)
# Warm-up requests are counted by Redis too: 50 per gateway.
r["redis_commands_per_request"] = round(sent / (n + 50), 3)
r["redis_commands_run_per_request"] = round((after - before) / (n + 50), 3)
print(f"added by Redis: p50 {r['added_p50_ms']} ms, p95 {r['added_p95_ms']} ms; "
      f"{r['redis_commands_per_request']} commands sent per request "
      f"({r['redis_commands_run_per_request']} run by Redis, the script's included)", file=sys.stderr)
# The gateway's own view of the round trip: bucket bounds of its histogram.
buckets = []
for line in open(sys.argv[7]):
    if line.startswith("voxgate_redis_command_seconds_bucket"):
        le = line.split('le="')[1].split('"')[0]
        buckets.append((float("inf") if le == "+Inf" else float(le), float(line.split()[-1])))
total = buckets[-1][1]
for name, p in (("rtt_p50_le_ms", .5), ("rtt_p95_le_ms", .95)):
    r[name] = next(le for le, c in buckets if c >= p * total) * 1000
print(f"Redis round trip seen by the gateway: p50 <= {r['rtt_p50_le_ms']} ms, "
      f"p95 <= {r['rtt_p95_le_ms']} ms (histogram bounds)", file=sys.stderr)
print(json.dumps(r))
EOF_PY
