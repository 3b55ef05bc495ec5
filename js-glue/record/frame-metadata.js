// Per-frame metadata inside a WebM, and a small streaming reader that gets it back.
//
// Layout (written by the video module's muxer, wasm/video/webm_muxer.h, for VideoWriter and for the
// WebCodecs backend through js-glue/video/webm-muxer.js): a frame with metadata is a BlockGroup
// instead of a SimpleBlock:
//
//   BlockGroup (0xA0)
//     Block (0xA1)                    the VP8/VP9 frame
//     BlockAdditions (0x75A1)
//       BlockMore (0xA6)
//         BlockAddID (0xEE)           2 (METADATA_BLOCK_ADD_ID)
//         BlockAdditional (0xA5)      the metadata: UTF-8 JSON, no prefix, no terminator
//     ReferenceBlock (0xFB)           only on non-keyframes (a BlockGroup's way to say "not a key")
//
// The video TrackEntry has MaxBlockAdditionID 2. BlockAddID 1 is avoided because WebM gives it to the
// VP8/VP9 alpha channel (decoders would try to decode the JSON as alpha). Players ignore the additions.
//
// For XR recordings each frame's JSON is { frameNumber, timestamp, elapsed, pose } where timestamp is the
// XRFrame time (ms, the session's clock), elapsed is ms since the first recorded frame, and pose is
// { position: {x,y,z}, orientation: {x,y,z,w} } of the viewer in the recording's reference space (null
// when tracking was lost that frame): the fields an XR recorder keeps per frame.
//
// The reader never holds a frame: block payloads are skipped, only element headers, the first bytes of
// each block and the (at most 1 MiB) additions are looked at, so a file of any length can be streamed
// through it (Blob, ReadableStream, async iterable of chunks). What it keeps is chosen by its mode:
//
//   'counts'    tracks, Info, and counts (frames, keyframes, clusters, cue points, first/last time): memory
//               is bounded whatever the input (at most MAX_TRACKS tracks, MAX_DEPTH open elements, one
//               small leaf or a block header being gathered); BlockAdditions are skipped unread. This is
//               the mode for bytes from strangers (inspectWebm(..., { frames: false }), a server).
//   'metadata'  counts, plus one entry per frame that carries a BlockAddID 2 addition (readFrameMetadata):
//               grows with the metadata in the file, which is what the caller asked for.
//   'frames'    counts, plus one entry per video frame with all its additions (inspectWebm's default).
//
// In every mode a leaf is gathered into one buffer of its declared size (at most MAX_LEAF), so a leaf
// fed in small pieces costs linear time, and no other input is held beyond an element header.
import { transformToJSON } from '../capture/metadata.js';
import { toBytes } from '../validate.js';

export const METADATA_BLOCK_ADD_ID = 2;
const MAX_LEAF = (1 << 20) + 64; // BlockAdditional limit (VIDEO_LIMITS.maxMetadataBytes) plus slack
const MAX_SMALL_LEAF = 4096;     // every other leaf read (numbers, CodecID); longer ones are skipped unread
const MAX_DEPTH = 16;            // open master elements (a real file nests 6 deep)
const MAX_TRACKS = 127;          // TrackEntries (and distinct track numbers counted in blocksPerTrack)
const MODES = ['counts', 'metadata', 'frames'];

