// Screenshot thumbnails on the reference server, made by capturekit's own wasm (decodeImage ->
// thumbnail -> encodeJpeg) in Node; judged by decoding the JPEG with jpeg-js.
import jpeg from 'jpeg-js';
import { BOB, startServer, makePng, screenshotForm } from './helpers.mjs';
import { createThumbnailer, ThumbnailError } from '../../../examples/server/thumbnails.js';
import { jpegOfSize } from './hostile-files.mjs';

let srv;
beforeAll(async () => { srv = await startServer(); });
afterAll(() => srv.close());

// makePng's gradient: R = x*255/w, G = y*255/h, B = 128.
function expectGradient(img, tolerance = 12) {
  for (const [fx, fy] of [[0.25, 0.25], [0.75, 0.25], [0.5, 0.5], [0.25, 0.75], [0.75, 0.75]]) {
    const x = Math.floor(fx * img.width);
    const y = Math.floor(fy * img.height);
    const i = (y * img.width + x) * 4;
    expect(Math.abs(img.data[i] - fx * 255)).toBeLessThan(tolerance);
    expect(Math.abs(img.data[i + 1] - fy * 255)).toBeLessThan(tolerance);
    expect(Math.abs(img.data[i + 2] - 128)).toBeLessThan(tolerance);
  }
}

