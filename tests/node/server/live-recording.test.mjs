// Server-side recording (examples/server/live-recording.js) through a round-robin proxy (haproxy) in
// front of three reference servers sharing one PostgreSQL and one bucket (s3rver, --s3-bytes): start,
// 10 s of 5 FPS JPEG snapshots over a WebSocket, stop (each request on whichever server the proxy picks,
// the socket on one of them); the capture is listed, downloaded with Range, shared and deleted like any
// other, and ffprobe counts 30 frames per second of its duration while ffmpeg decodes it. The token never
// goes in the URL; another user's session is 404; bad tokens are 401; garbage and over-budget snapshots
// close the socket with a clear code while the servers keep serving. Plus one in-process server on the
// data directory (the disk backend).
import { execFileSync } from 'node:child_process';
import { writeFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { init, encodeJpeg } from '../../../js-glue/index.js';
import { startPostgres } from '../../helpers/postgres.mjs';
import { startS3rver } from '../../helpers/s3rver.mjs';
import { startServerProcess } from './server-process.mjs';
import { startHaproxy, freePort } from './haproxy.mjs';
import { ALICE, BOB, makePng, sha256, startServer } from './helpers.mjs';

const W = 320;
const H = 240;
const NAMES = ['a', 'b', 'c'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const bearerProtocol = (token) => `capturekit.bearer.${Buffer.from(token).toString('base64url')}`;

let pg;
let s3;
let proxy;
let servers = [];
let scratch;
const jpegs = [];

/** A 320x240 frame whose colour and a moving bar tell snapshot i apart. */
function frame(i) {
  const data = new Uint8Array(W * H * 4);
  const bar = (i * 13) % (W - 20);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const o = (y * W + x) * 4;
      const inBar = x >= bar && x < bar + 20;
      data[o] = inBar ? 255 : (i * 37) % 200;
      data[o + 1] = inBar ? 255 : (y * 255) / H;
      data[o + 2] = inBar ? 255 : 90 + ((i * 11) % 120);
      data[o + 3] = 255;
    }
  }
  return { data, width: W, height: H };
}

/** [8-byte big-endian float64 time in ms] + the image. */
function stamped(timeMs, image) {
  const msg = Buffer.alloc(8 + image.length);
  msg.writeDoubleBE(timeMs, 0);
  Buffer.from(image).copy(msg, 8);
  return msg;
}

beforeAll(async () => {
  await init();
  for (let i = 0; i < 50; i++) jpegs.push(await encodeJpeg(frame(i), { quality: 80 }));
  scratch = mkdtempSync(join(tmpdir(), 'ck-live-'));
  [pg, s3] = await Promise.all([startPostgres(), startS3rver({ bucket: 'ck-live' })]);
  const db = await pg.createDatabase('capturekit');
  const proxyPort = await freePort();
  const args = ['--database', db, '--s3-bytes', '--s3-bucket', s3.bucket, '--s3-endpoint', s3.endpoint, '--s3-region', s3.region,
    '--s3-access-key-id', s3.accessKeyId, '--s3-secret-access-key', s3.secretAccessKey, '--s3-force-path-style',
    '--public-url', `http://127.0.0.1:${proxyPort}`];
  servers = await Promise.all(NAMES.map((name) => startServerProcess({ args: [...args, '--server-id', name] })));
  proxy = await startHaproxy(NAMES.map((name, i) => ({ name, port: Number(new URL(servers[i].url).port) })), { port: proxyPort });
}, 180000);

afterAll(async () => {
  await proxy?.stop();
  await Promise.all(servers.map((s) => s.stop()));
  await Promise.all([pg?.destroy(), s3?.close()]);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const served = [];
async function api(path, init = {}, token = ALICE) {
  const res = await fetch(proxy.url + path, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers || {}) } });
  served.push(res.headers.get('x-served-by'));
  return res;
}

