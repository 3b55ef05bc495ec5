// webcodecs backend: the browser's VideoEncoder (WebCodecs) encodes VP8/VP9, its AudioEncoder encodes
// Opus (audio-encoder.js), and the video module's libwebm muxes both into WebM (WebmMuxer,
// js-glue/video/webm-muxer.js: the same muxer, layout and per-frame metadata as the wasm backend).
//
// Frames come in as VideoFrames (a canvas copied on the GPU, or a camera / screen / WebRTC track's own
// frames) or as RGBA pixels (XR readbacks, addFrame); bottom-up readbacks are flipped in wasm
// (flipVertical) first. latencyMode 'quality' makes the encoder keep every frame: each encode() gives
// exactly one chunk, in order.
//
// With sound, packets go to the muxer as the encoders hand them over; the muxer writes the two tracks in
// time order itself (WebmMuxer: a bounded wait for the other track; a still screen sends no frames).
// Only the first video frame goes in before any sound, as it is the file's zero. Timestamps: the
// recorder's time line (pauses taken out), zero at the first video frame; audio from before that frame
// is cut off, and a gap in the sound (a late start, chunks the track dropped, the ends of a pause) is
// filled with silence, so the decoded sound is exactly as long as the time line and each sample plays
// at its capture time.
import { webCodecsCodecString } from '../codecs.js';
import { OpusEncoder, OPUS_SAMPLE_RATE } from '../audio-encoder.js';
import { WebmMuxer } from '../../video/webm-muxer.js';
import { Mp4Muxer } from '../../video/mp4-muxer.js';

const utf8 = new TextEncoder();
const EARLY_AUDIO_CHUNKS = 200; // audio held until the first video frame fixes the start (about 2 s)

function config({ codec, width, height, fps, bitrate }) {
  return {
    codec: webCodecsCodecString(codec, width, height, fps),
    width, height, bitrate, framerate: fps,
    latencyMode: 'quality', bitrateMode: 'variable', alpha: 'discard',
    ...(codec === 'h264' ? { avc: { format: 'avc' } } : {}), // MP4: length-prefixed NAL units, the avcC apart
  };
}

// container 'mp4': the same muxer options for Mp4Muxer (js-glue/video/mp4-muxer.js): the codec string the
// encoder was given, its avcC / av1C (the first chunk's decoderConfig.description), fragmented (a
// fragment per key frame goes out through ondata), Opus with AudioEncoder's OpusHead.
function mp4Options(m, b) {
  const o = { codec: webCodecsCodecString(b.o.codec, m.width, m.height, m.fps), width: m.width, height: m.height, fps: m.fps,
    layout: 'fragmented', ondata: m.ondata };
  if (b.videoDescription) o.description = b.videoDescription;
  if (m.audio) o.audio = { codec: 'opus', sampleRate: m.audio.sampleRate, channels: m.audio.channels, ...(m.audio.codecPrivate ? { description: m.audio.codecPrivate } : {}) };
  return o;
}

let flipModule = null;
function loadFlip() {
  if (!flipModule) {
    flipModule = Promise.all([import('../../image.js'), import('../../pixels/flip.js')])
      .then(async ([image, f]) => { await image.initImage(); return f.flipVertical; });
  }
  return flipModule;
}

export class WebCodecsBackend {
  /** Whether the muxer writes an Opus track (WebmMuxer's audio option and addAudio). */
  static get muxesAudio() { return typeof WebmMuxer.prototype.addAudio === 'function'; }

  /** Whether VideoEncoder can encode this codec at this size here. */
  static async isSupported(o) {
    if (typeof VideoEncoder !== 'function') return false;
    try {
      const r = await VideoEncoder.isConfigSupported(config(o));
      return !!r.supported;
    } catch {
      return false;
    }
  }

  /**
   * @param {{codec, width, height, fps, bitrate, keyframeInterval?, timing: 'fps'|'realtime',
   *   audio?: {channels: 1|2, sampleRate: number, bitrate?: number}}} o
   * @param {{write(bytes: Uint8Array, offset: number): void}} output
   */
  static async open(o, output, { onfatal } = {}) {
    const b = new WebCodecsBackend(o, output, onfatal);
    await b._open();
    return b;
  }

