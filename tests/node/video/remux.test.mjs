// remux on the real wasm build in Node: a VP9 + Opus WebM written by VideoWriter, and a real Chromium
// MediaRecorder VP9 + Opus WebM (tests/fixtures/video), become MP4 and back without re-encoding. Judges:
// ffprobe (streams, codecs, duration, packet counts), packet bytes by ffmpeg -c copy framemd5, a full
// ffmpeg decode, mediabunny on the MP4; bad input refused clearly; the wasm heap bounded over many runs.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { VideoWriter, remux } from '../../../js-glue/index.js';
import { patternFrame, tempDir } from './video-fixtures.mjs';
import { probeMp4 } from './mp4-probe.mjs';

const W = 160;
const H = 120;
const FIXTURES = new URL('../../fixtures/video/', import.meta.url);
let dir;
beforeAll(() => { dir = tempDir('ck-remux-'); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (cmd, args) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const codecs = (f) => run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', f]).trim().split('\n');
const packets = (f) => run('ffprobe', ['-v', 'error', '-count_packets', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', f]).trim();
const duration = (f) => Number(run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', f]).trim());
// Per packet: stream, size and MD5 of its bytes (no decoding; times differ in time base between containers).
const packetBytes = (f) => run('ffmpeg', ['-v', 'error', '-i', f, '-map', '0', '-c', 'copy', '-f', 'framemd5', '-'])
  .split('\n').filter((l) => l && !l.startsWith('#')).map((l) => { const c = l.split(',').map((s) => s.trim()); return `${c[0]} ${c[4]} ${c[5]}`; });
const decodes = (f) => spawnSync('ffmpeg', ['-v', 'error', '-xerror', '-i', f, '-f', 'null', '-']).status === 0;

async function writerWebm() {
  const w = await VideoWriter.create({ codec: 'vp9', width: W, height: H, fps: 30, audio: { sampleRate: 48000, channels: 2 } });
  for (let i = 0; i < 60; i++) {
    w.addFrame(patternFrame(W, H, i));
    w.addAudio(new Float32Array(1600 * 2).map((_, k) => 0.3 * Math.sin((2 * Math.PI * 440 * (i * 1600 + (k >> 1))) / 48000)));
  }
  return (await w.finish()).data;
}

async function bytesOf(blob) { return new Uint8Array(await blob.arrayBuffer()); }

// WebM -> MP4 -> WebM, every step judged; returns the MP4.
async function roundTrip(webm, name, { layout, seconds: given }) {
  let seconds = given;
  const w0 = join(dir, `${name}.webm`);
  const m1 = join(dir, `${name}.mp4`);
  const w2 = join(dir, `${name}.back.webm`);
  writeFileSync(w0, webm);
  const mp4Blob = await remux(new Blob([webm]), { container: 'mp4', layout, chunkSize: 64 << 10 });
  expect(mp4Blob.type).toMatch(/^video\/mp4; codecs="vp09\.[0-9.]+, opus"$/);
  const mp4 = await bytesOf(mp4Blob);
  writeFileSync(m1, mp4);
  // Back to WebM through ondata, from a file path.
  const out = new Uint8Array(webm.length * 2 + 65536);
  let size = 0;
  const info = await remux(m1, { container: 'webm', ondata: (b, offset) => { out.set(b, offset); size = Math.max(size, offset + b.length); } });
  expect(info).toMatchObject({ inputType: 'mp4', videoCodec: 'vp9', hasAudio: true, truncated: false });
  writeFileSync(w2, out.subarray(0, size));

  for (const f of [w0, m1, w2]) expect(codecs(f)).toEqual(['vp9', 'opus']);
  const counts = packets(w0);
  expect(packets(m1)).toBe(counts);
  expect(packets(w2)).toBe(counts);
  const bytes = packetBytes(w0);
  expect(bytes.length).toBeGreaterThan(50);
  expect(packetBytes(m1)).toEqual(bytes);
  expect(packetBytes(w2)).toEqual(bytes);
  if (seconds === null) seconds = duration(m1);
  expect(seconds).toBeGreaterThan(0.5);
  expect(duration(m1)).toBeCloseTo(seconds, 1);
  expect(duration(w2)).toBeCloseTo(seconds, 1);
  expect(decodes(m1)).toBe(true);
  expect(decodes(w2)).toBe(true);
  const mb = await probeMp4(mp4);
  const [v, a] = counts.split('\n').map(Number);
  expect(mb.tracks.map((t) => [t.codec, t.packets])).toEqual([['vp9', v], ['opus', a]]);
  expect(mb.duration).toBeCloseTo(seconds, 1);
  return mp4;
}

test.each(['progressive', 'fragmented'])('a VideoWriter VP9 + Opus WebM -> %s MP4 -> WebM keeps every packet', async (layout) => {
  const mp4 = await roundTrip(await writerWebm(), `writer-${layout}`, { layout, seconds: 2 });
  const text = Buffer.from(mp4).toString('latin1');
  if (layout === 'progressive') expect(text.indexOf('moov')).toBeLessThan(text.indexOf('mdat'));
  else expect(text.indexOf('moof')).toBeGreaterThan(0);
}, 120_000);

test('a Chromium MediaRecorder VP9 + Opus WebM -> MP4 -> WebM keeps every packet', async () => {
  const webm = new Uint8Array(readFileSync(new URL('chrome_vp9_opus.webm', FIXTURES)));
  // MediaRecorder writes no Duration: the MP4's and the WebM's made from it must agree.
  await roundTrip(webm, 'chrome', { layout: 'progressive', seconds: null });
}, 120_000);

test('an ffmpeg VP9 + Opus WebM -> MP4 -> WebM keeps every packet', async () => {
  const f = join(dir, 'ff-src.webm');
  run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '2', '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-g', '25', '-b:v', '200k', '-c:a', 'libopus', f]);
  await roundTrip(new Uint8Array(readFileSync(f)), 'ffmpeg', { layout: 'progressive', seconds: 2 });
}, 120_000);

test('bad input: clear errors', async () => {
  const vp8 = new Uint8Array(readFileSync(new URL('chrome_vp8_opus.webm', FIXTURES)));
  await expect(remux(vp8, { container: 'mp4' })).rejects.toThrow(TypeError);
  await expect(remux(vp8, { container: 'mp4' })).rejects.toThrow(/VP8 cannot go into MP4/);
  const h264 = join(dir, 'h.mp4');
  run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=30', '-frames:v', '10', '-c:v', 'libx264', h264]);
  await expect(remux(h264, { container: 'webm' })).rejects.toThrow(new TypeError('remux: WebM has no H.264: this MP4\'s video cannot be remuxed into WebM (re-encode to VP9)'));
  const webm = await writerWebm();
  const cut = webm.subarray(0, Math.floor(webm.length * 0.7));
  await expect(remux(cut, { container: 'mp4' })).rejects.toThrow(/truncated/);
  const info = await remux(cut, { container: 'mp4', allowTruncated: true, ondata: () => {} });
  expect(info.truncated).toBe(true);
  expect(info.frames).toBeGreaterThan(20);
  expect(info.frames).toBeLessThan(60);
  await expect(remux(new Uint8Array(4096).fill(7), { container: 'mp4' })).rejects.toThrow(/not a WebM or MP4 file/);
  await expect(remux(new Uint8Array(0), { container: 'mp4' })).rejects.toThrow(/empty/);
  await expect(remux(webm, { container: 'webm' })).rejects.toThrow(TypeError);
  await expect(remux(webm, { container: 'mov' })).rejects.toThrow(new TypeError("remux: container must be 'mp4' or 'webm', got \"mov\""));
  await expect(remux(webm, { container: 'mp4', foo: 1 })).rejects.toThrow(/unknown option "foo"/);
}, 120_000);

test('the wasm heap stays as it was over many runs', async () => {
  const { initVideo } = await import('../../../js-glue/video.js');
  const M = await initVideo();
  const webm = await writerWebm();
  const mp4 = await bytesOf(await remux(webm, { container: 'mp4' }));
  const once = async (k) => {
    if (k % 3 === 0) await remux(webm, { container: 'mp4', layout: 'fragmented', ondata: () => {} });
    else if (k % 3 === 1) await remux(mp4, { container: 'webm' });
    else await remux(webm.subarray(0, 5000), { container: 'mp4' }).catch(() => {});
  };
  for (let k = 0; k < 3; k++) await once(k);
  const heap = M.HEAPU8.length;
  for (let k = 0; k < 30; k++) await once(k);
  expect(M.HEAPU8.length).toBe(heap);
}, 120_000);

test('a progressive MP4 of a 48 MB WebM is written in bounded memory (two passes through the repair)', async () => {
  const { initVideo } = await import('../../../js-glue/video.js');
  const M = await initVideo();
  const src = join(dir, 'big.webm');
  // 20 s of noise at 40 Mb/s: about 48 MB, a key frame a second.
  run('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'nullsrc=s=320x240:r=30,geq=random(1)*255:128:128', '-t', '20',
    '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '40M', '-minrate', '40M', '-maxrate', '40M', '-g', '30', src]);
  const size = statSync(src).size;
  expect(size).toBeGreaterThan(40e6);
  await remux(await writerWebm(), { container: 'mp4', ondata: () => {} });  // warm up
  const heap = M.HEAPU8.length;
  const dst = join(dir, 'big.mp4');
  const fd = openSync(dst, 'w');
  let info;
  try {
    info = await remux(src, { container: 'mp4', ondata: (b, offset) => { writeSync(fd, b, 0, b.length, offset); } });
  } finally {
    closeSync(fd);
  }
  // Holding the samples would take the whole 48 MB; a fragment (a second, about 5 MB) and the chunks may wait.
  expect(M.HEAPU8.length - heap).toBeLessThan(24 << 20);
  expect(info.frames).toBe(600);
  expect(statSync(dst).size).toBeGreaterThan(size - (1 << 20));
  const text = readFileSync(dst).subarray(0, 1 << 16).toString('latin1');
  expect(text.indexOf('moov')).toBeGreaterThan(0);
  expect(packets(dst)).toBe(packets(src));
  expect(packetBytes(dst)).toEqual(packetBytes(src));
  expect(duration(dst)).toBeCloseTo(20, 1);
}, 300_000);

test.each([['av1_opus', 'webm', 'av1'], ['h264_opus', 'mkv', 'avc']])('a Chromium MediaRecorder %s recording becomes an MP4 WebM cannot take back', async (name, ext, codec) => {
  const src = join(dir, `chrome_${name}.${ext}`);
  writeFileSync(src, readFileSync(new URL(`chrome_${name}.${ext}`, FIXTURES)));
  const mp4 = await bytesOf(await remux(src, { container: 'mp4' }));
  const out = join(dir, `chrome_${name}.mp4`);
  writeFileSync(out, mp4);
  expect(packets(out)).toBe(packets(src));
  expect(decodes(out)).toBe(true);
  const mb = await probeMp4(mp4);
  const [v, a] = packets(src).split('\n').map(Number);
  expect(mb.tracks.map((t) => [t.codec, t.packets])).toEqual([[codec, v], ['opus', a]]);
  await expect(remux(mp4, { container: 'webm' })).rejects.toThrow(TypeError);
}, 120_000);
