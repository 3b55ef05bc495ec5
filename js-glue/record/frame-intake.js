// How frames come into a recording: a canvas or XR frame read back when it was drawn, a stream's
// VideoFrame, or RGBA pixels the app hands over (addFrame). Each is checked (one size, unless
// options.size scales them; a stream's later sizes are scaled into its first, frame-fit.js), stamped on
// the recording's time line (pauses taken out), given its metadata, and queued (frame-queue.js: bounded,
// backpressure) for the backend, which opens at the first frame.
//
// The recorder owns one; it reads the recorder's state (recording / paused), its chosen backend, source,
// options and time line, and fails the recording when a frame cannot be encoded.
import { checkNumber } from '../validate.js';
import { VIDEO_LIMITS } from '../video/video-writer.js';
import { describe } from './options.js';
import { FrameQueue } from './frame-queue.js';
import { FrameFitter } from './sources/frame-fit.js';

const encoder = typeof TextEncoder === 'function' ? new TextEncoder() : null;

export class FrameIntake {
  #rec;
  #firstSize = null;
  #lastStreamUs = -Infinity;

  /** Every frame's metadata (given, or made for XR / frameMetadata: true). */
  meta = [];
  /** Page time (ms) of the first recorded frame, or null. */
  startTime = null;
  /** Streams: scales frames of another size into the first size. */
  fitter = null;

  /** @param {import('./recorder.js').Recorder} rec @param {(detail: object) => void} onbackpressure */
  constructor(rec, onbackpressure) {
    this.#rec = rec;
    this.queue = new FrameQueue(rec._o.maxQueuedFrames, onbackpressure);
  }

  /** A frame drawn / captured at page time `timeMs`: its recording timestamp (µs), or null if paused then. */
  #timestampUs(timeMs) {
    if (this.#rec._o.timing !== 'realtime') return undefined;
    const t = this.#rec._timeline.map(timeMs * 1000);
    return t === null ? null : Math.round(t);
  }

  /** Notes a frame's metadata; returns it as JSON (or undefined). */
  note(meta) {
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
    this.meta.push(meta);
    return json;
  }

