// WebmOutput: what VideoWriter and WebmMuxer share. Each drives a native handle that writes a WebM
// either into wasm memory (finish() returns the file) or as streamed byte ranges (ondata(bytes,
// offset), in order; a smaller offset overwrites: the header patches at finish()). This class holds the
// handle's life (open, finishing, finished, aborted, failed), the delivery of the streamed ranges
// (OrderedDelivery: in order, a promise from ondata holds the next call back) and the finished file's
// description.
import { OrderedDelivery } from '../ordered-delivery.js';
import { check, takeBytes } from '../wasm-memory.js';

export class WebmOutput {
  /**
   * @param {object} M the video module
   * @param {object} native the Embind handle (VideoWriter or WebmMuxerHandle)
   * @param {Function|null} ondata
   * @param {{label: string, file: string, self: string}} names for messages: the class, what it
   *   writes ("video", "file") and what it is ("writer", "muxer")
   */
  constructor(M, native, ondata, names) {
    this._M = M;
    this._names = names;
    this._label = names.label;
    this._ondata = ondata || null;
    this._native = native;
    this._state = 'open';
    this._error = null;
    this._delivery = this._ondata ? new OrderedDelivery(this._ondata, (e) => this._streamFailed(e)) : null;
  }

  /** Bytes produced so far (the file size at this point). */
  get bytes() {
    return this._native ? this._native.stats().bytes : this._finalBytes || 0;
  }

  /** Streamed bytes waiting for an ondata promise to settle. */
  get pendingBytes() {
    return this._delivery ? this._delivery.pendingBytes : 0;
  }

  _usable(what) {
    if (this._error) throw this._error;
    const { label, file, self } = this._names;
    if (this._state === 'finished') throw new Error(`${label}.${what}: the ${file} is already finished`);
    if (this._state === 'finishing') throw new Error(`${label}.${what}: finish() is in progress`);
    if (this._state === 'aborted') throw new Error(`${label}.${what}: the ${self} was aborted`);
  }

  // A native failure: frame-level problems leave the handle usable; an encoder/output failure stops it.
  _fail(context) {
    try {
      check(this._M, false, context);
    } catch (e) {
      if (this._native.failed()) this._stop(e);
      throw e;
    }
  }

  // Takes the streamed ranges out of wasm memory (copies) and delivers them in order.
  _collect() {
    if (!this._delivery) return;
    for (const r of this._native.drainRanges()) this._delivery.push(r.data.slice(), r.offset);
  }

  _streamFailed(e) {
    this._stop(new Error(`${this._label}: ondata failed, the recording is stopped: ${e && e.message ? e.message : e}`, { cause: e }));
  }

  // A failure that ends the output: nothing more is delivered and the handle is freed.
  _stop(err) {
    this._error = err;
    this._delivery?.stop();
    this._release();
  }

  async _drained() {
    await this._delivery?.settled();
    if (this._error) throw this._error;
  }

  // The finished file's description from the handle's stats, with the bytes when not streamed.
  _finishedResult() {
    const s = this._native.stats();
    const result = {
      codec: s.codec,
      mimeType: `video/webm;codecs=${s.codec}${this._audio ? ',opus' : ''}`,
      width: this.width,
      height: this.height,
      frames: s.frames,
      keyframes: s.keyframes,
      duration: s.duration,
      averageFps: s.duration > 0 ? s.frames / s.duration : 0,
      bytes: s.bytes,
    };
    if (this._audio) {
      // The audio track: packets and its end in the file (seconds); the file's duration covers both.
      result.audio = { codec: 'opus', sampleRate: this._audio.sampleRate, channels: this._audio.channels,
        packets: s.audioPackets, duration: s.audioDuration };
    }
    this._finalBytes = s.bytes;
    if (!this._ondata) {
      result.data = takeBytes(this._native.takeBytes());
      if (typeof Blob === 'function') result.blob = new Blob([result.data], { type: result.mimeType });
    }
    return result;
  }

  // After a successful native finish: frees the handle and waits for every ondata call to settle.
  async _complete(result) {
    this._release();
    this._state = 'finished';
    await this._drained();
    return result;
  }

  /** Stops without finishing and frees the wasm memory (the output so far is not a complete file). */
  abort() {
    if (this._state === 'finished') return;
    this._state = 'aborted';
    this._delivery?.stop();
    this._release();
  }

  _release() {
    if (this._native) this._native.delete();
    this._native = null;
  }
}
