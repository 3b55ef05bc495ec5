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
//   frame-intake.js    how frames come in (checked, stamped, metadata); frame-queue.js: the bounded
//                      queue with backpressure they wait in
//   sound-intake.js    sound on the recording's time line, to the backend
//   backend-choice.js  which backend records, and why (the backends compared)
//   recording-result.js what stop() resolves with
//   user-media.js      recordScreen / recordCamera
// This file: the Recorder (its state: recording, paused, stopping, ...; taking frames from the sources;
// opening the backend at the first frame; stopping) and createRecorder.
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
import { VIDEO_LIMITS } from '../video/video-writer.js';
import { RecordingOutput } from './output.js';
import { Timeline } from './timeline.js';
import { describe, normalizeRecorderOptions, RECORDER_LIMITS } from './options.js';
import { CanvasSource, isHTMLCanvas, isOffscreen } from './sources/canvas.js';
import { XRSource, isXRSession } from './sources/xr.js';
import { StreamSource, isStreamSource } from './sources/stream.js';
import { Pacer } from './sources/pacing.js';
import { openAudio } from './sources/audio.js';
import { PCM_SAMPLE_RATE } from './sources/pcm-capture.js';
import { WasmBackend } from './backends/wasm.js';
import { WebCodecsBackend } from './backends/webcodecs.js';
import { MediaRecorderBackend } from './backends/mediarecorder.js';
import { chooseBackend } from './backend-choice.js';
import { FrameIntake } from './frame-intake.js';
import { SoundIntake } from './sound-intake.js';
import { assembleResult } from './recording-result.js';

