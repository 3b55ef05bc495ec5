// The example pages (examples/webgl, examples/canvas2d, examples/xr-three) as a user drives them:
// click the screenshot button, review, keep. The three.js page runs an immersive session on IWER
// (?emulate) and takes screenshots inside it, from the DOM button and from a controller trigger.
import { launchBrowser, serveStatic, openPage } from './browser.mjs';
import { decodeWithPillow } from './capture.helpers.mjs';

let browser, site;
beforeAll(async () => { browser = await launchBrowser(); site = await serveStatic(); });
afterAll(async () => { await browser?.close(); await site?.close(); });

async function open(path) {
  const page = await openPage(browser, `${site.url}${path}`, { contextOptions: { viewport: { width: 900, height: 700 } } });
  // Results of kept captures, recorded as they happen.
  await page.evaluate(() => {
    window.kept = [];
    document.addEventListener('capture', (e) => {
      const r = e.detail.result;
      let s = '';
      for (let i = 0; i < r.bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, r.bytes.subarray(i, i + 0x8000));
      window.kept.push({ width: r.width, height: r.height, format: r.format, b64: btoa(s), metadata: r.metadata });
    });
  });
  return page;
}

async function shootAndKeep(page, n) {
  await page.locator('#shot').click();
  await page.locator('capture-review[open]').waitFor();
  await page.locator('capture-review button.keep').click();
  await page.waitForFunction((k) => window.kept.length === k, n);
  return page.evaluate((k) => window.kept[k - 1], n);
}

test('examples/webgl: screenshot, review, keep; high resolution at scale 2', async () => {
  const page = await open('/examples/webgl/');
  await page.locator('capture-button').waitFor();
  await page.waitForFunction(() => document.getElementById('shot').options?.render);
  const canvas = await page.evaluate(() => [document.getElementById('scene').width, document.getElementById('scene').height]);
  const r = await shootAndKeep(page, 1);
  expect([r.width, r.height]).toEqual(canvas);
  expect(r.format).toBe('image/jpeg');
  const img = decodeWithPillow(r.b64);
  // Not black: the cube is there on the dark-blue background. Its faces are pure colours (red, cyan,
  // green, magenta, blue, yellow), so a cube pixel has one channel near full whatever the angle the
  // animation is at when the shot is taken; the background has none over 31.
  let cube = 0;
  for (let i = 0; i < img.data.length; i += 4) if (Math.max(img.data[i], img.data[i + 1], img.data[i + 2]) > 128) cube++;
  expect(cube).toBeGreaterThan(5000);
  expect(await page.locator('#gallery figure').count()).toBe(1);

  await page.selectOption('#scale', '2');
  const big = await shootAndKeep(page, 2);
  expect([big.width, big.height]).toEqual([canvas[0] * 2, canvas[1] * 2]);
  expect(await page.evaluate(() => [document.getElementById('scene').width, document.getElementById('scene').height])).toEqual(canvas);
  expect(page.errors).toEqual([]);
  await page.context().close();
});

test('examples/webgl: Record, Stop, review the video, keep: it lands in the gallery as a playable WebM', async () => {
  const page = await open('/examples/webgl/');
  await page.locator('record-button').waitFor();
  await page.waitForFunction(() => document.getElementById('rec').metadata?.example === 'webgl');
  const canvas = await page.evaluate(() => [document.getElementById('scene').width, document.getElementById('scene').height]);
  await page.locator('#rec').click();
  await page.waitForFunction(() => document.getElementById('rec').recording);
  await page.waitForTimeout(1000);
  await page.locator('#rec').click();
  await page.locator('capture-review[open]').waitFor();
  await page.locator('capture-review button.keep').click();
  await page.waitForFunction(() => document.querySelector('#gallery video'));
  const v = await page.evaluate(async () => {
    const video = document.querySelector('#gallery video');
    await new Promise((r) => (video.readyState >= 1 ? r() : video.addEventListener('loadedmetadata', r, { once: true })));
    const bytes = new Uint8Array(await (await fetch(video.src)).arrayBuffer());
    return { width: video.videoWidth, height: video.videoHeight, caption: document.querySelector('#gallery figcaption').textContent,
      head: Array.from(bytes.subarray(0, 4)), link: document.querySelector('#gallery figcaption a').download };
  });
  expect([v.width, v.height]).toEqual(canvas);
  expect(v.head).toEqual([0x1a, 0x45, 0xdf, 0xa3]); // EBML: a WebM
  expect(v.caption).toMatch(new RegExp(`^${canvas[0]}×${canvas[1]}, \\d+\\.\\d s, \\d+ frames \\((wasm|webcodecs)\\)`));
  expect(v.link).toMatch(/^recording_\d{8}_\d{6}\.webm$/);
  expect(await page.locator('#error').textContent()).toBe('');
  expect(page.errors).toEqual([]);
  await page.context().close();
});

