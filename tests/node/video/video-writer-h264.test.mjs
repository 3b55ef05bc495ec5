// VideoWriter with codec 'h264' in Node: RGBA frames through OpenH264 (the capturekit-h264 module) and
// PCM through libopus into MP4 (avc1 + avcC, Opus + dOps), progressive in memory and fragmented through
// ondata. Judges: ffprobe (codec, frames, duration), a full ffmpeg decode, ffmpeg's psnr filter against
// the input frames, mediabunny's reader. H.264 in WebM and other misuse refused with clear errors.
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VideoWriter } from '../../../js-glue/index.js';
import { isH264Loaded } from '../../../js-glue/h264.js';
import { patternFrame, psnr, tempDir } from './video-fixtures.mjs';
import { probeMp4 } from './mp4-probe.mjs';

const W = 320;
const H = 240;
const N = 90;
// Measured here: 43.9 dB average (Y 44.2) for this pattern at 1 Mb/s (the same stream as
// tests/node/h264: the muxing changes no pixel). The floor catches a wrong conversion, a swapped
// plane or a frame out of place (each costs well over 10 dB), not a rate-control change.
const PSNR_FLOOR_DB = 34;
const frames = Array.from({ length: N }, (_, i) => patternFrame(W, H, i));
let dir;
beforeAll(() => { dir = tempDir('ck-writer-h264-'); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ffprobe(file) {
  return JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-count_packets', '-count_frames', '-show_entries',
    'stream=codec_name,profile,width,height,nb_read_packets,nb_read_frames:format=duration', '-of', 'json', file], { encoding: 'utf8' }));
}

