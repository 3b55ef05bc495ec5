// Uploader: the JS driver around QueueCore (wasm). It asks QueueCore what to do, does it with a transport,
// tells QueueCore what happened and persists the state after every event. Every decision (order,
// backoff, attempts, permanent failure, re-init after a lost session, token refresh) is QueueCore's.
//
//   const up = createUploader({ transport: createRestTransport({ baseUrl }), getToken: () => token });
//   await up.ready;
//   await up.enqueueScreenshot(capture);                 // bytes in IndexedDB before anything is sent
//   const rec = await up.startRecording({ filename: 'talk.webm', fps: 30 });
//   mediaRecorder.ondataavailable = (e) => rec.append(e.data);   // parts upload while recording goes on
//   await rec.stop({ duration });                        // flush + markRecordingFinished -> finalize
//   await up.whenIdle();                                 // seed 004's completion screen
//
// Durability: the app's bytes go into the store (IndexedDB: store.js; Node/tests: store-memory.js) and
// an event into the store's inbox in one transaction. Exactly one uploader per origin and name leads
// (Web Locks): it applies the inbox to QueueCore and persists the state with the inbox entries it
// applied in one transaction (each event applied exactly once), then performs actions. The other tabs
// follow: they write to the inbox and see progress and events through BroadcastChannel. When the
// leader's tab goes away the next tab takes the lock, restores the state, asks the server which parts it
// has, and continues from the first part the server does not have.
import { init as initCore } from '../core.js';
import { QueueCore } from './upload-queue-core.js';
import { sha256Hex, DEFAULT_MIN_PART_SIZE } from './chunk-buffer.js';
import { UploadError } from './transports/http.js';
import { RecordingUpload } from './recording-upload.js';

export const RETAIN_MODES = Object.freeze(['confirmed', 'finalized', 'keep']);
const TERMINAL = new Set(['completed', 'failed']);
const KEY_QUEUE = 'queue';
const KEY_CONFIG = 'config';

function defaultTimeout({ size = 0 } = {}) {
  return 30000 + Math.ceil(size / 32); // 30 s plus the time at 32 KB/s
}

function globalOnline() {
  return typeof navigator === 'object' && navigator && typeof navigator.onLine === 'boolean' ? navigator.onLine : true;
}