test('examples/canvas2d: PNG with a text watermark, and 2× resolution', async () => {
  const page = await open('/examples/canvas2d/');
  await page.waitForFunction(() => document.getElementById('shot').options?.render);
  const canvas = await page.evaluate(() => [document.getElementById('board').width, document.getElementById('board').height]);
  const r = await shootAndKeep(page, 1);
  expect([r.width, r.height, r.format]).toEqual([...canvas, 'image/png']);
  expect(r.metadata.extra).toMatchObject({ example: 'canvas2d', strokes: 3 });
  await page.check('#hires');
  const big = await shootAndKeep(page, 2);
  expect([big.width, big.height]).toEqual([canvas[0] * 2, canvas[1] * 2]);
  expect(decodeWithPillow(big.b64).width).toBe(canvas[0] * 2);
  expect(await page.evaluate(() => document.getElementById('board').width)).toBe(canvas[0]);
  expect(page.errors).toEqual([]);
  await page.context().close();
});

test('examples/xr-three: the screenshot button works inside an immersive VR session (IWER)', async () => {
  const page = await open('/examples/xr-three/?emulate');
  await page.waitForFunction(() => window.xrDevice && !document.getElementById('enter-vr').disabled);
  // Outside XR first: the canvas.
  const flat = await shootAndKeep(page, 1);
  expect(flat.metadata.source.kind).toBe('webgl2');

  await page.locator('#enter-vr').click();
  await page.waitForFunction(() => window.app.renderer.xr.isPresenting);
  const pose = { x: 0.1, y: 1.6, z: 0.3 };
  await page.evaluate((p) => window.xrDevice.position.set(p.x, p.y, p.z), pose);
  await page.waitForTimeout(100);
  const size = await page.evaluate(() => [window.app.renderer.getContext().drawingBufferWidth, window.app.renderer.getContext().drawingBufferHeight]);

  const r = await shootAndKeep(page, 2); // the DOM button, over the emulator's full-window canvas
  expect(r.metadata.source.kind).toBe('xr');
  expect(r.metadata.xr.sessionMode).toBe('immersive-vr');
  expect([r.width, r.height]).toEqual([size[0] / 2, size[1]]); // the left eye
  for (const k of ['x', 'y', 'z']) expect(r.metadata.xr.pose.position[k]).toBeCloseTo(pose[k], 5);
  const img = decodeWithPillow(r.b64);
  let lit = 0;
  for (let i = 0; i < img.data.length; i += 4) if (img.data[i] + img.data[i + 1] + img.data[i + 2] > 150) lit++;
  expect(lit).toBeGreaterThan(500); // the scene, not a cleared framebuffer

  // Both eyes, from the view select.
  await page.selectOption('#view', 'both');
  const both = await shootAndKeep(page, 3);
  expect([both.width, both.height]).toEqual(size);

  // A controller trigger (select) takes one too.
  await page.evaluate(() => window.xrDevice.controllers.right.updateButtonValue('trigger', 1));
  await page.locator('capture-review[open]').waitFor();
  await page.locator('capture-review button.keep').click();
  await page.waitForFunction(() => window.kept.length === 4);
  await page.evaluate(() => window.xrDevice.controllers.right.updateButtonValue('trigger', 0));
  expect(await page.evaluate(() => window.kept[3].metadata.source.kind)).toBe('xr');

  // After the session the button captures the canvas again.
  await page.locator('#exit').click();
  await page.waitForFunction(() => !window.app.renderer.xr.isPresenting);
  const after = await shootAndKeep(page, 5);
  expect(after.metadata.source.kind).toBe('webgl2');
  expect(page.errors).toEqual([]);
  await page.context().close();
});
