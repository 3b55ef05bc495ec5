// makeSeekable: turns a MediaRecorder WebM/Matroska (unknown sizes, no Duration, no Cues) into a seekable
// file: Duration, Cues before the Clusters, a SeekHead and known sizes; and a MediaRecorder MP4
// (fragmented: a moov without samples, then moof + mdat pairs; or one with its moov at the end) into a
// progressive MP4 with the moov first and complete sample tables. Which one is decided by the first
// bytes ('ftyp' at byte 4: MP4). The work is done in wasm (wasm/video/webm_repair.h, mp4_repair.h) in
// two streaming passes over the input, so memory stays flat whatever the length (files over 4 GB
// work; an MP4's tables take 16 bytes a sample): pass 1 reads the input once to plan, pass 2 reads it
// again and writes.
//
// Input:  a Blob/File (browser or Node), an ArrayBuffer or typed array, an array of those (e.g. the
//         MediaRecorder chunks as they arrived), a file path / file: URL or a FileHandle (Node), or a
//         ReadableStream / async iterable of chunks (read once and spooled: to a temp file in Node, to
//         Blobs in a browser).
// Output: a Blob (default); or `output`: a file path / file: URL (Node; written under a temporary name and
//         renamed only when complete), a FileHandle (Node) or a WritableStream (e.g. the browser's
//         FileSystemWritableFileStream, aborted on failure so no partial file is kept); or `ondata`
//         callbacks; or makeSeekableChunks(), an async iterator of Uint8Array chunks.
import { initVideo } from '../video.js';
import { asBytes, checkNumber, describe } from '../validate.js';
import { alloc, check } from '../wasm-memory.js';

export const REPAIR_DEFAULT_CHUNK = 1 << 20;
// Files are read (and the output written) in pieces this big: one request to the thread pool per
// 8 MiB instead of per chunk; the wasm still takes chunkSize bytes at a time.
const FILE_READ_CHUNK = 8 << 20;
const MIN_CHUNK = 64 << 10;
const MAX_CHUNK = 64 << 20;
const OPTION_KEYS = new Set(['output', 'ondata', 'oninfo', 'onprogress', 'allowTruncated', 'chunkSize', 'type', 'module']);
const W = 'makeSeekable';

const isNode = typeof process === 'object' && typeof process.versions === 'object' && !!process.versions.node;
async function nodeModule(name) {
  return import(/* webpackIgnore: true */ /* @vite-ignore */ name);
}

const isBlob = (v) => typeof Blob === 'function' && v instanceof Blob;
const anyBytes = (v) => asBytes(v, { anyView: true });
const isBytes = (v) => anyBytes(v) !== null;
const isFileHandle = (v) => v !== null && typeof v === 'object' && typeof v.read === 'function' &&
  typeof v.stat === 'function' && typeof v.fd === 'number';
const isPath = (v) => typeof v === 'string' || (typeof URL === 'function' && v instanceof URL);
const isStream = (v) => v !== null && typeof v === 'object' &&
  (typeof v.getReader === 'function' || typeof v[Symbol.asyncIterator] === 'function');
const isWritableStream = (v) => v !== null && typeof v === 'object' && typeof v.getWriter === 'function';

function normaliseOptions(options) {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object') throw new TypeError(`${W}: options must be an object, got ${describe(options)}`);
  for (const k of Object.keys(options)) {
    if (!OPTION_KEYS.has(k)) throw new TypeError(`${W}: unknown option "${k}" (known: ${[...OPTION_KEYS].join(', ')})`);
  }
  const o = {
    output: options.output,
    ondata: options.ondata,
    oninfo: options.oninfo,
    onprogress: options.onprogress,
    allowTruncated: options.allowTruncated === undefined ? false : options.allowTruncated,
    chunkSize: options.chunkSize === undefined ? REPAIR_DEFAULT_CHUNK : options.chunkSize,
    type: options.type,
    module: options.module,
  };
  if (typeof o.allowTruncated !== 'boolean') throw new TypeError(`${W}: allowTruncated must be a boolean, got ${describe(o.allowTruncated)}`);
  checkNumber(o.chunkSize, `${W}: chunkSize`, { integer: true, min: MIN_CHUNK, max: MAX_CHUNK });
  for (const k of ['ondata', 'oninfo', 'onprogress']) {
    if (o[k] !== undefined && typeof o[k] !== 'function') throw new TypeError(`${W}: ${k} must be a function, got ${describe(o[k])}`);
  }
  if (o.type !== undefined && typeof o.type !== 'string') throw new TypeError(`${W}: type must be a string, got ${describe(o.type)}`);
  if (o.output !== undefined) {
    if (o.ondata) throw new TypeError(`${W}: pass either output or ondata, not both`);
    if (isPath(o.output) || isFileHandle(o.output)) {
      if (!isNode) throw new TypeError(`${W}: a file path or FileHandle output needs Node; in a browser pass a WritableStream`);
    } else if (!isWritableStream(o.output)) {
      throw new TypeError(`${W}: output must be a file path, a file: URL or a FileHandle (Node), or a WritableStream; got ${describe(o.output)}`);
    }
  }
  return o;
}

