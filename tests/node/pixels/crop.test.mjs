import { init, crop } from '../../../js-glue/index.js';
import { getCore } from '../../../js-glue/core.js';

beforeAll(() => init());

// 4x3 image, pixel (x, y) = {x, y, 7, 255}.
function coords(width = 4, height = 3, stride = width * 4) {
  const data = new Uint8Array(stride * height).fill(0xee);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([x, y, 7, 255], y * stride + x * 4);
  }
  return { data, width, height, stride };
}

test('crop copies the rectangle into a packed image', () => {
  const out = crop(coords(), { x: 1, y: 1, width: 2, height: 2 });
  expect(Array.from(out.data)).toEqual([1, 1, 7, 255, 2, 1, 7, 255, 1, 2, 7, 255, 2, 2, 7, 255]);
  expect([out.width, out.height, out.stride]).toEqual([2, 2, 8]);
  expect(out.data).toBeInstanceOf(Uint8ClampedArray);
});

test('whole image, one pixel, and a strided source', () => {
  const img = coords();
  expect(Array.from(crop(img, { x: 0, y: 0, width: 4, height: 3 }).data)).toEqual(Array.from(img.data));
  expect(Array.from(crop(img, { x: 3, y: 2, width: 1, height: 1 }).data)).toEqual([3, 2, 7, 255]);
  const strided = coords(5, 4, 5 * 4 + 12);
  const out = crop(strided, { x: 2, y: 1, width: 3, height: 3 });
  expect(out.stride).toBe(12);
  for (let y = 0; y < 3; y++) {
    for (let x = 0; x < 3; x++) expect(Array.from(out.data.slice((y * 3 + x) * 4, (y * 3 + x) * 4 + 4))).toEqual([x + 2, y + 1, 7, 255]);
  }
});

test('the input is not modified', () => {
  const img = coords();
  const copy = img.data.slice();
  crop(img, { x: 1, y: 0, width: 2, height: 3 });
  expect(img.data).toEqual(copy);
});

test.each([
  [{ x: 3, y: 0, width: 2, height: 1 }, RangeError, 'crop: rectangle {x: 3, y: 0, width: 2, height: 1} does not lie inside the 4x3 image'],
  [{ x: -1, y: 0, width: 1, height: 1 }, RangeError, /does not lie inside the 4x3 image/],
  [{ x: 0, y: 2, width: 1, height: 2 }, RangeError, /does not lie inside/],
  [{ x: 4, y: 0, width: 1, height: 1 }, RangeError, /does not lie inside/],
  [{ x: 0, y: 0, width: 0, height: 1 }, RangeError, /must have a positive width and height/],
  [{ x: 0, y: 0, width: 1, height: -2 }, RangeError, /must have a positive width and height/],
  [{ x: 0.5, y: 0, width: 1, height: 1 }, RangeError, /crop: rect.x must be an integer, got 0.5/],
  [{ x: 0, y: NaN, width: 1, height: 1 }, RangeError, /crop: rect.y must be a number, got NaN/],
  [{ x: 0, y: 0, width: Infinity, height: 1 }, RangeError, /crop: rect.width must be an integer, got Infinity/],
  [{ x: 0, y: 0, width: 1e9, height: 1 }, RangeError, /does not lie inside/],
  [{ x: '1', y: 0, width: 1, height: 1 }, TypeError, /crop: rect.x must be a number, got "1"/],
  [{ x: 0, y: 0, width: 1 }, TypeError, /crop: rect.height must be a number, got undefined/],
  [null, TypeError, /crop: rect must be an object/],
])('crop rejects bad rectangles %#', (rect, type, message) => {
  expect(() => crop(coords(), rect)).toThrow(type);
  expect(() => crop(coords(), rect)).toThrow(message);
});

test('crop rejects bad images', () => {
  expect(() => crop({ data: new Uint8Array(15), width: 2, height: 2 }, { x: 0, y: 0, width: 1, height: 1 })).toThrow(RangeError);
  expect(() => crop({ data: [1, 2, 3, 4], width: 1, height: 1 }, { x: 0, y: 0, width: 1, height: 1 })).toThrow(TypeError);
  expect(() => crop({ data: new Uint8Array(16), width: 16385, height: 1 }, { x: 0, y: 0, width: 1, height: 1 })).toThrow(/exceeds the limit/);
});

test('the native side checks the rectangle again', () => {
  const M = getCore();
  const p = M._malloc(48);
  try {
    expect(M.crop(p, 4, 3, 16, p, { x: 3, y: 0, width: 2, height: 1 })).toBe(false);
    expect(M.lastErrorName()).toBe('RangeError');
    expect(M.lastErrorMessage()).toBe('crop: rectangle {x: 3, y: 0, width: 2, height: 1} does not lie inside the 4x3 image');
  } finally {
    M._free(p);
  }
});
