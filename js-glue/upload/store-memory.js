// An in-memory upload store with the same interface and the same semantics as the IndexedDB store
// (store.js): keyed object stores, IndexedDB key order, values copied on write (structured clone),
// atomic batches, an auto-increment inbox, and QuotaExceededError when a batch would pass `quotaBytes`.
// For Node (no IndexedDB) and tests; several uploaders may share one instance, like tabs share a database.
//
// Store interface (both implementations):
//   open()                          -> Promise<void>
//   get(store, key)                 -> Promise<value | undefined>
//   getAll(store, { prefix? })      -> Promise<{ key, value }[]> in key order; prefix: an item id (keys [id, n])
//   batch(ops)                      -> Promise<number[]> (keys of the 'add' ops, in order); all or nothing
//        ops: { type: 'put', store, key, value } | { type: 'delete', store, key }
//           | { type: 'deletePrefix', store, prefix } | { type: 'add', store: 'inbox', value }
//   usage()                         -> Promise<{ bytes }> bytes held in ArrayBuffers (memory store; IndexedDB: estimate)
//   close()
// Object stores: meta, items, screenshots (key: item id), parts, tail (key: [item id, n]), inbox (auto key).
export const STORE_NAMES = Object.freeze(['meta', 'items', 'parts', 'screenshots', 'tail', 'inbox']);

function typeRank(k) {
  if (typeof k === 'number') return 1;
  if (typeof k === 'string') return 3;
  if (Array.isArray(k)) return 5;
  throw new TypeError(`upload store: unsupported key ${JSON.stringify(k)}`);
}

/** IndexedDB's key order for the key types used here (numbers < strings < arrays). */
export function compareKeys(a, b) {
  const ta = typeRank(a);
  const tb = typeRank(b);
  if (ta !== tb) return ta - tb;
  if (ta === 5) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const c = compareKeys(a[i], b[i]);
      if (c) return c;
    }
    return a.length - b.length;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

function keyString(k) {
  return JSON.stringify(k);
}

function bytesIn(v, depth = 0) {
  if (v instanceof ArrayBuffer) return v.byteLength;
  if (ArrayBuffer.isView(v)) return v.byteLength;
  if (v && typeof v === 'object' && depth < 3) {
    let n = 0;
    for (const x of Object.values(v)) n += bytesIn(x, depth + 1);
    return n;
  }
  return typeof v === 'string' ? v.length * 2 : 0;
}

function quotaError(need, quota) {
  const msg = `upload store: the write needs ${need} bytes beyond the quota of ${quota} bytes`;
  if (typeof DOMException === 'function') return new DOMException(msg, 'QuotaExceededError');
  const e = new Error(msg);
  e.name = 'QuotaExceededError';
  return e;
}

export class MemoryStore {
  /** @param {{quotaBytes?: number}} [options] */
  constructor(options = {}) {
    this.quotaBytes = options.quotaBytes ?? Infinity;
    this.maps = new Map(STORE_NAMES.map((n) => [n, new Map()])); // name -> keyString -> { key, value, bytes }
    this.nextInboxKey = 1;
    this.bytes = 0;
    this.closed = false;
    this.kind = 'memory';
  }

  async open() {
    this.closed = false;
  }