// ---- inputs: { size (null while unknown), read(): async iterable of Uint8Array, close() } ----

// Reads ahead: the next piece is on its way while the current one is in wasm.
function blobSource(blob, chunk) {
  const piece = (off) => blob.slice(off, Math.min(off + chunk, blob.size)).arrayBuffer();
  return {
    size: blob.size,
    async *read() {
      let next = blob.size > 0 ? piece(0) : null;
      for (let off = 0; off < blob.size; off += chunk) {
        const current = await next;
        next = off + chunk < blob.size ? piece(off + chunk) : null;
        yield new Uint8Array(current);
      }
    },
    async close() {},
  };
}

function bytesSource(bytes, chunk) {
  return {
    size: bytes.length,
    async *read() {
      for (let off = 0; off < bytes.length; off += chunk) yield bytes.subarray(off, off + chunk);
    },
    async close() {},
  };
}

function partsSource(parts, chunk) {
  const sources = parts.map((p, i) => {
    if (isBlob(p)) return blobSource(p, chunk);
    if (isBytes(p)) return bytesSource(anyBytes(p), chunk);
    throw new TypeError(`${W}: input[${i}] must be a Blob, an ArrayBuffer or a typed array, got ${describe(p)}`);
  });
  return {
    size: sources.reduce((n, s) => n + s.size, 0),
    async *read() {
      for (const s of sources) yield* s.read();
    },
    async close() {},
  };
}

async function fileSource(handle, ownHandle, chunk) {
  const size = (await handle.stat()).size;
  // Two buffers, reused: one is read into while the other is in wasm (each chunk is consumed before the
  // one after next is read).
  const buffers = [new Uint8Array(chunk), new Uint8Array(chunk)];
  return {
    size,
    async *read() {
      let pos = 0;
      let k = 0;
      let next = handle.read(buffers[0], 0, chunk, 0);
      for (;;) {
        const { bytesRead } = await next;
        if (bytesRead === 0) return;
        const current = buffers[k & 1].subarray(0, bytesRead);
        pos += bytesRead;
        k++;
        next = handle.read(buffers[k & 1], 0, chunk, pos);
        try {
          yield current;
        } finally {
          await next.catch(() => {});  // never leave a read running into a buffer (or a closed handle)
        }
      }
    },
    async close() {
      if (ownHandle) await handle.close();
    },
  };
}

async function* streamChunks(stream) {
  if (typeof stream[Symbol.asyncIterator] === 'function') {
    for await (const c of stream) yield c;
    return;
  }
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

// A stream can be read only once: pass 1 reads it and keeps a copy (a temp file in Node, Blobs in a
// browser, which keeps large Blobs out of the JS heap); pass 2 reads the copy.
async function streamSource(stream, chunk) {
  let spool = null;
  let size = null;
  const src = {
    get size() { return size; },
    async *read() {
      if (spool) {
        yield* spool.read();
        return;
      }
      let n = 0;
      let tmp = null;
      let parts = [];
      const blobs = [];
      let pending = 0;
      try {
        if (isNode) {
          const [fs, os, path] = await Promise.all([nodeModule('node:fs/promises'), nodeModule('node:os'), nodeModule('node:path')]);
          const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'capturekit-repair-'));
          tmp = { fs, dir, file: path.join(dir, 'input'), handle: null };
          tmp.handle = await fs.open(tmp.file, 'w+');
          src.tmp = tmp;
        }
        for await (const c of streamChunks(stream)) {
          if (!isBytes(c)) throw new TypeError(`${W}: the input stream gave ${describe(c)}; it must give Uint8Arrays`);
          const bytes = anyBytes(c);
          if (tmp) await tmp.handle.write(bytes, 0, bytes.length, n);
          else {
            parts.push(bytes.slice());
            pending += bytes.length;
            if (pending >= 16 << 20) { blobs.push(new Blob(parts)); parts = []; pending = 0; }
          }
          n += bytes.length;
          for (let off = 0; off < bytes.length; off += chunk) yield bytes.subarray(off, off + chunk);
        }
      } catch (e) {
        if (tmp) await tmp.fs.rm(tmp.dir, { recursive: true, force: true }).catch(() => {});
        src.tmp = null;
        throw e;
      }
      size = n;
      if (tmp) spool = await fileSource(tmp.handle, false, chunk);
      else spool = blobSource(new Blob([...blobs, ...parts]), chunk);
    },
    async close() {
      if (src.tmp) {
        await src.tmp.handle.close().catch(() => {});
        await src.tmp.fs.rm(src.tmp.dir, { recursive: true, force: true });
        src.tmp = null;
      }
    },
  };
  return src;
}

