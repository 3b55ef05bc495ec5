// createRecorder(canvas, { backend: 'webcodecs', container: 'mp4' }) in real Chromium: H.264 (avcC from
// VideoEncoder with avc: { format: 'avc' }), VP9 and AV1, with and without Opus from AudioEncoder,
// streamed through ondata as a fragmented MP4 (capturekit's C++ muxer). Judges: ffprobe (codec, packets,
// duration), a full ffmpeg decode, mediabunny's reader (packets, key frames, duration), and Chromium's
// own <video>: a finite duration, `seekable` covering it, a seek to the middle that lands there.
// The page is record-canvas.html (a picture that depends only on the frame number).
// backend 'mediarecorder' with container 'mp4': Chromium's MediaRecorder MP4 (fragmented), made
// progressive by makeSeekable at stop, from a canvas and from the fake camera + microphone.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, serveStatic, openPage, playInChromium } from './browser.mjs';
import { probeMp4 } from '../node/video/mp4-probe.mjs';

const N = 45;
const FPS = 30;
let browser, site, dir;
beforeAll(async () => {
  browser = await launchBrowser({ args: ['--autoplay-policy=no-user-gesture-required', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'] });
  site = await serveStatic();
  dir = mkdtempSync(join(tmpdir(), 'ck-record-mp4-'));
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function recordPage() {
  const page = await openPage(browser, `${site.url}/tests/browser/pages/record-canvas.html?ctx=2d`);
  await page.waitForFunction(() => window.ready);
  return page;
}

let saved = 0;
function judge(b64) {
  const file = join(dir, `rec-${saved++}.mp4`);
  const bytes = Buffer.from(b64, 'base64');
  writeFileSync(file, bytes);
  const j = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-count_packets', '-show_entries',
    'stream=codec_name,nb_read_packets:format=duration', '-of', 'json', file], { encoding: 'utf8' }));
  // -fps_mode drop: every decoded frame goes on with fresh output times (frames on the clock are not evenly
  // spaced; the null output would fold two into one tick, which says nothing of the decoding)
  const decode = spawnSync('ffmpeg', ['-v', 'error', '-xerror', '-i', file, '-map', '0', '-fps_mode', 'drop', '-f', 'null', '-'], { encoding: 'utf8' });
  return { file, bytes: new Uint8Array(bytes), streams: j.streams.map((s) => `${s.codec_name}:${s.nb_read_packets}`),
    duration: Number(j.format.duration), decode: [decode.status, decode.stderr.trim()] };
}

describe.each([
  // H.264: the profile and level the encoder wrote in its avcC (Constrained Baseline, asked for as avc1.42001f);
  // VP9: level 2.0 for 320x240 at 30 fps; AV1: main profile, level 2.0.
  ['h264', /^avc1\.42c0[0-9a-f]{2}$/, 'h264'],
  ['vp9', /^vp09\.00\.20\.08$/, 'vp9'],
  ['av1', /^av01\.0\.00M\.08$/, 'av1'],
])('webcodecs %s in MP4', (codec, codecString, ffprobeName) => {
  let page, r;
  beforeAll(async () => {
    page = await recordPage();
    r = await page.evaluate(([n, o]) => recordStreaming(n, o), [N, { backend: 'webcodecs', container: 'mp4', codec, fps: FPS, bitrate: 800_000 }]);
  }, 120_000);
  afterAll(async () => { await page?.context().close(); });

  test('a fragmented MP4 with the codecs in its mimeType, streamed, that ffprobe, ffmpeg and mediabunny read whole', async () => {
    expect(r).toMatchObject({ backend: 'webcodecs', codec, frames: N });
    expect(r.mimeType).toMatch(/^video\/mp4; codecs="([^"]+)"$/);
    expect(/codecs="([^"]+)"/.exec(r.mimeType)[1]).toMatch(codecString);
    expect(r.duration).toBeCloseTo(N / FPS, 3);
    expect(r.overwrites).toBe(3); // the durations patched into mvhd, mehd and tkhd at the end
    const j = judge(r.b64);
    expect(j.streams).toEqual([`${ffprobeName}:${N}`]);
    expect(j.duration).toBeCloseTo(N / FPS, 1);
    expect(j.decode).toEqual([0, '']);
    const mb = await probeMp4(j.bytes);
    expect(mb.tracks.map((t) => [t.type, t.packets])).toEqual([['video', N]]);
    expect(mb.tracks[0].keyPackets).toBeGreaterThanOrEqual(1);
    expect(mb.duration).toBeCloseTo(N / FPS, 1);
  });

  test("Chromium's <video> plays it with a finite duration and seeks to the middle", async () => {
    const v = await playInChromium(page, r.b64, { play: true });
    expect(Number.isFinite(v.duration)).toBe(true);
    expect(v.duration).toBeCloseTo(N / FPS, 1);
    expect(v.seekable[0]).toBe(0);
    expect(v.seekable[1]).toBeCloseTo(v.duration, 2);
    expect(Math.abs(v.at - v.duration / 2)).toBeLessThan(0.05);
    expect(v.played).toBeGreaterThan(v.at);
    expect([v.width, v.height]).toEqual([320, 240]);
  });
});

