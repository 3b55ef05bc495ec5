// Seekable while streaming (issue 6): a VideoWriter recording uploaded during recording with
// startRecording({ seekable: true }). The muxer's header patches (segment size, seek head, duration) go
// into part 0, which the ChunkBuffer holds back; parts 1..n upload while recording, the last part (with
// the cues) and then the patched part 0 at stop. Judged against the real reference server on 127.0.0.1:
// the assembled file is byte-identical to VideoWriter's in-memory file, ffprobe/mkvinfo see duration,
// cues and a seek head, and `ffmpeg -ss` to the middle decodes the right frame.
import { execFileSync } from 'node:child_process';
import { init, VideoWriter } from '../../../js-glue/index.js';
import { ChunkBuffer } from '../../../js-glue/upload/chunk-buffer.js';
import { QueueCore } from '../../../js-glue/upload/upload-queue-core.js';
import { createUploader } from '../../../js-glue/upload/uploader.js';
import { createMemoryStore, MemoryLocks } from '../../../js-glue/upload/store-memory.js';
import { createRestTransport } from '../../../js-glue/upload/transports/rest.js';
import { createTusTransport } from '../../../js-glue/upload/transports/tus.js';
import { patternFrame } from '../video/video-fixtures.mjs';
import { TOKEN, startServer, countingFetch, spyTransport, verifyServer, captureBytes, tempFile, sha256, fakeWebm, once } from './uploader.helpers.mjs';

const KiB = 1024;
const W = 320;
const H = 240;
const FPS = 30;
const N = 90;
const VIDEO = { codec: 'vp8', width: W, height: H, fps: FPS, keyframeInterval: 15 };
const frames = Array.from({ length: N }, (_, i) => patternFrame(W, H, i));
const live = [];
let seq = 0;
afterEach(async () => {
  while (live.length) await live.pop()();
});
beforeAll(() => init());

async function server() {
  const srv = await startServer();
  live.push(() => srv.close());
  return srv;
}

function uploader(srv, transport, { store = createMemoryStore(), locks = null, name = `seek${++seq}` } = {}) {
  const up = createUploader({
    name, transport, store, token: TOKEN, locks, channel: null, onlineEvents: null,
    minPartSize: 16 * KiB, timeoutMs: 5000, queue: { backoffBaseMs: 5, backoffMaxMs: 50, jitter: 0.2, maxRetries: 10 },
  });
  live.push(() => up.close());
  return up;
}

async function inMemory() {
  const w = await VideoWriter.create(VIDEO);
  for (const f of frames) w.addFrame(f);
  return Buffer.from((await w.finish()).data);
}

function frameMd5(file, args) {
  const out = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...args.pre, '-i', file, ...args.post, '-frames:v', '1', '-f', 'framemd5', '-'], { encoding: 'utf8' });
  const line = out.split('\n').filter((l) => l && !l.startsWith('#')).pop();
  return line.split(',').pop().trim();
}