async function openSource(input, chunk) {
  if (isBlob(input)) return blobSource(input, chunk);
  if (isBytes(input)) return bytesSource(anyBytes(input), chunk);
  if (Array.isArray(input)) return partsSource(input, chunk);
  if (isPath(input)) {
    if (!isNode) throw new TypeError(`${W}: a file path input needs Node; in a browser pass a Blob`);
    const fs = await nodeModule('node:fs/promises');
    let handle;
    try {
      handle = await fs.open(input, 'r');
    } catch (e) {
      throw new Error(`${W}: cannot open ${input}: ${e.message}`, { cause: e });
    }
    return fileSource(handle, true, Math.max(chunk, FILE_READ_CHUNK));
  }
  if (isFileHandle(input)) return fileSource(input, false, Math.max(chunk, FILE_READ_CHUNK));
  if (isStream(input)) return streamSource(input, chunk);
  throw new TypeError(`${W}: input must be a Blob, an ArrayBuffer or typed array, an array of chunks, a file path or FileHandle (Node), or a ReadableStream; got ${describe(input)}`);
}

// ---- the two passes ----

const MP4_AUDIO = /^(opus|mp4a|fLaC|ac-3|ec-3)/;
function mimeTypeOf(docType, codecs) {
  if (docType === 'mp4') {
    const video = codecs.some((c) => !MP4_AUDIO.test(c));
    return `${video ? 'video' : 'audio'}/mp4`;
  }
  const video = codecs.some((c) => c.startsWith('V_'));
  return docType === 'matroska' ? `${video ? 'video' : 'audio'}/x-matroska` : `${video ? 'video' : 'audio'}/webm`;
}

// An ISO BMFF file ('ftyp' or 'styp' at byte 4) is repaired as MP4, anything else as WebM/Matroska.
function isMp4(head) {
  const t = String.fromCharCode(head[4], head[5], head[6], head[7]);
  return t === 'ftyp' || t === 'styp';
}

function infoFrom(raw) {
  const codecs = raw.codecs ? raw.codecs.split(',') : [];
  return {
    docType: raw.docType,
    mimeType: mimeTypeOf(raw.docType, codecs),
    codecs,
    duration: raw.durationMs / 1000,
    durationMs: raw.durationMs,
    inputSize: raw.inputSize,
    outputSize: raw.outputSize,
    clusters: raw.clusters,
    cues: raw.cues,
    frames: raw.frames,
    truncated: raw.truncated,
    droppedBytes: raw.droppedBytes,
    hadCues: raw.hadCues,
    hadDuration: raw.hadDuration,
  };
}

async function videoModule(m) {
  if (m && typeof m.WebmRepair === 'function') return m;
  return initVideo(m || {});
}

// The wasm work between two reads is synchronous: a file of tiny elements (thousands of blocks per
// MiB) costs far more per byte than real video, so after each chunkSize part the event loop gets a turn
// once SLICE_MS have passed (a server or a page keeps answering while a hostile file is repaired).
const SLICE_MS = 20;
const macrotask = () => new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));

