#!/usr/bin/env bash
# The Opus encoder settings toward participants, compared: CPU to encode
# 200 s of synthetic speech (espeak-ng, 48 kHz mono) and the decoded audio's
# distance to the source. Prints one JSON object on its last line.
#   bench/opus/run.sh [BUILD_DIR]   (the build directory is not used)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

espeak-ng -w "$work/voice.wav" "Good afternoon. Today we are going to look at fractions, and how to \
add two fractions that have different denominators. First, find a common multiple of the two \
denominators. Then rewrite each fraction so that it uses that common denominator. Finally, add the \
numerators and simplify the result if you can. Let us try one together: one third plus one quarter. \
What is the smallest number that both three and four divide into?"
gst-launch-1.0 -q filesrc location="$work/voice.wav" ! wavparse ! audioconvert ! audioresample \
  ! audio/x-raw,format=S16LE,rate=48000,channels=1 ! wavenc ! filesink location="$work/speech.wav"
sox "$work/speech.wav" "$work/long.wav" repeat 7 # ~200 s: CPU times well above timer resolution
seconds=$(soxi -D "$work/long.wav")

# name|opusenc properties (the first is what the gateway uses: participant-media.c)
settings=(
  "celt-40k-c5|audio-type=restricted-lowdelay bitrate=40000 complexity=5"
  "celt-40k-c10|audio-type=restricted-lowdelay bitrate=40000 complexity=10"
  "celt-32k-c5|audio-type=restricted-lowdelay bitrate=32000 complexity=5"
  "voice-32k-fec-c5|audio-type=voice bitrate=32000 inband-fec=true packet-loss-percentage=10 complexity=5"
  "voice-32k-fec-c10|audio-type=voice bitrate=32000 inband-fec=true packet-loss-percentage=10 complexity=10"
)
rows=()
for entry in "${settings[@]}"; do
  name=${entry%%|*}
  props=${entry#*|}
  # shellcheck disable=SC2086 # props is a list of properties
  cpu=$( { /usr/bin/time -f "%U %S" gst-launch-1.0 -q filesrc location="$work/long.wav" ! wavparse \
    ! opusenc $props ! fakesink >/dev/null; } 2>&1 | tail -n 1 | awk '{print $1 + $2}')
  # shellcheck disable=SC2086
  gst-launch-1.0 -q filesrc location="$work/speech.wav" ! wavparse ! opusenc $props ! opusdec \
    ! audio/x-raw,format=S16LE,rate=48000,channels=1 ! wavenc ! filesink location="$work/$name.wav"
  rows+=("$name $cpu $work/$name.wav")
done
# Debian's interpreter: python3-numpy is installed for it (tools/install-deps.sh bench).
py=/usr/bin/python3
[ -x "$py" ] || py=python3
"$py" "$here/quality.py" "$work/speech.wav" "$seconds" "${rows[@]}"
