// WebmMuxer's Opus track on the wasm build: packets from the wasm OpusEncoder (as WebCodecs'
// AudioEncoder would hand them over) beside VP8 frames from ffmpeg, added in any relative order;
// judged by ffprobe, ffmpeg and mkvinfo (clusters hold both tracks, in time order). Bad input refused.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OpusEncoder, WebmMuxer } from '../../../js-glue/index.js';
import { tempDir } from '../video/video-fixtures.mjs';
import { decodeAudio, decodeErrors, findClicks, mkvBlocks, mkvinfo, probeStreams, sineWithClicks, snr } from './audio-fixtures.mjs';

const W = 160;
const H = 120;
let dir;
let video;       // [{ data, keyframe, us }]: 3 s of VP8 at 30 fps, a keyframe every second
let audio;       // [{ data, us }]: 3 s of Opus packets (20 ms), stereo
let source;      // the PCM they came from
let preSkip;

function parseIvf(buf) {
  const frames = [];
  for (let p = buf.readUInt16LE(6); p + 12 <= buf.length;) {
    const size = buf.readUInt32LE(p);
    const data = new Uint8Array(buf.subarray(p + 12, p + 12 + size));
    frames.push({ data, keyframe: (data[0] & 1) === 0 });
    p += 12 + size;
  }
  return frames;
}

