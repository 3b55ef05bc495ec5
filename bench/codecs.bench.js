// Codec benchmarks on two generated 1920x1080 RGBA images (deterministic, opaque):
//   photo: value-noise landscape (8 octaves, contrast-stretched) with a sky/ground split, 14 shaded
//          discs, a vignette and +-3 per-channel sensor noise: the fine noise that makes photos hard for PNG;
//   ui:    flat app chrome: toolbar, sidebar list, 9 cards with 1px borders, glyph-like "text" strokes,
//          buttons and anti-aliased avatar circles, a dozen colours.
// JPEG: ours (stb_image_write in wasm) at quality 90 vs jpeg-js (pure JS) and @jsquash/jpeg (mozjpeg in
//   wasm, its default options: progressive, optimised Huffman, trellis), each peer at the lowest quality
//   whose PSNR-Y (BT.601 luma, decoded by jpeg-js) reaches ours, plus the peers at quality 90.
// PNG: ours (stb filters + zlib, default level 6 / strategy 'auto', and the other strategies) vs pngjs
//   (Node's native zlib), UPNG.js (pako) and fast-png (fflate), and Pillow's PNG encoder at
//   compress_level=6 (libpng-style filters + system zlib, native code) as the native level-6 reference.
// Times are medians in ms (Node 20, same process); wasm = the SIMD build init() picks in Node.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadVariant } from '../js-glue/core.js';
import { encodeJpegOn, encodePngOn } from '../js-glue/image/encode.js';
import { decodeImageOn } from '../js-glue/image/decode.js';
import { fmt, measure, table } from './timing.js';

const require = createRequire(import.meta.url);
const W = 1920;
const H = 1080;

// ---- deterministic test images ----
function rng(seed) {
  let x = (seed * 2654435761) >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 4294967296; };
}

export function photoImage(width = W, height = H, seed = 1) {
  const rand = rng(seed);
  const data = new Uint8ClampedArray(width * height * 4);
  const octaves = [];
  for (let o = 0; o < 8; o++) {
    const cells = 4 << o;
    const gw = cells + 2, gh = Math.ceil((cells * height) / width) + 2;
    const grid = new Float32Array(gw * gh * 3);
    for (let i = 0; i < grid.length; i++) grid[i] = rand();
    octaves.push({ cells, gw, grid, amp: Math.pow(0.62, o) });
  }
  const smooth = (t) => t * t * (3 - 2 * t);
  const discs = [];
  for (let i = 0; i < 14; i++) {
    discs.push({ x: rand() * width, y: height * (0.4 + 0.6 * rand()), r: 20 + rand() * height * 0.15,
      cr: 0.3 + 0.7 * rand(), cg: 0.2 + 0.6 * rand(), cb: 0.1 + 0.5 * rand() });
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 0, g = 0, b = 0, norm = 0;
      for (const { cells, gw, grid, amp } of octaves) {
        const fx = (x / width) * cells, fy = (y / width) * cells;
        const ix = fx | 0, iy = fy | 0, tx = smooth(fx - ix), ty = smooth(fy - iy);
        const i00 = (iy * gw + ix) * 3, i10 = i00 + 3, i01 = i00 + gw * 3, i11 = i01 + 3;
        const lerp = (c) => {
          const a = grid[i00 + c] + (grid[i10 + c] - grid[i00 + c]) * tx;
          const d = grid[i01 + c] + (grid[i11 + c] - grid[i01 + c]) * tx;
          return a + (d - a) * ty;
        };
        r += lerp(0) * amp; g += lerp(1) * amp; b += lerp(2) * amp; norm += amp;
      }
      const dx = x / width - 0.5, dy = y / height - 0.5;
      const vig = 1 - 0.6 * (dx * dx + dy * dy);
      const p = (y * width + x) * 4;
      const c = (v) => 0.5 + (v / norm - 0.5) * 2.4;
      let lr = c(r), lg = c(g), lb = c(b);
      const horizon = 0.45 + 0.08 * Math.sin(x / 170) + 0.03 * Math.sin(x / 37);
      if (y / height < horizon) { lr = 0.35 + 0.3 * lr; lg = 0.5 + 0.3 * lg; lb = 0.75 + 0.25 * lb; }
      for (const d of discs) {
        const q = ((x - d.x) ** 2 + (y - d.y) ** 2) / (d.r * d.r);
        if (q < 1) { const s = 0.55 + 0.45 * (1 - q) - (0.3 * (x - d.x)) / d.r; lr = d.cr * s; lg = d.cg * s; lb = d.cb * s; }
      }
      data[p] = lr * 255 * vig + (rand() * 7 - 3);
      data[p + 1] = lg * 255 * vig + (rand() * 7 - 3);
      data[p + 2] = lb * 255 * vig + (rand() * 7 - 3);
      data[p + 3] = 255;
    }
  }
  return { data, width, height };
}

