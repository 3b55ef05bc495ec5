// Where a recording's sound is encoded: Opus by the browser's AudioEncoder (WebCodecs), at the track's
// sample rate (48 kHz, or 44.1 kHz from some microphones: the encoder resamples; Opus decodes at 48 kHz), mono or stereo, for the webcodecs backend (the mediarecorder backend lets MediaRecorder encode it). The
// packets go to the WebM muxer's Opus track (WebmMuxer's audio option, addAudio); the first output's
// decoderConfig.description is the OpusHead the muxer stores as CodecPrivate.
//
// Input: AudioData from the audio input (sources/audio.js), restamped on the recording's time line
// (pauses taken out, zero at the first video frame) and trimmed where a chunk straddles the start.

export const OPUS_SAMPLE_RATE = 48000;

export class OpusEncoder {
  /** Whether AudioEncoder encodes Opus with these channels here. */
  static async isSupported({ channels = 1, bitrate = 96_000, sampleRate = OPUS_SAMPLE_RATE } = {}) {
    if (typeof AudioEncoder !== 'function' || typeof AudioData !== 'function') return false;
    try {
      const r = await AudioEncoder.isConfigSupported({ codec: 'opus', sampleRate, numberOfChannels: channels, bitrate });
      return !!r.supported;
    } catch {
      return false;
    }
  }

  /**
   * @param {{channels: 1|2, bitrate?: number, onpacket(bytes: Uint8Array, timestampUs: number, durationUs: number): void,
   *   onconfig(description: Uint8Array|null): void, onerror(err: Error): void}} o
   */
  constructor({ channels, sampleRate = OPUS_SAMPLE_RATE, bitrate = 96_000, onpacket, onconfig, onerror }) {
    this.channels = channels;
    this.sampleRate = sampleRate;
    this.onpacket = onpacket;
    this.onconfig = onconfig;
    this.onerror = onerror;
    this.configured = false;
    this.failed = null;
    this.packets = 0;
    this.samples = 0;
    this.encoder = new AudioEncoder({
      output: (chunk, meta) => this.#output(chunk, meta),
      error: (e) => this.#fail(new Error(`recorder: AudioEncoder failed: ${e && e.message ? e.message : e}`)),
    });
    this.encoder.configure({ codec: 'opus', sampleRate, numberOfChannels: channels, bitrate });
  }

  #output(chunk, meta) {
    if (this.failed) return;
    try {
      if (!this.configured) {
        this.configured = true;
        const d = meta && meta.decoderConfig && meta.decoderConfig.description;
        this.onconfig(d ? new Uint8Array(d instanceof ArrayBuffer ? d : d.buffer, d.byteOffset || 0, d.byteLength).slice() : null);
      }
      const bytes = new Uint8Array(chunk.byteLength);
      chunk.copyTo(bytes);
      this.packets++;
      this.onpacket(bytes, chunk.timestamp, chunk.duration || 0);
    } catch (err) {
      this.#fail(err);
    }
  }

  #fail(err) {
    if (this.failed) return;
    this.failed = err;
    try { if (this.encoder.state !== 'closed') this.encoder.close(); } catch { /* closed */ }
    this.onerror(err);
  }

  /**
   * Encodes `ad` (AudioData, any sample format) at recording time `timestampUs`, skipping its first
   * `skipFrames` samples. The caller keeps (and closes) `ad`. Channels are mixed down / duplicated to
   * the encoder's count; the sample rate must stay the one the encoder was made for.
   */
  encode(ad, timestampUs, skipFrames = 0) {
    if (this.failed) throw this.failed;
    if (ad.sampleRate !== this.sampleRate) throw new Error(`recorder: the audio track delivers ${ad.sampleRate} Hz, but it announced ${this.sampleRate} Hz when the recording started`);
    const frames = ad.numberOfFrames - skipFrames;
    if (frames <= 0) return;
    const out = new Float32Array(frames * this.channels);
    const plane = new Float32Array(frames);
    const inCh = ad.numberOfChannels;
    for (let c = 0; c < this.channels; c++) {
      if (c < inCh) {
        ad.copyTo(plane, { planeIndex: c, frameOffset: skipFrames, frameCount: frames, format: 'f32-planar' });
        out.set(plane, c * frames);
      } else {
        out.copyWithin(c * frames, 0, frames); // mono source, stereo encoder: the same sound on both
      }
    }
    if (inCh > this.channels && this.channels === 1) { // stereo source, mono encoder: the average
      for (let c = 1; c < inCh; c++) {
        ad.copyTo(plane, { planeIndex: c, frameOffset: skipFrames, frameCount: frames, format: 'f32-planar' });
        for (let i = 0; i < frames; i++) out[i] += plane[i];
      }
      for (let i = 0; i < frames; i++) out[i] /= inCh;
    }
    const data = new AudioData({ format: 'f32-planar', sampleRate: this.sampleRate, numberOfFrames: frames, numberOfChannels: this.channels, timestamp: Math.round(timestampUs), data: out });
    try {
      this.encoder.encode(data);
    } finally {
      data.close();
    }
    this.samples += frames;
  }

  /** Encodes `frames` samples of silence at recording time `timestampUs` (a gap the track left). */
  encodeSilence(timestampUs, frames) {
    if (this.failed) throw this.failed;
    const step = this.sampleRate; // one second per AudioData at most
    for (let done = 0; done < frames; done += step) {
      const n = Math.min(step, frames - done);
      const data = new AudioData({ format: 'f32-planar', sampleRate: this.sampleRate, numberOfFrames: n, numberOfChannels: this.channels,
        timestamp: Math.round(timestampUs + (done / this.sampleRate) * 1e6), data: new Float32Array(n * this.channels) });
      try {
        this.encoder.encode(data);
      } finally {
        data.close();
      }
      this.samples += n;
    }
  }

  async flush() {
    if (this.failed) throw this.failed;
    await this.encoder.flush();
    if (this.failed) throw this.failed;
    this.encoder.close();
  }

  close() {
    try { if (this.encoder.state !== 'closed') this.encoder.close(); } catch { /* closed */ }
  }
}
