// remux: a WebM into an MP4 or an MP4 into a WebM without re-encoding: every packet's bytes and time are
// carried over, only the container changes (wasm/video/remux.h decides what fits: VP9/AV1/H.264 + Opus
// into MP4, VP9 + Opus into WebM; VP8 into MP4 and H.264 into WebM are refused as TypeErrors).
//
// Input:  a Blob/File, an ArrayBuffer or typed array, an array of those, or a file path / file: URL
//         (Node), read in chunkSize pieces (never whole, except the Uint8Array given).
// Output: a Blob (default); or ondata(bytes, offset) in order (a smaller offset overwrites: the header
//         patches at the end; a promise holds the next call back), and the info is returned.
// MP4 output: layout 'progressive' (moov first; the default) in two passes over the input, each remuxing
// it into a fragmented MP4 that streams through the MP4 repair and is never stored (bounded memory: 16
// bytes a sample), or 'fragmented' (one pass, streamed).
import { initVideo } from '../video.js';
import { asBytes, checkNumber, describe } from '../validate.js';
import { alloc, check, takeBytes } from '../wasm-memory.js';

const W = 'remux';
const OPTION_KEYS = new Set(['container', 'layout', 'allowTruncated', 'ondata', 'chunkSize', 'module']);
const DEFAULT_CHUNK = 1 << 20;
const isNode = typeof process === 'object' && typeof process.versions === 'object' && !!process.versions.node;
const isBlob = (v) => typeof Blob === 'function' && v instanceof Blob;
const anyBytes = (v) => asBytes(v, { anyView: true });
const isPath = (v) => typeof v === 'string' || (typeof URL === 'function' && v instanceof URL);

function normaliseOptions(options) {
  if (options === null || typeof options !== 'object') throw new TypeError(`${W}: options must be an object, got ${describe(options)}`);
  for (const k of Object.keys(options)) {
    if (!OPTION_KEYS.has(k)) throw new TypeError(`${W}: unknown option "${k}" (known: ${[...OPTION_KEYS].join(', ')})`);
  }
  const o = {
    container: options.container,
    layout: options.layout === undefined ? 'progressive' : options.layout,
    allowTruncated: options.allowTruncated === undefined ? false : options.allowTruncated,
    ondata: options.ondata,
    chunkSize: options.chunkSize === undefined ? DEFAULT_CHUNK : options.chunkSize,
    module: options.module,
  };
  if (o.container !== 'mp4' && o.container !== 'webm') throw new TypeError(`${W}: container must be 'mp4' or 'webm', got ${describe(o.container)}`);
  if (o.layout !== 'progressive' && o.layout !== 'fragmented') throw new TypeError(`${W}: layout must be 'progressive' or 'fragmented', got ${describe(o.layout)}`);
  if (typeof o.allowTruncated !== 'boolean') throw new TypeError(`${W}: allowTruncated must be a boolean, got ${describe(o.allowTruncated)}`);
  if (o.ondata !== undefined && typeof o.ondata !== 'function') throw new TypeError(`${W}: ondata must be a function, got ${describe(o.ondata)}`);
  checkNumber(o.chunkSize, `${W}: chunkSize`, { integer: true, min: 64 << 10, max: 64 << 20 });
  return o;
}

async function* chunksOf(input, chunk) {
  if (isBlob(input)) {
    for (let off = 0; off < input.size; off += chunk) yield new Uint8Array(await input.slice(off, off + chunk).arrayBuffer());
    return;
  }
  const bytes = anyBytes(input);
  if (bytes) {
    for (let off = 0; off < bytes.length; off += chunk) yield bytes.subarray(off, off + chunk);
    return;
  }
  if (Array.isArray(input)) {
    for (let i = 0; i < input.length; i++) {
      if (!isBlob(input[i]) && !anyBytes(input[i])) throw new TypeError(`${W}: input[${i}] must be a Blob, an ArrayBuffer or a typed array, got ${describe(input[i])}`);
      yield* chunksOf(input[i], chunk);
    }
    return;
  }
  if (isPath(input)) {
    if (!isNode) throw new TypeError(`${W}: a file path input needs Node; in a browser pass a Blob`);
    const fs = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:fs/promises');
    let handle;
    try {
      handle = await fs.open(input, 'r');
    } catch (e) {
      throw new Error(`${W}: cannot open ${input}: ${e.message}`, { cause: e });
    }
    try {
      const buf = new Uint8Array(chunk);
      for (let pos = 0; ;) {
        const { bytesRead } = await handle.read(buf, 0, chunk, pos);
        if (bytesRead === 0) return;
        pos += bytesRead;
        yield buf.subarray(0, bytesRead);
      }
    } finally {
      await handle.close();
    }
  }
  throw new TypeError(`${W}: input must be a Blob, an ArrayBuffer or typed array, an array of those, or a file path (Node); got ${describe(input)}`);
}

