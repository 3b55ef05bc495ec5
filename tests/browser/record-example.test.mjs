// examples/recording (served by npm start under /examples/recording/): Record, wait, Stop, in real
// Chromium; the recording plays in the page's <video> with a finite duration, and ffprobe agrees.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, serveStatic, openPage } from './browser.mjs';
import { probe } from '../node/video/video-fixtures.mjs';

let browser, site, dir;
beforeAll(async () => {
  browser = await launchBrowser();
  site = await serveStatic();
  dir = mkdtempSync(join(tmpdir(), 'ck-record-example-'));
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
  rmSync(dir, { recursive: true, force: true });
});

test.each([['wasm', 'fps'], ['webcodecs', 'realtime'], ['mediarecorder', 'realtime']])('Record / Stop with the %s backend (timing %s)', async (backend, timing) => {
  const page = await openPage(browser, `${site.url}/examples/recording/`);
  try {
    await page.waitForFunction(() => document.body.dataset.ready === 'true');
    await page.selectOption('#backend', backend);
    await page.selectOption('#timing', timing);
    await page.click('#rec');
    await page.waitForFunction(() => !document.getElementById('stop').disabled);
    await page.waitForTimeout(1200);
    await page.click('#stop');
    await page.waitForFunction(() => window.lastRecording || document.getElementById('error').textContent);
    expect(await page.textContent('#error')).toBe('');
    const r = await page.evaluate(async () => {
      const r = window.lastRecording;
      const v = document.getElementById('out');
      if (!(v.readyState >= 1)) await new Promise((res) => { v.onloadedmetadata = res; });
      const bytes = new Uint8Array(await r.blob.arrayBuffer());
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
      return { backend: r.backend, frames: r.frames, duration: r.duration, videoDuration: v.duration, width: v.videoWidth, b64: btoa(s), stats: document.getElementById('stats').textContent, download: document.getElementById('download').hidden };
    });
    expect(r.backend).toBe(backend);
    // (MediaRecorder decides itself how many frames it keeps; on this loaded machine it can be few.)
    expect(r.frames).toBeGreaterThanOrEqual(backend === 'mediarecorder' ? 2 : 4);
    expect(Number.isFinite(r.videoDuration)).toBe(true);
    expect(Math.abs(r.videoDuration - r.duration)).toBeLessThan(0.05);
    expect(r.width).toBe(640);
    expect(r.download).toBe(false);
    expect(r.stats).toMatch(new RegExp(`^${backend}: `));
    const file = join(dir, `${backend}.webm`);
    writeFileSync(file, Buffer.from(r.b64, 'base64'));
    const p = probe(file);
    expect(p).toMatchObject({ width: 640, height: 480, frames: r.frames });
    expect(p.duration).toBeCloseTo(r.duration, 2);
    // The cube is in the picture (not a cleared or empty drawing buffer): the centre is not the background.
    const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-vf', `select=eq(n\\,${Math.min(2, r.frames - 1)})`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 26 });
    const c = ((240 * 640) + 320) * 3;
    expect(Math.max(raw[c], raw[c + 1], raw[c + 2])).toBeGreaterThan(100);
    expect(page.errors).toEqual([]);
  } finally {
    await page.context().close();
  }
});
