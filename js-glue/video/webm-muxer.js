// WebmMuxer: VP8/VP9 frames encoded elsewhere (the browser's VideoEncoder, an IVF file, another
// encoder) in, a seekable WebM out, muxed in wasm by libwebm (wasm/video/webm_muxer.h: the same muxer,
// layout and per-frame metadata as VideoWriter). Works in Node, a page and a Worker. The video module
// loads on first use.
//
// Output: in memory (finish() returns it) or streamed with ondata(bytes, offset), with VideoWriter's
// contract and delivery code (both extend WebmOutput, webm-output.js): in order, offset == bytes so far appends, a smaller offset overwrites
// (the header patches at finish()); a promise from ondata holds the next call back.
//
// Audio: `audio: { codec: 'opus', ... }` adds an Opus track (packets from WebCodecs' AudioEncoder or
// OpusEncoder) fed with addAudio(). Audio and video may come in any relative order; the muxer writes
// them in time order (wasm/video/webm_muxer.h: a bounded wait, at most 10 s between the tracks).
import { initVideo } from '../video.js';
import { asBytes, checkEnum, checkNumber } from '../validate.js';
import { alloc, check } from '../wasm-memory.js';
import { VIDEO_LIMITS, metadataBytes } from './video-writer.js';
import { WebmOutput } from './webm-output.js';
import { checkNumberIn } from '../audio/opus-encoder.js';

const OPTION_KEYS = new Set(['codec', 'width', 'height', 'fps', 'ondata', 'module', 'audio']);
const AUDIO_KEYS = new Set(['codec', 'sampleRate', 'channels', 'codecPrivate', 'preSkip']);
const FRAME_KEYS = new Set(['keyframe', 'timestampUs', 'metadata']);
const AUDIO_PACKET_KEYS = new Set(['timestampUs']);
const MAX_AUDIO_PACKET_BYTES = 1275 * 48 + 7 * 48;  // kMaxOpusPacketSize (wasm/video/opus_head.h)
const MAX_OPUS_HEAD_BYTES = 21 + 255;

/** The muxer's audio track options (shared with VideoWriter), with defaults; null without audio. */
export function normaliseMuxAudio(audio, context) {
  if (audio === undefined || audio === null) return null;
  if (typeof audio !== 'object') throw new TypeError(`${context}: audio must be an object { codec: 'opus', sampleRate, channels, codecPrivate? }, got ${typeof audio}`);
  for (const k of Object.keys(audio)) {
    if (!AUDIO_KEYS.has(k)) throw new TypeError(`${context}: unknown audio option "${k}" (known: ${[...AUDIO_KEYS].join(', ')})`);
  }
  const a = {
    codec: audio.codec === undefined ? 'opus' : audio.codec,
    sampleRate: audio.sampleRate === undefined ? 48000 : audio.sampleRate,
    channels: audio.channels,
    preSkip: audio.preSkip === undefined ? 312 : audio.preSkip,
    codecPrivate: null,
  };
  checkEnum(a.codec, `${context}: audio.codec`, ['opus']);
  checkNumberIn(a.sampleRate, `${context}: audio.sampleRate`, [8000, 12000, 16000, 24000, 48000]);
  checkNumberIn(a.channels, `${context}: audio.channels`, [1, 2]);
  checkNumber(a.preSkip, `${context}: audio.preSkip (samples at 48 kHz)`, { integer: true, min: 0, max: 65535 });
  if (audio.codecPrivate !== undefined && audio.codecPrivate !== null) {
    const bytes = asBytes(audio.codecPrivate) || (ArrayBuffer.isView(audio.codecPrivate)
      ? new Uint8Array(audio.codecPrivate.buffer, audio.codecPrivate.byteOffset, audio.codecPrivate.byteLength) : null);
    if (!bytes) throw new TypeError(`${context}: audio.codecPrivate must be a Uint8Array or an ArrayBuffer (an OpusHead), got ${Object.prototype.toString.call(audio.codecPrivate)}`);
    if (bytes.length > MAX_OPUS_HEAD_BYTES) throw new RangeError(`${context}: audio.codecPrivate is ${bytes.length} bytes, an OpusHead is at most ${MAX_OPUS_HEAD_BYTES}`);
    if (bytes.length > 0) a.codecPrivate = bytes.slice();
  }
  return a;
}