export function uiImage(width = W, height = H, seed = 2) {
  const rand = rng(seed);
  const data = new Uint8ClampedArray(width * height * 4);
  const fill = (x0, y0, w, h, [r, g, b], alpha = 1) => {
    for (let y = Math.max(0, y0); y < Math.min(height, y0 + h); y++) {
      for (let x = Math.max(0, x0); x < Math.min(width, x0 + w); x++) {
        const p = (y * width + x) * 4;
        data[p] += (r - data[p]) * alpha; data[p + 1] += (g - data[p + 1]) * alpha; data[p + 2] += (b - data[p + 2]) * alpha;
        data[p + 3] = 255;
      }
    }
  };
  const text = (x0, y0, w, color, size = 10) => {
    let x = x0;
    while (x < x0 + w) {
      const word = 3 + ((rand() * 7) | 0);
      for (let i = 0; i < word && x < x0 + w; i++) {
        const gw = 4 + ((rand() * 3) | 0), gh = size - ((rand() * 4) | 0);
        fill(x, y0 + size - gh, 1, gh, color, 0.9);
        if (rand() < 0.7) fill(x, y0 + size - gh, gw, 1, color, 0.8);
        if (rand() < 0.5) fill(x + gw - 1, y0 + size - (gh >> 1), 1, gh >> 1, color, 0.9);
        if (rand() < 0.5) fill(x, y0 + size - 1, gw, 1, color, 0.7);
        x += gw + 2;
      }
      x += 6;
    }
  };
  const circle = (cx, cy, rad, color) => {
    for (let y = cy - rad - 1; y <= cy + rad + 1; y++) {
      for (let x = cx - rad - 1; x <= cx + rad + 1; x++) {
        const a = Math.min(1, Math.max(0, rad - Math.hypot(x + 0.5 - cx, y + 0.5 - cy) + 0.5));
        if (a > 0) fill(x, y, 1, 1, color, a);
      }
    }
  };
  const accents = [[66, 133, 244], [234, 67, 53], [251, 188, 4], [52, 168, 83]];
  fill(0, 0, width, height, [246, 247, 249]);
  fill(0, 0, width, 56, [32, 41, 58]);
  text(24, 22, 160, [255, 255, 255], 12);
  for (let i = 0; i < 5; i++) { fill(width - 520 + i * 100, 14, 84, 28, [52, 63, 84]); text(width - 510 + i * 100, 22, 60, [220, 225, 235]); }
  fill(0, 56, 280, height - 56, [255, 255, 255]);
  fill(280, 56, 1, height - 56, [224, 227, 232]);
  for (let i = 0; i < 24; i++) {
    const y = 72 + i * 40;
    if (i === 3) fill(0, y - 8, 280, 40, [232, 240, 254]);
    circle(34, y + 10, 11, accents[i % 4]);
    text(58, y + 4, 150 + ((rand() * 60) | 0), [60, 64, 67]);
  }
  for (let row = 0; row < 3; row++) {
    for (let col = 0; col < 3; col++) {
      const x = 312 + col * 530, y = 88 + row * 320, w = 500, h = 290;
      fill(x, y, w, h, [224, 227, 232]);
      fill(x + 1, y + 1, w - 2, h - 2, [255, 255, 255]);
      fill(x + 1, y + 1, w - 2, 120, [[232, 240, 254], [254, 239, 227], [230, 244, 234]][(row + col) % 3]);
      circle(x + 40, y + 60, 24, accents[[0, 1, 3][(row + col) % 3]]);
      text(x + 20, y + 140, 300, [32, 33, 36], 14);
      for (let l = 0; l < 5; l++) text(x + 20, y + 168 + l * 18, 440 - ((rand() * 120) | 0), [95, 99, 104]);
      fill(x + w - 120, y + h - 44, 100, 30, [26, 115, 232]);
      text(x + w - 108, y + h - 35, 76, [255, 255, 255]);
    }
  }
  return { data, width, height };
}

