// RecordingUpload: the sink for a recorder's byte stream (MediaRecorder chunks, VideoWriter's ondata, or
// any WebM bytes in order). Bytes go into a ChunkBuffer (wasm: exact minPartSize parts with SHA-256);
// every chunk is stored before append() resolves (the recording's tail, so a crash mid-part loses
// nothing), and each part is stored together with its addPart event in one transaction, so it uploads
// while the recording goes on. stop() flushes the last part and finishes the recording (then it
// finalizes; the queue drops a recording that holds no byte). Where things are stored: queue-store.js.
//
//   const rec = await uploader.startRecording({ filename: 'demo.webm', fps: 30, codec: 'vp9' });
//   rec.attachMediaRecorder(mediaRecorder);      // or: mediaRecorder.ondataavailable = (e) => rec.append(e.data)
//   ... mediaRecorder.stop()  ->  rec.stopped resolves        (or: await rec.stop({ duration }))
//
// If storage is full, the bytes are kept in memory (never dropped), a 'quotaexceeded' event goes out, and
// every later append (and retrySave()) tries again; stop() rejects while anything is still unsaved.
//
// seekable: true (startRecording option; REST and S3 transports): the muxer's header patches (ondata with
// an offset below the end: segment size, seek head, duration) land in part 0, which the ChunkBuffer holds
// back; parts 1, 2 ... upload while recording, and at stop the last part and then the patched part 0 go
// out, so the server's file is the finished, seekable file without any rewrite.
import { ChunkBuffer } from './chunk-buffer.js';
import { toBytes } from '../validate.js';

import { QueueStore } from './queue-store.js';

function isQuotaError(e) {
  return !!e && (e.name === 'QuotaExceededError' || e.code === 22);
}

export class RecordingUpload extends EventTarget {
  #host;
  #id;
  #metadata;
  #minPartSize;
  #mimeType;
  #cb = null;
  #chain = Promise.resolve();
  #seq = 0;
  #appended = 0;
  #partsStored = 0;
  #tailEntries = []; // { seq, start, end } still stored in the tail
  #unsaved = []; // batches of ops that storage refused (quota), in order
  #unsavedBytes = 0;
  #state = 'new'; // new | recording | stopping | stopped | aborted | detached
  #release = () => {};
  #stopped;
  #resolveStopped;
  #rejectStopped;
  #retryTimer = null;
  #seekable = false;
  #partRules = 's3'; // the store's part rules (ChunkBuffer's store option)

  /** @internal created by Uploader.startRecording() */
  // serverFinalize (seekable with the append-only tus transport): header patches are dropped, and the
  // server makes the finished file seekable (the reference server runs makeSeekable on completion).
  #serverFinalize = false;

  constructor(host, { id, metadata, minPartSize, partRules = 's3', mimeType, seekable = false, serverFinalize = false }) {
    super();
    this.#seekable = seekable === true;
    this.#serverFinalize = serverFinalize === true;
    this.#host = host;
    this.#id = id;
    this.#metadata = metadata;
    this.#minPartSize = minPartSize;
    this.#partRules = partRules;
    this.#mimeType = mimeType;
    this.#stopped = new Promise((resolve, reject) => { this.#resolveStopped = resolve; this.#rejectStopped = reject; });
    this.#stopped.catch(() => {});
  }

