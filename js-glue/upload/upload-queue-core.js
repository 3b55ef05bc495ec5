// QueueCore: the upload queue's decisions (wasm/upload/upload_queue.h) behind JS-friendly objects.
// It touches neither the network nor storage: a driver feeds it events and asks nextAction().
//
//   const q = new QueueCore();                      // or QueueCore.restore(savedJson)
//   q.enqueue({ id, kind: 'video', metadata });     // parts: q.addPart(id, part) as ChunkBuffer emits them
//   for (;;) {
//     const a = q.nextAction(Date.now());
//     // a.type: 'init' | 'uploadPart' | 'uploadScreenshot' | 'finalize' | 'refreshToken'  -> do it, then
//     //         q.succeeded(a, result) or q.failed(a, kind, { retryAfterMs, message })
//     //         'wait' -> until a.until;  'none' -> until an event (a.reason);  'busy' -> one is in flight
//     save(q.serialize());
//   }
import { getUploadModule } from '../upload.js';
import { checkEnum, checkNumber } from '../validate.js';
import { throwLastError } from '../wasm-memory.js';

export const FAILURE_KINDS = Object.freeze([
  'network', 'timeout', 'server5xx', 'rateLimited', 'client4xx', 'unauthorized', 'sessionExpired',
  'malformed', 'checksumMismatch', 'offline', 'aborted',
]);
export const ITEM_KINDS = Object.freeze(['screenshot', 'video']);
export const DEFAULT_QUEUE_OPTIONS = Object.freeze({
  maxRetries: 5, backoffBaseMs: 1000, backoffFactor: 2, backoffMaxMs: 16000, jitter: 0.2, seed: 1,
  keepCompleted: Infinity,
});
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const SHA256_HEX = /^[0-9a-f]{64}$/;

const registry = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry((native) => releaseNative(native))
  : null;

function releaseNative(native) {
  if (native.handle) native.handle.delete();
  native.handle = null;
}

function checkString(value, name, { nonEmpty = false } = {}) {
  if (typeof value !== 'string') {
    throw new TypeError(`${name} must be a string, got ${value === null ? 'null' : typeof value}`);
  }
  if (nonEmpty && value.length === 0) throw new RangeError(`${name} must not be empty`);
  return value;
}

function checkTime(value, name) {
  return checkNumber(value, name, { min: 0, max: MAX_SAFE, integer: true });
}

function checkOptions(options) {
  if (options === null || typeof options !== 'object') throw new TypeError('QueueCore options must be an object');
  for (const key of Object.keys(options)) {
    if (!(key in DEFAULT_QUEUE_OPTIONS)) {
      throw new TypeError(`QueueCore: unknown option "${key}" (known: ${Object.keys(DEFAULT_QUEUE_OPTIONS).join(', ')})`);
    }
  }
  const o = { ...DEFAULT_QUEUE_OPTIONS, ...options };
  checkNumber(o.maxRetries, 'QueueCore: maxRetries', { min: 0, max: 100, integer: true });
  checkNumber(o.backoffBaseMs, 'QueueCore: backoffBaseMs', { min: 0, max: 86400000 });
  checkNumber(o.backoffFactor, 'QueueCore: backoffFactor', { min: 1, max: 16 });
  checkNumber(o.backoffMaxMs, 'QueueCore: backoffMaxMs', { min: o.backoffBaseMs, max: 86400000 });
  checkNumber(o.jitter, 'QueueCore: jitter', { min: 0, max: 1 });
  checkNumber(o.seed, 'QueueCore: seed', { min: 0, max: 2 ** 32 - 1, integer: true });
  if (o.keepCompleted !== Infinity) checkNumber(o.keepCompleted, 'QueueCore: keepCompleted', { min: 0, max: 2 ** 32 - 1, integer: true });
  return { ...o, keepCompleted: o.keepCompleted === Infinity ? 2 ** 32 - 1 : o.keepCompleted };
}

function metadataString(metadata, name) {
  if (metadata === undefined) return '';
  if (typeof metadata === 'string') return metadata;
  if (metadata === null || typeof metadata !== 'object') {
    throw new TypeError(`${name} must be a JSON string or a plain object, got ${metadata === null ? 'null' : typeof metadata}`);
  }
  return JSON.stringify(metadata);
}

function actionId(action, name) {
  const id = typeof action === 'object' && action !== null ? action.id : action;
  return checkNumber(id, `${name}: action id`, { min: 1, max: MAX_SAFE, integer: true });
}

