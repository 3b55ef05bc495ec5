// Captures API: list per session, info (with video facts), download with Range, thumbnail, delete,
// and the single-request uploads (/api/capture/..., Idempotency-Key: idempotency.js). All behind the Bearer token; a capture of
// another user is 404, exactly like one that does not exist.
import { httpError, ID_RE, CAPTURE_SESSION_RE } from '../storage.js';

const idParams = { type: 'object', properties: { id: { type: 'string', pattern: ID_RE.source } }, required: ['id'] };
const sessionQuery = {
  type: 'object',
  properties: {
    session: { type: 'string', pattern: CAPTURE_SESSION_RE.source },
    type: { type: 'string', enum: ['screenshot', 'video'] },
  },
};

export default async function captureRoutes(app, { ctx }) {
  const { storage } = ctx;
  app.addHook('onRequest', ctx.authenticate);

  // Captures whose digest or video facts are still being computed (completion.js) are listed with them.
  const settleAll = async (recs) => (await Promise.all(recs.map((r) => ctx.completion.settle(r)))).filter(Boolean);
  const load = async (request) => {
    const rec = await ctx.completion.settle(await storage.getCapture(request.user, request.params.id));
    if (!rec) throw httpError(404, 'no such capture');
    return rec;
  };
  const list = async (request, session, type) => {
    const recs = await settleAll(await storage.listCaptures(request.user, { session, type }));
    return recs.map((r) => ctx.view(request, r));
  };
  const download = async (request, reply, rec, disposition = 'attachment') =>
    storage.send(request, reply, rec, undefined, { type: rec.mimeType, etag: rec.sha256, filename: rec.filename, disposition });

  // ---- capturekit's own shape -------------------------------------------------------------------
  app.get('/api/captures', { schema: { querystring: sessionQuery } }, async (request) => {
    const captures = await list(request, request.query.session, request.query.type);
    return { session: request.query.session ?? null, count: captures.length, captures };
  });
  app.get('/api/captures/:id', { schema: { params: idParams } }, async (request) => ctx.view(request, await load(request)));
  app.get('/api/captures/:id/file', { schema: { params: idParams } }, async (request, reply) =>
    download(request, reply, await load(request), request.query.download === '0' ? 'inline' : 'attachment'));
  app.get('/api/captures/:id/thumbnail', { schema: { params: idParams } }, async (request, reply) => {
    const rec = await load(request);
    return storage.send(request, reply, rec, await ctx.thumbnailFile(rec), { type: 'image/jpeg', etag: `${rec.sha256.slice(0, 32)}-thumb`, cache: 'private, max-age=3600' });
  });
  app.delete('/api/captures/:id', { schema: { params: idParams } }, async (request, reply) => {
    const rec = await load(request);
    await storage.deleteCapture(rec);
    return reply.code(204).send();
  });

  // ---- single-request uploads and lists: /api/capture/... ---------------------------------------------------------------
  app.post('/api/capture/screenshot', async (request) => {
    const rec = await ctx.acceptScreenshot(request);
    return { status: 'success', data: captureItem(request, rec) };
  });
  app.post('/api/capture/video', async (request) => {
    const rec = await ctx.acceptVideo(request);
    return { status: 'success', data: captureItem(request, rec) };
  });
  app.get('/api/capture/:session/list', {
    schema: {
      params: { type: 'object', properties: { session: { type: 'string', pattern: CAPTURE_SESSION_RE.source } } },
      querystring: { type: 'object', properties: { media_type: { type: 'string', enum: ['screenshot', 'video'] } } },
    },
  }, async (request) => {
    const recs = await settleAll(await storage.listCaptures(request.user, { session: request.params.session, type: request.query.media_type }));
    const captures = recs.map((r) => captureItem(request, r));
    return { session_id: request.params.session, count: captures.length, captures };
  });

  function captureItem(request, rec) {
    const v = ctx.view(request, rec);
    return {
      ...v,
      session_id: rec.session,
      created: rec.createdAt,
      timestamp: rec.createdAt,
      url: v.urls.share,
      thumbnail: v.urls.thumbnail ?? null,
      duration: v.video?.duration ?? undefined,
      resolution: v.video?.resolution ?? undefined,
    };
  }

  // ---- recordings: /api/recordings/... (videos only) ----------------------------------------------
  app.get('/api/recordings/', async (request) => {
    const recordings = await list(request, undefined, 'video');
    return { count: recordings.length, recordings };
  });
  app.get('/api/recordings/sessions/:session', {
    schema: { params: { type: 'object', properties: { session: { type: 'string', pattern: CAPTURE_SESSION_RE.source } } } },
  }, async (request) => {
    const recordings = await list(request, request.params.session, 'video');
    return { session: request.params.session, count: recordings.length, recordings };
  });
  app.get('/api/recordings/:id/download', { schema: { params: idParams } }, async (request, reply) => {
    const rec = await load(request);
    if (rec.type !== 'video') throw httpError(404, 'no such recording');
    return download(request, reply, rec);
  });
  app.delete('/api/recordings/:id', { schema: { params: idParams } }, async (request, reply) => {
    const rec = await load(request);
    if (rec.type !== 'video') throw httpError(404, 'no such recording');
    await storage.deleteCapture(rec);
    return reply.code(204).send();
  });
}
