// tus 1.0 resumable uploads at /files/ (@tus/server + @tus/file-store: creation, creation-with-upload,
// creation-defer-length, termination, expiration), behind the same Bearer tokens. The owner is kept in
// the upload's metadata; another user's upload is 404. A finished upload becomes a capture (hard link,
// so the tus file stays for HEAD): its type comes from its first bytes (415 and removed if neither
// PNG, JPEG nor WebM). Upload-Metadata keys read: filename, session, metadata (JSON, same schema).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Server } from '@tus/server';
import { FileStore } from '@tus/file-store';
import { ID_RE, CAPTURE_SESSION_RE, httpError, newId, sniff } from '../storage.js';
import { validateMetadata, displayName } from '../schema.js';
import { userFor } from '../auth.js';
import { readVideoFacts } from '../video-facts.js';
import { makeSeekable } from '../../../js-glue/video/repair.js';

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

  const tus = new Server({
    path: '/files',
    datastore: new FileStore({ directory: storage.tusDir }),
    maxSize: options.maxVideoBytes,
    namingFunction: () => newId(),
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
      return { metadata: { ...md, owner: user } };
    },
    async onUploadFinish(req, upload) {
      const user = upload.metadata?.owner;
      const path = join(storage.tusDir, upload.id);
      const head = await readHead(path);
      const kind = sniff(head);
      if (!kind) {
        await tus.datastore.remove(upload.id).catch(() => {});
        throw reject(415, 'the upload is neither PNG, JPEG nor WebM/Matroska (checked by its first bytes)');
      }
      const type = kind.kind === 'png' || kind.kind === 'jpeg' ? 'screenshot' : 'video';
      const md = upload.metadata || {};
      let metadata = {};
      try { metadata = md.metadata ? JSON.parse(md.metadata) : {}; } catch { metadata = {}; }
      // The server-side finalize step for recordings streamed over tus (append-only, so the client could
      // not send the patched header last): capturekit's makeSeekable rewrites the finished file with
      // duration, cues and a seek head. A file that does not repair is refused, never stored as complete.
      if (type === 'video' && metadata.capturekitFinalize === 'seekable') {
        try {
          await makeSeekable(path, { output: `${path}.seekable` });
          await rename(`${path}.seekable`, path);
        } catch (e) {
          await rm(`${path}.seekable`, { force: true });
          await tus.datastore.remove(upload.id).catch(() => {});
          throw reject(422, `the recording could not be made seekable: ${e.message}`);
        }
      }
      const { sha256, size } = await hashFile(path);
      const rec = await storage.createCapture(user, { path, size, sha256, head }, {
        type,
        mimeType: kind.mime,
        ext: kind.ext,
        filename: displayName(md.filename, `${type}.${kind.ext}`),
        session: md.session || metadata.session || 'default',
        metadata,
        tus: { id: upload.id },
      }, { linkOnly: true });
      if (type === 'video') {
        rec.video = await readVideoFacts(storage.capturePath(rec));
        await storage.updateCapture(rec);
      } else if (options.thumbnailsOnUpload) {
        await ctx.ensureThumbnail(rec);
      }
      return { headers: { 'Capture-Id': rec.id, 'Capture-Url': ctx.shareUrl(req, rec) } };
    },
  });
  ctx.tus = tus;

  // Leave tus bodies unread: @tus/server streams them itself.
  app.addContentTypeParser('application/offset+octet-stream', (request, payload, done) => done(null));

  app.addHook('onRequest', async (request, reply) => {
    if (request.method === 'OPTIONS') return; // CORS preflight carries no token
    await ctx.authenticate(request, reply);
    const id = request.params?.['*'];
    if (id !== undefined && id !== '') {
      if (!ID_RE.test(id)) throw httpError(404, 'no such upload');
      const info = await storage.readJson(join(storage.tusDir, `${id}.json`));
      if (info && info.metadata?.owner !== request.user) throw httpError(404, 'no such upload');
    }
  });

  const handle = async (request, reply) => {
    reply.hijack();
    await tus.handle(request.raw, reply.raw);
  };
  app.route({ method: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'OPTIONS'], url: '/files', handler: handle, exposeHeadRoute: false });
  app.route({ method: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'OPTIONS'], url: '/files/*', handler: handle, exposeHeadRoute: false });
}
