// createRecorder(source, options): records a canvas (2D, WebGL, WebGL2), an immersive WebXR session, or
// frames the app hands over (source null: Node, offline rendering) into a WebM.
//
// Backends (options.backend):
//   wasm          frame-exact: each frame is read back (the screenshot path: readPixels right after the
//                 app drew, inside the render loop or XR frame callback), converted to I420 in wasm and
//                 encoded by libvpx in a Worker. Nothing is dropped: frames wait in a queue of at most
//                 maxQueuedFrames; when it is full the recorder reports backpressure (an event, and an
//                 Error from addFrame/captureFrame) instead of losing frames silently.
//   webcodecs     the browser's VideoEncoder encodes, capturekit muxes (same file layout, same metadata).
//   mediarecorder canvas.captureStream() + MediaRecorder (the browser decides timing, may drop frames);
//                 optional microphone; the file is repaired (made seekable) when it stops.
//   auto          webcodecs where VideoEncoder supports the codec and size, else wasm.
//
// Output: ondata(bytes, offset) receives the file as it is produced (offset = bytes so far appends, a
// smaller offset overwrites: the header patched at the end), so memory stays bounded; without ondata the
// file is kept in memory and stop() returns it as `data` and `blob`.
//
// Frames: options.frames 'auto' (default for canvases and XR sessions: the recorder takes frames from
// the render loop by itself) or 'manual' (the app calls captureFrame()/captureXRFrame()/addFrame()).
// Timing: 'fps' (frame n is shown at n / fps: frame-exact, every frame is kept) or 'realtime' (frames are
// stamped with the time they were drawn; in auto mode at most fps frames per second are taken).
import { checkEnum, checkNumber } from '../validate.js';
import { VIDEO_LIMITS } from '../video/video-writer.js';
import { nextFrameAfterDraw } from '../capture/frame.js';
import { isWebGL, isWebGL2, readAsync, readSync, textureTargets } from '../capture/readback.js';
import { getDeviceInfo, inferSessionMode } from '../capture/metadata.js';
import { isSessionEnded, trackXRSession } from '../capture/xr-capture.js';
import { RecordingOutput } from './output.js';
import { xrFrameMetadata } from './frame-metadata.js';
import { WasmBackend } from './backends/wasm.js';
import { WebCodecsBackend } from './backends/webcodecs.js';
import { MediaRecorderBackend } from './backends/mediarecorder.js';

const W = 'createRecorder';
const BACKENDS = ['auto', 'wasm', 'webcodecs', 'mediarecorder'];
const OPTION_KEYS = new Set(['backend', 'codec', 'fps', 'bitrate', 'keyframeInterval', 'speed', 'size', 'frames', 'timing',
  'maxQueuedFrames', 'ondata', 'onbackpressure', 'onerror', 'worker', 'readback', 'metadata', 'frameMetadata',
  'gl', 'referenceSpace', 'view', 'binding', 'context', 'timeslice', 'audio', 'repair', 'sessionMode']);
export const RECORDER_LIMITS = Object.freeze({ maxQueuedFrames: 1024, minTimeslice: 10, maxTimeslice: 3_600_000 });