const ID = {
  EBML: 0x1a45dfa3, Segment: 0x18538067, SeekHead: 0x114d9b74, Info: 0x1549a966, TimecodeScale: 0x2ad7b1,
  Duration: 0x4489, Tracks: 0x1654ae6b, TrackEntry: 0xae, TrackNumber: 0xd7, TrackType: 0x83, CodecID: 0x86,
  DefaultDuration: 0x23e383, Video: 0xe0, PixelWidth: 0xb0, PixelHeight: 0xba, Cluster: 0x1f43b675,
  Timecode: 0xe7, SimpleBlock: 0xa3, BlockGroup: 0xa0, Block: 0xa1, BlockAdditions: 0x75a1, BlockMore: 0xa6,
  BlockAddID: 0xee, BlockAdditional: 0xa5, ReferenceBlock: 0xfb, BlockDuration: 0x9b, Cues: 0x1c53bb6b,
  CuePoint: 0xbb, Tags: 0x1254c367, Chapters: 0x1043a770, Attachments: 0x1941a469,
};
const MASTERS = new Set([ID.Segment, ID.Info, ID.Tracks, ID.TrackEntry, ID.Video, ID.Cluster, ID.BlockGroup,
  ID.BlockAdditions, ID.BlockMore, ID.Cues, ID.CuePoint]);
const LEAVES = new Set([ID.TimecodeScale, ID.Duration, ID.TrackNumber, ID.TrackType, ID.CodecID, ID.DefaultDuration,
  ID.PixelWidth, ID.PixelHeight, ID.Timecode, ID.BlockAddID, ID.BlockAdditional, ID.ReferenceBlock, ID.BlockDuration]);
const SEGMENT_CHILDREN = new Set([ID.Cluster, ID.Cues, ID.SeekHead, ID.Info, ID.Tracks, ID.Tags, ID.Chapters, ID.Attachments]);
const UNKNOWN = -1;

function uint(d) {
  let v = 0;
  for (let i = 0; i < d.length; i++) v = v * 256 + d[i];
  return v;
}

function float(d) {
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  return d.length === 8 ? v.getFloat64(0) : d.length === 4 ? v.getFloat32(0) : 0;
}

// An ID (marker bits kept) or a size (marker removed) at d[p]: { value, len } | null (need more) | throws.
function vint(d, p, isId, where) {
  if (p >= d.length) return null;
  const first = d[p];
  let len = 1;
  while (len <= 8 && !(first & (0x80 >> (len - 1)))) len++;
  if (len > (isId ? 4 : 8)) throw new Error(`readFrameMetadata: corrupt WebM, bad element ${isId ? 'ID' : 'size'} at byte ${where + p}`);
  if (p + len > d.length) return null;
  let value = isId ? first : first & (0xff >> len);
  let ones = (first & (0xff >> len)) === (0xff >> len);
  for (let i = 1; i < len; i++) {
    value = value * 256 + d[p + i];
    if (d[p + i] !== 0xff) ones = false;
  }
  return { value: !isId && ones ? UNKNOWN : value, len };
}

/**
 * Push parser: push(chunk)... then finish() -> summary. Collects the tracks, Info, Cue points, the video
 * track's counts and, by mode (see above), its frames or its metadata frames.
 * @param {{mode?: 'counts'|'metadata'|'frames', keepFrames?: boolean}} [options] mode (default 'frames');
 *   the older keepFrames: false means 'metadata'
 */
export class WebmScanner {
  constructor({ mode, keepFrames } = {}) {
    if (mode === undefined) mode = keepFrames === false ? 'metadata' : 'frames';
    if (!MODES.includes(mode)) throw new TypeError(`WebmScanner: mode must be one of ${MODES.join(', ')}, got ${String(mode)}`);
    this.mode = mode;
    this.pos = 0;            // absolute offset of buf[0]
    this.buf = new Uint8Array(0);
    this.off = 0;            // parse position in buf during push()
    this.skip = 0;
    this.leaf = null;        // { id, size, data?, filled } whose payload is being gathered (data once it spans chunks)
    this.block = null;       // { size } a block whose header is being read
    this.stack = [];         // open masters { id, end } (end UNKNOWN for live elements)
    this.out = {
      docType: null, timecodeScale: 1000000, durationTicks: null, tracks: [], cuePoints: 0, clusters: 0,
      videoTrack: null, videoFrames: 0, keyframes: 0, firstTimestamp: null, lastTimestamp: null, frames: [], blocksPerTrack: {}, truncated: false,
    };
    this.clusterTc = 0;
    this.track = null;       // the TrackEntry being read
    this.group = null;       // the BlockGroup being read
    this.more = null;        // the BlockMore being read (not in 'counts' mode)
    this._trackKeys = 0;     // distinct track numbers in out.blocksPerTrack
  }

