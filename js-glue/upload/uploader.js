// Uploader: the app's handle on the upload queue. It stores what the app gives it, and leaves the rest
// to the parts named below; every upload decision is the C++ UploadQueue's (QueueCore).
//
//   const up = createUploader({ transport: createRestTransport({ baseUrl }), getToken: () => token });
//   await up.ready;
//   await up.enqueueScreenshot(capture);                 // bytes in IndexedDB before anything is sent
//   const rec = await up.startRecording({ filename: 'talk.webm', fps: 30 });
//   mediaRecorder.ondataavailable = (e) => rec.append(e.data);   // parts upload while recording goes on
//   await rec.stop({ duration });                        // flush + finish -> finalize
//   await up.whenIdle();                                 // everything uploaded (check progress.failed)
//
// Durability: the app's bytes go into the store and an event into the store's inbox in one
// transaction (queue-store.js says what is stored where). Exactly one uploader per origin and name
// leads (leadership.js: Web Locks, BroadcastChannel): it applies the inbox to the queue, persists the
// state with the inbox entries it applied in one transaction (each event applied exactly once), and
// performs actions (queue-driver.js, action-runner.js). The other tabs follow: they write to the inbox
// and see progress (progress.js) and events through the channel. When the leader's tab goes away the
// next tab takes the lock, restores the state, asks the server which parts it has, recovers recordings
// whose recorder went away (orphan-recovery.js), and continues from the first part the server lacks.
// background-sync.js finishes uploads in a service worker; local-copy.js reads what is still stored.
// This file is a little over 400 lines: it is the public API, every method documented for apps.
import { initUpload } from '../upload.js';
import { RecordingUpload } from './recording-upload.js';
import { QueueStore, ownBuffer, openIdbStore } from './queue-store.js';
import { Leadership, Deferred } from './leadership.js';
import { QueueDriver } from './queue-driver.js';
import { ProgressTracker, progressFromSummary } from './progress.js';
import { BackgroundSync, requestPersistence } from './background-sync.js';
import { getLocalCopy, deleteLocalCopy, storageEstimate } from './local-copy.js';
import { checkItemId, metadataJson } from './limits.js';
import { normalizeUploaderOptions, RETAIN_MODES } from './uploader-options.js';
import { InboxWriter } from './inbox-writer.js';
import { makeId, extFor, screenshotBytes } from './capture-input.js';

export { RETAIN_MODES, openIdbStore };
/** An ArrayBuffer holding exactly these bytes (no copy when the view already covers its whole buffer). */
export const exactBuffer = ownBuffer;

export class Uploader extends EventTarget {
  #o;
  #ctx;
  #store = null;
  #rawStore;
  #ownStore;
  #role = 'starting'; // starting | follower | leader | closed
  #closed = false;
  #token = '';
  #live = new Map(); // itemId -> RecordingUpload (this tab's recordings)
  #storage = { persisted: null, quotaExceeded: false, lastError: '' };
  #listeners = [];
  #leadLoaded = new Deferred();
  #leadership = null;
  #driver;
  #progress;
  #sync;
  #writer;

