// OpusEncoder: PCM in, Opus packets out, encoded in wasm by libopus (wasm/audio/opus_encoder.h). Works
// in Node, a page and a Worker; the audio module loads on first use. VideoWriter uses it for `audio`;
// it is also the fallback where the browser has no AudioEncoder.
import { initAudio } from '../audio.js';
import { checkEnum, checkNumber } from '../validate.js';
import { alloc, check } from '../wasm-memory.js';

// The same limits as wasm/audio/opus_encoder.h.
export const AUDIO_LIMITS = Object.freeze({
  sampleRates: Object.freeze([8000, 12000, 16000, 24000, 48000]),
  minBitrate: 6000,
  maxBitrate: 510_000,
  frameMs: Object.freeze([2.5, 5, 10, 20, 40, 60]),
  maxGapSeconds: 60,
});

const OPTION_KEYS = new Set(['sampleRate', 'channels', 'bitrate', 'frameMs', 'application', 'complexity', 'module']);
const tag = (v) => Object.prototype.toString.call(v);

/** One of the allowed numbers: a TypeError for a non-number, a RangeError for another number. */
export function checkNumberIn(value, name, allowed) {
  if (typeof value !== 'number') checkNumber(value, name);
  if (!allowed.includes(value)) throw new RangeError(`${name} must be one of ${allowed.join(', ')}, got ${value}`);
  return value;
}

