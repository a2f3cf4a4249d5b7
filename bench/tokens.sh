#!/usr/bin/env bash
# Token endpoint throughput, voxgate beside its FastAPI + uvicorn + PyJWT
# equivalent (bench/tokens/fastapi_app.py), in one run: both servers pinned to
# CPU 0 (each idle while the other is measured), wrk pinned to CPU 1, the same
# `wrk -t2 -c32` with keep-alive (wrk's default) against the same
# `GET /api/getToken`, the rate limit lifted. The pairs alternate which side
# goes first, so that a change in the machine's load falls on both; the ratio
# of each pair is what counts. Also checks that keep-alive is in effect
# (connections accepted per run) and that the gateway's memory does not grow
# over the run's requests. Prints one JSON object on its last line.
#   bench/tokens.sh BUILD_DIR [SECONDS] [PAIRS]
set -euo pipefail
build=${1:-build}
secs=${2:-10}
pairs=${3:-3}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
py_port=$(free_port)
path="/api/getToken?room=bench&name=bench"

VOXGATE_RATE_LIMIT_TOKEN_PER_MINUTE=0 VOXGATE_LOG_LEVEL=warning \
  taskset -c 0 "$build/voxgate" serve --port "$port" --data-dir "$work" >/dev/null 2>&1 &
pid=$!
py_pid=
# Debian's python3 (the one with python3-fastapi and python3-uvicorn).
if /usr/bin/python3 -c 'import fastapi, uvicorn, jwt' 2>/dev/null; then
  # One worker, uvicorn's default HTTP implementation and event loop (h11 and
  # asyncio unless httptools/uvloop are installed), no access log (the
  # gateway logs no request at level warning either).
  (cd "$work" && exec taskset -c 0 /usr/bin/python3 -m uvicorn --app-dir "$here/tokens" fastapi_app:app \
    --host 127.0.0.1 --port "$py_port" --workers 1 --log-level warning --no-access-log) >"$work/uvicorn.log" 2>&1 &
  py_pid=$!
else
  echo "FastAPI side skipped: python3-fastapi / python3-uvicorn missing (tools/install-deps.sh bench)" >&2
fi
trap 'kill $pid $py_pid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.05; done
if [ -n "$py_pid" ]; then
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$py_port/healthz" >/dev/null && break; sleep 0.05; done
  /usr/bin/python3 -c 'import uvicorn, fastapi, jwt; print(f"uvicorn {uvicorn.__version__}, fastapi {fastapi.__version__}, PyJWT {jwt.__version__}")' >&2
fi

