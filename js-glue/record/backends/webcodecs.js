// webcodecs backend: the browser's VideoEncoder (WebCodecs) encodes VP8/VP9, the video module's libwebm
// muxes the chunks into WebM (WebmMuxer, js-glue/video/webm-muxer.js: the same muxer, layout and
// per-frame metadata as the wasm backend).
//
// Frames come in as VideoFrames made from the canvas (no readback at all), or as RGBA pixels (XR
// readbacks, addFrame); bottom-up readbacks are flipped in wasm (flipVertical) first. latencyMode
// 'quality' makes the encoder keep every frame: each encode() gives exactly one chunk, in order.
import { webCodecsCodecString } from '../codecs.js';
import { WebmMuxer } from '../../video/webm-muxer.js';

const utf8 = new TextEncoder();

function config({ codec, width, height, fps, bitrate }) {
  return {
    codec: webCodecsCodecString(codec, width, height, fps),
    width, height, bitrate, framerate: fps,
    latencyMode: 'quality', bitrateMode: 'variable', alpha: 'discard',
  };
}

let flipModule = null;
function loadFlip() {
  if (!flipModule) {
    flipModule = Promise.all([import('../../core.js'), import('../../pixels/flip.js')])
      .then(async ([core, f]) => { await core.init(); return f.flipVertical; });
  }
  return flipModule;
}

export class WebCodecsBackend {
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
   * @param {{codec, width, height, fps, bitrate, keyframeInterval?, timing: 'fps'|'realtime'}} o
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
  }

  async _open() {
    const cfg = config(this.o);
    const support = await VideoEncoder.isConfigSupported(cfg).catch((e) => ({ supported: false, error: e }));
    if (!support.supported) throw new Error(`recorder: VideoEncoder cannot encode ${cfg.codec} at ${cfg.width}x${cfg.height} here`);
    this.muxer = await WebmMuxer.create({ codec: this.o.codec, width: this.o.width, height: this.o.height, fps: this.o.fps,
      ondata: (bytes, offset) => this.output.write(bytes, offset) });
    this.encoder = new VideoEncoder({
      output: (chunk) => this._output(chunk),
      error: (e) => this._fatal(new Error(`recorder: VideoEncoder failed: ${e && e.message ? e.message : e}`)),
    });
    this.encoder.configure(cfg);
    this.info = { codec: this.o.codec, width: this.o.width, height: this.o.height, fps: this.o.fps, keyframeInterval: this.keyframeInterval };
  }

  _output(chunk) {
    const w = this.waiting.shift();
    if (!w) {
      this._fatal(new Error('recorder: VideoEncoder produced more chunks than frames'));
      return;
    }
    try {
      const data = new Uint8Array(chunk.byteLength);
      chunk.copyTo(data);
      this.muxer.addFrame(data, { keyframe: chunk.type === 'key', timestampUs: w.timestampUs, metadata: w.metadata });
      w.resolve();
    } catch (err) {
      w.reject(err);
      this._fatal(err);
    }
  }

  _fatal(err) {
    if (this.failed) return;
    this.failed = err;
    for (const w of this.waiting.splice(0)) w.reject(err);
    try { if (this.encoder && this.encoder.state !== 'closed') this.encoder.close(); } catch { /* closed */ }
    this.muxer?.abort();
    this.onfatal(err);
  }

  _timestamp(frame) {
    let us;
    if (this.o.timing === 'realtime' && frame.timestampUs !== undefined) {
      if (this.firstUs === null) this.firstUs = frame.timestampUs;
      us = Math.round(frame.timestampUs - this.firstUs);
      if (us <= this.lastUs) us = this.lastUs + 1; // VideoEncoder needs increasing timestamps
    } else {
      us = Math.round((this.count * 1e6) / this.o.fps);
    }
    this.lastUs = us;
    return us;
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

  async finish() {
    if (this.failed) throw this.failed;
    await this._posting;
    await this.encoder.flush();
    if (this.failed) throw this.failed;
    this.encoder.close();
    const duration = this.o.timing === 'realtime' ? 0 : this.count / this.o.fps;
    const r = await this.muxer.finish({ duration });
    return { codec: this.o.codec, mimeType: `video/webm;codecs=${this.o.codec}`, width: this.o.width, height: this.o.height, ...r };
  }

  abort() {
    try { if (this.encoder && this.encoder.state !== 'closed') this.encoder.close(); } catch { /* closed */ }
    this.muxer?.abort();
    const err = new Error('recorder: the recording was aborted');
    for (const w of this.waiting.splice(0)) w.reject(err);
    this.failed = this.failed || err;
  }
}
