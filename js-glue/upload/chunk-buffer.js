// ChunkBuffer: MediaRecorder chunks in, numbered upload parts (>= minPartSize except the last, each
// with its SHA-256) out. The work happens in wasm (wasm/upload/chunk_buffer.h); chunks are copied into
// wasm memory once through a reused scratch buffer of at most 1 MiB, and parts are copied out once.
import { getUploadModule } from '../upload.js';
import { checkNumber, toBytes } from '../validate.js';
import { alloc, takeBytes, throwLastError } from '../wasm-memory.js';

export const DEFAULT_MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PART_SIZE = 2 ** 30;

/**
 * The part rules of object stores (wasm/upload/chunk_buffer.h decides): every part but the last is
 * exactly minPartSize bytes, which is also Cloudflare R2's rule (all parts but the last of one size);
 * Google Cloud Storage resumable uploads take every chunk but the last in multiples of 256 KiB.
 * `store` picks a default minPartSize and the multiple a given minPartSize must be.
 */
export const PART_RULES = Object.freeze({
  s3: Object.freeze({ minPartSize: DEFAULT_MIN_PART_SIZE, partSizeMultiple: 1 }),
  r2: Object.freeze({ minPartSize: DEFAULT_MIN_PART_SIZE, partSizeMultiple: 1 }),
  gcs: Object.freeze({ minPartSize: 8 * 1024 * 1024, partSizeMultiple: 256 * 1024 }),
});
const SCRATCH_MAX = 1024 * 1024;

// Frees the native side of buffers that were dropped without dispose().
const registry = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry((native) => releaseNative(native))
  : null;

function releaseNative(native) {
  if (native.scratch) native.M._free(native.scratch);
  native.scratch = 0;
  if (native.handle) native.handle.delete();
  native.handle = null;
}

/**
 * @typedef {{index: number, bytes: Uint8Array, sha256: string, last: boolean}} UploadPart
 */
export class ChunkBuffer {
  #native;

  /**
   * @param {{minPartSize?: number, holdFirstPart?: boolean, store?: 's3'|'r2'|'gcs', partSizeMultiple?: number}} [options]
   *   every part but the last has exactly minPartSize bytes. holdFirstPart (seekable streaming): part 0
   *   is kept back until flush(), patch() overwrites bytes in it, and flush() returns the tail part(s) and
   *   then part 0. store: the object store's part rules (PART_RULES: its default minPartSize, and the
   *   multiple minPartSize must be: 256 KiB for 'gcs'); partSizeMultiple sets that multiple directly.
   */
  constructor(options = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('ChunkBuffer options must be an object');
    const { store, holdFirstPart = false } = options;
    if (store !== undefined && !Object.hasOwn(PART_RULES, store)) {
      throw new TypeError(`ChunkBuffer: store must be one of ${Object.keys(PART_RULES).map((k) => `'${k}'`).join(', ')}, got ${JSON.stringify(store)}`);
    }
    const rules = store === undefined ? PART_RULES.s3 : PART_RULES[store];
    const { minPartSize = rules.minPartSize, partSizeMultiple = rules.partSizeMultiple } = options;
    checkNumber(minPartSize, 'ChunkBuffer: minPartSize', { min: 1, max: MAX_PART_SIZE, integer: true });
    checkNumber(partSizeMultiple, 'ChunkBuffer: partSizeMultiple', { min: 1, max: MAX_PART_SIZE, integer: true });
    if (typeof holdFirstPart !== 'boolean') throw new TypeError(`ChunkBuffer: holdFirstPart must be a boolean, got ${typeof holdFirstPart}`);
    const M = getUploadModule();
    const handle = M.ChunkBuffer.create({ minPartSize, holdFirstPart, partSizeMultiple });
    if (!handle) throwLastError(M, 'ChunkBuffer');
    this.#native = { M, handle, scratch: 0, scratchSize: 0 };
    if (registry) registry.register(this, this.#native, this);
  }

  #live(what) {
    if (!this.#native.handle) throw new Error(`ChunkBuffer.${what}: the buffer has been disposed`);
    return this.#native;
  }

  #collect(native) {
    const { handle } = native;
    const parts = [];
    try {
      const n = handle.readyCount();
      for (let i = 0; i < n; i++) {
        parts.push({
          index: handle.readyIndex(i),
          sha256: handle.readySha256(i),
          last: handle.readyLast(i),
          bytes: takeBytes(handle.takeReadyBytes(i)),
        });
      }
    } finally {
      handle.clearReady();
    }
    return parts;
  }

