// JPEG and PNG encoding in wasm (stb_image_write; PNG deflated by zlib). The image crosses into wasm
// memory once, the file comes back once as a Uint8Array the caller owns.
import { getImageModule } from '../image.js';
import { checkEnum, checkImage, checkNumber } from '../validate.js';
import { alloc, takeBytes, throwLastError } from '../wasm-memory.js';

/** zlib strategies for encodePng, in the order of ck::PngStrategy (wasm/image/png_encode.h). */
export const PNG_STRATEGIES = ['default', 'filtered', 'huffman-only', 'rle', 'fixed', 'auto'];
/** The formats encode() writes. */
export const IMAGE_FORMATS = ['image/jpeg', 'image/png'];
/** canvas.toBlob's default JPEG quality in Chromium, used by encode() when none is given. */
export const DEFAULT_ENCODE_QUALITY = 0.92;

function optionsObject(o, name) {
  if (o === undefined || o === null) return {};
  if (typeof o !== 'object' || Array.isArray(o)) throw new TypeError(`${name}: options must be an object, got ${Array.isArray(o) ? 'an array' : typeof o}`);
  return o;
}

// Copies the image in, runs the encoder binding (which returns a Bytes object or null), copies the file out.
function runEncoder(M, image, name, call) {
  const src = checkImage(image, `${name}: image`);
  const ptr = alloc(M, src.data.length, 'image');
  try {
    M.HEAPU8.set(src.data, ptr);
    const out = call(ptr, src);
    if (!out) throwLastError(M);
    return takeBytes(out);
  } finally {
    M._free(ptr);
  }
}

/**
 * Encodes an RGBA image as a baseline JPEG (alpha is ignored, as in canvas.toBlob).
 * @param {{data: Uint8Array|Uint8ClampedArray|ArrayBuffer, width: number, height: number, stride?: number}} image
 * @param {{quality?: number}} [options] quality: integer 1..100 (default 90); 4:2:0 chroma up to 90, 4:4:4 above
 * @returns {Uint8Array} the JPEG file
 */
export function encodeJpeg(image, options) {
  return encodeJpegOn(getImageModule(), image, options);
}

/** encodeJpeg on a given core module (tests compare the baseline and SIMD builds). */
export function encodeJpegOn(M, image, options) {
  const { quality = 90 } = optionsObject(options, 'encodeJpeg');
  checkNumber(quality, 'encodeJpeg: quality', { min: 1, max: 100, integer: true });
  return runEncoder(M, image, 'encodeJpeg', (p, s) => M.encodeJpeg(p, s.width, s.height, s.stride, { quality }));
}

/**
 * Encodes an RGBA image as an 8-bit PNG (RGB when every pixel is opaque, else RGBA); lossless.
 * @param {object} image as for encodeJpeg
 * @param {{level?: number, strategy?: string}} [options]
 *   level: zlib level 0..9 (default 6); strategy: one of PNG_STRATEGIES (default 'auto': Z_RLE on noisy,
 *   photo-like rows, zlib's default LZ77 on flat, UI-like rows, chosen per band of 32 rows)
 * @returns {Uint8Array} the PNG file
 */
export function encodePng(image, options) {
  return encodePngOn(getImageModule(), image, options);
}

/** encodePng on a given core module. */
export function encodePngOn(M, image, options) {
  const { level = 6, strategy = 'auto' } = optionsObject(options, 'encodePng');
  checkNumber(level, 'encodePng: level', { min: 0, max: 9, integer: true });
  checkEnum(strategy, 'encodePng: strategy', PNG_STRATEGIES);
  const index = PNG_STRATEGIES.indexOf(strategy);
  return runEncoder(M, image, 'encodePng', (p, s) => M.encodePng(p, s.width, s.height, s.stride, { level, strategy: index }));
}

/**
 * canvas.toBlob-style encoding: a format and a 0..1 quality.
 * @param {object} image as for encodeJpeg
 * @param {{format?: 'image/jpeg'|'image/png', quality?: number, level?: number, strategy?: string}} [options]
 *   format defaults to 'image/png' (as canvas.toBlob); quality 0..1 maps to JPEG quality 1..100
 *   (default 0.92); level/strategy are passed to encodePng
 * @returns {Uint8Array}
 */
export function encode(image, options) {
  const o = optionsObject(options, 'encode');
  const format = o.format === undefined ? 'image/png' : o.format;
  checkEnum(format, 'encode: format', IMAGE_FORMATS);
  const quality = o.quality === undefined ? DEFAULT_ENCODE_QUALITY : o.quality;
  checkNumber(quality, 'encode: quality', { min: 0, max: 1 });
  if (format === 'image/jpeg') return encodeJpeg(image, { quality: Math.max(1, Math.round(quality * 100)) });
  return encodePng(image, { level: o.level, strategy: o.strategy });
}