test('a seekable recording uploaded during recording: part 0 goes last, the server file is the in-memory file, seekable', async () => {
  const memory = await inMemory();
  const srv = await server();
  const transport = spyTransport(createRestTransport({ baseUrl: srv.url, fetch: countingFetch(), lookupSettleMs: 200 }), { completed: true });
  const up = uploader(srv, transport);
  const uploaded = [];
  up.addEventListener('partuploaded', (e) => uploaded.push(e.detail.partIndex));
  const errors = [];
  up.addEventListener('uploaderror', (e) => errors.push(e.detail));
  await up.ready;

  const rec = await up.startRecording({ filename: 'seekable.webm', fps: FPS, codec: 'vp8', resolution: `${W}x${H}` }, { seekable: true });
  expect(rec.seekable).toBe(true);
  let end = 0;
  const patches = [];
  const sink = rec.ondata;
  const w = await VideoWriter.create({ ...VIDEO, ondata: (bytes, offset) => {
    if (offset < end) patches.push({ offset, length: bytes.length });
    end = Math.max(end, offset + bytes.length);
    return sink(bytes, offset);
  } });
  for (let i = 0; i < N; i++) {
    w.addFrame(frames[i]);
    if (i === 60) {
      // Parts other than 0 are on the server while the recording goes on.
      for (let k = 0; k < 200 && !uploaded.length; k++) await new Promise((r) => setTimeout(r, 25));
      expect(uploaded.length).toBeGreaterThan(0);
      expect(uploaded).not.toContain(0);
      expect(rec.state).toBe('recording');
    }
  }
  const stats = await w.finish();
  expect(stats.bytes).toBe(memory.length);
  const stopped = await rec.stop({ duration: N / FPS });
  const parts = Math.ceil(memory.length / (16 * KiB));
  expect(parts).toBeGreaterThanOrEqual(4);
  expect(stopped).toEqual({ itemId: rec.itemId, bytes: memory.length, parts });
  const progress = await up.whenIdle();
  expect(progress).toMatchObject({ uploaded: 1, failed: 0, percentage: 100 });
  expect(errors).toEqual([]);

  // The header patches all land in the first 4 KiB (inside part 0).
  expect(patches.length).toBeGreaterThan(0);
  for (const p of patches) expect(p.offset + p.length).toBeLessThanOrEqual(4 * KiB);
  // Parts 1..n in order as they filled, part 0 last, each once.
  const order = transport.calls.filter((c) => c.op === 'uploadPart').map((c) => c.index);
  expect(order).toEqual([...Array.from({ length: parts - 1 }, (_, i) => i + 1), 0]);
  expect(transport.calls.map((c) => c.op).slice(-2)).toEqual(['uploadPart', 'finalize']);

  // Byte-identical to the in-memory recording.
  const v = await verifyServer(srv, [{ id: rec.itemId, sha256: sha256(memory), size: memory.length }]);
  expect([v.arrived, v.identical, v.duplicates, v.extra]).toEqual([1, 1, 0, 0]);
  const bytes = await captureBytes(srv, v.byClient.get(rec.itemId)[0]);
  expect(Buffer.compare(bytes, memory)).toBe(0);

  // Duration, cues, seek head, a known segment size.
  const file = await tempFile(bytes, 'seekable.webm');
  const fmt = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'json', file], { encoding: 'utf8' }));
  expect(Number(fmt.format.duration)).toBeCloseTo(N / FPS, 1);
  const info = execFileSync('mkvinfo', ['--all', file], { encoding: 'utf8', maxBuffer: 1 << 26 });
  expect(info).toMatch(/\+ Seek head/);
  expect(info).toMatch(/\+ Cues/);
  expect(info).toMatch(/\+ Duration: /);
  expect(info).not.toMatch(/size is unknown|unknown size/i);
  const segment = info.match(/\+ Segment: size (\d+)/);
  expect(segment).not.toBeNull();
  expect(Number(segment[1])).toBeLessThan(memory.length);
  expect((info.match(/\+ Cue point/g) || []).length).toBe(N / 15); // one per keyframe
  expect((info.match(/\+ Seek entry/g) || []).length).toBeGreaterThanOrEqual(3);
  // Seeking to the middle lands on frame 45 (t = 1.5 s): the same decoded frame as a full decode.
  const memFile = await tempFile(memory, 'memory.webm');
  const seeked = frameMd5(file, { pre: ['-ss', '1.5'], post: [] });
  const reference = frameMd5(memFile, { pre: [], post: ['-vf', 'select=eq(n\\,45)', '-vsync', '0'] });
  const wrong = frameMd5(memFile, { pre: [], post: ['-vf', 'select=eq(n\\,44)', '-vsync', '0'] });
  expect(seeked).toBe(reference);
  expect(seeked).not.toBe(wrong);
});

test('without seekable, a patching stream is refused as before', async () => {
  const srv = await server();
  const up = uploader(srv, createRestTransport({ baseUrl: srv.url, fetch: countingFetch() }));
  await up.ready;
  const rec = await up.startRecording({ filename: 'plain.webm' });
  expect(rec.seekable).toBe(false);
  await rec.write(new Uint8Array(100), 0);
  await expect(rec.write(new Uint8Array(4), 10)).rejects.toThrow(/expected offset 100, got 10 \(the upload needs a forward-only stream\)/);
  await rec.abort();
  await expect(up.startRecording({}, { seekable: 'yes' })).rejects.toThrow(TypeError);
});

