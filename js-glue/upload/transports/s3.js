// S3 multipart upload straight from the browser to the bucket: the app's backend holds the credentials
// and hands out presigned URLs; the parts (>= 5 MiB except the last: ChunkBuffer's default minPartSize)
// never pass through the backend. The backend protocol (examples/server/routes/s3.js implements it):
//   init            POST {endpoint}  JSON {filename, contentType, metadata}                 -> {uploadId, key}
//   uploadPart k    GET  {endpoint}/{uploadId}/part/{k+1}?key=   -> {url, expiresIn}; then PUT url (the bytes)
//                   to the bucket, whose ETag header is kept for the completion
//   listParts       GET  {endpoint}/{uploadId}/parts?key=        -> {parts: [{PartNumber, ETag, Size}]}
//   finalize        POST {endpoint}/{uploadId}/complete  JSON {key, parts: [{PartNumber, ETag}]} -> {url, key, etag}
//   (abort)         DELETE {endpoint}/{uploadId}?key=
// S3 part numbers are the ChunkBuffer's part index + 1. The session id QueueCore keeps is
// JSON {"uploadId", "key"}. ETags are kept in memory per session; after a reload (a new transport) the
// ones it lacks come from ListParts, which the uploader calls when it resumes.
//
// How the bucket's answers are classified (QueueCore decides what follows, see upload_queue.h):
//   2xx without an ETag header       malformed (in a browser: the bucket's CORS rule does not expose ETag)
//   NoSuchUpload (404)               sessionExpired: the upload is gone, the item re-inits
//   AccessDenied "Request has expired" timeout: retried; the next attempt asks the backend for a fresh URL
//   other AccessDenied (403)         unauthorized: the queue refreshes the app token, then a fresh URL
//   SignatureDoesNotMatch, InvalidAccessKeyId, EntityTooSmall, EntityTooLarge: client4xx (permanent)
//   SlowDown / 503                   rateLimited (Retry-After honoured); InternalError / 5xx: server5xx
//   RequestTimeout                   timeout;  BadDigest / InvalidDigest: checksumMismatch
import { UploadError, httpRequest, jsonBody, throwForStatus, authHeaders, joinUrl, parseRetryAfter } from './http.js';
import { CLIENT_ID_KEY, resultString } from './rest.js';

export const S3_MIN_PART_SIZE = 5 * 1024 * 1024;
export const S3_MAX_PARTS = 10000;

/** The S3 error code and message of an XML error body ('' when it is not one). */
export function parseS3Error(text) {
  const t = String(text || '');
  const tag = (name) => {
    const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(t);
    return m ? m[1].replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').trim() : '';
  };
  return { code: tag('Code'), message: tag('Message') };
}

const ETAG_HINT = 'the bucket\'s CORS rule must expose it: add <ExposeHeader>ETag</ExposeHeader> to the CORS configuration ' +
  '(S3 console / JSON: "ExposeHeaders": ["ETag"]); without it the browser hides the header and the upload cannot be completed';

/**
 * Throws the UploadError for a non-2xx answer of the bucket to a presigned request.
 * @returns {never}
 */
