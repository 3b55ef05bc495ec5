// A/V sync after 5 minutes of recording: the webcodecs and the mediarecorder backends record the same
// fake camera + microphone (320x240, 30 fps, 400 kb/s: the test costs wall time, not CPU) for 300 s at
// once; in each file every click must be as far from its flash as the tracks delivered them, within one
// frame, in the first 10 s, in the last 10 s and everywhere between (record-sync.test.mjs says why the
// allowance is measured per pair). Its own file so that Jest runs it beside the other suites: about
// 5.5 minutes in all.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, serveStatic, openPage } from './browser.mjs';
import {
  PERIOD, makeFakeCapture, fakeCaptureArgs, probeStreams, decodesCleanly, saveRoute, fileFlashes, fileClicks, syncPairs, ms, expectInSync, standingOut,
} from './record-sync.helpers.mjs';

const SECONDS = Number(process.env.CK_SYNC_SECONDS || 300);
let browser, site, dir;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ck-record-sync-long-'));
  browser = await launchBrowser({ args: fakeCaptureArgs(makeFakeCapture(dir)) });
  site = await serveStatic({ routes: { '/save': saveRoute(dir) } });
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test(`after ${SECONDS} s of recording: every click is where its flash is, within one frame of the offset the tracks delivered, first to last (webcodecs; mediarecorder: MediaRecorder's own offset and nothing more)`, async () => {
  const p = await openPage(browser, `${site.url}/tests/browser/pages/record-sync.html`);
  let r;
  try {
    await p.waitForFunction(() => window.ready);
    r = await p.evaluate((s) => window.recordBoth({ prefix: 'long', seconds: s }), SECONDS);
    expect(p.errors).toEqual([]);
  } finally {
    await p.context().close();
  }
  expect(r.captured.agreeing).toBeGreaterThanOrEqual(20);
  const expected = Math.floor(SECONDS / PERIOD); // flash / click pairs recorded
  const raw = syncPairs(fileFlashes(join(dir, 'long-raw.webm')), fileClicks(join(dir, 'long-raw.webm')), r.raw, r.captured);
  console.log(`${SECONDS} s, untouched MediaRecorder: ${raw.length} pairs; file - capture from ${ms(raw[0]?.error ?? NaN)} to ${ms(raw[raw.length - 1]?.error ?? NaN)} ms; ` +
    `more than 10 ms from the median: ${standingOut(raw, raw).map((x) => `at ${x.at.toFixed(1)} s ${ms(x.error)} ms`).join('; ') || 'none'}`);
  for (const backend of ['webcodecs', 'mediarecorder']) {
    const file = join(dir, `long-${backend}.webm`);
    const rec = r.backends[backend];
    expect(rec).toMatchObject({ complete: true, backend, endedBy: 'stop', audio: { codec: 'opus' } });
    const probe = probeStreams(file);
    expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['opus', 'vp8']);
    expect(decodesCleanly(file)).toEqual({ status: 0, stderr: '' });
    const flashes = fileFlashes(file);
    const clicks = fileClicks(file);
    const pairs = syncPairs(flashes, clicks, rec, r.captured);
    const first = pairs.filter((x) => x.at < 10);
    const last = pairs.filter((x) => x.at > probe.duration - 10);
    const worst = pairs.reduce((a, x) => (Math.abs(x.error) > Math.abs(a) ? x.error : a), 0);
    console.log(`${SECONDS} s, ${backend}: file ${probe.duration.toFixed(3)} s, ${flashes.length} flashes, ${clicks.length} clicks, ${pairs.length} pairs judged of ${expected}; ` +
      `file - capture: first 10 s ${first.map((x) => ms(x.error)).join(', ')} ms; last 10 s ${last.map((x) => ms(x.error)).join(', ')} ms; worst ${ms(worst)} ms; ` +
      `at capture the click - flash went from ${ms(first[0]?.captured ?? NaN)} to ${ms(last[last.length - 1]?.captured ?? NaN)} ms; ` +
      `file time minus capture time (page clock) at the end ${ms(last[last.length - 1]?.drift ?? NaN)} ms`);
    // a busy machine's fake camera may skip both frames of a flash now and then (once in nine short
    // loaded runs), and a click or flash in the first 0.2 s or the last frame is not judged; four in five
    // pairs judged, and some at each end
    expect(pairs.length).toBeGreaterThanOrEqual(Math.floor(0.8 * expected));
    expect(first.length).toBeGreaterThanOrEqual(2);
    expect(last.length).toBeGreaterThanOrEqual(2);
    const odd = standingOut(pairs, raw);
    console.log(`${SECONDS} s, ${backend}: pairs more than 10 ms from the median: ${odd.map((x) => `at ${x.at.toFixed(1)} s ${ms(x.error)} ms (untouched MediaRecorder ${x.raw === null ? 'n/a' : ms(x.raw)})`).join('; ') || 'none'}`);
    expectInSync(backend, pairs, raw);
  }
}, (SECONDS + 120) * 1000);