beforeAll(async () => {
  dir = tempDir('ck-mux-audio-');
  const path = join(dir, 'v.ivf');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=size=${W}x${H}:rate=30`, '-t', '3',
    '-c:v', 'libvpx', '-g', '30', '-b:v', '300k', '-f', 'ivf', path]);
  video = parseIvf(readFileSync(path)).map((f, i) => ({ ...f, us: 1e6 + i * 1e6 / 30 }));
  source = sineWithClicks(3, 48000, 2);
  const enc = await OpusEncoder.create({ sampleRate: 48000, channels: 2 });
  preSkip = enc.preSkip;
  const packets = [...enc.encode(source.pcm), ...enc.flush()];
  enc.close();
  audio = packets.map((p) => ({ data: p.data, us: 1e6 + p.pts * 1e6 / 48000 }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// order: 'live' (by time), 'video-first', 'audio-first', 'bursts'
async function mux(order, audioOptions = { codec: 'opus', sampleRate: 48000, channels: 2 }) {
  const m = await WebmMuxer.create({ codec: 'vp8', width: W, height: H, fps: 30, audio: audioOptions });
  const v = () => { const f = video[vi++]; m.addFrame(f.data, { keyframe: f.keyframe, timestampUs: f.us }); };
  const a = () => { const p = audio[ai++]; m.addAudio(p.data, { timestampUs: p.us }); };
  let vi = 0;
  let ai = 0;
  if (order === 'video-first') { while (vi < video.length) v(); while (ai < audio.length) a(); }
  if (order === 'audio-first') { while (ai < audio.length) a(); while (vi < video.length) v(); }
  if (order === 'live') {
    while (vi < video.length || ai < audio.length) {
      if (ai >= audio.length || (vi < video.length && video[vi].us <= audio[ai].us)) v(); else a();
    }
  }
  if (order === 'bursts') {
    while (vi < video.length || ai < audio.length) {
      for (let k = 0; k < 13 && vi < video.length; k++) v();
      for (let k = 0; k < 7 && ai < audio.length; k++) a();
    }
  }
  return m.finish();
}

test('Opus packets beside VP8 frames: one video and one Opus stream, interleaved in time, every packet decodes', async () => {
  const r = await mux('live');
  const file = join(dir, 'live.webm');
  writeFileSync(file, r.data);
  expect(r.mimeType).toBe('video/webm;codecs=vp8,opus');
  expect(r.audio).toMatchObject({ codec: 'opus', channels: 2, sampleRate: 48000, packets: 150 });
  expect(r.duration).toBeCloseTo(3, 3);
  const { streams, duration } = probeStreams(file);
  expect(streams.map((s) => `${s.codec_type}:${s.codec_name}`)).toEqual(['video:vp8', 'audio:opus']);
  expect(duration).toBeCloseTo(3, 2);
  expect(decodeErrors(file)).toBe('');

  const info = mkvinfo(file);
  expect(info).toMatch(/Codec's private data: size 19 hexdump 4f 70 75 73 48 65 61 64 01 02 38 01/);
  expect(info).toMatch(/Codec-inherent delay: 00:00:00\.006500000/);
  expect(info).toMatch(/Seek pre-roll: 00:00:00\.080000000/);
  const blocks = mkvBlocks(info);
  expect(blocks.filter((b) => b.track === 1)).toHaveLength(90);
  expect(blocks.filter((b) => b.track === 2)).toHaveLength(150);
  // In file order the times never go back, and every cluster (one per keyframe) holds both tracks.
  for (let i = 1; i < blocks.length; i++) expect(blocks[i].time).toBeGreaterThanOrEqual(blocks[i - 1].time);
  const clusters = new Map();
  for (const b of blocks) clusters.set(b.cluster, (clusters.get(b.cluster) || new Set()).add(b.track));
  expect(clusters.size).toBe(3);
  for (const tracks of clusters.values()) expect([...tracks].sort()).toEqual([1, 2]);

  // The sound is the input's (the first timestamp, the first frame's at 1 s, is the file's zero).
  const got = decodeAudio(file);
  const { snr: db, lag } = snr(source.pcm, got, 2);
  expect(Math.abs(lag)).toBeLessThanOrEqual(2);
  expect(db).toBeGreaterThan(30);
  const clicks = findClicks(got, 48000, 2);
  expect(clicks.map((t) => Math.round(t * 1000))).toEqual(source.clicks.map((t) => Math.round(t * 1000)));
});

test('the same file whatever the relative order of audio and video calls', async () => {
  const live = (await mux('live')).data;
  for (const order of ['video-first', 'audio-first', 'bursts']) {
    expect(Buffer.compare((await mux(order)).data, live)).toBe(0);
  }
});

test('a given OpusHead is written as is; its pre-skip becomes the CodecDelay', async () => {
  const head = new Uint8Array([0x4f, 0x70, 0x75, 0x73, 0x48, 0x65, 0x61, 0x64, 1, 2, 0x80, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 0]);
  const r = await mux('live', { codec: 'opus', sampleRate: 48000, channels: 2, codecPrivate: head });
  const file = join(dir, 'head.webm');
  writeFileSync(file, r.data);
  const info = mkvinfo(file);
  expect(info).toMatch(/hexdump 4f 70 75 73 48 65 61 64 01 02 80 01 80 bb 00 00 00 00 00/);
  expect(info).toMatch(/Codec-inherent delay: 00:00:00\.008000000/);  // 384 samples at 48 kHz
  expect(preSkip).toBe(312);
});

test('bad audio options and packets are refused with clear errors; the muxer keeps working', async () => {
  const base = { codec: 'vp8', width: W, height: H };
  await expect(WebmMuxer.create({ ...base, audio: { codec: 'opus', channels: 3 } })).rejects.toThrow(RangeError);
  await expect(WebmMuxer.create({ ...base, audio: { codec: 'aac', channels: 2 } })).rejects.toThrow(/audio.codec must be one of "opus"/);
  await expect(WebmMuxer.create({ ...base, audio: { codec: 'opus', channels: 2, sampleRate: 44100 } })).rejects.toThrow(/sampleRate must be one of/);
  await expect(WebmMuxer.create({ ...base, audio: { codec: 'opus', channels: 2, codecPrivate: 'OpusHead' } })).rejects.toThrow(TypeError);
  const notAHead = new TextEncoder().encode('OpusTags\x01\x02\x38\x01\x80\xbb\0\0\0\0\0');
  await expect(WebmMuxer.create({ ...base, audio: { codec: 'opus', channels: 2, codecPrivate: notAHead } }))
    .rejects.toThrow(/not an OpusHead: OpusHead: it does not start with "OpusHead"/);
  const mono = new Uint8Array([0x4f, 0x70, 0x75, 0x73, 0x48, 0x65, 0x61, 0x64, 1, 1, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 0]);
  await expect(WebmMuxer.create({ ...base, audio: { codec: 'opus', channels: 2, codecPrivate: mono } }))
    .rejects.toThrow(/the OpusHead has 1 channels but the audio track 2/);
  await expect(WebmMuxer.create({ ...base, audio: { codec: 'opus', channels: 2, codecPrivate: mono.subarray(0, 12) } }))
    .rejects.toThrow(/12 bytes, it needs at least 19/);

  const silent = await WebmMuxer.create(base);
  expect(() => silent.addAudio(audio[0].data, { timestampUs: 0 })).toThrow(/has no audio track/);
  silent.abort();

  const m = await WebmMuxer.create({ ...base, audio: { codec: 'opus', channels: 2 } });
  m.addFrame(video[0].data, { keyframe: true, timestampUs: 0 });
  m.addAudio(audio[0].data, { timestampUs: 0 });
  expect(() => m.addAudio(audio[1].data, { timestampUs: 0 })).toThrow(/audio timestamps must increase \(0 µs after 0 µs\)/);
  expect(() => m.addAudio(audio[1].data, { timestampUs: -5 })).toThrow(RangeError);
  expect(() => m.addAudio(audio[1].data)).toThrow(TypeError);
  expect(() => m.addAudio(audio[1].data, {})).toThrow(/timestampUs is required/);
  expect(() => m.addAudio(new Uint8Array(0), { timestampUs: 20_000 })).toThrow(/empty/);
  expect(() => m.addAudio(new Uint8Array([0xfb]), { timestampUs: 20_000 })).toThrow(/not Opus: opus packet: code 3 without its frame count byte/);
  expect(() => m.addAudio([1, 2, 3], { timestampUs: 20_000 })).toThrow(TypeError);
  for (let i = 1; i < 50; i++) m.addAudio(audio[i].data, { timestampUs: i * 20_000 });
  m.addFrame(video[1].data, { keyframe: false, timestampUs: 33_333 });
  const r = await m.finish();
  expect(r.audio.packets).toBe(50);
  expect(r.frames).toBe(2);
  expect(r.duration).toBeCloseTo(1, 6);  // the audio's end: 50 packets of 20 ms
  const file = join(dir, 'after-errors.webm');
  writeFileSync(file, r.data);
  expect(decodeErrors(file)).toBe('');
});

test('audio far ahead of the video is written after 10 s; a frame from before that is refused', async () => {
  const m = await WebmMuxer.create({ codec: 'vp8', width: W, height: H, audio: { codec: 'opus', channels: 2 } });
  m.addFrame(video[0].data, { keyframe: true, timestampUs: 0 });
  const enc = await OpusEncoder.create({ channels: 2 });
  const packets = enc.encode(new Float32Array(48000 * 2 * 12));
  enc.close();
  for (const p of packets) m.addAudio(p.data, { timestampUs: p.pts * 1e6 / 48000 });
  expect(() => m.addFrame(video[1].data, { keyframe: false, timestampUs: 1_000_000 }))
    .toThrow(/a video frame at 1000 ms comes after the file was written up to 1960 ms \(audio and video may run at most 10000 ms apart\)/);
  m.addFrame(video[1].data, { keyframe: false, timestampUs: 2_000_000 });
  const r = await m.finish();
  const file = join(dir, 'far.webm');
  writeFileSync(file, r.data);
  expect(decodeErrors(file)).toBe('');
  expect(r.audio.packets).toBe(600);
});

test('OpusEncoder on its own: packets timed by sample count, pre-skip, flush padding, closed after close()', async () => {
  const enc = await OpusEncoder.create({ sampleRate: 24000, channels: 1, bitrate: 24000, application: 'voip' });
  expect(enc).toMatchObject({ sampleRate: 24000, channels: 1, bitrate: 24000, frameSize: 480, preSkip: 312 });
  const a = enc.encode(new Int16Array(1000));
  expect(a.map((p) => p.pts)).toEqual([0, 480]);
  const b = enc.flush();
  expect(b).toHaveLength(1);
  expect(b[0]).toMatchObject({ pts: 960, duration: 480, padding: 440 });
  expect(enc.flush()).toEqual([]);
  enc.close();
  expect(() => enc.encode(new Float32Array(10))).toThrow(/closed/);
  await expect(OpusEncoder.create({ channels: 1, frameMs: 15 })).rejects.toThrow(/frameMs must be one of 2.5, 5, 10, 20, 40, 60/);
  await expect(OpusEncoder.create({ channels: 1, application: 'music' })).rejects.toThrow(/application/);
});