export function throwForS3(res, what) {
  const { code, message } = parseS3Error(res.text);
  const status = res.status;
  const detail = `${what}: S3 ${status}${code ? ` ${code}` : ''}${message ? ` (${message})` : ''}`;
  const d = { status, body: String(res.text || '').slice(0, 2000), retryAfterMs: parseRetryAfter(res.headers.get('retry-after')) };
  if (code === 'NoSuchUpload') throw new UploadError('sessionExpired', `${detail}: the multipart upload is gone (aborted, completed or expired); starting a new one`, d);
  if (code === 'AccessDenied' && /expired/i.test(message)) {
    throw new UploadError('timeout', `${detail}: the presigned URL expired before the request reached the bucket; the next attempt asks for a fresh URL`, d);
  }
  if (code === 'AccessDenied' || (status === 403 && !code)) throw new UploadError('unauthorized', `${detail}: the bucket refused the presigned URL`, d);
  if (code === 'SignatureDoesNotMatch' || code === 'InvalidAccessKeyId' || code === 'AuthorizationQueryParametersError') {
    throw new UploadError('client4xx', `${detail}: the backend signs URLs the bucket does not accept (its credentials, or headers the browser does not send)`, d);
  }
  if (code === 'EntityTooSmall') throw new UploadError('client4xx', `${detail}: every part but the last must be at least 5 MiB`, d);
  if (code === 'EntityTooLarge') throw new UploadError('client4xx', `${detail}: a part may be at most 5 GiB`, d);
  if (code === 'SlowDown' || status === 503 || status === 429) {
    throw new UploadError('rateLimited', `${detail}: the bucket asks to slow down`, { ...d, retryAfterMs: d.retryAfterMs || 1000 });
  }
  if (code === 'RequestTimeout' || status === 408) throw new UploadError('timeout', detail, d);
  if (code === 'BadDigest' || code === 'InvalidDigest') throw new UploadError('checksumMismatch', detail, d);
  if (status >= 500) throw new UploadError('server5xx', detail, d);
  if (status >= 400) throw new UploadError('client4xx', detail, d);
  throw new UploadError('malformed', `${detail}: not an answer S3 gives to UploadPart`, d);
}

/** Parses the session id init() made. */
export function parseS3Session(sessionId) {
  let s = null;
  try { s = JSON.parse(sessionId); } catch { s = null; }
  if (!s || typeof s.uploadId !== 'string' || !s.uploadId || typeof s.key !== 'string' || !s.key) {
    throw new UploadError('sessionExpired', `s3: ${JSON.stringify(String(sessionId).slice(0, 80))} is not a session of the s3 transport; starting a new upload`);
  }
  return s;
}

/**
 * @param {object} options
 * @param {string} options.endpoint    the backend's multipart base URL, e.g. 'https://app.example/s3/multipart'
 *   (the reference server: `${origin}/s3/multipart`)
 * @param {number} [options.urlMarginMs] a cached presigned URL is used again (on a retry of its part) only while
 *   it has at least this long to live (default 30 s, at most half its lifetime)
 * @param {Function} [options.fetch]
 * @param {'auto'|'fetch'|'xhr'} [options.engine]
 */
