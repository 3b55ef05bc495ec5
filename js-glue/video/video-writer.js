// VideoWriter: RGBA frames in, a frame-exact VP8/VP9 WebM out, encoded in wasm (libvpx + libwebm).
// Works the same in Node, a page and a Worker (no DOM use). The video module loads on first use.
//
// Audio (`audio: { sampleRate, channels, bitrate? }`): PCM given to addAudio() is encoded to Opus by
// OpusEncoder (the separate audio module, libopus) and its packets go to the writer's Opus track in the
// video module (wasm/video/video_writer.h): VP8/VP9 + Opus in one WebM.
//
// H.264 (`codec: 'h264'`, MP4 only): OpenH264 in the separate capturekit-h264 module, through
// h264-video-writer.js (the same methods and timing; H.264 in WebM is refused as a TypeError).
// MP4 (`container: 'mp4'`): VP9 (vp09 + vpcC) and Opus (dOps) in MP4 (wasm/video/mp4_muxer.h),
// fragmented when streamed with ondata, progressive (moov first) in memory, or as `layout` says. VP8
// has no MP4 mapping (a TypeError), and MP4 carries no per-frame metadata.
import { OpusEncoder, describePcm, normaliseOpusOptions } from '../audio/opus-encoder.js';
import { initVideo } from '../video.js';
import { checkEnum, checkImage, checkNumber } from '../validate.js';
import { alloc, check } from '../wasm-memory.js';
import { H264VideoWriter } from './h264-video-writer.js';
import { WebmOutput } from './webm-output.js';

// The same limits as wasm/video/vpx_encoder.h, video_writer.h and webm_muxer.h.
export const VIDEO_LIMITS = Object.freeze({
  minSide: 2,
  maxSide: 8192,
  minFps: 0.1,
  maxFps: 240,
  minBitrate: 10_000,
  maxBitrate: 200_000_000,
  maxKeyframeInterval: 100_000,
  maxMetadataBytes: 1 << 20,
  speed: Object.freeze({ vp8: Object.freeze([-16, 16]), vp9: Object.freeze([5, 9]) }),
});

const OPTION_KEYS = new Set(['codec', 'width', 'height', 'fps', 'bitrate', 'keyframeInterval', 'speed',
  'rateControl', 'flipY', 'ondata', 'module', 'h264Module', 'audio', 'container', 'layout']);
const AUDIO_CALL_KEYS = new Set(['timestampUs']);
const MAX_SAFE_US = 2 ** 53;

