// JPEG/PNG encoding on the real wasm builds, judged by an independent decoder (Pillow), plus our own
// decoder, the baseline-vs-SIMD byte comparison and bad input.
import { init, loadVariant } from '../../../js-glue/core.js';
import { encode, encodeJpeg, encodePng, encodeJpegOn, encodePngOn, PNG_STRATEGIES } from '../../../js-glue/image/encode.js';
import { decodeImage } from '../../../js-glue/image/decode.js';
import { toBlob } from '../../../js-glue/image/blob.js';
import { flatImage, noiseImage, packed, pillowJudge, psnrY, smoothImage, tempDir } from './helpers.mjs';

let tmp;
let base;
let simd;
beforeAll(async () => {
  await init();
  [base, simd] = await Promise.all([loadVariant(false), loadVariant(true)]);
  tmp = tempDir();
});
afterAll(() => tmp.cleanup());

const JPEG_PSNR_FLOOR_Q90 = 40; // dB, BT.601 luma, photo-like test image, judged by Pillow (libjpeg); ours is ~43.4

describe('JPEG', () => {
  test(`quality 90 on a smooth photo-like image: Pillow decodes it, PSNR-Y >= ${JPEG_PSNR_FLOOR_Q90} dB`, () => {
    const img = smoothImage(320, 240);
    const jpg = encodeJpeg(img, { quality: 90 });
    expect(jpg).toBeInstanceOf(Uint8Array);
    const j = pillowJudge(tmp.dir, jpg, img, 'q90');
    expect(j).toMatchObject({ format: 'JPEG', mode: 'RGB', width: 320, height: 240 });
    expect(j.psnrY).toBeGreaterThanOrEqual(JPEG_PSNR_FLOOR_Q90);
    expect(j.psnr).toBeGreaterThanOrEqual(37); // all of R, G, B (chroma is 4:2:0 at q90; ~39.2)
    // Our own decoder agrees with the file it made.
    const back = decodeImage(jpg);
    expect(psnrY(packed(back), img.data)).toBeGreaterThanOrEqual(JPEG_PSNR_FLOOR_Q90);
  });

  test('higher quality is larger and closer; quality 100 is 4:4:4 and above 45 dB', () => {
    const img = smoothImage(256, 160);
    const results = [30, 60, 90, 100].map((quality) => {
      const jpg = encodeJpeg(img, { quality });
      return { quality, size: jpg.length, ...pillowJudge(tmp.dir, jpg, img, `q${quality}`) };
    });
    for (let i = 1; i < results.length; i++) {
      expect(results[i].size).toBeGreaterThan(results[i - 1].size);
      expect(results[i].psnrY).toBeGreaterThan(results[i - 1].psnrY);
    }
    expect(results[3].psnrY).toBeGreaterThan(45);
  });

  test('a flat colour decodes (Pillow) to within 2 of itself, odd sizes and a padded stride', () => {
    const w = 37, h = 29, stride = w * 4 + 12;
    const data = new Uint8Array(stride * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([200, 120, 40, 255], y * stride + x * 4);
    const img = { data, width: w, height: h, stride };
    const jpg = encodeJpeg(img, { quality: 90 });
    const j = pillowJudge(tmp.dir, jpg, { data: packed(img), width: w, height: h }, 'flat');
    expect(j.width).toBe(37);
    expect(j.psnr).toBeGreaterThan(45); // at most ~1 level off everywhere
    const back = decodeImage(jpg);
    for (let i = 0; i < back.data.length; i += 4) {
      expect(Math.abs(back.data[i] - 200)).toBeLessThanOrEqual(2);
      expect(Math.abs(back.data[i + 1] - 120)).toBeLessThanOrEqual(2);
      expect(Math.abs(back.data[i + 2] - 40)).toBeLessThanOrEqual(2);
    }
  });

  test('the default quality is 90 and alpha is ignored', () => {
    const img = smoothImage(40, 24);
    const translucent = { ...img, data: img.data.map((v, i) => (i % 4 === 3 ? i & 255 : v)) };
    expect(Buffer.from(encodeJpeg(img))).toEqual(Buffer.from(encodeJpeg(img, { quality: 90 })));
    expect(Buffer.from(encodeJpeg(translucent))).toEqual(Buffer.from(encodeJpeg(img)));
  });
});

describe('PNG', () => {
  test('round-trips bit-exactly through Pillow and our decoder for every strategy and level', () => {
    const img = noiseImage(23, 17, 3); // random alpha: RGBA
    for (const strategy of PNG_STRATEGIES) {
      for (const level of [0, 1, 6, 9]) {
        const png = encodePng(img, { level, strategy });
        const j = pillowJudge(tmp.dir, png, img, `png-${strategy}-${level}`);
        expect({ strategy, level, mode: j.mode, exact: j.exact }).toEqual({ strategy, level, mode: 'RGBA', exact: true });
        expect(Buffer.from(decodeImage(png).data)).toEqual(Buffer.from(img.data));
      }
    }
  });

  test('a stride wider than the row: the padding never reaches the file', () => {
    const w = 31, h = 9, stride = w * 4 + 20;
    const img = noiseImage(w, h, 5, stride);
    const tight = { data: packed(img), width: w, height: h };
    const png = encodePng(img);
    expect(Buffer.from(png)).toEqual(Buffer.from(encodePng(tight)));
    expect(pillowJudge(tmp.dir, png, tight, 'stride').exact).toBe(true);
    const back = decodeImage(png);
    expect(back.stride).toBe(w * 4);
    expect(Buffer.from(back.data)).toEqual(Buffer.from(tight.data));
  });

  test('opaque images are written as RGB and still round-trip exactly', () => {
    for (const img of [smoothImage(120, 80), flatImage(150, 90)]) {
      const png = encodePng(img);
      const j = pillowJudge(tmp.dir, png, img, 'opaque');
      expect(j).toMatchObject({ format: 'PNG', mode: 'RGB', exact: true });
      expect(Buffer.from(decodeImage(png).data)).toEqual(Buffer.from(img.data));
    }
  });

  test('level 0 stores, level 9 compresses; auto matches the better strategy on flat and on noisy images', () => {
    const flat = flatImage(200, 120);
    expect(encodePng(flat, { level: 0 }).length).toBeGreaterThan(200 * 120 * 3);
    expect(encodePng(flat, { level: 9 }).length).toBeLessThan(200 * 120 * 3 / 20);
    expect(Buffer.from(encodePng(flat))).toEqual(Buffer.from(encodePng(flat, { strategy: 'default' })));
    const noisy = noiseImage(200, 120, 9);
    expect(Buffer.from(encodePng(noisy))).toEqual(Buffer.from(encodePng(noisy, { strategy: 'rle' })));
  });
});

describe('encode (canvas.toBlob style)', () => {
  test('format and 0..1 quality map onto the encoders', () => {
    const img = smoothImage(48, 32);
    const same = (a, b) => expect(Buffer.from(a)).toEqual(Buffer.from(b));
    same(encode(img), encodePng(img));
    same(encode(img, { format: 'image/png', quality: 0.3 }), encodePng(img));
    same(encode(img, { format: 'image/png', level: 9, strategy: 'filtered' }), encodePng(img, { level: 9, strategy: 'filtered' }));
    same(encode(img, { format: 'image/jpeg' }), encodeJpeg(img, { quality: 92 }));
    same(encode(img, { format: 'image/jpeg', quality: 0.8 }), encodeJpeg(img, { quality: 80 }));
    same(encode(img, { format: 'image/jpeg', quality: 0.854 }), encodeJpeg(img, { quality: 85 }));
    same(encode(img, { format: 'image/jpeg', quality: 0 }), encodeJpeg(img, { quality: 1 }));
    same(encode(img, { format: 'image/jpeg', quality: 1 }), encodeJpeg(img, { quality: 100 }));
  });

  test('toBlob types the bytes from their signature', async () => {
    const img = smoothImage(16, 16);
    const jpg = encode(img, { format: 'image/jpeg' });
    const blob = toBlob(jpg);
    expect(blob.type).toBe('image/jpeg');
    expect(Buffer.from(await blob.arrayBuffer())).toEqual(Buffer.from(jpg));
    expect(toBlob(encode(img)).type).toBe('image/png');
    expect(toBlob(encode(img).buffer).type).toBe('image/png');
    expect(toBlob(new Uint8Array([1, 2, 3])).type).toBe('application/octet-stream');
    expect(toBlob(jpg, 'image/x-custom').type).toBe('image/x-custom');
    expect(() => toBlob([1, 2])).toThrow(/toBlob: bytes must be a Uint8Array or ArrayBuffer, got Array/);
    expect(() => toBlob(jpg, '')).toThrow(TypeError);
  });
});

test('the baseline and SIMD builds write identical bytes', () => {
  expect(base.capturekitSimd).toBe(false);
  expect(simd.capturekitSimd).toBe(true);
  const images = [smoothImage(97, 61), flatImage(130, 70), noiseImage(33, 21, 4, 33 * 4 + 8)];
  for (const img of images) {
    for (const quality of [1, 50, 90, 100]) {
      expect(Buffer.from(encodeJpegOn(base, img, { quality }))).toEqual(Buffer.from(encodeJpegOn(simd, img, { quality })));
    }
    for (const strategy of ['auto', 'default', 'rle']) {
      expect(Buffer.from(encodePngOn(base, img, { strategy }))).toEqual(Buffer.from(encodePngOn(simd, img, { strategy })));
    }
  }
});

describe('bad input', () => {
  const img = smoothImage(4, 4);
  test.each([
    ['wrong buffer length', () => encodeJpeg({ data: new Uint8Array(63), width: 4, height: 4 }), RangeError, /encodeJpeg: image.data has 63 bytes but 4x4 RGBA with stride 16 needs 64/],
    ['PNG wrong buffer length', () => encodePng({ data: new Uint8Array(65), width: 4, height: 4 }), RangeError, /encodePng: image.data has 65 bytes/],
    ['not an image', () => encodePng(null), TypeError, /encodePng: image must be an object/],
    ['zero width', () => encodeJpeg({ data: new Uint8Array(0), width: 0, height: 4 }), RangeError, /positive integers/],
    ['data as array', () => encodeJpeg({ data: [1, 2, 3, 4], width: 1, height: 1 }), TypeError, /data must be a Uint8Array/],
    ['quality NaN', () => encodeJpeg(img, { quality: NaN }), RangeError, /encodeJpeg: quality must be a number, got NaN/],
    ['quality 0', () => encodeJpeg(img, { quality: 0 }), RangeError, /encodeJpeg: quality must be between 1 and 100, got 0/],
    ['quality 101', () => encodeJpeg(img, { quality: 101 }), RangeError, /between 1 and 100, got 101/],
    ['quality 90.5', () => encodeJpeg(img, { quality: 90.5 }), RangeError, /encodeJpeg: quality must be an integer, got 90.5/],
    ['quality string', () => encodeJpeg(img, { quality: '90' }), TypeError, /encodeJpeg: quality must be a number, got "90"/],
    ['options not an object', () => encodeJpeg(img, 90), TypeError, /encodeJpeg: options must be an object, got number/],
    ['level -1', () => encodePng(img, { level: -1 }), RangeError, /encodePng: level must be between 0 and 9, got -1/],
    ['level 10', () => encodePng(img, { level: 10 }), RangeError, /encodePng: level must be between 0 and 9, got 10/],
    ['level 2.5', () => encodePng(img, { level: 2.5 }), RangeError, /encodePng: level must be an integer/],
    ['unknown strategy', () => encodePng(img, { strategy: 'zopfli' }), RangeError, /encodePng: strategy must be one of "default", "filtered", "huffman-only", "rle", "fixed", "auto", got "zopfli"/],
    ['strategy number', () => encodePng(img, { strategy: 3 }), TypeError, /encodePng: strategy must be one of/],
    ['unknown format', () => encode(img, { format: 'image/webp' }), RangeError, /encode: format must be one of "image\/jpeg", "image\/png", got "image\/webp"/],
    ['quality above 1', () => encode(img, { format: 'image/jpeg', quality: 90 }), RangeError, /encode: quality must be between 0 and 1, got 90/],
    ['quality NaN (encode)', () => encode(img, { format: 'image/jpeg', quality: NaN }), RangeError, /encode: quality must be a number, got NaN/],
  ])('%s', (_, fn, type, message) => {
    expect(fn).toThrow(type);
    expect(fn).toThrow(message);
  });

  test('native checks stand behind the JS ones', () => {
    // Bypass the glue: the binding refuses the same things and records why.
    const p = base._malloc(64);
    try {
      expect(base.encodeJpeg(p, 4, 4, 16, { quality: 0 })).toBeNull();
      expect(base.lastErrorName()).toBe('RangeError');
      expect(base.lastErrorMessage()).toMatch(/quality must be between 1 and 100, got 0/);
      expect(base.encodePng(p, 4, 4, 16, { level: 6, strategy: 9 })).toBeNull();
      expect(base.lastErrorMessage()).toMatch(/unknown strategy/);
      expect(base.encodePng(p, 4, 4, 8, { level: 6, strategy: 0 })).toBeNull();
      expect(base.lastErrorMessage()).toMatch(/stride 8 is less than width\*4/);
    } finally {
      base._free(p);
    }
  });
});
