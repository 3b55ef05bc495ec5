// The upload queue's limits come from the C++ UploadQueue (wasm/upload/upload_queue.h), which enforces
// them; the JS checks an app's arguments against the same numbers first, so the message names the
// argument the app passed. One place for the item id and metadata checks of every entry point.
import { getUploadModule } from '../upload.js';
import { describe } from '../validate.js';

let limits = null;

/**
 * The queue's limits: { maxQueueItems, maxPartsPerItem, maxItemIdBytes, maxMetadataBytes, maxSessionIdBytes,
 * maxResultBytes, maxErrorMessageBytes, maxQueuePartBytes, maxScreenshotBytes, maxPartSize } (after init()).
 */
export function uploadLimits() {
  if (!limits) limits = Object.freeze({ ...getUploadModule().uploadLimits() });
  return limits;
}

/** Bytes of a string as UTF-8 (what the C++ counts), without encoding it. */
export function utf8Length(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { n += 4; i++; }
    else n += 3;
  }
  return n;
}

/** An item id the queue accepts: a non-empty string of at most maxItemIdBytes UTF-8 bytes. */
export function checkItemId(id, what) {
  if (typeof id !== 'string' || !id) throw new TypeError(`${what}: id must be a non-empty string, got ${describe(id)}`);
  const max = uploadLimits().maxItemIdBytes;
  const n = utf8Length(id);
  if (n > max) throw new RangeError(`${what}: id is ${n} bytes as UTF-8; the upload queue takes at most ${max}`);
  return id;
}

/** An item's metadata as the JSON text the queue keeps ('' for none). */
export function metadataJson(m, what) {
  if (m === undefined || m === null) return '';
  if (typeof m !== 'object' || Array.isArray(m)) throw new TypeError(`${what}: metadata must be a plain object`);
  const s = JSON.stringify(m);
  const max = uploadLimits().maxMetadataBytes;
  const n = utf8Length(s);
  if (n > max) throw new RangeError(`${what}: metadata is ${n} bytes as JSON; the limit is ${max}`);
  return s;
}

/** The metadata an item was queued with (JSON text) as an object ({} when there is none or it does not read). */
export function parseMetadata(s) {
  if (!s) return {};
  try {
    const v = JSON.parse(s);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}
