// Recording the next video while the previous one uploads. The wasm recorder (its
// encoder in a Worker) keeps every frame it is given, and the earlier recording keeps uploading during
// the new recording; both end on the reference server, byte-identical, and ffprobe counts every frame.
import { execFileSync } from 'node:child_process';
import { useServerAndBrowser } from './server-and-browser.mjs';
import { verifyServer, captureBytes, tempFile } from '../node/upload/uploader.helpers.mjs';

const FRAMES = 90;
const env = useServerAndBrowser();

test('a wasm recording made while the previous recording uploads drops no frame, and the upload keeps going', async () => {
  const context = await env.browser.newContext();
  let openGate;
  try {
    const page = await context.newPage();
    page.errors = [];
    page.on('pageerror', (e) => page.errors.push(String(e)));
    await page.goto(env.srv.page({ part: String(256 * 1024), name: 'scenario5' }));
    await page.evaluate(() => window.appReady);
    // The overlap must not depend on the machine's speed: each part takes 60 ms on the server, and
    // from the 16th part on the server holds the parts until the test opens the gate after the
    // recording stopped, so the previous upload is still going when the recording ends.
    let parts = 0;
    const gate = new Promise((r) => { openGate = r; });
    env.srv.delays['/videos/chunk'] = async () => {
      parts++;
      await new Promise((r) => setTimeout(r, 60));
      if (parts >= 16) await gate;
    };

    const result = await page.evaluate(async (frames) => {
      const { ck, uploader } = window.app;
      // 1. The previous recording: 6 MiB stored, then uploading in 256 KiB parts.
      const previous = await window.app.fakeVideo(5, 6 * 1024 * 1024, 256 * 1024);
      let partsDuring = 0;
      let recording = false;
      let firstPart;
      const uploading = new Promise((r) => { firstPart = r; });
      uploader.addEventListener('partuploaded', (e) => {
        if (e.detail.itemId !== previous.id) return;
        firstPart();
        if (recording) partsDuring++;
      });
      await uploading; // the previous upload is under way before the next recording starts

      // 2. The next recording, frame-exact with the wasm backend, on a changing 2D canvas.
      const canvas = document.createElement('canvas');
      canvas.width = 320; canvas.height = 240;
      document.body.append(canvas);
      const g = canvas.getContext('2d');
      const rec = await ck.createRecorder(canvas, { backend: 'wasm', codec: 'vp8', fps: 30, frames: 'manual', maxQueuedFrames: 4 });
      recording = true;
      const t0 = performance.now();
      for (let i = 0; i < frames; i++) {
        g.fillStyle = `hsl(${(i * 4) % 360} 70% 50%)`;
        g.fillRect(0, 0, 320, 240);
        g.fillStyle = '#fff';
        g.fillRect((i * 3) % 300, 100, 20, 20);
        await rec.ready; // wait instead of being refused
        await rec.captureFrame();
        await new Promise((r) => setTimeout(r, 1000 / 30)); // a real-time render loop: 3 s in all
      }
      const stopped = await rec.stop();
      recording = false;
      const ms = performance.now() - t0;
      const pendingAtStop = uploader.getProgress().pending;
      const file = new Uint8Array(await stopped.blob.arrayBuffer());
      return {
        previous, partsDuring, ms, pendingAtStop,
        frames: stopped.frames, skipped: rec.skippedFrames, file: Array.from(file),
      };
    }, FRAMES);
    openGate();
    delete env.srv.delays['/videos/chunk'];

    // The recorder kept every frame: in its own count and in the file, by ffprobe.
    expect(result.frames).toBe(FRAMES);
    expect(result.skipped).toBe(0);
    const file = await tempFile(Buffer.from(result.file), 'scenario5.webm');
    const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-show_entries',
      'stream=nb_read_frames:format=duration', '-of', 'json', file], { encoding: 'utf8' }));
    expect(Number(probe.streams[0].nb_read_frames)).toBe(FRAMES);
    expect(Number(probe.format.duration)).toBeCloseTo(FRAMES / 30, 1);

    // The previous recording kept uploading while the new one was recorded, and arrives intact.
    expect(result.partsDuring).toBeGreaterThan(0);
    expect(result.pendingAtStop).toBeGreaterThan(0); // still uploading when the recording ended: they overlapped
    await page.evaluate(() => window.app.uploader.whenIdle());
    const v = await verifyServer(env.srv, [result.previous]);
    expect([v.arrived, v.identical, v.duplicates]).toEqual([1, 1, 0]);
    expect((await captureBytes(env.srv, v.byClient.get(result.previous.id)[0])).length).toBe(result.previous.size);
    expect(page.errors).toEqual([]);
  } finally {
    openGate?.();
    await context.close();
  }
});