function describe(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return v.constructor ? v.constructor.name : 'an object';
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

const isHTMLCanvas = (c) => typeof HTMLCanvasElement === 'function' && c instanceof HTMLCanvasElement;
const isOffscreen = (c) => typeof OffscreenCanvas === 'function' && c instanceof OffscreenCanvas;
const isXRSession = (s) => !!s && typeof s === 'object' && typeof s.requestAnimationFrame === 'function' &&
  typeof s.requestReferenceSpace === 'function' && 'renderState' in s;

function sourceKind(source) {
  if (source === null || source === undefined) return 'frames';
  if (isHTMLCanvas(source) || isOffscreen(source)) return 'canvas';
  if (isXRSession(source)) return 'xr';
  throw new TypeError(`${W}: source must be an HTMLCanvasElement, an OffscreenCanvas, an XRSession, or null (frames given with addFrame), got ${describe(source)}`);
}

function canvasContext(canvas, given) {
  if (given) {
    if (given.canvas !== canvas) throw new TypeError(`${W}: options.context belongs to a different canvas`);
    return given;
  }
  for (const kind of ['2d', 'webgl2', 'webgl']) {
    let ctx = null;
    try {
      ctx = canvas.getContext(kind);
    } catch (err) {
      if (err && err.name === 'InvalidStateError') throw new Error(`${W}: the canvas was transferred to an OffscreenCanvas; record that OffscreenCanvas instead`);
      throw err;
    }
    if (ctx) return ctx;
  }
  throw new TypeError(`${W}: the canvas has a rendering context capturekit cannot read (only 2d, webgl and webgl2)`);
}

/** Validates and fills in the options (throws TypeError/RangeError before anything starts). */
export function normalizeRecorderOptions(options, kind) {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object') throw new TypeError(`${W}: options must be an object, got ${describe(options)}`);
  for (const k of Object.keys(options)) {
    if (!OPTION_KEYS.has(k)) throw new TypeError(`${W}: unknown option "${k}" (known: ${[...OPTION_KEYS].join(', ')})`);
  }
  const L = VIDEO_LIMITS;
  const o = { ...options };
  o.backend = o.backend === undefined ? 'auto' : checkEnum(o.backend, `${W}: options.backend`, BACKENDS);
  const codecs = o.backend === 'mediarecorder' ? ['vp8', 'vp9', 'h264', 'auto'] : ['vp8', 'vp9'];
  o.codec = o.codec === undefined ? (o.backend === 'mediarecorder' ? 'auto' : 'vp8') : checkEnum(o.codec, `${W}: options.codec${o.backend === 'mediarecorder' ? '' : ' (h264 needs backend "mediarecorder")'}`, codecs);
  o.fps = o.fps === undefined ? 30 : checkNumber(o.fps, `${W}: options.fps`, { min: L.minFps, max: L.maxFps });
  o.bitrate = o.bitrate === undefined ? 2_500_000 : Math.round(checkNumber(o.bitrate, `${W}: options.bitrate (bits per second)`, { min: L.minBitrate, max: L.maxBitrate }));
  if (o.keyframeInterval !== undefined) checkNumber(o.keyframeInterval, `${W}: options.keyframeInterval (frames)`, { integer: true, min: 1, max: L.maxKeyframeInterval });
  if (o.speed !== undefined) {
    if (o.backend !== 'wasm') throw new TypeError(`${W}: options.speed (libvpx cpu_used) only applies to backend "wasm"`);
    const [lo, hi] = L.speed[o.codec];
    checkNumber(o.speed, `${W}: options.speed for ${o.codec}`, { integer: true, min: lo, max: hi });
    if (o.speed === 0) throw new RangeError(`${W}: options.speed 0 is not allowed (use a negative value for a fixed VP8 speed)`);
  }
  if (o.size !== undefined) {
    if (o.size === null || typeof o.size !== 'object') throw new TypeError(`${W}: options.size must be { width, height }, got ${describe(o.size)}`);
    checkNumber(o.size.width, `${W}: options.size.width`, { integer: true, min: L.minSide, max: L.maxSide });
    checkNumber(o.size.height, `${W}: options.size.height`, { integer: true, min: L.minSide, max: L.maxSide });
    o.size = { width: o.size.width, height: o.size.height };
  }
  o.frames = o.frames === undefined ? (kind === 'frames' ? 'manual' : 'auto') : checkEnum(o.frames, `${W}: options.frames`, ['auto', 'manual']);
  if (kind === 'frames' && o.frames === 'auto') throw new TypeError(`${W}: frames "auto" needs a canvas or an XR session to take frames from`);
  o.timing = o.timing === undefined ? (o.frames === 'auto' && kind === 'canvas' ? 'realtime' : 'fps') : checkEnum(o.timing, `${W}: options.timing`, ['fps', 'realtime']);
  o.maxQueuedFrames = o.maxQueuedFrames === undefined ? 8 : checkNumber(o.maxQueuedFrames, `${W}: options.maxQueuedFrames`, { integer: true, min: 1, max: RECORDER_LIMITS.maxQueuedFrames });
  for (const f of ['ondata', 'onbackpressure', 'onerror']) {
    if (o[f] !== undefined && typeof o[f] !== 'function') throw new TypeError(`${W}: options.${f} must be a function, got ${describe(o[f])}`);
  }
  if (o.worker !== undefined && typeof o.worker !== 'boolean') throw new TypeError(`${W}: options.worker must be a boolean`);
  o.readback = o.readback === undefined ? 'auto' : checkEnum(o.readback, `${W}: options.readback`, ['auto', 'sync']);
  if (o.metadata !== undefined && (o.metadata === null || typeof o.metadata !== 'object')) throw new TypeError(`${W}: options.metadata must be a plain object`);
  o.frameMetadata = o.frameMetadata === undefined ? kind === 'xr' : o.frameMetadata;
  if (typeof o.frameMetadata !== 'boolean') throw new TypeError(`${W}: options.frameMetadata must be a boolean`);
  o.timeslice = o.timeslice === undefined ? 1000 : checkNumber(o.timeslice, `${W}: options.timeslice (ms)`, { integer: true, min: RECORDER_LIMITS.minTimeslice, max: RECORDER_LIMITS.maxTimeslice });
  o.repair = o.repair === undefined ? true : o.repair;
  if (typeof o.repair !== 'boolean') throw new TypeError(`${W}: options.repair must be a boolean`);
  if (o.audio !== undefined && o.backend !== 'mediarecorder') throw new TypeError(`${W}: options.audio needs backend "mediarecorder"`);
  if (kind === 'xr') {
    if (!o.referenceSpace || typeof o.referenceSpace !== 'object') throw new TypeError(`${W}: options.referenceSpace must be the XRReferenceSpace you render with (for the poses)`);
    o.view = o.view === undefined ? 0 : o.view;
    if (!(o.view === 'both' || o.view === 'left' || o.view === 'right' || (Number.isInteger(o.view) && o.view >= 0 && o.view < 16))) {
      throw new RangeError(`${W}: options.view must be a view index, "left", "right" or "both", got ${describe(o.view)}`);
    }
    if (o.backend === 'mediarecorder') throw new TypeError(`${W}: backend "mediarecorder" records a canvas; an XR session needs backend "wasm", "webcodecs" or "auto"`);
  }
  if (kind === 'frames' && o.backend === 'mediarecorder') throw new TypeError(`${W}: backend "mediarecorder" needs a canvas source`);
  return o;
}

function round(vp) {
  const x = Math.round(vp.x); const y = Math.round(vp.y);
  return { x, y, width: Math.round(vp.x + vp.width) - x, height: Math.round(vp.y + vp.height) - y };
}

function pickViews(views, view) {
  if (view === 'both') return views.map((v, i) => i);
  if (view === 'left' || view === 'right') {
    const i = views.findIndex((v) => v.eye === view);
    if (i < 0) throw new RangeError(`recorder: options.view is "${view}" but this frame has no ${view}-eye view`);
    return [i];
  }
  if (view >= views.length) throw new RangeError(`recorder: options.view ${view} but this frame has ${views.length} view(s)`);
  return [view];
}

function event(type, detail) {
  if (typeof CustomEvent === 'function') return new CustomEvent(type, { detail });
  const e = new Event(type);
  e.detail = detail;
  return e;
}

const encoder = typeof TextEncoder === 'function' ? new TextEncoder() : null;

/**
 * A recording in progress. Made by createRecorder(); records until stop().
 */
export class Recorder extends EventTarget {
  constructor(source, kind, o) {
    super();
    this._source = source;
    this._kind = kind;
    this._o = o;
    this._state = 'recording';
    this._error = null;
    this._backend = null;
    this._opening = null;
    this._chain = Promise.resolve();
    this._inFlight = 0;
    this._accepted = 0;
    this._encoded = 0;
    this._skipped = 0;
    this._readyWaiters = [];
    this._idleWaiters = [];
    this._frameMeta = []; // every frame's metadata (given, or made for XR / frameMetadata: true)
    this._size = o.size || null;
    this._firstSize = null;
    this._nextDue = null;
    this._startTime = null;
    this._started = Date.now();
    this._loop = null;
    this._ctx = null;
    this._gl = null;
    this._output = new RecordingOutput(o.ondata, (err) => this._fail(err));
    this.backend = null;
    this.codec = null;
    this.mimeType = null;
    this.width = 0;
    this.height = 0;
    this.fps = o.fps;
    this._device = null;
  }

  /** 'recording' | 'stopping' | 'stopped' | 'failed' | 'aborted' */
  get state() { return this._state; }
  /** Frames in the file so far. */
  get frames() { return this._encoded; }
  /** Frames accepted and waiting to be encoded. */
  get queued() { return this._inFlight; }
  /** Frames that may still be queued before backpressure (<= 0: full). */
  get desiredSize() { return this._o.maxQueuedFrames - this._inFlight; }
  /** Animation frames not recorded because the queue was full (auto mode), each reported as backpressure. */
  get skippedFrames() { return this._skipped; }
  /** Bytes produced so far. */
  get bytes() { return this._output.size; }
  /** The error that stopped the recording, or null. */
  get error() { return this._error; }
  /** The per-frame metadata recorded so far (XR poses, frameMetadata: true, or given to addFrame). */
  get frameMetadata() { return this._frameMeta.slice(); }

  /** Resolves when a frame may be added without backpressure (rejects if the recording failed). */
  get ready() {
    if (this._error) return Promise.reject(this._error);
    if (this._inFlight < this._o.maxQueuedFrames || this._state !== 'recording') return Promise.resolve();
    return new Promise((resolve, reject) => this._readyWaiters.push({ resolve, reject }));
  }

  _usable(what) {
    if (this._error) throw this._error;
    if (this._state === 'stopping' || this._state === 'stopped') throw new Error(`recorder.${what}: the recording is stopped; start a new recorder`);
    if (this._state === 'aborted') throw new Error(`recorder.${what}: the recording was aborted`);
  }

  _fail(err) {
    if (this._error) return;
    this._error = err;
    if (this._state === 'recording' || this._state === 'stopping') this._state = 'failed';
    this._stopLoop();
    for (const w of this._readyWaiters.splice(0)) w.reject(err);
    for (const w of this._idleWaiters.splice(0)) w.reject(err);
    try { this._backend?.abort(); } catch { /* already gone */ }
    this._o.onerror?.(err);
    this.dispatchEvent(event('error', { error: err }));
  }

  _backpressure(what) {
    const detail = { queued: this._inFlight, maxQueuedFrames: this._o.maxQueuedFrames, skippedFrames: this._skipped, what };
    this._o.onbackpressure?.(detail);
    this.dispatchEvent(event('backpressure', detail));
  }

  _checkRoom(what) {
    if (this._inFlight < this._o.maxQueuedFrames) return true;
    if (this._o.frames === 'auto' && what === 'auto') {
      this._skipped++;
      this._backpressure('skipped');
      return false;
    }
    this._backpressure('refused');
    throw new Error(`recorder.${what}: ${this._inFlight} frames are waiting to be encoded (maxQueuedFrames ${this._o.maxQueuedFrames}); ` +
      'wait for `await recorder.ready` before adding more (nothing was recorded for this call)');
  }

  // ---- frame intake ----

  _timestampUs(timeMs) {
    if (this._o.timing !== 'realtime') return undefined;
    return Math.round(timeMs * 1000);
  }

  _noteMeta(meta) {
    if (meta === undefined || meta === null) return undefined;
    let json;
    try {
      json = typeof meta === 'string' ? meta : JSON.stringify(meta);
    } catch (e) {
      throw new TypeError(`recorder: frame metadata cannot be turned into JSON: ${e.message}`);
    }
    if (typeof json !== 'string') throw new TypeError(`recorder: frame metadata must be a JSON-able object or a string, got ${describe(meta)}`);
    if (encoder && encoder.encode(json).length > VIDEO_LIMITS.maxMetadataBytes) {
      throw new RangeError(`recorder: frame metadata is larger than ${VIDEO_LIMITS.maxMetadataBytes} bytes`);
    }
    this._frameMeta.push(meta);
    return json;
  }

  /**
   * Queues one frame. `pixels`: a Uint8Array or a promise of one (async readback), or a VideoFrame
   * (webcodecs). Returns a promise that resolves when the frame is in the file.
   */
  _submit({ pixels, videoFrame, width, height, bottomUp, timestampUs, metadata }) {
    this._inFlight++;
    this._accepted++;
    if (pixels && typeof pixels.then === 'function') pixels.catch(() => {}); // handled through the chain below
    const step = this._chain.then(async () => {
      if (this._error) throw this._error;
      const data = pixels && typeof pixels.then === 'function' ? await pixels : pixels;
      await this._ensureOpen(width, height);
      if (this._error) throw this._error;
      return { done: this._backend.encode({ data, videoFrame, width, height, bottomUp, timestampUs, metadata }) };
    });
    this._chain = step.then(() => {}, () => {});
    const done = step.then((s) => s.done).then(
      () => {
        this._encoded++;
        this._settle();
      },
      (err) => {
        videoFrame?.close?.();
        this._settle();
        this._fail(err);
        throw err;
      },
    );
    done.catch(() => {});
    return done;
  }

  _settle() {
    this._inFlight--;
    if (this._inFlight < this._o.maxQueuedFrames) for (const w of this._readyWaiters.splice(0)) w.resolve();
    if (this._inFlight === 0) for (const w of this._idleWaiters.splice(0)) w.resolve();
  }

  _idle() {
    if (this._error) return Promise.reject(this._error);
    if (this._inFlight === 0) return this._chain;
    return new Promise((resolve, reject) => this._idleWaiters.push({ resolve, reject }));
  }

  _ensureOpen(width, height) {
    if (!this._opening) {
      const size = this._size || { width, height };
      this._opening = this._openBackend(size);
    }
    return this._opening;
  }

  async _openBackend(size) {
    const o = this._o;
    if (size.width < VIDEO_LIMITS.minSide || size.height < VIDEO_LIMITS.minSide || size.width > VIDEO_LIMITS.maxSide || size.height > VIDEO_LIMITS.maxSide) {
      throw new RangeError(`recorder: the video would be ${size.width}x${size.height}; each side must be ${VIDEO_LIMITS.minSide}..${VIDEO_LIMITS.maxSide} (pass options.size)`);
    }
    this.width = size.width;
    this.height = size.height;
    const enc = { codec: o.codec, width: size.width, height: size.height, fps: o.fps, bitrate: o.bitrate };
    if (o.keyframeInterval !== undefined) enc.keyframeInterval = o.keyframeInterval;
    // 'auto' without a size up front (XR views, given frames): decided now that the size is known.
    if (this._chosen === 'auto') this._chosen = await chooseBackend(this._kind, { ...o, backend: 'auto' }, size);
    let backend = this._chosen;
    if (backend === 'webcodecs') {
      this._backend = await WebCodecsBackend.open({ ...enc, timing: o.timing }, this._output, { onfatal: (e) => this._fail(e) });
    } else {
      if (o.speed !== undefined) enc.speed = o.speed;
      enc.flipY = this._kind === 'xr' || !!this._gl;
      const env = { onfatal: (e) => this._fail(e) };
      if (o.worker !== undefined) env.worker = o.worker;
      this._backend = await WasmBackend.open(enc, this._output, env);
      backend = 'wasm';
    }
    this.backend = backend;
    this.codec = o.codec;
    this.mimeType = `video/webm;codecs=${o.codec}`;
  }

  _checkSize(width, height, what) {
    if (!this._firstSize) this._firstSize = { width, height };
    if (this._size) return;
    const f = this._firstSize;
    if (width !== f.width || height !== f.height) {
      throw new RangeError(`recorder.${what}: frame is ${width}x${height} but the recording is ${f.width}x${f.height}; pass options.size to scale frames to one size`);
    }
  }

  /**
   * Adds a frame the app made: RGBA { data, width, height } (ImageData works), top row first.
   * options.timestampUs (any clock, increasing) and options.metadata (stored with the frame).
   * Returns a promise that resolves when the frame is in the file.
   */
  addFrame(image, options = {}) {
    this._usable('addFrame');
    if (this._chosen === 'mediarecorder') throw new TypeError('recorder.addFrame: backend "mediarecorder" records the canvas itself; use captureFrame()');
    if (image === null || typeof image !== 'object') throw new TypeError(`recorder.addFrame: image must be { data, width, height } (RGBA), got ${describe(image)}`);
    if (options === null || typeof options !== 'object') throw new TypeError('recorder.addFrame: options must be an object { timestampUs?, metadata? }');
    const { width, height } = image;
    checkNumber(width, 'recorder.addFrame: image.width', { integer: true, min: 1, max: VIDEO_LIMITS.maxSide });
    checkNumber(height, 'recorder.addFrame: image.height', { integer: true, min: 1, max: VIDEO_LIMITS.maxSide });
    let data = image.data;
    if (data instanceof Uint8ClampedArray || data instanceof ArrayBuffer) data = new Uint8Array(data.buffer || data, data.byteOffset || 0, data.byteLength);
    if (!(data instanceof Uint8Array)) throw new TypeError(`recorder.addFrame: image.data must be a Uint8Array or Uint8ClampedArray, got ${describe(image.data)}`);
    if (data.length !== width * height * 4) throw new RangeError(`recorder.addFrame: image.data has ${data.length} bytes but ${width}x${height} RGBA needs ${width * height * 4}`);
    this._checkSize(width, height, 'addFrame');
    let timestampUs;
    if (options.timestampUs !== undefined) timestampUs = checkNumber(options.timestampUs, 'recorder.addFrame: timestampUs', { min: 0, max: 2 ** 52 });
    else if (this._o.timing === 'realtime') timestampUs = this._timestampUs(performance.now());
    this._checkRoom('addFrame');
    const metadata = this._noteMeta(options.metadata);
    // The pixels are copied: the caller keeps its array (the copy is what crosses to the Worker).
    return this._submit({ pixels: data.slice(), width, height, bottomUp: false, timestampUs, metadata });
  }

  /**
   * Manual mode: records the canvas as it is now (call right after drawing, in the same task), or for an
   * XR session the given XRFrame (call inside the XR frame callback, after drawing).
   * options: { metadata?, time? (ms) }. Returns a promise that resolves when the frame is in the file.
   */
  captureFrame(options = {}) {
    this._usable('captureFrame');
    if (options === null || typeof options !== 'object') throw new TypeError('recorder.captureFrame: options must be an object { metadata?, time? }');
    if (this._kind === 'xr') {
      if (!options.frame) throw new TypeError('recorder.captureFrame: an XR recording needs { frame } (the XRFrame of your frame callback); or use captureXRFrame(frame, time)');
      return this.captureXRFrame(options.frame, options.time, options);
    }
    if (this._kind !== 'canvas') throw new TypeError('recorder.captureFrame: this recorder has no canvas; use addFrame(image)');
    const time = options.time === undefined ? performance.now() : options.time;
    return this._captureCanvas(time, 'captureFrame', options.metadata);
  }

  /** Manual XR mode: records `frame` (the XRFrame of your session frame callback), after drawing. */
  captureXRFrame(frame, time, options = {}) {
    this._usable('captureXRFrame');
    if (this._kind !== 'xr') throw new TypeError('recorder.captureXRFrame: this recorder does not record an XR session');
    if (!frame || typeof frame.getViewerPose !== 'function') throw new TypeError('recorder.captureXRFrame: frame must be the XRFrame passed to your XRSession.requestAnimationFrame callback');
    const t = time !== undefined ? time : typeof frame.predictedDisplayTime === 'number' ? frame.predictedDisplayTime : performance.now();
    return this._captureXR(frame, t, 'captureXRFrame', options.metadata);
  }

  // ---- canvas ----

  _captureCanvas(time, what, extraMeta) {
    const canvas = this._source;
    if (this._chosen === 'mediarecorder') {
      this._checkSize(canvas.width, canvas.height, what);
      this._backend.requestFrame();
      this._accepted++;
      this._encoded++;
      if (extraMeta !== undefined) this._noteMeta(extraMeta);
      return Promise.resolve();
    }
    if (this._startTime === null) this._startTime = time;
    if (!this._checkRoom(what)) return null;
    const gl = this._gl;
    const timestampUs = this._timestampUs(time);
    const metadata = this._noteMeta(extraMeta === undefined
      ? (this._o.frameMetadata ? { frameNumber: this._accepted + 1, timestamp: time, elapsed: time - this._startTime } : undefined)
      : extraMeta);
    if (this._chosen === 'webcodecs' && typeof VideoFrame === 'function') {
      // The browser copies the canvas (GPU) into the frame now, while it still holds the picture.
      const w = gl ? gl.drawingBufferWidth : canvas.width;
      const h = gl ? gl.drawingBufferHeight : canvas.height;
      const videoFrame = new VideoFrame(canvas, { timestamp: Math.round(time * 1000), alpha: 'discard' });
      return this._submit({ videoFrame, width: w, height: h, timestampUs, metadata });
    }
    if (gl) {
      if (gl.isContextLost()) throw new Error(`recorder.${what}: the WebGL context is lost`);
      const rect = { x: 0, y: 0, width: gl.drawingBufferWidth, height: gl.drawingBufferHeight };
      if (this._o.readback !== 'sync' && isWebGL2(gl)) {
        const r = readAsync(gl, null, [rect], `recorder.${what}`, { takeBuffer: (n) => this._backend?.takeBuffer?.(n) });
        return this._submit({ pixels: r.result, width: r.width, height: r.height, bottomUp: true, timestampUs, metadata });
      }
      const r = readSync(gl, null, [rect], `recorder.${what}`);
      return this._submit({ pixels: r.pixels, width: r.width, height: r.height, bottomUp: true, timestampUs, metadata });
    }
    const img = this._ctx.getImageData(0, 0, canvas.width, canvas.height);
    return this._submit({ pixels: new Uint8Array(img.data.buffer), width: img.width, height: img.height, bottomUp: false, timestampUs, metadata });
  }

  _due(time) {
    if (this._o.timing !== 'realtime') return true;
    const interval = 1000 / this._o.fps;
    const slack = Math.min(4, interval / 4);
    if (this._nextDue === null) this._nextDue = time;
    if (time + slack < this._nextDue) return false;
    this._nextDue += interval;
    if (this._nextDue < time) this._nextDue = time + interval;
    return true;
  }

  _startCanvasLoop() {
    const loop = { stopped: false };
    this._loop = loop;
    const run = async () => {
      while (!loop.stopped) {
        try {
          await nextFrameAfterDraw({ timeout: 60_000, what: 'recorder' });
        } catch {
          continue; // no frame for a minute (hidden tab): keep waiting
        }
        if (loop.stopped) break;
        const t = performance.now();
        if (!this._due(t)) continue;
        try {
          this._captureCanvas(t, 'auto');
        } catch (err) {
          this._fail(err);
          break;
        }
      }
    };
    run();
  }

  // ---- XR ----

  _xrRead(frame, what) {
    const session = this._source;
    const o = this._o;
    let pose;
    try {
      pose = frame.getViewerPose(o.referenceSpace);
    } catch (err) {
      if (err && err.name === 'InvalidStateError') throw new Error(`recorder.${what} must be called inside the XRSession requestAnimationFrame callback, synchronously, after drawing (${err.message})`);
      throw err;
    }
    if (!pose) return { pose: null };
    const rs = session.renderState || {};
    const layer = rs.baseLayer || null;
    const projection = layer ? null : (rs.layers || []).find((l) => l && 'textureWidth' in l && 'textureHeight' in l) || null;
    if (!layer && !projection) throw new Error(`recorder.${what}: the session has no baseLayer or projection layer; call session.updateRenderState() first`);
    const gl = o.gl || (layer && layer.context);
    if (!gl || !isWebGL(gl)) throw new TypeError(`recorder.${what}: options.gl must be the WebGL context the session's layer was created with`);
    if (gl.isContextLost()) throw new Error(`recorder.${what}: the WebGL context is lost`);
    const views = pickViews(pose.views, o.view).map((i) => pose.views[i]);
    let rects;
    let fb = null;
    let targets = null;
    if (layer) {
      rects = views.map((v) => round(layer.getViewport(v)));
      fb = layer.framebuffer || null; // null on emulators that render to the default framebuffer
    } else {
      if (!o.binding && typeof XRWebGLBinding !== 'function') throw new Error(`recorder.${what}: the session uses a projection layer; pass options.binding (XRWebGLBinding)`);
      const binding = o.binding || (this._binding ||= new XRWebGLBinding(session, gl));
      targets = textureTargets(gl);
      rects = views.map((v) => {
        const sub = binding.getViewSubImage(projection, v);
        const layerIndex = projection.textureArrayLength > 1 && sub.imageIndex != null ? sub.imageIndex : null;
        return { ...round(sub.viewport), framebuffer: targets.target(sub.colorTexture, layerIndex) };
      });
    }
    try {
      for (const r of rects) if (r.width <= 0 || r.height <= 0) throw new RangeError(`recorder.${what}: the chosen view has an empty viewport`);
      if (o.readback !== 'sync' && isWebGL2(gl)) {
        const r = readAsync(gl, fb, rects, `recorder.${what}`, { takeBuffer: (n) => this._backend?.takeBuffer?.(n) });
        return { pose, pixels: r.result, width: r.width, height: r.height };
      }
      const r = readSync(gl, fb, rects, `recorder.${what}`);
      return { pose, pixels: r.pixels, width: r.width, height: r.height };
    } finally {
      targets?.release();
    }
  }

  _captureXR(frame, time, what, extraMeta) {
    if (this._startTime === null) this._startTime = time;
    if (!this._checkRoom(what)) return null;
    const r = this._xrRead(frame, what);
    if (!r.pose) {
      // Tracking lost: nothing drawn for this frame. Counted, not recorded.
      this._skipped++;
      this._backpressure('no-pose');
      return null;
    }
    let meta = xrFrameMetadata(frame, this._o.referenceSpace, { frameNumber: this._accepted + 1, time, startTime: this._startTime });
    if (extraMeta !== undefined) meta = { ...meta, extra: extraMeta };
    const metadata = this._noteMeta(meta);
    return this._submit({ pixels: r.pixels, width: r.width, height: r.height, bottomUp: true, timestampUs: this._timestampUs(time), metadata });
  }

  _startXRLoop() {
    const session = this._source;
    const loop = { stopped: false, handle: 0 };
    this._loop = loop;
    const onFrame = (t, frame) => {
      if (loop.stopped) return;
      loop.handle = session.requestAnimationFrame(onFrame);
      if (!this._due(t)) return;
      try {
        this._captureXR(frame, t, 'auto');
      } catch (err) {
        this._fail(err);
      }
    };
    loop.handle = session.requestAnimationFrame(onFrame);
    loop.cancel = () => session.cancelAnimationFrame(loop.handle);
    this._onEnd = () => {
      if (this._state === 'recording') this._fail(new Error('recorder: the XR session ended while recording; the file is not complete (call stop() before ending the session)'));
    };
    session.addEventListener('end', this._onEnd);
  }

  _stopLoop() {
    if (this._loop) {
      this._loop.stopped = true;
      this._loop.cancel?.();
      this._loop = null;
    }
    if (this._onEnd) this._source.removeEventListener('end', this._onEnd);
    this._onEnd = null;
  }

  // ---- stop ----

  /**
   * Stops taking frames, waits until every queued frame is encoded, finishes the file.
   * @returns {Promise<RecordingResult>} see index.d.ts
   */
  async stop() {
    if (this._state === 'stopping') throw new Error('recorder.stop: stop() was already called');
    if (this._state === 'stopped') throw new Error('recorder.stop: the recording is already stopped');
    if (this._state === 'aborted') throw new Error('recorder.stop: the recording was aborted');
    if (this._error) throw this._error;
    this._state = 'stopping';
    this._stopLoop();
    let fin;
    try {
      if (this._chosen !== 'mediarecorder') {
        await this._idle();
        await this._chain;
        if (this._error) throw this._error;
        if (!this._backend) throw new Error('recorder.stop: no frames were recorded, so there is no video');
      }
      fin = await this._backend.finish();
      await this._output.drained();
      if (this._error) throw this._error;
    } catch (err) {
      this._fail(err);
      throw this._error || err; // the first failure (say ondata's), not what it caused
    }
    this._state = 'stopped';
    const ended = Date.now();
    const result = {
      complete: true,
      backend: this.backend,
      codec: fin.codec || this.codec,
      mimeType: fin.mimeType || this.mimeType,
      width: fin.width || this.width,
      height: fin.height || this.height,
      frames: fin.frames,
      keyframes: fin.keyframes,
      duration: fin.duration,
      averageFps: fin.duration > 0 ? fin.frames / fin.duration : 0,
      bytes: this._output.size,
      skippedFrames: this._skipped,
    };
    if (fin.repair) result.repair = fin.repair;
    if (fin.requestedFrames !== undefined) result.requestedFrames = fin.requestedFrames;
    const metadata = {
      backend: result.backend, codec: result.codec, mimeType: result.mimeType, width: result.width, height: result.height,
      fps: this._o.fps, timing: this._o.timing,
      started: new Date(this._started).toISOString(), ended: new Date(ended).toISOString(),
      duration: result.duration, frameCount: result.frames, averageFps: result.averageFps, bytes: result.bytes,
      skippedFrames: this._skipped,
    };
    if (this._kind === 'xr') {
      metadata.sessionMode = this._o.sessionMode || inferSessionMode(this._source);
      metadata.view = this._o.view;
    }
    if (this._device) metadata.device = await this._device.catch(() => null);
    if (this._o.metadata) metadata.extra = JSON.parse(JSON.stringify(this._o.metadata));
    if (this._frameMeta.length) metadata.frames = this._frameMeta;
    result.metadata = metadata;
    if (typeof Blob === 'function') result.metadataBlob = new Blob([JSON.stringify(metadata, null, 2)], { type: 'application/json' });
    if (!this._output.streaming) {
      result.data = this._output.bytes();
      if (typeof Blob === 'function') result.blob = new Blob([result.data], { type: result.mimeType });
    }
    return result;
  }

  /** Stops at once and discards the recording (what was streamed so far is not a complete file). */
  abort() {
    if (this._state === 'stopped' || this._state === 'aborted') return;
    this._stopLoop();
    this._state = 'aborted';
    const err = new Error('recorder: the recording was aborted');
    for (const w of this._readyWaiters.splice(0)) w.reject(err);
    for (const w of this._idleWaiters.splice(0)) w.reject(err);
    try { this._backend?.abort(); } catch { /* already gone */ }
    this._output.discard();
  }
}

async function chooseBackend(kind, o, size) {
  if (o.backend === 'auto' && !size) return 'auto'; // decided at the first frame (_openBackend)
  if (o.backend !== 'auto') {
    if (o.backend === 'webcodecs') {
      if (typeof VideoEncoder !== 'function') throw new Error(`${W}: backend "webcodecs" needs VideoEncoder (WebCodecs), which this environment lacks (pages need a secure context)`);
      if (size && !(await WebCodecsBackend.isSupported({ codec: o.codec, ...size, fps: o.fps, bitrate: o.bitrate }))) {
        throw new Error(`${W}: this browser's VideoEncoder cannot encode ${o.codec} at ${size.width}x${size.height}; use backend "wasm"`);
      }
    }
    return o.backend;
  }
  // auto: the browser's encoder when it takes this codec and size (WebCodecs), else libvpx in wasm.
  if (typeof VideoEncoder === 'function' && size && (size.width % 2 === 0 && size.height % 2 === 0) &&
      (await WebCodecsBackend.isSupported({ codec: o.codec, ...size, fps: o.fps, bitrate: o.bitrate }))) {
    return 'webcodecs';
  }
  return 'wasm';
}

/**
 * Starts recording `source` (see the top of this file and index.d.ts for the options).
 * @returns {Promise<Recorder>} resolves once recording has started
 */
export async function createRecorder(source, options) {
  const kind = sourceKind(source);
  const o = normalizeRecorderOptions(options, kind);
  const rec = new Recorder(source, kind, o);
  let size = o.size || null;
  if (kind === 'canvas') {
    if (!source.width || !source.height) throw new RangeError(`${W}: the canvas has zero size (${source.width}x${source.height})`);
    const ctx = canvasContext(source, o.context);
    rec._ctx = ctx;
    rec._gl = isWebGL(ctx) ? ctx : null;
    if (rec._gl && rec._gl.isContextLost()) throw new Error(`${W}: the WebGL context is lost`);
    if (!size) size = rec._gl ? { width: rec._gl.drawingBufferWidth, height: rec._gl.drawingBufferHeight } : { width: source.width, height: source.height };
  } else if (kind === 'xr') {
    trackXRSession(source);
    if (isSessionEnded(source)) throw new Error(`${W}: the XR session has ended`);
    rec._device = getDeviceInfo({ session: source, sessionMode: o.sessionMode || null }).catch(() => null);
  }
  rec._chosen = await chooseBackend(kind, o, size);
  if (rec._chosen === 'mediarecorder') {
    if (!isHTMLCanvas(source) || typeof source.captureStream !== 'function') {
      throw new TypeError(`${W}: backend "mediarecorder" needs an HTMLCanvasElement with captureStream()`);
    }
    if (typeof MediaRecorder !== 'function') throw new Error(`${W}: MediaRecorder is not available here`);
    rec._backend = await MediaRecorderBackend.open({
      canvas: source, codec: o.codec, fps: o.fps, frames: o.frames, bitrate: o.bitrate, keyframeInterval: o.keyframeInterval,
      timeslice: o.timeslice, audio: o.audio, repair: o.repair,
    }, rec._output, { onfatal: (e) => rec._fail(e) });
    rec.backend = 'mediarecorder';
    rec.codec = rec._backend.codec;
    rec.mimeType = rec._backend.mimeType;
    rec.width = source.width;
    rec.height = source.height;
  } else if (size && (kind === 'canvas' || o.size)) {
    rec._size = size;
    rec._opening = rec._openBackend(size);
    await rec._opening;
  }
  if (o.frames === 'auto') {
    if (kind === 'canvas' && rec._chosen !== 'mediarecorder') rec._startCanvasLoop();
    else if (kind === 'xr') rec._startXRLoop();
  }
  return rec;
}
