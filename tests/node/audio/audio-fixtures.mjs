// Shared by the audio tests and bench/audio.bench.js: a test signal with known events, and the judges
// (ffmpeg decodes, SNR against the input with the best alignment, where the clicks are).
import { execFileSync, spawnSync } from 'node:child_process';

/**
 * `seconds` of a 440 Hz sine (amplitude 0.3) with a click every second (a 3 ms burst of 3 kHz at 0.6,
 * starting at k + 0.25 s), interleaved Float32 at `rate` for `channels` channels (the right channel a
 * little quieter). Returns { pcm, clicks: [seconds...] }.
 */
export function sineWithClicks(seconds, rate = 48000, channels = 1) {
  const n = Math.round(seconds * rate);
  const pcm = new Float32Array(n * channels);
  const clicks = [];
  for (let k = 0; k + 0.25 + 0.003 < seconds; k++) clicks.push(k + 0.25);
  const burst = Math.round(0.003 * rate);
  const starts = new Set(clicks.map((t) => Math.round(t * rate)));
  let clickLeft = 0;
  for (let i = 0; i < n; i++) {
    if (starts.has(i)) clickLeft = burst;
    let v = 0.3 * Math.sin(2 * Math.PI * 440 * i / rate);
    if (clickLeft > 0) {
      v += 0.6 * Math.sin(2 * Math.PI * 3000 * (burst - clickLeft) / rate);
      clickLeft--;
    }
    for (let c = 0; c < channels; c++) pcm[i * channels + c] = c === 0 ? v : 0.8 * v;
  }
  return { pcm, clicks };
}

/** The file's audio decoded by ffmpeg to interleaved Float32 at `rate` (pre-skip and padding applied). */
export function decodeAudio(file, rate = 48000) {
  const out = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:a:0', '-f', 'f32le', '-ar', String(rate), '-'],
    { maxBuffer: 1 << 28 });
  return new Float32Array(out.buffer, out.byteOffset, out.byteLength / 4);
}

/**
 * SNR (dB) of `got` against `want` (interleaved, `channels`), at the lag (in sample frames, within
 * ±maxLag) where they line up best; skips the first `skip` frames. Returns { snr, lag }.
 */
export function snr(want, got, channels, { maxLag = 480, skip = 4800 } = {}) {
  const frames = Math.min(want.length, got.length) / channels - maxLag;
  let best = { corr: -Infinity, lag: 0 };
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    let corr = 0;
    for (let i = skip; i < frames; i += 7) corr += want[i * channels] * got[(i + lag) * channels];
    if (corr > best.corr) best = { corr, lag };
  }
  let s = 0;
  let e = 0;
  for (let i = skip; i < frames; i++) {
    for (let c = 0; c < channels; c++) {
      const w = want[i * channels + c];
      const d = w - got[(i + best.lag) * channels + c];
      s += w * w;
      e += d * d;
    }
  }
  return { snr: 10 * Math.log10(s / Math.max(e, 1e-20)), lag: best.lag };
}

/**
 * Where the clicks are (seconds), from channel 0: onsets of the first difference above `threshold`
 * (the 440 Hz sine's stays under 0.02; a 3 kHz burst at 0.6 reaches about 0.23), at least 0.5 s apart.
 */
export function findClicks(pcm, rate, channels, threshold = 0.1) {
  const found = [];
  let last = -Infinity;
  for (let i = 1; i < pcm.length / channels; i++) {
    const d = Math.abs(pcm[i * channels] - pcm[(i - 1) * channels]);
    if (d > threshold && i - last > rate / 2) {
      found.push(i / rate);
      last = i;
    }
  }
  return found;
}

/** ffprobe's packets: [{ stream, pts, duration }] (seconds). */
export function probePackets(file) {
  const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'packet=stream_index,pts_time,duration_time',
    '-of', 'csv=p=0', file], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return out.trim().split('\n').filter(Boolean).map((l) => {
    const [stream, pts, duration] = l.split(',');
    return { stream: Number(stream), pts: Number(pts), duration: Number(duration) };
  });
}

/** Streams as ffprobe sees them: [{ codec_type, codec_name, channels?, sample_rate? }]. */
export function probeStreams(file) {
  const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name,channels,sample_rate:format=duration',
    '-of', 'json', file], { encoding: 'utf8' });
  const j = JSON.parse(out);
  return { streams: j.streams, duration: Number(j.format.duration) };
}

/** mkvinfo -a -X: every element, with the CodecPrivate as hex. */
export function mkvinfo(file) {
  return execFileSync('mkvinfo', ['-a', '-X', file], { encoding: 'utf8', maxBuffer: 1 << 26 });
}

/**
 * The blocks in file order from mkvinfo's listing: [{ cluster, track, time }] (time in seconds), to check
 * that clusters hold both tracks and the file is in time order.
 */
export function mkvBlocks(info) {
  const blocks = [];
  let cluster = -1;
  for (const line of info.split('\n')) {
    if (/^\|\+ Cluster/.test(line)) cluster++;
    const m = line.match(/(?:Simple block|Block): .*track number (\d+), \d+ frame\(s\), timestamp (\d+):(\d+):([\d.]+)/);
    if (m) blocks.push({ cluster, track: Number(m[1]), time: Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]) });
  }
  return blocks;
}

/** ffmpeg decodes every packet without a word. Returns its stderr ('' when clean). */
export function decodeErrors(file) {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' });
  return r.status === 0 ? r.stderr : `exit ${r.status}: ${r.stderr}`;
}
