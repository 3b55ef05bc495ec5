// Leadership across tabs: exactly one uploader per origin and queue name leads (it holds the Web Lock
// 'capturekit-upload:<name>' and uploads); the others follow and talk to it over the BroadcastChannel of
// the same name. When the leading tab goes away the browser hands the lock to the next waiting tab.
// Each recording also holds a lock of its own while its recorder lives ('capturekit-rec:<name>:<id>'),
// so the leader can tell a recording whose tab went away (lock free) from one still being recorded.
//
// Without Web Locks (locks: null) this uploader always leads; without a channel, nothing is shared.

class Deferred {
  constructor() {
    this.promise = new Promise((resolve, reject) => { this.resolve = resolve; this.reject = reject; });
  }
}

export { Deferred };

export class Leadership {
  #locks;
  #name;
  #channel = null;
  #abort = null;
  #done = null;

  /**
   * @param {{name: string, locks: object|null, channel: ((name: string) => object)|null,
   *          onMessage: (message: object) => void}} options
   */
  constructor({ name, locks, channel, onMessage }) {
    this.#name = name;
    this.#locks = locks;
    if (channel) {
      this.#channel = channel(`capturekit-upload:${name}`);
      this.#channel.onmessage = (e) => onMessage(e.data);
    }
  }

  /**
   * Leads now if nobody does (resolves true once `lead` has started: `started` is awaited), otherwise
   * resolves false and waits in line for the lock, then runs `lead` (unless closed by then).
   * @param {() => Promise<void>} lead runs while this uploader holds the lock
   * @param {Promise<void>} started settles once lead() has loaded the queue
   * @param {(e: Error) => void} onError
   */
  async acquire(lead, started, onError) {
    const locks = this.#locks;
    if (!locks) {
      this.#done = lead();
      await started;
      return true;
    }
    this.#abort = new AbortController();
    const lockName = `capturekit-upload:${this.#name}`;
    const got = new Deferred();
    this.#done = locks.request(lockName, { ifAvailable: true }, async (lock) => {
      got.resolve(!!lock);
      if (lock) await lead();
    }).catch((e) => { got.resolve(false); onError(e); });
    if (await got.promise) {
      await started;
      return true;
    }
    const signal = this.#abort.signal;
    this.#done = locks.request(lockName, { signal }, async () => {
      if (!signal.aborted) await lead();
    }).catch((e) => { if (!signal.aborted) onError(e); });
    return false;
  }

  #recLockName(id) {
    return `capturekit-rec:${this.#name}:${id}`;
  }

  /** Holds the recording lock of `id` until the returned release() is called (no-op without locks). */
  async holdRecordingLock(id) {
    const locks = this.#locks;
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

  /** Runs fn() while holding the recording lock of `id` if nobody holds it; resolves fn's result, or false. */
  async whileRecordingUnheld(id, fn) {
    const locks = this.#locks;
    if (!locks) return fn();
    let result = false;
    await locks.request(this.#recLockName(id), { ifAvailable: true }, async (lock) => {
      if (lock) result = await fn();
    });
    return result;
  }

  /** A message to every other uploader of this queue. */
  post(message) {
    if (!this.#channel) return;
    try { this.#channel.postMessage(message); } catch { /* closed */ }
  }

  /** Leaves the line for the lock; resolves once this uploader stopped leading. */
  async close() {
    this.#abort?.abort();
    try { await this.#done; } catch { /* reported already */ }
    if (this.#channel) { this.#channel.onmessage = null; this.#channel.close(); }
    this.#channel = null;
  }
}
