// examples/ws-recorder (server-side recording) over a real WebSocket on 127.0.0.1: JPEG
// snapshots at 5 FPS-equivalent timestamps in, a 30 FPS WebM out (repeated frames), judged by ffprobe
// -count_frames and ffmpeg decodes; plus the failure paths (no complete-looking file without "stop").
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { init, encodeJpeg, encodePng } from '../../../js-glue/index.js';
import { attachWsRecorder } from '../../../examples/ws-recorder/ws-recorder.js';
import { probe, tempDir } from './video-fixtures.mjs';

const W = 160;
const H = 120;
const COLORS = [[220, 30, 30], [30, 200, 30], [30, 30, 220], [230, 230, 40], [40, 220, 220], [220, 40, 220], [250, 250, 250], [20, 20, 20], [250, 140, 0], [120, 60, 200]];
let server, rec, url, dir;

function solid(color, w = W, h = H) {
  const data = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) data.set([...color, 255], i * 4);
  return { data, width: w, height: h };
}

/** [8-byte big-endian float64 time in ms] + the image. */
function snapshot(timeMs, image) {
  const msg = new Uint8Array(8 + image.length);
  new DataView(msg.buffer).setFloat64(0, timeMs);
  msg.set(image, 8);
  return msg;
}

beforeAll(async () => {
  await init();
  dir = tempDir('ck-ws-rec-');
  server = http.createServer((req, res) => res.writeHead(404).end());
  rec = attachWsRecorder(server, { dir });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  url = `ws://127.0.0.1:${server.address().port}/ws/record`;
});
afterAll(async () => {
  await rec?.close();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

/** A connected client that collects the server's JSON messages; next(type) waits for one. */
async function client() {
  const ws = new WebSocket(url);
  const messages = [];
  const waiters = [];
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString());
    messages.push(m);
    for (const w of waiters.splice(0)) w();
  });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  const next = async (type) => {
    for (;;) {
      const i = messages.findIndex((m) => m.type === type || m.type === 'error' && type !== 'error');
      if (i >= 0) {
        const [m] = messages.splice(i, 1);
        if (m.type === 'error' && type !== 'error') throw new Error(`server error: ${m.message}`);
        return m;
      }
      await new Promise((r) => waiters.push(r));
    }
  };
  return { ws, next, messages };
}

function decodeFrame(file, n) {
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-vf', `select=eq(n\\,${n})`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']);
  expect(raw.length).toBe(W * H * 3);
  return Array.from(raw.subarray(((H >> 1) * W + (W >> 1)) * 3, ((H >> 1) * W + (W >> 1)) * 3 + 3));
}
const near = (got, want, tol = 20) => got.every((v, i) => Math.abs(v - want[i]) <= tol);

test('10 JPEG snapshots 200 ms apart -> a WebM of 60 frames at 30 fps (2 s), each snapshot held 6 frames', async () => {
  const c = await client();
  c.ws.send(JSON.stringify({ type: 'start', fps: 30, inputFps: 5, name: 'test' }));
  const started = await c.next('started');
  expect(started).toMatchObject({ fps: 30, codec: 'vp8' });
  for (let i = 0; i < 10; i++) {
    c.ws.send(snapshot(1000 + i * 200, encodeJpeg(solid(COLORS[i]), { quality: 95 })));
    const s = await c.next('status');
    expect(s).toMatchObject({ snapshots: i + 1, frames: i * 6, recording: { enabled: true, active: true } });
  }
  c.ws.send(JSON.stringify({ type: 'stop' }));
  const { recording: r } = await c.next('stopped');
  c.ws.close();
  expect(r).toMatchObject({ id: started.id, name: 'test', codec: 'vp8', fps: 30, width: W, height: H, duration: 2, frameCount: 60, snapshotCount: 10 });
  expect(probe(r.file)).toEqual({ codec: 'vp8', width: W, height: H, frames: 60, duration: 2 });
  expect(readFileSync(r.file).length).toBe(r.bytes);
  expect(JSON.parse(readFileSync(r.metadataFile, 'utf8'))).toEqual(r);
  // Frames 6i .. 6i+5 show snapshot i.
  for (const [frame, snap] of [[0, 0], [5, 0], [6, 1], [29, 4], [30, 5], [59, 9]]) {
    expect([frame, near(decodeFrame(r.file, frame), COLORS[snap])]).toEqual([frame, true]);
  }
  expect(readdirSync(dir).filter((f) => f.endsWith('.partial'))).toEqual([]);
});

