// VideoWriter with `container: 'mp4'`: RGBA frames + PCM through libvpx VP9 and libopus into MP4
// (vp09 + vpcC, Opus + dOps), progressive in memory and fragmented through ondata. Judges: ffprobe,
// a full ffmpeg decode, mediabunny; what MP4 cannot hold refused as a TypeError.
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VideoWriter } from '../../../js-glue/index.js';
import { patternFrame, tempDir } from './video-fixtures.mjs';
import { probeMp4 } from './mp4-probe.mjs';

const W = 160;
const H = 120;
let dir;
beforeAll(() => { dir = tempDir('ck-writer-mp4-'); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function write(options) {
  const w = await VideoWriter.create({ codec: 'vp9', width: W, height: H, fps: 30, container: 'mp4',
    audio: { sampleRate: 48000, channels: 2 }, ...options });
  for (let i = 0; i < 60; i++) {
    w.addFrame(patternFrame(W, H, i));
    const pcm = new Float32Array(1600 * 2).map((_, k) => 0.3 * Math.sin((2 * Math.PI * 440 * (i * 1600 + (k >> 1))) / 48000));
    w.addAudio(pcm);
  }
  return w.finish();
}

test.each(['progressive', 'fragmented'])('VP9 + Opus in a %s MP4: ffprobe, ffmpeg and mediabunny read 60 frames and 2 s', async (layout) => {
  const chunks = [];
  const r = layout === 'fragmented'
    ? await write({ ondata: (bytes, offset) => { chunks.push({ bytes: bytes.slice(), offset }); } })
    : await write({});
  expect(r.container).toBe('mp4');
  expect(r.layout).toBe(layout);
  expect(r.mimeType).toBe('video/mp4; codecs="vp09.00.10.08, opus"');
  expect(r.frames).toBe(60);
  expect(r.duration).toBeCloseTo(2, 3);
  let bytes = r.data;
  if (layout === 'fragmented') {
    bytes = new Uint8Array(r.bytes);
    for (const c of chunks) bytes.set(c.bytes, c.offset);
    expect(r.blob).toBeUndefined();
  } else {
    expect(r.blob.type).toBe(r.mimeType);
  }
  const file = join(dir, `${layout}.mp4`);
  writeFileSync(file, bytes);
  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-count_packets', '-show_entries',
    'stream=codec_name,nb_read_packets:format=duration', '-of', 'json', file], { encoding: 'utf8' }));
  expect(probe.streams.map((s) => `${s.codec_name}:${s.nb_read_packets}`)).toEqual(['vp9:60', 'opus:100']);
  expect(Number(probe.format.duration)).toBeCloseTo(2, 1);
  const decode = spawnSync('ffmpeg', ['-v', 'error', '-xerror', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' });
  expect([decode.status, decode.stderr.trim()]).toEqual([0, '']);
  const mb = await probeMp4(bytes);
  expect(mb.tracks.map((t) => `${t.type}:${t.codec}:${t.packets}`)).toEqual(['video:vp9:60', 'audio:opus:100']);
  expect(mb.duration).toBeCloseTo(2, 1);
}, 120_000);

test('what MP4 cannot hold is a TypeError that says so', async () => {
  await expect(VideoWriter.create({ codec: 'vp8', width: W, height: H, container: 'mp4' }))
    .rejects.toThrow(new TypeError("VideoWriter.create: VP8 cannot be stored in MP4; use codec 'vp9' or container 'webm'"));
  await expect(VideoWriter.create({ width: W, height: H, container: 'mov' })).rejects.toThrow(/container/);
  await expect(VideoWriter.create({ width: W, height: H, layout: 'progressive' })).rejects.toThrow(/MP4 option/);
  const w = await VideoWriter.create({ width: W, height: H, container: 'mp4' });
  expect(w.codec).toBe('vp9'); // the MP4 default
  expect(() => w.addFrame(patternFrame(W, H, 0), { metadata: { pose: 1 } })).toThrow(/no per-frame metadata/);
  w.addFrame(patternFrame(W, H, 0));
  const r = await w.finish();
  expect(r.frames).toBe(1);
  expect(r.mimeType).toBe('video/mp4; codecs="vp09.00.10.08"');
});
