// WebmMuxer: VP8/VP9 frames encoded elsewhere (the browser's VideoEncoder, an IVF file, another
// encoder) in, a seekable WebM out, muxed in wasm by libwebm (wasm/video/webm_muxer.h: the same muxer,
// layout and per-frame metadata as VideoWriter). Works in Node, a page and a Worker. The video module
// loads on first use.
//
// Output: in memory (finish() returns it) or streamed with ondata(bytes, offset), with VideoWriter's
// contract and delivery code (both extend WebmOutput, webm-output.js): in order, offset == bytes so far appends, a smaller offset overwrites
// (the header patches at finish()); a promise from ondata holds the next call back.
import { initVideo } from '../video.js';
import { asBytes, checkEnum, checkNumber } from '../validate.js';
import { alloc, check } from '../wasm-memory.js';
import { VIDEO_LIMITS, metadataBytes } from './video-writer.js';
import { WebmOutput } from './webm-output.js';

const OPTION_KEYS = new Set(['codec', 'width', 'height', 'fps', 'ondata', 'module']);
const FRAME_KEYS = new Set(['keyframe', 'timestampUs', 'metadata']);
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
    this._firstUs = null;
    this._lastUs = null;
    try {
      check(M, this._native.open({ ...o, streaming: !!ondata }), 'WebmMuxer.create');
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