function normaliseOptions(options) {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`VideoWriter.create: options must be an object { codec, width, height, fps, ... }, got ${options === null ? 'null' : typeof options}`);
  }
  for (const k of Object.keys(options)) {
    if (!OPTION_KEYS.has(k)) throw new TypeError(`VideoWriter.create: unknown option "${k}" (known: ${[...OPTION_KEYS].join(', ')})`);
  }
  const L = VIDEO_LIMITS;
  const container = options.container === undefined ? 'webm' : options.container;
  checkEnum(container, 'VideoWriter.create: container', ['webm', 'mp4']);
  const o = {
    container,
    codec: options.codec === undefined ? (container === 'mp4' ? 'vp9' : 'vp8') : options.codec,
    width: options.width,
    height: options.height,
    fps: options.fps === undefined ? 30 : options.fps,
    bitrate: options.bitrate === undefined ? 2_500_000 : options.bitrate,
    keyframeInterval: options.keyframeInterval,
    speed: options.speed,
    rateControl: options.rateControl === undefined ? 'vbr' : options.rateControl,
    flipY: options.flipY === undefined ? false : options.flipY,
  };
  checkEnum(o.codec, 'VideoWriter.create: codec', ['vp8', 'vp9', 'h264']);
  if (o.codec === 'h264' && container !== 'mp4') {
    throw new TypeError("VideoWriter.create: H.264 is not stored in WebM; use container 'mp4' with codec 'h264'");
  }
  if (o.codec === 'h264' && options.speed !== undefined) {
    throw new TypeError("VideoWriter.create: speed is libvpx's (VP8/VP9); H.264 (OpenH264) has none");
  }
  if (container === 'mp4' && o.codec === 'vp8') {
    throw new TypeError("VideoWriter.create: VP8 cannot be stored in MP4; use codec 'vp9' or container 'webm'");
  }
  if (options.layout !== undefined && container !== 'mp4') {
    throw new TypeError("VideoWriter.create: layout is an MP4 option (container: 'mp4')");
  }
  o.layout = options.layout === undefined ? (options.ondata ? 'fragmented' : 'progressive') : options.layout;
  checkEnum(o.layout, 'VideoWriter.create: layout', ['fragmented', 'progressive']);
  checkNumber(o.width, 'VideoWriter.create: width', { integer: true, min: L.minSide, max: L.maxSide });
  checkNumber(o.height, 'VideoWriter.create: height', { integer: true, min: L.minSide, max: L.maxSide });
  checkNumber(o.fps, 'VideoWriter.create: fps', { min: L.minFps, max: L.maxFps });
  checkNumber(o.bitrate, 'VideoWriter.create: bitrate (bits per second)', { min: L.minBitrate, max: L.maxBitrate });
  o.bitrate = Math.round(o.bitrate);
  if (o.keyframeInterval === undefined) o.keyframeInterval = 0;  // native default: 2 s worth of frames
  else checkNumber(o.keyframeInterval, 'VideoWriter.create: keyframeInterval (frames)', { integer: true, min: 1, max: L.maxKeyframeInterval });
  if (o.speed === undefined || o.codec === 'h264') o.speed = 0;  // native default: vp8 -6, vp9 8
  else {
    const [lo, hi] = L.speed[o.codec];
    checkNumber(o.speed, `VideoWriter.create: speed for ${o.codec}`, { integer: true, min: lo, max: hi });
    if (o.speed === 0) throw new RangeError('VideoWriter.create: speed 0 is not allowed (use a negative value for a fixed VP8 speed)');
  }
  checkEnum(o.rateControl, 'VideoWriter.create: rateControl', ['vbr', 'cbr']);
  if (typeof o.flipY !== 'boolean') throw new TypeError(`VideoWriter.create: flipY must be a boolean, got ${typeof o.flipY}`);
  if (options.ondata !== undefined && typeof options.ondata !== 'function') {
    throw new TypeError(`VideoWriter.create: ondata must be a function (bytes, offset), got ${typeof options.ondata}`);
  }
  o.audio = options.audio === undefined || options.audio === null ? null
    : normaliseOpusOptions(options.audio, 'VideoWriter.create: audio');
  return o;
}

const encoder = typeof TextEncoder === 'function' ? new TextEncoder() : null;

/** Per-frame metadata as bytes (objects as JSON), or null; shared with WebmMuxer (webm-muxer.js). */
export function metadataBytes(metadata, context = 'VideoWriter.addFrame') {
  if (metadata === undefined || metadata === null) return null;
  let bytes;
  if (metadata instanceof Uint8Array) bytes = metadata;
  else if (typeof metadata === 'string') bytes = encoder.encode(metadata);
  else if (typeof metadata === 'object') {
    let json;
    try {
      json = JSON.stringify(metadata);
    } catch (e) {
      throw new TypeError(`${context}: metadata cannot be turned into JSON: ${e.message}`);
    }
    bytes = encoder.encode(json);
  } else {
    throw new TypeError(`${context}: metadata must be an object, a JSON string or a Uint8Array, got ${typeof metadata}`);
  }
  if (bytes.length > VIDEO_LIMITS.maxMetadataBytes) {
    throw new RangeError(`${context}: metadata is ${bytes.length} bytes, the limit is ${VIDEO_LIMITS.maxMetadataBytes}`);
  }
  return bytes.length ? bytes : null;
}