/**
 * A WebSocket to `base`'s recording route; resolves once open (with the server that took it) or with
 * { refused: status } when the upgrade was answered with an HTTP error. Collects the JSON messages and
 * the close code.
 */
function connect(base, session, { protocols, query = '' } = {}) {
  const url = `${base.replace(/^http/, 'ws')}/api/recordings/ws/${encodeURIComponent(session)}${query}`;
  const ws = protocols ? new WebSocket(url, protocols) : new WebSocket(url);
  const c = { ws, messages: [], closed: null, servedBy: null };
  c.closedP = new Promise((resolve) => ws.on('close', (code, reason) => { c.closed = { code, reason: String(reason) }; resolve(c.closed); }));
  ws.on('message', (d) => c.messages.push(JSON.parse(String(d))));
  ws.on('upgrade', (res) => { c.servedBy = res.headers['x-served-by'] || null; });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(c));
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ refused: res.statusCode, body }));
    });
    ws.once('error', (e) => { if (!c.closed) reject(e); });
  });
}

async function waitFor(pred, what, ms = 60000) {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function ffprobe(file) {
  const out = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0',
    '-show_entries', 'stream=codec_name,width,height,nb_read_frames:format=duration,format_name', '-of', 'json', file]).toString());
  return { ...out.streams[0], frames: Number(out.streams[0].nb_read_frames), duration: Number(out.format.duration), format: out.format.format_name };
}