test('with tus (append-only) a seekable recording streams as it is recorded and the server finalizes it seekable', async () => {
  const memory = await inMemory();
  const srv = await server();
  const up = uploader(srv, createTusTransport({ endpoint: `${srv.url}/files/`, fetch: countingFetch() }));
  const uploaded = [];
  up.addEventListener('partuploaded', (e) => uploaded.push(e.detail.partIndex));
  await up.ready;
  const rec = await up.startRecording({ filename: 'tus-seekable.webm' }, { seekable: true });
  expect(rec.seekable).toBe(false); // nothing is held back: tus appends in order
  let patched = 0;
  const sink = rec.ondata;
  let end = 0;
  const w = await VideoWriter.create({ ...VIDEO, ondata: (bytes, offset) => {
    if (offset < end) patched++;
    end = Math.max(end, offset + bytes.length);
    return sink(bytes, offset);
  } });
  for (let i = 0; i < N; i++) {
    w.addFrame(frames[i]);
    if (i === 60) {
      for (let k = 0; k < 200 && !uploaded.includes(0); k++) await new Promise((r) => setTimeout(r, 25));
      expect(uploaded).toContain(0); // the header part left while recording
    }
  }
  await w.finish();
  expect(patched).toBeGreaterThan(0);
  await rec.stop({ duration: N / FPS });
  expect(await up.whenIdle()).toMatchObject({ uploaded: 1, failed: 0 });

  const list = await (await fetch(`${srv.url}/api/captures`, { headers: { authorization: `Bearer ${TOKEN}` } })).json();
  const items = list.captures || list.items || list;
  expect(items.length).toBe(1);
  const bytes = await captureBytes(srv, items[0]);
  // The server's file is not the live stream the client sent: it has duration, cues and a seek head,
  // holds every frame, and seeking to the middle lands on frame 45.
  expect(Buffer.compare(bytes, memory)).not.toBe(0);
  const file = await tempFile(bytes, 'tus-seekable.webm');
  const fmt = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'format=duration:stream=nb_read_frames', '-of', 'json', file], { encoding: 'utf8' }));
  expect(Number(fmt.format.duration)).toBeCloseTo(N / FPS, 1);
  expect(Number(fmt.streams[0].nb_read_frames)).toBe(N);
  const info = execFileSync('mkvinfo', ['--all', file], { encoding: 'utf8', maxBuffer: 1 << 26 });
  expect(info).toMatch(/\+ Seek head/);
  expect(info).toMatch(/\+ Cues/);
  expect(info).not.toMatch(/size is unknown|unknown size/i);
  const memFile = await tempFile(memory, 'memory-tus.webm');
  expect(frameMd5(file, { pre: ['-ss', '1.5'], post: [] }))
    .toBe(frameMd5(memFile, { pre: [], post: ['-vf', 'select=eq(n\\,45)', '-vsync', '0'] }));
});

test('a seekable patch outside part 0 is a RangeError', async () => {
  const srv = await server();
  const up = uploader(srv, createRestTransport({ baseUrl: srv.url, fetch: countingFetch() }));
  await up.ready;
  const rec = await up.startRecording({}, { seekable: true });
  await rec.write(new Uint8Array(40 * KiB), 0);
  await expect(rec.write(new Uint8Array(8), 20 * KiB)).rejects.toThrow(RangeError);
  await expect(rec.write(new Uint8Array(8), 20 * KiB)).rejects.toThrow(/reaches past part 0/);
  await rec.abort();
});

