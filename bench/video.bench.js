// Video encoding: capturekit's VideoWriter (wasm SIMD and baseline builds of libvpx 1.12 + libwebm) vs
// webm-wasm from npm (libvpx VP8 + libwebm + libyuv, older Emscripten; VP8 only) vs the same C++ built
// natively (g++ -O3 -march=native, linked to Debian's libvpx with its x86 SIMD assembly).
// Same frames, same target bitrate, one thread each. Encoding speed in frames per second of CPU time
// (frame copy into wasm + RGBA->YUV + encode + mux; generating/reading frames is not timed; CPU time
// because the machine is shared: wall-clock fps is shown too) and PSNR of the decoded result against the
// source (ffmpeg psnr filter, Y plane and all planes, after BT.601 conversion).
//
// Frames: 150 (5 s at 30 fps: long enough for rate control, and for webm-wasm's automatic speed, to
// settle) deterministic frames of four kinds:
//   scene  the test suite's moving pattern (tests/node/video/video-fixtures.mjs): smooth gradients, a
//          checkerboard, a moving square: screen/XR-render-like content.
//   pan    a photo-like noise texture panning 4 px right and 2 px down per frame under colour gradients,
//          plus a moving square: camera-pan-like motion with fine detail (whole pixels).
//   game   a real rendered 3D game frame seen by a slowly turning and drifting camera (sub-pixel).
//   zoom   ffmpeg's Mandelbrot zoom: new fine detail every frame, more than 2.5 Mbit/s carries at 720p
//          (PSNR around 34 dB: the starved regime, where encoder decisions matter most).
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { VideoWriter } from '../js-glue/video/video-writer.js';
import { loadVideoVariant } from '../js-glue/video.js';
import { patternFrame } from '../tests/node/video/video-fixtures.mjs';
import { fmt, table } from './timing.js';

const root = new URL('../', import.meta.url);
// CK_VIDEO_FRAMES, CK_VIDEO_CONTENT (comma list) and CK_VIDEO_CONFIGS (e.g. "vp8:1280x720:-6") narrow
// the run for experiments; the defaults are the reported benchmark.
const FRAMES = Number(process.env.CK_VIDEO_FRAMES) || 150;
const FPS = 30;
const BITRATE = 2_500_000;
// Keyframes every 128 frames for every encoder here: libvpx's default, which webm-wasm keeps (it has no
// option for it). capturekit's own default is 2 s, so that a recording's cues are never further apart;
// comparing encoders with different keyframe spacing would compare keyframe counts, not encoders.
const KEYFRAME_INTERVAL = 128;

function benchFrame(w, h, i) {
  const data = new Uint8Array(w * h * 4);
  const dx = i * 4;
  const dy = i * 2;
  const sq = h >> 3;
  const sx = (i * 11) % (w - sq);
  const sy = (i * 7) % (h - sq);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // Noise from a hash of the panned position: the texture moves, it does not flicker.
      let s = Math.imul((x - dx) * 73856093 ^ (y - dy) * 19349663, 0x9e3779b1) >>> 0;
      s ^= s >>> 15;
      const n = ((s >>> 8) % 25) - 12;
      const p = (y * w + x) * 4;
      const r = ((x - dx) * 255 / w) & 255;
      data[p] = Math.min(255, Math.max(0, r + n));
      data[p + 1] = Math.min(255, Math.max(0, ((y * 255) / h | 0) - n));
      data[p + 2] = Math.min(255, Math.max(0, (((x + y) * 255) / (w + h) | 0) + (n >> 1)));
      data[p + 3] = 255;
      if (x >= sx && x < sx + sq && y >= sy && y < sy + sq) { data[p] = 250; data[p + 1] = 250; data[p + 2] = 30; }
    }
  }
  return data;
}

// A real rendered 3D game frame (Cube 2, shipped as a test image in Debian's emscripten package, which
// the build installs) upscaled 4x and seen by a camera that slowly turns and drifts (sub-pixel motion,
// as a head-mounted camera moves): rendered-XR-like content. ffmpeg makes the frames.
const GAME_IMAGE = '/usr/share/emscripten/tests/screenshot.png';

