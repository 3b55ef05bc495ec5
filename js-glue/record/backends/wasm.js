// wasm backend: frame-exact VP8/VP9 through the video module (libvpx + libwebm), in a Worker where
// there is one (pages), inline otherwise (Node, or { worker: false }).
//
// Every frame handed to encode() becomes exactly one frame of the file: nothing is dropped here. The
// recorder bounds how many frames may wait (its backpressure); this side only reports when each one
// is done. Pixel buffers go to the Worker by transfer and come back for reuse.
import { FrameEncoder } from '../frame-encoder.js';

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
    if (worker) await b._openWorker(o);
    else await b._openInline(o);
    return b;
  }

  constructor(output, onfatal) {
    this.name = 'wasm';
    this.output = output;
    this.onfatal = onfatal || (() => {});
    this.worker = null;
    this.inline = null;
    this.pending = new Map();
    this.nextId = 1;
    this.pool = new Map();
    this.info = null;
    this.failed = null;
    this._finish = null;
    this._inlineChain = Promise.resolve();
  }

  async _openInline(o) {
    this.inline = await FrameEncoder.create(o, (bytes, offset) => this.output.write(bytes, offset));
    this.info = this.inline.info;
  }

  _openWorker(o) {
    return new Promise((resolve, reject) => {
      let w;
      try {
        w = new Worker(new URL('../record-worker.js', import.meta.url), { type: 'module', name: 'capturekit-record' });
      } catch (err) {
        reject(new Error(`recorder: could not start the record Worker (${err.message}); pass { worker: false } to encode on this thread`));
        return;
      }
      this.worker = w;
      let opened = false;
      w.addEventListener('error', (ev) => {
        ev.preventDefault?.();
        const err = new Error(`recorder: the record Worker ${opened ? 'crashed' : 'failed to load'} (${ev.message || 'script error'})`);
        if (!opened) reject(err);
        this._fatal(err);
      });
      w.onmessage = (e) => {
        const m = e.data;
        switch (m.type) {
          case 'opened': opened = true; this.info = m.info; resolve(); break;
          case 'open-error': w.terminate(); this.worker = null; reject(rebuild(m.error)); break;
          case 'data': this.output.write(new Uint8Array(m.bytes.buffer || m.bytes, m.bytes.byteOffset || 0, m.bytes.byteLength), m.offset); break;
          case 'done': {
            this._recycle(m.buffer);
            const p = this.pending.get(m.id);
            this.pending.delete(m.id);
            p?.resolve();
            break;
          }
          case 'frame-error': {
            const err = rebuild(m.error);
            const p = this.pending.get(m.id);
            this.pending.delete(m.id);
            p?.reject(err);
            if (m.fatal) this._fatal(err);
            break;
          }
          case 'finished': this._finish?.resolve(m.result); break;
          case 'finish-error': this._finish?.reject(rebuild(m.error)); break;
          default: break;
        }
      };
      w.postMessage({ type: 'open', options: o });
    });
  }

  _fatal(err) {
    if (this.failed) return;
    this.failed = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this._finish?.reject(err);
    this.onfatal(err);
  }

  _recycle(buffer) {
    if (!buffer || !buffer.byteLength) return;
    const list = this.pool.get(buffer.byteLength) || [];
    if (list.length < POOL_PER_SIZE) list.push(buffer);
    this.pool.set(buffer.byteLength, list);
  }

  /** A recycled pixel buffer of `size` bytes (its pages already touched), or null. */
  takeBuffer(size) {
    const b = this.pool.get(size)?.pop();
    return b ? new Uint8Array(b) : null;
  }

  /**
   * Encodes one frame { data: Uint8Array (given up: transferred), width, height, bottomUp, timestampUs?,
   * metadata? (a JSON string) }. Resolves when it is in the file.
   */
  encode(frame) {
    if (this.failed) return Promise.reject(this.failed);
    if (this.inline) {
      const run = this._inlineChain.then(() => {
        if (this.failed) throw this.failed;
        return this.inline.encode(frame);
      });
      this._inlineChain = run.catch(() => {});
      return run.catch((err) => {
        if (!this.inline.writer._native) this._fatal(err);
        throw err;
      });
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      let data = frame.data;
      if (data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength) data = data.slice();
      this.worker.postMessage({ type: 'frame', id, data, width: frame.width, height: frame.height, bottomUp: !!frame.bottomUp,
        timestampUs: frame.timestampUs, metadata: frame.metadata }, [data.buffer]);
    });
  }

  /** Finishes the file once every frame is in; resolves with the VideoWriter's result. */
  async finish() {
    if (this.failed) throw this.failed;
    if (this.inline) {
      await this._inlineChain;
      if (this.failed) throw this.failed;
      return this.inline.finish();
    }
    const result = await new Promise((resolve, reject) => {
      this._finish = { resolve, reject };
      this.worker.postMessage({ type: 'finish' });
    });
    this._terminate();
    return result;
  }

  abort() {
    if (this.inline) {
      try { this.inline.abort(); } catch { /* already finished */ }
    }
    if (this.worker) this.worker.postMessage({ type: 'abort' });
    this._terminate();
    const err = this.failed || new Error('recorder: the recording was aborted');
    this.failed = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this._finish?.reject(err);
    this._finish = null;
  }

  _terminate() {
    if (this.worker) this.worker.terminate();
    this.worker = null;
    this.pool.clear();
  }
}
