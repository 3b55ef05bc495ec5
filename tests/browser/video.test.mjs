// VideoWriter in Chromium: in a page (and the result played by a <video> element) and in a Worker,
// the files judged by ffprobe in Node.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, openPage, serveStatic } from './browser.mjs';
import { probe } from '../node/video/video-fixtures.mjs';

let browser, site, dir;
beforeAll(async () => {
  browser = await launchBrowser();
  site = await serveStatic();
  dir = mkdtempSync(join(tmpdir(), 'ck-video-browser-'));
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
  rmSync(dir, { recursive: true, force: true });
});

// Runs in the page or the Worker: 15 frames of a moving square, each with a pose as metadata.
const ENCODE = `
  async function encode(ck, codec) {
    const w = 128, h = 96, n = 15;
    const writer = await ck.VideoWriter.create({ codec, width: w, height: h, fps: 30, bitrate: 400000 });
    for (let i = 0; i < n; i++) {
      const data = new Uint8ClampedArray(w * h * 4);
      for (let p = 0; p < w * h; p++) {
        const x = p % w, y = (p / w) | 0;
        const inSquare = x >= i * 4 && x < i * 4 + 24 && y >= 30 && y < 54;
        data.set(inSquare ? [240, 240, 40, 255] : [x * 2, y * 2, 128, 255], p * 4);
      }
      writer.addFrame({ data, width: w, height: h }, { metadata: { pose: { position: [i, 1.6, 0] } } });
    }
    return writer.finish();
  }`;

test('a page encodes VP8 and VP9 without loading the video module up front, and <video> plays the result', async () => {
  const page = await openPage(browser, `${site.url}/tests/browser/smoke.html`);
  await page.evaluate(() => window.ready);
  expect(await page.evaluate(() => window.ck.isVideoLoaded())).toBe(false);
  for (const codec of ['vp8', 'vp9']) {
    const out = await page.evaluate(async ([src, codec]) => {
      const encode = new Function(`return (${src.trim().replace(/^async function encode/, 'async function')})`)();
      const r = await encode(window.ck, codec);
      const video = document.createElement('video');
      video.muted = true;
      video.src = URL.createObjectURL(r.blob);
      await new Promise((resolve, reject) => { video.onloadedmetadata = resolve; video.onerror = () => reject(new Error(`video error ${video.error && video.error.code}`)); });
      const played = { duration: video.duration, width: video.videoWidth, height: video.videoHeight,
        seekable: video.seekable.length ? video.seekable.end(0) : 0 };
      return { frames: r.frames, duration: r.duration, played, bytes: Array.from(r.data) };
    }, [ENCODE, codec]);
    expect(out.frames).toBe(15);
    expect(out.duration).toBe(0.5);
    expect(out.played).toEqual({ duration: 0.5, width: 128, height: 96, seekable: 0.5 });
    const file = join(dir, `page-${codec}.webm`);
    writeFileSync(file, Uint8Array.from(out.bytes));
    expect(probe(file)).toEqual({ codec, width: 128, height: 96, frames: 15, duration: 0.5 });
  }
  expect(await page.evaluate(() => window.ck.isVideoLoaded())).toBe(true);
  expect(page.errors).toEqual([]);
});

test('a module Worker uses VideoWriter directly', async () => {
  const page = await openPage(browser, `${site.url}/tests/browser/smoke.html`);
  const bytes = await page.evaluate(async (src) => {
    const code = `import * as ck from '${location.origin}/js-glue/index.js';
      ${src}
      const r = await encode(ck, 'vp8');
      postMessage(r.data, [r.data.buffer]);`;
    const w = new Worker(URL.createObjectURL(new Blob([code], { type: 'text/javascript' })), { type: 'module' });
    const data = await new Promise((resolve, reject) => { w.onmessage = (e) => resolve(e.data); w.onerror = (e) => reject(new Error(e.message)); });
    w.terminate();
    return Array.from(data);
  }, ENCODE);
  const file = join(dir, 'worker-vp8.webm');
  writeFileSync(file, Uint8Array.from(bytes));
  expect(probe(file)).toEqual({ codec: 'vp8', width: 128, height: 96, frames: 15, duration: 0.5 });
});
