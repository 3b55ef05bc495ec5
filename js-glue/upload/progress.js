// Progress: what getProgress() reports and when whenIdle() resolves. The leading tab computes it from
// the queue's summary (the C++ counts items, bytes and parts); following tabs show the leader's last
// report, which arrives over the BroadcastChannel with the number of inbox events the leader applied,
// so a tab's whenIdle() also waits for what that tab itself just enqueued.
import { Deferred } from './leadership.js';

/**
 * The progress object: { state, uploaded, pending, failed, total, completed, uploading, percentage,
 * bytes: {uploaded, total}, bytesUploaded, bytesTotal, parts: {uploaded, total}, isOnline, hasSession,
 * currentItemId, nextRetryAt, authRequired, isLeader, storage: {persisted, quotaExceeded, lastError} }.
 * state: idle | uploading | retrying | offline | waitingForData | authRequired.
 * @param {object} s the queue's summary()
 * @param {{inflight: boolean, activity: string, storage: object}} driver
 */
export function progressFromSummary(s, { inflight, activity, storage }) {
  const pending = s.pending + s.initializing + s.uploading + s.finalizing;
  let state = inflight ? 'uploading' : pending === 0 ? 'idle' : activity === 'idle' ? 'uploading' : activity;
  if (!s.isOnline) state = 'offline';
  else if (s.authRequired) state = 'authRequired';
  return {
    state,
    uploaded: s.completed,
    pending,
    failed: s.failed,
    total: s.total,
    completed: s.completed,
    uploading: inflight ? 1 : 0,
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
    storage: { ...storage },
  };
}

/** Before any report: nothing known yet. */
export function emptyProgress(isOnline, storage) {
  return {
    state: 'idle', uploaded: 0, pending: 0, failed: 0, total: 0, completed: 0, uploading: 0, percentage: 0,
    bytes: { uploaded: 0, total: 0 }, bytesUploaded: 0, bytesTotal: 0, parts: { uploaded: 0, total: 0 },
    isOnline, hasSession: false, currentItemId: '', nextRetryAt: 0, authRequired: false,
    isLeader: false, storage: { ...storage },
  };
}

/**
 * The last report, the inbox events known applied, and the whenIdle() waiters.
 * `current()` gives the leader's live progress (or null in a following tab); `busy()` is true while the
 * leader has inbox events to apply or an action in flight.
 */
export class ProgressTracker {
  last = null;
  appliedInbox = 0;   // inbox keys up to this one have been applied by the leader
  localInbox = 0;     // the highest inbox key this tab wrote
  #waiters = new Set();
  #current;
  #busy;
  #emit;
  #post;

  /**
   * @param {{current: () => object|null, busy: () => boolean, emit: (progress: object) => void,
   *          post: (message: object) => void}} hooks emit: the 'progress' event here; post: to other tabs
   */
  constructor({ current, busy, emit, post }) {
    this.#current = current;
    this.#busy = busy;
    this.#emit = emit;
    this.#post = post;
  }

  /** This tab's view: the leader's live progress, else the leader's last report, else nothing yet. */
  get(isOnline, storage) {
    const live = this.#current();
    if (live) return live;
    return this.last ? { ...this.last, isLeader: false } : emptyProgress(isOnline, storage);
  }

  /** The leader reports: a 'progress' event here and in every following tab. */
  publish() {
    const p = this.#current();
    if (!p) return;
    this.last = p;
    this.#emit(p);
    this.#post({ type: 'progress', progress: p, appliedInbox: this.appliedInbox });
    this.check();
  }

  /** A following tab hears the leader's report. */
  receive(message) {
    this.last = { ...message.progress, isLeader: false };
    this.noteApplied(message.appliedInbox);
    this.#emit(this.last);
    this.check();
  }

  noteLocalInbox(keys) {
    if (keys && keys.length) this.localInbox = Math.max(this.localInbox, ...keys);
  }

  noteApplied(key) {
    this.appliedInbox = Math.max(this.appliedInbox, key || 0);
  }

  /** A promise for the progress once nothing is pending and this tab's events are applied. */
  wait(signal) {
    const d = new Deferred();
    const w = { d, minInbox: this.localInbox };
    this.#waiters.add(w);
    if (signal) {
      signal.addEventListener('abort', () => {
        if (this.#waiters.delete(w)) d.reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
      }, { once: true });
    }
    return { promise: d.promise, cancel: (e) => { this.#waiters.delete(w); d.reject(e); } };
  }

  /** Resolves the waiters whose condition holds now. */
  check() {
    if (!this.#waiters.size) return;
    const live = this.#current();
    const p = live || (this.last ? { ...this.last, isLeader: false } : null);
    if (live && this.#busy()) return;
    if (!p || p.pending !== 0 || !this.last) return;
    for (const w of [...this.#waiters]) {
      if (this.appliedInbox >= w.minInbox) {
        this.#waiters.delete(w);
        w.d.resolve(p);
      }
    }
  }

  rejectAll(e) {
    for (const w of this.#waiters) w.d.reject(e);
    this.#waiters.clear();
  }
}
