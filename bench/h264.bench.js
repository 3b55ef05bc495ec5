// H.264 encoding: capturekit's OpenH264 2.3.1 in wasm (the capturekit-h264 module, baseline and SIMD
// builds) vs Chromium's VideoEncoder ('avc1', software: Chromium's own OpenH264 build) vs the same
// H264Encoder C++ built natively, twice: against the OpenH264 scripts/build-openh264.sh builds (plain C++,
// what the wasm runs) and against Debian's libopenh264.so.7 (the same 2.3.1 with its x86 assembly).
// Same I420 frames, same target bitrate, Constrained Baseline, realtime settings, one thread each.
// OpenH264 itself is compiled as scripts/build-openh264.sh does (-O3 wasm, -O2 native); the H264Encoder
// wrapper of the native peers with g++ -O3 -march=native.
// Speed: frames per second of CPU time where it can be read (Node, the native programs), wall time for
// VideoEncoder (the page's encoder runs on Chromium's threads; its wall time is the best available).
// Quality: PSNR of the decoded stream against the input (ffmpeg's psnr filter, Y and all planes).
// Frames: the game camera (a rendered 3D frame seen by a turning, drifting camera: sub-pixel motion over
// real textures; tests/node/video/video-fixtures.mjs), made by ffmpeg in I420.
//   CK_H264_FRAMES (default 60) narrows the run for experiments.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { H264Encoder, loadH264Variant } from '../js-glue/h264.js';
import { fmt, table } from './timing.js';

const root = new URL('../', import.meta.url).pathname;
const FRAMES = Number(process.env.CK_H264_FRAMES) || 60;
const FPS = 30;
const SIZES = [[1280, 720, 2_500_000], [1920, 1080, 5_000_000]];
const GAME_IMAGE = '/usr/share/emscripten/tests/screenshot.png';
const DEBIAN_SO = '/usr/lib/x86_64-linux-gnu/libopenh264.so.7';

function makeFrames(file, w, h) {
  const side = Math.ceil(Math.hypot(w, h) * 1.25);
  const vf = [`scale=${side}:${side}:flags=lanczos`, 'rotate=0.01*n:bilinear=1', `crop=${w}:${h}:(iw-${w})/2-20+1.3*n:(ih-${h})/2-10+0.7*n`];
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-loop', '1', '-i', GAME_IMAGE, '-vf', vf.join(','), '-frames:v', String(FRAMES),
    '-pix_fmt', 'yuv420p', '-f', 'rawvideo', file]);
}

