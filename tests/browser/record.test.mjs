// createRecorder on canvases in real Chromium: the wasm backend (libvpx in the record Worker) and the
// WebCodecs backend (the browser's VideoEncoder + capturekit's muxer), judged by ffprobe -count_frames,
// ffmpeg decodes of single frames, mkvinfo and capturekit's own WebM reader. The page draws a picture
// that depends only on the frame number (record-canvas.html): top half red, bottom half blue, a white
// square moving 4 px per frame.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, serveStatic, openPage } from './browser.mjs';
import { probe } from '../node/video/video-fixtures.mjs';
import { inspectWebm, readFrameMetadata } from '../../js-glue/index.js';

let browser, site, dir;
beforeAll(async () => {
  browser = await launchBrowser();
  site = await serveStatic();
  dir = mkdtempSync(join(tmpdir(), 'ck-record-'));
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function recordPage(query = '') {
  const page = await openPage(browser, `${site.url}/tests/browser/pages/record-canvas.html${query}`);
  await page.waitForFunction(() => window.ready);
  return page;
}

let saved = 0;
function save(r) {
  const file = join(dir, `rec-${saved++}.webm`);
  const bytes = Buffer.from(r.b64, 'base64');
  writeFileSync(file, bytes);
  return { file, bytes: new Uint8Array(bytes) };
}

/** Frame n of the file decoded by ffmpeg: a pixel reader (x, y) -> [r, g, b]. */
function decodeFrame(file, n, width, height) {
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-vf', `select=eq(n\\,${n})`, '-frames:v', '1',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 26 });
  expect(raw.length).toBe(width * height * 3);
  return (x, y) => Array.from(raw.subarray((y * width + x) * 3, (y * width + x) * 3 + 3));
}

const near = (got, want, tol = 24) => got.every((v, i) => Math.abs(v - want[i]) <= tol);

/** The picture record-canvas.html draws for frame i: orientation and the moving square. */
function expectPicture(file, n, width, height) {
  const px = decodeFrame(file, n, width, height);
  expect(near(px(4, 4), [255, 0, 0])).toBe(true);                    // top: red
  expect(near(px(4, height - 5), [0, 0, 255])).toBe(true);           // bottom: blue
  const sq = Math.max(8, width >> 3);
  const sx = (n * 4) % Math.max(1, width - sq);
  expect(near(px(sx + (sq >> 1), height >> 1), [255, 255, 255], 40)).toBe(true); // the square of frame n
}

describe.each([
  ['wasm', 'vp8', 'webgl2'],
  ['wasm', 'vp9', 'webgl'],
  ['wasm', 'vp8', '2d'],
  ['webcodecs', 'vp9', 'webgl2'],
  ['webcodecs', 'vp8', '2d'],
])('%s backend, %s, %s canvas', (backend, codec, ctx) => {
  const N = 30;
  const FPS = 30;
  let page, r, file, bytes;
  beforeAll(async () => {
    page = await recordPage(`?ctx=${ctx}`);
    r = await page.evaluate(([o, n]) => recordManual(n, o), [{ backend, codec, fps: FPS, bitrate: 800_000 }, N]);
    ({ file, bytes } = save(r));
  });
  afterAll(async () => { await page?.context().close(); });

  test('N frames in, exactly N frames out, lasting N / fps (ffprobe -count_frames)', () => {
    expect(r.info).toEqual({ backend, codec, mimeType: `video/webm;codecs=${codec}`, width: 320, height: 240 });
    expect(r).toMatchObject({ complete: true, backend, codec, frames: N, duration: N / FPS, averageFps: FPS, skippedFrames: 0, width: 320, height: 240 });
    expect(r.bytes).toBe(bytes.length);
    expect(r.blobSize).toBe(bytes.length);
    expect(r.blobType).toBe(`video/webm;codecs=${codec}`);
    expect(probe(file)).toEqual({ codec, width: 320, height: 240, frames: N, duration: N / FPS });
  });

  test('frames are upright and in order (ffmpeg decodes of the first, a middle and the last frame)', () => {
    for (const n of [0, 13, N - 1]) expectPicture(file, n, 320, 240);
  });

  test('seekable: cues, one per keyframe cluster, and the file parses with mkvinfo', () => {
    const s = inspectWebm(bytes);
    expect(s.videoFrames).toBe(N);
    expect(s.cuePoints).toBeGreaterThanOrEqual(1);
    expect(s.cuePoints).toBe(s.keyframes);
    expect(s.truncated).toBe(false);
    expect(execFileSync('mkvinfo', ['-a', file], { encoding: 'utf8' })).toMatch(/Cue point/);
  });

  test('the result metadata describes the recording', () => {
    expect(r.metadata).toMatchObject({ backend, codec, width: 320, height: 240, fps: FPS, timing: 'fps', frameCount: N, duration: N / FPS, bytes: bytes.length });
    expect(Date.parse(r.metadata.ended)).toBeGreaterThanOrEqual(Date.parse(r.metadata.started));
  });
});

describe('options and modes', () => {
  let page;
  beforeAll(async () => { page = await recordPage(); });
  afterAll(async () => { await page?.context().close(); });

  test('auto picks WebCodecs here for VP9 at an even size', async () => {
    const r = await page.evaluate(() => recordManual(5, { codec: 'vp9' }));
    expect(r.info.backend).toBe('webcodecs');
    expect(r.frames).toBe(5);
  });

  test('keyframe interval: every k-th frame is a keyframe, with a cue point each', async () => {
    for (const backend of ['wasm', 'webcodecs']) {
      const r = await page.evaluate(([b]) => recordManual(30, { backend: b, keyframeInterval: 10 }), [backend]);
      const s = inspectWebm(save(r).bytes);
      expect([backend, s.frames.filter((f) => f.keyframe).map((f) => f.index)]).toEqual([backend, [0, 10, 20]]);
      expect(s.cuePoints).toBe(3);
      expect(r.keyframes).toBe(3);
    }
  });

  test('size: frames are scaled to options.size', async () => {
    for (const backend of ['wasm', 'webcodecs']) {
      const r = await page.evaluate(([b]) => recordManual(6, { backend: b, size: { width: 160, height: 120 } }), [backend]);
      const { file } = save(r);
      expect(probe(file)).toMatchObject({ width: 160, height: 120, frames: 6 });
      const px = decodeFrame(file, 0, 160, 120);
      expect(near(px(4, 4), [255, 0, 0])).toBe(true);
      expect(near(px(4, 115), [0, 0, 255])).toBe(true);
    }
  });

  test('streaming: ondata gets appends in order plus header overwrites; writing each at its offset gives the file', async () => {
    for (const backend of ['wasm', 'webcodecs']) {
      const r = await page.evaluate(([b]) => recordStreaming(30, { backend: b, codec: 'vp8' }), [backend]);
      expect(r.b64).not.toBeNull();
      const { file, bytes } = save(r);
      expect(r.size).toBe(r.bytes);
      expect(bytes.length).toBe(r.bytes);
      expect(r.blobSize).toBeNull(); // streaming: no in-memory copy
      expect(r.overwrites).toBeGreaterThan(0);
      expect(r.calls).toBeGreaterThan(r.overwrites);
      expect(probe(file)).toEqual({ codec: 'vp8', width: 320, height: 240, frames: 30, duration: 1 });
    }
  });

  test('auto mode (timing fps): every animation frame after the start is recorded, none skipped', async () => {
    const r = await page.evaluate(() => recordAuto(400, { backend: 'wasm', timing: 'fps', fps: 60, maxQueuedFrames: 64 }));
    const { file } = save(r);
    expect(r.skippedFrames).toBe(0);
    expect(r.frames).toBeGreaterThan(3);
    // The recorder takes the frame the app drew last in each animation frame; stop() may land before
    // the app's final draw is taken, never after.
    expect(r.frames).toBeLessThanOrEqual(r.info.drawnWhileRecording + 1);
    const p = probe(file);
    expect(p.frames).toBe(r.frames);
    expect(p.duration).toBeCloseTo(r.frames / 60, 5); // ffprobe prints 6 decimals
  });

  test('auto mode (timing realtime): frames carry their times, at most fps per second', async () => {
    const r = await page.evaluate(() => recordAuto(600, { backend: 'wasm', timing: 'realtime', fps: 10, frameMetadata: true }));
    const { file, bytes } = save(r);
    const p = probe(file);
    expect(p.frames).toBe(r.frames);
    expect(r.frames).toBeGreaterThanOrEqual(2);
    expect(r.frames).toBeLessThanOrEqual(8); // 0.6 s at 10 fps, plus slack for the start and stop
    const md = readFrameMetadata(bytes);
    expect(md).toHaveLength(r.frames);
    // Block times follow the frame times (ms, rounded), starting at zero.
    md.forEach((m, i) => expect(Math.abs(m.timestamp - m.metadata.elapsed)).toBeLessThanOrEqual(1));
    // At most fps frames per second: frame i is taken no earlier than i / fps (less a 4 ms slack for
    // display jitter); the schedule is a grid, so single gaps may be shorter after a late frame.
    md.forEach((m, i) => expect(m.metadata.elapsed).toBeGreaterThanOrEqual(i * 100 - 4 - 1e-6));
  });

  test('odd frame sizes record at their own size (wasm; auto avoids WebCodecs there)', async () => {
    const odd = await recordPage('?w=321&h=241');
    try {
      const r = await odd.evaluate(() => recordManual(8, {}));
      expect(r.info.backend).toBe('wasm');
      const { file } = save(r);
      expect(probe(file)).toMatchObject({ width: 321, height: 241, frames: 8 });
      expectPicture(file, 7, 321, 241);
    } finally {
      await odd.context().close();
    }
  });

  test('addFrame with given frames (source null), per-frame metadata read back from the file', async () => {
    const r = await page.evaluate(async () => {
      const rec = await ck.createRecorder(null, { codec: 'vp9' });
      const frames = [];
      for (let i = 0; i < 12; i++) {
        const data = new Uint8Array(64 * 48 * 4).fill(i * 20);
        await rec.ready;
        frames.push(rec.addFrame({ data, width: 64, height: 48 }, { metadata: { i, note: 'é' } }));
      }
      await Promise.all(frames);
      return pack(await rec.stop(), { backend: rec.backend });
    });
    const { file, bytes } = save(r);
    expect(probe(file)).toMatchObject({ codec: 'vp9', width: 64, height: 48, frames: 12, duration: 0.4 });
    expect(readFrameMetadata(bytes).map((m) => m.metadata)).toEqual(Array.from({ length: 12 }, (_, i) => ({ i, note: 'é' })));
    expect(r.metadata.frames).toEqual(Array.from({ length: 12 }, (_, i) => ({ i, note: 'é' })));
  });
});

describe('bad input and misuse: clear Errors, and a partial file is never reported complete', () => {
  let page;
  beforeAll(async () => { page = await recordPage(); });
  afterAll(async () => { await page?.context().close(); });


  test.each([
    ['absurd size', { size: { width: 100000, height: 100 } }, 'RangeError', /size\.width must be between 2 and 8192, got 100000/],
    ['zero size', { size: { width: 0, height: 100 } }, 'RangeError', /size\.width must be between 2 and 8192/],
    ['fractional size', { size: { width: 100.5, height: 100 } }, 'RangeError', /size\.width must be an integer/],
    ['fps 0', { fps: 0 }, 'RangeError', /fps must be between 0\.1 and 240, got 0/],
    ['fps 10000', { fps: 10000 }, 'RangeError', /fps must be between 0\.1 and 240/],
    ['fps NaN', { fps: NaN }, 'RangeError', /fps must be a number, got NaN/],
    ['bitrate 1', { bitrate: 1 }, 'RangeError', /bitrate \(bits per second\) must be between/],
    ['bitrate 1e15', { bitrate: 1e15 }, 'RangeError', /bitrate \(bits per second\) must be between/],
    ['keyframeInterval 0', { keyframeInterval: 0 }, 'RangeError', /keyframeInterval \(frames\) must be between 1/],
    ['speed without wasm', { speed: 5 }, 'TypeError', /speed .* only applies to backend "wasm"/],
    ['vp9 speed out of range', { backend: 'wasm', codec: 'vp9', speed: 1 }, 'RangeError', /speed for vp9 must be between 5 and 9/],
    ['h264 on wasm', { backend: 'wasm', codec: 'h264' }, 'RangeError', /codec .* must be one of "vp8", "vp9"/],
    ['unknown backend', { backend: 'ffmpeg' }, 'RangeError', /backend must be one of "auto", "wasm", "webcodecs", "mediarecorder"/],
    ['unknown option', { quality: 3 }, 'TypeError', /unknown option "quality"/],
    ['ondata not a function', { ondata: 3 }, 'TypeError', /ondata must be a function/],
    ['maxQueuedFrames 0', { maxQueuedFrames: 0 }, 'RangeError', /maxQueuedFrames must be between 1 and 1024/],
  ])('createRecorder with %s', async (_, options, name, message) => {
    const e = await page.evaluate((o) => errorOf(() => ck.createRecorder(document.getElementById('c'), o)), options);
    expect(e).toMatchObject({ name, isError: true });
    expect(e.message).toMatch(message);
  });

  test('a source that is not a canvas or XR session', async () => {
    const e = await page.evaluate(() => errorOf(() => ck.createRecorder({ width: 3 })));
    expect(e).toMatchObject({ name: 'TypeError' });
    expect(e.message).toMatch(/source must be an HTMLCanvasElement, an OffscreenCanvas, an XRSession, or null/);
  });

  test('frames of the wrong size and of the wrong byte length', async () => {
    const out = await page.evaluate(async () => {
      const rec = await ck.createRecorder(null, { backend: 'wasm' });
      rec.addFrame({ data: new Uint8Array(32 * 32 * 4), width: 32, height: 32 });
      const wrongSize = await errorOf(() => rec.addFrame({ data: new Uint8Array(16 * 32 * 4), width: 16, height: 32 }));
      const wrongBytes = await errorOf(() => rec.addFrame({ data: new Uint8Array(100), width: 32, height: 32 }));
      const notImage = await errorOf(() => rec.addFrame('pixels'));
      rec.addFrame({ data: new Uint8Array(32 * 32 * 4), width: 32, height: 32 });
      const r = await rec.stop();
      return { wrongSize, wrongBytes, notImage, frames: r.frames };
    });
    expect(out.wrongSize).toMatchObject({ name: 'RangeError' });
    expect(out.wrongSize.message).toMatch(/frame is 16x32 but the recording is 32x32; pass options.size/);
    expect(out.wrongBytes.message).toMatch(/image.data has 100 bytes but 32x32 RGBA needs 4096/);
    expect(out.notImage).toMatchObject({ name: 'TypeError' });
    expect(out.frames).toBe(2); // the refused frames changed nothing
  });

  test('stop() twice, and writing after stop', async () => {
    const out = await page.evaluate(async () => {
      const rec = await ck.createRecorder(document.getElementById('c'), { backend: 'wasm', frames: 'manual' });
      draw(0); rec.captureFrame();
      const first = rec.stop();
      const second = await errorOf(() => rec.stop());
      const r = await first;
      const third = await errorOf(() => rec.stop());
      const add = await errorOf(() => rec.addFrame({ data: new Uint8Array(320 * 240 * 4), width: 320, height: 240 }));
      const cap = await errorOf(() => rec.captureFrame());
      return { second, third, add, cap, frames: r.frames, state: rec.state };
    });
    expect(out.frames).toBe(1);
    expect(out.state).toBe('stopped');
    expect(out.second).toMatchObject({ name: 'Error', isError: true });
    expect(out.second.message).toMatch(/stop\(\) was already called/);
    expect(out.third.message).toMatch(/already stopped/);
    expect(out.add.message).toMatch(/recorder.addFrame: the recording is stopped/);
    expect(out.cap.message).toMatch(/recorder.captureFrame: the recording is stopped/);
  });

  test('no frames: stop() rejects (there is no video), nothing is reported complete', async () => {
    const e = await page.evaluate(async () => {
      const rec = await ck.createRecorder(null, {});
      return errorOf(() => rec.stop());
    });
    expect(e.message).toMatch(/no frames were recorded/);
  });

  test('ondata failing stops the recording: stop() rejects, never a complete result', async () => {
    const out = await page.evaluate(async () => {
      let calls = 0;
      const errors = [];
      const rec = await ck.createRecorder(document.getElementById('c'), {
        backend: 'wasm', frames: 'manual', ondata: () => { if (++calls === 3) throw new Error('disk full'); },
        onerror: (e) => errors.push(e.message),
      });
      const added = [];
      for (let i = 0; i < 10; i++) { try { await rec.ready; draw(i); added.push(rec.captureFrame()); } catch (e) { break; } }
      await Promise.allSettled(added);
      const stop = await errorOf(() => rec.stop());
      return { stop, state: rec.state, errors };
    });
    expect(out.state).toBe('failed');
    expect(out.stop.message).toMatch(/ondata failed, the recording is stopped: disk full/);
    expect(out.errors[0]).toMatch(/disk full/);
  });

  test('backpressure: past maxQueuedFrames addFrame refuses with an Error and an event; nothing is dropped silently', async () => {
    const out = await page.evaluate(async () => {
      const rec = await ck.createRecorder(null, { backend: 'wasm', maxQueuedFrames: 2, size: { width: 640, height: 480 } });
      const events = [];
      rec.addEventListener('backpressure', (e) => events.push(e.detail));
      const img = { data: new Uint8Array(640 * 480 * 4).fill(90), width: 640, height: 480 };
      const accepted = [];
      let refused = null;
      for (let i = 0; i < 5 && !refused; i++) {
        try { accepted.push(rec.addFrame(img)); } catch (e) { refused = { name: e.name, message: e.message }; }
      }
      const desired = rec.desiredSize;
      await rec.ready;
      accepted.push(rec.addFrame(img));
      await Promise.all(accepted);
      const r = await rec.stop();
      return { refused, events, accepted: accepted.length, frames: r.frames, desired };
    });
    expect(out.refused.message).toMatch(/2 frames are waiting to be encoded \(maxQueuedFrames 2\); wait for `await recorder.ready`/);
    expect(out.desired).toBe(0);
    expect(out.events[0]).toMatchObject({ what: 'refused', queued: 2, maxQueuedFrames: 2 });
    expect(out.frames).toBe(out.accepted);
    expect(out.accepted).toBe(3);
  });

  test('abort(): stop() afterwards rejects; the recorder is unusable', async () => {
    const out = await page.evaluate(async () => {
      const rec = await ck.createRecorder(null, {});
      rec.addFrame({ data: new Uint8Array(16 * 16 * 4), width: 16, height: 16 });
      rec.abort();
      return { stop: await errorOf(() => rec.stop()), add: await errorOf(() => rec.addFrame({ data: new Uint8Array(16 * 16 * 4), width: 16, height: 16 })), state: rec.state };
    });
    expect(out.state).toBe('aborted');
    expect(out.stop.message).toMatch(/aborted/);
    expect(out.add.message).toMatch(/aborted/);
  });
});
