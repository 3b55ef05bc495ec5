// tus 1.0 resumable uploads at /files/ (@tus/server + @tus/file-store, or @tus/s3-store with the bytes
// in the bucket: creation, creation-with-upload, creation-defer-length, termination, expiration), behind
// the same Bearer tokens. The owner is kept in the upload's metadata and in the state store (so every
// server knows it); another user's upload is 404. A finished upload becomes a capture (hard link, so the
// tus file stays for HEAD; in the bucket, the upload's object itself): its type comes from its first
// bytes (415 and removed if neither PNG, JPEG nor WebM). Upload-Metadata keys read: filename, session,
// metadata (JSON, same schema).
//
// This server owns the mapping from URL to upload id: `/files` and `/files/` (creation) and
// `/files/<32 hex>` (one upload) are the only URLs, taken from the raw request line exactly as sent (no
// query string, no further segment, no percent-encoding, no trailing slash); anything else is 404.
// The ownership check and @tus/server (getFileIdFromRequest) read the id from that same string.
// GET of a finished upload is served here, not by @tus/server: Range, `nosniff`, and the type from
// the file's first bytes (the client's `filetype` is never echoed as Content-Type).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Server, EVENTS } from '@tus/server';
import { FileStore } from '@tus/file-store';
import { S3Store } from '@tus/s3-store';
import { ObjectStore } from '../object-store.js';
import { CAPTURE_SESSION_RE, httpError, newId, sniff } from '../storage.js';
import { validateMetadata, displayName } from '../schema.js';
import { userFor } from '../auth.js';
import { readVideoFacts, readMp4Facts } from '../video-facts.js';
import { makeSeekableOffThread } from '../repair.js';
import { sendFile, sendObject } from '../range.js';

const COLLECTION_RE = /^\/files\/?$/;
const UPLOAD_RE = /^\/files\/([0-9a-f]{32})$/;

/**
 * The tus target of a raw request-target: { id: null } for the collection (/files, /files/),
 * { id } for one upload, or null for anything else.
 */
export function tusTarget(rawUrl) {
  if (typeof rawUrl !== 'string') return null;
  if (COLLECTION_RE.test(rawUrl)) return { id: null };
  const m = UPLOAD_RE.exec(rawUrl);
  return m ? { id: m[1] } : null;
}

/** The raw request-target of @tus/server's web Request (srvx keeps the node request beside it). */
const rawUrlOf = (req) => (req.runtime?.node?.req ?? req.node?.req)?.url;

async function hashFile(path) {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) { hash.update(chunk); size += chunk.length; }
  return { sha256: hash.digest('hex'), size };
}

