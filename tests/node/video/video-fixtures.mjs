// Shared by the video tests and bench/video.bench.js: deterministic frames and the ffmpeg judges.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Frame `i` of a moving test pattern (RGBA): a scrolling colour gradient, a checkerboard that flips
 * every frame's 8x8 cells in a moving band, and a bright square travelling diagonally.
 */
export function patternFrame(width, height, i) {
  const data = new Uint8Array(width * height * 4);
  const sq = Math.max(8, width >> 3);
  const sx = (i * 3) % Math.max(1, width - sq);
  const sy = (i * 2) % Math.max(1, height - sq);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 4;
      data[p] = ((x + i * 4) * 255 / (width + 120)) & 255;
      data[p + 1] = (y * 255 / height) & 255;
      data[p + 2] = 96 + 64 * (((x >> 3) + (y >> 3) + (i >> 2)) & 1);
      data[p + 3] = 255;
      if (x >= sx && x < sx + sq && y >= sy && y < sy + sq) { data[p] = 240; data[p + 1] = 240; data[p + 2] = 40; }
    }
  }
  return { data, width, height };
}

export function tempDir(prefix = 'ck-video-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** ffprobe: codec, size, frames actually decoded (-count_frames), container duration. */
export function probe(file) {
  const out = execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries',
    'stream=codec_name,width,height,nb_read_frames:format=duration', '-of', 'json', file], { encoding: 'utf8' });
  const j = JSON.parse(out);
  const s = j.streams[0];
  return { codec: s.codec_name, width: s.width, height: s.height, frames: Number(s.nb_read_frames), duration: Number(j.format.duration) };
}

/**
 * Average PSNR (dB, Y/U/V and all) of the decoded video against the source frames, with ffmpeg's psnr
 * filter; the source goes in as rawvideo RGBA and is converted to yuv420p by ffmpeg (BT.601 limited, as
 * capturekit does), so the figure includes capturekit's RGBA->I420 conversion as well as the codec.
 */
export function psnr(file, frames, dir, { decoder } = {}) {
  const { width, height } = frames[0];
  const raw = join(dir, `source-${width}x${height}-${frames.length}.rgba`);
  writeFileSync(raw, Buffer.concat(frames.map((f) => Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength))));
  const args = ['-hide_banner', '-nostats'];
  if (decoder) args.push('-c:v', decoder);
  args.push('-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgba', '-s', `${width}x${height}`, '-i', raw,
    '-lavfi', '[1:v]format=yuv420p,settb=1,setpts=N[ref];[0:v]format=yuv420p,settb=1,setpts=N[dec];[dec][ref]psnr', '-f', 'null', '-');
  const r = spawnSync('ffmpeg', args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`ffmpeg failed (${r.status}):\n${r.stderr}`);
  return parsePsnr(r.stderr);
}

function parsePsnr(text) {
  const m = /PSNR y:([\d.inf]+) u:([\d.inf]+) v:([\d.inf]+) average:([\d.inf]+)/.exec(text);
  if (!m) throw new Error(`no PSNR in ffmpeg output:\n${text}`);
  const n = (s) => (s === 'inf' ? Infinity : Number(s));
  return { y: n(m[1]), u: n(m[2]), v: n(m[3]), average: n(m[4]) };
}

/**
 * Frames of a real rendered 3D game scene (a Cube 2 screenshot from Debian's emscripten package,
 * which the build installs) seen by a slowly turning and drifting camera: sub-pixel motion over real
 * textures, what the encoders' motion search, sub-pixel filters and loop filters work hardest on.
 * `noise` adds per-frame grain (camera-like). ffmpeg renders them.
 */
export function cameraFrames(width, height, count, { noise = 0 } = {}) {
  const side = Math.ceil(Math.hypot(width, height) * 1.25);
  const filters = [`scale=${side}:${side}:flags=lanczos`, 'rotate=0.01*n:bilinear=1',
    `crop=${width}:${height}:(iw-${width})/2-20+1.3*n:(ih-${height})/2-10+0.7*n`];
  if (noise) filters.push(`noise=alls=${noise}:allf=t`);
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-loop', '1', '-i', '/usr/share/emscripten/tests/screenshot.png',
    '-vf', filters.join(','), '-frames:v', String(count), '-pix_fmt', 'rgba', '-f', 'rawvideo', '-'],
  { maxBuffer: width * height * 4 * count + 1024 });
  const size = width * height * 4;
  return Array.from({ length: count }, (_, i) => ({
    data: new Uint8Array(raw.buffer, raw.byteOffset + i * size, size), width, height,
  }));
}
