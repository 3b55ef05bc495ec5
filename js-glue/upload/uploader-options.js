// createUploader()'s options: checked once, with the defaults filled in.
import { MAX_PART_SIZE, PART_RULES } from './chunk-buffer.js';

export const RETAIN_MODES = Object.freeze(['confirmed', 'finalized', 'keep']);

function defaultTimeout({ size = 0 } = {}) {
  return 30000 + Math.ceil(size / 32); // 30 s plus the time at 32 KB/s
}

function globalOnline() {
  return typeof navigator === 'object' && navigator && typeof navigator.onLine === 'boolean' ? navigator.onLine : true;
}

/**
 * What a transport can do with a recording's parts (transports declare it as `capabilities`):
 *   appendOnly       the server appends bytes in order (tus): part 0 cannot be rewritten at the end
 *   partsOutOfOrder  parts may arrive in any order (REST, S3): a seekable recording sends part 0 last
 * A transport that declares nothing is taken to accept parts out of order.
 */
export function transportCapabilities(t) {
  const c = t.capabilities || {};
  return { appendOnly: c.appendOnly === true, partsOutOfOrder: c.partsOutOfOrder !== false };
}

/**
 * @typedef {object} UploaderOptions
 * @property {object} transport       createRestTransport / createTusTransport / createMultipartTransport / combineTransports
 * @property {object} [store]         createIdbStore() (the default where IndexedDB exists) or createMemoryStore()
 * @property {string} [name]          namespace for the lock, channel and default database ('default')
 * @property {object} [queue]         QueueCore options (maxRetries, backoffBaseMs, ...)
 * @property {'confirmed'|'finalized'|'keep'} [retain] when local bytes go: a part once the server confirmed
 *   it; the recording once finalized (default); or never (the app calls deleteLocalCopy)
 * @property {number} [keepCompleted] completed items kept in the queue for progress (default 100)
 * @property {'s3'|'r2'|'gcs'} [partRules] the part rules of the store the recordings' parts end up in
 *   (ChunkBuffer's store option; the C++ checks minPartSize against them): 's3' (default) and 'r2', parts
 *   of at least 5 MiB; 'gcs', 8 MiB by default and a multiple of 256 KiB
 * @property {number} [minPartSize]   recording part size (default: partRules' default, 5 MiB for S3)
 * @property {number|Function} [timeoutMs] per request, or ({size}) => ms (default 30 s + size at 32 KB/s)
 * @property {string} [token] Bearer token; or getToken: () => string | Promise<string>
 * @property {Function} [getToken]
 * @property {Function} [refreshToken] async () => new token, when the server answers 401
 * @property {object|null} [locks]    navigator.locks (default) or a MemoryLocks; null: this uploader always leads
 * @property {Function|null} [channel] (name) => BroadcastChannel-like; null: none
 * @property {() => boolean} [isOnline]
 * @property {EventTarget|null} [onlineEvents] where 'online'/'offline' fire (default globalThis)
 * @property {() => number} [now]
 * @property {boolean} [persistStorage] ask navigator.storage.persist() (default true)
 * @property {object|boolean} [backgroundSync] { registration?, persistToken? }: Background Sync finishes
 *   uploads in the service worker (web/upload-sw.js) after the page is closed
 * @property {object} [wasm]          options for initUpload() (the upload wasm module: { wasm, factory })
 * @property {number} [pollMs]        how often an idle leader looks at the inbox anyway (default 5000)
 */

/** The options with defaults; throws a TypeError / RangeError naming the bad one. */
export function normalizeUploaderOptions(options) {
  if (!options || typeof options !== 'object') throw new TypeError('createUploader: options must be an object');
  const t = options.transport;
  if (!t || typeof t.init !== 'function' || typeof t.uploadPart !== 'function' || typeof t.finalize !== 'function' ||
      typeof t.uploadScreenshot !== 'function' || typeof t.listParts !== 'function') {
    throw new TypeError('createUploader: transport must implement init, uploadPart, listParts, finalize and uploadScreenshot (see transports/)');
  }
  const retain = options.retain ?? 'finalized';
  if (!RETAIN_MODES.includes(retain)) throw new RangeError(`createUploader: retain must be one of ${RETAIN_MODES.join(', ')}, got ${JSON.stringify(retain)}`);
  const name = options.name ?? 'default';
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new TypeError('createUploader: name must be 1-64 characters [A-Za-z0-9_.-]');
  const partRules = options.partRules ?? 's3';
  if (!Object.hasOwn(PART_RULES, partRules)) {
    throw new TypeError(`createUploader: partRules must be one of ${Object.keys(PART_RULES).map((k) => `'${k}'`).join(', ')}, got ${JSON.stringify(partRules)}`);
  }
  const minPartSize = options.minPartSize ?? PART_RULES[partRules].minPartSize;
  if (!Number.isInteger(minPartSize) || minPartSize < 1 || minPartSize > MAX_PART_SIZE) throw new RangeError('createUploader: minPartSize must be an integer in [1, 2^30]');
  const keepCompleted = options.keepCompleted ?? 100;
  if (!Number.isInteger(keepCompleted) || keepCompleted < 0) throw new RangeError('createUploader: keepCompleted must be a non-negative integer');
  if (options.token !== undefined && typeof options.token !== 'string') throw new TypeError('createUploader: token must be a string');
  for (const f of ['getToken', 'refreshToken', 'isOnline', 'now']) {
    if (options[f] !== undefined && typeof options[f] !== 'function') throw new TypeError(`createUploader: ${f} must be a function`);
  }
  const hasLocks = typeof navigator === 'object' && navigator?.locks && typeof navigator.locks.request === 'function';
  return {
    transport: t,
    capabilities: transportCapabilities(t),
    name,
    queue: options.queue || {},
    retain,
    keepCompleted: Math.min(keepCompleted, 2 ** 32 - 1),
    minPartSize,
    partRules,
    timeoutMs: options.timeoutMs ?? defaultTimeout,
    getToken: options.getToken,
    refreshToken: options.refreshToken,
    locks: options.locks === undefined ? (hasLocks ? navigator.locks : null) : options.locks,
    channel: options.channel === undefined
      ? (typeof BroadcastChannel === 'function' ? (n) => new BroadcastChannel(n) : null) : options.channel,
    isOnline: options.isOnline || globalOnline,
    onlineEvents: options.onlineEvents === undefined ? (typeof globalThis.addEventListener === 'function' ? globalThis : null) : options.onlineEvents,
    now: options.now || Date.now,
    persistStorage: options.persistStorage ?? true,
    backgroundSync: options.backgroundSync || false,
    wasm: options.wasm || {},
    pollMs: options.pollMs ?? 5000,
    orphanCheckMs: options.orphanCheckMs ?? 3000,
  };
}