// ---- helpers ----
function psnrY(a, b) {
  let se = 0;
  for (let i = 0; i < a.length; i += 4) {
    const d = 0.299 * (a[i] - b[i]) + 0.587 * (a[i + 1] - b[i + 1]) + 0.114 * (a[i + 2] - b[i + 2]);
    se += d * d;
  }
  return se === 0 ? 99 : 10 * Math.log10((255 * 255 * (a.length / 4)) / se);
}

// Interleaved timing of two functions (ours, peer): the machine is shared, so each round times both
// back to back; returns the median time of each and the median of the per-round ratios peer/ours.
async function paired(ours, peer, rounds = 7) {
  const ta = [], tb = [], r = [];
  await ours(); await peer(); // warm-up
  for (let i = 0; i < rounds; i++) {
    let t0 = performance.now();
    await ours();
    const a = performance.now() - t0;
    t0 = performance.now();
    await peer();
    const b = performance.now() - t0;
    ta.push(a); tb.push(b); r.push(b / a);
  }
  const med = (v) => v.slice().sort((x, y) => x - y)[v.length >> 1];
  return { ours: med(ta), peer: med(tb), speedup: med(r) };
}

const kb = (n) => `${(n / 1024).toFixed(n < 102400 ? 1 : 0)} KiB`;
const ratio = (ours, peer) => `${fmt(ours / peer, 2)}×`;

async function loadMozjpeg() {
  const { init, default: encode } = await import('@jsquash/jpeg/encode.js');
  const wasmPath = require.resolve('@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm');
  await init(new WebAssembly.Module(readFileSync(wasmPath)));
  return async (img, quality) => new Uint8Array(await encode({ data: img.data, width: img.width, height: img.height }, { quality }));
}

// The lowest integer quality in [lo, 100] whose PSNR-Y reaches `target` (qualities are monotonic).
async function matchQuality(encodeAt, ref, target, lo = 30) {
  const cache = new Map();
  const at = async (q) => {
    if (!cache.has(q)) cache.set(q, psnrY(decodeJpegJs(await encodeAt(q)), ref.data));
    return cache.get(q);
  };
  let hi = 100;
  if ((await at(hi)) < target) return { quality: hi, psnr: await at(hi) };
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((await at(mid)) >= target) hi = mid; else lo = mid + 1;
  }
  return { quality: hi, psnr: await at(hi) };
}

let jpegjs;
function decodeJpegJs(bytes) {
  return jpegjs.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 2048 }).data;
}

function pillowPng(img, dir) {
  // Native reference: Pillow's PNG encoder (system zlib) at compress_level=6, given RGB (the images are
  // opaque, and ours writes RGB for opaque input too); RGBA bytes reported alongside.
  const raw = join(dir, 'ref.rgba');
  writeFileSync(raw, img.data);
  const script = `
import io, json, sys, time
from PIL import Image
im = Image.frombytes('RGBA', (${img.width}, ${img.height}), open(sys.argv[1], 'rb').read())
out = {}
for mode in ('RGB', 'RGBA'):
    m = im.convert(mode) if mode != 'RGBA' else im
    times = []
    for _ in range(3):
        b = io.BytesIO(); t = time.perf_counter(); m.save(b, 'PNG', compress_level=6); times.append((time.perf_counter() - t) * 1000)
    out[mode] = {'bytes': len(b.getvalue()), 'ms': sorted(times)[1]}
print(json.dumps(out))`;
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, raw], { encoding: 'utf8' }));
}

