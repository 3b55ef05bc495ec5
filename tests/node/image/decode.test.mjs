// decodeImage on the real wasm builds: files written by Pillow (an independent encoder) in several
// PNG colour types and JPEG flavours, compared against Pillow's own decoding; limits; broken files.
import { init, loadVariant } from '../../../js-glue/core.js';
import { decodeImage, decodeImageOn, probeImage } from '../../../js-glue/image/decode.js';
import { pngOfSize, jpegOfSize } from '../server/hostile-files.mjs';
import { encodeJpeg, encodePng } from '../../../js-glue/image/encode.js';
import { flatImage, noiseImage, packed, pillowDecode, pillowEncode, psnrY, smoothImage, tempDir } from './helpers.mjs';

await init(); // describe() bodies below encode their fixtures while the suite is collected

let tmp;
let base;
let simd;
beforeAll(async () => {
  [base, simd] = await Promise.all([loadVariant(false), loadVariant(true)]);
  tmp = tempDir();
});
afterAll(() => tmp.cleanup());

const same = (a, b) => expect(Buffer.from(a)).toEqual(Buffer.from(b));

describe('PNG from Pillow decodes to exactly what Pillow decodes', () => {
  const ref = noiseImage(41, 27, 6);
  test.each(['png-rgba', 'png-rgb', 'png-grey', 'png-palette'])('%s', (kind) => {
    const file = pillowEncode(tmp.dir, ref, kind);
    const ours = decodeImage(file);
    const theirs = pillowDecode(tmp.dir, file);
    expect(ours).toMatchObject({ width: 41, height: 27, stride: 41 * 4 });
    expect(ours.data).toBeInstanceOf(Uint8ClampedArray);
    same(ours.data, theirs.data);
  });

  test('16-bit greyscale is reduced to the high byte', () => {
    const img = smoothImage(30, 20);
    const file = pillowEncode(tmp.dir, img, 'png-16');
    const ours = decodeImage(file);
    // Pillow wrote grey v as v*257; stb keeps the high byte, i.e. v again.
    const grey = pillowDecode(tmp.dir, pillowEncode(tmp.dir, img, 'png-grey'));
    same(ours.data, grey.data);
  });
});

describe('JPEG from Pillow (libjpeg) decodes close to what Pillow decodes', () => {
  const ref = smoothImage(160, 96);
  test.each(['jpeg', 'jpeg-progressive', 'jpeg-grey', 'jpeg-444'])('%s', (kind) => {
    const file = pillowEncode(tmp.dir, ref, kind);
    const ours = decodeImage(file);
    const theirs = pillowDecode(tmp.dir, file);
    expect(ours).toMatchObject({ width: 160, height: 96 });
    // Different IDCT and chroma upsampling: not bit-exact, but very close, and close to the source.
    expect(psnrY(packed(ours), theirs.data)).toBeGreaterThan(45);
    expect(psnrY(packed(ours), ref.data)).toBeGreaterThan(35);
    for (let i = 3; i < ours.data.length; i += 4) expect(ours.data[i]).toBe(255);
  });
});

test('accepts ArrayBuffer and other views; the input is not modified', () => {
  const png = encodePng(flatImage(20, 10));
  const copy = png.slice();
  const a = decodeImage(png);
  same(decodeImage(png.buffer).data, a.data);
  same(decodeImage(new DataView(png.buffer)).data, a.data);
  const padded = new Uint8Array(png.length + 10);
  padded.set(png, 5);
  same(decodeImage(padded.subarray(5, 5 + png.length)).data, a.data);
  same(png, copy);
});

test('the baseline and SIMD builds decode to identical pixels', () => {
  const img = smoothImage(75, 51);
  for (const file of [encodePng(img), encodeJpeg(img, { quality: 70 }), pillowEncode(tmp.dir, img, 'jpeg-progressive')]) {
    same(decodeImageOn(base, file).data, decodeImageOn(simd, file).data);
  }
});

