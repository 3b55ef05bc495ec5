// The video wasm module (libvpx VP8/VP9 + libwebm): a separate, larger module (about 400 KB gzipped)
// that is fetched only when a video is first made (VideoWriter.create) or initVideo() is called.
// Importing capturekit never loads it. It does not need the core module (init()).
import { loadModule } from './loader.js';

const spec = {
  baseline: {
    factory: () => import('../dist/capturekit-video.mjs'),
    wasmUrl: () => new URL('../dist/capturekit-video.wasm', import.meta.url),
  },
  simd: {
    factory: () => import('../dist/capturekit-video-simd.mjs'),
    wasmUrl: () => new URL('../dist/capturekit-video-simd.wasm', import.meta.url),
  },
};

let pending = null;
let video = null;

/**
 * Loads the video module (later calls return the same promise). Optional: VideoWriter.create() calls it.
 * @param {{simd?: boolean|'auto', wasm?: any, factory?: Function}} [options] as for init()
 */
export function initVideo(options = {}) {
  if (!pending) {
    pending = loadModule(spec, options).then((m) => (video = m), (e) => { pending = null; throw e; });
  }
  return pending;
}

/**
 * A separate instance of one build (baseline or SIMD), outside the shared one: for benchmarks and tests
 * that compare the builds. Pass it to VideoWriter.create({ module }).
 */
export function loadVideoVariant(simd) {
  return loadModule(spec, { simd: !!simd });
}

/** The loaded video module, or null while it is not loaded. */
export function getVideoModule() {
  return video;
}

/** True when the video module is loaded (it is not until a video is made or initVideo() is called). */
export function isVideoLoaded() {
  return video !== null;
}
