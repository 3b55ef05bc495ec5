// <record-button>: a drop-in Record / Stop button for a canvas (2D, WebGL) or an immersive WebXR session.
//
//   <record-button target="#scene" codec="vp8" fps="30" max-duration="60" download>Record</record-button>
//
//   const button = document.querySelector('record-button');
//   button.uploader = uploader;   // optional: the recording uploads while it is recorded (seekable file)
//   button.addEventListener('recording', (e) => console.log(e.detail.result, e.detail.upload));
//
// Attributes: source ("screen": the user picks a screen, window or tab, with its sound; "camera": the
//   camera and microphone; "screen+camera": the camera over the screen, picture in picture
//   (composeStreams: bottom-right, a quarter of the screen's width), with the sound of both; a CSS
//   selector of a canvas; default: the target canvas), audio (record sound:
//   the microphone with a canvas / XR session / screen; audio="false" leaves a camera's or a tab's
//   sound out), target (CSS selector of the canvas), backend (auto | wasm | webcodecs | mediarecorder),
//   codec, fps, bitrate (bits per second), keyframe-interval (frames), max-duration (seconds: stops by
//   itself), journal (crash-safe: every byte is stored in IndexedDB first, recoverRecordings() finds a
//   recording whose tab died), review (keep / discard the recording in <capture-review> before it is
//   saved, downloaded or uploaded), download (save kept recordings through a download with a
//   timestamped name; the recording must be in memory: no uploader, or review), filename-prefix
//   (default "recording").
// Properties: target (a canvas element), xr ({ session, gl, referenceSpace } or a function returning it
//   or null; while the session runs, the button records the XR session), options (extra createRecorder
//   options), metadata (stored with the upload), uploader (an Uploader: without review the recording
//   streams to it while it is recorded, part 0 last so that the server's file is seekable; with review
//   it is queued after Keep), recorder (the running recorder or null), recording (true while recording),
//   start(), stop() (resolves with what the 'recording' event carries, or null), toggle() (a click).
// Events (bubbling, composed):
//   'recordingstart'   detail { recorder }
//   'recording'        detail { result, upload }: a finished recording the user kept (result as
//                      recorder.stop() gives it; with an uploader, upload = { itemId, bytes, parts })
//   'recordingdiscard' detail { result }: discarded in the review step
//   'recordingerror'   detail { error }: recording or uploading failed (or the user refused the camera /
//                      screen); the page keeps running
// When the user ends a screen or camera stream ("Stop sharing", an unplugged camera), the recording is
// finished and kept as if the button had been pressed (with screen+camera: when the screen ends).
import { createRecorder } from '../js-glue/record/recorder.js';
import { createJournaledRecorder } from '../js-glue/record/journal.js';
import { captureFilename, downloadCapture } from '../js-glue/capture/download.js';
import { reviewCapture } from './capture-review.js';
import { TargetButton } from './target-button.js';

const STYLE = `
  :host { display: inline-block; }
  button { font: inherit; cursor: pointer; padding: 8px 14px; border-radius: 999px; border: 1px solid #c21a0a;
    background: #fff; color: #c21a0a; display: inline-flex; gap: 8px; align-items: center; }
  button::before { content: ""; width: 10px; height: 10px; border-radius: 50%; background: #c21a0a; }
  :host([recording]) button { background: #c21a0a; color: #fff; }
  :host([recording]) button::before { border-radius: 2px; background: #fff; }
  button[disabled] { opacity: 0.6; cursor: progress; }
  .time { font-variant-numeric: tabular-nums; }
  :host(:not([recording])) .time { display: none; }
`;

const NUMBER_ATTRIBUTES = [['fps', 'fps'], ['bitrate', 'bitrate'], ['keyframe-interval', 'keyframeInterval']];

