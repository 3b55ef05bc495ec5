// A streaming WebM muxer for already-encoded VP8/VP9 frames (the WebCodecs backend: the browser's
// VideoEncoder encodes, this writes the file). It writes the same layout as the video module's
// WebmMuxer (wasm/video/webm_muxer.h):
//   EBML header (webm, DocTypeVersion 4)
//   Segment (size patched at the end)
//     SeekHead   Info, Tracks, Cues (the Cues entry is a Void until the end)
//     Info       TimecodeScale 1 ms, Duration (float64, patched at the end), Muxing/WritingApp
//     Tracks     one VP8/VP9 track: DefaultDuration 1/fps, MaxBlockAdditionID 2, PixelWidth/Height
//     Cluster... one starts at every keyframe (size patched when it closes); frames are SimpleBlocks,
//                or BlockGroups with BlockAdditions (BlockAddID 2, UTF-8 JSON) when they carry metadata
//     Cues       one CuePoint per Cluster that starts with a keyframe
// Output goes through write(bytes, offset) with the VideoWriter contract: appends in order, plus a few
// small overwrites of bytes already written (Cluster sizes as each closes; SeekHead, Duration and the
// Segment size at finish). Memory: one cue entry per Cluster, nothing else grows.
//
// This exists because the video module's Embind surface has no muxer-only entry point yet (only the
// encoding VideoWriter); the layout is kept identical so either can be swapped for the other.
import { METADATA_BLOCK_ADD_ID } from './frame-metadata.js';

const ENC = new TextEncoder();

function idBytes(id) {
  const n = id >= 0x1000000 ? 4 : id >= 0x10000 ? 3 : id >= 0x100 ? 2 : 1;
  const out = new Uint8Array(n);
  for (let i = n - 1, v = id; i >= 0; i--, v = Math.floor(v / 256)) out[i] = v & 0xff;
  return out;
}

function sizeBytes(size, fixed = 0) {
  let len = fixed;
  if (!len) {
    len = 1;
    while (len < 8 && size >= 2 ** (7 * len) - 1) len++;
  }
  const out = new Uint8Array(len);
  let v = size;
  for (let i = len - 1; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  out[0] |= 0x80 >> (len - 1);
  return out;
}

function uintBytes(v) {
  const bytes = [];
  do {
    bytes.unshift(v % 256);
    v = Math.floor(v / 256);
  } while (v > 0);
  return Uint8Array.from(bytes);
}

function intBytes(v) {
  // Signed, big-endian, minimal two's complement (|v| < 2^31 here).
  for (let n = 1; n <= 4; n++) {
    const lim = 2 ** (8 * n - 1);
    if (v >= -lim && v < lim) {
      const out = new Uint8Array(n);
      let x = v < 0 ? 2 ** (8 * n) + v : v;
      for (let i = n - 1; i >= 0; i--) {
        out[i] = x % 256;
        x = Math.floor(x / 256);
      }
      return out;
    }
  }
  throw new RangeError(`webm: reference offset ${v} out of range`);
}

function f64(v) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setFloat64(0, v);
  return out;
}

