// Shared helpers for the uploader tests: the reference server on 127.0.0.1 (fault injection available),
// a real WebM made by ffmpeg, fake WebM / PNG bytes, a fetch that counts requests, and the server-side
// check that every capture arrived byte-identical, once.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { createServer, DEFAULTS } from '../../../examples/server/server.js';

export const TOKEN = 'uploader-test-token-0123';
export const TOKEN_B = 'uploader-test-token-bob';
export const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

/** Starts the reference server; returns { app, url, api(path), close(), faults (FaultInjector) }. */
export async function startServer(options = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), 'ck-uploader-'));
  const app = createServer({ tokens: `${TOKEN}:alice,${TOKEN_B}:bob`, static: false, dataDir, thumbnailsOnUpload: false, ...options });
  await app.listen({ port: options.port || 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${app.server.address().port}`;
  const api = async (path, token = TOKEN) => {
    const res = await fetch(url + path, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`${path}: ${res.status}`);
    return res.json();
  };
  return {
    app, url, api, dataDir, faults: app.capturekit.faults,
    setFaults(f) { Object.assign(app.capturekit.faults.options, f); },
    async close() {
      await app.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The reference server for Chromium tests: the example site plus tests/browser/pages, extra routes (e.g. a
 * bundled service worker) before it listens. It listens on a free port (or `port`) and keeps it for its
 * whole life: an IndexedDB origin includes the port, so reloads and new pages see the same database.
 */
export async function startBrowserServer({ port = 0, faults = { rate: 0 }, routes = {}, logRequests = false } = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), 'ck-uploader-browser-'));
  const app = createServer({
    tokens: `${TOKEN}:alice`, dataDir, thumbnailsOnUpload: false, faults,
    staticMounts: [...DEFAULTS.staticMounts, 'tests/browser/pages'],
  });
  for (const [path, handler] of Object.entries(routes)) app.get(path, handler);
  // Slows chosen requests down on the server (e.g. so that a reload lands between parts), or holds
  // them at a gate that the test opens.
  const delays = {};
  const requestLog = [];
  app.addHook('onRequest', async (request) => {
    const path = request.url.split('?')[0];
    if (logRequests) {
      const e = { method: request.method, path, start: Date.now(), end: 0, status: 0, closed: 0 };
      requestLog.push(e);
      request.raw.once('close', () => { e.closed = Date.now(); });
      request.logEntry = e;
    }
    const delay = delays[path]; // milliseconds, or a function that returns a promise (a gate)
    if (typeof delay === 'function') await delay(request);
    else if (delay) await new Promise((r) => setTimeout(r, delay));
  });
  if (logRequests) {
    app.addHook('onResponse', async (request, reply) => {
      if (request.logEntry) { request.logEntry.end = Date.now(); request.logEntry.status = reply.statusCode; }
    });
  }
  await app.listen({ port, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${app.server.address().port}`;
  return {
    app, url, dataDir, faults: app.capturekit.faults,
    api: async (path) => {
      const res = await fetch(url + path, { headers: { authorization: `Bearer ${TOKEN}` } });
      if (!res.ok) throw new Error(`${path}: ${res.status}`);
      return res.json();
    },
    setFaults(f) { Object.assign(app.capturekit.faults.options, f); },
    delays,
    requestLog,
    /** A test page (tests/browser/pages/), with the token and `query` in its URL. */
    page: (query = {}, file = 'upload-app.html') => `${url}/tests/browser/pages/${file}?${new URLSearchParams({ token: TOKEN, ...query })}`,
    async close() {
      await app.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Deterministic bytes starting with an EBML header (the server checks the first bytes of chunk 0). */
export function fakeWebm(size, seed = 1) {
  const buf = Buffer.alloc(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; buf[i] = x & 255; }
  Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01]).copy(buf);
  return buf;
}

/** A real PNG with a seeded pattern. */
export function makePng(seed = 1, width = 24, height = 16) {
  const png = new PNG({ width, height });
  for (let i = 0; i < png.data.length; i++) png.data[i] = (i * 31 + seed * 97) & 255;
  for (let i = 3; i < png.data.length; i += 4) png.data[i] = 255;
  return PNG.sync.write(png);
}

let realWebm = null;
/**
 * A real VP8 WebM (3 s, 320x240, 90 frames), made by ffmpeg once per test process in a temp dir of its
 * own (never reused from an earlier run, whose file may have been made with other settings).
 */
export function realWebmBytes() {
  if (realWebm) return realWebm;
  const dir = mkdtempSync(join(tmpdir(), 'ck-uploader-fixtures-'));
  const file = join(dir, 'testsrc-noise-3s.webm');
  try {
    // Noise keeps the encoder near its bitrate: about 700 KB, several 64 KiB parts.
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=30,noise=alls=50:allf=t+u', '-t', '3',
      '-c:v', 'libvpx', '-b:v', '2M', '-minrate', '2M', '-maxrate', '2M', '-deadline', 'realtime', '-cpu-used', '8', file]);
    realWebm = readFileSync(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return realWebm;
}

/** ffprobe's reading of a file: { duration, codec, width, height, packets } or throws. */
export function ffprobe(path) {
  const out = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', '-count_packets', path], { encoding: 'utf8' }));
  const v = out.streams.find((s) => s.codec_type === 'video');
  return { codec: v.codec_name, width: v.width, height: v.height, packets: Number(v.nb_read_packets), format: out.format.format_name };
}

/**
 * A transport whose calls are logged in `calls`: [{ op, index, itemId }], as each call starts, or with
 * { completed: true } as each call succeeds (failed attempts left out).
 */
export function spyTransport(t, { completed = false } = {}) {
  const calls = [];
  const wrap = (op) => async (ctx) => {
    const entry = { op, index: ctx.index, itemId: ctx.itemId };
    if (!completed) calls.push(entry);
    const r = await t[op](ctx);
    if (completed) calls.push(entry);
    return r;
  };
  return { ...t, calls, init: wrap('init'), uploadPart: wrap('uploadPart'), listParts: wrap('listParts'), finalize: wrap('finalize'), uploadScreenshot: wrap('uploadScreenshot') };
}

/** A fetch that counts requests by "METHOD path" (and can be told to misbehave). */
export function countingFetch(inner = fetch) {
  const counts = new Map();
  const log = [];
  const f = async (url, init = {}) => {
    const key = `${init.method || 'GET'} ${new URL(url).pathname.replace(/[0-9a-f]{32}/g, ':id')}`;
    counts.set(key, (counts.get(key) || 0) + 1);
    log.push(key);
    if (f.hook) {
      const r = await f.hook(url, init, key);
      if (r !== undefined) return r;
    }
    return inner(url, init);
  };
  f.counts = counts;
  f.log = log;
  f.total = () => log.length;
  f.hook = null;
  return f;
}

/** Waits for an event on an EventTarget (with a timeout so a test fails instead of hanging). */
export function once(target, name, { timeoutMs = 30000, filter = () => true } = {}) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { target.removeEventListener(name, on); reject(new Error(`no '${name}' event within ${timeoutMs} ms`)); }, timeoutMs);
    function on(e) {
      if (!filter(e.detail)) return;
      clearTimeout(t);
      target.removeEventListener(name, on);
      resolve(e.detail);
    }
    target.addEventListener(name, on);
  });
}

