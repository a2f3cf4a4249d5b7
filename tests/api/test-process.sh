#!/usr/bin/env bash
# The voxgate program as operators meet it: command line, exit codes, logs,
# TLS, graceful shutdown, and /metrics checked by promtool. Prints TAP.
set -uo pipefail

bin=${VOXGATE_BIN:?}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

. "${VOXGATE_SOURCE_DIR:?}/tests/harness/tap.sh"
check() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Starts voxgate in the background; sets $pid and $port; waits for /healthz.
start() {
  port=$(free_port)
  "$bin" serve --port "$port" --data-dir "$work/data" "$@" >"$work/out.log" 2>"$work/err.log" &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 100); do
    curl -skf "${scheme:-http}://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  return 1
}

# --- exit codes and messages -------------------------------------------------
out=$("$bin" serve --port 99999 2>&1); rc=$?
check "bad port exits 2 naming key, value and range" \
  test $rc -eq 2 -a -n "$(grep -F "[server] port: value '99999'" <<<"$out" | grep -F '0 to 65535')"

out=$(VOXGATE_ROOMS_AUTO_CREATE=perhaps "$bin" check-config 2>&1); rc=$?
check "bad environment value exits 2" test $rc -eq 2 -a -n "$(grep -F 'VOXGATE_ROOMS_AUTO_CREATE' <<<"$out")"

printf '[server]\nprot = 9\n' >"$work/typo.ini"
out=$("$bin" check-config --config "$work/typo.ini" 2>&1); rc=$?
check "unknown key warns with the closest key" test $rc -eq 0 -a -n "$(grep -F 'did you mean [server] port?' <<<"$out")"

out=$("$bin" check-config --config "$work/missing.ini" 2>&1); rc=$?
check "missing config file exits 2" test $rc -eq 2

out=$("$bin" serve --listen 0.0.0.0 --port 0 2>&1); rc=$?
check "development credentials refuse a public address" test $rc -eq 2 -a -n "$(grep -F allow_dev_credentials <<<"$out")"

out=$("$bin" frobnicate 2>&1); rc=$?
check "unknown command exits 2" test $rc -eq 2

out=$(VOXGATE_AUTH_API_SECRET=do-not-print-me VOXGATE_STORE_URL='postgresql://u:pw-hidden@db/x' "$bin" check-config 2>&1); rc=$?
check "check-config masks secrets" test $rc -eq 0 -a -z "$(grep -e do-not-print-me -e pw-hidden <<<"$out")" \
  -a -n "$(grep -F 'api_secret = ****' <<<"$out")" -a -n "$(grep -F 'from environment VOXGATE_AUTH_API_SECRET' <<<"$out")"

out=$(VOXGATE_AUTH_API_SECRET=x-real-secret "$bin" check-config --config "$VOXGATE_SOURCE_DIR/deploy/voxgate.example.ini" 2>&1); rc=$?
check "the shipped example configuration is valid" test $rc -eq 0 -a -z "$(grep -i warning <<<"$out")"

tok=$("$bin" token --room demo --identity alice --ttl 60); rc=$?
payload=$(cut -d. -f2 <<<"$tok" | tr '_-' '/+' | base64 -d 2>/dev/null)
check "token command prints a JWT for the room" test $rc -eq 0 -a -n "$(grep -F '"room":"demo"' <<<"$payload")"
out=$("$bin" token --room 'bad room' 2>&1); rc=$?
check "token command validates the room" test $rc -eq 2

# --- serving, logs and metrics -------------------------------------------------
if VOXGATE_LOG_LEVEL=debug start --log-format json; then
  ok "serves on a free port"
  body=$(curl -s "http://127.0.0.1:$port/metrics")
  if promtool_out=$(promtool check metrics <<<"$body" 2>&1); then ok "promtool accepts /metrics"; else not_ok "promtool accepts /metrics" "$promtool_out"; fi
  check "metrics include process series" grep -q '^process_open_fds ' <<<"$body"
  curl -s "http://127.0.0.1:$port/api/getToken?room=a" >/dev/null
  curl -s "http://127.0.0.1:$port/metrics" >"$work/m2"
  if promtool_out=$(promtool check metrics <"$work/m2" 2>&1); then ok "promtool accepts /metrics after traffic"; else not_ok "promtool accepts /metrics after traffic" "$promtool_out"; fi
  check "logs are JSON lines" python3 -c '