describe('limits', () => {
  const png = encodePng(noiseImage(9, 7, 1)); // 9x7
  test('options lower the limits, checked on the header', () => {
    expect(() => decodeImage(png, { maxWidth: 8 })).toThrow(RangeError);
    expect(() => decodeImage(png, { maxWidth: 8 })).toThrow(/decodeImage: the PNG is 9x7, over the limit of 8x16384 and 268435456 pixels/);
    expect(() => decodeImage(png, { maxHeight: 6 })).toThrow(/the PNG is 9x7, over the limit/);
    expect(() => decodeImage(png, { maxPixels: 62 })).toThrow(/over the limit of 16384x16384 and 62 pixels/);
    expect(decodeImage(png, { maxWidth: 9, maxHeight: 7, maxPixels: 63 }).width).toBe(9);
    expect(() => decodeImage(png, { maxBytes: png.length - 1 })).toThrow(new RangeError(`decodeImage: the input is ${png.length} bytes, more than maxBytes ${png.length - 1}`));
  });

  test('a huge-dimension header is refused before any pixel memory is allocated', () => {
    // IHDR says 20000x20000 (1.6 GB of RGBA); the file is tiny.
    const huge = setPngSize(png, 20000, 20000);
    expect(() => decodeImage(huge)).toThrow(RangeError);
    expect(() => decodeImage(huge)).toThrow(/the PNG is 20000x20000, over the limit of 16384x16384/);
    const wide = setPngSize(png, 16384, 16384 + 1);
    expect(() => decodeImage(wide)).toThrow(/16384x16385, over the limit/);
    const jpg = encodeJpeg(smoothImage(16, 16));
    expect(() => decodeImage(setJpegSize(jpg, 30000, 100))).toThrow(/the JPEG is 30000x100, over the limit/);
    // Within the per-side limit but more pixels than allowed.
    expect(() => decodeImage(setPngSize(png, 16384, 16384), { maxPixels: 1e6 })).toThrow(/16384x16384, over the limit/);
  });

  test.each([
    ['maxWidth 0', { maxWidth: 0 }, RangeError, /decodeImage: maxWidth must be between 1 and 16384, got 0/],
    ['maxWidth above the core limit', { maxWidth: 16385 }, RangeError, /maxWidth must be between 1 and 16384/],
    ['maxHeight fractional', { maxHeight: 10.5 }, RangeError, /maxHeight must be an integer/],
    ['maxPixels NaN', { maxPixels: NaN }, RangeError, /maxPixels must be a number, got NaN/],
    ['maxPixels above 2^28', { maxPixels: 2 ** 28 + 1 }, RangeError, /maxPixels must be between 1 and 268435456/],
    ['maxBytes string', { maxBytes: '100' }, TypeError, /maxBytes must be a number, got "100"/],
    ['options a number', 5, TypeError, /decodeImage: options must be an object, got number/],
  ])('bad option: %s', (_, options, type, message) => {
    expect(() => decodeImage(png, options)).toThrow(type);
    expect(() => decodeImage(png, options)).toThrow(message);
  });
});

