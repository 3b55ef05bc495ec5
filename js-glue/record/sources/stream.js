// Stream source: where camera, screen and WebRTC frames come from. A MediaStream, a video
// MediaStreamTrack or an array of tracks (getUserMedia's camera + microphone, getDisplayMedia's screen,
// window or tab + its audio, an RTCRtpReceiver's remote track). Exactly one video track is recorded; the
// audio tracks go to the audio input (audio.js).
//
// webcodecs: a MediaStreamTrackProcessor hands over the track's VideoFrames as the browser produced
// them, each with its own capture timestamp (mapped to the page clock by TrackClock below, so that
// pauses, audio and video share one time line). mediarecorder: the stream goes to MediaRecorder as is.
//
// The user ends a stream from outside: "Stop sharing", an unplugged camera, a peer that hangs up. The
// video track's 'ended' event is reported (onended) and the recorder finishes the file with what it has.
//
// openCamera() / openScreen() ask for a stream with sensible constraints and turn the browser's
// refusals (NotAllowedError, NotFoundError, an insecure context, ...) into Errors that say what to do.

const W = 'createRecorder';

const isTrack = (t) => typeof MediaStreamTrack === 'function' && t instanceof MediaStreamTrack;
export const isMediaStream = (s) => typeof MediaStream === 'function' && s instanceof MediaStream;

/** Whether `source` is something this file records (a stream, a track, an array of tracks). */
export function isStreamSource(source) {
  return isMediaStream(source) || isTrack(source) || (Array.isArray(source) && source.length > 0 && source.every(isTrack));
}

/** The tracks of a stream source, split by kind; throws (before anything starts) when unusable. */
export function streamTracks(source) {
  let tracks;
  if (isMediaStream(source)) tracks = source.getTracks();
  else if (isTrack(source)) {
    if (source.kind !== 'video') throw new TypeError(`${W}: the track is an ${source.kind} track; record a video track (and pass the audio as options.audio), or a MediaStream with both`);
    tracks = [source];
  } else tracks = source;
  const video = tracks.filter((t) => t.kind === 'video');
  const audio = tracks.filter((t) => t.kind === 'audio');
  if (!video.length) throw new TypeError(`${W}: the stream has no video track (${audio.length} audio track(s)); capturekit records video with sound, not sound alone`);
  if (video.length > 1) throw new TypeError(`${W}: the stream has ${video.length} video tracks; pass the one to record, or compose a screen and a camera with composeStreams()`);
  if (video[0].readyState === 'ended') throw new Error(`${W}: the video track has already ended (stopped, unplugged, or the peer hung up)`);
  return { video: video[0], audio: audio.filter((t) => t.readyState !== 'ended') };
}

/**
 * Maps a track's frame timestamps (µs, on whatever clock the browser stamps them with: Chromium uses its
 * monotonic clock for camera, screen and remote frames, the page clock for audio) to the page clock
 * (performance.now() in µs), so that frames, audio and pause() / resume() share one time line.
 * Timestamps within a second of the page clock are on it (offset 0: nothing to estimate, however late
 * the chunks arrive; audio comes in batches). Others get an offset: the largest (timestamp - arrival
 * time) seen over the first frames (ten seconds at 30 fps: a busy page delivers some frames late), i.e.
 * the frame that arrived soonest after its capture. Later frames keep that offset, so intervals are
 * exactly the browser's.
 */
export class TrackClock {
  #offset = null;
  #left;
  #pageClock;

  /**
   * @param {number} [settleFrames] frames over which the offset is estimated
   * @param {{pageClock?: boolean}} [o] pageClock false: never take timestamps near the page clock as on
   *   it (video frames: a canvas's capture track stamps its frames about a second off the page clock in
   *   Chromium, close enough to pass for it, which made the file a second too long)
   */
  constructor(settleFrames = 300, { pageClock = true } = {}) {
    this.#left = settleFrames;
    this.#pageClock = pageClock;
  }

