// Validation and normalisation of capture options, shared by captureCanvas and captureXRFrame.
// Everything here runs before any GL or wasm work, so bad input throws a clear Error at once.
import { checkEnum, checkNumber, describe, MAX_SIDE } from '../validate.js';

export const FORMATS = ['image/jpeg', 'image/png'];
export const DEFAULT_QUALITY = 0.92; // the JPEG quality browsers' toBlob uses by default
export const DEFAULT_THUMBNAIL = { format: 'image/jpeg', quality: 0.8 };

// Operations a filter may name, with the name of the capturekit export that runs it. Filters are plain
// data ({ op, ...params }) so they can cross to the Worker; see pipeline.js for how each is applied.
export const FILTER_OPS = ['crop', 'resize', 'thumbnail', 'flipVertical', 'unpremultiplyAlpha', 'adjust', 'blur', 'composite', 'watermark', 'text'];

/** A box { width, height } from a number (both sides) or an object; used by maxSize and thumbnail. */
export function checkBox(value, name) {
  if (typeof value === 'number') value = { width: value, height: value };
  if (value === null || typeof value !== 'object') {
    throw new TypeError(`${name} must be a number (longest side) or { width, height }, got ${describe(value)}`);
  }
  const width = checkNumber(value.width, `${name}.width`, { integer: true, min: 1, max: MAX_SIDE });
  const height = checkNumber(value.height, `${name}.height`, { integer: true, min: 1, max: MAX_SIDE });
  return { width, height };
}

function checkFormatQuality(format, quality, where) {
  checkEnum(format, `${where}.format`, FORMATS);
  checkNumber(quality, `${where}.quality`, { min: 0, max: 1 });
}

function checkFilters(filters, where) {
  if (filters === undefined || filters === null) return [];
  if (!Array.isArray(filters)) throw new TypeError(`${where}.filters must be an array of { op, ... }, got ${describe(filters)}`);
  return filters.map((f, i) => {
    const at = `${where}.filters[${i}]`;
    if (f === null || typeof f !== 'object' || Array.isArray(f)) throw new TypeError(`${at} must be an object { op, ... }, got ${describe(f)}`);
    checkEnum(f.op, `${at}.op`, FILTER_OPS);
    if (f.op === 'text' && typeof f.text !== 'string') throw new TypeError(`${at}.text must be a string, got ${describe(f.text)}`);
    if ((f.op === 'composite' || f.op === 'watermark') && (f.image === null || typeof f.image !== 'object')) {
      throw new TypeError(`${at}.image must be an image { data, width, height }, ImageData, ImageBitmap, Blob or encoded bytes, got ${describe(f.image)}`);
    }
    return { ...f };
  });
}

/**
 * Normalises the options both capture functions share. `where` prefixes messages ("captureCanvas").
 * Returns a new object; the caller's object is not modified.
 */
export function normaliseOptions(options, where, { xr = false } = {}) {
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object') throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
  const o = `${where}: options`;
  const format = options.format === undefined ? 'image/jpeg' : options.format;
  const quality = options.quality === undefined ? DEFAULT_QUALITY : options.quality;
  checkFormatQuality(format, quality, o);

  const scale = options.scale === undefined ? 1 : checkNumber(options.scale, `${o}.scale`, { min: Number.MIN_VALUE, max: 8 });
  if (xr && scale !== 1) {
    throw new RangeError(`${o}.scale must be 1 for an XR frame: the XR compositor owns the framebuffer size (got ${scale})`);
  }
  const maxSize = options.maxSize === undefined || options.maxSize === null ? null : checkBox(options.maxSize, `${o}.maxSize`);

  let thumbnail = null;
  if (options.thumbnail !== undefined && options.thumbnail !== null && options.thumbnail !== false) {
    const t = options.thumbnail;
    const box = checkBox(t, `${o}.thumbnail`);
    const tf = typeof t === 'object' && t.format !== undefined ? t.format : DEFAULT_THUMBNAIL.format;
    const tq = typeof t === 'object' && t.quality !== undefined ? t.quality : DEFAULT_THUMBNAIL.quality;
    checkFormatQuality(tf, tq, `${o}.thumbnail`);
    thumbnail = { ...box, format: tf, quality: tq };
  }

  const filters = checkFilters(options.filters, o);
  const worker = options.worker === undefined ? true : options.worker;
  if (typeof worker !== 'boolean') throw new TypeError(`${o}.worker must be true or false, got ${describe(worker)}`);
  const timeout = options.timeout === undefined ? 5000 : checkNumber(options.timeout, `${o}.timeout`, { min: 1 });
  for (const fn of ['render', 'resize']) {
    if (options[fn] !== undefined && typeof options[fn] !== 'function') {
      throw new TypeError(`${o}.${fn} must be a function, got ${describe(options[fn])}`);
    }
  }
  if (options.metadata !== undefined && (options.metadata === null || typeof options.metadata !== 'object')) {
    throw new TypeError(`${o}.metadata must be an object of extra fields, got ${describe(options.metadata)}`);
  }
  return {
    format, quality, scale, maxSize, thumbnail, filters, worker, timeout,
    render: options.render, resize: options.resize, context: options.context,
    extra: options.metadata, allowDetached: !!options.allowDetached,
  };
}
