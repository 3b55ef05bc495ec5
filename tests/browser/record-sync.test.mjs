// A/V sync measured in the file, not assumed: Chromium's fake camera and microphone play files with a
// white flash and a click at the same instants every 2 s (record-sync.helpers.mjs says how they loop);
// the webcodecs and the mediarecorder backends record the same camera + microphone stream at once; in
// each file ffmpeg finds the flashes (signalstats YAVG) and the clicks (silencedetect), and every click
// must be as far from its flash as it was when the tracks delivered them, within one video frame, at the
// start and across a pause. On mediarecorder, Chromium's MediaRecorder itself puts the sound 47 ms late
// (an untouched MediaRecorder records beside it): the backend must add nothing to that, and its typical
// offset stays within two frames (record-sync.helpers.mjs). The 5-minute recording is record-sync-long.test.mjs (its own file, so Jest
// runs it beside the others).
//
// The allowance for the fake devices: they are not in step themselves. Measured first, with the page's
// watcher alone (clones of the tracks read in the page, independent of the recorder) for 20 s at load
// average 4: click minus flash at capture went -19, +5, +10, -23, -17, -50, -44, -78, -75, -105 ms, and
// in these tests at load average 6 to 11, -162 to +7 ms, because each device's timer slips on its own and
// never catches up. A fixed allowance wide enough for that would let a recorder that is 150 ms off pass,
// so the allowance is measured for every pair: the offset the tracks delivered (`captured`), which the
// file must keep within one frame.
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { launchBrowser, serveStatic, openPage } from './browser.mjs';
import {
  FPS, PERIOD, makeFakeCapture, fakeCaptureArgs, probeStreams, decodesCleanly, saveRoute, fileFlashes, fileClicks, syncPairs, ms,
  expectInSync,
} from './record-sync.helpers.mjs';

const FRAME = 1 / FPS;
let browser, site, dir, files;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ck-record-sync-'));
  files = makeFakeCapture(dir);
  browser = await launchBrowser({ args: fakeCaptureArgs(files) });
  site = await serveStatic({ routes: { '/save': saveRoute(dir) } });
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Records camera + microphone on both backends at once (the page's recordBoth); the files are in dir. */
async function recordBoth(options) {
  const p = await openPage(browser, `${site.url}/tests/browser/pages/record-sync.html`);
  try {
    await p.waitForFunction(() => window.ready);
    const r = await p.evaluate((o) => window.recordBoth(o), options);
    expect(p.errors).toEqual([]);
    return r;
  } finally {
    await p.context().close();
  }
}

/** The pairs of one backend's file, logged. */
function judge(r, backend, prefix, label) {
  const file = join(dir, `${prefix}-${backend}.webm`);
  const rec = backend === 'raw' ? r.raw : r.backends[backend];
  const flashes = fileFlashes(file);
  const clicks = fileClicks(file);
  const pairs = syncPairs(flashes, clicks, rec, r.captured);
  console.log(`${label}, ${backend}: ${flashes.length} flashes, ${clicks.length} clicks in the file; ` +
    `click - flash (ms) in the file ${pairs.map((x) => ms(x.file)).join(', ')}; at capture ${pairs.map((x) => ms(x.captured)).join(', ')}; ` +
    `file - capture ${pairs.map((x) => ms(x.error)).join(', ')} (watcher: ${r.captured.frames} frames, clock agreed by ${r.captured.agreeing})`);
  return { file, rec, flashes, clicks, pairs };
}

test('the fake capture files: the y4m and the wav last the same 4 s (120 frames, 192000 samples); the judges find their flashes and clicks where they were made', () => {
  const v = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=nb_read_frames,r_frame_rate', '-of', 'json', files.video], { encoding: 'utf8' })).streams[0];
  expect(v).toMatchObject({ nb_read_frames: '120', r_frame_rate: '30/1' });
  const wav = readFileSync(files.audio);
  // a plain 44-byte header, 16-bit mono at 48 kHz: the data is 192000 samples
  expect([wav.readUInt16LE(22), wav.readUInt32LE(24), wav.readUInt16LE(34)]).toEqual([1, 48000, 16]);
  expect(wav.readUInt32LE(wav.indexOf('data') + 4)).toBe(192000 * 2);
  // the flash is at 0 s and 2 s; silencedetect needs quiet before a click, so the one at 0 s has none
  const flashes = fileFlashes(files.video);
  expect(flashes).toEqual([0, 2]);
  const clicks = fileClicks(files.audio);
  expect(clicks).toHaveLength(1);
  expect(Math.abs(clicks[0] - 2)).toBeLessThan(0.001);
});

const BACKENDS = ['webcodecs', 'mediarecorder'];

test("at the start: every click in the file is where its flash is, within one frame of the offset the tracks delivered (webcodecs; mediarecorder: the browser MediaRecorder's own offset and nothing more)", async () => {
  const r = await recordBoth({ prefix: 'start', seconds: 3 * PERIOD + 1 });
  expect(r.captured.agreeing).toBeGreaterThanOrEqual(20);
  const raw = judge(r, 'raw', 'start', 'start').pairs;
  for (const backend of BACKENDS) {
    const { file, rec, pairs } = judge(r, backend, 'start', 'start');
    expect(rec).toMatchObject({ complete: true, backend, endedBy: 'stop', audio: { codec: 'opus' } });
    expect(probeStreams(file).streams.map((s) => s.codec_name).sort()).toEqual(['opus', 'vp8']);
    expect(decodesCleanly(file)).toEqual({ status: 0, stderr: '' });
    // three or four flash/click pairs were recorded (silencedetect misses a click in the file's first
    // 0.2 s); a busy machine's fake camera may skip both frames of one flash, so two are the least to judge
    expect(pairs.length).toBeGreaterThanOrEqual(2);
    expectInSync(backend, pairs, raw);
  }
}, 120_000);

test('across a pause: 3 s recorded, 3 s paused, 4.5 s recorded; the clicks after the pause are where their flashes are (both backends)', async () => {
  const r = await recordBoth({ prefix: 'pause', seconds: 7.5, pauseAt: 3, pauseFor: 3 });
  expect(r.captured.agreeing).toBeGreaterThanOrEqual(20);
  const raw = judge(r, 'raw', 'pause', 'across a pause').pairs;
  for (const backend of BACKENDS) {
    const { file, rec, pairs } = judge(r, backend, 'pause', 'across a pause');
    expect(rec.events).toEqual(['pause', 'resume']);
    expect(rec.pausedSpan[1] - rec.pausedSpan[0]).toBeGreaterThanOrEqual(3e6);
    expect(decodesCleanly(file)).toEqual({ status: 0, stderr: '' });
    // the pause is 3 s into the file: the pairs after it (4.5 s recorded: two or three) are the point
    const after = pairs.filter((x) => x.at > 3 + FRAME);
    expect(after.length).toBeGreaterThanOrEqual(1);
    expect(pairs.length).toBeGreaterThanOrEqual(2);
    expectInSync(backend, pairs, raw);
  }
}, 120_000);
