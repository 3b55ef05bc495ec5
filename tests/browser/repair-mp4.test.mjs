// makeSeekable on Chromium's own MediaRecorder MP4, made here at test time: a canvas stream (+ an
// oscillator's sound) recorded as `video/mp4` (VP9 + Opus here) and `video/mp4;codecs=avc1,opus`, with a timeslice (many
// fragments) and without (what stop() gives), and a copy cut off part-way as after a crash. The repaired
// file is judged by ffprobe (the same packets as Chromium's file), a full ffmpeg decode, mediabunny's
// reader (the same packet counts and duration) and Chromium's <video> (a finite duration, `seekable`
// covering it, a seek to the middle that lands there).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, serveStatic, openPage, playInChromium } from './browser.mjs';
import { probeMp4 } from '../node/video/mp4-probe.mjs';

let browser, site, dir, page;
beforeAll(async () => {
  browser = await launchBrowser({ args: ['--autoplay-policy=no-user-gesture-required'] });
  site = await serveStatic();
  dir = mkdtempSync(join(tmpdir(), 'ck-repair-mp4-'));
  page = await openPage(browser, `${site.url}/tests/browser/pages/record-canvas.html?ctx=2d`);
  await page.waitForFunction(() => window.ready);
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Records ~2 s of the canvas (and a tone) with MediaRecorder; returns its MP4 and makeSeekable's output. */
function recordAndRepair(mimeType, timeslice, cutFraction) {
  return page.evaluate(async ({ mimeType, timeslice, cutFraction }) => {
    if (!MediaRecorder.isTypeSupported(mimeType)) return { unsupported: true };
    const canvas = document.getElementById('c');
    const stream = canvas.captureStream(30);
    const ac = new AudioContext();
    const osc = ac.createOscillator();
    const dest = ac.createMediaStreamDestination();
    osc.connect(dest);
    osc.start();
    stream.addTrack(dest.stream.getAudioTracks()[0]);
    const rec = new MediaRecorder(stream, { mimeType, videoBitsPerSecond: 1_000_000 });
    const chunks = [];
    rec.ondataavailable = (e) => { if (e.data.size) chunks.push(e.data); };
    let i = 0;
    let running = true;
    const loop = () => { if (!running) return; window.draw(i++); requestAnimationFrame(loop); };
    loop();
    const stopped = new Promise((r) => { rec.onstop = r; });
    rec.start(timeslice);
    await new Promise((r) => setTimeout(r, 2200));
    rec.stop();
    await stopped;
    running = false;
    osc.stop();
    await ac.close();
    stream.getTracks().forEach((t) => t.stop());
    const original = new Blob(chunks, { type: rec.mimeType });
    let input = original;
    if (cutFraction) input = original.slice(0, Math.floor(original.size * cutFraction), original.type);
    let info = null;
    let error = null;
    let repaired = null;
    try {
      repaired = await window.ck.makeSeekable(cutFraction ? input : chunks,
        { allowTruncated: !!cutFraction, oninfo: (x) => { info = x; } });
    } catch (e) {
      error = String(e.message);
    }
    let refused = null;
    if (cutFraction) {
      try { await window.ck.makeSeekable(input); } catch (e) { refused = String(e.message); }
    }
    const b64 = async (b) => (b ? window.toBase64(new Uint8Array(await b.arrayBuffer())) : null);
    return { mimeType: rec.mimeType, chunks: chunks.length, original: await b64(original), input: await b64(input),
      repaired: await b64(repaired), repairedType: repaired?.type, info, error, refused };
  }, { mimeType, timeslice, cutFraction });
}

let saved = 0;
const save = (b64) => {
  const file = join(dir, `f${saved++}.mp4`);
  writeFileSync(file, Buffer.from(b64, 'base64'));
  return file;
};
const run = (cmd, args) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const packets = (file) => run('ffprobe', ['-v', 'error', '-show_entries', 'packet=stream_index,size,flags', '-of', 'csv=p=0', file])
  .split('\n').filter(Boolean).map((l) => l.replace(/D$/, '_'));
const topBoxes = (bytes) => {
  const out = [];
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + 8 <= bytes.length;) {
    let size = v.getUint32(at);
    if (size === 1) size = Number(v.getBigUint64(at + 8));
    out.push(String.fromCharCode(...bytes.subarray(at + 4, at + 8)));
    if (size < 8) break;
    at += size;
  }
  return out;
};

describe.each([
  ['video/mp4', 500],
  ['video/mp4', undefined],
  ['video/mp4;codecs=avc1,opus', 250],
  ['video/mp4;codecs=avc1,opus', undefined],
])('MediaRecorder %s, timeslice %s', (mimeType, timeslice) => {
  test('is repaired into a moov-first MP4 with every packet, that plays and seeks', async () => {
    const r = await recordAndRepair(mimeType, timeslice, 0);
    expect(r.unsupported).toBeUndefined();
    expect(r.error).toBeNull();
    const original = save(r.original);
    const repaired = save(r.repaired);
    const originalBytes = Buffer.from(r.original, 'base64');
    const bytes = Buffer.from(r.repaired, 'base64');
    expect(topBoxes(originalBytes)).toContain('moof');  // Chromium writes fragments
    expect(topBoxes(bytes)).toEqual(['ftyp', 'moov', 'mdat']);
    expect(r.repairedType).toMatch(/^video\/mp4/);
    expect(r.info).toMatchObject({ docType: 'mp4', truncated: false });
    // Plain video/mp4 is VP9 + Opus in this Chromium; codecs=avc1,opus is H.264 + Opus.
    expect(r.info.codecs[0]).toMatch(mimeType.includes('avc1') ? /^avc1\./ : /^(avc1|vp09|av01)\./);
    if (mimeType.includes('opus')) expect(r.info.codecs).toContain('opus');
    // ffprobe: the same packets (stream, size, key flag) as Chromium's own file; ffmpeg decodes it all
    // (-fps_mode drop: a canvas stream's frames are not evenly spaced, which the null output would fold).
    const p = packets(repaired);
    expect(p.length).toBeGreaterThan(40);
    expect(p).toEqual(packets(original));
    const decode = spawnSync('ffmpeg', ['-v', 'error', '-xerror', '-i', repaired, '-map', '0', '-fps_mode', 'drop', '-f', 'null', '-'], { encoding: 'utf8' });
    expect([decode.status, decode.stderr.trim()]).toEqual([0, '']);
    // mediabunny: the same packets per track and the same duration as Chromium's file.
    const [mbIn, mbOut] = [await probeMp4(new Uint8Array(originalBytes)), await probeMp4(new Uint8Array(bytes))];
    expect(mbOut.tracks.map((t) => [t.type, t.packets, t.keyPackets])).toEqual(mbIn.tracks.map((t) => [t.type, t.packets, t.keyPackets]));
    expect(mbOut.duration).toBeCloseTo(mbIn.duration, 1);
    expect(mbOut.duration).toBeGreaterThan(1.5);
    // Chromium plays it: a finite duration, seekable over it, a seek to the middle lands there.
    const v = await playInChromium(page, r.repaired);
    expect(Number.isFinite(v.duration)).toBe(true);
    expect(v.duration).toBeCloseTo(r.info.duration, 1);
    expect(v.seekable[0]).toBe(0);
    expect(v.seekable[1]).toBeCloseTo(v.duration, 1);
    expect(v.at).toBeCloseTo(v.duration / 2, 1);
  });
});

test('a MediaRecorder MP4 cut off part-way is refused, and with allowTruncated keeps what is complete', async () => {
  const r = await recordAndRepair('video/mp4;codecs=avc1,opus', 200, 0.7);
  expect(r.unsupported).toBeUndefined();
  expect(r.refused).toMatch(/^makeSeekable: truncated: .*allowTruncated/);
  expect(r.error).toBeNull();
  expect(r.info.truncated).toBe(true);
  const repaired = save(r.repaired);
  const original = save(r.original);
  const kept = packets(repaired);
  const all = packets(original);
  expect(kept.length).toBe(r.info.frames);
  expect(kept.length).toBeGreaterThan(all.length * 0.4);
  expect(kept.length).toBeLessThan(all.length);
  const decode = spawnSync('ffmpeg', ['-v', 'error', '-xerror', '-i', repaired, '-map', '0', '-fps_mode', 'drop', '-f', 'null', '-'], { encoding: 'utf8' });
  expect([decode.status, decode.stderr.trim()]).toEqual([0, '']);
  const v = await playInChromium(page, r.repaired);
  expect(Number.isFinite(v.duration)).toBe(true);
  expect(v.duration).toBeGreaterThan(0.8);
  expect(v.at).toBeCloseTo(v.duration / 2, 1);
});