  constructor(o, output, onfatal) {
    this.name = 'webcodecs';
    this.o = o;
    this.output = output;
    this.onfatal = onfatal || (() => {});
    this.keyframeInterval = o.keyframeInterval || Math.max(1, Math.round(2 * o.fps));
    this.count = 0;
    this.firstUs = null;
    this.lastUs = -1;
    this.waiting = [];   // per encoded frame, in order: { resolve, reject, metadata }
    this.failed = null;
    this.flip = null;
    this.muxer = null;
    // sound
    this.audio = null;         // OpusEncoder
    this.audioConfig = undefined; // the OpusHead (or null) once the first packet is out
    this.early = [];           // AudioData waiting for the first video frame: { ad, us }
    this.lastAudioEndUs = 0;
    this.vq = [];              // encoded video waiting for the muxer
    this.aq = [];              // encoded audio waiting for the muxer and the first video frame
    this.videoWritten = false;
    this.videoDone = false;
    this.audioDone = false;
    this.audioPackets = 0;
    this.silentSamples = 0;    // silence put into gaps the track left
  }

  async _open() {
    const cfg = config(this.o);
    const support = await VideoEncoder.isConfigSupported(cfg).catch((e) => ({ supported: false, error: e }));
    if (!support.supported) throw new Error(`recorder: VideoEncoder cannot encode ${cfg.codec} at ${cfg.width}x${cfg.height} here`);
    if (this.o.audio) {
      const a = this.o.audio;
      if (!(await OpusEncoder.isSupported({ channels: a.channels, bitrate: a.bitrate, sampleRate: a.sampleRate }))) {
        throw new Error(`recorder: AudioEncoder cannot encode Opus from ${a.sampleRate} Hz here; record with backend "mediarecorder" or without audio`);
      }
      this.audio = new OpusEncoder({
        channels: a.channels, bitrate: a.bitrate, sampleRate: a.sampleRate,
        onconfig: (d) => { this.audioConfig = d; },
        onpacket: (bytes, us) => { this.aq.push({ bytes, us }); this._pump(); },
        onerror: (e) => this._fatal(e),
      });
    } else if (this.o.container !== 'mp4') { // MP4 waits for the first chunk's description
      await this._createMuxer();
    }
    this.encoder = new VideoEncoder({
      output: (chunk, meta) => this._output(chunk, meta),
      error: (e) => this._fatal(new Error(`recorder: VideoEncoder failed: ${e && e.message ? e.message : e}`)),
    });
    this.encoder.configure(cfg);
    this.info = { codec: this.o.codec, width: this.o.width, height: this.o.height, fps: this.o.fps, keyframeInterval: this.keyframeInterval };
  }

  _createMuxer() {
    if (!this.creating) {
      const m = { codec: this.o.codec, width: this.o.width, height: this.o.height, fps: this.o.fps,
        ondata: (bytes, offset) => this.output.write(bytes, offset) };
      if (this.audio) {
        // Opus decodes at 48 kHz whatever went in; the OpusHead (CodecPrivate) records the input rate.
        m.audio = { codec: 'opus', sampleRate: OPUS_SAMPLE_RATE, channels: this.audio.channels };
        if (this.audioConfig) m.audio.codecPrivate = this.audioConfig;
      }
      this.creating = (this.o.container === 'mp4' ? Mp4Muxer.create(mp4Options(m, this)) : WebmMuxer.create(m)).then((muxer) => {
        if (this.failed) { muxer.abort(); throw this.failed; }
        this.muxer = muxer;
      });
      this.creating.catch((e) => this._fatal(e));
    }
    return this.creating;
  }