run() { # port -> wrk output
  taskset -c 1 wrk -t2 -c32 -d"${secs}s" --latency "http://127.0.0.1:$1$path" 2>&1
}
to_ms() { # wrk latency like 97.00us / 2.24ms / 1.01s -> milliseconds
  python3 -c 'import sys,re; v=sys.argv[1]; m=re.match(r"([\d.]+)(us|ms|s)$",v); f={"us":1e-3,"ms":1,"s":1e3}[m.group(2)]; print(round(float(m.group(1))*f,3))' "$1"
}
metric() { curl -s "http://127.0.0.1:$port/metrics" | awk -v n="$1" '$1==n {print $2}'; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # user + system, in clock ticks
# CPU time the server spent per answered request (µs): unlike requests/s, it
# does not depend on how much of core 0 the machine's other work leaves.
cpu_us_per_req() { # ticks_before ticks_after wrk_output
  python3 -c 'import sys,os,re; t=(int(sys.argv[2])-int(sys.argv[1]))/os.sysconf("SC_CLK_TCK"); n=int(re.search(r"(\d+) requests in", sys.argv[3]).group(1)); print(round(t/n*1e6, 1))' "$1" "$2" "$3"
}
# How busy the server kept core 0 during the run (%): well under 100 means
# the server was waiting for wrk (or the machine), and requests/s says more
# about the client's share of core 1 than about the server.
busy_pct() { # ticks_before ticks_after
  python3 -c 'import sys,os; print(round((int(sys.argv[2])-int(sys.argv[1]))/os.sysconf("SC_CLK_TCK")/float(sys.argv[3])*100))' "$1" "$2" "$secs"
}

# Warm-up (the first requests fault in pages and fill caches), then the
# gateway's memory is taken as the baseline.
taskset -c 1 wrk -t2 -c32 -d2s "http://127.0.0.1:$port$path" >/dev/null 2>&1
[ -n "$py_pid" ] && taskset -c 1 wrk -t2 -c32 -d2s "http://127.0.0.1:$py_port$path" >/dev/null 2>&1
rss_start=$(rss_kb)
served_start=$(metric 'voxgate_http_requests_total{route="/api/getToken",method="GET",code="200"}')

vg_rps=() vg_p99=() py_rps=() py_p99=() ratios=() conns=() vg_cpu=() py_cpu=() cpu_ratios=() vg_busy=() py_busy=()
measure_vg() {
  local before out t0
  before=$(metric voxgate_http_connections_accepted_total)
  t0=$(cpu_ticks "$pid")
  out=$(run "$port")
  t1=$(cpu_ticks "$pid")
  vg_cpu+=("$(cpu_us_per_req "$t0" "$t1" "$out")")
  vg_busy+=("$(busy_pct "$t0" "$t1")")
  vg_rps+=("$(awk '/Requests\/sec/ {print $2}' <<<"$out")")
  vg_p99+=("$(to_ms "$(awk '$1=="99%" {print $2}' <<<"$out")")")
  # The metrics read itself is one connection.
  conns+=("$(python3 -c 'import sys; print(int(float(sys.argv[2]) - float(sys.argv[1]) - 1))' "$before" "$(metric voxgate_http_connections_accepted_total)")")
}
measure_py() {
  local out t0
  t0=$(cpu_ticks "$py_pid")
  out=$(run "$py_port")
  t1=$(cpu_ticks "$py_pid")
  py_cpu+=("$(cpu_us_per_req "$t0" "$t1" "$out")")
  py_busy+=("$(busy_pct "$t0" "$t1")")
  py_rps+=("$(awk '/Requests\/sec/ {print $2}' <<<"$out")")
  py_p99+=("$(to_ms "$(awk '$1=="99%" {print $2}' <<<"$out")")")
}
for i in $(seq "$pairs"); do
  if [ -z "$py_pid" ]; then
    measure_vg
  elif [ $((i % 2)) -eq 1 ]; then
    measure_vg
    measure_py
  else
    measure_py
    measure_vg
  fi
  if [ -n "$py_pid" ]; then
    ratios+=("$(python3 -c 'import sys; print(round(float(sys.argv[1]) / float(sys.argv[2]), 2))' "${vg_rps[-1]}" "${py_rps[-1]}")")
    cpu_ratios+=("$(python3 -c 'import sys; print(round(float(sys.argv[2]) / float(sys.argv[1]), 2))' "${vg_cpu[-1]}" "${py_cpu[-1]}")")
    echo "pair $i: voxgate ${vg_rps[-1]} req/s p99 ${vg_p99[-1]} ms ${vg_cpu[-1]} µs CPU/req, core ${vg_busy[-1]} % busy (${conns[-1]} connections) | FastAPI ${py_rps[-1]} req/s p99 ${py_p99[-1]} ms ${py_cpu[-1]} µs CPU/req, core ${py_busy[-1]} % busy | ratio ${ratios[-1]} (CPU per request ${cpu_ratios[-1]})" >&2
  else
    echo "run $i: voxgate ${vg_rps[-1]} req/s p99 ${vg_p99[-1]} ms ${vg_cpu[-1]} µs CPU/req (${conns[-1]} connections)" >&2
  fi
done
rss_end=$(rss_kb)
served_end=$(metric 'voxgate_http_requests_total{route="/api/getToken",method="GET",code="200"}')
served=$(python3 -c 'import sys; print(int(float(sys.argv[2]) - float(sys.argv[1])))' "$served_start" "$served_end")
echo "gateway RSS ${rss_start} kB after warm-up, ${rss_end} kB after ${served} more tokens" >&2

json_list() { local IFS=,; echo "[$*]"; }
python3 - "$secs" "$(json_list "${vg_rps[@]}")" "$(json_list "${vg_p99[@]}")" "$(json_list "${py_rps[@]:-}")" \
  "$(json_list "${py_p99[@]:-}")" "$(json_list "${ratios[@]:-}")" "$(json_list "${conns[@]}")" \
  "$rss_start" "$rss_end" "$served" "$(json_list "${vg_cpu[@]}")" "$(json_list "${py_cpu[@]:-}")" \
  "$(json_list "${cpu_ratios[@]:-}")" "$(json_list "${vg_busy[@]}")" "$(json_list "${py_busy[@]:-}")" <<'EOF'
import json, statistics, sys
secs, vg_rps, vg_p99, py_rps, py_p99, ratios, conns = (json.loads(a) for a in sys.argv[1:8])
rss_start, rss_end, served = (int(a) for a in sys.argv[8:11])
vg_cpu, py_cpu, cpu_ratios, vg_busy, py_busy = (json.loads(a) for a in sys.argv[11:16])
med = lambda v: statistics.median(v) if v else None
def side(rps, p99, cpu, busy):
    return {"rps": rps, "p99_ms": p99, "cpu_us_per_req": cpu, "core_busy_pct": busy, "rps_median": med(rps),
            "p99_ms_median": med(p99), "cpu_us_per_req_median": med(cpu)}
print(json.dumps({"path": "GET /api/getToken", "wrk": "-t2 -c32", "seconds": secs,
                  "voxgate": side(vg_rps, vg_p99, vg_cpu, vg_busy),
                  "fastapi": side(py_rps, py_p99, py_cpu, py_busy) if py_rps else None,
                  "ratio": ratios or None, "ratio_median": med(ratios),
                  "cpu_ratio": cpu_ratios or None, "cpu_ratio_median": med(cpu_ratios),
                  "connections_per_run": conns, "rss_kb_start": rss_start, "rss_kb_end": rss_end,
                  "requests_between": served, "gateway_cpu": 0, "wrk_cpu": 1}))
EOF
