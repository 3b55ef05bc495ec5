// capturekit's REST chunk protocol (examples/server implements it):
//   POST {base}/videos/init      JSON {filename, timestamp, fps, codec, bitrate, resolution, ...}  -> {sessionId}
//   POST {base}/videos/chunk     multipart sessionId, chunkIndex, checksum, chunk                    -> {received, chunkIndex}
//   GET  {base}/videos/:id/chunks                                                                    -> {chunks: [...]}
//   POST {base}/videos/finalize  JSON {sessionId, totalChunks, uploadedChunks, duration, metadata}    -> {url, key}
//   POST {base}/screenshots/upload multipart metadata, file                                          -> {url}
// Every answer is checked: a 200 that is not the JSON the protocol promises (HTML, not JSON, no
// sessionId, another chunkIndex, an error body) is a failure of the matching kind, never a success.
import {
  UploadError, httpRequest, jsonBody, throwForStatus, multipartBody, authHeaders, joinUrl,
} from './http.js';

export const CLIENT_ID_KEY = 'clientUploadId';
const INIT_FIELDS = ['filename', 'timestamp', 'fps', 'codec', 'bitrate', 'resolution', 'mimeType', 'session'];

function str(v) { return typeof v === 'string' && v.length > 0; }

/** Idempotency-Key for a single-request upload: the item's stable id, as the IETF draft's quoted string. */
export function idempotencyHeader(itemId, enabled = true) {
  return enabled && typeof itemId === 'string' && /^[\x21\x23-\x5b\x5d-\x7e]{1,253}$/.test(itemId) ? { 'idempotency-key': `"${itemId}"` } : {};
}

export function resultString(obj) {
  const s = JSON.stringify(obj);
  return s.length > 8000 ? JSON.stringify({ url: obj.url }) : s;
}

/**
 * @param {object} options
 * @param {string} options.baseUrl         e.g. 'https://snaplark.com/api/v1' or the reference server's origin
 * @param {string} [options.screenshotPath] default '/screenshots/upload'
 * @param {string|false} [options.lookupUrl] where to look for a screenshot whose answer was lost before sending
 *   it again (GET ?type=screenshot, answers {captures: [{id, createdAt, metadata, urls}]}; DELETE {lookupUrl}/{id}
 *   removes a copy that landed late); default {origin}/api/captures (the reference server); false: never look
 *   (a lost answer may then store the screenshot twice). A server-side idempotency key would make this exact.
 * @param {number} [options.lookupSettleMs] before that lookup, wait this long after the earlier attempt was sent
 *   (a request from a tab that went away, or one that timed out, may still be landing on the server; default 3000)
 * @param {'always'|'afterUnknown'} [options.checkCopies] when to look for a second copy after a screenshot upload
 *   succeeded: 'always' (default; a browser resends a POST by itself when a reused keep-alive connection is reset
 *   before the answer, so a server that stored the first one stores it twice without the page ever seeing an
 *   error), or only after an attempt of unknown outcome. Needs lookupUrl.
 * @param {boolean} [options.idempotencyKey] default true: the screenshot POST carries `Idempotency-Key: "<item id>"`
 *   (a server that knows it answers a retry with the first capture); false for a server whose CORS rule refuses the header
 * @param {Function} [options.fetch]
 * @param {'auto'|'fetch'|'xhr'} [options.engine]
 */
