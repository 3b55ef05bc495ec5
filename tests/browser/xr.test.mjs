// captureXRFrame / captureXRSession in immersive sessions on Meta's IWER emulator (npm iwer) in real
// Chromium. The left eye shows BANDS_L, the right eye BANDS_R, so the decoded capture tells which view
// it holds. IWER has no opaque framebuffer (glLayer.framebuffer is null): the views are read from the
// default framebuffer, side by side, as on the device.
import { launchBrowser, serveStatic, openPage } from './browser.mjs';
import { decodeWithPillow, bandMismatches, exactBandErrors } from './capture.helpers.mjs';

const BANDS_L = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]];
const BANDS_R = [[255, 255, 0], [0, 255, 255], [255, 0, 255], [0, 0, 0]];
let browser, site;

beforeAll(async () => { browser = await launchBrowser(); site = await serveStatic(); });
afterAll(async () => { await browser?.close(); await site?.close(); });

async function xrPage(query = '') {
  const page = await openPage(browser, `${site.url}/tests/browser/pages/xr.html${query}`, { contextOptions: { viewport: { width: 640, height: 360 } } });
  await page.waitForFunction(() => window.ready);
  return page;
}

/** The left and right halves of a side-by-side capture. */
function halves(img) {
  const w = img.width / 2;
  const half = (x0) => {
    const data = Buffer.alloc(w * img.height * 4);
    for (let y = 0; y < img.height; y++) img.data.copy(data, y * w * 4, (y * img.width + x0) * 4, (y * img.width + x0 + w) * 4);
    return { width: w, height: img.height, data };
  };
  return [half(0), half(w)];
}

