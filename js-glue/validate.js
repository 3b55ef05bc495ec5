// Argument checks made before any native work, with messages that say what was wrong: the one
// describe() that every message's "got ..." uses, and the one way bytes given as any ArrayBuffer view or
// ArrayBuffer become a Uint8Array (asBytes, toBytes).
// The limits are the same numbers as wasm/common/image.h.
export const MAX_SIDE = 16384;
export const MAX_PIXELS = 2 ** 28;

/**
 * What a wrong argument was, for "got ..." in a message: an object by its class (Array, Blob, Object),
 * a string as itself (quoted, at most 40 characters), a number, boolean, undefined or null as itself.
 * With { types: true }, a primitive by its type instead ("string", "number"): where the type is what
 * was wrong, not the value.
 */
export function describe(v, { types = false } = {}) {
  if (v === null) return 'null';
  if (typeof v === 'object') return v.constructor && v.constructor.name ? v.constructor.name : 'an object';
  if (typeof v === 'function') return 'a function';
  if (types) return typeof v;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === 'symbol') return 'a symbol';
  return String(v);
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
 * A Uint8Array over the same memory (no copy) of bytes given as a Uint8Array, Uint8ClampedArray or
 * (Shared)ArrayBuffer, or null for anything else. With { anyView: true } any ArrayBuffer view (an
 * Int16Array, a DataView) is taken as its bytes too: right for data that is only bytes (a file, a
 * chunk), wrong for pixels, where a Uint16Array is a mistake. Type tags and ArrayBuffer.isView rather
 * than instanceof, so bytes from another realm (an iframe, a Worker's structured clone, a test VM
 * context) are accepted too. A Blob is not bytes yet: it must be read first.
 */
export function asBytes(v, { anyView = false } = {}) {
  const t = tag(v);
  if (t === '[object Uint8Array]') return v;
  if (t === '[object Uint8ClampedArray]' || (anyView && ArrayBuffer.isView(v))) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (t === '[object ArrayBuffer]' || t === '[object SharedArrayBuffer]') return new Uint8Array(v);
  return null;
}

/**
 * asBytes(v, { anyView: true }), or a TypeError "<what> must be <expected>, got <its type>" (for a Blob,
 * with how to read it).
 * @param {*} v
 * @param {string} what  the argument, as the message names it ('ChunkBuffer.append: chunk')
 * @param {string} [expected]  what it may be, when a caller takes less or more (a Blob, a stream) itself
 */
export function toBytes(v, what, expected = 'a Uint8Array, an ArrayBuffer view or an ArrayBuffer') {
  const bytes = asBytes(v, { anyView: true });
  if (bytes) return bytes;
  const got = describe(v, { types: true });
  const hint = got === 'Blob' ? ' (read it first: new Uint8Array(await blob.arrayBuffer()))' : '';
  throw new TypeError(`${what} must be ${expected}, got ${got}${hint}`);
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
