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
  // -fps_mode drop: every decoded frame goes on, with fresh output times (a remote track's frames are not
  // evenly spaced, and MediaRecorder on a busy machine gives two frames the same millisecond; the null
  // output would fold them into one tick or refuse the repeated time, which says nothing of the decoding)
  const r = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-map', '0', '-fps_mode', 'drop', '-f', 'null', '-'], { encoding: 'utf8' });
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

/**
 * A/V sync judged against what the tracks delivered. Chromium's fake camera and microphone play their
 * files on timers of their own, and a busy machine delays those timers (the camera's flashes then come
 * up to 100 ms late, the microphone skips chunks), so a flash and its click are not always captured at
 * the same instant. `captured` (the page's watchCapture) says when each was captured (page clock, µs);
 * for each click in the file and the flash nearest to it, the offset in the file (audio minus video, s)
 * should be the offset at capture. Returns [{ file, captured, error }] (s), error = file - captured.
 */
export function syncErrors(flashes, clicks, captured) {
  const page = (t) => {
    const us = captured.startUs + t * 1e6;
    const span = captured.pausedSpan;
    return span && us >= span[0] ? us + (span[1] - span[0]) : us;
  };
  const nearest = (list, us) => {
    let best = null;
    for (const x of list) if (best === null || Math.abs(x - us) < Math.abs(best - us)) best = x;
    return best !== null && Math.abs(best - us) < 0.5e6 ? best : null;
  };
  const out = [];
  for (const c of clicks) {
    let f = null;
    for (const x of flashes) if (f === null || Math.abs(c - x) < Math.abs(c - f)) f = x;
    if (f === null || Math.abs(c - f) >= PERIOD / 2) continue;
    const tc = nearest(captured.clicks, page(c));
    const tf = nearest(captured.flashes, page(f));
    if (tc === null || tf === null) continue;
    const at = (tc - tf) / 1e6;
    out.push({ file: c - f, captured: at, error: c - f - at });
  }
  return out;
}