  /**
   * Queues one frame. `pixels`: a Uint8Array or a promise of one (async readback), or a VideoFrame
   * (webcodecs). Returns a promise that resolves when the frame is in the file.
   */
  #submit({ pixels, videoFrame, width, height, bottomUp, timestampUs, metadata }) {
    const rec = this.#rec;
    if (pixels && typeof pixels.then === 'function') pixels.catch(() => {}); // handled through the queue
    return this.queue.submit(async () => {
      if (rec._error) throw rec._error;
      const data = pixels && typeof pixels.then === 'function' ? await pixels : pixels;
      await rec._ensureOpen(width, height);
      if (rec._error) throw rec._error;
      return { done: rec._backend.encode({ data, videoFrame, width, height, bottomUp, timestampUs, metadata }) };
    }, (err) => {
      videoFrame?.close?.();
      rec._fail(err);
    });
  }

  #checkSize(width, height, what) {
    if (!this.#firstSize) this.#firstSize = { width, height };
    if (this.#rec._size) return;
    const f = this.#firstSize;
    if (width !== f.width || height !== f.height) {
      throw new RangeError(`recorder.${what}: frame is ${width}x${height} but the recording is ${f.width}x${f.height}; pass options.size to scale frames to one size`);
    }
  }

  /** recorder.addFrame(image, options): the app's RGBA pixels. */
  add(image, options) {
    const rec = this.#rec;
    if (image === null || typeof image !== 'object') throw new TypeError(`recorder.addFrame: image must be { data, width, height } (RGBA), got ${describe(image)}`);
    if (options === null || typeof options !== 'object') throw new TypeError('recorder.addFrame: options must be an object { timestampUs?, metadata? }');
    const { width, height } = image;
    checkNumber(width, 'recorder.addFrame: image.width', { integer: true, min: 1, max: VIDEO_LIMITS.maxSide });
    checkNumber(height, 'recorder.addFrame: image.height', { integer: true, min: 1, max: VIDEO_LIMITS.maxSide });
    let data = image.data;
    if (data instanceof Uint8ClampedArray || data instanceof ArrayBuffer) data = new Uint8Array(data.buffer || data, data.byteOffset || 0, data.byteLength);
    if (!(data instanceof Uint8Array)) throw new TypeError(`recorder.addFrame: image.data must be a Uint8Array or Uint8ClampedArray, got ${describe(image.data)}`);
    if (data.length !== width * height * 4) throw new RangeError(`recorder.addFrame: image.data has ${data.length} bytes but ${width}x${height} RGBA needs ${width * height * 4}`);
    this.#checkSize(width, height, 'addFrame');
    if (rec._state === 'paused') return null;
    let timestampUs;
    if (options.timestampUs !== undefined) timestampUs = checkNumber(options.timestampUs, 'recorder.addFrame: timestampUs', { min: 0, max: 2 ** 52 });
    else if (rec._o.timing === 'realtime') timestampUs = this.#timestampUs(performance.now());
    this.queue.checkRoom('addFrame', false);
    const metadata = this.note(options.metadata);
    // The pixels are copied: the caller keeps its array (the copy is what crosses to the Worker).
    return this.#submit({ pixels: data.slice(), width, height, bottomUp: false, timestampUs, metadata });
  }

  /**
   * One frame from a canvas or an XR session, drawn at page time `time` (ms): read, stamped, queued.
   * Returns the frame's promise, or null when nothing was taken (paused, queue full in auto mode,
   * tracking lost).
   */
  take(time, what, extraMeta, xrFrame) {
    const rec = this.#rec;
    const src = rec._src;
    if (rec._chosen === 'mediarecorder') { // the canvas's capture track takes the frame itself
      this.#checkSize(src.canvas.width, src.canvas.height, what);
      if (rec._state === 'paused') return null;
      rec._backend.requestFrame();
      this.queue.countDirect();
      if (extraMeta !== undefined) this.note(extraMeta);
      return Promise.resolve();
    }
    if (rec._state === 'paused') return null;
    const timestampUs = this.#timestampUs(time);
    if (timestampUs === null) return null;
    if (this.startTime === null) this.startTime = time;
    if (!this.queue.checkRoom(what, rec._o.frames === 'auto' && what === 'auto')) return null;
    const takeBuffer = (n) => rec._backend?.takeBuffer?.(n);
    const f = xrFrame ? src.read(xrFrame, what, { takeBuffer }) : src.read(time, what, { videoFrame: rec._chosen === 'webcodecs', takeBuffer });
    if (!f) {
      // Tracking lost: nothing drawn for this frame. Counted, not recorded.
      this.queue.skipped++;
      this.queue.backpressure('no-pose');
      return null;
    }
    const frameNumber = this.queue.accepted + 1;
    const metadata = this.note(xrFrame
      ? src.metadata({ frame: xrFrame, frameNumber, time, startTime: this.startTime, extra: extraMeta })
      : extraMeta === undefined ? src.metadata({ frameNumber, time, startTime: this.startTime }) : extraMeta);
    return this.#submit({ ...f, timestampUs, metadata });
  }

  /**
   * A stream's frame read back as RGBA (wasm), captured at page time `pageUs`. Frames keep their order
   * (one not later than the last is left out); a frame of another size is scaled to the first's.
   */
  takeStreamPixels(data, width, height, pageUs) {
    const rec = this.#rec;
    if (rec._state !== 'recording') return;
    const t = rec._timeline.map(pageUs);
    if (t === null || t <= this.#lastStreamUs) return;
    if (this.startTime === null) this.startTime = pageUs / 1000;
    if (!this.queue.checkRoom('auto', true)) return;
    this.#lastStreamUs = t;
    const time = pageUs / 1000;
    const metadata = this.note(rec._src.metadata({ frameNumber: this.queue.accepted + 1, time, startTime: this.startTime }));
    this.#submit({ pixels: data, width, height, bottomUp: false, timestampUs: Math.round(t), metadata });
  }

  /** A stream's frame (webcodecs), captured at page time `pageUs`; this takes ownership of `vf`. */
  takeStream(vf, pageUs) {
    const rec = this.#rec;
    if (rec._state !== 'recording') { vf.close(); return; }
    const t = rec._timeline.map(pageUs);
    if (t === null) { vf.close(); return; }
    if (this.startTime === null) this.startTime = pageUs / 1000;
    if (!this.queue.checkRoom('auto', true)) { vf.close(); return; }
    // The file keeps the first frame's size; a resized window's frames are scaled into it (frame-fit.js).
    if (!this.fitter) this.fitter = new FrameFitter(vf.displayWidth, vf.displayHeight);
    vf = this.fitter.fit(vf);
    const time = pageUs / 1000;
    let metadata;
    try {
      metadata = this.note(rec._src.metadata({ frameNumber: this.queue.accepted + 1, time, startTime: this.startTime }));
    } catch (err) {
      vf.close();
      throw err;
    }
    this.#submit({ videoFrame: vf, width: vf.displayWidth, height: vf.displayHeight, timestampUs: Math.round(t), metadata });
  }
}
