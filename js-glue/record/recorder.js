// createRecorder(source, options): records a canvas (2D, WebGL, WebGL2), an immersive WebXR session, a
// MediaStream (camera, screen, tab, a remote WebRTC track), or frames the app hands over (source null:
// Node, offline rendering) into a WebM, with sound where asked.
//
// Where things are:
//   sources/canvas.js  canvas frames (readback, VideoFrame copies, the render loop)
//   sources/xr.js      XR frames (the views read back inside the XR frame callback, with the pose)
//   sources/stream.js  camera / screen / WebRTC frames (MediaStreamTrackProcessor), asking for streams
//   sources/audio.js   where sound comes from (microphone, a stream's audio, several mixed in Web Audio)
//   audio-encoder.js   where sound is encoded (Opus, AudioEncoder)
//   backends/          wasm (libvpx in a Worker), webcodecs (VideoEncoder + AudioEncoder + libwebm),
//                      mediarecorder (MediaRecorder, repaired into a seekable file at the end)
//   timeline.js        pause() / resume(): the paused spans taken out of every timestamp
//   output.js          where the bytes go (ondata in order, or memory); journal.js makes it crash-safe
// This file: the intake (a bounded queue of frames with backpressure), the state (recording, paused,
// stopping, ...), the choice of backend and the result.
//
// Backends (options.backend):
//   wasm          frame-exact: each frame is read back (the screenshot path: readPixels right after the
//                 app drew, inside the render loop or XR frame callback), converted to I420 in wasm and
//                 encoded by libvpx in a Worker. Nothing is dropped: frames wait in a queue of at most
//                 maxQueuedFrames; when it is full the recorder reports backpressure (an event, and an
//                 Error from addFrame/captureFrame) instead of losing frames silently.
//   webcodecs     the browser's VideoEncoder (and AudioEncoder for Opus) encodes, capturekit muxes (same
//                 file layout, same metadata). Streams: each frame with the browser's own timestamp.
//   mediarecorder canvas.captureStream() or the stream + MediaRecorder (the browser decides timing, may
//                 drop frames); the file is repaired (made seekable) when it stops.
//   auto          canvases / XR: webcodecs where VideoEncoder supports the codec and size, else wasm;
//                 streams: webcodecs where MediaStreamTrackProcessor (and AudioEncoder for sound) exist,
//                 else mediarecorder. recorder.backendReason (and the result's) says why.
//
// Output: ondata(bytes, offset) receives the file as it is produced (offset = bytes so far appends, a
// smaller offset overwrites: the header patched at the end), so memory stays bounded; without ondata the
// file is kept in memory and stop() returns it as `data` and `blob`.
//
// Frames: options.frames 'auto' (default for canvases and XR sessions: the recorder takes frames from
// the render loop by itself) or 'manual' (the app calls captureFrame()/captureXRFrame()/addFrame()).
// Timing: 'fps' (frame n is shown at n / fps: frame-exact, every frame is kept) or 'realtime' (frames are
// stamped with the time they were drawn; in auto mode at most fps frames per second are taken). Streams
// and recordings with sound are always 'realtime'.
//
// Ends: stop(); or the user ends a stream ("Stop sharing", an unplugged camera, a peer that hangs up):
// the recorder fires 'sourceended' and finishes the file by itself (stop() then resolves with that
// result, which has endedBy: 'source'). An XR session that ends while recording fails the recording.
import { checkNumber } from '../validate.js';
import { VIDEO_LIMITS } from '../video/video-writer.js';
import { RecordingOutput } from './output.js';
import { Timeline } from './timeline.js';
import { describe, normalizeRecorderOptions, RECORDER_LIMITS } from './options.js';
import { CanvasSource, isHTMLCanvas, isOffscreen } from './sources/canvas.js';
import { XRSource, isXRSession } from './sources/xr.js';
import { StreamSource, isStreamSource, openCamera, openScreen } from './sources/stream.js';
import { Pacer } from './sources/pacing.js';
import { FrameFitter } from './sources/frame-fit.js';
import { openAudio } from './sources/audio.js';
import { PCM_SAMPLE_RATE, canCapturePcm } from './sources/pcm-capture.js';
import { OpusEncoder } from './audio-encoder.js';
import { WasmBackend } from './backends/wasm.js';
import { WebCodecsBackend } from './backends/webcodecs.js';
import { MediaRecorderBackend } from './backends/mediarecorder.js';