/**
 * Encodes RGBA frames into a WebM file (VP8 or VP9), frame-exact: N frames in give N frames out, and
 * without timestamps they last exactly N / fps.
 *
 * Output goes to memory (finish() returns it) or, with `ondata`, streams out as it is produced:
 * ondata(bytes, offset) is called in order; offset equal to the bytes received so far means append,
 * a smaller offset means overwrite (at finish() the header is patched: duration, sizes, cue position).
 * Writing every call at its offset (a file handle's positioned write, or a Uint8Array) gives exactly the
 * in-memory file. If ondata returns a promise, the next call waits for it; finish() waits for all.
 *
 * Per-frame metadata (say an XR pose) is stored in the file itself as a Matroska BlockAdditional
 * (BlockAddID 2, UTF-8 JSON) on that frame's block.
 */
export class VideoWriter extends WebmOutput {
  /**
   * @param {object} options
   * @param {'vp8'|'vp9'|'h264'} [options.codec='vp8'] (container 'mp4': 'vp9' by default; 'h264' only in MP4:
   *   OpenH264 in wasm, Constrained Baseline, even sizes only; returns an H264VideoWriter with the same methods)
   * @param {number} options.width 2..8192 (odd sizes are fine)
   * @param {number} options.height 2..8192
   * @param {number} [options.fps=30] 0.1..240: frame timing without timestamps, and rate control
   * @param {number} [options.bitrate=2500000] bits per second
   * @param {number} [options.keyframeInterval] frames between keyframes (seek points); default 2 s worth
   * @param {number} [options.speed] libvpx cpu_used: vp8 -16..16 (negative = fixed speed, default -6;
   *   positive = libvpx adapts to the time each frame took, so the output depends on the machine),
   *   vp9 5..9 (default 8)
   * @param {'vbr'|'cbr'} [options.rateControl='vbr']
   * @param {boolean} [options.flipY=false] frames come bottom-up (WebGL/WebXR readPixels)
   * @param {(bytes: Uint8Array, offset: number) => void|Promise<void>} [options.ondata] stream the file out
   * @param {object} [options.module] options for loading the video module (see initVideo), or a module
   *   instance from loadVideoVariant()
   * @param {object} [options.h264Module] codec 'h264': options for initH264, or a module from loadH264Variant()
   * @param {object} [options.audio] an Opus track from PCM: { sampleRate (8000|12000|16000|24000|48000,
   *   default 48000), channels: 1|2, bitrate? (default 64000 mono, 96000 stereo), frameMs? (20),
   *   application? ('audio'|'voip'), complexity? (0..10, default 10), module? (options for initAudio, or a
   *   module from loadAudioVariant()) }. Loads the audio module (libopus) too.
   * @returns {Promise<VideoWriter>}
   */
  static async create(options) {
    const o = normaliseOptions(options);
    // H.264: OpenH264 (the capturekit-h264 module) + the MP4 muxer, composed in JS (h264-video-writer.js).
    if (o.codec === 'h264') return H264VideoWriter.create(o, options);
    // `module`: options for loading the shared module, or a module from loadVideoVariant().
    const [M, encoder] = await Promise.all([
      options.module && typeof options.module.VideoWriter === 'function'
        ? options.module : initVideo(options.module || {}),
      o.audio ? OpusEncoder.create({ ...o.audio, module: options.audio.module }) : null,
    ]);
    try {
      return new VideoWriter(M, o, options.ondata, encoder);
    } catch (e) {
      encoder?.close();
      throw e;
    }
  }

  /** @private use VideoWriter.create() */
  constructor(M, o, ondata, encoder = null) {
    if (!M || typeof M.VideoWriter !== 'function') throw new TypeError('VideoWriter: use `await VideoWriter.create(options)`');
    super(M, new M.VideoWriter(), ondata, { label: 'VideoWriter', file: 'video', self: 'writer' });
    this._o = o;
    this._buffer = 0;
    this._bufferSize = 0;
    this._packetBuffer = 0;
    this._packetBufferSize = 0;
    this._encoder = encoder;
    this._audio = encoder ? { sampleRate: encoder.sampleRate, channels: encoder.channels } : null;
    try {
      const { audio, layout, ...video } = o;
      if (encoder) this._native.setAudio(encoder.channels, encoder.sampleRate, encoder.preSkip);
      check(M, this._native.open({ ...video, mp4Layout: layout, streaming: !!ondata }), 'VideoWriter.create');
    } catch (e) {
      this._release();
      throw e;
    }
    const s = this._native.stats();
    /** @type {'vp8'|'vp9'} */ this.codec = o.codec;
    /** @type {'webm'|'mp4'} */ this.container = o.container;
    /** @type {number} */ this.width = o.width;
    /** @type {number} */ this.height = o.height;
    /** @type {number} */ this.fps = o.fps;
    /** @type {number} */ this.keyframeInterval = s.keyframeInterval;
    /** @type {number} */ this.speed = s.speed;
    /** Frames added so far. */
    this.frames = 0;
  }

