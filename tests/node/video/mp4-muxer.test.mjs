// Mp4Muxer (js-glue/video/mp4-muxer.js -> the video module's C++ MP4 muxer): H.264 (ffmpeg's libx264,
// Annex B), VP9 (ffmpeg's libvpx, IVF) and AV1 (libaom, IVF) frames with Opus packets from capturekit's
// OpusEncoder, muxed fragmented (streamed through ondata) and progressive (in memory). Judges: ffprobe
// (codecs, packets, duration), a full ffmpeg decode, mediabunny's reader (packets, key frames,
// duration); the streamed ranges applied at their offsets against the same layout in memory; bad
// input refused with the error class and message that say what was wrong.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Mp4Muxer } from '../../../js-glue/video/mp4-muxer.js';
import { OpusEncoder } from '../../../js-glue/index.js';
import { tempDir } from './video-fixtures.mjs';
import { probeMp4 } from './mp4-probe.mjs';

const W = 160;
const H = 120;
const N = 45; // frames: 1.5 s at 30 fps
let dir;
const video = {};
let opus;

function parseIvf(buf, isKey) {
  const frames = [];
  for (let p = buf.readUInt16LE(6); p + 12 <= buf.length;) {
    const size = buf.readUInt32LE(p);
    const data = new Uint8Array(buf.subarray(p + 12, p + 12 + size));
    frames.push({ data, keyframe: isKey(data) });
    p += 12 + size;
  }
  return frames;
}

// An AV1 temporal unit is a key frame here when it carries a sequence header OBU (libaom repeats it).
function av1HasSequenceHeader(d) {
  for (let at = 0; at < d.length;) {
    const type = (d[at] >> 3) & 15;
    let h = d[at] & 4 ? 2 : 1;
    let size = 0;
    for (let i = 0; i < 8; i++) {
      const b = d[at + h++];
      size += (b & 0x7f) * 2 ** (7 * i);
      if (!(b & 0x80)) break;
    }
    if (type === 1) return true;
    at += h + size;
  }
  return false;
}

// Annex B access units, one per AUD (00 00 01 09); a key frame holds an IDR slice (type 5).
function splitAnnexB(buf) {
  const starts = [];
  for (let i = 0; i + 3 < buf.length; i++) {
    if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1 && (buf[i + 3] & 31) === 9) starts.push(i > 0 && buf[i - 1] === 0 ? i - 1 : i);
  }
  return starts.map((s, k) => {
    const data = new Uint8Array(buf.subarray(s, k + 1 < starts.length ? starts[k + 1] : buf.length));
    let keyframe = false;
    for (let i = 0; i + 3 < data.length; i++) if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1 && (data[i + 3] & 31) === 5) keyframe = true;
    return { data, keyframe };
  });
}

