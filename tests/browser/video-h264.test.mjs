// VideoWriter with codec 'h264' in Chromium: OpenH264 in wasm (the capturekit-h264 module, loaded only
// when the writer is created) into MP4, played by a <video> element with a finite duration and seeked
// to the middle; the file judged by ffprobe in Node.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, openPage, serveStatic } from './browser.mjs';
import { probe } from '../node/video/video-fixtures.mjs';

let browser, site, dir;
beforeAll(async () => {
  browser = await launchBrowser();
  site = await serveStatic();
  dir = mkdtempSync(join(tmpdir(), 'ck-h264-browser-'));
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a page writes H.264 in MP4 without WebCodecs, loading the H.264 module only then, and <video> plays it', async () => {
  const page = await openPage(browser, `${site.url}/tests/browser/smoke.html`);
  await page.evaluate(() => window.ready);
  const out = await page.evaluate(async () => {
    const h264 = await import('/js-glue/h264.js');
    const before = h264.isH264Loaded();
    delete window.VideoEncoder;  // as in a browser without WebCodecs: nothing may reach for it
    if ('VideoEncoder' in window) window.VideoEncoder = undefined;
    const w = 160, h = 120, n = 60;
    const writer = await window.ck.VideoWriter.create({ codec: 'h264', container: 'mp4', width: w, height: h, fps: 30, bitrate: 500000 });
    for (let i = 0; i < n; i++) {
      const data = new Uint8ClampedArray(w * h * 4);
      for (let p = 0; p < w * h; p++) {
        const x = p % w, y = (p / w) | 0;
        const inSquare = x >= i * 2 && x < i * 2 + 24 && y >= 40 && y < 64;
        data.set(inSquare ? [240, 240, 40, 255] : [x, y * 2, 128, 255], p * 4);
      }
      writer.addFrame({ data, width: w, height: h });
    }
    const r = await writer.finish();
    const video = document.createElement('video');
    video.muted = true;
    video.src = URL.createObjectURL(r.blob);
    await new Promise((resolve, reject) => { video.onloadedmetadata = resolve; video.onerror = () => reject(new Error(`video error ${video.error && video.error.code}`)); });
    video.currentTime = video.duration / 2;
    await new Promise((resolve, reject) => { video.onseeked = resolve; video.onerror = () => reject(new Error(`video error ${video.error && video.error.code}`)); });
    await video.play();
    await new Promise((resolve) => { video.onended = resolve; });
    return { before, after: h264.isH264Loaded(), frames: r.frames, duration: r.duration, mimeType: r.mimeType,
      played: { duration: video.duration, width: video.videoWidth, height: video.videoHeight,
        seekable: video.seekable.length ? video.seekable.end(0) : 0, decoded: video.getVideoPlaybackQuality().totalVideoFrames },
      bytes: Array.from(r.data) };
  });
  expect(out.before).toBe(false);
  expect(out.after).toBe(true);
  expect(out.frames).toBe(60);
  expect(out.duration).toBe(2);
  expect(out.mimeType).toMatch(/^video\/mp4; codecs="avc1\.42/);
  expect(Number.isFinite(out.played.duration)).toBe(true);
  expect(out.played).toMatchObject({ width: 160, height: 120 });
  expect(out.played.duration).toBeCloseTo(2, 2);
  expect(out.played.seekable).toBeCloseTo(2, 2);
  expect(out.played.decoded).toBeGreaterThan(0);
  const file = join(dir, 'page.mp4');
  writeFileSync(file, Uint8Array.from(out.bytes));
  expect(probe(file)).toEqual({ codec: 'h264', width: 160, height: 120, frames: 60, duration: 2 });
  expect(page.errors).toEqual([]);
}, 120_000);
