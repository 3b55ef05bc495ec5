// Mp4Muxer: frames and sound encoded elsewhere (WebCodecs' VideoEncoder / AudioEncoder, an IVF file,
// another encoder) in, an MP4 out, muxed in wasm (wasm/video/mp4_muxer.h: which boxes, which layout,
// which sample entries). Works in Node, a page and a Worker; the video module loads on first use.
//
// Codecs: video H.264 ('avc1.PPCCLL' or 'h264': length-prefixed NAL units with the encoder's avcC as
// `description`, as VideoEncoder gives them with avc: { format: 'avc' }, or Annex B without one), VP9
// ('vp09.PP.LL.DD' or 'vp9'), AV1 ('av01.P.LLT.DD' or 'av1', with or without an av1C description);
// audio Opus (an OpusHead as description, as AudioEncoder gives it) or AAC ('mp4a.40.2', raw frames
// with an AudioSpecificConfig). VP8 has no MP4 mapping: a TypeError.
//
// Layouts: 'fragmented' (the default with ondata: a moof+mdat per key frame, bounded memory, durations
// patched into the init segment at finish()) or 'progressive' (the default in memory: moov first with
// complete sample tables; the samples wait in wasm memory until finish()).
// Output: as WebmMuxer (ondata(bytes, offset) in order; a smaller offset overwrites; a promise holds
// the next call back), so the recording's streaming, journal and upload paths take it unchanged.
import { initVideo } from '../video.js';
import { asBytes, checkEnum, checkNumber } from '../validate.js';
import { alloc, check } from '../wasm-memory.js';
import { VIDEO_LIMITS } from './video-writer.js';
import { WebmOutput } from './webm-output.js';

const OPTION_KEYS = new Set(['codec', 'width', 'height', 'fps', 'description', 'layout', 'ondata', 'module', 'audio']);
const AUDIO_KEYS = new Set(['codec', 'sampleRate', 'channels', 'description', 'preSkip']);
const FRAME_KEYS = new Set(['keyframe', 'timestampUs']);
const AUDIO_PACKET_KEYS = new Set(['timestampUs', 'discardPaddingUs']);
const MAX_SAFE_US = 2 ** 53;
const MAX_SPAN_US = 2 ** 50 / 1000;  // kMaxMp4TimestampNs
const MAX_SAMPLE_BYTES = 64 * 1024 * 1024;  // kMaxMp4SampleBytes
const MAX_DESCRIPTION_BYTES = 64 * 1024;
const VIDEO_CODEC = /^(h264|vp9|av1|avc[13]\.[0-9a-fA-F]{6}|vp09\.\d\d\.\d\d\.\d\d(\..*)?|av01\.\d\.\d\d[MH]\.\d\d(\..*)?)$/;

function bytesOf(v, name, max) {
  if (v === undefined || v === null) return null;
  const bytes = asBytes(v) || (ArrayBuffer.isView(v) ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : null);
  if (!bytes) throw new TypeError(`${name} must be a Uint8Array or an ArrayBuffer, got ${Object.prototype.toString.call(v)}`);
  if (bytes.length > max) throw new RangeError(`${name} is ${bytes.length} bytes, at most ${max}`);
  return bytes.length ? bytes.slice() : null;
}

/** Checks an MP4 video codec string; VP8 is a TypeError (MP4 has no VP8 mapping). */
export function checkMp4VideoCodec(codec, context) {
  if (typeof codec !== 'string') throw new TypeError(`${context}: codec must be a string, got ${typeof codec}`);
  if (/^vp0?8/.test(codec)) throw new TypeError(`${context}: VP8 cannot be stored in MP4; use 'vp9', 'av1' or H.264, or the WebM container`);
  if (!VIDEO_CODEC.test(codec)) {
    throw new TypeError(`${context}: codec "${codec}" is not one MP4 takes here (avc1.PPCCLL / 'h264', vp09.PP.LL.DD / 'vp9', av01.P.LLT.DD / 'av1')`);
  }
  return codec;
}

