// Argument checks made before any native work, with messages that say what was wrong.
// The limits are the same numbers as wasm/common/image.h.
export const MAX_SIDE = 16384;
export const MAX_PIXELS = 2 ** 28;

function describe(v) {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? (v.constructor ? v.constructor.name : 'an object') : typeof v;
}

/** A finite number within [min, max] (and an integer when asked). */
export function checkNumber(value, name, { min = -Infinity, max = Infinity, integer = false } = {}) {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  if (Number.isNaN(value)) throw new RangeError(`${name} must be a number, got NaN`);
  if (integer && !Number.isInteger(value)) throw new RangeError(`${name} must be an integer, got ${value}`);
  if (value < min || value > max) throw new RangeError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** One of the allowed strings. */
export function checkEnum(value, name, allowed) {
  if (!allowed.includes(value)) {
    throw new (typeof value === 'string' ? RangeError : TypeError)(
      `${name} must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${describe(value)}`);
  }
  return value;
}

const tag = (v) => Object.prototype.toString.call(v);

/**
 * A Uint8Array view of bytes given as a Uint8Array, Uint8ClampedArray or (Shared)ArrayBuffer, or null.
 * Checks the type tag rather than instanceof, so arrays from another realm (an iframe, a Worker's
 * structured clone, a test VM context) are accepted too.
 */
export function asBytes(v) {
  const t = tag(v);
  if (t === '[object Uint8Array]') return v;
  if (t === '[object Uint8ClampedArray]') return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (t === '[object ArrayBuffer]' || t === '[object SharedArrayBuffer]') return new Uint8Array(v);
  return null;
}

/** Width and height of an image: positive integers within the limits. */
export function checkDimensions(width, height, what = 'image') {
  if (typeof width !== 'number' || typeof height !== 'number') {
    throw new TypeError(`${what}: width and height must be numbers, got ${describe(width)} and ${describe(height)}`);
  }
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`${what}: width and height must be positive integers, got ${width}x${height}`);
  }
  if (width > MAX_SIDE || height > MAX_SIDE || width * height > MAX_PIXELS) {
    throw new RangeError(`${what}: ${width}x${height} exceeds the limit of ${MAX_SIDE} per side and 2^28 pixels`);
  }
}

/**
 * An RGBA8 image `{ data, width, height, stride? }` (ImageData is one). Returns a normalised copy of the
 * descriptor with `data` as a Uint8Array view (no pixel copy) and `stride` in bytes.
 */
export function checkImage(img, what = 'image') {
  if (img === null || typeof img !== 'object') throw new TypeError(`${what} must be an object { data, width, height }, got ${describe(img)}`);
  const { width, height } = img;
  checkDimensions(width, height, what);
  const data = asBytes(img.data);
  if (!data) {
    throw new TypeError(`${what}.data must be a Uint8Array, Uint8ClampedArray or ArrayBuffer, got ${describe(img.data)}`);
  }
  const stride = img.stride === undefined ? width * 4 : img.stride;
  checkNumber(stride, `${what}.stride`, { integer: true, min: width * 4, max: MAX_SIDE * 4 * 4 });
  const need = stride * height;
  if (data.length !== need) {
    throw new RangeError(`${what}.data has ${data.length} bytes but ${width}x${height} RGBA with stride ${stride} needs ${need}`);
  }
  return { data, width, height, stride };
}
