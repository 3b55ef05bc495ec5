// Gaussian blur (wasm/pixels/blur.h: sigma = radius / 2, integer weights summing to 2^14, edges clamped).
import { getCore } from '../core.js';
import { makeImage } from '../image-ops.js';
import { checkImage, checkNumber } from '../validate.js';
import { alloc, check } from '../wasm-memory.js';

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

/** blur() on a given module instance (getCore() or one from loadVariant()). */
export function blurOn(M, image, options) {
  const src = checkImage(image, 'blur: image');
  const opts = blurOptions(options);
  const ptr = alloc(M, src.data.length, 'image');
  try {
    M.HEAPU8.set(src.data, ptr);
    check(M, M.gaussianBlur(ptr, src.width, src.height, src.stride, opts), 'blur');
    return makeImage(M.HEAPU8.slice(ptr, ptr + src.data.length), src.width, src.height, src.stride);
  } finally {
    M._free(ptr);
  }
}

/**
 * Gaussian blur of an RGBA image (every channel, alpha too); the input is not modified.
 * @param {{data: Uint8Array|Uint8ClampedArray, width: number, height: number, stride?: number}} image
 * @param {{radius: number}} options  radius: integer 0..64 (0 = identity), sigma = radius / 2
 * @returns {{data: Uint8ClampedArray, width: number, height: number, stride: number}}
 */
export function blur(image, options) {
  return blurOn(getCore(), image, options);
}
