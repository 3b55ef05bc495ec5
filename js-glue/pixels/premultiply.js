import { transformInPlace } from '../image-ops.js';

/**
 * Converts premultiplied RGBA (WebGL readPixels of a `premultipliedAlpha: true` canvas) to straight
 * alpha: rgb = min(255, round(rgb * 255 / a)); pixels with alpha 0 become 0,0,0,0. Returns a new image.
 * @param {{data: Uint8Array|Uint8ClampedArray, width: number, height: number, stride?: number}} image
 * @returns {{data: Uint8ClampedArray, width: number, height: number, stride: number}}
 */
export function unpremultiplyAlpha(image) {
  return transformInPlace(image, 'unpremultiplyAlpha', (M, p, s) => M.unpremultiplyAlpha(p, s.width, s.height, s.stride));
}
