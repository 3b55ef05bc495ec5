// RecordingJournal: a crash-safe copy of a recording while it is made. Every range the recorder emits
// (ondata(bytes, offset)) is stored, with a CRC-32 and the journal's state, in one transaction, and only
// then passed on (to the app's ondata, a RecordingUpload, ...). If the tab crashes, is killed or reloaded
// before stop(), recoverRecordings() (recovery.js) finds the journal on the next page load and turns the
// stored bytes into a valid, seekable WebM.
//
//   const rec = await createJournaledRecorder(canvas, { backend: 'wasm', fps: 30 }, { metadata: { filename: 'a.webm' } });
//   ...  const result = await rec.stop();   // the journal is marked complete and deleted (keep: true keeps it)
//
// or by hand: const j = await RecordingJournal.open(); createRecorder(src, { ondata: j.ondata(appOndata) });
// j.attach(recorder); ... await recorder.stop(); await j.complete();
//
// Storage: IndexedDB (createIdbJournalStore, database "capturekit-journal", no dependencies) where it
// exists, else an in-memory store (createMemoryJournalStore: Node, tests). A store is an object with
// open(), append(id, seq, range, state), putState(state), states(), ranges(id), remove(id).
// The mediarecorder backend with repair: true emits nothing before stop; journal it with repair: false.
import { createRecorder } from './recorder.js';
import { toBytes } from '../validate.js';

const DB_VERSION = 1;
export const JOURNAL_DB_NAME = 'capturekit-journal';

// ---- CRC-32 (IEEE) ----
let table = null;
export function crc32(bytes) {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xFFFFFFFF;
  for (let i = 0; i < bytes.length; i++) c = table[(c ^ bytes[i]) & 0xFF] ^ (c >>> 8);
  return (c ^ 0xFFFFFFFF) >>> 0;
}

function reqDone(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}
function txDone(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('RecordingJournal: the IndexedDB transaction was aborted'));
  });
}

/** The IndexedDB journal store (browser). Stores: "journals" (state by id), "ranges" (key [id, seq]). */
export function createIdbJournalStore({ name = JOURNAL_DB_NAME, indexedDB: idb = globalThis.indexedDB } = {}) {
  if (!idb) throw new TypeError('createIdbJournalStore: IndexedDB is not available here (use createMemoryJournalStore)');
  let db = null;
  const store = {
    kind: 'indexeddb',
    async open() {
      if (db) return store;
      const req = idb.open(name, DB_VERSION);
      req.onupgradeneeded = () => {
        const d = req.result;
        if (!d.objectStoreNames.contains('journals')) d.createObjectStore('journals', { keyPath: 'id' });
        if (!d.objectStoreNames.contains('ranges')) d.createObjectStore('ranges');
      };
      db = await reqDone(req);
      db.onversionchange = () => { db.close(); db = null; };
      return store;
    },
    async append(id, seq, range, state) {
      const tx = db.transaction(['journals', 'ranges'], 'readwrite');
      tx.objectStore('ranges').put(range, [id, seq]);
      tx.objectStore('journals').put(state);
      await txDone(tx);
    },
    async putState(state) {
      const tx = db.transaction('journals', 'readwrite');
      tx.objectStore('journals').put(state);
      await txDone(tx);
    },
    async states() {
      return reqDone(db.transaction('journals').objectStore('journals').getAll());
    },
    /** Calls fn(seq, range) for each stored range in seq order (one at a time: memory stays flat). */
    async ranges(id, fn) {
      const tx = db.transaction('ranges');
      const keys = await reqDone(tx.objectStore('ranges').getAllKeys(IDBKeyRange.bound([id, 0], [id, Infinity])));
      for (const k of keys) {
        const r = await reqDone(db.transaction('ranges').objectStore('ranges').get(k));
        await fn(k[1], r);
      }
    },
    async remove(id) {
      const tx = db.transaction(['journals', 'ranges'], 'readwrite');
      tx.objectStore('ranges').delete(IDBKeyRange.bound([id, 0], [id, Infinity]));
      tx.objectStore('journals').delete(id);
      await txDone(tx);
    },
    close() { db?.close(); db = null; },
  };
  return store;
}

const copyBuffer = (b) => (b instanceof ArrayBuffer ? b.slice(0) : b);