describe.each([['immersive-vr'], ['immersive-ar']])('%s session', (mode) => {
  let page, started;
  beforeAll(async () => {
    page = await xrPage();
    started = await page.evaluate((m) => startSession(m), mode);
  });
  afterAll(async () => { await page?.context().close(); });

  test('the emulated session is stereo and renders into the window-sized canvas', () => {
    expect(started.canvas).toEqual([640, 360]);
    expect(started.enabledFeatures).toContain('local-floor');
  });

  test.each([[0, BANDS_L], [1, BANDS_R], ['left', BANDS_L], ['right', BANDS_R]])('view %s (PNG, exact)', async (view, bands) => {
    const r = await page.evaluate((v) => captureInFrame({ view: v, format: 'image/png' }), view);
    expect([r.width, r.height]).toEqual([320, 360]);
    const img = decodeWithPillow(r.b64);
    expect(exactBandErrors(img, bands)).toBe(0);
    expect(r.metadata.xr.views.map((v) => v.eye)).toEqual([bands === BANDS_L ? 'left' : 'right']);
    expect(r.metadata.xr.views[0].viewport).toEqual({ x: bands === BANDS_L ? 0 : 320, y: 0, width: 320, height: 360 });
  });

  test('both views side by side (JPEG)', async () => {
    const r = await page.evaluate(() => captureInFrame({ view: 'both', format: 'image/jpeg', quality: 0.95 }));
    expect([r.width, r.height, r.format]).toEqual([640, 360, 'image/jpeg']);
    const [left, right] = halves(decodeWithPillow(r.b64));
    expect(bandMismatches(left, BANDS_L, { tol: 12, columns: [0.2, 0.5, 0.8] })).toEqual([]);
    expect(bandMismatches(right, BANDS_R, { tol: 12, columns: [0.2, 0.5, 0.8] })).toEqual([]);
    expect(r.metadata.xr.views.map((v) => v.eye)).toEqual(['left', 'right']);
  });

  test('both views inline (worker: false), PNG exact', async () => {
    const r = await page.evaluate(() => captureInFrame({ view: 'both', format: 'image/png', worker: false }));
    expect(r.timing.worker).toBe(false);
    const [left, right] = halves(decodeWithPillow(r.b64));
    expect(exactBandErrors(left, BANDS_L)).toBe(0);
    expect(exactBandErrors(right, BANDS_R)).toBe(0);
  });

  test('the metadata pose is the emulated headset pose after moving it, with the views\' projections', async () => {
    const pos = { x: 0.25, y: 1.5, z: -0.75 };
    const s = Math.SQRT1_2; // 90° about Y
    const quat = { x: 0, y: s, z: 0, w: s };
    const r = await page.evaluate(async ([p, q]) => {
      moveHeadset(p, q);
      await waitFrames(2);
      return captureInFrame({ view: 'both', format: 'image/png' });
    }, [pos, quat]);
    const { pose, views } = r.metadata.xr;
    for (const k of ['x', 'y', 'z']) expect(pose.position[k]).toBeCloseTo(pos[k], 5);
    for (const k of ['x', 'y', 'z', 'w']) expect(pose.orientation[k]).toBeCloseTo(quat[k], 5);
    // Each eye sits half the IPD to its side of the head: along the headset's own x axis, which the
    // 90° turn points along -z.
    const ipd = await page.evaluate(() => device.ipd);
    expect(views[0].transform.position.z).toBeCloseTo(pos.z + ipd / 2, 5);
    expect(views[1].transform.position.z).toBeCloseTo(pos.z - ipd / 2, 5);
    // The projection is the one the view had: a perspective matrix for half the canvas's aspect.
    const fovy = await page.evaluate(() => device.fovy);
    const f = 1 / Math.tan(fovy / 2);
    for (const v of views) {
      expect(v.projectionMatrix).toHaveLength(16);
      expect(v.projectionMatrix[5]).toBeCloseTo(f, 4);
      expect(v.projectionMatrix[0]).toBeCloseTo(f / (320 / 360), 4);
      expect(v.projectionMatrix[11]).toBe(-1);
    }
  });

  test('metadata: device, session mode and features', async () => {
    const r = await page.evaluate(() => captureSession({ format: 'image/png', metadata: { note: 'x' } }));
    const m = r.metadata;
    expect(m.source.kind).toBe('xr');
    expect(m.xr.framebuffer).toBe('default'); // IWER: glLayer.framebuffer is null
    expect(m.xr.sessionMode).toBe(mode);
    expect(m.device.sessionMode).toBe(mode);
    expect(m.device.enabledFeatures).toEqual(started.enabledFeatures);
    expect(m.device.xr).toEqual({ available: true, immersiveVr: true, immersiveAr: true });
    expect(m.device.userAgent).toMatch(/OculusBrowser|Quest/); // IWER reports the emulated headset's browser
    expect(m.extra).toEqual({ note: 'x' });
    expect(m.byteSize).toBe(r.blobSize);
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
  });
});