test('H.264 + Opus (AudioEncoder) from a canvas with a tone: both tracks, whole, in ffprobe, ffmpeg, mediabunny and <video>', async () => {
  const page = await recordPage();
  try {
    const r = await page.evaluate(async ([n]) => {
      const ac = new AudioContext();
      const osc = ac.createOscillator();
      osc.frequency.value = 440;
      const dest = ac.createMediaStreamDestination();
      osc.connect(dest);
      osc.start();
      try {
        // Frames 1/30 s apart on the clock (timing 'realtime'), so the sound runs as long as the picture.
        let file = new Uint8Array(0);
        const rec = await ck.createRecorder(document.getElementById('c'), { frames: 'manual', backend: 'webcodecs', container: 'mp4',
          codec: 'h264', fps: 30, timing: 'realtime', audio: dest.stream,
          ondata: (bytes, offset) => {
            if (offset + bytes.length > file.length) { const g = new Uint8Array(offset + bytes.length); g.set(file); file = g; }
            file.set(bytes, offset);
          } });
        for (let i = 0; i < n; i++) {
          await rec.ready;
          draw(i);
          rec.captureFrame();
          await new Promise((res) => setTimeout(res, 1000 / 30));
        }
        return pack({ ...(await rec.stop()), data: file });
      } finally {
        osc.stop();
        await ac.close();
      }
    }, [N]);
    expect(r.mimeType).toMatch(/^video\/mp4; codecs="avc1\.42c0[0-9a-f]{2}, opus"$/);
    expect(r.audio.packets).toBeGreaterThan(10);
    const j = judge(r.b64);
    expect(j.streams).toEqual([`h264:${N}`, `opus:${r.audio.packets}`]);
    expect(j.decode).toEqual([0, '']);
    const mb = await probeMp4(j.bytes);
    expect(mb.tracks.map((t) => [t.type, t.codec, t.packets])).toEqual([['video', 'avc', N], ['audio', 'opus', r.audio.packets]]);
    expect(Math.abs(mb.duration - j.duration)).toBeLessThan(0.1);
    const v = await playInChromium(page, r.b64, { play: true });
    expect(v.duration).toBeCloseTo(j.duration, 1);
    expect(v.seekable[1]).toBeCloseTo(v.duration, 2);
    expect(Math.abs(v.at - v.duration / 2)).toBeLessThan(0.05);
  } finally {
    await page.context().close();
  }
}, 120_000);

describe.each([
  // Chromium's MediaRecorder writes H.264 as avc1.42... (Constrained Baseline) or avc1.64... (High).
  ['h264', /^avc1\.[0-9a-f]{6}$/, 'h264'],
  ['vp9', /^vp09\.\d\d\.\d\d\.\d\d/, 'vp9'],
])('mediarecorder %s in MP4', (codec, codecString, ffprobeName) => {
  test('from a canvas: a progressive MP4 (moov first) whose counts ffprobe, ffmpeg, mediabunny and <video> agree with', async () => {
    const page = await recordPage();
    try {
      const r = await page.evaluate(([n, o]) => recordStreaming(n, o), [N, { backend: 'mediarecorder', container: 'mp4', codec, fps: FPS, bitrate: 800_000 }]);
      expect(r).toMatchObject({ backend: 'mediarecorder', codec });
      expect(/codecs="([^"]+)"/.exec(r.mimeType)?.[1]).toMatch(codecString);
      expect(r.mimeType).toMatch(/^video\/mp4; codecs="[^",]+"$/);
      expect(r.repair.docType).toBe('mp4');
      // MediaRecorder samples the track: a frame may be folded on a loaded machine, never invented.
      expect(r.frames).toBeGreaterThanOrEqual(N - 5);
      expect(r.frames).toBeLessThanOrEqual(N);
      const j = judge(r.b64);
      expect(Buffer.from(j.bytes.subarray(4, 8)).toString('latin1')).toBe('ftyp');
      const top = topBoxes(j.bytes);
      expect(top.indexOf('moov')).toBeLessThan(top.indexOf('mdat'));
      expect(top).not.toContain('moof');
      expect(j.streams).toEqual([`${ffprobeName}:${r.frames}`]);
      expect(j.duration).toBeCloseTo(r.duration, 1);
      expect(j.decode).toEqual([0, '']);
      const mb = await probeMp4(j.bytes);
      expect(mb.tracks.map((t) => [t.type, t.packets])).toEqual([['video', r.frames]]);
      expect(mb.duration).toBeCloseTo(r.duration, 1);
      const v = await playInChromium(page, r.b64, { play: true });
      expect(Number.isFinite(v.duration)).toBe(true);
      expect(v.duration).toBeCloseTo(r.duration, 1);
      expect(v.seekable[1]).toBeCloseTo(v.duration, 2);
      expect(Math.abs(v.at - v.duration / 2)).toBeLessThan(0.05);
    } finally {
      await page.context().close();
    }
  }, 120_000);

  test('from the fake camera + microphone: video and Opus, both whole, seekable', async () => {
    const page = await recordPage();
    try {
      const r = await page.evaluate(async ([c]) => {
        const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: true });
        const rec = await ck.createRecorder(stream, { backend: 'mediarecorder', container: 'mp4', codec: c, stopTracks: true });
        await new Promise((res) => setTimeout(res, 1500));
        return pack(await rec.stop());
      }, [codec]);
      expect(r).toMatchObject({ backend: 'mediarecorder', codec, frames: null });
      expect(r.mimeType).toMatch(/^video\/mp4; codecs="[^",]+, opus"$/);
      expect(/codecs="([^",]+)/.exec(r.mimeType)[1]).toMatch(codecString);
      expect(r.audio.codec).toBe('opus');
      expect(r.duration).toBeGreaterThan(1);
      expect(r.duration).toBeLessThan(3);
      const j = judge(r.b64);
      const top = topBoxes(j.bytes);
      expect(top.indexOf('moov')).toBeLessThan(top.indexOf('mdat'));
      // (Chromium's MediaRecorder writes the audio track first)
      const packets = Object.fromEntries(j.streams.map((s) => s.split(':')).map(([name, n]) => [name, Number(n)]));
      expect(Object.keys(packets).sort()).toEqual([ffprobeName, 'opus'].sort());
      expect(packets[ffprobeName]).toBeGreaterThan(10);
      expect(packets.opus).toBeGreaterThan(10);
      expect(packets[ffprobeName] + packets.opus).toBe(r.repair.frames); // every track's samples, as makeSeekable counted them
      expect(j.duration).toBeCloseTo(r.duration, 1);
      expect(j.decode).toEqual([0, '']);
      const mb = await probeMp4(j.bytes);
      expect(Object.fromEntries(mb.tracks.map((t) => [t.type, t.packets]))).toEqual({ video: packets[ffprobeName], audio: packets.opus });
      expect(Math.abs(mb.duration - j.duration)).toBeLessThan(0.1);
      const v = await playInChromium(page, r.b64, { play: true });
      expect(Number.isFinite(v.duration)).toBe(true);
      expect(v.duration).toBeCloseTo(j.duration, 1);
      expect(v.seekable[1]).toBeCloseTo(v.duration, 2);
      expect(Math.abs(v.at - v.duration / 2)).toBeLessThan(0.05);
      expect([v.width, v.height]).toEqual([320, 240]);
    } finally {
      await page.context().close();
    }
  }, 120_000);
});