export function createRestTransport(options) {
  if (!options || typeof options !== 'object') throw new TypeError('createRestTransport: options must be an object');
  const { baseUrl, screenshotPath = '/screenshots/upload', fetch, engine = 'auto', lookupSettleMs = 3000, checkCopies = 'always' } = options;
  if (checkCopies !== 'always' && checkCopies !== 'afterUnknown') throw new TypeError("createRestTransport: checkCopies must be 'always' or 'afterUnknown'");
  if (typeof baseUrl !== 'string' || !/^https?:\/\//.test(baseUrl)) {
    throw new TypeError(`createRestTransport: baseUrl must be an http(s) URL, got ${JSON.stringify(baseUrl)}`);
  }
  const lookupUrl = options.lookupUrl === false ? null : (options.lookupUrl || `${new URL(baseUrl).origin}/api/captures`);
  const req = (ctx, o) => httpRequest({ fetch, engine, signal: ctx.signal, timeoutMs: ctx.timeoutMs, isOnline: ctx.isOnline, ...o,
    headers: { accept: 'application/json', ...authHeaders(ctx.token), ...(o.headers || {}) } });

  async function init(ctx) {
    const md = { ...(ctx.metadata || {}) };
    const body = {};
    for (const k of INIT_FIELDS) if (md[k] !== undefined) { body[k] = md[k]; delete md[k]; }
    if (body.filename === undefined) body.filename = `recording-${Date.now()}.webm`;
    if (body.timestamp === undefined) body.timestamp = Date.now();
    body.metadata = { ...(md.metadata && typeof md.metadata === 'object' ? md.metadata : {}), ...withoutKey(md, 'metadata'), [CLIENT_ID_KEY]: ctx.itemId };
    const res = await req(ctx, { url: joinUrl(baseUrl, 'videos/init'), method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status < 200 || res.status > 299) throwForStatus(res, 'init');
    const j = jsonBody(res, 'init');
    if (!str(j.sessionId)) throw new UploadError('malformed', 'init: the answer has no sessionId', { status: res.status, body: res.text.slice(0, 500) });
    if (j.sessionId.length > 1024) throw new UploadError('malformed', 'init: the sessionId is longer than 1024 characters');
    return { sessionId: j.sessionId };
  }

  async function uploadPart(ctx) {
    const { sessionId, index, bytes, sha256 } = ctx;
    const body = multipartBody([
      { name: 'sessionId', value: sessionId },
      { name: 'chunkIndex', value: String(index) },
      { name: 'checksum', value: sha256 },
      { name: 'chunk', filename: `chunk_${index}.webm`, type: 'video/webm', bytes },
    ]);
    const res = await req(ctx, { url: joinUrl(baseUrl, 'videos/chunk'), method: 'POST', headers: { 'content-type': body.contentType },
      body: body.pieces, onProgress: ctx.onProgress });
    if (res.status < 200 || res.status > 299) {
      if (res.status === 409 && /finalized/i.test(res.text)) {
        // A finalize went through although its answer was lost: every part is on the server.
        const all = Array.from({ length: (ctx.partSizes || []).length }, (_, i) => i);
        throw new UploadError('malformed', `chunk ${index}: the session is already finalized`, { status: 409, serverParts: all });
      }
      // 409 otherwise: the server holds other bytes for this index; sending again cannot help.
      throwForStatus(res, `chunk ${index}`, { sessionRoute: res.status !== 409 });
    }
    const j = jsonBody(res, `chunk ${index}`);
    if (j.received !== true) throw new UploadError('malformed', `chunk ${index}: the answer does not say received: true`, { status: res.status, body: res.text.slice(0, 500) });
    const echoed = typeof j.chunkIndex === 'string' && /^\d+$/.test(j.chunkIndex) ? Number(j.chunkIndex) : j.chunkIndex;
    if (echoed !== index) {
      throw new UploadError('malformed', `chunk ${index}: the server acknowledged chunkIndex ${JSON.stringify(j.chunkIndex)}`, { status: res.status, body: res.text.slice(0, 500) });
    }
    if (j.checksum !== undefined && String(j.checksum).toLowerCase() !== sha256) {
      throw new UploadError('checksumMismatch', `chunk ${index}: the server stored SHA-256 ${j.checksum}, expected ${sha256}`, { status: res.status });
    }
    if (j.size !== undefined && j.size !== bytes.byteLength) {
      throw new UploadError('checksumMismatch', `chunk ${index}: the server stored ${j.size} bytes, sent ${bytes.byteLength}`, { status: res.status });
    }
    return {};
  }

  async function listParts(ctx) {
    const res = await req(ctx, { url: joinUrl(baseUrl, `videos/${encodeURIComponent(ctx.sessionId)}/chunks`) });
    if (res.status < 200 || res.status > 299) throwForStatus(res, 'chunks', { sessionRoute: true });
    const j = jsonBody(res, 'chunks');
    if (!Array.isArray(j.chunks) || !j.chunks.every((i) => Number.isInteger(i) && i >= 0)) {
      throw new UploadError('malformed', 'chunks: the answer has no list of chunk indices', { status: res.status, body: res.text.slice(0, 500) });
    }
    // A finalized session keeps no parts, but it has them all: what is left is the finalize (answered again).
    if (j.state === 'finalized' || j.state === 'finalizing') return Array.from({ length: (ctx.partSizes || []).length }, (_, i) => i);
    return j.chunks;
  }

  async function finalize(ctx) {
    const { sessionId, partCount } = ctx;
    const { duration: d, ...extra } = ctx.finalMetadata || {};
    const duration = typeof d === 'number' && d >= 0 ? d : (typeof ctx.metadata?.duration === 'number' ? ctx.metadata.duration : undefined);
    const body = {
      sessionId, totalChunks: partCount, uploadedChunks: Array.from({ length: partCount }, (_, i) => i),
      ...(duration !== undefined ? { duration } : {}),
      ...(Object.keys(extra).length ? { metadata: extra } : {}),
    };
    const res = await req(ctx, { url: joinUrl(baseUrl, 'videos/finalize'), method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status === 400 && /missing|extra/i.test(res.text)) {
      // The server lacks parts we hold as confirmed: ask it which it has, so only those are sent again.
      let serverParts;
      try { serverParts = await listParts(ctx); } catch { serverParts = undefined; }
      throw new UploadError('malformed', `finalize: the server is missing parts (${res.text.slice(0, 200)})`, { status: 400, serverParts });
    }
    if (res.status < 200 || res.status > 299) throwForStatus(res, 'finalize', { sessionRoute: true });
    const j = jsonBody(res, 'finalize');
    if (!str(j.url) && !str(j.key)) throw new UploadError('malformed', 'finalize: the answer has neither url nor key', { status: res.status, body: res.text.slice(0, 500) });
    return { result: resultString({ url: j.url ?? null, key: j.key ?? null, id: j.id ?? null, size: j.size ?? null, sha256: j.sha256 ?? null }) };
  }

  // The server's copies of this screenshot (by the client id in its metadata), oldest first; null: no lookup.
  async function copiesOf(ctx) {
    if (!lookupUrl) return null;
    const url = `${lookupUrl}?type=screenshot${ctx.metadata?.session ? `&session=${encodeURIComponent(ctx.metadata.session)}` : ''}`;
    let res;
    try {
      res = await req(ctx, { url });
    } catch (e) {
      if (e instanceof UploadError && e.kind === 'aborted') throw e;
      throw new UploadError(e.kind || 'network', `screenshot lookup: ${e.message}`);
    }
    if (res.status === 404 || res.status === 405) return null; // no lookup on this server
    if (res.status < 200 || res.status > 299) throwForStatus(res, 'screenshot lookup');
    const j = jsonBody(res, 'screenshot lookup');
    if (!Array.isArray(j.captures)) return null; // a server with another API: no lookup there
    const list = j.captures;
    return list.filter((c) => c && c.metadata && c.metadata[CLIENT_ID_KEY] === ctx.itemId)
      .sort((a, b) => (String(a.createdAt) < String(b.createdAt) ? -1 : String(a.createdAt) > String(b.createdAt) ? 1 : 0));
  }

  // Keeps the oldest of the server's copies of this screenshot and deletes the others (an attempt whose answer
  // was lost, or a POST the browser itself sent again after a connection reset, may have stored it too).
  // Returns the kept copy's result, or null when the server has none (or offers no lookup). A failed lookup
  // or delete throws: the action fails and the next attempt looks again.
  async function keepOneCopy(ctx) {
    const copies = await copiesOf(ctx);
    if (!copies || !copies.length) return null;
    let removed = 0;
    for (const c of copies.slice(1)) {
      if (typeof c.id !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(c.id)) continue;
      const r = await req(ctx, { url: `${lookupUrl}/${c.id}`, method: 'DELETE' });
      if (r.status === 404) continue;
      if (r.status < 200 || r.status > 299) throwForStatus(r, 'screenshot: deleting a second copy');
      removed++;
    }
    const c = copies[0];
    return { result: resultString({ url: c.urls?.share ?? c.url ?? null, id: c.id ?? null, key: null, ...(removed ? { removedCopies: removed } : {}) }) };
  }

  async function uploadScreenshot(ctx) {
    if (ctx.maybeSent) {
      // An earlier attempt may have been stored although its answer never came: do not store it twice.
      await settle(ctx.sentAt + lookupSettleMs - Date.now(), ctx.signal);
      const found = await keepOneCopy(ctx);
      if (found) return found;
    }
    const md = { ...(ctx.metadata || {}), [CLIENT_ID_KEY]: ctx.itemId };
    const fields = [{ name: 'metadata', value: JSON.stringify(md) }];
    if (typeof md.session === 'string') fields.push({ name: 'session', value: md.session });
    fields.push({ name: 'file', filename: ctx.filename || 'screenshot.png', type: ctx.mimeType || 'image/png', bytes: ctx.bytes });
    const body = multipartBody(fields);
    const res = await req(ctx, { url: joinUrl(baseUrl, screenshotPath), method: 'POST', headers: { 'content-type': body.contentType, ...idempotencyHeader(ctx.itemId, options.idempotencyKey !== false) },
      body: body.pieces, onProgress: ctx.onProgress });
    if (res.status < 200 || res.status > 299) throwForStatus(res, 'screenshot');
    const j = jsonBody(res, 'screenshot');
    if (!str(j.url)) throw new UploadError('malformed', 'screenshot: the answer has no url', { status: res.status, body: res.text.slice(0, 500) });
    if (ctx.maybeSent || checkCopies === 'always') {
      const kept = await keepOneCopy(ctx);
      if (kept) return kept;
    }
    return { result: resultString({ url: j.url, id: j.id ?? null, key: j.key ?? null }) };
  }

  return {
    name: 'rest',
    supports: { video: true, screenshot: true },
    capabilities: { appendOnly: false, partsOutOfOrder: true },
    init, uploadPart, listParts, finalize, uploadScreenshot,
    describe: () => ({ protocol: 'rest', baseUrl, screenshotPath, lookupUrl: lookupUrl || false, lookupSettleMs, checkCopies, engine }),
  };
}

function settle(ms, signal) {
  if (!(ms > 0)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(done, Math.min(ms, 60000));
    function done() { signal?.removeEventListener('abort', abort); resolve(); }
    function abort() { clearTimeout(t); reject(new UploadError('aborted', 'aborted while waiting to look for an earlier attempt')); }
    signal?.addEventListener('abort', abort, { once: true });
  });
}

function withoutKey(o, k) {
  const { [k]: _drop, ...rest } = o;
  return rest;
}
