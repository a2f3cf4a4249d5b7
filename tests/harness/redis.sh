#!/usr/bin/env bash
# A throwaway redis-server for shell tests and benchmarks, in a directory of
# its own, on a free loopback port (kept across stop/start in DIR/port).
#
#   tests/harness/redis.sh start DIR    starts it (daemonized), waits until it
#                                       answers, prints its URL on stdout
#   tests/harness/redis.sh stop DIR     stops it and waits for it to exit
#   tests/harness/redis.sh destroy DIR  stops it and removes DIR
#   tests/harness/redis.sh url DIR      prints the URL
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|destroy|url DIR" >&2; exit 2; }
command -v redis-server >/dev/null || { echo "redis.sh: no redis-server (tools/install-deps.sh test)" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
url() { echo "redis://127.0.0.1:$(cat "$dir/port")/0"; }
answers() { [ "$(redis-cli -p "$(cat "$dir/port")" PING 2>/dev/null)" = PONG ]; }

stop() {
  [ -f "$dir/redis.pid" ] || return 0
  local pid
  pid=$(cat "$dir/redis.pid")
  kill -CONT "$pid" 2>/dev/null || true
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  rm -f "$dir/redis.pid"
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ -f "$dir/port" ] || free_port >"$dir/port"
    redis-server --port "$(cat "$dir/port")" --bind 127.0.0.1 --save "" --appendonly no \
      --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null
    for _ in $(seq 200); do answers && break; sleep 0.05; done
    answers || { tail -20 "$dir/redis.log" >&2; exit 1; }
    url
    ;;
  stop) stop ;;
  destroy) stop; rm -rf "$dir" ;;
  url) url ;;
  *) echo "usage: $0 start|stop|destroy|url DIR" >&2; exit 2 ;;
esac