/** An in-memory journal store (Node, tests): survives as long as the object does. */
export function createMemoryJournalStore() {
  const journals = new Map();
  const ranges = new Map(); // id -> Map(seq -> range)
  return {
    kind: 'memory',
    journals,
    rangeMap: ranges,
    async open() { return this; },
    async append(id, seq, range, state) {
      if (!ranges.has(id)) ranges.set(id, new Map());
      ranges.get(id).set(seq, { ...range, bytes: copyBuffer(range.bytes) });
      journals.set(id, structuredClone(state));
    },
    async putState(state) { journals.set(state.id, structuredClone(state)); },
    async states() { return [...journals.values()].map((s) => structuredClone(s)); },
    async ranges(id, fn) {
      const m = ranges.get(id);
      if (!m) return;
      for (const seq of [...m.keys()].sort((a, b) => a - b)) await fn(seq, m.get(seq));
    },
    async remove(id) { journals.delete(id); ranges.delete(id); },
    close() {},
  };
}

let defaultStore = null;
/** The default store: IndexedDB where it exists, else one in-memory store per process. */
export function defaultJournalStore() {
  if (!defaultStore) defaultStore = typeof indexedDB === 'object' && indexedDB ? createIdbJournalStore() : createMemoryJournalStore();
  return defaultStore;
}

/** Journal ids being written in this page (recovery leaves them alone). */
export const liveJournals = new Set();
const LOCK_PREFIX = 'capturekit-journal:';
export const journalLockName = (id) => LOCK_PREFIX + id;

function makeId() {
  const r = typeof crypto === 'object' && crypto.randomUUID ? crypto.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  return `journal-${r}`;
}

const asBytes = (b) => toBytes(b, 'RecordingJournal: ondata bytes', 'a Uint8Array or an ArrayBuffer');

export class RecordingJournal {
  #store;
  #state;
  #seq = 0;
  #recorder = null;
  #releaseLock = () => {};
  #closed = false;