describe('broken input', () => {
  const png = encodePng(noiseImage(12, 8, 2));
  const jpg = encodeJpeg(smoothImage(24, 16), { quality: 80 });

  test.each([
    ['empty', new Uint8Array(0), RangeError, /decodeImage: bytes is empty \(0 bytes\)/],
    ['not bytes', 'hello', TypeError, /decodeImage: bytes must be a Uint8Array, ArrayBuffer or typed array view, got string/],
    ['null', null, TypeError, /got null/],
    ['a GIF', new TextEncoder().encode('GIF89a\x01\x00\x01\x00'), Error, /decodeImage: not a PNG or JPEG file \(it starts with 47 49 46 38 39 61 01 00\)/],
    ['PNG signature only', png.subarray(0, 8), Error, /decodeImage: PNG is truncated: it ends at byte 8 without an IEND chunk/],
    ['PNG cut in IDAT', png.subarray(0, png.length - 30), Error, /decodeImage: PNG is truncated: chunk 'IDAT' at offset 33 needs/],
    ['PNG without IEND', png.subarray(0, png.length - 12), Error, /PNG is truncated: it ends at byte \d+ without an IEND chunk/],
    ['JPEG cut in the scan', jpg.subarray(0, jpg.length - 40), Error, /decodeImage: JPEG is truncated: no end-of-image marker after the image data/],
    ['JPEG cut in a header', jpg.subarray(0, 30), Error, /JPEG is truncated: the marker segment 0xffdb at offset 20 needs 132 bytes but only 8 remain/],
    ['JPEG SOI only', jpg.subarray(0, 3), Error, /JPEG is truncated before its image data \(3 bytes\)/],
  ])('%s', (_, bytes, type, message) => {
    expect(() => decodeImage(bytes)).toThrow(type);
    expect(() => decodeImage(bytes)).toThrow(message);
  });

  test('a flipped bit in the PNG pixel data fails the CRC', () => {
    const bad = png.slice();
    bad[60] ^= 4;
    expect(() => decodeImage(bad)).toThrow(/decodeImage: PNG chunk 'IDAT' at offset 33 fails its CRC check/);
  });

  test('every truncation of a PNG and of a JPEG is an Error, never a partial image', () => {
    for (const file of [png, jpg]) {
      for (let n = 1; n < file.length; n++) {
        let err = null;
        try { decodeImage(file.subarray(0, n)); } catch (e) { err = e; }
        expect(err).toBeInstanceOf(Error);
        expect(err.message).toMatch(/^decodeImage: (PNG|JPEG) is truncated|^decodeImage: not a PNG or JPEG/);
      }
    }
  });

  test('a table our checks pass but the decoder refuses gives the decoder\'s reason', () => {
    const bad = jpg.slice();
    // The first Huffman table (DC 0, 12 codes): same count, but 3 codes of length 1 cannot exist.
    const dht = bad.findIndex((b, i) => b === 0xff && bad[i + 1] === 0xc4);
    bad.fill(0, dht + 5, dht + 21);
    bad[dht + 5] = 3;
    bad[dht + 6] = 9;
    expect(() => decodeImage(bad)).toThrow(/^decodeImage: corrupt JPEG: bad code lengths$/);
  });

  test('a Huffman table with more than 256 codes is refused before the decoder sees it', () => {
    const bad = jpg.slice();
    const dht = bad.findIndex((b, i) => b === 0xff && bad[i + 1] === 0xc4);
    bad.fill(0xff, dht + 5, dht + 21);
    expect(() => decodeImage(bad)).toThrow(/^decodeImage: JPEG Huffman table at offset \d+ declares 4080 codes \(at most 256\)$/);
  });
});

// ---- helpers that rewrite headers (with a valid CRC for PNG) ----
function crc32(bytes) {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}
function setPngSize(png, w, h) {
  const out = png.slice();
  const dv = new DataView(out.buffer);
  dv.setUint32(16, w);
  dv.setUint32(20, h);
  dv.setUint32(29, crc32(out.subarray(12, 29)));
  return out;
}
function setJpegSize(jpg, w, h) {
  const out = jpg.slice();
  const sof = out.findIndex((b, i) => b === 0xff && out[i + 1] === 0xc0);
  const dv = new DataView(out.buffer);
  dv.setUint16(sof + 5, h);
  dv.setUint16(sof + 7, w);
  return out;
}

describe('probeImage: the header after the structure check, no pixels decoded', () => {
  test('format and size of a PNG and a JPEG that declare 1 GiB of pixels (a few hundred KiB each)', async () => {
    const png = await pngOfSize(16384, 16384);
    const jpg = jpegOfSize(16384, 16384);
    expect(probeImage(png)).toEqual({ format: 'image/png', width: 16384, height: 16384 });
    expect(probeImage(jpg)).toEqual({ format: 'image/jpeg', width: 16384, height: 16384 });
  });

  test('a pixel budget: at the limit passes, one row over is a RangeError naming the size', () => {
    const jpg = jpegOfSize(1000, 500);
    expect(probeImage(jpg, { maxPixels: 500000 })).toEqual({ format: 'image/jpeg', width: 1000, height: 500 });
    const over = jpegOfSize(1000, 501);
    expect(() => probeImage(over, { maxPixels: 500000 })).toThrow(RangeError);
    expect(() => probeImage(over, { maxPixels: 500000 })).toThrow(/^probeImage: the JPEG is 1000x501, over the limit of 16384x16384 and 500000 pixels$/);
  });

  test('the same refusals as decodeImage, named probeImage', () => {
    expect(() => probeImage(new Uint8Array([1, 2, 3]))).toThrow(/^probeImage: not a PNG or JPEG file/);
    expect(() => probeImage('x.png')).toThrow(TypeError);
    const whole = jpegOfSize(64, 64);
    const cut = whole.subarray(0, whole.length - 4);
    expect(() => probeImage(cut)).toThrow(/^probeImage: JPEG is truncated/);
  });
});
