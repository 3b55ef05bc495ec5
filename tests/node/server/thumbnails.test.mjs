// Screenshot thumbnails on the reference server, made by capturekit's own wasm (decodeImage ->
// thumbnail -> encodeJpeg) in Node; judged by decoding the JPEG with jpeg-js.
import jpeg from 'jpeg-js';
import { BOB, startServer, makePng, screenshotForm } from './helpers.mjs';

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

test('an image the decoder rejects still uploads; its thumbnail is 503', async () => {
  const broken = Buffer.concat([makePng(20, 20).subarray(0, 40), Buffer.alloc(60)]);
  const res = await srv.api('/screenshots/upload', { method: 'POST', body: screenshotForm(broken) });
  expect(res.status).toBe(200);
  const { id } = await res.json();
  expect((await srv.api(`/api/captures/${id}/thumbnail`)).status).toBe(503);
});
