#!/usr/bin/env bash
# Recording under `voxgate serve` ([recording] enabled): kill -9 of the
# gateway mid-recording leaves a .part file that plays up to within ~1 s of
# the kill (checked with opusinfo and opusdec, not with our code); and with a
# full disk (a 64 KiB tmpfs, in a private mount namespace when run as root)
# the recording fails alone: the session goes on and the metric counts it.
# TAP.
set -uo pipefail

bin=${VOXGATE_BIN:?}
client=${1:?usage: test-recording-crash.sh path/to/vg-test-client}
src=${VOXGATE_SOURCE_DIR:?}
work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

. "$src/tests/harness/tap.sh"

if ! command -v opusinfo >/dev/null || ! command -v opusdec >/dev/null; then
  echo "1..0 # SKIP opus-tools is not installed (tools/install-deps.sh test)"
  exit 0
fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_healthy() {
  for _ in $(seq 200); do
    curl -sf "http://127.0.0.1:$1/healthz" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  return 1
}
# Seconds (float) since the epoch.
now() { date +%s.%N; }

# ---- kill -9 mid-recording ----
port=$(free_port)
mkdir -p "$work/rec"
VOXGATE_AGENT_PIPELINE=loopback.pipeline VOXGATE_AGENT_PIPELINES_DIR="$src/pipelines" \
  VOXGATE_RECORDING_ENABLED=true VOXGATE_RECORDING_DIR="$work/rec" \
  "$bin" serve --port "$port" --data-dir "$work/data" >"$work/out.log" 2>"$work/err.log" &
pid=$!
wait_healthy "$port" || not_ok "the gateway starts" "$(tail -5 "$work/err.log")"

"$client" --url "http://127.0.0.1:$port" --room crash --api-key devkey --api-secret secret \
  --tone 440 --duration 20 >"$work/client.out" 2>"$work/client.err" &
cpid=$!
part=
for _ in $(seq 200); do
  part=$(ls "$work"/rec/crash-*.ogg.part 2>/dev/null | head -1)
  [ -n "$part" ] && break
  sleep 0.05
done
started=$(now)
# Until the peer is connected its tone is not in the room: wait for that
# (slow under ASan or load), then record 3 s of it.
for _ in $(seq 600); do
  curl -sf "http://127.0.0.1:$port/metrics" | grep -q '^voxgate_webrtc_connect_seconds_count 1' && break
  sleep 0.05
done
sleep 3
# The last write before the kill: the file as it is then, and the time.
killed=$(now)
kill -9 "$pid"
wait "$pid" 2>/dev/null
pid=
kill "$cpid" 2>/dev/null
wait "$cpid" 2>/dev/null

if [ -n "$part" ] && [ -s "$part" ]; then
  info=$(opusinfo "$part" 2>&1)
  echo "$info" | sed 's/^/# /'
  length=$(sed -n 's/.*Playback length: \([0-9]*\)m:\([0-9.]*\)s.*/\1 \2/p' <<<"$info" \
    | awk '{print $1*60+$2}')
  elapsed=$(awk -v a="$started" -v b="$killed" 'BEGIN{print b-a}')
  echo "# recorded for ${elapsed}s before kill -9; the file plays ${length}s"
  # The file starts when the room's audio first reached the recorder, at
  # most a few 100 ms after the .part appeared: within 1.5 s of the kill.
  if ! grep -q ERROR <<<"$info" && grep -q "Channels: 2" <<<"$info" \
    && awk -v l="$length" -v e="$elapsed" 'BEGIN{exit !(l >= e - 1.5 && l <= e + 0.5)}'; then
    ok "after kill -9 the .part plays up to within ~1 s of the kill"
  else
    not_ok "after kill -9 the .part plays up to within ~1 s of the kill" "length $length, elapsed $elapsed"
  fi
  # opusdec decodes it; the last second before the kill holds the tone.
  if opusdec --quiet --rate 48000 "$part" "$work/crash.wav" 2>"$work/dec.err" \
    && /usr/bin/python3 - "$work/crash.wav" <<'PY'
import array, sys, wave
w = wave.open(sys.argv[1])
assert w.getnchannels() == 2, w.getnchannels()
frames = w.getnframes()
w.setpos(max(frames - 48000, 0))
a = array.array("h", w.readframes(48000))
left = a[0::2]
rms = (sum(x * x for x in left) / max(len(left), 1)) ** 0.5 / 32768
print("# last second before the kill: left rms %.3f" % rms)
sys.exit(0 if rms > 0.05 else 1)
PY
  then
    ok "opusdec decodes the killed recording and its last second holds the tone"
  else
    not_ok "opusdec decodes the killed recording and its last second holds the tone" \
      "$(cat "$work/dec.err")"
  fi
else
  not_ok "after kill -9 the .part plays up to within ~1 s of the kill" "no .part file"
  not_ok "opusdec decodes the killed recording and its last second holds the tone"
fi

# ---- a full disk ----
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
  echo "ok 3 # SKIP full disk: needs root for a tmpfs in a private mount namespace (see test-rooms-recording's write-error case)"
  n=3
else
  port=$(free_port)
  mkdir -p "$work/full"
  # Only this gateway sees the 64 KiB tmpfs (a private mount namespace).
  unshare --mount --propagation private sh -c \
    'mount -t tmpfs -o size=64k voxgate-test "$0" && exec "$@"' "$work/full" \
    env VOXGATE_AGENT_PIPELINE=loopback.pipeline VOXGATE_AGENT_PIPELINES_DIR="$src/pipelines" \
    VOXGATE_RECORDING_ENABLED=true VOXGATE_RECORDING_DIR="$work/full" \
    "$bin" serve --port "$port" --data-dir "$work/data2" >"$work/out2.log" 2>"$work/err2.log" &
  pid=$!
  wait_healthy "$port" || not_ok "the gateway starts on a full disk" "$(tail -5 "$work/err2.log")"
  # 64 KiB hold about 10 s of the composite; the session lasts 16 s.
  out=$("$client" --url "http://127.0.0.1:$port" --room full --api-key devkey --api-secret secret \
    --tone 440 --duration 16 2>"$work/client2.err")
  echo "# client: $out"
  metrics=$(curl -sf "http://127.0.0.1:$port/metrics")
  grep '^voxgate_recording' <<<"$metrics" | sed 's/^/# /'
  if grep -q '"connected":1,"heard_tone":1' <<<"$out" \
    && grep -q '^voxgate_recordings_total{kind="room_composite",status="failed"} 1' <<<"$metrics" \
    && grep -q 'recording .* of full failed: .*No space left' "$work/err2.log"; then
    ok "a full disk fails the recording alone: the session hears its tone to the end"
  else
    not_ok "a full disk fails the recording alone: the session hears its tone to the end" \
      "$(grep -i record "$work/err2.log" | tail -5)"
  fi
  kill -TERM "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  if ! kill -0 "$pid" 2>/dev/null; then
    pid=
    ok "the gateway stops cleanly after the failed recording"
  else
    not_ok "the gateway stops cleanly after the failed recording"
  fi
fi
tap_done
