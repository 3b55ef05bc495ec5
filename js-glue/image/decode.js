// PNG and JPEG decoding in wasm (stb_image) into RGBA, with limits checked on the header before any
// pixel memory is allocated.
import { getImageModule } from '../image.js';
import { MAX_PIXELS, MAX_SIDE, checkNumber, toBytes } from '../validate.js';
import { alloc, throwLastError } from '../wasm-memory.js';
import { makeImage } from '../image-ops.js';
import { sniffImageType } from './blob.js';

/** The most input decodeImage accepts (wasm/image/decode.h kMaxDecodeInputBytes). */
export const MAX_DECODE_BYTES = 2 ** 28;

const asBytes = (bytes, where) => toBytes(bytes, `${where}: bytes`, 'a Uint8Array, ArrayBuffer or typed array view');

/**
 * Decodes a PNG or JPEG file into RGBA (grey, palette, 16-bit and CMYK are converted; missing alpha is 255).
 * @param {Uint8Array|ArrayBuffer|ArrayBufferView} bytes the file
 * @param {{maxWidth?: number, maxHeight?: number, maxPixels?: number, maxBytes?: number}} [options]
 *   limits (defaults: 16384, 16384, 2^28, 2^28 bytes), each may only be lowered
 * @returns {{data: Uint8ClampedArray, width: number, height: number, stride: number}}
 * @throws {TypeError} bytes of the wrong type; {RangeError} empty input or a limit exceeded;
 *   {Error} not a PNG/JPEG, or corrupt or truncated data (the message says where)
 */
export function decodeImage(bytes, options) {
  return decodeImageOn(getImageModule(), bytes, options);
}

// The options' limits (checked, defaults filled in) after the input's own checks.
function readLimits(options, data, where) {
  if (options === null || (options !== undefined && typeof options !== 'object')) {
    throw new TypeError(`${where}: options must be an object, got ${options === null ? 'null' : typeof options}`);
  }
  const o = options || {};
  const limits = {
    maxWidth: o.maxWidth === undefined ? MAX_SIDE : checkNumber(o.maxWidth, `${where}: maxWidth`, { min: 1, max: MAX_SIDE, integer: true }),
    maxHeight: o.maxHeight === undefined ? MAX_SIDE : checkNumber(o.maxHeight, `${where}: maxHeight`, { min: 1, max: MAX_SIDE, integer: true }),
    maxPixels: o.maxPixels === undefined ? MAX_PIXELS : checkNumber(o.maxPixels, `${where}: maxPixels`, { min: 1, max: MAX_PIXELS, integer: true }),
    maxBytes: o.maxBytes === undefined ? MAX_DECODE_BYTES : checkNumber(o.maxBytes, `${where}: maxBytes`, { min: 1, max: MAX_DECODE_BYTES, integer: true }),
  };
  if (data.length === 0) throw new RangeError(`${where}: bytes is empty (0 bytes)`);
  if (data.length > limits.maxBytes) {
    throw new RangeError(`${where}: the input is ${data.length} bytes, more than maxBytes ${limits.maxBytes}`);
  }
  if (!sniffImageType(data)) {
    const head = Array.from(data.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new Error(`${where}: not a PNG or JPEG file (it starts with ${head})`);
  }
  return limits;
}

/** decodeImage on a given core module (tests compare the baseline and SIMD builds). */
export function decodeImageOn(M, bytes, options) {
  const data = asBytes(bytes, 'decodeImage');
  const limits = readLimits(options, data, 'decodeImage');
  const ptr = alloc(M, data.length, 'encoded image');
  let result = null;
  try {
    M.HEAPU8.set(data, ptr);
    result = M.decodeImage(ptr, data.length, limits);
    if (!result) throwLastError(M);
  } finally {
    M._free(ptr);
  }
  try {
    const width = result.width(), height = result.height();
    return makeImage(result.view().slice(), width, height);
  } finally {
    result.delete();
  }
}

/**
 * What a PNG or JPEG header says, without decoding any pixel: the format and size, after the same
 * structure check and limits decodeImage applies first (PNG chunk lengths, CRCs and IEND; JPEG marker
 * segments, Huffman tables and the end-of-image marker). Costs one pass over the bytes and no pixel
 * memory: the way to hold an image to a pixel budget before decoding it.
 * @param {Uint8Array|ArrayBuffer|ArrayBufferView} bytes the file
 * @param {{maxWidth?: number, maxHeight?: number, maxPixels?: number, maxBytes?: number}} [options] as for decodeImage
 * @returns {{format: 'image/png'|'image/jpeg', width: number, height: number}}
 * @throws as decodeImage: {RangeError} a limit exceeded (the message gives the size), {Error} not a PNG/JPEG or corrupt
 */
export function probeImage(bytes, options) {
  return probeImageOn(getImageModule(), bytes, options);
}

/** probeImage on a given core module. */
export function probeImageOn(M, bytes, options) {
  const data = asBytes(bytes, 'probeImage');
  const limits = readLimits(options, data, 'probeImage');
  const ptr = alloc(M, data.length, 'encoded image');
  try {
    M.HEAPU8.set(data, ptr);
    const info = M.probeImage(ptr, data.length, limits);
    if (!info) {
      try {
        throwLastError(M);
      } catch (e) {
        e.message = e.message.replace(/^decodeImage:/, 'probeImage:'); // the core's checks are decodeImage's
        throw e;
      }
    }
    return { format: info.format, width: info.width, height: info.height };
  } finally {
    M._free(ptr);
  }
}
