import { transformInPlace } from '../image-ops.js';

/**
 * Flips an RGBA image upside down (WebGL/WebXR readPixels returns rows bottom-up).
 * @param {{data: Uint8Array|Uint8ClampedArray, width: number, height: number, stride?: number}} image
 * @returns {{data: Uint8ClampedArray, width: number, height: number, stride: number}}
 */
export function flipVertical(image) {
  return transformInPlace(image, 'flipVertical', (M, p, s) => M.flipVertical(p, s.width, s.height, s.stride));
}