// Contents made in JS, frame by frame, and contents ffmpeg makes (its input and filter arguments).
const JS_CONTENT = {
  scene: (w, h, i) => patternFrame(w, h, i).data,
  pan: benchFrame,
};
const FFMPEG_CONTENT = {
  game: (w, h) => {
    const side = Math.ceil(Math.hypot(w, h) * 1.25);
    return ['-loop', '1', '-i', GAME_IMAGE, '-vf',
      `scale=${side}:${side}:flags=lanczos,rotate=0.003*n:bilinear=1,crop=${w}:${h}:(iw-${w})/2-100+1.3*n:(ih-${h})/2-60+0.7*n`];
  },
  // ffmpeg's Mandelbrot zoom: endless fine detail that changes every frame, far more than 2.5 Mbit/s
  // can carry at 720p (a starved encoder, as a camera in a busy scene).
  zoom: (w, h) => ['-f', 'lavfi', '-i', `mandelbrot=size=${w}x${h}:rate=${FPS}`],
};
const DESCRIBE = {
  scene: 'gradients, a checkerboard and a moving square (screen / XR-render-like)',
  pan: 'a noise texture panning under gradients plus a moving square (camera-pan-like, whole-pixel motion)',
  game: 'a rendered 3D game frame (Cube 2) seen by a slowly turning, drifting camera (sub-pixel motion, rendered-XR-like)',
  zoom: 'ffmpeg\'s Mandelbrot zoom: fine detail that changes every frame, more than the bitrate can carry (a starved encoder)',
};

/** FRAMES frames of `content` at w x h, as raw RGBA, into `path`. */
function writeRaw(path, content, w, h) {
  if (FFMPEG_CONTENT[content]) {
    execFileSync('ffmpeg', ['-v', 'error', '-y', ...FFMPEG_CONTENT[content](w, h), '-frames:v', String(FRAMES),
      '-pix_fmt', 'rgba', '-f', 'rawvideo', path]);
    return;
  }
  const fd = openSync(path, 'w');
  for (let i = 0; i < FRAMES; i++) writeSync(fd, JS_CONTENT[content](w, h, i));
  closeSync(fd);
}

const cpuNow = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };

// Feeds the raw frames one at a time; `encode(frame)` is the only timed part.
async function timedFrames(raw, w, h, encode, finish) {
  const fd = openSync(raw, 'r');
  const buf = new Uint8Array(w * h * 4);
  let ms = 0;
  let cpu = 0;
  try {
    for (let i = 0; i < FRAMES; i++) {
      readSync(fd, buf, 0, buf.length, i * buf.length);
      const t0 = performance.now();
      const c0 = cpuNow();
      encode(buf);
      cpu += cpuNow() - c0;
      ms += performance.now() - t0;
    }
    const t0 = performance.now();
    const c0 = cpuNow();
    const out = await finish();
    cpu += cpuNow() - c0;
    ms += performance.now() - t0;
    return { fps: FRAMES / (cpu / 1000), wallFps: FRAMES / (ms / 1000), bytes: out };
  } finally {
    closeSync(fd);
  }
}

async function ours(M, codec, w, h, speed, raw) {
  const writer = await VideoWriter.create({ module: M, codec, width: w, height: h, fps: FPS, bitrate: BITRATE, speed,
    keyframeInterval: KEYFRAME_INTERVAL });
  const img = { data: null, width: w, height: h };
  return timedFrames(raw, w, h, (buf) => { img.data = buf; writer.addFrame(img); }, async () => (await writer.finish()).data);
}

let webmWasmModule;
async function loadWebmWasm() {
  if (!webmWasmModule) {
    const dir = new URL('node_modules/webm-wasm/dist/', root);
    const factory = (await import(new URL('webm-wasm.js', dir))).default;
    const wasmBinary = readFileSync(new URL('webm-wasm.wasm', dir));
    // Its old Emscripten glue runs in Node as a plain ES module (no Worker needed) given the wasm bytes.
    // Its module object has a `then` that never calls back, so it travels in a box: resolving a promise
    // with it (or returning it from an async function) would hang.
    const box = await new Promise((resolve, reject) => {
      const m = factory({ wasmBinary, onRuntimeInitialized: () => resolve({ m }), onAbort: reject, print() {}, printErr() {} });
    });
    webmWasmModule = box;
  }
  return webmWasmModule;
}

