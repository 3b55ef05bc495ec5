import { transformInto } from '../image-ops.js';
import { checkImage, checkNumber } from '../validate.js';

function describeRect(r) {
  return `rectangle {x: ${r.x}, y: ${r.y}, width: ${r.width}, height: ${r.height}}`;
}

/** Checks a crop rectangle against the image: integers, positive size, inside the image. */
export function checkCropRect(rect, width, height) {
  if (rect === null || typeof rect !== 'object') {
    throw new TypeError(`crop: rect must be an object { x, y, width, height }, got ${rect === null ? 'null' : typeof rect}`);
  }
  const { x, y, width: w, height: h } = rect;
  for (const [k, v] of [['x', x], ['y', y], ['width', w], ['height', h]]) checkNumber(v, `crop: rect.${k}`, { integer: true });
  const r = { x, y, width: w, height: h };
  if (w <= 0 || h <= 0) throw new RangeError(`crop: ${describeRect(r)} must have a positive width and height`);
  if (x < 0 || y < 0 || x + w > width || y + h > height) {
    throw new RangeError(`crop: ${describeRect(r)} does not lie inside the ${width}x${height} image`);
  }
  return r;
}

/**
 * Copies a rectangle out of an RGBA image.
 * @param {{data: Uint8Array|Uint8ClampedArray, width: number, height: number, stride?: number}} image
 * @param {{x: number, y: number, width: number, height: number}} rect  integers, inside the image
 * @returns {{data: Uint8ClampedArray, width: number, height: number, stride: number}}
 */
export function crop(image, rect) {
  const src = checkImage(image, 'crop: image');
  const r = checkCropRect(rect, src.width, src.height);
  return transformInto(src, 'crop', r.width, r.height, (M, sp, s, dp) => M.crop(sp, s.width, s.height, s.stride, dp, r));
}