function ffmpeg(args) {
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=size=${W}x${H}:rate=30`, '-frames:v', String(N), ...args]);
}

beforeAll(async () => {
  dir = tempDir('ck-mp4-muxer-');
  ffmpeg(['-c:v', 'libx264', '-profile:v', 'high', '-pix_fmt', 'yuv420p', '-bf', '0', '-g', '15', '-keyint_min', '15', '-sc_threshold', '0',
    '-bsf:v', 'h264_metadata=aud=insert', '-f', 'h264', join(dir, 'v.264')]);
  video.h264 = { codec: 'h264', frames: splitAnnexB(readFileSync(join(dir, 'v.264'))), name: 'h264' };
  ffmpeg(['-c:v', 'libvpx-vp9', '-g', '15', '-b:v', '300k', '-f', 'ivf', join(dir, 'v9.ivf')]);
  video.vp9 = { codec: 'vp09.00.10.08', frames: parseIvf(readFileSync(join(dir, 'v9.ivf')), (d) => (d[0] & 0x0c) === 0), name: 'vp9' };
  ffmpeg(['-c:v', 'libaom-av1', '-cpu-used', '8', '-usage', 'realtime', '-g', '15', '-keyint_min', '15', '-b:v', '300k', '-f', 'ivf', join(dir, 'av1.ivf')]);
  video.av1 = { codec: 'av01.0.00M.08', frames: parseIvf(readFileSync(join(dir, 'av1.ivf')), av1HasSequenceHeader), name: 'av1' };
  // 1.5 s of a 440 Hz tone as 20 ms Opus packets.
  const enc = await OpusEncoder.create({ sampleRate: 48000, channels: 1 });
  const pcm = new Float32Array(72000).map((_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * i) / 48000));
  const packets = [...enc.encode(pcm), ...enc.flush()];
  opus = { preSkip: enc.preSkip, packets };
  enc.close();
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function mux(v, { layout, ondata, audio = true } = {}) {
  const m = await Mp4Muxer.create({ codec: v.codec, width: W, height: H, fps: 30, layout, ondata,
    ...(audio ? { audio: { codec: 'opus', sampleRate: 48000, channels: 1, preSkip: opus.preSkip } } : {}) });
  // As a recorder hands them over: in time order across the two tracks, from a clock that does not start at 0.
  const t0 = 7_000_000;
  let a = 0;
  v.frames.forEach((f, i) => {
    const us = t0 + (i * 1e6) / 30;
    while (audio && a < opus.packets.length && (opus.packets[a].pts * 1e6) / 48000 + t0 <= us) {
      const p = opus.packets[a++];
      m.addAudio(p.data, { timestampUs: t0 + (p.pts * 1e6) / 48000, discardPaddingUs: (p.padding * 1e6) / 48000 });
    }
    m.addFrame(f.data, { keyframe: f.keyframe, timestampUs: us });
  });
  while (audio && a < opus.packets.length) {
    const p = opus.packets[a++];
    m.addAudio(p.data, { timestampUs: t0 + (p.pts * 1e6) / 48000, discardPaddingUs: (p.padding * 1e6) / 48000 });
  }
  return m.finish();
}

function judge(file) {
  const out = execFileSync('ffprobe', ['-v', 'error', '-count_packets', '-show_entries',
    'stream=codec_name,nb_read_packets:format=duration', '-of', 'json', file], { encoding: 'utf8' });
  const j = JSON.parse(out);
  const decode = spawnSync('ffmpeg', ['-v', 'error', '-xerror', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' });
  return {
    codecs: j.streams.map((s) => s.codec_name).join(','),
    packets: j.streams.map((s) => Number(s.nb_read_packets)).join(','),
    duration: Number(j.format.duration),
    decodeStatus: decode.status,
    decodeErrors: decode.stderr,
  };
}

describe.each(['h264', 'vp9', 'av1'])('%s + Opus', (name) => {
  test('progressive in memory and fragmented through ondata: ffprobe, ffmpeg and mediabunny agree', async () => {
    const v = video[name];
    expect(v.frames.length).toBe(N);
    expect(v.frames[0].keyframe).toBe(true);
    const keys = v.frames.filter((f) => f.keyframe).length;
    expect(keys).toBeGreaterThanOrEqual(3);

    const progressive = await mux(v);
    expect(progressive.layout).toBe('progressive');
    expect(progressive.fragments).toBe(0);
    expect(progressive.frames).toBe(N);
    expect(progressive.mimeType).toMatch(/^video\/mp4; codecs="(avc1\.64|vp09\.00\.10\.08|av01\.0\.00M\.08)/);
    expect(progressive.mimeType.endsWith(', opus"')).toBe(true);
    expect(progressive.duration).toBeCloseTo(1.5, 2);
    expect(progressive.audio).toEqual({ codec: 'opus', sampleRate: 48000, channels: 1, packets: opus.packets.length,
      duration: expect.any(Number) });

    let streamed = new Uint8Array(0);
    let patches = 0;
    const fragmented = await mux(v, {
      ondata: (bytes, offset) => {
        if (offset < streamed.length) patches++;
        if (offset + bytes.length > streamed.length) {
          const grown = new Uint8Array(offset + bytes.length);
          grown.set(streamed);
          streamed = grown;
        }
        streamed.set(bytes, offset);
      },
    });
    expect(fragmented.layout).toBe('fragmented');
    expect(fragmented.fragments).toBeGreaterThanOrEqual(keys);
    expect(patches).toBe(4); // the durations in mvhd, mehd and both tkhds, at finish()
    const inMemory = await mux(v, { layout: 'fragmented' });
    expect(Buffer.compare(Buffer.from(streamed), Buffer.from(inMemory.data))).toBe(0);

    for (const [label, bytes] of [['progressive', progressive.data], ['fragmented', streamed]]) {
      const file = join(dir, `${name}-${label}.mp4`);
      writeFileSync(file, bytes);
      const j = judge(file);
      expect({ label, ...j, decodeErrors: j.decodeErrors.trim() }).toEqual({ label,
        codecs: `${name},opus`, packets: `${N},${opus.packets.length}`, duration: expect.any(Number), decodeStatus: 0, decodeErrors: '' });
      expect(j.duration).toBeCloseTo(1.5, 1);
      const mb = await probeMp4(new Uint8Array(bytes));
      expect(mb.format).toBe('MP4');
      const [mv, ma] = mb.tracks;
      expect([mv.type, mv.packets, mv.keyPackets]).toEqual(['video', N, keys]);
      expect([ma.type, ma.codec, ma.packets]).toEqual(['audio', 'opus', opus.packets.length]);
      expect(mv.duration).toBeCloseTo(1.5, 2);
      expect(mb.duration).toBeCloseTo(1.5, 1);
    }
  }, 120_000);
});

describe('bad input', () => {
  test('VP8, unknown codecs and bad options are TypeErrors before any native work', async () => {
    await expect(Mp4Muxer.create({ codec: 'vp8', width: W, height: H })).rejects.toThrow(new TypeError(
      "Mp4Muxer.create: VP8 cannot be stored in MP4; use 'vp9', 'av1' or H.264, or the WebM container"));
    await expect(Mp4Muxer.create({ codec: 'hevc', width: W, height: H })).rejects.toThrow(TypeError);
    await expect(Mp4Muxer.create({ codec: 'vp9', width: W, height: H, layout: 'flat' })).rejects.toThrow(/layout/);
    await expect(Mp4Muxer.create({ codec: 'vp9', width: W, height: H, audio: { codec: 'vorbis', channels: 1 } }))
      .rejects.toThrow(/audio.codec/);
  });

  test('frame order and data problems say what was wrong, and the muxer stays usable', async () => {
    const v = video.h264;
    const m = await Mp4Muxer.create({ codec: 'h264', width: W, height: H });
    expect(() => m.addFrame(v.frames[1].data, { keyframe: false, timestampUs: 0 })).toThrow(/first frame must be a key frame/);
    // Annex B without SPS/PPS in the first key frame: the C++ says what it needs.
    expect(() => m.addFrame(new Uint8Array([0, 0, 1, 0x65, 0x88]), { keyframe: true, timestampUs: 0 }))
      .toThrow(/no SPS and PPS/);
    m.addFrame(v.frames[0].data, { keyframe: true, timestampUs: 0 });
    expect(() => m.addFrame(v.frames[1].data, { timestampUs: 0 })).toThrow(new RangeError('Mp4Muxer.addFrame: frame timestamps must increase (0 µs after 0 µs)'));
    expect(() => m.addAudio(new Uint8Array([1]), { timestampUs: 0 })).toThrow(/no audio track/);
    m.addFrame(v.frames[1].data, { timestampUs: 33_333 });
    const r = await m.finish();
    expect(r.frames).toBe(2);
    expect(() => m.addFrame(v.frames[2].data, { timestampUs: 70_000 })).toThrow(/already finished/);

    // With an avcC description the frames must be length-prefixed: Annex B data is refused.
    const avcc = new Uint8Array([1, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0, 2, 0x67, 0x42, 1, 0, 2, 0x68, 0xce]);
    const m2 = await Mp4Muxer.create({ codec: 'avc1.42c01e', width: W, height: H, description: avcc });
    expect(() => m2.addFrame(new Uint8Array([0, 0, 0, 1, 0x65, 0x88, 0x84, 0x21, 0xa0]), { keyframe: true, timestampUs: 0 }))
      .toThrow(/not length-prefixed NAL units/);
    m2.abort();
  });
});

describe('memory', () => {
  test('a long fragmented recording streams in bounded memory, and 10 muxers in turn leave the wasm heap as it was', async () => {
    const { initVideo } = await import('../../../js-glue/video.js');
    const M = await initVideo();
    const frames = video.vp9.frames;
    // One fragmented muxer, 20,000 frames (about 11 minutes at 30 fps): the heap stops growing once the
    // first fragments are out.
    let delivered = 0;
    const m = await Mp4Muxer.create({ codec: 'vp9', width: W, height: H, ondata: (b) => { delivered += b.length; } });
    let heapAfter2000 = 0;
    for (let i = 0; i < 20_000; i++) {
      m.addFrame(frames[i % N].data, { keyframe: i % N === 0, timestampUs: (i * 1e6) / 30 });
      if (i === 2000) heapAfter2000 = M.HEAPU8.length;
    }
    expect(M.HEAPU8.length).toBe(heapAfter2000);
    const r = await m.finish();
    expect(r.fragments).toBe(Math.ceil(20_000 / N));
    expect(delivered).toBeGreaterThanOrEqual(r.bytes);
    // Create, fill, finish (or abort), in turn: nothing is left behind.
    const once = async (k) => {
      const x = await Mp4Muxer.create({ codec: 'vp9', width: W, height: H, layout: k % 2 ? 'progressive' : 'fragmented' });
      for (let i = 0; i < 1000; i++) x.addFrame(frames[i % N].data, { keyframe: i % N === 0 });
      if (k % 3 === 2) x.abort(); else await x.finish();
    };
    await once(0);
    await once(1);
    const heap = M.HEAPU8.length;
    for (let k = 0; k < 10; k++) await once(k);
    expect(M.HEAPU8.length).toBe(heap);
  }, 120_000);
});
