// <record-button> in real Chromium: Record / Stop on an animated canvas, the recording streamed to the
// reference server while it is recorded (seekable: part 0 last) through a real IndexedDB uploader, the
// review step (keep / discard, a <video> preview), download, max-duration, and clear errors.
// Judges: ffprobe / mkvinfo / ffmpeg on the files the server stored and the blobs the page produced.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { openPage } from './browser.mjs';
import { useServerAndBrowser } from './server-and-browser.mjs';
import { verifyServer, captureBytes, tempFile } from '../node/upload/uploader.helpers.mjs';

const env = useServerAndBrowser();
let context;
afterEach(async () => {
  await context?.close();
  context = null;
});

let seq = 0;
async function openButtonPage(query = {}) {
  const page = await openPage(env.browser, env.srv.page({ name: `rb${++seq}`, ...query }, 'record-button.html'),
    { contextOptions: { acceptDownloads: true } });
  context = page.context();
  await page.evaluate(() => window.appReady);
  return page;
}

const click = (page) => page.click('#rb');
const events = (page) => page.evaluate(() => window.events);
const waitEvent = (page, type, count = 1) => page.waitForFunction(([t, n]) => window.events.filter((e) => e.type === t).length >= n, [type, count], { timeout: 60_000 });

/** With review and download on: Record, wait `ms`, Stop, and wait for the review panel to open. */
async function recordIntoReview(page, ms) {
  await page.evaluate(() => {
    const b = document.getElementById('rb');
    b.setAttribute('review', '');
    b.setAttribute('download', '');
  });
  await click(page);
  await waitEvent(page, 'recordingstart');
  await page.waitForTimeout(ms);
  await click(page);
  await page.waitForFunction(() => document.querySelector('capture-review')?.hasAttribute('open'));
}

function probe(file) {
  const j = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries',
    'stream=codec_name,width,height,nb_read_frames:format=duration', '-of', 'json', file], { encoding: 'utf8' }));
  return { codec: j.streams[0].codec_name, width: j.streams[0].width, height: j.streams[0].height,
    frames: Number(j.streams[0].nb_read_frames), duration: Number(j.format.duration) };
}

// The MD5 of every decoded frame, in order (no frame dropped or repeated: -vsync 0); with `pre` =
// ['-ss', t] before -i, ffmpeg seeks through the cues and decodes from there up to t.
function frameMd5s(file, pre = []) {
  const out = execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...pre, '-i', file, '-vsync', '0', '-f', 'framemd5', '-'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(',').pop().trim());
}

// Each video packet's time (seconds), in order.
function packetTimes(file) {
  const out = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', file], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean).map(Number);
}

test('Record / Stop with an uploader: the recording uploads while it is recorded, part 0 last, and the server holds a seekable file', async () => {
  const page = await openButtonPage({ upload: '1', part: String(64 * 1024) });
  await click(page);
  await waitEvent(page, 'recordingstart');
  // Parts other than part 0 reach the server while the recording goes on.
  await page.waitForFunction(() => window.parts.length >= 2, null, { timeout: 60_000 });
  const during = await page.evaluate(() => ({
    parts: [...window.parts], recording: document.getElementById('rb').recording,
    attr: document.getElementById('rb').hasAttribute('recording'),
    time: document.getElementById('rb').shadowRoot.querySelector('.time').textContent,
  }));
  expect(during.parts).not.toContain(0);
  expect(during.recording).toBe(true);
  expect(during.attr).toBe(true);
  await page.waitForTimeout(1200);
  expect(await page.evaluate(() => document.getElementById('rb').shadowRoot.querySelector('.time').textContent)).not.toBe('0:00');
  await click(page);
  await waitEvent(page, 'recording');
  const ev = (await events(page)).find((e) => e.type === 'recording');
  expect(ev.recordingAttr).toBe(false);
  expect(ev.result.hasBlob).toBe(false); // streamed, not kept in memory
  expect(ev.result.frames).toBeGreaterThan(20);
  expect(ev.upload).toEqual({ itemId: expect.any(String), bytes: ev.result.bytes, parts: expect.any(Number) });
  expect(ev.upload.parts).toBeGreaterThanOrEqual(4);
  await page.evaluate(() => window.uploader.whenIdle());
  const parts = await page.evaluate(() => window.parts);
  expect(parts[parts.length - 1]).toBe(0);
  expect([...parts].sort((a, b) => a - b)).toEqual(Array.from({ length: ev.upload.parts }, (_, i) => i));

  const v = await verifyServer(env.srv, []);
  const stored = v.byClient.get(ev.upload.itemId);
  expect(stored).toHaveLength(1);
  const bytes = await captureBytes(env.srv, stored[0]);
  expect(bytes.length).toBe(ev.result.bytes);
  const file = await tempFile(bytes, 'record-button.webm');
  const p = probe(file);
  expect(p).toMatchObject({ codec: 'vp8', width: 320, height: 240, frames: ev.result.frames });
  expect(Math.abs(p.duration - ev.result.duration)).toBeLessThan(0.1);
  const info = execFileSync('mkvinfo', ['--all', file], { encoding: 'utf8', maxBuffer: 1 << 26 });
  expect(info).toMatch(/\+ Seek head/);
  expect(info).toMatch(/\+ Cues/);
  expect(info).toMatch(/\+ Duration: /);
  expect(info).not.toMatch(/size is unknown|unknown size/i);
  // Seeking to the middle decodes the same frame as a full decode at that time.
  const all = frameMd5s(file);
  const times = packetTimes(file);
  expect(all).toHaveLength(ev.result.frames);
  const k = Math.floor(all.length / 2) + 1; // not a keyframe (one every 15): decoding starts before it
  const seeked = frameMd5s(file, ['-ss', String(times[k])]);
  expect(seeked[0]).toBe(all[k]);
  expect(seeked[0]).not.toBe(all[k - 1]);
  expect(seeked).toHaveLength(all.length - k);
  expect(page.errors).toEqual([]);
});

