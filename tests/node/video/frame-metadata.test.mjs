// Per-frame metadata in WebM (BlockAdditions, BlockAddID 2, UTF-8 JSON): readFrameMetadata /
// inspectWebm (js-glue/record/frame-metadata.js) on files from the video module's VideoWriter, from
// ffmpeg's live muxer (unknown sizes) and from WebmMuxer (the WebCodecs backend's libwebm muxer), fed
// whole or in pieces. Judges: an independent EBML walker (ebml-walk.mjs), ffprobe, ffmpeg, mkvinfo.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VideoWriter, WebmMuxer, createRecorder, readFrameMetadata, inspectWebm, METADATA_BLOCK_ADD_ID } from '../../../js-glue/index.js';
import { WebmScanner } from '../../../js-glue/record/frame-metadata.js';
import * as hostile from '../server/hostile-files.mjs';
import { readWebm } from './ebml-walk.mjs';
import { patternFrame, probe, tempDir } from './video-fixtures.mjs';

const W = 96;
const H = 64;
const N = 24;
const frames = Array.from({ length: N }, (_, i) => patternFrame(W, H, i));
const poseOf = (i) => ({ frameNumber: i + 1, timestamp: 1000 + i * 11.1, elapsed: i * 11.1, pose: { position: { x: i / 10, y: 1.6, z: 0 - i / 20 + 0 }, orientation: { x: 0, y: Math.sin(i / 50), z: 0, w: Math.cos(i / 50) } } });
let dir;
const files = {};

