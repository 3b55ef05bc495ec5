// Shared helpers for the reference upload server tests: a real server on 127.0.0.1:0 over a fresh
// data directory, authenticated fetch, multipart bodies built with Node's FormData/Blob.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { createServer } from '../../../examples/server/server.js';

export const ALICE = 'alice-token-0123456789';
export const BOB = 'bob-token-0123456789';
export const TOKENS = `${ALICE}:alice,${BOB}:bob`;

export const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

export async function tempDir(prefix = 'ck-server-') {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Starts a server; returns { app, url, dataDir, close, api(path, init, token) }. */
export async function startServer(options = {}) {
  const dataDir = options.dataDir || (await tempDir());
  const app = createServer({ tokens: TOKENS, static: false, dataDir, ...options });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${app.server.address().port}`;
  const api = (path, init = {}, token = ALICE) => fetch(url + path, {
    ...init,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers || {}) },
  });
  return {
    app, url, dataDir, api,
    async close({ keepData = false } = {}) {
      await app.close();
      if (!keepData && !options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Bytes that start with an EBML header (the server checks magic bytes, not names). */
export function fakeWebm(size, seed = 1) {
  const buf = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; buf[i] = x & 255; }
  Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01]).copy(buf);
  Buffer.from('webm').copy(buf, 12);
  return buf;
}

/** A real PNG (gradient), made with pngjs. */
export function makePng(width = 64, height = 48) {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      png.data[i] = (x * 255) / width; png.data[i + 1] = (y * 255) / height; png.data[i + 2] = 128; png.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

export function chunkForm({ sessionId, chunkIndex, data, checksum = sha256(data) }) {
  const form = new FormData();
  if (sessionId !== undefined) form.append('sessionId', sessionId);
  if (chunkIndex !== undefined) form.append('chunkIndex', String(chunkIndex));
  if (checksum !== null) form.append('checksum', checksum);
  if (data !== undefined) form.append('chunk', new Blob([data], { type: 'video/webm' }), `chunk_${chunkIndex}.webm`);
  return form;
}

export const json = (body) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

export async function initSession(api, body = {}, token = ALICE) {
  const res = await api('/videos/init', json({ filename: 'recording.webm', timestamp: Date.now(), fps: 30, codec: 'vp9', bitrate: 2500000, resolution: '1920x1080', ...body }), token);
  if (res.status !== 200) throw new Error(`init: ${res.status} ${await res.text()}`);
  return (await res.json()).sessionId;
}

export async function sendChunk(api, sessionId, chunkIndex, data, extra = {}, token = ALICE) {
  return api('/videos/chunk', { method: 'POST', body: chunkForm({ sessionId, chunkIndex, data, ...extra }) }, token);
}

export function screenshotForm(bytes, { metadata, session, name = 'shot.png', type = 'image/png' } = {}) {
  const form = new FormData();
  if (session !== undefined) form.append('session', session);
  if (metadata !== undefined) form.append('metadata', typeof metadata === 'string' ? metadata : JSON.stringify(metadata));
  form.append('file', new Blob([bytes], { type }), name);
  return form;
}

export { randomBytes };
