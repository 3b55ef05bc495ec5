import { init, flipVertical } from '../../../js-glue/index.js';

beforeAll(() => init());

function bands(width, height) {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) data.fill(y, y * width * 4, (y + 1) * width * 4);
  return { data, width, height };
}

test('flip reverses the row order and keeps each row', () => {
  const out = flipVertical(bands(3, 5));
  for (let y = 0; y < 5; y++) expect(out.data[y * 12]).toBe(4 - y);
  expect(out.width).toBe(3);
  expect(out.height).toBe(5);
});

test('flip twice is the identity and the input is not modified', () => {
  const img = { data: new Uint8Array(64 * 33 * 4).map((_, i) => (i * 7919) & 255), width: 64, height: 33 };
  const copy = img.data.slice();
  const twice = flipVertical(flipVertical(img));
  expect(Buffer.from(twice.data)).toEqual(Buffer.from(copy));
  expect(img.data).toEqual(copy);
});

test('flip honours a stride wider than the row', () => {
  const stride = 3 * 4 + 4;
  const data = new Uint8Array(stride * 2);
  data.fill(1, 0, 12); data.fill(9, 12, 16); data.fill(2, 16, 28); data.fill(9, 28, 32);
  const out = flipVertical({ data, width: 3, height: 2, stride });
  expect(Array.from(out.data.slice(0, 12))).toEqual(new Array(12).fill(2));
  expect(Array.from(out.data.slice(16, 28))).toEqual(new Array(12).fill(1));
  expect(out.stride).toBe(stride);
});

test.each([
  [{ data: new Uint8Array(15), width: 2, height: 2 }, RangeError, /has 15 bytes but 2x2 RGBA with stride 8 needs 16/],
  [{ data: new Uint8Array(16), width: 0, height: 4 }, RangeError, /positive integers/],
  [{ data: new Uint8Array(16), width: 1.5, height: 2 }, RangeError, /positive integers/],
  [{ data: new Uint8Array(16), width: -2, height: -2 }, RangeError, /positive integers/],
  [{ data: new Uint8Array(16), width: 20000, height: 1 }, RangeError, /exceeds the limit/],
  [{ data: [1, 2, 3, 4], width: 1, height: 1 }, TypeError, /data must be a Uint8Array/],
  [{ data: new Uint8Array(16), width: 2, height: 2, stride: 4 }, RangeError, /stride must be between 8/],
  [null, TypeError, /must be an object/],
])('flip rejects bad input %#', (img, type, message) => {
  expect(() => flipVertical(img)).toThrow(type);
  expect(() => flipVertical(img)).toThrow(message);
});

test('flip: baseline and SIMD builds give identical bytes (64-byte blocks, 32, 4 and odd tails)', async () => {
  const { loadVariant } = await import('../../../js-glue/core.js');
  const [base, simd] = await Promise.all([loadVariant(false), loadVariant(true)]);
  for (const [w, h, stride] of [[1, 1, 4], [3, 5, 13], [16, 4, 64], [25, 7, 101], [301, 9, 1204]]) {
    const data = new Uint8Array(stride * h).map((_, i) => (i * 2654435761) >>> 24);
    const run = (M) => {
      const p = M._malloc(data.length);
      try {
        M.HEAPU8.set(data, p);
        expect(M.flipVertical(p, w, h, stride)).toBe(true);
        return M.HEAPU8.slice(p, p + data.length);
      } finally {
        M._free(p);
      }
    };
    const a = run(base);
    expect(Buffer.from(run(simd))).toEqual(Buffer.from(a));
    for (let y = 0; y < h; y++) {
      expect(Buffer.from(a.subarray(y * stride, y * stride + w * 4)))
        .toEqual(Buffer.from(data.subarray((h - 1 - y) * stride, (h - 1 - y) * stride + w * 4)));
    }
  }
});

test('pixels from another realm (a vm context, as from an iframe) and bare ArrayBuffers are accepted', async () => {
  const { runInNewContext } = await import('node:vm');
  const foreign = runInNewContext('new Uint8ClampedArray([1,1,1,1, 2,2,2,2])');
  expect(foreign instanceof Uint8ClampedArray).toBe(false);
  expect(Array.from(flipVertical({ data: foreign, width: 1, height: 2 }).data)).toEqual([2, 2, 2, 2, 1, 1, 1, 1]);
  const buffer = runInNewContext('new Uint8Array([3,3,3,3, 4,4,4,4]).buffer');
  expect(Array.from(flipVertical({ data: buffer, width: 1, height: 2 }).data)).toEqual([4, 4, 4, 4, 3, 3, 3, 3]);
  expect(() => flipVertical({ data: runInNewContext('new Uint16Array(4)'), width: 1, height: 2 })).toThrow(TypeError);
});
