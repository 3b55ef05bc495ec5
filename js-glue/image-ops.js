// Shared plumbing for the pixel and codec wrappers: an image goes into wasm memory once, the
// operation runs there, the result comes out once, and the allocation is always freed.
import { getImageModule } from './image.js';
import { checkImage } from './validate.js';
import { alloc, check } from './wasm-memory.js';

/** A result image: ImageData-compatible (Uint8ClampedArray data) plus its stride. */
export function makeImage(data, width, height, stride = width * 4) {
  const clamped = new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength);
  return { data: clamped, width, height, stride };
}

/**
 * Copies `img` into wasm memory, calls op(M, ptr, img) which must return the binding's boolean,
 * and returns the changed pixels as a new image (the input is not touched).
 */
export function transformInPlace(img, name, op) {
  return transformInPlaceOn(getImageModule(), img, name, op);
}

/** transformInPlace() on a given module instance (getImageModule() or one from loadImageVariant()). */
export function transformInPlaceOn(M, img, name, op) {
  const src = checkImage(img, `${name}: image`);
  const ptr = alloc(M, src.data.length, 'image');
  try {
    M.HEAPU8.set(src.data, ptr);
    check(M, op(M, ptr, src), name);
    return makeImage(M.HEAPU8.slice(ptr, ptr + src.data.length), src.width, src.height, src.stride);
  } finally {
    M._free(ptr);
  }
}

/**
 * Copies `img` in, allocates a packed destination of outWidth x outHeight, calls
 * op(M, srcPtr, src, dstPtr) and returns the destination as a new image.
 */
export function transformInto(img, name, outWidth, outHeight, op) {
  const M = getImageModule();
  const src = checkImage(img, `${name}: image`);
  const dstLen = outWidth * outHeight * 4;
  const sp = alloc(M, src.data.length, 'image');
  let dp = 0;
  try {
    dp = alloc(M, dstLen, 'result');
    M.HEAPU8.set(src.data, sp);
    check(M, op(M, sp, src, dp), name);
    return makeImage(M.HEAPU8.slice(dp, dp + dstLen), outWidth, outHeight);
  } finally {
    M._free(sp);
    if (dp) M._free(dp);
  }
}
