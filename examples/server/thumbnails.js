// Screenshot thumbnails made with capturekit's own wasm in Node (decode -> thumbnail -> JPEG).
import { readFile } from 'node:fs/promises';

let glue = null;
const LOAD_TIMEOUT_MS = 15000; // a wasm that never loads must not hold uploads hostage

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    timer.unref?.();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function loadGlue() {
  if (!glue) {
    glue = (async () => {
      const m = await import('../../js-glue/index.js');
      const missing = ['init', 'decodeImage', 'thumbnail', 'encodeJpeg'].filter((f) => typeof m[f] !== 'function');
      if (missing.length) throw new Error(`js-glue does not export ${missing.join(', ')} yet`);
      await withTimeout(m.init(), LOAD_TIMEOUT_MS, 'capturekit init()');
      return m;
    })();
    glue.catch(() => { glue = null; });
  }
  return glue;
}

/** True when the wasm thumbnail path is available in this process. */
export async function thumbnailsAvailable() {
  try {
    await loadGlue();
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes a JPEG thumbnail that fits in width x height (aspect kept) from PNG/JPEG bytes or a file path.
 * Returns { jpeg: Buffer, width, height, sourceWidth, sourceHeight }. Throws when the wasm is missing
 * or the image cannot be decoded.
 */
export async function makeThumbnail(input, { width = 200, height = 200, quality = 85 } = {}) {
  const m = await loadGlue();
  const bytes = typeof input === 'string' ? await readFile(input) : input;
  const image = await m.decodeImage(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const small = await m.thumbnail(image, { width, height });
  const jpeg = await m.encodeJpeg(small, { quality });
  const out = jpeg instanceof Uint8Array ? jpeg : new Uint8Array(jpeg);
  return {
    jpeg: Buffer.from(out.buffer, out.byteOffset, out.byteLength),
    width: small.width,
    height: small.height,
    sourceWidth: image.width,
    sourceHeight: image.height,
  };
}
