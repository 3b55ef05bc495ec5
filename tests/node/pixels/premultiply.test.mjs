import { init, unpremultiplyAlpha } from '../../../js-glue/index.js';
import { getCore } from '../../../js-glue/core.js';

beforeAll(() => init());

test('every value and alpha matches min(255, (v*255 + a/2) / a), alpha 0 gives 0', () => {
  // 256 x 256: pixel (c, a) = {c, 255 - c, c >> 1, a}.
  const data = new Uint8Array(256 * 256 * 4);
  for (let a = 0; a < 256; a++) {
    for (let c = 0; c < 256; c++) data.set([c, 255 - c, c >> 1, a], (a * 256 + c) * 4);
  }
  const out = unpremultiplyAlpha({ data, width: 256, height: 256 });
  const want = (v, a) => (a === 0 ? 0 : Math.min(255, Math.floor((v * 255 + (a >> 1)) / a)));
  let wrong = 0;
  for (let a = 0; a < 256; a++) {
    for (let c = 0; c < 256; c++) {
      const i = (a * 256 + c) * 4;
      if (out.data[i] !== want(c, a) || out.data[i + 1] !== want(255 - c, a) || out.data[i + 2] !== want(c >> 1, a) ||
          out.data[i + 3] !== a) wrong++;
    }
  }
  expect(wrong).toBe(0);
});

test('examples, 1x1, and the input is left alone', () => {
  const img = { data: new Uint8ClampedArray([64, 32, 0, 128]), width: 1, height: 1 };
  expect(Array.from(unpremultiplyAlpha(img).data)).toEqual([128, 64, 0, 128]);
  expect(Array.from(img.data)).toEqual([64, 32, 0, 128]);
  expect(Array.from(unpremultiplyAlpha({ data: new Uint8Array([10, 20, 30, 0]), width: 1, height: 1 }).data)).toEqual([0, 0, 0, 0]);
  expect(Array.from(unpremultiplyAlpha({ data: new Uint8Array([10, 20, 30, 255]), width: 1, height: 1 }).data)).toEqual([10, 20, 30, 255]);
});

test('stride padding is kept', () => {
  const stride = 3 * 4 + 4;
  const data = new Uint8Array(stride * 2).fill(0xee);
  for (let y = 0; y < 2; y++) for (let x = 0; x < 3; x++) data.set([64, 64, 64, 128], y * stride + x * 4);
  const out = unpremultiplyAlpha({ data, width: 3, height: 2, stride });
  expect(out.stride).toBe(stride);
  expect(Array.from(out.data.slice(0, stride))).toEqual([...Array(3).fill([128, 128, 128, 128]).flat(), 0xee, 0xee, 0xee, 0xee]);
});

test.each([
  [{ data: new Uint8Array(15), width: 2, height: 2 }, RangeError, /has 15 bytes but 2x2 RGBA with stride 8 needs 16/],
  [{ data: new Uint8Array(16), width: 0, height: 4 }, RangeError, /positive integers/],
  [{ data: new Uint8Array(16), width: NaN, height: 4 }, RangeError, /positive integers/],
  [{ data: new Uint8Array(16), width: 20000, height: 1 }, RangeError, /exceeds the limit/],
  [{ data: 'pixels', width: 1, height: 1 }, TypeError, /data must be a Uint8Array/],
  [undefined, TypeError, /must be an object/],
])('unpremultiplyAlpha rejects bad images %#', (img, type, message) => {
  expect(() => unpremultiplyAlpha(img)).toThrow(type);
  expect(() => unpremultiplyAlpha(img)).toThrow(message);
});

test('the native side checks too', () => {
  const M = getCore();
  expect(M.unpremultiplyAlpha(0, 1, 1, 4)).toBe(false);
  expect(M.lastErrorName()).toBe('TypeError');
  expect(M.lastErrorMessage()).toMatch(/unpremultiplyAlpha: image: no pixel data/);
});
