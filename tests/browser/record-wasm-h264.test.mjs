// createRecorder(canvas, { backend: 'wasm', codec: 'h264', container: 'mp4' }) in real Chromium:
// H.264 from OpenH264 in wasm (the capturekit-h264 module, in the record Worker), for browsers without
// WebCodecs, streamed through ondata as a fragmented MP4. Judges: ffprobe, a full ffmpeg decode,
// mediabunny, Chromium's <video> (finite duration, seekable, played).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, serveStatic, openPage } from './browser.mjs';
import { probeMp4 } from '../node/video/mp4-probe.mjs';

const N = 45;
const FPS = 30;
let browser, site, dir;
beforeAll(async () => {
  browser = await launchBrowser({ args: ['--autoplay-policy=no-user-gesture-required'] });
  site = await serveStatic();
  dir = mkdtempSync(join(tmpdir(), 'ck-record-wasm-h264-'));
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the wasm backend records H.264 into a fragmented MP4 that ffprobe, ffmpeg, mediabunny and <video> read whole', async () => {
  const page = await openPage(browser, `${site.url}/tests/browser/pages/record-canvas.html?ctx=2d`);
  try {
    await page.waitForFunction(() => window.ready);
    const r = await page.evaluate(([n, o]) => recordStreaming(n, o), [N, { backend: 'wasm', container: 'mp4', codec: 'h264', fps: FPS, bitrate: 800_000 }]);
    expect(r).toMatchObject({ backend: 'wasm', codec: 'h264', frames: N });
    expect(r.mimeType).toMatch(/^video\/mp4; codecs="avc1\.42[0-9a-f]{4}"$/);
    expect(r.duration).toBeCloseTo(N / FPS, 3);
    const file = join(dir, 'rec.mp4');
    const bytes = Buffer.from(r.b64, 'base64');
    writeFileSync(file, bytes);
    const j = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-count_packets', '-show_entries',
      'stream=codec_name,profile,nb_read_packets:format=duration', '-of', 'json', file], { encoding: 'utf8' }));
    expect(j.streams.map((s) => `${s.codec_name}:${s.profile}:${s.nb_read_packets}`)).toEqual([`h264:Constrained Baseline:${N}`]);
    expect(Number(j.format.duration)).toBeCloseTo(N / FPS, 1);
    const decode = spawnSync('ffmpeg', ['-v', 'error', '-xerror', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' });
    expect([decode.status, decode.stderr.trim()]).toEqual([0, '']);
    const mb = await probeMp4(new Uint8Array(bytes));
    expect(mb.tracks.map((t) => [t.type, t.codec, t.packets])).toEqual([['video', 'avc', N]]);
    const v = await page.evaluate(async (data) => {
      const u8 = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      const video = document.createElement('video');
      video.muted = true;
      document.body.appendChild(video);
      const once = (ev) => new Promise((resolve, reject) => {
        video.addEventListener(ev, resolve, { once: true });
        video.addEventListener('error', () => reject(new Error(`video error ${video.error?.code}`)), { once: true });
      });
      const loaded = once('loadedmetadata');
      video.src = URL.createObjectURL(new Blob([u8], { type: 'video/mp4' }));
      await loaded;
      const seeked = once('seeked');
      video.currentTime = video.duration / 2;
      await seeked;
      const at = video.currentTime;
      await video.play();
      await new Promise((res) => setTimeout(res, 200));
      const played = video.currentTime;
      video.pause();
      return { duration: video.duration, seekable: video.seekable.length ? video.seekable.end(0) : 0, at, played, width: video.videoWidth, height: video.videoHeight };
    }, r.b64);
    expect(Number.isFinite(v.duration)).toBe(true);
    expect(v.duration).toBeCloseTo(N / FPS, 1);
    expect(v.seekable).toBeCloseTo(v.duration, 2);
    expect(v.played).toBeGreaterThan(v.at);
    expect([v.width, v.height]).toEqual([320, 240]);
  } finally {
    await page.context().close();
  }
}, 120_000);