/** Checks encoder options (shared with VideoWriter's `audio`); returns them with defaults filled in. */
export function normaliseOpusOptions(options, context, extraKeys = []) {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${context} must be an object { sampleRate, channels, bitrate? }, got ${options === null ? 'null' : typeof options}`);
  }
  const known = new Set([...OPTION_KEYS, ...extraKeys]);
  for (const k of Object.keys(options)) {
    if (!known.has(k)) throw new TypeError(`${context}: unknown option "${k}" (known: ${[...known].join(', ')})`);
  }
  const o = {
    sampleRate: options.sampleRate === undefined ? 48000 : options.sampleRate,
    channels: options.channels,
    bitrate: options.bitrate === undefined ? 0 : options.bitrate,
    frameMs: options.frameMs === undefined ? 20 : options.frameMs,
    application: options.application === undefined ? 'audio' : options.application,
    complexity: options.complexity === undefined ? 10 : options.complexity,
  };
  checkNumberIn(o.sampleRate, `${context}: sampleRate`, AUDIO_LIMITS.sampleRates);
  checkNumberIn(o.channels, `${context}: channels`, [1, 2]);
  if (o.bitrate !== 0) {
    checkNumber(o.bitrate, `${context}: bitrate (bits per second)`, { min: AUDIO_LIMITS.minBitrate, max: AUDIO_LIMITS.maxBitrate });
    o.bitrate = Math.round(o.bitrate);
  }
  checkNumberIn(o.frameMs, `${context}: frameMs`, AUDIO_LIMITS.frameMs);
  checkEnum(o.application, `${context}: application`, ['audio', 'voip']);
  checkNumber(o.complexity, `${context}: complexity`, { integer: true, min: 0, max: 10 });
  return o;
}

/**
 * The PCM of one call as { kind: 'f32' | 'i16', frames, write(heap, ptr) }: interleaved Float32Array or
 * Int16Array (length a multiple of channels), or one Float32Array per channel (planar, equal lengths).
 */
export function describePcm(pcm, channels, context) {
  const t = tag(pcm);
  if (t === '[object Float32Array]' || t === '[object Int16Array]') {
    if (pcm.length % channels !== 0) {
      throw new RangeError(`${context}: ${pcm.length} interleaved samples are not a whole number of ${channels}-channel frames`);
    }
    const f32 = t === '[object Float32Array]';
    return { kind: f32 ? 'f32' : 'i16', frames: pcm.length / channels, bytes: pcm.length * (f32 ? 4 : 2),
      write: (M, ptr) => (f32 ? M.HEAPF32 : M.HEAP16).set(pcm, ptr / (f32 ? 4 : 2)) };
  }
  if (Array.isArray(pcm)) {
    if (pcm.length !== channels) {
      throw new RangeError(`${context}: planar audio has ${pcm.length} channel arrays but the audio has ${channels} channels`);
    }
    for (const [c, plane] of pcm.entries()) {
      if (tag(plane) !== '[object Float32Array]') throw new TypeError(`${context}: channel ${c} must be a Float32Array, got ${tag(plane).slice(8, -1)}`);
      if (plane.length !== pcm[0].length) throw new RangeError(`${context}: channel ${c} has ${plane.length} samples but channel 0 has ${pcm[0].length}`);
    }
    const frames = pcm[0] ? pcm[0].length : 0;
    return { kind: 'f32', frames, bytes: frames * channels * 4,
      write: (M, ptr) => {
        const heap = M.HEAPF32;
        const base = ptr / 4;
        if (channels === 1) { heap.set(pcm[0], base); return; }
        const l = pcm[0], r = pcm[1];
        for (let i = 0, j = base; i < frames; i++, j += 2) { heap[j] = l[i]; heap[j + 1] = r[i]; }
      } };
  }
  throw new TypeError(`${context}: pcm must be an interleaved Float32Array or Int16Array, or an array of one Float32Array per channel, got ${t.slice(8, -1)}`);
}

/**
 * Encodes PCM into Opus packets (libopus in wasm): one packet per frame (20 ms by default), timed by
 * sample count. Buffers what does not fill a frame; flush() pads the last one with silence.
 */
export class OpusEncoder {
  /**
   * @param {object} options
   * @param {8000|12000|16000|24000|48000} [options.sampleRate=48000] the PCM's rate
   * @param {1|2} options.channels
   * @param {number} [options.bitrate] bits per second, 6000..510000 (default 64000 mono, 96000 stereo)
   * @param {2.5|5|10|20|40|60} [options.frameMs=20]
   * @param {'audio'|'voip'} [options.application='audio']
   * @param {number} [options.complexity=10] 0 (fastest) .. 10
   * @param {object} [options.module] options for initAudio, or a module from loadAudioVariant()
   * @returns {Promise<OpusEncoder>}
   */
  static async create(options) {
    const o = normaliseOpusOptions(options, 'OpusEncoder.create');
    const M = options.module && typeof options.module.OpusEncoder === 'function'
      ? options.module : await initAudio(options.module || {});
    return new OpusEncoder(M, o);
  }

  /** @private use OpusEncoder.create() */
  constructor(M, o) {
    if (!M || typeof M.OpusEncoder !== 'function') throw new TypeError('OpusEncoder: use `await OpusEncoder.create(options)`');
    this._M = M;
    this._native = new M.OpusEncoder();
    this._buffer = 0;
    this._bufferSize = 0;
    try {
      check(M, this._native.open(o), 'OpusEncoder.create');
    } catch (e) {
      this.close();
      throw e;
    }
    const info = this._native.info();
    /** @type {number} */ this.sampleRate = info.sampleRate;
    /** @type {number} */ this.channels = info.channels;
    /** @type {number} bits per second */ this.bitrate = info.bitrate;
    /** @type {number} samples per channel in a packet, at sampleRate */ this.frameSize = info.frameSize;
    /** @type {number} samples at 48 kHz a decoder drops first (OpusHead pre-skip, WebM CodecDelay) */ this.preSkip = info.preSkip;
  }

  /** Where the next given sample goes (samples at sampleRate). */
  get nextSample() { return this._live('nextSample').info().nextSample; }
  /** Packets produced so far. */
  get packets() { return this._live('packets').info().packets; }

  _live(what) {
    if (!this._native) throw new Error(`OpusEncoder.${what}: the encoder is closed`);
    return this._native;
  }

  /**
   * Encodes PCM; returns the packets it completed (possibly none).
   * @param {Float32Array|Int16Array|Float32Array[]} pcm interleaved, or one Float32Array per channel
   * @param {{atSample?: number}} [options] where these samples start (samples at sampleRate): the first
   *   call places the stream; later a jump ahead is filled with silence (up to 60 s), a jump back of
   *   more than a frame is a RangeError, and within a frame the sample count wins
   * @returns {{data: Uint8Array, pts: number, duration: number, padding: number}[]} pts and duration in samples
   */
  encode(pcm, options = {}) {
    const native = this._live('encode');
    if (options === null || typeof options !== 'object') throw new TypeError('OpusEncoder.encode: options must be an object { atSample? }');
    const d = describePcm(pcm, this.channels, 'OpusEncoder.encode');
    let at = 0;
    const hasAt = options.atSample !== undefined;
    if (hasAt) at = checkNumber(options.atSample, 'OpusEncoder.encode: atSample', { integer: true, min: 0, max: 2 ** 50 });
    const M = this._M;
    if (this._bufferSize < d.bytes) {
      if (this._buffer) M._free(this._buffer);
      this._buffer = 0;
      this._buffer = alloc(M, d.bytes, 'audio samples');
      this._bufferSize = d.bytes;
    }
    d.write(M, this._buffer);
    const ok = d.kind === 'f32' ? native.encodeFloat(this._buffer, d.frames, hasAt, at)
      : native.encodeInt16(this._buffer, d.frames, hasAt, at);
    check(M, ok, 'OpusEncoder.encode');
    return this._drain();
  }

  /** Encodes what is buffered, padded with silence to a whole frame; returns that packet (or none). */
  flush() {
    check(this._M, this._live('flush').flush(), 'OpusEncoder.flush');
    return this._drain();
  }

  _drain() {
    return this._native.drainPackets().map((p) => ({ data: p.data.slice(), pts: p.pts, duration: p.duration, padding: p.padding }));
  }

  /** Frees the wasm memory (the encoder cannot be used afterwards). */
  close() {
    if (this._buffer) this._M._free(this._buffer);
    this._buffer = 0;
    this._bufferSize = 0;
    if (this._native) this._native.delete();
    this._native = null;
  }
}
