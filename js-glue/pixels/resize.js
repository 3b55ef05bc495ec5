import { getImageModule } from '../image.js';
import { transformInto } from '../image-ops.js';
import { checkDimensions, checkEnum, checkImage, describe } from '../validate.js';
import { throwLastError } from '../wasm-memory.js';

const FITS = ['exact', 'contain'];
const METHODS = ['auto', 'bilinear', 'area'];

function resizeOptions(options) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`resize: options must be an object { width, height, fit?, method? }, got ${describe(options)}`);
  }
  const { width, height, fit = 'exact', method = 'auto' } = options;
  checkDimensions(width, height, 'resize: target');
  checkEnum(fit, 'resize: fit', FITS);
  checkEnum(method, 'resize: method', METHODS);
  return { width, height, fit, method };
}

function boxOptions(box, name) {
  if (box === null || typeof box !== 'object' || Array.isArray(box)) {
    throw new TypeError(`${name}: the box must be an object { width, height }, got ${describe(box)}`);
  }
  checkDimensions(box.width, box.height, `${name}: box`);
  return box;
}

// A native size answer ({0, 0} means it failed and recorded why).
function sizeOrThrow(M, size, context) {
  if (!size.width) throwLastError(M, context);
  return { width: size.width, height: size.height };
}

/**
 * The largest width x height with the aspect ratio of the source that fits in the box (one side
 * equals the box, the other is rounded to nearest, at least 1). May enlarge.
 * @returns {{width: number, height: number}}
 */
export function fitWithin(width, height, boxWidth, boxHeight) {
  checkDimensions(width, height, 'fitWithin: source');
  checkDimensions(boxWidth, boxHeight, 'fitWithin: box');
  const M = getImageModule();
  return sizeOrThrow(M, M.fitWithin(width, height, boxWidth, boxHeight), 'fitWithin');
}

/**
 * The size resize(image, options) will produce, without resizing.
 * @param {{width: number, height: number}} image  an image or just its size
 */
export function resizedSize(image, options) {
  if (image === null || typeof image !== 'object') throw new TypeError(`resize: image must be an object, got ${describe(image)}`);
  checkDimensions(image.width, image.height, 'resize: image');
  const o = resizeOptions(options);
  const M = getImageModule();
  return sizeOrThrow(M, M.resizeTarget(image.width, image.height, o), 'resize');
}

/**
 * Resizes an RGBA image.
 *   fit: 'exact' (default) gives exactly width x height; 'contain' fits within that box keeping the
 *        aspect ratio (see fitWithin).
 *   method: 'area' (box filter, the right average when shrinking), 'bilinear' (pixel-centre
 *        aligned), or 'auto' (default: area on an axis that shrinks, bilinear on one that grows).
 * @param {{data: Uint8Array|Uint8ClampedArray, width: number, height: number, stride?: number}} image
 * @param {{width: number, height: number, fit?: 'exact'|'contain', method?: 'auto'|'area'|'bilinear'}} options
 * @returns {{data: Uint8ClampedArray, width: number, height: number, stride: number}}
 */
export function resize(image, options) {
  const src = checkImage(image, 'resize: image');
  const o = resizeOptions(options);
  const M = getImageModule();
  const size = sizeOrThrow(M, M.resizeTarget(src.width, src.height, o), 'resize');
  return transformInto(src, 'resize', size.width, size.height,
    (M2, sp, s, dp) => M2.resize(sp, s.width, s.height, s.stride, dp, o));
}

/**
 * A thumbnail: fits the image into the box keeping its aspect ratio (area filter), never enlarging
 * (an image that already fits comes back at its own size).
 * @param {{data: Uint8Array|Uint8ClampedArray, width: number, height: number, stride?: number}} image
 * @param {{width: number, height: number}} box
 */
export function thumbnail(image, box) {
  const src = checkImage(image, 'thumbnail: image');
  const { width, height } = boxOptions(box, 'thumbnail');
  const M = getImageModule();
  const size = sizeOrThrow(M, M.thumbnailSize(src.width, src.height, width, height), 'thumbnail');
  return transformInto(src, 'thumbnail', size.width, size.height,
    (M2, sp, s, dp) => M2.thumbnail(sp, s.width, s.height, s.stride, dp, width, height));
}
