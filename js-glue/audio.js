// The audio wasm module (libopus, the Opus encoder): a separate module (about 145 KB gzipped) fetched
// only when PCM audio is first encoded in wasm (VideoWriter with `audio`, OpusEncoder.create) or
// initAudio() is called. A recording without audio, or one whose audio the browser's AudioEncoder
// encodes, never loads it. It needs neither the core nor the video module.
import { loadModule } from './loader.js';

const spec = {
  baseline: {
    factory: () => import('../dist/capturekit-audio.mjs'),
    wasmUrl: () => new URL('../dist/capturekit-audio.wasm', import.meta.url),
  },
  simd: {
    factory: () => import('../dist/capturekit-audio-simd.mjs'),
    wasmUrl: () => new URL('../dist/capturekit-audio-simd.wasm', import.meta.url),
  },
};

let pending = null;
let audio = null;

/**
 * Loads the audio module (later calls return the same promise). Optional: OpusEncoder.create() calls it.
 * @param {{simd?: boolean|'auto', wasm?: any, factory?: Function}} [options] as for init()
 */
export function initAudio(options = {}) {
  if (!pending) {
    pending = loadModule(spec, options).then((m) => (audio = m), (e) => { pending = null; throw e; });
  }
  return pending;
}

/** A separate instance of one build (baseline or SIMD), outside the shared one (benchmarks, tests). */
export function loadAudioVariant(simd) {
  return loadModule(spec, { simd: !!simd });
}

/** True when the audio module is loaded. */
export function isAudioLoaded() {
  return audio !== null;
}