// The native action carries every field; keep the ones that mean something for its type.
function shapeAction(a) {
  switch (a.type) {
    case 'none': return { type: 'none', reason: a.reason };
    case 'wait': return { type: 'wait', until: a.until };
    case 'busy': return { type: 'busy', id: a.id, busyWith: a.busyWith, itemId: a.itemId };
    case 'refreshToken': return { type: 'refreshToken', id: a.id };
    case 'init': return { type: 'init', id: a.id, itemId: a.itemId, metadata: a.metadata };
    case 'uploadScreenshot': return { type: 'uploadScreenshot', id: a.id, itemId: a.itemId, size: a.size, metadata: a.metadata };
    case 'uploadPart':
      return { type: 'uploadPart', id: a.id, itemId: a.itemId, sessionId: a.sessionId, partIndex: a.partIndex, size: a.size, sha256: a.sha256 };
    case 'finalize':
      return { type: 'finalize', id: a.id, itemId: a.itemId, sessionId: a.sessionId, partCount: a.partCount, size: a.size, metadata: a.metadata };
    default: throw new Error(`capturekit: unknown action type ${a.type}`);
  }
}

export class QueueCore {
  #native;

  /**
   * @param {{maxRetries?: number, backoffBaseMs?: number, backoffFactor?: number, backoffMaxMs?: number,
   *          jitter?: number, seed?: number, keepCompleted?: number}} [options]
   *   keepCompleted: completed items kept in the queue (default Infinity, all); when another completes, the
   *   oldest completed ones leave.
   */
  constructor(options = {}) {
    const o = checkOptions(options);
    const M = getUploadModule();
    const handle = M.UploadQueue.create(o);
    if (!handle) throwLastError(M, 'QueueCore');
    this.#native = { M, handle };
    if (registry) registry.register(this, this.#native, this);
  }

  /** A queue in the state serialize() returned (an in-flight action is forgotten: its item is pending). */
  static restore(json, options = {}) {
    const q = new QueueCore(options);
    try {
      q.restore(json);
    } catch (e) {
      q.dispose();
      throw e;
    }
    return q;
  }

  #h(what) {
    const native = this.#native;
    if (!native.handle) throw new Error(`QueueCore.${what}: the queue has been disposed`);
    return native.handle;
  }

  #check(ok, what) {
    if (!ok) throwLastError(this.#native.M, `QueueCore.${what}`);
  }

  // ------------------------------------------------------------------------------------------ events

  /**
   * Adds an item at the end of the queue.
   * @param {{id: string, kind: 'screenshot'|'video', size?: number, metadata?: string|object, firstPartLast?: boolean}} item
   *   size: the screenshot's byte size (required for screenshots; a video's size is the sum of its parts)
   *   firstPartLast: (videos) parts come as 1, 2 ... n and then 0 (seekable streaming: part 0 holds the
   *   header the muxer patches at the end); finalize waits for part 0.
   */
  enqueue(item) {
    if (item === null || typeof item !== 'object') throw new TypeError('QueueCore.enqueue: item must be an object { id, kind, size?, metadata? }');
    const h = this.#h('enqueue');
    const id = checkString(item.id, 'QueueCore.enqueue: id', { nonEmpty: true });
    checkEnum(item.kind, 'QueueCore.enqueue: kind', ITEM_KINDS);
    const metadata = metadataString(item.metadata, 'QueueCore.enqueue: metadata');
    if (item.kind === 'screenshot') {
      checkNumber(item.size, 'QueueCore.enqueue: size', { min: 1, max: 2 ** 32, integer: true });
      this.#check(h.enqueueScreenshot(id, item.size, metadata), 'enqueue');
    } else {
      if (item.size !== undefined) {
        throw new TypeError('QueueCore.enqueue: size is only for screenshots; a video\'s size is the sum of its parts (addPart)');
      }
      if (item.firstPartLast !== undefined && typeof item.firstPartLast !== 'boolean') {
        throw new TypeError(`QueueCore.enqueue: firstPartLast must be a boolean, got ${typeof item.firstPartLast}`);
      }
      this.#check(h.enqueueVideo(id, metadata, item.firstPartLast === true), 'enqueue');
    }
  }

  /**
   * Adds the next part of a video: addPart(itemId, part) with a ChunkBuffer part, or
   * addPart(itemId, index, size, sha256).
   */
  addPart(itemId, indexOrPart, size, sha256) {
    const h = this.#h('addPart');
    checkString(itemId, 'QueueCore.addPart: itemId', { nonEmpty: true });
    let index = indexOrPart;
    if (indexOrPart !== null && typeof indexOrPart === 'object') {
      ({ index, sha256 } = indexOrPart);
      size = indexOrPart.size !== undefined ? indexOrPart.size : indexOrPart.bytes && indexOrPart.bytes.length;
    }
    checkNumber(index, 'QueueCore.addPart: index', { min: 0, max: 2 ** 32 - 1, integer: true });
    checkNumber(size, 'QueueCore.addPart: size', { min: 1, max: 5 * 2 ** 30, integer: true });
    checkString(sha256, 'QueueCore.addPart: sha256');
    if (!SHA256_HEX.test(sha256)) throw new TypeError('QueueCore.addPart: sha256 must be 64 lowercase hex characters');
    this.#check(h.addPart(itemId, index, size, sha256), 'addPart');
  }

