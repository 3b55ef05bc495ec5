// H264Encoder on the real wasm builds (baseline and SIMD) in Node: OpenH264 in capturekit-h264, judged
// by ffprobe (codec, profile, frames, key frames), a full ffmpeg decode and ffmpeg's psnr filter against
// the input; the 'avc' format against its avcC; both builds give the same bytes; the module's size;
// bad input refused with clear errors.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { H264Encoder, loadH264Variant } from '../../../js-glue/h264.js';
import { patternFrame, probe, psnr, tempDir } from '../video/video-fixtures.mjs';

const W = 320;
const H = 240;
const N = 90;
// Measured on this build: 43.9 dB average (Y 44.2) at 1 Mb/s for this pattern, both builds; the floor
// leaves room for a rate-control change, not for a wrong colour conversion or a swapped plane (< 20 dB).
const PSNR_FLOOR_DB = 34;
const frames = Array.from({ length: N }, (_, i) => patternFrame(W, H, i));
let dir;
beforeAll(() => { dir = tempDir('ck-h264-'); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function encodeAll(simd, options = {}) {
  const module = await loadH264Variant(simd);
  const enc = await H264Encoder.create({ width: W, height: H, fps: 30, bitrate: 1_000_000, keyframeInterval: 30, module, ...options });
  const units = frames.map((f, i) => enc.encode(f, { keyframe: i === 45 }));
  const codec = enc.codec;
  const avcC = enc.avcC;
  enc.close();
  return { units, codec, avcC };
}

// Key frames: 0, every 30th after the last one, and 45 as asked (which restarts the count: 75, not 60).
test.each([false, true])('simd %s: Annex B decodes by ffmpeg frame for frame, key frames where asked, PSNR above the floor', async (simd) => {
  const { units, codec } = await encodeAll(simd);
  expect(units.map((u) => u.index)).toEqual(frames.map((_, i) => i));
  expect(units.filter((u) => u.keyframe).map((u) => u.index)).toEqual([0, 30, 45, 75]);
  expect(codec).toMatch(/^avc1\.42[0-9a-f]{4}$/);
  const file = join(dir, `clip-${simd}.h264`);
  writeFileSync(file, Buffer.concat(units.map((u) => u.data)));
  const p = probe(file);
  expect(p).toMatchObject({ codec: 'h264', width: W, height: H, frames: N });
  const profile = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=profile', '-of', 'csv=p=0', file], { encoding: 'utf8' });
  expect(profile.trim()).toBe('Constrained Baseline');
  const keys = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'frame=key_frame', '-of', 'csv=p=0', file], { encoding: 'utf8' })
    .trim().split('\n').map(Number);
  expect(keys.flatMap((k, i) => (k ? [i] : []))).toEqual([0, 30, 45, 75]);
  execFileSync('ffmpeg', ['-v', 'error', '-xerror', '-i', file, '-f', 'null', '-']);
  const q = psnr(file, frames, dir);
  expect(q.average).toBeGreaterThan(PSNR_FLOOR_DB);
});

test('both builds give the same bytes; the avc format is the Annex B stream with lengths and the SPS/PPS in avcC', async () => {
  const base = await encodeAll(false);
  const simd = await encodeAll(true);
  expect(Buffer.concat(simd.units.map((u) => u.data)).equals(Buffer.concat(base.units.map((u) => u.data)))).toBe(true);
  const avc = await encodeAll(false, { format: 'avc' });
  expect(avc.avcC[0]).toBe(1);
  expect(avc.avcC[1]).toBe(0x42);
  // Rebuild Annex B from the avc form: start codes for lengths, SPS/PPS from avcC before each key frame.
  const a = avc.avcC;
  const spsLen = (a[6] << 8) | a[7];
  const sps = a.subarray(8, 8 + spsLen);
  const ppsLen = (a[9 + spsLen] << 8) | a[10 + spsLen];
  const pps = a.subarray(11 + spsLen, 11 + spsLen + ppsLen);
  const sc = Buffer.from([0, 0, 0, 1]);
  avc.units.forEach((u, i) => {
    const parts = u.keyframe ? [sc, sps, sc, pps] : [];
    for (let k = 0; k < u.data.length;) {
      const len = (u.data[k] << 24 >>> 0) + (u.data[k + 1] << 16) + (u.data[k + 2] << 8) + u.data[k + 3];
      expect(len).toBeGreaterThan(0);
      parts.push(sc, u.data.subarray(k + 4, k + 4 + len));
      k += 4 + len;
    }
    expect(Buffer.concat(parts).equals(Buffer.from(base.units[i].data))).toBe(true);
  });
});