  /** The page time (µs) of a frame stamped `timestampUs` that arrived now. */
  map(timestampUs, arrivalUs = performance.now() * 1000) {
    const skew = timestampUs - arrivalUs;
    if (this.#offset === null) {
      this.#offset = skew;
      if (this.#pageClock && Math.abs(skew) < 1e6) { this.#offset = 0; this.#left = 0; } // the page clock already
    } else if (this.#left > 0 && skew > this.#offset) this.#offset = skew;
    if (this.#left > 0) this.#left--;
    return timestampUs - this.#offset;
  }
}

export class StreamSource {
  #own;
  #reader = null;
  #reading = null;
  #onEnded = null;
  #ended = false;
  #poll = 0;
  #clock = new TrackClock(300, { pageClock: false });
  #stopReadBack = null;

  constructor(source, o) {
    this.kind = 'stream';
    this.o = o;
    const { video, audio } = streamTracks(source);
    this.track = video;
    this.audioTracks = audio;
    this.#own = !!o.ownTracks;    // recordScreen / recordCamera: the recorder stops the tracks at the end
  }

  /** The size the track announces (the first frame confirms it), or null. */
  get size() {
    const s = typeof this.track.getSettings === 'function' ? this.track.getSettings() : {};
    return s.width && s.height ? { width: s.width, height: s.height } : null;
  }

  get bottomUp() { return false; }

  /** Recording-level metadata: what was recorded. */
  describe() {
    const s = typeof this.track.getSettings === 'function' ? this.track.getSettings() : {};
    const d = { track: { label: this.track.label, kind: 'video' } };
    if (s.displaySurface) d.track.displaySurface = s.displaySurface;
    if (s.frameRate) d.track.frameRate = s.frameRate;
    return d;
  }

  /** For the mediarecorder backend: the video track in a stream of its own (the audio is added there). */
  stream() {
    return new MediaStream([this.track]);
  }

  metadata({ frameNumber, time, startTime }) {
    return this.o.frameMetadata ? { frameNumber, timestamp: time, elapsed: time - startTime } : undefined;
  }

  /**
   * Watches the video track's end (by the user or the browser: the 'ended' event; by the page's own
   * track.stop(), which fires no event: readyState, looked at every 250 ms); calls onended once.
   */
  watchEnd(onended) {
    this.#onEnded = () => {
      if (this.#ended) return;
      this.#ended = true;
      clearInterval(this.#poll);
      onended();
    };
    this.track.addEventListener('ended', this.#onEnded);
    this.#poll = setInterval(() => { if (this.track.readyState === 'ended') this.#onEnded?.(); }, 250);
  }

  /**
   * webcodecs: reads the track's VideoFrames (MediaStreamTrackProcessor) and calls onframe(videoFrame,
   * pageTimeUs) for each; the callee owns (closes) the frame. Resolves when the track ends or stop().
   */
  start(onframe, onerror) {
    if (typeof MediaStreamTrackProcessor !== 'function') throw new Error(`${W}: backend "webcodecs" records a stream through MediaStreamTrackProcessor, which this browser lacks; use backend "mediarecorder"`);
    const processor = new MediaStreamTrackProcessor({ track: this.track });
    const reader = processor.readable.getReader();
    this.#reader = reader;
    this.#reading = (async () => {
      for (;;) {
        let r;
        try {
          r = await reader.read();
        } catch (err) {
          if (this.#reader) onerror(new Error(`recorder: reading the video track failed: ${err && err.message}`, { cause: err }));
          return;
        }
        if (r.done) {
          // The track ended: the stream is over (the 'ended' event may come before or after).
          if (this.#reader) this.#onEnded?.();
          return;
        }
        const vf = r.value;
        if (!this.#reader) { vf.close(); return; }
        try {
          onframe(vf, this.#clock.map(vf.timestamp));
        } catch (err) {
          vf.close();
          onerror(err);
          return;
        }
      }
    })();
  }

  /**
   * wasm: plays the track in a muted <video> and reads each new frame back as RGBA through a 2D canvas
   * (no WebCodecs needed), calling onframe(rgba, width, height, pageTimeUs): the page time is
   * requestVideoFrameCallback's captureTime (a camera's), else its receiveTime (a remote track's), else
   * when the frame was presented. Where requestVideoFrameCallback is missing, the picture is read at
   * every animation frame.
   */
  readBack(onframe, onerror) {
    const el = document.createElement('video');
    el.muted = true;
    el.playsInline = true;
    el.srcObject = new MediaStream([this.track]);
    const canvas = document.createElement('canvas');
    const g = canvas.getContext('2d', { willReadFrequently: true });
    let on = true;
    this.#stopReadBack = () => {
      on = false;
      el.pause();
      el.srcObject = null;
    };
    const next = () => {
      if (!on) return;
      if (typeof el.requestVideoFrameCallback === 'function') el.requestVideoFrameCallback(take);
      else requestAnimationFrame((now) => take(now, null));
    };
    const take = (now, m) => {
      if (!on) return;
      try {
        const w = el.videoWidth;
        const h = el.videoHeight;
        if (w && h) {
          if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
          g.drawImage(el, 0, 0, w, h);
          const img = g.getImageData(0, 0, w, h);
          const ms = m?.captureTime ?? m?.receiveTime ?? m?.presentationTime ?? now;
          onframe(new Uint8Array(img.data.buffer), w, h, ms * 1000);
        }
      } catch (err) {
        on = false;
        onerror(err);
        return;
      }
      next();
    };
    el.play().catch(() => {});
    next();
  }

  /** Stops reading (frames still in the processor are dropped: the recording has stopped). */
  stop() {
    this.#stopReadBack?.();
    this.#stopReadBack = null;
    const reader = this.#reader;
    this.#reader = null;
    if (reader) reader.cancel().catch(() => {});
    clearInterval(this.#poll);
    if (this.#onEnded) this.track.removeEventListener('ended', this.#onEnded);
    this.#onEnded = null;
  }

  /** The tracks this recorder owns (recordScreen / recordCamera) are stopped at the end. */
  release() {
    if (!this.#own) return;
    this.track.stop();
    for (const t of this.audioTracks) t.stop();
  }
}

// ---- asking for streams ----

function mediaDevices(what) {
  if (typeof window === 'object' && window.isSecureContext === false) {
    throw new Error(`${what}: the page is not a secure context (https or localhost), so the browser offers no camera, microphone or screen`);
  }
  const md = typeof navigator === 'object' ? navigator.mediaDevices : null;
  if (!md) throw new Error(`${what}: navigator.mediaDevices is missing here (needs a secure context in a browser)`);
  return md;
}

function refusal(what, device, err) {
  const name = err && err.name;
  const text = err && err.message ? err.message : String(err);
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return new Error(`${what}: permission to use the ${device} was denied (${name}: ${text}); the user (or a permissions policy) has to allow it`, { cause: err });
  }
  if (name === 'NotFoundError' || name === 'OverconstrainedError') {
    return new Error(`${what}: no ${device} was found that fits (${name}: ${text})`, { cause: err });
  }
  if (name === 'NotReadableError' || name === 'AbortError') {
    return new Error(`${what}: the ${device} could not be started; another application may be using it (${name}: ${text})`, { cause: err });
  }
  if (name === 'InvalidStateError') {
    return new Error(`${what}: the browser asks for the ${device} only after a user gesture (a click) (${name}: ${text})`, { cause: err });
  }
  return new Error(`${what}: the ${device} is not available (${name}: ${text})`, { cause: err });
}

const MIC = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

/** getUserMedia for a camera (and a microphone when audio is not false). */
export async function openCamera({ video = true, audio = true, what = 'recordCamera' } = {}) {
  const md = mediaDevices(what);
  if (typeof md.getUserMedia !== 'function') throw new Error(`${what}: getUserMedia is missing here`);
  const constraints = {
    video: video === true ? { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } } : video,
    audio: audio === true ? MIC : audio,
  };
  try {
    return await md.getUserMedia(constraints);
  } catch (err) {
    throw refusal(what, audio ? 'camera and microphone' : 'camera', err);
  }
}

/** getDisplayMedia for a screen, window or tab (with its audio when the browser offers it). */
export async function openScreen({ video = true, audio = true, what = 'recordScreen' } = {}) {
  const md = mediaDevices(what);
  if (typeof md.getDisplayMedia !== 'function') throw new Error(`${what}: getDisplayMedia (screen capture) is missing here`);
  const constraints = {
    video: video === true ? { frameRate: { ideal: 30 } } : video,
    audio: audio === true ? { echoCancellation: false, noiseSuppression: false, autoGainControl: false } : audio,
  };
  try {
    return await md.getDisplayMedia(constraints);
  } catch (err) {
    throw refusal(what, 'screen', err);
  }
}

/** getUserMedia for the microphone alone (options.audio: true). */
export async function openMicrophone(constraints, what = W) {
  const md = mediaDevices(what);
  if (typeof md.getUserMedia !== 'function') throw new Error(`${what}: options.audio needs navigator.mediaDevices.getUserMedia (a secure context)`);
  try {
    return await md.getUserMedia({ audio: { ...MIC, ...(constraints === true ? {} : constraints) } });
  } catch (err) {
    throw refusal(what, 'microphone', err);
  }
}