  /** No more parts will come for this video; it finalizes once every part is confirmed. */
  markRecordingFinished(itemId) {
    const h = this.#h('markRecordingFinished');
    checkString(itemId, 'QueueCore.markRecordingFinished: itemId', { nonEmpty: true });
    this.#check(h.markRecordingFinished(itemId), 'markRecordingFinished');
  }

  /**
   * Ends a recording, whatever it holds: 'finished' (it finalizes once every part is confirmed), or
   * 'removed' when it holds no byte (no part; with firstPartLast, not even part 0): it left the queue.
   */
  finishRecording(itemId) {
    const h = this.#h('finishRecording');
    checkString(itemId, 'QueueCore.finishRecording: itemId', { nonEmpty: true });
    const r = h.finishRecording(itemId);
    this.#check(r >= 0, 'finishRecording');
    return r === 1 ? 'removed' : 'finished';
  }

  /**
   * A part list as a server sent it (an init answer, listParts, an error's part list): exactly the listed
   * parts the item has are confirmed; indices it does not have and repeats are ignored, as is the whole
   * list when the item is not a video with a session. Returns how many indices were ignored.
   */
  acceptServerPartList(itemId, indices) {
    const h = this.#h('acceptServerPartList');
    checkString(itemId, 'QueueCore.acceptServerPartList: itemId', { nonEmpty: true });
    if (!Array.isArray(indices)) throw new TypeError('QueueCore.acceptServerPartList: indices must be an array of part indices');
    indices.forEach((i, k) => checkNumber(i, `QueueCore.acceptServerPartList: indices[${k}]`, { min: -MAX_SAFE, max: MAX_SAFE, integer: true }));
    const n = h.acceptServerPartList(itemId, indices);
    this.#check(n >= 0, 'acceptServerPartList');
    return n;
  }

  /** The server's list of parts it holds for the item's current session (e.g. from an init response). */
  serverHasParts(itemId, indices) {
    const h = this.#h('serverHasParts');
    checkString(itemId, 'QueueCore.serverHasParts: itemId', { nonEmpty: true });
    if (!Array.isArray(indices)) throw new TypeError('QueueCore.serverHasParts: indices must be an array of part indices');
    indices.forEach((i, k) => checkNumber(i, `QueueCore.serverHasParts: indices[${k}]`, { min: 0, max: 2 ** 32 - 1, integer: true }));
    this.#check(h.serverHasParts(itemId, indices), 'serverHasParts');
  }

  /** Drops an item (not while its action is in flight). */
  remove(itemId) {
    const h = this.#h('remove');
    checkString(itemId, 'QueueCore.remove: itemId', { nonEmpty: true });
    this.#check(h.remove(itemId), 'remove');
  }

  /** Puts failed items (all, or the one given) back to pending with a fresh retry budget. Returns how many. */
  retryFailed(itemId) {
    const h = this.#h('retryFailed');
    if (itemId !== undefined) checkString(itemId, 'QueueCore.retryFailed: itemId', { nonEmpty: true });
    const n = h.retryFailed(itemId === undefined ? '' : itemId);
    this.#check(n >= 0, 'retryFailed');
    return n;
  }

  /** Connectivity changed (navigator.onLine, online/offline events). Going online retries at once. */
  setOnline(online) {
    if (typeof online !== 'boolean') throw new TypeError(`QueueCore.setOnline: online must be a boolean, got ${typeof online}`);
    this.#h('setOnline').setOnline(online);
  }

  /** The app obtained a token by other means (e.g. after a login): ends the 'authRequired' pause. */
  tokenUpdated() {
    this.#h('tokenUpdated').tokenUpdated();
  }

  // ------------------------------------------------------------------------------------------ driver

  /**
   * What to do now. An action with an id is in flight until succeeded()/failed() is called with it.
   * @returns {{type: 'none', reason: 'idle'|'offline'|'waitingForData'|'authRequired'}
   *   | {type: 'wait', until: number}
   *   | {type: 'busy', id: number, busyWith: string, itemId: string}
   *   | {type: 'refreshToken', id: number}
   *   | {type: 'init', id: number, itemId: string, metadata: string}
   *   | {type: 'uploadScreenshot', id: number, itemId: string, size: number, metadata: string}
   *   | {type: 'uploadPart', id: number, itemId: string, sessionId: string, partIndex: number, size: number, sha256: string}
   *   | {type: 'finalize', id: number, itemId: string, sessionId: string, partCount: number, size: number, metadata: string}}
   */
  nextAction(now = Date.now()) {
    const h = this.#h('nextAction');
    checkTime(now, 'QueueCore.nextAction: now');
    const a = h.nextAction(now);
    this.#check(a !== null, 'nextAction');
    return shapeAction(a);
  }

