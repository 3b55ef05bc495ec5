// capturekit: public entry point. `await init()` once, then call the functions below.
export { init, isSimd } from './core.js';
export { simdSupported } from './loader.js';
export { MAX_SIDE, MAX_PIXELS } from './validate.js';
export { flipVertical } from './pixels/flip.js';
export { adjust } from './pixels/adjust.js';
export { blur } from './pixels/blur.js';
export { toI420 } from './pixels/i420.js';
