// The heavy half of a capture: flip, un-premultiply, filters, fit-to-box, encode, thumbnail. Pure data
// in, bytes out, no DOM: it runs unchanged in the capture Worker (worker.js) and inline (worker: false).
// Every pixel operation is a capturekit export (wasm); this file only sequences them.
import { flipVertical } from '../pixels/flip.js';
import { unpremultiplyAlpha } from '../pixels/premultiply.js';
import { crop } from '../pixels/crop.js';
import { resize, thumbnail } from '../pixels/resize.js';
import { composite } from '../pixels/composite.js';
import { adjust } from '../pixels/adjust.js';
import { blur } from '../pixels/blur.js';
import { textWatermark } from '../pixels/text-watermark.js';
import { encode } from '../image/encode.js';
import { decodeImage } from '../image/decode.js';

const OPS = { flipVertical, unpremultiplyAlpha, crop, resize, thumbnail, composite, adjust, blur, textWatermark, encode, decodeImage };

function op(name) {
  return OPS[name];
}

/** Anything a watermark may be given, made into an RGBA image (async only for encoded input). */
export async function toImage(src, what) {
  if (src && typeof src === 'object' && 'width' in src && 'height' in src && 'data' in src) return src;
  if (typeof ImageBitmap === 'function' && src instanceof ImageBitmap) {
    const c = new OffscreenCanvas(src.width, src.height);
    const ctx = c.getContext('2d');
    ctx.drawImage(src, 0, 0);
    return ctx.getImageData(0, 0, src.width, src.height);
  }
  if (typeof Blob === 'function' && src instanceof Blob) src = new Uint8Array(await src.arrayBuffer());
  if (src instanceof ArrayBuffer) src = new Uint8Array(src);
  if (src instanceof Uint8Array) return op('decodeImage')(src);
  throw new TypeError(`${what} must be { data, width, height }, ImageData, ImageBitmap, Blob or encoded PNG/JPEG bytes`);
}

// One entry per filter op: (image, params) -> image. Params are the filter object minus `op`; each
// is the matching capturekit export, so its own validation and error messages apply.
export const FILTERS = {
  crop: (img, p) => op('crop')(img, p),
  resize: (img, p) => op('resize')(img, p),
  thumbnail: (img, p) => op('thumbnail')(img, p),
  flipVertical: (img) => op('flipVertical')(img),
  unpremultiplyAlpha: (img) => op('unpremultiplyAlpha')(img),
  adjust: (img, p) => op('adjust')(img, p),
  blur: (img, p) => op('blur')(img, p),
  // composite: { image, position?, margin?, opacity? }
  composite: async (img, p) => {
    const { image, ...rest } = p;
    return op('composite')(img, await toImage(image, 'filters: composite.image'), rest);
  },
  // An image watermark: composite, with the mark first sized to `width` pixels or `scale` x the
  // capture's width (aspect kept), so it looks the same at any capture size.
  watermark: async (img, p) => {
    const { image, width, scale, ...rest } = p;
    let mark = await toImage(image, 'filters: watermark.image');
    const w = width !== undefined ? width : scale !== undefined ? Math.max(1, Math.round(img.width * scale)) : null;
    if (w && w !== mark.width) mark = op('resize')(mark, { width: w, height: Math.max(1, Math.round(mark.height * w / mark.width)) });
    return op('composite')(img, mark, rest);
  },
  // text: { text, font?, color?, shadow?, position?, margin?, opacity? }
  text: (img, p) => op('textWatermark')(img, p),
};

/**
 * Runs a capture job. `job`: { pixels: Uint8Array, width, height, flip, unpremultiply, filters,
 * maxSize, thumbnail, format, quality }. Returns { bytes, width, height, thumbnail } where thumbnail is
 * null or { bytes, width, height, format }.
 */
export async function processCapture(job) {
  let img = { data: job.pixels, width: job.width, height: job.height };
  if (job.flip) img = op('flipVertical')(img);
  if (job.unpremultiply) img = op('unpremultiplyAlpha')(img);
  for (const f of job.filters || []) {
    const { op: name, ...params } = f;
    const run = FILTERS[name];
    if (!run) throw new RangeError(`capturekit: unknown filter op ${JSON.stringify(name)}`);
    img = await run(img, params);
  }
  if (job.maxSize) img = op('thumbnail')(img, job.maxSize); // fits the box, never enlarges
  const bytes = op('encode')(img, { format: job.format, quality: job.quality });
  let thumbnail = null;
  if (job.thumbnail) {
    const t = job.thumbnail;
    const small = op('thumbnail')(img, { width: t.width, height: t.height });
    thumbnail = { bytes: op('encode')(small, { format: t.format, quality: t.quality }), width: small.width, height: small.height, format: t.format };
  }
  return { bytes, width: img.width, height: img.height, thumbnail };
}