/** Gives the native muxer handle its audio track (before open()); the OpusHead crosses once. */
function setNativeAudio(M, native, a) {
  let ptr = 0;
  try {
    if (a.codecPrivate) {
      ptr = alloc(M, a.codecPrivate.length, 'OpusHead');
      M.HEAPU8.set(a.codecPrivate, ptr);
    }
    native.setAudio(a.channels, a.sampleRate, a.preSkip, ptr, a.codecPrivate ? a.codecPrivate.length : 0);
  } finally {
    if (ptr) M._free(ptr);
  }
}
const MAX_SAFE_US = 2 ** 53;
// Frame timestamps cross as nanoseconds in a double: exact up to 2^53 ns (about 104 days).
const MAX_SPAN_US = 2 ** 53 / 1000;
const MAX_FRAME_BYTES = 256 * 1024 * 1024;

function normaliseOptions(options) {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`WebmMuxer.create: options must be an object { codec, width, height, fps }, got ${options === null ? 'null' : typeof options}`);
  }
  for (const k of Object.keys(options)) {
    if (!OPTION_KEYS.has(k)) throw new TypeError(`WebmMuxer.create: unknown option "${k}" (known: ${[...OPTION_KEYS].join(', ')})`);
  }
  const L = VIDEO_LIMITS;
  const o = {
    codec: options.codec === undefined ? 'vp8' : options.codec,
    width: options.width,
    height: options.height,
    fps: options.fps === undefined ? 30 : options.fps,
  };
  if (o.codec === 'av1') {
    throw new RangeError('WebmMuxer.create: codec "av1" is not supported (Matroska needs an av1C CodecPrivate this muxer does not write); use "vp8" or "vp9"');
  }
  checkEnum(o.codec, 'WebmMuxer.create: codec', ['vp8', 'vp9']);
  checkNumber(o.width, 'WebmMuxer.create: width', { integer: true, min: L.minSide, max: L.maxSide });
  checkNumber(o.height, 'WebmMuxer.create: height', { integer: true, min: L.minSide, max: L.maxSide });
  checkNumber(o.fps, 'WebmMuxer.create: fps', { min: L.minFps, max: L.maxFps });
  if (options.ondata !== undefined && typeof options.ondata !== 'function') {
    throw new TypeError(`WebmMuxer.create: ondata must be a function (bytes, offset), got ${typeof options.ondata}`);
  }
  o.audio = normaliseMuxAudio(options.audio, 'WebmMuxer.create');
  return o;
}

/**
 * Muxes already-encoded VP8/VP9 frames into a WebM file: Cues (a Cluster at every keyframe), exact
 * Duration, header patched at finish(). Per-frame metadata is stored as a BlockAdditional (BlockAddID 2,
 * UTF-8 JSON), so readFrameMetadata() reads it back.
 */
export class WebmMuxer extends WebmOutput {
  /**
   * @param {object} options
   * @param {'vp8'|'vp9'} [options.codec='vp8']
   * @param {number} options.width 2..8192
   * @param {number} options.height 2..8192
   * @param {number} [options.fps=30] 0.1..240: DefaultDuration, and frame times when none are given
   * @param {(bytes: Uint8Array, offset: number) => void|Promise<void>} [options.ondata] stream the file out
   * @param {object} [options.module] options for initVideo, or a module from loadVideoVariant()
   * @param {object} [options.audio] an Opus track: { codec: 'opus', sampleRate: the encoder's input rate
   *   (8000..48000, default 48000), channels: 1|2, codecPrivate?: an OpusHead (AudioEncoder's
   *   decoderConfig.description; else one is built), preSkip?: samples at 48 kHz for the built OpusHead
   *   (default 312, libopus's look-ahead) }
   * @returns {Promise<WebmMuxer>}
   */
  static async create(options) {
    const o = normaliseOptions(options);
    const M = options.module && typeof options.module.WebmMuxerHandle === 'function'
      ? options.module : await initVideo(options.module || {});
    return new WebmMuxer(M, o, options.ondata);
  }