function clock(ms) {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export class RecordButton extends TargetButton {
  static get observedAttributes() { return ['disabled']; }

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    root.innerHTML = `<style>${STYLE}</style><button part="button" type="button" aria-pressed="false">` +
      '<span class="label" part="label"><slot>Record</slot></span><span class="time" part="time">0:00</span></button>';
    this._button = root.querySelector('button');
    this._time = root.querySelector('.time');
    this._button.addEventListener('click', () => { this.toggle(); });
    this.metadata = {};
    this.uploader = null;
    this._recorder = null;
    this._upload = null;
    this._busy = false;
    this._startedAt = 0;
    this._ticker = 0;
    this._limit = 0;
    this._failure = null;
    this._failureReported = false;
    this._stopping = null;
    this._name = '';
  }

  attributeChangedCallback() { this._sync(); }

  disconnectedCallback() {
    // Removed from the page while recording: nothing is kept half-written. A move to another place in
    // the page disconnects and reconnects at once, so only an element still disconnected a microtask
    // later was removed.
    queueMicrotask(() => {
      if (!this.isConnected && this._recorder) this._fail(new Error('record-button: removed from the page while recording'));
    });
  }

  get recorder() { return this._recorder; }
  get recording() { return !!this._recorder; }

  _sync() {
    this._button.disabled = this.hasAttribute('disabled') || this._busy;
    this._button.setAttribute('aria-pressed', String(this.recording));
    this.toggleAttribute('recording', this.recording);
    if (this._busy) this.setAttribute('aria-busy', 'true');
    else this.removeAttribute('aria-busy');
  }

  _recorderOptions() {
    const o = { ...this.options };
    for (const [attr, key] of NUMBER_ATTRIBUTES) {
      if (this.hasAttribute(attr)) o[key] = Number(this.getAttribute(attr));
    }
    if (this.hasAttribute('backend')) o.backend = this.getAttribute('backend');
    if (this.hasAttribute('codec')) o.codec = this.getAttribute('codec');
    return o;
  }

  /** The audio attribute: true (present), false (audio="false"), or undefined (absent). */
  _audio() {
    if (!this.hasAttribute('audio')) return undefined;
    return this.getAttribute('audio') !== 'false';
  }

  // The source attribute: 'screen', 'camera', a canvas selector, or null (the target canvas / XR session).
  _sourceKind() {
    const s = (this.getAttribute('source') || '').trim();
    if (!s) return null;
    if (s === 'screen' || s === 'camera' || s === 'screen+camera') return s;
    return 'selector';
  }

  _maxDuration() {
    if (!this.hasAttribute('max-duration')) return 0;
    const s = Number(this.getAttribute('max-duration'));
    if (!(s > 0) || !Number.isFinite(s)) throw new RangeError(`record-button: max-duration must be a number of seconds > 0, got "${this.getAttribute('max-duration')}"`);
    return s;
  }

  _filename() {
    return captureFilename({ metadata: { timestamp: Date.now() }, format: 'video/webm' }, { prefix: this.getAttribute('filename-prefix') || 'recording' });
  }

  _uploadMetadata(options, source) {
    const md = { filename: this._name, ...this.metadata };
    if (options.fps !== undefined) md.fps = options.fps;
    if (options.codec !== undefined) md.codec = options.codec;
    if (source && source.width) md.resolution = `${source.width}x${source.height}`;
    return md;
  }

  /** A click: starts a recording, or stops the one under way. */
  toggle() {
    return this.recording ? this.stop() : this.start();
  }

  /** Starts recording the XR session (while one runs) or the target canvas. Resolves with the recorder. */
  async start() {
    if (this._busy || this._recorder) return this._recorder;
    this._busy = true;
    this._failure = null;
    this._failureReported = false;
    this._sync();
    let upload = null;
    try {
      const options = this._recorderOptions();
      const limit = this._maxDuration();
      const kind = this._sourceKind();
      const audio = this._audio();
      const user = kind === 'screen' || kind === 'camera' || kind === 'screen+camera';
      const xr = user ? null : this._xr();
      let source = null;
      if (xr) {
        const { session, ...rest } = xr;
        source = session;
        Object.assign(options, rest);
      } else if (kind === 'selector') {
        source = document.querySelector(this.getAttribute('source'));
        if (!source) throw new Error(`record-button: source "${this.getAttribute('source')}" matches no element`);
      } else if (!kind) {
        source = this.target;
        if (!source) throw new Error('record-button: no target canvas (set the target attribute or property)');
      }
      if (source && audio) options.audio = true;
      this._name = this._filename(); // one name per recording: upload, journal and download
      const streaming = !!this.uploader && !this.hasAttribute('review');
      if (this.uploader && typeof this.uploader.startRecording !== 'function') throw new TypeError('record-button: uploader must be an Uploader (createUploader)');
      if (streaming) {
        upload = await this.uploader.startRecording(this._uploadMetadata(options, xr ? null : source), { seekable: true });
        options.ondata = upload.ondata;
      }
      const appOnerror = options.onerror;
      options.onerror = (err) => {
        appOnerror?.(err);
        this._fail(err);
      };
      let recorder;
      if (user) {
        // The browser asks the user here; the recorder owns the stream and stops it at the end.
        const stream = await openUserStream(kind, audio, options.fps);
        this._ownedStream = stream;
        try {
          recorder = this.hasAttribute('journal')
            ? await createJournaledRecorder(stream.source, { ...options, ...stream.options }, { metadata: { ...this.metadata, filename: this._name } })
            : await createRecorder(stream.source, { ...options, ...stream.options });
        } catch (e) {
          stream.stop();
          this._ownedStream = null;
          throw e;
        }
      } else {
        recorder = this.hasAttribute('journal')
          ? await createJournaledRecorder(source, options, { metadata: { ...this.metadata, filename: this._name } })
          : await createRecorder(source, options);
      }
      // The user ended the stream (Stop sharing, camera unplugged): finish and keep what was recorded.
      recorder.addEventListener('sourceended', () => { if (this._recorder === recorder) this.stop(); });
      this._recorder = recorder;
      this._upload = upload;
      this._startedAt = performance.now();
      this._time.textContent = '0:00';
      this._ticker = setInterval(() => { this._time.textContent = clock(performance.now() - this._startedAt); }, 250);
      if (limit) this._limit = setTimeout(() => { this.stop(); }, limit * 1000);
      this._emit('recordingstart', { recorder });
      return recorder;
    } catch (error) {
      if (upload) await upload.abort().catch(() => {});
      this._emit('recordingerror', { error });
      return null;
    } finally {
      this._busy = false;
      this._sync();
    }
  }

  _clearTimers() {
    clearInterval(this._ticker);
    clearTimeout(this._limit);
    this._ticker = 0;
    this._limit = 0;
  }

  // The recorder failed (or the element went away): abort everything and report it once.
  _fail(error) {
    if (this._failure || !this._recorder) return;
    this._failure = error;
    const recorder = this._recorder;
    const upload = this._upload;
    this._recorder = null;
    this._upload = null;
    this._clearTimers();
    this._sync();
    try { recorder.abort?.(); } catch { /* already failed */ }
    this._releaseStream();
    upload?.abort().catch(() => {});
    if (!this._stopping) {
      this._failureReported = true;
      this._emit('recordingerror', { error });
    }
  }

  // The stream this button asked the user for (screen+camera: the composition drawing it) is let go.
  _releaseStream() {
    const s = this._ownedStream;
    this._ownedStream = null;
    s?.stop();
  }

  /**
   * Stops the recording, runs the review step when asked, saves / uploads what is kept, fires the
   * events and resolves with { result, upload } (null when discarded, failed or not recording).
   */
  stop() {
    if (this._stopping) return this._stopping;
    if (!this._recorder) return Promise.resolve(null);
    this._stopping = this._finish().finally(() => { this._stopping = null; });
    return this._stopping;
  }

  async _finish() {
    const recorder = this._recorder;
    let upload = this._upload;
    this._busy = true;
    this._clearTimers();
    this._sync();
    let result = null;
    try {
      try {
        result = await recorder.stop();
      } finally {
        this._releaseStream();
      }
      this._recorder = null;
      this._upload = null;
      this._sync(); // no longer recording (still busy while uploading / reviewing)
      let uploaded = null;
      if (upload) {
        uploaded = await upload.stop({ duration: result.duration });
        upload = null;
      }
      if (this.hasAttribute('review')) {
        const keep = await reviewCapture(result, { filenamePrefix: this.getAttribute('filename-prefix') || 'recording' });
        if (!keep) {
          this._emit('recordingdiscard', { result });
          return null;
        }
        if (this.uploader) {
          const queued = await this.uploader.startRecording({ ...this._uploadMetadata({ fps: result.metadata?.fps, codec: result.codec }, result), duration: result.duration });
          try {
            await queued.append(result.data);
            uploaded = await queued.stop({ duration: result.duration });
          } catch (e) {
            await queued.abort().catch(() => {});
            throw e;
          }
        }
      }
      if (this.hasAttribute('download') && result.blob) {
        downloadCapture(result.blob, { filename: this._name });
      }
      const detail = { result, upload: uploaded };
      this._emit('recording', detail);
      return detail;
    } catch (error) {
      this._recorder = null;
      this._upload = null;
      if (upload) await upload.abort().catch(() => {});
      if (!this._failureReported) {
        this._failureReported = true;
        this._emit('recordingerror', { error: this._failure || error });
      }
      return null;
    } finally {
      this._busy = false;
      this._sync();
    }
  }
}