test.each(['progressive', 'fragmented'])('H.264 + Opus in a %s MP4: ffprobe, ffmpeg, PSNR and mediabunny', async (layout) => {
  const chunks = [];
  const w = await VideoWriter.create({ codec: 'h264', container: 'mp4', width: W, height: H, fps: 30, bitrate: 1_000_000,
    keyframeInterval: 30, audio: { sampleRate: 48000, channels: 1 },
    ...(layout === 'fragmented' ? { ondata: (bytes, offset) => { chunks.push({ bytes: bytes.slice(), offset }); } } : {}) });
  expect(isH264Loaded()).toBe(true);
  expect(w.codec).toBe('h264');
  for (let i = 0; i < N; i++) {
    w.addFrame(frames[i]);
    w.addAudio(new Float32Array(1600).map((_, k) => 0.3 * Math.sin((2 * Math.PI * 440 * (i * 1600 + k)) / 48000)));
  }
  const r = await w.finish();
  expect(r).toMatchObject({ codec: 'h264', container: 'mp4', layout, frames: N, keyframes: 3 });
  expect(r.mimeType).toMatch(/^video\/mp4; codecs="avc1\.42[0-9a-f]{4}, opus"$/);
  expect(r.duration).toBeCloseTo(3, 3);
  let bytes = r.data;
  if (layout === 'fragmented') {
    bytes = new Uint8Array(r.bytes);
    for (const c of chunks) bytes.set(c.bytes, c.offset);
  }
  const file = join(dir, `${layout}.mp4`);
  writeFileSync(file, bytes);
  const p = ffprobe(file);
  expect(p.streams.map((s) => `${s.codec_name}:${s.nb_read_packets}`)).toEqual(['h264:90', 'opus:150']);
  expect(p.streams[0]).toMatchObject({ profile: 'Constrained Baseline', width: W, height: H, nb_read_frames: '90' });
  expect(Number(p.format.duration)).toBeCloseTo(3, 1);
  const decode = spawnSync('ffmpeg', ['-v', 'error', '-xerror', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' });
  expect([decode.status, decode.stderr.trim()]).toEqual([0, '']);
  expect(psnr(file, frames, dir).average).toBeGreaterThan(PSNR_FLOOR_DB);
  const mb = await probeMp4(bytes);
  expect(mb.tracks.map((t) => `${t.type}:${t.codec}:${t.packets}:${t.keyPackets ?? ''}`))
    .toEqual(['video:avc:90:3', expect.stringMatching(/^audio:opus:150:/)]);
  expect(mb.duration).toBeCloseTo(3, 1);
}, 120_000);

test('timestamps from any clock, flipY and a key frame once keyframeInterval / fps seconds have passed', async () => {
  const w = await VideoWriter.create({ codec: 'h264', container: 'mp4', width: W, height: H, fps: 30, keyframeInterval: 30, flipY: true });
  // 20 frames 1/30 s apart, then a 2 s gap: the frame after it is a key frame (30 frames' time passed).
  const t0 = 5e9;
  const upsideDown = (i) => {  // frame i bottom-up, as WebGL's readPixels gives it
    const f = frames[i];
    const flipped = new Uint8Array(f.data.length);
    for (let y = 0; y < H; y++) flipped.set(f.data.subarray((H - 1 - y) * W * 4, (H - y) * W * 4), y * W * 4);
    return { data: flipped, width: W, height: H };
  };
  for (let i = 0; i < 20; i++) w.addFrame(upsideDown(i), { timestampUs: t0 + i * 1e6 / 30 });
  w.addFrame(upsideDown(20), { timestampUs: t0 + 2.7e6 });
  expect(() => w.addFrame(upsideDown(21), { timestampUs: t0 + 2.7e6 })).toThrow(/must increase/);
  w.addFrame(upsideDown(21));  // auto: 1/30 s after the last given one
  const r = await w.finish();
  expect(r.frames).toBe(22);
  expect(r.keyframes).toBe(2);
  const file = join(dir, 'timed.mp4');
  writeFileSync(file, r.data);
  const pts = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time,flags', '-of', 'csv=p=0', file], { encoding: 'utf8' })
    .trim().split('\n').map((l) => l.split(','));
  expect(pts.length).toBe(22);
  expect(Number(pts[20][0])).toBeCloseTo(2.7, 3);
  expect(pts[20][1]).toMatch(/^K/);
  expect(Number(pts[21][0])).toBeCloseTo(2.7 + 1 / 30, 3);
  // Upright after flipY: the decoded frames match the pattern the right way up (two of the 22 left
  // upside down measured 21 dB).
  expect(psnr(file, frames.slice(0, 22), dir).y).toBeGreaterThan(PSNR_FLOOR_DB - 4);
});

test('H.264 in WebM, odd sizes, speed and metadata are refused with errors that say why', async () => {
  await expect(VideoWriter.create({ codec: 'h264', width: W, height: H }))
    .rejects.toThrow(new TypeError("VideoWriter.create: H.264 is not stored in WebM; use container 'mp4' with codec 'h264'"));
  await expect(VideoWriter.create({ codec: 'h264', container: 'webm', width: W, height: H })).rejects.toThrow(TypeError);
  await expect(VideoWriter.create({ codec: 'h264', container: 'mp4', width: 321, height: H })).rejects.toThrow(/width 321 is odd/);
  await expect(VideoWriter.create({ codec: 'h264', container: 'mp4', width: W, height: H, speed: 5 })).rejects.toThrow(/speed is libvpx/);
  const w = await VideoWriter.create({ codec: 'h264', container: 'mp4', width: W, height: H });
  await expect(w.finish()).rejects.toThrow(/no frames/);
  expect(() => w.addFrame(frames[0], { metadata: { pose: 1 } })).toThrow(/no per-frame metadata/);
  expect(() => w.addFrame(patternFrame(160, 120, 0))).toThrow(/160x120 but the video is 320x240/);
  expect(() => w.addAudio(new Float32Array(10))).toThrow(/no audio track/);
  w.addFrame(frames[0]);
  const r = await w.finish();
  expect(r.frames).toBe(1);
  expect(() => w.addFrame(frames[1])).toThrow(/finished/);
  const a = await VideoWriter.create({ codec: 'h264', container: 'mp4', width: W, height: H });
  a.addFrame(frames[0]);
  a.abort();
  expect(() => a.addFrame(frames[1])).toThrow(/aborted/);
});
