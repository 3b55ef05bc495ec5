// The seeds' REST chunk protocol (seed 001; examples/server implements it):
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

export function resultString(obj) {
  const s = JSON.stringify(obj);
  return s.length > 8000 ? JSON.stringify({ url: obj.url }) : s;
}

/**
 * @param {object} options
 * @param {string} options.baseUrl         e.g. 'https://snaplark.com/api/v1' or the reference server's origin
 * @param {string} [options.screenshotPath] default '/screenshots/upload'
 * @param {string|false} [options.lookupUrl] where to look for a screenshot whose answer was lost before sending
 *   it again (GET ?type=screenshot, answers {captures: [{metadata, urls}]}); default {origin}/api/captures
 *   (the reference server); false: never look (a lost answer may then store the screenshot twice)
 * @param {Function} [options.fetch]
 * @param {'auto'|'fetch'|'xhr'} [options.engine]
 */
export function createRestTransport(options = {}) {
  if (!options || typeof options !== 'object') throw new TypeError('createRestTransport: options must be an object');
  const { baseUrl, screenshotPath = '/screenshots/upload', fetch, engine = 'auto' } = options;
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
      if (res.status === 409) {
        // The server holds other bytes for this index (or the session is finalized): sending again cannot help.
        throwForStatus(res, `chunk ${index}`);
      }
      throwForStatus(res, `chunk ${index}`, { sessionRoute: true });
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

  async function findScreenshot(ctx) {
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
    const list = Array.isArray(j.captures) ? j.captures : [];
    const hit = list.find((c) => c && c.metadata && c.metadata[CLIENT_ID_KEY] === ctx.itemId);
    if (!hit) return null;
    return { result: resultString({ url: hit.urls?.share ?? hit.url ?? null, id: hit.id ?? null, key: null, found: true }) };
  }

  async function uploadScreenshot(ctx) {
    if (ctx.maybeSent) {
      // An earlier attempt may have been stored although its answer never came: do not store it twice.
      const found = await findScreenshot(ctx);
      if (found) return found;
    }
    const md = { ...(ctx.metadata || {}), [CLIENT_ID_KEY]: ctx.itemId };
    const fields = [{ name: 'metadata', value: JSON.stringify(md) }];
    if (typeof md.session === 'string') fields.push({ name: 'session', value: md.session });
    fields.push({ name: 'file', filename: ctx.filename || 'screenshot.png', type: ctx.mimeType || 'image/png', bytes: ctx.bytes });
    const body = multipartBody(fields);
    const res = await req(ctx, { url: joinUrl(baseUrl, screenshotPath), method: 'POST', headers: { 'content-type': body.contentType },
      body: body.pieces, onProgress: ctx.onProgress });
    if (res.status < 200 || res.status > 299) throwForStatus(res, 'screenshot');
    const j = jsonBody(res, 'screenshot');
    if (!str(j.url)) throw new UploadError('malformed', 'screenshot: the answer has no url', { status: res.status, body: res.text.slice(0, 500) });
    return { result: resultString({ url: j.url, id: j.id ?? null, key: j.key ?? null }) };
  }

  return {
    name: 'rest',
    supports: { video: true, screenshot: true },
    init, uploadPart, listParts, finalize, uploadScreenshot,
    describe: () => ({ protocol: 'rest', baseUrl, screenshotPath, lookupUrl: lookupUrl || false, engine }),
  };
}

function withoutKey(o, k) {
  const { [k]: _drop, ...rest } = o;
  return rest;
}
