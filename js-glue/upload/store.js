// The upload store on IndexedDB (through `idb`): queue state, every part's bytes and screenshot bytes
// are written as ArrayBuffers (Safari loses Blobs stored in IndexedDB) before anything is sent, and
// each batch of writes is one readwrite transaction (all or nothing). The interface is the one in
// store-memory.js; object stores: meta, items, screenshots (key: item id), parts, tail (key: [item id, n]),
// inbox (auto-increment key).
import { openDB, deleteDB } from 'idb';
import { STORE_NAMES } from './store-memory.js';

export const DB_VERSION = 1;

function prefixRange(id) {
  // [id] < [id, 0] < ... < [id, 'z'] < [id, []]: every [id, n] key and nothing else.
  return IDBKeyRange.bound([id], [id, []], false, false);
}

function asQuotaError(e) {
  if (e && (e.name === 'QuotaExceededError' || /quota/i.test(String(e.message)))) {
    if (e.name === 'QuotaExceededError') return e;
    const q = new DOMException(String(e.message || 'quota exceeded'), 'QuotaExceededError');
    return q;
  }
  return e;
}

export class IdbStore {
  /** @param {{name?: string}} [options] database name (default 'capturekit-upload') */
  constructor(options = {}) {
    if (typeof indexedDB === 'undefined') throw new Error('IdbStore: IndexedDB is not available here (in Node, use createMemoryStore())');
    this.name = options.name || 'capturekit-upload';
    this.db = null;
    this.kind = 'indexeddb';
  }

  async open() {
    if (this.db) return;
    this.db = await openDB(this.name, DB_VERSION, {
      upgrade(db) {
        for (const n of ['meta', 'items', 'parts', 'screenshots', 'tail']) {
          if (!db.objectStoreNames.contains(n)) db.createObjectStore(n);
        }
        if (!db.objectStoreNames.contains('inbox')) db.createObjectStore('inbox', { autoIncrement: true });
      },
      blocking: () => {
        // A newer version wants the database: let it (this page reloads into the new code anyway).
        this.db?.close();
        this.db = null;
      },
    });
  }

  #db() {
    if (!this.db) throw new Error('IdbStore: open() first (or the database was closed)');
    return this.db;
  }

  async get(name, key) {
    await this.open();
    return this.#db().get(name, key);
  }

  async getAll(name, { prefix } = {}) {
    await this.open();
    const db = this.#db();
    const tx = db.transaction(name, 'readonly');
    const range = prefix === undefined ? undefined : prefixRange(prefix);
    const [keys, values] = await Promise.all([tx.store.getAllKeys(range), tx.store.getAll(range), tx.done]);
    return keys.map((key, i) => ({ key, value: values[i] }));
  }

  async batch(ops) {
    if (!Array.isArray(ops)) throw new TypeError('upload store: batch(ops) takes an array');
    await this.open();
    const names = [...new Set(ops.map((o) => o.store))];
    for (const n of names) if (!STORE_NAMES.includes(n)) throw new RangeError(`upload store: unknown object store "${n}"`);
    if (!names.length) return [];
    const tx = this.#db().transaction(names, 'readwrite');
    const requests = [];
    const added = [];
    for (const op of ops) {
      const s = tx.objectStore(op.store);
      if (op.type === 'put') requests.push(s.put(op.value, op.key));
      else if (op.type === 'add') { const p = s.add(op.value); added.push(p); requests.push(p); }
      else if (op.type === 'delete') requests.push(s.delete(op.key));
      else if (op.type === 'deletePrefix') requests.push(s.delete(prefixRange(op.prefix)));
      else { tx.abort(); throw new RangeError(`upload store: unknown op ${JSON.stringify(op.type)}`); }
    }
    try {
      // Every request promise is awaited (a failed transaction rejects them all: none may go unhandled).
      const settled = await Promise.allSettled([...requests, tx.done]);
      const bad = settled.find((r) => r.status === 'rejected');
      if (bad) throw bad.reason;
      return Promise.all(added);
    } catch (e) {
      throw asQuotaError(e);
    }
  }

  async usage() {
    if (typeof navigator === 'object' && navigator.storage?.estimate) {
      const e = await navigator.storage.estimate();
      return { bytes: e.usage ?? 0, quota: e.quota ?? 0 };
    }
    return { bytes: 0 };
  }

  close() {
    this.db?.close();
    this.db = null;
  }

  /** Deletes the whole database (tests, "forget everything"). */
  static async destroy(name = 'capturekit-upload') {
    await deleteDB(name);
  }
}

/** The IndexedDB store (opens lazily). */
export function createIdbStore(options) {
  return new IdbStore(options);
}
