// The reference server against a hostile user with a valid account, at the parsers: the WebM reader
// that makes video facts and the image decoder that makes thumbnails. The server runs as its own
// process (an out-of-memory is an exit, its RSS is read from /proc) with the default limits.
//
// Stated bounds, for every attack: the upload gets its documented answer, the process is alive, another
// user's request is answered within ANSWER_MS all along, and the server's RSS grows by less than
// WEBM_RSS_MIB while a WebM is read (peak) and is back within IMAGE_RSS_MIB of where it was before the
// first image once each image's thumbnail is made (the decode runs in a worker thread that is ended
// after a large image).
//
// Files (hostile-files.mjs): the BlockAddition WebM (20-byte BlockGroups, each with a BlockAddition)
// at 20 MB sent as one request, as REST chunks + finalize and over tus (made seekable by the server),
// and at 250 MB as one request; PNG and JPEG files at the thumbnail pixel budget (50 Mpx:
// 10000 x 5000), one row over it, and at 16384 x 16384 (a few hundred KiB that declare 1 GiB of pixels).
import http from 'node:http';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ALICE, BOB, tempDir, json, screenshotForm } from './helpers.mjs';
import { startServerProcess, answersWithin } from './server-process.mjs';
import { blockAdditionWebm, clusterWebm, writeChunks, pngOfSize, jpegOfSize } from './hostile-files.mjs';

const MiB = 1024 * 1024;
const ANSWER_MS = 1000;
const WEBM_RSS_MIB = 160;
const IMAGE_RSS_MIB = 120;
const BUDGET = 50_000_000; // the server's default --max-image-pixels

let srv;
let dir;
const bombs = {};

beforeAll(async () => {
  // The server first, so that afterAll stops it even when making the files runs out of time.
  srv = await startServerProcess({ heapMb: 1024 });
  dir = await tempDir('ck-hostile-files-');
  for (const [name, bytes, make] of [['20MB', 20e6, blockAdditionWebm], ['250MB', 250e6, blockAdditionWebm], ['clusters', 40e6, clusterWebm]]) {
    const file = make(bytes);
    const path = join(dir, `${name}.webm`);
    await writeChunks(path, file.chunks());
    bombs[name] = { path, size: file.size, frames: file.frames };
  }
  // Warm up: the first upload and the first thumbnail load code, the wasm and the worker.
  const res = await srv.api('/screenshots/upload', { method: 'POST', body: screenshotForm(await pngOfSize(64, 48)) });
  expect(res.status).toBe(200);
}, 180000); // 310 MB of files: seconds on a quiet machine, much more when a full suite shares the disk