  #map(name) {
    const m = this.maps.get(name);
    if (!m) throw new RangeError(`upload store: unknown object store "${name}" (known: ${STORE_NAMES.join(', ')})`);
    return m;
  }

  async get(name, key) {
    await null;
    const e = this.#map(name).get(keyString(key));
    return e ? e.value : undefined;
  }

  async getAll(name, { prefix } = {}) {
    await null;
    const out = [];
    for (const e of this.#map(name).values()) {
      if (prefix !== undefined && !(Array.isArray(e.key) && e.key[0] === prefix)) continue;
      out.push({ key: e.key, value: e.value });
    }
    out.sort((a, b) => compareKeys(a.key, b.key));
    return out;
  }

  async batch(ops) {
    await null;
    if (!Array.isArray(ops)) throw new TypeError('upload store: batch(ops) takes an array');
    // Plan first (nothing changes if anything is wrong), then apply.
    let delta = 0;
    const plan = [];
    const touched = new Map(); // map -> keyString -> planned bytes (to count repeated keys right)
    const sizeOf = (m, ks) => {
      const t = touched.get(m);
      if (t && t.has(ks)) return t.get(ks);
      const e = m.get(ks);
      return e ? e.bytes : 0;
    };
    const setTouched = (m, ks, b) => {
      if (!touched.has(m)) touched.set(m, new Map());
      touched.get(m).set(ks, b);
    };
    let nextKey = this.nextInboxKey;
    const added = [];
    for (const op of ops) {
      const m = this.#map(op.store);
      if (op.type === 'put' || op.type === 'add') {
        const key = op.type === 'add' ? nextKey++ : op.key;
        if (op.type === 'put') typeRank(key);
        const value = structuredClone(op.value);
        const b = bytesIn(value);
        const ks = keyString(key);
        delta += b - sizeOf(m, ks);
        setTouched(m, ks, b);
        plan.push(() => m.set(ks, { key, value, bytes: b }));
        if (op.type === 'add') added.push(key);
      } else if (op.type === 'delete') {
        const ks = keyString(op.key);
        delta -= sizeOf(m, ks);
        setTouched(m, ks, 0);
        plan.push(() => m.delete(ks));
      } else if (op.type === 'deletePrefix') {
        for (const [ks, e] of m) {
          if (Array.isArray(e.key) && e.key[0] === op.prefix) {
            delta -= sizeOf(m, ks);
            setTouched(m, ks, 0);
          }
        }
        plan.push(() => {
          for (const [ks, e] of [...m]) if (Array.isArray(e.key) && e.key[0] === op.prefix) m.delete(ks);
        });
      } else {
        throw new RangeError(`upload store: unknown op ${JSON.stringify(op.type)}`);
      }
    }
    if (delta > 0 && this.bytes + delta > this.quotaBytes) throw quotaError(delta, this.quotaBytes);
    for (const f of plan) f();
    this.bytes += delta;
    this.nextInboxKey = nextKey;
    return added;
  }

  async usage() {
    return { bytes: this.bytes };
  }

  close() {
    this.closed = true;
  }
}

/** A fresh in-memory store. */
export function createMemoryStore(options) {
  return new MemoryStore(options);
}

/**
 * navigator.locks for one process (Node has none): exclusive locks by name, FIFO waiters, ifAvailable,
 * signal. Uploaders that share one MemoryLocks behave like tabs that share an origin.
 */
export class MemoryLocks {
  constructor() {
    this.held = new Map(); // name -> true
    this.waiting = new Map(); // name -> [{ grant, reject, signal }]
  }

  request(name, options, callback) {
    if (typeof options === 'function') { callback = options; options = {}; }
    const { ifAvailable = false, signal } = options || {};
    if (signal?.aborted) return Promise.reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
    const run = async () => {
      try {
        return await callback({ name, mode: 'exclusive' });
      } finally {
        this.#release(name);
      }
    };
    if (!this.held.has(name)) {
      this.held.set(name, true);
      return run();
    }
    if (ifAvailable) return Promise.resolve().then(() => callback(null));
    return new Promise((resolve, reject) => {
      const w = { grant: () => run().then(resolve, reject), reject, signal };
      if (!this.waiting.has(name)) this.waiting.set(name, []);
      this.waiting.get(name).push(w);
      signal?.addEventListener('abort', () => {
        const list = this.waiting.get(name) || [];
        const i = list.indexOf(w);
        if (i >= 0) {
          list.splice(i, 1);
          reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
        }
      }, { once: true });
    });
  }

  #release(name) {
    const list = this.waiting.get(name);
    const next = list && list.shift();
    if (next) {
      next.grant();
    } else {
      this.held.delete(name);
    }
  }

  async query() {
    return {
      held: [...this.held.keys()].map((name) => ({ name, mode: 'exclusive' })),
      pending: [...this.waiting].flatMap(([name, l]) => l.map(() => ({ name, mode: 'exclusive' }))),
    };
  }
}
