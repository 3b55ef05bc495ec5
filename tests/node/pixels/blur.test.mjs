// blur() on the real wasm builds: identity, constant images, a hand-computed impulse response,
// bad input, and the baseline and SIMD builds giving the same bytes.
import { init, getCore, loadVariant } from '../../../js-glue/core.js';
import { blur, blurOn } from '../../../js-glue/pixels/blur.js';

let base;
let simd;
beforeAll(async () => {
  await init();
  [base, simd] = await Promise.all([loadVariant(false), loadVariant(true)]);
});

function noise(width, height, seed = 1, stride = width * 4) {
  const data = new Uint8Array(stride * height);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < data.length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    data[i] = x >>> 24;
  }
  return { data, width, height, stride };
}

function solid(width, height, rgba, stride = width * 4) {
  const data = new Uint8Array(stride * height).fill(0xcd);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(rgba, y * stride + x * 4);
  return { data, width, height, stride };
}

test('radius 0 is the identity', () => {
  const img = noise(13, 7);
  expect(Buffer.from(blur(img, { radius: 0 }).data)).toEqual(Buffer.from(img.data));
});

test.each([[1, 1], [3, 5], [40, 2], [9, 70], [37, 37]])('a constant %ix%i image stays exactly constant', (w, h) => {
  const img = solid(w, h, [0, 1, 254, 255], w * 4 + 8);
  for (const radius of [1, 4, 17, 64]) {
    expect(Buffer.from(blur(img, { radius }).data)).toEqual(Buffer.from(img.data));
  }
});

test('impulse response by hand (radius 1: weights 12894, 1745 of 2^14)', () => {
  const data = new Uint8Array(3 * 3 * 4);
  data[(1 * 3 + 1) * 4] = 255;
  const res = blur({ data, width: 3, height: 3 }, { radius: 1 });
  expect(Array.from({ length: 9 }, (_, i) => res.data[i * 4])).toEqual([3, 21, 3, 21, 158, 21, 3, 21, 3]);
  expect(Array.from({ length: 9 }, (_, i) => res.data[i * 4 + 1])).toEqual(new Array(9).fill(0));
});

test('blur smooths noise and keeps the mean', () => {
  const img = noise(64, 64, 9);
  const res = blur(img, { radius: 4 });
  const tv = (d) => { let e = 0; for (let i = 4; i < d.length; i += 4) e += Math.abs(d[i] - d[i - 4]); return e; };
  const mean = (d) => d.reduce((a, b) => a + b, 0) / d.length;
  expect(tv(res.data) * 10).toBeLessThan(tv(img.data));
  expect(Math.abs(mean(res.data) - mean(img.data))).toBeLessThan(1);
});

test('baseline and SIMD builds give identical bytes', () => {
  // Odd widths (SIMD blocks of 16 bytes + scalar tails), stride padding, radii larger than the image.
  const images = [noise(45, 23, 2, 45 * 4 + 12), noise(131, 67, 3), noise(1, 1, 4), noise(5, 3, 5), noise(600, 9, 6)];
  for (const img of images) {
    for (const radius of [1, 2, 3, 4, 7, 16, 64]) {
      const a = blurOn(base, img, { radius }).data;
      const b = blurOn(simd, img, { radius }).data;
      expect([img.width, radius, Buffer.compare(Buffer.from(a), Buffer.from(b))]).toEqual([img.width, radius, 0]);
    }
  }
});

test.each([
  [{ radius: 1.5 }, RangeError, /blur: options.radius must be an integer, got 1.5/],
  [{ radius: 65 }, RangeError, /blur: options.radius must be between 0 and 64, got 65/],
  [{ radius: -1 }, RangeError, /between 0 and 64, got -1/],
  [{ radius: NaN }, RangeError, /options.radius must be a number, got NaN/],
  [{ radius: '4' }, TypeError, /options.radius must be a number, got "4"/],
  [{}, TypeError, /options.radius must be a number, got undefined/],
  [{ radius: 2, sigma: 1 }, TypeError, /unknown option "sigma"/],
  [undefined, TypeError, /blur: options must be an object \{ radius \}/],
  [4, TypeError, /blur: options must be an object/],
])('blur rejects bad options %#', (o, type, message) => {
  const img = solid(2, 2, [1, 2, 3, 4]);
  expect(() => blur(img, o)).toThrow(type);
  expect(() => blur(img, o)).toThrow(message);
});

test.each([
  [{ data: new Uint8Array(15), width: 2, height: 2 }, RangeError, /blur: image.data has 15 bytes but 2x2 RGBA with stride 8 needs 16/],
  [{ data: new Uint8Array(16), width: 2, height: 2, stride: 6 }, RangeError, /stride must be between 8/],
  [{ data: 'pixels', width: 1, height: 1 }, TypeError, /data must be a Uint8Array/],
])('blur rejects bad images %#', (img, type, message) => {
  expect(() => blur(img, { radius: 1 })).toThrow(type);
  expect(() => blur(img, { radius: 1 })).toThrow(message);
});

test('the native side checks the radius again', () => {
  const M = getCore();
  const p = M._malloc(16);
  try {
    expect(M.gaussianBlur(p, 2, 2, 8, { radius: 65 })).toBe(false);
    expect(M.lastErrorName()).toBe('RangeError');
    expect(M.lastErrorMessage()).toMatch(/radius must be between 0 and 64, got 65/);
  } finally {
    M._free(p);
  }
});
