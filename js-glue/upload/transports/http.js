// HTTP for the upload transports: one request function (fetch + AbortController timeout; XMLHttpRequest
// where a browser should report upload progress), multipart bodies, and the classification of every
// outcome into the failure kinds QueueCore understands (wasm/upload/upload_queue.h). A transport never
// decides what happens after a failure; it only says which kind of failure it was.
//
// Adapter interface (rest.js, tus.js, multipart.js implement it; uploader.js calls it):
//   name                                 'rest' | 'tus' | 'multipart' | ...
//   supports: { video, screenshot }      which item kinds it can upload
//   capabilities: { appendOnly, partsOutOfOrder }   what it can do with a recording's parts: appendOnly, the
//                                        server appends bytes in order (tus); partsOutOfOrder, parts may
//                                        arrive in any order (REST, S3), so a seekable recording can send
//                                        part 0 (with the patched header) last. Missing: partsOutOfOrder.
//   init(ctx)            -> { sessionId, parts?: number[] }   ctx: { itemId, metadata, recordingFinished, totalSize }
//   uploadPart(ctx)      -> { }                               ctx: { sessionId, index, bytes, sha256, offset, size,
//                                                                    totalSize, recordingFinished, onProgress }
//   finalize(ctx)        -> { result: string }                ctx: { sessionId, partCount, partSizes, totalSize, metadata,
//                                                                    finalMetadata (given when the recording stopped) }
//   uploadScreenshot(ctx)-> { result: string }                ctx: { itemId, bytes, filename, mimeType, metadata,
//                                                                    maybeSent, itemData, saveItemData(obj), onProgress }
//   listParts(ctx)       -> number[]                          ctx: { sessionId, partSizes }
//   describe()           -> a JSON-able description (transportFromDescription() rebuilds it, e.g. in the
//                           service worker)
// Every ctx also has { signal, timeoutMs, token }. Failures throw UploadError(kind, message, details).

export const FAILURE_KIND_SET = new Set([
  'network', 'timeout', 'server5xx', 'rateLimited', 'client4xx', 'unauthorized', 'sessionExpired',
  'malformed', 'checksumMismatch', 'offline', 'aborted',
]);

/** A failed upload request, classified for QueueCore.failed(). */
export class UploadError extends Error {
  /**
   * @param {string} kind one of FAILURE_KIND_SET
   * @param {string} message
   * @param {{status?: number, retryAfterMs?: number, cause?: unknown, body?: string, serverParts?: number[]}} [details]
   */
  constructor(kind, message, details = {}) {
    super(message, details.cause !== undefined ? { cause: details.cause } : undefined);
    if (!FAILURE_KIND_SET.has(kind)) throw new RangeError(`UploadError: unknown failure kind "${kind}"`);
    this.name = 'UploadError';
    this.kind = kind;
    this.status = details.status ?? 0;
    this.retryAfterMs = details.retryAfterMs ?? 0;
    if (details.body !== undefined) this.body = details.body;
    if (details.serverParts !== undefined) this.serverParts = details.serverParts;
  }
}

/** Retry-After: delta seconds or an HTTP date, as ms from now (0 when absent or unreadable). */
export function parseRetryAfter(value, now = Date.now()) {
  if (value === null || value === undefined || value === '') return 0;
  const s = String(value).trim();
  if (/^\d+$/.test(s)) return Math.min(Number(s) * 1000, 86400000);
  const t = Date.parse(s);
  return Number.isFinite(t) ? Math.max(0, Math.min(t - now, 86400000)) : 0;
}

/**
 * The failure kind of an HTTP status that is not a success.
 * @param {number} status
 * @param {{sessionRoute?: boolean}} [o] sessionRoute: 404/410 mean the upload session is gone
 */
export function kindForStatus(status, { sessionRoute = false } = {}) {
  if (status === 401) return 'unauthorized';
  if (status === 408) return 'timeout';
  if (status === 429) return 'rateLimited';
  if ((status === 404 || status === 410) && sessionRoute) return 'sessionExpired';
  if (status === 422) return 'checksumMismatch';
  if (status >= 500) return 'server5xx';
  if (status >= 400) return 'client4xx';
  return 'malformed'; // 1xx / 3xx that reached us: not an answer this protocol has
}

