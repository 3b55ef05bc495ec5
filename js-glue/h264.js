// The H.264 wasm module (OpenH264's encoder, Constrained Baseline): a separate module (about 150 KB
// gzipped) fetched only when H.264 is first encoded in wasm (VideoWriter with codec 'h264',
// H264Encoder.create) or initH264() is called: where the platform has no H.264 encoder of its own (Node,
// a browser without WebCodecs). It needs neither the image nor the video module. Baseline and SIMD
// builds (-msimd128: clang's auto-vectorisation of OpenH264's C++; see bench/h264.bench.js).
import { loadModule } from './loader.js';
import { checkEnum, checkImage, checkNumber } from './validate.js';
import { alloc, check } from './wasm-memory.js';

const spec = {
  name: 'H.264',
  probe: 'H264Encoder',
  baseline: {
    factory: () => import('../dist/capturekit-h264.mjs'),
    wasmUrl: () => new URL('../dist/capturekit-h264.wasm', import.meta.url),
  },
  simd: {
    factory: () => import('../dist/capturekit-h264-simd.mjs'),
    wasmUrl: () => new URL('../dist/capturekit-h264-simd.wasm', import.meta.url),
  },
};

let pending = null;
let h264 = null;

/**
 * Loads the H.264 module (later calls return the same promise). Optional: H264Encoder.create() calls it.
 * @param {{simd?: boolean|'auto', wasm?: any, factory?: Function}} [options] as for init()
 */
export function initH264(options = {}) {
  if (!pending) {
    pending = loadModule(spec, options).then((m) => (h264 = m), (e) => { pending = null; throw e; });
  }
  return pending;
}

/** A separate instance of one build (baseline or SIMD), outside the shared one (benchmarks, tests). */
export function loadH264Variant(simd) {
  return loadModule(spec, { simd: !!simd });
}

/** True when the H.264 module is loaded. */
export function isH264Loaded() {
  return h264 !== null;
}

// The same limits as wasm/h264/h264_encoder.h.
export const H264_LIMITS = Object.freeze({
  minSide: 16, maxSide: 4096, minFps: 0.1, maxFps: 240, minBitrate: 10_000, maxBitrate: 100_000_000,
  maxKeyframeInterval: 100_000,
});
const OPTION_KEYS = new Set(['width', 'height', 'fps', 'bitrate', 'keyframeInterval', 'rateControl', 'format', 'module']);

function normaliseOptions(options) {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`H264Encoder.create: options must be an object { width, height, fps?, bitrate?, ... }, got ${options === null ? 'null' : typeof options}`);
  }
  for (const k of Object.keys(options)) {
    if (!OPTION_KEYS.has(k)) throw new TypeError(`H264Encoder.create: unknown option "${k}" (known: ${[...OPTION_KEYS].join(', ')})`);
  }
  const L = H264_LIMITS;
  const o = {
    width: options.width,
    height: options.height,
    fps: options.fps === undefined ? 30 : options.fps,
    bitrate: options.bitrate === undefined ? 2_500_000 : options.bitrate,
    keyframeInterval: options.keyframeInterval,
    rateControl: options.rateControl === undefined ? 'bitrate' : options.rateControl,
    format: options.format === undefined ? 'annexb' : options.format,
  };
  for (const side of ['width', 'height']) {
    checkNumber(o[side], `H264Encoder.create: ${side}`, { integer: true, min: L.minSide, max: L.maxSide });
    if (o[side] % 2) throw new RangeError(`H264Encoder.create: ${side} ${o[side]} is odd; 4:2:0 H.264 needs an even ${side}`);
  }
  checkNumber(o.fps, 'H264Encoder.create: fps', { min: L.minFps, max: L.maxFps });
  checkNumber(o.bitrate, 'H264Encoder.create: bitrate (bits per second)', { min: L.minBitrate, max: L.maxBitrate });
  o.bitrate = Math.round(o.bitrate);
  if (o.keyframeInterval === undefined) o.keyframeInterval = Math.max(1, Math.round(2 * o.fps));
  else checkNumber(o.keyframeInterval, 'H264Encoder.create: keyframeInterval (frames)', { integer: true, min: 1, max: L.maxKeyframeInterval });
  checkEnum(o.rateControl, 'H264Encoder.create: rateControl', ['bitrate', 'quality']);
  checkEnum(o.format, 'H264Encoder.create: format', ['annexb', 'avc']);
  return o;
}

/**
 * H.264 (Constrained Baseline) from RGBA or I420 pictures, encoded in wasm by OpenH264: one access unit
 * out for every picture in (no frame skipping, no B-frames), key frames when asked and keyframeInterval
 * pictures after the last one. format 'annexb': start codes, SPS/PPS in front of every key frame; 'avc': 4-byte
 * lengths, SPS/PPS only in `avcC` (what MP4 and VideoDecoder's description take).
 */
export class H264Encoder {
  /**
   * @param {object} options
   * @param {number} options.width even, 16..4096
   * @param {number} options.height even, 16..4096
   * @param {number} [options.fps=30] the rate control's frame rate
   * @param {number} [options.bitrate=2500000] bits per second
   * @param {number} [options.keyframeInterval] pictures between key frames; default 2 s worth
   * @param {'bitrate'|'quality'} [options.rateControl='bitrate']
   * @param {'annexb'|'avc'} [options.format='annexb']
   * @param {object} [options.module] options for initH264, or a module from loadH264Variant()
   * @returns {Promise<H264Encoder>}
   */
  static async create(options) {
    const o = normaliseOptions(options);
    const M = options.module && typeof options.module.H264Encoder === 'function'
      ? options.module : await initH264(options.module || {});
    return new H264Encoder(M, o);
  }

