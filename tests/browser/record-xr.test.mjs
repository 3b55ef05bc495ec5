// Recording an immersive WebXR session on Meta's IWER emulator (npm iwer) in real Chromium. The page
// (record-xr.html) moves the emulated headset along a known path, one step per frame, and logs the
// pose it saw in each frame. The recording must be frame-exact (every XR frame from the first recorded
// one to the last, none missing, exactly that many frames in the file per ffprobe), and the poses stored
// in the WebM (BlockAdditional JSON, read back with readFrameMetadata) must be the headset's path.
// IWER: installed with forceInstall (Chromium has its own navigator.xr), stereo (two views side by
// side in the default framebuffer: glLayer.framebuffer is null), pixels read inside the frame callback.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, serveStatic, openPage } from './browser.mjs';
import { probe } from '../node/video/video-fixtures.mjs';
import { readFrameMetadata } from '../../js-glue/index.js';

let browser, site, dir;
beforeAll(async () => {
  browser = await launchBrowser();
  site = await serveStatic();
  dir = mkdtempSync(join(tmpdir(), 'ck-record-xr-'));
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function xrPage() {
  const page = await openPage(browser, `${site.url}/tests/browser/pages/record-xr.html`, { contextOptions: { viewport: { width: 320, height: 240 } } });
  await page.waitForFunction(() => window.ready);
  await page.evaluate(() => startSession());
  return page;
}

function save(name, r) {
  const file = join(dir, name);
  const bytes = Buffer.from(r.b64, 'base64');
  writeFileSync(file, bytes);
  return { file, bytes: new Uint8Array(bytes) };
}

/** The page's path(k) (record-xr.html), in Node. */
function path(k) {
  const a = k * 0.02;
  return { position: { x: 0.01 * k, y: 1.6, z: -0.005 * k }, orientation: { x: 0, y: Math.sin(a / 2), z: 0, w: Math.cos(a / 2) } };
}

function expectPose(got, want) {
  for (const k of ['x', 'y', 'z']) expect(got.position[k]).toBeCloseTo(want.position[k], 5);
  for (const k of ['x', 'y', 'z', 'w']) expect(got.orientation[k]).toBeCloseTo(want.orientation[k], 5);
}

function decodeFrame(file, n, width, height) {
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-vf', `select=eq(n\\,${n})`, '-frames:v', '1',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 26 });
  expect(raw.length).toBe(width * height * 3);
  return (x, y) => Array.from(raw.subarray((y * width + x) * 3, (y * width + x) * 3 + 3));
}
const near = (got, want, tol = 24) => got.every((v, i) => Math.abs(v - want[i]) <= tol);

/** The checks every XR recording must pass; returns the metadata read from the file. */
function checkFrameExact(r, file, bytes, { n, width, height, fps }) {
  // The file: exactly the frames the recorder took, lasting frames / fps.
  expect(r.frames).toBe(n);
  const p = probe(file);
  expect(p).toEqual({ codec: r.codec, width, height, frames: n, duration: p.duration });
  expect(p.duration).toBeCloseTo(n / fps, 5); // ffprobe prints 6 decimals
  // The poses travel inside the file and equal the JSON the recorder returned.
  const md = readFrameMetadata(bytes);
  expect(md.map((m) => m.frame)).toEqual(Array.from({ length: n }, (_, i) => i));
  expect(md.map((m) => m.metadata)).toEqual(r.metadata.frames);
  expect(md.map((m) => m.metadata.frameNumber)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  // Frame-exact: consecutive XR frames, each exactly once, and each pose is where the headset was.
  const steps = md.map((m) => {
    const entry = r.log.find((l) => l.t === m.metadata.timestamp);
    expect(entry).toBeDefined();
    expectPose(m.metadata.pose, entry);
    expectPose(m.metadata.pose, path(entry.step));
    return entry.step;
  });
  for (let i = 1; i < n; i++) expect(steps[i]).toBe(steps[i - 1] + 1);
  expect(md[0].metadata.elapsed).toBe(0);
  md.forEach((m) => expect(m.metadata.elapsed).toBeCloseTo(m.metadata.timestamp - md[0].metadata.timestamp, 6));
  // Block times (whole ms): frame n at n / fps (timing 'fps').
  md.forEach((m, i) => expect(Math.abs(m.timestamp - (i * 1000) / fps)).toBeLessThan(1));
  return md;
}

describe('auto mode: the recorder takes every XR frame itself (wasm, left view)', () => {
  let page, r, file, bytes;
  beforeAll(async () => {
    page = await xrPage();
    r = await page.evaluate(() => recordAuto(30, { backend: 'wasm', fps: 30 }));
    ({ file, bytes } = save('auto.webm', r));
  });
  afterAll(async () => { await page?.context().close(); });

  test('frame-exact, poses in the file equal the headset path', () => {
    expect(r.backend).toBe('wasm');
    expect(r.skippedFrames).toBe(0);
    // stop() is called once 30 frames were taken; at most one more may already be in flight.
    const n = r.frames;
    expect(n).toBeGreaterThanOrEqual(30);
    expect(n).toBeLessThanOrEqual(31);
    checkFrameExact(r, file, bytes, { n, width: 160, height: 240, fps: 30 });
  });

  test('the picture is the left eye, upright', () => {
    const px = decodeFrame(file, 0, 160, 240);
    expect(near(px(80, 20), [255, 0, 0])).toBe(true);    // top band red
    expect(near(px(80, 220), [255, 255, 255])).toBe(true); // bottom band white
  });

  test('recording metadata: session mode, device, per-frame XR fields', () => {
    expect(r.metadata).toMatchObject({ sessionMode: 'immersive-vr', view: 0, frameCount: r.frames, fps: 30, backend: 'wasm' });
    expect(r.metadata.device.userAgent).toMatch(/Quest|OculusBrowser/);
    expect(r.metadata.device.enabledFeatures).toContain('local-floor');
    expect(Object.keys(r.metadata.frames[0]).sort()).toEqual(['elapsed', 'frameNumber', 'pose', 'timestamp']);
  });
});

describe('manual mode: the app hands over each frame (both views, auto backend)', () => {
  let page, r, file, bytes;
  beforeAll(async () => {
    page = await xrPage();
    r = await page.evaluate(() => recordManual(30, { view: 'both', fps: 30 }));
    ({ file, bytes } = save('manual.webm', r));
  });
  afterAll(async () => { await page?.context().close(); });

  test('exactly the 30 frames handed over, poses equal the headset path', () => {
    expect(['webcodecs', 'wasm']).toContain(r.backend);
    checkFrameExact(r, file, bytes, { n: 30, width: 320, height: 240, fps: 30 });
  });

  test('both views side by side: left eye bands on the left, right eye bands on the right', () => {
    const px = decodeFrame(file, 29, 320, 240);
    expect(near(px(80, 20), [255, 0, 0])).toBe(true);    // left: red on top
    expect(near(px(240, 20), [255, 255, 0])).toBe(true); // right: yellow on top
    expect(near(px(240, 220), [0, 0, 0])).toBe(true);    // right: black at the bottom
  });

  test('the same recording through the wasm backend gives the same poses', async () => {
    const w = await page.evaluate(() => recordManual(10, { view: 'both', fps: 30, backend: 'wasm' }));
    const saved = save('manual-wasm.webm', w);
    checkFrameExact(w, saved.file, saved.bytes, { n: 10, width: 320, height: 240, fps: 30 });
  });
});

describe('<record-button> with the immersive session (web/record-button.js)', () => {
  let page;
  beforeAll(async () => {
    page = await xrPage();
    await page.evaluate(async () => {
      await import('/web/record-button.js');
      const b = document.createElement('record-button');
      b.setAttribute('target', 'canvas'); // ignored while the session runs: the session is recorded
      b.xr = () => ({ session: app.session, gl, referenceSpace: app.space });
      b.options = { backend: 'wasm', timing: 'fps', maxQueuedFrames: 256 };
      window.buttonEvents = [];
      for (const t of ['recordingstart', 'recording', 'recordingerror']) {
        b.addEventListener(t, (e) => window.buttonEvents.push({ type: t, error: e.detail.error ? e.detail.error.message : null }));
      }
      document.body.append(b);
      window.button = b;
    });
  });
  afterAll(async () => { await page?.context().close(); });

  test('Record / Stop records the XR frames, frame-exact, with the poses in the file', async () => {
    const r = await page.evaluate(async () => {
      const rec = await button.toggle();
      await new Promise((r) => { const f = () => (rec.frames + rec.queued >= 20 ? r() : setTimeout(f, 2)); f(); });
      const done = await button.toggle();
      return pack(done.result, { backend: done.result.backend, log: app.log.slice(), events: buttonEvents.map((e) => e.type) });
    });
    expect(r.events).toEqual(['recordingstart', 'recording']);
    expect(r.frames).toBeGreaterThanOrEqual(20);
    const { file, bytes } = save('button.webm', r);
    checkFrameExact(r, file, bytes, { n: r.frames, width: 160, height: 240, fps: 30 });
  });

  test('the session ending while recording: recordingerror with the recorder\'s message, the button stops', async () => {
    const out = await page.evaluate(async () => {
      buttonEvents.length = 0;
      await button.start();
      await waitFrames(5);
      await app.session.end();
      for (let i = 0; i < 200 && !buttonEvents.some((e) => e.type === 'recordingerror'); i++) await new Promise((r) => setTimeout(r, 10));
      return { events: buttonEvents.slice(), recording: button.recording };
    });
    expect(out.events.map((e) => e.type)).toEqual(['recordingstart', 'recordingerror']);
    expect(out.events[1].error).toMatch(/the XR session ended while recording/);
    expect(out.recording).toBe(false);
  });
});

describe('XR errors', () => {
  let page;
  beforeAll(async () => { page = await xrPage(); });
  afterAll(async () => { await page?.context().close(); });

  test('missing referenceSpace, MediaRecorder on a session, a bad view', async () => {
    const out = await page.evaluate(async () => ({
      space: await errorOf(() => ck.createRecorder(app.session, { gl })),
      mr: await errorOf(() => ck.createRecorder(app.session, { gl, referenceSpace: app.space, backend: 'mediarecorder' })),
      view: await errorOf(() => ck.createRecorder(app.session, { gl, referenceSpace: app.space, view: 'middle' })),
    }));
    expect(out.space).toMatchObject({ name: 'TypeError' });
    expect(out.space.message).toMatch(/options.referenceSpace must be the XRReferenceSpace/);
    expect(out.mr.message).toMatch(/backend "mediarecorder" records a canvas; an XR session needs/);
    expect(out.view).toMatchObject({ name: 'RangeError' });
  });

  test('captureXRFrame outside the frame callback: a clear Error, nothing recorded', async () => {
    const out = await page.evaluate(async () => {
      let stale = null;
      const rec = await ck.createRecorder(app.session, { gl, referenceSpace: app.space, frames: 'manual' });
      await new Promise((r) => app.session.requestAnimationFrame((t, f) => { stale = f; r(); }));
      const e = await errorOf(() => rec.captureXRFrame(stale, 0));
      const frames = rec.frames + rec.queued;
      rec.abort();
      return { e, frames };
    });
    expect(out.e.message).toMatch(/must be called inside the XRSession requestAnimationFrame callback/);
    expect(out.frames).toBe(0);
  });

  test('the session ending while recording fails the recording: stop() rejects, nothing reported complete', async () => {
    const out = await page.evaluate(async () => {
      const rec = await ck.createRecorder(app.session, { gl, referenceSpace: app.space, backend: 'wasm' });
      await waitFrames(5);
      await app.session.end();
      const stop = await errorOf(() => rec.stop());
      return { stop, state: rec.state };
    });
    expect(out.state).toBe('failed');
    expect(out.stop.message).toMatch(/the XR session ended while recording; the file is not complete/);
  });
});
