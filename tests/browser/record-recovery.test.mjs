// Crash recovery in real Chromium (issue 6): a 2D canvas recorded with the wasm backend and a journal in
// IndexedDB; the page is killed without stop() — page.close(), or a renderer crash through CDP
// (Page.crash) — before the first part, mid-part (frames encoded but their cluster not yet emitted) and
// right after a part; a new page at the same origin recovers it. Judges: ffprobe (-count_frames, duration),
// ffmpeg (decode all, seek to the middle), mkvinfo (Cues), and the reference server for the upload.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openReadyPage } from './browser.mjs';
import { useServerAndBrowser } from './server-and-browser.mjs';
import { captureBytes, TOKEN } from '../node/upload/uploader.helpers.mjs';

const env = useServerAndBrowser();
let dir;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ck-recovery-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const url = () => `${env.srv.url}/tests/browser/pages/record-recovery.html?token=${TOKEN}`;

const open = (context) => openReadyPage(context, url());

async function kill(page, how) {
  if (how === 'crash') {
    const cdp = await page.context().newCDPSession(page);
    const crashed = new Promise((resolve) => page.once('crash', resolve));
    cdp.send('Page.crash').catch(() => {}); // never answers: the renderer is gone
    await crashed;
  }
  await page.close();
}

function check(b64, name, expectFrames) {
  const p = join(dir, name);
  writeFileSync(p, Buffer.from(b64, 'base64'));
  const out = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries',
    'stream=nb_read_frames,width,height:format=duration', '-of', 'json', p], { encoding: 'utf8' }));
  expect(Number(out.streams[0].nb_read_frames)).toBe(expectFrames);
  expect(Number(out.format.duration)).toBeCloseTo(expectFrames / 30, 1);
  expect(out.streams[0]).toMatchObject({ width: 160, height: 120 });
  const all = spawnSync('ffmpeg', ['-v', 'error', '-i', p, '-f', 'null', '-'], { encoding: 'utf8' });
  expect([all.status, all.stderr]).toEqual([0, '']);
  const seek = spawnSync('ffmpeg', ['-v', 'error', '-ss', (expectFrames / 60).toFixed(3), '-i', p, '-f', 'framemd5', '-'], { encoding: 'utf8' });
  expect([seek.status, seek.stderr]).toEqual([0, '']);
  expect(seek.stdout.split('\n').filter((l) => l && !l.startsWith('#')).length).toBeGreaterThan(0);
  expect(execFileSync('mkvinfo', [p], { encoding: 'utf8' })).toMatch(/\+ Cues/);
  return p;
}

test.each([
  ['page.close() right after a part', 'close', 'after'],
  ['a renderer crash (CDP Page.crash) mid-part', 'crash', 'mid'],
])('killed by %s: the next page load recovers every frame of the stored parts', async (_, how, when) => {
  const context = await env.browser.newContext();
  try {
    const a = await open(context);
    const id = await a.evaluate(() => startRecording());
    // 3 clusters of 10 frames; the third is emitted when frame 30 (a keyframe) arrives
    await a.evaluate(() => addFrames(31));
    await a.waitForFunction(() => window.progress.ranges >= 4); // header + 3 clusters
    if (when === 'mid') {
      await a.evaluate(() => addFrames(5)); // encoded, but their cluster is not complete yet
      await new Promise((r) => setTimeout(r, 300));
    }
    const held = await a.evaluate(() => journaledFrames());
    expect(held).toBe(30);
    await kill(a, how);

    const b = await open(context);
    const { results, events } = await b.evaluate(() => recover());
    expect(results).toEqual([expect.objectContaining({ recordingId: id, status: 'recovered', frames: held, truncated: false })]);
    expect(events).toEqual([expect.objectContaining({ kind: 'recovered', recordingId: id, frames: held, droppedRanges: [], metadata: { filename: 'crashed.webm', scene: 'recovery-test' } })]);
    expect(events[0].framesJournaled).toBeGreaterThanOrEqual(held - 1);
    check(results[0].b64, `recovered-${how}.webm`, held);
    // the journal is gone: a second load finds nothing
    expect((await b.evaluate(() => recover())).results).toEqual([]);
    expect(b.errors).toEqual([]);
    await b.close();
  } finally {
    await context.close();
  }
});

test('the WebCodecs backend (a range per frame): every frame journaled before page.close() is recovered', async () => {
  const context = await env.browser.newContext();
  try {
    const a = await open(context);
    const id = await a.evaluate(() => startRecording({ backend: 'webcodecs' }));
    await a.evaluate(() => addFrames(25));
    await a.waitForFunction(() => journaledFrames() >= 20);
    const held = await a.evaluate(() => journaledFrames());
    await kill(a, 'close');
    const b = await open(context);
    const { results, events } = await b.evaluate(() => recover());
    expect(results).toEqual([expect.objectContaining({ recordingId: id, status: 'recovered' })]);
    // ranges stored after the app's copy was read can only add frames
    expect(events[0].frames).toBeGreaterThanOrEqual(held);
    check(results[0].b64, 'recovered-webcodecs.webm', events[0].frames);
    await b.close();
  } finally {
    await context.close();
  }
});

test('killed before the first part: reported as unrecoverable, kept until the app discards it', async () => {
  const context = await env.browser.newContext();
  try {
    const a = await open(context);
    const id = await a.evaluate(() => startRecording());
    await kill(a, 'close');
    const b = await open(context);
    let r = await b.evaluate(() => recover());
    expect(r.results).toEqual([expect.objectContaining({ recordingId: id, status: 'unrecoverable', deleted: false })]);
    expect(r.events[0].reason).toMatch(/before its first byte/);
    r = await b.evaluate(() => recover({ discardUnrecoverable: true }));
    expect(r.results).toEqual([expect.objectContaining({ recordingId: id, status: 'unrecoverable', deleted: true })]);
    expect((await b.evaluate(() => recover())).results).toEqual([]);
    await b.close();
  } finally {
    await context.close();
  }
});

test('a recording still going on in another tab is left alone; after its crash it is uploaded to the server', async () => {
  const context = await env.browser.newContext();
  try {
    const a = await open(context);
    const id = await a.evaluate(() => startRecording());
    await a.evaluate(() => addFrames(21));
    await a.waitForFunction(() => window.progress.ranges >= 3);
    const held = await a.evaluate(() => journaledFrames());
    expect(held).toBe(20);
    const b = await open(context);
    expect((await b.evaluate(() => recover())).results).toEqual([{ recordingId: id, status: 'busy', b64: null }]);
    await kill(a, 'crash');
    // two tabs load at once: the journal's lock lets exactly one of them recover and upload it
    const c = await open(context);
    const both = await Promise.all([b, c].map((p) => p.evaluate(() => recover({ upload: true }))));
    const all = both.flatMap((x) => x.results);
    const results = all.filter((r) => r.status !== 'busy');
    expect(results).toEqual([expect.objectContaining({ recordingId: id, status: 'uploaded', frames: held })]);
    const { captures } = await env.srv.api('/api/captures');
    expect(captures.filter((x) => x.metadata?.journalId === id).length).toBe(1);
    const cap = captures.find((x) => x.metadata?.journalId === id);
    expect(cap).toMatchObject({ type: 'video', filename: 'crashed.webm', metadata: { recovered: true, scene: 'recovery-test' } });
    const bytes = await captureBytes(env.srv, cap);
    expect(bytes.equals(Buffer.from(results[0].b64, 'base64'))).toBe(true);
    check(results[0].b64, 'uploaded.webm', held);
    expect(b.errors).toEqual([]);
    await b.close();
  } finally {
    await context.close();
  }
});
