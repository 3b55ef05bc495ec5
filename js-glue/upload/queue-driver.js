// QueueDriver: the leading tab's loop around the C++ UploadQueue (QueueCore). It applies the inbox's
// events to the queue, asks it for the next action, has action-runner.js do it with the transport,
// reports the outcome back and persists the queue's state together with whatever the outcome changed
// in storage, in one transaction. Every decision (order, backoff, attempts, permanent failure, re-init
// after a lost session, token refresh, which parts a server's list confirms, trimming completed items,
// dropping an empty recording) is the queue's.
//
// Inbox events (written by any tab, applied exactly once by the leader, each with the state):
//   enqueueScreenshot { id, size, metadata }        enqueueVideo { id, metadata, firstPartLast? }
//   addPart { id, index, size, sha256 }             finish { id, emptyReason? }
//   retryFailed { id }                              remove { id, reason? }           tokenUpdated {}
import { QueueCore } from './upload-queue-core.js';
import { UploadError } from './transports/http.js';
import { performAction } from './action-runner.js';
import { recoverOrphans } from './orphan-recovery.js';

const TERMINAL = new Set(['completed', 'failed']);

export function isQuotaError(e) {
  return !!e && (e.name === 'QuotaExceededError' || e.code === 22);
}

export class QueueDriver {
  core = null;
  inflight = null;          // { controller, action } while an action runs
  activity = 'idle';        // what the loop last waited for (progress.state when nothing is in flight)
  inboxDirty = true;
  #ctx;
  #wakeup = null;

  /** @param {object} ctx the uploader's shared context (see uploader.js) */
  constructor(ctx) {
    this.#ctx = ctx;
  }

  /** True while inbox events wait to be applied or an action is in flight. */
  get busy() { return this.inboxDirty || !!this.inflight; }

  // ------------------------------------------------------------------------------------------ loading

  /** Restores the stored queue (keeping every item a corrupt state still holds), then catches up. */
  async load() {
    const { o, store, events } = this.#ctx;
    const options = { ...o.queue, keepCompleted: o.keepCompleted };
    const json = await store.queueState();
    let core;
    if (json) {
      const r = QueueCore.restoreReadable(json, options);
      core = r.queue;
      if (r.error) {
        // The stored text is never thrown away: it is kept aside for a human, and reported.
        await store.commit([store.keepCorruptStateOp(json)]);
        const lost = r.dropped.length ? `; could not read: ${r.dropped.join('; ')}` : '';
        const e = new Error(`the stored upload queue did not read as a whole (${r.error}); kept ${r.itemsKept} item(s)${lost}`);
        events.emitError(e, 'restore', { itemsKept: r.itemsKept, dropped: r.dropped });
      }
    } else {
      core = new QueueCore(options);
    }
    this.core = core;
    core.setOnline(o.isOnline());
    await this.drainInbox();
    await this.#resync();
    await recoverOrphans(this, this.#ctx);
    await this.persist([]);
  }

  /** Asks the server which parts it holds for every unfinished video with a session. */
  async #resync() {
    const { o, events } = this.#ctx;
    for (const it of this.core.items()) {
      if (it.kind !== 'video' || !it.sessionId || TERMINAL.has(it.state)) continue;
      const item = this.core.item(it.id);
      const partSizes = item.parts.map((p) => p.size);
      try {
        const list = await o.transport.listParts({ ...(await this.requestContext(0)), sessionId: item.sessionId, partSizes, itemId: it.id });
        this.core.acceptServerPartList(it.id, list);
      } catch (e) {
        // The state's own record stands; a session the server lost shows up as sessionExpired on the next part.
        if (!(e instanceof UploadError)) events.emitError(e, 'resync');
      }
    }
  }

  // ------------------------------------------------------------------------------------------ the loop