export { normalizeRecorderOptions, RECORDER_LIMITS };

const W = 'createRecorder';

function sourceKind(source) {
  if (source === null || source === undefined) return 'frames';
  if (isHTMLCanvas(source) || isOffscreen(source)) return 'canvas';
  if (isXRSession(source)) return 'xr';
  if (isStreamSource(source)) return 'stream';
  throw new TypeError(`${W}: source must be an HTMLCanvasElement, an OffscreenCanvas, an XRSession, or null (frames given with addFrame), ` +
    `or a MediaStream, a video MediaStreamTrack or an array of tracks, got ${describe(source)}`);
}

function event(type, detail) {
  if (typeof CustomEvent === 'function') return new CustomEvent(type, { detail });
  const e = new Event(type);
  e.detail = detail;
  return e;
}

const encoder = typeof TextEncoder === 'function' ? new TextEncoder() : null;
const nowUs = () => performance.now() * 1000;

/**
 * A recording in progress. Made by createRecorder(); records until stop().
 */
export class Recorder extends EventTarget {
  constructor(source, kind, o) {
    super();
    this._source = source;   // what the app passed
    this._src = null;        // the source object (sources/*.js), null for given frames
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
    this._pacer = new Pacer(o.fps, o.timing);
    this._timeline = new Timeline();
    this._startTime = null;
    this._started = Date.now();
    this._audio = null;      // sources/audio.js AudioInput
    this._fitter = null;     // streams: scales frames of another size into the first size (frame-fit.js)
    this._pcmEarly = [];     // wasm: sound captured before the backend opened
    this._stopping = null;   // the promise of stop()'s result
    this._endedBy = null;
    this._output = new RecordingOutput(o.ondata, (err) => this._fail(err));
    this.backend = null;
    this.backendReason = null;
    this.codec = null;
    this.mimeType = null;
    this.width = 0;
    this.height = 0;
    this.fps = o.fps;
  }

  /** 'recording' | 'paused' | 'stopping' | 'stopped' | 'failed' | 'aborted' */
  get state() { return this._state; }
  /** Frames in the file so far. */
  get frames() { return this._encoded; }
  /** Frames accepted and waiting to be encoded. */
  get queued() { return this._inFlight; }
  /** Frames that may still be queued before backpressure (<= 0: full). */
  get desiredSize() { return this._o.maxQueuedFrames - this._inFlight; }
  /** Frames not recorded because the queue was full (auto mode, streams), each reported as backpressure. */
  get skippedFrames() { return this._skipped; }
  /** Bytes produced so far. */
  get bytes() { return this._output.size; }
  /** The error that stopped the recording, or null. */
  get error() { return this._error; }
  /** The per-frame metadata recorded so far (XR poses, frameMetadata: true, or given to addFrame). */
  get frameMetadata() { return this._frameMeta.slice(); }
  /** Whether sound is recorded. */
  get audio() { return !!this._audio; }
  /** Page time (ms, performance.now()) of the first recorded frame (MediaRecorder: its start), or null. */
  get startTime() { return this._startTime ?? this._backend?.startedAt ?? null; }
  /** Seconds spent paused so far. */
  get pausedDuration() { return this._timeline.pausedUs(nowUs()) / 1e6; }