test('start, 10 s of 5 FPS snapshots, stop through the proxy: a 30 FPS VP9 MP4 capture, listed, ranged, shared, deleted', async () => {
  const session = 'live-1';
  const start = await api(`/api/recordings/sessions/${session}/start?fps=30&resolution=${W}x${H}`, { method: 'POST' });
  expect(start.status).toBe(201);
  const started = await start.json();
  expect(started).toMatchObject({ session, state: 'started', fps: 30, resolution: `${W}x${H}`, websocket: `/api/recordings/ws/${session}` });
  // A second start of a running recording is refused.
  expect((await api(`/api/recordings/sessions/${session}/start`, { method: 'POST' })).status).toBe(409);

  const c = await connect(proxy.url, session, { protocols: ['capturekit.v1', bearerProtocol(ALICE)] });
  expect(c.ws.protocol).toBe('capturekit.v1');
  expect(NAMES).toContain(c.servedBy);
  await waitFor(() => c.messages.some((m) => m.type === 'ready'), 'ready');
  expect(c.messages.find((m) => m.type === 'ready')).toMatchObject({ session, recordingId: started.recordingId, fps: 30 });
  // Ten seconds of snapshots, sent in real time, stamped 200 ms apart.
  const t0 = Date.now();
  for (let i = 0; i < 50; i++) {
    c.ws.send(stamped(i * 200, jpegs[i]));
    const due = t0 + (i + 1) * 200;
    if (due > Date.now()) await sleep(due - Date.now());
  }
  await waitFor(() => c.messages.filter((m) => m.type === 'status').length === 50, '50 status messages');
  const last = c.messages.filter((m) => m.type === 'status').at(-1);
  expect(last).toMatchObject({ snapshots: 50, recording: { enabled: true, active: true } });
  expect(last.frames).toBe(49 * 6); // each snapshot but the last written when the next one came

  const from = served.length;
  const stop = await api(`/api/recordings/sessions/${session}/stop`, { method: 'POST' });
  const stopped = await stop.json();
  expect(stop.status).toBe(200);
  console.log(`socket on server ${c.servedBy}, stop answered by ${served[from]}`);
  expect(stopped).toMatchObject({ status: 'stopped', session, recordingId: started.recordingId, frames: 300, snapshots: 50 });
  const rec = stopped.recording;
  expect(rec).toMatchObject({ type: 'video', session, mimeType: 'video/mp4', video: { width: W, height: H, codec: 'vp9', resolution: `${W}x${H}` } });
  expect(rec.video.duration).toBeCloseTo(10, 3);
  await c.closedP;
  expect(c.closed.code).toBe(1000);
  expect(c.messages.find((m) => m.type === 'stopped').recording.id).toBe(rec.id);
  // A repeated stop gives the same capture.
  expect((await (await api(`/api/recordings/sessions/${session}/stop`, { method: 'POST' })).json()).recording.id).toBe(rec.id);

  // Listed by every server.
  for (let i = 0; i < 3; i++) {
    const list = await (await api(`/api/recordings/sessions/${session}`)).json();
    expect(list.recordings.map((r) => r.id)).toEqual([rec.id]);
  }
  expect((await (await api('/api/recordings/')).json()).recordings.map((r) => r.id)).toContain(rec.id);

  // Downloaded whole and by Range; judged by ffprobe and ffmpeg.
  const dl = await api(`/api/recordings/${rec.id}/download`);
  expect(dl.status).toBe(200);
  expect(dl.headers.get('content-type')).toMatch(/^video\/mp4/);
  const bytes = Buffer.from(await dl.arrayBuffer());
  expect(bytes.length).toBe(rec.size);
  expect(sha256(bytes)).toBe(rec.sha256);
  const file = join(scratch, 'live-1.mp4');
  writeFileSync(file, bytes);
  const p = ffprobe(file);
  expect(p.codec_name).toBe('vp9');
  expect(p.format).toMatch(/mp4/);
  expect([p.width, p.height]).toEqual([W, H]);
  expect(p.duration).toBeGreaterThan(9.9);
  expect(p.duration).toBeLessThan(10.1);
  expect(Math.abs(p.frames - 30 * p.duration)).toBeLessThanOrEqual(1);
  expect(p.frames).toBe(300);
  execFileSync('ffmpeg', ['-v', 'error', '-xerror', '-i', file, '-f', 'null', '-']);
  // The middle of snapshot 25 (frames 150..155): its moving bar is where frame(25) drew it.
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-vf', 'select=eq(n\\,152)', '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']);
  const px = (x, y) => Array.from(raw.subarray((y * W + x) * 3, (y * W + x) * 3 + 3));
  const barX = (25 * 13) % (W - 20) + 10;
  expect(Math.min(...px(barX, H >> 1))).toBeGreaterThan(200);
  expect(Math.min(...px((barX + 100) % W, H >> 1))).toBeLessThan(200);

  const ranged = await api(`/api/recordings/${rec.id}/download`, { headers: { range: 'bytes=100-1099' } });
  expect(ranged.status).toBe(206);
  expect(Buffer.from(await ranged.arrayBuffer()).equals(bytes.subarray(100, 1100))).toBe(true);
  const shared = await fetch(rec.urls.share);
  expect(shared.status).toBe(200);
  expect(sha256(Buffer.from(await shared.arrayBuffer()))).toBe(rec.sha256);

  // Another user sees none of it.
  expect((await api(`/api/recordings/${rec.id}/download`, {}, BOB)).status).toBe(404);
  expect((await api(`/api/captures/${rec.id}`, {}, BOB)).status).toBe(404);
  expect((await (await api(`/api/recordings/sessions/${session}`, {}, BOB)).json()).count).toBe(0);

  expect((await api(`/api/recordings/${rec.id}`, { method: 'DELETE' })).status).toBe(204);
  expect((await api(`/api/recordings/${rec.id}/download`)).status).toBe(404);
  expect((await fetch(rec.urls.share)).status).toBe(404);
}, 240000);

