#!/usr/bin/env bash
# Out of file descriptors (issue 15): with RLIMIT_NOFILE at 64 and 150
# connections held open, voxgate must not spin on accept() nor flood its log,
# and /healthz must answer again once the connections close. Prints TAP.
set -uo pipefail

bin=${VOXGATE_BIN:?}
work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

. "${VOXGATE_SOURCE_DIR:?}/tests/harness/tap.sh"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(ulimit -n 64 && exec "$bin" serve --port "$port" --data-dir "$work/data") >"$work/out.log" 2>"$work/err.log" &
pid=$!
up=no
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && { up=yes; break; }
  sleep 0.05
done
if [ "$up" = yes ]; then ok "serves with 64 file descriptors"; else not_ok "serves with 64 file descriptors"; fi

# Holds 150 connections (more than the fd limit), measures the server's CPU
# and log over 3 s, closes them and times the first /healthz that answers.
python3 - "$port" "$pid" "$work/err.log" >"$work/measure" <<'PY'
import os, socket, sys, time, urllib.request
port, pid, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def cpu():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
def lines():
    return sum(1 for _ in open(log, errors="replace"))
conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(150)]
time.sleep(0.5)
c0, l0, t0 = cpu(), lines(), time.time()
time.sleep(3)
print(f"cpu {(cpu() - c0) / (time.time() - t0):.3f}")
print(f"log_lines {lines() - l0}")
for s in conns:
    s.close()
t = time.time()
while time.time() - t < 10:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
            if r.status == 200:
                print(f"health_after {time.time() - t:.2f}")
                break
    except Exception:
        time.sleep(0.05)
PY
cat "$work/measure" | sed 's/^/# /'
cpu=$(awk '/^cpu /{print $2}' "$work/measure")
lines=$(awk '/^log_lines /{print $2}' "$work/measure")
health=$(awk '/^health_after /{print $2}' "$work/measure")
accept_lines=$(grep -c 'accept' "$work/err.log")

check() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name" "$(tail -3 "$work/err.log")"; fi; }
check "CPU stays below 0.2 core while out of fds (was 1.0)" awk -v c="${cpu:-9}" 'BEGIN{exit !(c < 0.2)}'
# Other components may each report the shortage once (GStreamer, the store).
check "at most 30 log lines in 3 s out of fds (was ~117 000)" test "${lines:-999999}" -le 30
check "accept failures are reported, rate-limited" test "$accept_lines" -ge 1 -a "$accept_lines" -le 3
check "/healthz answers within 3 s once the connections close" awk -v h="${health:-99}" 'BEGIN{exit !(h < 3)}'
check "the server is still running" kill -0 "$pid"
tap_done
