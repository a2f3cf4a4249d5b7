#!/usr/bin/python3
"""wav-bursts.py FILE: reads a PCM16 WAV with Python's own wave module (an
independent reader: a file it refuses fails the test) and prints, as JSON,
its format and the stretches of audible sound in it, in ms."""
import array
import json
import math
import sys
import wave

WINDOW_MS = 10
LEVEL = 0.02  # RMS, fraction of full scale, above which a window is sound
MIN_GAP_MS = 60  # shorter quiet stretches do not split a burst

with wave.open(sys.argv[1], "rb") as w:
    rate, channels, width, frames = (w.getframerate(), w.getnchannels(),
                                     w.getsampwidth(), w.getnframes())
    if width != 2:
        sys.exit("not 16-bit PCM")
    pcm = array.array("h", w.readframes(frames))
if sys.byteorder != "little":
    pcm.byteswap()

step = rate * WINDOW_MS // 1000 * channels
bursts = []
for start in range(0, len(pcm) - step + 1, step):
    win = pcm[start:start + step]
    rms = math.sqrt(sum(s * s for s in win) / len(win)) / 32768
    if rms < LEVEL:
        continue
    t = start // step * WINDOW_MS
    if bursts and t - (bursts[-1][0] + bursts[-1][1]) < MIN_GAP_MS:
        bursts[-1][1] = t + WINDOW_MS - bursts[-1][0]
    else:
        bursts.append([t, WINDOW_MS])
print(json.dumps({"rate": rate, "channels": channels, "frames": frames,
                  "duration_ms": frames * 1000 // rate, "bursts": bursts}))