function normaliseAudio(audio, context) {
  if (audio === undefined || audio === null) return null;
  if (typeof audio !== 'object') throw new TypeError(`${context}: audio must be an object { codec, sampleRate, channels, description? }`);
  for (const k of Object.keys(audio)) {
    if (!AUDIO_KEYS.has(k)) throw new TypeError(`${context}: unknown audio option "${k}" (known: ${[...AUDIO_KEYS].join(', ')})`);
  }
  const a = {
    codec: audio.codec === undefined ? 'opus' : audio.codec,
    sampleRate: audio.sampleRate === undefined ? 48000 : audio.sampleRate,
    channels: audio.channels,
    preSkip: audio.preSkip === undefined ? 312 : audio.preSkip,
  };
  checkEnum(a.codec, `${context}: audio.codec`, ['opus', 'aac', 'mp4a.40.2']);
  checkNumber(a.sampleRate, `${context}: audio.sampleRate`, { integer: true, min: 8000, max: 96000 });
  checkNumber(a.channels, `${context}: audio.channels`, { integer: true, min: 1, max: 8 });
  checkNumber(a.preSkip, `${context}: audio.preSkip (samples at 48 kHz)`, { integer: true, min: 0, max: 65535 });
  a.description = bytesOf(audio.description, `${context}: audio.description`, 1024);
  return a;
}

function normaliseOptions(options) {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`Mp4Muxer.create: options must be an object { codec, width, height, fps }, got ${options === null ? 'null' : typeof options}`);
  }
  for (const k of Object.keys(options)) {
    if (!OPTION_KEYS.has(k)) throw new TypeError(`Mp4Muxer.create: unknown option "${k}" (known: ${[...OPTION_KEYS].join(', ')})`);
  }
  const L = VIDEO_LIMITS;
  const o = {
    codec: checkMp4VideoCodec(options.codec === undefined ? 'vp9' : options.codec, 'Mp4Muxer.create'),
    width: options.width,
    height: options.height,
    fps: options.fps === undefined ? 30 : options.fps,
    layout: options.layout === undefined ? (options.ondata ? 'fragmented' : 'progressive') : options.layout,
  };
  checkNumber(o.width, 'Mp4Muxer.create: width', { integer: true, min: L.minSide, max: 16384 });
  checkNumber(o.height, 'Mp4Muxer.create: height', { integer: true, min: L.minSide, max: 16384 });
  checkNumber(o.fps, 'Mp4Muxer.create: fps', { min: L.minFps, max: L.maxFps });
  checkEnum(o.layout, 'Mp4Muxer.create: layout', ['fragmented', 'progressive']);
  if (options.ondata !== undefined && typeof options.ondata !== 'function') {
    throw new TypeError(`Mp4Muxer.create: ondata must be a function (bytes, offset), got ${typeof options.ondata}`);
  }
  o.description = bytesOf(options.description, 'Mp4Muxer.create: description', MAX_DESCRIPTION_BYTES);
  o.audio = normaliseAudio(options.audio, 'Mp4Muxer.create');
  return o;
}

// Copies `bytes` into wasm memory for one call, then frees them.
function withBytes(M, bytes, what, fn) {
  let ptr = 0;
  try {
    if (bytes) {
      ptr = alloc(M, bytes.length, what);
      M.HEAPU8.set(bytes, ptr);
    }
    return fn(ptr, bytes ? bytes.length : 0);
  } finally {
    if (ptr) M._free(ptr);
  }
}

/** Muxes already-encoded video (and sound) into MP4: fragmented while it streams, or progressive. */
export class Mp4Muxer extends WebmOutput {
  /**
   * @param {object} options
   * @param {string} [options.codec='vp9'] 'avc1.PPCCLL' | 'h264' | 'vp09.PP.LL.DD' | 'vp9' | 'av01.P.LLT.DD' | 'av1'
   * @param {number} options.width
   * @param {number} options.height
   * @param {number} [options.fps=30] the last frame's duration when finish() is given none; the VP9 level
   * @param {Uint8Array|ArrayBuffer} [options.description] avcC / av1C (VideoEncoder's decoderConfig.description)
   * @param {'fragmented'|'progressive'} [options.layout] default: fragmented with ondata, progressive without
   * @param {(bytes: Uint8Array, offset: number) => void|Promise<void>} [options.ondata] stream the file out
   * @param {object} [options.module] options for initVideo, or a module from loadVideoVariant()
   * @param {object} [options.audio] { codec: 'opus'|'aac', sampleRate, channels, description? (OpusHead /
   *   AudioSpecificConfig), preSkip? (Opus without a description, default 312) }
   * @returns {Promise<Mp4Muxer>}
   */
  static async create(options) {
    const o = normaliseOptions(options);
    const M = options.module && typeof options.module.Mp4MuxerHandle === 'function'
      ? options.module : await initVideo(options.module || {});
    return new Mp4Muxer(M, o, options.ondata);
  }

