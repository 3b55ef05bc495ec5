import { init, resize, resizedSize, fitWithin, thumbnail, crop } from '../../../js-glue/index.js';
import { getCore, loadVariant } from '../../../js-glue/core.js';

beforeAll(() => init());

// Deterministic test images.
function noise(width, height, seed = 1) {
  const data = new Uint8Array(width * height * 4);
  let x = (seed * 2654435761 + 1) >>> 0;
  for (let i = 0; i < data.length; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    data[i] = x >>> 24;
  }
  return { data, width, height };
}
function photo(width, height) {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      data[i] = (x * 255 / width + 40 * Math.sin(y / 7)) & 255;
      data[i + 1] = (y * 255 / height) & 255;
      data[i + 2] = ((x ^ y) * 3) & 255;
      data[i + 3] = 255 - ((x + y) & 63);
    }
  }
  return { data, width, height };
}
const row = (values) => ({ data: new Uint8Array(values.flatMap((v) => [v, v, v, v])), width: values.length, height: 1 });
// Byte equality without Jest's element-by-element diff (slow on large arrays); says where they differ.
function expectSameBytes(actual, expected) {
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  const b = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  if (a.equals(b)) return;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  throw new Error(`bytes differ at ${i} of ${a.length}/${b.length}: ${a[i]} != ${b[i]}`);
}
const channel0 = (img) => Array.from(img.data.filter((_, i) => i % 4 === 0));

test('2x2 -> 1x1 area is the rounded average (half up)', () => {
  const img = { data: new Uint8Array([0, 1, 255, 0, 1, 1, 255, 1, 2, 1, 255, 0, 3, 1, 255, 1]), width: 2, height: 2 };
  const out = resize(img, { width: 1, height: 1 });
  expect(Array.from(out.data)).toEqual([2, 1, 255, 1]);
  expect(out.data).toBeInstanceOf(Uint8ClampedArray);
  expect([out.width, out.height, out.stride]).toEqual([1, 1, 4]);
});

test('same size is a copy, 1x1 enlarges to a flat image', () => {
  const img = noise(13, 7, 3);
  for (const method of ['area', 'bilinear', 'auto']) {
    expectSameBytes(resize(img, { width: 13, height: 7, method }).data, img.data);
  }
  const one = { data: new Uint8Array([10, 20, 30, 40]), width: 1, height: 1 };
  const big = resize(one, { width: 3, height: 2 });
  expect(Array.from(big.data)).toEqual([].concat(...Array(6).fill([10, 20, 30, 40])));
});

test('non-integer area ratios use fractional coverage', () => {
  expect(channel0(resize(row([0, 90, 180]), { width: 2, height: 1, method: 'area' }))).toEqual([30, 150]);
  expect(channel0(resize(row([100, 100, 50, 0, 0]), { width: 2, height: 1, method: 'area' }))).toEqual([90, 10]);
  expect(channel0(resize(row([0, 255, 0]), { width: 1, height: 1, method: 'area' }))).toEqual([85]);
});

test('integer-ratio area is the exact block average', () => {
  const img = noise(8, 6, 11);
  const out = resize(img, { width: 4, height: 3, method: 'area' });
  for (let y = 0; y < 3; y++) {
    for (let x = 0; x < 4; x++) {
      for (let c = 0; c < 4; c++) {
        let sum = 0;
        for (let j = 0; j < 2; j++) for (let i = 0; i < 2; i++) sum += img.data[((2 * y + j) * 8 + 2 * x + i) * 4 + c];
        expect(out.data[(y * 4 + x) * 4 + c]).toBe((sum + 2) >> 2);
      }
    }
  }
});

test('resize to 1x1 is the average', () => {
  for (const [w, h] of [[16, 16], [64, 4], [7, 5], [61, 43], [100, 1]]) {
    const img = noise(w, h, w + h);
    const out = resize(img, { width: 1, height: 1 });
    for (let c = 0; c < 4; c++) {
      let sum = 0;
      for (let i = 0; i < w * h; i++) sum += img.data[i * 4 + c];
      const avg = sum / (w * h);
      if ((w & (w - 1)) === 0 && (h & (h - 1)) === 0) expect(out.data[c]).toBe(Math.floor(avg + 0.5));
      else expect(Math.abs(out.data[c] - avg)).toBeLessThanOrEqual(0.55);
    }
  }
});