  push(chunk) {
    let data = webmBytes(chunk, 'readFrameMetadata');
    // A plain view (a Node Buffer's own subarray is slow).
    if (Object.getPrototypeOf(data) !== Uint8Array.prototype) data = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (this.skip && !this.buf.length) {
      const n = Math.min(this.skip, data.length);
      this.skip -= n;
      this.pos += n;
      data = data.subarray(n);
    }
    // A leaf that spans chunks fills its own buffer (never a growing join of everything pushed).
    if (this.leaf && this.leaf.data && data.length) {
      const l = this.leaf;
      const n = Math.min(l.size - l.filled, data.length);
      l.data.set(data.subarray(0, n), l.filled);
      l.filled += n;
      this.pos += n;
      data = data.subarray(n);
      if (l.filled < l.size) return;
      this.leaf = null;
      this._leaf(l.id, l.data);
    }
    if (!data.length) return;
    if (this.buf.length) {
      // The unparsed tail is at most an element header or a block header (a few bytes).
      const joined = new Uint8Array(this.buf.length + data.length);
      joined.set(this.buf);
      joined.set(data, this.buf.length);
      this.buf = joined;
    } else {
      this.buf = data;
    }
    this.off = 0;
    try {
      this._parse();
    } finally {
      // Keep only the unparsed tail (a copy, so the caller's chunk can be reused).
      const tail = this.buf.subarray(this.off);
      this.buf = tail.length && tail.buffer === data.buffer ? tail.slice() : tail;
      this.off = 0;
    }
  }

  _consume(n) {
    this.off += n;
    this.pos += n;
  }

  _closeEnded() {
    while (this.stack.length) {
      const top = this.stack[this.stack.length - 1];
      if (top.end === UNKNOWN || top.end > this.pos) break;
      this._end(this.stack.pop());
    }
  }