test('I420 in gives the same stream as the same picture in RGBA', async () => {
  const module = await loadH264Variant(false);
  const rgba = await H264Encoder.create({ width: W, height: H, module });
  const i420 = await H264Encoder.create({ width: W, height: H, module });
  // The I420 of frame 0 as ffmpeg makes it from the RGBA (BT.601 limited, the same integers as ours
  // up to rounding): the streams are compared after decoding instead of by bytes.
  const raw = join(dir, 'f0.rgba');
  writeFileSync(raw, frames[0].data);
  const yuv = execFileSync('ffmpeg', ['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgba', '-s', `${W}x${H}`, '-i', raw, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-']);
  const y = new Uint8Array(yuv.subarray(0, W * H));
  const u = new Uint8Array(yuv.subarray(W * H, W * H * 5 / 4));
  const v = new Uint8Array(yuv.subarray(W * H * 5 / 4));
  const a = rgba.encode(frames[0]);
  const b = i420.encodeI420({ y, u, v });
  expect(a.keyframe && b.keyframe).toBe(true);
  const decode = (unit, name) => {
    writeFileSync(join(dir, name), unit.data);
    return execFileSync('ffmpeg', ['-v', 'error', '-i', join(dir, name), '-f', 'rawvideo', '-pix_fmt', 'gray', '-']);
  };
  const da = decode(a, 'a.h264');
  const db = decode(b, 'b.h264');
  let diff = 0;
  for (let i = 0; i < da.length; i++) diff += Math.abs(da[i] - db[i]);
  expect(da.length).toBe(W * H);
  expect(diff / da.length).toBeLessThan(2);  // the same picture, give or take a conversion rounding
  rgba.close();
  i420.close();
});

test('the module is within its 300 KB gzip budget', () => {
  for (const name of ['capturekit-h264.wasm', 'capturekit-h264-simd.wasm']) {
    const gz = gzipSync(readFileSync(new URL(`../../../dist/${name}`, import.meta.url)), { level: 9 }).length;
    expect(gz).toBeLessThan(300 * 1024);
  }
});

test('bad options and calls are refused with clear errors', async () => {
  const module = await loadH264Variant(false);
  await expect(H264Encoder.create({ width: 321, height: 240, module })).rejects.toThrow(/width 321 is odd/);
  await expect(H264Encoder.create({ width: 8, height: 240, module })).rejects.toThrow(RangeError);
  await expect(H264Encoder.create({ width: 320, height: 240, bitrate: 5, module })).rejects.toThrow(/bitrate/);
  await expect(H264Encoder.create({ width: 320, height: 240, format: 'mp4', module })).rejects.toThrow(/format/);
  await expect(H264Encoder.create({ width: 320, height: 240, speed: 3, module })).rejects.toThrow(/unknown option "speed"/);
  const enc = await H264Encoder.create({ width: 320, height: 240, module });
  expect(() => enc.encode(patternFrame(160, 120, 0))).toThrow(/160x120 but the encoder is 320x240/);
  expect(() => enc.encode(frames[0], { keyframe: 1 })).toThrow(/keyframe must be a boolean/);
  expect(() => enc.encodeI420({ y: new Uint8Array(10), u: new Uint8Array(10), v: new Uint8Array(10) })).toThrow(/planes.y has 10 bytes/);
  expect(enc.encode(frames[0]).keyframe).toBe(true);  // still usable
  enc.close();
  expect(() => enc.encode(frames[0])).toThrow(/closed/);
});

test('memory stays bounded: 600 frames through one encoder, and 20 encoders in turn, leave the wasm heap where it was', async () => {
  const module = await loadH264Variant(false);
  const small = Array.from({ length: 8 }, (_, i) => patternFrame(160, 120, i));
  const enc = await H264Encoder.create({ width: 160, height: 120, module });
  for (let i = 0; i < 100; i++) enc.encode(small[i % 8]);
  const settled = module.HEAPU8.length;
  for (let i = 0; i < 500; i++) enc.encode(small[i % 8], { keyframe: i % 50 === 0 });
  expect(module.HEAPU8.length).toBe(settled);
  enc.close();
  // Encoders made and closed in turn: what one took is reused by the next (the heap does not grow).
  for (let k = 0; k < 3; k++) { const e = await H264Encoder.create({ width: 640, height: 480, module }); e.encode(patternFrame(640, 480, k)); e.close(); }
  const after = module.HEAPU8.length;
  for (let k = 0; k < 20; k++) { const e = await H264Encoder.create({ width: 640, height: 480, module }); e.encode(patternFrame(640, 480, k)); e.close(); }
  expect(module.HEAPU8.length).toBe(after);
});
