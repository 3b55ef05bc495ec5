// H264VideoWriter: what VideoWriter.create({ codec: 'h264', container: 'mp4' }) returns. RGBA frames are
// encoded to H.264 by OpenH264 in the separate capturekit-h264 module (js-glue/h264.js, 'avc' format),
// muxed into MP4 by Mp4Muxer in the video module (its avcC as the description), and PCM, when asked, is
// encoded to Opus by the audio module: three modules, each loaded only when used, so a VP8/VP9 writer
// never downloads OpenH264 and an H.264 one never downloads libvpx's encoder twice.
//
// Behaves as VideoWriter does for VP9 in MP4: frame-exact timing (a frame without a timestamp is shown
// n / fps after the last one that had one, computed from the count; given timestamps from any clock,
// the first is zero), a key frame every keyframeInterval frames and also once keyframeInterval / fps
// seconds have passed (irregular timestamps), audio on the frames' clock, fragmented MP4 through
// ondata or progressive in memory. What differs: H.264 4:2:0 needs even sizes (odd ones are a
// RangeError), there is no libvpx `speed`, and MP4 carries no per-frame metadata (a TypeError).
import { OpusEncoder, describePcm } from '../audio/opus-encoder.js';
import { H264Encoder } from '../h264.js';
import { checkImage, checkNumber } from '../validate.js';
import { Mp4Muxer } from './mp4-muxer.js';

const MAX_SAFE_US = 2 ** 53;
const AUDIO_CALL_KEYS = new Set(['timestampUs']);

export class H264VideoWriter {
  /**
   * @param {object} o VideoWriter's normalised options (codec 'h264', container 'mp4')
   * @param {object} options what the caller gave: ondata, module (video module), h264Module, audio.module
   */
  static async create(o, options) {
    const [encoder, opus] = await Promise.all([
      H264Encoder.create({ width: o.width, height: o.height, fps: o.fps, bitrate: o.bitrate,
        keyframeInterval: o.keyframeInterval || Math.max(1, Math.round(2 * o.fps)), format: 'avc',
        ...(options.h264Module ? { module: options.h264Module } : {}) }),
      o.audio ? OpusEncoder.create({ ...o.audio, module: options.audio.module }) : null,
    ]);
    try {
      const muxer = await Mp4Muxer.create({ codec: encoder.codec, width: o.width, height: o.height, fps: o.fps,
        description: encoder.avcC, layout: o.layout, ondata: options.ondata, module: options.module,
        audio: opus ? { codec: 'opus', sampleRate: opus.sampleRate, channels: opus.channels, preSkip: opus.preSkip } : undefined });
      return new H264VideoWriter(o, encoder, muxer, opus);
    } catch (e) {
      encoder.close();
      opus?.close();
      throw e;
    }
  }

  /** @private use VideoWriter.create({ codec: 'h264', container: 'mp4', ... }) */
  constructor(o, encoder, muxer, opus) {
    this._o = o;
    this._encoder = encoder;
    this._muxer = muxer;
    this._opus = opus;
    this._flipped = null;
    this._state = 'open';
    // Timing, as wasm/video/video_writer.h: microseconds of file time.
    this._originUs = null;   // the first given timestamp (a frame's or the audio's) defines zero
    this._lastUs = -1;
    this._baseUs = 0;
    this._baseFrame = 0;
    this._lastKeyUs = 0;
    this._lastAuto = false;
    this._keyframes = 0;
    /** @type {'h264'} */ this.codec = 'h264';
    /** @type {'mp4'} */ this.container = 'mp4';
    this.width = o.width;
    this.height = o.height;
    this.fps = o.fps;
    this.keyframeInterval = encoder.keyframeInterval;
    this.speed = 0;
    this.frames = 0;
  }

  /** Bytes of the file so far. */
  get bytes() { return this._muxer.bytes; }
  /** Bytes handed to ondata whose promise has not settled yet. */
  get pendingBytes() { return this._muxer.pendingBytes; }

  _usable(what) {
    if (this._muxer._error) throw this._muxer._error;  // the output failed (ondata): the recording stopped
    if (this._state !== 'open') throw new Error(`VideoWriter.${what}: the writer is ${this._state}`);
  }

  _fileUs(us, context) {
    checkNumber(us, `${context}: timestampUs`, { min: -MAX_SAFE_US, max: MAX_SAFE_US });
    const origin = this._originUs === null ? Math.round(us) : this._originUs;
    const rel = Math.round(us) - origin;
    if (rel < 0) throw new RangeError(`${context}: ${us} µs is before the start of the file (the first timestamp, ${origin} µs)`);
    return { origin, rel };
  }

