// What an app passes to enqueueScreenshot(), as bytes to store: a capture result ({ bytes | blob, format,
// metadata }), a Uint8Array or other view, an ArrayBuffer, or a Blob. Plus the default ids and names.
import { asBytes, toBytes } from '../validate.js';

export function makeId(prefix) {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return `${prefix}-${c.randomUUID()}`;
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

/** A file name extension for a MIME type ('bin' for unknown ones). */
export function extFor(mime) {
  return { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'video/webm': 'webm' }[mime] || 'bin';
}

/** { bytes, mimeType, metadata } of a screenshot; options.mimeType / options.metadata win over the capture's. */
export async function screenshotBytes(capture, options) {
  let mimeType = options.mimeType;
  let metadata = options.metadata;
  let bytes;
  if (typeof Blob === 'function' && capture instanceof Blob) {
    bytes = new Uint8Array(await capture.arrayBuffer());
    mimeType = mimeType || capture.type;
  } else if (asBytes(capture, { anyView: true })) {
    bytes = asBytes(capture, { anyView: true });
  } else if (capture && typeof capture === 'object' && (capture.bytes || capture.blob)) {
    bytes = capture.bytes ? toBytes(capture.bytes, 'enqueueScreenshot: capture.bytes')
      : new Uint8Array(await capture.blob.arrayBuffer());
    mimeType = mimeType || capture.format || capture.blob?.type;
    if (metadata === undefined && capture.metadata && typeof capture.metadata === 'object') metadata = capture.metadata;
  } else {
    throw new TypeError('enqueueScreenshot: capture must be a capture result ({ bytes, format, metadata }), a Uint8Array, an ArrayBuffer or a Blob');
  }
  if (bytes.byteLength === 0) throw new RangeError('enqueueScreenshot: the screenshot is empty');
  return { bytes, mimeType: mimeType || 'image/png', metadata };
}
