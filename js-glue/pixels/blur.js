// Gaussian blur (wasm/pixels/blur.h: sigma = radius / 2, integer weights summing to 2^14, edges clamped).
import { getImageModule } from '../image.js';
import { transformInPlaceOn } from '../image-ops.js';
import { checkNumber } from '../validate.js';

export const MAX_BLUR_RADIUS = 64;

/** Validates blur() options; returns the object the binding takes. */
export function blurOptions(options) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`blur: options must be an object { radius }, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`);
  }
  for (const k of Object.keys(options)) {
    if (k !== 'radius') throw new TypeError(`blur: unknown option "${k}" (expected radius)`);
  }
  return { radius: checkNumber(options.radius, 'blur: options.radius', { min: 0, max: MAX_BLUR_RADIUS, integer: true }) };
}

/** blur() on a given module instance (getImageModule() or one from loadImageVariant()). */
export function blurOn(M, image, options) {
  // Options are checked after the image (as the messages' order promises) and before any native work.
  return transformInPlaceOn(M, image, 'blur', (mod, ptr, src) => mod.gaussianBlur(ptr, src.width, src.height, src.stride, blurOptions(options)));
}

/**
 * Gaussian blur of an RGBA image (every channel, alpha too); the input is not modified.
 * @param {{data: Uint8Array|Uint8ClampedArray, width: number, height: number, stride?: number}} image
 * @param {{radius: number}} options  radius: integer 0..64 (0 = identity), sigma = radius / 2
 * @returns {{data: Uint8ClampedArray, width: number, height: number, stride: number}}
 */
export function blur(image, options) {
  return blurOn(getImageModule(), image, options);
}
