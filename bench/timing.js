import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

// Helpers shared by the bench scripts: timing (median of repeated runs after a warm-up), markdown
// tables, the generated test image and the native peers.
export function measure(fn, { warmup = 2, runs = 7, minMs = 0 } = {}) {
  for (let i = 0; i < warmup; i++) fn();
  const times = [];
  const start = performance.now();
  while (times.length < runs || performance.now() - start < minMs) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

export async function measureAsync(fn, { warmup = 2, runs = 7 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

/** A markdown table from a header row and rows of cells. */
export function table(head, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

export const fmt = (x, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

/**
 * The photo-like RGBA test image every pixel bench uses: smooth gradients + ±12 LCG noise, byte for
 * byte the image bench/native/bench_util.h generates, so the JS, wasm and native peers time the same input.
 */
export function photo(w = 1920, h = 1080) {
  const data = new Uint8Array(w * h * 4);
  let s = 1;
  const c = (v) => (v < 0 ? 0 : v > 255 ? 255 : v);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const n = ((s >>> 16) % 25) - 12;
      const i = (y * w + x) * 4;
      data[i] = c(Math.trunc((x * 255) / w) + n);
      data[i + 1] = c(Math.trunc((y * 255) / h) - n);
      data[i + 2] = c(Math.trunc(((x + y) * 255) / (w + h)) + Math.trunc(n / 2));
      data[i + 3] = 255;
    }
  }
  return data;
}

/**
 * Runs a native peer built by `scripts/build.sh bench` (build/bench-native/<name>) and parses the JSON
 * it prints; null when it is missing or fails (the bench then says so in its table).
 */
export function runNativePeer(name, args = []) {
  const exe = new URL(`../build/bench-native/${name}`, import.meta.url);
  if (!existsSync(exe)) return null;
  try {
    return JSON.parse(execFileSync(exe.pathname, args.map(String), { encoding: 'utf8' }));
  } catch {
    return null;
  }
}
