// Background Sync and persistent storage: where the browser has them, uploads finish after the page is
// closed. The page stores what the service worker (web/upload-sw.js) needs to run the same queue (the
// transport's description, the queue options, optionally the token) and registers the sync tag
// 'capturekit-upload:<name>' whenever work is pending or the connection drops.

/** Asks navigator.storage.persist() (once); `storage.persisted` says what the browser granted. */
export function requestPersistence(storage) {
  const s = typeof navigator === 'object' ? navigator.storage : null;
  if (!s || typeof s.persist !== 'function') return;
  Promise.resolve().then(async () => {
    storage.persisted = (await s.persisted?.()) || (await s.persist());
  }).catch(() => { storage.persisted = false; });
}

export class BackgroundSync {
  #registration = null;
  #tag;

  constructor(name) {
    this.#tag = `capturekit-upload:${name}`;
  }

  /**
   * Finds the service worker registration (options.registration, or navigator.serviceWorker.ready within
   * 3 s) and stores the worker's configuration. Does nothing where Background Sync is missing.
   * @param {object|true} options { registration?, persistToken? }
   * @param {import('./queue-store.js').QueueStore} store
   * @param {() => object} config what the worker needs, without the token
   * @param {() => Promise<string>} token
   */
  async setup(options, store, config, token) {
    const bs = options === true ? {} : options;
    let reg = bs.registration || null;
    if (!reg && typeof navigator === 'object' && navigator.serviceWorker) {
      reg = await Promise.race([navigator.serviceWorker.ready, new Promise((r) => setTimeout(() => r(null), 3000))]);
    }
    if (!reg || !reg.sync || typeof reg.sync.register !== 'function') return; // no Background Sync: pages finish uploads
    this.#registration = reg;
    await store.commit([store.configOp({ ...config(), token: bs.persistToken ? await token() : '', updatedAt: Date.now() })]);
  }

  /** Asks the browser for a sync run (no-op without Background Sync). */
  register() {
    const reg = this.#registration;
    if (!reg) return;
    reg.sync.register(this.#tag).catch(() => {});
  }
}
