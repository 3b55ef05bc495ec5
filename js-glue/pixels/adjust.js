// Brightness / contrast / saturation (wasm/pixels/color_adjust.h has the exact fixed-point formulas).
import { getImageModule } from '../image.js';
import { transformInPlaceOn } from '../image-ops.js';
import { checkNumber } from '../validate.js';

const KEYS = ['brightness', 'contrast', 'saturation'];

/** Validates adjust() options; returns the full object the binding takes. */
export function adjustOptions(options) {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`adjust: options must be an object { brightness, contrast, saturation }, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`);
  }
  for (const k of Object.keys(options)) {
    if (!KEYS.includes(k)) throw new TypeError(`adjust: unknown option "${k}" (expected ${KEYS.join(', ')})`);
  }
  const out = {};
  for (const k of KEYS) {
    out[k] = options[k] === undefined ? 0 : checkNumber(options[k], `adjust: options.${k}`, { min: -1, max: 1 });
  }
  return out;
}

/** adjust() on a given module instance (getImageModule() or one from loadImageVariant()). */
export function adjustOn(M, image, options) {
  // Options are checked after the image (as the messages' order promises) and before any native work.
  return transformInPlaceOn(M, image, 'adjust', (mod, ptr, src) => mod.adjustColor(ptr, src.width, src.height, src.stride, adjustOptions(options)));
}

/**
 * Adjusts brightness, contrast and saturation of an RGBA image (alpha untouched); the input is not modified.
 * Each option is in [-1, 1] and defaults to 0 (all 0 = exact identity):
 * brightness adds brightness*255; contrast scales by (1 + contrast) around 128 (after brightness);
 * saturation -1 = greyscale (BT.601 luma), +1 = twice the distance from grey.
 * @param {{data: Uint8Array|Uint8ClampedArray, width: number, height: number, stride?: number}} image
 * @param {{brightness?: number, contrast?: number, saturation?: number}} [options]
 * @returns {{data: Uint8ClampedArray, width: number, height: number, stride: number}}
 */
export function adjust(image, options) {
  return adjustOn(getImageModule(), image, options);
}
