// QueueStore: the upload queue's storage layout, said once. Everything the uploader, a recording and
// the service worker keep goes through these names ("the parts of item X", "remove item X"); the key
// patterns and object stores below appear nowhere else. Underneath is a raw store (IndexedDB: store.js,
// memory: store-memory.js) whose batch() is one all-or-nothing transaction, so the methods that end in
// `Ops` return write operations to combine: e.g. a part's bytes and its addPart event commit together.
//
//   object store   key               value
//   meta           'queue'           the UploadQueue's serialized state (JSON text)
//                  'queue.corrupt.T' a stored state that did not read, kept aside for a human at time T
//                  'config'          what the service worker needs to run the queue (Background Sync)
//                  'sync.log'        the service worker's last runs
//   items          item id           per-item facts the queue does not keep (file name, MIME type, part
//                                    size, final metadata, transport data, maybeSent ...)
//   screenshots    item id           { bytes: ArrayBuffer, mimeType, filename }
//   parts          [item id, index]  { bytes: ArrayBuffer, sha256, size }: a recording's upload parts
//   tail           [item id, seq]    { start, bytes }: every chunk as recorded, until a stored part holds it
//   inbox          auto-increment    events for the leading tab's queue (enqueue, addPart, finish, ...)
const KEY_QUEUE = 'queue';
const KEY_CONFIG = 'config';
const KEY_SYNC_LOG = 'sync.log';

function bytesOf(ops) {
  return ops.reduce((n, o) => n + (o.value?.bytes?.byteLength || 0), 0);
}

export class QueueStore {
  /** @param {object} raw a store with get / getAll / batch / usage / open / close (store.js, store-memory.js) */
  constructor(raw) {
    this.raw = raw;
  }

  open() { return this.raw.open(); }
  close() { this.raw.close(); }
  usage() { return this.raw.usage(); }
  /** Commits write operations from the methods below in one transaction; resolves with the new inbox keys. */
  commit(ops) { return this.raw.batch(ops); }
  /** Bytes of ArrayBuffers a list of operations writes (for quota bookkeeping). */
  static bytesOf(ops) { return bytesOf(ops); }

  // ---------------------------------------------------------------------------------- the queue itself

  queueState() { return this.raw.get('meta', KEY_QUEUE); }
  queueStateOp(json) { return { type: 'put', store: 'meta', key: KEY_QUEUE, value: json }; }
  keepCorruptStateOp(json, at = Date.now()) { return { type: 'put', store: 'meta', key: `${KEY_QUEUE}.corrupt.${at}`, value: json }; }
  config() { return this.raw.get('meta', KEY_CONFIG); }
  configOp(config) { return { type: 'put', store: 'meta', key: KEY_CONFIG, value: config }; }
  async syncLog() { return (await this.raw.get('meta', KEY_SYNC_LOG)) || []; }
  syncLogOp(entries) { return { type: 'put', store: 'meta', key: KEY_SYNC_LOG, value: entries }; }

  // ---------------------------------------------------------------------------------- items

  itemInfo(id) { return this.raw.get('items', id); }
  itemInfoOp(id, info) { return { type: 'put', store: 'items', key: id, value: info }; }
  async hasItem(id) { return (await this.raw.get('items', id)) !== undefined; }
  /** Everything stored for an item: its info, screenshot bytes, parts and tail. */
  removeItemOps(id) {
    return [
      { type: 'deletePrefix', store: 'parts', prefix: id }, { type: 'deletePrefix', store: 'tail', prefix: id },
      { type: 'delete', store: 'screenshots', key: id }, { type: 'delete', store: 'items', key: id },
    ];
  }

  // ---------------------------------------------------------------------------------- screenshots

  screenshot(id) { return this.raw.get('screenshots', id); }
  screenshotOp(id, shot) { return { type: 'put', store: 'screenshots', key: id, value: shot }; }

  // ---------------------------------------------------------------------------------- recording parts

  part(id, index) { return this.raw.get('parts', [id, index]); }
  /** The stored parts of an item in index order: [{ index, bytes, sha256, size }]. */
  async parts(id) {
    return (await this.raw.getAll('parts', { prefix: id })).map(({ key, value }) => ({ index: key[1], ...value }));
  }
  /** A part's bytes and its addPart event for the leading queue, to commit together. */
  addPartOps(id, { index, bytes, sha256 }) {
    const size = bytes.byteLength;
    return [
      { type: 'put', store: 'parts', key: [id, index], value: { bytes: ownBuffer(bytes), sha256, size } },
      this.eventOp({ type: 'addPart', id, index, size, sha256 }),
    ];
  }
  deletePartOp(id, index) { return { type: 'delete', store: 'parts', key: [id, index] }; }

  // ---------------------------------------------------------------------------------- recording tail

  /** The stored chunks of an item in the order they were recorded: [{ seq, start, bytes }]. */
  async tail(id) {
    return (await this.raw.getAll('tail', { prefix: id })).map(({ key, value }) => ({ seq: key[1], ...value }));
  }
  tailOp(id, seq, start, bytes) { return { type: 'put', store: 'tail', key: [id, seq], value: { start, bytes: ownBuffer(bytes) } }; }
  deleteTailOp(id, seq) { return { type: 'delete', store: 'tail', key: [id, seq] }; }
  deleteTailOps(id) { return [{ type: 'deletePrefix', store: 'tail', prefix: id }]; }

  // ---------------------------------------------------------------------------------- inbox

  /** Pending events in the order they were written: [{ key, event }]. */
  async events() {
    return (await this.raw.getAll('inbox')).map(({ key, value }) => ({ key, event: value }));
  }
  eventOp(event) { return { type: 'add', store: 'inbox', value: event }; }
  deleteEventOp(key) { return { type: 'delete', store: 'inbox', key }; }
}

/** An ArrayBuffer holding exactly these bytes (no copy when the view already covers its whole buffer). */
export function ownBuffer(u8) {
  if (u8 instanceof ArrayBuffer) return u8;
  if (u8.byteOffset === 0 && u8.byteLength === u8.buffer.byteLength && u8.buffer instanceof ArrayBuffer) return u8.buffer;
  return new Uint8Array(u8).buffer;
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
