// The REST upload protocol: init, chunk, finalize, resume list, screenshot upload. Registered at /
// and at /api/v1 (the base URL clients of this protocol commonly use). Every route needs a
// Bearer token. Chunks are assembled into the recording as they arrive (Storage.storePart), so
// finalize only checks, truncates, fsyncs and links; the video facts (and the SHA-256 when the chunks
// came out of order) are computed after the answer (completion.js).
import { rm } from 'node:fs/promises';
import { httpError, ID_RE, SHA256_RE, sniff, newId } from '../storage.js';
import { INIT_BODY, finalizeBody, validateMetadata, displayName } from '../schema.js';
import { readUpload, fieldValue } from '../multipart.js';
import { readMp4Facts } from '../video-facts.js';

const INDEX_RE = /^(0|[1-9][0-9]{0,8})$/;

export default async function protocolRoutes(app, { ctx }) {
  const { storage, options, faults } = ctx;
  const maxChunks = options.maxChunks;
  const jsonLimit = options.maxMetadataBytes + 16384;

  app.addHook('onRequest', ctx.authenticate);

  // ---- POST /videos/init ------------------------------------------------------------------------
  app.post('/videos/init', { bodyLimit: jsonLimit, schema: { body: INIT_BODY } }, faults.wrap('init', async (request) => {
    const b = request.body || {};
    const metadata = validateMetadata(b.metadata, { maxBytes: options.maxMetadataBytes });
    const session = b.session ?? metadata.session ?? null;
    const s = await ctx.quota.createSession(request.user, () => storage.createSession(request.user, {
      filename: displayName(b.filename, 'recording.webm'),
      timestamp: b.timestamp ?? null,
      fps: b.fps ?? null,
      codec: b.codec ?? null,
      bitrate: b.bitrate ?? null,
      resolution: b.resolution ?? null,
      mimeType: b.mimeType ?? null,
      session,
      metadata,
    }));
    return { sessionId: s.id };
  }));

  // ---- POST /videos/chunk -----------------------------------------------------------------------
  const checkSession = async (user, sessionId) => {
    if (sessionId === undefined) throw httpError(400, 'sessionId is required');
    if (typeof sessionId !== 'string' || !ID_RE.test(sessionId)) throw httpError(400, 'sessionId must be 32 lowercase hex digits');
    const s = await storage.getSession(user, sessionId);
    if (!s) throw httpError(404, 'unknown upload session');
    if (s.state !== 'open') throw httpError(409, 'upload session is already finalized');
    return s;
  };
  const checkIndex = (v) => {
    if (v === undefined) throw httpError(400, 'chunkIndex is required');
    if (typeof v !== 'string' || !INDEX_RE.test(v.trim()) || Number(v) >= maxChunks) {
      throw httpError(400, `chunkIndex must be an integer in [0, ${maxChunks - 1}]`);
    }
    return Number(v);
  };
  const checkChecksum = (v) => {
    if (v === undefined || v === '') return null;
    const c = typeof v === 'string' ? v.trim().toLowerCase() : '';
    if (!SHA256_RE.test(c)) throw httpError(400, 'checksum must be the SHA-256 of the chunk as 64 hex digits');
    return c;
  };

  app.post('/videos/chunk', faults.wrap('chunk', async (request) => {
    const user = request.user;
    const up = await readUpload(request, {
      storage,
      fileFields: ['chunk', 'file'],
      maxFileBytes: options.maxChunkBytes,
      maxFieldBytes: 256,
      async beforeFile(fields) {
        // Fields sent before the file (the usual order) are checked before a byte of it is stored;
        // fields sent after it are checked once the body has been read.
        const sessionId = fieldValue(fields, 'sessionId');
        const index = fieldValue(fields, 'chunkIndex');
        if (sessionId !== undefined) await checkSession(user, sessionId);
        if (index !== undefined) checkIndex(index);
        checkChecksum(fieldValue(fields, 'checksum'));
      },
    });
    const received = up.file;
    try {
      const sessionId = fieldValue(up.fields, 'sessionId');
      await checkSession(user, sessionId);
      const index = checkIndex(fieldValue(up.fields, 'chunkIndex'));
      const checksum = checkChecksum(fieldValue(up.fields, 'checksum'));
      if (!received) throw httpError(400, 'the chunk file part ("chunk") is missing');
      if (received.size === 0) throw httpError(400, 'the chunk is empty');
      if (checksum && checksum !== received.sha256) {
        throw httpError(422, 'checksum mismatch: the chunk did not arrive intact', { expected: checksum, actual: received.sha256 });
      }
      if (index === 0) {
        const kind = sniff(received.head);
        if (!kind || (kind.kind !== 'webm' && kind.kind !== 'matroska' && kind.kind !== 'mp4')) {
          throw httpError(415, 'chunk 0 must start with an EBML (WebM/Matroska) header or an MP4 ftyp box');
        }
      }
      const outcome = await storage.withLock(sessionId, async () => {
        const s = await storage.getSession(user, sessionId);
        if (!s) throw httpError(404, 'unknown upload session');
        if (s.state !== 'open') throw httpError(409, 'upload session is already finalized');
        return storage.storePart(user, sessionId, index, received);
      });
      if (outcome === 'conflict') {
        throw httpError(409, `chunk ${index} is already stored with a different checksum`, { chunkIndex: index });
      }
      return { received: true, chunkIndex: index, size: received.size, checksum: received.sha256, duplicate: outcome === 'duplicate' };
    } catch (e) {
      if (received) await rm(received.path, { force: true });
      throw e;
    }
  }));

  // ---- GET /videos/:sessionId/chunks ------------------------------------------------------------
  app.get('/videos/:sessionId/chunks', {
    schema: { params: { type: 'object', properties: { sessionId: { type: 'string', pattern: ID_RE.source } } } },
  }, faults.wrap('chunks', async (request) => {
    const s = await storage.getSession(request.user, request.params.sessionId);
    if (!s) throw httpError(404, 'unknown upload session');
    const parts = await storage.listParts(request.user, s.id);
    return { chunks: [...parts.keys()].sort((a, b) => a - b), state: s.state };
  }));

  // ---- POST /videos/finalize --------------------------------------------------------------------
  app.post('/videos/finalize', { bodyLimit: jsonLimit, schema: { body: finalizeBody(maxChunks) } }, faults.wrap('finalize', async (request) => {
    const user = request.user;
    const b = request.body;
    const sessionId = b.sessionId;
    return storage.withLock(sessionId, async () => {
      const s = await storage.getSession(user, sessionId);
      if (!s) throw httpError(404, 'unknown upload session');
      if (s.state === 'finalized') {
        // A retried finalize (its answer was lost) gets the same answer.
        const rec = await storage.getCapture(user, s.captureId);
        if (!rec) throw httpError(409, 'upload session is finalized and its capture was deleted');
        return finalizeAnswer(request, rec, s);
      }
      const parts = await storage.listParts(user, sessionId);
      const have = [...parts.keys()].sort((a, b) => a - b);
      const n = b.totalChunks ?? (have.length ? have[have.length - 1] + 1 : 0);
      if (n === 0) throw httpError(400, 'no chunks were uploaded', { missing: [], extra: [] });
      const missing = new Set();
      for (let i = 0; i < n; i++) if (!parts.has(i)) missing.add(i);
      for (const i of b.uploadedChunks || []) if (!parts.has(i)) missing.add(i);
      const extra = have.filter((i) => i >= n);
      if (missing.size || extra.length) {
        const list = [...missing].sort((a, b2) => a - b2);
        throw httpError(400, list.length
          ? `missing chunks: ${list.slice(0, 20).join(', ')}${list.length > 20 ? ', ...' : ''}`
          : `chunks beyond totalChunks=${n}: ${extra.slice(0, 20).join(', ')}`,
        { missing: list.slice(0, 10000), extra: extra.slice(0, 10000) });
      }
      const metadata = validateMetadata({ ...(s.metadata || {}), ...(b.metadata || {}) }, { maxBytes: options.maxMetadataBytes });
      if (s.state === 'open') {
        s.state = 'finalizing';
        s.captureId = newId();
        await storage.saveSession(s);
      }
      const sealed = await storage.sealUpload(user, sessionId, n);
      const kind = sniff(sealed.head);
      if (!kind || (kind.kind !== 'webm' && kind.kind !== 'matroska' && kind.kind !== 'mp4')) {
        if (sealed.copied) await rm(sealed.path, { force: true });
        throw httpError(415, 'the assembled file is neither WebM/Matroska nor MP4');
      }
      // An MP4 is read whole by capturekit's MP4 reader before it becomes a capture (its facts come with it).
      let mp4 = null;
      if (kind.kind === 'mp4') {
        try {
          mp4 = sealed.path ? await readMp4Facts(sealed.path) : await readObjectMp4(sealed.objectKey);
        } catch (e) {
          if (sealed.copied) await rm(sealed.path, { force: true });
          throw httpError(422, `the assembled MP4 could not be read: ${e.message}`);
        }
      }
      // The session's file is linked into the capture (it stays in the session until the state says
      // finalized, so a finalize retried after a crash finds it again).
      const rec = await storage.createCapture(user, sealed, {
        type: 'video',
        mimeType: kind.mime,
        ext: kind.ext,
        filename: kind.kind === 'mp4' ? s.filename.replace(/\.webm$/i, '.mp4') : s.filename, // (the init's default name is .webm)
        session: s.session ?? sessionId,
        metadata,
        ...(mp4 ? { video: mp4 } : {}),
        upload: {
          sessionId, chunks: n, fps: s.fps, codec: s.codec, bitrate: s.bitrate, resolution: s.resolution,
          timestamp: s.timestamp, clientDuration: b.duration ?? null,
        },
      }, { id: s.captureId, linkOnly: !sealed.copied });
      s.state = 'finalized';
      s.finalizedAt = new Date().toISOString();
      s.answeredSha256 = rec.sha256; // null when the digest follows the answer: a retried finalize says the same
      await storage.saveSession(s);
      await storage.removeSessionParts(user, sessionId);
      ctx.completion.after(rec);
      return finalizeAnswer(request, rec, s);
    });
  }));

  // In the bucket (--s3-bytes) the assembled file is an object: the reader gets a local copy.
  async function readObjectMp4(key) {
    const tmp = storage.tmpPath();
    try {
      await storage.objects.download(key, tmp);
      return await readMp4Facts(tmp);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  function finalizeAnswer(request, rec, s) {
    return {
      key: `videos/${rec.id}/${rec.filename}`,
      url: ctx.shareUrl(request, rec),
      id: rec.id,
      sessionId: s.id,
      size: rec.size,
      sha256: s.answeredSha256 !== undefined ? s.answeredSha256 : rec.sha256,
    };
  }

  // ---- POST /screenshots/upload -----------------------------------------------------------------
  app.post('/screenshots/upload', faults.wrap('screenshot', async (request) => {
    const rec = await ctx.acceptScreenshot(request);
    return { url: ctx.shareUrl(request, rec), id: rec.id, key: `screenshots/${rec.id}/${rec.filename}`, thumbnailUrl: rec.thumbnail ? `${ctx.baseUrl(request)}/api/captures/${rec.id}/thumbnail` : null };
  }));
}
