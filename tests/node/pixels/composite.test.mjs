import { init, composite, renderTextMark, textWatermark } from '../../../js-glue/index.js';
import { getCore } from '../../../js-glue/core.js';

beforeAll(() => init());

function solid(width, height, rgba) {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set(rgba, i * 4);
  return { data, width, height };
}
function noise(width, height, seed = 1) {
  const data = new Uint8Array(width * height * 4);
  let x = (seed * 2654435761 + 1) >>> 0;
  for (let i = 0; i < data.length; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    data[i] = x >>> 24;
  }
  return { data, width, height };
}
// Which pixels an opaque white mark turned white (1), row-major.
function footprint(width, height, mw, mh, options) {
  const out = composite(solid(width, height, [0, 0, 0, 255]), solid(mw, mh, [255, 255, 255, 255]), options);
  return Array.from({ length: width * height }, (_, i) => (out.data[i * 4] === 255 ? 1 : 0));
}
function markAt(width, height, x, y, mw = 2, mh = 2) {
  const f = new Array(width * height).fill(0);
  for (let j = 0; j < mh; j++) for (let i = 0; i < mw; i++) f[(y + j) * width + x + i] = 1;
  return f;
}

test('positions and margin', () => {
  expect(footprint(6, 5, 2, 2, { position: 'top-left', margin: 1 })).toEqual(markAt(6, 5, 1, 1));
  expect(footprint(6, 5, 2, 2, { position: 'top-right', margin: 1 })).toEqual(markAt(6, 5, 3, 1));
  expect(footprint(6, 5, 2, 2, { position: 'bottom-left', margin: 1 })).toEqual(markAt(6, 5, 1, 2));
  expect(footprint(6, 5, 2, 2, { position: 'bottom-right', margin: 1 })).toEqual(markAt(6, 5, 3, 2));
  expect(footprint(6, 5, 2, 2, { position: 'center', margin: 1 })).toEqual(markAt(6, 5, 2, 1));
  expect(footprint(6, 5, 2, 2)).toEqual(markAt(6, 5, 4, 3)); // defaults: bottom-right, margin 0
});

test('opacity 0 leaves the image exactly unchanged', () => {
  const img = noise(9, 7, 1);
  const out = composite(img, noise(4, 3, 2), { position: 'center', opacity: 0 });
  expect(Array.from(out.data)).toEqual(Array.from(img.data));
});

test('source-over blending with integer rounding', () => {
  const black = solid(1, 1, [0, 0, 0, 255]);
  expect(Array.from(composite(black, solid(1, 1, [255, 255, 255, 128])).data)).toEqual([128, 128, 128, 255]);
  expect(Array.from(composite(black, solid(1, 1, [255, 255, 255, 255]), { opacity: 0.5 }).data)).toEqual([128, 128, 128, 255]);
  // Over a transparent pixel the mark keeps its colour and alpha.
  expect(Array.from(composite(solid(1, 1, [9, 9, 9, 0]), solid(1, 1, [200, 100, 50, 77])).data)).toEqual([200, 100, 50, 77]);
  // Against the exact formula.
  const img = noise(23, 19, 7);
  const mark = noise(11, 13, 8);
  for (const opacity of [1, 0.7, 0.25]) {
    const out = composite(img, mark, { position: 'center', opacity });
    const o = Math.round(opacity * 255) / 255;
    let worst = 0;
    for (let y = 0; y < 13; y++) {
      for (let x = 0; x < 11; x++) {
        const m = (y * 11 + x) * 4;
        const d = ((y + 3) * 23 + x + 6) * 4;
        const as = (mark.data[m + 3] / 255) * o;
        const ad = img.data[d + 3] / 255;
        const a = as + ad * (1 - as);
        for (let c = 0; c < 3 && as > 0; c++) {
          const want = (mark.data[m + c] * as + img.data[d + c] * ad * (1 - as)) / a;
          worst = Math.max(worst, Math.abs(out.data[d + c] - want));
        }
        if (as > 0) worst = Math.max(worst, Math.abs(out.data[d + 3] - a * 255));
        else expect(Array.from(out.data.slice(d, d + 4))).toEqual(Array.from(img.data.slice(d, d + 4)));
      }
    }
    expect(worst).toBeLessThanOrEqual(0.5 + 1e-9);
  }
});