import json,sys
lines=[l for l in open(sys.argv[1]) if l.strip()]
assert lines and all(isinstance(json.loads(l),dict) for l in lines)' "$work/err.log"
  curl -s -H 'X-Request-Id: trace-42' "http://127.0.0.1:$port/healthz?access_token=eyJleak.eyJleak.sig" >/dev/null
  sleep 0.1
  check "each request is logged with its request id" grep -q '"request_id":"trace-42"' "$work/err.log"
  check "logs never contain the secret or a token" test -z "$(grep -e '"secret"' -e 'eyJ' "$work/err.log")"

  # Connections that clients close (idle keep-alive ones included) must not
  # leave file descriptors behind: a long-running server would run out.
  # Sockets only: the store opens its database files lazily, at any moment.
  fds_before=$(ls -l /proc/$pid/fd | grep -c socket:)
  python3 - "$port" <<'EOF_PY'
import http.client, socket, sys
port = int(sys.argv[1])
for i in range(300):
    c = http.client.HTTPConnection("127.0.0.1", port)
    c.request("GET", "/healthz")
    c.getresponse().read()
    c.close()
for i in range(50):  # idle keep-alive attempt, then the client goes away
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    s.recv(4096)
    s.close()
EOF_PY
  sleep 0.3
  fds_after=$(ls -l /proc/$pid/fd | grep -c socket:)
  check "350 closed connections leave no fds behind ($fds_before -> $fds_after)" test "$fds_after" -le $((fds_before + 2))

  # A request in flight when SIGTERM arrives still gets its answer.
  python3 - "$port" "$work/inflight.sent" >"$work/inflight.out" 2>&1 <<'EOF_PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
body = b'{"room_name":"late"}'
s.sendall(b"POST /api/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:5])
open(sys.argv[2], "w").close()  # in flight: the shell may send SIGTERM now
time.sleep(0.6)
s.sendall(body[5:])
print(s.recv(65536).decode(errors="replace").split("\r\n")[0])
EOF_PY
  client=$!
  # SIGTERM once the request is in flight (a fixed sleep lost the race to
  # Python's start-up on a loaded machine).
  for _ in $(seq 100); do [ -e "$work/inflight.sent" ] && break; sleep 0.05; done
  kill -TERM "$pid"
  sleep 0.1
  # While the slow request drains, the listening socket is already closed.
  if curl -s -m 1 "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
    not_ok "no new connections while draining"
  else
    ok "no new connections while draining"
  fi
  wait "$client"
  wait "$pid"; rc=$?
  check "SIGTERM lets the in-flight request finish" grep -q "HTTP/1.1 200" "$work/inflight.out"
  check "SIGTERM exits 0" test $rc -eq 0
else
  not_ok "serves on a free port" "$(cat "$work/err.log")"
fi

# --- TLS -------------------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost \
  -keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1
export VOXGATE_SERVER_TLS_CERT="$work/cert.pem" VOXGATE_SERVER_TLS_KEY="$work/key.pem"
if scheme=https start; then
  headers=$(curl -sk -D - -o /dev/null "https://127.0.0.1:$port/healthz")
  check "HTTPS serves with HSTS" grep -qi '^Strict-Transport-Security: max-age=' <<<"$headers"
  url=$(curl -sk "https://127.0.0.1:$port/api/getToken?room=a" | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
  check "public URL says https" test "${url%%:*}" = https
  kill -TERM "$pid"; wait "$pid"
else
  not_ok "HTTPS serves with HSTS" "$(cat "$work/err.log")"
fi
export VOXGATE_SERVER_TLS_KEY=/nonexistent.pem
out=$("$bin" serve --port 0 2>&1); rc=$?
check "unreadable TLS key is a clear error" test $rc -ne 0 -a -n "$(grep -F 'tls_cert/tls_key' <<<"$out")"
unset VOXGATE_SERVER_TLS_CERT VOXGATE_SERVER_TLS_KEY

tap_done
