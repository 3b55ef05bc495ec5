// tus 1.0 (https://tus.io/protocols/resumable-upload): core (HEAD offset, PATCH), creation, and
// creation-defer-length for live recordings whose length is known only when they stop.
//   init            POST {endpoint}  Upload-Defer-Length: 1 (or Upload-Length when the recording is done)  -> 201 Location
//   uploadPart k    PATCH {url}  Upload-Offset: start of part k (or where the server is inside it)       -> 204 Upload-Offset
//   listParts       HEAD {url}   -> Upload-Offset: the parts that end at or before it are on the server
//   finalize        HEAD, then PATCH {url} with no body and Upload-Length: total (deferred length)      -> upload complete
//   uploadScreenshot POST (Upload-Length) then PATCH; the upload URL is kept with the item, so an attempt
//                   whose answer was lost resumes that upload instead of making a second one.
// The session id QueueCore keeps for a video is the upload URL.
import { UploadError, httpRequest, throwForStatus, authHeaders } from './http.js';
import { CLIENT_ID_KEY, resultString } from './rest.js';

const TUS = { 'tus-resumable': '1.0.0' };
const encoder = new TextEncoder();

function b64(s) {
  const bytes = encoder.encode(String(s));
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** Upload-Metadata header value from a { key: string } map. */
export function uploadMetadata(map) {
  return Object.entries(map).filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${k} ${b64(v)}`).join(',');
}

function intHeader(res, name) {
  const v = res.headers.get(name);
  if (v === null || !/^\d+$/.test(v.trim())) return null;
  return Number(v.trim());
}

/**
 * @param {object} options
 * @param {string} options.endpoint   the tus creation URL, e.g. 'https://example.com/files/'
 * @param {Function} [options.fetch]
 * @param {'auto'|'fetch'|'xhr'} [options.engine]
 */
export function createTusTransport(options) {
  if (!options || typeof options !== 'object') throw new TypeError('createTusTransport: options must be an object');
  const { endpoint, fetch, engine = 'auto' } = options;
  if (typeof endpoint !== 'string' || !/^https?:\/\//.test(endpoint)) {
    throw new TypeError(`createTusTransport: endpoint must be an http(s) URL, got ${JSON.stringify(endpoint)}`);
  }
  const offsets = new Map(); // upload URL -> the server's offset as last seen (dropped when unsure)
  const req = (ctx, o) => httpRequest({ fetch, engine, signal: ctx.signal, timeoutMs: ctx.timeoutMs, isOnline: ctx.isOnline, ...o,
    headers: { ...TUS, ...authHeaders(ctx.token), ...(o.headers || {}) } });

  function metadataHeader(ctx, fallbackName) {
    const md = { ...(ctx.metadata || {}), [CLIENT_ID_KEY]: ctx.itemId };
    return uploadMetadata({
      filename: md.filename || fallbackName,
      filetype: ctx.mimeType || md.mimeType,
      session: typeof md.session === 'string' ? md.session : undefined,
      metadata: JSON.stringify(md),
    });
  }

  async function create(ctx, length, fallbackName) {
    const headers = { 'upload-metadata': metadataHeader(ctx, fallbackName) };
    if (length === null) headers['upload-defer-length'] = '1';
    else headers['upload-length'] = String(length);
    const res = await req(ctx, { url: endpoint, method: 'POST', headers });
    if (res.status !== 201) {
      if (res.status >= 200 && res.status < 300) throw new UploadError('malformed', `tus create: expected 201 Created, got ${res.status}`, { status: res.status });
      throwForStatus(res, 'tus create');
    }
    const loc = res.headers.get('location');
    if (!loc) throw new UploadError('malformed', 'tus create: 201 without a Location header', { status: res.status });
    let url;
    try { url = new URL(loc, endpoint).href; } catch { throw new UploadError('malformed', `tus create: Location ${JSON.stringify(loc)} is not a URL`); }
    if (url.length > 1024) throw new UploadError('malformed', 'tus create: the upload URL is longer than 1024 characters');
    offsets.set(url, 0);
    return url;
  }

  /** HEAD: { offset, length (null while deferred) }. */
  async function head(ctx, url) {
    const res = await req(ctx, { url, method: 'HEAD', headers: { 'cache-control': 'no-store' } });
    if (res.status < 200 || res.status > 299) throwForStatus(res, 'tus HEAD', { sessionRoute: true });
    const offset = intHeader(res, 'upload-offset');
    if (offset === null) throw new UploadError('malformed', 'tus HEAD: no Upload-Offset in the answer', { status: res.status });
    const length = intHeader(res, 'upload-length');
    if (length === null && res.headers.get('upload-defer-length') !== '1' && res.headers.get('upload-length') !== null) {
      throw new UploadError('malformed', 'tus HEAD: Upload-Length is not a number', { status: res.status });
    }
    offsets.set(url, offset);
    return { offset, length };
  }

  /** PATCH bytes at offset; returns the new offset and the answer. */
  async function patch(ctx, url, offset, bytes, extraHeaders = {}, onProgress) {
    let res;
    try {
      res = await req(ctx, {
        url, method: 'PATCH', body: bytes.byteLength ? [bytes] : [new Uint8Array(0)], onProgress,
        headers: { 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream', ...extraHeaders },
      });
    } catch (e) {
      offsets.delete(url); // some of it may have arrived
      throw e;
    }
    if (res.status === 409) {
      offsets.delete(url);
      return { conflict: true };
    }
    if (res.status < 200 || res.status > 299) {
      offsets.delete(url);
      throwForStatus(res, 'tus PATCH', { sessionRoute: true });
    }
    const next = intHeader(res, 'upload-offset');
    if (next === null) {
      offsets.delete(url);
      throw new UploadError('malformed', 'tus PATCH: no Upload-Offset in the answer', { status: res.status });
    }
    offsets.set(url, next);
    if (next !== offset + bytes.byteLength) {
      throw new UploadError(next < offset + bytes.byteLength ? 'network' : 'malformed',
        `tus PATCH: the server is at offset ${next}, expected ${offset + bytes.byteLength}`, { status: res.status });
    }
    return { offset: next, res };
  }

  const partsBelow = (partSizes, offset) => {
    const out = [];
    let end = 0;
    for (let i = 0; i < partSizes.length; i++) {
      end += partSizes[i];
      if (end <= offset) out.push(i);
      else break;
    }
    return out;
  };

  async function init(ctx) {
    const length = ctx.recordingFinished ? ctx.totalSize : null;
    return { sessionId: await create(ctx, length, 'recording.webm') };
  }

  async function uploadPart(ctx) {
    const { sessionId: url, index, bytes, offset: start } = ctx;
    const end = start + bytes.byteLength;
    for (let attempt = 0; attempt < 2; attempt++) {
      let at = offsets.get(url);
      if (at === undefined) at = (await head(ctx, url)).offset;
      if (at >= end) return {}; // the server has this part already (an answer that was lost)
      if (at < start) {
        throw new UploadError('malformed', `tus part ${index}: the server is at offset ${at}, before this part (${start})`,
          { serverParts: partsBelow(ctx.partSizes || [], at) });
      }
      const skip = at - start;
      const r = await patch(ctx, url, at, skip ? bytes.subarray(skip) : bytes, {},
        ctx.onProgress ? (loaded, total) => ctx.onProgress(skip + loaded, skip + total) : undefined);
      if (!r.conflict) return {};
    }
    throw new UploadError('malformed', `tus part ${index}: the server keeps answering 409 (offset conflict)`, { status: 409 });
  }

  async function listParts(ctx) {
    const { offset } = await head(ctx, ctx.sessionId);
    return partsBelow(ctx.partSizes || [], offset);
  }

  async function finalize(ctx) {
    const url = ctx.sessionId;
    const total = ctx.totalSize;
    const h = await head(ctx, url);
    if (h.length !== null && h.length !== total) {
      throw new UploadError('client4xx', `tus finalize: the server expects ${h.length} bytes, the recording has ${total}`);
    }
    if (h.offset < total) {
      throw new UploadError('malformed', `tus finalize: the server has ${h.offset} of ${total} bytes`, { serverParts: partsBelow(ctx.partSizes || [], h.offset) });
    }
    if (h.offset > total) throw new UploadError('client4xx', `tus finalize: the server has ${h.offset} bytes, more than the ${total} recorded`);
    if (h.length !== null) return { result: resultString({ url, id: null, upload: url }) }; // complete already
    const r = await patch(ctx, url, total, new Uint8Array(0), { 'upload-length': String(total) });
    if (r.conflict) throw new UploadError('malformed', 'tus finalize: offset conflict', { status: 409 });
    return { result: resultString({ url: r.res.headers.get('capture-url') || url, id: r.res.headers.get('capture-id'), upload: url }) };
  }

  async function uploadScreenshot(ctx) {
    const size = ctx.bytes.byteLength;
    let url = ctx.itemData?.tusUrl || null;
    let at = 0;
    if (url) {
      try {
        const h = await head(ctx, url);
        if (h.length !== null && h.length !== size) url = null;
        else at = h.offset;
      } catch (e) {
        if (!(e instanceof UploadError) || e.kind !== 'sessionExpired') throw e;
        url = null;
      }
      if (url && at >= size) return { result: resultString({ url, id: null, upload: url }) };
    }
    if (!url) {
      url = await create(ctx, size, ctx.filename || 'screenshot.png');
      await ctx.saveItemData({ tusUrl: url });
      at = 0;
    }
    for (let attempt = 0; attempt < 2; attempt++) {
      const r = await patch(ctx, url, at, at ? ctx.bytes.subarray(at) : ctx.bytes, {}, ctx.onProgress);
      if (!r.conflict) {
        return { result: resultString({ url: r.res.headers.get('capture-url') || url, id: r.res.headers.get('capture-id'), upload: url }) };
      }
      at = (await head(ctx, url)).offset;
      if (at >= size) return { result: resultString({ url, id: null, upload: url }) };
    }
    throw new UploadError('malformed', 'tus screenshot: the server keeps answering 409 (offset conflict)', { status: 409 });
  }

  return {
    name: 'tus',
    supports: { video: true, screenshot: true },
    capabilities: { appendOnly: true, partsOutOfOrder: false },
    init, uploadPart, listParts, finalize, uploadScreenshot,
    describe: () => ({ protocol: 'tus', endpoint, engine }),
  };
}

