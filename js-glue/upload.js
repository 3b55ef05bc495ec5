// The upload wasm module: SHA-256, the chunk buffer (exact-size parts), the upload queue's state machine
// and its stored JSON, nothing else (54 KiB gzipped + 13 KiB glue, against 131 + 13 for the old core that
// held pixels, codecs and upload together). createUploader() loads it, and so do init() and
// initUpload(); a page that only uploads fetches this module and no other. ChunkBuffer, QueueCore,
// sha256Hex and uploadLimits() are synchronous and need it loaded first.
// One build: SHA-256 and the queue gain nothing from wasm SIMD, so `simd` loads the same files.
import { moduleSlot } from './loader.js';

const build = {
  factory: () => import('../dist/capturekit-upload.mjs'),
  wasmUrl: () => new URL('../dist/capturekit-upload.wasm', import.meta.url),
};
const slot = moduleSlot({ baseline: build, simd: build, name: 'upload', probe: 'sha256Hex' }, { name: 'upload', initCall: 'init()` (or `initUpload()' });

/**
 * Loads the upload module (later calls return the same promise). createUploader() calls it.
 * @param {{wasm?: any, factory?: Function}} [options] the wasm (Module, bytes, Response, URL) and its
 *   Emscripten factory for custom hosting (a service worker bundle, an edge runtime)
 */
export function initUpload(options = {}) {
  return slot.init({ ...options, simd: false });
}

/** The loaded upload module; throws an Error that says what to call when it is not loaded. */
export function getUploadModule() {
  return slot.get();
}

/** True when the upload module is loaded. */
export function isUploadLoaded() {
  return slot.peek() !== null;
}

/** A separate instance, outside the shared one (tests, benchmarks). */
export function loadUploadVariant(options = {}) {
  return slot.variant(false, options);
}
