// Shared by the record-stream*.test.mjs files: fake capture files with known content, the Chromium
// flags that feed them to getUserMedia / getDisplayMedia, and the judges (ffprobe, ffmpeg decodes,
// flash and click times for A/V sync).
//
// The fake camera (a y4m file, 320x240 at 30 fps) shows a white top half for two frames every 2 s
// (black otherwise) and a bottom half whose grey level counts the frames (to see repeats); the fake
// microphone (a wav file, 48 kHz mono) clicks (20 ms of 1 kHz) at the same instants. Chromium loops both
// files, so they are 4 s long: a whole number of flash periods.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const FPS = 30;
export const PERIOD = 2;

export function makeFakeCapture(dir) {
  const video = join(dir, 'flash.y4m');
  const audio = join(dir, 'click.wav');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `color=black:s=320x240:r=${FPS}:d=4`,
    '-vf', `geq=lum='if(lt(Y\\,120)\\,if(lt(mod(N\\,${PERIOD * FPS})\\,2)\\,235\\,16)\\,32+mod(N\\,60)*3)':cb=128:cr=128`,
    '-pix_fmt', 'yuv420p', video]);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i',
    `aevalsrc='if(lt(mod(t\\,${PERIOD})\\,0.02)\\,0.8*sin(2*PI*1000*t)\\,0)':s=48000:d=4`, '-ac', '1', audio]);
  return { video, audio };
}

export function fakeCaptureArgs(files) {
  return ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    '--auto-select-desktop-capture-source=Entire screen', '--autoplay-policy=no-user-gesture-required',
    `--use-file-for-fake-video-capture=${files.video}`, `--use-file-for-fake-audio-capture=${files.audio}`];
}

/** ffprobe's streams (codec, type, frames counted by decoding) and the container duration. */
export function probeStreams(file) {
  const out = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-show_entries',
    'stream=codec_type,codec_name,width,height,nb_read_frames,channels,sample_rate:format=duration', '-of', 'json', file], { encoding: 'utf8' }));
  return { streams: out.streams, duration: Number(out.format.duration) };
}

/** ffmpeg decodes every packet of every stream without a word on stderr. */
export function decodesCleanly(file) {
  // -fps_mode passthrough -enc_time_base -1: frames keep their own times (a remote track's are not evenly
  // spaced; a constant-rate output would fold two of them into one tick and complain)
  const r = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-map', '0', '-fps_mode', 'passthrough', '-enc_time_base', '-1', '-f', 'null', '-'], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

/** Video frames: [{ t, top, bottom }] (pts in s, mean luma of the top half and of the bottom half). */
export function frameLevels(file) {
  const stats = (crop) => JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-f', 'lavfi', `movie=${file},${crop},signalstats`,
    '-show_entries', 'frame=pts_time:frame_tags=lavfi.signalstats.YAVG', '-of', 'json'], { encoding: 'utf8', maxBuffer: 1 << 26 })).frames;
  const top = stats('crop=iw:ih/2-8:0:0');
  const bottom = stats('crop=iw:ih/2-8:0:ih/2+8');
  return top.map((f, i) => ({ t: Number(f.pts_time), top: Number(f.tags['lavfi.signalstats.YAVG']), bottom: Number(bottom[i].tags['lavfi.signalstats.YAVG']) }));
}

/** Times (s) the flashes start: the top half turns white. */
export function flashTimes(frames) {
  const out = [];
  let prev = 0;
  for (const f of frames) {
    if (f.top > 128 && prev <= 128) out.push(f.t);
    prev = f.top;
  }
  return out;
}

/** Times (s) the clicks start in the first audio stream (after at least half a second of quiet). */
export function clickTimes(file) {
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:a:0', '-ac', '1', '-ar', '48000', '-f', 'f32le', '-'], { maxBuffer: 1 << 28 });
  const pcm = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
  const out = [];
  let quiet = 48000;
  for (let i = 0; i < pcm.length; i++) {
    if (Math.abs(pcm[i]) > 0.2) {
      if (quiet > 24000) out.push(i / 48000);
      quiet = 0;
    } else quiet++;
  }
  return out;
}

/** Each click against the flash nearest to it: the offsets (s, audio minus video). */
export function avOffsets(flashes, clicks) {
  return clicks.map((c) => {
    let best = null;
    for (const f of flashes) if (best === null || Math.abs(c - f) < Math.abs(c - best)) best = f;
    return best === null ? null : c - best;
  }).filter((x) => x !== null && Math.abs(x) < PERIOD / 2);
}

/** Seconds of sound the first audio stream decodes to. */
export function audioSeconds(file) {
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:a:0', '-ac', '1', '-ar', '48000', '-f', 'f32le', '-'], { maxBuffer: 1 << 28 });
  return raw.length / 4 / 48000;
}
