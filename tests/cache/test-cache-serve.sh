#!/usr/bin/env bash
# voxgate serve with [cache] url on a real redis-server (tests/harness/redis.sh):
# two nodes share one rate-limit budget; Redis stopped and restarted while a
# node serves (local fallback, /readyz names cache, back to shared); Redis
# unreachable at start. TAP output.
set -uo pipefail
src=${VOXGATE_SOURCE_DIR:?}
bin=${VOXGATE_BIN:?}
. "$src/tests/harness/tap.sh"
check() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}" ${hole:-}; do kill -TERM "$p" 2>/dev/null; done
  wait 2>/dev/null
  "$src/tests/harness/redis.sh" destroy "$work/redis" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start NAME URL: a node with its own data dir and logs; sets port_NAME, pid_NAME.
start() {
  local name=$1 url=$2 port
  port=$(free_port)
  VOXGATE_CACHE_URL="$url" VOXGATE_RATE_LIMIT_TOKEN_PER_MINUTE=10 VOXGATE_CACHE_TIMEOUT_MS=300 \
    "$bin" serve --port "$port" --data-dir "$work/$name" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  printf -v "pid_$name" %s $!
  printf -v "port_$name" %s "$port"
  # Up to 30 s: an ASan build on a loaded machine starts slowly.
  for _ in $(seq 600); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  return 1
}
status() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1$2"; }
# wait_status PORT PATH CODE: up to 10 s.
wait_status() {
  for _ in $(seq 200); do [ "$(status "$1" "$2")" = "$3" ] && return 0; sleep 0.05; done
  return 1
}
metric() { curl -s "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m { print $2 }'; }

redis_url=$("$src/tests/harness/redis.sh" start "$work/redis") || { not_ok "redis-server starts"; tap_done; exit; }

# --- two nodes, one budget ----------------------------------------------------
check "node a serves with Redis" start a "$redis_url"
check "node b serves with Redis" start b "$redis_url"
check "readyz is ready with Redis up" wait_status "$port_a" /readyz 200
codes=""
for i in $(seq 20); do
  port=$port_a; [ $((i % 2)) = 0 ] && port=$port_b
  codes+="$(status "$port" "/api/getToken?room=r$i") "
done
allowed=$(grep -o 200 <<<"$codes" | wc -l)
limited=$(grep -o 429 <<<"$codes" | wc -l)
check "10 per minute across two nodes means 10 ($allowed allowed, $limited refused)" \
  test "$allowed" -eq 10 -a "$limited" -eq 10
check "a refusal carries Retry-After" \
  grep -qi '^Retry-After: [1-9]' <(curl -s -D - -o /dev/null "http://127.0.0.1:$port_b/api/getToken?room=x")
check "metrics: voxgate_redis_up 1" test "$(metric "$port_a" voxgate_redis_up)" = 1
ok_cmds=$(metric "$port_a" 'voxgate_redis_commands_total{result="ok"}')
check "metrics: Redis commands counted ($ok_cmds ok)" test "${ok_cmds:-0}" -ge 10

# --- Redis stops while the nodes serve ----------------------------------------
"$src/tests/harness/redis.sh" stop "$work/redis"
check "readyz names cache when Redis is down" wait_status "$port_a" /readyz 503
check "readyz body lists cache" grep -q '"cache"' <(curl -s "http://127.0.0.1:$port_a/readyz")
# The local limiter answers: a fresh budget of 10 on this node.
codes=""
for i in $(seq 12); do codes+="$(status "$port_a" "/api/getToken?room=d$i") "; done
check "requests are answered from the local limiter (10 of 12 allowed: $codes)" \
  test "$(grep -o 200 <<<"$codes" | wc -l)" -eq 10
fallback=$(metric "$port_a" voxgate_rate_limit_fallback_total)
check "metrics: fallback counted ($fallback)" test "${fallback:-0}" -ge 12
check "metrics: voxgate_rate_limit_shared 0" test "$(metric "$port_a" voxgate_rate_limit_shared)" = 0
check "metrics: voxgate_redis_up 0" test "$(metric "$port_a" voxgate_redis_up)" = 0
logged=$(grep -c "counting in this process" "$work/a.err")
check "the fallback is logged once, not per request ($logged)" test "$logged" -eq 1

# --- Redis returns -------------------------------------------------------------
"$src/tests/harness/redis.sh" start "$work/redis" >/dev/null
check "readyz is ready again once Redis returns" wait_status "$port_a" /readyz 200
status "$port_a" "/api/getToken?room=back" >/dev/null
check "rate limits are shared again (logged)" grep -q "counting in Redis again" "$work/a.err"
check "metrics: voxgate_rate_limit_shared 1" test "$(metric "$port_a" voxgate_rate_limit_shared)" = 1
check "node a still alive" kill -0 "$pid_a"
check "node b still alive" kill -0 "$pid_b"
check "no criticals in the logs" test -z "$(grep -e CRITICAL "$work/a.err" "$work/b.err")"

# --- Redis hangs (SIGSTOP: connection open, no answers) ----------------------------
check "node b is connected again too" wait_status "$port_b" /readyz 200
redis_pid=$(cat "$work/redis/redis.pid")
kill -STOP "$redis_pid"
for _ in $(seq 100); do [ "$(awk '{ print $3 }' "/proc/$redis_pid/stat")" = T ] && break; sleep 0.01; done
curl -s -o "$work/slow.out" -w '%{http_code} %{time_total}' "http://127.0.0.1:$port_b/api/getToken?room=slow" \
  >"$work/slow.code" &
slow=$!
sleep 0.05
hz=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "http://127.0.0.1:$port_b/healthz")
check "the main loop is not blocked while a hit waits on Redis (healthz: $hz)" \
  awk '$1 == 200 && $2 < 0.2 { ok = 1 } END { exit !ok }' <<<"$hz"