async function webmWasm(w, h, raw) {
  const M = (await loadWebmWasm()).m;
  const chunks = [];
  // (timebase 1/30, width, height, kbit/s, realtime deadline, kLive=false, output callback)
  const enc = new M.WebmEncoder(1, FPS, w, h, BITRATE / 1000, true, false, (b) => chunks.push(new Uint8Array(b).slice()));
  try {
    return await timedFrames(raw, w, h, (buf) => {
      if (!enc.addRGBAFrame(buf)) throw new Error(`webm-wasm: ${enc.lastError()}`);
    }, async () => {
      if (!enc.finalize()) throw new Error(`webm-wasm: ${enc.lastError()}`);
      return Buffer.concat(chunks);
    });
  } finally {
    enc.delete();
  }
}

function native(codec, w, h, speed, raw, out) {
  const bin = new URL('build/bench-native/video_writer_bench', root);
  if (!existsSync(bin)) return null;
  const r = JSON.parse(execFileSync(bin.pathname, [codec, w, h, FRAMES, BITRATE, speed, raw, out, KEYFRAME_INTERVAL].map(String), { encoding: 'utf8' }));
  return { fps: FRAMES / r.cpu_seconds, wallFps: FRAMES / r.seconds, bytes: readFileSync(out) };
}

function judge(file, raw, w, h) {
  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0',
    '-show_entries', 'stream=nb_read_frames', '-of', 'json', file], { encoding: 'utf8' }));
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostats', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgba', '-s', `${w}x${h}`,
    '-i', raw, '-lavfi', '[1:v]format=yuv420p,settb=1,setpts=N[ref];[0:v]format=yuv420p,settb=1,setpts=N[dec];[dec][ref]psnr',
    '-f', 'null', '-'], { encoding: 'utf8' });
  const m = /PSNR y:([\d.]+) u:[\d.]+ v:[\d.]+ average:([\d.]+)/.exec(r.stderr);
  return { frames: Number(probe.streams[0].nb_read_frames), y: m ? Number(m[1]) : NaN, all: m ? Number(m[2]) : NaN };
}