  _output(chunk, meta) {
    if (this.videoDescription === undefined) { // MP4's avcC / av1C (null: none given)
      const d = meta?.decoderConfig?.description;
      this.videoDescription = d ? new Uint8Array(ArrayBuffer.isView(d) ? d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength) : d.slice(0)) : null;
    }
    const w = this.waiting.shift();
    if (!w) {
      this._fatal(new Error('recorder: VideoEncoder produced more chunks than frames'));
      return;
    }
    try {
      const data = new Uint8Array(chunk.byteLength);
      chunk.copyTo(data);
      this.vq.push({ bytes: data, keyframe: chunk.type === 'key', us: w.timestampUs, metadata: w.metadata });
      this._pump();
      w.resolve();
    } catch (err) {
      w.reject(err);
      this._fatal(err);
    }
  }

  // Hands what is encoded to the muxer (see the top of the file).
  _pump() {
    if (this.failed) return;
    if (!this.muxer) {
      // With sound, the muxer starts once the encoder said what its Opus looks like (the OpusHead).
      if (this.audio && this.audioConfig === undefined && !this.audioDone) return;
      if (this.o.container === 'mp4' && this.videoDescription === undefined && !this.videoDone) return;
      this._createMuxer().then(() => this._pump(), () => {});
      return;
    }
    try {
      while (this.vq.length) {
        const v = this.vq.shift();
        this.muxer.addFrame(v.bytes, this.o.container === 'mp4' ? { keyframe: v.keyframe, timestampUs: v.us }
          : { keyframe: v.keyframe, timestampUs: v.us, metadata: v.metadata });
        this.videoWritten = true;
      }
      if (!this.videoWritten && !this.videoDone) return;
      while (this.aq.length) {
        const a = this.aq.shift();
        if (this.lastAudioWrittenUs === undefined || a.us > this.lastAudioWrittenUs) { // strictly later, as the muxer wants
          this.muxer.addAudio(a.bytes, { timestampUs: a.us });
          this.lastAudioWrittenUs = a.us;
          this.audioPackets++;
        }
      }
    } catch (err) {
      this._fatal(err);
    }
  }

  _fatal(err) {
    if (this.failed) return;
    this.failed = err;
    for (const w of this.waiting.splice(0)) w.reject(err);
    try { if (this.encoder && this.encoder.state !== 'closed') this.encoder.close(); } catch { /* closed */ }
    this.audio?.close();
    for (const e of this.early.splice(0)) e.ad.close();
    this.muxer?.abort();
    this.onfatal(err);
  }

  _timestamp(frame) {
    let us;
    if (this.o.timing === 'realtime' && frame.timestampUs !== undefined) {
      if (this.firstUs === null) {
        this.firstUs = frame.timestampUs;
        this._releaseEarlyAudio();
      }
      // Whole milliseconds (the file's unit), increasing: frames closer than that move to the next one.
      us = Math.round((frame.timestampUs - this.firstUs) / 1000) * 1000;
      if (this.lastUs >= 0 && us < this.lastUs + 1000) us = this.lastUs + 1000;
    } else {
      us = Math.round((this.count * 1e6) / this.o.fps);
    }
    this.lastUs = us;
    return us;
  }

  /**
   * Sound: one AudioData at recording time `us` (µs, the recorder's time line). The caller gives `ad`
   * up (it is closed here). Audio from before the first video frame is cut off.
   */
  encodeAudio(ad, us) {
    if (this.failed || !this.audio || this.audioDone) { ad.close(); return; }
    if (this.firstUs === null) {
      this.early.push({ ad, us });
      if (this.early.length > EARLY_AUDIO_CHUNKS) this.early.shift().ad.close();
      return;
    }
    this._encodeAudio(ad, us);
  }

  _releaseEarlyAudio() {
    for (const e of this.early.splice(0)) this._encodeAudio(e.ad, e.us);
  }

  _encodeAudio(ad, us) {
    try {
      let t = us - this.firstUs;
      let skip = 0;
      const dur = (ad.numberOfFrames / ad.sampleRate) * 1e6;
      if (t + dur <= 0) return;
      if (t < 0) {
        skip = Math.min(ad.numberOfFrames, Math.round((-t * ad.sampleRate) / 1e6));
        t = 0;
      }
      // Never overlap the chunk before (a capture time can step back by a little).
      if (t < this.lastAudioEndUs) {
        const over = Math.round(((this.lastAudioEndUs - t) * ad.sampleRate) / 1e6);
        skip = Math.max(skip, over);
        t = this.lastAudioEndUs;
      }
      if (skip >= ad.numberOfFrames) return;
      // Silence where the track left a gap, so that sample counts and the time line agree.
      const gap = Math.round(((t - this.lastAudioEndUs) * ad.sampleRate) / 1e6);
      if (gap > 0) {
        this.audio.encodeSilence(this.lastAudioEndUs, gap);
        this.silentSamples += gap;
      }
      t = this.lastAudioEndUs + (Math.max(gap, 0) / ad.sampleRate) * 1e6;
      this.audio.encode(ad, t, skip);
      this.lastAudioEndUs = t + ((ad.numberOfFrames - skip) / ad.sampleRate) * 1e6;
    } catch (err) {
      this._fatal(err);
    } finally {
      ad.close();
    }
  }

  /**
   * frame: { videoFrame } or { data, width, height, bottomUp }, plus timestampUs?, metadata? (JSON string).
   * Resolves when the frame is in the file. Frames reach the encoder in call order.
   */
  encode(frame) {
    const posted = (this._posting || Promise.resolve()).then(() => this._encodeNow(frame));
    this._posting = posted.then(() => {}, () => {});
    return posted.then((p) => p.done);
  }

  async _encodeNow(frame) {
    if (this.failed) {
      frame.videoFrame?.close();
      throw this.failed;
    }
    const timestampUs = this._timestamp(frame);
    let vf = frame.videoFrame || null;
    if (vf) {
      if (vf.timestamp !== timestampUs) {
        const again = new VideoFrame(vf, { timestamp: timestampUs });
        vf.close();
        vf = again;
      }
    } else {
      let data = frame.data;
      if (frame.bottomUp) {
        if (!this.flip) this.flip = await loadFlip();
        data = this.flip({ data, width: frame.width, height: frame.height }).data;
      }
      vf = new VideoFrame(data, { format: 'RGBA', codedWidth: frame.width, codedHeight: frame.height, timestamp: timestampUs });
    }
    const keyFrame = this.count % this.keyframeInterval === 0;
    this.count++;
    const metadata = frame.metadata ? utf8.encode(frame.metadata) : null;
    const done = new Promise((resolve, reject) => this.waiting.push({ resolve, reject, metadata, timestampUs }));
    try {
      this.encoder.encode(vf, { keyFrame });
    } catch (err) {
      this.waiting.pop();
      throw err;
    } finally {
      vf.close();
    }
    return { done };
  }

  /** The sound stopped for good (its track ended): video no longer waits for it. */
  endAudio() {
    if (!this.audio || this.audioDone) return;
    this.audio.flush().catch((e) => this._fatal(e)).then(() => {
      this.audioDone = true;
      this._pump();
    });
  }

  /**
   * Finishes the file. endUs: the recording time (µs, the recorder's time line) it ended at, for
   * sources whose last frame may be long before the end (a still screen sends no frames): the file
   * then lasts until endUs.
   */
  async finish({ endUs } = {}) {
    if (this.failed) throw this.failed;
    await this._posting;
    await this.encoder.flush();
    if (this.failed) throw this.failed;
    this.encoder.close();
    for (const e of this.early.splice(0)) e.ad.close();
    if (this.audio && !this.audioDone) {
      await this.audio.flush();
      this.audioDone = true;
    }
    this.videoDone = true;
    if (this.failed) throw this.failed;
    this._pump();
    if (!this.muxer) await this._createMuxer();
    this._pump();
    if (this.failed) throw this.failed;
    if (this.vq.length || this.aq.length) throw new Error('recorder: internal error, packets left after the last write');
    let duration = this.o.timing === 'realtime' ? 0 : this.count / this.o.fps;
    if (endUs !== undefined && this.firstUs !== null) duration = Math.max(endUs - this.firstUs, this.lastUs + 1000) / 1e6;
    const r = await this.muxer.finish({ duration });
    const result = { codec: this.o.codec, mimeType: `video/webm;codecs=${this.o.codec}`, width: this.o.width, height: this.o.height, ...r };
    if (this.audio) {
      if (this.o.container !== 'mp4') result.mimeType = `video/webm;codecs=${this.o.codec},opus`;
      result.audio = { codec: 'opus', sampleRate: OPUS_SAMPLE_RATE, inputSampleRate: this.audio.sampleRate, channels: this.audio.channels, packets: this.audioPackets, duration: this.audio.samples / this.audio.sampleRate };
    }
    if (this.o.container === 'mp4') result.codec = this.o.codec; // the muxer's mimeType says avc1.PPCCLL etc.
    return result;
  }

  abort() {
    try { if (this.encoder && this.encoder.state !== 'closed') this.encoder.close(); } catch { /* closed */ }
    this.audio?.close();
    for (const e of this.early.splice(0)) e.ad.close();
    this.muxer?.abort();
    const err = new Error('recorder: the recording was aborted');
    for (const w of this.waiting.splice(0)) w.reject(err);
    this.failed = this.failed || err;
  }
}