function makeId(prefix) {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return `${prefix}-${c.randomUUID()}`;
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

function parseMetadata(s) {
  if (!s) return {};
  try {
    const v = JSON.parse(s);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

function metadataJson(m, what) {
  if (m === undefined || m === null) return '';
  if (typeof m !== 'object' || Array.isArray(m)) throw new TypeError(`${what}: metadata must be a plain object`);
  const s = JSON.stringify(m);
  if (s.length > 64 * 1024) throw new RangeError(`${what}: metadata is ${s.length} bytes as JSON; the limit is 65536`);
  return s;
}

/** An ArrayBuffer holding exactly these bytes (no copy when the view already covers its whole buffer). */
export function exactBuffer(u8) {
  if (u8 instanceof ArrayBuffer) return u8;
  if (u8.byteOffset === 0 && u8.byteLength === u8.buffer.byteLength && u8.buffer instanceof ArrayBuffer) return u8.buffer;
  return new Uint8Array(u8).buffer;
}

function isQuotaError(e) {
  return !!e && (e.name === 'QuotaExceededError' || e.code === 22);
}

function extFor(mime) {
  return { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'video/webm': 'webm' }[mime] || 'bin';
}

class Deferred {
  constructor() {
    this.promise = new Promise((resolve, reject) => { this.resolve = resolve; this.reject = reject; });
  }
}

export class Uploader extends EventTarget {
  #o;
  #store;
  #ownStore;
  #core = null;
  #role = 'starting'; // starting | follower | leader | closed
  #closed = false;
  #wakeup = null;
  #inboxDirty = true;
  #appliedInbox = 0;
  #lastLocalInbox = 0;
  #lastProgress = null;
  #idleWaiters = new Set();
  #inflight = null; // { controller, action }
  #activity = 'idle';
  #channel = null;
  #lockAbort = null;
  #leadDone = null;
  #leadLoaded = new Deferred();
  #token = '';
  #live = new Map(); // itemId -> RecordingUpload (this tab's recordings)
  #storage = { persisted: null, quotaExceeded: false, lastError: '' };
  #listeners = [];
  #pollTimer = null;
  #syncRegistration = null;

  /**
   * @param {object} options
   * @param {object} options.transport       createRestTransport / createTusTransport / createMultipartTransport / combineTransports
   * @param {object} [options.store]         createIdbStore() (the default where IndexedDB exists) or createMemoryStore()
   * @param {string} [options.name]          namespace for the lock, channel and default database ('default')
   * @param {object} [options.queue]         QueueCore options (maxRetries, backoffBaseMs, ...)
   * @param {'confirmed'|'finalized'|'keep'} [options.retain] when local bytes go: a part once the server confirmed
   *   it; the recording once finalized (default); or never (the app calls deleteLocalCopy)
   * @param {number} [options.keepCompleted] completed items kept in the queue for progress (default 100)
   * @param {number} [options.minPartSize]   recording part size (default 5 MiB)
   * @param {number|Function} [options.timeoutMs] per request, or ({size}) => ms (default 30 s + size at 32 KB/s)
   * @param {string} [options.token] Bearer token; or getToken: () => string | Promise<string>
   * @param {Function} [options.getToken]
   * @param {Function} [options.refreshToken] async () => new token, when the server answers 401
   * @param {object|null} [options.locks]    navigator.locks (default) or a MemoryLocks; null: this uploader always leads
   * @param {Function|null} [options.channel] (name) => BroadcastChannel-like; null: none
   * @param {() => boolean} [options.isOnline]
   * @param {EventTarget|null} [options.onlineEvents] where 'online'/'offline' fire (default globalThis)
   * @param {() => number} [options.now]
   * @param {boolean} [options.persistStorage] ask navigator.storage.persist() (default true)
   * @param {object|boolean} [options.backgroundSync] { registration?, persistToken? }: Background Sync finishes
   *   uploads in the service worker (web/upload-sw.js) after the page is closed
   * @param {object} [options.wasm]          options for init() of the wasm core
   * @param {number} [options.pollMs]        how often an idle leader looks at the inbox anyway (default 5000)
   */
  constructor(options = {}) {
    super();
    if (!options || typeof options !== 'object') throw new TypeError('createUploader: options must be an object');
    const t = options.transport;
    if (!t || typeof t.init !== 'function' || typeof t.uploadPart !== 'function' || typeof t.finalize !== 'function' ||
        typeof t.uploadScreenshot !== 'function' || typeof t.listParts !== 'function') {
      throw new TypeError('createUploader: transport must implement init, uploadPart, listParts, finalize and uploadScreenshot (see transports/)');
    }
    const retain = options.retain ?? 'finalized';
    if (!RETAIN_MODES.includes(retain)) throw new RangeError(`createUploader: retain must be one of ${RETAIN_MODES.join(', ')}, got ${JSON.stringify(retain)}`);
    const name = options.name ?? 'default';
    if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new TypeError('createUploader: name must be 1-64 characters [A-Za-z0-9_.-]');
    const minPartSize = options.minPartSize ?? DEFAULT_MIN_PART_SIZE;
    if (!Number.isInteger(minPartSize) || minPartSize < 1 || minPartSize > 2 ** 30) throw new RangeError('createUploader: minPartSize must be an integer in [1, 2^30]');
    const keepCompleted = options.keepCompleted ?? 100;
    if (!Number.isInteger(keepCompleted) || keepCompleted < 0) throw new RangeError('createUploader: keepCompleted must be a non-negative integer');
    if (options.token !== undefined && typeof options.token !== 'string') throw new TypeError('createUploader: token must be a string');
    for (const f of ['getToken', 'refreshToken', 'isOnline', 'now']) {
      if (options[f] !== undefined && typeof options[f] !== 'function') throw new TypeError(`createUploader: ${f} must be a function`);
    }
    const hasLocks = typeof navigator === 'object' && navigator?.locks && typeof navigator.locks.request === 'function';
    this.#o = {
      transport: t,
      name,
      queue: options.queue || {},
      retain,
      keepCompleted,
      minPartSize,
      timeoutMs: options.timeoutMs ?? defaultTimeout,
      getToken: options.getToken,
      refreshToken: options.refreshToken,
      locks: options.locks === undefined ? (hasLocks ? navigator.locks : null) : options.locks,
      channel: options.channel === undefined
        ? (typeof BroadcastChannel === 'function' ? (n) => new BroadcastChannel(n) : null) : options.channel,
      isOnline: options.isOnline || globalOnline,
      onlineEvents: options.onlineEvents === undefined ? (typeof globalThis.addEventListener === 'function' ? globalThis : null) : options.onlineEvents,
      now: options.now || Date.now,
      persistStorage: options.persistStorage ?? true,
      backgroundSync: options.backgroundSync || false,
      wasm: options.wasm || {},
      pollMs: options.pollMs ?? 5000,
      orphanCheckMs: options.orphanCheckMs ?? 3000,
    };
    this.#token = options.token || '';
    if (options.store) {
      this.#store = options.store;
      this.#ownStore = false;
    } else {
      if (typeof indexedDB === 'undefined') throw new TypeError('createUploader: no IndexedDB here; pass store: createMemoryStore()');
      this.#store = null; // opened in #start (store.js needs the `idb` package: a bundler or an import map resolves it)
      this.#ownStore = true;
    }
    this.ready = this.#start();
    this.ready.catch(() => {});
  }

  // ------------------------------------------------------------------------------------------ start

  async #start() {
    await initCore(this.#o.wasm);
    if (!this.#store) this.#store = await openIdbStore({ name: `capturekit-upload-${this.#o.name}` });
    await this.#store.open();
    const ch = this.#o.channel ? this.#o.channel(`capturekit-upload:${this.#o.name}`) : null;
    if (ch) {
      this.#channel = ch;
      ch.onmessage = (e) => this.#onMessage(e.data);
    }
    const target = this.#o.onlineEvents;
    if (target) {
      const on = () => this.#setOnline(true);
      const off = () => this.#setOnline(false);
      target.addEventListener('online', on);
      target.addEventListener('offline', off);
      this.#listeners.push(() => { target.removeEventListener('online', on); target.removeEventListener('offline', off); });
    }
    if (this.#o.persistStorage) this.#requestPersistence();
    if (this.#o.backgroundSync) await this.#setupBackgroundSync();

    const locks = this.#o.locks;
    if (!locks) {
      this.#leadDone = this.#lead();
      await this.#leadLoaded.promise;
      return this;
    }
    this.#lockAbort = new AbortController();
    const lockName = `capturekit-upload:${this.#o.name}`;
    // Lead now if nobody does; otherwise follow and queue for the lock.
    const got = new Deferred();
    this.#leadDone = locks.request(lockName, { ifAvailable: true }, async (lock) => {
      got.resolve(!!lock);
      if (lock) await this.#lead();
    }).catch((e) => { got.resolve(false); this.#emitError(e, 'lock'); });
    if (await got.promise) {
      await this.#leadLoaded.promise;
      return this;
    }
    this.#role = 'follower';
    this.#dispatch('rolechange', { role: 'follower' });
    this.#leadDone = locks.request(lockName, { signal: this.#lockAbort.signal }, async () => {
      if (!this.#closed) await this.#lead();
    }).catch((e) => { if (!this.#closed) this.#emitError(e, 'lock'); });
    // A snapshot from the leader, so getProgress() means something at once.
    const snap = new Promise((resolve) => {
      const onP = () => { this.removeEventListener('progress', onP); resolve(); };
      this.addEventListener('progress', onP);
      setTimeout(() => { this.removeEventListener('progress', onP); resolve(); }, 1000);
    });
    this.#post({ type: 'hello' });
    await snap;
    return this;
  }

  #requestPersistence() {
    const s = typeof navigator === 'object' ? navigator.storage : null;
    if (!s || typeof s.persist !== 'function') return;
    Promise.resolve().then(async () => {
      this.#storage.persisted = (await s.persisted?.()) || (await s.persist());
    }).catch(() => { this.#storage.persisted = false; });
  }

  async #setupBackgroundSync() {
    const bs = this.#o.backgroundSync === true ? {} : this.#o.backgroundSync;
    let reg = bs.registration || null;
    if (!reg && typeof navigator === 'object' && navigator.serviceWorker) {
      reg = await Promise.race([navigator.serviceWorker.ready, new Promise((r) => setTimeout(() => r(null), 3000))]);
    }
    if (!reg || !reg.sync || typeof reg.sync.register !== 'function') return; // no Background Sync here: pages finish uploads
    this.#syncRegistration = reg;
    const config = {
      name: this.#o.name,
      transport: typeof this.#o.transport.describe === 'function' ? this.#o.transport.describe() : null,
      queue: this.#o.queue,
      retain: this.#o.retain,
      keepCompleted: this.#o.keepCompleted,
      minPartSize: this.#o.minPartSize,
      token: bs.persistToken ? await this.#currentToken() : '',
      updatedAt: Date.now(),
    };
    await this.#store.batch([{ type: 'put', store: 'meta', key: KEY_CONFIG, value: config }]);
  }

  #registerSync() {
    const reg = this.#syncRegistration;
    if (!reg) return;
    reg.sync.register(`capturekit-upload:${this.#o.name}`).catch(() => {});
  }

  // ------------------------------------------------------------------------------------------ leading

  async #lead() {
    if (this.#closed) return;
    this.#role = 'leader';
    try {
      const json = await this.#store.get('meta', KEY_QUEUE);
      let core;
      if (json) {
        try {
          core = QueueCore.restore(json, this.#o.queue);
        } catch (e) {
          // Never thrown away: kept aside for a human, and reported.
          await this.#store.batch([{ type: 'put', store: 'meta', key: `${KEY_QUEUE}.corrupt.${Date.now()}`, value: json }]);
          this.#emitError(e, 'restore');
          core = new QueueCore(this.#o.queue);
        }
      } else {
        core = new QueueCore(this.#o.queue);
      }
      this.#core = core;
      core.setOnline(this.#o.isOnline());
      await this.#drainInbox();
      await this.#resync();
      await this.#recoverOrphans();
      await this.#persist([]);
      this.#dispatch('rolechange', { role: 'leader' });
    } catch (e) {
      this.#leadLoaded.reject(e);
      throw e;
    }
    this.#leadLoaded.resolve();
    this.#publish();
    await this.#loop();
  }

  /** Ask the server which parts it holds for every unfinished video with a session. */
  async #resync() {
    for (const it of this.#core.items()) {
      if (it.kind !== 'video' || !it.sessionId || TERMINAL.has(it.state)) continue;
      const item = this.#core.item(it.id);
      const partSizes = item.parts.map((p) => p.size);
      try {
        const list = await this.#o.transport.listParts({ ...(await this.#baseCtx(0)), sessionId: item.sessionId, partSizes, itemId: it.id });
        this.#core.serverHasParts(it.id, [...new Set(list)].filter((i) => i < partSizes.length));
      } catch (e) {
        // The state's own record stands; a session the server lost shows up as sessionExpired on the next part.
        if (!(e instanceof UploadError)) this.#emitError(e, 'resync');
      }
    }
  }

  async #loop() {
    while (!this.#closed) {
      try {
        if (this.#inboxDirty) await this.#drainInbox();
        const now = this.#o.now();
        const a = this.#core.nextAction(now);
        if (a.type === 'none') {
          this.#setActivity(a.reason === 'idle' ? 'idle' : a.reason);
          this.#publish();
          if (a.reason === 'waitingForData') {
            await this.#sleep(this.#o.orphanCheckMs);
            if (!this.#closed) await this.#recoverOrphans();
          } else {
            await this.#sleep(this.#o.pollMs);
            this.#inboxDirty = true;
          }
          continue;
        }
        if (a.type === 'wait') {
          this.#setActivity('retrying');
          this.#publish();
          await this.#sleep(Math.max(1, a.until - now));
          continue;
        }
        if (a.type === 'busy') { // not with this loop (one action at a time); be safe anyway
          await this.#sleep(50);
          continue;
        }
        this.#setActivity('uploading');
        await this.#perform(a);
      } catch (e) {
        if (this.#closed) break;
        this.#emitError(e, 'loop');
        await this.#sleep(1000);
      }
    }
  }

  #sleep(ms) {
    return new Promise((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(done, ms) : null;
      const self = this;
      function done() {
        if (timer) clearTimeout(timer);
        if (self.#wakeup === done) self.#wakeup = null;
        resolve();
      }
      this.#wakeup = done;
    });
  }

  #wake() {
    const w = this.#wakeup;
    if (w) w();
  }

  async #drainInbox() {
    this.#inboxDirty = false;
    const entries = await this.#store.getAll('inbox');
    if (!entries.length) return;
    const ops = [];
    const after = [];
    for (const { key, value: ev } of entries) {
      ops.push({ type: 'delete', store: 'inbox', key });
      try {
        this.#apply(ev, ops, after);
      } catch (e) {
        this.#emitError(e, `inbox ${ev && ev.type}`, { event: ev });
      }
      this.#appliedInbox = Math.max(this.#appliedInbox, key);
    }
    await this.#persist(ops);
    for (const f of after) f();
  }

  #apply(ev, ops, after) {
    const core = this.#core;
    switch (ev.type) {
      case 'enqueueScreenshot':
        core.enqueue({ id: ev.id, kind: 'screenshot', size: ev.size, metadata: ev.metadata || '' });
        after.push(() => this.#dispatchAll('itemqueued', { itemId: ev.id, kind: 'screenshot', size: ev.size }));
        break;
      case 'enqueueVideo':
        core.enqueue({ id: ev.id, kind: 'video', metadata: ev.metadata || '', ...(ev.firstPartLast === true ? { firstPartLast: true } : {}) });
        after.push(() => this.#dispatchAll('itemqueued', { itemId: ev.id, kind: 'video' }));
        break;
      case 'addPart':
        core.addPart(ev.id, ev.index, ev.size, ev.sha256);
        break;
      case 'finish':
        core.markRecordingFinished(ev.id);
        break;
      case 'retryFailed': {
        const n = ev.id ? core.retryFailed(ev.id) : core.retryFailed();
        after.push(() => this.#dispatchAll('retry', { itemId: ev.id || null, count: n }));
        break;
      }
      case 'remove':
        if (core.item(ev.id)) core.remove(ev.id);
        ops.push({ type: 'deletePrefix', store: 'parts', prefix: ev.id }, { type: 'deletePrefix', store: 'tail', prefix: ev.id },
          { type: 'delete', store: 'screenshots', key: ev.id }, { type: 'delete', store: 'items', key: ev.id });
        after.push(() => this.#dispatchAll('itemremoved', { itemId: ev.id, reason: ev.reason || 'removed' }));
        break;
      case 'tokenUpdated':
        core.tokenUpdated();
        break;
      default:
        throw new Error(`unknown inbox event ${JSON.stringify(ev.type)}`);
    }
  }

  /** Persists the queue state together with `ops` (one transaction). */
  async #persist(ops) {
    const all = [{ type: 'put', store: 'meta', key: KEY_QUEUE, value: this.#core.serialize() }, ...ops];
    try {
      await this.#store.batch(all);
      if (this.#storage.quotaExceeded && !ops.some((o) => o.type === 'put' && o.store !== 'meta')) this.#storage.quotaExceeded = false;
    } catch (e) {
      if (isQuotaError(e)) {
        this.#storage.quotaExceeded = true;
        this.#dispatchAll('quotaexceeded', { message: String(e.message), where: 'queue state' });
      }
      throw e;
    }
  }

  async #currentToken() {
    if (this.#o.getToken) {
      const t = await this.#o.getToken();
      return typeof t === 'string' ? t : '';
    }
    return this.#token;
  }

  async #baseCtx(size, signal) {
    return {
      signal,
      token: await this.#currentToken(),
      timeoutMs: typeof this.#o.timeoutMs === 'function' ? this.#o.timeoutMs({ size }) : this.#o.timeoutMs,
      isOnline: this.#o.isOnline,
    };
  }

  async #perform(a) {
    const core = this.#core;
    const controller = new AbortController();
    this.#inflight = { controller, action: a };
    this.#publish();
    const ops = [];
    const after = [];
    let failedWith = null;
    try {
      const info = a.itemId ? (await this.#store.get('items', a.itemId)) || {} : {};
      const size = a.size || 0;
      const ctx = await this.#baseCtx(size, controller.signal);
      const t = this.#o.transport;
      switch (a.type) {
        case 'init': {
          const item = core.item(a.itemId);
          const r = await t.init({ ...ctx, itemId: a.itemId, metadata: parseMetadata(a.metadata), recordingFinished: item.recordingFinished, totalSize: item.size });
          if (!r || typeof r.sessionId !== 'string' || !r.sessionId) throw new UploadError('malformed', 'init: the transport returned no session id');
          core.succeeded(a, r.sessionId);
          if (Array.isArray(r.parts) && r.parts.length) {
            core.serverHasParts(a.itemId, r.parts.filter((i) => i < item.partCount));
          }
          break;
        }
        case 'uploadPart': {
          const rec = await this.#store.get('parts', [a.itemId, a.partIndex]);
          if (!rec) throw new UploadError('client4xx', `part ${a.partIndex} of ${a.itemId} is no longer stored locally (retain: '${this.#o.retain}')`);
          const item = core.item(a.itemId);
          const partSizes = item.parts.map((p) => p.size);
          let offset = 0;
          for (let i = 0; i < a.partIndex; i++) offset += partSizes[i];
          const bytes = new Uint8Array(rec.bytes);
          const base = item.uploadedBytes;
          await t.uploadPart({
            ...ctx, itemId: a.itemId, sessionId: a.sessionId, index: a.partIndex, bytes, sha256: a.sha256, size: bytes.byteLength,
            offset, partSizes, totalSize: item.size, recordingFinished: item.recordingFinished,
            onProgress: (loaded, total) => {
              // The request body has protocol framing around the part: report the share of the part's bytes.
              const n = Math.round(bytes.byteLength * (total > 0 ? Math.min(1, loaded / total) : 1));
              this.#dispatchAll('uploadprogress', { itemId: a.itemId, partIndex: a.partIndex, loaded: n, total: bytes.byteLength, itemBytesUploaded: base + n, itemBytesTotal: item.size });
            },
          });
          core.succeeded(a);
          if (this.#o.retain === 'confirmed') ops.push({ type: 'delete', store: 'parts', key: [a.itemId, a.partIndex] });
          after.push(() => this.#dispatchAll('partuploaded', { itemId: a.itemId, partIndex: a.partIndex, size: bytes.byteLength }));
          break;
        }
        case 'finalize': {
          const item = core.item(a.itemId);
          const r = await t.finalize({
            ...ctx, itemId: a.itemId, sessionId: a.sessionId, partCount: a.partCount, partSizes: item.parts.map((p) => p.size),
            totalSize: item.size, metadata: parseMetadata(a.metadata), finalMetadata: info.finalMetadata || {},
          });
          core.succeeded(a, (r && r.result) || '');
          this.#completed(a.itemId, 'video', (r && r.result) || '', ops, after);
          break;
        }
        case 'uploadScreenshot': {
          const shot = await this.#store.get('screenshots', a.itemId);
          if (!shot) throw new UploadError('client4xx', `the bytes of screenshot ${a.itemId} are no longer stored locally`);
          const maybeSent = !!info.maybeSent;
          const sentAt = info.sentAt || 0;
          // Recorded before the first byte leaves: if the answer is lost (or the tab dies), the next attempt
          // asks the server first (after the last attempt had time to land) instead of storing it twice.
          await this.#store.batch([{ type: 'put', store: 'items', key: a.itemId, value: { ...info, maybeSent: true, sentAt: Date.now() } }]);
          const saveItemData = async (data) => {
            const cur = (await this.#store.get('items', a.itemId)) || info;
            await this.#store.batch([{ type: 'put', store: 'items', key: a.itemId, value: { ...cur, maybeSent: true, transport: { ...(cur.transport || {}), ...data } } }]);
          };
          const r = await t.uploadScreenshot({
            ...ctx, itemId: a.itemId, bytes: new Uint8Array(shot.bytes), filename: shot.filename, mimeType: shot.mimeType,
            metadata: parseMetadata(a.metadata), maybeSent, sentAt, itemData: info.transport || {}, saveItemData,
            onProgress: (loaded, total) => {
              const size = shot.bytes.byteLength;
              const n = Math.round(size * (total > 0 ? Math.min(1, loaded / total) : 1));
              this.#dispatchAll('uploadprogress', { itemId: a.itemId, partIndex: -1, loaded: n, total: size, itemBytesUploaded: n, itemBytesTotal: size });
            },
          });
          core.succeeded(a, (r && r.result) || '');
          this.#completed(a.itemId, 'screenshot', (r && r.result) || '', ops, after);
          break;
        }
        case 'refreshToken': {
          if (!this.#o.refreshToken) {
            throw new UploadError('unauthorized', 'the server rejected the token and there is no refreshToken() to get another');
          }
          const tok = await this.#o.refreshToken();
          if (typeof tok !== 'string' || !tok) throw new UploadError('unauthorized', 'refreshToken() gave no token');
          this.#token = tok;
          core.succeeded(a);
          break;
        }
        default:
          throw new Error(`capturekit: unknown action ${a.type}`);
      }
    } catch (e) {
      const err = e instanceof UploadError ? e
        : controller.signal.aborted ? new UploadError('aborted', String(e && e.message || e), { cause: e })
          : new UploadError('malformed', `unexpected error: ${e && e.message || e}`, { cause: e });
      if (!(e instanceof UploadError) && !controller.signal.aborted) this.#emitError(e, a.type);
      failedWith = err;
      const before = a.itemId ? core.item(a.itemId)?.state : null;
      core.failed(a, err.kind, { now: this.#o.now(), retryAfterMs: Math.max(0, Math.round(err.retryAfterMs || 0)), message: String(err.message).slice(0, 1000) });
      if (Array.isArray(err.serverParts) && a.itemId) {
        const it = core.item(a.itemId);
        if (it && it.kind === 'video' && it.sessionId) {
          try { core.serverHasParts(a.itemId, err.serverParts.filter((i) => i < it.partCount)); } catch (x) { this.#emitError(x, 'serverHasParts'); }
        }
      }
      const it = a.itemId ? core.item(a.itemId) : null;
      const detail = { itemId: a.itemId || null, action: a.type, partIndex: a.partIndex ?? -1, kind: err.kind, status: err.status, message: err.message, failures: it ? it.failures : 0 };
      after.push(() => this.#dispatchAll('uploaderror', detail));
      if (it && it.state === 'failed' && before !== 'failed') after.push(() => this.#dispatchAll('itemfailed', { ...detail, state: 'failed' }));
      if (a.type === 'refreshToken' && core.summary().authRequired) after.push(() => this.#dispatchAll('authrequired', { message: err.message }));
    } finally {
      this.#inflight = null;
    }
    try {
      await this.#persist(ops);
    } catch (e) {
      this.#emitError(e, 'persist');
    }
    for (const f of after) f();
    this.#publish();
    if (failedWith && failedWith.kind === 'offline') this.#registerSync();
  }

  #completed(itemId, kind, result, ops, after) {
    if (this.#o.retain !== 'keep') {
      ops.push({ type: 'deletePrefix', store: 'parts', prefix: itemId }, { type: 'deletePrefix', store: 'tail', prefix: itemId },
        { type: 'delete', store: 'screenshots', key: itemId }, { type: 'delete', store: 'items', key: itemId });
    }
    let parsed = null;
    try { parsed = result ? JSON.parse(result) : null; } catch { parsed = null; }
    after.push(() => this.#dispatchAll('itemcompleted', { itemId, kind, result: parsed ?? result }));
    // Completed items beyond keepCompleted leave the queue state (their local copy follows `retain`).
    const done = this.#core.items().filter((i) => i.state === 'completed');
    const excess = done.length - this.#o.keepCompleted;
    for (let i = 0; i < excess; i++) this.#core.remove(done[i].id);
  }

  // ------------------------------------------------------------------------------------------ orphans

  #recLockName(id) {
    return `capturekit-rec:${this.#o.name}:${id}`;
  }

  /** Holds the recording lock of `id` until the returned release() is called (no-op without locks). */
  async holdRecordingLock(id) {
    const locks = this.#o.locks;
    if (!locks) return () => {};
    const held = new Deferred();
    const release = new Deferred();
    locks.request(this.#recLockName(id), async () => {
      held.resolve();
      await release.promise;
    }).catch((e) => held.reject(e));
    await held.promise;
    return () => release.resolve();
  }

  // Unfinished recordings whose recorder is gone (its tab closed or crashed): the bytes it stored
  // (parts, plus the tail not yet a part) become the recording, which is then finished.
  async #recoverOrphans() {
    const unfinished = this.#core.items().filter((i) => i.kind === 'video' && !i.recordingFinished && !TERMINAL.has(i.state));
    let changed = false;
    for (const it of unfinished) {
      if (this.#live.has(it.id)) continue;
      const locks = this.#o.locks;
      if (locks) {
        await locks.request(this.#recLockName(it.id), { ifAvailable: true }, async (lock) => {
          if (lock) changed = (await this.#recover(it.id)) || changed;
        });
      } else {
        changed = (await this.#recover(it.id)) || changed;
      }
    }
    if (changed) await this.#drainInbox();
  }

  async #recover(id) {
    const item = this.#core.item(id);
    if (!item || item.recordingFinished) return false;
    // Parts (and their addPart events) are written in one transaction, so the inbox may hold a few more.
    await this.#drainInbox();
    const fresh = this.#core.item(id);
    if (!fresh || fresh.recordingFinished) return false;
    if (fresh.firstPartLast) return this.#recoverSeekable(id, fresh);
    const partBytes = fresh.size;
    const tail = await this.#store.getAll('tail', { prefix: id });
    const pieces = [];
    let n = 0;
    for (const { value } of tail) {
      const start = value.start;
      const end = start + value.bytes.byteLength;
      if (end <= partBytes + n) continue;
      const from = Math.max(0, partBytes + n - start);
      const u8 = new Uint8Array(value.bytes, from);
      pieces.push(u8);
      n += u8.byteLength;
    }
    const ops = [{ type: 'deletePrefix', store: 'tail', prefix: id }];
    if (n > 0) {
      const bytes = new Uint8Array(n);
      let o = 0;
      for (const p of pieces) { bytes.set(p, o); o += p.byteLength; }
      const sha256 = sha256Hex(bytes);
      ops.push({ type: 'put', store: 'parts', key: [id, fresh.partCount], value: { bytes: bytes.buffer, sha256, size: n } },
        { type: 'add', store: 'inbox', value: { type: 'addPart', id, index: fresh.partCount, size: n, sha256 } });
    }
    if (n > 0 || fresh.partCount > 0) {
      ops.push({ type: 'add', store: 'inbox', value: { type: 'finish', id } });
    } else {
      ops.push({ type: 'add', store: 'inbox', value: { type: 'remove', id, reason: 'empty recording (its recorder went away before any byte was stored)' } });
    }
    await this.#store.batch(ops);
    this.#inboxDirty = true;
    this.#dispatchAll('recordingrecovered', { itemId: id, bytes: partBytes + n, parts: fresh.partCount + (n > 0 ? 1 : 0) });
    return true;
  }

  // A seekable recording (part 0 held back) whose recorder went away: part 0 and the bytes after the stored
  // parts 1..k come from 'tail'. The header was never patched, so the file plays as a live recording
  // (no duration, no cues), like a non-seekable one.
  async #recoverSeekable(id, fresh) {
    const info = (await this.#store.get('items', id)) || {};
    const p0 = info.minPartSize;
    const tail = await this.#store.getAll('tail', { prefix: id });
    const slice = (from, to) => {
      const pieces = [];
      let n = 0;
      for (const { value } of tail) {
        const start = value.start;
        const end = start + value.bytes.byteLength;
        const a = Math.max(from, start, from + n);
        const b = Math.min(to, end);
        if (b <= a || a !== from + n) continue;
        pieces.push(new Uint8Array(value.bytes, a - start, b - a));
        n += b - a;
      }
      const out = new Uint8Array(n);
      let o = 0;
      for (const p of pieces) { out.set(p, o); o += p.byteLength; }
      return out;
    };
    const part0 = typeof p0 === 'number' && p0 > 0 ? slice(0, p0) : new Uint8Array(0);
    const rest = part0.byteLength === p0 ? slice(p0 + fresh.size, Infinity) : new Uint8Array(0);
    const ops = [{ type: 'deletePrefix', store: 'tail', prefix: id }];
    if (part0.byteLength === 0) {
      ops.push({ type: 'add', store: 'inbox', value: { type: 'remove', id, reason: 'empty recording (its recorder went away before any byte was stored)' } });
    } else {
      if (rest.byteLength > 0) {
        const sha256 = sha256Hex(rest);
        ops.push({ type: 'put', store: 'parts', key: [id, fresh.partCount], value: { bytes: rest.buffer, sha256, size: rest.byteLength } },
          { type: 'add', store: 'inbox', value: { type: 'addPart', id, index: fresh.partCount, size: rest.byteLength, sha256 } });
      }
      const sha256 = sha256Hex(part0);
      ops.push({ type: 'put', store: 'parts', key: [id, 0], value: { bytes: part0.buffer, sha256, size: part0.byteLength } },
        { type: 'add', store: 'inbox', value: { type: 'addPart', id, index: 0, size: part0.byteLength, sha256 } },
        { type: 'add', store: 'inbox', value: { type: 'finish', id } });
    }
    await this.#store.batch(ops);
    this.#inboxDirty = true;
    const parts = part0.byteLength ? fresh.partCount + (rest.byteLength > 0 ? 1 : 0) : 0;
    this.#dispatchAll('recordingrecovered', { itemId: id, bytes: part0.byteLength + fresh.size + rest.byteLength, parts });
    return true;
  }

  // ------------------------------------------------------------------------------------------ messages

  #post(msg) {
    if (!this.#channel) return;
    try { this.#channel.postMessage(msg); } catch { /* closed */ }
  }

  #onMessage(m) {
    if (!m || typeof m !== 'object' || this.#closed) return;
    switch (m.type) {
      case 'inbox':
        if (this.#role === 'leader') { this.#inboxDirty = true; this.#wake(); }
        break;
      case 'hello':
        if (this.#role === 'leader') this.#publish();
        break;
      case 'progress':
        if (this.#role !== 'leader') {
          this.#lastProgress = { ...m.progress, isLeader: false };
          this.#appliedInbox = Math.max(this.#appliedInbox, m.appliedInbox || 0);
          this.dispatchEvent(Object.assign(new Event('progress'), { detail: this.#lastProgress }));
          this.#checkIdle();
        }
        break;
      case 'event':
        if (this.#role !== 'leader') this.#dispatch(m.name, m.detail);
        break;
      case 'token':
        if (typeof m.token === 'string') this.#token = m.token;
        if (this.#role === 'leader' && this.#core) { this.#core.tokenUpdated(); this.#wake(); }
        break;
      case 'online':
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
    this.#post({ type: 'event', name, detail });
  }

  #emitError(e, where, extra = {}) {
    this.#dispatchAll('error', { where, message: String(e && e.message || e), name: e && e.name, ...extra });
  }

  #setActivity(a) {
    this.#activity = a;
  }

  #computeProgress() {
    const s = this.#core.summary();
    const pending = s.pending + s.initializing + s.uploading + s.finalizing;
    let state = this.#inflight ? 'uploading' : pending === 0 ? 'idle' : this.#activity === 'idle' ? 'uploading' : this.#activity;
    if (!s.isOnline) state = 'offline';
    else if (s.authRequired) state = 'authRequired';
    return {
      state,
      uploaded: s.completed,
      pending,
      failed: s.failed,
      total: s.total,
      completed: s.completed,
      uploading: this.#inflight ? 1 : 0,
      percentage: s.percentage,
      bytes: { uploaded: s.bytesUploaded, total: s.bytesTotal },
      bytesUploaded: s.bytesUploaded,
      bytesTotal: s.bytesTotal,
      parts: { uploaded: s.partsConfirmed, total: s.partsTotal },
      isOnline: s.isOnline,
      hasSession: s.hasSession,
      currentItemId: s.currentItemId,
      nextRetryAt: s.nextRetryAt,
      authRequired: s.authRequired,
      isLeader: true,
      storage: { ...this.#storage },
    };
  }

  #publish() {
    if (this.#role !== 'leader' || !this.#core || this.#closed) return;
    const p = this.#computeProgress();
    this.#lastProgress = p;
    this.dispatchEvent(Object.assign(new Event('progress'), { detail: p }));
    this.#post({ type: 'progress', progress: p, appliedInbox: this.#appliedInbox });
    this.#checkIdle();
  }

  #setOnline(online) {
    if (this.#role === 'leader' && this.#core) {
      this.#core.setOnline(online);
      if (!online && this.#inflight) this.#inflight.controller.abort();
      this.#persist([]).catch((e) => this.#emitError(e, 'persist'));
      this.#publish();
      this.#wake();
    }
    this.#dispatch(online ? 'online' : 'offline', {});
    if (!online) this.#registerSync();
  }

  // ------------------------------------------------------------------------------------------ public API

  /** 'leader' (this tab uploads), 'follower' (another tab does), 'starting' or 'closed'. */
  get role() { return this.#role; }
  get name() { return this.#o.name; }
  get store() { return this.#store; }

  /**
   * Seed 001's getProgress() (plus seed 004's summary): { state, uploaded, pending, failed, total, percentage,
   * bytes: {uploaded, total}, parts: {uploaded, total}, isOnline, hasSession, currentItemId, authRequired,
   * isLeader, storage: {persisted, quotaExceeded} }. state: idle | uploading | retrying | offline |
   * waitingForData | authRequired. In a following tab: the leader's last report.
   */
  getProgress() {
    if (this.#role === 'leader' && this.#core && !this.#closed) return this.#computeProgress();
    return this.#lastProgress ? { ...this.#lastProgress, isLeader: false } : {
      state: 'idle', uploaded: 0, pending: 0, failed: 0, total: 0, completed: 0, uploading: 0, percentage: 0,
      bytes: { uploaded: 0, total: 0 }, bytesUploaded: 0, bytesTotal: 0, parts: { uploaded: 0, total: 0 },
      isOnline: this.#o.isOnline(), hasSession: false, currentItemId: '', nextRetryAt: 0, authRequired: false,
      isLeader: false, storage: { ...this.#storage },
    };
  }

  /** The queue's items (leader only; followers get []): { id, kind, state, size, uploadedBytes, failures, lastError, result, ... } */
  items() {
    return this.#role === 'leader' && this.#core ? this.#core.items() : [];
  }

  /**
   * Resolves with the progress once nothing is pending: every item (this tab's included, and what it just
   * enqueued) is completed or failed. Check progress.failed for seed 004's "N failed" warning.
   * @param {{signal?: AbortSignal}} [options]
   */
  whenIdle(options = {}) {
    const d = new Deferred();
    const w = { d, minInbox: this.#lastLocalInbox };
    this.#idleWaiters.add(w);
    if (options.signal) {
      options.signal.addEventListener('abort', () => {
        if (this.#idleWaiters.delete(w)) d.reject(options.signal.reason ?? new DOMException('aborted', 'AbortError'));
      }, { once: true });
    }
    this.ready.then(() => this.#checkIdle(), (e) => { this.#idleWaiters.delete(w); d.reject(e); });
    return d.promise;
  }

  #checkIdle() {
    if (!this.#idleWaiters.size) return;
    const p = this.getProgress();
    if (this.#role === 'leader' && (this.#inboxDirty || this.#inflight)) return;
    if (p.pending !== 0 || !this.#lastProgress) return;
    for (const w of [...this.#idleWaiters]) {
      if (this.#appliedInbox >= w.minInbox) {
        this.#idleWaiters.delete(w);
        w.d.resolve(p);
      }
    }
  }

  async #submit(ops) {
    let keys;
    try {
      keys = await this.#store.batch(ops);
    } catch (e) {
      if (isQuotaError(e)) {
        this.#storage.quotaExceeded = true;
        this.#storage.lastError = String(e.message);
        this.#dispatchAll('quotaexceeded', { message: String(e.message), where: 'enqueue' });
      }
      throw e;
    }
    this.notifyInbox(keys);
    return keys;
  }

  /** @internal the recording sink and the enqueue calls: new inbox entries were written. */
  notifyInbox(keys) {
    if (keys && keys.length) this.#lastLocalInbox = Math.max(this.#lastLocalInbox, ...keys);
    if (this.#role === 'leader') {
      this.#inboxDirty = true;
      this.#wake();
    } else {
      this.#post({ type: 'inbox' });
    }
    this.#registerSync();
  }

  /** @internal */
  reportQuota(detail) {
    this.#storage.quotaExceeded = true;
    this.#storage.lastError = detail.message;
    this.#dispatchAll('quotaexceeded', detail);
  }

  /** @internal */
  reportStored() {
    if (this.#storage.quotaExceeded) {
      this.#storage.quotaExceeded = false;
      this.#dispatchAll('storagerecovered', {});
    }
  }

  /** @internal */
  dispatchUploaderEvent(name, detail) {
    this.#dispatchAll(name, detail);
  }

  /** @internal */
  liveRecordings() { return this.#live; }

  /** @internal */
  get minPartSize() { return this.#o.minPartSize; }

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
    let bytes;
    let mimeType = options.mimeType;
    let metadata = options.metadata;
    const isBlob = typeof Blob === 'function' && capture instanceof Blob;
    if (isBlob) {
      bytes = new Uint8Array(await capture.arrayBuffer());
      mimeType = mimeType || capture.type;
    } else if (capture instanceof ArrayBuffer || ArrayBuffer.isView(capture)) {
      bytes = capture instanceof ArrayBuffer ? new Uint8Array(capture) : new Uint8Array(capture.buffer, capture.byteOffset, capture.byteLength);
    } else if (capture && typeof capture === 'object' && (capture.bytes || capture.blob)) {
      bytes = capture.bytes ? new Uint8Array(capture.bytes.buffer, capture.bytes.byteOffset, capture.bytes.byteLength)
        : new Uint8Array(await capture.blob.arrayBuffer());
      mimeType = mimeType || capture.format || capture.blob?.type;
      if (metadata === undefined && capture.metadata && typeof capture.metadata === 'object') metadata = capture.metadata;
    } else {
      throw new TypeError('enqueueScreenshot: capture must be a capture result ({ bytes, format, metadata }), a Uint8Array, an ArrayBuffer or a Blob');
    }
    if (bytes.byteLength === 0) throw new RangeError('enqueueScreenshot: the screenshot is empty');
    mimeType = mimeType || 'image/png';
    const id = options.id ?? makeId('shot');
    if (typeof id !== 'string' || !id || id.length > 200) throw new TypeError('enqueueScreenshot: id must be a non-empty string of at most 200 characters');
    const md = metadataJson(metadata, 'enqueueScreenshot');
    if (await this.#store.get('items', id)) throw new Error(`enqueueScreenshot: an item "${id}" is already stored`);
    const filename = options.filename || `screenshot-${Date.now()}.${extFor(mimeType)}`;
    // A copy, so later changes to the caller's buffer cannot reach what is uploaded.
    const buffer = new Uint8Array(bytes).buffer;
    await this.#submit([
      { type: 'put', store: 'screenshots', key: id, value: { bytes: buffer, mimeType, filename } },
      { type: 'put', store: 'items', key: id, value: { id, kind: 'screenshot', createdAt: Date.now(), filename, mimeType } },
      { type: 'add', store: 'inbox', value: { type: 'enqueueScreenshot', id, size: bytes.byteLength, metadata: md } },
    ]);
    return id;
  }

  /**
   * Starts a recording upload: a sink for the recorder's bytes (append / write / attachMediaRecorder),
   * whose parts are stored and uploaded while recording goes on; stop() flushes and finalizes.
   * @param {object} [metadata] init fields (filename, fps, codec, bitrate, resolution, mimeType, session, ...)
   * @param {{id?: string, minPartSize?: number, mimeType?: string}} [options]
   * @returns {Promise<RecordingUpload>}
   */
  async startRecording(metadata = {}, options = {}) {
    await this.ready;
    this.#checkOpen('startRecording');
    if (!this.#o.transport.supports?.video) throw new TypeError(`startRecording: the ${this.#o.transport.name} transport does not upload recordings`);
    const id = options.id ?? makeId('rec');
    if (typeof id !== 'string' || !id || id.length > 200) throw new TypeError('startRecording: id must be a non-empty string of at most 200 characters');
    const md = metadataJson(metadata, 'startRecording');
    if (await this.#store.get('items', id)) throw new Error(`startRecording: an item "${id}" is already stored`);
    if (options.seekable !== undefined && typeof options.seekable !== 'boolean') throw new TypeError(`startRecording: seekable must be a boolean, got ${typeof options.seekable}`);
    // tus is append-only, so part 0 cannot be sent last: the header patches are dropped and the server
    // makes the finished file seekable (metadata capturekitFinalize: 'seekable'; examples/server does).
    const serverFinalize = !!options.seekable && /(^|\+)tus$/.test(String(this.#o.transport.name).split('+')[0]);
    const recMd = serverFinalize ? metadataJson({ ...metadata, capturekitFinalize: 'seekable' }, 'startRecording') : md;
    const rec = new RecordingUpload(this, { id, metadata: recMd, minPartSize: options.minPartSize ?? this.#o.minPartSize, mimeType: options.mimeType || metadata.mimeType || 'video/webm',
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
    await this.#submit([
      { type: 'put', store: 'items', key: id, value: info },
      { type: 'add', store: 'inbox', value: { type: 'enqueueVideo', id, metadata, ...extra } },
    ]);
  }

  /** @internal */
  recordingEnded(id) {
    this.#live.delete(id);
  }

  /** Failed items (all, or one) go back to pending with a fresh retry budget (the indicator's retry button). */
  async retryFailed(itemId) {
    await this.ready;
    this.#checkOpen('retryFailed');
    await this.#submit([{ type: 'add', store: 'inbox', value: { type: 'retryFailed', id: itemId || '' } }]);
  }

  /** Cancels an item: out of the queue, its local bytes deleted. */
  async remove(itemId) {
    await this.ready;
    this.#checkOpen('remove');
    if (typeof itemId !== 'string' || !itemId) throw new TypeError('remove: itemId must be a non-empty string');
    await this.#submit([{ type: 'add', store: 'inbox', value: { type: 'remove', id: itemId } }]);
  }

  /** A new token (e.g. after the user logged in again): ends an 'authRequired' pause. */
  async setToken(token) {
    if (typeof token !== 'string') throw new TypeError('setToken: token must be a string');
    this.#token = token;
    await this.ready;
    if (this.#role === 'leader' && this.#core) {
      this.#core.tokenUpdated();
      await this.#persist([]);
      this.#wake();
    } else {
      this.#post({ type: 'token', token });
    }
  }

  /** The local copy of an item (retain 'keep', or not yet uploaded) as a Blob, or null. */
  async getLocalCopy(itemId) {
    await this.ready;
    const info = await this.#store.get('items', itemId);
    const shot = await this.#store.get('screenshots', itemId);
    if (shot) return new Blob([shot.bytes], { type: shot.mimeType });
    const parts = await this.#store.getAll('parts', { prefix: itemId });
    if (!parts.length) return null;
    const list = parts.map((p) => p.value.bytes);
    for (let i = 0; i < parts.length; i++) if (parts[i].key[1] !== i) return null; // some were deleted (retain 'confirmed')
    return new Blob(list, { type: info?.mimeType || 'video/webm' });
  }

  /** Deletes an uploaded item's local copy (seed 004: after finalize, when the app asks). */
  async deleteLocalCopy(itemId) {
    await this.ready;
    const it = this.#role === 'leader' && this.#core ? this.#core.item(itemId) : undefined;
    if (it && it.state !== 'completed') throw new Error(`deleteLocalCopy: ${itemId} is ${it.state}, not uploaded yet (remove() cancels it)`);
    await this.#store.batch([
      { type: 'deletePrefix', store: 'parts', prefix: itemId }, { type: 'deletePrefix', store: 'tail', prefix: itemId },
      { type: 'delete', store: 'screenshots', key: itemId }, { type: 'delete', store: 'items', key: itemId },
    ]);
  }

  /** navigator.storage.estimate() where it exists, plus whether persistence was granted. */
  async storageEstimate() {
    const u = await this.#store.usage();
    return { ...u, persisted: this.#storage.persisted, quotaExceeded: this.#storage.quotaExceeded };
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
    if (this.#inflight) this.#inflight.controller.abort();
    this.#wake();
    this.#lockAbort?.abort();
    clearTimeout(this.#pollTimer);
    try { await this.#leadDone; } catch { /* reported already */ }
    for (const off of this.#listeners) off();
    this.#listeners = [];
    if (this.#channel) { this.#channel.onmessage = null; this.#channel.close(); }
    for (const w of this.#idleWaiters) w.d.reject(new Error('the uploader was closed'));
    this.#idleWaiters.clear();
    this.#core?.dispose();
    this.#core = null;
    this.#role = 'closed';
    if (this.#ownStore) this.#store?.close();
  }
}

/**
 * The IndexedDB store (store.js, on the `idb` package). Loaded on demand so that importing capturekit
 * does not require `idb` to resolve in pages that never upload; with a bundler it just works, in a plain
 * page map it: <script type="importmap">{"imports": {"idb": "/node_modules/idb/build/index.js"}}</script>.
 * @param {{name?: string}} [options]
 */
export async function openIdbStore(options) {
  const { createIdbStore } = await import('./store.js');
  const store = createIdbStore(options);
  await store.open();
  return store;
}

/** Creates an Uploader (see the class). `await uploader.ready` before reading progress. */
export function createUploader(options) {
  return new Uploader(options);
}