function errorText(text) {
  if (!text) return '';
  const t = String(text).replace(/\s+/g, ' ').trim();
  try {
    const j = JSON.parse(t);
    if (j && typeof j.error === 'string') return j.error;
    if (j && typeof j.message === 'string') return j.message;
  } catch { /* not JSON */ }
  return t.slice(0, 200);
}

/** Throws the UploadError for a non-2xx response. */
export function throwForStatus(res, what, o = {}) {
  const kind = kindForStatus(res.status, o);
  const msg = errorText(res.text);
  throw new UploadError(kind, `${what}: HTTP ${res.status}${msg ? ` (${msg})` : ''}`, {
    status: res.status, retryAfterMs: parseRetryAfter(res.headers.get('retry-after')), body: res.text?.slice(0, 2000),
  });
}

/**
 * The JSON object of a 2xx answer, or UploadError('malformed') for anything else (an HTML captive portal
 * page, text that is not JSON, an array...). A 2xx body with an `error` field is the server saying it
 * failed: 'server5xx'.
 */
export function jsonBody(res, what) {
  const type = (res.headers.get('content-type') || '').toLowerCase();
  const text = res.text || '';
  if (!/^application\/([a-z0-9.+-]*\+)?json/.test(type)) {
    throw new UploadError('malformed', `${what}: expected a JSON answer, got ${type || 'no content type'}` +
      `${/<html|<!doctype/i.test(text) ? ' (an HTML page: a captive portal or proxy?)' : ''}`, { status: res.status, body: text.slice(0, 500) });
  }
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new UploadError('malformed', `${what}: the answer is not valid JSON (${text.length} bytes${text.length ? `: ${JSON.stringify(text.slice(0, 40))}` : ''})`,
      { status: res.status, body: text.slice(0, 500) });
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new UploadError('malformed', `${what}: the answer is not a JSON object`, { status: res.status, body: text.slice(0, 500) });
  }
  if (body.error !== undefined && body.error !== null && body.error !== false) {
    throw new UploadError('server5xx', `${what}: HTTP ${res.status} with an error in the body (${errorText(text)})`, { status: res.status, body: text.slice(0, 500) });
  }
  return body;
}

// ------------------------------------------------------------------------------------------ bodies

const encoder = new TextEncoder();