  _parse() {
    const buf = this.buf;
    for (;;) {
      const avail = buf.length - this.off;
      if (this.skip) {
        const n = Math.min(this.skip, avail);
        this._consume(n);
        this.skip -= n;
        if (this.skip) return;
        continue;
      }
      if (this.leaf) {
        const l = this.leaf;
        if (avail < l.size) {
          // Gather the rest in push(): copy what is here into a buffer of the leaf's size.
          l.data = new Uint8Array(l.size);
          l.data.set(buf.subarray(this.off));
          l.filled = avail;
          this._consume(avail);
          return;
        }
        this.leaf = null;
        this._leaf(l.id, buf.subarray(this.off, this.off + l.size));
        this._consume(l.size);
        continue;
      }
      if (this.block) {
        const need = Math.min(this.block.size, 12);
        if (avail < need) return;
        this._blockHeader(buf.subarray(this.off, this.off + need));
        this.skip = this.block.size;
        this.block = null;
        continue;
      }
      this._closeEnded();
      const id = vint(buf, this.off, true, this.pos - this.off);
      if (!id) return;
      const size = vint(buf, this.off + id.len, false, this.pos - this.off);
      if (!size) return;
      const headerLen = id.len + size.len;
      if (this.pos === 0 && id.value !== ID.EBML) throw new Error('readFrameMetadata: not a WebM file (no EBML header)');
      // A live (unknown-size) Cluster or Segment ends where an element that cannot be its child starts.
      for (;;) {
        const top = this.stack[this.stack.length - 1];
        if (!top || top.end !== UNKNOWN) break;
        if (top.id === ID.Cluster && SEGMENT_CHILDREN.has(id.value)) this._end(this.stack.pop());
        else if (top.id === ID.Segment && (id.value === ID.EBML || id.value === ID.Segment)) this._end(this.stack.pop());
        else break;
      }
      const parent = this.stack[this.stack.length - 1];
      const start = this.pos;
      const end = size.value === UNKNOWN ? UNKNOWN : start + headerLen + size.value;
      if (parent && parent.end !== UNKNOWN && end !== UNKNOWN && end > parent.end) {
        throw new Error(`readFrameMetadata: corrupt WebM, element 0x${id.value.toString(16)} at byte ${start} runs past its parent`);
      }
      this._consume(headerLen);
      // In 'counts' mode BlockAdditions are skipped whole (a sized one) without being read.
      if (MASTERS.has(id.value) && !(id.value === ID.BlockAdditions && this.mode === 'counts' && end !== UNKNOWN)) {
        if (this.stack.length >= MAX_DEPTH) {
          throw new Error(`readFrameMetadata: corrupt WebM, element 0x${id.value.toString(16)} at byte ${start} nests deeper than ${MAX_DEPTH} levels`);
        }
        this.stack.push({ id: id.value, end });
        this._start(id.value);
        continue;
      }
      if (size.value === UNKNOWN) throw new Error(`readFrameMetadata: corrupt WebM, element 0x${id.value.toString(16)} at byte ${start} has an unknown size`);
      if (id.value === ID.SimpleBlock || id.value === ID.Block) {
        this.block = { size: size.value, simple: id.value === ID.SimpleBlock };
        this._blockKind = id.value;
        continue;
      }
      if (id.value === ID.EBML) {
        if (size.value > 4096) throw new Error('readFrameMetadata: not a WebM file (EBML header too large)');
        this.leaf = { id: id.value, size: size.value, data: null, filled: 0 };
        continue;
      }
      if (LEAVES.has(id.value) && this._wants(id.value, size.value)) {
        this.leaf = { id: id.value, size: size.value, data: null, filled: 0 };
        continue;
      }
      this.skip = size.value;
    }
  }

  // Whether a leaf is read at all: BlockAdditional only when additions are kept, up to MAX_LEAF;
  // every other leaf up to MAX_SMALL_LEAF.
  _wants(id, size) {
    if (id === ID.BlockAdditional) return this.mode !== 'counts' && size <= MAX_LEAF;
    return size <= MAX_SMALL_LEAF;
  }

  _start(id) {
    if (id === ID.TrackEntry) this.track = { number: 0, type: 0, codecId: '', width: 0, height: 0, defaultDurationNs: 0 };
    else if (id === ID.Cluster) { this.out.clusters++; this.clusterTc = 0; }
    else if (id === ID.BlockGroup) this.group = { header: null, reference: false, additions: [] };
    else if (id === ID.BlockMore && this.mode !== 'counts') this.more = { id: 1, data: null };
  }

  _end(el) {
    if (el.id === ID.TrackEntry && this.track) {
      if (this.out.tracks.length >= MAX_TRACKS) throw new Error(`readFrameMetadata: corrupt WebM, more than ${MAX_TRACKS} tracks`);
      this.out.tracks.push(this.track);
      if (this.track.type === 1 && this.out.videoTrack === null) this.out.videoTrack = this.track.number;
      this.track = null;
    } else if (el.id === ID.BlockMore && this.more && this.group) {
      const a = this.more;
      this.more = null;
      // 'metadata' keeps one addition per frame, the metadata one; 'frames' keeps them all.
      if (a.data && (this.mode === 'frames' || (a.id === METADATA_BLOCK_ADD_ID && !this.group.additions.length))) {
        this.group.additions.push({ id: a.id, data: a.data });
      }
    } else if (el.id === ID.BlockGroup && this.group) {
      if (this.group.header) this._frame(this.group.header, !this.group.reference, this.group.additions);
      this.group = null;
    } else if (el.id === ID.CuePoint) {
      this.out.cuePoints++;
    }
  }

