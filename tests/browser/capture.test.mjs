// captureCanvas in real Chromium: 2D, WebGL and WebGL2 canvases drawing colour bands (top to bottom),
// decoded by Pillow. WebGL contexts are made without preserveDrawingBuffer, so a capture that missed
// the frame would be transparent black.
import { launchBrowser, serveStatic, openPage } from './browser.mjs';
import { decodeWithPillow, bandMismatches, exactBandErrors, pixel } from './capture.helpers.mjs';

const BANDS = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]];
let browser, site, page;

beforeAll(async () => {
  browser = await launchBrowser();
  site = await serveStatic();
  page = await openPage(browser, `${site.url}/tests/browser/pages/capture.html`);
  await page.waitForFunction(() => window.ready);
});
afterAll(async () => { await browser?.close(); await site?.close(); });

const shoot = (scene, options) => page.evaluate(async ([s, o]) => {
  const id = makeScene(s);
  return shoot(id, o);
}, [scene, options]);

describe.each([
  ['2d'], ['webgl'], ['webgl2'],
])('%s canvas', (kind) => {
  test.each([[true], [false]])('PNG is exact, top band first (worker: %s)', async (worker) => {
    const r = await shoot({ kind, width: 160, height: 120 }, { format: 'image/png', worker });
    expect([r.width, r.height, r.format, r.blobType]).toEqual([160, 120, 'image/png', 'image/png']);
    expect(r.timing.worker).toBe(worker);
    const img = decodeWithPillow(r.b64);
    expect([img.format, img.width, img.height]).toEqual(['PNG', 160, 120]);
    expect(exactBandErrors(img, BANDS)).toBe(0);
  });

  test('JPEG matches within JPEG tolerance', async () => {
    const r = await shoot({ kind, width: 160, height: 120 }, { format: 'image/jpeg', quality: 0.9 });
    const img = decodeWithPillow(r.b64);
    expect(img.format).toBe('JPEG');
    expect(bandMismatches(img, BANDS, { tol: 12 })).toEqual([]);
  });
});

test('a WebGL canvas without preserveDrawingBuffer captures the frame, not black', async () => {
  const r = await shoot({ kind: 'webgl2', width: 64, height: 64, preserve: false }, { format: 'image/png' });
  expect(r.metadata.source.preserveDrawingBuffer).toBe(false);
  const img = decodeWithPillow(r.b64);
  expect(pixel(img, 32, 4)).toEqual([255, 0, 0, 255]);
  expect(pixel(img, 32, 60)).toEqual([255, 255, 255, 255]);
});

test('an OffscreenCanvas (2D and WebGL2) is captured too', async () => {
  const out = await page.evaluate(async () => {
    const res = [];
    for (const kind of ['2d', 'webgl2']) {
      const c = new OffscreenCanvas(80, 40);
      const ctx = c.getContext(kind);
      const bands = [[255, 0, 0], [0, 0, 255]];
      if (kind === '2d') { ctx.fillStyle = 'red'; ctx.fillRect(0, 0, 80, 20); ctx.fillStyle = 'blue'; ctx.fillRect(0, 20, 80, 20); }
      const draw = () => {
        if (kind === '2d') return;
        ctx.enable(ctx.SCISSOR_TEST);
        ctx.scissor(0, 20, 80, 20); ctx.clearColor(1, 0, 0, 1); ctx.clear(ctx.COLOR_BUFFER_BIT);
        ctx.scissor(0, 0, 80, 20); ctx.clearColor(0, 0, 1, 1); ctx.clear(ctx.COLOR_BUFFER_BIT);
      };
      const r = await ck.captureCanvas(c, { format: 'image/png', render: draw });
      res.push({ b64: toBase64(r.bytes), kind: r.metadata.source.kind, bands });
    }
    return res;
  });
  expect(out.map((o) => o.kind)).toEqual(['2d', 'webgl2']);
  for (const o of out) expect(exactBandErrors(decodeWithPillow(o.b64), o.bands)).toBe(0);
});

