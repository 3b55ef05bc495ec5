// WebmMuxer (js-glue/video/webm-muxer.js -> the video module's libwebm WebmMuxer): real VP8/VP9 frames
// encoded by ffmpeg's libvpx into IVF, parsed here, muxed into WebM. Judges: ffprobe (-count_frames),
// mkvinfo (Cues), ffmpeg framemd5 (the muxed file decodes to exactly the IVF's pictures),
// readFrameMetadata (per-frame metadata round-trips), and the streamed ranges written to a file at
// their offsets against the in-memory output.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { WebmMuxer, readFrameMetadata, inspectWebm, initVideo } from '../../../js-glue/index.js';
import { probe, tempDir } from './video-fixtures.mjs';

const W = 160;
const H = 120;
let dir;
const ivf = {};

/** The frames of an IVF file (32-byte file header, then 12-byte frame headers: size, timestamp). */
function parseIvf(buf, codec) {
  expect(buf.toString('latin1', 0, 4)).toBe('DKIF');
  const frames = [];
  for (let p = buf.readUInt16LE(6); p + 12 <= buf.length;) {
    const size = buf.readUInt32LE(p);
    const data = new Uint8Array(buf.subarray(p + 12, p + 12 + size));
    // VP8: bit 0 of the frame tag is 0 on keyframes. VP9 profile 0: frame_type (bit 2) is 0 on keyframes.
    const keyframe = codec === 'vp8' ? (data[0] & 1) === 0 : (data[0] & 0x0c) === 0;
    frames.push({ data, keyframe, pts: Number(buf.readBigUInt64LE(p + 4)) });
    p += 12 + size;
  }
  return frames;
}

function framemd5(file) {
  const out = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'framemd5', '-'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(',').pop().trim());
}

const poseOf = (i) => ({ frameNumber: i + 1, pose: { position: { x: i / 10, y: 1.6, z: -i / 20 }, orientation: { x: 0, y: 0, z: 0, w: 1 } } });