async function readHead(path, n = 64) {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export default async function tusRoutes(app, { ctx }) {
  const { storage, options, tokens } = ctx;
  const reject = (status_code, message) => ({ status_code, body: `${message}\n` });

  // The bytes in the bucket (--s3-bytes): @tus/s3-store keeps each upload as a multipart upload that
  // becomes object <id> (its info in <id>.info), and a finished upload's object is the capture's.
  const objects = storage.objects || null;
  const datastore = objects
    ? new S3Store({ partSize: 8 * 1024 * 1024, s3ClientConfig: { bucket: options.s3.bucket, ...ObjectStore.clientConfig(options.s3) } })
    : new FileStore({ directory: storage.tusDir });
  storage.tusDatastore = datastore;

  const tus = new Server({
    path: '/files',
    datastore,
    maxSize: options.maxVideoBytes,
    namingFunction: () => newId(),
    getFileIdFromRequest: (req) => tusTarget(rawUrlOf(req))?.id ?? undefined,
    generateUrl: (req, { id }) => `${ctx.baseUrl(req)}/files/${id}`,
    // Errors of the tus protocol keep their status and text; anything else is logged and answered
    // with a plain 500 (never the error's message, which may hold a path of this machine).
    onResponseError(req, err) {
      if (err && Number.isInteger(err.status_code)) return undefined;
      app.log.error(err);
      return { status_code: 500, body: 'internal server error\n' };
    },
    allowedHeaders: ['Authorization'],
    exposedHeaders: ['Capture-Id', 'Capture-Url'],
    async onUploadCreate(req, upload) {
      const user = userFor(tokens, req.headers.get('authorization'));
      if (!user) throw reject(401, 'missing or invalid bearer token');
      const md = { ...(upload.metadata || {}) };
      delete md.owner;
      if (md.session != null && !CAPTURE_SESSION_RE.test(md.session)) throw reject(400, `session must match ${CAPTURE_SESSION_RE}`);
      if (md.metadata != null) {
        if (Buffer.byteLength(md.metadata) > options.maxMetadataBytes) throw reject(413, 'metadata too large');
        let parsed;
        try { parsed = JSON.parse(md.metadata); } catch { throw reject(400, 'metadata must be JSON'); }
        try { validateMetadata(parsed, { maxBytes: options.maxMetadataBytes }); } catch (e) { throw reject(e.statusCode || 400, e.message); }
      }
      // The owner is kept in the upload's info and, with a shared state store, there too (any server
      // then knows it); an unavailable store is a 503 the client retries.
      try {
        await storage.putTusOwner(upload.id, user, Number.isSafeInteger(upload.size) ? upload.size : null);
      } catch (e) {
        throw reject(e.statusCode === 503 ? 503 : 500, e.statusCode === 503 ? e.message : 'internal server error');
      }
      return { metadata: { ...md, owner: user } };
    },
    async onUploadFinish(req, upload) {
      if (!objects) return finish(req, upload, join(storage.tusDir, upload.id));
      // In the bucket: a local copy for the checks and readers (type, repair, digest, facts).
      const path = storage.tmpPath();
      await objects.download(upload.id, path);
      try {
        return await finish(req, upload, path);
      } finally {
        await rm(path, { force: true });
      }
    },
  });
  ctx.tus = tus;
  // A terminated upload (DELETE /files/<id>) is forgotten by the state store too (no longer counted).
  tus.on(EVENTS.POST_TERMINATE, (req, res, id) => {
    storage.state.dropTusOwner(id).catch((e) => app.log.error(e));
  });

  // A finished upload (its bytes in `path`) becomes a capture.
  async function finish(req, upload, path) {
    const user = upload.metadata?.owner;
    const head = await readHead(path);
    const kind = sniff(head);
    if (!kind) {
      await tus.datastore.remove(upload.id).catch(() => {});
      throw reject(415, 'the upload is neither PNG, JPEG, WebM/Matroska nor MP4 (checked by its first bytes)');
    }
    const type = kind.kind === 'png' || kind.kind === 'jpeg' ? 'screenshot' : 'video';
    const md = upload.metadata || {};
    let metadata = {};
    try { metadata = md.metadata ? JSON.parse(md.metadata) : {}; } catch { metadata = {}; }
    // The server-side finalize step for recordings streamed over tus (append-only, so the client could
    // not send the patched header last): capturekit's makeSeekable rewrites the finished file with
    // duration, cues and a seek head, in a thread of its own (repair.js). A file that does not repair is
    // refused, never stored as complete.
    let repaired = false;
    if (type === 'video' && metadata.capturekitFinalize === 'seekable') {
      repaired = true;
      try {
        await makeSeekableOffThread(path, `${path}.seekable`);
        await rename(`${path}.seekable`, path);
      } catch (e) {
        await rm(`${path}.seekable`, { force: true });
        await tus.datastore.remove(upload.id).catch(() => {});
        throw reject(422, `the recording could not be made seekable: ${e.message}`);
      }
    }
    const { sha256, size } = await hashFile(path);
    let video;
    if (kind.kind === 'mp4') {
      // Read whole by capturekit's MP4 reader: a cut-off or inconsistent MP4 is refused, never stored.
      try {
        video = await readMp4Facts(path);
      } catch (e) {
        await tus.datastore.remove(upload.id).catch(() => {});
        throw reject(422, `the MP4 could not be read: ${e.message}`);
      }
    } else if (type === 'video') {
      video = await readVideoFacts(path);
    }
    // In the bucket the upload's object is the capture's (a repaired recording is uploaded as its own).
    const received = objects && !repaired ? { objectKey: upload.id, path, size, sha256, head } : { path, size, sha256, head };
    const rec = await storage.createCapture(user, received, {
      type,
      mimeType: kind.mime,
      ext: kind.ext,
      filename: displayName(md.filename, `${type}.${kind.ext}`),
      session: md.session || metadata.session || 'default',
      metadata,
      tus: { id: upload.id },
      ...(video ? { video } : {}),
    }, { linkOnly: true });
    await storage.finishTus(upload.id);
    if (type === 'screenshot' && options.thumbnailsOnUpload) await ctx.ensureThumbnail(rec);
    return { headers: { 'Capture-Id': rec.id, 'Capture-Url': ctx.shareUrl(req, rec) } };
  }

  // Leave tus bodies unread: @tus/server streams them itself.
  app.addContentTypeParser('application/offset+octet-stream', (request, payload, done) => done(null));

  app.addHook('onRequest', async (request, reply) => {
    const target = tusTarget(request.raw.url);
    if (!target) throw httpError(404, 'no such upload');
    request.tusId = target.id;
    if (request.method === 'OPTIONS') return; // CORS preflight carries no token
    await ctx.authenticate(request, reply);
    if (target.id === null) {
      if (request.method !== 'POST') throw httpError(404, 'no such upload');
      const length = request.headers['upload-length'];
      const declared = typeof length === 'string' && /^[0-9]{1,15}$/.test(length) ? Number(length) : 0;
      const release = await ctx.quota.admitTusUpload(request.user, declared);
      reply.raw.once('close', release);
      return;
    }
    if (request.method === 'POST') throw httpError(404, 'no such upload');
    if ((await storage.tusOwner(target.id)) !== request.user) throw httpError(404, 'no such upload');
    const info = objects
      ? await datastore.getUpload(target.id).catch(() => null)
      : await storage.readJson(join(storage.tusDir, `${target.id}.json`));
    if (!info) throw httpError(404, 'no such upload');
    if (request.method === 'PATCH' && !Number.isSafeInteger(info.size)) {
      // A deferred length grows with each PATCH: the byte quota is checked before each one.
      const len = Number(request.headers['content-length']);
      await ctx.quota.checkBytes(request.user, Number.isSafeInteger(len) && len > 0 ? len : 0);
    }
  });

  // GET /files/<id>: the bytes of a finished upload (404 while unfinished).
  const download = async (request, reply) => {
    const id = request.tusId;
    const upload = id ? await tus.datastore.getUpload(id).catch(() => null) : null;
    if (!upload || !Number.isSafeInteger(upload.size) || upload.offset !== upload.size) throw httpError(404, 'no such upload');
    const path = join(storage.tusDir, id);
    const kind = sniff(await (objects ? objects.head(id) : readHead(path)).catch(() => Buffer.alloc(0)));
    const opts = {
      type: kind ? kind.mime : 'application/octet-stream',
      filename: displayName(upload.metadata?.filename, `${id}.${kind ? kind.ext : 'bin'}`),
      disposition: 'attachment',
    };
    return objects ? sendObject(request, reply, objects, id, opts) : sendFile(request, reply, path, opts);
  };

  // Everything else is @tus/server's. An error it did not turn into an answer is logged and answered
  // 500 (or the connection is closed when the answer had already started): never left uncaught.
  const handle = async (request, reply) => {
    if (request.method === 'GET') return download(request, reply);
    reply.hijack();
    try {
      await tus.handle(request.raw, reply.raw);
    } catch (e) {
      request.log.error(e);
      const res = reply.raw;
      if (!res.headersSent && !res.destroyed) {
        res.shouldKeepAlive = false;
        res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ error: 'internal server error', statusCode: 500 }));
      } else {
        res.destroy();
      }
    }
  };
  app.route({ method: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'OPTIONS'], url: '/files', handler: handle, exposeHeadRoute: false });
  app.route({ method: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'OPTIONS'], url: '/files/*', handler: handle, exposeHeadRoute: false });
}
