// A plain multipart POST for simple screenshot endpoints (e.g. /api/capture/screenshot, the reference
// server's /screenshots/upload, or any endpoint that takes a file field and answers JSON with a URL). It uploads
// screenshots only; combine it with rest or tus for videos (combineTransports in transports/index.js).
import { UploadError, httpRequest, jsonBody, throwForStatus, multipartBody, authHeaders } from './http.js';
import { CLIENT_ID_KEY, resultString, idempotencyHeader } from './rest.js';

// Where the URL is in common answers: {url}, {data: {url}}, {status: 'success', data: {url}}, {location}.
function defaultUrlOf(j) {
  const pick = (o) => (o && typeof o === 'object' ? (typeof o.url === 'string' && o.url) || (typeof o.location === 'string' && o.location) || null : null);
  return pick(j) || pick(j.data) || pick(j.result) || null;
}

/**
 * @param {object} options
 * @param {string} options.url                 the endpoint
 * @param {string} [options.fileField]         default 'file'
 * @param {string|null} [options.metadataField] default 'metadata' (JSON text); null: not sent
 * @param {Record<string,string>} [options.fields] extra text fields sent before the file
 * @param {(json: object) => string|null} [options.urlOf] where the answer keeps the URL
 * @param {boolean} [options.idempotencyKey] default true: sends `Idempotency-Key: "<item id>"` (false: not sent)
 * @param {Function} [options.fetch]
 * @param {'auto'|'fetch'|'xhr'} [options.engine]
 */
export function createMultipartTransport(options) {
  if (!options || typeof options !== 'object') throw new TypeError('createMultipartTransport: options must be an object');
  const { url, fileField = 'file', metadataField = 'metadata', fields = {}, urlOf = defaultUrlOf, fetch, engine = 'auto' } = options;
  if (typeof url !== 'string' || !/^https?:\/\//.test(url)) {
    throw new TypeError(`createMultipartTransport: url must be an http(s) URL, got ${JSON.stringify(url)}`);
  }
  if (typeof urlOf !== 'function') throw new TypeError('createMultipartTransport: urlOf must be a function');
  const videoUnsupported = async () => {
    throw new UploadError('client4xx', 'the multipart transport uploads screenshots only; use rest or tus for recordings');
  };

  async function uploadScreenshot(ctx) {
    const md = { ...(ctx.metadata || {}), [CLIENT_ID_KEY]: ctx.itemId };
    const list = Object.entries(fields).map(([name, value]) => ({ name, value: String(value) }));
    if (metadataField) list.push({ name: metadataField, value: JSON.stringify(md) });
    list.push({ name: fileField, filename: ctx.filename || 'screenshot.png', type: ctx.mimeType || 'image/png', bytes: ctx.bytes });
    const body = multipartBody(list);
    const res = await httpRequest({
      fetch, engine, url, method: 'POST', signal: ctx.signal, timeoutMs: ctx.timeoutMs, isOnline: ctx.isOnline,
      headers: { accept: 'application/json', 'content-type': body.contentType, ...authHeaders(ctx.token), ...idempotencyHeader(ctx.itemId, options.idempotencyKey !== false) },
      body: body.pieces, onProgress: ctx.onProgress,
    });
    if (res.status < 200 || res.status > 299) throwForStatus(res, 'screenshot');
    const j = jsonBody(res, 'screenshot');
    if (j.status !== undefined && j.status !== 'success' && j.status !== 'ok' && j.status !== true) {
      throw new UploadError('server5xx', `screenshot: the answer says status ${JSON.stringify(j.status)}`, { status: res.status });
    }
    const link = urlOf(j);
    if (typeof link !== 'string' || !link) throw new UploadError('malformed', 'screenshot: the answer has no URL', { status: res.status, body: res.text.slice(0, 500) });
    return { result: resultString({ url: link, id: j.id ?? j.data?.id ?? null }) };
  }

  return {
    name: 'multipart',
    supports: { video: false, screenshot: true },
    capabilities: { appendOnly: false, partsOutOfOrder: false },
    init: videoUnsupported, uploadPart: videoUnsupported, listParts: videoUnsupported, finalize: videoUnsupported,
    uploadScreenshot,
    describe: () => ({ protocol: 'multipart', url, fileField, metadataField, fields, engine }),
  };
}