  /**
   * Opens a new journal (its state is stored at once, so even a recording that dies before its first
   * byte is reported by recovery).
   * @param {{store?: object, id?: string, metadata?: object}} [options]
   */
  static async open(options = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('RecordingJournal.open: options must be an object');
    const { store = defaultJournalStore(), id = makeId(), metadata = {} } = options;
    if (typeof id !== 'string' || !id || id.length > 200) throw new TypeError('RecordingJournal.open: id must be a non-empty string of at most 200 characters');
    if (metadata === null || typeof metadata !== 'object') throw new TypeError('RecordingJournal.open: metadata must be a plain object');
    if (!store || typeof store.append !== 'function' || typeof store.ranges !== 'function') throw new TypeError('RecordingJournal.open: store must be a journal store (createIdbJournalStore / createMemoryJournalStore)');
    await store.open();
    const j = new RecordingJournal(store, id, structuredClone(metadata));
    await j.#lock();
    await store.putState(j.#state);
    return j;
  }

  constructor(store, id, metadata) {
    this.#store = store;
    const now = Date.now();
    this.#state = { id, version: 1, createdAt: now, updatedAt: now, complete: false, metadata, size: 0, ranges: 0, frames: 0, poses: 0, recorder: null };
    liveJournals.add(id);
  }

  async #lock() {
    const locks = typeof navigator === 'object' && navigator && navigator.locks;
    if (!locks) return;
    await new Promise((resolve, reject) => {
      locks.request(journalLockName(this.id), () => {
        resolve();
        return new Promise((release) => { this.#releaseLock = release; });
      }).catch(reject);
    });
  }

  get id() { return this.#state.id; }
  /** Bytes of the file journaled so far (the end of the furthest range). */
  get size() { return this.#state.size; }
  get rangeCount() { return this.#seq; }
  get state() { return structuredClone(this.#state); }

  /** The recorder whose frame count, size and codec go into the state with every range. */
  attach(recorder) {
    this.#recorder = recorder;
    return this;
  }

  /**
   * Stores one range (and the state) and resolves when it is stored. Ranges must come in the recorder's
   * order: offset == size appends, a smaller offset patches (the header written at finalize).
   */
  async write(bytes, offset) {
    if (this.#closed) throw new Error(`RecordingJournal.write: the journal ${this.id} is closed`);
    const u8 = asBytes(bytes);
    if (!Number.isInteger(offset) || offset < 0 || offset > this.#state.size) throw new RangeError(`RecordingJournal.write: offset ${offset} leaves a gap after ${this.#state.size} bytes`);
    const seq = this.#seq++;
    const s = this.#state;
    s.size = Math.max(s.size, offset + u8.byteLength);
    s.ranges = this.#seq;
    s.updatedAt = Date.now();
    const r = this.#recorder;
    if (r) {
      s.frames = r.frames ?? s.frames;
      s.poses = r._intake ? r._intake.meta.length : s.poses;
      s.recorder = { backend: r.backend, codec: r.codec, mimeType: r.mimeType, width: r.width, height: r.height, fps: r.fps };
    }
    const copy = new Uint8Array(u8).buffer; // our own buffer: the caller may reuse theirs
    await this.#store.append(this.id, seq, { offset, length: u8.byteLength, crc: crc32(u8), bytes: copy }, s);
  }

  /** A recorder ondata: journals each range, then passes it on to `next` (the app's ondata), awaited. */
  ondata(next) {
    if (next !== undefined && next !== null && typeof next !== 'function') throw new TypeError('RecordingJournal.ondata: next must be a function');
    return async (bytes, offset) => {
      await this.write(bytes, offset);
      if (next) await next(bytes, offset);
    };
  }

  /** The file as journaled (ranges applied at their offsets), as a Blob. */
  async blob(type = 'video/webm') {
    const out = new Uint8Array(this.#state.size);
    await this.#store.ranges(this.id, (seq, r) => { out.set(new Uint8Array(r.bytes), r.offset); });
    return new Blob([out], { type });
  }

  /**
   * The recording stopped normally: marks the journal complete and deletes it (keep: true keeps it,
   * complete, until remove(); recovery then hands it over as it is).
   */
  async complete({ keep = false, result } = {}) {
    const s = this.#state;
    s.complete = true;
    s.updatedAt = Date.now();
    if (result && typeof result === 'object') {
      s.frames = result.frames ?? s.frames;
      s.duration = result.duration;
    }
    if (keep) await this.#store.putState(s);
    else await this.#store.remove(this.id);
    this.#close();
  }

  /** Deletes the journal (the recording was aborted or the app does not want it). */
  async remove() {
    await this.#store.remove(this.id);
    this.#close();
  }

  #close() {
    this.#closed = true;
    liveJournals.delete(this.id);
    this.#releaseLock();
  }
}

/**
 * createRecorder() with a journal: every range is stored before it reaches options.ondata (or memory).
 * rec.stop() marks the journal complete and deletes it; rec.abort() deletes it. Without options.ondata
 * the result still has data/blob (rebuilt from the journal). rec.journal is the RecordingJournal.
 * @param {*} source as createRecorder
 * @param {object} [options] createRecorder options
 * @param {{journal?: RecordingJournal, store?: object, id?: string, metadata?: object, keep?: boolean}} [journalOptions]
 */
export async function createJournaledRecorder(source, options = {}, journalOptions = {}) {
  if (options === null || typeof options !== 'object') throw new TypeError('createJournaledRecorder: options must be an object');
  if (options.container === 'mp4') throw new TypeError('createJournaledRecorder: container "mp4" cannot be journaled yet (crash recovery is built for WebM only); use container "webm" or createRecorder');
  if (options.backend === 'mediarecorder' && options.repair !== false) throw new TypeError('createJournaledRecorder: backend "mediarecorder" emits nothing before stop unless repair: false');
  const { journal: given, keep = false, ...openOptions } = journalOptions || {};
  const journal = given || await RecordingJournal.open(openOptions);
  const appOndata = options.ondata;
  let rec;
  try {
    rec = await createRecorder(source, { ...options, ondata: journal.ondata(appOndata) });
  } catch (e) {
    await journal.remove().catch(() => {});
    throw e;
  }
  journal.attach(rec);
  const stop = rec.stop.bind(rec);
  const abort = rec.abort ? rec.abort.bind(rec) : null;
  rec.journal = journal;
  let stopping = null;
  rec.stop = (...args) => {
    // Once: a stream the user ended stops the recorder by itself, and the app may call stop() after.
    if (stopping) return stopping;
    const p = stop(...args);
    if (rec.state !== 'stopping') return p; // refused (already stopped, aborted, failed)
    stopping = (async () => {
      const result = await p;
      if (!appOndata) {
        result.blob = await journal.blob(result.mimeType || 'video/webm');
        result.data = new Uint8Array(await result.blob.arrayBuffer());
      }
      await journal.complete({ keep, result });
      result.journalId = journal.id;
      return result;
    })();
    return stopping;
  };
  // The user ended the stream: the journal is completed with the file the recorder finished.
  rec.addEventListener('sourceended', () => { rec.stop().catch(() => {}); });
  if (abort) {
    rec.abort = (...args) => {
      const r = abort(...args);
      journal.remove().catch(() => {});
      return r;
    };
  }
  return rec;
}