  /**
   * Adds a chunk (any size, 0 included). Returns the parts that became complete, in order.
   * @param {Uint8Array|ArrayBufferView|ArrayBuffer} chunk
   * @returns {UploadPart[]}
   */
  append(chunk) {
    const native = this.#live('append');
    const bytes = toBytes(chunk, 'ChunkBuffer.append: chunk');
    if (native.handle.flushed()) throw new Error('ChunkBuffer.append: append after flush (the recording has ended)');
    const { M, handle } = native;
    const parts = [];
    for (let off = 0; off < bytes.length || (off === 0 && bytes.length === 0); ) {
      const n = Math.min(bytes.length - off, SCRATCH_MAX);
      if (n > native.scratchSize) {
        if (native.scratch) M._free(native.scratch);
        native.scratch = 0;
        native.scratchSize = 0;
        const size = Math.min(SCRATCH_MAX, Math.max(n, 64 * 1024));
        native.scratch = alloc(M, size, 'chunk');
        native.scratchSize = size;
      }
      if (n > 0) M.HEAPU8.set(bytes.subarray(off, off + n), native.scratch);
      if (!handle.append(native.scratch || 0, n)) {
        handle.clearReady();
        throwLastError(M, 'ChunkBuffer.append');
      }
      parts.push(...this.#collect(native));
      if (n === 0) break;
      off += n;
    }
    return parts;
  }

  /**
   * Ends the stream. Returns the last part, or [] when nothing (or only empty chunks) was appended.
   * @returns {UploadPart[]}
   */
  flush() {
    const native = this.#live('flush');
    if (!native.handle.flush()) throwLastError(native.M, 'ChunkBuffer.flush');
    const parts = this.#collect(native);
    // The scratch buffer is no longer needed.
    if (native.scratch) native.M._free(native.scratch);
    native.scratch = 0;
    native.scratchSize = 0;
    return parts;
  }

  /**
   * holdFirstPart only: overwrites bytes offset .. offset + bytes.length of part 0 (which must lie inside
   * part 0 and inside what was appended so far); before flush().
   * @param {number} offset
   * @param {Uint8Array|ArrayBufferView|ArrayBuffer} bytes
   */
  patch(offset, bytes) {
    const native = this.#live('patch');
    checkNumber(offset, 'ChunkBuffer.patch: offset', { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true });
    const u8 = toBytes(bytes, 'ChunkBuffer.patch: bytes');
    if (u8.length === 0) return;
    const end = offset + u8.length;
    if (end > this.totalBytes) throw new RangeError(`ChunkBuffer.patch: bytes ${offset}..${end} reach past the ${this.totalBytes} bytes appended so far`);
    if (end > native.handle.minPartSize()) throw new RangeError(`ChunkBuffer.patch: bytes ${offset}..${end} reach past part 0 (${native.handle.minPartSize()} bytes)`);
    const { M, handle } = native;
    const ptr = alloc(M, u8.length, 'patch');
    try {
      M.HEAPU8.set(u8, ptr);
      if (!handle.patch(offset, ptr, u8.length)) throwLastError(M, 'ChunkBuffer.patch');
    } finally {
      M._free(ptr);
    }
  }

  /** Bytes of part 0 held back (holdFirstPart; 0 otherwise or once flushed). */
  get heldBytes() { return this.#live('heldBytes').handle.heldBytes(); }

  /** Bytes appended so far. */
  get totalBytes() { return this.#live('totalBytes').handle.totalBytes(); }
  /** Bytes held back for the part being filled (at most minPartSize). */
  get bufferedBytes() { return this.#live('bufferedBytes').handle.bufferedBytes(); }
  /**
   * The bytes the emitted parts hold: { begin, end } offsets in the appended stream (a held part 0 is not
   * emitted before flush(), so begin is minPartSize while it is held). A caller that keeps every chunk until
   * a part holds it may let go of the chunks inside this range.
   */
  get emittedRange() {
    const { handle } = this.#live('emittedRange');
    return { begin: handle.emittedBegin(), end: handle.emittedEnd() };
  }
  /** Parts emitted so far. */
  get partsEmitted() { return this.#live('partsEmitted').handle.partsEmitted(); }
  get minPartSize() { return this.#live('minPartSize').handle.minPartSize(); }
  get flushed() { return this.#live('flushed').handle.flushed(); }
  get disposed() { return !this.#native.handle; }

  /** Frees the native memory now (also done by a FinalizationRegistry if forgotten). Idempotent. */
  dispose() {
    if (!this.#native.handle) return;
    if (registry) registry.unregister(this);
    releaseNative(this.#native);
  }
}
if (typeof Symbol.dispose === 'symbol') ChunkBuffer.prototype[Symbol.dispose] = ChunkBuffer.prototype.dispose;

/** SHA-256 of bytes as 64 lowercase hex characters (the checksum parts carry), computed in wasm. */
export function sha256Hex(data) {
  const bytes = toBytes(data, 'sha256Hex: data');
  const M = getUploadModule();
  const ptr = alloc(M, bytes.length, 'data');
  try {
    M.HEAPU8.set(bytes, ptr);
    const hex = M.sha256Hex(ptr, bytes.length);
    if (hex.length !== 64) throwLastError(M, 'sha256Hex');
    return hex;
  } finally {
    M._free(ptr);
  }
}