  async run() {
    const { o, events } = this.#ctx;
    while (!this.#ctx.isClosed()) {
      try {
        if (this.inboxDirty) await this.drainInbox();
        const now = o.now();
        const a = this.core.nextAction(now);
        if (a.type === 'none') {
          this.activity = a.reason === 'idle' ? 'idle' : a.reason;
          this.#ctx.publish();
          if (a.reason === 'waitingForData') {
            await this.sleep(o.orphanCheckMs);
            if (!this.#ctx.isClosed()) await recoverOrphans(this, this.#ctx);
          } else {
            await this.sleep(o.pollMs);
            this.inboxDirty = true;
          }
          continue;
        }
        if (a.type === 'wait') {
          this.activity = 'retrying';
          this.#ctx.publish();
          await this.sleep(Math.max(1, a.until - now));
          continue;
        }
        if (a.type === 'busy') { // not with this loop (one action at a time); be safe anyway
          await this.sleep(50);
          continue;
        }
        this.activity = 'uploading';
        await performAction(this, this.#ctx, a);
      } catch (e) {
        if (this.#ctx.isClosed()) break;
        events.emitError(e, 'loop');
        await this.sleep(1000);
      }
    }
  }

  sleep(ms) {
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

  wake() {
    const w = this.#wakeup;
    if (w) w();
  }

  /** New inbox events were written (by this tab or another). */
  inboxChanged() {
    this.inboxDirty = true;
    this.wake();
  }

  // ------------------------------------------------------------------------------------------ inbox

  async drainInbox() {
    const { store, events, progress } = this.#ctx;
    this.inboxDirty = false;
    const entries = await store.events();
    if (!entries.length) return;
    const ops = [];
    const after = [];
    for (const { key, event } of entries) {
      ops.push(store.deleteEventOp(key));
      try {
        this.#apply(event, ops, after);
      } catch (e) {
        events.emitError(e, `inbox ${event && event.type}`, { event });
      }
      progress.noteApplied(key);
    }
    await this.persist(ops);
    for (const f of after) f();
  }

  #apply(ev, ops, after) {
    const { store, events } = this.#ctx;
    const core = this.core;
    const removeItem = (reason) => {
      ops.push(...store.removeItemOps(ev.id));
      after.push(() => events.dispatchAll('itemremoved', { itemId: ev.id, reason }));
    };
    switch (ev.type) {
      case 'enqueueScreenshot':
        core.enqueue({ id: ev.id, kind: 'screenshot', size: ev.size, metadata: ev.metadata || '' });
        after.push(() => events.dispatchAll('itemqueued', { itemId: ev.id, kind: 'screenshot', size: ev.size }));
        break;
      case 'enqueueVideo':
        core.enqueue({ id: ev.id, kind: 'video', metadata: ev.metadata || '', ...(ev.firstPartLast === true ? { firstPartLast: true } : {}) });
        after.push(() => events.dispatchAll('itemqueued', { itemId: ev.id, kind: 'video' }));
        break;
      case 'addPart':
        core.addPart(ev.id, ev.index, ev.size, ev.sha256);
        break;
      case 'finish':
        if (core.finishRecording(ev.id) === 'removed') removeItem(ev.emptyReason || 'empty recording');
        break;
      case 'retryFailed': {
        const n = ev.id ? core.retryFailed(ev.id) : core.retryFailed();
        after.push(() => events.dispatchAll('retry', { itemId: ev.id || null, count: n }));
        break;
      }
      case 'remove':
        if (core.item(ev.id)) core.remove(ev.id);
        removeItem(ev.reason || 'removed');
        break;
      case 'tokenUpdated':
        core.tokenUpdated();
        break;
      default:
        throw new Error(`unknown inbox event ${JSON.stringify(ev.type)}`);
    }
  }

  // ------------------------------------------------------------------------------------------ storage

  /** Persists the queue state together with `ops` (one transaction). */
  async persist(ops) {
    const { store, storage, events } = this.#ctx;
    try {
      await store.commit([store.queueStateOp(this.core.serialize()), ...ops]);
      if (storage.quotaExceeded && !ops.some((op) => op.type === 'put' && op.store !== 'meta')) storage.quotaExceeded = false;
    } catch (e) {
      if (isQuotaError(e)) {
        storage.quotaExceeded = true;
        events.dispatchAll('quotaexceeded', { message: String(e.message), where: 'queue state' });
      }
      throw e;
    }
  }

  /** What every transport call gets: { signal, token, timeoutMs, isOnline }. */
  async requestContext(size, signal) {
    const { o, token } = this.#ctx;
    return {
      signal,
      token: await token.current(),
      timeoutMs: typeof o.timeoutMs === 'function' ? o.timeoutMs({ size }) : o.timeoutMs,
      isOnline: o.isOnline,
    };
  }

  // ------------------------------------------------------------------------------------------ events

  setOnline(online) {
    this.core.setOnline(online);
    if (!online && this.inflight) this.inflight.controller.abort();
    this.persist([]).catch((e) => this.#ctx.events.emitError(e, 'persist'));
    this.#ctx.publish();
    this.wake();
  }

  tokenUpdated() {
    this.core.tokenUpdated();
    this.wake();
  }

  /** Stops: an action in flight is aborted (its item is pending again for the next leader). */
  stop() {
    if (this.inflight) this.inflight.controller.abort();
    this.wake();
  }

  dispose() {
    this.core?.dispose();
    this.core = null;
  }
}
