// Writes from this tab: the app's bytes and the events for the leading queue, in one transaction each,
// then a nudge to the leader (this tab's driver, or the leading tab over the channel) and a Background
// Sync registration. A full storage is an event the app can show ('quotaexceeded'), and
// 'storagerecovered' once a held write went through.
import { isQuotaError } from './queue-driver.js';

export class InboxWriter {
  #ctx;
  #nudge;

  /**
   * @param {object} ctx the uploader's shared context
   * @param {() => void} nudge tells the leader that inbox events wait
   */
  constructor(ctx, nudge) {
    this.#ctx = ctx;
    this.#nudge = nudge;
  }

  /** Commits ops (bytes and inbox events); resolves with the new inbox keys. */
  async submit(ops) {
    let keys;
    try {
      keys = await this.#ctx.store.commit(ops);
    } catch (e) {
      if (isQuotaError(e)) this.reportQuota({ message: String(e.message), where: 'enqueue' });
      throw e;
    }
    this.notify(keys);
    return keys;
  }

  /** New inbox entries were written (by submit, or by a recording that commits on its own). */
  notify(keys) {
    this.#ctx.progress.noteLocalInbox(keys);
    this.#nudge();
    this.#ctx.sync.register();
  }

  reportQuota(detail) {
    const { storage, events } = this.#ctx;
    storage.quotaExceeded = true;
    storage.lastError = detail.message;
    events.dispatchAll('quotaexceeded', detail);
  }

  reportStored() {
    const { storage, events } = this.#ctx;
    if (storage.quotaExceeded) {
      storage.quotaExceeded = false;
      events.dispatchAll('storagerecovered', {});
    }
  }
}
