// Unguessable share links: GET /s/<token> serves the capture (Range supported, so shared videos seek);
// GET /s/<token>/thumbnail its thumbnail. Tokens are 128 random bits; no token, no capture.
import { TOKEN_RE, httpError } from '../storage.js';

// A share link stops working when its capture is deleted, so no shared cache may keep a copy: browsers
// revalidate (ETag) on each use, and proxies and CDNs do not store it.
const SHARE_CACHE = 'private, no-cache';

const params = { type: 'object', properties: { token: { type: 'string', pattern: TOKEN_RE.source } }, required: ['token'] };

export default async function shareRoutes(app, { ctx }) {
  const { storage } = ctx;
  const load = async (request) => {
    const rec = await ctx.completion.settle(await storage.resolveShare(request.params.token));
    if (!rec) throw httpError(404, 'no such share link');
    return rec;
  };
  app.get('/s/:token', { schema: { params } }, async (request, reply) => {
    const rec = await load(request);
    return storage.send(request, reply, rec, undefined, {
      type: rec.mimeType, etag: rec.sha256, filename: rec.filename, disposition: 'inline', cache: SHARE_CACHE,
    });
  });
  app.get('/s/:token/thumbnail', { schema: { params } }, async (request, reply) => {
    const rec = await load(request);
    return storage.send(request, reply, rec, await ctx.thumbnailFile(rec, { explain: false }), { type: 'image/jpeg', etag: `${rec.sha256.slice(0, 32)}-thumb`, cache: SHARE_CACHE });
  });
}
