// 10,000 encode/decode operations on a small image, including failing ones: the wasm heap must not
// grow after the first hundred (every Bytes / DecodedImage is deleted, every malloc freed).
import { init, getCore } from '../../../js-glue/core.js';
import { encodeJpeg, encodePng } from '../../../js-glue/image/encode.js';
import { decodeImage } from '../../../js-glue/image/decode.js';
import { smoothImage } from './helpers.mjs';

beforeAll(() => init());

test('the wasm heap does not grow over 10,000 codec operations', () => {
  const M = getCore();
  const img = smoothImage(48, 32);
  const png = encodePng(img);
  const jpg = encodeJpeg(img);
  const truncated = png.subarray(0, png.length - 20);
  const ops = [
    () => encodeJpeg(img, { quality: 75 }).length,
    () => encodePng(img).length,
    () => decodeImage(png).width,
    () => decodeImage(jpg).height,
    () => {
      try { decodeImage(truncated); } catch { return -1; }
      throw new Error('truncated PNG decoded');
    },
    () => encodePng(img, { level: 9, strategy: 'filtered' }).length,
  ];
  let heapAfter100 = 0;
  let checksum = 0;
  for (let i = 0; i < 10000; i++) {
    checksum += ops[i % ops.length]();
    if (i === 99) heapAfter100 = M.HEAPU8.length;
  }
  expect(checksum).not.toBe(0);
  expect(heapAfter100).toBeGreaterThan(0);
  expect(M.HEAPU8.length).toBe(heapAfter100);
});

test('the check above would see a leak: undeleted results grow the heap', () => {
  const M = getCore();
  const img = smoothImage(48, 32);
  const p = M._malloc(img.data.length);
  M.HEAPU8.set(img.data, p);
  const before = M.HEAPU8.length;
  const leaked = [];
  for (let i = 0; i < 10000 && M.HEAPU8.length === before; i++) leaked.push(M.encodePng(p, 48, 32, 192, { level: 0, strategy: 0 }));
  expect(M.HEAPU8.length).toBeGreaterThan(before);
  for (const b of leaked) b.delete();
  M._free(p);
});
