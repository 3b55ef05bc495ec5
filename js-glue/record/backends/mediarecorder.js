// mediarecorder backend: MediaRecorder records a MediaStream: a canvas's captureStream() track (as seed
// 000's VideoRecorder does it), or a camera / screen / WebRTC track, plus at most one audio track (the
// audio input, sources/audio.js, mixes several into one), with capturekit's codec preference order
// (codecs.js), a timeslice and a keyframe interval (videoKeyFrameIntervalDuration). pause() / resume()
// are MediaRecorder's own: the paused time leaves no gap in its timestamps.
//
// MediaRecorder writes a live WebM: no Duration, no Cues, unknown sizes, so players cannot seek it.
// With repair (default) the chunks are held as Blobs while recording (the browser keeps large Blobs out
// of the JS heap, on disk) and at stop the file is made seekable (makeSeekable, two streaming passes in
// wasm) and only then handed to ondata / kept in memory. With repair: false, ondata receives the live
// chunks as MediaRecorder produces them (appends), and the file stays as MediaRecorder wrote it.
//
// container 'mp4': MediaRecorder's MP4 (Chromium writes it fragmented: a moov without samples, then
// moof + mdat pairs) is turned by makeSeekable into a progressive MP4 (moov first, complete sample
// tables); the counts and the duration then come from makeSeekable's info, and the result's mimeType
// carries the file's own codecs= strings (avc1.PPCCLL, vp09..., opus).
//
// A canvas in frames 'manual' uses captureStream(0): a frame is taken only when the app calls
// captureFrame() (which calls requestFrame() on the track), right after drawing. 'auto' uses
// captureStream(fps).
import { pickMediaRecorderType, codecOfMimeType, mediaRecorderCandidates } from '../codecs.js';
import { WebmScanner } from '../frame-metadata.js';

async function loadRepair() {
  try {
    return await import('../../video/repair.js');
  } catch (err) {
    throw new Error(`recorder: makeSeekable (js-glue/video/repair.js) could not be loaded: ${err.message}; pass { repair: false }`, { cause: err });
  }
}

export class MediaRecorderBackend {
  static async open(o, output, { onfatal } = {}) {
    const b = new MediaRecorderBackend(o, output, onfatal);
    await b._open();
    return b;
  }

  constructor(o, output, onfatal) {
    this.name = 'mediarecorder';
    this.o = o;
    this.output = output;
    this.onfatal = onfatal || (() => {});
    this.chunks = [];
    this.chain = Promise.resolve();
    this.liveBytes = 0;
    this.requested = 0;
    this.failed = null;
    this.scanner = new WebmScanner({ mode: 'counts' });
  }

  async _open() {
    const o = this.o;
    // o.stream: the video track's stream; o.ownVideo: the track is ours (a canvas capture) and stops at
    // the end; o.audioTrack: the one audio track, or null.
    this.stream = o.stream;
    this.track = this.stream.getVideoTracks()[0];
    this.ownVideo = !!o.ownVideo;
    const hasAudio = !!o.audioTrack;
    const container = o.container === 'mp4' ? 'mp4' : 'webm';
    const mimeType = pickMediaRecorderType(o.codec, { audio: hasAudio, container });
    if (!mimeType) {
      this._stopTracks();
      throw new Error(`createRecorder: MediaRecorder here cannot record ${o.codec === 'auto' ? 'any of' : o.codec + ' as'} ${mediaRecorderCandidates(o.codec, { audio: hasAudio, container }).join(', ')}`);
    }
    this.mp4 = /^video\/mp4/.test(mimeType);
    if (o.repair && !this.mp4 && !/^video\/webm/.test(mimeType)) {
      this._stopTracks();
      throw new Error(`createRecorder: MediaRecorder chose ${mimeType}; makeSeekable repairs WebM and MP4 only (pass { repair: false } or another codec)`);
    }
    if (o.repair) this.repair = await loadRepair();
    const recorded = hasAudio ? new MediaStream([this.track, o.audioTrack]) : this.stream;
    const mrOptions = { mimeType, videoBitsPerSecond: o.bitrate };
    if (o.audioBitrate) mrOptions.audioBitsPerSecond = o.audioBitrate;
    if (o.keyframeInterval) mrOptions.videoKeyFrameIntervalDuration = Math.max(1, Math.round((o.keyframeInterval / o.fps) * 1000));
    try {
      this.mr = new MediaRecorder(recorded, mrOptions);
    } catch (err) {
      this._stopTracks();
      throw new Error(`createRecorder: MediaRecorder refused ${mimeType}: ${err.message}`, { cause: err });
    }
    this.mimeType = mimeType;
    this.codec = codecOfMimeType(mimeType) || o.codec;
    this.mr.ondataavailable = (e) => this._chunk(e.data);
    this.mr.onerror = (e) => this._fatal(new Error(`recorder: MediaRecorder failed: ${e.error ? e.error.message : 'error'}`));
    // (No waiting for 'start': with captureStream(0) Chromium fires it only once a frame arrives.)
    try {
      this.startedAt = performance.now(); // the recording's time starts here ('start' fires later)
      this.mr.start(o.timeslice);
    } catch (err) {
      this._stopTracks();
      throw new Error(`createRecorder: MediaRecorder did not start: ${err.message}`, { cause: err });
    }
  }