test('review: Keep shows the recording in a <video> first, then downloads it and queues it; the server file is the reviewed file', async () => {
  const page = await openButtonPage({ upload: '1' });
  await recordIntoReview(page, 1000);
  // The review panel is open with the recording playing in a <video>; nothing is uploaded yet.
  const shown = await page.evaluate(async () => {
    const review = document.querySelector('capture-review');
    const video = review.shadowRoot.querySelector('video');
    await new Promise((r) => (video.readyState >= 1 ? r() : video.addEventListener('loadedmetadata', r, { once: true })));
    return {
      videoHidden: video.hidden, imgHidden: review.shadowRoot.querySelector('img').hidden,
      width: video.videoWidth, height: video.videoHeight, info: review.shadowRoot.querySelector('.info').textContent,
      download: review.shadowRoot.querySelector('a').download, pending: window.uploader.getProgress().pending,
    };
  });
  expect(shown).toMatchObject({ videoHidden: false, imgHidden: true, width: 320, height: 240, pending: 0 });
  expect(shown.info).toMatch(/^320 × 240 · \d+\.\d s · \d+ frames · video\/webm · /);
  expect(shown.download).toMatch(/^recording_\d{8}_\d{6}\.webm$/);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.evaluate(() => document.querySelector('capture-review').keep()),
  ]);
  expect(download.suggestedFilename()).toMatch(/^recording_\d{8}_\d{6}\.webm$/);
  await waitEvent(page, 'recording');
  const ev = (await events(page)).find((e) => e.type === 'recording');
  expect(ev.result.hasBlob).toBe(true);
  const blob = Buffer.from(await page.evaluate(() => window.blobBase64()), 'base64');
  expect(blob.length).toBe(ev.result.bytes);
  const p = probe(await tempFile(blob, 'reviewed.webm'));
  expect(p).toMatchObject({ codec: 'vp8', frames: ev.result.frames });
  // Queued after Keep, and the server's file is byte-identical to the reviewed one.
  expect(ev.upload).toEqual({ itemId: expect.any(String), bytes: blob.length, parts: expect.any(Number) });
  await page.evaluate(() => window.uploader.whenIdle());
  const sha256 = createHash('sha256').update(blob).digest('hex');
  const v = await verifyServer(env.srv, [{ id: ev.upload.itemId, sha256, size: blob.length }]);
  expect([v.arrived, v.identical, v.duplicates]).toEqual([1, 1, 0]);
  expect(page.errors).toEqual([]);
});

test('review: Discard fires recordingdiscard and keeps, downloads and uploads nothing', async () => {
  const page = await openButtonPage({ upload: '1' });
  let downloads = 0;
  page.on('download', () => downloads++);
  await recordIntoReview(page, 500);
  await page.keyboard.press('Escape');
  await waitEvent(page, 'recordingdiscard');
  await page.waitForTimeout(300);
  const evs = await events(page);
  expect(evs.map((e) => e.type)).toEqual(['recordingstart', 'recordingdiscard']);
  expect(evs[1].result.frames).toBeGreaterThan(0);
  expect(downloads).toBe(0);
  expect(await page.evaluate(() => window.uploader.items().length)).toBe(0);
  expect(await page.evaluate(() => document.querySelector('capture-review'))).toBeNull(); // the temporary panel is gone
});

test('max-duration stops the recording by itself; the button can record again', async () => {
  const page = await openButtonPage();
  await page.evaluate(() => document.getElementById('rb').setAttribute('max-duration', '0.8'));
  await click(page);
  await waitEvent(page, 'recording');
  await click(page);
  await waitEvent(page, 'recording', 2);
  const evs = (await events(page)).filter((e) => e.type === 'recording');
  for (const e of evs) {
    expect(e.result.hasBlob).toBe(true);
    expect(e.result.frames).toBeGreaterThan(1);
    expect(e.result.duration).toBeLessThan(1.2); // stopped 0.8 s after it started, by itself
  }
  expect(page.errors).toEqual([]);
});

