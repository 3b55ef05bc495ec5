// init(): loads what capturekit's synchronous functions need, for apps that call it first (as every
// version so far asked). Since the core was split, each module also loads itself when first used:
//   image.js   pixels + image codecs (a capture, flipVertical, encode, ...)   baseline or SIMD build
//   upload.js  SHA-256, chunk buffer, upload queue (createUploader, ChunkBuffer, QueueCore)
//   video.js, audio.js   libvpx + libwebm, libopus (recorders, VideoWriter, OpusEncoder)
// so a page that only uploads needs no init() and downloads only the upload module.
import { initImage, getImageModule, loadImageVariant } from './image.js';
import { initUpload } from './upload.js';

let pending = null;

/**
 * Loads the image and the upload modules, in parallel. Later calls return the same promise.
 * @param {{simd?: boolean|'auto', wasm?: any, factory?: Function, upload?: {wasm?: any, factory?: Function}}} [options]
 *   simd, wasm and factory choose the image module's build (or hand it over: Module, bytes, Response, URL);
 *   upload hands over the upload module's wasm and factory the same way.
 */
export function init(options = {}) {
  if (options === null || typeof options !== 'object') throw new TypeError('capturekit: init(options) takes an object');
  if (!pending) {
    const { upload = {}, ...image } = options;
    pending = Promise.all([initImage(image), initUpload(upload)])
      .then(([m]) => m, (e) => { pending = null; throw e; });
  }
  return pending;
}

/** True when the image module's SIMD build is the one loaded (throws while it is not loaded). */
export function isSimd() {
  return getImageModule().capturekitSimd;
}

// The names the image module had before the split (the pixel and codec tests use them).
export { getImageModule as getCore, loadImageVariant as loadVariant };