  /** @private use Mp4Muxer.create() */
  constructor(M, o, ondata) {
    if (!M || typeof M.Mp4MuxerHandle !== 'function') throw new TypeError('Mp4Muxer: use `await Mp4Muxer.create(options)`');
    super(M, new M.Mp4MuxerHandle(), ondata, { label: 'Mp4Muxer', file: 'file', self: 'muxer' });
    this._firstUs = null;
    this._lastUs = null;
    this._lastAudioUs = null;
    this._audio = o.audio;
    try {
      withBytes(M, o.description, 'codec description', (p, n) => this._native.setDescription(p, n));
      if (o.audio) {
        const a = o.audio;
        withBytes(M, a.description, 'audio description',
          (p, n) => this._native.setAudio(a.codec === 'opus' ? 'opus' : 'aac', a.channels, a.sampleRate, a.preSkip, p, n));
      }
      check(M, this._native.open({ codec: o.codec, width: o.width, height: o.height, fps: o.fps, layout: o.layout,
        streaming: !!ondata }), 'Mp4Muxer.create');
    } catch (e) {
      this._release();
      throw e;
    }
    this._collect();
    /** @type {string} */ this.codec = o.codec;
    /** @type {'fragmented'|'progressive'} */ this.layout = o.layout;
    /** @type {number} */ this.width = o.width;
    /** @type {number} */ this.height = o.height;
    /** @type {number} */ this.fps = o.fps;
    this.frames = 0;
    this.audioPackets = 0;
  }

  // A timestamp on the caller's clock as nanoseconds of file time (the first one given is zero).
  _fileNs(us, context) {
    checkNumber(us, `${context}: timestampUs`, { min: -MAX_SAFE_US, max: MAX_SAFE_US });
    const first = this._firstUs === null ? us : this._firstUs;
    if (us < first) throw new RangeError(`${context}: ${us} µs is before the start of the file (the first timestamp, ${first} µs)`);
    if (us - first > MAX_SPAN_US) throw new RangeError(`${context}: timestampUs is more than ${MAX_SPAN_US} µs after the start`);
    return { first, ns: Math.round((us - first) * 1000) };
  }

  /**
   * Adds one encoded frame (an EncodedVideoChunk's bytes).
   * @param {Uint8Array|ArrayBuffer} data
   * @param {{keyframe?: boolean, timestampUs?: number}} [options] the first frame must be a key frame;
   *   timestamps must increase (without one: 1/fps after the previous frame)
   */
  addFrame(data, options = {}) {
    this._usable('addFrame');
    if (options === null || typeof options !== 'object') throw new TypeError('Mp4Muxer.addFrame: options must be an object { keyframe, timestampUs? }');
    for (const k of Object.keys(options)) {
      if (!FRAME_KEYS.has(k)) throw new TypeError(`Mp4Muxer.addFrame: unknown option "${k}" (known: ${[...FRAME_KEYS].join(', ')})`);
    }
    const bytes = asBytes(data);
    if (!bytes) throw new TypeError(`Mp4Muxer.addFrame: data must be a Uint8Array or an ArrayBuffer, got ${Object.prototype.toString.call(data)}`);
    if (bytes.length === 0) throw new RangeError('Mp4Muxer.addFrame: the frame is empty (0 bytes)');
    if (bytes.length > MAX_SAMPLE_BYTES) throw new RangeError(`Mp4Muxer.addFrame: the frame is ${bytes.length} bytes, the limit is ${MAX_SAMPLE_BYTES}`);
    const keyframe = options.keyframe === undefined ? false : options.keyframe;
    if (typeof keyframe !== 'boolean') throw new TypeError(`Mp4Muxer.addFrame: keyframe must be a boolean, got ${typeof keyframe}`);
    if (this.frames === 0 && !keyframe) throw new RangeError('Mp4Muxer.addFrame: the first frame must be a key frame');
    const us = options.timestampUs !== undefined ? options.timestampUs
      : this._lastUs === null ? (this._firstUs ?? 0) : this._lastUs + 1e6 / this.fps;
    if (this._lastUs !== null && !(us > this._lastUs)) {
      throw new RangeError(`Mp4Muxer.addFrame: frame timestamps must increase (${us} µs after ${this._lastUs} µs)`);
    }
    const { first, ns } = this._fileNs(us, 'Mp4Muxer.addFrame');
    const ok = withBytes(this._M, bytes, 'encoded frame', (p, n) => this._native.addFrame(p, n, ns, keyframe));
    this._collect();
    if (!ok) this._fail('Mp4Muxer.addFrame');
    this._firstUs = first;
    this._lastUs = us;
    this.frames++;
  }