test('bad set-ups end in recordingerror with a clear message, and the button stays usable', async () => {
  const page = await openButtonPage();
  const cases = [
    [() => document.getElementById('rb').setAttribute('target', '#missing'), /record-button: no target canvas/],
    [() => document.getElementById('rb').setAttribute('codec', 'h265'), /options\.codec/],
    [() => document.getElementById('rb').setAttribute('max-duration', '-1'), /RangeError: record-button: max-duration must be a number of seconds > 0, got "-1"/],
    [() => document.getElementById('rb').setAttribute('fps', 'fast'), /options\.fps/],
    [() => { document.getElementById('rb').uploader = {}; }, /TypeError: record-button: uploader must be an Uploader/],
  ];
  // The page's button back to its markup's set-up, with no events yet.
  const resetButton = () => {
    const b = document.getElementById('rb');
    for (const a of ['codec', 'max-duration', 'fps']) b.removeAttribute(a);
    b.setAttribute('target', '#scene');
    b.uploader = null;
    window.events.length = 0;
  };
  for (const [setup, message] of cases) {
    await page.evaluate(resetButton);
    await page.evaluate(setup);
    await click(page);
    await waitEvent(page, 'recordingerror');
    const evs = await events(page);
    expect(evs.map((e) => e.type)).toEqual(['recordingerror']);
    expect(evs[0].error).toMatch(message);
    expect(await page.evaluate(() => document.getElementById('rb').recording)).toBe(false);
  }
  // After all that, a plain recording works.
  await page.evaluate(resetButton);
  await click(page);
  await waitEvent(page, 'recordingstart');
  await page.waitForTimeout(400);
  await click(page);
  await waitEvent(page, 'recording');
  expect(page.errors).toEqual([]);
});

test('journal: a recording whose page went away without Stop is recovered on the next visit, with the button\'s metadata', async () => {
  const page = await openButtonPage();
  const url = page.url();
  await page.evaluate(() => {
    const b = document.getElementById('rb');
    b.setAttribute('journal', '');
    b.metadata = { scene: 'noise' };
  });
  await click(page);
  await waitEvent(page, 'recordingstart');
  await page.waitForTimeout(1500);
  await page.close(); // no Stop: the tab is gone
  const again = await context.newPage();
  await again.goto(url);
  await again.evaluate(() => window.appReady);
  const out = await again.evaluate(async () => {
    const { recoverRecordings } = await import('/js-glue/index.js');
    const recovered = [];
    const results = await recoverRecordings({ onrecovered: (e) => recovered.push({ frames: e.frames, metadata: e.metadata }) });
    return { results: results.map(({ blob, ...r }) => ({ ...r, blobSize: blob ? blob.size : 0 })), recovered };
  });
  expect(out.results).toHaveLength(1);
  expect(out.results[0]).toMatchObject({ status: 'recovered' });
  expect(out.results[0].frames).toBeGreaterThan(10);
  expect(out.recovered[0].metadata).toMatchObject({ scene: 'noise', filename: expect.stringMatching(/^recording_\d{8}_\d{6}\.webm$/) });
});

test('moved in the page, the recording goes on; removed from the page, it is aborted and reported, nothing is uploaded', async () => {
  const page = await openButtonPage({ upload: '1' });
  await click(page);
  await waitEvent(page, 'recordingstart');
  await page.waitForTimeout(500);
  const out = await page.evaluate(async () => {
    const b = document.getElementById('rb');
    // Moving the button elsewhere in the page is not a removal: the recording goes on.
    const box = document.createElement('div');
    document.body.append(box);
    box.append(b);
    await new Promise((r) => setTimeout(r, 100));
    const afterMove = { recording: b.recording, events: window.events.length };
    b.remove();
    // The abort is asynchronous: wait (up to 10 s) for the streamed upload's item to go.
    for (let i = 0; i < 200 && window.uploader.items().length; i++) await new Promise((r) => setTimeout(r, 50));
    return { afterMove, recording: b.recording, recorder: b.recorder, events: window.events.map((e) => [e.type, e.error || null]), items: window.uploader.items().length };
  });
  expect(out.afterMove).toEqual({ recording: true, events: 1 });
  expect(out.recording).toBe(false);
  expect(out.recorder).toBeNull();
  expect(out.events).toEqual([['recordingstart', null], ['recordingerror', 'Error: record-button: removed from the page while recording']]);
  expect(out.items).toBe(0); // the streamed upload was aborted with it
  expect(page.errors).toEqual([]);
});