  _leaf(id, d) {
    const t = this.track;
    switch (id) {
      case ID.EBML: {
        let p = 0;
        while (p < d.length) {
          const i = vint(d, p, true, 0); const s = i && vint(d, p + i.len, false, 0);
          if (!i || !s || s.value === UNKNOWN) break;
          const v = d.subarray(p + i.len + s.len, p + i.len + s.len + s.value);
          if (i.value === 0x4282) this.out.docType = new TextDecoder().decode(v);
          p += i.len + s.len + s.value;
        }
        break;
      }
      case ID.TimecodeScale: this.out.timecodeScale = uint(d); break;
      case ID.Duration: this.out.durationTicks = float(d); break;
      case ID.TrackNumber: if (t) t.number = uint(d); break;
      case ID.TrackType: if (t) t.type = uint(d); break;
      case ID.CodecID: if (t) t.codecId = new TextDecoder().decode(d).replace(/\0+$/, ''); break;
      case ID.DefaultDuration: if (t) t.defaultDurationNs = uint(d); break;
      case ID.PixelWidth: if (t) t.width = uint(d); break;
      case ID.PixelHeight: if (t) t.height = uint(d); break;
      case ID.Timecode: this.clusterTc = uint(d); break;
      case ID.ReferenceBlock: if (this.group) this.group.reference = true; break;
      case ID.BlockAddID: if (this.more) this.more.id = uint(d); break;
      case ID.BlockAdditional: if (this.more) this.more.data = d.slice(); break;
      default: break;
    }
  }

  _blockHeader(d) {
    const track = vint(d, 0, false, this.pos);
    if (!track || track.len + 3 > d.length) throw new Error(`readFrameMetadata: corrupt WebM, bad block header at byte ${this.pos}`);
    const rel = (d[track.len] << 24 >> 16) | d[track.len + 1];
    const flags = d[track.len + 2];
    const header = { track: track.value, timecode: this.clusterTc + rel, keyframe: !!(flags & 0x80) };
    if (this._blockKind === ID.SimpleBlock) this._frame(header, header.keyframe, null);
    else if (this.group) this.group.header = header;
  }

  _frame(h, keyframe, additions) {
    const o = this.out;
    if (o.blocksPerTrack[h.track] !== undefined) o.blocksPerTrack[h.track]++;
    else if (this._trackKeys < MAX_TRACKS) { o.blocksPerTrack[h.track] = 1; this._trackKeys++; }
    // Before the Tracks are known (never in a valid file) every block counts as video.
    if (o.videoTrack !== null && h.track !== o.videoTrack) return;
    const index = o.videoFrames++;
    if (keyframe) o.keyframes++;
    const ms = h.timecode * o.timecodeScale / 1e6;
    if (o.firstTimestamp === null) o.firstTimestamp = ms;
    o.lastTimestamp = ms;
    if (this.mode === 'frames' || (this.mode === 'metadata' && additions && additions.length)) {
      o.frames.push({ index, timestamp: h.timecode * o.timecodeScale / 1e6, keyframe, additions: additions || [] });
    }
  }

  /** Ends the input; returns the summary. A file cut inside an element is marked truncated. */
  finish() {
    if (this.skip || this.leaf || this.block || this.buf.length) this.out.truncated = true;
    while (this.stack.length) this._end(this.stack.pop());
    const o = this.out;
    o.duration = o.durationTicks === null ? null : o.durationTicks * o.timecodeScale / 1e9;
    // Without a Duration (a live file): the frames' span plus one average frame.
    if (o.videoFrames > 0) {
      const span = (o.lastTimestamp - o.firstTimestamp) / 1000;
      o.estimatedDuration = o.videoFrames > 1 ? span + span / (o.videoFrames - 1) : 0;
    } else {
      o.estimatedDuration = 0;
    }
    return o;
  }
}