afterAll(async () => {
  await srv?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * Watches the server while `work` runs: RSS every 50 ms, and bob's requests one after another.
 * Resolves { result, peakRssGrowthMiB, maxAnswerMs, answers }.
 */
async function watched(work) {
  const base = srv.rssBytes();
  let peak = base;
  const sampler = setInterval(() => { if (srv.alive()) peak = Math.max(peak, srv.rssBytes()); }, 50);
  let done = false;
  let maxAnswerMs = 0;
  let answers = 0;
  const prober = (async () => {
    while (!done) {
      const ms = await answersWithin({ api: (p, init) => srv.api(p, init, BOB) }, ANSWER_MS);
      maxAnswerMs = Math.max(maxAnswerMs, ms);
      answers++;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    const result = await work();
    const out = { result, peakRssGrowthMiB: (peak - base) / MiB, maxAnswerMs, answers };
    if (process.env.CK_HOSTILE_FIGURES) console.info(`${expect.getState().currentTestName}: peak RSS +${out.peakRssGrowthMiB.toFixed(0)} MiB, slowest answer ${maxAnswerMs.toFixed(0)} ms of ${answers}`);
    return out;
  } finally {
    done = true;
    clearInterval(sampler);
    await prober;
  }
}

/** POST with a streamed body of known length; resolves { status, body (parsed JSON or text) }. */
function postStream(path, { headers = {}, length, pieces, method = 'POST' }) {
  return new Promise((resolve, reject) => {
    const url = new URL(path, srv.url);
    const req = http.request(url, { method, headers: { authorization: `Bearer ${ALICE}`, 'content-length': length, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let body = text;
        try { body = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    (async () => {
      for (const piece of pieces) {
        if (typeof piece === 'string' || Buffer.isBuffer(piece)) { if (!req.write(piece)) await new Promise((r) => req.once('drain', r)); continue; }
        for await (const c of piece) if (!req.write(c)) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    })().catch(reject);
  });
}

/** A multipart body: text fields, then one file part streamed from `path` (bytes start..end-1). */
function multipartFile(path, { field = 'file', name = 'video.webm', type = 'video/webm', fields = {}, start = 0, end }) {
  const boundary = `----ckhostile${Date.now()}`;
  const pre = Object.entries(fields).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join('') +
    `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${name}"\r\nContent-Type: ${type}\r\n\r\n`;
  const post = `\r\n--${boundary}--\r\n`;
  return {
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    length: Buffer.byteLength(pre) + (end - start) + Buffer.byteLength(post),
    pieces: [pre, createReadStream(path, { start, end: end - 1, highWaterMark: MiB }), post],
  };
}

function expectFacts(video, frames) {
  // The file has no Duration: the facts come from the frame times (one frame per ms).
  expect(video).toMatchObject({ width: 64, height: 64, codec: 'vp8', resolution: '64x64' });
  expect(video.duration).toBeCloseTo(frames / 1000, 3);
}

function expectServing(w, rssMiB) {
  expect(srv.alive()).toBe(true);
  expect(w.answers).toBeGreaterThan(0);
  expect(w.maxAnswerMs).toBeLessThan(ANSWER_MS);
  expect(w.peakRssGrowthMiB).toBeLessThan(rssMiB);
}

async function singleRequest(b) {
  const w = await watched(() => postStream('/api/capture/video', multipartFile(b.path, { end: b.size })));
  expect(w.result.status).toBe(200);
  expectFacts(w.result.body.data.video, b.frames);
  expectServing(w, WEBM_RSS_MIB);
  return w;
}

async function restChunks(b) {
  const w = await watched(async () => {
    const init = await srv.api('/videos/init', json({ filename: 'bomb.webm', timestamp: Date.now(), fps: 30, codec: 'vp8', bitrate: 1, resolution: '64x64' }));
    const { sessionId } = await init.json();
    const part = 32 * MiB;
    let index = 0;
    for (let start = 0; start < b.size; start += part, index++) {
      const r = await postStream('/videos/chunk', multipartFile(b.path, { field: 'chunk', start, end: Math.min(b.size, start + part), fields: { sessionId, chunkIndex: index } }));
      if (r.status !== 200) throw new Error(`chunk ${index}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    const fin = await srv.api('/videos/finalize', json({ sessionId, totalChunks: index }));
    return { status: fin.status, body: await fin.json() };
  });
  expect(w.result.status).toBe(200);
  const info = await (await srv.api(`/api/captures/${w.result.body.id}`)).json();
  expectFacts(info.video, b.frames);
  expectServing(w, WEBM_RSS_MIB);
  return w;
}

async function tusSeekable(b, { rssMiB = WEBM_RSS_MIB } = {}) {
  const before = srv.rssBytes();
  const w = await watched(async () => {
    const b64 = (s) => Buffer.from(s).toString('base64');
    const create = await srv.api('/files/', {
      method: 'POST',
      headers: { 'tus-resumable': '1.0.0', 'upload-length': String(b.size),
        'upload-metadata': `filename ${b64('bomb.webm')},metadata ${b64(JSON.stringify({ capturekitFinalize: 'seekable' }))}` },
    });
    if (create.status !== 201) throw new Error(`tus create: ${create.status} ${await create.text()}`);
    const location = new URL(create.headers.get('location'), srv.url).pathname;
    return postStream(location, {
      method: 'PATCH', length: b.size, pieces: [createReadStream(b.path, { highWaterMark: MiB })],
      headers: { 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
    });
  });
  expect(w.result.status).toBe(204);
  const info = await (await srv.api(`/api/captures/${w.result.headers['capture-id']}`)).json();
  expectFacts(info.video, b.frames);
  expect(info.size).toBeGreaterThan(b.size); // rewritten with cues and a duration
  expectServing(w, rssMiB);
  // The repair's wasm memory was its thread's: gone with the thread.
  await new Promise((r) => setTimeout(r, 500));
  expect((srv.rssBytes() - before) / MiB).toBeLessThan(WEBM_RSS_MIB);
  return w;
}

describe('the BlockAddition WebM, 20 MB (990,000 frames)', () => {
  test('single request (POST /api/capture/video): 200 with its facts', () => singleRequest(bombs['20MB']), 60000);
  test('REST chunks + finalize: 200 with its facts', () => restChunks(bombs['20MB']), 60000);
  test('tus, made seekable on completion (makeSeekable): 204 with the capture, and its facts', () => tusSeekable(bombs['20MB']), 60000);
});

// The size that ended in "JavaScript heap out of memory". REST finalize and tus read the file with the
// same reader as the single request (and makeSeekable's memory does not grow with the frame count), so
// they run at 20 MB only: the suite's time.
describe('the BlockAddition WebM, 250 MB (12.5 million frames)', () => {
  test('single request: 200 with its facts', () => singleRequest(bombs['250MB']), 90000);
});

// A Cluster per frame: the repair keeps a cue per Cluster, so its wasm memory grows with the count
// (about 330 MiB for these 1.25 million). It runs in a thread of its own that ends with the job: the
// server answers others meanwhile, and its memory is given back when the thread ends.
describe('the Cluster WebM, 40 MB (1.25 million one-frame Clusters)', () => {
  test('tus, made seekable on completion: 204 with its facts; the memory goes with the repair thread', () => tusSeekable(bombs.clusters, { rssMiB: 640 }), 90000);
});

describe('image bombs: the thumbnail pixel budget (default 50 Mpx)', () => {
  // RSS is compared with what it was before the first image, so memory one decode kept (wasm memory
  // never shrinks) counts against every later case too.
  let imageBase;
  beforeAll(() => { imageBase = srv.rssBytes(); });
  const cases = [
    ['PNG', 'image/png', 'png', (w, h) => pngOfSize(w, h)],
    ['JPEG', 'image/jpeg', 'jpg', async (w, h) => jpegOfSize(w, h)],
  ];

  async function upload(bytes, type, ext) {
    const res = await srv.api('/screenshots/upload', { method: 'POST', body: screenshotForm(bytes, { name: `bomb.${ext}`, type }) });
    const body = await res.json();
    return { status: res.status, body };
  }

  /** RSS growth (MiB) since the first image once the worker has let go of its memory (polls up to 5 s). */
  async function settledGrowthMiB() {
    const base = imageBase;
    let growth = Infinity;
    for (let i = 0; i < 50 && growth >= IMAGE_RSS_MIB; i++) {
      await new Promise((r) => setTimeout(r, 100));
      growth = (srv.rssBytes() - base) / MiB;
    }
    if (process.env.CK_HOSTILE_FIGURES) console.info(`${expect.getState().currentTestName}: RSS +${growth.toFixed(0)} MiB once settled`);
    return growth;
  }

  test.each(cases)('%s at the budget (10000 x 5000): 200 and a 200 x 100 thumbnail, made off the event loop; memory given back', async (_, type, ext, make) => {
    const bytes = await make(10000, 5000);
    const w = await watched(() => upload(bytes, type, ext));
    expect(w.result.status).toBe(200);
    const info = await (await srv.api(`/api/captures/${w.result.body.id}`)).json();
    expect(info).toMatchObject({ width: 10000, height: 5000, thumbnail: { width: 200, height: 100 } });
    expect(srv.alive()).toBe(true);
    expect(w.maxAnswerMs).toBeLessThan(ANSWER_MS);
    expect(await settledGrowthMiB()).toBeLessThan(IMAGE_RSS_MIB);
  }, 30000);

  test.each(cases)('%s one row over the budget (10000 x 5001) and at 16384 x 16384: stored (200) without a thumbnail, never decoded', async (_, type, ext, make) => {
    for (const [width, height] of [[10000, 5001], [16384, 16384]]) {
      const bytes = await make(width, height);
      const t0 = performance.now();
      const w = await watched(() => upload(bytes, type, ext));
      expect(w.result.status).toBe(200);
      expect(performance.now() - t0).toBeLessThan(3000);
      const { id, url } = w.result.body;
      const info = await (await srv.api(`/api/captures/${id}`)).json();
      expect(info).toMatchObject({ width, height, thumbnail: null });
      expect(info.thumbnailError).toMatch(new RegExp(`is ${width}x${height} .*over the thumbnail pixel budget of ${BUDGET} pixels`));
      // The file is the user's: it is stored whole.
      const file = await srv.api(`/api/captures/${id}/file`);
      expect(Buffer.from(await file.arrayBuffer()).equals(bytes)).toBe(true);
      // The failure is remembered: every thumbnail request (the share link's needs no token) is answered
      // at once, without another decode: 404, this screenshot has no thumbnail (and never will).
      for (const path of [`/api/captures/${id}/thumbnail`, `${new URL(url).pathname}/thumbnail`, `/api/captures/${id}/thumbnail`]) {
        const t1 = performance.now();
        const res = await srv.api(path, {}, path.startsWith('/s/') ? null : ALICE);
        expect(res.status).toBe(404);
        expect((await res.json()).error).toMatch(path.startsWith('/s/') ? /^this screenshot has no thumbnail$/ : /^this screenshot has no thumbnail: the (PNG|JPEG) is \d+x\d+/);
        expect(performance.now() - t1).toBeLessThan(200);
      }
      expect(w.maxAnswerMs).toBeLessThan(ANSWER_MS);
      expect(await settledGrowthMiB()).toBeLessThan(IMAGE_RSS_MIB);
    }
  }, 30000);

  test('a corrupt screenshot is decoded once: its failure is remembered too', async () => {
    const bytes = jpegOfSize(640, 480);
    bytes[bytes.length - 300] = 0xff; bytes[bytes.length - 299] = 0xc4; // a marker in the middle of the scan
    const { status, body } = await upload(bytes, 'image/jpeg', 'jpg');
    expect(status).toBe(200);
    const info = await (await srv.api(`/api/captures/${body.id}`)).json();
    expect(info.thumbnail).toBeNull();
    expect(info.thumbnailError).toMatch(/JPEG/);
    const recPath = join(srv.dataDir, 'captures', 'alice', body.id, 'capture.json');
    const before = (await stat(recPath)).mtimeMs;
    expect((await srv.api(`/api/captures/${body.id}/thumbnail`)).status).toBe(404);
    expect((await stat(recPath)).mtimeMs).toBe(before); // no new attempt was recorded
  });
});