/**
 * Compares what the server holds with what was captured. expected: [{ id, sha256, size, type }] in capture
 * order. Returns { arrived, identical, duplicates, missing, extra, orderViolations, captures }.
 */
export async function verifyServer(srv, expected, { token = TOKEN } = {}) {
  const { captures } = await srv.api('/api/captures', token);
  const byClient = new Map();
  for (const c of captures) {
    const id = c.metadata?.clientUploadId;
    if (!byClient.has(id)) byClient.set(id, []);
    byClient.get(id).push(c);
  }
  let identical = 0;
  let duplicates = 0;
  const missing = [];
  for (const e of expected) {
    const list = byClient.get(e.id) || [];
    if (!list.length) { missing.push(e.id); continue; }
    if (list.length > 1) duplicates += list.length - 1;
    if (list[0].sha256 === e.sha256 && list[0].size === e.size) identical++;
  }
  const known = new Set(expected.map((e) => e.id));
  const extra = captures.filter((c) => !known.has(c.metadata?.clientUploadId)).length;
  return { arrived: expected.length - missing.length, identical, duplicates, missing, extra, captures, byClient };
}

/** The bytes of a capture as the server serves them. */
export async function captureBytes(srv, capture, token = TOKEN) {
  const res = await fetch(`${srv.url}/api/captures/${capture.id}/file`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`capture file ${capture.id}: ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

/** Writes bytes to a temporary file and returns its path (for ffprobe). */
export async function tempFile(bytes, name = 'capture.webm') {
  const dir = await mkdtemp(join(tmpdir(), 'ck-uploader-file-'));
  const p = join(dir, name);
  await writeFile(p, bytes);
  return p;
}