async function* repairChunks(input, o) {
  let sliceStart = performance.now();
  const breathe = async () => {
    if (performance.now() - sliceStart < SLICE_MS) return;
    await macrotask();
    sliceStart = performance.now();
  };
  const source = await openSource(input, o.chunkSize);
  let M = null;
  let repair = null;
  let buf = 0;
  try {
    if (source.size === 0) throw new Error(`${W}: the input is empty (0 bytes)`);
    M = await videoModule(o.module);
    buf = alloc(M, o.chunkSize, 'makeSeekable input chunk');
    const scan = (part) => {
      M.HEAPU8.set(part, buf);
      check(M, repair.scan(buf, part.length), W);
    };
    // The repair (WebM or MP4) is chosen by the first 8 bytes; a stream may give fewer at first.
    let head = null;
    const start = (bytes) => {
      repair = new (isMp4(bytes) ? M.Mp4Repair : M.WebmRepair)(o.allowTruncated);
      for (let h = 0; h < bytes.length; h += o.chunkSize) scan(bytes.subarray(h, h + o.chunkSize));
    };
    let done = 0;
    for await (const chunk of source.read()) {
      for (let off = 0; off < chunk.length; off += o.chunkSize) {
        const part = chunk.subarray(off, off + o.chunkSize);
        if (repair) {
          scan(part);
        } else {
          const bytes = head ? new Uint8Array([...head, ...part]) : part;
          if (bytes.length < 8) head = bytes.slice();
          else { head = null; start(bytes); }
        }
        await breathe();
      }
      done += chunk.length;
      if (o.onprogress) o.onprogress({ pass: 1, bytes: done, total: source.size });
    }
    if (!repair) {  // fewer than 8 bytes in all: the WebM parser says what is wrong with them
      repair = new M.WebmRepair(o.allowTruncated);
      if (head) scan(head);
    }
    check(M, repair.finishScan(), W);
    const info = infoFrom(repair.info());
    if (o.oninfo) await o.oninfo(info);

    // Output: one buffer per input chunk (a file is read 8 MiB at a time, so each write is about that
    // big). Fresh buffers for callers that keep them (Blob parts, ondata, iterators); two that take
    // turns for the file sinks, which finish writing one before it is needed again (fresh large
    // buffers cost a page fault per 4 KiB).
    const pool = o.reuseOutput ? [new Uint8Array(0), new Uint8Array(0)] : null;
    let turn = 0;
    done = 0;
    for await (const chunk of source.read()) {
      let out = null;
      let at = 0;
      for (let off = 0; off < chunk.length; off += o.chunkSize) {
        const part = chunk.subarray(off, off + o.chunkSize);
        M.HEAPU8.set(part, buf);
        check(M, repair.write(buf, part.length), W);
        await breathe();
        // (source, offset, size) triples: 0 = this part (sliced here, never copied through wasm),
        // 1 = bytes the writer made (cluster headers), 2 = the prelude (headers and cues).
        const pieces = repair.pieces();
        let total = 0;
        for (let i = 2; i < pieces.length; i += 3) total += pieces[i];
        if (total === 0) continue;
        if (!out || at + total > out.length) {
          // Room for the rest of the chunk as it came in, plus what the writer adds.
          const need = at + total + (chunk.length - off - part.length) + (64 << 10);
          let next;
          if (pool) {
            if (pool[turn].length < need) pool[turn] = new Uint8Array(need);
            next = pool[turn];
            turn ^= 1;
          } else {
            next = new Uint8Array(need);
          }
          if (out && at) next.set(out.subarray(0, at));
          out = next;
        }
        let literal = null;
        let prelude = null;
        for (let i = 0; i < pieces.length; i += 3) {
          const from = pieces[i + 1];
          const n = pieces[i + 2];
          let view;
          if (pieces[i] === 0) view = part;
          else if (pieces[i] === 1) view = literal || (literal = repair.literal());
          else view = prelude || (prelude = repair.prelude());
          out.set(view.subarray(from, from + n), at);
          at += n;
        }
      }
      if (at) yield out.subarray(0, at);
      done += chunk.length;
      if (o.onprogress) o.onprogress({ pass: 2, bytes: done, total: source.size });
    }
    check(M, repair.finishWrite(), W);
    return info;
  } finally {
    if (buf) M._free(buf);
    if (repair) repair.delete();
    await source.close();
  }
}

/**
 * Repairs a recording, yielding the seekable file as Uint8Array chunks in order (about one per input
 * chunk; the first also holds the headers and cues). The generator's return value is the info.
 * @param {Blob|ArrayBuffer|ArrayBufferView|Array|string|URL|object} input see the file comment
 * @param {object} [options] as for makeSeekable, without output/ondata
 */
export function makeSeekableChunks(input, options = {}) {
  const o = normaliseOptions(options);
  if (o.output !== undefined || o.ondata !== undefined) throw new TypeError(`makeSeekableChunks: output and ondata are for makeSeekable`);
  return repairChunks(input, o);
}

