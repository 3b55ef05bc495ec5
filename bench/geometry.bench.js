// Resize benchmarks on a generated 1920x1080 photo-like image (smooth gradients + +-12 LCG noise, the
// same generator as bench/native/pixels_geometry_bench.cpp):
//   area 1920x1080 -> 960x540 and bilinear 1920x1080 -> 1280x720:
//   wasm SIMD vs wasm baseline vs plain JS (the same fixed-point algorithm, same bytes) vs the same C++
//   built natively (g++ -O3 -march=native, scalar path auto-vectorised by g++).
// "op" times the resize on pixels already in wasm memory; "call" adds the JS API's copy in and out.
import { loadVariant } from '../js-glue/core.js';
import { fmt, photo, runNativePeer, table } from './timing.js';

const W = 1920;
const H = 1080;
const RUNS = 21;
const CASES = [
  { name: 'area 1920x1080 → 960x540', key: 'area', width: 960, height: 540, method: 'area' },
  { name: 'bilinear 1920x1080 → 1280x720', key: 'bilinear', width: 1280, height: 720, method: 'bilinear' },
];

// ---- plain JS: the algorithm of wasm/pixels/resize.cpp (15-bit taps, 8.8 intermediate) ----
const ONE = 1 << 15;

function layoutTaps(src, dst, windows) {
  let n = 1;
  for (const w of windows) {
    while (w.weights.length > 1 && w.weights[0] === 0) { w.weights.shift(); w.first++; }
    while (w.weights.length > 1 && w.weights[w.weights.length - 1] === 0) w.weights.pop();
    n = Math.max(n, w.weights.length);
  }
  n = Math.min(n, src);
  const first = new Int32Array(dst);
  const weight = new Uint16Array(dst * n);
  windows.forEach((w, i) => {
    const f = Math.min(w.first, src - n);
    first[i] = f;
    weight.set(w.weights, i * n + (w.first - f));
  });
  return { n, first, weight };
}

export function tapsJs(S, D, method) {
  const windows = [];
  for (let i = 0; i < D; i++) {
    if (method === 'area') {
      const start = i * S, end = (i + 1) * S;
      const j0 = Math.floor(start / D), j1 = Math.floor((end - 1) / D);
      const weights = [];
      let prev = 0;
      for (let j = j0; j <= j1; j++) {
        const covered = Math.min((j + 1) * D, end) - start;
        const cum = Math.floor((2 * covered * ONE + S) / (2 * S));
        weights.push(cum - prev);
        prev = cum;
      }
      windows.push({ first: j0, weights });
    } else {
      const num = Math.max(0, Math.min((2 * i + 1) * S - D, (S - 1) * 2 * D));
      let j = Math.floor(num / (2 * D));
      let f = Math.floor(((num % (2 * D)) * ONE + D) / (2 * D));
      if (f === ONE) { j++; f = 0; }
      windows.push({ first: j, weights: f ? [ONE - f, f] : [ONE] });
    }
  }
  return layoutTaps(S, D, windows);
}

export function resizeJs(src, sw, sh, dw, dh, method, out) {
  const h = tapsJs(sw, dw, method), v = tapsJs(sh, dh, method);
  const len = sw * 4;
  const acc = new Uint32Array(len);
  const tmp = new Uint16Array(len);
  for (let y = 0; y < dh; y++) {
    let started = false;
    for (let t = 0; t < v.n; t++) {
      const w = v.weight[y * v.n + t];
      if (!w) continue;
      const r = (v.first[y] + t) * len;
      if (!started) { for (let k = 0; k < len; k++) acc[k] = w * src[r + k]; started = true; }
      else for (let k = 0; k < len; k++) acc[k] += w * src[r + k];
    }
    for (let k = 0; k < len; k++) tmp[k] = (acc[k] + 64) >>> 7;
    const o = y * dw * 4;
    for (let x = 0; x < dw; x++) {
      let p = h.first[x] * 4;
      const wi = x * h.n;
      let s0 = 1 << 22, s1 = s0, s2 = s0, s3 = s0;
      for (let t = 0; t < h.n; t++, p += 4) {
        const w = h.weight[wi + t];
        s0 += w * tmp[p]; s1 += w * tmp[p + 1]; s2 += w * tmp[p + 2]; s3 += w * tmp[p + 3];
      }
      out[o + x * 4] = s0 >>> 23; out[o + x * 4 + 1] = s1 >>> 23; out[o + x * 4 + 2] = s2 >>> 23; out[o + x * 4 + 3] = s3 >>> 23;
    }
  }
  return out;
}