export default async function run({ report }) {
  const dir = mkdtempSync(join(tmpdir(), 'ck-video-bench-'));
  try {
    const simd = await loadVideoVariant(true);
    const base = await loadVideoVariant(false);
    let configs = [
      { codec: 'vp8', w: 1280, h: 720, speed: -6 },
      { codec: 'vp8', w: 1920, h: 1080, speed: -6 },
      { codec: 'vp9', w: 1280, h: 720, speed: 8 },
    ];
    if (process.env.CK_VIDEO_CONFIGS) {
      configs = process.env.CK_VIDEO_CONFIGS.split(',').map((c) => {
        const [codec, size, speed] = c.split(':');
        const [w, h] = size.split('x').map(Number);
        return { codec, w, h, speed: Number(speed) };
      });
    }
    const contents = (process.env.CK_VIDEO_CONTENT || 'scene,pan,game,zoom').split(',')
      .filter((c) => c !== 'game' || existsSync(GAME_IMAGE));
    const sweeps = [];
    for (const content of contents) {
      const rows = [];
      const raws = new Map();
      let peer720 = null; // webm-wasm on VP8 720p: the reference of the speed sweep below
      for (const c of configs) {
        const key = `${c.w}x${c.h}`;
        if (!raws.has(key)) {
          const raw = join(dir, `${content}-${key}.rgba`);
          writeRaw(raw, content, c.w, c.h);
          raws.set(key, raw);
        }
        const raw = raws.get(key);
        const peers = [];
        peers.push(['capturekit wasm SIMD', await ours(simd, c.codec, c.w, c.h, c.speed, raw)]);
        peers.push(['capturekit wasm baseline', await ours(base, c.codec, c.w, c.h, c.speed, raw)]);
        const n = native(c.codec, c.w, c.h, c.speed, raw, join(dir, 'native.webm'));
        if (n) peers.push(['same C++ native (g++ -O3, Debian libvpx with x86 asm)', n]);
        if (c.codec === 'vp8') peers.push(['webm-wasm 0.4.1 (realtime, libvpx auto speed)', await webmWasm(c.w, c.h, raw)]);
        const simdFps = peers[0][1].fps;
        for (const [name, r] of peers) {
          const file = join(dir, 'out.webm');
          writeFileSync(file, r.bytes);
          const q = judge(file, raw, c.w, c.h);
          if (name.startsWith('webm-wasm') && c.w === 1280 && c.h === 720) peer720 = { fps: r.fps, y: q.y };
          rows.push([`${c.codec.toUpperCase()} ${c.h}p speed ${c.speed}`, name, fmt(r.fps, 1), fmt(r.wallFps, 1),
            fmt(simdFps / r.fps, 2), `${q.frames}/${FRAMES}`, fmt(q.y, 2), fmt(q.all, 2),
            fmt((r.bytes.length * 8) / (FRAMES / FPS) / 1e6, 2)]);
        }
      }
      // What slower VP8 speeds buy in quality at the same bitrate, against webm-wasm on the same frames.
      const raw720 = raws.get('1280x720');
      if (peer720 && raw720 && process.env.CK_VIDEO_SWEEP !== '0') {
        for (const speed of [-3, -4, -6, -8, -12]) {
          const r = await ours(simd, 'vp8', 1280, 720, speed, raw720);
          const file = join(dir, 'out.webm');
          writeFileSync(file, r.bytes);
          const q = judge(file, raw720, 1280, 720);
          sweeps.push([content, String(speed), fmt(r.fps, 1), fmt(q.y, 2), `${q.y - peer720.y >= 0 ? '+' : ''}${fmt(q.y - peer720.y, 2)}`,
            fmt(r.fps / peer720.fps, 2), fmt((r.bytes.length * 8) / (FRAMES / FPS) / 1e6, 2)]);
        }
      }
      for (const raw of raws.values()) rmSync(raw, { force: true });
      report(`Video encoding (${content}): ${FRAMES} frames at a ${BITRATE / 1e6} Mbit/s target`,
        table(['config', 'encoder', 'fps (CPU time)', 'fps (wall)', 'SIMD fps / this', 'frames out', 'PSNR Y dB',
          'PSNR all dB', 'Mbit/s'], rows) +
        `\n\nContent "${content}": ${DESCRIBE[content]}. ` +
        'fps: frames per second of process CPU time over the whole run (copy in, RGBA->I420, encode, mux, finish), one ' +
        'thread; wall-clock fps is lower when the 2-core machine is busy with other work. webm-wasm only does VP8 ' +
        'and, with cpu_used 0 in realtime mode, lets libvpx pick its speed from the time each frame took (its output ' +
        `depends on the machine); it converts with libyuv. Every encoder puts a keyframe every ${KEYFRAME_INTERVAL} frames ` +
        '(libvpx\'s default, which webm-wasm keeps; capturekit\'s own default is one every 2 s).');
    }

    if (sweeps.length) {
      report(`VP8 1280x720: speed against quality (capturekit wasm SIMD vs webm-wasm, ${FRAMES} frames, ${BITRATE / 1e6} Mbit/s)`,
        table(['content', 'speed', 'fps (CPU time)', 'PSNR Y dB', 'PSNR Y - webm-wasm', 'fps / webm-wasm fps', 'Mbit/s'], sweeps) +
        '\n\nThe same frames and bitrate as the tables above; webm-wasm\'s row there is the reference. libvpx\'s fixed ' +
        'speed trades encoding time for quality at a fixed bitrate; the issue\'s target is a row with at least +3 dB and ' +
        'at least 1.40 in the last two quality/speed columns.');
    }

    const gz = (p) => gzipSync(readFileSync(p), { level: 9 }).length;
    const dist = (f) => new URL(`dist/${f}`, root);
    const ww = (f) => new URL(`node_modules/webm-wasm/dist/${f}`, root);
    const sizes = [
      ['capturekit-video.wasm (baseline, VP8+VP9 encoders + WebM muxer)', dist('capturekit-video.wasm'), dist('capturekit-video.mjs')],
      ['capturekit-video-simd.wasm (SIMD)', dist('capturekit-video-simd.wasm'), dist('capturekit-video-simd.mjs')],
      ['webm-wasm 0.4.1 (VP8 encoder + muxer + libyuv)', ww('webm-wasm.wasm'), ww('webm-wasm.js')],
    ].map(([name, wasm, js]) => [name, fmt(readFileSync(wasm).length / 1024, 0), fmt(gz(wasm) / 1024, 0), fmt(gz(js) / 1024, 1)]);
    report('Video module size (KiB)', table(['module', 'wasm', 'wasm gzip -9', 'JS glue gzip -9'], sizes) +
      '\n\nTarget for capturekit-video: <= 400 KB gzipped with VP8 + VP9 (the module also holds the WebM ' +
      'parser/repair code). webm-wasm is VP8 only.');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