test('a mark larger than the image is clipped; inputs are not modified', () => {
  const img = solid(2, 2, [0, 0, 0, 255]);
  const mark = { data: new Uint8Array(36), width: 3, height: 3 };
  for (let i = 0; i < 9; i++) mark.data.set([i * 10, 0, 0, 255], i * 4);
  const before = [img.data.slice(), mark.data.slice()];
  const out = composite(img, mark, { position: 'center' });
  expect([out.data[0], out.data[4], out.data[8], out.data[12]]).toEqual([40, 50, 70, 80]);
  expect(img.data).toEqual(before[0]);
  expect(mark.data).toEqual(before[1]);
  expect(footprint(4, 3, 10, 1, { position: 'top-right' })).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  expect(footprint(4, 3, 2, 2, { position: 'top-left', margin: 16384 })).toEqual(new Array(12).fill(0));
});

test('strided image and mark', () => {
  const stride = 3 * 4 + 4;
  const data = new Uint8Array(stride * 2).fill(0xee);
  for (let y = 0; y < 2; y++) for (let x = 0; x < 3; x++) data.set([0, 0, 0, 255], y * stride + x * 4);
  const mstride = 8 + 8;
  const mdata = new Uint8Array(mstride * 2).fill(0x77);
  for (let y = 0; y < 2; y++) mdata.fill(255, y * mstride, y * mstride + 8);
  const out = composite({ data, width: 3, height: 2, stride }, { data: mdata, width: 2, height: 2, stride: mstride },
    { position: 'top-right' });
  expect(out.stride).toBe(stride);
  expect(Array.from(out.data.slice(0, stride))).toEqual([0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0xee, 0xee, 0xee, 0xee]);
});

test.each([
  [{ opacity: NaN }, RangeError, /composite: opacity must be a number, got NaN/],
  [{ opacity: 1.5 }, RangeError, /composite: opacity must be between 0 and 1, got 1.5/],
  [{ opacity: -0.01 }, RangeError, /composite: opacity must be between 0 and 1, got -0.01/],
  [{ opacity: '0.5' }, TypeError, /composite: opacity must be a number, got "0.5"/],
  [{ position: 'middle' }, RangeError, /composite: position must be one of "top-left", "top-right", "bottom-left", "bottom-right", "center", got "middle"/],
  [{ position: 3 }, TypeError, /composite: position must be one of/],
  [{ margin: -1 }, RangeError, /composite: margin must be between 0 and 16384, got -1/],
  [{ margin: 2.5 }, RangeError, /composite: margin must be an integer, got 2.5/],
  [{ margin: NaN }, RangeError, /composite: margin must be a number, got NaN/],
  [null, TypeError, /composite: options must be an object/],
])('composite rejects bad options %#', (options, type, message) => {
  const run = () => composite(solid(4, 4, [0, 0, 0, 255]), solid(2, 2, [255, 255, 255, 255]), options);
  expect(run).toThrow(type);
  expect(run).toThrow(message);
});

test('composite rejects bad images and marks', () => {
  const img = solid(4, 4, [0, 0, 0, 255]);
  expect(() => composite(img, { data: new Uint8Array(3), width: 1, height: 1 })).toThrow(/composite: watermark.data has 3 bytes/);
  expect(() => composite(img, null)).toThrow(TypeError);
  expect(() => composite({ data: new Uint8Array(4), width: 1, height: 0 }, img)).toThrow(/composite: image: width and height must be positive integers/);
});

test('the native side checks the options too', () => {
  const M = getCore();
  const p = M._malloc(32);
  try {
    expect(M.composite(p, 2, 2, 8, p + 16, 1, 1, 4, { position: 'center', margin: 0, opacity: NaN })).toBe(false);
    expect(M.lastErrorName()).toBe('RangeError');
    expect(M.lastErrorMessage()).toBe('composite: opacity must be between 0 and 1, got NaN');
    expect(M.composite(p, 2, 2, 8, p + 16, 1, 1, 4, { position: 'middle', margin: 0, opacity: 1 })).toBe(false);
    expect(M.lastErrorMessage()).toMatch(/position must be/);
  } finally {
    M._free(p);
  }
});

test('text watermarks need a browser canvas: a clear Error in Node', () => {
  expect(typeof OffscreenCanvas).toBe('undefined');
  expect(() => renderTextMark({ text: '© capturekit' })).toThrow(Error);
  expect(() => renderTextMark({ text: '© capturekit' })).toThrow(/needs? a browser canvas/);
  expect(() => textWatermark(solid(4, 4, [0, 0, 0, 255]), { text: 'hi', position: 'top-left' })).toThrow(/browser canvas/);
  // Arguments are still checked first, with their own errors.
  expect(() => renderTextMark({ text: 42 })).toThrow(TypeError);
  expect(() => renderTextMark({ text: '' })).toThrow(/text must not be empty/);
  expect(() => textWatermark(solid(4, 4, [0, 0, 0, 255]), { text: 'hi', opacity: 2 })).toThrow(RangeError);
});
