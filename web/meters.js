// Level meters for a MediaStream, from a Web Audio AnalyserNode.

export class LevelMeter {
  constructor(audioContext, stream, meterElement) {
    this.analyser = audioContext.createAnalyser();
    this.analyser.fftSize = 512;
    this.samples = new Float32Array(this.analyser.fftSize);
    this.source = audioContext.createMediaStreamSource(stream);
    this.source.connect(this.analyser);
    this.element = meterElement;
    this.level = 0;
  }

  // RMS of the latest window, scaled so speech fills most of the bar.
  update() {
    this.analyser.getFloatTimeDomainData(this.samples);
    let sum = 0;
    for (const s of this.samples) sum += s * s;
    const rms = Math.sqrt(sum / this.samples.length);
    this.level = Math.max(rms * 4, this.level * 0.85);
    this.element.value = Math.min(1, this.level);
    return rms;
  }

  disconnect() {
    this.source.disconnect();
    this.element.value = 0;
  }
}
