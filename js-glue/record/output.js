// Where a recording's bytes go: the app's ondata(bytes, offset) callback, in order, one call at a time
// (a returned promise is awaited before the next call: OrderedDelivery), or memory (the convenience mode).
//
// The offset contract is VideoWriter's: an offset equal to the bytes delivered so far appends; a smaller
// one overwrites bytes already delivered (a header patched at the end). Writing every call at its offset
// gives exactly the finished file.

import { OrderedDelivery } from '../ordered-delivery.js';

export class RecordingOutput {
  /**
   * @param {((bytes: Uint8Array, offset: number) => void|Promise<void>)|null} ondata null: keep in memory
   * @param {(err: Error) => void} onfail called once if ondata throws or rejects
   */
  constructor(ondata, onfail) {
    this._ondata = ondata || null;
    this._onfail = onfail;
    this._delivery = this._ondata ? new OrderedDelivery(this._ondata, (e) => this._fail(e)) : null;
    this._error = null;
    this.size = 0;          // file size so far (the end of the furthest write)
    this._mem = this._ondata ? null : new Uint8Array(1 << 16);
  }

  /** Bytes waiting for ondata. */
  get pendingBytes() {
    return this._delivery ? this._delivery.pendingBytes : 0;
  }

  get streaming() {
    return !!this._ondata;
  }

  get error() {
    return this._error;
  }

  /** Accepts one range (the bytes are not copied: the caller gives up the array). */
  write(bytes, offset) {
    if (this._error) return;
    if (!(offset >= 0) || offset > this.size) {
      this._fail(new Error(`recorder: internal error, a write at ${offset} leaves a gap after ${this.size} bytes`));
      return;
    }
    const end = offset + bytes.length;
    if (!this._ondata) {
      if (end > this._mem.length) {
        let n = this._mem.length;
        while (n < end) n *= 2;
        const grown = new Uint8Array(n);
        grown.set(this._mem.subarray(0, this.size));
        this._mem = grown;
      }
      this._mem.set(bytes, offset);
      if (end > this.size) this.size = end;
      return;
    }
    if (end > this.size) this.size = end;
    this._delivery.push(bytes, offset);
  }

  _fail(e) {
    if (this._error) return;
    this._error = new Error(`recorder: ondata failed, the recording is stopped: ${e && e.message ? e.message : e}`, { cause: e });
    this._delivery?.stop();
    this._onfail?.(this._error);
  }

  /** Resolves once every write so far went through ondata (rejects with its failure). */
  async drained() {
    await this._delivery?.settled();
    if (this._error) throw this._error;
  }

  /** Memory mode: the file (a view of the internal buffer, trimmed). */
  bytes() {
    return this._mem ? this._mem.slice(0, this.size) : null;
  }

  discard() {
    this._delivery?.stop();
    this._mem = null;
  }
}