export default async function run({ report }) {
  jpegjs = require('jpeg-js');
  const { PNG } = require('pngjs');
  const UPNG = require('upng-js');
  const fastPng = await import('fast-png');
  const [simd, base] = await Promise.all([loadVariant(true), loadVariant(false)]);
  const mozjpeg = await loadMozjpeg();
  const dir = mkdtempSync(join(tmpdir(), 'ck-bench-codecs-'));
  const images = { photo: photoImage(), ui: uiImage() };

  try {
    // ---- JPEG ----
    for (const [name, img] of Object.entries(images)) {
      const ours = encodeJpegOn(simd, img, { quality: 90 });
      const oursPsnr = psnrY(decodeJpegJs(ours), img.data);
      const tOurs = measure(() => encodeJpegOn(simd, img, { quality: 90 }), { warmup: 1, runs: 7 });
      const tBase = measure(() => encodeJpegOn(base, img, { quality: 90 }), { warmup: 1, runs: 7 });
      const jsEnc = (q) => new Uint8Array(jpegjs.encode({ data: img.data, width: img.width, height: img.height }, q).data);
      const rows = [
        ['ours, wasm SIMD (stb_image_write)', 90, fmt(tOurs, 1), kb(ours.length), fmt(oursPsnr), '—'],
        ['ours, wasm baseline', 90, fmt(tBase, 1), kb(ours.length), fmt(oursPsnr), '—'],
      ];
      const peers = [
        ['jpeg-js 0.4 (pure JS)', async (q) => jsEnc(q)],
        ['@jsquash/jpeg (mozjpeg wasm, defaults)', (q) => mozjpeg(img, q)],
      ];
      const oursFn = () => encodeJpegOn(simd, img, { quality: 90 });
      for (const [label, enc] of peers) {
        const m = await matchQuality(enc, img, oursPsnr);
        const bytes = (await enc(m.quality)).length;
        const p = await paired(oursFn, () => enc(m.quality));
        rows.push([`${label}, equal PSNR-Y`, m.quality, fmt(p.peer, 1), kb(bytes), fmt(m.psnr), `${fmt(p.speedup, 1)}× (ours ${fmt(p.ours, 1)} ms)`]);
        if (m.quality !== 90) {
          const b90 = await enc(90);
          const p90 = await paired(oursFn, () => enc(90), 3);
          rows.push([`${label}, same quality number`, 90, fmt(p90.peer, 1), kb(b90.length), fmt(psnrY(decodeJpegJs(b90), img.data)), `${fmt(p90.speedup, 1)}×`]);
        }
      }
      report(`JPEG encode, ${name}-like 1920x1080 (target: ours ≥ 3× faster than both peers at equal PSNR-Y)`,
        table(['encoder', 'quality', 'ms', 'size', 'PSNR-Y dB', 'ours faster by (median of interleaved rounds)'], rows));
    }

    // ---- PNG: our strategies (the probe) ----
    const strategyRows = [];
    const oursAuto = {};
    for (const [name, img] of Object.entries(images)) {
      for (const [strategy, level] of [['auto', 6], ['default', 6], ['rle', 6], ['huffman-only', 6], ['filtered', 6], ['fixed', 6], ['default', 1], ['default', 9], ['auto', 9]]) {
        const png = encodePngOn(simd, img, { level, strategy });
        const t = measure(() => encodePngOn(simd, img, { level, strategy }), { warmup: 1, runs: 3 });
        if (strategy === 'auto' && level === 6) oursAuto[name] = { bytes: png.length, ms: t, png };
        strategyRows.push([name, strategy, level, fmt(t, 1), kb(png.length), png.length]);
      }
    }
    for (const r of strategyRows) {
      const ref = strategyRows.find((x) => x[0] === r[0] && x[1] === 'default' && x[2] === 6);
      r.push(`${fmt(r[5] / ref[5], 2)}× bytes, ${fmt(parseFloat(ref[3]) / parseFloat(r[3]), 1)}× speed`);
      r[5] = String(r[5]);
    }
    report('PNG: our zlib level/strategy on both images (wasm SIMD; the default is level 6, strategy auto)',
      table(['image', 'strategy', 'level', 'ms', 'size', 'bytes', 'vs default strategy, level 6'], strategyRows));

    // ---- PNG: peers ----
    for (const [name, img] of Object.entries(images)) {
      const ours = oursAuto[name];
      // Lossless check of our output by an independent decoder (pngjs).
      const back = PNG.sync.read(Buffer.from(ours.png));
      const exact = Buffer.compare(Buffer.from(back.data), Buffer.from(img.data.buffer)) === 0;
      const oursFn = () => encodePngOn(simd, img);
      const pb = await paired(oursFn, () => encodePngOn(base, img), 5);
      const pil = pillowPng(img, dir);
      const buf = Buffer.from(img.data.buffer);
      const peers = [
        ['pngjs 7 (defaults: level 9, Z_RLE; Node native zlib)', () => PNG.sync.write({ width: img.width, height: img.height, data: buf })],
        ['pngjs 7, level 6 default strategy', () => PNG.sync.write({ width: img.width, height: img.height, data: buf }, { deflateLevel: 6, deflateStrategy: 0 })],
        ['UPNG.js 2.1 (lossless, pako)', () => new Uint8Array(UPNG.encode([img.data.buffer], img.width, img.height, 0))],
        ['fast-png 8 (defaults: fflate level 3)', () => fastPng.encode({ width: img.width, height: img.height, data: img.data, channels: 4 })],
        ['fast-png 8, level 6', () => fastPng.encode({ width: img.width, height: img.height, data: img.data, channels: 4 }, { zlib: { level: 6 } })],
      ];
      const rows = [
        ['ours, wasm SIMD (level 6, auto)', fmt(ours.ms, 1), kb(ours.bytes), ours.bytes, '1.00×', '1.00×'],
        ['ours, wasm baseline', fmt(pb.peer, 1), kb(ours.bytes), ours.bytes, `${fmt(pb.speedup, 2)}×`, '1.00×'],
        ['Pillow compress_level=6, RGB (native libz; the level-6 reference)', fmt(pil.RGB.ms, 1), kb(pil.RGB.bytes), pil.RGB.bytes, `${fmt(pil.RGB.ms / ours.ms, 2)}× (separate process)`, `${fmt(ours.bytes / pil.RGB.bytes, 3)}×`],
        ['Pillow compress_level=6, RGBA', fmt(pil.RGBA.ms, 1), kb(pil.RGBA.bytes), pil.RGBA.bytes, `${fmt(pil.RGBA.ms / ours.ms, 2)}× (separate process)`, `${fmt(ours.bytes / pil.RGBA.bytes, 3)}×`],
      ];
      for (const [label, enc] of peers) {
        const bytes = enc().length;
        const p = await paired(oursFn, enc, 3);
        rows.push([label, fmt(p.peer, 1), kb(bytes), bytes, `${fmt(p.speedup, 2)}×`, `${fmt(ours.bytes / bytes, 3)}×`]);
      }
      report(`PNG encode, ${name}-like 1920x1080 (target: our bytes ≤ native level 6; lossless round trip via pngjs: ${exact ? 'exact' : 'MISMATCH'})`,
        table(['encoder', 'ms', 'size', 'bytes', 'ours faster by', 'bytes ours/peer'], rows));
    }

    // ---- decode (watermarks) ----
    const rows = [];
    for (const [name, img] of Object.entries(images)) {
      for (const [fmtName, file] of [['PNG', oursAuto[name].png], ['JPEG q90', encodeJpegOn(simd, img, { quality: 90 })]]) {
        const peer = fmtName === 'PNG' ? () => PNG.sync.read(Buffer.from(file)) : () => decodeJpegJs(file);
        const p = await paired(() => decodeImageOn(simd, file), peer, 5);
        rows.push([name, fmtName, fmt(p.ours, 1), fmtName === 'PNG' ? 'pngjs' : 'jpeg-js', fmt(p.peer, 1), `${fmt(p.speedup, 2)}×`]);
      }
    }
    report('Decode 1920x1080 to RGBA (ours: stb_image in wasm, incl. copy in/out)',
      table(['image', 'file', 'ours ms', 'peer', 'peer ms', 'ours faster by'], rows));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