// The stream for source="screen" / "camera" / "screen+camera", asked for through recordScreen /
// recordCamera's request (their constraints and their errors), given to createRecorder with stopTracks
// so that the recording owns it; screen+camera is the camera composed over the screen (composeStreams),
// which owns both inputs. audio: true / false / undefined (the attribute).
async function openUserStream(kind, audio, fps) {
  const { openCamera, openScreen } = await import('../js-glue/record/sources/stream.js');
  if (kind === 'screen+camera') {
    const { composeStreams } = await import('../js-glue/record/sources/compose.js');
    const screen = await openScreen({ audio: audio !== false, what: 'record-button' });
    let camera;
    try {
      camera = await openCamera({ audio: audio !== false, what: 'record-button' });
    } catch (e) {
      for (const t of screen.getTracks()) t.stop();
      throw e;
    }
    let composed;
    try {
      composed = await composeStreams({ screen, camera, stopTracks: true, ...(fps ? { fps } : {}) });
    } catch (e) {
      for (const t of [...screen.getTracks(), ...camera.getTracks()]) t.stop();
      throw e;
    }
    const options = { stopTracks: true };
    if (audio === false) options.audio = false;
    return { source: composed, options, stop: () => composed.stop() };
  }
  const stream = kind === 'screen'
    ? await openScreen({ audio: audio !== false, what: 'record-button' })
    : await openCamera({ audio: audio !== false, what: 'record-button' });
  const options = { stopTracks: true };
  if (audio === false) options.audio = false;
  else if (kind === 'screen' && audio) options.audio = true; // the voice over the screen's sound
  return { source: stream, options, stop: () => { for (const t of stream.getTracks()) t.stop(); } };
}

if (!customElements.get('record-button')) customElements.define('record-button', RecordButton);
