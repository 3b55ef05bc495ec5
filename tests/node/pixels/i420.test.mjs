// toI420() on the real wasm builds: known BT.601 values, odd sizes, strides, bad input, identical bytes
// from the baseline and SIMD builds, and ffmpeg (swscale) as an independent judge.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { init, getCore, loadVariant } from '../../../js-glue/core.js';
import { toI420, toI420On } from '../../../js-glue/pixels/i420.js';

let base;
let simd;
let dir;
beforeAll(async () => {
  await init();
  [base, simd] = await Promise.all([loadVariant(false), loadVariant(true)]);
  dir = mkdtempSync(join(tmpdir(), 'ck-i420-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function solid(width, height, rgb) {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < data.length; i += 4) data.set([...rgb, 99], i);
  return { data, width, height };
}

// Photo-like: smooth gradients plus +-noise (deterministic LCG).
function photo(width, height, amp = 12, stride = width * 4) {
  const data = new Uint8Array(stride * height);
  let s = 1;
  const c = (v) => (v < 0 ? 0 : v > 255 ? 255 : v);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      s = (s * 1103515245 + 12345) >>> 0;
      const n = ((s >>> 16) % (2 * amp + 1)) - amp;
      const i = y * stride + x * 4;
      data[i] = c(Math.round((x * 255) / width) + n);
      data[i + 1] = c(Math.round((y * 255) / height) - n);
      data[i + 2] = c(Math.round(((x + y) * 255) / (width + height)) + (n >> 1));
      data[i + 3] = 255;
    }
  }
  return { data, width, height, stride };
}

const all = (a, v) => a.every((x) => x === v);

test.each([[1, 1], [2, 2], [5, 3], [33, 17]])('white, black and primaries at %ix%i', (w, h) => {
  const expectSolid = (rgb, y, u, v) => {
    const r = toI420(solid(w, h, rgb));
    expect([r.y.length, r.u.length, r.v.length]).toEqual([w * h, Math.ceil(w / 2) * Math.ceil(h / 2), Math.ceil(w / 2) * Math.ceil(h / 2)]);
    expect([all(r.y, y), all(r.u, u), all(r.v, v), r.y[0], r.u[0], r.v[0]]).toEqual([true, true, true, y, u, v]);
  };
  expectSolid([255, 255, 255], 235, 128, 128);
  expectSolid([0, 0, 0], 16, 128, 128);
  expectSolid([128, 128, 128], 126, 128, 128);
  expectSolid([255, 0, 0], 82, 90, 240);
  expectSolid([0, 255, 0], 144, 54, 34);
  expectSolid([0, 0, 255], 41, 240, 110);
});

test('chroma is the rounded average of each 2x2 block; odd sizes repeat the edge', () => {
  const r = toI420({ data: new Uint8Array([255, 0, 0, 0, 0, 255, 0, 0, 0, 0, 255, 0, 255, 255, 255, 0]), width: 2, height: 2 });
  expect([...r.y, r.u[0], r.v[0]]).toEqual([82, 144, 41, 235, 128, 128]);
  // 3x1: block 0 = (red, green), block 1 = blue alone.
  const odd = toI420({ data: new Uint8Array([255, 0, 0, 0, 0, 255, 0, 0, 0, 0, 255, 0]), width: 3, height: 1 });
  expect(Array.from(odd.u)).toEqual([(112 * 0 - 74 * 128 - 38 * 128 + 0x8080) >> 8, 240]);
  expect(Array.from(odd.v)).toEqual([(112 * 128 - 94 * 128 - 18 * 0 + 0x8080) >> 8, 110]);
  expect([odd.width, odd.height]).toEqual([3, 1]);
});

test('a stride wider than the row gives the same planes as the packed image', () => {
  const packed = photo(37, 9);
  const padded = photo(37, 9, 12, 37 * 4 + 20);
  const a = toI420(packed);
  const b = toI420(padded);
  expect([Buffer.from(a.y).equals(Buffer.from(b.y)), Buffer.from(a.u).equals(Buffer.from(b.u)),
    Buffer.from(a.v).equals(Buffer.from(b.v))]).toEqual([true, true, true]);
});

test('baseline and SIMD builds give identical bytes', () => {
  for (const [w, h] of [[1, 1], [3, 3], [17, 9], [16, 2], [65, 33], [640, 361]]) {
    const img = photo(w, h, 60);
    const a = toI420On(base, img);
    const b = toI420On(simd, img);
    for (const p of ['y', 'u', 'v']) expect([w, h, p, Buffer.compare(Buffer.from(a[p]), Buffer.from(b[p]))]).toEqual([w, h, p, 0]);
  }
});

function ffmpeg(img, flags) {
  const { width: w, height: h } = img;
  const input = join(dir, `in-${w}x${h}.rgba`);
  const output = join(dir, `out-${w}x${h}.yuv`);
  writeFileSync(input, img.data);
  const args = ['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgba', '-s', `${w}x${h}`, '-i', input];
  if (flags) args.push('-sws_flags', flags);
  args.push('-pix_fmt', 'yuv420p', '-f', 'rawvideo', output);
  const r = spawnSync('ffmpeg', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
  const out = readFileSync(output);
  const ys = w * h;
  const cs = Math.ceil(w / 2) * Math.ceil(h / 2);
  return { y: out.subarray(0, ys), u: out.subarray(ys, ys + cs), v: out.subarray(ys + cs, ys + 2 * cs) };
}

function diff(a, b) {
  expect(a.length).toBe(b.length);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / a.length };
}

test('matches ffmpeg within 1 level when swscale also box-filters the chroma (area+accurate_rnd)', () => {
  const img = photo(320, 240, 40);
  const ours = toI420(img);
  const ref = ffmpeg(img, 'area+accurate_rnd');
  for (const p of ['y', 'u', 'v']) expect([p, diff(ours[p], ref[p]).max <= 1]).toEqual([p, true]);
});

test('matches ffmpeg with default flags: Y within 1, chroma close (swscale filters chroma with bicubic)', () => {
  const img = photo(320, 240, 12);
  const ours = toI420(img);
  const ref = ffmpeg(img, null);
  expect(diff(ours.y, ref.y).max).toBeLessThanOrEqual(1);
  for (const p of ['u', 'v']) {
    const d = diff(ours[p], ref[p]);
    expect([p, d.max <= 4, d.mean < 1]).toEqual([p, true, true]);
  }
  // Odd sizes: swscale resamples 65 -> 33 chroma columns instead of repeating the edge, so only Y compares.
  const odd = photo(65, 33, 12);
  expect(diff(toI420(odd).y, ffmpeg(odd, null).y).max).toBeLessThanOrEqual(1);
});

test.each([
  [{ data: new Uint8Array(15), width: 2, height: 2 }, RangeError, /toI420: image.data has 15 bytes but 2x2 RGBA with stride 8 needs 16/],
  [{ data: new Uint8Array(16), width: 0, height: 4 }, RangeError, /positive integers/],
  [{ data: new Uint8Array(16), width: NaN, height: 4 }, RangeError, /positive integers/],
  [{ data: new Float32Array(4), width: 1, height: 1 }, TypeError, /data must be a Uint8Array/],
  [null, TypeError, /toI420: image must be an object/],
])('toI420 rejects bad input %#', (img, type, message) => {
  expect(() => toI420(img)).toThrow(type);
  expect(() => toI420(img)).toThrow(message);
});

test('the native side checks the image again', () => {
  const M = getCore();
  const p = M._malloc(64);
  try {
    expect(M.rgbaToI420(p, 2, 2, 4, p + 32)).toBe(false);
    expect(M.lastErrorName()).toBe('RangeError');
    expect(M.lastErrorMessage()).toMatch(/stride 4 is less than width\*4 \(8\)/);
  } finally {
    M._free(p);
  }
});