  /** @private use WebmMuxer.create() */
  constructor(M, o, ondata) {
    if (!M || typeof M.WebmMuxerHandle !== 'function') throw new TypeError('WebmMuxer: use `await WebmMuxer.create(options)`');
    super(M, new M.WebmMuxerHandle(), ondata, { label: 'WebmMuxer', file: 'file', self: 'muxer' });
    this._firstUs = null;  // the first timestamp, a frame's or a packet's: zero in the file
    this._lastUs = null;
    this._lastAudioUs = null;
    this._audio = o.audio;
    try {
      const { audio, ...video } = o;
      if (audio) setNativeAudio(M, this._native, audio);
      check(M, this._native.open({ ...video, streaming: !!ondata }), 'WebmMuxer.create');
    } catch (e) {
      this._release();
      throw e;
    }
    this._collect();
    /** @type {'vp8'|'vp9'} */ this.codec = o.codec;
    /** @type {number} */ this.width = o.width;
    /** @type {number} */ this.height = o.height;
    /** @type {number} */ this.fps = o.fps;
    /** Frames added so far. */
    this.frames = 0;
    /** Audio packets added so far. */
    this.audioPackets = 0;
  }

  /**
   * Adds one encoded frame (an EncodedVideoChunk's bytes, an IVF frame, ...).
   * @param {Uint8Array|ArrayBuffer} data the frame
   * @param {{keyframe?: boolean, timestampUs?: number, metadata?: object|string|Uint8Array}} [options]
   *   keyframe: the frame decodes on its own (the first one must); timestampUs from any clock (the
   *   first frame's is zero; never going back); without it the frame comes 1/fps after the previous one.
   */
  addFrame(data, options = {}) {
    this._usable('addFrame');
    if (options === null || typeof options !== 'object') throw new TypeError('WebmMuxer.addFrame: options must be an object { keyframe, timestampUs?, metadata? }');
    for (const k of Object.keys(options)) {
      if (!FRAME_KEYS.has(k)) throw new TypeError(`WebmMuxer.addFrame: unknown option "${k}" (known: ${[...FRAME_KEYS].join(', ')})`);
    }
    const bytes = asBytes(data);
    if (!bytes) throw new TypeError(`WebmMuxer.addFrame: data must be a Uint8Array or an ArrayBuffer, got ${Object.prototype.toString.call(data)}`);
    if (bytes.length === 0) throw new RangeError('WebmMuxer.addFrame: the frame is empty (0 bytes)');
    if (bytes.length > MAX_FRAME_BYTES) throw new RangeError(`WebmMuxer.addFrame: the frame is ${bytes.length} bytes, the limit is ${MAX_FRAME_BYTES}`);
    const keyframe = options.keyframe === undefined ? false : options.keyframe;
    if (typeof keyframe !== 'boolean') throw new TypeError(`WebmMuxer.addFrame: keyframe must be a boolean, got ${typeof keyframe}`);
    if (this.frames === 0 && !keyframe) throw new RangeError('WebmMuxer.addFrame: the first frame must be a keyframe');
    let us;
    if (options.timestampUs !== undefined) {
      checkNumber(options.timestampUs, 'WebmMuxer.addFrame: timestampUs', { min: -MAX_SAFE_US, max: MAX_SAFE_US });
      us = options.timestampUs;
    } else {
      us = this._lastUs === null ? 0 : this._lastUs + 1e6 / this.fps;
    }
    if (this._lastUs !== null && us < this._lastUs) {
      throw new RangeError(`WebmMuxer.addFrame: frame timestamps must not go back (${us} µs after ${this._lastUs} µs)`);
    }
    const first = this._firstUs === null ? us : this._firstUs;
    if (us < first) throw new RangeError(`WebmMuxer.addFrame: the frame at ${us} µs is before the start of the file (the first timestamp, ${first} µs)`);
    if (us - first > MAX_SPAN_US) throw new RangeError(`WebmMuxer.addFrame: timestampUs is more than ${MAX_SPAN_US} µs after the first frame`);
    const meta = metadataBytes(options.metadata, 'WebmMuxer.addFrame');
    const M = this._M;
    let ptr = 0;
    let metaPtr = 0;
    try {
      ptr = alloc(M, bytes.length, 'encoded frame');
      M.HEAPU8.set(bytes, ptr);
      if (meta) {
        metaPtr = alloc(M, meta.length, 'frame metadata');
        M.HEAPU8.set(meta, metaPtr);
      }
      const ok = this._native.addFrame(ptr, bytes.length, Math.round((us - first) * 1000), keyframe,
        metaPtr, meta ? meta.length : 0);
      this._collect();
      if (!ok) this._fail('WebmMuxer.addFrame');
    } finally {
      if (ptr) M._free(ptr);
      if (metaPtr) M._free(metaPtr);
    }
    this._firstUs = first;
    this._lastUs = us;
    this.frames++;
  }

