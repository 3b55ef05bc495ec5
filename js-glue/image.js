// The image wasm module: the pixel operations (flip, crop, resize, colour, blur, composite, RGBA→I420)
// and the image codecs (JPEG/PNG encode with zlib, PNG/JPEG decode with stb): what a screenshot needs.
// 80 KiB gzipped (SIMD build: 96) + 13 KiB glue. Loaded on first use: by a capture, by init() or
// initImage(); a page that only uploads never fetches it. The synchronous pixel and codec functions
// need it loaded first (`await init()` or `await initImage()`).
import { moduleSlot } from './loader.js';

const slot = moduleSlot({
  baseline: {
    factory: () => import('../dist/capturekit-image.mjs'),
    wasmUrl: () => new URL('../dist/capturekit-image.wasm', import.meta.url),
  },
  simd: {
    factory: () => import('../dist/capturekit-image-simd.mjs'),
    wasmUrl: () => new URL('../dist/capturekit-image-simd.wasm', import.meta.url),
  },
  name: 'image',
  probe: 'flipVertical',
}, { name: 'image', initCall: 'init()` (or `initImage()' });

/**
 * Loads the image module (later calls return the same promise).
 * @param {{simd?: boolean|'auto', wasm?: any, factory?: Function}} [options] the build to use, or the wasm
 *   (Module, bytes, Response, URL) and its Emscripten factory for custom hosting
 */
export function initImage(options = {}) {
  return slot.init(options);
}

/** The loaded image module; throws an Error that says what to call when it is not loaded. */
export function getImageModule() {
  return slot.get();
}

/** True when the image module is loaded. */
export function isImageLoaded() {
  return slot.peek() !== null;
}

/**
 * A separate instance of one build (true: SIMD, false: baseline), outside the shared one: for tests and
 * benchmarks that compare the builds.
 */
export function loadImageVariant(simd, options = {}) {
  return slot.variant(simd, options);
}
