// The common second half of every capture: hand the pixels to the Worker (or run inline), wrap the
// bytes in a Blob, assemble the metadata, and account for the time spent on the main thread.
import { initImage } from '../image.js';
import { processCapture } from './pipeline.js';
import { runInWorker } from './worker-client.js';
import { buildMetadata, getDeviceInfo } from './metadata.js';
import { toBlob } from '../image/blob.js';

/** Adds up the synchronous slices a capture spends on the main thread, by label. */
export class MainThreadClock {
  constructor() { this.ms = 0; this.start = performance.now(); this.slices = {}; }
  /** Runs fn() and counts its (synchronous) duration under `label`. */
  time(label, fn) {
    const t = performance.now();
    try { return fn(); } finally { this.add(label, performance.now() - t); }
  }
  add(label, ms) {
    this.ms += ms;
    this.slices[label] = (this.slices[label] || 0) + ms;
  }
}

function isCloneableImage(img) {
  return (typeof ImageData === 'function' && img instanceof ImageData) ||
    (typeof ImageBitmap === 'function' && img instanceof ImageBitmap) ||
    (typeof Blob === 'function' && img instanceof Blob) ||
    img instanceof ArrayBuffer || ArrayBuffer.isView(img) ||
    (img && typeof img === 'object' && 'data' in img && 'width' in img && 'height' in img);
}

/** Turns DOM image sources in filters (img, canvas, video) into ImageData the Worker can receive. */
export function prepareFilters(filters, where) {
  return filters.map((f, i) => {
    if (!('image' in f) || isCloneableImage(f.image)) return f;
    const src = f.image;
    const w = src.naturalWidth || src.videoWidth || src.width;
    const h = src.naturalHeight || src.videoHeight || src.height;
    if (typeof HTMLImageElement === 'function' && src instanceof HTMLImageElement && !src.complete) {
      throw new TypeError(`${where}: filters[${i}].image has not finished loading`);
    }
    if (!w || !h) throw new TypeError(`${where}: filters[${i}].image has no size (not loaded?)`);
    const c = new OffscreenCanvas(w, h);
    const ctx = c.getContext('2d');
    try {
      ctx.drawImage(src, 0, 0, w, h);
      return { ...f, image: ctx.getImageData(0, 0, w, h) };
    } catch (err) {
      throw new TypeError(`${where}: filters[${i}].image cannot be read (${err.message})`);
    }
  });
}

let warnedFallback = false;

/**
 * pixels: Uint8Array or Promise<Uint8Array> (async readback); flip/unpremultiply: what the source
 * needs; o: normalised options; source/xr/session: metadata inputs; clock: the MainThreadClock.
 */
export async function completeCapture({ pixels, width, height, flip, unpremultiply, o, source, xr = null, session = null, sessionMode = null, clock, timestamp }) {
  const device = getDeviceInfo({ session, sessionMode });
  const data = await pixels;
  const job = {
    pixels: data, width, height, flip, unpremultiply,
    filters: o.filters, maxSize: o.maxSize, thumbnail: o.thumbnail, format: o.format, quality: o.quality,
  };
  let out;
  let usedWorker = o.worker;
  if (o.worker) {
    try {
      const t = performance.now();
      const posted = runInWorker(job); // postMessage happens synchronously inside (once the Worker is up)
      clock.add('post', performance.now() - t);
      out = await posted;
    } catch (err) {
      if (!/capture Worker (failed to load|could not start)/.test(err.message)) throw err;
      if (!warnedFallback) { warnedFallback = true; console.warn(`${err.message}; processing captures on the main thread`); }
      usedWorker = false;
    }
  }
  if (!usedWorker) {
    await initImage();
    const t = performance.now();
    out = await processCapture(job);
    clock.add('process', performance.now() - t);
  }
  const deviceInfo = await device;
  return clock.time('finish', () => {
    const blob = out.blob || toBlob(out.bytes, o.format); // the Worker made it already
    let thumbnail = null;
    if (out.thumbnail) thumbnail = { ...out.thumbnail, blob: out.thumbnail.blob || toBlob(out.thumbnail.bytes, out.thumbnail.format) };
    const metadata = buildMetadata({
      timestamp, format: o.format, quality: o.quality, bytes: out.bytes, width: out.width, height: out.height,
      source, device: deviceInfo, xr, thumbnail, extra: o.extra,
    });
    if (thumbnail) thumbnail = { blob: thumbnail.blob, bytes: thumbnail.bytes, width: thumbnail.width, height: thumbnail.height, format: thumbnail.format };
    return {
      blob, bytes: out.bytes, width: out.width, height: out.height, format: o.format, metadata, thumbnail,
      timing: { worker: usedWorker, mainThreadMs: 0, totalMs: 0, mainThread: {} },
    };
  });
}

/** Fills result.timing once everything is done (after the clock's last slice). */
export function stamp(result, clock) {
  result.timing.mainThreadMs = Math.round(clock.ms * 100) / 100;
  result.timing.totalMs = Math.round((performance.now() - clock.start) * 100) / 100;
  for (const [k, v] of Object.entries(clock.slices)) result.timing.mainThread[k] = Math.round(v * 100) / 100;
  return result;
}