test('bilinear is pixel-centre aligned', () => {
  expect(channel0(resize(row([0, 255]), { width: 4, height: 1, method: 'bilinear' }))).toEqual([0, 64, 191, 255]);
  expect(channel0(resize(row([0, 1, 10, 20]), { width: 2, height: 1, method: 'bilinear' }))).toEqual([1, 15]);
  expect(channel0(resize(row([9, 50, 200]), { width: 1, height: 1, method: 'bilinear' }))).toEqual([50]);
});

test('auto is area when shrinking and bilinear when enlarging', () => {
  const img = noise(9, 6, 5);
  const same = (a, b) => expectSameBytes(a.data, b.data);
  same(resize(img, { width: 4, height: 5 }), resize(img, { width: 4, height: 5, method: 'area' }));
  same(resize(img, { width: 20, height: 13 }), resize(img, { width: 20, height: 13, method: 'bilinear' }));
});

test('a stride wider than the row gives the same result as packed pixels', () => {
  const packed = noise(9, 7, 21);
  const stride = 9 * 4 + 12;
  const data = new Uint8Array(stride * 7).fill(0xee);
  for (let y = 0; y < 7; y++) data.set(packed.data.subarray(y * 36, y * 36 + 36), y * stride);
  for (const method of ['area', 'bilinear']) {
    const a = resize({ data, width: 9, height: 7, stride }, { width: 5, height: 4, method });
    const b = resize(packed, { width: 5, height: 4, method });
    expectSameBytes(a.data, b.data);
  }
});

test('fit: contain keeps the aspect ratio; fitWithin and resizedSize say the size first', () => {
  const img = noise(64, 36, 2);
  expect(fitWithin(1920, 1080, 1280, 1280)).toEqual({ width: 1280, height: 720 });
  expect(fitWithin(1080, 1920, 100, 100)).toEqual({ width: 56, height: 100 });
  expect(fitWithin(10000, 1, 10, 10)).toEqual({ width: 10, height: 1 });
  expect(resizedSize(img, { width: 32, height: 32, fit: 'contain' })).toEqual({ width: 32, height: 18 });
  expect(resizedSize({ width: 64, height: 36 }, { width: 32, height: 32 })).toEqual({ width: 32, height: 32 });
  const out = resize(img, { width: 32, height: 32, fit: 'contain' });
  expect([out.width, out.height, out.data.length]).toEqual([32, 18, 32 * 18 * 4]);
  const up = resize(img, { width: 200, height: 200, fit: 'contain' });
  expect([up.width, up.height]).toEqual([200, 113]);
});

test('thumbnail fits the box and never enlarges', () => {
  const img = photo(400, 100);
  const t = thumbnail(img, { width: 200, height: 200 });
  expect([t.width, t.height]).toEqual([200, 50]);
  expectSameBytes(t.data, resize(img, { width: 200, height: 50, method: 'area' }).data);
  const small = thumbnail(img, { width: 1000, height: 1000 });
  expect([small.width, small.height]).toEqual([400, 100]);
  expectSameBytes(small.data, img.data);
});

test.each([
  [{ width: 0, height: 1 }, RangeError, /resize: target: width and height must be positive integers, got 0x1/],
  [{ width: -4, height: 4 }, RangeError, /positive integers, got -4x4/],
  [{ width: NaN, height: 4 }, RangeError, /positive integers, got NaNx4/],
  [{ width: 2.5, height: 4 }, RangeError, /positive integers, got 2.5x4/],
  [{ width: Infinity, height: 4 }, RangeError, /positive integers/],
  [{ width: 16385, height: 4 }, RangeError, /16385x4 exceeds the limit of 16384 per side/],
  [{ width: '10', height: 4 }, TypeError, /width and height must be numbers/],
  [{ height: 4 }, TypeError, /width and height must be numbers, got undefined/],
  [{ width: 4, height: 4, fit: 'cover' }, RangeError, /resize: fit must be one of "exact", "contain", got "cover"/],
  [{ width: 4, height: 4, method: 'lanczos' }, RangeError, /resize: method must be one of "auto", "bilinear", "area", got "lanczos"/],
  [{ width: 4, height: 4, method: 3 }, TypeError, /resize: method must be one of/],
  [null, TypeError, /resize: options must be an object/],
  [16, TypeError, /resize: options must be an object/],
])('resize rejects bad options %#', (options, type, message) => {
  const img = noise(4, 4);
  expect(() => resize(img, options)).toThrow(type);
  expect(() => resize(img, options)).toThrow(message);
});