beforeAll(() => {
  dir = tempDir('ck-webm-muxer-');
  for (const [codec, lib] of [['vp8', 'libvpx'], ['vp9', 'libvpx-vp9']]) {
    const path = join(dir, `${codec}.ivf`);
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=size=${W}x${H}:rate=30`, '-t', '1',
      '-c:v', lib, '-g', '10', '-b:v', '300k', '-f', 'ivf', path]);
    ivf[codec] = { path, frames: parseIvf(readFileSync(path), codec) };
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function mux(codec, { ondata, metadata = true, duration } = {}) {
  const m = await WebmMuxer.create({ codec, width: W, height: H, fps: 30, ondata });
  ivf[codec].frames.forEach((f, i) => m.addFrame(f.data, {
    keyframe: f.keyframe, timestampUs: 5_000_000 + (i * 1e6) / 30, // any origin: the first frame becomes 0
    ...(metadata && i % 3 !== 0 ? { metadata: poseOf(i) } : {}),
  }));
  return m.finish(duration === undefined ? {} : { duration });
}

describe.each(['vp8', 'vp9'])('%s frames from an IVF file', (codec) => {
  test('30 frames in, 30 frames out, 1 s, Cues, the same decoded pictures', async () => {
    expect(ivf[codec].frames).toHaveLength(30);
    expect(ivf[codec].frames.filter((f) => f.keyframe)).toHaveLength(3);
    const r = await mux(codec, { duration: 1 });
    expect(r).toMatchObject({ codec, mimeType: `video/webm;codecs=${codec}`, width: W, height: H, frames: 30, keyframes: 3, duration: 1, averageFps: 30, bytes: r.data.length });
    const out = join(dir, `${codec}.webm`);
    writeFileSync(out, r.data);
    expect(probe(out)).toEqual({ codec, width: W, height: H, frames: 30, duration: 1 });
    const info = execFileSync('mkvinfo', ['-a', out], { encoding: 'utf8' });
    expect(info).toMatch(/Cues/);
    expect(info.match(/Cue point/g)).toHaveLength(3);
    expect(info).toMatch(/Maximum block additional ID: 2/);
    const want = framemd5(ivf[codec].path);
    expect(want).toHaveLength(30);
    expect(framemd5(out)).toEqual(want);
  });

  test('without a duration: the frame spacing gives 1 s as well', async () => {
    const r = await mux(codec, { metadata: false });
    const out = join(dir, `${codec}-est.webm`);
    writeFileSync(out, r.data);
    expect(probe(out)).toMatchObject({ frames: 30, duration: 1 });
    expect(r.duration).toBeCloseTo(1, 6);
  });

  test('streamed ranges written to a file at their offsets = the in-memory file', async () => {
    const memory = (await mux(codec, { duration: 1 })).data;
    const path = join(dir, `${codec}-streamed.webm`);
    const fd = openSync(path, 'w');
    let size = 0;
    let patches = 0;
    const r = await mux(codec, {
      duration: 1,
      ondata: (bytes, offset) => {
        expect(bytes).toBeInstanceOf(Uint8Array);
        expect(offset).toBeLessThanOrEqual(size); // never a gap
        if (offset < size) patches++;
        writeSync(fd, bytes, 0, bytes.length, offset);
        size = Math.max(size, offset + bytes.length);
      },
    });
    closeSync(fd);
    expect(r.data).toBeUndefined();
    expect(patches).toBeGreaterThan(0); // the header is patched at finish
    expect(r.bytes).toBe(memory.length);
    expect(new Uint8Array(readFileSync(path))).toEqual(memory);
  });

  test('async ondata: calls are serialised and finish() waits for them', async () => {
    const memory = (await mux(codec, { duration: 1 })).data;
    let file = new Uint8Array(0);
    let busy = false;
    await mux(codec, {
      duration: 1,
      ondata: async (bytes, offset) => {
        expect(busy).toBe(false);
        busy = true;
        await new Promise((res) => setImmediate(res));
        if (offset + bytes.length > file.length) { const g = new Uint8Array(offset + bytes.length); g.set(file); file = g; }
        file.set(bytes, offset);
        busy = false;
      },
    });
    expect(file).toEqual(memory);
  });

  test('per-frame metadata round-trips through readFrameMetadata (BlockAddID 2, JSON)', async () => {
    const r = await mux(codec, { duration: 1 });
    const md = readFrameMetadata(r.data);
    const want = [...Array(30).keys()].filter((i) => i % 3 !== 0);
    expect(md.map((m) => m.frame)).toEqual(want);
    expect(md.map((m) => m.metadata)).toEqual(want.map(poseOf));
    const s = inspectWebm(r.data);
    expect(s.videoFrames).toBe(30);
    expect(s.keyframes).toBe(3);
    expect(s.frames.map((f) => f.keyframe)).toEqual(ivf[codec].frames.map((f) => f.keyframe));
    expect(s.frames.map((f) => f.timestamp)).toEqual([...Array(30).keys()].map((i) => Math.floor((i * 1000) / 30)));
  });
});

test('bad input: clear errors before native work, and natively', async () => {
  const key = ivf.vp8.frames[0].data;
  const base = { codec: 'vp8', width: W, height: H, fps: 30 };
  await expect(WebmMuxer.create({ ...base, codec: 'h264' })).rejects.toThrow(RangeError);
  await expect(WebmMuxer.create({ ...base, codec: 'h264' })).rejects.toThrow(/codec must be one of "vp8", "vp9", got "h264"/);
  await expect(WebmMuxer.create({ ...base, codec: 'av1' })).rejects.toThrow(/"av1" is not supported/);
  await expect(WebmMuxer.create({ ...base, width: 100000 })).rejects.toThrow(RangeError);
  await expect(WebmMuxer.create({ ...base, height: 0 })).rejects.toThrow(/height/);
  await expect(WebmMuxer.create({ ...base, fps: 0 })).rejects.toThrow(/fps/);
  await expect(WebmMuxer.create({ ...base, bitrate: 1 })).rejects.toThrow(/unknown option "bitrate"/);
  await expect(WebmMuxer.create({ ...base, ondata: 'out.webm' })).rejects.toThrow(TypeError);
  await expect(WebmMuxer.create(null)).rejects.toThrow(TypeError);

  const m = await WebmMuxer.create(base);
  expect(() => m.addFrame(new Uint8Array(0), { keyframe: true })).toThrow(/frame is empty/);
  expect(() => m.addFrame('frame', { keyframe: true })).toThrow(TypeError);
  expect(() => m.addFrame(key, { keyframe: 'yes' })).toThrow(/keyframe must be a boolean/);
  expect(() => m.addFrame(ivf.vp8.frames[1].data, { keyframe: false })).toThrow(/first frame must be a keyframe/);
  expect(() => m.addFrame(key, { keyframe: true, metadata: 42 })).toThrow(TypeError);
  expect(() => m.addFrame(key, { keyframe: true, timestampUs: NaN })).toThrow(/timestampUs/);
  expect(() => m.addFrame(key, { keyframe: true, key: true })).toThrow(/unknown option "key"/);
  await expect(m.finish()).rejects.toThrow(/no frames were added/);
  m.addFrame(key, { keyframe: true, timestampUs: 100_000 });
  expect(() => m.addFrame(ivf.vp8.frames[1].data, { timestampUs: 50_000 })).toThrow(/must not go back/);
  m.addFrame(ivf.vp8.frames[1].data, { timestampUs: 133_333 }); // still usable after refused frames
  expect(m.frames).toBe(2);
  const r = await m.finish();
  expect(r.frames).toBe(2);
  expect(() => m.addFrame(key, { keyframe: true })).toThrow(/already finished/);
  await expect(m.finish()).rejects.toThrow(/already finished/);

  const aborted = await WebmMuxer.create(base);
  aborted.abort();
  expect(() => aborted.addFrame(key, { keyframe: true })).toThrow(/aborted/);
});

test('the native side refuses what JS would have caught (bypassing the glue)', async () => {
  const M = await initVideo();
  const h = new M.WebmMuxerHandle();
  try {
    expect(h.open({ codec: 'vp8', width: 100000, height: 120, fps: 30, streaming: false })).toBe(false);
    expect(M.lastErrorName()).toBe('RangeError');
    expect(M.lastErrorMessage()).toMatch(/size 100000x120 is outside 2..8192/);
    expect(h.open({ codec: 'av1', width: 160, height: 120, fps: 30, streaming: false })).toBe(false);
    expect(M.lastErrorMessage()).toMatch(/AV1 is not supported/);
  } finally {
    h.delete();
  }
  const g = new M.WebmMuxerHandle();
  const ptr = M._malloc(4);
  try {
    expect(g.open({ codec: 'vp9', width: 160, height: 120, fps: 30, streaming: false })).toBe(true);
    expect(g.addFrame(ptr, 0, 0, true, 0, 0)).toBe(false);
    expect(M.lastErrorMessage()).toMatch(/empty frame/);
    expect(g.addFrame(ptr, 4, 1e6, true, 0, 0)).toBe(true);
    expect(g.addFrame(ptr, 4, 0, false, 0, 0)).toBe(false);
    expect(M.lastErrorMessage()).toMatch(/must not go back/);
    expect(g.failed()).toBe(false);
    expect(g.finish(0)).toBe(true);
    expect(g.addFrame(ptr, 4, 2e6, true, 0, 0)).toBe(false);
    expect(M.lastErrorMessage()).toMatch(/already finished/);
    expect(g.finish(0)).toBe(false);
  } finally {
    M._free(ptr);
    g.delete();
  }
});

test('10,000 frames through one muxer at a time: the wasm heap does not grow', async () => {
  const M = await initVideo();
  const frames = ivf.vp8.frames;
  const once = async () => {
    const m = await WebmMuxer.create({ codec: 'vp8', width: W, height: H, fps: 30, ondata: () => {} });
    for (let i = 0; i < 1000; i++) m.addFrame(frames[i % 30].data, { keyframe: i % 30 === 0, metadata: i % 2 ? { i } : undefined });
    await m.finish();
  };
  await once();
  const heap = M.HEAPU8.length;
  for (let k = 0; k < 9; k++) await once();
  expect(M.HEAPU8.length).toBe(heap);
});