/** The names of the top-level boxes of an MP4 (32-bit sizes are enough for these small files). */
function topBoxes(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const names = [];
  for (let at = 0; at + 8 <= bytes.length;) {
    const size = dv.getUint32(at);
    names.push(Buffer.from(bytes.subarray(at + 4, at + 8)).toString('latin1'));
    if (size < 8) break;
    at += size;
  }
  return names;
}

test('container "mp4": auto picks webcodecs first; a journaled recorder refuses it', async () => {
  const page = await recordPage();
  try {
    const out = await page.evaluate(async () => {
      const rec = await ck.createRecorder(document.getElementById('c'), { container: 'mp4', frames: 'manual' });
      const chosen = { backend: rec.backend, reason: rec.backendReason };
      rec.abort();
      return {
        chosen,
        journal: await errorOf(() => ck.createJournaledRecorder(document.getElementById('c'), { backend: 'webcodecs', container: 'mp4' }, { store: ck.createMemoryJournalStore() })),
        vp8: await errorOf(() => ck.createRecorder(document.getElementById('c'), { backend: 'mediarecorder', container: 'mp4', codec: 'vp8' })),
      };
    });
    expect(out.chosen.backend).toBe('webcodecs');
    expect(out.chosen.reason).toMatch(/^WebCodecs: VideoEncoder takes h264/);
    expect(out.journal).toEqual({ name: 'TypeError', isError: true,
      message: 'createJournaledRecorder: container "mp4" cannot be journaled yet (crash recovery is built for WebM only); use container "webm" or createRecorder' });
    expect(out.vp8.message).toMatch(/VP8 cannot be stored in MP4/);
  } finally {
    await page.context().close();
  }
});

test('what MP4 cannot hold is refused before anything starts', async () => {
  const page = await recordPage();
  try {
    const errors = await page.evaluate(async () => ({
      vp8: await errorOf(() => ck.createRecorder(document.getElementById('c'), { backend: 'webcodecs', container: 'mp4', codec: 'vp8' })),
      wasm: await errorOf(() => ck.createRecorder(document.getElementById('c'), { backend: 'wasm', container: 'mp4', codec: 'av1' })),
      poses: await errorOf(() => ck.createRecorder(document.getElementById('c'), { backend: 'webcodecs', container: 'mp4', frameMetadata: true })),
    }));
    expect(errors.vp8).toEqual({ name: 'TypeError', isError: true,
      message: 'createRecorder: VP8 cannot be stored in MP4; use codec "h264", "vp9" or "av1", or container "webm"' });
    expect(errors.wasm.name).toBe('TypeError');
    expect(errors.wasm.message).toMatch(/backend "wasm" has no AV1 encoder/);
    expect(errors.poses.message).toMatch(/no per-frame metadata/);
  } finally {
    await page.context().close();
  }
});
