// wasm backend: frame-exact VP8/VP9 through the video module (libvpx + libwebm), in a Worker where
// there is one (pages), inline otherwise (Node, or { worker: false }).
//
// Every frame handed to encode() becomes exactly one frame of the file: nothing is dropped here. The
// recorder bounds how many frames may wait (its backpressure); this side only reports when each one
// is done. Pixel buffers go to the Worker by transfer and come back for reuse.
//
// Sound (o.audio { sampleRate, channels, bitrate? }): PCM batches on the recorder's time line (the
// frames' clock) go to the same Worker, in order with the frames, and the VideoWriter encodes them with
// libopus into the file's Opus track. The writer counts time from the first timestamp it is given, so
// sound waits here until the first frame has gone, and sound from before that frame is cut off.
import { FrameEncoder } from '../frame-encoder.js';

const EARLY_AUDIO_BATCHES = 400; // sound held until the first frame fixes the start (4 s of 10 ms batches)
const TOLERANCE_US = 3_000;      // sound this far from its timestamp is moved (cut or padded) back to it
const MAX_PAD_US = 1_000_000;    // gaps up to this are padded here with silence; longer ones the writer fills

function rebuild(e) {
  const Ctor = e && e.name === 'RangeError' ? RangeError : e && e.name === 'TypeError' ? TypeError : Error;
  return new Ctor(e && e.message ? e.message : 'recorder: the record Worker failed');
}

const POOL_PER_SIZE = 4;

export class WasmBackend {
  /**
   * @param {object} o VideoWriter options { codec, width, height, fps, bitrate, keyframeInterval, speed, flipY }
   * @param {{write(bytes: Uint8Array, offset: number): void}} output
   * @param {{worker?: boolean, onfatal?: (err: Error) => void}} [env]
   */
  static async open(o, output, { worker = typeof Worker === 'function', onfatal } = {}) {
    const b = new WasmBackend(output, onfatal);
    b.#audio = o.audio ? { sampleRate: o.audio.sampleRate, channels: o.audio.channels } : null;
    if (worker) await b.#openWorker(o);
    else await b.#openInline(o);
    return b;
  }

  #output;
  #onfatal;
  #worker = null;
  #inline = null;
  #pending = new Map();
  #nextId = 1;
  #pool = new Map();
  #failed = null;
  #finish = null;
  #inlineChain = Promise.resolve();
  #audio = null;          // { sampleRate, channels } when the file has sound
  #firstFrameUs = undefined; // the first frame's timestamp, once it has gone to the encoder
  #early = [];            // sound before the first frame: { planes, us }
  #audioEndUs = null;     // where the sound given so far ends (µs, recorder time line)

  constructor(output, onfatal) {
    this.name = 'wasm';
    /** The VideoWriter's settings once open. */
    this.info = null;
    this.#output = output;
    this.#onfatal = onfatal || (() => {});
  }

