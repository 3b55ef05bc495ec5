// capturekit reference upload server: createServer(options) returns a fastify instance (not listening).
//
//   import { createServer } from './examples/server/server.js';
//   const app = createServer({ dataDir, tokens: 'secret-token-1:alice' });
//   await app.listen({ port: 0, host: '127.0.0.1' });
//
// See README.md beside this file for the endpoints and options.
import Fastify from 'fastify';
import multipart from '@fastify/multipart';
import { randomBytes, randomUUID } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Storage, httpError } from './storage.js';
import { PostgresStateStore, checkDatabaseUrl } from './state-postgres.js';
import { ObjectStore } from './object-store.js';
import { parseTokens, makeDevToken, bearerAuth } from './auth.js';
import { FaultInjector, normalizeFaults } from './faults.js';
import { makeIntake } from './intake.js';
import { makeQuota } from './quota.js';
import { makeCompletion } from './completion.js';
import { makeIdempotency } from './idempotency.js';
import { guardRequestBody } from './connection.js';
import { makeLiveRecordings } from './live-recording.js';
import protocolRoutes from './routes/protocol.js';
import captureRoutes from './routes/captures.js';
import shareRoutes from './routes/share.js';
import tusRoutes from './routes/tus.js';
import s3Routes, { normalizeS3Options } from './routes/s3.js';
import staticRoutes, { DEFAULT_MOUNTS } from './routes/static.js';

export const SERVER_DIR = fileURLToPath(new URL('.', import.meta.url));
export const REPO_ROOT = resolve(SERVER_DIR, '../..');

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

export const DEFAULTS = Object.freeze({
  dataDir: resolve(SERVER_DIR, 'data'),
  tokens: null, // null: a random dev token for user "dev" (app.capturekit.devToken)
  maxChunkBytes: 64 * MiB,
  maxScreenshotBytes: 32 * MiB,
  maxVideoBytes: 4 * GiB,
  maxMetadataBytes: 64 * KiB,
  maxChunks: 100000,
  retentionDays: 30, // 0 turns retention off
  retentionIntervalMs: 60 * 60 * 1000,
  tmpMaxAgeMs: 24 * 60 * 60 * 1000,
  faults: null,
  publicUrl: null,
  static: true,
  staticRoot: REPO_ROOT,
  staticMounts: DEFAULT_MOUNTS,
  cors: true,
  thumbnail: { width: 200, height: 200, quality: 85 },
  thumbnailsOnUpload: true,
  maxImagePixels: 50_000_000, // thumbnails: larger screenshots are never decoded (thumbnails.js)
  logger: false, // true (--log): pino JSON lines, each with the request id (reqId)
  shutdownTimeoutMs: 25 * 1000, // SIGTERM: requests in flight get this long to finish
  // Connection timeouts: a request's headers must arrive within headersTimeoutMs and the whole request
  // within requestTimeoutMs; a body that sends nothing for bodyTimeoutMs is cut off (its connection closed).
  headersTimeoutMs: 20 * 1000,
  requestTimeoutMs: 10 * 60 * 1000,
  bodyTimeoutMs: 30 * 1000,
  keepAliveTimeoutMs: 10 * 1000,
  // Per-user quotas (0 = no limit): stored bytes (captures, unfinished uploads), open REST upload
  // sessions, open (unfinished) tus uploads.
  quotaBytes: 20 * GiB,
  quotaSessions: 100,
  quotaTusUploads: 100,
  database: null, // postgres://...: the state in PostgreSQL (state-postgres.js) instead of the data directory
  serverId: null, // a name for this server, sent as X-Served-By on every answer (several servers behind a proxy)
  s3Bytes: false, // true: every byte in the s3 bucket (object-store.js); needs s3 and database
  liveRecording: {}, // server-side recording (live-recording.js LIVE_RECORDING_DEFAULTS): fps, container, maxSnapshotBytes, ...
  s3: null, // { bucket, endpoint?, region?, accessKeyId?, secretAccessKey?, forcePathStyle?, ... }: presign endpoints (routes/s3.js)
});

function positiveInt(v, name) {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  return n;
}