  /**
   * Encodes one frame.
   * @param {{data: Uint8Array|Uint8ClampedArray|ArrayBuffer, width: number, height: number, stride?: number}} image RGBA
   * @param {{timestampUs?: number, metadata?: object|string|Uint8Array}} [options] timestampUs from any
   *   clock (the first frame's is zero; each must be later than the last); without it the frame is shown
   *   1/fps after the previous one. metadata is stored with the frame (objects as JSON).
   */
  addFrame(image, options = {}) {
    this._usable('addFrame');
    if (options === null || typeof options !== 'object') throw new TypeError('VideoWriter.addFrame: options must be an object { timestampUs?, metadata? }');
    const img = checkImage(image, 'VideoWriter.addFrame: image');
    if (img.width !== this.width || img.height !== this.height) {
      throw new RangeError(`VideoWriter.addFrame: frame is ${img.width}x${img.height} but the video is ${this.width}x${this.height}`);
    }
    let ts = null;
    if (options.timestampUs !== undefined) {
      checkNumber(options.timestampUs, 'VideoWriter.addFrame: timestampUs', { min: -MAX_SAFE_US, max: MAX_SAFE_US });
      ts = Math.round(options.timestampUs);
    }
    const meta = metadataBytes(options.metadata);
    if (meta && this.container === 'mp4') {
      throw new TypeError("VideoWriter.addFrame: MP4 files carry no per-frame metadata; use container 'webm' for metadata");
    }
    const M = this._M;
    if (this._bufferSize < img.data.length) {
      if (this._buffer) M._free(this._buffer);
      this._buffer = 0;
      this._buffer = alloc(M, img.data.length, 'video frame');
      this._bufferSize = img.data.length;
    }
    let metaPtr = 0;
    try {
      M.HEAPU8.set(img.data, this._buffer);
      if (meta) {
        metaPtr = alloc(M, meta.length, 'frame metadata');
        M.HEAPU8.set(meta, metaPtr);
      }
      const ok = this._native.addFrame(this._buffer, img.width, img.height, img.stride, ts !== null, ts ?? 0,
        metaPtr, meta ? meta.length : 0);
      this._collect();
      if (!ok) this._fail('VideoWriter.addFrame');
    } finally {
      if (metaPtr) M._free(metaPtr);
    }
    this.frames++;
  }