  /** Pauses / resumes MediaRecorder (its timestamps skip the paused time). */
  pause() {
    if (this.mr.state === 'recording') this.mr.pause();
  }

  resume() {
    if (this.mr.state === 'paused') this.mr.resume();
  }

  _chunk(blob) {
    if (!blob || !blob.size || this.failed) return;
    if (this.o.repair) {
      this.chunks.push(blob);
      return;
    }
    // Live mode: deliver in order (arrayBuffer() is async; the chain keeps the order).
    this.chain = this.chain.then(async () => {
      const bytes = new Uint8Array(await blob.arrayBuffer());
      if (this.failed) return;
      if (!this.mp4) this.scanner.push(bytes);
      this.output.write(bytes, this.liveBytes);
      this.liveBytes += bytes.length;
    }).catch((err) => this._fatal(err));
  }

  _fatal(err) {
    if (this.failed) return;
    this.failed = err;
    this._stopTracks();
    this.onfatal(err);
  }

  _stopTracks() {
    if (this.track && this.ownVideo) this.track.stop();
  }

  /** Manual frames: the canvas as it is now becomes the next frame. */
  requestFrame() {
    if (this.failed) throw this.failed;
    if (typeof this.track.requestFrame !== 'function') throw new Error('recorder.captureFrame: this browser has no requestFrame() on canvas capture tracks; use frames "auto"');
    this.track.requestFrame();
    this.requested++;
    this.lastRequest = performance.now();
  }

  async finish() {
    if (this.failed) throw this.failed;
    // A frame requested just now reaches MediaRecorder asynchronously: give it a frame interval (at
    // least 50 ms) before stopping, or stop() can overtake it.
    if (this.lastRequest !== undefined) {
      const wait = Math.max(50, 1000 / this.o.fps) - (performance.now() - this.lastRequest);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await new Promise((resolve) => {
      this.mr.onstop = resolve;
      if (this.mr.state === 'inactive') resolve();
      else this.mr.stop();
    });
    this._stopTracks();
    await this.chain;
    if (this.failed) throw this.failed;
    let repairInfo = null;
    if (this.o.repair) {
      const input = new Blob(this.chunks, { type: this.mimeType });
      this.chunks = [];
      if (!input.size) throw new Error('recorder.stop: MediaRecorder produced no data (no frames reached it?)');
      repairInfo = await this._repair(input);
    }
    if (this.mp4) return this._mp4Result(repairInfo);
    const s = this.scanner.finish();
    const result = {
      codec: this.codec, mimeType: this.mimeType, width: s.tracks.find((t) => t.type === 1)?.width || this.o.width,
      height: s.tracks.find((t) => t.type === 1)?.height || this.o.height,
      frames: s.videoFrames, keyframes: s.keyframes, duration: s.duration ?? repairInfo?.duration ?? s.estimatedDuration,
    };
    if (this.o.frames === 'manual') result.requestedFrames = this.requested;
    const audio = s.tracks.find((t) => t.type === 2);
    if (audio) result.audio = { codec: /opus/i.test(audio.codecId) ? 'opus' : audio.codecId, packets: s.blocksPerTrack?.[audio.number] ?? null };
    if (repairInfo) result.repair = repairInfo;
    return result;
  }

  // MP4: what makeSeekable counted (frames = samples of every track, so with sound the video's own count
  // is not known here: null; keyframes = the video's sync samples). Without repair: only what was asked.
  _mp4Result(info) {
    const audio = !!this.o.audioTrack;
    const result = {
      codec: this.codec, mimeType: this.mimeType, width: this.o.width, height: this.o.height,
      frames: info && !audio ? info.frames : null, keyframes: info ? info.cues : null, duration: info ? info.duration : null,
    };
    if (info) {
      // video first, as the other backends write it (Chromium's MediaRecorder puts its audio track first)
      const isAudio = (c) => /^(opus|mp4a)/.test(c);
      result.mimeType = `video/mp4; codecs="${[...info.codecs.filter((c) => !isAudio(c)), ...info.codecs.filter(isAudio)].join(', ')}"`;
      result.repair = info;
    }
    if (this.o.frames === 'manual') result.requestedFrames = this.requested;
    if (audio) result.audio = { codec: info ? (info.codecs.find((c) => /^(opus|mp4a)/.test(c)) || null) : 'opus', packets: null };
    return result;
  }

  async _repair(input) {
    let offset = 0;
    const info = await this.repair.makeSeekable(input, {
      ondata: (bytes) => {
        if (!this.mp4) this.scanner.push(bytes);
        this.output.write(bytes, offset);
        offset += bytes.length;
      },
    });
    return info;
  }

  abort() {
    try { if (this.mr && this.mr.state !== 'inactive') this.mr.stop(); } catch { /* stopped */ }
    this._stopTracks();
    this.chunks = [];
    this.failed = this.failed || new Error('recorder: the recording was aborted');
  }
}