/**
 * Remuxes a WebM into an MP4 or an MP4 into a WebM without re-encoding.
 * @param {Blob|ArrayBuffer|ArrayBufferView|Array|string|URL} input
 * @param {{container: 'mp4'|'webm', layout?: 'progressive'|'fragmented', allowTruncated?: boolean,
 *   ondata?: (bytes: Uint8Array, offset: number) => void|Promise<void>, chunkSize?: number, module?: object}} options
 * @returns {Promise<Blob|object>} the file as a Blob, or (with ondata) the info:
 *   { inputType, mimeType, videoCodec, hasAudio, truncated, frames, audioPackets, duration, outputSize }
 */
export async function remux(input, options) {
  const o = normaliseOptions(options);
  const M = o.module && typeof o.module.Remuxer === 'function' ? o.module : await initVideo(o.module || {});
  if (o.container === 'mp4' && o.layout === 'progressive') return progressive(M, input, o);
  if (!o.ondata) {
    const info = await runOnce(M, input, o, o.layout, null);
    return new Blob([info.bytes], { type: info.mimeType });
  }
  return runOnce(M, input, o, o.layout, async (ranges) => {
    for (const r of ranges) await o.ondata(r.data, r.offset);
  });
}

// One run of the core over the input: the output's ranges (copied out of wasm memory) handed to
// onranges after every call, or, without it, the whole file in memory as info.bytes.
async function runOnce(M, input, o, layout, onranges) {
  const native = new M.Remuxer();
  let buf = 0;
  try {
    check(M, native.open(o.container, layout, o.allowTruncated, !!onranges), W);
    buf = alloc(M, o.chunkSize, 'remux input chunk');
    const deliver = async () => {
      if (!onranges) return;
      await onranges(native.drainRanges().map((r) => ({ offset: r.offset, data: r.data.slice() })));
    };
    let total = 0;
    for await (const chunk of chunksOf(input, o.chunkSize)) {
      for (let off = 0; off < chunk.length; off += o.chunkSize) {
        const part = chunk.subarray(off, off + o.chunkSize);
        M.HEAPU8.set(part, buf);
        check(M, native.feed(buf, part.length), W);  // a codec the target cannot hold: TypeError
        await deliver();
      }
      total += chunk.length;
    }
    if (total === 0) throw new Error(`${W}: the input is empty (0 bytes)`);
    check(M, native.finish(), W);
    await deliver();
    const info = native.info();
    if (!onranges) info.bytes = takeBytes(native.takeBytes());
    return info;
  } finally {
    if (buf) M._free(buf);
    native.delete();
  }
}

// A progressive MP4 in bounded memory: the input is remuxed twice into a fragmented MP4 that is never
// stored, each time streamed through the MP4 repair (makeSeekable's two passes: the first plans the
// moov from the fragments, the second writes moov + mdat), so only the repair's 16 bytes per sample
// are held. The fragmented file's closing patches (durations in its init segment) are not passed on:
// the repair takes every duration from the samples.
async function progressive(M, input, o) {
  const repair = new M.Mp4Repair(false);
  let buf = 0;
  const parts = [];
  let out = 0;
  // The fragmented file as one byte stream, in pieces of at most chunkSize.
  const linear = (fn) => {
    let pos = 0;
    return async (ranges) => {
      for (const r of ranges) {
        if (r.offset < pos) continue;  // a closing patch
        if (r.offset > pos) throw new Error(`${W}: the fragmented output skipped from byte ${pos} to ${r.offset}`);
        for (let off = 0; off < r.data.length; off += o.chunkSize) await fn(r.data.subarray(off, off + o.chunkSize));
        pos += r.data.length;
      }
    };
  };
  try {
    buf = alloc(M, o.chunkSize, 'remux repair chunk');
    await runOnce(M, input, o, 'fragmented', linear((part) => {
      M.HEAPU8.set(part, buf);
      check(M, repair.scan(buf, part.length), W);
    }));
    check(M, repair.finishScan(), W);
    const info = await runOnce(M, input, o, 'fragmented', linear(async (part) => {
      M.HEAPU8.set(part, buf);
      check(M, repair.write(buf, part.length), W);
      // (source, offset, size) triples: 0 = the part just written, 2 = the prelude (ftyp, moov, mdat header).
      const pieces = repair.pieces();
      const copies = [];
      let prelude = null;
      for (let i = 0; i < pieces.length; i += 3) {
        const view = pieces[i] === 0 ? part : (prelude || (prelude = repair.prelude()));
        copies.push(view.slice(pieces[i + 1], pieces[i + 1] + pieces[i + 2]));
      }
      for (const c of copies) {
        if (o.ondata) await o.ondata(c, out);
        else parts.push(c);
        out += c.length;
      }
    }));
    check(M, repair.finishWrite(), W);
    info.outputSize = out;
    if (o.ondata) return info;
    return new Blob(parts, { type: info.mimeType });
  } finally {
    if (buf) M._free(buf);
    repair.delete();
  }
}
