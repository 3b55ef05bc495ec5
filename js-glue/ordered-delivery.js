// OrderedDelivery: hands byte ranges to an app's ondata(bytes, offset) callback in the order they were
// produced, one call at a time: a promise returned by ondata holds the next call back until it
// settles. The first throw or rejection stops delivery (the ranges still queued are dropped) and is
// reported once through onfail. VideoWriter, WebmMuxer (through WebmOutput) and the recorder's output
// all stream this way.

export class OrderedDelivery {
  /**
   * @param {(bytes: Uint8Array, offset: number) => void|Promise<void>} ondata
   * @param {(err: unknown) => void} onfail the first failure of ondata (a throw or a rejection)
   */
  constructor(ondata, onfail) {
    this._ondata = ondata;
    this._onfail = onfail;
    this._queue = [];
    this._busy = null;
    this._stopped = false;
    /** Bytes queued or in an ondata call that has not settled. */
    this.pendingBytes = 0;
  }

  get stopped() {
    return this._stopped;
  }

  /** Queues one range (not copied: the caller gives up the array) and delivers what it can now. */
  push(bytes, offset) {
    if (this._stopped) return;
    this._queue.push([bytes, offset]);
    this.pendingBytes += bytes.length;
    this._run();
  }

  _run() {
    while (!this._busy && this._queue.length && !this._stopped) {
      const [bytes, offset] = this._queue.shift();
      let result;
      try {
        result = this._ondata(bytes, offset);
      } catch (e) {
        this._failed(e);
        return;
      }
      if (result && typeof result.then === 'function') {
        this._busy = Promise.resolve(result).then(
          () => { this._busy = null; this._delivered(bytes); this._run(); },
          (e) => { this._busy = null; this._failed(e); },
        );
        return;
      }
      this._delivered(bytes);
    }
  }

  _delivered(bytes) {
    if (!this._stopped) this.pendingBytes -= bytes.length;
  }

  _failed(e) {
    if (this._stopped) return;
    this.stop();
    this._onfail(e);
  }

  /** Drops what is still queued and delivers nothing more (an ondata call under way still settles). */
  stop() {
    this._stopped = true;
    this._queue = [];
    this.pendingBytes = 0;
  }

  /** Resolves when no ondata call is under way and nothing is queued (or delivery stopped). */
  async settled() {
    while (this._busy) await this._busy;
  }
}
