// The core wasm module (pixels, image codecs, upload state machines): loaded once by init().
import { loadModule } from './loader.js';

const spec = {
  baseline: {
    factory: () => import('../dist/capturekit-core.mjs'),
    wasmUrl: () => new URL('../dist/capturekit-core.wasm', import.meta.url),
  },
  simd: {
    factory: () => import('../dist/capturekit-core-simd.mjs'),
    wasmUrl: () => new URL('../dist/capturekit-core-simd.wasm', import.meta.url),
  },
};

let pending = null;
let core = null;

/**
 * Loads the core module. Call once (later calls return the same promise).
 * @param {{simd?: boolean|'auto', wasm?: any, factory?: Function}} [options]
 */
export function init(options = {}) {
  if (!pending) {
    pending = loadModule(spec, options).then((m) => (core = m), (e) => { pending = null; throw e; });
  }
  return pending;
}

/** The loaded core module; throws if init() has not finished. */
export function getCore() {
  if (!core) throw new Error('capturekit: call `await init()` before using the library');
  return core;
}

/**
 * Loads a separate instance of one build (true: SIMD, false: baseline), independent of init();
 * for tests and benchmarks that compare the two builds.
 */
export function loadVariant(simd, options = {}) {
  return loadModule(spec, { ...options, simd: !!simd });
}

/** True when the SIMD build is the one loaded. */
export function isSimd() {
  return getCore().capturekitSimd;
}