function quoteName(s) {
  return String(s).replace(/[\r\n"\\]/g, '_');
}

/**
 * A multipart/form-data body from fields in order: { name, value } (text) or
 * { name, filename, type, bytes } (file). Returns { pieces: Uint8Array[], contentType, length }.
 */
export function multipartBody(fields) {
  const rnd = Array.from({ length: 2 }, () => Math.random().toString(36).slice(2)).join('');
  const boundary = `----capturekit${rnd}`;
  const pieces = [];
  for (const f of fields) {
    if (f.bytes !== undefined) {
      pieces.push(encoder.encode(`--${boundary}\r\nContent-Disposition: form-data; name="${quoteName(f.name)}"; ` +
        `filename="${quoteName(f.filename || 'blob')}"\r\nContent-Type: ${f.type || 'application/octet-stream'}\r\n\r\n`));
      pieces.push(f.bytes);
      pieces.push(encoder.encode('\r\n'));
    } else {
      pieces.push(encoder.encode(`--${boundary}\r\nContent-Disposition: form-data; name="${quoteName(f.name)}"\r\n\r\n${f.value}\r\n`));
    }
  }
  pieces.push(encoder.encode(`--${boundary}--\r\n`));
  const length = pieces.reduce((n, p) => n + p.byteLength, 0);
  return { pieces, contentType: `multipart/form-data; boundary=${boundary}`, length };
}

// ------------------------------------------------------------------------------------------ request

const isNode = typeof process === 'object' && !!process.versions?.node;

function defaultIsOnline() {
  return typeof navigator === 'object' && navigator && typeof navigator.onLine === 'boolean' ? navigator.onLine : true;
}

/**
 * One HTTP request with a timeout; the whole answer body is read (as text) before it resolves, so a
 * connection cut in the middle of the answer is a failure, never a half-read success.
 *
 * @param {object} o
 * @param {string} o.url
 * @param {string} [o.method]
 * @param {Record<string,string>} [o.headers]
 * @param {Uint8Array[]|Uint8Array|string} [o.body] pieces are sent as one body
 * @param {number} [o.timeoutMs] 0 = none
 * @param {AbortSignal} [o.signal] the caller's abort (-> 'aborted')
 * @param {(loaded: number, total: number) => void} [o.onProgress] upload progress
 * @param {Function} [o.fetch]
 * @param {() => boolean} [o.isOnline]
 * @param {'auto'|'fetch'|'xhr'} [o.engine] auto: XMLHttpRequest for request bodies in a page or Worker (fetch has no
 *   upload progress there), fetch otherwise (Node, service workers) and whenever a custom fetch is given
 * @returns {Promise<{status: number, headers: Headers|{get(name: string): string|null}, text: string}>}
 */
export async function httpRequest(o) {
  const { url, method = 'GET', headers = {}, timeoutMs = 0, signal, onProgress, isOnline = defaultIsOnline, engine = 'auto' } = o;
  const pieces = o.body === undefined ? null : Array.isArray(o.body) ? o.body : [typeof o.body === 'string' ? encoder.encode(o.body) : o.body];
  const total = pieces ? pieces.reduce((n, p) => n + p.byteLength, 0) : 0;
  if (signal?.aborted) throw new UploadError('aborted', `${method} ${url}: aborted before it started`);
  const useXhr = engine === 'xhr' || (engine === 'auto' && !o.fetch && onProgress && pieces && total > 0 &&
    typeof XMLHttpRequest === 'function' && !isNode);
  const controller = new AbortController();
  let timedOut = false;
  const timer = timeoutMs > 0 ? setTimeout(() => { timedOut = true; controller.abort(); }, timeoutMs) : null;
  const onAbort = () => controller.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const fail = (e) => {
    if (e instanceof UploadError) return e;
    if (timedOut) return new UploadError('timeout', `${method} ${url}: no complete answer within ${timeoutMs} ms`, { cause: e });
    if (!isOnline()) return new UploadError('offline', `${method} ${url}: offline`, { cause: e });
    if (signal?.aborted) return new UploadError('aborted', `${method} ${url}: aborted`, { cause: e });
    const why = e && (e.cause?.code || e.cause?.message || e.message);
    return new UploadError('network', `${method} ${url}: network error${why ? ` (${why})` : ''}`, { cause: e });
  };
  try {
    if (useXhr) return await xhrRequest({ url, method, headers, pieces, total, onProgress, controller });
    const f = o.fetch || globalThis.fetch;
    const init = { method, headers, signal: controller.signal, redirect: 'follow', cache: 'no-store' };
    if (pieces) init.body = pieces.length === 1 ? pieces[0] : new Blob(pieces);
    const res = await f(url, init);
    const text = await res.text();
    if (onProgress && pieces) onProgress(total, total); // fetch reports no upload progress: all at once
    return { status: res.status, headers: res.headers, text };
  } catch (e) {
    throw fail(e);
  } finally {
    if (timer) clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

function xhrRequest({ url, method, headers, pieces, total, onProgress, controller }) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url, true);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.responseType = 'text';
    if (onProgress && xhr.upload) xhr.upload.onprogress = (e) => onProgress(e.loaded, total);
    const abort = () => xhr.abort();
    controller.signal.addEventListener('abort', abort, { once: true });
    xhr.onload = () => {
      controller.signal.removeEventListener('abort', abort);
      const raw = xhr.getAllResponseHeaders();
      const map = new Map();
      for (const line of raw.split(/\r?\n/)) {
        const k = line.indexOf(':');
        if (k > 0) map.set(line.slice(0, k).trim().toLowerCase(), line.slice(k + 1).trim());
      }
      if (onProgress) onProgress(total, total);
      resolve({ status: xhr.status, headers: { get: (n) => map.get(String(n).toLowerCase()) ?? null }, text: xhr.responseText });
    };
    xhr.onerror = () => reject(new TypeError('XMLHttpRequest network error'));
    xhr.onabort = () => reject(new DOMException('aborted', 'AbortError'));
    xhr.send(pieces ? new Blob(pieces) : null);
  });
}

/** The request timeout for a body of `size` bytes: a base plus the time at a slow floor rate. */
export function timeoutFor(timeoutMs, size) {
  if (typeof timeoutMs === 'function') return timeoutMs({ size });
  return timeoutMs;
}

/** Bearer header from a token ('' / null: none). */
export function authHeaders(token) {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** base + path without a doubled or missing slash. */
export function joinUrl(base, path) {
  return `${String(base).replace(/\/+$/, '')}/${String(path).replace(/^\/+/, '')}`;
}