  /**
   * Adds one audio packet (an EncodedAudioChunk's bytes: Opus, or raw AAC).
   * @param {Uint8Array|ArrayBuffer} data
   * @param {{timestampUs: number, discardPaddingUs?: number}} options timestamps must increase;
   *   discardPaddingUs: decoded time at the end of this packet to drop (the last packet of a flush)
   */
  addAudio(data, options) {
    this._usable('addAudio');
    if (!this._audio) throw new Error('Mp4Muxer.addAudio: this muxer has no audio track (create it with the `audio` option)');
    if (options === null || typeof options !== 'object') throw new TypeError('Mp4Muxer.addAudio: options must be an object { timestampUs }');
    for (const k of Object.keys(options)) {
      if (!AUDIO_PACKET_KEYS.has(k)) throw new TypeError(`Mp4Muxer.addAudio: unknown option "${k}" (known: ${[...AUDIO_PACKET_KEYS].join(', ')})`);
    }
    const bytes = asBytes(data);
    if (!bytes) throw new TypeError(`Mp4Muxer.addAudio: data must be a Uint8Array or an ArrayBuffer, got ${Object.prototype.toString.call(data)}`);
    if (bytes.length === 0) throw new RangeError('Mp4Muxer.addAudio: the packet is empty (0 bytes)');
    if (bytes.length > MAX_SAMPLE_BYTES) throw new RangeError(`Mp4Muxer.addAudio: the packet is ${bytes.length} bytes, the limit is ${MAX_SAMPLE_BYTES}`);
    if (options.timestampUs === undefined) throw new TypeError('Mp4Muxer.addAudio: timestampUs is required');
    const us = options.timestampUs;
    if (this._lastAudioUs !== null && !(us > this._lastAudioUs)) {
      throw new RangeError(`Mp4Muxer.addAudio: audio timestamps must increase (${us} µs after ${this._lastAudioUs} µs)`);
    }
    const pad = options.discardPaddingUs === undefined ? 0 : options.discardPaddingUs;
    checkNumber(pad, 'Mp4Muxer.addAudio: discardPaddingUs', { min: 0, max: 999_999 });
    const { first, ns } = this._fileNs(us, 'Mp4Muxer.addAudio');
    const ok = withBytes(this._M, bytes, 'audio packet', (p, n) => this._native.addAudio(p, n, ns, Math.round(pad * 1000)));
    this._collect();
    if (!ok) this._fail('Mp4Muxer.addAudio');
    this._firstUs = first;
    this._lastAudioUs = us;
    this.audioPackets++;
  }

  /**
   * Finishes the file (the last fragment, the mfra index and the duration patches; or the whole
   * progressive file). Resolves when every ondata call has settled.
   * @param {{duration?: number}} [options] seconds; without it the last frame lasts the average spacing
   * @returns {Promise<{codec: string, mimeType: string, layout: string, width: number, height: number,
   *   frames: number, keyframes: number, fragments: number, duration: number, averageFps: number,
   *   bytes: number, data?: Uint8Array, blob?: Blob}>}
   */
  async finish(options = {}) {
    this._usable('finish');
    if (options === null || typeof options !== 'object') throw new TypeError('Mp4Muxer.finish: options must be an object { duration? }');
    let durationNs = 0;
    if (options.duration !== undefined && options.duration !== 0) {
      checkNumber(options.duration, 'Mp4Muxer.finish: duration (seconds)', { min: 0, max: MAX_SPAN_US / 1e6 });
      durationNs = options.duration * 1e9;
    }
    if (this.frames === 0) throw new Error('Mp4Muxer.finish: no frames were added, so there is no video');
    this._state = 'finishing';
    let result;
    try {
      const ok = this._native.finish(durationNs);
      this._collect();
      check(this._M, ok, 'Mp4Muxer.finish');
      result = this._finishedResult();
    } catch (e) {
      this._stop(e);
      throw e;
    }
    return this._complete(result);
  }

  _finishedResult() {
    const s = this._native.stats();
    const audio = this._audio;
    this._audio = null;  // WebmOutput describes WebM's Opus track; this one is described below
    const result = super._finishedResult();
    this._audio = audio;
    result.codec = s.codec;
    result.mimeType = s.mimeType;
    result.layout = this.layout;
    result.fragments = s.fragments;
    if (result.blob) result.blob = new Blob([result.data], { type: s.mimeType });
    if (audio) {
      result.audio = { codec: audio.codec === 'opus' ? 'opus' : 'aac', sampleRate: audio.sampleRate, channels: audio.channels,
        packets: s.audioPackets, duration: s.audioDuration };
    }
    return result;
  }
}
