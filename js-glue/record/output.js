// Where a recording's bytes go: the app's ondata(bytes, offset) callback, in order, one call at a time
// (a returned promise is awaited before the next call: OrderedDelivery), or memory (the convenience mode).
//
// The offset contract is VideoWriter's: an offset equal to the bytes delivered so far appends; a smaller
// one overwrites bytes already delivered (a header patched at the end). Writing every call at its offset
// gives exactly the finished file.

import { OrderedDelivery } from '../ordered-delivery.js';

export class RecordingOutput {
  #ondata;
  #onfail;
  #delivery;
  #error;
  #mem;

  /**
   * @param {((bytes: Uint8Array, offset: number) => void|Promise<void>)|null} ondata null: keep in memory
   * @param {(err: Error) => void} onfail called once if ondata throws or rejects
   */
  constructor(ondata, onfail) {
    this.#ondata = ondata || null;
    this.#onfail = onfail;
    this.#delivery = this.#ondata ? new OrderedDelivery(this.#ondata, (e) => this.#fail(e)) : null;
    this.#error = null;
    this.size = 0;          // file size so far (the end of the furthest write)
    this.#mem = this.#ondata ? null : new Uint8Array(1 << 16);
  }

  /** Bytes waiting for ondata. */
  get pendingBytes() {
    return this.#delivery ? this.#delivery.pendingBytes : 0;
  }

  get streaming() {
    return !!this.#ondata;
  }

  get error() {
    return this.#error;
  }

  /** Accepts one range (the bytes are not copied: the caller gives up the array). */
  write(bytes, offset) {
    if (this.#error) return;
    if (!(offset >= 0) || offset > this.size) {
      this.#fail(new Error(`recorder: internal error, a write at ${offset} leaves a gap after ${this.size} bytes`));
      return;
    }
    const end = offset + bytes.length;
    if (!this.#ondata) {
      if (end > this.#mem.length) {
        let n = this.#mem.length;
        while (n < end) n *= 2;
        const grown = new Uint8Array(n);
        grown.set(this.#mem.subarray(0, this.size));
        this.#mem = grown;
      }
      this.#mem.set(bytes, offset);
      if (end > this.size) this.size = end;
      return;
    }
    if (end > this.size) this.size = end;
    this.#delivery.push(bytes, offset);
  }

  #fail(e) {
    if (this.#error) return;
    this.#error = new Error(`recorder: ondata failed, the recording is stopped: ${e && e.message ? e.message : e}`, { cause: e });
    this.#delivery?.stop();
    this.#onfail?.(this.#error);
  }

  /** Resolves once every write so far went through ondata (rejects with its failure). */
  async drained() {
    await this.#delivery?.settled();
    if (this.#error) throw this.#error;
  }

  /** Memory mode: the file (a view of the internal buffer, trimmed). */
  bytes() {
    return this.#mem ? this.#mem.slice(0, this.size) : null;
  }

  discard() {
    this.#delivery?.stop();
    this.#mem = null;
  }
}