  async #openInline(o) {
    this.#inline = await FrameEncoder.create(o, (bytes, offset) => this.#output.write(bytes, offset));
    this.info = this.#inline.info;
  }

  #openWorker(o) {
    return new Promise((resolve, reject) => {
      let w;
      try {
        w = new Worker(new URL('../record-worker.js', import.meta.url), { type: 'module', name: 'capturekit-record' });
      } catch (err) {
        reject(new Error(`recorder: could not start the record Worker (${err.message}); pass { worker: false } to encode on this thread`));
        return;
      }
      this.#worker = w;
      let opened = false;
      w.addEventListener('error', (ev) => {
        ev.preventDefault?.();
        const err = new Error(`recorder: the record Worker ${opened ? 'crashed' : 'failed to load'} (${ev.message || 'script error'})`);
        if (!opened) reject(err);
        this.#fatal(err);
      });
      w.onmessage = (e) => {
        const m = e.data;
        switch (m.type) {
          case 'opened': opened = true; this.info = m.info; resolve(); break;
          case 'open-error': w.terminate(); this.#worker = null; reject(rebuild(m.error)); break;
          case 'data': this.#output.write(new Uint8Array(m.bytes.buffer || m.bytes, m.bytes.byteOffset || 0, m.bytes.byteLength), m.offset); break;
          case 'done': {
            this.#recycle(m.buffer);
            const p = this.#pending.get(m.id);
            this.#pending.delete(m.id);
            p?.resolve();
            break;
          }
          case 'frame-error': {
            const err = rebuild(m.error);
            const p = this.#pending.get(m.id);
            this.#pending.delete(m.id);
            p?.reject(err);
            if (m.fatal) this.#fatal(err);
            break;
          }
          case 'audio-error': this.#fatal(rebuild(m.error)); break;
          case 'finished': this.#finish?.resolve(m.result); break;
          case 'finish-error': this.#finish?.reject(rebuild(m.error)); break;
          default: break;
        }
      };
      w.postMessage({ type: 'open', options: o });
    });
  }

  #fatal(err) {
    if (this.#failed) return;
    this.#failed = err;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
    this.#finish?.reject(err);
    this.#onfatal(err);
  }

  #recycle(buffer) {
    if (!buffer || !buffer.byteLength) return;
    const list = this.#pool.get(buffer.byteLength) || [];
    if (list.length < POOL_PER_SIZE) list.push(buffer);
    this.#pool.set(buffer.byteLength, list);
  }

  /** A recycled pixel buffer of `size` bytes (its pages already touched), or null. */
  takeBuffer(size) {
    const b = this.#pool.get(size)?.pop();
    return b ? new Uint8Array(b) : null;
  }

  /**
   * Encodes one frame { data: Uint8Array (given up: transferred), width, height, bottomUp, timestampUs?,
   * metadata? (a JSON string) }. Resolves when it is in the file.
   */
  encode(frame) {
    if (this.#failed) return Promise.reject(this.#failed);
    const first = this.#firstFrameUs === undefined;
    if (first) this.#firstFrameUs = frame.timestampUs ?? null;
    let done;
    if (this.#inline) {
      const run = this.#inlineChain.then(() => {
        if (this.#failed) throw this.#failed;
        return this.#inline.encode(frame);
      });
      this.#inlineChain = run.catch(() => {});
      done = run.catch((err) => {
        if (!this.#inline.writer._native) this.#fatal(err);
        throw err;
      });
    } else {
      const id = this.#nextId++;
      done = new Promise((resolve, reject) => {
        this.#pending.set(id, { resolve, reject });
        let data = frame.data;
        if (data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength) data = data.slice();
        this.#worker.postMessage({ type: 'frame', id, data, width: frame.width, height: frame.height, bottomUp: !!frame.bottomUp,
          timestampUs: frame.timestampUs, metadata: frame.metadata }, [data.buffer]);
      });
    }
    if (first) for (const e of this.#early.splice(0)) this.#sendAudio(e.planes, e.us);
    return done;
  }

  /**
   * Sound: one batch of PCM (a Float32Array per channel, at audio.sampleRate) heard at recording time
   * `us` (the frames' clock). The arrays are given up (transferred to the Worker).
   */
  encodeAudio(planes, us) {
    if (this.#failed || !this.#audio) return;
    if (this.#firstFrameUs === undefined) {
      this.#early.push({ planes, us });
      if (this.#early.length > EARLY_AUDIO_BATCHES) this.#early.shift();
      return;
    }
    this.#sendAudio(planes, us);
  }

  #sendAudio(planes, us) {
    if (this.#failed) return;
    const rate = this.#audio.sampleRate;
    let frames = planes[0].length;
    // Before the first frame (time zero of the file): cut off. Over the sound already given by more
    // than TOLERANCE_US (a clock correction): the overlap is cut. After it by more: silence in between
    // (up to a second here; longer gaps the writer fills). So the sound follows its timestamps within
    // TOLERANCE_US, and each batch reaches the writer exactly where the last one ended.
    let from = us;
    if (this.#firstFrameUs !== null && from < this.#firstFrameUs) from = this.#firstFrameUs;
    if (this.#audioEndUs !== null && from < this.#audioEndUs - TOLERANCE_US) from = this.#audioEndUs;
    if (from > us) {
      const skip = Math.ceil(((from - us) * rate) / 1e6);
      if (skip >= frames) return;
      planes = planes.map((p) => p.slice(skip));
      frames -= skip;
      us += (skip / rate) * 1e6;
    }
    if (this.#audioEndUs !== null) {
      const gap = us - this.#audioEndUs;
      if (gap > TOLERANCE_US && gap <= MAX_PAD_US) {
        const pad = Math.round((gap * rate) / 1e6);
        planes = planes.map((p) => { const q = new Float32Array(pad + p.length); q.set(p, pad); return q; });
        frames += pad;
        us = this.#audioEndUs;
      } else if (Math.abs(gap) <= TOLERANCE_US) {
        us = this.#audioEndUs;
      }
    }
    this.#audioEndUs = us + (frames / rate) * 1e6;
    const timestampUs = Math.round(us);
    if (this.#inline) {
      const run = this.#inlineChain.then(() => {
        if (this.#failed) return;
        this.#inline.addAudio(planes, timestampUs);
      });
      this.#inlineChain = run.catch((err) => this.#fatal(err));
      return;
    }
    this.#worker.postMessage({ type: 'audio', planes, timestampUs }, planes.map((p) => p.buffer));
  }

  /** Finishes the file once every frame is in; resolves with the VideoWriter's result. */
  async finish() {
    if (this.#failed) throw this.#failed;
    if (this.#inline) {
      await this.#inlineChain;
      if (this.#failed) throw this.#failed;
      return this.#inline.finish();
    }
    const result = await new Promise((resolve, reject) => {
      this.#finish = { resolve, reject };
      this.#worker.postMessage({ type: 'finish' });
    });
    this.#terminate();
    return result;
  }

  abort() {
    if (this.#inline) {
      try { this.#inline.abort(); } catch { /* already finished */ }
    }
    if (this.#worker) this.#worker.postMessage({ type: 'abort' });
    this.#terminate();
    const err = this.#failed || new Error('recorder: the recording was aborted');
    this.#failed = err;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
    this.#finish?.reject(err);
    this.#finish = null;
  }

  #terminate() {
    if (this.#worker) this.#worker.terminate();
    this.#worker = null;
    this.#pool.clear();
  }
}
