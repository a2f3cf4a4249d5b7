# shellcheck shell=bash
# Shared by bench/sessions/run.sh and bench/profile.sh (sourced, not run):
# starting the fake Realtime server, the gateway and the load client for one
# pipeline. Expects $src (the source tree), $build and $work; sets $rt,
# $rt_url, $gw, $gw_port and $client (process ids and the port).
# GATEWAY_CPUS (default 0) and CLIENT_CPUS (default 1; the client and the
# fake Realtime server) are taskset CPU lists: on a larger machine, give the
# client more cores (e.g. CLIENT_CPUS=1-3) to drive more sessions.
gateway_cpus=${GATEWAY_CPUS:-0}
gateway_env=() # more VAR=value for the gateway (the profile's valgrind run)
client_cpus=${CLIENT_CPUS:-1}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_realtime NAME: the fake Realtime server beside the client (tutor only).
start_realtime() {
  taskset -c "$client_cpus" "$build/tests/realtime-server/vg-realtime-server" --port 0 \
    --response-ms "${RESPONSE_MS:-1500}" >"$work/rt-$1.url" 2>"$work/rt-$1.log" &
  rt=$!
  for _ in $(seq 50); do [ -s "$work/rt-$1.url" ] && break; sleep 0.1; done
  rt_url=$(head -n 1 "$work/rt-$1.url")
}

# start_gateway KIND NAME [WRAPPER...]: the gateway on its core(s) serving
# KIND.pipeline (loopback|tutor; tutor needs start_realtime first), under
# WRAPPER (e.g. valgrind) when given; waits until it answers.
start_gateway() {
  local kind=$1 name=$2
  shift 2
  gw_port=$(free_port)
  local env=(VOXGATE_AGENT_PIPELINES_DIR="$src/pipelines" VOXGATE_LOG_LEVEL=warning
             VOXGATE_ROOMS_MAX_PARTICIPANTS=0 VOXGATE_AGENT_PIPELINE="$kind.pipeline")
  [ "$kind" = tutor ] && env+=(OPENAI_API_KEY=bench-key VOXGATE_AGENT_REALTIME_URL="$rt_url")
  env+=("${gateway_env[@]}")
  env "${env[@]}" taskset -c "$gateway_cpus" "$@" "$build/voxgate" serve --port "$gw_port" \
    --data-dir "$work/data-$name" >/dev/null 2>"$work/gw-$name.log" &
  gw=$!
  for _ in $(seq 1200); do
    curl -sf "http://127.0.0.1:$gw_port/healthz" >/dev/null && break
    sleep 0.05
  done
  sleep 0.5 # the warm-up (plugins, DTLS certificate) runs off the main thread
}

# start_client KIND NAME N SECONDS [ARGS...]: the load client on its core(s), N
# peers in rooms of their own, staying SECONDS after all joined.
start_client() {
  local kind=$1 name=$2 n=$3 seconds=$4
  shift 4
  local args=(--tone 440)
  if [ "$kind" = tutor ]; then
    args+=(--turns "${TURNS:-1500:3000}" --turn-delay-ms 1000)
  fi
  taskset -c "$client_cpus" "$build/tests/rooms/vg-test-client" --url "http://127.0.0.1:$gw_port" \
    --room "bench-$kind" --room-per-peer --peers "$n" --ramp-ms "${RAMP_MS:-30}" \
    --api-key devkey --api-secret secret --preencoded --duration "$seconds" "${args[@]}" "$@" \
    >"$work/client-$name.json" 2>"$work/client-$name.log" &
  client=$!
}

# wait_joined NAME TIMEOUT_S: 0 once the client reported all its peers joined.
wait_joined() {
  local deadline=$((SECONDS + $2))
  while [ $SECONDS -lt $deadline ]; do
    grep -q "joined:" "$work/client-$1.log" 2>/dev/null && return 0
    kill -0 "$client" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}

# stop_all: reaps the client, then stops the gateway and the fake server.
stop_all() {
  [ -n "${client:-}" ] && wait "$client" 2>/dev/null
  client=""
  [ -n "${gw:-}" ] && { kill -TERM "$gw" 2>/dev/null; wait "$gw" 2>/dev/null; }
  gw=""
  [ -n "${rt:-}" ] && { kill -TERM "$rt" 2>/dev/null; wait "$rt" 2>/dev/null; }
  rt=""
}

# cpu_count LIST: how many CPUs a taskset list names ("1", "1-3", "1,3").
cpu_count() {
  python3 -c '
import sys
n = 0
for part in sys.argv[1].split(","):
    a, _, b = part.partition("-")
    n += int(b or a) - int(a) + 1
print(n)' "$1"
}
