// The audio wasm module (libopus, the Opus encoder): a separate module (about 145 KB gzipped) fetched
// only when PCM audio is first encoded in wasm (VideoWriter with `audio`, OpusEncoder.create) or
// initAudio() is called. A recording without audio, or one whose audio the browser's AudioEncoder
// encodes, never loads it. It needs neither the core nor the video module.
import { loadModule } from './loader.js';

// One build for every runtime: a -msimd128 libopus encoded no faster and was 15 KB bigger gzipped
// (wasm/audio/audio.cmake), so `simd` loads the same files.
const build = {
  factory: () => import('../dist/capturekit-audio.mjs'),
  wasmUrl: () => new URL('../dist/capturekit-audio.wasm', import.meta.url),
};
const spec = { baseline: build, simd: build };

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

/** A separate instance, outside the shared one (benchmarks, tests); `simd` changes nothing (one build). */
export function loadAudioVariant(simd) {
  return loadModule(spec, { simd: !!simd });
}

/** True when the audio module is loaded. */
export function isAudioLoaded() {
  return audio !== null;
}