test('the token never in the URL; bad tokens 401; another user\'s session 404', async () => {
  const session = 'live-sec';
  expect((await api(`/api/recordings/sessions/${session}/start`, { method: 'POST' })).status).toBe(201);
  // HTTP routes: a bad token, another user's stop.
  expect((await api(`/api/recordings/sessions/${session}/start`, { method: 'POST' }, 'not-a-valid-token')).status).toBe(401);
  expect((await api(`/api/recordings/sessions/${session}/stop`, { method: 'POST' }, BOB)).status).toBe(404);
  expect((await api('/api/recordings/sessions/no-such/stop', { method: 'POST' })).status).toBe(404);
  expect((await api(`/api/recordings/sessions/${session}/start?fps=500`, { method: 'POST' }, BOB)).status).toBe(400);
  expect((await api(`/api/recordings/sessions/${session}/start?resolution=big`, { method: 'POST' }, BOB)).status).toBe(400);

  // A token in the URL is refused before the upgrade, whether named or not, even with a valid subprotocol.
  for (const query of [`?token=${ALICE}`, `?access_token=${ALICE}`, `?x=${ALICE}`, '?auth=whatever']) {
    const r = await connect(proxy.url, session, { query, protocols: ['capturekit.v1', bearerProtocol(ALICE)] });
    expect(r.refused).toBe(400);
    expect(JSON.parse(r.body).error).toMatch(/never go in the URL/);
  }
  // A bad token: 401 before the upgrade (subprotocol), or close 4401 (first message).
  const bad = await connect(proxy.url, session, { protocols: ['capturekit.v1', bearerProtocol('not-a-valid-token')] });
  expect(bad.refused).toBe(401);
  const badMsg = await connect(proxy.url, session);
  badMsg.ws.send(JSON.stringify({ type: 'auth', token: 'not-a-valid-token' }));
  expect((await badMsg.closedP).code).toBe(4401);
  const noAuth = await connect(proxy.url, session);
  noAuth.ws.send(stamped(0, jpegs[0]));
  expect((await noAuth.closedP).code).toBe(4401);
  // Bob on Alice's session: no recording of his was started there.
  const bob = await connect(proxy.url, session, { protocols: ['capturekit.v1', bearerProtocol(BOB)] });
  expect((await bob.closedP).code).toBe(4404);
  const bobMsg = await connect(proxy.url, session);
  bobMsg.ws.send(JSON.stringify({ type: 'auth', token: BOB }));
  expect((await bobMsg.closedP).code).toBe(4404);

  // Alice with the token in the first message works; a second socket for the same recording is 4409.
  const a = await connect(proxy.url, session);
  a.ws.send(JSON.stringify({ type: 'auth', token: ALICE }));
  await waitFor(() => a.messages.some((m) => m.type === 'ready'), 'ready');
  const second = await connect(proxy.url, session, { protocols: ['capturekit.v1', bearerProtocol(ALICE)] });
  expect((await second.closedP).code).toBe(4409);
  for (let i = 0; i < 5; i++) a.ws.send(stamped(i * 200, jpegs[i]));
  await waitFor(() => a.messages.filter((m) => m.type === 'status').length === 5, 'status');
  a.ws.send(JSON.stringify({ type: 'stop' })); // stop over the socket
  expect((await a.closedP).code).toBe(1000);
  const s = await (await api(`/api/recordings/sessions/${session}/stop`, { method: 'POST' })).json();
  expect(s).toMatchObject({ status: 'stopped', frames: 30, snapshots: 5 });
}, 120000);