test('with preserveDrawingBuffer the canvas is read at once', async () => {
  const r = await shoot({ kind: 'webgl', width: 64, height: 64, preserve: true, loop: false }, { format: 'image/png' });
  expect(r.metadata.source.preserveDrawingBuffer).toBe(true);
  expect(exactBandErrors(decodeWithPillow(r.b64), BANDS)).toBe(0);
});

test('premultiplied WebGL pixels come out with straight alpha', async () => {
  // The scene clears with premultiplied colours at alpha 0.5: (255,0,0) becomes (128,0,0,128) in the buffer.
  for (const worker of [true, false]) {
    const r = await shoot({ kind: 'webgl2', width: 64, height: 64, alpha: 0.5 }, { format: 'image/png', worker });
    const img = decodeWithPillow(r.b64);
    const red = pixel(img, 32, 8); const white = pixel(img, 32, 56);
    expect(red[3]).toBeGreaterThanOrEqual(127); expect(red[3]).toBeLessThanOrEqual(128);
    expect(red[0]).toBeGreaterThanOrEqual(253); expect(red[1]).toBe(0);
    expect(white.slice(0, 3).every((v) => v >= 253)).toBe(true);
  }
});

describe('high-resolution capture', () => {
  test.each([['webgl'], ['webgl2']])('%s at scale 2 (waiting for the app\'s frame) doubles the size and restores the canvas', async (kind) => {
    const r = await shoot({ kind, width: 120, height: 80 }, { format: 'image/png', scale: 2 });
    expect([r.width, r.height]).toEqual([240, 160]);
    expect(r.canvasAfter).toEqual({ width: 120, height: 80 });
    expect(exactBandErrors(decodeWithPillow(r.b64), BANDS)).toBe(0);
  });

  test('with render(): WebGL and 2D at scale 2', async () => {
    const out = await page.evaluate(async () => {
      const res = [];
      for (const kind of ['webgl2', '2d']) {
        const id = makeScene({ kind, width: 100, height: 60, loop: false });
        const s = scenes[id];
        let renders = 0;
        const r = await shoot(id, { format: 'image/png', scale: 2, render: () => { renders++; s.draw(); } });
        res.push({ kind, r, renders, after: [s.canvas.width, s.canvas.height] });
      }
      return res;
    });
    for (const { r, renders, after } of out) {
      expect([r.width, r.height]).toEqual([200, 120]);
      expect(after).toEqual([100, 60]);
      expect(renders).toBe(2); // once large for the capture, once at the original size again
      expect(exactBandErrors(decodeWithPillow(r.b64), BANDS)).toBe(0);
    }
  });

  test('a scale beyond the device limit is a RangeError and leaves the canvas alone', async () => {
    const e = await page.evaluate(async () => {
      const id = makeScene({ kind: 'webgl2', width: 4000, height: 40 });
      const err = await errorOf(() => ck.captureCanvas(scenes[id].canvas, { scale: 8 }));
      return { err, w: scenes[id].canvas.width };
    });
    expect(e.err.name).toBe('RangeError');
    expect(e.err.message).toMatch(/scale 8 makes 32000x320, above this device's limit/);
    expect(e.w).toBe(4000);
  });
});

test('repeated captures of one canvas (pooled pixel buffers) each show the current frame', async () => {
  const sets = [BANDS, [[0, 0, 0], [255, 255, 0], [0, 255, 255], [255, 0, 255]], [...BANDS].reverse()];
  const out = await page.evaluate(async (bandSets) => {
    const id = makeScene({ kind: 'webgl2', width: 128, height: 64 });
    const res = [];
    for (const b of bandSets) {
      scenes[id].bands = b;
      await nextFrames(2);
      res.push(await shoot(id, { format: 'image/png' }));
    }
    return res;
  }, sets);
  out.forEach((r, i) => expect(exactBandErrors(decodeWithPillow(r.b64), sets[i])).toBe(0));
  expect(out.every((r) => r.timing.worker)).toBe(true);
});

test('maxSize downscales into the box and thumbnail makes a second image', async () => {
  const r = await shoot({ kind: 'webgl2', width: 160, height: 120 }, { format: 'image/png', maxSize: 80, thumbnail: { width: 40, height: 40, format: 'image/png' } });
  expect([r.width, r.height]).toEqual([80, 60]);
  const img = decodeWithPillow(r.b64);
  expect(exactBandErrors(img, BANDS)).toBe(0); // 2:1 area averages of flat bands stay exact
  expect([r.thumbnail.width, r.thumbnail.height, r.thumbnail.format]).toEqual([40, 30, 'image/png']);
  const t = decodeWithPillow(r.thumbnail.b64);
  expect([t.width, t.height]).toEqual([40, 30]);
  expect(r.metadata.thumbnail).toEqual({ width: 40, height: 30, format: 'image/png', byteSize: Buffer.from(r.thumbnail.b64, 'base64').length });
  const big = await shoot({ kind: '2d', width: 50, height: 40 }, { format: 'image/png', maxSize: { width: 500, height: 500 } });
  expect([big.width, big.height]).toEqual([50, 40]); // never enlarges
});

test('filters: adjust, an image watermark and a text watermark (in the Worker)', async () => {
  const r = await page.evaluate(async () => {
    const id = makeScene({ kind: 'webgl2', width: 160, height: 120 });
    const mark = new ImageData(20, 10); // opaque yellow
    for (let i = 0; i < mark.data.length; i += 4) mark.data.set([255, 255, 0, 255], i);
    return shoot(id, {
      format: 'image/png',
      filters: [
        { op: 'adjust', brightness: -0.2 },
        { op: 'watermark', image: mark, position: 'top-left', margin: 2 },
        { op: 'text', text: 'capturekit', font: 'bold 20px sans-serif', color: '#000', position: 'bottom-right', margin: 4 },
      ],
    });
  });
  const img = decodeWithPillow(r.b64);
  expect(pixel(img, 10, 6)).toEqual([255, 255, 0, 255]); // the mark, drawn after the adjustment
  expect(pixel(img, 80, 15)).toEqual([204, 0, 0, 255]); // red band darkened by 0.2 * 255
  // Dark text pixels in the bottom-right corner of the (darkened) white band.
  let dark = 0;
  for (let y = 92; y < 120; y++) for (let x = 60; x < 160; x++) if (pixel(img, x, y)[0] < 100) dark++;
  expect(dark).toBeGreaterThan(20);
});

test('metadata describes the capture and the device', async () => {
  const r = await shoot({ kind: 'webgl', width: 96, height: 64 }, { format: 'image/jpeg', quality: 0.5, metadata: { sessionId: 'abc' } });
  const ua = await page.evaluate(() => navigator.userAgent);
  const m = r.metadata;
  expect(m.byteSize).toBe(Buffer.from(r.b64, 'base64').length);
  expect(m.byteSize).toBe(r.blobSize);
  expect(m).toMatchObject({ format: 'image/jpeg', quality: 0.5, width: 96, height: 64, dimensions: { width: 96, height: 64 }, extra: { sessionId: 'abc' } });
  expect(m.source).toMatchObject({ kind: 'webgl', canvasWidth: 96, canvasHeight: 64, scale: 1 });
  expect(Math.abs(m.timestamp - Date.now())).toBeLessThan(60_000);
  expect(new Date(m.capturedAt).getTime()).toBe(m.timestamp);
  expect(m.device.userAgent).toBe(ua);
  expect(typeof m.device.xr.available).toBe('boolean');
  expect(m.device.sessionMode).toBeNull();
  expect(JSON.parse(JSON.stringify(m))).toEqual(m); // plain JSON, ready for the upload queue
});

describe('bad input: a clear Error, and the page keeps rendering', () => {
  test.each([
    ['a zero-size canvas', `const c = document.createElement('canvas'); c.width = 0; c.height = 10; document.body.append(c); c.getContext('2d');
      return ck.captureCanvas(c);`, 'RangeError', /zero size \(0x10\)/],
    ['a detached canvas', `const id = makeScene({ kind: 'webgl2', attach: false }); return ck.captureCanvas(scenes[id].canvas);`, 'Error', /detached \(not in the document\)/],
    ['a canvas whose control went to an OffscreenCanvas', `const c = document.createElement('canvas'); document.body.append(c); c.transferControlToOffscreen();
      return ck.captureCanvas(c);`, 'Error', /transferred to an OffscreenCanvas/],
    ['not a canvas', `return ck.captureCanvas(document.body);`, 'TypeError', /HTMLCanvasElement or OffscreenCanvas, got HTMLBodyElement/],
    ['an unknown format', `const id = makeScene({ kind: '2d' }); return ck.captureCanvas(scenes[id].canvas, { format: 'image/gif' });`, 'RangeError', /format must be one of "image\/jpeg", "image\/png", got "image\/gif"/],
    ['quality above 1', `const id = makeScene({ kind: 'webgl' }); return ck.captureCanvas(scenes[id].canvas, { quality: 1.5 });`, 'RangeError', /quality must be between 0 and 1, got 1.5/],
    ['quality below 0', `const id = makeScene({ kind: 'webgl' }); return ck.captureCanvas(scenes[id].canvas, { quality: -0.1 });`, 'RangeError', /quality must be between 0 and 1, got -0.1/],
    ['a NaN scale', `const id = makeScene({ kind: 'webgl' }); return ck.captureCanvas(scenes[id].canvas, { scale: NaN });`, 'RangeError', /scale must be a number, got NaN/],
    ['an unknown filter', `const id = makeScene({ kind: '2d' }); return ck.captureCanvas(scenes[id].canvas, { filters: [{ op: 'sepia' }] });`, 'RangeError', /filters\[0\]\.op must be one of/],
    ['a filter with bad options (checked by the op, in the Worker)', `const id = makeScene({ kind: '2d' }); return ck.captureCanvas(scenes[id].canvas, { filters: [{ op: 'blur', radius: 500 }] });`, 'RangeError', /radius/],
    ['scale on a 2D canvas without render', `const id = makeScene({ kind: '2d' }); return ck.captureCanvas(scenes[id].canvas, { scale: 2 });`, 'TypeError', /needs options\.render/],
  ])('%s', async (name, body, errName, re) => {
    const out = await page.evaluate(async (src) => {
      const id = makeScene({ kind: 'webgl2', width: 32, height: 32 });
      const before = frames(id);
      const err = await errorOf(new Function(src));
      await nextFrames(3);
      return { err, advanced: frames(id) - before };
    }, body);
    expect(out.err).not.toBeNull();
    expect(out.err.isError).toBe(true);
    expect(out.err.name).toBe(errName);
    expect(out.err.message).toMatch(re);
    expect(out.advanced).toBeGreaterThanOrEqual(3);
  });

  test('a lost WebGL context, then a capture after it is restored', async () => {
    const out = await page.evaluate(async () => {
      const id = makeScene({ kind: 'webgl2', width: 64, height: 64 });
      const s = scenes[id];
      const ext = s.gl.getExtension('WEBGL_lose_context');
      const lost = new Promise((r) => s.canvas.addEventListener('webglcontextlost', (e) => { e.preventDefault(); r(); }, { once: true }));
      ext.loseContext();
      await lost;
      const before = s.frames;
      const err = await errorOf(() => ck.captureCanvas(s.canvas));
      await nextFrames(3);
      const restored = new Promise((r) => s.canvas.addEventListener('webglcontextrestored', r, { once: true }));
      ext.restoreContext();
      await restored;
      await nextFrames(2);
      const again = await shoot(id, { format: 'image/png' });
      return { err, advanced: s.frames - before, again: { b64: again.b64, width: again.width } };
    });
    expect(out.err).toMatchObject({ name: 'Error', isError: true });
    expect(out.err.message).toMatch(/WebGL context is lost/);
    expect(out.advanced).toBeGreaterThanOrEqual(3);
    expect(exactBandErrors(decodeWithPillow(out.again.b64), BANDS)).toBe(0);
  });

  test('no uncaught errors in the page', () => {
    expect(page.errors).toEqual([]);
  });
});
