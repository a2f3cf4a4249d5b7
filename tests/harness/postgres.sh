#!/usr/bin/env bash
# A throwaway PostgreSQL 15 for tests and benchmarks, in a directory of its own,
# on a free loopback port, with its unix socket in that directory.
#
#   tests/harness/postgres.sh start DIR   initialises DIR on first use, starts the
#                                         server, prints its URL on stdout
#   tests/harness/postgres.sh stop DIR    stops it (DIR kept: start again later)
#   tests/harness/postgres.sh destroy DIR stops it and removes DIR
#   tests/harness/postgres.sh url DIR     prints the URL
#
# initdb refuses to run as root, so as root the server runs as the "postgres"
# system user (runuser) and DIR is handed to that user. PG_FSYNC=on keeps
# durability (benchmarks); tests default to off for speed.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|destroy|url DIR" >&2; exit 2; }

bindir=${PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$bindir/initdb" ] || { echo "postgres.sh: no PostgreSQL server binaries (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

url() {
  echo "postgresql://postgres@127.0.0.1:$(cat "$dir/port")/voxgate"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres: "$dir"
      runuser -u postgres -- test -x "$dir" \
        || { echo "postgres.sh: the postgres user cannot reach $dir (make its parents world-executable)" >&2; exit 1; }
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale -N >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
      free_port >"$dir/port"
      fresh=1
    fi
    port=$(cat "$dir/port")
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=${PG_FSYNC:-off} -c max_connections=50" \
      start >/dev/null || { tail -20 "$dir/server.log" >&2; exit 1; }
    if [ "${fresh:-0}" = 1 ]; then
      as_owner "$bindir/createdb" -h "$dir" -p "$port" -U postgres voxgate
    fi
    url
    ;;
  stop)
    [ -f "$dir/data/PG_VERSION" ] || exit 0
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
    ;;
  destroy)
    if [ -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  url)
    url
    ;;
  *)
    echo "usage: $0 start|stop|destroy|url DIR" >&2
    exit 2
    ;;
esac