test('garbage, an over-size message and an over-budget image close the socket with a clear code; the servers keep serving', async () => {
  const cases = [
    { name: 'garbage binary', send: (ws) => ws.send(Buffer.from('definitely not an image, nor a timestamp + image')), code: 4400 },
    { name: 'garbage text', send: (ws) => ws.send('{not json'), code: 4400 },
    { name: 'unknown message', send: (ws) => ws.send(JSON.stringify({ type: 'dance' })), code: 4400 },
    { name: 'a broken JPEG', send: (ws) => ws.send(Buffer.concat([Buffer.from(jpegs[0]).subarray(0, 40), Buffer.alloc(200)])), code: 4400 },
    // The server closes with 1009 as soon as the frame header declares the length; a client still writing
    // the 9 MiB may see the connection reset (1006) before it reads that close frame.
    { name: 'over maxSnapshotBytes', send: (ws) => ws.send(Buffer.concat([Buffer.from(jpegs[0]), Buffer.alloc(9 * 1024 * 1024)])), code: 1009, alsoSeen: 1006 },
    { name: 'over the pixel budget (5000 px wide)', send: (ws) => ws.send(makePng(5000, 8)), code: 4413 },
  ];
  for (const [i, k] of cases.entries()) {
    const session = `live-bad-${i}`;
    expect((await api(`/api/recordings/sessions/${session}/start`, { method: 'POST' })).status).toBe(201);
    const c = await connect(proxy.url, session, { protocols: ['capturekit.v1', bearerProtocol(ALICE)] });
    await waitFor(() => c.messages.some((m) => m.type === 'ready'), 'ready');
    k.send(c.ws);
    const closed = await c.closedP;
    expect([k.name, closed.code === k.alsoSeen ? k.code : closed.code]).toEqual([k.name, k.code]);
    if (k.code !== 1009) expect(closed.reason.length).toBeGreaterThan(10);
    // The recording stays started and a new socket can send it (the dropped one left nothing). A socket
    // that the ws library closed itself (1009) is given back when the server sees the close: until then
    // a new one is 4409.
    let again;
    for (let attempt = 0; ; attempt++) {
      again = await connect(proxy.url, session, { protocols: ['capturekit.v1', bearerProtocol(ALICE)] });
      await waitFor(() => again.messages.some((m) => m.type === 'ready') || again.closed, 'ready again');
      if (!again.closed) break;
      expect([k.name, again.closed.code, k.code === 1009 && attempt < 100]).toEqual([k.name, 4409, true]);
      await sleep(100);
    }
    again.ws.send(jpegs[1]); // no time stamp: its arrival time
    await waitFor(() => again.messages.some((m) => m.type === 'status'), 'status');
    const s = await (await api(`/api/recordings/sessions/${session}/stop`, { method: 'POST' })).json();
    expect(s).toMatchObject({ status: 'stopped', snapshots: 1, frames: 6 });
  }
  for (const srv of servers) {
    expect(srv.alive()).toBe(true);
    expect((await srv.api('/api/captures')).status).toBe(200);
  }
  // A stop with no socket ever sending: no video, said so.
  expect((await api('/api/recordings/sessions/live-empty/start', { method: 'POST' })).status).toBe(201);
  const empty = await api('/api/recordings/sessions/live-empty/stop', { method: 'POST' });
  expect(empty.status).toBe(409);
  expect((await empty.json()).error).toMatch(/no snapshot/);
}, 180000);

test('on the data directory (one server, disk backend): the capture is a file of the data directory', async () => {
  const srv = await startServer();
  try {
    expect((await srv.api('/api/recordings/sessions/disk/start?fps=30', { method: 'POST' })).status).toBe(201);
    const c = await connect(srv.url, 'disk', { protocols: ['capturekit.v1', bearerProtocol(ALICE)] });
    await waitFor(() => c.messages.some((m) => m.type === 'ready'), 'ready');
    for (let i = 0; i < 10; i++) c.ws.send(stamped(1000 + i * 200, jpegs[i]));
    await waitFor(() => c.messages.filter((m) => m.type === 'status').length === 10, 'status');
    const s = await (await srv.api('/api/recordings/sessions/disk/stop', { method: 'POST' })).json();
    expect(s).toMatchObject({ status: 'stopped', frames: 60, snapshots: 10, recording: { video: { width: W, height: H } } });
    const bytes = Buffer.from(await (await srv.api(`/api/recordings/${s.recording.id}/download`)).arrayBuffer());
    const file = join(scratch, 'disk.mp4');
    writeFileSync(file, bytes);
    const p = ffprobe(file);
    expect([p.codec_name, p.frames]).toEqual(['vp9', 60]);
    expect(p.duration).toBeCloseTo(2, 2);
    execFileSync('ffmpeg', ['-v', 'error', '-xerror', '-i', file, '-f', 'null', '-']);
  } finally {
    await srv.close();
  }
}, 60000);