async function openSink(o, input) {
  if (o.ondata) {
    return { write: (b) => o.ondata(b), close: async (info) => info, abort: async () => {} };
  }
  const out = o.output;
  if (out === undefined) {
    const parts = [];
    return {
      write: (b) => { parts.push(b); },
      close: async (info) => new Blob(parts, { type: o.type || (isBlob(input) && input.type) || info.mimeType }),
      abort: async () => { parts.length = 0; },
    };
  }
  if (isWritableStream(out)) {
    const writer = out.getWriter();
    return {
      write: async (b) => { await writer.ready; await writer.write(b); },
      close: async (info) => { await writer.close(); return info; },
      abort: async (e) => { await writer.abort(e).catch(() => {}); },
    };
  }
  const fs = await nodeModule('node:fs/promises');
  if (isFileHandle(out)) {
    return {
      write: async (b) => { let off = 0; while (off < b.length) off += (await out.write(b, off, b.length - off)).bytesWritten; },
      close: async (info) => info,
      abort: async () => {},
    };
  }
  // A path: written under a temporary name next to it, renamed only once complete.
  const { fileURLToPath } = await nodeModule('node:url');
  const path = typeof out === 'string' ? out : fileURLToPath(out);
  const tmp = `${path}.partial-${process.pid}-${Date.now().toString(36)}`;
  let handle;
  try {
    handle = await fs.open(tmp, 'wx');
  } catch (e) {
    throw new Error(`${W}: cannot write next to ${path}: ${e.message}`, { cause: e });
  }
  return {
    write: async (b) => { let off = 0; while (off < b.length) off += (await handle.write(b, off, b.length - off)).bytesWritten; },
    close: async (info) => { await handle.close(); await fs.rename(tmp, path); return info; },
    abort: async () => { await handle.close().catch(() => {}); await fs.rm(tmp, { force: true }); },
  };
}

/**
 * Makes a MediaRecorder WebM/Matroska seekable (Duration, Cues, SeekHead, known sizes), or a fragmented
 * (or moov-last) MP4 progressive with the moov first, in two streaming passes; memory stays flat for any
 * length. Codecs: VP8, VP9, AV1, H.264, HEVC video, Opus, Vorbis, PCM audio (WebM); H.264, HEVC, VP9, AV1,
 * Opus, AAC (MP4).
 * Errors: a TypeError for bad arguments, an Error naming the problem for input that is not a complete
 * WebM/Matroska recording (empty, truncated — unless allowTruncated —, another format, another codec).
 * @param {Blob|ArrayBuffer|ArrayBufferView|Array<Blob|ArrayBuffer|ArrayBufferView>|string|URL|object} input
 * @param {object} [options]
 * @param {string|URL|object} [options.output] file path / file: URL / FileHandle (Node) or a WritableStream
 * @param {(bytes: Uint8Array) => (void|Promise<void>)} [options.ondata] receives the output in order
 * @param {(info: object) => void} [options.oninfo] called after pass 1 with the info (outputSize, duration...)
 * @param {(p: {pass: 1|2, bytes: number, total: number|null}) => void} [options.onprogress]
 * @param {boolean} [options.allowTruncated=false] keep the complete frames of a cut-short recording
 * @param {number} [options.chunkSize=1048576] bytes read at a time
 * @param {string} [options.type] the MIME type of the Blob result (default: the input Blob's, else from the file)
 * @param {object} [options.module] the video module, or options for initVideo()
 * @returns {Promise<Blob|object>} the repaired Blob, or (with output/ondata) the info:
 *   { docType, mimeType, codecs, duration (s), durationMs, inputSize, outputSize, clusters, cues, frames,
 *     truncated, droppedBytes, hadCues, hadDuration }
 */
export async function makeSeekable(input, options = {}) {
  const o = normaliseOptions(options);
  o.reuseOutput = o.output !== undefined && (isPath(o.output) || isFileHandle(o.output));
  const chunks = repairChunks(input, o);
  let sink = null;
  let finished = false;
  try {
    let r = await chunks.next();
    sink = await openSink(o, input);
    // One write in flight while the next chunk is made.
    let writing = null;
    let failure = null;
    for (; !r.done; r = await chunks.next()) {
      if (writing) await writing;
      if (failure) throw failure;
      writing = Promise.resolve(sink.write(r.value)).then(null, (e) => { failure = e; });
    }
    if (writing) await writing;
    if (failure) throw failure;
    finished = true;
    return await sink.close(r.value);
  } catch (e) {
    if (sink) await sink.abort(e);
    throw e;
  } finally {
    if (!finished) await chunks.return(undefined).catch(() => {});
  }
}
