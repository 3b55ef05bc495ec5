// RGBA -> I420 (BT.601 limited range, what VP8/VP9 encoders take); formulas in wasm/pixels/convert_i420.h.
import { getImageModule } from '../image.js';
import { checkImage } from '../validate.js';
import { alloc, check } from '../wasm-memory.js';

/** toI420() on a given module instance (getImageModule() or one from loadImageVariant()). */
export function toI420On(M, image) {
  const src = checkImage(image, 'toI420: image');
  const { width, height } = src;
  const ySize = width * height;
  const cSize = Math.ceil(width / 2) * Math.ceil(height / 2);
  const sp = alloc(M, src.data.length, 'image');
  let dp = 0;
  try {
    dp = alloc(M, ySize + 2 * cSize, 'I420 planes');
    M.HEAPU8.set(src.data, sp);
    check(M, M.rgbaToI420(sp, width, height, src.stride, dp), 'toI420');
    const heap = M.HEAPU8;
    return {
      y: heap.slice(dp, dp + ySize),
      u: heap.slice(dp + ySize, dp + ySize + cSize),
      v: heap.slice(dp + ySize + cSize, dp + ySize + 2 * cSize),
      width,
      height,
    };
  } finally {
    M._free(sp);
    if (dp) M._free(dp);
  }
}

/**
 * Converts an RGBA image to I420 planes (alpha ignored). Y is width x height; U and V are
 * ceil(width/2) x ceil(height/2), each the rounded average of a 2x2 block (edges repeated for odd sizes).
 * @param {{data: Uint8Array|Uint8ClampedArray, width: number, height: number, stride?: number}} image
 * @returns {{y: Uint8Array, u: Uint8Array, v: Uint8Array, width: number, height: number}}
 */
export function toI420(image) {
  return toI420On(getImageModule(), image);
}
