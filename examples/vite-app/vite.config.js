// Plain object (no import from 'vite'), so the config also loads where vite is not resolvable from
// the app folder (the browser test builds a copy of this app with the repository's vite).
export default {
  // capturekit's capture Worker loads the wasm with a dynamic import (the SIMD or the baseline build),
  // which needs an ES-module Worker bundle: Vite's default worker format, 'iife', cannot code-split.
  worker: { format: 'es' },
  build: { target: 'es2022', assetsInlineLimit: 0 },
};