  /** nextAction() without starting anything. */
  peekAction(now = Date.now()) {
    const h = this.#h('peekAction');
    checkTime(now, 'QueueCore.peekAction: now');
    const a = h.peekAction(now);
    this.#check(a !== null, 'peekAction');
    return shapeAction(a);
  }

  /**
   * The action (or its id) succeeded. result: init -> the session id (required);
   * uploadScreenshot / finalize -> what to keep (e.g. the URL); otherwise ignored.
   */
  succeeded(action, result = '') {
    const h = this.#h('succeeded');
    const id = actionId(action, 'QueueCore.succeeded');
    checkString(result, 'QueueCore.succeeded: result');
    this.#check(h.succeeded(id, result), 'succeeded');
  }

  /**
   * The action (or its id) failed.
   * @param {'network'|'timeout'|'server5xx'|'rateLimited'|'client4xx'|'unauthorized'|'sessionExpired'|
   *         'malformed'|'checksumMismatch'|'offline'|'aborted'} kind
   * @param {{now?: number, retryAfterMs?: number, message?: string}} [details]
   */
  failed(action, kind, details = {}) {
    const h = this.#h('failed');
    const id = actionId(action, 'QueueCore.failed');
    checkEnum(kind, 'QueueCore.failed: kind', FAILURE_KINDS);
    if (details === null || typeof details !== 'object') throw new TypeError('QueueCore.failed: details must be an object { now?, retryAfterMs?, message? }');
    const { now = Date.now(), retryAfterMs = 0, message = '' } = details;
    checkTime(now, 'QueueCore.failed: now');
    checkTime(retryAfterMs, 'QueueCore.failed: retryAfterMs');
    checkString(message, 'QueueCore.failed: message');
    this.#check(h.failed(id, kind, now, retryAfterMs, message), 'failed');
  }

  // ------------------------------------------------------------------------------------------ reading

  /**
   * Counts per state, bytes, percentage, parts, connectivity and auth: what progress reports are made of.
   * @returns {{total: number, pending: number, initializing: number, uploading: number, finalizing: number,
   *   completed: number, failed: number, bytesTotal: number, bytesUploaded: number, percentage: number,
   *   partsTotal: number, partsConfirmed: number, isOnline: boolean, hasSession: boolean, currentItemId: string,
   *   tokenRefreshNeeded: boolean, authRequired: boolean, busy: boolean, nextRetryAt: number}}
   */
  summary() {
    return this.#h('summary').summary();
  }

  /** One item with its parts, or undefined. */
  item(itemId) {
    const h = this.#h('item');
    checkString(itemId, 'QueueCore.item: itemId');
    return h.item(itemId);
  }

  /** All items in queue order (without the per-part list). */
  items() {
    return this.#h('items').items();
  }

  /** The whole state as a compact JSON string (persist it after every event). */
  serialize() {
    return this.#h('serialize').serialize();
  }

  /**
   * A queue from a stored state that may be corrupt (a browser bug, a full disk, a hostile page): a state that
   * reads is restored as restore() does; otherwise the queue keeps every item that still reads on its own.
   * @returns {{queue: QueueCore, error: string, itemsKept: number, dropped: string[]}} error: why the state did
   *   not read as a whole ('' when it did); dropped: one line per item or field that could not be read
   */
  static restoreReadable(json, options = {}) {
    checkString(json, 'QueueCore.restoreReadable: json');
    const q = new QueueCore(options);
    const r = q.#h('restoreReadable').restoreReadable(json);
    return { queue: q, error: r.error, itemsKept: r.itemsKept, dropped: [...r.dropped] };
  }

  /** Replaces the state with a serialize() result; a corrupt string throws and changes nothing. */
  restore(json) {
    const h = this.#h('restore');
    checkString(json, 'QueueCore.restore: json');
    this.#check(h.restore(json), 'restore');
  }

  get disposed() { return !this.#native.handle; }

  /** Frees the native memory now (also done by a FinalizationRegistry if forgotten). Idempotent. */
  dispose() {
    if (!this.#native.handle) return;
    if (registry) registry.unregister(this);
    releaseNative(this.#native);
  }
}
if (typeof Symbol.dispose === 'symbol') QueueCore.prototype[Symbol.dispose] = QueueCore.prototype.dispose;