  /**
   * Encodes PCM audio (Opus, in wasm) into the file's audio track. Any number of samples per call; what
   * does not fill a 20 ms frame waits for the next call (finish() pads and writes the rest).
   * @param {Float32Array|Int16Array|Float32Array[]} pcm interleaved samples (Float32 nominally -1..1), or
   *   one Float32Array per channel
   * @param {{timestampUs?: number}} [options] when the first of these samples was heard, on the frames'
   *   clock (the first timestamp given, a frame's or the audio's, is zero). Without it the samples follow
   *   the previous ones (the first call: at zero). A jump ahead is filled with silence (up to 60 s); a jump
   *   back of more than 20 ms is a RangeError; within 20 ms the sample count wins (clocks jitter).
   */
  addAudio(pcm, options = {}) {
    this._usable('addAudio');
    if (!this._encoder) throw new Error('VideoWriter.addAudio: this writer has no audio track (create it with the `audio` option)');
    if (options === null || typeof options !== 'object') throw new TypeError('VideoWriter.addAudio: options must be an object { timestampUs? }');
    for (const k of Object.keys(options)) {
      if (!AUDIO_CALL_KEYS.has(k)) throw new TypeError(`VideoWriter.addAudio: unknown option "${k}" (known: ${[...AUDIO_CALL_KEYS].join(', ')})`);
    }
    describePcm(pcm, this._encoder.channels, 'VideoWriter.addAudio');  // the shape, before any work
    const encodeOptions = {};
    if (options.timestampUs !== undefined) {
      checkNumber(options.timestampUs, 'VideoWriter.addAudio: timestampUs', { min: -MAX_SAFE_US, max: MAX_SAFE_US });
      const fileUs = this._native.audioTimeUs(Math.round(options.timestampUs));
      if (fileUs < 0) check(this._M, false, 'VideoWriter.addAudio');
      encodeOptions.atSample = Math.round(fileUs * this._encoder.sampleRate / 1e6);
    }
    let packets;
    try {
      packets = this._encoder.encode(pcm, encodeOptions);
    } catch (e) {
      throw new e.constructor(e.message.replace(/^OpusEncoder\.encode/, 'VideoWriter.addAudio'));
    }
    this._writePackets(packets);
  }

  _writePackets(packets) {
    const M = this._M;
    const rate = this._encoder.sampleRate;
    for (const p of packets) {
      if (this._packetBufferSize < p.data.length) {
        if (this._packetBuffer) M._free(this._packetBuffer);
        this._packetBuffer = 0;
        this._packetBuffer = alloc(M, Math.max(p.data.length, 1024), 'audio packet');
        this._packetBufferSize = Math.max(p.data.length, 1024);
      }
      M.HEAPU8.set(p.data, this._packetBuffer);
      const ok = this._native.addAudio(this._packetBuffer, p.data.length, Math.round(p.pts * 1e9 / rate),
        Math.round(p.padding * 1e9 / rate));
      this._collect();
      if (!ok) this._fail('VideoWriter.addAudio');
    }
  }

  /**
   * Finishes the file: cues, exact duration, header. Resolves when every ondata call has settled.
   * @returns {Promise<{codec: 'vp8'|'vp9', mimeType: string, width: number, height: number, frames: number,
   *   keyframes: number, duration: number, averageFps: number, bytes: number, data?: Uint8Array, blob?: Blob}>}
   *   duration in seconds; bytes = the file size; data (and blob where Blob exists) without ondata.
   */
  async finish() {
    this._usable('finish');
    const M = this._M;
    this._state = 'finishing';
    let result;
    try {
      // The audio's last partial frame, padded (the packet's DiscardPadding drops the padding).
      if (this._encoder && this.frames > 0) this._writePackets(this._encoder.flush());
      if (!this._native.finish()) {
        this._collect();
        check(M, false, 'VideoWriter.finish');
      }
      this._collect();
      result = this._finishedResult();
    } catch (e) {
      // A refused finish (no frames yet) leaves the writer open; a failure ends it.
      if (this._native && !this._native.failed()) {
        this._state = 'open';
      } else {
        this._stop(e);
      }
      throw e;
    }
    return this._complete(result);
  }

  // WebM's description, with MP4's MIME type (its codecs as written, e.g. vp09.00.10.08) and layout.
  _finishedResult() {
    if (this.container !== 'mp4') return super._finishedResult();
    const mimeType = this._native.stats().mimeType;
    const result = super._finishedResult();
    result.mimeType = mimeType;
    result.container = 'mp4';
    result.layout = this._o.layout;
    if (result.blob) result.blob = new Blob([result.data], { type: mimeType });
    return result;
  }

  _release() {
    if (this._buffer) this._M._free(this._buffer);
    this._buffer = 0;
    this._bufferSize = 0;
    if (this._packetBuffer) this._M._free(this._packetBuffer);
    this._packetBuffer = 0;
    this._packetBufferSize = 0;
    this._encoder?.close();
    this._encoder = null;
    super._release();
  }
}