wait "$slow"
check "the waiting request is answered after the 300 ms timeout ($(cat "$work/slow.code"))" \
  awk '$1 == 200 && $2 >= 0.2 && $2 < 2 { ok = 1 } END { exit !ok }' "$work/slow.code"
check "readyz names cache while Redis hangs" wait_status "$port_b" /readyz 503
kill -CONT "$redis_pid"
check "readyz is ready once Redis answers again" wait_status "$port_b" /readyz 200

# --- Redis unreachable at start ------------------------------------------------
# A "Redis" that accepts connections and never answers (a hung server, or a
# black hole behind a proxy): the client gives up after timeout_ms, again and
# again, without holding the loop.
hole_port=$(free_port)
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)' "$hole_port" &
hole=$!
check "a node starts with Redis not answering" start c "redis://127.0.0.1:$hole_port/0"
hz=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "http://127.0.0.1:$port_c/healthz")
check "it answers at once while Redis connects ($hz)" \
  awk '$1 == 200 && $2 < 0.5 { ok = 1 } END { exit !ok }' <<<"$hz"
check "it issues tokens (local limits)" test "$(status "$port_c" "/api/getToken?room=c")" = 200
check "its readyz names cache" grep -q '"cache"' <(curl -s "http://127.0.0.1:$port_c/readyz")
# wait_body PORT PATH TEXT: up to 10 s until the body holds TEXT.
wait_body() {
  for _ in $(seq 200); do curl -s "http://127.0.0.1:$1$2" | grep -q "$3" && return 0; sleep 0.05; done
  return 1
}
check "its health says why (after the first attempt)" wait_body "$port_c" /api/health 'connect timeout'
kill "$hole"
dead_port=$(free_port)
check "a node starts with Redis refusing connections" start d "redis://127.0.0.1:$dead_port/0"
check "its readyz names cache" grep -q '"cache"' <(curl -s "http://127.0.0.1:$port_d/readyz")
check "its health says why" wait_body "$port_d" /api/health refused

# --- configuration ---------------------------------------------------------------
out=$(VOXGATE_CACHE_URL=rediss://h:6380 "$bin" check-config 2>&1); rc=$?
check "rediss:// is refused (no TLS in hiredis 0.14)" test $rc -eq 2 -a -n "$(grep -F TLS <<<"$out")"
out=$(VOXGATE_CACHE_URL='redis://127.0.0.1:6379/zero' "$bin" serve --port 0 --data-dir "$work/e" 2>&1); rc=$?
check "a bad database in the URL exits 2 naming the key" test $rc -eq 2 -a -n "$(grep -F '[cache] url' <<<"$out")"
out=$(VOXGATE_CACHE_URL='redis://:hunter2@127.0.0.1:1/0' "$bin" check-config 2>&1)
check "check-config masks the cache password" test -z "$(grep -F hunter2 <<<"$out")"

# --- clean stop -------------------------------------------------------------------
for name in a b c d; do
  pid_var=pid_$name
  kill -TERM "${!pid_var}"
  wait "${!pid_var}"
  rc=$?
  check "node $name exits 0 on SIGTERM" test $rc -eq 0
done
pids=()
tap_done