function concat(parts) {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function el(id, payload) {
  return concat([idBytes(id), sizeBytes(payload.length), payload]);
}

const uel = (id, v) => el(id, uintBytes(v));
const sel = (id, s) => el(id, ENC.encode(s));

const SEEK_ENTRY = 21; // 4DBB 93 { 53AB 84 <id:4>  53AC 88 <pos:8> }
function seekEntry(id, pos) {
  const idb = idBytes(id);
  const posb = new Uint8Array(8);
  let v = pos;
  for (let i = 7; i >= 0; i--) {
    posb[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return el(0x4dbb, concat([el(0x53ab, idb), concat([idBytes(0x53ac), sizeBytes(8), posb])]));
}

function voidElement(total) {
  // 0xEC + 1-byte size + (total - 2) zero bytes.
  const out = new Uint8Array(total);
  out[0] = 0xec;
  out[1] = 0x80 | (total - 2);
  return out;
}

const TRACK_UID = [0x63, 0x6b, 0x2d, 0x76, 0x69, 0x64, 0x65, 0x6f]; // fixed: "ck-video" (deterministic output)

export class WebmMuxer {
  /**
   * @param {{codec: 'vp8'|'vp9', width: number, height: number, fps: number}} o
   * @param {(bytes: Uint8Array, offset: number) => void} write
   */
  constructor(o, write) {
    this.o = o;
    this.write = write;
    this.pos = 0;
    this.frames = 0;
    this.keyframes = 0;
    this.cues = [];
    this.cluster = null; // { start, tc, sizeAt }
    this.lastTc = -1;
    this.firstUs = null;
    this.lastUs = null;
    this.finished = false;
    this._header();
  }

  _emit(bytes) {
    this.write(bytes, this.pos);
    this.pos += bytes.length;
  }

  _header() {
    const o = this.o;
    const ebml = el(0x1a45dfa3, concat([uel(0x4286, 1), uel(0x42f7, 1), uel(0x42f2, 4), uel(0x42f3, 8),
      sel(0x4282, 'webm'), uel(0x4287, 4), uel(0x4285, 2)]));
    this._emit(ebml);
    this.segmentSizeAt = this.pos + 4;
    this._emit(concat([idBytes(0x18538067), Uint8Array.of(0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)]));
    this.segmentStart = this.pos;
    // SeekHead: fixed size (3 entries), the Cues entry a Void for now.
    this.seekHeadAt = this.pos;
    const seekHeadLen = 4 + 1 + 3 * SEEK_ENTRY;
    const infoPos = this.pos + seekHeadLen - this.segmentStart;
    const scale = uel(0x2ad7b1, 1000000);
    const info = concat([scale, el(0x4489, f64(0)), sel(0x4d80, 'capturekit'), sel(0x5741, 'capturekit')]);
    const infoEl = el(0x1549a966, info);
    const tracksPos = infoPos + infoEl.length;
    this.seekIds = [[0x1549a966, infoPos], [0x1654ae6b, tracksPos]];
    this._emit(this._seekHead(null));
    // Info (Duration's float64 is the 8 bytes after its ID and size).
    this.durationAt = this.pos + (infoEl.length - info.length) + scale.length + 3; // 0x4489 + size byte

    this._emit(infoEl);
    const codecId = o.codec === 'vp9' ? 'V_VP9' : 'V_VP8';
    const video = el(0xe0, concat([uel(0xb0, o.width), uel(0xba, o.height)]));
    const entry = el(0xae, concat([uel(0xd7, 1), el(0x73c5, Uint8Array.from(TRACK_UID)), uel(0x83, 1), uel(0x9c, 0),
      sel(0x86, codecId), uel(0x23e383, Math.round(1e9 / o.fps)), uel(0x55ee, METADATA_BLOCK_ADD_ID), video]));
    this._emit(el(0x1654ae6b, entry));
  }

  _seekHead(cuesPos) {
    const parts = this.seekIds.map(([id, pos]) => seekEntry(id, pos));
    parts.push(cuesPos === null ? voidElement(SEEK_ENTRY) : seekEntry(0x1c53bb6b, cuesPos));
    return el(0x114d9b74, concat(parts));
  }

  _closeCluster() {
    const c = this.cluster;
    if (!c) return;
    this.write(sizeBytes(this.pos - c.sizeAt - 8, 8), c.sizeAt);
    this.cluster = null;
  }

  _openCluster(tc, keyframe) {
    this._closeCluster();
    const start = this.pos;
    this.cluster = { start, tc, sizeAt: start + 4 };
    this._emit(concat([idBytes(0x1f43b675), Uint8Array.of(0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), uel(0xe7, tc)]));
    if (keyframe) this.cues.push([tc, start - this.segmentStart]);
  }

  /**
   * Adds one encoded frame. timestampUs: presentation time (any origin; the first frame's is zero),
   * non-decreasing. metadata: bytes stored as the frame's BlockAdditional (or null).
   */
  addFrame(data, keyframe, timestampUs, metadata = null) {
    if (this.finished) throw new Error('webm: the file is finished');
    if (this.firstUs === null) {
      if (!keyframe) throw new Error('webm: the first frame must be a keyframe');
      this.firstUs = timestampUs;
    }
    const tc = Math.floor((timestampUs - this.firstUs) / 1000); // whole ms, truncated as libwebm does
    if (tc < this.lastTc) throw new RangeError(`webm: frame timestamps must not go back (${tc} ms after ${this.lastTc} ms)`);
    if (!this.cluster || keyframe || tc - this.cluster.tc > 32767) this._openCluster(tc, keyframe);
    const rel = tc - this.cluster.tc;
    const head = Uint8Array.of(0x81, (rel >> 8) & 0xff, rel & 0xff, keyframe ? 0x80 : 0x00);
    if (!metadata || !metadata.length) {
      this._emit(concat([idBytes(0xa3), sizeBytes(head.length + data.length), head, data]));
    } else {
      const block = concat([idBytes(0xa1), sizeBytes(head.length + data.length), Uint8Array.of(0x81, head[1], head[2], 0x00), data]);
      const more = el(0xa6, concat([uel(0xee, METADATA_BLOCK_ADD_ID), el(0xa5, metadata)]));
      const parts = [block, el(0x75a1, more)];
      if (!keyframe) parts.push(el(0xfb, intBytes(this.lastTc - tc)));
      const payload = concat(parts);
      this._emit(concat([idBytes(0xa0), sizeBytes(payload.length), payload]));
    }
    this.lastTc = tc;
    this.lastUs = timestampUs;
    this.frames++;
    if (keyframe) this.keyframes++;
  }

  /**
   * Closes the file: Cues, SeekHead, Duration (durationS, or estimated from the frame spacing), Segment size.
   * @returns {{frames: number, keyframes: number, duration: number, bytes: number}}
   */
  finish(durationS = 0) {
    if (this.finished) throw new Error('webm: the file is already finished');
    if (!this.frames) throw new Error('webm: no frames');
    this._closeCluster();
    const cuesPos = this.pos - this.segmentStart;
    const points = this.cues.map(([t, p]) => el(0xbb, concat([uel(0xb3, t), el(0xb7, concat([uel(0xf7, 1), uel(0xf1, p)]))])));
    this._emit(el(0x1c53bb6b, concat(points)));
    let duration = durationS;
    if (!(duration > 0)) {
      const span = (this.lastUs - this.firstUs) / 1e6;
      duration = this.frames > 1 ? span + span / (this.frames - 1) : 1 / this.o.fps;
    }
    this.write(this._seekHead(cuesPos), this.seekHeadAt);
    this.write(f64(duration * 1000), this.durationAt);
    this.write(sizeBytes(this.pos - this.segmentStart, 8), this.segmentSizeAt);
    this.finished = true;
    return { frames: this.frames, keyframes: this.keyframes, duration, bytes: this.pos };
  }
}
