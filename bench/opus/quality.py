"""Distance of decoded speech to its source: log-spectral distance (0-12 kHz)
and segmental SNR over 20 ms speech frames. An objective proxy only: no
perceptual model (PESQ, ViSQOL) is packaged for Debian.
    quality.py SOURCE.wav SECONDS "NAME CPU_SECONDS DECODED.wav"...
Prints one JSON object."""
import json
import sys
import wave

import numpy as np

FRAME = 960  # 20 ms at 48 kHz
WINDOW = np.hanning(1024)
BINS = 257  # 0-12 kHz of a 1024-point FFT at 48 kHz


def samples(path):
    with wave.open(path) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(float)


def frames(x):
    return [x[i * FRAME:i * FRAME + 1024] for i in range(len(x) // FRAME - 2)]


source = samples(sys.argv[1])
audio_seconds = float(sys.argv[2])
ref = frames(source)
energy = np.array([np.sum(f ** 2) for f in ref])
speech = energy > energy.max() * 1e-3
result = {"audio_seconds": round(audio_seconds, 1), "settings": {}}
for row in sys.argv[3:]:
    name, cpu, path = row.split(" ")
    decoded = frames(samples(path)[:len(source)])
    lsd, snr = [], []
    for a, b, is_speech in zip(ref, decoded, speech):
        if not is_speech:
            continue
        fa = np.abs(np.fft.rfft(a * WINDOW))[:BINS] + 1e-3
        fb = np.abs(np.fft.rfft(b * WINDOW))[:BINS] + 1e-3
        lsd.append(np.sqrt(np.mean((20 * np.log10(fa / fb)) ** 2)))
        snr.append(10 * np.log10(np.sum(a ** 2) / max(np.sum((a - b) ** 2), 1e-9)))
    result["settings"][name] = {
        "cpu_seconds": float(cpu),
        "core_percent_per_encoder": round(100 * float(cpu) / audio_seconds, 3),
        "log_spectral_distance_db": round(float(np.mean(lsd)), 2),
        "segmental_snr_db": round(float(np.mean(np.clip(snr, -10, 35))), 1),
    }
print(json.dumps(result))