function fnv(bytes) {
  let h = 2166136261;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 16777619) >>> 0;
  return h;
}

// Median of `runs` timings after two warm-ups (and the fastest, since the machine may be shared).
function timeIt(fn, runs = RUNS) {
  fn();
  fn();
  const t = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return { median: t[t.length >> 1], min: t[0] };
}

// The resize on pixels already in wasm memory, and the full call (copy in, resize, copy out).
function wasmTimes(M, px, c) {
  const opts = { width: c.width, height: c.height, fit: 'exact', method: c.method };
  const outLen = c.width * c.height * 4;
  const sp = M._malloc(px.length);
  const dp = M._malloc(outLen);
  try {
    M.HEAPU8.set(px, sp);
    const op = timeIt(() => { if (!M.resize(sp, W, H, W * 4, dp, opts)) throw new Error(M.lastErrorMessage()); });
    const { median: call } = timeIt(() => {
      M.HEAPU8.set(px, sp);
      M.resize(sp, W, H, W * 4, dp, opts);
      return M.HEAPU8.slice(dp, dp + outLen);
    });
    return { op, call, bytes: M.HEAPU8.slice(dp, dp + outLen) };
  } finally {
    M._free(sp);
    M._free(dp);
  }
}

export default async function run({ report }) {
  const [base, simd] = await Promise.all([loadVariant(false), loadVariant(true)]);
  const px = photo();
  const native = runNativePeer('pixels_geometry_bench', [W, H, RUNS]);
  const rows = [];
  const notes = [];
  for (const c of CASES) {
    const s = wasmTimes(simd, px, c);
    const b = wasmTimes(base, px, c);
    const out = new Uint8Array(c.width * c.height * 4);
    const { median: js } = timeIt(() => resizeJs(px, W, H, c.width, c.height, c.method, out), 7);
    // Correctness guard: every implementation produced the same bytes.
    const same = Buffer.from(s.bytes).equals(Buffer.from(b.bytes)) && Buffer.from(s.bytes).equals(Buffer.from(out));
    if (!same) throw new Error(`geometry bench: ${c.name}: the SIMD, baseline and JS results differ`);
    const n = native ? native[c.key] : undefined;
    const nMin = native ? native[`${c.key}Min`] : undefined;
    if (native && native[`${c.key}Hash`] !== fnv(s.bytes)) notes.push(`${c.name}: native bytes differ from wasm!`);
    const na = (v, f) => (v === undefined ? 'n/a' : f(v));
    rows.push([c.name, fmt(s.op.median), fmt(s.call), fmt(b.op.median), fmt(js), na(n, fmt),
      na(n, (v) => `${fmt(s.op.median / v)}×`), na(nMin, (v) => `${fmt(s.op.min / v)}× (${fmt(s.op.min)} / ${fmt(v)})`),
      `${fmt(js / s.op.median, 1)}×`, `${fmt(b.op.median / s.op.median, 1)}×`]);
  }
  report(`Resize (${W}x${H} photo-like gradient+noise, median of ${RUNS} runs, ms)`,
    `${table(['resize', 'wasm SIMD op', 'SIMD call (+copies)', 'wasm baseline op', 'plain JS', 'native g++ -O3',
      'SIMD/native (target ≤ 1.5×)', 'SIMD/native, fastest runs', 'JS/SIMD (target ≥ 4×)', 'baseline/SIMD'], rows)}\n\n` +
    `All four produce identical bytes (checked each run${native ? ', native by FNV-1a hash' : ''}). ` +
    'Native runs the scalar C++ auto-vectorised by g++ -march=native; wasm SIMD runs the hand-written wasm_simd128 path.' +
    `${native ? '' : ' Native peer missing: run scripts/build.sh bench.'}${notes.length ? `\n\n${notes.join('\n')}` : ''}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run({ report: (title, t) => console.log(`## ${title}\n\n${t}\n`) });
}
