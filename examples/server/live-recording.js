// Server-side recording: the browser sends low-rate snapshots (about 5 per second, JPEG or PNG) over a
// WebSocket, the server writes a 30 FPS video (each snapshot held until the next one) and stores it as a
// video capture of that user, on whichever backend runs (the data directory or the bucket).
//
//   POST /api/recordings/sessions/:session/start?fps=30&resolution=1280x720   201 { session, recordingId, state, fps, resolution, websocket }
//   GET  /api/recordings/ws/:session      the WebSocket (any server: it writes the video)
//   POST /api/recordings/sessions/:session/stop                               200 { status: 'stopped', session, recording: capture view }
//
// Any request may reach any server (a round-robin proxy in front of several): the recording's state
// lives in the state store (live_recordings with --database), changed under its lock. The server that
// holds the socket writes the video (recording-worker.js, a thread of its own) and watches the store, so
// a stop answered by another server reaches it; the stop request waits until the capture exists.
//
// The socket's token: never in the URL (a query parameter that names or carries a token is refused with
// 400 before the upgrade). Either a subprotocol `capturekit.bearer.<token as base64url>` offered together
// with `capturekit.v1` (the one the server selects; a bad token is 401 before the upgrade), or the first
// message, text `{"type":"auth","token":"..."}` within authTimeoutMs.
//
// Messages: client → server, binary: a snapshot, the JPEG/PNG alone (its arrival time is used) or after
// an 8-byte big-endian float64 capture time in ms (any clock, increasing); text: {"type":"auth",token},
// {"type":"stop"}. Server → client, text: {type:'ready', session, recordingId, fps, resolution},
// {type:'status', snapshots, frames, bytes, recording: {enabled, active}} after each snapshot,
// {type:'error', message, fatal} (a snapshot out of order), {type:'stopped', recording: view}.
// Close codes: 1000 stopped; 1009 a message over maxSnapshotBytes; 4400 a message that is not a
// snapshot or a known JSON message; 4401 no or a bad token; 4404 no recording of this session was
// started (or it is another user's); 4409 another socket already sends this recording; 4413 a snapshot
// over the pixel budget; 4429 too many snapshots (64) or bytes (64 MiB) waiting; 1011 the server failed. A socket that ends
// before stop leaves no capture: the recording stays started, and a new socket begins it again.
import { Worker } from 'node:worker_threads';
import { createReadStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { WebSocketServer } from 'ws';
import { httpError, newId, CAPTURE_SESSION_RE } from './storage.js';
import { userFor } from './auth.js';

const WORKER_URL = new URL('./recording-worker.js', import.meta.url);
const WS_PATH_RE = /^\/api\/recordings\/ws\/([^/]+)$/;
const BEARER_PROTOCOL = 'capturekit.bearer.';
const PROTOCOL = 'capturekit.v1';
const RESOLUTION_RE = /^([1-9][0-9]{0,4})x([1-9][0-9]{0,4})$/;
const TOKEN_PARAM_RE = /token|auth|bearer|key|secret|password/i;

export const LIVE_RECORDING_DEFAULTS = Object.freeze({
  fps: 30,
  minFps: 1,
  maxFps: 60,
  inputFps: 5, // how long a lone snapshot lasts at stop (1 / inputFps)
  codec: 'vp9',
  container: 'mp4', // VP9 in MP4 (plays in Chromium's <video>)
  bitrate: 2_000_000,
  maxSide: 4096,
  maxPixels: 4096 * 2304,
  maxSnapshotBytes: 8 * 1024 * 1024,
  maxPendingSnapshots: 64, // messages received but not yet encoded (a loaded server falls behind for a while) ...
  maxPendingBytes: 64 * 1024 * 1024, // ... and their bytes: what a socket may hold in memory
  authTimeoutMs: 5000,
  pollMs: 200, // how often the socket's server looks for a stop answered by another server
  heartbeatMs: 2000, // the socket's server says it is alive this often ...
  staleMs: 10000, // ... and a holder silent for this long (its server died) gives the recording up
  stopTimeoutMs: 120000,
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function parseSession(raw) {
  let s;
  try { s = decodeURIComponent(raw); } catch { return null; }
  return CAPTURE_SESSION_RE.test(s) ? s : null;
}

/** { fps, width, height } from the start request's query (checked), width/height null when not given. */
function parseStartQuery(q, o) {
  const fps = q.fps === undefined || q.fps === '' ? o.fps : Number(q.fps);
  if (!Number.isFinite(fps) || fps < o.minFps || fps > o.maxFps) throw httpError(400, `fps must be a number from ${o.minFps} to ${o.maxFps}, got ${JSON.stringify(q.fps)}`);
  let width = null;
  let height = null;
  if (q.resolution !== undefined && q.resolution !== '') {
    const m = RESOLUTION_RE.exec(String(q.resolution));
    if (!m) throw httpError(400, `resolution must be WIDTHxHEIGHT (e.g. 1280x720), got ${JSON.stringify(q.resolution)}`);
    width = Number(m[1]);
    height = Number(m[2]);
    if (width % 2 || height % 2 || width > o.maxSide || height > o.maxSide || width * height > o.maxPixels) {
      throw httpError(400, `resolution must be even sides of at most ${o.maxSide} and ${o.maxPixels} pixels, got ${width}x${height}`);
    }
  }
  return { fps, width, height };
}

/** The worker thread of one recording; call(msg) answers in order. */
class RecordingThread {
  constructor() {
    this.thread = new Worker(WORKER_URL);
    this.thread.unref();
    this.waiting = [];
    this.dead = null;
    this.thread.on('message', (m) => this.waiting.shift()?.resolve(m));
    const fail = (why) => {
      this.dead = why;
      for (const w of this.waiting.splice(0)) w.resolve({ ok: false, kind: 'internal', error: why });
    };
    this.thread.on('error', (e) => fail(`the recording thread failed: ${e.message}`));
    this.thread.on('exit', () => fail('the recording thread ended'));
  }

  call(msg, transfer) {
    if (this.dead) return Promise.resolve({ ok: false, kind: 'internal', error: this.dead });
    return new Promise((resolve) => {
      this.waiting.push({ resolve });
      this.thread.postMessage(msg, transfer);
    });
  }

  end() { this.thread.terminate().catch(() => {}); }
}

async function digestFile(path) {
  const h = createHash('sha256');
  for await (const b of createReadStream(path)) h.update(b);
  return h.digest('hex');
}

/**
 * The recordings of one server: start/stop routes (a fastify plugin) and the WebSocket upgrade handler
 * on app.server. Returns { routes, close() }.
 */
export function makeLiveRecordings(ctx, app, options = {}) {
  const o = { ...LIVE_RECORDING_DEFAULTS, ...options };
  const { storage, tokens } = ctx;
  const state = () => storage.state;
  const lockKey = (user, session) => `live:${user}:${session}`;
  const withRecording = (user, session, fn) => state().withLock(lockKey(user, session), async () => fn(await state().getLiveRecording(user, session)));
  const serverTag = `${ctx.options.serverId || 'server'}:${process.pid}`;
  const sockets = new Set();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: o.maxSnapshotBytes + 8,
    handleProtocols: (protocols) => (protocols.has(PROTOCOL) ? PROTOCOL : false),
  });

  if (ctx.options.serverId) wss.on('headers', (headers) => headers.push(`X-Served-By: ${ctx.options.serverId}`));

  // ---- HTTP: start and stop ------------------------------------------------------------------------
  async function routes(r) {
    r.addHook('onRequest', ctx.authenticate);
    const params = { type: 'object', properties: { session: { type: 'string', pattern: CAPTURE_SESSION_RE.source } }, required: ['session'] };

    r.post('/api/recordings/sessions/:session/start', { schema: { params } }, async (request, reply) => {
      const { session } = request.params;
      const cfg = parseStartQuery(request.query || {}, o);
      await ctx.quota.checkBytes(request.user, 0);
      const rec = await withRecording(request.user, session, async (cur) => {
        if (cur && (cur.state === 'started' || cur.state === 'stopping')) {
          throw httpError(409, `a recording of session ${session} is already ${cur.state === 'started' ? 'running' : 'stopping'}; stop it first`, { recordingId: cur.id, state: cur.state });
        }
        const next = {
          id: newId(), owner: request.user, session, state: 'started', ...cfg,
          createdAt: new Date().toISOString(), holder: null, holderSeen: 0,
        };
        await state().putLiveRecording(next);
        return next;
      });
      return reply.code(201).send({
        session, recordingId: rec.id, state: rec.state, fps: rec.fps,
        resolution: rec.width ? `${rec.width}x${rec.height}` : null,
        websocket: `/api/recordings/ws/${encodeURIComponent(session)}`,
      });
    });

    r.post('/api/recordings/sessions/:session/stop', { schema: { params } }, async (request) => {
      const { session } = request.params;
      const user = request.user;
      const first = await withRecording(user, session, async (cur) => {
        if (!cur) throw httpError(404, `no recording of session ${session} was started`);
        if (cur.state === 'started') {
          const held = cur.holder && Date.now() - cur.holderSeen < o.staleMs;
          if (!held) {
            cur.state = 'failed';
            cur.error = 'no snapshot socket was sending this recording, so there is no video';
          } else {
            cur.state = 'stopping';
          }
          cur.stopRequestedAt = new Date().toISOString();
          await state().putLiveRecording(cur);
        }
        return cur;
      });
      const deadline = Date.now() + o.stopTimeoutMs;
      let cur = first;
      while (cur && cur.id === first.id && cur.state === 'stopping' && Date.now() < deadline) {
        await sleep(o.pollMs);
        cur = await state().getLiveRecording(user, session);
        // The holder's server died while stopping: the recording cannot be finished.
        if (cur?.state === 'stopping' && Date.now() - cur.holderSeen > o.staleMs) {
          cur = await withRecording(user, session, async (c) => {
            if (c?.state === 'stopping' && Date.now() - c.holderSeen > o.staleMs) {
              Object.assign(c, { state: 'failed', error: 'the server writing this recording stopped answering' });
              await state().putLiveRecording(c);
            }
            return c;
          });
        }
      }
      if (!cur || cur.id !== first.id) throw httpError(404, `no recording of session ${session} was started`);
      if (cur.state === 'stopping') throw httpError(504, 'the recording did not finish in time; ask again', { retryAfter: 5 });
      if (cur.state === 'failed') throw httpError(409, `the recording failed: ${cur.error}`, { recordingId: cur.id });
      const capture = await ctx.completion.settle(await storage.getCapture(user, cur.captureId));
      if (!capture) throw httpError(404, 'the recording was stopped, and its capture has been deleted since');
      return { status: 'stopped', session, recordingId: cur.id, frames: cur.frames, snapshots: cur.snapshots, recording: ctx.view(request, capture) };
    });
  }

  // ---- the WebSocket -------------------------------------------------------------------------------
  const refuse = (socket, status, message) => {
    const body = JSON.stringify({ error: message, statusCode: status });
    const reason = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 503: 'Service Unavailable' }[status] || 'Error';
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`
      + `${status === 401 ? 'WWW-Authenticate: Bearer realm="capturekit"\r\n' : ''}\r\n${body}`);
  };

  function onUpgrade(req, socket, head) {
    const url = new URL(req.url, 'http://x');
    const m = WS_PATH_RE.exec(url.pathname);
    if (!m) { refuse(socket, 404, 'not found'); return; }
    socket.on('error', () => {});
    if (ctx.isDraining?.()) { refuse(socket, 503, 'the server is shutting down; retry'); return; }
    for (const [name, value] of url.searchParams) {
      if (TOKEN_PARAM_RE.test(name) || userFor(tokens, `Bearer ${value}`)) {
        refuse(socket, 400, 'tokens never go in the URL: send it as the subprotocol capturekit.bearer.<base64url> or in the first message');
        return;
      }
    }
    const session = parseSession(m[1]);
    if (!session) { refuse(socket, 400, `the session must match ${CAPTURE_SESSION_RE}`); return; }
    const offered = String(req.headers['sec-websocket-protocol'] || '').split(',').map((s) => s.trim()).filter(Boolean);
    const bearer = offered.find((p) => p.startsWith(BEARER_PROTOCOL));
    let user = null;
    if (bearer) {
      const token = Buffer.from(bearer.slice(BEARER_PROTOCOL.length), 'base64url').toString('latin1');
      user = userFor(tokens, `Bearer ${token}`);
      if (!user) { refuse(socket, 401, 'invalid bearer token'); return; }
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const live = new LiveSocket(ws, session, { host: req.headers.host, protocol: 'http' });
      sockets.add(live);
      ws.once('close', () => sockets.delete(live));
      if (user) live.authenticated(user);
      else live.awaitAuth();
    });
  }

  class LiveSocket {
    constructor(ws, session, origin) {
      this.ws = ws;
      this.origin = origin; // the upgrade request's host, for the URLs in the capture's view
      this.session = session;
      this.user = null;
      this.rec = null;
      this.thread = null;
      this.path = null;
      this.holder = `${serverTag}:${randomBytes(6).toString('hex')}`;
      this.chain = Promise.resolve();
      this.pending = 0;
      this.pendingBytes = 0;
      this.phase = 'auth'; // auth | recording | stopping | done
      this.poller = null;
      this.lastBeat = 0;
      this.status = { snapshots: 0, frames: 0, bytes: 0 };
      ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
      ws.on('close', () => this.onClose());
      ws.on('error', () => {});
    }

    send(obj) { if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(obj)); }

    close(code, reason) {
      if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code, reason.slice(0, 120));
    }

    /** A refusal while recording: the recording is given back first (a new socket may take it at once), then the close. */
    async fail(code, reason) {
      await this.drop();
      this.close(code, reason);
    }

    /** Ends what this socket was sending: no capture, the partial file removed, the recording free again. */
    async drop() {
      if (this.phase !== 'recording' && this.phase !== 'claiming') return;
      this.phase = 'done';
      clearInterval(this.poller);
      if (this.thread) { await this.thread.call({ type: 'abort' }); this.thread.end(); }
      if (this.path) await rm(this.path, { force: true });
      await this.release();
    }

    awaitAuth() {
      this.authTimer = setTimeout(() => this.close(4401, 'no token: send {"type":"auth","token":...} first'), o.authTimeoutMs);
    }

    enqueue(fn) {
      this.pending++;
      this.chain = this.chain.then(fn).catch((e) => {
        const status = e.statusCode;
        if (status === 404) this.close(4404, e.message);
        else if (status === 409) this.close(4409, e.message);
        else { app.log.error({ err: e, session: this.session }, 'server-side recording failed'); this.close(1011, `the server failed: ${e.message}`); }
      }).finally(() => { this.pending--; });
      return this.chain;
    }

    async authenticated(user) {
      clearTimeout(this.authTimer);
      this.user = user;
      this.phase = 'claiming';
      this.enqueue(() => this.claim());
    }

    /** Takes the recording for this socket (one socket per recording), and starts its thread. */
    async claim() {
      const rec = await withRecording(this.user, this.session, async (cur) => {
        if (!cur || cur.state !== 'started') throw httpError(404, `no recording of session ${this.session} was started: POST /api/recordings/sessions/<session>/start first`);
        if (cur.holder && cur.holder !== this.holder && Date.now() - cur.holderSeen < o.staleMs) throw httpError(409, 'another socket is already sending this recording');
        Object.assign(cur, { holder: this.holder, holderSeen: Date.now() });
        await state().putLiveRecording(cur);
        return cur;
      });
      if (this.ws.readyState !== this.ws.OPEN) { await this.release(); return; }
      this.rec = rec;
      this.path = `${storage.tmpPath()}.live`;
      this.thread = new RecordingThread();
      const opened = await this.thread.call({
        type: 'open', path: this.path, fps: rec.fps, width: rec.width, height: rec.height, inputFps: o.inputFps,
        codec: o.codec, container: o.container, bitrate: o.bitrate, maxSide: o.maxSide, maxPixels: o.maxPixels,
      });
      if (!opened.ok) throw new Error(opened.error);
      this.phase = 'recording';
      this.lastBeat = Date.now();
      this.poller = setInterval(() => this.poll(), o.pollMs);
      this.poller.unref();
      this.send({ type: 'ready', session: this.session, recordingId: rec.id, fps: rec.fps, resolution: rec.width ? `${rec.width}x${rec.height}` : null });
    }

    onMessage(data, isBinary) {
      if (this.phase === 'auth') {
        let msg = null;
        try { msg = isBinary ? null : JSON.parse(data.toString()); } catch { /* below */ }
        if (!msg || msg.type !== 'auth' || typeof msg.token !== 'string') { this.close(4401, 'the first message must be {"type":"auth","token":...}'); return; }
        const user = userFor(tokens, `Bearer ${msg.token}`);
        if (!user) { this.close(4401, 'invalid bearer token'); return; }
        this.authenticated(user);
        return;
      }
      if (this.pending >= o.maxPendingSnapshots || this.pendingBytes + data.length > o.maxPendingBytes) {
        this.close(4429, `more than ${o.maxPendingSnapshots} messages or ${o.maxPendingBytes} bytes waiting; send slower`);
        return;
      }
      if (!isBinary) {
        let msg;
        try { msg = JSON.parse(data.toString()); } catch { msg = undefined; }
        if (msg === undefined) this.enqueue(() => this.fail(4400, 'a text message must be JSON: {"type":"stop"}'));
        else if (msg?.type === 'stop') this.enqueue(() => this.requestStop());
        else if (msg?.type !== 'auth') this.enqueue(() => this.fail(4400, `unknown message type ${JSON.stringify(msg?.type)}`));
        return;
      }
      const arrival = performance.now();
      const buf = Buffer.isBuffer(data) ? data : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]);
      const isImage = (b) => b.length >= 4 && ((b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) || b.readUInt32BE(0) === 0x89504e47);
      let time = null;
      let image = buf;
      if (!isImage(buf)) {
        if (buf.length > 12 && isImage(buf.subarray(8))) {
          time = buf.readDoubleBE(0);
          image = buf.subarray(8);
        }
        if (time === null || !Number.isFinite(time)) {
          this.enqueue(() => this.fail(4400, 'a snapshot must be a JPEG or PNG, alone or after an 8-byte big-endian float64 time in ms'));
          return;
        }
      }
      const bytes = image.buffer.slice(image.byteOffset, image.byteOffset + image.length);
      this.pendingBytes += bytes.byteLength;
      this.enqueue(async () => {
        this.pendingBytes -= bytes.byteLength;
        if (this.phase !== 'recording') { this.send({ type: 'error', message: 'a snapshot after stop was ignored', fatal: false }); return; }
        const a = await this.thread.call({ type: 'snapshot', time, arrival, bytes }, [bytes]);
        if (!a.ok) {
          if (a.kind === 'budget') await this.fail(4413, a.error);
          else if (a.kind === 'image') await this.fail(4400, a.error);
          else if (a.kind === 'order') this.send({ type: 'error', message: `snapshot ignored: ${a.error}`, fatal: false });
          else throw new Error(a.error);
          return;
        }
        this.status = { snapshots: a.snapshots, frames: a.frames, bytes: a.bytes };
        this.send({ type: 'status', session: this.session, ...this.status, recording: { enabled: true, active: true } });
      });
    }

    /** The stop of this socket ({"type":"stop"}): recorded as a stop request, then finished here. */
    async requestStop() {
      if (this.phase !== 'recording') return;
      await withRecording(this.user, this.session, async (cur) => {
        if (cur?.id === this.rec.id && cur.state === 'started') { cur.state = 'stopping'; await state().putLiveRecording(cur); }
      });
      await this.finish();
    }

    /** Every pollMs: a stop answered by another server? And the heartbeat that says this holder is alive. */
    async poll() {
      if (this.phase !== 'recording' || this.polling) return;
      this.polling = true;
      try {
        const beat = Date.now() - this.lastBeat >= o.heartbeatMs;
        const cur = beat
          ? await withRecording(this.user, this.session, async (c) => {
            if (c?.id === this.rec.id && c.holder === this.holder) { c.holderSeen = Date.now(); await state().putLiveRecording(c); }
            return c;
          })
          : await state().getLiveRecording(this.user, this.session);
        if (beat) this.lastBeat = Date.now();
        if (!cur || cur.id !== this.rec.id || cur.holder !== this.holder) { this.phase = 'done'; this.close(4409, 'this recording was taken over or removed'); return; }
        if (cur.state === 'stopping') this.enqueue(() => this.finish());
      } catch (e) {
        app.log.warn({ err: e }, 'server-side recording: the state store did not answer');
      } finally {
        this.polling = false;
      }
    }

    /** Finishes the video (after every snapshot before it), stores it as a capture, marks the recording stopped. */
    async finish() {
      if (this.phase !== 'recording') return;
      this.phase = 'stopping';
      clearInterval(this.poller);
      const setState = (patch) => withRecording(this.user, this.session, async (c) => {
        if (c?.id !== this.rec.id) return c;
        Object.assign(c, patch);
        await state().putLiveRecording(c);
        return c;
      });
      const done = await this.thread.call({ type: 'finish' });
      this.thread.end();
      if (!done.ok) {
        await rm(this.path, { force: true });
        await setState({ state: 'failed', error: done.error, holder: null });
        this.phase = 'done';
        this.send({ type: 'error', message: done.error, fatal: true });
        this.close(4400, done.error);
        return;
      }
      const r = done.result;
      let capture;
      try {
        const size = (await stat(this.path)).size;
        await ctx.quota.checkBytes(this.user, size);
        const fh = await open(this.path, 'r');
        const head = Buffer.alloc(64);
        try { await fh.read(head, 0, 64, 0); } finally { await fh.close(); }
        capture = await storage.createCapture(this.user, { path: this.path, size, sha256: await digestFile(this.path), head }, {
          type: 'video',
          mimeType: r.container === 'mp4' ? 'video/mp4' : 'video/webm',
          ext: r.container === 'mp4' ? 'mp4' : 'webm',
          filename: `${this.session}.${r.container === 'mp4' ? 'mp4' : 'webm'}`,
          session: this.session,
          metadata: { source: 'server-recording', fps: this.rec.fps, snapshots: r.snapshots },
          video: { duration: r.duration, width: r.width, height: r.height, resolution: `${r.width}x${r.height}`, codec: r.codec, source: 'server-recording' },
        });
      } catch (e) {
        await rm(this.path, { force: true });
        await setState({ state: 'failed', error: e.message, holder: null });
        this.phase = 'done';
        this.send({ type: 'error', message: `the recording could not be stored: ${e.message}`, fatal: true });
        this.close(1011, 'the recording could not be stored');
        return;
      }
      await setState({ state: 'stopped', captureId: capture.id, frames: r.frames, snapshots: r.snapshots, duration: r.duration, stoppedAt: new Date().toISOString(), holder: null });
      this.phase = 'done';
      this.send({ type: 'stopped', recording: ctx.view(this.origin, capture), frames: r.frames, snapshots: r.snapshots });
      this.close(1000, 'recording stopped');
    }

    /** A socket that ends before stop: no capture; the recording may be sent again by a new socket. */
    async release() {
      await withRecording(this.user, this.session, async (c) => {
        if (c?.holder === this.holder && c.state === 'started') { c.holder = null; c.holderSeen = 0; await state().putLiveRecording(c); }
      }).catch(() => {});
    }

    onClose() {
      clearTimeout(this.authTimer);
      clearInterval(this.poller);
      this.chain.then(() => this.drop()).catch(() => {});
    }
  }

  app.server.on('upgrade', onUpgrade);
  return {
    routes,
    async close() {
      app.server.off('upgrade', onUpgrade);
      for (const s of sockets) { s.ws.terminate(); s.thread?.end(); if (s.path) await rm(s.path, { force: true }).catch(() => {}); }
      await new Promise((r) => wss.close(() => r()));
    },
  };
}
