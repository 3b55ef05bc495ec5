// Encoded bytes as a Blob (browsers, Workers, Node 18+), typed from the file's signature when no
// type is given.
import { toBytes } from '../validate.js';

/** 'image/png', 'image/jpeg', or null: what the first bytes say. */
export function sniffImageType(bytes) {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47 &&
      bytes[4] === 0x0d && bytes[5] === 0x0a && bytes[6] === 0x1a && bytes[7] === 0x0a) return 'image/png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  return null;
}

/**
 * Wraps encoded bytes in a Blob.
 * @param {Uint8Array|ArrayBuffer|ArrayBufferView} bytes e.g. the result of encode()
 * @param {string} [type] MIME type; by default sniffed ('image/png' / 'image/jpeg'), else
 *   'application/octet-stream'
 * @returns {Blob}
 */
export function toBlob(bytes, type) {
  const view = toBytes(bytes, 'toBlob: bytes', 'a Uint8Array or ArrayBuffer'); // (any ArrayBuffer view is taken too)
  if (type !== undefined && (typeof type !== 'string' || type === '')) {
    throw new TypeError(`toBlob: type must be a non-empty MIME type string, got ${typeof type === 'string' ? '""' : typeof type}`);
  }
  if (typeof Blob !== 'function') throw new Error('toBlob: this runtime has no Blob (Node 18+ and browsers do)');
  return new Blob([view], { type: type === undefined ? sniffImageType(view) || 'application/octet-stream' : type });
}