test('a PNG screenshot gets a 200x150 JPEG thumbnail made on upload', async () => {
  const up = await (await srv.api('/screenshots/upload', { method: 'POST', body: screenshotForm(makePng(400, 300)) })).json();
  expect(up.thumbnailUrl).toBe(`${srv.url}/api/captures/${up.id}/thumbnail`);
  const info = await (await srv.api(`/api/captures/${up.id}`)).json();
  expect(info.thumbnail).toMatchObject({ width: 200, height: 150 });
  const res = await srv.api(`/api/captures/${up.id}/thumbnail`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('image/jpeg');
  const img = jpeg.decode(Buffer.from(await res.arrayBuffer()), { useTArray: true });
  expect([img.width, img.height]).toEqual([200, 150]);
  expectGradient(img);
  // the share link has the thumbnail too; another user does not
  const shared = await fetch(`${up.url}/thumbnail`);
  expect(shared.status).toBe(200);
  expect((await srv.api(`/api/captures/${up.id}/thumbnail`, {}, BOB)).status).toBe(404);
});

test('a JPEG screenshot, a small one (never enlarged), and a lazily made thumbnail', async () => {
  const raw = { width: 120, height: 360, data: Buffer.alloc(120 * 360 * 4) };
  for (let y = 0; y < 360; y++) for (let x = 0; x < 120; x++) raw.data.set([(x * 255) / 120, (y * 255) / 360, 128, 255], (y * 120 + x) * 4);
  const jpg = jpeg.encode(raw, 95).data;
  const lazy = await startServer({ dataDir: srv.dataDir, thumbnailsOnUpload: false });
  const up = await (await lazy.api('/screenshots/upload', { method: 'POST', body: screenshotForm(jpg, { name: 'p.jpg', type: 'image/jpeg' }) })).json();
  expect((await (await lazy.api(`/api/captures/${up.id}`)).json()).thumbnail).toBeNull();
  const res = await lazy.api(`/api/captures/${up.id}/thumbnail`);
  expect(res.status).toBe(200);
  const img = jpeg.decode(Buffer.from(await res.arrayBuffer()), { useTArray: true });
  expect([img.width, img.height]).toEqual([67, 200]);
  expectGradient(img, 16);
  await lazy.close({ keepData: true });

  const small = await (await srv.api('/screenshots/upload', { method: 'POST', body: screenshotForm(makePng(50, 40)) })).json();
  const t = jpeg.decode(Buffer.from(await (await srv.api(`/api/captures/${small.id}/thumbnail`)).arrayBuffer()));
  expect([t.width, t.height]).toEqual([50, 40]);
});

test('an image the decoder rejects still uploads; it has no thumbnail (404, with the reason)', async () => {
  const broken = Buffer.concat([makePng(20, 20).subarray(0, 40), Buffer.alloc(60)]);
  const res = await srv.api('/screenshots/upload', { method: 'POST', body: screenshotForm(broken) });
  expect(res.status).toBe(200);
  const { id } = await res.json();
  const thumb = await srv.api(`/api/captures/${id}/thumbnail`);
  expect(thumb.status).toBe(404);
  expect((await thumb.json()).error).toMatch(/^this screenshot has no thumbnail: .+/);
});

test('a thumbnail the server cannot make right now (its worker did not start in time) is 503 with Retry-After', async () => {
  const s = await startServer({ thumbnailWorker: { loadTimeoutMs: 1 } });
  try {
    const res = await s.api('/screenshots/upload', { method: 'POST', body: screenshotForm(makePng(20, 20)) });
    expect(res.status).toBe(200);
    const { id } = await res.json();
    const thumb = await s.api(`/api/captures/${id}/thumbnail`);
    expect(thumb.status).toBe(503);
    expect(thumb.headers.get('retry-after')).toBe('60');
    expect((await thumb.json()).error).toMatch(/^the thumbnail cannot be made right now: .*did not load within 1 ms/);
  } finally {
    await s.close();
  }
});

describe('createThumbnailer: a worker thread, a pixel budget checked on the header, recycling', () => {
  test('at the budget: a thumbnail; one row over: ThumbnailError kind "budget" with the size, nothing decoded', async () => {
    const t = createThumbnailer({ maxPixels: 400 * 300 });
    try {
      const ok = await t.make(makePng(400, 300), { width: 100, height: 100 });
      expect(ok).toMatchObject({ width: 100, height: 75, sourceWidth: 400, sourceHeight: 300 });
      const err = await t.make(makePng(400, 301)).then(() => null, (e) => e);
      expect(err).toBeInstanceOf(ThumbnailError);
      expect(err).toMatchObject({ kind: 'budget', permanent: true, sourceWidth: 400, sourceHeight: 301 });
      expect(err.message).toBe('the PNG is 400x301 (0.1 Mpx), over the thumbnail pixel budget of 120000 pixels (0.1 Mpx)');
      const bad = await t.make(Buffer.from('not an image')).then(() => null, (e) => e);
      expect(bad).toMatchObject({ kind: 'image', permanent: true });
    } finally {
      await t.close();
    }
  });

  test('the worker is ended after a decode over recycleAbovePixels and after maxJobsPerWorker jobs; a busy queue refuses at once', async () => {
    const t = createThumbnailer({ recycleAbovePixels: 100 * 100, maxJobsPerWorker: 2, maxQueued: 2 });
    try {
      await t.make(makePng(50, 50));
      await t.make(makePng(50, 50));
      expect(t.stats()).toMatchObject({ jobs: 2, workersStarted: 1, recycled: 0 });
      await t.make(makePng(50, 50)); // a third job: a fresh worker
      expect(t.stats()).toMatchObject({ jobs: 3, workersStarted: 2 });
      await t.make(jpegOfSize(200, 100)); // 20,000 pixels: the worker is ended after it
      expect(t.stats()).toMatchObject({ recycled: 1, workerAlive: false });
      const jobs = [1, 2, 3, 4].map(() => t.make(makePng(20, 20)).then(() => 'ok', (e) => e.kind));
      expect(await Promise.all(jobs)).toEqual(['ok', 'ok', 'ok', 'busy']); // one running, two waiting, one refused
    } finally {
      await t.close();
    }
  });

  test('a job over jobTimeoutMs fails as the image\'s fault and the worker is replaced', async () => {
    const t = createThumbnailer({ jobTimeoutMs: 1 });
    try {
      // The wasm load is timed by loadTimeoutMs; the decode itself cannot finish in 1 ms at this size.
      const err = await t.make(jpegOfSize(4000, 3000)).then(() => null, (e) => e);
      expect(err).toMatchObject({ kind: 'image', permanent: true });
      expect(err.message).toMatch(/took longer than 1 ms/);
      expect(t.stats()).toMatchObject({ timeouts: 1, workerAlive: false });
    } finally {
      await t.close();
    }
  });
});