  /**
   * Adds one Opus packet (an EncodedAudioChunk's bytes, or an OpusEncoder packet) to the audio track.
   * @param {Uint8Array|ArrayBuffer} data one Opus packet
   * @param {{timestampUs: number}} options its time on the frames' clock (the first timestamp given, a
   *   frame's or a packet's, is zero in the file); each packet's must be later than the previous one's
   */
  addAudio(data, options) {
    this._usable('addAudio');
    if (!this._audio) throw new Error('WebmMuxer.addAudio: this muxer has no audio track (create it with the `audio` option)');
    if (options === null || typeof options !== 'object') throw new TypeError('WebmMuxer.addAudio: options must be an object { timestampUs }');
    for (const k of Object.keys(options)) {
      if (!AUDIO_PACKET_KEYS.has(k)) throw new TypeError(`WebmMuxer.addAudio: unknown option "${k}" (known: ${[...AUDIO_PACKET_KEYS].join(', ')})`);
    }
    const bytes = asBytes(data);
    if (!bytes) throw new TypeError(`WebmMuxer.addAudio: data must be a Uint8Array or an ArrayBuffer (one Opus packet), got ${Object.prototype.toString.call(data)}`);
    if (bytes.length === 0) throw new RangeError('WebmMuxer.addAudio: the packet is empty (0 bytes)');
    if (bytes.length > MAX_AUDIO_PACKET_BYTES) throw new RangeError(`WebmMuxer.addAudio: the packet is ${bytes.length} bytes, an Opus packet is at most ${MAX_AUDIO_PACKET_BYTES}`);
    if (options.timestampUs === undefined) throw new TypeError('WebmMuxer.addAudio: timestampUs is required');
    const us = checkNumber(options.timestampUs, 'WebmMuxer.addAudio: timestampUs', { min: -MAX_SAFE_US, max: MAX_SAFE_US });
    if (this._lastAudioUs !== null && us <= this._lastAudioUs) {
      throw new RangeError(`WebmMuxer.addAudio: audio timestamps must increase (${us} µs after ${this._lastAudioUs} µs)`);
    }
    const first = this._firstUs === null ? us : this._firstUs;
    if (us < first) throw new RangeError(`WebmMuxer.addAudio: the packet at ${us} µs is before the start of the file (the first timestamp, ${first} µs)`);
    if (us - first > MAX_SPAN_US) throw new RangeError(`WebmMuxer.addAudio: timestampUs is more than ${MAX_SPAN_US} µs after the start`);
    const M = this._M;
    let ptr = 0;
    try {
      ptr = alloc(M, bytes.length, 'audio packet');
      M.HEAPU8.set(bytes, ptr);
      const ok = this._native.addAudio(ptr, bytes.length, Math.round((us - first) * 1000), 0);
      this._collect();
      if (!ok) this._fail('WebmMuxer.addAudio');
    } finally {
      if (ptr) M._free(ptr);
    }
    this._firstUs = first;
    this._lastAudioUs = us;
    this.audioPackets++;
  }

  /**
   * Finishes the file: Cues, Duration, header patches. Resolves when every ondata call has settled.
   * @param {{duration?: number}} [options] duration in seconds; without it: the last frame's time plus
   *   the average frame spacing (1/fps for a single frame)
   * @returns {Promise<{codec: 'vp8'|'vp9', mimeType: string, width: number, height: number, frames: number,
   *   keyframes: number, duration: number, averageFps: number, bytes: number, data?: Uint8Array, blob?: Blob}>}
   */
  async finish(options = {}) {
    this._usable('finish');
    if (options === null || typeof options !== 'object') throw new TypeError('WebmMuxer.finish: options must be an object { duration? }');
    let durationNs = 0;
    if (options.duration !== undefined && options.duration !== 0) {
      checkNumber(options.duration, 'WebmMuxer.finish: duration (seconds)', { min: 0, max: MAX_SPAN_US / 1e6 });
      durationNs = options.duration * 1e9;
    }
    if (this.frames === 0) throw new Error('WebmMuxer.finish: no frames were added, so there is no video');
    const M = this._M;
    this._state = 'finishing';
    let result;
    try {
      const ok = this._native.finish(durationNs);
      this._collect();
      check(M, ok, 'WebmMuxer.finish');
      result = this._finishedResult();
    } catch (e) {
      this._stop(e);
      throw e;
    }
    return this._complete(result);
  }
}