test('snapshots without a time header use their arrival time; PNG works too; other sizes are scaled', async () => {
  const c = await client();
  c.ws.send(JSON.stringify({ type: 'start', codec: 'vp9', width: W, height: H }));
  await c.next('started');
  for (let i = 0; i < 3; i++) {
    c.ws.send(i === 1 ? encodePng(solid(COLORS[i], 320, 240)) : encodeJpeg(solid(COLORS[i])));
    await c.next('status');
    await new Promise((r) => setTimeout(r, 100));
  }
  c.ws.send(JSON.stringify({ type: 'stop' }));
  const { recording: r } = await c.next('stopped');
  c.ws.close();
  const p = probe(r.file);
  expect(p).toMatchObject({ codec: 'vp9', width: W, height: H, frames: r.frameCount });
  expect(r.frameCount).toBeGreaterThanOrEqual(3 * 2); // ~100 ms apart at 30 fps: about 3 frames each
  expect(r.duration).toBeCloseTo(r.frameCount / 30, 6);
});

test('bad messages: clear errors; the recording goes on', async () => {
  const c = await client();
  c.ws.send(snapshot(0, encodeJpeg(solid(COLORS[0]))));
  expect((await c.next('error')).message).toMatch(/a snapshot before "start"/);
  c.ws.send('not json');
  expect((await c.next('error')).message).toMatch(/text messages must be JSON/);
  c.ws.send(JSON.stringify({ type: 'start', fps: 1000 }));
  expect((await c.next('error')).message).toMatch(/fps must be between 1 and 120, got 1000/);
  c.ws.send(JSON.stringify({ type: 'stop' }));
  expect((await c.next('error')).message).toMatch(/"stop" without a recording/);
  c.ws.send(JSON.stringify({ type: 'start' }));
  await c.next('started');
  c.ws.send(JSON.stringify({ type: 'start' }));
  expect((await c.next('error')).message).toMatch(/already recording/);
  c.ws.send(snapshot(0, encodeJpeg(solid(COLORS[0]))));
  await c.next('status');
  c.ws.send(snapshot(200, Uint8Array.from([0xff, 0xd8, 1, 2, 3, 4, 5])));
  expect((await c.next('error')).message).toMatch(/snapshot ignored/);
  c.ws.send(snapshot(0, encodeJpeg(solid(COLORS[1]))));
  expect((await c.next('error')).message).toMatch(/not after the previous one/);
  c.ws.send(snapshot(200, encodeJpeg(solid(COLORS[1]))));
  await c.next('status');
  c.ws.send(JSON.stringify({ type: 'stop' }));
  const { recording: r } = await c.next('stopped');
  c.ws.close();
  expect(r.snapshotCount).toBe(2);
  expect(probe(r.file)).toMatchObject({ frames: 12, duration: 0.4 });
});

test('stop without snapshots is an error; a connection dropped mid-recording leaves no complete-looking file', async () => {
  const c = await client();
  c.ws.send(JSON.stringify({ type: 'start' }));
  await c.next('started');
  c.ws.send(JSON.stringify({ type: 'stop' }));
  expect((await c.next('error')).message).toMatch(/no snapshots were received/);
  const before = new Set(readdirSync(dir));
  c.ws.send(JSON.stringify({ type: 'start' }));
  await c.next('started');
  for (let i = 0; i < 3; i++) {
    c.ws.send(snapshot(i * 200, encodeJpeg(solid(COLORS[i]))));
    await c.next('status');
  }
  expect(readdirSync(dir).some((f) => f.endsWith('.partial'))).toBe(true);
  c.ws.terminate();
  for (let i = 0; i < 100 && readdirSync(dir).some((f) => f.endsWith('.partial')); i++) await new Promise((r) => setTimeout(r, 20));
  const added = readdirSync(dir).filter((f) => !before.has(f));
  expect(added).toEqual([]);
});