test('ChunkBuffer holdFirstPart: part 0 held, patched and returned last; bad patches throw', () => {
  const data = Uint8Array.from({ length: 35 }, (_, i) => i);
  const cb = new ChunkBuffer({ minPartSize: 10, holdFirstPart: true });
  const out = cb.append(data);
  expect(out.map((p) => p.index)).toEqual([1, 2]);
  expect(cb.heldBytes).toBe(10);
  expect(cb.partsEmitted).toBe(2);
  cb.patch(2, new Uint8Array([200, 201]));
  expect(() => cb.patch(8, new Uint8Array(4))).toThrow(/reach past part 0/);
  expect(() => cb.patch(-1, new Uint8Array(1))).toThrow(RangeError);
  expect(() => cb.patch(0, 'x')).toThrow(TypeError);
  const last = cb.flush();
  expect(last.map((p) => [p.index, p.last, p.bytes.length])).toEqual([[3, true, 5], [0, false, 10]]);
  const want = data.slice(0, 10);
  want[2] = 200; want[3] = 201;
  expect(Array.from(last[1].bytes)).toEqual(Array.from(want));
  expect(last[1].sha256).toBe(sha256(Buffer.from(want)));
  expect(() => cb.patch(0, new Uint8Array(1))).toThrow(/already emitted/);
  cb.dispose();
  const plain = new ChunkBuffer({ minPartSize: 10 });
  plain.append(data);
  expect(() => plain.patch(0, new Uint8Array(1))).toThrow(/only with holdFirstPart/);
  plain.dispose();
  expect(() => new ChunkBuffer({ holdFirstPart: 1 })).toThrow(/holdFirstPart must be a boolean/);
});

test('QueueCore firstPartLast: 1..n upload first, part 0 last, then finalize; survives a restore', () => {
  const q = new QueueCore({ jitter: 0 });
  q.enqueue({ id: 'v', kind: 'video', firstPartLast: true });
  const sha = (i) => sha256(Buffer.from(`p${i}`));
  q.addPart('v', 1, 10, sha(1));
  const r = new QueueCore({ jitter: 0 });
  r.restore(q.serialize());
  expect(r.item('v').firstPartLast).toBe(true);
  r.addPart('v', 2, 10, sha(2));
  expect(() => r.addPart('v', 4, 10, sha(4))).toThrow(/out of order: expected 3 \(or 0 to end the parts\)/);
  expect(() => r.markRecordingFinished('v')).toThrow(/part 0 was not added/);
  r.addPart('v', 0, 10, sha(0));
  r.markRecordingFinished('v');
  const seen = [];
  for (let k = 0; k < 10; k++) {
    const a = r.nextAction(1000);
    if (a.type === 'init') r.succeeded(a, 's1');
    else if (a.type === 'uploadPart') { seen.push(a.partIndex); r.succeeded(a); } else if (a.type === 'finalize') { seen.push('finalize'); r.succeeded(a, 'u'); } else break;
  }
  expect(seen).toEqual([1, 2, 0, 'finalize']);
  expect(() => q.enqueue({ id: 'w', kind: 'video', firstPartLast: 'yes' })).toThrow(/firstPartLast must be a boolean/);
});

test('a seekable recording whose tab went away is recovered: part 0 and the tail come from the stored tail', async () => {
  const srv = await server();
  const store = createMemoryStore();
  const locks = new MemoryLocks();
  const name = `seekorphan${++seq}`;
  const rest = () => createRestTransport({ baseUrl: srv.url, fetch: countingFetch() });
  const a = uploader(srv, rest(), { store, locks, name });
  await a.ready;
  const webm = fakeWebm(70 * KiB + 123, 5); // part 0 (held) + 3 full parts of 16 KiB + a tail
  const rec = await a.startRecording({ filename: 'orphan.webm' }, { seekable: true });
  for (let o = 0; o < webm.length; o += 10 * KiB) await rec.write(webm.subarray(o, o + 10 * KiB), o);
  expect(rec.partsStored).toBe(4); // parts 1..3 stored, part 0 held in memory
  await a.close(); // the tab is gone without stop()
  const b = uploader(srv, rest(), { store, locks, name });
  const recovered = once(b, 'recordingrecovered');
  await b.ready;
  expect(await recovered).toEqual({ itemId: rec.itemId, bytes: webm.length, parts: 5 });
  await b.whenIdle();
  const v = await verifyServer(srv, [{ id: rec.itemId, sha256: sha256(webm), size: webm.length }]);
  expect([v.arrived, v.identical, v.duplicates]).toEqual([1, 1, 0]);
});