  /** @private use H264Encoder.create() */
  constructor(M, o) {
    if (!M || typeof M.H264Encoder !== 'function') throw new TypeError('H264Encoder: use `await H264Encoder.create(options)`');
    this._M = M;
    this._native = new M.H264Encoder();
    this._buffer = 0;
    this._bufferSize = 0;
    try {
      check(M, this._native.open(o), 'H264Encoder.create');
      /** The avcC (AVCDecoderConfigurationRecord) of the stream. */
      this.avcC = this._native.avcC().slice();
      /** 'avc1.42c01f' style: profile, constraints and level of the stream. */
      this.codec = this._native.codecString();
    } catch (e) {
      this.close();
      throw e;
    }
    this.width = o.width;
    this.height = o.height;
    this.fps = o.fps;
    this.bitrate = o.bitrate;
    this.keyframeInterval = o.keyframeInterval;
    this.format = o.format;
  }

  _usable(what) {
    if (!this._native) throw new Error(`H264Encoder.${what}: the encoder is closed`);
  }

  _room(size) {
    if (this._bufferSize < size) {
      if (this._buffer) this._M._free(this._buffer);
      this._buffer = 0;
      this._buffer = alloc(this._M, size, 'H.264 picture');
      this._bufferSize = size;
    }
    return this._buffer;
  }

  _take() {
    const f = this._native.frame();
    return { data: f.data.slice(), keyframe: f.keyframe, index: f.index };
  }

  /**
   * Encodes one RGBA picture (BT.601 limited range, as VideoWriter's VP8/VP9).
   * @param {{data: Uint8Array|Uint8ClampedArray|ArrayBuffer, width: number, height: number, stride?: number}} image
   * @param {{keyframe?: boolean}} [options] keyframe: make this picture a key frame
   * @returns {{data: Uint8Array, keyframe: boolean, index: number}} the access unit (a copy)
   */
  encode(image, options = {}) {
    this._usable('encode');
    const img = checkImage(image, 'H264Encoder.encode: image');
    if (img.width !== this.width || img.height !== this.height) {
      throw new RangeError(`H264Encoder.encode: picture is ${img.width}x${img.height} but the encoder is ${this.width}x${this.height}`);
    }
    const key = keyOption(options, 'H264Encoder.encode');
    const p = this._room(img.data.length);
    this._M.HEAPU8.set(img.data, p);
    check(this._M, this._native.encodeRgba(p, img.width, img.height, img.stride, key), 'H264Encoder.encode');
    return this._take();
  }

  /**
   * Encodes one I420 picture: y of width x height, u and v of width/2 x height/2, tightly packed.
   * @param {{y: Uint8Array, u: Uint8Array, v: Uint8Array}} planes
   * @param {{keyframe?: boolean}} [options]
   */
  encodeI420(planes, options = {}) {
    this._usable('encodeI420');
    if (planes === null || typeof planes !== 'object') throw new TypeError('H264Encoder.encodeI420: planes must be an object { y, u, v }');
    const ySize = this.width * this.height;
    const cSize = (this.width / 2) * (this.height / 2);
    for (const [name, size] of [['y', ySize], ['u', cSize], ['v', cSize]]) {
      const plane = planes[name];
      if (!(plane instanceof Uint8Array) && !(plane instanceof Uint8ClampedArray)) {
        throw new TypeError(`H264Encoder.encodeI420: planes.${name} must be a Uint8Array`);
      }
      if (plane.length !== size) throw new RangeError(`H264Encoder.encodeI420: planes.${name} has ${plane.length} bytes, ${this.width}x${this.height} I420 needs ${size}`);
    }
    const key = keyOption(options, 'H264Encoder.encodeI420');
    const p = this._room(ySize + 2 * cSize);
    const heap = this._M.HEAPU8;
    heap.set(planes.y, p);
    heap.set(planes.u, p + ySize);
    heap.set(planes.v, p + ySize + cSize);
    check(this._M, this._native.encodeI420(p, p + ySize, p + ySize + cSize, this.width, this.width / 2, key), 'H264Encoder.encodeI420');
    return this._take();
  }

  /** Pictures encoded so far. */
  get frames() {
    return this._native ? this._native.frames() : 0;
  }

  /** Frees the encoder and its wasm memory (later calls throw). */
  close() {
    if (this._buffer) this._M._free(this._buffer);
    this._buffer = 0;
    this._bufferSize = 0;
    if (this._native) {
      this._native.close();
      this._native.delete();
    }
    this._native = null;
  }
}

function keyOption(options, context) {
  if (options === null || typeof options !== 'object') throw new TypeError(`${context}: options must be an object { keyframe? }`);
  for (const k of Object.keys(options)) {
    if (k !== 'keyframe') throw new TypeError(`${context}: unknown option "${k}" (known: keyframe)`);
  }
  const key = options.keyframe === undefined ? false : options.keyframe;
  if (typeof key !== 'boolean') throw new TypeError(`${context}: keyframe must be a boolean, got ${typeof key}`);
  return key;
}