export function createS3Transport(options) {
  if (!options || typeof options !== 'object') throw new TypeError('createS3Transport: options must be an object');
  const { endpoint, fetch, engine = 'auto', urlMarginMs = 30000 } = options;
  if (typeof endpoint !== 'string' || !/^https?:\/\//.test(endpoint)) {
    throw new TypeError(`createS3Transport: endpoint must be the http(s) URL of the backend's presign endpoint, got ${JSON.stringify(endpoint)}`);
  }
  if (typeof urlMarginMs !== 'number' || !(urlMarginMs >= 0)) throw new RangeError('createS3Transport: urlMarginMs must be a number >= 0');
  const etags = new Map(); // sessionId -> Map(partNumber -> {etag, size})
  const urls = new Map(); // `${sessionId}#${partNumber}` -> {url, expiresAt, lifetimeMs}
  const stats = { presigned: 0, partPuts: 0, listParts: 0, completes: 0 };

  const backend = (ctx, o) => httpRequest({ fetch, engine, signal: ctx.signal, timeoutMs: ctx.timeoutMs, isOnline: ctx.isOnline, ...o,
    headers: { accept: 'application/json', ...authHeaders(ctx.token), ...(o.headers || {}) } });
  const uploadUrl = (uploadId, rest) => joinUrl(endpoint, `${encodeURIComponent(uploadId)}${rest}`);
  const etagsOf = (sessionId) => {
    let m = etags.get(sessionId);
    if (!m) { m = new Map(); etags.set(sessionId, m); }
    return m;
  };
  const forget = (sessionId) => {
    etags.delete(sessionId);
    for (const k of urls.keys()) if (k.startsWith(`${sessionId}#`)) urls.delete(k);
  };

  /** A non-2xx answer of the backend: its S3 code when it passes one on, else by HTTP status. */
  function throwForBackend(res, what) {
    let code = '';
    try { code = JSON.parse(res.text)?.code || ''; } catch { code = ''; }
    if (code === 'NoSuchUpload') {
      throw new UploadError('sessionExpired', `${what}: the bucket has no such multipart upload (aborted, completed or expired); starting a new one`, { status: res.status });
    }
    if (code === 'EntityTooSmall') {
      throw new UploadError('client4xx', `${what}: S3 EntityTooSmall: a part other than the last is smaller than 5 MiB (the ChunkBuffer's minPartSize must be at least 5 MiB for S3)`,
        { status: res.status, body: String(res.text).slice(0, 500) });
    }
    throwForStatus(res, what, { sessionRoute: true });
  }

  async function init(ctx) {
    const md = { ...(ctx.metadata || {}), [CLIENT_ID_KEY]: ctx.itemId };
    const filename = typeof md.filename === 'string' && md.filename ? md.filename : `recording-${Date.now()}.webm`;
    const contentType = typeof md.mimeType === 'string' && md.mimeType ? md.mimeType.split(';')[0].trim() : 'video/webm';
    const res = await backend(ctx, { url: endpoint, method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ filename, contentType, metadata: md }) });
    if (res.status < 200 || res.status > 299) throwForStatus(res, 's3 create');
    const j = jsonBody(res, 's3 create');
    if (typeof j.uploadId !== 'string' || !j.uploadId || typeof j.key !== 'string' || !j.key) {
      throw new UploadError('malformed', 's3 create: the answer lacks uploadId or key', { status: res.status, body: res.text.slice(0, 500) });
    }
    const sessionId = JSON.stringify({ uploadId: j.uploadId, key: j.key });
    if (sessionId.length > 1024) throw new UploadError('malformed', 's3 create: uploadId and key are longer than 1024 characters together');
    return { sessionId };
  }

  async function presign(ctx, sessionId, s, partNumber) {
    const k = `${sessionId}#${partNumber}`;
    const cached = urls.get(k);
    if (cached && cached.expiresAt - Date.now() > Math.min(urlMarginMs, cached.lifetimeMs / 2)) return cached.url;
    urls.delete(k);
    const res = await backend(ctx, { url: uploadUrl(s.uploadId, `/part/${partNumber}?key=${encodeURIComponent(s.key)}`) });
    if (res.status < 200 || res.status > 299) throwForBackend(res, `s3 presign part ${partNumber}`);
    const j = jsonBody(res, `s3 presign part ${partNumber}`);
    if (typeof j.url !== 'string' || !/^https?:\/\//.test(j.url)) {
      throw new UploadError('malformed', `s3 presign part ${partNumber}: the answer has no http(s) url`, { status: res.status, body: res.text.slice(0, 500) });
    }
    stats.presigned++;
    const lifetimeMs = Number.isFinite(j.expiresIn) && j.expiresIn > 0 ? j.expiresIn * 1000 : 0;
    if (lifetimeMs) urls.set(k, { url: j.url, expiresAt: Date.now() + lifetimeMs, lifetimeMs });
    return j.url;
  }

  /** PUTs one part to the bucket; returns its ETag. */
  async function putPart(ctx, sessionId, s, partNumber, bytes, onProgress) {
    const url = await presign(ctx, sessionId, s, partNumber);
    const what = `s3 part ${partNumber}`;
    stats.partPuts++;
    let res;
    try {
      // Presigned: no Authorization header (the app's token must not go to the bucket), no content type.
      res = await httpRequest({ fetch, engine, signal: ctx.signal, timeoutMs: ctx.timeoutMs, isOnline: ctx.isOnline,
        url, method: 'PUT', body: [bytes], onProgress });
    } catch (e) {
      if (e instanceof UploadError && e.kind === 'network' && typeof window === 'object') {
        // A browser reports a CORS refusal as a network error, indistinguishable from a dropped connection.
        e.message += ' (in a browser this is also what a bucket without a CORS rule for this origin and PUT looks like)';
      }
      throw e;
    }
    urls.delete(`${sessionId}#${partNumber}`); // used (or refused): the next attempt signs anew
    if (res.status < 200 || res.status > 299) {
      try {
        throwForS3(res, what);
      } catch (e) {
        if (e.kind === 'sessionExpired') forget(sessionId);
        throw e;
      }
    }
    const etag = (res.headers.get('etag') || '').replace(/^W\//, '');
    if (!etag) {
      throw new UploadError('malformed', `${what}: the bucket answered ${res.status} without an ETag header; ${ETAG_HINT}`, { status: res.status });
    }
    etagsOf(sessionId).set(partNumber, { etag, size: bytes.byteLength });
    return etag;
  }

  async function uploadPart(ctx) {
    const { sessionId, index, bytes } = ctx;
    const s = parseS3Session(sessionId);
    const partNumber = index + 1;
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > S3_MAX_PARTS) {
      throw new UploadError('client4xx', `s3 part ${partNumber}: S3 allows part numbers 1..${S3_MAX_PARTS} (a recording of more parts needs a larger minPartSize)`);
    }
    const etag = await putPart(ctx, sessionId, s, partNumber, bytes, ctx.onProgress);
    return { etag };
  }

  /** The bucket's parts: [{PartNumber, ETag, Size}]. */
  async function bucketParts(ctx, sessionId, s) {
    stats.listParts++;
    const res = await backend(ctx, { url: uploadUrl(s.uploadId, `/parts?key=${encodeURIComponent(s.key)}`) });
    if (res.status < 200 || res.status > 299) throwForBackend(res, 's3 list parts');
    const j = jsonBody(res, 's3 list parts');
    if (!Array.isArray(j.parts) || !j.parts.every((p) => p && Number.isInteger(p.PartNumber) && p.PartNumber >= 1 && typeof p.ETag === 'string')) {
      throw new UploadError('malformed', 's3 list parts: the answer has no list of {PartNumber, ETag}', { status: res.status, body: res.text.slice(0, 500) });
    }
    return j.parts;
  }

  /** Part indices the bucket holds with the expected sizes (and the ETag this transport got for them, when it
   *  has one); their ETags are kept for the completion. */
  function acceptParts(sessionId, parts, partSizes) {
    const m = etagsOf(sessionId);
    const out = [];
    const bare = (e) => String(e).replace(/^W\//, '').replace(/"/g, '');
    for (const p of parts) {
      const index = p.PartNumber - 1;
      const want = partSizes ? partSizes[index] : undefined;
      const known = m.get(p.PartNumber);
      if ((want !== undefined && Number.isInteger(p.Size) && p.Size !== want) || (known && bare(known.etag) !== bare(p.ETag))) {
        m.delete(p.PartNumber); // other bytes than this recording's part: it is sent again (and replaced)
        continue;
      }
      m.set(p.PartNumber, { etag: p.ETag, size: Number.isInteger(p.Size) ? p.Size : want });
      out.push(index);
    }
    return out.sort((a, b) => a - b);
  }

  async function listParts(ctx) {
    const s = parseS3Session(ctx.sessionId);
    return acceptParts(ctx.sessionId, await bucketParts(ctx, ctx.sessionId, s), ctx.partSizes);
  }

  async function complete(ctx, sessionId, s, parts) {
    stats.completes++;
    const res = await backend(ctx, { url: uploadUrl(s.uploadId, '/complete'), method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: s.key, parts }) });
    if (res.status === 400) {
      let code = '';
      try { code = JSON.parse(res.text)?.code || ''; } catch { code = ''; }
      if (code === 'InvalidPart') {
        // An ETag we hold is not the bucket's (a part replaced or lost): ask which parts it has, send the others again.
        let serverParts;
        try { serverParts = acceptParts(sessionId, await bucketParts(ctx, sessionId, s), ctx.partSizes); } catch { serverParts = undefined; }
        throw new UploadError('malformed', `s3 complete: S3 InvalidPart (${JSON.parse(res.text).error || 'a part or its ETag is not the bucket\'s'})`,
          { status: 400, serverParts });
      }
    }
    if (res.status < 200 || res.status > 299) throwForBackend(res, 's3 complete');
    return jsonBody(res, 's3 complete');
  }

  async function finalize(ctx) {
    const { sessionId, partCount } = ctx;
    const s = parseS3Session(sessionId);
    if (!Number.isInteger(partCount) || partCount < 1) throw new UploadError('client4xx', 's3 complete: a multipart upload needs at least one part');
    let m = etagsOf(sessionId);
    const missing = () => Array.from({ length: partCount }, (_, i) => i + 1).filter((n) => !m.has(n));
    if (missing().length) {
      // After a reload the ETags are not in memory: the bucket lists them.
      const have = acceptParts(sessionId, await bucketParts(ctx, sessionId, s), ctx.partSizes);
      m = etagsOf(sessionId);
      const lack = missing();
      if (lack.length) {
        throw new UploadError('malformed', `s3 complete: the bucket lacks part${lack.length > 1 ? 's' : ''} ${lack.slice(0, 10).join(', ')}${lack.length > 10 ? ', ...' : ''}`,
          { serverParts: have });
      }
    }
    const parts = Array.from({ length: partCount }, (_, i) => ({ PartNumber: i + 1, ETag: m.get(i + 1).etag }));
    const j = await complete(ctx, sessionId, s, parts);
    forget(sessionId);
    if (typeof j.url !== 'string' && typeof j.key !== 'string') throw new UploadError('malformed', 's3 complete: the answer has neither url nor key', { body: JSON.stringify(j).slice(0, 500) });
    return { result: resultString({ url: j.url ?? null, key: j.key ?? s.key, etag: j.etag ?? null, location: j.location ?? null, size: ctx.totalSize ?? null }) };
  }

  /** A screenshot is a one-part multipart upload; its session and ETag are kept with the item, so a retry
   *  whose earlier answer was lost completes that upload instead of making a second one. */
  async function uploadScreenshot(ctx) {
    const save = typeof ctx.saveItemData === 'function' ? ctx.saveItemData : async () => {};
    let { s3Session: sessionId, s3Etag: etag } = ctx.itemData || {};
    if (!sessionId) {
      const md = ctx.metadata || {};
      ({ sessionId } = await init({ ...ctx, metadata: { ...md, filename: ctx.filename || md.filename || 'screenshot.png', mimeType: ctx.mimeType || md.mimeType || 'image/png' } }));
      etag = undefined;
      await save({ s3Session: sessionId, s3Etag: null });
    }
    const s = parseS3Session(sessionId);
    try {
      if (!etag) {
        etag = await putPart(ctx, sessionId, s, 1, ctx.bytes, ctx.onProgress);
        await save({ s3Session: sessionId, s3Etag: etag });
      }
      const j = await complete(ctx, sessionId, s, [{ PartNumber: 1, ETag: etag }]);
      forget(sessionId);
      return { result: resultString({ url: j.url ?? null, key: j.key ?? s.key, etag: j.etag ?? null }) };
    } catch (e) {
      if (e instanceof UploadError && e.kind === 'sessionExpired') await save({ s3Session: null, s3Etag: null });
      throw e;
    }
  }

  /** Abandons an upload (the bucket drops its parts). Not part of the adapter interface; for apps. */
  async function abort(ctx) {
    const s = parseS3Session(ctx.sessionId);
    const res = await backend(ctx, { url: uploadUrl(s.uploadId, `?key=${encodeURIComponent(s.key)}`), method: 'DELETE' });
    forget(ctx.sessionId);
    if (res.status === 204 || res.status === 404) return;
    throwForBackend(res, 's3 abort');
  }

  return {
    name: 's3',
    supports: { video: true, screenshot: true },
    capabilities: { appendOnly: false, partsOutOfOrder: true },
    minPartSize: S3_MIN_PART_SIZE,
    init, uploadPart, listParts, finalize, uploadScreenshot, abort,
    /** Counters for tests and diagnostics: presigned URLs fetched, part PUTs, ListParts, completions. */
    stats: () => ({ ...stats }),
    describe: () => ({ protocol: 's3', endpoint, engine, urlMarginMs }),
  };
}