test('resize, thumbnail and fitWithin reject bad images and boxes', () => {
  expect(() => resize({ data: new Uint8Array(15), width: 2, height: 2 }, { width: 1, height: 1 })).toThrow(/has 15 bytes/);
  expect(() => resize({ data: new Uint8Array(16), width: 20000, height: 1 }, { width: 1, height: 1 })).toThrow(RangeError);
  expect(() => thumbnail(noise(4, 4), { width: 0, height: 10 })).toThrow(/thumbnail: box: width and height must be positive integers/);
  expect(() => thumbnail(noise(4, 4), null)).toThrow(TypeError);
  expect(() => fitWithin(10, 10, 17000, 1)).toThrow(/fitWithin: box: 17000x1 exceeds the limit/);
  expect(() => fitWithin(10, NaN, 1, 1)).toThrow(RangeError);
});

test('the native side checks again when JS validation is bypassed', () => {
  const M = getCore();
  const bad = { width: 4, height: 4, fit: 'cover', method: 'auto' };
  expect(M.resizeTarget(4, 4, bad)).toEqual({ width: 0, height: 0 });
  expect(M.lastErrorName()).toBe('RangeError');
  expect(M.lastErrorMessage()).toMatch(/resize: fit must be "exact" or "contain", got "cover"/);
  expect(M.fitWithin(4, 4, 0, 4)).toEqual({ width: 0, height: 0 });
  expect(M.lastErrorMessage()).toMatch(/fitWithin: box: width and height must be positive/);
  expect(M.resize(0, 4, 4, 16, 0, { width: 2, height: 2, fit: 'exact', method: 'area' })).toBe(false);
  expect(M.lastErrorMessage()).toMatch(/resize: source: no pixel data/);
});

// Calls the binding of one module directly (the baseline and SIMD builds side by side).
function rawResize(M, img, opts) {
  const o = { fit: 'exact', method: 'auto', ...opts };
  const size = M.resizeTarget(img.width, img.height, o);
  const sp = M._malloc(img.data.length);
  const dp = M._malloc(size.width * size.height * 4);
  try {
    M.HEAPU8.set(img.data, sp);
    expect(M.resize(sp, img.width, img.height, img.stride || img.width * 4, dp, o)).toBe(true);
    return M.HEAPU8.slice(dp, dp + size.width * size.height * 4);
  } finally {
    M._free(sp);
    M._free(dp);
  }
}

test('the baseline and SIMD builds give identical bytes', async () => {
  const [base, simd] = await Promise.all([loadVariant(false), loadVariant(true)]);
  expect(base.capturekitSimd).toBe(false);
  expect(simd.capturekitSimd).toBe(true);
  const cases = [
    [photo(192, 108), 96, 54], [photo(192, 108), 128, 72], [photo(192, 108), 37, 23], [photo(192, 108), 1, 1],
    [noise(61, 43, 4), 17, 40], [noise(61, 43, 4), 200, 150], [noise(5, 3, 2), 4, 2], [noise(5, 3, 2), 13, 9],
    [noise(1000, 3, 6), 7, 3], [noise(3, 300, 7), 3, 29], [noise(31, 17, 8), 31, 17], [noise(4, 4, 9), 1, 1],
    [noise(9, 700, 10), 5, 3], // more than 64 vertical taps: the scalar vertical pass in both builds
  ];
  let compared = 0;
  for (const [img, width, height] of cases) {
    for (const method of ['area', 'bilinear', 'auto']) {
      const a = rawResize(base, img, { width, height, method });
      const b = rawResize(simd, img, { width, height, method });
      expectSameBytes(b, a);
      compared += a.length;
    }
  }
  // With a stride: the SIMD build through the public API agrees with the baseline.
  const img = photo(50, 20);
  const stride = 50 * 4 + 20;
  const data = new Uint8Array(stride * 20);
  for (let y = 0; y < 20; y++) data.set(img.data.subarray(y * 200, y * 200 + 200), y * stride);
  const viaApi = resize({ data, width: 50, height: 20, stride }, { width: 21, height: 9 });
  expectSameBytes(viaApi.data, rawResize(base, img, { width: 21, height: 9 }));
  expect(compared).toBeGreaterThan(100000);
});

test('10,000 resizes and crops do not grow the wasm heap after the first hundred', () => {
  const M = getCore();
  const img = photo(120, 80);
  let heapAfterWarmup = 0;
  for (let i = 0; i < 10000; i++) {
    if (i % 2 === 0) resize(img, { width: 37 + (i % 5), height: 29, method: i % 4 === 0 ? 'area' : 'bilinear' });
    else crop(img, { x: i % 50, y: i % 30, width: 40, height: 30 });
    if (i === 99) heapAfterWarmup = M.HEAPU8.length;
  }
  expect(M.HEAPU8.length).toBe(heapAfterWarmup);
});
