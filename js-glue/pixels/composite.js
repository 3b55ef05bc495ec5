import { getImageModule } from '../image.js';
import { makeImage } from '../image-ops.js';
import { MAX_SIDE, checkEnum, checkImage, checkNumber } from '../validate.js';
import { alloc, check } from '../wasm-memory.js';

export const POSITIONS = ['top-left', 'top-right', 'bottom-left', 'bottom-right', 'center'];

/** Validates and fills in composite options. */
export function compositeOptions(options = {}) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`composite: options must be an object { position?, margin?, opacity? }, got ${options === null ? 'null' : typeof options}`);
  }
  const { position = 'bottom-right', margin = 0, opacity = 1 } = options;
  checkEnum(position, 'composite: position', POSITIONS);
  checkNumber(margin, 'composite: margin', { integer: true, min: 0, max: MAX_SIDE });
  checkNumber(opacity, 'composite: opacity', { min: 0, max: 1 });
  return { position, margin, opacity };
}

/**
 * Draws a watermark over an image (source-over; both non-premultiplied RGBA) and returns the result
 * as a new image (the inputs are not modified). A mark larger than the image, or pushed past its
 * edge by the margin, is clipped. Opacity 0 returns the image's pixels unchanged.
 * @param {{data: Uint8Array|Uint8ClampedArray, width: number, height: number, stride?: number}} image
 * @param {{data: Uint8Array|Uint8ClampedArray, width: number, height: number, stride?: number}} mark
 * @param {{position?: 'top-left'|'top-right'|'bottom-left'|'bottom-right'|'center', margin?: number, opacity?: number}} [options]
 *   position defaults to 'bottom-right', margin (pixels from the anchored edges; ignored by 'center') to 0,
 *   opacity (0..1, multiplies the mark's alpha) to 1.
 * @returns {{data: Uint8ClampedArray, width: number, height: number, stride: number}}
 */
export function composite(image, mark, options) {
  const img = checkImage(image, 'composite: image');
  const mk = checkImage(mark, 'composite: watermark');
  const o = compositeOptions(options);
  const M = getImageModule();
  const ip = alloc(M, img.data.length, 'image');
  let mp = 0;
  try {
    mp = alloc(M, mk.data.length, 'watermark');
    M.HEAPU8.set(img.data, ip);
    M.HEAPU8.set(mk.data, mp);
    check(M, M.composite(ip, img.width, img.height, img.stride, mp, mk.width, mk.height, mk.stride, o), 'composite');
    return makeImage(M.HEAPU8.slice(ip, ip + img.data.length), img.width, img.height, img.stride);
  } finally {
    M._free(ip);
    if (mp) M._free(mp);
  }
}
