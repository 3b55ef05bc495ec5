// What the server accepts as capture metadata, and the JSON schemas of the protocol bodies.
// Metadata is stored beside each capture (capture.json), so it is checked before it is stored:
// a JSON object, at most `maxBytes` serialized (413 beyond), bounded depth/keys/strings, plain key
// names, and the well-known fields below with their types (400 on any violation, listing them all).
import { httpError, CAPTURE_SESSION_RE, ID_RE } from './storage.js';

export const METADATA_LIMITS = Object.freeze({
  maxDepth: 8,
  maxKeys: 1000, // all keys at all depths
  maxKeyLength: 128,
  maxStringLength: 16384,
  maxArrayLength: 4096,
});

const KEY_RE = /^[A-Za-z0-9_.:@$-]{1,128}$/;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const str = (max) => (v) => (typeof v === 'string' && v.length <= max ? null : `a string of at most ${max} characters`);
const num = (min, max, integer = false) => (v) =>
  typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max && (!integer || Number.isInteger(v))
    ? null
    : `${integer ? 'an integer' : 'a number'} in [${min}, ${max}]`;

/** The well-known metadata fields (all optional); any other key follows the generic rules only. */
export const METADATA_FIELDS = Object.freeze({
  title: str(256),
  description: str(4096),
  filename: str(255),
  session: (v) => (typeof v === 'string' && CAPTURE_SESSION_RE.test(v) ? null : `a string matching ${CAPTURE_SESSION_RE}`),
  source: str(64), // 'canvas' | 'webgl' | 'xr' | 'display' ... free text, short
  mimeType: str(128),
  timestamp: num(0, 8.64e15),
  duration: num(0, 1e7),
  fps: num(0, 1000),
  bitrate: num(0, 1e10),
  width: num(1, 65535, true),
  height: num(1, 65535, true),
  codec: str(64),
  resolution: (v) => (typeof v === 'string' && /^[0-9]{1,5}x[0-9]{1,5}$/.test(v) ? null : 'a string like "1920x1080"'),
  tags: (v) =>
    Array.isArray(v) && v.length <= 64 && v.every((t) => typeof t === 'string' && t.length >= 1 && t.length <= 64)
      ? null
      : 'an array of at most 64 strings of 1..64 characters',
});

const invalid = (where, errors) =>
  httpError(400, `invalid ${where}: ${errors[0]}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`, { details: errors });

/**
 * Checks a metadata value. Throws httpError(413) when it serializes to more than maxBytes and
 * httpError(400, ..., { details }) listing every violation. Returns the value unchanged.
 */
export function validateMetadata(value, { maxBytes = 65536, where = 'metadata' } = {}) {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw httpError(400, `${where} must be a JSON object`);

  // The walk stops at maxDepth, so it runs before anything that recurses over the whole value (a
  // 30,000-deep array would overflow JSON.stringify's stack).
  const errors = [];
  let keys = 0;
  const walk = (v, path, depth) => {
    if (errors.length > 50) return;
    if (depth > METADATA_LIMITS.maxDepth) { errors.push(`${path}: nested deeper than ${METADATA_LIMITS.maxDepth}`); return; }
    if (typeof v === 'string') {
      if (v.length > METADATA_LIMITS.maxStringLength) errors.push(`${path}: string longer than ${METADATA_LIMITS.maxStringLength}`);
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) errors.push(`${path}: not a finite number`);
    } else if (Array.isArray(v)) {
      if (v.length > METADATA_LIMITS.maxArrayLength) errors.push(`${path}: array longer than ${METADATA_LIMITS.maxArrayLength}`);
      else v.forEach((item, i) => walk(item, `${path}[${i}]`, depth + 1));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) {
        keys++;
        if (FORBIDDEN_KEYS.has(k) || !KEY_RE.test(k)) { errors.push(`${path}: key ${JSON.stringify(k.slice(0, 40))} is not allowed (letters, digits, _.:@$- up to 128)`); continue; }
        walk(item, `${path}.${k}`, depth + 1);
      }
    } else if (typeof v !== 'boolean' && v !== null) {
      errors.push(`${path}: unsupported type ${typeof v}`);
    }
  };
  walk(value, where, 0);
  if (keys > METADATA_LIMITS.maxKeys) errors.push(`${where}: more than ${METADATA_LIMITS.maxKeys} keys`);
  for (const [field, check] of Object.entries(METADATA_FIELDS)) {
    if (Object.hasOwn(value, field)) {
      const want = check(value[field]);
      if (want) errors.push(`${where}.${field}: must be ${want}`);
    }
  }
  if (errors.some((e) => e.includes('nested deeper than'))) throw invalid(where, errors);
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (bytes > maxBytes) throw httpError(413, `${where} is ${bytes} bytes, over the limit of ${maxBytes}`);
  if (errors.length) throw invalid(where, errors);
  return value;
}

/** Parses a multipart `metadata` field (a JSON string, or already parsed when sent as application/json). */
export function parseMetadataField(field, { maxBytes }) {
  if (!field) return {};
  if (field.valueTruncated) throw httpError(413, `metadata is over the limit of ${maxBytes} bytes`);
  let value = field.value;
  if (typeof value === 'string') {
    if (Buffer.byteLength(value) > maxBytes) throw httpError(413, `metadata is over the limit of ${maxBytes} bytes`);
    if (value.trim() === '') return {};
    try {
      value = JSON.parse(value);
    } catch {
      throw httpError(400, 'metadata must be a JSON object (it did not parse as JSON)');
    }
  }
  return validateMetadata(value, { maxBytes });
}

const idSchema = { type: 'string', pattern: ID_RE.source };

export const INIT_BODY = {
  type: 'object',
  properties: {
    filename: { type: 'string', maxLength: 255 },
    timestamp: { type: 'number', minimum: 0 },
    fps: { type: 'number', minimum: 0, maximum: 1000 },
    codec: { type: 'string', maxLength: 64 },
    bitrate: { type: 'number', minimum: 0 },
    resolution: { type: 'string', pattern: '^[0-9]{1,5}x[0-9]{1,5}$' },
    mimeType: { type: 'string', maxLength: 128 },
    session: { type: 'string', pattern: CAPTURE_SESSION_RE.source },
    metadata: { type: 'object' },
  },
};

export const finalizeBody = (maxChunks) => ({
  type: 'object',
  required: ['sessionId'],
  properties: {
    sessionId: idSchema,
    totalChunks: { type: 'integer', minimum: 1, maximum: maxChunks },
    uploadedChunks: { type: 'array', maxItems: maxChunks, items: { type: 'integer', minimum: 0, maximum: maxChunks - 1 } },
    duration: { type: 'number', minimum: 0 },
    metadata: { type: 'object' },
  },
});

/** A display name made safe to show and to put in Content-Disposition; never used as a path. */
export function displayName(name, fallback) {
  if (typeof name !== 'string') return fallback;
  const base = name.split(/[\\/]/).pop().replace(/[^A-Za-z0-9._ -]/g, '_').replace(/^\.+/, '').slice(0, 128).trim();
  return base || fallback;
}
