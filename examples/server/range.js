// Serves a stored file with HTTP Range support (RFC 9110): one range -> 206 with Content-Range,
// unsatisfiable -> 416, several ranges -> the whole file (200), If-Range honoured by ETag. From a
// file (sendFile) or from an object in the bucket (sendObject), streamed either way.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';

/** Parses a Range header for a file of `size` bytes: { start, end } (inclusive), 'unsatisfiable' or null (serve all). */
export function parseRange(header, size) {
  if (typeof header !== 'string') return null;
  const m = /^bytes=([^,]+)$/.exec(header.trim());
  if (!m) return null; // unknown unit or several ranges: ignore, serve the whole file
  const spec = m[1].trim();
  const r = /^(\d*)-(\d*)$/.exec(spec);
  if (!r || (r[1] === '' && r[2] === '')) return null;
  let start;
  let end;
  if (r[1] === '') {
    const suffix = Number(r[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(r[1]);
    end = r[2] === '' ? size - 1 : Math.min(Number(r[2]), size - 1);
    if (r[2] !== '' && Number(r[2]) < start) return null; // invalid: ignore
  }
  if (!Number.isSafeInteger(start) || start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/**
 * Sends `path` with Range support. `etag` should identify the content (e.g. its SHA-256).
 * disposition: 'inline' | 'attachment'; filename: a display name already made safe.
 */
export async function sendFile(request, reply, path, opts) {
  let st;
  try {
    st = await stat(path);
  } catch {
    return reply.code(404).send({ error: 'not found', statusCode: 404 });
  }
  return sendSource(request, reply, { size: st.size, mtime: st.mtime, open: (range) => createReadStream(path, range || {}) }, opts);
}

/**
 * Sends object `key` of `objects` (an ObjectStore) the same way, streamed from the bucket: a HEAD of the
 * object for its size, then a GET of just the range asked for.
 */
export async function sendObject(request, reply, objects, key, opts) {
  const size = await objects.size(key);
  if (size === null) return reply.code(404).send({ error: 'not found', statusCode: 404 });
  return sendSource(request, reply, {
    size,
    mtime: null,
    open: async (range) => (await objects.get(key, range ? { start: range.start, end: range.end } : null)).body,
  }, opts);
}

async function sendSource(request, reply, src, { type, etag, filename, disposition = 'inline', cache = 'private, no-cache' }) {
  const size = src.size;
  reply.header('accept-ranges', 'bytes');
  reply.header('cache-control', cache);
  if (src.mtime) reply.header('last-modified', src.mtime.toUTCString());
  reply.header('x-content-type-options', 'nosniff');
  if (etag) reply.header('etag', `"${etag}"`);
  if (filename) reply.header('content-disposition', `${disposition}; filename="${filename}"`);

  if (etag && request.headers['if-none-match'] === `"${etag}"`) return reply.code(304).send();

  let range = parseRange(request.headers.range, size);
  const ifRange = request.headers['if-range'];
  if (range && ifRange && (!etag || ifRange !== `"${etag}"`)) range = null;
  if (range === 'unsatisfiable') {
    reply.header('content-range', `bytes */${size}`);
    return reply.code(416).type('application/json; charset=utf-8').send({ error: `range not satisfiable for ${size} bytes`, statusCode: 416 });
  }
  const head = request.method === 'HEAD';
  reply.header('content-type', type);
  if (range) {
    const length = range.end - range.start + 1;
    reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${size}`).header('content-length', length);
    return reply.send(head ? Readable.from([]) : await src.open({ start: range.start, end: range.end }));
  }
  reply.code(200).header('content-length', size);
  // HEAD: fastify's HEAD route drains a stream payload and keeps our Content-Length.
  if (head || size === 0) return reply.send(Readable.from([]));
  return reply.send(await src.open(null));
}