  /**
   * Encodes one RGBA frame (see VideoWriter.addFrame).
   * @param {{data: Uint8Array|Uint8ClampedArray|ArrayBuffer, width: number, height: number, stride?: number}} image
   * @param {{timestampUs?: number, metadata?: any}} [options]
   */
  addFrame(image, options = {}) {
    this._usable('addFrame');
    if (options === null || typeof options !== 'object') throw new TypeError('VideoWriter.addFrame: options must be an object { timestampUs?, metadata? }');
    if (options.metadata !== undefined && options.metadata !== null) {
      throw new TypeError("VideoWriter.addFrame: MP4 files carry no per-frame metadata; use container 'webm' (VP8/VP9) for metadata");
    }
    let img = checkImage(image, 'VideoWriter.addFrame: image');
    if (img.width !== this.width || img.height !== this.height) {
      throw new RangeError(`VideoWriter.addFrame: frame is ${img.width}x${img.height} but the video is ${this.width}x${this.height}`);
    }
    let us;
    let origin = this._originUs;
    let auto = false;
    if (options.timestampUs !== undefined) {
      ({ origin, rel: us } = this._fileUs(options.timestampUs, 'VideoWriter.addFrame'));
    } else {
      auto = true;
      us = Math.round(this._baseUs + (this.frames - this._baseFrame) * 1e6 / this.fps);
      if (origin === null) origin = 0;
    }
    if (us <= this._lastUs) {
      throw new RangeError(`VideoWriter.addFrame: frame timestamps must increase (${us} µs of file time after ${this._lastUs} µs)`);
    }
    if (this._o.flipY) img = this._flip(img);
    const late = this.frames > 0 && us - this._lastKeyUs >= this.keyframeInterval * 1e6 / this.fps;
    let unit;
    try {
      unit = this._encoder.encode(img, { keyframe: late });
      this._muxer.addFrame(unit.data, { keyframe: unit.keyframe, timestampUs: us });
    } catch (e) {
      this._fail(e);
      throw e;
    }
    this._originUs = origin;
    if (!auto) {
      this._baseUs = us;
      this._baseFrame = this.frames;
    }
    this._lastAuto = auto;
    this._lastUs = us;
    if (unit.keyframe) {
      this._lastKeyUs = us;
      this._keyframes++;
    }
    this.frames++;
  }

  // Bottom-up rows (WebGL readPixels) turned upright, into a buffer kept for the next frame.
  _flip(img) {
    const row = img.width * 4;
    if (!this._flipped) this._flipped = new Uint8Array(row * img.height);
    for (let y = 0; y < img.height; y++) {
      const from = (img.height - 1 - y) * img.stride;
      this._flipped.set(img.data.subarray(from, from + row), y * row);
    }
    return { data: this._flipped, width: img.width, height: img.height, stride: row };
  }

  /**
   * Encodes PCM into the file's Opus track (see VideoWriter.addAudio).
   * @param {Float32Array|Int16Array|Float32Array[]} pcm
   * @param {{timestampUs?: number}} [options]
   */
  addAudio(pcm, options = {}) {
    this._usable('addAudio');
    if (!this._opus) throw new Error('VideoWriter.addAudio: this writer has no audio track (create it with the `audio` option)');
    if (options === null || typeof options !== 'object') throw new TypeError('VideoWriter.addAudio: options must be an object { timestampUs? }');
    for (const k of Object.keys(options)) {
      if (!AUDIO_CALL_KEYS.has(k)) throw new TypeError(`VideoWriter.addAudio: unknown option "${k}" (known: ${[...AUDIO_CALL_KEYS].join(', ')})`);
    }
    describePcm(pcm, this._opus.channels, 'VideoWriter.addAudio');
    const encodeOptions = {};
    if (options.timestampUs !== undefined) {
      const { origin, rel } = this._fileUs(options.timestampUs, 'VideoWriter.addAudio');
      this._originUs = origin;
      encodeOptions.atSample = Math.round(rel * this._opus.sampleRate / 1e6);
    } else if (this._originUs === null) {
      this._originUs = 0;
    }
    let packets;
    try {
      packets = this._opus.encode(pcm, encodeOptions);
    } catch (e) {
      throw new e.constructor(e.message.replace(/^OpusEncoder\.encode/, 'VideoWriter.addAudio'));
    }
    this._writePackets(packets);
  }

  _writePackets(packets) {
    const rate = this._opus.sampleRate;
    for (const p of packets) {
      try {
        this._muxer.addAudio(p.data, { timestampUs: p.pts * 1e6 / rate, discardPaddingUs: p.padding * 1e6 / rate });
      } catch (e) {
        this._fail(e);
        throw e;
      }
    }
  }

  // A failure of the muxer's output ends the writer; a refused frame or packet does not.
  _fail() {
    if (!this._muxer._native) this._end('failed');
  }

  /**
   * Finishes the file. Resolves with VideoWriter's result (codec 'h264', container 'mp4', mimeType with
   * the avc1 codec string, layout, frames, keyframes, duration, bytes, data/blob without ondata).
   */
  async finish() {
    this._usable('finish');
    if (this.frames === 0) throw new Error('VideoWriter.finish: no frames were added, so there is no video');
    this._state = 'finishing';
    let result;
    try {
      if (this._opus) this._writePackets(this._opus.flush());
      // Frame-exact: N frames without timestamps last exactly their count / fps; after a given
      // timestamp the muxer takes the average spacing for the last frame.
      const duration = this._lastAuto ? (this._lastUs + 1e6 / this.fps) / 1e6 : undefined;
      result = await this._muxer.finish(duration ? { duration } : {});
    } catch (e) {
      this._end('failed');
      throw e;
    }
    this._end('finished');
    result.codec = 'h264';
    result.container = 'mp4';
    result.keyframes = this._keyframes;
    return result;
  }

  /** Stops without finishing and frees every module's memory. */
  abort() {
    if (this._state === 'finished') return;
    this._muxer.abort();
    this._end('aborted');
  }

  _end(state) {
    this._state = state;
    this._encoder?.close();
    this._encoder = null;
    this._opus?.close();
    this._opus = null;
    if (state !== 'finished' && this._muxer._native) this._muxer.abort();
  }
}