function psnr(stream, raw, w, h) {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostats', '-i', stream, '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${w}x${h}`, '-i', raw,
    '-lavfi', '[0:v]settb=1,setpts=N[a];[1:v]settb=1,setpts=N[b];[a][b]psnr', '-f', 'null', '-'], { encoding: 'utf8' });
  const m = /PSNR y:([\d.inf]+) u:[\d.inf]+ v:[\d.inf]+ average:([\d.inf]+)/.exec(r.stderr);
  const frames = /frame=\s*(\d+)/.exec(r.stderr);
  return { y: m ? Number(m[1]) : NaN, all: m ? Number(m[2]) : NaN, frames: frames ? Number(frames[1]) : NaN };
}

const cpuNow = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };

async function wasm(simd, raw, w, h, bitrate) {
  const module = await loadH264Variant(simd);
  const enc = await H264Encoder.create({ width: w, height: h, fps: FPS, bitrate, keyframeInterval: 1000, module });
  const bytes = readFileSync(raw);
  const ySize = w * h;
  const cSize = ySize / 4;
  const out = [];
  const c0 = cpuNow();
  const t0 = performance.now();
  for (let i = 0; i < FRAMES; i++) {
    const o = i * ySize * 1.5;
    const planes = { y: bytes.subarray(o, o + ySize), u: bytes.subarray(o + ySize, o + ySize + cSize), v: bytes.subarray(o + ySize + cSize, o + ySize + 2 * cSize) };
    out.push(enc.encodeI420(planes).data);
  }
  const cpu = cpuNow() - c0;
  const wall = performance.now() - t0;
  enc.close();
  return { cpuFps: FRAMES / (cpu / 1000), wallFps: FRAMES / (wall / 1000), bytes: Buffer.concat(out) };
}

function buildNative(dir) {
  const programs = [];
  const lib = execFileSync('bash', ['-c', `ls -d ${root}.cache/build/openh264-*-native | head -1`], { encoding: 'utf8' }).trim();
  const build = (label, exe, link) => {
    const r = spawnSync('g++', ['-std=c++17', '-O3', '-march=native', '-DNDEBUG', `-I${root}wasm`, `-I${lib}/include`,
      join(root, 'bench/native/h264_encode_peer.cpp'), join(root, 'wasm/h264/h264_encoder.cpp'), join(root, 'wasm/common/status.cpp'),
      ...link, '-pthread', '-o', join(dir, exe)], { encoding: 'utf8' });
    if (r.status === 0) programs.push([label, join(dir, exe)]);
    else console.error(`h264 bench: could not build ${exe}:\n${r.stderr}`);
  };
  if (existsSync(`${lib}/libopenh264enc.a`)) build('same C++ native (g++, OpenH264 plain C++ as in wasm)', 'h264_plain', [`${lib}/libopenh264enc.a`]);
  if (existsSync(DEBIAN_SO)) build('same C++ native, Debian libopenh264.so.7 (x86 asm)', 'h264_debian', [DEBIAN_SO]);
  return programs;
}

function native(exe, raw, w, h, bitrate, out) {
  const s = execFileSync(exe, [raw, String(w), String(h), String(FRAMES), String(FPS), String(bitrate), out], { encoding: 'utf8' });
  const [ms] = s.trim().split(' ').map(Number);
  return { cpuFps: FRAMES / (ms / 1000), wallFps: NaN, bytes: readFileSync(out) };
}

// Chromium's VideoEncoder on the same frames (fetched by the page from a static server over the
// temporary directory), Annex B out, software encoder preferred.
async function videoEncoder(dir, name, w, h, bitrate) {
  let launchBrowser, serveStatic;
  try {
    ({ launchBrowser, serveStatic } = await import('../tests/browser/browser.mjs'));
  } catch {
    return null;
  }
  const browser = await launchBrowser();
  const site = await serveStatic({ root: dir });
  try {
    const page = await browser.newPage();
    await page.goto(`${site.url}/`).catch(() => {});
    const r = await page.evaluate(async ([name, w, h, n, fps, bitrate]) => {
      if (typeof VideoEncoder !== 'function') return null;
      const buf = new Uint8Array(await (await fetch(`/${name}`)).arrayBuffer());
      const config = { codec: w * h > 921600 ? 'avc1.42002a' : 'avc1.42001f', width: w, height: h, bitrate, framerate: fps,
        bitrateMode: 'constant', latencyMode: 'realtime', hardwareAcceleration: 'prefer-software', avc: { format: 'annexb' } };
      const support = await VideoEncoder.isConfigSupported(config);
      if (!support.supported) return { error: 'not supported' };
      const chunks = [];
      let error = null;
      const enc = new VideoEncoder({ output: (c) => { const b = new Uint8Array(c.byteLength); c.copyTo(b); chunks.push(b); }, error: (e) => { error = String(e); } });
      enc.configure(config);
      const size = w * h * 1.5;
      const frames = [];
      for (let i = 0; i < n; i++) {
        frames.push(new VideoFrame(buf.subarray(i * size, (i + 1) * size), { format: 'I420', codedWidth: w, codedHeight: h, timestamp: Math.round(i * 1e6 / fps) }));
      }
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        enc.encode(frames[i], { keyFrame: i === 0 });
        frames[i].close();
      }
      await enc.flush();
      const ms = performance.now() - t0;
      enc.close();
      const total = chunks.reduce((s, c) => s + c.length, 0);
      const all = new Uint8Array(total);
      let o = 0;
      for (const c of chunks) { all.set(c, o); o += c.length; }
      let bin = '';
      for (let i = 0; i < all.length; i += 0x8000) bin += String.fromCharCode.apply(null, all.subarray(i, i + 0x8000));
      return { ms, error, b64: btoa(bin) };
    }, [name, w, h, FRAMES, FPS, bitrate]);
    if (!r || r.error) return null;
    return { cpuFps: NaN, wallFps: FRAMES / (r.ms / 1000), bytes: Buffer.from(r.b64, 'base64') };
  } finally {
    await browser.close();
    await site.close();
  }
}

export default async function run({ report }) {
  if (!existsSync(GAME_IMAGE)) throw new Error(`h264 bench: ${GAME_IMAGE} missing (Debian's emscripten package)`);
  const dir = mkdtempSync(join(tmpdir(), 'ck-h264-bench-'));
  try {
    const natives = buildNative(dir);
    for (const [w, h, bitrate] of SIZES) {
      const name = `game-${w}x${h}.yuv`;
      const raw = join(dir, name);
      makeFrames(raw, w, h);
      const peers = [];
      peers.push(['capturekit wasm SIMD', await wasm(true, raw, w, h, bitrate)]);
      peers.push(['capturekit wasm baseline', await wasm(false, raw, w, h, bitrate)]);
      const ve = await videoEncoder(dir, name, w, h, bitrate);
      if (ve) peers.push(["Chromium VideoEncoder avc1 (software, wall time)", ve]);
      for (const [label, exe] of natives) peers.push([label, native(exe, raw, w, h, bitrate, join(dir, 'native.h264'))]);
      const simdFps = peers[0][1].cpuFps;
      const rows = peers.map(([label, r]) => {
        const file = join(dir, 'out.h264');
        writeFileSync(file, r.bytes);
        const q = psnr(file, raw, w, h);
        const fps = Number.isFinite(r.cpuFps) ? r.cpuFps : r.wallFps;
        return [label, fmt(r.cpuFps, 1), fmt(r.wallFps, 1), fmt(simdFps / fps, 2), String(q.frames), fmt(q.y), fmt(q.all),
          fmt((r.bytes.length * 8) / (FRAMES / FPS) / 1e6, 2)];
      });
      report(`H.264 encoding ${w}x${h} (game camera, ${FRAMES} frames, ${bitrate / 1e6} Mbit/s target)`,
        table(['encoder', 'fps (CPU time)', 'fps (wall)', 'wasm SIMD fps / this', 'frames out', 'PSNR Y dB', 'PSNR all dB', 'Mbit/s'], rows) +
        '\n\nwasm SIMD fps / this: above 1 means capturekit wasm SIMD is faster than this peer (VideoEncoder: against its wall-time fps).');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