beforeAll(async () => {
  dir = tempDir('ck-frame-meta-');
  for (const codec of ['vp8', 'vp9']) {
    const w = await VideoWriter.create({ codec, width: W, height: H, fps: 24, keyframeInterval: 8 });
    // Metadata on every frame but the multiples of 5 (those stay plain SimpleBlocks).
    frames.forEach((f, i) => w.addFrame(f, i % 5 === 0 ? {} : { metadata: poseOf(i) }));
    files[codec] = (await w.finish()).data;
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const expected = () => frames.map((_, i) => i).filter((i) => i % 5 !== 0);

async function* pieces(bytes, size) {
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

describe.each(['vp8', 'vp9'])('VideoWriter %s output', (codec) => {
  test('readFrameMetadata: the frames that carry metadata, with their index, time and keyframe flag', () => {
    const md = readFrameMetadata(files[codec]);
    expect(md.map((m) => m.frame)).toEqual(expected());
    expect(md.map((m) => m.metadata)).toEqual(expected().map(poseOf));
    const walk = readWebm(files[codec]);
    for (const m of md) {
      expect(m.timestamp).toBe(walk.blocks[m.frame].timecode);
      expect(m.keyframe).toBe(walk.blocks[m.frame].keyframe);
      expect(walk.blocks[m.frame].additions).toEqual([{ id: METADATA_BLOCK_ADD_ID, data: expect.any(Uint8Array) }]);
    }
    expect(md.filter((m) => m.keyframe).map((m) => m.frame)).toEqual([8, 16]); // keyframes 0, 8, 16; frame 0 has no metadata
  });

  test('inspectWebm agrees with the independent walker and ffprobe', () => {
    const s = inspectWebm(files[codec]);
    const walk = readWebm(files[codec]);
    expect(s.videoFrames).toBe(N);
    expect(s.frames.map((f) => [f.timestamp, f.keyframe])).toEqual(walk.blocks.map((b) => [b.timecode, b.keyframe]));
    expect(s.keyframes).toBe(3);
    expect(s.cuePoints).toBe(walk.cuePoints);
    expect(s.duration).toBe(1);
    expect(s.docType).toBe('webm');
    expect(s.tracks).toEqual([{ number: 1, type: 1, codecId: codec === 'vp8' ? 'V_VP8' : 'V_VP9', width: W, height: H, defaultDurationNs: expect.any(Number) }]);
    expect(s.truncated).toBe(false);
  });

  test('the same answer from an ArrayBuffer, a Blob, a ReadableStream and 1- or 7-byte pieces', async () => {
    const want = readFrameMetadata(files[codec]);
    const bytes = files[codec];
    expect(readFrameMetadata(bytes.slice().buffer)).toEqual(want);
    expect(await readFrameMetadata(new Blob([bytes]))).toEqual(want);
    expect(await readFrameMetadata(new Blob([bytes]).stream())).toEqual(want);
    expect(await readFrameMetadata(pieces(bytes, 1))).toEqual(want);
    expect(await readFrameMetadata(pieces(bytes, 7))).toEqual(want);
  });
});

test('a live file (unknown Segment and Cluster sizes, ffmpeg -live 1) is read the same way', () => {
  const src = join(dir, 'src.webm');
  const live = join(dir, 'live.webm');
  writeFileSync(src, files.vp8);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', src, '-c', 'copy', '-f', 'webm', '-live', '1', live]);
  const bytes = new Uint8Array(readFileSync(live));
  const s = inspectWebm(bytes);
  expect(s.videoFrames).toBe(N);
  expect(s.clusters).toBeGreaterThanOrEqual(1);
});

test('errors: not a WebM, wrong input type, corrupt sizes; a cut file is marked truncated', async () => {
  expect(() => readFrameMetadata(new Uint8Array([1, 2, 3, 4, 5]))).toThrow(/not a WebM file/);
  expect(() => readFrameMetadata('file.webm')).toThrow(TypeError);
  await expect(readFrameMetadata(pieces(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]), 2))).rejects.toThrow(/not a WebM file/);
  const cut = files.vp8.slice(0, Math.floor(files.vp8.length * 0.6));
  const s = inspectWebm(cut);
  expect(s.truncated).toBe(true);
  expect(s.videoFrames).toBeLessThan(N);
  expect(readFrameMetadata(cut).length).toBeLessThan(expected().length);
  // A Cluster child claiming more bytes than its Cluster holds.
  const bad = files.vp8.slice();
  const walk = inspectWebm(bad);
  expect(walk.clusters).toBeGreaterThan(0);
  // The last Cluster ID in the file (the first occurrence is the SeekHead's entry pointing at one).
  const at = bad.findLastIndex((b, i) => b === 0x1f && bad[i + 1] === 0x43 && bad[i + 2] === 0xb6 && bad[i + 3] === 0x75);
  const sizeLen = Math.clz32(bad[at + 4]) - 23; // the Cluster's size VINT length
  const timecodeAt = at + 4 + sizeLen; // then the Timecode element
  expect(bad[timecodeAt]).toBe(0xe7);
  bad[timecodeAt + 1] = 0x01; bad.fill(0xff, timecodeAt + 2, timecodeAt + 9); // an 8-byte "unknown" size on a leaf
  expect(() => inspectWebm(bad)).toThrow(/corrupt WebM/);
});

describe('WebmMuxer (the WebCodecs backend muxer) writes the same layout', () => {
  function ivfFrames(webm, name) {
    const src = join(dir, `${name}.webm`);
    const ivf = join(dir, `${name}.ivf`);
    writeFileSync(src, webm);
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', src, '-c:v', 'copy', '-f', 'ivf', ivf]);
    const buf = readFileSync(ivf);
    const out = [];
    for (let p = buf.readUInt16LE(6); p < buf.length;) {
      const size = buf.readUInt32LE(p);
      out.push(new Uint8Array(buf.subarray(p + 12, p + 12 + size)));
      p += 12 + size;
    }
    return out;
  }

  test.each(['vp8', 'vp9'])('%s: remuxed frames with metadata, streamed through ondata(bytes, offset)', async (codec) => {
    const encoded = ivfFrames(files[codec], `remux-${codec}`);
    expect(encoded).toHaveLength(N);
    const keyframes = inspectWebm(files[codec]).frames.map((f) => f.keyframe);
    let file = new Uint8Array(0);
    let size = 0;
    let overwrites = 0;
    const mux = await WebmMuxer.create({ codec, width: W, height: H, fps: 24, ondata: (bytes, offset) => {
      expect(offset).toBeLessThanOrEqual(size);
      if (offset < size) overwrites++;
      if (offset + bytes.length > file.length) { const g = new Uint8Array((offset + bytes.length) * 2); g.set(file); file = g; }
      file.set(bytes, offset);
      size = Math.max(size, offset + bytes.length);
    } });
    encoded.forEach((data, i) => mux.addFrame(data, { keyframe: keyframes[i], timestampUs: Math.round((i * 1e6) / 24),
      metadata: i % 5 === 0 ? null : new TextEncoder().encode(JSON.stringify(poseOf(i))) }));
    const r = await mux.finish({ duration: N / 24 });
    file = file.slice(0, size);
    expect(r).toMatchObject({ codec, frames: N, keyframes: 3, duration: 1, bytes: size });
    expect(overwrites).toBeGreaterThan(0);
    const out = join(dir, `muxed-${codec}.webm`);
    writeFileSync(out, file);
    expect(probe(out)).toEqual({ codec, width: W, height: H, frames: N, duration: 1 });
    execFileSync('ffmpeg', ['-v', 'error', '-xerror', '-i', out, '-f', 'null', '-']); // decodes cleanly
    const info = execFileSync('mkvinfo', ['-a', out], { encoding: 'utf8' });
    expect(info).toMatch(/Cue point/);
    expect(info).toMatch(/Maximum block additional ID: 2/);
    // The same metadata, the same keyframes, the same frame times as the VideoWriter's file.
    expect(readFrameMetadata(file)).toEqual(readFrameMetadata(files[codec]));
    const walk = readWebm(file);
    expect(walk.blocks.map((b) => [b.timecode, b.keyframe])).toEqual(readWebm(files[codec]).blocks.map((b) => [b.timecode, b.keyframe]));
    expect(walk.cuePoints).toBe(3);
    // Both go through the same libwebm muxer: the remux is the VideoWriter's file, byte for byte.
    expect(file).toEqual(files[codec]);
  });

  test('refuses: a first frame that is not a keyframe, time going back, adding after finish', async () => {
    const m = await WebmMuxer.create({ codec: 'vp8', width: 16, height: 16, fps: 30, ondata: () => {} });
    expect(() => m.addFrame(new Uint8Array(4), { keyframe: false, timestampUs: 0 })).toThrow(/first frame must be a keyframe/);
    m.addFrame(new Uint8Array(4), { keyframe: true, timestampUs: 100_000 });
    expect(() => m.addFrame(new Uint8Array(4), { keyframe: false, timestampUs: 50_000 })).toThrow(/must not go back/);
    await m.finish();
    expect(() => m.addFrame(new Uint8Array(4), { keyframe: true, timestampUs: 200_000 })).toThrow(/finished/);
    await expect(m.finish()).rejects.toThrow(/already finished/);
  });
});

test('createRecorder in Node (inline wasm encoder): frames + poses in, the same poses read back', async () => {
  const rec = await createRecorder(null, { size: { width: W, height: H }, fps: 24 });
  expect(rec.backend).toBe('wasm');
  for (let i = 0; i < 12; i++) {
    await rec.ready;
    rec.addFrame(frames[i], { metadata: poseOf(i) });
  }
  const r = await rec.stop();
  expect(r).toMatchObject({ complete: true, frames: 12, duration: 0.5, averageFps: 24, width: W, height: H });
  expect(readFrameMetadata(r.data).map((m) => m.metadata)).toEqual(Array.from({ length: 12 }, (_, i) => poseOf(i)));
  expect(r.metadata.frames).toEqual(Array.from({ length: 12 }, (_, i) => poseOf(i)));
});

describe("bounded memory on files from strangers ('counts' mode, limits in every mode)", () => {
  // Hand-made files (tests/node/server/hostile-files.mjs builds them); the first of each is the
  // BlockAddition file a server must read without keeping anything per frame.
  const { ebmlElement: el, ebmlUint: u } = hostile;
  const webm = (...body) => new Uint8Array(Buffer.concat([
    el(0x1a45dfa3, el(0x4282, Buffer.from('webm'))),
    el(0x18538067, ...body),
  ]));
  const track = (n) => el(0xae, u(0xd7, n), u(0x83, 1), el(0x86, Buffer.from('V_VP8')));
  const bytesOf = async (file) => {
    const parts = [];
    for await (const c of file.chunks()) parts.push(c);
    return new Uint8Array(Buffer.concat(parts));
  };

  test("inspectWebm { frames: false } and WebmScanner 'counts' keep counts, not frames or additions", async () => {
    const file = hostile.blockAdditionWebm(1.2e6);
    const bytes = await bytesOf(file);
    const counts = inspectWebm(bytes, { frames: false });
    expect(counts).toMatchObject({ videoFrames: file.frames, keyframes: file.frames, frames: [], truncated: false, docType: 'webm' });
    expect(counts.estimatedDuration).toBeCloseTo(file.frames / 1000, 6);
    expect(counts.tracks).toEqual([{ number: 1, type: 1, codecId: 'V_VP8', width: 64, height: 64, defaultDurationNs: 0 }]);
    // The same counts in every mode; 'metadata' and 'frames' keep an entry per frame (what they are for).
    const frames = inspectWebm(bytes);
    for (const k of ['videoFrames', 'keyframes', 'clusters', 'firstTimestamp', 'lastTimestamp', 'estimatedDuration']) expect(counts[k]).toBe(frames[k]);
    expect(frames.frames).toHaveLength(file.frames);
    expect(readFrameMetadata(bytes)).toHaveLength(file.frames);
    // Streamed in 64 KiB pieces: the same, and the scanner holds nothing but a header's worth of bytes.
    const s = new WebmScanner({ mode: 'counts' });
    let held = 0;
    for (let i = 0; i < bytes.length; i += 65536) { s.push(bytes.subarray(i, i + 65536)); held = Math.max(held, s.buf.length); }
    expect(s.finish()).toMatchObject({ videoFrames: file.frames, frames: [] });
    expect(held).toBeLessThan(16);
    expect(() => new WebmScanner({ mode: 'all' })).toThrow(/mode must be one of counts, metadata, frames/);
  });

  test('the counts on real files are the frames mode\'s counts', () => {
    for (const codec of ['vp8', 'vp9']) {
      const c = inspectWebm(files[codec], { frames: false });
      const f = inspectWebm(files[codec]);
      expect(c.frames).toEqual([]);
      expect({ ...c, frames: null }).toEqual({ ...f, frames: null });
    }
  });

  test('a 1 MiB BlockAdditional fed in 64-byte pieces is gathered in one buffer of its size (linear, no growing joins)', async () => {
    const big = Buffer.alloc(1 << 20, 0x20);
    big[0] = 0x22; big[big.length - 1] = 0x22; // a JSON string
    const bytes = webm(el(0x1654ae6b, track(1)), el(0x1f43b675, u(0xe7, 0),
      el(0xa0, el(0xa1, Buffer.from([0x81, 0, 0, 0x80, 0])), el(0x75a1, el(0xa6, u(0xee, 2), el(0xa5, big))))));
    const s = new WebmScanner({ mode: 'metadata' });
    let held = 0;
    for (let i = 0; i < bytes.length; i += 64) { s.push(bytes.subarray(i, i + 64)); held = Math.max(held, s.buf.length); }
    const out = s.finish();
    expect(held).toBeLessThan(64 + 16);
    expect(out.frames).toHaveLength(1);
    expect(Buffer.from(out.frames[0].additions[0].data).equals(big)).toBe(true);
  });

  test('limits in every mode: nesting depth, track count, distinct track numbers, long leaves', () => {
    // BlockGroups inside BlockGroups, 20 deep.
    let nested = el(0xa1, Buffer.from([0x81, 0, 0, 0x80, 0]));
    for (let i = 0; i < 20; i++) nested = el(0xa0, nested);
    for (const frames of [true, false]) {
      expect(() => inspectWebm(webm(el(0x1f43b675, nested)), { frames })).toThrow(/corrupt WebM, element 0xa0 at byte \d+ nests deeper than 16 levels/);
      expect(() => inspectWebm(webm(el(0x1654ae6b, ...Array.from({ length: 200 }, (_, i) => track(i + 1)))), { frames })).toThrow(/more than 127 tracks/);
    }
    // SimpleBlocks of 1000 different track numbers: per-track counts stop at 127 numbers.
    const blocks = Array.from({ length: 1000 }, (_, i) => el(0xa3, Buffer.from([0x40 | (i >> 8), i & 0xff, 0, 0, 0x80, 0])));
    const s = inspectWebm(webm(el(0x1f43b675, u(0xe7, 0), ...blocks)), { frames: false });
    expect(Object.keys(s.blocksPerTrack).length).toBe(127);
    // A 64 KiB CodecID is skipped unread.
    const t = inspectWebm(webm(el(0x1654ae6b, el(0xae, u(0xd7, 1), u(0x83, 1), el(0x86, Buffer.alloc(65536, 0x41))))), { frames: false });
    expect(t.tracks[0]).toMatchObject({ number: 1, codecId: '' });
  });
});