function nonNegativeInt(v, name) {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer, got ${v}`);
  return n;
}

export function normaliseOptions(options = {}) {
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  o.dataDir = resolve(o.dataDir);
  for (const k of ['maxChunkBytes', 'maxScreenshotBytes', 'maxVideoBytes', 'maxMetadataBytes', 'maxChunks', 'maxImagePixels']) o[k] = positiveInt(o[k], k);
  for (const k of ['headersTimeoutMs', 'requestTimeoutMs', 'bodyTimeoutMs', 'keepAliveTimeoutMs', 'shutdownTimeoutMs']) o[k] = positiveInt(o[k], k);
  if (o.headersTimeoutMs > o.requestTimeoutMs) throw new RangeError(`headersTimeoutMs (${o.headersTimeoutMs}) must not exceed requestTimeoutMs (${o.requestTimeoutMs})`);
  for (const k of ['quotaBytes', 'quotaSessions', 'quotaTusUploads']) o[k] = nonNegativeInt(o[k], k);
  o.retentionDays = Number(o.retentionDays);
  if (!(o.retentionDays >= 0)) throw new RangeError(`retentionDays must be >= 0, got ${options.retentionDays}`);
  o.faults = normalizeFaults(o.faults);
  if (o.publicUrl) o.publicUrl = String(o.publicUrl).replace(/\/+$/, '');
  o.thumbnail = { ...DEFAULTS.thumbnail, ...(options.thumbnail || {}) };
  o.s3 = normalizeS3Options(o.s3);
  o.database = o.database ? checkDatabaseUrl(String(o.database)) : null;
  if (o.serverId !== null && (typeof o.serverId !== 'string' || !/^[A-Za-z0-9._:-]{1,64}$/.test(o.serverId))) {
    throw new RangeError(`serverId must be 1..64 of A-Z a-z 0-9 . _ : -, got ${JSON.stringify(o.serverId)}`);
  }
  o.s3Bytes = o.s3Bytes === true || o.s3Bytes === 'true' || o.s3Bytes === '1';
  if (o.s3Bytes && !o.s3) throw new TypeError('s3Bytes (--s3-bytes) needs a bucket (--s3-bucket)');
  if (o.s3Bytes && !o.database) throw new TypeError('s3Bytes (--s3-bytes) needs a shared state store (--database postgres://...): the parts of a recording are recorded there');
  return o;
}

// A request id the client sent (X-Request-Id) is kept when it is short and plain; else one is made.
const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
const PROBES = new Set(['/healthz', '/readyz']);

const HOST_RE = /^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$/;

/**
 * Creates the server. Options (all optional): see DEFAULTS above and README.md.
 * The returned fastify instance is decorated with `capturekit`:
 *   { options, storage, faults (FaultInjector, .log), devToken (when no tokens were given), runRetention() }
 */
export function createServer(options = {}) {
  const opts = normaliseOptions(options);
  let devToken = null;
  let tokenSpec = opts.tokens;
  if (!tokenSpec || (typeof tokenSpec === 'string' && !tokenSpec.trim())) {
    devToken = makeDevToken();
    tokenSpec = `${devToken}:dev`;
  }
  const tokens = parseTokens(tokenSpec);
  if (tokens.size === 0) throw new Error('tokens: no token configured');

  const app = Fastify({
    logger: opts.logger,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID();
    },
    forceCloseConnections: true,
    bodyLimit: 1 * MiB,
    routerOptions: { maxParamLength: 256 },
    return503OnClosing: true,
    requestTimeout: opts.requestTimeoutMs,
    keepAliveTimeout: opts.keepAliveTimeoutMs,
    // Node checks the header and request timeouts on this interval (its default, 30 s, would let a
    // short timeout run up to 30 s late).
    http: { headersTimeout: opts.headersTimeoutMs, connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(opts.headersTimeoutMs / 4))) },
  });
  const storage = new Storage(opts.dataDir);
  const migrations = [];
  if (opts.database) storage.useState(new PostgresStateStore(opts.database, { log: (m) => { migrations.push(m); app.log.info(m); } }));
  if (opts.s3Bytes) storage.useObjects(new ObjectStore(opts.s3));
  const faults = new FaultInjector(opts.faults);

  // The base of the URLs in answers: --public-url when set (production: the Host header is the client's
  // to choose), else the request's Host when it is a plain host[:port], else 127.0.0.1.
  const baseUrl = (request) => {
    if (opts.publicUrl) return opts.publicUrl;
    const web = request && request.headers && typeof request.headers.get === 'function'; // web Request (tus hooks)
    const host = web ? request.headers.get('host') : request?.host;
    const protocol = web ? new URL(request.url).protocol.replace(':', '') : request?.protocol;
    return `${protocol === 'https' ? 'https' : 'http'}://${host && HOST_RE.test(host) ? host : '127.0.0.1'}`;
  };
  const ctx = {
    options: opts,
    storage,
    faults,
    tokens,
    authenticate: bearerAuth(tokens),
    baseUrl,
    shareUrl: (request, rec) => `${baseUrl(request)}/s/${rec.shareToken}`,
  };
  ctx.idempotency = makeIdempotency({ storage });
  Object.assign(ctx, makeIntake(ctx));
  ctx.completion = makeCompletion({ storage, log: (err, rec) => app.log.error({ err, capture: rec.id }, 'completing a capture failed') });
  ctx.quota = makeQuota(ctx);

  const runRetention = async () => {
    const now = Date.now();
    const cutoff = opts.retentionDays > 0 ? now - opts.retentionDays * 86400000 : -Infinity;
    return storage.cleanup(cutoff, now - opts.tmpMaxAgeMs);
  };
  let timer = null;

  // Graceful shutdown: stop accepting, let the requests in flight finish (chunk writes included) for at
  // most shutdownTimeoutMs, then close. Requests that arrive meanwhile on kept-alive connections get 503.
  let draining = false;
  ctx.isDraining = () => draining;
  const inFlight = new Set();
  let drained = null;
  const shutdown = async ({ timeoutMs = opts.shutdownTimeoutMs } = {}) => {
    if (!draining) {
      draining = true;
      if (app.server.listening) app.server.close();
      app.server.closeIdleConnections?.();
      let timer;
      drained = Promise.race([
        new Promise((r) => { if (inFlight.size === 0) r(true); else inFlight.onEmpty = () => r(true); }),
        new Promise((r) => { timer = setTimeout(() => r(false), timeoutMs); }),
      ]).finally(() => clearTimeout(timer));
    }
    const finished = await drained;
    const left = inFlight.size;
    await app.close();
    return { finished, left };
  };

  app.decorate('capturekit', { options: opts, storage, faults, devToken, runRetention, uncaught: 0, shutdown, completion: ctx.completion, migrations });

  // Request ids: echoed in X-Request-Id (and in every log line of the request, as reqId).
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    if (opts.serverId) reply.raw.setHeader('x-served-by', opts.serverId); // on the raw answer: tus writes its own
    if (draining && !PROBES.has(request.url)) {
      reply.header('connection', 'close').header('retry-after', '1').code(503)
        .send({ error: 'the server is shutting down; retry', statusCode: 503 });
      return;
    }
    inFlight.add(reply.raw);
    reply.raw.once('close', () => {
      inFlight.delete(reply.raw);
      if (draining) {
        app.server.closeIdleConnections?.();
        if (inFlight.size === 0) inFlight.onEmpty?.();
      }
    });
    done();
  });

  app.register(multipart, { throwFileSizeLimit: true, limits: { fileSize: opts.maxScreenshotBytes, parts: 50 } });

  app.setErrorHandler((err, request, reply) => {
    let status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (err.validation) status = 400;
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.code === 'FST_REQ_FILE_TOO_LARGE') status = 413;
    if (status >= 500) request.log.error(err);
    const message = status >= 500 && !err.expose ? 'internal server error' : err.message;
    const extra = err.extra && typeof err.extra === 'object' ? err.extra : {};
    if (Number.isSafeInteger(extra.retryAfter) && extra.retryAfter > 0) reply.header('retry-after', String(extra.retryAfter));
    reply.code(status).send({ error: message, statusCode: status, ...extra });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: 'not found', statusCode: 404 }));

  // Request bodies: an idle timeout while one is received, and an answer sent before the body was
  // complete closes the connection rather than reading the rest (connection.js).
  app.addHook('onRequest', (request, reply, done) => {
    guardRequestBody(request.raw, reply.raw, { bodyTimeoutMs: opts.bodyTimeoutMs });
    done();
  });

  // CORS (Bearer tokens, no cookies, so any origin may call with its own token); /files/ is tus's.
  app.addHook('onRequest', async (request, reply) => {
    if (!opts.cors || request.url.startsWith('/files') || PROBES.has(request.url)) return;
    reply.header('access-control-allow-origin', '*');
    reply.header('access-control-expose-headers', 'content-range, accept-ranges, content-length, etag, retry-after, x-capturekit-fault, x-request-id, idempotent-replayed, x-served-by');
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method']) {
      reply.header('access-control-allow-methods', 'GET, HEAD, POST, DELETE, OPTIONS');
      reply.header('access-control-allow-headers', 'authorization, content-type, range, if-range, idempotency-key, x-request-id');
      reply.header('access-control-max-age', '600');
      return reply.code(204).send();
    }
  });
  // A single-request upload answered with an earlier capture of its Idempotency-Key says so.
  app.addHook('onSend', async (request, reply) => {
    if (request.idempotentReplay) reply.header('idempotent-replayed', 'true');
  });
  // Declared body limits are checked on Content-Length before any byte is read.
  app.addHook('onRequest', async (request) => {
    const max = request.routeOptions?.config?.maxBody;
    const len = Number(request.headers['content-length']);
    if (max && Number.isFinite(len) && len > max) throw httpError(413, `body of ${len} bytes exceeds the limit of ${max} bytes`);
  });

  app.addHook('onReady', async () => {
    await storage.prepare();
    await runRetention();
    timer = setInterval(() => { runRetention().catch((e) => app.log.error(e)); }, opts.retentionIntervalMs);
    timer.unref();
  });
  app.addHook('onClose', async () => {
    if (timer) clearInterval(timer);
    let wait;
    await Promise.race([ctx.completion.idle(), new Promise((r) => { wait = setTimeout(r, 10000); })]);
    clearTimeout(wait);
    faults.close();
    await live.close();
    await ctx.thumbnailer.close();
    await storage.state.close();
    storage.objects?.close();
  });

  const overhead = 64 * KiB;
  const bodyCaps = {
    chunk: opts.maxChunkBytes + overhead,
    screenshot: opts.maxScreenshotBytes + opts.maxMetadataBytes + overhead,
    video: opts.maxVideoBytes + opts.maxMetadataBytes + overhead,
  };
  ctx.bodyCaps = bodyCaps;
  app.addHook('onRoute', (route) => {
    const cap = {
      '/videos/chunk': bodyCaps.chunk, '/api/v1/videos/chunk': bodyCaps.chunk,
      '/screenshots/upload': bodyCaps.screenshot, '/api/v1/screenshots/upload': bodyCaps.screenshot,
      '/api/capture/screenshot': bodyCaps.screenshot, '/api/capture/video': bodyCaps.video,
    }[route.url];
    if (cap) route.config = { ...(route.config || {}), maxBody: cap, storesBytes: true };
  });
  // Routes that store bytes are refused (507) before their body is read when the user's byte quota is
  // full or the declared length would pass it. preHandler: after the routes' own token check.
  app.addHook('preHandler', async (request) => {
    if (!request.routeOptions?.config?.storesBytes || !request.user) return;
    const len = Number(request.headers['content-length']);
    await ctx.quota.checkBytes(request.user, Number.isSafeInteger(len) && len > 0 ? len : 0);
  });

  app.register(protocolRoutes, { ctx });
  app.register(protocolRoutes, { ctx, prefix: '/api/v1' });
  app.register(captureRoutes, { ctx });
  const live = makeLiveRecordings(ctx, app, opts.liveRecording || {});
  app.register(live.routes);
  app.register(shareRoutes, { ctx });
  app.register(tusRoutes, { ctx });
  if (opts.s3) app.register(s3Routes, { ctx });

  // Probes, without a token: /healthz (the process answers), /readyz (it can take uploads: the data
  // directory takes an fsynced write, the database answers; 503 while shutting down).
  app.get('/healthz', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    return { status: 'ok' };
  });
  app.get('/readyz', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const checks = { dataDir: 'ok', ...(opts.database ? { database: 'ok' } : {}), ...(opts.s3Bytes ? { bucket: 'ok' } : {}) };
    if (draining) return reply.code(503).send({ status: 'shutting down', checks });
    const path = join(storage.tmpDir, `readyz-${randomBytes(6).toString('hex')}.tmp`);
    let wait;
    try {
      await Promise.race([
        (async () => {
          const fh = await open(path, 'wx');
          try { await fh.writeFile('ok'); await fh.sync(); } finally { await fh.close(); }
        })(),
        new Promise((_, reject) => { wait = setTimeout(() => reject(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })), 2000); }),
      ]);
    } catch (e) {
      checks.dataDir = e.code || 'error';
    } finally {
      clearTimeout(wait);
      await rm(path, { force: true }).catch(() => {});
    }
    if (opts.database) checks.database = (await storage.state.check()) ?? 'ok';
    if (opts.s3Bytes) checks.bucket = (await storage.objects.check()) ?? 'ok';
    const ready = Object.values(checks).every((v) => v === 'ok');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });

  // The dev token, for the example pages served by this same server (same origin, loopback host only).
  app.get('/api/dev-token', async (request, reply) => {
    reply.removeHeader('access-control-allow-origin');
    const host = String(request.headers.host || '');
    const site = request.headers['sec-fetch-site'];
    if (!devToken || !/^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(host) || (site && site !== 'same-origin' && site !== 'none')) {
      throw httpError(404, 'not found');
    }
    reply.header('cache-control', 'no-store');
    return { token: devToken, user: 'dev' };
  });
  if (opts.static) app.register(staticRoutes, { root: opts.staticRoot, mounts: opts.staticMounts });
  return app;
}