function isAsyncSource(input) {
  return (typeof Blob === 'function' && input instanceof Blob) ||
    (input && typeof input.getReader === 'function') ||
    (input && typeof input[Symbol.asyncIterator] === 'function');
}

const webmBytes = (input, where) => toBytes(input, `${where}: the WebM`, 'a Uint8Array, ArrayBuffer, Blob, ReadableStream or async iterable of chunks');

async function scanAsync(input, scanner) {
  let stream = input;
  if (typeof Blob === 'function' && input instanceof Blob) stream = input.stream();
  if (stream && typeof stream.getReader === 'function') {
    const reader = stream.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      scanner.push(value);
    }
  } else {
    for await (const chunk of stream) scanner.push(webmBytes(chunk, 'readFrameMetadata'));
  }
  return scanner.finish();
}

function scan(input, opts, where) {
  const scanner = new WebmScanner(opts);
  if (isAsyncSource(input)) return scanAsync(input, scanner);
  const bytes = webmBytes(input, where);
  if (bytes.length < 4 || uint(bytes.subarray(0, 4)) !== ID.EBML) {
    throw new Error(`${where}: not a WebM file (no EBML header)`);
  }
  scanner.push(bytes);
  return scanner.finish();
}

const decoder = typeof TextDecoder === 'function' ? new TextDecoder('utf-8', { fatal: true }) : null;

function decodeMetadata(data) {
  try {
    return JSON.parse(decoder.decode(data));
  } catch {
    return data; // not JSON: the raw bytes
  }
}

function metadataList(summary) {
  const out = [];
  for (const f of summary.frames) {
    const a = f.additions.find((x) => x.id === METADATA_BLOCK_ADD_ID);
    if (a) out.push({ frame: f.index, timestamp: f.timestamp, keyframe: f.keyframe, metadata: decodeMetadata(a.data) });
  }
  return out;
}

/**
 * Reads the per-frame metadata stored in a WebM (see the layout above).
 * @param {Uint8Array|ArrayBuffer|Blob|ReadableStream|AsyncIterable<Uint8Array>} webm the file; bytes are
 *   read synchronously, the others return a Promise
 * @returns {Array<{frame: number, timestamp: number, keyframe: boolean, metadata: any}>} one entry per frame
 *   that carries metadata, in file order: frame is its index among the video frames (0-based), timestamp
 *   its presentation time in ms, metadata the parsed JSON (or the raw bytes when not JSON)
 */
export function readFrameMetadata(webm) {
  const r = scan(webm, { mode: 'metadata' }, 'readFrameMetadata');
  return r && typeof r.then === 'function' ? r.then(metadataList) : metadataList(r);
}

/**
 * A summary of a WebM without decoding it: { docType, duration (s, or null), estimatedDuration (s, from
 * the frame times), timecodeScale, tracks, videoFrames, keyframes, firstTimestamp, lastTimestamp (ms),
 * cuePoints, clusters, frames: [{index, timestamp, keyframe, additions}], truncated }. Same inputs as readFrameMetadata.
 * With { frames: false } only the counts are kept (frames is empty, BlockAdditions are not read) and the
 * memory used is bounded whatever the file holds: the way to read a file from someone else.
 */
export function inspectWebm(webm, { frames = true } = {}) {
  return scan(webm, { mode: frames ? 'frames' : 'counts' }, 'inspectWebm');
}

/**
 * The metadata of one XR frame: { frameNumber, timestamp, elapsed, pose } (the per-frame fields of an XR recording).
 * frameNumber counts from 1; timestamp is the XRFrame time in ms; elapsed is ms since `startTime`.
 */
export function xrFrameMetadata(frame, referenceSpace, { frameNumber, time, startTime }) {
  let pose = null;
  const p = frame.getViewerPose(referenceSpace);
  if (p) pose = transformToJSON(p.transform);
  return { frameNumber, timestamp: time, elapsed: time - startTime, pose };
}