export { normalizeRecorderOptions, RECORDER_LIMITS };
export { recordScreen, recordCamera } from './user-media.js';

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
    this._intake = new FrameIntake(this, (detail) => {
      o.onbackpressure?.(detail);
      this.dispatchEvent(event('backpressure', detail));
    });
    this._queue = this._intake.queue;
    this._size = o.size || null;
    this._pacer = new Pacer(o.fps, o.timing);
    this._timeline = new Timeline();
    this._started = Date.now();
    this._audio = null;      // sources/audio.js AudioInput
    this._sound = null;      // sound-intake.js: the audio on the time line, to the backend
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
  get frames() { return this._queue.encoded; }
  /** Frames accepted and waiting to be encoded. */
  get queued() { return this._queue.inFlight; }
  /** Frames that may still be queued before backpressure (<= 0: full). */
  get desiredSize() { return this._queue.room; }
  /** Frames not recorded because the queue was full (auto mode, streams), each reported as backpressure. */
  get skippedFrames() { return this._queue.skipped; }
  /** Bytes produced so far. */
  get bytes() { return this._output.size; }
  /** The error that stopped the recording, or null. */
  get error() { return this._error; }
  /** The per-frame metadata recorded so far (XR poses, frameMetadata: true, or given to addFrame). */
  get frameMetadata() { return this._intake.meta.slice(); }
  /** Whether sound is recorded. */
  get audio() { return !!this._audio; }
  /** Page time (ms, performance.now()) of the first recorded frame (MediaRecorder: its start), or null. */
  get startTime() { return this._intake.startTime ?? this._backend?.startedAt ?? null; }
  /** Seconds spent paused so far. */
  get pausedDuration() { return this._timeline.pausedUs(nowUs()) / 1e6; }

  /** Resolves when a frame may be added without backpressure (rejects if the recording failed). */
  get ready() {
    if (this._error) return Promise.reject(this._error);
    return this._queue.ready(this._state === 'recording' || this._state === 'paused');
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
    this._queue.rejectAll(err);
    try { this._backend?.abort(); } catch { /* already gone */ }
    this._release();
    this._o.onerror?.(err);
    this.dispatchEvent(event('error', { error: err }));
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
      this._sound?.startEncoded();
    } else {
      if (o.speed !== undefined) enc.speed = o.speed;
      if (o.container === 'mp4') enc.container = 'mp4';  // H.264 (OpenH264) or VP9 in MP4 by VideoWriter
      enc.flipY = !!this._src?.bottomUp;
      if (this._audio) enc.audio = { sampleRate: PCM_SAMPLE_RATE, channels: this._audio.channels, ...(o.audioBitrate ? { bitrate: o.audioBitrate } : {}) };
      const env = { onfatal: (e) => this._fail(e) };
      if (o.worker !== undefined) env.worker = o.worker;
      this._backend = await WasmBackend.open(enc, this._output, env);
      backend = 'wasm';
      if (this._sound && !this._sound.capturing) await this._sound.startPcm(); // sound starts with the backend
      this._sound?.flushEarly(this._backend);
    }
    this.backend = backend;
    this.codec = o.codec;
    this.mimeType = this._audio ? `video/webm;codecs=${o.codec},opus` : `video/webm;codecs=${o.codec}`;
    if (o.container === 'mp4') this.mimeType = 'video/mp4'; // the codecs come with the result (the muxer's)
  }

  // The sound (sound-intake.js): live while recording or paused, and while stopping for what was heard
  // before stop().
  _openSound() {
    this._sound = new SoundIntake(this._audio, {
      live: (pageUs) => this._state === 'recording' || this._state === 'paused' || (this._state === 'stopping' && pageUs < this._endUs),
      map: (pageUs) => this._timeline.map(pageUs),
      backend: () => this._backend,
      onerror: (err) => this._fail(err),
      onended: () => this.dispatchEvent(event('audioended', {})),
    });
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
    return this._intake.add(image, options);
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
    return this._intake.take(time, 'captureFrame', options.metadata);
  }

  /** Manual XR mode: records `frame` (the XRFrame of your session frame callback), after drawing. */
  captureXRFrame(frame, time, options = {}) {
    this._usable('captureXRFrame');
    if (this._kind !== 'xr') throw new TypeError('recorder.captureXRFrame: this recorder does not record an XR session');
    if (!frame || typeof frame.getViewerPose !== 'function') throw new TypeError('recorder.captureXRFrame: frame must be the XRFrame passed to your XRSession.requestAnimationFrame callback');
    const t = time !== undefined ? time : typeof frame.predictedDisplayTime === 'number' ? frame.predictedDisplayTime : performance.now();
    return this._intake.take(t, 'captureXRFrame', options.metadata, frame);
  }

  _startSources() {
    const o = this._o;
    const src = this._src;
    if (this._kind === 'stream') {
      src.watchEnd(() => this._sourceEnded());
      if (this._chosen === 'wasm') src.readBack((rgba, w, h, us) => this._intake.takeStreamPixels(rgba, w, h, us), (err) => this._fail(err));
      else if (this._chosen !== 'mediarecorder') src.start((vf, us) => this._intake.takeStream(vf, us), (err) => this._fail(err));
      return;
    }
    if (o.frames !== 'auto' || this._chosen === 'mediarecorder') return;
    if (this._kind === 'canvas') {
      src.start((t) => {
        if (this._state === 'recording' && this._pacer.due(t)) this._intake.take(t, 'auto');
      }, (err) => this._fail(err));
    } else if (this._kind === 'xr') {
      src.start((t, frame) => {
        if (this._state === 'recording' && this._pacer.due(t)) this._intake.take(t, 'auto', undefined, frame);
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
    // The sound up to stop() is still on its way (audio comes in batches): wait for it, 0.5 s at most.
    if (this._sound && this._chosen !== 'mediarecorder' && this._backend) await this._sound.caughtUp(this._endUs);
    this._stopSources();
    let fin;
    try {
      if (this._chosen !== 'mediarecorder') {
        if (this._error) throw this._error;
        await this._queue.idle();
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
    return assembleResult(fin, {
      backend: this.backend, backendReason: this.backendReason, codec: this.codec, mimeType: this.mimeType, width: this.width, height: this.height,
      kind: this._kind, options: this._o, started: this._started, skipped: this._queue.skipped, scaled: this._intake.fitter?.fitted || 0,
      pausedSeconds: this._timeline.pausedUs(nowUs()) / 1e6, endedBy: this._endedBy, source: this._src, frameMeta: this._intake.meta, output: this._output,
    });
  }

  /** Stops at once and discards the recording (what was streamed so far is not a complete file). */
  abort() {
    if (this._state === 'stopped' || this._state === 'aborted') return;
    this._stopSources();
    this._state = 'aborted';
    this._queue.rejectAll(new Error('recorder: the recording was aborted'));
    try { this._backend?.abort(); } catch { /* already gone */ }
    this._release();
    this._output.discard();
  }
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
    if (rec._audio) rec._openSound();
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
        keyframeInterval: o.keyframeInterval, timeslice: o.timeslice, repair: o.repair, width: size.width, height: size.height, container: o.container,
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
    if (rec._sound && rec._chosen === 'wasm' && !rec._sound.capturing) await rec._sound.startPcm(); // before the first frame
    rec._startSources();
  } catch (err) {
    rec._audio?.release();
    src?.release?.();
    throw err;
  }
  return rec;
}