describe('errors', () => {
  let page;
  beforeAll(async () => {
    page = await xrPage();
    await page.evaluate(() => startSession('immersive-vr'));
  });
  afterAll(async () => { await page?.context().close(); });

  const windowFrames = () => page.evaluate(() => new Promise((r) => { let n = 0; const f = () => (++n >= 3 ? r(n) : requestAnimationFrame(f)); requestAnimationFrame(f); }));

  test('a capture outside the XR frame callback throws an Error that says so; the session keeps rendering', async () => {
    const out = await page.evaluate(async () => {
      const before = app.frames;
      let sync = null;
      try { ck.captureXRFrame(app.lastFrame, { gl, referenceSpace: app.space }); } catch (e) { sync = { name: e.name, message: e.message }; }
      await waitFrames(3);
      return { sync, advanced: app.frames - before };
    });
    expect(out.sync.name).toBe('Error');
    expect(out.sync.message).toMatch(/must be called inside the XRSession requestAnimationFrame callback/);
    expect(out.advanced).toBeGreaterThanOrEqual(3);
  });

  test.each([
    ['scale other than 1', { scale: 2 }, 'RangeError', /scale must be 1 for an XR frame/],
    ['a view the frame does not have', { view: 2 }, 'RangeError', /view must be an index from 0 to 1, got 2/],
    ['an unknown view name', { view: 'middle' }, 'RangeError', /view must be one of/],
    ['an unknown format', { format: 'image/webp' }, 'RangeError', /format must be one of/],
    ['quality outside 0..1', { quality: 2 }, 'RangeError', /quality must be between 0 and 1, got 2/],
    ['no reference space', { referenceSpace: null }, 'TypeError', /referenceSpace must be the XRReferenceSpace/],
  ])('%s', async (name, options, errName, re) => {
    const out = await page.evaluate(async (o) => {
      const before = app.frames;
      const err = await errorOf(() => captureInFrame(o));
      await waitFrames(3);
      return { err, advanced: app.frames - before };
    }, options);
    expect(out.err).toMatchObject({ name: errName, isError: true });
    expect(out.err.message).toMatch(re);
    expect(out.advanced).toBeGreaterThanOrEqual(3);
  });

  test('not an XRFrame', async () => {
    const err = await page.evaluate(() => errorOf(() => ck.captureXRFrame({}, { gl, referenceSpace: app.space })));
    expect(err).toMatchObject({ name: 'TypeError' });
    expect(err.message).toMatch(/frame must be the XRFrame/);
  });

  test('an ended session: captureXRFrame and captureXRSession say so; the page keeps rendering', async () => {
    const out = await page.evaluate(async () => {
      await captureSession({ format: 'image/png' }); // a capture while it runs
      const { session, lastFrame } = app;
      await session.end();
      const a = await errorOf(() => ck.captureXRFrame(lastFrame, { gl, referenceSpace: app.space }));
      const b = await errorOf(() => ck.captureXRSession(session, { gl, referenceSpace: app.space }));
      return { a, b };
    });
    expect(out.a).toMatchObject({ name: 'Error', message: 'captureXRFrame: the XR session has ended' });
    expect(out.b).toMatchObject({ name: 'Error', message: 'captureXRSession: the XR session has ended' });
    expect(await windowFrames()).toBe(3);
    expect(page.errors).toEqual([]);
  });
});

test('a session never seen before it ended still gets a clear Error', async () => {
  const page = await xrPage();
  const out = await page.evaluate(async () => {
    await startSession('immersive-vr');
    const { session } = app;
    await session.end();
    return errorOf(() => ck.captureXRSession(session, { gl, referenceSpace: app.space }));
  });
  expect(out).toMatchObject({ name: 'Error', message: 'captureXRSession: the XR session has ended' });
  await page.context().close();
});

test('WebGL1 context (synchronous readback): both views', async () => {
  const page = await xrPage('?gl=webgl');
  const r = await page.evaluate(async () => { await startSession('immersive-vr'); return captureSession({ view: 'both', format: 'image/png' }); });
  expect(r.metadata.source.context).toBe('webgl');
  const [left, right] = halves(decodeWithPillow(r.b64));
  expect(exactBandErrors(left, BANDS_L)).toBe(0);
  expect(exactBandErrors(right, BANDS_R)).toBe(0);
  await page.context().close();
});

test('an XRProjectionLayer (WebXR Layers, as three.js uses where supported): each view from its sub-image', async () => {
  const page = await xrPage('?layers=1');
  const out = await page.evaluate(async () => {
    await startSession('immersive-vr');
    return [await captureInFrame({ view: 0, format: 'image/png' }), await captureInFrame({ view: 'both', format: 'image/png' })];
  });
  expect(out[0].metadata.xr.framebuffer).toBe('projection-layer');
  const single = decodeWithPillow(out[0].b64);
  expect(exactBandErrors(single, BANDS_L)).toBe(0);
  const [left, right] = halves(decodeWithPillow(out[1].b64));
  expect(exactBandErrors(left, BANDS_L)).toBe(0);
  expect(exactBandErrors(right, BANDS_R)).toBe(0);
  expect(page.errors).toEqual([]);
  await page.context().close();
});