  /** @param {import('./uploader-options.js').UploaderOptions} options (see there) */
  constructor(options) {
    super();
    const o = normalizeUploaderOptions(options);
    this.#o = o;
    this.#token = options.token || '';
    if (options.store) {
      this.#rawStore = options.store;
      this.#ownStore = false;
    } else {
      if (typeof indexedDB === 'undefined') throw new TypeError('createUploader: no IndexedDB here; pass store: createMemoryStore()');
      this.#rawStore = null; // opened in #start (store.js needs the `idb` package: a bundler or an import map resolves it)
      this.#ownStore = true;
    }
    this.#sync = new BackgroundSync(o.name);
    this.#ctx = {
      o,
      store: null,
      storage: this.#storage,
      live: this.#live,
      leadership: null,
      sync: this.#sync,
      progress: null,
      isClosed: () => this.#closed,
      publish: () => this.#progress.publish(),
      token: { current: () => this.#currentToken(), set: (t) => { this.#token = t; } },
      events: {
        dispatch: (name, detail) => this.#dispatch(name, detail),
        dispatchAll: (name, detail) => this.#dispatchAll(name, detail),
        emitError: (e, where, extra) => this.#emitError(e, where, extra),
      },
    };
    this.#driver = new QueueDriver(this.#ctx);
    this.#progress = new ProgressTracker({
      current: () => (this.#role === 'leader' && this.#driver.core && !this.#closed ? this.#computeProgress() : null),
      busy: () => this.#driver.busy,
      emit: (p) => this.dispatchEvent(Object.assign(new Event('progress'), { detail: p })),
      post: (m) => this.#leadership.post(m),
    });
    this.#ctx.progress = this.#progress;
    this.#writer = new InboxWriter(this.#ctx, () => {
      if (this.#role === 'leader') this.#driver.inboxChanged();
      else this.#leadership?.post({ type: 'inbox' });
    });
    this.ready = this.#start();
    this.ready.catch(() => {});
  }

  // ------------------------------------------------------------------------------------------ start

  async #start() {
    const o = this.#o;
    await initUpload(o.wasm);
    if (!this.#rawStore) this.#rawStore = await openIdbStore({ name: `capturekit-upload-${o.name}` });
    this.#store = new QueueStore(this.#rawStore);
    this.#ctx.store = this.#store;
    await this.#store.open();
    this.#leadership = new Leadership({ name: o.name, locks: o.locks, channel: o.channel, onMessage: (m) => this.#onMessage(m) });
    this.#ctx.leadership = this.#leadership;
    const target = o.onlineEvents;
    if (target) {
      const on = () => this.#setOnline(true);
      const off = () => this.#setOnline(false);
      target.addEventListener('online', on);
      target.addEventListener('offline', off);
      this.#listeners.push(() => { target.removeEventListener('online', on); target.removeEventListener('offline', off); });
    }
    if (o.persistStorage) requestPersistence(this.#storage);
    if (o.backgroundSync) {
      await this.#sync.setup(o.backgroundSync, this.#store, () => ({
        name: o.name, transport: typeof o.transport.describe === 'function' ? o.transport.describe() : null,
        queue: o.queue, retain: o.retain, keepCompleted: o.keepCompleted, minPartSize: o.minPartSize,
      }), () => this.#currentToken());
    }
    if (await this.#leadership.acquire(() => this.#lead(), this.#leadLoaded.promise, (e) => this.#emitError(e, 'lock'))) return this;
    this.#role = 'follower';
    this.#dispatch('rolechange', { role: 'follower' });
    // A snapshot from the leader, so getProgress() means something at once.
    const snap = new Promise((resolve) => {
      const onP = () => { this.removeEventListener('progress', onP); resolve(); };
      this.addEventListener('progress', onP);
      setTimeout(() => { this.removeEventListener('progress', onP); resolve(); }, 1000);
    });
    this.#leadership.post({ type: 'hello' });
    await snap;
    return this;
  }

  async #lead() {
    if (this.#closed) return;
    this.#role = 'leader';
    try {
      await this.#driver.load();
      this.#dispatch('rolechange', { role: 'leader' });
    } catch (e) {
      this.#leadLoaded.reject(e);
      throw e;
    }
    this.#leadLoaded.resolve();
    this.#progress.publish();
    await this.#driver.run();
  }

  async #currentToken() {
    if (this.#o.getToken) {
      const t = await this.#o.getToken();
      return typeof t === 'string' ? t : '';
    }
    return this.#token;
  }

  // ------------------------------------------------------------------------------------------ messages and events

  #onMessage(m) {
    if (!m || typeof m !== 'object' || this.#closed) return;
    const leading = this.#role === 'leader';
    switch (m.type) {
      case 'inbox':
        if (leading) this.#driver.inboxChanged();
        break;
      case 'hello':
        if (leading) this.#progress.publish();
        break;
      case 'progress':
        if (!leading) this.#progress.receive(m);
        break;
      case 'event':
        if (!leading) this.#dispatch(m.name, m.detail);
        break;
      case 'token':
        if (typeof m.token === 'string') this.#token = m.token;
        if (leading && this.#driver.core) this.#driver.tokenUpdated();
        break;
      default:
        break;
    }
  }

  #dispatch(name, detail) {
    const ev = new Event(name);
    ev.detail = detail;
    this.dispatchEvent(ev);
  }

  /** An event here and in every following tab. */
  #dispatchAll(name, detail) {
    this.#dispatch(name, detail);
    this.#leadership?.post({ type: 'event', name, detail });
  }

  #emitError(e, where, extra = {}) {
    this.#dispatchAll('error', { where, message: String(e && e.message || e), name: e && e.name, ...extra });
  }

  #computeProgress() {
    const d = this.#driver;
    return progressFromSummary(d.core.summary(), { inflight: !!d.inflight, activity: d.activity, storage: this.#storage });
  }

  #setOnline(online) {
    if (this.#role === 'leader' && this.#driver.core) this.#driver.setOnline(online);
    this.#dispatch(online ? 'online' : 'offline', {});
    if (!online) this.#sync.register();
  }

  // ------------------------------------------------------------------------------------------ public API

  /** 'leader' (this tab uploads), 'follower' (another tab does), 'starting' or 'closed'. */
  get role() { return this.#role; }
  get name() { return this.#o.name; }
  /** The raw store (store.js / store-memory.js) this uploader keeps its queue in. */
  get store() { return this.#rawStore; }

  /**
   * { state, uploaded, pending, failed, total, percentage, bytes: {uploaded, total}, parts: {uploaded, total},
   * isOnline, hasSession, currentItemId, authRequired, isLeader, storage: {persisted, quotaExceeded} }
   * (progress.js). state: idle | uploading | retrying | offline | waitingForData | authRequired. In a
   * following tab: the leader's last report.
   */
  getProgress() {
    return this.#progress.get(this.#o.isOnline(), this.#storage);
  }

  /** The queue's items (leader only; followers get []): { id, kind, state, size, uploadedBytes, failures, lastError, result, ... } */
  items() {
    return this.#role === 'leader' && this.#driver.core ? this.#driver.core.items() : [];
  }

  /**
   * Resolves with the progress once nothing is pending: every item (this tab's included, and what it just
   * enqueued) is completed or failed. Check progress.failed to warn about uploads that failed for good.
   * @param {{signal?: AbortSignal}} [options]
   */
  whenIdle(options = {}) {
    const w = this.#progress.wait(options.signal);
    this.ready.then(() => this.#progress.check(), (e) => w.cancel(e));
    return w.promise;
  }

  /** @internal recordings: their writes and events */
  get writer() { return this.#writer; }
  /** @internal */
  dispatchUploaderEvent(name, detail) { this.#dispatchAll(name, detail); }
  /** @internal */
  liveRecordings() { return this.#live; }
  /** @internal */
  get minPartSize() { return this.#o.minPartSize; }
  /** @internal the recordings' storage layout */
  get queueStore() { return this.#store; }

  /**
   * Stores a screenshot (as an ArrayBuffer) and queues it. Accepts a capture result ({ bytes | blob, format,
   * metadata }), bytes, or a Blob. Resolves with the item id once the bytes are stored.
   * @param {object|Uint8Array|ArrayBuffer|Blob} capture
   * @param {{id?: string, metadata?: object, filename?: string, mimeType?: string}} [options]
   */
  async enqueueScreenshot(capture, options = {}) {
    await this.ready;
    this.#checkOpen('enqueueScreenshot');
    if (!this.#o.transport.supports?.screenshot) throw new TypeError(`enqueueScreenshot: the ${this.#o.transport.name} transport does not upload screenshots`);
    const { bytes, mimeType, metadata } = await screenshotBytes(capture, options);
    const id = checkItemId(options.id ?? makeId('shot'), 'enqueueScreenshot');
    const md = metadataJson(metadata, 'enqueueScreenshot');
    if (await this.#store.hasItem(id)) throw new Error(`enqueueScreenshot: an item "${id}" is already stored`);
    const filename = options.filename || `screenshot-${Date.now()}.${extFor(mimeType)}`;
    const s = this.#store;
    await this.#writer.submit([
      // A copy, so later changes to the caller's buffer cannot reach what is uploaded.
      s.screenshotOp(id, { bytes: new Uint8Array(bytes).buffer, mimeType, filename }),
      s.itemInfoOp(id, { id, kind: 'screenshot', createdAt: Date.now(), filename, mimeType }),
      s.eventOp({ type: 'enqueueScreenshot', id, size: bytes.byteLength, metadata: md }),
    ]);
    return id;
  }

  /**
   * Starts a recording upload: a sink for the recorder's bytes (append / write / attachMediaRecorder),
   * whose parts are stored and uploaded while recording goes on; stop() flushes and finalizes.
   * seekable: the finished file on the server is seekable. With a transport that takes parts out of order,
   * the muxer's header patches go into part 0, which is sent last; with one that does not (tus, append
   * only), the patches are dropped and the server makes the file seekable (metadata capturekitFinalize).
   * @param {object} [metadata] init fields (filename, fps, codec, bitrate, resolution, mimeType, session, ...)
   * @param {{id?: string, minPartSize?: number, mimeType?: string, seekable?: boolean}} [options]
   * @returns {Promise<RecordingUpload>}
   */
  async startRecording(metadata = {}, options = {}) {
    await this.ready;
    this.#checkOpen('startRecording');
    if (!this.#o.transport.supports?.video) throw new TypeError(`startRecording: the ${this.#o.transport.name} transport does not upload recordings`);
    const id = checkItemId(options.id ?? makeId('rec'), 'startRecording');
    const md = metadataJson(metadata, 'startRecording');
    if (await this.#store.hasItem(id)) throw new Error(`startRecording: an item "${id}" is already stored`);
    if (options.seekable !== undefined && typeof options.seekable !== 'boolean') throw new TypeError(`startRecording: seekable must be a boolean, got ${typeof options.seekable}`);
    const serverFinalize = !!options.seekable && !this.#o.capabilities.partsOutOfOrder;
    const recMd = serverFinalize ? metadataJson({ ...metadata, capturekitFinalize: 'seekable' }, 'startRecording') : md;
    const rec = new RecordingUpload(this, { id, metadata: recMd, minPartSize: options.minPartSize ?? this.#o.minPartSize, partRules: this.#o.partRules, mimeType: options.mimeType || metadata.mimeType || 'video/webm',
      ...(serverFinalize ? { serverFinalize: true } : options.seekable ? { seekable: true } : {}) });
    this.#live.set(id, rec);
    try {
      await rec.start();
    } catch (e) {
      this.#live.delete(id);
      throw e;
    }
    return rec;
  }

  /** @internal the sink's first write */
  async submitRecordingStart(id, metadata, info, extra = {}) {
    await this.#writer.submit([this.#store.itemInfoOp(id, info), this.#store.eventOp({ type: 'enqueueVideo', id, metadata, ...extra })]);
  }

  /** @internal */
  recordingEnded(id) { this.#live.delete(id); }

  /** @internal */
  holdRecordingLock(id) { return this.#leadership.holdRecordingLock(id); }

  /** Failed items (all, or one) go back to pending with a fresh retry budget (the indicator's retry button). */
  async retryFailed(itemId) {
    await this.ready;
    this.#checkOpen('retryFailed');
    await this.#writer.submit([this.#store.eventOp({ type: 'retryFailed', id: itemId || '' })]);
  }

  /** Cancels an item: out of the queue, its local bytes deleted. */
  async remove(itemId) {
    await this.ready;
    this.#checkOpen('remove');
    if (typeof itemId !== 'string' || !itemId) throw new TypeError('remove: itemId must be a non-empty string');
    await this.#writer.submit([this.#store.eventOp({ type: 'remove', id: itemId })]);
  }

  /** A new token (e.g. after the user logged in again): ends an 'authRequired' pause. */
  async setToken(token) {
    if (typeof token !== 'string') throw new TypeError('setToken: token must be a string');
    this.#token = token;
    await this.ready;
    if (this.#role === 'leader' && this.#driver.core) {
      this.#driver.core.tokenUpdated();
      await this.#driver.persist([]);
      this.#driver.wake();
    } else {
      this.#leadership.post({ type: 'token', token });
    }
  }

  /** The local copy of an item (retain 'keep', or not yet uploaded) as a Blob, or null. */
  async getLocalCopy(itemId) {
    await this.ready;
    return getLocalCopy(this.#store, itemId);
  }

  /** Deletes an uploaded item's local copy (after it was uploaded, when the app asks). */
  async deleteLocalCopy(itemId) {
    await this.ready;
    const it = this.#role === 'leader' && this.#driver.core ? this.#driver.core.item(itemId) : undefined;
    await deleteLocalCopy(this.#store, itemId, it);
  }

  /** navigator.storage.estimate() where it exists, plus whether persistence was granted. */
  async storageEstimate() {
    return storageEstimate(this.#store, this.#storage);
  }

  #checkOpen(what) {
    if (this.#closed) throw new Error(`${what}: the uploader is closed`);
  }

  /**
   * Leads until nothing is pending (or `timeoutMs`), then closes: the service worker's Background Sync
   * run. Resolves true when idle, false when another tab leads or time ran out.
   */
  async runUntilIdle({ timeoutMs = 4 * 60 * 1000 } = {}) {
    await this.ready;
    if (this.#role !== 'leader') return false;
    let timer;
    const idle = await Promise.race([
      this.whenIdle().then(() => true),
      new Promise((r) => { timer = setTimeout(() => r(false), timeoutMs); }),
    ]);
    clearTimeout(timer);
    return idle;
  }

  /**
   * Stops: an upload in flight is aborted (it is pending again for the next leader), the lock goes to the
   * next tab, this tab's unfinished recordings stay stored (the next leader recovers them).
   */
  async close() {
    if (this.#closed) return;
    this.#closed = true;
    for (const rec of this.#live.values()) rec.detach();
    this.#live.clear();
    this.#driver.stop();
    await this.#leadership?.close();
    for (const off of this.#listeners) off();
    this.#listeners = [];
    this.#progress.rejectAll(new Error('the uploader was closed'));
    this.#driver.dispose();
    this.#role = 'closed';
    if (this.#ownStore) this.#rawStore?.close();
  }
}

/** Creates an Uploader (see the class). `await uploader.ready` before reading progress. */
export function createUploader(options) {
  return new Uploader(options);
}