  /** @internal */
  async start() {
    this.#release = await this.#host.holdRecordingLock(this.#id);
    try {
      this.#cb = new ChunkBuffer({ minPartSize: this.#minPartSize, store: this.#partRules, ...(this.#seekable ? { holdFirstPart: true } : {}) });
      await this.#host.submitRecordingStart(this.#id, this.#metadata, {
        id: this.#id, kind: 'video', createdAt: Date.now(), minPartSize: this.#minPartSize, mimeType: this.#mimeType,
        ...(this.#seekable ? { seekable: true } : {}),
      }, ...(this.#seekable ? [{ firstPartLast: true }] : []));
    } catch (e) {
      this.#cb?.dispose();
      this.#release();
      throw e;
    }
    this.#state = 'recording';
  }

  get itemId() { return this.#id; }
  /** Bytes appended so far (stored, or held in memory while storage is full). */
  get bytesAppended() { return this.#appended; }
  get partsStored() { return this.#partsStored; }
  /** Bytes held in memory because storage refused them (0 normally). */
  get unsavedBytes() { return this.#unsavedBytes; }
  get state() { return this.#state; }
  /** True when the header patches go into part 0, which uploads last (startRecording's seekable option). */
  get seekable() { return this.#seekable; }
  /** Resolves when the recording is stopped and stored (attachMediaRecorder's stop, or stop()). */
  get stopped() { return this.#stopped; }

  /**
   * Adds the next bytes of the recording (a Blob from MediaRecorder, a Uint8Array, an ArrayBuffer).
   * Calls are kept in order even when not awaited; resolves once the bytes are stored.
   */
  append(chunk) {
    if (this.#state !== 'recording') return Promise.reject(new Error(`RecordingUpload.append: the recording is ${this.#state}`));
    const isBlob = typeof Blob === 'function' && chunk instanceof Blob;
    if (!isBlob) {
      try { toBytes(chunk, 'RecordingUpload.append: chunk'); } catch (e) { return Promise.reject(e); } // checked now, at the caller
    }
    const p = this.#chain.then(() => this.#append(chunk));
    this.#chain = p.catch(() => {});
    return p;
  }

  /** VideoWriter's ondata(bytes, offset): the stream must arrive in order, without seeking back. */
  write(bytes, offset) {
    if (this.#seekable && offset !== undefined && offset < this.#queuedBytes) return this.#writePatch(bytes, offset);
    if (this.#serverFinalize && typeof offset === 'number' && offset < this.#queuedBytes) {
      let u8;
      try { u8 = toBytes(bytes, 'RecordingUpload.write: bytes'); } catch (e) { return Promise.reject(e); }
      if (offset + u8.byteLength <= this.#queuedBytes) return Promise.resolve(); // a header patch: the server re-does it
      return this.write(u8.subarray(this.#queuedBytes - offset), this.#queuedBytes);
    }
    if (offset !== undefined && offset !== this.#queuedBytes) {
      return Promise.reject(new RangeError(`RecordingUpload.write: expected offset ${this.#queuedBytes}, got ${offset} (the upload needs a forward-only stream)`));
    }
    let u8;
    try { u8 = toBytes(bytes, 'RecordingUpload.write: bytes'); } catch (e) { return Promise.reject(e); }
    this.#queuedBytes += u8.byteLength;
    // The caller may reuse its buffer: take a copy now.
    return this.append(new Uint8Array(u8));
  }

  #queuedBytes = 0;

  // seekable: a range that overwrites bytes already written (a header patch) goes into the held part 0;
  // a part of the range past the end is appended.
  #writePatch(bytes, offset) {
    if (this.#state !== 'recording') return Promise.reject(new Error(`RecordingUpload.write: the recording is ${this.#state}`));
    let u8;
    try {
      u8 = toBytes(bytes, 'RecordingUpload.write: bytes');
      if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) throw new RangeError(`RecordingUpload.write: offset must be a non-negative integer, got ${offset}`);
      if (offset + u8.byteLength > this.#minPartSize) {
        throw new RangeError(`RecordingUpload.write: a patch at ${offset}..${offset + u8.byteLength} reaches past part 0 (minPartSize ${this.#minPartSize}); seekable needs a minPartSize bigger than the muxer's header`);
      }
    } catch (e) { return Promise.reject(e); }
    const inside = Math.min(u8.byteLength, this.#queuedBytes - offset);
    const head = new Uint8Array(u8.subarray(0, inside));
    const p = this.#chain.then(() => this.#cb.patch(offset, head));
    this.#chain = p.catch(() => {});
    if (inside < u8.byteLength) {
      const rest = u8.subarray(inside);
      this.#queuedBytes += rest.byteLength;
      return Promise.all([p, this.append(new Uint8Array(rest))]).then(() => {});
    }
    return p;
  }

  /** For `new VideoWriter({ ondata: rec.ondata })`. */
  get ondata() {
    return (bytes, offset) => this.write(bytes, offset);
  }

  async #append(chunk) {
    let bytes;
    if (typeof Blob === 'function' && chunk instanceof Blob) bytes = new Uint8Array(await chunk.arrayBuffer());
    else bytes = toBytes(chunk, 'RecordingUpload.append: chunk');
    if (bytes.byteLength === 0) return;
    const id = this.#id;
    const start = this.#appended;
    const parts = this.#cb.append(bytes);
    this.#appended += bytes.byteLength;
    const seq = this.#seq++;
    // A copy with a buffer of its own (a Node Buffer's slice() would be a view of a bigger buffer).
    const ops = [this.#host.queueStore.tailOp(id, seq, start, new Uint8Array(bytes))];
    this.#tailEntries.push({ seq, start, end: start + bytes.byteLength });
    this.#partOps(parts, ops);
    await this.#save(ops);
  }

  #partOps(parts, ops) {
    const id = this.#id;
    const store = this.#host.queueStore;
    for (const p of parts) {
      ops.push(...store.addPartOps(id, p));
      this.#partsStored = Math.max(this.#partsStored, p.index + 1); // seekable: part 0 comes last
    }
    // Tail entries wholly inside emitted parts are not needed any more (seekable: the held part 0 is not
    // emitted, so the entries with its bytes stay until stop, for recovery).
    if (parts.length) {
      const { begin, end } = this.#cb.emittedRange;
      let i = 0;
      while (i < this.#tailEntries.length && this.#tailEntries[i].start < begin) i++;
      while (this.#tailEntries.length > i && this.#tailEntries[i].end <= end) {
        ops.push(store.deleteTailOp(id, this.#tailEntries.splice(i, 1)[0].seq));
      }
    }
  }

  async #save(ops) {
    const bytes = QueueStore.bytesOf(ops);
    this.#unsaved.push({ ops, bytes });
    this.#unsavedBytes += bytes;
    await this.#flushUnsaved();
  }

  // Writes the held batches in order; on a quota error keeps them (and the rest) for later.
  async #flushUnsaved() {
    while (this.#unsaved.length) {
      const b = this.#unsaved[0];
      let keys;
      try {
        keys = await this.#host.queueStore.commit(b.ops);
      } catch (e) {
        if (!isQuotaError(e)) throw e;
        this.#host.writer.reportQuota({ itemId: this.#id, message: String(e.message), where: 'recording', unsavedBytes: this.#unsavedBytes });
        this.#scheduleRetry();
        return false;
      }
      this.#unsaved.shift();
      this.#unsavedBytes -= b.bytes;
      this.#host.writer.notify(keys);
      if (!this.#unsaved.length) this.#host.writer.reportStored();
    }
    return true;
  }

  #scheduleRetry() {
    if (this.#retryTimer) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.retrySave().catch(() => {});
    }, 5000);
  }

  /** Tries again to store what storage refused. Resolves true when nothing is held in memory any more. */
  retrySave() {
    const p = this.#chain.then(() => this.#flushUnsaved());
    this.#chain = p.catch(() => {});
    return p;
  }

  /**
   * Ends the recording: the last part is stored and the recording finished (it then finalizes; a recording
   * without a byte leaves the queue).
   * @param {{duration?: number, metadata?: object}} [final] sent with finalize (duration in seconds)
   * @returns {Promise<{itemId: string, bytes: number, parts: number}>}
   */
  stop(final = {}) {
    if (this.#state === 'stopped') return this.#stopped;
    if (this.#state !== 'recording' && this.#state !== 'stopping') return Promise.reject(new Error(`RecordingUpload.stop: the recording is ${this.#state}`));
    if (final === null || typeof final !== 'object') return Promise.reject(new TypeError('RecordingUpload.stop: final must be an object { duration?, metadata? }'));
    const first = this.#state === 'recording';
    this.#state = 'stopping';
    const p = this.#chain.then(async () => {
      const id = this.#id;
      if (first) {
        const store = this.#host.queueStore;
        const parts = this.#cb.flush();
        const ops = [];
        this.#partOps(parts, ops);
        ops.push(...store.deleteTailOps(id));
        this.#tailEntries = [];
        const finalMetadata = { ...(final.metadata || {}) };
        if (typeof final.duration === 'number') finalMetadata.duration = final.duration;
        const info = (await store.itemInfo(id)) || { id, kind: 'video' };
        ops.push(store.itemInfoOp(id, { ...info, finalMetadata, stoppedAt: Date.now(), bytes: this.#appended }));
        ops.push(store.eventOp({ type: 'finish', id }));
        this.#unsaved.push({ ops, bytes: QueueStore.bytesOf(ops) });
        this.#unsavedBytes += this.#unsaved[this.#unsaved.length - 1].bytes;
        this.#cb.dispose();
      }
      if (!(await this.#flushUnsaved())) {
        const e = new Error(`RecordingUpload.stop: storage is full; ${this.#unsavedBytes} bytes are held in memory (call stop() again after freeing space)`);
        e.name = 'QuotaExceededError';
        throw e;
      }
      this.#state = 'stopped';
      clearTimeout(this.#retryTimer);
      this.#release();
      this.#host.recordingEnded(id);
      const result = { itemId: id, bytes: this.#appended, parts: this.#partsStored };
      this.#resolveStopped(result);
      return result;
    });
    this.#chain = p.catch(() => {});
    return p;
  }

  /** Cancels the recording: nothing more is uploaded and its stored bytes are deleted. */
  async abort() {
    if (this.#state === 'stopped' || this.#state === 'aborted') return;
    this.#state = 'aborted';
    await this.#chain;
    this.#cb?.dispose();
    clearTimeout(this.#retryTimer);
    const store = this.#host.queueStore;
    await store.commit([store.eventOp({ type: 'remove', id: this.#id, reason: 'aborted' })])
      .then((keys) => this.#host.writer.notify(keys));
    this.#release();
    this.#host.recordingEnded(this.#id);
    this.#rejectStopped(new Error('the recording was aborted'));
  }

  /** @internal the uploader closed (page going away): stop listening; what is stored stays for recovery. */
  detach() {
    if (this.#state === 'stopped' || this.#state === 'aborted') return;
    this.#state = 'detached';
    clearTimeout(this.#retryTimer);
    this.#release();
    this.#chain.then(() => this.#cb?.dispose());
  }

  /**
   * Feeds a MediaRecorder: every 'dataavailable' blob is appended in order and its 'stop' stops this upload
   * (with the recorded duration). Returns a function that detaches the listeners.
   */
  attachMediaRecorder(recorder, { final = {} } = {}) {
    if (!recorder || typeof recorder.addEventListener !== 'function') throw new TypeError('attachMediaRecorder: a MediaRecorder is required');
    const t0 = Date.now();
    const onData = (e) => {
      if (e.data && e.data.size > 0) this.append(e.data).catch((err) => this.#host.dispatchUploaderEvent('error', { where: 'recording', itemId: this.#id, message: String(err.message) }));
    };
    const onStop = () => {
      this.stop({ duration: (Date.now() - t0) / 1000, ...final }).catch((err) => this.#host.dispatchUploaderEvent('error', { where: 'recording', itemId: this.#id, message: String(err.message) }));
    };
    recorder.addEventListener('dataavailable', onData);
    recorder.addEventListener('stop', onStop);
    return () => {
      recorder.removeEventListener('dataavailable', onData);
      recorder.removeEventListener('stop', onStop);
    };
  }
}
