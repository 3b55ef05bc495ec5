// adjust() on the real wasm builds: hand-computed values, identity, strides, bad input, and the
// baseline and SIMD builds giving the same bytes.
import { init, getCore, loadVariant } from '../../../js-glue/core.js';
import { adjust, adjustOn } from '../../../js-glue/pixels/adjust.js';

let base;
let simd;
beforeAll(async () => {
  await init();
  [base, simd] = await Promise.all([loadVariant(false), loadVariant(true)]);
});

const px = (...values) => ({ data: new Uint8Array(values), width: values.length / 4, height: 1 });
const out = (img, o) => Array.from(adjust(img, o).data);

// Deterministic xorshift noise.
function noise(width, height, seed = 1, stride = width * 4) {
  const data = new Uint8Array(stride * height);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < data.length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    data[i] = x >>> 24;
  }
  return { data, width, height, stride };
}

test('all options at 0 (or absent) are an exact identity', () => {
  const img = noise(45, 7);
  for (const o of [undefined, {}, { brightness: 0, contrast: 0, saturation: 0 }]) {
    expect(Buffer.from(adjust(img, o).data)).toEqual(Buffer.from(img.data));
  }
});

test('brightness adds brightness*255 and clamps; alpha is untouched', () => {
  expect(out(px(0, 100, 250, 7), { brightness: 0.2 })).toEqual([51, 151, 255, 7]);
  expect(out(px(0, 100, 250, 7), { brightness: -1 })).toEqual([0, 0, 0, 7]);
  expect(out(px(10, 20, 30, 40), { brightness: 0.1 })).toEqual([36, 46, 56, 40]); // round(25.5) = 26
});

test('contrast scales around 128 after brightness', () => {
  expect(out(px(0, 128, 255, 9), { contrast: -1 })).toEqual([128, 128, 128, 9]);
  expect(out(px(100, 128, 200, 9), { contrast: 1 })).toEqual([72, 128, 255, 9]);
  expect(out(px(0, 64, 192, 9), { contrast: 0.5 })).toEqual([0, 32, 224, 9]);
  expect(out(px(100, 100, 100, 1), { brightness: 0.2, contrast: 1 })).toEqual([174, 174, 174, 1]);
});

test('saturation -1 is BT.601 greyscale, +1 doubles the distance from grey', () => {
  expect(out(px(255, 0, 0, 200, 0, 255, 0, 200, 0, 0, 255, 200), { saturation: -1 }))
    .toEqual([77, 77, 77, 200, 149, 149, 149, 200, 29, 29, 29, 200]);
  expect(out(px(200, 100, 50, 0), { saturation: 1 })).toEqual([255, 76, 0, 0]);
  expect(out(px(100, 100, 100, 3), { saturation: 1 })).toEqual([100, 100, 100, 3]);
});

test('a stride wider than the row keeps its padding; the input is not modified', () => {
  const img = noise(5, 3, 7, 5 * 4 + 8);
  const copy = img.data.slice();
  const res = adjust(img, { brightness: 0.5, saturation: -0.5 });
  expect(res.stride).toBe(28);
  expect(res.data).toBeInstanceOf(Uint8ClampedArray);
  for (let y = 0; y < 3; y++) {
    for (let i = 20; i < 28; i++) expect(res.data[y * 28 + i]).toBe(copy[y * 28 + i]);
    for (let x = 0; x < 5; x++) expect(res.data[y * 28 + x * 4 + 3]).toBe(copy[y * 28 + x * 4 + 3]);
  }
  expect(img.data).toEqual(copy);
});

test('baseline and SIMD builds give identical bytes', () => {
  // Every byte value in every channel; width 67 = 4 SIMD blocks of 16 + a scalar tail of 3.
  const img = noise(67, 31, 3);
  for (let i = 0; i < 1024; i++) img.data[i] = i & 255;
  const cases = [{ brightness: 0.3, contrast: 0.4, saturation: 0.5 }, { saturation: -1 }, { saturation: 1 },
    { contrast: -0.7 }, { contrast: 1 }, { brightness: -0.5, saturation: 1 }, { brightness: 1, contrast: -1 },
    { brightness: -1, contrast: 1, saturation: -1 }];
  let r = 12345;
  const rnd = () => { r = (r * 1103515245 + 12345) >>> 0; return (r / 2 ** 31) - 1; };
  for (let i = 0; i < 12; i++) cases.push({ brightness: rnd(), contrast: rnd(), saturation: rnd() });
  for (const o of cases) {
    const a = adjustOn(base, img, o).data;
    const b = adjustOn(simd, img, o).data;
    expect([o, Buffer.compare(Buffer.from(a), Buffer.from(b))]).toEqual([o, 0]);
  }
  expect(simd.capturekitSimd).toBe(true);
  expect(base.capturekitSimd).toBe(false);
});

test.each([
  [{ brightness: NaN }, RangeError, /adjust: options.brightness must be a number, got NaN/],
  [{ contrast: 1.5 }, RangeError, /adjust: options.contrast must be between -1 and 1, got 1.5/],
  [{ saturation: -Infinity }, RangeError, /options.saturation must be between -1 and 1, got -Infinity/],
  [{ saturation: '0.5' }, TypeError, /options.saturation must be a number, got "0.5"/],
  [{ brightnes: 0.5 }, TypeError, /unknown option "brightnes"/],
  [null, TypeError, /options must be an object/],
  [0.5, TypeError, /options must be an object/],
])('adjust rejects bad options %#', (o, type, message) => {
  const img = px(1, 2, 3, 4);
  expect(() => adjust(img, o)).toThrow(type);
  expect(() => adjust(img, o)).toThrow(message);
});

test.each([
  [{ data: new Uint8Array(15), width: 2, height: 2 }, RangeError, /adjust: image.data has 15 bytes/],
  [{ data: new Uint8Array(16), width: 2.5, height: 2 }, RangeError, /positive integers/],
  [{ data: [1, 2, 3, 4], width: 1, height: 1 }, TypeError, /data must be a Uint8Array/],
  [undefined, TypeError, /adjust: image must be an object/],
])('adjust rejects bad images %#', (img, type, message) => {
  expect(() => adjust(img, { brightness: 0.1 })).toThrow(type);
  expect(() => adjust(img, { brightness: 0.1 })).toThrow(message);
});

test('the native side checks the options again', () => {
  const M = getCore();
  const p = M._malloc(4);
  try {
    expect(M.adjustColor(p, 1, 1, 4, { brightness: NaN, contrast: 0, saturation: 0 })).toBe(false);
    expect(M.lastErrorName()).toBe('RangeError');
    expect(M.lastErrorMessage()).toMatch(/brightness must be between -1 and 1, got nan/);
    expect(M.adjustColor(p, 1, 1, 2, { brightness: 0, contrast: 0, saturation: 0 })).toBe(false);
    expect(M.lastErrorMessage()).toMatch(/stride 2 is less than width\*4/);
  } finally {
    M._free(p);
  }
});
