// VideoWriter with PCM audio on the real wasm builds in Node: VP8/VP9 + Opus (libopus in the separate
// audio module) judged by ffprobe, ffmpeg and mkvinfo; the decoded sound against the input (SNR at the
// best alignment, and the clicks where they were put); bad input refused with clear errors.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VideoWriter, isAudioLoaded } from '../../../js-glue/index.js';
import { patternFrame, tempDir } from '../video/video-fixtures.mjs';
import { decodeAudio, decodeErrors, findClicks, mkvinfo, probePackets, probeStreams, sineWithClicks, snr } from './audio-fixtures.mjs';

const W = 96;
const H = 64;
const FPS = 30;
const SECONDS = 4;
// Measured on this build: 37.3 dB (mono, 64 kb/s) and 39.7 dB (stereo, 96 kb/s) for the sine with
// clicks; the floor leaves room for float rounding elsewhere, not for a misalignment (one sample off
// already costs ~10 dB at 3 kHz; a pre-skip ignored, < 0 dB).
const SNR_FLOOR_DB = 30;
const frames = Array.from({ length: 8 }, (_, i) => patternFrame(W, H, i));
let dir;

beforeAll(() => { dir = tempDir('ck-audio-'); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A recording as a live one would make it: one frame, then the audio heard during that frame, in
// uneven chunks (what an audio callback hands over).
async function record(codec, channels, { rate = 48000, seconds = SECONDS, chunk = 1000, timestamps = false } = {}) {
  const { pcm, clicks } = sineWithClicks(seconds, rate, channels);
  const w = await VideoWriter.create({ codec, width: W, height: H, fps: FPS, bitrate: 300_000, audio: { sampleRate: rate, channels } });
  const total = pcm.length / channels;
  let given = 0;
  const n = Math.round(seconds * FPS);
  for (let i = 0; i < n; i++) {
    w.addFrame(frames[i % frames.length], timestamps ? { timestampUs: 1e9 + i * 1e6 / FPS } : {});
    const until = Math.min(total, Math.round((i + 1) * rate / FPS));
    while (given < until) {
      const take = Math.min(chunk + (given % 3) * 17, until - given);
      const piece = pcm.subarray(given * channels, (given + take) * channels);
      w.addAudio(piece, timestamps ? { timestampUs: 1e9 + given * 1e6 / rate } : {});
      given += take;
    }
  }
  const result = await w.finish();
  const file = join(dir, `${codec}-${channels}ch-${rate}.webm`);
  writeFileSync(file, result.data);
  return { result, file, pcm, clicks };
}

describe.each([
  ['vp8', 1],
  ['vp9', 2],
])('%s + Opus, %i channel(s)', (codec, channels) => {
  let rec;
  beforeAll(async () => { rec = await record(codec, channels); });

  test('ffprobe finds one video and one Opus stream; durations match within a frame; ffmpeg decodes every packet', () => {
    const { streams, duration } = probeStreams(rec.file);
    expect(streams.map((s) => `${s.codec_type}:${s.codec_name}`)).toEqual([`video:${codec}`, 'audio:opus']);
    expect(streams[1].channels).toBe(channels);
    expect(Number(streams[1].sample_rate)).toBe(48000);
    const packets = probePackets(rec.file);
    const end = (k) => Math.max(...packets.filter((p) => p.stream === k).map((p) => p.pts + p.duration));
    expect(Math.abs(end(0) - SECONDS)).toBeLessThan(1 / FPS);
    // Opus packets show at their time minus the codec delay (6.5 ms); 200 packets of 20 ms.
    expect(packets.filter((p) => p.stream === 1)).toHaveLength(SECONDS * 50);
    expect(Math.abs(end(1) + 0.0065 - SECONDS)).toBeLessThan(1 / FPS);
    expect(Math.abs(duration - SECONDS)).toBeLessThan(1 / FPS);
    expect(decodeErrors(rec.file)).toBe('');
    expect(rec.result).toMatchObject({ codec, mimeType: `video/webm;codecs=${codec},opus`, frames: SECONDS * FPS,
      audio: { codec: 'opus', sampleRate: 48000, channels, packets: SECONDS * 50 } });
    expect(rec.result.audio.duration).toBeCloseTo(SECONDS, 6);
    expect(rec.result.duration).toBeCloseTo(SECONDS, 6);
  });

  test('mkvinfo shows the OpusHead CodecPrivate, CodecDelay and SeekPreRoll', () => {
    const info = mkvinfo(rec.file);
    expect(info).toMatch(/Codec ID: A_OPUS/);
    // "OpusHead", version 1, channels, pre-skip 312 (0x0138), input rate 48000 (0xbb80), gain 0, family 0.
    expect(info).toMatch(new RegExp(`Codec's private data: size 19 hexdump 4f 70 75 73 48 65 61 64 01 0${channels} 38 01 80 bb 00 00 00 00 00`));
    expect(info).toMatch(/Codec-inherent delay: 00:00:00\.006500000/);
    expect(info).toMatch(/Seek pre-roll: 00:00:00\.080000000/);
  });

  test(`the decoded audio matches the input (SNR above ${SNR_FLOOR_DB} dB, aligned) and the clicks are where they were put`, () => {
    const got = decodeAudio(rec.file);
    const { snr: db, lag } = snr(rec.pcm, got, channels);
    console.log(`${codec} ${channels}ch: SNR ${db.toFixed(1)} dB at lag ${lag} samples`);
    expect(Math.abs(lag)).toBeLessThanOrEqual(2);  // the pre-skip is honoured: no shift
    expect(db).toBeGreaterThan(SNR_FLOOR_DB);
    const found = findClicks(got, 48000, channels);
    expect(found).toHaveLength(rec.clicks.length);
    for (let i = 0; i < found.length; i++) expect(Math.abs(found[i] - rec.clicks[i])).toBeLessThan(0.003);
  });
});

test('a lower input rate, timestamps from a clock, and planar input land at the same times', async () => {
  const { file, clicks } = await record('vp8', 1, { rate: 16000, timestamps: true, chunk: 333 });
  expect(decodeErrors(file)).toBe('');
  expect(mkvinfo(file)).toMatch(/hexdump 4f 70 75 73 48 65 61 64 01 01 38 01 80 3e 00 00/);  // input rate 16000
  const found = findClicks(decodeAudio(file), 48000, 1);
  expect(found).toHaveLength(clicks.length);
  for (let i = 0; i < found.length; i++) expect(Math.abs(found[i] - clicks[i])).toBeLessThan(0.003);

  // Planar stereo gives the same file as interleaved stereo.
  const { pcm } = sineWithClicks(1, 48000, 2);
  const planes = [new Float32Array(48000), new Float32Array(48000)];
  for (let i = 0; i < 48000; i++) { planes[0][i] = pcm[2 * i]; planes[1][i] = pcm[2 * i + 1]; }
  const files = [];
  for (const input of [pcm, planes]) {
    const w = await VideoWriter.create({ width: W, height: H, audio: { channels: 2 } });
    for (let i = 0; i < 30; i++) w.addFrame(frames[i % frames.length]);
    w.addAudio(input);
    files.push((await w.finish()).data);
  }
  expect(Buffer.compare(files[0], files[1])).toBe(0);
});

test('a gap in the audio timestamps is filled with silence; what follows plays at its time', async () => {
  const w = await VideoWriter.create({ width: W, height: H, audio: { channels: 1 } });
  const { pcm } = sineWithClicks(1, 48000, 1);
  for (let i = 0; i < 90; i++) w.addFrame(frames[i % frames.length], { timestampUs: 5e6 + i * 1e6 / 30 });
  w.addAudio(pcm.subarray(0, 24000), { timestampUs: 5e6 });
  w.addAudio(pcm.subarray(0, 24000), { timestampUs: 7e6 });  // 1.5 s of silence before it
  const r = await w.finish();
  const file = join(dir, 'gap.webm');
  writeFileSync(file, r.data);
  expect(r.audio.duration).toBeCloseTo(2.5, 2);
  const got = decodeAudio(file);
  let loud = 0;
  for (let i = Math.round(0.6 * 48000); i < Math.round(1.9 * 48000); i++) loud = Math.max(loud, Math.abs(got[i]));
  expect(loud).toBeLessThan(0.01);
  let after = 0;
  for (let i = Math.round(2.1 * 48000); i < Math.round(2.4 * 48000); i++) after = Math.max(after, Math.abs(got[i]));
  expect(after).toBeGreaterThan(0.2);
});

test('bad audio input is refused with clear errors, and the writer keeps working', async () => {
  await expect(VideoWriter.create({ width: W, height: H, audio: { channels: 3 } })).rejects.toThrow(RangeError);
  await expect(VideoWriter.create({ width: W, height: H, audio: { channels: 1, sampleRate: 44100 } })).rejects.toThrow(/sampleRate must be one of 8000, 12000, 16000, 24000, 48000/);
  await expect(VideoWriter.create({ width: W, height: H, audio: { channels: 1, bitrate: 1 } })).rejects.toThrow(/bitrate/);
  await expect(VideoWriter.create({ width: W, height: H, audio: { channels: 1, volume: 2 } })).rejects.toThrow(/unknown option "volume"/);

  const silent = await VideoWriter.create({ width: W, height: H });
  expect(() => silent.addAudio(new Float32Array(960))).toThrow(/has no audio track/);
  silent.abort();

  const w = await VideoWriter.create({ width: W, height: H, audio: { channels: 2 } });
  expect(isAudioLoaded()).toBe(true);
  w.addFrame(frames[0]);
  expect(() => w.addAudio(new Float32Array(961))).toThrow(/961 interleaved samples are not a whole number of 2-channel frames/);
  expect(() => w.addAudio([new Float32Array(960)])).toThrow(/1 channel arrays but the audio has 2 channels/);
  expect(() => w.addAudio([new Float32Array(960), new Float32Array(950)])).toThrow(/channel 1 has 950 samples/);
  expect(() => w.addAudio(new Float64Array(960))).toThrow(TypeError);
  expect(() => w.addAudio([1, 2])).toThrow(TypeError);
  const nan = new Float32Array(1920);
  nan[1001] = NaN;
  expect(() => w.addAudio(nan)).toThrow(RangeError);
  expect(() => w.addAudio(nan)).toThrow(/VideoWriter\.addAudio: opus encoder: sample 1001 is NaN/);
  expect(() => w.addAudio(new Float32Array(1920), { timestamp: 0 })).toThrow(/unknown option "timestamp"/);
  w.addAudio(new Float32Array(48000 * 2), { timestampUs: 0 });
  expect(() => w.addAudio(new Float32Array(1920), { timestampUs: 500_000 })).toThrow(/overlap the audio already given/);
  expect(() => w.addAudio(new Float32Array(1920), { timestampUs: -1 })).toThrow(/before the start of the recording/);
  expect(() => w.addAudio(new Float32Array(1920), { timestampUs: 100e6 })).toThrow(/longer than the 60 s/);
  w.addAudio(new Float32Array(1920), { timestampUs: 1_000_000 });
  w.addFrame(frames[1]);
  const r = await w.finish();
  expect(r.frames).toBe(2);
  expect(r.audio.packets).toBe(51);  // 1 s (50 packets) + 20 ms
  const file = join(dir, 'after-errors.webm');
  writeFileSync(file, r.data);
  expect(decodeErrors(file)).toBe('');
  expect(() => w.addAudio(new Float32Array(960))).toThrow(/already finished/);
});