  /** Resolves when a frame may be added without backpressure (rejects if the recording failed). */
  get ready() {
    if (this._error) return Promise.reject(this._error);
    if (this._inFlight < this._o.maxQueuedFrames || (this._state !== 'recording' && this._state !== 'paused')) return Promise.resolve();
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
    if (this._state === 'recording' || this._state === 'paused' || this._state === 'stopping') this._state = 'failed';
    this._stopSources();
    for (const w of this._readyWaiters.splice(0)) w.reject(err);
    for (const w of this._idleWaiters.splice(0)) w.reject(err);
    try { this._backend?.abort(); } catch { /* already gone */ }
    this._release();
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

  // ---- pause / resume ----

  /**
   * Pauses: no frames and no sound are taken until resume(); the paused time is left out of the file
   * (no gap, no frozen frame) and audio and video stay in sync. The output (journal, upload) goes on
   * with what is already encoded. Fires 'pause'.
   */
  pause() {
    this._usable('pause');
    if (this._state === 'paused') return;
    this._timeline.pause(nowUs());
    this._state = 'paused';
    if (this._chosen === 'mediarecorder') this._backend?.pause();
    this.dispatchEvent(event('pause', { pausedDuration: this.pausedDuration }));
  }

  /** Resumes a paused recording. Fires 'resume'. */
  resume() {
    this._usable('resume');
    if (this._state !== 'paused') return;
    this._timeline.resume(nowUs());
    this._state = 'recording';
    if (this._chosen === 'mediarecorder') this._backend?.resume();
    this.dispatchEvent(event('resume', { pausedDuration: this.pausedDuration }));
  }

  // ---- frame intake ----

  /** A frame drawn / captured at page time `timeMs`: its recording timestamp (µs), or null if paused then. */
  _timestampUs(timeMs) {
    if (this._o.timing !== 'realtime') return undefined;
    const t = this._timeline.map(timeMs * 1000);
    return t === null ? null : Math.round(t);
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
    // 'auto' without a size up front (XR views, given frames, streams): decided now that the size is known.
    if (this._chosen === 'auto') {
      const c = await chooseBackend(this._kind, { ...o, backend: 'auto' }, size, !!this._audio);
      if (c.backend === 'mediarecorder') throw new Error(`recorder: ${c.reason}; the recording already started on WebCodecs (pass backend "mediarecorder")`);
      this._chosen = c.backend;
      this.backendReason = c.reason;
    }
    let backend = this._chosen;
    if (backend === 'webcodecs') {
      const audio = this._audio ? { channels: this._audio.channels, sampleRate: this._audio.sampleRate, bitrate: o.audioBitrate } : null;
      this._backend = await WebCodecsBackend.open({ ...enc, timing: o.timing, audio, container: o.container }, this._output, { onfatal: (e) => this._fail(e) });
      if (this._audio) this._startAudio();
    } else {
      if (o.speed !== undefined) enc.speed = o.speed;
      enc.flipY = !!this._src?.bottomUp;
      if (this._audio) enc.audio = { sampleRate: PCM_SAMPLE_RATE, channels: this._audio.channels, ...(o.audioBitrate ? { bitrate: o.audioBitrate } : {}) };
      const env = { onfatal: (e) => this._fail(e) };
      if (o.worker !== undefined) env.worker = o.worker;
      this._backend = await WasmBackend.open(enc, this._output, env);
      backend = 'wasm';
      if (this._audio && !this._audio.pcm) await this._startPcm(); // 'auto' that turned out wasm at the first frame
      for (const e of this._pcmEarly.splice(0)) this._backend.encodeAudio(e.planes, e.t);
    }
    this.backend = backend;
    this.codec = o.codec;
    this.mimeType = this._audio ? `video/webm;codecs=${o.codec},opus` : `video/webm;codecs=${o.codec}`;
    if (o.container === 'mp4') this.mimeType = 'video/mp4'; // the codecs come with the result (the muxer's)
  }

  // Sound on the webcodecs backend: the audio input's chunks, on the recording's time line.
  _startAudio() {
    this._audio.start(
      (ad, pageUs) => {
        // While stopping, the sound recorded before stop() still comes in (audio arrives in batches).
        const live = this._state === 'recording' || this._state === 'paused' || (this._state === 'stopping' && pageUs < this._endUs);
        const t = live ? this._timeline.map(pageUs) : null;
        if (t === null || !this._backend) { ad.close(); return; }
        this._audioEndUs = pageUs + (ad.numberOfFrames / ad.sampleRate) * 1e6;
        this._backend.encodeAudio(ad, t);
        if (this._audioEndUs >= this._endUs) this._audioCaughtUp?.();
      },
      (err) => this._fail(err),
      () => {
        this._backend?.endAudio();
        this.dispatchEvent(event('audioended', {}));
      },
    );
  }

  // Sound on the wasm backend: PCM batches from the audio input (an AudioWorklet at 48 kHz), on the
  // recording's time line, to the record Worker (libopus). Started with the recording, before the
  // backend may be open (XR, given frames: at the first frame); what comes before waits in _pcmEarly.
  _startPcm() {
    this._pcmEarly = [];
    return this._audio.startPcm(this._audio.channels,
      (planes, pageUs) => {
        const live = this._state === 'recording' || this._state === 'paused' || (this._state === 'stopping' && pageUs < this._endUs);
        const t = live ? this._timeline.map(pageUs) : null;
        if (t === null) return;
        this._audioEndUs = pageUs + (planes[0].length / PCM_SAMPLE_RATE) * 1e6;
        if (this._backend) this._backend.encodeAudio(planes, t);
        else {
          this._pcmEarly.push({ planes, t });
          if (this._pcmEarly.length > 400) this._pcmEarly.shift();
        }
        if (this._audioEndUs >= this._endUs) this._audioCaughtUp?.();
      },
      (err) => this._fail(err),
      () => this.dispatchEvent(event('audioended', {})));
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
   * Returns a promise that resolves when the frame is in the file (null while paused: not recorded).
   */
  addFrame(image, options = {}) {
    this._usable('addFrame');
    if (this._chosen === 'mediarecorder') throw new TypeError('recorder.addFrame: backend "mediarecorder" records the canvas itself; use captureFrame()');
    if (this._kind === 'stream') throw new TypeError('recorder.addFrame: this recorder records a stream; its frames come from the track');
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
    if (this._state === 'paused') return null;
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
   * options: { metadata?, time? (ms) }. Returns a promise that resolves when the frame is in the file
   * (null while paused: nothing is taken).
   */
  captureFrame(options = {}) {
    this._usable('captureFrame');
    if (options === null || typeof options !== 'object') throw new TypeError('recorder.captureFrame: options must be an object { metadata?, time? }');
    if (this._kind === 'xr') {
      if (!options.frame) throw new TypeError('recorder.captureFrame: an XR recording needs { frame } (the XRFrame of your frame callback); or use captureXRFrame(frame, time)');
      return this.captureXRFrame(options.frame, options.time, options);
    }
    if (this._kind !== 'canvas') throw new TypeError(`recorder.captureFrame: this recorder has no canvas; ${this._kind === 'stream' ? 'a stream delivers its own frames' : 'use addFrame(image)'}`);
    const time = options.time === undefined ? performance.now() : options.time;
    return this._take(time, 'captureFrame', options.metadata);
  }

  /** Manual XR mode: records `frame` (the XRFrame of your session frame callback), after drawing. */
  captureXRFrame(frame, time, options = {}) {
    this._usable('captureXRFrame');
    if (this._kind !== 'xr') throw new TypeError('recorder.captureXRFrame: this recorder does not record an XR session');
    if (!frame || typeof frame.getViewerPose !== 'function') throw new TypeError('recorder.captureXRFrame: frame must be the XRFrame passed to your XRSession.requestAnimationFrame callback');
    const t = time !== undefined ? time : typeof frame.predictedDisplayTime === 'number' ? frame.predictedDisplayTime : performance.now();
    return this._take(t, 'captureXRFrame', options.metadata, frame);
  }

  /**
   * One frame from a canvas or an XR session, drawn at page time `time` (ms): read, stamped, queued.
   * Returns the frame's promise, or null when nothing was taken (paused, queue full in auto mode,
   * tracking lost).
   */
  _take(time, what, extraMeta, xrFrame) {
    const src = this._src;
    if (this._chosen === 'mediarecorder') { // the canvas's capture track takes the frame itself
      this._checkSize(src.canvas.width, src.canvas.height, what);
      if (this._state === 'paused') return null;
      this._backend.requestFrame();
      this._accepted++;
      this._encoded++;
      if (extraMeta !== undefined) this._noteMeta(extraMeta);
      return Promise.resolve();
    }
    if (this._state === 'paused') return null;
    const timestampUs = this._timestampUs(time);
    if (timestampUs === null) return null;
    if (this._startTime === null) this._startTime = time;
    if (!this._checkRoom(what)) return null;
    const takeBuffer = (n) => this._backend?.takeBuffer?.(n);
    const f = xrFrame ? src.read(xrFrame, what, { takeBuffer }) : src.read(time, what, { videoFrame: this._chosen === 'webcodecs', takeBuffer });
    if (!f) {
      // Tracking lost: nothing drawn for this frame. Counted, not recorded.
      this._skipped++;
      this._backpressure('no-pose');
      return null;
    }
    const frameNumber = this._accepted + 1;
    const metadata = this._noteMeta(xrFrame
      ? src.metadata({ frame: xrFrame, frameNumber, time, startTime: this._startTime, extra: extraMeta })
      : extraMeta === undefined ? src.metadata({ frameNumber, time, startTime: this._startTime }) : extraMeta);
    return this._submit({ ...f, timestampUs, metadata });
  }

  // A stream's frame (webcodecs), captured at page time `pageUs`; this takes ownership of `vf`.
  _takeStreamFrame(vf, pageUs) {
    if (this._state !== 'recording') { vf.close(); return; }
    const t = this._timeline.map(pageUs);
    if (t === null) { vf.close(); return; }
    if (this._startTime === null) this._startTime = pageUs / 1000;
    if (!this._checkRoom('auto')) { vf.close(); return; }
    // The file keeps the first frame's size; a resized window's frames are scaled into it (frame-fit.js).
    if (!this._fitter) this._fitter = new FrameFitter(vf.displayWidth, vf.displayHeight);
    vf = this._fitter.fit(vf);
    const time = pageUs / 1000;
    let metadata;
    try {
      metadata = this._noteMeta(this._src.metadata({ frameNumber: this._accepted + 1, time, startTime: this._startTime }));
    } catch (err) {
      vf.close();
      throw err;
    }
    this._submit({ videoFrame: vf, width: vf.displayWidth, height: vf.displayHeight, timestampUs: Math.round(t), metadata });
  }

  _startSources() {
    const o = this._o;
    const src = this._src;
    if (this._kind === 'stream') {
      src.watchEnd(() => this._sourceEnded());
      if (this._chosen !== 'mediarecorder') src.start((vf, us) => this._takeStreamFrame(vf, us), (err) => this._fail(err));
      return;
    }
    if (o.frames !== 'auto' || this._chosen === 'mediarecorder') return;
    if (this._kind === 'canvas') {
      src.start((t) => {
        if (this._state === 'recording' && this._pacer.due(t)) this._take(t, 'auto');
      }, (err) => this._fail(err));
    } else if (this._kind === 'xr') {
      src.start((t, frame) => {
        if (this._state === 'recording' && this._pacer.due(t)) this._take(t, 'auto', undefined, frame);
      }, (err) => this._fail(err), () => {
        if (this._state === 'recording' || this._state === 'paused') this._fail(new Error('recorder: the XR session ended while recording; the file is not complete (call stop() before ending the session)'));
      });
    }
  }

  _stopSources() {
    this._src?.stop();
    this._audio?.stop();
  }

  _release() {
    this._audio?.release();
    this._src?.release?.();
  }

  // The user ended the stream (Stop sharing, unplugged, hung up): finish the file with what there is.
  _sourceEnded() {
    if (this._state !== 'recording' && this._state !== 'paused') return;
    this._endedBy = 'source';
    const result = this._stopNow();
    result.catch(() => {});
    this.dispatchEvent(event('sourceended', { track: this._src.track, result }));
  }

  // ---- stop ----

  /**
   * Stops taking frames, waits until every queued frame is encoded, finishes the file. After the source
   * ended by itself ('sourceended'), resolves with the result of that ending.
   * @returns {Promise<RecordingResult>} see index.d.ts
   */
  stop() {
    if (this._endedBy === 'source' && this._stopping) return this._stopping;
    if (this._state === 'stopping') return Promise.reject(new Error('recorder.stop: stop() was already called'));
    if (this._state === 'stopped') return Promise.reject(new Error('recorder.stop: the recording is already stopped'));
    if (this._state === 'aborted') return Promise.reject(new Error('recorder.stop: the recording was aborted'));
    if (this._error) return Promise.reject(this._error);
    this._endedBy = 'stop';
    return this._stopNow();
  }

  _stopNow() {
    this._endUs = nowUs();
    if (this._state === 'paused') this._timeline.resume(this._endUs);
    this._state = 'stopping';
    this._stopping = this._finish();
    return this._stopping;
  }

  async _finish() {
    if (this._audio && (this._chosen === 'webcodecs' || this._chosen === 'wasm') && this._backend && !(this._audioEndUs >= this._endUs)) {
      // The sound up to stop() is still on its way (audio comes in batches): wait for it, 0.5 s at most.
      await new Promise((resolve) => {
        this._audioCaughtUp = resolve;
        setTimeout(resolve, 500);
      });
    }
    this._stopSources();
    let fin;
    try {
      if (this._chosen !== 'mediarecorder') {
        await this._idle();
        await this._chain;
        if (this._error) throw this._error;
        if (!this._backend) throw new Error('recorder.stop: no frames were recorded, so there is no video');
      }
      // A stream's file lasts until stop(), however long ago its last frame came (a still screen).
      fin = await this._backend.finish(this._kind === 'stream' && this._endedBy === 'stop' ? { endUs: this._timeline.map(this._endUs) } : undefined);
      await this._output.drained();
      if (this._error) throw this._error;
    } catch (err) {
      this._fail(err);
      throw this._error || err; // the first failure (say ondata's), not what it caused
    } finally {
      this._release();
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
    if (this.backendReason) result.backendReason = this.backendReason;
    if (fin.repair) result.repair = fin.repair;
    if (fin.requestedFrames !== undefined) result.requestedFrames = fin.requestedFrames;
    if (fin.audio) result.audio = fin.audio;
    if (this._fitter?.fitted) result.scaledFrames = this._fitter.fitted;
    const paused = this._timeline.pausedUs(nowUs()) / 1e6;
    if (paused > 0) result.pausedDuration = paused;
    if (this._kind === 'stream') result.endedBy = this._endedBy;
    const metadata = {
      backend: result.backend, codec: result.codec, mimeType: result.mimeType, width: result.width, height: result.height,
      fps: this._o.fps, timing: this._o.timing,
      started: new Date(this._started).toISOString(), ended: new Date(ended).toISOString(),
      duration: result.duration, frameCount: result.frames, averageFps: result.averageFps, bytes: result.bytes,
      skippedFrames: this._skipped,
    };
    if (paused > 0) metadata.pausedDuration = paused;
    if (result.audio) metadata.audio = result.audio;
    if (this._src?.describe) Object.assign(metadata, this._src.describe());
    if (this._kind === 'stream') metadata.endedBy = this._endedBy;
    if (this._src?.device) metadata.device = await this._src.device.catch(() => null);
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
    this._stopSources();
    this._state = 'aborted';
    const err = new Error('recorder: the recording was aborted');
    for (const w of this._readyWaiters.splice(0)) w.reject(err);
    for (const w of this._idleWaiters.splice(0)) w.reject(err);
    try { this._backend?.abort(); } catch { /* already gone */ }
    this._release();
    this._output.discard();
  }
}

/** Which backend records: { backend, reason } ('auto' with no size yet: decided at the first frame). */
async function chooseBackend(kind, o, size, audio) {
  const streams = kind === 'stream';
  if (o.backend !== 'auto') {
    if (o.backend === 'webcodecs') {
      if (typeof VideoEncoder !== 'function') throw new Error(`${W}: backend "webcodecs" needs VideoEncoder (WebCodecs), which this environment lacks (pages need a secure context)`);
      if (streams && typeof MediaStreamTrackProcessor !== 'function') throw new Error(`${W}: backend "webcodecs" records a stream through MediaStreamTrackProcessor, which this browser lacks; use backend "mediarecorder"`);
      if (audio && !(await OpusEncoder.isSupported({ channels: 1, bitrate: o.audioBitrate }))) throw new Error(`${W}: backend "webcodecs" encodes sound with AudioEncoder (Opus), which this browser lacks; use backend "mediarecorder"`);
      if (audio && !WebCodecsBackend.muxesAudio) throw new Error(`${W}: backend "webcodecs" cannot write sound yet (this build's WebmMuxer has no Opus track); use backend "mediarecorder"`);
      if (size && !(await WebCodecsBackend.isSupported({ codec: o.codec, ...size, fps: o.fps, bitrate: o.bitrate }))) {
        throw new Error(`${W}: this browser's VideoEncoder cannot encode ${o.codec} at ${size.width}x${size.height}; use backend "${streams ? 'mediarecorder' : 'wasm'}"`);
      }
    }
    if (o.backend === 'mediarecorder' && typeof MediaRecorder !== 'function') throw new Error(`${W}: MediaRecorder is not available here`);
    if (o.backend === 'wasm' && audio && !canCapturePcm()) throw new Error(`${W}: sound on backend "wasm" is captured with Web Audio (AudioContext and AudioWorklet), which this environment lacks`);
    return { backend: o.backend, reason: 'asked for' };
  }
  // auto with sound or a stream: the browser's encoders where they all exist, else MediaRecorder.
  if (streams || audio) {
    const missing = [];
    if (typeof VideoEncoder !== 'function') missing.push('VideoEncoder');
    if (typeof MediaStreamTrackProcessor !== 'function') missing.push('MediaStreamTrackProcessor');
    if (audio && !(await OpusEncoder.isSupported({ channels: 1, bitrate: o.audioBitrate }))) missing.push('AudioEncoder (Opus)');
    if (audio && !WebCodecsBackend.muxesAudio) missing.push('an Opus track in WebmMuxer');
    if (!missing.length && size && !(await WebCodecsBackend.isSupported({ codec: o.codec, ...size, fps: o.fps, bitrate: o.bitrate }))) {
      missing.push(`VideoEncoder for ${o.codec} at ${size.width}x${size.height}`);
    }
    if (!missing.length) {
      if (!size) return { backend: 'auto' };
      return { backend: 'webcodecs', reason: `WebCodecs: VideoEncoder takes ${o.codec} at ${size.width}x${size.height}${audio ? ', AudioEncoder takes Opus' : ''}${streams ? ', MediaStreamTrackProcessor reads the track' : ''}` };
    }
    // A canvas or an XR session with sound: frame-exact in wasm, the sound captured by Web Audio.
    if (!streams && canCapturePcm()) return { backend: 'wasm', reason: `wasm: this browser lacks ${missing.join(', ')}; Web Audio (AudioWorklet) captures the sound` };
    if (typeof MediaRecorder !== 'function') throw new Error(`${W}: neither WebCodecs (missing ${missing.join(', ')}) nor MediaRecorder is available here`);
    if (kind === 'xr') throw new Error(`${W}: sound with an XR session needs WebCodecs or Web Audio's AudioWorklet (missing here: ${missing.join(', ')})`);
    return { backend: 'mediarecorder', reason: `MediaRecorder: this browser lacks ${missing.join(', ')}` };
  }
  if (!size) return { backend: 'auto' }; // decided at the first frame (_openBackend)
  // auto: the browser's encoder when it takes this codec and size (WebCodecs), else libvpx in wasm.
  if (typeof VideoEncoder === 'function' && (size.width % 2 === 0 && size.height % 2 === 0) &&
      (await WebCodecsBackend.isSupported({ codec: o.codec, ...size, fps: o.fps, bitrate: o.bitrate }))) {
    return { backend: 'webcodecs', reason: `WebCodecs: VideoEncoder takes ${o.codec} at ${size.width}x${size.height}` };
  }
  return { backend: 'wasm', reason: typeof VideoEncoder !== 'function' ? 'wasm: no VideoEncoder here' : `wasm: VideoEncoder does not take ${o.codec} at ${size.width}x${size.height}` };
}

/**
 * Starts recording `source` (see the top of this file and index.d.ts for the options).
 * @returns {Promise<Recorder>} resolves once recording has started
 */
export async function createRecorder(source, options) {
  const kind = sourceKind(source);
  const o = normalizeRecorderOptions(options, kind);
  const rec = new Recorder(source, kind, o);
  let src = null;
  if (kind === 'canvas') src = new CanvasSource(source, o);
  else if (kind === 'xr') src = new XRSource(source, o);
  else if (kind === 'stream') src = new StreamSource(source, { ...o, ownTracks: !!o.stopTracks });
  rec._src = src;
  let size = o.size || (kind === 'canvas' ? src.size : null);
  try {
    rec._audio = await openAudio(o.audio, kind === 'stream' && o.streamAudio ? src.audioTracks : [], W);
    // A stream's size is the track's (the first frame confirms it); it only helps choose here.
    const choice = await chooseBackend(kind, o, size || (kind === 'stream' ? src.size : null), !!rec._audio);
    rec._chosen = choice.backend;
    rec.backendReason = choice.reason || null;
    if (rec._chosen === 'mediarecorder') {
      if (kind !== 'canvas' && kind !== 'stream') throw new TypeError(`${W}: backend "mediarecorder" needs a canvas or a stream source`);
      if (typeof MediaRecorder !== 'function') throw new Error(`${W}: MediaRecorder is not available here`);
      const stream = kind === 'canvas' ? src.stream(o.frames === 'manual' ? 0 : o.fps) : src.stream();
      size = size || src.size || { width: 0, height: 0 };
      rec._backend = await MediaRecorderBackend.open({
        stream, ownVideo: kind === 'canvas', audioTrack: rec._audio ? rec._audio.track : null,
        codec: o.codec, fps: o.fps, frames: kind === 'canvas' ? o.frames : 'auto', bitrate: o.bitrate, audioBitrate: o.audioBitrate,
        keyframeInterval: o.keyframeInterval, timeslice: o.timeslice, repair: o.repair, width: size.width, height: size.height,
      }, rec._output, { onfatal: (e) => rec._fail(e) });
      rec.backend = 'mediarecorder';
      rec.codec = rec._backend.codec;
      rec.mimeType = rec._backend.mimeType;
      rec.width = size.width;
      rec.height = size.height;
    } else if (size && (kind === 'canvas' || o.size)) {
      rec._size = size;
      rec._opening = rec._openBackend(size);
      await rec._opening;
    }
    if (rec._audio && rec._chosen === 'wasm') await rec._startPcm();
    rec._startSources();
  } catch (err) {
    rec._audio?.release();
    src?.release?.();
    throw err;
  }
  return rec;
}

/**
 * Asks the user for a screen, window or tab (getDisplayMedia, with its sound where the browser offers
 * it) and records it; the recorder owns the tracks and stops them at the end. options: createRecorder's,
 * plus video / audio (MediaTrackConstraints or booleans for getDisplayMedia) and microphone (true or
 * constraints: the user's voice mixed in).
 */
export async function recordScreen(options = {}) {
  if (options === null || typeof options !== 'object') throw new TypeError(`recordScreen: options must be an object, got ${describe(options)}`);
  const { video = true, audio = true, microphone, ...rest } = options;
  normalizeRecorderOptions({ ...rest, audio: microphone }, 'stream'); // bad options fail before the browser asks
  const stream = await openScreen({ video, audio });
  try {
    return await createRecorder(stream, { ...rest, ...(microphone ? { audio: microphone } : {}), stopTracks: true });
  } catch (err) {
    for (const t of stream.getTracks()) t.stop();
    throw err;
  }
}

/**
 * Asks the user for the camera (and the microphone unless audio: false) and records them; the recorder
 * owns the tracks and stops them at the end. options: createRecorder's, plus video / audio
 * (MediaTrackConstraints or booleans for getUserMedia).
 */
export async function recordCamera(options = {}) {
  if (options === null || typeof options !== 'object') throw new TypeError(`recordCamera: options must be an object, got ${describe(options)}`);
  const { video = true, audio = true, ...rest } = options;
  normalizeRecorderOptions(rest, 'stream');
  const stream = await openCamera({ video, audio });
  try {
    return await createRecorder(stream, { ...rest, stopTracks: true });
  } catch (err) {
    for (const t of stream.getTracks()) t.stop();
    throw err;
  }
}
