// Files a hostile user would upload, made on the fly: a WebM of tiny BlockGroups that each carry a
// BlockAddition (streamed in clusters, never built whole), and PNG / JPEG files whose header declares
// any size while the file stays small (all-zero pixel data compresses to almost nothing).
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createDeflate, crc32 } from 'node:zlib';

// ---- EBML ----
function sizeVint(n, len = 8) {
  const b = Buffer.alloc(len);
  let v = BigInt(n);
  for (let i = len - 1; i >= 0; i--) { b[i] = Number(v & 0xffn); v >>= 8n; }
  b[0] |= 0x80 >> (len - 1);
  return b;
}
const idBytes = (id) => Buffer.from(id.toString(16).padStart(id > 0xffffff ? 8 : id > 0xffff ? 6 : id > 0xff ? 4 : 2, '0'), 'hex');
const el = (id, ...body) => { const b = Buffer.concat(body); return Buffer.concat([idBytes(id), sizeVint(b.length), b]); };
const uintEl = (id, v, len = 1) => { const b = Buffer.alloc(len); b.writeUIntBE(v, 0, len); return el(id, b); };
/** EBML building blocks for hand-made files: an element (8-byte size), an unsigned-int element. */
export { el as ebmlElement, uintEl as ebmlUint };

// EBML header, a live Segment (unknown size), Info (1 ms ticks) and one 64x64 VP8 video track.
function webmHead() {
  return Buffer.concat([
    el(0x1a45dfa3, el(0x4282, Buffer.from('webm')), uintEl(0x4287, 4), uintEl(0x4285, 2)),
    idBytes(0x18538067), Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // Segment, unknown size
    el(0x1549a966, uintEl(0x2ad7b1, 1000000, 3)),
    el(0x1654ae6b, el(0xae, uintEl(0xd7, 1), uintEl(0x83, 1), el(0x86, Buffer.from('V_VP8')),
      el(0xe0, uintEl(0xb0, 64, 2), uintEl(0xba, 64, 2)))),
  ]);
}

const GROUPS_PER_CLUSTER = 30000; // block timecodes are relative 16-bit
// One BlockGroup, 20 bytes: Block (track 1, keyframe flag, 1 payload byte) and BlockAdditions >
// BlockMore { BlockAddID 2, BlockAdditional '0' (JSON) }.
function blockGroup(rel) {
  return Buffer.from([0xa0, 0x92,
    0xa1, 0x85, 0x81, (rel >> 8) & 0xff, rel & 0xff, 0x80, 0x00,
    0x75, 0xa1, 0x88, 0xa6, 0x86, 0xee, 0x81, 0x02, 0xa5, 0x81, 0x30]);
}

/**
 * The BlockAddition WebM of about `bytes` bytes: a one-track VP8 WebM whose clusters hold nothing but
 * 20-byte BlockGroups with a one-byte BlockAddition each (one video frame per millisecond).
 * Returns { size, frames, chunks() } where chunks() is an async generator of Buffers (one per cluster).
 */
export function blockAdditionWebm(bytes) {
  const head = webmHead();
  const groups = Buffer.concat(Array.from({ length: GROUPS_PER_CLUSTER }, (_, i) => blockGroup(i)));
  const clusterBody = (n) => Buffer.concat([uintEl(0xe7, n * GROUPS_PER_CLUSTER, 4), groups]);
  const clusterLen = el(0x1f43b675, clusterBody(0)).length;
  const clusters = Math.max(1, Math.round((bytes - head.length) / clusterLen));
  return {
    size: head.length + clusters * clusterLen,
    frames: clusters * GROUPS_PER_CLUSTER,
    async *chunks() {
      yield head;
      for (let n = 0; n < clusters; n++) yield el(0x1f43b675, clusterBody(n));
    },
  };
}

/**
 * The Cluster WebM of about `bytes` bytes: the same one-track VP8 WebM, but every frame (a 1-byte
 * SimpleBlock keyframe, one per millisecond) in a Cluster of its own, so a reader that keeps something
 * per Cluster (a repair's cue table) keeps it a million times in 40 MB.
 * Returns { size, frames, chunks() } as blockAdditionWebm does.
 */
export function clusterWebm(bytes) {
  const head = webmHead();
  const cluster = (n) => el(0x1f43b675, uintEl(0xe7, n, 4), Buffer.from([0xa3, 0x85, 0x81, 0x00, 0x00, 0x80, 0x00]));
  const clusterLen = cluster(0).length;
  const clusters = Math.max(1, Math.round((bytes - head.length) / clusterLen));
  const PER_CHUNK = 20000;
  return {
    size: head.length + clusters * clusterLen,
    frames: clusters,
    async *chunks() {
      yield head;
      for (let n = 0; n < clusters; n += PER_CHUNK) {
        yield Buffer.concat(Array.from({ length: Math.min(PER_CHUNK, clusters - n) }, (_, i) => cluster(n + i)));
      }
    },
  };
}

/** Writes chunks() to `path` as they come; resolves when the file is complete. */
export async function writeChunks(path, chunks) {
  const out = createWriteStream(path);
  for await (const c of chunks) if (!out.write(c)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}

// ---- PNG ----
function pngChunk(type, data) {
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td) >>> 0);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, td, crc]);
}

/**
 * A valid 8-bit greyscale PNG of width x height black pixels, deflated as a stream (a few hundred KiB
 * even at 16384 x 16384; the raw rows are never held whole). Resolves to a Buffer.
 */
export async function pngOfSize(width, height) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 0; // bit depth 8, greyscale
  // Every row is a filter byte (0) and `width` zero bytes.
  const rowLen = width + 1;
  const rowsPerPiece = Math.max(1, Math.floor((4 << 20) / rowLen));
  const piece = Buffer.alloc(rowLen * rowsPerPiece);
  const z = createDeflate({ level: 9 });
  const parts = [];
  z.on('data', (d) => parts.push(d));
  const done = once(z, 'end');
  for (let left = height; left > 0; left -= rowsPerPiece) {
    if (!z.write(piece.subarray(0, Math.min(left, rowsPerPiece) * rowLen))) await once(z, 'drain');
  }
  z.end();
  await done;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr), pngChunk('IDAT', Buffer.concat(parts)), pngChunk('IEND', Buffer.alloc(0))]);
}

// ---- JPEG ----
/**
 * A valid baseline greyscale JPEG of width x height mid-grey pixels: one DC and one AC Huffman table with
 * a single one-bit code each (DC difference 0, end of block), so every 8x8 block is two zero bits and
 * the scan is all zero bytes (about width * height / 256 bytes).
 */
export function jpegOfSize(width, height) {
  const seg = (marker, body) => { const l = Buffer.alloc(2); l.writeUInt16BE(body.length + 2); return Buffer.concat([Buffer.from([0xff, marker]), l, body]); };
  const dqt = seg(0xdb, Buffer.concat([Buffer.from([0x00]), Buffer.alloc(64, 1)]));
  const sof = seg(0xc0, Buffer.from([8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]));
  const counts = Buffer.alloc(16); counts[0] = 1;
  const dht = seg(0xc4, Buffer.concat([Buffer.from([0x00]), counts, Buffer.from([0x00]), Buffer.from([0x10]), counts, Buffer.from([0x00])]));
  const sos = seg(0xda, Buffer.from([1, 1, 0x00, 0, 63, 0]));
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  const scan = Buffer.alloc(Math.ceil((blocks * 2) / 8));
  return Buffer.concat([Buffer.from([0xff, 0xd8]), dqt, sof, dht, sos, scan, Buffer.from([0xff, 0xd9])]);
}
